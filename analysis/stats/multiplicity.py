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
import pandas as pd


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


#: The names of the corrections as the tables write them.
CORRECTION_NAMES = {"bh": "Benjamini-Hochberg", "holm": "Holm", "none": "none"}


def declare_family(
    table: pd.DataFrame, *, keys: Sequence[str], within: str, correction: str, p: str = "p"
) -> pd.DataFrame:
    """``table`` with the family its adjusted p-values are adjusted within, stated per row.

    Adds ``correction`` (``bh``, ``holm`` or ``none``; kept when the table has it already) and
    ``adjusted_within``: ``within`` formatted with the row's columns (``"{family}: {group_a} vs
    {group_b}"``) and the number of tests in the row's family, the rows sharing ``keys`` with a
    p-value (``"economy: vi vs en (6 tests)"``). A row without a p-value says so. Both are inserted
    before ``too_small`` (or ``note``, else at the end), so the adjusted column can be read with
    the question it answers: Benjamini-Hochberg controls the expected share of false findings among
    a family's reported ones, Holm the chance of any false finding in the family.

    >>> t = pd.DataFrame({"family": ["a", "a", "b"], "item": ["x", "y", "z"], "p": [0.01, float("nan"), 0.2]})
    >>> declare_family(t, keys=["family"], within="frames of {family}", correction="bh")["adjusted_within"].tolist()
    ['frames of a (1 test)', 'no p-value', 'frames of b (1 test)']
    """
    if correction not in CORRECTION_NAMES:
        raise ValueError(f"unknown correction {correction!r}")
    out = table.copy()
    if p in out.columns and len(out):
        counts = out[p].notna().groupby([out[k] for k in keys], sort=False).transform("sum") if keys else None
        if counts is None:
            counts = pd.Series(int(out[p].notna().sum()), index=out.index)
        texts = []
        for (_, row), m in zip(out.iterrows(), counts):
            if pd.isna(row[p]):
                texts.append("no p-value")
            else:
                texts.append(f"{within.format(**row.to_dict())} ({int(m)} test{'s' if int(m) != 1 else ''})")
    else:
        texts = [""] * len(out)
    where = next((c for c in ("too_small", "note") if c in out.columns), None)
    position = out.columns.get_loc(where) if where else len(out.columns)
    if "correction" not in out.columns:
        out.insert(position, "correction", correction)
        position += 1
    out.insert(position, "adjusted_within", texts)
    return out


#: Columns that name the item of a test row, in the order a declared primary comparison is matched against.
ITEM_COLUMNS = ("item", "frame", "actor", "term", "topic", "label")
CONFIRMATORY = "confirmatory: the declared primary comparison (p unadjusted)"
EXPLORATORY = "exploratory"


def primary_parts(primary: str) -> tuple[str, str, str]:
    """``"table:item"`` or ``"table:item:a-b"`` -> ``(table, item, pair)`` (``pair`` "" when not given)."""
    parts = [p.strip() for p in primary.split(":")]
    return parts[0], parts[1] if len(parts) > 1 else "", parts[2] if len(parts) > 2 else ""


def primary_rows(table: pd.DataFrame, item: str, pair: str = "") -> np.ndarray:
    """Boolean mask of the rows of ``table`` that are the declared primary comparison: ``item`` equal to
    the first of :data:`ITEM_COLUMNS` the table has (as text; a topic ``3`` matches ``"3"``) and, with
    ``pair`` (``"vi-en"``), ``group_a``-``group_b`` equal to it."""
    column = next((c for c in ITEM_COLUMNS if c in table.columns), None)
    if column is None:
        return np.zeros(len(table), dtype=bool)
    mask = table[column].astype(str).to_numpy() == item
    if pair and {"group_a", "group_b"} <= set(table.columns):
        mask &= (table["group_a"].astype(str) + "-" + table["group_b"].astype(str)).to_numpy() == pair
    return mask


def mark_roles(table: pd.DataFrame, mask: np.ndarray) -> pd.DataFrame:
    """``table`` with ``role`` after ``adjusted_within``: :data:`CONFIRMATORY` where ``mask``, else
    :data:`EXPLORATORY`. A study that declares its primary comparison before seeing the data reads its p
    unadjusted; every other p of the study is exploratory, read with its family's adjusted value."""
    out = table.copy()
    position = out.columns.get_loc("adjusted_within") + 1 if "adjusted_within" in out.columns else len(out.columns)
    mask = np.broadcast_to(np.asarray(mask, dtype=bool), (len(out),))
    out.insert(position, "role", np.where(mask, CONFIRMATORY, EXPLORATORY))
    return out
