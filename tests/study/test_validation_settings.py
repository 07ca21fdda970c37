"""``[validation]``: optional, checked one line per bad value, and what it declares."""

from __future__ import annotations

from pathlib import Path

import pytest

from analysis.errors import InputError
from analysis.study.outputs import declared_outputs
from analysis.study.settings import ValidationSettings, load_study_text, parse_study


def test_absent_section_is_none_and_declares_nothing():
    study = load_study_text("[run]\nworkers = 1\n", Path("s.toml"))
    assert study.validation is None and "validation" not in study.as_dict()
    assert declared_outputs({})["validation"] == []


def test_defaults_and_what_codes_adds():
    study = load_study_text("[validation]\n", Path("s.toml"))
    assert study.validation == ValidationSettings() and study.as_dict()["validation"]["per_stratum"] == 50
    sheets = declared_outputs({"validation": {"coders": 3}})["validation"]
    assert [n for n in sheets if n.endswith(".csv")] == [
        "coding_sheet_coder1.csv",
        "coding_sheet_coder2.csv",
        "coding_sheet_coder3.csv",
        "codebook_audit_precision.csv",  # the codebook's patterns, their human-coded columns empty
    ]
    coded = declared_outputs({"validation": {"codes": "coded"}, "run": {"figure_formats": ["png"]}})["validation"]
    assert set(coded) - set(declared_outputs({"validation": {}})["validation"]) == {
        f"{stem}.{ext}"
        for stem in (
            "validation_agreement",
            "validation_accuracy",
            "validation_differential_error",
            "validation_corrected_prevalence",
            "validation_budget",
            "validation_pattern_audit",
        )
        for ext in ("csv", "tex", "md")
    } | {"validation_disagreements.csv", "validation_accuracy.png"}


@pytest.mark.parametrize(
    "line, expected",
    [
        (
            'unit = "paragraph"',
            (
                "[validation] unit = 'paragraph' is not a unit people can code "
                '(fix: use unit = "document", "sentence" or "kwic")'
            ),
        ),
        ('unit = "kwic"', '[validation] unit = "kwic" needs key terms'),
        ("context = -1", "[validation] context = -1 must be a whole number >= 0"),
        ("kwic_window = 0", "[validation] kwic_window = 0 must be a whole number >= 1"),
        ('kwic_terms = [""]', "[validation] kwic_terms = [''] must be non-empty terms"),
        ("per_stratum = 0", "[validation] per_stratum = 0 must be a whole number >= 1"),
        ("coders = 0", "[validation] coders = 0 must be a whole number >= 1 (fix: use coders = 2"),
        ("seed = -1", "[validation] seed = -1 must be a whole number from 0"),
        ("level = 1.5", "[validation] level = 1.5 must be a number between 0 and 1"),
        ("half_width = 0", "[validation] half_width = 0.0 must be a number in (0, 1]"),
        ('frames = ["a", "a"]', "[validation] frames = ['a', 'a'] must be distinct frame ids"),
        ("coder = 2", "unknown key 'coder' in [validation]"),
    ],
)
def test_a_bad_value_is_one_line_naming_the_key(line, expected):
    _, problems = parse_study(f"[validation]\n{line}\n", Path("s.toml"))
    assert len(problems) == 1 and expected in str(problems[0]), [str(p) for p in problems]
    with pytest.raises(InputError):
        load_study_text(f"[validation]\n{line}\n", Path("s.toml"))
