"""Benchmark: K chosen by criteria that need one fit per K (no second seed), on samples and on the
whole training set, against the toolkit's full search.

    .venv/bin/python benchmarks/topic_stability.py      # first: the fits this script reads
    .venv/bin/python benchmarks/topic_single_fit.py     # then: about 10 min of CPU, no new fit

Why: ``topic_stability.py`` shows that no K search deciding by agreement across seeds can reproduce
the full search within 3 final fits (samples and short fits understate stability). A search inside
that budget needs a criterion read from *one* fit per K, so that fitting every K once on a sample
costs a fraction of the final fit. Four such criteria from the literature, chosen before this was
run (the three of the R package ``ldatuning`` that read a fitted model, and held-out likelihood),
each computed on every cached fit of ``topic_stability.py`` (the toolkit's training loop, seeds 1,
2, 3, every K of the range, whole training set and samples), each seed on its own:

* ``cao_juan``: mean cosine similarity over pairs of topics' word distributions, lower is better
  (Cao, Xia, Li, Zhang & Tang 2009, A density-based method for adaptive LDA model selection,
  Neurocomputing 72, 1775-1781);
* ``deveaud``: mean Jensen-Shannon divergence over pairs of topics, higher is better (Deveaud,
  SanJuan & Bellot 2014, Accurate and effective latent concept modeling for ad hoc information
  retrieval, Document numérique 17(1), 61-84; as ``ldatuning`` computes it, on the whole
  distributions);
* ``arun``: symmetric Kullback-Leibler divergence between the distribution of phi's singular values
  and the distribution of topics over tokens, lower is better (Arun, Suresh, Veni Madhavan &
  Narasimha Murthy 2010, On finding the natural number of topics with LDA, PAKDD, LNCS 6118,
  391-402: CM2 = L @ theta, document lengths times document-topic proportions, which the final
  Gibbs sample gives as the topics' token counts ``n_k``; both sorted in decreasing order and
  normalised to sum to 1);
* ``heldout_ll``: log-likelihood per token of the held-out fifth by document completion (Wallach,
  Murray, Salakhutdinov & Mimno 2009, Evaluation methods for topic models, ICML): each held-out
  document's tokens split in two by binomial thinning (seed 0), theta folded in on the first half
  with phi fixed (``topic_search.fold_in``, alpha 0.1), ``sum n_dw log(theta_d . phi_w)`` over the
  second half; higher is better.

For each criterion, corpus, fitted set and seed: the K it picks, its held-out NMI (the mean over the
three seeds' fits at that K, as in ``topic_stability.csv``) minus that of the K the toolkit's full
search chooses (Hellinger stability, three seeds, every training document), and the cost of such a
search on that set: the seed's fits at every K (CPU seconds recorded with the fits) plus the
criterion's scoring, over one final fit at the K picked (the mean CPU of the three whole-set fits at
that K). Nothing here changes the toolkit; it reports what a different criterion would do.

Writes ``benchmarks/results/topic_single_fit.csv`` (one row per corpus, set, K and seed) and
``topic_single_fit_choices.csv``, and prints the summary.
"""

from __future__ import annotations

import argparse
import pickle
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import scipy.sparse as sp  # noqa: E402
import topic_search  # noqa: E402
import topic_stability  # noqa: E402
from common import RESULTS, log  # noqa: E402

from analysis.topics import engines  # noqa: E402
from analysis.topics import lda as topics  # noqa: E402

ALPHA, ETA = engines.TOMOTOPY_ALPHA, engines.TOMOTOPY_ETA  # the toolkit's symmetric priors (topic_stability's fits)

#: criterion -> +1 if larger is better, -1 if smaller is better
CRITERIA = {"cao_juan": -1, "deveaud": +1, "arun": -1, "heldout_ll": +1}


def cao_juan(phi: np.ndarray) -> float:
    """Mean cosine similarity over the K (K - 1) / 2 pairs of topics (Cao et al. 2009)."""
    unit = phi / np.linalg.norm(phi, axis=1, keepdims=True)
    cos = unit @ unit.T
    k = phi.shape[0]
    return float(cos[np.triu_indices(k, 1)].mean())


def deveaud(phi: np.ndarray) -> float:
    """Mean Jensen-Shannon divergence (natural log) over pairs of topics (Deveaud et al. 2014)."""
    k = phi.shape[0]
    values = []
    for i in range(k):
        for j in range(i + 1, k):
            m = 0.5 * (phi[i] + phi[j])
            values.append(0.5 * np.sum(phi[i] * np.log(phi[i] / m)) + 0.5 * np.sum(phi[j] * np.log(phi[j] / m)))
    return float(np.mean(values))


def arun(phi: np.ndarray, topic_tokens: np.ndarray) -> float:
    """Symmetric KL between phi's singular values and the topics' share of tokens, both sorted
    decreasing and normalised to sum 1 (Arun et al. 2010)."""
    cm1 = np.sort(np.linalg.svd(phi, compute_uv=False))[::-1]
    cm2 = np.sort(np.asarray(topic_tokens, dtype=np.float64))[::-1]
    cm1, cm2 = cm1 / cm1.sum(), cm2 / cm2.sum()
    return float(np.sum(cm1 * np.log(cm1 / cm2)) + np.sum(cm2 * np.log(cm2 / cm1)))


def completion_halves(counts: sp.csr_matrix, seed: int = 0) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    """Each document's tokens split in two by binomial thinning (p = 1/2, ``seed``): (observed, held)."""
    c = sp.csr_matrix(counts, dtype=np.int64)
    first = np.random.default_rng(seed).binomial(c.data, 0.5)
    observed = sp.csr_matrix((first, c.indices, c.indptr), shape=c.shape)
    held = sp.csr_matrix((c.data - first, c.indices, c.indptr), shape=c.shape)
    observed.eliminate_zeros()
    held.eliminate_zeros()
    return observed, held


def fold_in(phi: np.ndarray, counts: sp.csr_matrix, alpha: float, iterations: int = 100) -> np.ndarray:
    """:func:`topic_search.fold_in`'s EM fixed point, ``theta_dk ∝ alpha + theta_dk sum_w n_dw phi_kw /
    (theta_d . phi_w)`` from uniform, with the sum as one sparse product per iteration (its
    ``np.add.at`` takes about a second an iteration on 2,000 documents at K = 50)."""
    c = sp.csr_matrix(counts, dtype=np.float64)
    rows = np.repeat(np.arange(c.shape[0]), np.diff(c.indptr))
    phi_t = np.ascontiguousarray(phi.T)  # (V, K)
    theta = np.full((c.shape[0], phi.shape[0]), 1.0 / phi.shape[0])
    for _ in range(iterations):
        ratio = sp.csr_matrix(
            (c.data / np.einsum("nk,nk->n", theta[rows], phi_t[c.indices]), c.indices, c.indptr), shape=c.shape
        )
        new = theta * (ratio @ phi_t) + alpha
        theta = new / new.sum(axis=1, keepdims=True)
    return theta


def heldout_ll(phi: np.ndarray, observed: sp.csr_matrix, held: sp.csr_matrix) -> float:
    """Log-likelihood per token of ``held`` given theta folded in on ``observed`` (phi fixed)."""
    theta = fold_in(phi, observed, alpha=ALPHA)
    rows = np.repeat(np.arange(held.shape[0]), np.diff(held.indptr))
    p = np.einsum("nk,nk->n", theta[rows], phi.T[held.indices])
    return float(np.sum(held.data * np.log(p)) / held.data.sum())


def bench(name: str, args, tmp: Path) -> tuple[list[dict], list[dict]]:
    corpus_name, limit, samples = topic_stability.CORPORA[name]
    folder = Path(args.out) / "topic_stability_fits" / f"{name}.pkl.fits"
    stability = pd.read_csv(Path(args.out) / "topic_stability.csv")
    stability = stability[stability["corpus"] == name]
    if not folder.is_dir() or stability.empty:
        raise SystemExit(f"error: {folder} or its rows in topic_stability.csv missing (fix: run topic_stability.py)")
    train, test_counts, _, _, _ = topic_search.held_out_split(corpus_name, limit, args.cache, 1, tmp / name)
    k_range = tuple(topics.suggest_topic_settings(train.n_units)["topics"]["k_range"])
    observed, held = completion_halves(test_counts)
    check = pickle.loads((folder / f"all_k{k_range[1]}_s1.pkl").read_bytes())["final"]
    np.testing.assert_allclose(  # the sparse EM is topic_search's EM
        fold_in(topic_stability.normalised(check), observed[:50], ALPHA),
        topic_search.fold_in(topic_stability.normalised(check), observed[:50], alpha=ALPHA),
        rtol=1e-9,
        atol=1e-12,
    )
    whole = stability[stability["fitted_on"] == "all"].sort_values("k")
    nmi_at = dict(zip(whole["k"], whole["heldout_nmi_mean_over_seeds"]))
    k_default = topic_stability.choose(whole, "hellinger", "c_npmi", 0.6)
    rows = []
    for label in ("all", *samples):
        for k in k_range:
            for seed in topic_stability.SEEDS:
                fit = pickle.loads((folder / f"{label}_k{k}_s{seed}.pkl").read_bytes())
                counts = fit["final"]  # n_kw + eta, our vocabulary order
                phi = topic_stability.normalised(counts)
                start = time.process_time()
                values = {
                    "cao_juan": cao_juan(phi),
                    "deveaud": deveaud(phi),
                    "arun": arun(phi, (counts - ETA).sum(axis=1)),
                    "heldout_ll": heldout_ll(phi, observed, held),
                }
                rows.append(
                    {
                        "corpus": name,
                        "fitted_on": label,
                        "k": k,
                        "seed": seed,
                        "fit_cpu_s": round(fit["fit_cpu"], 2),
                        "scoring_cpu_s": round(time.process_time() - start, 2),
                        **values,
                        "heldout_nmi_at_k": nmi_at[k],
                    }
                )
        log(f"{name} {label}: scored")
    table = pd.DataFrame(rows)
    final_cpu = table[table["fitted_on"] == "all"].groupby("k")["fit_cpu_s"].mean()
    choices = []
    for (label, seed), sub in table.groupby(["fitted_on", "seed"], sort=False):
        for criterion, sign in CRITERIA.items():
            best = sub.loc[(sign * sub[criterion]).idxmax()]
            k = int(best["k"])
            search_cpu = float(sub["fit_cpu_s"].sum() + sub["scoring_cpu_s"].sum())
            choices.append(
                {
                    "corpus": name,
                    "fitted_on": label,
                    "seed": seed,
                    "criterion": criterion,
                    "k": k,
                    "k_default_full_search": k_default,
                    "nmi_at_k_minus_default": round(nmi_at[k] - nmi_at[k_default], 4),
                    "search_cpu_s": round(search_cpu, 1),
                    "final_fit_cpu_s": round(float(final_cpu[k]), 1),
                    "search_over_final": round(search_cpu / float(final_cpu[k]), 2),
                }
            )
    return rows, choices


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpora", default=",".join(topic_stability.CORPORA))
    parser.add_argument("--cache", default=str(ROOT / ".cache"))
    parser.add_argument("--out", default=str(RESULTS))
    args = parser.parse_args(argv)
    rows, choices = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.corpora.split(","):
            r, c = bench(name, args, Path(tmp))
            rows += r
            choices += c
    out = Path(args.out)
    pd.DataFrame(rows).to_csv(out / "topic_single_fit.csv", index=False)
    chosen = pd.DataFrame(choices)
    chosen.to_csv(out / "topic_single_fit_choices.csv", index=False)
    pd.set_option("display.width", 250)
    print(pd.DataFrame(rows).round(4).to_string(index=False))
    wide = chosen.pivot_table(index=["corpus", "fitted_on", "seed"], columns="criterion", values="k").reset_index()
    print(wide.to_string(index=False))
    samples = chosen[chosen["fitted_on"] != "all"]
    for part, sub in (("whole training set", chosen[chosen["fitted_on"] == "all"]), ("samples", samples)):
        summary = sub.groupby("criterion").agg(
            same_k=("k", lambda s: int((s == sub.loc[s.index, "k_default_full_search"]).sum())),
            within_0_01=("nmi_at_k_minus_default", lambda d: int((d >= -0.01).sum())),
            runs=("k", "size"),
            worst=("nmi_at_k_minus_default", "min"),
            mean=("nmi_at_k_minus_default", "mean"),
            search_over_final_median=("search_over_final", "median"),
        )
        print(f"{part}: K picked against the default full search (each seed a run)")
        print(summary.round(3).to_string())
    log(f"wrote {out / 'topic_single_fit.csv'} and {out / 'topic_single_fit_choices.csv'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
