"""Pattern audit and corrected model (analysis.validation.audit) on hand-made tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from analysis.validation.audit import (
    AUDIT_COLUMNS,
    PRECISION_COLUMNS,
    corrected_model,
    kwic_line,
    pattern_audit,
    pattern_precision,
)
from analysis.validation.dsl import dsl_regression


def test_kwic_line_cuts_within_the_sentence_and_shows_spaces():
    sentence = ["Kim_ngạch", "thương_mại", "song_phương", "tăng", "mạnh", "."]
    assert kwic_line(sentence, 1, 2, window=2) == ("Kim ngạch", "thương mại", "song phương tăng")
    assert kwic_line(sentence, 0, 2, window=1) == ("", "Kim ngạch thương mại", "song phương")
    with pytest.raises(ValueError, match="outside a sentence"):
        kwic_line(sentence, 5, 7)


def _hits(rows):
    return pd.DataFrame(
        [dict(zip(["unit_id", "language", "frame", "pattern"], r), left="", keyword=r[3], right="") for r in rows]
    )


def test_false_hit_share_is_weighted_and_a_tie_is_left_out():
    hits = _hits(
        [
            ("d1", "vi", "f", "a"),
            ("d2", "vi", "f", "a"),
            ("d2", "vi", "f", "b"),
            ("d3", "vi", "f", "a"),
            ("d4", "en", "f", "a"),
        ]
    )
    ref = pd.DataFrame(
        {"unit_id": ["d1", "d2", "d3", "d4"], "frame": "f", "reference": pd.array([1, 0, pd.NA, 0], dtype="Int64")}
    )
    w = pd.DataFrame({"unit_id": ["d1", "d2", "d4"], "frame": "f", "weight": [1.0, 4.0, 2.0]})
    table = pattern_audit(hits, ref, w)
    assert list(table.columns) == AUDIT_COLUMNS and "d3" not in set(table["unit_id"])  # the tie has no reference
    share = table.drop_duplicates(["language", "pattern"]).set_index(["language", "pattern"])
    assert share.loc[("vi", "a"), "false_hit_share"] == pytest.approx(4 / 5)  # unweighted it would be 1/2
    assert share.loc[("vi", "a"), "pattern_docs"] == 2 and share.loc[("vi", "b"), "false_hit_share"] == 1.0
    assert share.loc[("en", "a"), "false_hit_share"] == 1.0
    assert (
        table["language"].tolist()[:1] == ["en"] and table[table["language"] == "vi"]["pattern"].iloc[0] == "b"
    )  # worst first


def test_a_decided_unit_without_weight_is_an_error():
    hits = _hits([("d1", "vi", "f", "a")])
    ref = pd.DataFrame({"unit_id": ["d1"], "frame": "f", "reference": [1]})
    with pytest.raises(ValueError, match="no weight"):
        pattern_audit(hits, ref, pd.DataFrame(columns=["unit_id", "frame", "weight"]))


def test_corrected_model_is_dsl_ols_and_a_lone_term_loses_its_se():
    rng = np.random.default_rng(4)
    n = 60
    vi = (np.arange(n) < 30).astype(float)
    y = (rng.random(n) < 0.3 + 0.3 * vi).astype(float)
    yhat = np.where(rng.random(n) < 0.8, y, 1 - y)
    coded = rng.random(n) < 0.5
    data = pd.DataFrame(
        {
            "Intercept": 1.0,
            "language[T.vi]": vi,
            "f": yhat,
            "f__code": np.where(coded, y, np.nan),
            "pi": 0.5,
            "outlet": np.arange(n) % 6,
        }
    )
    table = corrected_model(
        data,
        frames=["f"],
        terms=["Intercept", "language[T.vi]"],
        cluster="outlet",
        no_se={"language[T.vi]": "one outlet"},
    )
    direct = dsl_regression(
        data,
        outcome="f__code",
        predicted="f",
        pi="pi",
        covariates=["Intercept", "language[T.vi]"],
        intercept=False,
        cluster="outlet",
    ).table
    assert table["estimate"].tolist() == pytest.approx(direct["estimate"].tolist())
    assert table["naive"].tolist() == pytest.approx(direct["naive"].tolist())
    assert (
        table["se"].iloc[0] == pytest.approx(direct["se"].iloc[0])
        and np.isnan(table["se"].iloc[1])
        and np.isnan(table["naive_se"].iloc[1])
    )
    assert table["note"].tolist() == ["", "one outlet"] and table["clusters"].tolist() == [6, 6]


def test_pattern_precision_counts_hits_and_weights_units_by_hand():
    # vi pattern a: d1 (2 hits, weight 1, has f), d2 (1 hit, weight 4, not), d3 a tie (left out);
    # vi pattern b: d2 only; en pattern a: d4 (weight 2, not); vi pattern c never hits a coded unit.
    hits = _hits(
        [
            ("d1", "vi", "f", "a"),
            ("d1", "vi", "f", "a"),
            ("d2", "vi", "f", "a"),
            ("d2", "vi", "f", "b"),
            ("d3", "vi", "f", "a"),
            ("d4", "en", "f", "a"),
        ]
    )
    ref = pd.DataFrame(
        {"unit_id": ["d1", "d2", "d3", "d4"], "frame": "f", "reference": pd.array([1, 0, pd.NA, 0], dtype="Int64")}
    )
    w = pd.DataFrame({"unit_id": ["d1", "d2", "d4"], "frame": "f", "weight": [1.0, 4.0, 2.0]})
    patterns = pd.DataFrame(
        {"frame": "f", "language": ["vi", "vi", "vi", "en"], "pattern": ["a", "b", "c", "a"], "note": ["x", "", "", ""]}
    )
    table = pattern_precision(patterns, hits, ref, w, level=0.9)
    assert list(table.columns) == ["frame", "language", "pattern", "note", *PRECISION_COLUMNS]
    assert (
        table[["language", "pattern", "note"]].values.tolist()
        == patterns[["language", "pattern", "note"]].values.tolist()
    )
    a = table.iloc[0]
    assert (a["coded_hits"], a["coded_units"], a["false_hits"]) == (3, 2, 1)  # the tie's hit is not counted
    # v = w h: d1 1 * 2 = 2 (true), d2 4 * 1 = 4 (false): precision 2 / 6, n_eff = 6^2 / (2^2 + 4^2) = 1.8
    assert a["precision"] == pytest.approx(1 / 3) and a["n_eff"] == pytest.approx(1.8)
    x, n = 1.8 / 3, 1.8
    assert a["precision_low"] == pytest.approx(stats.beta.ppf(0.05, x, n - x + 1))
    assert a["precision_high"] == pytest.approx(stats.beta.ppf(0.95, x + 1, n - x))
    assert table.iloc[1][["coded_hits", "false_hits", "precision", "precision_high"]].tolist() == [
        1,
        1,
        0.0,
        pytest.approx(1 - 0.05 ** (1 / 1)),
    ]  # one false unit: Clopper-Pearson upper 1 - (a/2)^(1/n), n = 1
    c = table.iloc[2]
    assert (c["coded_hits"], c["false_hits"]) == (0, 0) and np.isnan(c["precision"]) and np.isnan(c["precision_low"])
    assert table.iloc[3][["coded_hits", "false_hits", "precision"]].tolist() == [1, 1, 0.0]
    audit = pattern_audit(hits, ref, w).drop_duplicates(["language", "pattern"]).set_index(["language", "pattern"])
    assert 1 - audit.loc[("vi", "a"), "false_hit_share"] == pytest.approx(a["precision"])  # the same weighting


def test_pattern_precision_with_equal_weights_is_the_exact_binomial_interval():
    hits = _hits([(f"d{i}", "en", "f", "a") for i in range(10)])
    ref = pd.DataFrame({"unit_id": [f"d{i}" for i in range(10)], "frame": "f", "reference": [1] * 7 + [0] * 3})
    w = pd.DataFrame({"unit_id": [f"d{i}" for i in range(10)], "frame": "f", "weight": 2.5})
    row = pattern_precision(pd.DataFrame({"frame": ["f"], "language": "en", "pattern": "a"}), hits, ref, w).iloc[0]
    ci = stats.binomtest(7, 10).proportion_ci(confidence_level=0.95, method="exact")
    assert row["precision"] == pytest.approx(0.7) and row["n_eff"] == pytest.approx(10)
    assert (row["precision_low"], row["precision_high"]) == pytest.approx((ci.low, ci.high), abs=1e-12)


def test_pattern_precision_without_codes_has_the_columns_empty():
    patterns = pd.DataFrame({"frame": "f", "language": ["vi", "en"], "pattern": ["a", "b"]})
    table = pattern_precision(patterns)
    assert list(table.columns) == ["frame", "language", "pattern", *PRECISION_COLUMNS] and len(table) == 2
    assert table[PRECISION_COLUMNS].isna().all().all()
    with pytest.raises(ValueError, match="needs frame, language, pattern"):
        pattern_precision(patterns.drop(columns="pattern"))
