"""Stage ``prepare``: clean, normalise and segment every document (cached), then write the
cleaning log, the preparation table and the corpus summary (table and figure)."""

from __future__ import annotations

from functools import partial
from pathlib import Path

from ..corpus.dates import date_ranges
from ..plots import base as plot
from ..prepared import PreparedStudy, prepared_corpus
from ..study.settings import Study
from ..text import textstat
from .results import Csv, Figure, Result, Table, write_results


def run_prepare(study: Study, workers: int | None = None) -> list[Path]:
    """Stage ``prepare``: prepare the corpus, compute the tables, write them."""
    ps = prepared_corpus(study, workers=workers)
    return write_results(study.output_dir, prepare_results(ps), study)


def prepare_results(ps: PreparedStudy) -> list[Result]:
    """Cleaning log, preparation per document and the corpus summary of a prepared study."""
    summary = textstat.corpus_summary(ps.prepared, ps.dtm("document"), ps.docvars, ("language", "outlet"))
    table = summary
    if "date" in ps.docvars.columns:  # each group's date range (analysis/corpus/dates.py); the figure draws sizes only
        ranges = date_ranges(ps.docvars.loc[[d.doc_id for d in ps.prepared]], ("language", "outlet"))
        table = summary.merge(ranges, on=["language", "outlet"], how="left", validate="one_to_one")
    return [
        Csv("cleaning_log", textstat.cleaning_log(ps.prepared)),
        Csv("preparation_by_document", textstat.preparation_table(ps.prepared, ps.study.text.resegment)),
        Table("corpus_summary", table),
        Figure("corpus_summary", partial(plot.figure_corpus_summary, summary)),  # data: corpus_summary.csv
    ]
