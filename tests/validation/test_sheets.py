"""Checks of filled-in coding sheets (analysis/validation/sheets.py)."""

import numpy as np
import pandas as pd
import pytest

from analysis.validation.sampling import coder_sheet, draw_coding_sample
from analysis.validation.sheets import check_codes


def filled():
    units = pd.DataFrame(
        {"unit_id": [f"u{i}" for i in range(20)], "language": ["vi"] * 10 + ["en"] * 10, "econ": [1, 0] * 10}
    )
    sample, design = draw_coding_sample(units, hit_columns=["econ"], size_per_stratum=3, seed=0)
    sheet = coder_sheet(sample, {u: u for u in units["unit_id"]}, design, frames=["econ", "conflict"], coder="A")
    sheet["econ"] = 1
    sheet["conflict"] = np.arange(len(sheet)) % 2
    return sheet, design, sample


def test_a_correct_sheet_has_no_problem():
    sheet, design, sample = filled()
    assert check_codes(sheet, design, frames=["econ", "conflict"], sample=sample) == []
    # codes as spreadsheet text are fine too
    assert check_codes(sheet.astype({"econ": str}), design, frames=["econ", "conflict"], sample=sample) == []


def test_each_defect_is_named_with_its_row_and_fix():
    sheet, design, sample = filled()
    bad = sheet.copy()
    bad["econ"] = bad["econ"].astype(object)
    bad.loc[1, "econ"] = "yes"
    bad.loc[2, "conflict"] = pd.NA
    bad.loc[3, "draw_id"] = "0123456789ab"
    bad = pd.concat([bad, bad.iloc[[0]]], ignore_index=True)  # a duplicated row, now the last
    dropped = bad["unit_id"].iloc[4]
    bad = bad.drop(index=4).reset_index(drop=True)
    problems = check_codes(bad, design, frames=["econ", "conflict"], sample=sample)
    text = "\n".join(problems)
    assert f"row 3 (unit {sheet['unit_id'][1]}, coder A): code 'yes' in column 'econ'" in text
    assert f"row 4 (unit {sheet['unit_id'][2]}, coder A): no code in column 'conflict'" in text
    assert "row 5" in text and "draw_id '0123456789ab'" in text
    assert f"unit {sheet['unit_id'][0]} appears again for coder A (first at row 2)" in text
    assert f"sampled unit {dropped} is missing" in text
    assert len(problems) == 5
    assert all("\n" not in p and p.endswith(".") for p in problems)


def test_blank_allowed_and_foreign_unit_flagged():
    sheet, design, sample = filled()
    sheet["econ"] = sheet["econ"].astype("Int64")
    sheet.loc[0, "econ"] = pd.NA
    assert check_codes(sheet, design, frames=["econ"], allow_blank=True) == []
    extra = pd.concat([sheet, sheet.iloc[[1]].assign(unit_id="zz")], ignore_index=True)
    problems = check_codes(extra, design, frames=["econ"], sample=sample, allow_blank=True)
    assert problems == [f"coder A (row {len(extra) + 1}): unit zz was not drawn in this sample; drop the row."]


def test_missing_column_is_reported_not_raised():
    sheet, design, _ = filled()
    assert check_codes(sheet.drop(columns="coder"), design, frames=["econ"]) == [
        "the sheet has no column 'coder'; restore it from the sheet as it was sent out."
    ]
    with pytest.raises(ValueError, match="frames"):
        check_codes(sheet, design, frames="econ")
