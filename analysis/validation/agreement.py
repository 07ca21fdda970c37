"""Agreement between human coders, disagreements to adjudicate, and the reference codes.

Human codes are the yardstick for the dictionary, so they must first be shown to be reproducible:
Krippendorff's alpha per frame and language (Krippendorff 2019, *Content Analysis*, 4th ed.,
ch. 12; Krippendorff 2011, "Computing Krippendorff's alpha-reliability", Annenberg School working
paper 43), with a bootstrap interval over units. Units on which coders differ are listed for
adjudication, and :func:`reference_codes` gives the code the accuracy and DSL steps use.

Codes arrive "long": one row per unit × coder, a 0/1 (or missing) column per frame.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

__all__ = ["krippendorff_alpha", "alpha_table", "disagreements", "reference_codes"]


def _value_counts(table) -> tuple[np.ndarray, np.ndarray]:
    """Units × values count matrix of a units × coders table (NaN = missing), and the values."""
    data = np.asarray(pd.DataFrame(table).apply(pd.to_numeric, errors="coerce"), dtype=float)
    if data.ndim != 2:
        raise ValueError("table must be two-dimensional: one row per unit, one column per coder.")
    values = np.unique(data[~np.isnan(data)])
    counts = np.stack([(data == v).sum(axis=1) for v in values], axis=1) if len(values) else np.zeros((len(data), 0))
    return counts.astype(float), values


def _alpha_from_counts(counts: np.ndarray) -> float:
    m = counts.sum(axis=1)
    pairable = m >= 2
    counts, m = counts[pairable], m[pairable]
    if counts.shape[1] < 2 or len(m) == 0:
        return float("nan")
    # coincidence matrix o_ck = sum_u (N_uc N_uk - [c = k] N_uc) / (m_u - 1)
    o = np.einsum("uc,uk,u->ck", counts, counts, 1.0 / (m - 1)) - np.diag((counts / (m - 1)[:, None]).sum(axis=0))
    n_c = o.sum(axis=1)
    n = n_c.sum()
    observed = o.sum() - np.trace(o)
    expected = (n_c.sum() ** 2 - (n_c**2).sum()) / (n - 1)
    if expected <= 0:
        return float("nan")
    return float(1.0 - observed / expected)


def krippendorff_alpha(table, *, level: str = "nominal") -> float:
    """Krippendorff's alpha of a units × coders table with missing values.

    ``alpha = 1 - D_o / D_e`` with, for nominal data, the coincidence matrix
    ``o_ck = sum_u sum_{i != j} [v_ui = c][v_uj = k] / (m_u - 1)`` over units coded by
    ``m_u >= 2`` coders, ``n_c = sum_k o_ck``, ``n = sum_c n_c``,
    ``D_o = sum_{c != k} o_ck`` and ``D_e = sum_{c != k} n_c n_k / (n - 1)``
    (Krippendorff 2011, section C). ``"binary"`` is the nominal alpha of 0/1 presence codes and
    checks that only 0 and 1 occur. Chance-corrected: 1 = perfect agreement, 0 = agreement at
    chance; NaN when fewer than two distinct values were coded (no variation to agree on).

    Parameters
    ----------
    table : DataFrame or 2-D array
        One row per unit, one column per coder; NaN where a coder did not code the unit.
    level : {"nominal", "binary"}

    Returns
    -------
    float

    Examples
    --------
    Krippendorff (2011, section C): 4 coders, 12 units, missing values; alpha = 113/152.

    >>> nan = float("nan")
    >>> data = [[1, 1, nan, 1], [2, 2, 3, 2], [3, 3, 3, 3], [3, 3, 3, 3], [2, 2, 2, 2], [1, 2, 3, 4],
    ...         [4, 4, 4, 4], [1, 1, 2, 1], [2, 2, 2, 2], [nan, 5, 5, 5], [nan, nan, 1, 1], [nan, 3, nan, nan]]
    >>> round(krippendorff_alpha(data), 3), 113 / 152 == krippendorff_alpha(data)
    (0.743, True)
    """
    if level not in ("nominal", "binary"):
        raise ValueError(f"level must be 'nominal' or 'binary', not {level!r}.")
    counts, values = _value_counts(table)
    if level == "binary" and not set(values.tolist()) <= {0.0, 1.0}:
        raise ValueError(f"binary alpha needs codes 0/1 only; found {sorted(set(values.tolist()) - {0.0, 1.0})[:5]}.")
    return _alpha_from_counts(counts)


def _check_codes(codes: pd.DataFrame, frames: Sequence[str], columns: Sequence[str]) -> None:
    if not isinstance(codes, pd.DataFrame):
        raise ValueError("codes must be a DataFrame with one row per unit × coder.")
    if isinstance(frames, str) or not frames:
        raise ValueError("frames must be a non-empty list of frame columns, e.g. frames=['economy_trade'].")
    for column in (*columns, *frames):
        if column not in codes.columns:
            raise ValueError(f"codes has no column '{column}'; add it or name the right column in the arguments.")
    for frame in frames:
        values = pd.to_numeric(codes[frame], errors="coerce")
        bad = codes[frame].notna() & ~values.isin([0, 1])
        if bad.any():
            raise ValueError(
                f"codes column '{frame}' must hold 0, 1 or blank; "
                f"row {bad.idxmax()} holds {codes[frame][bad.idxmax()]!r}."
            )
    key = [c for c in columns if c in ("unit_id", "coder")] or list(columns[:2])
    if codes.duplicated(subset=list(columns[:2])).any():
        raise ValueError(f"codes has more than one row for the same {key}; keep one row per unit and coder.")


def _wide(codes: pd.DataFrame, frame: str, unit: str, coder: str) -> pd.DataFrame:
    return codes.pivot(index=unit, columns=coder, values=frame).apply(pd.to_numeric, errors="coerce").astype(float)


def alpha_table(
    codes: pd.DataFrame,
    *,
    frames: Sequence[str],
    seed: int,
    n_boot: int = 1000,
    level: float = 0.95,
    minimum: float = 0.667,
    unit: str = "unit_id",
    coder: str = "coder",
    language: str = "language",
) -> pd.DataFrame:
    """Binary Krippendorff's alpha per frame and language with a bootstrap interval over units.

    Each replicate resamples the pairable units (coded by at least two coders) with replacement
    within the frame × language cell and recomputes alpha; the interval is the percentile
    interval, and ``p_below_minimum`` the share of replicates below ``minimum`` (Hayes &
    Krippendorff 2007, *Communication Methods and Measures* 1(1), who resample coincidences
    within units; resampling whole units, as here, keeps each unit's coders together).
    Krippendorff (2019) asks for alpha >= 0.800, and >= 0.667 for tentative conclusions.

    Parameters
    ----------
    codes : DataFrame
        ``unit_id, coder, language`` and one 0/1/blank column per frame.
    frames : list of str
    seed : int
        Seed of the bootstrap.
    n_boot : int
        Bootstrap replicates.

    Returns
    -------
    DataFrame
        ``frame, language, alpha, low, high, p_below_minimum, units, pairable_units, values``.

    Examples
    --------
    >>> codes = pd.DataFrame({"unit_id": [1, 1, 2, 2, 3, 3, 4, 4], "coder": ["a", "b"] * 4, "language": "vi",
    ...                       "econ": [1, 1, 0, 0, 1, 0, 0, 0]})
    >>> round(float(alpha_table(codes, frames=["econ"], seed=0, n_boot=50)["alpha"].iloc[0]), 4)
    0.5333
    """
    _check_codes(codes, frames, [unit, coder, language])
    if isinstance(n_boot, bool) or not isinstance(n_boot, int) or n_boot < 0:
        raise ValueError("n_boot must be a non-negative int.")
    rng = np.random.default_rng(seed)
    rows = []
    for frame in frames:
        for lang, group in codes.groupby(language, sort=True):
            counts, _ = _value_counts(_wide(group, frame, unit, coder))
            counts = counts[counts.sum(axis=1) >= 2]
            estimate = _alpha_from_counts(counts)
            reps = (
                np.array([_alpha_from_counts(counts[rng.integers(0, len(counts), len(counts))]) for _ in range(n_boot)])
                if len(counts)
                else np.array([])
            )
            reps = reps[~np.isnan(reps)]
            tail = (1 - level) / 2
            low, high = np.quantile(reps, [tail, 1 - tail]) if len(reps) else (np.nan, np.nan)
            rows.append(
                {
                    "frame": frame,
                    "language": lang,
                    "alpha": estimate,
                    "low": float(low),
                    "high": float(high),
                    "p_below_minimum": float(np.mean(reps < minimum)) if len(reps) else np.nan,
                    "units": int(group[unit].nunique()),
                    "pairable_units": int(len(counts)),
                    "values": int(counts.sum()),
                }
            )
    return pd.DataFrame(rows)


def disagreements(
    codes: pd.DataFrame,
    *,
    frames: Sequence[str],
    unit: str = "unit_id",
    coder: str = "coder",
    language: str = "language",
) -> pd.DataFrame:
    """Unit × frame cells where the coders who coded the unit gave different codes.

    Returns
    -------
    DataFrame
        ``unit_id, language, frame`` and one column per coder (the code, or NA), for adjudication.

    Examples
    --------
    >>> codes = pd.DataFrame({"unit_id": [1, 1, 2, 2], "coder": ["a", "b", "a", "b"], "language": "en",
    ...                       "econ": [1, 0, 1, 1]})
    >>> disagreements(codes, frames=["econ"]).to_dict("records")
    [{'unit_id': 1, 'language': 'en', 'frame': 'econ', 'a': 1, 'b': 0}]
    """
    _check_codes(codes, frames, [unit, coder, language])
    coders = sorted(codes[coder].unique(), key=str)
    languages = codes.groupby(unit)[language].first()
    out = []
    for frame in frames:
        wide = _wide(codes, frame, unit, coder).reindex(columns=coders)
        spread = wide.nunique(axis=1)
        for u in wide.index[spread > 1]:
            row = {unit: u, language: languages[u], "frame": frame}
            row.update({c: (pd.NA if np.isnan(wide.at[u, c]) else int(wide.at[u, c])) for c in coders})
            out.append(row)
    return pd.DataFrame(out, columns=[unit, language, "frame", *coders])


def reference_codes(
    codes: pd.DataFrame,
    *,
    frames: Sequence[str],
    adjudicated: pd.DataFrame | None = None,
    unit: str = "unit_id",
    coder: str = "coder",
    language: str = "language",
) -> pd.DataFrame:
    """The reference (gold) code of every unit × frame: the adjudicated code where one is given,
    else the majority of the coders; a tie without adjudication is flagged, never guessed.

    Parameters
    ----------
    codes : DataFrame
        Long codes (``unit_id, coder, language`` and one 0/1/blank column per frame).
    adjudicated : DataFrame, optional
        ``unit_id, frame, code`` (0/1): decisions on disputed cells (e.g. from :func:`disagreements`).

    Returns
    -------
    DataFrame
        ``unit_id, language, frame, reference, source, coders, ones`` where ``source`` is
        ``adjudicated``, ``unanimous``, ``majority``, ``tie`` (reference NA) or ``uncoded``.

    Examples
    --------
    >>> codes = pd.DataFrame({"unit_id": [1, 1, 1, 2, 2], "coder": ["a", "b", "c", "a", "b"], "language": "vi",
    ...                       "econ": [1, 1, 0, 1, 0]})
    >>> ref = reference_codes(codes, frames=["econ"])
    >>> ref["reference"].tolist(), ref["source"].tolist()
    ([1, <NA>], ['majority', 'tie'])
    >>> adj = pd.DataFrame({"unit_id": [2], "frame": ["econ"], "code": [0]})
    >>> reference_codes(codes, frames=["econ"], adjudicated=adj)["reference"].tolist()
    [1, 0]
    """
    _check_codes(codes, frames, [unit, coder, language])
    decided: Mapping = {}
    if adjudicated is not None:
        for column in (unit, "frame", "code"):
            if column not in adjudicated.columns:
                raise ValueError(f"adjudicated has no column '{column}'; it needs {unit}, frame and code.")
        if not adjudicated["code"].isin([0, 1]).all():
            raise ValueError("adjudicated column 'code' must hold 0 or 1 in every row.")
        unknown = sorted(set(adjudicated["frame"]) - set(frames))
        if unknown:
            raise ValueError(f"adjudicated names frames {unknown} that are not in frames; fix the frame ids.")
        if adjudicated.duplicated(subset=[unit, "frame"]).any():
            raise ValueError("adjudicated has two decisions for the same unit and frame; keep one.")
        decided = {(u, f): int(c) for u, f, c in zip(adjudicated[unit], adjudicated["frame"], adjudicated["code"])}
    languages = codes.groupby(unit)[language].first()
    out = []
    for frame in frames:
        wide = _wide(codes, frame, unit, coder)
        ones = (wide == 1).sum(axis=1)
        coded = wide.notna().sum(axis=1)
        for u in wide.index:
            k, m = int(ones[u]), int(coded[u])
            if (u, frame) in decided:
                ref, source = decided[(u, frame)], "adjudicated"
            elif m == 0:
                ref, source = pd.NA, "uncoded"
            elif k in (0, m):
                ref, source = int(k == m), "unanimous"
            elif 2 * k == m:
                ref, source = pd.NA, "tie"
            else:
                ref, source = int(2 * k > m), "majority"
            out.append(
                {
                    unit: u,
                    language: languages[u],
                    "frame": frame,
                    "reference": ref,
                    "source": source,
                    "coders": m,
                    "ones": k,
                }
            )
    result = pd.DataFrame(out, columns=[unit, language, "frame", "reference", "source", "coders", "ones"])
    result["reference"] = result["reference"].astype("Int64")
    return result
