"""Topic-model engines behind one plain interface: bag-of-words counts in, numpy arrays out.

Every engine takes the same input, a (units, terms) CSR count matrix whose columns follow one
sorted vocabulary (built once, with gensim's ``Dictionary``, by :func:`analysis.topics.lda.build_corpus`),
and returns an :class:`EngineFit`: topic-word ``phi`` (K, V) and doc-topic ``theta`` (units, K) as
float64 arrays whose rows sum to 1, the document-topic prior, and a plain ``record`` of what was
done (engine, version, priors, iterations run, whether the convergence rule stopped the fit, the
log-likelihood trace). Nothing downstream (relevance, alignment, prevalence, LDAvis, the
equivalence checks) sees an engine object, so every later step is engine-blind.

Engines
-------
``tomotopy`` (default): collapsed Gibbs sampling (Griffiths & Steyvers 2004) in C++ with SIMD,
``tomotopy.LDAModel`` (Lee 2022). One worker thread per fit (``train(workers=1,
parallel=ParallelScheme.NONE)``) and the study's seed: bit-reproducible. Parallelism comes from
fitting several (K, seed) pairs in separate processes, never from threads inside a fit.
``phi`` and ``theta`` are the posterior means given the final sample of topic assignments:
``phi[k, w] = (n_kw + eta) / (n_k + V eta)`` and ``theta[d, k] = (n_dk + alpha_k) / (n_d + sum
alpha)`` (Griffiths & Steyvers 2004, eqs. 6-7), computed here in float64 from the counts, once and
deterministically (no separate, randomly started inference pass).

``gensim``: online variational Bayes (Hoffman, Blei & Bach 2010), ``gensim.models.LdaModel``,
single process with a seeded ``RandomState``: bit-reproducible; ``LdaMulticore`` (``multicore``)
is not (gensim PR #2953) and is recorded as such. theta is inferred once, in corpus order, after
resetting the model's random state to the seed: ``theta[d] = gamma[d] / sum(gamma[d])``.

Convergence rule (both engines)
-------------------------------
``tolerance > 0``: the fit stops as soon as the mean log-likelihood per token over the last
``window`` sweeps of the corpus exceeds its mean over the ``window`` sweeps before by less than
``tolerance`` (:func:`converged`). tomotopy: its ``ll_per_word`` (the joint log-likelihood of
words and sampled topics per token), read every :data:`CHECK_EVERY` Gibbs iterations, at most
``max_iterations``; the defaults (tolerance 0.001 nats per token between windows of 100
iterations, at most 1,000) are compared with other choices in ``benchmarks/README.md``. gensim: the variational bound
per token
(``LdaModel.log_perplexity``, evaluated with the random state saved and restored, so the fit is
exactly the fit of that many passes), checked after every pass, at most ``passes``. The record
says how many sweeps ran and whether the rule or the maximum stopped the fit.
``tolerance = 0``: the maximum number of sweeps, as before.

References
----------
Griffiths & Steyvers (2004), Finding scientific topics, PNAS 101. Hoffman, Blei & Bach (2010),
Online learning for latent Dirichlet allocation, NIPS. Lee (2022), tomotopy,
https://github.com/bab2min/tomotopy.
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import metadata

import numpy as np
import scipy.sparse as sp

#: Engines a study can name in ``[topics] engine``.
ENGINES = ("tomotopy", "gensim")
#: The install command printed when an engine is missing.
INSTALL = {"tomotopy": "pip install tomotopy==0.14.0", "gensim": "pip install gensim"}
#: tomotopy: iterations between two log-likelihood checks (the window is a multiple of it).
CHECK_EVERY = 10
#: tomotopy's symmetric priors (its own defaults; Griffiths & Steyvers use a small eta as well).
TOMOTOPY_ALPHA = 0.1
TOMOTOPY_ETA = 0.01


@dataclass(frozen=True)
class EngineFit:
    """What an engine returns: plain arrays and a plain record (JSON-ready)."""

    topic_word: np.ndarray  # (K, V) float64, rows sum to 1
    doc_topic: np.ndarray  # (units, K) float64, rows sum to 1, rows in input order
    alpha: np.ndarray  # (K,) document-topic prior as fitted
    record: dict = field(default_factory=dict)
    reproducible: bool = True


def require(engine: str):
    """Import an engine's package, or raise one clear line with the install command
    (``ValueError`` starting with ``engine``; a stage names the study key)."""
    if engine not in ENGINES:
        raise ValueError(f"engine = '{engine}' is not known: use one of {', '.join(ENGINES)}")
    try:
        if engine == "tomotopy":
            import tomotopy as module
        else:
            import gensim as module
    except ImportError as exc:
        raise ValueError(
            f"engine = '{engine}' needs the {engine} package, which is not installed ({exc}): "
            f"{INSTALL[engine]}, or set engine = '{'gensim' if engine == 'tomotopy' else 'tomotopy'}'"
        ) from None
    return module


def version(engine: str) -> str:
    """The installed version of an engine's package ("not installed" when absent)."""
    try:
        return metadata.version(engine)
    except metadata.PackageNotFoundError:
        return "not installed"


def _normalise_rows(matrix) -> np.ndarray:
    m = np.asarray(matrix, dtype=np.float64)
    return m / m.sum(axis=1, keepdims=True)


def converged(trace: Sequence[float], window_checks: int, tolerance: float) -> bool:
    """The convergence rule on a trace of log-likelihoods per token, one value per check.

    ``trace[0]`` is the starting point; with ``w = window_checks``, True when there are at least
    two whole windows after it and the mean of the last ``w`` values exceeds the mean of the ``w``
    before them by less than ``tolerance`` (a fall counts as no improvement). Means of windows,
    not single values: a Gibbs sampler's log-likelihood jitters from sample to sample by about as
    much as it still climbs late in a fit, so single values stop it on a lucky dip.

    >>> converged([-9.0, -8.0, -7.999], 1, 0.01), converged([-9.0, -8.0, -7.0], 1, 0.01)
    (True, False)
    >>> converged([-9.0, -8.0, -7.0, -7.002, -6.999], 2, 0.01)  # means -7.5 then -7.0005
    False
    """
    w = window_checks
    if tolerance <= 0 or w < 1 or len(trace) < 2 * w + 1:
        return False
    return float(np.mean(trace[-w:])) - float(np.mean(trace[-2 * w : -w])) < tolerance


# --------------------------------------------------------------------------------- tomotopy


def tomotopy_priors(k: int, alpha, eta) -> tuple[list[float], float, int]:
    """tomotopy's ``alpha`` (list of K), ``eta`` and ``optim_interval`` for the study's names.

    ``symmetric``: alpha 0.1 and eta 0.01 for every topic (tomotopy's defaults); ``asymmetric``:
    gensim's ``1 / (k + sqrt(K))`` for topic k (numbered from 0), normalised to sum to 1;
    ``auto``: alpha starts at 0.1 and is re-estimated every 10 iterations (tomotopy's
    ``optim_interval``, Minka's fixed point); a number: that value.
    """
    optim = 0
    if alpha == "symmetric":
        alphas = [TOMOTOPY_ALPHA] * k
    elif alpha == "asymmetric":
        raw = np.array([1.0 / (i + math.sqrt(k)) for i in range(k)])
        alphas = (raw / raw.sum()).tolist()
    elif alpha == "auto":
        alphas, optim = [TOMOTOPY_ALPHA] * k, 10
    else:
        alphas = [float(alpha)] * k
    eta_value = TOMOTOPY_ETA if eta == "symmetric" else float(eta)
    return alphas, eta_value, optim


@dataclass
class TomotopyTraining:
    """A tomotopy model trained by the toolkit's loop (:func:`train_tomotopy`), with what the loop did."""

    model: object  # tomotopy.LDAModel
    alpha: object  # the setting: "symmetric", "asymmetric", "auto" or a number
    alphas: list[float]  # the starting alpha per topic
    eta: float
    optim_interval: int  # 0: alpha fixed; 10: re-estimated every 10 iterations (``auto``)
    max_iterations: int
    tolerance: float
    window_checks: int  # checks per window of the convergence rule
    trace: list[float]  # ll_per_word at iteration 0, CHECK_EVERY, 2 CHECK_EVERY, ...
    iterations: int
    stopped: bool  # True: the convergence rule stopped the fit; False: max_iterations did


def train_tomotopy(
    counts: sp.csr_matrix,
    vocab: Sequence[str],
    k: int,
    seed: int,
    *,
    alpha="symmetric",
    eta="symmetric",
    max_iterations: int = 1000,
    tolerance: float = 0.0,
    window: int = 100,
) -> TomotopyTraining:
    """The Gibbs sampling of :func:`fit_tomotopy`, returning the trained model itself.

    One thread, seeded; the documents added in row order (each term repeated by its count); the
    priors from :func:`tomotopy_priors`, including ``optim_interval`` (tomotopy re-estimates alpha
    every 10 iterations unless told 0, so the toolkit sets it); ``train`` in steps of
    :data:`CHECK_EVERY` iterations until :func:`converged` or ``max_iterations``. A caller that needs
    more than the final sample (e.g. further sweeps, as ``benchmarks/topic_stability.py`` runs)
    continues from ``model``."""
    tp = require("tomotopy")
    alphas, eta_value, optim = tomotopy_priors(k, alpha, eta)
    model = tp.LDAModel(k=k, alpha=alphas, eta=eta_value, seed=int(seed), min_cf=0, rm_top=0)
    model.optim_interval = optim
    vocab_array = np.asarray(vocab, dtype=object)
    counts = sp.csr_matrix(counts)
    for i in range(counts.shape[0]):
        start, end = counts.indptr[i], counts.indptr[i + 1]
        model.add_doc(np.repeat(vocab_array[counts.indices[start:end]], counts.data[start:end]).tolist())
    model.train(0, workers=1, parallel=tp.ParallelScheme.NONE)  # initial assignments
    window_checks = max(1, -(-window // CHECK_EVERY))
    trace = [float(model.ll_per_word)]
    done, stopped = 0, False
    while done < max_iterations:
        step = min(CHECK_EVERY, max_iterations - done)
        model.train(step, workers=1, parallel=tp.ParallelScheme.NONE)
        done += step
        trace.append(float(model.ll_per_word))
        if converged(trace, window_checks, tolerance):
            stopped = True
            break
    return TomotopyTraining(
        model, alpha, alphas, eta_value, optim, max_iterations, tolerance, window_checks, trace, done, stopped
    )


def fit_tomotopy(counts: sp.csr_matrix, vocab: Sequence[str], k: int, seed: int, **params) -> EngineFit:
    """Collapsed Gibbs LDA with tomotopy, one thread, seeded; see the module docstring. ``params``
    are :func:`train_tomotopy`'s (``alpha``, ``eta``, ``max_iterations``, ``tolerance``, ``window``)."""
    tp = require("tomotopy")
    counts = sp.csr_matrix(counts)
    training = train_tomotopy(counts, vocab, k, seed, **params)
    model, alpha, alphas, eta_value = training.model, training.alpha, training.alphas, training.eta
    window_checks, trace, done, stopped = training.window_checks, training.trace, training.iterations, training.stopped
    # Counts from the final sample, mapped from tomotopy's word ids to our vocabulary order.
    ours = {t: j for j, t in enumerate(vocab)}
    to_ours = np.array([ours.get(t, -1) for t in model.vocabs], dtype=np.int64)
    n_kw = np.zeros((k, len(vocab)))
    n_dk = np.zeros((counts.shape[0], k))
    for d, doc in enumerate(model.docs):
        topics_of = np.asarray(doc.topics, dtype=np.int64)
        np.add.at(n_kw, (topics_of, to_ours[np.asarray(doc.words, dtype=np.int64)]), 1.0)
        n_dk[d] = np.bincount(topics_of, minlength=k)
    alpha_fit = np.asarray(model.alpha, dtype=np.float64).reshape(-1)
    if alpha_fit.size == 1:
        alpha_fit = np.full(k, float(alpha_fit[0]))
    topic_word = _normalise_rows(n_kw + eta_value)
    doc_topic = _normalise_rows(n_dk + alpha_fit[None, :])
    record = {
        "engine": "tomotopy",
        "estimator": "tomotopy.LDAModel (collapsed Gibbs sampling)",
        "version": version("tomotopy"),
        "simd": str(getattr(tp, "isa", "")),
        "threads_per_fit": 1,
        "alpha": alpha if isinstance(alpha, str) else float(alpha),
        "alpha_start": [float(a) for a in alphas],
        "eta": float(eta_value),
        "optim_interval": training.optim_interval,
        "max_iterations": training.max_iterations,
        "tolerance": training.tolerance,
        "window": window_checks * CHECK_EVERY,
        "iterations": done,
        "stopped_by": "convergence" if stopped else "max_iterations",
        "ll_per_token": [round(v, 6) for v in trace],  # at iteration 0, 10, 20, ...
        "ll_checked_every": CHECK_EVERY,
        "doc_topic": "(n_dk + alpha_k) / (n_d + sum alpha) from the final sample",
        "topic_word": "(n_kw + eta) / (n_k + V eta) from the final sample",
    }
    return EngineFit(topic_word, doc_topic, alpha_fit, record, True)


# ----------------------------------------------------------------------------------- gensim


def training_order(n_units: int, seed: int, shuffle: bool = True) -> np.ndarray:
    """The order in which units are shown to gensim's online fit: ``RandomState(seed).permutation``,
    or corpus order when ``shuffle`` is off.

    Why: online variational Bayes (Hoffman, Blei & Bach 2010) assumes documents arrive in random
    order. A corpus sorted by outlet, date or category feeds it whole chunks of one kind, and later
    chunks are weighted less (learning rate ``(tau0 + t)^-kappa``); on a corpus sorted by category
    the shuffled order recovers the categories better (``benchmarks/README.md``, "Design
    measurements"). Gibbs sampling (tomotopy) sweeps every document each iteration and needs no
    shuffle.

    >>> training_order(5, 1).tolist(), training_order(5, 1, shuffle=False).tolist()
    ([2, 1, 4, 0, 3], [0, 1, 2, 3, 4])
    """
    if not shuffle:
        return np.arange(n_units)
    return np.random.RandomState(seed).permutation(n_units)


def bag_of_words(counts: sp.csr_matrix) -> list[list[tuple[int, int]]]:
    """gensim's bag-of-words: per unit, ``(term index, count)`` sorted by index."""
    c = sp.csr_matrix(counts)
    return [
        list(zip(c.indices[c.indptr[i] : c.indptr[i + 1]].tolist(), c.data[c.indptr[i] : c.indptr[i + 1]].tolist()))
        for i in range(c.shape[0])
    ]


def gensim_dictionary(vocab: Sequence[str]):
    """A gensim Dictionary whose ids are the positions in our sorted ``vocab``."""
    from gensim.corpora import Dictionary

    dictionary = Dictionary([list(vocab)])  # new tokens get ids in sorted order
    if any(dictionary.token2id[t] != j for j, t in enumerate(vocab)):
        raise AssertionError("gensim assigned dictionary ids out of vocabulary order")
    return dictionary


def fit_gensim(
    counts: sp.csr_matrix,
    vocab: Sequence[str],
    k: int,
    seed: int,
    *,
    passes: int = 20,
    iterations: int = 400,
    alpha="symmetric",
    eta="symmetric",
    chunksize: int = 2000,
    eval_every: int = 0,
    shuffle: bool = True,
    multicore: bool = False,
    workers: int = 1,
    tolerance: float = 0.0,
    window: int = 1,
) -> EngineFit:
    """Online variational LDA with gensim; see the module docstring.

    With ``tolerance > 0`` the passes run one at a time, each an ``update(passes=1, offset=1 +
    pass)`` with the corpus counted once and later M-steps marked as extra passes, which is what
    one call with ``passes`` does (test: the same matrices as a bare ``LdaModel`` with the number
    of passes run); the bound per token is checked after each; ``window`` counts passes.
    """
    require("gensim")
    from gensim.models import LdaModel, LdaMulticore

    bow = bag_of_words(counts)
    train = [bow[i] for i in training_order(len(bow), seed, shuffle)]
    dictionary = gensim_dictionary(vocab)
    params = {"iterations": iterations, "alpha": alpha, "eta": eta, "chunksize": chunksize, "eval_every": eval_every}
    trace: list[float] = []
    done, stopped = passes, False
    if multicore:
        model = LdaMulticore(
            corpus=train,
            id2word=dictionary,
            num_topics=k,
            random_state=np.random.RandomState(seed),
            workers=max(1, workers - 1),
            passes=passes,
            **params,
        )
    elif tolerance <= 0:
        model = LdaModel(
            corpus=train,
            id2word=dictionary,
            num_topics=k,
            random_state=np.random.RandomState(seed),
            passes=passes,
            update_every=1,
            **params,
        )
    else:
        model = LdaModel(
            corpus=None,
            id2word=dictionary,
            num_topics=k,
            random_state=np.random.RandomState(seed),
            passes=passes,
            update_every=1,
            **params,
        )
        first_pass_mstep = model.do_mstep
        for done in range(1, passes + 1):
            if done > 1:
                # What one call with several passes does after its first pass: the corpus is
                # counted once (numdocs scales the blend of statistics) and M-steps are "extra
                # passes" that no longer advance num_updates (the learning-rate clock).
                model.state.numdocs -= len(train)
                model.do_mstep = lambda rho, other, extra_pass=False: first_pass_mstep(rho, other, True)
            model.update(train, passes=1, offset=float(done))  # offset 1 + pass index, as in one call
            state = model.random_state.get_state()
            trace.append(float(model.log_perplexity(train)))  # the bound per token
            model.random_state.set_state(state)  # evaluation must not change the fit
            if converged(trace, max(1, window), tolerance):
                stopped = True
                break
    topic_word = _normalise_rows(model.get_topics())
    model.random_state = np.random.RandomState(seed)  # inference starts from random gammas
    gamma, _ = model.inference(bow)
    doc_topic = _normalise_rows(gamma)
    record = {
        "engine": "gensim",
        "estimator": "gensim.models.LdaMulticore" if multicore else "gensim.models.LdaModel",
        "version": version("gensim"),
        "passes": passes,
        "iterations_per_document": iterations,
        "alpha": alpha if isinstance(alpha, str) else float(alpha),
        "eta": eta if isinstance(eta, str) else float(eta),
        "chunksize": chunksize,
        "eval_every": eval_every,
        "update_every": 1,
        "training_order": f"numpy.random.RandomState({seed}).permutation(units)" if shuffle else "corpus order",
        "tolerance": 0 if multicore else tolerance,  # LdaMulticore runs every pass
        "window": window if tolerance > 0 and not multicore else 0,
        "iterations": done,
        "stopped_by": "convergence" if stopped else "passes",
        "ll_per_token": [round(v, 6) for v in trace],
    }
    return EngineFit(topic_word, doc_topic, np.asarray(model.alpha, dtype=np.float64), record, not multicore)


def fit(engine: str, counts: sp.csr_matrix, vocab: Sequence[str], k: int, *, seed: int, **params) -> EngineFit:
    """Fit ``engine`` ("tomotopy" or "gensim") with its explicit parameters (see the two fitters).

    Raises ``ValueError`` (starting with ``engine``) for an unknown or uninstalled engine."""
    if engine == "tomotopy":
        return fit_tomotopy(counts, vocab, k, seed, **params)
    if engine == "gensim":
        return fit_gensim(counts, vocab, k, seed, **params)
    require(engine)  # raises the clear line for an unknown engine
    raise AssertionError(engine)


# --------------------------------------------------------------------------------- progress


class Progress:
    """A minimal progress display on stderr: fits done of all, the fit just finished, time left.

    Swappable: anything with ``start(total)`` and ``advance(label)`` does (e.g. i14b's
    ``analysis.progress`` once it lands). Time left = mean time per fit so far x fits left.
    On a terminal (``live``) one line is rewritten after every fit; in a log file a line is
    written at every 10% of the fits and at the end. Silent when ``stream`` is None.
    """

    def __init__(self, stream=sys.stderr, clock=time.monotonic, live: bool | None = None):
        self.stream, self.clock = stream, clock
        self.live = (
            live if live is not None else bool(stream is not None and getattr(stream, "isatty", lambda: False)())
        )
        self.total = self.done = 0
        self.started = 0.0

    def start(self, total: int) -> None:
        self.total, self.done, self.started = total, 0, self.clock()

    def advance(self, label: str) -> None:
        self.done += 1
        if self.stream is None:
            return
        last = self.done >= self.total
        if (
            not self.live
            and not last
            and (self.done * 10) // max(1, self.total) == ((self.done - 1) * 10) // max(1, self.total)
        ):
            return
        elapsed = self.clock() - self.started
        left = elapsed / self.done * (self.total - self.done)
        text = (
            f"topics: {self.done}/{self.total} fits ({label}), {_duration(elapsed)} so far, "
            f"about {_duration(left)} left"
        )
        self.stream.write(f"\r{text}   " + ("\n" if last else "") if self.live else text + "\n")
        self.stream.flush()


class NoProgress:
    def start(self, total: int) -> None:
        pass

    def advance(self, label: str) -> None:
        pass


def _duration(seconds: float) -> str:
    seconds = round(seconds)
    return f"{seconds // 60}m{seconds % 60:02d}s" if seconds >= 60 else f"{seconds}s"
