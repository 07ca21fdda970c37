"""Does the attenuation check of topic prevalence (:func:`analysis.topics.prevalence.prevalence_attenuation`)
see the shrinkage of a language difference by LDA? A seeded simulation where the truth is known.

    .venv/bin/python benchmarks/topic_attenuation.py            # 4 settings x 10 corpora (about a minute)

Each corpus: 300 units (150 a language), K = 3 topics over 60 terms, topic-word rows mixed with a shared
distribution (``overlap``: 0 = distinct topics, 0.7 = mostly shared), θ ~ Dirichlet(0.5 α_lang) with α_vi =
(2, 1, 1) and α_en = (1, 1, 2) (true differences about +0.25, 0, -0.25), ``tokens`` per unit. The toolkit's
tomotopy fit (seed 1) gives the fitted differences; the true slope is ``Σ d̂ d / Σ d²`` of the fitted on the
true differences (topics matched by Hellinger distance); the check's slope is what the table reports without
knowing the truth. Prints per setting the mean (min-max) of both.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from analysis.topics import lda  # noqa: E402
from analysis.topics.lda import match_topics  # noqa: E402
from analysis.topics.prevalence import prevalence_attenuation  # noqa: E402

K, V, N = 3, 60, 300
PARAMS = dict(max_iterations=1000, tolerance=0.001, window=100)


def one(rng, tokens: int, overlap: float) -> tuple[float, float]:
    phi = (1 - overlap) * rng.dirichlet(np.full(V, 0.3), K) + overlap * rng.dirichlet(np.ones(V))
    lang = np.repeat(["vi", "en"], N // 2)
    alpha = {"vi": np.array([2.0, 1.0, 1.0]), "en": np.array([1.0, 1.0, 2.0])}
    theta = np.array([rng.dirichlet(0.5 * alpha[g]) for g in lang])
    counts = np.zeros((N, V), dtype=np.int64)
    for u in range(N):
        z = rng.multinomial(tokens, theta[u])
        for k in np.flatnonzero(z):
            counts[u] += rng.multinomial(z[k], phi[k])
    keep = counts.sum(axis=0) > 0
    ids = tuple(f"d{i}" for i in range(N))
    vocab = tuple(f"w{j}" for j in np.flatnonzero(keep))

    def corpus(c):
        return lda.TopicCorpus("joint", ids, (), vocab, sp.csr_matrix(c), ())

    fit = lda.fit_lda(corpus(counts[:, keep]), K, 1, **PARAMS)
    truth_phi = phi[:, keep] / phi[:, keep].sum(axis=1, keepdims=True)
    order = match_topics(truth_phi, fit.topic_word)["topic_b"].to_numpy()
    vi = lang == "vi"
    true = theta[vi].mean(axis=0) - theta[~vi].mean(axis=0)
    fitted = fit.doc_topic[:, order][vi].mean(axis=0) - fit.doc_topic[:, order][~vi].mean(axis=0)
    real = float(true @ fitted / (true @ true))

    def refit(c):
        f = lda.fit_lda(corpus(c), K, 1, **PARAMS)
        return f.topic_word, f.doc_topic

    table = prevalence_attenuation(
        fit,
        counts[:, keep].sum(axis=1),
        list(ids),
        pd.DataFrame({"language": lang}, index=list(ids)),
        by="language",
        a="vi",
        b="en",
        refit=refit,
        rng=rng,
    )
    return real, float(table["attenuation"].iloc[-1])


def main() -> int:
    rows = []
    for s, (tokens, overlap) in enumerate([(200, 0.0), (30, 0.3), (15, 0.5), (8, 0.7)]):
        rng = np.random.default_rng(2026 + s)
        pairs = np.array([one(rng, tokens, overlap) for _ in range(10)])
        rows.append(
            {
                "tokens": tokens,
                "overlap": overlap,
                "true_slope": f"{pairs[:, 0].mean():.2f} ({pairs[:, 0].min():.2f}-{pairs[:, 0].max():.2f})",
                "check_slope": f"{pairs[:, 1].mean():.2f} ({pairs[:, 1].min():.2f}-{pairs[:, 1].max():.2f})",
                "check_below_0.9": f"{np.mean(pairs[:, 1] < 0.9):.1f}",
            }
        )
    print(pd.DataFrame(rows).to_string(index=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
