"""Multiple comparisons: adjusted p-values for a family of tests.

A table that tests many items at once (frames, concepts, words) names its family and adjusts
across it: Holm (1979) controls the family-wise error rate (the chance of any false finding),
Benjamini–Hochberg (1995) the false discovery rate (the expected share of false findings among
those reported).

References: Holm, S. (1979). A simple sequentially rejective multiple test procedure. *Scand. J.
Statist.* 6, 65-70. Benjamini, Y., & Hochberg, Y. (1995). Controlling the false discovery rate.
*JRSS B* 57(1), 289-300.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np


def adjust(p: Sequence[float], method: str = "holm") -> np.ndarray:
    """Holm (1979) or Benjamini–Hochberg (1995) adjusted p-values; NaN stays NaN.

    Same values as ``statsmodels.stats.multitest.multipletests(p, method="holm" | "fdr_bh")``.

    >>> adjust([0.01, 0.04, 0.03], "holm").round(3).tolist()
    [0.03, 0.06, 0.06]
    """
    p = np.asarray(p, dtype=float)
    out = np.full(p.shape, np.nan)
    valid = ~np.isnan(p)
    m = int(valid.sum())
    if m == 0:
        return out
    values = p[valid]
    order = np.argsort(values, kind="stable")
    ranked = values[order]
    if method == "holm":
        adj = np.maximum.accumulate((m - np.arange(m)) * ranked)
    elif method == "bh":
        adj = np.minimum.accumulate((m / np.arange(1, m + 1) * ranked)[::-1])[::-1]
    else:
        raise ValueError(f"unknown correction {method!r}")
    result = np.empty(m)
    result[order] = np.minimum(adj, 1.0)
    out[valid] = result
    return out
