"""``make clean``: remove the files a study wrote (the registry's names and the run manifest's), and
nothing else; never a file outside the output folder, never a folder that holds anything else.
Standard library only (runs before the virtual environment exists).
"""

from __future__ import annotations

import argparse
import sys
import tomllib
from pathlib import Path

from .safety import check_output, output_folder


def owned_files(settings: dict) -> list[str]:
    """Every file name (relative to the output folder) the toolkit writes for this study."""
    from .outputs import APPENDIX_OUTPUTS, STAGE_ORDER, declared_outputs

    declared = declared_outputs(settings)
    names = [name for stage in STAGE_ORDER for name in declared.get(stage, [])]
    return list(dict.fromkeys([*names, "manifest.json", *APPENDIX_OUTPUTS]))


def manifest_outputs(out: Path) -> list[str]:
    """Output names the run manifest lists (a run with other settings may have written others)."""
    import json

    try:
        outputs = json.loads((out / "manifest.json").read_text(encoding="utf-8")).get("outputs", {})
    except (OSError, ValueError, AttributeError):
        return []
    return [name for name in outputs if isinstance(name, str)] if isinstance(outputs, dict) else []


def clean(study_path: Path) -> tuple[list[Path], list[Path]]:
    """Remove the study's outputs; return (files removed, folders kept because not empty).

    Raises ``ValueError`` with a one-line reason when the output folder overlaps an input.
    """
    study_path = Path(study_path)
    settings = tomllib.loads(study_path.read_text(encoding="utf-8-sig"))
    reason = check_output(study_path, settings)
    if reason:
        raise ValueError(reason)
    out = output_folder(study_path, settings)
    if not out.is_dir():
        return [], []
    removed: list[Path] = []
    for name in [*owned_files(settings), *manifest_outputs(out)]:
        target = out / name
        if ".." in Path(name).parts or out not in target.parents:
            continue  # never follow a name out of the folder
        if target.is_file() and not target.is_symlink():
            target.unlink()
            removed.append(target)
        # Temporary files of a write that was killed (io.atomic_path: ".<name>.<random>.tmp").
        if target.parent.is_dir():
            for leftover in target.parent.glob(f".{target.name}.*.tmp"):
                leftover.unlink()
                removed.append(leftover)
    # Folders that held the toolkit's files (topic_models/vi ..., the output folder itself) go
    # when nothing else is left in them; a folder that held none of them is never touched.
    folders = {parent for path in removed for parent in path.parents if parent == out or out in parent.parents}
    kept = []
    for folder in sorted(folders, key=lambda p: len(p.parts), reverse=True):
        try:
            folder.rmdir()  # only an empty folder: never anything the toolkit did not write
        except FileNotFoundError:
            pass
        except OSError:
            kept.append(folder)
    return removed, kept


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="remove the outputs a study wrote (nothing else)")
    parser.add_argument("--study", default="study.toml")
    args = parser.parse_args(argv)
    try:
        removed, kept = clean(Path(args.study))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        print(f"error: {args.study}: cannot read the study file ({exc})", file=sys.stderr)
        return 2
    except ValueError as exc:
        print(
            f'error: {args.study}: {exc} (fix: choose an output folder of its own, e.g. output = "figures")',
            file=sys.stderr,
        )
        return 2
    print(
        f"clean: removed {len(removed)} output files"
        + (f"; kept {', '.join(map(str, kept))} (holds files the toolkit did not write)" if kept else "")
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
