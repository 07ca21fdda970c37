"""Coverage over time: rates by language and period, event windows, and the lag between languages.

Pure computation on per-document counts (documents × items: frame hits, concept hits, actor
mentions ...; a :class:`~analysis.text.dtm.DocTermMatrix` or a table indexed by doc id), an
exposure column (the denominator the caller chooses) and document dates (``datetime64``). The
document is the unit of resampling throughout.

* :func:`period_series`: per item, group and period (``day``, ``week`` starting Monday,
  ``month``) the rate ``scale · Σ counts / Σ exposure`` with a studentized bootstrap 95%
  interval resampling the period's documents of the group; every period from the first to the
  last date appears for every group, and one with no document is a gap (NaN), never a zero.
* :func:`event_window`: before ``[date − window, date)`` and after ``[date, date + window]``, per
  group; the difference-in-differences ``(after_a − before_a) − (after_b − before_b)`` (does
  group a move differently from group b around the event?) with a studentized bootstrap
  interval resampling documents within each of the four cells.
* :func:`lag_correlation`: cross-correlation of the two groups' daily document volumes; the lag
  of its peak is descriptive only (see :data:`LAG_CAUTION`).

Intervals (:data:`INTERVAL_METHOD`): the studentized (bootstrap-t) interval of a ratio of sums,
:func:`analysis.stats.resampling.studentized_contrast`, as the framing and topic intervals are
studentized (Davison & Hinkley 1997, ch. 5; Efron & Tibshirani 1993, ch. 12). It assumes the
documents of a cell (a group in a period, or a group on one side of an event) are independent
draws, so hits that cluster inside a document cannot narrow it, and that the cells are
independent of each other; outlets are not modelled here (the design stage's ``[model]`` and
``[[compare]] cluster`` are). The percentile interval it replaced (:func:`ratio_bootstrap`, kept
for the comparison in ``benchmarks/timeseries_coverage.py``) covered a monthly rate 0.8-0.9 of
the time at 10 documents; the studentized interval reaches 0.93 there (benchmarks/README.md).
A cell with fewer than two documents has no interval; a side the data cannot bound is infinite.
"""

from __future__ import annotations

import math
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from ..errors import InputError
from ..text.dtm import DocTermMatrix, count_frame
from .groups import MIN_DOCS_WITH_HITS, SPARSE_REASON
from .resampling import studentized_contrast, studentized_interval

FREQUENCIES = ("day", "week", "month")

#: What the interval columns of :func:`period_series` and :func:`event_window` are (captions, notes).
INTERVAL_METHOD = (
    "studentized bootstrap 95% interval of the pooled rate (bootstrap-t, resampling documents within each group and "
    "period or event cell; Davison & Hinkley 1997, ch. 5)"
)

LAG_CAUTION = (
    "descriptive: news volumes are autocorrelated and share the event calendar, so the cross-correlation "
    "of raw daily counts is inflated and has no valid p-value; a peak at lag k > 0 means group b's volume "
    "tends to follow group a's by k days, not that one language's coverage causes the other's"
)


def period_start(dates: pd.Series, freq: str) -> pd.Series:
    """The first day of each date's period: the day, the Monday of its week, the first of its month.

    >>> period_start(pd.Series(pd.to_datetime(["2024-04-03", "2024-04-07"])), "week").dt.strftime("%Y-%m-%d").tolist()
    ['2024-04-01', '2024-04-01']
    """
    if freq not in FREQUENCIES:
        raise ValueError(f"unknown frequency {freq!r}")
    d = pd.to_datetime(dates).dt.normalize()
    if freq == "day":
        return d
    if freq == "week":
        return d - pd.to_timedelta(d.dt.day_of_week, unit="D")
    return d - pd.to_timedelta(d.dt.day - 1, unit="D")


#: Most periods a ``[time]`` series may have: each is bootstrapped per group and measure, so a
#: date typed as 0001-01-01 among 2024's articles (739,000 days) would run for hours.
MAX_PERIODS = 2000
#: Days in each period, for :func:`period_count` (a month counted as 28 days: an upper bound).
_PERIOD_DAYS = {"day": 1, "week": 7, "month": 28}


def period_count(first: pd.Timestamp, last: pd.Timestamp, freq: str) -> int:
    """At most how many periods of ``freq`` run from ``first`` to ``last`` (counted without making them).

    >>> period_count(pd.Timestamp("2024-01-01"), pd.Timestamp("2024-01-31"), "day")
    31
    >>> period_count(pd.Timestamp("0001-01-01"), pd.Timestamp("2024-04-03"), "day") > MAX_PERIODS
    True
    """
    return (last.normalize() - first.normalize()).days // _PERIOD_DAYS[freq] + 2 - (freq == "day")


def span_problems(dates: pd.Series, freq: str, where: str) -> list[InputError]:
    """A ``[time]`` series longer than :data:`MAX_PERIODS` periods: one line naming the earliest
    and the latest document (one of them is often a mistyped date) and the fix."""
    dated = dates.dropna()
    if dated.empty or freq not in _PERIOD_DAYS:
        return []
    first, last = dated.idxmin(), dated.idxmax()
    n = period_count(dated[first], dated[last], freq)
    if n <= MAX_PERIODS:
        return []
    coarser = [f for f in ("week", "month") if period_count(dated[first], dated[last], f) <= MAX_PERIODS]
    return [
        InputError(
            where,
            f"[time] freq = {freq!r} makes {n} periods (at most {MAX_PERIODS}): the dates run from "
            f"{dated[first].date().isoformat()} (document {first}) to {dated[last].date().isoformat()} "
            f"(document {last})",
            (f"use freq = {coarser[0]!r}, or " if coarser else "") + "correct a mistyped date in the corpus",
        )
    ]


def all_periods(first: pd.Timestamp, last: pd.Timestamp, freq: str) -> pd.DatetimeIndex:
    """Every period start from ``first``'s period to ``last``'s."""
    code = {"day": "D", "week": "W-MON", "month": "MS"}[freq]
    start = period_start(pd.Series([first]), freq).iloc[0]
    return pd.date_range(start, last, freq=code)


def ratio_bootstrap(
    counts: np.ndarray, exposure: np.ndarray, *, n_resamples: int, rng: np.random.Generator, level: float = 0.95
) -> tuple[np.ndarray, np.ndarray]:
    """Percentile interval of ``Σ counts / Σ exposure`` per column, resampling rows (documents).

    ``counts``: documents × items. NaN with fewer than two documents. No longer used by the
    tables (:func:`rate_interval` is): kept as the "before" of the coverage benchmark, where it
    under-covers at small n as the percentile interval of a mean does.
    """
    n = len(exposure)
    k = counts.shape[1]
    if n < 2 or n_resamples < 1:
        return np.full(k, np.nan), np.full(k, np.nan)
    chunk = max(1, 2_000_000 // max(1, n * k))
    ratios = []
    for start in range(0, n_resamples, chunk):
        idx = rng.integers(0, n, size=(min(chunk, n_resamples - start), n))
        e = exposure[idx].sum(axis=1)
        c = counts[idx].sum(axis=1)  # resamples × items
        with np.errstate(invalid="ignore", divide="ignore"):
            ratios.append(c / e[:, None])
    r = np.concatenate(ratios)
    tail = (1 - level) / 2 * 100
    return np.nanpercentile(r, tail, axis=0), np.nanpercentile(r, 100 - tail, axis=0)


SERIES_COLUMNS = [
    "item",
    "label",
    "group",
    "period",
    "n_docs",
    "docs_with_hits",
    "count",
    "exposure",
    "rate",
    "ci_low",
    "ci_high",
    "sparse",
    "note",
]

UNBOUNDED_NOTE = "unbounded interval: too few documents with different values to bound it"


def rate_interval(
    counts: np.ndarray,
    exposure: np.ndarray,
    *,
    n_resamples: int,
    rng: np.random.Generator,
    level: float = 0.95,
    upper: float = math.inf,
) -> tuple[np.ndarray, np.ndarray]:
    """Studentized bootstrap interval of ``Σ counts / Σ exposure`` per column, resampling documents.

    :func:`analysis.stats.resampling.studentized_interval` with the exposures as sizes (a ratio of
    sums; the standard error by linearisation), cut to ``[0, upper]``: a rate is never negative,
    and a share (topic prevalence: ``upper = 1``) never exceeds 1. Cutting an interval to the
    parameter's range never lowers its coverage.
    Documents with exposure 0 add nothing to either sum and are left out of the resampling (a
    resample of them alone would have no rate). NaN with fewer than two documents of positive
    exposure.
    """
    k = counts.shape[1]
    keep = exposure > 0
    if keep.sum() < 2 or n_resamples < 1:
        return np.full(k, np.nan), np.full(k, np.nan)
    return studentized_interval(
        counts[keep], n_resamples=n_resamples, rng=rng, level=level, sizes=exposure[keep], support=(0.0, upper)
    )


def sparse_note(with_hits: int) -> str:
    """The note of a rate resting on fewer than :data:`analysis.stats.groups.MIN_DOCS_WITH_HITS` documents with hits."""
    return f"sparse: {with_hits} document(s) with hits (fewer than {MIN_DOCS_WITH_HITS}; {SPARSE_REASON})"


def period_series(
    counts: pd.DataFrame | DocTermMatrix,
    exposure: pd.Series,
    dates: pd.Series,
    groups: pd.Series,
    *,
    freq: str = "month",
    n_resamples: int = 1000,
    seed: int = 0,
    scale: float = 1000.0,
    labels: Mapping[str, str] | None = None,
    order: Sequence[str] | None = None,
    upper: float = math.inf,
) -> pd.DataFrame:
    """Rates per item, group and period with studentized document-bootstrap 95% intervals (:data:`SERIES_COLUMNS`).

    ``upper``: the largest value ``Σ count / Σ exposure`` can take (1 for topic shares with
    exposure 1), where the interval is cut (:func:`rate_interval`); the note says so.

    ``rate = scale · Σ count / Σ exposure`` over the period's documents of the group (a ratio
    estimator: long articles weigh more, as in a pooled rate). ``ci_low, ci_high``: the
    studentized bootstrap interval of that ratio (:func:`rate_interval`; :data:`INTERVAL_METHOD`),
    resampling the documents of the group and period, ``n_resamples`` times, from a generator
    keyed ``(seed, "series", group, period)``: the same inputs give the same numbers, and adding a
    group or a period changes no other row. Documents with no date or no group are left out.
    Periods with no document of a group have ``n_docs = 0`` and NaN rates. ``docs_with_hits``: the
    period's documents of the group with a count above 0; with fewer than
    :data:`analysis.stats.groups.MIN_DOCS_WITH_HITS` of them ``sparse`` is true and the note says so
    (what bounds a rate of mostly-zero documents is the documents with hits: in the coverage
    simulation behind the threshold, intervals covered 0.86-0.92 below it; not for shares, ``upper``
    finite, which are positive in almost every document).

    >>> c = pd.DataFrame({"f": [1, 0, 2]}, index=["a", "b", "c"])
    >>> e = pd.Series([100, 100, 100], index=c.index)
    >>> d = pd.Series(pd.to_datetime(["2024-01-05", "2024-01-20", "2024-03-02"]), index=c.index)
    >>> g = pd.Series("vi", index=c.index)
    >>> period_series(c, e, d, g, freq="month", n_resamples=0)[["period", "n_docs", "rate"]].to_string(index=False)
    '    period  n_docs  rate\\n2024-01-01       2   5.0\\n2024-02-01       0   NaN\\n2024-03-01       1  20.0'
    """
    from .groups import keyed_rng

    counts = count_frame(counts)  # a DocTermMatrix (words, codebook entries) or a table indexed by doc id
    counted = math.isinf(upper)  # hits, not shares: a share (topics) is positive in almost every document
    labels = labels or {}
    ids = [d for d in counts.index if pd.notna(dates.get(d)) and isinstance(groups.get(d), str)]
    if not ids:
        return pd.DataFrame(columns=SERIES_COLUMNS)
    d = pd.to_datetime(dates.loc[ids])
    period = period_start(d, freq)
    periods = all_periods(d.min(), d.max(), freq)
    group_of = groups.loc[ids].astype(str)
    order = list(order) if order else sorted(set(group_of))
    C = counts.loc[ids].to_numpy(dtype=float)
    E = exposure.reindex(ids).to_numpy(dtype=float)
    items = list(counts.columns)
    records = []
    for group in order:
        for p in periods:
            m = ((group_of == group) & (period == p)).to_numpy()
            n = int(m.sum())
            if n == 0:
                for item in items:
                    records.append(
                        (
                            item,
                            labels.get(item, item),
                            group,
                            p,
                            0,
                            0,
                            0.0,
                            0.0,
                            math.nan,
                            math.nan,
                            math.nan,
                            False,
                            "no documents: gap",
                        )
                    )
                continue
            c, e = C[m], E[m]
            low, high = rate_interval(
                c, e, n_resamples=n_resamples, rng=keyed_rng(seed, "series", group, str(p.date())), upper=upper
            )
            total_e = e.sum()
            for j, item in enumerate(items):
                rate = scale * c[:, j].sum() / total_e if total_e > 0 else math.nan
                if n == 1:
                    note = "one document: no interval"
                elif (e > 0).sum() < 2:
                    note = "fewer than two documents with exposure: no interval"
                else:
                    note = (
                        UNBOUNDED_NOTE
                        if np.isinf(low[j]) or np.isinf(high[j])
                        else (f"interval cut at {upper:g}, the largest possible value" if high[j] >= upper else "")
                    )
                with_hits = int((c[:, j] > 0).sum())
                sparse = counted and (e > 0).sum() >= 2 and with_hits < MIN_DOCS_WITH_HITS
                if sparse:
                    note = "; ".join(filter(None, [note, sparse_note(with_hits)]))
                records.append(
                    (
                        item,
                        labels.get(item, item),
                        group,
                        p,
                        n,
                        with_hits,
                        float(c[:, j].sum()),
                        float(total_e),
                        rate,
                        scale * low[j],
                        scale * high[j],
                        sparse,
                        note,
                    )
                )
    table = pd.DataFrame(records, columns=SERIES_COLUMNS)
    table["period"] = table["period"].dt.strftime("%Y-%m-%d")
    return table


EVENT_COLUMNS = [
    "event",
    "item",
    "label",
    "group_a",
    "group_b",
    "n_before_a",
    "n_after_a",
    "n_before_b",
    "n_after_b",
    "before_a",
    "after_a",
    "before_b",
    "after_b",
    "change_a",
    "change_b",
    "did",
    "did_ci_low",
    "did_ci_high",
    "docs_with_hits_min",
    "too_small",
    "note",
]


def event_problems(*, name: str, date: pd.Timestamp, window: int, dates: pd.Series, where: str) -> list[InputError]:
    """An event window that the data cannot fill: no document before or none after the date."""
    d = pd.to_datetime(dates.dropna())
    key = f"[[time.event]] '{name}'"
    if not len(d):
        return [InputError(where, f"{key}: the documents have no dates", "add a date column to the metadata")]
    first, last = d.min(), d.max()
    before = ((d >= date - pd.Timedelta(days=window)) & (d < date)).sum()
    after = ((d >= date) & (d <= date + pd.Timedelta(days=window))).sum()
    if before == 0 or after == 0:
        side = "before" if before == 0 else "after"
        return [
            InputError(
                where,
                f"{key} date {date.date()} ± {window} days has no document {side} it "
                f"(documents run from {first.date()} to {last.date()})",
                "move the date or widen the window so documents fall on both sides",
            )
        ]
    return []


def event_window(
    counts: pd.DataFrame | DocTermMatrix,
    exposure: pd.Series,
    dates: pd.Series,
    groups: pd.Series,
    *,
    name: str,
    date: pd.Timestamp,
    window: int,
    a: str,
    b: str,
    n_resamples: int = 1000,
    seed: int = 0,
    scale: float = 1000.0,
    labels: Mapping[str, str] | None = None,
    min_docs: int = 5,
    counted: bool = True,
) -> pd.DataFrame:
    """Before/after rates per group and their difference-in-differences (:data:`EVENT_COLUMNS`).

    ``docs_with_hits_min``: the fewest documents with a count above 0 in any group x side cell; with
    ``counted`` (hits, not topic shares) a value under :data:`analysis.stats.groups.MIN_DOCS_WITH_HITS`
    is said in the note (the DiD interval under-covers there).

    Rates are ``scale · Σ count / Σ exposure`` in each of the four cells (group × side);
    ``did = (after_a − before_a) − (after_b − before_b)``. ``did_ci_low, did_ci_high``: the
    studentized bootstrap 95% interval of ``did`` (:func:`analysis.stats.resampling.studentized_contrast`
    with weights ``(−1, 1, 1, −1)`` on the cells a-before, a-after, b-before, b-after), resampling
    documents within each of the four cells independently, ``n_resamples`` times, from a
    generator keyed ``(seed, "event", name, a, b)``, never narrower than the Welch–Satterthwaite
    t interval (``welch_floor``: the bootstrap-t interval of a sum of four ratios alone covered
    0.91-0.93 in simulation, the floor 0.94-0.95; benchmarks/README.md). It assumes the four cells are independent
    samples of documents (a document falls in one cell only) and that, without the event, the two
    groups would have moved alike (the parallel-trends assumption of any difference-in-differences:
    the interval measures sampling error, not that assumption). Documents with exposure 0 are
    left out of the resampling (they add nothing to a rate). A cell with fewer than two such
    documents: no interval.

    By hand for the example (exposure 100 per document, rates per 100): vi goes from 4/200 = 2 to
    12/200 = 6, en from 2 to 3, so did = (6 − 2) − (3 − 2) = 3.

    >>> ids = ["a1", "a2", "a3", "a4", "b1", "b2", "b3", "b4"]
    >>> counts = pd.DataFrame({"x": [1, 3, 5, 7, 2, 2, 3, 3]}, index=ids)
    >>> exposure = pd.Series(100.0, index=ids)
    >>> dates = pd.Series(pd.to_datetime(["2024-03-25", "2024-03-30", "2024-04-05", "2024-04-08"] * 2), index=ids)
    >>> groups = pd.Series(["vi"] * 4 + ["en"] * 4, index=ids)
    >>> t = event_window(counts, exposure, dates, groups, name="visit", date=pd.Timestamp("2024-04-03"), window=21,
    ...     a="vi", b="en", n_resamples=200, seed=1, scale=100.0)
    >>> print(t[["before_a", "after_a", "before_b", "after_b", "did", "too_small"]].to_string(index=False))
     before_a  after_a  before_b  after_b  did  too_small
          2.0      6.0       2.0      3.0  3.0       True
    """
    from .groups import keyed_rng

    counts = count_frame(counts)
    labels = labels or {}
    ids = [d for d in counts.index if pd.notna(dates.get(d)) and isinstance(groups.get(d), str)]
    d = pd.to_datetime(dates.loc[ids])
    before = ((d >= date - pd.Timedelta(days=window)) & (d < date)).to_numpy()
    after = ((d >= date) & (d <= date + pd.Timedelta(days=window))).to_numpy()
    g = groups.loc[ids].astype(str).to_numpy()
    C = counts.loc[ids].to_numpy(dtype=float)
    E = exposure.reindex(ids).to_numpy(dtype=float)
    cells = {
        (grp, side): np.flatnonzero((g == grp) & mask)
        for grp in (a, b)
        for side, mask in (("before", before), ("after", after))
    }
    K = C.shape[1]

    def rate(idx: np.ndarray) -> np.ndarray:
        e = E[idx].sum()
        return scale * C[idx].sum(axis=0) / e if len(idx) and e > 0 else np.full(K, np.nan)

    point = {k: rate(v) for k, v in cells.items()}
    order = [(a, "before"), (a, "after"), (b, "before"), (b, "after")]
    resampled = [cells[k][E[cells[k]] > 0] for k in order]
    if n_resamples >= 1:
        low, high = studentized_contrast(
            [(C[idx], E[idx]) for idx in resampled],
            (-1.0, 1.0, 1.0, -1.0),
            n_resamples=n_resamples,
            rng=keyed_rng(seed, "event", name, a, b),
            welch_floor=True,
        )
    else:
        low, high = np.full(K, np.nan), np.full(K, np.nan)
    sizes = {k: len(v) for k, v in cells.items()}
    small = min(sizes.values()) < min_docs
    notes = []
    if small:
        notes.append(f"too small: a group × side cell has {min(sizes.values())} document(s) (fewer than {min_docs})")
    if min(len(idx) for idx in resampled) < 2:
        notes.append("a cell with fewer than two documents: no interval")
    records = []
    for j, item in enumerate(counts.columns):
        ca = point[(a, "after")][j] - point[(a, "before")][j]
        cb = point[(b, "after")][j] - point[(b, "before")][j]
        lo, hi = scale * float(low[j]), scale * float(high[j])
        with_hits = min(int((C[idx, j] > 0).sum()) for idx in cells.values())
        note = "; ".join(
            [
                *notes,
                *([UNBOUNDED_NOTE] if math.isinf(lo) or math.isinf(hi) else []),
                *(
                    [f"a group x side cell is {sparse_note(with_hits)}"]
                    if counted and with_hits < MIN_DOCS_WITH_HITS
                    else []
                ),
            ]
        )
        records.append(
            (
                name,
                item,
                labels.get(item, item),
                a,
                b,
                sizes[(a, "before")],
                sizes[(a, "after")],
                sizes[(b, "before")],
                sizes[(b, "after")],
                point[(a, "before")][j],
                point[(a, "after")][j],
                point[(b, "before")][j],
                point[(b, "after")][j],
                ca,
                cb,
                ca - cb,
                lo,
                hi,
                with_hits,
                small,
                note,
            )
        )
    return pd.DataFrame(records, columns=EVENT_COLUMNS)


LAG_COLUMNS = ["group_a", "group_b", "days", "docs_a", "docs_b", "best_lag", "correlation", "max_lag", "note"]


def daily_volume(dates: pd.Series, first: pd.Timestamp, last: pd.Timestamp) -> pd.Series:
    """Documents per calendar day from ``first`` to ``last`` (days with none are 0: a count, not a gap)."""
    days = pd.to_datetime(dates.dropna()).dt.normalize()
    return (
        days.value_counts()
        .reindex(pd.date_range(first.normalize(), last.normalize(), freq="D"), fill_value=0)
        .sort_index()
    )


def cross_correlation(x: np.ndarray, y: np.ndarray, max_lag: int) -> pd.Series:
    """Pearson correlation of ``x[t]`` with ``y[t + lag]`` for ``lag = −max_lag .. max_lag``."""
    out = {}
    n = len(x)
    for lag in range(-max_lag, max_lag + 1):
        xs, ys = (x[: n - lag], y[lag:]) if lag >= 0 else (x[-lag:], y[: n + lag])
        ok = len(xs) > 2 and np.std(xs) > 0 and np.std(ys) > 0
        out[lag] = float(np.corrcoef(xs, ys)[0, 1]) if ok else math.nan
    return pd.Series(out)


def lag_correlation(dates: pd.Series, groups: pd.Series, *, a: str, b: str, max_lag: int = 7) -> pd.DataFrame:
    """The lag (days) at which group b's daily volume correlates best with group a's (:data:`LAG_COLUMNS`).

    A positive ``best_lag`` means b follows a. Descriptive only: :data:`LAG_CAUTION`. In the
    example en's daily volume is vi's two days later, so the best lag is 2 with correlation 1.

    >>> pattern = [0, 2, 5, 1, 0, 3, 0, 1, 4, 0] * 4  # vi documents per day
    >>> days = [d for d, n in enumerate(pattern) for _ in range(n)]
    >>> dates = pd.Series([pd.Timestamp("2024-03-01") + pd.Timedelta(days=d + lag) for lag in (0, 2) for d in days])
    >>> groups = pd.Series(["vi"] * len(days) + ["en"] * len(days))
    >>> print(lag_correlation(dates, groups, a="vi", b="en", max_lag=5)[["days", "docs_a", "docs_b", "best_lag",
    ...     "correlation"]].to_string(index=False))
     days  docs_a  docs_b  best_lag  correlation
       40      64      64         2          1.0
    """
    d = pd.to_datetime(dates.dropna())
    g = groups.reindex(d.index).astype(str)
    notes = [LAG_CAUTION]
    if not len(d):
        return pd.DataFrame([(a, b, 0, 0, 0, math.nan, math.nan, max_lag, "no dated documents")], columns=LAG_COLUMNS)
    first, last = d.min(), d.max()
    va, vb = daily_volume(d[g == a], first, last), daily_volume(d[g == b], first, last)
    days = len(va)
    max_lag = min(max_lag, max(0, days - 3))
    ccf = cross_correlation(va.to_numpy(float), vb.to_numpy(float), max_lag)
    if ccf.notna().any():
        best = int(ccf.abs().idxmax())
        corr = float(ccf[best])
    else:
        best, corr = math.nan, math.nan
        notes.insert(0, f"{days} day(s) with constant volume in a group: no correlation")
    if days < 30:
        notes.insert(0, f"too short: {days} days")
    return pd.DataFrame(
        [(a, b, days, int((g == a).sum()), int((g == b).sum()), best, corr, max_lag, "; ".join(notes))],
        columns=LAG_COLUMNS,
    )
