"""The bilingual codebook: frames, actors, concepts and speech verbs, read, validated and matched.

A codebook is a YAML file in the shape of a quanteda dictionary (nested keys, lists of patterns,
``*`` globs) with one list per language under each entry::

    frames:                       # frame families: issue frames, generic frames ...
      issue:
        cooperation:
          label: Cooperation and partnership
          vi: [hợp_tác, đối_tác]
          en: [cooperation, cooperate, partnership]
    actors:
      wang_yi: {label: Wang Yi, kind: person, vi: [vương_nghị], en: [Wang Yi]}
    concepts:
      border_gate: {vi: [cửa_khẩu], en: [border gate, gate]}
    speech_verbs:
      vi: [khẳng_định, nhấn_mạnh]
      en: [affirm, stress, say]

Patterns are written in the form the counted terms take:

* Vietnamese: segmented, normalised words (``hợp_tác``, ``biển_đông``); ``_`` joins the syllables
  of a word and a space separates words (``đảng cộng_sản việt_nam``). Matching is on syllables
  and must start and end on token boundaries, so ``tập_cận_bình`` matches the tokens ``Tập``
  ``Cận_Bình`` as well as ``Tập_Cận_Bình``. Patterns of several words are phrases, merged into
  one token during preparation (:func:`codebook_phrases`).
* English: lemmas, lower or upper case (``agricultural product``, ``East Sea``); every word of a
  pattern and of the text goes through the same lemmatiser, so ``border gate`` matches "border
  gates". Multi-word patterns whose first word has a capital are names: they are also merged into
  one token during preparation (:func:`codebook_phrases`).
* ``*`` is a glob inside one word (``cooperat*``, ``nông_sản*``); nothing else is special.

Every entry in one section (or one frame family) owns its patterns: a pattern listed twice is a
validation error, because a term must map to one concept (or one frame of a family). Matching is
leftmost-longest and never overlaps within a section, so ``đối_tác hợp_tác chiến_lược toàn_diện``
is one hit of its own entry, not also a hit of ``hợp_tác``.

Pure: text in, :class:`Codebook` out; the YAML is parsed with the safe loader (``yaml.safe_load``,
libyaml's C build when installed) plus ``yaml.compose`` with the same loader, to know each key's
line for error messages.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from typing import Iterable, Mapping, Sequence

import pandas as pd
import yaml

from ..corpus.documents import LANGUAGES
from ..errors import InputError
from ..text.normalize import canonical_text, canonical_vi
from ..text.tokens import PreparedDocument, TermRules, lemma_en, term_sentences, token_kind

SECTIONS = ("frames", "actors", "concepts", "speech_verbs")
TOP_KEYS = ("name", "version", "description", *SECTIONS)
ENTRY_KEYS = {
    "frames": ("label", "vi", "en"),
    "actors": ("label", "kind", "vi", "en"),
    "concepts": ("label", "vi", "en"),
}
ACTOR_KINDS = ("person", "country", "region", "organisation", "group")
_ID = re.compile(r"^[a-z][a-z0-9_]*$")
_VI_WORD = re.compile(r"^[^\W_]+(?:_[^\W_]+)*$")  # letters/digits, syllables joined by _
_EN_WORD = re.compile(r"^[^\W_]+(?:[-'’.][^\W_]*)*$")  # people-to-people, U.S., don't
_LETTER = re.compile(r"[^\W\d_]")
#: ``yaml.safe_load``'s loader, the libyaml (C) build when available: same tags, ten times faster.
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


# --------------------------------------------------------------------------------- the model


@dataclass(frozen=True)
class Pattern:
    """One pattern: ``text`` as written, ``words`` the normalised words or syllables it matches.

    Exact patterns match syllables (``vi``) or lemmas (``en``) across token boundaries; glob patterns
    (``glob=True``) match one token per word with ``*`` standing for any characters.
    """

    text: str
    words: tuple[str, ...]
    glob: bool
    line: int


@dataclass(frozen=True)
class Entry:
    """A frame, actor or concept: ``section``, ``family`` (frame family or actor kind), ``id``."""

    section: str
    family: str
    id: str
    label: str
    patterns: Mapping[str, tuple[Pattern, ...]]
    line: int


@dataclass(frozen=True)
class Codebook:
    """A validated codebook. ``frames``, ``actors`` and ``concepts`` in file order."""

    source: str
    name: str
    frames: tuple[Entry, ...]
    actors: tuple[Entry, ...]
    concepts: tuple[Entry, ...]
    speech_verbs: Mapping[str, tuple[Pattern, ...]]
    lemmatize_en: bool = True

    @property
    def frame_families(self) -> list[str]:
        return list(dict.fromkeys(e.family for e in self.frames))

    def entries(self, section: str) -> tuple[Entry, ...]:
        return {"frames": self.frames, "actors": self.actors, "concepts": self.concepts}[section]

    @cached_property
    def _matchers(self) -> dict:
        out = {}
        for lang in LANGUAGES:
            for family in self.frame_families:
                out[("frames", family, lang)] = Matcher(
                    [(e.id, p) for e in self.frames if e.family == family for p in e.patterns.get(lang, ())]
                )
            out[("actors", "", lang)] = Matcher([(e.id, p) for e in self.actors for p in e.patterns.get(lang, ())])
            # the concept axis: concepts and actors (countries and people are content words too)
            out[("concepts", "", lang)] = Matcher(
                [(e.id, p) for e in (*self.concepts, *self.actors) for p in e.patterns.get(lang, ())]
            )
            out[("speech_verbs", "", lang)] = Matcher([("speech", p) for p in self.speech_verbs.get(lang, ())])
        return out

    def matcher(self, section: str, language: str, family: str = "") -> "Matcher":
        return self._matchers[(section, family, language)]


# ------------------------------------------------------------------------ YAML with positions


def _refuse_aliases(text: str, problems) -> None:
    """Refuse YAML aliases (``*name``) before anything is built from the text.

    An alias repeats an anchored node; nested aliases ("billion laughs") expand a 1 kB file into
    gigabytes (74 s and 5.7 GB before a MemoryError). A codebook never needs one, and the event
    stream shows them without expanding anything.
    """
    for event in yaml.parse(text, Loader=_SAFE_LOADER):
        if isinstance(event, yaml.AliasEvent):
            problems.add(
                event.start_mark.line + 1,
                f"YAML alias '*{event.anchor}' is not allowed in a codebook",
                "write the entries out in full (aliases can expand a small file into gigabytes)",
            )
            raise _Fatal


@lru_cache(maxsize=None)
def glob_regex(word: str) -> re.Pattern:
    """A codebook glob (``*`` = any characters, nothing else special) as a whole-word regex.

    >>> bool(glob_regex("cooperat*").match("cooperation")), bool(glob_regex("nông_sản*").match("nông"))
    (True, False)
    """
    return re.compile("^" + ".*".join(map(re.escape, word.split("*"))) + "$")


def _positions(text: str) -> tuple[dict[tuple, int], list[tuple[int, str]], dict[tuple, str]]:
    """Line (1-based) of every mapping key and sequence item, by path; duplicate keys; and the
    source text of every scalar sequence item (``no`` reads as a boolean: the message quotes it).

    ``yaml.safe_load`` silently keeps the last of two equal keys, so duplicates are found here.
    """
    root = yaml.compose(text, Loader=_SAFE_LOADER)
    lines: dict[tuple, int] = {}
    duplicates: list[tuple[int, str]] = []
    raw: dict[tuple, str] = {}

    def walk(node, path: tuple) -> None:
        if isinstance(node, yaml.MappingNode):
            seen: set = set()
            for key_node, value_node in node.value:
                key = key_node.value
                if key in seen:
                    duplicates.append((key_node.start_mark.line + 1, "/".join(map(str, (*path, key)))))
                seen.add(key)
                lines.setdefault((*path, key), key_node.start_mark.line + 1)
                walk(value_node, (*path, key))
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                lines[(*path, i)] = item.start_mark.line + 1
                if isinstance(item, yaml.ScalarNode):
                    raw[(*path, i)] = item.value
                walk(item, (*path, i))

    if root is not None:
        walk(root, ())
    return lines, duplicates, raw


# ------------------------------------------------------------------------------ normalisation


@lru_cache(maxsize=200_000)
def _en_lemma(word: str) -> str:
    """simplemma lemma of a lower-case word; a hyphenated compound lemmatises its head.

    The same rule as :mod:`analysis.text.tokens` ("border-gates" -> "border-gate"), so patterns and
    text meet in one form.
    """
    return lemma_en(word)


def en_words(text: str, lemmatize: bool = True) -> tuple[str, ...]:
    """English words of a pattern or token, lower-cased and lemmatised: ``Foreign Ministers`` ->
    ``('foreign', 'minister')``."""
    words = canonical_text(text).lower().split()
    return tuple(_en_lemma(w) if lemmatize and "*" not in w else w for w in words)


def vi_syllables(text: str) -> tuple[str, ...]:
    """Vietnamese syllables of a pattern or token in canonical form: ``Biển Đông`` -> ``('biển', 'đông')``."""
    return tuple(s for s in re.split(r"[\s_]+", canonical_vi(canonical_text(text)).lower()) if s)


def _dead_pattern(text: str, language: str, stopwords: frozenset[str], lemmatize: bool, is_speech: bool) -> str:
    """Why ``text`` can match no counted term after normalisation ("" if it can)."""
    stripped = text.strip()
    if not stripped.replace("*", "").replace("_", "").strip():
        return "it is empty" if "*" not in stripped else "a bare '*' would match every term"
    if not _LETTER.search(stripped):
        return "it has no letter: numbers and punctuation are never counted terms"
    if language == "vi":
        for word in canonical_vi(canonical_text(stripped)).split():
            if not _VI_WORD.match(word.replace("*", "x")):
                bad = sorted({c for c in word if not (c.isalnum() or c in "_*")})
                return f"it contains {''.join(bad)!r}, which segmented Vietnamese words never contain"
    else:
        words = stripped.split()
        for word in words:
            if not _EN_WORD.match(word.replace("*", "x")):
                bad = sorted({c for c in word if not (c.isalnum() or c in "-'’.*")})
                return f"it contains {''.join(bad)!r}, which English tokens never contain"
    return ""


def _pattern(text: str, language: str, line: int, lemmatize: bool) -> Pattern:
    glob = "*" in text
    if language == "vi":
        words = ("_".join(vi_syllables(text)),) if glob else vi_syllables(text)
    else:
        words = en_words(text, lemmatize)
    return Pattern(unicodedata.normalize("NFC", text.strip()), words, glob, line)


# ----------------------------------------------------------------------------------- parsing


@dataclass
class _Problems:
    source: str
    items: list[tuple[int, str, str]] = field(default_factory=list)
    raw: dict[tuple, str] = field(default_factory=dict)  # source text of scalar list items

    def add(self, line: int, problem: str, fix: str = "") -> None:
        self.items.append((line, problem, fix))

    def raise_first(self) -> None:
        if not self.items:
            return
        line, problem, fix = sorted(self.items, key=lambda i: i[0])[0]
        more = len(self.items) - 1
        if more:
            problem += f" ({more} more problem{'s' if more > 1 else ''} after this one)"
        raise InputError(f"{self.source} line {line}", problem, fix)


def validate_codebook(
    text: str,
    *,
    source: str = "codebook.yaml",
    stopwords: Mapping[str, frozenset[str]] | None = None,
    lemmatize_en: bool = True,
) -> list[tuple[int, str, str]]:
    """Every problem of a codebook as ``(line, problem, fix)``, sorted by line; ``[]`` if valid.

    Checks: YAML syntax, unknown keys, duplicate keys, ids, empty lists and entries, non-string
    patterns, duplicate patterns (within a list, and across the entries of one section or frame
    family once normalised: ``hoà_bình`` and ``hòa_bình`` are the same pattern), and patterns that
    can match nothing after normalisation (empty, no letter, characters a term never has).
    Stopwords are not rejected: they are exempted (:func:`stopword_exemptions`).
    """
    try:
        _parse(text, source, stopwords, lemmatize_en, problems := _Problems(source))
    except _Fatal:
        pass
    return sorted(problems.items, key=lambda i: i[0])


class _Fatal(Exception):
    """Stop parsing: the structure is too broken to check further."""


def parse_codebook(
    text: str,
    *,
    source: str = "codebook.yaml",
    stopwords: Mapping[str, frozenset[str]] | None = None,
    lemmatize_en: bool = True,
) -> Codebook:
    """Parse and validate codebook YAML text; raise :class:`InputError` naming the first bad line.

    ``stopwords`` is accepted for compatibility and no longer rejects anything: a pattern that is
    a stopword is exempted from the stopword list (:func:`stopword_exemptions`, the same rule in
    both languages) and reported by :func:`codebook_audit`, instead of being lost in one language.

    >>> cb = parse_codebook("concepts:\\n  cooperation: {vi: [hợp_tác], en: [cooperation]}\\n")
    >>> [(e.id, e.patterns['vi'][0].words) for e in cb.concepts]
    [('cooperation', ('hợp', 'tác'))]
    """
    problems = _Problems(source)
    try:
        codebook = _parse(text, source, stopwords, lemmatize_en, problems)
    except _Fatal:
        codebook = None
    problems.raise_first()
    assert codebook is not None
    return codebook


def _parse(text: str, source: str, stopwords, lemmatize_en: bool, problems: _Problems) -> Codebook:
    stopwords = stopwords or {}
    try:
        _refuse_aliases(text, problems)
        data = yaml.load(text, Loader=_SAFE_LOADER)  # = yaml.safe_load, in C when libyaml is there
        lines, duplicates, raw = _positions(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        problems.add(
            line,
            f"not valid YAML ({getattr(exc, 'problem', None) or exc})",
            "check indentation and quoting on that line",
        )
        raise _Fatal from None
    problems.raw = raw
    for line, path in duplicates:
        problems.add(line, f"duplicate key '{path}'", "merge the two entries into one")
    if not isinstance(data, dict):
        problems.add(
            1,
            "the codebook must be a mapping with sections frames, actors, concepts, speech_verbs",
            "start the file with 'frames:'",
        )
        raise _Fatal
    at = lambda *path: lines.get(tuple(path), lines.get(tuple(path[:-1]), 1) if path else 1)  # noqa: E731
    for key in data:
        if key not in TOP_KEYS:
            problems.add(at(key), f"unknown key '{key}' at the top level", f"use one of: {', '.join(TOP_KEYS)}")
    name = data.get("name", "")
    if not isinstance(name, str):
        problems.add(at("name"), "name must be a string", "")
        name = ""

    frames: list[Entry] = []
    raw_frames = data.get("frames") or {}
    if "frames" in data and not _mapping(raw_frames, problems, at("frames"), "frames", "a frame family (e.g. issue:)"):
        raw_frames = {}
    for family, members in raw_frames.items():
        family = str(family)
        if not _valid_id(family, problems, at("frames", family), "frame family"):
            continue
        if not _mapping(members, problems, at("frames", family), f"frames/{family}", "frames of this family"):
            continue
        owner: dict[tuple, tuple[str, int]] = {}
        for entry_id, body in members.items():
            entry = _entry(
                "frames",
                family,
                str(entry_id),
                body,
                ("frames", family, entry_id),
                at=at,
                problems=problems,
                stopwords=stopwords,
                lemmatize_en=lemmatize_en,
                owner=owner,
            )
            if entry is not None:
                frames.append(entry)

    actors: list[Entry] = []
    concepts: list[Entry] = []
    axis_owner: dict[tuple, tuple[str, int]] = {}  # concepts and actors share one concept axis
    for section, target in (("actors", actors), ("concepts", concepts)):
        raw = data.get(section) or {}
        if section in data and not _mapping(raw, problems, at(section), section, "entries"):
            continue
        for entry_id, body in raw.items():
            entry = _entry(
                section,
                "",
                str(entry_id),
                body,
                (section, entry_id),
                at=at,
                problems=problems,
                stopwords=stopwords,
                lemmatize_en=lemmatize_en,
                owner=axis_owner,
            )
            if entry is not None:
                target.append(entry)
    ids = Counter(e.id for e in (*actors, *concepts))
    for e in concepts:
        if ids[e.id] > 1:
            problems.add(
                e.line,
                f"concept id '{e.id}' is also an actor id",
                "rename one: actors and concepts share the concept axis",
            )

    speech: dict[str, tuple[Pattern, ...]] = {}
    raw_speech = data.get("speech_verbs") or {}
    if "speech_verbs" in data and _mapping(
        raw_speech, problems, at("speech_verbs"), "speech_verbs", "vi: and en: lists"
    ):
        for lang, values in raw_speech.items():
            if lang not in LANGUAGES:
                problems.add(at("speech_verbs", lang), f"unknown key '{lang}' in speech_verbs", "use vi or en")
                continue
            speech[lang] = _patterns(
                values,
                ("speech_verbs", lang),
                lang,
                at,
                problems,
                stopwords=stopwords.get(lang, frozenset()),
                lemmatize_en=lemmatize_en,
                is_speech=True,
                entry_id="speech_verbs",
                owner={},
            )
    return Codebook(source, name, tuple(frames), tuple(actors), tuple(concepts), speech, lemmatize_en)


def _mapping(value, problems: _Problems, line: int, where: str, what: str) -> bool:
    if isinstance(value, dict) and value:
        return True
    if isinstance(value, dict) or value is None:
        problems.add(line, f"'{where}' is empty", f"add {what} or remove the key")
    else:
        problems.add(line, f"'{where}' must be a mapping, got {type(value).__name__}", f"indent {what} under it")
    return False


def _valid_id(entry_id: str, problems: _Problems, line: int, what: str) -> bool:
    if _ID.match(entry_id):
        return True
    problems.add(
        line, f"{what} id '{entry_id}' is not lower-case ASCII letters, digits and _", "rename it, e.g. east_sea"
    )
    return False


def _entry(section, family, entry_id, body, path, *, at, problems, stopwords, lemmatize_en, owner) -> Entry | None:
    line = at(*path)
    where = "/".join(map(str, path))
    if not _valid_id(entry_id, problems, line, section.rstrip("s")):
        return None
    if not isinstance(body, dict):
        problems.add(line, f"'{where}' must be a mapping with vi: and en: lists", "write it as {vi: [...], en: [...]}")
        return None
    allowed = ENTRY_KEYS[section]
    for key in body:
        if key not in allowed:
            problems.add(at(*path, key), f"unknown key '{key}' in {where}", f"use one of: {', '.join(allowed)}")
    label = body.get("label", entry_id.replace("_", " "))
    if not isinstance(label, str):
        problems.add(at(*path, "label"), f"label of {where} must be a string", "quote it")
        label = entry_id
    kind = ""
    if section == "actors":
        kind = body.get("kind", "")
        if kind not in ACTOR_KINDS:
            problems.add(
                at(*path, "kind") if "kind" in body else line,
                f"actor {where} has kind {kind!r}",
                f"use one of: {', '.join(ACTOR_KINDS)}",
            )
    if not any(lang in body for lang in LANGUAGES):
        problems.add(line, f"'{where}' has no vi: or en: patterns", "add at least one list of patterns")
        return None
    patterns = {}
    for lang in LANGUAGES:
        if lang in body:
            patterns[lang] = _patterns(
                body[lang],
                (*path, lang),
                lang,
                at,
                problems,
                stopwords=stopwords.get(lang, frozenset()),
                lemmatize_en=lemmatize_en,
                is_speech=False,
                entry_id=entry_id,
                owner=owner,
            )
    return Entry(section, family or kind, entry_id, label, patterns, line)


def _patterns(
    values, path, lang, at, problems, *, stopwords, lemmatize_en, is_speech, entry_id, owner
) -> tuple[Pattern, ...]:
    where = "/".join(map(str, path))
    if isinstance(values, str):
        values = [values]
    if not isinstance(values, list):
        problems.add(at(*path), f"'{where}' must be a list of patterns", "write it as [a, b]")
        return ()
    if not values:
        problems.add(at(*path), f"empty pattern list '{where}'", "add patterns or remove the key")
        return ()
    out: list[Pattern] = []
    seen: dict[tuple, Pattern] = {}
    for i, value in enumerate(values):
        line = at(*path, i)
        if not isinstance(value, str):
            shown = problems.raw.get((*path, i), str(value))
            kind = {bool: "true/false", int: "a number", float: "a number"}.get(type(value), type(value).__name__)
            problems.add(line, f"pattern '{shown}' in '{where}' is read as {kind}, not text", f"quote it: '{shown}'")
            continue
        reason = _dead_pattern(value, lang, stopwords, lemmatize_en, is_speech)
        if reason:
            problems.add(
                line,
                f"pattern '{value}' in '{where}' can match nothing after normalisation: {reason}",
                "remove or correct it",
            )
            continue
        pattern = _pattern(value, lang, line, lemmatize_en)
        key = (lang, pattern.words, pattern.glob)
        if key in seen:
            first = seen[key]
            same = "" if first.text == value else f" (same as '{first.text}' once normalised)"
            problems.add(
                line,
                f"duplicate pattern '{value}' in '{where}'{same}, first on line {first.line}",
                "remove one of them",
            )
            continue
        seen[key] = pattern
        if not is_speech:
            if key in owner and owner[key][0] != entry_id:
                other, other_line = owner[key]
                problems.add(
                    line,
                    f"duplicate pattern '{value}' in '{where}': already used by '{other}' on line {other_line}",
                    "keep it in one entry only (a term maps to one entry)",
                )
                continue
            owner[key] = (entry_id, line)
        out.append(pattern)
    return tuple(out)


# ---------------------------------------------------------------------------------- matching


@dataclass(frozen=True)
class TokenKey:
    """A word token as the matcher sees it: normalised ``parts`` (syllables or lemmas), ``joined``
    (one string, for globs) and whether the token is a counted term."""

    parts: tuple[str, ...]
    joined: str
    counted: bool
    term: str | None


@dataclass(frozen=True)
class Hit:
    """A match of ``entry`` on tokens ``[start, end)`` of a sentence; ``counted`` of them are terms."""

    entry: str
    start: int
    end: int
    counted: int
    pattern: str = ""  # the pattern as written in the codebook that made the hit


class Matcher:
    """Leftmost-longest, non-overlapping matching of patterns against a sentence of :class:`TokenKey`.

    Exact patterns match on parts (syllables or lemmas) and must begin at a token's first part and
    end at a token's last part; glob patterns match one token per word. Among matches of equal
    length at one position the first pattern in codebook order wins (deterministic).
    """

    def __init__(self, patterns: Sequence[tuple[str, Pattern]]):
        self.exact: dict[tuple[str, ...], str] = {}
        self.source: dict[tuple[str, ...] | int, str] = {}  # pattern text by exact words or glob index
        self.prefixes: set[tuple[str, ...]] = set()
        self.globs: list[tuple[tuple[re.Pattern, ...], str]] = []
        # The glob index: globs by the literal text before the first ``*`` of their first word.
        # A glob can only match a token that starts with that text, so at each token only the
        # globs under its prefixes (a few dictionary look-ups, one per distinct prefix length)
        # are tried, not every glob of the codebook.
        self.glob_index: dict[str, list[int]] = {}
        for entry_id, pattern in patterns:
            if pattern.glob:
                regexes = tuple(glob_regex(w) for w in pattern.words)
                self.glob_index.setdefault(pattern.words[0].split("*", 1)[0], []).append(len(self.globs))
                self.source[len(self.globs)] = pattern.text
                self.globs.append((regexes, entry_id))
            else:
                if pattern.words not in self.exact:
                    self.source[pattern.words] = pattern.text
                self.exact.setdefault(pattern.words, entry_id)
                for end in range(1, len(pattern.words)):
                    self.prefixes.add(pattern.words[:end])
        self.glob_lengths = sorted({len(p) for p in self.glob_index})

    def _glob_candidates(self, token: str) -> list[int]:
        """Indices (codebook order) of the globs whose literal start ``token`` has."""
        found: list[int] = []
        for length in self.glob_lengths:
            if length > len(token):
                break
            found += self.glob_index.get(token[:length], ())
        return sorted(found) if len(found) > 1 else found

    def __len__(self) -> int:
        return len(self.exact) + len(self.globs)

    def find(self, sentence: Sequence[TokenKey | None], require_counted: bool = True) -> list[Hit]:
        """Hits in ``sentence`` (``None`` = number or punctuation, which no pattern spans).

        With ``require_counted`` a one-token match made only of a stopword is dropped (a stopword
        is not counted, so it carries no frame or concept); a match spanning several tokens is
        kept even when each token is a stopword (``two sides``, ``hai bên``): a phrase pattern
        names a meaning its words do not have alone. Single-word patterns of the study's
        codebook are exempt from its stopword lists (:func:`stopword_exemptions`), in both
        languages by the same rule, so in a study run they are never dropped.
        """
        hits: list[Hit] = []
        i, n = 0, len(sentence)
        while i < n:
            best: tuple[int, str, str] | None = None
            if sentence[i] is not None:
                parts: tuple[str, ...] = ()
                j = i
                while j < n and sentence[j] is not None:
                    parts = parts + sentence[j].parts
                    j += 1
                    if parts in self.exact:
                        best = (j, self.exact[parts], self.source[parts])
                    if parts not in self.prefixes:
                        break
                for g in self._glob_candidates(sentence[i].joined) if self.globs else ():
                    regexes, entry_id = self.globs[g]
                    end = i + len(regexes)
                    if end > n or (best is not None and end <= best[0]):
                        continue
                    if all(
                        sentence[k] is not None and r.match(sentence[k].joined) for k, r in zip(range(i, end), regexes)
                    ):
                        best = (end, entry_id, self.source[g])
            if best is not None:
                end, entry_id, text = best
                counted = sum(1 for k in range(i, end) if sentence[k].counted)
                if counted or not require_counted or end - i > 1:
                    hits.append(Hit(entry_id, i, end, counted, text))
                    i = end
                    continue
            i += 1
        return hits


def sentence_keys(doc: PreparedDocument, rules: TermRules) -> list[list[TokenKey | None]]:
    """Per sentence, the :class:`TokenKey` of every word token (``None`` for numbers, punctuation).

    Stopwords keep a key (``counted=False``) so multi-word patterns such as ``code of conduct`` and
    speech verbs that are stopwords (``say``) can still be matched.
    """
    out = []
    for sentence, terms in zip(doc.sentences(), term_sentences(doc, rules)):
        out.append([_token_key(token, term, doc.language, rules.lemmatize_en) for token, term in zip(sentence, terms)])
    return out


@lru_cache(maxsize=500_000)
def _token_key(token: str, term: str | None, language: str, lemmatize: bool) -> TokenKey | None:
    """One shared (immutable) key per distinct token, so a large corpus holds references, not copies."""
    if token_kind(token) != "word":
        return None
    if language == "vi":
        parts = tuple(token.lower().split("_"))
        joined = "_".join(parts)
    else:
        parts = en_words(token, lemmatize)
        joined = " ".join(parts)
    return TokenKey(parts, joined, term is not None, term)


def release_key_cache() -> None:
    """Empty the cache of token keys (:func:`sentence_keys`): one key per distinct token of every
    corpus annotated in this process (up to 500,000, a few hundred bytes each), held until the
    process ends unless released. Keys are rebuilt on demand, equal to the released ones."""
    _token_key.cache_clear()


# -------------------------------------------------------------------------- maps and phrases


def concept_map(codebook: Codebook, vocab: Iterable[str] | None = None) -> dict[str, dict[str, str]]:
    """Term -> concept id, per language, for counted terms (concepts and actors share the axis).

    Returns ``{"vi": {term: concept_id}, "en": {term_lowercase: concept_id}}``. Vietnamese keys are
    ``_``-joined syllables (``biển_đông``); English keys the lower-cased lemma words joined by a
    space (``east sea``), plus the pattern as written in lower case when it differs. With ``vocab``
    (the corpus terms) glob patterns are expanded against it, and English terms that keep their
    surface form (names and merged phrases: ``Parties``, ``Foreign Ministers``) are added when
    their lemmas spell a pattern (``party``, ``foreign minister``).

    >>> cb = parse_codebook("concepts:\\n  sea: {vi: [Biển Đông], en: [East Sea, maritime*]}\\n")
    >>> concept_map(cb, vocab=["maritime", "sea"])
    {'vi': {'biển_đông': 'sea'}, 'en': {'east sea': 'sea', 'maritime': 'sea'}}
    """
    out: dict[str, dict[str, str]] = {"vi": {}, "en": {}}
    vocab = sorted(set(vocab)) if vocab is not None else []
    for entry in (*codebook.concepts, *codebook.actors):
        for lang in LANGUAGES:
            for pattern in entry.patterns.get(lang, ()):
                if pattern.glob:
                    regexes = [glob_regex(w) for w in pattern.words]
                    if len(regexes) == 1:
                        for term in vocab:
                            if regexes[0].match(term.lower()):
                                out[lang].setdefault(term.lower(), entry.id)
                    continue
                joiner = "_" if lang == "vi" else " "
                out[lang].setdefault(joiner.join(pattern.words), entry.id)
                if lang == "en":
                    out[lang].setdefault(" ".join(pattern.text.lower().split()), entry.id)
    for term in vocab:
        key = " ".join(en_words(term, codebook.lemmatize_en))
        if key in out["en"] and not any(c in term for c in "_"):
            out["en"].setdefault(term.lower(), out["en"][key])
    return {lang: dict(sorted(terms.items())) for lang, terms in out.items()}


def codebook_phrases(codebook: Codebook) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Multi-word patterns to merge into one token during preparation: ``(vi, en)``.

    A pattern written as several words (separated by spaces) is a phrase. Vietnamese: every exact
    phrase (``cộng_đồng chia_sẻ tương_lai``, ``đảng cộng_sản việt_nam``); ``_`` joins the syllables
    of one word, so ``hai_bên`` is matched but not merged. English: exact phrases whose first word
    has a capital (names: ``East Sea``, ``Code of Conduct``); lower-case ones (``agricultural
    product``) are lemma sequences, matched in place, because merging works on surface forms and
    would miss the plural. Merging never changes what matches (matching is on syllables and
    lemmas); it makes the codebook's phrases single terms for frequencies, topics and
    :func:`concept_map`.

    >>> cb = parse_codebook("concepts:\\n  sea: {vi: [biển_đông, cộng_đồng chia_sẻ], en: [East Sea, sea law]}\\n")
    >>> codebook_phrases(cb)
    (('cộng_đồng chia_sẻ',), ('East Sea',))
    """
    vi: set[str] = set()
    en: set[str] = set()
    for entry in (*codebook.frames, *codebook.actors, *codebook.concepts):
        for pattern in entry.patterns.get("vi", ()):
            if not pattern.glob and len(pattern.text.split()) >= 2:
                vi.add(" ".join(pattern.text.split()))
        for pattern in entry.patterns.get("en", ()):
            words = pattern.text.split()
            if not pattern.glob and len(words) >= 2 and words[0][:1].isupper():
                en.add(" ".join(words))
    return tuple(sorted(vi)), tuple(sorted(en))


# ---------------------------------------------------------------------------------- coverage


def coverage_report(
    keyed: Mapping[str, tuple[str, list[list[TokenKey | None]]]], codebook: Codebook, top_n: int = 25
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """How much of the counted text the codebook maps, per language; the top unmapped terms.

    ``keyed`` maps ``doc_id -> (language, sentence_keys(...))``. A counted token is *mapped* when
    it lies inside a concept-axis hit (concepts and actors); *in a frame* when inside a frame hit
    of any family. Returns ``(coverage, unmapped)``:

    * coverage columns: ``language, documents, tokens, types, mapped_tokens, mapped_share,
      mapped_types, type_share, frame_tokens, frame_share, actor_tokens, actor_share``;
    * unmapped columns: ``language, rank, term, count, share`` (share of the language's tokens),
      the ``top_n`` most frequent counted terms no concept covers: where to extend the codebook.

    In the example one of the sentence's four counted words (``hợp_tác``) is a concept: 25%.

    >>> from analysis.text.tokens import PreparedDocument, TermRules
    >>> cb = parse_codebook("concepts:\\n  cooperation: {vi: [hợp_tác], en: [cooperation]}\\n")
    >>> doc = PreparedDocument("v1", "vi", [[["Hai", "nước", "hợp_tác", "kinh_tế", "."]]])
    >>> coverage, unmapped = coverage_report({"v1": ("vi", sentence_keys(doc, TermRules({})))}, cb)
    >>> print(coverage[["language", "tokens", "mapped_tokens", "mapped_share"]].to_string(index=False))
    language  tokens  mapped_tokens  mapped_share
          vi       4              1          0.25
    >>> unmapped["term"].tolist()
    ['hai', 'kinh_tế', 'nước']
    """
    tally = CoverageTally()
    for doc_id in sorted(keyed):
        lang, sentences = keyed[doc_id]
        concepts = codebook.matcher("concepts", lang)
        actors = codebook.matcher("actors", lang)
        frame_matchers = [codebook.matcher("frames", lang, f) for f in codebook.frame_families]
        tally.add(
            lang,
            sentences,
            [concepts.find(s) for s in sentences],
            [[m.find(s) for m in frame_matchers] for s in sentences],
            [actors.find(s) for s in sentences],
        )
    return tally.tables(top_n)


class CoverageTally:
    """The counts behind :func:`coverage_report`, one document at a time.

    The annotation of a document already holds the hits the report needs (concept axis, frames of
    every family, actors; the same matchers, the same rule on stopwords), so the framing stage adds
    each annotation's hits here instead of matching the codebook a second time; documents can be
    added as they stream by and released.
    """

    def __init__(self) -> None:
        self.stats: dict[str, dict] = {}
        self.unmapped: dict[str, Counter] = {}

    def _language(self, lang: str) -> dict:
        return self.stats.setdefault(
            lang,
            {"documents": 0, "tokens": 0, "types": set(), "mapped": 0, "mapped_types": set(), "frame": 0, "actor": 0},
        )

    def add(
        self,
        lang: str,
        sentences: Sequence[Sequence[TokenKey | None]],
        concept_hits: Sequence[Iterable[Hit]],
        frame_hits: Sequence[Iterable[Iterable[Hit]]],
        actor_hits: Sequence[Iterable[Hit]],
    ) -> None:
        """One document: per sentence its keys, concept-axis hits, frame hits (one list per family)
        and actor hits."""
        s = self._language(lang)
        s["documents"] += 1
        miss = self.unmapped.setdefault(lang, Counter())
        for sentence, concepts, frames, actors in zip(sentences, concept_hits, frame_hits, actor_hits):
            covered = _covered(concepts)
            in_frame = set().union(*(_covered(h) for h in frames))
            in_actor = _covered(actors)
            for k, key in enumerate(sentence):
                if key is None or not key.counted:
                    continue
                s["tokens"] += 1
                s["types"].add(key.term)
                if k in covered:
                    s["mapped"] += 1
                    s["mapped_types"].add(key.term)
                else:
                    miss[key.term] += 1
                s["frame"] += k in in_frame
                s["actor"] += k in in_actor

    def merge(self, other: CoverageTally) -> None:
        """Add the counts of ``other`` (documents tallied elsewhere: a chunk annotated in another
        process): counts add, term sets unite, so the tables are those of one tally of every document."""
        for lang, theirs in other.stats.items():
            s = self._language(lang)
            for key, value in theirs.items():
                if isinstance(value, set):
                    s[key] |= value
                else:
                    s[key] += value
        for lang, counts in other.unmapped.items():
            self.unmapped.setdefault(lang, Counter()).update(counts)

    def tables(self, top_n: int = 25) -> tuple[pd.DataFrame, pd.DataFrame]:
        """``(coverage, unmapped)`` as :func:`coverage_report` returns them."""
        stats, unmapped = self.stats, self.unmapped
        rows = []
        for lang in sorted(stats):
            s = stats[lang]
            tokens = s["tokens"]
            share = lambda x: x / tokens if tokens else 0.0  # noqa: E731
            rows.append(
                (
                    lang,
                    s["documents"],
                    tokens,
                    len(s["types"]),
                    s["mapped"],
                    share(s["mapped"]),
                    len(s["mapped_types"]),
                    len(s["mapped_types"]) / len(s["types"]) if s["types"] else 0.0,
                    s["frame"],
                    share(s["frame"]),
                    s["actor"],
                    share(s["actor"]),
                )
            )
        coverage = pd.DataFrame(rows, columns=COVERAGE_COLUMNS)
        records = []
        for lang in sorted(unmapped):
            total = stats[lang]["tokens"]
            items = sorted(unmapped[lang].items(), key=lambda p: (-p[1], p[0]))[:top_n]
            records += [
                (lang, rank, term, count, count / total if total else 0.0)
                for rank, (term, count) in enumerate(items, start=1)
            ]
        return coverage, pd.DataFrame(records, columns=["language", "rank", "term", "count", "share"])


COVERAGE_COLUMNS = [
    "language",
    "documents",
    "tokens",
    "types",
    "mapped_tokens",
    "mapped_share",
    "mapped_types",
    "type_share",
    "frame_tokens",
    "frame_share",
    "actor_tokens",
    "actor_share",
]


def _covered(hits: Iterable[Hit]) -> set[int]:
    return {k for h in hits for k in range(h.start, h.end)}


# ------------------------------------------------------------------ stopwords and the codebook


def stopword_exemptions(codebook: Codebook) -> dict[str, frozenset[str]]:
    """Forms to take out of the stopword lists so that no single-word pattern is lost to them.

    The rule, the same in both languages: a word the codebook names as a pattern of a frame,
    actor or concept is a content word of the study. Stopword lists are general-purpose
    (stopwordsiso's English list has "people", "world", "first", "today"; its Vietnamese list
    "người", "mới", "nói"), and removing a pattern in one language only makes a concept
    one-sided: counts drop to zero in that language while the other keeps them. Exempting the
    pattern keeps it in every stage (framing, word counts, the joint topic model), and
    :func:`codebook_audit` lists every exempted word so the change is visible. Phrase patterns
    (several words) exempt nothing: they match even when each word is a stopword
    (:meth:`Matcher.find`). Glob patterns exempt nothing.

    Returns ``{"vi": {"người", ...}, "en": {"people", ...}}`` in the canonical forms of
    :class:`~analysis.text.tokens.TermRules` (Vietnamese ``_``-joined lower case; English both the
    lower-cased pattern and its lemma, because a token is checked in both forms).

    >>> cb = parse_codebook("concepts:\\n  people: {vi: [người], en: [people, two sides]}\\n")
    >>> stopword_exemptions(cb)
    {'vi': frozenset({'người'}), 'en': frozenset({'people'})}
    """
    out: dict[str, set[str]] = {"vi": set(), "en": set()}
    for entry in (*codebook.frames, *codebook.actors, *codebook.concepts):
        for lang in LANGUAGES:
            for pattern in entry.patterns.get(lang, ()):
                if pattern.glob or len(pattern.text.split()) != 1:
                    continue
                if lang == "vi":
                    out["vi"].add("_".join(pattern.words))
                else:
                    out["en"].add(pattern.words[0])
                    out["en"].add(pattern.text.lower())
    return {lang: frozenset(words) for lang, words in out.items()}


def codebook_audit(codebook: Codebook, stopwords: Mapping[str, frozenset[str]] | None = None) -> pd.DataFrame:
    """Per frame, actor and concept: patterns per language, whether it is one-sided, and which of
    its patterns are words of a stopword list (exempted by :func:`stopword_exemptions`).

    ``stopwords`` are the lists *before* the exemption (``{"vi": ..., "en": ...}``, canonical
    forms). Columns: ``kind, family, entry, label, patterns_vi, patterns_en, one_sided,
    stopword_vi, stopword_en, note``; ``stopword_*`` lists the patterns (``;``-separated). A
    one-sided entry can be counted in one language only: every comparison of it across languages
    measures the codebook, not the coverage.
    """
    stopwords = stopwords or {}
    rows = []
    for kind, entries in (("frame", codebook.frames), ("actor", codebook.actors), ("concept", codebook.concepts)):
        for entry in entries:
            counts = {lang: len(entry.patterns.get(lang, ())) for lang in LANGUAGES}
            lost = {}
            for lang in LANGUAGES:
                words = stopwords.get(lang, frozenset())
                hit = []
                for p in entry.patterns.get(lang, ()):
                    if p.glob or len(p.text.split()) != 1:
                        continue
                    forms = {"_".join(p.words)} if lang == "vi" else {p.words[0], p.text.lower()}
                    if forms & words:
                        hit.append(p.text)
                lost[lang] = hit
            one_sided = min(counts.values()) == 0
            notes = []
            if one_sided:
                missing = [lang for lang in LANGUAGES if counts[lang] == 0]
                notes.append(f"one-sided: no {'/'.join(missing)} pattern")
            for lang in LANGUAGES:
                if lost[lang]:
                    notes.append(
                        f"{lang} stopword{'s' if len(lost[lang]) > 1 else ''} exempted: {', '.join(lost[lang])}"
                    )
            rows.append(
                (
                    kind,
                    entry.family if kind == "frame" else (entry.family if kind == "actor" else ""),
                    entry.id,
                    entry.label,
                    counts["vi"],
                    counts["en"],
                    one_sided,
                    "; ".join(lost["vi"]),
                    "; ".join(lost["en"]),
                    "; ".join(notes),
                )
            )
    return pd.DataFrame(
        rows,
        columns=[
            "kind",
            "family",
            "entry",
            "label",
            "patterns_vi",
            "patterns_en",
            "one_sided",
            "stopword_vi",
            "stopword_en",
            "note",
        ],
    )
