"""Stage ``appendix``: ``appendix.tex`` (the study's primary tables: the declared primary
comparison, frames by language, corpus and design, the count model, validation and robustness
summaries, with a methods paragraph said once and pointers to the rest), ``supplement.tex`` (every
other table and figure, the run manifest and each table's full description), ``numbers.tex``
(every number a paper quotes, as macros) and ``run_manifest.{csv,tex,md}``.

Reads only files the earlier stages wrote; run ``manifest`` first (``make appendix`` does). A stage
that has not run leaves its sections out with one sentence saying so.
"""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path

import pandas as pd

from .. import files
from ..errors import InputError
from ..paper import appendix
from ..paper.digest import summarise
from ..paper.tables import restore_formulas, to_latex
from ..study.outputs import STAGE_ORDER, data_file, declared_outputs, figure_stems, output_stem
from ..study.settings import ModelSettings, Study

log = logging.getLogger(__name__)

STAGE_TITLES = {
    "prepare": "Corpus and preparation",
    "frequencies": "Term frequencies",
    "framing": "Framing, actors and keyness",
    "topics": "Topic models",
    "equivalence": "Cross-language equivalence of the instrument",
    "design": "Contrasts, time and outlets",
    "validation": "The dictionary against human coding",
    "robustness": "Robustness to the analyst's choices",
}
#: Tables whose numbers ``numbers.tex`` quotes (:func:`analysis.paper.appendix.collect_numbers`).
QUOTED_TABLES = (
    "corpus_summary",
    "codebook_coverage",
    "frame_distribution_by_language",
    "keyness_concepts_by_language",
    "similarity_crosslingual",
    "topic_k_selection",
    "model_frames",
    "robustness_summary",
)


MANIFEST_CAPTION = (
    "Run manifest: study file and inputs (SHA-256, first 16 hex digits), segmenter, "
    "seeds, settings and package versions"
)


#: The main appendix: the study's primary tables, in this order, after the declared primary comparison.
#: ``(title, stage, table stems, figure stems)``; ``{by}`` is ``[framing] compare_by``. Every other
#: table and figure is in the supplement (:func:`supplement_sections`).
MAIN_SECTIONS = (
    (
        "Frames by language",
        "framing",
        ("frame_tests_by_{by}", "frame_distribution_by_{by}"),
        ("frame_salience_by_{by}",),
    ),
    ("Corpus and design", "framing", ("corpus_summary", "design_summary_by_{by}"), ()),
    ("Count model of frame hits", "design", ("model_frames",), ()),
    (
        "The dictionary against human coding",
        "validation",
        ("validation_agreement", "validation_accuracy", "validation_corrected_prevalence"),
        (),
    ),
    ("Robustness to the analyst's choices", "robustness", ("robustness_summary",), ()),
)


def _present(out: Path, stem: str) -> bool:
    return (out / data_file(stem)).is_file() and (out / f"{stem}.tex").is_file()  # stem.csv or stem.csv.gz


def focal_model_rows(table: pd.DataFrame, by: str) -> tuple[pd.DataFrame, str]:
    """The count model's rows a paper reads: the compared groups' coefficients (``language[T.vi]``
    for ``by = "language"``), not the intercept or the adjustment terms (a date spline's basis
    functions), which the supplement and the CSV keep."""
    if "term" not in table.columns:
        return table, ""
    focal = table[table["term"].astype(str).str.match(rf"^(C\()?{re.escape(by)}\)?\[T\.")]
    if focal.empty or len(focal) == len(table):
        return table, ""
    return focal, f"Terms of {by} only: the intercept and the other terms are in the supplement"


#: Main-appendix tables shown in part (the rest in the supplement): stem -> ``table -> (rows, note)``.
MAIN_ROWS = {"model_frames": focal_model_rows}


def _table_item(out: Path, stem: str, *, rows=None, by: str = "language", max_rows: int = appendix.APPENDIX_MAX_ROWS):
    """A table of the output folder as it appears in the appendix or supplement: read from its CSV
    (so the appendix needs no path to it), constant columns said once, short caption; ``rows``
    picks the rows shown (:data:`MAIN_ROWS`). Read in chunks, keeping only the rows shown and what
    is decided over every row (:func:`analysis.paper.digest.summarise`): a word-keyness table of
    millions of rows is never held whole."""
    path = out / data_file(stem)
    caption = appendix.short_caption(appendix.tex_caption((out / f"{stem}.tex").read_text(encoding="utf-8")))
    digest = None if rows is not None else summarise(read_output_chunks(path), keep_rows=max_rows)
    if digest is not None:
        table, caption = appendix.compact_digest(digest, caption)
        return ("table", stem, appendix.table_block(stem, table, caption=caption, max_rows=max_rows, rows=digest.rows))
    table = appendix.typed_table(read_output_csv(path))
    if rows is not None:
        table, note = rows(table, by)
        caption = f"{caption}. {note}" if note else caption
    table, caption = appendix.compact_table(table, caption)
    return ("table", stem, appendix.table_block(stem, table, caption=caption, max_rows=max_rows))


def main_stems(by: str) -> tuple[set[str], set[str]]:
    """The tables the main appendix shows whole, and its figures (the rest are the supplement's);
    ``by`` is ``[framing] compare_by``."""
    tables = {t.format(by=by) for _, _, names, _ in MAIN_SECTIONS for t in names if t not in MAIN_ROWS}
    return tables, {f.format(by=by) for _, _, _, names in MAIN_SECTIONS for f in names}


def main_sections(
    out: Path, *, declared: dict[str, list[str]], captions: dict[str, str], by: str
) -> list[tuple[str, list[tuple[str, str, str]]]]:
    """The main appendix's sections (:data:`MAIN_SECTIONS`) with the tables and figures present in
    the output folder ``out``; ``declared`` is each stage's declared file names
    (:func:`analysis.study.outputs.declared_outputs`), ``captions`` each declared figure's appendix
    caption by stem (:func:`figure_captions`), ``by`` is ``[framing] compare_by``.

    A section whose stage the study declares but has not run is one sentence saying so (and how
    to run it); a section the study does not ask for (no ``[model]``, no ``[validation]``) is left
    out."""
    sections = []
    for title, stage, tables, figures in MAIN_SECTIONS:
        stems = [t.format(by=by) for t in tables]
        stages = {t: s for t in stems for s, names in declared.items() if f"{t}.csv" in names}
        if not stages:
            continue
        items = [_table_item(out, t, rows=MAIN_ROWS.get(t), by=by) for t in stems if t in stages and _present(out, t)]
        for stem in (f.format(by=by) for f in figures):
            if stem in captions and (out / f"{stem}.pdf").is_file():
                items.append(("figure", stem, appendix.short_caption(captions[stem])))
        for stage in dict.fromkeys(stages.values()):
            missing = [f"{t}.csv" for t, s in stages.items() if s == stage and not _present(out, t)]
            if missing:
                items.append(("text", stage, appendix.not_run_sentence(stage, missing)))
        sections.append((title, items))
    return sections


def supplement_sections(
    out: Path, *, declared: dict[str, list[str]], captions: dict[str, str], by: str
) -> list[tuple[str, list[tuple[str, str, str]]]]:
    """Per stage: its title and the ``(kind, stem, content)`` of every registered table and figure
    present in the output folder and not in the main appendix, in registry order (a table before the
    figure of its stem): a figure's caption; a table's LaTeX, written from its CSV so that
    ``\\input{figures/supplement.tex}`` works from the paper's folder. The run manifest's table comes
    last, every row (``run_manifest.csv`` is written first). ``declared``, ``captions`` and ``by`` as
    :func:`main_sections` takes them."""
    shown_tables, shown_figures = main_stems(by)
    sections = []
    for stage in STAGE_ORDER:
        items: list[tuple[str, str, str]] = []
        for stem in dict.fromkeys(output_stem(name) for name in declared[stage]):
            if _present(out, stem) and stem not in shown_tables:
                items.append(_table_item(out, stem))
            if stem in captions and (out / f"{stem}.pdf").is_file() and stem not in shown_figures:
                items.append(("figure", stem, appendix.short_caption(captions[stem])))
        sections.append((STAGE_TITLES.get(stage, stage), items))
    if (out / "run_manifest.csv").is_file():
        manifest = appendix.typed_table(read_output_csv(out / "run_manifest.csv"))
        block = appendix.table_block("run_manifest", manifest, caption=MANIFEST_CAPTION, max_rows=len(manifest))
        sections.append(("Run manifest", [("table", "run_manifest", block)]))
    return sections


def table_notes(out: Path, *, declared: dict[str, list[str]]) -> list[tuple[str, str]]:
    """``(stem, full caption)`` of every declared table present in ``out``: what each column means and
    how each number was made, said once per table at the end of the supplement (the captions above it
    are short)."""
    notes = []
    for stage in STAGE_ORDER:
        for stem in dict.fromkeys(output_stem(name) for name in declared[stage]):
            if _present(out, stem):
                caption = appendix.tex_caption((out / f"{stem}.tex").read_text(encoding="utf-8"))
                if caption:
                    notes.append((stem, caption))
    return notes


def stage_status(out: Path, *, declared: dict[str, list[str]]) -> list[tuple[str, int, int, list[str]]]:
    """Per stage with declared tables: its name, tables present in ``out``, tables declared, and the
    missing ones' CSV names (a stage that has not run has none present)."""
    rows = []
    for stage in STAGE_ORDER:
        stems = [n[: -len(".tex")] for n in declared[stage] if n.endswith(".tex")]
        if not stems:
            continue
        missing = [data_file(s) for s in stems if not _present(out, s)]
        rows.append((stage, len(stems) - len(missing), len(stems), missing))
    return rows


def appendix_sections(
    out: Path, *, declared: dict[str, list[str]], captions: dict[str, str], by: str
) -> list[tuple[str, list[tuple[str, str, str]]]]:
    """Every section of the main appendix and the supplement, in order (what the two files hold);
    the parameters as :func:`main_sections` takes them."""
    return [
        *main_sections(out, declared=declared, captions=captions, by=by),
        *supplement_sections(out, declared=declared, captions=captions, by=by),
    ]


def figure_captions(study: Study) -> dict[str, str]:
    """Every declared figure's appendix caption, by stem (:func:`analysis.study.outputs.figure_stems`)."""
    return {stem: text for _, stem, text in figure_stems(study)}


def read_output_csv(path) -> pd.DataFrame:
    """A CSV (or ``.csv.gz``) this toolkit wrote, every cell as text, formula-leading cells as they were
    before the apostrophe that neutralised them (:func:`analysis.paper.tables.restore_formulas`)."""
    return restore_formulas(pd.read_csv(path, dtype=str, keep_default_na=False))


#: Rows read at a time from a table the appendix quotes or shows in part (a few tens of MB of text).
CHUNK_ROWS = 50_000


def read_output_chunks(path, *, chunk_rows: int = CHUNK_ROWS):
    """:func:`read_output_csv` one chunk of ``chunk_rows`` rows at a time (the same cells; a table
    of no rows is one empty chunk with its header)."""
    with pd.read_csv(path, dtype=str, keep_default_na=False, chunksize=chunk_rows) as reader:
        for chunk in reader:
            yield restore_formulas(chunk)


def quoted_tables(out: Path, *, declared: dict[str, list[str]]) -> tuple[dict[str, pd.DataFrame], list[str]]:
    """The quoted tables this study declares, read back, and the declared ones that are missing
    (their stage has not run: their macros are left out, and ``numbers.tex`` and the appendix say
    so). Tables the study does not declare (say ``compare_by`` is not ``language``) are left out
    without a word. ``similarity_crosslingual`` is its one quoted row (:func:`best_similarity`: it
    has a row per document pair). ``out`` is the output folder, ``declared`` as :func:`main_sections`
    takes it."""
    tables, missing = {}, []
    for name in QUOTED_TABLES:
        path = out / f"{name}.csv"
        if path.is_file():
            read = best_similarity if name == "similarity_crosslingual" else _read_quoted
            tables[name] = read(path)
        elif any(f"{name}.csv" in names for names in declared.values()):
            missing.append(f"{name}.csv")
    return tables, missing


#: Columns read as text in a quoted table, whatever they hold (document ids and outlets).
QUOTED_TEXT_COLUMNS = {"doc_a": str, "doc_b": str, "outlet": str}


def _read_quoted(path: Path) -> pd.DataFrame:
    return restore_formulas(pd.read_csv(path, dtype=QUOTED_TEXT_COLUMNS))


def best_similarity(path: Path, *, chunk_rows: int = CHUNK_ROWS) -> pd.DataFrame:
    """The first row of ``similarity_crosslingual.csv`` in the order ``numbers.tex`` quotes it
    (:func:`analysis.paper.appendix.collect_numbers`: highest cosine, then ``doc_a``, ``doc_b``,
    then file order), read in chunks: one row per document pair, so it grows with the corpus. The
    best of each chunk is kept, ties going to the earlier (a stable sort of the kept rows)."""
    best = None
    key = {"by": ["cosine", "doc_a", "doc_b"], "ascending": [False, True, True], "kind": "mergesort"}
    with pd.read_csv(path, dtype=QUOTED_TEXT_COLUMNS, chunksize=chunk_rows) as reader:
        for chunk in reader:
            rows = restore_formulas(chunk) if best is None else pd.concat([best, restore_formulas(chunk)])
            best = rows.sort_values(**key).iloc[:1]
    return _read_quoted(path) if best is None else best.reset_index(drop=True)


def primary_section(out: Path, *, primary: str) -> tuple[str, dict, pd.DataFrame] | None:
    """The declared primary comparison (``primary``: ``[design] primary``, "" for none): its table's
    stem, numbers (:func:`analysis.paper.appendix.primary_numbers`) and table, read from the output
    folder ``out``; None when none is declared or its table is not written yet (the appendix says
    so). A table without the confirmatory row is one line naming the key and the fix."""
    if not primary:
        return None
    stem = primary.split(":", 1)[0].strip()
    path = out / f"{stem}.csv"
    if not path.is_file():
        return None
    table = pd.read_csv(path, keep_default_na=False, na_values=[""])
    numbers = appendix.primary_numbers(table, stem, primary)
    if not numbers:
        raise InputError(
            path,
            f"[design] primary = {primary!r}: {stem}.csv has no confirmatory row",
            "run the stage that writes it again (it marks the row), or name a row the table has",
        )
    return stem, numbers, table


def primary_lead(primary, *, key: str, declared: dict[str, list[str]]) -> list[tuple[str, str, str]]:
    """The appendix's first items: the primary comparison's paragraph and its row, down the page;
    or, its table not written yet, one sentence saying so. ``primary`` is what
    :func:`primary_section` returned, ``key`` the ``[design] primary`` value ("" for none),
    ``declared`` as :func:`main_sections` takes it."""
    if primary is None:
        if not key:
            return []
        stem = key.split(":", 1)[0].strip()
        stage = next((s for s, names in declared.items() if f"{stem}.csv" in names), "framing")
        return [("text", stem, appendix.not_run_sentence(stage, [f"{stem}.csv"]))]
    stem, numbers, table = primary
    items = [("text", stem, appendix.primary_paragraph(numbers, stem))]
    row = appendix.primary_row_table(table)
    if row is not None:
        block = to_latex(
            row, caption=f"The declared primary comparison: its row of {stem}.csv", label=f"{stem}-primary"
        )
        items.append(("table", stem, block.rstrip("\n")))
    return items


def model_description(model: ModelSettings | None) -> str:
    """The count model (``[model]``) in one sentence, for the methods paragraph ("" without it)."""
    if model is None:
        return ""
    cluster = (
        f"; CR2 standard errors clustered by {model.cluster} with Bell-McCaffrey degrees of freedom"
        if model.cluster
        else ""
    )
    return (
        f"The count model regresses each frame's hits on {model.formula} ({model.family}, log({model.exposure}) "
        f"as offset{cluster}); its rate ratios are exp(coefficient), a spline's terms are its basis functions "
        "(date spline 1/4 ...)"
    )


def run_appendix(study: Study) -> list[Path]:
    """Stage ``appendix``: the run-manifest table, ``appendix.tex`` (the primary tables),
    ``supplement.tex`` (the rest) and ``numbers.tex``. Works with whichever stages have run: a
    declared section whose stage has not run is one sentence saying so (and a warning here)."""
    out = study.output_dir
    declared = declared_outputs(study)
    captions = figure_captions(study)
    by = study.framing.compare_by
    key = study.design.primary if study.design is not None else ""
    manifest_path = out / "manifest.json"
    if not manifest_path.is_file():
        raise InputError(manifest_path, "no run manifest yet", "run `make` (or every stage, then `manifest`) first")
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    tables, missing_quoted = quoted_tables(out, declared=declared)  # before anything is written
    primary = primary_section(out, primary=key)
    written = files.write_table(
        pd.DataFrame(appendix.manifest_rows(manifest), columns=["section", "key", "value"]),
        out / "run_manifest",
        caption=MANIFEST_CAPTION,
    )
    status = stage_status(out, declared=declared)
    not_run = [stage for stage, present, _, _ in status if present == 0]
    for stage, present, total, missing in status:
        if present < total:
            log.warning(
                "appendix: %s: %d of %d tables missing (%s%s); their sections say so (run `make %s` first)",
                stage,
                total - present,
                total,
                ", ".join(missing[:3]),
                " ..." if len(missing) > 3 else "",
                stage,
            )
    supplement = supplement_sections(out, declared=declared, captions=captions, by=by)
    numbering = appendix.supplement_numbering(supplement)
    counts = {
        title: (
            numbering[title],
            sum(kind == "table" for kind, *_ in items),
            sum(kind == "figure" for kind, *_ in items),
        )
        for title, items in supplement
        if items
    }
    methods = appendix.methods_paragraph(
        compare_by=study.framing.compare_by,
        cluster=study.framing.cluster,
        bootstrap=study.framing.bootstrap,
        permutations=study.framing.permutations,
        min_group_docs=study.framing.min_group_docs,
        model=model_description(study.model),
    )
    main = appendix.appendix_tex(
        main_sections(out, declared=declared, captions=captions, by=by),
        methods=methods,
        lead=primary_lead(primary, key=key, declared=declared),
        pointers=appendix.pointers_paragraph(supplement=counts, not_run=not_run),
    )
    numbers = appendix.collect_numbers(tables)
    if primary:
        numbers.update(primary[1])
    written.append(files.write_text(out / "appendix.tex", main))
    written.append(
        files.write_text(
            out / "supplement.tex", appendix.supplement_tex(supplement, notes=table_notes(out, declared=declared))
        )
    )
    written.append(files.write_text(out / "numbers.tex", appendix.numbers_tex(numbers, missing=missing_quoted)))
    return written
