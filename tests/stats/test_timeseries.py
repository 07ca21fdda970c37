"""Rates over time, event windows (difference-in-differences) and the lag between languages."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from analysis.stats import timeseries as ts
from analysis.text.dtm import DocTermMatrix


def _corpus():
    ids = [f"d{i}" for i in range(8)]
    dates = pd.Series(
        pd.to_datetime(
            [
                "2024-01-03",
                "2024-01-20",
                "2024-03-05",
                "2024-03-06",
                "2024-01-10",
                "2024-02-11",
                "2024-02-12",
                "2024-03-30",
            ]
        ),
        index=ids,
    )
    groups = pd.Series(["vi"] * 4 + ["en"] * 4, index=ids)
    counts = pd.DataFrame({"trade": [2, 0, 1, 3, 1, 1, 0, 4], "security": [0, 1, 0, 0, 2, 0, 1, 0]}, index=ids)
    exposure = pd.Series([100, 200, 100, 100, 50, 100, 150, 200], index=ids, dtype=float)
    return counts, exposure, dates, groups


def test_period_start_day_week_month():
    d = pd.Series(pd.to_datetime(["2024-02-29 13:00", "2024-03-03 00:00", "2024-03-04 08:30"]))
    assert ts.period_start(d, "day").dt.strftime("%Y-%m-%d").tolist() == ["2024-02-29", "2024-03-03", "2024-03-04"]
    assert ts.period_start(d, "week").dt.strftime("%Y-%m-%d").tolist() == ["2024-02-26", "2024-02-26", "2024-03-04"]
    assert ts.period_start(d, "month").dt.strftime("%Y-%m-%d").tolist() == ["2024-02-01", "2024-03-01", "2024-03-01"]


def test_monthly_series_rates_and_gaps_by_hand():
    counts, exposure, dates, groups = _corpus()
    table = ts.period_series(counts, exposure, dates, groups, freq="month", n_resamples=200, seed=1, order=["vi", "en"])
    trade = table[table["item"] == "trade"].set_index(["group", "period"])
    # vi January: (2 + 0) / (100 + 200) per 1,000 = 6.667; vi February: no document -> gap (NaN, n 0)
    assert trade.loc[("vi", "2024-01-01"), "rate"] == pytest.approx(1000 * 2 / 300)
    assert trade.loc[("vi", "2024-02-01"), "n_docs"] == 0 and np.isnan(trade.loc[("vi", "2024-02-01"), "rate"])
    assert trade.loc[("en", "2024-02-01"), "rate"] == pytest.approx(1000 * 1 / 250)
    assert trade.loc[("en", "2024-01-01"), "note"] == "one document: no interval"
    row = trade.loc[("vi", "2024-03-01")]
    assert row["ci_low"] <= row["rate"] <= row["ci_high"]
    assert len(table) == 2 * 3 * 2  # items x groups x months, gaps included
    again = ts.period_series(counts, exposure, dates, groups, freq="month", n_resamples=200, seed=1, order=["vi", "en"])
    pd.testing.assert_frame_equal(table, again)
    # the same counts as a sparse document-term matrix (words or codebook entries): the same table
    matrix = DocTermMatrix(sp.csr_matrix(counts.to_numpy()), list(counts.index), list(counts.columns), pd.DataFrame())
    from_matrix = ts.period_series(
        matrix, exposure, dates, groups, freq="month", n_resamples=200, seed=1, order=["vi", "en"]
    )
    pd.testing.assert_frame_equal(table, from_matrix)


def test_series_bootstrap_interval_covers_the_rate():
    covered, runs = 0, 100
    for seed in range(runs):
        rng = np.random.default_rng(seed)
        n = 60
        ids = [f"d{i}" for i in range(n)]
        exposure = pd.Series(rng.integers(100, 400, n).astype(float), index=ids)
        counts = pd.DataFrame({"f": rng.poisson(exposure.to_numpy() * 0.01)}, index=ids)
        dates = pd.Series(pd.Timestamp("2024-05-01") + pd.to_timedelta(rng.integers(0, 28, n), unit="D"), index=ids)
        groups = pd.Series("vi", index=ids)
        row = ts.period_series(counts, exposure, dates, groups, freq="month", n_resamples=500, seed=seed).iloc[0]
        covered += row["ci_low"] <= 10.0 <= row["ci_high"]
    assert covered / runs >= 0.9


def test_event_window_difference_in_differences_by_hand():
    counts, exposure, dates, groups = _corpus()
    table = ts.event_window(
        counts,
        exposure,
        dates,
        groups,
        name="visit",
        date=pd.Timestamp("2024-02-01"),
        window=60,
        a="vi",
        b="en",
        n_resamples=300,
        seed=2,
    )
    row = table.set_index("item").loc["trade"]
    # vi before: (2 + 0) / 300; after: (1 + 3) / 200; en before: 1 / 50; after: (1 + 0 + 4) / 450 (per 1,000)
    before_a, after_a, before_b, after_b = 2000 / 300, 4000 / 200, 1000 / 50, 5000 / 450
    assert (row["before_a"], row["after_a"], row["before_b"], row["after_b"]) == pytest.approx(
        (before_a, after_a, before_b, after_b)
    )
    assert row["did"] == pytest.approx((after_a - before_a) - (after_b - before_b))
    assert row["too_small"] and "no interval" in row["note"]  # en before has a single document
    assert (row["n_before_a"], row["n_after_a"], row["n_before_b"], row["n_after_b"]) == (2, 2, 1, 3)


def test_event_window_did_interval_covers_a_planted_shift():
    covered, runs = 0, 60
    for seed in range(runs):
        rng = np.random.default_rng(seed)
        n = 160
        ids = [f"d{i}" for i in range(n)]
        group = np.where(np.arange(n) % 2 == 0, "vi", "en")
        day = rng.integers(-30, 30, n)
        after = day >= 0
        exposure = rng.integers(200, 400, n).astype(float)
        rate = 0.01 + 0.01 * ((group == "vi") & after)  # vi doubles after the event, en flat: DiD = 10 per 1,000
        counts = pd.DataFrame({"f": rng.poisson(exposure * rate)}, index=ids)
        dates = pd.Series(pd.Timestamp("2024-04-03") + pd.to_timedelta(day, unit="D"), index=ids)
        row = ts.event_window(
            counts,
            pd.Series(exposure, index=ids),
            dates,
            pd.Series(group, index=ids),
            name="e",
            date=pd.Timestamp("2024-04-03"),
            window=30,
            a="vi",
            b="en",
            n_resamples=400,
            seed=seed,
        ).iloc[0]
        covered += row["did_ci_low"] <= 10.0 <= row["did_ci_high"]
    assert covered / runs >= 0.88


def _bursty(rng, n, rate, zeros, items=5):
    """``n`` documents: gamma-Poisson hits (shape 1) absent from ``zeros`` of them, mean ``rate`` per sentence."""
    sentences = rng.integers(5, 40, n).astype(float)
    mean = rng.gamma(1.0, 1.0, (n, items)) * rate * sentences[:, None] / (1 - zeros) * (rng.random((n, items)) >= zeros)
    return rng.poisson(mean).astype(float), sentences


def _rate_coverage(interval, n, zeros, reps, seed):
    rng = np.random.default_rng(seed)
    hits = [
        ((lo <= 0.05) & (0.05 <= hi))
        for lo, hi in (interval(*_bursty(rng, n, 0.05, zeros), n_resamples=499, rng=rng) for _ in range(reps))
    ]
    return float(np.mean(hits))


def test_period_rate_interval_covers_at_least_93_percent_at_small_n_and_the_percentile_did_not():
    """Seeded simulation: pooled rate of 10 / 20 bursty documents (half without the frame); 1,000
    samples each. The studentized interval covers >= 0.93, the percentile one it replaced < 0.90."""
    assert _rate_coverage(ts.rate_interval, 10, 0.5, 200, 1) >= 0.93
    assert _rate_coverage(ts.rate_interval, 20, 0.5, 200, 2) >= 0.93
    assert _rate_coverage(ts.ratio_bootstrap, 10, 0.5, 200, 1) < 0.90


def test_did_interval_covers_a_planted_effect_at_least_93_percent_with_ten_documents_per_cell():
    """Four cells of 10 bursty documents; group a doubles its rate after the event (DiD = 0.05 per
    sentence): the studentized interval with its Welch floor covers >= 0.93 of 500 samples."""
    from analysis.stats.resampling import studentized_contrast

    rng = np.random.default_rng(3)
    covered = []
    for _ in range(100):
        cells = [_bursty(rng, 10, r, 0.5) for r in (0.05, 0.10, 0.05, 0.05)]
        low, high = studentized_contrast(cells, (-1, 1, 1, -1), n_resamples=499, rng=rng, welch_floor=True)
        covered.append((low <= 0.05) & (0.05 <= high))
    assert np.mean(covered) >= 0.93


def test_one_cell_contrast_is_the_studentized_ratio_interval_and_the_event_uses_it():
    from analysis.stats.resampling import studentized_contrast, studentized_interval

    y, m = _bursty(np.random.default_rng(4), 15, 0.05, 0.3)
    one = studentized_contrast([(y, m)], [1.0], n_resamples=999, rng=np.random.default_rng(5))
    assert np.allclose(one, studentized_interval(y, n_resamples=999, rng=np.random.default_rng(5), sizes=m))
    # the event table's interval is the contrast of its four cells (keyed generator), scaled
    counts, exposure, dates, groups = _corpus()
    dates = dates.copy()
    dates.iloc[5] = pd.Timestamp("2024-01-28")  # en gets two documents before 1 February
    row = ts.event_window(
        counts,
        exposure,
        dates,
        groups,
        name="visit",
        date=pd.Timestamp("2024-02-01"),
        window=60,
        a="vi",
        b="en",
        n_resamples=300,
        seed=2,
    ).iloc[0]
    from analysis.stats.groups import keyed_rng

    ids = list(counts.index)
    g, d = groups.to_numpy(), dates.to_numpy()
    cell = lambda grp, after: [i for i in range(8) if g[i] == grp and (d[i] >= np.datetime64("2024-02-01")) == after]  # noqa: E731
    cells = [
        (counts.to_numpy(float)[cell(grp, side)], exposure.to_numpy()[cell(grp, side)])
        for grp, side in (("vi", False), ("vi", True), ("en", False), ("en", True))
    ]
    low, high = studentized_contrast(
        cells, (-1, 1, 1, -1), n_resamples=300, rng=keyed_rng(2, "event", "visit", "vi", "en"), welch_floor=True
    )
    assert (row["did_ci_low"], row["did_ci_high"]) == pytest.approx((1000 * low[0], 1000 * high[0]))
    # two documents a cell: half the resamples of a cell repeat one document, so a side is unbounded and the note says
    # so
    assert math.isinf(row["did_ci_low"]) or math.isinf(row["did_ci_high"])
    assert (
        len(ids) == 8
        and row["note"].startswith(
            f"too small: a group × side cell has 2 document(s) (fewer than 5); {ts.UNBOUNDED_NOTE}"
        )
        and "sparse" in row["note"]  # two documents a cell: at most 2 with hits
    )


def test_event_outside_the_data_is_one_clear_line():
    _, _, dates, _ = _corpus()
    problems = ts.event_problems(
        name="visit", date=pd.Timestamp("2025-06-01"), window=14, dates=dates, where="study.toml"
    )
    assert len(problems) == 1
    message = str(problems[0])
    assert (
        message.startswith("study.toml: [[time.event]] 'visit'")
        and "2024-01-03 to 2024-03-30" in message
        and "\n" not in message
    )
    assert ts.event_problems(name="visit", date=pd.Timestamp("2024-02-01"), window=30, dates=dates, where="s") == []


def test_lag_correlation_finds_a_planted_delay():
    rng = np.random.default_rng(0)
    days = pd.date_range("2024-01-01", periods=120, freq="D")
    volume = rng.poisson(3, 120) + 10 * (rng.random(120) < 0.1)
    a_dates = np.repeat(days, volume)
    b_dates = np.repeat(days + pd.Timedelta(days=2), volume)  # b covers the same stories two days later
    dates = pd.Series(np.r_[a_dates, b_dates])
    groups = pd.Series(["vi"] * len(a_dates) + ["en"] * len(b_dates))
    row = ts.lag_correlation(dates, groups, a="vi", b="en", max_lag=7).iloc[0]
    assert row["best_lag"] == 2 and row["correlation"] > 0.9
    assert "descriptive" in row["note"]
    x = np.arange(10.0)
    assert ts.cross_correlation(x, x, 2)[0] == pytest.approx(1.0)


def test_documents_without_exposure_are_counted_but_not_resampled():
    ids = ["a", "b", "c"]
    counts = pd.DataFrame({"f": [2, 0, 0]}, index=ids)
    dates = pd.Series(pd.to_datetime(["2024-01-02", "2024-01-03", "2024-01-04"]), index=ids)
    groups = pd.Series("vi", index=ids)
    row = ts.period_series(
        counts, pd.Series([50.0, 0.0, 0.0], index=ids), dates, groups, freq="month", n_resamples=99, seed=1
    ).iloc[0]
    assert row["n_docs"] == 3 and row["rate"] == pytest.approx(40.0) and math.isnan(row["ci_low"])
    assert row["note"] == "fewer than two documents with exposure: no interval"
    low, high = ts.rate_interval(
        np.array([[2.0], [0.0], [1.0]]), np.array([50.0, 0.0, 25.0]), n_resamples=99, rng=np.random.default_rng(0)
    )
    again = ts.rate_interval(
        np.array([[2.0], [1.0]]), np.array([50.0, 25.0]), n_resamples=99, rng=np.random.default_rng(0)
    )
    assert (low[0], high[0]) == (again[0][0], again[1][0])


def test_a_share_interval_is_cut_at_one_and_says_so():
    ids = [f"d{i}" for i in range(4)]
    counts = pd.DataFrame({"T1": [0.9, 0.97, 1.0, 0.99]}, index=ids)
    exposure = pd.Series(1.0, index=ids)
    dates = pd.Series(pd.to_datetime(["2024-01-03"] * 4), index=ids)
    groups = pd.Series("vi", index=ids)
    free = ts.period_series(counts, exposure, dates, groups, freq="month", n_resamples=500, seed=1, scale=1.0).iloc[0]
    cut = ts.period_series(
        counts, exposure, dates, groups, freq="month", n_resamples=500, seed=1, scale=1.0, upper=1.0
    ).iloc[0]
    assert free["ci_high"] > 1.0  # the bootstrap-t interval of a mean share of 0.965 reaches past 1
    assert cut["ci_high"] == 1.0 and cut["ci_low"] == free["ci_low"] and cut["rate"] == pytest.approx(0.965)
    assert "cut at 1" in cut["note"] and "cut" not in free["note"]


def test_sparse_periods_and_event_cells_are_flagged_by_documents_with_hits():
    """Hand-counted: vi March has two documents, both with trade hits (2 < 5: sparse) and none with
    security hits; a one-document period gets no sparse flag (it has no interval to under-cover)."""
    counts, exposure, dates, groups = _corpus()
    table = ts.period_series(counts, exposure, dates, groups, freq="month", n_resamples=50, seed=1, order=["vi", "en"])
    rows = table.set_index(["item", "group", "period"])
    march = rows.loc[("trade", "vi", "2024-03-01")]
    assert march["docs_with_hits"] == 2 and march["sparse"] and "sparse: 2 document(s) with hits" in march["note"]
    assert rows.loc[("security", "vi", "2024-03-01"), "docs_with_hits"] == 0
    assert not rows.loc[("trade", "en", "2024-01-01"), "sparse"]  # one document
    assert not rows.loc[("trade", "vi", "2024-02-01"), "sparse"]  # a gap
    many = pd.DataFrame({"trade": np.ones(12, dtype=int)}, index=[f"m{i}" for i in range(12)])
    shares = ts.period_series(
        many,
        pd.Series(1.0, index=many.index),
        pd.Series(pd.Timestamp("2024-01-01"), index=many.index),
        pd.Series("vi", index=many.index),
        n_resamples=20,
        upper=1.0,
    )
    assert not shares["sparse"].any()  # shares (topics) are not counted hits
    event = ts.event_window(
        counts,
        exposure,
        dates,
        groups,
        name="visit",
        date=pd.Timestamp("2024-02-01"),
        window=60,
        a="vi",
        b="en",
        n_resamples=50,
        seed=2,
    ).set_index("item")
    # trade: vi before 1 (d0), vi after 2, en before 1, en after 2 -> at least 1
    assert event.loc["trade", "docs_with_hits_min"] == 1 and "sparse" in event.loc["trade", "note"]
