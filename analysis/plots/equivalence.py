"""Figures of the equivalence check: draw only (``plot_*(ax, data) -> ax``)."""

from __future__ import annotations

import numpy as np
import pandas as pd


def plot_ratios(ax, table: pd.DataFrame, *, title: str = "", unit: str = "per 100 sentences"):
    """Forest plot of vi/en rate ratios with intervals on a log2 axis; flagged rows in red.

    ``table`` has ``label, ratio, ci_low, ci_high, flag`` (rows drawn top to bottom).
    """
    y = np.arange(len(table))[::-1]
    ratio = table["ratio"].to_numpy(float)
    low, high = table["ci_low"].to_numpy(float), table["ci_high"].to_numpy(float)
    colors = ["#c0392b" if f else "#2c3e50" for f in table["flag"]]
    ax.axvline(0, color="#888888", lw=0.8, zorder=0)
    for yi, r, lo, hi, c in zip(y, ratio, low, high, colors):
        ax.plot([np.log2(lo), np.log2(hi)], [yi, yi], color=c, lw=1.2)
        ax.plot([np.log2(r)], [yi], "o", color=c, ms=3.5)
    ax.set_yticks(y)
    ax.set_yticklabels(list(table["label"]), fontsize=7)
    ax.set_xlabel(f"log2(vi / en rate, {unit}); 0 = equal")
    if title:
        ax.set_title(title, fontsize=9)
    return ax
