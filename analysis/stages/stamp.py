"""A stage's stamp: what its outputs were made from, so a re-run with nothing changed writes nothing.

After a stage has written its outputs it leaves a stamp in the study's cache (an entry of
:class:`analysis.files.PreparedCache` named after the stage and the output folder): one SHA-256
(:func:`inputs_digest`) of everything that feeds those outputs -- the study's settings, the
SHA-256 of every corpus file, of every resource file the stage read (rules, phrase lists,
stopwords, codebook), of this package's code, and the versions of the packages that segment,
count, write and draw -- the SHA-256 of every file the stage wrote, and the cache keys of the
prepared documents it used. A re-run is *fresh* (:func:`fresh`) when its inputs give the same
digest, every recorded file still has its recorded bytes and every recorded document is still in
the cache; such a run has nothing to do, since the same inputs give the same bytes (the project's
rule, checked by the tests), so the files on disk are the ones a cold run would write. Anything
else -- a changed input, setting, resource, code or package, an output deleted or edited, the
cache deleted -- runs the stage. A run that rebuilds removes the old stamp first (:func:`forget`)
and writes the new one after its outputs: a run stopped half-way leaves no stamp.

The stamp lives in the cache, not in the output folder, so the output folder holds the declared
outputs only (folders are compared file by file across corpus forms and runs); deleting the cache,
which is always safe, only costs a rebuild. Fresh outputs are touched (their modification time set
to now), so ``make``, which compares times, sees them as newer than the input that made it run the
stage again.
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


def stamp_key(out: Path, stage: str) -> str:
    """The cache entry of ``stage``'s stamp for the output folder ``out`` (its absolute path hashed)."""
    folder = str(Path(out).resolve())
    return f"stamp-{stage}-" + hashlib.sha256(folder.encode("utf-8", "surrogateescape")).hexdigest()


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


def installed_versions(names) -> dict[str, str]:
    """Python's version and the installed version of each distribution in ``names`` (``"not
    installed"`` when absent): what the stamp and the run manifest record."""
    from importlib import metadata

    versions = {"python": platform.python_version()}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


@lru_cache(maxsize=1)
def package_versions() -> dict[str, str]:
    """:func:`installed_versions` of :data:`PACKAGES` (the packages that segment, count and draw)."""
    return installed_versions(PACKAGES)


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


def fresh(cache, out: Path, stage: str, digest: str) -> list[Path] | None:
    """The stage's output paths if its stamp in ``cache`` says ``digest``, every recorded file still
    hashes as recorded and every recorded document key is in the cache (the outputs are then
    touched); ``None`` otherwise (the stage must run)."""
    out = Path(out)
    stamp = cache.get(stamp_key(out, stage))
    if not isinstance(stamp, dict) or stamp.get("inputs") != digest:
        return None
    outputs, keys = stamp.get("outputs"), stamp.get("keys")
    if not isinstance(outputs, dict) or not isinstance(keys, list):
        return None
    paths = []
    for name, expected in outputs.items():
        path = out / name
        try:
            if files.sha256_file(path) != expected:
                return None
        except OSError:  # deleted, or a folder now
            return None
        paths.append(path)
    if not all(isinstance(k, str) and k in cache for k in keys):
        return None  # prepared documents deleted: the run refills the cache
    for path in paths:
        try:
            os.utime(path)
        except OSError:
            pass  # a read-only output folder: the outputs are still right
    return paths


def write_stamp(cache, out: Path, stage: str, *, digest: str, written: list[Path], keys: list[str]) -> None:
    """Record ``digest``, the SHA-256 of each written file (names relative to ``out``) and the
    prepared documents' cache ``keys``; called after the last output is written."""
    out = Path(out)
    outputs = {Path(p).relative_to(out).as_posix(): files.sha256_file(Path(p)) for p in written}
    cache.put(stamp_key(out, stage), {"inputs": digest, "outputs": dict(sorted(outputs.items())), "keys": list(keys)})


def forget(cache, out: Path, stage: str) -> None:
    """Remove the stage's stamp (before its outputs are rewritten: a stopped run is then never fresh)."""
    try:
        cache.path(stamp_key(out, stage)).unlink()
    except FileNotFoundError:
        pass
