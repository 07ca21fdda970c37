"""CR2 when one outlet's working variances span decades: the old eigenvalue cut against the working model's metric.

    .venv/bin/python benchmarks/cr2_graded.py [--decades 2,4,6,8] [--rows 12,50] [--seeds 3] [--timing 389,1000]

A quasi-Poisson GLM's CR2 adjustment uses the working model ``Phi = 1/mu``; with one outlet's fitted means over
``d`` decades the matrix ``T = Phi^{1/2} S_g Phi^{1/2}`` spans about ``2d`` decades, and the old route (``eigh`` of
``T``, eigenvalues at or below ``1e-12 x n_g x`` the largest dropped) zeroed the weight of the highest-mean
documents (:func:`analysis.stats.clustered._cr2_adjustment` now decides zeros in ``Phi``'s metric). For each
spread and outlet size: four outlets (a language dummy and one covariate; the working regression of the GLM, i.e.
``cr2_ols(weights=mu, target=1/mu)``), the largest error of ``estmat``'s columns scaled by ``sqrt(phi)`` (each
document's score under the working model) relative to a 60-digit reference (``tests/stats/test_clustered_graded.py``),
old route and new, which route the graded outlets took, and how many documents the old route gave (almost) no
weight.
Graded outlets first try the certified low-rank quadrature, then the Jacobi SVD; "Jacobi alone" makes the quadrature
refuse. ``--timing``: CPU seconds of one outlet of that many rows, means over six decades: the old ``eigh``, and the
new route's steps (the ``eigh`` that finds ``T`` graded, the quadrature, the Jacobi SVD fallback).
Prints a table and writes ``benchmarks/results/cr2_graded.csv``.
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from analysis.stats import clustered  # noqa: E402
from tests.stats.test_clustered_graded import _decimal_estmat, _old_adjustment, _weighted_error  # noqa: E402


def design(seed: int, *, decades: float, rows: int):
    rng = np.random.default_rng(seed)
    clusters = np.repeat(np.arange(4), rows)
    n = len(clusters)
    X = np.column_stack([np.ones(n), clusters % 2, rng.normal(size=n)])
    return X, clusters, 10.0 ** rng.uniform(0.0, decades, n)


def _fit(X, clusters, mu, *, quadrature: bool):
    """``cr2_ols`` of the working regression and the routes its graded outlets took."""
    taken = []
    lowrank, jacobi = clustered._cr2_block_lowrank, clustered._inv_sqrt_graded

    def spy_lowrank(*args, **kwargs):
        block = lowrank(*args, **kwargs) if quadrature else None
        taken.extend(["quadrature"] if block is not None else [])
        return block

    clustered._cr2_block_lowrank = spy_lowrank
    clustered._inv_sqrt_graded = lambda *a: taken.append("jacobi") or jacobi(*a)
    try:
        return clustered.cr2_ols(X, np.ones(len(mu)), clusters, weights=mu, target=1 / mu), taken
    finally:
        clustered._cr2_block_lowrank, clustered._inv_sqrt_graded = lowrank, jacobi


def accuracy(decades: float, rows: int, seeds: int) -> dict:
    errors = {"old": [], "new": [], "jacobi": []}
    quadrature = jacobi = zeroed = 0
    for seed in range(seeds):
        X, clusters, mu = design(seed, decades=decades, rows=rows)
        reference, _ = _decimal_estmat(X, mu, 1 / mu, clusters)
        new, taken = _fit(X, clusters, mu, quadrature=True)
        quadrature += taken.count("quadrature")
        jacobi += taken.count("jacobi")
        alone, _ = _fit(X, clusters, mu, quadrature=False)
        original = clustered._eigh_adjustment
        clustered._eigh_adjustment = _old_adjustment
        old = clustered.cr2_ols(X, np.ones(len(mu)), clusters, weights=mu, target=1 / mu)
        clustered._eigh_adjustment = original
        for name, fit in (("old", old), ("new", new), ("jacobi", alone)):
            errors[name].append(_weighted_error(fit.estmat, reference, 1 / mu))
        zeroed += int(np.sum(np.abs(old.estmat).max(axis=0) < 1e-3 * np.abs(reference).max(axis=0)))
    return {
        "decades": decades,
        "rows": rows,
        "old_error": max(errors["old"]),
        "new_error": max(errors["new"]),
        "jacobi_only_error": max(errors["jacobi"]),
        "graded_outlets": f"{quadrature} + {jacobi} / {4 * seeds}",
        "zeroed_documents_old": zeroed,
    }


def timing(rows: int) -> dict:
    X, clusters, mu = design(0, decades=6, rows=rows)
    phi, w = 1 / mu, mu
    WX = X * w[:, None]
    M = np.linalg.pinv(X.T @ WX)
    MXWPWXM = M @ (WX.T * phi) @ WX @ M
    g = np.flatnonzero(clusters == 0)
    H = X[g] @ M @ WX[g].T
    S = np.diag(phi[g]) - H * phi[g][None, :] - (H * phi[g][None, :]).T + X[g] @ MXWPWXM @ X[g].T
    out = {"rows": rows}
    steps = (
        ("old", lambda: _old_adjustment(S, phi[g])),
        ("eigh_check", lambda: clustered._eigh_adjustment(S, phi[g])),
        ("quadrature", lambda: clustered._cr2_block_lowrank(X[g], WX[g], phi[g], w[g], M=M, MXWPWXM=MXWPWXM)),
        ("jacobi", lambda: clustered._graded_adjustment(S, phi[g])),
    )
    for name, step in steps:
        start = time.process_time()
        step()
        out[f"{name}_cpu_s"] = time.process_time() - start
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--decades", default="2,4,6,8")
    parser.add_argument("--rows", default="12,50")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--timing", default="389,1000")
    args = parser.parse_args()
    load = os.getloadavg()[0]
    threads = os.environ.get("OPENBLAS_NUM_THREADS", "default")
    print(f"load average at start: {load:.1f}; OPENBLAS_NUM_THREADS={threads}")
    rows = []
    print(
        "| decades | rows/outlet | old error | new error | Jacobi alone | graded: quadrature + Jacobi / outlets "
        "| documents < 1e-3 of their weight (old) |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for r in [int(x) for x in args.rows.split(",") if x]:
        for d in [float(x) for x in args.decades.split(",") if x]:
            row = accuracy(d, r, args.seeds)
            rows.append(row)
            print(
                f"| {d:g} | {r} | {row['old_error']:.1e} | {row['new_error']:.1e} | {row['jacobi_only_error']:.1e} "
                f"| {row['graded_outlets']} | {row['zeroed_documents_old']} |",
                flush=True,
            )
    times = [timing(int(x)) for x in args.timing.split(",") if x]
    print("\n| rows (means over 6 decades) | old eigh CPU s | new: eigh check | quadrature | Jacobi SVD |")
    print("| --- | --- | --- | --- | --- |")
    for t in times:
        print(
            f"| {t['rows']} | {t['old_cpu_s']:.3f} | {t['eigh_check_cpu_s']:.3f} | {t['quadrature_cpu_s']:.3f} "
            f"| {t['jacobi_cpu_s']:.3f} |"
        )
    out = ROOT / "benchmarks" / "results" / "cr2_graded.csv"
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "w", newline="") as handle:
        writer = csv.DictWriter(
            handle, fieldnames=[*rows[0], *[k for k in times[0] if k != "rows"]] if times else [*rows[0]]
        )
        writer.writeheader()
        writer.writerows(rows)
        writer.writerows(times)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
