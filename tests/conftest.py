"""Shared fixtures: the seed study copied to a temporary folder, and a tiny bilingual corpus."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "seeds"
SHARED = ROOT.parent / "shared"

# A tiny bilingual corpus whose counts are checked by hand in the tests.
TINY_VI = "Hai nước thúc đẩy hợp tác kinh tế.\nHợp tác biên giới và hợp tác du lịch.\n"
TINY_EN = "The two countries promote economic cooperation.\nCooperation on the border and tourism cooperation.\n"


def write_study(folder: Path, docs: list[tuple[str, str, str | bytes]], extra_columns: dict | None = None, study_text: str = "") -> Path:
    """Write ``docs`` as (doc_id, language, text or bytes) into ``folder`` with metadata and study."""
    corpus = folder / "corpus"
    corpus.mkdir(parents=True, exist_ok=True)
    header = ["doc_id", "file", "language", "outlet", "event", "title"]
    extra_columns = extra_columns or {}
    header += [c for c in extra_columns if c not in header]
    lines = [",".join(header)]
    for i, (doc_id, language, text) in enumerate(docs):
        name = f"{doc_id}.txt"
        data = text if isinstance(text, bytes) else text.encode("utf-8")
        (corpus / name).write_bytes(data)
        row = {"doc_id": doc_id, "file": name, "language": language, "outlet": f"o{i % 2}", "event": "e1", "title": ""}
        row.update({k: v[i] for k, v in extra_columns.items()})
        lines.append(",".join(row[c] for c in header))
    (corpus / "metadata.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    study = folder / "study.toml"
    study.write_text(
        study_text
        or '[corpus]\nfolder = "corpus"\nmetadata = "corpus/metadata.csv"\n'
        '[frequencies]\ngroup_by = ["language"]\nkwic_terms = ["hợp_tác"]\ntop_n = 5\n'
        '[run]\noutput = "out"\ncache = ".cache"\nworkers = 1\n',
        encoding="utf-8",
    )
    return study


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
