"""What a stage hands to the writer: tables and figures, computed first, written in one place.

A stage builds a list of :class:`Table`, :class:`Figure` and :class:`Csv` results (DataFrames,
and figures as composers not yet drawn), each naming its entry of the output registry
(:data:`analysis.study.outputs.REGISTRY`: file names, formats, captions), and passes it to
:func:`write_results`, the one writer:
each figure is drawn, saved in every figure format and closed before the next is drawn, so
memory holds one figure at a time. Files are written through :mod:`analysis.files` (atomically).
A stage whose tables grow with the corpus yields its results instead (:func:`write_streamed`: each
written before the next is computed, moved into place once all are written).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Mapping

import pandas as pd

from .. import files
from ..study.outputs import OUTPUTS, TABLE, caption
from ..study.settings import Study


@dataclass(frozen=True)
class Table:
    """A registered table (:data:`analysis.study.outputs.REGISTRY`): ``output`` is its registry stem
    (``"top_terms_by_{group}"``), ``values`` fill the placeholders and the caption's own values.
    ``formats`` overrides the registry's (a keyness table's top rows go to .tex/.md only)."""

    output: str
    data: pd.DataFrame
    values: Mapping[str, object] = field(default_factory=dict)
    formats: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Csv:
    """A registered data file: ``stem.csv`` only (or the full CSV of a figure+table output); a word-level
    table's ``stem.csv.gz`` and ``stem.parquet`` instead (the registry's data formats)."""

    output: str
    data: pd.DataFrame
    values: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class CsvParts:
    """A registered data file written from parts: ``parts()`` yields DataFrames with the same
    columns and dtypes, written one after the other under one header (the bytes of their
    concatenation), so a table of millions of rows is never whole in memory (the keyness CSVs of
    10,000 articles: 3 million rows); in each of the registry's data formats, in one pass."""

    output: str
    parts: Callable[[], Iterable[pd.DataFrame]]
    values: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class Figure:
    """A registered figure: ``compose()`` draws it and returns the matplotlib figure; ``data``
    (optional) is written beside it as ``stem.csv`` (the data behind the figure)."""

    output: str
    compose: Callable[[], object]
    data: pd.DataFrame | None = None
    values: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class Raw:
    """Bytes or text written as they are under ``name`` (saved models, HTML pages)."""

    name: str
    content: bytes | str


Result = Table | Csv | CsvParts | Figure | Raw


def stem(result: Table | Csv | CsvParts | Figure) -> str:
    """The file stem of a registered result: its registry stem with the placeholders filled."""
    return OUTPUTS[result.output].stem.format(**result.values)


def with_roles(results: list, *, primary: str, source: Path | None) -> list:
    """With a declared primary comparison (``primary``: ``[design] primary``, "" for none), every test
    table (one stating its family: ``adjusted_within``) gets ``role``: confirmatory for the primary row,
    exploratory for every other (:func:`analysis.stats.multiplicity.mark_roles`); unchanged without one.
    The named table must have exactly one such row: none, or several, is one line naming the key (in
    the study file ``source``) and the fix."""
    import dataclasses

    from ..errors import InputError
    from ..stats.multiplicity import mark_roles, primary_parts, primary_rows

    if not primary:
        return results
    name, item, pair = primary_parts(primary)
    out = []
    for result in results:
        if isinstance(result, Table) and "adjusted_within" in result.data.columns:
            mask = primary_rows(result.data, item, pair) if stem(result) == name else None
            if mask is not None and mask.sum() != 1:
                raise InputError(
                    source,
                    f"[design] primary = {primary!r} matches {int(mask.sum())} rows of {name}",
                    "name one item of that table (its CSV's item, frame, actor, term or topic column)"
                    + (", with the pair as table:item:a-b" if mask.sum() > 1 else ""),
                )
            result = dataclasses.replace(result, data=mark_roles(result.data, mask if mask is not None else False))
        out.append(result)
    return out


def write_results(out: Path, results: Iterable[Result], study: Study | None) -> list[Path]:
    """Write every result into ``out``, in order, with the registry's captions; returns the paths written.

    ``study`` supplies the captions' settings and the figure formats (None: :class:`Raw` results only).
    """
    from ..progress import Progress

    out = Path(out)
    written: list[Path] = []
    primary = _primary(study)
    # before anything is written: a primary naming no row stops here
    results = with_roles(list(results), primary=primary, source=study.source if study is not None else None)
    progress = Progress(
        f"writing {out.name}", total=len(results), unit="outputs"
    )  # figures take most of a stage's time
    for result in results:
        written += _write_one(out, result, study)
        progress.step(result.name if isinstance(result, Raw) else stem(result))
    progress.close()
    return written


def write_streamed(out: Path, results: Iterable[Result], study: Study | None) -> list[Path]:
    """Write each result as soon as ``results`` yields it, then let it go; returns the paths written.

    The files are those :func:`write_results` writes for the same results (same bytes), but a stage
    need not hold every table until its end: a result is written (roles marked on it alone: the
    primary check looks at one table at a time, :func:`with_roles`) before the next is computed.
    Files go to a hidden folder inside ``out`` and are moved into ``out`` (``os.replace``, each
    atomic) only once every result is written, so a stage stopped by bad input or an error half-way
    leaves ``out`` as it was: nothing written, as with :func:`write_results`. (The stage reports its
    own progress: the number of results is not known in advance.)
    """
    import os
    import shutil

    out = Path(out)
    primary = _primary(study)
    source = study.source if study is not None else None
    missing = [p for p in (out, *out.parents) if not p.exists()]  # made here: removed again on failure
    try:
        out.mkdir(parents=True, exist_ok=True)
        staging = files.scratch_folder(out, ".writing-")  # and removes those of killed runs
    except OSError as exc:
        raise files.unwritable(out, exc) from None
    staged: list[Path] = []
    try:
        for result in results:
            (result,) = with_roles([result], primary=primary, source=source)
            staged += _write_one(staging, result, study)
            del result  # the stage's generator holds no other reference: the table is freed here
        written, moved = [], set()
        for path in staged:  # a figure and its table name the same CSV: listed twice, moved once
            target = out / path.relative_to(staging)
            if path not in moved:
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(path, target)
                moved.add(path)
            written.append(target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        for folder in missing:  # innermost first
            try:
                folder.rmdir()
            except OSError:
                break
        raise
    shutil.rmtree(staging, ignore_errors=True)
    return written


def _primary(study: Study | None) -> str:
    return study.design.primary if study is not None and study.design is not None else ""


def _write_one(out: Path, result: Result, study: Study | None) -> list[Path]:
    """The files of one result in ``out`` (the registry's formats and caption)."""
    if isinstance(result, Table):
        entry = OUTPUTS[result.output]
        formats = result.formats or (entry.formats if entry.kind in ("table", "figure+table") else TABLE)
        text = caption(result.output, study, **result.values)
        return files.write_table(
            result.data, out / stem(result), formats=formats, caption=text, data=entry.data_name(stem(result))
        )
    if isinstance(result, Csv):
        return files.write_data(out / stem(result), [result.data], formats=OUTPUTS[result.output].data_formats())
    if isinstance(result, CsvParts):
        return files.write_data(out / stem(result), result.parts(), formats=OUTPUTS[result.output].data_formats())
    if isinstance(result, Figure):
        fig = result.compose()
        try:
            return files.save_figure(fig, out / stem(result), formats=study.run.figure_formats, data=result.data)
        finally:
            from ..plots.base import close  # loaded with the figure it closes (matplotlib)

            close(fig)
    if isinstance(result, Raw):
        content = result.content
        return [
            files.write_bytes(out / result.name, content)
            if isinstance(content, bytes)
            else files.write_text(out / result.name, content)
        ]
    raise TypeError(f"not a stage result: {result!r}")
