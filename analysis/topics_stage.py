"""Stage ``topics``: LDA per language and jointly on concepts, K selection, descriptions,
prevalence by group and the cross-lingual alignment, written as tables, figures and plain arrays.

The edge: it reads the study and the prepared units, computes with :mod:`analysis.topics`, draws
with :mod:`analysis.plot_topics` and writes through :mod:`analysis.io`. Which files it writes is
declared in :func:`analysis.outputs.topics_outputs`.

The concept map comes from the framing work (``analysis.codebook.concept_map`` and
``analysis.framing_stage.load_codebook``); if those are not importable, the joint model and the
alignment are skipped with a logged note.
"""

from __future__ import annotations

import io as _bytes_io
import json
import logging
import os
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd

from . import io, plot, plot_topics, topics
from .errors import InputError
from .progress import Progress, tracked
from .pipeline import PreparedStudy, prepared_corpus
from .study import Study

log = logging.getLogger("analysis")

MODEL_FILES = ("topic_word.npy", "doc_topic.npy", "vocab.txt", "units.txt", "settings.json")


def load_concept_map(study: Study, vocab: list[str]) -> dict | None:
    """The framing work's bilingual concept map, or None (logged) when it is not available.

    ``vocab`` (the corpus terms) expands the codebook's ``*`` patterns into the terms they match.
    """
    try:
        from .codebook import concept_map
        from .framing_stage import load_codebook
    except ImportError as exc:
        log.warning("topics: no concept map (%s): the joint model and the vi-en alignment are skipped", exc)
        return None
    return concept_map(load_codebook(study), vocab=vocab)


def _workers(study: Study, workers: int | None) -> int:
    workers = study.run.workers if workers is None else workers
    return (os.cpu_count() or 1) if workers == 0 else max(1, workers)


def topic_corpora(ps: PreparedStudy, units: list, concept_map: dict | None) -> dict[str, topics.TopicCorpus]:
    """One :class:`~analysis.topics.TopicCorpus` per language, and ``joint`` on concepts if there is a map."""
    study = ps.study
    settings = study.topics
    where = str(study.source)
    language = ps.docvars["language"].astype(str)
    filters = {"no_below": settings.no_below, "no_above": settings.no_above, "keep_n": settings.keep_n, "where": where}
    languages = list(dict.fromkeys(study.corpus.languages))
    corpora = {}
    for lang in languages:
        mine = [u for u in units if language[u.doc_id] == lang]
        if not mine:
            raise InputError(where, f"[corpus] languages lists '{lang}' but no {lang} document is in the corpus",
                             f"remove '{lang}' from [corpus] languages or add {lang} documents")
        corpora[lang] = topics.build_corpus(lang, [u.unit_id for u in mine], [u.terms for u in mine], **filters)
    if concept_map is not None and {"vi", "en"} <= set(languages):
        mine = [u for u in units if language[u.doc_id] in ("vi", "en")]
        corpora["joint"] = topics.build_corpus(
            "joint", [u.unit_id for u in mine],
            [topics.concept_tokens(u.terms, language[u.doc_id], concept_map) for u in mine], **filters,
        )
    return corpora


def run_topics(study: Study, workers: int | None = None) -> list[Path]:
    """Stage ``topics``: fit, choose K, describe, compare across languages, write everything."""
    settings = study.topics
    where = str(study.source)
    topics.check_settings(settings, where)
    if settings.ldavis:
        from .ldavis import require_pyldavis

        require_pyldavis(where)  # before any work: a missing package costs no fit
    logging.getLogger("gensim").setLevel(logging.WARNING)  # gensim logs every pass at INFO
    if settings.multicore:
        log.warning("topics: [topics] multicore = true: LdaMulticore results are NOT bit-reproducible")
    workers = _workers(study, workers)
    ps = prepared_corpus(study, workers)
    units = ps.units(study.units.kind, study.units.window)
    cross = {"vi", "en"} <= set(study.corpus.languages)
    concept_map = load_concept_map(study, sorted({t for u in units for t in u.terms})) if cross else None
    corpora = topic_corpora(ps, units, concept_map)
    docvars = ps.docvars
    for by in settings.prevalence_by:
        if by not in docvars.columns:
            raise InputError(where, f"[topics] prevalence_by names '{by}', not a metadata column", "use a column of the metadata file")

    selections: dict[str, topics.KSelection] = {}
    fits: dict[str, topics.LdaFit] = {}
    pool = ProcessPoolExecutor(max_workers=workers) if workers > 1 and not settings.multicore else None
    # Progress (analysis/progress.py): every K-selection fit and each final fit is a step.
    candidates = set(settings.k_range) | ({settings.k} if settings.k else set())
    n_fits = sum(sum(k <= c.n_units for k in candidates) * len(settings.seeds) + 1 for c in corpora.values())
    bar = Progress("topics", total=n_fits, unit="fits")
    try:
        for name, corpus in corpora.items():
            mapper = tracked(pool.map if pool else map, bar, lambda job, name=name: f"{name} K={job[0]} seed {job[1]}", count=False)
            selections[name] = topics.select_k(corpus, settings, where, mapper=mapper)
            fits[name] = topics.fit_lda(corpus, selections[name].k, settings.seed, settings, workers, where)
            bar.step(f"{name} final fit K={fits[name].k}")
            log.info("topics %s: K = %d (%s); %d units, %d terms", name, fits[name].k, selections[name].reason, corpus.n_units, len(corpus.vocab))
    finally:
        bar.close()
        if pool:
            pool.shutdown()

    out = study.output_dir
    formats = study.run.figure_formats
    written: list[Path] = []

    # K selection
    summary = pd.concat([s.summary for s in selections.values()], ignore_index=True)
    written += io.write_table(summary, out / "topic_k_selection", caption=(
        "Choice of the number of topics K per model: mean coherence over seeds, stability across seeds "
        f"(mean matched 1 - Hellinger), the chosen K and why. {topics.C_V_CAVEAT}."))
    fits_table = pd.concat([s.fits for s in selections.values()], ignore_index=True)
    written.append(io.write_csv(out / "topic_k_fits.csv", fits_table))
    fig, axes = plot.new_figure(4, 3.4, 2.8, ncols=2)
    for ax, metric in zip(axes, ("c_npmi", "u_mass", "c_v", "stability")):
        plot_topics.plot_k_selection(ax, summary, metric, settings.stability_min)
    fig.suptitle("Topic coherence and stability against K (ringed: chosen K)")
    written += io.save_figure(fig, out / "topic_coherence_stability_by_k", formats, summary)
    plot.close(fig)

    # Topic descriptions
    glosses = _glosses(units, docvars, concept_map) if concept_map is not None else {}
    term_tables = {
        name: topics.topic_terms(fit, corpora[name].term_frequency(), settings.top_n, settings.relevance_lambda,
                                 glosses if name == "joint" else None)
        for name, fit in fits.items()
    }
    written += io.write_table(pd.concat(term_tables.values(), ignore_index=True), out / "topic_terms", caption=(
        f"Top {settings.top_n} terms per topic by probability and by relevance "
        f"(Sievert and Shirley 2014, lambda = {settings.relevance_lambda:g})"))
    for name, table in term_tables.items():
        written += _top_terms_figure(table, fits[name], name, out, formats)
    texts = {u.unit_id: u.text for u in units}
    representative = pd.concat(
        [topics.representative_units(fit, texts, settings.representative_n) for fit in fits.values()], ignore_index=True
    )
    written += io.write_table(representative, out / "topic_representative_units",
                              caption="Units with the highest share of each topic")

    # Prevalence by group
    unit_doc = {u.unit_id: u.doc_id for u in units}
    prevalence = pd.concat(
        [_prevalence(fit, name, docvars, unit_doc, settings, index) for index, (name, fit) in enumerate(fits.items())], ignore_index=True
    )
    written += io.write_table(prevalence, out / "topic_prevalence", caption=(
        f"Mean topic share of units by group, with {settings.bootstrap} bootstrap 95% intervals "
        f"(resampling {'documents' if settings.bootstrap_by == 'document' else 'units'} within groups)"))
    if "joint" in fits:
        by_language = prevalence[(prevalence["model"] == "joint") & (prevalence["group_by"] == "language")]
        if by_language.empty:  # prevalence_by does not list language: compute it for the figure anyway
            by_language = _prevalence(fits["joint"], "joint", docvars, unit_doc, settings, len(fits), ("language",))
        fig, (ax,) = plot.new_figure(1, max(4.0, 1.1 * fits["joint"].k + 2), 3.2)
        plot_topics.plot_prevalence(ax, by_language)
        ax.set_title("Joint concept topics: prevalence by language (95% bootstrap intervals)")
        written += io.save_figure(fig, out / "topic_prevalence_by_language", formats, by_language.reset_index(drop=True))
        plot.close(fig)

        # Per-language models aligned through the concept map
        pairs, matrix = topics.align_languages(fits["vi"], "vi", fits["en"], "en", concept_map)
        written += io.write_table(pairs, out / "topic_alignment_vi_en", caption=(
            "Vietnamese and English topics matched one-to-one through the concept map "
            "(similarity = 1 - Jensen-Shannon distance of concept distributions)"))
        fig, (ax,) = plot.new_figure(1, 0.7 * fits["en"].k + 2.5, 0.5 * fits["vi"].k + 1.5)
        plot_topics.plot_alignment(ax, matrix, "topic_vi", "topic_en")
        ax.set_title("vi-en topic similarity (boxed: matched)")
        written += io.save_figure(fig, out / "topic_alignment_heatmap_vi_en", formats, matrix)
        plot.close(fig)

    # Plain saved models
    for name, fit in fits.items():
        written += save_model(out / "topic_models" / name, fit, topics.model_record(fit, corpora[name], settings, selections[name]))
    if settings.ldavis:
        from .ldavis import ldavis_page

        for name, fit in fits.items():
            page = ldavis_page(fit.topic_word, fit.doc_topic, corpora[name].counts, fit.vocab, name)
            written.append(io.write_text(out / f"topic_ldavis_{name}.html", page))
    return written


def _prevalence(fit: topics.LdaFit, name: str, docvars: pd.DataFrame, unit_doc: dict, settings, model_index: int, by_list=None) -> pd.DataFrame:
    """Prevalence tables of one model for each grouping column (language only for the joint model)."""
    doc_ids = [unit_doc[unit_id] for unit_id in fit.unit_ids]
    frames = []
    for by_index, by in enumerate(by_list or settings.prevalence_by):
        if by == "language" and name != "joint":
            continue  # a single-language model has one language group
        rng = np.random.default_rng([settings.seed, model_index, by_index])
        clusters = doc_ids if settings.bootstrap_by == "document" else list(fit.unit_ids)
        table = topics.prevalence(fit.doc_topic, docvars.loc[doc_ids, by].astype(str).tolist(), clusters, rng, settings.bootstrap)
        table.insert(0, "group_by", by)
        table.insert(0, "model", name)
        frames.append(table)
    columns = ["model", "group_by", "group", "topic", "units", "clusters", "prevalence", "ci_low", "ci_high", "note"]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns)


def _glosses(units, docvars: pd.DataFrame, concept_map: dict) -> dict[str, str]:
    counts: dict[str, Counter] = {}
    for u in units:
        counts.setdefault(str(docvars.loc[u.doc_id, "language"]), Counter()).update(u.terms)
    return topics.concept_glosses(counts, concept_map)


def _top_terms_figure(table: pd.DataFrame, fit: topics.LdaFit, name: str, out: Path, formats) -> list[Path]:
    rows = table[table["ranking"] == "probability"].reset_index(drop=True)
    ncols = min(fit.k, 4)
    n_terms = int(rows["rank"].max())
    fig, axes = plot.new_figure(fit.k, 2.8, 0.2 * n_terms + 1.0, ncols=ncols)
    for ax, topic in zip(axes, range(1, fit.k + 1)):
        plot_topics.plot_topic_terms(ax, rows[rows["topic"] == topic], f"topic {topic}", plot_topics.COLOURS.get(name, "#4C72B0"))
    label = {"vi": "Vietnamese", "en": "English", "joint": "joint model on concepts"}.get(name, name)
    fig.suptitle(f"Top terms per topic: {label} (K = {fit.k})")
    written = io.save_figure(fig, out / f"topic_top_terms_{name}", formats, rows)
    plot.close(fig)
    return written


def _npy(array: np.ndarray) -> bytes:
    buffer = _bytes_io.BytesIO()
    np.save(buffer, np.ascontiguousarray(array, dtype=np.float64), allow_pickle=False)
    return buffer.getvalue()


def save_model(folder: Path, fit: topics.LdaFit, record: dict) -> list[Path]:
    """A fit as plain files: two .npy matrices, vocabulary and unit ids as text, settings as JSON."""
    return [
        io.write_bytes(folder / "topic_word.npy", _npy(fit.topic_word)),
        io.write_bytes(folder / "doc_topic.npy", _npy(fit.doc_topic)),
        io.write_text(folder / "vocab.txt", "".join(f"{t}\n" for t in fit.vocab)),
        io.write_text(folder / "units.txt", "".join(f"{u}\n" for u in fit.unit_ids)),
        io.write_json(folder / "settings.json", record),
    ]


def load_model(folder: str | Path) -> dict:
    """Read a saved model without pickle: ``topic_word``, ``doc_topic``, ``vocab``, ``unit_ids``, ``settings``."""
    folder = Path(folder)
    missing = [name for name in MODEL_FILES if not (folder / name).is_file()]
    if missing:
        raise InputError(folder, f"not a saved topic model (missing {', '.join(missing)})", "point at figures/topic_models/<model>")
    return {
        "topic_word": np.load(folder / "topic_word.npy", allow_pickle=False),
        "doc_topic": np.load(folder / "doc_topic.npy", allow_pickle=False),
        "vocab": (folder / "vocab.txt").read_text(encoding="utf-8").splitlines(),
        "unit_ids": (folder / "units.txt").read_text(encoding="utf-8").splitlines(),
        "settings": json.loads((folder / "settings.json").read_text(encoding="utf-8")),
    }
