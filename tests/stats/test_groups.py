"""Outlets as clusters beside the group tables (analysis.framing.tables: cluster_mean, cluster_group_table,
cluster_tests, prevalence_by's cluster): the design effect by hand, interval coverage by seeded
simulation with outlet random effects, the minimum detectable difference, bad keys."""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.cli import main
from analysis.framing import tables as g
from analysis.stats import groups as sg
from analysis.stats.models import minimum_detectable_difference
from analysis.topics import prevalence as tp

ROOT = Path(__file__).resolve().parents[2]

# three outlets of four documents: means 2, 5, 8 (grand mean 5)
VALUES = np.array([1, 2, 3, 2, 4, 5, 6, 5, 7, 8, 9, 8], dtype=float)
OUTLETS = np.repeat(["o1", "o2", "o3"], 4).astype(object)


def test_design_effect_is_kish_from_the_anova_icc_by_hand():
    # MSB = 4 (9 + 0 + 9) / 2 = 36; MSW = (2 + 2 + 2) / (12 - 3) = 2/3; m0 = (12 - 48/12) / 2 = 4
    icc = (36 - 2 / 3) / (36 + 3 * 2 / 3)
    row, note = sg.cluster_mean(VALUES, OUTLETS, n_resamples=999, rng=np.random.default_rng(0), column="outlet")
    assert row["icc"] == pytest.approx(icc) and row["icc"] == pytest.approx(106 / 114)
    assert row["design_effect"] == pytest.approx(1 + (4 - 1) * icc)  # Kish: 1 + (m - 1) ICC
    assert row["effective_n"] == pytest.approx(12 / (1 + 3 * icc))
    assert row["cluster_n"] == 3 and row["effective_clusters"] == pytest.approx(3.0)
    assert row["cluster_ci_low"] < 5 < row["cluster_ci_high"]
    assert note == "3 outlet clusters (fewer than 10): cluster intervals need many more"
    one, why = sg.cluster_mean(VALUES[:4], OUTLETS[:4], n_resamples=99, rng=np.random.default_rng(0), column="outlet")
    assert math.isnan(one["cluster_ci_low"]) and why == "1 outlet cluster: no cluster bootstrap (it needs at least 2)"


def _tests_table(items, a="a", b="b", q=0.0):
    return pd.DataFrame(
        {"family": "f", "item": items, "group_a": a, "group_b": b, "p": q, "q": q, "too_small": False, "note": ""}
    )


def _long(values, docs, items):
    return pd.DataFrame(
        {
            "doc_id": np.tile(docs, len(items)),
            "family": "f",
            "item": np.repeat(items, len(docs)),
            "value": np.concatenate(values),
        }
    )


def test_the_test_design_effect_leaves_the_group_difference_out():
    """Outlets nested in groups and a large group difference: the raw ICC is near 1, but within
    groups the outlets do not differ, so the design effect beside the test is 1."""
    docs = [f"d{i}" for i in range(8)]
    groups = dict(zip(docs, ["a"] * 4 + ["b"] * 4))
    outlets = dict(zip(docs, ["o1", "o1", "o2", "o2", "o3", "o3", "o4", "o4"]))
    values = np.array([1.0, 2.0, 1.0, 2.0, 11.0, 12.0, 11.0, 12.0])
    documents = _tests_table(["x"])
    documents.insert(documents.columns.get_loc("q"), "min_p", 1 / 70)  # the document test's own smallest p: 1/C(8, 4)
    documents.insert(documents.columns.get_loc("q"), "exact", True)
    out = g.cluster_tests(
        documents, _long([values], docs, ["x"]), groups, outlets, column="outlet", n_resamples=199, seed=1
    ).iloc[0]
    assert out["icc"] == 0.0 and out["design_effect"] == 1.0 and out["cluster_n"] == 4
    assert out["note"] == "2 outlet clusters in the smaller group (fewer than 10): cluster intervals need many more"
    # the order of analysis.stats.comparison: core columns up to mdd, then the test's own, then too_small, note
    assert list(out.index) == [
        "family",
        "item",
        "group_a",
        "group_b",
        "p",
        "min_p",
        "q",
        "correction",
        "adjusted_within",
        "cluster_by",
        "cluster_n",
        "effective_clusters",
        "icc",
        "design_effect",
        "effective_n",
        "cluster_ci_low",
        "cluster_ci_high",
        "mdd",
        "exact",
        "p_unit",
        "p_documents",
        "min_p_documents",
        "q_documents",
        "too_small",
        "note",
    ]
    # The primary p permutes the 4 outlets: of the C(4, 2) = 6 arrangements, the observed one and its
    # swap give |t| = inf (no spread within a group), the other 4 give t = 0, so p = 2/6, the
    # smallest these outlets can give. The documents alone (p_documents) would call it significant.
    assert out["p_unit"] == "outlets" and out["exact"] and out["min_p_documents"] == pytest.approx(1 / 70)
    assert (
        out["p"] == pytest.approx(2 / 6) and out["min_p"] == pytest.approx(2 / 6) and out["q"] == pytest.approx(2 / 6)
    )
    assert out["p_documents"] < 0.05 and out["q_documents"] < 0.05
    assert out["mdd"] > 0  # not significant at the outlet level: the minimum detectable difference is said


def test_missing_column_and_one_outlet_are_said_in_the_note():
    docs = [f"d{i}" for i in range(6)]
    groups = dict(zip(docs, ["a"] * 3 + ["b"] * 3))
    long = _long([np.arange(6.0)], docs, ["x"])
    absent = g.cluster_tests(_tests_table(["x"]), long, groups, None, column="outlet", n_resamples=99, seed=1).iloc[0]
    assert absent["note"] == "no outlet column in the metadata: no cluster bootstrap, documents treated as independent"
    one = g.cluster_tests(
        _tests_table(["x"]),
        long,
        groups,
        {d: "o1" if i < 3 else f"o{i}" for i, d in enumerate(docs)},
        column="outlet",
        n_resamples=99,
        seed=1,
    ).iloc[0]
    assert (
        math.isnan(one["cluster_ci_low"])
        and math.isnan(one["p"])
        and one["p_unit"] == "none"
        and one["p_documents"] < 1
    )
    assert one["note"] == (
        "group 'a' comes from one outlet ('o1'): its contrast with another group equals an outlet contrast; "
        "no group p-value; 1 outlet cluster(s) in a group: no cluster bootstrap (it needs at least 2 per group)"
    )
    plain = g.cluster_tests(_tests_table(["x"]), long, groups, None, column="", n_resamples=99, seed=1)
    assert "cluster_by" not in plain.columns and "mdd" in plain.columns


def test_mdd_beside_a_non_significant_test_is_the_models_simulation():
    rng = np.random.default_rng(2)
    docs = [f"d{i}" for i in range(30)]
    groups = dict(zip(docs, ["a"] * 15 + ["b"] * 15))
    values = rng.gamma(2.0, 1.0, 30)
    out = g.cluster_tests(
        _tests_table(["x"], q=0.4), _long([values], docs, ["x"]), groups, None, column="", n_resamples=99, seed=3
    ).iloc[0]
    from analysis.stats.groups import keyed_rng

    centred = values - np.r_[np.full(15, values[:15].mean()), np.full(15, values[15:].mean())]
    sd = math.sqrt((centred**2).sum() / 28)
    want = minimum_detectable_difference(
        sd, 15, 15, n_simulations=g.MDD_SIMULATIONS, rng=keyed_rng(3, "mdd", "f", "x", "a", "b")
    )
    assert out["mdd"] == pytest.approx(want) and 0.5 * sd < out["mdd"] < 2 * sd  # about 2.8 sd / sqrt(7.5)


def _outlet_corpus(rng, outlets, per_outlet, items, difference=0.5, icc=0.2):
    """Two groups of ``outlets`` outlets; ``items`` independent measures, each with its own outlet effects."""
    n = 2 * outlets * per_outlet
    outlet = np.repeat(np.arange(2 * outlets), per_outlet)
    side = np.where(outlet < outlets, "a", "b")
    docs = np.array([f"d{i}" for i in range(n)], dtype=object)
    values = [
        10
        + difference * (side == "a")
        + rng.normal(0, math.sqrt(icc), 2 * outlets)[outlet]
        + rng.normal(0, math.sqrt(1 - icc), n)
        for _ in range(items)
    ]
    return docs, dict(zip(docs, side)), dict(zip(docs, [f"o{o}" for o in outlet])), values


def test_outlet_cluster_bootstrap_covers_and_the_document_bootstrap_does_not():
    """Seeded simulation, outlet random intercepts (ICC 0.2, 8 documents per outlet), 30 outlets per
    group, planted difference 0.5, 600 samples: the outlet interval beside the test covers the truth
    0.93 of the time (0.925-0.935 at 10-40 outlets in benchmarks/interval_coverage.py); with
    documents as the clusters (what ignoring outlets amounts to), 0.80 of 180 samples."""
    rng = np.random.default_rng(7)
    covered = {"outlet": [], "documents": []}
    effects = []
    items = [f"x{i}" for i in range(12)]
    for rep in range(50):
        docs, groups, outlets, values = _outlet_corpus(rng, 30, 8, len(items))
        long = _long(values, docs, items)
        for name, clusters in (("outlet", outlets), ("documents", {d: d for d in docs})):
            seed = int(rng.integers(1 << 30))
            if name == "documents" and rep >= 15:
                continue
            out = g.cluster_tests(_tests_table(items), long, groups, clusters, column=name, n_resamples=299, seed=seed)
            covered[name] += list((out["cluster_ci_low"] <= 0.5) & (0.5 <= out["cluster_ci_high"]))
            if name == "outlet":
                effects += list(out["design_effect"])
    assert np.mean(covered["outlet"]) >= 0.92
    assert np.mean(covered["documents"]) < 0.86
    assert 1.8 < np.mean(effects) < 3.0  # Kish with the planted ICC: 1 + (8 - 1) 0.2 = 2.4


def test_group_table_gains_cluster_columns_with_keyed_streams():
    docs = [f"d{i}" for i in range(12)]
    groups = dict(zip(docs, ["vi"] * 12))
    table = pd.DataFrame({"frame": ["x"], "group": ["vi"], "mean": [VALUES.mean()], "too_small": [False], "note": [""]})
    long = pd.DataFrame({"doc_id": docs, "item": "x", "value": VALUES})
    out = sg.cluster_group_table(
        table, long, groups, dict(zip(docs, OUTLETS)), column="outlet", n_resamples=999, seed=5, item="frame"
    )
    assert list(out.columns) == ["frame", "group", "mean", *g.CLUSTER_COLUMNS, "too_small", "note"]
    from analysis.stats.groups import keyed_rng

    row, _ = sg.cluster_mean(VALUES, OUTLETS, n_resamples=999, rng=keyed_rng(5, "cluster", "x", "vi"), column="outlet")
    assert out.iloc[0]["cluster_ci_low"] == row["cluster_ci_low"] and out.iloc[0]["design_effect"] == pytest.approx(
        432 / 114
    )


def test_prevalence_by_outlet_clusters_keeps_the_document_columns():
    rng = np.random.default_rng(3)
    theta = rng.dirichlet([1.0, 1.0], 24)
    docs = [f"d{i}" for i in range(24)]
    docvars = pd.DataFrame(
        {"language": ["vi"] * 12 + ["en"] * 12, "outlet": [f"o{i // 3}" for i in range(24)]}, index=docs
    )
    plain = tp.prevalence_by(theta, docs, docvars, ["language"], 499, seed=1, model="joint")
    clustered = tp.prevalence_by(theta, docs, docvars, ["language"], 499, seed=1, model="joint", cluster="outlet")
    pd.testing.assert_frame_equal(clustered[plain.columns.drop("note")], plain.drop(columns="note"))
    assert list(clustered.columns) == [*tp.PREVALENCE_COLUMNS[:-1], *g.CLUSTER_COLUMNS, "note"]
    assert (clustered["cluster_n"] == 4).all() and clustered["note"].str.contains("4 outlet clusters").all()
    absent = tp.prevalence_by(theta, docs, docvars, ["language"], 99, seed=1, model="joint", cluster="newspaper")
    assert absent["note"].str.contains("no newspaper column").all()


@pytest.mark.parametrize(
    "section, line, message",
    [
        ("framing", 'cluster = "newspaper"', "[framing] cluster names 'newspaper', not a metadata column"),
        ("topics", 'cluster = "newspaper"', "[topics] cluster names 'newspaper', not a metadata column"),
    ],
)
def test_a_cluster_naming_no_column_stops_with_one_line(tmp_path, capsys, section, line, message):
    shutil.copytree(ROOT / "seeds", tmp_path / "seeds")
    text = (ROOT / "study.toml").read_text(encoding="utf-8")
    head, rest = text.split(f"[{section}]\n", 1)
    body, tail = rest.split("\n[", 1)
    body = "\n".join(row for row in body.splitlines() if not row.startswith("cluster ="))
    (tmp_path / "study.toml").write_text(f"{head}[{section}]\n{line}\n{body}\n[{tail}", encoding="utf-8")
    assert (
        main(["framing" if section == "framing" else "validate", "--study", str(tmp_path / "study.toml"), "--quiet"])
        == 2
    )
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and message in lines[0] and "Traceback" not in lines[0]
    assert not (tmp_path / "figures").exists()
