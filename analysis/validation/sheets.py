"""Strict checks of a filled-in coding sheet before its codes are used (pure; no file I/O).

A sheet comes back from a person, often through a spreadsheet program: rows get deleted or
duplicated, a code typed as "yes" or "2", a sheet from an earlier draw mixed in. Every such
problem would silently bias the accuracy and DSL estimates, so :func:`check_codes` lists them
all, one line each, naming the row (numbered as a spreadsheet shows it: header = row 1, first
data row = row 2) and the fix. Reading and writing the files is the caller's job.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from analysis.validation.sampling import SampleDesign

__all__ = ["check_codes", "VALID_CODES"]

#: What counts as a code: 1 = frame present, 0 = absent (as numbers or their text).
VALID_CODES = {"0": 0, "1": 1, "0.0": 0, "1.0": 1}


def _code(value) -> int | None:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    if isinstance(value, bool):
        return int(value)
    text = str(value).strip()
    return VALID_CODES.get(text, -1) if text else None


def check_codes(
    sheet: pd.DataFrame,
    design: SampleDesign,
    *,
    frames: Sequence[str],
    sample: pd.DataFrame | None = None,
    allow_blank: bool = False,
    id_column: str = "unit_id",
) -> list[str]:
    """Problems of a filled-in coding sheet, one line each (an empty list: the sheet can be used).

    Checked: the columns ``draw_id, coder, unit_id`` and one per frame exist; every row's
    ``draw_id`` is the design's (a sheet from another draw has other units and weights); every
    row names its coder; no unit appears twice for one coder; every code is 0 or 1 (blank only
    with ``allow_blank``); and, given the ``sample``, every sampled unit is on the sheet of each
    coder and no other unit is.

    Parameters
    ----------
    sheet : DataFrame
        The sheet as read back (one or several coders), from
        :func:`~analysis.validation.sampling.coder_sheet` filled in.
    design : SampleDesign
        The design the sheet was made for.
    frames : list of str
        The frame code columns.
    sample : DataFrame, optional
        The drawn sample, to check that the sheet covers exactly its units.
    allow_blank : bool
        Accept blank codes (a coder could not decide; the unit then counts as not coded).

    Returns
    -------
    list of str

    Examples
    --------
    >>> design = SampleDesign(1, ("hit",), "any", {"vi|hit": 2}, {"vi|hit": 2}, "abc123")
    >>> sheet = pd.DataFrame({"draw_id": ["abc123", "abc123"], "coder": "A", "unit_id": ["u1", "u2"],
    ...                       "econ": ["1", "yes"]})
    >>> check_codes(sheet, design, frames=["econ"])
    ["row 3 (unit u2, coder A): code 'yes' in column 'econ' is not 0 or 1; enter 1 (present) or 0 (absent)."]
    """
    if not isinstance(sheet, pd.DataFrame):
        raise ValueError("sheet must be a DataFrame (the coding sheet as read back).")
    if isinstance(frames, str) or not frames:
        raise ValueError("frames must be a non-empty list of frame code columns, e.g. frames=['economy_trade'].")
    problems = []
    missing = [c for c in ("draw_id", "coder", id_column, *frames) if c not in sheet.columns]
    if missing:
        return [f"the sheet has no column {c!r}; restore it from the sheet as it was sent out." for c in missing]
    seen: dict = {}
    for i, (_, row) in enumerate(sheet.iterrows()):
        unit = "" if pd.isna(row[id_column]) else str(row[id_column]).strip()
        coder = "" if pd.isna(row["coder"]) else str(row["coder"]).strip()
        where = f"row {i + 2} (unit {unit or '?'}, coder {coder or '?'})"
        draw = "" if pd.isna(row["draw_id"]) else str(row["draw_id"]).strip()
        if draw != design.draw_id:
            problems.append(
                f"{where}: draw_id '{draw}' is not this design's '{design.draw_id}'; "
                "use the sheet made for this draw or drop the row."
            )
        if not unit:
            problems.append(f"{where}: unit_id is empty; restore it from the sheet as it was sent out.")
        if not coder:
            problems.append(f"{where}: coder is empty; enter the coder's name.")
        if unit and coder:
            if (unit, coder) in seen:
                problems.append(
                    f"{where}: unit {unit} appears again for coder {coder} (first at row {seen[(unit, coder)]}); "
                    "keep one row per unit and coder."
                )
            else:
                seen[(unit, coder)] = i + 2
        for frame in frames:
            code = _code(row[frame])
            if code is None and not allow_blank:
                problems.append(f"{where}: no code in column '{frame}'; enter 1 (present) or 0 (absent).")
            elif code == -1:
                problems.append(
                    f"{where}: code {str(row[frame]).strip()!r} in column '{frame}' is not 0 or 1; "
                    "enter 1 (present) or 0 (absent)."
                )
    if sample is not None:
        if id_column not in sample.columns:
            raise ValueError(f"sample has no column '{id_column}'; pass the sample draw_coding_sample returned.")
        expected = set(sample[id_column].astype(str))
        for coder in sorted({c for _, c in seen}):
            got = {u for u, c in seen if c == coder}
            for unit in sorted(expected - got):
                problems.append(
                    f"coder {coder}: sampled unit {unit} is missing from the sheet; add its row back and code it."
                )
            for unit in sorted(got - expected):
                problems.append(
                    f"coder {coder} (row {seen[(unit, coder)]}): unit {unit} was not drawn in this sample; "
                    "drop the row."
                )
    return problems
