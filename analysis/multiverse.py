"""The multiverse of a study (``[robustness]``): every specification of the grid run through the
toolkit's own pipeline, reusing every cached step.

Each specification is the study with some values changed (:func:`specification_study`, a
``dataclasses.replace`` of the sections the grid's factors belong to). Work is shared where the
settings allow:

* **preparation** depends only on the boilerplate rules, phrase lists (the codebook's phrases
  among them), segmenter and re-segmentation (:attr:`analysis.text.prepare.Preparation.key`), and on
  the learned rules and dropped duplicates: each distinct preparation is run once, in the parent, in
  ``[run] workers`` processes (or on Dask with ``[run] scheduler``), into the prepared-document
  cache, so later runs and every specification read it from there. A document's cache key holds
  only the learned rules that cut something from it (:func:`analysis.text.prepare.document_keys`),
  so the specifications with learned boilerplate on and off share every document the rules leave
  alone;
* **annotation** (codebook hits) depends on that preparation, the codebook and the term rules
  (stopwords, lemmas): the specifications that share all of them are one task, annotated once;
  denominators, units and ``min_hits`` then cost a pass over the annotations each;
* the tasks run side by side in ``[run] workers`` local processes, or, with ``[run] scheduler``, on
  that Dask cluster (:func:`_dask_results`: one Dask task per grid task, results gathered in the
  order of the tasks); each specification's estimates draw from generators keyed by the seed and
  the item (:func:`analysis.stats.groups.keyed_rng`), so the result does not depend on which
  process or machine ran what, or in which order: the tables are byte-identical across runs,
  worker counts and clusters.

On Dask a task reads its prepared documents from the study's cache and its codebook and stopword
files from the study's paths, as a local worker does: the cluster's workers must see the study's
folder under the same path (one machine, or a shared file system), and have this package installed.

:func:`run_multiverse` returns plain DataFrames; the ``robustness`` stage writes them.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np
import pandas as pd

from . import threads
from .errors import InputError
from .framing.claims import claim_values, selected_items
from .prepared import PreparedStudy, load_codebook, load_term_rules, prepared_corpus
from .progress import Progress
from .stats.specification import (
    claim_estimates,
    specification_grid,
    specification_summary,
    specification_values,
)
from .study.settings import ROBUSTNESS_FACTORS, Study, TopicSettings, robustness_comparisons
from .text.prepare import dask_client, resolve_workers
from .topics.agreement import solution_agreement
from .topics.lda import build_corpus, candidate_ks, concept_tokens, fit_lda, fit_parameters

log = logging.getLogger("analysis")

#: Factors whose value changes the prepared documents or which documents are kept (one preparation each).
PREPARATION_FACTORS = ("segmenter", "resegment", "learn_boilerplate", "drop_duplicates", "codebook")
#: Factors that change the codebook hits of prepared documents (one annotation each, with the above).
ANNOTATION_FACTORS = ("use_stopwordsiso", "stopwords_vi", "stopwords_en", "lemmatize_en")


@dataclass
class Multiverse:
    """What :func:`run_multiverse` returns.

    ``grid``: one row per specification (:func:`analysis.stats.specification.specification_grid`);
    ``estimates``: one row per claim × specification (``claim, kind, item, label, spec``, the
    factors, ``baseline`` and :data:`analysis.stats.specification.ESTIMATE_COLUMNS`);
    ``summary`` and ``decomposition``: :func:`analysis.stats.specification.specification_summary`;
    ``factors``: the factor names in grid order; ``topics``: with ``[robustness] topics``, each
    specification's joint topic solution against the baseline's (:func:`topic_agreement`), else None.
    """

    grid: pd.DataFrame
    estimates: pd.DataFrame
    summary: pd.DataFrame
    decomposition: pd.DataFrame
    factors: list[str]
    topics: pd.DataFrame | None = None


def baseline_values(study: Study) -> dict[str, Any]:
    """The study's own value of every factor of its ``[robustness] grid``."""
    r = study.robustness
    out = {}
    for name in r.grid:
        section, key = ROBUSTNESS_FACTORS[name]
        out[name] = getattr(r if section == "robustness" else getattr(study, section), key)
    return out


def specification_study(study: Study, values: Mapping[str, Any]) -> Study:
    """The study with the factors' values set (``denominator`` is set in ``[robustness]``)."""
    changes: dict[str, dict] = {}
    for name, value in values.items():
        section, key = ROBUSTNESS_FACTORS[name]
        changes.setdefault(section, {})[key] = value
    return dataclasses.replace(study, **{s: dataclasses.replace(getattr(study, s), **kv) for s, kv in changes.items()})


def claim_kinds(comparisons: tuple[str, ...]) -> list[str]:
    """The claim kinds the study's comparisons ask for, in order (frames, concepts).

    ``comparisons`` is :func:`analysis.study.settings.robustness_comparisons`: ``[robustness]
    comparisons``, or by default (none named) the study's declared primary comparison when it is a
    frame or concept comparison between the languages, else every frame and concept comparison between them.
    """
    return [
        kind
        for kind in ("frames", "concepts")
        if kind in comparisons or any(c.startswith(f"{kind[:-1]}:") for c in comparisons)
    ]


def _task_key(values: Mapping[str, Any]) -> tuple:
    return tuple((n, repr(values.get(n))) for n in (*PREPARATION_FACTORS, *ANNOTATION_FACTORS))


def _run_task(study: Study, specs: list[tuple[int, dict]], kinds: list[str]) -> pd.DataFrame:
    """One task: the specifications that share a preparation and an annotation."""
    first = specification_study(study, specs[0][1])
    ps = prepared_corpus(first, workers=1, progress=False)
    rules = load_term_rules(first)
    ps = PreparedStudy(first, ps.corpus, ps.prepared, rules, ps.preparation)
    codebook = load_codebook(first, rules)
    annotations = ps.annotate(codebook)
    docvars = ps.docvars
    language = {str(d): str(v) for d, v in docvars["language"].items()}
    r, fr = study.robustness, study.framing
    a, b = study.corpus.languages[:2]
    outlets = (
        {str(d): str(v) for d, v in docvars[fr.cluster].items()}
        if fr.cluster and fr.cluster in docvars.columns
        else None
    )
    labels = {e.id: e.label for e in (*codebook.frames, *codebook.concepts, *codebook.actors)}
    parts = []
    for spec, values in specs:
        derived = specification_study(study, values)
        for kind in kinds:
            doc_ids, items, families, matrix = claim_values(
                annotations,
                codebook,
                kind=kind,
                denominator=derived.robustness.denominator,
                unit_kind=derived.units.kind,
                window=derived.units.window,
                min_hits=derived.framing.min_hits,
            )
            keep = selected_items(items, kind, robustness_comparisons(study))
            columns = [items.index(i) for i in keep]
            table = claim_estimates(
                matrix[:, columns],
                keep,
                [language[d] for d in doc_ids],
                a=a,
                b=b,
                families=[families[j] for j in columns],
                clusters=[outlets[d] for d in doc_ids] if outlets is not None else None,
                cluster_name=fr.cluster or "outlet",
                n_permutations=r.permutations,
                n_resamples=r.bootstrap,
                seed=r.seed,
            )
            table.insert(0, "claim", [f"{kind[:-1]}:{i}" for i in keep])
            table.insert(1, "kind", kind[:-1])
            table.insert(3, "label", [labels.get(i, i) for i in keep])
            table.insert(0, "spec", spec)
            parts.append(table)
    solutions = _topic_solutions(study, ps, specs, language) if r.topics else []
    return pd.concat(parts, ignore_index=True), solutions


def topic_k(values: Mapping[str, Any], corpus, *, settings: TopicSettings) -> int:
    """K of a specification's topic model: the grid's ``k`` (in ``values``), else ``[topics] k``
    (``settings``), else the middle of the candidate K (``[topics] k_range``, or sized from the corpus)."""
    if values.get("k"):
        return int(values["k"])
    if settings.k:
        return int(settings.k)
    ks = candidate_ks(corpus, settings.k_range)
    return int(ks[len(ks) // 2])


def _topic_solutions(study: Study, ps: PreparedStudy, specs: list[tuple[int, dict]], language: Mapping[str, str]):
    """One joint (concept) topic model per distinct units and K among ``specs``: ``(spec, k,
    topic_word, vocab, vi − en prevalence difference per topic)`` for every specification."""
    fitted: dict[tuple, tuple] = {}
    out = []
    a, b = study.corpus.languages[:2]
    for spec, values in specs:
        derived = specification_study(study, values)
        units = ps.units(derived.units.kind, derived.units.window)
        key = (derived.units.kind, derived.units.window, values.get("k"))
        if key not in fitted:
            cmap = ps.concept_map(units)
            kept = [u for u in units if language[u.doc_id] in (a, b)]
            tp = study.topics
            corpus = build_corpus(
                "joint",
                unit_ids=[u.unit_id for u in kept],
                terms=[concept_tokens(u.terms, language[u.doc_id], cmap) for u in kept],
                no_below=tp.no_below,
                no_above=tp.no_above,
                keep_n=tp.keep_n,
            )
            k = topic_k(values, corpus, settings=tp)
            fit = fit_lda(corpus, k, tp.seed, **fit_parameters(tp))
            doc_of = {u.unit_id: u.doc_id for u in kept}
            theta = pd.DataFrame(fit.doc_topic, index=[doc_of[u] for u in fit.unit_ids]).groupby(level=0).mean()
            side = np.array([language[d] for d in theta.index])
            difference = theta[side == a].mean(axis=0).to_numpy() - theta[side == b].mean(axis=0).to_numpy()
            fitted[key] = (k, fit.topic_word, fit.vocab, difference)
        out.append((spec, *fitted[key]))
    return out


def topic_agreement(solutions: list[tuple], grid: pd.DataFrame, factors: list[str]) -> pd.DataFrame:
    """Each specification's topic solution against the baseline's (the first specification's when the
    grid lacks the study's own choices): :func:`analysis.topics.agreement.solution_agreement`."""
    by_spec = {s[0]: s[1:] for s in solutions}
    base_rows = grid.loc[grid["baseline"], "spec"].tolist() or grid["spec"].tolist()[:1]
    reference = by_spec[base_rows[0]]
    rows = []
    for row in grid.to_dict("records"):
        k, topic_word, vocab, difference = by_spec[row["spec"]]
        agreement = solution_agreement(
            reference[1], reference[2], reference[3], topic_word, vocab, other_difference=difference
        )
        rows.append({**{c: row[c] for c in ["spec", *factors, "baseline"]}, "k": k, **agreement})
    return pd.DataFrame(rows)


def _task(args):
    return _run_task(*args)


def _dask_results(jobs: list[tuple], address: str):
    """The grid's tasks on the Dask cluster at ``address`` (``[run] scheduler``), yielded in the
    order of ``jobs`` whatever order they finish in.

    Every task is submitted at once (a grid has tens of tasks, each seconds to minutes of work) and
    not marked pure, so Dask neither merges nor skips any. Dask is imported here and nowhere else
    in this module, so a study without a scheduler imports and starts nothing of it. Raises one
    :class:`~analysis.errors.InputError` line (``[run] scheduler``) when ``distributed`` is missing,
    the scheduler cannot be reached or has no worker, or the cluster fails during the run; an
    :class:`~analysis.errors.InputError` raised by a task itself (a bad input file) comes back as it is.
    """
    where = "[run] scheduler"
    client = dask_client(address, where=where)
    from distributed.scheduler import KilledWorker

    failed = 'run again when the cluster is up (prepared documents are cached), or set scheduler = ""'
    try:
        futures = [client.submit(_task, job, pure=False) for job in jobs]
        for future in futures:
            result = future.result()
            future.release()
            yield result
    except (OSError, TimeoutError, KilledWorker) as exc:  # the cluster, not a task
        raise InputError(
            where, f"the Dask cluster at '{address}' failed during the run ({type(exc).__name__}: {exc})", failed
        ) from None
    finally:
        client.close()


def run_multiverse(study: Study, workers: int | None = None, progress: bool = True) -> Multiverse:
    """Run every specification of the study's ``[robustness]`` grid and summarise it.

    Raises :class:`InputError` when the study has no ``[robustness]`` section, or when a
    specification's inputs are unusable (a codebook file that does not parse ...), naming the key.
    """
    r = study.robustness
    if r is None:
        raise InputError(
            study.source, "the study has no [robustness] section", "add [robustness] and [robustness.grid]"
        )
    if len(study.corpus.languages) < 2:
        raise InputError(
            study.source,
            "[robustness] compares the two languages, and [corpus] languages lists one",
            "list both languages, or remove [robustness]",
        )
    factors = list(r.grid)
    grid = specification_grid(r.grid, baseline=baseline_values(study), subset=r.subset, seed=r.seed)
    values = specification_values(grid, r.grid)
    specs = list(zip(grid["spec"].tolist(), values))
    kinds = claim_kinds(robustness_comparisons(study))
    workers = resolve_workers(study.run.workers if workers is None else workers)
    # 1. Each distinct preparation once, into the cache (in parallel, or on Dask), before any task reads it.
    preparations: dict[tuple, dict] = {}
    for _, v in specs:
        preparations.setdefault(tuple((n, repr(v.get(n))) for n in PREPARATION_FACTORS), v)
    for v in {_task_key(v): v for _, v in specs}.values():
        # Every codebook and stopword file of the grid read and checked (one line each) before anything is prepared.
        load_codebook(specification_study(study, v))
    for v in preparations.values():
        prepared_corpus(specification_study(study, v), workers=workers, progress=progress)
    # 2. Tasks: specifications sharing a preparation and an annotation.
    tasks: dict[tuple, list] = {}
    for spec, v in specs:
        tasks.setdefault(_task_key(v), []).append((spec, v))
    jobs = [(study, members, kinds) for members in tasks.values()]
    meter = Progress("robustness", total=len(jobs), unit="tasks", enabled=None if progress else False)
    results, solutions = [], []
    if study.run.scheduler:
        # The tasks read the preparations cached above: no task starts Dask work of its own.
        local = dataclasses.replace(study, run=dataclasses.replace(study.run, scheduler=""))
        on_dask = [(local, *job[1:]) for job in jobs]
        for members, (table, fits) in zip(tasks.values(), _dask_results(on_dask, study.run.scheduler)):
            results.append(table)
            solutions += fits
            meter.step(f"{len(members)} specifications")
    elif workers > 1 and len(jobs) > 1:
        with threads.worker_pool(min(workers, len(jobs))) as pool:
            for members, (table, fits) in zip(tasks.values(), pool.map(_task, jobs)):
                results.append(table)
                solutions += fits
                meter.step(f"{len(members)} specifications")
    else:
        for job in jobs:
            table, fits = _task(job)
            results.append(table)
            solutions += fits
            meter.step(f"{len(job[1])} specifications")
    meter.close()
    estimates = _every_specification(pd.concat(results, ignore_index=True), grid["spec"].tolist())
    design = grid.set_index("spec")
    estimates = estimates.join(design, on="spec")
    order = ["claim", "kind", "item", "label", "spec", *factors, "baseline"]
    estimates = estimates[[*order, *[c for c in estimates.columns if c not in order]]]
    # A claim with no hit in any specification says nothing: left out (its estimate is 0 everywhere).
    hit = estimates.groupby("claim", sort=False)["difference"].apply(lambda d: bool(np.any(np.abs(d) > 0)))
    estimates = estimates[estimates["claim"].map(hit)]
    estimates = estimates.sort_values(["kind", "claim", "spec"], key=_kind_order, kind="mergesort").reset_index(
        drop=True
    )
    summary, decomposition = specification_summary(
        estimates,
        factors,
        alpha=r.alpha,
        sign_share=r.sign_share,
        significance_share=r.significance_share,
    )
    labels = estimates.drop_duplicates("claim").set_index("claim")["label"]
    summary.insert(1, "label", summary["claim"].map(labels))
    topics = topic_agreement(solutions, grid, factors) if r.topics else None
    return Multiverse(grid, estimates, summary, decomposition, factors, topics)


def _every_specification(estimates: pd.DataFrame, specs: list[int]) -> pd.DataFrame:
    """One row per claim and specification: a claim a specification cannot estimate (an entry its
    codebook file does not have) gets a row without an estimate, which counts against it."""
    claims = estimates.drop_duplicates("claim")[["claim", "kind", "item", "label", "family"]]
    full = claims.merge(pd.DataFrame({"spec": specs}), how="cross")
    out = full.merge(estimates.drop(columns=["kind", "item", "label", "family"]), on=["claim", "spec"], how="left")
    out["p_unit"] = out["p_unit"].fillna("")
    return out[estimates.columns]


def _kind_order(column: pd.Series) -> pd.Series:
    return column.map({"frame": 0, "concept": 1}) if column.name == "kind" else column
