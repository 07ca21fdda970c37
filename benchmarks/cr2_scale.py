"""CR2 cluster-robust covariance at full-size outlets: the eigendecomposition against the low-rank path.

    .venv/bin/python benchmarks/cr2_scale.py --sizes 400,1000,2000,3935 --old-max 3935 --regression

The design stage's ``[model]`` fits a quasi-Poisson GLM per frame with a ``log(sentences)`` offset and takes its
CR2 covariance clustered by outlet (:func:`analysis.stats.clustered.cr2_glm`; ``models.count_regression`` and
``models.marginal_rates``). Before, every outlet's adjustment was the inverse square root of an ``n_g x n_g``
matrix (``numpy.linalg.eigh``, cubic in ``n_g``); outlets above ``clustered.EIGH_MAX_ROWS`` rows now take the
low-rank path (:func:`analysis.stats.clustered._cr2_block_lowrank`). This script fits one synthetic study per
outlet size and times ``cr2_glm`` both ways (``EIGH_MAX_ROWS`` set above every outlet = the old code, and set
to 0 = every outlet on the new path), in CPU seconds of this process (all BLAS threads), and reports the largest
relative difference of ``vcov`` (over its entries, relative to its largest entry) and of the Bell-McCaffrey df
and p of the language coefficient (:func:`analysis.stats.clustered.cr2_test`), and how many outlets fell back
to the eigendecomposition.

The synthetic study (seeded; its shape is the full-size study's, 20 outlets per language, its distributions
those of the 10,000-document study ``/tmp/vnen_scale3/n10000``): Vietnamese outlets of ``size`` articles,
English outlets of 111 (2,225 / 20); sentences per article log-normal (median 16, log-sd 0.8 for Vietnamese;
median 18, log-sd 0.44 for English; rounded, at least 1: the 10k study's Vietnamese articles have 1-406
sentences, median 16, log-sd 0.80); hits ``Poisson(rate x sentences x outlet x document)`` with the outlet
multiplier log-normal (log-sd 0.5) and the document's gamma (shape 0.5: bursty hits); ``rate`` per sentence
0.004, 0.03 and 0.09 (the 10k study's rarest, middle and most common frames). ``--formula`` is the model's
right-hand side as the study writes it (``language`` by default, what ``init`` writes; ``language + spline(date,
4)`` adds a date spread evenly over 2024). ``--regression``: one ``models.count_regression`` call on the three
frames at the largest size, new path only (the old path's cost is the per-fit old time times three).
The ``blas`` column is ``OPENBLAS_NUM_THREADS`` (``default``: OpenBLAS's own threads, one per core): on a loaded
machine OpenBLAS's idle threads spin, and that waiting is counted as CPU, so run with ``OPENBLAS_NUM_THREADS=1``
for the cost of the arithmetic. Prints a table and writes ``benchmarks/results/cr2_scale.csv``.
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from analysis.stats import clustered, models  # noqa: E402

SEED = 20261207
RATES = {"rare": 0.004, "middle": 0.03, "common": 0.09}  # hits per sentence
OUTLETS = 20
EN_SIZE = 111


def study(size: int, rng: np.random.Generator) -> tuple[pd.DataFrame, pd.Series, pd.DataFrame]:
    """docvars (language, outlet, date), sentences, hits per frame; Vietnamese outlets of ``size`` articles."""
    language = np.r_[np.repeat("vi", OUTLETS * size), np.repeat("en", OUTLETS * EN_SIZE)]
    outlet = np.r_[
        np.repeat([f"vi-{k:02d}" for k in range(OUTLETS)], size),
        np.repeat([f"en-{k:02d}" for k in range(OUTLETS)], EN_SIZE),
    ]
    n = len(language)
    vi = language == "vi"
    sentences = np.where(
        vi, np.exp(np.log(16) + 0.8 * rng.standard_normal(n)), np.exp(np.log(18) + 0.44 * rng.standard_normal(n))
    )
    sentences = np.maximum(np.round(sentences), 1.0)
    ids = [f"d{i:06d}" for i in range(n)]
    date = pd.Timestamp("2024-01-01") + pd.to_timedelta((np.arange(n) * 7919) % 366, unit="D")
    docvars = pd.DataFrame({"language": language, "outlet": outlet, "date": date}, index=ids)
    codes = pd.factorize(outlet)[0]
    hits = {}
    for name, rate in RATES.items():
        outlet_effect = np.exp(rng.normal(0.0, 0.5, 2 * OUTLETS))[codes]
        mean = rate * sentences * outlet_effect * rng.gamma(0.5, 2.0, n)
        hits[name] = rng.poisson(mean)
    return docvars, pd.Series(sentences, index=ids), pd.DataFrame(hits, index=ids)


def glm_fit(y: np.ndarray, X: np.ndarray, offset: np.ndarray):
    import statsmodels.api as sm

    return sm.GLM(y, X, family=sm.families.Poisson(), offset=offset).fit(scale="X2")


def timed_cr2(result, clusters: np.ndarray, *, max_rows: int):
    clustered.EIGH_MAX_ROWS = max_rows
    fallbacks = []
    original = clustered._cr2_block_lowrank

    def spy(*args, **kwargs):
        block = original(*args, **kwargs)
        fallbacks.append(block is None)
        return block

    clustered._cr2_block_lowrank = spy
    try:
        start = time.process_time()
        fit = clustered.cr2_glm(result, clusters)
        test = clustered.cr2_test(fit, np.eye(len(fit.coef))[1])  # the language coefficient
        seconds = time.process_time() - start
    finally:
        clustered._cr2_block_lowrank = original
    return fit, test, seconds, sum(fallbacks), len(fallbacks)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="400,1000,2000,3935")
    parser.add_argument("--old-max", type=int, default=3935, help="time the eigendecomposition up to this size")
    parser.add_argument("--frames", default=",".join(RATES), help="which synthetic frames (names of RATES)")
    parser.add_argument("--formula", default="language")
    parser.add_argument("--regression", action="store_true")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "cr2_scale.csv"))
    args = parser.parse_args()
    default_max = clustered.EIGH_MAX_ROWS
    load = os.getloadavg()[0]
    blas = os.environ.get("OPENBLAS_NUM_THREADS", "default")  # BLAS threads: spinning ones count as CPU under load
    rows = []
    sizes = [int(s) for s in args.sizes.split(",")]
    for size in sizes:
        rng = np.random.default_rng([SEED, size])
        docvars, sentences, hits = study(size, rng)
        X = models.design_matrix(docvars, args.formula).to_numpy(dtype=float)
        offset = np.log(sentences.to_numpy())
        clusters = docvars["outlet"].to_numpy()
        for frame in args.frames.split(","):
            result = glm_fit(hits[frame].to_numpy(dtype=float), X, offset)
            row = {"formula": args.formula, "vi_outlet_rows": size, "n": len(docvars), "p": X.shape[1], "blas": blas}
            row["frame"] = f"{frame} ({RATES[frame]})"
            new, new_test, new_s, fell, calls = timed_cr2(result, clusters, max_rows=0)
            row.update(new_cpu_s=round(new_s, 3), fallbacks=f"{fell}/{calls}")
            if size <= args.old_max:
                old, old_test, old_s, _, _ = timed_cr2(result, clusters, max_rows=10**9)
                row["old_cpu_s"] = round(old_s, 3)
                row["speedup"] = round(old_s / new_s, 1)
                row["vcov_rel_diff"] = f"{np.max(np.abs(new.vcov - old.vcov)) / np.max(np.abs(old.vcov)):.1e}"
                row["df_rel_diff"] = f"{abs(new_test.df - old_test.df) / old_test.df:.1e}"
                row["p_rel_diff"] = f"{abs(new_test.p - old_test.p) / max(old_test.p, 1e-300):.1e}"
                row["bm_df"] = round(old_test.df, 3)
            mu = np.asarray(result.fittedvalues)
            row["mu_max_over_min"] = f"{mu.max() / mu.min():.0f}"
            rows.append(row)
            print(row, file=sys.stderr, flush=True)
    if args.regression:
        size = max(sizes)
        rng = np.random.default_rng([SEED, size])
        docvars, sentences, hits = study(size, rng)
        clustered.EIGH_MAX_ROWS = default_max
        start = time.process_time()
        table = models.count_regression(
            hits, sentences, docvars, args.formula, cluster="outlet", min_clusters=5, min_docs=20
        )
        seconds = time.process_time() - start
        language = table[table["term"] == "language[T.vi]"]
        rows.append(
            {
                "formula": args.formula,
                "vi_outlet_rows": size,
                "n": len(docvars),
                "p": int(table["term"].nunique()),
                "blas": blas,
                "frame": f"count_regression, {len(RATES)} frames",
                "new_cpu_s": round(seconds, 3),
                "bm_df": "; ".join(f"{v:.2f}" for v in language["df"]),
            }
        )
    clustered.EIGH_MAX_ROWS = default_max
    columns = [
        "formula",
        "vi_outlet_rows",
        "n",
        "p",
        "blas",
        "frame",
        "mu_max_over_min",
        "old_cpu_s",
        "new_cpu_s",
        "speedup",
        "fallbacks",
        "vcov_rel_diff",
        "df_rel_diff",
        "p_rel_diff",
        "bm_df",
    ]
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    with open(args.out, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    print(f"load average at start: {load:.1f}; EIGH_MAX_ROWS = {default_max}")
    print("| " + " | ".join(columns) + " |")
    print("|" + " --- |" * len(columns))
    for row in rows:
        print("| " + " | ".join(str(row.get(c, "")) for c in columns) + " |")


if __name__ == "__main__":
    main()
