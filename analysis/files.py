"""The only module that reads or writes files (named ``files``, not ``io``, so that it never
shadows the standard library's :mod:`io`).

Reading: the study file, the metadata CSV, corpus files (strictly inside the corpus folder), rule,
stopword and phrase files. Writing: always atomically (a temporary file in the target folder, then
``os.replace``), so a failed or killed run never leaves a half-written file under a final name.
"""

from __future__ import annotations

import csv
import errno
import hashlib
import io as _io
import itertools
import json
import logging
import os
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Iterable, Iterator, Mapping

import pandas as pd

from .corpus import Corpus, Document, check_relative_path, decode_text, guess_language, text_sha256, utf16_kind, validate_metadata
from .errors import InputError
from .safety import make_unsafe
from .study import Study, column_problems, parse_study, raise_all, study_toml
from .tables import to_csv, to_latex, to_markdown

log = logging.getLogger("analysis")

RESOURCES = resources.files("analysis") / "resources"


# ------------------------------------------------------------------------------------ reading


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: Path) -> str:
    return sha256_bytes(Path(path).read_bytes())


def study_problems(path: str | Path) -> tuple[Study | None, list[InputError]]:
    """The study file read, and every problem with it: its keys, its values, its output folder
    (the metadata columns it names are checked when the corpus is read)."""
    path = Path(path)
    if not path.is_file():
        return None, [InputError(path, "study file not found", "give the path of a study TOML file (e.g. study.toml)")]
    try:
        study, problems = parse_study(decode_utf8(path.read_bytes(), path, fix="save the study file as UTF-8"), path)
    except InputError as exc:
        return None, [exc]
    overlap = study_path_problems(study)  # the output is an input (the metadata ...): say that, once
    if not overlap and study.run.output.strip() and study.output_dir.exists() and not study.output_dir.is_dir():
        problems.append(InputError(path, f"[run] output = '{study.run.output}' is an existing file, not a folder",
                                   'name a folder for the outputs, e.g. output = "figures"'))
    problems.extend(overlap)
    return study, problems


def study_path_problems(study: Study) -> list[InputError]:
    """An output folder that is, holds or lies inside an input, and output names built from
    settings that could leave the output folder (:mod:`analysis.safety`): found before anything
    is written."""
    from . import safety

    problems = []
    settings = study.as_dict()
    if study.run.output.strip():  # an empty output is study.py's problem (one message, not two)
        reason = safety.check_output(Path(study.source), settings)
        if reason:
            problems.append(InputError(study.source, reason, 'give the outputs a folder of their own, e.g. output = "figures"'))
    reason = safety.check_names(settings)
    if reason:
        problems.append(InputError(study.source, reason, "rename the metadata column (letters, digits, _ - .) and the setting with it"))
    return problems


def read_study(path: str | Path) -> Study:
    """The study file, every value checked (:func:`analysis.study.setting_problems`); raises on any problem."""
    study, problems = study_problems(path)
    raise_all(problems)
    return study


def write_study(folder: Path, settings: Mapping | str, metadata: Iterable[Mapping[str, str]] | None = None,
                metadata_name: str = "metadata.csv") -> Path:
    """Write ``folder/study.toml`` (settings as nested dicts, or TOML text) and, given rows, the
    metadata CSV ``folder/metadata_name`` (columns in first-seen order). Returns the study path.

    The one helper that writes a study for tests, benchmarks and examples.
    """
    folder = Path(folder)
    if metadata is not None:
        rows = list(metadata)
        columns = list(dict.fromkeys(column for row in rows for column in row))
        buffer = _io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n", restval="")
        writer.writeheader()
        writer.writerows(rows)
        write_text(folder / metadata_name, buffer.getvalue())
    return write_text(folder / "study.toml", settings if isinstance(settings, str) else study_toml(settings))


def resource_text(study: Study, setting: str, default_name: str) -> tuple[str, str]:
    """Text of a resource file named in the study (or the packaged default) and its label."""
    if setting:
        path = study.path(setting)
        if not path.is_file():
            raise InputError(study.source, f"resource file '{setting}' not found", "fix the path in the study file")
        return _read_utf8(path), str(path)
    return (RESOURCES / default_name).read_text(encoding="utf-8"), f"analysis/resources/{default_name}"


def decode_utf8(raw: bytes, where, what: str = "", fix: str = "save the file as UTF-8") -> str:
    """UTF-8 text (a byte-order mark dropped), or one :class:`InputError` naming the byte offset.

    The one place a study, resource or metadata file is decoded; ``what`` names it in the message.
    """
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(where, f"{what + ' is ' if what else ''}not UTF-8 at byte offset {exc.start}", fix) from None


def _read_utf8(path: Path) -> str:
    return decode_utf8(path.read_bytes(), path)


def read_word_list(text: str) -> list[str]:
    """One entry a line; ``#`` starts a comment line; blank lines are ignored."""
    return [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]


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
            raise InputError(path, "an Excel 'Unicode text' export (UTF-16, tab-separated), not a UTF-8 CSV",
                             "in Excel save it as 'CSV UTF-8 (Comma delimited)'")
        raise InputError(path, f"UTF-16 text ({utf16}), not UTF-8", "save the metadata as a UTF-8 CSV file")
    if b"\x00" in raw:
        raise InputError(path, f"metadata file is binary (NUL byte at byte offset {raw.index(bytes(1))})", "save the metadata as a UTF-8 CSV file")
    return decode_utf8(raw, path, "metadata", "save it as UTF-8 CSV")


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
                raise InputError(path, f"broken CSV: line {line} has {len(record)} fields, the header {width}{hint}",
                                 "quote fields that contain commas, or save the file comma-separated")
            elif record:
                starts.append(line)
            line = reader.line_num + 1
    except csv.Error:
        starts = []  # pandas below decides (and reports) what the csv module could not read
    if delimiter_hint:
        raise InputError(path, f"the header is separated by {delimiter_hint}, not commas", "save the metadata comma-separated (CSV UTF-8)")
    try:
        table = pd.read_csv(_io.StringIO(text), dtype=str, keep_default_na=False, skipinitialspace=False)
    except (pd.errors.ParserError, csv.Error) as exc:
        raise InputError(path, f"broken CSV ({str(exc).splitlines()[0]})", "check quoting and the number of fields") from None
    except pd.errors.EmptyDataError:
        raise InputError(path, "metadata file is empty", "write a header line doc_id,file,language,...") from None
    if "file" not in table.columns and "path" in table.columns:  # the shared corpora's name for it
        table = table.rename(columns={"path": "file"})
    lines = starts if len(starts) == len(table) else None
    table = validate_metadata(table, str(path), languages, lines=lines)
    if table.empty:
        raise InputError(path, "lists no documents (a header and no rows)", "add one row per document: doc_id,file,language,...")
    for column in OPTIONAL_GROUP_COLUMNS:
        if column not in table.columns:
            # Only doc_id, file and language are required. A grouping column the defaults use and
            # the metadata lacks gets one value that says so in every table and figure.
            table[column] = missing_column_label(column)
            if (str(path), column) not in _WARNED:  # once per run, not once per stage read
                _WARNED.add((str(path), column))
                log.warning("%s: no '%s' column; tables by %s show one group '%s'", path, column, column, missing_column_label(column))
    table.attrs["lines"] = lines or list(range(2, len(table) + 2))
    return table


#: Optional metadata columns the default settings group by (``[frequencies] group_by``,
#: ``[framing] keyness_within``, ``[topics] prevalence_by``, the corpus summary).
OPTIONAL_GROUP_COLUMNS = ("outlet", "event")
_WARNED: set[tuple[str, str]] = set()


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
            where, f"file '{name}' resolves outside the corpus folder (symlink?)", "copy the file into the corpus folder"
        )
    if not resolved.exists():
        raise InputError(where, f"file '{name}' is missing from {folder}", "add the file or remove its metadata row")
    if not resolved.is_file():
        raise InputError(where, f"'{name}' is not a regular file", "point 'file' at a text file")
    return resolved


@dataclass(frozen=True)
class StoredDocument:
    """A validated document whose text stays in its file until :attr:`text` is asked for.

    Same attributes as :class:`analysis.corpus.Document`, so a corpus of any size costs memory for
    its metadata only (issue 6: memory does not grow with the texts): preparation reads each text
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
            raise InputError(self.path, f"cannot be read any more ({exc.strerror})", "restore the file and run again") from None
        text = decode_text(raw, self.path, self.encoding)
        if text_sha256(text) != self.text_sha256:
            raise InputError(self.path, "changed while the run was going (its text differs from when the corpus was read)", "run again")
        return text

    def loaded(self) -> Document:
        """The same document with its text in memory (for workers that cannot see this disk)."""
        return Document(self.doc_id, self.language, self.text, self.meta)


def read_corpus(study: Study, spill: bool = True) -> Corpus:
    """Read and validate the study's corpus in any form (:mod:`analysis.sources`: the folder +
    metadata.csv form, a table, news-please JSON, HTML, several sources); ``spill=False`` (the
    ``validate`` stage) checks everything and writes nothing, not even the cache's text packs."""
    from .sources import read_sources

    return read_sources(study, spill)


def read_folder_corpus(study: Study, check_columns: bool = True) -> Corpus:
    """Read and validate every document listed in the metadata (nothing is modified or written).

    Every file is read, decoded and checked here, so a bad file stops the run before any work;
    the texts are then let go (:class:`StoredDocument`), keeping their hashes and lengths.
    ``check_columns=False`` when the folder is one of several sources (the study's columns are
    checked against all of them, :func:`analysis.sources.read_sources`).
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
            raise InputError(where, f"file name {unsafe} (the generated make rules list every input)", "rename the file and its metadata entry")
        path = resolve_in_folder(folder, row["file"], where)
        if path in listed:
            first_id, first_line = listed[path]
            raise InputError(where, f"file '{row['file']}' is listed again, for doc_id '{row['doc_id']}' (first for '{first_id}' on line {first_line})",
                             "list every file once (it would be counted twice)")
        listed[path] = (row["doc_id"], line)
        raw = path.read_bytes()
        hashes[str(path.relative_to(folder))] = sha256_bytes(raw)
        encoding = row.get("encoding", "") or study.corpus.encoding
        text = decode_text(raw, str(path), encoding)
        guessed = guess_language(text)
        if guessed != row["language"]:
            log.warning("%s: metadata says language '%s' but the text looks '%s'", path, row["language"], guessed)
        documents.append(StoredDocument(row["doc_id"], row["language"], str(path), encoding, text_sha256(text), len(text), row))
    hashes[str(meta_path.name)] = sha256_bytes(meta_path.read_bytes())
    log.info("read %d documents from %s", len(documents), folder)
    # The line numbers served the messages above. Left in ``attrs``, pandas would deep-copy the
    # list into the result of every operation on the corpus's docvars (O(documents) a lookup).
    metadata.attrs = {}
    return Corpus(documents, metadata, hashes)


# ------------------------------------------------------------------------------------ writing


@contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """Yield a temporary path next to ``target``; rename it over ``target`` only on success."""
    target = Path(target)
    if ".." in target.parts:
        # Output names are built from settings and data (columns, terms): never let one climb out.
        raise InputError(target, "output name leaves the output folder ('..')", "rename the column or term it was built from")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    except OSError as exc:
        raise unwritable(target.parent, exc) from None
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.chmod(tmp_path, 0o644)
        os.replace(tmp_path, target)
    except BaseException as exc:
        tmp_path.unlink(missing_ok=True)
        if isinstance(exc, OSError) and exc.errno in _UNWRITABLE:
            raise unwritable(target.parent, exc) from None
        raise


#: Errors that mean "this folder cannot take the output" (not a bug): full, read-only, no permission.
_UNWRITABLE = {errno.ENOSPC, errno.EROFS, errno.EACCES, errno.EPERM, errno.EDQUOT, errno.EFBIG, errno.ENOTDIR, errno.EEXIST}


def unwritable(folder: Path, exc: OSError) -> InputError:
    """The one-line error for a folder that cannot be written (disk full, read-only, no permission).

    Files already finished stay whole (every write is atomic); the one being written is removed.
    """
    reason = {errno.ENOSPC: "the disk is full", errno.EDQUOT: "the disk quota is used up", errno.EROFS: "the file system is read-only",
              errno.EACCES: "no permission to write there", errno.EPERM: "no permission to write there"}.get(exc.errno, exc.strerror or str(exc))
    return InputError(folder, f"cannot write output ({reason})", "free space or choose a writable folder ([run] output / [run] cache), then run again")


def write_bytes(target: Path, data: bytes) -> Path:
    with atomic_path(target) as tmp:
        tmp.write_bytes(data)
    log.info("wrote %s", target)
    return target


def write_text(target: Path, text: str) -> Path:
    return write_bytes(target, text.encode("utf-8"))


def write_csv(target: Path, table: pd.DataFrame) -> Path:
    """A table as the project's CSV (:func:`analysis.tables.to_csv`), streamed to the file."""
    with atomic_path(target) as tmp:
        with open(tmp, "w", encoding="utf-8", newline="") as handle:
            to_csv(table, handle)
    log.info("wrote %s", target)
    return target


def write_csv_parts(target: Path, parts: Iterable[pd.DataFrame]) -> Path:
    """Tables with the same columns and dtypes as one CSV: the bytes of :func:`write_csv` of their
    concatenation (one header; each part's rows as :func:`analysis.tables.to_csv` writes them),
    with one part in memory at a time."""
    columns = None
    with atomic_path(target) as tmp:
        with open(tmp, "w", encoding="utf-8", newline="") as handle:
            for part in parts:
                first = columns is None
                if first:
                    columns = list(part.columns)
                elif list(part.columns) != columns:
                    raise ValueError(f"{target.name}: a part has columns {list(part.columns)}, not {columns}")
                to_csv(part, handle, header=first)
    log.info("wrote %s", target)
    return target


def write_json(target: Path, data) -> Path:
    return write_text(target, json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True) + "\n")


def write_table(table: pd.DataFrame, stem: Path, formats: Iterable[str] = ("csv", "tex", "md"), caption: str = "") -> list[Path]:
    """Write a table as CSV, booktabs LaTeX and Markdown (``stem`` without suffix).

    The LaTeX caption ends by naming the CSV file that holds the same data.
    """
    stem = Path(stem)
    full_caption = f"{caption.rstrip('.')}. Data: {stem.name}.csv." if caption else ""
    writers = {"tex": lambda t: to_latex(t, caption=full_caption, label=stem.name), "md": to_markdown}
    return [write_csv(Path(f"{stem}.csv"), table) if fmt == "csv" else write_text(Path(f"{stem}.{fmt}"), writers[fmt](table))
            for fmt in formats]


def save_figure(fig, stem: Path, formats: Iterable[str] = ("pdf", "png"), data: pd.DataFrame | None = None) -> list[Path]:
    """Save a figure deterministically (no timestamps) in each format, plus the CSV behind it.

    The one import inside a function: :mod:`analysis.plot` loads matplotlib, which a stage that
    writes no figure (``validate``, ``manifest``) should not pay for.
    """
    from .plot import figure_bytes

    written = []
    for fmt in formats:
        written.append(write_bytes(Path(f"{stem}.{fmt}"), figure_bytes(fig, fmt)))
    if data is not None:
        written.append(write_csv(Path(f"{stem}.csv"), data))
    return written


# -------------------------------------------------------------------------------------- cache


_TMP_COUNTER = itertools.count()
_CHECKSUM_OPEN = b',"sha256":"'
_CHECKSUM_LENGTH = len(_CHECKSUM_OPEN) + 64 + 2


class PreparedCache:
    """Prepared documents on disk as JSON, one file per (text hash, settings key).

    The key covers the text and only the settings that change preparation, so adding documents
    prepares only the new ones and changing an irrelevant setting (stopwords, top-N) prepares
    nothing. JSON, never pickle: a cache folder can be shared without executing anything. Each
    entry is written atomically (temporary file, then rename), so a killed run leaves whole
    entries or none, and concurrent writers of one key write identical bytes.

    Layout: ``<folder>/prepared/<first two hex digits>/<key>.json`` (256 sub-folders keep
    directories small for archives of hundreds of thousands of documents). Each entry's last key
    is ``sha256``, the SHA-256 of the rest of the entry: an entry altered on disk is not used but
    logged and prepared again (:meth:`get_text`).
    """

    def __init__(self, folder: Path):
        self.folder = Path(folder) / "prepared"
        self._root = str(self.folder)

    def __repr__(self) -> str:
        return f"PreparedCache({str(self.folder.parent)!r})"

    def _file(self, key: str) -> str:
        # Plain string paths: a cached re-run looks up every document twice, and building
        # pathlib objects cost a quarter of such a run on 2,225 short English articles.
        return f"{self._root}{os.sep}{key[:2]}{os.sep}{key}.json"

    def path(self, key: str) -> Path:
        return Path(self._file(key))

    def __contains__(self, key: str) -> bool:
        return os.path.isfile(self._file(key))

    def get_text(self, key: str) -> str | None:
        """The stored JSON text, or None if the entry is missing, not UTF-8 or fails its checksum.

        Every entry ends with the SHA-256 of the rest of its text (:meth:`put_text`), so an entry
        altered on disk -- even one still valid JSON, ``Wang`` -> ``wang`` -- is not used: it is
        logged and the caller prepares the document again.
        """
        try:
            with open(self._file(key), "rb") as handle:
                data = handle.read()
        except (FileNotFoundError, NotADirectoryError):
            return None
        text = None
        if len(data) > _CHECKSUM_LENGTH and data[-_CHECKSUM_LENGTH:-66] == _CHECKSUM_OPEN:
            body = data[:-_CHECKSUM_LENGTH] + b"}"
            if hashlib.sha256(body).hexdigest().encode() == data[-66:-2]:
                try:
                    text = body.decode("utf-8")
                except UnicodeDecodeError:
                    pass
        if text is None:
            log.warning("cache: entry %s does not match its checksum (changed on disk?); preparing the document again", self._file(key))
        return text

    def put_text(self, key: str, text: str) -> None:
        """Store JSON text atomically (no log line: an archive has one entry per document).

        Same contract as :func:`atomic_path` (a temporary file beside the entry, renamed over it
        only once fully written), with plain ``os`` calls: one entry per document makes the
        per-call cost of ``tempfile`` and ``pathlib`` show in a run. The temporary name is unique
        per process and call, opened with ``O_EXCL``.
        """
        target = self._file(key)
        tmp = f"{target}.{os.getpid()}.{next(_TMP_COUNTER)}.tmp"
        data = text.encode("utf-8")
        if not data.endswith(b"}"):
            raise ValueError("a cache entry is a JSON object")
        # The checksum rides as the object's last key: the entry stays plain JSON.
        data = data[:-1] + _CHECKSUM_OPEN + hashlib.sha256(data).hexdigest().encode() + b'"}'
        try:
            try:
                fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            except FileNotFoundError:  # first entry in this sub-folder
                os.makedirs(os.path.dirname(target), exist_ok=True)
                fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except OSError as exc:
            raise unwritable(self.folder.parent, exc) from None
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(tmp, target)
        except BaseException as exc:
            try:
                os.unlink(tmp)
            except FileNotFoundError:
                pass
            if isinstance(exc, OSError) and exc.errno in _UNWRITABLE:
                raise unwritable(self.folder.parent, exc) from None
            raise

    def get(self, key: str):
        text = self.get_text(key)
        try:
            return None if text is None else json.loads(text)
        except json.JSONDecodeError:
            return None

    def put(self, key: str, value) -> None:
        self.put_text(key, json.dumps(value, ensure_ascii=False, separators=(",", ":")))


# ------------------------------------------------------------------ parallel sample (issue 12)


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
                raise InputError(f"{path} line {i}", "empty line: every line must be a sentence with its translation on the same line of the other file",
                                 "remove the pair from both files or fill in the missing side")
        lines[lang] = [r.strip() for r in rows]
    n_en, n_vi = len(lines["en"]), len(lines["vi"])
    if n_en != n_vi:
        raise InputError(folder / "vi.txt", f"{n_vi} lines, but en.txt has {n_en}: the files are not line-aligned",
                         "line i of vi.txt must be the translation of line i of en.txt")
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
        raise InputError(f"{path} line 1", f"header must be {','.join(header)}", "write the header doc_id,start_line,end_line")
    docs: list[tuple[str, int, int]] = []
    seen: set[str] = set()
    for number, row in enumerate(rows[1:], start=2):
        if not row or not any(c.strip() for c in row):
            continue
        where = f"{path} line {number}"
        if len(row) != 3:
            raise InputError(where, f"{len(row)} fields, expected 3 (doc_id,start_line,end_line)", "write three comma-separated fields")
        doc_id, start, end = (c.strip() for c in row)
        if not doc_id:
            raise InputError(where, "empty doc_id", "give every document an id")
        if doc_id in seen:
            raise InputError(where, f"duplicate doc_id '{doc_id}'", "give every document its own id")
        seen.add(doc_id)
        try:
            a, b = int(start), int(end)
        except ValueError:
            raise InputError(where, f"start_line '{start}' and end_line '{end}' must be whole numbers", "write 1-based line numbers") from None
        if not 1 <= a <= b <= n_lines:
            raise InputError(where, f"lines {a}-{b} are not a range inside 1-{n_lines}", f"use 1 <= start_line <= end_line <= {n_lines}")
        docs.append((doc_id, a, b))
    if not docs:
        raise InputError(path, "no documents", "list at least one doc_id,start_line,end_line row, or remove docs.csv")
    ordered = sorted(docs, key=lambda d: d[1])
    for (id_a, _, end_a), (id_b, start_b, _) in zip(ordered, ordered[1:]):
        if start_b <= end_a:
            raise InputError(path, f"documents '{id_a}' and '{id_b}' overlap (line {start_b})", "give every line to at most one document")
    return docs


def learned_problems_of(study: Study, corpus: Corpus, preparation) -> list[InputError]:
    """:func:`analysis.learned_boilerplate.learned_problems` for ``validate`` (one problem each).

    A table source read without its texts (``spill=False``) is read again into a scratch cache
    in a temporary folder, removed afterwards (nothing is written in the project), so the
    learned rules can be tried on its texts; those texts get the rule-file checks of
    :func:`analysis.prepare.check_documents` too.
    """
    import dataclasses

    from .learned_boilerplate import learned_problems
    from .prepare import check_documents
    from .sources import PackedDocument

    if not (study.text.learn_boilerplate or study.corpus.drop_duplicates):
        return []
    if all(not isinstance(d, PackedDocument) or d.pack for d in corpus.documents):
        return learned_problems(study, corpus, preparation)
    with tempfile.TemporaryDirectory(prefix="analysis-validate-") as scratch:
        scratch_study = dataclasses.replace(study, run=dataclasses.replace(study.run, cache=scratch))
        full = read_corpus(scratch_study)
        check_documents(full.documents, preparation)
        return learned_problems(scratch_study, full, preparation)
