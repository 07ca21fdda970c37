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
import zipfile
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Iterable, Iterator, Mapping

import numpy as np
import pandas as pd

from .errors import InputError, write_failure
from .paper.tables import neutralise_formulas, restore_formulas, to_csv, to_latex, to_markdown
from .study.outputs import DATA_FORMATS, data_name
from .study.settings import Study, parse_study, raise_all, study_toml

log = logging.getLogger("analysis")

RESOURCES = resources.files("analysis") / "resources"


# ------------------------------------------------------------------------------------ reading


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


#: Bytes hashed at a time: an output or input of hundreds of MB (a word-keyness table, a corpus
#: export) is never read whole.
HASH_BLOCK = 1 << 20


def sha256_file(path: Path) -> str:
    """The SHA-256 of a file, hex, read :data:`HASH_BLOCK` bytes at a time (memory bounded by the
    block, not by the file)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(HASH_BLOCK):
            digest.update(block)
    return digest.hexdigest()


def study_problems(path: str | Path) -> tuple[Study | None, list[InputError]]:
    """The study file read, and every problem with it: its keys, its values, its output folder
    (the metadata columns it names are checked when the corpus is read)."""
    path = Path(path)
    if not path.is_file():
        return None, [InputError(path, "study file not found", "give the path of a study TOML file (e.g. study.toml)")]
    try:
        study, problems = parse_study(
            decode_utf8(path.read_bytes(), where=path, fix="save the study file as UTF-8"), path
        )
    except InputError as exc:
        return None, [exc]
    overlap = study_path_problems(study)  # the output is an input (the metadata ...): say that, once
    if not overlap and study.run.output.strip() and study.output_dir.exists() and not study.output_dir.is_dir():
        problems.append(
            InputError(
                path,
                f"[run] output = '{study.run.output}' is an existing file, not a folder",
                'name a folder for the outputs, e.g. output = "figures"',
            )
        )
    problems.extend(overlap)
    return study, problems


def study_path_problems(study: Study) -> list[InputError]:
    """An output folder that is, holds or lies inside an input, and output names built from
    settings that could leave the output folder (:mod:`analysis.study.safety`): found before anything
    is written."""
    from .study import safety

    problems = []
    settings = study.as_dict()
    if study.run.output.strip():  # an empty output is study.py's problem (one message, not two)
        reason = safety.check_output(Path(study.source), settings)
        if reason:
            problems.append(
                InputError(study.source, reason, 'give the outputs a folder of their own, e.g. output = "figures"')
            )
    reason = safety.check_names(settings)
    if reason:
        problems.append(
            InputError(
                study.source, reason, "rename the metadata column (letters, digits, _ - .) and the setting with it"
            )
        )
    return problems


def read_study(path: str | Path) -> Study:
    """The study file, every value checked (:func:`analysis.study.settings.setting_problems`); raises on any problem."""
    study, problems = study_problems(path)
    raise_all(problems)
    return study


def write_study(
    folder: Path,
    settings: Mapping | str,
    *,
    metadata: Iterable[Mapping[str, str]] | None = None,
    metadata_name: str = "metadata.csv",
) -> Path:
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


def decode_utf8(raw: bytes, *, where, what: str = "", fix: str = "save the file as UTF-8") -> str:
    """UTF-8 text (a byte-order mark dropped), or one :class:`InputError` naming the byte offset.

    The one place a study, resource or metadata file is decoded; ``what`` names it in the message.
    """
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(where, f"{what + ' is ' if what else ''}not UTF-8 at byte offset {exc.start}", fix) from None


def _read_utf8(path: Path) -> str:
    return decode_utf8(path.read_bytes(), where=path)


def read_word_list(text: str) -> list[str]:
    """One entry a line; ``#`` starts a comment line; blank lines are ignored."""
    return [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]


# ------------------------------------------------------------------------------------ writing


@contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """Yield a temporary path next to ``target``; rename it over ``target`` only on success."""
    target = Path(target)
    if ".." in target.parts:
        # Output names are built from settings and data (columns, terms): never let one climb out.
        raise InputError(
            target, "output name leaves the output folder ('..')", "rename the column or term it was built from"
        )
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
_UNWRITABLE = {
    errno.EISDIR,  # a file to replace is a folder (a cache entry replaced by one)
    errno.ENOSPC,
    errno.EROFS,
    errno.EACCES,
    errno.EPERM,
    errno.EDQUOT,
    errno.EFBIG,
    errno.ENOTDIR,
    errno.EEXIST,
}


def unwritable(folder: Path, exc: OSError) -> InputError:
    """The one-line error for a folder that cannot be written (disk full, read-only, no permission).

    Files already finished stay whole (every write is atomic); the one being written is removed.
    """
    name = Path(exc.filename2 or exc.filename or "").name
    reason = write_failure(exc, is_folder=f"'{name}' there is a folder, not a file: remove it")
    return InputError(
        folder,
        f"cannot write output ({reason})",
        "free space or choose a writable folder ([run] output / [run] cache), then run again",
    )


def scratch_folder(parent: Path, prefix: str) -> Path:
    """A new empty folder ``<prefix><host>-<pid>-<random>`` in ``parent`` (which must exist) for
    files a run moves into place or removes when it ends, after removing every folder of that
    prefix left by a run of this machine whose process no longer exists.

    Why: a run stopped by SIGKILL, the out-of-memory killer or a power cut cannot remove its own
    scratch folder (a hidden ``.writing-`` folder in the output folder, ``topic-fits-`` in the
    cache); the next run does, without touching the folder of a run still going (its process is
    alive: ``os.kill(pid, 0)``) or of another machine sharing the folder (another host name). A
    process id reused since only keeps an old folder a while longer.
    """
    import shutil
    import socket

    host = socket.gethostname().replace("-", "_") or "host"
    for old in parent.glob(f"{prefix}*"):
        parts = old.name[len(prefix) :].split("-")
        if len(parts) == 3 and parts[0] == host and parts[1].isdigit() and not _running(int(parts[1])):
            shutil.rmtree(old, ignore_errors=True)
    return Path(tempfile.mkdtemp(prefix=f"{prefix}{host}-{os.getpid()}-", dir=parent))


def _running(pid: int) -> bool:
    """Whether a process with this id exists on this machine (one we may not signal counts)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def write_bytes(target: Path, data: bytes) -> Path:
    with atomic_path(target) as tmp:
        tmp.write_bytes(data)
    log.info("wrote %s", target)
    return target


def write_text(target: Path, text: str) -> Path:
    return write_bytes(target, text.encode("utf-8"))


def write_csv(target: Path, table: pd.DataFrame) -> Path:
    """A table as the project's CSV (:func:`analysis.paper.tables.to_csv`), streamed to the file."""
    with atomic_path(target) as tmp:
        with open(tmp, "w", encoding="utf-8", newline="") as handle:
            to_csv(table, handle)
    log.info("wrote %s", target)
    return target


def write_csv_parts(target: Path, parts: Iterable[pd.DataFrame]) -> Path:
    """Tables with the same columns and dtypes as one CSV: the bytes of :func:`write_csv` of their
    concatenation (one header; each part's rows as :func:`analysis.paper.tables.to_csv` writes them),
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


#: gzip level of a ``.csv.gz``: zlib's default, near level 9's size on the word tables at half its time
#: (benchmarks/README.md, the scale section).
GZIP_LEVEL = 6
#: Rows per Parquet row group: fixed, so the same table gives the same bytes whether it is written
#: whole or in parts (a row group is never cut where a part ends).
PARQUET_ROW_GROUP = 65536
#: Parquet column compression and its level (fixed: the level changes the bytes).
PARQUET_COMPRESSION = "zstd"
PARQUET_LEVEL = 3


def _arrow_schema(table: pd.DataFrame):
    """The Arrow schema of a table from its pandas dtypes alone (text columns are ``string``
    whatever their cells), so that the parts of one table get one schema: an object column that
    is all missing in one part is not ``null`` there and ``string`` in the next. No pandas
    metadata (it names the pandas version)."""
    import pyarrow as pa

    fields = []
    for position, name in enumerate(table.columns):
        column = table.iloc[:, position]
        if column.dtype == object or isinstance(column.dtype, pd.StringDtype):
            kind = pa.string()
        else:
            kind = pa.Schema.from_pandas(column.to_frame(), preserve_index=False).field(0).type
        fields.append(pa.field(str(name), kind))
    return pa.schema(fields)


def _arrow_table(table: pd.DataFrame, schema):
    """``table`` as an Arrow table of ``schema``, one contiguous chunk per column; text columns
    holding other objects (numbers among words) are written as the CSV shows them (``str``)."""
    import pyarrow as pa

    frame = table.set_axis([str(c) for c in table.columns], axis=1)
    try:
        arrow = pa.Table.from_pandas(frame, schema=schema, preserve_index=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        frame = frame.copy()
        for field in schema:
            if field.type == pa.string():
                frame[field.name] = frame[field.name].map(lambda v: v if isinstance(v, str) or pd.isna(v) else str(v))
        arrow = pa.Table.from_pandas(frame, schema=schema, preserve_index=False)
    return arrow.replace_schema_metadata(None).combine_chunks()


class _ParquetSink:
    """Rows appended part by part, written in row groups of exactly :data:`PARQUET_ROW_GROUP` rows
    (the last one shorter), each from one contiguous chunk: the bytes depend on the rows, not on
    where the parts were cut. ``created_by`` names the pyarrow version; nothing names a time."""

    def __init__(self, path: Path):
        self.path, self.writer, self.schema, self.pending, self.rows = path, None, None, [], 0

    def write(self, part: pd.DataFrame) -> None:
        import pyarrow as pa

        if self.schema is None:
            self.schema = _arrow_schema(part)
        self.pending.append(_arrow_table(part, self.schema))
        self.rows += len(part)
        while self.rows >= PARQUET_ROW_GROUP:
            whole = pa.concat_tables(self.pending)
            self._flush(whole.slice(0, PARQUET_ROW_GROUP))
            rest = whole.slice(PARQUET_ROW_GROUP)
            self.pending, self.rows = [rest], rest.num_rows

    def _flush(self, rows) -> None:
        import pyarrow.parquet as pq

        if self.writer is None:
            self.writer = pq.ParquetWriter(
                self.path,
                self.schema,
                compression=PARQUET_COMPRESSION,
                compression_level=PARQUET_LEVEL,
                use_dictionary=True,
                write_statistics=True,
            )
        self.writer.write_table(rows.combine_chunks(), row_group_size=PARQUET_ROW_GROUP)

    def close(self) -> None:
        import pyarrow as pa

        if self.schema is None:
            raise ValueError(f"{self.path.name}: a table needs at least one part (its columns)")
        if self.rows or self.writer is None:  # the last rows; an empty table is its schema alone
            self._flush(pa.concat_tables(self.pending) if self.pending else self.schema.empty_table())
        self.writer.close()


class _CsvSink:
    """The project's CSV (:func:`analysis.paper.tables.to_csv`), plain or gzip-compressed: a
    ``.csv.gz`` is gzip (RFC 1952) at :data:`GZIP_LEVEL` with no file name and a zero time in its
    header, so the same rows give the same bytes, and it decompresses to the bytes of the ``.csv``."""

    def __init__(self, path: Path, compressed: bool):
        import gzip

        self.raw = open(path, "wb")
        self.gzip = (
            gzip.GzipFile(filename="", mode="wb", fileobj=self.raw, mtime=0, compresslevel=GZIP_LEVEL)
            if compressed
            else None
        )
        self.text = _io.TextIOWrapper(self.gzip or self.raw, encoding="utf-8", newline="")
        self.first = True

    def write(self, part: pd.DataFrame) -> None:
        to_csv(part, self.text, header=self.first)
        self.first = False

    def close(self) -> None:
        self.text.flush()
        self.text.detach()
        if self.gzip is not None:
            self.gzip.close()  # writes the trailer; leaves the file open
        self.raw.close()

    def abort(self) -> None:
        self.raw.close()


def write_data(stem: Path, parts: Iterable[pd.DataFrame], *, formats: Iterable[str] = ("csv",)) -> list[Path]:
    """One table, every row, in each of ``formats`` (:data:`DATA_FORMATS`: ``stem.csv``,
    ``stem.csv.gz``, ``stem.parquet``), from ``parts``: DataFrames with the same columns and
    dtypes, read once and written one after the other (the bytes of writing their concatenation),
    so a table of millions of rows is never whole in memory. Each file is written atomically.

    The CSV forms hold the project's CSV (floats to 10 significant digits, formula-leading text
    cells prefixed by an apostrophe: :func:`analysis.paper.tables.to_csv`); the Parquet file holds
    the values themselves (64-bit floats, text as it is), typed by the table's dtypes, without
    pandas metadata, compressed with :data:`PARQUET_COMPRESSION`. :func:`read_output` reads any of
    them back.
    """
    from contextlib import ExitStack

    stem = Path(stem)
    formats = list(dict.fromkeys(formats))
    unknown = [f for f in formats if f not in DATA_FORMATS]
    if unknown:
        raise ValueError(f"{stem.name}: not a data format: {unknown[0]} (one of {', '.join(DATA_FORMATS)})")
    targets = [Path(f"{stem}.{fmt}") for fmt in formats]
    with ExitStack() as stack:
        tmps = [stack.enter_context(atomic_path(target)) for target in targets]
        sinks = [
            _ParquetSink(tmp) if fmt == "parquet" else _CsvSink(tmp, fmt == "csv.gz") for fmt, tmp in zip(formats, tmps)
        ]
        columns = None
        try:
            for part in parts:
                if columns is None:
                    columns = list(part.columns)
                elif list(part.columns) != columns:
                    raise ValueError(f"{stem.name}: a part has columns {list(part.columns)}, not {columns}")
                for sink in sinks:
                    sink.write(part)
            for sink in sinks:
                sink.close()
        except BaseException:
            for sink in sinks:
                if isinstance(sink, _CsvSink):
                    sink.abort()
                elif sink.writer is not None:
                    sink.writer.close()
            raise
    for target in targets:
        log.info("wrote %s", target)
    return targets


def read_output(path: str | Path, *, dtype=None) -> pd.DataFrame:
    """A table the toolkit wrote, from its ``.csv``, ``.csv.gz`` or ``.parquet`` alike: the same
    columns and rows whichever file is read.

    Text cells come back as written (formula-leading cells without the CSV's protective
    apostrophe: :func:`analysis.paper.tables.restore_formulas`; ``NA``, ``null`` and ``nan`` stay
    words) and an empty text cell is ``""`` in every form; an empty number is NaN, and so is every
    cell of a column with no value at all (a CSV cannot say whether it held text). A CSV's column
    types are pandas's inference (a column of years reads as numbers): ``dtype`` (as
    :func:`pandas.read_csv` takes it) fixes them, and is applied to a Parquet file's columns too.
    Numbers in a CSV have 10 significant digits, in Parquet all of a 64-bit float. A file that
    cannot be read is one :class:`InputError` naming it.

    >>> import analysis as va  # doctest: +SKIP
    >>> va.read_output("figures/keyness_words_vi_by_outlet.parquet")  # doctest: +SKIP
    """
    path = Path(path)
    name = path.name.lower()
    try:
        if name.endswith(".parquet"):
            import pyarrow.parquet as pq

            table = pq.read_table(path).to_pandas()
            if dtype is not None:
                table = table.astype(dtype)
        elif name.endswith((".csv", ".csv.gz")):
            table = restore_formulas(
                pd.read_csv(path, dtype=dtype, keep_default_na=False, na_values=[""], encoding="utf-8")
            )
        else:
            raise InputError(path, "not a table this toolkit writes", "give a .csv, .csv.gz or .parquet file")
    except InputError:
        raise
    except (OSError, UnicodeDecodeError, ValueError, pd.errors.ParserError) as exc:
        raise InputError(
            path, f"cannot read the table ({type(exc).__name__}: {exc})", "run the stage that writes it again"
        ) from None
    for position, name in enumerate(table.columns):
        column = table.iloc[:, position]
        if column.dtype == object or isinstance(column.dtype, pd.StringDtype):
            blank = column.isna() | column.eq("")
            # a column with no value at all is empty numbers, as a CSV cannot say it was text
            table.isetitem(position, pd.Series(np.nan, index=table.index) if blank.all() else column.fillna(""))
    return table


def write_json(target: Path, data) -> Path:
    return write_text(target, json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True) + "\n")


#: The one timestamp an .xlsx carries (its zip entries and document properties): the DOS epoch.
XLSX_TIME = (1980, 1, 1, 0, 0, 0)


def xlsx_bytes(table: pd.DataFrame, *, sheet: str = "codes") -> bytes:
    """A table as an Excel workbook (openpyxl), byte-identical for the same table.

    openpyxl stamps the save time into ``docProps/core.xml`` (``dcterms:modified``) and into every
    zip entry; both are rewritten to :data:`XLSX_TIME`, and the creator is fixed, so a re-run
    writes the same bytes (as the figures and tables do). Cells hold text or numbers; missing
    values are empty cells. Raises ImportError without openpyxl.
    """
    import re
    from datetime import datetime

    import openpyxl

    table = neutralise_formulas(table)  # openpyxl stores a text starting with "=" as a formula
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = sheet
    ws.append([str(c) for c in table.columns])
    for row in table.itertuples(index=False):
        ws.append(
            [None if (not isinstance(v, str) and pd.isna(v)) else (v.item() if hasattr(v, "item") else v) for v in row]
        )
    fixed = datetime(*XLSX_TIME)
    book.properties.creator = "analysis"
    book.properties.lastModifiedBy = None
    book.properties.created = fixed
    book.properties.modified = fixed
    raw = _io.BytesIO()
    book.save(raw)
    out = _io.BytesIO()
    stamp = fixed.strftime("%Y-%m-%dT%H:%M:%SZ")
    with zipfile.ZipFile(_io.BytesIO(raw.getvalue())) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "docProps/core.xml":
                data = re.sub(
                    rb"(<dcterms:(?:modified|created)[^>]*>)[^<]*(</dcterms:)",
                    lambda m: m.group(1) + stamp.encode() + m.group(2),
                    data,
                )
            entry = zipfile.ZipInfo(info.filename, date_time=XLSX_TIME)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = info.external_attr
            dst.writestr(entry, data)
    return out.getvalue()


def read_coding_sheet(path: Path) -> pd.DataFrame:
    """A filled-in coding sheet (.csv, or .xlsx with openpyxl) with every cell as text ("" when
    blank), so that the checks (:func:`analysis.validation.sheets.check_codes`) see what the coder
    typed, not what pandas guessed. Raises :class:`InputError` for an unreadable file."""
    path = Path(path)
    try:
        if path.suffix.lower() == ".xlsx":
            import openpyxl

            book = openpyxl.load_workbook(path, read_only=True, data_only=True)
            rows = [
                ["" if v is None else (str(int(v)) if isinstance(v, float) and v.is_integer() else str(v)) for v in row]
                for row in book.worksheets[0].iter_rows(values_only=True)
            ]
            book.close()
            if not rows:
                raise InputError(path, "the sheet is empty", "use the sheet as it was sent out, filled in")
            return restore_formulas(pd.DataFrame(rows[1:], columns=rows[0], dtype=object))
        return restore_formulas(pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig"))
    except InputError:
        raise
    except (OSError, UnicodeDecodeError, ValueError, KeyError, pd.errors.ParserError, zipfile.BadZipFile) as exc:
        raise InputError(
            path,
            f"cannot read the coding sheet ({type(exc).__name__}: {exc})",
            "save it as CSV (UTF-8) or .xlsx with the header row as it was sent out",
        ) from None


#: Rows of a standalone .tex/.md table; the CSV beside it has every row. A table per document is
#: one row per document and term (10,000 articles: a 16 MB .tex, 6 MB .md, unreadable as text
#: and too long to typeset); the first rows show its shape, the CSV is the data.
TEXT_ROWS = 1000


def write_table(
    table: pd.DataFrame,
    stem: Path,
    *,
    formats: Iterable[str] = ("csv", "tex", "md"),
    caption: str = "",
    data: str = "",
) -> list[Path]:
    """Write a table as CSV, booktabs LaTeX and Markdown (``stem`` without suffix); ``formats`` may
    also hold ``csv.gz`` and ``parquet`` (:func:`write_data`: every row, written in one pass).

    The LaTeX caption ends by naming the file that holds the same data (``data``; default
    :func:`data_name`); .tex and .md show at most :data:`TEXT_ROWS` rows and say where every row is.
    """
    stem = Path(stem)
    formats = list(formats)
    source = data or data_name(stem.name, formats)
    full_caption = f"{caption.rstrip('.')}. Data: {source}." if caption else ""
    writers = {
        "tex": lambda t: to_latex(t, caption=full_caption, label=stem.name, max_rows=TEXT_ROWS, source=source),
        "md": lambda t: to_markdown(t, max_rows=TEXT_ROWS, source=source),
    }
    packed = [fmt for fmt in formats if fmt in ("csv.gz", "parquet")]
    written = dict(zip(packed, write_data(stem, [table], formats=packed))) if packed else {}
    return [
        written[fmt]
        if fmt in written
        else write_csv(Path(f"{stem}.csv"), table)
        if fmt == "csv"
        else write_text(Path(f"{stem}.{fmt}"), writers[fmt](table))
        for fmt in formats
    ]


def save_figure(
    fig, stem: Path, *, formats: Iterable[str] = ("pdf", "png"), data: pd.DataFrame | None = None
) -> list[Path]:
    """Save a figure deterministically (no timestamps) in each format, plus the CSV behind it.

    The one import inside a function: :mod:`analysis.plots.base` loads matplotlib, which a stage that
    writes no figure (``validate``, ``manifest``) should not pay for.
    """
    from .plots.base import figure_bytes

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
            log.warning(
                "cache: entry %s does not match its checksum (changed on disk?); preparing the document again",
                self._file(key),
            )
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


# ------------------------------------------------------------------ parallel sample
