"""Agreement of two topic solutions fitted under different analysis choices (the multiverse's topics).

Preprocessing choices change unsupervised results (Denny & Spirling 2018), so a topic finding is
robust only if another reasonable pipeline finds the same topics and the same language difference
in them. :func:`solution_agreement` matches the topics of a solution to a reference solution
(Hungarian matching on the Hellinger distance of their word distributions over the union of the two
vocabularies: :func:`analysis.topics.lda.match_topics`, as the stability of K selection does) and
reports, over matched pairs: the mean similarity (1 − Hellinger), the mean Jaccard overlap of their
top terms, and the share whose prevalence difference between the languages (vi − en, mean
document share) has the reference's sign. The joint model's vocabulary is bilingual concept ids,
the same under any segmenter or stopword list, so the solutions are comparable term by term.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from .lda import match_topics, top_term_indices


def _on_vocabulary(topic_word: np.ndarray, vocab: Sequence[str], union: list[str]) -> np.ndarray:
    index = {t: j for j, t in enumerate(union)}
    out = np.zeros((topic_word.shape[0], len(union)))
    out[:, [index[t] for t in vocab]] = topic_word
    sums = out.sum(axis=1, keepdims=True)
    return np.divide(out, sums, out=np.zeros_like(out), where=sums > 0)


def solution_agreement(
    reference: np.ndarray,
    reference_vocab: Sequence[str],
    reference_difference: Sequence[float],
    other: np.ndarray,
    other_vocab: Sequence[str],
    *,
    other_difference: Sequence[float],
    top_n: int = 10,
) -> dict[str, float]:
    """How far a topic solution agrees with a reference solution.

    Parameters
    ----------
    reference, other : arrays (K, V) and (K', V')
        Topic-word distributions (rows sum to 1) over ``reference_vocab`` and ``other_vocab``.
    reference_difference, other_difference : length K and K'
        Each topic's prevalence difference between the languages (vi − en).
    top_n : terms per topic compared by Jaccard overlap.

    Returns
    -------
    dict with ``topics_matched`` (min(K, K')), ``mean_similarity`` (1 − Hellinger of matched
    pairs), ``top_terms_jaccard`` (mean Jaccard of their top ``top_n`` terms) and
    ``prevalence_sign_agreement`` (share of matched pairs whose differences have the same sign).

    Examples
    --------
    >>> tw = np.array([[0.9, 0.1, 0.0], [0.0, 0.1, 0.9]])
    >>> vocab = ["biển", "tàu", "thuế"]
    >>> a = solution_agreement(tw, vocab, [0.2, -0.2], tw[::-1], vocab, other_difference=[-0.1, 0.3], top_n=1)
    >>> a["mean_similarity"], a["top_terms_jaccard"], a["prevalence_sign_agreement"]
    (1.0, 1.0, 1.0)
    """
    union = sorted(set(reference_vocab) | set(other_vocab))
    p = _on_vocabulary(np.asarray(reference, dtype=float), reference_vocab, union)
    q = _on_vocabulary(np.asarray(other, dtype=float), other_vocab, union)
    matched = match_topics(p, q)
    top_p, top_q = top_term_indices(p, top_n), top_term_indices(q, top_n)
    jaccard, agree = [], []
    ref_diff, other_diff = np.asarray(reference_difference, float), np.asarray(other_difference, float)
    for a, b in zip(matched["topic_a"], matched["topic_b"]):
        sa, sb = set(top_p[a].tolist()), set(top_q[b].tolist())
        jaccard.append(len(sa & sb) / len(sa | sb) if sa | sb else 1.0)
        agree.append(np.sign(ref_diff[a]) == np.sign(other_diff[b]))
    return {
        "topics_matched": int(len(matched)),
        "mean_similarity": round(float(matched["similarity"].mean()), 12) if len(matched) else float("nan"),
        "top_terms_jaccard": float(np.mean(jaccard)) if jaccard else float("nan"),
        "prevalence_sign_agreement": float(np.mean(agree)) if agree else float("nan"),
    }
