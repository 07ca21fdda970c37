"""CR2 when one outlet's working variances span decades (analysis.stats.clustered._cr2_adjustment).

A quasi-Poisson GLM's working model is ``Phi = 1 / mu``; when one outlet's fitted means span eight decades the matrix
``T = Phi^{1/2} S_g Phi^{1/2}`` whose inverse square root gives the CR2 adjustment has eigenvalues over sixteen, and a
cut relative to its largest eigenvalue zeroed the weight of the highest-mean documents. References here use neither
code path: the adjustment computed with 60-digit decimals (a Jacobi eigendecomposition), and the exact unbiasedness
of CR2 under its working model.
"""

from __future__ import annotations

import math
from decimal import Decimal, getcontext, localcontext

import numpy as np
import pytest
import statsmodels.api as sm

from analysis.stats import clustered
from analysis.stats.clustered import cr2_glm, cr2_ols


def _jacobi_eigh(A: list[list[Decimal]]) -> tuple[list[Decimal], list[list[Decimal]]]:
    """Cyclic Jacobi eigendecomposition of a symmetric matrix in the current decimal context."""
    n = len(A)
    A = [row[:] for row in A]
    V = [[Decimal(int(i == j)) for j in range(n)] for i in range(n)]
    tiny = Decimal(10) ** (-2 * getcontext().prec + 10)
    for _ in range(60):
        off = sum(A[i][j] ** 2 for i in range(n) for j in range(n) if i != j)
        if off <= tiny * sum(A[i][i] ** 2 for i in range(n)):
            break
        for p in range(n - 1):
            for q in range(p + 1, n):
                if A[p][q] == 0:
                    continue
                theta = (A[q][q] - A[p][p]) / (2 * A[p][q])
                t = (1 if theta >= 0 else -1) / (abs(theta) + (theta * theta + 1).sqrt())
                c = 1 / (t * t + 1).sqrt()
                s = t * c
                for k in range(n):
                    A[k][p], A[k][q] = c * A[k][p] - s * A[k][q], s * A[k][p] + c * A[k][q]
                for k in range(n):
                    A[p][k], A[q][k] = c * A[p][k] - s * A[q][k], s * A[p][k] + c * A[q][k]
                for k in range(n):
                    V[k][p], V[k][q] = c * V[k][p] - s * V[k][q], s * V[k][p] + c * V[k][q]
    return [A[i][i] for i in range(n)], V


def _inverse(A: list[list[Decimal]]) -> list[list[Decimal]]:
    n = len(A)
    M = [row[:] + [Decimal(int(i == j)) for j in range(n)] for i, row in enumerate(A)]
    for c in range(n):
        pivot = max(range(c, n), key=lambda r: abs(M[r][c]))
        M[c], M[pivot] = M[pivot], M[c]
        M[c] = [v / M[c][c] for v in M[c]]
        for r in range(n):
            if r != c:
                M[r] = [a - M[r][c] * b for a, b in zip(M[r], M[c])]
    return [row[n:] for row in M]


def _decimal_estmat(X, w, phi, clusters, *, digits: int = 60) -> tuple[np.ndarray, list[int]]:
    """``estmat`` (p x n) of CR2 from the exact binary inputs with ``digits`` significant digits, and per cluster the
    number of eigenvalues of ``T`` treated as zero (below ``1e-30`` of the largest: only exact zeros get there)."""
    n, p = X.shape
    with localcontext() as ctx:
        ctx.prec = digits
        Xd = [[Decimal(float(v)) for v in row] for row in X]
        wd = [Decimal(float(v)) for v in w]
        phid = [Decimal(float(v)) for v in phi]
        M = _inverse([[sum(Xd[i][a] * wd[i] * Xd[i][b] for i in range(n)) for b in range(p)] for a in range(p)])
        WX = [[wd[i] * Xd[i][a] for a in range(p)] for i in range(n)]
        middle = [[sum(WX[i][a] * phid[i] * WX[i][b] for i in range(n)) for b in range(p)] for a in range(p)]
        MQM = [
            [sum(M[a][k] * middle[k][l] * M[l][b] for k in range(p) for l in range(p)) for b in range(p)]
            for a in range(p)
        ]
        out, dropped = np.zeros((p, n)), []
        for g in np.unique(clusters):
            rows = list(np.flatnonzero(clusters == g))

            def quad(x, y, B):
                return sum(x[a] * B[a][b] * y[b] for a in range(p) for b in range(p))

            H = [[quad(Xd[i], WX[j], M) for j in rows] for i in rows]
            R = [phid[i].sqrt() for i in rows]
            m = len(rows)
            T = [
                [
                    R[a]
                    * (
                        (phid[rows[a]] if a == b else 0)
                        - H[a][b] * phid[rows[b]]
                        - H[b][a] * phid[rows[a]]
                        + quad(Xd[rows[a]], Xd[rows[b]], MQM)
                    )
                    * R[b]
                    for b in range(m)
                ]
                for a in range(m)
            ]
            vals, V = _jacobi_eigh(T)
            keep = [v > max(vals) * Decimal("1e-30") for v in vals]
            dropped.append(m - sum(keep))
            Y = [
                [sum(V[a][k] * V[b][k] / vals[k].sqrt() for k in range(m) if keep[k]) for b in range(m)]
                for a in range(m)
            ]
            for a in range(p):
                for j, i in enumerate(rows):
                    total = sum(M[a][c] * WX[rows[k]][c] * R[k] * Y[k][j] for k in range(m) for c in range(p))
                    out[a, i] = float(total * R[j])
    return out, dropped


def _weighted_error(estmat: np.ndarray, reference: np.ndarray, phi: np.ndarray) -> float:
    """Largest difference of ``estmat``'s columns scaled by ``sqrt(phi)`` (each document's score contribution under
    the working model), relative to the largest such entry of the reference."""
    scale = np.sqrt(phi)[None, :]
    return float(np.max(np.abs(estmat - reference) * scale) / np.max(np.abs(reference) * scale))


@pytest.fixture(params=["quadrature first", "jacobi"])
def route(request, monkeypatch):
    """Each graded outlet by the default order (the certified quadrature, then the Jacobi SVD) or by the Jacobi SVD
    alone (the quadrature made to refuse); yields the list of routes taken, one per graded outlet."""
    taken = []
    quadrature, jacobi = clustered._cr2_block_lowrank, clustered._inv_sqrt_graded

    def lowrank(*args, **kwargs):
        block = quadrature(*args, **kwargs) if request.param == "quadrature first" else None
        if block is not None:
            taken.append("quadrature")
        return block

    monkeypatch.setattr(clustered, "_cr2_block_lowrank", lowrank)
    monkeypatch.setattr(clustered, "_inv_sqrt_graded", lambda *a: taken.append("jacobi") or jacobi(*a))
    return taken


def _graded_design(seed: int, *, decades: float, sizes=(12, 12, 12, 12)):
    rng = np.random.default_rng(seed)
    clusters = np.repeat(np.arange(len(sizes)), sizes)
    n = len(clusters)
    X = np.column_stack([np.ones(n), clusters % 2, rng.normal(size=n)])
    mu = 10.0 ** rng.uniform(0.0, decades, n)
    return X, clusters, mu


@pytest.mark.parametrize("seed", [0, 1])
def test_means_over_eight_decades_match_a_60_digit_reference(seed, route):
    X, clusters, mu = _graded_design(seed, decades=8)
    reference, dropped = _decimal_estmat(X, mu, 1 / mu, clusters)
    assert dropped == [0, 0, 0, 0]  # nothing here is structurally zero
    fit = cr2_ols(X, np.ones(len(mu)), clusters, weights=mu, target=1 / mu)
    assert len(route) == 4  # every outlet graded
    assert _weighted_error(fit.estmat, reference, 1 / mu) < 1e-9  # measured 1e-11 (the old cut: 1.0)
    # the highest-mean document of every outlet keeps its weight (it was 0 when its eigenvalue was cut)
    for g in range(4):
        top = np.flatnonzero(clusters == g)[np.argmax(mu[clusters == g])]
        assert fit.estmat[:, top] == pytest.approx(reference[:, top], rel=1e-6)


@pytest.mark.parametrize("decades", [5, 8])
def test_cr2_stays_unbiased_under_its_working_model_whatever_the_spread(decades, route):
    # E[V] = sum_i V(y = sqrt(phi_i) e_i) = M X' W Phi W X M exactly (see test_clustered.py); a zeroed
    # eigenvalue breaks it by the whole contribution of the documents it carried
    X, clusters, mu = _graded_design(7, decades=decades, sizes=(8, 8, 8, 8))
    n = len(mu)
    phi = 1 / mu
    M = np.linalg.inv(X.T @ (X * mu[:, None]))
    truth = M @ X.T @ (X * (mu**2 * phi)[:, None]) @ M
    expected = sum(
        cr2_ols(X, math.sqrt(phi[i]) * np.eye(n)[i], clusters, weights=mu, target=phi).vcov for i in range(n)
    )
    scale = np.sqrt(np.outer(np.diag(truth), np.diag(truth)))
    assert np.max(np.abs(expected - truth) / scale) < 1e-8


def test_quasi_poisson_glm_with_exposures_over_eight_decades(route):
    rng = np.random.default_rng(3)
    clusters = np.repeat(np.arange(4), 12)
    n = len(clusters)
    X = np.column_stack([np.ones(n), clusters % 2])
    exposure = 10.0 ** rng.uniform(0.0, 8.0, n)
    y = rng.poisson(0.02 * exposure * np.exp(0.3 * X[:, 1] + rng.normal(0, 0.4, 4)[clusters])).astype(float)
    result = sm.GLM(y, X, family=sm.families.Poisson(), offset=np.log(exposure)).fit(scale="X2")
    mu = np.asarray(result.fittedvalues)
    assert mu.max() / mu.min() > 1e7
    reference, dropped = _decimal_estmat(X, mu, 1 / mu, clusters)
    assert dropped == [0, 0, 0, 0]
    fit = cr2_glm(result, clusters)
    assert _weighted_error(fit.estmat, reference, 1 / mu) < 1e-9


def test_a_structural_zero_is_dropped_in_the_scale_free_metric(route):
    # a dummy for outlet 0 makes its block singular (rank X - rank X_{-0} = 1): one eigenvalue is zero, exactly one
    # is dropped, the graded ones of outlets 1-3 are kept
    X, clusters, mu = _graded_design(11, decades=7, sizes=(10, 10, 10, 10, 10, 10))
    X = np.column_stack([X, clusters == 0]).astype(float)
    rank_without = [np.linalg.matrix_rank(X[clusters != g]) for g in range(6)]
    assert [np.linalg.matrix_rank(X) - r for r in rank_without] == [1, 0, 0, 0, 0, 0]
    reference, dropped = _decimal_estmat(X, mu, 1 / mu, clusters)
    assert dropped == [1, 0, 0, 0, 0, 0]
    fit = cr2_ols(X, np.ones(len(mu)), clusters, weights=mu, target=1 / mu)
    assert route.count("jacobi") >= 1  # outlet 0: the quadrature refuses a structural zero
    assert _weighted_error(fit.estmat, reference, 1 / mu) < 1e-9


def _old_adjustment(S, phig):
    """The eigendecomposition route as it was: the cut relative to the largest eigenvalue of ``T``."""
    root = np.sqrt(phig)
    T = root[:, None] * S * root[None, :]
    vals, vecs = np.linalg.eigh((T + T.T) / 2)
    keep = vals > max(vals.max(initial=0.0), 0.0) * 1e-12 * len(vals)
    inv = np.zeros_like(vals)
    inv[keep] = 1 / np.sqrt(vals[keep])
    return root[:, None] * ((vecs * inv) @ vecs.T) * root[None, :]


@pytest.mark.parametrize("case", ["ols", "ols with an outlet dummy", "wls target 1/w", "glm"])
def test_ordinary_clusters_keep_the_bytes_of_the_eigendecomposition(case, monkeypatch):
    # the graded route is taken only when eigh cannot resolve T (or a structural zero sits among graded scales);
    # otherwise the adjustment is the old one to the bit
    rng = np.random.default_rng(12)
    clusters = np.repeat(np.arange(6), [9, 14, 7, 12, 10, 8])
    n = len(clusters)
    X = np.column_stack([np.ones(n), clusters % 2, rng.normal(size=n)])
    w = rng.gamma(2.0, 1.0, n)
    y = X @ [1.0, 0.5, -0.3] + rng.normal(size=n)
    exposure = rng.integers(1, 400, n).astype(float)  # an article's sentences: means over about two decades
    counts = rng.poisson(0.05 * exposure).astype(float)
    glm = sm.GLM(counts, X, family=sm.families.Poisson(), offset=np.log(exposure)).fit()
    make = {
        "ols": lambda: cr2_ols(X, y, clusters),
        "ols with an outlet dummy": lambda: cr2_ols(np.column_stack([X, clusters == 0]).astype(float), y, clusters),
        "wls target 1/w": lambda: cr2_ols(X, y, clusters, weights=w, target=1 / w),
        "glm": lambda: cr2_glm(glm, clusters),
    }[case]
    graded = []
    original = clustered._inv_sqrt_graded
    monkeypatch.setattr(clustered, "_inv_sqrt_graded", lambda *a: graded.append(1) or original(*a))
    monkeypatch.setattr(clustered, "_cr2_block_lowrank", lambda *a, **k: graded.append(2))
    new = make()
    assert graded == []
    monkeypatch.setattr(clustered, "_eigh_adjustment", _old_adjustment)
    old = make()
    assert np.array_equal(new.estmat, old.estmat) and np.array_equal(new.vcov, old.vcov)


def test_large_graded_outlets_take_the_quadrature_not_the_fallback(lowrank):
    # the low-rank path refuses only a structural zero of C (the same decision as the dense route), not a T whose
    # condition number comes from Phi's spread: forced onto every outlet, it gives the 60-digit reference
    X, clusters, mu = _graded_design(5, decades=6, sizes=(10, 10, 10, 10, 10, 10))
    X = np.column_stack([X, clusters == 0]).astype(float)  # outlet 0's dummy: one zero of C there
    fit = cr2_ols(X, np.ones(len(mu)), clusters, weights=mu, target=1 / mu)
    assert lowrank == [False, True, True, True, True, True]  # outlet 0 by the dense route's pseudo-inverse
    reference, dropped = _decimal_estmat(X, mu, 1 / mu, clusters)
    assert dropped == [1, 0, 0, 0, 0, 0]
    assert _weighted_error(fit.estmat, reference, 1 / mu) < 1e-9
