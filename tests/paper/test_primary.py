"""A declared primary comparison ([design] primary): checked in the study, marked in its table (role),
and led with in numbers.tex and the appendix."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from analysis.errors import InputError
from analysis.paper import appendix
from analysis.stages.results import Table, with_roles
from analysis.stats.multiplicity import CONFIRMATORY, EXPLORATORY, declare_family
from analysis.study.settings import parse_study

BASE = '[corpus]\nfolder = "corpus"\nmetadata = "corpus/metadata.csv"\n'


def study(primary: str):
    return parse_study(BASE + f'[design]\nprimary = "{primary}"\n', Path("study.toml"))


def frame_table() -> pd.DataFrame:
    table = pd.DataFrame(
        {
            "family": ["economy", "economy", "security"],
            "item": ["economy_trade", "economy_aid", "security_sea"],
            "group_a": "vi",
            "group_b": "en",
            "difference": [1.5, -0.2, 0.1],
            "p": [0.004, 0.6, 0.3],
            "q": [0.008, 0.6, 0.3],
            "p_unit": "outlets",
            "cluster_ci_low": [0.6, -1.0, -0.5],
            "cluster_ci_high": [2.4, 0.6, 0.7],
            "too_small": False,
            "note": "",
        }
    )
    return declare_family(
        table, keys=["family", "group_a", "group_b"], within="{family}: {group_a} vs {group_b}", correction="bh"
    )


def test_the_key_is_checked_and_a_study_without_it_has_no_design_section():
    ok, problems = study("frame_tests_by_language:economy_trade")
    assert problems == [] and ok.design.primary == "frame_tests_by_language:economy_trade"
    plain, _ = parse_study(BASE, Path("study.toml"))
    assert plain.design is None and "design" not in plain.as_dict()
    _, problems = study("frame_salience_by_language:economy_trade")
    assert len(problems) == 1 and "[design] primary = 'frame_salience_by_language:economy_trade'" in str(problems[0])


def test_roles_mark_the_primary_row_of_its_table_and_every_other_test_exploratory():
    s, _ = study("frame_tests_by_language:economy_trade:vi-en")
    results = with_roles(
        [
            Table("frame_tests_by_{by}", frame_table(), {"by": "language"}),
            Table("actor_tests_by_{by}", frame_table(), {"by": "language"}),
        ],
        primary=s.design.primary,
        source=s.source,
    )
    assert results[0].data["role"].tolist() == [CONFIRMATORY, EXPLORATORY, EXPLORATORY]
    assert set(results[1].data["role"]) == {EXPLORATORY}
    assert list(results[0].data.columns[-4:]) == ["adjusted_within", "role", "too_small", "note"]
    missing, _ = study("frame_tests_by_language:economy_war")
    with pytest.raises(InputError, match="matches 0 rows of frame_tests_by_language"):
        with_roles(
            [Table("frame_tests_by_{by}", frame_table(), {"by": "language"})],
            primary=missing.design.primary,
            source=missing.source,
        )


def test_numbers_and_appendix_lead_with_the_primary_comparison():
    s, _ = study("frame_tests_by_language:economy_trade")
    table = with_roles(
        [Table("frame_tests_by_{by}", frame_table(), {"by": "language"})], primary=s.design.primary, source=s.source
    )[0].data
    numbers = appendix.primary_numbers(table, "frame_tests_by_language", s.design.primary)
    assert numbers["PrimaryEstimate"][0] == 1.5 and numbers["PrimaryP"][0] == 0.004
    assert (numbers["PrimaryLow"][0], numbers["PrimaryHigh"][0]) == (0.6, 2.4) and numbers["PrimaryPUnit"][
        0
    ] == "outlets"
    tex = appendix.numbers_tex({"NDocuments": (10, "x"), **numbers})
    assert tex.splitlines()[1].startswith(r"\newcommand{\PrimaryComparison}{economy\_trade}")
    paragraph = appendix.primary_paragraph(numbers, "frame_tests_by_language")
    assert "p = 0.004 (outlets permuted)" in paragraph and "exploratory" in paragraph
