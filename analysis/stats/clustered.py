"""Outlet-level (cluster) inference for contrasts between groups that are unions of outlets.

In a bilingual news study each outlet publishes in one language, so "Vietnamese vs English" compares two
sets of outlets. Documents of one outlet share a house style and an editorial line (an outlet intra-class
correlation, ICC), so a document-level test treats ``n`` correlated documents as independent and rejects a
true null far too often. This module computes, from arrays in and dataclasses / DataFrames out (no file I/O,
randomness only through a :class:`numpy.random.Generator` passed in):

* :func:`nesting` and :func:`design_summary`: are outlets nested in languages, how many per language, the
  ICC and the effective number of documents; a language that comes from a single outlet is *confounded*
  with that outlet and gets one sentence (``problem``) instead of a p-value;
* :func:`outlet_permutation_test`: whole outlets permuted between the two languages (exact enumeration
  when the arrangements are few), a studentized statistic on outlet means;
* :func:`cr2_ols`, :func:`cr2_glm`, :func:`cr2_test`: the CR2 (Bell-McCaffrey bias-reduced) cluster-robust
  variance with Satterthwaite degrees of freedom per contrast, for OLS / WLS and for a fitted statsmodels
  GLM (the IRLS working regression at convergence), so rate ratios ``exp(beta)`` get ``t(df)`` intervals;
  an outlet's adjustment costs ``O(n_g^3)`` by eigendecomposition up to :data:`EIGH_MAX_ROWS` rows and
  ``O(n_g)`` above (a closed form, or a certified quadrature of ``T^{-1/2}``: :func:`_cr2_block_lowrank`);
* :func:`wild_cluster_bootstrap`: the restricted wild cluster bootstrap (WCR) p-value of one OLS
  coefficient, studentized with CR1 or CR2.

References: Bell & McCaffrey (2002) Survey Methodology 28(2); Pustejovsky & Tipton (2018) JBES 36(4);
Cameron, Gelbach & Miller (2008) REStat 90(3); MacKinnon & Webb (2017) J. Appl. Econometrics 32(2);
Webb (2023) Can. J. Econ. 56(3); Chung & Romano (2013) Ann. Statist. 41(2); Phipson & Smyth (2010)
Stat. Appl. Genet. Mol. Biol. 9(1); for large outlets' CR2 adjustment, Trefethen & Weideman (2014) SIAM Review
56(3) and Hale, Higham & Trefethen (2008) SIAM J. Numer. Anal. 46(5).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from .resampling import permuted_rows

__all__ = [
    "Nesting",
    "nesting",
    "design_summary",
    "PermutationResult",
    "outlet_permutation_test",
    "ClusterRobustFit",
    "ContrastTest",
    "cr2_ols",
    "cr2_glm",
    "cr2_test",
    "BootstrapResult",
    "wild_cluster_bootstrap",
    "wild_score_bootstrap_glm",
]


# --------------------------------------------------------------------------------------------------------
# design: nesting, clusters per group, ICC, effective n
# --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Nesting:
    """How clusters (outlets) sit in groups (languages); see :func:`nesting`."""

    nested: bool  # every cluster belongs to exactly one group
    clusters_per_group: Mapping[str, int]
    docs_per_cluster: Mapping[str, tuple[int, float, int]]  # group -> (min, median, max) documents per cluster
    confounded: tuple[str, ...]  # groups with a single cluster
    shared: tuple[str, ...]  # clusters found in more than one group
    problem: str  # one sentence when group-level inference is impossible, else ""


def _as_str_array(values) -> np.ndarray:
    return np.asarray(pd.Series(values).astype(str).to_numpy(), dtype=object)


def nesting(labels, clusters, *, group_word: str = "language", cluster_word: str = "outlet") -> Nesting:
    """Check that clusters are nested in groups and that every group has at least two clusters.

    A contrast between groups that are unions of clusters (languages made of outlets) can only be tested
    at the cluster level, and only when (i) each cluster belongs to one group (nesting), otherwise whole
    clusters cannot be permuted between groups, and (ii) each group has at least two clusters: with one,
    the group contrast *equals* a contrast of that cluster with the others, and between-cluster variation in
    that group cannot be estimated. ``problem`` is one sentence naming the first failure, or ``""``.

    Parameters
    ----------
    labels, clusters : array-like of length n
        The group (language) and cluster (outlet) of each document; compared as strings.
    group_word, cluster_word : str
        The nouns used in ``problem``.

    Returns
    -------
    Nesting
        ``nested``, ``clusters_per_group``, ``docs_per_cluster`` (min, median, max per group),
        ``confounded`` (groups with one cluster), ``shared`` (clusters in several groups), ``problem``.

    Examples
    --------
    >>> n = nesting(["vi", "vi", "vi", "en", "en"], ["VnE", "VnE", "TT", "BBC", "BBC"])
    >>> n.nested, dict(n.clusters_per_group), n.confounded
    (True, {'en': 1, 'vi': 2}, ('en',))
    >>> for part in n.problem.split(": "):
    ...     print(part)
    language 'en' comes from one outlet ('BBC')
    its contrast with another language equals an outlet contrast; no language p-value
    >>> nesting(["vi", "vi", "en", "en"], ["A", "B", "C", "D"]).problem
    ''
    """
    labels = _as_str_array(labels)
    clusters = _as_str_array(clusters)
    if labels.shape != clusters.shape:
        raise ValueError(f"labels and clusters differ in length ({len(labels)} and {len(clusters)})")
    frame = pd.DataFrame({"g": labels, "c": clusters})
    groups_of = frame.groupby("c")["g"].unique()
    shared = tuple(sorted(c for c, gs in groups_of.items() if len(gs) > 1))
    sizes = frame.groupby(["g", "c"]).size()
    per_group = {str(g): int(s.size) for g, s in sizes.groupby(level=0)}
    docs = {str(g): (int(s.min()), float(s.median()), int(s.max())) for g, s in sizes.groupby(level=0)}
    confounded = tuple(sorted(g for g, k in per_group.items() if k == 1))
    problem = ""
    if shared:
        c = shared[0]
        names = ", ".join(repr(str(g)) for g in sorted(groups_of[c]))
        problem = (
            f"{cluster_word} {c!r} publishes in more than one {group_word} ({names}): "
            f"{cluster_word}s are not nested in {group_word}s, so whole {cluster_word}s cannot be permuted; "
            f"no {group_word} p-value"
        )
    elif confounded:
        g = confounded[0]
        only = str(frame.loc[frame["g"] == g, "c"].iloc[0])
        problem = (
            f"{group_word} {g!r} comes from one {cluster_word} ({only!r}): "
            f"its contrast with another {group_word} equals an {cluster_word} contrast; no {group_word} p-value"
        )
    return Nesting(
        nested=not shared,
        clusters_per_group=per_group,
        docs_per_cluster=docs,
        confounded=confounded,
        shared=shared,
        problem=problem,
    )


def _anova_icc(values: np.ndarray, clusters: np.ndarray) -> float:
    """One-way ANOVA ICC: ``(MSB - MSW) / (MSB + (n0 - 1) MSW)``, ``n0 = (N - sum n_g^2 / N) / (G - 1)``."""
    codes, index = np.unique(clusters, return_inverse=True)
    G, N = len(codes), len(values)
    if G < 2 or N - G < 1:
        return float("nan")
    n_g = np.bincount(index, minlength=G).astype(float)
    means = np.bincount(index, weights=values, minlength=G) / n_g
    grand = values.mean()
    msb = float(np.sum(n_g * (means - grand) ** 2) / (G - 1))
    msw = float(np.sum((values - means[index]) ** 2) / (N - G))
    n0 = (N - np.sum(n_g**2) / N) / (G - 1)
    denominator = msb + (n0 - 1) * msw
    return float((msb - msw) / denominator) if denominator > 0 else float("nan")


def design_summary(
    docvars: pd.DataFrame, *, group: str, cluster: str, values: Mapping[str, np.ndarray] | None = None
) -> pd.DataFrame:
    """One row per group: clusters, documents, documents per cluster, and per item the ICC and effective n.

    The ICC is the one-way ANOVA estimator among the group's clusters,
    ``ICC = (MSB - MSW) / (MSB + (n0 - 1) MSW)`` with ``n0 = (N - sum n_g^2 / N) / (G - 1)`` (Donner 1986,
    Int. Stat. Rev. 54(1)); the effective number of documents is the Kish design-effect correction
    ``n_eff = n / (1 + (mbar - 1) ICC)`` with ``mbar`` the mean documents per cluster and a negative ICC
    estimate taken as 0. A group with one cluster has ICC ``nan`` (no between-cluster variation to estimate).

    Parameters
    ----------
    docvars : DataFrame
        One row per document, with columns ``group`` and ``cluster``.
    group, cluster : str
        Column names.
    values : mapping item -> array of length ``len(docvars)``, optional
        Per-document values (e.g. a frame's rate per 100 sentences); adds columns ``{item}_icc`` and
        ``{item}_n_eff``.

    Returns
    -------
    DataFrame
        Columns ``group, outlets, documents, docs_per_outlet_min, docs_per_outlet_median,
        docs_per_outlet_max`` and the item columns.

    Examples
    --------
    Two outlets of two documents each, documents of one outlet identical: all variance is between
    outlets, ICC 1, and the four documents are worth two.

    >>> d = pd.DataFrame({"lang": ["vi"] * 4, "outlet": ["A", "A", "B", "B"]})
    >>> row = design_summary(d, group="lang", cluster="outlet", values={"frame": [1.0, 1.0, 3.0, 3.0]}).iloc[0]
    >>> int(row["outlets"]), int(row["documents"]), float(row["frame_icc"]), float(row["frame_n_eff"])
    (2, 4, 1.0, 2.0)
    """
    labels = _as_str_array(docvars[group])
    clusters = _as_str_array(docvars[cluster])
    items = {k: np.asarray(v, dtype=float) for k, v in (values or {}).items()}
    for k, v in items.items():
        if v.shape != (len(docvars),):
            raise ValueError(f"values[{k!r}] has shape {v.shape}, expected ({len(docvars)},)")
    rows = []
    for g in sorted(set(labels)):
        mask = labels == g
        sizes = pd.Series(clusters[mask]).value_counts()
        row = {
            "group": g,
            "outlets": int(sizes.size),
            "documents": int(mask.sum()),
            "docs_per_outlet_min": int(sizes.min()),
            "docs_per_outlet_median": float(sizes.median()),
            "docs_per_outlet_max": int(sizes.max()),
        }
        mbar = float(sizes.mean())
        for k, v in items.items():
            icc = _anova_icc(v[mask], clusters[mask])
            row[f"{k}_icc"] = icc
            n_eff = mask.sum() / (1 + (mbar - 1) * max(icc, 0.0)) if np.isfinite(icc) else np.nan
            row[f"{k}_n_eff"] = float(n_eff)
        rows.append(row)
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------------------------------------
# outlet permutation test
# --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PermutationResult:
    """Result of :func:`outlet_permutation_test`."""

    estimate: float  # a - b, difference of the mean of outlet means
    statistic: float  # Welch t on outlet means
    p: float  # two-sided
    min_attainable_p: float  # smallest p any arrangement of these outlets can give (exact) or 1/(m+1) (Monte Carlo)
    n_arrangements: int  # distinct arrangements enumerated (exact) or random ones drawn (Monte Carlo)
    exact: bool
    clusters_a: int
    clusters_b: int


def _welch_rows(sum1, sumsq1, n1, sum2, sumsq2, *, n2):
    """Welch t for many arrangements at once from sums and sums of squares of cluster means."""
    mean1, mean2 = sum1 / n1, sum2 / n2
    var1 = np.maximum(sumsq1 - n1 * mean1**2, 0.0) / (n1 - 1)
    var2 = np.maximum(sumsq2 - n2 * mean2**2, 0.0) / (n2 - 1)
    se = np.sqrt(var1 / n1 + var2 / n2)
    diff = mean1 - mean2
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(se > 0, diff / np.where(se > 0, se, 1.0), np.where(diff == 0, 0.0, np.sign(diff) * np.inf))
    return diff, t


def outlet_permutation_test(
    values, labels, clusters, *, a: str, b: str, n_resamples: int = 9999, rng: np.random.Generator | None = None
) -> PermutationResult:
    """Two-sided permutation test of a difference between groups ``a`` and ``b`` that permutes whole outlets.

    Each document's value is averaged within its outlet; the statistic is Welch's t on the outlet means,
    ``t = (mean_a - mean_b) / sqrt(s_a^2 / G_a + s_b^2 / G_b)`` (``s^2`` the variance of the outlet means of
    a group, ``G`` its outlets). Under H0 that the outlets' language labels are exchangeable (outlets nested
    in languages), every one of the ``C(G_a + G_b, G_a)`` ways to give ``G_a`` outlets the label ``a`` is
    equally likely, so the permutation p-value is exact for any statistic. Studentizing makes the test
    also asymptotically valid for the weaker null of equal *means* when the two languages' outlets differ in
    spread or number (Chung & Romano 2013); unstudentized differences are not.

    Why Welch on outlet means rather than the document-weighted mean difference studentized by a
    cluster-robust (CR1) standard error: in a seeded simulation (``benchmarks/validity.py
    --statistic-choice``; 300 samples per row, 20-60 documents per outlet, equal means) the two rejected
    at 0.05 equally often within Monte Carlo error (sd about 0.015): 5 vs 5 outlets, equal spread, 0.070 vs
    0.060; 3 vs 10, equal spread, 0.033 vs 0.030; 3 vs 10 with outlet sd 0.8 vs 0.2, 0.130 vs 0.123;
    10 vs 3 the other way round, 0.023 vs 0.013; 5 vs 10 with sd 0.6 vs 0.15, 0.073 vs 0.077. So the choice
    rests on interpretation and simplicity: outlet means are what the reader compares ("the average
    Vietnamese outlet"), long outlets do not dominate, and the statistic needs no sandwich. The simulation
    also shows the limit of every studentized permutation test (Chung & Romano's validity is asymptotic):
    when the language with *few* outlets (3) has the *larger* between-outlet spread, the equal-means null
    is rejected about 12-13% of the time; exchangeability of outlets, the exact null, is not then true.

    When ``C(G, G_a) <= n_resamples`` all arrangements are enumerated and
    ``p = #{k : |t_k| >= |t_obs|} / C(G, G_a)`` (the observed arrangement is one of them); otherwise
    ``n_resamples`` random arrangements give ``p = (b + 1) / (m + 1)`` with ``b`` the exceedances among
    ``m`` draws (Phipson & Smyth 2010). ``min_attainable_p`` is the smallest p any arrangement of these
    outlets could produce: ``#{k : |t_k| = max |t|} / C(G, G_a)`` for exact enumeration (at least
    ``1 / C(G, G_a)``, and ``2 / C(G, G_a)`` when ``G_a = G_b`` because an arrangement and its swap give
    ``t`` and ``-t``); ``1 / (m + 1)`` for Monte Carlo.

    Parameters
    ----------
    values : array-like of float, length n
        One value per document (e.g. a rate per 100 sentences).
    labels, clusters : array-like, length n
        Group (language) and cluster (outlet) of each document; documents of other groups are ignored.
    a, b : str
        The two groups; the estimate is ``a - b``.
    n_resamples : int
        Enumeration threshold and Monte Carlo size.
    rng : numpy.random.Generator
        Needed only for Monte Carlo.

    Raises
    ------
    ValueError
        With :func:`nesting`'s one-line ``problem`` when a group has one outlet or outlets are not nested.

    Examples
    --------
    Outlet means 0 and 1 (language a) against 10 and 12 (b): of the ``C(4, 2) = 6`` arrangements the
    observed one and its swap are the most extreme, so ``p = 2/6``, which is also the smallest possible.

    >>> r = outlet_permutation_test([0, 0, 1, 1, 10, 10, 12, 12], list("aaaabbbb"), list("AABBCCDD"), a="a", b="b")
    >>> r.estimate, r.n_arrangements, r.exact, round(r.p, 4), round(r.min_attainable_p, 4)
    (-10.5, 6, True, 0.3333, 0.3333)
    """
    values = np.asarray(values, dtype=float)
    labels = _as_str_array(labels)
    clusters = _as_str_array(clusters)
    if not (values.shape == labels.shape == clusters.shape):
        raise ValueError("values, labels and clusters must have the same length")
    keep = (labels == a) | (labels == b)
    if not keep.any():
        raise ValueError(f"no document has label {a!r} or {b!r}")
    values, labels, clusters = values[keep], labels[keep], clusters[keep]
    for g in (a, b):
        if not (labels == g).any():
            raise ValueError(f"no document has label {g!r}")
    design = nesting(labels, clusters)
    if design.problem:
        raise ValueError(design.problem)
    codes, index = np.unique(clusters, return_inverse=True)
    G = len(codes)
    means = np.bincount(index, weights=values, minlength=G) / np.bincount(index, minlength=G)
    in_a = np.zeros(G, dtype=bool)
    in_a[index[labels == a]] = True
    Ga, Gb = int(in_a.sum()), G - int(in_a.sum())
    total, total_sq = means.sum(), (means**2).sum()

    def welch(assign: np.ndarray):
        s1, q1 = assign @ means, assign @ means**2
        return _welch_rows(s1, q1, Ga, total - s1, total_sq - q1, n2=Gb)

    estimate, t_obs = welch(in_a.astype(float)[None, :])
    estimate, t_obs = float(estimate[0]), float(t_obs[0])
    count = math.comb(G, Ga)
    tol = 1e-9 * max(1.0, abs(t_obs)) if np.isfinite(t_obs) else 0.0
    if count <= n_resamples:
        assign = np.zeros((count, G))
        for row, chosen in enumerate(itertools.combinations(range(G), Ga)):
            assign[row, list(chosen)] = 1.0
        _, t = welch(assign)
        t = np.abs(t)
        p = float(np.mean(t >= abs(t_obs) - tol))
        top = t.max()
        min_p = float(np.mean(t >= top - 1e-9 * max(1.0, top if np.isfinite(top) else 1.0)))
        return PermutationResult(estimate, t_obs, p, min_p, count, True, Ga, Gb)
    if rng is None:
        raise ValueError(f"{count} arrangements exceed n_resamples={n_resamples}: pass rng for Monte Carlo")
    # Ga ones among G clusters per row, shuffled (Fisher–Yates, not an argsort of random keys)
    assign = permuted_rows(rng, (np.arange(G) < Ga).astype(float), n_resamples)
    _, t = welch(assign)
    exceed = int(np.sum(np.abs(t) >= abs(t_obs) - tol))
    p = (exceed + 1) / (n_resamples + 1)
    return PermutationResult(estimate, t_obs, p, 1 / (n_resamples + 1), n_resamples, False, Ga, Gb)


# --------------------------------------------------------------------------------------------------------
# CR2 / Bell-McCaffrey cluster-robust variance
# --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class ClusterRobustFit:
    """A (weighted) least-squares fit with its cluster-robust covariance; see :func:`cr2_ols`, :func:`cr2_glm`.

    ``estmat`` (p x n) maps residuals to cluster scores: ``vcov = sum_g (estmat_g e_g)(estmat_g e_g)'``
    where ``estmat_g = M X_g' W_g A_g`` (``A_g`` the CR2 adjustment, or a constant for CR0 / CR1).
    ``phi`` is the diagonal working covariance used for the adjustments and the Satterthwaite degrees
    of freedom.
    """

    coef: np.ndarray
    vcov: np.ndarray
    kind: str  # "CR2", "CR1" or "CR0"
    n_clusters: int
    nobs: int
    X: np.ndarray
    weights: np.ndarray
    phi: np.ndarray
    bread: np.ndarray  # M = (X' W X)^{-1}
    estmat: np.ndarray
    cluster_index: np.ndarray


@dataclass(frozen=True)
class ContrastTest:
    """Test of one linear contrast ``c' beta = null`` with a ``t(df)`` reference; see :func:`cr2_test`."""

    estimate: float
    se: float
    df: float
    t: float
    p: float
    ci_low: float
    ci_high: float
    level: float


def _inv_sqrt_graded(C: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """``T^{+1/2}`` of ``T = diag(scale) C diag(scale)`` when ``scale`` spans decades and ``C`` is well scaled.

    ``C``'s eigenvalues at or below ``1e-12 x n x`` its largest are zero (a pseudo-inverse, as in
    :func:`_cr2_adjustment`); with the ``k`` others, ``C = F F'`` and ``T = G' G`` for ``G = F' diag(scale)``
    (``k x n``, padded with zero rows to ``n x n``): a well-conditioned matrix times a diagonal scaling of its
    columns, whose singular values and right singular vectors one-sided Jacobi computes to high *relative* accuracy,
    the error governed by ``F``'s condition number and not by the scaling (Demmel & Veselic 1992, SIAM J. Matrix
    Anal. Appl. 13(4); LAPACK ``dgejsv``, ``JOBA = 'C'``, Drmac & Veselic 2008, SIAM J. Matrix Anal. Appl. 29(4)).
    ``G = U Sigma V'`` gives ``T^{+1/2} = V Sigma^{-1} V'`` over the ``k`` nonzero singular values. A symmetric
    eigensolver instead resolves ``T``'s eigenvalues only to about ``eps x`` the largest, so those of the rows with
    the smallest ``scale`` carry no correct digit once ``T``'s condition number passes ``1 / eps``; and the SVD of
    the row-scaled ``diag(scale) F`` gets the singular values but not the small components of the vectors (measured:
    ``1e-8`` against ``1e-11`` for the column-scaled form, 50-row outlets, means over eight decades).
    """
    from scipy.linalg import lapack

    n = len(scale)
    cvals, cvecs = np.linalg.eigh((C + C.T) / 2)
    keep = cvals > max(cvals.max(initial=0.0), 0.0) * _DROP_RTOL * n
    k = int(keep.sum())
    if k == 0:
        return np.zeros((n, n))
    G = np.zeros((n, n))
    G[:k] = (cvecs[:, keep] * np.sqrt(cvals[keep])[None, :]).T * scale[None, :]
    sva, _, V, work, _, info = lapack.dgejsv(G, joba=0, jobu=3, jobv=0)  # JOBA 'C', JOBU 'N', JOBV 'V'
    if info != 0:
        raise np.linalg.LinAlgError(f"dgejsv did not converge (info {info})")
    sigma = (work[0] / work[1]) * sva[:k]
    inv = np.where(sigma > 0, 1 / np.where(sigma > 0, sigma, 1.0), 0.0)
    return (V[:, :k] * inv[None, :]) @ V[:, :k].T


def _cr2_adjustment(S: np.ndarray, phig: np.ndarray) -> np.ndarray:
    """Cluster g's CR2 adjustment ``A_g = R (R S_g R)^{+1/2} R`` with ``R = Phi_g^{1/2}`` (see :func:`cr2_ols`).

    Which eigenvalues of ``T = R S_g R`` are zero is decided in the metric of the working model, where the scale of
    ``Phi`` is removed: ``T = Phi_g C Phi_g`` with ``C = Phi_g^{-1/2} S_g Phi_g^{-1/2}`` (for a GLM,
    ``Phi = W^{-1}`` and ``C = I - W_g^{1/2} X_g M X_g' W_g^{1/2}``, one minus the leverages: eigenvalues in
    [0, 1]). By Sylvester's law of inertia ``T`` and ``C`` are singular together, and that is structural: ``S_g``
    is singular exactly when some coefficient is estimable from cluster g's rows alone (``rank X - rank X_{-g}``
    zero eigenvalues, one for an outlet fixed effect), and then CR2 uses the pseudo-inverse (Bell & McCaffrey
    2002; clubSandwich's ``Sym_power`` drops eigenvalues at or below an absolute ``1e-12``). Every other eigenvalue
    of ``T`` is kept however small: by Ostrowski's theorem ``lambda_k(T) = theta_k lambda_k(C)`` with ``theta_k``
    between the smallest and largest ``phi^2``, so when the fitted means of one outlet span decades (``phi = 1/mu``
    for a quasi-Poisson GLM) ``T``'s eigenvalues span twice as many, and a cut relative to ``T``'s largest
    eigenvalue would zero the CR2 weight of the outlet's highest-mean documents.

    Computation (:func:`_eigh_adjustment`): ``eigh`` of ``T`` with the cut ``1e-12 x n_g x`` its largest eigenvalue
    (the route of every earlier version, to the bit) when ``Phi_g`` is constant (then ``T = c^2 C`` and the cut is
    the same in both metrics) or when every eigenvalue of ``T`` exceeds ``eps / 1e-10 = 2.2e-6`` of the largest (and
    ``10 x`` the cut), so that ``eigh``'s absolute error of about ``eps x`` the largest leaves the smallest within
    the ``1e-10`` relative that the low-rank path certifies, and nothing near the cut. Otherwise ``T`` is graded:
    :func:`_cluster_robust` tries :func:`_cr2_block_lowrank` (certified; ~0.005 s at 1,000 rows), then the Jacobi
    SVD of :func:`_inv_sqrt_graded` with the cut applied to ``C`` (:func:`_graded_adjustment`; ~0.9 s at 1,000 rows).
    """
    A = _eigh_adjustment(S, phig)
    return _graded_adjustment(S, phig) if A is None else A


def _eigh_adjustment(S: np.ndarray, phig: np.ndarray) -> np.ndarray | None:
    """:func:`_cr2_adjustment` by ``eigh`` of ``T``, or ``None`` when ``T`` is graded beyond ``eigh``'s resolution."""
    root = np.sqrt(phig)
    T = root[:, None] * S * root[None, :]
    n = len(phig)
    vals, vecs = np.linalg.eigh((T + T.T) / 2)
    top = max(vals.max(initial=0.0), 0.0)
    resolved = vals.min(initial=np.inf) > top * max(_GRADED_RTOL, _DROP_RTOL * n * _DROP_MARGIN)
    if not (resolved or np.all(phig == phig[0])):
        return None
    keep = vals > top * _DROP_RTOL * n
    inv = np.zeros_like(vals)
    inv[keep] = 1 / np.sqrt(vals[keep])
    return root[:, None] * ((vecs * inv) @ vecs.T) * root[None, :]


def _graded_adjustment(S: np.ndarray, phig: np.ndarray) -> np.ndarray:
    """:func:`_cr2_adjustment` by the graded route (:func:`_inv_sqrt_graded` of ``C``)."""
    root = np.sqrt(phig)
    return root[:, None] * _inv_sqrt_graded(S / (root[:, None] * root[None, :]), phig) * root[None, :]


EIGH_MAX_ROWS = 1000
"""Clusters (outlets) of at most this many rows get their CR2 adjustment from the eigendecomposition of their
``n_g x n_g`` matrix (:func:`_cr2_adjustment`, cubic in ``n_g``: 0.02 s at 389 rows, 12.7 s at 3,935); larger ones
from :func:`_cr2_block_lowrank` (linear in ``n_g``), which falls back to the eigendecomposition whenever it cannot
certify its result (then by :func:`_cr2_adjustment`'s graded route when ``T`` is graded: about 1 s of CPU at 1,000
rows against 0.28 s for ``eigh``). Studies whose outlets are all this small (the seed study, 10,000 documents in
20 outlets per language) keep their bytes."""

_DROP_RTOL = 1e-12  # eigenvalues at or below this x n_g x the largest one are zero (a pseudo-inverse; in C's metric)
_DROP_MARGIN = 10.0  # the low-rank path is used only when no eigenvalue lies within this factor of that cut
_QUADRATURE_STEP = 0.5  # trapezoid step h in s: discretization error about 2 exp(-2 pi^2 / h) = 1e-17
_QUADRATURE_TAIL = 72.0  # s beyond log(spectrum bounds): truncation error about (2 / pi) exp(-tail / 2) = 1.5e-16
_CHECK_RTOL = 1e-10  # the quadrature's certificate (see _cr2_block_lowrank)
_GRADED_RTOL = float(np.finfo(float).eps) / _CHECK_RTOL  # eigh of T trusted above this x its largest eigenvalue
_NODE_CHUNK = 64  # quadrature nodes per batch: bounds the nodes x n_g arrays


def _woodbury_sum(d: np.ndarray, U: np.ndarray, sign: np.ndarray, B: np.ndarray, *, t, coef) -> np.ndarray:
    """``sum_j coef_j (t_j I + diag(d) + U diag(sign) U')^{-1} B`` with ``sign`` in {-1, +1}, by Woodbury:
    ``(A + U S U')^{-1} = A^{-1} - A^{-1} U (S + U' A^{-1} U)^{-1} U' A^{-1}`` (``A`` diagonal, ``S = S^{-1}``),
    so each node costs ``O(n k (k + p))`` for ``U`` of ``k`` columns and ``B`` of ``p``; nothing ``n x n``."""
    n, k = U.shape
    p = B.shape[1]
    t, coef = np.asarray(t, dtype=float), np.asarray(coef, dtype=float)
    UU = (U[:, :, None] * U[:, None, :]).reshape(n, k * k)
    UB = (U[:, :, None] * B[:, None, :]).reshape(n, k * p)
    out = np.zeros((n, p))
    for start in range(0, len(t), _NODE_CHUNK):
        tj, cj = t[start : start + _NODE_CHUNK], coef[start : start + _NODE_CHUNK]
        inv = 1.0 / (tj[:, None] + d[None, :])  # nodes x n: the diagonal part's inverse at each node
        cap = (inv @ UU).reshape(len(tj), k, k) + np.diag(sign)
        z = np.linalg.solve(cap, (inv @ UB).reshape(len(tj), k, p))
        out += (cj @ inv)[:, None] * B
        summed = ((inv * cj[:, None]).T @ z.reshape(len(tj), k * p)).reshape(n, k, p)
        out -= np.einsum("ia,iac->ic", U, summed)
    return out


def _cr2_block_lowrank(
    Xg: np.ndarray, WXg: np.ndarray, phig: np.ndarray, wg: np.ndarray, *, M: np.ndarray, MXWPWXM: np.ndarray
) -> np.ndarray | None:
    """Cluster g's columns of ``estmat``, ``M X_g' W_g A_g``, without any ``n_g x n_g`` matrix; ``None`` when the
    result cannot be certified (the caller then uses the eigendecomposition).

    ``A_g`` is the CR2 adjustment of Bell & McCaffrey (2002) with a working model ``Phi`` (Pustejovsky & Tipton
    2018), as in :func:`cr2_ols`; why another route to it: the eigendecomposition of the ``n_g x n_g``
    matrix is cubic in the outlet's size (12.7 s for one 3,935-article outlet, about 33 fits of 20 such outlets
    in the design stage of an 81,000-article study).

    Only ``A_g = R T^{-1/2} R`` applied to the ``p`` columns of ``W_g X_g`` is needed, where
    ``T = R S_g R``, ``R = Phi_g^{1/2}`` and ``S_g = Phi_g - H Phi_g - Phi_g H' + X_g M X'W Phi W X M X_g'``
    (``H = X_g M X_g' W_g``): ``estmat_g = M (T^{-1/2} R W_g X_g)' R``. Beyond its diagonal ``D = Phi_g^2``,
    ``T`` is of rank at most ``2p``: ``T = D + Z K Z'`` with ``Z = [R X_g, R Phi_g W_g X_g]`` and
    ``K = [[M X'W Phi W X M, -M], [-M', 0]]``; when ``Phi W`` is a constant ``c`` (a GLM, whose working model is
    ``Phi = W^{-1}``) the two blocks coincide and ``T = D + R X_g (M X'W Phi W X M - 2 c M) X_g' R``, rank ``p``.
    A thin QR of ``Z`` and an eigendecomposition of the small middle matrix give ``T = D + U diag(lambda) U'``
    with ``U`` of orthogonal columns. Then:

    * ``D = c^2 I`` (OLS and WLS with the identity working model): exactly,
      ``T^{-1/2} = c^{-1} I + Q V [(c^2 + lambda)^{-1/2} - c^{-1}] V' Q'``, with the eigenvalues that
      :func:`_cr2_adjustment` would drop (``<= 1e-12 n_g`` times the largest) dropped alike (a pseudo-inverse);
    * otherwise by quadrature of ``x^{-1/2} = (1/pi) int_R e^{s/2} / (e^s + x) ds`` (the substitution
      ``t = e^{s/2}`` in ``x^{-1/2} = (2/pi) int_0^inf dt / (t^2 + x)``): the trapezoid rule in ``s`` with step
      ``h``, ``T^{-1/2} B ~ (h/pi) sum_j e^{s_j/2} (e^{s_j} I + T)^{-1} B``, converges exponentially (the
      integrand is analytic in the strip ``|Im s| < pi``: error about ``2 exp(-2 pi^2 / h)``; Trefethen & Weideman
      2014, SIAM Review 56(3); Hale, Higham & Trefethen 2008, SIAM J. Numer. Anal. 46(5)), and each
      node's solve is diagonal plus low rank (Woodbury, :func:`_woodbury_sum`). The nodes span
      ``[log lo - 72, log hi + 72]`` for spectrum bounds ``hi = max(d) + max(lambda, 0)`` (Weyl) and
      ``lo = 1 / (max(1/d) + max eig(T^{-1} - D^{-1}))`` (Weyl again, ``T^{-1} - D^{-1}`` being of rank ``<= 2p``
      by Woodbury), so the count grows only with ``log(hi / lo)`` (about 300 nodes; 75 more when ``Phi_g`` spans
      eight decades). Which eigenvalues are zero is decided as in :func:`_cr2_adjustment`, in the working model's
      metric: ``C = Phi_g^{-1} T Phi_g^{-1} = I + G diag(lambda) G'`` (``G = Phi_g^{-1} Q V``) has the eigenvalue 1
      and those of ``I + R diag(lambda) R'`` (``G = Q_G R``, ``k x k``); when one comes within a factor 10 of the
      drop cut (``T`` structurally singular or nearly so, where the pseudo-inverse applies) the block is not
      computed here, while a ``T`` ill-conditioned only by ``Phi_g``'s spread is. Certificate, on every call:
      applying the quadrature twice must give ``T^{-1} B`` from a direct Woodbury solve, and ``T`` times that must
      give ``B`` (``T`` applied from its factors, not from ``U``), each column to a relative ``1e-10``; otherwise
      ``None`` (with a strongly graded ``T`` the certificate fails now and then: measured on 10-row outlets with
      means over six decades, 1 outlet in 4; the Jacobi SVD of :func:`_inv_sqrt_graded` is then used).

    Equal to the eigendecomposition path to the certificate's tolerance: measured differences of ``vcov``,
    ``estmat`` and the BM df of 1e-16 to 2e-11 relative (``tests/stats/test_clustered_lowrank.py`` asserts
    1e-9; ``benchmarks/cr2_scale.py``); cost ``O(n_g p^2)`` (closed form) or ``O(n_g p^2 m)`` for ``m`` nodes,
    against ``O(n_g^3)``; memory ``O(n_g p^2)`` plus 64 nodes x ``n_g`` floats.
    """
    n, p = Xg.shape
    root = np.sqrt(phig)
    U1 = root[:, None] * Xg
    U2 = (root * phig)[:, None] * WXg
    B = root[:, None] * WXg
    ratio = phig * wg
    if np.all(np.abs(ratio - ratio[0]) <= 1e-12 * abs(ratio[0])):
        Z, K = U1, MXWPWXM - ratio[0] * (M + M.T)
    else:
        Z, K = np.hstack([U1, U2]), np.block([[MXWPWXM, -M], [-M.T, np.zeros((p, p))]])
    Qz, Rz = np.linalg.qr(Z)
    small = Rz @ ((K + K.T) / 2) @ Rz.T
    lam, V = np.linalg.eigh((small + small.T) / 2)
    QV = Qz @ V
    d = phig**2
    if np.all(d == d[0]):
        c2 = float(d[0])
        vals = c2 + lam
        cut = max(c2, float(vals.max(initial=c2))) * _DROP_RTOL * n
        if c2 <= cut * _DROP_MARGIN or np.any((vals > cut / _DROP_MARGIN) & (vals <= cut * _DROP_MARGIN)):
            return None
        keep = vals > cut
        f = np.where(keep, 1 / np.sqrt(np.where(keep, vals, 1.0)), 0.0) - 1 / math.sqrt(c2)
        Y = B / math.sqrt(c2) + QV @ (f[:, None] * (QV.T @ B))
        return M @ (Y.T * root[None, :])
    # C = Phi_g^{-1} T Phi_g^{-1} = I + G diag(lam) G' (G = Phi_g^{-1} Q V): its eigenvalues are 1 and those of
    # I + R diag(lam) R' (G = Q_G R), decided against the cut in C's metric as in _cr2_adjustment
    Rg = np.linalg.qr(QV / phig[:, None], mode="r")
    c_vals = 1.0 + np.linalg.eigvalsh(Rg @ (lam[:, None] * Rg.T))
    if n > len(c_vals):
        c_vals = np.r_[c_vals, 1.0]
    if c_vals.min() <= max(c_vals.max(), 0.0) * _DROP_RTOL * n * _DROP_MARGIN:
        return None
    U = QV * np.sqrt(np.abs(lam))[None, :]
    sign = np.where(lam < 0, -1.0, 1.0)
    hi = float(d.max()) + max(float(lam.max()), 0.0)
    try:
        direct = _woodbury_sum(d, U, sign, B, t=[0.0], coef=[1.0])  # T^{-1} B
        W1 = U / d[:, None]
        Rw = np.linalg.qr(W1, mode="r")
        cap0 = U.T @ W1 + np.diag(sign)
        low_rank = -Rw @ np.linalg.solve(cap0, Rw.T)  # its eigenvalues: those of T^{-1} - D^{-1} = -W1 cap0^-1 W1'
        top_inverse = float((1 / d).max()) + max(float(np.linalg.eigvalsh((low_rank + low_rank.T) / 2).max()), 0.0)
        lo = 1 / top_inverse
        if not (np.isfinite(lo) and lo > 0):
            return None
        s = np.arange(math.log(lo) - _QUADRATURE_TAIL, math.log(hi) + _QUADRATURE_TAIL, _QUADRATURE_STEP)
        coef = _QUADRATURE_STEP / math.pi * np.exp(s / 2)
        Y = _woodbury_sum(d, U, sign, B, t=np.exp(s), coef=coef)
        twice = _woodbury_sum(d, U, sign, Y, t=np.exp(s), coef=coef)
    except np.linalg.LinAlgError:
        return None
    TY = d[:, None] * twice + U1 @ (MXWPWXM @ (U1.T @ twice)) - U1 @ (M @ (U2.T @ twice)) - U2 @ (M.T @ (U1.T @ twice))
    forward = np.linalg.norm(twice - direct, axis=0) <= _CHECK_RTOL * np.linalg.norm(direct, axis=0)
    backward = np.linalg.norm(TY - B, axis=0) <= _CHECK_RTOL * np.linalg.norm(B, axis=0)
    if not (np.all(forward) and np.all(backward)):
        return None
    return M @ (Y.T * root[None, :])


def _cluster_robust(
    X: np.ndarray, resid: np.ndarray, weights: np.ndarray, clusters, phi: np.ndarray, *, kind: str, coef: np.ndarray
) -> ClusterRobustFit:
    X = np.asarray(X, dtype=float)
    n, p = X.shape
    _, index = np.unique(_as_str_array(clusters), return_inverse=True)
    G = int(index.max()) + 1
    if G < 2:
        raise ValueError("cluster-robust variance needs at least two clusters")
    WX = X * weights[:, None]
    M = np.linalg.pinv(X.T @ WX)
    estmat = np.zeros((p, n))
    if kind == "CR2":
        # S_g = ((I - H) Phi (I - H)')_gg with H = X M X' W; A_g = R_g' (R_g S_g R_g')^{-1/2} R_g, R_g' R_g = Phi_g
        MXWPWXM = M @ (WX.T * phi) @ WX @ M
        for g in range(G):
            rows = np.flatnonzero(index == g)
            Xg, WXg, phig = X[rows], WX[rows], phi[rows]
            block = None
            if len(rows) > EIGH_MAX_ROWS:
                block = _cr2_block_lowrank(Xg, WXg, phig, weights[rows], M=M, MXWPWXM=MXWPWXM)
            if block is None:
                H = Xg @ M @ WXg.T  # H_gg
                S = np.diag(phig) - H * phig[None, :] - (H * phig[None, :]).T + Xg @ MXWPWXM @ Xg.T
                A = _eigh_adjustment(S, phig)  # None: graded (see _cr2_adjustment)
                if A is None and len(rows) <= EIGH_MAX_ROWS:
                    block = _cr2_block_lowrank(Xg, WXg, phig, weights[rows], M=M, MXWPWXM=MXWPWXM)
                if block is None:
                    block = M @ WXg.T @ (_graded_adjustment(S, phig) if A is None else A)
            estmat[:, rows] = block
    elif kind in ("CR0", "CR1"):
        scale = 1.0 if kind == "CR0" else math.sqrt(G / (G - 1) * (n - 1) / (n - p))
        estmat = scale * (M @ WX.T)
    else:
        raise ValueError(f"kind must be 'CR2', 'CR1' or 'CR0', not {kind!r}")
    scores = np.zeros((p, G))
    for j in range(p):
        scores[j] = np.bincount(index, weights=estmat[j] * resid, minlength=G)
    vcov = scores @ scores.T
    return ClusterRobustFit(
        coef=coef,
        vcov=vcov,
        kind=kind,
        n_clusters=G,
        nobs=n,
        X=X,
        weights=weights,
        phi=phi,
        bread=M,
        estmat=estmat,
        cluster_index=index,
    )


def cr2_ols(X, y, clusters, *, weights=None, target=None, kind: str = "CR2") -> ClusterRobustFit:
    """OLS / WLS coefficients with the CR2 (bias-reduced linearization) cluster-robust covariance.

    ``beta = M X' W y`` with ``M = (X' W X)^{-1}``, and
    ``V_CR2 = M (sum_g X_g' W_g A_g e_g e_g' A_g' W_g X_g) M`` where the adjustment
    ``A_g = [((I - H)(I - H)')_gg]^{-1/2}`` (``H = X M X' W``; for OLS ``(I - H)_gg^{-1/2}``) makes ``V``
    exactly unbiased when the errors are independent and homoskedastic: the working model is the identity,
    as in R's ``clubSandwich::vcovCR(type = "CR2")`` for ``lm`` (Bell & McCaffrey 2002; Pustejovsky &
    Tipton 2018, eq. 5). With every cluster a single observation CR2 is HC2 (MacKinnon & White 1985).
    A cluster of more than :data:`EIGH_MAX_ROWS` rows gets ``A_g`` applied to its ``p`` columns without forming
    any ``n_g x n_g`` matrix (:func:`_cr2_block_lowrank`: the same adjustment to a checked ``1e-10`` relative;
    linear rather than cubic in the cluster's size, for outlets of thousands of articles).
    ``kind="CR1"`` gives the Liang-Zeger sandwich times ``G/(G-1) (n-1)/(n-p)`` (Stata's and statsmodels'
    ``cov_type="cluster"``), ``"CR0"`` the plain sandwich. Tests of contrasts: :func:`cr2_test`.

    Parameters
    ----------
    X : array (n, p)
        Design matrix (include the intercept column).
    y : array (n,)
    clusters : array-like (n,)
        Cluster (outlet) of each row.
    weights : array (n,), optional
        WLS weights (precision weights are not assumed: the working model stays the identity).
    target : array (n,), optional
        Diagonal of the working covariance ``Phi`` for the CR2 adjustments and the Satterthwaite df
        (default: the identity; clubSandwich's ``target``). ``A_g = R_g' (R_g S_g R_g')^{-1/2} R_g`` with
        ``S_g = ((I - H) Phi (I - H)')_gg`` and ``R_g' R_g = Phi_g``, so that ``E[V] = Var(beta)`` under ``Phi``.
    kind : {"CR2", "CR1", "CR0"}

    Examples
    --------
    A difference in means with every observation its own cluster: CR2 is HC2, whose variance of the
    difference is ``s_1^2/n_1 + s_2^2/n_2`` (the Welch variance): here ``0.5/2 + 2/2 = 1.25``.

    >>> X = np.column_stack([np.ones(4), [0, 0, 1, 1]])
    >>> fit = cr2_ols(X, np.array([1.0, 2.0, 4.0, 6.0]), [1, 2, 3, 4])
    >>> fit.coef.round(6).tolist(), round(float(fit.vcov[1, 1]), 6)
    ([1.5, 3.5], 1.25)
    """
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    if X.ndim != 2 or y.shape != (X.shape[0],):
        raise ValueError(f"X must be (n, p) and y (n,); got {X.shape} and {y.shape}")
    w = np.ones(len(y)) if weights is None else np.asarray(weights, dtype=float)
    WX = X * w[:, None]
    coef = np.linalg.pinv(X.T @ WX) @ (WX.T @ y)
    phi = np.ones(len(y)) if target is None else np.asarray(target, dtype=float)
    if phi.shape != y.shape or np.any(phi <= 0):
        raise ValueError("target must be a positive vector of length n")
    return _cluster_robust(X, y - X @ coef, w, clusters, phi, kind=kind, coef=coef)


def cr2_glm(result, clusters, *, kind: str = "CR2") -> ClusterRobustFit:
    """CR2 cluster-robust covariance of a fitted statsmodels GLM, from its IRLS working regression.

    At convergence a GLM is the WLS fit of the working response on ``X`` with working weights
    ``w_i = p_i / (V(mu_i) g'(mu_i)^2)`` (``p_i`` prior weights, ``V`` the variance function, ``g`` the link)
    and working residuals ``r_i = (y_i - mu_i) g'(mu_i)``; for a (quasi-)Poisson log-link model with a
    ``log(exposure)`` offset, ``w_i = mu_i`` and ``r_i = (y_i - mu_i) / mu_i``. The sandwich is
    ``M (sum_g X_g' W_g A_g r_g r_g' A_g' W_g X_g) M`` with ``M = (X' W X)^{-1}`` (the dispersion cancels)
    and CR2 adjustments for the working model ``Phi = W^{-1}`` (the model's own variance function, the
    default of ``clubSandwich::vcovCR.glm``, which gives ``inverse_var = TRUE``):
    ``A_g = Phi_g^{1/2} [Phi_g^{1/2} (Phi_g - X_g M X_g') Phi_g^{1/2}]^{-1/2} Phi_g^{1/2}``, which is
    :func:`cr2_ols` with ``weights=w, target=1/w`` on the working response. (With clusters of more than one
    row this is *not* CR2 of the OLS fit on ``sqrt(w)``-scaled data, which uses another square root of the
    same bias correction; with single-row clusters both are HC2.) An outlet whose fitted means span many decades
    keeps every document's adjustment: which eigenvalues count as zero is decided in the working model's metric,
    where only structure (a coefficient estimable from that outlet alone) makes one vanish (:func:`_cr2_adjustment`).
    Satterthwaite degrees of freedom (:func:`cr2_test`) use the same working model, so ``exp(beta +- t_df se)`` is
    the rate-ratio interval.

    The bias correction is exact only for a linear model under its working model. In ``benchmarks/validity.py``
    (sparse items, outlet ICC 0.1 on the document-rate scale, i.e. log-normal outlet multipliers with log-sd
    0.8-1.4) the CR2+BM rate-ratio test kept its level at 5 outlets per language (null rejection 0.011-0.064,
    coverage 0.933-0.958) but rejected 0.08-0.12 at 10 outlets per language, where the mean CR2 variance of
    ``log RR`` was about a quarter below its simulated variance; the outlet permutation test and CR2 on document
    rates held (0.03-0.08). The wild cluster score bootstrap (:func:`wild_score_bootstrap_glm`) covered better in
    those designs (0.917-0.956 against 0.894-0.917) but worse in others, and at 5 outlets per language
    (``validity.py --glm-bootstrap``; benchmarks/README.md), so it is not the default.

    Parameters
    ----------
    result : statsmodels GLMResults
        A fitted ``sm.GLM(...).fit()``; ``var_weights`` and ``freq_weights`` are used as prior weights.
    clusters : array-like (n,)
    kind : {"CR2", "CR1", "CR0"}

    Examples
    --------
    A Poisson GLM with one binary covariate and every observation its own cluster: the fitted means are the
    group means (2 and 4) and the CR0 variance of the log rate ratio is the delta-method sum
    ``sum_a (y - 2)^2 / (3 * 2)^2 + sum_b (y - 4)^2 / (3 * 4)^2 = 2/36 + 8/144``.

    >>> import statsmodels.api as sm
    >>> X = np.column_stack([np.ones(6), [0, 0, 0, 1, 1, 1]])
    >>> y = np.array([1.0, 2.0, 3.0, 2.0, 4.0, 6.0])
    >>> fit = cr2_glm(sm.GLM(y, X, family=sm.families.Poisson()).fit(), np.arange(6), kind="CR0")
    >>> round(float(fit.vcov[1, 1]), 10) == round(2 / 36 + 8 / 144, 10)
    True
    """
    model = result.model
    X = np.asarray(model.exog, dtype=float)
    y = np.asarray(model.endog, dtype=float)
    mu = np.asarray(result.fittedvalues, dtype=float)
    family = model.family
    gprime = family.link.deriv(mu)
    prior = np.asarray(model.var_weights, dtype=float) * np.asarray(model.freq_weights, dtype=float)
    w = prior / (family.variance(mu) * gprime**2)
    r = (y - mu) * gprime
    return _cluster_robust(X, r, w, clusters, 1.0 / w, kind=kind, coef=np.asarray(result.params, dtype=float))


def _satterthwaite(fit: ClusterRobustFit, c: np.ndarray) -> float:
    """Satterthwaite df of ``c' V c`` under the working model (Bell & McCaffrey 2002; Pustejovsky & Tipton 2018).

    ``c' V c = e' Q Q' e`` with ``Q`` (n x G) holding ``c' estmat_g`` in cluster g's rows, and
    ``e = (I - H) eps``, ``Var(eps) = Phi``; with ``Omega = Q' (I - H) Phi (I - H)' Q`` (G x G),
    ``df = (tr Omega)^2 / tr(Omega^2)`` (the normal-theory moments of a quadratic form).
    """
    n, G = fit.nobs, fit.n_clusters
    q = c @ fit.estmat
    Q = np.zeros((n, G))
    Q[np.arange(n), fit.cluster_index] = q
    WX = fit.X * fit.weights[:, None]
    F = Q - WX @ (fit.bread @ (fit.X.T @ Q))  # (I - H)' Q, since H' = W X M X'
    omega = F.T @ (F * fit.phi[:, None])
    return float(np.trace(omega) ** 2 / np.sum(omega**2))


def cr2_test(result: ClusterRobustFit, contrast, *, null: float = 0.0, level: float = 0.95) -> ContrastTest:
    """t test and ``t(df)`` interval of ``c' beta`` with Satterthwaite (Bell-McCaffrey) degrees of freedom.

    ``t = (c' beta - null) / sqrt(c' V c)`` referred to ``t(df)``, ``df = (tr Omega)^2 / tr(Omega^2)``
    where ``Omega = Q' (I - H) Phi (I - H)' Q`` and ``Q`` holds the cluster-wise contrast weights
    ``c' M X_g' W_g A_g`` (Bell & McCaffrey 2002, sec. 4; Pustejovsky & Tipton 2018, eq. 11; what
    ``clubSandwich::coef_test(test = "Satterthwaite")`` computes). With few clusters, or one cluster
    dominating the contrast, ``df`` is far below ``G - 1`` and the interval widens accordingly.

    For a two-group difference in means with one observation per cluster, ``t`` is Welch's t exactly and
    ``df`` is the Welch-Satterthwaite formula evaluated under the *working* model: with the identity
    (equal variances) ``df = (1/n_1 + 1/n_2)^2 / (1/(n_1^2 (n_1 - 1)) + 1/(n_2^2 (n_2 - 1)))``, which is
    ``n - 2`` for equal group sizes (Imbens & Kolesar 2016, REStat 98(4), sec. 3); with the per-group sample
    variances as working model (``cr2_ols(..., target=...)``) it is Welch's df. The BM df is deliberately
    not Welch's: plugging noisy variance estimates into the df is what makes Welch's df unstable in small
    samples.

    Parameters
    ----------
    result : ClusterRobustFit
        From :func:`cr2_ols` or :func:`cr2_glm` (any ``kind``; the df always use the CR2 working model
        moments of the chosen estimator).
    contrast : array (p,)
    null : float
        The hypothesised value of ``c' beta``.
    level : float
        Confidence level of ``(ci_low, ci_high)``.

    Examples
    --------
    Groups {1, 2} and {4, 6}, one observation per cluster: Welch's t = 3.5 / sqrt(0.5/2 + 2/2) = 3.1305;
    the identity working model gives df = n - 2 = 2; the per-group variances (0.5, 2) as working model give
    Welch's df = 1.25^2 / (0.25^2 + 1^2) = 1.4706.

    >>> X = np.column_stack([np.ones(4), [0, 0, 1, 1]])
    >>> y = np.array([1.0, 2.0, 4.0, 6.0])
    >>> r = cr2_test(cr2_ols(X, y, [1, 2, 3, 4]), [0, 1])
    >>> round(r.t, 4), round(r.df, 4)
    (3.1305, 2.0)
    >>> round(cr2_test(cr2_ols(X, y, [1, 2, 3, 4], target=[0.5, 0.5, 2, 2]), [0, 1]).df, 4)
    1.4706
    """
    c = np.asarray(contrast, dtype=float)
    if c.shape != result.coef.shape:
        raise ValueError(f"contrast has shape {c.shape}, expected {result.coef.shape}")
    estimate = float(c @ result.coef)
    se = float(np.sqrt(max(c @ result.vcov @ c, 0.0)))
    df = _satterthwaite(result, c)
    t = (estimate - null) / se if se > 0 else float("nan")
    p = float(2 * stats.t.sf(abs(t), df)) if np.isfinite(t) else float("nan")
    q = float(stats.t.ppf(0.5 + level / 2, df))
    return ContrastTest(estimate, se, df, float(t), p, estimate - q * se, estimate + q * se, level)


# --------------------------------------------------------------------------------------------------------
# wild cluster bootstrap (restricted)
# --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BootstrapResult:
    """Result of :func:`wild_cluster_bootstrap`."""

    estimate: float
    t: float  # observed CR1 or CR2 t statistic
    p: float  # two-sided, #{|t*| >= |t|} / B
    n_resamples: int
    weights: str  # "webb" or "rademacher"
    enumerated: bool  # all 2^G Rademacher sign vectors used
    studentize: str


_WEBB = np.array([-np.sqrt(1.5), -1.0, -np.sqrt(0.5), np.sqrt(0.5), 1.0, np.sqrt(1.5)])


def wild_cluster_bootstrap(
    X,
    y,
    clusters,
    *,
    coef: int,
    n_resamples: int = 9999,
    rng: np.random.Generator | None = None,
    weights: str = "auto",
    studentize: str = "CR1",
) -> BootstrapResult:
    """Restricted wild cluster bootstrap (WCR) p-value of H0: ``beta_coef = 0`` in an OLS regression.

    Fit the model with ``beta_coef = 0`` imposed (drop the column), keep its fitted values ``X b~`` and
    residuals ``u~``; for each draw multiply every cluster's residuals by one weight ``v_g``,
    ``y* = X b~ + v_g u~_g``, refit the full model and compute ``t* = beta*_coef / se*`` with the same
    cluster-robust standard error (CR1 or CR2) as the observed ``t``; ``p = #{|t*| >= |t|} / B``
    (Cameron, Gelbach & Miller 2008). Imposing the null (WCR rather than WCU) is what keeps the size right
    with few clusters; with few *treated* clusters (one language from 3-5 outlets) even WCR can be
    conservative or liberal (MacKinnon & Webb 2017, 2018). Weights: Webb's six-point distribution
    (``+-sqrt(1/2), +-1, +-sqrt(3/2)``, equal probability) when there are fewer than 12 clusters,
    since Rademacher's ``2^G`` distinct draws are too few (Webb 2023); Rademacher otherwise. When
    Rademacher weights are used and ``2^G <= n_resamples`` all ``2^G`` sign vectors are enumerated.
    Because the model is linear, every ``t*`` is computed in one matrix product:
    ``e* = (I - H)(v . u~)``.

    Parameters
    ----------
    X : array (n, p)
    y : array (n,)
    clusters : array-like (n,)
    coef : int
        Column of ``X`` under test.
    n_resamples : int
    rng : numpy.random.Generator
    weights : {"auto", "webb", "rademacher"}
    studentize : {"CR1", "CR2"}

    Examples
    --------
    Four clusters, Rademacher weights enumerated: 16 sign vectors, so ``p`` is a multiple of 1/16
    (and at least 2/16: the vectors ``+1`` and ``-1`` give ``t* = t`` and ``-t``).

    >>> X = np.column_stack([np.ones(8), [0, 0, 0, 0, 1, 1, 1, 1]])
    >>> y = np.array([1.0, 2.0, 2.0, 3.0, 2.0, 4.0, 3.0, 5.0])
    >>> r = wild_cluster_bootstrap(X, y, [1, 1, 2, 2, 3, 3, 4, 4], coef=1, weights="rademacher", n_resamples=999)
    >>> r.enumerated, r.n_resamples, r.p * 16 == round(r.p * 16), r.p >= 2 / 16
    (True, 16, True, True)
    """
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    n, p = X.shape
    _, index = np.unique(_as_str_array(clusters), return_inverse=True)
    G = int(index.max()) + 1
    if weights == "auto":
        weights = "webb" if G < 12 else "rademacher"
    if weights not in ("webb", "rademacher"):
        raise ValueError(f"weights must be 'auto', 'webb' or 'rademacher', not {weights!r}")
    observed = cr2_ols(X, y, index, kind=studentize)
    c = np.zeros(p)
    c[coef] = 1.0
    estimate = float(observed.coef[coef])
    t_obs = estimate / math.sqrt(observed.vcov[coef, coef])
    # restricted fit
    X0 = np.delete(X, coef, axis=1)
    u0 = y - X0 @ (np.linalg.pinv(X0) @ y) if X0.shape[1] else y.copy()
    enumerated = weights == "rademacher" and 2**G <= n_resamples
    if enumerated:
        v = np.array(list(itertools.product([1.0, -1.0], repeat=G)))
    else:
        if rng is None:
            raise ValueError("rng is required unless all Rademacher sign vectors are enumerated")
        support = _WEBB if weights == "webb" else np.array([-1.0, 1.0])
        v = rng.choice(support, size=(n_resamples, G))
    ustar = v[:, index] * u0[None, :]  # B x n; y* = X0 b0 + ustar, and X0 b0 is in the column space of X
    M = observed.bread
    row = c @ M @ X.T  # beta*_coef = row @ y*; row @ X0 b0 = 0 because b0's implied beta_coef is 0
    beta_star = ustar @ row
    estar = ustar - (ustar @ X) @ M @ X.T
    q = c @ observed.estmat
    indicator = np.zeros((n, G))
    indicator[np.arange(n), index] = 1.0
    scores = (estar * q[None, :]) @ indicator  # B x G cluster scores of the contrast
    se_star = np.sqrt(np.sum(scores**2, axis=1))
    with np.errstate(divide="ignore", invalid="ignore"):
        t_star = beta_star / se_star
    tol = 1e-10 * max(1.0, abs(t_obs))
    pval = float(np.mean(np.abs(t_star) >= abs(t_obs) - tol))
    return BootstrapResult(estimate, float(t_obs), pval, len(v), weights, enumerated, studentize)


def wild_score_bootstrap_glm(
    y,
    X,
    clusters,
    *,
    coef: int,
    null: float = 0.0,
    offset=None,
    n_resamples: int = 999,
    rng: np.random.Generator | None = None,
    weights: str = "auto",
) -> BootstrapResult:
    """Wild cluster score bootstrap p-value of H0: ``beta_coef = null`` in a Poisson (log-link) GLM.

    Kline & Santos (2012): fit the model with ``beta_coef = null`` imposed (the column moved into the
    offset), so only the restricted fit is needed; the cluster scores of the tested coefficient,
    with the nuisance coefficients partialled out, are
    ``s_g = sum_{i in g} (x_ic - x_i0' H_00^{-1} H_0c) (y_i - mu~_i)`` (``H = X' diag(mu~) X``, ``0`` the
    other columns): under H0 their sum is centred at 0. The statistic is the cluster-robust score
    statistic ``T = (sum_g s_g)^2 / sum_g s_g^2``; each bootstrap draw multiplies every cluster's score
    by one weight ``v_g`` (Webb's six-point weights below 12 clusters, Rademacher above) and recomputes
    ``T* = (sum_g v_g s_g)^2 / sum_g (v_g s_g)^2`` without refitting; ``p = #{T* >= T} / B``. The
    quasi-Poisson dispersion cancels from ``T``, and the score is that of the quasi-Poisson fit. Testing
    at ``null = log(rate ratio)`` and collecting the values not rejected gives an interval (test
    inversion), which is how its coverage is measured in ``benchmarks/validity.py``.

    Why: the CR2 sandwich of the unrestricted GLM is a Wald statistic whose variance, with large outlet
    effects and bursty documents, fell about a quarter short at 10 outlets per language; a score test
    computes its variance from the restricted fit, and the wild bootstrap of cluster scores uses the
    clusters' own spread without a normal or t reference (MacKinnon & Webb 2017 on few treated clusters).

    Parameters
    ----------
    y : array (n,)
        Counts.
    X : array (n, p)
        Design matrix with the intercept.
    clusters : array-like (n,)
    coef : int
        Column under test.
    null : float
        Hypothesised value of ``beta_coef`` (log scale).
    offset : array (n,), optional
        ``log(exposure)``.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> outlet = np.repeat(np.arange(8), 20)
    >>> x = (outlet < 4).astype(float)
    >>> y = rng.poisson(2.0 * np.exp(rng.normal(0, 0.3, 8))[outlet])
    >>> r = wild_score_bootstrap_glm(y, np.column_stack([np.ones(160), x]), outlet, coef=1, rng=rng)
    >>> 0 < r.p <= 1, r.weights
    (True, 'webb')
    """
    import statsmodels.api as sm

    y = np.asarray(y, dtype=float)
    X = np.asarray(X, dtype=float)
    n, p = X.shape
    offset = np.zeros(n) if offset is None else np.asarray(offset, dtype=float)
    _, index = np.unique(_as_str_array(clusters), return_inverse=True)
    G = int(index.max()) + 1
    if weights == "auto":
        weights = "webb" if G < 12 else "rademacher"
    x_c = X[:, coef]
    X0 = np.delete(X, coef, axis=1)
    restricted = sm.GLM(y, X0, family=sm.families.Poisson(), offset=offset + null * x_c).fit()
    mu = np.asarray(restricted.fittedvalues, dtype=float)
    H00 = X0.T @ (X0 * mu[:, None])
    H0c = X0.T @ (x_c * mu)
    partial = x_c - X0 @ np.linalg.solve(H00, H0c)
    scores = np.bincount(index, weights=partial * (y - mu), minlength=G)
    total = scores.sum()
    t_obs = total**2 / np.sum(scores**2) if np.sum(scores**2) > 0 else 0.0
    if rng is None:
        raise ValueError("rng is required")
    support = _WEBB if weights == "webb" else np.array([-1.0, 1.0])
    v = rng.choice(support, size=(n_resamples, G))
    perturbed = v * scores[None, :]
    with np.errstate(divide="ignore", invalid="ignore"):
        t_star = perturbed.sum(axis=1) ** 2 / np.sum(perturbed**2, axis=1)
    pval = float(np.mean(t_star >= t_obs - 1e-12 * max(1.0, t_obs)))
    return BootstrapResult(
        float(null), float(np.sign(total) * math.sqrt(t_obs)), pval, n_resamples, weights, False, "score"
    )


DESIGN_COLUMNS = [
    "group",
    "outlets",
    "documents",
    "docs_per_outlet_min",
    "docs_per_outlet_median",
    "docs_per_outlet_max",
    "unit",
    "note",
]


def design_table(docvars: pd.DataFrame, *, group: str, cluster: str) -> pd.DataFrame:
    """The study's design as a table: per group, its outlets and documents, and the unit that
    comparisons between the groups are made with.

    ``unit`` is ``outlets`` when every outlet lies in one group and each group has at least two
    (the groups are unions of outlets: whole outlets are permuted), ``none`` when a group has a
    single outlet or an outlet spans groups (:func:`nesting`'s sentence in ``note``: its contrast is
    an outlet contrast, so no p-value between the groups), and ``documents`` without a cluster
    column. Columns :data:`DESIGN_COLUMNS` (the outlet columns renamed from :func:`design_summary`).

    >>> d = pd.DataFrame({"language": ["vi", "vi", "vi", "en"], "outlet": ["A", "A", "B", "C"]})
    >>> design_table(d, group="language", cluster="outlet")[["group", "outlets", "unit"]].values.tolist()
    [['en', 1, 'none'], ['vi', 2, 'none']]
    """
    if not cluster or cluster not in docvars.columns:
        counts = docvars[group].astype(str).value_counts().sort_index()
        note = (
            f"no {cluster} column: documents are the unit"
            if cluster
            else "[framing] cluster not set: documents are the unit"
        )
        return pd.DataFrame(
            {
                "group": counts.index,
                "outlets": math.nan,
                "documents": counts.to_numpy(),
                "docs_per_outlet_min": math.nan,
                "docs_per_outlet_median": math.nan,
                "docs_per_outlet_max": math.nan,
                "unit": "documents",
                "note": note,
            },
            columns=DESIGN_COLUMNS,
        )
    table = design_summary(docvars, group=group, cluster=cluster).rename(columns={"clusters": "outlets"})
    design = nesting(docvars[group], docvars[cluster], group_word=group, cluster_word=cluster)
    table["unit"] = "none" if design.problem else "outlets"
    table["note"] = design.problem
    return table.reindex(columns=DESIGN_COLUMNS)
