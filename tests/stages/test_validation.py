"""Stage ``validation``: exactly the declared files, same seed same bytes, hand-checked estimates
from a scripted coder, and every bad sheet refused in one line with nothing written."""

from __future__ import annotations

import json
import shutil
import tomllib
from pathlib import Path

import pandas as pd
import pytest

from analysis.cli import main
from analysis.files import read_study
from analysis.stages.validation import run_validation
from analysis.study.outputs import declared_outputs

from tests.conftest import write_study

# economy_trade hits: v1-v3 and e1-e2; none in v4-v6 and e3-e4 (strata N: vi 3 + 3, en 2 + 2).
DOCS = [
    ("v1", "vi", "Hai nước thúc đẩy thương mại và đầu tư.\n"),
    ("v2", "vi", "Kim ngạch thương mại song phương tăng mạnh.\n"),
    ("v3", "vi", "Doanh nghiệp mở rộng đầu tư.\n"),
    ("v4", "vi", "Ngư dân đánh cá trên biển.\n"),
    ("v5", "vi", "Hai bên giữ hòa bình trên biển.\n"),
    ("v6", "vi", "Tàu cá của ngư dân trở về an toàn.\n"),
    ("e1", "en", "The two countries promote trade and investment.\n"),
    ("e2", "en", "Bilateral trade grew strongly.\n"),
    ("e3", "en", "Fishermen fish at sea.\n"),
    ("e4", "en", "Both sides keep peace at sea.\n"),
]
STUDY = """
[corpus]
folder = "corpus"
metadata = "corpus/metadata.csv"
[run]
output = "out"
cache = ".cache"
workers = 1
figure_formats = ["png"]
[validation]
frames = ["economy_trade"]
per_stratum = 2
bootstrap = 200
"""


def make_study(folder: Path, extra: str = "") -> Path:
    return write_study(folder, DOCS, study_text=STUDY + extra)


def declared(study_path: Path) -> list[str]:
    return declared_outputs(tomllib.loads(study_path.read_text(encoding="utf-8")))["validation"]


def written(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def fill(out: Path, coded: Path, *, flips: dict[str, int], coders=("coder1", "coder2")) -> None:
    """Scripted coders: the dictionary's presence (from the design's strata), with ``flips`` planted
    (unit -> code), both coders alike; the text column is dropped as a coder might."""
    design = json.loads((out / "coding_design.json").read_text(encoding="utf-8"))
    hit = {u["unit_id"]: int(u["stratum"].endswith("|hit")) for u in design["units"]}
    coded.mkdir(exist_ok=True)
    for coder in coders:
        sheet = pd.read_csv(out / f"coding_sheet_{coder}.csv", dtype=str, keep_default_na=False)
        sheet["economy_trade"] = [str(flips.get(u, hit[u])) for u in sheet["unit_id"]]
        sheet.drop(columns="text").to_csv(coded / f"coding_sheet_{coder}.csv", index=False)


@pytest.fixture(scope="module")
def sheets_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("validation_stage")
    study_path = make_study(folder)
    paths = run_validation(read_study(study_path))
    return folder, study_path, paths


def test_sheets_are_exactly_the_declared_files_and_blind(sheets_run):
    folder, study_path, paths = sheets_run
    out = folder / "out"
    names = sorted(p.relative_to(out).as_posix() for p in paths)
    assert names == sorted(declared(study_path)) == sorted(written(out))
    assert "coding_sheet_coder1.xlsx" in names and "validation_accuracy.csv" not in names
    design = json.loads((out / "coding_design.json").read_text(encoding="utf-8"))
    assert design["population"] == {"en|hit": 2, "en|none": 2, "vi|hit": 3, "vi|none": 3}
    assert design["sampled"] == {"en|hit": 2, "en|none": 2, "vi|hit": 2, "vi|none": 2}
    assert design["inclusion_probability"]["vi|none"] == pytest.approx(2 / 3)
    sheet = pd.read_csv(out / "coding_sheet_coder1.csv", dtype=str, keep_default_na=False)
    assert list(sheet.columns) == ["draw_id", "coder", "position", "unit_id", "language", "text", "economy_trade"]
    assert set(sheet["draw_id"]) == {design["draw_id"]} and (sheet["economy_trade"] == "").all()
    assert sorted(sheet["unit_id"]) == sorted(u["unit_id"] for u in design["units"])
    other = pd.read_csv(out / "coding_sheet_coder2.csv", dtype=str, keep_default_na=False)
    assert list(sheet["unit_id"]) != list(other["unit_id"])  # each coder's own order
    assert "Economy and trade" in (out / "coding_instructions.md").read_text(encoding="utf-8")


def test_same_seed_same_bytes(sheets_run, tmp_path):
    folder, study_path, _ = sheets_run
    again = make_study(tmp_path)
    run_validation(read_study(again))
    assert written(tmp_path / "out") == written(folder / "out")  # sheets (.csv and .xlsx), design, instructions


def test_no_section_writes_nothing(tmp_path):
    study_path = write_study(tmp_path, DOCS, study_text=STUDY.split("[validation]")[0])
    assert declared(study_path) == [] and run_validation(read_study(study_path)) == []


def coded_study(sheets_run, tmp_path) -> tuple[Path, Path]:
    """A copy of the sheets run with ``codes = "coded"``, the sheets filled by the scripted coders."""
    folder, _, _ = sheets_run
    shutil.copytree(folder / "out", tmp_path / "out")
    study_path = make_study(tmp_path, 'codes = "coded"\n')
    return study_path, tmp_path / "coded"


def test_scripted_coders_give_hand_computed_accuracy_and_correction(sheets_run, tmp_path):
    study_path, coded = coded_study(sheets_run, tmp_path)
    out = tmp_path / "out"
    design = json.loads((out / "coding_design.json").read_text(encoding="utf-8"))
    vi_none = sorted(u["unit_id"] for u in design["units"] if u["stratum"] == "vi|none")[0]
    en_hit = sorted(u["unit_id"] for u in design["units"] if u["stratum"] == "en|hit")[0]
    fill(out, coded, flips={vi_none: 1, en_hit: 0})  # vi: one miss; en: one false hit
    paths = run_validation(read_study(study_path))
    assert sorted(p.relative_to(out).as_posix() for p in paths) == sorted(declared(study_path)) == sorted(written(out))
    acc = pd.read_csv(out / "validation_accuracy.csv").set_index("language")
    # vi: hits weighted 3/2 (both coded 1): TP = 3 = predicted; the miss weighs 3/2: reference = 4.5
    assert acc.loc["vi", "precision"] == pytest.approx(1.0) and acc.loc["vi", "recall"] == pytest.approx(3 / 4.5)
    # en: every unit coded (weight 1): TP = 1 of 2 flagged, 1 reference positive
    assert acc.loc["en", "precision"] == pytest.approx(0.5) and acc.loc["en", "recall"] == pytest.approx(1.0)
    diff = pd.read_csv(out / "validation_differential_error.csv").set_index("metric")
    assert diff.loc["precision", "difference"] == pytest.approx(0.5) and diff.loc["recall", "difference"] == pytest.approx(3 / 4.5 - 1)
    prev = pd.read_csv(out / "validation_corrected_prevalence.csv").set_index("quantity")
    # vi: (3 hits + the miss / (2/3)) / 6 = 0.75, naive 3/6; en: (2 - 1) / 4 = 0.25, naive 2/4
    assert prev.loc["vi", "estimate"] == pytest.approx(0.75) and prev.loc["vi", "naive"] == pytest.approx(0.5)
    assert prev.loc["en", "estimate"] == pytest.approx(0.25) and prev.loc["en", "naive"] == pytest.approx(0.5)
    assert prev.loc["vi - en", "estimate"] == pytest.approx(0.5) and prev.loc["vi - en", "naive"] == pytest.approx(0.0)
    alpha = pd.read_csv(out / "validation_agreement.csv")
    assert alpha["alpha"].tolist() == [1.0, 1.0]  # the two coders agree everywhere
    assert pd.read_csv(out / "validation_disagreements.csv").empty
    assert "Egami" in (out / "validation_corrected_prevalence.tex").read_text(encoding="utf-8")
    assert set(pd.read_csv(out / "validation_budget.csv")["frame"]) == {"economy_trade"}


def refused(study_path: Path, out: Path, capsys) -> str:
    before = written(out)
    code = main(["validation", "--study", str(study_path), "--quiet"])
    err = capsys.readouterr().err
    assert code == 2
    assert written(out) == before  # nothing written, nothing changed
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    return lines[0]


def _edit(coded: Path, coder: str, change) -> None:
    path = coded / f"coding_sheet_{coder}.csv"
    sheet = pd.read_csv(path, dtype=str, keep_default_na=False)
    change(sheet)
    sheet.to_csv(path, index=False)


@pytest.mark.parametrize("case, expected", [
    ("unknown unit", r"coding_sheet_coder1\.csv: .*unit zzz was not drawn"),
    ("missing code", r"coding_sheet_coder1\.csv: row 3 .*no code in column 'economy_trade' \(fix: enter 1"),
    ("out of range", r"coding_sheet_coder2\.csv: row 2 .*code '2' .*not 0 or 1 \(fix: enter 1"),
    ("another draw", r"coding_sheet_coder1\.csv: row 2 .*draw_id 'abc' is not this design's .* \(fix: use the sheet made for this draw"),
    ("missing coder", r"coding_sheet_coder2\.csv: coder coder2's filled sheet is missing \(fix: put it there"),
    ("wrong coder", r"coding_sheet_coder2\.csv: row 2 \(coder coder1\): the sheet of coder coder2 names coder 'coder1'"),
])
def test_a_bad_sheet_is_one_line_exit_2_and_nothing_written(sheets_run, tmp_path, capsys, case, expected):
    import re

    study_path, coded = coded_study(sheets_run, tmp_path)
    fill(tmp_path / "out", coded, flips={})
    if case == "unknown unit":
        _edit(coded, "coder1", lambda s: s.loc.__setitem__((s.index[-1], "unit_id"), "zzz"))
    elif case == "missing code":
        _edit(coded, "coder1", lambda s: s.loc.__setitem__((s.index[1], "economy_trade"), ""))
    elif case == "out of range":
        _edit(coded, "coder2", lambda s: s.loc.__setitem__((s.index[0], "economy_trade"), "2"))
    elif case == "another draw":
        _edit(coded, "coder1", lambda s: s.__setitem__("draw_id", "abc"))
    elif case == "missing coder":
        (coded / "coding_sheet_coder2.csv").unlink()
    elif case == "wrong coder":
        shutil.copy(coded / "coding_sheet_coder1.csv", coded / "coding_sheet_coder2.csv")
    line = refused(study_path, tmp_path / "out", capsys)
    assert re.search(expected, line), line


def test_a_tie_without_adjudication_is_refused_and_adjudicated_csv_decides_it(sheets_run, tmp_path, capsys):
    study_path, coded = coded_study(sheets_run, tmp_path)
    out = tmp_path / "out"
    design = json.loads((out / "coding_design.json").read_text(encoding="utf-8"))
    en_none = sorted(u["unit_id"] for u in design["units"] if u["stratum"] == "en|none")
    fill(out, coded, flips={})
    _edit(coded, "coder2", lambda s: s.__setitem__("economy_trade", ["1" if u in en_none else c for u, c in zip(s["unit_id"], s["economy_trade"])]))
    line = refused(study_path, out, capsys)
    assert "stratum 'en|none' has no coded unit with a reference code" in line and "adjudicated.csv" in line
    pd.DataFrame({"unit_id": en_none, "frame": "economy_trade", "code": [0, 1]}).to_csv(coded / "adjudicated.csv", index=False)
    run_validation(read_study(study_path))
    acc = pd.read_csv(out / "validation_accuracy.csv").set_index("language")
    assert acc.loc["en", "recall"] == pytest.approx(2 / 3)  # 2 hits true, 1 of 2 non-hits adjudicated present
    assert len(pd.read_csv(out / "validation_disagreements.csv")) == 2


def test_a_validation_key_error_is_one_line(tmp_path, capsys):
    study_path = make_study(tmp_path, 'unit = "sentence"\n')
    assert main(["validation", "--study", str(study_path), "--quiet"]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines == [f'error: {study_path}: [validation] unit = \'sentence\' is not a unit people can code yet (only whole documents) (fix: use unit = "document")']
    assert not (tmp_path / "out").exists()


def test_an_unknown_frame_is_one_line(tmp_path, capsys):
    study_path = write_study(tmp_path, DOCS, study_text=STUDY.replace('frames = ["economy_trade"]', 'frames = ["economy"]'))
    assert main(["validation", "--study", str(study_path), "--quiet"]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and "[validation] frames names ['economy'], not frames of the codebook" in lines[0]
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())
