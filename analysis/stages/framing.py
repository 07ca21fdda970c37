"""Stage ``framing``: codebook coverage, frames, actors and voice, group comparisons, keyness,
cross-lingual similarity, near-duplicates and paired-event omissions.

Read (:func:`analysis.prepared.prepared_corpus`, the codebook) -> compute
(:mod:`analysis.framing.measures`, :mod:`analysis.framing.tables`, :mod:`analysis.framing.similarity`) -> hand the
tables and figure composers (:mod:`analysis.plots.framing`) to the writer one at a time, each written before the
next is computed (:func:`analysis.stages.results.write_streamed`: memory holds one part's tables, not the
stage's; nothing is written if the stage stops). The files written are exactly
:func:`analysis.study.outputs.framing_outputs`; a figure and the table of the same stem share the CSV
(the table is the figure's data).
"""

from __future__ import annotations

import logging
from functools import partial
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np
import pandas as pd

from ..framing.codebook import Codebook, release_key_cache
from ..framing.distributed import chunk_mapper
from ..framing.equivalence import group_rate
from ..framing.measures import annotation_tables
from ..framing.similarity import crosslingual_similarity, event_omissions
from ..framing.tables import actor_group_table, actor_tests_table, frame_group_table
from ..plots import framing as pf
from ..plots.base import group_label
from ..prepared import PreparedStudy, codebook_text, load_codebook, prepared_corpus
from ..progress import Progress
from ..stats.clustered import design_table
from ..stats.distributed import dask_batches
from ..stats.groups import (
    cluster_group_table,
    cluster_labels,
    cluster_tests,
    distribution_tests,
    group_order,
    group_tests,
    keyed_rng,
)
from ..stats.keyness import (
    Comparison,
    column_sums,
    comparison_table,
    iter_keyness_comparisons,
    keyness_comparisons,
    top_keyness,
)
from ..study.settings import FramingSettings, Study, settings_keys
from ..text.dtm import DocTermMatrix, reindex_rows
from ..text.duplicates import near_duplicates
from .results import Csv, CsvParts, Figure, Result, Table, write_streamed

log = logging.getLogger("analysis")

__all__ = ["codebook_text", "framing_results", "iter_framing_results", "load_codebook", "run_framing"]


#: Parameters of the computation -> the ``[framing]`` key they come from (for error messages).
FRAMING_KEYS = {
    "n_resamples": "[framing] bootstrap",
    "correction": "[framing] keyness_correction",
    "alpha0": "[framing] fightin_alpha0",
    "min_docs": "[framing] min_group_docs",
    "n": "[framing] keyness_top_n",
}


def labels_by_kind(codebook: Codebook) -> dict[str, dict[str, str]]:
    """Labels by kind: ``frame``, ``actor`` and ``concept`` (the concept axis: concepts and actors)."""
    return {
        "frame": {e.id: e.label for e in codebook.frames},
        "actor": {e.id: e.label for e in codebook.actors},
        "concept": {e.id: e.label for e in (*codebook.concepts, *codebook.actors)},
    }


def run_framing(study: Study, workers: int | None = None) -> list[Path]:
    """Stage ``framing``: compute the results one after the other, each written as soon as it is
    computed (:func:`analysis.stages.results.write_streamed`: nothing is written when the stage stops)."""
    codebook = load_codebook(study)
    ps = prepared_corpus(study, workers=workers)
    with settings_keys(study, **FRAMING_KEYS):
        return write_streamed(study.output_dir, iter_framing_results(ps, codebook), study)


def framing_results(ps: PreparedStudy, codebook: Codebook) -> list[Result]:
    """Every framing output of a prepared study, as tables and figure composers (all of
    :func:`iter_framing_results`, held together)."""
    return list(iter_framing_results(ps, codebook))


def iter_framing_results(ps: PreparedStudy, codebook: Codebook) -> Iterator[Result]:
    """Every framing output of a prepared study, as tables and figure composers, one at a time.

    A result is yielded as soon as it is final and no longer referenced here, so a writer that
    writes each one before asking for the next (:func:`analysis.stages.results.write_streamed`)
    holds one part's tables at a time: the per-document frame and actor tables (15 + 25 rows a
    document) are gone before word keyness starts, and each keyness comparison set is gone before
    the next is computed. Kept across parts: the documents × concepts counts (sparse), sentences and
    languages per document, and the few rows of frame and actor hits the omissions need.
    """
    study, s = ps.study, ps.study.framing
    by = s.compare_by
    docvars = _plain(ps.docvars)
    # One streamed pass: documents annotated a chunk at a time and reduced to tables, so the
    # corpus's annotations (a key per token, hits per sentence) are never all held; the codebook
    # is matched once per sentence for coverage, frames, actors and concepts alike.
    annotations = annotation_tables(
        ps.prepared,
        ps.rules,
        codebook,
        kind=study.units.kind,
        window=study.units.window,
        min_hits=s.min_hits,
        lead_sentences=s.lead_sentences,
        voice_window=s.voice_window,
        top_n=25,
        mapper=chunk_mapper(study.run.scheduler),  # with [run] scheduler, the chunks run on that Dask cluster
    )
    release_key_cache()  # the token keys of the whole vocabulary: not needed past annotation
    groups = {d: str(g) for d, g in docvars[by].items()}
    order = group_order(groups.values(), study.corpus.languages if by == "language" else ())
    labels = labels_by_kind(codebook)
    for line in coverage_warnings(annotations.coverage, default_codebook=not study.framing.codebook):
        log.warning("framing: %s", line)
    # Progress (analysis/progress.py): one step per part; parts differ in cost, so the time left is rough.
    progress = Progress("framing", total=5 + len(study.corpus.languages) * len(s.keyness_within), unit="parts")
    yield Table("design_summary_by_{by}", design_table(docvars, group=by, cluster=s.cluster), {"by": by})
    yield Table("codebook_coverage", annotations.coverage, {"source": codebook.source})
    yield Table("codebook_unmapped_terms", annotations.unmapped)
    outlets = cluster_labels(docvars, s.cluster)  # [framing] cluster: None when unset or not a column
    concepts = reindex_rows(annotations.concepts, list(docvars.index), docvars)  # documents × concept ids
    sentences, languages = annotations.sentences, annotations.languages
    tables = vars(annotations)  # taken out one by one below, so each table is freed once used
    del annotations
    frame_results, frame_items = _frames(
        tables.pop("units"),
        tables.pop("documents"),
        sentences,
        groups,
        order,
        codebook=codebook,
        settings=s,
        labels=labels,
        outlets=outlets,
    )
    yield from _drain(frame_results)
    progress.step("frames, tests")
    actor_results, actor_items = _actors(
        tables.pop("actors"), tables.pop("statements"), groups, order, settings=s, labels=labels, outlets=outlets
    )
    tables.clear()
    yield from _drain(actor_results)
    progress.step("actors")
    dtm = ps.dtm("document")
    batches = dask_batches(study.run.scheduler)  # with [run] scheduler, word keyness's permutation batches run there
    for language in study.corpus.languages:
        for var in s.keyness_within:
            yield from _word_keyness(dtm, docvars, language=language, var=var, settings=s, batches=batches)
            progress.step(f"{language} word keyness by {var}")
    del dtm  # the comparisons held what they needed of it, and are written
    yield from _drain(
        _concept_keyness(
            concepts,
            groups,
            order,
            settings=s,
            labels=labels["concept"],
            clusters=_clusters(docvars, settings=s, compared=s.compare_by),
        )
    )
    progress.step("concept keyness")
    pair = _pair(study.corpus.languages)
    yield from _drain(_similarity(ps.prepared, languages, concepts, docvars, settings=s, pair=pair))
    progress.step("similarity")
    yield _omissions(frame_items, actor_items, concepts, sentences, docvars, settings=s, pair=pair, labels=labels)
    progress.step("omissions")
    progress.close()


def _drain(results: list[Result]) -> Iterator[Result]:
    """The results of ``results``, first to last, each removed from the list as it is yielded (so the
    list does not keep a result alive once its consumer has written it)."""
    results.reverse()
    while results:
        yield results.pop()


def _plain(docvars: pd.DataFrame) -> pd.DataFrame:
    """``docvars`` without pandas ``attrs`` (the metadata's line numbers, one per document, kept
    for error messages). pandas deep-copies ``attrs`` into the result of every operation, so each
    per-document lookup cost O(documents): at 2,000 documents 36 s of the stage's time went to
    copying that list (a profile), quadratic in the corpus size. Nothing written reads ``attrs``."""
    plain = docvars.copy(deep=False)
    plain.attrs = {}
    return plain


def _pair(languages: Sequence[str]) -> tuple[str, str]:
    """The two languages the cross-language tables compare: the study's first two, or vi and en."""
    return tuple(languages[:2]) if len(languages) >= 2 else ("vi", "en")


#: Below this share of a language's counted tokens inside frame hits, the default codebook is
#: taken not to fit the corpus (it was written for Vietnam–China diplomacy: the seed articles have
#: 27% (vi) and 35% (en) of their tokens in frames).
MIN_DEFAULT_FRAME_SHARE = 0.05


def coverage_warnings(coverage: pd.DataFrame, *, default_codebook: bool) -> list[str]:
    """One warning per language in which the default codebook finds almost no frame: its frame
    tables would then describe the codebook's topic, not the corpus.

    >>> table = pd.DataFrame({"language": ["vi", "en"], "frame_share": [0.012, 0.3], "mapped_share": [0.4, 0.8]})
    >>> [line.split(" (the seed")[0] for line in coverage_warnings(table, default_codebook=True)]
    ['the default codebook (Vietnam–China diplomacy) puts 1.2% of the vi tokens in frames']
    >>> coverage_warnings(table, default_codebook=False)
    []
    """
    if not default_codebook:
        return []
    return [
        f"the default codebook (Vietnam–China diplomacy) puts {row.frame_share:.1%} of the {row.language} tokens "
        f"in frames (the seed articles: 27-35%): it was not written for this corpus; see README "
        f"'Writing your own codebook' and set [framing] codebook (codebook_coverage.csv, codebook_unmapped_terms.csv)"
        for row in coverage.itertuples()
        if row.frame_share < MIN_DEFAULT_FRAME_SHARE
    ]


def _frames(
    units: pd.DataFrame,
    docs: pd.DataFrame,
    sentences: dict[str, int],
    groups,
    order,
    *,
    codebook: Codebook,
    settings: FramingSettings,
    labels,
    outlets=None,
) -> tuple[list[Result], pd.DataFrame]:
    """The frame results from the annotation's unit and document tables, and the document rows with
    hits (``doc_id, kind, item, count``: what the omissions need of the frames)."""
    s, by = settings, settings.compare_by
    # The written tables keep their columns (per 100 sentences only where languages are compared, below).
    per_sentence = ["sentences", "per_100_sentences"]
    units = units.drop(columns=per_sentence)
    docs = docs.drop(columns=per_sentence)
    # Across languages the rate is hits per 100 sentences (a Vietnamese translation has
    # about 1.2x the counted tokens of its English source, so per-1,000-token rates are lower in
    # Vietnamese for every frame; sentences survive translation). Within a language, per 1,000 tokens.
    rate, rate_text = group_rate(by)
    if rate == "per_100_sentences":
        docs = docs.assign(
            per_100_sentences=[
                100.0 * h / sentences[d] if sentences[d] else 0.0 for d, h in zip(docs["doc_id"], docs["hits"])
            ]
        )
    long = docs.rename(columns={"frame": "item", rate: "value"})[["doc_id", "family", "item", "value"]]
    frame_groups = frame_group_table(
        docs,
        units,
        groups,
        order=order,
        labels=labels["frame"],
        n_resamples=s.bootstrap,
        seed=s.seed,
        min_docs=s.min_group_docs,
        rate=rate,
    )
    tests = group_tests(long, groups, order, s.permutations, s.seed, min_docs=s.min_group_docs)
    # The minimum detectable difference beside each non-significant test; with [framing] cluster,
    # outlets as clusters beside each mean and each test (analysis.stats.groups.cluster_tests).
    tests = cluster_tests(tests, long, groups, outlets, column=s.cluster, n_resamples=s.bootstrap, seed=s.seed)
    if s.cluster:
        frame_groups = cluster_group_table(
            frame_groups, long, groups, outlets, column=s.cluster, n_resamples=s.bootstrap, seed=s.seed, item="frame"
        )
    tests.insert(2, "label", tests["item"].map(labels["frame"]))
    hits_long = docs.rename(columns={"frame": "item", "hits": "value"})[["doc_id", "family", "item", "value"]]
    distribution = distribution_tests(hits_long, groups, order=order, min_docs=s.min_group_docs)
    family_sizes = {f: sum(e.family == f for e in codebook.frames) for f in codebook.frame_families}
    values = {"by": by}
    items = (
        docs.loc[docs["hits"] > 0, ["doc_id", "frame", "hits"]]
        .assign(kind="frame")
        .rename(columns={"frame": "item", "hits": "count"})[OMISSION_ITEM_COLUMNS]
    )
    return [
        Csv("frame_salience_by_unit", units),
        Table("frame_salience_by_document", docs.drop(columns=["unit_id", "unit_index"])),
        Table("frame_salience_by_{by}", frame_groups, values),
        Figure(
            "frame_salience_by_{by}",
            partial(pf.figure_frame_salience, frame_groups, family_sizes, n_groups=len(order), by=by),
            values=values,
        ),
        Table("frame_tests_by_{by}", tests.rename(columns={"item": "frame"}), values),
        Table("frame_distribution_by_{by}", distribution, values),
    ], items


def _actors(
    actors: pd.DataFrame, statements: pd.DataFrame, groups, order, *, settings: FramingSettings, labels, outlets=None
) -> tuple[list[Result], pd.DataFrame]:
    """The actor results from the annotation's actor and statement tables, and the document rows with
    mentions (``doc_id, kind, item, count``: what the omissions need of the actors)."""
    s, by = settings, settings.compare_by
    actor_groups = actor_group_table(
        actors,
        groups,
        order=order,
        labels=labels["actor"],
        n_resamples=s.bootstrap,
        seed=s.seed,
        min_docs=s.min_group_docs,
    )
    if s.cluster:  # outlets as clusters beside each group's mean document share
        long = actors.rename(columns={"actor": "item", "mention_share": "value"})[["doc_id", "item", "value"]]
        actor_groups = cluster_group_table(
            actor_groups,
            long,
            groups,
            outlets,
            column=s.cluster,
            n_resamples=s.bootstrap,
            seed=s.seed,
            item="actor",
            support=(0.0, 1.0),
        )
    tests = actor_tests_table(
        actors,
        groups,
        order=order,
        labels=labels["actor"],
        n_permutations=s.permutations,
        seed=s.seed,
        min_docs=s.min_group_docs,
        clusters=outlets,
        column=s.cluster,
        n_resamples=s.bootstrap,
    )
    items = (
        actors.loc[actors["mentions"] > 0, ["doc_id", "actor", "mentions"]]
        .assign(kind="actor")
        .rename(columns={"actor": "item", "mentions": "count"})[OMISSION_ITEM_COLUMNS]
    )
    return [
        Table("actor_salience_by_document", actors[actors["mentions"] > 0].reset_index(drop=True)),
        Table("actor_salience_by_{by}", actor_groups, {"by": by}),
        Table("actor_tests_by_{by}", tests, {"by": by}),
        Figure(
            "actor_salience_by_{by}",
            partial(pf.figure_actor_salience, actor_groups, n_groups=len(order), by=by),
            values={"by": by},
        ),
        Table("actor_statements", statements),
    ], items


def _keyness_results(
    comparisons,
    output: str,
    values: dict,
    *,
    settings: FramingSettings,
    empty_note: str,
    title: str,
    labels=None,
    full: bool = True,
) -> list[Result]:
    """The full table in the registry's data formats (a word table: .csv.gz and .parquet; the concepts:
    .csv), its top rows as .tex/.md, and the bars: one registered keyness output.

    The full table is written comparison by comparison (:func:`_comparison_parts`): stacked whole,
    the four word-keyness tables of 10,000 articles (3.2 million rows) were held until written,
    beside the comparisons they were stacked from, about 1.5 GB of the stage's 3.1 GB peak.
    ``full`` False: the full table is written by the caller (word keyness streams it), so only the top
    rows and the bars are returned.
    """
    s = settings
    return [
        *(
            [CsvParts(output, partial(_comparison_parts, comparisons, s.min_group_docs, labels, empty_note), values)]
            if full
            else []
        ),
        Table(
            output,
            comparison_table(
                comparisons, min_docs=s.min_group_docs, labels=labels, top_n=s.keyness_top_n, empty_note=empty_note
            ),
            values,
            ("tex", "md"),
        ),
        Figure(
            output,
            partial(
                pf.figure_keyness,
                comparisons,
                top_n=s.keyness_top_n,
                min_docs=s.min_group_docs,
                title=title,
                empty_note=empty_note,
            ),
            values=values,
        ),
    ]


def _comparison_parts(comparisons, min_docs: int, labels, empty_note: str):
    """:func:`analysis.stats.keyness.comparison_table` of ``comparisons``, one comparison at a time.

    The parts' rows and dtypes are those of the stacked table when every comparison's table has
    rows, the same columns and the same dtypes (so stacking changes no dtype, and the CSV has the
    same bytes); otherwise (an empty comparison, a labelled table) the stacked table, whole.
    """
    tables = [c.table for c in comparisons]
    same = (
        labels is None
        and len(tables) > 1
        and all(len(t) for t in tables)
        and all(list(t.columns) == list(tables[0].columns) and t.dtypes.equals(tables[0].dtypes) for t in tables)
    )
    if not same:
        yield comparison_table(comparisons, min_docs=min_docs, labels=labels, empty_note=empty_note)
        return
    for c in comparisons:
        yield comparison_table([c], min_docs=min_docs, labels=labels, empty_note=empty_note)


def _clusters(docvars: pd.DataFrame, *, settings: FramingSettings, compared: str = "") -> dict[str, str] | None:
    """The resampling cluster of each document for a keyness comparison by ``compared``, or None
    (documents are the unit): ``[framing] keyness_cluster`` when set, else ``[framing] cluster``
    (outlets) for the concepts compared between groups that are unions of outlets. A comparison by
    the cluster column itself (one outlet against the rest) keeps documents as the unit: permuting
    outlets there would compare one outlet with the others as units of one."""
    column = settings.keyness_cluster or (settings.cluster if compared == settings.compare_by else "")
    if not column or column == compared or column not in docvars.columns:
        return None
    return {d: str(v) for d, v in docvars[column].items()}


def _word_keyness(
    dtm, docvars: pd.DataFrame, *, language: str, var: str, settings: FramingSettings, batches=None
) -> Iterator[Result]:
    """Word keyness of ``language`` by ``var``: the full table, streamed (:class:`_StreamedComparisons`: each
    comparison is written before the next is built), then its top rows as .tex/.md and the bars."""
    s = settings
    language_of = {d: str(v) for d, v in docvars["language"].items()}  # not docvars.loc[d, ...] per document
    rows = [i for i, d in enumerate(dtm.row_ids) if language_of[d] == language]
    doc_ids = [dtm.row_ids[i] for i in rows]
    counts = dtm.counts[rows]  # stays sparse: only column sums are needed
    used = np.flatnonzero(column_sums(counts) > 0)
    counts, vocab = counts[:, used], [dtm.vocab[j] for j in used]
    value_of = {d: str(v) for d, v in docvars[var].items()}
    groups = {d: value_of[d] for d in doc_ids}
    order = group_order(groups.values())
    clusters = _clusters(docvars, settings=s, compared=var)

    def build():  # a fresh random stream each time: a second build gives the same comparisons
        return iter_keyness_comparisons(
            counts,
            doc_ids,
            vocab,
            groups,
            order=order,
            **_keyness_options(s),
            rng=keyed_rng(s.seed, "keyness", f"words_{language}_by_{var}"),
            clusters=clusters,
            batches=batches,
            min_docs=s.keyness_min_docs,
        )

    comparisons = _StreamedComparisons(build, top_n=s.keyness_top_n)
    n = len(order)
    empty = f"only {n} {var} value{'s' if n != 1 else ''} among the {language} documents: nothing to compare"
    output, values = "keyness_words_{lang}_by_{within}", {"lang": language, "within": var}
    yield CsvParts(output, partial(comparisons.parts, s.min_group_docs, empty), values)
    yield from _keyness_results(
        comparisons.tops(),
        output,
        values,
        settings=s,
        empty_note=empty,
        title=f"Keyness of {group_label(language)} words by {var}",
        full=False,
    )


class _StreamedComparisons:
    """Keyness comparisons built one at a time for the full table, keeping only each one's top rows.

    :meth:`parts` yields each comparison's rows of the full table (what :func:`_comparison_parts` yields,
    same bytes) and lets the comparison go; :meth:`tops` gives the comparisons reduced to their
    ``top_n`` strongest terms each way (:func:`analysis.stats.keyness.top_keyness`, what the .tex/.md table
    and the bars show), with their number of tests. Written in that order (the stage's writer asks for
    the tops after the parts), the set is never whole in memory; asked for the tops first (a caller that
    holds every result, :func:`framing_results`), the comparisons are built once and kept for the parts.
    """

    def __init__(self, build, *, top_n: int):
        self._build, self._top_n = build, top_n
        self._tops: list[Comparison] | None = None
        self._whole: list[Comparison] | None = None

    def _top(self, c: Comparison) -> Comparison:
        tests = int(c.table["p"].notna().sum()) if c.tests is None else c.tests
        top = top_keyness(c.table, self._top_n)
        return Comparison(c.target, c.reference, c.target_docs, c.reference_docs, top, c.min_docs, tests)

    def parts(self, min_docs: int, empty_note: str):
        """:func:`_comparison_parts` of the comparisons, built one at a time when not already built."""
        if self._whole is not None:
            yield from _comparison_parts(self._whole, min_docs, None, empty_note)
            return
        tops, shown = [], 0
        for c in self._build():
            tops.append(self._top(c))
            if len(c.table):  # an empty table adds no row (and would change the parts' dtypes)
                shown += 1
                yield comparison_table([c], min_docs=min_docs, empty_note=empty_note)
        if not shown:
            yield comparison_table(tops, min_docs=min_docs, empty_note=empty_note)
        self._tops = tops

    def tops(self) -> list[Comparison]:
        """The comparisons reduced to their top rows (built whole here if :meth:`parts` has not run)."""
        if self._tops is None:
            self._whole = list(self._build())
            self._tops = [self._top(c) for c in self._whole]
        return self._tops


def _keyness_options(s: FramingSettings) -> dict:
    """The ``[framing]`` settings every keyness comparison of the stage shares (score correction, Fightin'
    Words prior, permutations and their budget)."""
    return {
        "correction": s.keyness_correction,
        "alpha0": s.fightin_alpha0,
        "n_resamples": s.permutations,
        "max_resamples": s.keyness_budget,
    }


def _concept_keyness(
    concepts: DocTermMatrix, groups, order, *, settings: FramingSettings, labels, clusters=None
) -> list[Result]:
    s, by = settings, settings.compare_by
    comparisons = keyness_comparisons(
        concepts.counts,
        concepts.row_ids,
        concepts.vocab,
        groups,
        order=order,
        **_keyness_options(s),
        rng=keyed_rng(s.seed, "keyness", f"concepts_by_{by}"),
        clusters=clusters,
    )
    empty = f"only {len(order)} {by} value{'s' if len(order) != 1 else ''}: nothing to compare"
    title = f"Fightin' Words on concepts by {by}\n(Monroe et al. 2008; prior of {s.fightin_alpha0:g} pseudo-tokens)"
    return [
        *_keyness_results(
            comparisons,
            "keyness_concepts_by_{by}",
            {"by": by},
            settings=s,
            empty_note=empty,
            title=f"Keyness of concepts by {by}",
            labels=labels,
        ),
        Figure(
            "fightin_words_concepts_by_{by}",
            partial(pf.figure_fightin_words, comparisons, min_docs=s.min_group_docs, title=title, empty_note=empty),
            pf.fightin_words_data(comparisons),
            {"by": by},
        ),
    ]


def _similarity(
    prepared, languages: dict[str, str], concepts: DocTermMatrix, docvars: pd.DataFrame, *, settings, pair
) -> list[Result]:
    s = settings
    similarity = crosslingual_similarity(concepts, languages=languages, pair=pair, keep_rank=10)
    if "title" in docvars.columns and len(similarity):
        similarity.insert(4, "title_a", similarity["doc_a"].map(docvars["title"]))
        similarity.insert(5, "title_b", similarity["doc_b"].map(docvars["title"]))
    duplicates = near_duplicates(  # listed: every near-duplicate and every document mostly inside another
        ((d.doc_id, d.language, d.tokens()) for d in prepared),
        k=s.shingle_size,
        threshold=s.duplicate_jaccard,
        min_containment=s.duplicate_jaccard,
    )
    return [
        Table("similarity_crosslingual", similarity, {"pair_a": pair[0], "pair_b": pair[1]}),
        Figure("similarity_crosslingual", partial(pf.figure_similarity, similarity, pair)),
        Table("near_duplicates", duplicates),
    ]


def _concept_items(concepts: DocTermMatrix) -> pd.DataFrame:
    """The non-zero cells of the (documents × concepts) counts as ``doc_id, item, count, kind``
    rows, document by document, concepts in column order, read from the sparse matrix (the
    stacked table of every cell would be documents × 224 concepts of the default codebook: 22
    million rows at 100,000 articles, most of them zeros)."""
    cells = concepts.counts.tocoo()  # CSR with sorted indices: row by row, columns ascending
    keep = cells.data > 0
    return pd.DataFrame(
        {
            "doc_id": np.asarray(concepts.row_ids, dtype=object)[cells.row[keep]],
            "item": np.asarray(concepts.vocab, dtype=object)[cells.col[keep]],
            "count": cells.data[keep].astype(np.int64),
            "kind": "concept",
        }
    )


#: The rows the omissions count: one per document and item with hits (frames, actors, concepts).
OMISSION_ITEM_COLUMNS = ["doc_id", "kind", "item", "count"]


def _omissions(
    frame_items: pd.DataFrame,
    actor_items: pd.DataFrame,
    concepts: DocTermMatrix,
    sentences: dict[str, int],
    docvars,
    *,
    settings,
    pair,
    labels,
) -> Result:
    s = settings
    items = pd.concat(
        [frame_items, actor_items, _concept_items(concepts)[OMISSION_ITEM_COLUMNS]],
        ignore_index=True,
    )
    omissions = event_omissions(
        items,
        sentences,
        docvars,
        pair=pair,
        ratio=s.omission_ratio,
        min_count=s.omission_min_count,
        seed=s.seed,
    )  # 9999 arrangements, not s.permutations: Holm over ~240 items needs p down to 0.05 / 240
    omissions.insert(3, "label", [labels.get(k, {}).get(i, i) for k, i in zip(omissions["kind"], omissions["item"])])
    if omissions.empty:  # say why, as the keyness tables do
        why = (
            "no `event` column in the metadata: there are no paired events"
            if "event" not in docvars.columns
            else (
                f"nothing to report: no event has documents in both {pair[0]} and {pair[1]}, or "
                "nothing is missing or much weaker in one of them (documents permuted, Holm within "
                "each event, q < 0.05)"
            )
        )
        omissions = pd.DataFrame([{**{c: "" for c in omissions.columns}, "status": why}], columns=omissions.columns)
    return Table("event_omissions", omissions)
