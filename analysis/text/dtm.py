"""Document-term matrix (``scipy.sparse`` CSR) with row variables, grouping and weighting.

Rows are units (documents, paragraphs or sentence windows), columns terms in sorted order (so the
same input gives the same matrix, bit for bit). ``docvars`` carries every metadata column per row.
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass, field
from typing import Iterable, Sequence

import numpy as np
import pandas as pd
import scipy.sparse as sp


@dataclass
class DocTermMatrix:
    """``counts``: (n_rows, n_terms) int64 CSR; ``row_ids``; ``vocab`` (sorted); ``docvars``.

    ``history`` records how the matrix was made (quanteda's idea of objects that carry their
    processing steps).
    """

    counts: sp.csr_matrix
    row_ids: list[str]
    vocab: list[str]
    docvars: pd.DataFrame
    history: list[str] = field(default_factory=list)

    @property
    def shape(self) -> tuple[int, int]:
        return self.counts.shape

    def column(self, term: str) -> np.ndarray:
        return np.asarray(self.counts[:, self.vocab.index(term)].todense()).ravel()

    def totals(self) -> np.ndarray:
        """Tokens counted per row (after stopword removal)."""
        return np.asarray(self.counts.sum(axis=1)).ravel()


def build_dtm(
    rows: Iterable[tuple[str, Sequence[str]]], docvars: pd.DataFrame | None, vocab: Sequence[str] | None = None
) -> DocTermMatrix:
    """Count terms per row. ``docvars`` must be indexed by row id (``None``: attach later);
    ``vocab`` fixes the columns (terms outside it are not counted).

    >>> import pandas as pd
    >>> m = build_dtm([("a", ["hợp_tác", "hợp_tác", "biển"]), ("b", ["biển"])], pd.DataFrame(index=["a", "b"]))
    >>> m.vocab, m.counts.toarray().tolist()
    (['biển', 'hợp_tác'], [[1, 2], [1, 0]])
    """
    # One pass over the rows (they may be a stream): provisional columns in first-seen order,
    # re-ordered to the sorted vocabulary at the end, so the result is independent of row order.
    # Column indices and counts accumulate in typed arrays (8 bytes a non-zero cell), not lists of
    # Python ints (about 36 bytes a cell: 430 MB for the 12 million cells of 100,000 articles).
    fixed = vocab is not None
    index: dict[str, int] = {t: i for i, t in enumerate(vocab)} if fixed else {}
    indptr, indices, data, row_ids = array("q", [0]), array("q"), array("q"), []
    for row_id, terms in rows:
        row_ids.append(row_id)
        counts: dict[int, int] = {}
        for term in terms:
            j = index.get(term)
            if j is None:
                if fixed:
                    continue
                j = index[term] = len(index)
            counts[j] = counts.get(j, 0) + 1
        indices.extend(counts)
        data.extend(counts.values())
        indptr.append(len(indices))
    columns = np.array(indices, dtype=np.int64)
    del indices
    if fixed:
        vocab = list(vocab)
    else:
        vocab = sorted(index)
        position = np.empty(len(index), dtype=np.int64)
        position[[index[t] for t in vocab]] = np.arange(len(vocab))
        columns = position[columns]
    matrix = sp.csr_matrix(
        (np.array(data, dtype=np.int64), columns, np.array(indptr, dtype=np.int64)),
        shape=(len(row_ids), len(vocab)),
    )
    matrix.sort_indices()
    row_vars = docvars.loc[row_ids].copy() if docvars is not None else pd.DataFrame(index=pd.Index(row_ids))
    return DocTermMatrix(matrix, row_ids, list(vocab), row_vars, ["build_dtm"])


def group_dtm(dtm: DocTermMatrix, by: str) -> DocTermMatrix:
    """Sum rows by a docvar (quanteda's ``dfm_group``); groups in sorted order."""
    labels = dtm.docvars[by].astype(str).to_numpy()
    groups = sorted(set(labels))
    position = {g: i for i, g in enumerate(groups)}
    indicator = sp.csr_matrix(
        (np.ones(len(labels), dtype=np.int64), ([position[g] for g in labels], np.arange(len(labels)))),
        shape=(len(groups), len(labels)),
    )
    docvars = pd.DataFrame(
        {by: groups, "n_rows": np.bincount([position[g] for g in labels], minlength=len(groups))}, index=groups
    )
    return DocTermMatrix(
        (indicator @ dtm.counts).tocsr(), groups, dtm.vocab, docvars, [*dtm.history, f"group_dtm(by={by})"]
    )


def relative_frequency(dtm: DocTermMatrix, per: float = 1000.0) -> sp.csr_matrix:
    """Counts per ``per`` counted tokens of each row: ``count / row_total * per``."""
    totals = dtm.totals().astype(float)
    scale = np.divide(per, totals, out=np.zeros_like(totals), where=totals > 0)
    return sp.diags(scale) @ dtm.counts.astype(float)


def document_frequency(dtm: DocTermMatrix) -> np.ndarray:
    """Number of rows in which each term occurs at least once."""
    return np.asarray((dtm.counts > 0).sum(axis=0)).ravel()


def tfidf(dtm: DocTermMatrix) -> sp.csr_matrix:
    """TF-IDF with raw counts and inverse document frequency ``log10(N / df)``.

    The scheme of quanteda's ``dfm_tfidf`` defaults (``scheme_tf = "count"``, ``scheme_df =
    "inverse"``, base 10); a term in every row weighs 0.
    """
    n_rows = dtm.shape[0]
    df = document_frequency(dtm).astype(float)
    idf = np.log10(np.divide(n_rows, df, out=np.ones_like(df), where=df > 0))
    return (dtm.counts.astype(float) @ sp.diags(idf)).tocsr()


def reindex_rows(dtm: DocTermMatrix, row_ids: Sequence[str], docvars: pd.DataFrame | None = None) -> DocTermMatrix:
    """The rows ``row_ids`` in that order; a row the matrix lacks is all zeros (``DataFrame.reindex``
    with ``fill_value=0``). ``docvars`` (indexed by row id) replaces the row variables, else they are
    carried over (NaN for the new rows).

    >>> m = build_dtm([("a", ["x"]), ("b", ["y", "y"])], None)
    >>> reindex_rows(m, ["b", "c", "a"]).counts.toarray().tolist()
    [[0, 2], [0, 0], [1, 0]]
    """
    position = {r: i for i, r in enumerate(dtm.row_ids)}
    rows = [position.get(r, -1) for r in row_ids]
    found = np.array([i for i in rows if i >= 0], dtype=np.int64)
    targets = np.array([k for k, i in enumerate(rows) if i >= 0], dtype=np.int64)
    selector = sp.csr_matrix((np.ones(len(found), dtype=np.int64), (targets, found)), shape=(len(rows), dtm.shape[0]))
    counts = (selector @ dtm.counts).tocsr()
    counts.sort_indices()
    ids = list(row_ids)
    row_vars = docvars.reindex(ids) if docvars is not None else dtm.docvars.reindex(ids)
    return DocTermMatrix(counts, ids, list(dtm.vocab), row_vars, [*dtm.history, "reindex_rows"])


def to_frame(dtm: DocTermMatrix) -> pd.DataFrame:
    """The counts as a dense (rows × features) int64 DataFrame indexed by row id, columns the
    features: the adapter for callers that take a table (a codebook's few hundred entries, not a
    vocabulary of words).

    >>> to_frame(build_dtm([("a", ["x", "x"]), ("b", ["y"])], None)).to_dict()
    {'x': {'a': 2, 'b': 0}, 'y': {'a': 0, 'b': 1}}
    """
    return pd.DataFrame(
        dtm.counts.toarray().astype(np.int64, copy=False), index=pd.Index(dtm.row_ids), columns=list(dtm.vocab)
    )


def count_frame(counts: DocTermMatrix | pd.DataFrame) -> pd.DataFrame:
    """A per-document count table from either type: a :class:`DocTermMatrix` (:func:`to_frame`) or a
    DataFrame (returned as it is), so a function that computes on a dense table accepts both."""
    return to_frame(counts) if isinstance(counts, DocTermMatrix) else counts
