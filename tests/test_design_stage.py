"""Stage ``design``: the declared files on the seed study, flagged too small; bad entries stop with one line."""

from __future__ import annotations

import shutil
import tomllib

import numpy as np
import pandas as pd
import pytest

from analysis.cli import main
from analysis.design_stage import document_dates, run_design
from analysis.files import read_study
from analysis.outputs import design_outputs, make_fragment
from analysis.study import load_study_text

from .conftest import ROOT, SEEDS


@pytest.fixture(scope="module")
def design_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("design_seed")
    shutil.copytree(SEEDS, folder / "seeds")
    shutil.copy(ROOT / "study.toml", folder / "study.toml")
    study = read_study(folder / "study.toml")
    first = run_design(study, workers=1)
    first_bytes = {p.name: p.read_bytes() for p in first}
    second = run_design(study, workers=1)
    return study, first, first_bytes, second


def test_writes_exactly_the_declared_files_and_the_same_bytes(design_run):
    study, first, first_bytes, second = design_run
    declared = design_outputs(tomllib.loads(study.source.read_text(encoding="utf-8")))
    assert len(declared) == len(set(declared)) and declared
    assert sorted(p.name for p in first) == sorted(declared)
    assert {p.name: p.read_bytes() for p in second} == first_bytes


def test_seed_results_are_flagged_too_small(design_run):
    study, *_ = design_run
    out = study.output_dir
    contrasts = pd.read_csv(out / "design_contrasts.csv")
    assert contrasts["too_small"].all() and set(contrasts["within"]) == {"event"}
    assert (contrasts[["n_a", "n_b"]].drop_duplicates().to_numpy() == [[4, 1]]).all()
    assert (contrasts["p_adjusted"] >= contrasts["p"]).all()
    model = pd.read_csv(out / "model_frames.csv")
    assert model["too_small"].all() and "language[T.vi]" in set(model["term"])
    mixed = pd.read_csv(out / "model_frames_mixed.csv")
    assert mixed["note"].str.startswith("not fitted: 4 outlet").all()
    events = pd.read_csv(out / "time_events.csv")
    assert events["too_small"].all()


def test_monthly_series_on_the_seeds_has_a_gap_for_english_in_march(design_run):
    study, *_ = design_run
    series = pd.read_csv(study.output_dir / "time_series.csv")
    assert sorted(set(series["period"])) == ["2024-03-01", "2024-04-01"]
    en_march = series[(series["group"] == "en") & (series["period"] == "2024-03-01")]
    assert (en_march["n_docs"] == 0).all() and en_march["rate"].isna().all()
    vi_april = series[(series["group"] == "vi") & (series["period"] == "2024-04-01")]
    assert (vi_april["n_docs"] == 3).all()


def test_series_labels_frames_by_the_frame_label_not_a_concept_of_the_same_id(design_run):
    """The default codebook has a frame and a concept both called 'cooperation'."""
    study, *_ = design_run
    series = pd.read_csv(study.output_dir / "time_series.csv")
    frames = series[series["measure"] == "frames"].drop_duplicates("item").set_index("item")["label"]
    assert frames["cooperation"] == "Cooperation and partnership"
    assert frames["economy_trade"] == "Economy and trade"


BAD = [
    ('formula = "language"', 'formula = "language + desk"', "[model] formula names 'desk', not a metadata column"),
    ('groups = [{ language = "vi" }, { language = "en" }]', 'groups = [{ language = "vi" }, { language = "fr" }]',
     "[[compare]] 'vi-vs-en-within-event' names the group language=fr, which no document has"),
    ("date = 2024-04-03", "date = 2025-06-01", "[[time.event]] 'son-visit-china' date 2025-06-01 ± 21 days has no document before it"),
    ('freq = "month"', 'freq = "year"', "[time] freq = 'year' is not known"),
    ('within = "event"', 'within = "desk"', "[[compare]] 'vi-vs-en-within-event' names 'desk', not a metadata column"),
]


@pytest.mark.parametrize("old, new, message", BAD)
def test_each_bad_design_entry_stops_with_one_line(tmp_path, capsys, old, new, message):
    text = (ROOT / "study.toml").read_text(encoding="utf-8")
    assert old in text
    shutil.copytree(SEEDS, tmp_path / "seeds")
    (tmp_path / "study.toml").write_text(text.replace(old, new, 1), encoding="utf-8")
    assert main(["design", "--study", str(tmp_path / "study.toml"), "--quiet"]) == 2
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and message in lines[0] and "Traceback" not in err
    assert not (tmp_path / "figures").exists()


def test_declared_outputs_follow_the_sections():
    assert design_outputs({}) == []
    files = design_outputs({"time": {"measures": ["frames", "actors"]}, "run": {"figure_formats": ["png"]}})
    assert "time_series_actors.png" in files and "time_events.csv" not in files and "time_lag.md" in files
    files = design_outputs({"model": {"mixed": False}, "compare": [{"name": "x"}]})
    assert "model_frames_mixed.csv" not in files and "design_contrasts.csv" in files and "design_distributions.tex" in files


def test_make_fragment_has_the_design_stage(tmp_path):
    shutil.copy(ROOT / "study.toml", tmp_path / "study.toml")
    fragment = make_fragment(tmp_path / "study.toml")
    assert "DESIGN_OUTPUTS :=" in fragment and "analysis/design_stage.py" in fragment and "-m analysis design" in fragment


def test_studies_without_design_sections_keep_their_settings(tmp_path):
    study = load_study_text('[corpus]\nfolder = "x"\n', tmp_path / "s.toml")
    assert study.compare == () and study.time is None and study.model is None
    assert not {"compare", "time", "model"} & set(study.as_dict())


def test_document_dates_read_real_dates_and_say_why_not():
    iso = pd.DataFrame({"date": ["2024-04-03", "2024-03-18"]}, index=["a", "b"])
    dates, note = document_dates(iso)
    assert note == "" and dates.dt.strftime("%d/%m").tolist() == ["03/04", "18/03"]
    real = pd.DataFrame({"date": pd.to_datetime(["2024-01-01", "2024-01-02"])})
    pd.testing.assert_series_equal(document_dates(real)[0], real["date"])
    dates, note = document_dates(pd.DataFrame({"date": ["3 April 2024", "2024-03-18"]}))
    assert dates is None and "YYYY-MM-DD" in note
    dates, note = document_dates(pd.DataFrame({"date": ["2024-04-03", ""]}))
    assert dates.isna().tolist() == [False, True] and note.startswith("1 document(s) without a date")
    dates, note = document_dates(pd.DataFrame({"outlet": ["a"]}))
    assert dates is None and note.startswith("no date column")


def test_time_and_model_outputs_without_dates_say_why(tmp_path):
    from analysis.design_stage import _model, _time
    from analysis import design

    study = load_study_text((ROOT / "study.toml").read_text(encoding="utf-8").replace('formula = "language"', 'formula = "language + spline(date, 4)"'),
                            tmp_path / "study.toml")
    ids = ["a", "b"]
    docvars = pd.DataFrame({"language": ["vi", "en"], "outlet": ["x", "y"], "date": ["soon", "later"]}, index=ids)
    m = design.MeasureTable("frames", pd.DataFrame({"f": [1, 2]}, index=ids), pd.Series([100.0, 100.0], index=ids))
    results = _time(study, docvars, None, "no date column in the metadata: nothing over time", {"frames": m})
    series = next(r for r in results if getattr(r, "output", "") == "time_series")
    assert series.data["note"].iloc[0].startswith("no date column")
    models_out = _model(study, docvars, None, "the date column is not a date in every row", {"frames": m})
    assert models_out[0].data["note"].iloc[0] == "not fitted: the date column is not a date in every row"
    assert np.isnan(models_out[0].data["estimate"].iloc[0])


def test_numbers_quote_the_focal_rate_ratios():
    from analysis.appendix import model_numbers

    model = pd.DataFrame([
        {"item": "economy_trade", "term": "Intercept", "rate_ratio": 0.04, "rr_low": 0.03, "rr_high": 0.05},
        {"item": "economy_trade", "term": "language[T.vi]", "rate_ratio": 0.7, "rr_low": 0.11, "rr_high": 4.33},
        {"item": "security", "term": "language[T.vi]", "rate_ratio": 1.2, "rr_low": np.nan, "rr_high": np.nan},
    ])
    numbers = model_numbers(model)
    assert numbers["RateRatioEconomyTradeVi"][0] == 0.7 and numbers["RateRatioEconomyTradeViLow"][0] == 0.11
    assert numbers["RateRatioEconomyTradeViHigh"][0] == 4.33
    assert "RateRatioSecurityVi" in numbers and "RateRatioSecurityViLow" not in numbers
    assert not any(k.startswith("RateRatioEconomyTradeIntercept") for k in numbers)


def test_time_without_a_date_column_is_not_an_error_but_a_missing_by_column_is(tmp_path):
    from analysis.study import column_problems

    study = load_study_text((ROOT / "study.toml").read_text(encoding="utf-8"), tmp_path / "study.toml")
    columns = ["doc_id", "file", "language", "outlet", "event"]
    assert column_problems(study, columns) == []
    problems = column_problems(study, ["doc_id", "file", "outlet", "event"])
    assert any("[time] by names 'language'" in str(p) for p in problems)
