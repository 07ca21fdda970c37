"""Stage ``prepare``: clean, normalise and segment every document (cached), then write the
cleaning log, the preparation table and the corpus summary (table and figure).

A re-run with nothing changed writes nothing: the corpus is read (its files hashed), and when the
stage's stamp in the cache (:mod:`analysis.stages.stamp`) holds the same digest of settings, corpus
files, resource files, code and package versions, every recorded output still has its recorded
bytes and every prepared document is still in the cache, the stage stops there (a cold run would
write the same bytes). Otherwise it prepares, writes and stamps as usual.
"""

from __future__ import annotations

import logging
from pathlib import Path

from .. import files
from ..corpus import sources
from ..corpus.dates import date_ranges
from ..prepared import PreparedStudy, prepared_corpus, resource_digests
from ..study.settings import Study
from ..text import textstat
from ..text.tokens import TermCounter
from . import stamp
from .results import Csv, Figure, Result, Table, write_results

log = logging.getLogger("analysis")

STAGE = "prepare"
#: The groups of the corpus summary (each value of the first over the second, then all).
SUMMARY_BY = ("language", "outlet")


def run_prepare(study: Study, workers: int | None = None) -> list[Path]:
    """Stage ``prepare``: prepare the corpus, compute the tables, write them (nothing when fresh)."""
    corpus = sources.read_corpus(study)  # read and hashed once, here
    digest = stamp.inputs_digest(
        STAGE, {"settings": study.as_dict(), "corpus": corpus.file_hashes, "resources": resource_digests(study)}
    )
    cache = files.PreparedCache(study.cache_dir)
    out = study.output_dir
    fresh = stamp.fresh(cache, out, STAGE, digest)
    if fresh is not None:
        log.info("prepare: the outputs in %s are up to date (stamp %s); nothing to do", out, digest[:12])
        return fresh
    stamp.forget(cache, out, STAGE)
    ps = prepared_corpus(study, workers=workers, corpus=corpus)
    written = write_results(out, prepare_results(ps), study)
    keys = getattr(ps.prepared, "keys", None)
    if keys is not None:
        stamp.write_stamp(cache, out, STAGE, digest=digest, written=written, keys=keys)
    return written


def prepare_results(ps: PreparedStudy) -> list[Result]:
    """Cleaning log, preparation per document and the corpus summary of a prepared study.

    One pass over the prepared documents (each read from the cache once) collects all three: the
    summary's ``terms`` are each document's counted terms (the non-``None`` entries of
    :func:`analysis.text.tokens.term_sentences`, what a row of the document-term matrix adds up to),
    counted by :class:`~analysis.text.tokens.TermCounter` in the pass that counts its tokens and
    types, so neither a matrix nor the terms themselves are built for them.
    """
    type_ids: dict[str, int] = {}
    counts, terms, cleaning, preparation = {}, {}, [], []
    resegment = ps.study.text.resegment
    counter = TermCounter(ps.rules)
    for doc in ps.prepared:
        counts[doc.doc_id], terms[doc.doc_id] = textstat.summary_counts(doc, counter, type_ids)
        cleaning += textstat.cleaning_rows(doc)
        preparation.append(textstat.preparation_row(doc, resegment))
    doc_ids = list(counts)
    summary = textstat.summary_table(counts, terms, ps.docvars.loc[doc_ids, list(SUMMARY_BY)])
    table = summary
    if "date" in ps.docvars.columns:  # each group's date range (analysis/corpus/dates.py); the figure draws sizes only
        ranges = date_ranges(ps.docvars.loc[doc_ids], SUMMARY_BY)
        table = summary.merge(ranges, on=list(SUMMARY_BY), how="left", validate="one_to_one")
    return [
        Csv("cleaning_log", textstat.cleaning_frame(cleaning)),
        Csv("preparation_by_document", textstat.preparation_frame(preparation)),
        Table("corpus_summary", table),
        Figure("corpus_summary", lambda: _summary_figure(summary)),  # data: corpus_summary.csv
    ]


def _summary_figure(summary):
    from ..plots import base as plot  # matplotlib loads only when the figure is drawn

    return plot.figure_corpus_summary(summary)
