"""Figures of the equivalence check: draw only (``plot_*(ax, data) -> ax``)."""

from __future__ import annotations

import numpy as np
import pandas as pd

#: Colour of each verdict of :func:`analysis.framing.equivalence.equivalence_status`.
STATUS_COLORS = {"shown equivalent": "#1a7f4b", "undetermined": "#8c8c8c", "shown not equivalent": "#c0392b"}


def plot_ratios(ax, table: pd.DataFrame, *, title: str = "", unit: str = "per 100 sentences", margin: float = 1.25):
    """Forest plot of vi/en rate ratios on a log2 axis, coloured by equivalence status.

    ``table`` has ``label, ratio, ci_low, ci_high, status`` and optionally ``ci90_low, ci90_high``
    (rows drawn top to bottom): a thin line for the 95% interval (outside the margin: shown not
    equivalent), a thick one for the 90% interval (inside: shown equivalent, TOST), the shaded
    band the margin ``[1/margin, margin]``. Colours: :data:`STATUS_COLORS`.
    """
    y = np.arange(len(table))[::-1]
    ratio = table["ratio"].to_numpy(float)
    low, high = table["ci_low"].to_numpy(float), table["ci_high"].to_numpy(float)
    has90 = "ci90_low" in table.columns
    low90 = table["ci90_low"].to_numpy(float) if has90 else low
    high90 = table["ci90_high"].to_numpy(float) if has90 else high
    colors = [STATUS_COLORS.get(s, "#2c3e50") for s in table["status"]]
    ax.axvspan(-np.log2(margin), np.log2(margin), color="#e8f4ec", zorder=0)
    ax.axvline(0, color="#888888", lw=0.8, zorder=0)
    for yi, r, lo, hi, lo9, hi9, c in zip(y, ratio, low, high, low90, high90, colors):
        ax.plot([np.log2(lo), np.log2(hi)], [yi, yi], color=c, lw=0.8)
        ax.plot([np.log2(lo9), np.log2(hi9)], [yi, yi], color=c, lw=2.2)
        ax.plot([np.log2(r)], [yi], "o", color=c, ms=3.5)
    present = [s for s in STATUS_COLORS if s in set(table["status"])]
    for s in present:
        ax.plot([], [], color=STATUS_COLORS[s], lw=2.2, label=s)
    if present:  # below the axes, outside the data (constrained layout makes room)
        ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.09), ncol=len(present), frameon=False)
    ax.set_yticks(y)
    ax.set_yticklabels(list(table["label"]), fontsize=7)
    ax.set_xlabel(f"log2(vi / en rate, {unit}); shaded: margin [{1 / margin:.2f}, {margin:.2f}]", fontsize=8)
    if title:
        ax.set_title(title, fontsize=9)
    return ax
