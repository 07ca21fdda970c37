"""The equivalence check of the instrument (issue 12): known answers, simulated nulls, bad inputs."""

from __future__ import annotations

import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import stats

from analysis.cli import main
from analysis.corpus.folder import read_parallel
from analysis.files import RESOURCES
from analysis.framing import equivalence as eq
from analysis.framing.codebook import codebook_audit, parse_codebook, stopword_exemptions
from analysis.framing.measures import annotate
from analysis.study.outputs import declared_outputs, equivalence_outputs
from analysis.text.tokens import PreparedDocument, TermRules
from tests.conftest import SHARED, TINY_EN, TINY_VI, write_study

PARALLEL = SHARED / "corpora" / "parallel_news_mt"
CODEBOOK = """
frames:
  issue:
    trade: {vi: [thương_mại, kinh_tế], en: [trade, economy]}
concepts:
  trade: {vi: [thương_mại], en: [trade]}
  economy: {vi: [kinh_tế], en: [economy]}
  only_vi: {vi: [hợp_tác]}
"""


def doc(doc_id, language, *sentences):
    return PreparedDocument(doc_id, language, [[list(s) for s in sentences]])


def pair_annotations(codebook, n=30, extra_vi=0):
    """``n`` translated pairs; pair i mentions trade i % 3 times in both languages, economy once
    in both, and cooperation (a one-sided concept) in Vietnamese; ``extra_vi`` pairs get one more
    economy hit in Vietnamese only (a planted difference)."""
    rules = TermRules({})
    vi, en = [], []
    for i in range(n):
        trade = i % 3
        extra = i < extra_vi
        vi.append(
            annotate(
                doc(
                    f"p{i}",
                    "vi",
                    ["thương_mại"] * trade + ["kinh_tế", "hợp_tác", "."],
                    ["kinh_tế", "."] if extra else ["ừ", "."],
                ),
                rules,
                codebook,
            )
        )
        en.append(
            annotate(
                doc(f"p{i}", "en", ["trade"] * trade + ["economy", "cooperation", "."], ["yes", "."]), rules, codebook
            )
        )
    return vi, en


def check(codebook, vi, en, **kwargs):
    counts_vi, den_vi = eq.entry_counts(vi, codebook)
    counts_en, den_en = eq.entry_counts(en, codebook)
    table = eq.equivalence_table(
        counts_vi, counts_en, den_vi, den_en, eq.entry_index(codebook), n_boot=400, n_resamples=2000, seed=1, **kwargs
    )
    return table.set_index(["kind", "entry"])


# ------------------------------------------------------------------------------ known answers


def test_one_sided_concept_is_flagged_and_an_equal_one_is_not():
    codebook = parse_codebook(CODEBOOK)
    vi, en = pair_annotations(codebook)
    table = check(codebook, vi, en)
    one = table.loc[("concept", "only_vi")]
    assert one["flag"] and "one-sided" in one["reason"]
    assert (one["hits_vi"], one["hits_en"], one["pairs_vi_only"], one["pairs_both"]) == (30, 0, 30, 0)
    trade = table.loc[("concept", "trade")]
    # identical counts on both sides: ratio exactly 1 (same sentences), p = 1, not flagged
    assert (trade["hits_vi"], trade["hits_en"]) == (30, 30)  # 0+1+2 per three pairs
    assert trade["ratio"] == pytest.approx(1.0) and trade["p"] == 1.0 and not trade["flag"]
    assert trade["pairs_both"] == 20 and trade["pairs_vi_only"] == 0
    assert trade["equivalent"]  # the whole interval is inside [0.8, 1.25]
    # the audit names the same entry, before any text is read
    audit = codebook_audit(codebook).set_index(["kind", "entry"])
    assert audit.loc[("concept", "only_vi"), "one_sided"] and not audit.loc[("concept", "trade"), "one_sided"]


def test_a_planted_difference_is_found_and_the_ratio_is_hand_checked():
    codebook = parse_codebook(CODEBOOK)
    vi, en = pair_annotations(codebook, n=30, extra_vi=15)
    table = check(codebook, vi, en)
    economy = table.loc[("concept", "economy")]
    assert (economy["hits_vi"], economy["hits_en"]) == (45, 30)
    # per 100 sentences: both sides have 60 sentences, so ratio = (45.5/60) / (30.5/60)
    assert economy["ratio"] == pytest.approx(45.5 / 30.5)
    assert economy["rate_vi"] == pytest.approx(100 * 45 / 60) and economy["rate_en"] == pytest.approx(100 * 30 / 60)
    assert economy["q"] < 0.05 and economy["flag"] and economy["ci_low"] > 1.0
    assert not table.loc[("concept", "trade"), "flag"]
    # the frame carries the planted difference too; per document the ratio is 75.5/60.5
    frame = table.loc[("frame", "trade")]
    assert (frame["hits_vi"], frame["hits_en"]) == (75, 60) and frame["q"] < 0.05
    per_doc = check(codebook, vi, en, denominator="documents").loc[("frame", "trade")]
    assert per_doc["ratio"] == pytest.approx(75.5 / 60.5)


def test_the_paired_test_holds_its_level_on_exchangeable_pairs():
    # 300 items whose two sides are exchangeable (same expected counts): about 5% at p < 0.05
    rng = np.random.default_rng(7)
    base = rng.poisson(2.0, size=(40, 300))
    vi = base + rng.poisson(1.0, size=base.shape)
    en = base + rng.poisson(1.0, size=base.shape)
    p = eq.sign_flip_pvalues(vi - en, 2000, np.random.default_rng(8))
    share = float((p < 0.05).mean())
    assert 0.02 <= share <= 0.09
    # and it rejects a planted effect (one more hit per pair in Vietnamese) in nearly every item
    assert (eq.sign_flip_pvalues(vi + 1 - en, 2000, np.random.default_rng(9)) < 0.05).mean() > 0.9


def test_sign_flip_pvalues_match_scipys_exact_paired_permutation_test():
    rng = np.random.default_rng(3)
    d = rng.normal(0.4, 1.0, size=(10, 3))
    ours = eq.sign_flip_pvalues(d, 20000, np.random.default_rng(4))
    for j in range(3):
        ref = stats.permutation_test(
            (d[:, j],), np.mean, permutation_type="samples", n_resamples=np.inf, alternative="two-sided"
        )
        assert ours[j] == pytest.approx(ref.pvalue, abs=0.012)


def test_calibration_divides_by_the_translation_ratio():
    codebook = parse_codebook(CODEBOOK)
    vi, en = pair_annotations(codebook, n=30)
    pv, pdv = eq.entry_counts(vi, codebook)
    pe_, pde = eq.entry_counts(en, codebook)
    index = eq.entry_index(codebook)
    # a study corpus equal to the translations: calibrated ratio 1 for every entry both sides have
    same = eq.calibrated_ratios(
        pv,
        pdv,
        pe_,
        pde,
        pairs_vi=pv,
        pairs_den_vi=pdv,
        pairs_en=pe_,
        pairs_den_en=pde,
        index=index,
        n_boot=300,
        seed=2,
    ).set_index(["kind", "entry"])
    assert same.loc[("concept", "trade"), "calibrated"] == pytest.approx(1.0)
    # a study whose Vietnamese side mentions economy twice as often: calibrated (60.5/30.5) / (30.5/30.5)
    study_vi = pv.copy()
    study_vi["concept::economy"] *= 2
    table = eq.calibrated_ratios(
        study_vi,
        pdv,
        pe_,
        pde,
        pairs_vi=pv,
        pairs_den_vi=pdv,
        pairs_en=pe_,
        pairs_den_en=pde,
        index=index,
        n_boot=300,
        seed=2,
    ).set_index(["kind", "entry"])
    row = table.loc[("concept", "economy")]
    assert row["observed"] == pytest.approx(60.5 / 30.5) and row["translation"] == pytest.approx(1.0)
    assert row["calibrated"] == pytest.approx(60.5 / 30.5) and row["ci_low"] > 1.0
    assert not table["too_small"].any()
    small = eq.calibrated_ratios(
        study_vi,
        pdv,
        pe_,
        pde,
        pairs_vi=pv,
        pairs_den_vi=pdv,
        pairs_en=pe_,
        pairs_den_en=pde,
        index=index,
        n_boot=50,
        seed=2,
        min_docs=31,
    )
    assert (
        small["too_small"].all()
        and small["note"].str.startswith("too small: vi has 30 documents, en has 30 documents").all()
    )
    # the one-sided concept: the translation ratio carries the instrument's bias and cancels it
    only = table.loc[("concept", "only_vi")]
    assert only["calibrated"] == pytest.approx(only["observed"] / only["translation"]) == pytest.approx(1.0)


def test_pattern_sources_count_hits_per_pattern_and_language():
    codebook = parse_codebook("concepts:\n  trade: {vi: [thương_mại, mậu_dịch], en: [trade, commerce]}\n")
    rules = TermRules({})
    annotations = [
        annotate(doc("a", "vi", ["thương_mại", "mậu_dịch", "thương_mại"]), rules, codebook),
        annotate(doc("b", "en", ["trade", "commerce", "commerce", "commerce"]), rules, codebook),
    ]
    table = eq.pattern_sources(annotations, codebook)
    rows = {(r.language, r.pattern): (r.hits, r.share, r.entry_hits) for r in table.itertuples()}
    assert rows == {
        ("vi", "thương_mại"): (2, 2 / 3, 3),
        ("vi", "mậu_dịch"): (1, 1 / 3, 3),
        ("en", "commerce"): (3, 0.75, 4),
        ("en", "trade"): (1, 0.25, 4),
    }


def test_one_pass_gives_the_pattern_sources_and_the_entry_counts_of_two():
    """The stage streams the study's annotations once (never held): the tables of one pass over a
    generator equal those of the two functions over a list, with and without the entry counts."""
    codebook = parse_codebook(
        "frames:\n  economy:\n    trade: {vi: [thương_mại], en: [trade]}\n"
        "concepts:\n  sea: {vi: [biển], en: [sea, coast]}\n"
    )
    rules = TermRules({})
    docs = [
        doc("a", "vi", ["thương_mại", "biển", "."], ["biển", "thương_mại", "biển"]),
        doc("b", "en", ["trade", "coast", "sea", "sea"]),
        doc("c", "en", ["nothing", "here"]),
        doc("d", "vi", ["biển"]),
    ]
    annotations = [annotate(d, rules, codebook) for d in docs]
    sources, (counts, den) = eq.corpus_counts((annotate(d, rules, codebook) for d in docs), codebook)
    pd.testing.assert_frame_equal(sources, eq.pattern_sources(annotations, codebook))
    expected_counts, expected_den = eq.entry_counts(annotations, codebook)
    pd.testing.assert_frame_equal(counts, expected_counts)
    pd.testing.assert_frame_equal(den, expected_den)
    assert counts["concept::sea"].tolist() == [3, 3, 0, 1] and counts["frame:economy:trade"].tolist() == [2, 1, 0, 0]
    alone, none = eq.corpus_counts(iter(annotations), codebook, entries=False)
    assert none is None
    pd.testing.assert_frame_equal(alone, sources)
    assert sources.loc[sources["pattern"] == "sea", "hits"].tolist() == [2]


def test_the_default_codebook_is_two_sided_and_loses_no_pattern_to_a_stopword_list(seed_study_dir):
    from analysis.files import read_study
    from analysis.prepared import load_term_rules
    from analysis.stages.framing import load_codebook

    study = read_study(seed_study_dir / "study.toml")
    codebook = load_codebook(study)
    audit = codebook_audit(codebook)
    assert not audit["one_sided"].any(), list(audit.loc[audit["one_sided"], "entry"])
    rules = load_term_rules(study)
    exempt = stopword_exemptions(codebook)
    for lang in ("vi", "en"):
        assert not (exempt[lang] & rules.stopwords[lang])
    # English "people"-like stopwords that are patterns are counted; polysemous one-syllable words are gone
    vi_patterns = {p.text for e in (*codebook.concepts, *codebook.frames) for p in e.patterns.get("vi", ())}
    assert not vi_patterns & {"hàng", "bên", "trẻ", "mở", "đưa", "tiếp", "vùng", "chung", "lợi", "tỷ"}
    assert "world" not in rules.stopwords["en"]  # a stopwordsiso word, but a pattern of the codebook


# ------------------------------------------------------------------------------ parallel input


def write_parallel(folder: Path, en: str, vi: str, docs: str | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "en.txt").write_text(en, encoding="utf-8")
    (folder / "vi.txt").write_text(vi, encoding="utf-8")
    if docs is not None:
        (folder / "docs.csv").write_text(docs, encoding="utf-8")
    return folder


def test_read_parallel_without_docs_makes_one_document_per_line(tmp_path):
    sample = read_parallel(write_parallel(tmp_path / "p", "One.\r\nTwo.\r\n", "Một.\nHai.\n"))
    assert sample.en == ("One.", "Two.") and sample.vi == ("Một.", "Hai.")
    assert sample.docs == (("line1", 1, 1), ("line2", 2, 2))


PARALLEL_STUDY = (
    '[corpus]\nfolder = "corpus"\nmetadata = '
    '"corpus/metadata.csv"\n[frequencies]\ngroup_by = ["language"]\nkwic_terms = []\n'
    '[framing]\nkeyness_within = []\n[run]\noutput = "out"\ncache = ".cache"\nworkers = 1\nfigure_formats = ["png"]\n'
    '[equivalence]\nparallel = "par"\nbootstrap = 200\npermutations = 500\n'
)


@pytest.mark.parametrize(
    "setup, message",
    [
        (lambda f: None, "par: parallel sample folder not found"),
        (
            lambda f: (f.mkdir(), (f / "en.txt").write_text("A.\n", encoding="utf-8")),
            "vi.txt: file not found in the parallel sample folder",
        ),
        (
            lambda f: write_parallel(f, "A.\nB.\nC.\n", "A.\nB.\n"),
            "vi.txt: 2 lines, but en.txt has 3: the files are not line-aligned",
        ),
        (lambda f: write_parallel(f, "A.\n\nC.\n", "A.\nB.\nC.\n"), "en.txt line 2: empty line"),
        (
            lambda f: write_parallel(f, "A.\nB.\n", "A.\nB.\n", "id,start,end\nd1,1,2\n"),
            "docs.csv line 1: header must be doc_id,start_line,end_line",
        ),
        (
            lambda f: write_parallel(f, "A.\nB.\n", "A.\nB.\n", "doc_id,start_line,end_line\nd1,1,3\n"),
            "docs.csv line 2: lines 1-3 are not a range inside 1-2",
        ),
        (
            lambda f: write_parallel(f, "A.\nB.\n", "A.\nB.\n", "doc_id,start_line,end_line\nd1,one,2\n"),
            "must be whole numbers",
        ),
        (
            lambda f: write_parallel(f, "A.\nB.\nC.\n", "A.\nB.\nC.\n", "doc_id,start_line,end_line\nd1,1,2\nd2,2,3\n"),
            "documents 'd1' and 'd2' overlap (line 2)",
        ),
        (
            lambda f: write_parallel(f, "A.\nB.\n", "A.\nB.\n", "doc_id,start_line,end_line\nd1,1,1\nd1,2,2\n"),
            "docs.csv line 3: duplicate doc_id 'd1'",
        ),
    ],
)
def test_each_bad_parallel_input_gives_one_line_exit_2_and_nothing_written(tmp_path, capsys, setup, message):
    study = write_study(tmp_path, [("v1", "vi", TINY_VI), ("e1", "en", TINY_EN)], study_text=PARALLEL_STUDY)
    setup(tmp_path / "par")
    assert main(["equivalence", "--study", str(study), "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("error: ") and message in err and "(fix: " in err
    assert not (tmp_path / "out").exists() and not (tmp_path / ".cache").exists()


def test_the_stage_writes_exactly_its_declared_outputs(tmp_path):
    study = write_study(tmp_path, [("v1", "vi", TINY_VI), ("e1", "en", TINY_EN)], study_text=PARALLEL_STUDY)
    write_parallel(
        tmp_path / "par",
        TINY_EN + "Trade grows.\n",
        TINY_VI + "Thương mại tăng.\n",
        "doc_id,start_line,end_line\nd1,1,2\nd2,3,3\n",
    )
    assert main(["equivalence", "--study", str(study), "--quiet"]) == 0
    settings = tomllib.loads(study.read_text(encoding="utf-8"))
    declared = declared_outputs(settings)["equivalence"]
    assert declared == equivalence_outputs(settings)
    written = sorted(str(p.relative_to(tmp_path / "out")) for p in (tmp_path / "out").rglob("*") if p.is_file())
    assert written == sorted(declared)
    table = pd.read_csv(tmp_path / "out" / "equivalence_by_entry.csv").set_index(["kind", "entry"])
    # "hợp tác" and "cooperation" three times each in the two pairs
    assert table.loc[("concept", "cooperation"), ["hits_vi", "hits_en"]].tolist() == [3, 3]
    # without a parallel sample the stage writes the codebook's pattern sources and audit only
    plain = {k: v for k, v in settings.items() if k != "equivalence"}
    assert declared_outputs(plain)["equivalence"] == [
        f"{s}.{x}" for s in ("codebook_pattern_sources", "codebook_audit") for x in ("csv", "tex", "md")
    ]


@pytest.mark.skipif(not PARALLEL.is_dir(), reason="../shared/corpora/parallel_news_mt is absent")
def test_the_development_set_reads_as_119_aligned_documents():
    sample = read_parallel(PARALLEL)
    assert len(sample.en) == len(sample.vi) == 2977
    assert len(sample.docs) == 119 and sample.docs[0] == ("p001", 1, 25)
    assert (RESOURCES / "codebook.yaml").is_file()


# ------------------------------------------------------------------------ equivalence shown (TOST)


def planted(n_pairs, rate_vi, rate_en, *, seed, sentences=25, shared=0.9):
    """Counts of one concept on ``n_pairs`` translated pairs of ``sentences`` sentences each: a
    shared content count (Poisson, ``shared`` of the English rate) plus independent
    translation noise on each side, so the two sides are correlated as translations are."""
    rng = np.random.default_rng(seed)
    base = rng.poisson(shared * rate_en * sentences, size=n_pairs)
    vi = base + rng.poisson(max(0.0, rate_vi - shared * rate_en) * sentences, size=n_pairs)
    en = base + rng.poisson((1 - shared) * rate_en * sentences, size=n_pairs)
    den = pd.DataFrame({"sentences": np.full(n_pairs, sentences), "documents": 1})
    return pd.DataFrame({"concept::x": vi}), pd.DataFrame({"concept::x": en}), den, den.copy()


X_INDEX = eq.entry_index(parse_codebook("concepts:\n  x: {vi: [x], en: [x]}\n"))


def test_equal_rates_on_many_pairs_are_shown_equivalent():
    vi, en, dv, de = planted(400, 0.2, 0.2, seed=11)
    row = eq.equivalence_table(vi, en, dv, de, X_INDEX, n_boot=1000, n_resamples=500, seed=1).iloc[0]
    assert row["status"] == "shown equivalent" and row["equivalent"] and not row["flag"]
    assert 0.8 <= row["ci90_low"] <= row["ratio"] <= row["ci90_high"] <= 1.25
    assert row["ci_low"] <= row["ci90_low"] and row["ci90_high"] <= row["ci_high"]
    assert row["tost_p"] < 0.05 and np.isnan(row["pairs_needed"])


def test_a_planted_doubling_is_shown_not_equivalent():
    vi, en, dv, de = planted(119, 0.4, 0.2, seed=12)
    row = eq.equivalence_table(vi, en, dv, de, X_INDEX, n_boot=1000, n_resamples=500, seed=1).iloc[0]
    assert row["status"] == "shown not equivalent" and row["flag"] and row["ci_low"] > 1.25
    assert 1.6 < row["ratio"] < 2.5 and row["tost_p"] > 0.5 and np.isnan(row["pairs_needed"])


def test_a_sparse_entry_is_undetermined_and_says_how_many_pairs_would_decide_it():
    # 119 pairs, 5 with a hit: 3 matched, one on each side alone
    vi = pd.DataFrame({"concept::x": [1, 1, 1, 1, 0] + [0] * 114})
    en = pd.DataFrame({"concept::x": [1, 1, 1, 0, 1] + [0] * 114})
    den = pd.DataFrame({"sentences": np.full(119, 25), "documents": 1})
    row = eq.equivalence_table(vi, en, den, den, X_INDEX, n_boot=2000, n_resamples=500, seed=1).iloc[0]
    assert row["ratio"] == pytest.approx(1.0) and row["p"] == 1.0 and not row["flag"]  # "not significant" ...
    assert row["status"] == "undetermined"  # ... is not "the same"
    assert row["pairs_needed"] > 119
    # closed form: |L| = 0, target half-width log 1.25, n (z se / target)^2 (or the hits rule, if larger)
    logs = eq.bootstrap_log_ratios(
        vi.to_numpy(float),
        den["sentences"].to_numpy(float),
        en.to_numpy(float),
        den["sentences"].to_numpy(float),
        n_boot=2000,
        rng=eq.keyed_rng(1, "equivalence", "sentences"),
    )
    by_spread = 119 * (stats.norm.ppf(0.95) * logs.std(ddof=1) / np.log(1.25)) ** 2
    assert row["pairs_needed"] == np.ceil(max(by_spread, 119 * 4 / 4))
    # one hit, matched: a zero-width interval at 1, but one unseen discordant hit would move it out
    one_vi, one_en = pd.DataFrame({"concept::x": [1] + [0] * 118}), pd.DataFrame({"concept::x": [1] + [0] * 118})
    one = eq.equivalence_table(one_vi, one_en, den, den, X_INDEX, n_boot=500, n_resamples=200, seed=1).iloc[0]
    assert 0.99 < one["ci90_low"] <= one["ci90_high"] < 1.01
    assert one["status"] == "undetermined" and "one more hit" in one["reason"]
    assert one["pairs_needed"] == 119 * 4  # 4 hits a side: (4 + 1.5)/(4 + 0.5) <= 1.25 < (3 + 1.5)/(3 + 0.5)
    # and an entry never hit is undetermined with nothing to plan from
    none = eq.equivalence_table(one_vi * 0, one_en * 0, den, den, X_INDEX, n_boot=100, n_resamples=100, seed=1).iloc[0]
    assert none["status"] == "undetermined" and np.isnan(none["pairs_needed"]) and np.isnan(none["tost_p"])


def test_tost_p_by_hand_on_a_tiny_example():
    # three pairs, one entry; the bootstrap redone by hand, resample by resample
    vi, en = np.array([[3.0], [1.0], [2.0]]), np.array([[2.0], [2.0], [2.0]])
    dv, de = np.array([10.0, 10.0, 10.0]), np.array([10.0, 11.0, 9.0])
    rng = eq.keyed_rng(5, "equivalence", "sentences")
    draws = rng.integers(0, 3, size=(400, 3))
    by_hand = np.array(
        [np.log((vi[d, 0].sum() + 0.5) / dv[d].sum()) - np.log((en[d, 0].sum() + 0.5) / de[d].sum()) for d in draws]
    )
    delta = np.log(1.25)
    p_low = (1 + np.sum(by_hand <= -delta)) / 401
    p_high = (1 + np.sum(by_hand >= delta)) / 401
    table = eq.equivalence_table(
        pd.DataFrame({"concept::x": vi[:, 0]}),
        pd.DataFrame({"concept::x": en[:, 0]}),
        pd.DataFrame({"sentences": dv}),
        pd.DataFrame({"sentences": de}),
        X_INDEX,
        n_boot=400,
        n_resamples=100,
        seed=5,
    )
    assert table["tost_p"].iloc[0] == pytest.approx(max(p_low, p_high))
    assert table["ratio"].iloc[0] == pytest.approx((6.5 / 30) / (6.5 / 30))
    lo90, hi90 = np.quantile(by_hand, [0.05, 0.95])
    assert (table["ci90_low"].iloc[0], table["ci90_high"].iloc[0]) == pytest.approx((np.exp(lo90), np.exp(hi90)))
    # the interval and the p-value agree: TOST rejects at 5% exactly when the 90% interval is inside
    x = np.random.default_rng(0).normal(0.05, 0.08, size=(4000, 1))
    _, _, p = eq.tost_pvalues(x, margin=1.25)
    lo, hi = eq.percentile_interval(x, level=0.90)
    assert (p[0] < 0.05) == (lo[0] > -delta and hi[0] < delta)


def test_the_bootstrap_tost_p_is_close_to_statsmodels_paired_t_tost_on_normal_log_ratios():
    # where both apply (a log ratio that is a mean of well-behaved per-pair values), they agree
    weightstats = pytest.importorskip("statsmodels.stats.weightstats")
    rng = np.random.default_rng(21)
    a = rng.normal(0.0, 0.3, size=200)
    b = a + rng.normal(0.1, 0.6, size=200)
    p_t = weightstats.ttost_paired(b, a, -np.log(1.25), np.log(1.25))[0]
    w = eq._weights(200, 20000, np.random.default_rng(22))
    means = (w @ (b - a)) / 200
    _, _, p_boot = eq.tost_pvalues(means[:, None], margin=1.25)
    assert p_boot[0] == pytest.approx(p_t, abs=0.02)


def test_status_shares_and_the_summary_lead_with_what_was_shown():
    codebook = parse_codebook(CODEBOOK)
    vi, en = pair_annotations(codebook, n=60, extra_vi=30)
    counts_vi, den_vi = eq.entry_counts(vi, codebook)
    counts_en, den_en = eq.entry_counts(en, codebook)
    table = eq.equivalence_table(
        counts_vi, counts_en, den_vi, den_en, eq.entry_index(codebook), n_boot=400, n_resamples=500, seed=1
    )
    shares = eq.status_shares(table).set_index("kind")
    # trade: matched (shown equivalent); economy: 1.5x (shown not equivalent); only_vi: vi only (shown not equivalent)
    assert shares.loc["concept", ["tested", "shown_equivalent", "shown_not_equivalent", "undetermined"]].tolist() == [
        3,
        1,
        2,
        0,
    ]
    assert shares.loc["concept", "shown_equivalent_share"] == pytest.approx(1 / 3)
    summary = eq.summary_table(table, den_vi, den_en)
    assert summary["measure"].iloc[3].startswith("frames shown equivalent")
    rows = dict(zip(summary["measure"], summary["value"]))
    assert rows[
        "concepts shown not equivalent (outside [0.80, 1.25], BH over the concepts at 5%), "
        "share of 3 concepts with a hit"
    ] == round(2 / 3, 4)
    goal = summary[summary["measure"].str.startswith("share of all")].iloc[0]
    assert goal["met"] == "no" and goal["goal"] == "<= 0.02"
    assert not summary["measure"].str.contains("flagged non-equivalent").any()


def test_the_denominator_table_reports_status_shares_under_each_candidate_including_presence():
    codebook = parse_codebook(CODEBOOK)
    vi, en = pair_annotations(codebook, n=40)
    counts_vi, den_vi = eq.entry_counts(vi, codebook)
    counts_en, den_en = eq.entry_counts(en, codebook)
    table = eq.denominator_table(
        counts_vi, counts_en, den_vi, den_en, eq.entry_index(codebook), n_boot=200, n_resamples=200, seed=1
    )
    assert table["denominator"].tolist() == list(eq.MEASURES) and "presence" in eq.MEASURES
    for status in ("shown_equivalent", "shown_not_equivalent", "undetermined"):
        assert f"concepts_{status}_share" in table.columns and f"frames_{status}_share" in table.columns
    row = table.set_index("denominator")
    # presence per document: trade and economy (matched in every pair) are shown equivalent, only_vi (Vietnamese only)
    # is not
    assert row.loc["presence", "concepts_shown_equivalent_share"] == pytest.approx(2 / 3)
    presence = eq.equivalence_table(
        counts_vi,
        counts_en,
        den_vi,
        den_en,
        eq.entry_index(codebook),
        denominator="presence",
        n_boot=200,
        n_resamples=200,
        seed=1,
    ).set_index(["kind", "entry"])
    assert presence.loc[("concept", "trade"), "hits_vi"] == 26  # pairs with at least one trade hit (i % 3 != 0)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.integers(min_value=3, max_value=30).flatmap(
        lambda n: st.tuples(
            st.lists(st.integers(0, 4), min_size=n, max_size=n),
            st.lists(st.integers(0, 4), min_size=n, max_size=n),
            st.lists(st.integers(1, 30), min_size=n, max_size=n),
            st.lists(st.integers(1, 30), min_size=n, max_size=n),
        )
    )
)
def test_swapping_the_languages_inverts_the_ratio_and_keeps_the_verdict(data):
    hv, he, sv, se = data
    vi, en = pd.DataFrame({"concept::x": hv}), pd.DataFrame({"concept::x": he})
    dv, de = pd.DataFrame({"sentences": sv}), pd.DataFrame({"sentences": se})
    one = eq.equivalence_table(vi, en, dv, de, X_INDEX, n_boot=200, n_resamples=200, seed=3).iloc[0]
    two = eq.equivalence_table(en, vi, de, dv, X_INDEX, n_boot=200, n_resamples=200, seed=3).iloc[0]
    assert one["ratio"] * two["ratio"] == pytest.approx(1.0)
    assert one["ci_low"] * two["ci_high"] == pytest.approx(1.0) and one["ci90_high"] * two["ci90_low"] == pytest.approx(
        1.0
    )
    assert one["status"] == two["status"]
    for column in ("tost_p", "pairs_needed", "p"):
        assert (np.isnan(one[column]) and np.isnan(two[column])) or one[column] == pytest.approx(two[column])


# ------------------------------------------------------------- verdicts corrected across the family


def test_the_verdicts_are_benjamini_hochberg_adjusted_within_each_kind_by_hand():
    # five concepts and two frames; BH within each kind, by hand: q_(i) = min_{j >= i} m p_(j) / j
    tost_p = np.array([0.004, 0.03, 0.012, 0.5, np.nan, 0.02, 0.3])
    p_outside = np.array([1.0, 1.0, 1.0, 0.009, np.nan, 1.0, 0.04])
    kinds = np.array(["concept"] * 5 + ["frame"] * 2)
    status, tost_q, q_outside = eq.equivalence_status(tost_p, p_outside, families=kinds)
    # concepts (4 with a p): sorted 0.004, 0.012, 0.03, 0.5 -> 4*0.004/1, 4*0.012/2, 4*0.03/3, 0.5
    assert tost_q[:4] == pytest.approx([0.016, 0.04, 0.024, 0.5]) and np.isnan(tost_q[4])
    # p_outside of concepts: 0.009 is the smallest of 4 -> 0.036; the frames' 0.04 is the smallest of 2 -> 0.08
    assert q_outside[3] == pytest.approx(0.036) and q_outside[6] == pytest.approx(0.08)
    assert tost_q[5:] == pytest.approx([0.04, 0.3])
    assert status.tolist() == [eq.SHOWN_EQUIVALENT] * 3 + [eq.SHOWN_NOT_EQUIVALENT, eq.UNDETERMINED] + [
        eq.SHOWN_EQUIVALENT,
        eq.UNDETERMINED,  # not equivalent on its own (0.04), not after the correction (0.08)
    ]
    # Holm (also offered) is stricter: 4 * 0.004, 3 * 0.012, 2 * 0.03 -> the third concept is no longer shown
    holm, _, _ = eq.equivalence_status(tost_p, p_outside, families=kinds, correction="holm")
    assert holm[:3].tolist() == [eq.SHOWN_EQUIVALENT, eq.UNDETERMINED, eq.SHOWN_EQUIVALENT]
    # without a correction, each p decides on its own
    none, q, _ = eq.equivalence_status(tost_p, p_outside, families=kinds, correction="none")
    assert np.array_equal(q, tost_p, equal_nan=True) and none[1] == eq.SHOWN_EQUIVALENT
    assert none[6] == eq.SHOWN_NOT_EQUIVALENT


def test_verdict_pvalues_are_the_duals_of_the_intervals_and_keep_the_one_more_hit_rule():
    x = np.random.default_rng(4).normal(0.1, 0.09, size=(5000, 1))
    many = np.array([1e6])
    tost_robust, p_outside = eq.verdict_pvalues(x, many, many, margin=1.25)
    _, _, tost_p = eq.tost_pvalues(x, margin=1.25)
    assert tost_robust[0] == pytest.approx(tost_p[0], abs=1e-3)  # a million hits: one more moves nothing
    lo, hi = eq.percentile_interval(x, level=0.90)
    assert (tost_robust[0] < 0.05) == (lo[0] > -np.log(1.25) and hi[0] < np.log(1.25))
    # p_outside: twice the share of replicates at or below log 1.25 (this ratio is above the margin)
    y = np.random.default_rng(5).normal(0.5, 0.1, size=(3000, 1))
    _, p_out = eq.verdict_pvalues(y, many, many, margin=1.25)
    assert p_out[0] == pytest.approx(2 * (1 + (y <= np.log(1.25)).sum()) / 3001)
    lo95, _ = eq.percentile_interval(y, level=0.95)
    assert (p_out[0] < 0.05) == (lo95[0] > np.log(1.25))
    # four hits a side at a ratio of 1 with a zero-width interval: one more hit moves it out by log(5.5 / 4.5)
    zero = np.zeros((1000, 1))
    robust4, _ = eq.verdict_pvalues(zero, np.array([4.0]), np.array([4.0]))
    robust3, _ = eq.verdict_pvalues(zero, np.array([3.0]), np.array([3.0]))
    assert robust4[0] == pytest.approx(1 / 1001) and robust3[0] == 1.0  # log(4.5 / 3.5) > log 1.25


def edge_tables(n_tables, *, n_entries=100, n_pairs=150, seed=0):
    """Per table, the verdict p-values of ``n_entries`` independent entries whose true vi/en ratio is
    exactly the margin, 1.25 (vi 0.25, en 0.2 hits per sentence; 25 sentences a pair; translations
    share most hits)."""
    rng = np.random.default_rng(seed)
    sentences = np.full(n_pairs, 25.0)
    for _ in range(n_tables):
        shared = rng.poisson(0.18 * 25, size=(n_pairs, n_entries))
        vi = shared + rng.poisson(0.07 * 25, size=(n_pairs, n_entries))
        en = shared + rng.poisson(0.02 * 25, size=(n_pairs, n_entries))
        b = eq.verdict_resamples(1000, n_entries)
        logs = eq.bootstrap_log_ratios(
            vi.astype(float), sentences, en.astype(float), sentences, n_boot=b, rng=rng, paired=True
        )
        yield eq.verdict_pvalues(logs, vi.sum(0), en.sum(0), margin=1.25)


def test_with_every_ratio_at_the_margin_false_verdicts_are_controlled_after_the_correction():
    """At the edge of the margin both verdicts are false. Per entry each errs about 2.5% (not
    equivalent) and 5% (equivalent) of the time, so 60 entries give a few false verdicts a table;
    Benjamini-Hochberg over the family keeps the chance of any false one near its rate (5%, of
    which only the 2.5% one-sided part can err here)."""
    n_tables, n_entries = 30, 60
    any_not, any_eq, false_not_raw, false_eq_raw = 0, 0, 0, 0
    for tost_p, p_outside in edge_tables(n_tables, n_entries=n_entries, n_pairs=100):
        status, _, _ = eq.equivalence_status(tost_p, p_outside)
        raw, _, _ = eq.equivalence_status(tost_p, p_outside, correction="none")
        any_not += (status == eq.SHOWN_NOT_EQUIVALENT).any()
        any_eq += (status == eq.SHOWN_EQUIVALENT).any()
        false_not_raw += (raw == eq.SHOWN_NOT_EQUIVALENT).sum()
        false_eq_raw += (raw == eq.SHOWN_EQUIVALENT).sum()
    # uncorrected: about 2.5% and 5% of entries (the simulation is at the edge, and the per-entry tests are sized)
    assert 0.01 < false_not_raw / (n_tables * n_entries) < 0.045
    assert 0.025 < false_eq_raw / (n_tables * n_entries) < 0.08
    # corrected: tables with any false verdict, expected at most 0.75 and 1.5 of 30 (binomial tails 4 and 6: p < 0.01),
    # where uncorrected nearly every table has one (1 - 0.975^60 = 78%, 1 - 0.95^60 = 95%)
    assert any_not <= 4
    assert any_eq <= 6


def test_one_clear_difference_among_many_entries_is_still_shown_not_equivalent():
    """With 150 entries, BH's first threshold is 0.05 / 150: 2,000 resamples (smallest p_outside 2 / 2001)
    could never reach it, so the resamples are raised (verdict_resamples) and a doubling is shown."""
    rng = np.random.default_rng(8)
    n_pairs, entries = 119, 150
    shared = rng.poisson(0.2 * 25, size=(n_pairs, entries))
    vi = shared + rng.poisson(0.02 * 25, size=(n_pairs, entries))
    en = shared + rng.poisson(0.02 * 25, size=(n_pairs, entries))
    vi[:, 0] = 2 * en[:, 0]
    columns = [f"concept::c{i}" for i in range(entries)]
    index = pd.DataFrame(
        {"kind": "concept", "family": "", "entry": [f"c{i}" for i in range(entries)], "label": "", "patterns_vi": 1}
    ).assign(patterns_en=1)
    den = pd.DataFrame({"sentences": np.full(n_pairs, 25), "documents": 1})
    table = eq.equivalence_table(
        pd.DataFrame(vi, columns=columns),
        pd.DataFrame(en, columns=columns),
        den,
        den,
        index,
        n_boot=2000,
        n_resamples=200,
        seed=2,
    )
    assert eq.verdict_resamples(2000, entries) == 5999 and (table["resamples"] == 5999).all()
    row = table.iloc[0]
    assert row["status"] == eq.SHOWN_NOT_EQUIVALENT and row["q_outside"] < 0.05
    assert row["p_outside"] == pytest.approx(2 / 6000)  # no replicate inside the margin
    assert (table["status"].iloc[1:] != eq.SHOWN_NOT_EQUIVALENT).all()
    assert (table["correction"] == "bh").all()
    assert (table["adjusted_within"] == "concepts with a hit in the translated pairs (150 tests)").all()
    shown = table["status"] == eq.SHOWN_EQUIVALENT
    assert shown.sum() > 100 and (table.loc[shown, "tost_q"] < 0.05).all()
    assert (table["status_per_entry"] == eq.SHOWN_EQUIVALENT).sum() >= shown.sum()  # the correction only removes
