"""Stage ``appendix``: ``appendix.tex`` (every table and figure of the run, with captions),
``numbers.tex`` (every number a paper quotes, as macros) and ``run_manifest.{csv,tex,md}``.

Reads only files the earlier stages wrote; run ``manifest`` first (``make appendix`` does).
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from .. import files
from ..errors import InputError
from ..paper import appendix
from ..paper.tables import restore_formulas
from ..study.outputs import STAGE_ORDER, data_file, declared_outputs, figure_stems, output_stem
from ..study.settings import Study

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


def appendix_sections(study: Study) -> list[tuple[str, list[tuple[str, str, str]]]]:
    """Per stage: its title and the ``(kind, stem, content)`` of every registered table and figure
    present in the output folder, in registry order (a table before the figure of its stem): a
    figure's caption; a table's LaTeX, written into the appendix from its CSV so that
    ``\\input{figures/appendix.tex}`` works from the paper's folder. The run manifest's table
    comes last, every row (``run_manifest.csv`` is written first)."""
    out = study.output_dir
    captions = {stem: text for _, stem, text in figure_stems(study)}
    declared = declared_outputs(study)
    sections = []
    for stage in STAGE_ORDER:
        items: list[tuple[str, str, str]] = []
        for stem in dict.fromkeys(output_stem(name) for name in declared[stage]):
            data = out / data_file(stem)  # stem.csv, or a word-level table's stem.csv.gz
            if (out / f"{stem}.tex").is_file() and data.is_file():
                # Written into the appendix from the CSV (fitted, capped): no path for LaTeX to resolve.
                table = appendix.typed_table(read_output_csv(data))
                caption = appendix.tex_caption((out / f"{stem}.tex").read_text(encoding="utf-8"))
                items.append(("table", stem, appendix.table_block(stem, table, caption=caption)))
            if stem in captions and (out / f"{stem}.pdf").is_file():
                items.append(("figure", stem, captions[stem]))
        sections.append((STAGE_TITLES.get(stage, stage), items))
    manifest = (
        appendix.typed_table(read_output_csv(out / "run_manifest.csv"))
        if (out / "run_manifest.csv").is_file()
        else None
    )
    if manifest is not None:
        sections.append(
            (
                "Run manifest",
                [
                    (
                        "table",
                        "run_manifest",
                        appendix.table_block(
                            "run_manifest", manifest, caption=MANIFEST_CAPTION, max_rows=len(manifest)
                        ),
                    )
                ],
            )
        )
    return sections


def read_output_csv(path) -> pd.DataFrame:
    """A CSV (or ``.csv.gz``) this toolkit wrote, every cell as text, formula-leading cells as they were
    before the apostrophe that neutralised them (:func:`analysis.paper.tables.restore_formulas`)."""
    return restore_formulas(pd.read_csv(path, dtype=str, keep_default_na=False))


def quoted_tables(study: Study) -> dict[str, pd.DataFrame]:
    """The quoted tables this study declares, read back; a declared one that is missing is an error
    (a paper's macro must not silently disappear). Tables the study does not declare (say
    ``compare_by`` is not ``language``) are left out, and so are their macros."""
    out = study.output_dir
    declared = declared_outputs(study)
    tables = {}
    for name in QUOTED_TABLES:
        path = out / f"{name}.csv"
        if path.is_file():
            tables[name] = restore_formulas(pd.read_csv(path, dtype={"doc_a": str, "doc_b": str, "outlet": str}))
            continue
        for stage, names in declared.items():
            if f"{name}.csv" in names:
                raise InputError(
                    path, f"numbers.tex quotes {name}.csv, which is missing", f"run the {stage} stage first (or `make`)"
                )
    return tables


def primary_section(study: Study) -> tuple[str, dict] | None:
    """The declared primary comparison (``[design] primary``): its table's stem and numbers
    (:func:`analysis.paper.appendix.primary_numbers`); None when none is declared. Its table missing, or
    without the confirmatory row, is one line naming the key and the fix."""
    primary = study.design.primary if study.design is not None else ""
    if not primary:
        return None
    stem = primary.split(":", 1)[0].strip()
    path = study.output_dir / f"{stem}.csv"
    if not path.is_file():
        raise InputError(
            path, f"[design] primary = {primary!r} names {stem}, which is missing", "run every stage first (`make`)"
        )
    numbers = appendix.primary_numbers(pd.read_csv(path, keep_default_na=False, na_values=[""]), stem, primary)
    if not numbers:
        raise InputError(
            path,
            f"[design] primary = {primary!r}: {stem}.csv has no confirmatory row",
            "run the stage that writes it again (it marks the row), or name a row the table has",
        )
    return stem, numbers


def run_appendix(study: Study) -> list[Path]:
    """Stage ``appendix``: the run-manifest table, ``appendix.tex`` and ``numbers.tex``."""
    out = study.output_dir
    manifest_path = out / "manifest.json"
    if not manifest_path.is_file():
        raise InputError(manifest_path, "no run manifest yet", "run `make` (or every stage, then `manifest`) first")
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    tables = quoted_tables(study)  # before anything is written
    primary = primary_section(study)
    written = files.write_table(
        pd.DataFrame(appendix.manifest_rows(manifest), columns=["section", "key", "value"]),
        out / "run_manifest",
        caption=MANIFEST_CAPTION,
    )
    sections = appendix_sections(study)
    numbers = appendix.collect_numbers(tables)
    if primary:
        stem, quoted = primary
        sections.insert(
            0, ("Primary comparison (confirmatory)", [("text", stem, appendix.primary_paragraph(quoted, stem))])
        )
        numbers.update(quoted)
    written.append(files.write_text(out / "appendix.tex", appendix.appendix_tex(sections)))
    written.append(files.write_text(out / "numbers.tex", appendix.numbers_tex(numbers)))
    return written
