"""Design figures: an interval the data cannot bound is drawn open to the panel's edge, not left out."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from matplotlib.colors import to_rgba

from analysis.plots import design as plot_design
from analysis.plots.base import LANGUAGE_COLOURS, close, figure_bytes
from analysis.stats import timeseries


def open_bars(ax):
    return [p for p in ax.patches if p.get_gid() == plot_design.OPEN_BAND_GID]


def test_an_unbounded_interval_is_a_hatched_bar_cut_by_the_panel_edge():
    # the seed study's case: three documents in a period, whose studentized interval has no upper bound
    ids = ["v1", "v2", "v3", "v4", "v5", "e1", "e2"]
    counts = pd.DataFrame({"f": [4, 4, 9, 2, 3, 1, 5]}, index=ids)
    exposure = pd.Series([10.0, 10.0, 12.0, 10.0, 30.0, 10.0, 10.0], index=ids)
    dates = pd.Series(
        pd.to_datetime(
            ["2024-03-05", "2024-03-09", "2024-03-20", "2024-04-02", "2024-04-10", "2024-03-07", "2024-04-08"]
        ),
        index=ids,
    )
    groups = pd.Series(["vi"] * 5 + ["en"] * 2, index=ids)
    series = timeseries.period_series(
        counts, exposure, dates, groups, freq="month", n_resamples=499, seed=7, scale=100.0, order=["vi", "en"]
    )
    # the figure's data (written beside it as CSV) carries the unbounded side as it is: 0 to inf
    march_vi = series[(series["group"] == "vi") & (series["period"] == "2024-03-01")].iloc[0]
    assert march_vi["n_docs"] == 3 and march_vi["ci_low"] >= 0 and np.isposinf(march_vi["ci_high"])
    unbounded = series[
        np.isfinite(series["rate"])
        & series["ci_high"].notna()
        & ~(np.isfinite(series["ci_low"]) & np.isfinite(series["ci_high"]))
    ]
    fig = plot_design.figure_time_series(series, "per 100 sentences")
    ax = fig.axes[0]
    bars = open_bars(ax)
    assert len(bars) == len(unbounded) >= 1
    bottom, top = ax.get_ylim()
    finite = np.concatenate([series[c].to_numpy(dtype=float) for c in ("rate", "ci_low", "ci_high")])
    assert np.isfinite(top) and top > np.nanmax(finite[np.isfinite(finite)])
    by_colour = {to_rgba(LANGUAGE_COLOURS[g])[:3]: g for g in ("vi", "en")}
    for bar in bars:
        group = by_colour[bar.get_edgecolor()[:3]]
        row = unbounded[unbounded["group"] == group].iloc[0]
        assert bar.get_y() == (row["ci_low"] if np.isfinite(row["ci_low"]) else bottom)
        assert bar.get_y() + bar.get_height() == pytest.approx(top if np.isposinf(row["ci_high"]) else row["ci_high"])
        assert bar.get_hatch() == "///" and bar.get_linestyle() == "--"
    assert plot_design.OPEN_BAND_LABEL in [t.get_text() for t in ax.get_legend().get_texts()]
    assert figure_bytes(fig, "png")  # it renders
    close(fig)


def test_bounded_intervals_stay_bands_and_a_lower_infinite_side_reaches_the_bottom():
    table = pd.DataFrame(
        {
            "label": "f",
            "group": ["vi"] * 3 + ["en"] * 3,
            "period": ["2024-01-01", "2024-02-01", "2024-03-01"] * 2,
            "rate": [5.0, 6.0, np.nan, 4.0, 3.0, 2.0],
            "ci_low": [4.0, 5.0, np.nan, -np.inf, 2.0, np.nan],
            "ci_high": [6.0, 7.0, np.nan, 5.0, 4.0, np.nan],
        }
    )
    fig = plot_design.figure_time_series(table, "rate")
    ax = fig.axes[0]
    (bar,) = open_bars(ax)
    bottom, top = ax.get_ylim()
    assert bar.get_y() == bottom and bar.get_y() + bar.get_height() == pytest.approx(5.0)
    assert np.isfinite(bottom) and bottom < 2.0 and top > 7.0
    bands = [c for c in ax.collections if c.get_gid() != plot_design.ISOLATED_INTERVAL_GID]
    assert len(bands) == 2  # the two groups' finite bands (fill_between)
    close(fig)
    fig = plot_design.figure_time_series(table.assign(ci_low=table["ci_low"].replace(-np.inf, 3.5)), "rate")
    assert not open_bars(fig.axes[0])
    assert plot_design.OPEN_BAND_LABEL not in [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    close(fig)


def test_an_interval_between_periods_without_one_is_an_error_bar():
    # a band needs two neighbouring periods; the en February interval (2 to 4) has none
    table = pd.DataFrame(
        {
            "label": "f",
            "group": ["vi"] * 3 + ["en"] * 3,
            "period": ["2024-01-01", "2024-02-01", "2024-03-01"] * 2,
            "rate": [5.0, 6.0, 5.5, 4.0, 3.0, 2.0],
            "ci_low": [4.0, 5.0, 4.5, np.nan, 2.0, np.nan],
            "ci_high": [6.0, 7.0, 6.5, np.nan, 4.0, np.nan],
        }
    )
    fig = plot_design.figure_time_series(table, "rate")
    ax = fig.axes[0]
    bars = [c for c in ax.collections if c.get_gid() == plot_design.ISOLATED_INTERVAL_GID]
    assert len(bars) == 1  # vi's three intervals are a band, only en's lone one is a bar
    (segment,) = bars[0].get_segments()
    assert [round(float(v), 6) for v in segment[:, 1]] == [2.0, 4.0]
    close(fig)


def test_sparse_periods_are_hollow_markers_with_a_legend_entry():
    ids = [f"d{i}" for i in range(12)]
    counts = pd.DataFrame({"f": [1, 0, 0, 2, 0, 0, 1, 1, 2, 1, 3, 1]}, index=ids)
    dates = pd.Series(pd.to_datetime(["2024-01-10"] * 6 + ["2024-02-10"] * 6), index=ids)
    series = timeseries.period_series(
        counts, pd.Series(10.0, index=ids), dates, pd.Series("vi", index=ids), freq="month", n_resamples=99, seed=1
    )
    assert series["sparse"].tolist() == [True, False]  # January: 2 documents with hits; February: 6
    fig = plot_design.figure_time_series(series, "per 1,000")
    ax = fig.axes[0]
    hollow = [line for line in ax.lines if line.get_gid() == plot_design.SPARSE_GID]
    assert len(hollow) == 1 and len(hollow[0].get_xdata()) == 1 and hollow[0].get_markerfacecolor() == "white"
    assert plot_design.SPARSE_LABEL in [t.get_text() for t in ax.get_legend().get_texts()]
    close(fig)


def test_sparse_group_means_are_hatched_bars():
    from analysis.plots import framing as plot_framing

    table = pd.DataFrame(
        {
            "label": ["trade", "trade", "security", "security"],
            "group": ["vi", "en", "vi", "en"],
            "mean": [2.0, 1.0, 0.5, 0.2],
            "ci_low": [1.0, 0.5, 0.1, 0.0],
            "ci_high": [3.0, 1.5, 0.9, 0.6],
            "docs_with_hits": [30, 12, 4, 2],
        }
    )
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    plot_framing.plot_group_bars(ax, table)
    sparse = [p for p in ax.patches if p.get_gid() == plot_framing.SPARSE_BAR_GID]
    assert len(sparse) == 2 and all(p.get_hatch() == "///" for p in sparse)
    assert plot_framing.SPARSE_BAR_LABEL in [t.get_text() for t in ax.get_legend().get_texts()]
    close(fig)
