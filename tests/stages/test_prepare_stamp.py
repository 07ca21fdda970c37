"""The prepare stage's stamp: a re-run with nothing changed writes nothing, anything that feeds the
outputs changed (input, setting, resource file, code, an output or the cache gone) rebuilds them,
and the outputs are always the bytes of a cold run."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from analysis import files as aio
from analysis.cli import main
from analysis.stages import prepare as stage
from analysis.stages import stamp
from tests.conftest import TINY_EN, TINY_STUDY, TINY_VI, write_study

OUTPUTS = [
    "cleaning_log.csv",
    "preparation_by_document.csv",
    "corpus_summary.csv",
    "corpus_summary.md",
    "corpus_summary.tex",
    "corpus_summary.pdf",
    "corpus_summary.png",
]


@pytest.fixture
def runs(monkeypatch):
    """Counts the runs that prepared and wrote (a fresh run returns before preparing)."""
    calls = []
    real = stage.prepared_corpus

    def counted(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(stage, "prepared_corpus", counted)
    return calls


def prepare(study: Path) -> None:
    assert main(["prepare", "--study", str(study), "--quiet"]) == 0


def outputs(study: Path) -> dict[str, bytes]:
    return {name: (study.parent / "out" / name).read_bytes() for name in OUTPUTS}


def cold(study: Path, tmp_path: Path) -> dict[str, bytes]:
    """The outputs of the study copied to a new folder and run there with no cache and no outputs."""
    copy = tmp_path / "cold"
    shutil.copytree(study.parent, copy)
    shutil.rmtree(copy / "out", ignore_errors=True)
    shutil.rmtree(copy / ".cache", ignore_errors=True)
    prepare(copy / "study.toml")
    return outputs(copy / "study.toml")


def summary(study: Path) -> dict[str, str]:
    table = pd.read_csv(study.parent / "out" / "corpus_summary.csv", dtype=str, keep_default_na=False)
    return {
        r["language"]: r["terms"] for r in table.to_dict("records") if r["outlet"] == "all" and r["language"] != "all"
    }


def with_stopwords(tmp_path: Path) -> Path:
    settings = {**TINY_STUDY, "text": {"stopwords_en": "stop_en.txt"}}
    study = write_study(tmp_path / "s", [("v1", "vi", TINY_VI), ("e1", "en", TINY_EN)], study_text=settings)
    (study.parent / "stop_en.txt").write_text("# none yet\n", encoding="utf-8")
    return study


def test_a_rerun_with_nothing_changed_prepares_and_writes_nothing(tmp_path, runs):
    study = with_stopwords(tmp_path)
    prepare(study)
    first = outputs(study)
    entry = aio.PreparedCache(study.parent / ".cache").get(stamp.stamp_key(study.parent / "out", "prepare"))
    assert sorted(entry["outputs"]) == sorted(OUTPUTS) and len(entry["keys"]) == 2
    assert sorted(p.name for p in (study.parent / "out").iterdir()) == sorted(OUTPUTS)  # the stamp is not there
    before = {name: (study.parent / "out" / name).stat().st_mtime_ns for name in OUTPUTS}
    prepare(study)
    assert len(runs) == 1  # the second run stopped at the stamp
    assert outputs(study) == first
    # touched (make compares times), not rewritten
    assert all((study.parent / "out" / name).stat().st_mtime_ns >= before[name] for name in OUTPUTS)
    assert first == cold(study, tmp_path)


def test_a_changed_corpus_text_rebuilds_to_the_bytes_of_a_cold_run(tmp_path, runs):
    study = with_stopwords(tmp_path)
    prepare(study)
    # by hand: 10 Vietnamese words less the stopword và; 13 English words less The, two, on, the, and
    # (stopwords-iso's; the study's own English list is empty)
    assert summary(study) == {"vi": "9", "en": "8"}
    (study.parent / "corpus" / "v1.txt").write_text(TINY_VI + "Hợp tác văn hóa.\n", encoding="utf-8")
    prepare(study)
    assert len(runs) == 2
    assert summary(study) == {"vi": "11", "en": "8"}  # + hợp_tác, văn_hóa
    assert outputs(study) == cold(study, tmp_path)


def test_a_changed_resource_file_rebuilds(tmp_path, runs):
    study = with_stopwords(tmp_path)
    prepare(study)
    (study.parent / "stop_en.txt").write_text("!two\n", encoding="utf-8")  # same setting, new content
    prepare(study)
    assert len(runs) == 2
    assert summary(study) == {"vi": "9", "en": "9"}  # "two" is no longer a stopword
    assert outputs(study) == cold(study, tmp_path)


def test_a_changed_setting_rebuilds(tmp_path, runs):
    study = with_stopwords(tmp_path)
    prepare(study)
    settings = {**TINY_STUDY, "text": {"stopwords_en": "stop_en.txt", "use_stopwordsiso": False}}
    aio.write_study(study.parent, settings)
    prepare(study)
    assert len(runs) == 2
    terms = summary(study)
    assert terms == {"vi": "10", "en": "13"}  # và, The, two, on, the, and count without stopwords-iso
    assert outputs(study) == cold(study, tmp_path)


@pytest.mark.parametrize("damage", ["delete", "edit"])
def test_a_deleted_or_edited_output_is_rebuilt(tmp_path, runs, damage):
    study = with_stopwords(tmp_path)
    prepare(study)
    first = outputs(study)
    target = study.parent / "out" / "corpus_summary.png"
    if damage == "delete":
        target.unlink()
    else:
        target.write_bytes(b"not a figure")
    prepare(study)
    assert len(runs) == 2
    assert outputs(study) == first


def test_a_deleted_cache_is_refilled(tmp_path, runs):
    study = with_stopwords(tmp_path)
    prepare(study)
    shutil.rmtree(study.parent / ".cache")
    prepare(study)
    assert len(runs) == 2
    assert list((study.parent / ".cache" / "prepared").rglob("*.json"))


def test_a_stamp_from_other_code_is_not_fresh(tmp_path, runs, monkeypatch):
    study = with_stopwords(tmp_path)
    prepare(study)
    monkeypatch.setattr(stamp, "STAMP_VERSION", stamp.STAMP_VERSION + "-other")
    prepare(study)
    assert len(runs) == 2


def test_the_code_digest_follows_every_file_of_the_package(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "a.py").write_text("x = 1\n")
    (tmp_path / "sub" / "b.yaml").write_text("k: v\n")
    first = stamp.code_digest.__wrapped__(str(tmp_path))
    (tmp_path / "sub" / "b.yaml").write_text("k: w\n")
    second = stamp.code_digest.__wrapped__(str(tmp_path))
    (tmp_path / "__pycache__").mkdir()
    (tmp_path / "__pycache__" / "a.cpython-311.pyc").write_bytes(b"\x00")
    assert len({first, second}) == 2
    assert stamp.code_digest.__wrapped__(str(tmp_path)) == second  # compiled files are not code


def test_resource_digests_cover_every_resource_preparation_reads(tmp_path, monkeypatch):
    from analysis import prepared

    settings = {**TINY_STUDY, "text": {"phrases": "names.txt", "stopwords_en": "stop_en.txt"}}
    path = write_study(tmp_path, [("v1", "vi", TINY_VI), ("e1", "en", TINY_EN)], study_text=settings)
    (tmp_path / "names.txt").write_text("Bùi Thanh Sơn\n", encoding="utf-8")
    (tmp_path / "stop_en.txt").write_text("the\n", encoding="utf-8")
    study = aio.read_study(path)
    reads = []
    real = aio.resource_text

    def recorded(study, setting, default_name):
        reads.append((setting, default_name))
        return real(study, setting, default_name)

    monkeypatch.setattr(aio, "resource_text", recorded)
    prepared.load_preparation(study)
    prepared.load_term_rules(study)
    loaded = set(reads)
    reads.clear()
    digests = prepared.resource_digests(study)
    assert loaded == set(reads)
    assert len(digests) == len(loaded) == 7
