"""Document-level inference (analysis/stats/resampling.py, keyness.document_keyness): references, level
under simulated nulls, power against a planted effect, interval coverage by seeded simulation."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import sparse, stats

import analysis.stats.resampling as rs
from analysis.stats.keyness import contingency, document_keyness, g2_statistic, keyness
from analysis.stats.resampling import (
    MIN_GROUP_DOCS,
    bca_interval,
    permutation_keyness,
    permuted_rows,
    studentized_interval,
    unit_rates,
    welch_t,
)

# ------------------------------------------------------------------------------ simulated data


def bursty_corpus(
    rng: np.random.Generator, n_docs: int, n_terms: int, shape: float = 0.3, boost: np.ndarray | None = None
) -> np.ndarray:
    """Documents whose words come in bursts: each document draws its own term distribution
    (gamma-Dirichlet around a shared one, ``shape`` small = bursty), then multinomial counts.
    ``boost`` (n_docs × n_terms) multiplies the rates (a planted effect)."""
    base = np.linspace(1.0, 0.2, n_terms)
    base /= base.sum()
    lengths = rng.integers(150, 600, n_docs)
    rates = rng.gamma(shape, base / shape, size=(n_docs, n_terms))
    if boost is not None:
        rates = rates * boost
    rates /= rates.sum(axis=1, keepdims=True)
    return np.array([rng.multinomial(n, p) for n, p in zip(lengths, rates)])


def zero_inflated_rates(
    rng: np.random.Generator, n: int, zero: float, mu: float = 2.0, shape: float = 1.0
) -> np.ndarray:
    """Per-1,000-token rates of a frame: absent from a share ``zero`` of documents by design,
    otherwise Poisson hits with a gamma-distributed document propensity; lognormal lengths.
    The true mean is ``(1 − zero) · 1000 · mu / 400`` exactly."""
    lengths = np.round(np.exp(rng.normal(math.log(400), 0.5, n))) + 20
    hits = rng.poisson(rng.gamma(shape, mu / shape, n) * lengths / 400) * (rng.random(n) >= zero)
    return 1000.0 * hits / lengths


# ------------------------------------------------------------------------------------ keyness


@pytest.mark.filterwarnings("ignore:Precision loss occurred")  # scipy, on samples of equal values
@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(0, 50), min_size=3, max_size=12), st.lists(st.integers(0, 50), min_size=3, max_size=12))
def test_welch_t_equals_scipy(x, y):
    x, y = np.array(x, dtype=float), np.array(y, dtype=float)
    if x.std() == 0 and y.std() == 0:
        return
    both = np.concatenate([x, y])
    t = welch_t(x.sum(), (x * x).sum(), len(x), both.sum(), (both * both).sum(), n=len(both))
    assert t == pytest.approx(stats.ttest_ind(x, y, equal_var=False).statistic, rel=1e-7, abs=1e-9)


def rates(X: np.ndarray) -> np.ndarray:
    return X / X.sum(axis=1, keepdims=True)


@pytest.mark.filterwarnings("ignore:Precision loss occurred")  # scipy, on permuted samples of equal values
def test_exact_permutation_p_equals_scipy_permutation_test():
    rng = np.random.default_rng(3)
    X = bursty_corpus(rng, 9, 6)
    labels = np.array(["vi"] * 4 + ["en"] * 5)
    result = permutation_keyness(X, labels, ["vi"], n_resamples=5000, rng=np.random.default_rng(0))
    assert result.exact and result.resamples == math.comb(9, 4) and result.min_p == pytest.approx(1 / 126)
    r = rates(X)
    for j in range(X.shape[1]):

        def abs_t(x, y, axis=-1):
            return np.abs(stats.ttest_ind(x, y, equal_var=False, axis=axis).statistic)

        reference = stats.permutation_test(
            (r[:4, j], r[4:, j]),
            abs_t,
            permutation_type="independent",
            vectorized=True,
            n_resamples=10_000,
            alternative="greater",
        )
        assert result.p[0, j] == pytest.approx(reference.pvalue)


def test_random_permutation_p_follows_phipson_smyth_and_is_chunk_invariant(monkeypatch):
    rng = np.random.default_rng(5)
    boost = np.ones((40, 8))
    boost[:18, 0] = 4.0  # one real difference: its test never stops early
    X = bursty_corpus(rng, 40, 8, shape=1.0, boost=boost)
    labels = np.array(["a"] * 18 + ["b"] * 22)
    whole = permutation_keyness(X, labels, ["a"], n_resamples=499, rng=np.random.default_rng(2), stop_at=None)
    # reference: the same splits drawn at once, Welch's t by scipy, p = (1 + #{|t*| >= |t|}) / (1 + B)
    splits = np.random.default_rng(2).permuted(np.broadcast_to(labels, (499, 40)), axis=1)  # Fisher–Yates per row
    r = rates(X)
    observed = np.abs(stats.ttest_ind(r[labels == "a"], r[labels == "b"], equal_var=False).statistic)
    null = np.abs(np.array([stats.ttest_ind(r[s == "a"], r[s == "b"], equal_var=False).statistic for s in splits]))
    expected = (1 + (null >= observed * (1 - 1e-9)).sum(axis=0)) / 500
    assert not whole.exact and whole.p[0] == pytest.approx(expected) and whole.min_p == 1 / 500
    # sequential stopping (Besag & Clifford 1991): p = h / L where the h-th exceedance came at split L
    h = 20
    exceed = np.cumsum(null >= observed * (1 - 1e-9), axis=0)
    reached = exceed[-1] >= h
    L = np.argmax(exceed >= h, axis=0) + 1
    sequential = np.where(reached, h / L, expected)
    stopping = permutation_keyness(X, labels, ["a"], n_resamples=499, rng=np.random.default_rng(2), stop_at=h)
    assert reached.any() and not reached.all() and stopping.p[0] == pytest.approx(sequential)
    monkeypatch.setattr(rs, "RESAMPLE_CELLS", 40 * 7)  # 7 splits a batch, the last one shorter
    assert np.array_equal(
        permutation_keyness(
            sparse.csr_matrix(X), labels, ["a"], n_resamples=499, rng=np.random.default_rng(2), stop_at=None
        ).p,
        whole.p,
    )
    assert np.array_equal(
        permutation_keyness(X, labels, ["a"], n_resamples=499, rng=np.random.default_rng(2), stop_at=h).p, stopping.p
    )


def test_a_word_in_one_document_is_never_significant_in_a_balanced_split():
    """What rejected G² as the permutation statistic: its value for a one-document word follows the
    groups' token totals, which permuting documents changes. Per-document rates do not."""
    X = np.zeros((20, 3), dtype=int)
    X[:, 0] = np.arange(100, 300, 10)  # document lengths differ a lot
    X[3, 1] = 4  # one document uses word 1
    X[:, 2] = 5
    labels = np.array(["a"] * 10 + ["b"] * 10)
    assert permutation_keyness(X, labels, ["a"], n_resamples=999, rng=np.random.default_rng(0)).p[0, 1] == 1.0


def test_document_level_test_holds_its_level_on_simulated_nulls_and_pooled_tokens_do_not():
    """Random splits of bursty documents: p < 0.05 for 5% of frequent terms, within a binomial
    tolerance (pooled-token G² rejects several times as often on the same data)."""
    rng = np.random.default_rng(20240404)
    perm_hits = pooled_hits = tests = 0
    for _ in range(300):
        X = bursty_corpus(rng, 40, 10)
        labels = rng.permutation(np.array(["a"] * 20 + ["b"] * 20))
        p = permutation_keyness(X, labels, ["a"], n_resamples=199, rng=rng).p[0][
            :4
        ]  # the 4 most frequent terms: p is nearly continuous
        observed, expected = contingency(X[labels == "a"].sum(axis=0), X[labels == "b"].sum(axis=0))
        pooled = stats.chi2.sf(g2_statistic(observed, expected), 1)[:4]
        perm_hits += int((p <= 0.05).sum())
        pooled_hits += int((pooled <= 0.05).sum())
        tests += 4
    rate = perm_hits / tests
    tolerance = 3 * math.sqrt(0.05 * 0.95 / tests)
    assert abs(rate - 0.05) <= tolerance, rate
    assert pooled_hits / tests > 0.05 + 3 * tolerance


def test_document_level_test_rejects_a_planted_effect():
    rng = np.random.default_rng(11)
    boost = np.ones((60, 30))
    boost[:30, 2] = 3.0  # term 2 three times as frequent in the target's documents
    X = bursty_corpus(rng, 60, 30, shape=1.0, boost=boost)
    labels = np.array(["vi"] * 30 + ["en"] * 30)
    table = document_keyness(
        X, labels, [f"w{j}" for j in range(30)], [("vi", "en")], n_resamples=999, rng=np.random.default_rng(1)
    )[0].set_index("term")
    assert table.loc["w2", "p"] <= 0.01 and table.loc["w2", "g2"] > 0
    assert (table["q"] < 0.05).sum() <= 2 and table.loc["w2", "q"] < 0.05


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 10_000), st.integers(4, 12))
def test_swapping_groups_flips_every_sign_and_keeps_p(seed, n_docs):
    rng = np.random.default_rng(seed)
    X = bursty_corpus(rng, 2 * n_docs, 6)
    labels = np.array(["vi"] * n_docs + ["en"] * n_docs)
    vocab = [f"w{j}" for j in range(6)]
    forward = (
        document_keyness(X, labels, vocab, [("vi", "en")], n_resamples=99, rng=np.random.default_rng(seed))[0]
        .set_index("term")
        .sort_index()
    )
    backward = (
        document_keyness(X, labels, vocab, [("en", "vi")], n_resamples=99, rng=np.random.default_rng(seed))[0]
        .set_index("term")
        .sort_index()
    )
    for column in ("g2", "chi2", "log_ratio", "fw_delta", "fw_z"):
        np.testing.assert_allclose(forward[column], -backward[column], atol=1e-9)
    np.testing.assert_array_equal(forward["p"], backward["p"])


def test_effect_sizes_are_the_pooled_keyness_and_p_tokens_is_kept():
    rng = np.random.default_rng(2)
    X = bursty_corpus(rng, 12, 5)
    labels = ["a"] * 6 + ["b"] * 6
    vocab = list("vwxyz")
    table = (
        document_keyness(X, labels, vocab, [("a", "b")], n_resamples=99, rng=np.random.default_rng(0))[0]
        .set_index("term")
        .sort_index()
    )
    pooled = keyness(X[:6].sum(axis=0), X[6:].sum(axis=0), vocab).set_index("term").sort_index()
    np.testing.assert_allclose(table["g2"], pooled["g2"])
    np.testing.assert_allclose(table["p_tokens"], pooled["p"])
    # 5 tested terms: undecided terms continue to max(99, 20 · 5) = 100 splits (floor_resamples)
    assert (table["design"] == "documents").all() and table["min_p"].iloc[0] == pytest.approx(1 / 101)


def test_outlets_nested_in_groups_are_permuted_whole():
    rng = np.random.default_rng(4)
    X = bursty_corpus(rng, 16, 5)
    labels = ["vi"] * 8 + ["en"] * 8
    outlets = ["A"] * 4 + ["B"] * 4 + ["C"] * 4 + ["D"] * 4
    result = permutation_keyness(X, labels, ["vi"], n_resamples=1000, rng=np.random.default_rng(0), clusters=outlets)
    # 4 outlets, 2 per language: 6 splits of outlets, so no p below 1/6 whatever the documents say
    assert result.design == "clusters" and result.units == 4 and result.exact and result.min_p == pytest.approx(1 / 6)
    by_outlet = np.stack([X[i : i + 4].sum(axis=0) for i in range(0, 16, 4)])  # an outlet's rate: its pooled counts
    assert np.array_equal(
        result.p,
        permutation_keyness(
            by_outlet, ["vi", "vi", "en", "en"], ["vi"], n_resamples=1000, rng=np.random.default_rng(0)
        ).p,
    )
    assert np.allclose(unit_rates(X, np.array(outlets)).toarray(), rates(by_outlet))


def test_outlets_spanning_groups_permute_documents_within_outlets():
    """An outlet effect confounded with the groups: permuting within outlets holds the level,
    permuting documents freely mistakes the outlet for the group."""
    rng = np.random.default_rng(8)
    within = free = 0
    outlets = np.array(["A"] * 30 + ["B"] * 30)
    labels = np.array(["x"] * 24 + ["y"] * 6 + ["x"] * 6 + ["y"] * 24)  # x mostly from A, y mostly from B
    boost = np.ones((60, 8))
    boost[:30, 0] = 3.0  # outlet A uses term 0 three times as often; the groups do not differ within outlets
    for _ in range(60):
        X = bursty_corpus(rng, 60, 8, shape=2.0, boost=boost)
        within += permutation_keyness(X, labels, ["x"], n_resamples=199, rng=rng, clusters=outlets).p[0, 0] <= 0.05
        free += permutation_keyness(X, labels, ["x"], n_resamples=199, rng=rng).p[0, 0] <= 0.05
    assert within / 60 <= 0.05 + 3 * math.sqrt(0.05 * 0.95 / 60)
    assert free / 60 > 0.5


def test_three_groups_each_against_the_rest_share_the_splits():
    rng = np.random.default_rng(6)
    X = bursty_corpus(rng, 30, 5)
    labels = ["a"] * 10 + ["b"] * 10 + ["c"] * 10
    pairs = [("a", "rest"), ("b", "rest"), ("c", "rest")]
    tables = document_keyness(X, labels, list("vwxyz"), pairs, n_resamples=199, rng=np.random.default_rng(0))
    assert len(tables) == 3
    # "a vs rest" alone draws the same splits, so the same p
    alone = document_keyness(X, labels, list("vwxyz"), [("a", "rest")], n_resamples=199, rng=np.random.default_rng(0))[
        0
    ]
    assert tables[0]["p"].tolist() == alone["p"].tolist()
    with pytest.raises(ValueError):
        document_keyness(X, labels, list("vwxyz"), [("a", "b")], n_resamples=199, rng=np.random.default_rng(0))


# ---------------------------------------------------------------------------------- intervals


def studentized_reference(values, n_resamples, rng, level=0.95):
    """Davison & Hinkley (1997) eq. 5.7, one resample at a time."""
    n = len(values)
    mean, se = values.mean(), values.std(ddof=1) / math.sqrt(n)
    t = []
    for _ in range(n_resamples):
        x = values[rng.integers(0, n, size=(1, n))[0]]
        s = x.std(ddof=1) / math.sqrt(n)
        t.append(
            (x.mean() - mean) / s if s > 0 else (0.0 if x.mean() == mean else math.copysign(math.inf, x.mean() - mean))
        )
    t = np.sort(t)
    alpha = (1 - level) / 2
    lo_t, hi_t = t[math.floor((n_resamples + 1) * alpha) - 1], t[math.ceil((n_resamples + 1) * (1 - alpha)) - 1]
    return mean - hi_t * se, mean - lo_t * se


def test_studentized_interval_equals_the_textbook_formula():
    values = zero_inflated_rates(np.random.default_rng(1), 25, 0.5)
    # one resample at a time draws the same numbers as a batch of rows
    got = studentized_interval(values, n_resamples=999, rng=np.random.default_rng(3))
    want = studentized_reference(values, 999, np.random.default_rng(3))
    assert got == pytest.approx(want, rel=1e-12)


def test_studentized_ratio_interval_with_unit_clusters_is_the_mean_interval():
    values = zero_inflated_rates(np.random.default_rng(2), 30, 0.4)
    low, high = studentized_interval(values[:, None], n_resamples=500, rng=np.random.default_rng(0), sizes=np.ones(30))
    assert (float(low[0]), float(high[0])) == pytest.approx(
        studentized_interval(values, n_resamples=500, rng=np.random.default_rng(0))
    )


def test_studentized_interval_edge_cases():
    assert all(
        math.isnan(v) for v in studentized_interval(np.array([3.0]), n_resamples=100, rng=np.random.default_rng(0))
    )
    assert studentized_interval(np.array([2.0, 2.0, 2.0]), n_resamples=100, rng=np.random.default_rng(0)) == (2.0, 2.0)
    # one non-zero value among 4: a quarter of resamples has no variation, so the data cannot bound the top
    low, high = studentized_interval(np.array([0.0, 0.0, 0.0, 9.0]), n_resamples=999, rng=np.random.default_rng(0))
    assert high == math.inf and low < 2.25


def test_the_interval_is_cut_to_the_support_of_the_mean():
    values = np.array([0.0, 0.0, 1.0, 30.0, 0.0])
    free = studentized_interval(values, n_resamples=999, rng=np.random.default_rng(1))
    cut = studentized_interval(values, n_resamples=999, rng=np.random.default_rng(1), support=(0.0, 10.0))
    assert free[0] < 0 and cut == (0.0, min(free[1], 10.0))


def test_bca_interval_equals_scipy_bca():
    values = np.random.default_rng(4).gamma(1.0, 2.0, 40)
    reference = stats.bootstrap(
        (values,), np.mean, n_resamples=1999, method="BCa", rng=np.random.default_rng(9), vectorized=True
    )
    got = bca_interval(values, n_resamples=1999, rng=np.random.default_rng(9))
    assert got == pytest.approx((reference.confidence_interval.low, reference.confidence_interval.high), rel=1e-9)


def coverage(method, n: int, zero: float, reps: int, seed: int, shape: float = 1.0) -> float:
    rng = np.random.default_rng(seed)
    truth = (1 - zero) * 1000 * 2.0 / 400
    covered = 0
    for _ in range(reps):
        x = zero_inflated_rates(rng, n, zero, shape=shape)
        low, high = method(x, rng)
        covered += low <= truth <= high
    return covered / reps


def studentized(x, rng):
    return studentized_interval(x, n_resamples=999, rng=rng)


def percentile(x, rng):
    if np.all(x == x[0]):
        return x[0], x[0]
    ci = stats.bootstrap(
        (x,), np.mean, n_resamples=999, method="percentile", rng=rng, vectorized=True
    ).confidence_interval
    return ci.low, ci.high


def test_studentized_interval_covers_at_least_93_percent_at_20_documents():
    """Seeded coverage simulation on zero-inflated per-1,000 rates (half the documents without
    the frame, bursty hits): the 95% interval covers the true mean in >= 93% of 600 samples."""
    assert coverage(studentized, 20, 0.5, 600, 1) >= 0.93


def test_min_group_docs_is_where_coverage_reaches_93_percent_for_a_rare_frame():
    """The "too small" threshold: at MIN_GROUP_DOCS documents the interval covers >= 0.93 even for a
    frame absent from 70% of documents by design (80% with Poisson zeros); at half of it, it does not."""
    assert coverage(studentized, MIN_GROUP_DOCS, 0.7, 600, 2) >= 0.93
    assert coverage(studentized, MIN_GROUP_DOCS, 0.7, 600, 5, shape=0.5) >= 0.93  # burstier hits
    assert coverage(studentized, MIN_GROUP_DOCS // 2, 0.7, 600, 3) < 0.93


def test_percentile_interval_under_covers_at_small_n():
    """What the studentized interval replaced (the simulation can tell them apart)."""
    assert coverage(percentile, 5, 0.5, 400, 4) < 0.85
    assert coverage(studentized, 5, 0.5, 400, 4) > coverage(percentile, 5, 0.5, 400, 4)


def test_keyness_by_group_takes_p_from_documents_when_asked():
    import pandas as pd

    from analysis.stats.keyness import keyness_by_group

    counts = pd.DataFrame({"hợp_tác": [4, 3, 0, 1], "biển": [0, 1, 5, 4]}, index=["v1", "v2", "e1", "e2"])
    groups = {"v1": "vi", "v2": "vi", "e1": "en", "e2": "en"}
    pooled = keyness_by_group(counts, groups, order=["vi", "en"], min_docs=1, n_resamples=None)
    by_docs = keyness_by_group(counts, groups, order=["vi", "en"], min_docs=1, n_resamples=100, seed=1)
    assert (pooled["p"] < 0.001).all()  # 12.2 on one degree of freedom
    assert (
        by_docs["p"].tolist() == [pytest.approx(1 / 3)] * 2 and by_docs["design"].eq("documents").all()
    )  # 6 splits of 4 documents
    assert by_docs["g2"].tolist() == pooled["g2"].tolist()


# ----------------------------------------------------------------- the tested quantity beside G²


def test_mean_rf_columns_are_the_welch_interval_on_per_document_rates():
    rng = np.random.default_rng(11)
    X = bursty_corpus(rng, 14, 5)
    labels = ["a"] * 6 + ["b"] * 8
    vocab = list("vwxyz")
    table = document_keyness(X, labels, vocab, [("a", "b")], n_resamples=99, rng=np.random.default_rng(0))[0].set_index(
        "term"
    )
    per_1000 = 1000.0 * X / X.sum(axis=1, keepdims=True)
    for j, term in enumerate(vocab):
        a, b = per_1000[:6, j], per_1000[6:, j]
        ci = stats.ttest_ind(a, b, equal_var=False).confidence_interval(0.95)
        row = table.loc[term]
        assert row["mean_a"] == pytest.approx(a.mean()) and row["mean_b"] == pytest.approx(b.mean())
        assert row["difference"] == pytest.approx(a.mean() - b.mean())
        assert (row["ci_low"], row["ci_high"]) == pytest.approx((ci.low, ci.high))


def test_mean_rf_difference_can_disagree_in_sign_with_pooled_g2():
    # One long reference document full of the word, nine short ones without; the target uses it
    # a little in every (short) document: pooled tokens say "reference", the documents "target".
    X = np.array([[2, 98]] * 10 + [[400, 600]] + [[0, 100]] * 9)
    labels = ["t"] * 10 + ["r"] * 10
    row = (
        document_keyness(X, labels, ["w", "other"], [("t", "r")], n_resamples=99, rng=np.random.default_rng(0))[0]
        .set_index("term")
        .loc["w"]
    )
    assert row["g2"] < 0 and row["log_ratio"] < 0
    assert row["mean_a"] == pytest.approx(20.0) and row["mean_b"] == pytest.approx(40.0)
    X[10] = [30, 970]  # the long document uses it less: both now say "target"
    row = (
        document_keyness(X, labels, ["w", "other"], [("t", "r")], n_resamples=99, rng=np.random.default_rng(0))[0]
        .set_index("term")
        .loc["w"]
    )
    assert row["g2"] > 0 and row["difference"] > 0


def test_mean_rf_of_whole_clusters_uses_the_clusters_as_units():
    rng = np.random.default_rng(4)
    X = bursty_corpus(rng, 16, 5)
    labels = ["vi"] * 8 + ["en"] * 8
    outlets = ["A"] * 4 + ["B"] * 4 + ["C"] * 4 + ["D"] * 4
    table = document_keyness(
        X, labels, list("vwxyz"), [("vi", "en")], n_resamples=99, rng=np.random.default_rng(0), clusters=outlets
    )[0].set_index("term")
    by_outlet = np.stack([X[i : i + 4].sum(axis=0) for i in range(0, 16, 4)])
    rates_outlet = 1000.0 * by_outlet / by_outlet.sum(axis=1, keepdims=True)
    assert (table["design"] == "clusters").all()
    np.testing.assert_allclose(table.loc[list("vwxyz"), "mean_a"], rates_outlet[:2].mean(axis=0))
    np.testing.assert_allclose(
        table.loc[list("vwxyz"), "difference"], rates_outlet[:2].mean(axis=0) - rates_outlet[2:].mean(axis=0)
    )


# ------------------------------------------------------------- q reachable with many tested terms


def test_a_planted_strong_term_among_2000_null_terms_reaches_q_below_005():
    """Without the budget (the floor of 20 m splits, point estimates) a lone strong term reaches q < 0.05;
    within the default budget of 20,000 splits its decision cannot be settled (no split reaches it, but
    BH over 2,001 terms needs p < 2.5e-5 and 0 hits in 20,000 splits allow p up to 9e-4 at the intervals'
    coverage), so it is reported undecided and not rejected: what the budget costs."""
    rng = np.random.default_rng(21)
    n_t, n_r, n_null = 40, 40, 2000
    X = rng.poisson(0.3, (n_t + n_r, n_null + 1))
    X[:, 0] = 0
    X[:n_t, 0] = rng.poisson(6.0, n_t) + 1  # in every target document, in no reference document
    labels = ["t"] * n_t + ["r"] * n_r
    vocab = ["planted"] + [f"w{j}" for j in range(n_null)]
    table = document_keyness(X, labels, vocab, [("t", "r")], n_resamples=1000, rng=np.random.default_rng(0))[
        0
    ].set_index("term")
    m = len(table)
    assert m == n_null + 1 and rs.floor_resamples(1000, m) == rs.MAX_RESAMPLES == 20_000
    assert table.loc["planted", "p"] == pytest.approx(1 / 20_001) and not table.loc["planted", "decided"]
    assert table["q"].min() >= 0.05
    # the old rule: every undecided term to the floor of 20 m = 40,020 splits, q from the estimates
    old = permutation_keyness(
        X, labels, ["t"], n_resamples=1000, rng=np.random.default_rng(0), fdr_level=None, max_resamples=500_000
    )
    assert old.resamples == 20 * m and old.decided.all()
    q = stats.false_discovery_control(old.p[0], method="bh")
    assert q[0] < 0.05 and q[1:].min() > 0.05
    # The same test with B splits only: q cannot fall below m / (B + 1), far above 0.05
    old = permutation_keyness(X, labels, ["t"], n_resamples=1000, rng=np.random.default_rng(0), max_resamples=None)
    assert stats.false_discovery_control(old.p[0], method="bh")[0] >= 0.05


def test_extended_splits_are_deterministic_and_chunk_invariant(monkeypatch):
    rng = np.random.default_rng(5)
    X = bursty_corpus(rng, 30, 40)
    X[:15, 0] += 60  # a planted term: far more frequent in every document of "a"
    labels = ["a"] * 15 + ["b"] * 15
    first = permutation_keyness(X, labels, ["a"], n_resamples=100, rng=np.random.default_rng(3))
    assert first.resamples == 800 and first.min_p == pytest.approx(1 / 801)
    monkeypatch.setattr(rs, "RESAMPLE_CELLS", 200)
    second = permutation_keyness(X, labels, ["a"], n_resamples=100, rng=np.random.default_rng(3))
    np.testing.assert_array_equal(first.p, second.p)
    assert first.p[0, 0] < 1 / 101  # the planted term went past B = 100 splits, below their floor


def test_floor_resamples_rule():
    assert rs.floor_resamples(5000, 13000, max_resamples=500_000) == 260000
    assert rs.floor_resamples(5000, 13000) == rs.MAX_RESAMPLES == 20_000  # the budget binds
    assert rs.floor_resamples(5000, 100) == 5000  # never fewer than B
    assert rs.floor_resamples(1000, 801) == 16020  # 20 m below the budget
    assert rs.floor_resamples(1000, 2001, arrangements=3000) == 3000  # no more than the distinct splits
    assert 801 / (rs.floor_resamples(1000, 801) + 1) < 0.05


@settings(max_examples=60, deadline=None)
@given(
    values=st.lists(st.integers(0, 3), min_size=1, max_size=12),
    strata_seed=st.integers(0, 2**16),
    size=st.integers(1, 9),
    cut=st.integers(0, 9),
)
def test_permuted_rows_keep_each_stratum_and_do_not_depend_on_the_batch(values, strata_seed, size, cut):
    values = np.array(values)
    strata = np.random.default_rng(strata_seed).integers(0, 3, len(values))
    rows = permuted_rows(np.random.default_rng(4), values, size, strata)
    for row in rows:  # every row a permutation of the values inside each stratum
        for s in np.unique(strata):
            assert sorted(row[strata == s]) == sorted(values[strata == s])
    cut = min(cut, size)
    rng = np.random.default_rng(4)
    batches = np.concatenate([permuted_rows(rng, values, cut, strata), permuted_rows(rng, values, size - cut, strata)])
    assert np.array_equal(batches, rows)
    plain = permuted_rows(np.random.default_rng(4), values, size)
    assert all(sorted(r) == sorted(values) for r in plain)


def test_permuted_rows_are_uniform_over_arrangements():
    # 3 distinct values: each of the 6 orders about 1/6 of 6,000 rows (chi-squared, 5 df)
    rows = permuted_rows(np.random.default_rng(9), np.array([0, 1, 2]), 6000)
    _, counts = np.unique(rows, axis=0, return_counts=True)
    assert len(counts) == 6 and stats.chisquare(counts).pvalue > 0.001
