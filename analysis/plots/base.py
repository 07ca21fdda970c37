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
#: How a language code is shown in a figure (legends, panel titles, axis labels): a reader of the
#: paper sees "Vietnamese", not "vi" or "language = vi". The CSV beside the figure keeps the codes.
LANGUAGE_NAMES = {"vi": "Vietnamese", "en": "English"}


def group_label(value) -> str:
    """How a group value is shown: a language code as its name (also in the ``language=vi`` form of
    a design group, and each side of ``a & b``); any other value as it is.

    >>> group_label("vi"), group_label("language=en"), group_label("language=vi & outlet=A"), group_label("A")
    ('Vietnamese', 'English', 'Vietnamese & outlet=A', 'A')
    """
    parts = []
    for part in str(value).split(" & "):
        key, sep, code = part.partition("=")
        code = code.strip() if sep else key.strip()
        if code in LANGUAGE_NAMES and (not sep or key.strip() == "language"):
            parts.append(LANGUAGE_NAMES[code])
        else:
            parts.append(part)
    return " & ".join(parts)


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


def new_figure(n_panels: int = 1, width: float = 4.0, height: float = 4.0, *, ncols: int | None = None):
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
    # Released from pyplot at once: Jupyter's inline backend shows every open pyplot figure at the
    # end of a cell, so a figure returned as the cell's value was shown twice. Released, it is
    # shown once (as the cell's value: end a notebook cell with `fig`), can still be drawn and
    # saved, and is freed when no longer referenced.
    plt.close(fig)
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)  # closing left a bare canvas; measuring text (labels, titles) needs a renderer
    flat = list(axes.ravel())
    for ax in flat[n_panels:]:
        ax.set_visible(False)
    return fig, flat[:n_panels]


def _titles(fig):
    """(text artist, width it must fit in pixels) for the suptitle, every axes title and x label."""
    out = []
    if fig._suptitle is not None and fig._suptitle.get_text():
        out.append((fig._suptitle, fig.bbox.width * 0.98))
    for ax in fig.axes:
        if not ax.get_visible():
            continue
        for text in (ax.title, ax._left_title, ax._right_title, ax.xaxis.label):
            if text.get_text():
                # An axes title may use the axes' share of the figure (its column), never more.
                columns = ax.get_subplotspec().get_gridspec().ncols if ax.get_subplotspec() else 1
                limit = min(fig.bbox.width * 0.98, max(ax.bbox.width * 1.15, fig.bbox.width / columns * 0.95))
                # a centred title is as wide on each side of its centre: it must stop at the figure's edges
                centre = (ax.bbox.x0 + ax.bbox.x1) / 2  # titles and x labels are centred on their axes
                if text.get_horizontalalignment() == "center":
                    limit = min(limit, 2 * min(centre, fig.bbox.width - centre) * 0.98)
                out.append((text, max(limit, 1.0)))
    return out


def _wrap(text: str, chars: int) -> str:
    import textwrap

    return "\n".join(textwrap.fill(line, max(chars, 12), break_on_hyphens=False) or line for line in text.split("\n"))


def _overlapping(boxes) -> bool:
    from itertools import pairwise

    return any(a.x1 > b.x0 - 2 for a, b in pairwise(sorted(boxes, key=lambda b: b.x0)))


def tidy(fig, rounds: int = 3) -> None:
    """Make every title fit its figure and keep x tick labels apart, measured on the renderer.

    A title or x-axis label wider than the figure (or than its axes' column) is wrapped onto more lines; x tick
    labels that overlap get fewer ticks (numeric axes) or are turned 45 degrees (named ticks).
    Runs in :func:`figure_bytes`, so every saved figure is tidied the same way (deterministic:
    the same text and the same matplotlib give the same measurements).
    """
    from matplotlib.ticker import FixedLocator, MaxNLocator

    for _ in range(rounds):
        fig.draw_without_rendering()
        renderer = fig.canvas.get_renderer()
        changed = False
        for text, limit in _titles(fig):
            width = text.get_window_extent(renderer).width
            if width > limit:
                longest = max(len(line) for line in text.get_text().split("\n"))
                text.set_text(_wrap(text.get_text(), int(longest * limit / width * 0.95)))
                changed = True
        for ax in fig.axes:
            if not ax.get_visible() or not ax.xaxis.get_visible():
                continue
            labels = [t for t in ax.get_xticklabels() if t.get_visible() and t.get_text()]
            lo, hi = sorted(ax.get_xlim())
            labels = [
                t for t, x in zip(ax.get_xticklabels(), ax.get_xticks()) if t in labels and lo - 1e-9 <= x <= hi + 1e-9
            ]
            if len(labels) < 2 or not _overlapping([t.get_window_extent(renderer) for t in labels]):
                continue
            if isinstance(ax.xaxis.get_major_locator(), FixedLocator):
                if labels[0].get_rotation() == 0:
                    for t in ax.get_xticklabels():
                        t.set_rotation(45)
                        t.set_horizontalalignment("right")
                    changed = True
            else:
                ax.xaxis.set_major_locator(MaxNLocator(nbins=max(1, len(labels) // 2), steps=[1, 2, 2.5, 5, 10]))
                changed = True
        if not changed:
            return


def figure_bytes(fig, fmt: str) -> bytes:
    """Render ``fig`` to bytes without timestamps (deterministic for the same matplotlib), in
    :func:`style`, after :func:`tidy` (titles that fit, tick labels apart)."""
    buffer = io.BytesIO()
    with style():
        tidy(fig)
        fig.savefig(buffer, format=fmt, metadata=_METADATA[fmt])
    return buffer.getvalue()


def close(fig) -> None:
    """Release a figure's memory (of :func:`new_figure` or of pyplot)."""
    plt.close(fig)
    fig.clear()


def plot_top_terms(ax, table: pd.DataFrame, *, value: str = "per_1000", label: str = "term", title: str = ""):
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
    total rows of :func:`analysis.text.textstat.corpus_summary` (other keys ``all``)."""
    stats = ["documents", "sentences", "tokens", "types", "ttr", "terms"]
    others = [c for c in summary.columns if c not in stats and c != group]
    totals = summary[(summary[group] != "all") & (summary[others] == "all").all(axis=1)]
    rows = totals.set_index(group).sort_index()[["tokens", "terms"]]
    positions = range(len(rows))
    ax.bar([p - 0.2 for p in positions], rows["tokens"], width=0.4, label="word tokens", color="#4C72B0")
    ax.bar([p + 0.2 for p in positions], rows["terms"], width=0.4, label="counted terms", color="#DD8452")
    ax.set_xticks(list(positions), [group_label(g) if group == "language" else str(g) for g in rows.index])
    ax.set_ylabel("tokens")
    ax.legend(frameon=False)
    return ax


#: Offsets (points) tried in turn for a label beside its point: right, then above/below-right,
#: left, then further out. The first that overlaps no label placed before is taken.
LABEL_OFFSETS = (
    (4, 0),
    (4, 10),
    (4, -10),
    (-4, 0),
    (-4, 10),
    (-4, -10),
    (4, 20),
    (4, -20),
    (-4, 20),
    (-4, -20),
    (4, 30),
    (4, -30),
)


def place_labels(ax, xs, ys, labels, *, fontsize: float = 7, colour: str = "black") -> list:
    """Label points without labels overlapping each other, greedily and deterministically.

    Labels are placed in the order given (put the most important first): each takes the first
    offset of :data:`LABEL_OFFSETS` whose text box overlaps none of the boxes already placed
    (boxes measured by the renderer); if every offset overlaps, the first is used. A thin line
    joins a label to its point whenever it is not level with it. A few lines of code instead of
    a dependency (adjustText does this iteratively for many labels; here there are at most ~20).
    Returns the annotations.
    """
    renderer = ax.figure.canvas.get_renderer()

    def annotate(x, y, label, dx, dy, *, line=False):
        return ax.annotate(
            label,
            (x, y),
            xytext=(dx, dy),
            textcoords="offset points",
            fontsize=fontsize,
            color=colour,
            ha="left" if dx > 0 else "right",
            va="center",
            arrowprops={"arrowstyle": "-", "color": "#999999", "linewidth": 0.5, "shrinkA": 0, "shrinkB": 2}
            if line
            else None,
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
    """Word tokens and counted terms per ``group`` (:func:`analysis.text.textstat.corpus_summary`)."""
    fig, (ax,) = new_figure(1, 4.5, 3.2)
    plot_corpus_summary(ax, summary, group)
    ax.set_title("Corpus size by language")
    return fig


#: Most panels a top-terms figure draws (three rows of three): a column of 20 sections made a
#: figure 4,300 pixels tall; every group stays in the CSV the figure is drawn from.
MAX_TERM_PANELS = 9
#: Tallest figure of panels in rows (inches; 2,200 pixels at 200 dpi): a journal page's text block
#: is about 9 inches, so a figure of panels stops here and its title says how many are left out.
MAX_FIGURE_INCHES = 11.0


def panels_that_fit(n_panels: int, panel_height: float, *, ncols: int = 3, cap: int | None = None) -> int:
    """How many of ``n_panels`` panels (``ncols`` a row, each ``panel_height`` inches tall) a figure
    draws: whole rows up to :data:`MAX_FIGURE_INCHES` (at least one row), and at most ``cap``.

    >>> panels_that_fit(15, 4.3), panels_that_fit(10, 7.2), panels_that_fit(2, 30.0)
    (6, 3, 2)
    """
    rows = max(1, int(MAX_FIGURE_INCHES // panel_height))
    return min(n_panels, rows * ncols, cap if cap is not None else n_panels)


@styled
def figure_top_terms(top: pd.DataFrame, by: str, top_n: int):
    """One panel per group of :func:`analysis.text.textstat.top_terms` (at most three a row, at
    most :data:`MAX_TERM_PANELS` and :data:`MAX_FIGURE_INCHES` tall, :func:`panels_that_fit`; the
    first groups in the table's order; the title says how many are left out). Panels are titled
    by the group's value (a language by its name, :func:`group_label`); the figure title names the
    column.

    >>> top = pd.DataFrame({"group": [f"s{i}" for i in range(12)], "term": ["a"] * 12, "count": [1] * 12,
    ...                     "per_1000": [1.0] * 12})
    >>> fig = figure_top_terms(top, "section", 5)
    >>> len(fig.axes), fig.axes[0].get_title(), fig.get_suptitle()
    (9, 's0', 'Most frequent terms by section (9 of 12 groups; all in the CSV)')
    >>> close(fig)
    """
    groups = list(dict.fromkeys(top["group"]))
    if by == "language":  # languages in the order of every other figure: vi, then en
        known = list(LANGUAGE_COLOURS)
        groups.sort(key=lambda g: known.index(g) if g in known else len(known))
    height = 0.22 * top_n + 1.0
    shown = groups[: panels_that_fit(len(groups), height, cap=MAX_TERM_PANELS)]
    fig, axes = new_figure(len(shown), 3.6, height, ncols=min(len(shown), 3))
    for ax, group in zip(axes, shown):
        plot_top_terms(ax, top[top["group"] == group], title=group_label(group) if by == "language" else str(group))
    left_out = f" ({len(shown)} of {len(groups)} groups; all in the CSV)" if len(shown) < len(groups) else ""
    fig.suptitle(f"Most frequent terms by {by}{left_out}")
    return fig
