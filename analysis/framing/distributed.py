"""The framing annotation's chunks on a Dask cluster (``[run] scheduler``).

:func:`analysis.framing.measures.annotation_tables` annotates a corpus a chunk of documents at a
time and reduces each chunk to its table rows (:func:`~analysis.framing.measures.chunk_tables`);
:func:`dask_chunks` computes those chunks on the cluster's workers instead of here. The reduction
runs on the worker, so what travels back is a few table rows per document, not the annotations
(a key per token and hits per sentence, about 36 KB a document); the documents travel out with
their chunk, so the workers need not see this machine's cache folder.

* Bounded memory: at most ``IN_FLIGHT_PER_WORKER`` chunks per worker thread are submitted at once
  (a window, not the whole corpus: 100,000 documents are 391 chunks of 256); a new chunk is
  submitted as the oldest one is taken.
* Same bytes: results are taken in chunk order (the oldest future first, whatever order they
  finish in) and :func:`~analysis.framing.measures.chunk_tables` is a pure function of its chunk,
  the rules and the codebook, so the stage's tables are those of the local run.
* One line on failure: a missing or unreachable scheduler, one without a worker
  (:func:`analysis.text.prepare.dask_client`, the connection every stage uses) or a cluster lost
  during the run is an :class:`~analysis.errors.InputError` naming ``[run] scheduler``.

Dask is imported in :func:`~analysis.text.prepare.dask_client` and here, inside the function, so a
study without a scheduler imports and starts nothing of it.
"""

from __future__ import annotations

from collections import deque
from concurrent.futures import CancelledError
from functools import partial
from itertools import islice
from typing import Iterable, Iterator

from ..errors import InputError
from ..text.prepare import IN_FLIGHT_PER_WORKER, dask_client
from ..text.tokens import PreparedDocument, TermRules
from .codebook import Codebook, release_key_cache
from .measures import ChunkMapper, ChunkTables, chunk_tables

WHERE = "[run] scheduler"
FIX = 'run again when the cluster is up (prepared documents are cached), or set scheduler = ""'


def chunk_mapper(scheduler: str) -> ChunkMapper | None:
    """How the framing stage computes its annotation chunks: on the Dask cluster at ``scheduler``
    (:func:`dask_chunks`), or here when ``scheduler`` is empty (None: the default of
    :func:`~analysis.framing.measures.annotation_tables`)."""
    return partial(dask_chunks, address=scheduler) if scheduler else None


def _chunk(documents: list[PreparedDocument], rules: TermRules, codebook: Codebook, settings: dict) -> ChunkTables:
    """One task: :func:`~analysis.framing.measures.chunk_tables` with the settings as one argument
    (their names could clash with ``Client.submit``'s own keywords)."""
    return chunk_tables(documents, rules, codebook, **settings)


def dask_chunks(
    chunks: Iterable[list[PreparedDocument]], rules: TermRules, codebook: Codebook, settings: dict, *, address: str
) -> Iterator[ChunkTables]:
    """:func:`~analysis.framing.measures.chunk_tables` of each chunk on the Dask cluster at
    ``address``, yielded in chunk order, with at most ``IN_FLIGHT_PER_WORKER`` chunks per worker
    thread submitted and not yet taken. The rules and the codebook are sent to every worker once
    (scattered), not with each chunk. Tasks are not pure, so Dask neither merges nor skips any.
    Raises one :class:`~analysis.errors.InputError` line (``[run] scheduler``) when the scheduler
    cannot be reached or has no worker, or the cluster fails during the run; an error of a chunk
    itself comes back as it is. A :data:`~analysis.framing.measures.ChunkMapper`."""
    client = dask_client(address, where=WHERE)
    from distributed.scheduler import KilledWorker

    lost = (OSError, TimeoutError, KilledWorker, CancelledError)  # the cluster, not the chunk

    def failed(exc: BaseException) -> InputError:
        why = " ".join(str(exc).split())  # Dask's messages can span lines; the error is one
        return InputError(
            WHERE, f"the Dask cluster at '{address}' failed during the run ({type(exc).__name__}: {why})", FIX
        )

    chunks = iter(chunks)
    try:
        try:
            window = IN_FLIGHT_PER_WORKER * max(1, sum(client.nthreads().values()))
            shared = client.scatter([rules, codebook], broadcast=True, hash=False)
        except lost as exc:
            raise failed(exc) from None

        def submit(documents: list[PreparedDocument]):
            try:
                return client.submit(_chunk, documents, *shared, settings, pure=False)
            except lost as exc:
                raise failed(exc) from None

        pending = deque(submit(documents) for documents in islice(chunks, window))
        while pending:
            future = pending.popleft()
            try:
                part = future.result()
            except lost as exc:
                raise failed(exc) from None
            future.release()
            pending.extend(submit(documents) for documents in islice(chunks, 1))  # read here, outside the guard
            yield part
        try:  # the workers' token keys (up to 500,000) are not needed past the annotation, as here
            client.run(release_key_cache)
        except lost as exc:
            raise failed(exc) from None
    finally:
        client.close()
