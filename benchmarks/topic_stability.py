"""Benchmark: is the K search's stability criterion a property of the topics or of the sample size?

    .venv/bin/python benchmarks/topic_stability.py                          # the three corpora below
    .venv/bin/python benchmarks/topic_stability.py --corpora bbc --workers 2

Why: every sampled K search so far (``topic_search.py``: samples, coarse to fine, the scaled rule)
chose a smaller K than the full search, because stability across seeds (mean matched Hellinger
similarity of the topic-word distributions, :func:`analysis.topics.lda.stability`) is lower on
fewer documents. Two explanations predict different cures:

* **estimation noise**: phi is read from the *final* Gibbs sample, ``(n_kw + eta) / (n_k + V eta)``,
  whose noise grows as the tokens per topic shrink; then the posterior mean of phi (averaged over
  later sweeps of the same chain) or a measure that reads only each topic's leading terms should
  agree between a sample and the whole corpus;
* **the topics themselves**: with fewer documents per topic the seeds find different topics; then
  no measure will make a sample choose as the whole corpus does.

For each corpus (the toolkit's prepared documents, every fifth held out as in ``topic_search.py``),
every K of the range a study with an empty ``k_range`` gets and seeds 1, 2, 3 are fitted with the
toolkit's own training loop (:func:`analysis.topics.engines.train_tomotopy`: tomotopy, symmetric
priors held fixed, the convergence rule: tolerance 0.001 between windows of 100 iterations, at most
1,000) on every training document and on samples
(:func:`analysis.topics.lda.search_sample`, sizes ``--sizes``, draws with sample seeds 20240405,
1, 2). After convergence each fit runs 100 more sweeps and keeps ``n_kw`` every 10 (the average of
10 samples: the posterior mean of phi within the chain). Stability per K under five measures:

* ``hellinger``: the toolkit's (final sample, mean matched Hellinger similarity);
* ``hellinger_mean``: the same on phi averaged over the 100 later sweeps;
* ``jaccard10``, ``jaccard20``: mean matched Jaccard similarity of the topics' 10 / 20 most
  probable terms (Hungarian matching on the similarity);
* ``aj20``: Greene, O'Callaghan & Cunningham (2014)'s Average Jaccard of the ranked top 20
  terms, ``AJ(R1, R2) = 1/t sum_{d=1..t} J(R1@d, R2@d)``, matched the same way.

For each measure the toolkit's rule chooses K (stability >= 0.6, then the highest mean c_npmi on
the texts the fits saw; three seeds, and the first two). Held-out NMI per K: each seed's phi,
held-out documents folded in (``topic_search.fold_in``), dominant topic against category, mean over
seeds. Also the tokens' self-agreement: Hellinger similarity between a fit's final-sample phi and
its own 100-sweep mean (1 = no sampling noise).

Prints a table and writes ``benchmarks/results/topic_stability.csv`` (one row per corpus, sample
and K) and ``topic_stability_choices.csv`` (the chosen K per measure). Fits are kept in
``benchmarks/results/topic_stability_fits/`` (pickles of counts), so a re-run reuses them.
Reference: Greene, D., O'Callaghan, D. & Cunningham, P. (2014), How many topics? Stability analysis
for topic models, ECML PKDD, LNCS 8724, 498-513.
"""

from __future__ import annotations

import argparse
import itertools
import os
import pickle
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import topic_search  # noqa: E402  (fold_in, nmi, subset: the same protocol)
from common import RESULTS, log  # noqa: E402
from scipy.optimize import linear_sum_assignment  # noqa: E402

from analysis.study.settings import TopicSettings  # noqa: E402
from analysis.topics import engines  # noqa: E402
from analysis.topics import lda as topics  # noqa: E402

SEEDS = (1, 2, 3)
EXTRA_SWEEPS, SAMPLE_EVERY = 100, 10
MEASURES = ("hellinger", "hellinger_mean", "jaccard10", "jaccard20", "aj20")
#: corpus name -> (corpus for topics_nmi, VNTC limit, sample sizes and draws)
CORPORA = {
    "bbc": ("bbc", 0, ("1000", "500")),
    "vntc2500": ("vntc", 2500, ("1000", "500")),
    "vntc10000": ("vntc", 0, ("2000", "2000d1", "2000d2")),
}


def sample_of(train, label: str):
    """The training units (``all``) or a sample: ``<size>`` (sample seed 20240405) or ``<size>d<seed>``."""
    if label == "all":
        return train
    size, _, seed = label.partition("d")
    return topics.search_sample(train, int(size), int(seed) if seed else 20240405)


def fit_counts(path: str, label: str, k: int, seed: int) -> str:
    """One fit by the toolkit's own training loop (:func:`analysis.topics.engines.train_tomotopy`,
    the ``[topics]`` defaults: priors, convergence rule), then ``EXTRA_SWEEPS`` more with
    ``n_kw + eta`` kept every ``SAMPLE_EVERY``; stored beside ``path``. Returns the stored file
    (already there: not fitted again)."""
    out = Path(f"{path}.fits") / f"{label}_k{k}_s{seed}.pkl"
    if out.is_file():
        return str(out)
    import tomotopy as tp

    corpus = sample_of(pickle.loads(Path(path).read_bytes())["train"], label)
    start = time.process_time()
    # the study's default [topics] as the stage passes them (lda.engine_parameters)
    training = engines.train_tomotopy(corpus.counts, corpus.vocab, k, seed, **topics.engine_parameters(TopicSettings()))
    model, eta, done = training.model, training.eta, training.iterations
    vocab = corpus.vocab
    fit_cpu = time.process_time() - start
    column = {t: j for j, t in enumerate(model.used_vocabs)}
    order = np.array([column.get(t, -1) for t in corpus.vocab])

    def counts() -> np.ndarray:  # n_kw + eta (tomotopy's unnormalised distribution), our vocabulary order
        raw = np.array([model.get_topic_word_dist(t, normalize=False) for t in range(k)], dtype=np.float64)
        full = np.full((k, len(vocab)), eta)
        full[:, order >= 0] = raw[:, order[order >= 0]]
        return full

    final, total = counts(), np.zeros((k, len(vocab)))
    start = time.process_time()
    for _ in range(EXTRA_SWEEPS // SAMPLE_EVERY):
        model.train(SAMPLE_EVERY, workers=1, parallel=tp.ParallelScheme.NONE)
        total += counts()
    record = {
        "k": k,
        "seed": seed,
        "label": label,
        "iterations": done,
        "fit_cpu": fit_cpu,
        "mean_cpu": time.process_time() - start,
        "final": final,
        "mean": total / (EXTRA_SWEEPS // SAMPLE_EVERY),
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(f"{out.name}.{os.getpid()}.tmp")
    partial.write_bytes(pickle.dumps(record))
    os.replace(partial, out)
    return str(out)


def rows_of(phi: np.ndarray, t: int) -> list[list[int]]:
    return [list(np.argsort(-row, kind="stable")[:t]) for row in phi]


def jaccard(a, b) -> float:
    a, b = set(a), set(b)
    return len(a & b) / len(a | b)


def term_agreement(p: np.ndarray, q: np.ndarray, t: int, ranked: bool) -> float:
    """Mean similarity of the topics of ``p`` and ``q`` matched one-to-one (Hungarian) on the
    Jaccard similarity of their top ``t`` terms, or Greene et al.'s Average Jaccard (``ranked``)."""
    a, b = rows_of(p, t), rows_of(q, t)
    if ranked:
        sim = np.array([[np.mean([jaccard(x[:d], y[:d]) for d in range(1, t + 1)]) for y in b] for x in a])
    else:
        sim = np.array([[jaccard(x, y) for y in b] for x in a])
    r, c = linear_sum_assignment(-sim)
    return float(sim[r, c].mean())


def pairwise(phis, measure) -> list[float]:
    return [measure(a, b) for a, b in itertools.combinations(phis, 2)]


def hellinger_pair(a, b) -> float:
    return float(topics.match_topics(a, b)["similarity"].mean())


def normalised(counts: np.ndarray) -> np.ndarray:
    return counts / counts.sum(axis=1, keepdims=True)


def choose(rows: pd.DataFrame, column: str, coherence: str, threshold: float) -> int:
    """K by the toolkit's own rule (:func:`analysis.topics.lda._choose`, what :func:`select_k`
    applies: highest c_npmi among K with stability >= threshold, else highest c_npmi; ties to the
    smaller K), with ``column`` as the stability and ``coherence`` as c_npmi."""
    summary = pd.DataFrame(
        {
            "k": rows["k"].to_numpy(),
            "fits": 2 if column.endswith("_2_seeds") else len(SEEDS),
            "c_npmi": rows[coherence].to_numpy(),
            "stability": rows[column].to_numpy(),
            "units_per_topic": rows["units_per_topic"].to_numpy(),
        }
    )
    return topics._choose(summary, 0, int(summary["fits"].iloc[0]), threshold, int(rows["units"].iloc[0]))[0]


def bench(name: str, args, tmp: Path, pool) -> tuple[list[dict], list[dict]]:
    corpus_name, limit, labels = CORPORA[name]
    settings = TopicSettings()
    train, test_counts, categories, held, n_docs = topic_search.held_out_split(
        corpus_name, limit, args.cache, args.workers, tmp / name
    )
    k_range = tuple(topics.suggest_topic_settings(train.n_units)["topics"]["k_range"])
    folder = Path(args.out) / "topic_stability_fits"
    folder.mkdir(parents=True, exist_ok=True)
    data = folder / f"{name}.pkl"
    if not data.is_file():
        data.write_bytes(pickle.dumps({"train": train}))
    labels = ("all", *labels)
    jobs = [(str(data), label, k, s) for label in labels for k in sorted(k_range, reverse=True) for s in SEEDS]
    log(f"{name}: {n_docs} documents, {train.n_units} training, K {list(k_range)}, {len(jobs)} fits")
    stored = list(pool.map(fit_counts, *zip(*jobs)))
    fits = [pickle.loads(Path(p).read_bytes()) for p in stored]
    rows = []
    for label in labels:
        texts = sample_of(train, label)
        for k in k_range:
            mine = sorted((f for f in fits if f["label"] == label and f["k"] == k), key=lambda f: f["seed"])
            final = [normalised(f["final"]) for f in mine]
            mean = [normalised(f["mean"]) for f in mine]
            start = time.process_time()
            npmi = [
                float(np.nanmean(s["c_npmi"]))
                for s in topics.coherence_many(texts, final, topn=settings.coherence_topn)
            ]
            scoring = time.process_time() - start
            per_measure = {
                "hellinger": pairwise(final, hellinger_pair),
                "hellinger_mean": pairwise(mean, hellinger_pair),
                "jaccard10": pairwise(final, lambda a, b: term_agreement(a, b, 10, False)),
                "jaccard20": pairwise(final, lambda a, b: term_agreement(a, b, 20, False)),
                "aj20": pairwise(final, lambda a, b: term_agreement(a, b, 20, True)),
            }
            held_nmi = [
                topic_search.nmi(categories[held], topic_search.fold_in(p, test_counts).argmax(axis=1)) for p in final
            ]
            row = {
                "corpus": name,
                "documents": n_docs,
                "fitted_on": label,
                "units": texts.n_units,
                "k": k,
                "units_per_topic": round(texts.n_units / k, 1),
                "fit_cpu_s_3_seeds": round(sum(f["fit_cpu"] for f in mine), 1),
                "fit_cpu_s_2_seeds": round(sum(f["fit_cpu"] for f in mine[:2]), 1),
                "mean_sweeps_cpu_s": round(sum(f["mean_cpu"] for f in mine), 1),
                "scoring_cpu_s": round(scoring, 1),
                "iterations": " ".join(str(f["iterations"]) for f in mine),
                "c_npmi": float(np.mean(npmi)),
                "c_npmi_2_seeds": float(np.mean(npmi[:2])),
                "final_vs_own_mean": float(np.mean([hellinger_pair(a, b) for a, b in zip(final, mean)])),
                "heldout_nmi_mean_over_seeds": float(np.mean(held_nmi)),
            }
            for measure, values in per_measure.items():
                row[measure] = float(np.mean(values))
                row[f"{measure}_2_seeds"] = float(values[0])  # seeds 1 and 2
            rows.append(row)
    table = pd.DataFrame(rows)
    whole = table[table["fitted_on"] == "all"].sort_values("k")
    nmi_at = dict(zip(whole["k"], whole["heldout_nmi_mean_over_seeds"]))
    k_default = choose(whole, "hellinger", "c_npmi", settings.stability_min)  # the toolkit's full search
    choices = []
    for label in labels:
        sub = table[table["fitted_on"] == label].sort_values("k")
        for measure in MEASURES:
            for n_seeds, suffix, coherence in ((3, "", "c_npmi"), (2, "_2_seeds", "c_npmi_2_seeds")):
                k = choose(sub, measure + suffix, coherence, settings.stability_min)
                k_whole = choose(whole, measure + suffix, coherence, settings.stability_min)
                choices.append(
                    {
                        "corpus": name,
                        "fitted_on": label,
                        "units": int(sub["units"].iloc[0]),
                        "measure": measure,
                        "seeds": n_seeds,
                        "k": k,
                        "k_whole_corpus": k_whole,
                        "same_k": k == k_whole,
                        "nmi_at_k_minus_whole": round(nmi_at[k] - nmi_at[k_whole], 4),
                        "k_default_full_search": k_default,
                        "nmi_at_k_minus_default": round(nmi_at[k] - nmi_at[k_default], 4),
                    }
                )
    return rows, choices


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpora", default=",".join(CORPORA), help=f"comma-separated: {', '.join(CORPORA)}")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--cache", default=str(ROOT / ".cache"))
    parser.add_argument("--out", default=str(RESULTS))
    args = parser.parse_args(argv)
    rows, choices = [], []
    with tempfile.TemporaryDirectory() as tmp, ProcessPoolExecutor(max_workers=args.workers) as pool:
        for name in args.corpora.split(","):
            r, c = bench(name, args, Path(tmp), pool)
            rows += r
            choices += c
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    table, chosen = pd.DataFrame(rows), pd.DataFrame(choices)
    table.to_csv(out / "topic_stability.csv", index=False)
    chosen.to_csv(out / "topic_stability_choices.csv", index=False)
    pd.set_option("display.width", 250)
    cols = [
        "corpus",
        "fitted_on",
        "k",
        "units_per_topic",
        "final_vs_own_mean",
        *MEASURES,
        "aj20_2_seeds",
        "c_npmi",
        "heldout_nmi_mean_over_seeds",
    ]
    print(table[cols].round(3).to_string(index=False))
    wide = chosen.pivot_table(
        index=["corpus", "fitted_on", "units", "seeds"], columns="measure", values="k"
    ).reset_index()
    print(wide.to_string(index=False))
    samples = chosen[chosen["fitted_on"] != "all"]
    against_default = samples.groupby(["measure", "seeds"])["nmi_at_k_minus_default"].agg(
        within_0_01=lambda d: int((d >= -0.01).sum()), samples="size", worst="min", mean="mean"
    )
    print("held-out NMI of the samples' K minus that of the default full search's K:")
    print(against_default.round(3).to_string())
    log(f"wrote {out / 'topic_stability.csv'} and {out / 'topic_stability_choices.csv'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
