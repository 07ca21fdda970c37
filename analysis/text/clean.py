"""Boilerplate removal by editable rules (``resources/boilerplate.toml``), with a log of every cut.

Why rules in a data file: every news site has its own chrome (VTV's "Cùng chuyên mục" block,
"Source / Comment (0)" footers, photo credits, bylines). A researcher adds a site by adding a rule,
and a reviewer can read exactly what was removed from which document (the cleaning table).
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache

import regex

from ..errors import InputError

#: Longest time one rule may take on one line. A normal rule takes microseconds; a pattern with
#: nested repetition (``(a|aa)+$``) can take longer than the age of the universe on a long line.
#: The ``regex`` module stops the match at this limit plus :data:`RULE_SECONDS_PER_MB` for each
#: megabyte of the line (the default rules take at most 0.11 s on a 2 MB line), and the rule is
#: named in the error.
RULE_TIMEOUT_SECONDS = 1.0
RULE_SECONDS_PER_MB = 1.0
#: A line rule (``drop_line``) describes a short line (a footer, a dateline, a caption). A longer
#: matching line that the match does not cover whole is not that line: only its head up to the
#: end of the match is removed (a dateline that the article's body follows on the same line), or
#: its tail from the start of a match that ends the line (a credit closing a paragraph), or, for a
#: match in the middle, nothing. Each cut is logged.
DROP_LINE_MAX_CHARS = 300
DROP_LINE_HEAD_CHARS = 120

UPPER = "A-ZĐÀÁẢÃẠĂẰẮẲẴẶÂẦẤẨẪẬÈÉẺẼẸÊỀẾỂỄỆÌÍỈĨỊÒÓỎÕỌÔỒỐỔỖỘƠỜỚỞỠỢÙÚỦŨỤƯỪỨỬỮỰỲÝỶỸỴ"
KINDS = ("truncate_from", "drop_line", "drop_line_and_next", "strip", "strip_last_line")
RULE_KEYS = {"name", "kind", "pattern", "languages", "description", "outlets"}


@dataclass(frozen=True)
class Rule:
    name: str
    kind: str
    pattern: re.Pattern
    languages: tuple[str, ...]
    description: str = ""
    source: str = ""  # the rule file, for messages
    outlets: tuple[str, ...] = ()  # only documents of these outlets (empty: every outlet)


@dataclass(frozen=True)
class Removal:
    """One cut: which rule removed what from which line (1-based, in the NFC text)."""

    rule: str
    kind: str
    line: int
    text: str


def parse_rules(text: str, where: str) -> tuple[Rule, ...]:
    """Parse and validate a rule file's TOML text; errors name the rule and the fix."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(where, f"not valid TOML ({exc})", "check the line the parser names") from exc
    unknown = set(raw) - {"rule"}
    if unknown:
        raise InputError(where, f"unknown key '{sorted(unknown)[0]}'", "rules are [[rule]] tables")
    rules = []
    for index, entry in enumerate(raw.get("rule", []), start=1):
        label = f"{where} rule {index} ({entry.get('name', '?')})"
        extra = set(entry) - RULE_KEYS
        if extra:
            raise InputError(label, f"unknown key '{sorted(extra)[0]}'", f"use {sorted(RULE_KEYS)}")
        for key in ("name", "kind", "pattern"):
            if not isinstance(entry.get(key), str) or not entry[key]:
                raise InputError(label, f"missing '{key}'", f"give the rule a {key}")
        if entry["kind"] not in KINDS:
            raise InputError(label, f"unknown kind '{entry['kind']}'", f"use one of {', '.join(KINDS)}")
        try:
            pattern = regex.compile(entry["pattern"].replace("{UPPER}", f"[{UPPER}]"))
        except (regex.error, re.error) as exc:
            raise InputError(label, f"bad regular expression ({exc})", "fix the pattern") from None
        languages = tuple(entry.get("languages", ["vi", "en"]))
        outlets = entry.get("outlets", [])
        if not isinstance(outlets, list) or not all(isinstance(o, str) for o in outlets):
            raise InputError(
                label,
                "outlets must be a list of outlet names",
                'write outlets = ["Báo A"] (or leave it out: every outlet)',
            )
        rules.append(
            Rule(entry["name"], entry["kind"], pattern, languages, entry.get("description", ""), where, tuple(outlets))
        )
    return tuple(rules)


def remove_boilerplate(
    text: str, rules: tuple[Rule, ...], language: str, *, where: str = "<text>", outlet: str | None = None
) -> tuple[str, list[Removal]]:
    """Apply ``rules`` in order to an NFC text; return the cleaned text and the removals.

    Line numbers in the log refer to the input text. Blank lines are kept (they separate
    paragraphs). A ``drop_line`` rule drops a line only when the line is what it describes: a line
    longer than :data:`DROP_LINE_MAX_CHARS` that the match does not cover whole loses only its
    head up to the end of the match (kind ``drop_line_head``, a match within its first
    :data:`DROP_LINE_HEAD_CHARS` characters), or its tail from a match that ends the line (kind
    ``drop_line_tail``), or nothing. Every match is bounded in time (:func:`_limit`,
    about a second a line; the error names the rule and the line). A rule with ``outlets``
    (the corpus-learned rules, :mod:`analysis.text.learned_boilerplate`) applies only to a text whose
    ``outlet`` is one of them.

    Examples
    --------
    >>> from analysis.text.clean import parse_rules
    >>> rules = parse_rules('[[rule]]\\nname="f"\\nkind="drop_line"\\npattern="^Source$"', "r")
    >>> remove_boilerplate("Hai bên nhất trí.\\nSource", rules, "vi")[0]
    'Hai bên nhất trí.'
    """
    lines: list[tuple[int, str]] = list(enumerate(text.split("\n"), start=1))
    removals: list[Removal] = []
    for rule in rules:
        if language not in rule.languages or (rule.outlets and outlet not in rule.outlets):
            continue
        if not _may_match(rule, lines):
            continue  # no line holds a match: the rule changes nothing (one search instead of one a line)

        def search(line: str, number: int, rule: Rule = rule):
            try:
                return rule.pattern.search(line, timeout=_limit(line))
            except TimeoutError:
                raise _timed_out(rule, where, number, line) from None

        if rule.kind == "truncate_from":
            for position, (number, line) in enumerate(lines):
                if search(line, number):
                    cut = "\n".join(content for _, content in lines[position:]).strip()
                    removals.append(Removal(rule.name, rule.kind, number, cut))
                    lines = lines[:position]
                    break
        elif rule.kind in ("drop_line", "drop_line_and_next"):
            kept: list[tuple[int, str]] = []
            drop_next = False
            for number, line in lines:
                if drop_next and line.strip():
                    removals.append(Removal(rule.name, rule.kind, number, line.strip()))
                    drop_next = False
                    continue
                match = search(line, number) if line.strip() else None
                if match and len(line.strip()) > DROP_LINE_MAX_CHARS:
                    start = match.start() - (len(line) - len(line.lstrip()))  # from the first visible character
                    before, after = line[: match.start()].strip(), line[match.end() :].strip()
                    if before or after:
                        # Not the short line the rule describes: the body before or after the match stays.
                        if start <= DROP_LINE_HEAD_CHARS and after:
                            removals.append(Removal(rule.name, "drop_line_head", number, line[: match.end()].strip()))
                            kept.append((number, after))
                        elif not after:
                            removals.append(Removal(rule.name, "drop_line_tail", number, line[match.start() :].strip()))
                            kept.append((number, before))
                        else:
                            kept.append((number, line))
                        continue
                if match:
                    removals.append(Removal(rule.name, rule.kind, number, line.strip()))
                    drop_next = rule.kind == "drop_line_and_next"
                    continue
                kept.append((number, line))
            lines = kept
        else:
            targets = range(len(lines))
            if rule.kind == "strip_last_line":
                non_empty = [i for i, (_, line) in enumerate(lines) if line.strip()]
                targets = non_empty[-1:]
            for i in targets:
                number, line = lines[i]
                try:
                    found = [
                        m.group(0) for m in rule.pattern.finditer(line, timeout=_limit(line)) if m.group(0).strip()
                    ]
                    if found:
                        for piece in found:
                            removals.append(Removal(rule.name, rule.kind, number, piece.strip()))
                        lines[i] = (number, rule.pattern.sub(" ", line, timeout=_limit(line)).strip())
                except TimeoutError:
                    raise _timed_out(rule, where, number, line) from None
    cleaned = "\n".join(line for _, line in lines)
    cleaned = re.sub(r"\n{3,}", "\n\n", cleaned).strip()
    return cleaned, removals


def _may_match(rule: Rule, lines: list[tuple[int, str]]) -> bool:
    """False only if no line of ``lines`` holds a match of ``rule``: one search of the lines joined
    by newlines with the rule's pattern in multi-line mode (:func:`_line_local`), where the rule
    itself searches each line on its own.

    Why: each search with a time limit costs about 3 µs besides the match itself (the ``regex``
    module reads the process clock twice), a rule on its own line by line about 0.025 s per
    10,000 lines, and most rules match in few documents. Exact: a match within one line is found
    by the joined search too, since the pattern reads nothing outside the characters it matches
    and line ends (``^`` and ``$`` match at every line end in multi-line mode); a pattern that
    may look further (lookaround, ``\\A``, ``\\Z``, inline flags, control verbs) is searched line
    by line only. A joined search that runs out of time says "maybe", and the lines are searched one
    by one as before (so the error names the line).
    """
    joined = _line_local(rule.pattern)
    if joined is None:
        return True
    text = "\n".join(line for _, line in lines)
    try:
        return joined.search(text, timeout=_limit(text)) is not None
    except TimeoutError:
        return True


#: Groups that read only what they match: non-capturing, named and back-referencing groups, and case-insensitivity.
_LOCAL_GROUPS = ("(?:", "(?i)", "(?i:", "(?P<", "(?P=")


@lru_cache(maxsize=256)
def _line_local(pattern: regex.Pattern) -> regex.Pattern | None:
    """``pattern`` in multi-line mode when it reads nothing outside the characters it matches and
    line ends (no lookaround, ``\\A``, ``\\Z``, ``\\z``, ``\\G``, control verbs, or a group other
    than :data:`_LOCAL_GROUPS`; the test is on the pattern's text, so a literal backslash before
    ``A`` also sends a rule line by line: never wrong, only slower), else ``None``."""
    source = pattern.pattern
    if any(token in source for token in ("\\A", "\\Z", "\\z", "\\G", "(*")):
        return None
    start = source.find("(?")
    while start >= 0:
        escaped = (len(source[:start]) - len(source[:start].rstrip("\\"))) % 2 == 1
        if not escaped and not source.startswith(_LOCAL_GROUPS, start):
            return None
        start = source.find("(?", start + 2)
    return regex.compile(source, pattern.flags | regex.MULTILINE)


def _limit(line: str) -> float:
    """Seconds one rule may take on ``line``: :data:`RULE_TIMEOUT_SECONDS` plus
    :data:`RULE_SECONDS_PER_MB` per million characters."""
    return RULE_TIMEOUT_SECONDS + RULE_SECONDS_PER_MB * len(line) / 1e6


def _timed_out(rule: Rule, where: str, number: int, line: str) -> InputError:
    return InputError(
        f"{rule.source or 'boilerplate rules'} rule '{rule.name}'",
        f"took more than {_limit(line):.2g} s on line {number} of {where} (catastrophic backtracking)",
        "rewrite the pattern without nested or overlapping repetition such as (a|aa)+ or (x+)+",
    )


def split_headline(text: str, title: str) -> str:
    """Put the headline on its own line when the text starts with the metadata ``title``.

    Pre-segmented exports often run the headline into the lead ("... '6 hơn' Bộ_trưởng ..."); the
    headline is its own paragraph for sentence splitting and for headline/lead positions. The
    comparison ignores whitespace and ``_`` so "Trung_thúc_đẩy" matches "Trung thúc đẩy".
    """
    wanted = [c for c in title if not c.isspace() and c != "_"]
    if not wanted:
        return text
    position = 0
    matched = 0
    while position < len(text) and matched < len(wanted):
        char = text[position]
        if char.isspace() or char == "_":
            position += 1
            continue
        if char != wanted[matched]:
            return text
        matched += 1
        position += 1
    if matched < len(wanted) or position >= len(text) or text[position] == "\n":
        return text
    return text[:position].rstrip() + "\n" + text[position:].lstrip(" _\t")
