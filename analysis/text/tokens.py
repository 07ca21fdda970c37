"""Tokens: Vietnamese word segmentation, English tokenisation, phrase merging, terms and stopwords.

A prepared document keeps every token (numbers and punctuation too, for concordances) in
paragraphs of sentences. *Terms* are what gets counted: Vietnamese words and English lemmas
(simplemma) in lower case, minus stopwords, numbers, punctuation and measurement symbols
(:func:`is_symbol`); in both languages by one rule, proper names and acronyms keep their case
(:func:`proper_names`, :func:`is_acronym`): ``Việt_Nam`` and ``China``, ``ASEAN`` and ``WTO``.

Segmenters are named, versioned, recorded choices (``segmenter_id``):

* ``underthesea``: ``word_tokenize`` (CRF model bundled with the package, offline), called with
  ``use_token_normalize=False``. underthesea's own token normalisation rewrites "uỷ ban" to
  "ủy ban" and then fails to join it: its model was trained on the "new" tone placement (hoá, khoẻ,
  thuỷ). So text is put in that style (:func:`~analysis.text.normalize.segmenter_style`), segmented, and
  every token mapped back to the canonical style: both spellings give one identical word.
* ``pyvi``: ``ViTokenizer.tokenize``, the fast alternative.

Pre-segmented input (``Bộ_trưởng``) is detected and, by default, the underscores are removed and
the text is re-segmented, so every document is counted by the same segmenter.

Multi-word names and codebook phrases are then merged by :class:`PhraseMerger` in our own code
(underthesea's ``fixed_words`` keeps state from one call to the next).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache, partial
from importlib import metadata
from itertools import compress
from typing import Callable, Iterable, Iterator, Sequence

from .normalize import canonical_term, canonical_vi, canonical_word, restyle_for_segmenter, segmenter_style

Sentence = list[str]
Paragraph = list[Sentence]

_SEGMENTED_WORD = re.compile(r"[^\W\d_]_[^\W\d_]")
_JOINING_UNDERSCORE = re.compile(r"(?<=[^\W\d_])_(?=[^\W\d_])")
_HAS_LETTER = re.compile(r"[^\W\d_]")
_HAS_DIGIT = re.compile(r"\d")
_NUMBER = re.compile(r"^[+-]?\d[\d.,:/%-]*(st|nd|rd|th|s)?$")
_SENTENCE_END = {".", "!", "?", "…", "...", "?!", "!?"}
_CLOSERS = {'"', "”", "’", "'", ")", "]", "»"}

_EN_TOKEN = re.compile(
    r"""
    (?:Mr|Mrs|Ms|Dr|Prof|Gen|Sen|Rep|St|Jr|Sr|Lt|Col|Capt|Gov|Pres|No|Vol|Inc|Ltd|Co|Corp|vs|etc)\.(?=\s)
  | (?:[A-Za-z]\.){2,}                           # U.S., U.N.
  | \d+(?:[.,:/]\d+)*(?:(?:st|nd|rd|th|s)\b)?    # 1982, 175.56, 16th, 1990s; 1.8 of £1.8m (not "1" "." "8m")
  | [^\W\d_]+(?:[-'’][^\W_]+)*                   # words, people-to-people, defense-security, don't
  | \S                                           # any other single character: punctuation
    """,
    re.VERBOSE,
)
_POSSESSIVE = re.compile(r"^(.+?)(['’]s|s['’])$")


class _Memo(dict):
    """``key -> make(key)`` filled on a miss and cleared whole past ``size`` entries: a per-type
    memo that ``map(memo.__getitem__, tokens)`` reads in C, a Python call only for a new type."""

    def __init__(self, make: Callable[[str], object], size: int = 1 << 18) -> None:
        super().__init__()
        self.make = make
        self.size = size

    def __missing__(self, key: str):
        if len(self) >= self.size:
            self.clear()
        value = self[key] = self.make(key)
        return value


@lru_cache(maxsize=1 << 17)
def token_kind(token: str) -> str:
    """``'word'``, ``'number'`` or ``'punct'`` for one token (memoised: tokens repeat, and every
    stage's term pass asks for each token's kind)."""
    if _NUMBER.match(token.replace("_", "")):
        return "number"
    if _HAS_LETTER.search(token):
        return "word"
    if _HAS_DIGIT.search(token):
        return "number"
    return "punct"


def is_presegmented(text: str, threshold: float = 0.05) -> bool:
    """True when at least ``threshold`` of whitespace tokens are ``_``-joined syllables."""
    if threshold > 0 and "_" not in text:  # fast path: raw text has no underscore at all
        return False
    words = text.split()
    if not words:
        return False
    joined = sum(1 for w in words if _SEGMENTED_WORD.search(w))
    return joined / len(words) >= threshold


def desegment(text: str) -> str:
    """Undo ``_``-segmentation: ``Bộ_trưởng`` -> ``Bộ trưởng`` (other underscores are kept)."""
    return _JOINING_UNDERSCORE.sub(" ", text)


def split_sentences(tokens: Sequence[str]) -> list[Sentence]:
    """Split a token list into sentences after ``. ! ? …`` (and any closing quote that follows)."""
    sentences: list[Sentence] = []
    current: Sentence = []
    ended = False
    for token in tokens:
        if ended and token not in _CLOSERS and token not in _SENTENCE_END:
            sentences.append(current)
            current = []
            ended = False
        current.append(token)
        if token in _SENTENCE_END:
            ended = True
    if current:
        sentences.append(current)
    return sentences


# ---------------------------------------------------------------------------------- segmenters


@lru_cache(maxsize=None)
def _package_version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


def _underthesea_id() -> str:
    return (
        f"underthesea {_package_version('underthesea')} word_tokenize (model ws_crf_vlsp2013_20230727, "
        "input in oa/oe/uy new tone style, use_token_normalize=False, output canonical style)"
    )


def _pyvi_id() -> str:
    return f"pyvi {_package_version('pyvi')} ViTokenizer"


def _underthesea_words(text: str) -> list[str]:
    from underthesea import word_tokenize

    styled, differs = restyle_for_segmenter(text)
    words = word_tokenize(styled, use_token_normalize=False)
    if not differs:  # every syllable is already canonical: no mapping back needed
        return [w.replace(" ", "_") for w in words]
    return list(map(_CANONICAL_WORDS.__getitem__, words))


def _canonical_segmenter_word(word: str) -> str:
    return canonical_word(word.replace(" ", "_"))


#: A word as underthesea gives it (syllables joined by spaces, new tone style) -> its canonical form
#: joined by ``_``, read through ``map`` (a Python call only for a word not met before).
_CANONICAL_WORDS = _Memo(_canonical_segmenter_word)


def _pyvi_words(text: str) -> list[str]:
    from pyvi import ViTokenizer

    return [canonical_word(w) for w in ViTokenizer.tokenize(segmenter_style(text)).split()]


@dataclass(frozen=True)
class Segmenter:
    """A Vietnamese word segmenter: ``words(text) -> ["Bộ_trưởng", ...]`` and its recorded identity
    (name, version, model: it enters the cache key and the manifest)."""

    name: str
    words: Callable[[str], list[str]]
    identity: Callable[[], str]


#: The segmenters a study can name (``[text] segmenter``); :func:`register_segmenter` adds one.
SEGMENTERS: dict[str, Segmenter] = {
    "underthesea": Segmenter("underthesea", _underthesea_words, _underthesea_id),
    "pyvi": Segmenter("pyvi", _pyvi_words, _pyvi_id),
}


def register_segmenter(
    name: str, words: Callable[[str], list[str]], identity: str | Callable[[], str] = ""
) -> Segmenter:
    """Make ``words`` available as segmenter ``name`` (its identity defaults to the name).

    ``words`` takes canonical Vietnamese text and returns its words, syllables joined by ``_``;
    for worker processes it must be a module-level function (picklable).
    """
    ident = identity if callable(identity) else (lambda: identity or name)
    SEGMENTERS[name] = Segmenter(name, words, ident)
    return SEGMENTERS[name]


def get_segmenter(segmenter: str | Callable[[str], list[str]]) -> Segmenter:
    """A registered segmenter by name, or any callable ``text -> words`` (the way
    ``CountVectorizer(tokenizer=...)`` takes one), identified by its module and name.

    >>> get_segmenter(str.split).name
    'builtins.str.split'
    """
    if callable(segmenter):
        module = getattr(segmenter, "__module__", None) or "builtins"
        name = f"{module}.{getattr(segmenter, '__qualname__', repr(segmenter))}"
        return Segmenter(name, segmenter, lambda: f"callable {name}")
    if segmenter not in SEGMENTERS:
        raise ValueError(f"unknown segmenter {segmenter!r}: use one of {', '.join(SEGMENTERS)} or a callable")
    return SEGMENTERS[segmenter]


def segmenter_id(segmenter: str | Callable[[str], list[str]]) -> str:
    """The recorded identity of a segmenter: name, package version and model (a callable: its
    qualified name). It goes into every cache key and the manifest, so outputs made by another
    segmenter or version are never mistaken for these.

    >>> segmenter_id("pyvi")
    'pyvi 0.1.1 ViTokenizer'
    >>> def syllables(text):
    ...     return text.split()
    >>> segmenter_id(syllables).startswith("callable ")
    True
    """
    return get_segmenter(segmenter).identity()


def tokenize_en(text: str) -> list[str]:
    """English tokens: hyphenated words and acronyms kept whole, possessive ``'s`` split off.

    >>> tokenize_en("China's people-to-people ties with the U.S. grew 5.5% in 2023.")
    ['China', "'s", 'people-to-people', 'ties', 'with', 'the', 'U.S.', 'grew', '5.5', '%', 'in', '2023', '.']
    """
    tokens: list[str] = []
    for match in _EN_TOKEN.finditer(text):
        token = match.group(0)
        possessive = _POSSESSIVE.match(token) if "'" in token or "’" in token else None
        if possessive and possessive.group(2).lower() in ("'s", "’s"):
            tokens.extend([possessive.group(1), possessive.group(2)])
        else:
            tokens.append(token)
    return tokens


# ----------------------------------------------------------------------------- phrase merging


class PhraseMerger:
    """Greedy longest-match merging of token runs that spell a known multi-word name.

    Matching is on lower-cased syllables, so ``["Tập", "Cận_Bình"]`` and ``["Tập_Cận", "Bình"]``
    both become ``Tập_Cận_Bình``; a phrase must start and end at token boundaries. Vietnamese
    merges join with ``_``; English ones with a space (``Wang Yi``).
    """

    def __init__(self, phrases: Iterable[str], joiner: str = "_"):
        self.joiner = joiner
        self._phrases: set[tuple[str, ...]] = set()
        self._prefixes: set[tuple[str, ...]] = set()
        self._first: set[str] = set()
        # token -> whether its first syllable starts a phrase
        self._may_start = _Memo(partial(_starts_phrase, self._first))
        for phrase in phrases:
            syllables = tuple(s for s in re.split(r"[\s_]+", phrase.lower()) if s)
            if len(syllables) < 2:
                continue
            self._phrases.add(syllables)
            self._first.add(syllables[0])
            for end in range(1, len(syllables)):
                self._prefixes.add(syllables[:end])

    def __len__(self) -> int:
        return len(self._phrases)

    def split_glued(self, tokens: Sequence[str]) -> list[str]:
        """Split a known name off a word the segmenter glued it to: ``nông_sản_Việt_Nam`` ->
        ``nông_sản``, ``Việt_Nam`` (only when the rest of the word is lower case, so that real
        compounds such as ``Đảng_Cộng_sản_Việt_Nam`` stay whole)."""
        out: list[str] = []
        for token in tokens:
            if token.count("_") < 2:  # fast path: a name plus a word needs three syllables
                out.append(token)
                continue
            parts = token.split("_")
            if not self._phrases:
                out.append(token)
                continue
            lowered = tuple(p.lower() for p in parts)
            done = False
            for cut in range(1, len(parts) - 1):
                head, tail = parts[:cut], parts[cut:]
                if lowered[cut:] in self._phrases and tail[0][:1].isupper() and all(p.islower() for p in head):
                    out += ["_".join(head), "_".join(tail)]
                    done = True
                    break
                head, tail = parts[: len(parts) - cut], parts[len(parts) - cut :]
                if (
                    lowered[: len(parts) - cut] in self._phrases
                    and head[0][:1].isupper()
                    and all(p.islower() for p in tail)
                ):
                    out += ["_".join(head), "_".join(tail)]
                    done = True
                    break
            if not done:
                out.append(token)
        return out

    def merge(self, tokens: Sequence[str]) -> list[str]:
        if not self._phrases:
            return list(tokens)
        starts = list(map(self._may_start.__getitem__, tokens))
        if not any(starts):  # fast path: no phrase starts anywhere
            return list(tokens)
        # Only the tokens where a phrase may start are tried; the runs between them are copied whole.
        out: list[str] = []
        i = 0  # tokens before i are in out
        n = len(tokens)
        for start in compress(range(n), starts):
            if start < i:  # inside a phrase merged already
                continue
            best_end = -1
            syllables: tuple[str, ...] = ()
            j = start
            while j < n:
                syllables = syllables + _syllables(tokens[j])
                j += 1
                if syllables in self._phrases:
                    best_end = j
                if syllables not in self._prefixes:
                    break
            if best_end > start + 1:
                out.extend(tokens[i:start])
                parts = [p for t in tokens[start:best_end] for p in t.replace(" ", "_").split("_") if p]
                out.append(self.joiner.join(parts))
                i = best_end
        out.extend(tokens[i:])
        return out


def _starts_phrase(first: set[str], token: str) -> bool:
    return _syllables(token)[0] in first


@lru_cache(maxsize=1 << 18)
def _syllables(token: str) -> tuple[str, ...]:
    """Lower-cased syllables of a token (``Cận_Bình`` -> ``('cận', 'bình')``), cached per type."""
    return tuple(p for p in token.lower().replace(" ", "_").split("_") if p) or (token.lower(),)


# -------------------------------------------------------------------------- the prepared text


@dataclass
class PreparedDocument:
    """A document after cleaning, normalisation and segmentation: paragraphs of sentences.

    ``tokens`` keeps every token (words, numbers, punctuation) in reading order, so concordances
    and sentence windows can be cut from it; ``removals`` is the cleaning log.
    """

    doc_id: str
    language: str
    paragraphs: list[Paragraph]
    presegmented: bool = False
    removals: list[dict] = field(default_factory=list)

    def sentences(self) -> Iterator[Sentence]:
        for paragraph in self.paragraphs:
            yield from paragraph

    def tokens(self) -> Iterator[str]:
        for sentence in self.sentences():
            yield from sentence

    def to_json(self) -> dict:
        return {
            "doc_id": self.doc_id,
            "language": self.language,
            "presegmented": self.presegmented,
            "paragraphs": self.paragraphs,
            "removals": self.removals,
        }

    @classmethod
    def from_json(cls, data: dict) -> "PreparedDocument":
        return cls(
            doc_id=data["doc_id"],
            language=data["language"],
            paragraphs=data["paragraphs"],
            presegmented=data["presegmented"],
            removals=data["removals"],
        )


def segment_vi(
    text: str,
    *,
    segmenter: str | Callable[[str], list[str]] = "underthesea",
    merger: PhraseMerger | None = None,
    resegment: bool = True,
) -> tuple[list[Paragraph], bool]:
    """Segment canonical Vietnamese text into paragraphs of sentences of words.

    Returns ``(paragraphs, presegmented)``. With ``resegment=False`` pre-segmented input is split on
    whitespace as it is (its own segmentation is trusted).

    >>> segment_vi("Hai nước ký thỏa thuận hợp tác.")[0]
    [[['Hai', 'nước', 'ký', 'thỏa_thuận', 'hợp_tác', '.']]]
    """
    presegmented = is_presegmented(text)
    words_of = get_segmenter(segmenter).words
    paragraphs: list[Paragraph] = []
    for block in text.split("\n"):
        block = block.strip()
        if not block:
            continue
        if presegmented and not resegment:
            words = _split_punctuation(canonical_vi(block).split())
        else:
            block = desegment(block) if presegmented else block
            words = [w for piece in bounded_pieces(block) for w in words_of(piece)]
        words = split_acronyms(words)
        if merger is not None:
            words = merger.merge(merger.split_glued(words))
        sentences = split_sentences(words)
        if sentences:
            paragraphs.append(sentences)
    return paragraphs, presegmented


#: Longest piece of text handed to the Vietnamese segmenter at once. underthesea's memory grows
#: with the length of what it is given (2 MB on one line peaked at 3.3 GB, 20 MB aborted), so a
#: paragraph longer than this is cut at sentence ends into pieces of at most this many characters
#: (at a space if one sentence is longer; hard only in a run with no space at all). Every
#: paragraph of the seed, VNTC and parallel corpora is shorter (the longest VNTC line: 7,279
#: characters), so their tokens are unchanged.
SEGMENT_CHARS = 20_000
_PIECE_END = re.compile(r"[.!?…][\"”’')\]»]*\s+")


def bounded_pieces(block: str, limit: int | None = None) -> list[str]:
    """``block`` cut into pieces of at most ``limit`` characters, at sentence ends where possible.

    A block within the limit is returned whole (``[block]``), so normal text is segmented exactly
    as before. Pieces are stripped; joined by single spaces they give the block back except for
    the whitespace at the cuts.

    >>> bounded_pieces("Một câu. Hai câu! Ba câu.", limit=12)
    ['Một câu.', 'Hai câu!', 'Ba câu.']
    >>> bounded_pieces("abc def ghi", limit=5)
    ['abc', 'def', 'ghi']
    """
    limit = limit or SEGMENT_CHARS
    if len(block) <= limit:
        return [block]
    pieces: list[str] = []
    start = 0
    n = len(block)
    while n - start > limit:
        window_end = start + limit
        cut = -1
        for match in _PIECE_END.finditer(block, start, window_end + 1):
            cut = match.end()  # the last sentence end that keeps the piece within the limit
        if cut <= start:
            space = block.rfind(" ", start, window_end + 1)
            cut = space + 1 if space > start else window_end
        piece = block[start:cut].strip()
        if piece:
            pieces.append(piece)
        start = cut
    tail = block[start:].strip()
    if tail:
        pieces.append(tail)
    return pieces


def split_acronyms(words: Sequence[str]) -> list[str]:
    """An all-capitals syllable glued to other syllables becomes its own word: ``ASEAN_thúc_đẩy``
    -> ``ASEAN``, ``thúc_đẩy``; ``XX_Đảng`` -> ``XX``, ``Đảng`` (the CRF joins them after an
    acronym). Words wholly in capitals (``TP_HCM``) are left alone."""
    out: list[str] = []
    for word in words:
        if "_" not in word or word.islower():  # fast path: nearly every word
            out.append(word)
            continue
        parts = word.split("_")
        if word.isupper() or not any(len(p) > 1 and p.isupper() for p in parts):
            out.append(word)
            continue
        run: list[str] = []
        for part in parts:
            if len(part) > 1 and part.isupper():
                if run:
                    out.append("_".join(run))
                    run = []
                out.append(part)
            else:
                run.append(part)
        if run:
            out.append("_".join(run))
    return out


def _split_punctuation(words: list[str]) -> list[str]:
    out = []
    for word in words:
        out.extend(t for t in re.split(r"(^[\"“(]+|[\"”),.;:!?]+$)", word) if t)
    return out


def segment_en(text: str, merger: PhraseMerger | None = None) -> list[Paragraph]:
    """Tokenise English text into paragraphs of sentences (lines are paragraphs)."""
    paragraphs: list[Paragraph] = []
    for block in text.split("\n"):
        tokens = tokenize_en(block)
        if merger is not None:
            tokens = merger.merge(tokens)
        if tokens:
            paragraphs.append(split_sentences(tokens))
    return paragraphs


# ----------------------------------------------------------------------------------- terms


def _simplemma_lemma():
    import simplemma

    return simplemma.lemmatize


@dataclass(frozen=True)
class TermRules:
    """How tokens become counted terms: stopword sets per language and English lemmatisation."""

    stopwords: dict
    lemmatize_en: bool = True

    def is_stopword(self, term: str, language: str) -> bool:
        return term.lower() in self.stopwords.get(language, frozenset())


def stopword_set(words: Iterable[str], language: str) -> frozenset[str]:
    """Canonical stopword set: NFC, tone marks, spaces -> ``_`` (Vietnamese), lower case."""
    return frozenset(canonical_term(w, language) for w in words if w.strip() and not w.startswith("#"))


def proper_names(sentences: Iterable[Sentence]) -> set[str]:
    """Words that occur capitalised inside sentences and never in lower case (per document).

    A cheap, document-level truecaser: "China" keeps its capital everywhere in a document where it
    is never written "china", while sentence-initial "The" becomes "the".
    """
    capitalised: set[str] = set()
    lowered: set[str] = set()
    acronyms: set[str] = set()
    for sentence in sentences:
        for position, token in enumerate(sentence):
            if not token[:1].isalpha():
                continue
            if len(token) > 1 and token.isupper():
                acronyms.add(token)
            elif token[:1].isupper():
                if position > 0 and sentence[position - 1] not in ('"', "“", "'", ":"):
                    capitalised.add(token)
            else:
                lowered.add(token)
    return acronyms | {t for t in capitalised if t.lower() not in lowered}


def every_part_capitalised(token: str) -> bool:
    """Every syllable of a Vietnamese word starts with a capital: the spelling of a name of a person
    or place (``Việt_Nam``, ``Hà_Nội``, ``Bùi_Thanh_Sơn``), not that of an institution or a title,
    whose first syllable alone is capitalised (``Bộ_trưởng``, ``Chính_phủ``, ``Ngoại_giao``) where
    English writes lower case (*minister*, *government*): those are counted in lower case, as the
    English words are, so ``Bộ_trưởng`` and ``bộ_trưởng`` are one term.

    >>> every_part_capitalised("Việt_Nam"), every_part_capitalised("Bộ_trưởng"), every_part_capitalised("Đảng")
    (True, False, True)
    """
    return all(part[:1].isupper() for part in token.split("_") if part)


def is_acronym(token: str) -> bool:
    """Two or more letters, all capitals (``US``, ``ASEAN``, ``WHO``; not ``I`` or ``A``).

    >>> is_acronym("US"), is_acronym("Us"), is_acronym("I"), is_acronym("ASEAN")
    (True, False, False, True)
    """
    return _letters(token) >= 2 and token.isupper()


def mostly_upper_case(sentence: Sentence) -> bool:
    """Half or more of the sentence's words of two or more letters are written in capitals: a
    headline or banner in capitals, where capitals mark no acronym (``THE US AND CHINA``).

    >>> mostly_upper_case(["THE", "US", "AND", "CHINA"]), mostly_upper_case(["The", "US", "and", "China"])
    (True, False)
    """
    words = [t for t in sentence if _letters(t) >= 2]
    return bool(words) and 2 * sum(t.isupper() for t in words) >= len(words)


#: Measurement units written after a number ("5 km", "200 g", "£1.8m", "3 ha", "2 GB"): the SI
#: symbols and prefixes of the BIPM SI brochure (9th ed., tables 2, 4, 5, 8) that news uses, the
#: byte units and a few imperial ones, compared in lower case. A closed list of standard symbols,
#: the same for both languages, not words taken from any corpus. Only a token right after a number
#: is taken for a unit (``GB`` alone is Great Britain; ``ha`` alone is a word).
UNIT_SYMBOLS = frozenset(
    """m km cm mm m2 m3 km2 cm2 cm3 ha g kg mg t l ml cl s ms h min w kw mw gw wh kwh mwh gwh twh
    hz khz mhz ghz b kb mb gb tb mph ft lb oz mi yd""".split()
)
_GLUED_UNIT = re.compile(
    r"^[+-]?\d[\d.,]*(?:" + "|".join(sorted(UNIT_SYMBOLS, key=lambda u: (-len(u), u))) + r")$", re.IGNORECASE
)


def is_symbol(token: str, previous: str | None = None) -> bool:
    """A token that is a symbol, not a word, in either language: one letter (units ``m``, ``g``,
    ``h``; initials; list markers ``a)``; Roman ``I``, ``V``: English stopword lists already held every
    single letter, so Vietnamese now follows the same rule), a unit symbol of :data:`UNIT_SYMBOLS`
    right after a number (``5 km``), or a number glued to one (``200g``, ``5km``). Not counted as
    a term; the token stays in the text (concordances). Cost, measured on 400 VNTC articles: the
    one-letter Vietnamese words a segmenter leaves alone (``ổ``, ``ô``: 11 tokens of 160 one-letter
    ones; ``ý`` is a stopword already).

    >>> is_symbol("g", "200"), is_symbol("km", "5"), is_symbol("200g"), is_symbol("GB", "2"), is_symbol("GB", "the")
    (True, True, True, True, False)
    >>> is_symbol("ổ"), is_symbol("xe", "5"), is_symbol("Ý"), is_symbol("men", "5")
    (True, False, True, False)
    """
    if _symbol_alone(token):
        return True
    return previous is not None and token.lower() in UNIT_SYMBOLS and token_kind(previous) == "number"


@lru_cache(maxsize=1 << 17)
def _letters(token: str) -> int:
    """How many letters ``token`` has (memoised: asked of every token by several tests above)."""
    return sum(c.isalpha() for c in token)


@lru_cache(maxsize=1 << 17)
def _symbol_alone(token: str) -> bool:
    """:func:`is_symbol` without a previous token: one letter alone, or a number glued to a unit."""
    if _letters(token) == 1 and len(token) == 1:
        return True
    return bool(_HAS_DIGIT.search(token)) and bool(_GLUED_UNIT.match(token))


def term_sentences(doc: PreparedDocument, rules: TermRules) -> list[list[str | None]]:
    """Per sentence, the term for each token, or ``None`` for stopwords, numbers and punctuation.

    One rule for both languages: terms are lower case (Vietnamese words ``hợp_tác``, English
    simplemma lemmas), except proper names and acronyms, which keep their form (``Việt_Nam``,
    ``Hà_Nội``, ``China``, ``Wang Yi``, ``ASEAN``, ``TP``). A proper name is a word written with a
    capital inside a sentence and never in lower case in the same document (:func:`proper_names`),
    and, in Vietnamese, with a capital on every syllable (:func:`every_part_capitalised`: an
    institution or title such as ``Bộ_trưởng`` capitalises its first syllable only, where English
    writes *minister* in lower case);
    before, Vietnamese names were lower-cased (``việt_nam``) while English ones kept their
    capitals, so a figure showed ``putin`` beside ``Blair``. Matching against the codebook and the
    concept map is in lower case, so no count of frames or concepts changes. An acronym in ordinary
    text (:func:`is_acronym`, not in a sentence :func:`mostly_upper_case`) is counted even when its
    lower case is a stopword: ``US`` is not ``us``. Symbols (:func:`is_symbol`: one letter, a unit
    after a number) are not terms in either language.
    """
    sentences = list(doc.sentences())
    out: list[list[str | None]] = []
    names = proper_names(sentences)
    if doc.language == "en":
        lemmatize = _simplemma_lemma() if rules.lemmatize_en else None
        for sentence in sentences:
            terms: list[str | None] = []
            in_caps = mostly_upper_case(sentence)
            for position, token in enumerate(sentence):
                if token_kind(token) != "word" or is_symbol(token, sentence[position - 1] if position else None):
                    terms.append(None)
                    continue
                if not in_caps and is_acronym(token):
                    # "US", "WHO", "IT" are not the stopwords "us", "who", "it": an acronym written in
                    # capitals inside ordinary text keeps its form and is counted
                    terms.append(token)
                    continue
                lower = token.lower()
                if rules.is_stopword(lower, "en"):
                    terms.append(None)
                    continue
                if token in names or " " in token:
                    # Names keep their form: lemmatising "Philippines" or "United Nations" breaks them.
                    term = token
                else:
                    term = lemma_en(lower) if lemmatize else lower
                terms.append(None if rules.is_stopword(term, "en") else term)
            out.append(terms)
    else:
        for sentence in sentences:
            terms = []
            in_caps = mostly_upper_case(sentence)
            for position, token in enumerate(sentence):
                if token_kind(token) != "word" or is_symbol(token, sentence[position - 1] if position else None):
                    terms.append(None)
                    continue
                if not in_caps and is_acronym(token):
                    terms.append(token)  # as in English: "TP", "WTO" keep their form and are counted
                    continue
                lower = token.lower()
                if rules.is_stopword(lower, doc.language):
                    terms.append(None)
                else:
                    terms.append(token if token in names and every_part_capitalised(token) else lower)
            out.append(terms)
    return out


#: What :class:`TermCounter` keeps of a token: the verdict of :func:`term_sentences` outside and
#: inside a sentence in capitals (``0`` not a term, ``1`` a term, ``2`` a term unless it is not a
#: proper name of the document: an English word whose lemma alone is a stopword), whether it has
#: two or more letters and is in capitals (:func:`mostly_upper_case`), and whether it is a unit
#: symbol that a number before it makes a symbol (:func:`is_symbol`).
_NOT, _TERM, _TERM_IF_NAME = 0, 1, 2


class TermCounter:
    """How many tokens of a document :func:`term_sentences` turns into terms (its non-``None``
    entries), and its word tokens and their lower-cased forms, without building the terms.

    Why: the ``prepare`` stage's corpus summary needs only each document's number of counted terms,
    and building every term list (proper names, lemmas, one list per sentence) cost about as much
    as the rest of the stage's tables together. The verdict of :func:`term_sentences` for a token
    depends on the token, on whether its sentence is :func:`mostly_upper_case`, on whether the token
    before it is a number (unit symbols, :func:`is_symbol`) and, for an English word whose lemma
    alone is a stopword, on whether it is one of the document's :func:`proper_names` (a name keeps
    its form and is not lemmatised); everything that depends on the token alone is worked out once
    per token and language and kept (cleared past ``size`` tokens), so a document costs one look-up
    per token. The count is the same as ``sum(t is not None for s in term_sentences(doc, rules)
    for t in s)`` (tested, on corpora and on generated token sequences).

    >>> counter = TermCounter(TermRules({"vi": frozenset({"và"}), "en": frozenset({"the"})}))
    >>> doc = PreparedDocument("v1", "vi", [[["Hai", "nước", "và", "ASEAN", "5", "km", "."]]])
    >>> counter.count(doc)
    (1, 5, ['hai', 'nước', 'và', 'asean', 'km'], 3)
    """

    def __init__(self, rules: TermRules, size: int = 1 << 18) -> None:
        self.rules = rules
        self.size = size
        self._info: dict[str, dict[str, tuple]] = {}

    def _token(self, token: str, language: str) -> tuple:
        """(word: bool, lower, verdict outside capitals, verdict inside, capitals class, unit)."""
        lower = token.lower()
        if token_kind(token) != "word":
            return (False, lower, _NOT, _NOT, _caps_class(token), False)
        if _symbol_alone(token):
            return (True, lower, _NOT, _NOT, _caps_class(token), False)
        unit = lower in UNIT_SYMBOLS
        caps = _caps_class(token)
        if self.rules.is_stopword(lower, language):
            inside = _NOT
        elif language == "en" and " " not in token:
            lemma = lemma_en(lower) if self.rules.lemmatize_en else lower
            inside = _TERM_IF_NAME if self.rules.is_stopword(lemma, "en") else _TERM
        else:
            inside = _TERM
        outside = _TERM if caps == 2 else inside  # an acronym in ordinary text is counted
        return (True, lower, outside, inside, caps, unit)

    def count(self, doc: PreparedDocument) -> tuple[int, int, list[str], int]:
        """``(sentences, word tokens, the lower-cased word tokens in order, counted terms)``."""
        language = doc.language
        memo = self._info.setdefault(language, {})
        if len(memo) >= self.size:
            memo.clear()
        n_sentences = n_terms = 0
        words: list[str] = []
        names = None
        sentences = doc.sentences()
        for sentence in sentences:
            n_sentences += 1
            infos = []
            long_words = in_capitals = 0
            for token in sentence:
                info = memo.get(token)
                if info is None:
                    info = memo[token] = self._token(token, language)
                infos.append(info)
                if info[4]:
                    long_words += 1
                    if info[4] == 2:
                        in_capitals += 1
            verdict = 3 if long_words and 2 * in_capitals >= long_words else 2
            previous = None
            for token, info in zip(sentence, infos):
                if info[0]:
                    words.append(info[1])
                    counted = info[verdict]
                    if counted and info[5] and previous is not None and token_kind(previous) == "number":
                        counted = _NOT
                    if counted == _TERM_IF_NAME:
                        if names is None:
                            names = proper_names(doc.sentences())
                        counted = token in names
                    n_terms += bool(counted)
                previous = token
        return n_sentences, len(words), words, n_terms


def _caps_class(token: str) -> int:
    """0: fewer than two letters; 1: two or more letters, not all capitals; 2: two or more, all capitals."""
    if _letters(token) < 2:
        return 0
    return 2 if token.isupper() else 1


#: simplemma errors corrected for news English (lower-case word -> lemma). Documented, not silent.
LEMMA_OVERRIDES_EN = {
    "developed": "develop",  # simplemma 1.x-2.0 gives "develope"
    "developing": "develop",
    "media": "media",
    "data": "data",
    "news": "news",
    "politics": "politics",
    "economics": "economics",
    "goods": "goods",  # merchandise, not the plural of the adjective "good"
    "securities": "securities",  # stocks and bonds, not the plural of "security"
}


@lru_cache(maxsize=200_000)
def lemma_en(word: str) -> str:
    """simplemma lemma of a lower-case English word, with :data:`LEMMA_OVERRIDES_EN` applied; a
    hyphenated compound lemmatises its head ("border-gates" -> "border-gate").

    >>> lemma_en("agreements"), lemma_en("developed"), lemma_en("border-gates")
    ('agreement', 'develop', 'border-gate')
    """
    if "-" in word:
        head, _, last = word.rpartition("-")
        return f"{head}-{lemma_en(last)}" if last else word
    if word in LEMMA_OVERRIDES_EN:
        return LEMMA_OVERRIDES_EN[word]
    return _simplemma_lemma()(word, lang="en").lower()
