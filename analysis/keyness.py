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

Pure: numpy arrays in, a DataFrame out.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd
from scipy import sparse, stats

from .resampling import permutation_keyness

CORRECTIONS = ("none", "yates", "williams")
KEYNESS_COLUMNS = [
    "term", "target_count", "reference_count", "target_per_1000", "reference_per_1000",
    "g2", "chi2", "p", "q", "log_ratio", "fw_delta", "fw_z",
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
    DataFrame with columns ``term, target_count, reference_count, target_per_1000,
    reference_per_1000, g2, chi2, p, q, log_ratio, fw_delta, fw_z``, sorted by signed ``g2``
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
            "target_count": a.astype(np.int64),
            "reference_count": b.astype(np.int64),
            "target_per_1000": 1000.0 * a / n_t,
            "reference_per_1000": 1000.0 * b / n_r,
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


def top_keyness(table: pd.DataFrame, n: int, by: str = "g2") -> pd.DataFrame:
    """The ``n`` most positive and ``n`` most negative rows by ``by`` (no row twice).

    Positive rows first (largest first), then negative rows (most negative last).
    """
    positive = table[table[by] > 0].sort_values([by, "term"], ascending=[False, True], kind="mergesort").head(n)
    negative = table[table[by] < 0].sort_values([by, "term"], ascending=[True, True], kind="mergesort").head(n)
    return pd.concat([positive, negative.iloc[::-1]], ignore_index=True)


DOCUMENT_KEYNESS_COLUMNS = KEYNESS_COLUMNS + ["p_tokens", "min_p", "design"]


def document_keyness(
    counts,
    labels: Sequence[str],
    vocab: Sequence[str],
    pairs: Sequence[tuple[str, str]],
    n_resamples: int,
    rng: np.random.Generator,
    clusters: Sequence[str] | None = None,
    correction: str = "none",
    alpha0: float = 100.0,
) -> list[pd.DataFrame]:
    """Keyness with p-values from documents, not pooled tokens: one table per pair of groups.

    The effect sizes (signed G², χ², Log Ratio, Fightin' Words) are :func:`keyness` on the
    groups' summed counts, as before. ``p`` comes from permuting whole documents (or clusters,
    e.g. outlets) between the groups and comparing the term's mean relative frequency per
    document (Welch's t, :func:`analysis.resampling.permutation_keyness`), so it holds
    its level when a document repeats a word (pooled-token p-values do not: on random splits of
    one corpus 10-15% of words had p < 0.05); ``q`` is Benjamini–Hochberg over the terms of the
    pair. ``p_tokens`` keeps the pooled-token χ² p of G² for comparison (not for inference).

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
        Permuted splits (exact enumeration when there are fewer distinct ones).
    rng : numpy.random.Generator
        Shared by all pairs of this call.
    clusters : sequence of str, optional
        Resampling cluster of each document (see :func:`~analysis.resampling.permutation_keyness`).
    correction, alpha0
        As :func:`keyness` (the correction applies to the G²/χ² effect sizes and ``p_tokens``).

    Returns
    -------
    list of DataFrame
        One per pair, columns :data:`DOCUMENT_KEYNESS_COLUMNS`: those of :func:`keyness` plus
        ``p_tokens, min_p`` (smallest attainable p) and ``design`` (documents, clusters, within
        clusters).

    Examples
    --------
    >>> X = np.array([[5, 0], [4, 1], [0, 3], [1, 4]])
    >>> t = document_keyness(X, ["vi", "vi", "en", "en"], ["biển", "kinh_tế"], [("vi", "en")], 100, np.random.default_rng(0))[0]
    >>> t["term"].tolist(), t["p"].round(3).tolist(), float(t["min_p"].iloc[0])
    (['biển', 'kinh_tế'], [0.333, 0.333], 0.16666666666666666)
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
    result = permutation_keyness(X, labels, targets, n_resamples, rng, clusters)
    is_target = np.asarray(labels, dtype=object)
    tables = []
    for target, _ in pairs:
        rows = is_target == target
        a = np.asarray(X[rows].sum(axis=0)).ravel()
        b = np.asarray(X[~rows].sum(axis=0)).ravel()
        table = keyness(a, b, vocab, correction, alpha0)
        p = pd.Series(result.p[targets.index(target)], index=list(vocab))
        table["p_tokens"] = table["p"]
        table["p"] = table["term"].map(p).to_numpy(dtype=float)
        table["q"] = stats.false_discovery_control(table["p"].to_numpy(), method="bh") if len(table) else []
        table["min_p"] = result.min_p
        table["design"] = result.design
        tables.append(table[DOCUMENT_KEYNESS_COLUMNS])
    return tables
