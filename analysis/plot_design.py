"""Design-layer figures: small multiples over time, one panel per item, one line per group. Draw only.

Each function draws exactly what a table from :mod:`analysis.timeseries` or :mod:`analysis.models`
holds (the CSV written beside the figure). A period with no document is NaN in the table and a
gap in the line; the shaded band is the 95% interval.
"""

from __future__ import annotations

import math

import matplotlib.dates as mdates
import numpy as np
import pandas as pd

from . import plot
from .plot import LANGUAGE_COLOURS
from .plot_framing import PALETTE, plot_note


def _colour(group: str, index: int) -> str:
    key = str(group).split("=")[-1]
    return LANGUAGE_COLOURS.get(key, PALETTE[index % len(PALETTE)])


def plot_lines_over_time(ax, table: pd.DataFrame, x: str = "period", value: str = "rate", group: str = "group",
                         low: str = "ci_low", high: str = "ci_high", title: str = "", ylabel: str = ""):
    """One line per group of ``value`` against dates ``x``; NaN values are gaps; bands are intervals."""
    for i, (name, rows) in enumerate(table.groupby(group, sort=False)):
        dates = pd.to_datetime(rows[x])
        colour = _colour(name, i)
        y = rows[value].to_numpy(dtype=float)
        ax.plot(dates, y, marker="o", markersize=3, linewidth=1.2, color=colour, label=str(name))
        lo, hi = rows[low].to_numpy(dtype=float), rows[high].to_numpy(dtype=float)
        if np.isfinite(lo).any():
            ax.fill_between(dates, lo, hi, color=colour, alpha=0.2, linewidth=0)
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
        axes[0].legend(fontsize=7, frameon=False)
    if note:
        fig.suptitle(note, fontsize=8)
    return fig


@plot.styled
def figure_time_series(series: pd.DataFrame, ylabel: str, note: str = ""):
    """Small multiples of :func:`analysis.timeseries.period_series`: one panel per item, one line per group."""
    drawn = series if len(series) and series["rate"].notna().sum() else series.iloc[0:0]
    return _small_multiples(drawn, note, "no dated documents: nothing to draw",
                            lambda ax, rows, title: plot_lines_over_time(ax, rows, title=title, ylabel=ylabel), legend=True)


@plot.styled
def figure_marginal_rates(marginal: pd.DataFrame, ylabel: str, note: str = ""):
    """Predicted rates by group (:func:`analysis.models.marginal_rates`): over time when the model has
    a date term (lines), else one point per group with its interval."""
    fitted = marginal[marginal["rate"].notna()] if len(marginal) else marginal

    def draw(ax, rows, title):
        if (rows["date"] != "").all():
            plot_lines_over_time(ax, rows, x="date", title=title, ylabel=ylabel)
            return
        for i, (_, r) in enumerate(rows.iterrows()):
            err = [[max(0.0, r["rate"] - r["ci_low"])], [max(0.0, r["ci_high"] - r["rate"])]] if math.isfinite(r["ci_low"]) else None
            ax.errorbar([i], [r["rate"]], yerr=err, fmt="o", color=_colour(r["group"], i), capsize=3)
        ax.set_xticks(range(len(rows)), [str(g) for g in rows["group"]])
        ax.set_xlim(-0.5, len(rows) - 0.5)
        ax.set_title(title, fontsize=9)
        ax.set_ylabel(ylabel)

    return _small_multiples(fitted, note, "no model fitted: nothing to draw", draw)
