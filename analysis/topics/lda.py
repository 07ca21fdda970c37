"""Topic models: LDA fitting, choice of K, topic descriptions, prevalence and cross-lingual alignment.

Data in, data out. The engines stay at the edge of this module (:mod:`analysis.topics.engines`): the
vocabulary is built once with gensim's ``Dictionary``, every engine (tomotopy's collapsed Gibbs
``LDAModel``, the default, or gensim's online ``LdaModel``) gets the same count matrix and returns
plain numpy arrays (topic-word ``phi``, doc-topic ``theta``) with the vocabulary; nothing
downstream ever sees an engine object. Coherence is gensim's ``CoherenceModel`` for either engine.

Reproducibility. Every fit is single-threaded and seeded (tomotopy with one worker, gensim's
single-process ``LdaModel`` with a seeded ``RandomState``) and gives the same matrices bit for bit,
whatever the number of worker processes that run the fits of K selection side by side.
``LdaMulticore`` (gensim, ``multicore = true``) does not (gensim PR #2953) and is recorded as
``reproducible = False``. Doc-topic proportions are computed once, deterministically (see
:mod:`analysis.topics.engines`).

Units and numbering. Rows of ``theta`` are the kept units in corpus order; units without any
term left after dictionary filtering are dropped (logged) and the others keep their ids. Topics
are numbered from 1 in every table and figure: topic ``t`` is row ``t - 1`` of ``phi``.

References
----------
Blei, Ng & Jordan (2003), Latent Dirichlet allocation, JMLR 3. Hoffman, Blei & Bach (2010), Online
learning for LDA, NIPS (gensim's algorithm). Röder, Both & Hinneburg (2015), Exploring the space of
topic coherence measures, WSDM (c_v, c_npmi). Mimno et al. (2011), Optimizing semantic coherence in
topic models, EMNLP (u_mass). Sievert & Shirley (2014), LDAvis, ACL workshop (relevance).
Greene, O'Callaghan & Cunningham (2014), How many topics? Stability analysis for topic models,
ECML PKDD (matching topics across runs).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from functools import partial
from importlib import metadata
from itertools import combinations
from typing import Callable, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.optimize import linear_sum_assignment
from scipy.spatial.distance import cdist, jensenshannon

from ..stats.resampling import MIN_GROUP_DOCS, studentized_interval
from ..study.settings import TopicSettings
from . import engines
from .engines import training_order  # noqa: F401  (part of this module's interface)
from .unit_arrays import corpus_parts_from_ids, term_ids

log = logging.getLogger("analysis")

#: Fewer units per topic than this: the model is exploratory only (said in every table note).
MIN_UNITS_PER_TOPIC = 10
#: Fewer documents (clusters) than this in a group: its prevalence interval does not mean much.
#: The framing tables' threshold (20): from it the studentized interval keeps >= 0.93 coverage in
#: the simulations of ``tests/stats/test_resampling.py`` and ``tests/topics/test_lda.py``.
MIN_DOCS_PER_GROUP = MIN_GROUP_DOCS
#: Coherence measures reported for K selection (c_npmi drives the choice).
COHERENCE_MEASURES = ("c_npmi", "u_mass", "c_v")
C_V_CAVEAT = (
    "c_v is reported for comparison only: it can rate a topic of rare unrelated words above a good one "
    "(dice-group/Palmetto issue 12), the paper's c_v scores could not be reproduced (issue 13), and its "
    "author no longer recommends it (issue 76); K is chosen on c_npmi"
)


# ------------------------------------------------------------------------------------ settings


def _prior(value: str, names: tuple[str, ...], key: str):
    """gensim's value for a Dirichlet prior written in the study: a name or a positive number.

    Raises ``ValueError`` (starting with ``key``) for anything else."""
    if value in names:
        return value
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = math.nan
    if not number > 0 or math.isinf(number):
        raise ValueError(
            f"{key} = '{value}' is not known: use one of {', '.join(names)} or a positive number as text, e.g. \"0.1\""
        )
    return number


# -------------------------------------------------------------------------------------- corpus


class UnitTexts(Sequence):
    """The kept terms of every unit in reading order, held as one array of vocabulary indices.

    ``ids`` (int32) holds every unit's terms one after the other as positions in ``vocab``,
    ``offsets`` (int64, one more than the units) where each unit starts: 4 bytes a token, where a
    tuple of strings per unit costs 8 bytes a token and a tuple's header per unit (and the copy as
    lists that coherence made, 8 more). Reads as a sequence of tuples of strings (``texts[i]``),
    equal to the tuples it replaces; :meth:`lists` gives them as lists, one at a time, for
    gensim's coherence (:func:`coherence_many`), which reads them once per measure.

    >>> texts = UnitTexts.from_terms([("sea", "ship", "sea"), ("tax",)], ("sea", "ship", "tax"))
    >>> len(texts), texts[0], texts[1], list(texts.lists())
    (2, ('sea', 'ship', 'sea'), ('tax',), [['sea', 'ship', 'sea'], ['tax']])
    >>> texts.take([1])[0], texts == UnitTexts.from_terms([("sea", "ship", "sea"), ("tax",)], ("sea", "ship", "tax"))
    (('tax',), True)
    """

    __slots__ = ("ids", "offsets", "vocab")

    def __init__(self, ids: np.ndarray, offsets: np.ndarray, vocab: Sequence[str]):
        self.ids = np.asarray(ids, dtype=np.int32)
        self.offsets = np.asarray(offsets, dtype=np.int64)
        self.vocab = tuple(vocab)

    @classmethod
    def from_terms(cls, texts: Iterable[Sequence[str]], vocab: Sequence[str]) -> UnitTexts:
        """From per-unit sequences of vocabulary terms (every term must be in ``vocab``)."""
        index = {t: j for j, t in enumerate(vocab)}
        ids, offsets = [], [0]
        for text in texts:
            ids.extend(index[t] for t in text)
            offsets.append(len(ids))
        return cls(np.asarray(ids, dtype=np.int32), np.asarray(offsets, dtype=np.int64), vocab)

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def __getitem__(self, i):
        if isinstance(i, slice):
            return tuple(self[j] for j in range(*i.indices(len(self))))
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError(i)
        vocab = self.vocab
        return tuple(vocab[j] for j in self.ids[self.offsets[i] : self.offsets[i + 1]].tolist())

    def __iter__(self):
        for i in range(len(self)):
            yield self[i]

    def __eq__(self, other) -> bool:
        if isinstance(other, UnitTexts):
            return (
                self.vocab == other.vocab
                and np.array_equal(self.offsets, other.offsets)
                and np.array_equal(self.ids, other.ids)
            )
        if isinstance(other, tuple):
            return tuple(self) == other
        return NotImplemented

    __hash__ = None

    def __repr__(self) -> str:
        return f"UnitTexts({len(self)} units, {len(self.ids)} tokens)"

    def take(self, rows: Sequence[int]) -> UnitTexts:
        """The texts of the units ``rows`` (in that order)."""
        rows = np.asarray(rows, dtype=np.int64)
        starts, ends = self.offsets[rows], self.offsets[rows + 1]
        lengths = ends - starts
        offsets = np.zeros(len(rows) + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        ids = (
            np.concatenate([self.ids[a:b] for a, b in zip(starts.tolist(), ends.tolist())])
            if len(rows)
            else np.zeros(0, dtype=np.int32)
        )
        return UnitTexts(ids, offsets, self.vocab)

    def lists(self) -> _TextLists:
        """A re-iterable of every unit's terms as a list of strings, made one unit at a time."""
        return _TextLists(self)


class _TextLists:
    """Iterating gives each unit's terms as a new list (gensim's coherence reads ``texts`` this way)."""

    def __init__(self, texts: UnitTexts):
        self.texts = texts

    def __len__(self) -> int:
        return len(self.texts)

    def __iter__(self):
        vocab, ids, offsets = self.texts.vocab, self.texts.ids, self.texts.offsets.tolist()
        for i in range(len(offsets) - 1):
            yield [vocab[j] for j in ids[offsets[i] : offsets[i + 1]].tolist()]


def _text_lists(texts) -> Iterable[list[str]]:
    """Every unit's terms as lists for gensim: made one at a time from :class:`UnitTexts`."""
    return texts.lists() if isinstance(texts, UnitTexts) else [list(t) for t in texts]


@dataclass(frozen=True)
class TopicCorpus:
    """Units ready for LDA.

    ``unit_ids`` are the kept units in corpus order, ``dropped`` the ids of units with no term
    left (ids are never renumbered); ``vocab`` is sorted; ``counts`` is the (units, terms) CSR
    count matrix; ``texts`` the kept terms of each unit in reading order (for coherence): a
    :class:`UnitTexts` (vocabulary indices; reads as tuples of strings) from :func:`build_corpus`,
    or any sequence of tuples of strings.
    """

    name: str
    unit_ids: tuple[str, ...]
    dropped: tuple[str, ...]
    vocab: tuple[str, ...]
    counts: sp.csr_matrix
    texts: Sequence[Sequence[str]]

    @property
    def n_units(self) -> int:
        return len(self.unit_ids)

    def term_frequency(self) -> np.ndarray:
        """Corpus count of each vocabulary term (the marginal used by relevance)."""
        return np.asarray(self.counts.sum(axis=0)).ravel()

    def bow(self) -> list[list[tuple[int, int]]]:
        """gensim's bag-of-words: per unit, ``(term index, count)`` sorted by index."""
        return engines.bag_of_words(self.counts)


def build_corpus(
    name: str,
    unit_ids: Sequence[str],
    terms: Sequence[Sequence[str]],
    *,
    no_below: int = 2,
    no_above: float = 1.0,
    keep_n: int = 0,
) -> TopicCorpus:
    """Filter the vocabulary with gensim's ``Dictionary.filter_extremes`` and count terms per unit.

    A term is kept when it occurs in at least ``no_below`` units and in at most ``no_above`` of
    them (a share), then only the ``keep_n`` most frequent by document frequency (0 = all). Units
    with no term at all, or none left after filtering, are dropped with a logged count.

    Raises ``ValueError`` for fewer than two units with terms (message starting with ``terms``)
    and for an empty vocabulary (starting with ``no_below``); a stage names the study key.

    >>> c = build_corpus("vi", ["a", "b", "c"], [["hợp_tác", "biển"], ["hợp_tác"], []], no_below=2)
    >>> c.unit_ids, c.dropped, c.vocab, c.counts.toarray().tolist()
    (('a', 'b'), ('c',), ('hợp_tác',), [[1], [1]])
    """
    if len(unit_ids) != len(terms):
        raise ValueError("unit_ids and terms differ in length")
    ids, offsets, table = term_ids(terms)
    return corpus_from_ids(name, unit_ids, ids, offsets, table, no_below=no_below, no_above=no_above, keep_n=keep_n)


def corpus_from_ids(
    name: str,
    unit_ids: Sequence[str],
    ids,
    offsets,
    terms: Sequence[str],
    *,
    no_below: int = 2,
    no_above: float = 1.0,
    keep_n: int = 0,
) -> TopicCorpus:
    """:func:`build_corpus` on units given as term ids: unit ``i`` has the terms
    ``terms[ids[offsets[i]:offsets[i + 1]]]`` in reading order (``terms`` distinct).

    The vocabulary: gensim's ``Dictionary`` over the units with terms, then
    ``filter_extremes(no_below, no_above, keep_n or None)``, sorted. The counts and the texts are
    the units' tokens mapped to that vocabulary, counted with numpy a bounded chunk at a time
    (:func:`analysis.topics.unit_arrays.corpus_parts_from_ids`). Same errors as ``build_corpus``.
    """
    kept_ids, dropped, vocab, matrix, text_ids, text_offsets = corpus_parts_from_ids(
        name, unit_ids, ids, offsets, terms, no_below=no_below, no_above=no_above, keep_n=keep_n
    )
    return TopicCorpus(name, kept_ids, dropped, vocab, matrix, UnitTexts(text_ids, text_offsets, vocab))


def fit_input(corpus: TopicCorpus) -> TopicCorpus:
    """What a fit needs of ``corpus``: its counts, vocabulary and unit ids, without the texts.

    The texts (every kept term of every unit, for coherence) stay in the process that scores the
    fits; a fit in another process or on a cluster never reads them, so they are not pickled
    with every fit job: 2.9 MB instead of 5.0 MB per job for the 2,225 BBC articles."""
    return TopicCorpus(corpus.name, corpus.unit_ids, corpus.dropped, corpus.vocab, corpus.counts, ())


def _gensim_dictionary(vocab: Sequence[str]):
    """A gensim Dictionary whose ids are the positions in our sorted ``vocab``."""
    return engines.gensim_dictionary(vocab)


# ----------------------------------------------------------------------------------------- fit


@dataclass(frozen=True)
class LdaFit:
    """A fitted topic model as plain arrays.

    ``topic_word``: (K, V) float64, rows sum to 1 (phi); ``doc_topic``: (units, K) float64, rows
    sum to 1 (theta), rows in the order of ``unit_ids``; ``alpha``: the (K,) document-topic prior
    as fitted; ``reproducible``: False for ``LdaMulticore`` fits; ``record``: the engine's plain
    description of the fit (engine, version, priors, iterations run, convergence).
    """

    name: str
    k: int
    seed: int
    topic_word: np.ndarray
    doc_topic: np.ndarray
    vocab: tuple[str, ...]
    unit_ids: tuple[str, ...]
    alpha: np.ndarray
    reproducible: bool = True
    record: dict = field(default_factory=dict, compare=False)


def check_k(corpus: TopicCorpus, k: int) -> None:
    """K topics need at least K units (``ValueError`` starting with ``k`` otherwise)."""
    if k > corpus.n_units:
        raise ValueError(
            f"k = {k}: model '{corpus.name}' has only {corpus.n_units} units with terms: "
            f"set k to at most {corpus.n_units}, or 0 to choose K from k_range"
        )


def lda_parameters(settings: TopicSettings) -> dict:
    """Keyword arguments for gensim's ``LdaModel`` from the study (everything but corpus, K, seed)."""
    return {
        "passes": settings.passes,
        "iterations": settings.iterations,
        "alpha": _prior(settings.alpha, ("symmetric", "asymmetric", "auto"), "alpha"),
        "eta": _prior(settings.eta, ("symmetric", "auto"), "eta"),
        "chunksize": settings.chunksize,
        "eval_every": settings.eval_every,
        "update_every": 1,
    }


def engine_parameters(settings: TopicSettings, workers: int = 1) -> dict:
    """The explicit keyword arguments of :func:`analysis.topics.engines.fit` for the study's engine.

    tomotopy: priors, ``max_iterations``, ``tolerance``, ``window`` (Gibbs iterations). gensim:
    :func:`lda_parameters` without ``update_every``, ``shuffle``, ``multicore`` and its
    ``workers``, ``tolerance`` and a window of one pass (a pass is a whole sweep of the corpus).
    """
    alpha = _prior(settings.alpha, ("symmetric", "asymmetric", "auto"), "alpha")
    eta = _prior(settings.eta, ("symmetric", "auto"), "eta")
    if settings.engine == "tomotopy":
        return {
            "alpha": alpha,
            "eta": eta,
            "max_iterations": settings.max_iterations,
            "tolerance": settings.tolerance,
            "window": settings.window,
        }
    params = {p: v for p, v in lda_parameters(settings).items() if p != "update_every"}
    return {
        **params,
        "shuffle": settings.shuffle,
        "multicore": settings.multicore,
        "workers": workers,
        "tolerance": settings.tolerance,
        "window": 1,
    }


def fit_parameters(settings: TopicSettings, workers: int = 1) -> dict:
    """The keyword arguments of :func:`fit_lda` (and the fits of :func:`select_k`) from a study's
    ``[topics]`` settings: ``engine`` and :func:`engine_parameters`.

    >>> from analysis.study.settings import TopicSettings
    >>> sorted(fit_parameters(TopicSettings()))
    ['alpha', 'engine', 'eta', 'max_iterations', 'tolerance', 'window']
    """
    return {"engine": settings.engine, **engine_parameters(settings, workers)}


def fit_lda(corpus: TopicCorpus, k: int, seed: int, *, engine: str = "tomotopy", **params) -> LdaFit:
    """Fit LDA with ``k`` topics and return phi, theta and the vocabulary as numpy arrays.

    ``engine`` (:mod:`analysis.topics.engines`): ``"tomotopy"``, the collapsed Gibbs sampler with one
    thread and the seed, or ``"gensim"``, the single-process ``LdaModel`` seeded with
    ``numpy.random.RandomState(seed)`` and trained on the units in :func:`training_order` (or
    ``LdaMulticore`` with ``workers - 1`` workers when ``multicore=True``: faster, not
    reproducible). ``params`` are the engine's keyword arguments (:func:`analysis.topics.engines.fit`:
    priors, ``passes``/``max_iterations``, ``tolerance``...); :func:`fit_parameters` gives them
    for a study. Both stop by the convergence rule of :mod:`analysis.topics.engines` when
    ``tolerance > 0``. theta is computed once, for all units in corpus order. Raises
    ``ValueError`` when ``k`` exceeds the units.

    >>> c = build_corpus("x", ["a", "b", "c", "d"], [["sea", "ship"], ["sea", "ship"], ["trade", "tax"], ["trade",
    ...     "tax"]], no_below=1)
    >>> fit = fit_lda(c, 2, seed=1, max_iterations=50)
    >>> fit.topic_word.shape, fit.doc_topic.shape
    ((2, 4), (4, 2))
    """
    check_k(corpus, k)
    return fit_of(corpus, k, seed, engines.fit(engine, corpus.counts, corpus.vocab, k, seed=seed, **params))


def fit_of(corpus: TopicCorpus, k: int, seed: int, result) -> LdaFit:
    """The :class:`LdaFit` of an engine's ``result`` (:func:`analysis.topics.engines.fit`) on
    ``corpus`` at ``k`` topics and ``seed``, wherever the fit ran (here, a worker, Dask)."""
    return LdaFit(
        corpus.name,
        k,
        seed,
        result.topic_word,
        result.doc_topic,
        corpus.vocab,
        corpus.unit_ids,
        result.alpha,
        reproducible=result.reproducible,
        record=result.record,
    )


def _normalise_rows(matrix) -> np.ndarray:
    m = np.asarray(matrix, dtype=np.float64)
    return m / m.sum(axis=1, keepdims=True)


def top_term_indices(topic_word: np.ndarray, n: int) -> np.ndarray:
    """(K, n) indices of each topic's ``n`` most probable terms; ties go to the earlier term."""
    order = np.argsort(-topic_word, axis=1, kind="stable")
    return order[:, : min(n, topic_word.shape[1])]


# ----------------------------------------------------------------------------------- coherence


def coherence(
    corpus: TopicCorpus, topic_word: np.ndarray, *, topn: int = 10, measures: Sequence[str] = COHERENCE_MEASURES
) -> dict[str, np.ndarray]:
    """Per-topic coherence of each topic's ``topn`` most probable terms, by gensim's CoherenceModel.

    * ``c_npmi`` (Aletras & Stevenson 2013; Röder et al. 2015): mean normalised pointwise mutual
      information ``NPMI(a, b) = log(P(a,b) / (P(a)P(b))) / -log P(a,b)`` over word pairs,
      probabilities from sliding windows of 10 tokens over the units; in [-1, 1].
    * ``u_mass`` (Mimno et al. 2011): mean ``log((D(a,b) + 1) / D(b))`` over ordered pairs, from
      unit co-occurrence counts; <= 0, higher is better.
    * ``c_v`` (Röder et al. 2015): indirect cosine of NPMI vectors over 110-token windows. See
      :data:`C_V_CAVEAT`.

    Computed on the filtered units themselves (no external reference corpus), with
    ``processes=1`` so the counts do not depend on worker scheduling.
    """
    from gensim.models.coherencemodel import CoherenceModel

    dictionary = _gensim_dictionary(corpus.vocab)
    top = [[corpus.vocab[j] for j in row] for row in top_term_indices(topic_word, topn)]
    texts = _text_lists(corpus.texts)
    out = {}
    for measure in measures:
        if measure == "u_mass":
            model = CoherenceModel(
                topics=top, corpus=corpus.bow(), dictionary=dictionary, coherence=measure, topn=len(top[0]), processes=1
            )
        else:
            model = CoherenceModel(
                topics=top, texts=texts, dictionary=dictionary, coherence=measure, topn=len(top[0]), processes=1
            )
        out[measure] = np.asarray(model.get_coherence_per_topic(), dtype=np.float64)
    return out


def coherence_many(
    corpus: TopicCorpus,
    topic_words: Sequence[np.ndarray],
    *,
    topn: int = 10,
    measures: Sequence[str] = COHERENCE_MEASURES,
) -> list[dict[str, np.ndarray]]:
    """:func:`coherence` of several fits of one corpus, counting co-occurrences once per measure.

    gensim's CoherenceModel spends most of its time sliding windows over the texts to count
    word and pair occurrences (``estimate_probabilities``). Those counts do not depend on which
    other words are counted alongside (each word's windows are its own), so one accumulation over
    the union of every fit's top terms serves all fits: the model keeps its accumulator when new
    topics use only counted words. Same numbers as :func:`coherence` fit by fit (test).
    """
    from gensim.models.coherencemodel import CoherenceModel

    dictionary = _gensim_dictionary(corpus.vocab)
    tops = [[[corpus.vocab[j] for j in row] for row in top_term_indices(tw, topn)] for tw in topic_words]
    if not tops:
        return []
    union = [topic for top in tops for topic in top]
    texts = _text_lists(corpus.texts)
    bow = corpus.bow() if "u_mass" in measures else None
    out: list[dict[str, np.ndarray]] = [{} for _ in tops]
    for measure in measures:
        source = {"corpus": bow} if measure == "u_mass" else {"texts": texts}
        model = CoherenceModel(
            topics=union, dictionary=dictionary, coherence=measure, topn=len(union[0]), processes=1, **source
        )
        model.estimate_probabilities()
        for i, top in enumerate(tops):
            model.topics = top
            out[i][measure] = np.asarray(model.get_coherence_per_topic(), dtype=np.float64)
    return out


# ---------------------------------------------------------------------------- topic matching


def hellinger_matrix(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Hellinger distance between every row of ``p`` and every row of ``q``.

    ``H(p, q) = sqrt(1/2 * sum_w (sqrt p_w - sqrt q_w)^2)``, in [0, 1]; rows are distributions.
    """
    return cdist(np.sqrt(p), np.sqrt(q), "euclidean") / math.sqrt(2.0)


def jensen_shannon_matrix(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Jensen-Shannon distance (base 2, so in [0, 1]) between rows: scipy's ``jensenshannon``.

    ``JSD(p, q) = sqrt((KL(p || m) + KL(q || m)) / 2)`` with ``m = (p + q) / 2`` (Lin 1991).
    A row of zeros (no mass at all) is at distance 1 from everything.
    """
    out = np.ones((p.shape[0], q.shape[0]))
    for i, row in enumerate(p):
        for j, col in enumerate(q):
            if row.sum() > 0 and col.sum() > 0:
                out[i, j] = jensenshannon(row, col, base=2.0)
    return np.clip(np.nan_to_num(out, nan=1.0), 0.0, 1.0)


DISTANCES: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    "hellinger": hellinger_matrix,
    "jensen_shannon": jensen_shannon_matrix,
}


def match_topics(p: np.ndarray, q: np.ndarray, metric: str = "hellinger") -> pd.DataFrame:
    """One-to-one matching of the topics (rows) of ``p`` to those of ``q`` at least total distance.

    The assignment problem is solved exactly by ``scipy.optimize.linear_sum_assignment`` (Hungarian
    method; Greene et al. 2014 use the same matching for stability). With different numbers of
    topics, the extra ones stay unmatched. Columns (0-based indices): ``topic_a, topic_b,
    distance, similarity`` (``1 - distance``), sorted by ``topic_a``.
    """
    distance = DISTANCES[metric](p, q)
    rows, cols = linear_sum_assignment(distance)
    d = distance[rows, cols]
    return pd.DataFrame({"topic_a": rows, "topic_b": cols, "distance": d, "similarity": 1.0 - d})


def stability(topic_words: Sequence[np.ndarray], metric: str = "hellinger") -> tuple[float, float]:
    """Agreement of the topics of fits that differ only in their seed.

    For every pair of fits, topics are matched one-to-one (:func:`match_topics`); the pair's
    agreement is the mean similarity ``1 - distance`` of its matched topics. Returns
    ``(mean over pairs, lowest similarity of any matched topic)``; both NaN for a single fit.
    1 = the same topics every time; Hellinger similarity near 0 = unrelated topics.
    """
    pairs = [match_topics(a, b, metric)["similarity"].to_numpy() for a, b in combinations(topic_words, 2)]
    if not pairs:
        return math.nan, math.nan
    return float(np.mean([p.mean() for p in pairs])), float(min(p.min() for p in pairs))


# ------------------------------------------------------------------------------ search sample


def unit_document(unit_id: str) -> str:
    """The document behind a unit id (``<doc_id>`` or ``<doc_id>#<part>``)."""
    return unit_id.split("#", 1)[0]


def search_sample(
    corpus: TopicCorpus, max_units: int, seed: int, strata: Mapping[str, str] | None = None
) -> TopicCorpus:
    """The units K selection is fitted on: at most about ``max_units`` of them, whole documents
    drawn at random within each stratum (e.g. language) in proportion to its size.

    Why: the cost of choosing K is (candidate K) x (seeds) fits, the final model one fit; with
    every unit in every selection fit the search costs 18 final fits or more at any size. Fitted on
    a fixed-size sample, the search costs the same whatever the corpus, while the final model
    still sees every unit. A sample of documents (not of units) keeps sentence windows of one
    article together; stratifying keeps each language's share, so the joint model's search sees
    both languages as the final fit does. How large a sample chooses the same K as the full
    search is measured on VNTC and BBC in ``benchmarks/topic_search.py``.

    Draw: documents in first-seen order, each stratum (``strata[doc_id]``; one stratum when
    None) gets ``round(f * documents in it)`` documents (at least one), ``f = max_units /
    units``, chosen by ``numpy.random.default_rng(seed).permutation`` per stratum in sorted
    stratum order; the kept units stay in corpus order. ``max_units = 0`` or a corpus of at
    most ``max_units`` units: the corpus itself (same object). The vocabulary is the corpus's
    (terms absent from the sample keep a column of zeros), so topics of the sample and of the
    corpus are comparable term by term. ``dropped`` holds the corpus's dropped units and the
    units left out, so :func:`n_documents` (which sizes an empty ``k_range``) counts the corpus's
    documents, not the sample's.

    >>> c = build_corpus("x", [f"d{i}" for i in range(8)], [["sea", "ship"], ["tax"]] * 4, no_below=1)
    >>> search_sample(c, 4, seed=1).unit_ids
    ('d0', 'd1', 'd4', 'd5')
    >>> search_sample(c, 0, seed=1) is c
    True
    """
    if max_units <= 0 or corpus.n_units <= max_units:
        return corpus
    documents: dict[str, list[int]] = {}
    for i, unit_id in enumerate(corpus.unit_ids):
        documents.setdefault(unit_document(unit_id), []).append(i)
    by_stratum: dict[str, list[str]] = {}
    for doc in documents:
        by_stratum.setdefault(str(strata.get(doc, "")) if strata else "", []).append(doc)
    share = max_units / corpus.n_units
    rng = np.random.default_rng(seed)
    keep: list[int] = []
    for stratum in sorted(by_stratum):
        docs = by_stratum[stratum]
        n = min(len(docs), max(1, round(share * len(docs))))
        for j in rng.permutation(len(docs))[:n]:
            keep.extend(documents[docs[j]])
    rows = np.sort(np.asarray(keep, dtype=np.int64))
    kept = set(rows.tolist())
    return TopicCorpus(
        corpus.name,
        tuple(corpus.unit_ids[i] for i in rows),
        corpus.dropped + tuple(u for i, u in enumerate(corpus.unit_ids) if i not in kept),
        corpus.vocab,
        sp.csr_matrix(corpus.counts[rows]),
        corpus.texts.take(rows) if isinstance(corpus.texts, UnitTexts) else tuple(corpus.texts[i] for i in rows),
    )


#: The scaled K search (:func:`scaled_search`): every unit up to this many documents, and never a
#: sample of fewer units.
SEARCH_FLOOR = 2000
#: ... above it, a sample of one unit in this many ...
SEARCH_SHARE = 5
#: ... fitted with this many seeds (the study's first).
SEARCH_SEEDS = 2


def scaled_search(n_units: int, n_documents: int, seeds: Sequence[int]) -> tuple[int, tuple[int, ...]]:
    """``(search_units, seeds)`` of a K search whose cost grows no faster than the final fit's.

    Rule: a model of at most :data:`SEARCH_FLOOR` (2,000) documents is searched on every unit with
    every seed (the full search, unchanged). Above it, the K-selection fits see a sample
    (:func:`search_sample`) of ``m = max(2000, ceil(n_units / 5))`` units, fitted with the first
    :data:`SEARCH_SEEDS` (2) of ``seeds``; the final fit still sees every unit.

    Why these numbers (``benchmarks/README.md``, "Choosing K at scale"): stability across seeds,
    which decides K, falls when the fits see fewer documents, and every sample that changed K had
    500-1,000 documents: hence a floor of 2,000 documents, below which nothing is sampled. A
    sample that is a fixed share of the corpus keeps growing with it, so the fits' stability gets
    closer to the whole corpus's as N grows (a fixed-size sample would stay as far off while the
    corpus's own stability rises). The cost: 6 K x 2 seeds on a fifth of the tokens is about 2.4
    whole-corpus fits averaged over K, against 18 for the full search (6 K x 3 seeds): a constant
    share of the final fit's cost whatever N (not a shrinking one: a fit's cost is linear in the
    tokens). Two seeds give one pair of fits to match, which is what stability needs.

    >>> scaled_search(1500, 1500, (1, 2, 3))
    (0, (1, 2, 3))
    >>> scaled_search(8000, 8000, (1, 2, 3)), scaled_search(80001, 80001, (1, 2, 3))
    ((2000, (1, 2)), (16001, (1, 2)))
    """
    if n_documents <= SEARCH_FLOOR:
        return 0, tuple(seeds)
    m = max(SEARCH_FLOOR, math.ceil(n_units / SEARCH_SHARE))
    return (0, tuple(seeds)) if m >= n_units else (m, tuple(seeds)[:SEARCH_SEEDS])


def search_plan(
    corpus: TopicCorpus, *, search: str = "full", search_units: int = 0, seeds: Sequence[int] = (1, 2, 3)
) -> tuple[int, tuple[int, ...], str]:
    """How a model's K-selection fits run: ``(units they see, 0 = every unit; their seeds; a note
    for the reason column)``, from the study's ``[topics] search``, ``search_units`` and ``seeds``.

    ``search_units > 0``: a sample of about that many units with every seed (the researcher's
    trade, honoured as written). Otherwise ``search = "full"`` (the default): every unit, every
    seed; ``"scaled"``: :func:`scaled_search` on the model's units and documents (a model of at
    most 2,000 documents gets the full search).

    >>> c = build_corpus("x", ["a", "b"], [["sea"], ["sea"]], no_below=1)
    >>> search_plan(c, search="scaled"), search_plan(c, search_units=1)
    ((0, (1, 2, 3), ''), (1, (1, 2, 3), ''))
    """
    if search_units > 0:
        return search_units, tuple(seeds), ""
    if search == "full":
        return 0, tuple(seeds), ""
    size, chosen = scaled_search(corpus.n_units, n_documents(corpus), seeds)
    note = (
        f" (scaled search above {SEARCH_FLOOR:,} documents: max({SEARCH_FLOOR:,}, units / {SEARCH_SHARE}) units, "
        f"{len(chosen)} seed{'s' if len(chosen) > 1 else ''})"
        if size
        else ""
    )
    return size, chosen, note


# ---------------------------------------------------------------------------------- choose K


@dataclass(frozen=True)
class KSelection:
    """``fits``: one row per (K, seed) with mean coherence per measure; ``summary``: one row per
    candidate K with ``chosen`` and ``reason``; ``k``: the chosen number of topics."""

    name: str
    fits: pd.DataFrame
    summary: pd.DataFrame
    k: int
    reason: str


def _fit_job(corpus: TopicCorpus, params: dict, job: tuple[int, int]) -> tuple[int, int, np.ndarray, dict]:
    """One K-selection fit (run in a worker process): K, seed, phi and the engine's record."""
    k, seed = job
    fit = fit_lda(corpus, k, seed, **params)
    return k, seed, fit.topic_word, fit.record


def n_documents(corpus: TopicCorpus) -> int:
    """Documents behind a model's units (a unit id is ``<doc_id>`` or ``<doc_id>#<part>``)."""
    return len({u.split("#", 1)[0] for u in (*corpus.unit_ids, *corpus.dropped)})


def candidate_ks(corpus: TopicCorpus, k_range: Sequence[int] = (), k: int = 0) -> list[int]:
    """The K to fit: ``k_range`` (sized from the corpus by :func:`suggest_topic_settings` when
    empty) and a fixed ``k``, sorted."""
    k_range = tuple(k_range) or tuple(suggest_topic_settings(n_documents(corpus))["topics"]["k_range"])
    return sorted(set(k_range) | ({k} if k else set()))


def selection_parameters(settings: TopicSettings) -> dict:
    """The K-selection keyword arguments of :func:`select_k` from a study's ``[topics]`` settings.

    >>> from analysis.study.settings import TopicSettings
    >>> selection_parameters(TopicSettings(k_range=(2, 3)))
    {'k_range': (2, 3), 'seeds': (1, 2, 3), 'k': 0, 'stability_min': 0.6, 'coherence_topn': 10}
    """
    return {
        "k_range": settings.k_range,
        "seeds": settings.seeds,
        "k": settings.k,
        "stability_min": settings.stability_min,
        "coherence_topn": settings.coherence_topn,
    }


def select_k(
    corpus: TopicCorpus,
    *,
    k_range: Sequence[int] = (),
    seeds: Sequence[int] = (1, 2, 3),
    k: int = 0,
    stability_min: float = 0.6,
    coherence_topn: int = 10,
    search_units: int = 0,
    strata: Mapping[str, str] | None = None,
    sample_seed: int = 0,
    mapper: Callable = map,
    progress=None,
    **params,
) -> KSelection:
    """Fit every K of ``k_range`` (and a fixed ``k``) with every seed of ``seeds``; choose K.

    An empty ``k_range`` is sized from the corpus (:func:`candidate_ks`). Rule (when ``k == 0``):
    among K whose stability across seeds (:func:`stability`, Hellinger) is at least
    ``stability_min``, the K with the highest mean c_npmi (over each topic's ``coherence_topn``
    terms); ties go to the smaller K. If no K is stable enough, the highest mean c_npmi overall,
    and the reason says so. K larger than the number of units is skipped with a note. ``params``
    go to every fit (:func:`fit_lda`: ``engine`` and its keyword arguments; for a study,
    ``**fit_parameters(study.topics)``). ``mapper`` maps the (K, seed) fits (``map`` or a process
    pool's ``map``; each fit is single-process and seeded, so the result does not depend on it).
    ``progress`` (an :class:`analysis.topics.engines.Progress` or anything with ``advance(label)``) hears
    of every finished fit, in job order. ``search_units > 0``: the fits see a sample of about
    that many units (:func:`search_sample` with ``strata`` and ``sample_seed``; the study's is
    ``[topics] seed``), the range is still sized from the whole corpus. Raises ``ValueError``
    (starting with ``k`` or ``k_range``) when no K fits the corpus.

    Columns of ``summary``: ``model, k, fits, c_npmi, c_npmi_sd, u_mass, c_v, stability,
    stability_min, units_per_topic, chosen, reason``; of ``fits``: ``model, k, seed, c_npmi, u_mass,
    c_v, iterations`` (sweeps of the corpus the fit ran: Gibbs iterations or passes), ``stopped_by``
    (``convergence`` or the maximum).

    >>> c = build_corpus("x", [f"u{i}" for i in range(6)], [["sea", "ship"], ["ship", "sea"], ["sea", "ship"], ["tax",
    ...     "trade"], ["trade", "tax"], ["tax", "trade"]], no_below=1)
    >>> selection = select_k(c, k_range=(2, 3), seeds=(1, 2), max_iterations=30)
    >>> selection.summary["k"].tolist(), selection.k in (2, 3)
    ([2, 3], True)
    """
    search = search_sample(corpus, search_units, sample_seed, strata)
    jobs = selection_jobs(search, k_range=k_range, seeds=seeds, k=k)
    results = []
    for result in mapper(partial(_fit_job, search, params), jobs):
        results.append(result)
        if progress is not None:
            progress.advance(f"{corpus.name} K = {result[0]} seed {result[1]}")
    return selection_from_fits(
        search,
        results,
        k_range=k_range,
        seeds=seeds,
        k=k,
        stability_min=stability_min,
        coherence_topn=coherence_topn,
        units_total=corpus.n_units,
    )


def selection_jobs(
    corpus: TopicCorpus, *, k_range: Sequence[int] = (), seeds: Sequence[int] = (1, 2, 3), k: int = 0
) -> list[tuple[int, int]]:
    """The (K, seed) fits of K selection, after checking that some K fits the corpus."""
    candidates = candidate_ks(corpus, k_range, k)
    if k:
        check_k(corpus, k)
    feasible = [kk for kk in candidates if kk <= corpus.n_units]
    if not feasible:
        raise ValueError(
            f"k_range = {list(k_range)}: every K exceeds the {corpus.n_units} units with terms of "
            f"model '{corpus.name}': "
            f"add values of at most {corpus.n_units}"
        )
    return [(kk, seed) for kk in feasible for seed in seeds]


def selection_from_fits(
    corpus: TopicCorpus,
    results: Sequence[tuple[int, int, np.ndarray, dict]],
    *,
    k_range: Sequence[int] = (),
    seeds: Sequence[int] = (1, 2, 3),
    k: int = 0,
    stability_min: float = 0.6,
    coherence_topn: int = 10,
    units_total: int = 0,
    sample_note: str = "",
) -> KSelection:
    """Score the K-selection fits (:func:`coherence_many`) and choose K; see :func:`select_k`.

    ``corpus`` is what the fits saw; ``units_total`` the units of the model's final fit when the
    fits saw a sample of them (:func:`search_sample`): ``units_per_topic`` is then counted on the
    final fit's units, and the reason says that K was chosen on a sample, followed by
    ``sample_note`` (the rule that sized it, :func:`search_plan`)."""
    candidates = candidate_ks(corpus, k_range, k)
    sampled = units_total > corpus.n_units
    n_units = units_total if sampled else corpus.n_units
    feasible = sorted({kk for kk, _, _, _ in results})
    scored = coherence_many(corpus, [tw for _, _, tw, _ in results], topn=coherence_topn)
    means = [{m: float(np.nanmean(v)) if np.isfinite(v).any() else math.nan for m, v in sc.items()} for sc in scored]
    fits = pd.DataFrame(
        [
            (
                corpus.name,
                k,
                seed,
                *(mean[m] for m in COHERENCE_MEASURES),
                record.get("iterations", 0),
                record.get("stopped_by", ""),
            )
            for (k, seed, _, record), mean in zip(results, means)
        ],
        columns=["model", "k", "seed", *COHERENCE_MEASURES, "iterations", "stopped_by"],
    )
    rows = []
    for kk in candidates:
        if kk not in feasible:
            rows.append((corpus.name, kk, 0, *[math.nan] * 6, n_units / kk))
            continue
        mine = fits[fits["k"] == kk]
        stab_mean, stab_min = stability([tw for kkk, _, tw, _ in results if kkk == kk])
        rows.append(
            (
                corpus.name,
                kk,
                len(mine),
                mine["c_npmi"].mean(),
                mine["c_npmi"].std(ddof=1) if len(mine) > 1 else math.nan,
                mine["u_mass"].mean(),
                mine["c_v"].mean(),
                stab_mean,
                stab_min,
                n_units / kk,
            )
        )
    summary = pd.DataFrame(
        rows,
        columns=[
            "model",
            "k",
            "fits",
            "c_npmi",
            "c_npmi_sd",
            "u_mass",
            "c_v",
            "stability",
            "stability_min",
            "units_per_topic",
        ],
    )
    chosen, reason, reasons = _choose(summary, k, len(seeds), stability_min, corpus.n_units)
    if sampled and not k:
        note = f"; K chosen on a sample of {corpus.n_units} of the {units_total} units{sample_note}"
        reason += note
        reasons = [r + note if r.startswith("chosen") else r for r in reasons]
    summary["chosen"] = summary["k"] == chosen
    summary["reason"] = reasons
    return KSelection(corpus.name, fits, summary, chosen, reason)


def _choose(summary: pd.DataFrame, k: int, n_seeds: int, threshold: float, n_units: int) -> tuple[int, str, list[str]]:
    """The chosen K, the reason, and a reason for every row of ``summary``."""
    feasible = summary[summary["fits"] > 0]
    one_seed = n_seeds < 2
    if k:
        chosen = k
        reason = f"fixed in the study file ([topics] k = {k})"
    else:
        stable = feasible if one_seed else feasible[feasible["stability"] >= threshold]
        pool = stable if len(stable) else feasible
        # Highest c_npmi; NaN ranks last; ties to the smaller K (the summary is sorted by K).
        scores = pool["c_npmi"].fillna(-np.inf).to_numpy()
        best = pool.iloc[int(np.argmax(scores))]
        chosen = int(best["k"])
        if one_seed:
            reason = f"highest mean c_npmi ({best['c_npmi']:.3f}); stability not measured (one seed)"
        elif len(stable):
            reason = f"highest mean c_npmi ({best['c_npmi']:.3f}) among K with stability >= {threshold:g}"
        else:
            reason = (
                f"highest mean c_npmi ({best['c_npmi']:.3f}); no K reached stability >= {threshold:g} "
                f"(best {feasible['stability'].max():.2f}): topics change with the seed"
            )
    reasons = []
    best_score = float(summary.loc[summary["k"] == chosen, "c_npmi"].iloc[0])
    for row in summary.itertuples(index=False):
        if row.fits == 0:
            text = f"skipped: K = {row.k} is more than the {n_units} units"
        elif row.k == chosen:
            text = "chosen: " + reason
        elif k:
            text = f"not chosen: K is fixed at {k}"
        elif not one_seed and row.stability < threshold and len(feasible[feasible["stability"] >= threshold]):
            text = f"not chosen: stability {row.stability:.2f} < {threshold:g}"
        else:
            text = f"not chosen: c_npmi {row.c_npmi:.3f} vs {best_score:.3f}"
        if row.fits and row.units_per_topic < MIN_UNITS_PER_TOPIC:
            text += f"; only {row.units_per_topic:.1f} units per topic: exploratory"
        reasons.append(text)
    return chosen, reason, reasons


# ------------------------------------------------------------------- choose K: coarse to fine


def coarse_parameters(params: dict, iterations: int) -> dict:
    """The keyword arguments of a coarse K-selection fit: ``params`` (:func:`fit_parameters`) with
    at most ``iterations`` Gibbs iterations (tomotopy; passes with gensim) and no convergence rule.

    >>> coarse_parameters({"engine": "tomotopy", "max_iterations": 1000, "tolerance": 0.001}, 50)
    {'engine': 'tomotopy', 'max_iterations': 50, 'tolerance': 0.0}
    """
    key = "passes" if params.get("engine", "tomotopy") == "gensim" else "max_iterations"
    return {**params, key: int(iterations), "tolerance": 0.0}


def refine_seeds(final_seed: int, seeds: Sequence[int], n: int, *, minimum: int = 2) -> tuple[int, ...]:
    """The seeds of the coarse or refining fits: the final fit's seed first (so the chosen K's
    refining fit with it is the final model), then ``seeds`` in order, ``n`` in all (at least
    ``minimum``: stability needs a pair).

    >>> refine_seeds(20240405, (1, 2, 3), 2)
    (20240405, 1)
    """
    if n < minimum:
        raise ValueError(f"refine_seeds = {n}: at least {minimum} seeds (stability needs a pair)")
    return tuple(dict.fromkeys((final_seed, *seeds)))[:n]


def refine_candidates(coarse: pd.DataFrame, refine: int, stability_min: float = math.nan) -> list[int]:
    """The ``refine`` K of the coarse stage ranked as :func:`select_k` ranks K: those with coarse
    ``stability`` at least ``stability_min`` first (when the coarse stage had two seeds or more
    and ``stability_min`` is a number), then by highest c_npmi (NaN last, ties to the smaller K);
    returned in increasing order. ``coarse``: columns ``k``, ``c_npmi`` (and ``stability``).

    >>> refine_candidates(pd.DataFrame({"k": [2, 4, 8], "c_npmi": [0.05, 0.09, 0.09]}), 2)
    [4, 8]
    >>> coarse = pd.DataFrame({"k": [2, 4, 8], "c_npmi": [0.05, 0.09, 0.1], "stability": [0.9, 0.7, 0.5]})
    >>> refine_candidates(coarse, 1, 0.6), refine_candidates(coarse, 1)
    ([4], [8])
    """
    if refine < 1:
        raise ValueError(f"refine = {refine}: refine at least one K")
    stable = (
        coarse["stability"].fillna(-np.inf) >= stability_min
        if "stability" in coarse and not math.isnan(stability_min)
        else pd.Series(True, index=coarse.index)
    )
    ranked = coarse.assign(stable=stable, score=coarse["c_npmi"].fillna(-np.inf)).sort_values(
        ["stable", "score", "k"], ascending=[False, False, True]
    )
    return sorted(int(k) for k in ranked["k"].head(refine))


def coarse_scores(
    corpus: TopicCorpus, results: Sequence[tuple[int, int, np.ndarray, dict]], *, coherence_topn: int = 10
) -> pd.DataFrame:
    """One row per K of the coarse fits: ``k, fits, c_npmi`` (mean over topics and seeds),
    ``stability`` (:func:`stability` across the seeds; NaN with one seed), ``iterations``."""
    scored = coherence_many(corpus, [tw for _, _, tw, _ in results], topn=coherence_topn, measures=("c_npmi",))
    npmi = [float(np.nanmean(s["c_npmi"])) if np.isfinite(s["c_npmi"]).any() else math.nan for s in scored]
    rows = []
    for k in sorted({r[0] for r in results}):
        mine = [i for i, r in enumerate(results) if r[0] == k]
        rows.append(
            (
                k,
                len(mine),
                float(np.mean([npmi[i] for i in mine])),
                stability([results[i][2] for i in mine])[0],
                max(int(results[i][3].get("iterations", 0)) for i in mine),
            )
        )
    return pd.DataFrame(rows, columns=["k", "fits", "c_npmi", "stability", "iterations"])


def coarse_to_fine_selection(
    corpus: TopicCorpus,
    coarse: pd.DataFrame,
    results: Sequence[tuple[int, int, np.ndarray, dict]],
    *,
    seeds: Sequence[int],
    stability_min: float = 0.6,
    coherence_topn: int = 10,
    units_total: int = 0,
) -> KSelection:
    """K chosen among the refined K (:func:`selection_from_fits` on their fits with ``seeds``: the
    rule of :func:`select_k`), with the K dropped at the coarse stage added to the summary
    (``fits`` 0, their coarse c_npmi in ``c_npmi_coarse``, the reason saying why)."""
    refined = sorted({k for k, _, _, _ in results})
    selection = selection_from_fits(
        corpus,
        results,
        k_range=refined,
        seeds=seeds,
        stability_min=stability_min,
        coherence_topn=coherence_topn,
        units_total=units_total,
    )
    summary = selection.summary.copy()
    summary["c_npmi_coarse"] = summary["k"].map(dict(zip(coarse["k"], coarse["c_npmi"])))
    summary["stability_coarse"] = summary["k"].map(dict(zip(coarse["k"], coarse["stability"])))
    iterations = int(coarse["iterations"].max()) if len(coarse) else 0
    n_units = units_total if units_total > corpus.n_units else corpus.n_units
    dropped = [
        {
            "model": corpus.name,
            "k": int(row.k),
            "fits": 0,
            "units_per_topic": n_units / row.k,
            "c_npmi_coarse": row.c_npmi,
            "stability_coarse": row.stability,
            "chosen": False,
            "reason": f"dropped at the coarse stage: c_npmi {row.c_npmi:.3f}"
            + ("" if math.isnan(row.stability) else f", stability {row.stability:.2f}")
            + f" after {iterations} iterations",
        }
        for row in coarse.itertuples(index=False)
        if row.k not in refined
    ]
    summary = pd.concat([summary, pd.DataFrame(dropped)], ignore_index=True) if dropped else summary
    summary = summary.sort_values("k", kind="stable").reset_index(drop=True)
    reason = selection.reason + f"; among the {len(refined)} K ranked first after {iterations} iterations"
    summary.loc[summary["chosen"], "reason"] = "chosen: " + reason
    return KSelection(selection.name, selection.fits, summary, selection.k, reason)


def select_k_coarse(
    corpus: TopicCorpus,
    *,
    k_range: Sequence[int] = (),
    seeds: Sequence[int] = (1, 2, 3),
    final_seed: int = 20240405,
    stability_min: float = 0.6,
    coherence_topn: int = 10,
    coarse_iterations: int = 50,
    coarse_seeds: int = 2,
    refine: int = 1,
    n_refine_seeds: int = 2,
    mapper: Callable = map,
    **params,
) -> tuple[KSelection, tuple[int, int, np.ndarray, dict]]:
    """Choose K coarse to fine: short fits over the whole K range, full fits for the best few only.

    Why: the full search (:func:`select_k`) fits every K with every seed to convergence, and the
    fits at large K cost the most (a Gibbs sweep's cost grows with K, and they converge later),
    so it costs many final fits. Here (1) *coarse*: every candidate K with ``coarse_seeds``
    seeds (:func:`refine_seeds`: ``final_seed`` first) for ``coarse_iterations`` iterations and
    no convergence rule (:func:`coarse_parameters`), scored by mean c_npmi and stability across
    those seeds (:func:`coarse_scores`); (2) *fine*: the ``refine`` K ranked first by the rule
    of :func:`select_k` on the coarse scores (:func:`refine_candidates`) fitted to convergence
    with ``n_refine_seeds`` seeds (``final_seed`` first), and K chosen among them by that rule
    (stability across the refining seeds at least ``stability_min``, then the highest c_npmi).
    Every fit sees every unit, so stability is measured at the corpus's own size (a sample
    lowers it: ``benchmarks/README.md``), and the refining fit at the chosen K with
    ``final_seed`` is exactly the final model's fit (same units, K, seed and parameters): it is
    returned, so the final fit costs nothing more. Whether this chooses as well as the full
    search, and what it costs, is measured in ``benchmarks/topic_search.py --search coarse``.

    Returns ``(selection, (K, final_seed, phi, record))``; ``params`` go to every fit
    (:func:`fit_parameters`); ``mapper`` as in :func:`select_k`.
    """
    short = coarse_parameters(params, coarse_iterations)
    coarse_jobs = selection_jobs(
        corpus, k_range=k_range, seeds=refine_seeds(final_seed, seeds, coarse_seeds, minimum=1)
    )
    coarse = coarse_scores(
        corpus, list(mapper(partial(_fit_job, corpus, short), coarse_jobs)), coherence_topn=coherence_topn
    )
    fine_seeds = refine_seeds(final_seed, seeds, n_refine_seeds)
    jobs = [(k, s) for k in refine_candidates(coarse, refine, stability_min) for s in fine_seeds]
    results = list(mapper(partial(_fit_job, corpus, params), jobs))
    selection = coarse_to_fine_selection(
        corpus, coarse, results, seeds=fine_seeds, stability_min=stability_min, coherence_topn=coherence_topn
    )
    final = next(r for r in results if r[0] == selection.k and r[1] == final_seed)
    return selection, final


# ----------------------------------------------------------------------------- descriptions


def relevance(topic_word: np.ndarray, term_prob: np.ndarray, lam: float) -> np.ndarray:
    """Relevance of each term to each topic (Sievert & Shirley 2014, eq. 1).

    ``r(w, k | lambda) = lambda * log(phi_kw) + (1 - lambda) * log(phi_kw / p_w)``, where ``p_w``
    is the term's share of all tokens in the corpus. lambda = 1 ranks by probability, lambda = 0
    by lift (``phi_kw / p_w``); the authors' user study found lambda = 0.6 best.
    """
    log_phi = np.log(topic_word)
    return lam * log_phi + (1.0 - lam) * (log_phi - np.log(term_prob)[None, :])


def topic_terms(
    fit: LdaFit, term_freq=None, n: int = 10, lam: float = 0.6, gloss: Mapping[str, str] | None = None
) -> pd.DataFrame:
    """Top ``n`` terms of every topic, ranked by probability and (separately) by relevance.

    ``term_freq``: each vocabulary term's count in the corpus the model was fitted on (``(V,)``,
    in the order of ``fit.vocab``), or that corpus itself (a :class:`TopicCorpus`: its
    ``term_frequency()``), or None: the model's own term distribution ``mean(theta) · phi``
    (units weighted equally; the corpus's counts are exact).

    Columns: ``model, topic`` (from 1), ``ranking`` (``probability`` or ``relevance``), ``rank``,
    ``term``, ``probability`` (phi), ``lift`` (phi / p_w), ``relevance`` (:func:`relevance` at
    ``lam``), ``gloss`` (for concept tokens: the terms behind the concept). Ties go to the term
    that sorts first.

    By hand for the example (p = 0.35, 0.20, 0.45): lift of ``sea`` in topic 1 = 0.6/0.35 = 1.714,
    relevance = 0.6·ln 0.6 + 0.4·ln 1.714 = −0.091. In topic 2 ``sea`` and ``ship`` tie on
    probability (0.1); relevance prefers ``ship``, the rarer word (lift 0.5 against 0.286).

    >>> fit = LdaFit("en", 2, 1, np.array([[0.6, 0.3, 0.1], [0.1, 0.1, 0.8]]), np.full((2, 2), 0.5),
    ...              ("sea", "ship", "trade"), ("u1", "u2"), np.array([0.5, 0.5]))
    >>> t = topic_terms(fit, np.array([35.0, 20.0, 45.0]), n=2)
    >>> print(t[t["topic"] == 2][["ranking", "rank", "term", "probability", "lift",
    ...     "relevance"]].round(3).to_string(index=False))
        ranking  rank  term  probability  lift  relevance
    probability     1 trade          0.8 1.778      0.096
    probability     2   sea          0.1 0.286     -1.883
      relevance     1 trade          0.8 1.778      0.096
      relevance     2  ship          0.1 0.500     -1.659
    >>> topic_terms(fit, n=1)["term"].tolist()  # without counts: the model's own term distribution
    ['sea', 'sea', 'trade', 'trade']
    """
    if term_freq is None:
        term_freq = fit.doc_topic.mean(axis=0) @ fit.topic_word
    elif hasattr(term_freq, "term_frequency"):
        term_freq = term_freq.term_frequency()
    term_freq = np.asarray(term_freq, dtype=float)
    if term_freq.shape != (len(fit.vocab),):
        raise ValueError(
            f"term_freq has shape {term_freq.shape}: give one count per vocabulary term ({len(fit.vocab)}), "
            "e.g. corpus.term_frequency() of the model's TopicCorpus, or leave it out"
        )
    term_prob = term_freq / term_freq.sum()
    rel = relevance(fit.topic_word, term_prob, lam)
    lift = fit.topic_word / term_prob[None, :]
    gloss = gloss or {}
    order_terms = np.argsort(np.asarray(fit.vocab, dtype=object), kind="stable")
    alpha_rank = np.empty_like(order_terms)
    alpha_rank[order_terms] = np.arange(len(order_terms))
    rows = []
    for t in range(fit.k):
        for ranking, values in (("probability", fit.topic_word[t]), ("relevance", rel[t])):
            order = np.lexsort((alpha_rank, -values))[:n]
            for rank, j in enumerate(order, start=1):
                term = fit.vocab[j]
                rows.append(
                    (
                        fit.name,
                        t + 1,
                        ranking,
                        rank,
                        term,
                        fit.topic_word[t, j],
                        lift[t, j],
                        rel[t, j],
                        gloss.get(term, ""),
                    )
                )
    return pd.DataFrame(
        rows, columns=["model", "topic", "ranking", "rank", "term", "probability", "lift", "relevance", "gloss"]
    )


def representative_units(fit: LdaFit, texts: Mapping[str, str], *, n: int = 3, max_chars: int = 300) -> pd.DataFrame:
    """Per topic the ``n`` units with the highest share of that topic, with their text.

    Columns: ``model, topic`` (from 1), ``rank, unit_id, share`` (theta), ``text`` (cut to
    ``max_chars`` with an ellipsis). Ties go to the earlier unit.
    """
    rows = []
    for t in range(fit.k):
        order = np.argsort(-fit.doc_topic[:, t], kind="stable")[:n]
        for rank, i in enumerate(order, start=1):
            unit_id = fit.unit_ids[i]
            text = texts.get(unit_id, "")
            if len(text) > max_chars:
                text = text[: max_chars - 1].rstrip() + "…"
            rows.append((fit.name, t + 1, rank, unit_id, fit.doc_topic[i, t], text))
    return pd.DataFrame(rows, columns=["model", "topic", "rank", "unit_id", "share", "text"])


# ------------------------------------------------------------------------------- prevalence


def prevalence(
    doc_topic: np.ndarray,
    groups: Sequence[str],
    clusters: Sequence[str],
    *,
    rng: np.random.Generator,
    n_boot: int = 2000,
    level: float = 0.95,
) -> pd.DataFrame:
    """Mean topic share per group with studentized cluster-bootstrap intervals.

    ``prevalence(g, k) = mean over units u in g of theta[u, k]`` (a ratio of cluster sums:
    ``Σ_c Σ_{u in c} theta[u, k] / Σ_c m_c``). The interval resamples whole clusters (documents:
    the cluster bootstrap, because sentence windows of one article are not independent; pass unit
    ids as ``clusters`` to resample units) with replacement within the group, ``n_boot`` times,
    and is the studentized (bootstrap-t) interval of that ratio,
    :func:`analysis.stats.resampling.studentized_interval` (Davison & Hinkley 1997, eq. 5.7 and §3.7),
    cut to [0, 1]: the framing intervals use the same method because percentile intervals
    under-cover at small n (77% at 5 documents, 87% at 10; benchmarks/README.md). A
    group with one cluster has no interval (NaN); below :data:`MIN_DOCS_PER_GROUP` clusters the
    ``note`` says the interval does not mean much.

    Groups are sorted; ``rng`` is consumed group by group in that order. Columns: ``group, topic``
    (from 1), ``units, clusters, prevalence, ci_low, ci_high, note``.
    """
    groups = np.asarray([str(g) for g in groups], dtype=object)
    clusters = np.asarray([str(c) for c in clusters], dtype=object)
    k = doc_topic.shape[1]
    rows = []
    for group in sorted(set(groups)):
        members = np.flatnonzero(groups == group)
        names, inverse = np.unique(clusters[members], return_inverse=True)
        sums = np.zeros((len(names), k))
        np.add.at(sums, inverse, doc_topic[members])
        sizes = np.bincount(inverse, minlength=len(names)).astype(float)
        estimate = sums.sum(axis=0) / sizes.sum()
        if n_boot > 0:
            low, high = studentized_interval(
                sums, n_resamples=n_boot, rng=rng, level=level, sizes=sizes, support=(0.0, 1.0)
            )
        else:
            low = high = np.full(k, math.nan)
        note = ""
        if len(names) == 1:
            note = "one cluster only: the interval cannot show between-cluster variation"
        elif len(names) < MIN_DOCS_PER_GROUP:
            note = (
                f"only {len(names)} clusters (fewer than {MIN_DOCS_PER_GROUP}): too small, the "
                "interval does not mean much"
            )
        for t in range(k):
            rows.append((group, t + 1, len(members), len(names), estimate[t], low[t], high[t], note))
    return pd.DataFrame(
        rows, columns=["group", "topic", "units", "clusters", "prevalence", "ci_low", "ci_high", "note"]
    )


# ---------------------------------------------------------------------------- cross-lingual


def concept_key(term: str, language: str) -> str:
    """The key a term is looked up by in the concept map: lower case (English names keep a space)."""
    return term.lower()


def concept_tokens(
    terms: Iterable[str], language: str, concept_map: Mapping[str, Mapping[str, str]]
) -> tuple[str, ...]:
    """The concept ids of the terms that the map covers, in reading order; other terms are left out.

    ``concept_map`` is ``{"vi": {term: concept_id}, "en": {term_lowercase: concept_id}}``.

    >>> cmap = {"vi": {"hợp_tác": "cooperation"}, "en": {"cooperation": "cooperation"}}
    >>> concept_tokens(["hợp_tác", "kinh_tế", "hợp_tác"], "vi", cmap)
    ('cooperation', 'cooperation')
    """
    mapping = concept_map.get(language, {})
    return tuple(c for c in (mapping.get(concept_key(t, language)) for t in terms) if c is not None)


def concept_glosses(
    term_counts: Mapping[str, Mapping[str, int]], concept_map: Mapping[str, Mapping[str, str]], n: int = 2
) -> dict[str, str]:
    """For each concept, its most frequent terms per language: ``hợp_tác / cooperation``.

    ``term_counts`` is ``{language: {term: count}}`` over the corpus.
    """
    found: dict[str, dict[str, list[tuple[int, str]]]] = {}
    for language in sorted(term_counts):
        for term, count in term_counts[language].items():
            concept = concept_map.get(language, {}).get(concept_key(term, language))
            if concept is not None:
                found.setdefault(concept, {}).setdefault(language, []).append((-count, term))
    out = {}
    for concept, by_language in found.items():
        parts = [", ".join(t for _, t in sorted(by_language[lang])[:n]) for lang in ("vi", "en") if lang in by_language]
        out[concept] = " / ".join(parts)
    return out


def concept_projection(
    topic_word: np.ndarray,
    vocab: Sequence[str],
    *,
    language: str,
    concept_map: Mapping[str, Mapping[str, str]],
    concepts: Sequence[str],
) -> tuple[np.ndarray, np.ndarray]:
    """Each topic's probability mass on each concept, renormalised over concepts.

    ``psi[k, c] = sum of phi[k, w] over terms w mapped to c``, divided by the topic's mass on all
    concepts; returns ``(psi, mass)`` with ``mass[k]`` the share of topic k's probability that
    lies on mapped terms (a topic with no mass has a row of zeros).
    """
    index = {c: i for i, c in enumerate(concepts)}
    mapping = concept_map.get(language, {})
    rows, cols = [], []
    for j, term in enumerate(vocab):
        concept = mapping.get(concept_key(term, language))
        if concept in index:
            rows.append(j)
            cols.append(index[concept])
    indicator = sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(vocab), len(concepts)))
    raw = np.asarray(topic_word @ indicator)
    mass = raw.sum(axis=1)
    psi = np.divide(raw, mass[:, None], out=np.zeros_like(raw), where=mass[:, None] > 0)
    return psi, mass


def align_languages(
    fit_a: LdaFit,
    lang_a: str,
    fit_b: LdaFit,
    lang_b: str,
    concept_map: Mapping[str, Mapping[str, str]],
    *,
    n_shared: int = 5,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Match the topics of two single-language models through the concept map.

    Both topic-word matrices are projected onto the shared concepts (:func:`concept_projection`);
    the similarity of two topics is ``1 - JSD`` (Jensen-Shannon distance, base 2) of their concept
    distributions; topics are matched one-to-one at the highest total similarity
    (:func:`match_topics`). Returns

    * ``pairs``: ``topic_<a>, topic_<b>`` (from 1), ``similarity``, ``mass_<a>, mass_<b>`` (share
      of the topic on mapped terms), ``shared_concepts`` (the concepts with the largest
      ``min(psi_a, psi_b)``), ``note``;
    * ``matrix``: every pair in long form: ``topic_<a>, topic_<b>, similarity, matched``.

    In the example Vietnamese topic 1 puts the same shares on the two concepts as English topic
    2 (0.1 sea, 0.9 trade): similarity 1.

    >>> fit_vi = LdaFit("vi", 2, 1, np.array([[0.1, 0.9], [0.7, 0.3]]), np.full((2, 2), 0.5), ("biển", "thương_mại"),
    ...     ("v1", "v2"), np.array([0.5, 0.5]))
    >>> fit_en = LdaFit("en", 2, 1, np.array([[0.8, 0.2], [0.1, 0.9]]), np.full((2, 2), 0.5), ("sea", "trade"), ("e1",
    ...     "e2"), np.array([0.5, 0.5]))
    >>> concept_map = {"vi": {"biển": "sea", "thương_mại": "trade"}, "en": {"sea": "sea", "trade": "trade"}}
    >>> pairs, matrix = align_languages(fit_vi, "vi", fit_en, "en", concept_map)
    >>> print(pairs[["topic_vi", "topic_en", "similarity", "shared_concepts"]].round(3).to_string(index=False))
     topic_vi  topic_en  similarity shared_concepts
            1         2       1.000      trade, sea
            2         1       0.902      sea, trade
    """
    concepts = sorted(set(concept_map.get(lang_a, {}).values()) | set(concept_map.get(lang_b, {}).values()))
    psi_a, mass_a = concept_projection(
        fit_a.topic_word, fit_a.vocab, language=lang_a, concept_map=concept_map, concepts=concepts
    )
    psi_b, mass_b = concept_projection(
        fit_b.topic_word, fit_b.vocab, language=lang_b, concept_map=concept_map, concepts=concepts
    )
    similarity = 1.0 - jensen_shannon_matrix(psi_a, psi_b)
    matched = match_topics(psi_a, psi_b, "jensen_shannon")
    pairs = []
    for row in matched.itertuples(index=False):
        i, j = int(row.topic_a), int(row.topic_b)
        shared = np.minimum(psi_a[i], psi_b[j])
        top = [concepts[c] for c in np.lexsort((np.arange(len(concepts)), -shared)) if shared[c] > 0][:n_shared]
        note = ""
        if min(mass_a[i], mass_b[j]) < 0.05:
            note = "under 5% of a topic's probability is on codebook terms: weak evidence"
        pairs.append((i + 1, j + 1, similarity[i, j], mass_a[i], mass_b[j], ", ".join(top), note))
    pairs_df = pd.DataFrame(
        pairs,
        columns=[
            f"topic_{lang_a}",
            f"topic_{lang_b}",
            "similarity",
            f"mass_{lang_a}",
            f"mass_{lang_b}",
            "shared_concepts",
            "note",
        ],
    )
    is_match = set(zip(matched["topic_a"], matched["topic_b"]))
    matrix = pd.DataFrame(
        [
            (i + 1, j + 1, similarity[i, j], (i, j) in is_match)
            for i in range(similarity.shape[0])
            for j in range(similarity.shape[1])
        ],
        columns=[f"topic_{lang_a}", f"topic_{lang_b}", "similarity", "matched"],
    )
    return pairs_df, matrix


# ------------------------------------------------------------------------------ saved model


def model_record(
    fit: LdaFit,
    corpus: TopicCorpus,
    selection: KSelection,
    *,
    engine: str = "tomotopy",
    no_below: int = 2,
    no_above: float = 1.0,
    keep_n: int = 0,
) -> dict:
    """Plain description of a fit for ``settings.json`` beside the saved arrays (``engine`` and
    the dictionary filters are the ones the fit and :func:`build_corpus` used)."""
    record = dict(fit.record)
    return {
        "model": fit.name,
        "k": fit.k,
        "k_reason": selection.reason,
        "seed": fit.seed,
        "reproducible": fit.reproducible,
        "engine": record.get("engine", engine),
        "engine_version": record.get("version", engines.version(engine)),
        "estimator": record.get("estimator", ""),
        "gensim": metadata.version("gensim"),  # dictionary and coherence, whatever the engine
        "fit": record,
        "alpha_fitted": [float(a) for a in fit.alpha],
        "dictionary": {"no_below": no_below, "no_above": no_above, "keep_n": keep_n, "terms": len(corpus.vocab)},
        "units": corpus.n_units,
        "units_dropped": list(corpus.dropped),
        "files": {
            "topic_word.npy": "float64 (K, V): row t-1 is topic t; columns follow vocab.txt",
            "doc_topic.npy": "float64 (units, K): rows follow units.txt",
            "vocab.txt": "one term a line, sorted",
            "units.txt": "one unit id a line, corpus order",
        },
        "load": "numpy.load(path, allow_pickle=False)",
    }


# -------------------------------------------------------------------------------- sizing


def suggest_topic_settings(n_documents: int, n_languages: int = 1, seeds: Sequence[int] = (1, 2, 3)) -> dict:
    """Units and candidate numbers of topics for a corpus of ``n_documents`` documents.

    For ``init`` (which writes them into a new study file) and for a study that leaves
    ``[topics] k_range`` empty. Pure: the numbers depend only on the arguments.

    * Units: whole documents from 200 documents per language (enough units for a model, and the
      document is the unit of independent information); below that, windows of 3 sentences, so a
      small collection still gives a model something to fit (its topics are then exploratory).
    * K range: from 2 up to ``K_max = sqrt(n / 2)`` for the ``n = n_documents / n_languages``
      documents of one model (at least 5, at most 50; the square-root rule of thumb grows K
      slowly with the corpus), at most six values spaced geometrically, so the number of
      selection fits (six K x the seeds) stays the same whatever the size; their cost is bounded
      by fitting them on a sample of ``[topics] search_units`` units (:func:`search_sample`).
    * Seeds: three (stability across seeds needs at least two).

    Returns ``{"units": {"kind", "window"}, "topics": {"k_range", "seeds"}, "reason": str}``.

    >>> suggest_topic_settings(5)["topics"]["k_range"]
    [2, 3, 4, 5]
    >>> suggest_topic_settings(600, n_languages=2)["topics"]["k_range"], suggest_topic_settings(600, 2)["units"]["kind"]
    ([2, 3, 4, 6, 8, 12], 'document')
    """
    if n_documents < 0 or n_languages < 1:
        raise ValueError("n_documents must be >= 0 and n_languages >= 1")
    per_model = n_documents / n_languages
    k_max = int(min(50, max(5, round(math.sqrt(per_model / 2)))))
    if k_max - 1 <= 6:
        k_range = list(range(2, k_max + 1))
    else:
        k_range = sorted({round(2 * (k_max / 2) ** (i / 5)) for i in range(6)})
    small = per_model < 200
    units = {"kind": "sentences", "window": 3} if small else {"kind": "document", "window": 3}
    reason = (
        f"{n_documents} documents in {n_languages} language{'s' if n_languages > 1 else ''} "
        f"({per_model:.0f} per model): "
        f"{'windows of 3 sentences (fewer than 200 documents per model)' if small else 'documents as units'}, "
        f"K from 2 to sqrt({per_model:.0f} / 2) ~ {k_max}"
    )
    return {"units": units, "topics": {"k_range": k_range, "seeds": list(seeds)}, "reason": reason}
