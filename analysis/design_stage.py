"""Stage ``design``: chosen contrasts (``[[compare]]``), coverage over time (``[time]``,
``[[time.event]]``) and count regressions with outlets as clusters (``[model]``).

Read the metadata and check every design setting against it (a contrast naming a missing group,
a formula naming a missing column, an event window outside the dates: one line each, exit 2,
nothing written) -> prepare (cached) and annotate -> per-document counts of frames, actors and
concepts with the exposure the study names (counted tokens or sentences) -> compute
(:mod:`analysis.design`, :mod:`analysis.timeseries`, :mod:`analysis.models`) -> write
(:func:`analysis.results.write_results`). The files are exactly :func:`analysis.outputs.design_outputs`.

Dates: a ``date`` column of real dates (``datetime64``, as the corpus reader gives once it
parses dates); a text column written as ``YYYY-MM-DD`` throughout is read as dates here. Anything
else and the time and date-dependent model outputs say why they are empty instead.
"""

from __future__ import annotations

import logging
from functools import partial
from pathlib import Path

import pandas as pd

from . import design, files, models, timeseries
from . import plot_design as pd_plot
from .codebook import Codebook
from .framing import actor_salience, concept_counts, frame_salience, group_order
from .prepared import PreparedStudy, load_codebook, prepared_corpus
from .results import Csv, Figure, Result, Table, write_results
from .study import Study, design_column_problems, raise_all

log = logging.getLogger("analysis")

__all__ = ["check_design", "design_results", "document_dates", "run_design"]

#: Exposure -> (scale, unit): the denominator of every rate.
EXPOSURE_SCALE = {"tokens": (1000.0, "per 1,000 tokens"), "sentences": (100.0, "per 100 sentences")}
MEASURE_KINDS = ("frames", "actors", "concepts")


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
            for event in study.time.events:
                problems += timeseries.event_problems(event.name, pd.Timestamp(event.date), event.window, dates, where)
    raise_all(problems)


def run_design(study: Study, workers: int | None = None) -> list[Path]:
    """Stage ``design``: check, compute every result, then write them all."""
    docvars = files.read_metadata(study)
    dates, _ = document_dates(docvars)
    check_design(study, docvars, dates)
    codebook = load_codebook(study)
    ps = prepared_corpus(study, workers)
    return write_results(study.output_dir, design_results(ps, codebook), study)


def measure_tables(ps: PreparedStudy, codebook: Codebook, kinds: set[str] = frozenset(MEASURE_KINDS)) -> tuple[dict, dict, dict[str, str]]:
    """Per-document counts (documents x items) of the measures in ``kinds`` (frames, actors,
    concepts), both exposures (counted tokens and sentences per document) and the frame -> family
    map, from one annotation pass."""
    annotations = ps.annotate(codebook)
    ids = [a.doc_id for a in annotations]
    exposures = {
        "tokens": pd.Series({a.doc_id: float(a.tokens) for a in annotations}).reindex(ids),
        "sentences": pd.Series({a.doc_id: float(len(a.keys)) for a in annotations}).reindex(ids),
    }
    counts = {}
    if "frames" in kinds:
        frames = frame_salience(annotations, codebook, "document").pivot_table(index="doc_id", columns="frame", values="hits", aggfunc="sum",
                                                                              sort=False).reindex(ids).fillna(0)
        counts["frames"] = frames.reindex(columns=[e.id for e in codebook.frames], fill_value=0)
    if "actors" in kinds:
        actors, _ = actor_salience(annotations, codebook)
        counts["actors"] = actors.pivot_table(index="doc_id", columns="actor", values="mentions", aggfunc="sum", sort=False).reindex(ids).fillna(0)
    if "concepts" in kinds:
        counts["concepts"] = concept_counts(annotations).reindex(ids, fill_value=0)
    families = {e.id: e.family for e in codebook.frames}
    return counts, exposures, families


def design_results(ps: PreparedStudy, codebook: Codebook) -> list[Result]:
    """Every design output of a prepared study (only the sections the study has)."""
    study = ps.study
    dates, date_note = document_dates(ps.docvars)
    docvars = _dated(ps.docvars, dates)
    kinds = {m for c in study.compare for m in c.measures} | (set(study.time.measures) if study.time is not None else set())
    kinds |= {"frames"} if study.model is not None else set()
    counts, exposures, families = measure_tables(ps, codebook, kinds)
    # Labels per kind: a frame and a concept may share an id ("cooperation"), with different labels.
    labels = {kind: {e.id: e.label for e in entries}
              for kind, entries in (("frames", codebook.frames), ("actors", codebook.actors), ("concepts", codebook.concepts))}

    def measures(exposure: str) -> dict[str, design.MeasureTable]:
        scale = EXPOSURE_SCALE[exposure][0]
        return {kind: design.MeasureTable(kind, table, exposures[exposure], labels[kind], scale) for kind, table in counts.items()}

    results: list[Result] = []
    if study.compare:
        results += _contrasts(study, docvars, {e: measures(e) for e in EXPOSURE_SCALE}, families)
    if study.time is not None:
        results += _time(study, docvars, dates, date_note, measures(study.time.exposure))
    if study.model is not None:
        results += _model(study, docvars, dates, date_note, measures(study.model.exposure))
    return results


CONTRAST_SHORT = ["contrast", "measure", "label", "group_a", "group_b", "n_a", "n_b", "mean_a", "mean_b", "difference", "p_adjusted",
                  "mh_odds_ratio", "mh_p", "design_effect", "mdd", "too_small"]


def _contrasts(study: Study, docvars: pd.DataFrame, tables_by_exposure: dict, families: dict) -> list[Result]:
    fr = study.framing
    rows, dists = [], []
    for contrast in study.compare:
        tables = tables_by_exposure[contrast.exposure]
        for kind in contrast.measures:
            rows.append(design.compare(contrast, tables[kind], docvars, fr.permutations, fr.seed, fr.min_group_docs))
            fam = families if kind == "frames" else {}
            dists.append(design.distribution_table(contrast, tables[kind], fam, docvars, min(fr.permutations, 2000), fr.seed, fr.min_group_docs))
    table = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(columns=design.COMPARE_COLUMNS)
    dist = pd.concat(dists, ignore_index=True) if dists else pd.DataFrame(columns=design.DISTRIBUTION_COLUMNS)
    return [
        Csv("design_contrasts", table),
        Table("design_contrasts", table[CONTRAST_SHORT], formats=("tex", "md")),
        Table("design_distributions", dist),
    ]


def _time_groups(study: Study, docvars: pd.DataFrame) -> tuple[pd.Series, list[str]]:
    by = study.time.by
    groups = docvars[by].astype(str)
    order = group_order(groups, study.corpus.languages if by == "language" else ())
    return groups, order


def _time(study: Study, docvars: pd.DataFrame, dates, date_note: str, tables: dict) -> list[Result]:
    tm = study.time
    scale, unit = EXPOSURE_SCALE[tm.exposure]
    results: list[Result] = []
    series_parts = []
    if dates is not None:
        groups, order = _time_groups(study, docvars)
        for kind in tm.measures:
            m = tables[kind]
            s = timeseries.period_series(m.counts, m.exposure, dates, groups, tm.freq, tm.bootstrap, tm.seed, scale, m.labels, order)
            s.insert(0, "measure", kind)
            series_parts.append(s)
    series = pd.concat(series_parts, ignore_index=True) if series_parts else pd.DataFrame(columns=["measure", *timeseries.SERIES_COLUMNS])
    if dates is None:
        series = pd.DataFrame([{"measure": "", "note": date_note}], columns=["measure", *timeseries.SERIES_COLUMNS])
    results.append(Table("time_series", series))
    small = ""
    if dates is not None:
        sizes = docvars[tm.by].astype(str).value_counts()
        if sizes.min() < study.framing.min_group_docs:
            small = f"too small to mean anything: {sizes.idxmin()} has {sizes.min()} document(s) (fewer than {study.framing.min_group_docs})"
    for kind in tm.measures:
        part = series[series["measure"] == kind] if dates is not None else series.iloc[0:0]
        results.append(Figure("time_series_{measure}", partial(pd_plot.figure_time_series, part, unit, date_note if dates is None else small),
                              part, {"measure": kind}))
    events, lag = [], None
    if dates is not None:
        groups, order = _time_groups(study, docvars)
        pair = order[:2]
        if len(pair) == 2:
            for event in tm.events:
                for kind in tm.measures:
                    m = tables[kind]
                    e = timeseries.event_window(m.counts, m.exposure, dates, groups, event.name, pd.Timestamp(event.date), event.window,
                                                pair[0], pair[1], tm.bootstrap, tm.seed, scale, m.labels, study.framing.min_group_docs)
                    e.insert(1, "measure", kind)
                    events.append(e)
            lag = timeseries.lag_correlation(dates, groups, pair[0], pair[1], tm.max_lag)
        else:
            date_note = f"only {len(order)} {tm.by} value(s): nothing to compare"
    if tm.events:
        table = pd.concat(events, ignore_index=True) if events else pd.DataFrame([{"note": date_note}], columns=["event", "measure", *timeseries.EVENT_COLUMNS[1:]])
        results.append(Table("time_events", table))
    if lag is None:
        lag = pd.DataFrame([{"note": date_note}], columns=timeseries.LAG_COLUMNS)
    results.append(Table("time_lag", lag))
    return results


def _model(study: Study, docvars: pd.DataFrame, dates, date_note: str, tables: dict) -> list[Result]:
    md = study.model
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
            m = design.MeasureTable(m.kind, m.counts[dates.reindex(m.counts.index).notna().to_numpy()], m.exposure, m.labels, m.scale)
        glm = models.count_regression(m.counts, m.exposure, docvars, md.formula, md.family, cluster, m.labels, md.min_docs)
        mixed = models.mixed_model(m.counts, m.exposure, docvars, md.formula, cluster or "outlet", m.labels, md.min_clusters, scale) \
            if md.mixed and cluster else None
        focal = "language" if "language" in models.formula_columns(md.formula) else models.formula_columns(md.formula)[0]
        try:
            marginal = models.marginal_rates(m.counts, m.exposure, docvars, md.formula, focal, "date", cluster, scale, labels=m.labels)
        except Exception as exc:  # noqa: BLE001 - a model that cannot predict still leaves its coefficient table
            log.warning("design: no marginal rates (%s)", exc)
            marginal = pd.DataFrame(columns=models.MARGINAL_COLUMNS)
    note = f"too small to mean anything: {len(docvars)} documents (fewer than {md.min_docs})" if len(docvars) < md.min_docs else ""
    results: list[Result] = [
        Table("model_frames", glm),
        Figure("model_marginal_frames", partial(pd_plot.figure_marginal_rates, marginal, unit, note), marginal),
    ]
    if md.mixed:
        if mixed is None:
            mixed = pd.DataFrame([{"term": "(none)", "note": "not fitted: no cluster column"}], columns=models.MIXED_COLUMNS)
        results.append(Table("model_frames_mixed", mixed))
    return results
