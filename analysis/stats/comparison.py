"""One column schema for every two-group comparison the toolkit writes.

Frame tests (:func:`analysis.stats.groups.group_tests` with :func:`analysis.stats.groups.cluster_tests`),
actor tests (:func:`analysis.framing.tables.actor_tests_table`), chosen contrasts
(:func:`analysis.stats.contrasts.compare`, ``[[compare]]``) and keyness
(:func:`analysis.stats.keyness.comparison_table`) compare group ``a`` with group ``b`` (a group,
or ``rest``: every other document) item by item. They share the names and the order of
:data:`COMPARISON_COLUMNS`, so one reader (a plot, the appendix, the explorer, a notebook) reads
them all:

===================== ===========================================================================
column                meaning
===================== ===========================================================================
group_a, group_b      the groups compared (``b`` may be ``rest``); in keyness the *target*
                      (``a``: positive statistics mean "more frequent in a") and the *reference*
n_a, n_b              documents of each group
mean_a, mean_b        the tested quantity: the mean over documents (or over clusters, when whole
                      clusters are permuted) of the per-document rate or share
difference            ``mean_a − mean_b``
ci_low, ci_high       95% interval of the difference (keyness: Welch–Satterthwaite t)
p                     two-sided p of the difference (the unit: ``p_unit``/``design`` where given)
min_p                 the smallest p the design can give (4 against 1 document: 0.4)
q                     ``p`` adjusted within the family (``correction``: ``bh`` or ``holm``)
decided               keyness: False when the term's decision at q < 0.05 was not settled within
                      the budget of permutations (Gandy & Hahn 2014's "undecided"): its q rests on
                      the estimate of p at the budget, and more permutations could change it
correction            the adjustment of ``q``
adjusted_within       the family ``q`` is adjusted within, and how many tests it holds
cluster_by            the cluster column (outlets) of the columns below
cluster_n             clusters in the comparison
effective_clusters    Kish's effective number of clusters
icc                   intraclass correlation (ANOVA estimator)
design_effect         ``1 + (m̄ − 1) ρ``
effective_n           documents / design effect
cluster_ci_low/high   the studentized cluster-bootstrap 95% interval of the difference
mdd                   the minimum detectable difference (80% power, 5% level) of a test that is
                      not significant
too_small, note       a group under the study's minimum, and why a row should be read with care
===================== ===========================================================================

The rule that places a family's own columns (:func:`comparison_order`): the columns that name the
row first (the item: ``family, frame, label``; ``kind, actor, label``; ``contrast, measure, item,
label``; ``comparison, term, label``), then the columns of :data:`COMPARISON_COLUMNS` the table
has, in that order, up to ``mdd``; then the family's own columns in the order the family lists them
(``exact``, ``p_unit``; Mantel–Haenszel; keyness's counts, G², Log Ratio, Fightin' Words ...); then
``too_small, note``. A table has only the columns it computes ("where present"): a comparison
without outlets has no cluster columns, keyness without document permutations no ``mean_a``.
"""

from __future__ import annotations

from typing import Sequence

import pandas as pd

#: Columns a group table gains with the ``cluster`` option (before ``too_small``/``note``):
#: the column, its number of clusters, Kish's effective number of clusters, the intraclass
#: correlation and design effect, the effective number of documents, and the outlet
#: cluster-bootstrap 95% interval (of the group's mean, or of the difference in a test).
CLUSTER_COLUMNS = [
    "cluster_by",
    "cluster_n",
    "effective_clusters",
    "icc",
    "design_effect",
    "effective_n",
    "cluster_ci_low",
    "cluster_ci_high",
]

#: The core columns of a two-group comparison, in their order (see the module docstring).
COMPARISON_COLUMNS = [
    "group_a",
    "group_b",
    "n_a",
    "n_b",
    "mean_a",
    "mean_b",
    "difference",
    "ci_low",
    "ci_high",
    "p",
    "min_p",
    "q",
    "decided",
    "correction",
    "adjusted_within",
    *CLUSTER_COLUMNS,
    "mdd",
    "too_small",
    "note",
]
#: The last columns of every comparison table.
TAIL_COLUMNS = ["too_small", "note"]


def comparison_order(columns: Sequence[str], identifiers: Sequence[str] = ()) -> list[str]:
    """``columns`` in the order of the schema: ``identifiers`` (those present), the core columns
    present (:data:`COMPARISON_COLUMNS` without the tail), the others in their given order, then
    ``too_small, note``.

    >>> comparison_order(["family", "item", "group_a", "group_b", "p", "exact", "q", "note"], ["family", "item"])
    ['family', 'item', 'group_a', 'group_b', 'p', 'q', 'exact', 'note']
    """
    columns = list(columns)
    first = [c for c in identifiers if c in columns]
    core = [c for c in COMPARISON_COLUMNS if c in columns and c not in TAIL_COLUMNS and c not in first]
    tail = [c for c in TAIL_COLUMNS if c in columns]
    placed = set(first) | set(core) | set(tail)
    return first + core + [c for c in columns if c not in placed] + tail


def order_comparison(table: pd.DataFrame, identifiers: Sequence[str] = ()) -> pd.DataFrame:
    """``table`` with its columns in :func:`comparison_order`."""
    return table[comparison_order(table.columns, identifiers)]
