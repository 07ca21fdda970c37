"""What the command line prints besides the stages' work: ``validate``'s warnings (each once, paths
as typed) and ``init``'s own help."""

from __future__ import annotations

import os
import subprocess
import sys

import pandas as pd
import pytest

from analysis.cli import main

from .conftest import ROOT, TINY_EN, TINY_VI


def test_validate_prints_each_warning_once_with_the_path_relative_to_the_working_folder(tmp_path, monkeypatch, capsys):
    # A table read twice by validate (every record checked, then again for the learned boilerplate):
    # its one mislabelled record was warned about twice, by absolute path.
    rows = [{"doc_id": f"v{i}", "language": "vi", "text": TINY_VI} for i in range(3)]
    rows += [{"doc_id": f"e{i}", "language": "en", "text": TINY_EN} for i in range(3)]
    rows.append({"doc_id": "wrong", "language": "en", "text": TINY_VI})
    pd.DataFrame(rows).to_csv(tmp_path / "articles.csv", index=False)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}

    def run(*args):
        return subprocess.run(
            [sys.executable, "-m", "analysis", *args], cwd=tmp_path, env=env, capture_output=True, text=True
        )

    assert run("init", "--table", "articles.csv", "--study", "s.toml").returncode == 0
    result = run("validate", "--study", "s.toml")
    assert result.returncode == 0, result.stderr
    err = result.stderr
    warned = [line for line in err.splitlines() if "says language 'en' but the text looks 'vi'" in line]
    assert len(warned) == 1 and warned[0].startswith("WARNING articles.csv record 7 "), err
    assert str(tmp_path) not in err


def test_init_help_lists_its_own_options_not_every_stage(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["init", "--help"])
    assert stop.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: python -m analysis init")
    for option in ("--table", "--folder", "--study", "--parallel"):
        assert option in out
    assert "--term" not in out and "--scheduler" not in out and "stages:" not in out
    with pytest.raises(SystemExit):
        main(["--help"])
    assert "python -m analysis init --help" in capsys.readouterr().out
    assert main(["init", "--table", "a.csv", "--folder", "b"]) == 2  # one line, as before
    assert "give one of --table FILE or --folder FOLDER" in capsys.readouterr().err


@pytest.mark.parametrize("fails", [False, True])
def test_a_command_freezes_what_is_loaded_while_it_runs_and_unfreezes_it_after(tiny_study, monkeypatch, fails):
    # gc.freeze spares the collector the loaded modules during a run; an in-process caller (tests,
    # notebooks) must get every object collectable again afterwards, also when the stage fails
    import gc

    from analysis import cli
    from analysis.errors import InputError

    frozen_during = []

    def stage(study, args):
        frozen_during.append(gc.get_freeze_count())
        if fails:
            raise InputError("x", "a bad input", "fix it")

    monkeypatch.setitem(cli.STAGES, "kwic", ("", stage))
    assert main(["kwic", "--study", str(tiny_study), "--quiet"]) == (2 if fails else 0)
    assert frozen_during[0] > 10_000  # pandas, numpy and this package at least
    assert gc.get_freeze_count() == 0
