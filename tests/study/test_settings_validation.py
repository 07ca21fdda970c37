"""Every study value is checked when the study is read: one line naming the key and the fix,
exit status 2, nothing written (not even the cache), and ``validate`` lists every problem."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from analysis.cli import main
from analysis.errors import InputError
from analysis.study.settings import MAX_SEED, StudyErrors, load_study_text
from tests.conftest import TINY_EN, TINY_VI, write_study

BASE = (
    '[corpus]\nfolder = "corpus"\nmetadata = "corpus/metadata.csv"\n'
    '[run]\noutput = "out"\ncache = ".cache"\nworkers = 1\n'
)


def _study(tmp_path: Path, section: str, line: str) -> Path:
    """The tiny bilingual study with ``line`` added to ``[section]``."""
    text = BASE
    if section == "corpus":
        text = text.replace("[corpus]\n", f"[corpus]\n{line}\n")
    elif section == "run":
        text = (
            text.replace("[run]\n", f"[run]\n{line}\n")
            if not line.startswith("output")
            else text.replace('output = "out"', line)
        )
    else:
        text += f"[{section}]\n{line}\n"
    return write_study(tmp_path, [("v1", "vi", TINY_VI), ("e1", "en", TINY_EN)], study_text=text)


CASES = [
    ("frequencies", "top_n = 0", "[frequencies] top_n = 0 must be a whole number >= 1"),
    ("frequencies", "top_n = -3", "[frequencies] top_n = -3 must be a whole number >= 1"),
    ("frequencies", "kwic_window = -1", "[frequencies] kwic_window = -1 must be a whole number >= 0"),
    ("frequencies", "min_count_bigram = 0", "[frequencies] min_count_bigram = 0 must be a whole number >= 1"),
    ("topics", f"seed = {MAX_SEED + 1}", f"[topics] seed = {MAX_SEED + 1} must be a whole number from 0 to {MAX_SEED}"),
    ("topics", "seeds = [1, 4294967296]", "[topics] seeds = 4294967296 must be a whole number from 0"),
    ("framing", "seed = -1", "[framing] seed = -1 must be a whole number from 0"),
    ("run", "seed = 99999999999", "[run] seed = 99999999999 must be a whole number from 0"),
    ("framing", "fightin_alpha0 = inf", "[framing] fightin_alpha0 = inf must be a positive finite number"),
    ("framing", "fightin_alpha0 = nan", "[framing] fightin_alpha0 = nan must be a positive finite number"),
    ("framing", "fightin_alpha0 = 0.0", "[framing] fightin_alpha0 = 0.0 must be a positive finite number"),
    ("framing", "fightin_alpha0 = -5", "[framing] fightin_alpha0 = -5.0 must be a positive finite number"),
    ("framing", "bootstrap = 0", "[framing] bootstrap = 0 must be a whole number >= 1"),
    ("framing", "permutations = 0", "[framing] permutations = 0 must be a whole number >= 1"),
    ("framing", "duplicate_jaccard = nan", "[framing] duplicate_jaccard = nan must be a number in (0, 1]"),
    ("framing", "omission_ratio = inf", "[framing] omission_ratio = inf must be a finite number >= 1"),
    ("framing", "keyness_correction = 'continuity'", "[framing] keyness_correction = 'continuity' is not known"),
    ("topics", "passes = 0", "[topics] passes = 0 must be a whole number >= 1"),
    ("topics", "iterations = 0", "[topics] iterations = 0 must be a whole number >= 1"),
    ("topics", "bootstrap = -1", "[topics] bootstrap = -1 must be a whole number >= 0"),
    ("topics", "no_above = nan", "[topics] no_above = nan must be a number in (0, 1]"),
    ("units", "window = 0", "[units] window = 0 must be a whole number >= 1"),
    ("corpus", "encoding = 'utf-9'", "[corpus] encoding = 'utf-9' is not a known text encoding"),
    ("run", 'output = ""', '[run] output = "" is empty'),
    ("run", "blas_threads = 0", "[run] blas_threads = 0 must be a positive count of threads"),
    ("run", "blas_threads = -2", "[run] blas_threads = -2 must be a positive count of threads"),
    (
        "frequencies",
        'group_by = ["language", "newspaper"]',
        "[frequencies] group_by names 'newspaper', not a metadata column",
    ),
    ("framing", 'compare_by = "newspaper"', "[framing] compare_by names 'newspaper', not a metadata column"),
    ("framing", 'keyness_within = ["section"]', "[framing] keyness_within names 'section', not a metadata column"),
    (
        "topics",
        'prevalence_by = ["language", "author"]',
        "[topics] prevalence_by names 'author', not a metadata column",
    ),
    ("framing", 'cluster = "newspaper"', "[framing] cluster names 'newspaper', not a metadata column"),
    ("topics", 'cluster = "newspaper"', "[topics] cluster names 'newspaper', not a metadata column"),
]


@pytest.mark.parametrize("section, line, message", CASES)
@pytest.mark.parametrize("stage", ["validate", "prepare"])
def test_a_bad_value_stops_before_anything_is_written(tmp_path, capsys, section, line, message, stage):
    study = _study(tmp_path, section, line)
    assert main([stage, "--study", str(study), "--quiet"]) == 2
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {study}: ") and message in lines[0], err
    assert "(fix: " in lines[0]
    assert not (tmp_path / "out").exists() and not (tmp_path / ".cache").exists()


def test_output_naming_an_existing_file(tmp_path, capsys):
    study = _study(tmp_path, "run", 'output = "notes.txt"')
    (tmp_path / "notes.txt").write_text("mine\n", encoding="utf-8")
    assert main(["validate", "--study", str(study)]) == 2
    assert "[run] output = 'notes.txt' is an existing file, not a folder" in capsys.readouterr().err
    assert (tmp_path / "notes.txt").read_text(encoding="utf-8") == "mine\n" and not (tmp_path / ".cache").exists()


def test_validate_lists_every_problem(tmp_path, capsys):
    text = BASE.replace('output = "out"', 'output = ""') + (
        '[frequencies]\ntop_n = 0\nkwic_window = -2\n[framing]\nbootstrap = 0\ncompare_by = "paper"\n'
        "[topics]\nseed = 4294967296\npasses = 0\n"
    )
    study = write_study(tmp_path, [("v1", "vi", TINY_VI), ("e1", "en", TINY_EN)], study_text=text)
    assert main(["validate", "--study", str(study)]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    keys = [
        "[frequencies] top_n",
        "[frequencies] kwic_window",
        "[run] output",
        "[framing] bootstrap",
        "[topics] seed",
        "[topics] passes",
        "[framing] compare_by names 'paper'",
    ]
    assert len(lines) == len(keys) and all(line.startswith("error: ") for line in lines)
    for key in keys:
        assert sum(key in line for line in lines) == 1, key


def test_several_problems_raise_one_error_listing_each():
    with pytest.raises(StudyErrors) as info:
        load_study_text("[frequencies]\ntop_n = 0\n[framing]\npermutations = 0\nbootstrap = 0\n", Path("s.toml"))
    assert [p.problem.split(" =")[0] for p in info.value.problems] == [
        "[frequencies] top_n",
        "[framing] bootstrap",
        "[framing] permutations",
    ]
    assert isinstance(info.value, InputError) and str(info.value).count("\n") == 2


def test_good_values_pass_and_floats_stay_floats():
    study = load_study_text("[framing]\nfightin_alpha0 = 50\n[topics]\nseed = 4294967295\n", Path("s.toml"))
    assert study.framing.fightin_alpha0 == 50.0 and isinstance(study.framing.fightin_alpha0, float)
    assert study.topics.seed == MAX_SEED and not math.isnan(study.topics.no_above)


def test_a_computation_value_error_names_the_study_key(tmp_path, capsys, monkeypatch):
    """Computation raises ValueError naming its parameter; the stage reports the study key."""
    from analysis.stages import framing as framing_stage

    def refuse(*args, **kwargs):
        raise ValueError("n_resamples = 2000 must be a whole number >= 1")

    monkeypatch.setattr(framing_stage, "frame_group_table", refuse)
    study = write_study(tmp_path, [("v1", "vi", TINY_VI), ("e1", "en", TINY_EN)])
    assert main(["framing", "--study", str(study), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "[framing] bootstrap: n_resamples = 2000" in err and "Traceback" not in err
    assert not (tmp_path / "out").exists()
