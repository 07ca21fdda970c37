"""Paper outputs (issue 14): tables that fit the page, names that never become LaTeX commands,
Vietnamese shown as written, and the appendix of a hostile study."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import STAGES_IN_ONE_PROCESS, TINY_EN, TINY_VI, write_study

from analysis.paper.appendix import (
    appendix_tex,
    compact_table,
    figure_block,
    numbers_tex,
    supplement_tex,
    table_block,
    tex_caption,
    typed_table,
)
from analysis.paper.tables import display_tokens, latex_escape, latex_label, to_latex, to_markdown

HOSTILE = "a}\\input{/etc/passwd}%"
ENGINE = shutil.which("lualatex") or shutil.which("xelatex")
NO_ENGINE = (
    "no LaTeX engine: the .tex is checked instead (apt-get install "
    "--no-install-recommends texlive-luatex texlive-latex-recommended)"
)


def executable_inputs(tex: str) -> list[str]:
    """``\\input``/``\\include`` commands TeX would run: not preceded by an escaped backslash."""
    body = "\n".join(re.sub(r"(?<!\\)%.*", "", line) for line in tex.splitlines())  # comments are inert
    return re.findall(r"(?<!\\textbackslash\{\})\\(?:input|include|openin|write18|directlua)\b", body)


def compile_document(folder: Path, body: str, preamble: str = "") -> str:
    (folder / "doc.tex").write_text(
        "\\documentclass{article}\\usepackage{fontspec}\\usepackage{booktabs,graphicx,longtable}"
        + preamble
        + "\\begin{document}\n"
        + body
        + "\n\\end{document}\n",
        encoding="utf-8",
    )
    for _ in range(2):
        result = subprocess.run(
            [ENGINE, "-interaction=nonstopmode", "-halt-on-error", "doc.tex"],
            check=False,
            cwd=folder,
            capture_output=True,
            text=True,
            timeout=300,
        )
        log = (folder / "doc.log").read_text(encoding="utf-8", errors="replace")
        assert result.returncode == 0, log[-3000:]
    return log


def hostile_table() -> pd.DataFrame:
    return pd.DataFrame(
        {HOSTILE: ["x\\input{/etc/passwd}", "line\nbreak\x0cform feed", "50% & $ # ^ ~ { }"], "χ²": [1.5, 2.0, np.nan]}
    )


def test_latex_escape_leaves_no_command_and_no_line_break():
    assert latex_escape(HOSTILE) == r"a\}\textbackslash{}input\{/etc/passwd\}\%"
    assert latex_escape("a\nb\rc\td\x0ce\x85f") == "a b c d e f"
    assert latex_escape("a\u200bb\u202ec") == "abc"  # invisible and bidi controls dropped
    assert latex_escape("χ² ≥ 3") == r"\ensuremath{\chi}\textsuperscript{2} \ensuremath{\ge} 3"
    assert latex_label(HOSTILE) != latex_label("a--input--etc-passwd--") and re.fullmatch(
        r"[A-Za-z0-9_.:-]+", latex_label(HOSTILE)
    )
    assert latex_label("top_terms_by_language") == "top_terms_by_language"


def test_hostile_names_in_tables_captions_stems_and_notes_are_inert():
    tex = to_latex(hostile_table(), caption=f"Terms by {HOSTILE}", label=f"top_terms_by_{HOSTILE}")
    assert executable_inputs(tex) == []
    # Each row is one line: a newline in a cell never ends the row early.
    body = tex.split(r"\endfoot")[1].split(r"\end{longtable}")[0].strip().splitlines()
    assert len(body) == 3
    figure = figure_block(f"top_terms_by_{HOSTILE}", f"Most frequent terms by {HOSTILE}")
    assert executable_inputs(figure) == [] and r"\includegraphics" not in figure  # an unsafe file name is not read
    assert r"\includegraphics" in figure_block("top_terms_by_sự_kiện", "x")  # Vietnamese names are fine
    numbers = numbers_tex({"BestPairVi": ("d1", "similarity.csv, d1\n\\input{/etc/passwd} x d2")})
    assert executable_inputs(numbers) == [] and len(numbers.splitlines()) == 2
    appendix = appendix_tex(
        [(f"Section {HOSTILE}", [("table", "t", table_block("t", hostile_table(), caption=f"Caption {HOSTILE}"))])]
    )
    assert executable_inputs(appendix) == []
    # A value said once in the caption (a column with one value in every row) and a table's note in the
    # supplement are escaped like cells.
    constant = pd.concat([hostile_table()] * 2, ignore_index=True).assign(**{f"c{HOSTILE}": HOSTILE})
    table, caption = compact_table(constant, f"Caption {HOSTILE}")
    assert f"c{HOSTILE}" not in table.columns and f"c{HOSTILE} {HOSTILE}" in caption
    block = table_block("t", table, caption=caption)
    supplement = supplement_tex([(f"S {HOSTILE}", [("table", "t", block)])], notes=[(f"t{HOSTILE}", caption)])
    assert executable_inputs(block) == [] and executable_inputs(supplement) == []


@pytest.mark.skipif(not ENGINE, reason=NO_ENGINE)
def test_hostile_appendix_compiles_without_reading_the_file(tmp_path):
    (tmp_path / "secret.tex").write_text("SECRETCONTENT\n", encoding="utf-8")
    hostile = HOSTILE.replace("/etc/passwd", "secret")
    table = hostile_table().rename(columns={HOSTILE: hostile})
    appendix = appendix_tex(
        [
            (
                f"Section {hostile}",
                [
                    ("table", "t", table_block("t", table, caption=f"Caption {hostile}")),
                    ("figure", f"f_{hostile}", f"Figure by {hostile}"),
                ],
            )
        ]
    )
    (tmp_path / "appendix.tex").write_text(appendix, encoding="utf-8")
    log = compile_document(tmp_path, "\\input{appendix.tex}")
    assert "secret.tex" not in log and "Overfull \\hbox" not in log and "Missing character" not in log


def wide_table(rows: int = 60) -> pd.DataFrame:
    """A keyness-like table (the order of analysis.stats.comparison): 20 columns, long notes, Vietnamese compounds."""
    rng = np.random.default_rng(1)
    table = pd.DataFrame(
        {
            "comparison": ["language"] * rows,
            "term": [f"Bộ_trưởng_{i}" for i in range(rows)],
            "label": ["Ministry of Foreign Affairs spokesperson"] * rows,
            "group_a": ["vi"] * rows,
            "group_b": ["en"] * rows,
            "n_a": rng.integers(1, 900, rows),
            "n_b": rng.integers(1, 900, rows),
        }
    )
    for name in (
        "p",
        "q",
        "count_a",
        "count_b",
        "per_1000_a",
        "per_1000_b",
        "g2",
        "chi2",
        "log_ratio",
        "fw_delta",
        "fw_z",
    ):
        table[name] = rng.normal(size=rows) * 1000
    table["too_small"] = False
    table["note"] = [
        (
            "too small: vi has 4 documents, en has 1 document (fewer than 5); 80% of expected "
            "counts below 5: the χ² approximation does not hold"
        )
    ] * rows
    return table


def test_wide_tables_are_split_into_blocks_that_repeat_the_key_columns():
    tex = to_latex(wide_table(), caption="Keyness", label="k")
    blocks = tex.count(r"\begin{longtable}")
    assert blocks >= 2
    # The column that names the row (term: comparison, group_a and group_b are the same in every
    # row, the docs columns are counts) heads every block, on the first and on continued pages.
    assert tex.count(r"\shortstack[l]{term}") == 2 * blocks
    assert tex.count(r"\shortstack[l]{comparison}") == 2
    for name in ("p", "q", "ci", "g2", "fw z"):
        if name != "ci":
            assert rf"\shortstack[r]{{{name}}}" in tex, name  # no column is dropped
    assert r"Bộ trưởng\_0" in tex and "Bộ_trưởng" not in tex and r"Bộ\_trưởng" not in tex
    assert "(columns 1 of" in tex and r"\caption*{" in tex


def test_long_tables_are_capped_with_a_pointer_to_the_csv():
    table = wide_table(100)
    tex = to_latex(table, caption="Keyness", max_rows=40, source="keyness.csv")
    assert r"First 40 of 100 rows shown; every row is in keyness.csv." in tex
    assert tex.split(r"\end{longtable}")[0].count("Bộ trưởng") == 40
    doc = table_block(
        "frame_salience_by_document",
        table,
        caption="Frame salience per document. Data: frame_salience_by_document.csv.",
    )
    assert r"\begin{longtable}" not in doc and "100 rows, one per document" in doc
    assert table_block("frame_salience_by_document", table.iloc[:5], caption="x").count(r"\begin{longtable}") >= 1


@pytest.mark.skipif(not ENGINE, reason=NO_ENGINE)
def test_wide_and_long_tables_compile_without_overfull_boxes(tmp_path):
    big = pd.DataFrame(
        {
            "doc_id": [f"{i:05d}_abcdef0123456789" for i in range(9000)],
            "language": ["vi"] * 9000,
            "per_1000": np.arange(9000) / 7,
        }
    )
    body = "\n".join(
        [
            to_latex(wide_table(60), caption="Keyness of Vietnamese words", label="wide"),
            table_block("actor_salience_by_document", big, caption="Per document"),
            table_block("keyness_all", big, caption="Capped long table"),
            to_latex(
                pd.DataFrame({"section": ["setting"], "key": ["frequencies.kwic_terms"], "value": ["x" * 300]}),
                caption="Long unbroken value",
            ),
        ]
    )
    log = compile_document(tmp_path, body)
    assert "Overfull \\hbox" not in log, re.findall(r"Overfull \\hbox.*\n.*", log)[:5]
    assert "Missing character" not in log and "Dimension too large" not in log


def test_generated_tex_caption_round_trips_and_csv_types_come_back():
    tex = to_latex(pd.DataFrame({"a": [1]}), caption="Frames by group: 95% CI. Data: x.csv.")
    assert tex_caption(tex) == "Frames by group: 95% CI. Data: x.csv."
    back = typed_table(
        pd.DataFrame({"doc_id": ["001", "002"], "n": ["3", "4"], "p": ["0.5", ""], "flag": ["True", "False"]})
    )
    assert back["doc_id"].tolist() == ["001", "002"] and back["n"].tolist() == [3, 4]
    assert np.isnan(back["p"].iloc[1]) and back["flag"].tolist() == ["True", "False"]


def test_vietnamese_is_shown_unsegmented_where_a_reader_sees_it_and_csv_keeps_the_token():
    assert display_tokens("Bộ_trưởng Ngoại_giao") == "Bộ trưởng Ngoại giao"
    assert display_tokens("000_48c5b7277b01d832") == "000_48c5b7277b01d832"  # ids unchanged
    kwic = pd.DataFrame(
        {"doc_id": ["001_a"], "left": ["ông Bộ_trưởng"], "keyword": ["hợp_tác"], "right": ["kinh_tế ."]}
    )
    md = to_markdown(kwic)
    assert "| 001_a | ông Bộ trưởng | hợp tác | kinh tế . |" in md
    from analysis.paper.tables import to_csv

    assert "Bộ_trưởng" in to_csv(kwic)


def _run_stages(tmp_path, study, stages=("prepare", "frequencies", "manifest", "appendix")):
    env = {"MPLBACKEND": "Agg", "PATH": "/usr/bin:/bin", "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    return [
        subprocess.run(
            [sys.executable, "-m", "analysis", stage, "--study", str(study), "--quiet"],
            check=False,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            env=env,
        )
        for stage in stages
    ]


def _run_stages_in_one_process(tmp_path, study, stages) -> subprocess.CompletedProcess:
    env = {"MPLBACKEND": "Agg", "PATH": "/usr/bin:/bin", "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    return subprocess.run(
        [sys.executable, "-c", STAGES_IN_ONE_PROCESS, str(study), *stages],
        check=False,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=env,
    )


def test_hostile_values_reach_the_appendix_only_as_inert_text(tmp_path):
    """Outlet values and titles written like a LaTeX injection go through every stage into the
    appendix's tables (corpus summary, top terms by outlet) as escaped text; TeX never reads the file."""
    name = HOSTILE.replace("/etc/passwd", "secret")
    (tmp_path / "secret.tex").write_text("SECRETCONTENT\n", encoding="utf-8")
    study = write_study(tmp_path, [("v1", "vi", TINY_VI), ("e1", "en", TINY_EN)])
    metadata = tmp_path / "corpus" / "metadata.csv"
    cell = '"' + name.replace('"', '""') + '"'
    metadata.write_text(metadata.read_text(encoding="utf-8").replace(",o0,", f",{cell},"), encoding="utf-8")
    text = study.read_text(encoding="utf-8").replace('group_by = ["language"]', 'group_by = ["language", "outlet"]')
    text += (
        '[units]\nkind = "sentences"\nwindow = 1\n[topics]\nk_range = [2]\nseeds = '
        "[1]\npasses = 2\niterations = 20\nno_below = 1\nno_above = "
        "1.0\n[framing]\nbootstrap = 50\npermutations = 50\n"
    )
    study.write_text(text, encoding="utf-8")
    stages = ("prepare", "frequencies", "framing", "topics", "manifest", "appendix")
    result = _run_stages_in_one_process(tmp_path, study, stages)
    assert result.returncode == 0, result.stderr[-2000:]
    appendix = (tmp_path / "out" / "appendix.tex").read_text(encoding="utf-8")
    assert executable_inputs(appendix) == []
    assert r"a\}\textbackslash{}input\{secret\}\%" in appendix
    if ENGINE:
        log = compile_document(
            tmp_path, "\\input{out/numbers.tex}\\input{out/appendix.tex}", preamble="\\graphicspath{{out/}}"
        )
        assert "secret.tex" not in log and "Overfull \\hbox" not in log


def test_hostile_column_name_is_rejected_or_inert(tmp_path):
    """A metadata column named like a LaTeX injection, used in group_by: the study is rejected at
    validation (exit 2, nothing written) or its appendix holds the name only as inert text."""
    name = HOSTILE.replace("/etc/passwd", "secret")  # a name without "/" (paths are issue 14's output-name safety)
    column = '"' + name.replace('"', '""') + '"'
    study = write_study(tmp_path, [("v1", "vi", TINY_VI), ("e1", "en", TINY_EN)], extra_columns={column: ["g1", "g2"]})
    text = study.read_text(encoding="utf-8").replace(
        'group_by = ["language"]', 'group_by = ["language", ' + '"' + name.replace("\\", "\\\\") + '"]'
    )
    study.write_text(text, encoding="utf-8")
    results = _run_stages(tmp_path, study)
    if results[0].returncode == 2:
        assert "error:" in results[0].stderr and (
            not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())
        )
        return
    assert all(r.returncode == 0 for r in results), [r.stderr[-500:] for r in results]
    appendix = (tmp_path / "out" / "appendix.tex").read_text(encoding="utf-8")
    assert executable_inputs(appendix) == [] and r"\textbackslash{}input\{secret\}" in appendix


def test_standalone_tex_and_md_are_capped_and_name_the_csv_with_every_row(tmp_path, monkeypatch):
    import analysis.files as files

    monkeypatch.setattr(files, "TEXT_ROWS", 3)
    table = pd.DataFrame({"doc_id": [f"d{i}" for i in range(5)], "tfidf": [0.5, 0.4, 0.3, 0.2, 0.1]})
    files.write_table(table, tmp_path / "tfidf_top_terms_by_document", caption="TF-IDF")
    md = (tmp_path / "tfidf_top_terms_by_document.md").read_text(encoding="utf-8").splitlines()
    assert md[2:5] == ["| d0 | 0.500 |", "| d1 | 0.400 |", "| d2 | 0.300 |"] and "d3" not in "".join(md)
    assert md[-1] == "First 3 of 5 rows shown; every row is in `tfidf_top_terms_by_document.csv`."
    tex = (tmp_path / "tfidf_top_terms_by_document.tex").read_text(encoding="utf-8")
    assert "First 3 of 5 rows shown; every row is in tfidf" in tex and "d4" not in tex
    assert len(pd.read_csv(tmp_path / "tfidf_top_terms_by_document.csv")) == 5
    files.write_table(table.head(3), tmp_path / "small")  # at the cap: nothing said, nothing left out
    assert "First" not in (tmp_path / "small.md").read_text(encoding="utf-8")
