"""analysis.topics.prevalence: language differences in prevalence with outlets as the unit, and the
attenuation check (a corpus drawn from the fitted model, refitted)."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pandas as pd
import scipy.sparse as sp

from analysis.stats.clustered import outlet_permutation_test
from analysis.topics import lda
from analysis.topics import prevalence as tp


def outlet_corpus(rng, outlets_per_language=4, docs=12, units=2, outlet_sd=1.0, shift=0.0):
    """Units' θ (K = 2) with an outlet effect on the logit and no language effect unless ``shift``."""
    rows, doc_ids, meta = [], [], []
    for o in range(2 * outlets_per_language):
        language = "vi" if o < outlets_per_language else "en"
        effect = rng.normal(0, outlet_sd) + (shift if language == "vi" else 0.0)
        for d in range(docs):
            doc = f"o{o}d{d}"
            meta.append((doc, language, f"o{o}"))
            for _ in range(units):
                p = 1 / (1 + math.exp(-(effect + rng.normal(0, 0.5))))
                rows.append([p, 1 - p])
                doc_ids.append(doc)
    docvars = pd.DataFrame(meta, columns=["doc_id", "language", "outlet"]).set_index("doc_id")
    return np.array(rows), doc_ids, docvars


def test_document_prevalence_is_the_mean_of_a_documents_units():
    theta = np.array([[0.2, 0.8], [0.6, 0.4], [1.0, 0.0]])
    long = tp.document_prevalence_long(theta, ["a", "a", "b"], "joint")
    assert long[long["item"] == 1].set_index("doc_id")["value"].to_dict() == {"a": 0.4, "b": 1.0}
    assert set(long["family"]) == {"joint"} and len(long) == 4


def test_outlet_p_is_the_outlet_permutation_test_of_document_prevalence():
    theta, doc_ids, docvars = outlet_corpus(np.random.default_rng(1), outlets_per_language=3, docs=4)
    table = tp.prevalence_tests(
        theta,
        doc_ids,
        docvars,
        by="language",
        order=["vi", "en"],
        n_resamples=199,
        seed=3,
        model="joint",
        cluster="outlet",
        mdd_simulations=20,
    )
    assert table["p_unit"].tolist() == ["outlets", "outlets"]
    values = tp.document_prevalence_long(theta, doc_ids, "joint").query("item == 1")
    by_hand = outlet_permutation_test(
        values["value"],
        docvars.loc[values["doc_id"], "language"],
        docvars.loc[values["doc_id"], "outlet"],
        a="vi",
        b="en",
    )
    row = table.iloc[0]
    assert row["p"] == by_hand.p and row["min_p"] == by_hand.min_attainable_p == 0.1  # C(6, 3) = 20, two extremes
    assert math.isclose(row["difference"], by_hand.estimate)
    assert np.isfinite(row["p_documents"]) and np.isfinite(row["cluster_ci_low"])


def test_a_language_from_one_outlet_gets_no_p():
    theta, doc_ids, docvars = outlet_corpus(np.random.default_rng(2), outlets_per_language=2, docs=5)
    docvars.loc[docvars["language"] == "en", "outlet"] = "BBC"
    table = tp.prevalence_tests(
        theta,
        doc_ids,
        docvars,
        by="language",
        order=["vi", "en"],
        n_resamples=99,
        seed=3,
        model="joint",
        cluster="outlet",
        mdd_simulations=20,
    )
    assert table["p_unit"].eq("none").all() and table["p"].isna().all() and table["q"].isna().all()
    assert table["note"].str.contains("comes from one outlet").all()
    assert table["p_documents"].notna().all()  # the document test stays, conditional on these outlets


def test_outlet_level_p_holds_its_level_where_the_document_p_does_not():
    """No language effect, outlet ICC high: the document test rejects far too often, the outlet test near 5%."""
    rng = np.random.default_rng(7)
    outlet_p, document_p = [], []
    for _ in range(60):
        theta, doc_ids, docvars = outlet_corpus(rng, outlets_per_language=5, docs=8, units=1)
        table = tp.prevalence_tests(
            theta,
            doc_ids,
            docvars,
            by="language",
            order=["vi", "en"],
            n_resamples=199,
            seed=int(rng.integers(1 << 30)),
            model="joint",
            cluster="outlet",
            mdd_simulations=10,
        )
        outlet_p.append(table["p"].iloc[0])
        document_p.append(table["p_documents"].iloc[0])
    outlet_rate, document_rate = np.mean(np.array(outlet_p) < 0.05), np.mean(np.array(document_p) < 0.05)
    assert outlet_rate <= 0.12 and document_rate >= 0.3, (outlet_rate, document_rate)


def test_simulated_corpus_keeps_each_units_length():
    phi = np.array([[0.5, 0.5, 0.0], [0.0, 0.2, 0.8]])
    theta = np.array([[1.0, 0.0], [0.3, 0.7], [0.0, 1.0]])
    counts = tp.simulate_from_fit(phi, theta, [5, 40, 7], np.random.default_rng(0))
    assert counts.sum(axis=1).tolist() == [5, 40, 7]
    assert counts[0, 2] == 0 and counts[2, 0] == 0  # topic 1 never writes term 3, topic 2 never term 1


def test_attenuation_is_near_one_for_long_units_and_distinct_topics():
    """With 150 tokens a unit and topics sharing no term, LDA recovers the language difference."""
    rng = np.random.default_rng(4)
    K, V, n = 3, 30, 120
    phi = np.zeros((K, V))
    for k in range(K):
        phi[k, k * 10 : (k + 1) * 10] = rng.dirichlet(np.ones(10))
    language = np.repeat(["vi", "en"], n // 2)
    theta = np.array([rng.dirichlet([3.0, 1.0, 1.0] if g == "vi" else [1.0, 1.0, 3.0]) for g in language])
    counts = tp.simulate_from_fit(phi, theta, np.full(n, 150), rng)
    ids = tuple(f"d{i}" for i in range(n))
    vocab = tuple(f"w{j}" for j in range(V))
    corpus = lda.TopicCorpus("joint", ids, (), vocab, sp.csr_matrix(counts), ())
    params = dict(max_iterations=300, tolerance=0.001, window=50)
    fit = lda.fit_lda(corpus, K, 1, **params)

    def refit(c):
        again = lda.fit_lda(
            lda.TopicCorpus("joint", ids, (), vocab, sp.csr_matrix(c), ()),
            K,
            1,
            **params,
        )
        return again.topic_word, again.doc_topic

    docvars = pd.DataFrame({"language": language}, index=list(ids))
    table = tp.prevalence_attenuation(
        fit,
        counts.sum(axis=1),
        list(ids),
        docvars,
        by="language",
        a="vi",
        b="en",
        refit=refit,
        rng=np.random.default_rng(5),
    )
    assert table["topic"].tolist() == ["1", "2", "3", "all"]
    assert 0.9 <= table["attenuation"].iloc[-1] <= 1.1
    assert (table["similarity"].iloc[:-1] > 0.8).all()


def test_attenuation_reports_a_refit_that_shrinks():
    """A refit that returns topic shares pulled halfway to uniform: the slope is 0.5 exactly."""
    theta = np.array([[0.9, 0.1], [0.8, 0.2], [0.2, 0.8], [0.3, 0.7]])
    phi = np.array([[0.9, 0.1], [0.1, 0.9]])
    fit = SimpleNamespace(name="joint", topic_word=phi, doc_topic=theta)
    docvars = pd.DataFrame({"language": ["vi", "vi", "en", "en"]}, index=list("abcd"))
    table = tp.prevalence_attenuation(
        fit,
        [10, 10, 10, 10],
        list("abcd"),
        docvars,
        by="language",
        a="vi",
        b="en",
        refit=lambda counts: (phi, 0.5 * theta + 0.25),
        rng=np.random.default_rng(0),
    )
    np.testing.assert_allclose(table["ratio"].iloc[:2], 0.5)
    assert math.isclose(table["attenuation"].iloc[-1], 0.5)


def test_no_generating_difference_gives_no_slope():
    theta = np.array([[0.5, 0.5], [0.5, 0.5], [0.505, 0.495], [0.5, 0.5]])
    phi = np.array([[0.9, 0.1], [0.1, 0.9]])
    fit = SimpleNamespace(name="joint", topic_word=phi, doc_topic=theta)
    docvars = pd.DataFrame({"language": ["vi", "vi", "en", "en"]}, index=list("abcd"))
    table = tp.prevalence_attenuation(
        fit,
        [10] * 4,
        list("abcd"),
        docvars,
        by="language",
        a="vi",
        b="en",
        refit=lambda counts: (phi, theta[::-1]),
        rng=np.random.default_rng(0),
    )
    assert math.isnan(table["attenuation"].iloc[-1]) and "nothing to attenuate" in table["note"].iloc[-1]
