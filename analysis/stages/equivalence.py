"""Stage ``equivalence``: the instrument checked on translations, and the codebook audited on the corpus.

Read (study, codebook, the study's prepared corpus, the ``[equivalence] parallel`` sample) ->
compute (:mod:`analysis.framing.equivalence`, :mod:`analysis.framing.codebook`) -> draw
(:mod:`analysis.plots.equivalence`) -> write (:mod:`analysis.files`). Every input is read and checked
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
  study's margin), the pairs needed to decide, the paired test and the flag
  (:func:`analysis.framing.equivalence.equivalence_table`);
* ``equivalence_summary`` (led by the shares per status); ``equivalence_denominators`` (the
  status shares under every candidate denominator);
* ``equivalence_calibrated_by_language``: the study corpus's vi/en ratios divided by the
  translation ratios (:func:`analysis.framing.equivalence.calibrated_ratios`);
* the figure ``equivalence_ratios`` (frames, and concepts flagged or shown not equivalent, coloured by status).
"""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from ..framing import equivalence as eq
from .. import files
from ..corpus import folder
from ..plots import base as plot
from ..plots import equivalence as pe
from ..framing.codebook import codebook_audit
from ..corpus.documents import Document
from ..stats.resampling import SMALL_REASON
from ..study.settings import Study

log = logging.getLogger("analysis")

MAX_FIGURE_CONCEPTS = 25


def read_parallel_sample(study: Study) -> folder.ParallelSample | None:
    """The study's parallel sample, checked (``None`` when ``[equivalence] parallel`` is "")."""
    if not study.equivalence.parallel:
        return None
    return folder.read_parallel(study.path(study.equivalence.parallel))


def parallel_documents(sample: folder.ParallelSample) -> tuple[list[Document], list[Document]]:
    """One document per ``docs.csv`` row and language (a line = a paragraph), ``(vi, en)``."""
    out: dict[str, list[Document]] = {"vi": [], "en": []}
    for doc_id, start, end in sample.docs:
        for lang in ("vi", "en"):
            lines = (sample.vi if lang == "vi" else sample.en)[start - 1:end]
            out[lang].append(Document(f"{doc_id}", lang, "\n\n".join(lines) + "\n", {"doc_id": doc_id, "language": lang}))
    return out["vi"], out["en"]


def run_equivalence(study: Study, workers: int | None = None) -> list[Path]:
    """Stage ``equivalence``: pattern sources and audit on the corpus; with a parallel sample, the check."""
    from ..framing.measures import annotate
    from ..prepared import load_codebook, load_stopwords, prepared_corpus

    codebook = load_codebook(study)
    sample = read_parallel_sample(study)  # checked before anything is written
    ps = prepared_corpus(study, workers=workers)
    out = study.output_dir
    annotations = [annotate(doc, ps.rules, codebook) for doc in ps.prepared]
    raw_stopwords = {lang: load_stopwords(study, lang) for lang in ("vi", "en")}
    written: list[Path] = []
    sources = eq.pattern_sources(annotations, codebook)
    written += files.write_table(sources, out / "codebook_pattern_sources",
                              caption="Codebook patterns behind each frame's, actor's and concept's hits in the study corpus, per language: hits and share of the entry's hits")
    audit = codebook_audit(codebook, raw_stopwords)
    flagged = audit[(audit["note"] != "")].reset_index(drop=True)
    written += files.write_table(flagged, out / "codebook_audit",
                              caption="Codebook entries that are one-sided (patterns in one language only) or have patterns on a stopword list "
                                      "(exempted from it, in both languages by the same rule, so they are counted)")
    if sample is None:
        return written
    return written + _parallel_check(study, ps, codebook, sample, annotations, workers)


def _parallel_check(study: Study, ps, codebook, sample: folder.ParallelSample, annotations: list, workers: int | None) -> list[Path]:
    """The instrument on the translated sample, and the study corpus calibrated by it (written)."""
    from ..framing.measures import annotate
    from ..text.prepare import prepare_corpus

    settings, out, written = study.equivalence, study.output_dir, []
    docs_vi, docs_en = parallel_documents(sample)
    cache = files.PreparedCache(study.cache_dir)
    prepared = prepare_corpus([*docs_vi, *docs_en], ps.preparation, cache=cache, workers=study.run.workers if workers is None else workers)
    pairs = [annotate(doc, ps.rules, codebook) for doc in prepared]
    n = len(docs_vi)
    index = eq.entry_index(codebook)
    counts_vi, den_vi = eq.entry_counts(pairs[:n], codebook)
    counts_en, den_en = eq.entry_counts(pairs[n:], codebook)
    unit = eq.UNIT_LABEL[eq.CROSS_LANGUAGE_DENOMINATOR]
    table = eq.equivalence_table(counts_vi, counts_en, den_vi, den_en, index, denominator=eq.CROSS_LANGUAGE_DENOMINATOR, n_boot=settings.bootstrap,
                                 n_resamples=settings.permutations, seed=settings.seed, margin=settings.margin)
    band = f"[{1 / settings.margin:.2f}, {settings.margin:.2f}]"
    written += files.write_table(table, out / "equivalence_by_entry",
                              caption=f"Equivalence on translations ({n} pairs): vi/en rate ratio {unit} (0.5 added to both hit totals) with 95% and 90% bootstrap "
                                      f"intervals over pairs; status: shown equivalent = 90% interval inside the margin {band} (TOST, both one-sided 5% tests; "
                                      f"tost_p from the same bootstrap) and still inside with one more hit on either side, shown not equivalent = 95% interval "
                                      f"outside it, else undetermined, with pairs_needed = translated pairs that would decide it at the observed ratio and spread; "
                                      f"paired sign-flip test (BH q within kind); flag = one-sided, q < 0.05, or shown not equivalent (unflagged is not equivalent)")
    written += files.write_table(eq.summary_table(table, den_vi, den_en, margin=settings.margin), out / "equivalence_summary",
                              caption=f"Equivalence check on {n} translated pairs: shares of entries shown equivalent, shown not equivalent and undetermined "
                                      f"within the margin {band}, then the paired tests and flags")
    denominators = eq.denominator_table(counts_vi, counts_en, den_vi, den_en, index, n_boot=min(500, settings.bootstrap),
                                        n_resamples=min(2000, settings.permutations), seed=settings.seed, margin=settings.margin)
    written += files.write_table(denominators, out / "equivalence_denominators",
                              caption="Denominator sensitivity on translations: per candidate (per document, per 100 sentences, per 1,000 counted tokens, "
                                      "per 1,000 word tokens, per 1,000 concept hits, presence), the size ratio of a pair's two sides and the shares of "
                                      f"concepts, frames and actors shown equivalent, shown not equivalent and undetermined within {band}; cross-language "
                                      f"rates use {unit}. A sentence-aligned translation (such as machine translation line by line) has the same number "
                                      "of sentences on both sides by construction, so it favours the sentence denominator; a human-translated or "
                                      "article-level sample, where translators merge, split and drop sentences, is what judges it")
    # calibration: the study corpus's languages against the translation ratio
    study_counts, study_den = eq.entry_counts(annotations, codebook)
    is_vi = (study_den["language"] == "vi").to_numpy()
    is_en = (study_den["language"] == "en").to_numpy()
    calibrated = eq.calibrated_ratios(study_counts[is_vi], study_den[is_vi], study_counts[is_en], study_den[is_en],
                                      counts_vi, den_vi, counts_en, den_en, index, denominator=eq.CROSS_LANGUAGE_DENOMINATOR, n_boot=settings.bootstrap, seed=settings.seed,
                                      min_docs=study.framing.min_group_docs)
    written += files.write_table(calibrated, out / "equivalence_calibrated_by_language",
                              caption=f"Study corpus vi/en rate ratios {unit}, calibrated by the translation ratio (observed / translation; 95% interval from "
                                      "independent bootstraps of study documents and translated pairs; assumes the parallel sample shares the instrument's bias); "
                                      f"a language with fewer than {study.framing.min_group_docs} study documents flagged too small ({SMALL_REASON})")
    concepts = table[(table["kind"] == "concept") & table["p"].notna() & (table["flag"] | (table["status"] == eq.SHOWN_NOT_EQUIVALENT))]
    concepts = concepts.assign(_first=concepts["status"] != eq.SHOWN_NOT_EQUIVALENT).sort_values(["_first", "q"], kind="mergesort")
    shown = pd.concat([table[table["kind"] == "frame"], concepts.drop(columns="_first").head(MAX_FIGURE_CONCEPTS)])
    data = shown[["kind", "family", "entry", "label", "ratio", "ci_low", "ci_high", "ci90_low", "ci90_high", "status", "flag"]].reset_index(drop=True)
    fig, (ax,) = plot.new_figure(1, 6.0, 0.18 * max(1, len(data)) + 1.4)
    pe.plot_ratios(ax, data, title=f"vi/en rate ratio on {n} translated pairs, by equivalence status", unit=unit, margin=settings.margin)
    written += files.save_figure(fig, out / "equivalence_ratios", formats=study.run.figure_formats, data=data)
    plot.close(fig)
    return written


__all__ = ["parallel_documents", "read_parallel_sample", "run_equivalence"]
