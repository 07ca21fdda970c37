"""Figures (issue 14), checked through the artists: titles that fit, tick labels apart, top pairs
instead of a huge heatmap, titles printed once, no term twice, figures shown once in notebooks."""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.plots import base as plot
from analysis.plots import framing as plot_framing
from analysis.plots import topics as plot_topics
from analysis.plots.base import figure_bytes, new_figure


def _renderer(fig):
    fig.draw_without_rendering()
    return fig.canvas.get_renderer()


def test_long_titles_are_wrapped_to_fit_the_figure():
    fig, (ax,) = new_figure(1, 4.4, 3.2)  # topic_prevalence_by_language at K = 2
    plot_topics.plot_prevalence(
        ax,
        pd.DataFrame(
            {
                "group": ["vi", "en"] * 2,
                "topic": [1, 1, 2, 2],
                "prevalence": [0.5, 0.4, 0.5, 0.6],
                "ci_low": [0.4, 0.3, 0.4, 0.5],
                "ci_high": [0.6, 0.5, 0.6, 0.7],
            }
        ),
    )
    ax.set_title("Joint concept topics: prevalence by language (95% bootstrap intervals)")
    fig.suptitle("A suptitle that is much too long for a figure of this width, so it must be wrapped onto two lines")
    before = ax.title.get_window_extent(_renderer(fig)).width
    assert before > fig.bbox.width  # the bug: clipped
    figure_bytes(fig, "png")
    renderer = _renderer(fig)
    for text in (ax.title, fig._suptitle):
        box = text.get_window_extent(renderer)
        assert "\n" in text.get_text() and box.x0 >= 0 and box.x1 <= fig.bbox.width
    assert (
        ax.title.get_text().replace("\n", " ")
        == "Joint concept topics: prevalence by language (95% bootstrap intervals)"
    )
    plot.close(fig)


def test_x_tick_labels_of_narrow_panels_do_not_overlap():
    # Long compounds squeezed the bars of topic_top_terms_vi and its tick labels onto each other.
    terms = pd.DataFrame(
        {
            "rank": range(1, 11),
            "term": [f"ủy_ban_nhân_dân_thành_phố_hồ_chí_minh{i}" for i in range(10)],
            "probability": np.linspace(0.0225, 0.0075, 10),
        }
    )
    fig, axes = new_figure(4, 2.8, 3.0, ncols=4)  # topic_top_terms_vi: four narrow panels
    for ax in axes:
        plot_topics.plot_topic_terms(ax, terms)
    figure_bytes(fig, "png")
    renderer = _renderer(fig)
    for ax in axes:
        lo, hi = ax.get_xlim()
        boxes = sorted(
            (
                t.get_window_extent(renderer)
                for t, x in zip(ax.get_xticklabels(), ax.get_xticks())
                if t.get_text() and lo <= x <= hi
            ),
            key=lambda b: b.x0,
        )
        assert len(boxes) >= 2
        assert all(a.x1 <= b.x0 for a, b in zip(boxes, boxes[1:]))
        assert ax.bbox.width > 0.3 * fig.bbox.width / 4  # the bars keep a real share of their panel
    plot.close(fig)


def test_large_similarity_matrices_show_the_top_pairs_not_a_block():
    rng = np.random.default_rng(3)
    values = rng.uniform(0, 0.5, (40, 60))
    values[7, 11] = 0.97
    matrix = pd.DataFrame(values, index=[f"vi{i:03d}" for i in range(40)], columns=[f"en{j:03d}" for j in range(60)])
    width, height = plot_framing.similarity_figure_size(40, 60)
    assert width * height < 65  # not 4000 x 2980 px
    fig, (ax,) = new_figure(1, width, height)
    plot_framing.plot_similarity(ax, matrix, title="Cosine of concept vectors", xlabel="en", ylabel="vi")
    assert not ax.collections  # no mesh of 2,400 cells
    assert len(ax.patches) == plot_framing.TOP_PAIRS
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels[-1] == "Vietnamese: vi007\nEnglish: en011"  # the most similar pair on top
    expected = np.sort(values.ravel())[::-1][: plot_framing.TOP_PAIRS]
    assert np.allclose(sorted((p.get_width() for p in ax.patches), reverse=True), expected)
    assert "20 most similar of 40 × 60" in ax.get_title()
    plot.close(fig)
    small = matrix.iloc[:4, :3]
    fig, (ax,) = new_figure(1, *plot_framing.similarity_figure_size(4, 3))
    plot_framing.plot_similarity(ax, small)
    assert len(ax.collections) == 1 and len(ax.texts) == 12  # a heatmap, every cell written
    plot.close(fig)


def test_topic_terms_with_both_rankings_list_each_term_once():
    rows = pd.DataFrame(
        {
            "topic": 1,
            "ranking": ["probability"] * 3 + ["relevance"] * 3,
            "rank": [1, 2, 3] * 2,
            "term": ["a", "b", "c", "c", "a", "d"],
            "probability": [0.3, 0.2, 0.1, 0.1, 0.3, 0.05],
        }
    )
    fig, (ax,) = new_figure(1)
    plot_topics.plot_topic_terms(ax, rows)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["c", "b", "a"]
    plot.close(fig)


def test_new_figures_are_not_pyplot_figures_so_notebooks_show_them_once():
    before = plot.plt.get_fignums()
    fig, _ = new_figure(2)
    assert plot.plt.get_fignums() == before  # the inline backend does not show it again at the cell's end
    assert figure_bytes(fig, "png")[:4] == b"\x89PNG"
    plot.close(fig)


def test_empty_keyness_and_fightin_words_figures_print_their_title_once():
    for fig in (
        plot_framing.figure_keyness(
            [], top_n=5, min_docs=5, title="Keyness by outlet", empty_note="only 1 outlet value: nothing to compare"
        ),
        plot_framing.figure_fightin_words(
            [], min_docs=5, title="Keyness by outlet", empty_note="only 1 outlet value: nothing to compare"
        ),
    ):
        texts = [t.get_text() for t in fig.findobj(lambda a: hasattr(a, "get_text")) if t.get_text()]
        assert texts.count("Keyness by outlet") == 1 and "Fightin' Words" not in texts
        assert "only 1 outlet value: nothing to compare" in texts
        plot.close(fig)


def test_similarity_figure_of_many_documents_shows_top_pairs():
    rng = np.random.default_rng(5)
    table = pd.DataFrame(
        {
            "doc_a": [f"v{i:03d}" for i in range(600)],
            "doc_b": [f"e{i % 40:03d}" for i in range(600)],
            "cosine": rng.uniform(0, 1, 600),
        }
    )
    fig = plot_framing.figure_similarity(table, ("vi", "en"))
    (ax,) = fig.axes
    assert len(ax.patches) == plot_framing.TOP_PAIRS and not ax.collections
    assert fig.get_size_inches()[0] * fig.dpi < 1000
    plot.close(fig)


def test_long_axis_labels_are_wrapped_too():
    fig, (ax,) = new_figure(1, 4.2, 3.0)
    ax.barh([0, 1], [1, -1])
    ax.set_xlabel("signed G²: ← trung_liu_talks_2024_03 | son_visit_china_2024_04 →")
    figure_bytes(fig, "png")
    box = ax.xaxis.label.get_window_extent(_renderer(fig))
    assert box.x0 >= 0 and box.x1 <= fig.bbox.width and "\n" in ax.get_xlabel()
    plot.close(fig)


def _keyness_comparison(design: str = "documents"):
    from analysis.stats.keyness import Comparison

    table = pd.DataFrame(
        {
            "term": ["a", "b", "c", "d", "e", "f"],
            "g2": [9.0, 6.0, 2.0, -1.5, -4.0, -8.0],
            "q": [0.01, 0.2, float("nan"), 0.5, 0.049, 0.001],
            "design": design,
        }
    )
    return Comparison("vi", "en", 20, 20, table)


def test_keyness_bars_mark_which_terms_have_q_below_005():
    fig = plot_framing.figure_keyness(
        [_keyness_comparison()], top_n=3, min_docs=5, title="Keyness by language", empty_note=""
    )
    ax = fig.axes[0]
    bars = [p for p in ax.patches if p.get_gid() in ("significant", "not significant")]
    assert len(bars) == 6
    # bars top to bottom: a, b, c, d, e, f; significant ones filled, the others hatched and faded
    by_y = sorted(bars, key=lambda p: -p.get_y())
    marked = [p.get_gid() == "significant" for p in by_y]
    assert marked == [True, False, False, False, True, True]
    assert all(p.get_hatch() is None and p.get_fill() and p.get_facecolor()[3] == 1 for p, m in zip(by_y, marked) if m)
    assert all(p.get_hatch() == "////" and p.get_facecolor()[3] == 0 for p, m in zip(by_y, marked) if not m)
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["q < 0.05", "q ≥ 0.05"]
    plot.close(fig)


def test_keyness_bars_of_untested_words_are_dotted_outlines_with_their_own_legend_entry():
    from analysis.stats.keyness import Comparison

    comparison = _keyness_comparison()
    table = comparison.table.assign(adjusted_within="vi vs en")
    table.loc[[2, 3], ["q", "adjusted_within"]] = [float("nan"), "not tested: in fewer than 2 documents"]
    table.loc[3, "q"] = float("nan")
    fig = plot_framing.figure_keyness(
        [Comparison("vi", "en", 20, 20, table)], top_n=3, min_docs=5, title="Keyness", empty_note=""
    )
    ax = fig.axes[0]
    by_y = sorted((p for p in ax.patches if p.get_gid()), key=lambda p: -p.get_y())
    assert [p.get_gid() for p in by_y] == [
        "significant",
        "not significant",
        "not tested",
        "not tested",
        "significant",
        "significant",
    ]
    untested = [p for p in by_y if p.get_gid() == "not tested"]
    assert all(p.get_linestyle() == ":" and not p.get_hatch() and p.get_facecolor()[3] == 0 for p in untested)
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["q < 0.05", "q ≥ 0.05", "not tested: too few docs"]
    plot.close(fig)
    # a comparison as document_keyness gives it: p and q empty for the untested terms, min_docs on the comparison
    bare = comparison.table.assign(p=[0.01, 0.2, float("nan"), float("nan"), 0.04, 0.001])
    bare.loc[3, "q"] = float("nan")
    fig = plot_framing.figure_keyness(
        [Comparison("vi", "en", 20, 20, bare, min_docs=2)], top_n=3, min_docs=5, title="Keyness", empty_note=""
    )
    by_y = sorted((p for p in fig.axes[0].patches if p.get_gid()), key=lambda p: -p.get_y())
    assert [p.get_gid() == "not tested" for p in by_y] == [False, False, True, True, False, False]
    plot.close(fig)


def test_keyness_figure_without_a_p_value_says_why_and_marks_nothing():
    fig = plot_framing.figure_keyness(
        [_keyness_comparison("none: one side is a single cluster")],
        top_n=3,
        min_docs=5,
        title="Keyness by outlet",
        empty_note="",
    )
    ax = fig.axes[0]
    texts = [t.get_text() for t in ax.texts]
    assert "no p-value: one side is a single cluster" in texts
    assert ax.get_legend() is None and len(ax.patches) == 6
    assert not any(p.get_hatch() for p in ax.patches) and not any(p.get_gid() for p in ax.patches)
    plot.close(fig)


def _similarity_table():
    """Pairs as the framing stage writes them: many ties at cosine 1 from one shared concept."""
    rows = [
        ("v1", "e1", 1.0, 1, "country"),
        ("v2", "e1", 1.0, 3, "trade sea port"),
        ("v3", "e2", 1.0, 1, "city"),
        ("v4", "e3", 0.9, 4, "trade sea port talks"),
        ("v5", "e4", 0.8, 2, "trade talks"),
    ]
    rows += [(f"v{i}", f"e{i}", 0.1, 1, "x") for i in range(6, 30)]
    table = pd.DataFrame(rows, columns=["doc_a", "doc_b", "cosine", "shared_concepts", "top_shared"])
    return table.assign(
        title_a=[f"Bài báo số {d[1:]} về hợp tác kinh tế và an ninh biển giữa hai nước" for d in table["doc_a"]],
        title_b=[f"Story {d[1:]}" for d in table["doc_b"]],
    )


def test_similarity_pairs_are_labelled_by_title_and_ties_broken_by_shared_concepts():
    table = _similarity_table()
    fig = plot_framing.figure_similarity(table, ("vi", "en"))
    figure_bytes(fig, "png")
    (ax,) = fig.axes
    labels = [t.get_text() for t in ax.get_yticklabels()][::-1]  # top first
    # pairs sharing one concept are left out (there are pairs sharing 2 or more); then cosine, then shared concepts
    assert [lab.split("\n")[0].split("(")[-1].rstrip(")") for lab in labels] == ["v2", "v4", "v5"]
    assert labels[0].startswith("Vietnamese: Bài báo số 2 về hợp tác kinh tế và an ninh") and "…" in labels[0]
    assert labels[0].endswith("English: Story 1 (e1)")
    shared = [t.get_text() for t in ax.texts if t.get_gid() == "shared_concepts"][::-1]
    assert shared == ["3 shared: trade, sea, port", "4 shared: trade, sea, port", "2 shared: trade, talks"]
    title = " ".join(ax.get_title().split())  # wrapped to fit
    assert "sharing ≥ 2 concepts" in title and "more shared concepts first" in title
    assert "Vietnamese" in fig.get_suptitle() and "English" in fig.get_suptitle()
    renderer = fig.canvas.get_renderer()
    for text in (ax.title, fig._suptitle):  # the title is not clipped by the figure's edge
        box = text.get_window_extent(renderer)
        assert box.x0 >= 0 and box.x1 <= fig.bbox.width
    plot.close(fig)
    ordered = plot_framing.top_pairs_of_table(table, 3)  # the order itself, every pair: ties by shared concepts
    assert ordered["doc_a"].tolist() == ["v2", "v1", "v3"]


def test_top_terms_and_keyness_figures_stay_a_page_tall():
    top = pd.DataFrame(
        {
            "group": np.repeat([f"s{i:02d}" for i in range(20)], 15),
            "term": [f"t{j}" for j in range(15)] * 20,
            "count": 1,
            "per_1000": 1.0,
        }
    )
    fig = plot.figure_top_terms(top, "section", 15)
    assert fig.get_size_inches()[1] <= plot.MAX_FIGURE_INCHES
    assert len(fig.axes) == 6 and "(6 of 20 groups; all in the CSV)" in fig.get_suptitle()
    plot.close(fig)
    from analysis.stats.keyness import keyness_comparisons

    rng = np.random.default_rng(4)
    counts = rng.poisson(3.0, (40, 50))
    docs = [f"d{i}" for i in range(40)]
    groups = {d: f"g{i % 10}" for i, d in enumerate(docs)}
    comparisons = keyness_comparisons(counts, docs, [f"w{j}" for j in range(50)], groups)
    fig = plot_framing.figure_keyness(comparisons, top_n=15, min_docs=2, title="Keyness", empty_note="")
    assert fig.get_size_inches()[1] <= plot.MAX_FIGURE_INCHES and len(fig.axes) == 6
    assert f"first 6 of {len(comparisons)} comparisons" in fig.get_suptitle()
    plot.close(fig)
    frames = pd.DataFrame(
        {
            "family": ["issue"] * 20 + ["generic"] * 10,
            "label": [f"f{i // 2}" for i in range(20)] + [f"g{i // 2}" for i in range(10)],
            "group": ["vi", "en"] * 15,
            "mean_per_100_sentences": 1.0,
            "ci_low": 0.5,
            "ci_high": 1.5,
        }
    )
    fig = plot_framing.figure_frame_salience(frames, {"issue": 10, "generic": 5}, n_groups=2, by="language")
    assert fig.get_size_inches()[1] <= plot.MAX_FIGURE_INCHES  # the default codebook's two families
    plot.close(fig)


def test_language_codes_are_shown_by_name():
    top = pd.DataFrame({"group": ["en", "vi"], "term": ["trade", "hợp_tác"], "count": 1, "per_1000": 1.0})
    fig = plot.figure_top_terms(top, "language", 5)
    assert [ax.get_title() for ax in fig.axes] == ["Vietnamese", "English"]  # vi first, as in every figure
    plot.close(fig)
    fig = plot.figure_top_terms(top.assign(group=["vi", "Tuổi Trẻ"]), "outlet", 5)
    assert [ax.get_title() for ax in fig.axes] == ["vi", "Tuổi Trẻ"]  # only the language column is named
    plot.close(fig)
    table = pd.DataFrame(
        {
            "label": ["trade", "trade"],
            "group": ["vi", "en"],
            "mean": [2.0, 1.0],
            "ci_low": [1.0, 0.5],
            "ci_high": [3.0, 1.5],
        }
    )
    fig, (ax,) = new_figure(1)
    plot_framing.plot_group_bars(ax, table)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["Vietnamese", "English"]
    plot.close(fig)


def test_a_title_in_the_right_column_stops_at_the_figure_edge():
    fig, axes = new_figure(4, 3.0, 2.4, ncols=4)
    for ax in axes:
        ax.plot([0, 1], [0, 1])
    axes[-1].set_title("joint 2: cooperation, promote, country, economy")
    figure_bytes(fig, "png")
    box = axes[-1].title.get_window_extent(_renderer(fig))
    assert box.x1 <= fig.bbox.width and "\n" in axes[-1].title.get_text()
    plot.close(fig)
