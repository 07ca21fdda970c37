"""Stage ``frequencies``: term counts, per-1,000, document frequency, TF-IDF, bigrams and KWIC.

The word-level tables (``term_frequencies_by_<group>``, ``tfidf_top_terms_by_document``) are written
complete as ``.csv.gz`` and ``.parquet`` (their registry formats, :data:`analysis.study.outputs.WORD_TABLE`).
"""

from __future__ import annotations

import logging
from functools import partial
from pathlib import Path

from ..plots import base as plot
from ..prepared import PreparedStudy, prepared_corpus
from ..study.outputs import kwic_slugs
from ..study.settings import FrequencySettings, Study
from ..text import textstat
from .results import Csv, Figure, Result, Table, write_results

log = logging.getLogger("analysis")


def run_frequencies(study: Study, workers: int | None = None) -> list[Path]:
    """Stage ``frequencies``: compute every table, then write them."""
    ps = prepared_corpus(study, workers=workers)
    return write_results(study.output_dir, frequencies_results(ps, settings=study.frequencies), study)


def frequencies_results(ps: PreparedStudy, *, settings: FrequencySettings) -> list[Result]:
    """Frequency tables and charts by each ``group_by`` column, bigrams, TF-IDF and KWIC tables
    (``settings``: the study's ``[frequencies]``)."""
    dtm = ps.dtm("document")
    results: list[Result] = []
    for by in settings.group_by:
        table = textstat.frequency_table(dtm, by)
        top = textstat.top_terms(table, settings.top_n)
        results += [
            Csv("term_frequencies_by_{group}", table, {"group": by}),
            Table(
                "top_terms_by_{group}", top[["group", "rank", "term", "count", "per_1000", "doc_freq"]], {"group": by}
            ),
            Figure(
                "top_terms_by_{group}", partial(plot.figure_top_terms, top, by, settings.top_n), values={"group": by}
            ),
        ]
    bigrams = textstat.bigram_table(ps.prepared, ps.rules, ps.docvars, "language", min_count=settings.min_count_bigram)
    results += [
        Table(
            "top_bigrams_by_language",
            textstat.top_terms(bigrams, settings.top_n)[["group", "rank", "bigram", "count", "per_1000"]],
        ),
        Table("tfidf_top_terms_by_document", textstat.tfidf_top_terms(dtm, 10)),
    ]
    for term, name in kwic_slugs(settings.kwic_terms).items():  # colliding slugs get one file each
        table = textstat.kwic(ps.prepared, term, ps.rules, window=settings.kwic_window)
        if table.empty:
            log.warning("frequencies: [frequencies] kwic_terms: %s", textstat.kwic_absent(ps.prepared, term))
        results.append(Table("kwic_{term}", table, {"term": name}))
    return results
