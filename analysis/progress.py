"""Progress of a long stage on stderr: steps done, what is running, and the time left.

A small reusable reporter for any loop of expensive steps (topic fits, bootstrap batches, model
fits of a later engine). On a terminal it draws a ``tqdm`` bar; elsewhere (a log file, CI, a
notebook's captured stderr) it writes one plain line at most every ``interval`` seconds (a stage
done within ``interval`` prints none; one that printed a line also prints its last step); with
``enabled=False`` (``--quiet``) it says nothing. The estimate of the time left is the mean time
per step so far times the steps left (steps of one loop cost about the same; the first steps
include start-up and make the estimate pessimistic, which is the safe side).

Usage::

    with Progress("topics", total=12, unit="fits") as progress:
        for k, seed in jobs:
            fit(k, seed)
            progress.step(f"vi K={k} seed {seed}")

:func:`tracked` wraps a ``map``-like function (the builtin or a process pool's ``map``) so every
result that comes back is a step: ``mapper = tracked(pool.map, progress, describe)``.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterable
from typing import TextIO

#: Default for new reporters; the command line sets it from ``--quiet``.
ENABLED = True


def configure(enabled: bool) -> None:
    """Turn every later reporter on or off (the command line's ``--quiet`` turns them off)."""
    global ENABLED
    ENABLED = enabled


def format_seconds(seconds: float) -> str:
    """``42 s``, ``3 min 20 s``, ``1 h 05 min``: what a reader of a progress line wants."""
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"


class Progress:
    """Counts steps of one stage and reports them (see the module docstring).

    Parameters
    ----------
    label : what runs (``"topics"``), first word of every line.
    total : steps expected; :meth:`add` raises it when more work becomes known.
    unit : name of a step in the line (``"fits"``).
    enabled : ``None`` = the module default (:data:`ENABLED`).
    stream : where lines go (default ``sys.stderr``); a bar only when it is a terminal.
    interval : seconds between plain lines (and before the first).
    clock : time source (tests pass a fake one).
    """

    def __init__(
        self,
        label: str,
        *,
        total: int = 0,
        unit: str = "steps",
        enabled: bool | None = None,
        stream: TextIO | None = None,
        interval: float = 15.0,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.label, self.total, self.unit = label, total, unit
        self.enabled = ENABLED if enabled is None else enabled
        self.stream = stream if stream is not None else sys.stderr
        self.interval, self.clock = interval, clock
        self.done = 0
        self._t0 = clock()
        self._last = None
        self._bar = None
        if self.enabled and getattr(self.stream, "isatty", lambda: False)():
            from tqdm import tqdm

            self._bar = tqdm(
                total=total, desc=label, unit=unit.rstrip("s") or "step", file=self.stream, leave=False, mininterval=0.5
            )

    def add(self, n: int) -> None:
        """``n`` more steps are expected."""
        self.total += n
        if self._bar is not None:
            self._bar.total = self.total
            self._bar.refresh()

    def remaining(self) -> float | None:
        """Estimated seconds left (``None`` before the first step or with an unknown total)."""
        if not self.done or self.total <= self.done:
            return None if not self.done else 0.0
        return (self.clock() - self._t0) / self.done * (self.total - self.done)

    def line(self, detail: str = "") -> str:
        """``topics: 5/12 fits (vi K=3 seed 2), 1 min 10 s so far, about 1 min 38 s left``."""
        left = self.remaining()
        parts = [f"{self.label}: {self.done}/{self.total} {self.unit}" + (f" ({detail})" if detail else "")]
        parts.append(f"{format_seconds(self.clock() - self._t0)} so far")
        if left is not None and self.done < self.total:
            parts.append(f"about {format_seconds(left)} left")
        return ", ".join(parts)

    def step(self, detail: str = "") -> None:
        """One step done; ``detail`` says which (``"vi K=3 seed 2"``)."""
        self.done += 1
        if not self.enabled:
            return
        if self._bar is not None:
            self._bar.set_postfix_str(detail, refresh=False)
            self._bar.update(1)
            return
        now = self.clock()
        since = now - (self._t0 if self._last is None else self._last)
        if since >= self.interval or (self.done == self.total and self._last is not None):
            self._last = now
            print(self.line(detail), file=self.stream, flush=True)

    def start(self, total: int) -> None:
        """(Re)start the count at ``total`` expected steps.

        The interface of :class:`analysis.topics.engines.Progress`.
        """
        self.total, self.done, self._t0, self._last = total, 0, self.clock(), None
        if self._bar is not None:
            self._bar.reset(total=total)

    def advance(self, detail: str = "") -> None:
        """:meth:`step` under the name :class:`analysis.topics.engines.Progress` uses."""
        self.step(detail)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def tracked(
    mapper: Callable, progress: Progress, *, describe: Callable[[object], str] = str, count: bool = True
) -> Callable:
    """A ``map``-like function that counts each result as a step of ``progress``.

    ``mapper(func, items)`` must return results in the order of ``items`` (the builtin ``map`` and
    ``ProcessPoolExecutor.map`` do); the items are counted into ``progress.total`` first (unless
    ``count=False``: the caller set the total up front), and each step is described by
    ``describe(item)`` of the item just finished.
    """

    def run(func: Callable, items: Iterable):
        items = list(items)
        if count:
            progress.add(len(items))
        for item, result in zip(items, mapper(func, items)):
            progress.step(describe(item))
            yield result

    return run
