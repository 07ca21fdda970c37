"""Stage ``robustness``: the study's headline comparisons between the languages re-estimated under
every specification of its ``[robustness]`` grid (:func:`analysis.multiverse.run_multiverse`), written as
the specifications, the estimates, the summary with a verdict per claim, the variance decomposition
and specification-curve figures (:mod:`analysis.plots.robustness`). A study without ``[robustness]``
gets no file.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

import numpy as np

from ..multiverse import Multiverse, run_multiverse
from ..plots import robustness as pr
from ..stats.specification import specification_curve
from ..study.outputs import robustness_claims
from ..study.settings import RobustnessSettings, Study
from .results import Csv, Figure, Result, Table, write_results


def robustness_results(multiverse: Multiverse, *, settings: RobustnessSettings, claims: list[str]) -> list[Result]:
    """The tables and figures of one multiverse (the claims listed frames first, then by the size of
    the study's own estimate, largest first): ``settings`` is the study's ``[robustness]``, ``claims``
    the claim kinds with a specification-curve figure each
    (:func:`analysis.study.outputs.robustness_claims`)."""
    r = settings
    factors = multiverse.factors
    summary = multiverse.summary.copy()
    kind = summary["claim"].str.split(":").str[0].map({"frame": 0, "concept": 1})
    size = summary["baseline_estimate"].abs().fillna(-1.0)
    summary = (
        summary.assign(_k=kind, _s=-size)
        .sort_values(["_k", "_s", "claim"], kind="mergesort")
        .drop(columns=["_k", "_s"])
        .reset_index(drop=True)
    )
    curve = specification_curve(multiverse.estimates, factors, alpha=r.alpha)
    n = len(multiverse.grid)
    total = int(np.prod([len(v) for v in r.grid.values()]))
    design = (
        f"all {n} combinations" if not r.subset else f"{n} of the {total} combinations drawn at random, seed {r.seed}"
    )
    results: list[Result] = [
        Table("robustness_specifications", multiverse.grid, {"robustness_design": design}),
        Table("robustness_summary", summary),
        Table("robustness_decomposition", multiverse.decomposition),
        Csv("robustness_estimates", curve),
    ]
    if multiverse.topics is not None:
        results.append(Table("robustness_topics", multiverse.topics))
    for kind in claims:
        data = curve[curve["kind"] == kind].reset_index(drop=True)
        results.append(
            Figure(
                "robustness_curve_{claims}",
                partial(pr.figure_specification_curves, data, summary, factors, kind=kind),
                data,
                {"claims": kind},
            )
        )
    return results


def run_robustness(study: Study, workers: int | None = None) -> list[Path]:
    """Stage ``robustness``: run the grid, then write every table and figure (nothing without ``[robustness]``)."""
    if study.robustness is None:
        return []
    multiverse = run_multiverse(study, workers=workers)
    results = robustness_results(multiverse, settings=study.robustness, claims=robustness_claims(study))
    return write_results(study.output_dir, results, study)
