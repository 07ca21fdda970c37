"""Benchmark of the keyness permutations' stopping rules: level, agreement and cost, old rule vs new.

    .venv/bin/python benchmarks/keyness_stopping.py                 # defaults (about 10 minutes CPU)
    .venv/bin/python benchmarks/keyness_stopping.py --quick         # fewer replicates, smaller tables

:func:`analysis.stats.resampling.permutation_keyness` stops a term's permutations at ``h`` exceedances
(Besag & Clifford 1991) and runs the terms still undecided to ``max(B, 20 m)`` splits so that
Benjamini-Hochberg over ``m`` terms can reach q < 0.05 ("old": ``fdr_level=None``). The new rule also
stops a term once its BH decision at 0.05 is settled (MMCTest, Gandy & Hahn 2014: Clopper-Pearson
intervals of every p, BH on their upper and on their lower ends; cap 500,000 here). "budget": the default
since, the new rule within ``MAX_RESAMPLES`` splits, with a last classification there; the terms it leaves are
undecided and keep their estimate in q; "strict": the same splits, undecided terms counted as not rejected
(q on ``p_conservative``, Gandy & Hahn's reading). Counts are real: documents of
``../shared/corpora/bbc_news`` (English), lower-cased word tokens, terms in at least 2 of the sampled
documents (realistic sparse counts: most terms in a handful of documents). Three parts:

* **level** (all-null): ``--null-reps`` random halvings of ``--docs`` sampled documents; the share of
  tables with any q < 0.05 (under a complete null this is the FDR; BH bounds it at 0.05) and the
  share of terms with p < 0.05, old rule vs new;
* **agreement** (planted effects): random halvings with ``--planted`` of the terms (in at least 5
  documents) made more frequent in the target half (each target document gets
  ``Poisson(e · rate_j · length)`` extra tokens of term ``j``, ``e`` uniform on 0.5-4, so weak effects near
  the BH boundary are included): q < 0.05 decisions of the new rule against the old one and against
  a long run (the old rule with ``h = 100`` exceedances and a floor of ``100 m`` splits), the false
  discoveries (null terms with q < 0.05) and true ones; and whether BH on the reported p makes every
  decision the MMC classification settled (it should, unless an interval missed);
* **cost**: CPU seconds and splits drawn (summed over the terms of a comparison) per comparison, old
  vs new, on the planted tables and on a heavy case like the framing stage's: each BBC category
  against the rest (5 targets, thousands of truly key words).

Prints one table and writes ``benchmarks/results/keyness_stopping.csv`` (columns ``part, case, rule,
measure, value``). Inputs are read, never modified.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from common import CORPORA, RESULTS, log  # noqa: E402
from scipy import sparse, stats  # noqa: E402

import analysis.stats.resampling as rs  # noqa: E402

SEED = 20241206
TOKEN = re.compile(r"[a-z]+")
B = 200  # the permutations of the measured 10,000-article study
#: The cap of the "old" and "new" rules as they were measured first (the budget rule uses rs.MAX_RESAMPLES).
OLD_CAP = 500_000
#: old: Besag-Clifford + floor of 20 m splits; new: + MMC stopping (cap 500,000); budget: new within
#: MAX_RESAMPLES, q on the estimates (the default); strict: the same splits, undecided terms counted as not
#: rejected (q on ``p_conservative``).
RULES = ("old", "new", "budget", "strict")


def reported(result, rule: str, g: int = 0) -> np.ndarray:
    """The p BH runs on for the rule's q."""
    return result.p_conservative[g] if rule == "strict" else result.p[g]


def bbc_counts(limit: int = 0) -> tuple[sparse.csr_matrix, np.ndarray]:
    """Word counts of the BBC articles (documents x terms, terms in >= 2 documents) and each one's category."""
    paths = sorted((CORPORA / "bbc_news").glob("*.txt"))
    if limit:
        paths = [paths[(i * len(paths)) // limit] for i in range(limit)]
    docs = [TOKEN.findall(p.read_text(encoding="utf-8").lower()) for p in paths]
    categories = np.array([p.name.rsplit("_", 1)[0] for p in paths])
    vocab = {}
    rows, cols = [], []
    for i, words in enumerate(docs):
        for w in words:
            rows.append(i)
            cols.append(vocab.setdefault(w, len(vocab)))
    X = sparse.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(docs), len(vocab)))
    X.sum_duplicates()
    return X, categories


def keep_terms(X: sparse.csr_matrix, min_docs: int = 2) -> sparse.csr_matrix:
    df = np.asarray((X > 0).sum(axis=0)).ravel()
    return sparse.csr_matrix(X[:, df >= min_docs])


class Recorder:
    """Wraps ``settle_decisions`` to record which terms the MMC classification settled, and how."""

    def __init__(self):
        self.original = rs.settle_decisions
        self.calls = []

    def __call__(self, exceedances, n, p_stopped, active, family, **kw):
        rejected, accepted = self.original(exceedances, n, p_stopped, active, family, **kw)
        self.calls.append((np.asarray(active)[rejected], np.asarray(active)[accepted]))
        return rejected, accepted


def run_rule(X, labels, targets, rule: str, seed: int):
    """p-values (targets x terms), CPU seconds, splits drawn, and the MMC-settled (rejected, accepted) per target."""
    kwargs = {"n_resamples": B, "rng": np.random.default_rng(seed), "max_resamples": OLD_CAP}
    recorder = None
    if rule == "old":
        kwargs["fdr_level"] = None
    elif rule in ("budget", "strict"):
        kwargs["max_resamples"] = rs.MAX_RESAMPLES
    elif rule == "long":
        kwargs.update(fdr_level=None, stop_at=100, max_resamples=5_000_000)
    else:
        recorder = Recorder()
        rs.settle_decisions = recorder
    factor = rs.FLOOR_FACTOR
    if rule == "long":
        rs.FLOOR_FACTOR = 100
    t0 = time.process_time()
    try:
        result = rs.permutation_keyness(X, labels, targets, **kwargs)
    finally:
        rs.FLOOR_FACTOR = factor
        if recorder is not None:
            rs.settle_decisions = recorder.original
    cpu = time.process_time() - t0
    settled = None
    if recorder is not None:
        # one call per target per decision point, targets in order
        per_target = [(set(), set()) for _ in targets]
        for k, (rej, acc) in enumerate(recorder.calls):
            per_target[k % len(targets)][0].update(rej.tolist())
            per_target[k % len(targets)][1].update(acc.tolist())
        settled = per_target
    return result, cpu, settled


def decisions(p_row: np.ndarray, family: np.ndarray) -> np.ndarray:
    q = np.full(len(p_row), np.nan)
    q[family] = stats.false_discovery_control(p_row[family], method="bh")
    return q < 0.05


def level_part(X_all, args, rows):
    rng = np.random.default_rng(SEED)
    tallies = {
        r: {"any": 0, "rejections": 0, "p05": 0, "terms": 0, "cpu": 0.0, "splits": 0, "undecided": 0} for r in RULES
    }
    for rep in range(args.null_reps):
        docs = rng.choice(X_all.shape[0], args.docs, replace=False)
        X = keep_terms(X_all[docs])
        labels = rng.permutation(np.array(["a"] * (args.docs // 2) + ["b"] * (args.docs - args.docs // 2)))
        family = np.asarray(X.sum(axis=0)).ravel() > 0
        for rule in RULES:
            result, cpu, _ = run_rule(X, labels, ["a"], rule, seed=SEED + rep)
            rejected = decisions(reported(result, rule), family)
            t = tallies[rule]
            t["any"] += int(rejected.any())
            t["rejections"] += int(rejected.sum())
            t["p05"] += int((result.p[0][family] < 0.05).sum())
            t["terms"] += int(family.sum())
            t["cpu"] += cpu
            t["splits"] += int(result.splits[0][family].sum())
            t["undecided"] += int((~result.decided[0][family]).sum())
        log(f"level {rep + 1}/{args.null_reps}: {X.shape[1]} terms")
    for rule, t in tallies.items():
        case = f"all-null, {args.null_reps} halvings of {args.docs} docs"
        n = args.null_reps
        rows += [
            ("level", case, rule, "share of tables with any q < 0.05 (= FDR)", t["any"] / n),
            ("level", case, rule, "binomial 95% upper bound of that share", _upper(t["any"], n)),
            ("level", case, rule, "q < 0.05 per table", t["rejections"] / n),
            ("level", case, rule, "share of terms with p < 0.05", t["p05"] / t["terms"]),
            ("cost", case, rule, "CPU s per comparison", t["cpu"] / n),
            ("cost", case, rule, "splits drawn per comparison (all terms)", t["splits"] / n),
            ("level", case, rule, "undecided terms per table", t["undecided"] / n),
        ]


def _upper(k: int, n: int) -> float:
    return float(stats.beta.ppf(0.975, k + 1, n - k)) if k < n else 1.0


def planted_part(X_all, args, rows):
    rng = np.random.default_rng(SEED + 1)
    agg = {
        key: 0.0
        for key in (
            "terms",
            "true",
            "new_vs_old_disagree",
            "new_vs_long_disagree",
            "old_vs_long_disagree",
            "mmc_rejected",
            "mmc_accepted",
            "mmc_rejected_but_q_ge",
            "mmc_accepted_but_q_lt",
        )
    }
    per_rule = {
        r: {"disc": 0, "false": 0, "fdp": 0.0, "cpu": 0.0, "splits": 0, "undecided": 0} for r in (*RULES, "long")
    }
    agg["budget_vs_new_disagree"] = agg["strict_vs_new_disagree"] = 0.0
    for rep in range(args.planted_reps):
        docs = rng.choice(X_all.shape[0], args.docs, replace=False)
        X = keep_terms(X_all[docs]).tolil().astype(float)
        n = args.docs
        labels = rng.permutation(np.array(["a"] * (n // 2) + ["b"] * (n - n // 2)))
        Xc = sparse.csr_matrix(X)
        df = np.asarray((Xc > 0).sum(axis=0)).ravel()
        candidates = np.flatnonzero(df >= 5)
        planted = rng.choice(candidates, int(args.planted * len(candidates)), replace=False)
        lengths = np.asarray(Xc.sum(axis=1)).ravel()
        rate = np.asarray(Xc.sum(axis=0)).ravel() / lengths.sum()
        effect = rng.uniform(0.5, 4.0, len(planted))
        target = np.flatnonzero(labels == "a")
        extra = rng.poisson(np.outer(lengths[target], rate[planted] * effect))
        Xd = Xc.toarray()
        Xd[np.ix_(target, planted)] += extra
        X = sparse.csr_matrix(Xd)
        family = np.asarray(X.sum(axis=0)).ravel() > 0
        truth = np.zeros(X.shape[1], dtype=bool)
        truth[planted] = True
        got = {}
        for rule in (*RULES, "long"):
            result, cpu, settled = run_rule(X, labels, ["a"], rule, seed=SEED + 100 + rep)
            rejected = decisions(reported(result, rule), family)
            got[rule] = rejected
            r = per_rule[rule]
            r["disc"] += int(rejected.sum())
            r["false"] += int((rejected & ~truth).sum())
            r["fdp"] += (rejected & ~truth).sum() / max(1, rejected.sum())
            r["cpu"] += cpu
            r["splits"] += int(result.splits[0][family].sum())
            r["undecided"] += int((~result.decided[0][family]).sum())
            if settled is not None and rule == "new":
                rej, acc = (np.array(sorted(s), dtype=int) for s in settled[0])
                agg["mmc_rejected"] += len(rej)
                agg["mmc_accepted"] += len(acc)
                agg["mmc_rejected_but_q_ge"] += int((~rejected[rej]).sum()) if len(rej) else 0
                agg["mmc_accepted_but_q_lt"] += int(rejected[acc].sum()) if len(acc) else 0
        agg["terms"] += int(family.sum())
        agg["true"] += int(truth.sum())
        agg["new_vs_old_disagree"] += int((got["new"] != got["old"])[family].sum())
        agg["new_vs_long_disagree"] += int((got["new"] != got["long"])[family].sum())
        agg["old_vs_long_disagree"] += int((got["old"] != got["long"])[family].sum())
        agg["budget_vs_new_disagree"] += int((got["budget"] != got["new"])[family].sum())
        agg["strict_vs_new_disagree"] += int((got["strict"] != got["new"])[family].sum())
        log(f"planted {rep + 1}/{args.planted_reps}: {X.shape[1]} terms, {len(planted)} planted")
    reps = args.planted_reps
    case = f"planted {args.planted:.0%} of terms in >= 5 docs, {reps} halvings of {args.docs} docs"
    for rule, r in per_rule.items():
        rows += [
            ("agreement", case, rule, "q < 0.05 per table", r["disc"] / reps),
            ("agreement", case, rule, "false discoveries per table", r["false"] / reps),
            ("agreement", case, rule, "mean false discovery proportion", r["fdp"] / reps),
            ("agreement", case, rule, "share of planted terms found", (r["disc"] - r["false"]) / agg["true"]),
            ("cost", case, rule, "CPU s per comparison", r["cpu"] / reps),
            ("cost", case, rule, "splits drawn per comparison (all terms)", r["splits"] / reps),
            ("agreement", case, rule, "undecided terms per table", r["undecided"] / reps),
        ]
    rows += [
        ("agreement", case, "new vs old", "terms whose decision differs, per table", agg["new_vs_old_disagree"] / reps),
        (
            "agreement",
            case,
            "new vs long",
            "terms whose decision differs, per table",
            agg["new_vs_long_disagree"] / reps,
        ),
        (
            "agreement",
            case,
            "old vs long",
            "terms whose decision differs, per table",
            agg["old_vs_long_disagree"] / reps,
        ),
        ("agreement", case, "new vs old", "agreement rate (terms)", 1 - agg["new_vs_old_disagree"] / agg["terms"]),
        (
            "agreement",
            case,
            "budget vs new",
            "terms whose decision differs, per table",
            agg["budget_vs_new_disagree"] / reps,
        ),
        (
            "agreement",
            case,
            "strict vs new",
            "terms whose decision differs, per table",
            agg["strict_vs_new_disagree"] / reps,
        ),
        ("agreement", case, "new vs long", "agreement rate (terms)", 1 - agg["new_vs_long_disagree"] / agg["terms"]),
        ("agreement", case, "new (MMC)", "settled rejected, per table", agg["mmc_rejected"] / reps),
        ("agreement", case, "new (MMC)", "settled not rejected, per table", agg["mmc_accepted"] / reps),
        ("agreement", case, "new (MMC)", "settled rejected but BH q >= 0.05 (total)", agg["mmc_rejected_but_q_ge"]),
        ("agreement", case, "new (MMC)", "settled not rejected but BH q < 0.05 (total)", agg["mmc_accepted_but_q_lt"]),
    ]


def category_part(X_all, categories, args, rows):
    docs = np.random.default_rng(SEED + 2).choice(X_all.shape[0], args.category_docs, replace=False)
    X, labels = keep_terms(X_all[docs]), categories[docs]
    targets = sorted(set(labels))
    family = np.asarray(X.sum(axis=0)).ravel() > 0
    got = {}
    case = f"each of {len(targets)} BBC categories vs rest, {args.category_docs} docs, {int(family.sum())} terms"
    for rule in RULES:
        result, cpu, _ = run_rule(X, labels, targets, rule, seed=SEED + 2)
        got[rule] = np.array([decisions(reported(result, rule, g), family) for g in range(len(targets))])
        rows += [
            ("cost", case, rule, "CPU s per comparison", cpu / len(targets)),
            (
                "cost",
                case,
                rule,
                "splits drawn per comparison (all terms)",
                result.splits[:, family].sum() / len(targets),
            ),
            ("agreement", case, rule, "q < 0.05 per comparison", got[rule].sum() / len(targets)),
            (
                "agreement",
                case,
                rule,
                "undecided terms per comparison",
                (~result.decided[:, family]).sum() / len(targets),
            ),
        ]
        log(f"categories, {rule}: {cpu:.1f} s CPU")
    differ = (got["new"] != got["old"])[:, family].sum()
    rows.append(
        ("agreement", case, "new vs old", "terms whose decision differs, per comparison", differ / len(targets))
    )
    for rule in ("budget", "strict"):
        differ = (got[rule] != got["new"])[:, family].sum()
        rows.append(
            ("agreement", case, f"{rule} vs new", "terms whose decision differs, per comparison", differ / len(targets))
        )


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--docs", type=int, default=300, help="documents per simulated table")
    parser.add_argument("--null-reps", type=int, default=30)
    parser.add_argument("--planted-reps", type=int, default=5)
    parser.add_argument("--planted", type=float, default=0.1, help="share of terms in >= 5 documents given an effect")
    parser.add_argument("--category-docs", type=int, default=800, help="documents of the category-vs-rest case")
    parser.add_argument("--quick", action="store_true", help="10 null and 3 planted halvings of 200, 400 category docs")
    parser.add_argument("--out", type=Path, default=RESULTS / "keyness_stopping.csv")
    args = parser.parse_args(argv)
    if args.quick:
        args.docs, args.null_reps, args.planted_reps, args.category_docs = 200, 10, 3, 400
    X_all, categories = bbc_counts()
    log(f"BBC: {X_all.shape[0]} documents, {X_all.shape[1]} word types")
    rows: list[tuple] = []
    level_part(X_all, args, rows)
    planted_part(X_all, args, rows)
    category_part(X_all, categories, args, rows)
    table = pd.DataFrame(rows, columns=["part", "case", "rule", "measure", "value"])
    args.out.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(args.out, index=False)
    with pd.option_context("display.width", 200, "display.max_colwidth", 80, "display.max_rows", 200):
        print(table.to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    print(f"\nwritten {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
