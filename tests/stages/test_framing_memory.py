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


# ------------------------------------------------------------------ results written as computed


def _results(data: pd.DataFrame):
    from analysis.stages.results import Csv, CsvParts, Table

    return [
        Table("codebook_unmapped_terms", data),
        CsvParts("keyness_words_{lang}_by_{within}", lambda: iter([data[:3], data[3:]]), {"lang": "vi", "within": "x"}),
        Table("keyness_words_{lang}_by_{within}", data.head(4), {"lang": "vi", "within": "x"}, ("tex", "md")),
        Csv("frame_salience_by_unit", data),
    ]


def _table(n: int = 7) -> pd.DataFrame:
    return pd.DataFrame({"term": [f"t{i}" for i in range(n)], "count": np.arange(n) * 3, "g2": np.arange(n) / 3})


def _files(folder):
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_streamed_results_are_the_files_and_bytes_of_the_one_writer(tmp_path):
    from analysis.stages.results import write_results, write_streamed
    from analysis.study.settings import Study

    study = Study(root=tmp_path, source=tmp_path / "study.toml")
    whole = write_results(tmp_path / "whole", _results(_table()), study)
    streamed = write_streamed(tmp_path / "streamed", iter(_results(_table())), study)
    assert [p.name for p in streamed] == [p.name for p in whole] and all(p.is_file() for p in streamed)
    assert _files(tmp_path / "streamed") == _files(tmp_path / "whole")
    assert len(_files(tmp_path / "whole")) == 8  # .csv .md .tex; .csv.gz .parquet .tex .md; the unit table .csv


def test_a_streamed_result_is_freed_before_the_next_is_computed(tmp_path):
    """The writer keeps no reference to a result once written: the stage's per-document tables are
    gone before its keyness comparisons are computed."""
    import gc
    import weakref

    from analysis.stages.results import Table, write_streamed
    from analysis.study.settings import Study

    alive = []

    def results():
        data = _table()
        ref = weakref.ref(data)
        yield Table("codebook_unmapped_terms", data)
        del data
        gc.collect()
        alive.append(ref() is not None)
        yield Table("codebook_coverage", _table(3), {"source": "x"})

    write_streamed(tmp_path, results(), Study(root=tmp_path, source=tmp_path / "study.toml"))
    assert alive == [False]


def test_a_stage_stopped_half_way_writes_nothing(tmp_path):
    """Files are moved into the output folder only once every result is written: an error after the
    first results (bad input found late, a failed computation) leaves the folder as it was."""
    from analysis.errors import InputError
    from analysis.stages.results import write_streamed
    from analysis.study.settings import Study

    out = tmp_path / "figures" / "study"
    out.mkdir(parents=True)
    (out / "kept.txt").write_text("an earlier run's file")
    study = Study(root=tmp_path, source=tmp_path / "study.toml")

    def results():
        yield from _results(_table())[:2]
        raise InputError(tmp_path / "study.toml", "bad value found late", "fix it")

    with pytest.raises(InputError, match="found late"):
        write_streamed(out, results(), study)
    assert [p.name for p in out.iterdir()] == ["kept.txt"]  # no output, no hidden staging folder
    fresh = tmp_path / "new" / "folder"
    with pytest.raises(InputError):
        write_streamed(fresh, results(), study)
    assert not (tmp_path / "new").exists()  # the folders it made are removed again
