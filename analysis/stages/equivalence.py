"""Stage ``equivalence``: the instrument checked on translations, and the codebook audited on the corpus.

Read (study, codebook, the study's prepared corpus, the ``[equivalence] parallel`` sample) ->
compute (:mod:`analysis.framing.equivalence`, :mod:`analysis.framing.codebook`) -> write through the one
writer (:func:`analysis.stages.results.write_results`: captions from the registry, the figure drawn there). Every input
is read and checked
before the first file is written. The files are exactly :func:`analysis.study.outputs.equivalence_outputs`.

Always (with or without a parallel sample), on the study corpus:

* ``codebook_pattern_sources``: the patterns behind each frame's, actor's and concept's hits,
  per language, with counts and shares;
* ``codebook_audit``: entries that are one-sided, and patterns that are stopwords (exempted
  from the stopword lists, :func:`analysis.framing.codebook.stopword_exemptions`).

With a parallel sample (line-aligned ``en.txt``/``vi.txt``, optional ``docs.csv``), the sample
is prepared with the study's own preparation (segmenter, phrases, boilerplate rules, cache) and
term rules, annotated with the study's codebook, and:

* ``equivalence_by_entry``: per entry, the vi/en rate ratio on translations with its intervals,
  the equivalence status (shown equivalent / shown not equivalent / undetermined, TOST within the
  study's margin, corrected across the entries of each kind by Benjamini-Hochberg, the verdict of
  each entry on its own kept beside), the pairs needed to decide, the paired test and the flag
  (:func:`analysis.framing.equivalence.equivalence_table`);
* ``equivalence_summary`` (led by the shares per status); ``equivalence_denominators`` (the
  status shares under every candidate denominator);
* ``equivalence_calibrated_by_language``: the study corpus's vi/en ratios divided by the
  translation ratios (:func:`analysis.framing.equivalence.calibrated_ratios`);
* the figure ``equivalence_ratios`` (frames, and concepts flagged or shown not equivalent, coloured by status).
"""

from __future__ import annotations

import logging
from functools import partial
from pathlib import Path

import pandas as pd

from .. import files
from ..corpus import folder
from ..corpus.documents import Document
from ..framing import equivalence as eq
from ..framing.codebook import codebook_audit, release_key_cache
from ..plots import base as plot
from ..plots import equivalence as pe
from ..study.settings import EquivalenceSettings, Study
from .results import Figure, Result, Table, write_results

log = logging.getLogger("analysis")

MAX_FIGURE_CONCEPTS = 25


def read_parallel_sample(path: Path | None) -> folder.ParallelSample | None:
    """The parallel sample in the folder ``path`` (``[equivalence] parallel``, resolved), checked;
    ``None`` for no folder."""
    if path is None:
        return None
    return folder.read_parallel(path)


def parallel_documents(sample: folder.ParallelSample) -> tuple[list[Document], list[Document]]:
    """One document per ``docs.csv`` row and language (a line = a paragraph), ``(vi, en)``."""
    out: dict[str, list[Document]] = {"vi": [], "en": []}
    for doc_id, start, end in sample.docs:
        for lang in ("vi", "en"):
            lines = (sample.vi if lang == "vi" else sample.en)[start - 1 : end]
            out[lang].append(
                Document(f"{doc_id}", lang, "\n\n".join(lines) + "\n", {"doc_id": doc_id, "language": lang})
            )
    return out["vi"], out["en"]


def run_equivalence(study: Study, workers: int | None = None) -> list[Path]:
    """Stage ``equivalence``: pattern sources and audit on the corpus; with a parallel sample, the check."""
    from ..prepared import load_codebook, load_stopwords, prepared_corpus

    parallel = study.equivalence.parallel
    sample = read_parallel_sample(study.path(parallel) if parallel else None)  # checked before anything is written
    codebook = load_codebook(study)
    ps = prepared_corpus(study, workers=workers)
    raw_stopwords = {lang: load_stopwords(study, lang) for lang in ("vi", "en")}
    results = equivalence_results(
        ps,
        codebook,
        sample,
        stopwords=raw_stopwords,
        settings=study.equivalence,
        cache_dir=study.cache_dir,
        workers=study.run.workers if workers is None else workers,
        min_group_docs=study.framing.min_group_docs,
    )
    return write_results(study.output_dir, results, study)


def equivalence_results(
    ps,
    codebook,
    sample: folder.ParallelSample | None,
    *,
    stopwords: dict[str, frozenset[str]],
    settings: EquivalenceSettings,
    cache_dir: Path,
    workers: int,
    min_group_docs: int,
) -> list[Result]:
    """Every output of the stage, computed (tables and a figure composer), for the one writer: the
    codebook's pattern sources on the prepared corpus ``ps`` and its audit against the raw stopword
    lists ``stopwords`` (language -> words); with a parallel ``sample``, :func:`_parallel_check`
    (``settings``: ``[equivalence]``; ``cache_dir``, ``workers``: the prepared-document cache and the
    preparation's processes; ``min_group_docs``: ``[framing] min_group_docs``)."""
    from ..framing.measures import annotate

    # The annotations are streamed one document at a time and only tallied, never all held (the
    # stage's peak grew by about 63 KB a document when they were): the pattern sources, and with a
    # translated sample the study's entry counts per document, in the same pass.
    annotations = (annotate(doc, ps.rules, codebook) for doc in ps.prepared)
    sources, study_counts = eq.corpus_counts(annotations, codebook, entries=sample is not None)
    release_key_cache()  # the token keys of the corpus's vocabulary (up to 500,000): not needed past annotation
    audit = codebook_audit(codebook, stopwords)
    results: list[Result] = [
        Table("codebook_pattern_sources", sources),
        Table("codebook_audit", audit[(audit["note"] != "")].reset_index(drop=True)),
    ]
    if sample is None:
        return results
    return results + _parallel_check(
        ps,
        codebook,
        sample,
        study_counts,
        settings=settings,
        cache_dir=cache_dir,
        workers=workers,
        min_group_docs=min_group_docs,
    )


def _parallel_check(
    ps,
    codebook,
    sample: folder.ParallelSample,
    study_counts: tuple[pd.DataFrame, pd.DataFrame],
    *,
    settings: EquivalenceSettings,
    cache_dir: Path,
    workers: int,
    min_group_docs: int,
) -> list[Result]:
    """The instrument on the translated sample, and the study corpus calibrated by it (the parameters
    as :func:`equivalence_results` takes them; ``study_counts``: :func:`analysis.framing.equivalence.entry_counts`
    of the study's documents)."""
    from ..framing.measures import annotate
    from ..text.prepare import prepare_corpus

    docs_vi, docs_en = parallel_documents(sample)
    cache = files.PreparedCache(cache_dir)
    prepared = prepare_corpus([*docs_vi, *docs_en], ps.preparation, cache=cache, workers=workers)
    pairs = [annotate(doc, ps.rules, codebook) for doc in prepared]
    n = len(docs_vi)
    index = eq.entry_index(codebook)
    counts_vi, den_vi = eq.entry_counts(pairs[:n], codebook)
    counts_en, den_en = eq.entry_counts(pairs[n:], codebook)
    unit = eq.UNIT_LABEL[eq.CROSS_LANGUAGE_DENOMINATOR]
    table = eq.equivalence_table(
        counts_vi,
        counts_en,
        den_vi,
        den_en,
        index,
        denominator=eq.CROSS_LANGUAGE_DENOMINATOR,
        n_boot=settings.bootstrap,
        n_resamples=settings.permutations,
        seed=settings.seed,
        margin=settings.margin,
    )
    values = {"n": n, "unit": unit, "band": f"[{1 / settings.margin:.2f}, {settings.margin:.2f}]"}
    denominators = eq.denominator_table(
        counts_vi,
        counts_en,
        den_vi,
        den_en,
        index,
        n_boot=min(500, settings.bootstrap),
        n_resamples=min(2000, settings.permutations),
        seed=settings.seed,
        margin=settings.margin,
    )
    # calibration: the study corpus's languages against the translation ratio
    study_counts, study_den = study_counts
    is_vi = (study_den["language"] == "vi").to_numpy()
    is_en = (study_den["language"] == "en").to_numpy()
    calibrated = eq.calibrated_ratios(
        study_counts[is_vi],
        study_den[is_vi],
        study_counts[is_en],
        study_den[is_en],
        pairs_vi=counts_vi,
        pairs_den_vi=den_vi,
        pairs_en=counts_en,
        pairs_den_en=den_en,
        index=index,
        denominator=eq.CROSS_LANGUAGE_DENOMINATOR,
        n_boot=settings.bootstrap,
        seed=settings.seed,
        min_docs=min_group_docs,
    )
    concepts = table[
        (table["kind"] == "concept")
        & table["p"].notna()
        & (table["flag"] | (table["status"] == eq.SHOWN_NOT_EQUIVALENT))
    ]
    concepts = concepts.assign(_first=concepts["status"] != eq.SHOWN_NOT_EQUIVALENT).sort_values(
        ["_first", "q"], kind="mergesort"
    )
    shown = pd.concat([table[table["kind"] == "frame"], concepts.drop(columns="_first").head(MAX_FIGURE_CONCEPTS)])
    data = shown[
        ["kind", "family", "entry", "label", "ratio", "ci_low", "ci_high", "ci90_low", "ci90_high", "status", "flag"]
    ].reset_index(drop=True)
    return [
        Table("equivalence_by_entry", table, values),
        Table("equivalence_summary", eq.summary_table(table, den_vi, den_en, margin=settings.margin), values),
        Table("equivalence_denominators", denominators, values),
        Table("equivalence_calibrated_by_language", calibrated, values),
        Figure("equivalence_ratios", partial(_ratios_figure, data, n=n, unit=unit, margin=settings.margin), data),
    ]


def _ratios_figure(data: pd.DataFrame, *, n: int, unit: str, margin: float):
    fig, (ax,) = plot.new_figure(1, 6.0, 0.18 * max(1, len(data)) + 1.4)
    pe.plot_ratios(
        ax, data, title=f"vi/en rate ratio on {n} translated pairs, by equivalence status", unit=unit, margin=margin
    )
    return fig
