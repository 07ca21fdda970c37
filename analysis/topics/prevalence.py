"""Topic prevalence by group: mean topic share per group of documents with studentized cluster-bootstrap
intervals (:func:`analysis.topics.prevalence`), for each grouping column, with outlets as clusters
when asked.
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np
import pandas as pd

from ..stats.groups import CLUSTER_COLUMNS, MIN_CLUSTERS, _missing_note, _positive, _with_cluster_columns, keyed_rng
from .lda import prevalence

PREVALENCE_COLUMNS = [
    "model",
    "group_by",
    "group",
    "topic",
    "units",
    "clusters",
    "prevalence",
    "ci_low",
    "ci_high",
    "note",
]


def prevalence_by(
    doc_topic: np.ndarray,
    doc_ids: Sequence[str],
    docvars: pd.DataFrame,
    by: Sequence[str],
    n_resamples: int,
    seed: int,
    *,
    model: str = "",
    unit_ids: Sequence[str] | None = None,
    cluster: str = "",
) -> pd.DataFrame:
    """Topic prevalence by group for each column of ``by``, with studentized cluster-bootstrap intervals.

    Parameters
    ----------
    doc_topic : array of shape (n_units, K)
        Topic shares of each unit (rows sum to 1).
    doc_ids : sequence of str, length n_units
        The document of each unit (the cluster resampled).
    docvars : DataFrame indexed by doc_id
        Holds every column of ``by``.
    n_resamples, seed : int
        Bootstrap resamples (0 = no interval) and the seed; each column's generator is keyed
        ``(seed, "prevalence", model, column)``, so the list's order changes no interval.
    model : str
        The model's name (a label of the table and of the random stream).
    unit_ids : sequence of str, optional
        Resample units instead of documents.
    cluster : str, optional
        A column of ``docvars`` (e.g. ``outlet``): adds :data:`CLUSTER_COLUMNS` before ``note``,
        per group and topic the design effect of the units' topic shares by that column
        (:func:`analysis.stats.models.design_effect`) and the studentized cluster-bootstrap interval
        resampling whole outlets (:func:`analysis.topics.prevalence` with outlets as clusters;
        generator keyed ``(seed, "prevalence", model, column, "cluster", cluster)``, so the
        document-level columns stay as they were). A missing column, or a group with fewer than
        2 outlets, is said in the note.

    Returns
    -------
    DataFrame
        :data:`PREVALENCE_COLUMNS` (and :data:`CLUSTER_COLUMNS` with ``cluster``), see
        :func:`analysis.topics.prevalence`.

    Examples
    --------
    >>> import numpy as np
    >>> theta = np.array([[0.9, 0.1], [0.7, 0.3], [0.2, 0.8]])
    >>> docvars = pd.DataFrame({"language": ["vi", "vi", "en"]}, index=["v1", "v2", "e1"])
    >>> table = prevalence_by(theta, ["v1", "v2", "e1"], docvars, ["language"], 0, seed=1, model="joint")
    >>> table[table["topic"] == 1][["group", "prevalence"]].to_dict("records")
    [{'group': 'en', 'prevalence': 0.2}, {'group': 'vi', 'prevalence': 0.8}]
    """
    _positive("n_resamples", n_resamples, 0)
    missing = [column for column in by if column not in docvars.columns]
    if missing:
        raise ValueError(f"by names {', '.join(missing)}, not a column of docvars")
    clusters = list(unit_ids) if unit_ids is not None else list(doc_ids)
    frames = []
    for column in by:
        rng = keyed_rng(seed, "prevalence", model, column)
        table = prevalence(
            doc_topic, docvars.loc[list(doc_ids), column].astype(str).tolist(), clusters, rng=rng, n_boot=n_resamples
        )
        if cluster:
            table = _cluster_prevalence(
                table,
                doc_topic,
                doc_ids,
                docvars,
                column,
                cluster,
                n_resamples,
                keyed_rng(seed, "prevalence", model, column, "cluster", cluster),
            )
        table.insert(0, "group_by", column)
        table.insert(0, "model", model)
        frames.append(table)
    if frames:
        return pd.concat(frames, ignore_index=True)
    return pd.DataFrame(
        columns=PREVALENCE_COLUMNS[:-1] + CLUSTER_COLUMNS + PREVALENCE_COLUMNS[-1:] if cluster else PREVALENCE_COLUMNS
    )


def _cluster_prevalence(
    table: pd.DataFrame,
    doc_topic: np.ndarray,
    doc_ids: Sequence[str],
    docvars: pd.DataFrame,
    column: str,
    cluster: str,
    n_resamples: int,
    rng: np.random.Generator,
) -> pd.DataFrame:
    """:func:`prevalence_by`'s table of one column with :data:`CLUSTER_COLUMNS` (outlets as clusters)."""
    from ..stats.models import design_effect

    if cluster not in docvars.columns:
        rows = [{**dict.fromkeys(CLUSTER_COLUMNS, math.nan), "cluster_by": cluster} for _ in range(len(table))]
        return _with_cluster_columns(table, rows, [_missing_note(cluster)] * len(table))
    groups = docvars.loc[list(doc_ids), column].astype(str).to_numpy(dtype=object)
    outlets = docvars.loc[list(doc_ids), cluster].astype(str).to_numpy(dtype=object)
    by_outlet = prevalence(doc_topic, groups, outlets, rng=rng, n_boot=n_resamples).set_index(["group", "topic"])
    rows, notes = [], []
    for group, topic in zip(table["group"], table["topic"]):
        members = groups == group
        de = design_effect(doc_topic[members, int(topic) - 1], outlets[members])
        outlet_row = by_outlet.loc[(group, topic)]
        rows.append(
            dict(
                cluster_by=cluster,
                cluster_n=de["clusters"],
                effective_clusters=de["effective_clusters"],
                icc=de["icc"],
                design_effect=de["design_effect"],
                effective_n=de["effective_n"],
                cluster_ci_low=outlet_row["ci_low"],
                cluster_ci_high=outlet_row["ci_high"],
            )
        )
        n = de["clusters"]
        notes.append(
            f"{n} {cluster} cluster: no cluster bootstrap (it needs at least 2)"
            if n < 2
            else (
                f"{n} {cluster} clusters (fewer than {MIN_CLUSTERS}): cluster intervals need many more"
                if n < MIN_CLUSTERS
                else ""
            )
        )
    return _with_cluster_columns(table, rows, notes)
