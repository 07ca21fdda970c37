"""What the command line prints: one line per stage by default, every file with ``--verbose``.

Default: warnings, progress of long stages, and when a stage ends one line saying what it read,
what it wrote and how long it took::

    frequencies: read 5 documents (seeds); wrote 37 files to figures in 2.1 s

``--verbose`` adds every INFO record of the toolkit (each file written, cache use, the K chosen
...); ``--quiet`` prints warnings and errors only. Other libraries' INFO chatter (NumExpr's thread
count, gensim's passes) is never shown: the root logger stays at WARNING and only the ``analysis``
logger passes INFO records on (to the stage summary, and to the terminal with ``--verbose``).
"""

from __future__ import annotations

import logging
import os
import sys
import time
from contextlib import contextmanager
from pathlib import Path

QUIET, DEFAULT, VERBOSE = -1, 0, 1
_FORMAT = "%(levelname)s %(message)s"


class StageRecords(logging.Handler):
    """Collects what a stage read (``read %d documents from %s``) and wrote (``wrote %s``)."""

    def __init__(self):
        super().__init__(logging.INFO)
        self.documents: list[tuple[int, str]] = []
        self.written: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.msg == "wrote %s" and record.args:
            self.written.append(str(record.args[0]))
        elif record.msg == "read %d documents from %s" and record.args:
            self.documents.append((int(record.args[0]), str(record.args[1])))


def configure(verbosity: int = DEFAULT, stream=None) -> None:
    """Set up the terminal for one command: ``QUIET``, ``DEFAULT`` or ``VERBOSE``."""
    from . import progress

    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_analysis_console", False):
            root.removeHandler(handler)
    console = logging.StreamHandler(stream or sys.stderr)
    console._analysis_console = True
    console.setFormatter(logging.Formatter(_FORMAT))
    console.setLevel(logging.INFO if verbosity >= VERBOSE else logging.WARNING)
    root.addHandler(console)
    root.setLevel(logging.WARNING)
    logging.getLogger("analysis").setLevel(logging.INFO)
    progress.configure(verbosity > QUIET)


def restore() -> None:
    """Undo :func:`configure`'s process-wide parts: progress displays on again (the default)."""
    from . import progress

    progress.configure(True)


def _short(path: str, base: Path) -> str:
    try:
        return str(Path(path).resolve().relative_to(base.resolve())) or "."
    except ValueError:
        return str(path)


def summary_line(stage: str, *, records: StageRecords, seconds: float, base: Path) -> str:
    """``stage: read N documents (folder); wrote M files to folder in S s`` (parts that apply)."""
    parts = []
    if records.documents:
        n, folder = records.documents[-1]
        parts.append(f"read {n:,} documents ({_short(folder, base)})")
    if records.written:
        folders = {str(Path(p).resolve().parent) for p in records.written}
        where = _short(os.path.commonpath(sorted(folders)), base)
        n = len(records.written)
        parts.append(f"wrote {n:,} file{'s' if n != 1 else ''} to {where}")
    else:
        parts.append("wrote nothing")
    return f"{stage}: " + "; ".join(parts) + f" in {seconds:.1f} s"


@contextmanager
def stage_summary(stage: str, *, verbosity: int = DEFAULT, stream=None, base: Path | None = None):
    """Around one stage: at its end (not on an error) print :func:`summary_line` unless quiet."""
    records = StageRecords()
    logger = logging.getLogger("analysis")
    logger.addHandler(records)
    start = time.monotonic()
    try:
        yield records
        if verbosity > QUIET:
            print(
                summary_line(stage, records=records, seconds=time.monotonic() - start, base=base or Path.cwd()),
                file=stream or sys.stderr,
                flush=True,
            )
    finally:
        logger.removeHandler(records)
