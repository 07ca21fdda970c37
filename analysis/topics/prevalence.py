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
from ..study.settings import MIN_GROUP_DOCS
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
    *,
    seed: int,
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
                cluster=cluster,
                n_resamples=n_resamples,
                rng=keyed_rng(seed, "prevalence", model, column, "cluster", cluster),
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
    *,
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


def document_prevalence_long(doc_topic: np.ndarray, doc_ids: Sequence[str], model: str) -> pd.DataFrame:
    """Per document and topic, the document's prevalence (the mean θ of its units), as the
    ``doc_id, family, item, value`` rows the group tests read (``family`` the model, ``item`` the topic from 1)."""
    doc_topic = np.asarray(doc_topic, dtype=float)
    codes, ids = pd.factorize(pd.Index([str(d) for d in doc_ids]))
    sums = np.zeros((len(ids), doc_topic.shape[1]))
    np.add.at(sums, codes, doc_topic)
    means = sums / np.bincount(codes, minlength=len(ids))[:, None]
    K = doc_topic.shape[1]
    return pd.DataFrame(
        {
            "doc_id": np.repeat(np.asarray(ids, dtype=object), K),
            "family": model,
            "item": np.tile(np.arange(1, K + 1), len(ids)),
            "value": means.ravel(),
        }
    )


def prevalence_tests(
    doc_topic: np.ndarray,
    doc_ids: Sequence[str],
    docvars: pd.DataFrame,
    *,
    by: str,
    order: Sequence[str],
    n_resamples: int,
    seed: int,
    model: str,
    cluster: str = "",
    min_docs: int = MIN_GROUP_DOCS,
    mdd_simulations: int | None = None,
) -> pd.DataFrame:
    """Difference in mean document topic share between the groups of ``by``, per topic, with
    outlets as the unit when the groups are unions of outlets.

    The value of a document is its prevalence ``θ̄_dk`` (the mean θ of its units; one value per
    document, so sentence windows of one article are not counted as independent). Per topic and
    pair of groups (the two groups, or each against the rest): the difference of the groups' mean
    document prevalence and a two-sided permutation test of documents
    (:func:`analysis.stats.groups.group_tests`, generator keyed ``(seed, "perm", model, topic, a, b)``);
    ``q`` is Benjamini–Hochberg across the topics of the model (one pair: one family). Then
    :func:`analysis.stats.groups.cluster_tests`: with ``cluster`` (``[topics] cluster``, e.g.
    ``outlet``) and outlets nested in the groups, **the primary p permutes whole outlets** (Welch t
    on outlet means, exact when the arrangements are few; ``p_unit`` says the unit and ``min_p``
    the smallest p these outlets allow), ``q`` is recomputed on those p, and the documents' test
    stays beside it (``p_documents``, ``q_documents``: conditional on these outlets); a group of a
    single outlet gets no p (its contrast is an outlet contrast; the note says so); the outlets'
    design effect and a studentized outlet cluster-bootstrap 95% interval of the difference
    (``cluster_ci_low``, ``cluster_ci_high``); ``mdd`` beside a test with ``q`` ≥ 0.05.

    The difference is that of the *fitted* θ: LDA shrinks group differences of short, overlapping
    documents towards 0 (:func:`prevalence_attenuation` measures by how much), so the test is of the
    fitted model's prevalence, and a difference is at least as large as shown only when the
    attenuation check finds the model unbiased.

    Columns (the order of :mod:`analysis.stats.comparison`): ``model, topic, group_a, group_b, n_a,
    n_b, mean_a, mean_b, difference, p, min_p, q, correction, adjusted_within`` (with ``cluster``:
    :data:`analysis.stats.groups.CLUSTER_COLUMNS`), ``mdd, exact`` (with ``cluster``:
    :data:`analysis.stats.groups.UNIT_COLUMNS`), ``too_small, note``.

    Examples
    --------
    >>> theta = np.array([[0.9, 0.1], [0.8, 0.2], [0.7, 0.3], [0.2, 0.8], [0.1, 0.9], [0.3, 0.7]])
    >>> docvars = pd.DataFrame({"language": ["vi"] * 3 + ["en"] * 3}, index=list("abcdef"))
    >>> t = prevalence_tests(theta, list("abcdef"), docvars, by="language", order=["vi", "en"],
    ...                      n_resamples=99, seed=1, model="joint", mdd_simulations=20)
    >>> t[["topic", "difference", "p"]].round(3).values.tolist()
    [[1.0, 0.6, 0.1], [2.0, -0.6, 0.1]]
    """
    from ..stats.groups import MDD_SIMULATIONS, cluster_labels, cluster_tests, group_tests

    _positive("n_resamples", n_resamples)
    if by not in docvars.columns:
        raise ValueError(f"by names {by!r}, not a column of docvars")
    long = document_prevalence_long(doc_topic, doc_ids, model)
    documents = pd.unique(long["doc_id"])
    groups = docvars.loc[documents, by].astype(str).to_dict()
    tests = group_tests(long, groups, order, n_resamples, seed, min_docs=min_docs)
    clusters = cluster_labels(docvars.loc[documents], cluster) if cluster else None
    tests = cluster_tests(
        tests,
        long,
        groups,
        clusters,
        column=cluster,
        n_resamples=n_resamples,
        seed=seed,
        mdd_simulations=MDD_SIMULATIONS if mdd_simulations is None else mdd_simulations,
    )
    return tests.rename(columns={"family": "model", "item": "topic"})


ATTENUATION_COLUMNS = [
    "model",
    "topic",
    "matched_topic",
    "similarity",
    "group_a",
    "group_b",
    "generating_difference",
    "refit_difference",
    "ratio",
    "attenuation",
    "note",
]


def simulate_from_fit(
    topic_word: np.ndarray, doc_topic: np.ndarray, unit_tokens: Sequence[int], rng: np.random.Generator
) -> np.ndarray:
    """A corpus drawn from a fitted LDA model: for each unit, ``n_u`` tokens (its own length), each
    given a topic from the unit's θ̂ and a term from that topic's φ̂ (LDA's generative process with
    the fitted parameters as the truth). Returns the units × terms count matrix (int64)."""
    topic_word = np.asarray(topic_word, dtype=float)
    doc_topic = np.asarray(doc_topic, dtype=float)
    K, V = topic_word.shape
    phi = topic_word / topic_word.sum(axis=1, keepdims=True)
    out = np.zeros((doc_topic.shape[0], V), dtype=np.int64)
    for u, n in enumerate(np.asarray(unit_tokens, dtype=np.int64)):
        theta = doc_topic[u] / doc_topic[u].sum()
        z = rng.multinomial(int(n), theta)
        for k in np.flatnonzero(z):
            out[u] += rng.multinomial(int(z[k]), phi[k])
    return out


def prevalence_attenuation(
    fit,
    unit_tokens: Sequence[int],
    doc_ids: Sequence[str],
    docvars: pd.DataFrame,
    *,
    by: str,
    a: str,
    b: str,
    refit,
    rng: np.random.Generator,
) -> pd.DataFrame:
    """How much the topic model shrinks a group difference in prevalence: a simulation from the fitted model.

    Treat the fit as the truth: draw a corpus of the same units and lengths from its φ̂ and θ̂
    (:func:`simulate_from_fit`), fit the same model to it (``refit(counts) -> (topic_word, doc_topic)``:
    same K, priors, engine and seed), match the refitted topics to the generating ones (Hungarian
    matching on Hellinger distance, :func:`analysis.topics.lda.match_topics`) and compare, per topic,
    the difference in mean document prevalence between groups ``a`` and ``b`` of the generating θ̂
    (known) with that of the refit. ``ratio`` = refit / generating difference per topic (unstable when
    the generating difference is near 0); the summary row (``topic`` = ``all``) gives in
    ``attenuation`` the least-squares slope through the origin of the refitted differences on the
    generating ones, ``Σ d̂ d / Σ d²``: 1 = differences recovered, 0.6 = shrunk by 40% (NaN when no
    generating difference exceeds 0.01: there is nothing to shrink). A slope well
    below 1 says the fitted prevalence differences (and their intervals, which carry no such bias)
    understate the true differences. It is one draw of a parametric bootstrap of the whole
    fitting procedure (Efron & Tibshirani 1993, ch. 6), aimed at its bias rather than its spread.

    What it assumes: the fitted model is the data's generating process. Short units with
    overlapping topics are where LDA's θ̂ is pulled towards the Dirichlet prior and towards
    mixtures, so their differences shrink; the simulation keeps the units' lengths and the topics'
    overlap, so it reproduces that shrinkage, but real text that departs from LDA (burstiness,
    topics that are not Dirichlet-multinomial) may shrink more. One refit: its randomness is of the
    size of the differences between seeds (the K selection's stability).
    """
    from .lda import match_topics

    doc_topic = np.asarray(fit.doc_topic, dtype=float)
    counts = simulate_from_fit(fit.topic_word, doc_topic, unit_tokens, rng)
    refit_word, refit_topic = refit(counts)
    matching = match_topics(np.asarray(fit.topic_word, dtype=float), np.asarray(refit_word, dtype=float))
    groups = docvars.loc[[str(d) for d in doc_ids], by].astype(str).to_numpy()

    def difference(theta: np.ndarray) -> np.ndarray:
        long = document_prevalence_long(theta, doc_ids, "m")
        of = long["doc_id"].map(docvars[by].astype(str))
        means = long.assign(group=of).groupby(["group", "item"])["value"].mean()
        return np.array(
            [means.get((a, k), math.nan) - means.get((b, k), math.nan) for k in range(1, theta.shape[1] + 1)]
        )

    if not ((groups == a).any() and (groups == b).any()):
        raise ValueError(f"{by} has no unit in {a!r} or {b!r}")
    generating = difference(doc_topic)
    refitted = difference(np.asarray(refit_topic, dtype=float)[:, matching["topic_b"].to_numpy()])
    rows = []
    for k in range(len(generating)):
        ratio = refitted[k] / generating[k] if abs(generating[k]) > 1e-12 else math.nan
        rows.append(
            (
                fit.name,
                str(k + 1),
                str(int(matching["topic_b"].iloc[k]) + 1),
                float(matching["similarity"].iloc[k]),
                a,
                b,
                float(generating[k]),
                float(refitted[k]),
                ratio,
                math.nan,
                "" if abs(generating[k]) > 0.01 else "generating difference under 0.01: ratio unstable",
            )
        )
    finite = np.isfinite(generating) & np.isfinite(refitted)
    denominator = float(np.sum(generating[finite] ** 2))
    slope = float(np.sum(generating[finite] * refitted[finite]) / denominator) if denominator > 0 else math.nan
    flat = not finite.any() or float(np.max(np.abs(generating[finite]))) <= 0.01
    if flat:  # no difference to shrink: the slope is a ratio of noise to noise
        slope = math.nan
    rows.append(
        (
            fit.name,
            "all",
            "",
            float(matching["similarity"].mean()),
            a,
            b,
            float(np.sum(np.abs(generating[finite]))),
            float(np.sum(np.abs(refitted[finite]))),
            math.nan,
            slope,
            (
                "no generating difference above 0.01: nothing to attenuate, no slope"
                if flat
                else (
                    "slope of refitted on generating differences (1 = recovered); differences in the column are "
                    "sums of absolute differences"
                )
            ),
        )
    )
    return pd.DataFrame(rows, columns=ATTENUATION_COLUMNS)
