"""Chosen contrasts: which documents are compared with which, inside which strata, and how.

A study names its comparisons in ``[[compare]]`` tables instead of "each group against the rest"::

    [[compare]]
    name = "vi-vs-en-within-event"
    groups = [{language = "vi"}, {language = "en"}]   # two or more groups, each a set of column = value
    within = "event"                                  # optional: compared inside each event, then combined
    subset = "outlet in ['VTV.vn', 'unstated-A']"     # optional: only these documents
    measures = ["frames"]                             # frames | actors | concepts
    correction = "holm"                               # across the family of tests: holm | bh

    [[compare]]
    name = "language-by-section"
    by = ["language", "section"]                      # crossed factors: every combination present is a group

Pure computation: :func:`parse_contrasts` turns the TOML list into :class:`Contrast` values (and
a list of problems), :func:`contrast_problems` checks them against the metadata, and
:func:`compare` runs one contrast on a per-document counts table with an exposure column (the
denominator is the caller's choice: counted tokens, sentences ...). The document is the unit:

* the difference in mean rate between two groups, tested by permuting documents (within strata
  when ``within`` is set: :func:`stratified_permutation_test`), with Holm or Benjamini–Hochberg
  adjustment across every pair and item of the contrast (the family);
* presence (the document has at least one hit) compared with the Mantel–Haenszel common odds
  ratio and test across strata (:func:`mantel_haenszel`; Mantel & Haenszel 1959; the variance of
  the log odds ratio by Robins, Breslow & Greenland 1986), equal to
  ``statsmodels.stats.contingency_tables.StratifiedTable``;
* the item × group distribution compared by permuting whole documents (:func:`distribution_permutation_test`),
  so hits that cluster in one article no longer count as independent; the Jensen–Shannon
  divergence stays as the effect size.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from itertools import combinations
from typing import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy.spatial.distance import jensenshannon

from ..errors import InputError
from ..study.design_spec import CORRECTIONS, MEASURES, Contrast, group_label, parse_contrasts, parse_subset  # noqa: F401 (re-exported)
from ..text.dtm import DocTermMatrix, count_frame
from .multiplicity import adjust, declare_family  # noqa: F401 (adjust is part of this module's interface)
from .resampling import RESAMPLE_CELLS

#: Random numbers drawn at once for permutations (16 MB of float64), as in :mod:`analysis.framing.measures`.


# ------------------------------------------------------------------------------- specification


def contrast_problems(contrast: Contrast, docvars: pd.DataFrame, where: str) -> list[InputError]:
    """Problems of a contrast against the metadata: a column it names that is missing, a group
    or subset value no document has, or a contrast that leaves fewer than two groups."""
    problems = []
    key = f"[[compare]] '{contrast.name}'"
    available = ", ".join(map(str, docvars.columns))
    missing = [c for c in contrast.columns() if c not in docvars.columns]
    for column in missing:
        problems.append(InputError(where, f"{key} names '{column}', not a metadata column", f"use one of: {available}"))
    if missing:
        return problems
    for column, values in contrast.subset:
        present = set(docvars[column].astype(str))
        for value in values:
            if value not in present:
                problems.append(
                    InputError(
                        where,
                        f"{key} subset names {column} = '{value}', which no document has",
                        f"use one of: {', '.join(sorted(present))}",
                    )
                )
    kept = docvars[subset_mask(contrast, docvars)]
    for group in contrast.groups:
        if not group_mask(group, kept).any():
            values = {c: sorted(set(kept[c].astype(str))) for c, _ in group}
            hint = "; ".join(f"{c}: {', '.join(v)}" for c, v in values.items())
            problems.append(
                InputError(
                    where,
                    f"{key} names the group {group_label(group)}, which no document has",
                    f"use values the metadata has ({hint})",
                )
            )
    if not problems and len(set(assign_groups(contrast, docvars).dropna())) < 2:
        problems.append(
            InputError(
                where, f"{key} leaves fewer than two groups with documents", "widen the subset or list other groups"
            )
        )
    return problems


def subset_mask(contrast: Contrast, docvars: pd.DataFrame) -> pd.Series:
    mask = pd.Series(True, index=docvars.index)
    for column, values in contrast.subset:
        mask &= docvars[column].astype(str).isin(values)
    return mask


def group_mask(group: Sequence[tuple[str, str]], docvars: pd.DataFrame) -> pd.Series:
    mask = pd.Series(True, index=docvars.index)
    for column, value in group:
        mask &= docvars[column].astype(str) == value
    return mask


def assign_groups(contrast: Contrast, docvars: pd.DataFrame) -> pd.Series:
    """Group label of each document (NaN: outside the subset or in no group), in group order.

    With ``by``, the groups are the combinations of the crossed columns that occur (sorted); a
    document in two listed groups belongs to the first.
    """
    labels = pd.Series(np.nan, index=docvars.index, dtype=object)
    inside = subset_mask(contrast, docvars)
    if contrast.by:
        combined = docvars[list(contrast.by)].astype(str)
        text = (
            combined.apply(lambda row: group_label(list(zip(contrast.by, row))), axis=1)
            if len(combined)
            else pd.Series(dtype=object)
        )
        labels[inside] = text[inside]
        return labels
    for group in contrast.groups:
        take = inside & group_mask(group, docvars) & labels.isna()
        labels[take] = group_label(group)
    return labels


def group_names(contrast: Contrast, labels: pd.Series) -> list[str]:
    """Groups in the order the contrast lists them (sorted combinations for ``by``)."""
    if contrast.by:
        return sorted(set(labels.dropna()))
    return [group_label(g) for g in contrast.groups if (labels == group_label(g)).any()]


# ------------------------------------------------------------------------------------ statistics


def mantel_haenszel(tables: Sequence[np.ndarray] | np.ndarray, correction: bool = False) -> dict[str, float]:
    """Mantel–Haenszel common odds ratio and test across strata of 2 × 2 tables.

    Each table is ``[[a, b], [c, d]]``: rows the two groups, columns present / absent. With
    ``n = a + b + c + d`` per stratum (strata with ``n < 2`` carry no information and are dropped):

    * ``OR_MH = Σ(a d / n) / Σ(b c / n)`` (Mantel & Haenszel 1959);
    * ``χ²_MH = (|Σ a − Σ E[a]| − c)² / Σ Var[a]`` with ``E[a] = (a + b)(a + c) / n``,
      ``Var[a] = (a + b)(c + d)(a + c)(b + d) / (n² (n − 1))`` and ``c = 0.5`` with ``correction``;
      p from χ² with 1 degree of freedom;
    * the 95% interval of ``log OR_MH`` from the Robins–Breslow–Greenland (1986) variance.

    The same numbers as ``statsmodels.stats.contingency_tables.StratifiedTable`` (tested).
    Returns ``odds_ratio, ci_low, ci_high, statistic, p, strata`` (NaN where undefined).

    >>> r = mantel_haenszel([[[2, 3], [1, 4]], [[3, 1], [2, 2]]])
    >>> round(r["odds_ratio"], 4), round(r["statistic"], 4)
    (2.8182, 0.8936)
    """
    from scipy import stats

    t = np.asarray(tables, dtype=float).reshape(-1, 2, 2)
    n = t.sum(axis=(1, 2))
    t, n = t[n >= 2], n[n >= 2]
    out = dict(
        odds_ratio=math.nan, ci_low=math.nan, ci_high=math.nan, statistic=math.nan, p=math.nan, strata=int(len(t))
    )
    if not len(t):
        return out
    a, b, c, d = t[:, 0, 0], t[:, 0, 1], t[:, 1, 0], t[:, 1, 1]
    r_ = a * d / n
    s_ = b * c / n
    expected = (a + b) * (a + c) / n
    var = (a + b) * (c + d) * (a + c) * (b + d) / (n**2 * (n - 1))
    if var.sum() > 0:
        stat = max(0.0, abs(a.sum() - expected.sum()) - (0.5 if correction else 0.0)) ** 2 / var.sum()
        out["statistic"], out["p"] = float(stat), float(stats.chi2.sf(stat, 1))
    R, S = r_.sum(), s_.sum()
    if R > 0 and S > 0:
        out["odds_ratio"] = float(R / S)
        p_, q_ = (a + d) / n, (b + c) / n
        v = (p_ * r_).sum() / (2 * R**2) + (p_ * s_ + q_ * r_).sum() / (2 * R * S) + (q_ * s_).sum() / (2 * S**2)
        half = stats.norm.ppf(0.975) * math.sqrt(v)
        out["ci_low"], out["ci_high"] = float(math.exp(math.log(R / S) - half)), float(math.exp(math.log(R / S) + half))
    elif R > 0 or S > 0:
        out["odds_ratio"] = math.inf if S == 0 else 0.0
    return out


def presence_tables(present: np.ndarray, labels: np.ndarray, strata: np.ndarray, *, a: str, b: str) -> np.ndarray:
    """2 × 2 tables per stratum (rows ``a``, ``b``; columns present, absent) of a presence vector."""
    out = []
    for s in dict.fromkeys(strata):
        in_s = strata == s
        rows = []
        for g in (a, b):
            m = in_s & (labels == g)
            k = int(present[m].sum())
            rows.append([k, int(m.sum()) - k])
        out.append(rows)
    return np.array(out, dtype=float).reshape(-1, 2, 2)


def stratum_weights(labels: np.ndarray, strata: np.ndarray, *, a: str, b: str) -> dict:
    """Weights ``n_a n_b / (n_a + n_b)`` per stratum holding both groups (the inverse-variance
    weights of a difference in means with equal variances; as in van Elteren 1960)."""
    out = {}
    for s in dict.fromkeys(strata):
        na, nb = int(np.sum((strata == s) & (labels == a))), int(np.sum((strata == s) & (labels == b)))
        if na and nb:
            out[s] = na * nb / (na + nb)
    return out


def stratified_difference(values: np.ndarray, labels: np.ndarray, strata: np.ndarray, *, a: str, b: str) -> float:
    """Weighted mean over strata of ``mean_a − mean_b`` (weights of :func:`stratum_weights`);
    strata holding only one of the groups do not enter. NaN when no stratum holds both."""
    weights = stratum_weights(labels, strata, a=a, b=b)
    if not weights:
        return math.nan
    total = 0.0
    for s, w in weights.items():
        in_s = strata == s
        total += w * (values[in_s & (labels == a)].mean() - values[in_s & (labels == b)].mean())
    return total / sum(weights.values())


def stratified_permutation_test(
    values: np.ndarray,
    labels: np.ndarray,
    strata: np.ndarray,
    *,
    a: str,
    b: str,
    n_resamples: int,
    rng: np.random.Generator,
) -> tuple[float, float]:
    """Two-sided permutation test of :func:`stratified_difference`, labels shuffled within strata.

    Returns ``(difference, p)`` with ``p = (1 + #{|null| >= |observed|}) / (1 + n_resamples)``
    (the observed split counted, Phipson & Smyth 2010). Only documents of ``a`` and ``b`` in
    strata holding both enter. With a single stratum it is the ordinary permutation test.

    By hand for the example: one vi and one en document in each of two strata, differences 2
    and 3, equal weights: 2.5. Shuffling within strata gives ±2 ± 3, so half the splits (2.5 and
    −2.5) are as extreme as the observed one: p ≈ 0.5.

    >>> diff, p = stratified_permutation_test(np.array([3.0, 1.0, 5.0, 2.0]), np.array(["vi", "en", "vi", "en"]),
    ...                                       np.array(["s1", "s1", "s2",
    ...     "s2"]), a="vi", b="en", n_resamples=2000, rng=np.random.default_rng(1))
    >>> diff, round(p, 1)
    (2.5, 0.5)
    """
    values, labels, strata = (
        np.asarray(values, dtype=float),
        np.asarray(labels, dtype=object),
        np.asarray(strata, dtype=object),
    )
    weights = stratum_weights(labels, strata, a=a, b=b)
    keep = np.isin(labels, [a, b]) & np.isin(strata, list(weights))
    values, labels, strata = values[keep], labels[keep], strata[keep]
    observed = stratified_difference(values, labels, strata, a=a, b=b)
    if math.isnan(observed):
        return math.nan, math.nan
    blocks = [np.flatnonzero(strata == s) for s in weights]
    is_a = labels == a
    wsum = sum(weights.values())
    # One shuffle per stratum per resample, all resamples at once: ``perm`` holds for each
    # resample a permutation of the stratum's positions; the first n_a are group a.
    null = np.zeros(n_resamples)
    for s, idx in zip(weights, blocks):
        k = int(is_a[idx].sum())
        v = values[idx]
        # In chunks of resamples, so memory stays bounded with thousands of documents per stratum.
        chunk = max(1, RESAMPLE_CELLS // len(idx))
        for start in range(0, n_resamples, chunk):
            rows = min(chunk, n_resamples - start)
            order = rng.permuted(np.broadcast_to(np.arange(len(idx)), (rows, len(idx))), axis=1)
            sums = v[order[:, :k]].sum(axis=1)
            null[start : start + rows] += weights[s] * (sums / k - (v.sum() - sums) / (len(idx) - k))
    null /= wsum
    tol = 1e-12 * max(1.0, abs(observed))
    p = (1 + np.sum(np.abs(null) >= abs(observed) - tol)) / (1 + n_resamples)
    return float(observed), float(p)


def jsd_bits(x: np.ndarray, y: np.ndarray) -> float:
    """Squared Jensen–Shannon distance (bits) of two count vectors; NaN when one is all zero."""
    if x.sum() <= 0 or y.sum() <= 0:
        return math.nan
    return float(jensenshannon(x, y, base=2) ** 2)


def distribution_permutation_test(
    counts: np.ndarray,
    labels: np.ndarray,
    *,
    a: str,
    b: str,
    n_resamples: int,
    rng: np.random.Generator,
    strata: np.ndarray | None = None,
) -> dict[str, float]:
    """Do two groups' documents spread their hits differently over the items? Documents are the units.

    ``counts`` is documents × items (hits). The statistic is the Jensen–Shannon divergence (bits)
    of the two groups' pooled hit distributions (also the effect size). Its null distribution
    comes from reassigning whole documents to the groups at random (within ``strata`` when given),
    so the hits of one article move together: the test no longer treats every hit as independent,
    which made the hit-level χ² reject at p = 1e-125 on a few hundred articles.
    Returns ``jsd, p, docs_a, docs_b, hits_a, hits_b`` (``p`` NaN when a group has no hit).

    By hand for the example: the groups pool (7, 1) and (1, 7) hits, so the JSD is
    7/8 · log₂(7/4) + 1/8 · log₂(1/4) = 0.456 bits; of the 6 ways to split four documents in two
    pairs, the observed split and its mirror are the most extreme: p ≈ 2/6.

    >>> counts = np.array([[4, 0], [3, 1], [0, 4], [1, 3]])
    >>> r = distribution_permutation_test(counts, np.array(["vi", "vi", "en", "en"]), a="vi", b="en", n_resamples=2000,
    ...     rng=np.random.default_rng(1))
    >>> round(r["jsd"], 3), round(r["p"], 2)
    (0.456, 0.33)
    """
    counts = np.asarray(counts, dtype=float)
    labels = np.asarray(labels, dtype=object)
    strata = np.zeros(len(labels), dtype=object) if strata is None else np.asarray(strata, dtype=object)
    keep = np.isin(labels, [a, b])
    counts, labels, strata = counts[keep], labels[keep], strata[keep]
    is_a = labels == a
    out = dict(
        jsd=math.nan,
        p=math.nan,
        docs_a=int(is_a.sum()),
        docs_b=int((~is_a).sum()),
        hits_a=float(counts[is_a].sum()),
        hits_b=float(counts[~is_a].sum()),
    )
    observed = jsd_bits(counts[is_a].sum(axis=0), counts[~is_a].sum(axis=0))
    out["jsd"] = observed
    if math.isnan(observed) or counts.shape[1] < 2:
        return out
    total = counts.sum(axis=0)
    null = np.empty(n_resamples)
    for r in range(n_resamples):
        perm = is_a.copy()
        for s in dict.fromkeys(strata):
            idx = np.flatnonzero(strata == s)
            perm[idx] = is_a[idx][rng.permutation(len(idx))]
        xa = counts[perm].sum(axis=0)
        null[r] = jsd_bits(xa, total - xa)
    null = null[~np.isnan(null)]
    out["p"] = float((1 + np.sum(null >= observed - 1e-12)) / (1 + len(null)))
    return out


def pairs(groups: Sequence[str]) -> list[tuple[str, str]]:
    """Every pair of groups, in listed order (two groups: the one pair)."""
    return list(combinations(groups, 2))


@dataclass
class MeasureTable:
    """Per-document counts of one measure (documents × items) and the exposure (denominator).

    ``counts``: a :class:`~analysis.text.dtm.DocTermMatrix` (words, or codebook entries from
    :func:`analysis.framing.measures.entry_matrix`) or a DataFrame indexed by doc id; a matrix is
    held as its dense table (:func:`analysis.text.dtm.count_frame`: the tests read items column by column).
    """

    kind: str
    counts: pd.DataFrame | DocTermMatrix
    exposure: pd.Series
    labels: Mapping[str, str] = field(default_factory=dict)
    scale: float = 1000.0  # rate = scale · count / exposure (per 1,000 tokens, per 100 sentences ...)

    def __post_init__(self) -> None:
        self.counts = count_frame(self.counts)


#: Columns of :func:`compare`: the contrast and item, then the order of :mod:`analysis.stats.comparison`
#: (its core columns up to ``mdd``, then the contrast's own: documents with hits, the unit of ``p``,
#: the strata and Mantel–Haenszel, then ``too_small, note``).
COMPARE_COLUMNS = [
    "contrast",
    "measure",
    "item",
    "label",
    "group_a",
    "group_b",
    "n_a",
    "n_b",
    "mean_a",
    "mean_b",
    "difference",
    "p",
    "q",
    "correction",
    "adjusted_within",
    "cluster_n",
    "effective_clusters",
    "design_effect",
    "effective_n",
    "cluster_ci_low",
    "cluster_ci_high",
    "mdd",
    "docs_with_hits_a",
    "docs_with_hits_b",
    "p_unit",
    "p_documents",
    "within",
    "strata",
    "mh_odds_ratio",
    "mh_ci_low",
    "mh_ci_high",
    "mh_p",
    "too_small",
    "note",
]


def compare(
    contrast: Contrast,
    measure: MeasureTable,
    docvars: pd.DataFrame,
    *,
    n_resamples: int,
    seed: int,
    min_docs: int = 5,
    mdd_simulations: int = 200,
) -> pd.DataFrame:
    """Run one contrast on one measure: one row per pair of groups and item (:data:`COMPARE_COLUMNS`).

    ``mean_a``/``mean_b``: mean over documents of ``scale · count / exposure``; ``docs_with_hits_a``/``_b``:
    documents with a count above 0, fewer than :data:`analysis.stats.groups.MIN_DOCS_WITH_HITS` in a group said
    sparse in the note (not for topic shares); ``difference`` and
    ``p`` from :func:`stratified_permutation_test` (strata = ``within``, else one stratum);
    ``q``: ``p`` adjusted by Holm or BH (``correction``) across every row of the contrast and measure
    (the family, ``adjusted_within``);
    with ``cluster`` and no ``within``, when the clusters (outlets) nest in the two groups, ``p``
    permutes whole outlets (:func:`analysis.stats.clustered.outlet_permutation_test`; the groups are
    unions of outlets, so the outlet is the unit of independent information), and the document
    permutation p stays beside it as ``p_documents`` (conditional on these outlets); a group that is
    one outlet gets no ``p`` (its contrast is an outlet contrast) and the note says so; ``p_unit``
    names the unit of ``p`` (outlets, documents or none);
    ``mh_*``: Mantel–Haenszel on presence (count ≥ 1) across the strata; with ``cluster``, the
    design effect and effective numbers (:func:`analysis.stats.models.design_effect`) and a studentized
    (bootstrap-t) outlet cluster-bootstrap interval of the difference
    (:func:`analysis.stats.models.cluster_bootstrap_difference`);
    ``mdd``: the minimum detectable difference at these sizes (80% power, 5% level,
    :func:`analysis.stats.models.minimum_detectable_difference`), to read a non-significant row.
    """
    from .groups import MIN_DOCS_WITH_HITS, SPARSE_REASON, keyed_rng
    from .models import cluster_bootstrap_difference, design_effect, minimum_detectable_difference

    labels_all = assign_groups(contrast, docvars)
    ids = [d for d in measure.counts.index if d in labels_all.index and isinstance(labels_all.get(d), str)]
    labels = labels_all.loc[ids].to_numpy(dtype=object)
    strata = (
        docvars.loc[ids, contrast.within].astype(str).to_numpy(dtype=object)
        if contrast.within
        else np.zeros(len(ids), dtype=object)
    )
    clusters = docvars.loc[ids, contrast.cluster].astype(str).to_numpy(dtype=object) if contrast.cluster else None
    exposure = measure.exposure.reindex(ids).to_numpy(dtype=float)
    counts = measure.counts.loc[ids]
    groups = group_names(contrast, labels_all.loc[ids])
    records = []
    for a, b in pairs(groups):
        n_a, n_b = int(np.sum(labels == a)), int(np.sum(labels == b))
        n_strata = len(stratum_weights(labels, strata, a=a, b=b))
        for item in counts.columns:
            y = counts[item].to_numpy(dtype=float)
            rate = np.divide(measure.scale * y, exposure, out=np.zeros_like(y), where=exposure > 0)
            notes = []
            small = min(n_a, n_b) < min_docs
            if small:
                notes.append(f"too small: {min(n_a, n_b)} document(s) in the smaller group (fewer than {min_docs})")
            rng = keyed_rng(seed, "compare", contrast.name, measure.kind, item, a, b)
            diff, p = stratified_permutation_test(rate, labels, strata, a=a, b=b, n_resamples=n_resamples, rng=rng)
            p_documents, p_unit = p, "documents"
            if clusters is not None and not contrast.within:
                p, p_unit, unit_note = _outlet_p(
                    rate,
                    labels,
                    clusters,
                    a=a,
                    b=b,
                    column=contrast.cluster,
                    n_resamples=n_resamples,
                    rng=keyed_rng(seed, "outlet-permutation", contrast.name, measure.kind, item, a, b),
                    p=p,
                )
                if unit_note:
                    notes.append(unit_note)
            if contrast.within and n_strata == 0:
                notes.append(f"no {contrast.within} holds both groups: nothing to compare within")
            with_hits = min(int(np.sum(y[labels == a] > 0)), int(np.sum(y[labels == b] > 0)))
            if measure.kind != "topics" and min(n_a, n_b) >= 2 and with_hits < MIN_DOCS_WITH_HITS:
                notes.append(
                    f"sparse: {with_hits} document(s) with hits in a group (fewer than {MIN_DOCS_WITH_HITS}; "
                    f"{SPARSE_REASON})"
                )
            mh = mantel_haenszel(presence_tables(y > 0, labels, strata, a=a, b=b))
            row = dict(
                contrast=contrast.name,
                measure=measure.kind,
                item=item,
                label=measure.labels.get(item, item),
                group_a=a,
                group_b=b,
                n_a=n_a,
                n_b=n_b,
                mean_a=float(rate[labels == a].mean()) if n_a else math.nan,
                mean_b=float(rate[labels == b].mean()) if n_b else math.nan,
                docs_with_hits_a=int(np.sum(y[labels == a] > 0)),
                docs_with_hits_b=int(np.sum(y[labels == b] > 0)),
                difference=diff,
                p=p,
                q=math.nan,
                p_unit=p_unit,
                p_documents=p_documents,
                correction=contrast.correction,
                within=contrast.within or "(none)",
                strata=n_strata if contrast.within else 1,
                mh_odds_ratio=mh["odds_ratio"],
                mh_ci_low=mh["ci_low"],
                mh_ci_high=mh["ci_high"],
                mh_p=mh["p"],
                cluster_n=math.nan,
                effective_clusters=math.nan,
                design_effect=math.nan,
                effective_n=math.nan,
                cluster_ci_low=math.nan,
                cluster_ci_high=math.nan,
                mdd=math.nan,
                too_small=small,
                note="",
            )
            pair = np.isin(labels, [a, b])
            sd = float(np.std(rate[pair], ddof=1)) if pair.sum() > 1 else math.nan
            icc, m_bar = 0.0, 1.0
            if clusters is not None:
                de = design_effect(rate[pair], clusters[pair])
                row.update(
                    cluster_n=de["clusters"],
                    effective_clusters=de["effective_clusters"],
                    design_effect=de["design_effect"],
                    effective_n=de["effective_n"],
                )
                icc, m_bar = de["icc"], de["mean_cluster_size"]
                low, high = cluster_bootstrap_difference(
                    rate,
                    labels,
                    clusters,
                    a=a,
                    b=b,
                    n_resamples=n_resamples,
                    rng=keyed_rng(seed, "cluster", contrast.name, item, a, b),
                )
                row.update(cluster_ci_low=low, cluster_ci_high=high)
                if de["clusters"] < 10:
                    notes.append(f"{de['clusters']} clusters: cluster-based intervals need many more")
            if n_a >= 2 and n_b >= 2 and math.isfinite(sd) and sd > 0:
                row["mdd"] = minimum_detectable_difference(
                    sd,
                    n_a,
                    n_b,
                    icc=icc,
                    cluster_size=m_bar,
                    n_simulations=mdd_simulations,
                    rng=keyed_rng(seed, "mdd", contrast.name, item, a, b),
                )
            row["note"] = "; ".join(notes)
            records.append(row)
    table = pd.DataFrame(records, columns=[c for c in COMPARE_COLUMNS if c != "adjusted_within"])
    if len(table):
        table["q"] = adjust(table["p"].to_numpy(), contrast.correction)
    declared = declare_family(
        table, keys=[], within="contrast {contrast}, {measure}: every pair and item", correction=contrast.correction
    )
    return declared[COMPARE_COLUMNS]


def _outlet_p(
    values: np.ndarray,
    labels: np.ndarray,
    clusters: np.ndarray,
    *,
    a: str,
    b: str,
    column: str,
    n_resamples: int,
    rng: np.random.Generator,
    p: float,
) -> tuple[float, str, str]:
    """The primary p of one pair when its outlets nest in the two groups: (p, unit, note)."""
    from .clustered import nesting, outlet_permutation_test

    pair = np.isin(labels, [a, b])
    design = nesting(labels[pair], clusters[pair], group_word="group", cluster_word=column)
    if not design.nested:
        return p, "documents", f"{column}s span the groups: p from documents (conditional on these {column}s)"
    if design.problem:
        return math.nan, "none", design.problem
    result = outlet_permutation_test(
        values[pair], labels[pair], clusters[pair], a=a, b=b, n_resamples=n_resamples, rng=rng
    )
    return result.p, f"{column}s", ""


#: Columns of :func:`distribution_table`: the contrast and family, then the order of
#: :mod:`analysis.stats.comparison` (``p, q, correction, adjusted_within``), then its own.
DISTRIBUTION_COLUMNS = [
    "contrast",
    "measure",
    "family",
    "group_a",
    "group_b",
    "p",
    "q",
    "correction",
    "adjusted_within",
    "docs_a",
    "docs_b",
    "hits_a",
    "hits_b",
    "jsd",
    "unit",
    "too_small",
    "note",
]


def distribution_table(
    contrast: Contrast,
    measure: MeasureTable,
    families: Mapping[str, str],
    docvars: pd.DataFrame,
    *,
    n_resamples: int,
    seed: int,
    min_docs: int = 5,
) -> pd.DataFrame:
    """Document-level permutation test of the item × group distribution per family and pair
    (:func:`distribution_permutation_test`; strata = ``within``); Holm/BH across the rows."""
    from .groups import keyed_rng

    labels_all = assign_groups(contrast, docvars)
    ids = [d for d in measure.counts.index if isinstance(labels_all.get(d), str)]
    labels = labels_all.loc[ids].to_numpy(dtype=object)
    strata = docvars.loc[ids, contrast.within].astype(str).to_numpy(dtype=object) if contrast.within else None
    groups = group_names(contrast, labels_all.loc[ids])
    records = []
    by_family: dict[str, list[str]] = {}
    for item in measure.counts.columns:
        by_family.setdefault(families.get(item, measure.kind), []).append(item)
    for a, b in pairs(groups):
        for family, items in by_family.items():
            counts = measure.counts.loc[ids, items].to_numpy(dtype=float)
            r = distribution_permutation_test(
                counts,
                labels,
                a=a,
                b=b,
                n_resamples=n_resamples,
                rng=keyed_rng(seed, "jsd", contrast.name, family, a, b),
                strata=strata,
            )
            small = min(r["docs_a"], r["docs_b"]) < min_docs
            notes = [f"too small: fewer than {min_docs} documents in a group"] if small else []
            if math.isnan(r["p"]):
                notes.append("no hits in one group or fewer than two items: nothing to test")
            records.append(
                dict(
                    contrast=contrast.name,
                    measure=measure.kind,
                    family=family,
                    group_a=a,
                    group_b=b,
                    docs_a=r["docs_a"],
                    docs_b=r["docs_b"],
                    hits_a=r["hits_a"],
                    hits_b=r["hits_b"],
                    jsd=r["jsd"],
                    p=r["p"],
                    q=math.nan,
                    unit="document",
                    too_small=small,
                    note="; ".join(notes),
                )
            )
    table = pd.DataFrame(
        records, columns=[c for c in DISTRIBUTION_COLUMNS if c not in ("correction", "adjusted_within")]
    )
    if len(table):
        table["q"] = adjust(table["p"].to_numpy(), contrast.correction)
    declared = declare_family(
        table, keys=[], within="contrast {contrast}, {measure}: every pair and family", correction=contrast.correction
    )
    return declared[DISTRIBUTION_COLUMNS]
