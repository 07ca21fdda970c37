"""The study's units as plain arrays for the topic models, and a model's corpus built from them.

Why: the topics stage held every unit as a Python object with a tuple of term strings (8 bytes a
token plus a tuple per unit) and its text, and built each model's count matrix from Python lists
of integers (about 36 bytes a stored count), while the fits ran. :class:`UnitArrays` holds the
same units as one int32 array of term positions (4 bytes a token) with offsets, the distinct terms
once, and each unit's document as an int32 position; :func:`analysis.topics.lda.corpus_from_ids` builds a model's
:class:`~analysis.topics.lda.TopicCorpus` from such arrays with numpy, a bounded chunk of tokens at
a time. Texts are not kept: the few a table shows are read again from the prepared documents.

Same corpus, bit for bit. The vocabulary is still chosen by gensim's ``Dictionary`` and
``filter_extremes`` (fed each unit's distinct terms: ``filter_extremes`` reads only document
frequencies and the order in which terms were first seen, which repeated terms do not change), and
the count matrix, the texts, the kept and dropped units are those of
:func:`analysis.topics.lda.build_corpus`, which is this function on the units' term strings
(tests compare both with the earlier list-based build, hypothesis-generated units included).
"""

from __future__ import annotations

import logging
from array import array
from dataclasses import dataclass
from typing import Iterable, Mapping, Sequence

import numpy as np
import scipy.sparse as sp

from ..text.tokens import PreparedDocument, TermRules
from ..text.units import make_units

log = logging.getLogger("analysis")

#: Tokens handled at once when counting and mapping (bounds the temporaries: about 40 bytes each).
CHUNK_TOKENS = 1 << 21


@dataclass(frozen=True)
class UnitArrays:
    """Units as arrays: unit ``i`` is ``unit_ids[i]`` of document ``documents[doc_index[i]]``,
    its terms in reading order ``terms[ids[offsets[i]:offsets[i + 1]]]``.

    ``terms`` holds each distinct term once, in first-seen order; ``ids`` is int32, ``offsets``
    int64 (one more than the units), ``doc_index`` int32.
    """

    unit_ids: tuple[str, ...]
    documents: tuple[str, ...]
    doc_index: np.ndarray
    terms: tuple[str, ...]
    ids: np.ndarray
    offsets: np.ndarray

    @property
    def n_units(self) -> int:
        return len(self.unit_ids)

    def unit_terms(self, i: int) -> tuple[str, ...]:
        """The terms of unit ``i`` as strings (as :class:`analysis.text.units.Unit` holds them)."""
        terms = self.terms
        return tuple(terms[j] for j in self.ids[self.offsets[i] : self.offsets[i + 1]].tolist())

    def unit_documents(self) -> dict[str, str]:
        """Unit id -> document id, for every unit."""
        documents = self.documents
        return {u: documents[d] for u, d in zip(self.unit_ids, self.doc_index.tolist())}

    def select(self, rows: np.ndarray) -> tuple[list[str], np.ndarray, np.ndarray]:
        """Unit ids, term ids and offsets of the units ``rows`` (ascending positions)."""
        rows = np.asarray(rows, dtype=np.int64)
        lengths = np.diff(self.offsets)[rows]
        offsets = np.zeros(len(rows) + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        keep = np.zeros(self.n_units, dtype=bool)
        keep[rows] = True
        ids = self.ids[np.repeat(keep, np.diff(self.offsets))] if len(rows) < self.n_units else self.ids
        return [self.unit_ids[i] for i in rows.tolist()], ids, offsets

    def term_counts(self, rows: np.ndarray) -> dict[str, int]:
        """How often each term occurs in the units ``rows``: ``{term: count}``, terms that occur."""
        _, ids, _ = self.select(rows)
        counts = np.bincount(ids, minlength=len(self.terms))
        return {self.terms[j]: int(counts[j]) for j in np.flatnonzero(counts).tolist()}


def unit_arrays(prepared: Iterable[PreparedDocument], rules: TermRules, *, kind: str, window: int) -> UnitArrays:
    """The units of ``prepared`` (:func:`analysis.text.units.make_units` with ``kind`` and
    ``window``) as :class:`UnitArrays`, made one document at a time: no unit object, no text and
    no term string beyond one per distinct term is kept."""
    index: dict[str, int] = {}
    terms: list[str] = []
    ids, offsets, doc_index = array("i"), array("q", [0]), array("i")
    unit_ids: list[str] = []
    documents: list[str] = []

    def new(term: str) -> int:
        index[term] = len(terms)
        terms.append(term)
        return index[term]

    for position, doc in enumerate(prepared):
        documents.append(doc.doc_id)
        for unit in make_units(doc, rules, kind=kind, window=window, with_text=False):
            unit_ids.append(unit.unit_id)
            doc_index.append(position)
            ids.extend([index[t] if t in index else new(t) for t in unit.terms])
            offsets.append(len(ids))
    return UnitArrays(
        tuple(unit_ids),
        tuple(documents),
        np.frombuffer(doc_index, dtype=np.int32).copy(),
        tuple(terms),
        np.frombuffer(ids, dtype=np.int32).copy(),
        np.frombuffer(offsets, dtype=np.int64).copy(),
    )


def term_ids(texts: Iterable[Sequence[str]]) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    """Units given as sequences of term strings as (ids, offsets, terms) for
    :func:`analysis.topics.lda.corpus_from_ids`."""
    index: dict[str, int] = {}
    ids, offsets = array("i"), array("q", [0])
    for text in texts:
        ids.extend([index.setdefault(t, len(index)) for t in text])
        offsets.append(len(ids))
    return np.frombuffer(ids, dtype=np.int32), np.frombuffer(offsets, dtype=np.int64), tuple(index)


def mapped_ids(
    arrays: UnitArrays, rows: np.ndarray, lookup: np.ndarray, unit_lookup: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The term ids of the units ``rows`` mapped through ``lookup[unit_lookup[unit], term]``
    (a 2-D table: one row per kind of unit, -1 = leave the token out), with their offsets: e.g.
    each language's terms to the concept they stand for, for the joint model."""
    rows = np.asarray(rows, dtype=np.int64)
    parts, counts = [], np.zeros(len(rows), dtype=np.int64)
    starts, ends = arrays.offsets[rows], arrays.offsets[rows + 1]
    for lo, hi in _chunks(starts, ends):
        local = np.repeat(np.arange(lo, hi), (ends - starts)[lo:hi])
        tokens = np.concatenate([arrays.ids[a:b] for a, b in zip(starts[lo:hi].tolist(), ends[lo:hi].tolist())])
        mapped = lookup[unit_lookup[rows[local]], tokens]
        keep = mapped >= 0
        parts.append(mapped[keep].astype(np.int32))
        counts += np.bincount(local[keep], minlength=len(rows))
    offsets = np.zeros(len(rows) + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    return (np.concatenate(parts) if parts else np.zeros(0, dtype=np.int32)), offsets


def _chunks(starts: np.ndarray, ends: np.ndarray) -> Iterable[tuple[int, int]]:
    """Consecutive ranges of units holding about :data:`CHUNK_TOKENS` tokens each."""
    n = len(starts)
    lo = 0
    while lo < n:
        limit = starts[lo] + CHUNK_TOKENS
        hi = max(lo + 1, int(np.searchsorted(ends, limit, side="right")))
        yield lo, min(hi, n)
        lo = hi


def _pairs(ids: np.ndarray, offsets: np.ndarray, rank: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each unit's distinct terms and their counts: ``pair_offsets`` (units + 1), then the terms'
    ``rank`` (a relabelling of the term ids) and their counts (int32), a unit's pairs ascending by rank."""
    n_terms = max(len(rank), 1)
    n = len(offsets) - 1
    starts, ends = offsets[:-1], offsets[1:]
    terms, counts, per_unit = [], [], np.zeros(n, dtype=np.int64)
    for lo, hi in _chunks(starts, ends):
        tokens = rank[ids[starts[lo] : ends[hi - 1]]].astype(np.int64)
        local = np.repeat(np.arange(hi - lo, dtype=np.int64), (ends - starts)[lo:hi])
        keys, number = np.unique(local * n_terms + tokens, return_counts=True)
        terms.append((keys % n_terms).astype(np.int32))
        counts.append(number.astype(np.int32))
        per_unit[lo:hi] = np.bincount(keys // n_terms, minlength=hi - lo)
    pair_offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(per_unit, out=pair_offsets[1:])
    empty = np.zeros(0, dtype=np.int32)
    return pair_offsets, (np.concatenate(terms) if terms else empty), (np.concatenate(counts) if counts else empty)


def corpus_parts_from_ids(
    name: str,
    unit_ids: Sequence[str],
    ids: np.ndarray,
    offsets: np.ndarray,
    terms: Sequence[str],
    *,
    no_below: int = 2,
    no_above: float = 1.0,
    keep_n: int = 0,
):
    """The parts of :func:`analysis.topics.lda.corpus_from_ids`'s corpus (``kept unit ids,
    dropped unit ids, vocab, counts, text ids, text offsets``: what ``TopicCorpus`` and
    ``UnitTexts`` are made of) for units given as term ids: unit ``i`` has the terms
    ``terms[ids[offsets[i]:offsets[i + 1]]]`` in reading order (``terms`` distinct). Here rather
    than in :mod:`analysis.topics.lda` so that this module does not import it back.

    The vocabulary: gensim's ``Dictionary`` over the units with terms, then
    ``filter_extremes(no_below, no_above, keep_n or None)``, sorted. The counts and the texts are
    the units' tokens mapped to that vocabulary, counted with numpy a chunk of
    :data:`CHUNK_TOKENS` tokens at a time. Same errors as ``build_corpus``.
    """
    from gensim.corpora import Dictionary

    ids = np.asarray(ids)
    offsets = np.asarray(offsets, dtype=np.int64)
    if len(offsets) != len(unit_ids) + 1:
        raise ValueError("unit_ids and terms differ in length")
    if len(set(unit_ids)) != len(unit_ids):
        raise ValueError("unit ids must be unique")
    label = f"model '{name}'"
    lengths = np.diff(offsets)
    nonempty = np.flatnonzero(lengths)
    if len(nonempty) < 2:
        raise ValueError(
            f"terms of {label}: only {len(nonempty)} unit{'s' if len(nonempty) != 1 else ''} with "
            f"terms (of {len(unit_ids)}); "
            "a topic model needs at least 2: add documents, or cut them into smaller units "
            "([units] kind = 'sentences' with a small window)"
        )
    # Term ids relabelled in alphabetical order: the vocabulary is sorted, so a unit's pairs, sorted
    # by this rank, stay sorted by vocabulary position once mapped (no sort of the counts needed).
    alphabetical = sorted(range(len(terms)), key=terms.__getitem__)
    rank = np.empty(len(terms), dtype=np.int64)
    rank[alphabetical] = np.arange(len(terms), dtype=np.int64)
    ranked_terms = [terms[j] for j in alphabetical]
    del alphabetical
    pair_offsets, pair_terms, pair_counts = _pairs(ids, offsets, rank)

    def distinct():  # each unit's distinct terms: what filter_extremes reads of it
        for i in nonempty.tolist():
            yield [ranked_terms[j] for j in pair_terms[pair_offsets[i] : pair_offsets[i + 1]].tolist()]

    dictionary = Dictionary(distinct())
    dictionary.filter_extremes(no_below=no_below, no_above=no_above, keep_n=keep_n or None)
    if len(dictionary) == 0:
        raise ValueError(
            f"no_below = {no_below}: {label} has no term left after dictionary filtering (none "
            f"occurs in at least no_below = {no_below} "
            f"of the {len(nonempty)} units and in at most no_above = {no_above:g} of them): "
            "lower no_below, raise no_above, or use longer units ([units] window)"
        )
    vocab = tuple(sorted(dictionary.token2id))
    del dictionary
    position = {t: j for j, t in enumerate(vocab)}
    remap = np.asarray([position.get(t, -1) for t in ranked_terms], dtype=np.int64)  # by rank; rising where kept
    ranked_terms = position = None  # not needed any more
    # the counts: each unit's kept pairs, already ascending by vocabulary position
    columns = remap[pair_terms]
    kept_pair = columns >= 0
    ends = np.zeros(len(pair_terms) + 1, dtype=np.int64)
    np.cumsum(kept_pair, out=ends[1:])
    pairs_per_unit = ends[pair_offsets[1:]] - ends[pair_offsets[:-1]]
    np.cumsum(np.where(kept_pair, pair_counts, 0), out=ends[1:])
    tokens_per_unit = ends[pair_offsets[1:]] - ends[pair_offsets[:-1]]
    del ends
    columns, counts = columns[kept_pair], pair_counts[kept_pair]
    kept_pair = pair_terms = pair_counts = None
    kept = np.flatnonzero(pairs_per_unit)
    kept_ids = [unit_ids[i] for i in kept.tolist()]
    dropped = tuple(unit_ids[i] for i in np.flatnonzero(pairs_per_unit == 0).tolist())
    if dropped:
        log.info(
            "topics %s: dropped %d of %d units with no term left after filtering", name, len(dropped), len(unit_ids)
        )
    if len(kept_ids) < 2:
        raise ValueError(
            f"no_below = {no_below}: {label} has only {len(kept_ids)} unit that keeps terms after "
            "dictionary filtering; "
            "a topic model needs at least 2: lower no_below or raise no_above, or add documents"
        )
    indptr = np.zeros(len(kept) + 1, dtype=np.int64)
    np.cumsum(pairs_per_unit[kept], out=indptr[1:])
    matrix = sp.csr_matrix(
        (counts.astype(np.int64), columns.astype(np.int64), indptr), shape=(len(kept_ids), len(vocab))
    )
    del columns, counts
    # the texts: every kept token in reading order
    text_offsets = np.zeros(len(kept) + 1, dtype=np.int64)
    np.cumsum(tokens_per_unit[kept], out=text_offsets[1:])
    remap = remap[rank]  # by term id
    parts = []
    for lo, hi in _chunks(offsets[:-1], offsets[1:]):
        mapped = remap[ids[offsets[lo] : offsets[hi]]]
        parts.append(mapped[mapped >= 0].astype(np.int32))
    text_ids = np.concatenate(parts) if parts else np.zeros(0, dtype=np.int32)
    return tuple(kept_ids), dropped, vocab, matrix, text_ids, text_offsets


def term_lookup(
    terms: Sequence[str], mapping: Mapping[str, str], targets: Mapping[str, int], key=str.lower
) -> np.ndarray:
    """For each term, the position in ``targets`` of ``mapping[key(term)]``, or -1 (int64)."""
    out = np.full(len(terms), -1, dtype=np.int64)
    for j, term in enumerate(terms):
        target = mapping.get(key(term))
        if target is not None:
            out[j] = targets[target]
    return out
