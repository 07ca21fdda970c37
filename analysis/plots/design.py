"""Design-layer figures: small multiples over time, one panel per item, one line per group. Draw only.

Each function draws exactly what a table from :mod:`analysis.stats.timeseries` or :mod:`analysis.stats.models`
holds (the CSV written beside the figure). A period with no document is NaN in the table and a
gap in the line; the shaded band is the 95% interval. An interval the data cannot bound (an
infinite side in the table: too few documents with different values) is drawn as a hatched bar
with a dashed edge from its finite side to the panel's edge (:data:`OPEN_BAND_LABEL` in the
legend), so an unbounded interval is seen as wide open rather than missing. A rate resting on fewer
than 5 documents with hits (``sparse`` in the table) is a hollow marker (:data:`SPARSE_LABEL`).
"""

from __future__ import annotations

import math

import matplotlib.dates as mdates
import numpy as np
import pandas as pd

from . import base as plot
from .base import LANGUAGE_COLOURS
from .framing import PALETTE, plot_note


def _colour(group: str, index: int) -> str:
    key = str(group).split("=")[-1]
    return LANGUAGE_COLOURS.get(key, PALETTE[index % len(PALETTE)])


#: Legend entry of an interval with an infinite side (see the module docstring).
OPEN_BAND_LABEL = "unbounded 95% interval (hatched)"
#: ``gid`` of the bars that draw such an interval (to find them in a drawn figure).
ISOLATED_INTERVAL_GID = "isolated_interval"
OPEN_BAND_GID = "open_band"
#: ``gid`` of the hollow markers of sparse periods (``sparse`` true in the table: too few documents with hits).
SPARSE_GID = "sparse_point"
#: Legend entry of the hollow markers.
SPARSE_LABEL = "hollow: under 5 documents with hits (interval under-covers)"


def open_band_patch(colour: str = "0.35"):
    """The legend handle of an unbounded interval: a hatched patch with a dashed edge."""
    from matplotlib.patches import Patch

    return Patch(facecolor="none", edgecolor=colour, hatch="///", linestyle="--", label=OPEN_BAND_LABEL)


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
):
    """One line per group of ``value`` against dates ``x``; NaN values are gaps; bands are intervals.

    Finite intervals are a shaded band; one between periods without an interval, which a band
    cannot show, is an error bar (``gid`` :data:`ISOLATED_INTERVAL_GID`). A period whose
    interval has an infinite side gets a
    hatched bar with a dashed edge (``gid`` :data:`OPEN_BAND_GID`) from the finite side (or the
    panel's other edge) to the panel's edge: the y limits are set from the finite values first
    (points, finite bounds, 8% margin), so the bar is visibly cut by the edge, not drawn to
    infinity. A NaN bound (no interval) draws nothing.
    """
    finite_values, opens = [], []
    for i, (name, rows) in enumerate(table.groupby(group, sort=False)):
        dates = pd.to_datetime(rows[x])
        colour = _colour(name, i)
        y = rows[value].to_numpy(dtype=float)
        ax.plot(dates, y, marker="o", markersize=3, linewidth=1.2, color=colour, label=str(name))
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
                np.where(bounded, lo, np.nan),
                np.where(bounded, hi, np.nan),
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
                    yerr=[y[alone] - lo[alone], hi[alone] - y[alone]],
                    fmt="none",
                    ecolor=colour,
                    alpha=0.6,
                    capsize=2,
                    linewidth=1.0,
                    gid=ISOLATED_INTERVAL_GID,
                )
        unbounded = np.isfinite(y) & ~np.isnan(lo) & ~np.isnan(hi) & ~bounded
        finite_values += [y[np.isfinite(y)], lo[np.isfinite(lo)], hi[np.isfinite(hi)]]
        if unbounded.any():
            opens.append((dates[unbounded], lo[unbounded], hi[unbounded], colour))
    if opens:
        values = np.concatenate(finite_values)
        bottom, top = float(values.min()), float(values.max())
        margin = 0.08 * (top - bottom) if top > bottom else max(abs(top), 1.0) * 0.5
        bottom, top = bottom - margin, top + margin
        ax.set_ylim(bottom, top)
        days = np.diff(np.unique(mdates.date2num(pd.to_datetime(table[x]).dropna())))
        width = 0.35 * float(days.min()) if len(days) else 10.0
        for dates, lo, hi, colour in opens:
            lo, hi = np.where(np.isneginf(lo), bottom, lo), np.where(np.isposinf(hi), top, hi)
            for bar in ax.bar(
                mdates.date2num(dates),
                hi - lo,
                width=width,
                bottom=lo,
                facecolor="none",
                edgecolor=colour,
                hatch="///",
                linestyle="--",
                linewidth=0.8,
                alpha=0.8,
            ):
                bar.set_gid(OPEN_BAND_GID)
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


def _small_multiples(table: pd.DataFrame, note: str, empty: str, draw, legend: bool = False):
    """One panel per item (``label``) drawn by ``draw(ax, rows, title)``; a note figure when empty."""
    if table.empty:
        fig, (ax,) = plot.new_figure(1, 6, 2)
        plot_note(ax, note or empty)
        return fig
    items, ncols = _panels(table)
    fig, axes = plot.new_figure(len(items), 3.0, 2.4, ncols=ncols)
    for ax, name in zip(axes, items):
        draw(ax, table[table["label"] == name], str(name).replace("_", " "))
    if legend:
        handles, labels = axes[0].get_legend_handles_labels()
        if any(p.get_gid() == OPEN_BAND_GID for ax in axes for p in ax.patches):
            handles, labels = [*handles, open_band_patch()], [*labels, OPEN_BAND_LABEL]
        if any(line.get_gid() == SPARSE_GID for ax in axes for line in ax.lines):
            from matplotlib.lines import Line2D

            hollow = Line2D([], [], linestyle="none", marker="o", markerfacecolor="white", markeredgecolor="0.35")
            handles, labels = [*handles, hollow], [*labels, SPARSE_LABEL]
        axes[0].legend(handles, labels, fontsize=7, frameon=False)
    if note:
        fig.suptitle(note, fontsize=8)
    return fig


@plot.styled
def figure_time_series(series: pd.DataFrame, ylabel: str, note: str = ""):
    """Small multiples of :func:`analysis.stats.timeseries.period_series`: one panel per item, one line per group."""
    drawn = series if len(series) and series["rate"].notna().sum() else series.iloc[0:0]
    return _small_multiples(
        drawn,
        note,
        "no dated documents: nothing to draw",
        lambda ax, rows, title: plot_lines_over_time(ax, rows, title=title, ylabel=ylabel),
        legend=True,
    )


@plot.styled
def figure_marginal_rates(marginal: pd.DataFrame, ylabel: str, note: str = ""):
    """Predicted rates by group (:func:`analysis.stats.models.marginal_rates`): over time when the model has
    a date term (lines), else one point per group with its interval."""
    fitted = marginal[marginal["rate"].notna()] if len(marginal) else marginal

    def draw(ax, rows, title):
        if (rows["date"] != "").all():
            plot_lines_over_time(ax, rows, x="date", title=title, ylabel=ylabel)
            return
        for i, (_, r) in enumerate(rows.iterrows()):
            err = (
                [[max(0.0, r["rate"] - r["ci_low"])], [max(0.0, r["ci_high"] - r["rate"])]]
                if math.isfinite(r["ci_low"])
                else None
            )
            ax.errorbar([i], [r["rate"]], yerr=err, fmt="o", color=_colour(r["group"], i), capsize=3)
        ax.set_xticks(range(len(rows)), [str(g) for g in rows["group"]])
        ax.set_xlim(-0.5, len(rows) - 0.5)
        ax.set_title(title, fontsize=9)
        ax.set_ylabel(ylabel)

    return _small_multiples(fitted, note, "no model fitted: nothing to draw", draw)
