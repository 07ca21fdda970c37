"""Keyness permutation batches on Dask (analysis/stats/distributed.py): the same p, q, decisions and
random stream as the local run, pieces of a batch that give the whole batch's bits, one line on failure."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest
from scipy import sparse

import analysis.stats.resampling as rs
from analysis.errors import InputError
from analysis.stats import distributed as sd
from analysis.stats.keyness import keyness_comparisons
from analysis.stats.resampling import permutation_keyness
from tests.stats.test_resampling import bursty_corpus


@pytest.fixture(scope="module")
def cluster():
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, host="127.0.0.1", protocol="tcp://", dashboard_address=None
    ) as local:
        yield local


def _table(
    seed: int = 4, n_docs: int = 120, n_terms: int = 30, *, shape: float = 0.5, effect: float = 3.0
) -> tuple[np.ndarray, np.ndarray]:
    """Bursty counts with a planted difference in three terms for group a, and 3 groups."""
    rng = np.random.default_rng(seed)
    boost = np.ones((n_docs, n_terms))
    boost[: n_docs // 3, :3] = effect
    X = bursty_corpus(rng, n_docs, n_terms, shape=shape, boost=boost)
    labels = np.array(["a"] * (n_docs // 3) + ["b"] * (n_docs // 3) + ["c"] * (n_docs - 2 * (n_docs // 3)))
    return X, labels


def _assert_same(got: rs.PermutationResult, expected: rs.PermutationResult) -> None:
    for name in ("targets", "min_p", "exact", "resamples", "units", "design"):
        assert getattr(got, name) == getattr(expected, name), name
    for name in ("p", "splits", "decided", "p_conservative"):
        np.testing.assert_array_equal(getattr(got, name), getattr(expected, name), err_msg=name)


@pytest.mark.parametrize(
    "design",
    ["documents", "clusters", "within clusters"],
)
def test_permutation_keyness_on_a_local_cluster_equals_the_local_run(cluster, monkeypatch, design):
    X, labels = _table()
    clusters = {
        "documents": None,
        "clusters": [f"{g}{i % 6}" for i, g in enumerate(labels)],  # outlets nested in groups
        "within clusters": [f"o{i % 5}" for i in range(len(labels))],  # outlets spanning groups
    }[design]
    monkeypatch.setattr(rs, "RESAMPLE_CELLS", 120 * 9)  # 9 splits a batch: many batches, uneven pieces
    options = dict(n_resamples=60, clusters=clusters, max_resamples=400)
    rng_local, rng_dask = np.random.default_rng(11), np.random.default_rng(11)
    local = permutation_keyness(X, labels, ["a", "b", "c"], rng=rng_local, **options)
    batches = sd.dask_batches(cluster.scheduler_address)
    remote = permutation_keyness(X, labels, ["a", "b", "c"], rng=rng_dask, batches=batches, **options)
    assert local.design == design and local.resamples > 60  # the sequential extension ran past B
    assert (local.splits < local.resamples).any() and (local.splits > 60).any()  # terms stopped, others went on
    _assert_same(remote, local)
    assert rng_dask.bit_generator.state == rng_local.bit_generator.state  # the same draws, here, in order


def test_exact_enumeration_and_a_small_target_by_sparse_product_are_the_same_on_the_cluster(cluster):
    X, labels = _table(n_docs=9, n_terms=6)
    local = permutation_keyness(X, labels, ["a"], n_resamples=5000, rng=np.random.default_rng(0))
    batches = sd.dask_batches(cluster.scheduler_address)
    remote = permutation_keyness(X, labels, ["a"], n_resamples=5000, rng=np.random.default_rng(0), batches=batches)
    assert local.exact
    _assert_same(remote, local)
    # a target under a fifth of 600 units, frequent terms: the statistic's sparse-product route
    rng = np.random.default_rng(8)
    X = rng.poisson(3.0, size=(600, 12))
    labels = np.array(["small"] * 80 + ["rest"] * 520)
    local = permutation_keyness(X, labels, ["small"], n_resamples=300, rng=np.random.default_rng(1))
    remote = permutation_keyness(X, labels, ["small"], n_resamples=300, rng=np.random.default_rng(1), batches=batches)
    _assert_same(remote, local)


def test_a_framing_keyness_table_on_the_cluster_equals_the_local_table(cluster):
    X, labels = _table(seed=9, n_docs=90, n_terms=25, shape=1.0, effect=4.0)
    doc_ids = [f"d{i}" for i in range(len(labels))]
    groups = dict(zip(doc_ids, labels))
    vocab = [f"w{j}" for j in range(X.shape[1])]
    options = dict(n_resamples=200, max_resamples=2000, correction="none")
    local = keyness_comparisons(sparse.csr_matrix(X), doc_ids, vocab, groups, rng=np.random.default_rng(3), **options)
    remote = keyness_comparisons(
        sparse.csr_matrix(X),
        doc_ids,
        vocab,
        groups,
        rng=np.random.default_rng(3),
        batches=sd.dask_batches(cluster.scheduler_address),
        **options,
    )
    assert [c.name for c in remote] == [c.name for c in local] == ["a vs rest", "b vs rest", "c vs rest"]
    for got, expected in zip(remote, local):
        pd.testing.assert_frame_equal(got.table, expected.table, check_exact=True)
    found = set(local[0].table.loc[local[0].table["q"] < 0.05, "term"])
    assert {"w0", "w1", "w2"} <= found and len(found) < 25  # the planted terms are found, on either route


def test_pieces_of_a_batch_give_the_whole_batchs_hits_after_pickling():
    """What a worker process receives (the problem pickled as Dask pickles it) and computes on a
    piece of the splits is, bit for bit, the local loop's hits on the whole batch."""
    cloudpickle = pytest.importorskip("cloudpickle")
    X, labels = _table(n_docs=60, n_terms=20)
    captured = {}

    class Capture:
        def start(self, statistic, rows_of, threshold, codes):
            captured["problem"] = sd.BatchProblem(statistic, rows_of, threshold, list(codes))
            return None  # then the loop runs here

    # a hook that only captures the problem: the call runs locally as before
    permutation_keyness(X, labels, ["a", "c"], n_resamples=50, rng=np.random.default_rng(2), batches=Capture())
    problem = captured["problem"]
    with pytest.raises(
        (pickle.PicklingError, AttributeError)
    ):  # a closure: plain pickle cannot, Dask falls back to cloudpickle
        pickle.dumps(problem.statistic)
    shipped = cloudpickle.loads(cloudpickle.dumps(problem))
    permuted = rs.permuted_rows(np.random.default_rng(5), np.unique(labels, return_inverse=True)[1], 13)
    active = [None, np.array([0, 2, 3, 7, 19])]
    whole = problem.hits(permuted, active)
    joined = [[], []]
    for a, b in sd.pieces(13, 4):
        for row, part in enumerate(sd._piece_hits(shipped, sd.compact_codes(permuted[a:b]), active)):
            joined[row].append(np.unpackbits(part, axis=1, count=b - a).astype(bool))
    for row in range(2):
        np.testing.assert_array_equal(np.hstack(joined[row]), whole[row])
    assert whole[0].shape == (20, 13) and whole[1].shape == (5, 13) and whole[0].any() and not whole[0].all()


def test_an_unreachable_scheduler_is_one_line():
    pytest.importorskip("distributed")
    X, labels = _table(n_docs=30, n_terms=5)
    with pytest.raises(InputError) as raised:
        permutation_keyness(
            X,
            labels,
            ["a"],
            n_resamples=50,
            rng=np.random.default_rng(0),
            batches=sd.dask_batches("tcp://127.0.0.1:1"),  # nothing listens on port 1
        )
    assert raised.value.where == "[run] scheduler"
    assert "cannot reach the Dask scheduler at 'tcp://127.0.0.1:1'" in raised.value.problem
    assert sd.dask_batches("") is None  # no scheduler: computed here


class _LostClient:
    """A client whose cluster goes away once a batch is submitted."""

    closed = False

    def nthreads(self):
        return {"w": 1}

    def scatter(self, data, **kwargs):
        return _Released()

    def submit(self, *args, **kwargs):
        return None

    def gather(self, futures):
        raise OSError("Timed out during handshake\nwhile connecting to tcp://10.0.0.1:8786")

    def close(self):
        self.closed = True


class _Released:
    def release(self):
        pass


def test_a_cluster_lost_during_the_run_is_one_line_and_the_client_is_closed(monkeypatch):
    pytest.importorskip("distributed")
    import analysis.text.prepare as prepare

    client = _LostClient()
    monkeypatch.setattr(prepare, "dask_client", lambda address, where: client)
    X, labels = _table(n_docs=30, n_terms=5)
    with pytest.raises(InputError) as raised:
        permutation_keyness(
            X,
            labels,
            ["a"],
            n_resamples=50,
            rng=np.random.default_rng(0),
            batches=sd.DaskBatches("tcp://10.0.0.1:8786"),
        )
    assert raised.value.where == "[run] scheduler"
    assert raised.value.problem.startswith("the Dask cluster at 'tcp://10.0.0.1:8786' failed during the run (OSError")
    assert "\n" not in str(raised.value) and client.closed


def test_the_framing_stages_word_keyness_runs_its_batches_on_the_cluster(cluster):
    """The stage passes ``[run] scheduler`` down to the permutation batches (not only the same bytes
    as a stage that ignored it): the cluster is used, and the comparison tables are the local ones."""
    from analysis.stages import framing
    from analysis.study.settings import FramingSettings
    from analysis.text.dtm import DocTermMatrix

    X, labels = _table(seed=9, n_docs=60, n_terms=12, shape=1.0, effect=4.0)
    ids = [f"d{i}" for i in range(len(labels))]
    docvars = pd.DataFrame({"language": "vi", "event": labels}, index=ids)
    dtm = DocTermMatrix(sparse.csr_matrix(X), ids, [f"w{j}" for j in range(X.shape[1])], docvars)
    settings = FramingSettings(permutations=200, keyness_budget=1000, cluster="")
    started = []

    class Spy(sd.DaskBatches):
        def start(self, *args):
            started.append(self.address)
            return super().start(*args)

    assert framing.dask_batches("") is None
    local = list(framing._word_keyness(dtm, docvars, language="vi", var="event", settings=settings))
    remote = list(
        framing._word_keyness(
            dtm, docvars, language="vi", var="event", settings=settings, batches=Spy(cluster.scheduler_address)
        )
    )
    assert started == [cluster.scheduler_address]  # one connection for the comparison set
    kinds = [type(r).__name__ for r in local]
    assert [type(r).__name__ for r in remote] == kinds and {"CsvParts", "Table"} <= set(kinds)
    for got, expected in zip(remote, local):
        if hasattr(expected, "parts"):  # the full table, comparison by comparison
            for mine, theirs in zip(got.parts(), expected.parts(), strict=True):
                pd.testing.assert_frame_equal(mine, theirs, check_exact=True)
        elif type(expected).__name__ == "Table":  # the top rows
            pd.testing.assert_frame_equal(got.data, expected.data, check_exact=True)
    full = pd.concat(list(local[0].parts()))
    assert full["p"].notna().all() and (full["q"] < 0.05).any() and (full["q"] >= 0.05).any()
