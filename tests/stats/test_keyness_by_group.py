"""Statistics by group (analysis.framing.tables): hand-checked sums, keyed random streams, ValueError."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from analysis.framing import tables as g
from analysis.stats import keyness as kg
from analysis.stats.keyness import keyness
from analysis.topics import prevalence as tp

COUNTS = pd.DataFrame(
    {"hợp_tác": [4, 3, 0, 1, 2], "biển": [0, 1, 5, 4, 0], "ở": [1, 0, 0, 0, 6]}, index=["v1", "v2", "e1", "e2", "x1"]
)
GROUPS = {"v1": "vi", "v2": "vi", "e1": "en", "e2": "en", "x1": "other"}


def test_two_groups_sum_their_documents_and_match_keyness():
    two = {d: grp for d, grp in GROUPS.items() if grp != "other"}
    table = kg.keyness_by_group(COUNTS, two, order=["vi", "en"], min_docs=1, n_resamples=None)  # pooled-token p
    expected = keyness(np.array([7, 1, 1]), np.array([1, 9, 0]), ["hợp_tác", "biển", "ở"])
    assert list(table["comparison"].unique()) == ["vi vs en"]
    pd.testing.assert_frame_equal(table[expected.columns].reset_index(drop=True), expected)
    assert (table["n_a"] == 2).all() and not table["too_small"].any()


def test_default_p_permutes_documents_with_the_stage_defaults_and_stream():
    from analysis.stats.groups import keyed_rng
    from analysis.study.settings import FramingSettings

    assert (kg.KEYNESS_RESAMPLES, kg.KEYNESS_SEED) == (FramingSettings().permutations, FramingSettings().seed)
    two = {d: grp for d, grp in GROUPS.items() if grp != "other"}
    table = kg.keyness_by_group(COUNTS, two, order=["vi", "en"], min_docs=1)
    assert table["design"].eq("documents").all()
    # 2 + 2 documents: 6 splits, the observed one and its mirror are the most extreme -> p = 1/3 for hợp_tác
    assert table.set_index("term").loc["hợp_tác", "p"] == pytest.approx(1 / 3, abs=0.03)
    # the stage's stream: same seed, permutations and stream name give the stage's p exactly
    doc_ids, vocab = list(COUNTS.index), list(COUNTS.columns)
    stage = kg.keyness_comparisons(
        COUNTS.to_numpy(),
        doc_ids,
        vocab,
        two,
        order=["vi", "en"],
        correction="none",
        alpha0=100.0,
        n_resamples=200,
        rng=keyed_rng(7, "keyness", "concepts_by_language"),
    )
    mine = kg.keyness_by_group(
        COUNTS, two, order=["vi", "en"], min_docs=1, n_resamples=200, seed=7, stream="concepts_by_language"
    )
    np.testing.assert_array_equal(mine["p"].to_numpy(), stage[0].table["p"].to_numpy())


def test_more_groups_each_against_the_rest_and_small_groups_flagged():
    table = kg.keyness_by_group(COUNTS, pd.Series(GROUPS), min_docs=2)
    assert list(table["comparison"].unique()) == ["en vs rest", "other vs rest", "vi vs rest"]
    other = table[table["comparison"] == "other vs rest"]
    assert (
        (other["too_small"]).all()
        and other["note"].iloc[0]
        == "too small: other has 1 document (fewer than 2; below it, 95% intervals cover less than 93% in simulation)"
    )
    rest = other.set_index("term")["count_b"]
    assert rest["ở"] == 1 and rest["hợp_tác"] == 8


def test_swapping_the_groups_flips_every_sign():
    two = {d: grp for d, grp in GROUPS.items() if grp != "other"}
    ab = kg.keyness_by_group(COUNTS, two, order=["vi", "en"]).set_index("term")
    ba = kg.keyness_by_group(COUNTS, two, order=["en", "vi"]).set_index("term")
    for column in ("g2", "log_ratio", "fw_z"):
        np.testing.assert_allclose(ab[column], -ba.loc[ab.index, column])


def test_sparse_and_dense_counts_agree():
    doc_ids, vocab = list(COUNTS.index), list(COUNTS.columns)
    dense = kg.keyness_comparisons(COUNTS.to_numpy(), doc_ids, vocab, GROUPS)
    sparse = kg.keyness_comparisons(sp.csr_matrix(COUNTS.to_numpy()), doc_ids, vocab, GROUPS)
    for a, b in zip(dense, sparse):
        pd.testing.assert_frame_equal(a.table, b.table)


def test_top_keyness_per_comparison():
    table = kg.keyness_by_group(COUNTS, GROUPS, min_docs=1)
    top = kg.top_keyness(table, 1)
    assert top.groupby("comparison").size().max() <= 2
    assert set(top["comparison"]) <= set(table["comparison"])


def test_bad_parameters_raise_value_error():
    with pytest.raises(ValueError, match="correction"):
        kg.keyness_by_group(COUNTS, GROUPS, correction="continuity")
    with pytest.raises(ValueError, match="alpha0"):
        kg.keyness_by_group(COUNTS, GROUPS, alpha0=float("inf"))
    with pytest.raises(ValueError, match="n_resamples"):
        tp.prevalence_by(
            np.full((2, 2), 0.5), ["a", "b"], pd.DataFrame({"x": ["1", "2"]}, index=["a", "b"]), ["x"], -1, seed=1
        )


def test_empty_comparison_is_one_row_saying_why():
    table = kg.comparison_table([], empty_note="only 1 language value: nothing to compare")
    assert (
        len(table) == 1
        and table["note"].iloc[0] == "only 1 language value: nothing to compare"
        and bool(table["too_small"].iloc[0])
    )


def _prevalence_data():
    rng = np.random.default_rng(0)
    theta = rng.dirichlet(np.ones(3), size=24)
    doc_ids = [f"d{i // 2}" for i in range(24)]
    docvars = pd.DataFrame(
        {"language": ["vi" if i < 6 else "en" for i in range(12)], "outlet": [f"o{i % 3}" for i in range(12)]},
        index=[f"d{i}" for i in range(12)],
    )
    return theta, doc_ids, docvars


def test_prevalence_intervals_do_not_depend_on_the_order_of_the_columns():
    theta, doc_ids, docvars = _prevalence_data()
    one = tp.prevalence_by(theta, doc_ids, docvars, ["language", "outlet"], 200, seed=7, model="joint")
    two = tp.prevalence_by(theta, doc_ids, docvars, ["outlet", "language"], 200, seed=7, model="joint")
    key = ["group_by", "group", "topic"]
    pd.testing.assert_frame_equal(
        one.sort_values(key).reset_index(drop=True), two.sort_values(key).reset_index(drop=True)
    )
    alone = tp.prevalence_by(theta, doc_ids, docvars, ["outlet"], 200, seed=7, model="joint")
    pd.testing.assert_frame_equal(alone, one[one["group_by"] == "outlet"].reset_index(drop=True))


def test_prevalence_estimate_is_the_mean_share_of_the_groups_units():
    theta, doc_ids, docvars = _prevalence_data()
    table = tp.prevalence_by(theta, doc_ids, docvars, ["language"], 0, seed=7, model="m")
    vi = table[(table["group"] == "vi") & (table["topic"] == 2)]
    np.testing.assert_allclose(vi["prevalence"].iloc[0], theta[:12, 1].mean())
    assert table["ci_low"].isna().all()  # no resamples: no interval


def test_actor_table_pools_mentions_by_group():
    actors = pd.DataFrame(
        {
            "doc_id": ["v1", "v1", "e1", "e1"],
            "language": ["vi", "vi", "en", "en"],
            "actor": ["a", "b", "a", "b"],
            "kind": ["country"] * 4,
            "mentions": [3, 1, 0, 2],
            "mention_share": [0.75, 0.25, 0.0, 1.0],
            "per_1000": [1.0] * 4,
            "first_sentence": [0, 1, -1, 0],
            "first_position": ["headline/lead", "body", "", "headline/lead"],
            "statements": [1, 0, 0, 1],
        }
    )
    table = g.actor_group_table(
        actors, {"v1": "vi", "e1": "en"}, order=["vi", "en"], labels={"a": "A"}, n_resamples=100, seed=1, min_docs=1
    )
    row = table[(table["actor"] == "a") & (table["group"] == "vi")].iloc[0]
    assert row["label"] == "A" and row["mentions"] == 3 and row["mention_share"] == 0.75 and row["first_in_lead"] == 1
    assert row["voice_share"] == 1.0
    assert table[(table["actor"] == "a") & (table["group"] == "en")].iloc[0]["mentions"] == 0
