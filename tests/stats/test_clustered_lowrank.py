"""The CR2 adjustment of large clusters without an n_g x n_g matrix (analysis.stats.clustered._cr2_block_lowrank).

Clusters above ``EIGH_MAX_ROWS`` rows take the low-rank path; here the constant is set to 0 so that small
clusters take it too, and every result is compared with the eigendecomposition path (the constant left as it is)
and with references that do not use either path (exact unbiasedness, statsmodels' HC2, a dense inverse root).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import statsmodels.api as sm

from analysis.stats import clustered
from analysis.stats.clustered import cr2_glm, cr2_ols, cr2_test


def _assert_same_fit(new, old, *, rtol=1e-9):
    scale = np.max(np.abs(old.vcov))
    assert np.max(np.abs(new.vcov - old.vcov)) <= rtol * scale
    assert np.max(np.abs(new.estmat - old.estmat)) <= rtol * np.max(np.abs(old.estmat))
    p = len(old.coef)
    contrasts = [*np.eye(p), np.ones(p)]
    for c in contrasts:
        a, b = cr2_test(old, c), cr2_test(new, c)
        assert b.df == pytest.approx(a.df, rel=rtol)
        assert b.p == pytest.approx(a.p, rel=rtol, abs=1e-15)
        assert b.se == pytest.approx(a.se, rel=rtol)


def _design(rng, sizes, *, p=3):
    clusters = np.repeat(np.arange(len(sizes)), sizes)
    n = len(clusters)
    language = (clusters % 2).astype(float)
    X = np.column_stack([np.ones(n), language, rng.normal(size=(n, p - 2))])
    outlet = rng.normal(0, 0.4, len(sizes))[clusters]
    return X, clusters, outlet


SIZES = [40, 65, 30, 80, 55, 45]


def _fits(make, lowrank, monkeypatch):
    """``make()`` with the eigendecomposition everywhere, then with the low-rank path everywhere."""
    monkeypatch.setattr(clustered, "EIGH_MAX_ROWS", 10**9)
    old = make()
    monkeypatch.setattr(clustered, "EIGH_MAX_ROWS", 0)
    lowrank.clear()
    new = make()
    return old, new


def test_quasi_poisson_with_exposures_of_very_different_sizes(lowrank, monkeypatch):
    rng = np.random.default_rng(40)
    X, clusters, outlet = _design(rng, SIZES)
    exposure = np.exp(rng.normal(3.0, 1.3, len(clusters)))  # 1 to ~1,000 sentences: mu over three decades
    y = rng.poisson(0.02 * exposure * np.exp(0.3 * X[:, 1] + outlet) * rng.gamma(1.0, 1.0, len(clusters)))
    result = sm.GLM(y.astype(float), X, family=sm.families.Poisson(), offset=np.log(exposure)).fit(scale="X2")
    assert result.fittedvalues.max() / result.fittedvalues.min() > 300
    old, new = _fits(lambda: cr2_glm(result, clusters), lowrank, monkeypatch)
    assert lowrank == [True] * len(SIZES)  # every cluster by quadrature, none fell back
    _assert_same_fit(new, old)


def test_negative_binomial_glm(lowrank, monkeypatch):
    rng = np.random.default_rng(41)
    X, clusters, outlet = _design(rng, SIZES)
    exposure = rng.integers(3, 200, len(clusters)).astype(float)
    y = rng.negative_binomial(1.5, 1.5 / (1.5 + 0.05 * exposure * np.exp(outlet)))
    family = sm.families.NegativeBinomial(alpha=0.6)
    result = sm.GLM(y.astype(float), X, family=family, offset=np.log(exposure)).fit()
    old, new = _fits(lambda: cr2_glm(result, clusters), lowrank, monkeypatch)
    assert lowrank == [True] * len(SIZES)
    _assert_same_fit(new, old)


@pytest.mark.parametrize(
    "case", ["ols", "wls identity", "wls target 1/w", "wls other target", "ols rank-deficient", "wls rank-deficient"]
)
def test_linear_models_equal_the_eigendecomposition(case, lowrank, monkeypatch):
    rng = np.random.default_rng(42)
    X, clusters, outlet = _design(rng, SIZES, p=4)
    n = len(clusters)
    y = X @ [1.0, 0.5, -0.3, 0.2] + outlet + rng.normal(size=n)
    w = rng.gamma(2.0, 1.0, n)
    if "rank-deficient" in case:
        X = np.column_stack([X, X[:, 1] + X[:, 2]])  # M is the pseudo-inverse
    kwargs = {
        "ols": {},
        "wls identity": {"weights": w},
        "wls target 1/w": {"weights": w, "target": 1 / w},
        "wls other target": {"weights": w, "target": rng.gamma(2.0, 1.0, n)},
        "ols rank-deficient": {},
        "wls rank-deficient": {"weights": w, "target": 1 / w},
    }[case]
    old, new = _fits(lambda: cr2_ols(X, y, clusters, **kwargs), lowrank, monkeypatch)
    assert lowrank == [True] * len(SIZES)
    _assert_same_fit(new, old)


@pytest.mark.parametrize("case", ["ols", "wls identity", "wls inverse variance"])
def test_lowrank_cr2_is_exactly_unbiased_under_its_working_model(case, lowrank):
    # E[V] = sum_i V(y = sqrt(phi_i) e_i) must equal Var(beta) = M X' W Phi W X M: a reference that uses neither path
    rng = np.random.default_rng(43)
    X, clusters, _ = _design(rng, [6, 9, 4, 7], p=3)
    n = len(clusters)
    w = np.ones(n) if case == "ols" else rng.gamma(2.0, 1.0, n)
    phi = 1 / w if case == "wls inverse variance" else np.ones(n)
    M = np.linalg.inv(X.T @ (X * w[:, None]))
    truth = M @ X.T @ (X * (w**2 * phi)[:, None]) @ M
    expected = sum(cr2_ols(X, math.sqrt(phi[i]) * np.eye(n)[i], clusters, weights=w, target=phi).vcov for i in range(n))
    assert all(lowrank) and len(lowrank) == 4 * n
    np.testing.assert_allclose(expected, truth, rtol=1e-9, atol=1e-13)


def test_single_row_clusters_are_statsmodels_wls_hc2(lowrank):
    rng = np.random.default_rng(44)
    X = np.column_stack([np.ones(30), rng.normal(size=(30, 2))])
    y = rng.normal(size=30)
    w = rng.gamma(2.0, 1.0, 30)
    fit = cr2_ols(X, y, np.arange(30), weights=w, target=1 / w)
    assert all(lowrank) and len(lowrank) == 30
    np.testing.assert_allclose(fit.vcov, sm.WLS(y, X, weights=w).fit(cov_type="HC2").cov_params(), rtol=1e-9)


def test_quadrature_equals_a_dense_inverse_square_root():
    # T = D + U diag(lambda) U' with an indefinite low-rank part, T positive definite; reference: dense eigh of T
    rng = np.random.default_rng(45)
    n, p = 120, 3
    Xg = np.column_stack([np.ones(n), rng.normal(size=(n, p - 1))])
    w = rng.gamma(2.0, 1.0, n)
    phi = rng.gamma(1.0, 2.0, n)  # neither constant nor 1/w: the general rank-2p form
    X_all = np.vstack([Xg, rng.normal(size=(400, p))])
    w_all = np.r_[w, rng.gamma(2.0, 1.0, 400)]
    phi_all = np.r_[phi, rng.gamma(1.0, 2.0, 400)]
    WX = X_all * w_all[:, None]
    M = np.linalg.inv(X_all.T @ WX)
    MXWPWXM = M @ (WX.T * phi_all) @ WX @ M
    block = clustered._cr2_block_lowrank(Xg, WX[:n], phi, w, M=M, MXWPWXM=MXWPWXM)
    H = Xg @ M @ WX[:n].T
    S = np.diag(phi) - H * phi - (H * phi).T + Xg @ MXWPWXM @ Xg.T
    R = np.sqrt(phi)
    vals, vecs = np.linalg.eigh(R[:, None] * S * R[None, :])
    assert vals.min() > 1e-6 * vals.max()  # comfortably positive definite
    A = R[:, None] * ((vecs / np.sqrt(vals)) @ vecs.T) * R[None, :]
    reference = M @ WX[:n].T @ A
    assert block is not None
    np.testing.assert_allclose(block, reference, rtol=1e-9, atol=1e-12 * np.abs(reference).max())


def test_woodbury_sum_equals_dense_solves():
    rng = np.random.default_rng(46)
    n, k, p = 50, 4, 2
    d = rng.gamma(2.0, 1.0, n)
    U = rng.normal(size=(n, k)) * 0.3
    sign = np.array([1.0, -1.0, 1.0, -1.0])
    B = rng.normal(size=(n, p))
    t = np.array([0.0, 0.5, 3.0] * 30)  # more nodes than one batch
    coef = rng.uniform(0.1, 1.0, len(t))
    T = np.diag(d) + (U * sign) @ U.T
    want = sum(c * np.linalg.solve(tj * np.eye(n) + T, B) for tj, c in zip(t, coef))
    got = clustered._woodbury_sum(d, U, sign, B, t=t, coef=coef)
    np.testing.assert_allclose(got, want, rtol=1e-10)


def test_singular_cluster_block_falls_back_to_the_pseudo_inverse(lowrank, monkeypatch):
    # a dummy for cluster 0 makes its (I - H)_gg singular: the eigendecomposition drops the zero eigenvalue
    # (a pseudo-inverse). The closed form (identity working model) drops it alike; the quadrature refuses and the
    # eigendecomposition is used, so that cluster's columns are the same bytes.
    rng = np.random.default_rng(47)
    X, clusters, outlet = _design(rng, SIZES)
    X = np.column_stack([X, clusters == 0]).astype(float)
    y = X[:, :3] @ [1.0, 0.5, -0.3] + outlet + rng.normal(size=len(clusters))
    w = rng.gamma(2.0, 1.0, len(clusters))
    old, new = _fits(lambda: cr2_ols(X, y, clusters), lowrank, monkeypatch)
    assert lowrank == [True] * len(SIZES)
    _assert_same_fit(new, old)
    old, new = _fits(lambda: cr2_ols(X, y, clusters, weights=w, target=1 / w), lowrank, monkeypatch)
    assert lowrank == [False] + [True] * (len(SIZES) - 1)
    rows = clusters == 0
    assert np.array_equal(new.estmat[:, rows], old.estmat[:, rows])
    _assert_same_fit(new, old)


def test_a_failed_certificate_falls_back(lowrank, monkeypatch):
    rng = np.random.default_rng(48)
    X, clusters, outlet = _design(rng, SIZES)
    w = rng.gamma(2.0, 1.0, len(clusters))
    y = X @ [1.0, 0.5, -0.3] + outlet + rng.normal(size=len(clusters))
    monkeypatch.setattr(clustered, "_QUADRATURE_TAIL", 2.0)  # truncated far too early: inexact by ~e^-1
    old, new = _fits(lambda: cr2_ols(X, y, clusters, weights=w, target=1 / w), lowrank, monkeypatch)
    assert lowrank == [False] * len(SIZES)
    assert np.array_equal(new.vcov, old.vcov)


def test_small_clusters_never_take_the_lowrank_path(monkeypatch):
    calls = []
    monkeypatch.setattr(clustered, "_cr2_block_lowrank", lambda *a, **k: calls.append(1))
    rng = np.random.default_rng(49)
    X, clusters, outlet = _design(rng, [clustered.EIGH_MAX_ROWS, 3])
    cr2_ols(X, X[:, 0] + outlet + rng.normal(size=len(clusters)), clusters)
    assert calls == []
