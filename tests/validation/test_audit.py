"""Pattern audit and corrected model (analysis.validation.audit) on hand-made tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.validation.audit import AUDIT_COLUMNS, corrected_model, kwic_line, pattern_audit
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
