import io as _io
import warnings

import pandas as pd
import pytest
from matplotlib.text import Text

from analysis.paper.tables import latex_escape, to_csv, to_latex, to_markdown
from analysis.plots import base as plot

TABLE = pd.DataFrame(
    {"term": ["hợp_tác", "50% & $x #1", "a|b"], "count": [3, 2, 1], "per_1000": [333.3333333, 2.5, 0.125]}
)


def test_latex_escapes_specials_and_uses_booktabs():
    tex = to_latex(TABLE, caption="Top terms_by language")
    assert "hợp tác" in tex and r"50\% \& \$x \#1" in tex  # a token column: shown as written
    assert latex_escape("hợp_tác") == r"hợp\_tác"
    assert r"\toprule" in tex and r"\midrule" in tex and r"\bottomrule" in tex
    assert r"\caption{Top terms\_by language.}" in tex
    assert r"\begin{longtable}{@{}lrr@{}}" in tex
    assert "333.333" in tex
    assert latex_escape("a~b^c\\") == r"a\textasciitilde{}b\textasciicircum{}c\textbackslash{}"


def test_markdown_escapes_pipes_and_aligns_numbers():
    md = to_markdown(TABLE).splitlines()
    assert md[0] == "| term | count | per_1000 |"
    assert md[1] == "| --- | ---: | ---: |"
    assert md[4] == r"| a\|b | 1 | 0.125 |"


def test_csv_round_trip_keeps_precision():
    back = pd.read_csv(_io.StringIO(to_csv(TABLE)))
    pd.testing.assert_frame_equal(back, TABLE)


def test_vietnamese_glyphs_render_without_missing_glyph_warnings():
    top = pd.DataFrame(
        {"term": ["hợp_tác", "Biển_Đông", "thỏa_thuận", "ủy_ban", "Quảng_Tây"], "per_1000": [5.0, 4.0, 3.0, 2.0, 1.0]}
    )
    fig, (ax,) = plot.new_figure(1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # matplotlib warns "Glyph ... missing from font(s)"
        plot.plot_top_terms(ax, top, title="Từ khóa hàng đầu — tiếng Việt")
        for fmt in ("png", "pdf"):
            assert plot.figure_bytes(fig, fmt)
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == ["Quảng Tây", "ủy ban", "thỏa thuận", "Biển Đông", "hợp tác"]  # largest on top
    assert len(ax.patches) == 5
    assert [p.get_width() for p in ax.patches] == [1.0, 2.0, 3.0, 4.0, 5.0]
    plot.close(fig)


@pytest.mark.parametrize("fmt", ["png", "pdf", "svg"])
def test_figures_are_byte_identical_across_renders(fmt):
    def render():
        fig, (ax,) = plot.new_figure(1)
        plot.plot_top_terms(ax, pd.DataFrame({"term": ["hòa_bình"], "per_1000": [1.0]}))
        data = plot.figure_bytes(fig, fmt)
        plot.close(fig)
        return data

    assert render() == render()


def test_place_labels_keeps_crowded_labels_apart_and_joins_moved_ones_to_their_points():
    fig, (ax,) = plot.new_figure(1, 4, 3)
    # Six points on top of each other and two apart: the default offset would stack six labels.
    xs = [0.5] * 6 + [0.1, 0.9]
    ys = [0.5, 0.5, 0.51, 0.49, 0.5, 0.5, 0.1, 0.9]
    labels = ["hợp tác", "biển", "Việt Nam", "đối thoại", "hòa bình", "Trung Quốc", "a", "b"]
    ax.scatter(xs, ys)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    texts = plot.place_labels(ax, xs, ys, labels)
    renderer = fig.canvas.get_renderer()
    for t in texts:
        t.update_positions(renderer)
    boxes = [Text.get_window_extent(t, renderer) for t in texts]  # the text, without its line
    assert [t.get_text() for t in texts] == labels
    assert not any(boxes[i].overlaps(boxes[j]) for i in range(len(boxes)) for j in range(i))
    level = [t for t in texts if t.xyann[1] == 0]
    assert texts[0] in level and texts[6] in level and texts[7] in level  # free points keep the first place
    assert all(t.arrow_patch is not None for t in texts if t.xyann[1] != 0)  # moved labels point back
    assert all(t.arrow_patch is None for t in level)
    plot.close(fig)


def test_streamed_csv_file_has_the_bytes_of_the_csv_string(tmp_path):
    """io.write_csv streams the rows to the file; the bytes equal the in-memory CSV (LF, UTF-8, no BOM)."""
    from analysis.files import write_csv

    table = pd.DataFrame(
        {"term": ["hợp_tác", "biển,đảo", 'say "x"'] * 40_000, "g2": [1 / 3, -2.5e-12, float("nan")] * 40_000}
    )
    write_csv(tmp_path / "t.csv", table)
    assert (tmp_path / "t.csv").read_bytes() == to_csv(table).encode("utf-8")
    assert list(tmp_path.iterdir()) == [tmp_path / "t.csv"]  # no temporary file left
