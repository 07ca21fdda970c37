"""Stage ``framing``: the edge that reads the study, computes framing metrics and writes them.

Read (prepared corpus, codebook) -> compute (:mod:`analysis.codebook`, :mod:`analysis.framing`,
:mod:`analysis.keyness`, :mod:`analysis.similarity`) -> draw (:mod:`analysis.plot_framing`) ->
write (:mod:`analysis.io`). The files written are exactly
:func:`analysis.outputs.framing_outputs`; a figure and the table of the same stem share the CSV
(the table is the figure's data).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from . import io, plot
from . import plot_framing as pf
from .codebook import Codebook, coverage_report, parse_codebook
from .errors import InputError
from .framing import (
    LEAD,
    actor_salience,
    annotate,
    bootstrap_ci,
    concept_counts,
    distribution_tests,
    frame_salience,
    group_means,
    group_order,
    group_pairs,
    group_tests,
    keyed_rng,
)
from .keyness import CORRECTIONS, keyness, top_keyness
from .similarity import crosslingual_similarity, event_omissions, near_duplicates
from .study import Study

log = logging.getLogger("analysis")

MAX_PANELS = 9


def codebook_text(study: Study) -> tuple[str, str]:
    """The study's codebook YAML text and its label (path, or the packaged default)."""
    return io.resource_text(study, study.framing.codebook, "codebook.yaml")


def load_codebook(study: Study) -> Codebook:
    """The study's validated codebook (``[framing] codebook``; "" = the packaged default).

    Patterns are checked against the study's stopwords: a stopword pattern can never match.
    """
    from .pipeline import load_term_rules

    text, label = codebook_text(study)
    rules = load_term_rules(study)
    return parse_codebook(text, label, rules.stopwords, rules.lemmatize_en)


def check_settings(study: Study, columns: Sequence[str]) -> None:
    """Reject ``[framing]`` values the stage cannot use, naming the key and the fix."""
    s = study.framing
    where = str(study.source)
    if s.compare_by not in columns:
        raise InputError(where, f"[framing] compare_by = '{s.compare_by}' is not a metadata column", f"use one of: {', '.join(columns)}")
    for column in s.keyness_within:
        if column not in columns:
            raise InputError(where, f"[framing] keyness_within names '{column}', not a metadata column", f"use columns of: {', '.join(columns)}")
    if s.keyness_correction not in CORRECTIONS:
        raise InputError(where, f"[framing] keyness_correction = '{s.keyness_correction}' is not known", f"use one of: {', '.join(CORRECTIONS)}")
    checks = [
        (s.min_hits >= 1, "min_hits must be at least 1"),
        (s.bootstrap >= 1, "bootstrap must be at least 1"),
        (s.permutations >= 1, "permutations must be at least 1"),
        (s.min_group_docs >= 1, "min_group_docs must be at least 1"),
        (s.lead_sentences >= 0, "lead_sentences must be 0 or more"),
        (s.voice_window >= 0, "voice_window must be 0 or more"),
        (s.keyness_top_n >= 1, "keyness_top_n must be at least 1"),
        (s.fightin_alpha0 > 0, "fightin_alpha0 must be positive"),
        (s.shingle_size >= 1, "shingle_size must be at least 1"),
        (0 < s.duplicate_jaccard <= 1, "duplicate_jaccard must be in (0, 1]"),
        (s.omission_ratio >= 1, "omission_ratio must be at least 1"),
        (s.omission_min_count >= 1, "omission_min_count must be at least 1"),
    ]
    for ok, problem in checks:
        if not ok:
            raise InputError(where, f"[framing] {problem}", "fix the value in the study file")


def _labels(codebook: Codebook) -> dict[str, dict[str, str]]:
    """Labels by kind: ``frame``, ``actor`` and ``concept`` (the concept axis: concepts and actors)."""
    return {
        "frame": {e.id: e.label for e in codebook.frames},
        "actor": {e.id: e.label for e in codebook.actors},
        "concept": {e.id: e.label for e in (*codebook.concepts, *codebook.actors)},
    }


def _write_csv(path: Path, table: pd.DataFrame) -> Path:
    return io.write_csv(path, table)


def _save(fig, stem: Path, formats, data: pd.DataFrame | None = None) -> list[Path]:
    written = io.save_figure(fig, stem, formats, data)
    plot.close(fig)
    return written


def run_framing(study: Study, workers: int | None = None) -> list[Path]:
    """Stage ``framing``: coverage, frames, actors and voice, group tests, keyness, similarity, omissions."""
    from .pipeline import prepared_corpus

    codebook = load_codebook(study)
    ps = prepared_corpus(study, workers)
    docvars = ps.docvars
    check_settings(study, list(docvars.columns))
    settings = study.framing
    out = study.output_dir
    formats = study.run.figure_formats
    by = settings.compare_by
    annotations = [annotate(doc, ps.rules, codebook) for doc in ps.prepared]
    labels = _labels(codebook)
    groups = {d: str(g) for d, g in docvars[by].items()}
    order = group_order(groups.values(), study.corpus.languages if by == "language" else ())
    written: list[Path] = []

    # -- codebook coverage
    coverage, unmapped = coverage_report({a.doc_id: (a.language, a.keys) for a in annotations}, codebook, top_n=25)
    written += io.write_table(coverage, out / "codebook_coverage", caption=f"Codebook coverage: share of counted tokens mapped to a concept ({codebook.source})")
    written += io.write_table(unmapped, out / "codebook_unmapped_terms", caption="Most frequent counted terms no concept covers (where to extend the codebook)")

    # -- frame salience per unit and document
    units = frame_salience(annotations, codebook, study.units.kind, study.units.window, settings.min_hits)
    written.append(_write_csv(out / "frame_salience_by_unit.csv", units))
    docs = frame_salience(annotations, codebook, "document", min_hits=settings.min_hits)
    doc_table = docs.drop(columns=["unit_id", "unit_index"])
    written += io.write_table(doc_table, out / "frame_salience_by_document",
                              caption=f"Frame salience per document: hits per 1,000 counted tokens, presence (at least {settings.min_hits} hit), share of the family's hits")

    # -- frame salience by group, tests, distributions
    long = docs.rename(columns={"frame": "item", "per_1000": "value"})[["doc_id", "family", "item", "value"]]
    frame_groups = _frame_group_table(docs, units, long, groups, order, study, labels["frame"])
    written += io.write_table(frame_groups, out / f"frame_salience_by_{by}",
                              caption=f"Frame salience by {by}: mean hits per 1,000 tokens over documents with bootstrap 95% CI")
    families = codebook.frame_families
    panel_height = 0.25 * max([sum(e.family == f for e in codebook.frames) for f in families] or [1]) * max(2, len(order)) + 1.2
    fig, axes = plot.new_figure(len(families) or 1, 6.5, panel_height, ncols=1)
    for ax, family in zip(axes, families or [""]):
        rows = frame_groups[frame_groups["family"] == family].rename(columns={"mean_per_1000": "mean"})
        if rows.empty:
            pf.plot_note(ax, "no frames", title=family)
        else:
            pf.plot_frame_salience(ax, rows, title=f"{family} frames by {by}")
    written += _save(fig, out / f"frame_salience_by_{by}", formats)

    tests = group_tests(long, groups, order, settings.permutations, settings.seed, settings.min_group_docs)
    tests.insert(2, "label", tests["item"].map(labels["frame"]))
    written += io.write_table(tests.rename(columns={"item": "frame"}), out / f"frame_tests_by_{by}",
                              caption=f"Difference in mean frame salience by {by}: permutation test, Benjamini-Hochberg q")
    hits_long = docs.rename(columns={"frame": "item", "hits": "value"})[["doc_id", "family", "item", "value"]]
    distribution = distribution_tests(hits_long, groups, order, settings.min_group_docs)
    written += io.write_table(distribution, out / f"frame_distribution_by_{by}",
                              caption=f"Frame distributions by {by}: chi-square test of the frame x group table and Jensen-Shannon divergence (bits)")

    # -- actors and voice
    actors, statements = actor_salience(annotations, codebook, settings.lead_sentences, settings.voice_window)
    actor_docs = actors[actors["mentions"] > 0].reset_index(drop=True)
    written += io.write_table(actor_docs, out / "actor_salience_by_document",
                              caption=f"Actor salience per document: mentions, share, first mention (headline/lead = first {settings.lead_sentences} sentences), statements")
    actor_groups = _actor_group_table(actors, groups, order, study, labels["actor"])
    written += io.write_table(actor_groups, out / f"actor_salience_by_{by}",
                              caption=f"Actor salience by {by}: pooled mention share, mean share over documents (bootstrap 95% CI), first mentions in headline/lead, voice")
    top_actors = list(actor_groups.groupby("actor", sort=False)["mentions"].sum().sort_values(ascending=False, kind="mergesort").index[:15])
    fig, (ax,) = plot.new_figure(1, 6.5, 0.25 * max(1, len(top_actors)) * max(2, len(order)) + 1.2)
    rows = actor_groups[actor_groups["actor"].isin(top_actors)].copy()
    if rows.empty:
        pf.plot_note(ax, "no actor is mentioned", title=f"Actor salience by {by}")
    else:
        rows["_order"] = rows["actor"].map({a: i for i, a in enumerate(top_actors)})
        pf.plot_actor_salience(ax, rows.sort_values(["_order"], kind="mergesort"), title=f"Actor salience by {by}")
    written += _save(fig, out / f"actor_salience_by_{by}", formats)
    written += io.write_table(statements, out / "actor_statements", formats=("csv", "md"))

    # -- keyness on words within each language
    dtm = ps.dtm("document")
    for language in study.corpus.languages:
        for var in settings.keyness_within:
            written += _word_keyness(dtm, docvars, language, var, study)

    # -- keyness on concept ids across groups
    concepts = concept_counts(annotations).reindex(list(docvars.index), fill_value=0)
    written += _concept_keyness(concepts, groups, order, study, labels["concept"])

    # -- cross-lingual similarity and near-duplicates
    languages = {a.doc_id: a.language for a in annotations}
    pair = tuple(study.corpus.languages[:2]) if len(study.corpus.languages) >= 2 else ("vi", "en")
    similarity = crosslingual_similarity(concepts, languages, pair, keep_rank=10)
    if "title" in docvars.columns and len(similarity):
        similarity.insert(4, "title_a", similarity["doc_a"].map(docvars["title"]))
        similarity.insert(5, "title_b", similarity["doc_b"].map(docvars["title"]))
    written += io.write_table(similarity, out / "similarity_crosslingual",
                              caption=f"Cross-lingual document similarity: cosine of TF-IDF weighted concept vectors ({pair[0]} x {pair[1]})")
    # A heatmap of a few documents a side; past that the most similar pairs (plot_similarity
    # decides); the table has every kept pair.
    rows_a = sorted(similarity["doc_a"].unique()) if len(similarity) else []
    rows_b = sorted(similarity["doc_b"].unique()) if len(similarity) else []
    fig, (ax,) = plot.new_figure(1, *pf.similarity_figure_size(len(rows_a), len(rows_b)))
    if similarity.empty:
        pf.plot_note(ax, f"needs documents in both {pair[0]} and {pair[1]}", title="Cross-lingual similarity")
    else:
        matrix = similarity.pivot(index="doc_a", columns="doc_b", values="cosine").reindex(index=rows_a, columns=rows_b)
        pf.plot_similarity(ax, matrix, title="Cosine of concept vectors", xlabel=pair[1], ylabel=pair[0])
    written += _save(fig, out / "similarity_crosslingual", formats)
    duplicates = near_duplicates(((d.doc_id, d.language, d.tokens()) for d in ps.prepared), settings.shingle_size, settings.duplicate_jaccard)
    written += io.write_table(duplicates, out / "near_duplicates",
                              caption=f"Near-duplicates within a language: Jaccard of {settings.shingle_size}-word shingles (flagged at {settings.duplicate_jaccard})")

    # -- paired-event omissions
    items = pd.concat([
        docs.assign(kind="frame").rename(columns={"frame": "item", "hits": "count"})[["doc_id", "kind", "item", "count"]],
        actors.assign(kind="actor").rename(columns={"actor": "item", "mentions": "count"})[["doc_id", "kind", "item", "count"]],
        concepts.stack().rename("count").reset_index().rename(columns={"level_0": "doc_id", "level_1": "item"}).assign(kind="concept")[["doc_id", "kind", "item", "count"]],
    ], ignore_index=True)
    items = items[items["count"] > 0]
    tokens = {a.doc_id: a.tokens for a in annotations}
    omissions = event_omissions(items, tokens, docvars, pair, settings.omission_ratio, settings.omission_min_count)
    omissions.insert(3, "label", [labels.get(k, {}).get(i, i) for k, i in zip(omissions["kind"], omissions["item"])])
    if omissions.empty:  # say why, as the keyness tables do
        why = ("no `event` column in the metadata: there are no paired events" if "event" not in docvars.columns
               else f"nothing to report: no event has documents in both {pair[0]} and {pair[1]}, or nothing is missing or much weaker in one of them")
        omissions = pd.DataFrame([{**{c: "" for c in omissions.columns}, "status": why}], columns=omissions.columns)
    written += io.write_table(omissions, out / "event_omissions",
                              caption=f"Paired events: frames, actors and concepts missing or much weaker (rate at most 1/{settings.omission_ratio:g}) in one language")
    return written


# ------------------------------------------------------------------------------ group tables


def _frame_group_table(docs: pd.DataFrame, units: pd.DataFrame, long: pd.DataFrame, groups, order, study: Study, labels) -> pd.DataFrame:
    s = study.framing
    means = group_means(long, groups, order, s.bootstrap, s.seed, s.min_group_docs)
    docs = docs.assign(group=docs["doc_id"].map(groups))
    units = units.assign(group=units["doc_id"].map(groups))
    doc_presence = docs.groupby(["family", "frame", "group"])["present"].mean()
    unit_presence = units.groupby(["family", "frame", "group"])["present"].mean()
    hits = docs.groupby(["family", "frame", "group"])["hits"].sum()
    family_hits = docs.groupby(["family", "group"])["hits"].sum()
    table = means.rename(columns={"item": "frame", "mean": "mean_per_1000"})
    key = list(zip(table["family"], table["frame"], table["group"]))
    table.insert(2, "label", table["frame"].map(labels))
    table.insert(table.columns.get_loc("too_small"), "doc_presence", [float(doc_presence.get(k, np.nan)) for k in key])
    table.insert(table.columns.get_loc("too_small"), "unit_presence", [float(unit_presence.get(k, np.nan)) for k in key])
    table.insert(table.columns.get_loc("too_small"), "hits", [int(hits.get(k, 0)) for k in key])
    shares = []
    for family, _, group in key:
        total = family_hits.get((family, group), 0)
        shares.append(float(hits.get((family, _, group), 0)) / total if total else 0.0)
    table.insert(table.columns.get_loc("too_small"), "hit_share", shares)
    return table


def _actor_group_table(actors: pd.DataFrame, groups, order, study: Study, labels) -> pd.DataFrame:
    """Per group × actor mentioned anywhere: pooled and per-document measures."""
    s = study.framing
    frame = actors.assign(group=actors["doc_id"].map(groups))
    mentioned = set(frame.loc[frame["mentions"] > 0, "actor"])
    records = []
    for actor in dict.fromkeys(frame["actor"]):
        if actor not in mentioned:
            continue
        for group in order:
            rows = frame[(frame["actor"] == actor) & (frame["group"] == group)]
            all_rows = frame[frame["group"] == group]
            n = len(rows)
            total_mentions = int(all_rows["mentions"].sum())
            total_statements = int(all_rows["statements"].sum())
            mentions = int(rows["mentions"].sum())
            shares = rows["mention_share"].to_numpy(dtype=float)
            low, high = bootstrap_ci(shares, s.bootstrap, keyed_rng(s.seed, "actor", actor, group))
            docs_mentioning = int((rows["mentions"] > 0).sum())
            lead = int((rows["first_position"] == LEAD).sum())
            note = f"too small: {group} has {n} document{'s' if n != 1 else ''} (fewer than {s.min_group_docs})" if n < s.min_group_docs else ""
            records.append((actor, labels.get(actor, actor), rows["kind"].iloc[0] if n else "", group, n, docs_mentioning, mentions,
                            mentions / total_mentions if total_mentions else 0.0, float(shares.mean()) if n else np.nan, low, high,
                            lead, lead / docs_mentioning if docs_mentioning else 0.0, int(rows["statements"].sum()),
                            int(rows["statements"].sum()) / total_statements if total_statements else 0.0, n < s.min_group_docs, note))
    return pd.DataFrame(records, columns=["actor", "label", "kind", "group", "n_docs", "docs_mentioning", "mentions", "mention_share",
                                          "mean_doc_share", "ci_low", "ci_high", "first_in_lead", "lead_share", "statements", "voice_share",
                                          "too_small", "note"])


# ---------------------------------------------------------------------------------- keyness

COMPARISON_COLUMNS = ["comparison", "target", "reference", "target_docs", "reference_docs", "too_small", "note"]


def _comparison_rows(table: pd.DataFrame, target: str, reference: str, n_t: int, n_r: int, min_docs: int) -> pd.DataFrame:
    small = [f"{g} has {n} document{'s' if n != 1 else ''}" for g, n in ((target, n_t), (reference, n_r)) if n < min_docs]
    note = f"too small: {', '.join(small)} (fewer than {min_docs})" if small else ""
    return table.assign(comparison=f"{target} vs {reference}", target=target, reference=reference, target_docs=n_t, reference_docs=n_r,
                        too_small=bool(small), note=note)


def _stack(parts: list[pd.DataFrame], columns: list[str], empty_note: str) -> pd.DataFrame:
    if parts:
        return pd.concat(parts, ignore_index=True)[columns]
    row = {c: "" for c in columns}
    row.update({"note": empty_note, "too_small": True})
    return pd.DataFrame([row], columns=columns)


def _keyness_comparisons(counts, doc_ids: list[str], vocab: list[str], groups: dict[str, str], order: list[str],
                         study: Study) -> list[tuple[str, str, int, int, pd.DataFrame]]:
    """Keyness tables for each pair of groups (or each group against the rest).

    ``counts`` is a (documents × terms) array or scipy sparse matrix with rows in ``doc_ids``
    order: only the two groups' column sums are taken, so a document-term matrix of a large
    corpus stays sparse (densifying 2,000 documents × 110,000 terms took 1.8 GB).
    """
    s = study.framing
    results = []
    for target, reference in group_pairs(order):
        t_rows = [i for i, d in enumerate(doc_ids) if groups.get(d) == target]
        r_rows = [i for i, d in enumerate(doc_ids) if (groups.get(d) != target if reference == "rest" else groups.get(d) == reference)]
        table = keyness(_column_sums(counts, t_rows), _column_sums(counts, r_rows), vocab, s.keyness_correction, s.fightin_alpha0)
        results.append((target, reference, len(t_rows), len(r_rows), table))
    return results


def _column_sums(counts, rows: list[int] | None = None) -> np.ndarray:
    """Integer column sums of the given rows, or of all rows (dense or sparse ``counts``)."""
    if rows is not None and not rows:
        return np.zeros(counts.shape[1], dtype=np.int64)
    return np.asarray((counts if rows is None else counts[rows]).sum(axis=0), dtype=np.int64).ravel()


def _keyness_outputs(results, stem: Path, study: Study, caption: str, empty_note: str, title: str, label_map: dict | None = None) -> list[Path]:
    s = study.framing
    columns = COMPARISON_COLUMNS[:5] + ["term"] + (["label"] if label_map is not None else []) + [c for c in keyness([1], [1], ["x"]).columns if c != "term"] + COMPARISON_COLUMNS[5:]
    parts, tops = [], []
    for target, reference, n_t, n_r, table in results:
        if label_map is not None:
            table = table.assign(label=table["term"].map(lambda t: label_map.get(t, t)))
        parts.append(_comparison_rows(table, target, reference, n_t, n_r, s.min_group_docs))
        tops.append(_comparison_rows(top_keyness(table, s.keyness_top_n), target, reference, n_t, n_r, s.min_group_docs))
    written = [_write_csv(Path(f"{stem}.csv"), _stack(parts, columns, empty_note))]
    written += io.write_table(_stack(tops, columns, empty_note), stem, formats=("tex", "md"), caption=caption)
    shown = results[:MAX_PANELS]
    fig, axes = plot.new_figure(max(1, len(shown)), 4.2, 0.2 * 2 * s.keyness_top_n + 1.2, ncols=min(max(1, len(shown)), 3))
    if not shown:
        pf.plot_note(axes[0], empty_note)  # the figure's title is the suptitle below (once)
    for ax, (target, reference, n_t, n_r, table) in zip(axes, shown):
        top = top_keyness(table, s.keyness_top_n)
        flag = " (too small)" if min(n_t, n_r) < s.min_group_docs else ""
        if top.empty:
            pf.plot_note(ax, "no term differs", title=f"{target} vs {reference}{flag}")
        else:
            pf.plot_keyness(ax, top, target=target, reference=reference, title=f"{target} vs {reference}{flag}")
    if len(results) > len(shown):
        fig.suptitle(f"{title} (first {len(shown)} of {len(results)} comparisons; all in the CSV)")
    else:
        fig.suptitle(title)
    written += _save(fig, stem, study.run.figure_formats)
    return written


def _word_keyness(dtm, docvars: pd.DataFrame, language: str, var: str, study: Study) -> list[Path]:
    rows = [i for i, d in enumerate(dtm.row_ids) if str(docvars.loc[d, "language"]) == language]
    doc_ids = [dtm.row_ids[i] for i in rows]
    counts = dtm.counts[rows]  # stays sparse: only column sums are needed
    used = np.flatnonzero(_column_sums(counts) > 0)
    counts, vocab = counts[:, used], [dtm.vocab[j] for j in used]
    groups = {d: str(docvars.loc[d, var]) for d in doc_ids}
    order = group_order(groups.values())
    results = _keyness_comparisons(counts, doc_ids, vocab, groups, order, study)
    n_groups = len(order)
    empty = f"only {n_groups} {var} value{'s' if n_groups != 1 else ''} among the {language} documents: nothing to compare"
    stem = study.output_dir / f"keyness_words_{language}_by_{var}"
    return _keyness_outputs(results, stem, study, f"Keyness of {language} words by {var}: signed G2, chi2, BH q, Log Ratio, Fightin' Words z (top {study.framing.keyness_top_n} each way)",
                            empty, f"Keyness of {language} words by {var}")


def _concept_keyness(concepts: pd.DataFrame, groups, order, study: Study, labels) -> list[Path]:
    by = study.framing.compare_by
    results = _keyness_comparisons(concepts.to_numpy(), list(concepts.index), list(concepts.columns), groups, order, study)
    empty = f"only {len(order)} {by} value{'s' if len(order) != 1 else ''}: nothing to compare"
    stem = study.output_dir / f"keyness_concepts_by_{by}"
    written = _keyness_outputs(results, stem, study, f"Keyness of concepts by {by} (bilingual concept ids): signed G2, chi2, BH q, Log Ratio, Fightin' Words z",
                               empty, f"Keyness of concepts by {by}", label_map=labels)
    shown = results[:MAX_PANELS]
    fig, axes = plot.new_figure(max(1, len(shown)), 6.0, 4.5, ncols=min(max(1, len(shown)), 3))
    data = []
    if not shown:
        pf.plot_note(axes[0], empty)  # the suptitle names the figure
    for ax, (target, reference, n_t, n_r, table) in zip(axes, shown):
        flag = " (too small)" if min(n_t, n_r) < study.framing.min_group_docs else ""
        pf.plot_fightin_words(ax, table, target=target, reference=reference, title=f"{target} vs {reference}{flag}")
        data.append(table.assign(comparison=f"{target} vs {reference}")[["comparison", "term", "target_count", "reference_count", "fw_delta", "fw_z"]])
    fig.suptitle(f"Fightin' Words on concepts by {by}\n(Monroe et al. 2008; prior of {study.framing.fightin_alpha0:g} pseudo-tokens)")
    frame = pd.concat(data, ignore_index=True) if data else pd.DataFrame(columns=["comparison", "term", "target_count", "reference_count", "fw_delta", "fw_z"])
    written += _save(fig, study.output_dir / f"fightin_words_concepts_by_{by}", study.run.figure_formats, frame)
    return written


__all__ = ["check_settings", "codebook_text", "load_codebook", "run_framing"]
