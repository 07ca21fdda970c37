"""Near-duplicate documents within a language: Jaccard similarity of word shingles (Broder 1997), to
flag syndicated copies before they inflate counts. Vietnamese is shingled on syllables, so two
copies segmented differently still match. Pure: token lists in, a DataFrame out.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from typing import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

DUPLICATE_COLUMNS = [
    "language",
    "doc_a",
    "doc_b",
    "shingles_a",
    "shingles_b",
    "shared",
    "jaccard",
    "containment",
    "near_duplicate",
]


def shingle_words(tokens: Iterable[str], language: str) -> list[str]:
    """Lower-cased words for shingling: Vietnamese split into syllables; punctuation dropped."""
    words = []
    for token in tokens:
        if not any(c.isalnum() for c in token):
            continue
        lowered = token.lower()
        words.extend(lowered.replace("_", " ").split() if language == "vi" else lowered.split())
    return words


def shingles(words: Sequence[str], k: int = 5) -> set[tuple[str, ...]]:
    """The set of ``k``-word shingles (the whole text as one shingle when shorter than ``k``)."""
    if len(words) < k:
        return {tuple(words)} if words else set()
    return {tuple(words[i : i + k]) for i in range(len(words) - k + 1)}


#: Odd 64-bit multiplier of the polynomial shingle hash (2^64 / golden ratio, Knuth's
#: multiplicative hashing constant).
_SHINGLE_MULTIPLIER = np.uint64(0x9E3779B97F4A7C15)


@lru_cache(maxsize=1 << 18)
def _word_hash(word: str) -> int:
    return int.from_bytes(hashlib.blake2b(word.encode("utf-8", "surrogatepass"), digest_size=8).digest(), "little")


def shingle_hashes(words: Sequence[str], k: int = 5) -> np.ndarray:
    """Sorted distinct 64-bit hashes of the ``k``-word shingles of ``words`` (see :func:`shingles`).

    ``h = sum_i word_hash(w_i) * M^(k-1-i) mod 2^64`` with a BLAKE2b hash per word: the same on
    every run and machine (Python's own ``hash`` of strings is salted per process). Eight bytes a
    shingle instead of a tuple of words, so a corpus of thousands of articles fits; two distinct
    shingles collide with probability about 2^-64.
    """
    if not words:
        return np.zeros(0, dtype=np.uint64)
    values = np.fromiter((_word_hash(w) for w in words), dtype=np.uint64, count=len(words))
    width = min(k, len(words))  # a text shorter than k is one shingle
    hashes = np.zeros(len(words) - width + 1, dtype=np.uint64)
    for i in range(width):
        hashes = hashes * _SHINGLE_MULTIPLIER + values[i : len(values) - width + 1 + i]
    return np.unique(hashes)


#: Entries of the shingle index sorted at once (a bucket of hash values): about 40 bytes each
#: while a bucket is sorted, so about 170 MB whatever the corpus size.
INDEX_BUCKET = 1 << 22

#: Candidate pairs generated before they are deduplicated into the kept set (8 bytes each).
_PAIR_BATCH = 1 << 22


def _bucket_edges(total: int, bucket: int) -> list[int]:
    """Interior edges splitting the 64-bit hash range into a power of two of equal ranges, enough
    that about ``bucket`` of ``total`` uniformly spread hashes fall in each."""
    bits = max(0, (max(total, 1) - 1) // bucket).bit_length()
    return [i << (64 - bits) for i in range(1, 1 << bits)]


def _merge_counts(codes: list[np.ndarray], counts: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Distinct ``codes`` with their ``counts`` summed (sorted by code)."""
    codes_all = np.concatenate(codes) if codes else np.zeros(0, dtype=np.int64)
    counts_all = np.concatenate(counts) if counts else np.zeros(0, dtype=np.int64)
    unique, inverse = np.unique(codes_all, return_inverse=True)
    return unique, np.bincount(inverse, weights=counts_all, minlength=len(unique)).astype(np.int64)


def _candidate_codes(values, owner, n_docs: int, lang, max_df: int, *, common=None):
    """Pairs of documents (``i * n_docs + j``, ``i < j``, same language) holding a common value of
    ``values`` held by 2 to ``max_df`` documents, and for each pair how many such values it shares;
    ``values`` sorted, ``owner`` ascending within a run. ``common`` (one counter per document), when
    given, gets one for each value held by more than ``max_df`` documents."""
    empty = np.zeros(0, dtype=np.int64)
    found, counted, pending, held = empty, empty, [], 0
    if not len(values):
        return found, counted
    starts = np.flatnonzero(np.r_[True, values[1:] != values[:-1]])
    sizes = np.diff(np.r_[starts, len(values)])
    if common is not None and (sizes > max_df).any():
        frequent = np.repeat(sizes > max_df, sizes)
        common += np.bincount(owner[frequent], minlength=len(common))
    shared = (sizes >= 2) & (sizes <= max_df)
    starts, sizes = starts[shared], sizes[shared]
    for size in np.unique(sizes).tolist():
        runs = starts[sizes == size]
        left, right = np.triu_indices(size, 1)
        step = max(1, _PAIR_BATCH // len(left))
        for begin in range(0, len(runs), step):
            members = owner[runs[begin : begin + step, None] + np.arange(size)]
            a, b = members[:, left].ravel(), members[:, right].ravel()
            keep = lang[a] == lang[b]
            pending.append(a[keep] * n_docs + b[keep])
            held += int(keep.sum())
            if held >= _PAIR_BATCH:
                found, counted = _merge_counts([found, *pending], [counted, *(np.ones_like(x) for x in pending)])
                pending, held = [], 0
    return _merge_counts([found, *pending], [counted, *(np.ones_like(x) for x in pending)])


def near_duplicates(
    documents, *, k: int = 5, threshold: float = 0.5, max_df: int = 50, min_containment: float = 0.0
) -> pd.DataFrame:
    """Shingle Jaccard for every pair of documents of one language that share a shingle.

    ``documents`` maps doc_id -> (language, tokens), or is an iterable of (doc_id, language,
    tokens) read one document at a time. ``jaccard = |A ∩ B| / |A ∪ B|``;
    ``containment = |A ∩ B| / min(|A|, |B|)`` (a short copy inside a long article);
    ``near_duplicate = jaccard >= threshold``. Candidate pairs come from an inverted index of
    shingles held by at most ``max_df`` documents (a stock phrase shared by hundreds of articles
    would make every pair a candidate; a copy shares rarer shingles too), then each candidate's
    Jaccard is computed on all its shingles, as 64-bit hashes (:func:`shingle_hashes`: exact
    unless two distinct shingles collide). Sorted by language, then descending Jaccard.

    Memory: the documents' hashes are held (8 bytes a shingle); the index is sorted one range of
    hash values at a time (about :data:`INDEX_BUCKET` entries, so the sort's temporaries stay
    bounded however large the corpus), and candidate pairs are kept as one int64 code each. The
    same pairs as one index over all hashes: every shingle falls in exactly one range.

    ``min_containment`` lists only the pairs whose containment is at least that (with ``threshold``:
    every near-duplicate, since ``jaccard <= containment``, and every document mostly contained in
    another). The pairs sharing an indexed shingle grow with the square of the documents holding a
    shingle (246,000 pairs at 10,000 articles, most sharing a stock phrase or two), so a large corpus
    needs the cut before the exact count: the index also counts, per candidate pair, the indexed
    shingles it shares (``s``) and, per document, its shingles held by more than ``max_df``
    documents (``c``); the pair's shared shingles are at most ``s + min(c_a, c_b)``, so a pair whose
    bound over the shorter document's shingles is below ``min_containment`` cannot reach it and is
    not counted exactly. Only what is listed changes; every listed pair's numbers are exact.

    By hand for the example: 14 syllables give 12 shingles of 3; the two reports differ in the
    last one only, so 11 are shared of 13 in the union (Jaccard 11/13 = 0.846); the sports report
    shares none.

    >>> a = "hai nước thúc_đẩy hợp_tác kinh_tế và thương_mại trong năm nay".split()
    >>> b = "hai nước thúc_đẩy hợp_tác kinh_tế và thương_mại trong năm tới".split()
    >>> c = "đội tuyển bóng_đá giành chiến_thắng trong trận đấu tối qua".split()
    >>> pairs = near_duplicates({"v1": ("vi", a), "v2": ("vi", b), "v3": ("vi", c)}, k=3)
    >>> print(pairs[["doc_a", "doc_b", "shingles_a", "shared", "jaccard",
    ...     "near_duplicate"]].round(3).to_string(index=False))
    doc_a doc_b  shingles_a  shared  jaccard  near_duplicate
       v1    v2          12      11    0.846            True
    """
    triples = (
        ((d, lang, tokens) for d, (lang, tokens) in documents.items()) if isinstance(documents, Mapping) else documents
    )
    hashes: dict[str, np.ndarray] = {}
    language: dict[str, str] = {}
    for d, lang, tokens in triples:
        hashes[d], language[d] = shingle_hashes(shingle_words(tokens, lang), k), lang
    ids = sorted(hashes)
    arrays = [hashes[d] for d in ids]
    del hashes
    codes = {name: i for i, name in enumerate(sorted(set(language.values())))}
    lang = np.array([codes[language[d]] for d in ids], dtype=np.int64)
    n_docs, total = len(ids), sum(len(a) for a in arrays)
    found, shared_counts = [np.zeros(0, dtype=np.int64)], [np.zeros(0, dtype=np.int64)]
    common = np.zeros(n_docs, dtype=np.int64)  # shingles held by more than max_df documents
    if total:
        # The inverted index, one range of hash values at a time (a shingle's documents all fall in
        # its range): (hash, document) pairs sorted by hash, then by document; a run of equal hashes
        # is the documents holding that shingle. Each document's hashes are sorted, so its part of
        # a range is a slice.
        edges = np.array(_bucket_edges(total, INDEX_BUCKET), dtype=np.uint64)
        cuts = np.zeros((n_docs, len(edges) + 2), dtype=np.int64)
        for row, a in enumerate(arrays):
            cuts[row, 1:-1], cuts[row, -1] = np.searchsorted(a, edges), len(a)
        for b in range(len(edges) + 1):
            lo, hi = cuts[:, b], cuts[:, b + 1]
            values = np.concatenate([a[x:y] for a, x, y in zip(arrays, lo.tolist(), hi.tolist())])
            owner = np.repeat(np.arange(n_docs, dtype=np.int64), hi - lo)
            order = np.lexsort((owner, values))
            codes, counts = _candidate_codes(values[order], owner[order], n_docs, lang, max_df, common=common)
            found.append(codes)
            shared_counts.append(counts)
            del values, owner, order, codes, counts
    candidates, indexed = _merge_counts(found, shared_counts)
    del found, shared_counts
    if min_containment > 0 and len(candidates):
        first, second = candidates // n_docs, candidates % n_docs
        sizes = np.array([len(a) for a in arrays], dtype=np.int64)
        bound = indexed + np.minimum(common[first], common[second])
        shorter = np.minimum(sizes[first], sizes[second])
        candidates = candidates[bound >= min_containment * shorter]
    records = []
    for i, j in zip((candidates // max(n_docs, 1)).tolist(), (candidates % max(n_docs, 1)).tolist()):
        x, y, a, b = ids[i], ids[j], arrays[i], arrays[j]
        n = int(np.intersect1d(a, b, assume_unique=True).size)
        union = len(a) + len(b) - n
        jaccard = n / union if union else 0.0
        containment = n / min(len(a), len(b))
        if containment < min_containment:
            continue
        records.append((language[x], x, y, len(a), len(b), n, jaccard, containment, jaccard >= threshold))
    table = pd.DataFrame(records, columns=DUPLICATE_COLUMNS)
    return table.sort_values(
        ["language", "jaccard", "doc_a", "doc_b"], ascending=[True, False, True, True], kind="mergesort"
    ).reset_index(drop=True)
