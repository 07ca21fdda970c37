"""Frame and actor metrics: hand-counted salience, voice rules, units, and the group tests."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from scipy import stats
from scipy.spatial.distance import jensenshannon

from analysis.framing.codebook import parse_codebook
from analysis.framing.measures import (
    UNATTRIBUTED,
    actor_salience,
    annotate,
    annotation_coverage,
    annotation_tables,
    attribute_statements,
    concept_counts,
    entry_matrix,
    frame_salience,
    unit_sentences,
)
from analysis.stats.groups import (
    bootstrap_ci,
    distribution_tests,
    group_means,
    group_order,
    group_tests,
    keyed_rng,
    permutation_test,
)
from analysis.text.dtm import DocTermMatrix, reindex_rows, to_frame
from analysis.text.tokens import PreparedDocument, TermRules
from analysis.text.units import make_units

CODEBOOK = parse_codebook(
    """
frames:
  issue:
    cooperation: {label: Cooperation, vi: [hợp_tác], en: [cooperation]}
    trade: {label: Trade, vi: [thương_mại, kinh_tế], en: [trade, economic]}
    sea: {label: Sea, vi: [biển_đông], en: [East Sea]}
  generic:
    conflict: {vi: [bất_đồng], en: [disagreement]}
actors:
  son: {label: Bùi Thanh Sơn, kind: person, vi: [bùi_thanh_sơn], en: [Bui Thanh Son]}
  wang_yi: {label: Wang Yi, kind: person, vi: [vương_nghị], en: [Wang Yi]}
  guangxi: {kind: region, vi: [quảng_tây], en: [Guangxi]}
  china: {kind: country, vi: [trung_quốc], en: [China]}
concepts:
  cooperation: {vi: [hợp_tác], en: [cooperation]}
  trade: {vi: [thương_mại], en: [trade]}
speech_verbs:
  vi: [đề_nghị, khẳng_định, cho biết]
  en: [say, suggest, ask]
"""
)
RULES = TermRules(
    {
        "vi": frozenset({"và", "ông", "với", "cũng"}),
        "en": frozenset({"the", "and", "to", "he", "said", "say", "ask", "asked"}),
    }
)


def vi_doc(doc_id="v1"):
    # headline; lead; body (3 sentences in 2 paragraphs)
    return PreparedDocument(
        doc_id,
        "vi",
        [
            [["Hợp_tác", "thương_mại", "."]],
            [
                ["Bộ_trưởng", "Bùi_Thanh_Sơn", "khẳng_định", "hợp_tác", "kinh_tế", "."],
                ["Ông", "cũng", "đề_nghị", "Quảng_Tây", "thúc_đẩy", "thương_mại", "."],
            ],
            [["Vương_Nghị", ",", "đề_nghị", "hợp_tác", "về", "Biển_Đông", "."]],
        ],
    )


def test_annotate_and_frame_salience_by_hand():
    docs = frame_salience([annotate(vi_doc(), RULES, CODEBOOK)], CODEBOOK, "document")
    rows = docs.set_index("frame")
    # counted tokens: 2 + 5 + 4 + 5 ("về" is counted here: not a stopword in RULES) = 16
    assert rows.loc["cooperation", "tokens"] == 16
    assert rows.loc["cooperation", "hits"] == 3 and rows.loc["trade", "hits"] == 3 and rows.loc["sea", "hits"] == 1
    assert rows.loc["cooperation", "per_1000"] == pytest.approx(1000 * 3 / 16)
    assert rows.loc["trade", "share"] == pytest.approx(3 / 7)
    assert rows.loc["cooperation", "dominant"] and rows.loc["trade", "dominant"] and not rows.loc["sea", "dominant"]
    assert (
        not rows.loc["conflict", "present"]
        and not rows.loc["conflict", "dominant"]
        and rows.loc["conflict", "share"] == 0
    )
    presence = frame_salience([annotate(vi_doc(), RULES, CODEBOOK)], CODEBOOK, "document", min_hits=2).set_index(
        "frame"
    )
    assert presence.loc["cooperation", "present"] and not presence.loc["sea", "present"]


@pytest.mark.parametrize("kind, window", [("document", 3), ("paragraph", 3), ("sentences", 2), ("sentences", 1)])
def test_units_are_cut_like_make_units(kind, window):
    doc = vi_doc()
    annotation = annotate(doc, RULES, CODEBOOK)
    expected = make_units(doc, RULES, kind=kind, window=window)
    got = unit_sentences(annotation, kind, window)
    assert [u.unit_id for u in expected] == [g[0] for g in got]
    for unit, (_, _, members) in zip(expected, got):
        assert len(unit.terms) == sum(annotation.counted[s] for s in members)
    units = frame_salience([annotation], CODEBOOK, kind, window=window)
    assert units.groupby("frame")["hits"].sum().to_dict() == {"cooperation": 3, "trade": 3, "sea": 1, "conflict": 0}


def test_statements_subject_pronoun_and_addressee():
    annotation = annotate(vi_doc(), RULES, CODEBOOK)
    statements = attribute_statements(annotation, window=8, persons=frozenset({"son", "wang_yi"}))
    assert statements == [
        (1, "son", "khẳng_định", 0, "subject"),
        (2, "son", "đề_nghị", 1, "pronoun"),  # "Ông cũng đề_nghị Quảng_Tây": Quảng_Tây is the addressee
        (3, UNATTRIBUTED, "đề_nghị", -1, ""),  # a comma separates Vương_Nghị from the verb
    ]


def test_english_inversion_only_after_say():
    doc = PreparedDocument(
        "e1",
        "en",
        [
            [
                ["Trade", "will", "grow", ",", "said", "Wang Yi", "."],
                ["Bui Thanh Son", "asked", "China", "to", "trade", "."],
            ]
        ],
    )
    statements = attribute_statements(annotate(doc, RULES, CODEBOOK), persons=frozenset({"son", "wang_yi"}))
    assert statements == [(0, "wang_yi", "say", 0, "inversion"), (1, "son", "ask", 0, "subject")]


def test_actor_salience_first_mention_and_voice():
    actors, statements = actor_salience([annotate(vi_doc(), RULES, CODEBOOK)], CODEBOOK, lead_sentences=2)
    rows = actors.set_index("actor")
    assert (
        rows.loc["son", "mentions"] == 1
        and rows.loc["son", "first_sentence"] == 1
        and rows.loc["son", "first_position"] == "headline/lead"
    )
    assert rows.loc["wang_yi", "first_position"] == "body" and rows.loc["china", "first_position"] == ""
    assert rows.loc["son", "mention_share"] == pytest.approx(1 / 3)
    assert rows.loc["son", "statements"] == 2 and rows.loc["son", "voice_share"] == pytest.approx(1.0)
    assert statements["text"].iloc[1] == "Ông cũng đề_nghị Quảng_Tây thúc_đẩy thương_mại ."


def test_concept_counts():
    table = concept_counts([annotate(vi_doc(), RULES, CODEBOOK), annotate(vi_doc("v2"), RULES, CODEBOOK)])
    # concepts and actors share the axis; "kinh_tế" is a frame pattern but no concept; China is never named
    assert table.loc["v1"].to_dict() == {"cooperation": 3, "guangxi": 1, "son": 1, "trade": 2, "wang_yi": 1}
    assert list(table.columns) == sorted(table.columns) and list(table.index) == ["v1", "v2"]


def test_entry_matrix_is_a_document_term_matrix_of_entry_ids():
    annotations = [
        annotate(vi_doc(), RULES, CODEBOOK),
        annotate(PreparedDocument("x", "vi", [[["Mưa", "."]]]), RULES, CODEBOOK),
    ]
    m = entry_matrix(annotations)
    assert isinstance(m, DocTermMatrix) and sp.isspmatrix_csr(m.counts) and m.counts.dtype == np.int64
    # the hand count of test_concept_counts, as a sparse row; the document without hits is a zero row
    assert m.vocab == ["cooperation", "guangxi", "son", "trade", "wang_yi"] and m.row_ids == ["v1", "x"]
    assert m.counts.toarray().tolist() == [[3, 1, 1, 2, 1], [0, 0, 0, 0, 0]]
    assert m.history == ["entry_matrix(section=concepts)"]
    # actors alone, every codebook actor a column when vocab fixes them (zero columns kept)
    actors = entry_matrix(annotations, section="actors", vocab=["china", "guangxi", "son", "wang_yi"])
    assert actors.counts.toarray().tolist() == [[0, 1, 1, 1], [0, 0, 0, 0]]
    with pytest.raises(ValueError, match="section"):
        entry_matrix(annotations, section="frames")
    # rows aligned to metadata order, a document without annotation gets zeros, docvars attached
    docvars = pd.DataFrame({"language": ["vi", "en", "vi"]}, index=["x", "e9", "v1"])
    aligned = reindex_rows(m, list(docvars.index), docvars)
    assert aligned.counts.toarray().tolist() == [[0] * 5, [0] * 5, [3, 1, 1, 2, 1]]
    assert aligned.docvars["language"].tolist() == ["vi", "en", "vi"]


def _mixed_corpus():
    """Documents with and without hits, statements and concepts (so some chunks have empty tables)."""
    plain = PreparedDocument("x0", "vi", [[["Trời", "mưa", "."]]])
    english = PreparedDocument(
        "e1", "en", [[["Trade", "will", "grow", ",", "said", "Wang Yi", "."], ["China", "and", "trade", "."]]]
    )
    return [plain, vi_doc("v1"), PreparedDocument("x1", "vi", [[["Mưa", "."]]]), english, vi_doc("v2")]


@pytest.mark.parametrize("chunk", [1, 2, 3, 100])
@pytest.mark.parametrize("kind, window", [("document", 3), ("sentences", 2)])
def test_streamed_tables_equal_the_tables_of_every_annotation(chunk, kind, window):
    docs = _mixed_corpus()
    annotations = [annotate(d, RULES, CODEBOOK) for d in docs]
    got = annotation_tables(iter(docs), RULES, CODEBOOK, kind=kind, window=window, min_hits=2, chunk=chunk)
    pd.testing.assert_frame_equal(got.units, frame_salience(annotations, CODEBOOK, kind, window=window, min_hits=2))
    pd.testing.assert_frame_equal(got.documents, frame_salience(annotations, CODEBOOK, "document", min_hits=2))
    actors, statements = actor_salience(annotations, CODEBOOK)
    pd.testing.assert_frame_equal(got.actors, actors)
    pd.testing.assert_frame_equal(got.statements, statements)
    assert len(statements) == 7  # 3 speech verbs in each vi document (see the test above), "said" in English
    pd.testing.assert_frame_equal(to_frame(got.concepts), concept_counts(annotations))
    assert sp.issparse(got.concepts.counts) and got.concepts.row_ids == ["x0", "v1", "x1", "e1", "v2"]
    for table, expected in zip((got.coverage, got.unmapped), annotation_coverage(annotations)):
        pd.testing.assert_frame_equal(table, expected)
    assert got.sentences == {"x0": 1, "v1": 4, "x1": 1, "e1": 2, "v2": 4}
    assert got.languages == {"x0": "vi", "v1": "vi", "x1": "vi", "e1": "en", "v2": "vi"}


def test_streamed_tables_of_no_document_are_the_empty_tables():
    got = annotation_tables([], RULES, CODEBOOK)
    pd.testing.assert_frame_equal(got.documents, frame_salience([], CODEBOOK))
    assert got.actors.empty and got.statements.empty and got.sentences == {}
    with pytest.raises(ValueError, match="chunk"):
        annotation_tables([], RULES, CODEBOOK, chunk=0)


# --------------------------------------------------------------------------- group statistics


def test_bootstrap_is_reproducible_with_a_seed():
    values = np.array([1.0, 4.0, 2.0, 8.0, 5.0])
    a = bootstrap_ci(values, n_resamples=500, rng=keyed_rng(1, "x"))
    b = bootstrap_ci(values, n_resamples=500, rng=keyed_rng(1, "x"))
    c = bootstrap_ci(values, n_resamples=500, rng=keyed_rng(2, "x"))
    assert a == b and a != c
    assert a[0] < values.mean() < a[1]
    assert all(math.isnan(v) for v in bootstrap_ci(np.array([3.0]), n_resamples=500, rng=keyed_rng(1)))
    assert bootstrap_ci(np.array([2.0, 2.0]), n_resamples=500, rng=keyed_rng(1)) == (2.0, 2.0)


def test_exact_permutation_test_equals_scipy():
    x, y = np.array([3.1, 4.2, 5.0, 6.3]), np.array([1.0, 2.2, 2.9])
    p, smallest, exact = permutation_test(x, y, n_resamples=5000, rng=keyed_rng(1))
    reference = stats.permutation_test(
        (x, y), lambda a, b, axis: a.mean(axis=axis) - b.mean(axis=axis), vectorized=True, n_resamples=5000
    )
    assert exact and p == pytest.approx(reference.pvalue) and smallest == pytest.approx(2 / 35)


def test_random_permutation_test_is_reproducible_and_agrees_with_scipy():
    rng = np.random.default_rng(0)
    x, y = rng.normal(1.0, 1.0, 15), rng.normal(0.0, 1.0, 15)
    p1, _, exact = permutation_test(x, y, n_resamples=2000, rng=keyed_rng(9, "a"))
    p2, _, _ = permutation_test(x, y, n_resamples=2000, rng=keyed_rng(9, "a"))
    assert not exact and p1 == p2
    reference = stats.permutation_test(
        (x, y),
        lambda a, b, axis: a.mean(axis=axis) - b.mean(axis=axis),
        vectorized=True,
        n_resamples=2000,
        rng=np.random.default_rng(1),
    ).pvalue
    assert abs(p1 - reference) < 0.02


def test_one_document_against_four_cannot_be_significant():
    p, smallest, exact = permutation_test(
        np.array([1.0, 2.0, 3.0, 4.0]), np.array([100.0]), n_resamples=5000, rng=keyed_rng(1)
    )
    assert exact and smallest == pytest.approx(0.4) and p == pytest.approx(0.4)


def long_table():
    # frame "coop": vi documents 10, 20, 30, 40; en document 90. frame "sea": all 5.
    docs = ["v1", "v2", "v3", "v4", "e1"]
    values = {"coop": [10, 20, 30, 40, 90], "sea": [5, 5, 5, 5, 5]}
    rows = [(d, "issue", item, float(v)) for item, vs in values.items() for d, v in zip(docs, vs)]
    return pd.DataFrame(rows, columns=["doc_id", "family", "item", "value"]), {
        d: d[0].replace("v", "vi").replace("e", "en") for d in docs
    }


def test_group_means_and_too_small_notes():
    long, groups = long_table()
    order = group_order(groups.values(), ("vi", "en"))
    assert order == ["vi", "en"]
    means = group_means(long, groups, order=order, n_resamples=1000, seed=7, min_docs=5).set_index(["item", "group"])
    assert means.loc[("coop", "vi"), "mean"] == pytest.approx(25.0) and means.loc[("coop", "vi"), "n_docs"] == 4
    # studentized: wider than the data's range at 4 documents (the percentile interval, [10, 40] at most, under-covered)
    low, high = means.loc[("coop", "vi"), "ci_low"], means.loc[("coop", "vi"), "ci_high"]
    assert low < 25.0 < high and (low < 10 or high > 40)
    assert (low, high) == bootstrap_ci(
        np.array([10.0, 20.0, 30.0, 40.0]), n_resamples=1000, rng=keyed_rng(7, "mean", "issue", "coop", "vi")
    )
    assert math.isnan(means.loc[("coop", "en"), "ci_low"])
    assert means.loc[("coop", "en"), "note"] == (
        "too small: en has 1 document (fewer than 5; below it, 95% intervals cover less than 93% in simulation);"
        " one document: no interval"
    )
    assert group_means(long, groups, order=order, n_resamples=1000, seed=7).equals(
        group_means(long, groups, order=order, n_resamples=1000, seed=7)
    )


def test_a_mean_of_mostly_zero_documents_is_flagged_sparse():
    """40 documents, 3 of them with hits: enough documents, too few with hits to bound the mean
    (the coverage simulation behind MIN_DOCS_WITH_HITS); 5 with hits is not flagged."""
    from analysis.stats.groups import MIN_DOCS_WITH_HITS

    docs = [f"d{i}" for i in range(40)]
    values = np.zeros(40)
    values[:3] = [4.0, 7.0, 2.0]
    five = values.copy()
    five[3:5] = [1.0, 3.0]
    long = pd.DataFrame(
        {
            "doc_id": docs * 2,
            "family": "issue",
            "item": ["three"] * 40 + ["five"] * 40,
            "value": np.concatenate([values, five]),
        }
    )
    means = group_means(long, dict.fromkeys(docs, "vi"), order=["vi"], n_resamples=200, seed=1, min_docs=20).set_index(
        "item"
    )
    assert (
        MIN_DOCS_WITH_HITS == 5
        and means.loc["three", "docs_with_hits"] == 3
        and means.loc["five", "docs_with_hits"] == 5
    )
    assert (
        "sparse: 3 document(s) with hits (fewer than 5;" in means.loc["three", "note"]
        and not means.loc["three", "too_small"]
    )
    assert "sparse" not in means.loc["five", "note"]


def test_group_tests_report_the_smallest_attainable_p():
    long, groups = long_table()
    tests = group_tests(long, groups, ["vi", "en"], 5000, 7, min_docs=5).set_index("item")
    assert tests.loc["coop", "difference"] == pytest.approx(25.0 - 90.0)
    assert tests.loc["coop", "p"] == pytest.approx(0.4) and tests.loc["coop", "min_p"] == pytest.approx(0.4)
    assert tests.loc["sea", "p"] == 1.0
    assert tests.loc["coop", "too_small"] and "smallest attainable p = 0.4" in tests.loc["coop", "note"]
    assert tests["q"].notna().all()


def test_group_tests_compare_each_group_with_the_rest_when_there_are_three():
    long, groups = long_table()
    groups = {**groups, "v4": "other"}
    tests = group_tests(long, groups, ["vi", "en", "other"], 100, 7, min_docs=1)
    assert sorted(set(zip(tests["group_a"], tests["group_b"]))) == [("en", "rest"), ("other", "rest"), ("vi", "rest")]
    row = tests[(tests["item"] == "coop") & (tests["group_a"] == "vi")].iloc[0]
    assert (row["n_a"], row["n_b"]) == (3, 2)


def test_distribution_tests_equal_scipy():
    docs = ["v1", "v2", "e1"]
    hits = {"coop": [10, 6, 3], "trade": [2, 4, 9], "sea": [0, 0, 0], "border": [1, 1, 2]}
    rows = [(d, "issue", item, v) for item, vs in hits.items() for d, v in zip(docs, vs)]
    long = pd.DataFrame(rows, columns=["doc_id", "family", "item", "value"])
    result = distribution_tests(long, {"v1": "vi", "v2": "vi", "e1": "en"}, order=["vi", "en"], min_docs=5).iloc[0]
    table = np.array([[16, 3], [6, 9], [2, 2]])
    expected = stats.chi2_contingency(table, correction=False)
    assert (
        result["chi2"] == pytest.approx(expected.statistic)
        and result["dof"] == 2
        and result["p"] == pytest.approx(expected.pvalue)
    )
    assert result["jsd"] == pytest.approx(jensenshannon(table[:, 0], table[:, 1], base=2) ** 2)
    assert (result["hits_a"], result["hits_b"]) == (24, 14)
    assert result["too_small"] and "expected counts below 5" in result["note"]
    identical = pd.concat([long[long["doc_id"] == "v1"], long[long["doc_id"] == "v1"].assign(doc_id="e1")])
    assert distribution_tests(identical, {"v1": "vi", "e1": "en"}, order=["vi", "en"]).iloc[0]["jsd"] == pytest.approx(
        0.0, abs=1e-12
    )


def test_permutation_splits_drawn_in_chunks_equal_drawn_at_once(monkeypatch):
    """Chunking the random splits (bounded memory) changes no p-value: the random stream is the same."""
    import analysis.stats.groups as fr

    rng = np.random.default_rng(7)
    x, y = rng.normal(0.3, 1, 23), rng.normal(0, 1, 31)
    whole = fr.permutation_test(x, y, n_resamples=999, rng=np.random.default_rng(11))
    monkeypatch.setattr(fr, "RESAMPLE_CELLS", 54 * 7)  # 7 splits a chunk, the last one shorter
    assert fr.permutation_test(x, y, n_resamples=999, rng=np.random.default_rng(11)) == whole
    # and the reference: every split drawn at once, as scipy-style (k + 1) / (n + 1)
    pooled = np.concatenate([x, y])
    shuffled = np.random.default_rng(11).permuted(np.broadcast_to(pooled, (999, 54)), axis=1)  # Fisher–Yates per row
    null = shuffled[:, :23].sum(axis=1) / 23 - (pooled.sum() - shuffled[:, :23].sum(axis=1)) / 31
    observed = x.mean() - y.mean()
    p_greater = (np.sum(null >= observed - abs(1e-14 * observed)) + 1) / 1000
    p_less = (np.sum(null <= observed + abs(1e-14 * observed)) + 1) / 1000
    assert whole[0] == min(1.0, 2 * min(p_less, p_greater))


def test_bootstrap_in_batches_gives_the_interval_of_all_resamples_at_once(monkeypatch):
    """Batching the bootstrap (bounded memory) keeps the interval of all resamples drawn at once, bit for bit."""
    import analysis.stats.groups as fr
    import analysis.stats.resampling as rs

    values = np.random.default_rng(4).gamma(2.0, 1.0, 300)
    whole = fr.bootstrap_ci(values, n_resamples=999, rng=np.random.default_rng(8))
    monkeypatch.setattr(rs, "RESAMPLE_CELLS", 300 * 17)  # 17 resamples a batch
    assert fr.bootstrap_ci(values, n_resamples=999, rng=np.random.default_rng(8)) == whole


def test_frame_salience_per_100_sentences_feeds_frame_group_table_and_names_a_wrong_kind():
    """The cross-language rate through the public API: ``frame_group_table(rate="per_100_sentences")``
    on :func:`frame_salience`'s own columns (once a bare KeyError), and ``kind="unit"`` a ValueError
    that says which kinds there are."""
    from analysis.framing.tables import frame_group_table

    annotations = [annotate(vi_doc(f"v{i}"), RULES, CODEBOOK) for i in range(3)]
    docs = frame_salience(annotations, CODEBOOK, "document")
    row = docs.set_index(["doc_id", "frame"]).loc[("v0", "cooperation")]
    assert row["sentences"] == 4 and row["per_100_sentences"] == pytest.approx(100 * 3 / 4)  # 3 hits, 4 sentences
    table = frame_group_table(
        docs,
        frame_salience(annotations, CODEBOOK, "sentences", window=2),
        {f"v{i}": "vi" for i in range(3)},
        order=["vi"],
        labels={},
        n_resamples=50,
        seed=1,
        rate="per_100_sentences",
    ).set_index("frame")
    assert table.loc["cooperation", "mean_per_100_sentences"] == pytest.approx(75.0)
    with pytest.raises(ValueError, match="kind = 'unit' is not a unit kind: use one of document, paragraph, sentences"):
        frame_salience(annotations, CODEBOOK, "unit")


def test_coverage_from_annotations_equals_the_report_that_matches_again():
    from analysis.framing.codebook import coverage_report, sentence_keys
    from analysis.framing.measures import annotation_coverage

    rules = TermRules({"vi": frozenset({"và"}), "en": frozenset({"the"})})
    cb = parse_codebook(
        "frames:\n  issue:\n    coop: {vi: [hợp_tác], en: [cooperation]}\n  generic:\n    eco: {vi: [kinh_tế]}\n"
        "actors:\n  cn: {kind: country, vi: [trung_quốc], en: [China]}\n"
        "concepts:\n  coop: {vi: [hợp_tác], en: [cooperation]}\n  economy: {vi: [kinh_tế]}\n",
        stopwords=rules.stopwords,
    )
    docs = [
        PreparedDocument("v1", "vi", [[["Hợp_tác", "kinh_tế", "và", "du_lịch", "."], ["Trung_Quốc", "hợp_tác", "."]]]),
        PreparedDocument("v2", "vi", [[["Du_lịch", "."]]]),
        PreparedDocument("e1", "en", [[["The", "cooperation", "with", "China", "grew", "."]]]),
    ]
    annotations = [annotate(d, rules, cb) for d in docs]
    coverage, unmapped = annotation_coverage(annotations)
    expected = coverage_report({d.doc_id: (d.language, sentence_keys(d, rules)) for d in docs}, cb)
    pd.testing.assert_frame_equal(coverage, expected[0])
    pd.testing.assert_frame_equal(unmapped, expected[1])
    vi = coverage.set_index("language").loc["vi"]
    # counted vi: hợp_tác kinh_tế du_lịch trung_quốc hợp_tác du_lịch = 6; mapped 4 (not du_lịch); frames 3; actors 1
    assert (vi["tokens"], vi["mapped_tokens"], vi["frame_tokens"], vi["actor_tokens"]) == (6, 4, 3, 1)
