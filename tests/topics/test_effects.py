"""analysis.topics.effects: the θ posterior of a saved model, document draws and the composition per model."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.stats import models
from analysis.topics import effects as topic_effects


def test_posterior_gamma_recovers_gibbs_counts_plus_alpha():
    n_dk = np.array([[3.0, 0.0, 5.0], [0.0, 2.0, 0.0]])
    alpha = np.array([0.1, 0.2, 0.3])
    theta = (n_dk + alpha) / (n_dk.sum(axis=1, keepdims=True) + alpha.sum())  # the engines' theta
    np.testing.assert_allclose(topic_effects.posterior_gamma(theta, n_dk.sum(axis=1), alpha), n_dk + alpha)


def test_document_draws_are_dirichlet_draws_of_units_averaged_per_document():
    gamma = np.array([[2.0, 1.0], [0.5, 0.5], [4.0, 0.1], [1.0, 3.0]])
    units = ["a#w0", "b#w0", "a#w1", "c#w0"]
    docs = topic_effects.unit_documents(units, "sentences")
    ids, draws = topic_effects.document_draws(gamma, docs, n_draws=7, rng=np.random.default_rng(5))
    unit_draws = models.dirichlet_draws(gamma, 7, np.random.default_rng(5))
    assert ids == ["a", "b", "c"] and draws.shape == (7, 3, 2)
    np.testing.assert_allclose(draws[:, 0], unit_draws[:, [0, 2]].mean(axis=1))
    np.testing.assert_allclose(draws[:, 2], unit_draws[:, 3])
    prevalence = topic_effects.document_prevalence(gamma / gamma.sum(axis=1, keepdims=True), docs)
    assert list(prevalence.columns) == ["T1", "T2"] and prevalence.loc["a", "T1"] == np.mean([2 / 3, 4 / 4.1])


def test_model_formula_leaves_out_terms_constant_in_the_model():
    docvars = pd.DataFrame({"language": ["vi", "vi", "vi"], "section": ["a", "b", "a"]})
    assert topic_effects.model_formula("language + section", docvars) == ("section", ["language"])
    assert topic_effects.model_formula("language", docvars) == ("1", ["language"])


def test_topic_effects_recover_a_planted_language_difference():
    """Documents whose θ differs by language: the composition's interval covers the planted shift."""
    rng = np.random.default_rng(11)
    n = 200
    language = np.where(np.arange(n) < n // 2, "vi", "en")
    base = np.where(language == "vi", 0.7, 0.4)  # topic 1 share
    tokens = 60
    n1 = rng.binomial(tokens, base)
    gamma = np.column_stack([n1, tokens - n1]) + 0.1
    docvars = pd.DataFrame({"language": language}, index=[f"d{i}" for i in range(n)])
    table, marginal = topic_effects.topic_effects(
        "m",
        gamma,
        list(docvars.index),
        docvars,
        formula="language",
        n_draws=50,
        rng=np.random.default_rng(3),
        min_docs=20,
    )
    row = table[(table["topic"] == 1) & (table["term"] == "language[T.vi]")].iloc[0]
    assert row["ci_low"] < 0.3 < row["ci_high"] and row["ci_high"] - row["ci_low"] < 0.12 and not row["too_small"]
    vi = marginal[(marginal["item"] == "m:T1") & (marginal["group"] == "vi")].iloc[0]
    assert vi["ci_low"] < 0.7 < vi["ci_high"]


def _outlet_documents(rng, outlets=4, docs=15, outlet_sd=0.1, concentration=1e6):
    """Documents of ``2 * outlets`` outlets (half vi), an outlet effect on topic 1's share, θ nearly fixed
    (a huge concentration: the composition's draws then differ only by the sampling draw)."""
    rows, meta = [], []
    for o in range(2 * outlets):
        share = 0.5 + rng.normal(0, outlet_sd)
        for d in range(docs):
            p = float(np.clip(share + rng.normal(0, 0.05), 0.01, 0.99))
            rows.append([p * concentration, (1 - p) * concentration])
            meta.append((f"o{o}d{d}", "vi" if o < outlets else "en", f"o{o}"))
    docvars = pd.DataFrame(meta, columns=["doc_id", "language", "outlet"]).set_index("doc_id")
    return np.array(rows), docvars


def test_clustered_composition_interval_is_the_cr2_t_interval_when_theta_is_known():
    """With θ known (no topic-model uncertainty) the composed 95% interval of the language coefficient is
    the CR2 interval with Bell-McCaffrey df (clustered.cr2_test), up to Monte Carlo error of the draws."""
    from analysis.stats.clustered import cr2_ols, cr2_test

    gamma, docvars = _outlet_documents(np.random.default_rng(2))
    table, marginal = topic_effects.topic_effects(
        "m",
        gamma,
        list(docvars.index),
        docvars,
        formula="language",
        n_draws=4000,
        rng=np.random.default_rng(9),
        cluster="outlet",
    )
    row = table[(table["topic"] == 1) & (table["term"] == "language[T.vi]")].iloc[0]
    theta = gamma[:, 0] / gamma.sum(axis=1)
    X = np.column_stack([np.ones(len(theta)), (docvars["language"] == "vi").to_numpy(float)])
    reference = cr2_test(cr2_ols(X, theta, docvars["outlet"]), [0, 1])
    half = (reference.ci_high - reference.ci_low) / 2
    assert abs(row["ci_low"] - reference.ci_low) < 0.05 * half and abs(row["ci_high"] - reference.ci_high) < 0.05 * half
    assert reference.df < 6  # 8 outlets: the BM df are far below the documents' 118
    assert "CR2 by outlet" in marginal["method"].iloc[0]


def test_clustered_composition_is_wider_than_the_document_one_with_outlet_effects():
    gamma, docvars = _outlet_documents(np.random.default_rng(3), outlet_sd=0.08)
    args = dict(formula="language", n_draws=400)
    plain, _ = topic_effects.topic_effects(
        "m", gamma, list(docvars.index), docvars, rng=np.random.default_rng(1), **args
    )
    outlets, _ = topic_effects.topic_effects(
        "m", gamma, list(docvars.index), docvars, rng=np.random.default_rng(1), cluster="outlet", **args
    )
    width = [
        t.loc[(t["topic"] == 1) & (t["term"] == "language[T.vi]"), ["ci_low", "ci_high"]].diff(axis=1).iloc[0, 1]
        for t in (plain, outlets)
    ]
    assert width[1] > 2 * width[0]


def test_a_language_from_one_outlet_gets_no_composition_interval():
    gamma, docvars = _outlet_documents(np.random.default_rng(4), outlets=3, concentration=50.0)
    docvars.loc[docvars["language"] == "en", "outlet"] = "BBC"
    table, marginal = topic_effects.topic_effects(
        "m",
        gamma,
        list(docvars.index),
        docvars,
        formula="language",
        n_draws=50,
        rng=np.random.default_rng(1),
        cluster="outlet",
    )
    row = table[(table["topic"] == 1) & (table["term"] == "language[T.vi]")].iloc[0]
    assert np.isfinite(row["estimate"]) and np.isnan(row["se"]) and np.isnan(row["ci_low"])
    assert "comes from one outlet" in row["note"]
    en = marginal[(marginal["item"] == "m:T1") & (marginal["group"] == "en")].iloc[0]
    assert np.isnan(en["ci_low"]) and "comes from one outlet" in en["note"]


def test_draw_stream_gives_the_held_draws_and_the_same_composition(monkeypatch):
    """The θ draws made one at a time (DrawStream) are the held array's numbers, narrowed to the kept
    documents; the clustered composition from them equals the one from the held array (bit for bit
    when both lay a draw out contiguously; topic_effects over the size limit, where the held draws'
    kept documents are strided, to rounding)."""
    gamma, docvars = _outlet_documents(np.random.default_rng(4))
    docs = list(docvars.index)
    ids, held = topic_effects.document_draws(gamma, docs, n_draws=6, rng=np.random.default_rng(3))
    ids_s, stream = topic_effects.document_draw_stream(gamma, docs, n_draws=6, rng=np.random.default_rng(3))
    assert ids_s == ids and stream.shape == held.shape
    keep = np.flatnonzero(np.arange(len(ids)) % 3 != 1)
    stream.keep = keep
    assert stream.shape == (6, len(keep), gamma.shape[1]) and stream.nbytes == 6 * len(keep) * gamma.shape[1] * 8
    np.testing.assert_array_equal(np.array(list(stream)), held[:, keep, :])
    with pytest.raises(RuntimeError):
        list(stream)  # read once
    X = pd.DataFrame({"one": 1.0, "vi": (docvars["language"] == "vi").to_numpy(float)})
    clusters = docvars["outlet"].to_numpy()
    _, held = topic_effects.document_draws(gamma, docs, n_draws=6, rng=(rng_a := np.random.default_rng(3)))
    betas_a, predict_a, point_a = topic_effects.clustered_composition(held, X, clusters, rng=rng_a)
    _, stream = topic_effects.document_draw_stream(gamma, docs, n_draws=6, rng=(rng_b := np.random.default_rng(3)))
    betas_b, predict_b, point_b = topic_effects.clustered_composition(stream, X, clusters, rng=rng_b)
    np.testing.assert_array_equal(betas_a, betas_b)
    np.testing.assert_array_equal(point_a, point_b)
    np.testing.assert_array_equal(predict_a(np.eye(2)), predict_b(np.eye(2)))

    def effects():
        return topic_effects.topic_effects(
            "m", gamma, docs, docvars, formula="language", n_draws=50, rng=np.random.default_rng(8), cluster="outlet"
        )

    held_table, held_marginal = effects()
    monkeypatch.setattr(topic_effects, "HELD_DRAWS_BYTES", 0)  # every study streams its draws
    table, marginal = effects()
    numbers = ["estimate", "se", "ci_low", "ci_high"]
    np.testing.assert_allclose(table[numbers], held_table[numbers], rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(
        marginal[["rate", "ci_low", "ci_high"]], held_marginal[["rate", "ci_low", "ci_high"]], rtol=1e-12
    )
    assert table.drop(columns=numbers).equals(held_table.drop(columns=numbers))
