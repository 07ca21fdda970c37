"""analysis.topics.effects: the θ posterior of a saved model, document draws and the composition per model."""

from __future__ import annotations

import numpy as np
import pandas as pd

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
