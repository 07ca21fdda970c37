"""Coding-budget planner (analysis/validation/planner.py): closed form against simulation."""

import numpy as np
import pandas as pd
import pytest

from analysis.validation.dsl import dsl_prevalence
from analysis.validation.planner import dsl_mean_variance, pilot_assumptions, plan_coding_budget

Z = 1.959963984540054
ASSUME = pd.DataFrame(
    {
        "language": ["vi", "en"],
        "prevalence": [0.10, 0.25],
        "precision": [0.35, 0.55],
        "recall": [0.90, 0.75],
        "n_units": [3000, 1500],
    }
)


def simulate(assumptions, n_coded, reps, rng, variance):
    """Fresh population per replicate with the assumed rates; balanced coding within each language."""
    ests, widths = [], []
    for _ in range(reps):
        frames = []
        for _, a in assumptions.iterrows():
            n = int(a["n_units"])
            y = rng.random(n) < a["prevalence"]
            q = a["prevalence"] * a["recall"] / a["precision"]
            fpr = (q - a["prevalence"] * a["recall"]) / (1 - a["prevalence"])
            yhat = np.where(y, rng.random(n) < a["recall"], rng.random(n) < fpr).astype(int)
            coded = np.zeros(n, bool)
            pi = np.empty(n)
            for h in (0, 1):
                rows = np.flatnonzero(yhat == h)
                k = min(n_coded[a["language"]] // 2, len(rows))
                coded[rng.choice(rows, k, replace=False)] = True
                pi[rows] = k / len(rows)
            frames.append(
                pd.DataFrame(
                    {
                        "language": a["language"],
                        "yhat": yhat,
                        "pi": pi,
                        "stratum": yhat,
                        "y": np.where(coded, y.astype(float), np.nan),
                    }
                )
            )
        row = dsl_prevalence(
            pd.concat(frames, ignore_index=True), outcome="y", predicted="yhat", pi="pi", variance=variance
        ).iloc[2]
        ests.append(row["estimate"])
        widths.append(row["high"] - row["estimate"])
    return np.std(ests), np.mean(widths)


@pytest.mark.parametrize("variance", ["stratified", "sandwich"])
def test_predicted_half_width_within_20_percent_of_simulated(variance):
    plan = plan_coding_budget(ASSUME, half_width=0.04, variance=variance).set_index("language")
    n = {lang: int(plan.loc[lang, "n_coded"]) for lang in ("vi", "en")}
    sd, width = simulate(ASSUME, n, 250, np.random.default_rng(11), variance)
    predicted = plan.loc["total", "half_width"]
    assert predicted <= 0.04
    assert width == pytest.approx(predicted, rel=0.2)  # the interval the analyst will see
    if variance == "stratified":
        assert Z * sd == pytest.approx(predicted, rel=0.2)  # and the real spread of the estimate


def test_variance_by_hand_and_limits():
    v = dsl_mean_variance(prevalence=0.3, precision=0.6, recall=0.8, n_units=1000, allocation={"hit": 50, "none": 50})
    q = 0.3 * 0.8 / 0.6
    e_none = 0.3 * 0.2 / (1 - q)
    hand = (
        0.21 / 1000
        + q**2 * (1 / 50 - 1 / (q * 1000)) * 0.24
        + (1 - q) ** 2 * (1 / 50 - 1 / ((1 - q) * 1000)) * e_none * (1 - e_none)
    )
    assert v == pytest.approx(hand, rel=1e-12)
    # coding everything leaves only the corpus's own sampling error
    assert dsl_mean_variance(prevalence=0.3, precision=0.6, recall=0.8, n_units=1000, n_coded=1000) == pytest.approx(
        0.21 / 1000
    )
    # a perfect dictionary needs no coding
    assert dsl_mean_variance(prevalence=0.3, precision=1, recall=1, n_units=1000, n_coded=10) == pytest.approx(
        0.21 / 1000
    )
    # the sandwich is never narrower than the exact stratified variance
    assert dsl_mean_variance(
        prevalence=0.3, precision=0.6, recall=0.8, n_units=1000, n_coded=100, variance="sandwich"
    ) > dsl_mean_variance(prevalence=0.3, precision=0.6, recall=0.8, n_units=1000, n_coded=100)


def test_optimal_split_needs_no_more_units_than_equal_and_meets_the_target():
    equal = plan_coding_budget(ASSUME, half_width=0.04).set_index("language")
    optimal = plan_coding_budget(ASSUME, half_width=0.04, split="optimal").set_index("language")
    assert optimal.loc["total", "n_coded"] <= equal.loc["total", "n_coded"]
    assert optimal.loc["total", "half_width"] <= 0.04
    assert optimal.loc["vi", "n_coded"] != optimal.loc["en", "n_coded"]


def test_pilot_assumptions_feed_the_planner():
    acc = pd.DataFrame(
        {
            "language": ["vi", "en", "vi"],
            "frame": ["econ", "econ", "other"],
            "precision": [0.35, 0.55, 0.9],
            "recall": [0.9, 0.75, 0.9],
        }
    )
    prev = pd.DataFrame({"quantity": ["vi", "en", "vi - en"], "estimate": [0.10, 0.25, -0.15]})
    a = pilot_assumptions(acc, prev, frame="econ", n_units={"vi": 3000, "en": 1500})
    pd.testing.assert_frame_equal(a.set_index("language").loc[["vi", "en"]].reset_index(), ASSUME, check_dtype=False)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(half_width=0.0001), "below what coding every unit gives"),
        (dict(half_width=0.05, split="best"), "split must be"),
        (dict(half_width=0.05, allocation="neyman"), "allocation must be"),
    ],
)
def test_bad_plans_raise(kwargs, message):
    with pytest.raises(ValueError, match=message):
        plan_coding_budget(ASSUME, **kwargs)


def test_bad_assumptions_raise():
    with pytest.raises(ValueError, match="no column 'recall'"):
        plan_coding_budget(ASSUME.drop(columns="recall"), half_width=0.05)
    with pytest.raises(ValueError, match="more hits than units"):
        dsl_mean_variance(prevalence=0.8, precision=0.5, recall=0.9, n_units=100, n_coded=10)
