"""Stage ``design``: chosen contrasts (``[[compare]]``), coverage over time (``[time]``,
``[[time.event]]``) and count regressions with outlets as clusters (``[model]``).

Read the metadata and check every design setting against it (a contrast naming a missing group,
a formula naming a missing column, an event window outside the dates, words compared across
languages: one line each, exit 2, nothing written) -> with topics in the design layer, load the
topics stage's saved models (missing or stale: one line, exit 2; make builds them first) ->
prepare (cached) and annotate -> per-document counts of frames, actors and concepts with the
exposure the study names (counted tokens or sentences), per-document topic prevalence, the
document-term matrix for words -> compute (:mod:`analysis.stats.contrasts`, :mod:`analysis.stats.timeseries`,
:mod:`analysis.stats.models`, :mod:`analysis.topics.effects`, :func:`analysis.stats.keyness.keyness_by_group`)
-> write (:func:`analysis.stages.results.write_results`). The files are exactly
:func:`analysis.study.outputs.design_outputs`.

Dates: a ``date`` column of real dates (``datetime64``, as the corpus reader gives once it
parses dates); a text column written as ``YYYY-MM-DD`` throughout is read as dates here. Anything
else and the time and date-dependent model outputs say why they are empty instead.
"""

from __future__ import annotations

import logging
import math
from array import array
from functools import partial
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
import pandas as pd

from ..corpus import sources
from ..errors import InputError
from ..framing.codebook import Codebook, release_key_cache
from ..framing.measures import Annotation, annotate
from ..framing.measures import _entry_matrix as entry_rows_matrix
from ..plots import design as pd_plot
from ..prepared import PreparedStudy, load_codebook, prepared_corpus
from ..stats import contrasts as design
from ..stats import models, timeseries
from ..stats.groups import group_order, keyed_rng
from ..stats.keyness import column_sums, keyness_by_group, top_keyness
from ..study.design_spec import Contrast, uses_topics
from ..study.outputs import placeholder_values
from ..study.settings import FramingSettings, ModelSettings, Study, TimeSettings, design_column_problems, raise_all
from ..text.dtm import DocTermMatrix
from ..topics import effects as topic_effects
from .results import Csv, Figure, Result, Table, write_results

log = logging.getLogger("analysis")

__all__ = ["TopicModel", "check_design", "design_results", "document_dates", "load_topic_models", "run_design"]

#: Exposure -> (scale, unit): the denominator of every rate.
EXPOSURE_SCALE = {"tokens": (1000.0, "per 1,000 tokens"), "sentences": (100.0, "per 100 sentences")}
MEASURE_KINDS = (
    "frames",
    "actors",
    "concepts",
)  # counted from the codebook; topics come from the topics stage, words from the DTM
TOPIC_UNIT = "mean topic share"


def document_dates(docvars: pd.DataFrame) -> tuple[pd.Series | None, str]:
    """The documents' dates (``datetime64``, indexed like ``docvars``) or None and the reason."""
    if "date" not in docvars.columns:
        return None, "no date column in the metadata: nothing over time"
    values = docvars["date"]
    if pd.api.types.is_datetime64_any_dtype(values):
        return values, ""
    text = values.astype(str).str.strip()
    given = text != ""  # an empty date is a missing date (the corpus reader writes dates as YYYY-MM-DD)
    if given.any() and text[given].str.fullmatch(r"\d{4}-\d{2}-\d{2}").all():
        parsed = pd.to_datetime(text.where(given, None), format="%Y-%m-%d", errors="coerce")
        if parsed[given].notna().all():
            missing = int((~given).sum())
            return parsed, (f"{missing} document(s) without a date left out of the time outputs" if missing else "")
    return None, "the date column is not a date (YYYY-MM-DD) in every row that has one: nothing over time"


def _dated(docvars: pd.DataFrame, dates: pd.Series | None) -> pd.DataFrame:
    return docvars.assign(date=dates) if dates is not None else docvars


def check_design(study: Study, docvars: pd.DataFrame, dates: pd.Series | None) -> None:
    """Every design setting against the metadata; raises all problems at once (nothing written yet)."""
    where = str(study.source)
    problems = design_column_problems(study, list(docvars.columns))
    if not problems:
        for contrast in study.compare:
            problems += design.contrast_problems(contrast, docvars, where)
        if study.time is not None and dates is not None:
            problems += timeseries.span_problems(dates, study.time.freq, where)
            for event in study.time.events:
                problems += timeseries.event_problems(
                    name=event.name, date=pd.Timestamp(event.date), window=event.window, dates=dates, where=where
                )
        problems += _measure_problems(study, docvars, where)
    raise_all(problems)


def contrast_languages(contrast, docvars: pd.DataFrame) -> list[str]:
    """The languages of the documents a contrast compares (sorted)."""
    labels = design.assign_groups(contrast, docvars)
    if "language" not in docvars.columns:
        return []
    return sorted(set(docvars.loc[labels.notna(), "language"].astype(str)))


def _measure_problems(study: Study, docvars: pd.DataFrame, where: str) -> list[InputError]:
    """Contrasts naming words across languages or within strata, and topics without a topic model."""
    problems = []
    for contrast in study.compare:
        key = f"[[compare]] '{contrast.name}' measures words"
        if "words" in contrast.measures:
            languages = contrast_languages(contrast, docvars)
            if len(languages) > 1:
                problems.append(
                    InputError(
                        where,
                        f"{key}: its groups are in {len(languages)} languages ({', '.join(languages)}), and "
                        "words across "
                        "languages are not comparable",
                        'use measures = ["concepts"] (the bilingual codebook\'s ids) or groups of one language',
                    )
                )
            if contrast.within:
                problems.append(
                    InputError(
                        where,
                        f"{key}: keyness permutes documents across the whole pair, not within '{contrast.within}'",
                        "drop within, or compare words in a [[compare]] of its own without within",
                    )
                )
    if uses_topics(study) and not placeholder_values(study)["model"]:
        problems.append(
            InputError(
                where,
                "topics in the design layer ([model] topics or measures) need the topics stage's "
                "models, and the study has "
                "none (the topics stage fits vi and en models only)",
                "remove topics from the design sections or add vi/en to [corpus] languages",
            )
        )
    return problems


def run_design(study: Study, workers: int | None = None) -> list[Path]:
    """Stage ``design``: check, compute every result, then write them all."""
    # The corpus's metadata in whatever form the study reads it (folder, table, news-please, HTML),
    # checked without keeping texts; the folder form's metadata.csv is not the corpus of a table study.
    docvars = sources.read_corpus(study, spill=False).docvars
    dates, _ = document_dates(docvars)
    check_design(study, docvars, dates)
    topic_models = load_topic_models(study, docvars) if uses_topics(study) else {}
    codebook = load_codebook(study)
    ps = prepared_corpus(study, workers=workers)
    return write_results(study.output_dir, design_results(ps, codebook, topic_models), study)


class TopicModel:
    """One saved topic model as the design layer uses it: the Dirichlet parameters of each unit's
    θ (:func:`analysis.topics.effects.posterior_gamma`), each unit's document, the per-document
    prevalence (documents × ``T1`` ...) and the topics' labels."""

    def __init__(self, name: str, saved: dict, kind: str):
        self.name = name
        self.saved = saved
        self.unit_docs = topic_effects.unit_documents(saved["unit_ids"], kind)
        self.gamma = topic_effects.posterior_gamma(
            saved["doc_topic"], saved["unit_tokens"], np.asarray(saved["settings"]["alpha_fitted"])
        )
        self.prevalence = topic_effects.document_prevalence(saved["doc_topic"], self.unit_docs)
        self.labels = topic_effects.topic_labels(saved["topic_word"], saved["vocab"], model=name)

    def measure(self) -> design.MeasureTable:
        """Per-document prevalence as a measure: rate = share (exposure 1, scale 1)."""
        return design.MeasureTable(
            "topics", self.prevalence, pd.Series(1.0, index=self.prevalence.index), self.labels, 1.0
        )


def load_topic_models(study: Study, docvars: pd.DataFrame) -> dict[str, TopicModel]:
    """Every saved model of the topics stage (``topic_models/<model>``), checked against the corpus:
    a missing model, one saved without ``unit_tokens.txt`` or one naming documents the corpus does
    not have is one line with the fix (run the topics stage), before anything is written."""
    from .topics import load_model

    fix = f"run the topics stage first: make topics (or python -m analysis topics --study {study.source})"
    out = {}
    for name in placeholder_values(study)["model"]:
        folder = study.output_dir / "topic_models" / name
        try:
            saved = load_model(folder)
        except InputError as exc:
            raise InputError(exc.where, exc.problem, fix) from None
        if (
            saved["unit_tokens"] is None
            or len(saved["unit_tokens"]) != len(saved["unit_ids"])
            or len(saved["unit_ids"]) != len(saved["doc_topic"])
        ):
            raise InputError(
                folder, "the saved model has no unit_tokens.txt matching units.txt (saved by an older version)", fix
            )
        model = TopicModel(name, saved, study.units.kind)
        unknown = [d for d in model.prevalence.index if d not in docvars.index]
        if unknown:
            raise InputError(
                folder / "units.txt",
                f"names {len(unknown)} document(s) the corpus does not have (e.g. '{unknown[0]}')",
                fix,
            )
        out[name] = model
    return out


def contrast_model(contrast, docvars: pd.DataFrame, topic_models: dict[str, TopicModel]) -> TopicModel:
    """The model a contrast's topics come from: its one language's model, else the joint model."""
    languages = contrast_languages(contrast, docvars)
    if len(languages) == 1 and languages[0] in topic_models:
        return topic_models[languages[0]]
    return topic_models.get("joint") or next(iter(topic_models.values()))


def series_model(topic_models: dict[str, TopicModel]) -> TopicModel:
    """The model of ``[time]``'s topics: the joint model (both languages), else the one model."""
    return topic_models.get("joint") or next(iter(topic_models.values()))


def measure_tables(
    ps: PreparedStudy, codebook: Codebook, kinds: set[str] = frozenset(MEASURE_KINDS)
) -> tuple[dict, dict, dict[str, str]]:
    """Per-document counts (documents x items) of the measures in ``kinds`` (frames, actors,
    concepts: :func:`analysis.framing.measures.entry_matrix`), both exposures (counted tokens and
    sentences per document) and the frame -> family map, from one annotation pass.

    The prepared documents are streamed: each is annotated, reduced to its counts
    (:func:`document_counts`) and let go, so memory holds a few numbers a document, not the
    corpus's annotations (a key per token and hits per sentence, about 36 KB a document: 2.9 GB
    at 81,000 articles). The tables are those of :func:`frame_salience` and :func:`actor_salience`
    pivoted to documents x items (hits, mentions), which they were built from before.
    """
    counted = document_counts(
        (annotate(doc, ps.rules, codebook) for doc in ps.prepared), codebook, kinds & set(MEASURE_KINDS)
    )
    release_key_cache()  # the token keys of the vocabulary (up to 500,000): not needed past annotation
    families = {e.id: e.family for e in codebook.frames}
    return counted.counts, counted.exposures, families


class DocumentCounts:
    """What the design layer keeps of each document's annotation (:func:`document_counts`):
    ``counts`` (kind -> documents x items: frames and actors int64 tables indexed by ``doc_id``,
    concepts a sparse :class:`~analysis.text.dtm.DocTermMatrix`) and ``exposures`` (``tokens``,
    ``sentences`` -> float Series indexed by ``doc_id``)."""

    def __init__(self, counts: dict, exposures: dict):
        self.counts = counts
        self.exposures = exposures


def document_counts(annotations: Iterable[Annotation], codebook: Codebook, kinds: set[str]) -> DocumentCounts:
    """Counts per document of the measures in ``kinds`` from a stream of annotations, each read once.

    ``frames``: hits of each frame in the document (every family; columns in codebook order, as
    ``frame_salience(..., "document")`` pivoted on ``hits``); ``actors``: mentions of each actor
    (columns in codebook order, as :func:`actor_salience` pivoted on ``mentions``); ``concepts``:
    :func:`entry_matrix` (concept axis). Exposures: counted tokens and sentences per document.
    Nothing of an annotation outlives its turn in the loop.

    >>> from analysis.framing.codebook import parse_codebook
    >>> from analysis.text.tokens import PreparedDocument, TermRules
    >>> cb = parse_codebook("frames:\\n  issue:\\n    trade: {vi: [thương_mại]}\\n")
    >>> docs = [PreparedDocument("d1", "vi", [[["thương_mại", "thương_mại", "."], ["Tốt", "."]]])]
    >>> c = document_counts((annotate(d, TermRules({}), cb) for d in docs), cb, {"frames"})
    >>> c.counts["frames"].loc["d1"].tolist(), c.exposures["tokens"].tolist(), c.exposures["sentences"].tolist()
    ([2], [3.0], [2.0])
    """
    frame_ids = list(dict.fromkeys(e.id for e in codebook.frames))
    frame_column = {f: i for i, f in enumerate(frame_ids)}
    actor_ids = list(dict.fromkeys(e.id for e in codebook.actors))
    actor_column = {a: i for i, a in enumerate(actor_ids)}
    want_frames, want_actors, want_concepts = ("frames" in kinds), ("actors" in kinds), ("concepts" in kinds)
    ids: list[str] = []
    tokens: list[float] = []
    sentences: list[float] = []
    frame_cells, actor_cells = array("q"), array("q")  # documents x items, row after row
    concept_rows: list[tuple[str, list[str]]] = []
    for a in annotations:
        ids.append(a.doc_id)
        tokens.append(float(a.tokens))
        sentences.append(float(len(a.keys)))
        if want_frames:
            row = [0] * len(frame_ids)
            for family in codebook.frame_families:
                for hits in a.frames[family]:
                    for h in hits:
                        row[frame_column[h.entry]] += 1
            frame_cells.extend(row)
        if want_actors:
            row = [0] * len(actor_ids)
            for hits in a.actors:
                for h in hits:
                    row[actor_column[h.entry]] += 1
            actor_cells.extend(row)
        if want_concepts:
            concept_rows.append((a.doc_id, [h.entry for hits in a.concepts for h in hits]))
    exposures = {
        "tokens": pd.Series(dict(zip(ids, tokens))).reindex(ids),
        "sentences": pd.Series(dict(zip(ids, sentences))).reindex(ids),
    }
    counts: dict = {}
    if want_frames:
        table = _count_table(frame_cells, ids, frame_ids, "frame")
        counts["frames"] = table.reindex(columns=[e.id for e in codebook.frames], fill_value=0)
    if want_actors:
        counts["actors"] = _count_table(actor_cells, ids, actor_ids, "actor")
    if want_concepts:
        counts["concepts"] = entry_rows_matrix(concept_rows, "concepts")  # documents × concept ids, rows in ids order
    return DocumentCounts(counts, exposures)


def _count_table(cells: array, ids: list[str], columns: list[str], name: str) -> pd.DataFrame:
    """``cells`` (row after row) as a documents x ``columns`` int64 table indexed by ``doc_id``."""
    values = np.array(cells, dtype=np.int64).reshape(len(ids), len(columns))
    return pd.DataFrame(
        values,
        index=pd.Index(ids, name="doc_id"),
        columns=pd.Index(columns, name=name),
    )


def design_results(ps: PreparedStudy, codebook: Codebook, topic_models: dict | None = None) -> list[Result]:
    """Every design output of a prepared study (only the sections the study has); ``topic_models``
    from :func:`load_topic_models` when the design layer uses topics."""
    study = ps.study
    topic_models = topic_models or {}
    dates, date_note = document_dates(ps.docvars)
    docvars = _dated(ps.docvars, dates)
    kinds = {m for c in study.compare for m in c.measures} | (
        set(study.time.measures) if study.time is not None else set()
    )
    kinds |= {"frames"} if study.model is not None else set()
    counts, exposures, families = measure_tables(ps, codebook, kinds & set(MEASURE_KINDS))
    # Labels per kind: a frame and a concept may share an id ("cooperation"), with different labels.
    labels = {
        kind: {e.id: e.label for e in entries}
        for kind, entries in (("frames", codebook.frames), ("actors", codebook.actors), ("concepts", codebook.concepts))
    }

    def measures(exposure: str) -> dict[str, design.MeasureTable]:
        scale = EXPOSURE_SCALE[exposure][0]
        tables = {
            kind: design.MeasureTable(kind, table, exposures[exposure], labels[kind], scale)
            for kind, table in counts.items()
        }
        if "topics" in kinds and topic_models:  # [time]'s topics (a contrast picks its own model)
            tables["topics"] = series_model(topic_models).measure()
        return tables

    results: list[Result] = []
    if study.compare:
        results += _contrasts(
            docvars,
            {e: measures(e) for e in EXPOSURE_SCALE},
            families,
            topic_models,
            compare=study.compare,
            framing=study.framing,
        )
        if "words" in kinds:
            results += _contrast_words(ps, docvars, compare=study.compare, framing=study.framing)
    if study.time is not None:
        results += _time(
            docvars,
            dates,
            date_note,
            measures(study.time.exposure),
            time=study.time,
            languages=study.corpus.languages,
            min_group_docs=study.framing.min_group_docs,
        )
    if study.model is not None:
        results += _model(docvars, dates, date_note, measures(study.model.exposure), model=study.model)
        if study.model.topics:
            results += _model_topics(docvars, dates, date_note, topic_models, model=study.model)
    return results


#: The columns of design_contrasts.tex/.md, in the order of :mod:`analysis.stats.comparison`.
CONTRAST_SHORT = [
    "contrast",
    "measure",
    "label",
    "group_a",
    "group_b",
    "n_a",
    "n_b",
    "mean_a",
    "mean_b",
    "difference",
    "q",
    "design_effect",
    "mdd",
    "mh_odds_ratio",
    "mh_p",
    "too_small",
]


def _contrasts(
    docvars: pd.DataFrame,
    tables_by_exposure: dict,
    families: dict,
    topic_models: dict | None = None,
    *,
    compare: Sequence[Contrast],
    framing: FramingSettings,
) -> list[Result]:
    fr = framing
    rows, dists = [], []
    for contrast in compare:
        tables = tables_by_exposure[contrast.exposure]
        for kind in contrast.measures:
            if kind == "words":  # keyness: design_words
                continue
            m = contrast_model(contrast, docvars, topic_models).measure() if kind == "topics" else tables[kind]
            rows.append(
                design.compare(
                    contrast, m, docvars, n_resamples=fr.permutations, seed=fr.seed, min_docs=fr.min_group_docs
                )
            )
            fam = families if kind == "frames" else {}
            dists.append(
                design.distribution_table(
                    contrast,
                    m,
                    fam,
                    docvars,
                    n_resamples=min(fr.permutations, 2000),
                    seed=fr.seed,
                    min_docs=fr.min_group_docs,
                )
            )
    table = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(columns=design.COMPARE_COLUMNS)
    dist = pd.concat(dists, ignore_index=True) if dists else pd.DataFrame(columns=design.DISTRIBUTION_COLUMNS)
    return [
        Csv("design_contrasts", table),
        Table("design_contrasts", table[CONTRAST_SHORT], formats=("tex", "md")),
        Table("design_distributions", dist),
    ]


WORDS_COLUMNS_FRONT = ["contrast", "language"]


def _contrast_words(
    ps: PreparedStudy, docvars: pd.DataFrame, *, compare: Sequence[Contrast], framing: FramingSettings
) -> list[Result]:
    """Keyness of words between each pair of groups of every contrast naming words (one language
    each, checked before): :func:`analysis.stats.keyness.keyness_by_group` on the pair's documents,
    documents (or the contrast's cluster values) permuted, words in fewer than ``[framing]
    keyness_min_docs`` of the pair's documents not tested (as in the framing stage); the full table
    and the top rows."""
    fr = framing
    dtm = ps.dtm("document")
    full, top = [], []
    for contrast in compare:
        if "words" not in contrast.measures:
            continue
        labels = design.assign_groups(contrast, docvars)
        language = ",".join(contrast_languages(contrast, docvars))
        row_labels = labels.reindex(
            dtm.row_ids
        )  # vectorised: per-document lookups took most of a minute at 10,000 documents
        for a, b in design.pairs(design.group_names(contrast, labels)):
            in_pair = row_labels.isin([a, b]).to_numpy()
            ids = [d for d, keep in zip(dtm.row_ids, in_pair) if keep]
            counts = dtm.counts[np.flatnonzero(in_pair)]
            used = np.flatnonzero(column_sums(counts) > 0)
            sub = DocTermMatrix(counts[:, used], ids, [dtm.vocab[j] for j in used], dtm.docvars.loc[ids])
            clusters = docvars.loc[ids, contrast.cluster].astype(str).to_dict() if contrast.cluster else None
            table = keyness_by_group(
                sub,
                row_labels[in_pair].astype(str).to_dict(),
                order=[a, b],
                correction=fr.keyness_correction,
                alpha0=fr.fightin_alpha0,
                min_docs=fr.min_group_docs,
                n_resamples=fr.permutations,
                seed=fr.seed,
                clusters=clusters,
                stream=f"design_words_{contrast.name}_{a}_{b}",
                max_resamples=fr.keyness_budget,
                min_term_docs=fr.keyness_min_docs,
            )
            table.insert(0, "language", language)
            table.insert(0, "contrast", contrast.name)
            full.append(table)
            top.append(top_keyness(table, fr.keyness_top_n) if (table["term"] != "").any() else table)
    empty = pd.DataFrame([{"contrast": "", "note": "no pair of groups to compare"}])
    return [
        Csv("design_words", pd.concat(full, ignore_index=True) if full else empty),
        Table("design_words", pd.concat(top, ignore_index=True) if top else empty, formats=("tex", "md")),
    ]


def _model_topics(
    docvars: pd.DataFrame, dates, date_note: str, topic_models: dict[str, TopicModel], *, model: ModelSettings
) -> list[Result]:
    """``model_topics`` and its figure: :func:`analysis.topics.effects.topic_effects` per saved model."""
    md = model
    uses_date = "date" in models.formula_columns(md.formula)
    tables, marginals = [], []
    for name, tm in topic_models.items():
        if uses_date and dates is None:
            tables.append(
                pd.DataFrame(
                    [{"model": name, "term": "(none)", "note": f"not fitted: {date_note}"}],
                    columns=topic_effects.MODEL_TOPIC_COLUMNS,
                )
            )
            continue
        table, marginal = topic_effects.topic_effects(
            name,
            tm.gamma,
            tm.unit_docs,
            docvars,
            formula=md.formula,
            n_draws=md.draws,
            rng=keyed_rng(md.seed, "composition", name),
            labels=tm.labels,
            min_docs=md.min_docs,
            cluster=md.cluster,
        )
        tables.append(table)
        marginals.append(marginal)
    table = pd.concat(tables, ignore_index=True) if tables else pd.DataFrame(columns=topic_effects.MODEL_TOPIC_COLUMNS)
    marginal = pd.concat(marginals, ignore_index=True) if marginals else pd.DataFrame(columns=models.MARGINAL_COLUMNS)
    small = [n for n in marginal["note"].unique() if "too small" in n] if len(marginal) else []
    note = f"too small to mean anything: fewer than {md.min_docs} documents per model" if small else ""
    return [
        Table("model_topics", table),
        Figure("model_marginal_topics", partial(pd_plot.figure_marginal_rates, marginal, TOPIC_UNIT, note), marginal),
    ]


def _time_groups(docvars: pd.DataFrame, *, by: str, languages: Sequence[str]) -> tuple[pd.Series, list[str]]:
    groups = docvars[by].astype(str)
    order = group_order(groups, languages if by == "language" else ())
    return groups, order


def _time(
    docvars: pd.DataFrame,
    dates,
    date_note: str,
    tables: dict,
    *,
    time: TimeSettings,
    languages: Sequence[str],
    min_group_docs: int,
) -> list[Result]:
    tm = time
    scale, unit = EXPOSURE_SCALE[tm.exposure]
    results: list[Result] = []
    series_parts = []
    if dates is not None:
        groups, order = _time_groups(docvars, by=tm.by, languages=languages)
        for kind in tm.measures:
            m = tables[kind]
            s = timeseries.period_series(
                m.counts,
                m.exposure,
                dates,
                groups,
                freq=tm.freq,
                n_resamples=tm.bootstrap,
                seed=tm.seed,
                scale=m.scale,
                labels=m.labels,
                order=order,
                upper=1.0 if kind == "topics" else math.inf,
            )  # a topic share is at most 1
            s.insert(0, "measure", kind)
            series_parts.append(s)
    series = (
        pd.concat(series_parts, ignore_index=True)
        if series_parts
        else pd.DataFrame(columns=["measure", *timeseries.SERIES_COLUMNS])
    )
    if dates is None:
        series = pd.DataFrame([{"measure": "", "note": date_note}], columns=["measure", *timeseries.SERIES_COLUMNS])
    results.append(Table("time_series", series))
    small = ""
    if dates is not None:
        sizes = docvars[tm.by].astype(str).value_counts()
        if sizes.min() < min_group_docs:
            small = (
                f"too small to mean anything: {sizes.idxmin()} has {sizes.min()} document(s) (fewer "
                f"than {min_group_docs})"
            )
    for kind in tm.measures:
        part = series[series["measure"] == kind] if dates is not None else series.iloc[0:0]
        ylabel = TOPIC_UNIT if kind == "topics" else unit
        results.append(
            Figure(
                "time_series_{measure}",
                partial(
                    pd_plot.figure_time_series,
                    part,
                    ylabel,
                    date_note if dates is None else small,
                    span=None if dates is None else (dates.dropna().min(), dates.dropna().max()),
                    freq=tm.freq,
                ),
                part,
                {"measure": kind},
            )
        )
    events, lag = [], None
    if dates is not None:
        groups, order = _time_groups(docvars, by=tm.by, languages=languages)
        pair = order[:2]
        if len(pair) == 2:
            for event in tm.events:
                for kind in tm.measures:
                    m = tables[kind]
                    e = timeseries.event_window(
                        m.counts,
                        m.exposure,
                        dates,
                        groups,
                        name=event.name,
                        date=pd.Timestamp(event.date),
                        window=event.window,
                        a=pair[0],
                        b=pair[1],
                        n_resamples=tm.bootstrap,
                        seed=tm.seed,
                        scale=m.scale,
                        labels=m.labels,
                        min_docs=min_group_docs,
                        counted=kind != "topics",
                    )
                    e.insert(1, "measure", kind)
                    events.append(e)
            lag = timeseries.lag_correlation(dates, groups, a=pair[0], b=pair[1], max_lag=tm.max_lag)
        else:
            date_note = f"only {len(order)} {tm.by} value(s): nothing to compare"
    if tm.events:
        table = (
            pd.concat(events, ignore_index=True)
            if events
            else pd.DataFrame([{"note": date_note}], columns=["event", "measure", *timeseries.EVENT_COLUMNS[1:]])
        )
        results.append(Table("time_events", table))
    if lag is None:
        lag = pd.DataFrame([{"note": date_note}], columns=timeseries.LAG_COLUMNS)
    results.append(Table("time_lag", lag))
    return results


def _model(docvars: pd.DataFrame, dates, date_note: str, tables: dict, *, model: ModelSettings) -> list[Result]:
    md = model
    scale, unit = EXPOSURE_SCALE[md.exposure]
    m = tables["frames"]
    uses_date = "date" in models.formula_columns(md.formula)
    cluster = md.cluster if md.cluster in docvars.columns else ""
    if uses_date and dates is None:
        glm = pd.DataFrame([{"term": "(none)", "note": f"not fitted: {date_note}"}], columns=models.REGRESSION_COLUMNS)
        mixed = pd.DataFrame([{"term": "(none)", "note": f"not fitted: {date_note}"}], columns=models.MIXED_COLUMNS)
        marginal = pd.DataFrame(columns=models.MARGINAL_COLUMNS)
    else:
        if uses_date:  # documents without a date cannot enter a model of time
            m = design.MeasureTable(
                m.kind, m.counts[dates.reindex(m.counts.index).notna().to_numpy()], m.exposure, m.labels, m.scale
            )
        glm = models.count_regression(
            m.counts,
            m.exposure,
            docvars,
            md.formula,
            family=md.family,
            cluster=cluster,
            labels=m.labels,
            min_docs=md.min_docs,
        )
        mixed = (
            models.mixed_model(
                m.counts,
                m.exposure,
                docvars,
                md.formula,
                group=cluster or "outlet",
                labels=m.labels,
                min_groups=md.min_clusters,
                scale=scale,
            )
            if md.mixed and cluster
            else None
        )
        focal = (
            "language" if "language" in models.formula_columns(md.formula) else models.formula_columns(md.formula)[0]
        )
        try:
            marginal = models.marginal_rates(
                m.counts,
                m.exposure,
                docvars,
                md.formula,
                focal=focal,
                over="date",
                cluster=cluster,
                scale=scale,
                labels=m.labels,
            )
        except Exception as exc:  # noqa: BLE001 - a model that cannot predict still leaves its coefficient table
            log.warning("design: no marginal rates (%s)", exc)
            marginal = pd.DataFrame(columns=models.MARGINAL_COLUMNS)
    note = (
        f"too small to mean anything: {len(docvars)} documents (fewer than {md.min_docs})"
        if len(docvars) < md.min_docs
        else ""
    )
    results: list[Result] = [
        Table("model_frames", glm),
        Figure("model_marginal_frames", partial(pd_plot.figure_marginal_rates, marginal, unit, note), marginal),
    ]
    if md.mixed:
        if mixed is None:
            mixed = pd.DataFrame(
                [{"term": "(none)", "note": "not fitted: no cluster column"}], columns=models.MIXED_COLUMNS
            )
        results.append(Table("model_frames_mixed", mixed))
    return results
