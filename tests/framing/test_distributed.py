"""The framing annotation on Dask: the tables of the local run, a bounded window of chunks, one line on failure."""

from __future__ import annotations

import pandas as pd
import pytest

from analysis.errors import InputError
from analysis.framing import distributed as fd
from analysis.framing.codebook import CoverageTally
from analysis.framing.measures import annotate, annotation_coverage, annotation_tables, chunk_tables
from analysis.text.prepare import IN_FLIGHT_PER_WORKER
from tests.framing.test_measures import CODEBOOK, RULES, _mixed_corpus

SETTINGS = {"kind": "sentences", "window": 2, "min_hits": 2}


def _assert_same_tables(got, expected):
    for name in ("coverage", "unmapped", "units", "documents", "actors", "statements"):
        pd.testing.assert_frame_equal(getattr(got, name), getattr(expected, name), check_exact=True, obj=name)
    assert got.concepts.row_ids == expected.concepts.row_ids and got.concepts.vocab == expected.concepts.vocab
    assert got.concepts.shape == expected.concepts.shape and (got.concepts.counts != expected.concepts.counts).nnz == 0
    assert got.sentences == expected.sentences and list(got.sentences) == list(expected.sentences)
    assert got.languages == expected.languages


@pytest.fixture(scope="module")
def cluster():
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, host="127.0.0.1", protocol="tcp://", dashboard_address=None
    ) as local:
        yield local


def test_chunks_on_a_local_cluster_give_the_local_tables(cluster):
    docs = _mixed_corpus() * 3  # 15 documents, 8 chunks of 2: more than the window of 2 workers x 3
    local = annotation_tables(docs, RULES, CODEBOOK, chunk=2, **SETTINGS)
    mapper = fd.chunk_mapper(cluster.scheduler_address)
    _assert_same_tables(annotation_tables(iter(docs), RULES, CODEBOOK, chunk=2, mapper=mapper, **SETTINGS), local)
    assert len(local.statements) == 21  # 7 statements in the five documents (test_measures), three times
    assert fd.chunk_mapper("") is None  # no scheduler: annotated here


def test_at_most_a_window_of_chunks_is_submitted(cluster):
    docs = _mixed_corpus()
    pulled = []

    def chunks():
        for i in range(20):
            pulled.append(i)
            yield [docs[i % len(docs)]]

    parts = fd.dask_chunks(chunks(), RULES, CODEBOOK, SETTINGS, address=cluster.scheduler_address)
    first = next(parts)
    window = IN_FLIGHT_PER_WORKER * 2  # two worker threads
    assert len(pulled) == window + 1  # the window, then one more as the first result was taken
    assert list(first.sentences) == ["x0"]
    rest = list(parts)
    assert len(pulled) == 20 and [list(p.sentences) for p in rest][:4] == [["v1"], ["x1"], ["e1"], ["v2"]]


def test_coverage_tallies_merge_into_the_tally_of_every_document():
    docs = _mixed_corpus()
    merged = CoverageTally()
    for part in (docs[:2], docs[2:4], docs[4:]):
        merged.merge(chunk_tables(part, RULES, CODEBOOK).tally)
    coverage, unmapped = merged.tables()
    expected = annotation_coverage([annotate(d, RULES, CODEBOOK) for d in docs])
    pd.testing.assert_frame_equal(coverage, expected[0])
    pd.testing.assert_frame_equal(unmapped, expected[1])
    assert coverage["documents"].tolist() == [1, 4]  # en, vi: counts add
    assert coverage.loc[1, "types"] == len(merged.stats["vi"]["types"]) < merged.stats["vi"]["tokens"]  # sets unite


def test_an_unreachable_scheduler_is_one_line():
    pytest.importorskip("distributed")
    mapper = fd.chunk_mapper("tcp://127.0.0.1:1")  # nothing listens on port 1
    with pytest.raises(InputError) as raised:
        annotation_tables(_mixed_corpus(), RULES, CODEBOOK, mapper=mapper)
    assert raised.value.where == "[run] scheduler"
    assert "cannot reach the Dask scheduler at 'tcp://127.0.0.1:1'" in raised.value.problem


class _LostFuture:
    def result(self):
        raise OSError("Timed out during handshake while connecting to tcp://127.0.0.1:8786")

    def release(self):
        pass


class _LostClient:
    """A client whose cluster goes away once the work is submitted."""

    closed = False

    def nthreads(self):
        return {"w": 1}

    def scatter(self, data, **kwargs):
        return list(data)

    def submit(self, *args, **kwargs):
        return _LostFuture()

    def close(self):
        self.closed = True


def test_a_cluster_lost_during_the_run_is_one_line_and_the_client_is_closed(monkeypatch):
    client = _LostClient()
    monkeypatch.setattr(fd, "dask_client", lambda address, where: client)
    pytest.importorskip("distributed")
    with pytest.raises(InputError) as raised:
        annotation_tables(_mixed_corpus(), RULES, CODEBOOK, chunk=2, mapper=fd.chunk_mapper("tcp://10.0.0.1:8786"))
    assert raised.value.where == "[run] scheduler"
    assert raised.value.problem.startswith("the Dask cluster at 'tcp://10.0.0.1:8786' failed during the run (OSError")
    assert client.closed


def test_the_framing_stage_imports_nothing_of_dask_without_a_scheduler():
    import subprocess
    import sys

    from tests.conftest import ROOT

    script = (
        "import sys\n"
        "from analysis.framing.measures import annotation_tables\n"
        "from analysis.stages import framing\n"
        "from tests.framing.test_measures import CODEBOOK, RULES, _mixed_corpus\n"
        "mapper = framing.chunk_mapper('')\n"
        "annotation_tables(_mixed_corpus(), RULES, CODEBOOK, mapper=mapper)\n"
        "print('DASK', sorted(m for m in sys.modules if m.split('.')[0] in ('dask', 'distributed')))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "DASK []" in done.stdout


def test_a_cluster_closed_during_the_run_is_one_line():
    distributed = pytest.importorskip("distributed")
    docs = _mixed_corpus()
    cluster = distributed.LocalCluster(
        n_workers=1, threads_per_worker=1, processes=False, host="127.0.0.1", protocol="tcp://", dashboard_address=None
    )
    address = cluster.scheduler_address
    parts = fd.dask_chunks(([docs[i % len(docs)]] for i in range(200)), RULES, CODEBOOK, {}, address=address)
    assert list(next(parts).sentences) == ["x0"]
    cluster.close()
    with pytest.raises(InputError) as raised:
        list(parts)
    assert raised.value.where == "[run] scheduler"
    assert raised.value.problem.startswith(f"the Dask cluster at '{address}' failed during the run")
    assert "\n" not in str(raised.value)  # Dask's own message spans two lines
