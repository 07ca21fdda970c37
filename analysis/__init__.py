"""vnen-analysis: compare Vietnamese- and English-language news coverage.

Term frequencies, framing through a bilingual codebook, keyness and topic models, from one study
file. Every function here takes data and returns a DataFrame or an array (never writes a file);
``make`` (or ``python -m analysis <stage>``) runs the same computations and writes the outputs.

A study, step by step::

    import analysis as va

    study = va.open_study("study.toml")      # 1. settings, every value checked (one line per bad value)
    corpus = study.prepare()                 # 2. read, clean, segment (cached); corpus.docvars: metadata
    dtm = corpus.dtm()                       #    document-term matrix (scipy.sparse) with docvars
    ann = corpus.annotate()                  #    codebook hits per document

    freq = va.frequency_table(dtm, "language")  # 3. frequencies: counts, per 1,000, document frequency
    va.top_terms(freq, 10); va.kwic(corpus.prepared, "hợp_tác", corpus.rules)

    concepts = va.concept_counts(ann)        # 4. framing and keyness
    table = va.keyness_by_group(concepts, corpus.docvars["language"])
    va.top_keyness(table, 10)
    counts, sizes = va.entry_counts(ann, corpus.codebook())  #    hits per codebook entry, for equivalence_table

    corpora = corpus.topic_corpora()         # 5. topics
    params = va.fit_parameters(study.topics)  #    engine and priors as keywords
    selection = va.select_k(corpora["joint"], **va.selection_parameters(study.topics), **params)
    fit = va.fit_lda(corpora["joint"], selection.k, study.topics.seed, **params)

    fig, (ax,) = va.new_figure()             # 6. figures: plot_*(ax, data) -> ax, figure_*(data) -> Figure
    va.plot_keyness(ax, va.top_keyness(table, 10))

Steps and the names for each (``help(va.<name>)`` for the formula, its source and an example):

1. Study: :func:`open_study` (``study.prepare()``); bad input raises :class:`InputError`.
2. Corpus: :class:`PreparedStudy` (``.docvars``, ``.prepared``, ``.units()``, ``.dtm()``,
   ``.annotate()``, ``.codebook()``, ``.topic_corpora()``), :func:`cleaning_log`,
   :func:`corpus_summary`, :func:`date_ranges`, :func:`segmenter_id`; your own corpus before
   its study (``python -m analysis init``): :func:`read_table` (a CSV/TSV/JSON Lines/Parquet
   table, validated as a study reads it), :func:`parse_date` (the date forms news exports write).
3. Frequencies: :func:`frequency_table`, :func:`top_terms`, :func:`tfidf_top_terms`,
   :func:`bigram_table`, :func:`kwic`.
4. Framing: :func:`coverage_report`, :func:`frame_salience`, :func:`actor_salience`,
   :func:`concept_counts`, :func:`frame_group_table`, :func:`actor_group_table`,
   :func:`group_tests`; keyness (p from permuted documents): :func:`keyness_by_group`,
   :func:`top_keyness`; documents: :func:`crosslingual_similarity`, :func:`near_duplicates`;
   is the instrument equivalent across languages (a translated sample): :func:`entry_index`,
   :func:`entry_counts`, :func:`equivalence_table`, :func:`pattern_sources`.
   Codebook entries as a document-term matrix (documents × entry ids, sparse): :func:`entry_matrix`.
5. Topics: :func:`select_k`, :func:`fit_lda` (keywords from a study: :func:`selection_parameters`,
   :func:`fit_parameters`), :func:`topic_terms`, :func:`prevalence_by`,
   :func:`align_languages`, :func:`load_model`, :func:`suggest_topic_settings`.
6. Figures: :func:`new_figure`, :func:`style`, :func:`plot_top_terms`, :func:`plot_keyness`,
   :func:`plot_fightin_words`, :func:`plot_frame_salience`, :func:`plot_similarity`,
   :func:`plot_k_selection`, :func:`plot_topic_terms`, :func:`plot_alignment`, and whole
   figures :func:`figure_keyness`, :func:`figure_top_terms`; the browser page ``make`` writes
   (``explorer.html``) shown inline: :func:`show_explorer`.
7. Design (contrasts, time, outlets; ``[[compare]]``, ``[time]``, ``[model]``): :func:`parse_contrasts`,
   :func:`compare`, :func:`mantel_haenszel`, :func:`stratified_permutation_test`,
   :func:`distribution_permutation_test`; over time :func:`period_series`, :func:`event_window`,
   :func:`lag_correlation`; models :func:`count_regression`, :func:`mixed_model`,
   :func:`marginal_rates`, :func:`composition`, :func:`design_effect`,
   :func:`cluster_bootstrap_difference`, :func:`minimum_detectable_difference`.
8. Validation against human coding (``[validation]``): a stratified coding sample
   :func:`draw_coding_sample` (:func:`inclusion_probabilities`), blind sheets :func:`coder_sheet`
   and their checks :func:`check_codes`; agreement :func:`alpha_table`, :func:`disagreements`,
   :func:`reference_codes`; the dictionary's weighted accuracy :func:`accuracy_table`,
   :func:`differential_error`; the DSL-corrected comparison :func:`dsl_prevalence`; the coding
   budget :func:`pilot_assumptions`, :func:`plan_coding_budget`; figures :func:`plot_accuracy`,
   :func:`figure_accuracy`.
   Sentences or KWIC windows instead of documents (``[validation] unit``): :func:`span_units`.
9. Robustness to the analyst's choices (``[robustness]``): the whole multiverse of a study
   :func:`run_multiverse` (the section is a :class:`RobustnessSettings`); its parts
   :func:`specification_grid`, :func:`claim_values`, :func:`claim_estimates`,
   :func:`variance_decomposition`, :func:`specification_curve`, :func:`specification_summary`,
   :func:`solution_agreement` (topics); figures :func:`plot_specification_curve`,
   :func:`plot_choice_grid`, :func:`figure_specification_curves`.
10. Reading back what a stage wrote: :func:`read_output` (a table's ``.csv``, ``.csv.gz`` or
    ``.parquet`` alike; the word-level tables are written complete as ``.csv.gz`` and ``.parquet``).

Data flows one way: Corpus -> PreparedDocument (tokens) -> DocTermMatrix -> DataFrames/arrays ->
plots and tables. Computation modules open no file and import no matplotlib; ``files`` is the only
module that touches the file system and the ``plot*`` modules the only ones that draw.
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

#: Public name -> the module that defines it. Loaded on first use, so ``import analysis`` stays
#: cheap and ``python3 -m analysis.study.makefile`` (standard library only) runs before the virtual
#: environment exists.
_API = {
    # 1. study
    "open_study": "prepared",
    "InputError": "errors",
    # 2. corpus
    "PreparedStudy": "prepared",
    "cleaning_log": "text.textstat",
    "corpus_summary": "text.textstat",
    "date_ranges": "corpus.dates",
    "segmenter_id": "text.tokens",
    "read_table": "corpus.sources",
    "parse_date": "corpus.dates",
    # 3. frequencies
    "frequency_table": "text.textstat",
    "top_terms": "text.textstat",
    "tfidf_top_terms": "text.textstat",
    "bigram_table": "text.textstat",
    "kwic": "text.textstat",
    # 4. framing, keyness, documents
    "coverage_report": "framing.codebook",
    "frame_salience": "framing.measures",
    "actor_salience": "framing.measures",
    "concept_counts": "framing.measures",
    "entry_matrix": "framing.measures",
    "frame_group_table": "framing.tables",
    "actor_group_table": "framing.tables",
    "group_tests": "stats.groups",
    "keyness_by_group": "stats.keyness",
    "top_keyness": "stats.keyness",
    "crosslingual_similarity": "framing.similarity",
    "near_duplicates": "text.duplicates",
    "entry_index": "framing.equivalence",
    "entry_counts": "framing.equivalence",
    "equivalence_table": "framing.equivalence",
    "pattern_sources": "framing.equivalence",
    # 5. topics
    "select_k": "topics.lda",
    "fit_lda": "topics.lda",
    "selection_parameters": "topics.lda",
    "fit_parameters": "topics.lda",
    "topic_terms": "topics.lda",
    "prevalence_by": "topics.prevalence",
    "align_languages": "topics.lda",
    "load_model": "stages.topics",
    "suggest_topic_settings": "topics.lda",
    # 6. figures
    "new_figure": "plots.base",
    "style": "plots.base",
    "plot_top_terms": "plots.base",
    "plot_keyness": "plots.framing",
    "plot_fightin_words": "plots.framing",
    "plot_frame_salience": "plots.framing",
    "plot_similarity": "plots.framing",
    "plot_k_selection": "plots.topics",
    "plot_topic_terms": "plots.topics",
    "plot_alignment": "plots.topics",
    "figure_keyness": "plots.framing",
    "figure_top_terms": "plots.base",
    "show_explorer": "plots.explorer",
    # 7. design: contrasts, time, outlets and covariates
    "parse_contrasts": "study.design_spec",
    "compare": "stats.contrasts",
    "mantel_haenszel": "stats.contrasts",
    "stratified_permutation_test": "stats.contrasts",
    "distribution_permutation_test": "stats.contrasts",
    "period_series": "stats.timeseries",
    "event_window": "stats.timeseries",
    "lag_correlation": "stats.timeseries",
    "count_regression": "stats.models",
    "mixed_model": "stats.models",
    "marginal_rates": "stats.models",
    "composition": "stats.models",
    "design_effect": "stats.models",
    "cluster_bootstrap_difference": "stats.models",
    "minimum_detectable_difference": "stats.models",
    # 8. validation against human coding
    "draw_coding_sample": "validation.sampling",
    "inclusion_probabilities": "validation.sampling",
    "coder_sheet": "validation.sampling",
    "check_codes": "validation.sheets",
    "alpha_table": "validation.agreement",
    "disagreements": "validation.agreement",
    "reference_codes": "validation.agreement",
    "accuracy_table": "validation.accuracy",
    "differential_error": "validation.accuracy",
    "dsl_prevalence": "validation.dsl",
    "pilot_assumptions": "validation.planner",
    "plan_coding_budget": "validation.planner",
    "plot_accuracy": "plots.validation",
    "figure_accuracy": "plots.validation",
    "span_units": "stages.validation",
    # 9. robustness: the multiverse of analysis choices
    "run_multiverse": "multiverse",
    "RobustnessSettings": "study.settings",
    "specification_grid": "stats.specification",
    "claim_estimates": "stats.specification",
    "claim_values": "framing.claims",
    "variance_decomposition": "stats.specification",
    "specification_curve": "stats.specification",
    "specification_summary": "stats.specification",
    "solution_agreement": "topics.agreement",
    "plot_specification_curve": "plots.robustness",
    "plot_choice_grid": "plots.robustness",
    "figure_specification_curves": "plots.robustness",
    # 10. reading the outputs back
    "read_output": "files",
}

__all__ = list(_API)


def __getattr__(name: str):
    if name in _API:
        value = getattr(importlib.import_module(f".{_API[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'analysis' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
