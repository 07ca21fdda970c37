"""Krippendorff's alpha, disagreements and reference codes (analysis/validation/agreement.py)."""

from fractions import Fraction

import krippendorff
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.validation.agreement import alpha_table, disagreements, krippendorff_alpha, reference_codes

NAN = np.nan
# Krippendorff (2011), "Computing Krippendorff's alpha-reliability", section C (data checked against
# the paper's table as reproduced in public implementations): observers A-D (columns) × 12 units.
K2011 = np.array(
    [
        [1, 1, NAN, 1],
        [2, 2, 3, 2],
        [3, 3, 3, 3],
        [3, 3, 3, 3],
        [2, 2, 2, 2],
        [1, 2, 3, 4],
        [4, 4, 4, 4],
        [1, 1, 2, 1],
        [2, 2, 2, 2],
        [NAN, 5, 5, 5],
        [NAN, NAN, 1, 1],
        [NAN, 3, NAN, NAN],
    ]
)


def test_textbook_example_nominal_alpha_is_0743():
    assert round(krippendorff_alpha(K2011), 3) == 0.743
    # the paper's exact value: 1 - (n - 1) D_o / sum n_c n_k with n = 40, D_o = 10 - ... = 113/152
    assert krippendorff_alpha(K2011) == pytest.approx(float(Fraction(113, 152)), abs=1e-12)


def random_table(rng, units, coders, values, missing):
    data = rng.integers(0, values, size=(units, coders)).astype(float)
    data[rng.random(data.shape) < missing] = np.nan
    return data


@pytest.mark.parametrize("seed", range(12))
def test_equal_to_krippendorff_package_nominal(seed):
    rng = np.random.default_rng(seed)
    data = random_table(rng, int(rng.integers(5, 60)), int(rng.integers(2, 6)), int(rng.integers(2, 6)), 0.3)
    if len(np.unique(data[(~np.isnan(data)).sum(axis=1)[:, None].repeat(data.shape[1], 1) >= 2])) < 2:
        pytest.skip("degenerate draw")
    ours = krippendorff_alpha(data)
    ref = krippendorff.alpha(reliability_data=data.T, level_of_measurement="nominal")
    assert ours == pytest.approx(ref, abs=1e-12)


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_binary_alpha_equals_package_on_arbitrary_tables(data):
    units = data.draw(st.integers(3, 25))
    coders = data.draw(st.integers(2, 4))
    cells = data.draw(st.lists(st.sampled_from([0.0, 1.0, NAN]), min_size=units * coders, max_size=units * coders))
    table = np.array(cells).reshape(units, coders)
    pairable = (~np.isnan(table)).sum(axis=1) >= 2
    values = table[pairable]
    if len(np.unique(values[~np.isnan(values)])) < 2:
        assert np.isnan(krippendorff_alpha(table, level="binary"))
        return
    ref = krippendorff.alpha(reliability_data=table.T, level_of_measurement="nominal")
    assert krippendorff_alpha(table, level="binary") == pytest.approx(ref, abs=1e-12)


def test_binary_rejects_non_binary_codes():
    with pytest.raises(ValueError, match="0/1"):
        krippendorff_alpha(K2011, level="binary")


def long_codes(n=80, seed=0, noise=(0.1, 0.3)):
    rng = np.random.default_rng(seed)
    truth = rng.random(n) < 0.4
    language = np.where(np.arange(n) < n // 2, "vi", "en")
    rows = []
    for coder in ("a", "b", "c"):
        flip = rng.random(n) < np.where(language == "vi", noise[0], noise[1])
        for i in range(n):
            rows.append({"unit_id": f"u{i}", "coder": coder, "language": language[i], "econ": int(truth[i] ^ flip[i])})
    return pd.DataFrame(rows)


def test_alpha_table_matches_package_per_language_and_interval_covers_estimate():
    codes = long_codes()
    table = alpha_table(codes, frames=["econ"], seed=1, n_boot=300)
    for _, row in table.iterrows():
        sub = codes[codes["language"] == row["language"]].pivot(index="unit_id", columns="coder", values="econ")
        ref = krippendorff.alpha(reliability_data=sub.to_numpy(float).T, level_of_measurement="nominal")
        assert row["alpha"] == pytest.approx(ref, abs=1e-12)
        assert row["low"] <= row["alpha"] <= row["high"]
    alphas = table.set_index("language")["alpha"]
    assert alphas["vi"] > alphas["en"]  # less coder noise in vi by construction
    again = alpha_table(codes, frames=["econ"], seed=1, n_boot=300)
    pd.testing.assert_frame_equal(table, again)


def test_bootstrap_interval_covers_the_population_alpha_in_repeated_samples():
    # population alpha of two coders who each flip a 0/1 code with prob. e around prevalence p:
    # computed from the expected coincidence matrix by the same formula on a large table
    big = long_codes(n=20000, seed=99, noise=(0.15, 0.15))
    big = big[big["coder"] != "c"]
    target = krippendorff.alpha(
        reliability_data=big.pivot(index="unit_id", columns="coder", values="econ").to_numpy(float).T,
        level_of_measurement="nominal",
    )
    hits = 0
    reps = 40
    for s in range(reps):
        codes = long_codes(n=120, seed=1000 + s, noise=(0.15, 0.15))
        codes = codes[codes["coder"] != "c"].assign(language="vi")
        row = alpha_table(codes, frames=["econ"], seed=s, n_boot=200).iloc[0]
        hits += row["low"] <= target <= row["high"]
    assert hits / reps >= 0.85


def test_disagreements_list_exactly_the_split_cells():
    codes = long_codes(n=30, seed=3)
    listed = disagreements(codes, frames=["econ"])
    wide = codes.pivot(index="unit_id", columns="coder", values="econ")
    expected = set(wide.index[wide.nunique(axis=1) > 1])
    assert set(listed["unit_id"]) == expected
    for _, row in listed.iterrows():
        assert [row[c] for c in "abc"] == wide.loc[row["unit_id"], list("abc")].tolist()


def test_reference_codes_majority_ties_and_adjudication():
    codes = pd.DataFrame(
        {
            "unit_id": ["x", "x", "y", "y", "z", "z", "z", "w"],
            "coder": ["a", "b", "a", "b", "a", "b", "c", "a"],
            "language": ["vi", "vi", "en", "en", "en", "en", "en", "vi"],
            "econ": [1, 1, 1, 0, 0, 0, 1, np.nan],
        }
    )
    ref = reference_codes(codes, frames=["econ"]).set_index("unit_id")
    assert ref.loc["x", "reference"] == 1 and ref.loc["x", "source"] == "unanimous"
    assert pd.isna(ref.loc["y", "reference"]) and ref.loc["y", "source"] == "tie"
    assert ref.loc["z", "reference"] == 0 and ref.loc["z", "source"] == "majority"
    assert pd.isna(ref.loc["w", "reference"]) and ref.loc["w", "source"] == "uncoded"
    adj = pd.DataFrame({"unit_id": ["y", "z"], "frame": ["econ", "econ"], "code": [1, 1]})
    ref2 = reference_codes(codes, frames=["econ"], adjudicated=adj).set_index("unit_id")
    assert (
        ref2.loc["y", "reference"] == 1 and ref2.loc["z", "reference"] == 1 and ref2.loc["z", "source"] == "adjudicated"
    )


@pytest.mark.parametrize(
    "bad, message",
    [
        (lambda c: c.drop(columns="coder"), "no column 'coder'"),
        (lambda c: c.assign(econ=2), "must hold 0, 1 or blank"),
        (lambda c: pd.concat([c, c.head(1)]), "more than one row"),
    ],
)
def test_bad_codes_raise_value_error(bad, message):
    with pytest.raises(ValueError, match=message):
        reference_codes(bad(long_codes(n=10)), frames=["econ"])
    with pytest.raises(ValueError, match=message):
        alpha_table(bad(long_codes(n=10)), frames=["econ"], seed=0, n_boot=5)


def test_bad_adjudication_raises():
    with pytest.raises(ValueError, match="not in frames"):
        reference_codes(
            long_codes(n=10),
            frames=["econ"],
            adjudicated=pd.DataFrame({"unit_id": ["u1"], "frame": ["conflict"], "code": [1]}),
        )
