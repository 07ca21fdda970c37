"""Counts checked by hand on a two-document bilingual text (see TINY_VI / TINY_EN in conftest)."""

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from analysis.corpus.documents import Document
from analysis.text.dtm import build_dtm, document_frequency, group_dtm, relative_frequency, tfidf
from analysis.text.prepare import Preparation, prepare_document
from analysis.text.textstat import bigram_table, corpus_summary, frequency_table, kwic, tfidf_top_terms, top_terms
from analysis.text.tokens import TermRules
from analysis.text.units import make_units
from tests.conftest import TINY_EN, TINY_VI

RULES = TermRules({"vi": frozenset({"và"}), "en": frozenset({"the", "on", "and"})})
PREP = Preparation("", "none", (), ())
DOCVARS = pd.DataFrame({"doc_id": ["v1", "e1"], "language": ["vi", "en"], "outlet": ["a", "b"]}, index=["v1", "e1"])


@pytest.fixture(scope="module")
def prepared():
    return [
        prepare_document(Document("v1", "vi", TINY_VI), PREP),
        prepare_document(Document("e1", "en", TINY_EN), PREP),
    ]


@pytest.fixture(scope="module")
def dtm(prepared):
    units = [u for d in prepared for u in make_units(d, RULES, kind="document")]
    return build_dtm(((u.unit_id, u.terms) for u in units), DOCVARS)


def test_prepared_tokens(prepared):
    assert list(prepared[0].sentences()) == [
        ["Hai", "nước", "thúc_đẩy", "hợp_tác", "kinh_tế", "."],
        ["Hợp_tác", "biên_giới", "và", "hợp_tác", "du_lịch", "."],
    ]


def test_counts_by_hand(dtm):
    vi = dict(zip(dtm.vocab, dtm.counts.toarray()[0]))
    en = dict(zip(dtm.vocab, dtm.counts.toarray()[1]))
    assert {t: c for t, c in vi.items() if c} == {
        "hai": 1,
        "nước": 1,
        "thúc_đẩy": 1,
        "hợp_tác": 3,
        "kinh_tế": 1,
        "biên_giới": 1,
        "du_lịch": 1,
    }
    assert {t: c for t, c in en.items() if c} == {
        "two": 1,
        "country": 1,
        "promote": 1,
        "economic": 1,
        "cooperation": 3,
        "border": 1,
        "tourism": 1,
    }
    assert dtm.totals().tolist() == [9, 9]


def test_frequency_table(dtm):
    table = frequency_table(dtm, "language")
    row = table[(table.group == "vi") & (table.term == "hợp_tác")].iloc[0]
    assert row["count"] == 3 and row["rank"] == 1 and row["doc_freq"] == 1
    assert row["per_1000"] == pytest.approx(1000 * 3 / 9)
    # ties broken alphabetically: every other vi term has count 1
    assert table[table.group == "vi"].term.tolist() == [
        "hợp_tác",
        "biên_giới",
        "du_lịch",
        "hai",
        "kinh_tế",
        "nước",
        "thúc_đẩy",
    ]
    assert top_terms(table, 2).term.tolist() == ["cooperation", "border", "hợp_tác", "biên_giới"]


def test_relative_frequency_and_tfidf(dtm):
    rel = relative_frequency(dtm).toarray()
    assert rel.sum(axis=1) == pytest.approx([1000, 1000])
    j = dtm.vocab.index("hợp_tác")
    assert tfidf(dtm).toarray()[0, j] == pytest.approx(3 * math.log10(2 / 1))
    assert document_frequency(dtm)[j] == 1
    top = tfidf_top_terms(dtm, 1)
    assert top.term.tolist() == ["hợp_tác", "cooperation"]


def test_group_dtm_sums_rows(dtm):
    grouped = group_dtm(dtm, "language")
    assert grouped.row_ids == ["en", "vi"]
    assert np.array_equal(grouped.counts.toarray(), dtm.counts.toarray()[[1, 0]])


def test_bigrams_by_hand(prepared):
    table = bigram_table(prepared, RULES, DOCVARS, "language")
    vi = table[table.group == "vi"].set_index("bigram")["count"].to_dict()
    # "và" is a stopword, so "biên_giới và hợp_tác" is no bigram
    assert vi == {
        "hai nước": 1,
        "nước thúc_đẩy": 1,
        "thúc_đẩy hợp_tác": 1,
        "hợp_tác kinh_tế": 1,
        "hợp_tác biên_giới": 1,
        "hợp_tác du_lịch": 1,
    }


def test_kwic(prepared):
    table = kwic(prepared, "hợp_tác", RULES, window=2)
    assert table[["doc_id", "left", "keyword", "right"]].values.tolist() == [
        ["v1", "nước thúc_đẩy", "hợp_tác", "kinh_tế ."],
        ["v1", "kinh_tế .", "Hợp_tác", "biên_giới và"],
        ["v1", "biên_giới và", "hợp_tác", "du_lịch ."],
    ]
    assert kwic(prepared, "cooperation", RULES).keyword.tolist() == ["cooperation", "Cooperation", "cooperation"]


def test_corpus_summary(prepared, dtm):
    summary = corpus_summary(prepared, dtm, DOCVARS, ("language",))
    vi = summary[summary.language == "vi"].iloc[0]
    assert (vi.documents, vi.sentences, vi.tokens, vi.types, vi.terms) == (1, 2, 10, 8, 9)
    assert vi.ttr == pytest.approx(0.8)
    assert summary.iloc[-1].documents == 2


def test_units_paragraph_and_windows(prepared):
    assert [u.unit_id for u in make_units(prepared[0], RULES, kind="paragraph")] == ["v1#p0", "v1#p1"]
    windows = make_units(prepared[0], RULES, kind="sentences", window=1)
    assert [u.terms for u in windows] == [
        ("hai", "nước", "thúc_đẩy", "hợp_tác", "kinh_tế"),
        ("hợp_tác", "biên_giới", "hợp_tác", "du_lịch"),
    ]


@given(st.lists(st.lists(st.sampled_from(["a", "b", "c", "hợp_tác"]), max_size=8), min_size=1, max_size=6))
def test_dtm_counts_equal_term_lists(rows):
    ids = [f"d{i}" for i in range(len(rows))]
    matrix = build_dtm(zip(ids, rows), pd.DataFrame(index=ids))
    assert matrix.totals().tolist() == [len(r) for r in rows]
    for i, terms in enumerate(rows):
        for t in set(terms):
            assert matrix.counts[i, matrix.vocab.index(t)] == terms.count(t)
    assert matrix.vocab == sorted(matrix.vocab)
