"""Topic models: known answers on synthetic corpora, formulas by hand and against scipy, properties."""

from __future__ import annotations

import logging
import math
import warnings
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from scipy.spatial.distance import jensenshannon
from scipy.stats import entropy

from analysis.study.settings import TopicSettings
from analysis.topics import lda as topics

# Tiny LDA settings: the synthetic corpora are separable, so a few passes suffice.
FAST = TopicSettings(passes=10, iterations=50, seeds=(1, 2), k_range=(2, 3), bootstrap=200, max_iterations=200)
GENSIM = replace(FAST, engine="gensim")
VOCAB_A = ["hợp_tác", "kinh_tế", "thương_mại", "đầu_tư", "doanh_nghiệp", "xuất_khẩu"]
VOCAB_B = ["biển", "tàu_cá", "ngư_dân", "chủ_quyền", "hải_quân", "đảo"]


def study_fit(corpus, k, seed, settings, workers=1):
    """fit_lda with a study's [topics] settings (as the stage calls it)."""
    return topics.fit_lda(corpus, k, seed, **topics.fit_parameters(settings, workers))


def study_select(corpus, settings, **kwargs):
    """select_k with a study's [topics] settings (as the stage calls it)."""
    return topics.select_k(corpus, **topics.selection_parameters(settings), **topics.fit_parameters(settings), **kwargs)


def two_vocabulary_corpus(n_units: int = 20, length: int = 12, seed: int = 0):
    """Even units draw only from VOCAB_A, odd units only from VOCAB_B."""
    rng = np.random.default_rng(seed)
    ids = [f"d{i // 4}#w{i % 4}" for i in range(n_units)]
    terms = [list(rng.choice(VOCAB_A if i % 2 == 0 else VOCAB_B, length)) for i in range(n_units)]
    return ids, terms


@pytest.fixture(scope="module")
def clean_fit():
    ids, terms = two_vocabulary_corpus()
    corpus = topics.build_corpus("vi", unit_ids=ids, terms=terms, no_below=2, no_above=0.9)
    return corpus, study_fit(corpus, 2, 7, FAST)


# ------------------------------------------------------------------------------------ fitting


def test_two_disjoint_vocabularies_give_two_clean_topics(clean_fit):
    corpus, fit = clean_fit
    in_a = np.array([t in VOCAB_A for t in fit.vocab])
    mass_a = fit.topic_word[:, in_a].sum(axis=1)
    # One topic holds (almost) all of vocabulary A, the other all of B (eta = 1/K smooths a little).
    low, high = sorted(mass_a)
    assert low < 0.05 and high > 0.95
    topic_a = int(np.argmax(mass_a))
    dominant = fit.doc_topic.argmax(axis=1)
    expected = [topic_a if i % 2 == 0 else 1 - topic_a for i in range(corpus.n_units)]
    assert dominant.tolist() == expected
    assert fit.doc_topic.max(axis=1).min() > 0.9


def test_matrices_are_distributions_and_shaped(clean_fit):
    corpus, fit = clean_fit
    assert fit.topic_word.shape == (2, len(corpus.vocab)) and fit.doc_topic.shape == (20, 2)
    assert fit.topic_word.dtype == np.float64 and fit.doc_topic.dtype == np.float64
    np.testing.assert_allclose(fit.doc_topic.sum(axis=1), 1.0, rtol=0, atol=1e-12)
    np.testing.assert_allclose(fit.topic_word.sum(axis=1), 1.0, rtol=0, atol=1e-12)
    assert fit.reproducible and fit.vocab == tuple(sorted(VOCAB_A + VOCAB_B))


@pytest.mark.parametrize("engine", ["tomotopy", "gensim"])
def test_a_rerun_gives_identical_matrices(engine):
    # Random units (no clean answer), so that a different seed has room to give other topics.
    rng = np.random.default_rng(3)
    words = [f"w{i}" for i in range(12)]
    terms = [list(rng.choice(words, 10)) for _ in range(30)]
    corpus = topics.build_corpus("x", unit_ids=[f"u{i}" for i in range(30)], terms=terms, no_below=1, no_above=1.0)
    settings = replace(FAST, engine=engine)
    fit = study_fit(corpus, 3, 7, settings)
    again = study_fit(corpus, 3, 7, settings)
    assert np.array_equal(fit.topic_word, again.topic_word)
    assert np.array_equal(fit.doc_topic, again.doc_topic)
    assert fit.record == again.record
    other = study_fit(corpus, 3, 8, settings)
    assert not np.array_equal(fit.topic_word, other.topic_word)  # the seed does matter


@hsettings(max_examples=8, deadline=None)
@given(st.integers(3, 12), st.integers(2, 4), st.integers(0, 10_000))
def test_doc_topic_rows_sum_to_one(n_units, k, seed):
    rng = np.random.default_rng(seed)
    words = [f"w{i}" for i in range(8)]
    terms = [list(rng.choice(words, int(rng.integers(1, 10)))) for _ in range(n_units)]
    corpus = topics.build_corpus("x", unit_ids=[f"u{i}" for i in range(n_units)], terms=terms, no_below=1, no_above=1.0)
    k = min(k, corpus.n_units)
    fit = study_fit(corpus, k, seed, replace(FAST, passes=2, iterations=20))
    assert fit.doc_topic.shape == (corpus.n_units, k)
    np.testing.assert_allclose(fit.doc_topic.sum(axis=1), 1.0, atol=1e-12)
    assert (fit.doc_topic >= 0).all()


@given(st.integers(0, 300), st.integers(0, 2**31 - 1))
def test_training_order_is_a_seeded_permutation(n_units, seed):
    order = topics.training_order(n_units, seed)
    assert sorted(order.tolist()) == list(range(n_units))
    assert order.tolist() == topics.training_order(n_units, seed).tolist()
    assert topics.training_order(n_units, seed, shuffle=False).tolist() == list(range(n_units))


def test_fit_trains_in_the_training_order_and_reports_theta_in_corpus_order():
    from gensim.models import LdaModel

    ids, terms = two_vocabulary_corpus()
    corpus = topics.build_corpus("vi", unit_ids=ids, terms=terms, no_below=2, no_above=0.9)
    bow = corpus.bow()
    for shuffle in (True, False):
        settings = replace(GENSIM, chunksize=4, shuffle=shuffle, tolerance=0)  # several chunks a pass: order matters
        fit = study_fit(corpus, 2, 7, settings)
        train = [bow[i] for i in topics.training_order(len(bow), 7, shuffle)]
        bare = LdaModel(
            corpus=train,
            id2word=topics._gensim_dictionary(corpus.vocab),
            num_topics=2,
            random_state=np.random.RandomState(7),
            **topics.lda_parameters(settings),
        )
        phi = bare.get_topics().astype(np.float64)
        np.testing.assert_allclose(fit.topic_word, phi / phi.sum(axis=1, keepdims=True), rtol=0, atol=1e-9)
        assert fit.unit_ids == corpus.unit_ids  # theta rows stay in corpus order
    shuffled = study_fit(corpus, 2, 7, replace(GENSIM, chunksize=4))
    in_order = study_fit(corpus, 2, 7, replace(GENSIM, chunksize=4, shuffle=False))
    assert not np.allclose(shuffled.topic_word, in_order.topic_word, rtol=0, atol=1e-9)


def test_build_corpus_counts_by_hand():
    corpus = topics.build_corpus(
        "vi",
        unit_ids=["a", "b", "c"],
        terms=[["biển", "hợp_tác", "biển", "ở"], ["biển", "ở"], ["hợp_tác"]],
        no_below=2,
        no_above=1.0,
    )
    assert corpus.vocab == ("biển", "hợp_tác", "ở")  # one-letter words are words
    assert corpus.counts.toarray().tolist() == [[2, 1, 1], [1, 0, 1], [0, 1, 0]]
    assert corpus.term_frequency().tolist() == [3, 2, 2]
    assert corpus.bow()[0] == [(0, 2), (1, 1), (2, 1)]
    assert corpus.texts[0] == ("biển", "hợp_tác", "biển", "ở")


def test_no_above_removes_terms_in_every_unit():
    corpus = topics.build_corpus(
        "vi",
        unit_ids=["a", "b", "c"],
        terms=[["nước", "biển"], ["nước", "biển"], ["nước", "đảo"]],
        no_below=1,
        no_above=0.8,
    )
    assert corpus.vocab == ("biển", "đảo")


def test_multicore_is_recorded_as_not_reproducible():
    ids, terms = two_vocabulary_corpus(8)
    corpus = topics.build_corpus("vi", unit_ids=ids, terms=terms, no_below=1)
    fit = study_fit(corpus, 2, 1, replace(GENSIM, multicore=True, passes=2), workers=2)
    assert fit.reproducible is False
    np.testing.assert_allclose(fit.doc_topic.sum(axis=1), 1.0, atol=1e-12)


# ------------------------------------------------------------------------------ degenerate input


def test_empty_units_are_dropped_with_a_logged_count_and_stable_ids(caplog):
    ids, terms = two_vocabulary_corpus(8)
    ids.insert(3, "empty#w0")
    terms.insert(3, [])
    ids.append("rare#w0")
    terms.append(["hapax"])  # its only term is filtered out (no_below = 2)
    with caplog.at_level(logging.INFO, logger="analysis"):
        corpus = topics.build_corpus("vi", unit_ids=ids, terms=terms, no_below=2)
    assert corpus.dropped == ("empty#w0", "rare#w0")
    assert corpus.unit_ids == tuple(i for i in ids if i not in corpus.dropped)
    assert "dropped 2 of 10 units" in caplog.text
    fit = study_fit(corpus, 2, 1, FAST)
    assert fit.unit_ids == corpus.unit_ids and fit.doc_topic.shape[0] == 8


def test_empty_vocabulary_after_filtering_says_so():
    with pytest.raises(ValueError) as info:
        topics.build_corpus("en", unit_ids=["a", "b", "c"], terms=[["sea"], ["trade"], ["border"]], no_below=2)
    message = str(info.value)
    assert message.startswith("no_below = 2: model 'en' has no term left after dictionary filtering")
    assert "lower no_below" in message


@pytest.mark.parametrize("terms", [[["biển", "đảo"]], [["biển", "đảo"], []], [[], []]])
def test_one_unit_says_so(terms):
    with pytest.raises(ValueError, match=r"^terms of model 'vi': only [01] units? with terms .* needs at least 2"):
        topics.build_corpus("vi", unit_ids=[f"u{i}" for i in range(len(terms))], terms=terms, no_below=1)


def test_k_larger_than_the_number_of_units_says_so():
    corpus = topics.build_corpus(
        "en", unit_ids=["a", "b", "c"], terms=[["sea", "ship"], ["sea", "trade"], ["trade", "ship"]], no_below=1
    )
    with pytest.raises(ValueError, match=r"^k = 4: model 'en' has only 3 units .*set k to at most 3"):
        study_fit(corpus, 4, 1, FAST)
    with pytest.raises(ValueError, match="^k = 5: model 'en' has only 3 units"):
        study_select(corpus, replace(FAST, k=5))
    with pytest.raises(ValueError, match=r"^k_range = \[4, 6\]: every K exceeds the 3 units"):
        study_select(corpus, replace(FAST, k_range=(4, 6)))


@pytest.mark.parametrize(
    "change,expected",
    [
        ({"k": 1}, "[topics] k = 1 is not usable"),
        ({"k_range": (1, 2)}, "k_range = [1, 2] must hold whole numbers >= 2"),
        ({"seeds": ()}, "[topics] seeds is empty"),
        ({"no_above": 1.5}, "no_above = 1.5 must be a number in (0, 1]"),
        ({"alpha": "flat"}, "[topics] alpha = 'flat' is not known"),
        ({"eta": "asymmetric"}, "[topics] eta = 'asymmetric' is not known"),
        ({"bootstrap_by": "sentence"}, "bootstrap_by = 'sentence' is not known"),
        (
            {"multicore": True, "alpha": "auto", "engine": "gensim"},
            "alpha = 'auto' does not work with multicore = true",
        ),
        ({"multicore": True}, "[topics] multicore = true is gensim's LdaMulticore"),
        ({"eta": "auto"}, "[topics] eta = 'auto' is gensim's"),
        ({"engine": "mallet"}, "[topics] engine = 'mallet' is not known"),
        ({"tolerance": -0.1}, "[topics] tolerance = -0.1 must be a number >= 0"),
        ({"window": 0}, "[topics] window = 0 must be a whole number >= 1"),
        ({"max_iterations": 0}, "[topics] max_iterations = 0 must be a whole number >= 1"),
        ({"relevance_lambda": 2.0}, "relevance_lambda = 2.0 must be a number in [0, 1]"),
        ({"seed": 2**32}, "[topics] seed = 4294967296 must be a whole number from 0 to 4294967295"),
        ({"seeds": (1, -1)}, "[topics] seeds = -1 must be a whole number from 0"),
        ({"passes": 0}, "[topics] passes = 0 must be a whole number >= 1"),
    ],
)
def test_bad_settings_name_the_key(change, expected):
    problems = _topic_problems(replace(TopicSettings(), **change))
    assert len(problems) == 1
    assert str(problems[0]).startswith("study.toml: ") and expected in str(problems[0])


def _topic_problems(settings: TopicSettings) -> list:
    from pathlib import Path

    from analysis.study.settings import Study, setting_problems

    return setting_problems(Study(root=Path("."), source=Path("study.toml"), topics=settings))


def test_numeric_priors_are_accepted():
    assert _topic_problems(replace(TopicSettings(), alpha="0.1", eta="0.01")) == []
    params = topics.lda_parameters(replace(TopicSettings(), alpha="0.1", eta="auto"))
    assert params["alpha"] == 0.1 and params["eta"] == "auto" and params["eval_every"] == 0


# ------------------------------------------------------------------------------ choosing K


def test_select_k_reports_every_fit_and_prefers_the_separable_k():
    ids, terms = two_vocabulary_corpus(20)
    corpus = topics.build_corpus("vi", unit_ids=ids, terms=terms, no_below=2)
    selection = study_select(corpus, replace(FAST, k_range=(2, 3, 30)))
    assert selection.fits[["k", "seed"]].values.tolist() == [[2, 1], [2, 2], [3, 1], [3, 2]]
    assert selection.summary["k"].tolist() == [2, 3, 30]
    skipped = selection.summary.set_index("k").loc[30]
    assert skipped["fits"] == 0 and skipped["reason"] == "skipped: K = 30 is more than the 20 units"
    assert selection.summary.set_index("k").loc[2, "stability"] > 0.95  # two clean topics every time
    assert selection.summary["chosen"].sum() == 1
    k = selection.k
    row = selection.summary.set_index("k").loc[k]
    assert row["reason"].startswith("chosen: highest mean c_npmi")
    assert row["c_npmi"] == selection.summary["c_npmi"].max()


def test_k_selection_in_worker_processes_gives_the_same_numbers():
    from concurrent.futures import ProcessPoolExecutor

    ids, terms = two_vocabulary_corpus(12)
    corpus = topics.build_corpus("vi", unit_ids=ids, terms=terms, no_below=2)
    serial = study_select(corpus, FAST)
    with ProcessPoolExecutor(max_workers=2) as pool:
        parallel = study_select(corpus, FAST, mapper=pool.map)
    pd.testing.assert_frame_equal(serial.fits, parallel.fits, check_exact=True)
    pd.testing.assert_frame_equal(serial.summary, parallel.summary, check_exact=True)


def _summary(rows):
    return pd.DataFrame(
        rows,
        columns=[
            "model",
            "k",
            "fits",
            "c_npmi",
            "c_npmi_sd",
            "u_mass",
            "c_v",
            "stability",
            "stability_min",
            "units_per_topic",
        ],
    )


def test_choice_rule_prefers_stable_k_then_smaller_k():
    summary = _summary(
        [
            ("vi", 2, 3, 0.10, 0, 0, 0, 0.9, 0.8, 20.0),
            ("vi", 3, 3, 0.20, 0, 0, 0, 0.5, 0.4, 13.3),  # more coherent but unstable
            ("vi", 4, 3, 0.10, 0, 0, 0, 0.7, 0.6, 10.0),  # ties with K = 2
        ]
    )
    k, reason, reasons = topics._choose(summary, 0, len(FAST.seeds), FAST.stability_min, 40)
    assert k == 2 and reason == "highest mean c_npmi (0.100) among K with stability >= 0.6"
    assert reasons[1] == "not chosen: stability 0.50 < 0.6"
    assert reasons[2] == "not chosen: c_npmi 0.100 vs 0.100"
    k, reason, _ = topics._choose(summary, 0, len(FAST.seeds), 0.95, 40)
    assert k == 3 and "no K reached stability >= 0.95" in reason
    k, reason, reasons = topics._choose(summary, 4, len(FAST.seeds), FAST.stability_min, 40)
    assert (
        k == 4 and reason == "fixed in the study file ([topics] k = 4)" and reasons[0] == "not chosen: K is fixed at 4"
    )


# ---------------------------------------------------------------------- distances and matching


def test_hellinger_and_jensen_shannon_by_hand_and_against_scipy():
    p = np.array([[0.5, 0.5, 0.0], [1.0, 0.0, 0.0]])
    q = np.array([[0.0, 0.5, 0.5]])
    # H = sqrt(1/2 * ((sqrt .5)^2 + 0 + (sqrt .5)^2)) = sqrt(0.5)
    assert topics.hellinger_matrix(p, q)[0, 0] == pytest.approx(math.sqrt(0.5))
    assert topics.hellinger_matrix(p, q)[1, 0] == pytest.approx(1.0)
    m = (p[0] + q[0]) / 2
    by_hand = math.sqrt((entropy(p[0], m, base=2) + entropy(q[0], m, base=2)) / 2)
    assert topics.jensen_shannon_matrix(p, q)[0, 0] == pytest.approx(by_hand)
    assert topics.jensen_shannon_matrix(p, q)[0, 0] == pytest.approx(jensenshannon(p[0], q[0], base=2))
    assert topics.jensen_shannon_matrix(np.zeros((1, 3)), q)[0, 0] == 1.0


@pytest.mark.parametrize("metric", ["hellinger", "jensen_shannon"])
def test_matching_recovers_a_planted_permutation(metric):
    rng = np.random.default_rng(5)
    p = rng.dirichlet(np.full(40, 0.1), size=6)
    perm = np.array([3, 0, 5, 1, 4, 2])
    q = p[perm] + rng.uniform(0, 1e-3, size=(6, 40))
    q /= q.sum(axis=1, keepdims=True)
    matched = topics.match_topics(p, q, metric)
    # Topic i of p reappears as row j of q where perm[j] == i.
    assert matched["topic_b"].tolist() == np.argsort(perm).tolist()
    assert (matched["similarity"] > 0.9).all()
    assert topics.stability([p, q], metric)[0] > 0.9
    assert all(math.isnan(v) for v in topics.stability([p]))  # undefined for one fit


def test_stability_is_one_for_the_same_topics_in_any_order():
    p = np.random.default_rng(1).dirichlet(np.ones(10), size=4)
    mean, worst = topics.stability([p, p[[2, 3, 0, 1]], p[::-1]])
    assert mean == pytest.approx(1.0) and worst == pytest.approx(1.0)


# ----------------------------------------------------------------------------- descriptions


def test_relevance_checked_by_hand():
    phi = np.array([[0.5, 0.25, 0.25]])
    p = np.array([0.25, 0.25, 0.5])
    # r = lambda log phi + (1 - lambda) log(phi / p)
    r = topics.relevance(phi, p, 0.6)
    assert r[0, 0] == pytest.approx(0.6 * math.log(0.5) + 0.4 * math.log(2.0))  # -0.1386
    assert r[0, 2] == pytest.approx(0.6 * math.log(0.25) + 0.4 * math.log(0.5))
    assert topics.relevance(phi, p, 1.0)[0].tolist() == pytest.approx(np.log(phi[0]).tolist())
    assert topics.relevance(phi, p, 0.0)[0].tolist() == pytest.approx(np.log(phi[0] / p).tolist())


def test_topic_terms_rank_by_probability_and_by_relevance():
    fit = topics.LdaFit(
        "vi", 1, 0, np.array([[0.5, 0.3, 0.2]]), np.ones((1, 1)), ("biển", "hợp_tác", "đảo"), ("u",), np.ones(1)
    )
    freq = np.array([80, 10, 10])  # "biển" is common everywhere, so its lift is low
    table = topics.topic_terms(fit, freq, n=3, lam=0.0)
    by_prob = table[table["ranking"] == "probability"]["term"].tolist()
    by_rel = table[table["ranking"] == "relevance"]["term"].tolist()
    assert by_prob == ["biển", "hợp_tác", "đảo"]
    assert by_rel == ["hợp_tác", "đảo", "biển"]  # lifts 3.0, 2.0, 0.625
    assert table["lift"].iloc[0] == pytest.approx(0.5 / 0.8)
    assert table["topic"].unique().tolist() == [1]


def test_representative_units_carry_their_text():
    theta = np.array([[0.9, 0.1], [0.2, 0.8], [0.95, 0.05]])
    fit = topics.LdaFit("vi", 2, 0, np.full((2, 2), 0.5), theta, ("a", "b"), ("u0", "u1", "u2"), np.ones(2))
    table = topics.representative_units(fit, {"u0": "Hợp tác", "u1": "Biển " * 100, "u2": "Kinh tế"}, n=2, max_chars=20)
    assert table[table["topic"] == 1]["unit_id"].tolist() == ["u2", "u0"]
    row = table[(table["topic"] == 2) & (table["rank"] == 1)].iloc[0]
    assert row["unit_id"] == "u1" and len(row["text"]) == 20 and row["text"].endswith("…")


# ------------------------------------------------------------------------------- prevalence


def test_prevalence_by_hand_with_cluster_bootstrap():
    theta = np.array([[1.0, 0.0], [0.5, 0.5], [0.0, 1.0], [0.2, 0.8]])
    table = topics.prevalence(
        theta, ["vi", "vi", "en", "en"], ["d1", "d1", "d2", "d3"], rng=np.random.default_rng(0), n_boot=500
    )
    vi = table[table["group"] == "vi"].set_index("topic")
    en = table[table["group"] == "en"].set_index("topic")
    assert vi.loc[1, "prevalence"] == pytest.approx(0.75) and en.loc[2, "prevalence"] == pytest.approx(0.9)
    # One document: no between-cluster variation to resample, so no interval (and the note says so).
    assert np.isnan(vi.loc[1, "ci_low"]) and np.isnan(vi.loc[1, "ci_high"])
    assert vi.loc[1, "note"].startswith("one cluster only")
    # Two documents (topic 2: 1.0 and 0.8): a quarter of the resamples draw d2 twice (se* = 0, t* = +inf),
    # a quarter d3 twice (t* = -inf), so the studentized interval is unbounded on both sides, cut to [0, 1].
    assert en.loc[2, "ci_low"] == 0.0 and en.loc[2, "ci_high"] == 1.0
    assert en.loc[2, "note"].startswith("only 2 clusters (fewer than 20)")
    assert table["group"].tolist()[:2] == ["en", "en"]  # groups sorted


def test_prevalence_is_seeded_and_contains_the_estimate():
    theta = np.random.default_rng(3).dirichlet(np.ones(3), size=30)
    groups = ["a"] * 15 + ["b"] * 15
    first = topics.prevalence(theta, groups, list(range(30)), rng=np.random.default_rng(9), n_boot=300)
    second = topics.prevalence(theta, groups, list(range(30)), rng=np.random.default_rng(9), n_boot=300)
    pd.testing.assert_frame_equal(first, second)
    assert ((first["ci_low"] <= first["prevalence"]) & (first["prevalence"] <= first["ci_high"])).all()
    assert (first["ci_high"] > first["ci_low"]).all()


def test_prevalence_interval_is_the_studentized_interval_of_the_cluster_sums():
    """Each group's interval is resampling.studentized_interval of its cluster sums and sizes (the
    reference, computed here), with the generator consumed group by group in sorted order."""
    from analysis.stats.resampling import studentized_interval

    theta = np.random.default_rng(5).dirichlet(np.ones(4), size=40)
    groups, clusters = ["a"] * 25 + ["b"] * 15, [f"d{i // 2}" for i in range(40)]
    table = topics.prevalence(theta, groups, clusters, rng=np.random.default_rng(2), n_boot=301)
    rng = np.random.default_rng(2)
    for group, rows in (("a", slice(0, 25)), ("b", slice(25, 40))):
        names, inverse = np.unique(np.asarray(clusters[rows], dtype=object), return_inverse=True)
        sums = np.zeros((len(names), 4))
        np.add.at(sums, inverse, theta[rows])
        low, high = studentized_interval(
            sums, n_resamples=301, rng=rng, sizes=np.bincount(inverse).astype(float), support=(0.0, 1.0)
        )
        got = table[table["group"] == group]
        assert got["ci_low"].tolist() == low.tolist() and got["ci_high"].tolist() == high.tolist()


def test_prevalence_interval_covers_at_20_documents():
    """Seeded simulation: 20 documents per group, 1-4 units each, unit topic shares drawn around a
    document mean (documents are the clusters). The nominal 95% interval covers the true prevalence
    (the expected unit share, 0.3 by construction) at least 93% of the time (issue 12's goal);
    500 replications give a binomial standard error of 0.01."""
    rng = np.random.default_rng(20240404)
    hits, reps = 0, 500
    for _ in range(reps):
        doc_mean = rng.beta(0.6, 1.4, size=20)  # mean 0.3, skewed: many documents with little of the topic
        sizes = rng.integers(1, 5, size=20)
        clusters = np.repeat(np.arange(20), sizes)
        share = rng.beta(4 * doc_mean[clusters] + 1e-3, 4 * (1 - doc_mean[clusters]) + 1e-3)
        theta = np.column_stack([share, 1 - share])
        # units are exchangeable given their document, so the expected unit share is E[doc_mean] = 0.3
        table = topics.prevalence(theta, ["g"] * len(share), clusters.astype(str), rng=rng, n_boot=299)
        row = table[table["topic"] == 1].iloc[0]
        hits += row["ci_low"] <= 0.3 <= row["ci_high"]
    assert hits / reps >= 0.93


# ---------------------------------------------------------------------------- cross-lingual

CONCEPTS = {
    "vi": {"thương_mại": "trade", "đầu_tư": "investment", "biển": "sea", "ngư_dân": "fisher", "hòa_bình": "peace"},
    "en": {
        "trade": "trade",
        "investment": "investment",
        "sea": "sea",
        "fisherman": "fisher",
        "peace": "peace",
        "east sea": "sea",
    },
}


def test_concept_tokens_and_glosses():
    assert topics.concept_tokens(["East Sea", "ship", "trade"], "en", CONCEPTS) == ("sea", "trade")
    glosses = topics.concept_glosses({"vi": {"biển": 3}, "en": {"sea": 1, "East Sea": 4}}, CONCEPTS)
    assert glosses == {"sea": "biển / East Sea, sea"}


def test_concept_projection_by_hand():
    phi = np.array([[0.5, 0.3, 0.2], [0.0, 0.0, 1.0]])
    psi, mass = topics.concept_projection(
        phi, ["biển", "ngư_dân", "xyz"], language="vi", concept_map=CONCEPTS, concepts=["fisher", "sea"]
    )
    assert mass.tolist() == pytest.approx([0.8, 0.0])
    assert psi[0].tolist() == pytest.approx([0.3 / 0.8, 0.5 / 0.8]) and psi[1].tolist() == [0.0, 0.0]


def test_alignment_through_the_concept_map_recovers_planted_pairs():
    vi_vocab = ("biển", "hòa_bình", "ngư_dân", "thương_mại", "đầu_tư", "ở")
    en_vocab = ("fisherman", "investment", "peace", "sea", "ship", "trade")
    concept_of_vi = {t: CONCEPTS["vi"].get(t) for t in vi_vocab}
    # vi topics: trade, sea, peace; en topics hold the same concepts in the order sea, peace, trade.
    vi_phi = np.array(
        [
            [0.02, 0.02, 0.02, 0.5, 0.4, 0.04],
            [0.5, 0.02, 0.4, 0.02, 0.02, 0.04],
            [0.05, 0.85, 0.05, 0.01, 0.01, 0.03],
        ]
    )
    en_of = {c: t for t, c in CONCEPTS["en"].items() if t in en_vocab}
    en_phi = np.zeros((3, 6))
    for row, source in zip(range(3), [1, 2, 0]):
        for j, term in enumerate(vi_vocab):
            concept = concept_of_vi[term]
            target = en_vocab.index(en_of[concept]) if concept else en_vocab.index("ship")
            en_phi[row, target] += vi_phi[source, j]
    fit_vi = topics.LdaFit("vi", 3, 0, vi_phi, np.ones((1, 3)) / 3, vi_vocab, ("u",), np.ones(3))
    fit_en = topics.LdaFit("en", 3, 0, en_phi, np.ones((1, 3)) / 3, en_vocab, ("u",), np.ones(3))
    pairs, matrix = topics.align_languages(fit_vi, "vi", fit_en, "en", CONCEPTS)
    assert pairs[["topic_vi", "topic_en"]].values.tolist() == [[1, 3], [2, 1], [3, 2]]
    assert pairs["similarity"].tolist() == pytest.approx([1.0, 1.0, 1.0])
    assert pairs["mass_vi"].tolist() == pytest.approx([0.96, 0.96, 0.97])
    assert pairs.loc[0, "shared_concepts"].split(", ")[:2] == ["trade", "investment"]
    assert len(matrix) == 9 and matrix["matched"].sum() == 3
    assert matrix["similarity"].between(0, 1).all()


# ------------------------------------------------------------------------------------ plots


def test_plots_draw_bars_lines_and_vietnamese_labels():
    from analysis.plots import base as plot
    from analysis.plots import topics as plot_topics

    terms = pd.DataFrame(
        {"rank": [1, 2, 3], "term": ["hợp_tác", "biển_đông", "ủy_ban"], "probability": [0.3, 0.2, 0.1]}
    )
    prevalence = pd.DataFrame(
        {
            "group": ["en", "en", "vi", "vi"],
            "topic": [1, 2, 1, 2],
            "prevalence": [0.6, 0.4, 0.3, 0.7],
            "ci_low": [0.5, 0.3, 0.2, 0.6],
            "ci_high": [0.7, 0.5, 0.4, 0.8],
        }
    )
    summary = _summary([("vi", 2, 2, 0.1, 0, -1, 0.5, 0.9, 0.8, 9), ("vi", 3, 2, 0.2, 0, -2, 0.4, 0.7, 0.6, 6)])
    summary["chosen"] = [False, True]
    matrix = pd.DataFrame(
        {
            "topic_vi": [1, 1, 2, 2],
            "topic_en": [1, 2, 1, 2],
            "similarity": [0.9, 0.1, 0.2, 0.8],
            "matched": [True, False, False, True],
        }
    )
    fig, axes = plot.new_figure(4)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a missing glyph would be a warning
        plot_topics.plot_topic_terms(axes[0], terms, title="topic 1")
        plot_topics.plot_prevalence(axes[1], prevalence)
        plot_topics.plot_k_selection(axes[2], summary, "c_npmi")
        plot_topics.plot_alignment(axes[3], matrix, "topic_vi", "topic_en")
        plot.figure_bytes(fig, "png")
    assert [t.get_text() for t in axes[0].get_yticklabels()] == ["ủy ban", "biển đông", "hợp tác"]
    assert len(axes[0].patches) == 3 and len(axes[1].patches) == 4
    assert [t.get_text() for t in axes[1].get_xticklabels()] == ["topic 1", "topic 2"]
    assert axes[2].lines[0].get_ydata().tolist() == [0.1, 0.2]
    assert len([p for p in axes[3].patches]) == 2  # the two matched cells are boxed
    plot.close(fig)


def test_search_sample_draws_whole_documents_per_stratum_in_corpus_order():
    # 30 Vietnamese documents of 2 units and 10 English of 1 unit: 70 units
    ids = [f"v{i}#w{j}" for i in range(30) for j in range(2)] + [f"e{i}" for i in range(10)]
    terms = [["biển", "tàu"] if i % 2 else ["thuế", "giá"] for i in range(60)] + [["sea", "tax"]] * 10
    corpus = topics.build_corpus("joint", ids, terms, no_below=1)
    strata = {**{f"v{i}": "vi" for i in range(30)}, **{f"e{i}": "en" for i in range(10)}}
    sample = topics.search_sample(corpus, 35, seed=7, strata=strata)
    docs = [u.split("#")[0] for u in sample.unit_ids]
    # share 35/70 = 0.5: 15 of 30 vi documents (30 units) and 5 of 10 en documents (5 units)
    assert len({d for d in docs if d.startswith("v")}) == 15 and len({d for d in docs if d.startswith("e")}) == 5
    assert sample.n_units == 35
    assert all(f"{d}#w0" in sample.unit_ids and f"{d}#w1" in sample.unit_ids for d in docs if d.startswith("v"))
    positions = [corpus.unit_ids.index(u) for u in sample.unit_ids]
    assert positions == sorted(positions)  # corpus order kept
    assert sample.vocab == corpus.vocab and sample.counts.shape == (35, len(corpus.vocab))
    np.testing.assert_array_equal(sample.counts.toarray(), corpus.counts.toarray()[positions])
    assert topics.n_documents(sample) == topics.n_documents(corpus) == 40  # an empty k_range is sized on the corpus
    assert topics.search_sample(corpus, 35, seed=7, strata=strata).unit_ids == sample.unit_ids  # seeded
    assert topics.search_sample(corpus, 35, seed=8, strata=strata).unit_ids != sample.unit_ids
    assert topics.search_sample(corpus, 70, seed=7) is corpus and topics.search_sample(corpus, 0, seed=7) is corpus


def test_select_k_on_a_sample_sizes_the_range_from_the_corpus():
    ids = [f"d{i}" for i in range(40)]
    terms = [["sea", "ship", "port"] if i % 2 else ["tax", "trade", "price"] for i in range(40)]
    corpus = topics.build_corpus("x", ids, terms, no_below=1)
    full = topics.select_k(corpus, k_range=(2, 3), seeds=(1, 2), max_iterations=30)
    sampled = topics.select_k(corpus, k_range=(2, 3), seeds=(1, 2), max_iterations=30, search_units=20, sample_seed=5)
    assert "K chosen on a sample of 20 of the 40 units" in sampled.reason and "sample" not in full.reason
    assert sampled.summary["units_per_topic"].tolist() == full.summary["units_per_topic"].tolist() == [20.0, 40 / 3]


# ------------------------------------------------------------------ choosing K: coarse to fine


def _coarse_select(corpus, **kwargs):
    return topics.select_k_coarse(
        corpus,
        **{"k_range": (2, 3, 5), "seeds": (1, 2), "final_seed": 7, "coarse_iterations": 10, **kwargs},
        **topics.fit_parameters(FAST),
    )


def test_coarse_parameters_cap_the_iterations_and_switch_off_convergence():
    assert topics.coarse_parameters(topics.fit_parameters(FAST), 10) == {
        **topics.fit_parameters(FAST),
        "max_iterations": 10,
        "tolerance": 0.0,
    }
    assert topics.coarse_parameters(topics.fit_parameters(GENSIM), 3)["passes"] == 3
    assert topics.refine_seeds(7, (1, 7, 2), 3) == (7, 1, 2) and topics.refine_seeds(7, (1, 2), 5) == (7, 1, 2)
    with pytest.raises(ValueError, match="refine_seeds = 1"):
        topics.refine_seeds(7, (1, 2), 1)
    coarse = pd.DataFrame({"k": [2, 3, 5, 8], "c_npmi": [0.1, np.nan, 0.3, 0.1]})
    assert topics.refine_candidates(coarse, 1) == [5] and topics.refine_candidates(coarse, 2) == [2, 5]
    assert topics.refine_candidates(coarse, 9) == [2, 3, 5, 8]  # NaN last, but kept when all are refined
    coarse["stability"] = [0.7, 0.9, 0.5, 0.65]  # stable K first (by c_npmi), then the others
    assert topics.refine_candidates(coarse, 1, 0.6) == [2] and topics.refine_candidates(coarse, 3, 0.6) == [2, 3, 8]
    assert topics.refine_candidates(coarse, 1, 0.95) == [5] and topics.refine_candidates(coarse, 1) == [5]


def test_coarse_to_fine_refines_the_best_coarse_k_and_its_final_seed_fit_is_the_final_model():
    ids, terms = two_vocabulary_corpus(20)
    corpus = topics.build_corpus("vi", unit_ids=ids, terms=terms, no_below=2)
    selection, (k, seed, phi, record) = _coarse_select(corpus, refine=2)
    summary = selection.summary.set_index("k")
    assert summary.index.tolist() == [2, 3, 5] and summary["chosen"].sum() == 1
    refined = summary[summary["fits"] > 0]
    assert len(refined) == 2 and selection.k in refined.index and (k, seed) == (selection.k, 7)
    dropped = summary[summary["fits"] == 0]
    assert len(dropped) == 1 and dropped["reason"].iloc[0].startswith("dropped at the coarse stage")
    coarse = pd.DataFrame(
        {"k": summary.index, "c_npmi": summary["c_npmi_coarse"].to_numpy(), "stability": summary["stability_coarse"]}
    )
    assert summary["stability_coarse"].notna().all()  # two coarse seeds: stability at every K
    assert refined.index.tolist() == topics.refine_candidates(coarse.reset_index(drop=True), 2, 0.6)
    assert selection.fits[["k", "seed"]].values.tolist() == [[kk, s] for kk in refined.index for s in (7, 1)]
    final = study_fit(corpus, selection.k, 7, FAST)  # the final fit, run separately: the same matrix
    np.testing.assert_array_equal(final.topic_word, phi)
    assert summary.loc[selection.k, "reason"].endswith("among the 2 K ranked first after 10 iterations")
    again, fit_again = _coarse_select(corpus, refine=2)  # seeded: the same choice and numbers
    pd.testing.assert_frame_equal(selection.summary, again.summary, check_exact=True)
    np.testing.assert_array_equal(phi, fit_again[2])


def test_coarse_to_fine_refining_one_k_chooses_it():
    ids, terms = two_vocabulary_corpus(20)
    corpus = topics.build_corpus("vi", unit_ids=ids, terms=terms, no_below=2)
    selection, _ = _coarse_select(corpus, refine=1, coarse_seeds=1)  # one coarse seed: ranked by c_npmi alone
    summary = selection.summary
    best_coarse = int(summary.loc[summary["c_npmi_coarse"].idxmax(), "k"])
    assert selection.k == best_coarse and (summary["fits"] > 0).sum() == 1


def test_compact_texts_read_and_score_as_the_tuples_they_replace():
    import dataclasses

    rng = np.random.default_rng(5)
    words = [f"w{i}" for i in range(12)]
    terms = [list(rng.choice(words, int(rng.integers(0, 10)))) for _ in range(40)]
    corpus = topics.build_corpus("x", [f"u{i}" for i in range(40)], terms, no_below=3)
    kept = set(corpus.vocab)
    tuples = tuple(tuple(t for t in unit if t in kept) for unit in terms if any(t in kept for t in unit))
    assert isinstance(corpus.texts, topics.UnitTexts) and corpus.texts.ids.dtype == np.int32
    assert len(corpus.texts) == len(tuples) == corpus.n_units and corpus.texts == tuples
    assert corpus.texts[-1] == tuples[-1] and corpus.texts[2:5] == tuples[2:5]
    assert corpus.texts.take([3, 0, 7]) == (tuples[3], tuples[0], tuples[7])
    # coherence from the index arrays is coherence from the tuples, number for number
    phis = [rng.dirichlet(np.ones(len(corpus.vocab)), size=k) for k in (2, 3)]
    old = dataclasses.replace(corpus, texts=tuples)
    for phi in phis:
        new_scores, old_scores = topics.coherence(corpus, phi, topn=5), topics.coherence(old, phi, topn=5)
        for measure in topics.COHERENCE_MEASURES:
            np.testing.assert_array_equal(new_scores[measure], old_scores[measure])
    for a, b in zip(topics.coherence_many(corpus, phis, topn=5), topics.coherence_many(old, phis, topn=5)):
        for measure in topics.COHERENCE_MEASURES:
            np.testing.assert_array_equal(a[measure], b[measure])
    sample = topics.search_sample(corpus, 20, seed=1)
    assert sample.texts == tuple(tuples[corpus.unit_ids.index(u)] for u in sample.unit_ids)
