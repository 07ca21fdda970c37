"""Statistics of groups of documents, for any measure: keyed random streams, group order and
pairs, group means with studentized bootstrap intervals, permutation and distribution tests, and
the outlet (cluster) columns beside them.

* :func:`group_means`, :func:`group_tests`, :func:`distribution_tests`: per-group means with
  studentized bootstrap 95% intervals resampling documents
  (:func:`analysis.stats.resampling.studentized_interval`: the percentile interval under-covered at
  small n), a permutation test of the difference in means (exact when the number of distinct
  splits is small; the same p-values as ``scipy.stats.permutation_test``), Benjamini–Hochberg
  q-values, the χ² test of the item × group table (``scipy.stats.chi2_contingency``) and the
  Jensen–Shannon divergence of the groups' distributions (``scipy.spatial.distance.jensenshannon``,
  base 2, squared: 0 = identical, 1 = disjoint). Every row says plainly when a group is too small
  for the test to mean anything.
* :func:`cluster_group_table`, :func:`cluster_tests`: outlets as clusters beside those tables
  (design effect, effective numbers, a studentized outlet cluster-bootstrap interval, the minimum
  detectable difference).

Randomness comes from ``seed``: each statistic draws from its own generator
``numpy.random.default_rng([seed, crc32(labels)])`` (:func:`keyed_rng`), so adding an item or a
group never changes another row's interval.
"""

from __future__ import annotations

import math
import zlib
from itertools import combinations
from typing import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats
from scipy.spatial.distance import jensenshannon

from ..study.settings import MIN_GROUP_DOCS, SMALL_REASON
from .comparison import CLUSTER_COLUMNS, order_comparison
from .multiplicity import adjust, declare_family
from .resampling import RESAMPLE_CELLS, permuted_rows, studentized_interval

#: Clusters per group below which the row note says cluster intervals need many more. Set when the
#: outlet cluster bootstrap was a percentile one, which covered a difference 0.88 of the time with
#: 5 outlets per group and 0.93 with 10 (benchmarks/interval_coverage.py; benchmarks/README.md).
#: The studentized one that replaced it covers 0.95 or more from 5 in the same simulation (one
#: scenario: normal outlet effects, ICC 0.2), so the threshold is kept as a conservative warning.
MIN_CLUSTERS = 10

#: Simulated samples per candidate difference of :func:`analysis.stats.models.minimum_detectable_difference`.
MDD_SIMULATIONS = 200


def keyed_rng(seed: int, *labels: str) -> np.random.Generator:
    """A generator for one statistic: ``default_rng([seed, crc32(label) ...])``."""
    return np.random.default_rng([int(seed) % 2**32, *(zlib.crc32(str(l).encode("utf-8")) for l in labels)])


def group_order(labels: Iterable[str], preferred: Sequence[str] = ()) -> list[str]:
    """Groups in ``preferred`` order first (e.g. the study's languages), the rest sorted."""
    labels = set(map(str, labels))
    return [g for g in preferred if g in labels] + sorted(labels - set(preferred))


def group_pairs(groups: Sequence[str]) -> list[tuple[str, str]]:
    """Pairs to compare: the two groups, or each group against the rest (``"rest"``)."""
    if len(groups) < 2:
        return []
    if len(groups) == 2:
        return [(groups[0], groups[1])]
    return [(g, "rest") for g in groups]


def _members(groups: Mapping[str, str], group: str, other: str | None = None) -> set[str]:
    if group == "rest":
        return {d for d, g in groups.items() if g != other}
    return {d for d, g in groups.items() if g == group}


def _size_note(sizes: Mapping[str, int], min_docs: int) -> str:
    small = [f"{g} has {n} document{'s' if n != 1 else ''}" for g, n in sizes.items() if n < min_docs]
    return f"too small: {', '.join(small)} (fewer than {min_docs}; {SMALL_REASON})" if small else ""


#: Random numbers drawn at once for permutation splits and bootstrap resamples (16 MB of float64).


def bootstrap_ci(
    values: np.ndarray,
    *,
    n_resamples: int,
    rng: np.random.Generator,
    level: float = 0.95,
    support: tuple[float, float] = (0.0, math.inf),
) -> tuple[float, float]:
    """Studentized bootstrap (bootstrap-t) interval of the mean of document values; NaN for < 2.

    :func:`analysis.stats.resampling.studentized_interval` resampling documents. It replaced the
    percentile interval, which on zero-inflated per-1,000 rates covered 77% at 5 documents per
    group and 87% at 10 instead of the 95% it claimed; the coverage of this one is measured in
    ``tests/stats/test_resampling.py``. An infinite bound means the sample cannot bound that side (a
    group too small or too uniform), not a bug. ``support``: the range the mean can take (default
    ``(0, inf)``: the measures here are counts, rates and shares); the interval is cut to it.
    """
    values = np.asarray(values, dtype=float)
    if len(values) < 2:
        return math.nan, math.nan
    if np.all(values == values[0]):
        return float(values[0]), float(values[0])
    return studentized_interval(values, n_resamples=n_resamples, rng=rng, level=level, support=support)


#: Documents with hits (a value above 0) below which a group's mean is flagged sparse. What bounds
#: the interval of a mean of mostly-zero rates is the number of documents with hits, not of
#: documents: in a seeded simulation (zero-inflated gamma-Poisson rates, 20, 40 and 80 documents,
#: 300 samples a cell, the studentized interval of :func:`group_means`) the 95% interval covered
#: 0.86-0.92 with 2-3 documents with hits, where 57-74% of the intervals were unbounded, and
#: 0.92-0.95 from 5 on (unbounded 21-26% at 5, under 5% from 8).
MIN_DOCS_WITH_HITS = 5
SPARSE_REASON = "intervals covered 0.86-0.92 below it in simulation, most of them unbounded"


def group_means(
    long: pd.DataFrame,
    groups: Mapping[str, str],
    *,
    order: Sequence[str],
    n_resamples: int,
    seed: int,
    min_docs: int = MIN_GROUP_DOCS,
) -> pd.DataFrame:
    """Per item and group: documents, mean of ``value`` and a bootstrap 95% interval.

    ``long`` has columns ``doc_id, family, item, value`` (one row per document × item); ``groups``
    maps doc_id -> group. Returns ``family, item, group, n_docs, docs_with_hits, mean, ci_low,
    ci_high, too_small, note``; ``too_small`` when the group has fewer than ``min_docs`` documents;
    the note says "sparse" when fewer than :data:`MIN_DOCS_WITH_HITS` documents have a value above 0
    (the interval then under-covers whatever the number of documents).
    """
    records = []
    group_of = long["doc_id"].map(groups)
    for (family, item), frame in long.groupby(["family", "item"], sort=False):
        for group in order:
            values = frame.loc[group_of.loc[frame.index] == group, "value"].to_numpy(dtype=float)
            low, high = bootstrap_ci(values, n_resamples=n_resamples, rng=keyed_rng(seed, "mean", family, item, group))
            n = len(values)
            note = _size_note({group: n}, min_docs)
            if n == 1:
                note += "; one document: no interval"
            elif math.isinf(low) or math.isinf(high):
                note = "; ".join(
                    filter(
                        None, [note, "unbounded interval: too few documents with different values to bound the mean"]
                    )
                )
            with_hits = int((values > 0).sum())
            if n >= 2 and with_hits < MIN_DOCS_WITH_HITS:
                note = "; ".join(
                    filter(
                        None,
                        [
                            note,
                            (
                                f"sparse: {with_hits} document(s) with hits (fewer than {MIN_DOCS_WITH_HITS}; "
                                f"{SPARSE_REASON})"
                            ),
                        ],
                    )
                )
            records.append(
                (
                    family,
                    item,
                    group,
                    n,
                    with_hits,
                    float(values.mean()) if n else math.nan,
                    low,
                    high,
                    n < min_docs,
                    note,
                )
            )
    return pd.DataFrame(
        records,
        columns=[
            "family",
            "item",
            "group",
            "n_docs",
            "docs_with_hits",
            "mean",
            "ci_low",
            "ci_high",
            "too_small",
            "note",
        ],
    )


def permutation_test(
    x: np.ndarray, y: np.ndarray, *, n_resamples: int, rng: np.random.Generator
) -> tuple[float, float, bool]:
    """Two-sided permutation test of ``mean(x) − mean(y)``: ``(p, smallest attainable p, exact)``.

    The null distribution comes from re-splitting the pooled documents into groups of the same
    sizes: every distinct split when there are at most ``n_resamples`` of them (exact), else
    ``n_resamples`` random splits from ``rng``. The p-value follows
    ``scipy.stats.permutation_test`` (two-sided = twice the smaller one-sided p, at most 1; random
    splits count the observed split, ``(k + 1) / (n + 1)``), and equals it where scipy applies;
    unlike scipy it also runs when a group has a single document, which is exactly when a reader
    needs to see that the smallest attainable p is large.
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    if len(x) == 0 or len(y) == 0:
        return math.nan, math.nan, False
    pooled = np.concatenate([x, y])
    n, k = len(pooled), len(x)
    splits = math.comb(n, k)
    exact = splits <= n_resamples
    smallest = min(1.0, 2.0 / splits) if exact else min(1.0, 2.0 / (n_resamples + 1))
    observed = x.mean() - y.mean()
    total = pooled.sum()
    if exact:
        sums = pooled[np.array(list(combinations(range(n), k)), dtype=np.int64)].sum(axis=1)
    else:
        # Random splits in chunks of rows, so memory stays bounded with thousands of documents
        # (5,000 splits of 10,000 documents at once took 800 MB); the random stream, and so every
        # split, is the same as drawing them all at once.
        chunk = max(1, RESAMPLE_CELLS // n)
        sums = np.concatenate(
            [
                permuted_rows(rng, pooled, min(chunk, n_resamples - start))[:, :k].sum(axis=1)
                for start in range(0, n_resamples, chunk)
            ]
        )
    null = sums / k - (total - sums) / (n - k)
    gamma = abs(1e-14 * observed)  # scipy's tolerance for ties in floating point
    adjustment = 0 if exact else 1
    p_less = (np.sum(null <= observed + gamma) + adjustment) / (len(null) + adjustment)
    p_greater = (np.sum(null >= observed - gamma) + adjustment) / (len(null) + adjustment)
    return float(min(1.0, 2.0 * min(p_less, p_greater))), smallest, exact


#: Columns of :func:`group_tests`: the item, then :data:`analysis.stats.comparison.COMPARISON_COLUMNS`'s
#: order (``exact``, its own column, after the core ones).
TEST_COLUMNS = [
    "family",
    "item",
    "group_a",
    "group_b",
    "n_a",
    "n_b",
    "mean_a",
    "mean_b",
    "difference",
    "p",
    "min_p",
    "q",
    "exact",
    "too_small",
    "note",
]


def group_tests(
    long: pd.DataFrame,
    groups: Mapping[str, str],
    order: Sequence[str],
    n_resamples: int,
    seed: int,
    *,
    min_docs: int = MIN_GROUP_DOCS,
) -> pd.DataFrame:
    """Permutation tests of the difference in means between groups, per item.

    Pairs: the two groups, or each group against the rest. ``q``: Benjamini–Hochberg over the
    items of one family and pair. ``min_p`` is the smallest p-value the test can give with these
    group sizes (with 4 and 1 documents, 0.4: no difference can be "significant").
    Columns: :data:`TEST_COLUMNS` (``family, item, group_a, group_b, n_a, n_b, mean_a, mean_b,
    difference, p, min_p, q, exact, too_small, note``: the schema of :mod:`analysis.stats.comparison`).
    """
    records = []
    for a_name, b_name in group_pairs(list(order)):
        members_a = _members(groups, a_name)
        members_b = _members(groups, b_name, a_name)
        for (family, item), frame in long.groupby(["family", "item"], sort=False):
            x = frame.loc[frame["doc_id"].isin(members_a), "value"].to_numpy(dtype=float)
            y = frame.loc[frame["doc_id"].isin(members_b), "value"].to_numpy(dtype=float)
            p, smallest, exact = permutation_test(
                x, y, n_resamples=n_resamples, rng=keyed_rng(seed, "perm", family, item, a_name, b_name)
            )
            sizes = {a_name: len(x), b_name: len(y)}
            note = _size_note(sizes, min_docs)
            if note:
                note += f"; smallest attainable p = {smallest:.3g}"
            mean_a = float(x.mean()) if len(x) else math.nan
            mean_b = float(y.mean()) if len(y) else math.nan
            records.append(
                [
                    family,
                    item,
                    a_name,
                    b_name,
                    len(x),
                    len(y),
                    mean_a,
                    mean_b,
                    mean_a - mean_b,
                    p,
                    smallest,
                    math.nan,
                    exact,
                    min(sizes.values()) < min_docs,
                    note,
                ]
            )
    table = pd.DataFrame(records, columns=TEST_COLUMNS)
    for _, index in table.groupby(["family", "group_a", "group_b"], sort=False).groups.items():
        p = table.loc[index, "p"]
        valid = p.notna()
        if valid.any():
            table.loc[p[valid].index, "q"] = stats.false_discovery_control(p[valid].to_numpy(), method="bh")
    return table


#: Columns of :func:`distribution_tests` before :func:`analysis.stats.multiplicity.declare_family`
#: adds ``correction, adjusted_within``; the written order is :func:`analysis.stats.comparison.comparison_order`.
DISTRIBUTION_COLUMNS = [
    "family",
    "group_a",
    "group_b",
    "hits_a",
    "hits_b",
    "chi2",
    "dof",
    "p",
    "q",
    "min_expected",
    "share_expected_below_5",
    "jsd",
    "too_small",
    "note",
]


def distribution_tests(
    hits: pd.DataFrame, groups: Mapping[str, str], *, order: Sequence[str], min_docs: int = MIN_GROUP_DOCS
) -> pd.DataFrame:
    """χ² test of the item × group table of hits and Jensen–Shannon divergence, per family and pair.

    ``hits`` has columns ``doc_id, family, item, value`` (hit counts). The χ² test
    (``scipy.stats.chi2_contingency``, no continuity correction) treats hits as independent,
    which they are not (they cluster in documents): read it as descriptive when documents are few.
    ``jsd`` is the squared Jensen–Shannon distance in bits between the two groups' distributions
    of hits over items (0 identical, 1 disjoint). Items with no hit in either group are dropped.
    ``q``: Holm across the families of one pair (each family's χ² asks the same question of
    another set of items). Columns in the order of :mod:`analysis.stats.comparison`: ``family,
    group_a, group_b, p, q, correction, adjusted_within`` (:func:`analysis.stats.multiplicity.declare_family`),
    ``hits_a, hits_b, chi2, dof, min_expected, share_expected_below_5, jsd, too_small, note``.
    """
    records = []
    for a_name, b_name in group_pairs(list(order)):
        members_a = _members(groups, a_name)
        members_b = _members(groups, b_name, a_name)
        for family, frame in hits.groupby("family", sort=False):
            col_a = frame[frame["doc_id"].isin(members_a)].groupby("item", sort=False)["value"].sum()
            col_b = frame[frame["doc_id"].isin(members_b)].groupby("item", sort=False)["value"].sum()
            items = list(dict.fromkeys(frame["item"]))
            table = np.array([[col_a.get(i, 0), col_b.get(i, 0)] for i in items], dtype=float)
            table = table[table.sum(axis=1) > 0]
            sizes = {a_name: len(members_a), b_name: len(members_b)}
            notes = [_size_note(sizes, min_docs)]
            chi2 = p = min_expected = below = jsd = math.nan
            dof = 0
            if table.shape[0] >= 2 and np.all(table.sum(axis=0) > 0):
                result = stats.chi2_contingency(table, correction=False)
                chi2, p, dof = float(result.statistic), float(result.pvalue), int(result.dof)
                min_expected = float(result.expected_freq.min())
                below = float(np.mean(result.expected_freq < 5))
                if below > 0.2:
                    notes.append(f"{below:.0%} of expected counts below 5: the χ² approximation does not hold")
                jsd = float(jensenshannon(table[:, 0], table[:, 1], base=2) ** 2)
            else:
                notes.append("no hits in one group or fewer than two items with hits: nothing to test")
            records.append(
                (
                    family,
                    a_name,
                    b_name,
                    int(table[:, 0].sum()) if len(table) else 0,
                    int(table[:, 1].sum()) if len(table) else 0,
                    chi2,
                    dof,
                    p,
                    math.nan,
                    min_expected,
                    below,
                    jsd,
                    min(sizes.values()) < min_docs,
                    "; ".join(n for n in notes if n),
                )
            )
    table = pd.DataFrame(records, columns=DISTRIBUTION_COLUMNS)
    for _, index in table.groupby(["group_a", "group_b"], sort=False).groups.items():
        table.loc[index, "q"] = adjust(table.loc[index, "p"].to_numpy(dtype=float), "holm")
    declared = declare_family(
        table, keys=["group_a", "group_b"], within="every family: {group_a} vs {group_b}", correction="holm"
    )
    return order_comparison(declared, ["family"])


def _positive(name: str, value: int, low: int = 1) -> None:
    if not isinstance(value, (int, np.integer)) or value < low:
        raise ValueError(f"{name} = {value!r} must be a whole number >= {low}")


def too_small_note(sizes: Mapping[str, int], min_docs: int) -> str:
    """``"too small: en has 2 documents (fewer than 20; ...)"``, or "" when every group is big enough.

    >>> too_small_note({"vi": 3, "en": 1}, 2)
    'too small: en has 1 document (fewer than 2; below it, 95% intervals cover less than 93% in simulation)'
    """
    return _size_note(sizes, min_docs)


def cluster_labels(docvars: pd.DataFrame, column: str) -> dict[str, str] | None:
    """doc_id -> the value of ``column`` (e.g. the outlet), or None when the metadata lacks the column."""
    if not column or column not in docvars.columns:
        return None
    return {str(d): str(v) for d, v in docvars[column].items()}


def _missing_note(column: str) -> str:
    return f"no {column} column in the metadata: no cluster bootstrap, documents treated as independent"


def cluster_mean(
    values: np.ndarray,
    clusters: np.ndarray,
    *,
    n_resamples: int,
    rng: np.random.Generator,
    column: str,
    support: tuple[float, float] = (0.0, math.inf),
) -> tuple[dict, str]:
    """One group's mean with outlets as clusters: :data:`CLUSTER_COLUMNS` and a note ("" when fine).

    The design effect and effective sizes are :func:`analysis.stats.models.design_effect` (ANOVA ICC,
    Kish's ``1 + (m̄ − 1) ρ``); the interval is the studentized cluster bootstrap of the mean
    (:func:`analysis.stats.resampling.studentized_interval` on the clusters' sums and sizes: whole
    outlets resampled with replacement), cut to ``support``. Fewer than 2 clusters: no interval.
    """
    from .models import design_effect
    from .resampling import studentized_interval

    values = np.asarray(values, dtype=float)
    clusters = np.asarray(clusters, dtype=object)
    row = dict.fromkeys(CLUSTER_COLUMNS, math.nan)
    row["cluster_by"] = column
    if not len(values):
        return row, ""
    de = design_effect(values, clusters)
    row.update(
        cluster_n=de["clusters"],
        effective_clusters=de["effective_clusters"],
        icc=de["icc"],
        design_effect=de["design_effect"],
        effective_n=de["effective_n"],
    )
    names, codes = np.unique(clusters.astype(str), return_inverse=True)
    if len(names) < 2:
        return row, f"{len(names)} {column} cluster: no cluster bootstrap (it needs at least 2)"
    sums = np.bincount(codes, weights=values, minlength=len(names))
    sizes = np.bincount(codes, minlength=len(names)).astype(float)
    row["cluster_ci_low"], row["cluster_ci_high"] = studentized_interval(
        sums, n_resamples=n_resamples, rng=rng, sizes=sizes, support=support
    )
    note = (
        f"{len(names)} {column} clusters (fewer than {MIN_CLUSTERS}): cluster intervals need many more"
        if len(names) < MIN_CLUSTERS
        else ""
    )
    return row, note


def _join(*notes: str) -> str:
    return "; ".join(n for n in notes if n)


def _with_cluster_columns(table: pd.DataFrame, rows: list[dict], notes: list[str]) -> pd.DataFrame:
    """``table`` with :data:`CLUSTER_COLUMNS` inserted before ``too_small`` and each row's note extended."""
    before = table.columns.get_loc("too_small") if "too_small" in table.columns else table.columns.get_loc("note")
    extra = pd.DataFrame(rows, columns=CLUSTER_COLUMNS, index=table.index)
    out = pd.concat([table.iloc[:, :before], extra, table.iloc[:, before:]], axis=1)
    out["note"] = [_join(str(old) if isinstance(old, str) else "", new) for old, new in zip(out["note"], notes)]
    return out


def cluster_group_table(
    table: pd.DataFrame,
    long: pd.DataFrame,
    groups: Mapping[str, str],
    clusters: Mapping[str, str] | None,
    *,
    column: str,
    n_resamples: int,
    seed: int,
    item: str = "item",
    support: tuple[float, float] = (0.0, math.inf),
) -> pd.DataFrame:
    """A per-group table (one row per item and group: :func:`frame_group_table`, :func:`actor_group_table`)
    with :data:`CLUSTER_COLUMNS` from :func:`cluster_mean` of each row's documents.

    ``long``: ``doc_id, item, value`` per document and item (the values averaged in the table's
    mean column); ``table[item]`` and ``table["group"]`` find a row's documents. Generators are
    keyed ``(seed, "cluster", item, group)``: the table's own intervals keep their streams.
    ``clusters`` None (the metadata has no such column): the columns are NaN and the note says so.
    """
    rows, notes = [], []
    by_item = {key: frame for key, frame in long.groupby("item", sort=False)}
    for name, group in zip(table[item], table["group"]):
        if clusters is None:
            rows.append({**dict.fromkeys(CLUSTER_COLUMNS, math.nan), "cluster_by": column})
            notes.append(_missing_note(column))
            continue
        frame = by_item.get(name, long.iloc[0:0])
        frame = frame[frame["doc_id"].map(groups) == group]
        row, note = cluster_mean(
            frame["value"].to_numpy(dtype=float),
            frame["doc_id"].map(clusters).to_numpy(dtype=object),
            n_resamples=n_resamples,
            rng=keyed_rng(seed, "cluster", str(name), str(group)),
            column=column,
            support=support,
        )
        rows.append(row)
        notes.append(note)
    return _with_cluster_columns(table, rows, notes)


#: Columns :func:`cluster_tests` adds (with ``column``) after :data:`CLUSTER_COLUMNS`: the unit the
#: primary ``p``/``q`` come from, and the document-level test kept beside it.
UNIT_COLUMNS = ["p_unit", "p_documents", "min_p_documents", "q_documents"]


def cluster_tests(
    tests: pd.DataFrame,
    long: pd.DataFrame,
    groups: Mapping[str, str],
    clusters: Mapping[str, str] | None,
    *,
    column: str,
    n_resamples: int,
    seed: int,
    alpha: float = 0.05,
    mdd_simulations: int = MDD_SIMULATIONS,
) -> pd.DataFrame:
    """Group tests (:func:`analysis.stats.groups.group_tests`) with outlets as the unit of inference,
    outlets as clusters and the minimum detectable difference.

    Per test row (item, ``group_a`` against ``group_b`` or ``"rest"``):

    * with ``column`` set, **the primary p-value comes from outlets when outlets nest in the
      groups** (every outlet in one group: a language compared with a language): whole outlets are
      permuted between the groups (:func:`analysis.stats.clustered.outlet_permutation_test`,
      Welch's t on outlet means; exact when the arrangements are few, and ``min_p`` is then the
      smallest p these outlets can give), and ``q`` is Benjamini–Hochberg over the items of one
      family and pair on those p-values. The document-level permutation test of
      :func:`group_tests` stays beside it as ``p_documents``, ``min_p_documents``,
      ``q_documents``: conditional on these outlets, it says whether the documents of *these*
      outlets differ, not the languages' coverage. A group with a single outlet gets no p-value
      (``p_unit`` = ``none``): its contrast equals an outlet contrast, and the note says so. When
      outlets span the groups (events compared inside outlets), documents stay the unit
      (``p_unit`` = ``documents``). Without ``column`` documents are the unit and none of these
      columns is added.
    * with ``column`` set: :data:`CLUSTER_COLUMNS` for the pair's documents. ρ and the design effect
      (:func:`analysis.stats.models.design_effect`) are estimated on the values centred at their group's
      mean, so the difference under test is not counted as between-outlet variation; the interval
      is the studentized (bootstrap-t) outlet cluster bootstrap of ``mean_a − mean_b``
      (:func:`analysis.stats.models.cluster_bootstrap_difference`: whole outlets resampled, within each
      group when outlets nest in groups), generator keyed ``(seed, "cluster", family, item, a, b)``.
      A group with fewer than 2 outlets: no interval, and the note says so; fewer than
      :data:`MIN_CLUSTERS`: the note says the interval needs many more.
    * ``mdd``, where the test is not significant (``q`` ≥ ``alpha``, or ``p`` when ``q`` is NaN): the
      smallest true difference a 5% test detects with 80% power at these sizes, by simulation
      from the pooled within-group standard deviation, the ICC and the mean outlet size
      (:func:`analysis.stats.models.minimum_detectable_difference`; ICC 0 without clusters), so
      "no difference" can be read as "no difference larger than mdd". NaN for a significant row,
      and for fewer than 2 documents a side or no variation.

    The columns are in the order of :mod:`analysis.stats.comparison`: the item, the core columns
    (``correction, adjusted_within``, the cluster columns with ``column``, ``mdd``), then ``exact``
    and :data:`UNIT_COLUMNS` (only with ``column``), then ``too_small, note``.

    References: Chung & Romano (2013) on studentized permutation tests; Cameron & Miller (2015),
    "A practitioner's guide to cluster-robust inference", on few clusters.
    """
    from .clustered import nesting, outlet_permutation_test
    from .models import cluster_bootstrap_difference, design_effect, minimum_detectable_difference

    rows, notes, sizes, units = [], [], [], []
    by_item = {key: frame for key, frame in long.groupby(["family", "item"], sort=False)}
    out = tests.copy()
    for i, (_, test) in enumerate(tests.iterrows()):
        a, b = str(test["group_a"]), str(test["group_b"])
        frame = by_item.get((test["family"], test["item"]), long.iloc[0:0])
        of = frame["doc_id"].map(groups)
        in_a = (of == a).to_numpy()
        in_b = (~in_a & of.notna().to_numpy()) if b == "rest" else (of == b).to_numpy()
        keep = in_a | in_b
        values = frame["value"].to_numpy(dtype=float)[keep]
        labels = np.where(in_a[keep], a, b).astype(object)
        centred = values.copy()
        for g in (a, b):
            side = labels == g
            if side.any():
                centred[side] -= values[side].mean()
        icc, m_bar, note = 0.0, 1.0, ""
        row = {**dict.fromkeys(CLUSTER_COLUMNS, math.nan), "cluster_by": column}
        kept = {"p": test["p"], "min_p": test.get("min_p", math.nan), "exact": test.get("exact", False)}
        unit = {"p_unit": "documents", **kept}
        if column and clusters is None:
            note = _missing_note(column)
        elif column:
            outlets = frame["doc_id"].map(clusters).to_numpy(dtype=object)[keep]
            de = design_effect(centred, outlets)
            row.update(
                cluster_n=de["clusters"],
                effective_clusters=de["effective_clusters"],
                icc=de["icc"],
                design_effect=de["design_effect"],
                effective_n=de["effective_n"],
            )
            icc, m_bar = de["icc"], de["mean_cluster_size"]
            per_group = [len(set(outlets[labels == g])) for g in (a, b)]
            if min(per_group) < 2:
                note = (
                    f"{min(per_group)} {column} cluster(s) in a group: no cluster bootstrap (it needs at "
                    "least 2 per group)"
                )
            else:
                row["cluster_ci_low"], row["cluster_ci_high"] = cluster_bootstrap_difference(
                    values,
                    labels,
                    outlets,
                    a=a,
                    b=b,
                    n_resamples=n_resamples,
                    rng=keyed_rng(seed, "cluster", str(test["family"]), str(test["item"]), a, b),
                )
                if min(per_group) < MIN_CLUSTERS:
                    note = (
                        f"{min(per_group)} {column} clusters in the smaller group (fewer than "
                        f"{MIN_CLUSTERS}): cluster intervals need many more"
                    )
            unit, unit_note = _outlet_unit(
                values,
                labels,
                outlets,
                a=a,
                b=b,
                column=column,
                n_resamples=n_resamples,
                rng=keyed_rng(seed, "outlet-permutation", str(test["family"]), str(test["item"]), a, b),
                nesting=nesting,
                test=outlet_permutation_test,
            )
            unit = {**kept, **unit}
            note = _join(unit_note, note)
        n_a, n_b = int((labels == a).sum()), int((labels == b).sum())
        sd = float(np.sqrt((centred**2).sum() / (len(centred) - 2))) if len(centred) > 2 else math.nan
        rows.append(row)
        notes.append(note)
        units.append(unit)
        sizes.append((n_a, n_b, sd, icc, m_bar, str(test["family"]), str(test["item"]), a, b))
    if column:
        out["p_documents"], out["q_documents"] = out["p"], out["q"]
        out["min_p_documents"] = out["min_p"] if "min_p" in out.columns else math.nan
        out["p"] = [u["p"] for u in units]
        for name in ("min_p", "exact"):
            if name in out.columns:
                out[name] = [u[name] for u in units]
        out["p_unit"] = [u["p_unit"] for u in units]
        out["q"] = math.nan
        for _, index in out.groupby(["family", "group_a", "group_b"], sort=False).groups.items():
            p = out.loc[index, "p"]
            valid = p.notna()
            if valid.any():
                out.loc[p[valid].index, "q"] = stats.false_discovery_control(
                    p[valid].to_numpy(dtype=float), method="bh"
                )
    mdds = []
    for (n_a, n_b, sd, icc, m_bar, family, item, a, b), (_, test) in zip(sizes, out.iterrows()):
        q = test["q"] if pd.notna(test["q"]) else test["p"]
        mdd = math.nan
        if pd.notna(q) and q >= alpha and n_a >= 2 and n_b >= 2 and math.isfinite(sd) and sd > 0:
            mdd = minimum_detectable_difference(
                sd,
                n_a,
                n_b,
                icc=icc,
                cluster_size=m_bar,
                n_simulations=mdd_simulations,
                rng=keyed_rng(seed, "mdd", family, item, a, b),
            )
        mdds.append(mdd)
    if column:
        extra = out[UNIT_COLUMNS]
        out = _with_cluster_columns(out.drop(columns=UNIT_COLUMNS), rows, notes)
        before = out.columns.get_loc("too_small")
        out = pd.concat([out.iloc[:, :before], extra, out.iloc[:, before:]], axis=1)
    out.insert(out.columns.get_loc("too_small"), "mdd", mdds)
    declared = declare_family(
        out, keys=["family", "group_a", "group_b"], within="{family}: {group_a} vs {group_b}", correction="bh"
    )
    return order_comparison(declared, ["family", "item", "label"])


def _outlet_unit(
    values: np.ndarray,
    labels: np.ndarray,
    outlets: np.ndarray,
    *,
    a: str,
    b: str,
    column: str,
    n_resamples: int,
    rng: np.random.Generator,
    nesting,
    test,
) -> tuple[dict, str]:
    """The primary p of one comparison when outlets nest in its two groups, and the note to add."""
    design = nesting(labels, outlets, group_word="group", cluster_word=column)
    if not design.nested:
        return {"p_unit": "documents"}, f"{column}s span the groups: p from documents (conditional on these {column}s)"
    if design.problem or min(design.clusters_per_group.values(), default=0) < 2:
        problem = design.problem or f"a group has a single {column}: no p-value between the groups"
        return {"p_unit": "none", "p": math.nan, "min_p": math.nan, "exact": False}, problem
    result = test(values, labels, outlets, a=a, b=b, n_resamples=n_resamples, rng=rng)
    return {"p_unit": f"{column}s", "p": result.p, "min_p": result.min_attainable_p, "exact": result.exact}, ""
