"""Design-based supervised learning (DSL): unbiased prevalences, differences and regression
coefficients from an imperfect dictionary measure plus a random human-coded subsample.

Egami, Hinck, Stewart & Wei (2023), "Using imperfect surrogates for downstream inference:
design-based supervised learning for social science applications of large language models",
NeurIPS 36 (arXiv:2306.04746). With ``Yhat_i`` the automated measure (the dictionary's 0/1
presence, or a cross-fitted prediction from it and covariates: :func:`cross_fit_predictions`),
``R_i = 1`` if unit ``i`` was coded by people (code ``Y_i``) and ``pi_i`` its known inclusion
probability, the pseudo-outcome

    Ytilde_i = Yhat_i + (R_i / pi_i) (Y_i - Yhat_i)

has ``E[Ytilde_i | X_i] = E[Y_i | X_i]`` whatever the errors of ``Yhat`` (they may differ by
language): its mean is unbiased for the prevalence, and a regression whose estimating equations
use it, ``sum_i X_i (Ytilde_i - mu(X_i' beta)) = 0`` (``mu`` identity for OLS, logistic for
logit), is consistent for the coefficients of the regression of ``Y`` on ``X``. Variance: the
sandwich ``J^-1 Omega J^-1 / n`` with ``J = mean mu'(X'beta) X X'`` and ``Omega = mean psi psi'``,
``psi_i = X_i (Ytilde_i - mu_i)`` (or per-cluster sums of ``psi`` for outlet-clustered errors),
as in the paper, which treats ``R_i`` as independent draws with probability ``pi_i``.

The naive estimate uses ``Yhat`` as if it were ``Y`` (dictionary only); it is given side by side
to show how much the measurement error moves the result.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

__all__ = ["pseudo_outcome", "dsl_prevalence", "dsl_regression", "DSLFit", "cross_fit_predictions"]


def _arrays(data: pd.DataFrame, outcome: str, predicted: str, pi: str, coded: str | None):
    if not isinstance(data, pd.DataFrame):
        raise ValueError("data must be a DataFrame with one row per unit (coded or not).")
    for column in (outcome, predicted, pi, *([coded] if coded else [])):
        if column not in data.columns:
            raise ValueError(f"data has no column '{column}'; add it or name the right column in the arguments.")
    y = pd.to_numeric(data[outcome], errors="coerce").to_numpy(float)
    yhat = pd.to_numeric(data[predicted], errors="coerce").to_numpy(float)
    p = pd.to_numeric(data[pi], errors="coerce").to_numpy(float)
    r = data[coded].astype(bool).to_numpy() if coded else ~np.isnan(y)
    if np.isnan(yhat).any():
        raise ValueError(f"column '{predicted}' (the automated measure) has missing values; every unit needs one.")
    if np.isnan(p).any() or (p <= 0).any() or (p > 1).any():
        raise ValueError(f"column '{pi}' must hold inclusion probabilities in (0, 1] for every unit.")
    if np.isnan(y[r]).any():
        raise ValueError(f"column '{outcome}' is missing for units marked coded in '{coded}'; give their human code.")
    return y, yhat, r, p


def pseudo_outcome(y, yhat, coded, pi) -> np.ndarray:
    """``Ytilde = Yhat + (R / pi) (Y - Yhat)``, the DSL pseudo-outcome (Egami et al. 2023, eq. 3).

    ``y`` may be NaN where ``coded`` is False (it is not used there).

    Examples
    --------
    >>> pseudo_outcome([1, float("nan"), 0], [0, 1, 1], [True, False, True], [0.5, 0.5, 0.25]).tolist()
    [2.0, 1.0, -3.0]
    """
    y, yhat, pi = (np.asarray(a, dtype=float) for a in (y, yhat, pi))
    r = np.asarray(coded, dtype=bool)
    if not (y.shape == yhat.shape == r.shape == pi.shape):
        raise ValueError("y, yhat, coded and pi must have the same length (one value per unit).")
    if np.isnan(pi).any() or (pi <= 0).any() or (pi > 1).any():
        raise ValueError("pi must hold inclusion probabilities in (0, 1].")
    if np.isnan(y[r]).any():
        raise ValueError("y is missing for a coded unit; every coded unit needs its human code.")
    return yhat + np.where(r, (np.where(r, y, 0.0) - yhat) / pi, 0.0)


def _solve(x: np.ndarray, target: np.ndarray, family: str, max_iter: int = 100, tol: float = 1e-12):
    """Root of sum x_i (target_i - mu(x_i' b)) = 0; returns (b, mu, mu', converged)."""
    xtx = x.T @ x
    if np.linalg.matrix_rank(xtx) < x.shape[1]:
        raise ValueError("the covariates are collinear (or a column is constant with the intercept); drop one.")
    if family == "ols":
        b = np.linalg.solve(xtx, x.T @ target)
        return b, x @ b, np.ones(len(x)), True
    b = np.zeros(x.shape[1])
    for _ in range(max_iter):
        eta = np.clip(x @ b, -35, 35)
        mu = 1.0 / (1.0 + np.exp(-eta))
        d = mu * (1 - mu)
        step = np.linalg.solve((x * d[:, None]).T @ x, x.T @ (target - mu))
        b = b + step
        if np.max(np.abs(step)) < tol * (1 + np.max(np.abs(b))):
            eta = np.clip(x @ b, -35, 35)
            mu = 1.0 / (1.0 + np.exp(-eta))
            return b, mu, mu * (1 - mu), True
    return b, mu, d, False


def _sandwich(x, target, mu, dmu, cluster=None) -> np.ndarray:
    n = len(x)
    psi = x * (target - mu)[:, None]
    if cluster is not None:
        psi = pd.DataFrame(psi).groupby(np.asarray(cluster)).sum().to_numpy()
    bread = np.linalg.inv((x * dmu[:, None]).T @ x / n)
    meat = psi.T @ psi / n
    return bread @ meat @ bread / n


@dataclass(frozen=True)
class DSLFit:
    """A DSL regression and its naive counterpart.

    Attributes
    ----------
    table : DataFrame
        ``term, estimate, se, low, high, naive, naive_se, naive_low, naive_high``.
    vcov, naive_vcov : DataFrame
        Sandwich covariance matrices (terms × terms).
    family : str
    n, n_coded : int
    clusters : int or None
    """

    table: pd.DataFrame
    vcov: pd.DataFrame
    naive_vcov: pd.DataFrame
    family: str
    n: int
    n_coded: int
    clusters: int | None


def _design_matrix(data: pd.DataFrame, covariates: Sequence[str], intercept: bool) -> tuple[np.ndarray, list[str]]:
    if isinstance(covariates, str):
        raise ValueError("covariates must be a list of column names, e.g. covariates=['is_vi'].")
    for column in covariates:
        if column not in data.columns:
            raise ValueError(f"data has no covariate column '{column}'; add it (numeric, e.g. a 0/1 dummy).")
    x = (
        data[list(covariates)].apply(pd.to_numeric, errors="coerce").to_numpy(float)
        if covariates
        else np.empty((len(data), 0))
    )
    if np.isnan(x).any():
        bad = [c for c in covariates if data[c].isna().any() or pd.to_numeric(data[c], errors="coerce").isna().any()]
        raise ValueError(
            f"covariate column(s) {bad} must be numeric without missing values; make dummies for categories."
        )
    names = list(covariates)
    if intercept:
        x = np.column_stack([np.ones(len(data)), x])
        names = ["intercept", *names]
    if x.shape[1] == 0:
        raise ValueError("the model has no term: give covariates or keep the intercept.")
    return x, names


def dsl_regression(
    data: pd.DataFrame,
    *,
    outcome: str,
    predicted: str,
    pi: str,
    covariates: Sequence[str] = (),
    family: str = "ols",
    cluster: str | None = None,
    coded: str | None = None,
    intercept: bool = True,
    level: float = 0.95,
) -> DSLFit:
    """Regression of the human code on covariates, estimated with the DSL pseudo-outcome.

    Solves ``sum_i X_i (Ytilde_i - mu(X_i' beta)) = 0`` (OLS: ``mu(t) = t``, closed form
    ``beta = (X'X)^-1 X' Ytilde``; logit: ``mu(t) = 1 / (1 + exp(-t))``, Newton's method), the DSL
    estimating equations of Egami et al. (2023, section 3) for a model linear in ``Y``; the
    variance is the sandwich of the module docstring, clustered when ``cluster`` names a column
    (no small-sample correction). The naive fit replaces ``Ytilde`` by ``Yhat``.

    Parameters
    ----------
    data : DataFrame
        One row per unit of the population (coded or not).
    outcome : str
        Human code (NaN where not coded).
    predicted : str
        Automated measure ``Yhat`` (0/1 or a probability).
    pi : str
        Inclusion probability of each unit (also for uncoded units).
    covariates : list of str
        Numeric columns (make dummies for categories).
    family : {"ols", "logit"}
    cluster : str, optional
        Column of cluster ids (e.g. outlet) for cluster-robust variance.
    coded : str, optional
        0/1 column marking coded units; default: ``outcome`` is not missing.

    Returns
    -------
    DSLFit

    Examples
    --------
    The DSL OLS on an intercept only is the mean of the pseudo-outcome ([2, 1, -3, 0] here):

    >>> data = pd.DataFrame({"y": [1, None, 0, None], "yhat": [0, 1, 1, 0], "pi": [0.5, 0.5, 0.25, 0.5]})
    >>> dsl_regression(data, outcome="y", predicted="yhat", pi="pi").table[["estimate", "naive"]].values.tolist()
    [[0.0, 0.5]]
    """
    if family not in ("ols", "logit"):
        raise ValueError(f"family must be 'ols' or 'logit', not {family!r}.")
    if not 0 < level < 1:
        raise ValueError("level must be between 0 and 1, e.g. level=0.95.")
    y, yhat, r, p = _arrays(data, outcome, predicted, pi, coded)
    x, names = _design_matrix(data, covariates, intercept)
    groups = None
    if cluster is not None:
        if cluster not in data.columns or data[cluster].isna().any():
            raise ValueError(f"cluster column '{cluster}' must exist and have no missing values.")
        groups = data[cluster].to_numpy()
    target = pseudo_outcome(y, yhat, r, p)
    z = stats.norm.ppf(0.5 + level / 2)
    out = {"term": names}
    covs = []
    for label, t in (("", target), ("naive_", yhat)):
        b, mu, dmu, converged = _solve(x, t, family)
        if not converged:
            raise ValueError(
                "the logit estimating equations did not converge (separation, or too few coded units); "
                "use family='ols' or code more units."
            )
        v = _sandwich(x, t, mu, dmu, groups)
        se = np.sqrt(np.diag(v))
        out[(label + "estimate") if label == "" else "naive"] = b
        out[label + "se"] = se
        out[label + "low"], out[label + "high"] = b - z * se, b + z * se
        covs.append(pd.DataFrame(v, index=names, columns=names))
    table = pd.DataFrame(out)[["term", "estimate", "se", "low", "high", "naive", "naive_se", "naive_low", "naive_high"]]
    return DSLFit(
        table, covs[0], covs[1], family, len(data), int(r.sum()), None if groups is None else len(set(groups))
    )


def _stratified_variance(y, yhat, r, p, strata, *, clusters=None) -> float:
    """Variance of the DSL mean of one group under stratified fixed-size sampling (see dsl_prevalence).

    The first term is the variance of the mean of ``Y`` over the units (independent units, or
    independent clusters of units when ``clusters`` is given), estimated from the pseudo-outcomes;
    the second is the exact design variance of the correction term."""
    n = len(y)
    target = pseudo_outcome(y, yhat, r, p)
    theta = target.mean()
    if clusters is None:
        second = pseudo_outcome(np.where(r, y, 0.0) ** 2, yhat**2, r, p).mean()
        v = max(second - theta**2, 0.0) / n
    else:
        # sum_c (sum_{i in c} (Ytilde_i - theta))^2 over-counts sum_c (sum_{i in c} (Y_i - theta))^2 by the
        # Poisson design variance of the correction, sum_i (1 - pi_i) / pi_i e_i^2, whose unbiased
        # estimate sum_i R_i (1 - pi_i) / pi_i^2 e_i^2 is taken off (one unit per cluster: the formula above)
        sums = pd.Series(target - theta).groupby(np.asarray(clusters)).sum().to_numpy()
        e2 = np.where(r, (np.where(r, y, 0.0) - yhat) ** 2, 0.0)
        v = max((sums**2).sum() - (e2 * (1 - p) / p**2).sum(), 0.0) / n**2
    for h in pd.unique(strata):
        in_h = strata == h
        big, coded = int(in_h.sum()), int((in_h & r).sum())
        if coded == big:
            continue
        if coded < 2:
            raise ValueError(f"stratum '{h}' has fewer than two coded units; the stratified variance needs two.")
        d = (y - yhat)[in_h & r]
        v += (big / n) ** 2 * (1 / coded - 1 / big) * d.var(ddof=1)
    return v


def dsl_prevalence(
    data: pd.DataFrame,
    *,
    outcome: str,
    predicted: str,
    pi: str,
    group: str = "language",
    groups: Sequence[str] = ("vi", "en"),
    cluster: str | None = None,
    coded: str | None = None,
    variance: str = "sandwich",
    stratum: str = "stratum",
    level: float = 0.95,
) -> pd.DataFrame:
    """Prevalence of a code per group (language) and the difference ``groups[0] - groups[1]``,
    DSL-corrected and naive, side by side.

    The DSL prevalence of a group is the mean of ``Ytilde`` over its units (unbiased whatever
    the dictionary's error rates in that group). Variance (``variance=``):

    * ``"sandwich"`` (default): the DSL paper's, ``sum_i (Ytilde_i - mean)^2 / n^2`` per group
      (the regression sandwich on group dummies; clustered by ``cluster`` if given). It treats
      each ``R_i`` as an independent draw, so under fixed-size stratified sampling it is
      conservative (too wide, never too narrow in expectation).
    * ``"stratified"``: exact for ``n_h`` units drawn without replacement in stratum ``h``:
      ``sigma_Y^2 / n + sum_h (N_h / n)^2 (1 / n_h - 1 / N_h) s_h^2`` with ``s_h^2`` the sample
      variance of ``Y - Yhat`` among the coded units of stratum ``h`` and ``sigma_Y^2`` the DSL
      estimate of ``Var(Y)`` (Lohr 2022, eq. 3.3 applied to the correction term). Needs a
      ``stratum`` column. With ``cluster`` (units nested in documents or outlets: sentences, KWIC
      windows), the first term becomes the cluster-robust
      ``[sum_c (sum_{i in c} (Ytilde_i - mean))^2 - sum_i R_i (1 - pi_i) / pi_i^2 (Y_i - Yhat_i)^2] / n^2``
      (the sandwich's clustered sum minus its unbiased estimate of the Poisson design variance it
      contains; with one unit per cluster it equals ``sigma_Y^2 / n``), while the design term
      stays exact because the units, not the clusters, were drawn.

    What is estimated depends on the unit coded (each unit counts once):

    * documents: the share of the group's documents that use the frame;
    * sentences: the share of the group's sentences that use it (a long article weighs more than
      a short one; the framing tables' per-unit shares with ``[units] kind = "sentences"``, window 1);
    * KWIC windows: the share of the occurrences of the study's key terms whose window uses it
      ("when the term is mentioned, how often in this frame").

    Sub-document units of one document are not independent; pass ``cluster`` (the document, or a
    coarser outlet) so the interval accounts for it.
    A group whose units all lie in one cluster (one document, one outlet) has no estimable
    variance: its SE and interval (and the difference's) are NaN rather than a zero-width interval.

    The difference's variance is the sum of the groups' (independent samples).

    Returns
    -------
    DataFrame
        ``quantity`` (``<g0>``, ``<g1>``, ``<g0> - <g1>``), ``estimate, se, low, high, naive,
        naive_se, naive_low, naive_high, n, n_coded``.

    Examples
    --------
    vi: pseudo-outcomes [2, 1, -3, 0] (mean 0); en: [1, 0] (all coded, pi = 1).

    >>> data = pd.DataFrame({"y": [1, None, 0, None, 1, 0], "yhat": [0, 1, 1, 0, 1, 1],
    ...                      "pi": [0.5, 0.5, 0.25, 0.5, 1, 1], "language": ["vi"] * 4 + ["en"] * 2})
    >>> t = dsl_prevalence(data, outcome="y", predicted="yhat", pi="pi")
    >>> t[["quantity", "estimate", "naive"]].values.tolist()
    [['vi', 0.0, 0.5], ['en', 0.5, 1.0], ['vi - en', -0.5, -0.5]]
    >>> bool(abs(t["se"].iloc[0] - 14 ** 0.5 / 4) < 1e-12)  # sum of squares 4 + 1 + 9 + 0 = 14, n = 4
    True
    """
    if variance not in ("sandwich", "stratified"):
        raise ValueError(f"variance must be 'sandwich' or 'stratified', not {variance!r}.")
    if not isinstance(data, pd.DataFrame) or group not in data.columns:
        raise ValueError(f"data has no group column '{group}'; add it or pass group=.")
    if len(groups) != 2 or groups[0] == groups[1]:
        raise ValueError("groups must be two different values of the group column, e.g. groups=('vi', 'en').")
    missing = [g for g in groups if not (data[group] == g).any()]
    if missing:
        raise ValueError(f"group column '{group}' has no unit of {missing}; check groups= against the data.")
    if variance == "stratified" and stratum not in data.columns:
        raise ValueError(f"variance='stratified' needs a stratum column '{stratum}' (from draw_coding_sample); add it.")
    y, yhat, r, p = _arrays(data, outcome, predicted, pi, coded)
    z = stats.norm.ppf(0.5 + level / 2)
    g = data[group].to_numpy()
    cl = None
    if cluster is not None:
        if cluster not in data.columns or data[cluster].isna().any():
            raise ValueError(f"cluster column '{cluster}' must exist and have no missing values.")
        cl = data[cluster].to_numpy()
    target = pseudo_outcome(y, yhat, r, p)
    rows = []
    est, var, nest, nvar = {}, {}, {}, {}
    for name in groups:
        m = g == name
        for label, t, e, v in (("dsl", target, est, var), ("naive", yhat, nest, nvar)):
            tm = t[m]
            e[name] = tm.mean()
            if cl is not None and len(pd.unique(cl[m])) < 2:
                v[name] = np.nan  # one cluster: no spread between clusters to estimate a variance from
            elif label == "dsl" and variance == "stratified":
                v[name] = _stratified_variance(
                    y[m], yhat[m], r[m], p[m], data[stratum].to_numpy()[m], clusters=None if cl is None else cl[m]
                )
            elif cl is None:
                v[name] = ((tm - tm.mean()) ** 2).sum() / m.sum() ** 2
            else:
                sums = pd.Series(tm - tm.mean()).groupby(cl[m]).sum().to_numpy()
                v[name] = (sums**2).sum() / m.sum() ** 2
        rows.append((name, est[name], var[name], nest[name], nvar[name], int(m.sum()), int(r[m].sum())))
    a, b = groups
    rows.append(
        (
            f"{a} - {b}",
            est[a] - est[b],
            var[a] + var[b],
            nest[a] - nest[b],
            nvar[a] + nvar[b],
            int(np.isin(g, groups).sum()),
            int(r[np.isin(g, groups)].sum()),
        )
    )
    out = []
    for name, e, v, ne, nv, n, nc in rows:
        se, nse = np.sqrt(v), np.sqrt(nv)
        out.append(
            {
                "quantity": name,
                "estimate": float(e),
                "se": float(se),
                "low": float(e - z * se),
                "high": float(e + z * se),
                "naive": float(ne),
                "naive_se": float(nse),
                "naive_low": float(ne - z * nse),
                "naive_high": float(ne + z * nse),
                "n": n,
                "n_coded": nc,
            }
        )
    return pd.DataFrame(out)


def cross_fit_predictions(
    data: pd.DataFrame,
    *,
    outcome: str,
    features: Sequence[str],
    seed: int,
    folds: int = 5,
    coded: str | None = None,
    ridge: float = 1e-6,
) -> np.ndarray:
    """Cross-fitted predicted probabilities of the human code from the dictionary measure and covariates.

    A logistic regression of ``Y`` on ``features`` (plus an intercept, a tiny ridge penalty for
    stability) is fit on the coded units outside fold ``k`` and predicts the units of fold ``k``
    (folds assigned at random from ``seed``). Because no unit's prediction uses its own code, the
    DSL pseudo-outcome built on these predictions stays unbiased (Egami et al. 2023, section 3.2,
    cross-fitting as in Chernozhukov et al. 2018); a better prediction only narrows the interval.

    Returns
    -------
    ndarray
        One probability per row of ``data``.

    Examples
    --------
    >>> data = pd.DataFrame({"y": [1, 0, 1, 0] * 10, "dict": [1, 0, 1, 1] * 10})
    >>> p = cross_fit_predictions(data, outcome="y", features=["dict"], seed=0, folds=2)
    >>> bool(p[data["dict"] == 0].max() < 0.01 < p[data["dict"] == 1].min())  # no dict hit: never coded 1
    True
    """
    if isinstance(folds, bool) or not isinstance(folds, int) or folds < 2:
        raise ValueError("folds must be an int >= 2.")
    x, _ = _design_matrix(data, features, True)
    if outcome not in data.columns:
        raise ValueError(f"data has no column '{outcome}'; add the human codes (NaN where not coded).")
    y = pd.to_numeric(data[outcome], errors="coerce").to_numpy(float)
    r = data[coded].astype(bool).to_numpy() if coded else ~np.isnan(y)
    fold = np.random.default_rng(seed).permutation(np.arange(len(data)) % folds)
    out = np.empty(len(data))
    for k in range(folds):
        train = r & (fold != k)
        if train.sum() < x.shape[1] + 2 or len(np.unique(y[train])) < 2:
            raise ValueError(f"fold {k} has too few coded units (or only one code value) to fit; use fewer folds.")
        xt, yt = x[train], y[train]
        b = np.zeros(x.shape[1])
        for _ in range(100):
            mu = 1 / (1 + np.exp(-np.clip(xt @ b, -35, 35)))
            grad = xt.T @ (yt - mu) - ridge * b
            hess = (xt * (mu * (1 - mu))[:, None]).T @ xt + ridge * np.eye(len(b))
            step = np.linalg.solve(hess, grad)
            b += step
            if np.max(np.abs(step)) < 1e-10:
                break
        out[fold == k] = 1 / (1 + np.exp(-np.clip(x[fold == k] @ b, -35, 35)))
    return out
