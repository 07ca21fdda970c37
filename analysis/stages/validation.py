"""Stage ``validation``: the dictionary's frame (actor, concept) presence checked against human coding, per language.

Read (study, codebook, the study's prepared corpus; with ``[validation] codes`` the filled coding
sheets) -> compute (:mod:`analysis.validation`) -> draw (:mod:`analysis.plots.validation`) ->
write (:func:`analysis.stages.results.write_results`). Every input, the filled sheets included,
is read and checked before the first file is written; the files are exactly
:func:`analysis.study.outputs.validation_outputs`. Without a ``[validation]`` section the stage
writes nothing.

Always (with ``[validation]``):

* the coding sample, drawn from ``[validation] seed`` over the study's units (``[validation] unit``:
  documents, sentences, or KWIC windows around the key terms, :func:`span_units`) stratified by
  language × dictionary hit (any of the coded frames, actors or concepts present in the unit, as
  the framing tables count presence: at least ``[framing] min_hits`` hits), ``per_stratum``
  units per stratum (:func:`analysis.validation.sampling.draw_coding_sample`);
  ``coding_design.json`` records the unit kind, the draw id, the strata sizes ``N_h`` and
  ``n_h``, every sampled unit's stratum and inclusion probability ``pi = n_h / N_h`` (and its
  document, for a sentence or window);
* one blind sheet per coder, ``coding_sheet_<coder>.csv`` (and ``.xlsx`` with openpyxl): the
  texts in a coder-specific order (a sentence or window with its context either side) with one
  empty 0/1 column per frame, actor and concept and no dictionary output
  (:func:`analysis.validation.sampling.coder_sheet`); ``coding_instructions.md`` with their
  definitions from the codebook.
* ``codebook_audit_precision``: the codebook audit of the coded entries per pattern and language
  (:func:`codebook_patterns`) with each pattern's human-coded hits, false hits and precision
  (:func:`analysis.validation.audit.pattern_precision`); without ``codes`` these columns are
  empty and the caption says so. Written here, not by the ``equivalence`` stage that writes
  ``codebook_audit``: the codes, hits and weights are here, and ``equivalence`` stays independent
  of the coding (no make dependency between the two stages).

With ``codes`` (the folder of the filled sheets, every coder's ``coding_sheet_<coder>.csv`` or
``.xlsx``, optionally ``adjudicated.csv`` with ``unit_id, frame, code`` for disputed cells): the
sheets are checked strictly (:func:`analysis.validation.sheets.check_codes`: unknown or missing
units, blank or out-of-range codes, a sheet of another draw, a missing coder file: one line naming
the file, the row and the fix, exit status 2), then agreement, disagreements, weighted accuracy,
differential error, the DSL-corrected prevalence, the coding budget and the pattern audit (each
coded hit's pattern and KWIC line, the weighted false-hit share per pattern) are written, and with
``[model]`` the model's formula as a naive and a DSL-corrected linear probability model per frame.
"""

from __future__ import annotations

import json
import logging
import re
from functools import partial
from pathlib import Path
from typing import Callable, Iterable

import numpy as np
import pandas as pd

from .. import files
from ..errors import InputError
from ..plots import validation as pv
from ..study.outputs import coder_names, xlsx_available
from ..study.settings import ModelSettings, Study, ValidationSettings, raise_all
from ..validation import accuracy, agreement, audit, dsl, planner, sampling, sheets
from .results import Csv, Figure, Raw, Table, write_results

log = logging.getLogger("analysis")

#: The languages the corrected comparison contrasts (first minus second).
LANGUAGES = ("vi", "en")
#: The optional file of adjudicated codes in the ``codes`` folder.
ADJUDICATED = "adjudicated.csv"


def validation_frames(codebook, *, settings: ValidationSettings, source: Path) -> list[str]:
    """The frame ids to code: ``[validation] frames`` (``settings``; checked against the codebook, a
    problem is one line naming the study file ``source``), or every frame."""
    known = [e.id for e in codebook.frames]
    frames = list(settings.frames) or known
    unknown = [f for f in frames if f not in known]
    if unknown:
        raise InputError(
            source,
            f"[validation] frames names {unknown}, not frames of the codebook",
            f"use some of: {', '.join(known)}",
        )
    return frames


#: Columns of the coding sample and sheets that no coded entry may be named.
RESERVED = frozenset(
    {"unit_id", "doc_id", "language", "start", "end", "stratum", "pi", "weight", "draw_id", "coder", "position", "text"}
    | {"context_before", "context_after"}
)
#: Column names of the actors and concepts people code: a prefix and the entry id (frames keep their ids).
CODE_PREFIX = {"actors": "actor_", "concepts": "concept_"}


def validation_codes(codebook, *, settings: ValidationSettings, source: Path) -> dict[str, tuple[str, str]]:
    """Everything people code, as sheet column -> ``(section, entry id)``: the frames of
    :func:`validation_frames` (column = frame id), then ``[validation] actors`` (column
    ``actor_<id>``) and ``concepts`` (``concept_<id>``) of ``settings``, each checked against the
    codebook (a problem is one line naming the study file ``source``)."""
    codes = {f: ("frames", f) for f in validation_frames(codebook, settings=settings, source=source)}
    for section in ("actors", "concepts"):
        known = [e.id for e in codebook.entries(section)]
        named = list(getattr(settings, section))
        unknown = [x for x in named if x not in known]
        if unknown:
            raise InputError(
                source,
                f"[validation] {section} names {unknown}, not {section} of the codebook",
                f"use some of: {', '.join(known)}",
            )
        for x in named:
            column = CODE_PREFIX[section] + x
            if column in codes:
                raise InputError(
                    source,
                    f"[validation] {section}: the column {column!r} is also a frame id",
                    "rename that frame in the codebook or leave it out of [validation] frames",
                )
            codes[column] = (section, x)
    reserved = sorted(set(codes) & RESERVED)
    if reserved:
        raise InputError(
            source,
            f"[validation]: the frame id(s) {reserved} are also columns of the coding sample",
            "rename them in the codebook or leave them out of [validation] frames",
        )
    return codes


def _code_map(codes) -> dict[tuple[str, str], str]:
    """``(section, entry id) -> column`` from a list of frame ids or a mapping column -> (section, id)."""
    if isinstance(codes, dict):
        return {entry: column for column, entry in codes.items()}
    return {("frames", f): f for f in codes}


def coded_hits(annotation, codes):
    """``(column, sentence index, hit)`` of every dictionary hit of a coded entry in one annotated
    document: frames (any family), actors and concepts; ``codes`` as :func:`validation_codes` returns
    (or a list of frame ids)."""
    wanted = _code_map(codes)
    for family in annotation.frames.values():
        for s, hits in enumerate(family):
            for h in hits:
                if ("frames", h.entry) in wanted:
                    yield wanted[("frames", h.entry)], s, h
    for section, per_sentence in (("actors", annotation.actors), ("concepts", annotation.concepts)):
        for s, hits in enumerate(per_sentence):
            for h in hits:
                if (section, h.entry) in wanted:
                    yield wanted[(section, h.entry)], s, h


def entry_presence(annotations, codes, *, min_hits: int) -> pd.DataFrame:
    """One row per document: ``unit_id, language`` and the dictionary's 0/1 presence (at least
    ``min_hits`` hits in the document) of every coded entry; for frames the same as
    :func:`presence_units` on :func:`analysis.framing.measures.frame_salience`."""
    columns = list(codes)
    rows = []
    for a in annotations:
        counts = dict.fromkeys(columns, 0)
        for column, _, _ in coded_hits(a, codes):
            counts[column] += 1
        rows.append(
            {"unit_id": str(a.doc_id), "language": a.language, **{c: int(counts[c] >= min_hits) for c in columns}}
        )
    table = pd.DataFrame(rows, columns=["unit_id", "language", *columns])
    return table.sort_values("unit_id", kind="mergesort").reset_index(drop=True)


def presence_units(salience: pd.DataFrame, frames: list[str]) -> pd.DataFrame:
    """One row per document: ``unit_id, language`` and the dictionary's 0/1 presence of each frame,
    from :func:`analysis.framing.measures.frame_salience` on documents (its ``present`` column:
    at least ``min_hits`` hits, what the framing tables count)."""
    wide = salience[salience["frame"].isin(frames)].pivot_table(
        index=["doc_id", "language"], columns="frame", values="present", aggfunc="max"
    )
    units = wide.reindex(columns=frames).fillna(False).astype(int).reset_index().rename(columns={"doc_id": "unit_id"})
    units.columns.name = None
    units["unit_id"] = units["unit_id"].astype(str)
    return units.sort_values("unit_id", kind="mergesort").reset_index(drop=True)


def _show(tokens) -> str:
    """Tokens as read: joined by spaces, Vietnamese compounds (``_``-joined syllables) with spaces."""
    return " ".join(t.replace("_", " ") for t in tokens)


def span_units(
    annotations,
    prepared,
    frames: list[str],
    *,
    unit: str,
    min_hits: int,
    rules=None,
    terms=(),
    window: int = 10,
    context: int = 1,
) -> tuple[pd.DataFrame, dict[str, str], dict[str, tuple[str, str]]]:
    """Units smaller than a document, each a span ``[start, end)`` of its document's token stream.

    * ``unit="sentence"``: every non-empty sentence, id ``<doc_id>#s<sentence>``;
    * ``unit="kwic"``: every occurrence of one of ``terms`` (matched as :func:`analysis.text.textstat.kwic`
      matches them) with ``window`` tokens either side (across sentence ends, within the document),
      id ``<doc_id>#k<sentence>.<position>``; a position two terms match is one unit.

    A frame is present in a unit when at least ``min_hits`` of its dictionary hits lie wholly in the
    span (as ``[framing] min_hits`` counts presence in a unit). Returns the units (``unit_id, doc_id,
    language, start, end`` and one 0/1 column per frame, sorted by id), their texts as read (the
    key term of a KWIC window in ``[[ ]]``) and their context: the rest of the span's first and last
    sentences and ``context`` sentences before and after.
    """
    from ..text import textstat

    docs = {str(d.doc_id): d for d in prepared}
    occurrences: dict[str, list[tuple[int, int]]] = {}
    if unit == "kwic":
        for term in terms:
            for d, sent, pos, keyword in textstat.kwic(prepared, term, rules, window=0)[
                ["doc_id", "sentence", "position", "keyword"]
            ].itertuples(index=False):
                occurrences.setdefault(str(d), []).append((int(sent), int(pos), keyword))
    rows, texts, around = [], {}, {}
    for a in annotations:
        doc_id = str(a.doc_id)
        sentences = [list(x) for x in docs[doc_id].sentences()]
        flat = [t for x in sentences for t in x]
        offsets = np.cumsum([0] + [len(x) for x in sentences])
        hits = [(column, offsets[i] + h.start, offsets[i] + h.end) for column, i, h in coded_hits(a, frames)]
        spans = []
        if unit == "sentence":
            spans = [
                (f"{doc_id}#s{i}", offsets[i], offsets[i + 1], None) for i in range(len(sentences)) if sentences[i]
            ]
        else:
            seen = set()
            for i, pos, keyword in sorted(occurrences.get(doc_id, []), key=lambda o: (o[0], o[1])):
                if (i, pos) in seen:
                    continue
                seen.add((i, pos))
                length = next(
                    (
                        k
                        for k in range(1, len(sentences[i]) - pos + 1)
                        if " ".join(sentences[i][pos : pos + k]) == keyword
                    ),
                    1,
                )
                at = offsets[i] + pos
                spans.append(
                    (
                        f"{doc_id}#k{i}.{pos}",
                        max(0, at - window),
                        min(len(flat), at + length + window),
                        (at, at + length),
                    )
                )
        for uid, start, end, key in spans:
            first = int(np.searchsorted(offsets, start, side="right") - 1)
            last = int(np.searchsorted(offsets, end - 1, side="right") - 1)
            row = {"unit_id": uid, "doc_id": doc_id, "language": a.language, "start": int(start), "end": int(end)}
            row.update(dict.fromkeys(frames, 0))
            for f, hs, he in hits:  # most units have no hit: count the few, not units x frames
                if start <= hs and he <= end:
                    row[f] += 1
            row.update({f: int(row[f] >= min_hits) for f in frames})
            rows.append(row)
            if key is None:
                texts[uid] = _show(flat[start:end])
            else:
                texts[uid] = " ".join(
                    x
                    for x in (
                        _show(flat[start : key[0]]),
                        f"[[{_show(flat[key[0] : key[1]])}]]",
                        _show(flat[key[1] : end]),
                    )
                    if x
                )
            around[uid] = (
                _show(flat[offsets[max(0, first - context)] : start]),
                _show(flat[end : offsets[min(len(sentences), last + 1 + context)]]),
            )
    columns = ["unit_id", "doc_id", "language", "start", "end", *frames]
    table = pd.DataFrame(rows, columns=columns).sort_values("unit_id", kind="mergesort").reset_index(drop=True)
    return table, texts, around


def coding_design(
    design: sampling.SampleDesign,
    sample: pd.DataFrame,
    frames: list[str],
    *,
    settings: ValidationSettings,
    coders: list[str],
    min_hits: int,
) -> dict:
    """What a later read needs: the design (seed, strata sizes, draw id), the frames and ``coders``,
    ``[validation]``'s unit and ``per_stratum`` (``settings``), ``[framing] min_hits``, and every
    sampled unit with its stratum and inclusion probability."""
    v = settings
    return {
        "unit": v.unit,
        "frames": frames,
        "coders": coders,
        "per_stratum": v.per_stratum,
        "min_hits": min_hits,
        **design.as_dict(),
        "inclusion_probability": {h: design.pi(h) for h in design.population},
        "units": [
            {"unit_id": u, "language": lang, "stratum": h, "pi": float(p)}
            | ({} if v.unit == "document" else {"doc_id": d})
            for u, lang, h, p, d in zip(
                sample["unit_id"], sample["language"], sample["stratum"], sample["pi"], sample["doc_id"]
            )
        ],
    }


#: How the instructions name a unit, and what of it is coded.
UNIT_WORDS = {
    "document": ("documents", "document", ""),
    "sentence": (
        "sentences",
        "sentence",
        "Code the sentence in `text` only: `context_before` and `context_after` (the sentences around it) are "
        "there to help you read it, and a frame used only in them does not count.",
    ),
    "kwic": (
        "passages around a key term",
        "passage",
        "Each `text` is a passage of a few words either side of a key term (marked `[[ ]]`). Code the passage "
        "only: `context_before` and `context_after` are there to help you read it, and a frame used only in "
        "them does not count.",
    ),
}


def _entry_lines(codebook, codes: dict, one: str) -> list[str]:
    """The instructions' sections on the actors and concepts coded (none: no lines)."""
    lines = []
    for section, title, what in (
        ("actors", "Actors", "mentions this actor, by any name, title or office"),
        ("concepts", "Concepts", "refers to this concept, in any words"),
    ):
        chosen = [(c, i) for c, (sec, i) in codes.items() if sec == section]
        if not chosen:
            continue
        entries = {e.id: e for e in codebook.entries(section)}
        lines += [f"## {title}", "", f"Enter 1 if the {one} {what}, and 0 if it does not.", ""]
        for column, i in chosen:
            e = entries[i]
            kind = f" ({e.family})" if section == "actors" and e.family else ""
            lines.append(f"- `{column}`: **{e.label}**{kind}")
        lines.append("")
    return lines


def instructions(codebook, frames, design: sampling.SampleDesign, coders: list[str], *, unit: str = "document") -> str:
    """The coders' instructions (Markdown): the task for the unit coded (documents, sentences or KWIC
    passages, the latter two read with their context), the definitions from the codebook of the
    frames (label and family), actors (label and kind) and concepts (label) coded, the keyword lists
    left out so the codes stay independent of the dictionary, and how to return the sheet.
    ``frames``: frame ids, or the column -> (section, id) mapping of :func:`validation_codes`."""
    codes = frames if isinstance(frames, dict) else {f: ("frames", f) for f in frames}
    frames = [c for c, (section, _) in codes.items() if section == "frames"]
    entries = {e.id: e for e in codebook.frames}
    many, one, note = UNIT_WORDS[unit]
    columns = (
        "`draw_id`, `coder`, `position`, `unit_id`, `language` or `text`"
        if unit == "document"
        else ("`draw_id`, `coder`, `position`, `unit_id`, `language`, `context_before`, `text` or `context_after`")
    )
    lines = [
        "# Coding instructions",
        "",
        f"Coding sample `{design.draw_id}`: {sum(design.sampled.values())} {many}, one sheet per coder "
        f"({', '.join(f'`coding_sheet_{c}.csv`' for c in coders)}; the `.xlsx` files hold the same rows).",
        "",
        (
            f"Read each {one}'s `text` and enter, in each frame's column, **1** if the "
            f"{one} uses the frame and **0** if it does not."
        ),
        *([note] if note else []),
        (
            f"Every cell needs a 1 or a 0. Code each {one} on its own, without the other "
            "coders, and do not change the columns"
        ),
        f"{columns}, or add, drop or reorder rows.",
        "The sheet deliberately shows no dictionary result: judge the text, not the keywords.",
        "",
        "## Frames",
        "",
    ]
    for frame in frames:
        e = entries[frame]
        lines.append(f"- `{frame}`: **{e.label}** ({e.family} frame)")
    lines += [
        "",
        (
            "Generic frames follow Semetko and Valkenburg (2000): conflict (disagreement, blame "
            "between parties), economic consequences"
        ),
        (
            "(gains, losses, costs), responsibility (who causes or should solve a problem), "
            "human interest (persons, emotions) and"
        ),
        f"morality (values, moral prescriptions). A frame is present when the {one} uses it, however briefly.",
        "",
        *_entry_lines(codebook, codes, one),
        "## Returning the sheets",
        "",
        "Save each filled sheet under its own name (`coding_sheet_<coder>.csv`, or `.xlsx`) in one folder, set",
        "`[validation] codes` to that folder in the study file and run `make` again. Disputed cells can be decided in",
        f"`{ADJUDICATED}` in the same folder (`unit_id, frame, code`).",
        "",
    ]
    return "\n".join(lines)


def _one_line(path: Path, problems: list[str]) -> InputError:
    """The first problem of a sheet as one :class:`InputError` (``problem; fix``), with the count of the
    rest; a problem that names its row comes before one that does not (an unknown id, before the
    sampled unit it replaced)."""
    first = sorted(problems, key=lambda p: re.match(r"(coder [^:]* \()?row \d", p) is None)[0].rstrip(".")
    problem, _, fix = first.rpartition("; ")
    problem = problem or first
    if len(problems) > 1:
        problem += f" ({len(problems) - 1} more problem{'s' if len(problems) > 2 else ''} in this file)"
    return InputError(path, problem, fix if problem != first else "")


def read_codes(
    design: sampling.SampleDesign,
    sample: pd.DataFrame,
    frames: list[str],
    *,
    folder: Path,
    codes: str,
    coders: list[str],
    source: Path,
) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """Every coder's filled sheet from the folder ``folder`` (``[validation] codes``, resolved; ``codes``
    as the study file ``source`` writes it), checked strictly: long codes ``unit_id, coder,
    language`` + one 0/1 column per frame, and the adjudicated codes (or None).

    Raises :class:`InputError` (one line per bad file: the file, the row and the fix).
    """
    if not folder.is_dir():
        raise InputError(
            source,
            f"[validation] codes = {codes!r} is not a folder",
            "name the folder that holds the filled coding_sheet_<coder>.csv files",
        )
    problems: list[InputError] = []
    parts = []
    language = dict(zip(sample["unit_id"].astype(str), sample["language"]))
    for coder in coders:
        candidates = [folder / f"coding_sheet_{coder}.{ext}" for ext in ("csv", "xlsx")]
        path = next((p for p in candidates if p.is_file()), None)
        if path is None:
            problems.append(
                InputError(
                    candidates[0],
                    f"coder {coder}'s filled sheet is missing",
                    "put it there (CSV or .xlsx), or set [validation] coders to the number of coders",
                )
            )
            continue
        sheet = files.read_coding_sheet(path)
        found = sheets.check_codes(sheet, design, frames=frames, sample=sample)
        if not found and "coder" in sheet.columns:
            found = [
                (
                    f"row {i + 2} (coder {c}): the sheet of coder {coder} names coder '{c}'; use coder "
                    f"{coder}'s own sheet or fix the name"
                )
                for i, c in enumerate(sheet["coder"].astype(str).str.strip())
                if c != coder
            ][:1]
        if found:
            problems.append(_one_line(path, found))
            continue
        codes = sheet[["unit_id", *frames]].copy()
        codes["unit_id"] = codes["unit_id"].astype(str).str.strip()
        for frame in frames:
            codes[frame] = codes[frame].map(lambda value: sheets.VALID_CODES[str(value).strip()]).astype(int)
        codes.insert(1, "coder", coder)
        codes.insert(2, "language", codes["unit_id"].map(language))
        parts.append(codes)
    adjudicated = None
    path = folder / ADJUDICATED
    if path.is_file():
        table = files.read_coding_sheet(path)
        missing = [c for c in ("unit_id", "frame", "code") if c not in table.columns]
        bad = (
            [
                i
                for i, (u, f, c) in enumerate(
                    zip(*(table.get(k, pd.Series(dtype=str)) for k in ("unit_id", "frame", "code")))
                )
                if str(u).strip() not in language
                or str(f).strip() not in frames
                or str(c).strip() not in sheets.VALID_CODES
            ]
            if not missing
            else []
        )
        if missing:
            problems.append(InputError(path, f"no column {missing[0]!r}", "write the header unit_id,frame,code"))
        elif bad:
            i = bad[0]
            problems.append(
                InputError(
                    path,
                    f"row {i + 2}: unit '{table['unit_id'].iloc[i]}', frame '{table['frame'].iloc[i]}' or code "
                    f"'{table['code'].iloc[i]}' is not a sampled unit, a coded frame and 0 or 1",
                    "fix the row or drop it",
                )
            )
        else:
            adjudicated = pd.DataFrame(
                {
                    "unit_id": table["unit_id"].astype(str).str.strip(),
                    "frame": table["frame"].astype(str).str.strip(),
                    "code": [sheets.VALID_CODES[str(c).strip()] for c in table["code"]],
                }
            )
    raise_all(problems)
    return pd.concat(parts, ignore_index=True), adjudicated


def coded_inclusion(
    units: pd.DataFrame, reference: pd.DataFrame, design: sampling.SampleDesign, frame: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per unit of ``units``: the reference code of ``frame`` (NaN where none), the inclusion
    probability ``n_h' / N_h`` of its stratum (``n_h'`` the stratum's units with a reference code:
    a tie not adjudicated counts as not coded, missing at random within its stratum) and the stratum.

    Raises ValueError when a stratum has no unit with a reference code.
    """
    strata = sampling.inclusion_probabilities(units, design)["stratum"].to_numpy()
    ref = reference[reference["frame"] == frame].set_index("unit_id")["reference"].astype("Float64").astype(float)
    y = units["unit_id"].map(ref).to_numpy(float)
    coded = pd.Series(~np.isnan(y)).groupby(strata).transform("sum").to_numpy()
    size = pd.Series(strata).map(design.population).to_numpy(float)
    if (coded == 0).any():
        h = sorted(set(strata[coded == 0]))[0]
        raise ValueError(
            (
                f"stratum '{h}' has no coded unit with a reference code for frame '{frame}'; code or "
                "adjudicate at least one of its units."
            )
        )
    return y, coded / size, strata


def corrected_prevalence(
    units: pd.DataFrame,
    reference: pd.DataFrame,
    design: sampling.SampleDesign,
    frames: list[str],
    *,
    level: float,
    cluster: str | None = None,
) -> pd.DataFrame:
    """Naive and DSL-corrected prevalence of each frame by language and the vi - en difference.

    A unit counts as coded for a frame when it has a reference code; a stratum's inclusion
    probability is then ``n_h' / N_h`` with ``n_h'`` its units with a reference (ties not
    adjudicated are taken as missing at random within the stratum, as in the accuracy table).
    The prevalence is the share of the language's units with the frame: of its documents, its
    sentences, or its key-term occurrences (KWIC windows); for the latter two ``cluster="doc_id"``
    makes the variance allow for units of one document being alike
    (:func:`analysis.validation.dsl.dsl_prevalence`).
    """
    rows = []
    for frame in frames:
        y, pi, strata = coded_inclusion(units, reference, design, frame)
        data = units.assign(y=y, pi=pi, stratum=strata)
        table = dsl.dsl_prevalence(
            data,
            outcome="y",
            predicted=frame,
            pi="pi",
            variance="stratified",
            level=level,
            groups=LANGUAGES,
            cluster=cluster,
        )
        table.insert(0, "frame", frame)
        rows.append(table)
    return pd.concat(rows, ignore_index=True)


def budget(
    accuracy_rows: pd.DataFrame,
    prevalence: pd.DataFrame,
    units: pd.DataFrame,
    frames: list[str],
    *,
    half_width: float,
    level: float,
) -> pd.DataFrame:
    """Per frame, the planner's documents to code per language for the target half-width
    (:func:`analysis.validation.planner.plan_coding_budget` on this pilot); a frame it cannot plan
    for gets one row whose ``note`` says why."""
    n_units = units["language"].value_counts().to_dict()
    columns = ["frame", "language", "n_units", "n_coded", "n_hit", "n_none", "se", "half_width", "note"]
    rows = []
    for frame in frames:
        try:
            pilot = planner.pilot_assumptions(
                accuracy_rows, prevalence[prevalence["frame"] == frame], frame=frame, n_units=n_units
            )
            plan = planner.plan_coding_budget(
                pilot, half_width=half_width, level=level, languages=LANGUAGES, split="optimal"
            )
        except ValueError as exc:
            rows.append(pd.DataFrame([{"frame": frame, "language": "", "note": str(exc)}]))
            continue
        rows.append(plan.assign(frame=frame, note=""))
    return pd.concat(rows, ignore_index=True).reindex(columns=columns)


#: Words of context either side of a hit in the pattern audit.
KWIC_WINDOW = 5


def pattern_hits(annotations, prepared, frames: list[str], coded, *, window: int = KWIC_WINDOW) -> pd.DataFrame:
    """Every hit of a coded frame in a coded unit: ``unit_id, language, frame, pattern, left,
    keyword, right``, the pattern as written in the codebook (the :attr:`Hit.pattern` that
    :func:`analysis.framing.equivalence.pattern_sources` counts) and its KWIC line
    (:func:`analysis.validation.audit.kwic_line`).

    ``coded``: the coded documents' ids (whole documents), or a table ``unit_id, doc_id, start,
    end`` of coded units smaller than a document, whose hits are those lying wholly in the span
    ``[start, end)`` of the document's token stream (what made the unit's dictionary presence)."""
    if isinstance(coded, pd.DataFrame):
        spans: dict[str, list] = {}
        for u, d, a, b in coded[["unit_id", "doc_id", "start", "end"]].itertuples(index=False):
            spans.setdefault(str(d), []).append((str(u), int(a), int(b)))
    else:
        spans = {str(d): [(str(d), 0, np.inf)] for d in coded}
    docs = {str(d.doc_id): d for d in prepared if str(d.doc_id) in spans}
    rows = []
    for a in annotations:
        doc = docs.get(str(a.doc_id))
        if doc is None:
            continue
        sentences = list(doc.sentences())
        offsets = np.cumsum([0] + [len(x) for x in sentences])
        for column, s, h in coded_hits(a, frames):
            for unit, lo, hi in spans[str(a.doc_id)]:
                if lo <= offsets[s] + h.start and offsets[s] + h.end <= hi:
                    rows.append(
                        (
                            unit,
                            a.language,
                            column,
                            h.pattern,
                            *audit.kwic_line(sentences[s], h.start, h.end, window=window),
                        )
                    )
    return pd.DataFrame(rows, columns=["unit_id", "language", "frame", "pattern", "left", "keyword", "right"])


def audit_inputs(
    annotations,
    prepared,
    units: pd.DataFrame,
    reference: pd.DataFrame,
    design: sampling.SampleDesign,
    *,
    frames: list[str],
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(hits, weights)`` of the coded units for :func:`analysis.validation.audit.pattern_audit` and
    :func:`analysis.validation.audit.pattern_precision`: every hit of a coded frame in a coded unit
    (:func:`pattern_hits`) and each coded unit's ``1 / pi`` with ``pi = n_h' / N_h`` (:func:`coded_inclusion`)."""
    weights = []
    for frame in frames:
        y, pi, _ = coded_inclusion(units, reference, design, frame)
        keep = ~np.isnan(y)
        weights.append(
            pd.DataFrame({"unit_id": units["unit_id"].to_numpy()[keep], "frame": frame, "weight": 1.0 / pi[keep]})
        )
    coded = set(reference.loc[reference["reference"].notna(), "unit_id"].astype(str))
    if "start" in units.columns:  # units smaller than a document: the hits in each coded unit's span
        coded = units[units["unit_id"].isin(coded)]
    return pattern_hits(annotations, prepared, frames, coded), pd.concat(weights, ignore_index=True)


def pattern_audit_table(
    annotations,
    prepared,
    units: pd.DataFrame,
    reference: pd.DataFrame,
    design: sampling.SampleDesign,
    *,
    frames: list[str],
) -> pd.DataFrame:
    """The pattern audit (:func:`analysis.validation.audit.pattern_audit`) of the coded documents,
    each weighted by ``1 / pi`` with ``pi = n_h' / N_h`` (:func:`coded_inclusion`)."""
    hits, weights = audit_inputs(annotations, prepared, units, reference, design, frames=frames)
    return audit.pattern_audit(hits, reference, weights)


#: Columns of the codebook audit with precision (:func:`codebook_patterns`, then the human-coded columns).
CODEBOOK_PATTERN_COLUMNS = ["frame", "kind", "entry", "label", "language", "pattern", "stopword", "one_sided", "note"]


def codebook_patterns(codebook, codes: dict, stopwords) -> pd.DataFrame:
    """The codebook audit (:func:`analysis.framing.codebook.codebook_audit`) of the coded entries, one
    row per pattern and language: ``frame`` (the sheet column), ``kind``, ``entry``, ``label``,
    ``language``, ``pattern`` (as written), ``stopword`` (the pattern is a word of the stopword list,
    exempted), ``one_sided`` and the entry's audit ``note``. ``stopwords``: the lists before the
    exemption, as the equivalence stage's codebook audit reads them. Entries in sheet order,
    languages vi then en, patterns in codebook order."""
    from ..framing.codebook import codebook_audit

    table = codebook_audit(codebook, stopwords)
    kinds = {"frames": "frame", "actors": "actor", "concepts": "concept"}
    rows = []
    for column, (section, entry_id) in codes.items():
        entry = next(e for e in codebook.entries(section) if e.id == entry_id)
        row = table[(table["kind"] == kinds[section]) & (table["entry"] == entry_id)].iloc[0]
        for lang in LANGUAGES:
            lost = set(filter(None, row[f"stopword_{lang}"].split("; ")))
            for p in entry.patterns.get(lang, ()):
                rows.append(
                    (column, kinds[section], entry_id, entry.label, lang, p.text, p.text in lost)
                    + (bool(row["one_sided"]), row["note"])
                )
    return pd.DataFrame(rows, columns=CODEBOOK_PATTERN_COLUMNS)


def codebook_precision_table(
    patterns: pd.DataFrame, hits=None, reference=None, weights=None, *, level: float, codes: str
) -> Table:
    """The ``codebook_audit_precision`` table: :func:`codebook_patterns` with each pattern's human-coded
    hits, false hits and precision (:func:`analysis.validation.audit.pattern_precision`, intervals at
    ``[validation] level``); without coded sheets the columns are there, empty, and the caption says
    why (``codes``: ``[validation] codes`` as written)."""
    table = audit.pattern_precision(patterns, hits, reference, weights, level=level)
    note = (
        f" From the coded sheets in {codes}."
        if reference is not None
        else " No coded sheets yet ([validation] codes is empty): the human-coded columns are empty "
        "until the filled sheets are named there."
    )
    return Table("codebook_audit_precision", table, values={"coded_note": note})


def model_cluster(docvars: pd.DataFrame, *, candidates: tuple[str, ...]) -> str:
    """The column whose values are outlets for clustered variance: the first of ``candidates``
    (``[model] cluster``, then ``[framing] cluster``) that is a metadata column; ``""`` for none."""
    for name in candidates:
        if name and name in docvars.columns:
            return name
    return ""


def corrected_model_table(
    units: pd.DataFrame,
    reference: pd.DataFrame,
    design: sampling.SampleDesign,
    frames: list[str],
    *,
    docvars: pd.DataFrame,
    formula: str,
    clusters: tuple[str, ...],
    level: float,
) -> pd.DataFrame:
    """Per validated frame, the ``[model] formula`` (``formula``) as a linear probability model of frame presence
    in a unit (document, sentence or KWIC window; a smaller unit takes its document's metadata and
    its SEs are clustered at least by document), naive and DSL-corrected
    (:func:`analysis.validation.audit.corrected_model`); a coefficient of a language from one outlet
    keeps its estimate without SE (:func:`analysis.stats.models.lone_cluster_terms`).
    A model that cannot be fitted gets one row whose ``note`` says why. ``clusters``: the outlet
    columns to try (:func:`model_cluster`); ``level``: ``[validation] level``."""
    import patsy

    from ..stats import models
    from .design import document_dates

    dv = docvars.copy()
    dv.index = dv.index.astype(str)
    dv = dv.loc[units["doc_id"]]  # a sentence or KWIC window has its document's metadata
    keep = np.ones(len(dv), dtype=bool)
    if "date" in models.formula_columns(formula):
        dates, note = document_dates(dv)
        if dates is None:
            return pd.DataFrame([{"term": "(none)", "note": f"not fitted: {note}"}], columns=audit.MODEL_COLUMNS)
        dv = dv.assign(date=dates)
        keep = dates.notna().to_numpy()
    dv, kept = dv[keep], units[keep].reset_index(drop=True)
    cluster = model_cluster(dv, candidates=clusters)
    try:
        x = models.design_matrix(dv, formula)
        data = x.reset_index(drop=True)
        for frame in frames:
            y, pi, _ = coded_inclusion(units, reference, design, frame)
            data[frame] = kept[frame].to_numpy(float)
            data[f"{frame}__code"], data[f"{frame}__pi"] = y[keep], pi[keep]
        no_se = {}
        if cluster:
            data[cluster] = dv[cluster].astype(str).to_numpy()
            no_se = models.lone_cluster_terms(
                models.categorical_factors(dv, formula), dv[cluster].astype(str), list(x.columns)
            )
        elif (kept["unit_id"] != kept["doc_id"]).any():  # sentences / KWIC windows: at least by document
            cluster = "doc_id"
            data[cluster] = kept["doc_id"].astype(str).to_numpy()
            no_se = models.lone_cluster_terms(  # a term whose level comes from one document has no SE
                models.categorical_factors(dv, formula),
                kept["doc_id"].astype(str).set_axis(dv.index),
                list(x.columns),
                cluster_word="document",
            )
        return audit.corrected_model(
            data,
            frames=frames,
            terms=list(x.columns),
            cluster=cluster or None,
            no_se=no_se,
            level=level,
        )
    except (ValueError, patsy.PatsyError) as exc:
        return pd.DataFrame(
            [{"term": "(none)", "note": f"not fitted: {str(exc).rstrip('.')}"}], columns=audit.MODEL_COLUMNS
        )


def _estimates(
    units: pd.DataFrame,
    sample: pd.DataFrame,
    design: sampling.SampleDesign,
    frames: list[str],
    *,
    annotations: Callable[[set[str]], Iterable],
    ps,
    entries: dict | None = None,
    codebook_table: pd.DataFrame,
    settings: ValidationSettings,
    folder: Path,
    coders: list[str],
    source: Path,
    model: ModelSettings | None,
    framing_cluster: str,
) -> list:
    """The tables and figure computed from the filled sheets (read and checked first) in ``folder``
    (``[validation] codes`` of ``settings``, resolved); ``model``: ``[model]`` (None: no corrected
    model), ``framing_cluster``: ``[framing] cluster``, ``source``: the study file;
    ``annotations(doc_ids)``: the annotations of those documents, in corpus order (streamed)."""
    v = settings
    codes, adjudicated = read_codes(design, sample, frames, folder=folder, codes=v.codes, coders=coders, source=source)
    languages = set(units["language"])
    both = set(LANGUAGES) <= languages
    try:
        alphas = agreement.alpha_table(codes, frames=frames, seed=v.seed, n_boot=v.bootstrap, level=v.level)
        disputed = agreement.disagreements(codes, frames=frames)
        reference = agreement.reference_codes(codes, frames=frames, adjudicated=adjudicated)
        acc = accuracy.accuracy_table(
            sample, reference, design, frames=frames, seed=v.seed, n_boot=v.bootstrap, level=v.level
        )
        if both:
            differential = accuracy.differential_error(
                sample,
                reference,
                design,
                frames=frames,
                seed=v.seed,
                languages=LANGUAGES,
                n_boot=v.bootstrap,
                level=v.level,
            )
            prevalence = corrected_prevalence(
                units, reference, design, frames, level=v.level, cluster=None if v.unit == "document" else "doc_id"
            )
            plan = budget(acc, prevalence, units, frames, half_width=v.half_width, level=v.level)
        coded = set(reference.loc[reference["reference"].notna(), "unit_id"].astype(str))
        coded_docs = set(units.loc[units["unit_id"].astype(str).isin(coded), "doc_id"].astype(str))
        hits, weights = audit_inputs(
            annotations(coded_docs), ps.prepared, units, reference, design, frames=entries or frames
        )
        patterns = audit.pattern_audit(hits, reference, weights)
        precision = codebook_precision_table(codebook_table, hits, reference, weights, level=v.level, codes=v.codes)
        fitted = (
            corrected_model_table(
                units,
                reference,
                design,
                frames,
                docvars=ps.docvars,
                formula=model.formula,
                clusters=(model.cluster, framing_cluster),
                level=v.level,
            )
            if model is not None
            else None
        )
    except ValueError as exc:
        raise InputError(
            folder,
            str(exc).rstrip("."),
            f"decide the coders' disagreements in {ADJUDICATED} in that folder "
            "(columns unit_id, frame, code), or have another coder code the units",
        ) from None
    if not both:
        note = pd.DataFrame([{"note": "needs documents in both vi and en"}])
        differential, prevalence, plan = note, note, note
    return [
        Table("validation_agreement", alphas),
        Csv("validation_disagreements", disputed),
        Table("validation_accuracy", acc),
        Figure("validation_accuracy", partial(pv.figure_accuracy, acc, level=v.level)),
        Table("validation_differential_error", differential),
        Table("validation_corrected_prevalence", prevalence),
        Table("validation_budget", plan),
        Table("validation_pattern_audit", patterns),
        precision,
        *([Table("validation_corrected_model", fitted)] if fitted is not None else []),
    ]


def run_validation(study: Study, workers: int | None = None) -> list[Path]:
    """Stage ``validation``: the coding sample and sheets; with ``[validation] codes`` the estimates.

    Writes nothing when the study has no ``[validation]`` section.
    """
    if study.validation is None:
        return []
    from ..framing.codebook import release_key_cache
    from ..framing.measures import annotate
    from ..prepared import load_codebook, load_stopwords, prepared_corpus

    v = study.validation
    codebook = load_codebook(study)
    codes = validation_codes(codebook, settings=v, source=study.source)
    frames = list(codes)  # the sheet's code columns: frames, then actor_<id>, concept_<id>
    ps = prepared_corpus(study, workers=workers)

    def annotations(doc_ids: set[str] | None = None):
        # Streamed, one document at a time (those in ``doc_ids`` only, when given): a corpus's
        # annotations held whole cost about 36 KB a document (2.9 GB at 81,000 articles).
        return (
            annotate(doc, ps.rules, codebook) for doc in ps.prepared if doc_ids is None or str(doc.doc_id) in doc_ids
        )

    around = None
    if v.unit == "document":
        units = entry_presence(annotations(), codes, min_hits=study.framing.min_hits)
        units["doc_id"] = units["unit_id"]
        release_key_cache()  # the token keys of the vocabulary: rebuilt (equal) if the audit annotates again
    else:
        units, unit_texts, around = span_units(
            annotations(),
            ps.prepared,
            codes,
            unit=v.unit,
            min_hits=study.framing.min_hits,
            rules=ps.rules,
            terms=v.kwic_terms or study.frequencies.kwic_terms,
            window=v.kwic_window,
            context=v.context,
        )
        if units.empty:
            raise InputError(
                study.source,
                f"[validation] unit = {v.unit!r} finds no unit in the corpus"
                + (" (no key term occurs)" if v.unit == "kwic" else ""),
                'check [validation] kwic_terms against the corpus, or use unit = "document"',
            )
    sample, design = sampling.draw_coding_sample(units, hit_columns=frames, seed=v.seed, size_per_stratum=v.per_stratum)
    if v.unit == "document":
        drawn = set(sample["unit_id"])
        texts = {str(d.doc_id): d.text for d in ps.corpus.documents if str(d.doc_id) in drawn}
    else:
        drawn = set(sample["unit_id"])
        texts = {u: t for u, t in unit_texts.items() if u in drawn}
        around = {u: c for u, c in around.items() if u in drawn}
    coders = coder_names(study)
    results: list = [
        Raw(
            "coding_design.json",
            json.dumps(
                coding_design(design, sample, frames, settings=v, coders=coders, min_hits=study.framing.min_hits),
                ensure_ascii=False,
                indent=2,
            )
            + "\n",
        ),
        Raw("coding_instructions.md", instructions(codebook, codes, design, coders, unit=v.unit)),
    ]
    blank = {c: sampling.coder_sheet(sample, texts, design, frames=frames, coder=c, context=around) for c in coders}
    results += [Csv("coding_sheet_{coder}", blank[c], values={"coder": c}) for c in coders]
    if xlsx_available():
        results += [Raw(f"coding_sheet_{c}.xlsx", files.xlsx_bytes(blank[c])) for c in coders]
    stopwords = {lang: load_stopwords(study, lang) for lang in LANGUAGES}
    patterns = codebook_patterns(codebook, codes, stopwords)
    if v.codes:
        results += _estimates(
            units,
            sample,
            design,
            frames,
            annotations=annotations,
            ps=ps,
            entries=codes,
            codebook_table=patterns,
            settings=v,
            folder=study.path(v.codes),
            coders=coders,
            source=study.source,
            model=study.model,
            framing_cluster=study.framing.cluster,
        )  # every sheet read and checked before anything is written
    else:
        results.append(codebook_precision_table(patterns, level=v.level, codes=v.codes))
    log.info("validation: coding sample %s, %d of %d %s units", design.draw_id, len(sample), len(units), v.unit)
    return write_results(study.output_dir, results, study)


__all__ = [
    "audit_inputs",
    "budget",
    "codebook_patterns",
    "codebook_precision_table",
    "coded_inclusion",
    "coding_design",
    "corrected_model_table",
    "corrected_prevalence",
    "instructions",
    "model_cluster",
    "pattern_audit_table",
    "pattern_hits",
    "presence_units",
    "read_codes",
    "run_validation",
    "validation_frames",
]
