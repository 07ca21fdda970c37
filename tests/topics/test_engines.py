"""Topic-model engines (issue 16): both engines behind one interface, reproducibility across
processes and worker counts, the convergence rule, a missing engine, sizing from the corpus."""

from __future__ import annotations

import builtins
import io as _io
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from analysis.errors import InputError
from analysis.stages.topics import TOPIC_KEYS
from analysis.study.settings import Study, TopicSettings, settings_keys
from analysis.topics import engines
from analysis.topics import lda as topics

VOCAB_A = ["hợp_tác", "kinh_tế", "thương_mại", "đầu_tư", "doanh_nghiệp", "xuất_khẩu"]
VOCAB_B = ["biển", "tàu_cá", "ngư_dân", "chủ_quyền", "hải_quân", "đảo"]
FAST = TopicSettings(passes=10, iterations=50, seeds=(1, 2), k_range=(2, 3), bootstrap=200, max_iterations=300)
ENGINES = ["tomotopy", "gensim"]


def study_fit(corpus, k, seed, settings, workers=1):
    """fit_lda with a study's [topics] settings (as the stage calls it)."""
    return topics.fit_lda(corpus, k, seed, **topics.fit_parameters(settings, workers))


def study_select(corpus, settings, **kwargs):
    """select_k with a study's [topics] settings (as the stage calls it)."""
    return topics.select_k(corpus, **topics.selection_parameters(settings), **topics.fit_parameters(settings), **kwargs)


def two_vocabulary_corpus(n_units: int = 20, length: int = 12, seed: int = 0) -> topics.TopicCorpus:
    rng = np.random.default_rng(seed)
    ids = [f"d{i // 2}#w{i % 2}" for i in range(n_units)]
    terms = [list(rng.choice(VOCAB_A if i % 2 == 0 else VOCAB_B, length)) for i in range(n_units)]
    return topics.build_corpus("vi", unit_ids=ids, terms=terms, no_below=2, no_above=0.9)


def random_corpus(n_units: int = 30, seed: int = 3) -> topics.TopicCorpus:
    rng = np.random.default_rng(seed)
    words = [f"w{i}" for i in range(15)]
    terms = [list(rng.choice(words, int(rng.integers(3, 15)))) for _ in range(n_units)]
    return topics.build_corpus("x", unit_ids=[f"u{i}" for i in range(n_units)], terms=terms, no_below=1, no_above=1.0)


@pytest.mark.parametrize("engine", ENGINES)
def test_two_disjoint_vocabularies_give_two_clean_topics_with_either_engine(engine):
    corpus = two_vocabulary_corpus()
    fit = study_fit(corpus, 2, 7, replace(FAST, engine=engine))
    in_a = np.array([t in VOCAB_A for t in fit.vocab])
    low, high = sorted(fit.topic_word[:, in_a].sum(axis=1))
    assert low < 0.05 and high > 0.95
    topic_a = int(np.argmax(fit.topic_word[:, in_a].sum(axis=1)))
    expected = [topic_a if i % 2 == 0 else 1 - topic_a for i in range(corpus.n_units)]
    assert fit.doc_topic.argmax(axis=1).tolist() == expected
    assert fit.doc_topic.max(axis=1).min() > 0.9
    assert fit.record["engine"] == engine and fit.record["version"] == engines.version(engine)


def test_tomotopy_arrays_are_its_own_distributions_in_our_vocabulary_order():
    import tomotopy as tp

    corpus = random_corpus()
    fit = engines.fit_tomotopy(corpus.counts, corpus.vocab, 3, 5, max_iterations=40)
    # Refit the same way by hand and read tomotopy's (float32) distributions through its word ids.
    model = tp.LDAModel(k=3, alpha=[0.1] * 3, eta=0.01, seed=5)
    model.optim_interval = 0
    vocab = np.asarray(corpus.vocab, dtype=object)
    for i in range(corpus.n_units):
        a, b = corpus.counts.indptr[i], corpus.counts.indptr[i + 1]
        model.add_doc(np.repeat(vocab[corpus.counts.indices[a:b]], corpus.counts.data[a:b]).tolist())
    model.train(0, workers=1, parallel=tp.ParallelScheme.NONE)
    for _ in range(4):
        model.train(10, workers=1, parallel=tp.ParallelScheme.NONE)
    column = {t: j for j, t in enumerate(model.vocabs)}
    order = [column[t] for t in corpus.vocab]
    phi = np.array([model.get_topic_word_dist(t) for t in range(3)])[:, order]
    np.testing.assert_allclose(fit.topic_word, phi, rtol=0, atol=1e-6)
    theta = np.array([d.get_topic_dist() for d in model.docs])
    np.testing.assert_allclose(fit.doc_topic, theta, rtol=0, atol=1e-6)


def test_train_tomotopy_is_the_fit_and_keeps_alpha_fixed_unless_auto():
    # The loop a benchmark continues from must be the toolkit's fit: same phi, and alpha not
    # re-estimated (tomotopy's own default optim_interval is 10; the toolkit's symmetric prior is fixed).
    corpus = random_corpus()
    fit = engines.fit_tomotopy(corpus.counts, corpus.vocab, 3, 5, max_iterations=40)
    training = engines.train_tomotopy(corpus.counts, corpus.vocab, 3, 5, max_iterations=40)
    assert training.model.optim_interval == 0 and training.iterations == 40 and not training.stopped
    assert len(training.trace) == 5  # iterations 0, 10, 20, 30, 40
    np.testing.assert_allclose(np.round(training.trace, 6), fit.record["ll_per_token"], rtol=0, atol=1e-12)
    column = {t: j for j, t in enumerate(training.model.vocabs)}
    phi = np.array([training.model.get_topic_word_dist(t) for t in range(3)])[:, [column[t] for t in corpus.vocab]]
    np.testing.assert_allclose(fit.topic_word, phi, rtol=0, atol=1e-6)
    np.testing.assert_allclose(training.model.alpha, [0.1] * 3, rtol=1e-6)
    auto = engines.train_tomotopy(corpus.counts, corpus.vocab, 3, 5, alpha="auto", max_iterations=40)
    assert auto.model.optim_interval == 10
    assert not np.allclose(auto.model.alpha, [0.1] * 3)  # re-estimated


@hsettings(max_examples=10, deadline=None)
@given(st.integers(3, 15), st.integers(2, 4), st.integers(0, 10_000), st.sampled_from(ENGINES))
def test_doc_topic_and_topic_word_rows_sum_to_one(n_units, k, seed, engine):
    rng = np.random.default_rng(seed)
    words = [f"w{i}" for i in range(8)]
    terms = [list(rng.choice(words, int(rng.integers(1, 10)))) for _ in range(n_units)]
    corpus = topics.build_corpus("x", unit_ids=[f"u{i}" for i in range(n_units)], terms=terms, no_below=1, no_above=1.0)
    k = min(k, corpus.n_units)
    fit = study_fit(corpus, k, seed, replace(FAST, engine=engine, passes=2, iterations=20, max_iterations=30))
    assert fit.doc_topic.shape == (corpus.n_units, k) and fit.topic_word.shape == (k, len(corpus.vocab))
    np.testing.assert_allclose(fit.doc_topic.sum(axis=1), 1.0, rtol=0, atol=1e-12)
    np.testing.assert_allclose(fit.topic_word.sum(axis=1), 1.0, rtol=0, atol=1e-12)
    assert (fit.doc_topic > 0).all() and fit.doc_topic.dtype == np.float64


def _fit_in_child(engine: str):
    fit = study_fit(random_corpus(), 3, 11, replace(FAST, engine=engine))
    return fit.topic_word, fit.doc_topic


@pytest.mark.parametrize("engine", ENGINES)
def test_same_seed_gives_identical_matrices_in_two_processes(engine):
    context = multiprocessing.get_context("spawn")  # fresh interpreters, nothing inherited
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        first = pool.submit(_fit_in_child, engine).result()
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        second = pool.submit(_fit_in_child, engine).result()
    here = _fit_in_child(engine)
    for a, b, c in zip(first, second, here):
        assert np.array_equal(a, b) and np.array_equal(a, c)


def test_coherence_counted_once_for_many_fits_equals_fit_by_fit():
    corpus = random_corpus(25)
    phis = [study_fit(corpus, k, seed, FAST).topic_word for k, seed in ((2, 1), (3, 1), (3, 2), (4, 5))]
    together = topics.coherence_many(corpus, phis, topn=5)
    for phi, scores in zip(phis, together):
        alone = topics.coherence(corpus, phi, topn=5)
        assert sorted(scores) == sorted(alone) == sorted(topics.COHERENCE_MEASURES)
        for measure in alone:
            np.testing.assert_array_equal(scores[measure], alone[measure])
    assert topics.coherence_many(corpus, [], topn=5) == []


@pytest.mark.parametrize("search_units", [0, 12])
def test_worker_count_does_not_change_results(search_units):
    from pathlib import Path

    from analysis.stages.topics import fit_models
    from analysis.study.settings import Study

    corpora = {"vi": two_vocabulary_corpus(16), "x": random_corpus(20)}
    # search_units 12: the K search sees a sample (shared as its own arrays), the final fit every unit
    study = Study(root=Path("."), source=Path("study.toml"), topics=replace(FAST, search_units=search_units))
    quiet = engines.Progress(stream=None)
    one = fit_models(corpora, settings=study.topics, source=study.source, workers=1, progress=quiet)
    two = fit_models(corpora, settings=study.topics, source=study.source, workers=2, progress=quiet)
    for name in corpora:
        pd.testing.assert_frame_equal(one[0][name].fits, two[0][name].fits, check_exact=True)
        pd.testing.assert_frame_equal(one[0][name].summary, two[0][name].summary, check_exact=True)
        assert np.array_equal(one[1][name].topic_word, two[1][name].topic_word)
        assert np.array_equal(one[1][name].doc_topic, two[1][name].doc_topic)
        assert one[1][name].record == two[1][name].record
        assert ("K chosen on a sample" in two[0][name].reason) == bool(search_units)
    assert quiet.done == quiet.total == 2 * 2 * 2 + 2  # (K 2, 3) x seeds (1, 2) per model + 2 finals


def test_convergence_stops_tomotopy_early_on_an_easy_corpus_and_is_recorded():
    corpus = two_vocabulary_corpus(40)
    early = engines.fit_tomotopy(corpus.counts, corpus.vocab, 2, 1, max_iterations=1000, tolerance=0.001, window=30)
    full = engines.fit_tomotopy(corpus.counts, corpus.vocab, 2, 1, max_iterations=200, tolerance=0.0)
    assert early.record["stopped_by"] == "convergence" and early.record["iterations"] < 200
    assert early.record["iterations"] % engines.CHECK_EVERY == 0 and early.record["window"] == 30
    trace = early.record["ll_per_token"]
    assert len(trace) == early.record["iterations"] // engines.CHECK_EVERY + 1
    assert np.mean(trace[-3:]) - np.mean(trace[-6:-3]) < 0.001  # the rule held at the end ...
    assert not any(engines.converged(trace[:n], 3, 0.001) for n in range(len(trace)))  # ... and not before
    assert full.record["stopped_by"] == "max_iterations" and full.record["iterations"] == 200
    # Stopping early is the same fit as asking for that many iterations.
    same = engines.fit_tomotopy(corpus.counts, corpus.vocab, 2, 1, max_iterations=early.record["iterations"])
    assert np.array_equal(same.topic_word, early.topic_word) and np.array_equal(same.doc_topic, early.doc_topic)


def test_convergence_stops_gensim_early_and_equals_the_fit_of_that_many_passes():
    from gensim.models import LdaModel

    corpus = two_vocabulary_corpus(40)
    settings = replace(FAST, engine="gensim", passes=50, tolerance=0.001, chunksize=8)  # 5 updates a pass
    fit = study_fit(corpus, 2, 3, settings)
    passes = fit.record["iterations"]
    assert fit.record["stopped_by"] == "convergence" and passes < 50 and len(fit.record["ll_per_token"]) == passes
    bow = corpus.bow()
    train = [bow[i] for i in topics.training_order(len(bow), 3)]
    params = {**topics.lda_parameters(settings), "passes": passes}
    bare = LdaModel(
        corpus=train,
        id2word=topics._gensim_dictionary(corpus.vocab),
        num_topics=2,
        random_state=np.random.RandomState(3),
        **params,
    )
    phi = bare.get_topics().astype(np.float64)
    np.testing.assert_allclose(fit.topic_word, phi / phi.sum(axis=1, keepdims=True), rtol=0, atol=1e-12)


def test_convergence_rule_by_hand():
    assert engines.converged([-5.0, -4.0, -3.9995], 1, 0.001)
    assert not engines.converged([-5.0, -4.0, -3.99], 1, 0.001)
    assert engines.converged([-5.0, -4.0, -4.5], 1, 0.001)  # a fall is no improvement
    # windows of two: means of (-4.0, -3.0) = -3.5 and of (-3.0005, -2.9996) = -3.00005: +0.49995
    assert not engines.converged([-5.0, -4.0, -3.0, -3.0005, -2.9996], 2, 0.001)
    # ... and of (-3.0005, -2.9996) = -3.00005 then (-3.0001, -2.9997) = -2.9999: +0.00015
    assert engines.converged([-5.0, -4.0, -3.0, -3.0005, -2.9996, -3.0001, -2.9997], 2, 0.001)
    assert not engines.converged([-5.0, -4.0, -3.0, -3.0], 2, 0.001)  # not yet two whole windows
    assert not engines.converged([-5.0, -5.0, -5.0], 1, 0.0)  # tolerance 0: never


def test_a_missing_engine_is_one_line_with_the_install_command(monkeypatch):
    real_import = builtins.__import__

    def no_tomotopy(name, *args, **kwargs):
        if name == "tomotopy" or name.startswith("tomotopy."):
            raise ImportError("No module named 'tomotopy'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_tomotopy)
    with pytest.raises(ValueError) as info:
        topics.fit_lda(two_vocabulary_corpus(), 2, 1, **topics.engine_parameters(FAST))
    message = str(info.value)
    assert "\n" not in message and message.startswith("engine = 'tomotopy' needs the tomotopy package")
    with pytest.raises(
        InputError, match=r"^study.toml: \[topics\] engine: engine = 'tomotopy' needs the tomotopy package"
    ):
        with settings_keys(Study(root=Path("."), source=Path("study.toml")), **TOPIC_KEYS):
            topics.fit_lda(two_vocabulary_corpus(), 2, 1, **topics.engine_parameters(FAST))
    assert "pip install tomotopy==0.14.0" in message and "engine = 'gensim'" in message
    # gensim still works without tomotopy
    assert study_fit(two_vocabulary_corpus(), 2, 1, replace(FAST, engine="gensim")).k == 2


def test_unknown_engine_names_the_key():
    with pytest.raises(ValueError, match=r"^engine = 'lda' is not known"):
        engines.require("lda")


def test_tomotopy_priors():
    assert engines.tomotopy_priors(3, "symmetric", "symmetric") == ([0.1, 0.1, 0.1], 0.01, 0)
    alphas, eta, optim = engines.tomotopy_priors(4, "asymmetric", 0.05)
    raw = np.array([1 / (i + 2.0) for i in range(4)])
    np.testing.assert_allclose(alphas, raw / raw.sum()) and eta == 0.05 and optim == 0
    assert engines.tomotopy_priors(2, "auto", "symmetric")[2] == 10
    assert engines.tomotopy_priors(2, 0.5, 0.2) == ([0.5, 0.5], 0.2, 0)


# -------------------------------------------------------------------------------- sizing


def test_suggested_settings_by_hand():
    seed_study = topics.suggest_topic_settings(5, n_languages=2)
    assert seed_study["topics"]["k_range"] == [2, 3, 4, 5] and seed_study["units"] == {"kind": "sentences", "window": 3}
    # 300 documents a model: K_max = round(sqrt(150)) = 12; 6 values 2 * 6^(i/5): 2, 2.9, 4.1, 5.9, 8.4, 12
    mid = topics.suggest_topic_settings(600, n_languages=2)
    assert mid["topics"]["k_range"] == [2, 3, 4, 6, 8, 12] and mid["units"]["kind"] == "document"
    assert topics.suggest_topic_settings(10**6)["topics"]["k_range"][-1] == 50
    with pytest.raises(ValueError):
        topics.suggest_topic_settings(-1)


@given(st.integers(0, 10**7), st.integers(1, 3))
def test_suggested_k_range_is_small_sorted_and_grows_with_the_corpus(n, languages):
    k_range = topics.suggest_topic_settings(n, languages)["topics"]["k_range"]
    assert k_range == sorted(set(k_range)) and k_range[0] == 2 and 2 <= len(k_range) <= 6
    assert 5 <= k_range[-1] <= 50
    assert topics.suggest_topic_settings(2 * n + 400, languages)["topics"]["k_range"][-1] >= k_range[-1]


def test_empty_k_range_is_sized_from_the_documents():
    corpus = two_vocabulary_corpus(20)  # 10 documents, two windows each
    assert topics.n_documents(corpus) == 10
    assert topics.candidate_ks(corpus, ()) == [2, 3, 4, 5]
    assert topics.candidate_ks(corpus, (), k=7) == [2, 3, 4, 5, 7]


def test_progress_line_counts_fits_and_estimates_time_left():
    stream, now = _io.StringIO(), iter([0.0, 10.0, 30.0])
    progress = engines.Progress(stream=stream, clock=lambda: next(now), live=True)
    progress.start(4)
    progress.advance("vi K = 2 seed 1")
    progress.advance("vi K = 2 seed 2")
    lines = stream.getvalue().split("\r")
    assert lines[1].startswith("topics: 1/4 fits (vi K = 2 seed 1), 10s so far, about 30s left")
    assert lines[2].startswith("topics: 2/4 fits (vi K = 2 seed 2), 30s so far, about 30s left")


def test_progress_in_a_log_writes_a_line_per_tenth_and_the_last():
    stream = _io.StringIO()
    progress = engines.Progress(stream=stream, clock=lambda: 0.0)  # StringIO is no terminal
    progress.start(25)
    for i in range(25):
        progress.advance(f"fit {i + 1}")
    lines = stream.getvalue().splitlines()
    # a line when done * 10 // 25 steps up: at 3, 5, 8, 10, 13, 15, 18, 20, 23, 25
    assert [int(line.split()[1].split("/")[0]) for line in lines] == [3, 5, 8, 10, 13, 15, 18, 20, 23, 25]
    assert "\r" not in stream.getvalue()


def test_a_missing_engine_stops_the_stage_before_any_work(tmp_path, capsys, monkeypatch):
    from analysis.cli import main
    from tests.stages.test_topics import STUDY, make_study

    study_path = make_study(tmp_path, STUDY)
    real_import = builtins.__import__

    def no_tomotopy(name, *args, **kwargs):
        if name == "tomotopy":
            raise ImportError("No module named 'tomotopy'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_tomotopy)
    assert main(["topics", "--study", str(study_path), "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and "pip install tomotopy==0.14.0" in err[0]
    assert not (tmp_path / "out").exists() and not (tmp_path / ".cache").exists()  # nothing prepared or written
