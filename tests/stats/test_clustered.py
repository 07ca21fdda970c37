"""Known answers and seeded properties of analysis.stats.clustered (outlet-level inference).

References are scipy / statsmodels / wildboottest or hand computation, never numbers produced by the code under test.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from analysis.stats.clustered import (
    cr2_glm,
    cr2_ols,
    cr2_test,
    design_summary,
    nesting,
    outlet_permutation_test,
    wild_cluster_bootstrap,
)


def _clustered_data(rng, sizes, p=3, icc=0.3):
    clusters = np.repeat(np.arange(len(sizes)), sizes)
    n = len(clusters)
    X = np.column_stack([np.ones(n), rng.normal(size=(n, p - 1))])
    y = X @ np.linspace(0.5, -0.5, p) + rng.normal(0, math.sqrt(icc), len(sizes))[clusters] + rng.normal(0, 1, n)
    return X, y, clusters


# ---------------------------------------------------------------- nesting and design summary


def test_confounded_language_is_named_in_one_line():
    design = nesting(["vi"] * 4 + ["en"] * 3, ["VnE", "VnE", "TT", "TT", "BBC", "BBC", "BBC"])
    assert design.nested and design.confounded == ("en",)
    assert dict(design.clusters_per_group) == {"vi": 2, "en": 1}
    assert design.docs_per_cluster["en"] == (3, 3.0, 3) and design.docs_per_cluster["vi"] == (2, 2.0, 2)
    assert design.problem == (
        "language 'en' comes from one outlet ('BBC'): its contrast with another language equals "
        "an outlet contrast; no language p-value"
    )
    assert "\n" not in design.problem


def test_shared_outlet_breaks_nesting():
    design = nesting(["vi", "vi", "en", "en", "en"], ["A", "B", "B", "C", "D"])
    assert not design.nested and design.shared == ("B",)
    assert design.problem.startswith("outlet 'B' publishes in more than one language ('en', 'vi')")


def test_design_summary_icc_matches_anova_f():
    # balanced one-way layout: ICC = (F - 1) / (F + m - 1) with F from scipy's one-way ANOVA
    rng = np.random.default_rng(3)
    m, G = 6, 5
    outlets = np.repeat([f"o{g}" for g in range(G)], m)
    values = rng.normal(0, 0.7, G)[np.repeat(np.arange(G), m)] + rng.normal(0, 1, G * m)
    F = stats.f_oneway(*[values[outlets == f"o{g}"] for g in range(G)]).statistic
    icc = (F - 1) / (F + m - 1)
    docvars = pd.DataFrame({"lang": ["vi"] * (G * m) + ["en"] * 3, "outlet": list(outlets) + ["BBC"] * 3})
    table = design_summary(docvars, group="lang", cluster="outlet", values={"x": np.r_[values, [1.0, 2.0, 3.0]]})
    vi = table.set_index("group").loc["vi"]
    assert vi["outlets"] == G and vi["documents"] == G * m and vi["docs_per_outlet_median"] == m
    assert vi["x_icc"] == pytest.approx(icc, abs=1e-12)
    assert vi["x_n_eff"] == pytest.approx(G * m / (1 + (m - 1) * max(icc, 0)), abs=1e-9)
    en = table.set_index("group").loc["en"]
    assert en["outlets"] == 1 and math.isnan(en["x_icc"])


# ---------------------------------------------------------------- outlet permutation test


def _welch_t(x, y):
    return stats.ttest_ind(x, y, equal_var=False).statistic


def test_outlet_permutation_exact_matches_enumeration_by_scipy():
    # 4 outlets, 2 per language: C(4, 2) = 6 arrangements; observed outlet means a: {0.5, 3}, b: {2, 6}
    values = [0, 1, 3, 3, 2, 2, 5, 7]
    labels = list("aaaabbbb")
    outlets = list("AABBCCDD")
    means = {"A": 0.5, "B": 3.0, "C": 2.0, "D": 6.0}
    t_obs = _welch_t([0.5, 3.0], [2.0, 6.0])
    ts = [
        _welch_t([means[o] for o in pick], [means[o] for o in "ABCD" if o not in pick])
        for pick in itertools.combinations("ABCD", 2)
    ]
    expected = sum(abs(t) >= abs(t_obs) - 1e-12 for t in ts) / 6
    r = outlet_permutation_test(values, labels, outlets, a="a", b="b", n_resamples=100)
    assert r.exact and r.n_arrangements == 6
    assert r.estimate == pytest.approx(1.75 - 4.0)
    assert r.statistic == pytest.approx(t_obs, abs=1e-12)
    assert r.p == pytest.approx(expected)
    assert 1 / 6 <= r.min_attainable_p <= r.p
    assert r.min_attainable_p == pytest.approx(2 / 6)  # equal sizes: an arrangement and its swap give t and -t


def test_outlet_permutation_most_extreme_by_hand():
    # outlet means a: {0, 1}, b: {10, 12}: observed split and its swap are the two most extreme of 6
    r = outlet_permutation_test(
        [0, 0, 1, 1, 10, 10, 12, 12], list("aaaabbbb"), list("AABBCCDD"), a="a", b="b", n_resamples=10
    )
    assert r.p == pytest.approx(2 / 6)


def test_outlet_permutation_monte_carlo_agrees_with_exact():
    rng = np.random.default_rng(11)
    outlets = np.repeat(np.arange(12), 4)
    labels = np.where(outlets < 6, "vi", "en")
    values = rng.normal(0, 1, 12)[outlets] + rng.normal(0, 1, 48) + 0.6 * (labels == "vi")
    exact = outlet_permutation_test(values, labels, outlets, a="vi", b="en", n_resamples=1000)
    mc = outlet_permutation_test(values, labels, outlets, a="vi", b="en", n_resamples=900, rng=np.random.default_rng(1))
    assert exact.exact and exact.n_arrangements == math.comb(12, 6) and not mc.exact
    assert mc.min_attainable_p == pytest.approx(1 / 901)
    assert 0.05 < exact.p < 0.95
    assert abs(mc.p - exact.p) < 4 * math.sqrt(exact.p * (1 - exact.p) / 900) + 1 / 901


def test_outlet_permutation_refuses_one_outlet_language():
    labels = ["vi"] * 6 + ["en"] * 3
    outlets = ["A", "A", "B", "B", "C", "C", "BBC", "BBC", "BBC"]
    with pytest.raises(ValueError) as info:
        outlet_permutation_test(np.arange(9.0), labels, outlets, a="vi", b="en", n_resamples=100)
    assert str(info.value) == nesting(labels, outlets).problem
    assert "'en' comes from one outlet ('BBC')" in str(info.value)
    with pytest.raises(ValueError, match="not nested"):
        outlet_permutation_test(
            np.arange(6.0),
            ["vi", "vi", "vi", "en", "en", "en"],
            ["A", "B", "C", "C", "D", "E"],
            a="vi",
            b="en",
            n_resamples=100,
        )


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.integers(1, 3), min_size=2, max_size=4),
    st.lists(st.integers(1, 3), min_size=2, max_size=4),
    st.integers(0, 2**32 - 1),
)
def test_outlet_permutation_swap_symmetry(sizes_a, sizes_b, seed):
    rng = np.random.default_rng(seed)
    sizes = sizes_a + sizes_b
    outlets = np.repeat(np.arange(len(sizes)), sizes)
    labels = np.where(outlets < len(sizes_a), "a", "b")
    values = rng.normal(size=len(outlets)).round(2)
    ab = outlet_permutation_test(values, labels, outlets, a="a", b="b", n_resamples=200)
    ba = outlet_permutation_test(values, labels, outlets, a="b", b="a", n_resamples=200)
    assert ab.estimate == pytest.approx(-ba.estimate, abs=1e-12)
    assert ab.p == pytest.approx(ba.p, abs=1e-12)
    assert 0 < ab.p <= 1 and ab.min_attainable_p <= ab.p


def _simulate_outlets(rng, outlets_per_group=5, docs=20, icc=0.1):
    outlets = np.repeat(np.arange(2 * outlets_per_group), docs)
    labels = np.where(outlets < outlets_per_group, "vi", "en")
    effects = rng.normal(0, math.sqrt(icc), 2 * outlets_per_group)
    values = effects[outlets] + rng.normal(0, math.sqrt(1 - icc), len(outlets))
    return values, labels, outlets


def test_level_outlet_permutation_vs_document_welch():
    # H0 true, outlet ICC 0.1, 5 outlets x 20 documents per language, 200 samples: the outlet permutation test
    # rejects at 0.05 within a binomial band around 0.05 (3 sd: at most 0.10); document-level Welch, which treats
    # 100 correlated documents as independent (design effect 1 + 19 x 0.1 = 2.9), clearly above it.
    rng = np.random.default_rng(2024)
    outlet_reject = document_reject = 0
    reps = 200
    for _ in range(reps):
        values, labels, outlets = _simulate_outlets(rng)
        outlet_reject += outlet_permutation_test(values, labels, outlets, a="vi", b="en", n_resamples=999).p <= 0.05
        welch = stats.ttest_ind(values[labels == "vi"], values[labels == "en"], equal_var=False)
        document_reject += welch.pvalue <= 0.05
    assert 0.005 <= outlet_reject / reps <= 0.10
    assert document_reject / reps >= 0.15


# ---------------------------------------------------------------- CR2 / Bell-McCaffrey


def test_cr2_singletons_equal_statsmodels_hc2():
    rng = np.random.default_rng(5)
    X, y, _ = _clustered_data(rng, [1] * 40, p=4)
    fit = cr2_ols(X, y, np.arange(40))
    reference = sm.OLS(y, X).fit(cov_type="HC2")
    np.testing.assert_allclose(fit.coef, reference.params, atol=1e-10)
    np.testing.assert_allclose(fit.vcov, reference.cov_params(), atol=1e-10, rtol=0)


def test_cr2_wls_inverse_variance_target_equals_statsmodels_wls_hc2():
    # statsmodels' WLS HC2 is HC2 on the whitened regression, i.e. CR2 with working model Phi = 1 / w
    rng = np.random.default_rng(6)
    X, y, _ = _clustered_data(rng, [1] * 30, p=3)
    w = rng.gamma(2.0, 1.0, 30)
    fit = cr2_ols(X, y, np.arange(30), weights=w, target=1 / w)
    np.testing.assert_allclose(fit.vcov, sm.WLS(y, X, weights=w).fit(cov_type="HC2").cov_params(), atol=1e-10, rtol=0)


def test_cr2_two_groups_is_welch():
    rng = np.random.default_rng(7)
    a, b = rng.normal(0, 1, 7), rng.normal(1, 3, 12)
    y = np.r_[a, b]
    X = np.column_stack([np.ones(19), np.r_[np.zeros(7), np.ones(12)]])
    welch = stats.ttest_ind(b, a, equal_var=False)
    identity = cr2_test(cr2_ols(X, y, np.arange(19)), [0, 1])
    assert identity.t == pytest.approx(welch.statistic, abs=1e-8)
    # Bell-McCaffrey df is Welch-Satterthwaite evaluated under the working model: with the identity (equal
    # variances) it depends on the group sizes only, not Welch's data-driven df (Imbens & Kolesar 2016) ...
    n1, n2 = 7, 12
    equal_variance_df = (1 / n1 + 1 / n2) ** 2 / (1 / (n1**2 * (n1 - 1)) + 1 / (n2**2 * (n2 - 1)))
    assert identity.df == pytest.approx(equal_variance_df, abs=1e-8)
    # ... and with the two sample variances as the working model it is exactly Welch's df (and t is unchanged)
    target = np.r_[np.full(7, a.var(ddof=1)), np.full(12, b.var(ddof=1))]
    plugged = cr2_test(cr2_ols(X, y, np.arange(19), target=target), [0, 1])
    assert plugged.t == pytest.approx(welch.statistic, abs=1e-8)
    assert plugged.df == pytest.approx(welch.df, abs=1e-8)
    assert plugged.p == pytest.approx(welch.pvalue, abs=1e-8)


@pytest.mark.parametrize("case", ["ols", "wls identity", "wls inverse variance"])
def test_cr2_is_unbiased_under_working_model(case):
    # V is quadratic in y and depends on y only through e = (I - H) y, so under Var(y) = Phi (diagonal),
    # E[V] = sum_i V(y = sqrt(phi_i) x unit vector i), which CR2 makes equal to Var(beta) = M X' W Phi W X M exactly.
    rng = np.random.default_rng(8)
    X, _, clusters = _clustered_data(rng, [2, 5, 3, 8, 4], p=2)
    n = len(clusters)
    w = np.ones(n) if case == "ols" else rng.gamma(2.0, 1.0, n)
    phi = 1 / w if case == "wls inverse variance" else np.ones(n)
    M = np.linalg.inv(X.T @ (X * w[:, None]))
    truth = M @ X.T @ (X * (w**2 * phi)[:, None]) @ M
    for kind, unbiased in (("CR2", True), ("CR0", False)):  # CR0 is biased down: the check can fail
        expected = sum(
            cr2_ols(X, math.sqrt(phi[i]) * np.eye(n)[i], clusters, weights=w, target=phi, kind=kind).vcov
            for i in range(n)
        )
        assert np.allclose(expected, truth, rtol=1e-9, atol=1e-12) == unbiased


def test_cr1_matches_statsmodels_cluster():
    rng = np.random.default_rng(9)
    X, y, clusters = _clustered_data(rng, [3, 9, 4, 12, 6, 5], p=3)
    reference = sm.OLS(y, X).fit(cov_type="cluster", cov_kwds={"groups": clusters})
    np.testing.assert_allclose(cr2_ols(X, y, clusters, kind="CR1").vcov, reference.cov_params(), atol=1e-10, rtol=0)


def test_published_stata_values_of_dfadjust():
    # The deterministic data of dfadjust's test_clustervar.R (Kolesar; R recycles the 10 cluster codes over 20 rows),
    # with the values it checks against Stata: `reg y x, cluster(clusters)` and `reg y x, vce(hc2)`.
    y = np.r_[np.cos(np.arange(10)), np.tan(np.arange(1, 11))]
    x = np.r_[np.sin(np.arange(1, 11)), np.sin(np.arange(2, 12))]
    clusters = np.tile([2, 1, 3, 2, 2, 3, 3, 1, 1, 2], 2)
    X = np.column_stack([np.ones(20), x])
    cr1 = cr2_ols(X, y, clusters, kind="CR1")
    np.testing.assert_allclose(cr1.coef, [-0.4456202905, 0.3241183110], atol=1e-9)
    np.testing.assert_allclose(np.sqrt(np.diag(cr1.vcov)), [0.4827602183, 0.1814501834], atol=1e-9)
    hc2 = cr2_ols(X, y, np.arange(20))
    np.testing.assert_allclose(np.sqrt(np.diag(hc2.vcov)), [0.4227339762, 0.4421048122], atol=1e-9)


def test_cr1_interval_is_not_wider_than_cr2_bm_with_few_unbalanced_clusters():
    # a language dummy over 6 outlets, 2 of them in language 1, outlet sizes unequal: CR1 with t(G - 1) claims
    # at least as much precision as CR2 with Bell-McCaffrey df, in every sample
    for seed in range(20):
        rng = np.random.default_rng(seed)
        sizes = [40, 5, 10, 25, 8, 30]
        clusters = np.repeat(np.arange(6), sizes)
        x = (clusters < 2).astype(float)
        y = rng.normal(0, 1, 6)[clusters] + rng.normal(0, 1, len(clusters))
        X = np.column_stack([np.ones(len(y)), x])
        cr1 = cr2_ols(X, y, clusters, kind="CR1")
        cr2 = cr2_test(cr2_ols(X, y, clusters), [0, 1])
        half1 = math.sqrt(cr1.vcov[1, 1]) * stats.t.ppf(0.975, 5)
        assert half1 <= cr2.ci_high - cr2.estimate + 1e-12
        assert cr2.df < 5


def test_cr2_bm_level_few_outlets():
    # H0 true, 4 outlets per language, outlet ICC 0.2: CR2 + BM rejects within a binomial band around 0.05
    rng = np.random.default_rng(31)
    reject, reps = 0, 200
    for _ in range(reps):
        values, labels, outlets = _simulate_outlets(rng, outlets_per_group=4, docs=15, icc=0.2)
        X = np.column_stack([np.ones(len(values)), labels == "vi"]).astype(float)
        reject += cr2_test(cr2_ols(X, values, outlets), [0, 1]).p <= 0.05
    assert 0.005 <= reject / reps <= 0.10


def _poisson_data(rng, sizes):
    clusters = np.repeat(np.arange(len(sizes)), sizes)
    n = len(clusters)
    x = (clusters % 2).astype(float)
    exposure = rng.integers(5, 40, n).astype(float)
    rate = 0.05 * np.exp(0.3 * x + rng.normal(0, 0.4, len(sizes))[clusters])
    y = rng.poisson(rate * exposure * rng.gamma(1.0, 1.0, n)).astype(float)
    X = np.column_stack([np.ones(n), x])
    return X, y, exposure, clusters


def test_glm_cr0_matches_statsmodels_cluster_sandwich():
    rng = np.random.default_rng(12)
    X, y, exposure, clusters = _poisson_data(rng, [12, 20, 8, 15, 30, 9])
    model = sm.GLM(y, X, family=sm.families.Poisson(), offset=np.log(exposure))
    reference = model.fit(cov_type="cluster", cov_kwds={"groups": clusters, "use_correction": False})
    np.testing.assert_allclose(cr2_glm(model.fit(), clusters, kind="CR0").vcov, reference.cov_params(), rtol=1e-7)


def test_glm_cr2_is_wls_cr2_of_the_working_regression_and_ignores_dispersion():
    rng = np.random.default_rng(13)
    X, y, exposure, clusters = _poisson_data(rng, [12, 20, 8, 15, 30, 9])
    model = sm.GLM(y, X, family=sm.families.Poisson(), offset=np.log(exposure))
    fit, quasi = model.fit(), model.fit(scale="X2")  # quasi-Poisson: same coefficients, estimated dispersion
    mu = fit.fittedvalues
    z = X @ fit.params + (y - mu) / mu  # working response of the log link (offset removed); working weights mu
    working = cr2_ols(X, z, clusters, weights=mu, target=1 / mu)
    glm = cr2_glm(quasi, clusters)
    np.testing.assert_allclose(glm.coef, working.coef, rtol=1e-6)
    np.testing.assert_allclose(glm.vcov, working.vcov, rtol=1e-6)
    assert cr2_test(glm, [0, 1]).df == pytest.approx(cr2_test(working, [0, 1]).df, rel=1e-6)
    np.testing.assert_allclose(cr2_glm(fit, clusters).vcov, glm.vcov, rtol=1e-10)
    # with single-row clusters it is HC2 of the WLS fit (statsmodels whitens by sqrt(w))
    single = cr2_glm(fit, np.arange(len(y)))
    reference = sm.WLS(z, X, weights=mu).fit(cov_type="HC2").cov_params()
    np.testing.assert_allclose(single.vcov, reference, rtol=1e-6)


def test_glm_gaussian_identity_singletons_is_hc2():
    rng = np.random.default_rng(14)
    X, y, _ = _clustered_data(rng, [1] * 25, p=3)
    glm = cr2_glm(sm.GLM(y, X).fit(), np.arange(25))
    np.testing.assert_allclose(glm.vcov, sm.OLS(y, X).fit(cov_type="HC2").cov_params(), atol=1e-10, rtol=0)


# ---------------------------------------------------------------- wild cluster bootstrap


def _restricted_draws(X, y, clusters, coef, vectors):
    X0 = np.delete(X, coef, axis=1)
    fitted0 = X0 @ np.linalg.lstsq(X0, y, rcond=None)[0]
    u0 = y - fitted0
    return [fitted0 + v[clusters] * u0 for v in vectors]


def test_wild_bootstrap_enumeration_matches_statsmodels_loop():
    rng = np.random.default_rng(21)
    X, y, clusters = _clustered_data(rng, [3, 5, 2, 6, 4], p=3)
    t_obs = sm.OLS(y, X).fit(cov_type="cluster", cov_kwds={"groups": clusters}).tvalues[1]
    vectors = np.array(list(itertools.product([1.0, -1.0], repeat=5)))
    t_star = [
        sm.OLS(ys, X).fit(cov_type="cluster", cov_kwds={"groups": clusters}).tvalues[1]
        for ys in _restricted_draws(X, y, clusters, 1, vectors)
    ]
    expected = np.mean(np.abs(t_star) >= abs(t_obs) - 1e-9)
    r = wild_cluster_bootstrap(X, y, clusters, coef=1, n_resamples=100, weights="rademacher")
    assert r.enumerated and r.n_resamples == 32
    assert r.t == pytest.approx(t_obs, abs=1e-10)
    assert r.p == pytest.approx(expected, abs=1e-12)


def test_wild_bootstrap_cr2_enumeration_matches_loop():
    rng = np.random.default_rng(22)
    X, y, clusters = _clustered_data(rng, [3, 5, 2, 6, 4, 7], p=2)
    t_obs = cr2_test(cr2_ols(X, y, clusters), [0, 1]).t
    vectors = np.array(list(itertools.product([1.0, -1.0], repeat=6)))
    t_star = [cr2_test(cr2_ols(X, ys, clusters), [0, 1]).t for ys in _restricted_draws(X, y, clusters, 1, vectors)]
    r = wild_cluster_bootstrap(X, y, clusters, coef=1, n_resamples=100, weights="rademacher", studentize="CR2")
    assert r.p == pytest.approx(np.mean(np.abs(t_star) >= abs(t_obs) - 1e-9), abs=1e-12)


def test_wild_bootstrap_agrees_with_wildboottest():
    wbt = pytest.importorskip("wildboottest.wildboottest")
    rng = np.random.default_rng(23)
    X, y, clusters = _clustered_data(rng, [30, 12, 25, 18, 40, 22, 15, 35, 28, 20], p=2, icc=0.1)
    y = y + 0.45 * X[:, 1]  # slope -0.05: a small effect, so p is away from 0 and 1
    boot = wbt.WildboottestCL(X=X, Y=y, cluster=clusters, R=np.array([0.0, 1.0]), B=9999, seed=5, parallel=False)
    boot.get_scores(bootstrap_type="11", impose_null=True)
    boot.get_weights(weights_type="webb")
    boot.get_numer()
    boot.get_denom()
    boot.get_tboot()
    boot.get_vcov()
    boot.get_tstat()
    boot.get_pvalue(pval_type="two-tailed")
    ours = wild_cluster_bootstrap(X, y, clusters, coef=1, n_resamples=9999, rng=np.random.default_rng(6))
    assert ours.weights == "webb" and not ours.enumerated
    assert ours.t == pytest.approx(float(np.ravel(boot.t_stat)[0]), rel=1e-8)
    p_ref = float(boot.pvalue)
    assert 0.02 < p_ref < 0.98
    assert abs(ours.p - p_ref) < 4 * math.sqrt(2 * p_ref * (1 - p_ref) / 9999)
