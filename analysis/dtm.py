"""Document-term matrix (``scipy.sparse`` CSR) with row variables, grouping and weighting.

Rows are units (documents, paragraphs or sentence windows), columns terms in sorted order (so the
same input gives the same matrix, bit for bit). ``docvars`` carries every metadata column per row.
"""

from __future__ import annotations

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


def build_dtm(rows: Iterable[tuple[str, Sequence[str]]], docvars: pd.DataFrame, vocab: Sequence[str] | None = None) -> DocTermMatrix:
    """Count terms per row. ``docvars`` must be indexed by row id; ``vocab`` fixes the columns.

    >>> import pandas as pd
    >>> m = build_dtm([("a", ["hợp_tác", "hợp_tác", "biển"]), ("b", ["biển"])], pd.DataFrame(index=["a", "b"]))
    >>> m.vocab, m.counts.toarray().tolist()
    (['biển', 'hợp_tác'], [[1, 2], [1, 0]])
    """
    rows = list(rows)
    if vocab is None:
        vocab = sorted({t for _, terms in rows for t in terms})
    index = {t: i for i, t in enumerate(vocab)}
    indptr, indices, data = [0], [], []
    for _, terms in rows:
        counts: dict[int, int] = {}
        for term in terms:
            j = index.get(term)
            if j is not None:
                counts[j] = counts.get(j, 0) + 1
        for j in sorted(counts):
            indices.append(j)
            data.append(counts[j])
        indptr.append(len(indices))
    matrix = sp.csr_matrix(
        (np.asarray(data, dtype=np.int64), np.asarray(indices, dtype=np.int64), np.asarray(indptr, dtype=np.int64)),
        shape=(len(rows), len(vocab)),
    )
    row_ids = [r for r, _ in rows]
    return DocTermMatrix(matrix, row_ids, list(vocab), docvars.loc[row_ids].copy(), ["build_dtm"])


def group_dtm(dtm: DocTermMatrix, by: str) -> DocTermMatrix:
    """Sum rows by a docvar (quanteda's ``dfm_group``); groups in sorted order."""
    labels = dtm.docvars[by].astype(str).to_numpy()
    groups = sorted(set(labels))
    position = {g: i for i, g in enumerate(groups)}
    indicator = sp.csr_matrix(
        (np.ones(len(labels), dtype=np.int64), ([position[g] for g in labels], np.arange(len(labels)))),
        shape=(len(groups), len(labels)),
    )
    docvars = pd.DataFrame({by: groups, "n_rows": np.bincount([position[g] for g in labels], minlength=len(groups))}, index=groups)
    return DocTermMatrix((indicator @ dtm.counts).tocsr(), groups, dtm.vocab, docvars, [*dtm.history, f"group_dtm(by={by})"])


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
