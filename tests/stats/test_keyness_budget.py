"""The stated budget of the keyness permutations (analysis/stats/resampling.py ``MAX_RESAMPLES``): terms whose
Benjamini–Hochberg decision is not settled when the budget is spent are undecided (q on the estimates by
default; counted as not rejected with ``p_conservative``); the level under a complete null with a budget that
binds, both readings; the column in the keyness tables; the sparse product's sums equal the dense ones."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from analysis.stats.comparison import comparison_order
from analysis.stats.keyness import document_keyness, keyness_columns
from analysis.stats.resampling import bh_rejected, clopper_pearson, decision_points, permutation_keyness


def sparse_table(rng: np.random.Generator, n_docs: int, n_terms: int, key: int, effect: float):
    """Sparse bursty Poisson counts; the first ``key`` terms ``1 + effect · U(0, 1)`` times as frequent in the
    first half of the documents (the target ``a``): strong and weak ones, some at the BH boundary."""
    base = rng.gamma(0.6, 1.0, n_terms)
    boost = np.ones((n_docs, n_terms))
    boost[: n_docs // 2, :key] = 1.0 + effect * rng.uniform(0.0, 1.0, key)
    X = rng.poisson(base * boost * rng.gamma(2.0, 0.5, (n_docs, 1)))
    X[:, -1] += 40  # every document has tokens
    return X, np.array(["a"] * (n_docs // 2) + ["b"] * (n_docs - n_docs // 2))


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 10_000), st.integers(0, 40), st.sampled_from([150, 300, 600]))
def test_no_undecided_term_is_rejected_and_every_other_decision_is_bh_on_the_reported_p(seed, key, budget):
    """q (BH on ``p_conservative``) is never below 0.05 for an undecided term; ``p_conservative`` equals
    ``p`` for every decided term and is the Clopper-Pearson upper end (at least ``p``) for an undecided one."""
    X, labels = sparse_table(np.random.default_rng(seed), 40, 120, key, 6.0)
    r = permutation_keyness(X, labels, ["a"], n_resamples=60, rng=np.random.default_rng(seed), max_resamples=budget)
    family = X.sum(axis=0) > 0
    decided, p, bound = r.decided[0], r.p[0], r.p_conservative[0]
    np.testing.assert_array_equal(bound[decided], p[decided])
    assert (bound[~decided] >= p[~decided]).all()
    rejected = np.zeros(len(p), dtype=bool)
    rejected[family] = bh_rejected(bound[family], 0.05)
    assert not (rejected & ~decided).any()
    assert (r.splits[0][~decided] == r.resamples).all()  # undecided terms saw the whole budget
    if (~decided).any():
        points = decision_points(60, r.resamples)
        error = 1e-3 / family.sum() / (len(points) + 1)
        g = np.round(p[~decided] * (r.resamples + 1) - 1)
        np.testing.assert_allclose(bound[~decided], clopper_pearson(g, r.resamples, error)[1])


def test_the_budget_binds_and_leaves_boundary_terms_undecided():
    """A table with key terms of every strength (364 tested): within 400 splits 92 terms are undecided and
    none rejected (0 exceedances in 400 splits allow p up to 0.04 at the intervals' coverage, far above BH's
    0.05 k / m), within the floor of 20 m = 7,280 splits every term is decided and 53 are rejected: the power
    a budget too small for m costs."""
    X, labels = sparse_table(np.random.default_rng(3), 60, 400, 120, 4.0)
    small = permutation_keyness(X, labels, ["a"], n_resamples=100, rng=np.random.default_rng(1), max_resamples=400)
    large = permutation_keyness(X, labels, ["a"], n_resamples=100, rng=np.random.default_rng(1), max_resamples=50_000)
    family = X.sum(axis=0) > 0
    assert small.resamples == 400 and large.resamples == 20 * family.sum() < 50_000  # the floor, 20 m
    assert (~small.decided).sum() > (~large.decided).sum() >= 0 and (~small.decided).sum() >= 3
    # the terms rejected within the small budget are rejected with the large one too (same first 400 splits)
    rejected_small = bh_rejected(small.p_conservative[0][family], 0.05)
    rejected_large = bh_rejected(large.p_conservative[0][family], 0.05)
    assert (rejected_large | ~rejected_small).all() and rejected_large.sum() == 53 and rejected_small.sum() == 0
    assert (~small.decided).sum() == 92 and large.decided.all()


def test_a_complete_null_keeps_the_fdr_at_most_005_when_the_budget_binds():
    """Random labels, nothing to find, a budget (150 splits) far below 20 m (1,200): the share of tables with
    any q < 0.05 (q on the estimates) stays at most 0.05 (200 tables; 0.05 + 3 binomial standard errors), and
    terms are undecided."""
    rng = np.random.default_rng(20241207)
    tables, any_rejection, any_strict, undecided = 200, 0, 0, 0
    for _ in range(tables):
        X = rng.poisson(rng.gamma(0.5, 0.6, 60) * rng.gamma(2.0, 0.5, (24, 1)))
        X[:, -1] += 30
        labels = rng.permutation(np.array(["a"] * 12 + ["b"] * 12))
        r = permutation_keyness(X, labels, ["a"], n_resamples=60, rng=rng, max_resamples=150)
        family = X.sum(axis=0) > 0
        any_rejection += bool(bh_rejected(r.p[0][family], 0.05).any())
        any_strict += bool(bh_rejected(r.p_conservative[0][family], 0.05).any())
        undecided += int((~r.decided[0][family]).sum())
    assert any_strict <= any_rejection  # the conservative reading rejects a subset
    assert any_rejection / tables <= 0.05 + 3 * math.sqrt(0.05 * 0.95 / tables)
    assert undecided > 0


def test_p_keeps_its_level_term_by_term_when_terms_are_undecided():
    """The reported p of an undecided term is the estimate (g + 1) / (n + 1), not the bound: under random
    splits p <= 0.05 for about 5% of the frequent terms (300 tables, binomial tolerance)."""
    rng = np.random.default_rng(20241208)
    hits = tests = undecided = 0
    for _ in range(300):
        X = rng.poisson(rng.gamma(2.0, 1.0, 8) * rng.gamma(2.0, 0.5, (30, 1)))
        X[:, -1] += 30
        labels = rng.permutation(np.array(["a"] * 15 + ["b"] * 15))
        r = permutation_keyness(X, labels, ["a"], n_resamples=100, rng=rng, max_resamples=200)
        hits += int((r.p[0][:4] <= 0.05).sum())
        undecided += int((~r.decided[0]).sum())
        tests += 4
    assert abs(hits / tests - 0.05) <= 3 * math.sqrt(0.05 * 0.95 / tests) and undecided > 0


def test_the_decided_column_in_the_keyness_tables():
    X, labels = sparse_table(np.random.default_rng(5), 40, 200, 60, 4.0)
    vocab = [f"w{j}" for j in range(X.shape[1])]
    table = document_keyness(X, labels, vocab, [("a", "b")], n_resamples=60, rng=np.random.default_rng(2))[0]
    r = permutation_keyness(X, labels, ["a"], n_resamples=60, rng=np.random.default_rng(2))
    by_term = table.set_index("term")
    present = [vocab[j] for j in np.flatnonzero(X.sum(axis=0) > 0)]
    expected = dict(zip(vocab, r.decided[0]))
    assert by_term.loc[present, "decided"].tolist() == [bool(expected[t]) for t in present]
    assert table["decided"].dtype == bool
    np.testing.assert_allclose(table["q"], stats.false_discovery_control(table["p"].to_numpy(), method="bh"))
    # counted as not rejected: q from p_conservative, never below 0.05 for an undecided term
    strict = document_keyness(
        X, labels, vocab, [("a", "b")], n_resamples=60, rng=np.random.default_rng(2), conservative=True
    )[0]
    assert (strict["p"] == table["p"]).all() and (strict["q"] >= table["q"]).all()
    assert (~strict["decided"]).sum() >= 1 and (strict.loc[~strict["decided"], "q"] >= 0.05).all()
    # the schema: decided right after q, before correction
    columns = keyness_columns(documents=True)
    assert columns[columns.index("q") + 1] == "decided" and columns[columns.index("decided") + 1] == "correction"
    assert comparison_order(["note", "decided", "q", "p"]) == ["p", "q", "decided", "note"]


def test_the_decided_column_is_false_where_there_is_no_p():
    """Clusters nested in groups with one cluster on a side: no group p-value, nothing decided."""
    X = np.random.default_rng(0).poisson(2.0, (8, 5))
    labels = ["a"] * 4 + ["b"] * 4
    clusters = ["c1"] * 4 + ["c2", "c2", "c3", "c3"]
    table = document_keyness(
        X, labels, list("vwxyz"), [("a", "b")], n_resamples=50, rng=np.random.default_rng(0), clusters=clusters
    )[0]
    assert table["p"].isna().all() and not table["decided"].any()


@pytest.mark.parametrize("budget", [None, 5000])
def test_without_extension_or_below_the_first_point_every_term_is_decided(budget):
    X, labels = sparse_table(np.random.default_rng(7), 30, 80, 20, 4.0)
    r = permutation_keyness(X, labels, ["a"], n_resamples=5000, rng=np.random.default_rng(0), max_resamples=budget)
    assert r.decided.all() and r.resamples == 5000  # 20 m = 1,600 < B: no decision point, nothing undecided
    np.testing.assert_array_equal(r.p_conservative, r.p)


@pytest.mark.parametrize("seed", [0, 1])
def test_the_sparse_product_gives_the_same_p_to_the_bit(seed, monkeypatch):
    """A small target's sums by a sparse product (forced for every term here) equal the dense product's."""
    import analysis.stats.resampling as rs

    X, _ = sparse_table(np.random.default_rng(seed), 80, 300, 60, 4.0)
    X[:10, :30] += np.random.default_rng(seed).poisson(2.0, (10, 30))
    labels = np.array(["a"] * 10 + ["b"] * 30 + ["c"] * 40)  # a: 1/8 of the units (sparse), c: 1/2 (dense)
    dense = permutation_keyness(X, labels, ["a", "c"], n_resamples=100, rng=np.random.default_rng(seed))
    monkeypatch.setattr(rs, "SPARSE_PRODUCT_UNITS", 0)
    sparse_p = permutation_keyness(X, labels, ["a", "c"], n_resamples=100, rng=np.random.default_rng(seed))
    assert dense.p.tobytes() == sparse_p.p.tobytes() and (dense.splits == sparse_p.splits).all()
    assert (dense.p[0] < 0.01).sum() >= 10


def test_the_budget_reaches_the_stage_through_keyness_by_group():
    """``[framing] keyness_budget`` is ``max_resamples``: with 10 tested terms and B = 100 the
    floor is ``min(max(100, 20 x 10), budget)`` splits, so min_p = 1 / (floor + 1)."""
    import pandas as pd

    from analysis.stats.keyness import keyness_by_group
    from analysis.stats.resampling import MAX_RESAMPLES
    from analysis.study.settings import FramingSettings

    rng = np.random.default_rng(7)
    counts = pd.DataFrame(
        rng.poisson(3.0, size=(40, 10)), index=[f"d{i}" for i in range(40)], columns=[f"t{j}" for j in range(10)]
    )
    groups = {f"d{i}": ("a" if i < 20 else "b") for i in range(40)}

    def floor(**budget):
        table = keyness_by_group(counts, groups, order=["a", "b"], min_docs=1, n_resamples=100, seed=3, **budget)
        return set(table["min_p"].round(12))

    assert floor() == {round(1 / 201, 12)}
    assert floor(max_resamples=150) == {round(1 / 151, 12)}
    assert FramingSettings().keyness_budget == MAX_RESAMPLES
