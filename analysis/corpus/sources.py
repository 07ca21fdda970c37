"""Corpus sources: a folder with metadata.csv, one table (CSV/TSV/JSONL/Parquet), a folder of
news-please JSON files or of HTML pages, or several of these in one study.

This is the reading edge for corpus sources (with :mod:`analysis.files`, of which it is the
corpus-format half): it opens files, validates every record with the same strict rules as the
folder form, and returns a :class:`analysis.corpus.documents.Corpus` whose documents keep no text in memory.

Forms (``[corpus]`` in the study file, or one ``[[corpus.source]]`` table per source)::

    table = "articles.csv"        # .csv .tsv .jsonl .ndjson .parquet, by extension;
    format = "csv"                #   ... or named (csv, tsv, jsonl, parquet)
    delimiter = ";"               # CSV only: another field separator
    encoding = "utf-8"            # declared encoding (strict decoding)
    language = "vi"               # a constant language for a table without a language column
    [corpus.columns]              # the toolkit's names -> the table's
    doc_id = "id"                 #   doc_id, text, language, date, outlet, title, url
    text = "body"

    newsplease = "folder"         # *.json (subfolders too) with maintext, title, date_publish, language, source_domain
    html = "folder"               # *.html / *.htm pages, main text by trafilatura (offline)
    folder = "seeds"              # the folder + metadata.csv form (``path`` is an alias of ``file``);
                                  # a folder without its metadata file but with *.json files is
                                  # read as news-please output

Every column other than the text becomes a metadata column (as a string); mapped columns take the
toolkit's names. A bad record stops the run with one line naming the source, the record number
(1 = the first record after the header) and, for CSV, the physical line where the record starts.

How the texts of a table reach preparation (a 2 GB file is never held in memory)
------------------------------------------------------------------------------
A CSV/TSV, Parquet or JSON Lines table is read column-wise in batches of :data:`TABLE_BATCH` records
(:func:`csv_batches`: the ``csv`` module over a streamed text file, each record's first physical
line noted; :func:`parquet_batches`: ``pyarrow.parquet.ParquetFile.iter_batches``). Each batch is
checked column by column with the rules of :func:`admit` (the first failing record is handed to
:func:`admit` itself, so the message is the per-record one); its texts are appended, as UTF-8,
to a *text pack* in the cache folder in one write and hashed (SHA-256 of each text); a document
keeps only its pack offset and length, text length, record number, line and text hash, in NumPy
arrays, and its metadata is a row of the corpus ``docvars`` (:mod:`analysis.corpus.doctable`: about 200
bytes a document, not a Python object each); each record's hash (the manifest's) is computed from
the pack's index when it is asked for. A JSON Lines table is read the same way
(:func:`jsonl_batches`) as long as its records have the same keys, else record by record like
news-please and HTML sources: one at a time into :class:`PackedDocument` objects
(the table counterpart of :class:`analysis.files.StoredDocument`). Preparation reads a text back
with one ``seek`` + ``read`` (in the worker process), and checks its SHA-256, exactly as for a
text file.

The pack is written under a temporary name and renamed only after *every* record of the source
has passed validation, so bad input writes nothing. Its name is a SHA-256 of the source file's
bytes, the reader settings (columns, encoding, format, languages, reader version), so it is
content-addressed: a second run (every stage reads the corpus again) finds the pack and its
index (an Arrow IPC file of the batches' columns, or one JSON line per record for the
per-record forms; no absolute path in either, so a moved project still finds its cache) and
reads the index instead of parsing the table again; changing the file or a setting gives a new
pack. Random access by row locator would avoid
the copy for CSV and JSONL, but not for Parquet, whose smallest readable unit is a column chunk
of a row group (often all of the file): one mechanism for every format, at the cost of one
UTF-8 copy of the texts in the cache (``make clean`` removes it with the rest of the cache).
``validate`` reads with ``spill=False``: it checks everything and writes no pack (to try the
boilerplate the corpus teaches it reads a table again into a scratch cache in a temporary
folder, :func:`analysis.files.learned_problems_of`).
"""

from __future__ import annotations

import codecs
import csv
import dataclasses
import functools
import hashlib
import json
import logging
import math
import operator
import os
import re
import sys
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import repeat
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputError, write_failure
from ..files import sha256_file
from ..study.settings import Study
from .doctable import PackedDocument
from .documents import _CONTROL, _VI_LETTERS, Corpus, check_encoding, text_sha256

log = logging.getLogger("analysis")

#: Half of a UTF-16 pair: JSON can write one (``"\\ud800"``), UTF-8 cannot encode it.
_SURROGATE = re.compile("[\ud800-\udfff]")

#: Bumped whenever reading changes what a record becomes (invalidates the text packs).
READER_VERSION = "4"  # 4: an HTML page's <html lang> is its language

#: The toolkit's column names that ``[corpus.columns]`` may map.
CANONICAL = ("doc_id", "text", "language", "date", "outlet", "title", "url")

#: news-please's field names (https://github.com/fhamborg/news-please, its JSON output).
NEWSPLEASE_COLUMNS = {
    "text": "maintext",
    "title": "title",
    "date": "date_publish",
    "language": "language",
    "outlet": "source_domain",
    "url": "url",
}

FORMATS = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".txt": "tsv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".parquet": "parquet",
    ".pq": "parquet",
}
SOURCE_KEYS = (
    "table",
    "format",
    "delimiter",
    "encoding",
    "language",
    "columns",
    "newsplease",
    "html",
    "folder",
    "metadata",
    "name",
)

#: Records per batch read from a Parquet file (memory: one batch of texts at a time).
PARQUET_BATCH = 2048
#: Records per batch of a CSV/TSV table (validated, hashed and packed together) ...
TABLE_BATCH = 2048
#: ... or fewer, when their fields reach this many characters (long articles: the batch, with
#: its texts' UTF-8 copies, bounds the reader's memory, not the number of records).
TABLE_BATCH_CHARS = 4 * 2**20
NUL = b"\x00"
#: What a table with a header and no record is told.
NO_RECORDS_FIX = "export the articles, not only the header"
csv.field_size_limit(min(sys.maxsize, 2**31 - 1))  # an article is one field, often > 128 KiB


# ----------------------------------------------------------------------------- the settings


@dataclass(frozen=True)
class Source:
    """One source of documents, as declared in the study (paths as written)."""

    kind: str  # folder | table | newsplease | html
    path: str
    format: str = ""
    delimiter: str = ""
    encoding: str = "utf-8"
    language: str = ""
    columns: tuple[tuple[str, str], ...] = ()
    metadata: str = ""
    label: str = "[corpus]"

    @property
    def mapping(self) -> dict[str, str]:
        """Canonical name -> the source's column name (defaults: the canonical name itself)."""
        base = dict(NEWSPLEASE_COLUMNS) if self.kind == "newsplease" else {}
        base.update(dict(self.columns))
        return {name: base.get(name, name) for name in CANONICAL}

    def describe(self) -> dict:
        return {k: v for k, v in dataclasses.asdict(self).items() if k != "label"}


def sources_of(study) -> list[Source]:
    """The study's sources: ``[[corpus.source]]`` tables, or the one source ``[corpus]`` names."""
    corpus = study.corpus
    where = str(study.source)
    entries = list(getattr(corpus, "source", ()) or ())
    top = {k: getattr(corpus, k, "") for k in ("table", "newsplease", "html")}
    if entries:
        if any(top.values()):
            raise InputError(
                where,
                "[corpus] has both [[corpus.source]] tables and table/html/newsplease",
                "declare every source as a [[corpus.source]] table",
            )
        return [_source_from(entry, study, f"[[corpus.source]] #{i}") for i, entry in enumerate(entries, start=1)]
    entry = {k: v for k, v in top.items() if v}
    if len(entry) > 1:
        raise InputError(
            where,
            f"[corpus] names {' and '.join(entry)}",
            "give one of table, html, newsplease (or several [[corpus.source]] tables)",
        )
    for key in ("format", "delimiter", "language"):
        if getattr(corpus, key, ""):
            entry[key] = getattr(corpus, key)
    if getattr(corpus, "columns", None):
        entry["columns"] = corpus.columns
    entry["encoding"] = corpus.encoding
    if not any(entry.get(k) for k in ("table", "newsplease", "html")):
        entry.update(folder=corpus.folder, metadata=corpus.metadata)
    return [_source_from(entry, study, "[corpus]")]


def _source_from(entry, study, label: str) -> Source:
    where = str(study.source)
    if not isinstance(entry, dict):
        raise InputError(
            where, f"{label} must be a table", 'write it as [[corpus.source]] with keys such as table = "articles.csv"'
        )
    unknown = [k for k in entry if k not in SOURCE_KEYS]
    if unknown:
        raise InputError(where, f"unknown key '{unknown[0]}' in {label}", f"use one of: {', '.join(SOURCE_KEYS)}")
    for key, value in entry.items():
        if key != "columns" and not isinstance(value, str):
            raise InputError(where, f"{label} {key} must be a string, got {value!r}", f'write {key} = "..."')
    kinds = [k for k in ("table", "newsplease", "html", "folder") if entry.get(k)]
    if len(kinds) != 1:
        raise InputError(
            where, f"{label} must name exactly one of table, newsplease, html, folder", 'e.g. table = "articles.csv"'
        )
    kind = kinds[0]
    columns = entry.get("columns", {}) or {}
    if not isinstance(columns, dict):
        raise InputError(where, f"{label} columns must be a table", '[corpus.columns] text = "body"')
    for name, column in columns.items():
        if name not in CANONICAL:
            raise InputError(
                where, f"{label} columns maps unknown name '{name}'", f"map some of: {', '.join(CANONICAL)}"
            )
        if not isinstance(column, str) or not column:
            raise InputError(where, f"{label} columns.{name} must name a column", f'{name} = "the column\'s header"')
    fmt = entry.get("format", "")
    if fmt and fmt not in {"csv", "tsv", "jsonl", "parquet"}:
        raise InputError(where, f"{label} format = '{fmt}' is not known", "use csv, tsv, jsonl or parquet")
    if kind == "folder":
        metadata = entry.get("metadata") or f"{entry['folder'].rstrip('/')}/metadata.csv"
        if (
            not study.path(metadata).is_file()
            and study.path(entry["folder"]).is_dir()
            and any(study.path(entry["folder"]).rglob("*.json"))
        ):
            kind = "newsplease"  # a news-please output folder: read without configuration
    else:
        metadata = ""
    language = entry.get("language", "")
    if language and language not in study.corpus.languages:
        raise InputError(
            where,
            f"{label} language = '{language}' is not a study language",
            f"use one of {', '.join(study.corpus.languages)}",
        )
    return Source(
        kind=kind,
        path=entry[kinds[0]],
        format=fmt,
        delimiter=entry.get("delimiter", ""),
        encoding=entry.get("encoding", "") or study.corpus.encoding,
        language=language,
        columns=tuple(sorted(columns.items())),
        metadata=metadata,
        label=label,
    )


# ------------------------------------------------------------------------------ documents


@dataclass
class Record:
    """One raw record of a source: where it is (for messages) and its fields as strings."""

    where: str
    fields: dict


# -------------------------------------------------------------------------------- readers


def table_format(path: Path, declared: str, where: str) -> str:
    if declared:
        return declared
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise InputError(
            where,
            f"cannot tell the format of '{path.name}' from its extension",
            'add format = "csv" (or tsv, jsonl, parquet)',
        )
    return fmt


def _encoding_of(head: bytes, declared: str, where: str) -> tuple[str, bool]:
    """The codec to read with and whether the file is an Excel "Unicode text" export (UTF-16 + BOM)."""
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16", True
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig", False
    encoding = check_encoding(declared or "utf-8", where)
    if encoding in {"utf-8", "utf8"}:
        encoding = "utf-8-sig"
    return encoding, False


def _decode_error(path: Path, encoding: str, unit: str = "line") -> InputError:
    """Find the first undecodable line of ``path`` (slow path, only after a decode failure)."""
    offset = 0
    with open(path, "rb") as handle:
        for number, raw in enumerate(handle, start=1):
            try:
                raw.decode(encoding)
            except UnicodeDecodeError as exc:
                return InputError(
                    f"{path} {unit} {number}",
                    f"cannot be decoded as {encoding.replace('-sig', '')} at byte offset {offset + exc.start}",
                    'declare the table\'s encoding (e.g. encoding = "cp1258") in its source, or save it as UTF-8',
                )
            offset += len(raw)
    return InputError(str(path), f"cannot be decoded as {encoding}", "save it as UTF-8")


def _probe(path: Path, encoding: str, where: str, empty_fix: str, binary_fix: str) -> tuple[str, bool]:
    """Codec and UTF-16-with-BOM flag of a text table (:func:`_encoding_of`), after checking its
    first 4 KiB: an empty file or a NUL byte in the first line (a binary file) is one clear line."""
    with open(path, "rb") as probe:
        head = probe.read(4096)
    if not head.strip():
        raise InputError(where, "table is empty", empty_fix)
    codec, utf16 = _encoding_of(head, encoding, where)
    if not utf16 and NUL in head.split(b"\n", 1)[0]:
        raise InputError(where, f"binary file (NUL byte at byte offset {head.index(NUL)})", binary_fix)
    return codec, utf16


def _open_csv(path: Path, fmt: str, delimiter: str, encoding: str, where: str):
    """The open file, its ``csv.reader`` (strict), the checked header and the codec of a CSV/TSV
    file (the caller closes the file)."""
    codec, excel_unicode = _probe(
        path,
        encoding,
        where,
        "export the table with a header line and one row per article",
        "export the table as CSV text (or give a .parquet file)",
    )
    if excel_unicode:
        log.info("%s: an Excel 'Unicode text' export (UTF-16 with BOM): read as tab-separated", path)
        fmt = "tsv"
    sep = delimiter or ("\t" if fmt == "tsv" else ",")
    handle = open(path, encoding=codec, errors="strict", newline="")  # noqa: SIM115 (the caller closes it)
    try:
        reader = csv.reader(handle, delimiter=sep, strict=True)
        try:
            header = next(reader)
        except StopIteration:
            raise InputError(where, "table is empty", "export the table with a header line") from None
        except UnicodeDecodeError:
            raise _decode_error(path, codec) from None
        if len(header) == 1:
            for other, name in ((";", "semicolon (;)"), ("\t", "tab"), (",", "comma"), ("|", "pipe (|)")):
                if other != sep and other in header[0]:
                    fix = f'add delimiter = "{other}"' if other != "\t" else 'add format = "tsv"'
                    raise InputError(
                        f"{where} line 1",
                        f"the header is one column; the file looks {name}-separated",
                        f"{fix} to its source, or save it comma-separated",
                    )
        header = [h.strip() for h in header]
        _check_header(header, where)
    except BaseException:
        handle.close()
        raise
    return handle, reader, header, codec, sep


def _width_error(label: str, row: list, width: int, sep: str) -> InputError:
    hint = "check the quoting and separators of this record"
    if len(row) == 1 and sep == "," and (";" in row[0] or "\t" in row[0]):
        hint = 'the record looks ;- or tab-separated: give delimiter (or format = "tsv")'
    return InputError(label, f"has {len(row)} fields, the header has {width}", hint)


def iter_csv(path: Path, *, fmt: str, delimiter: str, encoding: str, where: str) -> Iterator[Record]:
    """Records of a CSV/TSV file, streamed; ``where`` names the record and its first physical line."""
    handle, reader, header, codec, sep = _open_csv(path, fmt, delimiter, encoding, where)
    try:
        start = reader.line_num + 1
        number = 0
        while True:
            try:
                row = next(reader)
            except StopIteration:
                break
            except UnicodeDecodeError:
                raise _decode_error(path, codec) from None
            except csv.Error as exc:
                raise InputError(
                    f"{where} record {number + 1} (line {start})",
                    f"broken CSV ({exc})",
                    "check the quoting of this record (a quote inside a field must be doubled)",
                ) from None
            number += 1
            label = f"{where} record {number} (line {start})"
            start = reader.line_num + 1
            if not row or (len(row) == 1 and not row[0].strip()):
                number -= 1
                continue
            if len(row) != len(header):
                raise _width_error(label, row, len(header), sep)
            yield Record(label, dict(zip(header, row)))
    finally:
        handle.close()


@dataclass
class Batch:
    """Consecutive records of a table with the same columns, column-wise: ``columns[j][i]`` is
    field ``names[j]`` of record ``first + i`` (a string); ``lines[i]`` its first physical line
    (CSV) or ``None``."""

    names: list
    columns: list
    first: int
    lines: list | None

    def __len__(self) -> int:
        return len(self.columns[0]) if self.columns else 0

    def label(self, where: str, i: int) -> str:
        if self.lines is None:
            return f"{where} record {self.first + i}"
        return f"{where} record {self.first + i} (line {self.lines[i]})"

    def record(self, where: str, i: int) -> Record:
        return Record(self.label(where, i), {name: _item(column, i) for name, column in zip(self.names, self.columns)})


def _item(column, i: int) -> str:
    """Value ``i`` of a batch column: a list of strings or an Arrow string array."""
    value = column[i]
    return value if isinstance(value, str) else (value.as_py() or "")


def csv_batches(path: Path, *, fmt: str, delimiter: str, encoding: str, where: str, size: int = 0) -> Iterator[Batch]:
    """The records of :func:`iter_csv` in :class:`Batch` es of ``size`` records or
    :data:`TABLE_BATCH_CHARS` characters (same checks, same labels); the loop does only what a
    record needs (its width, first line and length), the rest is per batch."""
    size = size or TABLE_BATCH
    budget = TABLE_BATCH_CHARS
    handle, reader, header, codec, sep = _open_csv(path, fmt, delimiter, encoding, where)
    width = len(header)
    rows: list = []
    lines: list = []
    number = 0
    chars = 0
    start = reader.line_num + 1
    try:
        try:
            for row in reader:
                if len(row) != width or (width == 1 and not row[0].strip()):
                    if not row or (len(row) == 1 and not row[0].strip()):
                        start = reader.line_num + 1
                        continue
                    raise _width_error(f"{where} record {number + 1} (line {start})", row, width, sep)
                number += 1
                rows.append(row)
                lines.append(start)
                start = reader.line_num + 1
                chars += sum(map(len, row))
                if len(rows) == size or chars >= budget:
                    yield Batch(header, list(zip(*rows)), number - len(rows) + 1, lines)
                    rows, lines, chars = [], [], 0
        except UnicodeDecodeError:
            raise _decode_error(path, codec) from None
        except csv.Error as exc:
            raise InputError(
                f"{where} record {number + 1} (line {start})",
                f"broken CSV ({exc})",
                "check the quoting of this record (a quote inside a field must be doubled)",
            ) from None
        if rows:
            yield Batch(header, list(zip(*rows)), number - len(rows) + 1, lines)
    finally:
        handle.close()


def _check_header(header: list[str], where: str) -> None:
    seen = set()
    for name in header:
        if not name:
            raise InputError(f"{where} line 1", "a column without a name in the header", "name every column")
        if name in seen:
            raise InputError(
                f"{where} line 1", f"column '{name}' appears twice in the header", "give every column its own name"
            )
        seen.add(name)


def _plain_value(value) -> str:
    """A field as the string the metadata keeps (missing = "")."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return "" if math.isnan(value) else repr(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


_JSON_KINDS = {dict: "an object", list: "an array", bool: "true/false", int: "a number", float: "a number"}


def _check_json_text(obj: dict, key: str, label: str) -> None:
    """The text of a JSON record must be a string (or null / NaN: an empty text, refused later): an
    object, an array, a number or true/false is not an article, and is refused, not written out."""
    value = obj.get(key)
    if isinstance(value, float) and math.isnan(value):  # NaN, as pandas writes a missing cell: missing, like null
        return
    if value is not None and not isinstance(value, str):
        raise InputError(
            label,
            f"text '{key}' is {_JSON_KINDS.get(type(value), type(value).__name__)}, not a string",
            "write the article's text as one JSON string",
        )


def _jsonl_items(path: Path, encoding: str, where: str, text_key: str = "text") -> Iterator[tuple[int, int, dict]]:
    """Record number, physical line and fields (as strings) of each object of a JSON Lines file
    (the text, ``text_key``, must be a JSON string: :func:`_check_json_text`)."""
    codec, utf16 = _probe(path, encoding, where, "write one JSON object per line", "give a JSON Lines text file")
    number = 0
    with open(path, encoding=codec, errors="strict", newline="") as handle:
        line = 0
        while True:
            try:
                text = handle.readline()
            except UnicodeDecodeError:
                raise _decode_error(path, codec) from None
            if not text:
                break
            line += 1
            if not text.strip():
                continue
            number += 1
            label = f"{where} record {number} (line {line})"
            try:
                obj = json.loads(text)
            except json.JSONDecodeError as exc:
                hint = "write one JSON object per line"
                if line == 1 and text.lstrip().startswith("["):
                    hint = "this is a JSON array, not JSON Lines: write one object per line"
                raise InputError(label, f"not valid JSON ({exc.msg} at column {exc.colno})", hint) from None
            if not isinstance(obj, dict):
                hint = "write one JSON object per line"
                if isinstance(obj, list) and number == 1:
                    hint = "this is a JSON array, not JSON Lines: " + hint
                raise InputError(label, f"is a JSON {type(obj).__name__}, not an object", hint)
            _check_json_text(obj, text_key, label)
            yield number, line, {str(k): _plain_value(v) for k, v in obj.items()}


def iter_jsonl(path: Path, encoding: str, where: str, text_key: str = "text") -> Iterator[Record]:
    """Records of a JSON Lines file (one object a line), streamed line by line."""
    for number, line, fields in _jsonl_items(path, encoding, where, text_key):
        yield Record(f"{where} record {number} (line {line})", fields)


class _MixedKeys(Exception):
    """A JSON Lines record with other keys than the first: the file is read record by record."""


def jsonl_batches(path: Path, *, encoding: str, where: str, size: int = 0, text_key: str = "text") -> Iterator[Batch]:
    """The records of :func:`iter_jsonl` in :class:`Batch` es (as :func:`csv_batches`), while every
    record has the first record's keys (in any order); else :class:`_MixedKeys` is raised and the
    caller reads the file record by record (each record's metadata is then its own keys)."""
    size = size or TABLE_BATCH
    names: list | None = None
    rows: list = []
    lines: list = []
    chars = 0
    number = 0
    for number, line, fields in _jsonl_items(path, encoding, where, text_key):
        if names is None:
            names, keys = list(fields), set(fields)
        if fields.keys() != keys:
            raise _MixedKeys(number)
        values = [fields[name] for name in names]
        rows.append(values)
        lines.append(line)
        chars += sum(map(len, values))
        if len(rows) == size or chars >= TABLE_BATCH_CHARS:
            yield Batch(names, list(zip(*rows)), number - len(rows) + 1, lines)
            rows, lines, chars = [], [], 0
    if rows:
        yield Batch(names, list(zip(*rows)), number - len(rows) + 1, lines)


def _parquet_batches_read(parquet, batch_size: int, where: str, rows_read) -> Iterator:
    """``parquet.iter_batches``, a damaged page (bad compression, cut short, a wrong checksum)
    one line naming the file and the rows read before it, not pyarrow's traceback."""
    import pyarrow as pa

    batches = parquet.iter_batches(batch_size=batch_size)
    while True:
        try:
            batch = next(batches)
        except StopIteration:
            return
        except (OSError, pa.ArrowException) as exc:
            raise InputError(
                where,
                f"damaged Parquet data after record {rows_read()} ({str(exc).splitlines()[0]})",
                "write the Parquet file again from the source (pandas to_parquet / pyarrow)",
            ) from None
        yield batch


def parquet_batches(
    path: Path, *, where: str, batch_size: int = PARQUET_BATCH, keep_arrow: Iterable[str] = ()
) -> Iterator[Batch]:
    """A Parquet file, ``batch_size`` rows at a time (pyarrow ``iter_batches``), as :class:`Batch` es
    of strings (missing = ``""``; numbers, dates, lists as :func:`_plain_value` writes them).

    A string column named in ``keep_arrow`` (the texts) stays an Arrow array (missing = ``""``):
    its UTF-8 bytes go to the pack and the hash without a round trip through Python strings."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(path)
    except Exception as exc:  # noqa: BLE001 (pyarrow raises ArrowInvalid / OSError for a file that is not Parquet)
        raise InputError(
            where,
            f"not a readable Parquet file ({str(exc).splitlines()[0]})",
            "give a .parquet file written by pandas/pyarrow",
        ) from None
    header = list(parquet.schema_arrow.names)
    _check_header(header, where)
    number = 0
    keep = set(keep_arrow)
    for field in parquet.schema_arrow:
        if field.name in keep and not _textual(field.type):
            raise InputError(
                where,
                f"text column '{field.name}' is of type {str(field.type).split('<')[0]}, not strings",
                "store one article text per row, as a string column",
            )
    for batch in _parquet_batches_read(parquet, batch_size, where, lambda: number):
        values = []
        for name, column in zip(batch.schema.names, batch.columns):
            if _binary(column.type):  # bytes: decoded as UTF-8, strictly (never their Python repr)
                column = _utf8_column(column, name, where, number)
            if name in keep and (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
                values.append(pc.fill_null(column, "") if column.null_count else column)
                continue
            items = column.to_pylist()
            if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
                values.append([v if v is not None else "" for v in items] if column.null_count else items)
            else:  # numbers, dates, lists ...: one call per value, as a string
                values.append([_plain_value(v) for v in items])
        yield Batch(list(batch.schema.names), values, number + 1, None)
        number += batch.num_rows


def _binary(kind) -> bool:
    import pyarrow as pa

    return pa.types.is_binary(kind) or pa.types.is_large_binary(kind)


def _textual(kind) -> bool:
    import pyarrow as pa

    return pa.types.is_string(kind) or pa.types.is_large_string(kind) or _binary(kind)


def _utf8_column(column, name: str, where: str, before: int):
    """A binary Parquet column as strings: UTF-8, strictly; the first undecodable cell is named."""
    import pyarrow as pa

    try:
        return column.cast(pa.large_string() if pa.types.is_large_binary(column.type) else pa.string())
    except pa.ArrowInvalid:
        for i, value in enumerate(column.to_pylist()):
            try:
                (value or b"").decode("utf-8")
            except UnicodeDecodeError as exc:
                raise InputError(
                    f"{where} record {before + i + 1}",
                    f"column '{name}' ({column.type}) is not UTF-8 (byte offset {exc.start})",
                    "store the column as UTF-8 strings",
                ) from None
        raise


def iter_parquet(path: Path, where: str, batch_size: int = PARQUET_BATCH) -> Iterator[Record]:
    """Records of a Parquet file, ``batch_size`` rows at a time (pyarrow ``iter_batches``)."""
    for batch in parquet_batches(path, where=where, batch_size=batch_size):
        for i in range(len(batch)):
            yield batch.record(where, i)


def files_under(folder: Path, suffixes: tuple[str, ...]) -> list[Path]:
    """The files of ``folder`` and its subfolders with one of ``suffixes`` (lower case), sorted by
    their path relative to ``folder`` (deterministic on every system). A file (or symlink) that
    resolves outside ``folder`` is refused, as the folder form refuses it."""
    root = folder.resolve()
    found = []
    for path in folder.rglob("*"):
        if path.suffix.lower() not in suffixes:
            continue
        resolved = path.resolve()
        if not resolved.is_relative_to(root):
            raise InputError(
                path,
                f"resolves outside the {folder.name} folder (symlink to {resolved})",
                "copy the file into the folder, or remove the link",
            )
        if resolved.is_file():
            found.append(path)
    return sorted(found, key=lambda p: p.relative_to(folder).as_posix())


def iter_newsplease(folder: Path, encoding: str, text_key: str = "maintext") -> Iterator[Record]:
    """One record per news-please ``*.json`` file, in the folder and its subfolders (news-please's
    own layout: one subfolder per site), sorted by relative path; doc_id = the file's stem, file =
    its path relative to the folder."""
    from .documents import decode_text

    files = files_under(folder, (".json",))
    if not files:
        raise InputError(folder, "no *.json files", "point newsplease at a folder of news-please JSON files")
    for path in files:
        text = decode_text(path.read_bytes(), str(path), encoding)
        try:
            obj = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InputError(
                path, f"not valid JSON ({exc.msg} at line {exc.lineno})", "give news-please's JSON output"
            ) from None
        if not isinstance(obj, dict):
            raise InputError(path, "is not a JSON object", "give news-please's JSON output (one article per file)")
        _check_json_text(obj, text_key, str(path))
        fields = {str(k): _plain_value(v) for k, v in obj.items()}
        fields.setdefault("doc_id", path.stem)
        fields["file"] = path.relative_to(folder).as_posix()
        yield Record(str(path), fields)


_HTML_LANG = re.compile(r"<html\b[^>]*?\blang\s*=\s*[\"']?\s*([A-Za-z]{2,3})\b", re.IGNORECASE)
_CONTENT_LANGUAGE = re.compile(
    r"<meta\b[^>]*?http-equiv\s*=\s*[\"']?content-language[\"']?[^>]*?\bcontent\s*=\s*[\"']?\s*([A-Za-z]{2,3})\b",
    re.IGNORECASE,
)


def html_language(page: str) -> str:
    """The language a saved page declares: ``<html lang="vi-VN">``, else ``<meta
    http-equiv="Content-Language" content="en">`` (the primary subtag, lower case; "" if neither).
    Only the page's first 64 KB are searched (the declarations are in its head).

    >>> html_language('<!DOCTYPE html><html class="x" lang="vi-VN"><head>'), html_language("<html><body>")
    ('vi', '')
    >>> html_language('<html><head><meta http-equiv="Content-Language" content="en-GB">')
    'en'
    """
    head = page[:65536]
    found = _HTML_LANG.search(head) or _CONTENT_LANGUAGE.search(head)
    return found.group(1).lower() if found else ""


def iter_html(folder: Path, encoding: str, language: str = "") -> Iterator[Record]:
    """One record per HTML page: main text, title, date and sitename by trafilatura.

    Offline: the page's bytes are given to ``trafilatura.bare_extraction`` (nothing is fetched),
    with ``fast=True`` so that no fallback extractor is tried: the fallbacks return a page's
    navigation ("Home ...") when it has no article, and such chrome must not become a document.
    Each extraction is logged (characters of main text kept); a page without main text is an
    error naming it. ``doc_id`` is the file's stem; title, date (as trafilatura gives it, ISO),
    sitename (also the outlet, or the host name when the page names no site) and url become
    columns, and the page's declared language (:func:`html_language`) the column ``language``
    unless the study gives the source its ``language`` (a site template may declare the wrong one).
    """
    import trafilatura

    from .documents import decode_text

    files = files_under(folder, (".html", ".htm"))
    if not files:
        raise InputError(folder, "no *.html or *.htm files", "point html at a folder of saved pages")
    for path in files:
        page = decode_text(path.read_bytes(), str(path), encoding)
        found = trafilatura.bare_extraction(
            page, with_metadata=True, include_comments=False, favor_precision=True, deduplicate=False, fast=True
        )
        text = ((found.text if found is not None else "") or "").strip()
        if not text:
            raise InputError(
                path, "no main text found in the page (trafilatura)", "remove the page or save the article's own page"
            )
        name = str(path.relative_to(folder))
        sitename = _plain_value(found.sitename)
        declared = "" if language else html_language(page)
        log.info(
            "html: %s -> %d characters of main text, title %r, date %r",
            name,
            len(text),
            found.title or "",
            found.date or "",
        )
        yield Record(
            str(path),
            {
                "doc_id": path.stem,
                "file": name,
                "text": text + "\n",
                "title": _plain_value(found.title),
                "date": _plain_value(found.date),
                "sitename": sitename,
                "outlet": sitename or _plain_value(found.hostname),
                "url": _plain_value(found.url),
                **({"language": declared} if declared else {}),  # <html lang>; else the source's language
            },
        )


def source_files(source: Source, study) -> list[Path]:
    """The files a source reads (for the manifest and for make)."""
    path = study.path(source.path)
    if source.kind == "table":
        return [path]
    if source.kind == "newsplease":
        return files_under(path, (".json",))
    if source.kind == "html":
        return files_under(path, (".html", ".htm"))
    return []


def _existing(source: Source, study) -> Path:
    path = study.path(source.path)
    if not (path.is_file() if source.kind == "table" else path.is_dir()):
        what = "table" if source.kind == "table" else f"{source.kind} folder"
        raise InputError(
            study.source,
            f"{source.label} {what} '{source.path}' not found",
            "fix the path (relative to the study file)",
        )
    return path


def _records(source: Source, study) -> Iterator[Record]:
    return _records_at(source, _existing(source, study))


def _records_at(source: Source, path: Path) -> Iterator[Record]:
    """The records of ``source`` read from ``path`` (a table file or a folder that exists)."""
    if source.kind == "table":
        fmt = table_format(path, source.format, str(path))
        if fmt in {"csv", "tsv"}:
            return iter_csv(path, fmt=fmt, delimiter=source.delimiter, encoding=source.encoding, where=str(path))
        if fmt == "jsonl":
            return iter_jsonl(path, source.encoding, str(path), source.mapping["text"])
        return iter_parquet(path, str(path))
    return (
        iter_newsplease(path, source.encoding, source.mapping["text"])
        if source.kind == "newsplease"
        else iter_html(path, source.encoding, source.language)
    )


# ------------------------------------------------------------------------------ validation


@dataclass
class _Admitted:
    doc_id: str
    language: str
    text: str
    meta: dict
    where: str
    record_sha256: str


def admit(
    record: Record, source: Source, *, languages: tuple[str, ...], mapping: dict[str, str] | None = None
) -> _Admitted:
    """Map one record's columns and check it: id, language, text (pure; raises InputError)."""
    mapping = mapping or source.mapping
    fields = record.fields
    for name in ("doc_id", "text") + (() if source.language else ("language",)):
        if mapping[name] not in fields:
            fix = f'map it in [corpus.columns] ({name} = "..."); the columns are: {", ".join(list(fields)[:12])}'
            if name == "language":
                fix += '; or give the whole source one language (language = "vi")'
            raise InputError(record.where, f"no column '{mapping[name]}' for {name}", fix)
    reverse = {column: name for name, column in mapping.items() if column in fields}
    meta = {}
    for column, value in fields.items():
        name = reverse.get(column, column)
        if name in meta:
            raise InputError(
                record.where,
                f"column '{column}' and the column mapped to '{name}' collide",
                f"rename the table's '{name}' column or map {name} to it",
            )
        meta[name] = value
    text = meta.pop("text")
    doc_id = unicodedata.normalize("NFC", meta["doc_id"].strip())  # Hòa typed (NFC) or pasted from a Mac (NFD): one id
    meta["doc_id"] = doc_id
    if not doc_id:
        raise InputError(record.where, "empty doc_id", "give every document an id")
    for column, value in meta.items():
        half = _SURROGATE.search(value)
        if half:
            raise InputError(
                record.where,
                f"lone surrogate U+{ord(half.group()):04X} in column '{column}' of doc_id '{doc_id}' "
                f"(offset {half.start()}): half a character, such as the JSON escape \\ud800",
                "re-export the table as valid UTF-8",
            )
        found = _CONTROL.search(value)
        if found:
            raise InputError(
                record.where,
                (
                    f"control character U+{ord(found.group()):04X} in column '{column}' of doc_id "
                    f"'{doc_id}' (offset {found.start()})"
                ),
                "remove it from the cell (export the table again as plain text)",
            )
    language = (meta.get("language") or source.language).strip().lower()
    if not language and source.language:
        language = source.language
    if language not in languages:
        raise InputError(
            record.where,
            f"unknown language code '{language}' for doc_id '{doc_id}'",
            f"use one of {', '.join(languages)}",
        )
    meta["language"] = language
    if not text.strip():
        raise InputError(record.where, f"empty text for doc_id '{doc_id}'", "remove the record or add its text")
    if "\x00" in text:
        raise InputError(
            record.where,
            f"binary text for doc_id '{doc_id}' (NUL character at offset {text.index(chr(0))})",
            "give the article's plain text",
        )
    half = _SURROGATE.search(text)
    if half:
        raise InputError(
            record.where,
            f"lone surrogate U+{ord(half.group()):04X} in the text of doc_id '{doc_id}' (offset "
            f"{half.start()}): half a character, such as the JSON escape \\ud800",
            "re-export the text as valid UTF-8",
        )
    return _Admitted(doc_id, language, text, meta, record.where, "")


def record_sha256(meta: dict, text_sha: str) -> str:
    """SHA-256 of a record: its metadata fields (sorted by name, unit-separated) and its text's SHA-256."""
    fields = "\x1e".join(f"{k}\x1f{meta[k]}" for k in sorted(meta))
    return hashlib.sha256(f"{fields}\x1d{text_sha}".encode("utf-8", "surrogatepass")).hexdigest()


# ------------------------------------------------------------------------------- reading


def _cache_unwritable(folder: Path, exc: OSError) -> InputError:
    """A cache folder that cannot be written (full, read-only, no permission, an entry that is a
    folder): one line naming it, as :func:`analysis.files.unwritable` says it for outputs."""
    reason = write_failure(exc, is_folder="a cache entry is a folder")
    return InputError(
        folder,
        f"cannot write the cache ({reason})",
        "free space, make [run] cache writable or point it at another folder (it is safe to delete), then run again",
    )


def _cache_writes(method):
    """A :class:`_PackWriter` method whose file-system error removes the temporary pack and
    becomes :func:`_cache_unwritable` (no traceback, no leftover temporary files)."""
    import functools

    @functools.wraps(method)
    def wrapped(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except OSError as exc:
            folder = self.target.parent if self.target is not None else Path(".")
            try:
                self.abort()
            except OSError:
                pass
            raise _cache_unwritable(folder, exc) from None

    return wrapped


class _PackWriter:
    """Appends texts to a temporary pack; :meth:`commit` renames it (and its index) into place.

    The index is JSON Lines (``kind="jsonl"``: one record per line, the per-record forms) or an
    Arrow IPC file of :class:`pyarrow.RecordBatch` es (``kind="arrow"``: the column-wise table
    readers, :func:`_read_table_batches`).
    """

    def __init__(self, target: Path | None, kind: str = "jsonl"):
        self.target = target
        self.kind = kind
        self.offset = 0
        self._handle = None
        self._index = None
        self._arrow = None
        self._made: list[Path] = []  # folders this writer created (removed again on abort)
        if target is not None:
            self._open(target, kind)

    @_cache_writes
    def _open(self, target: Path, kind: str) -> None:
        for folder in reversed([target.parent, *target.parent.parents]):
            if not folder.exists():
                folder.mkdir()
                self._made.append(folder)
        self._tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        # a 1 MiB buffer: writelines of a batch of short texts through the default 8 KiB one cost 4x the time
        self._handle = open(self._tmp, "wb", buffering=1 << 20)  # noqa: SIM115 (closed by commit or abort)
        self._index_tmp = self._tmp.with_suffix(".index.tmp")
        self._index = open(
            self._index_tmp, "w" if kind == "jsonl" else "wb", **({"encoding": "utf-8"} if kind == "jsonl" else {})
        )  # noqa: SIM115

    @_cache_writes
    def add_index(self, line: str) -> None:
        if self._index is not None:
            self._index.write(line)

    @_cache_writes
    def add_batch(self, batch) -> None:
        """One :class:`pyarrow.RecordBatch` of the Arrow index (same schema every time)."""
        if self._index is None:
            return
        if self._arrow is None:
            import pyarrow as pa

            self._arrow = pa.ipc.new_file(self._index, batch.schema)
        self._arrow.write_batch(batch)

    def add(self, text: str) -> tuple[int, int]:
        start, length = self.add_bytes(text.encode("utf-8", "surrogatepass"))
        return start, length

    @_cache_writes
    def add_bytes(self, data: bytes) -> tuple[int, int]:
        start = self.offset
        if self._handle is not None:
            self._handle.write(data)
        self.offset += len(data)
        return start, len(data)

    @_cache_writes
    def add_parts(self, parts: list[bytes], total: int) -> int:
        """Append ``parts`` (``total`` bytes) in one call; return the offset of the first."""
        start = self.offset
        if self._handle is not None:
            self._handle.writelines(parts)
        self.offset += total
        return start

    def _close(self) -> None:
        if getattr(self, "_closed", False):  # commit closed them, then failed: abort must not close again
            return
        self._closed = True
        self._handle.close()
        if self._arrow is not None:
            self._arrow.close()
        if self._index is not None:
            self._index.close()

    @_cache_writes
    def commit(self) -> None:
        if self._handle is None:
            return
        self._close()
        digest = sha256_file(self._index_tmp)
        os.replace(self._tmp, self.target)  # the pack first: an index never points into a missing pack
        index = _index_path(self.target, self.kind)
        os.replace(self._index_tmp, index)
        check = _checksum_path(index)  # last: an index without its checksum is not trusted
        check_tmp = check.with_name(f".{check.name}.{os.getpid()}.tmp")
        check_tmp.write_text(digest + "\n", encoding="ascii")
        os.replace(check_tmp, check)

    def abort(self) -> None:
        if self.target is not None:
            if self._handle is not None:
                self._close()
                self._handle = None  # aborted once: a second abort only tidies
            for tmp in (getattr(self, "_tmp", None), getattr(self, "_index_tmp", None)):
                if tmp is not None:
                    tmp.unlink(missing_ok=True)
            for folder in reversed(self._made):
                try:
                    folder.rmdir()
                except OSError:  # another run put something there meanwhile
                    break


def _checksum_path(index: Path) -> Path:
    """The SHA-256 of a pack's index, beside it (``<pack>.index.arrow.sha256``)."""
    return index.with_name(index.name + ".sha256")


def _index_intact(index: Path) -> bool:
    """Whether a pack's index is byte for byte the one written: a flipped byte in an id, an
    outlet or an offset would otherwise go into every output unnoticed (the texts are checked by
    their own hashes, the index by this one)."""
    try:
        expected = _checksum_path(index).read_text(encoding="ascii").strip()
        return sha256_file(index) == expected
    except (OSError, UnicodeDecodeError):
        return False


def _index_path(pack: Path, kind: str = "jsonl") -> Path:
    return pack.with_suffix(".index.jsonl" if kind == "jsonl" else ".index.arrow")


def _source_key(source: Source, hashes: dict[str, str], study) -> str:
    settings = {
        "reader": READER_VERSION,
        "source": source.describe(),
        "languages": list(study.corpus.languages),
        "files": hashes,
    }
    return hashlib.sha256(json.dumps(settings, ensure_ascii=False, sort_keys=True).encode()).hexdigest()


@dataclass
class SourceRead:
    """One source read and validated: its documents (a list of :class:`PackedDocument`, or one
    :class:`analysis.corpus.doctable.PackedColumns` block), their metadata (a DataFrame of strings),
    the SHA-256 of every file read (relative to the study folder), every document's record hash
    (a dict, or the block's raw hashes), and the pack still to commit (``None`` when it already
    existed or nothing is kept)."""

    documents: Sequence
    meta: pd.DataFrame
    file_hashes: dict
    record_hashes: object
    writer: _PackWriter | None = None


def _columnwise(source: Source, path: Path) -> bool:
    """Tables are read column-wise (CSV/TSV and Parquet: every record has the same columns;
    JSON Lines while its records have the same keys)."""
    return source.kind == "table"


def read_source(source: Source, study, spill: bool = True) -> SourceRead:
    """Read and validate one non-folder source (the pack, if new, is committed by the caller).

    Messages and the where-labels of documents name the source by its path in the study as it is
    now: the cache's index keeps only record numbers and lines (and, for the per-record forms,
    each label after the source's path), so a moved or copied project still reads its cache.
    """
    path = _existing(source, study)
    hashes = {_rel(p, study): sha256_file(p) for p in source_files(source, study)}
    pack = study.cache_dir / "texts" / f"{_source_key(source, hashes, study)}.pack"
    kind = "arrow" if _columnwise(source, path) else "jsonl"
    if (
        kind == "arrow"
        and spill
        and pack.is_file()
        and not _index_path(pack, kind).is_file()
        and _index_path(pack, "jsonl").is_file()
    ):
        kind = "jsonl"  # a JSON Lines table whose records have different keys: read record by record before
    intact = spill and pack.is_file() and _index_path(pack, kind).is_file() and _index_intact(_index_path(pack, kind))
    if spill and pack.is_file() and _index_path(pack, kind).is_file() and not intact:
        log.warning(
            "%s: the cache's index %s does not match its checksum (altered, cut short or from an older version); "
            "reading the source again",
            source.path,
            _index_path(pack, kind).name,
        )
    if intact:
        if kind == "arrow":
            block = _read_index(_index_path(pack, kind), str(pack), str(path))
            log.info("read %d documents of %s (validated before: %s)", len(block), source.path, pack.name)
            return SourceRead(block, block.meta, hashes, block)
        documents, rows, records = _from_index(pack, str(path))
        log.info("read %d documents of %s (validated before: %s)", len(documents), source.path, pack.name)
        return SourceRead(documents, _frame(rows), hashes, records)
    writer = _PackWriter(pack if spill else None, kind)
    try:
        if kind == "arrow":
            try:
                block = _read_table_batches(source, study, path, writer, str(pack) if spill else "")
            except _MixedKeys as mixed:
                log.info("%s: record %s has other keys than the first: read record by record", path, mixed.args[0])
                writer.abort()
                writer = _PackWriter(pack if spill else None, "jsonl")
            else:
                _check_duplicates(block)
                return SourceRead(block, block.meta, hashes, block, writer)
        documents, rows, records = [], [], {}
        mapping = source.mapping
        prefix = str(path)
        for record in _records(source, study):
            doc = admit(record, source, languages=study.corpus.languages, mapping=mapping)
            offset, length = writer.add(doc.text)
            sha = text_sha256(doc.text)
            doc.record_sha256 = record_sha256(doc.meta, sha)
            documents.append(
                PackedDocument(
                    doc.doc_id,
                    doc.language,
                    str(pack) if spill else "",
                    offset,
                    length,
                    sha,
                    len(doc.text),
                    doc.meta,
                    doc.where,
                )
            )
            rows.append(doc.meta)
            records[doc.doc_id] = doc.record_sha256
            guessed = _guess_language(doc.text)
            if guessed != doc.language:
                log.warning("%s: says language '%s' but the text looks '%s'", doc.where, doc.language, guessed)
            if spill:
                where = doc.where[len(prefix) :] if doc.where.startswith(prefix) else doc.where
                writer.add_index(
                    json.dumps(
                        [
                            doc.doc_id,
                            doc.language,
                            offset,
                            length,
                            sha,
                            len(doc.text),
                            doc.meta,
                            where,
                            doc.record_sha256,
                        ],
                        ensure_ascii=False,
                    )
                    + "\n"
                )
        if not documents:
            raise InputError(source.path, "no records", NO_RECORDS_FIX)
        _check_duplicates(documents)
    except BaseException:
        writer.abort()
        raise
    # The pack is committed after the whole corpus passed (see read_sources), not here.
    return SourceRead(documents, _frame(rows), hashes, records, writer)


def _frame(rows: list[dict]) -> pd.DataFrame:
    columns = list(dict.fromkeys(c for row in rows for c in row))
    return pd.DataFrame.from_records(rows, columns=columns)


def _from_index(pack: Path, prefix: str):
    documents, rows, records = [], [], {}
    with open(_index_path(pack), encoding="utf-8") as handle:
        for line in handle:
            doc_id, language, offset, length, sha, size, meta, where, record_sha = json.loads(line)
            documents.append(
                PackedDocument(doc_id, language, str(pack), offset, length, sha, size, meta, prefix + where)
            )
            rows.append(meta)
            records[doc_id] = record_sha
    return documents, rows, records


#: Names of the index's own columns (a table's column cannot start with the unit separator).
_INTERNAL = ("\x1foffset", "\x1flength", "\x1fsize", "\x1fnumber", "\x1fline", "\x1ftext_sha256", "\x1frecord_sha256")


def _read_table_batches(source: Source, study, path: Path, writer: _PackWriter, pack: str):
    """Read a CSV/TSV, Parquet or JSON Lines table column-wise, :data:`TABLE_BATCH` records at a time.

    Each batch is checked column by column (ids, language codes, empty and binary texts: the
    same rules as :func:`admit`; at the first failing record of a batch :func:`admit` itself is
    run on it, so every message is the per-record one with its record number and line), its
    texts are hashed and appended to the pack in one write, and one Arrow record batch of
    metadata and pack entries is kept (and written to the pack's index, from which the record
    hashes are computed when the manifest asks; without a pack they are taken now).
    """
    import pyarrow as pa

    fmt = table_format(path, source.format, str(path))
    where = str(path)
    mapping = source.mapping
    if fmt == "parquet":
        batches = parquet_batches(path, where=where, keep_arrow=[mapping["text"]])
    elif fmt == "jsonl":
        batches = jsonl_batches(path, encoding=source.encoding, where=where, text_key=mapping["text"])
    else:
        batches = csv_batches(path, fmt=fmt, delimiter=source.delimiter, encoding=source.encoding, where=where)
    kept = _Columns(keep_records=not pack)  # with a pack, the record hashes are taken from its index when asked for
    for batch in batches:
        names, columns, texts, encoded, sizes = _admit_batch(batch, source, study.corpus.languages, mapping, where)
        n = len(encoded)
        lengths = np.fromiter(map(len, encoded), dtype=np.int64, count=n)
        start = writer.add_parts(encoded, int(lengths.sum()))
        offsets = start + np.cumsum(lengths) - lengths
        digests = b"".join(map(_DIGEST, map(hashlib.sha256, encoded)))
        del encoded
        text_hex = _hex_rows(digests)
        languages = columns[names.index("language")]
        # An ASCII-only text (as many bytes as characters) is "en" for _guess_language without a look.
        ascii_only = lengths == sizes
        suspects = np.flatnonzero(~ascii_only | (np.asarray(languages, dtype=object) != "en")).tolist()
        scanned = [i for i in suspects if not ascii_only[i]]
        heads = dict(zip(scanned, _heads(texts, scanned)))
        for i in suspects:
            guessed = "en" if ascii_only[i] else _guess_language(heads[i])
            if guessed != languages[i]:
                log.warning(
                    "%s: says language '%s' but the text looks '%s'", batch.label(where, i), languages[i], guessed
                )
        arrays = [pa.array(c, pa.string()) for c in columns] + [
            pa.array(offsets),
            pa.array(lengths),
            pa.array(sizes),
            pa.array(np.arange(batch.first, batch.first + n, dtype=np.int64)),
            pa.array(
                np.asarray(batch.lines, dtype=np.int64) if batch.lines is not None else np.full(n, -1, dtype=np.int64)
            ),
            pa.FixedSizeBinaryArray.from_buffers(pa.binary(32), n, [None, pa.py_buffer(digests)]),
        ]
        if not pack:  # no index to take them from later: the record hashes now
            arrays.append(
                pa.FixedSizeBinaryArray.from_buffers(
                    pa.binary(32), n, [None, pa.py_buffer(_record_digests(names, columns, text_hex))]
                )
            )
        record_batch = pa.RecordBatch.from_arrays(arrays, names=[*names, *_INTERNAL[: len(arrays) - len(names)]])
        writer.add_batch(record_batch)
        kept.add(record_batch)
    if not kept.count:
        raise InputError(source.path, "no records", NO_RECORDS_FIX)
    return kept.block(pack, where, _index_path(Path(pack), "arrow") if pack else None)


def _DIGEST(h) -> bytes:  # noqa: N802 (a function used as map's callable)
    return h.digest()


def _hex_rows(digests: bytes) -> list[str]:
    flat = digests.hex()
    return [flat[i : i + 64] for i in range(0, len(flat), 64)]


class _Columns:
    """Index batches taken apart as they arrive: pack entries into :class:`~analysis.corpus.doctable.Segments`,
    each metadata column copied out of its batch (so that no batch buffer is kept), then one
    :class:`~analysis.corpus.doctable.PackedColumns` (memory: the compact columns, not the batches)."""

    def __init__(self, keep_records: bool = True):
        from .doctable import Segments

        self.meta: dict[str, list] = {}
        self.numbers = {n: Segments(np.int64 if n == "\x1foffset" else np.int32) for n in _INTERNAL[:5]}
        self.numbers.update({n: Segments(np.uint8, 32) for n in _INTERNAL[5 : (7 if keep_records else 6)]})
        self.skip = set() if keep_records else {_INTERNAL[6]}
        self.count = 0

    def add(self, batch) -> None:
        import pyarrow as pa

        for name in batch.schema.names:
            if name in self.skip:
                continue
            column = batch.column(name)
            if name in self.numbers:
                if pa.types.is_fixed_size_binary(column.type):
                    data = np.frombuffer(column.buffers()[1], dtype=np.uint8)
                    values = data[column.offset * 32 : (column.offset + len(column)) * 32].reshape(-1, 32)
                else:
                    values = column.to_numpy()
                    if (
                        name != "\x1foffset"
                        and len(values)
                        and (int(values.max()) >= 2**31 or int(values.min()) < -(2**31))
                    ):
                        raise InputError(
                            "table",
                            "a text length, record number or line beyond 2**31",
                            "split the table into smaller ones",
                        )
                self.numbers[name].extend(values)
            else:
                self.meta.setdefault(name, []).append(
                    pa.concat_arrays([column, column.slice(0, 0)])
                )  # a copy of its own
        self.count += batch.num_rows

    def block(self, pack: str, where: str, index: Path | None = None):
        """The block; without the record hashes kept, they are read from ``index`` when asked for."""
        import pyarrow as pa

        from .doctable import PackedColumns

        numbers = {n: column.finish() for n, column in self.numbers.items()}
        if _INTERNAL[6] not in numbers:
            numbers[_INTERNAL[6]] = functools.partial(_index_record_digests, index)
        lines = numbers["\x1fline"] if numbers["\x1fline"][0] >= 0 else None
        meta = pa.table({n: pa.chunked_array(parts) for n, parts in self.meta.items()}).to_pandas(types_mapper=_STR.get)
        self.meta = {}
        return PackedColumns(
            pack,
            where,
            numbers["\x1foffset"],
            numbers["\x1flength"],
            numbers["\x1fsize"],
            numbers=numbers["\x1fnumber"],
            lines=lines,
            text_sha=numbers[_INTERNAL[5]],
            record_sha=numbers[_INTERNAL[6]],
            meta=meta,
        )


def _read_index(path: Path, pack: str, where: str):
    """The :class:`~analysis.corpus.doctable.PackedColumns` of a pack's Arrow index, one batch at a time
    (the record hashes stay in the file until the manifest asks for them)."""
    import pyarrow as pa

    kept = _Columns(keep_records=False)
    with pa.OSFile(str(path)) as handle:
        reader = pa.ipc.open_file(handle)
        for i in range(reader.num_record_batches):
            kept.add(reader.get_batch(i))
    return kept.block(pack, where, path)


def _index_record_digests(path: Path) -> np.ndarray:
    """The record hashes (:func:`record_sha256`) of a pack's documents, from its Arrow index: the
    metadata as read and each text's SHA-256 are there, so the cold read need not take them."""
    import pyarrow as pa

    parts = []
    with pa.OSFile(str(path)) as handle:
        reader = pa.ipc.open_file(handle)
        for i in range(reader.num_record_batches):
            batch = reader.get_batch(i)
            names = [n for n in batch.schema.names if n not in _INTERNAL]
            column = batch.column(_INTERNAL[5])
            data = np.frombuffer(column.buffers()[1], dtype=np.uint8)[
                column.offset * 32 : (column.offset + len(column)) * 32
            ]
            digests = _record_digests(names, [batch.column(n).to_pylist() for n in names], _hex_rows(data.tobytes()))
            parts.append(np.frombuffer(digests, dtype=np.uint8).reshape(-1, 32))
    return np.concatenate(parts) if parts else np.empty((0, 32), dtype=np.uint8)


class _StrTypes(dict):
    def get(self, key, default=None):
        import pyarrow as pa

        return pd.StringDtype("pyarrow", na_value=np.nan) if key in (pa.string(), pa.large_string()) else default


_STR = _StrTypes()


def _admit_batch(batch: Batch, source: Source, languages: tuple[str, ...], mapping: dict[str, str], where: str):
    """:func:`admit` for a whole :class:`Batch`: the metadata names (mapped, ``text`` out,
    ``language`` added when the source gives it), their columns, the texts and their UTF-8 bytes.

    The checks run column-wise; the first record that fails any of them is given to
    :func:`admit`, which raises the same message a record-by-record read gives.
    """
    names = batch.names
    fields = set(names)
    required = ("doc_id", "text") + (() if source.language else ("language",))
    reverse = {column: name for name, column in mapping.items() if column in fields}
    meta_names = [reverse.get(c, c) for c in names]
    if any(mapping[name] not in fields for name in required) or len(set(meta_names)) != len(meta_names):
        admit(batch.record(where, 0), source, languages=languages, mapping=mapping)
    columns = dict(zip(meta_names, batch.columns))
    texts = columns.pop("text")
    ids = [unicodedata.normalize("NFC", v) for v in map(str.strip, columns["doc_id"])]
    columns["doc_id"] = ids
    fallback = source.language
    if "language" in columns:
        raw = columns["language"]
        codes = (
            [(v or fallback).strip().lower() or fallback for v in raw]
            if fallback
            else list(map(str.lower, map(str.strip, raw)))
        )
    else:
        codes = [fallback] * len(ids)
    columns["language"] = codes
    if isinstance(texts, (list, tuple)):
        if _SURROGATE.search("".join(texts)):  # a JSON escape of half a character: named by admit
            admit(
                batch.record(where, next(i for i, t in enumerate(texts) if _SURROGATE.search(t))),
                source,
                languages=languages,
                mapping=mapping,
            )
        encoded = list(map(str.encode, texts))
        sizes = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
        empty = "" in texts or any(map(str.isspace, texts))
    else:  # an Arrow string array (Parquet): its bytes as they are, lengths and leading characters column-wise
        import pyarrow as pa
        import pyarrow.compute as pc

        encoded = texts.cast(pa.large_binary() if pa.types.is_large_string(texts.type) else pa.binary()).to_pylist()
        sizes = pc.utf8_length(texts).to_numpy(zero_copy_only=False).astype(np.int64)
        # all-whitespace (or empty) needs a whitespace first character: only those are looked at whole
        leads = pc.utf8_slice_codeunits(texts, 0, 1).to_pylist()
        empty = any(not lead or lead.isspace() and not _item(texts, i).strip() for i, lead in enumerate(leads))
    bad = []
    if "" in ids:
        bad.append(ids.index(""))
    allowed = set(languages)
    if not allowed.issuperset(codes):
        bad.append(next(i for i, code in enumerate(codes) if code not in allowed))
    if empty:
        bad.append(next(i for i in range(len(ids)) if not _item(texts, i).strip()))
    if any(map(operator.contains, encoded, repeat(NUL))):
        bad.append(next(i for i, b in enumerate(encoded) if NUL in b))
    for column in columns.values():  # one search over the whole column, then the first cell that has it
        joined = "\n".join(column)
        if _CONTROL.search(joined) or _SURROGATE.search(joined):
            bad.append(next(i for i, v in enumerate(column) if _CONTROL.search(v) or _SURROGATE.search(v)))
    if bad:
        admit(batch.record(where, min(bad)), source, languages=languages, mapping=mapping)
        raise AssertionError("a record failed a column-wise check but passed admit")  # pragma: no cover
    return list(columns), [list(c) for c in columns.values()], texts, encoded, sizes


def _heads(texts, indices: list[int], sample: int = 400) -> list[str]:
    """The first ``sample`` characters of texts ``indices`` (a list of strings or an Arrow array)."""
    if isinstance(texts, (list, tuple)):
        return [texts[i][:sample] for i in indices]
    if not indices:
        return []
    import pyarrow as pa
    import pyarrow.compute as pc

    return pc.utf8_slice_codeunits(texts.take(pa.array(indices, pa.int64())), 0, sample).to_pylist()


def _record_digests(names: list[str], columns: list[list[str]], text_hex: list[str]) -> bytes:
    """:func:`record_sha256` of every record of a batch (raw 32-byte digests, concatenated)."""
    by_name = dict(zip(names, columns))
    parts: list = []
    for j, name in enumerate(sorted(names)):
        parts += [repeat(("\x1e" if j else "") + name + "\x1f"), by_name[name]]
    parts += [repeat("\x1d"), text_hex]
    strings = map("".join, zip(*parts))
    return b"".join(map(_DIGEST, map(hashlib.sha256, (s.encode("utf-8", "surrogatepass") for s in strings))))


# corpus._VI_LETTERS without IGNORECASE (both cases spelled out): twice as fast on a shared core.
_VI_CLASS = _VI_LETTERS.pattern[1:-1]
_VI_EXACT = re.compile(f"[{_VI_CLASS}{_VI_CLASS.upper()}]")


def _guess_language(text: str, sample: int = 400) -> str:
    """:func:`analysis.corpus.documents.guess_language` made cheap for tables (a warning only; the
    whole-text letter loop cost 90% of reading a 20,000-row table): ``vi`` when Vietnamese-only
    letters are above 5% of the non-space characters of the first ``sample`` characters.

    Every Vietnamese-only letter takes at least two bytes in UTF-8, so when the UTF-8 length
    exceeds the character count by at most 5% of the non-space characters the answer is ``en``
    without looking at a letter (most English texts); for the others a regular expression looks
    for the smallest count of such letters that is above 5% and stops there (a Vietnamese text
    reaches it within a few dozen characters). Punctuation and digits in the denominator move a
    Vietnamese text's share from about 30% to 25%, far from 5%.
    """
    head = text[:sample]
    chars = len(head) - head.count(" ") - head.count("\n")
    if not chars or len(head.encode("utf-8", "surrogatepass")) - len(head) <= 0.05 * chars:
        return "en"
    return "vi" if _at_least(_needed(chars)).match(head) else "en"


@functools.lru_cache(maxsize=None)
def _needed(chars: int) -> int:
    """The smallest count ``k`` with ``k / chars > 0.05`` (the same float test as a share)."""
    k = max(1, int(chars * 0.05))
    while k / chars <= 0.05:
        k += 1
    while k > 1 and (k - 1) / chars > 0.05:
        k -= 1
    return k


@functools.lru_cache(maxsize=None)
def _at_least(k: int) -> re.Pattern:
    """Matches a text with at least ``k`` Vietnamese-only letters (linear: the classes are disjoint)."""
    letters = f"{_VI_CLASS}{_VI_CLASS.upper()}"
    return re.compile(f"(?:[^{letters}]*[{letters}]){{{k}}}")


def _where_of(doc) -> str:
    return getattr(doc, "where", "") or doc.meta.get("file", doc.doc_id)


def _check_duplicates(documents: Sequence) -> None:
    """The first doc_id seen twice (in document order) is an error naming both places."""
    from .doctable import Documents, PackedColumns

    parts = documents.parts if isinstance(documents, Documents) else [documents]
    ids = [
        p.meta["doc_id"].iloc[p.start : p.start + len(p)].reset_index(drop=True)
        if isinstance(p, PackedColumns)
        else pd.Series([d.doc_id for d in p], dtype=object)
        for p in parts
    ]
    ids = (pd.concat(ids, ignore_index=True) if len(ids) > 1 else ids[0]) if ids else pd.Series([], dtype=object)
    repeated = ids.duplicated().to_numpy()
    if not repeated.any():
        return
    second = int(repeated.argmax())
    doc_id = ids.iloc[second]
    first = int(np.flatnonzero((ids == doc_id).to_numpy())[0])
    raise InputError(
        _where_of(documents[second]),
        f"duplicate doc_id '{doc_id}' (first at {_where_of(documents[first])})",
        "make every doc_id unique (across all sources)",
    )


def _rel(path: Path, study) -> str:
    try:
        return str(Path(path).resolve().relative_to(study.root))
    except ValueError:
        return str(path)


def uses_sources(study) -> bool:
    """True when the study reads anything but the one folder + metadata.csv form."""
    sources = sources_of(study)
    return len(sources) > 1 or sources[0].kind != "folder"


def read_sources(study, spill: bool = True) -> Corpus:
    """Read and validate every source of the study (nothing is modified; packs only on success).

    Parameters
    ----------
    study : analysis.study.settings.Study
    spill : bool
        Keep the texts of table-like sources in content-addressed packs in the cache folder
        (needed to prepare them); ``False`` checks everything and writes nothing.

    Returns
    -------
    Corpus
        ``documents`` in source order, then record order (an :class:`analysis.corpus.doctable.Documents`
        over column-wise blocks); ``docvars`` with ``doc_id`` as index, every column a string;
        ``file_hashes`` of every file read; ``record_hashes`` by doc_id.
    """
    from ..study.settings import column_problems, raise_all
    from . import folder as folder_form
    from .doctable import Documents, RecordHashes

    sources = sources_of(study)
    if len(sources) == 1 and sources[0].kind == "folder":
        return finish_corpus(folder_form.read_folder_corpus(study), study)
    raise_all(column_problems(study, corpus_columns(study)))  # from the headers: before any record is read
    documents = Documents()
    frames: list[pd.DataFrame] = []
    hashes: dict[str, str] = {}
    records = RecordHashes()
    pending = []
    try:
        for source in sources:
            if source.kind == "folder":
                sub = dataclasses.replace(
                    study,
                    corpus=dataclasses.replace(
                        study.corpus,
                        folder=source.path,
                        metadata=source.metadata,
                        encoding=source.encoding,
                        source=(),
                        table="",
                        html="",
                        newsplease="",
                    ),
                )
                corpus = folder_form.read_folder_corpus(sub, check_columns=False)
                documents.append_part(corpus.documents)
                frames.append(corpus.docvars.reset_index(drop=True))
                prefix = _rel(sub.path(source.path), study)
                hashes.update({f"{prefix}/{k}": v for k, v in corpus.file_hashes.items()})
                continue
            read = read_source(source, study, spill)
            if read.writer is not None:
                pending.append(read)
            documents.append_part(read.documents)
            frames.append(read.meta)
            hashes.update(read.file_hashes)
            records.add(read.record_hashes)
        _check_duplicates(documents)
        docvars = (
            (pd.concat(frames, ignore_index=True, sort=False) if len(frames) > 1 else frames[0]).fillna("").astype(str)
        )
        del frames
        docvars = docvars.set_index("doc_id", drop=False)
        for column in ("outlet",):
            # As in the folder form: the corpus summary's grouping column, when no source has it,
            # is one group saying so, not a KeyError (other absent columns are the stages' to skip).
            if column not in docvars.columns:
                docvars[column] = folder_form.missing_column_label(column)
                if (str(study.source), column) not in folder_form._WARNED:
                    folder_form._WARNED.add((str(study.source), column))
                    log.warning(
                        "%s: no '%s' column in the corpus; tables by %s show one group '%s'",
                        study.source,
                        column,
                        column,
                        folder_form.missing_column_label(column),
                    )
        documents.attach(docvars)
        corpus = finish_corpus(Corpus(documents, docvars, hashes, records), study)
    except BaseException:
        for read in reversed(pending):
            read.writer.abort()
        raise
    for read in pending:  # every record of every source passed: keep the texts
        read.writer.commit()
    log.info("read %d documents from %d source(s)", len(documents), len(sources))
    return corpus


def finish_corpus(corpus: Corpus, study) -> Corpus:
    """Steps shared by every form once the documents are valid: the ``date`` column is parsed
    (:func:`analysis.corpus.dates.parse_date`, ``[corpus] dayfirst``) and kept as ISO ``YYYY-MM-DD``
    strings (``""`` = missing, allowed and counted); a bad date stops the run naming its row.

    Each distinct value is parsed once (in order of first appearance, so the first bad value
    found is the first bad row)."""
    from .dates import DateError, parse_date
    from .doctable import Documents

    if "date" not in corpus.docvars.columns:
        return corpus
    # distinct values in order of first appearance; a missing cell (NaN/None) is a value of its own,
    # not code -1 (which would index the last distinct value: an empty date taken as a date)
    codes, uniques = pd.factorize(corpus.docvars["date"], sort=False, use_na_sentinel=False)
    parsed = []
    for k, value in enumerate(uniques.tolist()):
        try:
            date = parse_date(value, study.corpus.dayfirst)
        except DateError as exc:
            position = int(np.flatnonzero(codes == k)[0])
            doc = corpus.documents[position]
            raise InputError(
                _row_label(doc, position, study),
                f"date of doc_id '{doc.doc_id}': {exc}",
                "write the date as 2024-04-03 (or set [corpus] dayfirst), or leave it empty",
            ) from None
        parsed.append(date.isoformat() if date is not None else "")
    iso_values = np.asarray(parsed, dtype=object)[codes] if len(codes) else np.asarray([], dtype=object)
    missing = int((iso_values == "").sum())
    if missing:
        log.info("dates: %d of %d documents have no date", missing, len(iso_values))
    docvars = corpus.docvars.copy(deep=False)
    docvars["date"] = pd.Series(iso_values, index=docvars.index, dtype="str")
    iso = (
        iso_values.tolist()
        if not isinstance(corpus.documents, Documents) or any(isinstance(p, list) for p in corpus.documents.parts)
        else []
    )
    documents = corpus.documents
    lists = documents.parts if isinstance(documents, Documents) else [documents]
    start = 0
    for part in lists:
        if isinstance(part, list):
            for doc, date in zip(part, iso[start : start + len(part)]):
                if doc.meta is not None and "date" in doc.meta:
                    doc.meta["date"] = date
        start += len(part)
    if isinstance(documents, Documents):
        documents.attach(docvars)
    return dataclasses.replace(corpus, docvars=docvars)


def _row_label(doc, position: int, study) -> str:
    if getattr(doc, "where", ""):
        return doc.where
    if len(sources_of(study)) == 1:
        return f"{study.path(study.corpus.metadata)} line {position + 2}"
    return f"{getattr(doc, 'path', doc.doc_id)} (doc_id '{doc.doc_id}')"


def corpus_columns(study) -> list[str]:
    """The docvars columns the study's corpus will have, from headers only (cheap: the CSV header
    line, a JSON Lines file's first record, a Parquet schema, one news-please file, the metadata
    header), so ``validate`` and every stage check the columns a study names before reading records.
    """
    from . import folder as folder_form

    columns: list[str] = []
    for source in sources_of(study):
        if source.kind == "folder":
            sub = dataclasses.replace(
                study, corpus=dataclasses.replace(study.corpus, folder=source.path, metadata=source.metadata)
            )
            names = list(folder_form.read_metadata(sub).columns)
        else:
            path = _existing(source, study)
            if source.kind == "html":
                names = ["doc_id", "file", "title", "date", "sitename", "outlet", "url"]
            elif source.kind == "table" and table_format(path, source.format, str(path)) == "parquet":
                import pyarrow.parquet as pq

                try:
                    names = list(pq.ParquetFile(path).schema_arrow.names)
                except Exception as exc:  # noqa: BLE001 (pyarrow raises ArrowInvalid / OSError for a file that is not Parquet)
                    raise InputError(
                        path,
                        f"not a readable Parquet file ({str(exc).splitlines()[0]})",
                        "give a .parquet file written by pandas/pyarrow",
                    ) from None
            else:
                first = next(iter(_records_at(source, path)), None)
                if first is None:  # a header and no record: one line, not one per setting naming a column
                    raise InputError(source.path, "no records", NO_RECORDS_FIX)
                names = list(first.fields)
            reverse = {column: name for name, column in source.mapping.items()}
            names = [reverse.get(n, n) for n in names if reverse.get(n, n) != "text"]
        if source.language or source.kind == "html":
            names.append("language")
        columns += [n for n in names if n not in columns]
    return columns


def read_table(
    path,
    columns: dict | None = None,
    *,
    format: str = "",
    delimiter: str = "",
    encoding: str = "utf-8",
    language: str = "",  # noqa: A002
    languages: tuple[str, ...] = ("vi", "en"),
    dayfirst: bool = True,
) -> pd.DataFrame:
    """A corpus table (CSV, TSV, JSON Lines, Parquet) read and validated as a study reads it.

    For a look at a table in a notebook before writing its study (``python -m analysis init``):
    the same column mapping, checks and messages as ``[corpus] table`` (empty or duplicate ids,
    unknown language codes, empty or binary texts, bad dates: an :class:`InputError` naming the
    record and, for CSV, its physical line), dates parsed by :func:`analysis.corpus.dates.parse_date`
    into ISO ``YYYY-MM-DD`` (``""`` when missing). Nothing is written; the texts are in the
    returned table (a study keeps them out of memory instead).

    Parameters
    ----------
    path : str or Path
    columns : dict, optional
        The toolkit's names to the table's (``{"doc_id": "id", "text": "body"}``), as ``[corpus.columns]``.
    format, delimiter, encoding, language
        As in ``[corpus]``: the format when the extension does not say it, another CSV
        separator, the declared encoding, one language for a table without a language column.
    languages : tuple of str
        The language codes allowed.
    dayfirst : bool
        Read ``3/4/2024`` as 3 April (True) or 4 March.

    Returns
    -------
    DataFrame indexed by doc_id: ``doc_id``, ``language``, ``text`` and every other column (strings).

    Examples
    --------
    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "articles.csv"
    >>> _ = path.write_text("id,lang,published,body\\nv1,vi,3/4/2024,Hai bên nhất trí.\\ne1,en,,Both sides agreed.\\n",
    ...     encoding="utf-8")
    >>> table = read_table(path, {"doc_id": "id", "language": "lang", "date": "published", "text": "body"})
    >>> for doc_id, row in table[["language", "date", "text"]].to_dict("index").items():
    ...     print(doc_id, row)
    v1 {'language': 'vi', 'date': '2024-04-03', 'text': 'Hai bên nhất trí.'}
    e1 {'language': 'en', 'date': '', 'text': 'Both sides agreed.'}
    """
    from .dates import DateError, parse_date

    path = Path(path)
    where = str(path)
    unknown = sorted(set(columns or {}) - set(CANONICAL))
    if unknown:
        raise InputError(
            "read_table columns", f"maps unknown name '{unknown[0]}'", f"map some of: {', '.join(CANONICAL)}"
        )
    if language and language not in languages:
        raise InputError(
            "read_table language", f"'{language}' is not one of {', '.join(languages)}", "give one of the allowed codes"
        )
    if not path.is_file():
        raise InputError(where, "table not found", "give the path of a .csv, .tsv, .jsonl or .parquet file")
    source = Source(
        kind="table",
        path=where,
        format=format,
        delimiter=delimiter,
        encoding=encoding,
        language=language,
        columns=tuple(sorted((columns or {}).items())),
        label="read_table",
    )
    mapping = source.mapping
    fmt = table_format(path, format, where)
    frames, labels = [], []
    if fmt in {"csv", "tsv", "parquet"}:
        batches = (
            csv_batches(path, fmt=fmt, delimiter=delimiter, encoding=encoding, where=where)
            if fmt != "parquet"
            else parquet_batches(path, where=where, keep_arrow=[mapping["text"]])
        )
        for batch in batches:
            names, values, texts, _, _ = _admit_batch(batch, source, languages, mapping, where)
            frames.append(pd.DataFrame({**dict(zip(names, values)), "text": list(texts)}))
            labels += [batch.label(where, i) for i in range(len(batch))]
    else:
        rows = []
        for record in _records_at(source, path):
            doc = admit(record, source, languages=languages, mapping=mapping)
            rows.append({**doc.meta, "text": doc.text})
            labels.append(record.where)
        frames.append(pd.DataFrame.from_records(rows, columns=list(dict.fromkeys(c for row in rows for c in row))))
    table = (
        (pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]).fillna("").astype(str)
        if frames
        else pd.DataFrame()
    )
    if table.empty:
        raise InputError(where, "no records", "add at least one article")
    repeated = table["doc_id"].duplicated().to_numpy()
    if repeated.any():
        second = int(repeated.argmax())
        first = int(np.flatnonzero((table["doc_id"] == table["doc_id"].iloc[second]).to_numpy())[0])
        raise InputError(
            labels[second],
            f"duplicate doc_id '{table['doc_id'].iloc[second]}' (first at {labels[first]})",
            "make every doc_id unique",
        )
    if "date" in table.columns:
        iso = []
        for label, value, doc_id in zip(labels, table["date"].tolist(), table["doc_id"].tolist()):
            try:
                date = parse_date(value, dayfirst)
            except DateError as exc:
                raise InputError(
                    label,
                    f"date of doc_id '{doc_id}': {exc}",
                    "write the date as 2024-04-03 (or give dayfirst), or leave it empty",
                ) from None
            iso.append(date.isoformat() if date is not None else "")
        table["date"] = iso
    return table.set_index("doc_id", drop=False)


def read_corpus(study: Study, spill: bool = True) -> Corpus:
    """Read and validate the study's corpus in any form (:mod:`analysis.corpus.sources`: the folder +
    metadata.csv form, a table, news-please JSON, HTML, several sources); ``spill=False`` (the
    ``validate`` stage) checks everything and writes nothing, not even the cache's text packs."""
    from .sources import read_sources

    return read_sources(study, spill)
