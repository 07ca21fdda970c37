"""What a stage hands to the writer: tables and figures, computed first, written in one place.

A stage builds a list of :class:`Table`, :class:`Figure` and :class:`Csv` results (DataFrames,
and figures as composers not yet drawn) and passes it to :func:`write_results`, the one writer:
each figure is drawn, saved in every figure format and closed before the next is drawn, so
memory holds one figure at a time. Files are written through :mod:`analysis.io` (atomically).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Sequence

import pandas as pd

from . import io, plot

TABLE_FORMATS = ("csv", "tex", "md")


@dataclass(frozen=True)
class Table:
    """A table written as ``stem.csv/.tex/.md`` (or ``formats``); the LaTeX caption names the CSV."""

    stem: str
    data: pd.DataFrame
    caption: str = ""
    formats: tuple[str, ...] = TABLE_FORMATS


@dataclass(frozen=True)
class Csv:
    """A data file only: ``name`` (with its suffix)."""

    name: str
    data: pd.DataFrame


@dataclass(frozen=True)
class Figure:
    """A figure: ``compose()`` draws it and returns the matplotlib figure; ``data`` (optional) is
    written beside it as ``stem.csv`` (the data behind the figure)."""

    stem: str
    compose: Callable[[], object]
    data: pd.DataFrame | None = None


@dataclass(frozen=True)
class Raw:
    """Bytes or text written as they are (saved models, HTML pages)."""

    name: str
    content: bytes | str


Result = Table | Csv | Figure | Raw


def write_results(out: Path, results: Iterable[Result], figure_formats: Sequence[str]) -> list[Path]:
    """Write every result into ``out``, in order; returns the paths written."""
    from .progress import Progress

    out = Path(out)
    written: list[Path] = []
    results = list(results)
    progress = Progress(f"writing {out.name}", total=len(results), unit="outputs")  # figures take most of a stage's time
    for result in results:
        if isinstance(result, Table):
            written += io.write_table(result.data, out / result.stem, formats=result.formats, caption=result.caption)
        elif isinstance(result, Csv):
            written.append(io.write_csv(out / result.name, result.data))
        elif isinstance(result, Figure):
            fig = result.compose()
            try:
                written += io.save_figure(fig, out / result.stem, figure_formats, result.data)
            finally:
                plot.close(fig)
        elif isinstance(result, Raw):
            content = result.content
            written.append(io.write_bytes(out / result.name, content) if isinstance(content, bytes) else io.write_text(out / result.name, content))
        else:
            raise TypeError(f"not a stage result: {result!r}")
        progress.step(getattr(result, "stem", getattr(result, "name", "")))
    progress.close()
    return written
