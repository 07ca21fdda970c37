"""A topic model's counts shared by the fit workers of one machine through memory-mapped files.

Why: the K-selection fits and the final fits run in worker processes (one single-threaded,
seeded fit each). Each fit used to receive the corpus pickled with its job, so every worker held
its own copy of the counts, vocabulary and unit ids, unpickled again for every fit. Here the
counts are written once, as plain ``.npy`` arrays of the CSR matrix (``indptr``, ``indices``,
``data``: int32 while the matrix has fewer than 2**31 non-zeros) and the vocabulary as a JSON
list, into a folder the stage creates and removes; a job carries only :class:`SharedCounts` (the
folder and the shape), and each worker maps the arrays read-only (``numpy.load(mmap_mode="r")``)
once per corpus, so the pages of the counts are the operating system's page cache, one copy for
every process. The workers are started fresh (``spawn``) rather than forked, so they never
inherit the parent's documents and units either (:func:`analysis.stages.topics.fit_models`).

A fit reads the same counts in the same order from the mapped arrays as from the corpus object
(the engines take the CSR matrix and the vocabulary; the integer width of the counts changes no
token), so the fits are the same bit for bit (test: the stage's outputs with two workers equal
those with one).

This module imports only numpy, scipy.sparse and :mod:`analysis.topics.engines` (the engine's
package when a fit runs), so a worker starts small.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from . import engines

#: The files of one shared corpus, in its folder.
FILES = ("indptr.npy", "indices.npy", "data.npy", "vocab.json")

#: The corpora this worker process has mapped, by folder (a handful per stage: one per model).
_MAPPED: dict[str, tuple[sp.csr_matrix, tuple[str, ...]]] = {}


@dataclass(frozen=True)
class SharedCounts:
    """What a fit job carries instead of the corpus: the folder of the mapped arrays and the shape."""

    name: str
    folder: str
    n_units: int
    n_terms: int


def write_shared(counts: sp.csr_matrix, vocab, folder: Path, *, name: str = "") -> SharedCounts:
    """Write the (units, terms) count matrix and its vocabulary into ``folder`` (created; must not
    exist) for :func:`load_shared`. Raises ``OSError`` when the folder cannot be written."""
    folder = Path(folder)
    folder.mkdir(parents=False, exist_ok=False)
    counts = sp.csr_matrix(counts)
    index = np.int32 if counts.nnz < 2**31 and counts.shape[1] < 2**31 else np.int64
    for file, array, dtype in (
        ("indptr.npy", counts.indptr, index),
        ("indices.npy", counts.indices, index),
        ("data.npy", counts.data, np.int32 if counts.nnz == 0 or counts.data.max() < 2**31 else np.int64),
    ):
        np.save(folder / file, np.ascontiguousarray(array, dtype=dtype), allow_pickle=False)
    (folder / "vocab.json").write_text(json.dumps(list(vocab), ensure_ascii=False), encoding="utf-8")
    return SharedCounts(name, os.fspath(folder), int(counts.shape[0]), int(counts.shape[1]))


def load_shared(handle: SharedCounts) -> tuple[sp.csr_matrix, tuple[str, ...]]:
    """The counts (a CSR matrix over read-only mapped arrays) and vocabulary of ``handle``, mapped
    once per process."""
    if handle.folder not in _MAPPED:
        folder = Path(handle.folder)
        arrays = [np.load(folder / file, mmap_mode="r", allow_pickle=False) for file in FILES[:3]]
        indptr, indices, data = arrays
        counts = sp.csr_matrix((data, indices, indptr), shape=(handle.n_units, handle.n_terms), copy=False)
        vocab = tuple(json.loads((folder / "vocab.json").read_text(encoding="utf-8")))
        _MAPPED[handle.folder] = (counts, vocab)
    return _MAPPED[handle.folder]


def fit_job(handle: SharedCounts, params: dict, job: tuple[int, int]) -> tuple[int, int, np.ndarray, dict]:
    """One K-selection fit in a worker: K, seed, phi and the engine's record (as
    :func:`analysis.topics.lda._fit_job`, from the mapped counts)."""
    k, seed = job
    fit = final_job(handle, k, seed, params)
    return k, seed, fit.topic_word, fit.record


def final_job(handle: SharedCounts, k: int, seed: int, params: dict) -> engines.EngineFit:
    """One fit of the mapped counts with ``k`` topics and ``seed`` (``params``: ``engine`` and its
    keyword arguments, :func:`analysis.topics.lda.fit_parameters`); plain arrays back."""
    counts, vocab = load_shared(handle)
    params = dict(params)
    engine = params.pop("engine", "tomotopy")
    return engines.fit(engine, counts, vocab, k, seed=seed, **params)
