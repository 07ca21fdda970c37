"""Design-layer figures: small multiples over time, one panel per item, one line per group. Draw only.

Each function draws exactly what a table from :mod:`analysis.stats.timeseries` or :mod:`analysis.stats.models`
holds (the CSV written beside the figure). A period with no document is NaN in the table and a
gap in the line; the shaded band is the 95% interval.

The y axis is set from the data by one rule (:func:`y_limits`): it spans every rate and every
interval bound up to :data:`BOUND_FACTOR` times the largest rate. An interval bound past the axis,
or one the data cannot bound (an infinite side in the table: too few documents with different
values), is a small triangle on the panel's edge (:data:`CUT_LABEL`), so a period of three
documents whose interval reaches 800 neither stretches the axis of rates near 10 nor fills the
panel. A rate resting on fewer than 5 documents with hits (``sparse`` in the table) is a hollow
marker (:data:`SPARSE_LABEL`). A first or last period that the data's dates cover only in part
(the last week of a corpus ending on a Wednesday) has a dotted line through it
(:data:`PARTIAL_LABEL`): its rate rests on fewer days. The legend is the figure's, below the
panels, with the languages' names (:func:`analysis.plots.base.group_label`).
"""

from __future__ import annotations

import math

import matplotlib.dates as mdates
import numpy as np
import pandas as pd

from . import base as plot
from .base import LANGUAGE_COLOURS, group_label
from .framing import PALETTE, plot_note


def _colour(group: str, index: int) -> str:
    key = str(group).split("=")[-1]
    return LANGUAGE_COLOURS.get(key, PALETTE[index % len(PALETTE)])


#: The y axis reaches interval bounds up to this many times the panel's largest rate (:func:`y_limits`).
BOUND_FACTOR = 2.0
#: ``gid`` of the triangles that mark an interval bound past the axis (or unbounded).
CUT_GID = "cut_interval"
#: Legend entry of those triangles.
CUT_LABEL = "interval reaches past the axis (or is unbounded)"
#: ``gid`` of the error bar of an interval between periods without one (a band needs two).
ISOLATED_INTERVAL_GID = "isolated_interval"
#: ``gid`` of the hollow markers of sparse periods (``sparse`` true in the table: too few documents with hits).
SPARSE_GID = "sparse_point"
#: Legend entry of the hollow markers.
SPARSE_LABEL = "hollow: under 5 documents with hits (interval under-covers)"
#: ``gid`` and legend entry of the shading of a period the data's dates cover only in part.
PARTIAL_GID = "partial_period"
PARTIAL_LABEL = "dotted: period only partly covered by the dates"
#: Legend entry of the bands.
BAND_LABEL = "95% interval"


def y_limits(rates, lows, highs, *, factor: float = BOUND_FACTOR) -> tuple[float, float]:
    """The y range of a panel: every finite rate, and every finite interval bound within
    ``factor`` times the largest rate (farther ones and infinite ones are cut by the edge), plus
    an 8% margin; a panel of equal values gets half their size (or 0.5) either side.

    >>> y_limits([2.0, 4.0], [1.0, 0.0], [6.0, 800.0])
    (-0.48, 6.48)
    >>> y_limits([0.0], [0.0], [np.inf])
    (-0.5, 0.5)
    """
    rates = np.asarray(rates, dtype=float)
    rates = rates[np.isfinite(rates)]
    bounds = np.concatenate([np.asarray(lows, dtype=float), np.asarray(highs, dtype=float)])
    bounds = bounds[np.isfinite(bounds)]
    if not len(rates):
        rates = bounds if len(bounds) else np.array([0.0])
    largest = float(np.abs(rates).max())
    kept = bounds[np.abs(bounds) <= factor * largest] if largest > 0 else bounds[bounds == 0]
    values = np.concatenate([rates, kept])
    bottom, top = float(values.min()), float(values.max())
    margin = 0.08 * (top - bottom) if top > bottom else max(abs(top), 1.0) * 0.5
    return round(bottom - margin, 12), round(top + margin, 12)


def period_ends(periods: pd.Series, freq: str) -> pd.Series:
    """The first day after each period (the next period's start) for ``freq`` day, week or month.

    >>> period_ends(pd.Series(pd.to_datetime(["2024-01-29", "2024-02-01"])), "month").dt.strftime("%m-%d").tolist()
    ['02-01', '03-01']
    """
    periods = pd.to_datetime(periods)
    if freq == "day":
        return periods + pd.Timedelta(days=1)
    if freq == "week":
        return periods + pd.Timedelta(days=7)
    return periods - pd.to_timedelta(periods.dt.day - 1, unit="D") + pd.offsets.MonthBegin(1)


def partial_periods(periods, span: tuple, freq: str) -> list[pd.Timestamp]:
    """The periods (starts) that the dates ``span = (first, last)`` cover only in part: the first
    when the data begins after its first day, the last when the data ends before its last day.

    >>> partial_periods(["2024-12-09", "2024-12-16"], (pd.Timestamp("2024-12-09"), pd.Timestamp("2024-12-20")), "week")
    [Timestamp('2024-12-16 00:00:00')]
    """
    starts = sorted(set(pd.to_datetime(pd.Series(list(periods))).dropna()))
    if not starts:
        return []
    first, last = pd.Timestamp(span[0]).normalize(), pd.Timestamp(span[1]).normalize()
    out = []
    if first > starts[0]:
        out.append(starts[0])
    end = period_ends(pd.Series([starts[-1]]), freq).iloc[0]
    if last < end - pd.Timedelta(days=1) and starts[-1] not in out:
        out.append(starts[-1])
    return out


def plot_lines_over_time(
    ax,
    table: pd.DataFrame,
    *,
    x: str = "period",
    value: str = "rate",
    group: str = "group",
    low: str = "ci_low",
    high: str = "ci_high",
    title: str = "",
    ylabel: str = "",
    partial: list | None = None,
):
    """One line per group of ``value`` against dates ``x``; NaN values are gaps; bands are intervals.

    The y limits are :func:`y_limits` of the table. Finite intervals are a shaded band (cut by the
    panel's edge); one between periods without an interval, which a band cannot show, is an error
    bar (``gid`` :data:`ISOLATED_INTERVAL_GID`). A bound past the axis or infinite is a triangle on
    that edge in the group's colour (``gid`` :data:`CUT_GID`). A NaN bound (no interval) draws
    nothing. ``partial`` periods (:func:`partial_periods`) get a dotted vertical line (``gid``
    :data:`PARTIAL_GID`). Lines are labelled with
    :func:`analysis.plots.base.group_label`.
    """
    bottom, top = y_limits(table[value], table[low], table[high])
    ax.set_ylim(bottom, top)
    for i, (name, rows) in enumerate(table.groupby(group, sort=False)):
        dates = pd.to_datetime(rows[x])
        colour = _colour(name, i)
        y = rows[value].to_numpy(dtype=float)
        ax.plot(dates, y, marker="o", markersize=3, linewidth=1.2, color=colour, label=group_label(name))
        if "sparse" in rows.columns:
            sparse = rows["sparse"].fillna(False).astype(bool).to_numpy() & np.isfinite(y)
            if sparse.any():  # hollow markers over the filled ones: the rate rests on too few documents with hits
                (marks,) = ax.plot(
                    dates[sparse],
                    y[sparse],
                    linestyle="none",
                    marker="o",
                    markersize=5,
                    markerfacecolor="white",
                    markeredgecolor=colour,
                    markeredgewidth=1.0,
                )
                marks.set_gid(SPARSE_GID)
        lo, hi = rows[low].to_numpy(dtype=float), rows[high].to_numpy(dtype=float)
        bounded = np.isfinite(lo) & np.isfinite(hi)
        if bounded.any():
            ax.fill_between(
                dates,
                np.clip(np.where(bounded, lo, np.nan), bottom, top),
                np.clip(np.where(bounded, hi, np.nan), bottom, top),
                color=colour,
                alpha=0.2,
                linewidth=0,
            )
            # a band needs two neighbouring periods: an interval between periods without one is an error bar
            alone = bounded & ~np.r_[False, bounded[:-1]] & ~np.r_[bounded[1:], False]
            if alone.any():
                ax.errorbar(
                    dates[alone],
                    y[alone],
                    yerr=[y[alone] - np.maximum(lo[alone], bottom), np.minimum(hi[alone], top) - y[alone]],
                    fmt="none",
                    ecolor=colour,
                    alpha=0.6,
                    capsize=2,
                    linewidth=1.0,
                    gid=ISOLATED_INTERVAL_GID,
                )
        shown = np.isfinite(y)
        for bound, edge, marker in ((hi > top, top, "^"), (lo < bottom, bottom, "v")):
            cut = shown & bound  # NaN compares False: no interval, no mark
            if cut.any():
                (marks,) = ax.plot(
                    dates[cut],
                    np.full(int(cut.sum()), edge),
                    linestyle="none",
                    marker=marker,
                    markersize=3.5,
                    color=colour,
                    clip_on=False,
                )
                marks.set_gid(CUT_GID)
    for start in pd.to_datetime(list(partial or [])):
        # a thin line through the period's points, not a span: a span reached past the last point and,
        # when every period of a short corpus is partial, greyed the whole panel
        ax.axvline(start, color="0.55", linestyle=":", linewidth=1.0, zorder=0, gid=PARTIAL_GID)
    ax.set_title(title, fontsize=9)
    if ylabel:
        ax.set_ylabel(ylabel)
    locator = mdates.AutoDateLocator(minticks=2, maxticks=4)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    ax.tick_params(axis="x", labelsize=7)
    return ax


def _panels(table: pd.DataFrame, item: str = "label"):
    items = list(dict.fromkeys(table[item]))
    ncols = min(4, max(1, len(items)))
    return items, ncols


def _small_multiples(table: pd.DataFrame, note: str, empty: str, draw):
    """One panel per item (``label``) drawn by ``draw(ax, rows, title)``, with the figure's legend
    (:func:`figure_legend`) below the panels; a note figure when empty."""
    if table.empty:
        fig, (ax,) = plot.new_figure(1, 6, 2)
        plot_note(ax, note or empty)
        return fig
    items, ncols = _panels(table)
    fig, axes = plot.new_figure(len(items), 3.0, 2.4, ncols=ncols)
    for ax, name in zip(axes, items):
        draw(ax, table[table["label"] == name], str(name).replace("_", " "))
    if note:
        fig.suptitle(note, fontsize=8)
    figure_legend(fig, axes)
    return fig


def figure_legend(fig, axes):
    """One legend for every panel, below them (outside the data): each group once (in the order
    drawn), then the marks the panels use: bands, triangles, hollow markers, grey periods."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    entries: dict[str, object] = {}
    for ax in axes:
        for handle, label in zip(*ax.get_legend_handles_labels()):
            entries.setdefault(label, handle)
    drawn = [a for ax in axes for a in (*ax.lines, *ax.collections, *ax.patches)]
    gids = {a.get_gid() for a in drawn}
    if any(type(a).__name__ in ("PolyCollection", "FillBetweenPolyCollection") for a in drawn):
        entries[BAND_LABEL] = Patch(facecolor="0.35", alpha=0.2, linewidth=0)
    if CUT_GID in gids:
        entries[CUT_LABEL] = Line2D([], [], linestyle="none", marker="^", markersize=4, color="0.35")
    if SPARSE_GID in gids:
        entries[SPARSE_LABEL] = Line2D(
            [], [], linestyle="none", marker="o", markerfacecolor="white", markeredgecolor="0.35"
        )
    if PARTIAL_GID in gids:
        entries[PARTIAL_LABEL] = Line2D([], [], color="0.55", linestyle=":", linewidth=1.0)
    if entries:
        fig.legend(
            list(entries.values()),
            list(entries),
            loc="outside lower center",  # the top is the note's (suptitle): two texts there overlapped
            ncols=min(len(entries), 3),
            fontsize=7,
            frameon=False,
        )


@plot.styled
def figure_time_series(series: pd.DataFrame, ylabel: str, note: str = "", *, span: tuple | None = None, freq: str = ""):
    """Small multiples of :func:`analysis.stats.timeseries.period_series`: one panel per item, one line
    per group. With the dates' ``span = (first, last)`` and the series' ``freq``, a first or last
    period they cover only in part is marked (:func:`partial_periods`)."""
    drawn = series if len(series) and series["rate"].notna().sum() else series.iloc[0:0]
    partial = partial_periods(drawn["period"], span, freq) if span is not None and freq and len(drawn) else []
    return _small_multiples(
        drawn,
        note,
        "no dated documents: nothing to draw",
        lambda ax, rows, title: plot_lines_over_time(ax, rows, title=title, ylabel=ylabel, partial=partial),
    )


def _group_order(groups) -> list:
    """Groups in the order of every figure: the languages first (vi, then en), the rest as given."""
    groups = list(dict.fromkeys(groups))
    codes = [str(g).split("=")[-1] for g in groups]
    known = list(LANGUAGE_COLOURS)
    return [
        g
        for _, g in sorted(
            enumerate(groups), key=lambda p: (known.index(codes[p[0]]) if codes[p[0]] in known else len(known), p[0])
        )
    ]


@plot.styled
def figure_marginal_rates(marginal: pd.DataFrame, ylabel: str, note: str = ""):
    """Predicted rates by group (:func:`analysis.stats.models.marginal_rates`): over time when the model has
    a date term (lines), else one point per group with its interval. Groups are in language order
    (vi, then en), named (:func:`analysis.plots.base.group_label`) on the ticks and in the legend.

    >>> table = pd.DataFrame({"label": "f", "group": ["en", "vi"], "date": "", "rate": [2.0, 3.0],
    ...     "ci_low": [1.0, 2.0], "ci_high": [3.0, 4.0]})
    >>> fig = figure_marginal_rates(table, "per 100 sentences")
    >>> [t.get_text() for t in fig.legends[0].get_texts()], [t.get_text() for t in fig.axes[0].get_xticklabels()]
    (['Vietnamese', 'English'], ['Vietnamese', 'English'])
    >>> plot.close(fig)
    """
    fitted = marginal[marginal["rate"].notna()] if len(marginal) else marginal
    order = _group_order(fitted["group"]) if len(fitted) else []
    colours = {g: _colour(g, i) for i, g in enumerate(order)}

    def draw(ax, rows, title):
        rows = rows.assign(_o=rows["group"].map({g: i for i, g in enumerate(order)}))
        rows = rows.sort_values("_o", kind="mergesort")
        if (rows["date"] != "").all():
            plot_lines_over_time(ax, rows, x="date", title=title, ylabel=ylabel)
            return
        for i, (_, r) in enumerate(rows.iterrows()):
            err = (
                [[max(0.0, r["rate"] - r["ci_low"])], [max(0.0, r["ci_high"] - r["rate"])]]
                if math.isfinite(r["ci_low"]) and math.isfinite(r["ci_high"])
                else None
            )
            ax.errorbar(
                [i], [r["rate"]], yerr=err, fmt="o", color=colours[r["group"]], capsize=3, label=group_label(r["group"])
            )
        ax.set_xticks(range(len(rows)), [group_label(g) for g in rows["group"]])
        ax.set_xlim(-0.5, len(rows) - 0.5)
        ax.set_title(title, fontsize=9)
        ax.set_ylabel(ylabel)

    return _small_multiples(fitted, note, "no model fitted: nothing to draw", draw)
