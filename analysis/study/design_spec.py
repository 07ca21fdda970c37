"""The design layer's study entries, parsed and checked with the standard library only.

``[[compare]]`` tables become :class:`Contrast` values (:func:`parse_contrasts`) and ``[model]
formula`` is checked for syntax and columns (:func:`formula_problems`) when the study is read, so
``python3 -m analysis.study.makefile`` (before the virtual environment exists) reads the same study.
The computations are in :mod:`analysis.stats.contrasts`, :mod:`analysis.stats.timeseries` and
:mod:`analysis.stats.models`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Sequence

from ..errors import InputError

#: ``topics``: per-document topic prevalence (the topics stage's saved model); ``words``: keyness of
#: terms between groups of one language (across languages use ``concepts``).
MEASURES = ("frames", "actors", "concepts", "topics", "words")
CORRECTIONS = ("holm", "bh")
EXPOSURES = ("tokens", "sentences")
_CALL = re.compile(r"(spline|trend)\(\s*(\w+)\s*(?:,\s*(\d+)\s*)?\)")
_NAME = re.compile(r"[A-Za-z_]\w*")


@dataclass(frozen=True)
class Contrast:
    """One ``[[compare]]`` entry.

    ``groups``: each group a tuple of ``(column, value)`` pairs (a document belongs to the group
    when every pair matches); empty when ``by`` names the crossed columns whose combinations are
    the groups. ``subset``: ``(column, allowed values)`` pairs. With more than two groups every
    pair is compared and the correction runs across all of them.
    """

    name: str
    groups: tuple[tuple[tuple[str, str], ...], ...] = ()
    by: tuple[str, ...] = ()
    within: str = ""
    subset: tuple[tuple[str, tuple[str, ...]], ...] = ()
    measures: tuple[str, ...] = ("frames",)
    correction: str = "holm"
    cluster: str = ""  # "" or a column (e.g. "outlet"): cluster bootstrap and design effect by it
    exposure: str = "sentences"  # denominator: sentences (per 100; the cross-language rate) | tokens (per 1,000)

    def columns(self) -> list[str]:
        """Every metadata column the contrast names."""
        cols = [c for g in self.groups for c, _ in g] + list(self.by) + [c for c, _ in self.subset]
        cols += [self.within] if self.within else []
        cols += [self.cluster] if self.cluster else []
        return list(dict.fromkeys(cols))


_SUBSET = re.compile(r"^\s*(\w+)\s+in\s+\[(.*)\]\s*$")
_EQUALS = re.compile(r"^\s*(\w+)\s*==?\s*(.+?)\s*$")


def parse_subset(text: Any, where: str, key: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """``"outlet in ['A', 'B']"``, ``"outlet == 'A'"`` or a table ``{outlet = ["A", "B"]}``."""
    if isinstance(text, dict):
        out = []
        for column, values in text.items():
            values = values if isinstance(values, list) else [values]
            out.append((str(column), tuple(str(v) for v in values)))
        return tuple(out)
    if not isinstance(text, str):
        raise InputError(
            where, f"{key} must be text like \"outlet in ['A', 'B']\"", "write subset = \"outlet in ['A', 'B']\""
        )
    match = _SUBSET.match(text)
    if match:
        values = [v.strip().strip("'\"") for v in match.group(2).split(",") if v.strip()]
        if not values:
            raise InputError(where, f"{key} lists no value", "name at least one value inside [...]")
        return ((match.group(1), tuple(values)),)
    match = _EQUALS.match(text)
    if match:
        return ((match.group(1), (match.group(2).strip("'\""),)),)
    raise InputError(
        where, f"{key} = {text!r} is not understood", "write subset = \"outlet in ['A', 'B']\" or \"outlet == 'A'\""
    )


def parse_contrasts(raw: Any, where: str) -> tuple[tuple[Contrast, ...], list[InputError]]:
    """The ``[[compare]]`` list of a study as :class:`Contrast` values, and every problem found.

    >>> cs, problems = parse_contrasts([{"name": "c", "groups": [{"language": "vi"}, {"language": "en"}],
    ...     "within": "event"}], "s.toml")
    >>> cs[0].groups, cs[0].within, problems
    (((('language', 'vi'),), (('language', 'en'),)), 'event', [])
    """
    problems: list[InputError] = []
    if not isinstance(raw, list):
        return (), [
            InputError(where, "[[compare]] must be a list of tables", "write each contrast as a [[compare]] table")
        ]
    known = {"name", "groups", "by", "within", "subset", "measures", "correction", "cluster", "exposure"}
    contrasts, names = [], set()
    for i, entry in enumerate(raw):
        key = f"[[compare]] #{i + 1}"
        if not isinstance(entry, dict):
            problems.append(InputError(where, f"{key} must be a table", "write name = ..., groups = [...]"))
            continue
        for k in entry:
            if k not in known:
                problems.append(
                    InputError(
                        where, f"unknown key '{k}' in {key}", f"remove it or use one of: {', '.join(sorted(known))}"
                    )
                )
        name = entry.get("name", "")
        if not isinstance(name, str) or not re.fullmatch(r"[\w\-]+", name):
            problems.append(
                InputError(
                    where,
                    f"{key} name = {name!r} must be a non-empty word (letters, digits, - or _)",
                    'e.g. name = "vi-vs-en"',
                )
            )
            continue
        if name in names:
            problems.append(InputError(where, f"{key} name '{name}' is used twice", "give each contrast its own name"))
        names.add(name)
        key = f"[[compare]] '{name}'"
        groups, by = entry.get("groups", []), entry.get("by", [])
        by = [by] if isinstance(by, str) else by
        parsed_groups = []
        if not isinstance(groups, list) or not all(isinstance(g, dict) and g for g in groups):
            problems.append(
                InputError(
                    where,
                    f"{key} groups must be a list of tables",
                    'write groups = [{language = "vi"}, {language = "en"}]',
                )
            )
            groups = []
        for g in groups:
            parsed_groups.append(tuple((str(c), str(v)) for c, v in g.items()))
        if not isinstance(by, list) or not all(isinstance(c, str) and c for c in by):
            problems.append(
                InputError(
                    where, f"{key} by must be a column or a list of columns", 'write by = ["language", "section"]'
                )
            )
            by = []
        if bool(parsed_groups) == bool(by):
            problems.append(
                InputError(
                    where,
                    f"{key} needs either groups (two or more) or by (crossed columns), not both or neither",
                    'write groups = [{language = "vi"}, {language = "en"}] or by = ["language"]',
                )
            )
        elif parsed_groups and len(parsed_groups) < 2:
            problems.append(
                InputError(where, f"{key} names {len(parsed_groups)} group", "list at least two groups to compare")
            )
        elif len(set(parsed_groups)) < len(parsed_groups):
            problems.append(InputError(where, f"{key} lists the same group twice", "make every group different"))
        within = entry.get("within", "")
        if not isinstance(within, str):
            problems.append(InputError(where, f"{key} within must be one column name", 'e.g. within = "section"'))
            within = ""
        cluster = entry.get("cluster", "")
        if not isinstance(cluster, str):
            problems.append(InputError(where, f"{key} cluster must be one column name", 'e.g. cluster = "outlet"'))
            cluster = ""
        subset: tuple = ()
        if "subset" in entry:
            try:
                subset = parse_subset(entry["subset"], where, f"{key} subset")
            except InputError as exc:
                problems.append(exc)
        measures = entry.get("measures", ["frames"])
        if not isinstance(measures, list) or not measures or any(m not in MEASURES for m in measures):
            problems.append(
                InputError(
                    where, f"{key} measures = {measures!r} is not usable", f"list some of: {', '.join(MEASURES)}"
                )
            )
            measures = ["frames"]
        correction = entry.get("correction", "holm")
        if correction not in CORRECTIONS:
            problems.append(InputError(where, f"{key} correction = {correction!r} is not known", "use 'holm' or 'bh'"))
            correction = "holm"
        exposure = entry.get("exposure", "sentences")
        if exposure not in EXPOSURES:
            problems.append(
                InputError(where, f"{key} exposure = {exposure!r} is not known", "use 'tokens' or 'sentences'")
            )
            exposure = "tokens"
        contrasts.append(
            Contrast(
                name,
                tuple(parsed_groups),
                tuple(by),
                within,
                subset,
                tuple(dict.fromkeys(measures)),
                correction,
                cluster,
                exposure,
            )
        )
    return tuple(contrasts), problems


def group_label(group: Sequence[tuple[str, str]]) -> str:
    """``language=vi & section=business``."""
    return " & ".join(f"{c}={v}" for c, v in group)


# -------------------------------------------------------------------------------------- formulas


def formula_columns(formula: str) -> list[str]:
    """Metadata columns a study formula names.

    >>> formula_columns("language + spline(date, 4) + section")
    ['language', 'date', 'section']
    """
    names = []
    rest = _CALL.sub(lambda m: f" {m.group(2)} ", formula)
    for name in _NAME.findall(rest):
        if name not in ("C",):
            names.append(name)
    return list(dict.fromkeys(names))


def formula_problems(
    formula: str, *, columns: Sequence[str] | None, where: str, key: str = "[model] formula"
) -> list[InputError]:
    """A formula that cannot be fitted: bad syntax, or a column the metadata does not have."""
    if not isinstance(formula, str) or not formula.strip():
        return [InputError(where, f"{key} is empty", 'write e.g. formula = "language + spline(date, 4)"')]
    if "~" in formula:
        return [
            InputError(
                where,
                f"{key} = {formula!r} has a left-hand side",
                'write only the right-hand side: "language + section"',
            )
        ]
    if not re.fullmatch(r"[\w\s+:*(),]+", formula):
        return [
            InputError(
                where,
                f"{key} = {formula!r} has characters a formula cannot use",
                "use names, + : * and spline(date, 4)",
            )
        ]
    for m in re.finditer(r"spline\(\s*\w+\s*(?:,\s*(\d+)\s*)?\)", formula):
        if m.group(1) is None or int(m.group(1)) < 3:
            return [
                InputError(where, f"{key}: {m.group(0)} needs 3 or more degrees of freedom", "write spline(date, 4)")
            ]
    if columns is None:  # syntax only (the metadata is not read yet)
        return []
    available = ", ".join(columns)
    return [
        InputError(where, f"{key} names '{c}', not a metadata column", f"use one of: {available}")
        for c in formula_columns(formula)
        if c not in columns
    ]


# ------------------------------------------------------------------------------------ topics


def uses_topics(study) -> bool:
    """Does the study's design layer read the topics stage's models (``[model] topics``, or
    ``topics`` among a contrast's or ``[time]``'s measures)?"""
    return bool(
        (study.model is not None and study.model.topics)
        or any("topics" in c.measures for c in study.compare)
        or (study.time is not None and "topics" in study.time.measures)
    )
