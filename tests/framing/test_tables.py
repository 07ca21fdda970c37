"""Between-group tests of actor shares (actor_tests_by_<by>): documents permuted, q per kind, clusters, mdd."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from analysis.framing import tables as g
from analysis.stats.groups import keyed_rng, permutation_test
from analysis.stats.models import cluster_bootstrap_difference, minimum_detectable_difference


def actors_table(shares: dict[str, tuple[str, list[float]]], docs: list[str]) -> pd.DataFrame:
    """Per-document actor rows as analysis.framing.measures.actor_salience gives them (the columns used here)."""
    rows = []
    for actor, (kind, values) in shares.items():
        for d, v in zip(docs, values):
            rows.append(dict(doc_id=d, actor=actor, kind=kind, mentions=int(round(10 * v)), mention_share=v))
    return pd.DataFrame(rows)


DOCS = [f"v{i}" for i in range(6)] + [f"e{i}" for i in range(6)]
GROUPS = dict(zip(DOCS, ["vi"] * 6 + ["en"] * 6))
SHARES = {
    "son": ("person", [0.5, 0.6, 0.4, 0.7, 0.5, 0.6, 0.0, 0.1, 0.0, 0.1, 0.2, 0.0]),  # clearly more in vi
    "wang": ("person", [0.1, 0.2, 0.0, 0.1, 0.3, 0.1, 0.2, 0.1, 0.0, 0.2, 0.1, 0.1]),  # no difference
    "china": ("country", [0.3, 0.1, 0.4, 0.2, 0.2, 0.3, 0.5, 0.2, 0.3, 0.1, 0.4, 0.2]),
    "asean": ("organisation", [0.0] * 12),  # never mentioned: no row, as in actor_salience_by_<by>
}


def test_actor_tests_are_document_permutation_tests_with_q_per_kind():
    actors = actors_table(SHARES, DOCS)
    out = g.actor_tests_table(
        actors, GROUPS, order=["vi", "en"], labels={"son": "Bùi Thanh Sơn"}, n_permutations=5000, seed=9, min_docs=5
    )
    assert list(out.columns) == [c for c in g.ACTOR_TEST_COLUMNS if c not in g.CLUSTER_COLUMNS]
    assert g.ACTOR_TEST_COLUMNS[13:21] == g.CLUSTER_COLUMNS
    assert out["actor"].tolist() == ["son", "wang", "china"] and out["kind"].tolist() == ["person", "person", "country"]
    assert out["label"].tolist() == ["Bùi Thanh Sơn", "wang", "china"]
    son = out.iloc[0]
    assert son["mean_a"] == pytest.approx(3.3 / 6) and son["mean_b"] == pytest.approx(0.4 / 6)
    assert son["difference"] == pytest.approx(2.9 / 6)
    # 924 splits of 12 documents into 6 and 6: enumerated, the p of analysis.stats.groups.permutation_test
    x, y = np.array(SHARES["son"][1][:6]), np.array(SHARES["son"][1][6:])
    p, smallest, exact = permutation_test(x, y, n_resamples=5000, rng=keyed_rng(9, "perm", "person", "son", "vi", "en"))
    assert exact and son["p"] == p and son["min_p"] == pytest.approx(smallest) and smallest == pytest.approx(2 / 924)
    assert son["p"] < 0.01
    # BH across the two persons (their own family); china alone in its kind keeps q = p
    persons = out[out["kind"] == "person"]
    assert persons["q"].tolist() == pytest.approx(
        stats.false_discovery_control(persons["p"].to_numpy(), method="bh").tolist()
    )
    assert out.iloc[2]["q"] == out.iloc[2]["p"]
    assert not out["too_small"].any()
    small = g.actor_tests_table(actors, GROUPS, order=["vi", "en"], labels={}, n_permutations=5000, seed=9, min_docs=7)
    assert small["too_small"].all() and small["note"].str.startswith("too small").all()


def test_mdd_beside_a_non_significant_actor_test_only():
    actors = actors_table(SHARES, DOCS)
    out = g.actor_tests_table(actors, GROUPS, order=["vi", "en"], labels={}, n_permutations=5000, seed=9).set_index(
        "actor"
    )
    assert out.loc["son", "q"] < 0.05 and math.isnan(out.loc["son", "mdd"])
    assert out.loc["wang", "q"] >= 0.05
    values = np.array(SHARES["wang"][1])
    centred = values - np.r_[np.full(6, values[:6].mean()), np.full(6, values[6:].mean())]
    sd = math.sqrt((centred**2).sum() / 10)
    want = minimum_detectable_difference(
        sd, 6, 6, n_simulations=g.MDD_SIMULATIONS, rng=keyed_rng(9, "mdd", "person", "wang", "vi", "en")
    )
    assert out.loc["wang", "mdd"] == pytest.approx(want) and out.loc["wang", "mdd"] > abs(out.loc["wang", "difference"])


def test_actor_tests_with_outlets_as_clusters():
    actors = actors_table(SHARES, DOCS)
    outlets = {d: f"o{i // 2}" for i, d in enumerate(DOCS)}  # 3 outlets a language, 2 documents each
    out = g.actor_tests_table(
        actors,
        GROUPS,
        order=["vi", "en"],
        labels={},
        n_permutations=5000,
        seed=9,
        clusters=outlets,
        column="outlet",
        n_resamples=999,
    )
    assert list(out.columns) == g.ACTOR_TEST_COLUMNS
    son = out.iloc[0]
    assert son["cluster_by"] == "outlet" and son["cluster_n"] == 6 and son["effective_clusters"] == pytest.approx(6.0)
    labels = np.array(["vi"] * 6 + ["en"] * 6, dtype=object)
    want = cluster_bootstrap_difference(
        np.array(SHARES["son"][1]),
        labels,
        np.array([outlets[d] for d in DOCS], dtype=object),
        a="vi",
        b="en",
        n_resamples=999,
        rng=keyed_rng(9, "cluster", "person", "son", "vi", "en"),
    )
    assert (son["cluster_ci_low"], son["cluster_ci_high"]) == want and want[0] < son["difference"] < want[1]
    assert "3 outlet clusters in the smaller group (fewer than 10)" in son["note"]
    absent = g.actor_tests_table(
        actors, GROUPS, order=["vi", "en"], labels={}, n_permutations=5000, seed=9, clusters=None, column="outlet"
    )
    assert (
        absent["note"].str.contains("no outlet column in the metadata").all() and absent["cluster_ci_low"].isna().all()
    )


def test_actor_tests_keep_their_level_under_the_null():
    # 15 documents a side, no difference in any of 4 actors: at most about 5% of tests reject at 0.05
    # (measured 0.038 with this seed, 0.035 with another: tied shares make the exact test a little conservative)
    rng = np.random.default_rng(5)
    docs = [f"d{i}" for i in range(30)]
    groups = dict(zip(docs, ["a"] * 15 + ["b"] * 15))
    rejected, total = 0, 0
    for rep in range(150):
        mentions = rng.poisson(rng.gamma(0.7, 2.0, (30, 4)))
        totals = mentions.sum(axis=1, keepdims=True)
        share = np.divide(mentions, totals, out=np.zeros(mentions.shape), where=totals > 0)
        shares = {f"x{j}": ("person", share[:, j].tolist()) for j in range(4)}
        table = actors_table(shares, docs).assign(mentions=mentions.T.ravel())
        out = g.actor_tests_table(
            table, groups, order=["a", "b"], labels={}, n_permutations=199, seed=rep, mdd_simulations=20
        )
        rejected += int((out["p"] < 0.05).sum())
        total += len(out)
    assert 0.015 <= rejected / total <= 0.07


def test_bad_parameters_raise():
    with pytest.raises(ValueError, match="n_permutations"):
        g.actor_tests_table(actors_table(SHARES, DOCS), GROUPS, order=["vi", "en"], labels={}, n_permutations=0, seed=1)
