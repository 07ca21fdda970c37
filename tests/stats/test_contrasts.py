"""Contrasts: specification, Mantel-Haenszel, stratified and document-level permutation tests."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from statsmodels.stats.contingency_tables import StratifiedTable
from statsmodels.stats.multitest import multipletests

from analysis.stats import contrasts as design
from analysis.stats.contrasts import Contrast, MeasureTable
from analysis.text.dtm import DocTermMatrix


def test_parse_contrasts_reads_every_field():
    raw = [
        {
            "name": "vi-en",
            "groups": [{"language": "vi", "section": "business"}, {"language": "en", "section": "business"}],
            "within": "event",
            "subset": "outlet in ['A', 'B']",
            "measures": ["frames", "actors"],
            "correction": "bh",
            "cluster": "outlet",
        },
        {"name": "crossed", "by": ["language", "section"]},
    ]
    contrasts, problems = design.parse_contrasts(raw, "s.toml")
    assert problems == []
    c = contrasts[0]
    assert c.groups == ((("language", "vi"), ("section", "business")), (("language", "en"), ("section", "business")))
    assert (
        c.subset == (("outlet", ("A", "B")),) and c.within == "event" and c.correction == "bh" and c.cluster == "outlet"
    )
    assert c.measures == ("frames", "actors")
    assert c.exposure == "sentences"
    assert design.parse_contrasts([{**raw[1], "exposure": "tokens"}], "s.toml")[0][0].exposure == "tokens"
    assert contrasts[1].by == ("language", "section") and contrasts[1].groups == ()
    assert c.columns() == ["language", "section", "outlet", "event"]


@pytest.mark.parametrize(
    "entry, needle",
    [
        ({"name": "x", "groups": [{"language": "vi"}]}, "names 1 group"),
        ({"name": "x"}, "either groups"),
        ({"name": "x", "groups": [{"language": "vi"}, {"language": "en"}], "measures": ["nonsense"]}, "measures"),
        (
            {"name": "x", "groups": [{"language": "vi"}, {"language": "en"}], "subset": "outlet maybe A"},
            "not understood",
        ),
        ({"name": "x", "groups": [{"language": "vi"}, {"language": "en"}], "correction": "bonferroni"}, "correction"),
        ({"name": "x", "groups": [{"language": "vi"}, {"language": "en"}], "typo": 1}, "unknown key 'typo'"),
        ({"name": "", "groups": [{"language": "vi"}, {"language": "en"}]}, "name"),
        (
            {"name": "x", "groups": [{"language": "vi"}, {"language": "en"}], "exposure": "words"},
            "exposure = 'words' is not known",
        ),
    ],
)
def test_parse_contrasts_names_each_problem_in_one_line(entry, needle):
    _, problems = design.parse_contrasts([entry], "s.toml")
    assert len(problems) == 1
    assert needle in str(problems[0]) and "\n" not in str(problems[0]) and str(problems[0]).startswith("s.toml: ")


def _docvars():
    return pd.DataFrame(
        {
            "language": ["vi", "vi", "en", "en", "vi", "en"],
            "section": ["biz", "world", "biz", "world", "biz", "biz"],
            "outlet": ["A", "A", "B", "B", "C", "D"],
        },
        index=[f"d{i}" for i in range(6)],
    )


def test_contrast_problems_missing_column_and_group():
    docvars = _docvars()
    c = Contrast("c", groups=((("language", "vi"),), (("language", "fr"),)))
    problems = design.contrast_problems(c, docvars, "s.toml")
    assert (
        len(problems) == 1 and "language=fr, which no document has" in str(problems[0]) and "en, vi" in str(problems[0])
    )
    c = Contrast("c", groups=((("language", "vi"),), (("language", "en"),)), within="desk")
    assert "names 'desk', not a metadata column" in str(design.contrast_problems(c, docvars, "s.toml")[0])
    c = Contrast("c", groups=((("language", "vi"),), (("language", "en"),)), subset=(("outlet", ("Z",)),))
    assert any("outlet = 'Z'" in str(p) for p in design.contrast_problems(c, docvars, "s.toml"))


def test_crossed_groups_without_a_combined_column():
    docvars = _docvars()
    labels = design.assign_groups(Contrast("x", by=("language", "section")), docvars)
    assert labels.tolist() == [
        "language=vi & section=biz",
        "language=vi & section=world",
        "language=en & section=biz",
        "language=en & section=world",
        "language=vi & section=biz",
        "language=en & section=biz",
    ]
    sub = design.assign_groups(
        Contrast("x", groups=((("language", "vi"),), (("language", "en"),)), subset=(("section", ("biz",)),)), docvars
    )
    assert sub.isna().tolist() == [False, True, False, True, False, False]


def test_adjust_matches_statsmodels():
    p = np.array([0.01, 0.04, 0.03, 0.2, np.nan, 0.001])
    valid = ~np.isnan(p)
    for ours, theirs in (("holm", "holm"), ("bh", "fdr_bh")):
        out = design.adjust(p, ours)
        np.testing.assert_allclose(out[valid], multipletests(p[valid], method=theirs)[1])
        assert np.isnan(out[4])


def test_mantel_haenszel_hand_computed_example():
    # Two strata, rows = group (a, b), columns = frame present / absent.
    # Stratum 1: a = 2/5 present, b = 1/5: n = 10; stratum 2: a = 3/4, b = 2/4: n = 8.
    tables = [[[2, 3], [1, 4]], [[3, 1], [2, 2]]]
    # OR_MH = (2*4/10 + 3*2/8) / (3*1/10 + 1*2/8) = (0.8 + 0.75) / (0.3 + 0.25) = 1.55 / 0.55
    # E[a]: 5*3/10 = 1.5 and 4*5/8 = 2.5; Var[a]: 5*5*3*7/(100*9) = 0.58333, 4*4*5*3/(64*7) = 0.535714
    # chi2 = (5 - 4)^2 / (0.583333 + 0.535714) = 0.893617
    r = design.mantel_haenszel(tables)
    assert r["odds_ratio"] == pytest.approx(1.55 / 0.55)
    assert r["statistic"] == pytest.approx(1 / (0.5833333333 + 0.5357142857))
    st = StratifiedTable([np.array(t) for t in tables])
    assert r["odds_ratio"] == pytest.approx(st.oddsratio_pooled)
    assert r["p"] == pytest.approx(st.test_null_odds(correction=False).pvalue)
    assert (np.log(r["ci_low"]), np.log(r["ci_high"])) == pytest.approx(st.logodds_pooled_confint())
    corrected = design.mantel_haenszel(tables, correction=True)
    assert corrected["p"] == pytest.approx(st.test_null_odds(correction=True).pvalue)


def test_mantel_haenszel_matches_statsmodels_on_random_tables():
    rng = np.random.default_rng(3)
    for _ in range(20):
        tables = rng.integers(1, 15, size=(rng.integers(2, 6), 2, 2))
        r = design.mantel_haenszel(tables)
        st = StratifiedTable([t.astype(float) for t in tables])
        assert r["odds_ratio"] == pytest.approx(st.oddsratio_pooled)
        assert r["statistic"] == pytest.approx(st.test_null_odds().statistic)
        assert (np.log(r["ci_low"]), np.log(r["ci_high"])) == pytest.approx(st.logodds_pooled_confint())


def test_presence_tables_count_documents_per_stratum():
    present = np.array([1, 0, 1, 1, 0, 1], dtype=bool)
    labels = np.array(["a", "a", "b", "b", "a", "b"], dtype=object)
    strata = np.array(["s", "s", "s", "t", "t", "t"], dtype=object)
    t = design.presence_tables(present, labels, strata, a="a", b="b")
    assert t.tolist() == [[[1, 1], [1, 0]], [[0, 1], [2, 0]]]


def test_stratified_permutation_test_one_stratum_equals_plain_permutation():
    rng = np.random.default_rng(0)
    x = rng.normal(size=30) + np.r_[np.zeros(15), np.ones(15)]
    labels = np.array(["a"] * 15 + ["b"] * 15, dtype=object)
    diff, p = design.stratified_permutation_test(
        x, labels, np.zeros(30), a="a", b="b", n_resamples=2000, rng=np.random.default_rng(1)
    )
    assert diff == pytest.approx(x[:15].mean() - x[15:].mean())
    from scipy import stats

    ref = stats.permutation_test(
        (x[:15], x[15:]), lambda a, b: a.mean() - b.mean(), n_resamples=2000, rng=np.random.default_rng(2)
    ).pvalue
    assert abs(p - ref) < 0.03


def test_stratified_test_removes_a_confounder_and_keeps_its_level():
    # Stratum drives the value; group a sits mostly in the high stratum. Unstratified: "significant";
    # stratified: no group effect, and under the null it rejects at about 5%.
    rejections_plain, rejections_strat = 0, 0
    for seed in range(60):
        rng = np.random.default_rng(seed)
        strata = np.array(["hi"] * 20 + ["lo"] * 20, dtype=object)
        labels = np.array(["a"] * 16 + ["b"] * 4 + ["a"] * 4 + ["b"] * 16, dtype=object)
        x = np.where(strata == "hi", 3.0, 0.0) + rng.normal(size=40)
        _, p = design.stratified_permutation_test(
            x, labels, strata, a="a", b="b", n_resamples=300, rng=np.random.default_rng(seed + 1000)
        )
        _, p0 = design.stratified_permutation_test(
            x, labels, np.zeros(40), a="a", b="b", n_resamples=300, rng=np.random.default_rng(seed + 2000)
        )
        rejections_strat += p < 0.05
        rejections_plain += p0 < 0.05
    assert rejections_plain >= 55
    assert rejections_strat <= 8


def test_document_level_distribution_test_does_not_treat_hits_as_independent():
    # Null: each document is either a "trade" or a "security" article (all its hits in one frame),
    # group irrelevant. The hit-level chi2 rejects far too often; the document permutation ~5%.
    from scipy import stats

    chi_rej, perm_rej, runs = 0, 0, 40
    for seed in range(runs):
        rng = np.random.default_rng(seed)
        n = 40
        kind = rng.integers(0, 2, n)
        hits = rng.poisson(15, n)
        counts = np.zeros((n, 2))
        counts[np.arange(n), kind] = hits
        labels = np.array(["a"] * 20 + ["b"] * 20, dtype=object)
        r = design.distribution_permutation_test(
            counts, labels, a="a", b="b", n_resamples=300, rng=np.random.default_rng(seed + 99)
        )
        table = np.array([counts[:20].sum(axis=0), counts[20:].sum(axis=0)])
        chi_rej += stats.chi2_contingency(table, correction=False).pvalue < 0.05
        perm_rej += r["p"] < 0.05
        assert r["jsd"] == pytest.approx(design.jsd_bits(table[0], table[1]))
    assert chi_rej >= 0.3 * runs  # 45% here, against a nominal 5%
    assert perm_rej <= 0.15 * runs


def test_compare_reports_every_pair_and_adjusts_across_the_family():
    rng = np.random.default_rng(5)
    n = 60
    docvars = pd.DataFrame(
        {
            "language": rng.choice(["vi", "en", "fr"], n),
            "section": rng.choice(["biz", "world"], n),
            "outlet": rng.choice(list("ABCDEFGHIJKL"), n),
        },
        index=[f"d{i}" for i in range(n)],
    )
    counts = pd.DataFrame({"trade": rng.poisson(3, n), "security": rng.poisson(1, n)}, index=docvars.index)
    exposure = pd.Series(rng.integers(200, 400, n), index=docvars.index)
    c = Contrast(
        "three",
        groups=((("language", "vi"),), (("language", "en"),), (("language", "fr"),)),
        within="section",
        cluster="outlet",
    )
    table = design.compare(
        c, MeasureTable("frames", counts, exposure), docvars, n_resamples=200, seed=7, mdd_simulations=100
    )
    assert len(table) == 3 * 2
    matrix = DocTermMatrix(sp.csr_matrix(counts.to_numpy()), list(counts.index), list(counts.columns), docvars)
    again = design.compare(
        c, MeasureTable("frames", matrix, exposure), docvars, n_resamples=200, seed=7, mdd_simulations=100
    )
    pd.testing.assert_frame_equal(table, again)  # a DocTermMatrix gives the numbers of its dense table
    assert list(zip(table["group_a"], table["group_b"]))[::2] == [
        ("language=vi", "language=en"),
        ("language=vi", "language=fr"),
        ("language=en", "language=fr"),
    ]
    np.testing.assert_allclose(table["q"], multipletests(table["p"], method="holm")[1])
    row = table.iloc[0]
    rate = 1000 * counts["trade"] / exposure
    assert row["mean_a"] == pytest.approx(rate[docvars["language"] == "vi"].mean())
    assert row["strata"] == 2 and row["cluster_n"] >= 2 and np.isfinite(row["mdd"]) and row["mdd"] > 0
    vi = (docvars["language"] == "vi").to_numpy()
    assert row["docs_with_hits_a"] == int((counts["trade"].to_numpy()[vi] > 0).sum())  # counted by hand
    assert (table["correction"] == "holm").all()
    assert (table["adjusted_within"] == "contrast three, frames: every pair and item (6 tests)").all()
    sparse = pd.DataFrame({"trade": (np.arange(n) < 3).astype(int), "security": 0}, index=docvars.index)
    flagged = design.compare(
        c, MeasureTable("frames", sparse, exposure), docvars, n_resamples=50, seed=7, mdd_simulations=20
    )
    assert flagged["note"].str.contains("sparse: [01] document", regex=True).all()  # 3 documents with hits in all
    again = design.compare(
        c, MeasureTable("frames", counts, exposure), docvars, n_resamples=200, seed=7, mdd_simulations=100
    )
    pd.testing.assert_frame_equal(table, again)


def test_compare_takes_its_p_from_outlets_when_they_nest_in_the_groups():
    """Two languages of 3 outlets each, 5 documents an outlet: p permutes whole outlets (C(6, 3) = 20
    arrangements, exact), equal to the outlet test run by hand; the document test stays beside it.
    With one English outlet the language contrast is an outlet contrast: no p."""
    from analysis.stats.clustered import outlet_permutation_test

    rng = np.random.default_rng(11)
    outlets = np.repeat(list("ABCDEF"), 5)
    language = np.where(np.isin(outlets, list("ABC")), "vi", "en")
    ids = [f"d{i}" for i in range(30)]
    docvars = pd.DataFrame({"language": language, "outlet": outlets}, index=ids)
    counts = pd.DataFrame({"trade": rng.poisson(4, 30)}, index=ids)
    exposure = pd.Series(np.full(30, 500.0), index=ids)
    c = Contrast("vi-en", groups=((("language", "vi"),), (("language", "en"),)), cluster="outlet")
    row = design.compare(
        c, MeasureTable("frames", counts, exposure), docvars, n_resamples=500, seed=3, mdd_simulations=50
    ).iloc[0]
    rate = (1000 * counts["trade"] / exposure).to_numpy()
    labels = np.where(language == "vi", "language=vi", "language=en").astype(object)
    by_hand = outlet_permutation_test(rate, labels, outlets, a="language=vi", b="language=en", n_resamples=500)
    assert (
        row["p_unit"] == "outlets"
        and row["p"] == pytest.approx(by_hand.p)
        and by_hand.exact
        and by_hand.n_arrangements == 20
    )
    assert row["p_documents"] != row["p"] and 0 < row["p_documents"] <= 1
    one = docvars.assign(outlet=np.where(language == "en", "Z", outlets))
    lone = design.compare(
        c, MeasureTable("frames", counts, exposure), one, n_resamples=500, seed=3, mdd_simulations=50
    ).iloc[0]
    assert lone["p_unit"] == "none" and np.isnan(lone["p"]) and np.isnan(lone["q"])
    assert "comes from one outlet ('Z')" in lone["note"]
