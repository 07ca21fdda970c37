"""The make fragment of a study (``.make/<study>.mk``): each stage's output files as targets, with
the study, its inputs and the package modules the stage imports as prerequisites. Standard
library only: make runs it before the virtual environment exists.
"""

from __future__ import annotations

import argparse
import csv
import sys
import tomllib
from pathlib import Path

from .outputs import APPENDIX_OUTPUTS, STAGE_ORDER, _study, declared_outputs, design_topic_inputs


#: Modules each stage's results depend on (besides the shared core below).
def _package_imports(name: str, package: Path) -> list[str]:
    """The package modules ``analysis/<name>.py`` imports (anywhere in the file), from its source."""
    import ast

    out = []
    for node in ast.walk(ast.parse((package / f"{name}.py").read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and (node.level == 1 or (node.module or "").split(".")[0] == package.name):
            parts = (node.module or "").split(".")
            inner = parts[0] if node.level == 1 else (parts[1] if len(parts) > 1 else "")
            out += [inner] if inner else [a.name for a in node.names]
    return [m for m in out if (package / f"{m}.py").is_file()]


def stage_code(module: str, package: Path = Path(__file__).parent) -> tuple[str, ...]:
    """The package's source files a stage's outputs depend on: ``analysis/<module>.py`` and every
    module it imports from the package, transitively, plus ``analysis/cli.py``, which runs it, and
    what cli imports other than the other stages. Read from the source with :mod:`ast` (nothing is
    imported). Derived, not listed by hand: the hand-kept list missed ``resampling.py`` (every
    interval) and ``engines.py`` (every topic fit), so changing them left outputs stale. Sorted.

    >>> "analysis/resampling.py" in stage_code("framing_stage"), "analysis/engines.py" in stage_code("topics_stage")
    (True, True)
    >>> "analysis/design.py" in stage_code("framing_stage")
    False
    """
    seen: set[str] = set()
    todo = [(module, True), ("cli", False)]
    while todo:
        name, follow_stages = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        todo += [(m, follow_stages) for m in _package_imports(name, package) if follow_stages or not m.endswith("_stage")]
    return tuple(sorted(f"analysis/{name}.py" for name in seen))


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
    """Tables and folders of the other corpus forms (analysis/sources.py) as make prerequisites."""
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
    out = settings.get("run", {}).get("output", "figures")
    out = str(study_path.parent / out) if str(study_path.parent) != "." else out
    outputs = declared_outputs(settings)
    inputs = corpus_inputs(study_path, settings)
    from .safety import check_names, make_recipe_word  # names with # : $ and spaces, escaped
    from .safety import make_escape as esc

    if check_names(settings):  # a column name that would put a target outside the output folder
        raise ValueError(check_names(settings))
    # The codebook's phrases are merged during preparation, so it (and its parser) feed every stage.
    codebook = settings.get("framing", {}).get("codebook", "")
    codebook_deps = ["analysis/codebook.py"] + ([str(study_path.parent / codebook) if str(study_path.parent) != "." else codebook] if codebook else [])
    lines = [f"# generated by python3 -m analysis.outputs --study {study_path}; do not edit", f"OUT := {esc(out)}"]
    lines.append("INPUTS := " + " ".join(esc(p) for p in inputs))
    parallel = settings.get("equivalence", {}).get("parallel", "")
    if parallel:  # the translated sample is an input of the equivalence stage
        folder = study_path.parent / parallel if str(study_path.parent) != "." else Path(parallel)
        sample = [str(folder / name) for name in ("en.txt", "vi.txt", "docs.csv") if name != "docs.csv" or (folder / name).exists()]
        lines.append("STAGE_DEPS_equivalence := " + " ".join(esc(p) for p in sample))
    topic_inputs = design_topic_inputs(_study(settings))
    if topic_inputs:  # the design stage's topic outputs come from the topics stage's saved models
        lines.append("STAGE_DEPS_design := " + " ".join(esc(f"{out}/{f}") for f in topic_inputs))
    all_outputs = []
    for stage in STAGE_ORDER:
        files = [f"{out}/{f}" for f in outputs[stage]]
        if not files:
            continue
        all_outputs += files
        var = stage.upper() + "_OUTPUTS"
        code = " ".join((*stage_code(f"{stage}_stage"), *map(esc, codebook_deps)))
        lines.append(f"{var} := " + " ".join(esc(f) for f in files))
        lines.append(f"{stage}: $({var})")
        lines.append(f"$({var}) &: $(INPUTS) {esc(str(study_path))} {code} $(RESOURCES) $(VENV_STAMP) $(STAGE_DEPS_{stage})")
        lines.append(f"\t$(PY) -m analysis {stage} --study {make_recipe_word(str(study_path))}")
    lines.append("ALL_OUTPUTS := " + " ".join(esc(f) for f in all_outputs))
    lines.append(f"{esc(out)}/manifest.json: $(ALL_OUTPUTS) {' '.join(stage_code('manifest_stage'))}")
    lines.append(f"\t$(PY) -m analysis manifest --study {make_recipe_word(str(study_path))}")
    appendix = " ".join(esc(f"{out}/{name}") for name in APPENDIX_OUTPUTS)
    lines.append(f"APPENDIX_OUTPUTS := {appendix}")
    lines.append(f"$(APPENDIX_OUTPUTS) &: {esc(out)}/manifest.json {' '.join(stage_code('appendix_stage'))} $(VENV_STAMP)")
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
    except ValueError as exc:  # a name no make rule can hold, or one that climbs out (analysis.safety)
        print(f"error: {args.study}: {exc} (fix: rename it)", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
