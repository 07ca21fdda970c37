"""Figures of the dictionary's validation against human coding: draw only
(``plot_*(ax, data) -> ax``, ``figure_*(data) -> Figure``)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .base import LANGUAGE_COLOURS, PALETTE, new_figure, styled, term_label


def plot_accuracy(ax, table: pd.DataFrame, *, metric: str = "precision", title: str = ""):
    """One metric of the dictionary's accuracy per frame (rows) and language (dots), with intervals.

    ``table`` is :func:`analysis.validation.accuracy.accuracy_table`'s: ``language, frame,
    <metric>, <metric>_low, <metric>_high``. A metric the sample cannot estimate (no unit the
    dictionary flags, or none people code as having the frame) is left out of its row. The x axis
    runs from 0 to 1: 1 is a dictionary that never errs in that direction.
    """
    frames = list(dict.fromkeys(table["frame"]))
    languages = list(dict.fromkeys(table["language"]))
    y0 = np.arange(len(frames))[::-1].astype(float)
    step = 0.8 / max(len(languages), 1)
    for i, lang in enumerate(languages):
        part = table[table["language"] == lang].set_index("frame").reindex(frames)
        y = y0 + 0.4 - step * (i + 0.5)
        colour = LANGUAGE_COLOURS.get(lang, PALETTE[i % len(PALETTE)])
        value = part[metric].to_numpy(float)
        low, high = part[f"{metric}_low"].to_numpy(float), part[f"{metric}_high"].to_numpy(float)
        ok = ~np.isnan(value)
        ax.hlines(y[ok], low[ok], high[ok], color=colour, lw=1.2)
        ax.plot(value[ok], y[ok], "o", color=colour, ms=3.5, label=str(lang))
    ax.set_yticks(y0)
    ax.set_yticklabels([term_label(f) for f in frames], fontsize=7)
    ax.set_xlim(-0.02, 1.02)
    ax.set_xlabel(metric)
    if languages:
        ax.legend(fontsize=7, loc="lower left", frameon=False)
    if title:
        ax.set_title(title, fontsize=9)
    return ax


@styled
def figure_accuracy(table: pd.DataFrame, *, level: float = 0.95):
    """Precision and recall of the dictionary by frame and language, side by side (two panels)."""
    n = max(1, table["frame"].nunique())
    fig, axes = new_figure(2, 3.6, 0.3 * n + 1.2)
    for ax, metric in zip(axes, ("precision", "recall")):
        plot_accuracy(ax, table, metric=metric, title=f"{metric.capitalize()} ({level:.0%} intervals)")
    fig.suptitle("The dictionary against human coding")
    return fig


__all__ = ["figure_accuracy", "plot_accuracy"]
