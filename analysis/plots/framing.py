"""Framing figures: ``plot_*(ax, data) -> ax``, draw only (no computation beyond sorting, no saving).

Each function draws exactly what a table from :mod:`analysis.framing.measures`, :mod:`analysis.stats.keyness` or
:mod:`analysis.framing.similarity` holds, so the CSV written beside a figure is the figure's data. Fonts
and determinism come from :mod:`analysis.plots.base` (DejaVu Sans covers Vietnamese).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from matplotlib.patches import Patch

from ..stats.keyness import top_keyness
from . import base as plot
from .base import PALETTE, place_labels
from .base import term_label as _label

TARGET_COLOR = plot.LANGUAGE_COLOURS["vi"]  # the target of a comparison is drawn like vi, the reference like en
REFERENCE_COLOR = plot.LANGUAGE_COLOURS["en"]


def plot_note(ax, text: str, title: str = ""):
    """An empty panel that says why there is nothing to draw."""
    ax.set_axis_off()
    ax.text(0.5, 0.5, text, ha="center", va="center", wrap=True, transform=ax.transAxes, fontsize=9)
    if title:
        ax.set_title(title)
    return ax


def plot_group_bars(
    ax,
    table: pd.DataFrame,
    *,
    item: str = "label",
    group: str = "group",
    value: str = "mean",
    low: str | None = "ci_low",
    high: str | None = "ci_high",
    xlabel: str = "",
    title: str = "",
):
    """Horizontal bars of ``value`` per item, one bar per group, with interval whiskers.

    Items keep the table's order (top to bottom); groups keep their order of appearance. A NaN
    interval (one document) or an unbounded one (a studentized bound of ±inf) draws no whisker.
    With a ``docs_with_hits`` column, a bar resting on fewer than
    :data:`analysis.stats.groups.MIN_DOCS_WITH_HITS` documents with hits is hatched and faded (``gid``
    :data:`SPARSE_BAR_GID`) and the legend says so: its interval under-covers.
    """
    from ..stats.groups import MIN_DOCS_WITH_HITS

    items = list(dict.fromkeys(table[item]))
    groups = list(dict.fromkeys(table[group]))
    height = 0.8 / max(1, len(groups))
    any_sparse = False
    for g, name in enumerate(groups):
        rows = table[table[group] == name].set_index(item).reindex(items)
        positions = np.arange(len(items))[::-1] + (len(groups) - 1) / 2 * height - g * height
        values = rows[value].to_numpy(dtype=float)
        bars = ax.barh(
            positions,
            np.nan_to_num(values),
            height=height,
            color=PALETTE[g % len(PALETTE)],
            label=plot.group_label(name),
        )
        if "docs_with_hits" in rows.columns:
            hits = pd.to_numeric(rows["docs_with_hits"], errors="coerce").to_numpy(dtype=float)
            for bar, k in zip(bars, hits):
                if np.isfinite(k) and k < MIN_DOCS_WITH_HITS:
                    bar.set_hatch("///")
                    bar.set_alpha(0.45)
                    bar.set_gid(SPARSE_BAR_GID)
                    any_sparse = True
        if low and high:
            lo = rows[low].to_numpy(dtype=float)
            hi = rows[high].to_numpy(dtype=float)
            ok = (
                np.isfinite(lo) & np.isfinite(hi) & np.isfinite(values)
            )  # an unbounded interval draws no whisker either
            if ok.any():
                err = np.vstack([values[ok] - lo[ok], hi[ok] - values[ok]])
                ax.errorbar(
                    values[ok],
                    positions[ok],
                    xerr=np.clip(err, 0, None),
                    fmt="none",
                    ecolor="#333333",
                    elinewidth=0.8,
                    capsize=2,
                )
    ax.set_yticks(np.arange(len(items))[::-1], [_label(i) for i in items])
    ax.set_ylim(-0.6, len(items) - 0.4)
    if xlabel:
        ax.set_xlabel(xlabel)
    if title:
        ax.set_title(title)
    handles, labels = ax.get_legend_handles_labels()
    if any_sparse:
        handles.append(Patch(facecolor="0.8", edgecolor="0.35", hatch="///", alpha=0.45))
        labels.append(SPARSE_BAR_LABEL)
    ax.legend(handles, labels, frameon=False, fontsize=8, loc="lower right")
    return ax


#: ``gid`` and legend entry of a bar whose mean rests on fewer than 5 documents with hits.
SPARSE_BAR_GID = "sparse_bar"
SPARSE_BAR_LABEL = "hatched: under 5 documents with hits"


def plot_frame_salience(ax, table: pd.DataFrame, *, title: str = "", unit: str = "per 1,000 tokens"):
    """Mean frame salience (hits ``unit``: per 1,000 tokens, or per 100 sentences across languages)
    by group with bootstrap 95% intervals.

    ``table``: rows of :func:`analysis.stats.groups.group_means` with a ``label`` column.
    """
    return plot_group_bars(ax, table, xlabel=f"hits {unit}: mean over documents\n(95% bootstrap CI)", title=title)


def plot_actor_salience(ax, table: pd.DataFrame, title: str = ""):
    """Share of actor mentions by group (pooled), for the actors in ``table``."""
    return plot_group_bars(
        ax, table, value="mention_share", low=None, high=None, xlabel="share of all actor mentions", title=title
    )


#: q below which a keyness bar is drawn filled (significant); others are hatched and faded.
SIGNIFICANCE = 0.05


def keyness_p_note(table: pd.DataFrame) -> str:
    """Why a keyness table carries no p-value to mark, or "" when it does (or when it has no q).

    ``design`` "none: <reason>" (e.g. one side is a single cluster) gives "no p-value: <reason>";
    a table with ``q`` but no ``design`` is pooled-token keyness, whose p treats tokens as
    independent and is read as descriptive only, so it is not marked either.
    """
    if "q" not in table.columns:
        return ""
    if "design" not in table.columns:
        return "no p-value: pooled-token q is descriptive only"
    designs = [str(d) for d in table["design"].dropna().unique()]
    none = next((d for d in designs if d.startswith("none")), None)
    if none is not None:
        reason = none.split(":", 1)[1].strip() if ":" in none else "no test"
        return f"no p-value: {reason}"
    if not np.isfinite(table["q"].to_numpy(dtype=float)).any():
        return "no p-value"
    return ""


def _untested(rows: pd.DataFrame) -> np.ndarray:
    """Rows that were not tested (``adjusted_within`` "not tested: ...", e.g. a word in fewer documents than
    ``[framing] keyness_min_docs``: :func:`analysis.stats.keyness.terms_to_test`), as booleans."""
    if "adjusted_within" not in rows.columns:
        return np.zeros(len(rows), dtype=bool)
    return rows["adjusted_within"].astype(str).str.startswith("not tested").to_numpy()


def plot_keyness(
    ax,
    table: pd.DataFrame,
    *,
    value: str = "g2",
    target: str = "target",
    reference: str = "reference",
    title: str = "",
    alpha: float = SIGNIFICANCE,
):
    """Diverging bars of signed keyness: target-characteristic terms right, reference left.

    ``table``: rows of :func:`analysis.stats.keyness.top_keyness` (positive first, then negative).
    When it carries document-level ``q`` (:func:`analysis.stats.keyness.document_keyness`), bars of
    terms with ``q < alpha`` are filled and the others hatched and faded, terms not tested (too few
    documents: no p, no q) outlined with a dotted edge, with a legend saying so: the bar length (a
    pooled effect size) does not say whether the documents support the difference. A comparison
    without a p-value (``design`` "none: <reason>", or pooled-token q) says "no p-value: <reason>"
    instead (:func:`keyness_p_note`) and marks nothing.

    >>> import analysis as va
    >>> table = pd.DataFrame({"term": ["hợp_tác", "biển_đông"], "g2": [8.0, -5.0]})
    >>> fig, (ax,) = va.new_figure()
    >>> ax = plot_keyness(ax, table, target="vi", reference="en")
    >>> [t.get_text() for t in ax.get_yticklabels()], len(ax.patches)
    (['hợp tác', 'biển đông'], 2)
    >>> plot.close(fig)
    """
    rows = table.reset_index(drop=True)
    values = rows[value].to_numpy(dtype=float)
    positions = np.arange(len(rows))[::-1]
    colors = [TARGET_COLOR if v > 0 else REFERENCE_COLOR for v in values]
    note = keyness_p_note(rows)
    marked = "q" in rows.columns and not note
    bars = ax.barh(positions, values, color=colors)
    if marked:
        significant = rows["q"].to_numpy(dtype=float) < alpha  # NaN q: not significant
        untested = _untested(rows)
        for bar, color, flag, skipped in zip(bars, colors, significant, untested):
            bar.set_gid("not tested" if skipped else "significant" if flag else "not significant")
            if skipped:
                bar.set_facecolor("none")
                bar.set_edgecolor(color)
                bar.set_linestyle(":")
                bar.set_alpha(0.7)
            elif not flag:
                bar.set_facecolor("none")
                bar.set_edgecolor(color)
                bar.set_hatch("////")
                bar.set_alpha(0.55)
        handles = [
            Patch(facecolor="#777777", label=f"q < {alpha:g}"),
            Patch(facecolor="none", edgecolor="#777777", hatch="////", alpha=0.55, label=f"q ≥ {alpha:g}"),
        ]
        if untested.any():
            handles.append(
                Patch(facecolor="none", edgecolor="#777777", linestyle=":", alpha=0.7, label="not tested: too few docs")
            )
        ax.legend(handles=handles, frameon=False, fontsize=7, loc="best")  # away from the bars
    elif note:
        # just above the panel, under its title (inside the panel it covered the bars)
        ax.text(
            0.5,
            1.005,
            note,
            transform=ax.transAxes,
            ha="center",
            va="bottom",
            fontsize=7,
            color="#555555",
            gid="p-note",
        )
    ax.axvline(0, color="#333333", linewidth=0.8)
    ax.set_yticks(positions, [_label(t) for t in rows["term"]], fontsize=7.5)
    ax.set_ylim(-0.6, max(len(rows), 1) - 0.4)
    names = {"g2": "signed G²", "log_ratio": "Log Ratio (log2)", "fw_z": "Fightin' Words z"}
    ax.set_xlabel(f"{names.get(value, value)}: ← {reference} | {target} →")
    if title:
        ax.set_title(title, pad=14 if note else 6)
    return ax


def plot_fightin_words(
    ax, table: pd.DataFrame, *, n_labels: int = 8, target: str = "target", reference: str = "reference", title: str = ""
):
    """Fightin' Words z-scores against total frequency, extremes labelled (Monroe et al. 2008, fig. 5).

    ``table``: rows of :func:`analysis.stats.keyness.keyness`. Points beyond |z| = 1.96 are coloured.
    """
    total = (table["count_a"] + table["count_b"]).to_numpy(dtype=float)
    z = table["fw_z"].to_numpy(dtype=float)
    x = np.log10(np.maximum(total, 1))
    colors = np.where(z > 1.96, TARGET_COLOR, np.where(z < -1.96, REFERENCE_COLOR, "#BBBBBB"))
    ax.scatter(x, z, s=10, c=colors, linewidths=0)
    for bound in (1.96, -1.96):
        ax.axhline(bound, color="#999999", linewidth=0.6, linestyle="--")
    order = table.assign(_z=z).sort_values(["_z", "term"], ascending=[False, True], kind="mergesort")
    labelled = pd.concat([order[order["_z"] > 0].head(n_labels), order[order["_z"] < 0].tail(n_labels)])
    # Most extreme first, so they get the places next to their points; no two labels overlap.
    labelled = labelled.assign(_abs=labelled["_z"].abs()).sort_values(
        ["_abs", "term"], ascending=[False, True], kind="mergesort"
    )
    xs = [math.log10(max(row["count_a"] + row["count_b"], 1)) for _, row in labelled.iterrows()]
    place_labels(ax, xs, labelled["_z"].tolist(), [_label(t) for t in labelled["term"]])
    ax.set_xlabel("log10 total frequency")
    ax.set_ylabel(f"z (← {reference} | {target} →)")
    if title:
        ax.set_title(title)
    return ax


#: A similarity heatmap stays readable (and quick to draw) up to this many documents a side;
#: past it :func:`plot_similarity` draws the most similar pairs instead of the matrix.
MAX_HEATMAP_DOCS = 15
#: Pairs shown when the matrix is too large for a heatmap.
TOP_PAIRS = 20


def similarity_figure_size(n_a: int, n_b: int) -> tuple[float, float]:
    """Width and height (inches) for :func:`plot_similarity` of an ``n_a`` x ``n_b`` matrix."""
    if max(n_a, n_b) > MAX_HEATMAP_DOCS:
        return 7.0, 0.36 * TOP_PAIRS + 1.6  # two-line labels (both documents' titles)
    return max(5.5, 3.5 + 0.6 * n_b), max(3.5, 2.4 + 0.45 * n_a)  # room for titles as tick labels


def top_pairs(matrix: pd.DataFrame, n: int = TOP_PAIRS) -> pd.DataFrame:
    """The ``n`` most similar (row, column) pairs of a similarity matrix (NaN cells are not pairs);
    ties in order of row then column label. Columns ``doc_a, doc_b, cosine``."""
    return top_pairs_of_table(
        matrix.rename_axis(index="doc_a", columns="doc_b").stack().rename("cosine").reset_index(), n
    )


def top_pairs_of_table(long: pd.DataFrame, n: int = TOP_PAIRS) -> pd.DataFrame:
    """:func:`top_pairs` of the long table of pairs (``doc_a, doc_b, cosine``, each pair once)
    the matrix would be pivoted from: the same rows, as the order is total (cosine, then labels).
    The matrix of 8,000 x 2,000 documents, stacked and sorted, took 900 MB.

    Ties: a cosine of 1 means the same concept proportions, which two documents with one concept
    each share at once, so many pairs tie at the top of a real corpus. With a ``shared_concepts``
    column (:func:`analysis.framing.similarity.crosslingual_similarity`) equal cosines are ordered by
    it, more shared concepts first (more evidence of a common subject), then by the labels; the
    other columns are kept.

    >>> long = pd.DataFrame({"doc_a": ["v1", "v2", "v3"], "doc_b": ["e1", "e1", "e2"], "cosine": [1.0, 1.0, 0.9],
    ...     "shared_concepts": [1, 3, 4]})
    >>> top_pairs_of_table(long, 2)[["doc_a", "shared_concepts"]].values.tolist()
    [['v2', 3], ['v1', 1]]
    """
    extra = [c for c in ("shared_concepts", "top_shared", "title_a", "title_b") if c in long.columns]
    long = long[["doc_a", "doc_b", "cosine", *extra]]
    long = long[np.isfinite(long["cosine"].astype(float))]
    long = long.assign(_a=long["doc_a"].astype(str), _b=long["doc_b"].astype(str))
    keys, ascending = ["cosine", "_a", "_b"], [False, True, True]
    if "shared_concepts" in long.columns:
        keys, ascending = ["cosine", "shared_concepts", "_a", "_b"], [False, False, True, True]
    long = long.sort_values(keys, ascending=ascending, kind="mergesort")
    return long.drop(columns=["_a", "_b"]).head(n).reset_index(drop=True)


#: Characters of a document's title shown in a similarity figure's label (the CSV has it whole).
TITLE_CHARS = 48


def document_label(doc_id, title=None, *, chars: int = TITLE_CHARS) -> str:
    """A document as a reader knows it: its title (cut to ``chars`` with "…") and its id in
    brackets to find it in the CSV; the id alone without a title.

    >>> document_label("vi-0067", "Thành lập dự án POLICY phòng chống HIV/AIDS ở VN", chars=20)
    'Thành lập dự án POL… (vi-0067)'
    >>> document_label("e1", float("nan"))
    'e1'
    """
    if title is None or (isinstance(title, float) and math.isnan(title)) or not str(title).strip():
        return str(doc_id)
    text = " ".join(str(title).split())
    if len(text) > chars:
        text = text[: chars - 1].rstrip() + "…"
    return f"{text} ({doc_id})"


#: The similarity figure of a large corpus shows pairs sharing at least this many concepts (when any
#: do): a cosine of 1 between two documents that each name one concept, the same one, says little,
#: and on 400 x 400 news articles such pairs filled 14 of the top 20 places. The CSV has every pair.
MIN_SHARED_CONCEPTS = 2


def plot_top_pairs(
    ax,
    pairs: pd.DataFrame,
    shape: tuple[int, int],
    *,
    title: str = "",
    xlabel: str = "",
    ylabel: str = "",
    min_shared: int = 0,
):
    """Bars of the most similar ``pairs`` (:func:`top_pairs`) of a similarity matrix of ``shape``
    (documents a × documents b): what :func:`plot_similarity` draws past its heatmap size.

    Each bar is labelled by both documents (:func:`document_label`: title and id, ``xlabel`` and
    ``ylabel`` naming their languages), and, with ``shared_concepts``, says on the bar how many
    concepts the pair shares and which weigh most (``top_shared``): a cosine of 1 from one shared
    concept is told apart from one of five. The title says how many pairs there are, the tie rule
    and ``min_shared`` (the pairs were chosen among those sharing at least that many concepts).
    """
    rows = pairs.iloc[::-1]
    ax.barh(range(len(rows)), rows["cosine"].to_numpy(dtype=float), color=TARGET_COLOR)
    name_a, name_b = plot.group_label(ylabel) if ylabel else "", plot.group_label(xlabel) if xlabel else ""
    labels = []
    for _, r in rows.iterrows():
        a = document_label(r["doc_a"], r.get("title_a"))
        b = document_label(r["doc_b"], r.get("title_b"))
        labels.append(f"{name_a + ': ' if name_a else ''}{a}\n{name_b + ': ' if name_b else ''}{b}")
    ax.set_yticks(range(len(rows)), labels, fontsize=6.5)
    ax.set_ylim(-0.6, len(rows) - 0.4)
    if "shared_concepts" in rows.columns:
        for y, (_, r) in enumerate(rows.iterrows()):
            shared = int(r["shared_concepts"]) if pd.notna(r["shared_concepts"]) else 0
            words = str(r["top_shared"]) if "top_shared" in rows.columns and pd.notna(r.get("top_shared")) else ""
            text = f"{shared} shared" + (f": {', '.join(words.split()[:3])}" if words else "")
            ax.text(0.01, y, text, va="center", ha="left", fontsize=6, color="white", gid="shared_concepts")
    ax.set_xlim(0, 1)
    ax.set_xlabel("cosine of concept vectors (1 = the same concept proportions)")
    shown = f"the {len(pairs)} most similar of {shape[0]:,} × {shape[1]:,} document pairs"
    if min_shared > 1:
        shown += f" among those sharing ≥ {min_shared} concepts"
    tie = "; equal cosines: more shared concepts first" if "shared_concepts" in pairs.columns else ""
    ax.set_title(f"{title}: {shown}{tie}" if title else f"{shown}{tie}", fontsize=8)
    return ax


def plot_similarity(
    ax, matrix: pd.DataFrame, *, title: str = "", xlabel: str = "", ylabel: str = "", max_docs: int = MAX_HEATMAP_DOCS
):
    """Heatmap of a (documents a × documents b) similarity matrix, each cell annotated; past
    ``max_docs`` documents a side, bars of the :data:`TOP_PAIRS` most similar pairs instead (a
    600 x 600 heatmap is an unreadable block and took minutes to draw), and the title says so."""
    if max(matrix.shape) > max_docs:
        return plot_top_pairs(ax, top_pairs(matrix), matrix.shape, title=title, xlabel=xlabel, ylabel=ylabel)
    values = matrix.to_numpy(dtype=float)
    # Cells as a mesh of quads, not an image: an image is resampled to the output resolution in
    # float RGBA (30 x 30 documents at 200 dpi took 350 MB to save), quads are drawn as they are.
    image = ax.pcolormesh(
        np.arange(values.shape[1] + 1) - 0.5,
        np.arange(values.shape[0] + 1) - 0.5,
        np.ma.masked_invalid(values),
        vmin=0.0,
        vmax=1.0,
        cmap="Blues",
    )
    ax.set_xlim(-0.5, values.shape[1] - 0.5)
    ax.set_ylim(values.shape[0] - 0.5, -0.5)  # first row on top, as in a table
    ax.set_xticks(range(values.shape[1]), [str(c) for c in matrix.columns], rotation=45, ha="right")
    ax.set_yticks(range(values.shape[0]), [str(i) for i in matrix.index])
    for i in range(values.shape[0]):
        for j in range(values.shape[1]):
            if not np.isnan(values[i, j]):
                ax.text(
                    j,
                    i,
                    f"{values[i, j]:.2f}",
                    ha="center",
                    va="center",
                    fontsize=7,
                    color="white" if values[i, j] > 0.6 else "black",
                )
    ax.figure.colorbar(image, ax=ax, shrink=0.8, label="cosine similarity")
    if xlabel:
        ax.set_xlabel(xlabel)
    if ylabel:
        ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    return ax


# ------------------------------------------------------------------------- whole figures
# ``figure_*(data) -> Figure``: compose a whole figure from a stage's table (draw only).

MAX_PANELS = 9


@plot.styled
def figure_frame_salience(table: pd.DataFrame, family_sizes: dict[str, int], *, n_groups: int, by: str):
    """One panel per frame family: mean salience by group (:func:`analysis.framing.tables.frame_group_table`).

    ``family_sizes`` maps each family (in panel order) to its number of frames.
    """
    families = list(family_sizes)
    height = 0.2 * max(list(family_sizes.values()) or [1]) * max(2, n_groups) + 1.2  # two families of 10: 10.4 in
    fig, axes = plot.new_figure(len(families) or 1, 6.5, height, ncols=1)
    for ax, family in zip(axes, families or [""]):
        rate = next((c for c in table.columns if c.startswith("mean_per_")), "mean_per_1000")
        rows = table[table["family"] == family].rename(columns={rate: "mean"})
        unit = "per 100 sentences" if rate == "mean_per_100_sentences" else "per 1,000 tokens"
        if rows.empty:
            plot_note(ax, "no frames", title=family)
        else:
            plot_frame_salience(ax, rows, title=f"{family} frames by {by}", unit=unit)
    return fig


@plot.styled
def figure_actor_salience(table: pd.DataFrame, *, n_groups: int, by: str, n_actors: int = 15):
    """Mention share by group of the ``n_actors`` most mentioned actors.

    The shares are :func:`analysis.framing.tables.actor_group_table`'s.
    """
    top = list(
        table.groupby("actor", sort=False)["mentions"]
        .sum()
        .sort_values(ascending=False, kind="mergesort")
        .index[:n_actors]
    )
    fig, (ax,) = plot.new_figure(1, 6.5, 0.25 * max(1, len(top)) * max(2, n_groups) + 1.2)
    rows = table[table["actor"].isin(top)].copy()
    if rows.empty:
        plot_note(ax, "no actor is mentioned", title=f"Actor salience by {by}")
    else:
        rows["_order"] = rows["actor"].map({a: i for i, a in enumerate(top)})
        plot_actor_salience(ax, rows.sort_values(["_order"], kind="mergesort"), title=f"Actor salience by {by}")
    return fig


def _flag(comparison, min_docs: int) -> str:
    return " (too small)" if min(comparison.target_docs, comparison.reference_docs) < min_docs else ""


def _with_untested(top: pd.DataFrame, min_docs: int) -> pd.DataFrame:
    """``top`` with ``adjusted_within`` saying which terms were not tested when the comparison tested only
    terms in ``min_docs`` or more documents (a comparison's table has p empty for the others; the full
    table's ``adjusted_within`` says the same)."""
    if min_docs <= 1 or "adjusted_within" in top.columns or "p" not in top.columns:
        return top
    reason = f"not tested: in fewer than {min_docs} documents"
    return top.assign(adjusted_within=np.where(top["p"].isna(), reason, ""))


@plot.styled
def figure_keyness(comparisons, *, top_n: int, min_docs: int, title: str, empty_note: str):
    """Diverging keyness bars, one panel per comparison, at most :data:`MAX_PANELS` panels and
    :data:`analysis.plots.base.MAX_FIGURE_INCHES` tall (the title says how many are left out).

    ``comparisons``: :func:`analysis.stats.keyness.keyness_comparisons`; each panel shows the ``top_n``
    strongest terms each way and says "(too small)" when a group has fewer than ``min_docs``
    documents; with no comparison the figure says ``empty_note``. Bars of terms with document-level
    ``q < 0.05`` are filled, the others hatched; a comparison without a p-value says "no p-value:
    <reason>" (:func:`plot_keyness`).

    >>> from analysis.stats.keyness import keyness_comparisons
    >>> comparisons = keyness_comparisons(np.array([[4, 0], [0, 5]]), ["v1", "e1"], ["hợp_tác", "biển"], {"v1": "vi",
    ...     "e1": "en"}, order=["vi", "en"])
    >>> fig = figure_keyness(comparisons, top_n=5, min_docs=1, title="Keyness by language",
    ...     empty_note="nothing to compare")
    >>> [ax.get_title() for ax in fig.axes], fig._suptitle.get_text()
    (['Vietnamese vs English'], 'Keyness by language')
    >>> plot.close(fig)
    """
    height = 0.14 * 2 * top_n + 1.2  # two-way bars of 15 terms: 5.4 inches, two rows a page
    shown = comparisons[: plot.panels_that_fit(len(comparisons), height, cap=MAX_PANELS)]
    if not shown:
        height = 2.0  # a one-line note needs no room for bars
    fig, axes = plot.new_figure(max(1, len(shown)), 4.2 if shown else 6.0, height, ncols=min(max(1, len(shown)), 3))
    if not shown:
        plot_note(axes[0], empty_note)  # the title is the suptitle below: printed once
    for ax, c in zip(axes, shown):
        top = _with_untested(top_keyness(c.table, top_n), c.min_docs)
        panel = f"{plot.group_label(c.target)} vs {plot.group_label(c.reference)}{_flag(c, min_docs)}"
        if top.empty:
            plot_note(ax, "no term differs", title=panel)
        else:
            plot_keyness(
                ax, top, target=plot.group_label(c.target), reference=plot.group_label(c.reference), title=panel
            )
    if len(comparisons) > len(shown):
        fig.suptitle(f"{title} (first {len(shown)} of {len(comparisons)} comparisons; all in the CSV)")
    else:
        fig.suptitle(title)
    return fig


FIGHTIN_COLUMNS = ["comparison", "term", "count_a", "count_b", "fw_delta", "fw_z"]


def fightin_words_data(comparisons) -> pd.DataFrame:
    """The data of :func:`figure_fightin_words`: its shown comparisons' counts, delta and z."""
    data = [c.table.assign(comparison=c.name)[FIGHTIN_COLUMNS] for c in comparisons[:MAX_PANELS]]
    return pd.concat(data, ignore_index=True) if data else pd.DataFrame(columns=FIGHTIN_COLUMNS)


@plot.styled
def figure_fightin_words(comparisons, *, min_docs: int, title: str, empty_note: str):
    """Fightin' Words z against frequency, one panel per comparison (at most :data:`MAX_PANELS`)."""
    shown = comparisons[:MAX_PANELS]
    fig, axes = plot.new_figure(max(1, len(shown)), 6.0, 4.5, ncols=min(max(1, len(shown)), 3))
    if not shown:
        plot_note(axes[0], empty_note)  # the suptitle names the figure
    for ax, c in zip(axes, shown):
        plot_fightin_words(
            ax,
            c.table,
            target=plot.group_label(c.target),
            reference=plot.group_label(c.reference),
            title=f"{plot.group_label(c.target)} vs {plot.group_label(c.reference)}{_flag(c, min_docs)}",
        )
    fig.suptitle(title)
    return fig


@plot.styled
def figure_similarity(similarity: pd.DataFrame, pair) -> object:
    """Cross-lingual cosines (:func:`analysis.framing.similarity.crosslingual_similarity`): a heatmap up to
    :data:`MAX_HEATMAP_DOCS` documents a side, the most similar pairs past it (see
    :func:`plot_similarity`, :func:`plot_top_pairs`); the table has every kept pair. Documents are
    shown by title (:func:`document_label`) when the table has ``title_a``/``title_b``, languages by name."""
    rows_a = sorted(similarity["doc_a"].unique()) if len(similarity) else []
    rows_b = sorted(similarity["doc_b"].unique()) if len(similarity) else []
    fig, (ax,) = plot.new_figure(1, *similarity_figure_size(len(rows_a), len(rows_b)))
    names = (plot.group_label(pair[0]), plot.group_label(pair[1]))
    heading = f"Most similar {names[0]}–{names[1]} documents by concepts"
    if similarity.empty:
        plot_note(ax, f"needs documents in both {names[0]} and {names[1]}", title="Cross-lingual similarity")
        return fig
    if max(len(rows_a), len(rows_b)) > MAX_HEATMAP_DOCS:  # the bars of plot_similarity, without pivoting the matrix
        pool, min_shared = similarity, 0
        if "shared_concepts" in similarity.columns and (similarity["shared_concepts"] >= MIN_SHARED_CONCEPTS).any():
            pool, min_shared = similarity[similarity["shared_concepts"] >= MIN_SHARED_CONCEPTS], MIN_SHARED_CONCEPTS
        plot_top_pairs(
            ax,
            top_pairs_of_table(pool),
            (len(rows_a), len(rows_b)),
            xlabel=pair[1],
            ylabel=pair[0],
            min_shared=min_shared,
        )
        fig.suptitle(heading)
        return fig
    matrix = similarity.pivot(index="doc_a", columns="doc_b", values="cosine").reindex(index=rows_a, columns=rows_b)
    titles = {}
    for side in ("a", "b"):
        if f"title_{side}" in similarity.columns:
            titles.update(dict(zip(similarity[f"doc_{side}"], similarity[f"title_{side}"])))
    matrix.index = [document_label(d, titles.get(d), chars=28) for d in matrix.index]
    matrix.columns = [document_label(d, titles.get(d), chars=28) for d in matrix.columns]
    plot_similarity(ax, matrix, xlabel=names[1], ylabel=names[0])
    fig.suptitle("Cosine of concept vectors between documents")
    return fig
