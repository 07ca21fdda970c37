"""Topic-model figures: ``plot_*(ax, data) -> ax`` draw only what :mod:`analysis.topics.lda` computed.

Importing :mod:`analysis.plots.base` applies the project style (DejaVu Sans, which has every Vietnamese
letter) and the deterministic savers. Underscores of Vietnamese words are shown as spaces.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.ticker import MaxNLocator

from . import base as plot

COLOURS = plot.LANGUAGE_COLOURS
METRIC_LABELS = {
    "c_npmi": "coherence c_npmi (higher is better)",
    "u_mass": "coherence u_mass (higher is better)",
    "c_v": "coherence c_v (for comparison only)",
    "stability": "stability across seeds (1 - Hellinger)",
}


#: Tick labels longer than this are wrapped onto more lines (a long compound or name squeezed
#: the bars of a narrow panel to nothing, and its tick labels onto each other).
LABEL_CHARS = 18


def _label(term: str) -> str:
    import textwrap

    text = plot.term_label(term)
    return "\n".join(textwrap.wrap(text, LABEL_CHARS, break_long_words=True, break_on_hyphens=False)) or text


def plot_k_selection(ax, summary: pd.DataFrame, metric: str = "c_npmi", threshold: float | None = None):
    """``metric`` against K, one line per model, the chosen K of each model ringed.

    ``summary`` is :attr:`analysis.topics.lda.KSelection.summary` (rows of several models may be
    concatenated); for ``metric == "stability"`` a dashed line marks ``threshold``.
    """
    for model, rows in summary.groupby("model", sort=False):
        rows = rows[rows["fits"] > 0].sort_values("k")
        colour = COLOURS.get(model, None)
        ax.plot(rows["k"], rows[metric], marker="o", label=MODEL_NAMES.get(model, model), color=colour)
        chosen = rows[rows["chosen"]]
        ax.scatter(chosen["k"], chosen[metric], s=120, facecolors="none", edgecolors=colour or "black", linewidths=1.5)
    if metric == "stability" and threshold is not None:
        ax.axhline(threshold, color="grey", linestyle="--", linewidth=0.8)
    ks = sorted(summary["k"].unique())
    ax.set_xticks(ks, [str(k) for k in ks])
    ax.set_xlabel("number of topics K")
    ax.set_ylabel(METRIC_LABELS.get(metric, metric))
    ax.legend(frameon=False, title="model")
    return ax


def plot_topic_terms(ax, terms: pd.DataFrame, *, title: str = "", colour: str = "#4C72B0"):
    """Horizontal bars of the probability of one topic's top terms (most probable on top).

    ``terms``: rows of :func:`analysis.topics.lda.topic_terms` for one topic; when they hold several
    rankings (probability and relevance) the probability ranking is drawn, so no term is listed twice.
    """
    if "ranking" in terms.columns and terms["ranking"].nunique() > 1:
        terms = terms[terms["ranking"] == "probability"]
    rows = terms.sort_values("rank", ascending=False, kind="mergesort")
    ax.barh(range(len(rows)), rows["probability"].to_numpy(), color=colour)
    ax.set_yticks(range(len(rows)), [_label(t) for t in rows["term"]])
    ax.xaxis.set_major_locator(MaxNLocator(nbins=3))  # narrow panels: three probability ticks are enough
    ax.set_xlabel("probability in topic")
    if title:
        ax.set_title(title)
    return ax


def plot_prevalence(ax, table: pd.DataFrame):
    """Grouped bars: mean topic share per group (one bar per group within each topic) with intervals.

    ``table``: :func:`analysis.topics.prevalence` output (``group, topic, prevalence, ci_low,
    ci_high``); groups in sorted order.
    """
    # Languages in the order of every other figure (vi, then en); other groups sorted.
    groups = sorted(
        table["group"].unique(), key=lambda g: (list(COLOURS).index(g) if g in COLOURS else len(COLOURS), g)
    )
    topics = sorted(table["topic"].unique())
    width = 0.8 / max(len(groups), 1)
    for g, group in enumerate(groups):
        rows = table[table["group"] == group].set_index("topic").reindex(topics)
        x = np.arange(len(topics)) + (g - (len(groups) - 1) / 2) * width
        low = (rows["prevalence"] - rows["ci_low"]).clip(lower=0).fillna(0).to_numpy()
        high = (rows["ci_high"] - rows["prevalence"]).clip(lower=0).fillna(0).to_numpy()
        ax.bar(
            x,
            rows["prevalence"].to_numpy(),
            width=width,
            label=plot.group_label(group),
            color=COLOURS.get(str(group)),
            yerr=np.vstack([low, high]),
            capsize=2,
            error_kw={"linewidth": 0.8},
        )
    ax.set_xticks(np.arange(len(topics)), [f"topic {t}" for t in topics])
    ax.set_ylabel("mean topic share of units")
    ax.legend(frameon=False)
    return ax


def plot_alignment(ax, matrix: pd.DataFrame, row: str, col: str):
    """Heatmap of topic similarity between two models; matched pairs are boxed, values written in.

    ``matrix``: long form with columns ``row``, ``col``, ``similarity``, ``matched``.
    """
    grid = matrix.pivot(index=row, columns=col, values="similarity").sort_index().sort_index(axis=1)
    image = ax.imshow(grid.to_numpy(), vmin=0, vmax=1, cmap="viridis", aspect="auto")
    ax.set_xticks(range(grid.shape[1]), [str(c) for c in grid.columns])
    ax.set_yticks(range(grid.shape[0]), [str(r) for r in grid.index])
    ax.set_xlabel(_label(col))
    ax.set_ylabel(_label(row))
    for i, r in enumerate(grid.index):
        for j, c in enumerate(grid.columns):
            value = grid.iloc[i, j]
            ax.text(
                j, i, f"{value:.2f}", ha="center", va="center", fontsize=7, color="white" if value < 0.6 else "black"
            )
    for r, c in matrix.loc[matrix["matched"], [row, col]].itertuples(index=False):
        i, j = list(grid.index).index(r), list(grid.columns).index(c)
        ax.add_patch(plot.plt.Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, edgecolor="red", linewidth=1.5))
    ax.figure.colorbar(image, ax=ax, label="similarity (1 - Jensen-Shannon)")
    return ax


# ------------------------------------------------------------------------- whole figures

MODEL_NAMES = {"vi": "Vietnamese", "en": "English", "joint": "joint model on concepts"}


@plot.styled
def figure_k_selection(summary: pd.DataFrame, threshold: float | None = None):
    """Coherence (three measures) and stability against K, the chosen K ringed; one legend below
    the panels, the models by name.

    >>> summary = pd.DataFrame({"model": ["vi", "vi", "en", "en"], "k": [2, 3, 2, 3], "fits": 1,
    ...     "chosen": [True, False, False, True], "c_npmi": 0.1, "u_mass": -1.0, "c_v": 0.5, "stability": 0.7})
    >>> fig = figure_k_selection(summary, 0.6)
    >>> [t.get_text() for t in fig.legends[0].get_texts()], [ax.get_legend() for ax in fig.axes]
    (['Vietnamese', 'English'], [None, None, None, None])
    >>> plot.close(fig)
    """
    fig, axes = plot.new_figure(4, 3.4, 2.8, ncols=2)
    for ax, metric in zip(axes, ("c_npmi", "u_mass", "c_v", "stability")):
        plot_k_selection(ax, summary, metric, threshold)
        ax.get_legend().remove()  # one legend for the four panels, below them: on each panel it covered points
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=len(labels), frameon=False)
    fig.suptitle("Topic coherence and stability against K (ringed: chosen K)")
    return fig


@plot.styled
def figure_topic_terms(rows: pd.DataFrame, k: int, model: str):
    """Top terms of each of the ``k`` topics of ``model`` (rows ranked by probability)."""
    n_terms = int(rows["rank"].max())
    fig, axes = plot.new_figure(k, 2.8, 0.2 * n_terms + 1.0, ncols=min(k, 4))
    for ax, topic in zip(axes, range(1, k + 1)):
        plot_topic_terms(ax, rows[rows["topic"] == topic], title=f"topic {topic}", colour=COLOURS.get(model, "#4C72B0"))
    fig.suptitle(f"Top terms per topic: {MODEL_NAMES.get(model, model)} (K = {k})")
    return fig


@plot.styled
def figure_prevalence(table: pd.DataFrame, k: int):
    """Joint-model topic prevalence by language with bootstrap intervals."""
    fig, (ax,) = plot.new_figure(1, max(4.0, 1.1 * k + 2), 3.2)
    plot_prevalence(ax, table)
    ax.set_title("Joint concept topics: prevalence by language (95% bootstrap intervals)")
    return fig


@plot.styled
def figure_alignment(matrix: pd.DataFrame, k_vi: int, k_en: int):
    """vi x en topic similarity heatmap, matches boxed.

    ``matrix`` is the long-form similarity table of :func:`analysis.topics.lda.align_languages`.
    """
    fig, (ax,) = plot.new_figure(1, 0.7 * k_en + 2.5, 0.5 * k_vi + 1.5)
    plot_alignment(ax, matrix, "topic_vi", "topic_en")
    ax.set_xlabel("English topic")
    ax.set_ylabel("Vietnamese topic")
    ax.set_title("Vietnamese-English topic similarity (boxed: matched)")
    return fig
