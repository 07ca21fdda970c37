"""Stage ``appendix``: ``appendix.tex`` (every table and figure of the run, with captions),
``numbers.tex`` (every number a paper quotes, as macros) and ``run_manifest.{csv,tex,md}``.

Reads only files the earlier stages wrote; run ``manifest`` first (``make appendix`` does).
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pandas as pd

from . import appendix, io
from .errors import InputError
from .outputs import STAGE_ORDER, declared_outputs
from .study import Study

STAGE_TITLES = {"prepare": "Corpus and preparation", "frequencies": "Term frequencies", "framing": "Framing, actors and keyness", "topics": "Topic models"}
#: Tables whose numbers ``numbers.tex`` quotes.
QUOTED_TABLES = ("corpus_summary", "codebook_coverage", "frame_distribution_by_language", "keyness_concepts_by_language",
                 "similarity_crosslingual", "topic_k_selection")


MANIFEST_CAPTION = "Run manifest: study file and inputs (SHA-256, first 16 hex digits), segmenter, seeds, settings and package versions"


def appendix_sections(study: Study) -> list[tuple[str, list[tuple[str, str, str]]]]:
    """Per stage: its title and the ``(kind, stem, content)`` of every table and figure present
    (a figure's caption; a table's LaTeX, written into the appendix from its CSV so that
    ``\\input{figures/appendix.tex}`` works from the paper's folder). The run manifest's table
    comes last, every row (``run_manifest.csv`` is written first)."""
    out = study.output_dir
    declared = declared_outputs(tomllib.loads(study.source.read_text(encoding="utf-8-sig")))
    sections = []
    for stage in STAGE_ORDER:
        items: list[tuple[str, str, str]] = []
        for stem in dict.fromkeys(name.rsplit(".", 1)[0] for name in declared[stage]):
            if (out / f"{stem}.tex").is_file() and (out / f"{stem}.csv").is_file():
                # Written into the appendix from the CSV (fitted, capped): no path for LaTeX to resolve.
                table = appendix.typed_table(pd.read_csv(out / f"{stem}.csv", dtype=str, keep_default_na=False))
                caption = appendix.tex_caption((out / f"{stem}.tex").read_text(encoding="utf-8"))
                items.append(("table", stem, appendix.table_block(stem, table, caption)))
            if (out / f"{stem}.pdf").is_file():
                items.append(("figure", stem, appendix.figure_caption(stem)))
        sections.append((STAGE_TITLES.get(stage, stage), items))
    manifest = appendix.typed_table(pd.read_csv(out / "run_manifest.csv", dtype=str, keep_default_na=False)) if (out / "run_manifest.csv").is_file() else None
    if manifest is not None:
        sections.append(("Run manifest", [("table", "run_manifest", appendix.table_block("run_manifest", manifest, MANIFEST_CAPTION, max_rows=len(manifest)))]))
    return sections


def run_appendix(study: Study) -> list[Path]:
    """Stage ``appendix``: the run-manifest table, ``appendix.tex`` and ``numbers.tex``."""
    out = study.output_dir
    manifest_path = out / "manifest.json"
    if not manifest_path.is_file():
        raise InputError(manifest_path, "no run manifest yet", "run `make` (or every stage, then `manifest`) first")
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    written = io.write_table(
        pd.DataFrame(appendix.manifest_rows(manifest), columns=["section", "key", "value"]),
        out / "run_manifest",
        caption=MANIFEST_CAPTION,
    )
    written.append(io.write_text(out / "appendix.tex", appendix.appendix_tex(appendix_sections(study))))
    tables = {name: pd.read_csv(out / f"{name}.csv", dtype={"doc_a": str, "doc_b": str, "outlet": str})
              for name in QUOTED_TABLES if (out / f"{name}.csv").is_file()}
    written.append(io.write_text(out / "numbers.tex", appendix.numbers_tex(appendix.collect_numbers(tables))))
    return written
