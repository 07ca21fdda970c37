"""Units as arrays and a model's corpus built from them: the same corpus, bit for bit, as the
list-based build it replaced (a frozen copy below), on hypothesis-generated units and small chunks."""

from __future__ import annotations

from array import array
from collections import Counter

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from analysis.text.tokens import PreparedDocument, TermRules
from analysis.text.units import make_units
from analysis.topics import lda as topics
from analysis.topics import unit_arrays


def reference_corpus(name, unit_ids, terms, *, no_below=2, no_above=1.0, keep_n=0):
    """``lda.build_corpus`` as it was before the arrays (lists of Python integers), for comparison."""
    from gensim.corpora import Dictionary

    label = f"model '{name}'"
    nonempty = [i for i, t in enumerate(terms) if len(t)]
    if len(nonempty) < 2:
        raise ValueError(
            f"terms of {label}: only {len(nonempty)} unit{'s' if len(nonempty) != 1 else ''} with "
            f"terms (of {len(unit_ids)}); "
            "a topic model needs at least 2: add documents, or cut them into smaller units "
            "([units] kind = 'sentences' with a small window)"
        )
    dictionary = Dictionary(list(terms[i]) for i in nonempty)
    dictionary.filter_extremes(no_below=no_below, no_above=no_above, keep_n=keep_n or None)
    if len(dictionary) == 0:
        raise ValueError(
            f"no_below = {no_below}: {label} has no term left after dictionary filtering (none "
            f"occurs in at least no_below = {no_below} "
            f"of the {len(nonempty)} units and in at most no_above = {no_above:g} of them): "
            "lower no_below, raise no_above, or use longer units ([units] window)"
        )
    vocab = tuple(sorted(dictionary.token2id))
    index = {t: j for j, t in enumerate(vocab)}
    kept_ids, indptr, indices, data = [], [0], [], []
    token_ids, offsets = array("i"), array("q", [0])
    for unit_id, unit_terms in zip(unit_ids, terms):
        text = [index[t] for t in unit_terms if t in index]
        if not text:
            continue
        counts = Counter(text)
        kept_ids.append(unit_id)
        token_ids.extend(text)
        offsets.append(len(token_ids))
        indices.extend(sorted(counts))
        data.extend(counts[j] for j in sorted(counts))
        indptr.append(len(indices))
    kept = set(kept_ids)
    dropped = tuple(u for u in unit_ids if u not in kept)
    if len(kept_ids) < 2:
        raise ValueError(
            f"no_below = {no_below}: {label} has only {len(kept_ids)} unit that keeps terms after "
            "dictionary filtering; "
            "a topic model needs at least 2: lower no_below or raise no_above, or add documents"
        )
    matrix = sp.csr_matrix(
        (np.asarray(data, dtype=np.int64), np.asarray(indices, dtype=np.int64), np.asarray(indptr, dtype=np.int64)),
        shape=(len(kept_ids), len(vocab)),
    )
    texts = topics.UnitTexts(np.frombuffer(token_ids, dtype=np.int32), np.frombuffer(offsets, dtype=np.int64), vocab)
    return topics.TopicCorpus(name, tuple(kept_ids), dropped, vocab, matrix, texts)


def assert_same_corpus(a: topics.TopicCorpus, b: topics.TopicCorpus) -> None:
    assert (a.name, a.unit_ids, a.dropped, a.vocab) == (b.name, b.unit_ids, b.dropped, b.vocab)
    assert a.counts.shape == b.counts.shape
    for part in ("indptr", "indices", "data"):
        x, y = getattr(a.counts, part), getattr(b.counts, part)
        assert x.dtype == y.dtype and np.array_equal(x, y), part
    assert a.texts == b.texts and a.texts.ids.dtype == b.texts.ids.dtype


def outcome(build, *args, **kwargs):
    try:
        return build(*args, **kwargs), ""
    except ValueError as exc:
        return None, str(exc)


# Terms from a small alphabet (many repeats, so filtering bites), Vietnamese and English forms.
TERMS = st.sampled_from(["biển", "tàu_cá", "ngư_dân", "trade", "sea", "Việt_Nam", "b", "a", "z", "đảo"])
UNITS = st.lists(st.lists(TERMS, max_size=8), min_size=0, max_size=14)


@hsettings(max_examples=150, deadline=None)
@given(
    units=UNITS,
    no_below=st.integers(1, 3),
    no_above=st.sampled_from([0.3, 0.5, 0.8, 1.0]),
    keep_n=st.integers(0, 4),
    chunk=st.sampled_from([1, 3, 7, 1 << 21]),
)
def test_the_array_build_is_the_list_build(units, no_below, no_above, keep_n, chunk):
    ids = [f"u{i}" for i in range(len(units))]
    filters = {"no_below": no_below, "no_above": no_above, "keep_n": keep_n}
    old, old_error = outcome(reference_corpus, "m", ids, units, **filters)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(unit_arrays, "CHUNK_TOKENS", chunk)
        new, new_error = outcome(topics.build_corpus, "m", ids, units, **filters)
    assert new_error == old_error
    if old is not None:
        assert_same_corpus(new, old)


def test_build_corpus_by_hand():
    corpus = topics.build_corpus(
        "x", ["a", "b", "c", "d"], [["sea", "ship", "sea"], ["tax"], [], ["ship", "tax"]], no_below=1
    )
    assert corpus.vocab == ("sea", "ship", "tax") and corpus.unit_ids == ("a", "b", "d") and corpus.dropped == ("c",)
    assert corpus.counts.toarray().tolist() == [[2, 1, 0], [0, 0, 1], [0, 1, 1]]
    assert list(corpus.texts) == [("sea", "ship", "sea"), ("tax",), ("ship", "tax")]


DOCS = [
    PreparedDocument("v1", "vi", [[["Ngư_dân", "ra", "biển", "."], ["Tàu_cá", "về", "."]], [["Biển", "đảo", "."]]]),
    PreparedDocument("e1", "en", [[["Fishermen", "go", "to", "sea", "."]], [["Trade", "grows", "."], ["Sea", "."]]]),
    PreparedDocument("v2", "vi", [[["Hòa_bình", "trên", "biển", "."]]]),
]


@pytest.mark.parametrize(("kind", "window"), [("document", 3), ("paragraph", 3), ("sentences", 1), ("sentences", 2)])
def test_unit_arrays_hold_the_units(kind, window):
    rules = TermRules({"vi": frozenset({"ra", "về", "trên"}), "en": frozenset({"go", "to"})}, True)
    units = [u for doc in DOCS for u in make_units(doc, rules, kind=kind, window=window)]
    arrays = unit_arrays.unit_arrays(iter(DOCS), rules, kind=kind, window=window)
    assert arrays.unit_ids == tuple(u.unit_id for u in units)
    assert [arrays.unit_terms(i) for i in range(arrays.n_units)] == [u.terms for u in units]
    assert arrays.unit_documents() == {u.unit_id: u.doc_id for u in units}
    assert arrays.ids.dtype == np.int32 and arrays.offsets[-1] == sum(len(u.terms) for u in units)
    assert len(set(arrays.terms)) == len(arrays.terms)
    english = np.flatnonzero(np.asarray([arrays.documents[d] == "e1" for d in arrays.doc_index]))
    assert arrays.term_counts(english) == dict(Counter(t for u in units if u.doc_id == "e1" for t in u.terms))
    unit_ids, ids, offsets = arrays.select(english)
    assert unit_ids == [u.unit_id for u in units if u.doc_id == "e1"]
    assert [tuple(arrays.terms[j] for j in ids[a:b]) for a, b in zip(offsets[:-1], offsets[1:])] == [
        u.terms for u in units if u.doc_id == "e1"
    ]


@pytest.mark.parametrize("chunk", [1, 2, 1 << 21])
def test_mapped_ids_are_the_concept_tokens(monkeypatch, chunk):
    monkeypatch.setattr(unit_arrays, "CHUNK_TOKENS", chunk)
    rules = TermRules({}, True)
    arrays = unit_arrays.unit_arrays(DOCS, rules, kind="sentences", window=1)
    cmap = {"vi": {"biển": "sea", "ngư_dân": "fisher", "tàu_cá": "boat"}, "en": {"sea": "sea", "fisherman": "fisher"}}
    concepts = {c: j for j, c in enumerate(sorted({c for m in cmap.values() for c in m.values()}))}
    lookup = np.stack([unit_arrays.term_lookup(arrays.terms, cmap[lang], concepts) for lang in ("vi", "en")])
    language = {"v1": 0, "v2": 0, "e1": 1}
    unit_lookup = np.asarray([language[arrays.documents[d]] for d in arrays.doc_index])
    rows = np.arange(arrays.n_units)
    ids, offsets = unit_arrays.mapped_ids(arrays, rows, lookup, unit_lookup)
    names = list(concepts)
    got = [tuple(names[j] for j in ids[a:b]) for a, b in zip(offsets[:-1], offsets[1:])]
    units = [u for doc in DOCS for u in make_units(doc, rules, kind="sentences", window=1)]
    lang = {"v1": "vi", "v2": "vi", "e1": "en"}
    assert got == [topics.concept_tokens(u.terms, lang[u.doc_id], cmap) for u in units]
    assert any(got) and not all(got)
