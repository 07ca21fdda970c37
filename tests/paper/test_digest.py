"""A table read in chunks (analysis.paper.digest) gives the appendix exactly what the whole table
gives: the same typed first rows, the same constant columns and corrections, the same LaTeX block."""

from __future__ import annotations

import gzip
from unittest import mock

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.paper import digest as digest_module
from analysis.paper.appendix import (
    _constants,
    compact_digest,
    compact_table,
    constant_columns,
    table_block,
    typed_table,
)
from analysis.paper.digest import summarise
from analysis.paper.tables import to_csv
from analysis.stages.appendix import best_similarity, read_output_chunks, read_output_csv

#: Cells that exercise every rule of typed_table: integers, floats, one number spelled two ways,
#: empty cells, leading zeros (ids), booleans, "nan", text, formula-like text.
CELLS = ["1", "2", "1.0", "0.5", "-3", "", "007", "True", "False", "nan", "bh", "holm", "vi", "=SUM(1)", "'=x"]
NUMBER_CELLS = ["1", "2", "1.0", "0.5", "-3", "", "1e3"]
NAMES = ["a", "b", "correction", "p", "n"]


def chunks_of(table: pd.DataFrame, size: int):
    """``table`` as consecutive chunks of ``size`` rows, a table of no rows as one empty chunk (as
    pandas' chunked reader gives a header-only CSV)."""
    if not len(table):
        return [table]
    return [table.iloc[i : i + size] for i in range(0, len(table), size)]


def as_text(table: pd.DataFrame) -> pd.DataFrame:
    """Cells as the appendix reads a CSV: pandas' text dtype."""
    return table.astype(str)


@st.composite
def text_tables(draw, *, max_rows: int = 12):
    rows = draw(st.integers(0, max_rows))
    names = draw(st.lists(st.sampled_from(NAMES), min_size=1, max_size=4, unique=True))
    columns = {}
    for name in names:
        kind = draw(st.sampled_from(["any", "numbers", "constant", "empty"]))
        if kind == "constant":
            columns[name] = [draw(st.sampled_from(CELLS))] * rows
        elif kind == "empty":
            columns[name] = [""] * rows
        else:
            alphabet = CELLS if kind == "any" else NUMBER_CELLS
            columns[name] = draw(st.lists(st.sampled_from(alphabet), min_size=rows, max_size=rows))
    return as_text(pd.DataFrame(columns, columns=names))


def assert_same_as_whole(table: pd.DataFrame, *, size: int, keep: int) -> None:
    whole = typed_table(table)
    digest = summarise(chunks_of(table, size), keep_rows=keep)
    assert digest is not None
    assert digest.rows == len(table)
    pd.testing.assert_frame_equal(digest.head, whole.iloc[:keep].reset_index(drop=True))
    assert _constants(digest.rows, digest.distinct) == constant_columns(whole)
    compact, caption = compact_table(whole, "Caption")
    head, head_caption = compact_digest(digest, "Caption")
    assert head_caption == caption
    pd.testing.assert_frame_equal(head, compact.iloc[:keep].reset_index(drop=True))
    if keep:
        for stem in ("t", "t_by_document"):
            assert table_block(stem, head, caption=caption, max_rows=keep, rows=digest.rows) == table_block(
                stem, compact, caption=caption, max_rows=keep
            )


@pytest.mark.parametrize("size", [1, 2, 3, 1000])
@settings(max_examples=25, deadline=None)
@given(table=text_tables(), keep=st.sampled_from([0, 1, 2, 5, 40]))
def test_chunked_digest_equals_the_whole_table(table, keep, size):
    assert_same_as_whole(table, size=size, keep=keep)


@pytest.mark.parametrize("size", [1, 2, 3, 1000])
@settings(max_examples=12, deadline=None)
@given(table=text_tables(max_rows=8), keep=st.sampled_from([1, 3]))
def test_a_column_past_the_distinct_limit_is_not_constant_as_in_the_whole_table(table, keep, size):
    # With a limit of 2 distinct cells, the columns with more are decided "not constant" without
    # looking further; exact as long as no column spells one value three ways (no "1", "1.0", "1e0").
    table = table.replace({"1.0": "1"})
    with mock.patch.object(digest_module, "DISTINCT_LIMIT", 2):
        assert_same_as_whole(table, size=size, keep=keep)


def test_hand_checked_digest_of_a_keyness_like_table():
    table = as_text(
        pd.DataFrame(
            {
                "comparison": ["vi vs en"] * 5,
                "term": ["a", "b", "c", "d", "e"],
                "n": ["3", "4", "5", "6", "7"],
                "p": ["0.5", "0.25", "", "1", "1"],
                "empty": [""] * 5,
                "correction": ["bh", "bh", "holm", "bh", "holm"],
                "doc": ["001", "002", "003", "004", "005"],
            }
        )
    )
    digest = summarise(chunks_of(table, 2), keep_rows=2)
    assert digest.rows == 5 and digest.head["term"].tolist() == ["a", "b"]
    assert digest.head["n"].dtype == np.int64 and digest.head["p"].dtype == np.float64  # p has an empty cell
    assert digest.head["doc"].tolist() == ["001", "002"]  # leading zeros: text
    head, caption = compact_digest(digest, "Keyness")
    assert list(head.columns) == ["term", "n", "p", "correction", "doc"]
    assert caption == (
        "Keyness. Q adjusted by Benjamini-Hochberg, Holm (column correction). In every row: comparison vi vs en. "
        "Empty: empty"
    )


def test_all_constant_and_empty_tables():
    constant = as_text(pd.DataFrame({"a": ["x"] * 6, "b": ["2"] * 6}))
    digest = summarise(chunks_of(constant, 4), keep_rows=3)
    assert _constants(digest.rows, digest.distinct) == {"a": "x", "b": "2"}
    head, caption = compact_digest(digest, "All alike")
    assert list(head.columns) == ["a"] and caption == "All alike. In every row: a x; b 2"
    empty = as_text(pd.DataFrame({"a": [], "b": []}))
    digest = summarise([empty], keep_rows=40)
    assert digest.rows == 0 and list(digest.head.columns) == ["a", "b"] and len(digest.head) == 0
    with pytest.raises(ValueError):
        summarise([], keep_rows=40)


def test_numbers_the_chunks_cannot_type_send_the_caller_to_the_whole_table():
    big = as_text(pd.DataFrame({"n": ["1", str(2**64 - 1)]}))  # uint64 in one chunk, int64 in the other
    assert summarise(chunks_of(big, 1), keep_rows=2) is None


@pytest.mark.parametrize("suffix", [".csv", ".csv.gz"])
def test_chunks_read_back_the_same_cells_as_the_whole_file(tmp_path, suffix):
    table = pd.DataFrame({"id": ["007", "=cmd", "x"], "v": [0.5, 1.0, np.nan], "s": ["'=y", "", "z"]})
    path = tmp_path / f"t{suffix}"
    text = to_csv(table)
    path.write_bytes(gzip.compress(text.encode()) if suffix.endswith(".gz") else text.encode())
    chunks = list(read_output_chunks(path, chunk_rows=2))
    assert [len(c) for c in chunks] == [2, 1]
    pd.testing.assert_frame_equal(pd.concat(chunks), read_output_csv(path))
    header_only = tmp_path / "h.csv"
    header_only.write_text("id,v\n", encoding="utf-8")
    (chunk,) = read_output_chunks(header_only)
    pd.testing.assert_frame_equal(chunk, read_output_csv(header_only))


@pytest.mark.parametrize("size", [1, 2, 3, 1000])
def test_best_similarity_pair_read_in_chunks_is_the_whole_tables_first(tmp_path, size):
    rng = np.random.default_rng(4)
    table = pd.DataFrame(
        {
            "doc_a": [f"{i % 7:03d}" for i in range(40)],
            "doc_b": [f"b{i % 5}" for i in range(40)],
            "cosine": rng.choice([0.25, 0.5, 0.75], size=40),  # ties: the order decides
            "rank_for_a": range(40),
        }
    )
    path = tmp_path / "similarity_crosslingual.csv"
    path.write_text(to_csv(table), encoding="utf-8")
    whole = pd.read_csv(path, dtype={"doc_a": str, "doc_b": str})
    expected = whole.sort_values(["cosine", "doc_a", "doc_b"], ascending=[False, True, True], kind="mergesort")
    best = best_similarity(path, chunk_rows=size)
    assert len(best) == 1 and best.iloc[0].tolist() == expected.iloc[0].tolist()
    assert best.iloc[0]["doc_a"] == "000" and best.iloc[0]["cosine"] == 0.75
