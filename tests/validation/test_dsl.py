"""The DSL estimator (analysis/validation/dsl.py): references, simulation, properties."""

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.validation.dsl import cross_fit_predictions, dsl_prevalence, dsl_regression, pseudo_outcome
from analysis.validation.sampling import draw_coding_sample, inclusion_probabilities


def population(rng, n_per=2000, prevalence=(0.35, 0.25), accuracy=(0.85, 0.70), outlets=0):
    """Planted differential error: the dictionary is right with probability `accuracy` per language."""
    frames = []
    for lang, p, acc in zip(("vi", "en"), prevalence, accuracy):
        y = (rng.random(n_per) < p).astype(int)
        yhat = np.where(rng.random(n_per) < acc, y, 1 - y)
        frames.append(pd.DataFrame({"language": lang, "y_true": y, "yhat": yhat}))
    data = pd.concat(frames, ignore_index=True)
    data["unit_id"] = np.char.add("d", np.char.zfill(np.arange(len(data)).astype(str), 5))
    data["is_vi"] = (data["language"] == "vi").astype(int)
    if outlets:
        data["outlet"] = data["language"] + rng.integers(0, outlets, len(data)).astype(str)
    return data


def code_sample(data, per_language, seed, stratified=True):
    """Code `per_language` units per language (half hit, half no hit, or simple random within language)."""
    hit = ["yhat"] if stratified else ["none"]
    units = data.assign(none=0)
    sizes = None
    if stratified:
        sizes = {f"{lang}|{s}": per_language // 2 for lang in ("vi", "en") for s in ("hit", "none")}
    else:
        sizes = {f"{lang}|none": per_language for lang in ("vi", "en")}
    sample, design = draw_coding_sample(units, hit_columns=hit, sizes=sizes, seed=seed)
    probs = inclusion_probabilities(units, design)
    out = data.copy()
    out["pi"] = probs["pi"].to_numpy()
    out["stratum"] = probs["stratum"].to_numpy()
    out["y"] = np.where(out["unit_id"].isin(sample["unit_id"]), out["y_true"], np.nan)
    return out


def fast_code(data, per_language, rng):
    """As code_sample (half of the coded units among hits, half among non-hits), in numpy for simulation loops."""
    out = data.copy()
    pi = np.empty(len(out))
    coded = np.zeros(len(out), bool)
    key = 2 * (out["language"].to_numpy() == "vi") + out["yhat"].to_numpy()
    for h in np.unique(key):
        rows = np.flatnonzero(key == h)
        k = min(per_language // 2, len(rows))
        coded[rng.choice(rows, k, replace=False)] = True
        pi[rows] = k / len(rows)
    out["pi"], out["stratum"] = pi, key
    out["y"] = np.where(coded, out["y_true"], np.nan)
    return out


def test_pseudo_outcome_by_hand():
    assert pseudo_outcome([1, np.nan, 0, 1], [0, 1, 1, 1], [1, 0, 1, 1], [0.5, 0.5, 0.25, 0.1]).tolist() == [
        2.0,
        1.0,
        -3.0,
        1.0,
    ]


def test_prevalence_difference_by_hand():
    data = pd.DataFrame(
        {
            "y": [1, np.nan, 0, np.nan, 1, 0, np.nan],
            "yhat": [0, 1, 1, 0, 1, 1, 0],
            "pi": [0.5, 0.5, 0.25, 0.5, 0.5, 0.5, 0.5],
            "language": ["vi"] * 4 + ["en"] * 3,
        }
    )
    t = dsl_prevalence(data, outcome="y", predicted="yhat", pi="pi").set_index("quantity")
    vi = np.array([2, 1, -3, 0.0])  # 0+2*1, 1, 1+4*(0-1), 0
    en = np.array([1, 1 + 2 * (0 - 1), 0.0])  # 1, -1, 0
    assert t.loc["vi", "estimate"] == pytest.approx(vi.mean()) and t.loc["en", "estimate"] == pytest.approx(en.mean())
    se = np.sqrt(vi.var() / 4 + en.var() / 3)
    assert t.loc["vi - en", "estimate"] == pytest.approx(vi.mean() - en.mean())
    assert t.loc["vi - en", "se"] == pytest.approx(se)
    assert t.loc["vi - en", "naive"] == pytest.approx(0.5 - 2 / 3)
    assert t.loc["vi - en", "high"] - t.loc["vi - en", "estimate"] == pytest.approx(1.959963984540054 * se)


@pytest.mark.parametrize("variance", ["sandwich", "stratified"])
def test_a_language_from_one_cluster_has_no_interval_not_a_zero_width_one(variance):
    # en: three sentences of one document; vi: four sentences of two documents
    data = pd.DataFrame(
        {
            "y": [1, np.nan, 0, 1, 1, 0, 1],
            "yhat": [0, 1, 1, 1, 1, 1, 1],
            "pi": [0.5, 0.5, 0.5, 0.5, 1.0, 1.0, 1.0],
            "stratum": ["a", "a", "a", "a", "b", "b", "b"],
            "doc": ["d1", "d1", "d2", "d2", "d3", "d3", "d3"],
            "language": ["vi"] * 4 + ["en"] * 3,
        }
    )
    t = dsl_prevalence(data, outcome="y", predicted="yhat", pi="pi", cluster="doc", variance=variance)
    t = t.set_index("quantity")
    assert t.loc["en", "estimate"] == pytest.approx(2 / 3) and t.loc["en", "naive"] == pytest.approx(1.0)
    assert t[["se", "low", "high", "naive_se"]].loc[["en", "vi - en"]].isna().all().all()
    assert np.isfinite(t.loc["vi", "se"]) and t.loc["vi", "se"] > 0  # two documents: estimable


def test_ols_matches_statsmodels_on_the_pseudo_outcome_hc0_and_cluster():
    rng = np.random.default_rng(0)
    data = code_sample(population(rng, outlets=6), 200, seed=1)
    data["length"] = rng.normal(size=len(data))
    fit = dsl_regression(data, outcome="y", predicted="yhat", pi="pi", covariates=["is_vi", "length"])
    target = pseudo_outcome(data["y"], data["yhat"], data["y"].notna(), data["pi"])
    x = sm.add_constant(data[["is_vi", "length"]].to_numpy(float))
    ref = sm.OLS(target, x).fit(cov_type="HC0")
    assert np.allclose(fit.table["estimate"], ref.params, atol=1e-10)
    assert np.allclose(fit.vcov.to_numpy(), ref.cov_params(), atol=1e-12)
    naive = sm.OLS(data["yhat"].to_numpy(float), x).fit(cov_type="HC0")
    assert np.allclose(fit.table["naive_se"], naive.bse, atol=1e-12)
    clustered = dsl_regression(
        data, outcome="y", predicted="yhat", pi="pi", covariates=["is_vi", "length"], cluster="outlet"
    )
    ref_c = sm.OLS(target, x).fit(
        cov_type="cluster", cov_kwds={"groups": pd.factorize(data["outlet"])[0], "use_correction": False}
    )
    assert np.allclose(clustered.vcov.to_numpy(), ref_c.cov_params(), atol=1e-12)
    assert clustered.clusters == 12


def test_logit_matches_statsmodels_when_everything_is_coded():
    rng = np.random.default_rng(3)
    data = population(rng, n_per=500)
    data["y"], data["pi"] = data["y_true"], 1.0
    fit = dsl_regression(data, outcome="y", predicted="yhat", pi="pi", covariates=["is_vi"], family="logit")
    x = sm.add_constant(data[["is_vi"]].to_numpy(float))
    ref = sm.Logit(data["y"].to_numpy(float), x).fit(disp=0, cov_type="HC0")
    assert np.allclose(fit.table["estimate"], ref.params, atol=1e-8)
    assert np.allclose(fit.vcov.to_numpy(), ref.cov_params(), atol=1e-10)


def test_logit_dsl_solves_its_estimating_equation_and_matches_the_prevalence_difference():
    rng = np.random.default_rng(4)
    data = code_sample(population(rng), 200, seed=2)
    fit = dsl_regression(data, outcome="y", predicted="yhat", pi="pi", covariates=["is_vi"], family="logit")
    b = fit.table["estimate"].to_numpy()
    # with one dummy, the logit DSL's fitted probabilities are the two DSL prevalences
    prev = dsl_prevalence(data, outcome="y", predicted="yhat", pi="pi").set_index("quantity")["estimate"]
    expit = lambda t: 1 / (1 + np.exp(-t))  # noqa: E731
    assert expit(b[0]) == pytest.approx(prev["en"], abs=1e-9)
    assert expit(b[0] + b[1]) == pytest.approx(prev["vi"], abs=1e-9)


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 10_000))
def test_perfect_dictionary_corrected_equals_naive(seed):
    rng = np.random.default_rng(seed)
    data = population(rng, n_per=300, accuracy=(1.0, 1.0))
    data = code_sample(data, 40, seed=seed)
    t = dsl_prevalence(data, outcome="y", predicted="yhat", pi="pi")
    assert np.allclose(t["estimate"], t["naive"]) and np.allclose(t["se"], t["naive_se"])
    fit = dsl_regression(data, outcome="y", predicted="yhat", pi="pi", covariates=["is_vi"])
    assert np.allclose(fit.table["estimate"], fit.table["naive"])


def simulate_coverage(reps, per_language=200, variance="sandwich", seed=0):
    rng = np.random.default_rng(seed)
    truth = 0.35 - 0.25
    hits = {"dsl": 0, "naive": 0}
    widths = []
    estimates = []
    for s in range(reps):
        data = fast_code(population(rng), per_language, rng)
        row = dsl_prevalence(data, outcome="y", predicted="yhat", pi="pi", variance=variance).iloc[2]
        hits["dsl"] += row["low"] <= truth <= row["high"]
        hits["naive"] += row["naive_low"] <= truth <= row["naive_high"]
        widths.append(row["high"] - row["estimate"])
        estimates.append(row["estimate"])
    return hits["dsl"] / reps, hits["naive"] / reps, np.mean(widths), np.std(estimates)


def test_planted_differential_error_corrected_ci_covers_and_naive_does_not():
    # dictionary accuracy 85% in vi, 70% in en; 200 coded units per language; true difference 0.10
    coverage, naive_coverage, _, _ = simulate_coverage(400)
    assert coverage >= 0.93
    assert naive_coverage < 0.2  # the naive difference (about 0.395 - 0.40) is far from 0.10


def test_stratified_variance_is_narrower_and_still_covers():
    coverage, _, width, sd = simulate_coverage(300, variance="stratified", seed=1)
    _, _, sandwich_width, _ = simulate_coverage(50, variance="sandwich", seed=1)
    assert coverage >= 0.92
    assert width < sandwich_width
    assert width == pytest.approx(1.96 * sd, rel=0.15)


def test_cross_fitted_predictions_keep_the_estimate_unbiased_and_narrow_the_interval():
    rng = np.random.default_rng(7)
    ests, ses, raw_ses = [], [], []
    for s in range(60):
        data = fast_code(population(rng), 200, rng)
        data["p"] = cross_fit_predictions(data, outcome="y", features=["yhat", "is_vi"], seed=s, folds=5)
        t = dsl_prevalence(data, outcome="y", predicted="p", pi="pi").iloc[2]
        raw = dsl_prevalence(data, outcome="y", predicted="yhat", pi="pi").iloc[2]
        ests.append(t["estimate"])
        ses.append(t["se"])
        raw_ses.append(raw["se"])
    assert abs(np.mean(ests) - 0.10) < 3 * np.std(ests) / np.sqrt(60)
    assert np.mean(ses) < np.mean(raw_ses)


def test_fast_code_matches_the_package_sampler():
    data = population(np.random.default_rng(1), n_per=300)
    a = code_sample(data, 40, seed=0)
    b = fast_code(data, 40, np.random.default_rng(0))
    assert np.allclose(a["pi"], b["pi"]) and a["y"].notna().sum() == b["y"].notna().sum() == 80


def test_cross_fitted_prediction_of_a_unit_does_not_use_its_own_code():
    data = code_sample(population(np.random.default_rng(2), n_per=300), 100, seed=0)
    p = cross_fit_predictions(data, outcome="y", features=["yhat", "is_vi"], seed=3)
    i = int(np.flatnonzero(data["y"].notna())[0])
    flipped = data.copy()
    flipped.loc[i, "y"] = 1 - flipped.loc[i, "y"]
    q = cross_fit_predictions(flipped, outcome="y", features=["yhat", "is_vi"], seed=3)
    assert p[i] == q[i] and not np.allclose(p, q)


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda d: d.drop(columns="pi"), "no column 'pi'"),
        (lambda d: d.assign(pi=0.0), "inclusion probabilities"),
        (lambda d: d.assign(yhat=np.nan), "missing values"),
        (lambda d: d.assign(language="vi"), "no unit of"),
    ],
)
def test_bad_inputs_raise_value_error(change, message):
    data = code_sample(population(np.random.default_rng(0), n_per=100), 20, seed=0)
    with pytest.raises(ValueError, match=message):
        dsl_prevalence(change(data), outcome="y", predicted="yhat", pi="pi")


def test_collinear_covariates_raise():
    data = code_sample(population(np.random.default_rng(0), n_per=100), 20, seed=0)
    data["is_en"] = 1 - data["is_vi"]
    with pytest.raises(ValueError, match="collinear"):
        dsl_regression(data, outcome="y", predicted="yhat", pi="pi", covariates=["is_vi", "is_en"])
