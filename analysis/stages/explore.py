"""Stage ``explore``: one self-contained HTML page to read the study, from a concept down to its sentences.

Read (the prepared corpus, the codebook, and the tables the ``framing``, ``equivalence`` and ``topics``
stages wrote) -> gather a compact payload (:func:`explorer_payload`: numbers the views need, the
sums of every concept and frame per filter cell (:func:`filter_cells`, :func:`cell_sums`), a bounded
sample of concordance lines) -> draw it with
Bokeh (:func:`analysis.plots.explorer.explorer_html`) -> write ``explorer.html`` through the one
writer. The page opens from disk with no server and no network.

Rates are the toolkit's cross-language rate: the mean over documents of hits per 100 sentences
(sentences survive translation, tokens do not; :func:`analysis.framing.equivalence.group_rate`), as
``frame_salience_by_language`` reports it, so a point of the page and a row of that table agree.
Each item's colour is the evidence the study has about its vi/en comparison (:func:`evidence`).
"""

from __future__ import annotations

import hashlib
import json
import math
import zlib
from array import array
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import numpy as np
import pandas as pd

from ..errors import InputError
from ..framing.codebook import Codebook, release_key_cache
from ..framing.equivalence import SHOWN_EQUIVALENT, SHOWN_NOT_EQUIVALENT
from ..framing.measures import annotate
from ..plots import explorer as plot
from ..prepared import PreparedStudy, load_codebook, prepared_corpus
from ..stats.groups import MIN_DOCS_WITH_HITS, group_means
from ..study.outputs import EXPLORER_PAGE
from ..study.settings import FramingSettings, Study, source_keys
from ..text.normalize import canonical_term, segmenter_style
from .results import Raw, write_results

__all__ = ["EVIDENCE", "cell_sums", "evidence", "explorer", "explorer_payload", "filter_cells", "gather", "run_explore"]

#: Concordance lines kept per item and language (a bounded sample: the page stays small at any corpus size).
LINES_PER_SIDE = 8
#: q below which a comparison is called significant.
ALPHA = 0.05

SPARSE = "too few documents with hits"
NOT_EQUIVALENT = "not equivalent on translations"
OUTLET_LEVEL = "significant at the outlet level"
DOCUMENT_LEVEL = "significant, documents as units"
EQUIVALENT = "equivalent on translations"
UNDETERMINED = "undetermined"
#: Evidence categories, in the order they are decided (:func:`evidence`) and shown in the legend.
EVIDENCE = (SPARSE, NOT_EQUIVALENT, OUTLET_LEVEL, DOCUMENT_LEVEL, EQUIVALENT, UNDETERMINED)

#: What the page reads from the other stages: file (``{by}`` filled in), its stage, the columns used.
INPUTS = {
    "keyness_concepts_by_{by}.csv": ("framing", ("group_a", "group_b", "term", "p", "q", "design")),
    "frame_tests_by_{by}.csv": ("framing", ("frame", "group_a", "group_b", "difference", "p", "q", "p_unit")),
    "design_summary_by_{by}.csv": ("framing", ("group", "documents", "note")),
    "codebook_pattern_sources.csv": ("equivalence", ("kind", "entry", "language", "pattern", "hits", "share")),
    "topic_terms.csv": ("topics", ("model", "topic", "ranking", "rank", "term", "probability")),
    "topic_prevalence_by_language.csv": ("topics", ("model", "group", "topic", "prevalence", "ci_low", "ci_high")),
}
#: Read when the study names a translated sample (``[equivalence] parallel``).
EQUIVALENCE_INPUT = ("equivalence_by_entry.csv", "equivalence", ("kind", "entry", "status", "ratio", "ci90_low"))


# ------------------------------------------------------------------------------------ reading


def read_output(out: Path, name: str, stage: str, columns: Iterable[str]) -> pd.DataFrame:
    """A CSV another stage wrote, with the columns the page needs; one clear :class:`InputError` if not.

    Why: the page is drawn from the study's own numbers, so a missing or stale table is named with
    the stage that writes it rather than drawn from something else.
    """
    path = out / name
    fix = f"run `python -m analysis {stage}` (or `make`) first"
    if not path.is_file():
        raise InputError(path, f"missing: the explorer reads the {stage} stage's table", fix)
    try:
        table = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise InputError(path, f"cannot be read as a CSV table ({type(exc).__name__})", fix) from None
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise InputError(
            path, f"has no column {', '.join(repr(c) for c in missing)}", f"{fix}: it is from an older run"
        )
    return table


def _number(value) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def study_outputs(study: Study) -> dict[str, pd.DataFrame]:
    """Every table the page reads (:data:`INPUTS`), by stem; raises before anything is computed."""
    if not {"vi", "en"} <= set(study.corpus.languages):
        raise InputError(
            study.source,
            "[corpus] languages: the explorer compares Vietnamese and English and this study does not have both",
            'list both: languages = ["vi", "en"]',
        )
    by = study.framing.compare_by
    tables = {}
    for template, (stage, columns) in INPUTS.items():
        key = template.split(".")[0].replace("_by_{by}", "")
        tables[key] = read_output(study.output_dir, template.format(by=by), stage, columns)
    if study.equivalence.parallel:
        name, stage, columns = EQUIVALENCE_INPUT
        tables["equivalence_by_entry"] = read_output(study.output_dir, name, stage, columns)
    return tables


# ---------------------------------------------------------------------------------- gathering


@dataclass
class Gathered:
    """Per-document counts and concordance lines of every concept and frame.

    ``items``: ``key, kind, family, id, label`` (concepts then frames, codebook order); ``hits``:
    ``item, doc, n`` (one row per item and document with a hit, sorted); ``sentences``: sentences
    per document in corpus order; ``lines``: the sampled concordance lines ``item, language, doc,
    left, keyword, right, pattern`` (tokens joined by spaces, ``_`` inside a token).
    """

    items: pd.DataFrame
    hits: pd.DataFrame
    sentences: np.ndarray
    lines: pd.DataFrame


def _token(token: str) -> str:
    # One token, one run of non-space characters: "East Sea" (a merged English name) -> "East_Sea".
    return "_".join(token.split())


def gather(
    prepared, rules, codebook: Codebook, *, window: int, lines_per_side: int = LINES_PER_SIDE, seed: int = 0
) -> Gathered:
    """Hits of every concept and frame per document, and a bounded, seeded sample of their lines.

    Documents are read one at a time (annotated, counted, then dropped), so memory holds the
    counts and at most ``4 * lines_per_side`` candidate lines per item and language. The sample
    prefers spread over documents: a line's priority is (its rank among the item's hits in its
    document, a CRC32 of ``seed``, item, document and position), the smallest first, so the first
    hit of each document comes before any second hit, and two runs keep the same lines.

    Parameters
    ----------
    prepared : iterable of PreparedDocument
    rules : TermRules
    codebook : Codebook
    window : int
        Tokens of context either side of a hit, within its sentence.
    lines_per_side : int
        Lines kept per item and language.
    seed : int

    Examples
    --------
    >>> from analysis.framing.codebook import parse_codebook
    >>> from analysis.text.tokens import PreparedDocument, TermRules
    >>> cb = parse_codebook("concepts:\\n  economy: {vi: [kinh_tế], en: [economy]}\\n")
    >>> doc = PreparedDocument("v1", "vi", [[["Hợp_tác", "kinh_tế", "."], ["Kinh_tế", "tăng", "."]]])
    >>> g = gather([doc], TermRules({}), cb, window=2)
    >>> g.hits.to_dict("records"), g.sentences.tolist()
    ([{'item': 0, 'doc': 0, 'n': 2}], [2])
    >>> g.lines[["left", "keyword", "right"]].values.tolist()
    [['Hợp_tác', 'kinh_tế', '.'], ['', 'Kinh_tế', 'tăng .']]
    """
    entries = [("concept", e) for e in (*codebook.concepts, *codebook.actors)] + [("frame", e) for e in codebook.frames]
    items = pd.DataFrame(
        [(f"{kind}:{e.id}", kind, e.family if kind == "frame" else "", e.id, e.label) for kind, e in entries],
        columns=["key", "kind", "family", "id", "label"],
    ).drop_duplicates("key", ignore_index=True)  # an actor is on the concept axis once
    index = {key: i for i, key in enumerate(items["key"])}
    # Hit rows in typed buffers (8 bytes a value, not a Python tuple per row): millions of rows at 100k documents.
    hit_item, hit_doc, hit_n = array("q"), array("q"), array("q")
    sentences: list[int] = []
    candidates: dict[tuple[int, str], list] = {}
    keep = 4 * lines_per_side
    for d, doc in enumerate(prepared):
        a = annotate(doc, rules, codebook)
        sentences.append(len(a.keys))
        tokens = None
        counts: dict[int, int] = {}
        groups = [("concept", a.concepts)] + [("frame", hits) for hits in a.frames.values()]
        for kind, per_sentence in groups:
            for s, hits in enumerate(per_sentence):
                for h in hits:
                    item = index.get(f"{kind}:{h.entry}")
                    if item is None:
                        continue
                    rank = counts.get(item, 0)
                    counts[item] = rank + 1
                    bucket = candidates.setdefault((item, a.language), [])
                    priority = (rank, zlib.crc32(f"{seed}:{item}:{doc.doc_id}:{s}:{h.start}".encode("utf-8")))
                    if len(bucket) >= keep and priority >= bucket[-1][0]:
                        continue
                    if tokens is None:
                        tokens = [[_token(t) for t in sentence] for sentence in doc.sentences()]
                    sentence = tokens[s]
                    bucket.append(
                        (
                            priority,
                            (
                                item,
                                a.language,
                                d,
                                " ".join(sentence[max(0, h.start - window) : h.start]),
                                " ".join(sentence[h.start : h.end]),
                                " ".join(sentence[h.end : h.end + window]),
                                h.pattern,
                            ),
                        )
                    )
                    if len(bucket) > 2 * keep:
                        bucket.sort(key=lambda c: c[0])
                        del bucket[keep:]
        hit_item.extend(counts.keys())
        hit_doc.extend([d] * len(counts))
        hit_n.extend(counts.values())
    hits = pd.DataFrame(
        {"item": np.asarray(hit_item, np.int64), "doc": np.asarray(hit_doc, np.int64), "n": np.asarray(hit_n, np.int64)}
    ).sort_values(["item", "doc"], ignore_index=True, kind="stable")
    lines = [
        line for key in sorted(candidates) for _, line in sorted(candidates[key], key=lambda c: c[0])[:lines_per_side]
    ]
    line_frame = pd.DataFrame(lines, columns=["item", "language", "doc", "left", "keyword", "right", "pattern"])
    return Gathered(items, hits.astype(np.int64), np.asarray(sentences, dtype=np.int64), line_frame)


# ---------------------------------------------------------------------------------- evidence


def evidence(docs_with_hits_vi: int, docs_with_hits_en: int, q: float, unit: str, equivalence: str) -> str:
    """The evidence the study has about one item's vi/en comparison, as one of :data:`EVIDENCE`.

    Decided in order: fewer than :data:`~analysis.stats.groups.MIN_DOCS_WITH_HITS` documents with
    hits in a language (its interval under-covers whatever the number of documents, so nothing
    else is read); shown not equivalent on translations (the instrument itself differs between the
    languages: a difference cannot be read as coverage); q < 0.05 with whole outlets permuted
    (``unit`` ``outlets``: the primary test when languages are unions of outlets) or with documents
    permuted; shown equivalent on translations (TOST, Lakens 2017) with no significant difference;
    otherwise undetermined.

    >>> evidence(2, 9, 0.01, "outlets", "")
    'too few documents with hits'
    >>> evidence(6, 9, 0.01, "outlets", "shown equivalent"), evidence(6, 9, 0.01, "documents", "")
    ('significant at the outlet level', 'significant, documents as units')
    >>> evidence(6, 9, 0.4, "outlets", "shown equivalent"), evidence(6, 9, float("nan"), "none", "")
    ('equivalent on translations', 'undetermined')
    """
    if min(docs_with_hits_vi, docs_with_hits_en) < MIN_DOCS_WITH_HITS:
        return SPARSE
    if equivalence == SHOWN_NOT_EQUIVALENT:
        return NOT_EQUIVALENT
    if q < ALPHA:
        return OUTLET_LEVEL if unit in ("outlets", "clusters") else DOCUMENT_LEVEL
    if equivalence == SHOWN_EQUIVALENT:
        return EQUIVALENT
    return UNDETERMINED


def _column(docvars: pd.DataFrame, name: str) -> list[str]:
    if name not in docvars.columns:
        return [""] * len(docvars)
    return ["" if v is None or (isinstance(v, float) and math.isnan(v)) else str(v) for v in docvars[name]]


def _days(dates: list[str]) -> np.ndarray:
    """Milliseconds since 1970 of ISO dates (NaN when missing), the unit of Bokeh's date axes."""
    parsed = pd.to_datetime(pd.Series(dates, dtype=object).replace("", None), errors="coerce", format="ISO8601")
    return np.array([t.value / 1e6 if not pd.isna(t) else np.nan for t in parsed], dtype=np.float64)


def _safe_url(url: str) -> str:
    """Only ``http`` and ``https`` links are kept (a ``javascript:`` URL in the metadata is not a link)."""
    return url if url.lower().startswith(("http://", "https://")) else ""


def _shown(term: str) -> str:
    return term.replace("_", " ")


def search_key(text: str) -> str:
    """The toolkit's normalisation of a word for search: NFC, Vietnamese tone marks, lower case,
    spaces as ``_`` (:func:`analysis.text.normalize.canonical_term`), so ``Kinh tế`` is ``kinh_tế``.

    >>> search_key("Kinh tế"), search_key("East Sea")
    ('kinh_tế', 'east_sea')
    """
    return "_".join(canonical_term(text, "vi").split())


def tone_aliases(keys: Iterable[str]) -> dict[str, str]:
    """Other spellings of the syllables in ``keys`` that mean the same syllable: the segmenter's
    tone placement (``hoà``, ``thuỷ``) -> the canonical one (``hòa``, ``thủy``), computed by
    :func:`analysis.text.normalize.segmenter_style`, so the page's search treats both as one.

    >>> tone_aliases(["hòa_bình", "kinh_tế"])
    {'hoà': 'hòa'}
    """
    out = {}
    for key in keys:
        for syllable in key.replace(" ", "_").split("_"):
            other = segmenter_style(syllable)
            if other != syllable:
                out[other] = syllable
    return dict(sorted(out.items()))


def filter_cells(
    lang: np.ndarray, outlet: np.ndarray, event: np.ndarray, day: np.ndarray
) -> tuple[pd.DataFrame, np.ndarray]:
    """Documents grouped into the page's filter cells: one cell per (language, outlet, event, day).

    Why: the page's filters (outlets, events, a date range in whole days) keep or drop whole
    cells, never part of one, so any sum over the documents a filter keeps is the sum of the kept
    cells' sums, exactly. The page carries cells instead of documents: its size grows with
    languages x outlets x events x days present, which stops growing once every outlet writes
    on most days, instead of with the number of documents.

    Returns ``cells`` (``lang, outlet, event, day, docs``; codes as in the page, ``day`` in ms
    since 1970 or NaN when undated; sorted by those columns, undated last) and the cell of each
    document.

    >>> cells, of = filter_cells(np.array([1, 0, 0, 0]), np.array([0, 1, 1, 1]), np.array([-1, 0, 0, 0]),
    ...                          np.array([86_400_000.0, 0.0, 0.0, np.nan]))
    >>> cells.values.tolist(), of.tolist()
    ([[0.0, 1.0, 0.0, 0.0, 2.0], [0.0, 1.0, 0.0, nan, 1.0], [1.0, 0.0, -1.0, 86400000.0, 1.0]], [2, 0, 0, 1])
    """
    frame = pd.DataFrame({"lang": lang, "outlet": outlet, "event": event, "day": np.asarray(day, dtype=np.float64)})
    keys = ["lang", "outlet", "event", "day"]
    of = frame.groupby(keys, sort=True, dropna=False).ngroup().to_numpy(dtype=np.int64)
    first = np.unique(of, return_index=True)[1]
    cells = frame.iloc[first].reset_index(drop=True).assign(docs=np.bincount(of))
    return cells, of


def cell_sums(hits: pd.DataFrame, cell_of: np.ndarray, rate: np.ndarray) -> pd.DataFrame:
    """Per item and filter cell (:func:`filter_cells`) with a hit: the sum over its documents of
    hits per 100 sentences (``rate_sum``), the hits and the documents with hits (``docs_hit``).

    ``hits`` has ``item, doc, n`` (one row per item and document with a hit) and ``rate`` is each
    row's hits per 100 sentences. For any filter, an item's rate in a language is
    ``sum(rate_sum) / sum(docs)`` over the kept cells of that language: the mean over the kept
    documents of that language, the toolkit's cross-language rate. Sorted by item then cell.

    >>> hits = pd.DataFrame({"item": [0, 0, 1], "doc": [0, 1, 1], "n": [1, 3, 2]})
    >>> cell_sums(hits, np.array([5, 5]), np.array([50.0, 100.0, 40.0])).values.tolist()
    [[0.0, 5.0, 150.0, 4.0, 2.0], [1.0, 5.0, 40.0, 2.0, 1.0]]
    """
    frame = pd.DataFrame(
        {
            "item": hits["item"].to_numpy(dtype=np.int64),
            "cell": cell_of[hits["doc"].to_numpy(dtype=np.int64)],
            "rate_sum": np.asarray(rate, dtype=np.float64),
            "hits": hits["n"].to_numpy(dtype=np.int64),
            "docs_hit": 1,
        }
    )
    return frame.groupby(["item", "cell"], sort=True).sum().reset_index()


def explorer_payload(
    ps: PreparedStudy, codebook: Codebook, tables: dict[str, pd.DataFrame], *, gathered: Gathered | None = None
) -> dict:
    """Everything the page shows, as plain lists and numpy arrays (the compact data of the page).

    Keys: ``header`` (study, corpus, settings hash, what is too small), ``cells`` (the filter
    cells: language, outlet and event codes, day, documents; :func:`filter_cells`), ``cell_hits``
    (per item and cell with a hit: sums of rates, hits, documents with hits; :func:`cell_sums`),
    ``docs`` (only the documents a concordance line cites: id, cell, date, outlet, title, link),
    ``items`` (per concept and frame: label, rates, counts, the study's test and equivalence
    status, evidence), ``patterns``, ``lines``, ``groups`` (frames by language and outlet with
    intervals), ``topics``, ``aliases`` (tone spellings for the search). Nothing in it grows
    with the number of documents except through the cells; memory holds the hit rows and one
    frame's per-document values at a time, never an item x document matrix. ``gathered``: the
    :func:`gather` of this corpus, when the caller has it already (the benchmark does).
    """
    study = ps.study
    docvars = ps.docvars
    g = gathered or gather(ps.prepared, ps.rules, codebook, window=study.frequencies.kwic_window, seed=study.run.seed)
    release_key_cache()  # the token keys of the vocabulary (up to 500,000): not needed past annotation
    doc_ids = [str(d.doc_id) for d in ps.prepared]
    meta = docvars.loc[doc_ids]
    language = np.array(_column(meta, "language"), dtype=object)
    outlets = _column(meta, "outlet")
    events = _column(meta, "event")
    outlet_names = sorted(set(outlets) - {""})
    event_names = sorted(set(events) - {""})
    lang_code = np.array([0 if x == "vi" else 1 if x == "en" else 2 for x in language], dtype=np.int64)
    hit_item, hit_doc, hit_n = (g.hits[c].to_numpy(dtype=np.int64) for c in ("item", "doc", "n"))
    sentences = g.sentences[hit_doc]
    hit_rate = np.where(sentences > 0, 100.0 * hit_n / np.maximum(sentences, 1), 0.0)
    m = len(g.items)
    # Per item and language: sum of hits per 100 sentences, hits, documents with hits (the hit rows, no matrix).
    per_language = {}
    for code, lang in enumerate(("vi", "en")):
        mine = lang_code[hit_doc] == code
        per_language[lang] = (
            np.bincount(hit_item[mine], weights=hit_rate[mine], minlength=m),
            np.bincount(hit_item[mine], weights=hit_n[mine], minlength=m).astype(np.int64),
            np.bincount(hit_item[mine], minlength=m),
            int((lang_code == code).sum()),
        )

    # The study's own tests and equivalence verdicts, joined by item.
    by = study.framing.compare_by
    cross = by == "language"
    keyness = tables["keyness_concepts"]
    keyness = keyness[(keyness["group_a"] == "vi") & (keyness["group_b"] == "en")] if cross else keyness.iloc[:0]
    tests = tables["frame_tests"]
    tests = (
        tests[tests["group_a"].isin(["vi", "en"]) & tests["group_b"].isin(["vi", "en"])] if cross else tests.iloc[:0]
    )
    test_of = {f"concept:{r.term}": (r.p, r.q, r.design) for r in keyness.itertuples()}
    test_of.update({f"frame:{r.frame}": (r.p, r.q, r.p_unit) for r in tests.itertuples()})
    eq = tables.get("equivalence_by_entry")
    eq_of = {}
    if eq is not None:
        for r in eq.itertuples():
            if r.kind in ("concept", "frame"):
                eq_of[f"{r.kind}:{r.entry}"] = (r.status, _number(r.ratio), _number(r.ci90_low), _number(r.ci90_high))

    records = []
    for i, item in enumerate(g.items.itertuples()):
        side = {}
        for lang, (rate_sum, hits_sum, with_hits, docs) in per_language.items():
            side[lang] = (float(rate_sum[i]) / docs if docs else math.nan, int(hits_sum[i]), int(with_hits[i]), docs)
        p, q, unit = test_of.get(item.key, ("", "", ""))
        status, ratio, low, high = eq_of.get(item.key, ("", math.nan, math.nan, math.nan))
        if eq is None:
            status = "no translated sample"
        records.append(
            {
                "key": item.key,
                "kind": item.kind,
                "label": item.label,
                "rate_vi": side["vi"][0],
                "rate_en": side["en"][0],
                "hits_vi": side["vi"][1],
                "hits_en": side["en"][1],
                "docs_hit_vi": side["vi"][2],
                "docs_hit_en": side["en"][2],
                "docs_vi": side["vi"][3],
                "docs_en": side["en"][3],
                "p": _number(p),
                "q": _number(q),
                "unit": unit or ("not tested" if cross else f"not tested ([framing] compare_by = {by})"),
                "equivalence": status or "not in the translated sample",
                "ratio": ratio,
                "ratio_low": low,
                "ratio_high": high,
                "evidence": evidence(side["vi"][2], side["en"][2], _number(q), unit, status),
            }
        )
    items = pd.DataFrame(records)
    used = (items["hits_vi"] + items["hits_en"] > 0) | (items["kind"] == "frame")
    keep = np.flatnonzero(used.to_numpy())
    renumber = np.full(m, -1, dtype=np.int64)
    renumber[keep] = np.arange(len(keep))
    items = items.iloc[keep].reset_index(drop=True)
    kept_rows = renumber[hit_item] >= 0
    hits = pd.DataFrame({"item": renumber[hit_item[kept_rows]], "doc": hit_doc[kept_rows], "n": hit_n[kept_rows]})
    lines = g.lines[renumber[g.lines["item"].to_numpy(dtype=np.int64)] >= 0].copy()
    lines["item"] = renumber[lines["item"].to_numpy(dtype=np.int64)]

    sources = tables["codebook_pattern_sources"]
    patterns = []
    position = {key: i for i, key in enumerate(items["key"])}
    for r in sources.itertuples():
        i = position.get(f"{'frame' if r.kind == 'frame' else 'concept'}:{r.entry}")
        if i is not None and r.kind in ("frame", "concept"):
            patterns.append((i, r.language, _shown(r.pattern), int(_number(r.hits)), _number(r.share)))
    patterns.sort(key=lambda t: (t[0], t[1] != "vi", -t[3], t[2]))

    entries = {("frame" if e.section == "frames" else "concept", e.id): e for e in codebook.frames}
    entries.update({("concept", e.id): e for e in (*codebook.concepts, *codebook.actors)})
    search = []
    for r in items.itertuples():
        kind, _, entry_id = r.key.partition(":")
        e = entries.get((kind, entry_id))
        words = [search_key(p.text.replace("*", "")) for ps_ in (e.patterns.values() if e else []) for p in ps_]
        search.append(" ".join(dict.fromkeys([search_key(r.label), *words])))
    # Line text is the prepared text (already in the toolkit's canonical form, one token per run
    # of non-space characters): the page lower-cases it; only a typed query needs normalising.
    line_syllables = {t.lower() for text in lines[["left", "keyword", "right"]].values.ravel() for t in text.split()}

    groups = _frame_groups(
        g,
        framing=study.framing,
        source=study.source,
        items=items,
        keep=keep,
        hits=(hit_item, hit_doc, hit_rate),
        doc_ids=doc_ids,
        language=language,
        outlets=outlets,
        outlet_names=outlet_names,
    )

    topics = _topics(tables, patterns, items)
    dates = _column(meta, "date")
    day = _days(dates)
    outlet_code = {o: k for k, o in enumerate(outlet_names)}
    event_code = {e: k for k, e in enumerate(event_names)}
    cells, cell_of = filter_cells(
        lang_code,
        np.array([outlet_code.get(o, -1) for o in outlets], dtype=np.int64),
        np.array([event_code.get(e, -1) for e in events], dtype=np.int64),
        day,
    )
    cell_hits = cell_sums(hits, cell_of, hit_rate[kept_rows])
    # The documents a line cites, in corpus order; lines point at them.
    cited = np.unique(lines["doc"].to_numpy(dtype=np.int64))
    lines["doc"] = np.searchsorted(cited, lines["doc"].to_numpy(dtype=np.int64))
    titles, urls = _column(meta, "title"), _column(meta, "url")
    header = _header(study, meta, language, outlets, dates, tables=tables, items=items)
    return {
        "header": header,
        "languages": ["vi", "en"],
        "outlets": outlet_names,
        "events": event_names,
        "cells": cells,
        "cell_hits": cell_hits,
        "docs": {
            "doc_id": [doc_ids[d] for d in cited],
            "cell": cell_of[cited],
            "date": [dates[d] for d in cited],
            "outlet_name": [outlets[d] for d in cited],
            "title": [titles[d] for d in cited],
            "url": [_safe_url(urls[d]) for d in cited],
        },
        "items": items.assign(search=search),
        "patterns": pd.DataFrame(patterns, columns=["item", "language", "pattern", "hits", "share"]),
        "lines": lines.reset_index(drop=True),
        "groups": groups,
        "topics": topics,
        "aliases": tone_aliases([*search, *sorted(line_syllables)]),
    }


def _frame_groups(
    g, *, framing: FramingSettings, source: Path, items, keep, hits, doc_ids, language, outlets, outlet_names
) -> pd.DataFrame:
    """Frames by language and by outlet: mean hits per 100 sentences with studentized bootstrap
    intervals, the function and the random streams (keyed by family, frame, group) of the framing
    stage's tables (``framing``: ``[framing]``'s bootstrap, seed and min_group_docs; a bad value is
    one line naming the study file ``source``); one frame's per-document values in memory at a time."""
    hit_item, hit_doc, hit_rate = hits
    n_docs = len(doc_ids)
    ids = np.asarray(doc_ids, dtype=object)
    family = dict(zip(g.items.loc[g.items["kind"] == "frame", "id"], g.items.loc[g.items["kind"] == "frame", "family"]))
    languages_of: dict[str, set] = {}
    for o, lang in zip(outlets, language):
        if o:
            languages_of.setdefault(o, set()).add(lang)
    outlet_label = {o: f"{o} ({'/'.join(sorted(languages_of[o]))})" for o in outlet_names}
    group_of_language = dict(zip(doc_ids, language))
    group_of_outlet = {d: outlet_label.get(o, "") for d, o in zip(doc_ids, outlets)}
    order = [x for x in ("vi", "en") if x in set(language)]
    s = framing
    parts_language, parts_outlet = [], []
    with source_keys(source, n_resamples="[framing] bootstrap"):
        for f in items.index[items["kind"] == "frame"]:
            old = keep[f]
            lo, hi = np.searchsorted(hit_item, [old, old + 1])  # hit rows are sorted by item, then document
            value = np.zeros(n_docs)
            value[hit_doc[lo:hi]] = hit_rate[lo:hi]
            frame_id = items.at[f, "key"].partition(":")[2]
            long = pd.DataFrame({"doc_id": ids, "family": family[frame_id], "item": frame_id, "value": value})
            common = dict(n_resamples=s.bootstrap, seed=s.seed, min_docs=s.min_group_docs)
            parts_language.append(group_means(long, group_of_language, order=order, **common))
            if outlet_names:
                parts_outlet.append(
                    group_means(long, group_of_outlet, order=[outlet_label[o] for o in outlet_names], **common)
                )
    columns = ["family", "item", "group", "n_docs", "docs_with_hits", "mean", "ci_low", "ci_high", "too_small", "note"]
    by_language = pd.concat(parts_language, ignore_index=True) if parts_language else pd.DataFrame(columns=columns)
    by_outlet = pd.concat(parts_outlet, ignore_index=True) if parts_outlet else by_language.iloc[:0]
    return pd.concat(
        [by_language.assign(group_kind="language"), by_outlet.assign(group_kind="outlet")], ignore_index=True
    )


def _topics(tables, patterns, items) -> dict:
    """The joint model's topics: top concepts shown as their most frequent words in each language,
    and prevalence by language with its interval (the topics stage's tables)."""
    terms = tables["topic_terms"]
    terms = terms[(terms["model"] == "joint") & (terms["ranking"] == "probability")]
    words: dict[tuple[str, str], list[tuple[int, str]]] = {}
    for i, language, pattern, hits, _ in patterns:
        words.setdefault((items["key"][i], language), []).append((-hits, pattern))
    rows = []
    for topic, frame in terms.groupby("topic", sort=False):
        frame = frame.sort_values("rank", key=lambda r: r.astype(int))
        vi, en = [], []
        for term in frame["term"]:
            for side, out in (("vi", vi), ("en", en)):
                found = sorted(words.get((f"concept:{term}", side), []))
                out.append(found[0][1] if found else _shown(term) + ("" if side == "en" else " (no hit)"))
        rows.append((int(topic), ", ".join(dict.fromkeys(vi)), ", ".join(dict.fromkeys(en))))
    prevalence = tables["topic_prevalence_by_language"]
    prevalence = prevalence[prevalence["model"] == "joint"]
    return {
        "terms": pd.DataFrame(rows, columns=["topic", "vi", "en"]).sort_values("topic", ignore_index=True),
        "prevalence": pd.DataFrame(
            {
                "topic": prevalence["topic"].astype(int).to_numpy(),
                "language": prevalence["group"].to_numpy(),
                "prevalence": prevalence["prevalence"].map(_number).to_numpy(),
                "ci_low": prevalence["ci_low"].map(_number).to_numpy(),
                "ci_high": prevalence["ci_high"].map(_number).to_numpy(),
            }
        ),
    }


def settings_hash(study: Study) -> str:
    """SHA-256 of the study's settings as the manifest records them (sorted JSON): two pages with
    the same hash were made with the same parameters."""
    text = json.dumps(study.as_dict(), sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _header(study: Study, meta, language, outlets, dates, *, tables, items) -> dict:
    corpus = study.corpus
    source = corpus.table or corpus.newsplease or corpus.html or corpus.folder or "(several sources)"
    counts = []
    for lang in ("vi", "en"):
        mine = language == lang
        counts.append((lang, int(mine.sum()), len({o for o, m in zip(outlets, mine) if m and o})))
    known = sorted(d for d in dates if d)
    notes = list(dict.fromkeys(n for n in tables["design_summary"]["note"] if n))
    small = [
        f"{lang}: {n} documents (fewer than {study.framing.min_group_docs}: intervals under-cover)"
        for lang, n, _ in counts
        if n < study.framing.min_group_docs
    ]
    sparse = {
        kind: int(((items["kind"] == kind) & (items["evidence"] == SPARSE)).sum()) for kind in ("concept", "frame")
    }
    total = {kind: int((items["kind"] == kind).sum()) for kind in ("concept", "frame")}
    return {
        "study": study.name,
        "file": study.source.name,
        "corpus": str(source),
        "counts": counts,
        "dates": (known[0], known[-1]) if known else None,
        "undated": len(dates) - len(known),
        "settings_sha256": settings_hash(study),
        "too_small": [*small, *notes],
        "sparse": (
            f"{sparse['concept']} of {total['concept']} concepts and {sparse['frame']} of {total['frame']} frames have "
            f"fewer than {MIN_DOCS_WITH_HITS} documents with hits in a language: their comparison is too small to "
            "mean anything"
        ),
        "rate": "mean over documents of hits per 100 sentences (the cross-language rate)",
    }


# ------------------------------------------------------------------------------------- stage


def explorer(study: Study, workers: int | None = None) -> str:
    """The explorer page of a study whose framing, equivalence and topics stages have run, as HTML
    text (written by nothing: :func:`run_explore` writes it)."""
    tables = study_outputs(study)  # every input checked before any work
    codebook = load_codebook(study)
    ps = prepared_corpus(study, workers=workers, progress=False)
    payload = explorer_payload(ps, codebook, tables)
    return plot.explorer_html(payload, seed=study.run.seed)


def run_explore(study: Study, workers: int | None = None) -> list[Path]:
    """Stage ``explore``: write ``explorer.html`` (one file, every script inline)."""
    return write_results(study.output_dir, [Raw(EXPLORER_PAGE, explorer(study, workers))], None)
