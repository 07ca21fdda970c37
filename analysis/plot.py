"""Plotting: ``plot_*(ax, data) -> ax`` draw only; :func:`figure_bytes` renders deterministically.

Fonts: DejaVu Sans (shipped with matplotlib) covers every Vietnamese precomposed letter; the tests
fail on any "missing glyph" warning. Figures carry no timestamp (PDF CreationDate off, fixed SVG
hash salt, PNG without a Software key), so two runs give the same bytes.
"""

from __future__ import annotations

import functools
import io
from contextlib import contextmanager
from typing import Iterator

import matplotlib as mpl
import matplotlib.pyplot as plt
import pandas as pd

# No matplotlib.use() here: Jupyter keeps its inline backend, and headless runs fall back to Agg
# (make exports MPLBACKEND=Agg). Rendering goes through figure_bytes, whatever the backend.

STYLE = {
    "font.family": "DejaVu Sans",
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "svg.hashsalt": "analysis",
    "pdf.compression": 6,
    "figure.dpi": 100,
    "savefig.dpi": 200,
}


@contextmanager
def style() -> Iterator[None]:
    """The project's figure style (:data:`STYLE`) inside a ``with`` block; the caller's own
    matplotlib settings before and after are left alone (importing :mod:`analysis` changes none).

    >>> import matplotlib as mpl
    >>> with style():
    ...     mpl.rcParams["font.size"]
    9.0
    """
    with mpl.rc_context(STYLE):
        yield


def styled(compose):
    """Decorator: run a ``figure_*`` composer inside :func:`style`."""

    @functools.wraps(compose)
    def run(*args, **kwargs):
        with style():
            return compose(*args, **kwargs)

    return run


#: One colour per language in every figure (framing, keyness and topics alike): vi blue, en orange.
LANGUAGE_COLOURS = {"vi": "#4C72B0", "en": "#DD8452", "joint": "#55A868"}
#: Colours of groups in order: the language colours first, so a vi/en comparison keeps them.
PALETTE = [*LANGUAGE_COLOURS.values(), "#C44E52", "#8172B3", "#937860", "#DA8BC3", "#8C8C8C"]


def term_label(text) -> str:
    """How a term is shown in a figure: Vietnamese syllables joined by ``_`` are shown with spaces.

    >>> term_label("Bộ_trưởng")
    'Bộ trưởng'
    """
    return str(text).replace("_", " ")

_METADATA = {
    "pdf": {"CreationDate": None, "ModDate": None, "Producer": None, "Creator": "analysis"},
    "png": {"Software": None},
    "svg": {"Date": None, "Creator": "analysis"},
}


def new_figure(n_panels: int = 1, width: float = 4.0, height: float = 4.0, ncols: int | None = None):
    """A figure with ``n_panels`` axes in a row (or ``ncols`` columns); returns ``(fig, axes)``.

    ``width`` and ``height`` are inches per panel. Draw on the axes with the ``plot_*`` functions;
    inside ``with style():`` the figure takes the project's style.

    >>> fig, axes = new_figure(3, ncols=2)
    >>> len(axes), fig.get_size_inches().tolist()
    (3, [8.0, 8.0])
    >>> close(fig)
    """
    ncols = ncols or n_panels
    nrows = -(-n_panels // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(width * ncols, height * nrows), squeeze=False, layout="constrained")
    flat = list(axes.ravel())
    for ax in flat[n_panels:]:
        ax.set_visible(False)
    return fig, flat[:n_panels]


def figure_bytes(fig, fmt: str) -> bytes:
    """Render ``fig`` to bytes without timestamps (deterministic for the same matplotlib), in :func:`style`."""
    buffer = io.BytesIO()
    with style():
        fig.savefig(buffer, format=fmt, metadata=_METADATA[fmt])
    return buffer.getvalue()


def close(fig) -> None:
    """Release a figure's memory (pyplot keeps every figure until it is closed)."""
    plt.close(fig)


def plot_top_terms(ax, table: pd.DataFrame, value: str = "per_1000", label: str = "term", title: str = ""):
    """Horizontal bars of ``value`` for the rows of ``table`` (largest on top)."""
    rows = table.sort_values([value, label], ascending=[True, False], kind="mergesort")
    ax.barh(range(len(rows)), rows[value].to_numpy(), color="#4C72B0")
    ax.set_yticks(range(len(rows)), [term_label(t) for t in rows[label]])
    ax.set_xlabel({"per_1000": "per 1,000 counted tokens", "count": "count"}.get(value, value))
    if title:
        ax.set_title(title)
    return ax


def plot_corpus_summary(ax, summary: pd.DataFrame, group: str = "language"):
    """Bars of word tokens (stopwords included) and counted terms per group, from the group's
    total rows of :func:`analysis.textstat.corpus_summary` (other keys ``all``)."""
    stats = ["documents", "sentences", "tokens", "types", "ttr", "terms"]
    others = [c for c in summary.columns if c not in stats and c != group]
    totals = summary[(summary[group] != "all") & (summary[others] == "all").all(axis=1)]
    rows = totals.set_index(group).sort_index()[["tokens", "terms"]]
    positions = range(len(rows))
    ax.bar([p - 0.2 for p in positions], rows["tokens"], width=0.4, label="word tokens", color="#4C72B0")
    ax.bar([p + 0.2 for p in positions], rows["terms"], width=0.4, label="counted terms", color="#DD8452")
    ax.set_xticks(list(positions), list(rows.index))
    ax.set_ylabel("tokens")
    ax.legend(frameon=False)
    return ax


#: Offsets (points) tried in turn for a label beside its point: right, then above/below-right,
#: left, then further out. The first that overlaps no label placed before is taken.
LABEL_OFFSETS = ((4, 0), (4, 10), (4, -10), (-4, 0), (-4, 10), (-4, -10), (4, 20), (4, -20), (-4, 20), (-4, -20), (4, 30), (4, -30))


def place_labels(ax, xs, ys, labels, fontsize: float = 7, colour: str = "black") -> list:
    """Label points without labels overlapping each other, greedily and deterministically.

    Labels are placed in the order given (put the most important first): each takes the first
    offset of :data:`LABEL_OFFSETS` whose text box overlaps none of the boxes already placed
    (boxes measured by the renderer); if every offset overlaps, the first is used. A thin line
    joins a label to its point whenever it is not level with it. A few lines of code instead of
    a dependency (adjustText does this iteratively for many labels; here there are at most ~20).
    Returns the annotations.
    """
    renderer = ax.figure.canvas.get_renderer()

    def annotate(x, y, label, dx, dy, line=False):
        return ax.annotate(
            label, (x, y), xytext=(dx, dy), textcoords="offset points", fontsize=fontsize, color=colour,
            ha="left" if dx > 0 else "right", va="center",
            arrowprops={"arrowstyle": "-", "color": "#999999", "linewidth": 0.5, "shrinkA": 0, "shrinkB": 2} if line else None,
        )

    placed, texts = [], []
    for x, y, label in zip(xs, ys, labels):
        options = []
        for dx, dy in LABEL_OFFSETS:
            trial = annotate(x, y, label, dx, dy)
            options.append(((dx, dy), trial.get_window_extent(renderer)))  # the text alone: no line yet
            trial.remove()
            if not any(options[-1][1].overlaps(other) for other in placed):
                break
        else:
            options = options[:1]  # nowhere free: beside the point
        offset, box = options[-1]
        texts.append(annotate(x, y, label, *offset, line=offset[1] != 0))
        placed.append(box)
    return texts


# ------------------------------------------------------------------------- whole figures


@styled
def figure_corpus_summary(summary: pd.DataFrame, group: str = "language"):
    """Word tokens and counted terms per ``group`` (:func:`analysis.textstat.corpus_summary`)."""
    fig, (ax,) = new_figure(1, 4.5, 3.2)
    plot_corpus_summary(ax, summary, group)
    ax.set_title("Corpus size by language")
    return fig


@styled
def figure_top_terms(top: pd.DataFrame, by: str, top_n: int):
    """One panel per group of :func:`analysis.textstat.top_terms` (at most three a row)."""
    groups = list(dict.fromkeys(top["group"]))
    fig, axes = new_figure(len(groups), 3.6, 0.22 * top_n + 1.0, ncols=min(len(groups), 3))
    for ax, group in zip(axes, groups):
        plot_top_terms(ax, top[top["group"] == group], title=f"{by} = {group}")
    fig.suptitle(f"Most frequent terms by {by}")
    return fig
