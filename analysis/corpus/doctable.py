"""The document table of a corpus read from a table: columns, not one Python object per document.

A table of 200,000 articles held as :class:`analysis.corpus.doctable.PackedDocument` objects with a
metadata dict each costs about 1.7 KB a document (the dict, its keys and string values, the
where-label, two hexadecimal hashes). Here one source's documents are a handful of NumPy
arrays (pack offsets and lengths, text lengths, record numbers and lines, the text's SHA-256 as
32 raw bytes: 56 bytes) plus the corpus ``docvars`` DataFrame (pandas' Arrow-backed strings)
that already holds the metadata, about 200 bytes a document in all with six short metadata
columns (``benchmarks/read_tables.py``).

:class:`PackedColumns` gives a :class:`~analysis.corpus.doctable.PackedDocument` on demand (built a
chunk of :data:`CHUNK` documents at a time, the last chunk kept, so walking the corpus in order
costs one object per document, then lets it go); :class:`Documents` is the corpus' document
sequence over such blocks and plain lists (the folder form, news-please, HTML); and
:class:`RecordHashes` is the ``doc_id -> record SHA-256`` mapping the manifest writes, made into
hexadecimal strings only when it is read. Pure data structures, no file access.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import repeat

import numpy as np
import pandas as pd

from ..errors import InputError
from .documents import Document, text_sha256

#: Documents built together when one is asked for (and kept until another chunk is asked for).
CHUNK = 1024


#: Rows of one segment of a :class:`Segments` array (a multiple of :data:`CHUNK`).
SEGMENT = 64 * CHUNK


class Segments:
    """A column of fixed-size NumPy segments (:data:`SEGMENT` rows each, the last one shorter),
    filled as batches arrive: no per-batch arrays to join at the end (joining them doubled the
    peak, and the small ones freed left the heap fragmented, about 90 bytes a document)."""

    def __init__(self, dtype, width: int = 0):
        self.dtype, self.width = np.dtype(dtype), width
        self.parts: list[np.ndarray] = []
        self.length = 0

    def _new(self, rows: int) -> np.ndarray:
        return np.empty((rows, self.width) if self.width else rows, dtype=self.dtype)

    def extend(self, values: np.ndarray) -> None:
        values = np.asarray(values)
        done = 0
        while done < len(values):
            if not self.parts or self.length % SEGMENT == 0:
                self.parts.append(self._new(SEGMENT))
            at = self.length % SEGMENT
            take = min(SEGMENT - at, len(values) - done)
            self.parts[-1][at : at + take] = values[done : done + take]
            done += take
            self.length += take

    def finish(self) -> Segments:
        """Trim the last segment to its rows (its unused end is let go)."""
        used = self.length - SEGMENT * (len(self.parts) - 1) if self.parts else 0
        if self.parts and used < SEGMENT:
            self.parts[-1] = self.parts[-1][:used].copy()
        return self

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, index):
        if isinstance(index, slice):
            a, b, _ = index.indices(self.length)
            pieces = (
                [
                    self.parts[k][max(a - k * SEGMENT, 0) : b - k * SEGMENT]
                    for k in range(a // SEGMENT, (b - 1) // SEGMENT + 1)
                ]
                if b > a
                else []
            )
            return pieces[0] if len(pieces) == 1 else (np.concatenate(pieces) if pieces else self._new(0))
        if index < 0:
            index += self.length
        return self.parts[index // SEGMENT][index % SEGMENT]

    def __array__(self, dtype=None, copy=None):
        whole = np.concatenate(self.parts) if self.parts else self._new(0)
        return whole.astype(dtype) if dtype is not None else whole

    @property
    def nbytes(self) -> int:
        return sum(p.nbytes for p in self.parts)


def _hexes(digests: np.ndarray) -> list[str]:
    """Rows of an ``(n, 32)`` uint8 array as 64-character hexadecimal strings."""
    flat = digests.tobytes().hex()
    return [flat[i : i + 64] for i in range(0, len(flat), 64)]


class PackedColumns(Sequence):
    """One source's validated documents, column-wise (see the module docstring).

    Parameters
    ----------
    pack : str
        The text pack's path (``""``: read for validation only, no texts kept).
    where : str
        The source's label in messages (its path); a document's :attr:`where` adds its record
        number and, when ``lines`` is given, the physical line where the record starts.
    offsets, lengths, sizes, numbers, lines : :class:`Segments` (or NumPy arrays) of integers
        Byte offset and length of each text in the pack, its length in characters, its record
        number (1 = first record after the header) and first physical line (``None``: no lines,
        e.g. Parquet).
    text_sha, record_sha : :class:`Segments` (or NumPy arrays) of uint8 rows of 32
        SHA-256 of each text's UTF-8 bytes and of its record (:func:`analysis.corpus.sources.record_sha256`);
        ``record_sha`` may be a function that reads them (from the pack's index: only the
        manifest needs them, so they need not stay in memory).
    meta : DataFrame
        The metadata columns of these documents in the record's column order (doc_id and
        language included), row ``i`` for document ``i``; :meth:`attach` points it at the
        corpus docvars instead (no second copy).
    """

    def __init__(
        self, pack, where, offsets, lengths, sizes, *, numbers, lines, text_sha, record_sha, meta: pd.DataFrame
    ):
        self.pack = pack
        self.where = where
        self.offsets, self.lengths, self.sizes, self.numbers, self.lines = offsets, lengths, sizes, numbers, lines
        self.text_sha, self.record_sha = text_sha, record_sha
        self.columns = list(meta.columns)
        self.meta, self.start = meta, 0
        self._chunk: tuple[int, list] = (-1, [])

    def __len__(self) -> int:
        return len(self.offsets)

    def attach(self, docvars: pd.DataFrame, start: int) -> None:
        """Read metadata from rows ``start ...`` of ``docvars`` (same documents, same order)."""
        self.meta, self.start = docvars, start
        self._chunk = (-1, [])

    @property
    def doc_ids(self) -> list[str]:
        return self.meta["doc_id"].iloc[self.start : self.start + len(self)].tolist()

    def record_digests(self) -> np.ndarray:
        """The record hashes as an ``(n, 32)`` uint8 array (read from the index when not kept)."""
        return np.asarray(self.record_sha() if callable(self.record_sha) else self.record_sha)

    def labels(self, a: int, b: int) -> list[str]:
        """The ``where`` of documents ``a .. b-1``."""
        numbers = self.numbers[a:b].tolist()
        if self.lines is None:
            return [f"{self.where} record {n}" for n in numbers]
        return [f"{self.where} record {n} (line {line})" for n, line in zip(numbers, self.lines[a:b].tolist())]

    def _build(self, a: int, b: int) -> list:
        from .doctable import PackedDocument

        rows = self.meta.iloc[self.start + a : self.start + b]
        values = [rows[c].tolist() for c in self.columns]
        metas = [dict(zip(self.columns, row)) for row in zip(*values)]
        ids = rows["doc_id"].tolist()
        languages = rows["language"].tolist()
        return list(
            map(
                PackedDocument,
                ids,
                languages,
                repeat(self.pack),
                self.offsets[a:b].tolist(),
                self.lengths[a:b].tolist(),
                _hexes(self.text_sha[a:b]),
                self.sizes[a:b].tolist(),
                metas,
                self.labels(a, b),
            )
        )

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError(i)
        first, docs = self._chunk
        if not first <= i < first + len(docs):
            first = i - i % CHUNK
            docs = self._build(first, min(first + CHUNK, len(self)))
            self._chunk = (first, docs)
        return docs[i - first]

    def __iter__(self) -> Iterator:
        for first in range(0, len(self), CHUNK):
            yield from self._build(first, min(first + CHUNK, len(self)))

    def nbytes(self) -> int:
        """Bytes of the arrays (not the metadata, which is the corpus docvars)."""
        arrays = [self.offsets, self.lengths, self.sizes, self.numbers, self.text_sha] + (
            [self.lines] if self.lines is not None else []
        )
        arrays += [] if callable(self.record_sha) else [self.record_sha]
        return sum(a.nbytes for a in arrays)


class Documents(Sequence):
    """A corpus' documents: :class:`PackedColumns` blocks and plain lists, in order."""

    def __init__(self, parts: Sequence[Sequence] = ()):
        self.parts: list[Sequence] = []
        self._ends: list[int] = []
        for part in parts:
            self.append_part(part)

    def append_part(self, part: Sequence) -> None:
        if isinstance(part, Documents):
            for p in part.parts:
                self.append_part(p)
            return
        if len(part):
            self.parts.append(part)
            self._ends.append((self._ends[-1] if self._ends else 0) + len(part))

    def __len__(self) -> int:
        return self._ends[-1] if self._ends else 0

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError(i)
        k = bisect.bisect_right(self._ends, i)
        return self.parts[k][i - (self._ends[k - 1] if k else 0)]

    def __iter__(self) -> Iterator:
        for part in self.parts:
            yield from part

    def __eq__(self, other) -> bool:
        return isinstance(other, Sequence) and len(self) == len(other) and all(a == b for a, b in zip(self, other))

    def doc_ids(self) -> list[str]:
        return [i for p in self.parts for i in (p.doc_ids if isinstance(p, PackedColumns) else [d.doc_id for d in p])]

    def attach(self, docvars: pd.DataFrame) -> None:
        """Point every block's metadata at ``docvars`` (the corpus docvars, in document order)."""
        start = 0
        for part in self.parts:
            if isinstance(part, PackedColumns):
                part.attach(docvars, start)
            start += len(part)


class RecordHashes(Mapping):
    """``doc_id -> record SHA-256`` (hexadecimal), kept as raw bytes (or in the pack's index,
    which must then still be there) until it is read."""

    def __init__(self):
        self._parts: list = []  # dicts, or (PackedColumns) blocks
        self._dict: dict | None = None

    def add(self, part) -> None:
        self._parts.append(part)
        self._dict = None

    def _full(self) -> dict:
        if self._dict is None:
            out: dict = {}
            for part in self._parts:
                if isinstance(part, PackedColumns):
                    out.update(zip(part.doc_ids, _hexes(part.record_digests())))
                else:
                    out.update(part)
            self._dict = out
        return self._dict

    def __getitem__(self, key):
        return self._full()[key]

    def __iter__(self):
        return iter(self._full())

    def __len__(self) -> int:
        return (
            len(self._full())
            if self._dict is not None or any(not isinstance(p, PackedColumns) for p in self._parts)
            else sum(map(len, self._parts))
        )

    def __bool__(self) -> bool:
        return any(len(p) for p in self._parts)


@dataclass(frozen=True, slots=True)
class PackedDocument:
    """A validated document whose text lives in a text pack (see the module docstring).

    Same attributes as :class:`analysis.corpus.documents.Document`; :attr:`text` reads ``length`` bytes at
    ``offset`` of ``pack`` and checks the SHA-256 taken when the source was read.
    """

    doc_id: str
    language: str
    pack: str
    offset: int
    length: int
    text_sha256: str
    size: int
    meta: dict = field(default_factory=dict)
    where: str = ""

    @property
    def text(self) -> str:
        if not self.pack:
            raise InputError(
                self.where, "the corpus was read for validation only (no texts kept)", "read it with spill=True"
            )
        try:
            with open(self.pack, "rb") as handle:
                handle.seek(self.offset)
                raw = handle.read(self.length)
        except OSError as exc:
            raise InputError(
                self.pack,
                f"text pack cannot be read ({exc.strerror})",
                "run again (the pack is rebuilt from the source)",
            ) from None
        text = raw.decode("utf-8", "surrogatepass")
        if text_sha256(text) != self.text_sha256:
            raise InputError(
                self.pack, f"text pack entry of {self.doc_id} changed", "delete the cache folder and run again"
            )
        return text

    def loaded(self) -> Document:
        return Document(self.doc_id, self.language, self.text, self.meta)
