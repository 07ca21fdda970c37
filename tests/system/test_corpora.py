"""Topic-model sanity on real labelled news (../shared/corpora): two clearly different categories
must come out as two topics. Skipped cleanly when the corpora are absent."""

import csv
from pathlib import Path

import numpy as np
import pytest

from analysis.corpus.documents import Document
from analysis.files import read_study
from analysis.prepared import load_preparation, load_term_rules
from analysis.study.settings import TopicSettings
from analysis.text.prepare import prepare_document
from analysis.text.units import make_units
from analysis.topics.lda import build_corpus, fit_lda, fit_parameters

ROOT = Path(__file__).resolve().parents[2]
CORPORA = ROOT.parent / "shared" / "corpora"


def sample(name: str, categories: tuple[str, str], per_category: int) -> list[tuple[str, str, str]]:
    folder = CORPORA / name
    if not (folder / "metadata.csv").is_file():
        pytest.skip(f"{folder} is absent")
    with open(folder / "metadata.csv", encoding="utf-8", newline="") as handle:
        rows = [r for r in csv.DictReader(handle) if r["category"] in categories]
    picked = []
    for category in categories:
        mine = [r for r in rows if r["category"] == category][:per_category]
        picked += [(r["doc_id"], category, (folder / r["path"]).read_text(encoding="utf-8")) for r in mine]
    return picked


def purity_of_two_topics(docs, language: str) -> float:
    study = read_study(ROOT / "study.toml")
    preparation, rules = load_preparation(study), load_term_rules(study)
    units = [
        make_units(prepare_document(Document(d, language, text), preparation), rules, kind="document")[0]
        for d, _, text in docs
    ]
    corpus = build_corpus(
        language, unit_ids=[u.unit_id for u in units], terms=[u.terms for u in units], no_below=3, no_above=0.5
    )
    fit = fit_lda(corpus, 2, 7, **fit_parameters(TopicSettings(passes=10, iterations=100)))
    labels = {d: c for d, c, _ in docs}
    dominant = fit.doc_topic.argmax(axis=1)
    truth = np.array([labels[u] for u in fit.unit_ids])
    # share of documents whose dominant topic is the majority topic of their category
    agree = sum(max(np.sum(dominant[truth == c] == t) for t in (0, 1)) for c in set(truth))
    return agree / len(truth)


def test_vntc_sport_and_health_separate():
    docs = sample("vntc_sample", ("the_thao", "suc_khoe"), 40)
    assert purity_of_two_topics(docs, "vi") >= 0.85


def test_bbc_sport_and_business_separate():
    docs = sample("bbc_news", ("sport", "business"), 40)
    assert purity_of_two_topics(docs, "en") >= 0.85
