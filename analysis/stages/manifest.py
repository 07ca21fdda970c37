"""Stage ``manifest``: input hashes, settings, versions, segmenter, seeds and output hashes.

No timestamps: the manifest of an unchanged run is byte-identical.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

from .. import files
from ..corpus import sources
from ..prepared import load_preparation
from ..study.outputs import STAGE_ORDER, declared_outputs
from ..study.settings import Study
from ..text.tokens import segmenter_id
from .stamp import installed_versions

PACKAGES = (
    "underthesea",
    "underthesea_core",
    "pyvi",
    "simplemma",
    "stopwordsiso",
    "gensim",
    "numpy",
    "scipy",
    "pandas",
    "matplotlib",
    "pyyaml",
    "tqdm",
    "tomotopy",
)


def package_versions() -> dict[str, str]:
    """Python's and every analysis dependency's installed version ("not installed" when absent)."""
    return installed_versions(PACKAGES)


def stage_output_names(source: Path) -> list[str]:
    """The declared output file names of every stage (before the manifest), sorted, from the study
    file ``source`` as written."""
    declared = declared_outputs(tomllib.loads(source.read_text(encoding="utf-8-sig")))
    return sorted({name for stage in STAGE_ORDER for name in declared[stage]})


def manifest(study: Study) -> dict:
    """The manifest of the study's current outputs (exactly the declared stage outputs present)."""
    corpus = sources.read_corpus(study)
    from ..text.learned_boilerplate import learned_corpus

    corpus, preparation = learned_corpus(
        study, corpus, load_preparation(study), cache=files.PreparedCache(study.cache_dir)
    )
    out = study.output_dir
    settings = study.as_dict()
    seeds = {
        f"{k}.seed": v.get("seed") for k, v in settings.items() if isinstance(v, dict) and "seed" in v and k != "run"
    }
    return {
        "study": {"file": study.source.name, "sha256": files.sha256_file(study.source)},
        "inputs": corpus.file_hashes,
        **(
            {"records": dict(corpus.record_hashes)} if corpus.record_hashes else {}
        ),  # table sources: each document's record (a lazy mapping)
        "settings": settings,
        "preparation": preparation.describe(),
        "segmenter": segmenter_id(study.text.segmenter),
        "seeds": {"run.seed": study.run.seed, **seeds},
        "packages": package_versions(),
        "source_date_epoch": os.environ.get("SOURCE_DATE_EPOCH", ""),
        # Exactly the declared stage outputs: files of other runs (or the appendix) never leak in.
        "outputs": {
            name: files.sha256_file(out / name) for name in stage_output_names(study.source) if (out / name).is_file()
        },
    }


def run_manifest(study: Study) -> list[Path]:
    """Stage ``manifest``: write ``manifest.json``."""
    return [files.write_json(study.output_dir / "manifest.json", manifest(study))]
