"""The compiled count of the keyness permutations (analysis/stats/permutation_kernel.py) against the numpy
statistic it replaces: the same Welch's t to the bit, and the same exceedances, stops, p-values and decisions on
random designs (documents, whole clusters, documents within clusters, exact enumeration, a term filter, no
sequential stopping, several targets), so a p-value does not depend on which path computed it."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import sparse

from analysis.stats.permutation_kernel import _welch_abs
from analysis.stats.resampling import permutation_keyness, welch_t


@settings(max_examples=200, deadline=None)
@given(
    st.integers(1, 60),
    st.integers(1, 60),
    st.floats(0.0, 50.0),
    st.floats(0.0, 1.0),
    st.floats(0.0, 80.0),
    st.floats(0.0, 1.0),
)
def test_welch_abs_is_welch_t_to_the_bit(n_a, n_b, sums, spread, total_extra, square_share):
    """Every branch: one unit a side (the plain difference), a zero standard error (0 or infinity), the rest."""
    n = n_a + n_b
    total = sums + total_extra
    squares = sums * sums / n_a * (1.0 + spread)  # at least what the sums force (Cauchy-Schwarz), or more
    total_squares = squares + total_extra * total_extra * square_share
    expected = abs(float(welch_t(np.array([sums]), np.array([squares]), n_a, total, total_squares, n=n)[0]))
    assert _welch_abs(sums, squares, n_a, total, total_squares, n) == expected


def test_welch_abs_flat_cases():
    """No spread on either side: t is 0 without a difference, infinite with one (as ``welch_t``)."""
    assert _welch_abs(2.0, 2.0, 2, 4.0, 8.0, 4) == 0.0  # every unit 1.0
    assert _welch_abs(2.0, 2.0, 2, 2.0, 2.0, 4) == np.inf  # 1, 1 against 0, 0


def design(seed: int):
    """Sparse bursty counts with a few key terms, 2-4 groups, optional outlets (nested or crossed)."""
    rng = np.random.default_rng(seed)
    n_docs, n_terms, groups = int(rng.integers(6, 160)), int(rng.integers(2, 60)), int(rng.integers(2, 5))
    labels = np.array([f"g{i}" for i in rng.integers(0, groups, n_docs)])
    rate = rng.gamma(0.5, 1.0, n_terms) * (1.0 + 3.0 * (rng.uniform(size=n_terms) < 0.2))
    X = rng.poisson(rate * rng.gamma(2.0, 0.5, (n_docs, 1)) * (1.0 + (labels == "g0")[:, None]))
    X[:, -1] += 1 + rng.poisson(20, n_docs)  # every document has tokens
    kind = seed % 3
    clusters = None
    if kind == 1:  # outlets nested in groups: whole clusters move
        clusters = np.array([f"{g}-{i}" for g, i in zip(labels, rng.integers(0, 3, n_docs))])
    elif kind == 2:  # outlets crossing groups: documents move within them
        clusters = np.array([f"c{i}" for i in rng.integers(0, 4, n_docs)])
    return sparse.csr_matrix(X), labels, clusters


@settings(max_examples=60, deadline=None)
@given(
    st.integers(0, 100_000),
    st.sampled_from([20, 100, 400]),
    st.sampled_from([None, 300, 1200]),
    st.booleans(),
    st.booleans(),
)
def test_compiled_count_gives_the_numpy_p_values(seed, n_resamples, budget, all_targets, filtered):
    X, labels, clusters = design(seed)
    if len(set(labels)) < 2:
        return
    names = sorted(set(labels))
    targets = names if all_targets else names[:1]
    select = np.asarray((X > 0).sum(axis=0)).ravel() >= 2 if filtered else None
    runs = [
        permutation_keyness(
            X,
            labels,
            targets,
            n_resamples=n_resamples,
            rng=np.random.default_rng(seed),
            clusters=clusters,
            max_resamples=budget,
            select=select,
            compiled=compiled,
        )
        for compiled in (True, False)
    ]
    fast, reference = runs
    assert fast.design == reference.design and fast.exact == reference.exact
    np.testing.assert_array_equal(fast.p, reference.p)
    np.testing.assert_array_equal(fast.splits, reference.splits)
    np.testing.assert_array_equal(fast.decided, reference.decided)
    np.testing.assert_array_equal(fast.p_conservative, reference.p_conservative)


@pytest.mark.parametrize("stop_at", [None, 5])
def test_compiled_count_without_decisions(stop_at):
    """No BH decisions (``fdr_level`` None) and, with ``stop_at`` None, every term sees every split."""
    X, labels, _ = design(7)
    kw = dict(n_resamples=300, rng=None, stop_at=stop_at, fdr_level=None, max_resamples=None)
    fast = permutation_keyness(X, labels, ["g0"], **{**kw, "rng": np.random.default_rng(3)}, compiled=True)
    reference = permutation_keyness(X, labels, ["g0"], **{**kw, "rng": np.random.default_rng(3)}, compiled=False)
    np.testing.assert_array_equal(fast.p, reference.p)
    np.testing.assert_array_equal(fast.splits, reference.splits)
    if stop_at is None:
        assert (fast.splits == 300).all()
