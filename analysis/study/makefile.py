"""The make fragment of a study (``.make/<study>.mk``): each stage's output files as targets, with
the study, its inputs and the package modules the stage imports as prerequisites. Standard
library only: make runs it before the virtual environment exists.
"""

from __future__ import annotations

import argparse
import csv
import functools
import sys
import tomllib
from pathlib import Path

from .outputs import APPENDIX_OUTPUTS, STAGE_ORDER, _study, declared_outputs, design_topic_inputs, explore_inputs
from .safety import default_output

PACKAGE = Path(__file__).resolve().parents[1]


def _module_file(parts: list[str], package: Path) -> Path | None:
    """The source file of the package module ``parts`` (relative to the package), or None."""
    base = package.joinpath(*parts)
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if parts and candidate.is_file():
            return candidate
    return None


def _package_imports(path: Path, package: Path) -> list[Path]:
    """The package's source files ``path`` imports (anywhere in the file, relative or absolute),
    with the ``__init__.py`` of every package on the way; read with :mod:`ast`, nothing imported.
    Parsed once per process and file version (the key holds the file's modification time and size,
    so an edited file is read again)."""
    stat = path.stat()
    return list(_parsed_imports(path, package, stat.st_mtime_ns, stat.st_size))


@functools.lru_cache(maxsize=None)
def _parsed_imports(path: Path, package: Path, mtime_ns: int, size: int) -> tuple[Path, ...]:
    """:func:`_package_imports` of one version of ``path`` (``mtime_ns`` and ``size`` only key the cache)."""
    import ast

    here = list(path.relative_to(package).parts[:-1])
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.ImportFrom):
            continue
        module = (node.module or "").split(".") if node.module else []
        if node.level:
            base = here[: len(here) - node.level + 1] if node.level > 1 else here
        elif module and module[0] == package.name:
            base, module = [], module[1:]
        else:
            continue
        target = base + module
        for i in range(1, len(target) + 1):  # the packages on the way are imported too
            out.append(_module_file(target[:i], package))
        for alias in node.names:  # ``from .stats import keyness``: a module
            out.append(_module_file(target + [alias.name], package))
    return tuple(m for m in out if m is not None)


def stage_code(module: str, package: Path = PACKAGE) -> tuple[str, ...]:
    """The package's source files a stage's outputs depend on: ``analysis/stages/<module>.py`` and
    every module it imports from the package, transitively, plus ``analysis/cli.py``, which runs
    it, and what cli imports other than the other stages. Read from the source with :mod:`ast`
    (nothing is imported), so a module added to a stage's imports is a prerequisite at once. Sorted.

    >>> "analysis/stats/resampling.py" in stage_code("framing"), "analysis/topics/engines.py" in stage_code("topics")
    (True, True)
    >>> "analysis/stages/design.py" in stage_code("framing")  # another stage (cli imports it) is not followed
    False
    """
    stages = package / "stages"
    seen: set[Path] = set()
    todo = [(stages / f"{module}.py", True), (package / "cli.py", False)]
    while todo:
        path, follow_stages = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        todo += [
            (m, follow_stages)
            for m in _package_imports(path, package)
            if follow_stages or m.parent != stages or m.name in ("__init__.py", "results.py")
        ]
    return tuple(sorted(f"{package.name}/{p.relative_to(package).as_posix()}" for p in seen))


def corpus_inputs(study_path: Path, settings: dict) -> list[str]:
    """The metadata file and every corpus file it lists (paths as make sees them)."""
    root = study_path.parent
    corpus = settings.get("corpus", {})
    if corpus.get("table") or corpus.get("html") or corpus.get("newsplease") or corpus.get("source"):
        return _source_inputs(root, corpus)
    folder = root / corpus.get("folder", "seeds")
    metadata = root / corpus.get("metadata", "seeds/metadata.csv")
    inputs = [str(metadata)]
    try:
        with open(metadata, encoding="utf-8-sig", newline="") as handle:
            for row in csv.DictReader(handle):
                if row.get("file") or row.get("path"):
                    inputs.append(str(folder / (row.get("file") or row.get("path"))))
    except (OSError, UnicodeDecodeError, csv.Error):
        pass  # the stage itself reports a broken metadata file with the fix
    return inputs


def _source_inputs(root: Path, corpus: dict) -> list[str]:
    """Tables and folders of the other corpus forms (analysis/corpus/sources.py) as make prerequisites."""
    inputs: list[str] = []
    for entry in corpus.get("source") or [corpus]:
        if entry.get("table"):
            inputs.append(str(root / entry["table"]))
        for key, patterns in (("newsplease", ("*.json",)), ("html", ("*.html", "*.htm")), ("folder", ("*",))):
            if entry.get(key) and (key != "folder" or not entry.get("table")):
                folder = root / entry[key]
                inputs += sorted(str(p) for pattern in patterns for p in folder.rglob(pattern) if p.is_file())
    return inputs


def make_fragment(study_path: Path) -> str:
    """A make fragment: per stage ``<STAGE>_OUTPUTS`` and a grouped rule that builds them."""
    settings = tomllib.loads(study_path.read_text(encoding="utf-8-sig"))
    out = settings.get("run", {}).get("output", default_output(study_path))
    out = str(study_path.parent / out) if str(study_path.parent) != "." else out
    outputs = declared_outputs(settings)
    inputs = corpus_inputs(study_path, settings)
    from .safety import check_names, make_recipe_word  # names with # : $ and spaces, escaped
    from .safety import make_escape as esc

    if check_names(settings):  # a column name that would put a target outside the output folder
        raise ValueError(check_names(settings))
    # The codebook's phrases are merged during preparation, so it (and its parser) feed every stage.
    codebook = settings.get("framing", {}).get("codebook", "")
    codebook_deps = ["analysis/framing/codebook.py"] + (
        [str(study_path.parent / codebook) if str(study_path.parent) != "." else codebook] if codebook else []
    )
    lines = [
        f"# generated by python3 -m analysis.study.makefile --study {study_path}; do not edit",
        f"OUT := {esc(out)}",
    ]
    lines.append("INPUTS := " + " ".join(esc(p) for p in inputs))
    parallel = settings.get("equivalence", {}).get("parallel", "")
    if parallel:  # the translated sample is an input of the equivalence stage
        folder = study_path.parent / parallel if str(study_path.parent) != "." else Path(parallel)
        sample = [
            str(folder / name)
            for name in ("en.txt", "vi.txt", "docs.csv")
            if name != "docs.csv" or (folder / name).exists()
        ]
        lines.append("STAGE_DEPS_equivalence := " + " ".join(esc(p) for p in sample))
    validation = settings.get("validation")
    codes = validation.get("codes", "") if isinstance(validation, dict) else ""
    if isinstance(codes, str) and codes:  # the filled coding sheets are inputs of the validation stage
        folder = study_path.parent / codes if str(study_path.parent) != "." else Path(codes)
        filled = (
            sorted(
                p
                for p in folder.glob("*")
                if p.is_file() and (p.name.startswith("coding_sheet_") or p.name == "adjudicated.csv")
            )
            if folder.is_dir()
            else []
        )
        lines.append("STAGE_DEPS_validation := " + " ".join(esc(str(p)) for p in filled))
    topic_inputs = design_topic_inputs(_study(settings))
    if topic_inputs:  # the design stage's topic outputs come from the topics stage's saved models
        lines.append("STAGE_DEPS_design := " + " ".join(esc(f"{out}/{f}") for f in topic_inputs))
    explored = explore_inputs(_study(settings))
    if explored:  # the explorer page is drawn from the framing, equivalence and topics stages' tables
        lines.append("STAGE_DEPS_explore := " + " ".join(esc(f"{out}/{f}") for f in explored))
    all_outputs = []
    for stage in STAGE_ORDER:
        files = [f"{out}/{f}" for f in outputs[stage]]
        if not files:
            continue
        all_outputs += files
        var = stage.upper() + "_OUTPUTS"
        code = " ".join((*stage_code(stage), *map(esc, codebook_deps)))
        lines.append(f"{var} := " + " ".join(esc(f) for f in files))
        lines.append(f"{stage}: $({var})")
        lines.append(
            f"$({var}) &: $(INPUTS) {esc(str(study_path))} {code} $(RESOURCES) $(VENV_STAMP) $(STAGE_DEPS_{stage})"
        )
        lines.append(f"\t$(PY) -m analysis {stage} --study {make_recipe_word(str(study_path))}")
    lines.append("ALL_OUTPUTS := " + " ".join(esc(f) for f in all_outputs))
    lines.append(f"{esc(out)}/manifest.json: $(ALL_OUTPUTS) {' '.join(stage_code('manifest'))}")
    lines.append(f"\t$(PY) -m analysis manifest --study {make_recipe_word(str(study_path))}")
    appendix = " ".join(esc(f"{out}/{name}") for name in APPENDIX_OUTPUTS)
    lines.append(f"APPENDIX_OUTPUTS := {appendix}")
    lines.append(f"$(APPENDIX_OUTPUTS) &: {esc(out)}/manifest.json {' '.join(stage_code('appendix'))} $(VENV_STAMP)")
    lines.append(f"\t$(PY) -m analysis appendix --study {make_recipe_word(str(study_path))}")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--study", default="study.toml")
    args = parser.parse_args(argv)
    try:
        sys.stdout.write(make_fragment(Path(args.study)))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        print(f"error: {args.study}: cannot read the study file ({exc})", file=sys.stderr)
        return 2
    except ValueError as exc:  # a name no make rule can hold, or one that climbs out (analysis.study.safety)
        print(f"error: {args.study}: {exc} (fix: rename it)", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
