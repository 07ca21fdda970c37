"""Statistics by group of documents: the tables a study compares groups with.

Each function takes plain data (per-document tables, count matrices, a doc_id -> group mapping)
and explicit parameters, and returns a tidy DataFrame; none reads a study or writes a file.

* :func:`frame_group_table`: frame salience by group, mean over documents with a bootstrap 95%
  interval (:func:`analysis.stats.groups.group_means`), document and unit presence, hits and the
  share of the family's hits.
* :func:`actor_group_table`: actor salience by group, pooled mention share, mean document share
  with a bootstrap interval, first mentions in the headline/lead, voice; :func:`actor_tests_table`:
  permutation tests of documents of the difference in mean actor share between groups, BH q per
  actor kind, with outlets as clusters and the minimum detectable difference (:func:`cluster_tests`).
* :func:`keyness_by_group`: keyness (:func:`analysis.stats.keyness.keyness`) of each pair of groups,
  or of each group against the rest when there are more than two; :func:`top_keyness` keeps the
  strongest terms each way per comparison.
* :func:`prevalence_by`: mean topic share by group with a studentized cluster bootstrap
  (:func:`analysis.topics.prevalence`) for each grouping column.

Randomness: every interval draws from its own generator keyed by ``seed`` and its labels
(:func:`analysis.stats.groups.keyed_rng`), so adding, removing or reordering a group, a column or an
item never changes another row's interval. Bad parameters raise ``ValueError``.
"""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from ..stats.groups import (
    CLUSTER_COLUMNS,
    MDD_SIMULATIONS,
    _positive,
    bootstrap_ci,
    cluster_tests,
    group_means,
    keyed_rng,
    too_small_note,
)
from ..study.settings import MIN_GROUP_DOCS
from .measures import LEAD

# ---------------------------------------------------------------------------------- frames


def frame_group_table(
    docs: pd.DataFrame,
    units: pd.DataFrame,
    groups: Mapping[str, str],
    *,
    order: Sequence[str],
    labels: Mapping[str, str],
    n_resamples: int,
    seed: int,
    min_docs: int = MIN_GROUP_DOCS,
    rate: str = "per_1000",
) -> pd.DataFrame:
    """Frame salience by group.

    Parameters
    ----------
    docs, units : DataFrame
        :func:`analysis.framing.measures.frame_salience` per document and per unit.
    groups : mapping doc_id -> group
    order : sequence of str
        Groups in the order the table lists them.
    labels : mapping frame id -> label
    n_resamples, seed : int
        Bootstrap resamples of documents and the seed of their keyed generators.
    min_docs : int
        Groups with fewer documents are flagged ``too_small``.
    rate : str
        The column of ``docs`` averaged: ``per_1000`` (counted tokens, within a language) or
        ``per_100_sentences`` (across languages); the mean column is ``mean_<rate>``.

    Returns
    -------
    DataFrame
        ``family, frame, label, group, n_docs, docs_with_hits, mean_per_1000, ci_low, ci_high, doc_presence,
        unit_presence, hits, hit_share, too_small, note``: the mean over documents of hits per
        1,000 counted tokens with a studentized bootstrap 95% interval, the share of documents
        (units) where the frame is present, its hits and their share of the family's hits.
    """
    _positive("n_resamples", n_resamples)
    long = docs.rename(columns={"frame": "item", rate: "value"})[["doc_id", "family", "item", "value"]]
    means = group_means(long, groups, order=order, n_resamples=n_resamples, seed=seed, min_docs=min_docs)
    docs = docs.assign(group=docs["doc_id"].map(groups))
    units = units.assign(group=units["doc_id"].map(groups))
    doc_presence = docs.groupby(["family", "frame", "group"])["present"].mean()
    unit_presence = units.groupby(["family", "frame", "group"])["present"].mean()
    hits = docs.groupby(["family", "frame", "group"])["hits"].sum()
    family_hits = docs.groupby(["family", "group"])["hits"].sum()
    table = means.rename(columns={"item": "frame", "mean": f"mean_{rate}"})
    key = list(zip(table["family"], table["frame"], table["group"]))
    table.insert(2, "label", table["frame"].map(labels))
    before = table.columns.get_loc("too_small")
    table.insert(before, "doc_presence", [float(doc_presence.get(k, np.nan)) for k in key])
    table.insert(before + 1, "unit_presence", [float(unit_presence.get(k, np.nan)) for k in key])
    table.insert(before + 2, "hits", [int(hits.get(k, 0)) for k in key])
    shares = []
    for family, frame, group in key:
        total = family_hits.get((family, group), 0)
        shares.append(float(hits.get((family, frame, group), 0)) / total if total else 0.0)
    table.insert(before + 3, "hit_share", shares)
    return table


# ---------------------------------------------------------------------------------- actors

ACTOR_GROUP_COLUMNS = [
    "actor",
    "label",
    "kind",
    "group",
    "n_docs",
    "docs_mentioning",
    "mentions",
    "mention_share",
    "mean_doc_share",
    "ci_low",
    "ci_high",
    "first_in_lead",
    "lead_share",
    "statements",
    "voice_share",
    "too_small",
    "note",
]


def _share(part: float, whole: float) -> float:
    return part / whole if whole else 0.0


def actor_group_table(
    actors: pd.DataFrame,
    groups: Mapping[str, str],
    *,
    order: Sequence[str],
    labels: Mapping[str, str],
    n_resamples: int,
    seed: int,
    min_docs: int = MIN_GROUP_DOCS,
) -> pd.DataFrame:
    """Actor salience by group, for every actor mentioned anywhere.

    ``actors`` is :func:`analysis.framing.measures.actor_salience`'s per-document table. Per actor and
    group: documents, documents mentioning it, mentions and their share of the group's mentions
    (pooled), the mean over documents of the mention share with a bootstrap 95% interval
    (generator keyed ``("actor", actor, group)``), first mentions in the headline/lead and their
    share, statements and their share of the group's statements (voice). Columns:
    :data:`ACTOR_GROUP_COLUMNS`.
    """
    _positive("n_resamples", n_resamples)
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
            mentions, statements = int(rows["mentions"].sum()), int(rows["statements"].sum())
            shares = rows["mention_share"].to_numpy(dtype=float)
            low, high = bootstrap_ci(
                shares, n_resamples=n_resamples, rng=keyed_rng(seed, "actor", actor, group), support=(0.0, 1.0)
            )
            docs_mentioning = int((rows["mentions"] > 0).sum())
            lead = int((rows["first_position"] == LEAD).sum())
            records.append(
                (
                    actor,
                    labels.get(actor, actor),
                    rows["kind"].iloc[0] if n else "",
                    group,
                    n,
                    docs_mentioning,
                    mentions,
                    _share(mentions, int(all_rows["mentions"].sum())),
                    float(shares.mean()) if n else np.nan,
                    low,
                    high,
                    lead,
                    _share(lead, docs_mentioning),
                    statements,
                    _share(statements, int(all_rows["statements"].sum())),
                    n < min_docs,
                    too_small_note({group: n}, min_docs),
                )
            )
    return pd.DataFrame(records, columns=ACTOR_GROUP_COLUMNS)


#: Columns of :func:`actor_tests_table` (``cluster_by ... cluster_ci_high`` only with a cluster column): the
#: actor, then the order of :mod:`analysis.stats.comparison` (``exact``, its own column, after ``mdd``).
ACTOR_TEST_COLUMNS = [
    "kind",
    "actor",
    "label",
    "group_a",
    "group_b",
    "n_a",
    "n_b",
    "mean_a",
    "mean_b",
    "difference",
    "p",
    "min_p",
    "q",
    *CLUSTER_COLUMNS,
    "mdd",
    "exact",
    "too_small",
    "note",
]


def actor_tests_table(
    actors: pd.DataFrame,
    groups: Mapping[str, str],
    *,
    order: Sequence[str],
    labels: Mapping[str, str],
    n_permutations: int,
    seed: int,
    min_docs: int = MIN_GROUP_DOCS,
    clusters: Mapping[str, str] | None = None,
    column: str = "",
    n_resamples: int = 2000,
    alpha: float = 0.05,
    mdd_simulations: int | None = None,
) -> pd.DataFrame:
    """Between-group tests of actor salience: the difference in the mean document share of each actor.

    The actor analogue of the frame tests (``frame_tests_by_<by>``): per actor mentioned anywhere
    (the rows of :func:`actor_group_table`) and pair of groups (the two groups, or each against
    the rest), the difference in the mean over documents of ``mention_share`` (the actor's share
    of the document's actor mentions; 0 in a document without actor mentions) with a two-sided
    permutation test of documents (:func:`analysis.stats.groups.group_tests`: exact when the splits are
    few, else ``n_permutations`` random splits, generator keyed ``(seed, "perm", kind, actor, a,
    b)``; ``min_p`` the smallest p the group sizes allow). ``q``: Benjamini–Hochberg across the
    actors of one kind (the codebook family: person, country, organisation ...) and pair, as the
    frame tests correct across a frame family. Groups under ``min_docs`` documents are flagged
    ``too_small``. Then :func:`cluster_tests`: with ``column`` (e.g. ``outlet``) the outlets'
    design effect, effective numbers of outlets and documents and the studentized outlet
    cluster-bootstrap interval of the difference (``n_resamples``); ``mdd`` beside every test
    with ``q`` ≥ ``alpha``: the smallest difference in share a 5% test detects with 80% power at
    these sizes, so that "no difference" can be read.

    The document is the unit: a document that names an actor ten times weighs as one
    observation of its share, not ten. Columns: :data:`ACTOR_TEST_COLUMNS` (without the cluster
    columns when ``column`` is empty).
    """
    from ..stats.groups import group_tests

    _positive("n_permutations", n_permutations)
    _positive("n_resamples", n_resamples)
    mentioned = set(actors.loc[actors["mentions"] > 0, "actor"])
    rows = actors[actors["actor"].isin(mentioned)]
    long = rows.rename(columns={"kind": "family", "actor": "item", "mention_share": "value"})[
        ["doc_id", "family", "item", "value"]
    ]
    tests = group_tests(long, groups, order, n_permutations, seed, min_docs=min_docs)
    tests = cluster_tests(
        tests,
        long,
        groups,
        clusters,
        column=column,
        n_resamples=n_resamples,
        seed=seed,
        alpha=alpha,
        mdd_simulations=MDD_SIMULATIONS if mdd_simulations is None else mdd_simulations,
    )
    tests.insert(2, "label", tests["item"].map(lambda a: labels.get(a, a)))
    tests = tests.rename(columns={"family": "kind", "item": "actor"})
    return tests[
        ACTOR_TEST_COLUMNS if column else [c for c in ACTOR_TEST_COLUMNS if c not in CLUSTER_COLUMNS]
    ].reset_index(drop=True)


# --------------------------------------------------------------------------------- keyness


# ------------------------------------------------------------------------------ prevalence


# ------------------------------------------------------------------------- outlets as clusters
