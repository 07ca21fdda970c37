"""The corpus: validated metadata and the documents it lists.

Validation is strict because every later number depends on it: a file that cannot be decoded, is
empty or binary, lies outside the corpus folder, a duplicate id, a missing column or an unknown
language code each stop the run with one line naming the file or row and the fix. Inputs are
never modified.

Encodings: strict UTF-8 (a UTF-8 BOM is fine; UTF-16 with a BOM is recognised, UTF-16 without one
is decoded when declared and named as such when not). Legacy Vietnamese
encodings (cp1258, VISCII, TCVN3 ...) must be *declared*, per corpus in the study file or per file
in a metadata column ``encoding``, because charset detectors mislabel them.
"""

from __future__ import annotations

import codecs
import hashlib
import re
import unicodedata
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import PurePosixPath, PureWindowsPath
from typing import Iterator

import pandas as pd

from ..errors import InputError

REQUIRED_COLUMNS = ("doc_id", "file", "language")
LANGUAGES = ("vi", "en")

# Letters that occur in Vietnamese but not in English text (precomposed, after NFC).
#: Control characters a metadata cell may not hold (tab, newline and carriage return may: a multi-line title).
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

_VI_LETTERS = re.compile("[ăâđêôơưàáảãạằắẳẵặầấẩẫậèéẻẽẹềếểễệìíỉĩịòóỏõọồốổỗộờớởỡợùúủũụừứửữựỳýỷỹỵ]", re.IGNORECASE)


def text_sha256(text: str) -> str:
    """SHA-256 of a decoded text's UTF-8 bytes: what the preparation cache key is made of."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True)
class Document:
    """One article: id, language, decoded text and its metadata row (all values as strings).

    A corpus read from disk holds :class:`analysis.files.StoredDocument` instead, which has the same
    attributes but keeps the text in its file until asked for.
    """

    doc_id: str
    language: str
    text: str
    meta: dict = field(default_factory=dict)

    @cached_property
    def text_sha256(self) -> str:
        return text_sha256(self.text)

    @property
    def size(self) -> int:
        """Length of the text in characters (how preparation cuts batches)."""
        return len(self.text)


@dataclass
class Corpus:
    """Documents in metadata order and the metadata table (``doc_id`` as the index).

    ``docvars`` holds the grouping variables for every document; ``file_hashes`` the SHA-256 of
    every input file as read (for the run manifest); ``record_hashes`` the SHA-256 of each
    document's record (text and metadata) when it came from a table (:mod:`analysis.corpus.sources`).
    """

    documents: list  # of Document, analysis.files.StoredDocument or analysis.corpus.doctable.PackedDocument
    docvars: pd.DataFrame
    file_hashes: dict = field(default_factory=dict)
    record_hashes: dict = field(default_factory=dict)

    def __iter__(self) -> Iterator[Document]:
        return iter(self.documents)

    def __len__(self) -> int:
        return len(self.documents)

    @property
    def doc_ids(self) -> list[str]:
        return [d.doc_id for d in self.documents]

    @property
    def dates(self) -> pd.Series:
        """Publication dates as ``datetime64`` by doc_id (``NaT`` = no date; all ``NaT`` without
        a ``date`` column). Read from the ISO strings :mod:`analysis.corpus.sources` leaves in docvars."""
        values = self.docvars["date"] if "date" in self.docvars.columns else pd.Series("", index=self.docvars.index)
        return pd.to_datetime(values.replace("", None), format="%Y-%m-%d").rename("date")


def decode_text(raw: bytes, where: str, encoding: str = "utf-8") -> str:
    """Decode one file's bytes strictly; errors name the byte offset and suggest the fix.

    >>> decode_text("Hòa bình".encode("utf-8"), "a.txt")
    'Hòa bình'
    >>> decode_text(b"\\xef\\xbb\\xbfABC", "a.txt")
    'ABC'
    """
    if not raw.strip():
        raise InputError(where, "file is empty", "remove it from the metadata or add its text")
    if raw.startswith(codecs.BOM_UTF16_LE) or raw.startswith(codecs.BOM_UTF16_BE):
        encoding = "utf-16"
    elif raw.startswith(codecs.BOM_UTF8):
        raw = raw[len(codecs.BOM_UTF8) :]
        encoding = "utf-8"
    elif b"\x00" in raw and not encoding.strip().lower().replace("_", "-").startswith(
        ("utf-16", "utf-32", "utf16", "utf32")
    ):
        offset = raw.index(b"\x00")
        kind = utf16_kind(raw)
        if kind:
            raise InputError(
                where,
                f"looks like {kind.upper()} text without a byte-order mark (NUL bytes in every other position)",
                (
                    f"declare encoding '{kind}' in the metadata column 'encoding' or in [corpus] "
                    "encoding, or save it as UTF-8"
                ),
            )
        raise InputError(
            where, f"binary file (NUL byte at byte offset {offset})", "give a plain-text export of the article"
        )
    encoding = check_encoding(encoding, where)
    try:
        text = raw.decode(encoding, errors="strict")
    except UnicodeDecodeError as exc:
        raise InputError(
            where,
            f"cannot be decoded as {encoding} at byte offset {exc.start}",
            "declare its encoding (e.g. cp1258, viscii) in the metadata column 'encoding' "
            "or in [corpus] encoding of the study file",
        ) from None
    if not text.strip():
        raise InputError(where, "file is empty", "remove it from the metadata or add its text")
    return text


def check_encoding(encoding: str, where: str) -> str:
    """The declared codec name, stripped and lower-cased ("utf-8" when empty), after checking that
    Python (with the Vietnamese codecs of :func:`_register_extra_codecs`) knows it; otherwise one
    clear line naming ``where`` (legacy TCVN3/VNI have no codec: convert the file first).

    >>> check_encoding(" CP1258 ", "a.txt")
    'cp1258'
    """
    encoding = encoding.strip().lower() or "utf-8"
    try:
        codecs.lookup(encoding)
    except LookupError:
        _register_extra_codecs()
        try:
            codecs.lookup(encoding)
        except LookupError:
            hint = "declare a Python codec name such as utf-8, cp1258 or viscii"
            if encoding.replace("-", "").replace("_", "") in {"tcvn", "tcvn3", "abc", "vni", "vps"}:
                hint = f"{encoding} has no codec here: convert the file to UTF-8 first (e.g. with Unikey's converter)"
            raise InputError(where, f"unknown encoding '{encoding}'", hint) from None
    return encoding


def _register_extra_codecs() -> None:
    """VISCII is not a Python built-in codec; the ``viscii-codec`` package (module ``viscii``, a
    charmap generated from Unicode's VISCII.TXT) registers it on import."""
    try:
        import viscii  # noqa: F401
    except ImportError:
        pass


def utf16_kind(raw: bytes) -> str:
    """``'utf-16'`` (with a BOM), ``'utf-16-le'``/``'utf-16-be'`` when NUL bytes sit in every other
    position as in BOM-less UTF-16 of mostly Latin text, else ``''``."""
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    sample = raw[:4096]
    if len(sample) < 4 or b"\x00" not in sample:
        return ""
    even, odd = sample[0::2], sample[1::2]
    if odd.count(0) >= 0.4 * len(odd) and even.count(0) <= 0.05 * len(even):
        return "utf-16-le"
    if even.count(0) >= 0.4 * len(even) and odd.count(0) <= 0.05 * len(odd):
        return "utf-16-be"
    return ""


def vietnamese_share(text: str) -> float:
    """Share of letters that are Vietnamese-only letters (0 for English, ~0.3 for Vietnamese)."""
    letters = sum(1 for c in text if c.isalpha())
    if not letters:
        return 0.0
    return len(_VI_LETTERS.findall(text)) / letters


def guess_language(text: str) -> str:
    """``'vi'`` if more than 5% of letters are Vietnamese-only letters, else ``'en'``."""
    return "vi" if vietnamese_share(text) > 0.05 else "en"


def check_relative_path(name: str, where: str) -> None:
    """Reject absolute paths and ``..`` in a metadata ``file`` entry (before touching the disk)."""
    if not name or not name.strip():
        raise InputError(where, "empty 'file'", "give the file name relative to the corpus folder")
    for flavour in (PurePosixPath(name), PureWindowsPath(name)):
        if flavour.is_absolute() or flavour.drive or name.startswith(("/", "\\")):
            raise InputError(where, f"file '{name}' is an absolute path", "give the path relative to the corpus folder")
        if ".." in flavour.parts:
            raise InputError(
                where, f"file '{name}' points outside the corpus folder ('..')", "move the file into the corpus folder"
            )


def validate_metadata(
    table: pd.DataFrame, *, where: str, languages: tuple[str, ...] = LANGUAGES, lines: list[int] | None = None
) -> pd.DataFrame:
    """Check the metadata table; return it with ``doc_id`` as a string index.

    Errors: a missing required column, an empty or duplicate ``doc_id``, an unknown language code,
    an unsafe ``file`` path. Rows are reported by their line number in the CSV file (header = 1):
    ``lines`` gives the line each row starts on when a quoted field spans lines.
    """
    missing = [c for c in REQUIRED_COLUMNS if c not in table.columns]
    if missing:
        raise InputError(
            where,
            f"missing required column '{missing[0]}'",
            f"the header must contain {', '.join(REQUIRED_COLUMNS)}",
        )
    table = table.fillna("").astype(str)
    table = table.assign(
        doc_id=[unicodedata.normalize("NFC", v.strip()) for v in table["doc_id"]]
    )  # Hòa NFC and NFD: one id
    seen: dict[str, int] = {}
    for position, row in zip(lines or range(2, len(table) + 2), table.itertuples(index=False)):
        label = f"{where} line {position}"
        doc_id = row.doc_id
        if not doc_id:
            raise InputError(label, "empty doc_id", "give every document an id")
        for column, value in zip(table.columns, row):
            found = _CONTROL.search(value)
            if found:
                raise InputError(
                    label,
                    (
                        f"control character U+{ord(found.group()):04X} in column '{column}' of doc_id "
                        f"'{doc_id}' (offset {found.start()})"
                    ),
                    "remove it from the cell (save the metadata again as plain text)",
                )
        if doc_id in seen:
            raise InputError(
                label, f"duplicate doc_id '{doc_id}' (first on line {seen[doc_id]})", "make every doc_id unique"
            )
        seen[doc_id] = position
        if row.language not in languages:
            raise InputError(
                label,
                f"unknown language code '{row.language}' for doc_id '{doc_id}'",
                f"use one of {', '.join(languages)}",
            )
        check_relative_path(row.file, label)
    return table.set_index("doc_id", drop=False)
