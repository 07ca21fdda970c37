"""The multiverse of an analysis: each headline comparison re-estimated under every combination of
the choices a reviewer could have made, summarised as a specification curve and a verdict.

A comparison of Vietnamese and English coverage passes through many defensible choices (segmenter,
stopwords, lemmas, units, denominator, thresholds, codebook version ...). Steegen, Tuerlinckx,
Gelman & Vanpaemel (2016, "Increasing transparency through a multiverse analysis", *Perspectives on
Psychological Science* 11(5)) run the analysis under every combination; Simonsohn, Simmons & Nelson
(2020, "Specification curve analysis", *Nature Human Behaviour* 4) sort the estimates into a curve,
show the choices beneath it, and ask how many specifications share the sign and significance of
the reported one. Denny & Spirling (2018, *Political Analysis* 26(2)) showed that preprocessing
choices alone change unsupervised text results. This module holds the pure computation:

* :func:`specification_grid`: the full factorial of the factors' values, or a seeded random subset
  (the study's own choices always kept);
* :func:`claim_estimates`: one specification's estimates of many claims (difference in mean
  per-document value between two groups, standardised, with interval, p and BH q), with documents as
  the unit or, when outlets nest in the groups, outlets (the framing tables' outlet permutation test
  and studentized outlet bootstrap);
* :func:`variance_decomposition`: main-effect sums of squares of each factor (type II, from OLS on
  dummy-coded factors) as shares of the total: which single choice moves an estimate most;
* :func:`specification_curve` and :func:`specification_summary`: the curve's table and one row per
  claim with the share of specifications of the same sign, the share significant, the range and
  the verdict ("robust" / "depends on <factor>" / "not significant in any specification").

Nothing here reads a study or writes a file; bad parameters raise ``ValueError``.
"""

from __future__ import annotations

import itertools
import json
import math
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from .groups import keyed_rng

#: Columns of :func:`claim_estimates`.
ESTIMATE_COLUMNS = [
    "item",
    "family",
    "n_a",
    "n_b",
    "mean_a",
    "mean_b",
    "difference",
    "sd",
    "estimate",
    "ci_low",
    "ci_high",
    "p",
    "p_unit",
    "q",
]


def _key(value: Any) -> str:
    """A value as it is written in tables (``true``, ``3``, ``pyvi``): JSON, strings bare."""
    return value if isinstance(value, str) else json.dumps(value)


def specification_grid(
    factors: Mapping[str, Sequence],
    *,
    baseline: Mapping[str, Any] | None = None,
    subset: int = 0,
    seed: int = 0,
) -> pd.DataFrame:
    """The specifications of a multiverse: one row per combination of the factors' values.

    Parameters
    ----------
    factors : mapping factor -> sequence of values
        In the order the study lists them; the full factorial is ``itertools.product`` in that order.
    baseline : mapping factor -> value, optional
        The study's own choices; the row with all of them (if the grid has it) is ``baseline``.
    subset : int
        0 = every combination; ``n`` = ``n`` combinations drawn without replacement with
        ``numpy.random.default_rng(seed)`` (the baseline row replaces the last draw when it was
        not drawn), listed in factorial order.
    seed : int

    Returns
    -------
    DataFrame
        ``spec`` (1, 2, ... in factorial order of the full grid, so a subset keeps the full grid's
        numbers), one column per factor (the values as written: ``true``, ``3``, ``pyvi``), and
        ``baseline`` (bool).

    Examples
    --------
    >>> specification_grid({"segmenter": ["underthesea", "pyvi"], "min_hits": [1, 2]},
    ...                    baseline={"segmenter": "underthesea", "min_hits": 1})["segmenter"].tolist()
    ['underthesea', 'underthesea', 'pyvi', 'pyvi']
    """
    if not factors:
        raise ValueError("factors is empty: name at least one factor with its values")
    names = list(factors)
    combos = list(itertools.product(*(list(factors[n]) for n in names)))
    base = None
    if baseline is not None and all(n in baseline for n in names):
        wanted = tuple(_key(baseline[n]) for n in names)
        for i, combo in enumerate(combos):
            if tuple(_key(v) for v in combo) == wanted:
                base = i
    chosen = list(range(len(combos)))
    if subset:
        if not 0 < subset <= len(combos):
            raise ValueError(f"subset = {subset} must be between 1 and the {len(combos)} combinations")
        drawn = [int(i) for i in np.random.default_rng(seed).choice(len(combos), size=subset, replace=False)]
        if base is not None and base not in drawn:
            drawn[-1] = base
        chosen = sorted(drawn)
    rows = [{"spec": i + 1, **{n: _key(v) for n, v in zip(names, combos[i])}, "baseline": i == base} for i in chosen]
    return pd.DataFrame(rows, columns=["spec", *names, "baseline"])


def specification_values(grid: pd.DataFrame, factors: Mapping[str, Sequence]) -> list[dict[str, Any]]:
    """The typed values of each row of :func:`specification_grid` (``"true"`` back to ``True``)."""
    lookup = {n: {_key(v): v for v in values} for n, values in factors.items()}
    return [{n: lookup[n][row[n]] for n in factors} for row in grid.to_dict("records")]


# ------------------------------------------------------------------------------------ estimates


def _bh(p: np.ndarray) -> np.ndarray:
    q = np.full(len(p), math.nan)
    valid = np.isfinite(p)
    if valid.any():
        q[valid] = stats.false_discovery_control(p[valid], method="bh")
    return q


def _document_permutation_p(
    values: np.ndarray, in_a: np.ndarray, *, n_permutations: int, rng: np.random.Generator
) -> np.ndarray:
    """Two-sided permutation p of ``mean_a − mean_b`` for every column of ``values`` (documents × items).

    The same random splits serve every item (an indicator matrix times the values), so a
    specification's hundreds of items cost one matrix product; the p-value is
    :func:`analysis.stats.groups.permutation_test`'s (twice the smaller one-sided p with the
    observed split counted, ``(k + 1) / (R + 1)``, at most 1, scipy's tie tolerance).
    """
    n, k = values.shape[0], int(in_a.sum())
    observed = values[in_a].mean(axis=0) - values[~in_a].mean(axis=0)
    total = values.sum(axis=0)
    less = np.zeros(values.shape[1])
    greater = np.zeros(values.shape[1])
    gamma = np.abs(1e-14 * observed)
    chunk = max(1, 2_000_000 // max(n, 1))
    for start in range(0, n_permutations, chunk):
        m = min(chunk, n_permutations - start)
        picks = np.argsort(rng.random((m, n)), axis=1)[:, :k]
        indicator = np.zeros((m, n))
        np.put_along_axis(indicator, picks, 1.0, axis=1)
        sums = indicator @ values
        null = sums / k - (total - sums) / (n - k)
        less += (null <= observed + gamma).sum(axis=0)
        greater += (null >= observed - gamma).sum(axis=0)
    p_less = (less + 1) / (n_permutations + 1)
    p_greater = (greater + 1) / (n_permutations + 1)
    return np.minimum(1.0, 2.0 * np.minimum(p_less, p_greater))


def claim_estimates(
    values: np.ndarray,
    items: Sequence[str],
    labels: Sequence[str],
    *,
    a: str,
    b: str,
    families: Sequence[str] | None = None,
    clusters: Sequence[str] | None = None,
    cluster_name: str = "outlet",
    n_permutations: int = 1000,
    n_resamples: int = 500,
    seed: int = 0,
) -> pd.DataFrame:
    """Estimates of many claims in one specification: ``mean_a − mean_b`` of per-document values.

    Parameters
    ----------
    values : array (documents × items)
        One value per document and item (a frame's hits per 100 sentences, a concept's presence ...).
    items : item ids, one per column; ``families``: the multiplicity family of each (BH within it;
        default one family).
    labels : group of each document; documents of other groups are left out.
    a, b : the two groups; the estimate is ``a − b``.
    clusters : outlet of each document, or None (documents are the unit).
    n_permutations, n_resamples, seed : permutation resamples, outlet-bootstrap resamples and the seed
        (each item's generators keyed by ``(seed, ..., item)``).

    Returns
    -------
    DataFrame with :data:`ESTIMATE_COLUMNS`:

    * ``difference`` and its 95% interval ``ci_low, ci_high``; ``sd``, the pooled within-group
      standard deviation of the documents' values, and ``estimate = difference / sd`` (a
      standardised mean difference, so estimates under different denominators share one scale;
      0 when nothing varies and the difference is 0; ±inf when the groups differ and neither varies
      within: its sign counts, the variance decomposition leaves it out);
    * ``p`` and ``p_unit``: with ``clusters`` whose outlets nest in the groups (each outlet in one
      group) and at least 2 outlets a group, whole outlets are permuted
      (:func:`analysis.stats.clustered.outlet_permutation_test`, Welch t on outlet means) and the
      interval is the studentized outlet bootstrap
      (:func:`analysis.stats.models.cluster_bootstrap_difference`), as in the framing tables'
      ``p_unit = outlets``; a group with one outlet gets no p and no interval (``none``: its
      contrast equals an outlet contrast). Otherwise documents are permuted (one set of random
      splits for every item) and the interval is Welch's t interval on documents (``documents``).
    * ``q``: Benjamini–Hochberg over the items of one family.

    Examples
    --------
    >>> v = np.array([[2.0], [3.0], [4.0], [0.0], [1.0], [0.0]])
    >>> t = claim_estimates(v, ["trade"], ["vi"] * 3 + ["en"] * 3, a="vi", b="en", n_permutations=200)
    >>> round(float(t["difference"].iloc[0]), 3), t["p_unit"].iloc[0]
    (2.667, 'documents')
    """
    from .clustered import nesting, outlet_permutation_test
    from .models import cluster_bootstrap_difference

    values = np.asarray(values, dtype=float)
    labels = np.asarray([str(x) for x in labels], dtype=object)
    if values.ndim != 2 or values.shape != (len(labels), len(items)):
        raise ValueError(f"values has shape {values.shape}, expected ({len(labels)}, {len(items)})")
    if n_permutations < 1 or n_resamples < 1:
        raise ValueError("n_permutations and n_resamples must be whole numbers >= 1")
    families = list(families) if families is not None else ["" for _ in items]
    keep = (labels == a) | (labels == b)
    values, labels = values[keep], labels[keep]
    in_a = labels == a
    n_a, n_b = int(in_a.sum()), int((~in_a).sum())
    mean_a = values[in_a].mean(axis=0) if n_a else np.full(len(items), math.nan)
    mean_b = values[~in_a].mean(axis=0) if n_b else np.full(len(items), math.nan)
    difference = mean_a - mean_b
    var_a = values[in_a].var(axis=0, ddof=1) if n_a > 1 else np.full(len(items), math.nan)
    var_b = values[~in_a].var(axis=0, ddof=1) if n_b > 1 else np.full(len(items), math.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        sd = np.sqrt(((n_a - 1) * var_a + (n_b - 1) * var_b) / (n_a + n_b - 2)) if n_a + n_b > 2 else var_a * math.nan
        estimate = np.where(sd > 0, difference / sd, np.where(difference == 0, 0.0, np.sign(difference) * np.inf))
    p = np.full(len(items), math.nan)
    low = np.full(len(items), math.nan)
    high = np.full(len(items), math.nan)
    unit = "documents"
    outlets = None
    if clusters is not None:
        outlets = np.asarray([str(c) for c in clusters], dtype=object)[keep]
        design = nesting(labels, outlets, group_word="group", cluster_word=cluster_name)
        if design.nested:
            few = design.problem or min(design.clusters_per_group.values(), default=0) < 2
            unit = "none" if few else f"{cluster_name}s"
    if unit == "documents" and n_a >= 2 and n_b >= 2:
        rng = keyed_rng(seed, "multiverse", "documents", a, b)
        p = _document_permutation_p(values, in_a, n_permutations=n_permutations, rng=rng)
        se = np.sqrt(var_a / n_a + var_b / n_b)
        with np.errstate(invalid="ignore", divide="ignore"):
            df = se**4 / ((var_a / n_a) ** 2 / (n_a - 1) + (var_b / n_b) ** 2 / (n_b - 1))
        t = stats.t.ppf(0.975, np.where(np.isfinite(df) & (df > 0), df, 1.0))
        low, high = np.where(se > 0, difference - t * se, difference), np.where(se > 0, difference + t * se, difference)
    elif unit.endswith("s") and unit != "documents":
        for j, item in enumerate(items):
            column = values[:, j]
            result = outlet_permutation_test(
                column,
                labels,
                outlets,
                a=a,
                b=b,
                n_resamples=n_permutations,
                rng=keyed_rng(seed, "multiverse", "outlet-permutation", str(item), a, b),
            )
            p[j] = result.p
            low[j], high[j] = cluster_bootstrap_difference(
                column,
                labels,
                outlets,
                a=a,
                b=b,
                n_resamples=n_resamples,
                rng=keyed_rng(seed, "multiverse", "cluster", str(item), a, b),
            )
    q = np.full(len(items), math.nan)
    fam = np.asarray(families, dtype=object)
    for family in dict.fromkeys(families):
        mask = fam == family
        q[mask] = _bh(p[mask])
    return pd.DataFrame(
        {
            "item": list(items),
            "family": families,
            "n_a": n_a,
            "n_b": n_b,
            "mean_a": mean_a,
            "mean_b": mean_b,
            "difference": difference,
            "sd": sd,
            "estimate": estimate,
            "ci_low": low,
            "ci_high": high,
            "p": p,
            "p_unit": unit,
            "q": q,
        },
        columns=ESTIMATE_COLUMNS,
    )


# ----------------------------------------------------------------------------------- summaries


def variance_decomposition(values: Sequence[float], design: pd.DataFrame) -> pd.DataFrame:
    """Which choices move an estimate: each factor's main-effect sum of squares as a share of the total.

    OLS of ``values`` on dummy-coded main effects of every column of ``design`` (the specifications'
    choices); factor ``f``'s sum of squares is the type II one, ``RSS(model without f) − RSS(full)``,
    and the last row (``interactions and rest``) is the full model's residual sum of squares
    (interactions of the factors; zero when the choices add up). ``share = SS / Σ (y − ȳ)²``. On a
    full factorial (a balanced design) the type II sums equal the type I ones and each factor's
    one-way between-level sum of squares, and the shares add to 1: the classical ANOVA
    decomposition used to attribute a multiverse's spread to its choices (Steegen et al. 2016;
    Simonsohn, Simmons & Nelson 2020 ask which choices matter). Specifications without a finite
    value are left out.

    Returns ``factor, levels, sum_sq, share`` (share NaN when the values do not vary).

    Examples
    --------
    >>> d = pd.DataFrame({"a": ["x", "x", "y", "y"], "b": ["u", "v", "u", "v"]})
    >>> variance_decomposition([0.0, 0.0, 1.0, 1.0], d)["share"].round(3).tolist()
    [1.0, 0.0, 0.0]
    """
    y = np.asarray(values, dtype=float)
    if len(y) != len(design):
        raise ValueError(f"{len(y)} values for {len(design)} specifications")
    ok = np.isfinite(y)
    y, design = y[ok], design.loc[ok]
    factors = list(design.columns)
    blocks = {}
    for f in factors:
        levels = sorted(set(map(str, design[f])))
        column = design[f].astype(str).to_numpy()
        blocks[f] = (
            np.column_stack([column == level for level in levels[1:]]).astype(float) if len(levels) > 1 else None
        )

    def rss(without: str | None) -> float:
        parts = [np.ones((len(y), 1))] + [m for f, m in blocks.items() if m is not None and f != without]
        x = np.hstack(parts)
        beta, *_ = np.linalg.lstsq(x, y, rcond=None)
        residual = y - x @ beta
        return float(residual @ residual)

    total = float(((y - y.mean()) ** 2).sum()) if len(y) else 0.0
    full = rss(None) if len(y) else 0.0
    rows = []
    for f in factors:
        ss = max(0.0, rss(f) - full) if blocks[f] is not None and len(y) else 0.0
        rows.append((f, len(set(map(str, design[f]))), ss))
    rows.append(("interactions and rest", 0, max(0.0, full)))
    # Sums below the rounding noise of the fits are zero (byte-stable tables).
    scale = max(total, 1e-300)
    out = pd.DataFrame(rows, columns=["factor", "levels", "sum_sq"])
    out["sum_sq"] = [0.0 if s <= 1e-12 * scale else s for s in out["sum_sq"]]
    out["share"] = out["sum_sq"] / total if total > 1e-300 else math.nan
    return out


def _reference_sign(estimates: pd.DataFrame) -> float:
    """The sign of the study's own estimate (the baseline specification), else of the median."""
    base = estimates.loc[estimates["baseline"].astype(bool), "estimate"]
    if len(base) and not np.isnan(base.iloc[0]) and base.iloc[0] != 0:  # an infinite estimate has a sign
        return float(np.sign(base.iloc[0]))
    finite = estimates["estimate"][~np.isnan(estimates["estimate"].to_numpy(dtype=float))]
    if not len(finite):
        return math.nan
    median = float(finite.median())
    if median != 0:
        return float(np.sign(median))
    return 1.0 if (finite > 0).sum() >= (finite < 0).sum() else -1.0


def specification_curve(estimates: pd.DataFrame, factors: Sequence[str], *, alpha: float = 0.05) -> pd.DataFrame:
    """The specification curve's table: each claim's specifications sorted by estimate.

    ``estimates``: one row per claim × specification with ``claim, spec, baseline, estimate, ci_low,
    ci_high, q`` and the factor columns. Adds ``rank`` (1 = smallest estimate; ties by ``spec``),
    ``same_sign`` (as the reference: the baseline estimate's sign, else the median's) and
    ``significant`` (q < ``alpha`` and the same sign). Specifications without an estimate come last.
    """
    parts = []
    for claim, frame in estimates.groupby("claim", sort=False):
        sign = _reference_sign(frame)
        frame = frame.assign(_missing=~np.isfinite(frame["estimate"])).sort_values(
            ["_missing", "estimate", "spec"], kind="mergesort"
        )
        frame = frame.drop(columns="_missing")
        frame.insert(1, "rank", np.arange(1, len(frame) + 1))
        same = np.sign(frame["estimate"].to_numpy(dtype=float)) == sign
        frame["same_sign"] = same
        frame["significant"] = same & (frame["q"].to_numpy(dtype=float) < alpha)
        parts.append(frame)
    columns = ["claim", "rank", "spec", *factors, "baseline", "estimate", "ci_low", "ci_high", "q"]
    if not parts:  # no claim with a hit in any specification: the columns all the same
        rest = [c for c in estimates.columns if c not in columns]
        return pd.DataFrame(columns=[*columns, *rest, "same_sign", "significant"])
    out = pd.concat(parts, ignore_index=True)
    rest = [c for c in out.columns if c not in columns and c not in ("same_sign", "significant")]
    return out[[*columns, *rest, "same_sign", "significant"]]


#: Columns of :func:`specification_summary`.
SUMMARY_COLUMNS = [
    "claim",
    "specifications",
    "with_estimate",
    "baseline_estimate",
    "median_estimate",
    "min_estimate",
    "max_estimate",
    "range",
    "share_same_sign",
    "share_significant",
    "moves_estimate_most",
    "moves_estimate_share",
    "moves_support_most",
    "moves_support_share",
    "verdict",
]


def _top(decomposition: pd.DataFrame) -> tuple[str, float]:
    factors = decomposition[decomposition["factor"] != "interactions and rest"]
    factors = factors[np.isfinite(factors["share"]) & (factors["share"] > 0)]
    if not len(factors):
        return "", math.nan
    best = factors.sort_values(["share", "factor"], ascending=[False, True], kind="mergesort").iloc[0]
    return str(best["factor"]), float(best["share"])


def specification_summary(
    estimates: pd.DataFrame,
    factors: Sequence[str],
    *,
    alpha: float = 0.05,
    sign_share: float = 0.9,
    significance_share: float = 0.8,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One row per claim: how much of the multiverse agrees, what moves it, and the verdict.

    Returns ``(summary, decomposition)``. ``summary`` (:data:`SUMMARY_COLUMNS`):

    * ``share_same_sign``: share of specifications whose estimate has the reference sign (the study's
      own estimate's; the median's when the grid does not hold the study's choices);
      ``share_significant``: share with q < ``alpha`` *and* that sign (Simonsohn et al. 2020's two
      counts); a specification without an estimate counts against both;
    * ``range`` = max − min of the estimates; ``moves_estimate_most``: the factor with the largest
      main-effect share of the estimates' variance (:func:`variance_decomposition`);
      ``moves_support_most``: the same for the 0/1 indicator "same sign and significant", i.e. the
      choice that most decides whether the claim is supported;
    * ``verdict``: ``robust`` when ``share_same_sign >= sign_share`` and ``share_significant >=
      significance_share``; ``not significant in any specification`` when no specification supports
      it; else ``depends on <moves_support_most>``.

    ``decomposition``: ``claim, quantity (estimate | support), factor, levels, sum_sq, share``.
    """
    if not 0 < alpha < 1 or not 0 < sign_share <= 1 or not 0 < significance_share <= 1:
        raise ValueError("alpha must lie in (0, 1), sign_share and significance_share in (0, 1]")
    curve = specification_curve(estimates, factors, alpha=alpha)
    rows, parts = [], []
    for claim, frame in curve.groupby("claim", sort=False):
        frame = frame.sort_values("spec", kind="mergesort")
        est = frame["estimate"].to_numpy(dtype=float)
        finite = est[np.isfinite(est)]
        design = frame[list(factors)].reset_index(drop=True)
        by_estimate = variance_decomposition(est, design).assign(quantity="estimate")
        support = frame["significant"].to_numpy(dtype=float)
        by_support = variance_decomposition(support, design).assign(quantity="support")
        parts += [by_estimate.assign(claim=claim), by_support.assign(claim=claim)]
        n = len(frame)
        same = float(frame["same_sign"].mean()) if n else math.nan
        significant = float(frame["significant"].mean()) if n else math.nan
        estimate_factor, estimate_share = _top(by_estimate)
        support_factor, support_share = _top(by_support)
        if same >= sign_share and significant >= significance_share:
            verdict = "robust"
        elif significant == 0:
            verdict = "not significant in any specification"
        else:
            verdict = f"depends on {support_factor or estimate_factor or 'the combination of choices'}"
        base = frame.loc[frame["baseline"].astype(bool), "estimate"]
        rows.append(
            (
                claim,
                n,
                len(finite),
                float(base.iloc[0]) if len(base) else math.nan,
                float(np.median(finite)) if len(finite) else math.nan,
                float(finite.min()) if len(finite) else math.nan,
                float(finite.max()) if len(finite) else math.nan,
                float(finite.max() - finite.min()) if len(finite) else math.nan,
                same,
                significant,
                estimate_factor,
                estimate_share,
                support_factor,
                support_share,
                verdict,
            )
        )
    decomposition = (
        pd.concat(parts, ignore_index=True)[["claim", "quantity", "factor", "levels", "sum_sq", "share"]]
        if parts
        else pd.DataFrame(columns=["claim", "quantity", "factor", "levels", "sum_sq", "share"])
    )
    return pd.DataFrame(rows, columns=SUMMARY_COLUMNS), decomposition
