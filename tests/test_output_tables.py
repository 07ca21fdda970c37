"""Word-level tables written complete as .csv.gz and .parquet (analysis.files.write_data) and read back
alike (analysis.files.read_output): deterministic bytes, the same rows in every form."""

from __future__ import annotations

import gzip
import math

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import analysis as va
from analysis import files
from analysis.errors import InputError
from analysis.stages.results import CsvParts, Table, write_results
from analysis.study import outputs

FORMS = ("csv", "csv.gz", "parquet")


def table(n: int = 9) -> pd.DataFrame:
    """Words a reader must not mangle: 'NA'/'null'/'nan' stay words, a formula-leading cell, an
    empty note, a missing number, Vietnamese text, a float CSV rounds to 10 significant digits."""
    terms = ["hợp_tác", "NA", "null", "nan", "=HYPERLINK(1)", "East Sea", "biển_đông", "-x", "a,b"]
    return pd.DataFrame(
        {
            "term": [terms[i % len(terms)] for i in range(n)],
            "count": np.arange(n, dtype=np.int64) * 3,
            "g2": [1 / 3 + i for i in range(n)],
            "q": [np.nan if i % 4 == 0 else 0.01 * i for i in range(n)],
            "too_small": [i % 2 == 0 for i in range(n)],
            "note": ["" if i % 3 else "en has 1 document" for i in range(n)],
            "label": [""] * n,
            "p": [np.nan] * n,
        }
    )


def test_three_forms_hold_the_same_rows(tmp_path):
    data = table()
    written = files.write_data(tmp_path / "t", [data], formats=FORMS)
    assert [p.name for p in written] == ["t.csv", "t.csv.gz", "t.parquet"]
    raw = (tmp_path / "t.csv.gz").read_bytes()
    # gzip with no file name (FLG 0) and a zero time: the bytes depend on the rows alone
    assert raw[:4] == b"\x1f\x8b\x08\x00" and raw[4:8] == b"\x00\x00\x00\x00"
    assert gzip.decompress(raw) == (tmp_path / "t.csv").read_bytes()
    assert (tmp_path / "t.csv").read_text(encoding="utf-8").splitlines()[5].startswith("'=HYPERLINK(1),12,")
    from_csv, from_gz, from_parquet = (va.read_output(tmp_path / f"t.{form}") for form in FORMS)
    pd.testing.assert_frame_equal(from_csv, from_gz)
    # a column with no value at all reads as empty numbers from every form (a CSV cannot say it was text)
    for form in (from_csv, from_gz, from_parquet):
        assert form["label"].isna().all() and form["p"].isna().all() and form["label"].dtype == float
    assert pq.read_table(tmp_path / "t.parquet")["label"].to_pylist() == [""] * len(data)
    # Parquet holds the values themselves (no apostrophe, every bit of the float)
    pd.testing.assert_frame_equal(from_parquet.drop(columns="label"), data.drop(columns="label"), check_dtype=False)
    assert from_parquet["g2"].tolist() == data["g2"].tolist()
    assert from_parquet["term"].tolist()[:5] == ["hợp_tác", "NA", "null", "nan", "=HYPERLINK(1)"]
    # the CSV has 10 significant digits
    pd.testing.assert_frame_equal(from_csv, from_parquet, check_dtype=False, rtol=5e-10)
    assert from_csv["g2"][0] != data["g2"][0] and math.isclose(from_csv["g2"][0], 1 / 3, rel_tol=5e-10)
    assert from_csv["note"].tolist() == data["note"].tolist()  # empty text is "" in every form
    meta = pq.ParquetFile(tmp_path / "t.parquet").metadata
    assert b"pandas" not in (meta.metadata or {}) and meta.created_by.startswith("parquet-cpp-arrow")
    assert meta.row_group(0).column(0).compression == "ZSTD"


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 40), st.lists(st.integers(0, 40), max_size=5))
def test_the_bytes_do_not_depend_on_how_the_table_was_cut(tmp_path_factory, n, cuts):
    files_ = tmp_path_factory.mktemp("cuts")
    data = table(n)
    bounds = sorted({0, n, *[c for c in cuts if c <= n]})
    parts = [data.iloc[a:b] for a, b in zip(bounds, bounds[1:])] or [data]
    old = files.PARQUET_ROW_GROUP
    files.PARQUET_ROW_GROUP = 7  # row groups cut inside the parts and across them
    try:
        files.write_data(files_ / "whole", [data], formats=FORMS)
        files.write_data(files_ / "parts", iter(parts), formats=FORMS)
    finally:
        files.PARQUET_ROW_GROUP = old
    for form in FORMS:
        assert (files_ / f"whole.{form}").read_bytes() == (files_ / f"parts.{form}").read_bytes(), form
    meta = pq.ParquetFile(files_ / "whole.parquet").metadata
    sizes = [meta.row_group(i).num_rows for i in range(meta.num_row_groups)]
    assert sizes == ([7] * (n // 7) + ([n % 7] if n % 7 or n == 0 else []))
    assert len(va.read_output(files_ / "parts.parquet")) == n == len(va.read_output(files_ / "parts.csv.gz"))


def test_a_rerun_writes_the_same_bytes_and_a_column_missing_in_one_part_keeps_its_type(tmp_path):
    first = pd.DataFrame({"term": ["a", "b"], "label": [None, None], "x": [1.5, 2.5]})
    second = pd.DataFrame({"term": ["c"], "label": ["C"], "x": [3.5]})
    for name in ("one", "two"):
        files.write_data(tmp_path / name, iter([first, second]), formats=("csv.gz", "parquet"))
    for form in ("csv.gz", "parquet"):
        assert (tmp_path / f"one.{form}").read_bytes() == (tmp_path / f"two.{form}").read_bytes()
    assert str(pq.read_schema(tmp_path / "one.parquet").field("label").type) == "string"
    assert va.read_output(tmp_path / "one.parquet")["label"].tolist() == ["", "", "C"]


def test_bad_parts_and_unreadable_files_fail_cleanly(tmp_path):
    with pytest.raises(ValueError, match="a part has columns"):
        files.write_data(tmp_path / "x", iter([pd.DataFrame({"a": [1]}), pd.DataFrame({"b": [2]})]), formats=FORMS)
    with pytest.raises(ValueError, match="not a data format: xlsx"):
        files.write_data(tmp_path / "x", [pd.DataFrame({"a": [1]})], formats=("xlsx",))
    assert list(tmp_path.iterdir()) == []  # nothing half-written, no temporary file
    (tmp_path / "bad.parquet").write_bytes(b"not parquet")
    with pytest.raises(InputError, match="bad.parquet.*cannot read the table"):
        va.read_output(tmp_path / "bad.parquet")
    with pytest.raises(InputError, match="not a table this toolkit writes"):
        va.read_output(tmp_path / "t.xlsx")


def test_the_registry_declares_the_word_tables_compressed_and_the_text_views_name_them(tmp_path):
    names = set(outputs.declared_outputs({"corpus": {"languages": ["vi"]}})["frequencies"])
    assert {"term_frequencies_by_language.csv.gz", "term_frequencies_by_language.parquet"} <= names
    assert "term_frequencies_by_language.csv" not in names and "tfidf_top_terms_by_document.csv" not in names
    assert {f"tfidf_top_terms_by_document.{x}" for x in ("csv.gz", "parquet", "tex", "md")} <= names
    framing = set(outputs.declared_outputs({"corpus": {"languages": ["vi"]}})["framing"])
    assert {"keyness_words_vi_by_event.csv.gz", "keyness_words_vi_by_event.parquet"} <= framing
    assert "keyness_words_vi_by_event.csv" not in framing and "keyness_concepts_by_language.csv" in framing
    assert outputs.output_stem("keyness_words_vi_by_event.csv.gz") == "keyness_words_vi_by_event"
    assert outputs.data_file("keyness_words_vi_by_event") == "keyness_words_vi_by_event.csv.gz"
    assert outputs.data_file("keyness_concepts_by_language") == "keyness_concepts_by_language.csv"
    assert outputs.data_file("top_terms_by_language") == "top_terms_by_language.csv"
    # a table's .tex/.md written beside its compressed data point at the .csv.gz
    from analysis.study.settings import Study

    study = Study(root=tmp_path, source=tmp_path / "study.toml")
    data = table(files.TEXT_ROWS + 2)
    written = write_results(
        tmp_path,
        [
            CsvParts(
                "keyness_words_{lang}_by_{within}",
                lambda: iter([data[:5], data[5:]]),
                {"lang": "vi", "within": "event"},
            ),
            Table("keyness_words_{lang}_by_{within}", data, {"lang": "vi", "within": "event"}, ("tex", "md")),
        ],
        study,
    )
    assert sorted(p.name for p in written) == sorted(
        f"keyness_words_vi_by_event.{x}" for x in ("csv.gz", "parquet", "tex", "md")
    )
    md = (tmp_path / "keyness_words_vi_by_event.md").read_text(encoding="utf-8").splitlines()
    shown = f"First {files.TEXT_ROWS:,} of {files.TEXT_ROWS + 2:,} rows shown"
    assert md[-1] == f"{shown}; every row is in `keyness_words_vi_by_event.csv.gz`."
    tex = (tmp_path / "keyness_words_vi_by_event.tex").read_text(encoding="utf-8")
    assert "Data: keyness\\_words\\_vi\\_by\\_event.csv.gz." in tex
    assert len(va.read_output(tmp_path / "keyness_words_vi_by_event.csv.gz")) == files.TEXT_ROWS + 2


def test_the_appendix_points_at_the_compressed_file():
    from analysis.paper import appendix

    figure = appendix.figure_block("keyness_words_vi_by_event", "Keyness of Vietnamese words by event")
    assert "Data: keyness\\_words\\_vi\\_by\\_event.csv.gz.}" in figure
    assert "Data: keyness\\_concepts\\_by\\_language.csv.}" in appendix.figure_block(
        "keyness_concepts_by_language", "K"
    )
    per_document = pd.DataFrame({"doc_id": [f"d{i}" for i in range(50)], "term": "x", "tfidf": 1.0})
    block = appendix.table_block(
        "tfidf_top_terms_by_document",
        per_document,
        caption="Top TF-IDF terms per document. Data: tfidf_top_terms_by_document.csv.gz.",
    )
    text = block.replace(r"\allowbreak{}", "")
    assert "Top TF-IDF terms per document}: 50 rows" in text and "document.csv.gz (not printed here)" in text
    assert "Data:" not in text  # the caption's own pointer is replaced, not repeated
