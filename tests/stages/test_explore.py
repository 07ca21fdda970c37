"""The explorer page: numbers checked by hand on a six-document study, the framing tables
reproduced, hostile metadata escaped, same inputs -> same bytes, bad input -> one line and exit 2."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis import files as aio
from analysis.cli import main
from analysis.prepared import load_codebook, prepared_corpus
from analysis.stages import explore
from analysis.study.makefile import make_fragment
from analysis.study.outputs import declared_outputs
from tests.conftest import ROOT, write_study

HOSTILE_OUTLET = "</script><script>window.__pwned=1</script>"
HOSTILE_TITLE = '<img src=x onerror="window.__pwned=2">"quoted" \'single\''
VI = [
    "Hai nước thúc đẩy hợp tác kinh tế.\nHợp tác biên giới và hợp tác du lịch.\n",
    "Kinh tế Việt Nam tăng trưởng.\nThương mại và đầu tư tăng.\nHợp tác tiếp tục.\n",
    "Biển Đông là vấn đề lớn.\nHai bên thảo luận về Biển Đông.\n",
    "Du lịch phát triển mạnh.\nHợp tác du lịch được thúc đẩy.\n",
]
EN = [
    "The two countries promote economic cooperation.\nCooperation on the border and tourism cooperation.\n",
    "The economy grew.\nTrade and investment rose.\n",
]
META = {
    "outlet": ["Báo A", "Báo A", "Báo B", "Báo B", HOSTILE_OUTLET, HOSTILE_OUTLET],
    "title": ["Hợp tác kinh tế", "Kinh tế", "Biển Đông", "Du lịch", HOSTILE_TITLE, "Economy"],
    "date": ["2024-03-03", "2024-04-04", "2024-04-10", "2024-05-01", "2024-04-05", "2024-05-02"],
    "event": ["e1", "e1", "e2", "e2", "e1", "e2"],
}
STUDY = {
    "name": "tiny-explorer",
    "corpus": {"folder": "corpus", "metadata": "corpus/metadata.csv", "languages": ["vi", "en"]},
    "frequencies": {"group_by": ["language"], "top_n": 5},
    "run": {"output": "out", "cache": ".cache", "workers": 1},
    "framing": {"cluster": "outlet", "bootstrap": 200, "permutations": 200},
    "topics": {
        "k": 2,
        "seeds": [1],
        "no_below": 1,
        "no_above": 1.0,
        "bootstrap": 100,
        "prevalence_by": ["language"],
        "max_iterations": 200,
        "cluster": "",
    },
}


def build_study(folder: Path) -> Path:
    docs = [(f"v{i}", "vi", t) for i, t in enumerate(VI)] + [(f"e{i}", "en", t) for i, t in enumerate(EN)]
    return write_study(folder, docs, extra_columns=META, study_text=STUDY)


@pytest.fixture(scope="session")
def explored(tmp_path_factory) -> Path:
    """The six-document study with the stages the page reads, then the page itself: the study file."""
    study = build_study(tmp_path_factory.mktemp("explore"))
    for stage in ("framing", "equivalence", "topics", "explore"):
        assert main([stage, "--study", str(study), "--quiet"]) == 0, stage
    return study


@pytest.fixture(scope="session")
def payload(explored) -> dict:
    study = aio.read_study(explored)
    return explore.explorer_payload(
        prepared_corpus(study, progress=False), load_codebook(study), explore.study_outputs(study)
    )


#: The study's output folder (set once the session fixture has run).
OUT: list[Path] = []


@pytest.fixture(autouse=True)
def _out(explored):
    OUT[:] = [aio.read_study(explored).output_dir]


def item(payload, key: str) -> pd.Series:
    items = payload["items"]
    return items[items["key"] == key].iloc[0]


def test_concept_rates_are_means_of_hits_per_100_sentences_counted_by_hand(explored, payload):
    # sentences per document as prepared: v0 2, v1 4 (the title line "Kinh tế" counts), v2 3, v3 3, e0 2, e1 2
    study = aio.read_study(explored)
    ps = prepared_corpus(study, progress=False)
    gathered = explore.gather(ps.prepared, ps.rules, load_codebook(study), window=3)
    assert gathered.sentences.tolist() == [2, 4, 3, 3, 2, 2]
    cooperation = item(payload, "concept:cooperation")  # hợp_tác: v0 3, v1 1, v3 1; cooperation: e0 3
    assert cooperation.rate_vi == pytest.approx((300 / 2 + 100 / 4 + 0 + 100 / 3) / 4)
    assert cooperation.rate_en == pytest.approx((300 / 2 + 0) / 2)
    assert (cooperation.hits_vi, cooperation.hits_en, cooperation.docs_hit_vi, cooperation.docs_hit_en) == (5, 3, 3, 1)
    economy = item(payload, "concept:economy")  # kinh_tế: v0 1, v1 1; economic (e0) and economy (e1)
    assert economy.rate_vi == pytest.approx((50 + 25) / 4) and economy.rate_en == pytest.approx(50)
    # one mark per concept with a hit: the concepts of the framing stage's keyness table
    keyness = pd.read_csv(OUT[0] / "keyness_concepts_by_language.csv")
    assert set(payload["items"].loc[payload["items"]["kind"] == "concept", "key"]) == {
        f"concept:{t}" for t in keyness["term"]
    }


def test_frame_points_and_intervals_are_the_framing_tables(payload):
    table = pd.read_csv(OUT[0] / "frame_salience_by_language.csv")
    items = payload["items"].set_index("key")
    for r in table.itertuples():
        assert items.loc[f"frame:{r.frame}", f"rate_{r.group}"] == pytest.approx(r.mean_per_100_sentences)
    groups = payload["groups"]
    language = groups[groups["group_kind"] == "language"].set_index(["item", "group"])
    for r in table.itertuples():
        row = language.loc[(r.frame, r.group)]
        assert (row["ci_low"], row["ci_high"]) == (pytest.approx(r.ci_low), pytest.approx(r.ci_high))
    # by outlet: people_culture_tourism in Báo B = mean of v2 (0) and v3 (du lịch twice in 3 sentences)
    outlet = groups[groups["group_kind"] == "outlet"].set_index(["item", "group"])
    assert outlet.loc[("people_culture_tourism", "Báo B (vi)"), "mean"] == pytest.approx((0 + 200 / 3) / 2)


def test_every_comparison_of_six_documents_is_too_small(payload):
    assert set(payload["items"]["evidence"]) == {explore.SPARSE}
    header = payload["header"]
    assert header["counts"] == [("vi", 4, 2), ("en", 2, 1)]
    assert any("comes from one outlet" in line for line in header["too_small"])
    assert header["sparse"].startswith("13 of 13 concepts and 15 of 15 frames")


def test_concordance_lines_come_from_both_languages_with_their_patterns(payload):
    economy = payload["items"].index[payload["items"]["key"] == "concept:economy"][0]
    lines = payload["lines"][payload["lines"]["item"] == economy]
    vi = sorted(lines[lines["language"] == "vi"][["doc", "left", "keyword", "right"]].values.tolist())
    assert vi == [[0, "Hai nước thúc_đẩy hợp_tác", "kinh_tế", "."], [1, "", "Kinh_tế", ""]]
    en = lines[lines["language"] == "en"]
    assert sorted(en["keyword"]) == ["economic", "economy"] and set(en["pattern"]) == {"economic", "economy"}
    patterns = payload["patterns"][payload["patterns"]["item"] == economy]
    assert patterns[["language", "pattern", "hits", "share"]].values.tolist() == [
        ["vi", "kinh tế", 2, 1.0],
        ["en", "economic", 1, 0.5],
        ["en", "economy", 1, 0.5],
    ]


def test_search_keys_use_the_toolkits_normalisation(payload):
    economy = item(payload, "concept:economy")
    assert "kinh_tế" in economy.search.split()
    assert explore.search_key("KINH  TẾ") == "kinh_tế" == explore.search_key("kinh_tế")
    assert payload["aliases"]["hoà"] == "hòa"  # the segmenter's tone placement -> the canonical one


def test_the_page_is_one_file_with_every_script_inline_and_hostile_values_escaped(explored):
    page = (OUT[0] / "explorer.html").read_text(encoding="utf-8")
    assert "<script src" not in page and "<link" not in page and "@import" not in page
    assert "BEGIN bokeh.min.js" in page and "BEGIN bokeh-widgets.min.js" in page
    for raw in (HOSTILE_OUTLET, "window.__pwned=1</script>", '<img src=x onerror="window.__pwned=2">'):
        assert raw not in page
    assert "Việt" in page  # UTF-8, not \\u escapes
    assert len(page.encode("utf-8")) < 2_000_000


def test_same_inputs_give_the_same_bytes_in_process_and_in_another_process(explored, tmp_path):
    page = OUT[0] / "explorer.html"
    first = page.read_bytes()
    assert main(["explore", "--study", str(explored), "--quiet"]) == 0
    assert page.read_bytes() == first
    env = {**os.environ, "PYTHONHASHSEED": "12345", "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [sys.executable, "-m", "analysis", "explore", "--study", str(explored), "--quiet"],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert page.read_bytes() == first


def test_a_missing_table_is_one_line_exit_2_and_nothing_written(explored, capsys):
    page, terms = OUT[0] / "explorer.html", OUT[0] / "topic_terms.csv"
    kept_page, kept_terms = page.read_bytes(), terms.read_bytes()
    page.unlink()
    terms.unlink()
    try:
        assert main(["explore", "--study", str(explored), "--quiet"]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and "topic_terms.csv: missing" in err[0]
        assert "fix: run `python -m analysis topics` (or `make`) first" in err[0]
        assert not page.exists()
    finally:
        page.write_bytes(kept_page)
        terms.write_bytes(kept_terms)


def test_a_table_without_a_needed_column_is_named(explored, capsys, tmp_path):
    out = tmp_path / "out"
    shutil.copytree(OUT[0], out)
    (out / "codebook_pattern_sources.csv").write_text("kind,entry\nconcept,x\n", encoding="utf-8")
    with pytest.raises(Exception) as error:
        explore.read_output(out, "codebook_pattern_sources.csv", "equivalence", ("kind", "entry", "share"))
    assert "has no column 'share'" in str(error.value) and "equivalence" in str(error.value)


def test_a_study_without_both_languages_is_refused(tmp_path, capsys):
    study = write_study(
        tmp_path,
        [("v1", "vi", VI[0])],
        study_text={**STUDY, "corpus": {**STUDY["corpus"], "languages": ["vi"]}},
    )
    assert main(["explore", "--study", str(study), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "[corpus] languages" in err and "fix:" in err
    assert not (tmp_path / "out" / "explorer.html").exists()


def test_the_page_is_declared_and_made_from_the_tables_it_reads(explored):
    settings = tomllib.loads(Path(explored).read_text(encoding="utf-8"))
    assert declared_outputs(settings)["explore"] == ["explorer.html"]
    mono = {**settings, "corpus": {**settings["corpus"], "languages": ["vi"]}}
    assert declared_outputs(mono)["explore"] == []
    fragment = make_fragment(Path(explored))
    deps = next(line for line in fragment.splitlines() if line.startswith("STAGE_DEPS_explore :="))
    assert "out/topic_terms.csv" in deps and "out/codebook_pattern_sources.csv" in deps
    assert "out/explorer.html" in fragment


def test_show_explorer_holds_the_page_in_an_iframe(explored):
    from analysis.plots.explorer import show_explorer

    shown = show_explorer(OUT[0] / "explorer.html", height=600).data
    assert shown.startswith("<iframe srcdoc=") and "height:600px" in shown
    assert "<script" not in shown  # the page is an escaped attribute value, run only inside the frame


@st.composite
def corpora(draw):
    """Documents with a language, outlet, event and day (some undated), and hit rows of 3 items."""
    n = draw(st.integers(1, 25))
    docs = pd.DataFrame(
        {
            "lang": draw(st.lists(st.integers(0, 1), min_size=n, max_size=n)),
            "outlet": draw(st.lists(st.integers(-1, 2), min_size=n, max_size=n)),
            "event": draw(st.lists(st.integers(-1, 1), min_size=n, max_size=n)),
            "day": [
                np.nan if d < 0 else d * 86_400_000.0
                for d in draw(st.lists(st.integers(-1, 4), min_size=n, max_size=n))
            ],
            "sentences": draw(st.lists(st.integers(1, 9), min_size=n, max_size=n)),
        }
    )
    pairs = sorted(draw(st.sets(st.tuples(st.integers(0, 2), st.integers(0, n - 1)), max_size=3 * n)))
    hits = pd.DataFrame(pairs, columns=["item", "doc"], dtype=np.int64)
    hits["n"] = draw(st.lists(st.integers(1, 5), min_size=len(hits), max_size=len(hits)))
    return docs, hits


@settings(max_examples=200, deadline=None)
@given(corpora(), st.sets(st.integers(-1, 2)), st.sets(st.integers(-1, 1)), st.integers(0, 4), st.integers(0, 4))
def test_sums_over_kept_cells_are_the_means_over_kept_documents(corpus, outlets, events, first, last):
    # What the page computes for a filter (kept cells' sums / kept cells' documents) equals the mean
    # over the kept documents computed directly, for any outlet, event and day-range filter.
    docs, hits = corpus
    cells, cell_of = explore.filter_cells(
        docs["lang"].to_numpy(), docs["outlet"].to_numpy(), docs["event"].to_numpy(), docs["day"].to_numpy()
    )
    assert cells["docs"].sum() == len(docs) and cell_of.max() == len(cells) - 1
    rate = 100.0 * hits["n"].to_numpy() / docs["sentences"].to_numpy()[hits["doc"].to_numpy()]
    sums = explore.cell_sums(hits, cell_of, rate)

    def kept(frame):  # the page's filter (analysis/resources/explorer.js cell_mask), on any table of keys
        day = frame["day"] / 86_400_000.0
        ok = pd.Series(True, index=frame.index)
        if outlets:
            ok &= frame["outlet"].isin(outlets)
        if events:
            ok &= frame["event"].isin(events)
        if (first, last) != (0, 4):
            ok &= (day >= first) & (day <= last)  # NaN (undated) is out of a narrowed range
        return ok.to_numpy()

    kept_docs, kept_cells = kept(docs), kept(cells)
    sums = sums[kept_cells[sums["cell"].to_numpy()]]
    direct = hits[kept_docs[hits["doc"].to_numpy()]].assign(rate=rate[kept_docs[hits["doc"].to_numpy()]])
    for lang in (0, 1):
        n_docs = int((kept_docs & (docs["lang"].to_numpy() == lang)).sum())
        assert n_docs == int(cells.loc[kept_cells & (cells["lang"].to_numpy() == lang), "docs"].sum())
        for item in range(3):
            mine = direct[(direct["item"] == item) & (docs["lang"].to_numpy()[direct["doc"].to_numpy()] == lang)]
            cell = sums[(sums["item"] == item) & (cells["lang"].to_numpy()[sums["cell"].to_numpy()] == lang)]
            assert cell["rate_sum"].sum() == pytest.approx(mine["rate"].sum(), rel=1e-12, abs=1e-12)
            assert (cell["hits"].sum(), cell["docs_hit"].sum()) == (mine["n"].sum(), len(mine))
