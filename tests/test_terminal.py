"""The terminal (issue 14): one line per stage, --verbose for the files, progress with the time
left, make help, and packaging metadata without setuptools warnings."""

from __future__ import annotations

import fnmatch
import io
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from analysis.progress import Progress, format_seconds, tracked

ROOT = Path(__file__).resolve().parents[1]


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def test_progress_lines_count_steps_and_estimate_the_time_left():
    clock, stream = Clock(), io.StringIO()
    quick = Progress("quick", total=2, enabled=True, stream=stream, interval=5, clock=clock)
    quick.step()
    quick.step()
    assert stream.getvalue() == ""  # done within the interval: no line at all
    progress = Progress("topics", total=4, unit="fits", enabled=True, stream=stream, interval=5, clock=clock)
    clock.now += 6
    progress.step("vi K=2 seed 1")  # 6 s after the start: reported; 6 s a fit, 3 left
    clock.now += 2
    progress.step("vi K=2 seed 2")  # 2 s after the last line: quiet
    clock.now += 10  # 12 s after it: reported
    progress.step("vi K=3 seed 1")  # 18 s for 3 fits: 6 s a fit, 1 left
    clock.now += 1
    progress.step("joint final fit K=3")  # the last step is always reported, with no estimate
    assert stream.getvalue().splitlines() == [
        "topics: 1/4 fits (vi K=2 seed 1), 6 s so far, about 18 s left",
        "topics: 3/4 fits (vi K=3 seed 1), 18 s so far, about 6 s left",
        "topics: 4/4 fits (joint final fit K=3), 19 s so far",
    ]
    assert format_seconds(200) == "3 min 20 s" and format_seconds(3900) == "1 h 05 min"


def test_disabled_progress_says_nothing_and_tracked_map_counts_every_result():
    stream = io.StringIO()
    progress = Progress("x", enabled=False, stream=stream)
    mapper = tracked(map, progress, describe=lambda job: f"K={job[0]}")
    assert list(mapper(lambda job: job[0] * job[1], [(2, 1), (3, 2)])) == [2, 6]
    assert (progress.done, progress.total, stream.getvalue()) == (2, 2, "")


def _run(study: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "MPLBACKEND": "Agg", "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "analysis", *args, "--study", str(study)],
        check=False,
        capture_output=True,
        text=True,
        env=env,
        cwd=study.parent,
    )


def test_default_terminal_is_one_line_per_stage_verbose_lists_files_quiet_is_silent(tiny_study):
    default = _run(tiny_study, "prepare")
    assert default.returncode == 0, default.stderr
    lines = [
        line for line in default.stderr.splitlines() if line.strip() and "doc/s]" not in line
    ]  # prepare's progress bar
    assert len(lines) == 1 and re.fullmatch(
        r"prepare: read 2 documents \(corpus\); wrote \d+ files to out in \d+\.\d s", lines[0]
    ), default.stderr
    assert default.stdout == ""
    verbose = _run(tiny_study, "frequencies", "--verbose")
    wrote = [line for line in verbose.stderr.splitlines() if line.startswith("INFO wrote ")]
    assert len(wrote) >= 5 and any(line.endswith("top_terms_by_language.csv") for line in wrote)
    assert f"wrote {len(wrote)} files to out" in verbose.stderr.splitlines()[-1]
    assert "NumExpr" not in verbose.stderr  # other libraries' INFO lines never reach the terminal
    quiet = _run(tiny_study, "frequencies", "--quiet")
    assert quiet.returncode == 0 and quiet.stderr == ""


def test_make_help_lists_stage_targets_strip_notebooks_and_study():
    result = subprocess.run(
        ["make", "-s", "-o", ".venv/.installed", "help"], check=False, cwd=ROOT, capture_output=True, text=True
    )
    if result.returncode != 0 and "No rule" in result.stderr:
        pytest.skip("make unavailable")
    targets = {line.split()[0] for line in result.stdout.splitlines() if line.startswith("  ")}
    assert {
        "prepare",
        "frequencies",
        "framing",
        "topics",
        "appendix",
        "strip-notebooks",
        "test",
        "clean",
        "help",
    } <= targets
    assert "STUDY=" in result.stdout


def test_pyproject_license_is_spdx_and_every_resource_is_package_data():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert project["project"]["license"] == "MIT"  # an SPDX string, not a table (setuptools >= 77)
    assert any(
        r.startswith("setuptools>=") and int(r.split(">=")[1].split(".")[0]) >= 77
        for r in project["build-system"]["requires"]
    )
    setuptools = project["tool"]["setuptools"]
    assert "analysis.resources" in setuptools["packages"]
    patterns = setuptools["package-data"]["analysis.resources"]
    files = [p.name for p in (ROOT / "analysis" / "resources").iterdir() if p.is_file()]
    assert files and all(any(fnmatch.fnmatch(f, p) for p in patterns) for f in files)


# ------------------------------------------------------------------------------ KWIC terms


def test_kwic_terms_with_spaces_and_multiword_names_match_as_the_text_was_segmented():
    from analysis.text.textstat import kwic, kwic_absent, kwic_query
    from analysis.text.tokens import TermRules

    assert kwic_query("kinh tế") == kwic_query("kinh_tế") == kwic_query("Kinh  tế")
    docs = []
    for doc_id, language, sentences in (
        ("v", "vi", [["Hai", "nước", "hợp_tác", "kinh_tế", "."]]),
        ("e", "en", [["The", "United", "States", "and", "the", "East Sea", "."]]),
    ):
        docs.append(_prepared(doc_id, language, sentences))
    rules = TermRules({"vi": frozenset(), "en": frozenset()}, lemmatize_en=False)
    hit = kwic(docs, "kinh tế", rules, window=2)
    assert hit[["doc_id", "position", "left", "keyword", "right"]].values.tolist() == [
        ["v", 3, "nước hợp_tác", "kinh_tế", "."]
    ]
    hit = kwic(docs, "United States", rules, window=2)  # two tokens in the text
    assert hit[["doc_id", "position", "left", "keyword", "right"]].values.tolist() == [
        ["e", 1, "The", "United States", "and the"]
    ]
    assert kwic(docs, "east sea", rules, window=1)["keyword"].tolist() == ["East Sea"]  # one merged token
    assert kwic(docs, "United", rules, window=1)["keyword"].tolist() == ["United"]
    assert kwic(docs, "States and", rules, window=1)["keyword"].tolist() == ["States and"]
    assert kwic(docs, "kinh te", rules).empty
    assert kwic_absent(docs, "kinh te") == (
        "'kinh te' is not in the corpus (looked for the token kinh_te and the words kinh te in a row); closest: kinh_tế"
    )


def _prepared(doc_id, language, sentences):
    from analysis.text.tokens import PreparedDocument

    return PreparedDocument(doc_id, language, [sentences])


def test_kwic_terms_whose_slugs_collide_get_one_file_each():
    from analysis.study.outputs import kwic_stems

    stems = kwic_stems(["East Sea", "east-sea", "EAST SEA", "hợp_tác", "East Sea"])
    assert len(stems) == 4 and len(set(stems.values())) == 4
    assert stems["hợp_tác"] == "kwic_hợp_tác"
    assert all(re.fullmatch(r"kwic_east-sea-[0-9a-f]{8}", stems[t]) for t in ("East Sea", "east-sea", "EAST SEA"))
    assert (
        kwic_stems(["EAST SEA", "East Sea"])["East Sea"] == kwic_stems(["East Sea", "EAST SEA"])["East Sea"]
    )  # order-free
    assert kwic_stems(["East Sea"]) == {"East Sea": "kwic_east-sea"}  # no collision: the plain name


def test_progress_has_the_topic_engines_interface():
    clock, stream = Clock(), io.StringIO()
    progress = Progress("topics", unit="fits", enabled=True, stream=stream, interval=5, clock=clock)
    progress.start(2)
    clock.now += 6
    progress.advance("vi K = 2 seed 1")
    clock.now += 6
    progress.advance("vi final fit, K = 2")
    assert stream.getvalue().splitlines() == [
        "topics: 1/2 fits (vi K = 2 seed 1), 6 s so far, about 6 s left",
        "topics: 2/2 fits (vi final fit, K = 2), 12 s so far",
    ]
