"""Where outputs may go, what they may be called, and ``make clean`` (remove only what we wrote).

Standard library only (``make clean`` runs it with the system ``python3``, before or without the
virtual environment): ``python3 -m analysis.study.safety --study study.toml`` cleans.

Why: ``clean`` used to be ``rm -rf $(OUT)``, so a study with ``[run] output = "seeds"`` (the
corpus folder) or ``output = "."`` (the study's own folder) lost its inputs to ``make clean``.
Two rules close that at the cause:

* :func:`output_overlap` -- the output folder must not be, contain or lie inside an input (the
  corpus folder, the metadata file, the study file, the codebook and every other resource file the
  study names). The study is refused when it is read (:func:`analysis.files.read_study`), before
  anything is written, and ``clean`` refuses it too.
* :func:`clean` removes only files the toolkit declares as its outputs (``analysis.study.outputs``: every
  stage's files, the manifest and the appendix), the files the run manifest lists (a run with
  other settings) and the temporary files of interrupted writes of those names; folders are removed with ``rmdir`` only,
  so only when nothing else is left in them.
  A folder holding anything the toolkit did not write survives, with that content.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

#: Study settings whose values become part of output file names (``top_terms_by_<column>`` ...).
NAME_KEYS = (
    ("frequencies", "group_by"),
    ("framing", "compare_by"),
    ("framing", "keyness_within"),
    ("topics", "prevalence_by"),
)
_SAFE_NAME = re.compile(r"[^\W][\w.-]*")


def unsafe_name(name: str) -> str:
    """Why ``name`` (a column name that becomes part of a file name) is unsafe, or "" if it is safe.

    Safe: letters, digits, ``_``, ``-`` and ``.``, starting with a letter or digit, never ``..``.
    That alphabet cannot leave the output folder (no ``/``, ``\\``, ``..``), needs no quoting in a
    make rule (no space, ``#``, ``:``, ``$``) and carries no LaTeX command (no ``\\``, ``{``, ``%``).

    >>> unsafe_name("outlet"), unsafe_name("sự_kiện")
    ('', '')
    >>> unsafe_name("x/../../ESCAPED")
    "'x/../../ESCAPED' has a character other than letters, digits, _ - ."
    """
    if not isinstance(name, str) or not name:
        return "an empty name"
    if not _SAFE_NAME.fullmatch(name):
        return f"'{name}' has a character other than letters, digits, _ - ."
    if ".." in name:
        return f"'{name}' contains '..'"
    return ""


def check_names(settings: dict) -> str:
    """One-line reason a setting that names an output file is unsafe, or ""."""
    for section, key in NAME_KEYS:
        value = settings.get(section, {}).get(key)
        for name in [value] if isinstance(value, str) else value if isinstance(value, (list, tuple)) else []:
            reason = unsafe_name(name) if isinstance(name, str) else ""
            if reason:
                return f"[{section}] {key}: {reason}, and it becomes part of output file names"
    return ""


#: Characters a make rule cannot hold in a file name, even escaped (``=`` makes a variable
#: assignment, ``|`` order-only prerequisites, ``%`` a pattern, ``\\`` is ambiguous).
MAKE_UNSAFE = "=|%\\"
_MAKE_ESCAPED = {
    " ": "\\ ",
    "#": "\\#",
    ":": "\\:",
    ";": "\\;",
    "*": "\\*",
    "?": "\\?",
    "[": "\\[",
    "]": "\\]",
    "$": "$$",
}


def make_unsafe(name: str) -> str:
    """Why the generated make rules cannot name this file ("" if they can, escaped by :func:`make_escape`).

    >>> make_unsafe("a#b:c$d e.txt"), make_unsafe("x=y.txt")
    ('', "'x=y.txt' has '=', which a make rule cannot hold")
    """
    for char in name:
        if char in MAKE_UNSAFE or (ord(char) < 32 or 0x7F <= ord(char) < 0xA0):
            return f"{name!r} has {char!r}, which a make rule cannot hold"
    return ""


def make_escape(path: str) -> str:
    """A file name as a make target or prerequisite: ``a#b c$d.txt`` -> ``a\\#b\\ c$$d.txt``.

    Raises ``ValueError`` for a name :func:`make_unsafe` refuses.
    """
    reason = make_unsafe(path)
    if reason:
        raise ValueError(reason)
    return "".join(_MAKE_ESCAPED.get(char, char) for char in path)


def make_recipe_word(path: str) -> str:
    """A file name as one word of a recipe line: shell-quoted, ``$`` doubled for make."""
    import shlex

    return shlex.quote(path).replace("$", "$$")


#: Study keys that name an input file or folder (section, key), besides the study file itself.
INPUT_KEYS = (
    ("corpus", "folder"),
    ("corpus", "metadata"),
    ("framing", "codebook"),
    ("text", "boilerplate"),
    ("text", "phrases"),
    ("text", "stopwords_vi"),
    ("text", "stopwords_en"),
)
DEFAULTS = {("corpus", "folder"): "seeds", ("corpus", "metadata"): "seeds/metadata.csv"}


def study_inputs(study_path: Path, settings: dict) -> list[tuple[str, Path]]:
    """``(label, resolved path)`` of the study file and every input the study names."""
    root = study_path.resolve().parent
    inputs = [("the study file", study_path.resolve())]
    for section, key in INPUT_KEYS:
        value = settings.get(section, {}).get(key, DEFAULTS.get((section, key), ""))
        if isinstance(value, str) and value:
            inputs.append((f"[{section}] {key}", (root / value).resolve()))
    return inputs


def output_overlap(output: Path, inputs: list[tuple[str, Path]]) -> str:
    """Why ``output`` may not be the output folder ("" if it may): it is, holds or lies in an input.

    >>> output_overlap(Path("/s/figures"), [("the study file", Path("/s/study.toml"))])
    ''
    >>> output_overlap(Path("/s"), [("the study file", Path("/s/study.toml"))])
    'it contains the study file (/s/study.toml)'
    >>> output_overlap(Path("/s/seeds/out"), [("[corpus] folder", Path("/s/seeds"))])
    'it lies inside [corpus] folder (/s/seeds)'
    """
    output = Path(os.path.abspath(output))
    for label, path in inputs:
        if output == path:
            return f"it is {label} ({path})"
    for label, path in inputs:
        if output in path.parents:
            return f"it contains {label} ({path})"
        if path in output.parents:
            return f"it lies inside {label} ({path})"
    return ""


def default_output(study_path: Path | str) -> str:
    """The output folder of a study whose ``[run]`` names none: ``figures`` for the project's own
    ``study.toml``, ``figures/<stem>`` for any other study file, so two studies never write into one
    folder (and make never takes one study's outputs for the other's).

    >>> default_output("study.toml"), default_output("projects/my study.toml")
    ('figures', 'figures/my study')
    """
    path = Path(study_path)
    return "figures" if path.name == "study.toml" else f"figures/{path.stem}"


def output_folder(study_path: Path, settings: dict) -> Path:
    output = settings.get("run", {}).get("output", default_output(study_path))
    return (study_path.resolve().parent / output).resolve()


def check_output(study_path: Path, settings: dict) -> str:
    """One-line reason the study's output folder is unsafe, or ""."""
    output = output_folder(study_path, settings)
    reason = output_overlap(output, study_inputs(study_path, settings))
    if reason:
        return f"[run] output = '{settings.get('run', {}).get('output', 'figures')}' is not allowed: {reason}"
    return ""
