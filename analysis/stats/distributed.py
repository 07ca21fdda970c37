"""The statistics of keyness permutation batches on a Dask cluster (``[run] scheduler``).

:func:`analysis.stats.resampling.permutation_keyness` draws its permuted splits in batches from one
generator and, for each batch, computes every active term's statistic on every split (two sparse
products per target) to count the splits that reach the observed one. The products are the cost;
the draws and the bookkeeping (exceedances, Besag–Clifford stops, BH decisions) are cheap. With
``batches=dask_batches(address)`` only the products move to the cluster:

* the draws stay here, from the same generator in the same order and batch sizes, so the random
  stream (and the generator's state after the call) is that of the local run;
* the statistic itself, with the unit × term rates it reads, is scattered to every worker once
  per call (:meth:`DaskBatches.start`): the very function the local path calls, not a copy of its
  formula, so the two cannot drift apart;
* each batch's splits are cut into consecutive pieces of at least two splits, one per worker
  thread, sent as compact label codes (a byte a unit) with the active terms of each target (a bit
  mask over the terms; None: all terms);
  each worker returns its piece's hits (``|t| ≥ observed``) packed 8 to a byte, and the pieces are
  joined in split order before the local bookkeeping reads them.

Same bytes: every term's statistic on a split depends on that term's rates and that split's
labels only (a sparse product adds each output cell's terms in the order of the term's row,
whatever the other rows and columns), so a piece of a batch gives the numbers of the whole batch
bit for bit, and the hits the local loop would compute (tests/stats/test_resampling_dask.py).
A piece keeps at least two splits so that the statistic takes the same route (dense or sparse
product) as on the whole batch.

One line on failure: an unreachable scheduler, one without a worker, or a cluster lost during the
run is an :class:`~analysis.errors.InputError` naming ``[run] scheduler``
(:func:`analysis.text.prepare.dask_client`, the connection every stage uses); an error of the
statistic itself comes back as it is. Dask is imported only inside these functions, so a study
without a scheduler imports and starts nothing of it.

Where it pays: the batches are computed one after another (a batch's active terms depend on the
last one's hits), so the workers share each batch and wait while this process draws the next one;
on a cluster the gain is bounded by the number of worker threads and by the transfer of the hits
(benchmarks/README.md, "Keyness permutations on Dask").
"""

from __future__ import annotations

import weakref
from concurrent.futures import CancelledError
from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np

from ..errors import InputError

WHERE = "[run] scheduler"
FIX = 'run again when the cluster is up (prepared documents are cached), or set scheduler = ""'

#: The fewest splits a piece of a batch holds (the statistic's dense-or-sparse route needs more than one).
MIN_PIECE = 2


@dataclass
class BatchProblem:
    """What a worker needs for a batch's hits, shipped once per :func:`permutation_keyness` call.

    ``statistic(member, code, rows)`` is the local path's statistic (|t| per term and split for the
    boolean units × splits ``member`` of target ``code``; ``rows`` the active terms as ``(indices,
    rate rows, squared rate rows)``); ``rows_of(terms)`` slices those rows (None: every row, as they are);
    ``threshold[row]`` the observed statistics (minus the tie tolerance) of target ``row``;
    ``codes`` the label code of each target. ``cache`` keeps, per target, the last active terms
    and their rows on the worker, so a batch whose active set did not change slices nothing.
    """

    statistic: Callable
    rows_of: Callable
    threshold: np.ndarray
    codes: list[int]
    cache: dict = field(default_factory=dict)

    def _rows(self, row: int, terms: np.ndarray | None):
        if terms is None:
            return self.rows_of(None)  # every term: the rows themselves, no copy
        last = self.cache.get(row)
        if last is None or not np.array_equal(last[0], terms):
            last = (terms, self.rows_of(terms))
            self.cache[row] = last
        return last[1]

    def hits(self, permuted: np.ndarray, actives: Sequence[np.ndarray | None]) -> list[np.ndarray | None]:
        """Per target, ``statistic ≥ threshold`` (active terms × splits of ``permuted``), None for a
        target without active terms: the expression of the local loop."""
        out = []
        for row, (code, terms) in enumerate(zip(self.codes, actives)):
            if terms is not None and len(terms) == 0:
                out.append(None)
                continue
            index = slice(None) if terms is None else terms
            out.append(
                self.statistic((permuted == code).T, code, self._rows(row, terms)) >= self.threshold[row][index, None]
            )
        return out


def _piece_hits(problem: BatchProblem, permuted: np.ndarray, actives) -> list[np.ndarray | None]:
    """One task: a piece's hits, each target's packed 8 splits to a byte (:func:`numpy.packbits`);
    ``actives`` as :func:`pack_terms` sent them."""
    terms = [unpack_terms(a, problem.threshold.shape[1]) for a in actives]
    return [None if h is None else np.packbits(h, axis=1) for h in problem.hits(permuted, terms)]


def pack_terms(terms: np.ndarray | None, n_terms: int):
    """The active terms of a target as they travel: None (all terms), a bit mask of the ``n_terms``
    packed 8 to a byte when the indices ascend (as the active sets of :func:`permutation_keyness`
    do: 12 KB for 94,000 terms instead of 750 KB of indices), else the indices themselves.

    >>> unpack_terms(pack_terms(np.array([1, 5, 6]), 9), 9).tolist(), pack_terms(np.array([2, 1]), 3).tolist()
    ([1, 5, 6], [2, 1])
    """
    if terms is None or (len(terms) > 1 and not np.all(terms[1:] > terms[:-1])):
        return terms
    mask = np.zeros(n_terms, dtype=bool)
    mask[terms] = True
    return ("mask", np.packbits(mask))


def unpack_terms(packed, n_terms: int) -> np.ndarray | None:
    """The active term indices of :func:`pack_terms`'s form."""
    if isinstance(packed, tuple):
        return np.flatnonzero(np.unpackbits(packed[1], count=n_terms))
    return packed


def pieces(size: int, threads: int) -> list[tuple[int, int]]:
    """Consecutive ``(start, stop)`` pieces of a batch of ``size`` splits, at most one per worker
    thread and none shorter than :data:`MIN_PIECE` (a batch of one split is one piece).

    >>> pieces(10, 3), pieces(3, 4), pieces(1, 2)
    ([(0, 3), (3, 7), (7, 10)], [(0, 3)], [(0, 1)])
    """
    count = max(1, min(threads, size // MIN_PIECE))
    bounds = np.linspace(0, size, count + 1).round().astype(int)
    return [(int(a), int(b)) for a, b in zip(bounds[:-1], bounds[1:])]


def compact_codes(permuted: np.ndarray) -> np.ndarray:
    """The label codes in the smallest unsigned integer type that holds them (1 byte for up to 256
    groups): what travels to the workers for each split.

    >>> compact_codes(np.array([[0, 2, 1]])).dtype.name
    'uint8'
    """
    return permuted.astype(np.min_scalar_type(max(int(permuted.max(initial=0)), 0)), copy=False)


class RemoteBatches:
    """A :func:`permutation_keyness` call's connection to the cluster: the problem scattered to every
    worker, and :meth:`hits` for each batch. :meth:`close` releases the problem and the client."""

    def __init__(self, client, address: str, problem: BatchProblem):
        self.client, self.address = client, address
        self.n_terms = problem.threshold.shape[1]
        # An error in the caller's loop between batches: the client is closed when this is collected.
        self._closer = weakref.finalize(self, client.close)
        try:
            self.threads = max(1, sum(client.nthreads().values()))
            self.shared = client.scatter(problem, broadcast=True, hash=False)
        except _lost() as exc:
            self.close()
            raise _failed(address, exc) from None

    def hits(self, permuted: np.ndarray, actives: Sequence[np.ndarray | None]) -> list[np.ndarray | None]:
        """Per target, the hits of every split of ``permuted`` (active terms × splits, as the local
        loop computes them; None for a target without active terms), computed on the workers in
        pieces and joined in split order."""
        size = permuted.shape[0]
        codes = compact_codes(np.asarray(permuted))
        packed = [pack_terms(terms, self.n_terms) for terms in actives]
        try:
            futures = [
                self.client.submit(_piece_hits, self.shared, codes[a:b], packed, pure=False)
                for a, b in pieces(size, self.threads)
            ]
            parts = self.client.gather(futures)
        except _lost() as exc:
            self.close()
            raise _failed(self.address, exc) from None
        out = []
        for row in range(len(actives)):
            row_parts = [part[row] for part in parts]
            if row_parts[0] is None:
                out.append(None)
                continue
            widths = [b - a for a, b in pieces(size, self.threads)]
            bits = [np.unpackbits(p, axis=1, count=w).view(bool) for p, w in zip(row_parts, widths)]
            out.append(bits[0] if len(bits) == 1 else np.hstack(bits))
        return out

    def close(self) -> None:
        """Release the scattered problem and close the client (twice is harmless)."""
        shared, self.shared = getattr(self, "shared", None), None
        if shared is not None:
            shared.release()
        if self.client is not None:
            self._closer()  # client.close(), once
            self.client = None


@dataclass(frozen=True)
class DaskBatches:
    """Where :func:`~analysis.stats.resampling.permutation_keyness` computes its batches' statistics:
    the Dask cluster at ``address`` (:func:`dask_batches`)."""

    address: str

    def start(
        self, statistic: Callable, rows_of: Callable, threshold: np.ndarray, codes: Sequence[int]
    ) -> RemoteBatches:
        """Connect (one :class:`~analysis.errors.InputError` line when the scheduler cannot be reached
        or has no worker) and scatter the problem to every worker."""
        from ..text.prepare import dask_client

        client = dask_client(self.address, where=WHERE)
        return RemoteBatches(client, self.address, BatchProblem(statistic, rows_of, threshold, [int(c) for c in codes]))


def dask_batches(scheduler: str) -> DaskBatches | None:
    """The ``batches`` argument of :func:`~analysis.stats.resampling.permutation_keyness` for a
    study's ``[run] scheduler``: on that Dask cluster, or None (here) when it is empty."""
    return DaskBatches(scheduler) if scheduler else None


def _lost() -> tuple[type[BaseException], ...]:
    """The exceptions that mean the cluster, not the computation, failed."""
    from distributed.scheduler import KilledWorker

    return (OSError, TimeoutError, KilledWorker, CancelledError)


def _failed(address: str, exc: BaseException) -> InputError:
    why = " ".join(str(exc).split())  # Dask's messages can span lines; the error is one
    return InputError(
        WHERE, f"the Dask cluster at '{address}' failed during the run ({type(exc).__name__}: {why})", FIX
    )
