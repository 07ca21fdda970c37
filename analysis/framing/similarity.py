"""Which documents tell the same story: across languages on concepts, within a language on text.

* :func:`crosslingual_similarity`: cosine similarity of TF-IDF-weighted concept vectors between
  every document of one language and every document of the other. Concepts come from the
  bilingual codebook, so a Vietnamese and an English article about the same talks share an axis;
  the pairing is computed from the texts, never looked up in the metadata.
* :func:`near_duplicates`: Jaccard similarity of word shingles within a language (Broder 1997),
  to flag syndicated copies before they inflate counts. Vietnamese is shingled on syllables, so
  two copies segmented differently still match.
* :func:`event_omissions`: for each event covered in both languages, the frames, actors and
  concepts present in one language's coverage and missing, or much weaker, in the other's (hits
  per 100 sentences, the cross-language rate; listed only beyond chance, an exact test of the
  two counts).

Pure: DataFrames and token lists in, DataFrames out.
"""

from __future__ import annotations

import math
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

SIMILARITY_COLUMNS = ["doc_a", "doc_b", "language_a", "language_b", "cosine", "rank_for_a", "rank_for_b", "mutual_best", "shared_concepts", "top_shared"]


def tfidf_rows(counts: np.ndarray) -> np.ndarray:
    """Rows of ``counts`` weighted by smoothed inverse document frequency, L2-normalised.

    ``w = count · (ln((1 + N) / (1 + df)) + 1)`` (scikit-learn's smooth idf), so a concept in
    every document still weighs something when the corpus has five documents.
    """
    counts = np.asarray(counts, dtype=float)
    n = counts.shape[0]
    df = (counts > 0).sum(axis=0)
    weights = counts * (np.log((1.0 + n) / (1.0 + df)) + 1.0)
    norms = np.linalg.norm(weights, axis=1, keepdims=True)
    return np.divide(weights, norms, out=np.zeros_like(weights), where=norms > 0)


#: Cells of one block of similarity scores (32 MB of float64): memory stays bounded however many
#: documents the two languages have.
BLOCK_CELLS = 4_000_000
#: Cosines are ranked rounded to this many decimals: proportional concept vectors have
#: equal cosines up to floating-point noise, which depends on how the product was blocked.
COSINE_DECIMALS = 12


def crosslingual_similarity(counts: pd.DataFrame, languages: Mapping[str, str], pair: Sequence[str] = ("vi", "en"), *, top_shared: int = 5,
                            keep_rank: int | None = None, block_cells: int = BLOCK_CELLS) -> pd.DataFrame:
    """Cosine similarity of concept vectors for every (language a, language b) document pair.

    Parameters
    ----------
    counts : DataFrame (documents × concept ids)
        Concept hits per document (index doc_id).
    languages : mapping doc_id -> language
    pair : the two languages compared (rows: first, columns: second).
    keep_rank : keep only pairs where either document is among the other's ``keep_rank`` most
        similar (``None`` = every pair; a large corpus has millions of pairs).
    block_cells : scores are computed in blocks of about this many pairs (:func:`similar_pairs`),
        so 10,000 × 10,000 documents never hold a 10,000 × 10,000 matrix.

    Returns
    -------
    DataFrame with ``doc_a, doc_b, language_a, language_b, cosine`` (of TF-IDF weighted concept
    vectors, idf over all documents of both languages), ``rank_for_a`` (1 = ``doc_b`` is the most
    similar document of language b for ``doc_a``), ``rank_for_b``, ``mutual_best`` (each is the
    other's best match), ``shared_concepts`` (concepts in both) and ``top_shared`` (the shared
    concepts that weigh most in the product). Ties in ranks are broken by doc id.

    Examples
    --------
    Every concept is in 2 of the 4 documents, so the idf weights are equal and the cosine of
    ``v1`` (cooperation 2, trade 1) and ``e1`` (1, 1) is 3 / (√5 · √2) = 0.949.

    >>> counts = pd.DataFrame({"cooperation": [2, 0, 1, 0], "sea": [0, 3, 0, 2], "trade": [1, 0, 1, 0]}, index=["v1", "v2", "e1", "e2"])
    >>> pairs = crosslingual_similarity(counts, {"v1": "vi", "v2": "vi", "e1": "en", "e2": "en"})
    >>> print(pairs[["doc_a", "doc_b", "cosine", "rank_for_a", "mutual_best", "shared_concepts"]].round(3).to_string(index=False))
    doc_a doc_b  cosine  rank_for_a  mutual_best  shared_concepts
       v1    e1   0.949           1         True                2
       v1    e2   0.000           2        False                0
       v2    e1   0.000           2        False                0
       v2    e2   1.000           1         True                1
    """
    lang_a, lang_b = pair
    docs_a = [d for d in counts.index if languages.get(d) == lang_a]
    docs_b = [d for d in counts.index if languages.get(d) == lang_b]
    if not docs_a or not docs_b:
        return pd.DataFrame(columns=SIMILARITY_COLUMNS)
    docs = docs_a + docs_b
    matrix = counts.loc[docs].to_numpy(dtype=float)
    weighted = tfidf_rows(matrix)
    a = weighted[: len(docs_a)]
    b = weighted[len(docs_a):]
    concepts = list(counts.columns)
    records = []
    for (i, j), (cosine, rank_a, rank_b) in sorted(similar_pairs(a, b, docs_a, docs_b, keep_rank=keep_rank, block_cells=block_cells).items()):
        product = a[i] * b[j]
        shared = np.flatnonzero((matrix[i] > 0) & (matrix[len(docs_a) + j] > 0))
        top = sorted(shared, key=lambda k: (-product[k], concepts[k]))[:top_shared]
        records.append((docs_a[i], docs_b[j], lang_a, lang_b, cosine, rank_a, rank_b, rank_a == 1 and rank_b == 1,
                        len(shared), " ".join(concepts[k] for k in top)))
    return pd.DataFrame(records, columns=SIMILARITY_COLUMNS)


def similar_pairs(a: np.ndarray, b: np.ndarray, labels_a: Sequence[str], labels_b: Sequence[str], *, keep_rank: int | None = None,
                  block_cells: int = BLOCK_CELLS) -> dict[tuple[int, int], tuple[float, int, int]]:
    """``(i, j) -> (cosine, rank of j for i, rank of i for j)`` for the pairs :func:`crosslingual_similarity` keeps.

    ``a`` and ``b`` are L2-normalised rows, so ``a @ b.T`` holds the cosines. Computed in blocks of
    about ``block_cells`` scores, in three passes: rows of ``a`` (the rank of every ``j`` for each
    ``i``; pairs within ``keep_rank`` kept), columns (the rank of every ``i`` for each ``j``; pairs
    within ``keep_rank`` kept, and the column rank of the pairs already kept), then the rows that
    gained a pair in the second pass (its row rank). Ranks are taken on cosines rounded to
    ``COSINE_DECIMALS`` decimals, so values equal up to floating-point noise tie, whatever the
    blocking; ties are broken by label. The cosine reported is the unrounded one, from a block
    of rows. Only one block is held at a time.
    """
    n_a, n_b = len(a), len(b)
    limit = n_b if keep_rank is None else keep_rank  # every pair when nothing is dropped
    kept: dict[tuple[int, int], list] = {}
    rows = max(1, block_cells // max(1, n_b))
    for start in range(0, n_a, rows):
        scores = a[start:start + rows] @ b.T
        ranks = _ranks(np.round(scores, COSINE_DECIMALS), labels_b)
        for r, j in zip(*np.nonzero(ranks <= limit)):
            kept[(start + int(r), int(j))] = [float(scores[r, j]), int(ranks[r, j]), 0]
    by_column: dict[int, list[int]] = {}
    for i, j in kept:
        by_column.setdefault(j, []).append(i)
    added: dict[int, list[int]] = {}  # row -> columns kept only in the column pass
    columns = max(1, block_cells // max(1, n_a))
    for start in range(0, n_b, columns):
        scores = a @ b[start:start + columns].T
        ranks = _ranks(np.round(scores, COSINE_DECIMALS).T, labels_a)  # row c: the rank of every i for column start + c
        for c, i in zip(*np.nonzero(ranks <= limit)):
            if (int(i), start + int(c)) not in kept:
                kept[(int(i), start + int(c))] = [None, 0, int(ranks[c, i])]
                added.setdefault(int(i), []).append(start + int(c))
        for c in range(scores.shape[1]):  # the column rank of the pairs the row pass kept
            for i in by_column.get(start + c, ()):
                kept[(i, start + c)][2] = int(ranks[c, i])
    needed = sorted(added)
    for start in range(0, len(needed), rows):
        block = needed[start:start + rows]
        scores = a[block] @ b.T
        ranks = _ranks(np.round(scores, COSINE_DECIMALS), labels_b)
        for r, i in enumerate(block):
            for j in added[i]:
                kept[(i, j)][0:2] = [float(scores[r, j]), int(ranks[r, j])]
    return {pair: tuple(value) for pair, value in kept.items()}


def _ranks(scores: np.ndarray, labels: Sequence[str]) -> np.ndarray:
    """Rank 1 = highest score in each row; ties broken by label."""
    label_rank = np.empty(len(labels), dtype=np.int64)
    label_rank[np.argsort(np.asarray(labels, dtype=object), kind="stable")] = np.arange(len(labels))
    keys = np.broadcast_to(label_rank, scores.shape)
    order = np.lexsort((keys, -scores), axis=-1)
    ranks = np.empty_like(order)
    np.put_along_axis(ranks, order, np.broadcast_to(np.arange(1, scores.shape[1] + 1), scores.shape), axis=-1)
    return ranks


# ------------------------------------------------------------------------- near-duplicates


# -------------------------------------------------------------------------------- omissions

OMISSION_COLUMNS = ["event", "kind", "item", "docs_a", "docs_b", "count_a", "count_b", "per_100_sentences_a", "per_100_sentences_b",
                    "log2_ratio", "p", "status"]


def rate_difference_p(a: int, b: int, n_a: float, n_b: float) -> float:
    """Two-sided exact p of two Poisson counts with exposures under equal rates.

    Conditional on ``a + b``, ``a ~ Binomial(a + b, n_a / (n_a + n_b))`` when the two rates are
    equal (Przyborowski & Wilenski 1940; the conditional test of two Poisson rates, Lehmann &
    Romano 2005, §4.6); the p is scipy's two-sided exact binomial test. With equal exposures a
    count of ``k`` against 0 gives ``p = 2 · 0.5^k``: 2 against 0 is ``p = 0.5`` (no evidence),
    and at least 6 against 0 is needed for ``p < 0.05``.

    >>> round(rate_difference_p(2, 0, 25, 25), 3), round(rate_difference_p(6, 0, 25, 25), 4)
    (0.5, 0.0312)
    """
    from scipy.stats import binomtest

    if a + b == 0:
        return 1.0
    return float(binomtest(int(a), int(a + b), n_a / (n_a + n_b)).pvalue)


def event_omissions(
    items: pd.DataFrame,
    exposure: Mapping[str, int],
    docvars: pd.DataFrame,
    *, pair: Sequence[str] = ("vi", "en"),
    ratio: float = 3.0,
    min_count: int = 2,
    event: str = "event",
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Frames, actors and concepts one language's coverage of an event has and the other lacks.

    Rates are hits per 100 sentences, the project's cross-language rate: on
    translations the two sides have the same number of sentences (median pair ratio 1.00) but
    not the same number of counted tokens (Vietnamese 1.2x English), so a per-1,000-token rate
    makes every item look weaker in Vietnamese.

    Parameters
    ----------
    items : DataFrame with columns ``doc_id, kind, item, count``
        Hits per document (kind: frame, actor, concept).
    exposure : mapping doc_id -> sentences
        The denominator of the rates (the event's sentences in each language).
    docvars : DataFrame indexed by doc_id with ``language`` and the ``event`` column.
    pair : the two languages (``a``, ``b``).
    ratio, min_count : an item is a candidate when its stronger side has at least ``min_count``
        hits and the weaker side has none (``missing in <language>``) or a rate at most
        ``1 / ratio`` of the stronger one (``much weaker in <language>``).
    alpha : a candidate is listed only when the difference is beyond chance: the exact test of
        two Poisson counts with the sentences as exposures (:func:`rate_difference_p`) gives
        ``p < alpha``. Without it, 2 hits against 0 (what a translator's synonym outside the
        codebook gives) would be an "omission" although equal rates give such a split half the
        time. Hits within a document are not independent (a word recurs), so this p is if
        anything too small: a minimum of evidence, not a finding; it is not corrected for the
        many items and events.

    Returns
    -------
    DataFrame ``event, kind, item, docs_a, docs_b, count_a, count_b, per_100_sentences_a,
    per_100_sentences_b, log2_ratio, p, status``; ``log2_ratio = log2(rate_a / rate_b)`` with a
    zero count replaced by 0.5 (Hardie's convention), so a positive value means more in language
    a. Only events with documents in both languages are compared.
    """
    lang_a, lang_b = pair
    if event not in docvars.columns:
        return pd.DataFrame(columns=OMISSION_COLUMNS)
    frame = items.copy()
    frame["event"] = frame["doc_id"].map(docvars[event].astype(str))
    frame["language"] = frame["doc_id"].map(docvars["language"].astype(str))
    records = []
    for ev in sorted(docvars[event].astype(str).unique()):
        members = docvars.index[docvars[event].astype(str) == ev]
        docs = {lang: [d for d in members if str(docvars.loc[d, "language"]) == lang] for lang in (lang_a, lang_b)}
        if not docs[lang_a] or not docs[lang_b]:
            continue
        n_a = sum(exposure.get(d, 0) for d in docs[lang_a])
        n_b = sum(exposure.get(d, 0) for d in docs[lang_b])
        if not n_a or not n_b:
            continue
        sub = frame[frame["event"] == ev]
        pooled = sub.groupby(["kind", "item", "language"], sort=True)["count"].sum().unstack("language", fill_value=0)
        for (kind, item), row in pooled.iterrows():
            a, b = int(row.get(lang_a, 0)), int(row.get(lang_b, 0))
            rate_a, rate_b = 100.0 * a / n_a, 100.0 * b / n_b
            log2 = math.log2(((a or 0.5) / n_a) / ((b or 0.5) / n_b))
            status = ""
            if a >= min_count and (b == 0 or rate_a >= ratio * rate_b):
                status = f"missing in {lang_b}" if b == 0 else f"much weaker in {lang_b}"
            elif b >= min_count and (a == 0 or rate_b >= ratio * rate_a):
                status = f"missing in {lang_a}" if a == 0 else f"much weaker in {lang_a}"
            if not status:
                continue
            p = rate_difference_p(a, b, n_a, n_b)
            if p < alpha:
                records.append((ev, kind, item, len(docs[lang_a]), len(docs[lang_b]), a, b, rate_a, rate_b, log2, p, status))
    table = pd.DataFrame(records, columns=OMISSION_COLUMNS)
    kind_order = {"frame": 0, "actor": 1, "concept": 2}
    if len(table):
        table = table.assign(_k=table["kind"].map(kind_order).fillna(9), _r=-table["log2_ratio"].abs())
        table = table.sort_values(["event", "_k", "status", "_r", "item"], kind="mergesort").drop(columns=["_k", "_r"]).reset_index(drop=True)
    return table
