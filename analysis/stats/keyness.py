"""Keyness: which terms (or concept ids) are characteristic of a target group against a reference.

One function, :func:`keyness`, takes two count vectors over one vocabulary and returns a tidy table
with every statistic a reviewer may ask for:

* **G²**, the log-likelihood ratio (Dunning 1993), on the 2×2 table ``[[a, b], [c, d]]`` of the
  term (``a`` in the target, ``b`` in the reference) and all other tokens (``c``, ``d``)::

      G² = 2 Σ_ij O_ij ln(O_ij / E_ij),   E_ij = row_i · col_j / N

  with no continuity correction by default; ``correction="yates"`` moves every observed count
  0.5 towards its expectation first (as ``scipy.stats.chi2_contingency(correction=True)``);
  ``correction="williams"`` divides by Williams' (1976) ``q = 1 + (N Σ 1/row_i − 1)(N Σ 1/col_j − 1)
  / (6 N (r − 1)(c − 1))``. Equals ``scipy.stats.power_divergence(O, E, lambda_="log-likelihood")``.
* **χ²**, Pearson's ``Σ (O − E)² / E`` on the same table (same correction).
* ``p`` from the χ² distribution with one degree of freedom, and Benjamini–Hochberg ``q`` values
  over all terms of the comparison (``scipy.stats.false_discovery_control``).
* **Log Ratio** (Hardie 2014): ``log2((a / N_t) / (b / N_r))``, the effect size (each unit is a
  doubling). Zero handling: a zero count is replaced by 0.5 before normalising (Hardie's CQPweb
  convention), so a term absent from one side gets a finite, conservative value.
* **Fightin' Words** (Monroe, Colaresi & Quinn 2008, eqs. 16–22): log-odds with an informative
  Dirichlet prior ``α_w = α0 · π_w`` (``π`` the pooled relative frequency of both groups)::

      δ_w = ln((y_tw + α_w) / (n_t + α0 − y_tw − α_w)) − ln((y_rw + α_w) / (n_r + α0 − y_rw − α_w))
      σ²(δ_w) ≈ 1 / (y_tw + α_w) + 1 / (y_rw + α_w),   z_w = δ_w / σ(δ_w)

Every signed statistic (``g2``, ``chi2``, ``log_ratio``, ``fw_delta``, ``fw_z``) is positive when
the term is relatively more frequent in the target and negative when in the reference, so swapping
the groups flips every sign (quanteda's ``textstat_keyness`` convention).

Columns follow the two-group schema of :mod:`analysis.stats.comparison`: the target is group
``a`` (``group_a``, ``n_a``, ``count_a``, ``per_1000_a``, ``mean_a``) and the reference group ``b``
(a group, or ``rest``), so a positive statistic always means "more frequent in ``group_a``".

Pure: numpy arrays in, a DataFrame out.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterator, Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import sparse, stats

from ..study.settings import MIN_GROUP_DOCS
from ..text.dtm import DocTermMatrix
from .comparison import comparison_order
from .groups import _positive, group_order, group_pairs, keyed_rng, too_small_note
from .resampling import MAX_RESAMPLES, mean_rate_difference, permutation_keyness, unit_rates

#: Defaults of :func:`keyness_by_group`'s document-level test: ``[framing] permutations`` and
#: ``[framing] seed`` of a study that leaves them unset (tests check they agree).
KEYNESS_RESAMPLES = 5000
KEYNESS_SEED = 20240404

CORRECTIONS = ("none", "yates", "williams")
#: Columns of :func:`keyness`. Group ``a`` is the target, ``b`` the reference (``count_a``: the
#: term's count in the target).
KEYNESS_COLUMNS = [
    "term",
    "count_a",
    "count_b",
    "per_1000_a",
    "per_1000_b",
    "g2",
    "chi2",
    "p",
    "q",
    "log_ratio",
    "fw_delta",
    "fw_z",
]


def contingency(target: np.ndarray, reference: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Observed and expected 2×2 tables per term, shape ``(n_terms, 2, 2)``.

    Rows: the term, every other token; columns: target, reference.
    """
    a = np.asarray(target, dtype=float)
    b = np.asarray(reference, dtype=float)
    n_t, n_r = a.sum(), b.sum()
    observed = np.stack([np.stack([a, b], axis=-1), np.stack([n_t - a, n_r - b], axis=-1)], axis=1)
    rows = observed.sum(axis=2, keepdims=True)
    cols = observed.sum(axis=1, keepdims=True)
    total = observed.sum(axis=(1, 2), keepdims=True)
    expected = rows * cols / total
    return observed, expected


def _yates(observed: np.ndarray, expected: np.ndarray) -> np.ndarray:
    """Move each observed count 0.5 towards its expectation (never past it)."""
    diff = expected - observed
    return observed + np.sign(diff) * np.minimum(0.5, np.abs(diff))


def g2_statistic(observed: np.ndarray, expected: np.ndarray) -> np.ndarray:
    """``2 Σ O ln(O/E)`` over the last two axes; a cell with ``O = 0`` contributes 0."""
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(observed > 0, observed * np.log(observed / expected), 0.0)
    return 2.0 * terms.sum(axis=(-2, -1))


def chi2_statistic(observed: np.ndarray, expected: np.ndarray) -> np.ndarray:
    """Pearson's ``Σ (O − E)² / E`` over the last two axes (cells with ``E = 0`` contribute 0)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(expected > 0, (observed - expected) ** 2 / expected, 0.0)
    return terms.sum(axis=(-2, -1))


def williams_q(observed: np.ndarray) -> np.ndarray:
    """Williams' (1976) correction factor for an r×c table (here 2×2), one per term."""
    rows = observed.sum(axis=2)
    cols = observed.sum(axis=1)
    n = observed.sum(axis=(1, 2))
    r, c = observed.shape[1], observed.shape[2]
    with np.errstate(divide="ignore"):
        inv_rows = np.where(rows > 0, 1.0 / rows, 0.0).sum(axis=1)
        inv_cols = np.where(cols > 0, 1.0 / cols, 0.0).sum(axis=1)
    return 1.0 + (n * inv_rows - 1.0) * (n * inv_cols - 1.0) / (6.0 * n * (r - 1) * (c - 1))


def log_ratio(target: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Hardie's (2014) Log Ratio, ``log2`` of the ratio of relative frequencies; zeros -> 0.5."""
    a = np.asarray(target, dtype=float)
    b = np.asarray(reference, dtype=float)
    n_t, n_r = a.sum(), b.sum()
    a = np.where(a == 0, 0.5, a)
    b = np.where(b == 0, 0.5, b)
    return np.log2((a / n_t) / (b / n_r))


def fightin_words(target: np.ndarray, reference: np.ndarray, alpha0: float = 100.0) -> tuple[np.ndarray, np.ndarray]:
    """Monroe, Colaresi & Quinn (2008) log-odds ratio with an informative Dirichlet prior.

    The prior spreads ``alpha0`` pseudo-tokens over the vocabulary like the pooled counts of both
    groups. Returns ``(delta, z)``.
    """
    y_t = np.asarray(target, dtype=float)
    y_r = np.asarray(reference, dtype=float)
    pooled = y_t + y_r
    alpha = alpha0 * pooled / pooled.sum() if pooled.sum() else np.zeros_like(pooled)
    a0 = alpha.sum()
    n_t, n_r = y_t.sum(), y_r.sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        delta = np.log((y_t + alpha) / (n_t + a0 - y_t - alpha)) - np.log((y_r + alpha) / (n_r + a0 - y_r - alpha))
        variance = 1.0 / (y_t + alpha) + 1.0 / (y_r + alpha)
        z = delta / np.sqrt(variance)
    return delta, z


def keyness(
    target: Sequence[float],
    reference: Sequence[float],
    vocab: Sequence[str],
    *,
    correction: str = "none",
    alpha0: float = 100.0,
) -> pd.DataFrame:
    """Keyness of every term of ``vocab`` with a positive count in either group.

    Parameters
    ----------
    target, reference : array of shape (n_terms,)
        Counts of each term in the target and the reference group.
    vocab : sequence of str, length n_terms
        The terms (or concept ids).
    correction : {"none", "yates", "williams"}
        Continuity correction of G² and χ² (default none, as Dunning 1993).
    alpha0 : float
        Fightin' Words prior strength in pseudo-tokens.

    Returns
    -------
    DataFrame with columns ``term, count_a, count_b, per_1000_a, per_1000_b, g2, chi2, p, q,
    log_ratio, fw_delta, fw_z`` (``a`` the target, ``b`` the reference), sorted by signed ``g2``
    (most characteristic of the target first), ties by term. ``p`` is from G² (χ², 1 df).

    Examples
    --------
    >>> t = keyness([30, 10, 10], [5, 10, 35], ["hợp_tác", "biển", "kinh_tế"])
    >>> t["term"].tolist(), bool(t["g2"].iloc[0] > 0), bool(t["g2"].iloc[-1] < 0)
    (['hợp_tác', 'biển', 'kinh_tế'], True, True)
    """
    if correction not in CORRECTIONS:
        raise ValueError(f"unknown correction {correction!r}; use one of {CORRECTIONS}")
    a = np.asarray(target, dtype=float)
    b = np.asarray(reference, dtype=float)
    if a.shape != b.shape or a.shape[0] != len(vocab):
        raise ValueError("target, reference and vocab must have the same length")
    keep = (a + b) > 0
    n_t, n_r = a.sum(), b.sum()
    if n_t == 0 or n_r == 0:
        return pd.DataFrame(columns=KEYNESS_COLUMNS)
    observed, expected = contingency(a, b)
    if correction == "yates":
        observed_c = _yates(observed, expected)
    else:
        observed_c = observed
    g2 = g2_statistic(observed_c, expected)
    chi2 = chi2_statistic(observed_c, expected)
    if correction == "williams":
        q_w = williams_q(observed)
        g2 = g2 / q_w
        chi2 = chi2 / q_w
    sign = np.sign(a / n_t - b / n_r)
    delta, z = fightin_words(a, b, alpha0)
    table = pd.DataFrame(
        {
            "term": np.asarray(vocab, dtype=object),
            "count_a": a.astype(np.int64),
            "count_b": b.astype(np.int64),
            "per_1000_a": 1000.0 * a / n_t,
            "per_1000_b": 1000.0 * b / n_r,
            "g2": sign * g2,
            "chi2": sign * chi2,
            "p": stats.chi2.sf(g2, 1),
            "log_ratio": log_ratio(a, b),
            "fw_delta": delta,
            "fw_z": z,
        }
    )[keep]
    table["q"] = stats.false_discovery_control(table["p"].to_numpy(), method="bh") if len(table) else []
    table = table.sort_values(["g2", "term"], ascending=[False, True], kind="mergesort").reset_index(drop=True)
    return table[KEYNESS_COLUMNS]


def _top_rows(table: pd.DataFrame, n: int, by: str = "g2") -> pd.DataFrame:
    """The ``n`` most positive and ``n`` most negative rows by ``by`` (no row twice).

    Positive rows first (largest first), then negative rows (most negative last).
    """
    positive = table[table[by] > 0].sort_values([by, "term"], ascending=[False, True], kind="mergesort").head(n)
    negative = table[table[by] < 0].sort_values([by, "term"], ascending=[True, True], kind="mergesort").head(n)
    return pd.concat([positive, negative.iloc[::-1]], ignore_index=True)


#: The quantity the document-level p tests, per 1,000 counted tokens: the mean over units
#: (documents, or clusters when whole clusters are permuted) of the term's relative frequency in
#: the target (``mean_a``) and the reference (``mean_b``), their difference and its 95%
#: Welch–Satterthwaite t interval (:func:`analysis.stats.resampling.mean_rate_difference`): the
#: ``mean_a, mean_b, difference, ci_low, ci_high`` of :mod:`analysis.stats.comparison`.
MEAN_RF_COLUMNS = ["mean_a", "mean_b", "difference", "ci_low", "ci_high"]

DOCUMENT_KEYNESS_COLUMNS = KEYNESS_COLUMNS + MEAN_RF_COLUMNS + ["p_tokens", "min_p", "design", "decided"]


def document_keyness(
    counts,
    labels: Sequence[str],
    vocab: Sequence[str],
    pairs: Sequence[tuple[str, str]],
    *,
    n_resamples: int,
    rng: np.random.Generator,
    clusters: Sequence[str] | None = None,
    correction: str = "none",
    alpha0: float = 100.0,
    conservative: bool = False,
    max_resamples: int = MAX_RESAMPLES,
    batches=None,
    min_docs: int = 1,
) -> list[pd.DataFrame]:
    """Keyness with p-values from documents, not pooled tokens: one table per pair of groups.

    The effect sizes (signed G², χ², Log Ratio, Fightin' Words) are :func:`keyness` on the
    groups' summed counts, as before. ``p`` comes from permuting whole documents (or clusters,
    e.g. outlets) between the groups and comparing the term's mean relative frequency per
    document (Welch's t, :func:`analysis.stats.resampling.permutation_keyness`), so it holds
    its level when a document repeats a word (pooled-token p-values do not: on random splits of
    one corpus 10-15% of words had p < 0.05); ``q`` is Benjamini–Hochberg over the terms of the
    pair. ``p_tokens`` keeps the pooled-token χ² p of G² for comparison (not for inference).

    G², Log Ratio and Fightin' Words pool tokens, so long documents weigh more, while ``p`` tests
    the mean of per-document relative frequencies: the two can differ in size and even in sign.
    The tested quantity is therefore reported beside them (:data:`MEAN_RF_COLUMNS`): ``mean_a``
    and ``mean_b``, the mean over units of the term's relative frequency per 1,000 counted
    tokens in the target and the reference, ``difference = mean_a − mean_b`` and its
    95% Welch–Satterthwaite t interval ``ci_low, ci_high`` (closed form, no
    resampling: :func:`analysis.stats.resampling.mean_rate_difference`; NaN with fewer than two
    units a side). The units are those the test permutes: documents, or clusters (each its
    documents' pooled counts) when whole clusters are permuted (``design == "clusters"``).

    Parameters
    ----------
    counts : array or scipy.sparse matrix, shape (n_docs, n_terms)
        Per-document counts of the documents of the comparison.
    labels : sequence of str, length n_docs
        Group of each document.
    vocab : sequence of str, length n_terms
    pairs : sequence of (target, reference)
        ``reference`` is a group or ``"rest"``; every document must be in the target or the
        reference of each pair (two groups, or each group against the rest).
    n_resamples : int
        Permuted splits (exact enumeration when there are fewer distinct ones); terms still
        undecided after them continue up to
        :func:`~analysis.stats.resampling.floor_resamples` splits (``ceil(20 m)`` for ``m``
        tested terms, at most ``max_resamples``, the budget: default
        :data:`~analysis.stats.resampling.MAX_RESAMPLES`, ``[framing] keyness_budget``), so BH can
        reach q < 0.05 for a strong term.
    rng : numpy.random.Generator
        Shared by all pairs of this call.
    clusters : sequence of str, optional
        Resampling cluster of each document (see :func:`~analysis.stats.resampling.permutation_keyness`).
    correction, alpha0
        As :func:`keyness` (the correction applies to the G²/χ² effect sizes and ``p_tokens``).
    min_docs : int
        Test only the terms in at least this many of the comparison's documents
        (:func:`terms_to_test`, ``[framing] keyness_min_docs``); the others keep their effect sizes
        and get ``p``, ``q`` NaN and ``decided`` False, and BH runs over the tested terms only.
        Default 1: every term.

    Returns
    -------
    list of DataFrame
        One per pair, columns :data:`DOCUMENT_KEYNESS_COLUMNS`: those of :func:`keyness` plus
        :data:`MEAN_RF_COLUMNS`, ``p_tokens, min_p`` (smallest attainable p), ``design`` (documents, clusters, within
        clusters) and ``decided``: False for a term whose decision at q < 0.05 was still not
        settled when the budget of splits was spent (its q rests on the estimate ``p`` at the
        budget: more splits could change it), and for a table without a p. With
        ``conservative``, q is Benjamini–Hochberg with each undecided term at the largest p its
        splits allow, so an undecided term is never rejected (Gandy & Hahn 2014's reading of
        "undecided"; :func:`~analysis.stats.resampling.permutation_keyness`), at a large cost in
        power (benchmarks/README.md, "A stated budget").
    batches : analysis.stats.distributed.DaskBatches, optional
        The permutation batches' statistics on a Dask cluster (``[run] scheduler``), the same bytes
        (:func:`~analysis.stats.resampling.permutation_keyness`); None: here.

    Examples
    --------
    >>> X = np.array([[5, 0], [4, 1], [0, 3], [1, 4]])
    >>> t = document_keyness(X, ["vi", "vi", "en", "en"], ["biển", "kinh_tế"], [("vi", "en")], n_resamples=100,
    ...     rng=np.random.default_rng(0))[0]
    >>> t["term"].tolist(), t["p"].round(3).tolist(), float(t["min_p"].iloc[0])
    (['biển', 'kinh_tế'], [0.333, 0.333], 0.16666666666666666)
    """
    return list(
        iter_document_keyness(
            counts,
            labels,
            vocab,
            pairs,
            n_resamples=n_resamples,
            rng=rng,
            clusters=clusters,
            correction=correction,
            alpha0=alpha0,
            conservative=conservative,
            max_resamples=max_resamples,
            batches=batches,
            min_docs=min_docs,
        )
    )


def terms_to_test(counts, min_docs: int) -> np.ndarray | None:
    """Which terms the document-level test runs on: those in at least ``min_docs`` documents
    (rows) of ``counts``; None (every term) when ``min_docs <= 1``.

    Why a filter: a term in one document cannot be shown characteristic of a group of documents
    (its exact permutation p is at least the share of documents on that document's side), yet it
    counts in Benjamini–Hochberg's ``m`` and in the floor of splits; at 78,710 VNTC articles two
    thirds of the 434,821 terms are in one document. Why this filter keeps the false discovery
    rate: the number of documents holding a term is the same in every permuted split, so
    conditionally on it the test's p is as valid as before, and BH over the terms kept controls
    the FDR among them (independent filtering: Bourgon, Gentleman & Huber 2010, PNAS 107:9546,
    whose condition is that the filter statistic and the test statistic are independent under the
    null; the permutation null conditions on the totals).

    >>> terms_to_test(np.array([[1, 0, 2], [3, 0, 0], [1, 1, 0]]), 2).tolist()
    [True, False, False]
    >>> terms_to_test(np.array([[1, 0]]), 1) is None
    True
    """
    if min_docs <= 1:
        return None
    X = sparse.csr_matrix(counts)
    docs = np.bincount(X.indices[X.data > 0], minlength=X.shape[1])
    return docs >= min_docs


def iter_document_keyness(
    counts,
    labels: Sequence[str],
    vocab: Sequence[str],
    pairs: Sequence[tuple[str, str]],
    *,
    n_resamples: int,
    rng: np.random.Generator,
    clusters: Sequence[str] | None = None,
    correction: str = "none",
    alpha0: float = 100.0,
    conservative: bool = False,
    max_resamples: int = MAX_RESAMPLES,
    batches=None,
    min_docs: int = 1,
) -> Iterator[pd.DataFrame]:
    """:func:`document_keyness`, one pair's table at a time (the same tables, in the same order).

    The permutations of all pairs run together at the first table (they share the splits, so the
    p-values do not depend on how the tables are consumed); each table is built when it is asked
    for, so a caller that writes each before asking for the next holds one table of
    ``n_terms`` rows, not one per pair (ten categories of 78,710 VNTC articles: ten tables of
    hundreds of thousands of rows).
    """
    labels = [str(g) for g in labels]
    X = sparse.csr_matrix(counts) if not sparse.issparse(counts) else counts.tocsr()
    if X.shape[0] != len(labels) or X.shape[1] != len(vocab):
        raise ValueError("counts must be documents x vocab, with one label per document")
    present = set(labels)
    for target, reference in pairs:
        others = present - {target} if reference == "rest" else {reference}
        if reference != "rest" and present != {target, reference}:
            raise ValueError(f"pair {target} vs {reference}: every document must be in one of the two groups")
        if target not in present or not others:
            raise ValueError(f"pair {target} vs {reference}: a group has no document")
    targets = list(dict.fromkeys(t for t, _ in pairs))
    tested = terms_to_test(X, min_docs)
    result = permutation_keyness(
        X,
        labels,
        targets,
        n_resamples=n_resamples,
        rng=rng,
        clusters=clusters,
        max_resamples=max_resamples,
        batches=batches,
        select=tested,
    )
    is_target = np.asarray(labels, dtype=object)
    if result.design == "clusters":  # the test's units: clusters, each carrying its group
        cluster_of = np.asarray([str(c) for c in clusters], dtype=object)
        unit_names, unit_codes = np.unique(cluster_of, return_inverse=True)
        unit_labels = np.empty(len(unit_names), dtype=object)
        unit_labels[unit_codes] = is_target
        rates = unit_rates(X, cluster_of)
    else:
        unit_labels, rates = is_target, unit_rates(X)
    terms = pd.Index(list(vocab))  # a table's rows are some terms, re-ordered: their columns by position
    for target, _ in pairs:
        g = targets.index(target)
        rows = is_target == target
        a = np.asarray(X[rows].sum(axis=0)).ravel()
        b = np.asarray(X[~rows].sum(axis=0)).ravel()
        table = keyness(a, b, vocab, correction=correction, alpha0=alpha0)
        at = terms.get_indexer(table["term"])
        table["p_tokens"] = table["p"]
        means = mean_rate_difference(rates, unit_labels == target)
        for column, key in zip(MEAN_RF_COLUMNS, ("mean_a", "mean_b", "difference", "low", "high")):
            table[column] = (1000.0 * means[key])[at]
        table["p"] = result.p[g][at].astype(float)
        # q: BH on p; conservative: each undecided term at the upper end of its interval (never rejected)
        source = result.p_conservative if conservative else result.p
        table["q"] = _bh(source[g][at].astype(float)) if len(table) else []
        table["min_p"] = result.min_p
        table["design"] = result.design
        table["decided"] = result.decided[g][at].astype(bool)
        if clusters is not None and result.design == "clusters" and _single_cluster_side(labels, clusters, target):
            # The groups are unions of clusters and one side is a single cluster: the comparison
            # equals a comparison of that cluster with the others, so it has no group p-value.
            table[["p", "q", "min_p"]] = math.nan
            table["decided"] = False
            table["design"] = "none: one side is a single cluster"
        yield table[DOCUMENT_KEYNESS_COLUMNS]


def _bh(p: np.ndarray) -> np.ndarray:
    """Benjamini–Hochberg q of ``p`` (``scipy.stats.false_discovery_control``) over its non-NaN
    entries (the tested terms), NaN elsewhere."""
    kept = ~np.isnan(p)
    if kept.all():
        return stats.false_discovery_control(p, method="bh")
    q = np.full(len(p), math.nan)
    if kept.any():
        q[kept] = stats.false_discovery_control(p[kept], method="bh")
    return q


def _single_cluster_side(labels: Sequence[str], clusters: Sequence[str], target: str) -> bool:
    """Whether the target's documents, or the others', all lie in one cluster."""
    inside = {c for g, c in zip(labels, clusters) if g == target}
    outside = {c for g, c in zip(labels, clusters) if g != target}
    return len(inside) < 2 or len(outside) < 2


#: Columns every keyness comparison row carries besides the keyness statistics: ``group_a`` is the
#: target (positive statistics: more frequent there), ``group_b`` the reference (a group or
#: ``rest``), ``n_a, n_b`` their documents.
COMPARISON_COLUMNS = ["comparison", "group_a", "group_b", "n_a", "n_b", "too_small", "note"]


@dataclass(frozen=True)
class Comparison:
    """One keyness comparison: ``target`` against ``reference`` (a group, or ``"rest"``)."""

    target: str
    reference: str
    target_docs: int
    reference_docs: int
    table: (
        pd.DataFrame
    )  # analysis.stats.keyness.keyness of the two groups' summed counts (document_keyness: p from documents)
    #: the terms tested are those in at least this many documents of the comparison (document_keyness's min_docs)
    min_docs: int = 1
    #: how many terms have a p (set when ``table`` holds only some rows, e.g. the top ones); None: count them
    tests: int | None = None

    @property
    def name(self) -> str:
        return f"{self.target} vs {self.reference}"


def column_sums(counts, rows: list[int] | None = None) -> np.ndarray:
    """Integer column sums of the given rows, or of all rows (dense or scipy sparse ``counts``)."""
    if rows is not None and not rows:
        return np.zeros(counts.shape[1], dtype=np.int64)
    return np.asarray((counts if rows is None else counts[rows]).sum(axis=0), dtype=np.int64).ravel()


def keyness_comparisons(
    counts,
    doc_ids: Sequence[str],
    vocab: Sequence[str],
    groups: Mapping[str, str],
    *,
    order: Sequence[str] | None = None,
    correction: str = "none",
    alpha0: float = 100.0,
    n_resamples: int | None = None,
    rng: np.random.Generator | None = None,
    clusters: Mapping[str, str] | None = None,
    max_resamples: int = MAX_RESAMPLES,
    batches=None,
    min_docs: int = 1,
) -> list[Comparison]:
    """Keyness of each pair of groups (:func:`analysis.stats.groups.group_pairs`).

    ``counts`` is a (documents × terms) array or scipy sparse matrix with rows in ``doc_ids``
    order; it stays sparse (densifying 2,000 documents × 110,000 terms took 1.8 GB). With
    ``n_resamples`` and ``rng``, p and q come from permuting documents (or ``clusters``, doc_id ->
    cluster such as the outlet) between the groups (:func:`analysis.stats.keyness.document_keyness`,
    the study's inference); without, from pooled tokens (:func:`analysis.stats.keyness.keyness`).
    ``batches``: where the permutation batches' statistics are computed (None: here; see
    :func:`analysis.stats.distributed.dask_batches`).
    ``min_docs``: with ``n_resamples``, only terms in at least that many documents are tested
    (:func:`terms_to_test`). :func:`iter_keyness_comparisons` gives the same comparisons one at a time.
    """
    return list(
        iter_keyness_comparisons(
            counts,
            doc_ids,
            vocab,
            groups,
            order=order,
            correction=correction,
            alpha0=alpha0,
            n_resamples=n_resamples,
            rng=rng,
            clusters=clusters,
            max_resamples=max_resamples,
            batches=batches,
            min_docs=min_docs,
        )
    )


def iter_keyness_comparisons(
    counts,
    doc_ids: Sequence[str],
    vocab: Sequence[str],
    groups: Mapping[str, str],
    *,
    order: Sequence[str] | None = None,
    correction: str = "none",
    alpha0: float = 100.0,
    n_resamples: int | None = None,
    rng: np.random.Generator | None = None,
    clusters: Mapping[str, str] | None = None,
    max_resamples: int = MAX_RESAMPLES,
    batches=None,
    min_docs: int = 1,
) -> Iterator[Comparison]:
    """:func:`keyness_comparisons`, one comparison at a time (:func:`iter_document_keyness`): a caller
    that writes each comparison before asking for the next never holds the whole set."""
    if correction not in CORRECTIONS:
        raise ValueError(f"correction = {correction!r} is not one of {', '.join(CORRECTIONS)}")
    if not (np.isfinite(alpha0) and alpha0 > 0):
        raise ValueError(f"alpha0 = {alpha0!r} must be a positive finite number")
    order = list(order) if order is not None else group_order(groups.values())
    if n_resamples is not None:
        _positive("n_resamples", n_resamples)
        if rng is None:
            raise ValueError("n_resamples needs rng, the generator of the permuted splits")
        pairs = group_pairs(order)
        if not pairs:
            return
        rows = [i for i, d in enumerate(doc_ids) if groups.get(d) in order]
        labels = [groups[doc_ids[i]] for i in rows]
        cluster_labels = None if clusters is None else [str(clusters[doc_ids[i]]) for i in rows]
        tables = iter_document_keyness(
            counts[rows],
            labels,
            vocab,
            pairs,
            n_resamples=n_resamples,
            rng=rng,
            clusters=cluster_labels,
            correction=correction,
            alpha0=alpha0,
            max_resamples=max_resamples,
            batches=batches,
            min_docs=min_docs,
        )
        sizes = [sum(1 for g in labels if g == target) for target, _ in pairs]
        for (t, r), n_t, table in zip(pairs, sizes, tables):
            yield Comparison(t, r, n_t, len(labels) - n_t, table, min_docs=max(1, min_docs))
        return
    for target, reference in group_pairs(order):
        t_rows = [i for i, d in enumerate(doc_ids) if groups.get(d) == target]
        r_rows = [
            i
            for i, d in enumerate(doc_ids)
            if (groups.get(d) != target if reference == "rest" else groups.get(d) == reference)
        ]
        table = keyness(
            column_sums(counts, t_rows), column_sums(counts, r_rows), vocab, correction=correction, alpha0=alpha0
        )
        yield Comparison(target, reference, len(t_rows), len(r_rows), table)


def keyness_columns(labelled: bool = False, documents: bool = False) -> list[str]:
    """Columns of :func:`comparison_table`, in the order of :mod:`analysis.stats.comparison`.

    ``comparison, term[, label]``; ``group_a`` (the target), ``group_b`` (the reference), ``n_a,
    n_b``[, ``mean_a, mean_b, difference, ci_low, ci_high``]``, p``[, ``min_p``]``, q``[, ``decided``]``,
    correction, adjusted_within``; then keyness's own ``count_a, count_b, per_1000_a, per_1000_b, g2, chi2,
    log_ratio, fw_delta, fw_z``[, ``p_tokens, design``]; ``too_small, note``.

    ``documents``: the statistics of :func:`analysis.stats.keyness.document_keyness` (adds
    :data:`MEAN_RF_COLUMNS`, ``p_tokens, min_p, design, decided``).

    >>> keyness_columns()[:8]
    ['comparison', 'term', 'group_a', 'group_b', 'n_a', 'n_b', 'p', 'q']
    """
    stats = [c for c in (DOCUMENT_KEYNESS_COLUMNS if documents else KEYNESS_COLUMNS) if c != "term"]
    columns = (
        COMPARISON_COLUMNS[:5]
        + ["term"]
        + (["label"] if labelled else [])
        + stats
        + ["correction", "adjusted_within"]
        + COMPARISON_COLUMNS[5:]
    )
    return comparison_order(columns, ["comparison", "term", "label"])


def comparison_table(
    comparisons: Sequence[Comparison],
    *,
    min_docs: int = MIN_GROUP_DOCS,
    labels: Mapping[str, str] | None = None,
    top_n: int | None = None,
    empty_note: str = "nothing to compare",
) -> pd.DataFrame:
    """Every comparison's keyness rows stacked into one table (:func:`keyness_columns`).

    ``labels`` adds a ``label`` column (term -> label, the term itself when unlabelled);
    ``top_n`` keeps the ``top_n`` strongest terms each way per comparison. With no comparison
    the table is one row whose ``note`` is ``empty_note``.
    """
    columns = keyness_columns(labels is not None, any("p_tokens" in c.table.columns for c in comparisons))
    parts = []
    for c in comparisons:
        table = c.table
        if labels is not None:
            table = table.assign(label=table["term"].map(lambda t: labels.get(t, t)))
        if top_n is not None:
            table = _top_rows(table, top_n)
        note = too_small_note({c.target: c.target_docs, c.reference: c.reference_docs}, min_docs)
        # q is Benjamini-Hochberg over every term of the comparison, shown or not (top_n keeps a few)
        tests = int(c.table["p"].notna().sum()) if c.tests is None else c.tests
        terms = "every term" if c.min_docs <= 1 else f"every term in {c.min_docs}+ documents"
        family = f"{c.name}: {terms} ({tests} test{'s' if tests != 1 else ''})"
        parts.append(
            table.assign(
                correction="bh",
                adjusted_within=np.where(table["p"].notna(), family, _no_p(table, c.min_docs)),
                comparison=c.name,
                group_a=c.target,
                group_b=c.reference,
                n_a=c.target_docs,
                n_b=c.reference_docs,
                too_small=bool(note),
                note=note,
            )
        )
    if parts:
        return pd.concat(parts, ignore_index=True)[columns]
    row = {c: "" for c in columns}
    row.update({"note": empty_note, "too_small": True})
    return pd.DataFrame([row], columns=columns)


def _no_p(table: pd.DataFrame, min_docs: int):
    """``adjusted_within`` of a row without a p: a term left untested by ``min_docs`` says so."""
    if min_docs <= 1 or "design" not in table.columns:
        return "no p-value"
    untested = ~table["design"].astype(str).str.startswith("none")  # a comparison with no p says so in design
    return np.where(
        untested, f"not tested: in fewer than {min_docs} documents ([framing] keyness_min_docs)", "no p-value"
    )


def keyness_by_group(
    counts,
    groups,
    *,
    order: Sequence[str] | None = None,
    correction: str = "none",
    alpha0: float = 100.0,
    min_docs: int = MIN_GROUP_DOCS,
    labels: Mapping[str, str] | None = None,
    n_resamples: int | None = KEYNESS_RESAMPLES,
    seed: int = KEYNESS_SEED,
    clusters=None,
    stream: str | None = None,
    max_resamples: int = MAX_RESAMPLES,
    min_term_docs: int = 1,
) -> pd.DataFrame:
    """Keyness of terms (or concepts) between groups of documents.

    Two groups are compared with each other; with more, each group against the rest. By default
    p and q come from permuting documents between the groups, as the framing stage reports them
    (the document, not the token, is the unit of independent information).

    Parameters
    ----------
    counts : DataFrame (documents × terms) or DocTermMatrix
        Counts per document, e.g. :func:`analysis.framing.measures.concept_counts` or a study's ``dtm()``.
    groups : Series or mapping doc_id -> group
        e.g. ``corpus.docvars["language"]``; documents without a group are left out.
    order : sequence of str, optional
        Group order (the first of two groups is the target); default sorted.
    correction : {"none", "yates", "williams"}
    alpha0 : float
        Fightin' Words prior strength (Monroe et al. 2008).
    min_docs : int
        Comparisons with a smaller group are flagged ``too_small``.
    labels : mapping term -> label, optional
        Adds a ``label`` column.
    n_resamples : int or None
        Permutations of documents for p and q (:func:`analysis.stats.keyness.document_keyness`, what the
        framing stage reports): ``p = (1 + #{|t*| >= |t|}) / (1 + n)`` per term (``t`` Welch's t
        of the mean per-document relative frequency), ``n = n_resamples`` unless the term stops
        early (clearly large p) or is still undecided after them, when it continues to
        ``max(n_resamples, 20 · terms)`` splits, at most 20,000, so BH q can fall below 0.05
        (:func:`analysis.stats.resampling.floor_resamples`); the smallest p the design allows is
        in ``min_p``; a term whose decision is still not settled then has ``decided`` False (its
        q rests on the estimate at the budget); default 5000, as ``[framing] permutations``.
        ``None``: p is the pooled-token χ² p of G² instead, which treats tokens as independent
        (read it as descriptive only).
    seed : int
        Seed of the permutations (default ``[framing] seed``'s default).
    clusters : Series or mapping doc_id -> cluster, optional
        Permute clusters (e.g. outlets) instead of documents (with ``n_resamples``).
    stream : str, optional
        Name of the random stream (``keyed_rng(seed, "keyness", stream)``): the framing stage uses
        ``"concepts_by_<compare_by>"`` for concepts and ``"words_<lang>_by_<var>"`` for words, so
        passing the same ``seed``, ``n_resamples`` and ``stream`` gives the stage's p exactly (for words, with
        ``min_term_docs`` = ``[framing] keyness_min_docs``).
    max_resamples : int
        The budget of permuted splits for a term still undecided (``[framing] keyness_budget``;
        :func:`document_keyness`).
    min_term_docs : int
        Test only the terms in at least this many documents of the comparison (:func:`terms_to_test`;
        the stage's words: ``[framing] keyness_min_docs``); default 1, every term.

    Returns
    -------
    DataFrame
        One row per comparison and term: :func:`keyness_columns` (signed G2 and chi2, p, BH q,
        Log Ratio, Fightin' Words delta and z; positive = more frequent in the target; with
        ``n_resamples`` also the tested quantity :data:`MEAN_RF_COLUMNS` (mean relative frequency
        per 1,000 tokens per document in each group, their difference and its 95% Welch t
        interval), ``p_tokens, min_p, design``).

    Raises ``ValueError`` for an unknown ``correction``, a non-positive ``alpha0``,
    ``min_docs`` or ``n_resamples``.

    Examples
    --------
    >>> import pandas as pd
    >>> counts = pd.DataFrame({"hợp_tác": [4, 3, 0, 1], "biển": [0, 1, 5, 4]}, index=["v1", "v2", "e1", "e2"])
    >>> table = keyness_by_group(counts, {"v1": "vi", "v2": "vi", "e1": "en", "e2": "en"}, order=["vi", "en"],
    ...     min_docs=1)
    >>> print(table[["comparison", "term", "count_a", "count_b", "g2", "p", "design"]].round(2).to_string(index=False))
    comparison    term  count_a  count_b    g2    p    design
      vi vs en hợp_tác        7        1  12.2 0.33 documents
      vi vs en    biển        1        9 -12.2 0.33 documents

    (the G2 of the 2 × 2 table [[7, 1], [1, 9]], as ``scipy.stats.chi2_contingency`` with
    ``lambda_="log-likelihood"`` gives it; p = 1/3: two documents a side allow only 6 splits, of
    which 2 are as extreme). The pooled-token p (descriptive) instead:

    >>> float(keyness_by_group(counts, {"v1": "vi", "v2": "vi", "e1": "en", "e2": "en"}, order=["vi", "en"], min_docs=1,
    ...     n_resamples=None)["p"].iloc[0]) < 0.001
    True
    """
    if isinstance(counts, DocTermMatrix):
        matrix, doc_ids, vocab = counts.counts, list(counts.row_ids), list(counts.vocab)
    else:
        matrix, doc_ids, vocab = counts.to_numpy(), list(counts.index), list(counts.columns)
    groups = {str(d): str(g) for d, g in dict(groups).items()}
    _positive("min_docs", min_docs)
    _positive("min_term_docs", min_term_docs)
    rng = keyed_rng(seed, "keyness", *([stream] if stream else [])) if n_resamples is not None else None
    clusters = None if clusters is None else {str(d): str(c) for d, c in dict(clusters).items()}
    comparisons = keyness_comparisons(
        matrix,
        doc_ids,
        vocab,
        groups,
        order=order,
        correction=correction,
        alpha0=alpha0,
        n_resamples=n_resamples,
        rng=rng,
        clusters=clusters,
        max_resamples=max_resamples,
        min_docs=min_term_docs,
    )
    return comparison_table(comparisons, min_docs=min_docs, labels=labels)


def top_keyness(table: pd.DataFrame, n: int, by: str = "g2") -> pd.DataFrame:
    """The ``n`` most positive and ``n`` most negative rows by ``by``, per comparison.

    Works on :func:`keyness_by_group`'s table (per ``comparison``) and on a single
    :func:`analysis.stats.keyness.keyness` table alike. Positive rows first (largest first), then
    negative rows (most negative last).

    >>> table = pd.DataFrame({"comparison": ["vi vs en"] * 3, "term": ["hợp_tác", "biển", "ở"], "g2": [8.0, -8.0, 0.5]})
    >>> top_keyness(table, 1)["term"].tolist()
    ['hợp_tác', 'biển']
    """
    _positive("n", n)
    if "comparison" not in table.columns:
        return _top_rows(table, n, by)
    parts = [_top_rows(rows, n, by) for _, rows in table.groupby("comparison", sort=False)]
    return pd.concat(parts, ignore_index=True) if parts else table.iloc[:0]
