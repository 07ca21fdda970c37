"""One column schema for two-group comparisons: the rule, and every family of tables following it."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.framing.tables import actor_tests_table
from analysis.stats import contrasts as design
from analysis.stats.comparison import COMPARISON_COLUMNS, TAIL_COLUMNS, comparison_order
from analysis.stats.groups import cluster_tests, distribution_tests, group_tests
from analysis.stats.keyness import keyness_by_group

#: Names the schema replaced: no comparison table may carry them.
OLD_NAMES = {"p_adjusted", "clusters", "target", "reference", "target_docs", "target_count", "mean_rf_a"}

DOCS = [f"v{i}" for i in range(6)] + [f"e{i}" for i in range(6)]
GROUPS = dict(zip(DOCS, ["vi"] * 6 + ["en"] * 6))
OUTLETS = dict(zip(DOCS, ["a", "b", "c"] * 2 + ["d", "e", "f"] * 2))
RNG = np.random.default_rng(3)
COUNTS = pd.DataFrame(RNG.poisson(2, (12, 3)), index=DOCS, columns=["sea", "trade", "visit"])


def follows_schema(table: pd.DataFrame, identifiers: list[str]) -> None:
    columns = list(table.columns)
    assert columns == comparison_order(columns, identifiers), columns
    assert columns[: len(identifiers)] == identifiers
    assert columns[-2:] == TAIL_COLUMNS and not OLD_NAMES & set(columns)
    core = [c for c in columns if c in COMPARISON_COLUMNS]
    assert core == [c for c in COMPARISON_COLUMNS if c in columns]  # the core columns keep the schema's order


@settings(max_examples=60, deadline=None)
@given(st.permutations(["item", "exact", "note", "p", "jsd", "group_b", "too_small", "q", "group_a", "label"]))
def test_the_order_is_a_permutation_that_does_not_depend_on_the_given_order(columns):
    ordered = comparison_order(columns, ["item", "label"])
    assert sorted(ordered) == sorted(columns)
    own = [c for c in columns if c in ("exact", "jsd")]  # the family's own columns keep their given order
    assert ordered == ["item", "label", "group_a", "group_b", "p", "q", *own, "too_small", "note"]
    assert comparison_order(ordered, ["item", "label"]) == ordered


def test_frame_actor_contrast_keyness_and_distribution_tables_share_the_schema():
    long = COUNTS.stack().rename("value").reset_index().set_axis(["doc_id", "item", "value"], axis=1)
    long.insert(1, "family", "issue")
    frames = cluster_tests(
        group_tests(long, GROUPS, ["vi", "en"], 99, 1, min_docs=2),
        long,
        GROUPS,
        OUTLETS,
        column="outlet",
        n_resamples=99,
        seed=1,
        mdd_simulations=10,
    )
    follows_schema(frames, ["family", "item"])
    assert list(frames.columns[2:14]) == COMPARISON_COLUMNS[:7] + ["p", "min_p", "q", "correction", "adjusted_within"]

    actors = long.rename(columns={"item": "actor", "family": "kind", "value": "mention_share"}).assign(mentions=1)
    actor_tests = actor_tests_table(
        actors, GROUPS, order=["vi", "en"], labels={}, n_permutations=99, seed=1, min_docs=2, n_resamples=99
    )
    follows_schema(actor_tests, ["kind", "actor", "label"])

    docvars = pd.DataFrame({"language": [GROUPS[d] for d in DOCS], "outlet": [OUTLETS[d] for d in DOCS]}, index=DOCS)
    contrast = design.Contrast("vi-en", groups=((("language", "vi"),), (("language", "en"),)), cluster="outlet")
    measure = design.MeasureTable("concepts", COUNTS, pd.Series(100.0, index=DOCS))
    contrasts = design.compare(contrast, measure, docvars, n_resamples=99, seed=1, mdd_simulations=10)
    follows_schema(contrasts, ["contrast", "measure", "item", "label"])
    assert contrasts["q"].notna().all() and contrasts["cluster_n"].eq(6).all()
    follows_schema(
        design.distribution_table(contrast, measure, {}, docvars, n_resamples=99, seed=1),
        ["contrast", "measure", "family"],
    )

    keyness = keyness_by_group(COUNTS, GROUPS, order=["vi", "en"], n_resamples=99, min_docs=2, labels={"sea": "Sea"})
    follows_schema(keyness, ["comparison", "term", "label"])
    # group_a is the target: its documents' counts are count_a, and a positive G2 means more frequent there
    vi_sums = COUNTS.loc[[d for d in DOCS if GROUPS[d] == "vi"]].sum()
    assert (keyness["group_a"] == "vi").all() and (keyness["n_a"] == 6).all()
    assert keyness.set_index("term")["count_a"].to_dict() == vi_sums.to_dict()
    pooled = keyness_by_group(COUNTS, GROUPS, order=["vi", "en"], n_resamples=None, min_docs=2)
    follows_schema(pooled, ["comparison", "term"])
    assert "mean_a" not in pooled.columns  # no document test: no tested per-document means ("where present")

    hits = long.assign(value=long["value"].astype(float))
    follows_schema(distribution_tests(hits, GROUPS, order=["vi", "en"], min_docs=2), ["family"])
