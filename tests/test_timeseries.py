"""Rates over time, event windows (difference-in-differences) and the lag between languages."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis import timeseries as ts


def _corpus():
    ids = [f"d{i}" for i in range(8)]
    dates = pd.Series(pd.to_datetime(["2024-01-03", "2024-01-20", "2024-03-05", "2024-03-06",
                                      "2024-01-10", "2024-02-11", "2024-02-12", "2024-03-30"]), index=ids)
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
    table = ts.period_series(counts, exposure, dates, groups, "month", 200, seed=1, order=["vi", "en"])
    trade = table[table["item"] == "trade"].set_index(["group", "period"])
    # vi January: (2 + 0) / (100 + 200) per 1,000 = 6.667; vi February: no document -> gap (NaN, n 0)
    assert trade.loc[("vi", "2024-01-01"), "rate"] == pytest.approx(1000 * 2 / 300)
    assert trade.loc[("vi", "2024-02-01"), "n_docs"] == 0 and np.isnan(trade.loc[("vi", "2024-02-01"), "rate"])
    assert trade.loc[("en", "2024-02-01"), "rate"] == pytest.approx(1000 * 1 / 250)
    assert trade.loc[("en", "2024-01-01"), "note"] == "one document: no interval"
    row = trade.loc[("vi", "2024-03-01")]
    assert row["ci_low"] <= row["rate"] <= row["ci_high"]
    assert len(table) == 2 * 3 * 2  # items x groups x months, gaps included
    again = ts.period_series(counts, exposure, dates, groups, "month", 200, seed=1, order=["vi", "en"])
    pd.testing.assert_frame_equal(table, again)


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
        row = ts.period_series(counts, exposure, dates, groups, "month", 500, seed=seed).iloc[0]
        covered += row["ci_low"] <= 10.0 <= row["ci_high"]
    assert covered / runs >= 0.9


def test_event_window_difference_in_differences_by_hand():
    counts, exposure, dates, groups = _corpus()
    table = ts.event_window(counts, exposure, dates, groups, "visit", pd.Timestamp("2024-02-01"), 60, "vi", "en", 300, seed=2)
    row = table.set_index("item").loc["trade"]
    # vi before: (2 + 0) / 300; after: (1 + 3) / 200; en before: 1 / 50; after: (1 + 0 + 4) / 450 (per 1,000)
    before_a, after_a, before_b, after_b = 2000 / 300, 4000 / 200, 1000 / 50, 5000 / 450
    assert (row["before_a"], row["after_a"], row["before_b"], row["after_b"]) == pytest.approx((before_a, after_a, before_b, after_b))
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
        row = ts.event_window(counts, pd.Series(exposure, index=ids), dates, pd.Series(group, index=ids), "e",
                              pd.Timestamp("2024-04-03"), 30, "vi", "en", 400, seed=seed).iloc[0]
        covered += row["did_ci_low"] <= 10.0 <= row["did_ci_high"]
    assert covered / runs >= 0.88


def test_event_outside_the_data_is_one_clear_line():
    _, _, dates, _ = _corpus()
    problems = ts.event_problems("visit", pd.Timestamp("2025-06-01"), 14, dates, "study.toml")
    assert len(problems) == 1
    message = str(problems[0])
    assert message.startswith("study.toml: [[time.event]] 'visit'") and "2024-01-03 to 2024-03-30" in message and "\n" not in message
    assert ts.event_problems("visit", pd.Timestamp("2024-02-01"), 30, dates, "s") == []


def test_lag_correlation_finds_a_planted_delay():
    rng = np.random.default_rng(0)
    days = pd.date_range("2024-01-01", periods=120, freq="D")
    volume = rng.poisson(3, 120) + 10 * (rng.random(120) < 0.1)
    a_dates = np.repeat(days, volume)
    b_dates = np.repeat(days + pd.Timedelta(days=2), volume)  # b covers the same stories two days later
    dates = pd.Series(np.r_[a_dates, b_dates])
    groups = pd.Series(["vi"] * len(a_dates) + ["en"] * len(b_dates))
    row = ts.lag_correlation(dates, groups, "vi", "en", max_lag=7).iloc[0]
    assert row["best_lag"] == 2 and row["correlation"] > 0.9
    assert "descriptive" in row["note"]
    x = np.arange(10.0)
    assert ts.cross_correlation(x, x, 2)[0] == pytest.approx(1.0)
