"""Keyness permutations that stop once the Benjamini–Hochberg decision is settled (MMCTest, Gandy & Hahn
2014) in analysis/stats/resampling.py: references for the pieces, the decision agreement property,
determinism across batch sizes, the level under a complete null, and the saving."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

import analysis.stats.resampling as rs
from analysis.stats.resampling import (
    bh_rejected,
    clopper_pearson,
    decision_points,
    permutation_keyness,
    settle_decisions,
)


def many_key_terms(seed: int, n_docs: int = 60, n_terms: int = 400, key: int = 120, effect: float = 6.0):
    """Sparse Poisson counts (most terms in a handful of documents) with ``key`` terms ``effect`` times as
    frequent in the first half of the documents (the target ``a``) and a spread of weaker ones."""
    rng = np.random.default_rng(seed)
    base = rng.gamma(0.8, 1.0, n_terms)
    boost = np.ones((n_docs, n_terms))
    strength = np.linspace(1.3, effect, key)  # weak ones too, so some decisions sit near the BH boundary
    boost[: n_docs // 2, :key] = strength
    X = rng.poisson(base * boost * rng.gamma(2.0, 0.5, (n_docs, 1)))
    X[:, -1] += 50  # every document has tokens
    labels = np.array(["a"] * (n_docs // 2) + ["b"] * (n_docs - n_docs // 2))
    return X, labels


class Recorder:
    def __init__(self):
        self.original = rs.settle_decisions
        self.rejected, self.accepted = set(), set()

    def __call__(self, exceedances, n, p_stopped, active, family, **kw):
        rejected, accepted = self.original(exceedances, n, p_stopped, active, family, **kw)
        self.rejected.update(np.asarray(active)[rejected].tolist())
        self.accepted.update(np.asarray(active)[accepted].tolist())
        return rejected, accepted


# ------------------------------------------------------------------------------------- pieces


def test_clopper_pearson_equals_scipy_exact_interval():
    for h, n in [(0, 10), (3, 10), (10, 10), (7, 1000), (0, 250000)]:
        low, high = clopper_pearson(np.array([h]), n, 0.01)
        ci = stats.binomtest(h, n).proportion_ci(confidence_level=0.99, method="exact")
        assert low[0] == pytest.approx(ci.low, abs=1e-12) and high[0] == pytest.approx(ci.high, rel=1e-9)
    # by hand: no exceedance in n splits, U = 1 - (error/2)^(1/n)
    assert clopper_pearson(np.array([0]), 1000, 2e-9)[1][0] == pytest.approx(1 - 1e-9 ** (1 / 1000), rel=1e-9)


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 300_000), st.floats(0.0, 1.0), st.sampled_from([1e-2, 1e-6, 1e-9, 1e-12]))
def test_the_reported_p_lies_inside_the_interval_it_was_settled_with(n, share, error):
    """(g + 1) / (n + 1) is between the Clopper–Pearson bounds, so BH on the reported p keeps a
    settled decision (BH is monotone)."""
    g = min(n, int(share * n))
    low, high = clopper_pearson(np.array([g]), n, error)
    assert low[0] <= g / n <= (g + 1) / (n + 1) <= high[0] + 1e-15


@settings(max_examples=100, deadline=None)
@given(st.lists(st.floats(0.0, 1.0), min_size=1, max_size=60), st.sampled_from([0.01, 0.05, 0.2]))
def test_bh_rejected_is_q_below_the_level(p, level):
    p = np.array(p)
    assert np.array_equal(bh_rejected(p, level), stats.false_discovery_control(p, method="bh") < level)


def test_decision_points_by_hand():
    assert decision_points(200, 1000) == [200, 283, 400, 566, 800]
    assert decision_points(5000, 5000) == [] and decision_points(5000, 4000) == []
    points = decision_points(200, 500_000)
    assert all(b / a <= math.sqrt(2) + 0.01 for a, b in zip(points, points[1:])) and len(points) == 23


def test_settle_decisions_by_hand():
    """Four terms, m = 4, BH at 0.05: thresholds 0.0125, 0.025, 0.0375, 0.05 by rank.
    Term 3 stopped at p = 0.9. After n = 2000 splits with error 1e-3 (Clopper–Pearson 99.9%):
    h = 0 gives [0, 0.00379]; h = 30 gives [0.00761, 0.02617]; h = 400 gives [0.1715, 0.2308]."""
    exceed = np.array([0, 30, 400, 0])
    rejected, accepted = settle_decisions(
        exceed, 2000, np.array([0.0, 0.0, 0.0, 0.9]), np.arange(3), np.ones(4, dtype=bool), error=1e-3
    )
    low, high = clopper_pearson(exceed[:3], 2000, 1e-3)
    assert high.round(5).tolist() == [0.00379, 0.02617, 0.23079] and low.round(5).tolist() == [0.0, 0.00761, 0.1715]
    # upper ends [0.00379, 0.02617, 0.2308, 0.9] x m / rank: 0.0152, 0.0523, 0.308, 0.9: only term 0 rejected;
    # lower ends [0, 0.00761, 0.1715, 0.9]: 0, 0.0152, 0.229, 0.9: term 1 may be rejected, term 2 never
    assert rejected.tolist() == [True, False, False] and accepted.tolist() == [False, False, True]
    # a term outside the family (no count in the comparison) is never settled
    rejected, accepted = settle_decisions(
        exceed, 2000, np.array([0.0, 0.0, 0.0, 0.9]), np.arange(3), np.array([False, True, True, True]), error=1e-3
    )
    assert not rejected[0] and not accepted[0]


# --------------------------------------------------------------------------------- the rule


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_bh_on_the_reported_p_makes_every_settled_decision(seed, monkeypatch):
    X, labels = many_key_terms(seed)
    recorder = Recorder()
    monkeypatch.setattr(rs, "settle_decisions", recorder)
    result = permutation_keyness(X, labels, ["a"], n_resamples=100, rng=np.random.default_rng(seed))
    family = X.sum(axis=0) > 0
    q_below = np.zeros(X.shape[1], dtype=bool)
    q_below[family] = stats.false_discovery_control(result.p[0][family], method="bh") < 0.05
    assert len(recorder.rejected) >= 40 and len(recorder.accepted) >= 10  # the rule did settle terms both ways
    assert q_below[sorted(recorder.rejected)].all()
    assert not q_below[sorted(recorder.accepted)].any()
    # against the old rule (every undecided term to the floor of 20 m splits): the same decisions
    monkeypatch.setattr(rs, "settle_decisions", recorder.original)
    old = permutation_keyness(X, labels, ["a"], n_resamples=100, rng=np.random.default_rng(seed), fdr_level=None)
    old_below = stats.false_discovery_control(old.p[0][family], method="bh") < 0.05
    assert (old_below != q_below[family]).sum() <= 2  # Monte Carlo noise at the boundary only
    # and at a fraction of the splits, with the p of every term never settled unchanged
    assert result.splits[0].sum() < 0.8 * old.splits[0].sum()
    never = np.ones(X.shape[1], dtype=bool)
    never[sorted(recorder.rejected | recorder.accepted)] = False
    np.testing.assert_array_equal(result.p[0][never], old.p[0][never])


def test_settled_p_is_g_plus_one_over_n_plus_one_at_a_decision_point(monkeypatch):
    X, labels = many_key_terms(4)
    recorder = Recorder()
    monkeypatch.setattr(rs, "settle_decisions", recorder)
    result = permutation_keyness(X, labels, ["a"], n_resamples=100, rng=np.random.default_rng(4))
    points = decision_points(100, result.resamples)
    for j in sorted(recorder.rejected | recorder.accepted):
        n = int(result.splits[0, j])
        assert n in points
        g = result.p[0, j] * (n + 1) - 1
        assert g == pytest.approx(round(g), abs=1e-6) and 0 <= round(g) < rs.STOP_AT


def test_settled_decisions_are_deterministic_and_do_not_depend_on_the_batch_size(monkeypatch):
    X, labels = many_key_terms(5)
    X = np.vstack([X, many_key_terms(6)[0]])
    labels = np.array(["a"] * 30 + ["b"] * 30 + ["c"] * 60)
    first = permutation_keyness(X, labels, ["a", "c"], n_resamples=150, rng=np.random.default_rng(7))
    again = permutation_keyness(X, labels, ["a", "c"], n_resamples=150, rng=np.random.default_rng(7))
    assert first.p.tobytes() == again.p.tobytes()
    for cells in (X.shape[0] * 7, X.shape[0] * 97, 10**7):  # 7 or 97 splits a batch, or all at once
        monkeypatch.setattr(rs, "RESAMPLE_CELLS", cells)
        other = permutation_keyness(X, labels, ["a", "c"], n_resamples=150, rng=np.random.default_rng(7))
        np.testing.assert_array_equal(other.p, first.p)
        np.testing.assert_array_equal(other.splits, first.splits)
    assert (first.splits < first.resamples).any() and first.p.min() < 1 / 151


def test_a_complete_null_keeps_the_fdr_at_most_005(monkeypatch):
    """Random labels, nothing to find: the share of tables with any q < 0.05 is the FDR, at most
    0.05 for BH (here 200 tables; 0.05 + 3 binomial standard errors)."""
    rng = np.random.default_rng(20241206)
    recorder = Recorder()
    monkeypatch.setattr(rs, "settle_decisions", recorder)
    tables, any_rejection = 200, 0
    for _ in range(tables):
        X = rng.poisson(rng.gamma(0.5, 0.6, 60) * rng.gamma(2.0, 0.5, (24, 1)))
        X[:, -1] += 30
        labels = rng.permutation(np.array(["a"] * 12 + ["b"] * 12))
        result = permutation_keyness(X, labels, ["a"], n_resamples=60, rng=rng)
        family = X.sum(axis=0) > 0
        any_rejection += bool((stats.false_discovery_control(result.p[0][family], method="bh") < 0.05).any())
    assert any_rejection / tables <= 0.05 + 3 * math.sqrt(0.05 * 0.95 / tables)
    assert recorder.accepted  # the rule settled terms (as not rejected) before the floor
