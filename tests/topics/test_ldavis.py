"""The optional LDAvis page: topics keep the toolkit's numbering, sizes follow the formula, bytes are stable."""

from __future__ import annotations

import json
import sys

import numpy as np
import pytest

from analysis.cli import main
from analysis.files import read_study
from analysis.stages import topics as topics_stage
from analysis.topics import lda as topics
from tests.stages.test_topics import CONCEPT_MAP, STUDY, declared, make_study
from tests.topics.test_lda import FAST, two_vocabulary_corpus

pyLDAvis = pytest.importorskip("pyLDAvis")  # in the test extra; `pip install -e '.[vis]'` for users

from analysis.topics.ldavis import ldavis_data, ldavis_page  # noqa: E402


@pytest.fixture(scope="module")
def fitted():
    ids, terms = two_vocabulary_corpus()
    terms[0] = terms[0][:3]  # unequal unit lengths, so the length weighting below is tested
    corpus = topics.build_corpus("vi", unit_ids=ids, terms=terms, no_below=2, no_above=0.9)
    return corpus, topics.fit_lda(corpus, 2, 7, **topics.fit_parameters(FAST))


def test_topics_keep_their_numbers_and_sizes_are_length_weighted_shares(fitted):
    corpus, fit = fitted
    data = ldavis_data(fit.topic_word, fit.doc_topic, corpus.counts, fit.vocab)
    assert data.topic_order == [1, 2]  # sort_topics=False: topic t is row t of topic_word.npy
    lengths = np.asarray(corpus.counts.sum(axis=1)).ravel()
    share = (fit.doc_topic * lengths[:, None]).sum(axis=0) / lengths.sum()  # pyLDAvis's topic frequency
    coordinates = data.topic_coordinates.sort_values("topics")
    np.testing.assert_allclose(coordinates["Freq"].to_numpy(), 100 * share, rtol=1e-9)
    # Every vocabulary term is on the page's term table (R is capped at the vocabulary size).
    assert set(data.topic_info["Term"]) == set(fit.vocab)


def test_page_is_deterministic_and_names_its_element(fitted):
    corpus, fit = fitted
    page = ldavis_page(fit.topic_word, fit.doc_topic, corpus.counts, fit.vocab, name="vi")
    assert page == ldavis_page(fit.topic_word, fit.doc_topic, corpus.counts, fit.vocab, name="vi")
    assert "ldavis_vi" in page and "ldavis_el" not in page  # our fixed id, not pyLDAvis's random one
    assert all(
        term in page or json.dumps(term)[1:-1] in page for term in fit.vocab
    )  # Vietnamese terms, maybe JSON-escaped


def test_stage_writes_one_page_per_model_as_declared(tmp_path, monkeypatch):
    study_path = make_study(tmp_path, STUDY.replace("top_n = 5", "top_n = 5\nldavis = true"))
    monkeypatch.setattr(topics_stage, "load_concept_map", lambda study, vocab: CONCEPT_MAP)
    study = read_study(study_path)
    written = topics_stage.run_topics(study)
    pages = sorted(p.name for p in written if p.suffix == ".html")
    assert pages == ["topic_ldavis_en.html", "topic_ldavis_joint.html", "topic_ldavis_vi.html"]
    assert sorted(str(p.relative_to(study.output_dir)) for p in written) == sorted(declared(study_path))
    first = {p: p.read_bytes() for p in written if p.suffix == ".html"}
    topics_stage.run_topics(study)
    assert all(p.read_bytes() == data for p, data in first.items())


def test_missing_pyldavis_is_one_line_with_the_fix_and_nothing_written(tmp_path, capsys, monkeypatch):
    study_path = make_study(tmp_path, STUDY.replace("top_n = 5", "top_n = 5\nldavis = true"))
    monkeypatch.setitem(sys.modules, "pyLDAvis", None)  # import pyLDAvis now raises ImportError
    assert main(["topics", "--study", str(study_path), "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert "ldavis = true needs the optional package pyLDAvis" in err and "pip install -e '.[vis]'" in err
    assert not (tmp_path / "out").exists()
