"""The seed study end to end in a temporary folder: declared outputs, determinism, atomicity."""

import hashlib
import json
import shutil
import tomllib
from pathlib import Path

import pandas as pd
import pytest

from analysis import files as aio
from analysis.cli import main
from analysis.study.outputs import declared_outputs
from tests.conftest import ROOT

STAGES = ("prepare", "frequencies")


def run(study: Path, stage: str) -> None:
    assert main([stage, "--study", str(study), "--quiet"]) == 0


def digest(folder: Path) -> dict:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def seed_run(seed_study_dir):
    study = seed_study_dir / "study.toml"
    for stage in (*STAGES, "manifest"):
        run(study, stage)
    return seed_study_dir


def test_each_stage_writes_exactly_its_declared_files(seed_run):
    settings = tomllib.loads((seed_run / "study.toml").read_text(encoding="utf-8"))
    declared = declared_outputs(settings)
    written = {p.name for p in (seed_run / "figures").iterdir()}
    expected = {f for stage in STAGES for f in declared[stage]} | {"manifest.json"}
    assert expected <= written
    assert written - expected <= {f for stage in declared for f in declared[stage]}  # only other stages' files


def test_seed_numbers(seed_run):
    summary = pd.read_csv(seed_run / "figures" / "corpus_summary.csv", dtype={"outlet": str})
    assert summary.set_index(["language", "outlet"]).loc[("all", "all"), "documents"] == 5
    by_language = (
        summary[(summary.language != "all") & (summary.outlet == "all")].set_index("language").documents.to_dict()
    )
    assert by_language == {"en": 1, "vi": 4}
    vi_outlets = summary[(summary.language == "vi") & (summary.outlet != "all")]
    assert vi_outlets.documents.sum() == 4
    vi_total = summary[(summary.language == "vi") & (summary.outlet == "all")].iloc[0]
    assert vi_total.types < vi_outlets.types.sum()  # types are not additive: the total is counted, not summed
    prep = pd.read_csv(seed_run / "figures" / "preparation_by_document.csv", dtype={"doc_id": str})
    assert prep.set_index("doc_id").presegmented.to_dict() == {
        "000": True,
        "001": True,
        "002": False,
        "003": False,
        "004": False,
    }
    top = pd.read_csv(seed_run / "figures" / "top_terms_by_language.csv")
    vi_top = top[top.group == "vi"].term.tolist()
    assert {"Trung_Quốc", "Việt_Nam", "hợp_tác"} <= set(vi_top[:5])  # names keep their capitals in both languages
    assert "Bui Thanh Son" in set(top[top.group == "en"].term)
    log = pd.read_csv(seed_run / "figures" / "cleaning_log.csv", dtype={"doc_id": str})
    assert set(log.doc_id) == {"000", "001", "002", "003", "004"}


def test_word_tables_hold_every_row_in_both_forms(seed_run):
    """term_frequencies_by_language and tfidf_top_terms_by_document: .csv.gz and .parquet read back
    equal, and the top-terms table (drawn from the same counts) agrees with them row for row."""
    out = seed_run / "figures"
    for stem in ("term_frequencies_by_language", "tfidf_top_terms_by_document"):
        ids = {"row_id": str} if stem.endswith("document") else None  # ids 000-004: numbers to a CSV reader
        compressed = aio.read_output(out / f"{stem}.csv.gz", dtype=ids)
        parquet = aio.read_output(out / f"{stem}.parquet", dtype=ids)
        pd.testing.assert_frame_equal(compressed, parquet, check_dtype=False, rtol=5e-10)
        assert not (out / f"{stem}.csv").exists()
    counts = aio.read_output(out / "term_frequencies_by_language.parquet")
    top = pd.read_csv(out / "top_terms_by_language.csv")
    both = top.merge(counts, on=["group", "term"], suffixes=("", "_all"))
    assert len(both) == len(top) and (both["count"] == both["count_all"]).all()
    assert set(counts["group"]) == {"vi", "en"} and counts["count"].sum() > len(top)


def test_manifest_records_inputs_settings_and_outputs(seed_run):
    manifest = json.loads((seed_run / "figures" / "manifest.json").read_text(encoding="utf-8"))
    seeds = sorted(p.name for p in (seed_run / "seeds").glob("*.txt"))
    assert set(seeds) <= set(manifest["inputs"])
    assert manifest["inputs"][seeds[0]] == hashlib.sha256((seed_run / "seeds" / seeds[0]).read_bytes()).hexdigest()
    assert manifest["segmenter"].startswith("underthesea ")
    assert manifest["settings"]["run"]["seed"] == 20240403
    assert (
        manifest["outputs"]["corpus_summary.csv"]
        == hashlib.sha256((seed_run / "figures" / "corpus_summary.csv").read_bytes()).hexdigest()
    )
    assert "underthesea" in manifest["packages"]


def test_two_clean_runs_are_byte_identical(seed_run, tmp_path):
    other = tmp_path / "again"
    shutil.copytree(seed_run / "seeds", other / "seeds")
    shutil.copy(seed_run / "study.toml", other / "study.toml")
    for stage in (*STAGES, "manifest"):
        run(other / "study.toml", stage)
    first = {k: v for k, v in digest(seed_run / "figures").items() if k.split(".")[0] != "manifest"}
    second = {k: v for k, v in digest(other / "figures").items() if k.split(".")[0] != "manifest"}
    assert second == {k: v for k, v in first.items() if k in second} and set(second) <= set(first)


def test_second_run_uses_the_cache(seed_run, caplog):
    import logging

    summary = seed_run / "figures" / "corpus_summary.csv"
    before = summary.read_bytes()
    with caplog.at_level(logging.INFO, logger="analysis"):
        run(seed_run / "study.toml", "prepare")  # nothing changed: the stage's stamp says up to date
    assert any("up to date" in r.message and "nothing to do" in r.message for r in caplog.records)
    assert not any("to prepare" in r.message for r in caplog.records)
    caplog.clear()
    summary.unlink()  # an output gone: the stage runs again, every document from the cache
    with caplog.at_level(logging.INFO, logger="analysis"):
        run(seed_run / "study.toml", "prepare")
    assert any("5 from cache, 0 to prepare" in r.message for r in caplog.records)
    assert summary.read_bytes() == before


def test_failed_write_leaves_no_half_written_file(tmp_path, monkeypatch):
    target = tmp_path / "out" / "table.csv"

    class Boom(Exception):
        pass

    with pytest.raises(Boom):
        with aio.atomic_path(target) as tmp:
            tmp.write_text("half", encoding="utf-8")
            raise Boom
    assert not target.exists()
    assert list((tmp_path / "out").iterdir()) == []
    aio.write_text(target, "whole\n")
    assert target.read_text() == "whole\n" and [p.name for p in (tmp_path / "out").iterdir()] == ["table.csv"]


def test_failed_stage_keeps_previous_outputs_whole(seed_run, monkeypatch):
    before = (seed_run / "figures" / "top_terms_by_language.csv").read_bytes()

    def broken(*args, **kwargs):
        raise RuntimeError("renderer died")

    monkeypatch.setattr("analysis.plots.base.figure_bytes", broken)
    with pytest.raises(RuntimeError):
        main(["frequencies", "--study", str(seed_run / "study.toml"), "--quiet"])
    assert (seed_run / "figures" / "top_terms_by_language.csv").read_bytes() == before
    assert not [p for p in (seed_run / "figures").iterdir() if p.name.endswith(".tmp")]


def test_validate_states_the_design_and_the_unit_between_languages(capsys):
    """The seed study: three Vietnamese outlets, one English; the English side is one outlet, so the
    language comparison has no p-value, and validate says so before anything runs."""
    assert main(["validate", "--study", str(ROOT / "study.toml"), "--quiet"]) == 0
    line = capsys.readouterr().out.splitlines()[-1]
    assert line == (
        "design: language en: 1 document in 1 outlet; vi: 4 documents in 3 outlets; unit between groups: none "
        "(language 'en' comes from one outlet ('unstated-B'): its contrast with another language equals an outlet "
        "contrast; no language p-value)"
    )
