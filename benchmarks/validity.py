"""Size and coverage of language contrasts when languages are unions of outlets, by seeded simulation.

    .venv/bin/python benchmarks/validity.py                       # the full grid (several minutes)
    .venv/bin/python benchmarks/validity.py --quick               # a reduced grid (about a minute)
    .venv/bin/python benchmarks/validity.py --statistic-choice    # why the outlet test uses Welch on outlet means

Each simulated corpus has two languages of ``G`` outlets each (``G`` in 1, 3, 5, 10), 20-60 documents per
outlet, 10-60 sentences per document, and sparse items (frames): counts ``y ~ Poisson(rate x sentences / 100)``
with a document gamma multiplier of shape 0.3 or 1 (bursty), mean rates 0.1, 0.5 and 2 per 100 sentences,
an outlet random effect whose log-normal spread gives the document-rate ICC 0, 0.03 or 0.1, and optionally a
per-outlet, per-item "house style" multiplier (log-sd drawn from 0.3-0.6). Languages do not differ (H0)
for the rejection rate; a planted rate ratio of 1.5 for the coverage of the 95% intervals.

Procedures (all from :mod:`analysis.stats.clustered` except the document-level ones, which are the old
behaviour that treats documents as independent):

* ``document Welch`` / ``document permutation``: Welch t and a label permutation over documents;
* ``outlet permutation``: whole outlets permuted, Welch t on outlet means;
* ``CR2+BM OLS``: document rate on a language dummy, CR2 with Bell-McCaffrey (Satterthwaite) df;
* ``wild cluster bootstrap``: WCR, CR1 t, Webb weights below 12 outlets in all, Rademacher above;
* ``GLM CR1+t(G-1)`` / ``GLM CR2+BM``: quasi-Poisson with log(sentences) offset, the language rate ratio
  ``exp(beta)`` with CR1 (statsmodels ``cov_type="cluster"``) and ``t(G - 1)``, or CR2 and BM df.

A design with one outlet per language is refused (the language contrast equals an outlet contrast): every
outlet-level procedure counts it as refused and gives no p-value; the document-level ones still do.

Prints a table and writes a CSV (``--csv``, default ``benchmarks/results/validity.csv``; not committed) with columns
``procedure, outlets, icc, shape, house, samples, refused, undefined, null_reject, coverage, goal, met``.
Goals: null rejection at 0.05 in 0.03-0.07 with 5-10 outlets per language; rate-ratio interval coverage at
least 0.93 at 5 outlets per language; one-outlet designs refused. Pure simulation: reads no corpus.
"""

from __future__ import annotations

import argparse
import itertools
import math
import os
import sys
import time
import warnings
from pathlib import Path

# one BLAS thread: the matrices are small and many, and threads contending on a shared 2-core machine made a
# sample ten times slower (1.2 s against 0.12 s at 10 outlets per language); set before numpy loads BLAS
for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import statsmodels.api as sm  # noqa: E402
from scipy import stats  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from analysis.stats.clustered import (  # noqa: E402
    cr2_glm,
    cr2_ols,
    cr2_test,
    nesting,
    outlet_permutation_test,
    wild_cluster_bootstrap,
    wild_score_bootstrap_glm,
)

RATES = (0.1, 0.5, 2.0)  # item mean rates per 100 sentences
EFFECT = 1.5  # planted rate ratio for coverage
LEVEL = 0.95
B = 999
PROCEDURES = (
    "document Welch",
    "document permutation",
    "outlet permutation",
    "CR2+BM OLS",
    "wild cluster bootstrap",
    "GLM CR1+t(G-1)",
    "GLM CR2+BM",
)
DOCUMENT_LEVEL = PROCEDURES[:2]


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def outlet_sigma2(icc: float, rate: float, shape: float, inv_sentences: float) -> float:
    """Log-normal variance of the outlet multiplier that gives the document-rate ICC ``icc``.

    The document rate ``100 y / s`` has between-outlet variance ``rate^2 (v - 1)`` and within-outlet variance
    ``rate^2 v / shape + 100 rate E[1/s]`` with ``v = exp(sigma^2)``; solving ICC = between / total for ``v``.
    """
    if icc <= 0:
        return 0.0
    numerator = rate**2 * (1 - icc) + icc * 100 * rate * inv_sentences
    denominator = rate**2 * (1 - icc) - icc * rate**2 / shape
    return float(math.log(numerator / denominator))


def simulate(rng, outlets: int, icc: float, shape: float, house: bool, ratio: float = 1.0):
    """One corpus: per document outlet, language (vi for the first half of outlets), sentences, and counts per item."""
    G = 2 * outlets
    sizes = rng.integers(20, 61, G)
    outlet = np.repeat(np.arange(G), sizes)
    n = len(outlet)
    vi = outlet < outlets
    sentences = rng.integers(10, 61, n).astype(float)
    inv_sentences = float(np.mean(1 / np.arange(10, 61)))
    counts = np.empty((n, len(RATES)))
    for j, rate in enumerate(RATES):
        s2 = outlet_sigma2(icc, rate, shape, inv_sentences)
        multiplier = np.exp(rng.normal(0, math.sqrt(s2), G) - s2 / 2)
        if house:
            h = rng.uniform(0.3, 0.6)
            multiplier = multiplier * np.exp(rng.normal(0, h, G) - h**2 / 2)
        lam = rate * multiplier[outlet] * np.where(vi, ratio, 1.0) * rng.gamma(shape, 1 / shape, n) * sentences / 100
        counts[:, j] = rng.poisson(lam)
    return outlet, np.where(vi, "vi", "en"), sentences, counts


def document_permutation_p(values: np.ndarray, vi: np.ndarray, order: np.ndarray) -> float:
    """Two-sided label permutation of the difference in means over documents, (b + 1) / (m + 1).

    ``order`` (B x k) holds, per permutation, the documents that get the label vi (shared by the items)."""
    n, k = len(values), int(vi.sum())
    observed = values[vi].mean() - values[~vi].mean()
    sums = values[order].sum(axis=1)
    diffs = sums / k - (values.sum() - sums) / (n - k)
    return float((np.sum(np.abs(diffs) >= abs(observed) - 1e-12) + 1) / (B + 1))


def glm_intervals(y, sentences, vi, outlet):
    """Quasi-Poisson rate ratio vi/en: (p, low, high) with CR1 + t(G-1) and with CR2 + BM, on the log scale."""
    X = np.column_stack([np.ones(len(y)), vi.astype(float)])
    model = sm.GLM(y, X, family=sm.families.Poisson(), offset=np.log(sentences))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = cr1 = model.fit(scale="X2", cov_type="cluster", cov_kwds={"groups": outlet})
    G = len(np.unique(outlet))
    se1 = float(np.sqrt(cr1.cov_params()[1, 1]))
    q1 = stats.t.ppf(0.5 + LEVEL / 2, G - 1)
    beta = float(fit.params[1])
    first = (float(2 * stats.t.sf(abs(beta / se1), G - 1)), beta - q1 * se1, beta + q1 * se1)
    test = cr2_test(cr2_glm(fit, outlet), [0, 1], level=LEVEL)
    return first, (test.p, test.ci_low, test.ci_high)


def one_sample(rng, outlets, icc, shape, house, ratio):
    """Per procedure and item: (p, covered) with p None when refused, nan when undefined."""
    outlet, language, sentences, counts = simulate(rng, outlets, icc, shape, house, ratio)
    vi = language == "vi"
    refused = bool(nesting(language, outlet).problem)
    X = np.column_stack([np.ones(len(vi)), vi.astype(float)])
    order = np.argsort(rng.random((B, len(vi))), axis=1)[:, : int(vi.sum())]
    out = []
    for j, rate in enumerate(RATES):
        y = counts[:, j]
        values = 100 * y / sentences
        truth_difference, truth_log_ratio = rate * (ratio - 1), math.log(ratio)
        row = {}
        welch = stats.ttest_ind(values[vi], values[~vi], equal_var=False)
        ci = welch.confidence_interval(LEVEL)
        row["document Welch"] = (float(welch.pvalue), ci.low <= truth_difference <= ci.high)  # vi - en
        row["document permutation"] = (document_permutation_p(values, vi, order), None)
        if refused or y[vi].sum() == 0 or y[~vi].sum() == 0:
            for name in PROCEDURES[2:]:
                row[name] = (None, None) if refused else (float("nan"), None)
            out.append(row)
            continue
        row["outlet permutation"] = (
            outlet_permutation_test(values, language, outlet, a="vi", b="en", n_resamples=B, rng=rng).p,
            None,
        )
        test = cr2_test(cr2_ols(X, values, outlet), [0, 1], level=LEVEL)
        row["CR2+BM OLS"] = (test.p, test.ci_low <= truth_difference <= test.ci_high)
        wild = wild_cluster_bootstrap(X, values, outlet, coef=1, n_resamples=B, rng=rng)
        row["wild cluster bootstrap"] = (wild.p, None)
        first, second = glm_intervals(y, sentences, vi, outlet)
        row["GLM CR1+t(G-1)"] = (first[0], first[1] <= truth_log_ratio <= first[2])
        row["GLM CR2+BM"] = (second[0], second[1] <= truth_log_ratio <= second[2])
        out.append(row)
    return out


def goal(procedure: str, outlets: int) -> tuple[str, str]:
    size = "0.03-0.07" if outlets >= 5 else "-"
    cover = ">= 0.93" if outlets == 5 and procedure.startswith("GLM") else "-"
    return size, cover


def goal_text(outlets: int, size: str, cover: str) -> str:
    if outlets == 1:
        return "refused"
    parts = ([f"size {size}"] if size != "-" else []) + ([f"coverage {cover}"] if cover != "-" else [])
    return "; ".join(parts) or "-"


def run_cell(outlets, icc, shape, house, reps, seed):
    rng = np.random.default_rng(seed)
    tallies = {name: {"p": [], "covered": [], "refused": 0} for name in PROCEDURES}
    for ratio in (1.0, EFFECT):
        for _ in range(reps):
            for row in one_sample(rng, outlets, icc, shape, house, ratio):
                for name, (p, covered) in row.items():
                    if p is None:
                        tallies[name]["refused"] += ratio == 1.0
                    elif ratio == 1.0:
                        tallies[name]["p"].append(p)
                    elif covered is not None:
                        tallies[name]["covered"].append(covered)
    rows = []
    for name in PROCEDURES:
        t = tallies[name]
        p = np.array(t["p"], dtype=float)
        defined = p[np.isfinite(p)]
        size_goal, cover_goal = goal(name, outlets)
        reject = float(np.mean(defined <= 0.05)) if defined.size else float("nan")
        coverage = float(np.mean(t["covered"])) if t["covered"] else float("nan")
        if outlets == 1:
            met = t["refused"] == reps * len(RATES)
        else:
            met = True
            if size_goal != "-":
                met = met and 0.03 <= reject <= 0.07
            if cover_goal != "-":
                met = met and coverage >= 0.93
        rows.append(
            {
                "procedure": name,
                "outlets": outlets,
                "icc": icc,
                "shape": shape,
                "house": house,
                "samples": reps * len(RATES),
                "refused": t["refused"],
                "undefined": int(p.size - defined.size),
                "null_reject": reject,
                "coverage": coverage,
                "goal": goal_text(outlets, size_goal, cover_goal),
                "met": met if (outlets == 1 or size_goal != "-" or cover_goal != "-") else "-",
            }
        )
    return rows


def run(quick: bool, reps: int | None) -> pd.DataFrame:
    if quick:
        grid = itertools.product((1, 5), (0.1,), (0.3,), (False, True))
        reps = reps or 60
    else:
        grid = itertools.product((1, 3, 5, 10), (0.0, 0.03, 0.1), (0.3, 1.0), (False, True))
        reps = reps or 60
    rows = []
    for seed, (outlets, icc, shape, house) in enumerate(grid):
        started = time.time()
        rows.extend(run_cell(outlets, icc, shape, house, reps, seed))
        log(f"outlets {outlets}, icc {icc}, shape {shape}, house {house}: {time.time() - started:.1f} s")
    return pd.DataFrame(rows)


def statistic_choice(reps: int = 300, seed: int = 1) -> pd.DataFrame:
    """Outlet permutation with Welch t on outlet means vs the document-weighted mean difference over its CR1 se.

    Equal language means (normal document values, outlet effects N(0, sd^2) differing by language), 20-60
    documents per outlet, exact enumeration of outlet arrangements for both statistics.
    """
    rows = []
    for Ga, Gb, sd_a, sd_b in [
        (5, 5, 0.33, 0.33),
        (3, 10, 0.33, 0.33),
        (3, 10, 0.8, 0.2),
        (10, 3, 0.8, 0.2),
        (5, 10, 0.6, 0.15),
    ]:
        rng = np.random.default_rng(seed)
        G = Ga + Gb
        combos = list(itertools.combinations(range(G), Ga))
        assign = np.zeros((len(combos), G), dtype=bool)
        for i, chosen in enumerate(combos):
            assign[i, list(chosen)] = True
        observed = combos.index(tuple(range(Ga)))
        welch = weighted = 0
        for _ in range(reps):
            sizes = rng.integers(20, 61, G)
            effects = np.r_[rng.normal(0, sd_a, Ga), rng.normal(0, sd_b, Gb)]
            outlet = np.repeat(np.arange(G), sizes)
            values = effects[outlet] + rng.normal(0, 1, len(outlet))
            labels = np.where(outlet < Ga, "a", "b")
            welch += outlet_permutation_test(values, labels, outlet, a="a", b="b", n_resamples=10**6).p <= 0.05
            sums = np.bincount(outlet, weights=values)
            t = []
            for A in assign:
                parts = []
                for mask in (A, ~A):
                    N, k = sizes[mask].sum(), mask.sum()
                    mean = sums[mask].sum() / N
                    parts.append((mean, np.sum((sums[mask] - sizes[mask] * mean) ** 2) / N**2 * k / (k - 1)))
                t.append(abs(parts[0][0] - parts[1][0]) / math.sqrt(parts[0][1] + parts[1][1]))
            t = np.array(t)
            weighted += np.mean(t >= t[observed] - 1e-9) <= 0.05
        rows.append(
            {
                "outlets_a": Ga,
                "outlets_b": Gb,
                "outlet_sd_a": sd_a,
                "outlet_sd_b": sd_b,
                "samples": reps,
                "welch_on_outlet_means": welch / reps,
                "document_weighted_cr1": weighted / reps,
            }
        )
    return pd.DataFrame(rows)


def glm_bootstrap(reps: int = 60, outlets_per_language=(5, 10)) -> pd.DataFrame:
    """The language rate ratio of the quasi-Poisson GLM: CR2 + Bell-McCaffrey t interval against the wild cluster
    score bootstrap (Kline & Santos 2012; ``clustered.wild_score_bootstrap_glm``), on the same simulated corpora.

    Null rejection: p < 0.05 with no language effect. Coverage (planted rate ratio 1.5): for CR2 the t(df)
    interval contains log 1.5; for the score bootstrap the test of H0: beta = log 1.5 does not reject at 0.05
    (the interval by test inversion contains the truth exactly when that test does not reject).
    """
    rows = []
    grid = itertools.product((5, 10), (0.0, 0.03, 0.1), (0.3, 1.0), (False, True))
    for seed, (outlets, icc, shape, house) in enumerate(grid):
        if outlets not in outlets_per_language:
            continue
        started = time.time()
        rng = np.random.default_rng(10_000 + seed)  # the cell's seed does not depend on which cells run
        tallies = {"cr2": ([], []), "score": ([], [])}
        for ratio in (1.0, EFFECT):
            for _ in range(reps):
                outlet, language, sentences, counts = simulate(rng, outlets, icc, shape, house, ratio)
                vi = (language == "vi").astype(float)
                X = np.column_stack([np.ones(len(vi)), vi])
                for j in range(len(RATES)):
                    y = counts[:, j]
                    if y[vi == 1].sum() == 0 or y[vi == 0].sum() == 0:
                        continue
                    _, (p2, low2, high2) = glm_intervals(y, sentences, vi == 1, outlet)
                    null = math.log(ratio)
                    score = wild_score_bootstrap_glm(
                        y, X, outlet, coef=1, null=null, offset=np.log(sentences), n_resamples=B, rng=rng
                    )
                    if ratio == 1.0:
                        tallies["cr2"][0].append(p2 < 0.05)
                        tallies["score"][0].append(score.p < 0.05)
                    else:
                        tallies["cr2"][1].append(low2 <= null <= high2)
                        tallies["score"][1].append(score.p >= 0.05)
        for name, label in (("cr2", "GLM CR2+BM"), ("score", "GLM wild score bootstrap")):
            rejected, covered = tallies[name]
            rows.append(
                {
                    "procedure": label,
                    "outlets": outlets,
                    "icc": icc,
                    "shape": shape,
                    "house": house,
                    "null_reject": float(np.mean(rejected)),
                    "coverage": float(np.mean(covered)),
                    "samples": len(rejected),
                }
            )
        log(f"glm bootstrap: outlets {outlets}, icc {icc}, shape {shape}, house {house}: {time.time() - started:.1f} s")
    return pd.DataFrame(rows)


def summary(table: pd.DataFrame) -> pd.DataFrame:
    """Per procedure and outlets per language, over the ICC x shape x house cells: the range of the null rejection
    rate and of the coverage, the share refused, and how many cells met their goal."""
    rows = []
    for (procedure, outlets), part in table.groupby(["procedure", "outlets"], sort=False):
        met = part["met"][part["met"] != "-"]
        rows.append(
            {
                "procedure": procedure,
                "outlets": outlets,
                "cells": len(part),
                "refused": part["refused"].sum() / part["samples"].sum(),
                "reject_min": part["null_reject"].min(),
                "reject_mean": part["null_reject"].mean(),
                "reject_max": part["null_reject"].max(),
                "coverage_min": part["coverage"].min(),
                "coverage_mean": part["coverage"].mean(),
                "goal_met": f"{int(met.astype(bool).sum())}/{len(met)}" if len(met) else "-",
            }
        )
    return pd.DataFrame(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="reduced grid: 1 and 5 outlets, ICC 0.1, shape 0.3")
    parser.add_argument("--reps", type=int, default=None, help="simulated corpora per cell and effect (x3 items)")
    parser.add_argument("--csv", type=Path, default=Path(__file__).resolve().parent / "results" / "validity.csv")
    parser.add_argument("--statistic-choice", action="store_true", help="only the outlet-test statistic comparison")
    parser.add_argument(
        "--glm-bootstrap",
        action="store_true",
        help="only the GLM rate ratio: CR2 + BM against the wild score bootstrap",
    )
    parser.add_argument("--outlets", type=int, nargs="*", help="--glm-bootstrap: outlets per language (5 10)")
    args = parser.parse_args(argv)
    if args.glm_bootstrap:
        table = glm_bootstrap(args.reps or 60, tuple(args.outlets or (5, 10)))
        with pd.option_context("display.width", 200, "display.float_format", "{:.3f}".format):
            print(table.to_string(index=False))
            print(table.groupby(["procedure", "outlets"])[["null_reject", "coverage"]].agg(["min", "mean", "max"]))
        args.csv.parent.mkdir(parents=True, exist_ok=True)
        table.to_csv(args.csv.with_name("validity_glm_bootstrap.csv"), index=False)
        return 0
    if args.statistic_choice:
        table = statistic_choice(args.reps or 300)
    else:
        table = run(args.quick, args.reps)
    with pd.option_context("display.width", 200, "display.max_columns", 20, "display.float_format", "{:.3f}".format):
        print(table.to_string(index=False))
        if not args.statistic_choice:
            print("\nsummary over ICC x shape x house (reject = null p < 0.05; coverage of the planted effect):")
            print(summary(table).to_string(index=False))
    args.csv.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(args.csv, index=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
