"""The explorer page: Bokeh standalone HTML with every script inline, views driven by CustomJS.

Draws what :func:`analysis.stages.explore.explorer_payload` gathered and computes nothing the
study did not: the page's only arithmetic is the same mean of per-document rates over the
documents a filter keeps (``mean_d 100 hits_d / sentences_d`` per language), redone in the
browser when the outlet, event or date filter changes, from per-cell sums (a cell: the
documents of one language, outlet, event and day, which a filter keeps or drops whole), so the
page carries no per-document rows. Every value from the corpus (titles,
outlets, words) reaches the page as data and is escaped before it becomes HTML, so a title
``</script><script>...`` is shown as text.

Bokeh gives each model a random id and each page random element ids; :func:`deterministic_ids`
numbers them from a seed instead, so the same payload gives the same bytes.
"""

from __future__ import annotations

import contextlib
import hashlib
import html
import json
import math
import re
from collections.abc import Iterator, Mapping
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = [
    "COLOURS",
    "ExplorerFrame",
    "cell_columns",
    "deterministic_ids",
    "explorer_html",
    "explorer_layout",
    "show_explorer",
]

#: Colour of each evidence category (the order of :data:`analysis.stages.explore.EVIDENCE`).
COLOURS = {
    "too few documents with hits": "#bdbdbd",
    "not equivalent on translations": "#d62728",
    "significant at the outlet level": "#1f4e9c",
    "significant, documents as units": "#7fb2e5",
    "equivalent on translations": "#2ca02c",
    "undetermined": "#f28e2b",
}
LANGUAGE_COLOURS = {"vi": "#c0392b", "en": "#2c6fbb"}
FONT = "'DejaVu Sans', 'Noto Sans', 'Segoe UI', Arial, sans-serif"
WIDTH = 1240


@contextlib.contextmanager
def deterministic_ids(seed: int | str) -> Iterator[None]:
    """Inside the block, Bokeh's model ids count from ``p1000`` and its page-level ids (document,
    element and script ids, otherwise ``uuid4``) are SHA-256 of ``seed`` and a counter, so a page
    built twice from the same data is byte-identical; the page's JSON keeps non-ASCII characters
    as UTF-8 rather than ``\\uXXXX`` escapes (same data, about half the bytes for Vietnamese).

    >>> from bokeh.models import Div
    >>> with deterministic_ids(1):
    ...     a = Div().id
    >>> with deterministic_ids(1):
    ...     b = Div().id
    >>> a == b
    True
    """
    import bokeh.embed.elements as elements
    import bokeh.embed.util as embed_util
    import bokeh.util.serialization as serialization
    from bokeh.core.json_encoder import PayloadEncoder
    from bokeh.core.serialization import Serialized

    counter = [0]

    def unique() -> str:
        counter[0] += 1
        digest = hashlib.sha256(f"{seed}:{counter[0]}".encode()).hexdigest()
        return f"{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:32]}"

    def css_safe() -> str:
        return "x" + unique()

    def serialize_json(obj, *, pretty=None, indent=None) -> str:
        # Bokeh's encoder with ensure_ascii off: a Vietnamese letter is 2-3 bytes of UTF-8 instead
        # of a 6-byte \uXXXX escape (the page's text is mostly Vietnamese and English words).
        encoder = PayloadEncoder(separators=(",", ":"))
        encoder.ensure_ascii = False
        return encoder.encode(obj.content if isinstance(obj, Serialized) else obj)

    patched = [
        (serialization, "make_globally_unique_id", unique),
        (serialization, "make_globally_unique_css_safe_id", css_safe),
        (embed_util, "make_globally_unique_id", unique),
        (embed_util, "make_globally_unique_css_safe_id", css_safe),
        (elements, "make_globally_unique_css_safe_id", css_safe),
        (elements, "serialize_json", serialize_json),
    ]
    saved = [(module, name, getattr(module, name)) for module, name, _ in patched]
    with serialization._simple_id_lock:
        before = serialization._simple_id
        serialization._simple_id = 999
    try:
        for module, name, value in patched:
            setattr(module, name, value)
        yield
    finally:
        for module, name, value in saved:
            setattr(module, name, value)
        with serialization._simple_id_lock:
            serialization._simple_id = max(before, serialization._simple_id)


def _esc(value) -> str:
    return html.escape(str(value), quote=True)


def _ints(values) -> np.ndarray:
    """Integers in the smallest signed type that holds them (int8, int16 or int32): the page carries
    each array as base64 of its bytes, so a code or count array of small values costs 1-2 bytes a value.

    >>> [_ints(v).dtype.name for v in ([-1, 5], [300], [70_000], [])]
    ['int8', 'int16', 'int32', 'int8']
    """
    out = np.asarray(values, dtype=np.int64)
    for kind in (np.int8, np.int16, np.int32):
        info = np.iinfo(kind)
        if not out.size or (out.min() >= info.min and out.max() <= info.max):
            return out.astype(kind)
    raise ValueError("an integer of the page does not fit in 32 bits")


def cell_columns(cells: pd.DataFrame, cell_hits: pd.DataFrame) -> tuple[dict, dict]:
    """The page's two per-cell data sources (``cells`` and ``hits``) as columns of typed arrays:
    the only data of the page that grows with the corpus (the benchmark sizes them)."""
    return (
        {**{c: _ints(cells[c]) for c in ("lang", "outlet", "event", "docs")}, "day": _float(cells["day"])},
        {
            **{c: _ints(cell_hits[c]) for c in ("item", "cell", "hits", "docs_hit")},
            "rate_sum": cell_hits["rate_sum"].to_numpy(dtype=np.float64),
        },
    )


def _float(values) -> np.ndarray:
    out = np.asarray(values, dtype=np.float64)
    return np.where(np.isfinite(out), out, np.nan)


def _header_html(header: Mapping) -> str:
    counts = " · ".join(
        f"{_esc(lang)}: {n} document{'s' * (n != 1)} in {o} outlet{'s' * (o != 1)}" for lang, n, o in header["counts"]
    )
    dates = (
        f"dates {_esc(header['dates'][0])} to {_esc(header['dates'][1])}"
        + (f" ({header['undated']} undated)" if header["undated"] else "")
        if header["dates"]
        else "no dates"
    )
    small = "".join(f"<li>{_esc(line)}</li>" for line in header["too_small"]) + f"<li>{_esc(header['sparse'])}</li>"
    return (
        f"<div class='vx-head' style='font-family:{FONT};width:{WIDTH - 20}px'>"
        f"<h2 style='margin:0 0 4px 0'>{_esc(header['study'])} <span style='font-weight:normal;font-size:14px'>"
        f"({_esc(header['file'])}) — Vietnamese and English coverage, side by side</span></h2>"
        f"<div>corpus <b>{_esc(header['corpus'])}</b>: {counts}; {dates}; settings sha256 "
        f"<code title='{_esc(header['settings_sha256'])}'>{_esc(header['settings_sha256'][:16])}</code></div>"
        f"<div>rates: {_esc(header['rate'])}; colours: the evidence of each comparison in the whole study "
        "(filters change the counts, not the tests)</div>"
        f"<details open><summary><b>Too small to mean anything</b></summary><ul style='margin:2px 0'>{small}</ul>"
        "</details></div>"
    )


def _topics_html(topics: Mapping) -> str:
    terms = topics["terms"]
    if terms.empty:
        return "<p>No joint topic model (the topics stage fits one when the study has both languages).</p>"
    rows = "".join(
        f"<tr><td>{int(r.topic)}</td><td lang='vi'>{_esc(r.vi)}</td><td lang='en'>{_esc(r.en)}</td></tr>"
        for r in terms.itertuples()
    )
    return (
        f"<div style='font-family:{FONT};font-size:13px'><b>Topics of the joint model</b> (concept-mapped, both "
        "languages): each topic's most probable concepts, shown by their most frequent word in each language"
        "<table class='vx-topics'><tr><th>topic</th><th>Vietnamese</th><th>English</th></tr>"
        f"{rows}</table></div>"
    )


#: The page's own styles: each Bokeh Div draws in its own shadow root, so every Div carries them.
CSS = """
.vx-head code{font-size:12px}
.vx-topics{border-collapse:collapse;margin-top:4px}
.vx-topics td,.vx-topics th{border-bottom:1px solid #ddd;padding:2px 8px;text-align:left;vertical-align:top}
.vx-kwic{display:flex;gap:14px}
.vx-kwic>div{flex:1;min-width:0}
.vx-line{font-size:12.5px;margin:3px 0;line-height:1.35}
.vx-line mark{background:#ffe08a;padding:0 2px}
.vx-meta{color:#666;font-size:11px}
.vx-pat td{padding:0 6px;font-size:12px}
"""


def _scripts() -> dict[str, str]:
    """The callbacks' JavaScript by section (``analysis/resources/explorer.js``): ``prelude``
    (helpers: escaping, the document filter, search normalisation, the detail view), ``update``
    (filters), ``show``, ``tap``, ``search``, ``frame``."""
    from importlib.resources import files

    text = files("analysis.resources").joinpath("explorer.js").read_text(encoding="utf-8")
    sections = re.split(r"^// ---- (\w+)\n", text, flags=re.M)
    return dict(zip(sections[1::2], sections[2::2]))


def _choices(names) -> list[tuple[str, str]]:
    """``(index, label)`` options of a MultiChoice. Bokeh's MultiChoice hands labels to Choices.js,
    which inserts them as HTML (a label ``<img src=x onerror=...>`` runs its script), so each label
    is HTML-escaped here and the value is the name's position, never the name."""
    return [(str(i), _esc(name)) for i, name in enumerate(names)]


def explorer_layout(payload: Mapping):
    """The page's Bokeh layout (models only: nothing is written)."""
    from bokeh.layouts import column, row
    from bokeh.models import (
        CDSView,
        ColumnDataSource,
        CustomJS,
        DateRangeSlider,
        Div,
        FactorRange,
        GroupFilter,
        HoverTool,
        InlineStyleSheet,
        MultiChoice,
        Range1d,
        Select,
        Slope,
        TapTool,
        TextInput,
        Whisker,
    )
    from bokeh.plotting import figure
    from bokeh.transform import factor_cmap

    js = _scripts()
    items = payload["items"].copy()
    docs = payload["docs"]
    positive = items[["rate_vi", "rate_en"]].to_numpy(dtype=float)
    positive = positive[np.isfinite(positive) & (positive > 0)]
    floor = float(positive.min()) / 2 if positive.size else 0.01
    items["x"] = np.where(items["rate_vi"] > 0, items["rate_vi"], floor)
    items["y"] = np.where(items["rate_en"] > 0, items["rate_en"], floor)
    data = {c: (_float(items[c]) if items[c].dtype.kind == "f" else items[c].tolist()) for c in items.columns}
    for c in ("hits_vi", "hits_en", "docs_hit_vi", "docs_hit_en", "docs_vi", "docs_en"):
        data[c] = items[c].to_numpy(dtype=np.int32)
    item_source = ColumnDataSource(data, name="items")
    doc_source = ColumnDataSource(
        {k: (_ints(v) if isinstance(v, np.ndarray) else list(v)) for k, v in docs.items()}, name="docs"
    )
    cells = payload["cells"]
    cell_source, hit_source = (
        ColumnDataSource(columns, name=name)
        for name, columns in zip(("cells", "hits"), cell_columns(cells, payload["cell_hits"]))
    )
    lines = payload["lines"]
    line_source = ColumnDataSource(
        {
            "item": _ints(lines["item"]),
            "doc": _ints(lines["doc"]),
            **{c: lines[c].astype(str).tolist() for c in ("language", "left", "keyword", "right", "pattern")},
        },
        name="lines",
    )
    patterns = payload["patterns"]
    pattern_source = ColumnDataSource(
        {
            "item": patterns["item"].to_numpy(dtype=np.int32),
            "language": patterns["language"].tolist(),
            "pattern": patterns["pattern"].tolist(),
            "hits": patterns["hits"].to_numpy(dtype=np.int32),
            "share": _float(patterns["share"]),
        },
        name="patterns",
    )

    # ---- widgets
    sheet = InlineStyleSheet(css=CSS)
    header = Div(text=_header_html(payload["header"]), disable_math=True, stylesheets=[sheet], name="header")
    outlet_filter = (
        MultiChoice(
            options=_choices(payload["outlets"]),
            value=[],
            title="Outlets (none chosen = all)",
            width=300,
            name="filter-outlet",
        )
        if payload["outlets"]
        else None
    )
    event_filter = (
        MultiChoice(
            options=_choices(payload["events"]),
            value=[],
            title="Events (none chosen = all)",
            width=300,
            name="filter-event",
        )
        if payload["events"]
        else None
    )
    days = cells["day"].to_numpy(dtype=np.float64)
    days = days[np.isfinite(days)]
    date_filter = (
        DateRangeSlider(
            start=float(days.min()),
            end=float(days.max()),
            value=(float(days.min()), float(days.max())),
            step=1,
            title="Dates",
            width=300,
            name="filter-date",
        )
        if days.size and days.max() > days.min()
        else None
    )
    search = TextInput(
        title="Search a word (with or without _, any case)", placeholder="kinh tế", width=300, name="search"
    )
    n_vi, n_en = (int(cells.loc[cells["lang"] == code, "docs"].sum()) for code in (0, 1))
    counts = Div(
        text=f'<span class="vx-counts" data-vi="{n_vi}" data-en="{n_en}">'
        f"documents kept: vi {n_vi} of {n_vi}, en {n_en} of {n_en}</span>",
        disable_math=True,
        stylesheets=[sheet],
        name="counts",
    )
    detail = Div(
        text=f"<div style='font-family:{FONT};font-size:13px;color:#555'>Click a point: the patterns behind its "
        "hits in each language, then its sentences from both languages side by side.</div>",
        width=620,
        height=560,
        styles={"overflow-y": "auto"},
        disable_math=True,
        stylesheets=[sheet],
        name="detail",
    )
    results = Div(text="", width=WIDTH - 20, disable_math=True, stylesheets=[sheet], name="results")

    # ---- concepts and frames on one axis
    factors = [e for e in COLOURS if e in set(items["evidence"])]
    scatter = figure(
        width=600,
        height=560,
        x_axis_type="log",
        y_axis_type="log",
        title="Concepts (circles) and frames (squares): Vietnamese vs English rate per 100 sentences",
        x_axis_label="Vietnamese: mean hits per 100 sentences (0 drawn at the left edge)",
        y_axis_label="English: mean hits per 100 sentences (0 drawn at the bottom)",
        tools="pan,wheel_zoom,box_zoom,reset,save",
        name="concept-plot",
    )
    scatter.add_layout(Slope(gradient=1, y_intercept=0, line_color="#999", line_dash="dashed"))
    cmap = factor_cmap("evidence", palette=[COLOURS[e] for e in factors], factors=factors)
    renderers = []
    for kind, marker, size in (("concept", "circle", 9), ("frame", "square", 12)):
        view = CDSView(filter=GroupFilter(column_name="kind", group=kind))
        renderers.append(
            scatter.scatter(
                "x",
                "y",
                source=item_source,
                view=view,
                marker=marker,
                size=size,
                fill_color=cmap,
                line_color="#333" if kind == "frame" else None,
                fill_alpha=0.8,
                legend_field="evidence",
                nonselection_fill_alpha=0.2,
                name=f"{kind}-marks",
            )
        )
    scatter.legend.title = "evidence (whole study)"
    scatter.legend.location = "top_left"
    scatter.legend.label_text_font_size = "11px"
    scatter.add_tools(
        HoverTool(
            renderers=renderers,
            tooltips=[
                ("", "@label (@kind)"),
                ("vi", "@rate_vi{0.00} per 100 sentences; @hits_vi hits in @docs_hit_vi of @docs_vi documents"),
                ("en", "@rate_en{0.00} per 100 sentences; @hits_en hits in @docs_hit_en of @docs_en documents"),
                ("test", "p @p{0.000}, q @q{0.000} (@unit)"),
                ("translations", "@equivalence; vi/en @ratio{0.00} [@ratio_low{0.00}, @ratio_high{0.00}] (90%)"),
                ("evidence", "@evidence"),
            ],
        ),
        TapTool(renderers=renderers),
    )

    # ---- frames by language and outlet
    groups = payload["groups"]
    labels = list(dict.fromkeys(groups["group"])) or ["vi", "en"]
    group_source = ColumnDataSource(
        {
            "item": groups["item"].tolist(),
            "label": groups["group"].tolist(),
            "mean": _float(groups["mean"]),
            "ci_low": _float(groups["ci_low"]),
            "ci_high": _float(groups["ci_high"]),
            "n_docs": groups["n_docs"].to_numpy(dtype=np.int32),
            "docs_with_hits": groups["docs_with_hits"].to_numpy(dtype=np.int32),
            "note": groups["note"].astype(str).tolist(),
            "colour": [
                LANGUAGE_COLOURS.get(g, "#555") if k == "language" else "#777"
                for g, k in zip(groups["group"], groups["group_kind"])
            ],
        },
        name="groups",
    )
    frame_items = items[items["kind"] == "frame"]
    options = list(zip(frame_items["key"], frame_items["label"]))
    frame_select = Select(
        options=options, value=options[0][0] if options else "", title="Frame", width=300, name="frame-select"
    )
    frame_rows = ColumnDataSource(
        {k: [] for k in ("y", "mean", "ci_low", "ci_high", "colour", "note", "n_docs", "docs_with_hits")}
    )
    frame_plot = figure(
        width=600,
        height=max(220, 40 + 26 * len(labels)),
        y_range=FactorRange(factors=labels[::-1]),
        title="Frame by language and outlet (whole study, 95% intervals)",
        x_axis_label="mean hits per 100 sentences",
        tools="hover,save",
        tooltips=[
            ("", "@y"),
            ("mean", "@mean{0.00} [@ci_low{0.00}, @ci_high{0.00}]"),
            ("documents", "@docs_with_hits with hits of @n_docs"),
            ("note", "@note"),
        ],
        name="frame-plot",
    )
    frame_plot.add_layout(Whisker(source=frame_rows, base="y", lower="ci_low", upper="ci_high", dimension="width"))
    frame_plot.scatter("mean", "y", source=frame_rows, size=10, color="colour")
    frame_js = CustomJS(
        args=dict(groups=group_source, frame_rows=frame_rows, frame_select=frame_select, frame_plot=frame_plot),
        code=js["frame"],
    )
    frame_select.js_on_change("value", frame_js)
    _fill_frame_rows(frame_rows, groups, options[0][0] if options else "")
    if options:
        frame_plot.title.text += ": " + options[0][1]

    # ---- over time
    time_vi = time_en = time_plot = None
    if days.size:
        time_plot = figure(
            width=600,
            height=300,
            x_axis_type="datetime",
            title="Documents per month by language (click a point for its rate over time)",
            tools="hover,save",
            tooltips=[("month", "@x{%Y-%m}"), ("value", "@y{0.00}")],
            name="time-plot",
        )
        time_plot.hover.formatters = {"@x": "datetime"}
        time_vi = ColumnDataSource({"x": [], "y": []}, name="time-vi")
        time_en = ColumnDataSource({"x": [], "y": []}, name="time-en")
        for source, lang in ((time_vi, "vi"), (time_en, "en")):
            time_plot.line("x", "y", source=source, color=LANGUAGE_COLOURS[lang], legend_label=lang, line_width=2)
            time_plot.scatter("x", "y", source=source, color=LANGUAGE_COLOURS[lang], size=6)
        time_plot.legend.location = "top_left"
        _fill_months(time_vi, time_en, cells)
    time_box = (
        time_plot if time_plot is not None else Div(text="<p>No dates in the corpus: no view over time.</p>", width=600)
    )

    # ---- topics
    topics = payload["topics"]
    prevalence = topics["prevalence"]
    topic_div = Div(text=_topics_html(topics), width=600, disable_math=True, stylesheets=[sheet], name="topics")
    topic_plot = None
    if not prevalence.empty:
        keys = [(f"topic {int(t)}", lang) for t, lang in zip(prevalence["topic"], prevalence["language"])]
        topic_source = ColumnDataSource(
            {
                "key": keys,
                "prevalence": _float(prevalence["prevalence"]),
                "ci_low": _float(prevalence["ci_low"]),
                "ci_high": _float(prevalence["ci_high"]),
                "colour": [LANGUAGE_COLOURS.get(lang, "#777") for lang in prevalence["language"]],
            }
        )
        order = sorted(set(keys), key=lambda k: (int(k[0].split()[1]), k[1] != "vi"))
        topic_plot = figure(
            width=600,
            height=max(200, 30 + 22 * len(order)),
            y_range=FactorRange(factors=order[::-1]),
            x_range=Range1d(0, 1),
            title="Topic prevalence by language (joint model, 95% intervals)",
            tools="hover,save",
            tooltips=[("", "@key"), ("prevalence", "@prevalence{0.000} [@ci_low{0.000}, @ci_high{0.000}]")],
            name="topic-plot",
        )
        topic_plot.hbar(y="key", right="prevalence", height=0.7, source=topic_source, color="colour")
        topic_plot.add_layout(
            Whisker(source=topic_source, base="key", lower="ci_low", upper="ci_high", dimension="width")
        )

    # ---- callbacks
    args = dict(
        docs=doc_source,
        cells=cell_source,
        items=item_source,
        hits=hit_source,
        lines=line_source,
        patterns=pattern_source,
        outlet_filter=outlet_filter,
        event_filter=event_filter,
        date_filter=date_filter,
        outlets=list(payload["outlets"]),
        events=list(payload["events"]),
        aliases=json.dumps(payload["aliases"], ensure_ascii=False),
        detail=detail,
        counts=counts,
        results=results,
        search=search,
        frame_select=frame_select,
        time_vi=time_vi,
        time_en=time_en,
        time_plot=time_plot,
        font=FONT,
    )
    prelude = js["prelude"] + js["show"]
    update = CustomJS(args=args, code=prelude + js["update"])
    for widget in (outlet_filter, event_filter, date_filter):
        if widget is not None:
            widget.js_on_change("value", update)
    item_source.selected.js_on_change("indices", CustomJS(args=args, code=prelude + js["tap"]))
    search.js_on_change("value_input", CustomJS(args=args, code=prelude + js["search"]))

    filters = [w for w in (outlet_filter, event_filter, date_filter, search) if w is not None]
    return column(
        header,
        row(*filters),
        counts,
        results,
        row(scatter, detail),
        row(column(frame_select, frame_plot), time_box),
        row(topic_div, topic_plot) if topic_plot is not None else topic_div,
        name="explorer",
    )


def _fill_frame_rows(source, groups: pd.DataFrame, key: str) -> None:
    mine = groups[groups["item"] == key.partition(":")[2]]
    source.data = {
        "y": mine["group"].tolist(),
        "mean": _float(mine["mean"]),
        "ci_low": _float(mine["ci_low"]),
        "ci_high": _float(mine["ci_high"]),
        "colour": [
            LANGUAGE_COLOURS.get(g, "#555") if k == "language" else "#777"
            for g, k in zip(mine["group"], mine["group_kind"])
        ],
        "note": mine["note"].astype(str).tolist(),
        "n_docs": mine["n_docs"].to_numpy(dtype=np.int32),
        "docs_with_hits": mine["docs_with_hits"].to_numpy(dtype=np.int32),
    }


def _fill_months(time_vi, time_en, cells: pd.DataFrame) -> None:
    """Documents per month and language (the time view before a point is clicked), from the filter cells."""
    day = cells["day"].to_numpy(dtype=float)
    lang = cells["lang"].to_numpy()
    docs = cells["docs"].to_numpy()
    ok = np.isfinite(day) & (lang < 2)
    stamps = pd.to_datetime(day[ok], unit="ms")
    month = np.asarray(stamps.year * 12 + (stamps.month - 1))
    first, last = int(month.min()), int(month.max())
    for source, code in ((time_vi, 0), (time_en, 1)):
        xs, ys = [], []
        for m in range(first, last + 1):
            n = int(docs[ok][(month == m) & (lang[ok] == code)].sum())
            xs.append(float(pd.Timestamp(year=m // 12, month=m % 12 + 1, day=1).value / 1e6))
            ys.append(float(n) if n else math.nan)
        source.data = {"x": xs, "y": ys}


def explorer_html(payload: Mapping, *, seed: int | str = 0) -> str:
    """The standalone page (Bokeh ``file_html`` with ``bokeh.resources.INLINE``: every script in
    the file, no network), with ids numbered from ``seed`` (:func:`deterministic_ids`)."""
    from bokeh.embed import file_html
    from bokeh.resources import INLINE

    with deterministic_ids(seed):
        layout = explorer_layout(payload)
        page = file_html(layout, resources=INLINE, title=f"Explorer: {_esc(payload['header']['study'])}")
    return page


class ExplorerFrame:
    """An explorer page shown inline by Jupyter (``_repr_html_``): an ``<iframe>`` whose ``srcdoc``
    is the page itself, so it works wherever the notebook runs, with no server path to the file.
    ``data`` is that HTML."""

    def __init__(self, page: str, height: int):
        self.data = (
            f'<iframe srcdoc="{html.escape(page, quote=True)}" style="width:100%;height:{int(height)}px;border:0" '
            'sandbox="allow-scripts"></iframe>'
        )

    def _repr_html_(self) -> str:
        return self.data


def show_explorer(path: str | Path, height: int = 1000) -> ExplorerFrame:
    """Show the explorer page ``make`` wrote (``figures/explorer.html``) inline in a notebook.

    >>> try:
    ...     show_explorer("no/such/explorer.html")
    ... except Exception as error:
    ...     print(error.fix)
    run `make` (or `python -m analysis explore`) first
    """
    from ..errors import InputError

    path = Path(path)
    if not path.is_file():
        raise InputError(path, "no explorer page here", "run `make` (or `python -m analysis explore`) first")
    return ExplorerFrame(path.read_text(encoding="utf-8"), height)


#: Chromium flags that keep the browser from reaching anything: no proxy that answers (loopback
#: included), no background traffic. The page is opened from disk, so it must need no network.
OFFLINE_CHROMIUM_FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--proxy-server=127.0.0.1:9",
    "--proxy-bypass-list=<-loopback>",
)


def offline_chromium(*, width: int, height: int, logging: dict | None = None, extra: tuple[str, ...] = ()):
    """Headless Chromium driven by selenium with every network request blocked (the flags above and
    CDP ``Network.setBlockedURLs``), in a fresh profile folder: ``(driver, profile)``; the caller quits
    the driver and removes the profile. ``logging``: selenium's ``goog:loggingPrefs`` (browser console,
    performance log). Needs Chromium, chromedriver and selenium (the test extra)."""
    import shutil
    import tempfile

    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="vx-chromium-")
    options = webdriver.ChromeOptions()
    for flag in (*OFFLINE_CHROMIUM_FLAGS, *extra, f"--window-size={width},{height}", f"--user-data-dir={profile}"):
        options.add_argument(flag)
    options.binary_location = next(
        (shutil.which(name) for name in ("chromium", "chromium-browser", "google-chrome") if shutil.which(name)), ""
    )
    if logging:
        options.set_capability("goog:loggingPrefs", logging)
    driver = webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=options)
    driver.execute_cdp_cmd("Network.enable", {})
    driver.execute_cdp_cmd("Network.setBlockedURLs", {"urls": ["*://*"]})
    return driver, profile


def screenshot(page: str | Path, png: str | Path, *, width: int = 1300, height: int = 1900) -> bytes:
    """A PNG of the page in headless Chromium (network blocked), with the concept that has the
    most hits selected, so the picture shows its patterns and lines: the README's screenshot
    (``make docs``). Needs Chromium, chromedriver and selenium (the test extra)."""
    import shutil
    import time

    driver, profile = offline_chromium(width=width, height=height, extra=("--hide-scrollbars",))
    try:
        driver.get(Path(page).resolve().as_uri())
        end = time.monotonic() + 30
        while time.monotonic() < end and not driver.execute_script(
            "return !!(window.Bokeh && Bokeh.documents.length && [...Bokeh.index.all_views()].length > 50)"
        ):
            time.sleep(0.1)
        driver.execute_script(
            "const items = Bokeh.documents[0].get_model_by_name('items'), d = items.data;"
            "const total = (i) => d.hits_vi[i] + d.hits_en[i];"
            "let best = 0; for (let i = 0; i < d.key.length; i++)"
            "  if (d.kind[i] === 'concept' && total(i) > total(best)) best = i;"
            "items.selected.indices = [best];"
        )
        time.sleep(1.0)
        data = driver.get_screenshot_as_png()
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)
    return data


if __name__ == "__main__":  # make docs: python -m analysis.plots.explorer figures/explorer.html docs/explorer.png
    import sys

    from ..files import write_bytes

    write_bytes(Path(sys.argv[2]), screenshot(sys.argv[1], sys.argv[2]))
