"""Stage ``frequencies``: term counts, per-1,000, document frequency, TF-IDF, bigrams and KWIC."""

from __future__ import annotations

import logging
from functools import partial
from pathlib import Path

from . import plot, textstat
from .outputs import kwic_stems
from .prepared import PreparedStudy, prepared_corpus
from .results import Csv, Figure, Result, Table, write_results
from .study import Study

log = logging.getLogger("analysis")


def run_frequencies(study: Study, workers: int | None = None) -> list[Path]:
    """Stage ``frequencies``: compute every table, then write them."""
    ps = prepared_corpus(study, workers)
    return write_results(study.output_dir, frequencies_results(ps), study.run.figure_formats)


def frequencies_results(ps: PreparedStudy) -> list[Result]:
    """Frequency tables and charts by each ``group_by`` column, bigrams, TF-IDF and KWIC tables."""
    settings = ps.study.frequencies
    dtm = ps.dtm("document")
    results: list[Result] = []
    for by in settings.group_by:
        table = textstat.frequency_table(dtm, by)
        top = textstat.top_terms(table, settings.top_n)
        results += [
            Csv(f"term_frequencies_by_{by}.csv", table),
            Table(f"top_terms_by_{by}", top[["group", "rank", "term", "count", "per_1000", "doc_freq"]],
                  f"Top {settings.top_n} terms by {by} (per 1,000 counted tokens)"),
            Figure(f"top_terms_by_{by}", partial(plot.figure_top_terms, top, by, settings.top_n)),
        ]
    bigrams = textstat.bigram_table(ps.prepared, ps.rules, ps.docvars, "language", settings.min_count_bigram)
    results += [
        Table("top_bigrams_by_language", textstat.top_terms(bigrams, settings.top_n)[["group", "rank", "bigram", "count", "per_1000"]],
              f"Top bigrams of adjacent content terms by language (count at least {settings.min_count_bigram})"),
        Table("tfidf_top_terms_by_document", textstat.tfidf_top_terms(dtm, 10), "Top TF-IDF terms per document (count x log10(N/df))"),
    ]
    for term, stem in kwic_stems(settings.kwic_terms).items():  # colliding slugs get one file each
        table = textstat.kwic(ps.prepared, term, ps.rules, settings.kwic_window)
        if table.empty:
            log.warning("frequencies: [frequencies] kwic_terms: %s", textstat.kwic_absent(ps.prepared, term))
        results.append(Table(stem, table, formats=("csv", "md")))
    return results
