"""Benchmark of dictionary validation and the DSL correction (analysis/validation).

    .venv/bin/python benchmarks/validation.py                    # simulation + real labels (a few minutes)
    .venv/bin/python benchmarks/validation.py --skip-corpora     # simulation only
    .venv/bin/python benchmarks/validation.py --vntc 2000 --reps 4000 --out /tmp/validation.csv

(a) Simulation of planted differential error: per language 2,000 units, prevalence 0.35 (vi) and
0.25 (en), the dictionary right with probability 0.85 (vi) and 0.70 (en); 200 units per
language coded (100 with a hit, 100 without). Reported: the coverage of the 95% intervals of the
DSL-corrected and the naive (dictionary-only) vi - en difference around the true 0.10, for the
sandwich and the stratified variance; and the coding-budget planner's predicted half-width
against the simulated one (mean reported half-width, and 1.96 x the spread of the estimates).

(a') Units nested in documents (sentences or KWIC windows): coverage of the corrected vi - en
share of sentences with the stratified variance clustered by document, against the same
variance treating the sentences as independent (:func:`simulate_nested`).

(b) Real labels: ``../shared/corpora/vntc_sample`` (Vietnamese, ``--vntc`` articles evenly
spaced over the sorted metadata, so every category keeps its share) and
``../shared/corpora/bbc_news`` (English, ``--bbc`` articles, 0 = all 2,225) are run through the
toolkit's dictionary with the public API (``va.open_study``, ``study.prepare()``,
``corpus.annotate()``, ``va.frame_salience``). The human code of the economy frames
(``economy_trade``, ``economic_consequences`` and ``economy_any`` = either) is "the article's
category is business" (VNTC ``kinh_doanh``, BBC ``business``). A stratified coding sample is drawn,
blind sheets are made for two scripted coders who code from the category with 5% random slips,
agreement is measured, ties are adjudicated from the category, and the dictionary's
precision/recall/F1 and the DSL-corrected vs naive prevalence difference are compared with the
full-sample truth (the category shares of all prepared articles). Then ``--draws`` further coding
samples of the same articles (coders = the category) give the coverage of the corrected and naive
intervals of the vi - en difference on real data.
(b') Which patterns make false hits, on the same real labels: per codebook pattern of the economy
frames and language, the coded hits, false hits and weighted precision with its interval
(:func:`analysis.validation.audit.pattern_precision`, the ``codebook_audit_precision`` table),
against the pattern's precision over all articles (the share of its hits in business articles);
reported: how often the interval covers that full-sample value.

Prints the tables and writes one long CSV (``--out``; default
``benchmarks/results/validation.csv``). Inputs are read, never modified (the derived study and
metadata go to a temporary folder; the prepared-document cache is ``--cache``).
"""

from __future__ import annotations

import argparse
import csv
import sys
import tempfile
import time
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

import analysis as va  # noqa: E402
from analysis.stages.validation import codebook_patterns, coded_hits  # noqa: E402
from analysis.validation.accuracy import accuracy_table, differential_error  # noqa: E402
from analysis.validation.agreement import alpha_table, disagreements, reference_codes  # noqa: E402
from analysis.validation.audit import pattern_precision  # noqa: E402
from analysis.validation.dsl import dsl_prevalence  # noqa: E402
from analysis.validation.planner import dsl_mean_variance, pilot_assumptions, plan_coding_budget  # noqa: E402
from analysis.validation.sampling import coder_sheet, draw_coding_sample, inclusion_probabilities  # noqa: E402

CORPORA = ROOT.parent / "shared" / "corpora"
SEED = 20261206
ECONOMY = ("economy_trade", "economic_consequences")
FRAMES = (*ECONOMY, "economy_any")
BUSINESS = {"vi": "kinh_doanh", "en": "business"}
Z = 1.959963984540054


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# ----------------------------------------------------------------------------- (a) simulation


def simulated_language(rng, n, prevalence, *, accuracy=None, precision=None, recall=None):
    """``(y, yhat)`` of one language: symmetric accuracy, or precision/recall at the prevalence."""
    y = rng.random(n) < prevalence
    if accuracy is not None:
        yhat = np.where(rng.random(n) < accuracy, y, ~y)
    else:
        q = prevalence * recall / precision
        fpr = (q - prevalence * recall) / (1 - prevalence)
        yhat = np.where(y, rng.random(n) < recall, rng.random(n) < fpr)
    return y.astype(float), yhat.astype(int)


def code_balanced(rng, y, yhat, per_language):
    """Half the coded units among hits, half among non-hits: ``(y with NaN where uncoded, pi)``."""
    coded = np.zeros(len(y), bool)
    pi = np.empty(len(y))
    for h in (0, 1):
        rows = np.flatnonzero(yhat == h)
        k = min(per_language // 2, len(rows))
        coded[rng.choice(rows, k, replace=False)] = True
        pi[rows] = k / len(rows)
    return np.where(coded, y, np.nan), pi


def simulate(reps: int, seed: int, per_language: int = 200, n_units: int = 2000) -> pd.DataFrame:
    """Coverage of the corrected and naive vi - en difference under planted differential error."""
    rng = np.random.default_rng(seed)
    truth = 0.35 - 0.25
    records = {v: [] for v in ("sandwich", "stratified")}
    for _ in range(reps):
        parts = []
        for lang, p, acc in (("vi", 0.35, 0.85), ("en", 0.25, 0.70)):
            y, yhat = simulated_language(rng, n_units, p, accuracy=acc)
            yc, pi = code_balanced(rng, y, yhat, per_language)
            parts.append(pd.DataFrame({"language": lang, "y": yc, "yhat": yhat, "pi": pi, "stratum": yhat}))
        data = pd.concat(parts, ignore_index=True)
        for variance in records:
            records[variance].append(
                dsl_prevalence(data, outcome="y", predicted="yhat", pi="pi", variance=variance).iloc[2]
            )
    rows = []
    for variance, rs in records.items():
        t = pd.DataFrame(rs)
        rows.append(
            {
                "part": "simulation",
                "variance": variance,
                "measure": "coverage_corrected",
                "value": float(((t["low"] <= truth) & (truth <= t["high"])).mean()),
                "goal": ">= 0.93",
            }
        )
        rows.append(
            {
                "part": "simulation",
                "variance": variance,
                "measure": "coverage_naive",
                "value": float(((t["naive_low"] <= truth) & (truth <= t["naive_high"])).mean()),
                "goal": "reported",
            }
        )
        rows.append(
            {
                "part": "simulation",
                "variance": variance,
                "measure": "mean_corrected_minus_truth",
                "value": float(t["estimate"].mean() - truth),
                "goal": "~0",
            }
        )
        rows.append(
            {
                "part": "simulation",
                "variance": variance,
                "measure": "mean_naive_minus_truth",
                "value": float(t["naive"].mean() - truth),
                "goal": "reported",
            }
        )
        rows.append(
            {
                "part": "simulation",
                "variance": variance,
                "measure": "mean_half_width",
                "value": float((t["high"] - t["estimate"]).mean()),
                "goal": "reported",
            }
        )
    # the planner on the same design: precision/recall implied by the symmetric accuracies
    assumptions = []
    for lang, p, acc in (("vi", 0.35, 0.85), ("en", 0.25, 0.70)):
        q = p * acc + (1 - p) * (1 - acc)
        assumptions.append(
            {"language": lang, "prevalence": p, "precision": p * acc / q, "recall": acc, "n_units": n_units}
        )
    assumptions = pd.DataFrame(assumptions)
    for variance in records:
        t = pd.DataFrame(records[variance])
        predicted = Z * np.sqrt(
            sum(
                dsl_mean_variance(
                    prevalence=a["prevalence"],
                    precision=a["precision"],
                    recall=a["recall"],
                    n_units=n_units,
                    n_coded=per_language,
                    variance=variance,
                )
                for _, a in assumptions.iterrows()
            )
        )
        simulated = float((t["high"] - t["estimate"]).mean())
        rows.append(
            {
                "part": "planner",
                "variance": variance,
                "measure": "predicted_half_width",
                "value": float(predicted),
                "goal": "reported",
            }
        )
        rows.append(
            {
                "part": "planner",
                "variance": variance,
                "measure": "predicted_over_simulated_half_width",
                "value": float(predicted / simulated),
                "goal": "0.8-1.2",
            }
        )
        rows.append(
            {
                "part": "planner",
                "variance": variance,
                "measure": "predicted_over_1.96_sd_of_estimates",
                "value": float(predicted / (Z * t["estimate"].std())),
                "goal": "0.8-1.2" if variance == "stratified" else ">= 1 (conservative)",
            }
        )
    plan = plan_coding_budget(assumptions, half_width=0.05).set_index("language")
    rows.append(
        {
            "part": "planner",
            "variance": "stratified",
            "measure": "coded_per_language_for_half_width_0.05",
            "value": float(plan.loc["vi", "n_coded"]),
            "goal": "reported",
        }
    )
    return pd.DataFrame(rows)


def simulate_nested(reps: int, seed: int, docs: int = 150, per_doc: int = 10, per_language: int = 200) -> pd.DataFrame:
    """Sentence units nested in documents: coverage of the corrected vi - en share of sentences with the
    stratified variance clustered by document (what the stage uses for sentences and KWIC windows)
    against the same variance treating sentences as independent, and the sandwich clustered by document.

    Per language ``docs`` documents of ``per_doc`` sentences; a document's sentences share its
    propensity (Beta(0.6, 1.4) in vi, Beta(0.5, 1.5) in en: superpopulation shares 0.30 and 0.25,
    intra-document correlation about 0.33); the dictionary right with probability 0.85 (vi) and
    0.70 (en); ``per_language`` sentences coded, half among hits."""
    rng = np.random.default_rng([seed, 2])
    truth = 0.30 - 0.25
    variants = {
        "stratified, clustered by document": ("stratified", "doc"),
        "stratified, sentences independent": ("stratified", None),
        "sandwich, clustered by document": ("sandwich", "doc"),
    }
    records = {name: [] for name in variants}
    for _ in range(reps):
        parts = []
        for lang, (a, b), acc in (("vi", (0.6, 1.4), 0.85), ("en", (0.5, 1.5), 0.70)):
            doc = np.repeat(np.arange(docs), per_doc)
            y = (rng.random(len(doc)) < rng.beta(a, b, docs)[doc]).astype(float)
            yhat = np.where(rng.random(len(doc)) < acc, y, 1 - y).astype(int)
            yc, pi = code_balanced(rng, y, yhat, per_language)
            parts.append(
                pd.DataFrame({"language": lang, "doc": np.char.add(lang, doc.astype(str)), "y": yc, "yhat": yhat,
                              "pi": pi, "stratum": yhat})
            )  # fmt: skip
        data = pd.concat(parts, ignore_index=True)
        for name, (variance, cluster) in variants.items():
            records[name].append(
                dsl_prevalence(data, outcome="y", predicted="yhat", pi="pi", variance=variance, cluster=cluster).iloc[2]
            )
    rows = []
    for name, rs in records.items():
        t = pd.DataFrame(rs)
        for measure, value, goal in (
            ("coverage_corrected", ((t["low"] <= truth) & (truth <= t["high"])).mean(), ">= 0.93"),
            ("mean_corrected_minus_truth", t["estimate"].mean() - truth, "~0"),
            ("mean_half_width", (t["high"] - t["estimate"]).mean(), "reported"),
            ("half_width_over_1.96_sd", (t["high"] - t["estimate"]).mean() / (Z * t["estimate"].std()), "~1"),
        ):
            rows.append({"part": "nested units", "variance": name, "measure": measure, "value": float(value),
                         "goal": goal if name.startswith("stratified, clustered") else "reported"})  # fmt: skip
    return pd.DataFrame(rows)


# ----------------------------------------------------------------------------- (b) real labels


def select_rows(corpus: Path, limit: int) -> list[dict]:
    """``limit`` metadata rows evenly spaced (the metadata is sorted by category); 0 = all."""
    with open(corpus / "metadata.csv", encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    if limit and limit < len(rows):
        rows = [rows[(i * len(rows)) // limit] for i in range(limit)]
    return rows


def write_study(folder: Path, rows: list[dict], cache: Path, workers: int) -> Path:
    """A temporary study over ``rows`` of the shared corpora (one metadata CSV, folder = corpora root)."""
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "metadata.csv", "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(
            handle, fieldnames=["doc_id", "file", "language", "outlet", "title"], lineterminator="\n"
        )
        writer.writeheader()
        writer.writerows(rows)
    (folder / "study.toml").write_text(
        'name = "validation-benchmark"\n\n[corpus]\n'
        f'folder = "{CORPORA.as_posix()}"\nmetadata = "metadata.csv"\nlanguages = ["vi", "en"]\n\n'
        f'[run]\noutput = "out"\ncache = "{cache.as_posix()}"\nworkers = {workers}\n',
        encoding="utf-8",
    )
    return folder / "study.toml"


def dictionary_units(vntc: int, bbc: int, cache: Path, workers: int) -> tuple[pd.DataFrame, pd.Series]:
    """Per article: language, category, the dictionary's presence of the economy frames; and the texts."""
    rows, category = [], {}
    for name, limit in (("vntc_sample", vntc), ("bbc_news", bbc)):
        for r in select_rows(CORPORA / name, limit):
            rows.append(
                {
                    "doc_id": r["doc_id"],
                    "file": f"{name}/{r['path']}",
                    "language": r["language"],
                    "outlet": name,
                    "title": "",
                }
            )
            category[r["doc_id"]] = r["category"]
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        study = va.open_study(write_study(Path(tmp), rows, cache, workers))
        corpus = study.prepare()
        annotations = corpus.annotate()
        codebook = corpus.codebook()
        salience = va.frame_salience(annotations, codebook)
        log(f"prepared and annotated {len(annotations)} articles ({time.perf_counter() - start:.0f} s)")
        codes = {f: ("frames", f) for f in ECONOMY}
        hits = pd.DataFrame(
            [(a.doc_id, a.language, column, h.pattern) for a in annotations for column, _, h in coded_hits(a, codes)],
            columns=["unit_id", "language", "frame", "pattern"],
        ).assign(left="", keyword="", right="")
        patterns = codebook_patterns(codebook, codes, {})[["frame", "language", "pattern"]]
    known = set(salience["frame"])
    missing = [f for f in ECONOMY if f not in known]
    if missing:
        raise SystemExit(f"the codebook has no frame {missing}; update ECONOMY in benchmarks/validation.py")
    present = salience[salience["frame"].isin(ECONOMY)].pivot_table(
        index=["doc_id", "language"], columns="frame", values="present", aggfunc="max"
    )
    units = present.reset_index().rename(columns={"doc_id": "unit_id"})
    units[list(ECONOMY)] = units[list(ECONOMY)].astype(int)
    units["economy_any"] = units[list(ECONOMY)].max(axis=1)
    units["category"] = units["unit_id"].map(category)
    units["truth"] = [int(c == BUSINESS[lang]) for c, lang in zip(units["category"], units["language"])]
    files = pd.Series({r["doc_id"]: r["file"] for r in rows})
    return units, files, hits, patterns


def pattern_check(units, hits, patterns, sample, reference) -> pd.DataFrame:
    """Each economy pattern's weighted precision from the coded sample beside its precision over all articles."""
    coded = reference[reference["frame"].isin(ECONOMY)]
    weights = coded[["unit_id", "frame"]].assign(
        weight=coded["unit_id"].map(sample.set_index("unit_id")["weight"]).to_numpy()
    )
    table = pattern_precision(patterns, hits[hits["unit_id"].isin(set(coded["unit_id"]))], coded, weights)
    truth = hits.assign(business=hits["unit_id"].map(units.set_index("unit_id")["truth"]))
    full = truth.groupby(["frame", "language", "pattern"])["business"].agg(["mean", "size"]).reset_index()
    table = table.merge(
        full.rename(columns={"mean": "precision_full", "size": "hits_full"}),
        on=["frame", "language", "pattern"],
        how="left",
    )
    table["covers"] = (table["precision_low"] <= table["precision_full"]) & (
        table["precision_full"] <= table["precision_high"]
    )
    return table


def scripted_coder(sheet: pd.DataFrame, truth: pd.Series, *, slip: float, seed: int, frames) -> pd.DataFrame:
    """Fill a sheet from the category, each code flipped with probability ``slip`` (a fallible person)."""
    rng = np.random.default_rng([seed, zlib.crc32(str(sheet["coder"].iloc[0]).encode("utf-8"))])
    filled = sheet.drop(columns=["text"]).copy()
    base = truth.loc[filled["unit_id"]].to_numpy()
    for frame in frames:
        filled[frame] = np.where(rng.random(len(filled)) < slip, 1 - base, base)
    return filled


def real_labels(vntc: int, bbc: int, per_stratum: int, cache: Path, workers: int, seed: int, n_boot: int):
    units, files, hits, patterns = dictionary_units(vntc, bbc, cache, workers)
    sample, design = draw_coding_sample(units, hit_columns=list(ECONOMY), size_per_stratum=per_stratum, seed=seed)
    texts = {u: (CORPORA / files[u]).read_text(encoding="utf-8") for u in sample["unit_id"]}
    log(f"coding sample {design.draw_id}: {design.sampled} of {design.population}")
    truth = units.set_index("unit_id")["truth"]
    sheets = [coder_sheet(sample, texts, design, frames=list(FRAMES), coder=c) for c in ("coder_a", "coder_b")]
    codes = pd.concat(
        [scripted_coder(s, truth, slip=0.05, seed=seed, frames=FRAMES) for s in sheets], ignore_index=True
    )
    alphas = alpha_table(codes, frames=list(FRAMES), seed=seed, n_boot=n_boot)
    disputed = disagreements(codes, frames=list(FRAMES))
    adjudicated = pd.DataFrame(
        {"unit_id": disputed["unit_id"], "frame": disputed["frame"], "code": truth.loc[disputed["unit_id"]].to_numpy()}
    )
    reference = reference_codes(codes, frames=list(FRAMES), adjudicated=adjudicated)
    accuracy = accuracy_table(sample, reference, design, frames=list(FRAMES), seed=seed, n_boot=n_boot)
    differential = differential_error(sample, reference, design, frames=list(FRAMES), seed=seed, n_boot=n_boot)
    # full-population ("true") precision/recall for comparison with the sample estimates
    full = []
    for frame in FRAMES:
        for lang, g in units.groupby("language"):
            tp = int((g[frame] & g["truth"]).sum())
            full.append(
                {
                    "language": lang,
                    "frame": frame,
                    "precision_full": tp / max(int(g[frame].sum()), 1),
                    "recall_full": tp / max(int(g["truth"].sum()), 1),
                }
            )
    accuracy = accuracy.merge(pd.DataFrame(full), on=["language", "frame"])
    probs = inclusion_probabilities(units, design)
    population = units.assign(pi=probs["pi"].to_numpy(), stratum=probs["stratum"].to_numpy())
    true_share = units.groupby("language")["truth"].mean()
    true_diff = float(true_share["vi"] - true_share["en"])
    prevalence = []
    for frame in FRAMES:
        ref = reference[reference["frame"] == frame].set_index("unit_id")["reference"].astype(float)
        data = population.assign(y=population["unit_id"].map(ref))
        for variance in ("sandwich", "stratified"):
            t = dsl_prevalence(data, outcome="y", predicted=frame, pi="pi", variance=variance)
            t.insert(0, "frame", frame)
            t.insert(1, "variance", variance)
            t["truth"] = [float(true_share["vi"]), float(true_share["en"]), true_diff]
            t["corrected_covers_truth"] = (t["low"] <= t["truth"]) & (t["truth"] <= t["high"])
            t["naive_covers_truth"] = (t["naive_low"] <= t["truth"]) & (t["truth"] <= t["naive_high"])
            prevalence.append(t)
    prevalence = pd.concat(prevalence, ignore_index=True)
    stratified = prevalence[prevalence["variance"] == "stratified"]
    pilot = pilot_assumptions(
        accuracy,
        stratified[stratified["frame"] == "economy_trade"],
        frame="economy_trade",
        n_units=units["language"].value_counts().to_dict(),
    )
    try:
        plan = plan_coding_budget(pilot, half_width=0.05, split="optimal")
    except ValueError as error:  # a small run: even coding everything is not that precise
        log(f"coding budget: {error}")
        plan = pd.DataFrame({"language": ["(target not reachable)"]})
    return {
        "patterns": pattern_check(units, hits, patterns, sample, reference),
        "hits": hits,
        "reference": reference,
        "units": units,
        "sample": sample,
        "alphas": alphas,
        "accuracy": accuracy,
        "differential": differential,
        "prevalence": prevalence,
        "plan": plan,
    }


def repeated_draws(units: pd.DataFrame, draws: int, per_stratum: int, seed: int) -> pd.DataFrame:
    """Coverage over ``draws`` independent coding samples of the same articles (coders = the category):
    how often the 95% interval of the vi - en difference contains the full-sample truth."""
    share = units.groupby("language")["truth"].mean()
    truth = float(share["vi"] - share["en"])
    records = []
    for d in range(draws):
        sample, design = draw_coding_sample(
            units, hit_columns=list(ECONOMY), size_per_stratum=per_stratum, seed=seed + 1 + d
        )
        probs = inclusion_probabilities(units, design)
        coded = units["unit_id"].isin(sample["unit_id"]).to_numpy()
        data = units.assign(
            pi=probs["pi"].to_numpy(), stratum=probs["stratum"].to_numpy(), y=np.where(coded, units["truth"], np.nan)
        )
        for frame in FRAMES:
            for variance in ("sandwich", "stratified"):
                r = dsl_prevalence(data, outcome="y", predicted=frame, pi="pi", variance=variance).iloc[2]
                records.append(
                    {
                        "frame": frame,
                        "variance": variance,
                        "corrected": r["low"] <= truth <= r["high"],
                        "naive": r["naive_low"] <= truth <= r["naive_high"],
                        "estimate": r["estimate"],
                        "half_width": r["high"] - r["estimate"],
                    }
                )
    t = pd.DataFrame(records)
    out = (
        t.groupby(["frame", "variance"], sort=False)
        .agg(
            coverage_corrected=("corrected", "mean"),
            coverage_naive=("naive", "mean"),
            mean_corrected_minus_truth=("estimate", lambda e: e.mean() - truth),
            mean_half_width=("half_width", "mean"),
            sd_corrected=("estimate", "std"),
        )
        .reset_index()
    )
    out.insert(2, "draws", draws)
    return out


def long_rows(part: str, table: pd.DataFrame, keys: list[str]) -> list[dict]:
    rows = []
    for _, r in table.iterrows():
        label = "/".join(str(r[k]) for k in keys)
        for column in table.columns:
            if column not in keys and isinstance(r[column], (int, float, np.integer, np.floating, bool, np.bool_)):
                rows.append({"part": part, "variance": label, "measure": column, "value": float(r[column]), "goal": ""})
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reps", type=int, default=2000, help="simulation replicates")
    parser.add_argument("--nested-reps", type=int, default=1000, help="replicates of the nested-units simulation")
    parser.add_argument("--vntc", type=int, default=1000, help="VNTC articles (evenly spaced; 0 = all 10,000)")
    parser.add_argument("--bbc", type=int, default=0, help="BBC articles (0 = all 2,225)")
    parser.add_argument("--per-stratum", type=int, default=100, help="coded articles per language × hit stratum")
    parser.add_argument("--boot", type=int, default=2000, help="bootstrap replicates for alpha and accuracy")
    parser.add_argument("--draws", type=int, default=200, help="repeated coding draws on the real labels")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--cache", default=str(ROOT / ".cache"), help="prepared-document cache")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "validation.csv"))
    parser.add_argument("--skip-corpora", action="store_true", help="run the simulation only")
    args = parser.parse_args(argv)
    pd.set_option("display.width", 250, "display.max_columns", 30, "display.float_format", "{:.3f}".format)
    start = time.perf_counter()
    sim = simulate(args.reps, args.seed)
    log(f"simulation: {args.reps} replicates ({time.perf_counter() - start:.0f} s)")
    print("\n(a) planted differential error (vi 85% / en 70% accurate), 200 coded units per language\n")
    print(sim.to_string(index=False))
    rows = sim.to_dict("records")
    start_nested = time.perf_counter()
    nested = simulate_nested(args.nested_reps, args.seed)
    log(f"nested units: {args.nested_reps} replicates ({time.perf_counter() - start_nested:.0f} s)")
    print("\n(a') sentences nested in documents (150 documents of 10 sentences per language), 200 coded per language\n")
    print(nested.to_string(index=False))
    rows += nested.to_dict("records")
    if not args.skip_corpora:
        if not (CORPORA / "vntc_sample").is_dir() or not (CORPORA / "bbc_news").is_dir():
            log(f"corpora not found under {CORPORA}; real-label part skipped")
        else:
            result = real_labels(
                args.vntc, args.bbc, args.per_stratum, Path(args.cache), args.workers, args.seed, args.boot
            )
            alphas, accuracy, differential, prevalence, plan = (
                result[k] for k in ("alphas", "accuracy", "differential", "prevalence", "plan")
            )
            print("\n(b) real labels: business category as the human code of the economy frames\n")
            print("Agreement of two scripted coders (5% slips):")
            print(alphas.to_string(index=False))
            print(
                "\nDictionary accuracy (weighted sample estimate, 95% stratified-bootstrap interval; "
                "*_full = all articles):"
            )
            print(accuracy.to_string(index=False))
            print("\nDifferential error (vi - en):")
            print(differential.to_string(index=False))
            print("\nPrevalence: DSL-corrected vs naive, against the full-sample truth:")
            print(prevalence.to_string(index=False))
            repeated = repeated_draws(result["units"], args.draws, args.per_stratum, args.seed)
            print(
                f"\nRepeated coding draws ({args.draws}, perfect coders): "
                "coverage of the vi - en difference's 95% interval:"
            )
            print(repeated.to_string(index=False))
            rows += long_rows("repeated_draws", repeated, ["frame", "variance"])
            checked = result["patterns"][result["patterns"]["coded_hits"] > 0]
            print("\n(b') per pattern (coded hits > 0): weighted precision and 95% interval vs all articles:")
            print(
                checked.sort_values(["frame", "language", "precision"])[
                    ["frame", "language", "pattern", "coded_hits", "coded_units", "false_hits", "precision"]
                    + ["precision_low", "precision_high", "precision_full", "hits_full", "covers"]
                ].to_string(index=False)
            )
            summary = (
                checked.groupby("language")
                .agg(patterns=("pattern", "size"), covered=("covers", "mean"), false_hits=("false_hits", "sum"))
                .reset_index()
            )
            print(summary.to_string(index=False))
            rows += long_rows("pattern_precision", summary, ["language"])
            print("\nCoding budget for a 0.05 half-width of the economy_trade difference (pilot = this sample):")
            print(plan.to_string(index=False))
            rows += long_rows("agreement", alphas, ["frame", "language"])
            rows += long_rows("accuracy", accuracy, ["frame", "language"])
            rows += long_rows("differential_error", differential, ["frame", "metric"])
            rows += long_rows("prevalence", prevalence, ["frame", "variance", "quantity"])
            rows += long_rows("plan", plan, ["language"])
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(rows, columns=["part", "variance", "measure", "value", "goal"]).to_csv(out, index=False)
    log(f"wrote {out} ({time.perf_counter() - start:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
