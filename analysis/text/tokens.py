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
from operator import is_not, itemgetter
from typing import Callable, Iterable, Iterator, NamedTuple, Sequence

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
    """How tokens become counted terms: stopword sets per language and English lemmatisation.

    The rules keep their :class:`TermVerdicts` per language (filled as tokens are met, never
    pickled or compared): every reader of the rules in a process shares them.
    """

    stopwords: dict
    lemmatize_en: bool = True

    def is_stopword(self, term: str, language: str) -> bool:
        return term.lower() in self.stopwords.get(language, frozenset())

    def verdicts(self, language: str) -> TermVerdicts:
        """The table of :func:`term_verdict` of these rules in ``language`` (made on first use)."""
        tables = self.__dict__.get("_verdicts")
        if tables is None:
            tables = {}
            object.__setattr__(self, "_verdicts", tables)  # frozen: a cache, not a field
        table = tables.get(language)
        if table is None:
            table = tables[language] = TermVerdicts(self, language)
        return table

    def __getstate__(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k != "_verdicts"}


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
    return _capitals(token) == 2


def mostly_upper_case(sentence: Sentence) -> bool:
    """Half or more of the sentence's words of two or more letters are written in capitals: a
    headline or banner in capitals, where capitals mark no acronym (``THE US AND CHINA``).

    >>> mostly_upper_case(["THE", "US", "AND", "CHINA"]), mostly_upper_case(["The", "US", "and", "China"])
    (True, False)
    """
    capitals = list(map(_capitals, sentence))
    return _in_capitals(len(capitals) - capitals.count(0), capitals.count(2))


def _in_capitals(long_words: int, in_capitals: int) -> bool:
    """:func:`mostly_upper_case` from how many of a sentence's words have two or more letters, and
    how many of those are in capitals."""
    return long_words > 0 and 2 * in_capitals >= long_words


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
    return _is_symbol(token, after_number=previous is not None and token_kind(previous) == "number")


def _is_symbol(token: str, *, after_number: bool) -> bool:
    """:func:`is_symbol`, told whether the token before is a number."""
    return _symbol_alone(token) or (after_number and token.lower() in UNIT_SYMBOLS)


def _letters(token: str) -> int:
    """How many letters ``token`` has."""
    return sum(map(str.isalpha, token))


def _capitals(token: str) -> int:
    """0: fewer than two letters; 1: two or more letters, not all capitals; 2: two or more, all
    capitals (:func:`is_acronym`; what :func:`mostly_upper_case` counts)."""
    if _letters(token) < 2:
        return 0
    return 2 if token.isupper() else 1


def _symbol_alone(token: str) -> bool:
    """:func:`is_symbol` without a previous token: one letter alone, or a number glued to a unit."""
    if len(token) == 1 and token.isalpha():
        return True
    return bool(_HAS_DIGIT.search(token)) and bool(_GLUED_UNIT.match(token))


class TermVerdict(NamedTuple):
    """What the term rules make of one token in one language (:func:`term_verdict`): its term in
    each context that the token alone does not settle, and what a reader needs to pick the context.

    The contexts: whether the sentence is :func:`mostly_upper_case` (an acronym in ordinary text is
    counted as written; in a headline in capitals, capitals mark no acronym) and whether the token
    is one of its document's :func:`proper_names` (a name keeps its form). A term is ``None`` when
    the token is not counted; ``named`` is the very object ``plain`` is when the two agree.

    ``flags`` holds the bits :data:`_LONG`, :data:`_UPPER`, :data:`_UNIT` and, per context,
    whether the token is counted when it is no name and whether being a name changes that: one
    byte, so a sentence's flags are one ``bytes`` and a reader counts a bit over a sentence in C.
    """

    word: str | None  # a word token (token_kind "word"): its lower-cased form (the summary's types); else None
    number: bool  # a number (token_kind "number"): a unit symbol after it is a symbol
    flags: int
    plain: str | None  # in ordinary text, the term when the token is not a proper name of its document
    named: str | None  # ... and when it is one
    caps_plain: str | None  # in a sentence mostly in capitals, likewise
    caps_named: str | None


#: Where each context's two terms (plain, named) are in a :class:`TermVerdict`.
_ORDINARY, _IN_CAPITALS = 3, 5
#: The bits of :attr:`TermVerdict.flags`: two or more letters; two or more, all capitals
#: (:func:`is_acronym`); a unit symbol that a number before it makes a symbol; per context, counted
#: when no name, and a count that being a name changes.
_LONG, _UPPER, _UNIT = 1, 2, 4
_COUNTED = {_ORDINARY: 8, _IN_CAPITALS: 16}
_NAME_COUNTS = {_ORDINARY: 32, _IN_CAPITALS: 64}
#: ``flags.translate(_BIT[b]).count(1)``: how many tokens of a sentence have bit ``b`` (in C).
_BIT = {b: bytes(int(bool(v & b)) for v in range(256)) for b in (1, 2, 4, 8, 16, 32, 64)}
_WORD_AT, _NUMBER_AT, _FLAGS_AT = 0, 1, 2
_WORD, _FLAGS = itemgetter(_WORD_AT), itemgetter(_FLAGS_AT)
#: The flags of :func:`_capitals` 0, 1, 2.
_CAPITALS_FLAGS = (0, _LONG, _LONG | _UPPER)


def term_verdict(token: str, *, language: str, rules: TermRules, after_number: bool = False) -> TermVerdict:
    """The term rules for one token: whether it is a term, and which, in every context of
    :class:`TermVerdict`. The one place the rules are written; :func:`term_sentences` and
    :class:`TermCounter` read these verdicts (through :class:`TermVerdicts`, which also tells each
    token whether the one before it is a number) and only pick the context.

    One rule for both languages: terms are lower case (Vietnamese words ``hợp_tác``, English
    simplemma lemmas), except proper names and acronyms, which keep their form (``Việt_Nam``,
    ``China``, ``Wang Yi``, ``ASEAN``). Not terms: numbers, punctuation, symbols
    (:func:`is_symbol`; a unit symbol only ``after_number``) and stopwords (an English word also when
    its lemma is one). An acronym (:func:`is_acronym`) in ordinary text is counted as written even
    when its lower case is a stopword (``US`` is not ``us``). A Vietnamese name keeps its form only
    when every syllable is capitalised (:func:`every_part_capitalised`: ``Bộ_trưởng`` is counted as
    ``bộ_trưởng``, as English counts *minister*); an English name, or a merged phrase (``United
    Nations``), is not lemmatised.

    >>> rules = TermRules({"vi": frozenset({"và"}), "en": frozenset({"be", "us"})})
    >>> term_verdict("Việt_Nam", language="vi", rules=rules)[3:]
    ('việt_nam', 'Việt_Nam', 'việt_nam', 'Việt_Nam')
    >>> term_verdict("US", language="en", rules=rules)[3:]
    ('US', 'US', None, None)
    >>> term_verdict("Is", language="en", rules=rules)[3:]
    (None, 'Is', None, 'Is')
    >>> term_verdict("km", language="vi", rules=rules)[3:]
    ('km', 'km', 'km', 'km')
    >>> term_verdict("km", language="vi", rules=rules, after_number=True)[3:]
    (None, None, None, None)
    """
    lower = token.lower()
    kind = token_kind(token)
    flags = _CAPITALS_FLAGS[_capitals(token)]
    if kind != "word" or _is_symbol(token, after_number=after_number):
        return _new_verdict((lower if kind == "word" else None, kind == "number", flags, None, None, None, None))
    if rules.is_stopword(lower, language):
        plain = named = None
    elif language == "en" and " " not in token:
        # Names keep their form: lemmatising "Philippines" or "United Nations" breaks them.
        lemma = lemma_en(lower) if rules.lemmatize_en else lower
        plain, named = (None if rules.is_stopword(lemma, "en") else lemma), token
    elif language == "en":
        plain = named = token  # a merged phrase ("Wang Yi", "United Nations")
    else:
        plain, named = lower, (token if token != lower and every_part_capitalised(token) else lower)
    if named == plain:
        named = plain
    counted, name_counts = plain is not None, (plain is None) != (named is None)
    caps_flags = (_COUNTED[_IN_CAPITALS] if counted else 0) | (_NAME_COUNTS[_IN_CAPITALS] if name_counts else 0)
    if flags & _UPPER:  # an acronym in ordinary text is counted as written
        ordinary, ordinary_flags = (token, token), _COUNTED[_ORDINARY]
    else:
        ordinary = (plain, named)
        ordinary_flags = (_COUNTED[_ORDINARY] if counted else 0) | (_NAME_COUNTS[_ORDINARY] if name_counts else 0)
    unit = _UNIT if lower in UNIT_SYMBOLS else 0
    return _new_verdict((lower, False, flags | unit | ordinary_flags | caps_flags, *ordinary, plain, named))


_new_verdict = partial(tuple.__new__, TermVerdict)


class TermVerdicts:
    """The :func:`term_verdict` of every token met, for one :class:`TermRules` and language (the
    rules keep one per language: :meth:`TermRules.verdicts`). A token's verdict is worked out once
    (cleared whole past ``size`` tokens) and then read through ``map``, in C: a sentence costs a
    few passes over its verdicts, not a Python call per token.
    """

    def __init__(self, rules: TermRules, language: str, size: int = 1 << 18) -> None:
        self.language = language
        verdict = partial(term_verdict, language=language, rules=rules)
        self._verdict = _Memo(partial(_plain_tuple, verdict), size).__getitem__
        self._after_number = _Memo(partial(_plain_tuple, partial(verdict, after_number=True))).__getitem__

    def sentence(self, sentence: Sentence) -> tuple[list[tuple], bytes, int]:
        """A sentence's verdicts (plain tuples laid out as :class:`TermVerdict`; a unit symbol told
        whether the token before it is a number), their flags, and where the terms of the sentence's
        context are in them: ordinary text, or mostly capitals (:func:`mostly_upper_case`)."""
        verdicts = list(map(self._verdict, sentence))
        flags = bytes(map(_FLAGS, verdicts))
        if 1 in flags.translate(_BIT[_UNIT]):
            for i in range(1, len(verdicts)):
                if flags[i] & _UNIT and verdicts[i - 1][_NUMBER_AT]:
                    verdicts[i] = self._after_number(sentence[i])
            flags = bytes(map(_FLAGS, verdicts))
        in_capitals = _in_capitals(flags.translate(_BIT[_LONG]).count(1), flags.translate(_BIT[_UPPER]).count(1))
        return verdicts, flags, (_IN_CAPITALS if in_capitals else _ORDINARY)


def _plain_tuple(make: Callable[[str], TermVerdict], token: str) -> tuple:
    """``make(token)`` as a plain tuple, the form :class:`TermVerdicts` keeps: the garbage collector
    stops tracking a plain tuple of strings and numbers (not a named one), so a table of tens of
    thousands of verdicts is not walked again by every full collection."""
    return tuple(make(token))


def term_sentences(doc: PreparedDocument, rules: TermRules) -> list[list[str | None]]:
    """Per sentence, the term for each token, or ``None`` for stopwords, numbers and punctuation.

    One rule for both languages (:func:`term_verdict`): terms are lower case (Vietnamese words
    ``hợp_tác``, English simplemma lemmas), except proper names and acronyms, which keep their form
    (``Việt_Nam``, ``Hà_Nội``, ``China``, ``Wang Yi``, ``ASEAN``, ``TP``). A proper name is a word
    written with a capital inside a sentence and never in lower case in the same document
    (:func:`proper_names`), and, in Vietnamese, with a capital on every syllable
    (:func:`every_part_capitalised`: an institution or title such as ``Bộ_trưởng`` capitalises its
    first syllable only, where English writes *minister* in lower case);
    before, Vietnamese names were lower-cased (``việt_nam``) while English ones kept their
    capitals, so a figure showed ``putin`` beside ``Blair``. Matching against the codebook and the
    concept map is in lower case, so no count of frames or concepts changes. An acronym in ordinary
    text (:func:`is_acronym`, not in a sentence :func:`mostly_upper_case`) is counted even when its
    lower case is a stopword: ``US`` is not ``us``. Symbols (:func:`is_symbol`: one letter, a unit
    after a number) are not terms in either language. The document's proper names are worked out
    only when a sentence holds a token whose term they change.
    """
    table = rules.verdicts(doc.language)
    names = None
    out: list[list[str | None]] = []
    for sentence in doc.sentences():
        verdicts, _, context = table.sentence(sentence)
        terms, named = list(map(itemgetter(context), verdicts)), list(map(itemgetter(context + 1), verdicts))
        differs = list(map(is_not, terms, named))
        if any(differs):
            if names is None:
                names = proper_names(doc.sentences())
            for i in compress(range(len(terms)), differs):
                if sentence[i] in names:
                    terms[i] = named[i]
        out.append(terms)
    return out


class TermCounter:
    """How many tokens of a document :func:`term_sentences` turns into terms (its non-``None``
    entries), and its word tokens and their lower-cased forms, without building the terms.

    Why: the ``prepare`` stage's corpus summary needs only each document's number of counted terms,
    and building every term list (proper names, lemmas, one list per sentence) cost about as much
    as the rest of the stage's tables together. It reads the verdicts :func:`term_sentences` reads
    (:meth:`TermRules.verdicts`, in the same context) and counts their flags; the document's
    :func:`proper_names` are worked out only for a token whose being a name changes whether it is
    counted (an English word whose lemma alone is a stopword: ``Is`` kept as a name). The count is
    the same as ``sum(t is not None for s in term_sentences(doc, rules) for t in s)`` (tested, on
    corpora and on generated token sequences).

    >>> counter = TermCounter(TermRules({"vi": frozenset({"và"}), "en": frozenset({"the"})}))
    >>> doc = PreparedDocument("v1", "vi", [[["Hai", "nước", "và", "ASEAN", "5", "km", "."]]])
    >>> counter.count(doc)
    (1, 5, ['hai', 'nước', 'và', 'asean', 'km'], 3)
    """

    def __init__(self, rules: TermRules) -> None:
        self.rules = rules

    def count(self, doc: PreparedDocument) -> tuple[int, int, list[str], int]:
        """``(sentences, word tokens, the lower-cased word tokens in order, counted terms)``."""
        table = self.rules.verdicts(doc.language)
        n_sentences = n_terms = 0
        words: list[str] = []
        names = None
        for sentence in doc.sentences():
            n_sentences += 1
            verdicts, flags, context = table.sentence(sentence)
            words.extend(filter(None, map(_WORD, verdicts)))
            n_terms += flags.translate(_BIT[_COUNTED[context]]).count(1)
            if 1 in flags.translate(_BIT[_NAME_COUNTS[context]]):
                if names is None:
                    names = proper_names(doc.sentences())
                for token, verdict in zip(sentence, verdicts):
                    if verdict[_FLAGS_AT] & _NAME_COUNTS[context] and token in names:
                        n_terms += (verdict[context + 1] is not None) - (verdict[context] is not None)
        return n_sentences, len(words), words, n_terms


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
