"""Keyness: scipy references, hand-computed values, planted terms, and the sign property."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from analysis.stats.keyness import contingency, fightin_words, keyness, log_ratio, top_keyness, williams_q

VOCAB = ["hợp_tác", "biển_đông", "kinh_tế", "du_lịch", "an_ninh", "biên_giới"]


def test_g2_equals_scipy_power_divergence_on_every_2x2_table():
    rng = np.random.default_rng(7)
    target = rng.integers(0, 40, size=50)
    reference = rng.integers(0, 40, size=50)
    vocab = [f"t{i:02d}" for i in range(50)]
    table = keyness(target, reference, vocab).set_index("term")
    observed, expected = contingency(target, reference)
    for i, term in enumerate(vocab):
        if target[i] + reference[i] == 0:
            assert term not in table.index
            continue
        reference_g2 = stats.power_divergence(
            observed[i].ravel(), expected[i].ravel(), lambda_="log-likelihood"
        ).statistic
        assert abs(table.loc[term, "g2"]) == pytest.approx(reference_g2, rel=1e-12, abs=1e-12)
        pearson = stats.chi2_contingency(observed[i], correction=False).statistic
        assert abs(table.loc[term, "chi2"]) == pytest.approx(pearson, rel=1e-12, abs=1e-12)
        assert table.loc[term, "p"] == pytest.approx(stats.chi2.sf(reference_g2, 1), rel=1e-9)


def test_yates_correction_equals_scipy_chi2_contingency():
    target, reference = np.array([30, 10, 10, 0, 1]), np.array([5, 10, 35, 3, 1])
    table = keyness(target, reference, VOCAB[:5], correction="yates").set_index("term")
    observed, _ = contingency(target, reference)
    for i, term in enumerate(VOCAB[:5]):
        g2 = stats.chi2_contingency(observed[i], correction=True, lambda_="log-likelihood").statistic
        chi2 = stats.chi2_contingency(observed[i], correction=True).statistic
        assert abs(table.loc[term, "g2"]) == pytest.approx(g2, abs=1e-10)
        assert abs(table.loc[term, "chi2"]) == pytest.approx(chi2, abs=1e-10)


def test_williams_correction_by_hand():
    # term: 30 of 50 target tokens, 5 of 50 reference tokens -> rows (35, 65), columns (50, 50), N = 100
    q = 1 + (100 * (1 / 35 + 1 / 65) - 1) * (100 * (1 / 50 + 1 / 50) - 1) / (6 * 100)
    observed, _ = contingency(np.array([30, 20]), np.array([5, 45]))
    assert williams_q(observed)[0] == pytest.approx(q)
    plain = keyness([30, 20], [5, 45], ["a", "b"]).set_index("term")
    corrected = keyness([30, 20], [5, 45], ["a", "b"], correction="williams").set_index("term")
    assert corrected.loc["a", "g2"] == pytest.approx(plain.loc["a", "g2"] / q)


def test_log_ratio_and_its_zero_handling():
    # 8 of 100 vs 2 of 100 -> log2(4) = 2; a zero count becomes 0.5: log2((4/100) / (0.5/100)) = 3
    assert log_ratio(np.array([8, 92]), np.array([2, 98]))[0] == pytest.approx(2.0)
    assert log_ratio(np.array([4, 96]), np.array([0, 100]))[0] == pytest.approx(3.0)
    assert log_ratio(np.array([0, 100]), np.array([4, 96]))[0] == pytest.approx(-3.0)


def test_fightin_words_by_hand():
    target, reference = np.array([10.0, 30.0]), np.array([2.0, 58.0])
    alpha0 = 20.0
    alpha = alpha0 * (target + reference) / 100.0  # pooled share: 12/100 and 88/100
    delta = math.log((10 + alpha[0]) / (40 + alpha0 - 10 - alpha[0])) - math.log(
        (2 + alpha[0]) / (60 + alpha0 - 2 - alpha[0])
    )
    z = delta / math.sqrt(1 / (10 + alpha[0]) + 1 / (2 + alpha[0]))
    got_delta, got_z = fightin_words(target, reference, alpha0)
    assert got_delta[0] == pytest.approx(delta)
    assert got_z[0] == pytest.approx(z)


def test_q_values_are_benjamini_hochberg():
    rng = np.random.default_rng(3)
    table = keyness(rng.integers(0, 30, 40), rng.integers(0, 30, 40), [f"w{i}" for i in range(40)])
    assert np.allclose(table["q"], stats.false_discovery_control(table["p"], method="bh"))


def planted(term_index: int, boost: int, size: int = 6, seed: int = 0):
    """Two groups drawn from one distribution, then ``boost`` extra tokens of one term in the target."""
    rng = np.random.default_rng(seed)
    base = rng.multinomial(600, [1 / size] * size)
    other = rng.multinomial(600, [1 / size] * size)
    base[term_index] += boost
    return base, other


@pytest.mark.parametrize("index", range(len(VOCAB)))
def test_a_planted_term_comes_out_on_top_with_the_right_sign(index):
    target, reference = planted(index, 120)
    table = keyness(target, reference, VOCAB)
    assert table.iloc[0]["term"] == VOCAB[index]
    row = table.iloc[0]
    assert row["g2"] > 10 and row["chi2"] > 0 and row["log_ratio"] > 0 and row["fw_z"] > 1.96 and row["q"] < 0.01
    assert table.sort_values("fw_z", ascending=False).iloc[0]["term"] == VOCAB[index]
    swapped = keyness(reference, target, VOCAB)
    assert swapped.iloc[-1]["term"] == VOCAB[index] and swapped.iloc[-1]["g2"] < -10


counts = st.lists(st.tuples(st.integers(0, 60), st.integers(0, 60)), min_size=2, max_size=12).filter(
    lambda pairs: sum(a for a, _ in pairs) > 0 and sum(b for _, b in pairs) > 0
)


@settings(max_examples=60, deadline=None)
@given(counts, st.sampled_from(["none", "yates", "williams"]))
def test_swapping_the_groups_flips_every_sign(pairs, correction):
    target = np.array([a for a, _ in pairs])
    reference = np.array([b for _, b in pairs])
    vocab = [f"w{i}" for i in range(len(pairs))]
    forward = keyness(target, reference, vocab, correction=correction).set_index("term").sort_index()
    backward = keyness(reference, target, vocab, correction=correction).set_index("term").sort_index()
    for column in ("g2", "chi2", "log_ratio", "fw_delta", "fw_z"):
        np.testing.assert_allclose(forward[column], -backward[column], atol=1e-9)
    for column in ("p", "q"):
        np.testing.assert_allclose(forward[column], backward[column], atol=1e-12)
    assert (forward["count_a"] == backward["count_b"]).all()


def test_top_keyness_takes_both_directions():
    table = keyness([30, 10, 10, 0, 5], [5, 10, 35, 3, 5], VOCAB[:5])
    top = top_keyness(table, 1)
    assert top["term"].tolist() == ["hợp_tác", "kinh_tế"]


def test_bad_input():
    with pytest.raises(ValueError, match="unknown correction"):
        keyness([1], [1], ["a"], correction="continuity")
    with pytest.raises(ValueError, match="same length"):
        keyness([1, 2], [1], ["a", "b"])
    assert keyness([0, 0], [1, 2], ["a", "b"]).empty
