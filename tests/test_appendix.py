"""The appendix and the reproducibility of a whole run (issue: notebooks and a paper appendix)."""

import hashlib
import os
import re
import shutil
import subprocess
import sys
import tomllib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pandas as pd
import pytest

from analysis.appendix import collect_numbers, figure_caption, format_number, macro_name, numbers_tex
from analysis.outputs import APPENDIX_OUTPUTS, STAGE_ORDER, declared_outputs
from analysis.study import study_from_raw

ROOT = Path(__file__).resolve().parents[1]
ALL_STAGES = (*STAGE_ORDER, "manifest", "appendix")


def test_macro_names_and_number_formats():
    assert macro_name("n", "docs", "vi") == "NDocsVi"
    assert macro_name("chosen k", "joint") == "ChosenKJoint"
    assert macro_name("g", 2) == "GTwo"
    assert format_number(12345) == "12{,}345"
    assert format_number(0.12345) == "0.123"
    assert format_number(0.0000123) == r"\ensuremath{1.2\times10^{-5}}"
    assert format_number("hợp_tác & 50%") == r"hợp\_tác \& 50\%"
    tex = numbers_tex({"NDocsVi": (4, "corpus_summary.csv")})
    assert r"\newcommand{\NDocsVi}{4} % corpus_summary.csv" in tex
    with pytest.raises(ValueError):
        numbers_tex({"N2": (1, "x")})


def test_numbers_come_from_the_tables_not_from_sums():
    summary = pd.DataFrame(
        [("vi", "a", 1, 5, 10, 8, 0.8, 6), ("vi", "b", 1, 5, 10, 8, 0.8, 6), ("vi", "all", 2, 10, 20, 11, 0.55, 12), ("all", "all", 2, 10, 20, 11, 0.55, 12)],
        columns=["language", "outlet", "documents", "sentences", "tokens", "types", "ttr", "terms"],
    )
    numbers = collect_numbers({"corpus_summary": summary})
    assert numbers["NTypesVi"][0] == 11  # the counted total, not 8 + 8
    assert numbers["NDocumentsVi"][0] == 2 and numbers["NTokens"][0] == 20


def test_every_declared_figure_has_a_caption():
    settings = tomllib.loads((ROOT / "study.toml").read_text(encoding="utf-8"))
    declared = declared_outputs(settings)
    figures = {name[:-4] for stage in STAGE_ORDER for name in declared[stage] if name.endswith(".pdf")}
    assert figures
    study = study_from_raw(settings, ROOT / "study.toml")[0]  # the study's own sections (the design figures need [time], [model])
    for stem in figures:
        assert figure_caption(stem, study)


def _run_study(folder: Path, hash_seed: str) -> dict:
    env = {**os.environ, "PYTHONHASHSEED": hash_seed, "SOURCE_DATE_EPOCH": "1712188800", "MPLBACKEND": "Agg"}
    for stage in ALL_STAGES:
        subprocess.run(
            [sys.executable, "-m", "analysis", stage, "--study", str(folder / "study.toml"), "--quiet"],
            check=True, env=env, cwd=folder, capture_output=True,
        )
    out = folder / "figures"
    return {str(p.relative_to(out)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(out.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    """The whole seed study built twice from clean, in separate processes with different hash seeds."""
    folders = []
    for name in ("run1", "run2"):
        folder = tmp_path_factory.mktemp(name)
        shutil.copytree(ROOT / "seeds", folder / "seeds")
        shutil.copy(ROOT / "study.toml", folder / "study.toml")
        folders.append(folder)
    with ThreadPoolExecutor(2) as pool:
        hashes = list(pool.map(_run_study, folders, ["1", "2"]))
    return folders, hashes


def test_two_clean_builds_are_byte_identical(two_runs):
    _, (first, second) = two_runs
    assert first == second
    settings = tomllib.loads((ROOT / "study.toml").read_text(encoding="utf-8"))
    declared = {name for names in declared_outputs(settings).values() for name in names}
    assert declared | {"manifest.json", *APPENDIX_OUTPUTS} == set(first)


def test_appendix_references_exist_and_text_is_escaped(two_runs):
    out = two_runs[0][0] / "figures"
    appendix = (out / "appendix.tex").read_text(encoding="utf-8")
    inputs = re.findall(r"\\input\{([^}]+)\}", appendix)
    graphics = re.findall(r"\\includegraphics\[[^]]*\]\{([^}]+)\}", appendix)
    assert "run_manifest.tex" in inputs and "top_terms_by_language.tex" in inputs
    assert "frame_salience_by_language.pdf" in graphics and "topic_prevalence_by_language.pdf" in graphics
    for name in inputs + graphics:
        assert (out / name).is_file(), name
    every_figure = {p.name for p in out.glob("*.pdf")}
    assert set(graphics) == every_figure
    every_table = {p.name for p in out.glob("*.tex")} - {"appendix.tex", "numbers.tex"}
    assert set(inputs) == every_table
    unescaped = re.compile(r"(?<!\\)[_%&#$]")
    for name in ["appendix.tex", *inputs]:
        for line in (out / name).read_text(encoding="utf-8").splitlines():
            if line.startswith("%"):
                continue
            text = re.sub(r"\\(input|label|includegraphics(\[[^]]*\])?)\{[^}]*\}", "", line)
            text = text.replace(" & ", " ")  # column separators of the tabular
            assert not unescaped.search(text), (name, line)


def test_numbers_match_the_tables(two_runs):
    out = two_runs[0][0] / "figures"
    numbers = dict(re.findall(r"\\newcommand\{\\(\w+)\}\{(.*)\} % ", (out / "numbers.tex").read_text(encoding="utf-8")))
    summary = pd.read_csv(out / "corpus_summary.csv")
    vi = summary[(summary.language == "vi") & (summary.outlet == "all")].iloc[0]
    assert numbers["NDocumentsVi"] == str(vi.documents) == "4"
    assert numbers["NTokensVi"].replace("{,}", "") == str(vi.tokens)
    selection = pd.read_csv(out / "topic_k_selection.csv")
    chosen = selection[selection.chosen].set_index("model")
    assert numbers["ChosenKVi"] == str(chosen.loc["vi", "k"])
    similarity = pd.read_csv(out / "similarity_crosslingual.csv", dtype={"doc_a": str, "doc_b": str})
    assert numbers["BestPairCosine"] == f"{similarity.cosine.max():.3f}"


@pytest.mark.skipif(not (shutil.which("lualatex") or shutil.which("xelatex")), reason="no LaTeX engine installed: references and escaping are checked instead")
def test_appendix_compiles(two_runs, tmp_path):
    out = two_runs[0][0] / "figures"
    engine = shutil.which("lualatex") or shutil.which("xelatex")
    (out / "paper.tex").write_text(
        "\\documentclass{article}\\usepackage{fontspec}\\setmainfont{DejaVu Serif}\\usepackage{booktabs,graphicx}"
        "\\input{numbers.tex}\\begin{document}\\NDocumentsVi\\input{appendix.tex}\\end{document}\n",
        encoding="utf-8",
    )
    result = subprocess.run([engine, "-interaction=nonstopmode", "-halt-on-error", "paper.tex"], cwd=out, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:]
    (out / "paper.tex").unlink()
