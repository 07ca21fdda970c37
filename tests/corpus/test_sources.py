"""Corpus sources (analysis/corpus/sources.py): tables, news-please JSON, HTML, several sources.

Every form gives the same documents as the folder form; every bad input is one line naming the
record (and, for CSV, the physical line) and the fix, with exit 2 and nothing written.
"""

from __future__ import annotations

import codecs
import json
import logging
import shutil
import unicodedata
from pathlib import Path

import pandas as pd
import pytest

from analysis.cli import main
from analysis.corpus import sources
from analysis.corpus.sources import read_corpus
from analysis.files import read_study
from tests.conftest import SEEDS, SHARED, TINY_EN, TINY_VI, fast_seed_study
from tests.corpus.test_folder import assert_clean_failure

STAGES = ("prepare", "frequencies", "framing", "topics")
#: The seed study with fewer resamples and fits and its figures as PNG only: the same settings for every form
#: (what is compared is form against form), faster; the PDFs' bytes are compared in tests/paper/test_appendix.py.
FIGURES_PNG = {'figure_formats = ["pdf", "png"]': 'figure_formats = ["png"]'}


def seed_table() -> pd.DataFrame:
    meta = pd.read_csv(SEEDS / "metadata.csv", dtype=str, keep_default_na=False)
    return meta.assign(text=[(SEEDS / name).read_text(encoding="utf-8") for name in meta["file"]])


def seed_variant(dest: Path, form: str) -> Path:
    """The seed study in ``dest`` with its corpus as a folder, CSV, JSONL or Parquet table."""
    dest.mkdir(parents=True, exist_ok=True)
    study = fast_seed_study(extra=FIGURES_PNG)
    if form == "folder":
        shutil.copytree(SEEDS, dest / "seeds")
    else:
        table = seed_table()
        name = f"articles.{form}"
        if form == "csv":
            table.to_csv(dest / name, index=False)
        elif form == "jsonl":
            (dest / name).write_text(
                "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in table.to_dict("records")), encoding="utf-8"
            )
        else:
            table.to_parquet(dest / name, index=False, row_group_size=2)  # several row groups
        study = study.replace('folder = "seeds"\nmetadata = "seeds/metadata.csv"\n', f'table = "{name}"\n')
        assert f'table = "{name}"' in study
    (dest / "study.toml").write_text(study, encoding="utf-8")
    return dest / "study.toml"


def outputs(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name != "manifest.json"
    }


def test_seed_corpus_in_every_form_is_the_same_corpus(tmp_path):
    from analysis.prepared import load_preparation
    from analysis.text.prepare import document_key

    corpora = {
        form: read_corpus(read_study(seed_variant(tmp_path / form, form)))
        for form in ("folder", "csv", "jsonl", "parquet")
    }
    preparation = load_preparation(read_study(tmp_path / "folder" / "study.toml"))
    reference = corpora["folder"]
    keys = [document_key(d, preparation) for d in reference]
    for form, corpus in corpora.items():
        assert corpus.doc_ids == reference.doc_ids, form
        assert [d.text for d in corpus] == [d.text for d in reference], form
        assert corpus.docvars.equals(reference.docvars), form
        assert [document_key(d, preparation) for d in corpus] == keys, form


def test_seed_corpus_as_folder_csv_jsonl_parquet_gives_byte_identical_outputs(tmp_path):
    """Every stage for the folder and the Parquet form (the design stage too: it read the folder
    form's metadata.csv for any study, so a table study failed there); the fast stages for CSV and JSONL."""
    results = {}
    for form, stages in (
        ("folder", (*STAGES, "design")),
        ("parquet", (*STAGES, "design")),
        ("csv", STAGES[:2]),
        ("jsonl", STAGES[:2]),
    ):
        study = seed_variant(tmp_path / form, form)
        for stage in stages:
            assert main([stage, "--study", str(study), "--quiet"]) == 0, (form, stage)
        results[form] = outputs(tmp_path / form / "figures")
    assert len(results["folder"]) > 100
    for form, got in results.items():
        assert set(got) <= set(results["folder"]) and len(got) > 30, form
        different = [name for name in got if got[name] != results["folder"][name]]
        assert not different, (form, different[:5])
    assert results["parquet"].keys() == results["folder"].keys()


# ------------------------------------------------------------------------------ helpers


def table_study(folder: Path, name: str, data: bytes | str, corpus_extra: str = "", columns: str = "") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
    text = f'[corpus]\ntable = "{name}"\n{corpus_extra}'
    if columns:
        text += f"[corpus.columns]\n{columns}"
    text += (
        '[frequencies]\ngroup_by = ["language"]\nkwic_terms = []\n[run]\noutput = '
        '"out"\ncache = ".cache"\nworkers = 1\n'
    )
    text += FEW_COLUMNS
    (folder / "study.toml").write_text(text, encoding="utf-8")
    return folder / "study.toml"


def csv_text(rows, header=("doc_id", "language", "outlet", "text"), sep=",") -> str:
    import csv
    import io

    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=sep, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


TWO = [("v1", "vi", "A", TINY_VI), ("e1", "en", "B", TINY_EN)]
#: Study settings that name only the language column (the defaults name the seed's outlet and event).
FEW_COLUMNS = (
    "[framing]\nkeyness_within = []\nbootstrap = 100\npermutations = "
    '100\n[topics]\nprevalence_by = ["language"]\nk_range = [2]\npasses = 2\nbootstrap = '
    "50\n"
)
FEW = '[frequencies]\ngroup_by = ["language"]\n' + FEW_COLUMNS


# ------------------------------------------------------------------------- what is read


def test_columns_are_mapped_and_other_columns_become_metadata(tmp_path):
    data = csv_text(
        [("7", "Báo A", TINY_VI, "x"), ("8", "Báo B", TINY_VI, "y")], header=("id", "media_name", "body", "section")
    )
    study = table_study(
        tmp_path, "a.csv", data, 'language = "vi"\n', 'doc_id = "id"\ntext = "body"\noutlet = "media_name"\n'
    )
    corpus = read_corpus(read_study(study))
    assert corpus.doc_ids == ["7", "8"]
    assert list(corpus.docvars.columns) == ["doc_id", "outlet", "section", "language"]
    assert corpus.docvars.loc["8", "outlet"] == "Báo B" and corpus.docvars.loc["8", "section"] == "y"
    assert corpus.documents[1].text == TINY_VI
    assert all(
        isinstance(d, sources.PackedDocument) and not hasattr(d, "__dict__") for d in corpus.documents
    )  # no text kept


def test_texts_are_read_back_from_the_pack_and_a_second_read_uses_the_index(tmp_path, monkeypatch):
    study = table_study(tmp_path, "a.csv", csv_text(TWO))
    first = read_corpus(read_study(study))
    packs = list((tmp_path / ".cache" / "texts").glob("*.pack"))
    assert len(packs) == 1
    assert packs[0].read_bytes() == (TINY_VI + TINY_EN).encode("utf-8")

    records_read = []
    real = sources.iter_csv

    def counting(*args, **kwargs):
        for record in real(*args, **kwargs):
            records_read.append(record.where)
            yield record

    monkeypatch.setattr(sources, "iter_csv", counting)
    second = read_corpus(read_study(study))
    assert len(records_read) <= 1  # the header (and first record) for the column check, no more
    assert [d.text for d in second] == [TINY_VI, TINY_EN]
    assert second.record_hashes == first.record_hashes and len(set(first.record_hashes.values())) == 2
    assert second.docvars.equals(first.docvars)


def test_changed_table_gives_a_new_pack(tmp_path):
    study = table_study(tmp_path, "a.csv", csv_text(TWO))
    read_corpus(read_study(study))
    (tmp_path / "a.csv").write_text(csv_text([("v1", "vi", "A", TINY_VI + "Thêm.\n"), TWO[1]]), encoding="utf-8")
    corpus = read_corpus(read_study(study))
    assert corpus.documents[0].text.endswith("Thêm.\n")
    assert len(list((tmp_path / ".cache" / "texts").glob("*.pack"))) == 2


def test_validate_writes_no_pack(tmp_path, capsys):
    study = table_study(tmp_path, "a.csv", csv_text(TWO))
    assert main(["validate", "--study", str(study), "--quiet"]) == 0
    assert "ok: 2 documents" in capsys.readouterr().out
    assert not (tmp_path / ".cache").exists()


def test_embedded_newlines_quotes_and_crlf_survive(tmp_path):
    text = 'Dòng một, "trích dẫn".\r\n\r\nDòng hai.\n'
    study = table_study(tmp_path, "a.csv", csv_text([("v1", "vi", "A", text), TWO[1]]))
    assert read_corpus(read_study(study)).documents[0].text == text


def test_tsv_and_excel_unicode_text_are_read(tmp_path, caplog):
    tsv = csv_text(TWO, sep="\t")
    corpus = read_corpus(read_study(table_study(tmp_path / "t", "a.tsv", tsv)))
    assert [d.text for d in corpus] == [TINY_VI, TINY_EN]
    # Excel's "Unicode text": UTF-16 LE with a BOM, tab-separated, under a .txt or .csv name
    excel = codecs.BOM_UTF16_LE + tsv.replace("\n", "\r\n").encode("utf-16-le")
    with caplog.at_level(logging.INFO, logger="analysis"):
        corpus = read_corpus(read_study(table_study(tmp_path / "x", "export.csv", excel)))
    assert [d.text.replace("\r\n", "\n") for d in corpus] == [TINY_VI, TINY_EN]
    assert "Excel 'Unicode text'" in caplog.text


def test_declared_encoding_of_a_table(tmp_path):
    raw = csv_text([("v1", "vi", "A", "Hoa binh "), ("e1", "en", "B", TINY_EN)]).encode("ascii")
    raw = raw.replace(b"Hoa binh ", unicodedata.normalize("NFD", "Hòa bình ").encode("cp1258"))
    corpus = read_corpus(read_study(table_study(tmp_path, "a.csv", raw, 'encoding = "cp1258"\n')))
    assert unicodedata.normalize("NFC", corpus.documents[0].text) == "Hòa bình "


def test_jsonl_and_parquet_with_types(tmp_path):
    rows = [
        {"doc_id": 1, "language": "vi", "text": TINY_VI, "views": 3, "tags": ["a", "b"], "missing": None},
        {"doc_id": 2, "language": "en", "text": TINY_EN, "views": 4, "tags": [], "missing": None},
    ]
    data = "\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n\n"
    corpus = read_corpus(read_study(table_study(tmp_path / "j", "a.ndjson", data)))
    assert corpus.doc_ids == ["1", "2"]
    assert corpus.docvars.loc["1", "views"] == "3" and corpus.docvars.loc["1", "tags"] == '["a", "b"]'
    assert corpus.docvars.loc["2", "missing"] == ""
    (tmp_path / "p").mkdir()
    pd.DataFrame(
        {"doc_id": ["a", "b"], "language": ["vi", "en"], "text": [TINY_VI, TINY_EN], "views": [3, 4]}
    ).to_parquet(tmp_path / "p" / "a.parquet", row_group_size=1)
    study = table_study(tmp_path / "p", "b.csv", "unused", 'format = "parquet"\n')
    study.write_text(study.read_text(encoding="utf-8").replace('"b.csv"', '"a.parquet"'), encoding="utf-8")
    corpus = read_corpus(read_study(study))
    assert [d.text for d in corpus] == [TINY_VI, TINY_EN] and corpus.docvars.loc["b", "views"] == "4"


def test_shared_corpora_metadata_with_path_column(tmp_path):
    vntc = SHARED / "corpora" / "vntc_sample"
    if not (vntc / "metadata.csv").is_file():
        pytest.skip("shared corpora absent")
    meta = pd.read_csv(vntc / "metadata.csv", dtype=str).head(3)
    assert "path" in meta.columns and "file" not in meta.columns
    folder = tmp_path / "c"
    folder.mkdir()
    for name in meta["path"]:
        shutil.copy(vntc / name, folder / name)
    meta.to_csv(folder / "metadata.csv", index=False)
    study = tmp_path / "study.toml"
    study.write_text(
        '[corpus]\nfolder = "c"\nmetadata = "c/metadata.csv"\nlanguages = ["vi"]\n' + FEW, encoding="utf-8"
    )
    corpus = read_corpus(read_study(study))
    assert corpus.doc_ids == list(meta["doc_id"])
    assert corpus.documents[0].text == (vntc / meta["path"][0]).read_text(encoding="utf-8")


def test_several_sources_each_with_its_own_columns_and_encoding(tmp_path):
    (tmp_path / "vi.csv").write_bytes(
        csv_text([("7", "Hoa binh")], header=("id", "noi_dung"))
        .encode("ascii")
        .replace(b"Hoa binh", unicodedata.normalize("NFD", "Hòa bình").encode("cp1258"))
    )
    (tmp_path / "en.jsonl").write_text(
        json.dumps({"key": "e1", "body": TINY_EN, "lang": "en"}) + "\n", encoding="utf-8"
    )
    (tmp_path / "study.toml").write_text(
        '[[corpus.source]]\ntable = "vi.csv"\nencoding = "cp1258"\nlanguage = "vi"\ncolumns '
        '= { doc_id = "id", text = "noi_dung" }\n'
        '[[corpus.source]]\ntable = "en.jsonl"\ncolumns = { doc_id = "key", text = "body", language = "lang" }\n' + FEW,
        encoding="utf-8",
    )
    corpus = read_corpus(read_study(tmp_path / "study.toml"))
    assert corpus.doc_ids == ["7", "e1"]
    assert unicodedata.normalize("NFC", corpus.documents[0].text) == "Hòa bình"
    assert corpus.docvars["language"].tolist() == ["vi", "en"]
    assert set(corpus.file_hashes) == {"vi.csv", "en.jsonl"}


def test_manifest_records_source_hash_and_record_hashes(tmp_path):
    study = table_study(tmp_path, "a.csv", csv_text(TWO))
    for stage in ("prepare", "manifest"):
        assert main([stage, "--study", str(study), "--quiet"]) == 0, stage
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text(encoding="utf-8"))
    import hashlib

    assert manifest["inputs"] == {"a.csv": hashlib.sha256((tmp_path / "a.csv").read_bytes()).hexdigest()}
    assert set(manifest["records"]) == {"v1", "e1"} and len(manifest["records"]["v1"]) == 64


# ---------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    "name, data, extra, fragments",
    [
        (
            "a.csv",
            csv_text(TWO, header=("doc_id", "language", "outlet", "body")),
            "",
            ["a.csv record 1 (line 2)", "no column 'text'", 'text = "..."', "body"],
        ),
        (
            "a.csv",
            csv_text([TWO[0], ("e1", "en", "B", "  \n")]),
            "",
            ["record 2 (line 5)", "empty text for doc_id 'e1'"],
        ),
        (
            "a.csv",
            csv_text([TWO[0], ("e1", "en", "B", "a\x00b")]),
            "",
            ["record 2 (line 5)", "binary text", "offset 1"],
        ),
        (
            "a.csv",
            csv_text([TWO[0], ("v1", "en", "B", TINY_EN)]),
            "",
            ["record 2 (line 5)", "duplicate doc_id 'v1'", "record 1 (line 2)"],
        ),
        (
            "a.csv",
            csv_text([TWO[0], ("e1", "english", "B", TINY_EN)]),
            "",
            ["record 2 (line 5)", "unknown language code 'english'", "use one of vi, en"],
        ),
        ("a.csv", csv_text(TWO, sep=";"), "", ["a.csv line 1", "semicolon (;)-separated", 'delimiter = ";"']),
        ("a.csv", csv_text(TWO, sep="\t"), "", ["a.csv line 1", "tab-separated", 'format = "tsv"']),
        ("a.csv", csv_text(TWO) + "x,vi\n", "", ["record 3 (line 8)", "has 2 fields, the header has 4"]),
        (
            "a.csv",
            csv_text(TWO).encode() + unicodedata.normalize("NFD", "x,vi,A,Hòa\n").encode("cp1258"),
            "",
            ["a.csv line 8", "cannot be decoded as utf-8 at byte offset", "encoding"],
        ),
        ("a.csv", b"\x00\x01binary", "", ["binary file (NUL byte at byte offset 0)"]),
        ("a.csv", b"", "", ["table is empty"]),
        (
            "a.jsonl",
            '{"doc_id": "v1", "language": "vi", "text": "x"}\n{"doc_id": "e1",\n',
            "",
            ["a.jsonl record 2 (line 2)", "not valid JSON"],
        ),
        ("a.jsonl", '[{"doc_id": "v1"}]\n', "", ["record 1 (line 1)", "JSON array, not JSON Lines"]),
        ("a.parquet", b"not parquet at all", "", ["a.parquet", "not a readable Parquet file"]),
        ("a.xlsx", b"PK", "", ["cannot tell the format", 'format = "csv"']),
        ("a.csv", csv_text(TWO), 'format = "xls"\n', ["format = 'xls' is not known"]),
    ],
)
def test_bad_tables_fail_with_one_line_and_write_nothing(tmp_path, capsys, name, data, extra, fragments):
    study = table_study(tmp_path, name, data, extra)
    assert_clean_failure(study, capsys, *fragments)


def test_broken_quoting_names_the_record(tmp_path, capsys):
    data = csv_text(TWO) + 'x,vi,A,"unclosed\nmore text\n'
    study = table_study(tmp_path, "a.csv", data)
    line = assert_clean_failure(study, capsys, "a.csv record 3 (line 8)")
    assert "broken CSV" in line or "fields" in line


def test_a_bad_record_late_in_a_table_leaves_no_pack(tmp_path, capsys):
    rows = [(f"d{i}", "en", "A", TINY_EN) for i in range(50)] + [("d0", "en", "A", TINY_EN)]
    study = table_study(tmp_path, "a.csv", csv_text(rows))
    assert_clean_failure(study, capsys, "record 51", "duplicate doc_id 'd0'")
    assert not (tmp_path / ".cache").exists() or not list((tmp_path / ".cache").rglob("*.pack*"))


def test_duplicate_ids_across_sources(tmp_path, capsys):
    (tmp_path / "a.csv").write_text(csv_text([TWO[0]]), encoding="utf-8")
    (tmp_path / "b.csv").write_text(csv_text([("v1", "en", "B", TINY_EN)]), encoding="utf-8")
    (tmp_path / "study.toml").write_text(
        '[[corpus.source]]\ntable = "a.csv"\n[[corpus.source]]\ntable = "b.csv"\n' + FEW, encoding="utf-8"
    )
    assert_clean_failure(
        tmp_path / "study.toml", capsys, "b.csv record 1 (line 2)", "duplicate doc_id 'v1'", "across all sources"
    )


@pytest.mark.parametrize(
    "corpus, fragment",
    [
        ('table = "a.csv"\nhtml = "pages"\n', "names table and html"),
        ('[[corpus.source]]\ntable = "a.csv"\nbogus = 1\n', "unknown key 'bogus' in [[corpus.source]] #1"),
        ('table = "a.csv"\n[corpus.columns]\nbody = "text"\n', "columns maps unknown name 'body'"),
        ('table = "missing.csv"\n', "table 'missing.csv' not found"),
        ('table = "a.csv"\nlanguage = "fr"\n', "language = 'fr' is not one of [corpus] languages"),
    ],
)
def test_bad_source_settings(tmp_path, capsys, corpus, fragment):
    (tmp_path / "a.csv").write_text(csv_text(TWO), encoding="utf-8")
    study = tmp_path / "study.toml"
    study.write_text(("[corpus]\n" if not corpus.startswith("[[") else "") + corpus + FEW, encoding="utf-8")
    assert_clean_failure(study, capsys, fragment)


# ------------------------------------------------------------------- news-please and HTML


def newsplease_article(
    title: str,
    text: str | None,
    language: str = "vi",
    domain: str = "vnexpress.net",
    date: str | None = "2024-04-04 10:00:00",
) -> dict:
    """The fields news-please writes for one article (https://github.com/fhamborg/news-please)."""
    return {
        "authors": ["Như Tâm"],
        "date_download": "2024-04-05 08:00:00",
        "date_modify": None,
        "date_publish": date,
        "description": "",
        "filename": "x.json",
        "image_url": None,
        "language": language,
        "localpath": None,
        "maintext": text,
        "source_domain": domain,
        "title": title,
        "title_page": None,
        "title_rss": None,
        "url": f"https://{domain}/{title[:5]}",
    }


def write_newsplease(folder: Path, articles: dict[str, dict]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, article in articles.items():
        (folder / f"{name}.json").write_text(json.dumps(article, ensure_ascii=False, indent=1), encoding="utf-8")


def test_newsplease_folder_is_read_without_configuration(tmp_path):
    write_newsplease(
        tmp_path / "np",
        {
            "b": newsplease_article("Hợp tác", TINY_VI),
            "a": newsplease_article("Cooperation", TINY_EN, "en", "bbc.co.uk"),
        },
    )
    (tmp_path / "study.toml").write_text('[corpus]\nfolder = "np"\n' + FEW, encoding="utf-8")  # no metadata.csv in it
    corpus = read_corpus(read_study(tmp_path / "study.toml"))
    assert corpus.doc_ids == ["a", "b"]
    assert [d.text for d in corpus] == [TINY_EN, TINY_VI]
    assert corpus.docvars.loc["a", "outlet"] == "bbc.co.uk" and corpus.docvars.loc["b", "title"] == "Hợp tác"
    assert corpus.docvars.loc["b", "authors"] == '["Như Tâm"]' and corpus.docvars.loc["b", "file"] == "b.json"
    assert set(corpus.file_hashes) == {"np/a.json", "np/b.json"}
    (tmp_path / "study.toml").write_text('[corpus]\nnewsplease = "np"\n' + FEW, encoding="utf-8")
    assert read_corpus(read_study(tmp_path / "study.toml")).doc_ids == ["a", "b"]


def test_newsplease_article_without_maintext_names_the_file(tmp_path, capsys):
    write_newsplease(
        tmp_path / "np", {"a": newsplease_article("Cooperation", TINY_EN, "en"), "b": newsplease_article("Trống", None)}
    )
    (tmp_path / "study.toml").write_text('[corpus]\nnewsplease = "np"\n' + FEW, encoding="utf-8")
    assert_clean_failure(tmp_path / "study.toml", capsys, "np/b.json", "empty text for doc_id 'b'")


PAGE = """<!DOCTYPE html><html lang="vi"><head><meta charset="utf-8"><title>{title} | Báo Mẫu</title>
<meta property="og:site_name" content="Báo Mẫu"><meta property="og:title" content="{title}">
<meta property="article:published_time" content="2024-04-04T10:00:00+07:00"></head>
<body><nav><a href="/">Trang chủ</a> <a href="/the-gioi">Thế giới</a></nav>
<article><h1>{title}</h1>{body}</article><footer>Bản quyền Báo Mẫu</footer></body></html>"""
PARAGRAPHS = [
    "Bộ trưởng Ngoại giao Bùi Thanh Sơn hội đàm với Bộ trưởng Vương Nghị tại Bắc Kinh ngày 4/4.",
    "Hai bên nhất trí thúc đẩy hợp tác kinh tế, thương mại và đầu tư, mở rộng giao lưu nhân dân.",
    "Hai bộ trưởng cũng trao đổi về các vấn đề quốc tế và khu vực cùng quan tâm.",
]


def test_html_pages_become_documents_with_title_date_and_sitename(tmp_path, caplog):
    pages = tmp_path / "pages"
    pages.mkdir()
    (pages / "hoi-dam.html").write_text(
        PAGE.format(title="Hội đàm Việt - Trung", body="".join(f"<p>{p}</p>" for p in PARAGRAPHS)), encoding="utf-8"
    )
    (tmp_path / "study.toml").write_text(
        '[corpus]\nhtml = "pages"\nlanguage = "vi"\nlanguages = ["vi"]\n' + FEW, encoding="utf-8"
    )
    with caplog.at_level(logging.INFO, logger="analysis"):
        corpus = read_corpus(read_study(tmp_path / "study.toml"))
    text = corpus.documents[0].text
    assert all(p in text for p in PARAGRAPHS)
    assert "Trang chủ" not in text and "Bản quyền" not in text  # navigation and footer are not main text
    row = corpus.docvars.loc["hoi-dam"]
    assert (row["title"], row["date"], row["sitename"], row["outlet"], row["language"]) == (
        "Hội đàm Việt - Trung",
        "2024-04-04",
        "Báo Mẫu",
        "Báo Mẫu",
        "vi",
    )
    assert "html: hoi-dam.html ->" in caplog.text and "characters of main text" in caplog.text


def test_html_page_without_main_text_is_an_error_naming_it(tmp_path, capsys):
    pages = tmp_path / "pages"
    pages.mkdir()
    (pages / "a.html").write_text(
        PAGE.format(title="Hội đàm", body="".join(f"<p>{p}</p>" for p in PARAGRAPHS)), encoding="utf-8"
    )
    (pages / "menu.html").write_text(
        "<html><head><title>Menu</title></head><body><nav><a href='/'>Trang chủ</a></nav></body></html>",
        encoding="utf-8",
    )
    (tmp_path / "study.toml").write_text(
        '[corpus]\nhtml = "pages"\nlanguage = "vi"\nlanguages = ["vi"]\n' + FEW, encoding="utf-8"
    )
    assert_clean_failure(tmp_path / "study.toml", capsys, "pages/menu.html", "no main text")


def test_newsplease_and_table_sources_together(tmp_path):
    write_newsplease(tmp_path / "np", {"v1": newsplease_article("Hợp tác", TINY_VI)})
    (tmp_path / "en.csv").write_text(csv_text([("e1", "en", "BBC", TINY_EN)]), encoding="utf-8")
    (tmp_path / "study.toml").write_text(
        '[[corpus.source]]\nnewsplease = "np"\n[[corpus.source]]\ntable = "en.csv"\n' + FEW, encoding="utf-8"
    )
    corpus = read_corpus(read_study(tmp_path / "study.toml"))
    assert corpus.doc_ids == ["v1", "e1"]
    assert corpus.docvars.loc["e1", "title"] == "" and corpus.docvars.loc["v1", "outlet"] == "vnexpress.net"


def test_folder_and_table_sources_together(tmp_path):
    from tests.conftest import write_study

    write_study(tmp_path, [("v1", "vi", TINY_VI)])
    (tmp_path / "en.jsonl").write_text(
        json.dumps({"doc_id": "e1", "language": "en", "text": TINY_EN, "outlet": "BBC"}) + "\n", encoding="utf-8"
    )
    (tmp_path / "study.toml").write_text(
        '[[corpus.source]]\nfolder = "corpus"\n[[corpus.source]]\ntable = "en.jsonl"\n' + FEW, encoding="utf-8"
    )
    corpus = read_corpus(read_study(tmp_path / "study.toml"))
    assert corpus.doc_ids == ["v1", "e1"] and [d.text for d in corpus] == [TINY_VI, TINY_EN]
    assert corpus.docvars.loc["v1", "file"] == "v1.txt" and corpus.docvars.loc["e1", "file"] == ""
    assert set(corpus.file_hashes) == {"corpus/v1.txt", "corpus/metadata.csv", "en.jsonl"}


# -------------------------------------------------------------------------------- dates


def test_dates_become_iso_in_docvars_and_bad_dates_name_the_row(tmp_path, capsys, caplog):
    rows = [
        ("v1", "vi", "Thứ hai, 18/03/2024 20:05 GMT+7", TINY_VI),
        ("v2", "vi", "3/4/2024", TINY_VI),
        ("e1", "en", "", TINY_EN),
    ]
    study = table_study(tmp_path / "ok", "a.csv", csv_text(rows, header=("doc_id", "language", "date", "text")))
    with caplog.at_level(logging.INFO, logger="analysis"):
        corpus = read_corpus(read_study(study))
    assert corpus.docvars["date"].tolist() == ["2024-03-18", "2024-04-03", ""]
    assert "1 of 3 documents have no date" in caplog.text
    assert corpus.dates.tolist()[:2] == [pd.Timestamp("2024-03-18"), pd.Timestamp("2024-04-03")] and pd.isna(
        corpus.dates.iloc[2]
    )
    assert corpus.documents[1].meta["date"] == "2024-04-03"
    study = table_study(
        tmp_path / "us",
        "a.csv",
        csv_text(rows[1:2], header=("doc_id", "language", "date", "text")),
        "dayfirst = false\n",
    )
    assert read_corpus(read_study(study)).docvars["date"].tolist() == ["2024-03-04"]
    bad = rows[:2] + [("e1", "en", "31/02/2024", TINY_EN)]
    study = table_study(tmp_path / "bad", "a.csv", csv_text(bad, header=("doc_id", "language", "date", "text")))
    assert_clean_failure(study, capsys, "a.csv record 3 (line 8)", "date of doc_id 'e1'", "2024-02-31 does not exist")


def test_bad_date_in_the_folder_form_names_the_metadata_line(tmp_path, capsys):
    from tests.conftest import write_study

    study = write_study(
        tmp_path, [("v1", "vi", TINY_VI), ("e1", "en", TINY_EN)], {"date": ["2024-04-03", "Thứ ba 18/03/2024"]}
    )
    assert_clean_failure(study, capsys, "metadata.csv line 3", "wrong weekday")


def test_corpus_summary_has_the_date_range_per_language_and_outlet(tmp_path):
    rows = [
        ("v1", "vi", "A", "3/4/2024", TINY_VI),
        ("v2", "vi", "A", "18/03/2024", TINY_VI),
        ("e1", "en", "B", "", TINY_EN),
    ]
    study = table_study(tmp_path, "a.csv", csv_text(rows, header=("doc_id", "language", "outlet", "date", "text")))
    assert main(["prepare", "--study", str(study), "--quiet"]) == 0
    summary = pd.read_csv(tmp_path / "out" / "corpus_summary.csv", dtype=str, keep_default_na=False)
    got = {
        (r["language"], r["outlet"]): (r["documents"], r["first_date"], r["last_date"], r["undated"])
        for r in summary.to_dict("records")
    }
    assert got[("vi", "A")] == ("2", "2024-03-18", "2024-04-03", "0")
    assert got[("en", "B")] == ("1", "", "", "1")
    assert got[("all", "all")] == ("3", "2024-03-18", "2024-04-03", "1")


def test_make_prerequisites_name_the_table_and_the_source_files(tmp_path):
    from analysis.study.makefile import corpus_inputs

    write_newsplease(tmp_path / "np", {"a": newsplease_article("Hợp tác", TINY_VI)})
    settings = {"corpus": {"source": [{"table": "en.csv"}, {"newsplease": "np"}]}}
    assert corpus_inputs(tmp_path / "study.toml", settings) == [
        str(tmp_path / "en.csv"),
        str(tmp_path / "np" / "a.json"),
    ]
    assert corpus_inputs(tmp_path / "study.toml", {"corpus": {"table": "a.parquet"}}) == [str(tmp_path / "a.parquet")]


# ------------------------------------------------------------------- hostile input (outside suite)


def test_a_csv_with_a_header_and_no_record_is_one_line(tmp_path, capsys):
    study = table_study(tmp_path, "articles.csv", "doc_id,language,outlet,text\n")
    line = assert_clean_failure(study, capsys, "articles.csv: no records", "export the articles, not only the header")
    assert "group_by" not in line


@pytest.mark.parametrize("form", ["csv", "jsonl"])
def test_nat_null_none_nan_dates_are_missing_and_counted_once(tmp_path, caplog, form):
    rows = [
        ("v1", "vi", "NaT", TINY_VI),
        ("v2", "vi", "null", TINY_VI),
        ("e1", "en", "None", TINY_EN),
        ("e2", "en", "nan", TINY_EN),
        ("e3", "en", "2024-01-02", TINY_EN),
    ]
    header = ("doc_id", "language", "date", "text")
    data = (
        csv_text(rows, header=header)
        if form == "csv"
        else "".join(json.dumps(dict(zip(header, r))) + "\n" for r in rows)
    )
    study = table_study(tmp_path, f"a.{form}", data)
    with caplog.at_level(logging.INFO, logger="analysis"):
        corpus = read_corpus(read_study(study))
    assert corpus.docvars["date"].tolist() == ["", "", "", "", "2024-01-02"]
    assert "4 of 5 documents have no date" in caplog.text and "8 of" not in caplog.text


def test_a_missing_cell_in_the_date_column_is_not_taken_as_the_last_date(tmp_path, caplog):
    from types import SimpleNamespace

    from analysis.corpus.documents import Corpus

    docvars = pd.DataFrame(
        {"doc_id": ["a", "b", "c", "d"], "date": ["2024-01-02", None, float("nan"), "NaT"]}
    ).set_index("doc_id", drop=False)
    documents = [SimpleNamespace(doc_id=d, meta={"date": ""}, where=d) for d in docvars["doc_id"]]
    study = read_study(table_study(tmp_path, "a.csv", csv_text(TWO)))
    with caplog.at_level(logging.INFO, logger="analysis"):
        corpus = sources.finish_corpus(Corpus(documents, docvars, {}, {}), study)
    assert corpus.docvars["date"].tolist() == ["2024-01-02", "", "", ""]
    assert "3 of 4 documents have no date" in caplog.text


@pytest.mark.parametrize("form", ["csv", "jsonl", "parquet"])
@pytest.mark.parametrize("column, char", [("outlet", "\x00"), ("title", "\x1b"), ("event", "\x7f"), ("doc_id", "\x07")])
def test_a_control_character_in_a_metadata_cell_names_the_record_and_column(tmp_path, capsys, form, column, char):
    header = ("doc_id", "language", "outlet", "title", "event", "text")
    rows = [
        dict(zip(header, ("v1", "vi", "A", "Hợp tác\nhai dòng", "x", TINY_VI))),
        dict(zip(header, ("e1", "en", "B", "Talks", "x", TINY_EN))),
    ]
    rows[1][column] = f"ab{char}c"
    name = f"a.{form}"
    if form == "csv":
        data = csv_text([tuple(r.values()) for r in rows], header=header)
    elif form == "jsonl":
        data = "".join(json.dumps(r) + "\n" for r in rows)
    else:
        pd.DataFrame(rows).to_parquet(tmp_path / "x.parquet", index=False)
        data = (tmp_path / "x.parquet").read_bytes()
        (tmp_path / "x.parquet").unlink()
    study = table_study(tmp_path, name, data)
    assert_clean_failure(
        study, capsys, f"{name} record 2", f"control character U+{ord(char):04X} in column '{column}'", "(offset 2)"
    )


def test_a_newline_or_tab_in_a_title_is_still_accepted(tmp_path):
    rows = [("v1", "vi", "A", "Hợp tác\r\nhai\tdòng", TINY_VI)]
    study = table_study(tmp_path, "a.csv", csv_text(rows, header=("doc_id", "language", "outlet", "title", "text")))
    assert read_corpus(read_study(study)).docvars.loc["v1", "title"] == "Hợp tác\r\nhai\tdòng"


@pytest.mark.parametrize("form", ["csv", "jsonl"])
def test_ids_differing_only_in_unicode_normalisation_are_one_id(tmp_path, capsys, form):
    nfc, nfd = unicodedata.normalize("NFC", "Hòa-1"), unicodedata.normalize("NFD", "Hòa-1")
    assert nfc != nfd
    rows = [(nfc, "vi", "A", TINY_VI), (nfd, "vi", "B", TINY_VI)]
    data = (
        csv_text(rows)
        if form == "csv"
        else "".join(json.dumps(dict(zip(("doc_id", "language", "outlet", "text"), r))) + "\n" for r in rows)
    )
    study = table_study(tmp_path, f"a.{form}", data)
    assert_clean_failure(study, capsys, f"a.{form} record 2", f"duplicate doc_id '{nfc}'", "record 1")


def test_an_nfd_id_alone_is_kept_as_nfc(tmp_path):
    nfd = unicodedata.normalize("NFD", "Hòa-1")
    study = table_study(tmp_path, "a.csv", csv_text([(nfd, "vi", "A", TINY_VI)]))
    assert read_corpus(read_study(study)).doc_ids == [unicodedata.normalize("NFC", "Hòa-1")]


def parquet_bytes(tmp_path: Path, table) -> bytes:
    import pyarrow.parquet as pq

    pq.write_table(table, tmp_path / "x.parquet")
    data = (tmp_path / "x.parquet").read_bytes()
    (tmp_path / "x.parquet").unlink()
    return data


def test_a_binary_parquet_text_column_is_decoded_as_utf8(tmp_path):
    import pyarrow as pa

    table = pa.table(
        {
            "doc_id": ["v1", "e1"],
            "language": ["vi", "en"],
            "outlet": pa.array([b"B\xc3\xa1o A", b"BBC"], pa.binary()),
            "text": pa.array([TINY_VI.encode(), TINY_EN.encode()], pa.binary()),
        }
    )
    corpus = read_corpus(read_study(table_study(tmp_path, "a.parquet", parquet_bytes(tmp_path, table))))
    assert [d.text for d in corpus] == [TINY_VI, TINY_EN]
    assert corpus.docvars["outlet"].tolist() == ["Báo A", "BBC"]
    assert sources.read_table(tmp_path / "a.parquet")["text"].tolist() == [TINY_VI, TINY_EN]


def test_undecodable_bytes_in_a_binary_parquet_column_name_record_and_column(tmp_path, capsys):
    import pyarrow as pa

    table = pa.table(
        {
            "doc_id": ["v1", "e1"],
            "language": ["vi", "en"],
            "text": pa.array([TINY_VI.encode(), b"ab\xff" + TINY_EN.encode()], pa.binary()),
        }
    )
    study = table_study(tmp_path, "a.parquet", parquet_bytes(tmp_path, table))
    assert_clean_failure(study, capsys, "a.parquet record 2", "column 'text' (binary) is not UTF-8 (byte offset 2)")


@pytest.mark.parametrize(
    "kind, values, fragment",
    [
        ("list", [["một", "hai"], ["one"]], "type list,"),
        ("int", [1, 2], "type int64,"),
    ],
)
def test_a_parquet_text_column_that_is_not_strings_is_refused(tmp_path, capsys, kind, values, fragment):
    import pyarrow as pa

    table = pa.table({"doc_id": ["v1", "e1"], "language": ["vi", "en"], "text": values})
    study = table_study(tmp_path, "a.parquet", parquet_bytes(tmp_path, table))
    assert_clean_failure(study, capsys, "a.parquet", "text column 'text' is of", fragment, "not strings")


@pytest.mark.parametrize(
    "value, kind", [({"body": "x"}, "an object"), (["một", "hai"], "an array"), (42, "a number"), (True, "true/false")]
)
def test_a_jsonl_text_that_is_not_a_string_is_refused(tmp_path, capsys, value, kind):
    data = (
        json.dumps({"doc_id": "v1", "language": "vi", "text": TINY_VI})
        + "\n"
        + json.dumps({"doc_id": "e1", "language": "en", "text": value})
        + "\n"
    )
    study = table_study(tmp_path, "a.jsonl", data)
    assert_clean_failure(study, capsys, "a.jsonl record 2 (line 2)", f"text 'text' is {kind}, not a string")


def test_a_newsplease_maintext_that_is_not_a_string_is_refused(tmp_path, capsys):
    write_newsplease(
        tmp_path / "np",
        {"a": newsplease_article("Cooperation", TINY_EN, "en"), "b": newsplease_article("Hợp tác", {"p": TINY_VI})},
    )
    (tmp_path / "study.toml").write_text('[corpus]\nnewsplease = "np"\n' + FEW, encoding="utf-8")
    assert_clean_failure(tmp_path / "study.toml", capsys, "np/b.json", "text 'maintext' is an object, not a string")


def test_newsplease_site_subfolders_are_read_recursively_in_path_order(tmp_path):
    write_newsplease(
        tmp_path / "np" / "vnexpress.net",
        {"v2": newsplease_article("Hợp tác", TINY_VI), "v1": newsplease_article("Hội đàm", TINY_VI)},
    )
    write_newsplease(
        tmp_path / "np" / "bbc.co.uk", {"e1": newsplease_article("Cooperation", TINY_EN, "en", "bbc.co.uk")}
    )
    write_newsplease(tmp_path / "np", {"top": newsplease_article("Talks", TINY_EN, "en", "bbc.co.uk")})
    for form in ('newsplease = "np"', 'folder = "np"'):
        (tmp_path / "study.toml").write_text(f"[corpus]\n{form}\n" + FEW, encoding="utf-8")
        corpus = read_corpus(read_study(tmp_path / "study.toml"))
        assert corpus.doc_ids == ["e1", "top", "v1", "v2"]
        assert corpus.docvars["file"].tolist() == [
            "bbc.co.uk/e1.json",
            "top.json",
            "vnexpress.net/v1.json",
            "vnexpress.net/v2.json",
        ]
        assert set(corpus.file_hashes) == {
            "np/bbc.co.uk/e1.json",
            "np/top.json",
            "np/vnexpress.net/v1.json",
            "np/vnexpress.net/v2.json",
        }


@pytest.mark.parametrize("form", ['newsplease = "np"', 'folder = "np"'])
def test_a_newsplease_symlink_leading_outside_the_folder_is_refused(tmp_path, capsys, form):
    write_newsplease(tmp_path / "np", {"a": newsplease_article("Cooperation", TINY_EN, "en")})
    write_newsplease(tmp_path / "elsewhere", {"secret": newsplease_article("Secret", TINY_EN, "en")})
    (tmp_path / "np" / "site").mkdir()
    (tmp_path / "np" / "site" / "b.json").symlink_to(tmp_path / "elsewhere" / "secret.json")
    (tmp_path / "study.toml").write_text(f"[corpus]\n{form}\n" + FEW, encoding="utf-8")
    assert_clean_failure(
        tmp_path / "study.toml",
        capsys,
        "np/site/b.json",
        "resolves outside the np folder",
        "copy the file into the folder",
    )


def test_a_symlink_inside_the_newsplease_folder_is_read(tmp_path):
    write_newsplease(tmp_path / "np", {"a": newsplease_article("Cooperation", TINY_EN, "en")})
    (tmp_path / "np" / "b.json").symlink_to(tmp_path / "np" / "a.json")
    (tmp_path / "study.toml").write_text('[corpus]\nnewsplease = "np"\n' + FEW, encoding="utf-8")
    assert read_corpus(read_study(tmp_path / "study.toml")).doc_ids == ["a", "b"]


def test_an_html_symlink_leading_outside_the_folder_is_refused(tmp_path, capsys):
    pages = tmp_path / "pages"
    pages.mkdir()
    (pages / "a.html").write_text(
        PAGE.format(title="Hội đàm", body="".join(f"<p>{p}</p>" for p in PARAGRAPHS)), encoding="utf-8"
    )
    (tmp_path / "outside.html").write_text(
        PAGE.format(title="Khác", body="".join(f"<p>{p}</p>" for p in PARAGRAPHS)), encoding="utf-8"
    )
    (pages / "b.html").symlink_to(tmp_path / "outside.html")
    (tmp_path / "study.toml").write_text(
        '[corpus]\nhtml = "pages"\nlanguage = "vi"\nlanguages = ["vi"]\n' + FEW, encoding="utf-8"
    )
    assert_clean_failure(tmp_path / "study.toml", capsys, "pages/b.html", "resolves outside the pages folder")


def test_a_mixed_language_html_folder_reads_each_pages_html_lang(tmp_path, capsys):
    """A folder of saved pages in both languages needs no language column (there is no table to
    add one to): ``<html lang>`` (or ``Content-Language``) names each page's language; ``init``
    writes a study its own ``validate`` accepts."""
    from analysis.cli import main

    pages = tmp_path / "pages"
    pages.mkdir()
    (pages / "vi.html").write_text(
        PAGE.format(title="Hội đàm Việt - Trung", body="".join(f"<p>{p}</p>" for p in PARAGRAPHS)), encoding="utf-8"
    )
    english = ["Vietnam and China agreed to deepen trade and investment cooperation on Thursday."] * 3
    (pages / "en.html").write_text(
        PAGE.format(title="Talks in Beijing", body="".join(f"<p>{p} {i}</p>" for i, p in enumerate(english)))
        .replace('<html lang="vi">', "<html>")
        .replace("<head>", '<head><meta http-equiv="Content-Language" content="en-GB">'),
        encoding="utf-8",
    )
    study = tmp_path / "pages.toml"
    assert main(["init", "--folder", str(pages), "--study", str(study)]) == 0
    assert 'languages = ["vi", "en"]' in study.read_text(encoding="utf-8")
    capsys.readouterr()
    assert main(["validate", "--study", str(study), "--quiet"]) == 0
    corpus = read_corpus(read_study(study))
    assert corpus.docvars["language"].to_dict() == {"en": "en", "vi": "vi"}
