"""Pure ``str -> str`` normalisation: one canonical form for every text, stopword list and lexicon.

Why: the same Vietnamese word reaches us in several byte sequences (NFD vs NFC, "hoà" vs "hòa",
Icelandic Ð U+00D0 for Đ U+0110, CRLF line ends). Counting them apart would split one word into
several types and corrupt every frequency downstream.

Canonical tone-mark style is underthesea's (``text_normalize``: "hóa", "thủy", "ủy"), applied
syllable by syllable so spacing and underscores are left alone. Accents are never stripped
(bán/bạn/ban/bàn are different words).
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from ..errors import InputError

#: Bumped whenever the output of :func:`canonical_text` or :func:`canonical_vi` changes, so the
#: prepared-document cache is invalidated.
NORMALIZE_VERSION = "2"  # 2: bidirectional marks and embeddings removed like other invisible characters

#: Zero-width characters, soft hyphen, and the bidirectional marks, embeddings, overrides and
#: isolates (LRM, RLM, ALM, LRE ... RLO, PDF, LRI ... PDI): none is visible text, and one inside a
#: word made two types of one word.
_INVISIBLE = dict.fromkeys(
    map(
        ord,
        "\u200b\u200c\u200d\u2060\ufeff\u00ad\u200e\u200f\u061c\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069",
    ),
    None,
)
_SPACES = {ord(c): " " for c in "\u00a0\u2007\u202f\u2009\u200a\u3000"}
_TRANSLATION = {**_INVISIBLE, **_SPACES}
#: Any character :data:`_TRANSLATION` changes: ``str.translate`` with a dict looks up every character
#: (about 0.1 s for 1,000 news articles), while most texts hold none of them.
_TRANSLATED = re.compile("[" + "".join(map(chr, _TRANSLATION)) + "]")
_SYLLABLE = re.compile(r"[^\W\d_]+")


_BAD_CHARACTER = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


def check_characters(text: str, where: str) -> None:
    """Reject lone surrogates and control characters (other than tab and line ends).

    underthesea's tokenizer crashes on a lone surrogate, and a control character in a news text is
    always an export fault, so both are input errors naming the character offset.
    """
    first = _BAD_CHARACTER.search(text)
    if first is None:
        return
    for offset, char in enumerate(text[first.start() :], start=first.start()):
        code = ord(char)
        if 0xD800 <= code <= 0xDFFF:
            raise InputError(
                where,
                f"lone surrogate U+{code:04X} at character {offset}",
                "re-export the text as valid UTF-8",
            )
        if char not in "\t\n\r" and unicodedata.category(char) == "Cc":
            fix = "remove it from the file (it is not text)"
            if char == "\f":
                fix = "replace the form feeds (page breaks, e.g. from pdftotext) with blank lines"
            elif 0x80 <= code <= 0x9F:
                fix = (
                    "the file looks like cp1252 decoded as Latin-1: declare encoding 'cp1252' (metadata "
                    "column 'encoding' or [corpus] encoding) or save it as UTF-8"
                )
            raise InputError(where, f"control character U+{code:04X} at character {offset}", fix)


def canonical_text(text: str, where: str = "<text>") -> str:
    """Canonical form for any language: CRLF/CR -> LF, NFC, Ð (U+00D0) -> Đ, invisible marks out.

    Examples
    --------
    >>> canonical_text("ÐA\u0300 NA\u0306\u0303NG\\r\\n")
    'ĐÀ NẴNG\\n'
    """
    check_characters(text, where)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = unicodedata.normalize("NFC", text)
    text = text.replace("\u00d0", "\u0110").replace("\u00f0", "\u0111")
    return text.translate(_TRANSLATION) if _TRANSLATED.search(text) else text


@lru_cache(maxsize=1 << 17)
def _canonical_syllable(syllable: str) -> str:
    from underthesea.pipeline.text_normalize import token_normalize

    return token_normalize(syllable)


def canonical_vi(text: str) -> str:
    """Vietnamese tone-mark canonicalisation, syllable by syllable (underthesea's token map).

    ``_``-joined words are handled syllable by syllable too, so "hoà_bình" becomes "hòa_bình".

    Examples
    --------
    >>> canonical_vi("Uỷ ban hoà bình, thoả_thuận")
    'Ủy ban hòa bình, thỏa_thuận'
    """
    return _SYLLABLE.sub(_canonical_match, text)


def _canonical_match(match: re.Match) -> str:
    return _canonical_syllable(match.group(0))


@lru_cache(maxsize=1 << 18)
def canonical_word(word: str) -> str:
    """:func:`canonical_vi` of one word, cached (a corpus has far fewer types than tokens)."""
    return canonical_vi(word)


_TONES = "\u0300\u0301\u0303\u0309\u0323"
_NEW_STYLE = re.compile(
    r"(?i)(o)([\u0300\u0301\u0303\u0309\u0323])([ae])$|(?<![q])(u)([\u0300\u0301\u0303\u0309\u0323])(y)$"
)


def segmenter_style(text: str) -> str:
    """The "new" tone placement for the diphthongs oa, oe, uy in open syllables (hoà, khoẻ, thuỷ).

    underthesea's CRF word segmenter was trained on text in this style: fed "hàng hóa" it splits
    the word, fed "hàng hoá" it keeps ``hàng_hoá``. We segment text in this style and map every
    token back to the canonical style with :func:`canonical_vi`, so both spellings give one
    identical word. Syllables with a final consonant (hoàn, thuyền) and "quý" are unchanged.

    >>> segmenter_style("hòa bình, sức khỏe, thủy sản, quý, hoàn, của")
    'hoà bình, sức khoẻ, thuỷ sản, quý, hoàn, của'
    """

    return _SYLLABLE.sub(_new_style_match, text)


def _new_style_match(match: re.Match) -> str:
    return _new_style_syllable(match.group(0))


def restyle_for_segmenter(text: str) -> tuple[str, bool]:
    """:func:`segmenter_style` of ``text``, and whether any syllable now differs from its
    canonical form (if not, the segmenter's tokens need no mapping back).

    Works on space-separated pieces through a per-piece cache (a corpus repeats a few tens of
    thousands of pieces millions of times); no syllable spans a space, so the result is the
    same as restyling the whole text at once.

    >>> restyle_for_segmenter("hòa bình  và thủy sản")
    ('hoà bình  và thuỷ sản', True)
    >>> restyle_for_segmenter("hợp tác")
    ('hợp tác', False)
    """
    cache = _RESTYLED_PIECES
    pieces = []
    differs = False
    for piece in text.split(" "):
        hit = cache.get(piece)
        if hit is None:
            if len(cache) >= _PIECE_CACHE_SIZE:
                cache.clear()
            hit = cache[piece] = _restyle_piece(piece)
        pieces.append(hit[0])
        differs = differs or hit[1]
    return " ".join(pieces), differs


_RESTYLED_PIECES: dict[str, tuple[str, bool]] = {}
_PIECE_CACHE_SIZE = 1 << 18


def _restyle_piece(piece: str) -> tuple[str, bool]:
    differs = False

    def one(match: re.Match) -> str:
        nonlocal differs
        styled = _new_style_syllable(match.group(0))
        if not differs and styled != _canonical_syllable(match.group(0)):
            differs = True
        return styled

    return _SYLLABLE.sub(one, piece), differs


@lru_cache(maxsize=1 << 17)
def _new_style_syllable(syllable: str) -> str:
    # Canonicalise first (any input style), then move the tone: one pass serves both.
    decomposed = unicodedata.normalize("NFD", _canonical_syllable(syllable))
    moved = _NEW_STYLE.sub(
        lambda m: "".join(g for g in (m.group(1), m.group(3), m.group(2), m.group(4), m.group(6), m.group(5)) if g),
        decomposed,
    )
    return unicodedata.normalize("NFC", moved)


def canonical_term(term: str, language: str) -> str:
    """Canonical form of a stopword, lexicon entry or codebook pattern (spaces -> underscores)."""
    term = canonical_text(term.strip())
    if language == "vi":
        term = canonical_vi(term)
        term = re.sub(r"\s+", "_", term)
    return term.lower()
