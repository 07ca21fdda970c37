"""The folder form of a corpus (one UTF-8 text file per article and a ``metadata.csv``) and the
translated sample of the equivalence check (line-aligned ``en.txt`` / ``vi.txt``): read and
validated, every path strictly inside its folder, nothing modified or written.
"""

from __future__ import annotations

import csv
import io as _io
import logging
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ..errors import InputError
from ..files import _read_utf8, decode_utf8, sha256_bytes, sha256_file
from ..study.safety import make_unsafe
from ..study.settings import Study, column_problems, raise_all
from .documents import (
    Corpus,
    Document,
    check_relative_path,
    decode_text,
    guess_language,
    text_sha256,
    utf16_kind,
    validate_metadata,
)

log = logging.getLogger("analysis")

#: Optional metadata columns the default settings group by (``[frequencies] group_by``,
#: ``[framing] keyness_within``, ``[topics] prevalence_by``, the corpus summary).
OPTIONAL_GROUP_COLUMNS = ("outlet", "event")
_WARNED: set[tuple[str, str]] = set()


def read_metadata(study: Study) -> pd.DataFrame:
    path = study.path(study.corpus.metadata)
    if not path.is_file():
        raise InputError(path, "metadata file not found", "write a metadata CSV (doc_id,file,language,...)")
    raw = path.read_bytes()
    if not raw.strip():
        raise InputError(path, "metadata file is empty", "write a header line doc_id,file,language,...")
    text = decode_metadata(raw, path)
    return parse_metadata(text, path, study.corpus.languages)


def decode_metadata(raw: bytes, path) -> str:
    """The metadata file's text (UTF-8, BOM allowed); UTF-16 and Excel exports are named as such."""
    utf16 = utf16_kind(raw)
    if utf16:
        try:
            sample = raw.decode(utf16)[:2000]
        except UnicodeDecodeError:
            sample = ""
        if "\t" in sample.split("\n", 1)[0]:
            raise InputError(
                path,
                "an Excel 'Unicode text' export (UTF-16, tab-separated), not a UTF-8 CSV",
                "in Excel save it as 'CSV UTF-8 (Comma delimited)'",
            )
        raise InputError(path, f"UTF-16 text ({utf16}), not UTF-8", "save the metadata as a UTF-8 CSV file")
    if b"\x00" in raw:
        raise InputError(
            path,
            f"metadata file is binary (NUL byte at byte offset {raw.index(bytes(1))})",
            "save the metadata as a UTF-8 CSV file",
        )
    return decode_utf8(raw, where=path, what="metadata", fix="save it as UTF-8 CSV")


def parse_metadata(text: str, path, languages=("vi", "en")) -> pd.DataFrame:
    """Parse and validate the metadata CSV text; errors name the physical line of the file.

    A record may span several lines (a quoted title with a line break), so records are first read
    with :mod:`csv` to know the line each starts on; those line numbers label every later error.
    """
    header_line = text.lstrip("\ufeff").split("\n", 1)[0]
    delimiter_hint = ""
    if "," not in header_line:
        for char, name in ((";", "semicolons"), ("\t", "tabs")):
            if char in header_line:
                delimiter_hint = name
                break
    starts: list[int] = []
    try:
        reader = csv.reader(_io.StringIO(text, newline=""))  # as lenient as pandas: only the line numbers are wanted
        width = None
        line = 1
        for record in reader:
            if width is None:
                width = len(record)
            elif record and len(record) > width:
                hint = f"; the header is separated by {delimiter_hint}" if delimiter_hint else ""
                raise InputError(
                    path,
                    f"broken CSV: line {line} has {len(record)} fields, the header {width}{hint}",
                    "quote fields that contain commas, or save the file comma-separated",
                )
            elif record:
                starts.append(line)
            line = reader.line_num + 1
    except csv.Error:
        starts = []  # pandas below decides (and reports) what the csv module could not read
    if delimiter_hint:
        raise InputError(
            path,
            f"the header is separated by {delimiter_hint}, not commas",
            "save the metadata comma-separated (CSV UTF-8)",
        )
    try:
        table = pd.read_csv(_io.StringIO(text), dtype=str, keep_default_na=False, skipinitialspace=False)
    except (pd.errors.ParserError, csv.Error) as exc:
        raise InputError(
            path, f"broken CSV ({str(exc).splitlines()[0]})", "check quoting and the number of fields"
        ) from None
    except pd.errors.EmptyDataError:
        raise InputError(path, "metadata file is empty", "write a header line doc_id,file,language,...") from None
    if "file" not in table.columns and "path" in table.columns:  # the shared corpora's name for it
        table = table.rename(columns={"path": "file"})
    lines = starts if len(starts) == len(table) else None
    table = validate_metadata(table, where=str(path), languages=languages, lines=lines)
    if table.empty:
        raise InputError(
            path, "lists no documents (a header and no rows)", "add one row per document: doc_id,file,language,..."
        )
    for column in OPTIONAL_GROUP_COLUMNS:
        if column not in table.columns:
            # Only doc_id, file and language are required. A grouping column the defaults use and
            # the metadata lacks gets one value that says so in every table and figure.
            table[column] = missing_column_label(column)
            if (str(path), column) not in _WARNED:  # once per run, not once per stage read
                _WARNED.add((str(path), column))
                log.warning(
                    "%s: no '%s' column; tables by %s show one group '%s'",
                    path,
                    column,
                    column,
                    missing_column_label(column),
                )
    table.attrs["lines"] = lines or list(range(2, len(table) + 2))
    return table


def missing_column_label(column: str) -> str:
    """The value every document gets for an optional grouping column the metadata lacks."""
    return f"(no {column} column)"


def resolve_in_folder(folder: Path, name: str, where: str) -> Path:
    """The path of ``name`` inside ``folder``; symlinks that lead outside it are rejected."""
    check_relative_path(name, where)
    folder = folder.resolve()
    candidate = folder / name
    resolved = candidate.resolve()
    if folder != resolved and folder not in resolved.parents:
        raise InputError(
            where,
            f"file '{name}' resolves outside the corpus folder (symlink?)",
            "copy the file into the corpus folder",
        )
    if not resolved.exists():
        raise InputError(where, f"file '{name}' is missing from {folder}", "add the file or remove its metadata row")
    if not resolved.is_file():
        raise InputError(where, f"'{name}' is not a regular file", "point 'file' at a text file")
    return resolved


@dataclass(frozen=True)
class StoredDocument:
    """A validated document whose text stays in its file until :attr:`text` is asked for.

    Same attributes as :class:`analysis.corpus.documents.Document`, so a corpus of any size costs memory for
    its metadata only (so memory does not grow with the texts): preparation reads each text
    when it prepares it (in the worker process), a cached re-run does not read it again at all.
    The text's SHA-256 is taken when the corpus is read and checked on every later read, so a file
    edited during a run stops it instead of mixing two versions.
    """

    doc_id: str
    language: str
    path: str
    encoding: str
    text_sha256: str
    size: int
    meta: dict = field(default_factory=dict)

    @property
    def text(self) -> str:
        try:
            with open(self.path, "rb") as handle:  # not pathlib: this runs once per document prepared
                raw = handle.read()
        except OSError as exc:
            raise InputError(
                self.path, f"cannot be read any more ({exc.strerror})", "restore the file and run again"
            ) from None
        text = decode_text(raw, self.path, self.encoding)
        if text_sha256(text) != self.text_sha256:
            raise InputError(
                self.path,
                "changed while the run was going (its text differs from when the corpus was read)",
                "run again",
            )
        return text

    def loaded(self) -> Document:
        """The same document with its text in memory (for workers that cannot see this disk)."""
        return Document(self.doc_id, self.language, self.text, self.meta)


def read_folder_corpus(study: Study, check_columns: bool = True) -> Corpus:
    """Read and validate every document listed in the metadata (nothing is modified or written).

    Every file is read, decoded and checked here, so a bad file stops the run before any work;
    the texts are then let go (:class:`StoredDocument`), keeping their hashes and lengths.
    ``check_columns=False`` when the folder is one of several sources (the study's columns are
    checked against all of them, :func:`analysis.corpus.sources.read_sources`).
    """
    metadata = read_metadata(study)
    if check_columns:
        raise_all(column_problems(study, list(metadata.columns)))  # before any stage computes or writes
    folder = study.path(study.corpus.folder)
    if not folder.is_dir():
        raise InputError(study.source, f"corpus folder '{study.corpus.folder}' not found", "fix [corpus] folder")
    documents = []
    hashes = {}
    meta_path = study.path(study.corpus.metadata)
    listed: dict[Path, tuple[str, int]] = {}
    for line, row in zip(metadata.attrs["lines"], metadata.to_dict("records")):
        where = f"{meta_path} line {line}"
        unsafe = make_unsafe(row["file"])
        if unsafe:
            raise InputError(
                where,
                f"file name {unsafe} (the generated make rules list every input)",
                "rename the file and its metadata entry",
            )
        path = resolve_in_folder(folder, row["file"], where)
        if path in listed:
            first_id, first_line = listed[path]
            raise InputError(
                where,
                (
                    f"file '{row['file']}' is listed again, for doc_id '{row['doc_id']}' (first for "
                    f"'{first_id}' on line {first_line})"
                ),
                "list every file once (it would be counted twice)",
            )
        listed[path] = (row["doc_id"], line)
        raw = path.read_bytes()
        hashes[str(path.relative_to(folder))] = sha256_bytes(raw)
        encoding = row.get("encoding", "") or study.corpus.encoding
        text = decode_text(raw, str(path), encoding)
        guessed = guess_language(text)
        if guessed != row["language"]:
            log.warning("%s: metadata says language '%s' but the text looks '%s'", path, row["language"], guessed)
        documents.append(
            StoredDocument(row["doc_id"], row["language"], str(path), encoding, text_sha256(text), len(text), row)
        )
    hashes[str(meta_path.name)] = sha256_bytes(meta_path.read_bytes())
    log.info("read %d documents from %s", len(documents), folder)
    # The line numbers served the messages above. Left in ``attrs``, pandas would deep-copy the
    # list into the result of every operation on the corpus's docvars (O(documents) a lookup).
    metadata.attrs = {}
    return Corpus(documents, metadata, hashes)


@dataclass(frozen=True)
class ParallelSample:
    """A translated sample: ``en[i]`` and ``vi[i]`` are one sentence and its translation (line i + 1
    of ``en.txt`` / ``vi.txt``); ``docs`` groups lines into documents ``(doc_id, start, end)``
    (1-based, inclusive), one per line when the folder has no ``docs.csv``."""

    folder: Path
    en: tuple[str, ...]
    vi: tuple[str, ...]
    docs: tuple[tuple[str, int, int], ...]
    file_hashes: dict = field(default_factory=dict)


def read_parallel(folder: str | Path) -> ParallelSample:
    """Read and check a parallel sample folder (``en.txt``, ``vi.txt``, optional ``docs.csv``).

    Every problem is one :class:`InputError` naming the file and line: folder or file missing, not
    UTF-8, line counts that differ (the files must be line-aligned), an empty line (a pair with an
    empty side cannot be compared), and in ``docs.csv`` a wrong header, a non-integer or
    out-of-range line number, ``start_line > end_line``, a duplicate ``doc_id`` or overlapping
    ranges. Nothing is modified.
    """
    folder = Path(folder)
    fix_folder = "point [equivalence] parallel at a folder holding line-aligned en.txt and vi.txt"
    if not folder.is_dir():
        raise InputError(folder, "parallel sample folder not found", fix_folder)
    lines: dict[str, list[str]] = {}
    hashes = {}
    for lang in ("en", "vi"):
        path = folder / f"{lang}.txt"
        if not path.is_file():
            raise InputError(path, "file not found in the parallel sample folder", fix_folder)
        hashes[path.name] = sha256_file(path)
        text = _read_utf8(path)
        rows = text.split("\n")
        if rows and rows[-1] == "":
            rows.pop()  # the newline that ends the last line
        rows = [r[:-1] if r.endswith("\r") else r for r in rows]
        for i, row in enumerate(rows, start=1):
            if not row.strip():
                raise InputError(
                    f"{path} line {i}",
                    "empty line: every line must be a sentence with its translation on the same line of the other file",
                    "remove the pair from both files or fill in the missing side",
                )
        lines[lang] = [r.strip() for r in rows]
    n_en, n_vi = len(lines["en"]), len(lines["vi"])
    if n_en != n_vi:
        raise InputError(
            folder / "vi.txt",
            f"{n_vi} lines, but en.txt has {n_en}: the files are not line-aligned",
            "line i of vi.txt must be the translation of line i of en.txt",
        )
    if n_en == 0:
        raise InputError(folder / "en.txt", "no lines", "write one sentence a line")
    docs_path = folder / "docs.csv"
    if docs_path.exists():
        hashes[docs_path.name] = sha256_file(docs_path)
        docs = _parallel_docs(docs_path, _read_utf8(docs_path), n_en)
    else:
        width = len(str(n_en))
        docs = [(f"line{i:0{width}d}", i, i) for i in range(1, n_en + 1)]
    return ParallelSample(folder, tuple(lines["en"]), tuple(lines["vi"]), tuple(docs), hashes)


def _parallel_docs(path: Path, text: str, n_lines: int) -> list[tuple[str, int, int]]:
    import csv
    import io as _io

    rows = list(csv.reader(_io.StringIO(text)))
    header = ["doc_id", "start_line", "end_line"]
    if not rows or [c.strip() for c in rows[0]] != header:
        raise InputError(
            f"{path} line 1", f"header must be {','.join(header)}", "write the header doc_id,start_line,end_line"
        )
    docs: list[tuple[str, int, int]] = []
    seen: set[str] = set()
    for number, row in enumerate(rows[1:], start=2):
        if not row or not any(c.strip() for c in row):
            continue
        where = f"{path} line {number}"
        if len(row) != 3:
            raise InputError(
                where,
                f"{len(row)} fields, expected 3 (doc_id,start_line,end_line)",
                "write three comma-separated fields",
            )
        doc_id, start, end = (c.strip() for c in row)
        if not doc_id:
            raise InputError(where, "empty doc_id", "give every document an id")
        if doc_id in seen:
            raise InputError(where, f"duplicate doc_id '{doc_id}'", "give every document its own id")
        seen.add(doc_id)
        try:
            a, b = int(start), int(end)
        except ValueError:
            raise InputError(
                where, f"start_line '{start}' and end_line '{end}' must be whole numbers", "write 1-based line numbers"
            ) from None
        if not 1 <= a <= b <= n_lines:
            raise InputError(
                where,
                f"lines {a}-{b} are not a range inside 1-{n_lines}",
                f"use 1 <= start_line <= end_line <= {n_lines}",
            )
        docs.append((doc_id, a, b))
    if not docs:
        raise InputError(path, "no documents", "list at least one doc_id,start_line,end_line row, or remove docs.csv")
    ordered = sorted(docs, key=lambda d: d[1])
    for (id_a, _, end_a), (id_b, start_b, _) in zip(ordered, ordered[1:]):
        if start_b <= end_a:
            raise InputError(
                path,
                f"documents '{id_a}' and '{id_b}' overlap (line {start_b})",
                "give every line to at most one document",
            )
    return docs


_WARNED: set[tuple[str, str]] = set()
