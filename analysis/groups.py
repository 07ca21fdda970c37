"""Statistics by group of documents: the tables a study compares groups with.

Each function takes plain data (per-document tables, count matrices, a doc_id -> group mapping)
and explicit parameters, and returns a tidy DataFrame; none reads a study or writes a file.

* :func:`frame_group_table`: frame salience by group, mean over documents with a bootstrap 95%
  interval (:func:`analysis.framing.group_means`), document and unit presence, hits and the
  share of the family's hits.
* :func:`actor_group_table`: actor salience by group, pooled mention share, mean document share
  with a bootstrap interval, first mentions in the headline/lead, voice; :func:`actor_tests_table`:
  permutation tests of documents of the difference in mean actor share between groups, BH q per
  actor kind, with outlets as clusters and the minimum detectable difference (:func:`cluster_tests`).
* :func:`keyness_by_group`: keyness (:func:`analysis.keyness.keyness`) of each pair of groups,
  or of each group against the rest when there are more than two; :func:`top_keyness` keeps the
  strongest terms each way per comparison.
* :func:`prevalence_by`: mean topic share by group with a studentized cluster bootstrap
  (:func:`analysis.topics.prevalence`) for each grouping column.

Randomness: every interval draws from its own generator keyed by ``seed`` and its labels
(:func:`analysis.framing.keyed_rng`), so adding, removing or reordering a group, a column or an
item never changes another row's interval. Bad parameters raise ``ValueError``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from . import keyness as _keyness
from .dtm import DocTermMatrix
from .framing import LEAD, MIN_GROUP_DOCS, _size_note, bootstrap_ci, group_means, group_order, group_pairs, keyed_rng
from .topics import prevalence

#: Columns every keyness comparison row carries besides the keyness statistics.
COMPARISON_COLUMNS = ["comparison", "target", "reference", "target_docs", "reference_docs", "too_small", "note"]


def _positive(name: str, value: int, low: int = 1) -> None:
    if not isinstance(value, (int, np.integer)) or value < low:
        raise ValueError(f"{name} = {value!r} must be a whole number >= {low}")


def too_small_note(sizes: Mapping[str, int], min_docs: int) -> str:
    """``"too small: en has 2 documents (fewer than 20; ...)"``, or "" when every group is big enough.

    >>> too_small_note({"vi": 3, "en": 1}, 2)
    'too small: en has 1 document (fewer than 2; below it, 95% intervals cover less than 93% in simulation)'
    """
    return _size_note(sizes, min_docs)


# ---------------------------------------------------------------------------------- frames


def frame_group_table(docs: pd.DataFrame, units: pd.DataFrame, groups: Mapping[str, str], order: Sequence[str],
                      labels: Mapping[str, str], n_resamples: int, seed: int, min_docs: int = MIN_GROUP_DOCS, rate: str = "per_1000") -> pd.DataFrame:
    """Frame salience by group.

    Parameters
    ----------
    docs, units : DataFrame
        :func:`analysis.framing.frame_salience` per document and per unit.
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
        ``per_100_sentences`` (across languages, issue 12); the mean column is ``mean_<rate>``.

    Returns
    -------
    DataFrame
        ``family, frame, label, group, n_docs, mean_per_1000, ci_low, ci_high, doc_presence,
        unit_presence, hits, hit_share, too_small, note``: the mean over documents of hits per
        1,000 counted tokens with a studentized bootstrap 95% interval, the share of documents
        (units) where the frame is present, its hits and their share of the family's hits.
    """
    _positive("n_resamples", n_resamples)
    long = docs.rename(columns={"frame": "item", rate: "value"})[["doc_id", "family", "item", "value"]]
    means = group_means(long, groups, order, n_resamples, seed, min_docs)
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

ACTOR_GROUP_COLUMNS = ["actor", "label", "kind", "group", "n_docs", "docs_mentioning", "mentions", "mention_share", "mean_doc_share",
                       "ci_low", "ci_high", "first_in_lead", "lead_share", "statements", "voice_share", "too_small", "note"]


def _share(part: float, whole: float) -> float:
    return part / whole if whole else 0.0


def actor_group_table(actors: pd.DataFrame, groups: Mapping[str, str], order: Sequence[str], labels: Mapping[str, str],
                      n_resamples: int, seed: int, min_docs: int = MIN_GROUP_DOCS) -> pd.DataFrame:
    """Actor salience by group, for every actor mentioned anywhere.

    ``actors`` is :func:`analysis.framing.actor_salience`'s per-document table. Per actor and
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
            low, high = bootstrap_ci(shares, n_resamples, keyed_rng(seed, "actor", actor, group), support=(0.0, 1.0))
            docs_mentioning = int((rows["mentions"] > 0).sum())
            lead = int((rows["first_position"] == LEAD).sum())
            records.append((actor, labels.get(actor, actor), rows["kind"].iloc[0] if n else "", group, n, docs_mentioning, mentions,
                            _share(mentions, int(all_rows["mentions"].sum())), float(shares.mean()) if n else np.nan, low, high,
                            lead, _share(lead, docs_mentioning), statements, _share(statements, int(all_rows["statements"].sum())),
                            n < min_docs, too_small_note({group: n}, min_docs)))
    return pd.DataFrame(records, columns=ACTOR_GROUP_COLUMNS)


#: Columns of :func:`actor_tests_table` (``cluster_by ... cluster_ci_high`` only with a cluster column).
ACTOR_TEST_COLUMNS = ["kind", "actor", "label", "group_a", "group_b", "n_a", "n_b", "mean_a", "mean_b", "difference", "p", "min_p", "exact",
                      "q", "cluster_by", "cluster_n", "effective_clusters", "icc", "design_effect", "effective_n",
                      "cluster_ci_low", "cluster_ci_high", "mdd", "too_small", "note"]


def actor_tests_table(actors: pd.DataFrame, groups: Mapping[str, str], order: Sequence[str], labels: Mapping[str, str], n_permutations: int,
                      seed: int, min_docs: int = MIN_GROUP_DOCS, clusters: Mapping[str, str] | None = None, column: str = "",
                      n_resamples: int = 2000, alpha: float = 0.05, mdd_simulations: int | None = None) -> pd.DataFrame:
    """Between-group tests of actor salience: the difference in the mean document share of each actor.

    The actor analogue of the frame tests (``frame_tests_by_<by>``): per actor mentioned anywhere
    (the rows of :func:`actor_group_table`) and pair of groups (the two groups, or each against
    the rest), the difference in the mean over documents of ``mention_share`` (the actor's share
    of the document's actor mentions; 0 in a document without actor mentions) with a two-sided
    permutation test of documents (:func:`analysis.framing.group_tests`: exact when the splits are
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
    from .framing import group_tests

    _positive("n_permutations", n_permutations)
    _positive("n_resamples", n_resamples)
    mentioned = set(actors.loc[actors["mentions"] > 0, "actor"])
    rows = actors[actors["actor"].isin(mentioned)]
    long = rows.rename(columns={"kind": "family", "actor": "item", "mention_share": "value"})[["doc_id", "family", "item", "value"]]
    tests = group_tests(long, groups, order, n_permutations, seed, min_docs)
    tests = cluster_tests(tests, long, groups, clusters, column, n_resamples, seed, alpha,
                          MDD_SIMULATIONS if mdd_simulations is None else mdd_simulations)
    tests.insert(2, "label", tests["item"].map(lambda a: labels.get(a, a)))
    tests = tests.rename(columns={"family": "kind", "item": "actor"})
    return tests[ACTOR_TEST_COLUMNS if column else [c for c in ACTOR_TEST_COLUMNS if c not in CLUSTER_COLUMNS]].reset_index(drop=True)


# --------------------------------------------------------------------------------- keyness


@dataclass(frozen=True)
class Comparison:
    """One keyness comparison: ``target`` against ``reference`` (a group, or ``"rest"``)."""

    target: str
    reference: str
    target_docs: int
    reference_docs: int
    table: pd.DataFrame  # analysis.keyness.keyness of the two groups' summed counts (document_keyness: p from documents)

    @property
    def name(self) -> str:
        return f"{self.target} vs {self.reference}"


def column_sums(counts, rows: list[int] | None = None) -> np.ndarray:
    """Integer column sums of the given rows, or of all rows (dense or scipy sparse ``counts``)."""
    if rows is not None and not rows:
        return np.zeros(counts.shape[1], dtype=np.int64)
    return np.asarray((counts if rows is None else counts[rows]).sum(axis=0), dtype=np.int64).ravel()


def keyness_comparisons(counts, doc_ids: Sequence[str], vocab: Sequence[str], groups: Mapping[str, str], order: Sequence[str] | None = None,
                        correction: str = "none", alpha0: float = 100.0, n_resamples: int | None = None,
                        rng: np.random.Generator | None = None, clusters: Mapping[str, str] | None = None) -> list[Comparison]:
    """Keyness of each pair of groups (:func:`analysis.framing.group_pairs`).

    ``counts`` is a (documents × terms) array or scipy sparse matrix with rows in ``doc_ids``
    order; it stays sparse (densifying 2,000 documents × 110,000 terms took 1.8 GB). With
    ``n_resamples`` and ``rng``, p and q come from permuting documents (or ``clusters``, doc_id ->
    cluster such as the outlet) between the groups (:func:`analysis.keyness.document_keyness`,
    the study's inference); without, from pooled tokens (:func:`analysis.keyness.keyness`).
    """
    if correction not in _keyness.CORRECTIONS:
        raise ValueError(f"correction = {correction!r} is not one of {', '.join(_keyness.CORRECTIONS)}")
    if not (np.isfinite(alpha0) and alpha0 > 0):
        raise ValueError(f"alpha0 = {alpha0!r} must be a positive finite number")
    order = list(order) if order is not None else group_order(groups.values())
    if n_resamples is not None:
        _positive("n_resamples", n_resamples)
        if rng is None:
            raise ValueError("n_resamples needs rng, the generator of the permuted splits")
        pairs = group_pairs(order)
        if not pairs:
            return []
        rows = [i for i, d in enumerate(doc_ids) if groups.get(d) in order]
        labels = [groups[doc_ids[i]] for i in rows]
        cluster_labels = None if clusters is None else [str(clusters[doc_ids[i]]) for i in rows]
        tables = _keyness.document_keyness(counts[rows], labels, vocab, pairs, n_resamples, rng, cluster_labels, correction, alpha0)
        sizes = [sum(1 for g in labels if g == target) for target, _ in pairs]
        return [Comparison(t, r, n_t, len(labels) - n_t, table) for (t, r), n_t, table in zip(pairs, sizes, tables)]
    results = []
    for target, reference in group_pairs(order):
        t_rows = [i for i, d in enumerate(doc_ids) if groups.get(d) == target]
        r_rows = [i for i, d in enumerate(doc_ids) if (groups.get(d) != target if reference == "rest" else groups.get(d) == reference)]
        table = _keyness.keyness(column_sums(counts, t_rows), column_sums(counts, r_rows), vocab, correction, alpha0)
        results.append(Comparison(target, reference, len(t_rows), len(r_rows), table))
    return results


def keyness_columns(labelled: bool = False, documents: bool = False) -> list[str]:
    """Columns of :func:`comparison_table`: comparison, target, reference, sizes, term[, label], statistics, too_small, note.

    ``documents``: the statistics of :func:`analysis.keyness.document_keyness` (adds ``p_tokens,
    min_p, design``)."""
    stats = [c for c in (_keyness.DOCUMENT_KEYNESS_COLUMNS if documents else _keyness.KEYNESS_COLUMNS) if c != "term"]
    return COMPARISON_COLUMNS[:5] + ["term"] + (["label"] if labelled else []) + stats + COMPARISON_COLUMNS[5:]


def comparison_table(comparisons: Sequence[Comparison], min_docs: int = MIN_GROUP_DOCS, labels: Mapping[str, str] | None = None,
                     top_n: int | None = None, empty_note: str = "nothing to compare") -> pd.DataFrame:
    """Every comparison's keyness rows stacked into one table (:func:`keyness_columns`).

    ``labels`` adds a ``label`` column (term -> label, the term itself when unlabelled);
    ``top_n`` keeps the ``top_n`` strongest terms each way per comparison. With no comparison
    the table is one row whose ``note`` is ``empty_note``.
    """
    columns = keyness_columns(labels is not None, any("p_tokens" in c.table.columns for c in comparisons))
    parts = []
    for c in comparisons:
        table = c.table
        if labels is not None:
            table = table.assign(label=table["term"].map(lambda t: labels.get(t, t)))
        if top_n is not None:
            table = _keyness.top_keyness(table, top_n)
        note = too_small_note({c.target: c.target_docs, c.reference: c.reference_docs}, min_docs)
        parts.append(table.assign(comparison=c.name, target=c.target, reference=c.reference, target_docs=c.target_docs,
                                  reference_docs=c.reference_docs, too_small=bool(note), note=note))
    if parts:
        return pd.concat(parts, ignore_index=True)[columns]
    row = {c: "" for c in columns}
    row.update({"note": empty_note, "too_small": True})
    return pd.DataFrame([row], columns=columns)


#: Defaults of :func:`keyness_by_group`'s document-level test: ``[framing] permutations`` and
#: ``[framing] seed`` of a study that leaves them unset (tests check they agree).
KEYNESS_RESAMPLES = 5000
KEYNESS_SEED = 20240404


def keyness_by_group(counts, groups, order: Sequence[str] | None = None, correction: str = "none", alpha0: float = 100.0,
                     min_docs: int = MIN_GROUP_DOCS, labels: Mapping[str, str] | None = None, n_resamples: int | None = KEYNESS_RESAMPLES,
                     seed: int = KEYNESS_SEED, clusters=None, stream: str | None = None) -> pd.DataFrame:
    """Keyness of terms (or concepts) between groups of documents.

    Two groups are compared with each other; with more, each group against the rest. By default
    p and q come from permuting documents between the groups, as the framing stage reports them
    (the document, not the token, is the unit of independent information).

    Parameters
    ----------
    counts : DataFrame (documents × terms) or DocTermMatrix
        Counts per document, e.g. :func:`analysis.framing.concept_counts` or a study's ``dtm()``.
    groups : Series or mapping doc_id -> group
        e.g. ``corpus.docvars["language"]``; documents without a group are left out.
    order : sequence of str, optional
        Group order (the first of two groups is the target); default sorted.
    correction : {"none", "yates", "williams"}
    alpha0 : float
        Fightin' Words prior strength (Monroe et al. 2008).
    min_docs : int
        Comparisons with a smaller group are flagged ``too_small``.
    labels : mapping term -> label, optional
        Adds a ``label`` column.
    n_resamples : int or None
        Permutations of documents for p and q (:func:`analysis.keyness.document_keyness`, what the
        framing stage reports): ``p = (1 + #{|G2*| >= |G2|}) / (1 + n_resamples)`` per term, with
        the smallest p the design allows in ``min_p``; default 5000, as ``[framing] permutations``.
        ``None``: p is the pooled-token χ² p of G² instead, which treats tokens as independent
        (read it as descriptive only).
    seed : int
        Seed of the permutations (default ``[framing] seed``'s default).
    clusters : Series or mapping doc_id -> cluster, optional
        Permute clusters (e.g. outlets) instead of documents (with ``n_resamples``).
    stream : str, optional
        Name of the random stream (``keyed_rng(seed, "keyness", stream)``): the framing stage uses
        ``"concepts_by_<compare_by>"`` for concepts and ``"words_<lang>_by_<var>"`` for words, so
        passing the same ``seed``, ``n_resamples`` and ``stream`` gives the stage's p exactly.

    Returns
    -------
    DataFrame
        One row per comparison and term: :func:`keyness_columns` (signed G2 and chi2, p, BH q,
        Log Ratio, Fightin' Words delta and z; positive = more frequent in the target; with
        ``n_resamples`` also ``p_tokens, min_p, design``).

    Raises ``ValueError`` for an unknown ``correction``, a non-positive ``alpha0``,
    ``min_docs`` or ``n_resamples``.

    Examples
    --------
    >>> import pandas as pd
    >>> counts = pd.DataFrame({"hợp_tác": [4, 3, 0, 1], "biển": [0, 1, 5, 4]}, index=["v1", "v2", "e1", "e2"])
    >>> table = keyness_by_group(counts, {"v1": "vi", "v2": "vi", "e1": "en", "e2": "en"}, order=["vi", "en"], min_docs=1)
    >>> print(table[["comparison", "term", "target_count", "reference_count", "g2", "p", "design"]].round(2).to_string(index=False))
    comparison    term  target_count  reference_count    g2    p    design
      vi vs en hợp_tác             7                1  12.2 0.33 documents
      vi vs en    biển             1                9 -12.2 0.33 documents

    (the G2 of the 2 × 2 table [[7, 1], [1, 9]], as ``scipy.stats.chi2_contingency`` with
    ``lambda_="log-likelihood"`` gives it; p = 1/3: two documents a side allow only 6 splits, of
    which 2 are as extreme). The pooled-token p (descriptive) instead:

    >>> float(keyness_by_group(counts, {"v1": "vi", "v2": "vi", "e1": "en", "e2": "en"}, order=["vi", "en"], min_docs=1, n_resamples=None)["p"].iloc[0]) < 0.001
    True
    """
    if isinstance(counts, DocTermMatrix):
        matrix, doc_ids, vocab = counts.counts, list(counts.row_ids), list(counts.vocab)
    else:
        matrix, doc_ids, vocab = counts.to_numpy(), list(counts.index), list(counts.columns)
    groups = {str(d): str(g) for d, g in dict(groups).items()}
    _positive("min_docs", min_docs)
    rng = keyed_rng(seed, "keyness", *([stream] if stream else [])) if n_resamples is not None else None
    clusters = None if clusters is None else {str(d): str(c) for d, c in dict(clusters).items()}
    comparisons = keyness_comparisons(matrix, doc_ids, vocab, groups, order, correction, alpha0, n_resamples, rng, clusters)
    return comparison_table(comparisons, min_docs, labels)


def top_keyness(table: pd.DataFrame, n: int, by: str = "g2") -> pd.DataFrame:
    """The ``n`` most positive and ``n`` most negative rows by ``by``, per comparison.

    Works on :func:`keyness_by_group`'s table (per ``comparison``) and on a single
    :func:`analysis.keyness.keyness` table alike. Positive rows first (largest first), then
    negative rows (most negative last).

    >>> table = pd.DataFrame({"comparison": ["vi vs en"] * 3, "term": ["hợp_tác", "biển", "ở"], "g2": [8.0, -8.0, 0.5]})
    >>> top_keyness(table, 1)["term"].tolist()
    ['hợp_tác', 'biển']
    """
    _positive("n", n)
    if "comparison" not in table.columns:
        return _keyness.top_keyness(table, n, by)
    parts = [_keyness.top_keyness(rows, n, by) for _, rows in table.groupby("comparison", sort=False)]
    return pd.concat(parts, ignore_index=True) if parts else table.iloc[:0]


# ------------------------------------------------------------------------------ prevalence

PREVALENCE_COLUMNS = ["model", "group_by", "group", "topic", "units", "clusters", "prevalence", "ci_low", "ci_high", "note"]


def prevalence_by(doc_topic: np.ndarray, doc_ids: Sequence[str], docvars: pd.DataFrame, by: Sequence[str], n_resamples: int, seed: int,
                  model: str = "", unit_ids: Sequence[str] | None = None, cluster: str = "") -> pd.DataFrame:
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
        (:func:`analysis.models.design_effect`) and the studentized cluster-bootstrap interval
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
        table = prevalence(doc_topic, docvars.loc[list(doc_ids), column].astype(str).tolist(), clusters, rng, n_resamples)
        if cluster:
            table = _cluster_prevalence(table, doc_topic, doc_ids, docvars, column, cluster, n_resamples, keyed_rng(seed, "prevalence", model, column, "cluster", cluster))
        table.insert(0, "group_by", column)
        table.insert(0, "model", model)
        frames.append(table)
    if frames:
        return pd.concat(frames, ignore_index=True)
    return pd.DataFrame(columns=PREVALENCE_COLUMNS[:-1] + CLUSTER_COLUMNS + PREVALENCE_COLUMNS[-1:] if cluster else PREVALENCE_COLUMNS)


def _cluster_prevalence(table: pd.DataFrame, doc_topic: np.ndarray, doc_ids: Sequence[str], docvars: pd.DataFrame, column: str, cluster: str,
                        n_resamples: int, rng: np.random.Generator) -> pd.DataFrame:
    """:func:`prevalence_by`'s table of one column with :data:`CLUSTER_COLUMNS` (outlets as clusters)."""
    from .models import design_effect

    if cluster not in docvars.columns:
        rows = [{**dict.fromkeys(CLUSTER_COLUMNS, math.nan), "cluster_by": cluster} for _ in range(len(table))]
        return _with_cluster_columns(table, rows, [_missing_note(cluster)] * len(table))
    groups = docvars.loc[list(doc_ids), column].astype(str).to_numpy(dtype=object)
    outlets = docvars.loc[list(doc_ids), cluster].astype(str).to_numpy(dtype=object)
    by_outlet = prevalence(doc_topic, groups, outlets, rng, n_resamples).set_index(["group", "topic"])
    rows, notes = [], []
    for group, topic in zip(table["group"], table["topic"]):
        members = groups == group
        de = design_effect(doc_topic[members, int(topic) - 1], outlets[members])
        outlet_row = by_outlet.loc[(group, topic)]
        rows.append(dict(cluster_by=cluster, cluster_n=de["clusters"], effective_clusters=de["effective_clusters"], icc=de["icc"],
                         design_effect=de["design_effect"], effective_n=de["effective_n"], cluster_ci_low=outlet_row["ci_low"],
                         cluster_ci_high=outlet_row["ci_high"]))
        n = de["clusters"]
        notes.append(f"{n} {cluster} cluster: no cluster bootstrap (it needs at least 2)" if n < 2 else
                     (f"{n} {cluster} clusters (fewer than {MIN_CLUSTERS}): cluster intervals need many more" if n < MIN_CLUSTERS else ""))
    return _with_cluster_columns(table, rows, notes)


# ------------------------------------------------------------------------- outlets as clusters

#: Columns a group table gains with the ``cluster`` option (before ``too_small``/``note``):
#: the column, its number of clusters, Kish's effective number of clusters, the intraclass
#: correlation and design effect, the effective number of documents, and the outlet
#: cluster-bootstrap 95% interval (of the group's mean, or of the difference in a test).
CLUSTER_COLUMNS = ["cluster_by", "cluster_n", "effective_clusters", "icc", "design_effect", "effective_n", "cluster_ci_low", "cluster_ci_high"]

#: Clusters per group below which the row note says cluster intervals need many more. Set when the
#: outlet cluster bootstrap was a percentile one, which covered a difference 0.88 of the time with
#: 5 outlets per group and 0.93 with 10 (benchmarks/interval_coverage.py; benchmarks/README.md).
#: The studentized one that replaced it covers 0.95 or more from 5 in the same simulation (one
#: scenario: normal outlet effects, ICC 0.2), so the threshold is kept as a conservative warning.
MIN_CLUSTERS = 10

#: Simulated samples per candidate difference of :func:`analysis.models.minimum_detectable_difference`.
MDD_SIMULATIONS = 200


def cluster_labels(docvars: pd.DataFrame, column: str) -> dict[str, str] | None:
    """doc_id -> the value of ``column`` (e.g. the outlet), or None when the metadata lacks the column."""
    if not column or column not in docvars.columns:
        return None
    return {str(d): str(v) for d, v in docvars[column].items()}


def _missing_note(column: str) -> str:
    return f"no {column} column in the metadata: no cluster bootstrap, documents treated as independent"


def cluster_mean(values: np.ndarray, clusters: np.ndarray, n_resamples: int, rng: np.random.Generator, column: str,
                 support: tuple[float, float] = (0.0, math.inf)) -> tuple[dict, str]:
    """One group's mean with outlets as clusters: :data:`CLUSTER_COLUMNS` and a note ("" when fine).

    The design effect and effective sizes are :func:`analysis.models.design_effect` (ANOVA ICC,
    Kish's ``1 + (m̄ − 1) ρ``); the interval is the studentized cluster bootstrap of the mean
    (:func:`analysis.resampling.studentized_interval` on the clusters' sums and sizes: whole
    outlets resampled with replacement), cut to ``support``. Fewer than 2 clusters: no interval.
    """
    from .models import design_effect
    from .resampling import studentized_interval

    values = np.asarray(values, dtype=float)
    clusters = np.asarray(clusters, dtype=object)
    row = dict.fromkeys(CLUSTER_COLUMNS, math.nan)
    row["cluster_by"] = column
    if not len(values):
        return row, ""
    de = design_effect(values, clusters)
    row.update(cluster_n=de["clusters"], effective_clusters=de["effective_clusters"], icc=de["icc"], design_effect=de["design_effect"],
               effective_n=de["effective_n"])
    names, codes = np.unique(clusters.astype(str), return_inverse=True)
    if len(names) < 2:
        return row, f"{len(names)} {column} cluster: no cluster bootstrap (it needs at least 2)"
    sums = np.bincount(codes, weights=values, minlength=len(names))
    sizes = np.bincount(codes, minlength=len(names)).astype(float)
    row["cluster_ci_low"], row["cluster_ci_high"] = studentized_interval(sums, n_resamples, rng, sizes=sizes, support=support)
    note = f"{len(names)} {column} clusters (fewer than {MIN_CLUSTERS}): cluster intervals need many more" if len(names) < MIN_CLUSTERS else ""
    return row, note


def _join(*notes: str) -> str:
    return "; ".join(n for n in notes if n)


def _with_cluster_columns(table: pd.DataFrame, rows: list[dict], notes: list[str]) -> pd.DataFrame:
    """``table`` with :data:`CLUSTER_COLUMNS` inserted before ``too_small`` and each row's note extended."""
    before = table.columns.get_loc("too_small") if "too_small" in table.columns else table.columns.get_loc("note")
    extra = pd.DataFrame(rows, columns=CLUSTER_COLUMNS, index=table.index)
    out = pd.concat([table.iloc[:, :before], extra, table.iloc[:, before:]], axis=1)
    out["note"] = [_join(str(old) if isinstance(old, str) else "", new) for old, new in zip(out["note"], notes)]
    return out


def cluster_group_table(table: pd.DataFrame, long: pd.DataFrame, groups: Mapping[str, str], clusters: Mapping[str, str] | None,
                        column: str, n_resamples: int, seed: int, item: str = "item", support: tuple[float, float] = (0.0, math.inf)) -> pd.DataFrame:
    """A per-group table (one row per item and group: :func:`frame_group_table`, :func:`actor_group_table`)
    with :data:`CLUSTER_COLUMNS` from :func:`cluster_mean` of each row's documents.

    ``long``: ``doc_id, item, value`` per document and item (the values averaged in the table's
    mean column); ``table[item]`` and ``table["group"]`` find a row's documents. Generators are
    keyed ``(seed, "cluster", item, group)``: the table's own intervals keep their streams.
    ``clusters`` None (the metadata has no such column): the columns are NaN and the note says so.
    """
    rows, notes = [], []
    by_item = {key: frame for key, frame in long.groupby("item", sort=False)}
    for name, group in zip(table[item], table["group"]):
        if clusters is None:
            rows.append({**dict.fromkeys(CLUSTER_COLUMNS, math.nan), "cluster_by": column})
            notes.append(_missing_note(column))
            continue
        frame = by_item.get(name, long.iloc[0:0])
        frame = frame[frame["doc_id"].map(groups) == group]
        row, note = cluster_mean(frame["value"].to_numpy(dtype=float), frame["doc_id"].map(clusters).to_numpy(dtype=object), n_resamples,
                                 keyed_rng(seed, "cluster", str(name), str(group)), column, support)
        rows.append(row)
        notes.append(note)
    return _with_cluster_columns(table, rows, notes)


def cluster_tests(tests: pd.DataFrame, long: pd.DataFrame, groups: Mapping[str, str], clusters: Mapping[str, str] | None, column: str,
                  n_resamples: int, seed: int, alpha: float = 0.05, mdd_simulations: int = MDD_SIMULATIONS) -> pd.DataFrame:
    """Group tests (:func:`analysis.framing.group_tests`) with outlets as clusters and the minimum detectable difference.

    Per test row (item, ``group_a`` against ``group_b`` or ``"rest"``):

    * with ``column`` set: :data:`CLUSTER_COLUMNS` for the pair's documents. ρ and the design effect
      (:func:`analysis.models.design_effect`) are estimated on the values centred at their group's
      mean, so the difference under test is not counted as between-outlet variation; the interval
      is the studentized (bootstrap-t) outlet cluster bootstrap of ``mean_a − mean_b``
      (:func:`analysis.models.cluster_bootstrap_difference`: whole outlets resampled, within each
      group when outlets nest in groups), generator keyed ``(seed, "cluster", family, item, a, b)``.
      A group with fewer than 2 outlets: no interval, and the note says so; fewer than
      :data:`MIN_CLUSTERS`: the note says the interval needs many more.
    * ``mdd``, where the test is not significant (``q`` ≥ ``alpha``, or ``p`` when ``q`` is NaN): the
      smallest true difference a 5% test detects with 80% power at these sizes, by simulation
      from the pooled within-group standard deviation, the ICC and the mean outlet size
      (:func:`analysis.models.minimum_detectable_difference`; ICC 0 without clusters), so
      "no difference" can be read as "no difference larger than mdd". NaN for a significant row,
      and for fewer than 2 documents a side or no variation.

    The cluster columns (only with ``column``) and then ``mdd`` are inserted before ``too_small``.
    """
    from .models import cluster_bootstrap_difference, design_effect, minimum_detectable_difference

    rows, notes, mdds = [], [], []
    by_item = {key: frame for key, frame in long.groupby(["family", "item"], sort=False)}
    for _, test in tests.iterrows():
        a, b = str(test["group_a"]), str(test["group_b"])
        frame = by_item.get((test["family"], test["item"]), long.iloc[0:0])
        of = frame["doc_id"].map(groups)
        in_a = (of == a).to_numpy()
        in_b = (~in_a & of.notna().to_numpy()) if b == "rest" else (of == b).to_numpy()
        keep = in_a | in_b
        values = frame["value"].to_numpy(dtype=float)[keep]
        labels = np.where(in_a[keep], a, b).astype(object)
        centred = values.copy()
        for g in (a, b):
            side = labels == g
            if side.any():
                centred[side] -= values[side].mean()
        icc, m_bar, note = 0.0, 1.0, ""
        row = {**dict.fromkeys(CLUSTER_COLUMNS, math.nan), "cluster_by": column}
        if column and clusters is None:
            note = _missing_note(column)
        elif column:
            outlets = frame["doc_id"].map(clusters).to_numpy(dtype=object)[keep]
            de = design_effect(centred, outlets)
            row.update(cluster_n=de["clusters"], effective_clusters=de["effective_clusters"], icc=de["icc"], design_effect=de["design_effect"],
                       effective_n=de["effective_n"])
            icc, m_bar = de["icc"], de["mean_cluster_size"]
            per_group = [len(set(outlets[labels == g])) for g in (a, b)]
            if min(per_group) < 2:
                note = f"{min(per_group)} {column} cluster(s) in a group: no cluster bootstrap (it needs at least 2 per group)"
            else:
                row["cluster_ci_low"], row["cluster_ci_high"] = cluster_bootstrap_difference(
                    values, labels, outlets, a, b, n_resamples, keyed_rng(seed, "cluster", str(test["family"]), str(test["item"]), a, b))
                if min(per_group) < MIN_CLUSTERS:
                    note = f"{min(per_group)} {column} clusters in the smaller group (fewer than {MIN_CLUSTERS}): cluster intervals need many more"
        q = test["q"] if pd.notna(test["q"]) else test["p"]
        n_a, n_b = int((labels == a).sum()), int((labels == b).sum())
        sd = float(np.sqrt((centred**2).sum() / (len(centred) - 2))) if len(centred) > 2 else math.nan
        mdd = math.nan
        if pd.notna(q) and q >= alpha and n_a >= 2 and n_b >= 2 and math.isfinite(sd) and sd > 0:
            mdd = minimum_detectable_difference(sd, n_a, n_b, icc=icc, cluster_size=m_bar, n_simulations=mdd_simulations,
                                                rng=keyed_rng(seed, "mdd", str(test["family"]), str(test["item"]), a, b))
        rows.append(row)
        notes.append(note)
        mdds.append(mdd)
    out = _with_cluster_columns(tests.copy(), rows, notes) if column else tests.copy()
    out.insert(out.columns.get_loc("too_small"), "mdd", mdds)
    return out
