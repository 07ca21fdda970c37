"""Agreement of topic solutions across choices: known answers on hand-made solutions."""

from __future__ import annotations

import numpy as np
import pytest

from analysis.topics.agreement import solution_agreement

SEA = [0.6, 0.4, 0.0, 0.0]
TRADE = [0.0, 0.0, 0.5, 0.5]
VOCAB = ["biển", "tàu", "thuế", "thương_mại"]


def test_the_same_solution_in_another_order_agrees_fully():
    a = solution_agreement(
        np.array([SEA, TRADE]), VOCAB, [0.3, -0.3], np.array([TRADE, SEA]), VOCAB, other_difference=[-0.1, 0.2], top_n=2
    )
    assert a == {
        "topics_matched": 2,
        "mean_similarity": 1.0,
        "top_terms_jaccard": 1.0,
        "prevalence_sign_agreement": 1.0,
    }


def test_a_flipped_language_difference_and_another_vocabulary_are_seen():
    other_vocab = ["biển", "tàu", "thuế", "đầu_tư"]  # the second topic's words differ in one of two
    a = solution_agreement(
        np.array([SEA, TRADE]),
        VOCAB,
        [0.3, -0.3],
        np.array([SEA, TRADE]),
        other_vocab,
        other_difference=[0.3, 0.1],
        top_n=2,
    )
    assert a["prevalence_sign_agreement"] == 0.5
    assert a["top_terms_jaccard"] == pytest.approx((1.0 + 1 / 3) / 2)
    # Hellinger of [0, 0, .5, .5] and [0, 0, .5, 0, .5] over the union: sqrt(1 - 0.5) -> similarity 1 - 0.7071
    assert a["mean_similarity"] == pytest.approx((1.0 + 1 - np.sqrt(0.5)) / 2)


def test_solutions_with_different_k_match_the_smaller_number():
    a = solution_agreement(
        np.array([SEA, TRADE]), VOCAB, [1, -1], np.array([SEA]), VOCAB, other_difference=[1], top_n=2
    )
    assert a["topics_matched"] == 1 and a["mean_similarity"] == 1.0
