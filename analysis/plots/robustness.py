"""The specification curve (Simonsohn, Simmons & Nelson 2020): a claim's estimates under every
specification, sorted, with their intervals, and beneath them the choices as a dot grid.

:func:`plot_specification_curve` draws one claim's curve on an axis, :func:`plot_choice_grid` its
choices on the axis below; :func:`figure_specification_curves` composes a figure of several claims.
They draw what :func:`analysis.stats.specification.specification_curve` returned, nothing else.
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np
import pandas as pd

from . import base as plot

#: Colours: supporting the claim (same sign, q < alpha), same sign only, the other sign.
SUPPORT_COLOURS = {"significant": "#2F6B3B", "same sign": "#8FB996", "other": "#B0413E"}
#: Claims drawn per figure (the table has every one).
MAX_CLAIMS = 4


def _colours(curve: pd.DataFrame) -> list[str]:
    return [
        SUPPORT_COLOURS["significant"] if sig else SUPPORT_COLOURS["same sign"] if same else SUPPORT_COLOURS["other"]
        for sig, same in zip(curve["significant"], curve["same_sign"])
    ]


def plot_specification_curve(ax, curve: pd.DataFrame, *, title: str = "", ylabel: str = "standardised difference"):
    """One claim's specifications by rank: estimate (dot) and 95% interval (line), coloured by
    whether the specification supports the claim; the baseline (the study's own choices) ringed; an
    infinite standardised difference (groups that differ and do not vary within) a triangle at the
    panel's top (bottom when negative).

    ``curve``: the claim's rows of :func:`analysis.stats.specification.specification_curve`
    (``rank, estimate, ci_low, ci_high, sd, same_sign, significant, baseline``). The intervals are
    drawn on the estimate's scale (``ci / sd``). Returns ``ax``.
    """
    x = curve["rank"].to_numpy(dtype=float)
    y = curve["estimate"].to_numpy(dtype=float)
    sd = curve["sd"].to_numpy(dtype=float) if "sd" in curve.columns else np.ones(len(curve))
    with np.errstate(invalid="ignore", divide="ignore"):
        low = np.where(sd > 0, curve["ci_low"].to_numpy(dtype=float) / sd, np.nan)
        high = np.where(sd > 0, curve["ci_high"].to_numpy(dtype=float) / sd, np.nan)
    colours = _colours(curve)
    for xi, lo, hi, c in zip(x, low, high, colours):
        if math.isfinite(lo) and math.isfinite(hi):
            ax.plot([xi, xi], [lo, hi], color=c, linewidth=0.8, alpha=0.7)
    finite = np.isfinite(y)  # an infinite standardised difference (no variation within groups) has no place on the axis
    ax.scatter(x[finite], y[finite], c=[c for c, f in zip(colours, finite) if f], s=12, zorder=3)
    for side, marker, height in ((np.inf, "^", 0.97), (-np.inf, "v", 0.03)):
        # Groups that differ without varying within (presence 1 vs 0): an infinite standardised
        # difference, marked at the panel's edge in the direction of the difference.
        at = y == side
        if at.any():
            ax.scatter(
                x[at],
                np.full(at.sum(), height),
                c=[c for c, a in zip(colours, at) if a],
                marker=marker,
                s=18,
                zorder=3,
                transform=ax.get_xaxis_transform(),
                clip_on=False,
            )
    base = curve["baseline"].astype(bool).to_numpy() & finite
    if base.any():
        ax.scatter(x[base], y[base], s=60, facecolors="none", edgecolors="black", linewidths=1.0, zorder=4)
    ax.axhline(0, color="grey", linewidth=0.6)
    ax.set_xlim(0.5, max(len(curve), 1) + 0.5)
    ax.set_xticks([])
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title, fontsize=9, loc="left")
    return ax


def plot_choice_grid(ax, curve: pd.DataFrame, factors: Sequence[str]):
    """The choices beneath a curve: one row per factor value, a dot where the specification (same
    x as the curve) uses it. Returns ``ax``."""
    rows: list[tuple[str, str]] = [
        (f, v) for f in factors for v in sorted(set(map(str, curve[f])), key=lambda s: (s.lower(), s))
    ]
    x = curve["rank"].to_numpy(dtype=float)
    colours = _colours(curve)
    for i, (factor, value) in enumerate(rows):
        on = (curve[factor].astype(str) == value).to_numpy()
        ax.scatter(x[on], np.full(on.sum(), i), s=6, c=[c for c, o in zip(colours, on) if o], marker="s")
    ax.set_yticks(range(len(rows)))
    ax.set_yticklabels([f"{f} = {plot.term_label(v)}" for f, v in rows], fontsize=7)
    ax.set_ylim(len(rows) - 0.5, -0.5)
    ax.set_xlim(0.5, max(len(curve), 1) + 0.5)
    ax.set_xlabel("specification (sorted by estimate)")
    for side in ("left", "bottom"):
        ax.spines[side].set_visible(False)
    ax.tick_params(length=0)
    return ax


@plot.styled
def figure_specification_curves(curve: pd.DataFrame, summary: pd.DataFrame, factors: Sequence[str], *, kind: str):
    """Specification curves of the first :data:`MAX_CLAIMS` claims of ``kind`` in ``summary`` order
    (the stage lists them by the size of the study's own estimate), each above its choice grid."""
    import matplotlib.pyplot as plt

    claims = [c for c in summary["claim"] if str(c).startswith(f"{kind}:")][:MAX_CLAIMS]
    levels = sum(len(set(map(str, curve[f]))) for f in factors) if len(curve) else 1
    if not claims:
        fig, (ax,) = plot.new_figure(1, 6.0, 2.0)
        ax.set_axis_off()
        ax.text(0.5, 0.5, f"no {kind} with hits in any specification", ha="center", va="center")
        return fig
    ratios = [r for _ in claims for r in (3.0, max(1.0, 0.22 * levels))]
    fig, axes = plt.subplots(
        2 * len(claims),
        1,
        figsize=(7.0, sum(ratios) * 0.75 + 0.6),
        gridspec_kw={"height_ratios": ratios},
        squeeze=False,
    )
    plt.close(fig)  # released from pyplot, as plot.new_figure does: shown once in a notebook
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    verdicts = summary.set_index("claim")["verdict"]
    labels = summary.set_index("claim")["label"] if "label" in summary.columns else None
    for i, claim in enumerate(claims):
        rows = curve[curve["claim"] == claim]
        name = labels[claim] if labels is not None else claim
        plot_specification_curve(axes[2 * i, 0], rows, title=f"{plot.term_label(name)}: {verdicts[claim]}")
        plot_choice_grid(axes[2 * i + 1, 0], rows, factors)
    fig.tight_layout()
    return fig
