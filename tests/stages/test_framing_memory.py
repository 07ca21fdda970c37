"""The framing stage's memory savings change no byte: keyness CSVs written comparison by comparison."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from analysis import files
from analysis.stages.framing import _comparison_parts
from analysis.stats.keyness import comparison_table, keyness_comparisons


def _comparisons(seed: int, groups: int = 3, docs: int = 30, terms: int = 40):
    rng = np.random.default_rng(seed)
    counts = rng.poisson(rng.gamma(0.5, 1.0, size=terms), size=(docs, terms))
    doc_ids = [f"d{i}" for i in range(docs)]
    labels = {d: f"g{i % groups}" for i, d in enumerate(doc_ids)}
    vocab = [f"t{j:02d}" for j in range(terms)]
    return keyness_comparisons(
        counts,
        doc_ids,
        vocab,
        labels,
        order=None,
        correction="none",
        alpha0=100.0,
        n_resamples=199,
        rng=np.random.default_rng(seed + 1),
    )


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_parts_give_the_bytes_of_the_stacked_table(tmp_path, seed):
    comparisons = _comparisons(seed)
    assert len(comparisons) == 3 and all(len(c.table) for c in comparisons)
    parts = list(_comparison_parts(comparisons, 5, None, "nothing"))
    assert len(parts) == 3  # one per comparison, not the stacked table
    whole = files.write_csv(
        tmp_path / "whole.csv", comparison_table(comparisons, min_docs=5, labels=None, empty_note="nothing")
    )
    split = files.write_csv_parts(tmp_path / "parts.csv", iter(parts))
    assert split.read_bytes() == whole.read_bytes()
    assert len(pd.read_csv(split)) == sum(len(c.table) for c in comparisons)


def test_an_empty_comparison_falls_back_to_the_stacked_table(tmp_path):
    comparisons = _comparisons(3)
    empty = replace(comparisons[1], table=comparisons[1].table.iloc[:0])
    comparisons = [comparisons[0], empty, comparisons[2]]
    parts = list(_comparison_parts(comparisons, 5, None, "nothing"))
    assert len(parts) == 1
    pd.testing.assert_frame_equal(
        parts[0], comparison_table(comparisons, min_docs=5, labels=None, empty_note="nothing")
    )
    assert len(list(_comparison_parts([], 5, None, "nothing"))[0]) == 1  # the one "nothing to compare" row


def test_parts_with_other_columns_are_refused(tmp_path):
    with pytest.raises(ValueError, match="columns"):
        files.write_csv_parts(tmp_path / "x.csv", iter([pd.DataFrame({"a": [1]}), pd.DataFrame({"b": [2]})]))


@pytest.mark.parametrize("seed", [0, 1])
def test_top_pairs_of_the_long_table_equal_those_of_the_pivoted_matrix(seed):
    from analysis.plots.framing import top_pairs, top_pairs_of_table

    rng = np.random.default_rng(seed)
    pairs = [(f"v{i}", f"e{j}") for i in range(30) for j in range(12) if rng.random() < 0.4]
    cosine = rng.choice([0.25, 0.5, 0.75, np.nan, 1.0], size=len(pairs))  # ties and NaN cells
    order = rng.permutation(len(pairs))  # the table's row order must not matter
    long = pd.DataFrame(
        {"doc_a": [pairs[k][0] for k in order], "doc_b": [pairs[k][1] for k in order], "cosine": cosine[order]}
    )
    matrix = long.pivot(index="doc_a", columns="doc_b", values="cosine").reindex(
        index=sorted(long["doc_a"].unique()), columns=sorted(long["doc_b"].unique())
    )
    expected = top_pairs(matrix)
    assert len(expected) == 20 and expected["cosine"].iloc[0] == 1.0
    pd.testing.assert_frame_equal(
        top_pairs_of_table(long.assign(extra=1)), expected, check_dtype=False, check_index_type=False
    )
    assert top_pairs_of_table(long).astype(object).equals(expected.astype(object))
