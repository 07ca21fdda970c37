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
  per 100 sentences, the cross-language rate; listed only beyond chance with documents as the
  unit: a permutation test of documents, Holm-adjusted over the items of the event; an event
  with too few documents for that test gets descriptive rows, not a p).

Pure: DataFrames and token lists in, DataFrames out.
"""

from __future__ import annotations

import itertools
import math
import zlib
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

SIMILARITY_COLUMNS = [
    "doc_a",
    "doc_b",
    "language_a",
    "language_b",
    "cosine",
    "rank_for_a",
    "rank_for_b",
    "mutual_best",
    "shared_concepts",
    "top_shared",
]


def tfidf_rows(counts: np.ndarray) -> np.ndarray:
    """Rows of ``counts`` weighted by smoothed inverse document frequency, L2-normalised.

    ``w = count · (ln((1 + N) / (1 + df)) + 1)`` (scikit-learn's smooth idf), so a concept in
    every document still weighs something when the corpus has five documents.
    """
    counts = np.asarray(counts, dtype=float)
    return _weigh(counts, smooth_idf((counts > 0).sum(axis=0), counts.shape[0]))


def smooth_idf(df: np.ndarray, n: int) -> np.ndarray:
    """``ln((1 + n) / (1 + df)) + 1`` per column: the weights of :func:`tfidf_rows` (``df``: documents
    with the column, ``n``: documents)."""
    return np.log((1.0 + n) / (1.0 + df)) + 1.0


def _weigh(counts: np.ndarray, idf: np.ndarray) -> np.ndarray:
    """Rows of the float ``counts`` times ``idf``, L2-normalised (all-zero rows stay zero). Row by row:
    a block of rows gives the bits of the same rows weighed in a larger array."""
    weights = counts * idf
    norms = np.linalg.norm(weights, axis=1, keepdims=True)
    return np.divide(weights, norms, out=np.zeros_like(weights), where=norms > 0)


#: Cells of one block of similarity scores (32 MB of float64): memory stays bounded however many
#: documents the two languages have.
BLOCK_CELLS = 4_000_000
#: Cosines are ranked rounded to this many decimals: proportional concept vectors have
#: equal cosines up to floating-point noise, which depends on how the product was blocked.
COSINE_DECIMALS = 12


def crosslingual_similarity(
    counts,
    languages: Mapping[str, str],
    pair: Sequence[str] = ("vi", "en"),
    *,
    top_shared: int = 5,
    keep_rank: int | None = None,
    block_cells: int = BLOCK_CELLS,
) -> pd.DataFrame:
    """Cosine similarity of concept vectors for every (language a, language b) document pair.

    Parameters
    ----------
    counts : DataFrame (documents × concept ids), or DocTermMatrix
        Concept hits per document (index doc_id); or a matrix with sparse ``counts``, ``row_ids``
        and ``vocab`` (:class:`analysis.text.dtm.DocTermMatrix`), never densified whole: only the
        weighted vectors are held (one float array of documents × concepts), built a block of rows
        at a time.
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

    >>> counts = pd.DataFrame({"cooperation": [2, 0, 1, 0], "sea": [0, 3, 0, 2], "trade": [1, 0, 1, 0]}, index=["v1",
    ...     "v2", "e1", "e2"])
    >>> pairs = crosslingual_similarity(counts, {"v1": "vi", "v2": "vi", "e1": "en", "e2": "en"})
    >>> print(pairs[["doc_a", "doc_b", "cosine", "rank_for_a", "mutual_best",
    ...     "shared_concepts"]].round(3).to_string(index=False))
    doc_a doc_b  cosine  rank_for_a  mutual_best  shared_concepts
       v1    e1   0.949           1         True                2
       v1    e2   0.000           2        False                0
       v2    e1   0.000           2        False                0
       v2    e2   1.000           1         True                1
    """
    from scipy import sparse

    if isinstance(counts, pd.DataFrame):
        matrix, row_ids, concepts = sparse.csr_matrix(counts.to_numpy(dtype=float)), list(counts.index), counts.columns
    else:
        matrix, row_ids, concepts = sparse.csr_matrix(counts.counts), list(counts.row_ids), counts.vocab
    concepts = list(concepts)
    lang_a, lang_b = pair
    rows_a = [k for k, d in enumerate(row_ids) if languages.get(d) == lang_a]
    rows_b = [k for k, d in enumerate(row_ids) if languages.get(d) == lang_b]
    if not rows_a or not rows_b:
        return pd.DataFrame(columns=SIMILARITY_COLUMNS)
    docs_a, docs_b = [row_ids[k] for k in rows_a], [row_ids[k] for k in rows_b]
    weighted = _weighted_rows(matrix[rows_a + rows_b], block_cells=block_cells)
    n_a = len(docs_a)
    a, b = weighted[:n_a], weighted[n_a:]
    found = similar_pair_arrays(a, b, docs_a, docs_b, keep_rank=keep_rank, block_cells=block_cells)
    shared_counts, tops = [], []
    for i, j in zip(found["i"].tolist(), found["j"].tolist()):
        product = a[i] * b[j]
        shared = np.flatnonzero((a[i] > 0) & (b[j] > 0))  # a weight is > 0 exactly where the count is
        top = sorted(shared, key=lambda k: (-product[k], concepts[k]))[:top_shared]
        shared_counts.append(len(shared))
        tops.append(" ".join(concepts[k] for k in top))
    n = len(found["i"])
    if not n:
        return pd.DataFrame(columns=SIMILARITY_COLUMNS)
    return pd.DataFrame(
        {
            "doc_a": np.asarray(docs_a, dtype=object)[found["i"]],
            "doc_b": np.asarray(docs_b, dtype=object)[found["j"]],
            "language_a": np.full(n, lang_a, dtype=object),
            "language_b": np.full(n, lang_b, dtype=object),
            "cosine": found["cosine"],
            "rank_for_a": found["rank_a"],
            "rank_for_b": found["rank_b"],
            "mutual_best": (found["rank_a"] == 1) & (found["rank_b"] == 1),
            "shared_concepts": np.asarray(shared_counts, dtype=np.int64),
            "top_shared": np.asarray(tops, dtype=object),
        },
        columns=SIMILARITY_COLUMNS,
    )


def _weighted_rows(matrix, *, block_cells: int = BLOCK_CELLS) -> np.ndarray:
    """:func:`tfidf_rows` of the sparse ``matrix`` (documents × concepts, at least 2 rows), densified a
    block of rows at a time: one float copy of the matrix instead of four (the dense table, its
    selected rows, their floats, the weights), with the bits the dense computation gave.

    Those bits depend on memory layout: the dense computation ran on a column-major array (a
    pandas table's), where numpy sums each row's squares column after column; on a row-major block
    it would sum them pairwise (different last bits, so ties in ``top_shared`` could break the other
    way). Here the squares are summed column after column explicitly, whatever the block, and the
    result is column-major, so the cosine products see the same arrays as before.
    """
    n, width = matrix.shape
    df = np.bincount(matrix.indices[matrix.data > 0], minlength=width).astype(np.int64)
    idf = smooth_idf(df, n)
    weighted = np.empty((n, width), dtype=float, order="F")
    rows = max(1, block_cells // max(1, width))
    for start in range(0, n, rows):
        weights = matrix[start : start + rows].toarray().astype(float, copy=False) * idf
        squares = weights * weights
        total = squares[:, 0].copy() if width else np.zeros(len(weights))
        for k in range(1, width):
            total += squares[:, k]
        norms = np.sqrt(total)[:, None]
        weighted[start : start + rows] = np.divide(weights, norms, out=np.zeros_like(weights), where=norms > 0)
    return weighted


def similar_pairs(
    a: np.ndarray,
    b: np.ndarray,
    labels_a: Sequence[str],
    labels_b: Sequence[str],
    *,
    keep_rank: int | None = None,
    block_cells: int = BLOCK_CELLS,
) -> dict[tuple[int, int], tuple[float, int, int]]:
    """``(i, j) -> (cosine, rank of j for i, rank of i for j)`` for the pairs :func:`crosslingual_similarity`
    keeps (:func:`similar_pair_arrays`, as a dict)."""
    found = similar_pair_arrays(a, b, labels_a, labels_b, keep_rank=keep_rank, block_cells=block_cells)
    return {
        (i, j): (c, r_a, r_b)
        for i, j, c, r_a, r_b in zip(
            found["i"].tolist(),
            found["j"].tolist(),
            found["cosine"].tolist(),
            found["rank_a"].tolist(),
            found["rank_b"].tolist(),
        )
    }


def similar_pair_arrays(
    a: np.ndarray,
    b: np.ndarray,
    labels_a: Sequence[str],
    labels_b: Sequence[str],
    *,
    keep_rank: int | None = None,
    block_cells: int = BLOCK_CELLS,
) -> dict[str, np.ndarray]:
    """The pairs :func:`crosslingual_similarity` keeps, as arrays sorted by ``(i, j)``: ``i``, ``j``
    (int64 rows of ``a`` and ``b``), ``cosine``, ``rank_a`` (the rank of ``j`` for ``i``) and
    ``rank_b`` (the rank of ``i`` for ``j``); 5 numbers a pair (about 10 pairs a document are kept),
    not a dict entry of Python objects (about 350 bytes a pair).

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
    # pass 1: rows
    parts: list[tuple[np.ndarray, ...]] = []
    rows = max(1, block_cells // max(1, n_b))
    for start in range(0, n_a, rows):
        scores = a[start : start + rows] @ b.T
        ranks = _ranks(np.round(scores, COSINE_DECIMALS), labels_b)
        r, j = np.nonzero(ranks <= limit)  # row-major: sorted by (i, j)
        parts.append((start + r, j, scores[r, j], ranks[r, j]))
    kept_i, kept_j, kept_cos, kept_rank_a = (np.concatenate([p[k] for p in parts]) for k in range(4))
    del parts
    kept_i, kept_j, kept_rank_a = kept_i.astype(np.int64), kept_j.astype(np.int64), kept_rank_a.astype(np.int64)
    kept_rank_b = np.zeros(len(kept_i), dtype=np.int64)
    kept_code = kept_i * n_b + kept_j  # ascending
    by_column = np.argsort(kept_j, kind="stable")
    columns_sorted = kept_j[by_column]
    # pass 2: columns
    added: list[tuple[np.ndarray, ...]] = []
    columns = max(1, block_cells // max(1, n_a))
    for start in range(0, n_b, columns):
        scores = a @ b[start : start + columns].T
        ranks = _ranks(np.round(scores, COSINE_DECIMALS).T, labels_a)  # row c: the rank of every i for column start + c
        c, i = np.nonzero(ranks <= limit)
        code = i.astype(np.int64) * n_b + (start + c)
        at = np.searchsorted(kept_code, code)
        known = (at < len(kept_code)) & (kept_code[np.minimum(at, len(kept_code) - 1)] == code)
        fresh = ~known
        added.append((i[fresh].astype(np.int64), (start + c[fresh]).astype(np.int64), ranks[c[fresh], i[fresh]]))
        lo, hi = np.searchsorted(columns_sorted, [start, start + scores.shape[1]])
        these = by_column[lo:hi]  # the column rank of the pairs the row pass kept
        kept_rank_b[these] = ranks[kept_j[these] - start, kept_i[these]]
    add_i, add_j, add_rank_b = (np.concatenate([p[k] for p in added]) for k in range(3))
    del added
    # pass 3: the row rank and cosine of the pairs the column pass added
    order = np.lexsort((add_j, add_i))
    add_i, add_j, add_rank_b = add_i[order], add_j[order], add_rank_b[order].astype(np.int64)
    add_cos = np.zeros(len(add_i), dtype=float)
    add_rank_a = np.zeros(len(add_i), dtype=np.int64)
    needed = np.unique(add_i)
    for start in range(0, len(needed), rows):
        block = needed[start : start + rows]
        scores = a[block.tolist()] @ b.T
        ranks = _ranks(np.round(scores, COSINE_DECIMALS), labels_b)
        lo, hi = np.searchsorted(add_i, [block[0], block[-1] + 1])
        r = np.searchsorted(block, add_i[lo:hi])
        add_cos[lo:hi] = scores[r, add_j[lo:hi]]
        add_rank_a[lo:hi] = ranks[r, add_j[lo:hi]]
    i = np.concatenate([kept_i, add_i])
    j = np.concatenate([kept_j, add_j])
    order = np.argsort(i * n_b + j, kind="stable")
    return {
        "i": i[order],
        "j": j[order],
        "cosine": np.concatenate([kept_cos, add_cos])[order],
        "rank_a": np.concatenate([kept_rank_a, add_rank_a])[order],
        "rank_b": np.concatenate([kept_rank_b, add_rank_b])[order],
    }


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

OMISSION_COLUMNS = [
    "event",
    "kind",
    "item",
    "docs_a",
    "docs_b",
    "count_a",
    "count_b",
    "per_100_sentences_a",
    "per_100_sentences_b",
    "log2_ratio",
    "direction",
    "p_hits",
    "p",
    "q",
    "test",
    "correction",
    "adjusted_within",
    "status",
]

#: Status of a row whose event has too few documents a side for the document-level test.
TOO_FEW_DOCUMENTS = "too few documents to test"


def rate_difference_p(a: int, b: int, n_a: float, n_b: float) -> float:
    """Two-sided exact p of two Poisson counts with exposures under equal rates.

    Conditional on ``a + b``, ``a ~ Binomial(a + b, n_a / (n_a + n_b))`` when the two rates are
    equal (Przyborowski & Wilenski 1940; the conditional test of two Poisson rates, Lehmann &
    Romano 2005, §4.6); the p is scipy's two-sided exact binomial test. With equal exposures a
    count of ``k`` against 0 gives ``p = 2 · 0.5^k``: 2 against 0 is ``p = 0.5`` (no evidence),
    and at least 6 against 0 is needed for ``p < 0.05``.

    Hits are the unit here, so the test assumes hits are independent. They are not: a document
    that mentions an item tends to mention it again (burstiness), and with per-document gamma
    heterogeneity of shape 0.3-1 this test rejects equal rates far more often than its level
    (``benchmarks/omissions.py``). :func:`event_omissions` reports it as ``p_hits``, a
    descriptive screen, and tests with documents as the unit (:func:`document_permutation_p`).

    >>> round(rate_difference_p(2, 0, 25, 25), 3), round(rate_difference_p(6, 0, 25, 25), 4)
    (0.5, 0.0312)
    """
    from scipy.stats import binomtest

    if a + b == 0:
        return 1.0
    return float(binomtest(int(a), int(a + b), n_a / (n_a + n_b)).pvalue)


def document_arrangements(n_a: int, n_b: int, *, permutations: int = 9999) -> tuple[int, bool]:
    """How many arrangements of documents the permutation test uses, and whether all of them.

    All ``C(n_a + n_b, n_a)`` ways to choose which documents are language a when there are at
    most ``permutations`` of them (exact test), else ``permutations`` random ones.

    >>> document_arrangements(3, 3), document_arrangements(10, 10)
    ((20, True), (9999, False))
    """
    total = math.comb(n_a + n_b, n_a)
    return (total, True) if total <= permutations else (permutations, False)


def smallest_document_p(n_a: int, n_b: int, *, permutations: int = 9999) -> float:
    """The smallest p the document permutation test can give with ``n_a`` and ``n_b`` documents.

    Exact: ``2 / C(n_a + n_b, n_a)`` when the sides are equal (an arrangement and its mirror give
    the same ``|T|``), else ``1 / C(n_a + n_b, n_a)``; random arrangements: ``1 / (B + 1)``.

    >>> smallest_document_p(3, 3), smallest_document_p(1, 3), round(smallest_document_p(20, 20), 6)
    (0.1, 0.25, 0.0001)
    """
    count, exact = document_arrangements(n_a, n_b, permutations=permutations)
    if not exact:
        return 1.0 / (count + 1)
    return (2.0 if n_a == n_b else 1.0) / count


def document_permutation_p(
    counts: np.ndarray, exposure: np.ndarray, n_a: int, *, permutations: int = 9999, seed: int = 0
) -> np.ndarray:
    """Two-sided permutation p per item of equal rates in two languages, documents as the unit.

    What: ``counts`` is documents × items (hits), ``exposure`` the documents' sentences, and the
    first ``n_a`` rows are language a. The statistic of an item is the difference of the two
    pooled rates, ``T = Σ_a y / Σ_a s − Σ_b y / Σ_b s``; its null distribution comes from
    reassigning the documents (each with its sentences and its hits) to the two languages, all
    ``C(n, n_a)`` arrangements when there are at most ``permutations`` (exact, ``p = #{|T*| ≥ |T|}
    / C``), else ``permutations`` random ones (``p = (1 + #{|T*| ≥ |T|}) / (B + 1)``, Phipson &
    Smyth 2010). The same arrangements serve every item, so the p-values of an event keep their
    dependence and Holm applies to them as to any p-values.

    Why: hits are bursty (a document that mentions an item tends to mention it again), so a test
    with hits as the unit (:func:`rate_difference_p`) is far too liberal. A document-level
    permutation test makes no assumption about how hits cluster within a document: under equal
    rates in the two languages the documents are exchangeable, and the test is exact at any
    burstiness (Good 2005, *Permutation, Parametric and Bootstrap Tests of Hypotheses*, §3).
    Its price is that few documents cannot give a small p (:func:`smallest_document_p`).

    >>> y = np.array([[5, 1], [4, 0], [6, 1], [0, 1], [1, 0], [0, 1]]); s = np.full(6, 30)
    >>> document_permutation_p(y, s, 3).round(2).tolist()
    [0.1, 1.0]
    """
    y = np.asarray(counts, dtype=float)
    s = np.asarray(exposure, dtype=float)
    n = len(s)
    count, exact = document_arrangements(n_a, n - n_a, permutations=permutations)
    if exact:
        chosen = np.zeros((count, n), dtype=float)
        for r, combo in enumerate(itertools.combinations(range(n), n_a)):
            chosen[r, list(combo)] = 1.0
    else:
        rng = np.random.default_rng(seed)
        chosen = (np.argsort(rng.random((count, n)), axis=1) < n_a).astype(float)
    observed = y[:n_a].sum(0) / max(s[:n_a].sum(), 1e-300) - y[n_a:].sum(0) / max(s[n_a:].sum(), 1e-300)
    s_a = chosen @ s
    s_b = s.sum() - s_a
    hits_a = chosen @ y
    hits_b = y.sum(0) - hits_a
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.nan_to_num(hits_a / s_a[:, None]) - np.nan_to_num(hits_b / s_b[:, None])
    tolerance = 1e-9 * np.maximum(np.abs(observed), 1e-12)
    extreme = (np.abs(t) >= np.abs(observed) - tolerance).sum(0)
    return extreme / count if exact else (1.0 + extreme) / (count + 1.0)


def _hits_matrix(hits: pd.DataFrame, docs: Sequence[str]) -> tuple[np.ndarray, list[tuple[str, str]]]:
    """Hits of ``docs`` (rows, in that order) on every ``(kind, item)`` with a hit among them (columns,
    sorted): the sum of ``count`` per document and item, the rows of other documents left out."""
    position = {d: i for i, d in enumerate(docs)}
    rows = hits["doc_id"].map(position)
    keep = rows.notna().to_numpy()
    kinds, items = hits["kind"].to_numpy()[keep], hits["item"].to_numpy()[keep]
    keys = sorted(set(zip(kinds, items)))
    column = {k: j for j, k in enumerate(keys)}
    y = np.zeros((len(docs), len(keys)))
    np.add.at(
        y,
        (rows.to_numpy()[keep].astype(np.int64), np.array([column[k] for k in zip(kinds, items)], dtype=np.int64)),
        hits["count"].to_numpy(dtype=float)[keep],
    )
    hit = y.sum(axis=0) > 0
    return y[:, hit], [k for k, h in zip(keys, hit) if h]


def event_omissions(
    items: pd.DataFrame,
    exposure: Mapping[str, int],
    docvars: pd.DataFrame,
    *,
    pair: Sequence[str] = ("vi", "en"),
    ratio: float = 3.0,
    min_count: int = 2,
    event: str = "event",
    alpha: float = 0.05,
    permutations: int = 9999,
    seed: int = 0,
) -> pd.DataFrame:
    """Frames, actors and concepts one language's coverage of an event has and the other lacks.

    Rates are hits per 100 sentences, the project's cross-language rate: on
    translations the two sides have the same number of sentences (median pair ratio 1.00) but
    not the same number of counted tokens (Vietnamese 1.2x English), so a per-1,000-token rate
    makes every item look weaker in Vietnamese.

    An item of an event is **listed** when (1) the ratio rule holds: its stronger side has at
    least ``min_count`` hits and the weaker side none (``missing in <language>``) or a rate at
    most ``1 / ratio`` of the stronger one (``much weaker in <language>``); and (2) the
    difference is beyond chance with documents as the unit: the permutation test of
    :func:`document_permutation_p` gives ``p``, Holm's (1979) step-down adjustment over the
    ``m`` items with any hit in the event gives ``q = min(1, max_{j ≤ i} (m − j + 1) p_(j))``,
    and ``q < alpha``. Holm, not Benjamini–Hochberg: the goal is family-wise, at most
    ``alpha`` of events with *any* false listing under equal rates.

    An event is **tested** only when the test can list something at all: the smallest p its
    documents allow (:func:`smallest_document_p`) is below Holm's first threshold ``alpha / m``.
    With equal sides that is ``C(n_a + n_b, n_a) > 2 m / alpha``: for 50 items 7 + 7 documents
    (6 + 6 give at best p = 0.0022 > 0.001), for 240 items 8 + 8; 1-3 documents a side, common
    for an event, can never give p < 0.05 (3 + 3: p ≥ 0.1). Such an event keeps a descriptive
    row per item that passes the ratio rule and the hit-level exact test (``p_hits < alpha``,
    :func:`rate_difference_p`, which ignores burstiness and so is a screen, not a test), with
    status ``too few documents to test`` and no ``p`` or ``q``.

    Parameters
    ----------
    items : DataFrame with columns ``doc_id, kind, item, count``
        Hits per document (kind: frame, actor, concept).
    exposure : mapping doc_id -> sentences
        The denominator of the rates (each document's sentences).
    docvars : DataFrame indexed by doc_id with ``language`` and the ``event`` column.
    pair : the two languages (``a``, ``b``).
    ratio, min_count : the ratio rule above.
    event : the metadata column naming events.
    alpha : the family-wise level per event (Holm), and the level of the ``p_hits`` screen.
    permutations : exact enumeration up to this many arrangements, else this many random ones
        (resolution ``1 / (permutations + 1)``: 9999 allows ``alpha / m`` down to 240 items).
    seed : random arrangements are seeded by ``seed`` and the event's name (reproducible).

    Returns
    -------
    DataFrame ``event, kind, item, docs_a, docs_b, count_a, count_b, per_100_sentences_a,
    per_100_sentences_b, log2_ratio, direction, p_hits, p, q, test, correction, adjusted_within,
    status``;
    ``log2_ratio = log2(rate_a / rate_b)`` with a zero count replaced by 0.5 (Hardie's
    convention), so a positive value means more in language a. ``direction`` is what the ratio
    rule says (``missing in en``), ``status`` equals it for a listed row and is ``too few
    documents to test`` for a descriptive one; ``test`` names the test. ``correction`` (``holm``,
    or ``none`` for a descriptive row) and ``adjusted_within`` name the family ``q`` is adjusted
    over, as in every test table (:func:`analysis.stats.multiplicity.declare_family`): every item
    with a hit in the event (``"event e001: every item with a hit (48 tests)"``; the listed rows
    are a few of them), or ``no p-value``. Only events with documents (and sentences) in both
    languages are compared.
    """
    from ..stats.multiplicity import adjust

    lang_a, lang_b = pair
    if event not in docvars.columns:
        return pd.DataFrame(columns=OMISSION_COLUMNS)
    events = docvars[event].astype(str)
    languages = docvars["language"].astype(str)
    frame = items[items["doc_id"].isin(docvars.index)]
    by_event = dict(tuple(frame.groupby(frame["doc_id"].map(events), sort=False)))
    records = []
    for ev in sorted(events.unique()):
        members = docvars.index[events == ev]
        docs_a = [d for d in members if languages[d] == lang_a]
        docs_b = [d for d in members if languages[d] == lang_b]
        if not docs_a or not docs_b or ev not in by_event:
            continue
        s = np.array([exposure.get(d, 0) for d in docs_a + docs_b], dtype=float)
        n_a, n_b = s[: len(docs_a)].sum(), s[len(docs_a) :].sum()
        if not n_a or not n_b:
            continue
        y, columns = _hits_matrix(by_event[ev], docs_a + docs_b)
        if not columns:
            continue
        m = y.shape[1]
        a_hits, b_hits = y[: len(docs_a)].sum(0), y[len(docs_a) :].sum(0)
        tested = smallest_document_p(len(docs_a), len(docs_b), permutations=permutations) < alpha / m
        if tested:
            count, exact = document_arrangements(len(docs_a), len(docs_b), permutations=permutations)
            p_doc = document_permutation_p(
                y, s, len(docs_a), permutations=permutations, seed=seed + zlib.crc32(ev.encode())
            )
            q_doc = adjust(p_doc, "holm")
            test = f"document permutation, {'all' if exact else 'random'} {count} arrangements; Holm over {m} items"
            correction, family = "holm", f"{event} {ev}: every item with a hit ({m} test{'s' if m != 1 else ''})"
        else:
            p_doc = q_doc = np.full(m, np.nan)
            test = "none"
            correction, family = "none", "no p-value"
        for j, (kind, item) in enumerate(columns):
            a, b = int(a_hits[j]), int(b_hits[j])
            rate_a, rate_b = 100.0 * a / n_a, 100.0 * b / n_b
            direction = ""
            if a >= min_count and (b == 0 or rate_a >= ratio * rate_b):
                direction = f"missing in {lang_b}" if b == 0 else f"much weaker in {lang_b}"
            elif b >= min_count and (a == 0 or rate_b >= ratio * rate_a):
                direction = f"missing in {lang_a}" if a == 0 else f"much weaker in {lang_a}"
            if not direction:
                continue
            if tested and not q_doc[j] < alpha:
                continue
            p_hits = rate_difference_p(a, b, n_a, n_b)  # the screen of an untested event; reported for a listed row
            if tested:
                status = direction
            elif p_hits < alpha:
                status = TOO_FEW_DOCUMENTS
            else:
                continue
            log2 = math.log2(((a or 0.5) / n_a) / ((b or 0.5) / n_b))
            records.append(
                (
                    ev,
                    kind,
                    item,
                    len(docs_a),
                    len(docs_b),
                    a,
                    b,
                    rate_a,
                    rate_b,
                    log2,
                    direction,
                    p_hits,
                    float(p_doc[j]),
                    float(q_doc[j]),
                    test,
                    correction,
                    family,
                    status,
                )
            )
    table = pd.DataFrame(records, columns=OMISSION_COLUMNS)
    kind_order = {"frame": 0, "actor": 1, "concept": 2}
    if len(table):
        table = table.assign(_k=table["kind"].map(kind_order).fillna(9), _r=-table["log2_ratio"].abs())
        table = (
            table.sort_values(["event", "_k", "status", "_r", "item"], kind="mergesort")
            .drop(columns=["_k", "_r"])
            .reset_index(drop=True)
        )
    return table
