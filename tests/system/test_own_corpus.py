"""A researcher's own corpus end to end: a small bilingual news export in each input form (a
CSV table, JSON Lines, Parquet, a news-please folder with per-site subfolders, a folder of saved
HTML pages) -> ``python -m analysis init`` -> the stages -> the appendix.

The corpus is made of the seed articles' paragraphs (12 documents, two outlets a language, dated
over three weeks). Every stage runs on the CSV export; on the other forms ``init``, ``validate``,
``prepare`` and ``design`` run (the design stage once read the seed corpus's metadata for any
study not given as a folder). Resamples and topic fits are cut down so the
module stays fast; what is checked is that each stage runs on the study ``init`` wrote and writes
what it declares, not the statistics (tested in their own modules).
"""

from __future__ import annotations

import datetime
import json
import re
import tomllib
from pathlib import Path

import pandas as pd
import pytest

from analysis.cli import main
from analysis.study.outputs import declared_outputs
from tests.conftest import SEEDS

OUTLETS = {"vi": ("Báo Thời Sự", "Tin Nhanh"), "en": ("Daily Post", "Asia Wire")}
HTML_PAGE = """<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8"><title>{title}</title>
<meta property="og:site_name" content="{outlet}"><meta property="og:title" content="{title}">
<meta property="article:published_time" content="{date}T09:00:00+07:00"></head>
<body><nav><a href="/">Home</a></nav><article><h1>{title}</h1>{body}</article></body></html>"""


def _paragraphs(name: str) -> list[str]:
    return [line.strip() for line in (SEEDS / name).read_text(encoding="utf-8").splitlines() if len(line.strip()) > 60]


def export_rows() -> list[dict]:
    """Twelve articles: six Vietnamese (three or four seed paragraphs each), six English (two)."""
    vi = _paragraphs("003_46a85bee3c59e8aa.txt") + _paragraphs("004_c1259370423c2f15.txt")
    en = _paragraphs("002_61d0893481ed220d.txt")
    rows = []
    for lang, paragraphs, size in (("vi", vi, 3), ("en", en, 2)):
        for i in range(6):
            body = paragraphs[i * size : (i + 1) * size] or paragraphs[:size]
            rows.append(
                {
                    "id": f"{lang}-{i:02d}",
                    "lang": lang,
                    "source": OUTLETS[lang][i % 2],
                    "published": (datetime.date(2024, 3, 18) + datetime.timedelta(days=3 * i)).isoformat(),
                    "headline": body[0][:60],
                    "body": "\n\n".join(body) + "\n",
                }
            )
    return rows


def write_form(folder: Path, form: str) -> list[str]:
    """The export in ``form`` under ``folder``; the ``init`` arguments that name it."""
    rows = export_rows()
    table = pd.DataFrame(rows)
    if form == "csv":
        table.to_csv(folder / "export.csv", index=False)
        return ["--table", str(folder / "export.csv")]
    if form == "jsonl":
        (folder / "export.jsonl").write_text(
            "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8"
        )
        return ["--table", str(folder / "export.jsonl")]
    if form == "parquet":
        table.to_parquet(folder / "export.parquet")
        return ["--table", str(folder / "export.parquet")]
    if form == "newsplease":  # news-please's own layout: one subfolder per site
        for r in rows:
            site = folder / "np" / r["source"].lower().replace(" ", "")
            site.mkdir(parents=True, exist_ok=True)
            article = {
                "title": r["headline"],
                "maintext": r["body"],
                "language": r["lang"],
                "source_domain": r["source"],
                "date_publish": f"{r['published']} 09:00:00",
                "url": f"https://example.org/{r['id']}",
            }
            (site / f"{r['id']}.json").write_text(json.dumps(article, ensure_ascii=False), encoding="utf-8")
        return ["--folder", str(folder / "np")]
    pages = folder / "pages"  # saved HTML pages: the language from <html lang>
    pages.mkdir()
    for r in rows:
        body = "".join(f"<p>{p}</p>" for p in r["body"].split("\n\n"))
        (pages / f"{r['id']}.html").write_text(
            HTML_PAGE.format(lang=r["lang"], title=r["headline"], outlet=r["source"], date=r["published"], body=body),
            encoding="utf-8",
        )
    return ["--folder", str(pages)]


def quick(study: Path) -> None:
    """Fewer resamples and topic fits: the same code paths, a fraction of the time."""
    text = study.read_text(encoding="utf-8")
    text = re.sub(r"(?m)^(bootstrap|permutations) = \d+", r"\1 = 99", text)
    text = re.sub(r"(?m)^draws = \d+", "draws = 10", text)
    text = re.sub(r"(?m)^seeds = \[[^\]]*\]", "seeds = [1, 2]", text)
    text = re.sub(r"(?m)^k_range = \[[^\]]*\]", "k_range = [2, 3]", text)
    text = re.sub(r"(?m)^max_iterations = \d+", "max_iterations = 200", text)
    text = re.sub(r"(?m)^workers = \d+", "workers = 1", text)
    study.write_text(text, encoding="utf-8")


def run(study: Path, stage: str) -> None:
    assert main([stage, "--study", str(study), "--quiet"]) == 0, stage


def init(folder: Path, form: str, *, figure_formats: str = '["pdf", "png"]') -> tuple[Path, dict]:
    study = folder / "mystudy.toml"
    assert main(["init", *write_form(folder, form), "--study", str(study)]) == 0
    quick(study)
    text = study.read_text(encoding="utf-8")
    assert 'figure_formats = ["pdf", "png"]' in text
    study.write_text(
        text.replace('figure_formats = ["pdf", "png"]', f"figure_formats = {figure_formats}"), encoding="utf-8"
    )
    return study, tomllib.loads(study.read_text(encoding="utf-8"))


def test_every_stage_runs_on_a_study_init_wrote_for_a_csv_export(tmp_path):
    study, settings = init(tmp_path, "csv")
    assert settings["run"]["output"] == "figures/mystudy"
    assert settings["corpus"]["columns"] == {
        "doc_id": "id",
        "text": "body",
        "language": "lang",
        "date": "published",
        "outlet": "source",
        "title": "headline",
    }
    assert {"compare", "time", "model"} <= set(settings)
    run(study, "validate")
    for stage in ("prepare", "frequencies", "framing", "topics", "equivalence", "design", "manifest", "appendix"):
        run(study, stage)
    out = tmp_path / "figures" / "mystudy"
    declared = declared_outputs(settings)
    for stage in ("prepare", "frequencies", "framing", "topics", "design"):
        missing = [name for name in declared[stage] if not (out / name).exists()]
        assert not missing, (stage, missing)
    contrasts = pd.read_csv(out / "design_contrasts.csv")
    assert set(contrasts["contrast"]) == {"vi-vs-en"} and len(contrasts) > 0
    series = pd.read_csv(out / "time_series.csv", dtype={"period": str})
    assert set(series["group"]) == {"vi", "en"}
    appendix = (out / "appendix.tex").read_text(encoding="utf-8") + (out / "supplement.tex").read_text(encoding="utf-8")
    assert "design\\_contrasts" in appendix or "design_contrasts" in appendix
    assert not (tmp_path / "figures" / "corpus_summary.csv").exists()  # nothing outside the study's folder


@pytest.mark.parametrize("form", ["jsonl", "parquet", "newsplease", "html"])
def test_init_validate_prepare_and_design_on_every_other_form(tmp_path, form):
    study, settings = init(tmp_path, form, figure_formats='["png"]')  # the PDFs are drawn in the CSV test
    assert settings["corpus"]["languages"] == ["vi", "en"] and "outlet" in settings["frequencies"]["group_by"]
    assert {"compare", "time", "model"} <= set(settings)
    for stage in ("validate", "prepare", "design"):
        run(study, stage)
    out = tmp_path / "figures" / "mystudy"
    contrasts = pd.read_csv(out / "design_contrasts.csv")
    assert set(contrasts["contrast"]) == {"vi-vs-en"}
    assert (out / "model_frames.csv").is_file() and (out / "time_series.csv").is_file()
    summary = pd.read_csv(out / "corpus_summary.csv", dtype=str, keep_default_na=False)
    assert summary.set_index(["language", "outlet"]).loc[("all", "all"), "documents"] == "12"
