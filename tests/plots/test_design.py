"""Design figures: y axes from the rates, interval bounds past the axis (or unbounded) as triangles on the
edge, partial periods shaded, one legend outside the panels with the languages' names."""

from __future__ import annotations

import matplotlib.dates as mdates
import numpy as np
import pandas as pd
from matplotlib.colors import to_rgba

from analysis.plots import design as plot_design
from analysis.plots.base import LANGUAGE_COLOURS, close, figure_bytes
from analysis.stats import timeseries


def cut_marks(ax, marker=None):
    return [
        line
        for line in ax.lines
        if line.get_gid() == plot_design.CUT_GID and (marker is None or line.get_marker() == marker)
    ]


def legend_texts(fig):
    (legend,) = fig.legends  # one legend, the figure's: not on any panel
    assert all(ax.get_legend() is None for ax in fig.axes)
    return [t.get_text() for t in legend.get_texts()]


def test_an_unbounded_interval_is_a_triangle_on_the_edge_not_a_bar_filling_the_panel():
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
    fig = plot_design.figure_time_series(series, "per 100 sentences")
    ax = fig.axes[0]
    assert not [p for p in ax.patches if p.get_hatch()]  # no hatched bars
    bottom, top = ax.get_ylim()
    assert (bottom, top) == plot_design.y_limits(series["rate"], series["ci_low"], series["ci_high"])
    past = series[np.isfinite(series["rate"]) & (series["ci_high"] > top)]
    assert len(past) >= 1 and np.isposinf(past["ci_high"]).any()
    marks = cut_marks(ax, "^")
    assert sum(len(m.get_xdata()) for m in marks) == len(past)
    assert all(set(m.get_ydata()) == {top} and not m.get_clip_on() for m in marks)
    by_colour = {to_rgba(LANGUAGE_COLOURS[g])[:3]: g for g in ("vi", "en")}
    assert sorted(by_colour[to_rgba(m.get_color())[:3]] for m in marks) == sorted(set(past["group"]))
    texts = legend_texts(fig)
    assert texts[:2] == ["Vietnamese", "English"] and plot_design.CUT_LABEL in texts
    assert figure_bytes(fig, "png")  # it renders
    close(fig)


def test_the_y_axis_follows_the_rates_not_a_far_interval_bound():
    # rates near 10; one period of few documents has an upper bound of 300 (the axes went to 300)
    table = pd.DataFrame(
        {
            "label": "f",
            "group": ["vi"] * 4 + ["en"] * 4,
            "period": ["2024-01-01", "2024-02-01", "2024-03-01", "2024-04-01"] * 2,
            "rate": [8.0, 10.0, 9.0, 11.0, 7.0, 12.0, 9.5, 10.5],
            "ci_low": [6.0, 8.0, 0.0, 9.0, 5.0, 10.0, 8.0, 9.0],
            "ci_high": [10.0, 12.0, 300.0, 13.0, 15.0, 14.0, 11.0, 20.0],
        }
    )
    fig = plot_design.figure_time_series(table, "per 100 sentences")
    ax = fig.axes[0]
    bottom, top = ax.get_ylim()
    # every bound up to twice the largest rate (12) is inside: 20 is, 300 is not
    assert 20.0 < top < 2 * 12.0 * 1.1 and bottom < 0.0
    (mark,) = cut_marks(ax, "^")
    assert list(mark.get_ydata()) == [top] and len(mark.get_xdata()) == 1
    bands = [c for c in ax.collections if c.get_gid() != plot_design.ISOLATED_INTERVAL_GID]
    assert len(bands) == 2 and all(np.nanmax(b.get_paths()[0].vertices[:, 1]) <= top for b in bands)
    close(fig)


def test_a_lower_infinite_side_is_a_triangle_on_the_bottom_edge():
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
    bottom, top = ax.get_ylim()
    (mark,) = cut_marks(ax)
    assert mark.get_marker() == "v" and list(mark.get_ydata()) == [bottom]
    assert np.isfinite(bottom) and bottom < 2.0 and top > 7.0
    bands = [c for c in ax.collections if c.get_gid() != plot_design.ISOLATED_INTERVAL_GID]
    assert len(bands) == 2  # the two groups' finite bands (fill_between)
    close(fig)
    fig = plot_design.figure_time_series(table.assign(ci_low=table["ci_low"].replace(-np.inf, 3.5)), "rate")
    assert not cut_marks(fig.axes[0])
    assert plot_design.CUT_LABEL not in legend_texts(fig)
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
    assert plot_design.SPARSE_LABEL in legend_texts(fig)
    close(fig)


def _weekly(last_day: str):
    """Two groups over weeks, the last document dated ``last_day``."""
    ids = [f"d{i}" for i in range(8)]
    days = ["2024-01-01", "2024-01-03", "2024-01-09", "2024-01-10", "2024-01-16", "2024-01-17", "2024-01-02", last_day]
    dates = pd.Series(pd.to_datetime(days), index=ids)
    counts = pd.DataFrame({"f": [1, 2, 0, 1, 3, 0, 1, 0]}, index=ids)
    groups = pd.Series(["vi"] * 6 + ["en"] * 2, index=ids)
    series = timeseries.period_series(
        counts, pd.Series(20.0, index=ids), dates, groups, freq="week", n_resamples=0, order=["vi", "en"]
    )
    return series, (dates.min(), dates.max())


def test_a_last_period_the_dates_cover_in_part_is_marked_and_named_in_the_legend():
    series, span = _weekly("2024-01-17")  # a Wednesday: the week of 15 January has 3 of its 7 days
    assert plot_design.partial_periods(series["period"], span, "week") == [pd.Timestamp("2024-01-15")]
    fig = plot_design.figure_time_series(series, "per 1,000", span=span, freq="week")
    ax = fig.axes[0]
    (line,) = [line for line in ax.lines if line.get_gid() == plot_design.PARTIAL_GID]
    assert list(mdates.date2num(line.get_xdata())) == [mdates.date2num(pd.Timestamp("2024-01-15"))] * 2
    assert ax.get_xlim()[1] < mdates.date2num(pd.Timestamp("2024-01-20"))  # the axis ends near the last point
    assert plot_design.PARTIAL_LABEL in legend_texts(fig)
    close(fig)
    series, span = _weekly("2024-01-21")  # a Sunday: the last week is whole
    assert plot_design.partial_periods(series["period"], span, "week") == []
    fig = plot_design.figure_time_series(series, "per 1,000", span=span, freq="week")
    assert not [line for line in fig.axes[0].lines if line.get_gid() == plot_design.PARTIAL_GID]
    assert plot_design.PARTIAL_LABEL not in legend_texts(fig)
    close(fig)


def test_the_legend_is_outside_every_panel():
    series, span = _weekly("2024-01-17")
    series = pd.concat([series, series.assign(label="g", item="g")], ignore_index=True)
    fig = plot_design.figure_time_series(series, "per 1,000", "too small to mean anything", span=span, freq="week")
    figure_bytes(fig, "png")
    renderer = fig.canvas.get_renderer()
    legend = fig.legends[0].get_window_extent(renderer)
    assert len(fig.axes) == 2 and not any(legend.overlaps(ax.get_window_extent(renderer)) for ax in fig.axes)
    assert legend.y1 <= min(ax.get_window_extent(renderer).y0 for ax in fig.axes) + 1  # below the panels
    assert not legend.overlaps(fig._suptitle.get_window_extent(renderer))
    close(fig)


def test_marginal_rates_have_a_legend_and_named_ticks_vi_first():
    table = pd.DataFrame(
        {
            "item": "f",
            "label": ["Trade", "Trade", "Sea", "Sea"],
            "group": ["en", "vi", "en", "vi"],
            "date": "",
            "rate": [2.0, 3.0, 1.0, 0.5],
            "ci_low": [1.0, 2.0, 0.5, 0.2],
            "ci_high": [3.0, 4.0, 1.5, 0.9],
        }
    )
    fig = plot_design.figure_marginal_rates(table, "per 100 sentences")
    assert legend_texts(fig) == ["Vietnamese", "English"]
    for ax in fig.axes:
        assert [t.get_text() for t in ax.get_xticklabels()] == ["Vietnamese", "English"]
        colours = [to_rgba(c.get_children()[0].get_color())[:3] for c in ax.containers]
        assert colours == [to_rgba(LANGUAGE_COLOURS["vi"])[:3], to_rgba(LANGUAGE_COLOURS["en"])[:3]]
    vi_trade = fig.axes[0].containers[0].get_children()[0]
    assert list(vi_trade.get_ydata()) == [3.0]  # vi's own row, not the first row of the table
    close(fig)
    over_time = pd.DataFrame(
        {
            "item": "f",
            "label": "Trade",
            "group": ["en", "en", "vi", "vi"],
            "date": ["2024-01-01", "2024-02-01"] * 2,
            "rate": [2.0, 2.5, 3.0, 3.5],
            "ci_low": [1.0, 1.5, 2.0, 2.5],
            "ci_high": [3.0, 3.5, 4.0, 4.5],
        }
    )
    fig = plot_design.figure_marginal_rates(over_time, "per 100 sentences")
    texts = legend_texts(fig)
    assert texts[:2] == ["Vietnamese", "English"] and plot_design.BAND_LABEL in texts
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
