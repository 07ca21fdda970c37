"""Word keyness at scale (analysis/stats/keyness.py): only terms in ``min_docs`` documents or more are tested
(independent filtering, Bourgon, Gentleman & Huber 2010), and the comparisons are built one at a time
(``iter_document_keyness``, ``iter_keyness_comparisons``, the framing stage's streamed parts) with the tables
of the list path."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats

from analysis.stages.framing import _comparison_parts, _StreamedComparisons
from analysis.stats.keyness import (
    comparison_table,
    document_keyness,
    iter_document_keyness,
    iter_keyness_comparisons,
    keyness_comparisons,
    terms_to_test,
)
from analysis.stats.resampling import permutation_keyness

# documents × terms: "x" in 3 documents, "y" in 1, "z" in 2, "w" in every one
X = np.array(
    [
        [4, 0, 1, 2],
        [3, 5, 0, 2],
        [2, 0, 0, 3],
        [0, 0, 0, 2],
        [0, 0, 2, 2],
        [0, 0, 0, 3],
    ]
)
LABELS = ["a", "a", "a", "b", "b", "b"]
VOCAB = ["x", "y", "z", "w"]


def test_terms_to_test_counts_documents_not_tokens():
    """By hand: x is in 3 documents, y in 1 (with 5 tokens), z in 2, w in 6."""
    assert terms_to_test(X, 1) is None
    assert terms_to_test(X, 2).tolist() == [True, False, True, True]
    assert terms_to_test(X, 3).tolist() == [True, False, False, True]
    assert terms_to_test(X, 7).tolist() == [False, False, False, False]


def test_untested_terms_keep_their_effect_sizes_and_have_no_p():
    every = document_keyness(X, LABELS, VOCAB, [("a", "b")], n_resamples=200, rng=np.random.default_rng(0))[0]
    kept = document_keyness(X, LABELS, VOCAB, [("a", "b")], n_resamples=200, rng=np.random.default_rng(0), min_docs=3)[
        0
    ]
    every, kept = every.set_index("term"), kept.set_index("term")
    effects = ["count_a", "count_b", "g2", "log_ratio", "fw_z", "mean_a", "mean_b", "p_tokens"]
    pd.testing.assert_frame_equal(kept.loc[VOCAB, effects], every.loc[VOCAB, effects])
    assert kept.loc[["y", "z"], ["p", "q"]].isna().all().all()
    assert not kept.loc[["y", "z"], "decided"].any()
    assert kept.loc[["x", "w"], "p"].notna().all()
    # q is Benjamini-Hochberg over the two tested terms only
    p = kept.loc[["x", "w"], "p"].to_numpy()
    assert np.allclose(kept.loc[["x", "w"], "q"], stats.false_discovery_control(p, method="bh"))
    # 6 documents, 3 a side: 20 distinct splits, enumerated; x is in a's 3 documents only: p = 2/20
    assert math.isclose(kept.loc["x", "p"], 0.1)


def test_min_docs_one_is_the_unfiltered_table():
    a = document_keyness(X, LABELS, VOCAB, [("a", "b")], n_resamples=200, rng=np.random.default_rng(1))[0]
    b = document_keyness(X, LABELS, VOCAB, [("a", "b")], n_resamples=200, rng=np.random.default_rng(1), min_docs=1)[0]
    pd.testing.assert_frame_equal(a, b)


def test_a_kept_term_sees_the_same_splits():
    """Without the floor and the decisions (which depend on m), a kept term's p is its p without the filter:
    the rates count every term of a document and the splits are the same."""
    rng = np.random.default_rng(5)
    counts = rng.poisson(rng.gamma(0.5, 1.0, 60), (80, 60))
    counts[:, -1] += 20
    labels = np.repeat(["a", "b"], 40)
    keep = terms_to_test(counts, 4)
    assert 0 < keep.sum() < keep.size
    whole = permutation_keyness(
        counts, labels, ["a"], n_resamples=300, rng=np.random.default_rng(2), max_resamples=None, fdr_level=None
    )
    part = permutation_keyness(
        counts,
        labels,
        ["a"],
        n_resamples=300,
        rng=np.random.default_rng(2),
        max_resamples=None,
        fdr_level=None,
        select=keep,
    )
    assert np.array_equal(part.p[0, keep], whole.p[0, keep])
    assert np.isnan(part.p[0, ~keep]).all() and not part.decided[0, ~keep].any()
    assert np.array_equal(part.splits[0, keep], whole.splits[0, keep])


def test_the_filter_keeps_the_false_discovery_rate_under_the_null():
    """Complete null (labels at random, bursty counts, most terms in few documents): the share of tables with any
    q < 0.05 among the tested terms is the FDR; BH bounds it by 0.05 (Monte Carlo bound: 3 standard errors)."""
    rng = np.random.default_rng(20241207)
    reps, any_rejected, tested = 100, 0, []
    for _ in range(reps):
        base = rng.gamma(0.2, 1.0, 60)
        counts = rng.poisson(base * rng.gamma(1.5, 1.0, (40, 1)))
        counts[:, -1] += 30
        labels = rng.permutation(np.repeat(["a", "b"], 20))
        table = document_keyness(
            counts, labels, [f"t{j}" for j in range(60)], [("a", "b")], n_resamples=99, rng=rng, min_docs=3
        )[0]
        any_rejected += bool((table["q"] < 0.05).any())
        tested.append(int(table["p"].notna().sum()))
    assert 10 < np.mean(tested) < 55  # the filter bites: some terms are in fewer than 3 documents
    assert any_rejected / reps <= 0.05 + 3 * math.sqrt(0.05 * 0.95 / reps)


def comparisons_input():
    rng = np.random.default_rng(9)
    counts = rng.poisson(rng.gamma(0.4, 1.0, 50), (36, 50))
    counts[:, -1] += 10
    docs = [f"d{i}" for i in range(36)]
    groups = {d: ["p", "q", "r"][i % 3] for i, d in enumerate(docs)}
    return counts, docs, [f"w{j}" for j in range(50)], groups


def test_streamed_comparisons_are_the_list_path():
    counts, docs, vocab, groups = comparisons_input()

    def run(fn):
        return fn(counts, docs, vocab, groups, n_resamples=99, rng=np.random.default_rng(4), min_docs=2)

    listed, streamed = run(keyness_comparisons), list(run(iter_keyness_comparisons))
    assert [c.name for c in streamed] == ["p vs rest", "q vs rest", "r vs rest"]
    for a, b in zip(listed, streamed):
        pd.testing.assert_frame_equal(a.table, b.table)
    tables = list(
        iter_document_keyness(
            counts, [groups[d] for d in docs], vocab, [("p", "rest")], n_resamples=99, rng=np.random.default_rng(4)
        )
    )
    assert len(tables) == 1 and len(tables[0]) == int((counts.sum(axis=0) > 0).sum())  # terms with a count


def test_stage_parts_and_top_rows_whichever_is_asked_first():
    """The framing stage's streamed parts are the list path's parts (same rows, same dtypes: the same CSV
    bytes), and the top rows and test counts are those of the whole comparisons, in either order of use."""
    counts, docs, vocab, groups = comparisons_input()

    def build():
        return iter_keyness_comparisons(
            counts, docs, vocab, groups, n_resamples=99, rng=np.random.default_rng(4), min_docs=2
        )

    whole = list(build())
    expected = pd.concat(list(_comparison_parts(whole, 20, None, "none")), ignore_index=True)
    top = comparison_table(whole, min_docs=20, top_n=3, empty_note="none")
    streamed = _StreamedComparisons(build, top_n=3)
    parts = list(streamed.parts(20, "none"))
    assert len(parts) == 3
    pd.testing.assert_frame_equal(pd.concat(parts, ignore_index=True), expected)
    pd.testing.assert_frame_equal(comparison_table(streamed.tops(), min_docs=20, top_n=3, empty_note="none"), top)
    assert "every term in 2+ documents" in expected["adjusted_within"].iloc[0]
    assert set(expected.loc[expected["p"].isna(), "adjusted_within"]) == {
        "not tested: in fewer than 2 documents ([framing] keyness_min_docs)"
    }
    held = _StreamedComparisons(build, top_n=3)  # tops first: built once, kept for the parts
    pd.testing.assert_frame_equal(comparison_table(held.tops(), min_docs=20, top_n=3, empty_note="none"), top)
    pd.testing.assert_frame_equal(pd.concat(list(held.parts(20, "none")), ignore_index=True), expected)


def test_each_target_alone_has_the_p_it_has_among_all():
    """The targets share one copy of the rates of the terms still tested (sliced to their union) instead of a
    slice each: a target's p, split counts and decisions are those it gets tested alone on the same splits."""
    rng = np.random.default_rng(11)
    counts = rng.poisson(rng.gamma(0.5, 1.0, 120) * rng.gamma(2.0, 0.5, (90, 1)))
    labels = np.repeat(["a", "b", "c", "d", "e", "f"], 15)
    counts[:15, :10] += rng.poisson(2.0, (15, 10))  # a: key words, settled late
    counts[15:30, 10:14] += rng.poisson(1.0, (15, 4))
    counts[:, -1] += 20
    together = permutation_keyness(counts, labels, list("abcdef"), n_resamples=100, rng=np.random.default_rng(3))
    for g, target in enumerate("abcdef"):
        alone = permutation_keyness(counts, labels, [target], n_resamples=100, rng=np.random.default_rng(3))
        assert np.array_equal(alone.p[0], together.p[g])
        assert np.array_equal(alone.splits[0], together.splits[g])
        assert np.array_equal(alone.decided[0], together.decided[g])
    assert together.splits.max() > 100 and together.splits.min() < 100  # some stop early, some run past B


def test_keyness_by_group_tests_the_terms_in_enough_documents():
    from analysis.stats.keyness import keyness_by_group

    counts = pd.DataFrame(X, index=[f"d{i}" for i in range(6)], columns=VOCAB)
    groups = dict(zip(counts.index, LABELS))
    table = keyness_by_group(counts, groups, order=["a", "b"], min_docs=1, n_resamples=200, min_term_docs=3)
    tested = table.set_index("term")["p"].notna()
    assert tested.to_dict() == {"x": True, "y": False, "z": False, "w": True}
    assert set(table.loc[~table["p"].notna(), "adjusted_within"]) == {
        "not tested: in fewer than 3 documents ([framing] keyness_min_docs)"
    }
