"""Stratified coding sample and blind coder sheets (analysis/validation/sampling.py)."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.validation.sampling import assign_strata, coder_sheet, draw_coding_sample, inclusion_probabilities


def population(n=400, seed=0):
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "unit_id": [f"d{i:04d}" for i in range(n)],
            "language": rng.choice(["vi", "en"], n),
            "economy": rng.random(n) < 0.3,
            "conflict": rng.random(n) < 0.2,
        }
    )


def test_strata_counts_and_inclusion_probabilities_match_a_direct_count():
    units = population()
    sample, design = draw_coding_sample(units, hit_columns=["economy", "conflict"], size_per_stratum=25, seed=7)
    hit = units["economy"] | units["conflict"]
    for language in ("vi", "en"):
        for status, mask in (("hit", hit), ("none", ~hit)):
            h = f"{language}|{status}"
            n_pop = int(((units["language"] == language) & mask).sum())
            assert design.population[h] == n_pop
            assert design.sampled[h] == min(25, n_pop)
            drawn = sample[sample["stratum"] == h]
            assert len(drawn) == min(25, n_pop)
            assert np.allclose(drawn["pi"], min(25, n_pop) / n_pop)
            # every drawn unit really belongs to its stratum
            src = units.set_index("unit_id").loc[drawn["unit_id"]]
            assert (src["language"] == language).all() and (
                (src["economy"] | src["conflict"]) == (status == "hit")
            ).all()
    assert not sample["unit_id"].duplicated().any()


def test_same_seed_same_sample_whatever_the_row_order_and_another_seed_differs():
    units = population()
    a, da = draw_coding_sample(units, hit_columns=["economy"], size_per_stratum=20, seed=11)
    shuffled = units.sample(frac=1.0, random_state=3)
    b, db = draw_coding_sample(shuffled, hit_columns=["economy"], size_per_stratum=20, seed=11)
    c, dc = draw_coding_sample(units, hit_columns=["economy"], size_per_stratum=20, seed=12)
    assert a["unit_id"].tolist() == b["unit_id"].tolist() and da.draw_id == db.draw_id
    assert set(a["unit_id"]) != set(c["unit_id"]) and da.draw_id != dc.draw_id


def test_inclusion_probability_is_the_empirical_frequency_of_being_drawn():
    units = population(60, seed=1)
    counts = pd.Series(0.0, index=units["unit_id"])
    reps = 400
    for seed in range(reps):
        sample, design = draw_coding_sample(units, hit_columns=["economy"], size_per_stratum=5, seed=seed)
        counts[sample["unit_id"]] += 1
    pi = inclusion_probabilities(units, design).set_index("unit_id")["pi"]
    freq = counts / reps
    # binomial SE of a frequency over 400 draws is <= 0.025; the mean over a stratum is far tighter
    by_stratum = pd.DataFrame(
        {"pi": pi, "freq": freq, "h": inclusion_probabilities(units, design).set_index("unit_id")["stratum"]}
    )
    means = by_stratum.groupby("h")[["pi", "freq"]].mean()
    assert np.allclose(means["pi"], means["freq"], atol=0.02)


def test_each_stratifies_by_hit_pattern_and_sizes_are_checked():
    units = population()
    strata = assign_strata(units, hit_columns=["economy", "conflict"], stratify="each")
    assert set(strata.str.split("|").str[1]) <= {"00", "01", "10", "11"}
    sizes = {h: 3 for h in strata.unique()}
    sample, design = draw_coding_sample(
        units, hit_columns=["economy", "conflict"], sizes=sizes, seed=0, stratify="each"
    )
    assert len(sample) == 3 * len(sizes)
    with pytest.raises(ValueError, match="sizes must name exactly"):
        draw_coding_sample(units, hit_columns=["economy", "conflict"], sizes={"vi|00": 1}, seed=0, stratify="each")
    too_big = dict(sizes, **{next(iter(sizes)): 10_000})
    with pytest.raises(ValueError, match="between 0 and N_h"):
        draw_coding_sample(units, hit_columns=["economy", "conflict"], sizes=too_big, seed=0, stratify="each")


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda u: u.drop(columns="language"), "no column 'language'"),
        (lambda u: u.assign(economy=u["economy"].astype(int) * 3), "only 0/1"),
        (lambda u: pd.concat([u, u.head(1)]), "unique"),
    ],
)
def test_bad_units_raise_one_clear_value_error(change, message):
    with pytest.raises(ValueError, match=message):
        draw_coding_sample(change(population()), hit_columns=["economy"], size_per_stratum=3, seed=0)


def test_both_or_neither_size_and_non_int_seed_raise():
    units = population()
    with pytest.raises(ValueError, match="exactly one"):
        draw_coding_sample(units, hit_columns=["economy"], seed=0)
    with pytest.raises(ValueError, match="seed must be an int"):
        draw_coding_sample(units, hit_columns=["economy"], size_per_stratum=2, seed=np.random.default_rng(0))


def test_inclusion_probabilities_reject_another_population():
    units = population()
    _, design = draw_coding_sample(units, hit_columns=["economy"], size_per_stratum=5, seed=0)
    with pytest.raises(ValueError, match="differ from the design"):
        inclusion_probabilities(units.iloc[:-1], design)


def test_coder_sheet_is_blind_complete_and_ordered_per_coder():
    units = population()
    sample, design = draw_coding_sample(units, hit_columns=["economy", "conflict"], size_per_stratum=30, seed=5)
    texts = pd.Series({u: f"text of {u}" for u in units["unit_id"]})
    a = coder_sheet(sample, texts, design, frames=["economy", "conflict"], coder="A")
    a2 = coder_sheet(sample, texts, design, frames=["economy", "conflict"], coder="A")
    b = coder_sheet(sample, texts, design, frames=["economy", "conflict"], coder="B")
    assert sorted(a["unit_id"]) == sorted(sample["unit_id"]) == sorted(b["unit_id"])
    assert a["unit_id"].tolist() == a2["unit_id"].tolist() and a["unit_id"].tolist() != b["unit_id"].tolist()
    assert not {"stratum", "pi", "weight"} & set(a.columns)
    assert a[["economy", "conflict"]].isna().all().all()
    assert (a["text"] == "text of " + a["unit_id"]).all() and (a["draw_id"] == design.draw_id).all()
    # the shuffled order does not follow the sample's stratum order
    assert a["unit_id"].tolist() != sample["unit_id"].tolist()
    with pytest.raises(ValueError, match="no text"):
        coder_sheet(sample, texts.iloc[:5], design, frames=["economy"], coder="A")
    _, other = draw_coding_sample(units, hit_columns=["economy"], size_per_stratum=30, seed=6)
    with pytest.raises(ValueError, match="draw_id"):
        coder_sheet(sample, texts, other, frames=["economy"], coder="A")


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(2, 120),
    size=st.integers(0, 40),
    seed=st.integers(0, 2**32 - 1),
    share=st.floats(0.0, 1.0),
)
def test_inclusion_probabilities_sum_to_the_sample_size_and_weights_to_the_population(n, size, seed, share):
    rng = np.random.default_rng(seed)
    units = pd.DataFrame(
        {
            "unit_id": [f"u{i}" for i in range(n)],
            "language": rng.choice(["vi", "en"], n),
            "hit": rng.random(n) < share,
        }
    )
    sample, design = draw_coding_sample(units, hit_columns=["hit"], size_per_stratum=size, seed=seed)
    pi = inclusion_probabilities(units, design)["pi"]
    assert pi.sum() == pytest.approx(len(sample))  # sum_i pi_i = n (Lohr 2022, section 6.4)
    if size:  # every stratum drawn from: Horvitz-Thompson weights sum to N
        assert sample["weight"].sum() == pytest.approx(n)
    assert len(sample) == sum(min(size, k) for k in design.population.values())


def test_coder_sheet_shows_the_context_either_side_of_the_unit():
    units = population(40)
    sample, design = draw_coding_sample(units, hit_columns=["economy"], size_per_stratum=3, seed=2)
    texts = {u: f"sentence {u}" for u in units["unit_id"]}
    context = {u: (f"before {u}", f"after {u}") for u in units["unit_id"]}
    sheet = coder_sheet(sample, texts, design, frames=["economy"], coder="A", context=context)
    assert list(sheet.columns) == [
        "draw_id", "coder", "position", "unit_id", "language", "context_before", "text", "context_after", "economy"
    ]  # fmt: skip
    assert (sheet["context_before"] == "before " + sheet["unit_id"]).all()
    assert (sheet["context_after"] == "after " + sheet["unit_id"]).all()
    plain = coder_sheet(sample, texts, design, frames=["economy"], coder="A")
    assert plain["unit_id"].tolist() == sheet["unit_id"].tolist()  # the same order with or without context
    with pytest.raises(ValueError, match="context has no entry"):
        coder_sheet(sample, texts, design, frames=["economy"], coder="A", context={})
    with pytest.raises(ValueError, match="clash"):
        coder_sheet(sample, texts, design, frames=["context_before"], coder="A")
