"""The specification curve is checked through its artists: one point per specification, intervals,
the ringed baseline, the edge triangle of an infinite estimate, and the choices beneath."""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.plots import base as plot
from analysis.plots.robustness import figure_specification_curves, plot_choice_grid, plot_specification_curve

CURVE = pd.DataFrame(
    {
        "claim": "frame:trade",
        "rank": [1, 2, 3, 4],
        "spec": [1, 3, 2, 4],
        "segmenter": ["underthesea", "pyvi", "underthesea", "pyvi"],
        "baseline": [True, False, False, False],
        "estimate": [0.1, 0.5, 0.9, np.inf],
        "ci_low": [-0.1, 0.2, 0.5, np.nan],
        "ci_high": [0.3, 0.8, 1.3, np.nan],
        "sd": [1.0, 1.0, 1.0, 0.0],
        "q": [0.5, 0.2, 0.01, 0.01],
        "same_sign": [True, True, True, True],
        "significant": [False, False, True, True],
    }
)


def test_the_curve_and_its_choice_grid():
    fig, (ax, grid) = plot.new_figure(2, 5, 2, ncols=1)
    plot_specification_curve(ax, CURVE, title="Trade: depends on segmenter")
    points = [len(c.get_offsets()) for c in ax.collections]
    assert points == [3, 1, 1]  # three finite estimates, one triangle at the edge, the ringed baseline
    assert len(ax.lines) == 3 + 1  # three intervals and the zero line
    plot_choice_grid(grid, CURVE, ["segmenter"])
    assert [t.get_text() for t in grid.get_yticklabels()] == ["segmenter = pyvi", "segmenter = underthesea"]
    assert [len(c.get_offsets()) for c in grid.collections] == [2, 2]
    plot.close(fig)


def test_the_figure_has_a_curve_and_a_grid_per_claim():
    summary = pd.DataFrame({"claim": ["frame:trade"], "label": ["Trade"], "verdict": ["depends on segmenter"]})
    fig = figure_specification_curves(CURVE, summary, ["segmenter"], kind="frame")
    assert len(fig.axes) == 2 and fig.axes[0].get_title(loc="left") == "Trade: depends on segmenter"
    plot.close(fig)
