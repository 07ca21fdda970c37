"""The fit workers' shared counts: the mapped arrays hold the corpus exactly, and a fit of them
is the fit of the corpus, bit for bit, with either engine."""

from __future__ import annotations

import mmap
from dataclasses import replace

import numpy as np
import pytest

from analysis.topics import lda as topics
from analysis.topics import shared
from tests.topics.test_engines import FAST, random_corpus, two_vocabulary_corpus


def mapped(array) -> bool:
    """Whether ``array`` is a view of a memory-mapped file."""
    while array is not None:
        if isinstance(array, np.memmap | mmap.mmap):
            return True
        array = getattr(array, "base", None)
    return False


def test_mapped_counts_and_vocabulary_are_the_corpus(tmp_path):
    corpus = random_corpus(30)
    handle = shared.write_shared(corpus.counts, corpus.vocab, tmp_path / "x", name="x")
    assert sorted(p.name for p in (tmp_path / "x").iterdir()) == sorted(shared.FILES)
    assert (handle.n_units, handle.n_terms) == corpus.counts.shape == (30, len(corpus.vocab))
    counts, vocab = shared.load_shared(handle)
    assert vocab == corpus.vocab
    assert (counts != corpus.counts).nnz == 0 and counts.nnz == corpus.counts.nnz
    # int32 on disk, mapped read-only (one copy in the page cache for every worker), not copied by scipy
    assert counts.indices.dtype == counts.data.dtype == np.int32
    for name in ("indptr", "indices", "data"):
        assert mapped(getattr(counts, name)) and not getattr(counts, name).flags.writeable
    assert not mapped(corpus.counts.data)
    assert shared.load_shared(handle)[0] is counts  # mapped once per process


def test_an_existing_folder_is_not_overwritten(tmp_path):
    (tmp_path / "x").mkdir()
    corpus = random_corpus(5)
    with pytest.raises(FileExistsError):
        shared.write_shared(corpus.counts, corpus.vocab, tmp_path / "x")


@pytest.mark.parametrize("engine", ["tomotopy", "gensim"])
def test_a_fit_of_the_mapped_counts_is_the_fit_of_the_corpus(tmp_path, engine):
    corpus = two_vocabulary_corpus(16)
    params = topics.fit_parameters(replace(FAST, engine=engine))
    handle = shared.write_shared(corpus.counts, corpus.vocab, tmp_path / engine)
    k, seed, phi, record = shared.fit_job(handle, params, (3, 2))
    k0, seed0, phi0, record0 = topics._fit_job(topics.fit_input(corpus), params, (3, 2))
    assert (k, seed, record) == (k0, seed0, record0)
    assert phi.tobytes() == phi0.tobytes()
    final = shared.final_job(handle, 2, 7, params)
    expected = topics.fit_lda(corpus, 2, 7, **params)
    assert final.topic_word.tobytes() == expected.topic_word.tobytes()
    assert final.doc_topic.tobytes() == expected.doc_topic.tobytes()
    assert final.alpha.tobytes() == expected.alpha.tobytes() and final.record == expected.record
