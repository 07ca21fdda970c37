"""Stage ``topics``: LDA per language and jointly on concepts, K selection, descriptions,
prevalence by group and the cross-lingual alignment, written as tables, figures and plain arrays.

Read (:func:`analysis.prepared.prepared_corpus`, the concept map) -> the units as arrays, one prepared
document at a time, and each model's corpus from them (:mod:`analysis.topics.unit_arrays`; the parent
then holds the corpora, the metadata and a unit -> document map, not the units or their texts: the
few texts the representative-units table shows are read again, :class:`StoredTexts`) -> fit
(:mod:`analysis.topics.lda`, in spawned workers that map the counts, :mod:`analysis.topics.shared`)
-> compute tables (:mod:`analysis.topics.lda`, :func:`analysis.topics.prevalence.prevalence_by`) -> hand them
and the figure composers (:mod:`analysis.plots.topics`) to the writer
(:func:`analysis.stages.results.write_results`). Which files it writes is declared in
:func:`analysis.study.outputs.topics_outputs`.
"""

from __future__ import annotations

import io as _bytes_io
import json
import logging
import shutil
import tempfile
from collections.abc import Callable, Mapping
from functools import partial
from multiprocessing import get_context
from pathlib import Path

import numpy as np
import pandas as pd

from .. import files, threads
from ..errors import InputError
from ..plots import topics as plot_topics
from ..prepared import TOPIC_CORPUS_KEYS, load_concept_map, prepared_corpus, topic_corpora
from ..progress import Progress
from ..study.outputs import MODEL_FILES
from ..study.settings import Study, TopicSettings, settings_keys, source_keys
from ..text.prepare import resolve_workers
from ..text.units import make_units
from ..topics import engines, shared
from ..topics import lda as topics
from ..topics.lda import corpus_from_ids
from ..topics.ldavis import ldavis_page, require_pyldavis
from ..topics.prevalence import prevalence_by
from ..topics.unit_arrays import UnitArrays, mapped_ids, term_lookup, unit_arrays
from .results import Csv, Figure, Raw, Result, Table, write_results

log = logging.getLogger("analysis")

#: The files a saved model cannot be read without (``unit_tokens.txt`` is missing from a model saved before it was
#: written).
REQUIRED_MODEL_FILES = tuple(name for name in MODEL_FILES if name != "unit_tokens.txt")

#: The longest unit text in ``topic_representative_units`` (longer texts are cut, with an ellipsis).
TEXT_CHARS = 300

#: The study key behind each parameter a topics computation may reject (:func:`analysis.study.settings.settings_keys`).
TOPIC_KEYS = {
    "k": "[topics] k",
    "k_range": "[topics] k_range",
    "alpha": "[topics] alpha",
    "eta": "[topics] eta",
    "engine": "[topics] engine",
}

__all__ = ["load_concept_map", "load_model", "run_topics", "save_model", "topic_corpora", "topics_results"]


def _no_checkpoint(step: str, note: str = "") -> None:
    """The default of :func:`run_topics`'s ``checkpoint``: nothing."""


def run_topics(
    study: Study, workers: int | None = None, *, checkpoint: Callable[[str, str], None] = _no_checkpoint
) -> list[Path]:
    """Stage ``topics``: fit, choose K, describe, compare across languages, then write everything.

    ``checkpoint(step, note)`` is called after each step (the prepared corpus read, the units as arrays,
    the model corpora, the units released, the fits, the tables, the files written), so a caller can
    measure the stage step by step (``benchmarks/topics_memory.py``) without a copy of its steps.
    """
    settings = study.topics
    if settings.ldavis:
        require_pyldavis(str(study.source))  # before any work: a missing package costs no fit
    with settings_keys(study, engine="[topics] engine"):
        engines.require(settings.engine)  # before any work: a missing engine costs no preparation
    logging.getLogger("gensim").setLevel(logging.WARNING)  # gensim logs every pass at INFO
    if settings.multicore:
        log.warning("topics: [topics] multicore = true: LdaMulticore results are NOT bit-reproducible")
    workers = resolve_workers(study.run.workers if workers is None else workers)
    ps = prepared_corpus(study, workers=workers)
    checkpoint("prepared corpus", f"{len(ps.prepared)} documents")
    kind, window = study.units.kind, study.units.window
    units = unit_arrays(ps.prepared, ps.rules, kind=kind, window=window)
    checkpoint("units as arrays", f"{units.n_units} units, {len(units.ids)} tokens, {len(units.terms)} terms")
    cross = {"vi", "en"} <= set(study.corpus.languages)
    concept_map = load_concept_map(study, sorted(units.terms)) if cross else None
    docvars = ps.docvars
    corpora = model_corpora(study, docvars, units, concept_map)
    checkpoint(
        "model corpora",
        "; ".join(
            f"{name} {c.n_units} units, {len(c.vocab)} terms, {c.counts.nnz} counts, {len(c.texts.ids)} tokens"
            for name, c in corpora.items()
        ),
    )
    glosses = _glosses(units, docvars, concept_map) if concept_map is not None else {}
    unit_doc = units.unit_documents()
    texts = StoredTexts(ps.prepared, ps.rules, kind=kind, window=window, unit_doc=unit_doc, documents=units.documents)
    # The fits need the corpora only: the units' term ids and the corpus's record hashes go now.
    del units, ps
    release_memory()
    checkpoint("units released, free heap pages handed back (malloc_trim)", "")
    strata = docvars["language"].astype(str).to_dict()  # the joint model's sample keeps each language's share
    selections, fits = fit_models(
        corpora,
        settings=settings,
        source=study.source,
        scheduler=study.run.scheduler,
        workers=workers,
        strata=strata,
        shared_dir=study.cache_dir,
    )
    del strata
    checkpoint("fits", ", ".join(f"{name} K = {fit.k}" for name, fit in fits.items()))
    with settings_keys(study, n_resamples="[topics] bootstrap", by="[topics] prevalence_by"):
        results = topics_results(
            docvars,
            corpora,
            selections,
            fits,
            unit_doc=unit_doc,
            texts=texts,
            glosses=glosses,
            concept_map=concept_map,
            settings=settings,
        )
    checkpoint("tables", "")
    written = write_results(study.output_dir, results, study)
    checkpoint("written", f"{len(written)} files")
    return written


def model_corpora(study: Study, docvars: pd.DataFrame, units: UnitArrays, concept_map: dict | None) -> dict:
    """One :class:`~analysis.topics.lda.TopicCorpus` per language of the study, and ``joint`` on
    concepts when there is a map: what :func:`analysis.prepared.topic_corpora` builds (same
    corpora, same errors) from the units as arrays (:func:`analysis.topics.lda.corpus_from_ids`)."""
    settings = study.topics
    filters = {"no_below": settings.no_below, "no_above": settings.no_above, "keep_n": settings.keep_n}
    language = docvars["language"].astype(str)
    unit_language = language.loc[list(units.documents)].to_numpy(dtype=object)[units.doc_index]
    languages = list(dict.fromkeys(study.corpus.languages))
    corpora = {}
    for lang in languages:
        rows = np.flatnonzero(unit_language == lang)
        if not len(rows):
            raise InputError(
                str(study.source),
                f"[corpus] languages lists '{lang}' but no {lang} document is in the corpus",
                f"remove '{lang}' from [corpus] languages or add {lang} documents",
            )
        unit_ids, ids, offsets = units.select(rows)
        with settings_keys(study, **TOPIC_CORPUS_KEYS):
            corpora[lang] = corpus_from_ids(lang, unit_ids, ids, offsets, units.terms, **filters)
    if concept_map is not None and {"vi", "en"} <= set(languages):
        pair = ("vi", "en")
        concepts = tuple(dict.fromkeys(c for lang in pair for c in concept_map.get(lang, {}).values()))
        position = {c: j for j, c in enumerate(concepts)}
        lookup = np.stack([term_lookup(units.terms, concept_map.get(lang, {}), position) for lang in pair])
        rows = np.flatnonzero((unit_language == "vi") | (unit_language == "en"))
        ids, offsets = mapped_ids(units, rows, lookup, (unit_language[rows] == "en").astype(np.int64))
        with settings_keys(study, **TOPIC_CORPUS_KEYS):
            corpora["joint"] = corpus_from_ids(
                "joint", [units.unit_ids[i] for i in rows.tolist()], ids, offsets, concepts, **filters
            )
    return corpora


def release_memory() -> None:
    """Collect garbage and hand the C heap's free pages back to the system (glibc's
    ``malloc_trim``; nothing elsewhere). Why: numpy's temporaries of up to 32 MB and Python's
    small objects come from the heap, and glibc keeps freed heap pages mapped, so the units' and
    the corpus build's freed memory would still count in the process's RSS through the fits."""
    import ctypes
    import ctypes.util
    import gc

    gc.collect()
    try:
        ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: nothing to hand back this way
        pass


class StoredTexts(Mapping):
    """Unit id -> the unit's text (cut to :data:`TEXT_CHARS` + 1 characters, all the
    representative-units table can show), read from its prepared document when asked: the few
    texts a table shows are read again instead of every unit's text being held through the fits.

    ``prepared``: the prepared documents (:class:`analysis.text.prepare.PreparedSequence` reads
    one from the cache by position), ``documents`` their ids in that order, ``unit_doc`` unit id ->
    document id; the units are cut as the study cuts them (``kind``, ``window``).
    """

    def __init__(self, prepared, rules, *, kind: str, window: int, unit_doc: Mapping[str, str], documents):
        self.prepared, self.rules, self.kind, self.window = prepared, rules, kind, window
        self.unit_doc = unit_doc
        self.positions = {doc_id: position for position, doc_id in enumerate(documents)}

    def __getitem__(self, unit_id: str) -> str:
        document = self.prepared[self.positions[self.unit_doc[unit_id]]]
        for unit in make_units(document, self.rules, kind=self.kind, window=self.window):
            if unit.unit_id == unit_id:
                return unit.text[: TEXT_CHARS + 1]
        raise KeyError(unit_id)

    def __iter__(self):
        return iter(self.unit_doc)

    def __len__(self) -> int:
        return len(self.unit_doc)


def fit_models(
    corpora: dict[str, topics.TopicCorpus],
    *,
    settings: TopicSettings,
    source: Path,
    scheduler: str = "",
    workers: int,
    progress=None,
    strata: dict[str, str] | None = None,
    shared_dir: Path | None = None,
) -> tuple[dict[str, topics.KSelection], dict[str, topics.LdaFit]]:
    """K selection for every model, then each model's final fit with the study's seed.

    The fits run in ``workers`` processes (each fit single-threaded and seeded: the numbers do
    not depend on ``workers``); a progress display counts them (:class:`analysis.topics.engines.Progress`
    unless another is given). An empty ``[topics] k_range`` is sized from the model's number of
    documents (:func:`analysis.topics.lda.suggest_topic_settings`). Every model's K-selection fits
    are queued at once (a pool's ``map`` submits them all), so the workers stay busy while the
    parent scores one model's fits and queues its final fit.

    Bounded search: the K-selection fits see a sample of about ``[topics] search_units`` units
    (:func:`analysis.topics.lda.search_sample`: whole documents, stratified by ``strata``, a
    document id -> language map; seeded by ``[topics] seed``), the final fit every unit. With
    ``search_units = 0`` and ``[topics] search = "scaled"`` (the default is ``"full"``) a model of
    more than 2,000 documents is searched on max(2,000, units / 5) units with the first two seeds
    (:func:`analysis.topics.lda.search_plan`); smaller models on every unit with every seed. With
    ``[run] scheduler`` the fits run on that Dask cluster instead of local processes
    (:func:`dask_executor`); every fit is seeded and single-threaded, so the bytes are the same.
    ``settings`` is the study's ``[topics]``, ``scheduler`` its ``[run] scheduler`` ("" for local
    processes); a bad setting is one line naming the study file ``source`` and the key.

    Local worker processes share the counts (:mod:`analysis.topics.shared`): each model's counts
    (and its search sample's) are written once as memory-mapped arrays into a new folder under
    ``shared_dir`` (the system's temporary folder when None; the stage passes the study's cache
    folder), every fit job carries only the folder's name, and the folder is removed when the
    fits are done, whether they succeed or not. The workers are started with ``spawn``, so they do
    not inherit (and copy, as Python touches the objects) the parent's documents and units (a
    script that calls this with ``workers > 1`` needs the usual ``if __name__ == "__main__":``
    guard, as for any spawned pool: each worker imports the script's main module). A folder that
    cannot be written is one :class:`~analysis.errors.InputError` line naming it.
    """
    with source_keys(source, **TOPIC_KEYS):
        params, selection = topics.fit_parameters(settings), topics.selection_parameters(settings)
        for name, corpus in corpora.items():
            if not settings.k_range:
                log.info(
                    "topics %s: k_range %s from corpus size (%s)",
                    name,
                    topics.candidate_ks(corpus, settings.k_range, settings.k),
                    topics.suggest_topic_settings(topics.n_documents(corpus))["reason"],
                )
        plans = {
            name: topics.search_plan(
                corpus, search=settings.search, search_units=settings.search_units, seeds=settings.seeds
            )
            for name, corpus in corpora.items()
        }
        search = {
            name: topics.search_sample(corpus, plans[name][0], settings.seed, strata)
            for name, corpus in corpora.items()
        }
        jobs = {
            name: topics.selection_jobs(search[name], k_range=settings.k_range, seeds=plans[name][1], k=settings.k)
            for name in corpora
        }
    # analysis.progress: a bar on a terminal, a line every 15 s in a log, silent with --quiet.
    progress = progress or Progress("topics", unit="fits")
    progress.start(sum(len(j) for j in jobs.values()) + len(corpora))
    selections: dict[str, topics.KSelection] = {}
    fits: dict[str, topics.LdaFit] = {}
    local = not scheduler and workers > 1 and not settings.multicore
    if scheduler and not settings.multicore:
        pool = dask_executor(scheduler)
    else:
        pool = threads.worker_pool(workers, mp_context=get_context("spawn")) if local else None
    folder = None
    try:
        folder = shared_folder(shared_dir) if local else None
        mapper = pool.map if pool else map
        handles = share_corpora(corpora, search, folder) if folder is not None else {}
        # Fits get counts and ids only (topics.fit_input, or the shared arrays' folder): the texts
        # stay here, for coherence.
        pending = {
            name: mapper(
                partial(shared.fit_job, handles[f"{name}/search"], params)
                if handles
                else partial(topics._fit_job, topics.fit_input(search[name]), params),
                jobs[name],
            )
            for name in corpora
        }
        finals = {}
        for name, corpus in corpora.items():
            results = []
            for result in pending[name]:
                results.append(result)
                progress.advance(f"{name} K = {result[0]} seed {result[1]}")
            selections[name] = topics.selection_from_fits(
                search[name],
                results,
                **{**selection, "seeds": plans[name][1]},
                units_total=corpus.n_units,
                sample_note=plans[name][2],
            )
            if handles:
                topics.check_k(corpus, selections[name].k)
                finals[name] = pool.submit(
                    shared.final_job, handles[f"{name}/all"], selections[name].k, settings.seed, params
                )
            elif pool:
                finals[name] = pool.submit(
                    topics.fit_lda, topics.fit_input(corpus), selections[name].k, settings.seed, **params
                )
        final_params = topics.fit_parameters(settings, workers)
        for name, corpus in corpora.items():
            future = finals.get(name)
            if future is None:
                fits[name] = topics.fit_lda(corpus, selections[name].k, settings.seed, **final_params)
            elif handles:
                fits[name] = _lda_fit(corpus, selections[name].k, settings.seed, future.result())
            else:
                fits[name] = future.result()
            progress.advance(f"{name} final fit, K = {fits[name].k}")
            log.info(
                "topics %s: K = %d (%s); %d units, %d terms",
                name,
                fits[name].k,
                selections[name].reason,
                corpus.n_units,
                len(corpus.vocab),
            )
    finally:
        if pool:
            pool.shutdown()
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)
    return selections, fits


def shared_folder(parent: Path | None) -> Path:
    """A new empty folder for the fits' shared arrays under ``parent`` (created if missing; the
    system's temporary folder when None), or one :class:`~analysis.errors.InputError` line naming
    ``parent`` when it cannot be written."""
    try:
        if parent is not None:
            Path(parent).mkdir(parents=True, exist_ok=True)
        # named for this host and process; the folders of killed runs go (files.scratch_folder)
        return files.scratch_folder(Path(parent) if parent is not None else Path(tempfile.gettempdir()), "topic-fits-")
    except OSError as exc:
        where = parent if parent is not None else tempfile.gettempdir()
        raise InputError(
            where,
            f"cannot write the topic fits' shared count arrays there ({exc.strerror or exc})",
            "make the folder writable, or point [run] cache at a writable folder",
        ) from None


def share_corpora(corpora: dict, search: dict, folder: Path) -> dict[str, shared.SharedCounts]:
    """Each model's counts (``<name>/all``) and its search sample's (``<name>/search``; the same
    files when the sample is the corpus) written once into ``folder`` for the workers."""
    handles = {}
    try:
        for index, (name, corpus) in enumerate(corpora.items()):
            handles[f"{name}/all"] = shared.write_shared(
                corpus.counts, corpus.vocab, folder / f"{index}-all", name=name
            )
            sample = search[name]
            handles[f"{name}/search"] = (
                handles[f"{name}/all"]
                if sample is corpus
                else shared.write_shared(sample.counts, sample.vocab, folder / f"{index}-search", name=name)
            )
    except OSError as exc:
        raise InputError(
            folder.parent,
            f"cannot write the topic fits' shared count arrays there ({exc.strerror or exc})",
            "free some disk space or make the folder writable, or point [run] cache at another folder",
        ) from None
    return handles


def _lda_fit(corpus: topics.TopicCorpus, k: int, seed: int, result) -> topics.LdaFit:
    """The :class:`~analysis.topics.lda.LdaFit` of an engine's fit of ``corpus`` (as
    :func:`analysis.topics.lda.fit_lda` builds it)."""
    return topics.fit_of(corpus, k, seed, result)


class _DaskExecutor:
    """A Dask client's executor (``submit``, ordered ``map``) that closes the client on shutdown."""

    def __init__(self, client):
        self.client = client
        self.executor = client.get_executor(pure=False)

    def submit(self, fn, *args, **kwargs):
        return self.executor.submit(fn, *args, **kwargs)

    def map(self, fn, *iterables):
        return self.executor.map(fn, *iterables)

    def shutdown(self):
        try:
            self.executor.shutdown(wait=True)
        finally:
            self.client.close()


def dask_executor(address: str) -> _DaskExecutor:
    """The topic fits' executor on the Dask cluster at ``address`` (``[run] scheduler``).

    Dask is imported here and nowhere else in this stage, so a study without a scheduler imports
    and starts nothing of it (as :func:`analysis.text.prepare.prepare_corpus`). A fit is a pure
    function of its corpus, K, seed and settings, single-threaded and seeded (tomotopy, or
    gensim's single-process ``LdaModel``), and returns plain arrays: where it runs cannot change
    a byte. The workers need this package installed (same version) to unpickle the fits. Raises
    one :class:`~analysis.errors.InputError` line when ``distributed`` is missing or the
    scheduler cannot be reached.
    """
    from ..text.prepare import dask_client

    client = dask_client(address)
    return _DaskExecutor(client)


def topics_results(
    docvars: pd.DataFrame,
    corpora: dict,
    selections: dict,
    fits: dict,
    *,
    unit_doc: Mapping[str, str],
    texts: Mapping[str, str],
    glosses: Mapping[str, str],
    concept_map: dict | None,
    settings: TopicSettings,
) -> list[Result]:
    """Every topics output of fitted models, as tables, figure composers and saved-model files
    (``settings``: the study's ``[topics]``). ``docvars``: the corpus metadata by document id;
    ``unit_doc``: unit id -> document id; ``texts``: unit id -> text, read only for the
    representative units (:class:`StoredTexts`); ``glosses``: concept -> its most frequent terms
    (:func:`analysis.topics.lda.concept_glosses`, for the joint model's terms)."""
    summary = pd.concat([s.summary for s in selections.values()], ignore_index=True)
    results: list[Result] = [
        Table("topic_k_selection", summary, {"c_v_caveat": topics.C_V_CAVEAT}),
        Csv("topic_k_fits", pd.concat([s.fits for s in selections.values()], ignore_index=True)),
        Figure(
            "topic_coherence_stability_by_k",
            partial(plot_topics.figure_k_selection, summary, settings.stability_min),
            summary,
        ),
    ]
    term_tables = {
        name: topics.topic_terms(
            fit,
            corpora[name].term_frequency(),
            settings.top_n,
            settings.relevance_lambda,
            glosses if name == "joint" else None,
        )
        for name, fit in fits.items()
    }
    results.append(Table("topic_terms", pd.concat(term_tables.values(), ignore_index=True)))
    for name, table in term_tables.items():
        rows = table[table["ranking"] == "probability"].reset_index(drop=True)
        results.append(
            Figure(
                "topic_top_terms_{model}",
                partial(plot_topics.figure_topic_terms, rows, fits[name].k, name),
                rows,
                {"model": name},
            )
        )
    representative = pd.concat(
        [
            topics.representative_units(fit, texts, n=settings.representative_n, max_chars=TEXT_CHARS)
            for fit in fits.values()
        ],
        ignore_index=True,
    )
    results.append(Table("topic_representative_units", representative))
    results += _prevalence_results(fits, unit_doc, docvars, settings)
    if "joint" in fits:
        results += _language_difference_results(fits["joint"], corpora["joint"], unit_doc, docvars, settings)
    if "joint" in fits:
        pairs, matrix = topics.align_languages(fits["vi"], "vi", fits["en"], "en", concept_map)
        results += [
            Table("topic_alignment_vi_en", pairs),
            Figure(
                "topic_alignment_heatmap_vi_en",
                partial(plot_topics.figure_alignment, matrix, fits["vi"].k, fits["en"].k),
                matrix,
            ),
        ]
    for name, fit in fits.items():
        record = topics.model_record(
            fit,
            corpora[name],
            selections[name],
            engine=settings.engine,
            no_below=settings.no_below,
            no_above=settings.no_above,
            keep_n=settings.keep_n,
        )
        results += model_files(
            f"topic_models/{name}", fit, record=record, unit_tokens=np.asarray(corpora[name].counts.sum(axis=1)).ravel()
        )
    if settings.ldavis:
        results += [
            Raw(
                f"topic_ldavis_{name}.html",
                ldavis_page(fit.topic_word, fit.doc_topic, corpora[name].counts, fit.vocab, name=name),
            )
            for name, fit in fits.items()
        ]
    return results


def model_prevalence(
    fit: topics.LdaFit, *, name: str, docvars: pd.DataFrame, unit_doc: dict, settings, by, cluster: str = ""
) -> pd.DataFrame:
    """Prevalence of one model by each column of ``by`` (a single-language model skips ``language``);
    with ``cluster`` (``[topics] cluster``), outlets as clusters beside each row."""
    by = [column for column in by if column != "language" or name == "joint"]
    doc_ids = [unit_doc[unit_id] for unit_id in fit.unit_ids]
    unit_ids = list(fit.unit_ids) if settings.bootstrap_by == "unit" else None
    return prevalence_by(
        fit.doc_topic,
        doc_ids,
        docvars,
        by,
        settings.bootstrap,
        seed=settings.seed,
        model=name,
        unit_ids=unit_ids,
        cluster=cluster,
    )


def _prevalence_results(fits: dict, unit_doc: Mapping[str, str], docvars: pd.DataFrame, settings) -> list[Result]:
    prevalence = pd.concat(
        [
            model_prevalence(
                fit,
                name=name,
                docvars=docvars,
                unit_doc=unit_doc,
                settings=settings,
                by=settings.prevalence_by,
                cluster=settings.cluster,
            )
            for name, fit in fits.items()
        ],
        ignore_index=True,
    )
    resampled = "documents" if settings.bootstrap_by == "document" else "units"
    results: list[Result] = [Table("topic_prevalence", prevalence, {"resampled": resampled})]
    if "joint" in fits:
        # Keyed streams: the language rows are the same whether or not prevalence_by lists language.
        by_language = model_prevalence(
            fits["joint"], name="joint", docvars=docvars, unit_doc=unit_doc, settings=settings, by=("language",)
        )
        results.append(
            Figure(
                "topic_prevalence_by_language",
                partial(plot_topics.figure_prevalence, by_language, fits["joint"].k),
                by_language,
            )
        )
    return results


def _language_difference_results(
    fit, corpus, unit_doc: Mapping[str, str], docvars: pd.DataFrame, settings
) -> list[Result]:
    """The joint model's prevalence differences by language (outlets as the unit with ``[topics] cluster``)
    and the attenuation check: one refit of the same model to a corpus drawn from it."""
    import dataclasses

    import scipy.sparse as sp

    from ..stats.groups import group_order, keyed_rng
    from ..topics.prevalence import prevalence_attenuation, prevalence_tests

    doc_ids = [unit_doc[unit_id] for unit_id in fit.unit_ids]
    order = group_order(docvars.loc[doc_ids, "language"].astype(str), ("vi", "en"))
    tests = prevalence_tests(
        fit.doc_topic,
        doc_ids,
        docvars,
        by="language",
        order=order,
        n_resamples=max(settings.bootstrap, 1),
        seed=settings.seed,
        model="joint",
        cluster=settings.cluster,
    )
    params = topics.fit_parameters(settings)

    def refit(counts):
        again = topics.fit_lda(
            dataclasses.replace(corpus, counts=sp.csr_matrix(counts)), fit.k, settings.seed, **params
        )
        return again.topic_word, again.doc_topic

    attenuation = prevalence_attenuation(
        fit,
        np.asarray(corpus.counts.sum(axis=1)).ravel(),
        doc_ids,
        docvars,
        by="language",
        a=order[0],
        b=order[1],
        refit=refit,
        rng=keyed_rng(settings.seed, "attenuation", "joint"),
    )
    return [
        Table("topic_prevalence_tests_by_language", tests),
        Table("topic_prevalence_attenuation_by_language", attenuation),
    ]


def _glosses(units: UnitArrays, docvars: pd.DataFrame, concept_map: dict) -> dict[str, str]:
    """Each concept's most frequent terms per language over every unit (:func:`analysis.topics.lda.concept_glosses`)."""
    language = docvars["language"].astype(str).loc[list(units.documents)].to_numpy(dtype=object)[units.doc_index]
    counts = {lang: units.term_counts(np.flatnonzero(language == lang)) for lang in dict.fromkeys(language)}
    return topics.concept_glosses(counts, concept_map)


def _npy(array: np.ndarray) -> bytes:
    buffer = _bytes_io.BytesIO()
    np.save(buffer, np.ascontiguousarray(array, dtype=np.float64), allow_pickle=False)
    return buffer.getvalue()


def model_files(folder: str, fit: topics.LdaFit, *, record: dict, unit_tokens=None) -> list[Raw]:
    """A fit as plain files: two .npy matrices, vocabulary and unit ids as text, settings as JSON,
    and with ``unit_tokens`` each unit's number of tokens in the model (``n_d``, one a line,
    rows follow units.txt): with ``alpha_fitted`` it gives the Dirichlet posterior parameters
    ``theta[d] * (n_d + sum alpha)`` the design stage draws θ from (:mod:`analysis.topics.effects`)."""
    extra = (
        [] if unit_tokens is None else [Raw(f"{folder}/unit_tokens.txt", "".join(f"{int(n)}\n" for n in unit_tokens))]
    )
    return [
        Raw(f"{folder}/topic_word.npy", _npy(fit.topic_word)),
        Raw(f"{folder}/doc_topic.npy", _npy(fit.doc_topic)),
        Raw(f"{folder}/vocab.txt", "".join(f"{t}\n" for t in fit.vocab)),
        Raw(f"{folder}/units.txt", "".join(f"{u}\n" for u in fit.unit_ids)),
        Raw(f"{folder}/settings.json", json.dumps(record, ensure_ascii=False, indent=2, sort_keys=True) + "\n"),
    ] + extra


def save_model(folder: Path, fit: topics.LdaFit, record: dict) -> list[Path]:
    """Write a fit's plain files into ``folder``."""
    folder = Path(folder)
    return write_results(folder.parent, model_files(folder.name, fit, record=record), None)


def load_model(folder: str | Path) -> dict:
    """Read a saved model without pickle: ``topic_word``, ``doc_topic``, ``vocab``, ``unit_ids``, ``settings``
    and ``unit_tokens`` (tokens per unit; None for a model saved without it)."""
    folder = Path(folder)
    missing = [name for name in REQUIRED_MODEL_FILES if not (folder / name).is_file()]
    if missing:
        raise InputError(
            folder, f"not a saved topic model (missing {', '.join(missing)})", "point at figures/topic_models/<model>"
        )
    return {
        "topic_word": np.load(folder / "topic_word.npy", allow_pickle=False),
        "doc_topic": np.load(folder / "doc_topic.npy", allow_pickle=False),
        "vocab": (folder / "vocab.txt").read_text(encoding="utf-8").splitlines(),
        "unit_ids": (folder / "units.txt").read_text(encoding="utf-8").splitlines(),
        "settings": json.loads((folder / "settings.json").read_text(encoding="utf-8")),
        # n_d per unit; None for a model saved before the file existed.
        "unit_tokens": (
            np.loadtxt(folder / "unit_tokens.txt", dtype=np.int64, ndmin=1)
            if (folder / "unit_tokens.txt").is_file()
            else None
        ),
    }
