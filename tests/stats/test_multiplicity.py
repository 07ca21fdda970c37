"""analysis.stats.multiplicity: adjusted p-values, the family each table states, the declared primary comparison."""

from __future__ import annotations

import numpy as np
import pandas as pd
from statsmodels.stats.multitest import multipletests

from analysis.stats import multiplicity as mp
from analysis.stats.groups import distribution_tests


def test_adjust_equals_statsmodels():
    p = np.array([0.001, 0.02, 0.03, 0.2, 0.04])
    for method, name in (("holm", "holm"), ("bh", "fdr_bh")):
        np.testing.assert_allclose(mp.adjust(p, method), multipletests(p, method=name)[1])


def test_declared_family_counts_the_tests_with_a_p_value_per_family():
    table = pd.DataFrame(
        {
            "family": ["economy"] * 3 + ["security"] * 2,
            "group_a": "vi",
            "group_b": "en",
            "p": [0.01, 0.2, np.nan, 0.5, 0.03],
            "too_small": False,
        }
    )
    out = mp.declare_family(
        table, keys=["family", "group_a", "group_b"], within="{family}: {group_a} vs {group_b}", correction="bh"
    )
    assert out["adjusted_within"].tolist() == [
        "economy: vi vs en (2 tests)",
        "economy: vi vs en (2 tests)",
        "no p-value",
        "security: vi vs en (2 tests)",
        "security: vi vs en (2 tests)",
    ]
    assert list(out.columns) == ["family", "group_a", "group_b", "p", "correction", "adjusted_within", "too_small"]


def test_pooled_hit_chi2_is_holm_adjusted_across_families_and_says_so():
    hits = pd.DataFrame(
        {
            "doc_id": ["v1", "v1", "e1", "e1", "v1", "e1", "v1", "e1"],
            "family": ["f1"] * 4 + ["f2"] * 4,
            "item": ["a", "b", "a", "b", "c", "c", "d", "d"],
            "value": [30, 2, 3, 25, 10, 12, 4, 5],
        }
    )
    table = distribution_tests(hits, {"v1": "vi", "e1": "en"}, order=["vi", "en"], min_docs=1)
    np.testing.assert_allclose(table["q"], multipletests(table["p"], method="holm")[1])
    assert (table["correction"] == "holm").all() and (
        table["adjusted_within"] == "every family: vi vs en (2 tests)"
    ).all()


def test_primary_rows_match_item_and_pair():
    table = pd.DataFrame(
        {"frame": ["trade", "trade", "sea"], "group_a": ["vi", "vi", "vi"], "group_b": ["en", "rest", "en"]}
    )
    assert mp.primary_parts("frame_tests_by_language:trade:vi-en") == ("frame_tests_by_language", "trade", "vi-en")
    assert mp.primary_rows(table, "trade").tolist() == [True, True, False]
    assert mp.primary_rows(table, "trade", "vi-en").tolist() == [True, False, False]
    topics = pd.DataFrame({"model": ["joint"] * 2, "topic": [1, 2]})
    assert mp.primary_rows(topics, "2").tolist() == [False, True]
    roles = mp.mark_roles(table.assign(adjusted_within="x"), np.array([True, False, False]))
    assert roles["role"].tolist() == [mp.CONFIRMATORY, mp.EXPLORATORY, mp.EXPLORATORY]
