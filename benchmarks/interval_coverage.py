"""Coverage of the time-series and cluster intervals by seeded simulation (issue 15).

    .venv/bin/python benchmarks/interval_coverage.py            # the full grid (about a minute)
    .venv/bin/python benchmarks/interval_coverage.py --reps 60  # quick look

Three questions, each as the share of simulated samples whose nominal 95% interval holds the
true value (goal: at least 0.93 where the tables do not flag the comparison too small):

* **period rate** (:func:`analysis.stats.timeseries.rate_interval`, used by ``period_series``): a pooled
  rate ``Σ hits / Σ sentences`` of one group in one period, from ``n`` documents whose hits are
  gamma-Poisson (shape 1: bursty) and absent from 30 / 50 / 70% of documents by design; the
  studentized interval (now) against the percentile interval (before, ``ratio_bootstrap``);
* **difference-in-differences** (:func:`analysis.stats.resampling.studentized_contrast`, used by
  ``event_window``): four cells of ``n`` documents, one group doubling its rate after the event
  (planted effect 0.05 per sentence), studentized against percentile;
* **outlet clusters** (the framing and topics stages' ``cluster`` option,
  :func:`analysis.stats.models.cluster_bootstrap_difference`): two groups of ``G`` outlets each with an
  outlet random effect (ICC about 0.2, 8 documents per outlet), the difference in mean rate; the
  studentized outlet cluster bootstrap (what the tables use:
  :func:`analysis.stats.resampling.studentized_contrast` with outlets as the units) against the
  percentile outlet bootstrap it replaced (``method="percentile"``) and the document bootstrap
  that ignores outlets. Here ``n`` is the number of outlets per group.

Prints a table and writes ``benchmarks/results/interval_coverage.csv`` (columns ``question,
method, n, zeros, coverage, samples, goal, met``). Pure simulation: reads no corpus.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from common import RESULTS, log  # noqa: E402

from analysis.stats.models import cluster_bootstrap_difference  # noqa: E402
from analysis.stats.resampling import studentized_contrast  # noqa: E402
from analysis.stats.timeseries import rate_interval, ratio_bootstrap  # noqa: E402

GOAL = 0.93
RATE = 0.05  # hits per sentence
ITEMS = 5  # independent items (frames) per simulated corpus


def documents(
    rng: np.random.Generator, n: int, rate: float, zeros: float, shape: float = 1.0
) -> tuple[np.ndarray, np.ndarray]:
    """``n`` documents: hits (n × ITEMS) with mean ``rate`` per sentence, and sentences (5-39)."""
    sentences = rng.integers(5, 40, n).astype(float)
    present = rng.random((n, ITEMS)) >= zeros
    mean = rng.gamma(shape, 1.0 / shape, (n, ITEMS)) * rate * sentences[:, None] / (1.0 - zeros)
    return rng.poisson(mean * present).astype(float), sentences


def percentile_contrast(cells, weights, n_resamples: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """The percentile interval the event table had before: resample each cell, take the 2.5/97.5 percentiles."""
    total = 0.0
    for (y, m), w in zip(cells, weights):
        draws = rng.multinomial(len(m), np.full(len(m), 1 / len(m)), size=n_resamples).astype(float)
        total = total + w * (draws @ y) / (draws @ m)[:, None]
    return np.nanpercentile(total, 2.5, axis=0), np.nanpercentile(total, 97.5, axis=0)


def studentized(cells, weights, n_resamples: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """What ``event_window`` computes: the bootstrap-t interval with its Welch t floor."""
    return studentized_contrast(cells, weights, n_resamples=n_resamples, rng=rng, welch_floor=True)


def rate_coverage(n: int, zeros: float, reps: int, seed: int, method: str) -> float:
    rng = np.random.default_rng(seed)
    hit = 0
    for _ in range(reps):
        y, m = documents(rng, n, RATE, zeros)
        low, high = (rate_interval if method == "studentized" else ratio_bootstrap)(y, m, 499, rng)
        hit += int(((low <= RATE) & (RATE <= high)).sum())
    return hit / (reps * ITEMS)


def did_coverage(n: int, zeros: float, reps: int, seed: int, method: str) -> float:
    rng = np.random.default_rng(seed)
    rates, weights = (RATE, 2 * RATE, RATE, RATE), (-1.0, 1.0, 1.0, -1.0)  # a doubles after, b flat: DiD = RATE
    hit = 0
    for _ in range(reps):
        cells = [documents(rng, n, r, zeros) for r in rates]
        low, high = (studentized if method == "studentized" else percentile_contrast)(cells, weights, 499, rng)
        hit += int(((low <= RATE) & (RATE <= high)).sum())
    return hit / (reps * ITEMS)


def clustered(rng: np.random.Generator, outlets: int, per_outlet: int, difference: float, icc: float = 0.2):
    """Per-document rates of two groups of ``outlets`` outlets each.

    An outlet random intercept carries share ``icc`` of the variance.
    """
    n = 2 * outlets * per_outlet
    outlet = np.repeat(np.arange(2 * outlets), per_outlet)
    group = np.where(outlet < outlets, "a", "b")
    effect = rng.normal(0.0, np.sqrt(icc), 2 * outlets)[outlet]
    values = 10.0 + difference * (group == "a") + effect + rng.normal(0.0, np.sqrt(1 - icc), n)
    return values, group, np.array([f"o{o}" for o in outlet], dtype=object)


def cluster_coverage(outlets: int, reps: int, seed: int, method: str, per_outlet: int = 8) -> float:
    rng = np.random.default_rng(seed)
    hit = 0
    for _ in range(reps):
        values, group, outlet = clustered(rng, outlets, per_outlet, 0.5)
        units = outlet if method.startswith("outlet clusters") else np.arange(len(values)).astype(str).astype(object)
        kind = "percentile" if method.endswith("percentile (before)") or method == "documents" else "studentized"
        low, high = cluster_bootstrap_difference(
            values, group, units, a="a", b="b", n_resamples=499, rng=rng, method=kind
        )
        hit += int(low <= 0.5 <= high)
    return hit / reps


def run(reps: int = 200) -> pd.DataFrame:
    rows = []
    for n in (5, 10, 20, 40):
        for zeros in (0.3, 0.5, 0.7):
            for method in ("percentile", "studentized"):
                rows.append(("period rate", method, n, zeros, rate_coverage(n, zeros, reps, 1, method), reps * ITEMS))
                rows.append(
                    (
                        "difference-in-differences",
                        method,
                        n,
                        zeros,
                        did_coverage(n, zeros, reps // 2, 2, method),
                        reps // 2 * ITEMS,
                    )
                )
        log(f"{n} documents per cell done")
    for outlets in (5, 10, 20, 40):
        for method in ("documents", "outlet clusters, percentile (before)", "outlet clusters, studentized (now)"):
            rows.append(
                (
                    "difference, outlet random effects",
                    method,
                    outlets,
                    float("nan"),
                    cluster_coverage(outlets, 2 * reps, 3, method),
                    2 * reps,
                )
            )
    table = pd.DataFrame(rows, columns=["question", "method", "n", "zeros", "coverage", "samples"])
    table["goal"] = f">= {GOAL}"
    table["met"] = table["coverage"] >= GOAL
    return table


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=200, help="simulated samples per cell of the grid (x5 items)")
    args = parser.parse_args(argv)
    table = run(args.reps)
    print(table.to_string(index=False))
    RESULTS.mkdir(parents=True, exist_ok=True)
    table.to_csv(RESULTS / "interval_coverage.csv", index=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
