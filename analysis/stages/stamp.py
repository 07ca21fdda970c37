"""A stage's stamp: what its outputs were made from, so a re-run with nothing changed writes nothing.

After a stage has written its outputs it leaves ``.<stage>.stamp.json`` beside them: one SHA-256
(:func:`inputs_digest`) of everything that feeds those outputs -- the study's settings, the
SHA-256 of every corpus file, of every resource file the stage read (rules, phrase lists,
stopwords, codebook), of this package's code, and the versions of the packages that segment,
count, write and draw -- and the SHA-256 of every file the stage wrote. A re-run is *fresh*
(:func:`fresh`) when its inputs give the same digest and every recorded file still has its
recorded bytes; such a run has nothing to do, since the same inputs give the same bytes (the
project's rule, checked by the tests), so the files on disk are the ones a cold run would write.
Anything else -- a changed input, setting, resource, code or package, an output deleted or
edited, no stamp or an unreadable one -- runs the stage, which writes a new stamp after its
outputs. A run that rebuilds removes the old stamp first (:func:`forget`) and writes the new one
last, atomically: a run stopped half-way leaves no stamp, so the next run rebuilds.

Fresh outputs are touched (their modification time set to now), so ``make``, which compares
times, sees them as newer than the input that made it run the stage again.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import platform
from functools import lru_cache
from pathlib import Path

from .. import files

log = logging.getLogger("analysis")

#: Bumped when the stamp's layout or what it covers changes (an old stamp is then never fresh).
STAMP_VERSION = "1"

#: Packages whose version can change the bytes of a stage's outputs (segmenters, lemmatiser,
#: stopword lists, table and figure writers).
PACKAGES = (
    "underthesea",
    "underthesea_core",
    "pyvi",
    "simplemma",
    "stopwordsiso",
    "numpy",
    "pandas",
    "matplotlib",
)

_PACKAGE_DIR = Path(__file__).resolve().parent.parent


def stamp_path(out: Path, stage: str) -> Path:
    """Where the stamp of ``stage`` lives: ``<output folder>/.<stage>.stamp.json``."""
    return Path(out) / f".{stage}.stamp.json"


@lru_cache(maxsize=1)
def code_digest(root: str = str(_PACKAGE_DIR)) -> str:
    """SHA-256 over this package's files (code and packaged resources; names and bytes, sorted).

    Any edit of the code changes it, so a stamp never outlives the code that wrote its outputs;
    reading about 100 files costs a few milliseconds.
    """
    digest = hashlib.sha256()
    for folder, subfolders, names in os.walk(root):
        subfolders[:] = sorted(d for d in subfolders if d != "__pycache__" and not d.startswith("."))
        for name in sorted(names):
            if name.endswith((".pyc", ".pyo")):
                continue
            path = os.path.join(folder, name)
            digest.update(os.path.relpath(path, root).encode("utf-8", "surrogateescape") + b"\x00")
            with open(path, "rb") as handle:
                digest.update(hashlib.sha256(handle.read()).digest())
    return digest.hexdigest()


@lru_cache(maxsize=1)
def package_versions() -> dict[str, str]:
    """Python's version and that of each of :data:`PACKAGES` (``"not installed"`` when absent)."""
    from importlib import metadata

    versions = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def inputs_digest(stage: str, inputs: dict) -> str:
    """SHA-256 of the stage's ``inputs`` (JSON-able), the stamp version, the code and the package versions."""
    data = {
        "stamp_version": STAMP_VERSION,
        "stage": stage,
        "code": code_digest(),
        "packages": package_versions(),
        "inputs": inputs,
    }
    return hashlib.sha256(json.dumps(data, ensure_ascii=False, sort_keys=True).encode("utf-8")).hexdigest()


def _read(path: Path) -> dict | None:
    try:
        data = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def fresh(out: Path, stage: str, digest: str) -> list[Path] | None:
    """The stage's output paths if its stamp says ``digest`` and every recorded file still hashes
    as recorded (then touched); ``None`` otherwise (the stage must run)."""
    out = Path(out)
    stamp = _read(stamp_path(out, stage))
    if stamp is None or stamp.get("inputs") != digest or not isinstance(stamp.get("outputs"), dict):
        return None
    paths = []
    for name, expected in stamp["outputs"].items():
        path = out / name
        try:
            if files.sha256_file(path) != expected:
                return None
        except OSError:  # deleted, or a folder now
            return None
        paths.append(path)
    for path in paths:
        try:
            os.utime(path)
        except OSError:
            pass  # a read-only output folder: the outputs are still right
    return paths


def write_stamp(out: Path, stage: str, digest: str, written: list[Path], extra: dict | None = None) -> Path:
    """Record ``digest`` and the SHA-256 of each written file (names relative to ``out``), last."""
    out = Path(out)
    outputs = {Path(p).relative_to(out).as_posix(): files.sha256_file(Path(p)) for p in written}
    stamp = {"stage": stage, "inputs": digest, "outputs": dict(sorted(outputs.items())), **(extra or {})}
    target = stamp_path(out, stage)
    with files.atomic_path(target) as tmp:
        tmp.write_text(json.dumps(stamp, ensure_ascii=False, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return target


def forget(out: Path, stage: str) -> None:
    """Remove the stage's stamp (before its outputs are rewritten: a stopped run is then never fresh)."""
    try:
        stamp_path(out, stage).unlink()
    except FileNotFoundError:
        pass
