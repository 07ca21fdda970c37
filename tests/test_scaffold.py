"""``python -m analysis init`` (analysis/scaffold.py) and the column checks of ``validate``."""

from __future__ import annotations

import shutil
import tomllib

import pandas as pd

from analysis.cli import main
from analysis.files import read_study
from analysis.scaffold import map_columns
from analysis.topics.lda import suggest_topic_settings

from .conftest import ROOT, SEEDS, TINY_EN, TINY_VI


def media_cloud_table(n_per_language: int = 6) -> pd.DataFrame:
    rows = []
    for i in range(n_per_language):
        for lang, text, outlet in (("vi", TINY_VI, "VnExpress"), ("en", TINY_EN, "BBC")):
            rows.append(
                {
                    "stories_id": f"{lang}{i}",
                    "publish_date": f"2024-04-{i + 1:02d} 10:00:00",
                    "title": f"Tin {i}",
                    "url": f"https://x/{lang}{i}",
                    "media_name": outlet if i % 3 else f"{outlet} 2",
                    "language": lang,
                    "section": "kinh_te" if i % 2 else "the_gioi",
                    "text": text,
                }
            )
    return pd.DataFrame(rows)


def test_map_columns_finds_export_names_and_falls_back_to_the_longest_column():
    mapping, notes = map_columns(["stories_id", "publish_date", "media_name", "lang", "Body"], [])
    assert mapping == {
        "doc_id": "stories_id",
        "text": "Body",
        "language": "lang",
        "date": "publish_date",
        "outlet": "media_name",
    }
    mapping, notes = map_columns(["key", "noi", "x"], [{"key": "1", "noi": "một bài báo dài", "x": "a"}])
    assert mapping["text"] == "noi" and "longest" in notes[0]


def test_init_writes_a_study_that_validates_and_runs(tmp_path, capsys):
    media_cloud_table().to_csv(tmp_path / "articles.csv", index=False)
    study = tmp_path / "mystudy.toml"
    assert main(["init", "--table", str(tmp_path / "articles.csv"), "--study", str(study)]) == 0
    settings = tomllib.loads(study.read_text(encoding="utf-8"))
    assert settings["corpus"]["table"] == "articles.csv"
    assert settings["corpus"]["columns"] == {"doc_id": "stories_id", "date": "publish_date", "outlet": "media_name"}
    assert settings["frequencies"]["group_by"] == ["language", "outlet", "section"]
    assert settings["frequencies"]["kwic_terms"] == []
    assert settings["framing"]["keyness_within"] == ["outlet", "section"]
    # Each outlet writes in one language: outlets are the unit between languages, and groups under
    # the simulated threshold (20 documents) are flagged, as the study default says
    assert settings["framing"]["cluster"] == "outlet" and settings["topics"]["cluster"] == "outlet"
    assert settings["framing"]["keyness_cluster"] == "" and settings["framing"]["min_group_docs"] == 20
    suggested = suggest_topic_settings(
        12, len(settings["corpus"]["languages"])
    )  # the rule of an empty k_range, in one place
    assert settings["topics"]["k_range"] == suggested["topics"]["k_range"] == [2, 3, 4, 5]
    assert (settings["units"]["kind"], settings["units"]["window"]) == ("sentences", 3)
    assert all(
        "#" in line
        for line in study.read_text(encoding="utf-8").splitlines()
        if " = " in line and line.split(" = ")[0] in {"table", "group_by", "k_range", "kwic_terms"}
    )
    capsys.readouterr()
    assert main(["validate", "--study", str(study), "--quiet"]) == 0
    assert "ok: 12 documents" in capsys.readouterr().out
    for stage in ("prepare", "frequencies"):
        assert main([stage, "--study", str(study), "--quiet"]) == 0
    out = tmp_path / "figures" / "mystudy"  # the study's own folder: a second study never mixes with it
    assert settings["run"]["output"] == "figures/mystudy"
    assert (out / "top_terms_by_section.csv").is_file()
    summary = pd.read_csv(out / "corpus_summary.csv", dtype=str, keep_default_na=False)
    assert summary.iloc[-1]["first_date"] == "2024-04-01" and summary.iloc[-1]["last_date"] == "2024-04-06"


def test_init_without_language_column_sets_the_source_language(tmp_path):
    pd.DataFrame({"id": ["a", "b", "c"], "content": [TINY_VI] * 3}).to_json(
        tmp_path / "vi.jsonl", orient="records", lines=True, force_ascii=False
    )
    study = tmp_path / "vi.toml"
    assert main(["init", "--table", str(tmp_path / "vi.jsonl"), "--study", str(study)]) == 0
    settings = tomllib.loads(study.read_text(encoding="utf-8"))
    assert settings["corpus"]["language"] == "vi" and settings["corpus"]["languages"] == ["vi"]
    assert settings["corpus"]["columns"] == {"doc_id": "id", "text": "content"}
    assert settings["frequencies"]["group_by"] == ["language"]
    assert settings["framing"]["cluster"] == "" and settings["topics"]["cluster"] == ""  # no outlet column: documents
    assert main(["validate", "--study", str(study), "--quiet"]) == 0


def test_init_on_the_seed_folder(tmp_path):
    shutil.copytree(SEEDS, tmp_path / "seeds")
    study = tmp_path / "s.toml"
    assert main(["init", "--folder", str(tmp_path / "seeds"), "--study", str(study)]) == 0
    settings = tomllib.loads(study.read_text(encoding="utf-8"))
    assert settings["corpus"]["folder"] == "seeds" and settings["corpus"]["metadata"] == "seeds/metadata.csv"
    assert settings["frequencies"]["group_by"][:2] == ["language", "outlet"]
    assert main(["validate", "--study", str(study), "--quiet"]) == 0


def test_init_never_overwrites(tmp_path, capsys):
    media_cloud_table().to_csv(tmp_path / "articles.csv", index=False)
    (tmp_path / "study.toml").write_text("name = 'mine'\n", encoding="utf-8")
    assert main(["init", "--table", str(tmp_path / "articles.csv"), "--study", str(tmp_path / "study.toml")]) == 2
    assert "already exists" in capsys.readouterr().err
    assert (tmp_path / "study.toml").read_text(encoding="utf-8") == "name = 'mine'\n"


def test_validate_names_a_grouping_column_the_corpus_lacks(tmp_path, capsys):
    """The issue's case: the seed study.toml copied for a table without the seed's 'event' column."""
    table = media_cloud_table().rename(columns={"stories_id": "doc_id", "media_name": "outlet"})
    table.to_csv(tmp_path / "articles.csv", index=False)
    text = (
        (ROOT / "study.toml")
        .read_text(encoding="utf-8")
        .replace('folder = "seeds"\nmetadata = "seeds/metadata.csv"\n', 'table = "articles.csv"\n')
    )
    study = tmp_path / "study.toml"
    study.write_text(text, encoding="utf-8")
    status = main(["validate", "--study", str(study), "--quiet"])
    err = capsys.readouterr().err
    assert status == 2
    assert "[frequencies] group_by names 'event', not a metadata column" in err and "section" in err
    assert not (tmp_path / ".cache").exists() and not (tmp_path / "figures").exists()
    read_study(study)  # the study itself is fine: only the columns are missing


def test_init_on_a_newsplease_folder(tmp_path):
    from tests.corpus.test_sources import newsplease_article, write_newsplease

    write_newsplease(
        tmp_path / "np", {f"a{i}": newsplease_article(f"Tin {i}", TINY_VI, domain=f"bao{i % 2}.vn") for i in range(4)}
    )
    study = tmp_path / "np.toml"
    assert main(["init", "--folder", str(tmp_path / "np"), "--study", str(study)]) == 0
    settings = tomllib.loads(study.read_text(encoding="utf-8"))
    assert settings["corpus"]["newsplease"] == "np" and settings["corpus"]["languages"] == ["vi"]
    assert settings["frequencies"]["group_by"] == ["language", "outlet"]
    assert main(["validate", "--study", str(study), "--quiet"]) == 0


def test_prepare_with_two_workers_reads_texts_from_the_pack(tmp_path):
    table = media_cloud_table(3)
    table.to_parquet(tmp_path / "a.parquet")
    study = tmp_path / "s.toml"
    assert main(["init", "--table", str(tmp_path / "a.parquet"), "--study", str(study)]) == 0
    assert main(["prepare", "--study", str(study), "--workers", "2", "--quiet"]) == 0
    prepared = pd.read_csv(tmp_path / "figures" / "s" / "preparation_by_document.csv", dtype=str)
    assert prepared["doc_id"].tolist() == table["stories_id"].tolist()


def test_init_reads_the_languages_of_the_whole_table(tmp_path):
    """An export sorted by language: more Vietnamese rows than init samples for columns, then
    English ones. The languages come from every row, so the study admits both."""
    from analysis.scaffold import SAMPLE

    rows = [{"id": f"v{i}", "lang": "vi", "body": f"{TINY_VI}Bài số {i}.\n"} for i in range(SAMPLE + 100)] + [
        {"id": f"e{i}", "lang": "en", "body": f"{TINY_EN}Story number {i}.\n"} for i in range(5)
    ]
    pd.DataFrame(rows).to_csv(tmp_path / "sorted.csv", index=False)
    study = tmp_path / "sorted.toml"
    assert main(["init", "--table", str(tmp_path / "sorted.csv"), "--study", str(study)]) == 0
    settings = tomllib.loads(study.read_text(encoding="utf-8"))
    assert settings["corpus"]["languages"] == ["vi", "en"]
    assert main(["validate", "--study", str(study), "--quiet"]) == 0


def vietnamese_export(n_per_language: int = 4) -> pd.DataFrame:
    """An export with Vietnamese headers, as a Vietnamese newsroom tool writes them."""
    table = media_cloud_table(n_per_language)
    return table.rename(
        columns={
            "stories_id": "Mã bài",
            "language": "Ngôn ngữ",
            "media_name": "Tên báo",
            "publish_date": "ngay dang",  # typed without diacritics: the fallback comparison
            "title": "Tiêu đề",
            "text": "Nội dung",
            "url": "Đường dẫn",
        }
    )


def test_map_columns_reads_vietnamese_headers_in_any_normal_form():
    import unicodedata

    header = [
        unicodedata.normalize("NFD", h) for h in ("Mã bài", "Ngôn ngữ", "Báo", "Ngày đăng", "Tiêu đề", "Nội dung")
    ]
    mapping, _ = map_columns(header, [])
    assert mapping == {
        "doc_id": header[0],
        "text": header[5],
        "language": header[1],
        "date": header[3],
        "outlet": header[2],
        "title": header[4],
    }
    mapping, _ = map_columns(["ma bai", "noi dung", "tieu de", "ten bao"], [])
    assert mapping == {"doc_id": "ma bai", "text": "noi dung", "outlet": "ten bao", "title": "tieu de"}


def test_init_maps_vietnamese_column_names_and_the_study_validates(tmp_path, capsys):
    vietnamese_export().to_csv(tmp_path / "bao.csv", index=False)
    study = tmp_path / "bao.toml"
    assert main(["init", "--table", str(tmp_path / "bao.csv"), "--study", str(study)]) == 0
    settings = tomllib.loads(study.read_text(encoding="utf-8"))
    assert settings["corpus"]["columns"] == {
        "doc_id": "Mã bài",
        "text": "Nội dung",
        "language": "Ngôn ngữ",
        "date": "ngay dang",
        "outlet": "Tên báo",
        "title": "Tiêu đề",
        "url": "Đường dẫn",
    }
    assert settings["corpus"]["languages"] == ["vi", "en"]
    capsys.readouterr()
    assert main(["validate", "--study", str(study), "--quiet"]) == 0
    assert "ok: 8 documents" in capsys.readouterr().out


def test_init_writes_the_whole_study(tmp_path):
    """Design sections from what the corpus holds; tomotopy's keys (the default engine), not gensim's."""
    media_cloud_table().to_csv(tmp_path / "articles.csv", index=False)
    study = tmp_path / "whole.toml"
    assert main(["init", "--table", str(tmp_path / "articles.csv"), "--study", str(study)]) == 0
    settings = tomllib.loads(study.read_text(encoding="utf-8"))
    assert settings["compare"] == [
        {
            "name": "vi-vs-en",
            "groups": [{"language": "vi"}, {"language": "en"}],
            "measures": ["frames"],
            "correction": "holm",
            "cluster": "outlet",
            "exposure": "sentences",
        }
    ]
    # a handful of documents a language over 6 days: fewer than 20 a day or a week, so one period a month
    assert settings["time"]["freq"] == "month" and "span 5 days" in study.read_text(encoding="utf-8")
    assert settings["model"]["formula"] == "language" and settings["model"]["cluster"] == "outlet"
    assert settings["model"]["mixed"] is True
    assert settings["equivalence"]["parallel"] == ""
    assert settings["topics"]["engine"] == "tomotopy" and settings["topics"]["max_iterations"] == 1000
    assert not {"passes", "iterations", "chunksize", "eval_every", "multicore", "shuffle"} & set(settings["topics"])
    assert settings["text"]["learn_boilerplate"] is True and settings["corpus"]["drop_duplicates"] is False
    read_study(study)  # every key known and valid


def test_init_without_dates_or_a_second_language_writes_no_design_it_cannot_run(tmp_path):
    pd.DataFrame({"id": ["a", "b", "c"], "content": [TINY_VI] * 3}).to_csv(tmp_path / "vi.csv", index=False)
    study = tmp_path / "vi.toml"
    assert main(["init", "--table", str(tmp_path / "vi.csv"), "--study", str(study)]) == 0
    settings = tomllib.loads(study.read_text(encoding="utf-8"))
    assert not {"compare", "time", "model"} & set(settings)


def test_init_names_a_parallel_sample_and_refuses_one_without_vi_txt(tmp_path, capsys):
    media_cloud_table().to_csv(tmp_path / "articles.csv", index=False)
    sample = tmp_path / "parallel"
    sample.mkdir()
    (sample / "en.txt").write_text("China and Vietnam signed an agreement.\n", encoding="utf-8")
    args = ["init", "--table", str(tmp_path / "articles.csv"), "--parallel", str(sample)]
    assert main([*args, "--study", str(tmp_path / "a.toml")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "vi.txt" in err and not (tmp_path / "a.toml").exists()
    (sample / "vi.txt").write_text("Trung Quốc và Việt Nam đã ký một thỏa thuận.\n", encoding="utf-8")
    assert main([*args, "--study", str(tmp_path / "b.toml")]) == 0
    assert tomllib.loads((tmp_path / "b.toml").read_text(encoding="utf-8"))["equivalence"]["parallel"] == "parallel"


def test_init_refuses_a_text_column_of_numbers_or_empty_cells(tmp_path, capsys):
    cases = {
        "numbers.csv": pd.DataFrame({"id": ["a", "b"], "text": [12345, 678], "lang": ["vi", "en"]}),
        "empty.csv": pd.DataFrame({"id": ["a", "b"], "text": ["", ""], "lang": ["vi", "en"]}),
        "nocolumn.csv": pd.DataFrame({"id": ["a", "b"], "views": [10, 20], "lang": ["vi", "en"]}),
    }
    for name, table in cases.items():
        table.to_csv(tmp_path / name, index=False)
        study = tmp_path / f"{name}.toml"
        assert main(["init", "--table", str(tmp_path / name), "--study", str(study)]) == 2, name
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and name in err, err
        assert ("holds no letters" in err) if name != "nocolumn.csv" else ("no column looks like the text" in err)
        assert not study.exists()


def test_init_looks_into_newsplease_site_subfolders(tmp_path):
    from tests.corpus.test_sources import newsplease_article, write_newsplease

    write_newsplease(tmp_path / "np" / "vnexpress.net", {"a": newsplease_article("Tin", TINY_VI)})
    write_newsplease(tmp_path / "np" / "bbc.co.uk", {"b": newsplease_article("News", TINY_EN, "en", "bbc.co.uk")})
    study = tmp_path / "np.toml"
    assert main(["init", "--folder", str(tmp_path / "np"), "--study", str(study)]) == 0
    settings = tomllib.loads(study.read_text(encoding="utf-8"))
    assert settings["corpus"]["newsplease"] == "np" and settings["corpus"]["languages"] == ["vi", "en"]
    assert main(["validate", "--study", str(study), "--quiet"]) == 0


def test_a_table_without_an_outlet_column_runs_prepare_and_frequencies(tmp_path, capsys):
    """The corpus summary groups by outlet: a table without one is one group '(no outlet column)'
    (as in the folder form), once a KeyError traceback in the prepare stage."""
    pd.DataFrame({"id": ["a", "b"], "lang": ["vi", "en"], "content": [TINY_VI, TINY_EN]}).to_csv(
        tmp_path / "t.csv", index=False
    )
    study = tmp_path / "t.toml"
    assert main(["init", "--table", str(tmp_path / "t.csv"), "--study", str(study)]) == 0
    for stage in ("prepare", "frequencies"):
        assert main([stage, "--study", str(study), "--quiet"]) == 0
    summary = pd.read_csv(tmp_path / "figures" / "t" / "corpus_summary.csv", dtype=str)
    assert set(summary["outlet"]) == {"(no outlet column)", "all"}
    assert "no 'outlet' column in the corpus" in capsys.readouterr().err


def test_init_finds_grouping_columns_and_samples_over_the_whole_table(tmp_path):
    """An export sorted by section: the first SAMPLE rows are all one section. The grouping
    columns' levels come from every row, and the column sample is spread over the whole table."""
    from analysis.scaffold import SAMPLE, _Spread

    n = 2 * SAMPLE + 500
    rows = [
        {
            "id": f"v{i}",
            "lang": "vi",
            "section": "the_gioi" if i < SAMPLE + 100 else ("kinh_te" if i % 2 else "xa_hoi"),
            "body": f"{TINY_VI}Bài số {i}.\n",
        }
        for i in range(n)
    ]
    pd.DataFrame(rows).to_csv(tmp_path / "sorted.csv", index=False)
    study = tmp_path / "sorted.toml"
    assert main(["init", "--table", str(tmp_path / "sorted.csv"), "--study", str(study)]) == 0
    settings = tomllib.loads(study.read_text(encoding="utf-8"))
    assert settings["frequencies"]["group_by"] == ["language", "section"]
    spread = _Spread(size=4)
    for i in range(37):
        spread.add({"i": i})
    assert [r["i"] for r in spread.rows] == [0, 8, 16, 24, 32] and spread.n == 37  # every 8th of all 37
    assert len(spread.distinct["i"]) == 37  # distinct values over every record (up to DISTINCT_CAP)
