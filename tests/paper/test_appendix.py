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

from analysis.paper.appendix import collect_numbers, figure_caption, format_number, macro_name, numbers_tex
from analysis.study.outputs import APPENDIX_OUTPUTS, STAGE_ORDER, declared_outputs
from analysis.study.settings import study_from_raw

ROOT = Path(__file__).resolve().parents[2]
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
        [
            ("vi", "a", 1, 5, 10, 8, 0.8, 6),
            ("vi", "b", 1, 5, 10, 8, 0.8, 6),
            ("vi", "all", 2, 10, 20, 11, 0.55, 12),
            ("all", "all", 2, 10, 20, 11, 0.55, 12),
        ],
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
    study = study_from_raw(settings, ROOT / "study.toml")[
        0
    ]  # the study's own sections (the design figures need [time], [model])
    for stem in figures:
        assert figure_caption(stem, study)


def _run_study(folder: Path, hash_seed: str) -> dict:
    env = {**os.environ, "PYTHONHASHSEED": hash_seed, "SOURCE_DATE_EPOCH": "1712188800", "MPLBACKEND": "Agg"}
    for stage in ALL_STAGES:
        subprocess.run(
            [sys.executable, "-m", "analysis", stage, "--study", str(folder / "study.toml"), "--quiet"],
            check=True,
            env=env,
            cwd=folder,
            capture_output=True,
        )
    out = folder / "figures"
    return {
        str(p.relative_to(out)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(out.rglob("*"))
        if p.is_file()
    }


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


def test_appendix_is_self_contained_and_escaped(two_runs):
    """Checked with or without a LaTeX engine: the appendix inputs no file (LaTeX would look for it
    in the paper's folder), includes every figure that exists, holds every table, escapes all text."""
    out = two_runs[0][0] / "figures"
    appendix = (out / "appendix.tex").read_text(encoding="utf-8")
    assert not re.search(r"\\input\{", appendix.replace("\\input{figures/", ""))
    graphics = re.findall(r"\\includegraphics\[[^]]*\]\{([^}]+)\}", appendix)
    assert "frame_salience_by_language.pdf" in graphics and "topic_prevalence_by_language.pdf" in graphics
    assert set(graphics) == {p.name for p in out.glob("*.pdf")}
    for stem in {p.stem for p in out.glob("*.tex")} - {"appendix", "numbers"}:
        assert f"tab:{stem}" in appendix or f"{stem.replace('_', chr(92) + '_')}.csv" in appendix.replace(
            r"\allowbreak{}", ""
        ), stem
    assert "frame\\_salience\\_by\\_document.csv (not printed here)" in appendix.replace(r"\allowbreak{}", "")
    unescaped = re.compile(r"(?<!\\)[_%&#$]")
    for line in appendix.splitlines():
        if line.startswith("%"):
            continue
        text = re.sub(r"\\(input|label|includegraphics(\[[^]]*\])?)\{[^}]*\}", "", line)
        text = text.replace(" & ", " ")  # column separators of the tabular
        assert not unescaped.search(text), line
    assert "χ" not in appendix and "Bộ_trưởng" not in appendix


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


ENGINE = shutil.which("lualatex") or shutil.which("xelatex")
NO_ENGINE = (
    "no LaTeX engine: references and escaping are checked instead; install one with "
    "`apt-get install --no-install-recommends texlive-luatex texlive-latex-recommended` "
    "(CI does)"
)


def readme_recipe() -> str:
    """The LaTeX block of the README, exactly as a reader copies it."""
    blocks = re.findall(r"```latex\n(.*?)```", (ROOT / "README.md").read_text(encoding="utf-8"), flags=re.S)
    assert len(blocks) == 1
    return blocks[0]


def compile_latex(folder: Path, name: str = "paper.tex") -> str:
    """Run the engine twice (longtable settles its columns on the second run); the log."""
    for _ in range(2):
        result = subprocess.run(
            [ENGINE, "-interaction=nonstopmode", "-halt-on-error", name],
            cwd=folder,
            capture_output=True,
            text=True,
            timeout=300,
        )
        log = (folder / name).with_suffix(".log").read_text(encoding="utf-8", errors="replace")
        assert result.returncode == 0, log[-3000:]
    return log


def test_readme_recipe_is_what_the_test_compiles():
    recipe = readme_recipe()
    assert (
        r"\graphicspath{{figures/}}" in recipe
        and r"\input{figures/appendix.tex}" in recipe
        and r"\input{figures/numbers.tex}" in recipe
    )


@pytest.mark.skipif(not ENGINE, reason=NO_ENGINE)
def test_readme_recipe_compiles_from_the_papers_folder_and_fits_the_page(two_runs, tmp_path):
    shutil.copytree(two_runs[0][0] / "figures", tmp_path / "figures")
    (tmp_path / "paper.tex").write_text(readme_recipe(), encoding="utf-8")
    log = compile_latex(tmp_path)
    assert "Overfull \\hbox" not in log, re.findall(r"Overfull \\hbox.*\n.*", log)[:5]
    assert "Missing character" not in log, re.findall(r"Missing character.*", log)[:5]
    assert "Float too large" not in log
    assert (tmp_path / "paper.pdf").stat().st_size > 10_000


def test_robustness_verdicts_are_quoted():
    from analysis.paper.appendix import robustness_numbers

    summary = pd.DataFrame(
        {
            "claim": ["frame:conflict", "frame:economy_trade", *[f"concept:c{i}" for i in range(12)]],
            "specifications": 48,
            "share_same_sign": [1.0, 0.5, *[1.0] * 12],
            "share_significant": [0.9, 0.25, *[0.0] * 12],
            "verdict": ["robust", "depends on segmenter", *["not significant in any specification"] * 12],
        }
    )
    numbers = collect_numbers({"robustness_summary": summary})
    assert numbers["RobustnessFrameConflict"][0] == "robust"
    assert numbers["RobustnessFrameEconomyTrade"][0] == "depends on segmenter"
    assert numbers["RobustnessFrameEconomyTradeSignificant"][0] == 0.25
    assert (numbers["RobustnessRobustClaims"][0], numbers["RobustnessClaims"][0]) == (1, 14)
    assert "RobustnessConceptCNine" in numbers and "RobustnessConceptCOneZero" not in numbers  # the first 10
    assert robustness_numbers(None) == {}
