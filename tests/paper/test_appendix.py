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
from tests.conftest import STAGES_IN_ONE_PROCESS, fast_seed_study

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
    result = subprocess.run(
        [sys.executable, "-c", STAGES_IN_ONE_PROCESS, str(folder / "study.toml"), *ALL_STAGES],
        env=env,
        cwd=folder,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    out = folder / "figures"
    return {
        str(p.relative_to(out)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(out.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    """The whole seed study built twice from clean, in two processes with different hash seeds (every stage,
    section and figure format of study.toml; fewer resamples and K-selection fits: conftest.FAST_SEED)."""
    folders = []
    for name in ("run1", "run2"):
        folder = tmp_path_factory.mktemp(name)
        shutil.copytree(ROOT / "seeds", folder / "seeds")
        (folder / "study.toml").write_text(fast_seed_study(), encoding="utf-8")
        folders.append(folder)
    with ThreadPoolExecutor(2) as pool:
        hashes = list(pool.map(_run_study, folders, ["1", "2"]))
    return folders, hashes


def test_two_clean_builds_are_byte_identical(two_runs):
    folders, (first, second) = two_runs
    assert first == second
    settings = tomllib.loads((folders[0] / "study.toml").read_text(encoding="utf-8"))
    default = tomllib.loads((ROOT / "study.toml").read_text(encoding="utf-8"))
    declared = {name for names in declared_outputs(settings).values() for name in names}
    assert declared == {name for names in declared_outputs(default).values() for name in names}
    assert declared | {"manifest.json", *APPENDIX_OUTPUTS} == set(first)


def test_appendix_is_self_contained_and_escaped(two_runs):
    """Checked with or without a LaTeX engine: the appendix and the supplement input no file (LaTeX
    would look for it in the paper's folder), include every figure that exists between them, hold
    every table, escape all text."""
    out = two_runs[0][0] / "figures"
    appendix = "\n".join((out / name).read_text(encoding="utf-8") for name in ("appendix.tex", "supplement.tex"))
    assert not re.search(r"\\input\{", appendix.replace("\\input{figures/", ""))
    graphics = re.findall(r"\\includegraphics\[[^]]*\]\{([^}]+)\}", appendix)
    assert "frame_salience_by_language.pdf" in graphics and "topic_prevalence_by_language.pdf" in graphics
    assert set(graphics) == {p.name for p in out.glob("*.pdf")}
    for stem in {p.stem for p in out.glob("*.tex")} - {"appendix", "numbers", "supplement"}:
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
    """The paper's LaTeX block of the README, exactly as a reader copies it."""
    return readme_blocks("latex")[0]


def readme_blocks(language: str) -> list[str]:
    """The README's appendix section's code blocks of one language, in order."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text[text.index("In a paper in the folder that holds") : text.index("## Writing your own codebook")]
    return re.findall(rf"```{language}\n(.*?)```", section, flags=re.S)


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
    paper, supplement = readme_blocks("latex")
    assert (
        r"\graphicspath{{figures/}}" in paper
        and r"\input{figures/appendix.tex}" in paper
        and r"\input{figures/numbers.tex}" in paper
    )
    assert r"\input{figures/supplement.tex}" in supplement and r"\graphicspath{{figures/}}" in supplement
    (commands,) = readme_blocks("sh")
    # Two passes of each document, stated: longtable's widths settle on the second.
    assert commands.count("lualatex paper.tex") == 2 and commands.count("lualatex supplement.tex") == 2


@pytest.mark.skipif(not shutil.which("lualatex"), reason=NO_ENGINE)
def test_readme_recipe_compiles_as_written_from_the_papers_folder_and_fits_the_page(two_runs, tmp_path):
    """The README's files and commands, run as a reader runs them (stdin closed: an error stops)."""
    shutil.copytree(two_runs[0][0] / "figures", tmp_path / "figures")
    paper, supplement = readme_blocks("latex")
    (tmp_path / "paper.tex").write_text(paper, encoding="utf-8")
    (tmp_path / "supplement.tex").write_text(supplement, encoding="utf-8")
    (commands,) = readme_blocks("sh")
    for line in commands.strip().splitlines():
        result = subprocess.run(
            line, shell=True, cwd=tmp_path, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=600
        )
        assert result.returncode == 0, (line, result.stdout[-3000:])
    for name in ("paper", "supplement"):
        log = (tmp_path / f"{name}.log").read_text(encoding="utf-8", errors="replace")
        assert "Overfull \\hbox" not in log, re.findall(r"Overfull \\hbox.*\n.*", log)[:5]
        assert "Missing character" not in log, re.findall(r"Missing character.*", log)[:5]
        assert "Float too large" not in log
        assert "Rerun" not in log.split("Output written")[-1]  # the second pass settled every width
        assert (tmp_path / f"{name}.pdf").stat().st_size > 10_000
    pages = int(re.search(r"Output written on paper.pdf \((\d+) pages?", log_of(tmp_path, "paper")).group(1))
    assert pages < 30


def log_of(folder: Path, name: str) -> str:
    return (folder / f"{name}.log").read_text(encoding="utf-8", errors="replace")


def test_main_appendix_holds_the_primary_tables_and_the_supplement_the_rest(two_runs):
    out = two_runs[0][0] / "figures"
    appendix = (out / "appendix.tex").read_text(encoding="utf-8")
    supplement = (out / "supplement.tex").read_text(encoding="utf-8")
    assert appendix.count(r"\paragraph*{Methods.}") == 1
    order = [appendix.index(f"tab:{stem}") for stem in ("frame_tests_by_language", "corpus_summary", "model_frames")]
    assert order == sorted(order)
    for stem in ("top_terms_by_language", "topic_k_selection", "keyness_concepts_by_language", "run_manifest"):
        assert f"tab:{stem}" in supplement and f"tab:{stem}" not in appendix, stem
    assert "tab:model_frames" in supplement  # every term there; only the language terms in the appendix
    caption = re.search(r"\\caption\{(.*)\}\\label\{tab:model_frames\}", appendix).group(1)
    assert "Terms of language only" in caption and "term language: vi" in caption  # one term: said once
    rows = appendix[appendix.index("tab:model_frames") :].split(r"\end{longtable}")[0]
    assert "intercept" not in rows and "spline" not in rows and "bs(" not in appendix
    for line in appendix.splitlines():
        if line.startswith(r"\caption{"):
            assert len(line) < 800, line[:200]  # short captions: the method is said once, in the paragraph
    assert r"\subsection*{Notes on the tables: how each was made}" in supplement


def test_the_appendix_runs_whichever_stages_have_run(two_runs, tmp_path, caplog):
    """A study whose design stage has not run (or whose outputs were removed): the appendix is still
    written, the model section is one sentence naming the stage, numbers.tex names what is missing."""
    from analysis import files
    from analysis.stages.appendix import run_appendix

    folder = tmp_path / "study"
    shutil.copytree(two_runs[0][0], folder)
    study = files.read_study(folder / "study.toml")
    removed = [study.output_dir / name for name in declared_outputs(study)["design"]]
    assert study.output_dir / "model_frames.csv" in removed
    for path in removed:
        path.unlink(missing_ok=True)
    run_appendix(study)
    appendix = (folder / "figures" / "appendix.tex").read_text(encoding="utf-8")
    assert "the design stage has not run for this study (model\\_frames.csv is" in appendix
    assert "tab:frame_tests_by_language" in appendix and "tab:model_frames" not in appendix
    numbers = (folder / "figures" / "numbers.tex").read_text(encoding="utf-8")
    assert "% not available yet (its stage has not run): model_frames.csv" in numbers
    assert "RateRatio" not in numbers and r"\NDocumentsVi" in numbers
    assert any("appendix: design:" in r.getMessage() for r in caplog.records)


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
