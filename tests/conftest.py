"""Shared fixtures: the seed study copied to a temporary folder, and a tiny bilingual corpus."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from analysis import files as aio

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "seeds"
SHARED = ROOT.parent / "shared"

# A tiny bilingual corpus whose counts are checked by hand in the tests.
TINY_VI = "Hai nước thúc đẩy hợp tác kinh tế.\nHợp tác biên giới và hợp tác du lịch.\n"
TINY_EN = "The two countries promote economic cooperation.\nCooperation on the border and tourism cooperation.\n"


TINY_STUDY = {
    "corpus": {"folder": "corpus", "metadata": "corpus/metadata.csv"},
    "frequencies": {"group_by": ["language"], "kwic_terms": ["hợp_tác"], "top_n": 5},
    "run": {"output": "out", "cache": ".cache", "workers": 1},
}


def write_study(
    folder: Path,
    docs: list[tuple[str, str, str | bytes]],
    extra_columns: dict | None = None,
    study_text: str | dict = "",
) -> Path:
    """Write ``docs`` as (doc_id, language, text or bytes) into ``folder/corpus`` with metadata and study
    (:func:`analysis.files.write_study`; ``study_text`` TOML text or nested settings, default :data:`TINY_STUDY`)."""
    corpus = folder / "corpus"
    corpus.mkdir(parents=True, exist_ok=True)
    rows = []
    for i, (doc_id, language, text) in enumerate(docs):
        name = f"{doc_id}.txt"
        (corpus / name).write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
        row = {"doc_id": doc_id, "file": name, "language": language, "outlet": f"o{i % 2}", "event": "e1", "title": ""}
        row.update({k: v[i] for k, v in (extra_columns or {}).items()})
        rows.append(row)
    return aio.write_study(folder, study_text or TINY_STUDY, metadata=rows, metadata_name="corpus/metadata.csv")


@pytest.fixture
def tiny_study(tmp_path: Path) -> Path:
    return write_study(tmp_path, [("v1", "vi", TINY_VI), ("e1", "en", TINY_EN)])


@pytest.fixture(scope="session")
def seed_study_dir(tmp_path_factory) -> Path:
    """The seed study (study.toml + seeds/) copied to a temporary folder, run once per session."""
    folder = tmp_path_factory.mktemp("seedstudy")
    shutil.copytree(SEEDS, folder / "seeds")
    shutil.copy(ROOT / "study.toml", folder / "study.toml")
    return folder


def seed_text(prefix: str) -> str:
    return next(SEEDS.glob(f"{prefix}_*.txt")).read_text(encoding="utf-8")


#: The seed study's resample counts and K range cut down (study.toml text, old -> new). Every section, stage,
#: output file and code path stays; only the number of bootstrap/permutation resamples and of K-selection fits
#: falls. For tests whose assertions (files written, their bytes, flags, counts) do not depend on those numbers.
FAST_SEED = {
    "bootstrap = 2000": "bootstrap = 200",  # [framing], [topics], [equivalence]
    "permutations = 5000": "permutations = 500",  # [framing], [equivalence]
    "bootstrap = 1000 ": "bootstrap = 200 ",  # [time]
    "k_range = [2, 3, 4, 5]": "k_range = [2, 3]",
    "passes = 20": "passes = 5",
}


def fast_seed_study(text: str | None = None, *, extra: dict[str, str] | None = None) -> str:
    """``study.toml`` (or ``text``) with :data:`FAST_SEED` (and ``extra``, old -> new) replaced; each old
    string must be there, so a change to study.toml that a replacement no longer matches fails loudly."""
    text = (ROOT / "study.toml").read_text(encoding="utf-8") if text is None else text
    for old, new in {**FAST_SEED, **(extra or {})}.items():
        assert old in text, f"study.toml no longer holds {old!r}: update tests/conftest.py FAST_SEED"
        text = text.replace(old, new)
    return text


#: ``python -c`` script: the stages named after the study file, in order, in one Python process, as
#: ``python -m analysis <stage> --study <file> --quiet`` each (the same ``main``); exit status 1 at the first
#: that fails. One interpreter start and one import of the dependencies instead of one per stage.
STAGES_IN_ONE_PROCESS = """
import sys
from analysis.cli import main
for stage in sys.argv[2:]:
    if main([stage, "--study", sys.argv[1], "--quiet"]) != 0:
        sys.exit(f"stage {stage} failed")
"""
