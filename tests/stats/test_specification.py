"""The multiverse's statistics: the grid, the claim estimates against the toolkit's own tests, the
variance decomposition against statsmodels' ANOVA, and verdicts with planted answers."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest

from analysis.stats.clustered import outlet_permutation_test
from analysis.stats.groups import keyed_rng, permutation_test
from analysis.stats.specification import (
    claim_estimates,
    specification_grid,
    specification_summary,
    specification_values,
    variance_decomposition,
)

FACTORS = {
    "segmenter": ["underthesea", "pyvi"],
    "denominator": ["sentences", "tokens", "presence"],
    "lemmatize_en": [True, False],
}
BASE = {"segmenter": "underthesea", "denominator": "sentences", "lemmatize_en": True}


def test_the_grid_is_the_full_factorial_in_order_with_the_baseline_marked():
    grid = specification_grid(FACTORS, baseline=BASE)
    assert len(grid) == 12 and grid["spec"].tolist() == list(range(1, 13))
    assert grid.loc[grid["baseline"], "spec"].tolist() == [1]
    assert grid["lemmatize_en"].tolist()[:2] == ["true", "false"]
    typed = specification_values(grid, FACTORS)
    assert typed[1] == {"segmenter": "underthesea", "denominator": "sentences", "lemmatize_en": False}
    assert len({tuple(sorted(v.items())) for v in typed}) == 12


def test_a_random_subset_is_seeded_keeps_the_baseline_and_the_full_grids_numbers():
    a = specification_grid(FACTORS, baseline={**BASE, "segmenter": "pyvi"}, subset=5, seed=7)
    b = specification_grid(FACTORS, baseline={**BASE, "segmenter": "pyvi"}, subset=5, seed=7)
    assert a.equals(b) and len(a) == 5
    assert a["baseline"].sum() == 1 and a.loc[a["baseline"], "spec"].item() == 7  # pyvi, sentences, true
    assert a["spec"].is_monotonic_increasing and set(a["spec"]) <= set(range(1, 13))
    assert not specification_grid(FACTORS, baseline=BASE, subset=5, seed=8)["spec"].equals(a["spec"])
    with pytest.raises(ValueError):
        specification_grid(FACTORS, subset=13)


def test_document_estimates_match_the_toolkits_permutation_test_and_welch():
    rng = np.random.default_rng(3)
    x = rng.gamma(1.0, 2.0, size=(9, 2))
    labels = ["vi"] * 5 + ["en"] * 4
    table = claim_estimates(x, ["a", "b"], labels, a="vi", b="en", n_permutations=200, seed=1)
    for j in range(2):
        row = table.iloc[j]
        xa, xb = x[:5, j], x[5:, j]
        assert row["difference"] == pytest.approx(xa.mean() - xb.mean())
        sd = math.sqrt((4 * xa.var(ddof=1) + 3 * xb.var(ddof=1)) / 7)
        assert row["estimate"] == pytest.approx((xa.mean() - xb.mean()) / sd)
        from scipy import stats

        welch = stats.ttest_ind(xa, xb, equal_var=False).confidence_interval(0.95)
        assert (row["ci_low"], row["ci_high"]) == pytest.approx((welch.low, welch.high))
        # 126 splits: the toolkit's test is exact there; ours draws 200 random ones, so within Monte Carlo error
        exact, _, is_exact = permutation_test(xa, xb, n_resamples=1000, rng=np.random.default_rng(0))
        assert is_exact and abs(row["p"] - exact) < 0.12
    assert table["p_unit"].unique().tolist() == ["documents"]


def test_outlet_estimates_are_the_outlet_permutation_test_and_a_single_outlet_gets_no_p():
    rng = np.random.default_rng(4)
    values = rng.normal(size=(12, 1)) + np.repeat([1.0, 1.2, 0.8, 0.0, 0.1, -0.2], 2)[:, None]
    labels = ["vi"] * 6 + ["en"] * 6
    outlets = list(np.repeat(["A", "B", "C", "D", "E", "F"], 2))
    table = claim_estimates(values, ["x"], labels, a="vi", b="en", clusters=outlets, n_permutations=99, seed=5)
    expected = outlet_permutation_test(
        values[:, 0],
        labels,
        outlets,
        a="vi",
        b="en",
        n_resamples=99,
        rng=keyed_rng(5, "multiverse", "outlet-permutation", "x", "vi", "en"),
    )
    assert table["p_unit"].item() == "outlets" and table["p"].item() == pytest.approx(expected.p)
    assert table["ci_low"].item() < table["difference"].item() < table["ci_high"].item()
    one = claim_estimates(values, ["x"], labels, a="vi", b="en", clusters=["A"] * 6 + list("DDEEFF"), seed=5)
    assert one["p_unit"].item() == "none" and math.isnan(one["p"].item()) and math.isnan(one["ci_low"].item())


def test_variance_decomposition_matches_statsmodels_type_ii_anova():
    smf = pytest.importorskip("statsmodels.formula.api")
    sm = pytest.importorskip("statsmodels.api")
    rng = np.random.default_rng(9)
    rows = list(itertools.product(["a", "b"], ["x", "y", "z"], ["u", "v"]))
    design = pd.DataFrame(rows, columns=["f", "g", "h"])
    y = (design["f"] == "b") * 2.0 + design["g"].map({"x": 0.0, "y": 0.5, "z": -0.3}) + rng.normal(0, 0.3, len(rows))
    ours = variance_decomposition(y.to_numpy(), design).set_index("factor")
    fit = smf.ols("y ~ C(f) + C(g) + C(h)", data=design.assign(y=y)).fit()
    anova = sm.stats.anova_lm(fit, typ=2)
    total = float(((y - y.mean()) ** 2).sum())
    for name, term in (("f", "C(f)"), ("g", "C(g)"), ("h", "C(h)")):
        assert ours.loc[name, "sum_sq"] == pytest.approx(anova.loc[term, "sum_sq"])
    assert ours.loc["interactions and rest", "sum_sq"] == pytest.approx(anova.loc["Residual", "sum_sq"])
    assert ours["share"].sum() == pytest.approx(1.0)  # balanced: the parts add up
    assert ours["sum_sq"].sum() == pytest.approx(total)


def _planted(effect) -> pd.DataFrame:
    """Estimates of one claim over FACTORS, with the estimate and q a function of the specification."""
    grid = specification_grid(FACTORS, baseline=BASE)
    rows = []
    for row, values in zip(grid.to_dict("records"), specification_values(grid, FACTORS)):
        estimate, q = effect(values, row["spec"])
        rows.append(
            {
                "claim": "frame:x",
                **row,
                "estimate": estimate,
                "ci_low": estimate - 0.1,
                "ci_high": estimate + 0.1,
                "q": q,
            }
        )
    return pd.DataFrame(rows)


def test_a_planted_effect_that_survives_every_choice_is_robust():
    estimates = _planted(lambda v, s: (1.0 + 0.01 * s + (0.2 if v["segmenter"] == "pyvi" else 0.0), 0.001))
    summary, decomposition = specification_summary(estimates, list(FACTORS))
    row = summary.iloc[0]
    assert row["verdict"] == "robust" and row["share_same_sign"] == 1.0 and row["share_significant"] == 1.0
    assert row["moves_estimate_most"] == "segmenter"
    assert row["range"] == pytest.approx(0.2 + 0.11)


def test_an_effect_that_depends_on_one_choice_names_it():
    # the study's own (per sentence) effect holds per token too, and vanishes with presence
    estimates = _planted(lambda v, s: (0.8, 0.01) if v["denominator"] != "presence" else ((-1) ** s * 0.02, 0.6))
    summary, decomposition = specification_summary(estimates, list(FACTORS))
    row = summary.iloc[0]
    assert row["share_significant"] == pytest.approx(8 / 12)
    assert row["verdict"] == "depends on denominator"
    assert row["moves_support_most"] == "denominator" and row["moves_support_share"] == pytest.approx(1.0)
    assert row["moves_estimate_most"] == "denominator" and row["moves_estimate_share"] > 0.95
    support = decomposition[(decomposition["quantity"] == "support")].set_index("factor")["share"]
    assert support["segmenter"] == 0.0 and support["lemmatize_en"] == 0.0


def test_a_claim_never_significant_says_so():
    summary, _ = specification_summary(_planted(lambda v, s: (0.1, 0.5)), list(FACTORS))
    assert summary["verdict"].item() == "not significant in any specification"
    assert summary["share_same_sign"].item() == 1.0


def test_thresholds_are_checked():
    with pytest.raises(ValueError):
        specification_summary(_planted(lambda v, s: (0.1, 0.5)), list(FACTORS), sign_share=1.5)
