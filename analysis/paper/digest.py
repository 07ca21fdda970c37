"""A table read back one chunk of rows at a time, kept only as far as the appendix shows it.

The appendix shows a table's first rows (:data:`analysis.paper.appendix.APPENDIX_MAX_ROWS`), says
once in the caption the columns with one value in every row, names the corrections of its q column
and counts its rows (:func:`analysis.paper.appendix.compact_table`); each column is a number column
or a text column (:func:`analysis.paper.appendix.typed_table`). All of that is decided over every
row, but none of it needs every row at once:

- a column is numeric when *every* non-empty value parses, *none* has a leading zero and *none*
  is ``True``/``False``: an AND over rows, kept per chunk; its numbers are ``int64`` when every
  chunk's are and no cell is empty, ``float64`` when some chunk's are floats or a cell is empty
  (pandas' ``to_numeric`` of the whole column; any other result, such as ``uint64`` for integers
  past 2**63, is not summarised and the caller reads the whole table);
- whether a column has one value, whether it is empty, its first value and the corrections named
  are functions of the column's *distinct* values in order of first appearance, typed as the
  column is: the number of distinct values of a column equals that of its distinct cells once
  typed, and the first cell is the first distinct one. Distinct cells are kept up to
  :data:`DISTINCT_LIMIT` per column (a column with more is not constant: it would take more than
  that many spellings of one number for it to be), without a limit for ``correction``.

So a word-keyness table of two million rows (560 MB of CSV, 2 GB read whole as text) is held as
one chunk, its first rows and a few values per column. :func:`summarise` is exact against
:func:`analysis.paper.appendix.typed_table` and
:func:`analysis.paper.appendix.constant_columns` of the whole table (property-tested over chunk
sizes).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable

import numpy as np
import pandas as pd

from .appendix import number_cells

#: Distinct cells kept per column; a column with more is not one with a single value.
DISTINCT_LIMIT = 32

#: Columns whose distinct values are all kept (the caption names every correction in ``correction``).
ALL_DISTINCT = ("correction",)

_NUMBER_DTYPES = {np.dtype("int64"), np.dtype("float64")}


@dataclass
class _Column:
    """The running state of one column over the chunks read so far."""

    numeric: bool = True  # every non-empty cell parses, none with a leading zero, none True/False
    filled: bool = False  # some cell is not empty
    empty: bool = False  # some cell is empty
    dtypes: set = field(default_factory=set)  # to_numeric's dtype of each chunk's non-empty cells
    distinct: pd.Series | None = None  # distinct cells in order of first appearance; None: more than the limit
    limit: int | None = DISTINCT_LIMIT

    def add(self, values: pd.Series) -> None:
        if self.numeric:
            blank = (values == "").to_numpy(dtype=bool)
            filled = values[~blank]
            self.empty |= bool(blank.any())
            if len(filled):
                self.filled = True
                numbers = number_cells(filled)
                if numbers is None:
                    self.numeric = False
                else:
                    self.dtypes.add(numbers.dtype)
        if self.distinct is not None:
            seen = pd.concat([self.distinct, values.drop_duplicates()], ignore_index=True).drop_duplicates()
            self.distinct = None if self.limit is not None and len(seen) > self.limit else seen

    def dtype(self):
        """The numbers' dtype of the whole column, None for a text column, ``False`` when not known
        from the chunks (an unusual dtype: read the whole table)."""
        if not (self.numeric and self.filled):
            return None
        if not self.dtypes <= _NUMBER_DTYPES:
            return False
        return np.dtype("int64") if self.dtypes == {np.dtype("int64")} and not self.empty else np.dtype("float64")


def _typed(values: pd.Series, dtype) -> pd.Series:
    """Cells typed as :func:`analysis.paper.appendix.typed_table` types the whole column."""
    if dtype is None:
        return values
    return pd.to_numeric(values.replace("", float("nan"))).astype(dtype)


@dataclass(frozen=True)
class TableDigest:
    """What the appendix needs of a table: its first rows typed (``head``), its number of rows
    (``rows``) and per column its distinct values typed, in order of first appearance (``distinct``;
    None for a column with more than :data:`DISTINCT_LIMIT`)."""

    head: pd.DataFrame
    rows: int
    distinct: dict


def summarise(chunks: Iterable[pd.DataFrame], *, keep_rows: int) -> TableDigest | None:
    """The digest of a table given as chunks of rows (every cell as text, as
    :func:`analysis.stages.appendix.read_output_csv` reads it), keeping its first ``keep_rows`` rows.
    None when a number column's type cannot be known from its chunks (see the module's note):
    the caller reads the whole table."""
    columns: list | None = None
    states: list[_Column] = []
    head: list[pd.DataFrame] = []
    kept = rows = 0
    for chunk in chunks:
        if columns is None:
            columns = list(chunk.columns)
            states = [
                _Column(distinct=chunk.iloc[:0, position], limit=None if str(name) in ALL_DISTINCT else DISTINCT_LIMIT)
                for position, name in enumerate(columns)
            ]
        rows += len(chunk)
        if kept < keep_rows or not head:
            part = chunk.iloc[: keep_rows - kept]
            head.append(part)
            kept += len(part)
        for position, state in enumerate(states):
            state.add(chunk.iloc[:, position])
    if columns is None:
        raise ValueError("a table needs at least one chunk (its header)")
    dtypes = [state.dtype() for state in states]
    if any(dtype is False for dtype in dtypes):
        return None
    first = pd.concat(head, ignore_index=True) if len(head) > 1 else head[0].reset_index(drop=True)
    typed = pd.DataFrame({position: _typed(first.iloc[:, position], dtype) for position, dtype in enumerate(dtypes)})
    typed.columns = columns
    distinct = {
        name: None if state.distinct is None else _typed(state.distinct, dtype)
        for name, state, dtype in zip(columns, states, dtypes)
    }
    return TableDigest(head=typed, rows=rows, distinct=distinct)
