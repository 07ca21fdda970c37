"""BLAS and OpenMP thread pools pinned to a fixed size in every process a stage runs.

Why: numpy's and scipy's OpenBLAS (and any OpenMP runtime loaded beside them) start one thread
per core. Two things follow.

* **Bytes that depend on the machine.** A threaded BLAS splits a reduction (a dot product, a
  matrix-vector product) among its threads and adds the partial sums in another order, so the
  last bits of a result depend on the number of threads, that is on the machine's core count (a
  figure of the design stage differed in bytes between one and two OpenBLAS threads). The project
  promises the same bytes for the same inputs and settings, on any machine.
* **Oversubscription.** Stages already run ``[run] workers`` processes (preparation, topic fits,
  the robustness grid); each one's BLAS threads on top of them ask for workers × cores threads,
  and OpenBLAS's idle threads spin while they wait, which costs CPU that other work needs
  (measured in ``benchmarks/README.md``, "BLAS threads pinned").

What: :func:`pinned` sets a stage's BLAS/OpenMP pools to ``[run] blas_threads`` threads (1 by
default) for the duration of the stage and puts them back afterwards; every process pool the toolkit
starts is a :func:`worker_pool`, whose workers pin theirs (:func:`pin_worker`) to the count
:func:`pool_threads` gives in the parent, for the rest of their life. Two mechanisms together, since
``threadpoolctl`` (https://github.com/joblib/threadpoolctl) can only resize libraries already
loaded: ``threadpool_limits`` for those, and the environment variables each library reads when it
is loaded (``OPENBLAS_NUM_THREADS``, ``OMP_NUM_THREADS`` ...) for the ones a stage loads later
(scipy's own OpenBLAS comes with ``scipy.linalg``; stages import their code when they start) and
for the processes it starts (``spawn`` workers, subprocesses).

Nothing changes when ``analysis`` is imported: a notebook that calls the public functions keeps
its own thread settings. Only the command line (and the toolkit's own worker processes) pins.
Dask workers are not the toolkit's: Dask's nanny starts each worker with ``OMP_NUM_THREADS``,
``MKL_NUM_THREADS`` and ``OPENBLAS_NUM_THREADS`` set to 1 (``distributed.nanny.pre-spawn-environ``),
which matches the default here.

A count above the machine's cores is honoured for the libraries loaded when the pin is made; one
loaded later reads the environment, and OpenBLAS caps that at the number of cores.

The same number of threads is not the whole story: OpenBLAS picks its kernels by processor
(``threadpool_info()``'s ``architecture``, e.g. SkylakeX or Haswell), and two kernels may round
differently, so bytes are promised for the same processor family only.
"""

from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from typing import Any, Callable, Iterator

#: Threads of each BLAS/OpenMP pool when a study does not say (``[run] blas_threads``).
DEFAULT = 1

#: The variables BLAS and OpenMP runtimes read when they are loaded: OpenBLAS, OpenMP (libgomp,
#: Intel's and LLVM's), MKL, BLIS, Apple's Accelerate, numexpr.
ENVIRONMENT = (
    "OPENBLAS_NUM_THREADS",
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "BLIS_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "NUMEXPR_NUM_THREADS",
)

_current: int | None = None  # the count of the innermost pinned() block of this process, if any


def pool_threads() -> int:
    """The BLAS threads a worker process started now should run with: the enclosing
    :func:`pinned` block's count (a stage's ``[run] blas_threads``), else :data:`DEFAULT`.

    >>> pool_threads()
    1
    >>> with pinned(3):
    ...     pool_threads()
    3
    """
    return DEFAULT if _current is None else _current


def pin_worker(threads: int = DEFAULT) -> None:
    """Pin this process's BLAS/OpenMP pools to ``threads`` for the rest of its life (a worker
    process's first step in :func:`worker_pool`). Libraries loaded later read the environment set here."""
    os.environ.update(dict.fromkeys(ENVIRONMENT, str(threads)))
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=threads)


@contextmanager
def pinned(threads: int = DEFAULT) -> Iterator[None]:
    """Within the block, every BLAS/OpenMP pool of this process (and of the processes it starts)
    has ``threads`` threads; afterwards each is put back as it was.

    On leaving: the environment variables of :data:`ENVIRONMENT` are restored, libraries that were
    loaded before get their own counts back (``threadpoolctl``), and libraries first loaded inside
    the block (which read the pinned environment) get the count the same kind of library had when
    the block began (numpy's OpenBLAS stands for scipy's), so a caller that goes on computing in
    the same process does not find scipy left at one thread.
    """
    global _current
    from threadpoolctl import ThreadpoolController

    controller = ThreadpoolController()
    before = {lib.filepath: lib.num_threads for lib in controller.lib_controllers}
    kind_before = {lib.internal_api: lib.num_threads for lib in controller.lib_controllers}
    saved = {name: os.environ.get(name) for name in ENVIRONMENT}
    outer = _current
    os.environ.update(dict.fromkeys(ENVIRONMENT, str(threads)))
    _current = threads
    with controller.limit(limits=threads):  # restores the libraries it saw when the block ends
        try:
            yield
        finally:
            _current = outer
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value
            for lib in ThreadpoolController().lib_controllers:
                if lib.filepath not in before and lib.internal_api in kind_before:
                    lib.set_num_threads(kind_before[lib.internal_api])


def worker_pool(
    max_workers: int, *, mp_context: Any = None, initializer: Callable | None = None, initargs: tuple = ()
) -> ProcessPoolExecutor:
    """A process pool whose workers run their BLAS/OpenMP pools at :func:`pool_threads` threads
    (:func:`pin_worker` first, then ``initializer(*initargs)`` if given): every process pool the
    toolkit starts is made here, so no worker starts one BLAS thread per core beside the others.
    ``mp_context`` as ``ProcessPoolExecutor``'s (``multiprocessing.get_context("spawn")`` ...)."""
    return ProcessPoolExecutor(
        max_workers=max_workers,
        mp_context=mp_context,
        initializer=_init_worker,
        initargs=(pool_threads(), initializer, initargs),
    )


def _init_worker(threads: int, initializer: Callable | None, initargs: tuple) -> None:
    pin_worker(threads)
    if initializer is not None:
        initializer(*initargs)


def report() -> list[tuple[str, str, int]]:
    """(internal API, library file name, threads) of every BLAS/OpenMP pool loaded in this
    process, as ``threadpoolctl.threadpool_info()`` sees them (for tests and benchmarks)."""
    from threadpoolctl import threadpool_info

    return [(i["internal_api"], os.path.basename(i["filepath"]), i["num_threads"]) for i in threadpool_info()]
