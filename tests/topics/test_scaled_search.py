"""The scaled K search (analysis.topics.lda.scaled_search): its arithmetic by hand, its properties,
and that a corpus at or below the floor keeps the full search."""

from __future__ import annotations

import io

import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from analysis.topics import lda as topics

SEEDS = (1, 2, 3)


def test_floor_keeps_the_full_search_with_every_seed():
    assert topics.scaled_search(5, 5, SEEDS) == (0, SEEDS)  # the seed study
    assert topics.scaled_search(1780, 1780, SEEDS) == (0, SEEDS)  # BBC's training set
    assert topics.scaled_search(2000, 2000, SEEDS) == (0, SEEDS)  # at the floor: still every unit
    # sentence windows: 150 documents in 3,000 units are searched whole (the floor counts documents)
    assert topics.scaled_search(3000, 150, SEEDS) == (0, SEEDS)


def test_above_the_floor_a_fifth_of_the_units_at_least_the_floor_two_seeds():
    assert topics.scaled_search(2001, 2001, SEEDS) == (2000, (1, 2))  # the floor, not 401
    assert topics.scaled_search(8000, 8000, SEEDS) == (2000, (1, 2))  # VNTC 10,000's training set: 1,600 < floor
    assert topics.scaled_search(10000, 10000, SEEDS) == (2000, (1, 2))  # exactly a fifth
    assert topics.scaled_search(10001, 10001, SEEDS) == (2001, (1, 2))  # ceil(2000.2)
    assert topics.scaled_search(80935, 80935, SEEDS) == (16187, (1, 2))  # ceil(16187.0)
    assert topics.scaled_search(30000, 2001, (7, 8, 9)) == (6000, (7, 8))  # units, not documents, are drawn
    assert topics.scaled_search(9000, 9000, (4,)) == (2000, (4,))  # one seed stays one seed


@given(st.integers(0, 500_000), st.integers(0, 500_000))
def test_sample_is_bounded_by_the_floor_and_a_fifth(a, b):
    n_documents, n_units = min(a, b), max(a, b)  # units >= documents
    size, seeds = topics.scaled_search(n_units, n_documents, SEEDS)
    if n_documents <= topics.SEARCH_FLOOR:
        assert (size, seeds) == (0, SEEDS)
    else:
        assert topics.SEARCH_FLOOR <= size < n_units and seeds == SEEDS[: topics.SEARCH_SEEDS]
        # at least a fifth, and no more than the larger of the floor and a fifth rounded up
        assert size >= n_units / topics.SEARCH_SHARE
        assert size == topics.SEARCH_FLOOR or size - n_units / topics.SEARCH_SHARE < 1


def test_a_scaled_search_at_or_below_the_floor_is_the_full_search():
    ids = [f"d{i}" for i in range(40)]
    terms = [["sea", "ship", "port"] if i % 2 else ["tax", "trade", "price"] for i in range(40)]
    corpus = topics.build_corpus("x", ids, terms, no_below=1)
    size, seeds = topics.scaled_search(corpus.n_units, topics.n_documents(corpus), (1, 2))
    full = topics.select_k(corpus, k_range=(2, 3), seeds=(1, 2), max_iterations=30)
    scaled = topics.select_k(corpus, k_range=(2, 3), seeds=seeds, max_iterations=30, search_units=size, sample_seed=5)
    assert size == 0 and "sample" not in scaled.reason
    assert scaled.k == full.k and scaled.summary.equals(full.summary) and scaled.fits.equals(full.fits)


# ------------------------------------------------------------------------------ in the topics stage


def _stage(tmp_path, monkeypatch, extra: str):
    from analysis.files import read_study
    from analysis.stages import topics as topics_stage
    from tests.stages.test_topics import CONCEPT_MAP, STUDY, make_study

    study = read_study(make_study(tmp_path, STUDY.replace("seeds = [1, 2]", "seeds = [1, 2, 3]") + extra))
    monkeypatch.setattr(topics_stage, "load_concept_map", lambda study, vocab: CONCEPT_MAP)
    return {p.relative_to(study.output_dir).as_posix(): p.read_bytes() for p in topics_stage.run_topics(study)}


def test_small_study_scaled_search_is_the_full_search_byte_for_byte(tmp_path, monkeypatch):
    scaled = _stage(tmp_path / "scaled", monkeypatch, 'search = "scaled"\n')
    full = _stage(tmp_path / "full", monkeypatch, "")  # [topics] search = "full", the default
    assert scaled == full
    assert b"sample" not in scaled["topic_k_selection.csv"]
    assert set(pd.read_csv(io.BytesIO(scaled["topic_k_fits.csv"]))["seed"]) == {1, 2, 3}


def test_above_the_floor_the_stage_searches_a_sample_with_two_seeds_and_says_so(tmp_path, monkeypatch):
    # a floor of 1 document: the 2 documents a language (12 sentence units) are "large"
    monkeypatch.setattr(topics, "SEARCH_FLOOR", 1)
    out = _stage(tmp_path, monkeypatch, 'search = "scaled"\n')
    summary = pd.read_csv(io.BytesIO(out["topic_k_selection.csv"]))
    chosen = summary[summary["chosen"]].set_index("model")["reason"]
    # vi: max(1, ceil(12 / 5)) = 3 units asked, drawn as whole documents: round(3/12 x 2) -> 1 document, 6 units
    assert (
        "K chosen on a sample of 6 of the 12 units (scaled search above 1 documents: max(1, units / 5) units, 2 seeds)"
        in chosen["vi"]
    )
    assert chosen.str.contains("scaled search").all()
    fits = pd.read_csv(io.BytesIO(out["topic_k_fits.csv"]))
    assert set(fits["seed"]) == {1, 2} and len(fits) == 3 * 2 * 2  # 3 models x 2 K x 2 seeds
    # the final fit still sees every unit
    assert summary.loc[(summary["model"] == "joint") & (summary["k"] == 2), "units_per_topic"].item() == 12.0


def test_an_unknown_search_is_one_line_naming_the_key(tmp_path, capsys):
    from analysis.cli import main
    from tests.conftest import TINY_EN, TINY_VI, write_study

    text = '[corpus]\nfolder = "corpus"\nmetadata = "corpus/metadata.csv"\n[run]\noutput = "out"\n[topics]\n'
    study = write_study(
        tmp_path, [("v1", "vi", TINY_VI), ("e1", "en", TINY_EN)], study_text=text + 'search = "sampled"\n'
    )
    assert main(["topics", "--study", str(study), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "[topics] search = 'sampled' is not known" in err and 'use search = "full"' in err
    assert not (tmp_path / "out").exists()
