"""Benchmark of the bounded K search: does choosing K on a sample cost little and choose as well?

    .venv/bin/python benchmarks/topic_search.py                    # VNTC 10,000 (vntc_sample) + BBC 2,225
    .venv/bin/python benchmarks/topic_search.py --limit 3000       # quick check: 3,000 VNTC articles
    .venv/bin/python benchmarks/topic_search.py --sizes 1000,2000  # the sample sizes compared

For each labelled corpus (``../shared/corpora/vntc_sample``: Vietnamese, 10 categories;
``../shared/corpora/bbc_news``: English, 5 categories), the toolkit's prepared terms, documents as
units, every ``[topics]`` setting at its default (dictionary ``no_below`` 2, ``no_above`` 0.8;
tomotopy with the convergence rule; seeds 1, 2, 3; the K range a study with an empty ``k_range``
gets, :func:`analysis.topics.lda.suggest_topic_settings`):

* **held out**: every fifth document in corpus order (the corpora are sorted by category, so
  every category loses a fifth); the search and the final fit see the other four fifths;
* **full search**: every candidate K x every seed on all training documents (the toolkit before
  ``[topics] search_units``);
* **bounded searches**: the same fits on a sample of about ``--sizes`` units
  (:func:`analysis.topics.lda.search_sample`), with the three seeds and with two; each also drawn
  with two more sample seeds, to see whether the chosen K depends on the draw;
* **final fit**: K as chosen, the study's seed, every training document;
* **scaled search** (``--search rule``; :func:`analysis.topics.lda.scaled_search`): every unit up
  to 2,000 training documents, above that a sample of ``max(2000, ceil(N / 5))`` units with the
  first two seeds (the same fits as the bounded search of that size, so they are reused);
* **coarse to fine** (``--search coarse``; :func:`analysis.topics.lda.select_k_coarse`): every K
  with ``--coarse-seeds`` seeds for ``--coarse-iterations`` iterations on every training document,
  the ``--refine`` K ranked first refitted to convergence with ``--refine-seeds`` seeds (the study's
  seed first); that fit at the chosen K is the final model, so its CPU is both in the search and
  the final fit, and ``extra_over_final`` is what the search costs beyond it.

Measured: CPU seconds of each search (fits in ``--workers`` processes, each fit's own
``time.process_time``, plus scoring, coherence and stability in this process) against CPU seconds
of one final fit at the K that search chose; the chosen K; the stability (mean matched Hellinger
similarity across seeds) at that K; **held-out NMI**: each held-out document's dominant topic
under the final model (theta folded in with phi fixed, :func:`fold_in`) against its category
(sklearn's ``normalized_mutual_info_score``). Goals (issue: topic search at 10k): search <= 3x one
final fit, held-out NMI within 0.01 of the full search's.

Prints a table and writes ``benchmarks/results/topic_search_<full|limitN>.csv``. CPU time, not wall
time, is compared: the machine is shared, and CPU time of a fit does not grow with other load.
"""

from __future__ import annotations

import argparse
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
import scipy.sparse as sp  # noqa: E402
import topics_nmi  # noqa: E402  (the same preparation as the engines benchmark)
from common import RESULTS, log  # noqa: E402  (benchmarks/common.py)

from analysis.study.settings import TopicSettings  # noqa: E402
from analysis.topics import lda as topics  # noqa: E402

SAMPLE_SEEDS = (20240405, 1, 2)  # the study's [topics] seed first: its draw is the one timed


def subset(corpus: topics.TopicCorpus, rows: np.ndarray, name: str) -> topics.TopicCorpus:
    rows = np.asarray(rows, dtype=np.int64)
    return topics.TopicCorpus(
        name,
        tuple(corpus.unit_ids[i] for i in rows),
        (),
        corpus.vocab,
        sp.csr_matrix(corpus.counts[rows]),
        tuple(corpus.texts[i] for i in rows),
    )


def fold_in(topic_word: np.ndarray, counts: sp.csr_matrix, alpha: float = 0.1, iterations: int = 100) -> np.ndarray:
    """theta of new documents with phi fixed: the EM fixed point of
    ``theta_dk ∝ alpha + sum_w n_dw theta_dk phi_kw / sum_j theta_dj phi_jw`` (from uniform; deterministic)."""
    c = sp.csr_matrix(counts)
    rows = np.repeat(np.arange(c.shape[0]), np.diff(c.indptr))
    cols, n = c.indices, c.data.astype(np.float64)
    k = topic_word.shape[0]
    theta = np.full((c.shape[0], k), 1.0 / k)
    phi_t = topic_word.T[cols]  # (nnz, K)
    for _ in range(iterations):
        weights = theta[rows] * phi_t
        weights *= (n / weights.sum(axis=1))[:, None]
        new = np.zeros_like(theta)
        np.add.at(new, rows, weights)
        new += alpha
        theta = new / new.sum(axis=1, keepdims=True)
    return theta


def _timed_fit(corpus, params, job):
    start = time.process_time()
    result = topics._fit_job(corpus, params, job)
    return result, time.process_time() - start


def _cached_fit(corpus, params, job, path):
    """One fit, or the one another run of the script already stored at ``path`` (checked when the
    job starts, so runs side by side share the work); stored atomically: (result, CPU s), fitted here."""
    path = Path(path)
    if path.is_file():
        return pickle.loads(path.read_bytes()), False
    done = _timed_fit(corpus, params, job)
    partial_path = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    partial_path.write_bytes(pickle.dumps(done))
    os.replace(partial_path, path)
    return done, True


class Fits:
    """Every (sample, K, seed) fit run once: a rule with two seeds reuses the three-seed rule's
    first two fits of the same sample (they are the same fits), and a re-run of the script reuses
    the fits stored in ``folder`` (pickles of plain arrays, named by corpus, sample and job)."""

    def __init__(self, folder: Path, tag: str, pool, params):
        self.folder, self.tag, self.pool, self.params = folder, tag, pool, params
        folder.mkdir(parents=True, exist_ok=True)

    def get(self, corpus, label: str, jobs: list[tuple[int, int]], params=None) -> list[tuple[tuple, float]]:
        params = self.params if params is None else params
        paths = {job: self.folder / f"{self.tag}_{label}_k{job[0]}_s{job[1]}.pkl" for job in jobs}
        todo = [job for job in jobs if not paths[job].is_file()]
        n = len(todo)
        for job, (done, fitted) in zip(
            todo, self.pool.map(_cached_fit, [corpus] * n, [params] * n, todo, [paths[j] for j in todo])
        ):
            log(
                f"  fit {label} K = {job[0]} seed {job[1]}: {done[1]:.1f} s CPU, "
                f"{done[0][3].get('iterations')} iterations" + ("" if fitted else " (stored by another run)")
            )
        return [pickle.loads(paths[job].read_bytes()) for job in jobs]


def search(corpus, label, k_range, seeds, fits: Fits, units_total) -> tuple[topics.KSelection, float, float]:
    """One K search on ``corpus``: (selection, CPU s of the fits, CPU s of scoring in this process)."""
    jobs = topics.selection_jobs(corpus, k_range=k_range, seeds=seeds)
    done = fits.get(corpus, label, jobs)
    fit_cpu = sum(cpu for _, cpu in done)
    start = time.process_time()
    selection = topics.selection_from_fits(
        corpus, [r for r, _ in done], k_range=k_range, seeds=seeds, units_total=units_total
    )
    return selection, fit_cpu, time.process_time() - start


def coarse_search(corpus, rule, k_range, settings, fits: Fits) -> tuple[topics.KSelection, tuple, float, float, float]:
    """The coarse-to-fine search (:func:`analysis.topics.lda.select_k_coarse`, step by step so the
    fits are cached; the refining fits share the full search's cache where (K, seed) is the same):
    (selection, the final-seed fit at the chosen K, CPU s of the fits, of scoring, of that fit)."""
    iterations, coarse_seeds, refine, n_seeds = rule
    coarse_jobs = topics.selection_jobs(
        corpus, k_range=k_range, seeds=topics.refine_seeds(settings.seed, settings.seeds, coarse_seeds, minimum=1)
    )
    short = topics.coarse_parameters(fits.params, iterations)
    coarse_done = fits.get(corpus, f"coarse{iterations}", coarse_jobs, short)
    start = time.process_time()
    coarse = topics.coarse_scores(corpus, [r for r, _ in coarse_done], coherence_topn=settings.coherence_topn)
    score_cpu = time.process_time() - start
    seeds = topics.refine_seeds(settings.seed, settings.seeds, n_seeds)
    jobs = [(k, s) for k in topics.refine_candidates(coarse, refine, settings.stability_min) for s in seeds]
    done = fits.get(corpus, "all", jobs)
    start = time.process_time()
    selection = topics.coarse_to_fine_selection(
        corpus,
        coarse,
        [r for r, _ in done],
        seeds=seeds,
        stability_min=settings.stability_min,
        coherence_topn=settings.coherence_topn,
    )
    score_cpu += time.process_time() - start
    final, final_cpu = next((r, c) for r, c in done if r[0] == selection.k and r[1] == settings.seed)
    fit_cpu = sum(c for _, c in coarse_done) + sum(c for _, c in done)
    log(
        f"  coarse {iterations} it: "
        + " ".join(f"{int(r.k)}:{r.c_npmi:.3f}/{r.stability:.2f}" for r in coarse.itertuples())
        + f"; refined {sorted({j[0] for j in jobs})} with seeds {seeds}"
    )
    return selection, final, fit_cpu, score_cpu, final_cpu


def nmi(labels, dominant) -> float:
    from sklearn.metrics import normalized_mutual_info_score

    return float(normalized_mutual_info_score(labels, dominant))


def held_out_split(name: str, limit: int, cache: str, workers: int, tmp: Path):
    """The protocol's data: the toolkit's prepared documents of corpus ``name`` (``limit`` VNTC
    documents, 0 = all) with the study's default dictionary, every fifth unit in corpus order held
    out. Returns ``(train corpus, held-out counts, categories of every unit, held-out mask,
    documents)``."""
    settings = TopicSettings()
    prep = argparse.Namespace(
        limit=limit,
        cache=cache,
        workers=workers,
        no_below=settings.no_below,
        no_above=settings.no_above,
        passes=20,
        iterations=100,
        chunksize=500,
        min_updates=400,
    )
    corpus, labels, n_docs, _ = topics_nmi.prepared_topic_corpus(name, prep, tmp)
    held = np.arange(corpus.n_units) % 5 == 4
    train = subset(corpus, np.flatnonzero(~held), name)
    return train, corpus.counts[np.flatnonzero(held)], np.asarray(labels, dtype=object), held, n_docs


def bench(name: str, args, tmp: Path) -> list[dict]:
    settings = TopicSettings()
    limit = args.limit if name == "vntc" else 0
    train, test_counts, labels, held, n_docs = held_out_split(name, limit, args.cache, args.workers, tmp)
    k_range = tuple(topics.suggest_topic_settings(train.n_units)["topics"]["k_range"])
    params = topics.fit_parameters(settings)
    log(
        f"{name}: {n_docs} documents, {train.n_units} for training, {int(held.sum())} held out, "
        f"{len(train.vocab)} terms; K range {list(k_range)}"
    )
    finals: dict[int, dict] = {}

    def final(k: int) -> dict:
        if k not in finals:
            start = time.process_time()
            fit = topics.fit_lda(train, k, settings.seed, **params)
            cpu = time.process_time() - start
            theta = fold_in(fit.topic_word, test_counts)
            finals[k] = {
                "cpu": cpu,
                "iterations": fit.record.get("iterations"),
                "nmi_heldout": nmi(labels[held], theta.argmax(axis=1)),
                "nmi_train": nmi(labels[~held], fit.doc_topic.argmax(axis=1)),
            }
            log(f"{name}: final fit K = {k}: {cpu:.1f} s CPU, held-out NMI {finals[k]['nmi_heldout']:.4f}")
        return finals[k]

    rules = [] if args.skip_full or "full" not in args.search else [("full search", 0, tuple(settings.seeds))]
    for size in args.sizes if "sample" in args.search else []:
        for seeds in (tuple(settings.seeds), tuple(settings.seeds)[:2]):
            rules.append((f"sample {size}, {len(seeds)} seeds", size, seeds))
    if "rule" in args.search:
        # the scaled search (analysis.topics.lda.scaled_search): every unit up to 2,000 documents,
        # above that a sample of max(2,000, N/5) units with two seeds
        size, seeds = topics.scaled_search(train.n_units, topics.n_documents(train), tuple(settings.seeds))
        rules.append((f"scaled: {size or 'every'} units, {len(seeds)} seeds", size, seeds))
    coarse_rules = [
        (iterations, coarse_seeds, refine, n_seeds)
        for iterations in args.coarse_iterations
        for coarse_seeds in args.coarse_seeds
        for refine in args.refine
        for n_seeds in args.refine_seeds
        if "coarse" in args.search
    ]
    rows = []
    tag = f"{name}{n_docs}"
    with ProcessPoolExecutor(max_workers=args.workers) as pool:
        fits = Fits(RESULTS / "topic_search_fits", tag, pool, params)
        full_nmi = None
        for rule, size, seeds in rules:
            if size and size >= train.n_units:
                continue
            chosen_by_draw = []
            for draw, sample_seed in enumerate(SAMPLE_SEEDS[: args.draws] if size else SAMPLE_SEEDS[:1]):
                sample = topics.search_sample(train, size, sample_seed)
                label = f"n{size}_d{sample_seed}" if size else "all"
                selection, fit_cpu, score_cpu = search(sample, label, k_range, seeds, fits, train.n_units)
                chosen_by_draw.append(selection.k)
                if draw == 0:
                    timed = (sample, selection, fit_cpu, score_cpu)
                log(
                    f"{name} / {rule} (sample seed {sample_seed}): {sample.n_units} units, K = {selection.k}, "
                    f"fits {fit_cpu:.1f} s + scoring {score_cpu:.1f} s CPU"
                )
            sample, selection, fit_cpu, score_cpu = timed
            one = final(selection.k)
            chosen = selection.summary[selection.summary["chosen"]].iloc[0]
            if full_nmi is None and not size:
                full_nmi = one["nmi_heldout"]
            ratio = (fit_cpu + score_cpu) / one["cpu"]
            diff = one["nmi_heldout"] - full_nmi if full_nmi is not None else float("nan")
            rows.append(
                {
                    "corpus": topics_nmi.NAMES[name],
                    "documents": n_docs,
                    "train_units": train.n_units,
                    "heldout_units": int(held.sum()),
                    "k_range": " ".join(map(str, k_range)),
                    "rule": rule,
                    "search_units": sample.n_units,
                    "seeds": len(seeds),
                    "fits": len(selection.fits),
                    "search_fit_cpu_s": round(fit_cpu, 1),
                    "search_scoring_cpu_s": round(score_cpu, 1),
                    "final_fit_cpu_s": round(one["cpu"], 1),
                    "search_over_final": round(ratio, 2),
                    "goal_ratio": "<= 3",
                    "ratio_met": "yes" if ratio <= 3 else "no",
                    "k": selection.k,
                    "k_other_draws": " ".join(map(str, chosen_by_draw[1:])),
                    "stability_at_k": round(float(chosen["stability"]), 3),
                    "c_npmi_at_k": round(float(chosen["c_npmi"]), 4),
                    "nmi_heldout": round(one["nmi_heldout"], 4),
                    "nmi_train": round(one["nmi_train"], 4),
                    "nmi_minus_full": round(diff, 4),
                    "goal_nmi": ">= -0.01",
                    "nmi_met": "" if full_nmi is None else "yes" if diff >= -0.01 else "no",
                    "final_iterations": one["iterations"],
                    "k_summary": " ".join(
                        f"{int(r.k)}:{r.c_npmi:.3f}/{r.stability:.2f}" for r in selection.summary.itertuples()
                    ),
                }
            )
            pd.DataFrame(rows).to_csv(args.out_partial, index=False)
        for rule in coarse_rules:
            iterations, coarse_seeds, refine, n_seeds = rule
            selection, fit, fit_cpu, score_cpu, final_cpu = coarse_search(train, rule, k_range, settings, fits)
            held_nmi = nmi(labels[held], fold_in(fit[2], test_counts).argmax(axis=1))
            search_cpu = fit_cpu + score_cpu
            chosen = selection.summary[selection.summary["chosen"]].iloc[0]
            diff = held_nmi - full_nmi if full_nmi is not None else float("nan")
            log(
                f"{name} / coarse {iterations} it x {coarse_seeds} seeds, refine {refine} K x {n_seeds} seeds: "
                f"K = {selection.k}, "
                f"fits {fit_cpu:.1f} s + scoring {score_cpu:.1f} s CPU (final fit {final_cpu:.1f} s of it), "
                f"held-out NMI {held_nmi:.4f}"
            )
            rows.append(
                {
                    "corpus": topics_nmi.NAMES[name],
                    "documents": n_docs,
                    "train_units": train.n_units,
                    "heldout_units": int(held.sum()),
                    "k_range": " ".join(map(str, k_range)),
                    "rule": f"coarse {iterations} it x {coarse_seeds}, refine {refine} K x {n_seeds}",
                    "search_units": train.n_units,
                    "seeds": n_seeds,
                    "fits": len(k_range) * coarse_seeds + len(selection.fits),
                    "search_fit_cpu_s": round(fit_cpu, 1),
                    "search_scoring_cpu_s": round(score_cpu, 1),
                    "final_fit_cpu_s": round(final_cpu, 1),
                    "search_over_final": round(search_cpu / final_cpu, 2),
                    # the final fit is one of the search's fits: what the search costs beyond it
                    "extra_over_final": round((search_cpu - final_cpu) / final_cpu, 2),
                    "goal_ratio": "<= 3",
                    "ratio_met": "yes" if (search_cpu - final_cpu) / final_cpu <= 3 else "no",
                    "k": selection.k,
                    "k_other_draws": "",
                    "stability_at_k": round(float(chosen["stability"]), 3),
                    "c_npmi_at_k": round(float(chosen["c_npmi"]), 4),
                    "nmi_heldout": round(held_nmi, 4),
                    "nmi_train": float("nan"),
                    "nmi_minus_full": round(diff, 4),
                    "goal_nmi": ">= -0.01",
                    "nmi_met": "" if full_nmi is None else "yes" if diff >= -0.01 else "no",
                    "final_iterations": fit[3].get("iterations"),
                    "k_summary": " ".join(
                        f"{int(r.k)}:{r.c_npmi_coarse:.3f}/{r.stability_coarse:.2f}>{r.c_npmi:.3f}/{r.stability:.2f}"
                        for r in selection.summary.itertuples()
                    ),
                }
            )
            pd.DataFrame(rows).to_csv(args.out_partial, index=False)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", choices=("vntc", "bbc", "both"), default="both")
    parser.add_argument("--limit", type=int, default=0, help="VNTC documents (0 = all 10,000); BBC is always whole")
    parser.add_argument("--sizes", default="1000,2000", help="sample sizes (units) of the bounded searches")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--skip-full", action="store_true", help="bounded searches only (their cost against one final fit at this size)"
    )
    parser.add_argument("--draws", type=int, default=2, help="sample draws per bounded rule (the first is timed)")
    parser.add_argument("--cache", default=str(ROOT / ".cache"))
    parser.add_argument(
        "--search",
        default="full,sample",
        help="searches compared: full, sample (--sizes), rule (the scaled search), coarse (coarse to fine)",
    )
    parser.add_argument("--coarse-iterations", default="50", help="coarse: Gibbs iterations of the coarse fits")
    parser.add_argument("--coarse-seeds", default="2", help="coarse: seeds of the coarse fits (the final seed first)")
    parser.add_argument("--refine", default="1", help="coarse: how many K are refined")
    parser.add_argument("--refine-seeds", default="2", help="coarse: seeds of each refined K (the final seed first)")
    args = parser.parse_args()
    args.sizes = [int(s) for s in args.sizes.split(",") if s]
    args.search = set(args.search.split(","))
    args.coarse_iterations = [int(s) for s in args.coarse_iterations.split(",") if s]
    args.refine = [int(s) for s in args.refine.split(",") if s]
    args.coarse_seeds = [int(s) for s in args.coarse_seeds.split(",") if s]
    args.refine_seeds = [int(s) for s in args.refine_seeds.split(",") if s]
    RESULTS.mkdir(parents=True, exist_ok=True)
    tag = (f"limit{args.limit}" if args.limit else "full") + ("_bounded" if args.skip_full else "")
    tag += "_coarse" if "coarse" in args.search else ""
    out = RESULTS / f"topic_search_{tag}_{args.corpus}.csv"
    args.out_partial = out.with_suffix(".partial.csv")
    args.out_partial = RESULTS / f"topic_search_{tag}_{args.corpus}.partial.csv"
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in ("bbc", "vntc") if args.corpus == "both" else (args.corpus,):
            rows += bench(name, args, Path(tmp))
    table = pd.DataFrame(rows)
    table.to_csv(out, index=False)
    columns = [
        "corpus",
        "rule",
        "search_units",
        "fits",
        "search_fit_cpu_s",
        "search_scoring_cpu_s",
        "final_fit_cpu_s",
        "search_over_final",
        "extra_over_final",
        "ratio_met",
        "k",
        "k_other_draws",
        "stability_at_k",
        "nmi_heldout",
        "nmi_minus_full",
        "nmi_met",
    ]
    print(table[[c for c in columns if c in table]].to_string(index=False))
    log(f"wrote {out}")


if __name__ == "__main__":
    main()
