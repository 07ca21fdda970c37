"""The column-wise table reader (analysis/corpus/sources.py batches, analysis/corpus/doctable.py).

It must give exactly what the record-by-record reader gives: the same records and labels
(record number and physical line), the same first error with the same message, the same
language warnings, the same record hashes; and keep the documents as columns.
"""

from __future__ import annotations

import csv
import io
import logging
import shutil

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.corpus import sources
from analysis.corpus.doctable import Documents, PackedColumns
from analysis.corpus.sources import read_corpus
from analysis.errors import InputError
from analysis.files import read_study
from tests.conftest import TINY_EN, TINY_VI
from tests.corpus.test_folder import assert_clean_failure
from tests.corpus.test_sources import csv_text, table_study

FIELD = st.text(alphabet=st.sampled_from(list('ab ,"\n\r\tđư')), max_size=8)


def _csv(rows, terminator) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator=terminator)
    writer.writerow(["doc_id", "language", "text"])
    for row in rows:
        if row is None:
            buffer.write(terminator)  # a blank line between records
        else:
            writer.writerow(row)
    return buffer.getvalue()


@settings(max_examples=60, deadline=None)
@given(
    rows=st.lists(st.one_of(st.none(), st.tuples(FIELD, FIELD, FIELD)), max_size=12),
    terminator=st.sampled_from(["\n", "\r\n"]),
    size=st.integers(1, 4),
)
def test_csv_batches_give_the_records_and_labels_of_iter_csv(tmp_path_factory, rows, terminator, size):
    path = tmp_path_factory.mktemp("b") / "t.csv"
    path.write_bytes(_csv(rows, terminator).encode("utf-8"))
    try:
        expected = [
            (r.where, r.fields) for r in sources.iter_csv(path, fmt="csv", delimiter="", encoding="utf-8", where="t")
        ]
    except InputError as exc:
        with pytest.raises(InputError) as caught:
            list(sources.csv_batches(path, fmt="csv", delimiter="", encoding="utf-8", where="t", size=size))
        assert str(caught.value) == str(exc)
        return
    got = [
        batch.record("t", i)
        for batch in sources.csv_batches(path, fmt="csv", delimiter="", encoding="utf-8", where="t", size=size)
        for i in range(len(batch))
    ]
    assert [(r.where, r.fields) for r in got] == expected


@pytest.mark.parametrize("size", [1, 2, 3, 2048])
def test_the_first_bad_record_is_named_whatever_check_it_fails(tmp_path, capsys, monkeypatch, size):
    """Record 3 has an empty text, record 4 an empty id, record 5 an unknown language: the
    message names record 3, as a record-by-record read does, in any batch size."""
    monkeypatch.setattr(sources, "TABLE_BATCH", size)
    rows = [("a", "vi", TINY_VI), ("b", "en", TINY_EN), ("c", "en", " \n "), (" ", "en", TINY_EN), ("e", "fr", TINY_EN)]
    study = table_study(tmp_path, "a.csv", csv_text(rows, header=("doc_id", "language", "text")))
    assert_clean_failure(study, capsys, "a.csv record 3 (line 8)", "empty text for doc_id 'c'")


@pytest.mark.parametrize("size", [1, 3, 2048])
def test_records_in_many_batches_are_the_records_of_one(tmp_path, monkeypatch, size):
    rows = [
        (f"d{i}", "vi" if i % 2 else "en", f"Báo {i % 3}", (TINY_VI if i % 2 else TINY_EN) + f"Số {i}.\n")
        for i in range(10)
    ]
    study = table_study(tmp_path / str(size), "a.csv", csv_text(rows))
    monkeypatch.setattr(sources, "TABLE_BATCH", size)
    corpus = read_corpus(read_study(study))
    assert corpus.doc_ids == [f"d{i}" for i in range(10)]
    assert [d.text for d in corpus] == [r[3] for r in rows]
    path = study.parent / "a.csv"
    assert [d.where for d in corpus] == [
        r.where for r in sources.iter_csv(path, fmt="csv", delimiter="", encoding="utf-8", where=str(path))
    ]
    assert dict(corpus.record_hashes) == {
        d.doc_id: sources.record_sha256({"doc_id": d.doc_id, "language": d.language, "outlet": r[2]}, d.text_sha256)
        for d, r in zip(corpus, rows)
    }
    again = read_corpus(read_study(study))  # from the index
    assert [(d.doc_id, d.offset, d.length, d.text_sha256, d.size, d.meta, d.where) for d in again] == [
        (d.doc_id, d.offset, d.length, d.text_sha256, d.size, d.meta, d.where) for d in corpus
    ]
    assert dict(again.record_hashes) == dict(corpus.record_hashes)
    assert dict(read_corpus(read_study(study), spill=False).record_hashes) == dict(
        corpus.record_hashes
    )  # taken while reading


def test_documents_are_columns_not_objects(tmp_path):
    rows = [(f"d{i}", "en", "A", TINY_EN + f"{i}\n") for i in range(3000)]
    corpus = read_corpus(read_study(table_study(tmp_path, "a.csv", csv_text(rows))))
    assert isinstance(corpus.documents, Documents)
    (block,) = corpus.documents.parts
    assert isinstance(block, PackedColumns) and block.meta is corpus.docvars  # the metadata is the docvars, not a copy
    assert (
        block.nbytes() / len(block) <= 60
    )  # offset 8, lengths, number, line 4 each, the text SHA-256 32: 56 bytes a document
    assert corpus.documents[2999].doc_id == "d2999" and corpus.documents[-1].text == TINY_EN + "2999\n"
    assert [d.doc_id for d in corpus.documents[1023:1026]] == ["d1023", "d1024", "d1025"]  # across a chunk boundary


def test_language_warnings_are_those_of_the_record_reader(tmp_path, caplog):
    rows = [
        ("a", "en", "A", TINY_VI),
        ("b", "vi", "A", "Plain ASCII English text here.\n"),
        ("c", "en", "A", "Café “quoted” English.\n"),
        ("d", "vi", "A", TINY_VI),
    ]
    study = table_study(tmp_path, "a.csv", csv_text(rows))
    with caplog.at_level(logging.WARNING, logger="analysis"):
        read_corpus(read_study(study))
    warned = [r.getMessage().split(": ", 1)[1] for r in caplog.records if "looks" in r.getMessage()]
    assert warned == ["says language 'en' but the text looks 'vi'", "says language 'vi' but the text looks 'en'"]
    assert "record 1 (line 2)" in caplog.records[0].getMessage()


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("aeiou bcd\nđươăâêôàáảãạ—“”é")), max_size=600))
def test_cheap_language_guess_is_the_share_rule(text):
    """_guess_language (a byte-length shortcut and a stop at the needed count) equals the plain rule."""
    head = text[:400]
    chars = len(head) - head.count(" ") - head.count("\n")
    plain = "vi" if chars and len(sources._VI_EXACT.findall(head)) / chars > 0.05 else "en"
    assert sources._guess_language(text) == plain


def test_needed_count_is_the_smallest_above_five_percent():
    for chars in range(1, 801):
        k = sources._needed(chars)
        assert k / chars > 0.05 and (k == 1 or (k - 1) / chars <= 0.05)


def test_a_moved_project_reads_its_cache(tmp_path, monkeypatch):
    """The pack index keeps no absolute path: a copied project finds its pack (no record parsed
    again) and names the table at its new place."""
    rows = [("v1", "vi", "A", TINY_VI), ("e1", "en", "B", TINY_EN)]
    old = tmp_path / "old"
    read_corpus(read_study(table_study(old, "a.csv", csv_text(rows))))
    (old / "b.jsonl").write_text(
        '{"doc_id": "j1", "language": "en", "text": "A JSON line.\\n"}\n'  # other keys: read record by record
        '{"doc_id": "j2", "language": "en", "text": "Another.\\n", "section": "x"}\n',
        encoding="utf-8",
    )
    study = old / "study.toml"
    study.write_text(
        study.read_text(encoding="utf-8").replace(
            '[corpus]\ntable = "a.csv"\n', '[[corpus.source]]\ntable = "a.csv"\n[[corpus.source]]\ntable = "b.jsonl"\n'
        ),
        encoding="utf-8",
    )
    first = read_corpus(read_study(study))
    texts, records = [d.text for d in first], dict(first.record_hashes)
    new = tmp_path / "new"
    shutil.copytree(old, new)
    shutil.rmtree(old)
    monkeypatch.setattr(sources, "csv_batches", lambda *a, **k: pytest.fail("the table was parsed again"))
    lines_read = []
    real = sources.iter_jsonl

    def counting(*args, **kwargs):
        for record in real(*args, **kwargs):
            lines_read.append(record.where)
            yield record

    monkeypatch.setattr(sources, "iter_jsonl", counting)
    moved = read_corpus(read_study(new / "study.toml"))
    assert len(lines_read) <= 1  # the first record for the column check, no more
    assert [d.text for d in moved] == texts
    assert all(d.where.startswith(str(new)) and str(old) not in d.where for d in moved)
    assert all(d.pack.startswith(str(new)) for d in moved)
    assert dict(moved.record_hashes) == records
    index = next((new / ".cache" / "texts").glob("*.index.jsonl")).read_text(encoding="utf-8")
    assert str(old) not in index and str(new) not in index
    arrow = next((new / ".cache" / "texts").glob("*.index.arrow")).read_bytes()
    assert str(old).encode() not in arrow
    assert np.asarray(moved.documents.parts[0].lines).tolist() == [2, 5]


@pytest.mark.parametrize("form", ["csv", "jsonl", "parquet"])
def test_read_table_gives_the_validated_table(tmp_path, form):
    import pandas as pd

    import analysis as va

    frame = pd.DataFrame(
        {
            "id": ["v1", "e1"],
            "lang": ["vi", "en"],
            "published": ["3 tháng 4 năm 2024", "April 5, 2024"],
            "body": [TINY_VI, TINY_EN],
            "section": ["a", "b"],
        }
    )
    path = tmp_path / f"t.{form}"
    if form == "csv":
        frame.to_csv(path, index=False)
    elif form == "jsonl":
        frame.to_json(path, orient="records", lines=True, force_ascii=False)
    else:
        frame.to_parquet(path, index=False)
    table = va.read_table(path, {"doc_id": "id", "language": "lang", "date": "published", "text": "body"})
    assert list(table.index) == ["v1", "e1"] and list(table["date"]) == ["2024-04-03", "2024-04-05"]
    assert list(table["text"]) == [TINY_VI, TINY_EN] and list(table["section"]) == ["a", "b"]
    assert set(table.columns) == {"doc_id", "language", "date", "section", "text"}


def test_read_table_names_the_bad_record(tmp_path):
    import analysis as va

    path = tmp_path / "t.csv"
    path.write_text(csv_text([("a", "vi", "A", TINY_VI), ("a", "en", "B", TINY_EN)]), encoding="utf-8")
    with pytest.raises(
        InputError, match=r"t.csv record 2 \(line 5\): duplicate doc_id 'a' \(first at .*t.csv record 1 \(line 2\)\)"
    ):
        va.read_table(path)
    path.write_text(csv_text([("a", "vi", "A", TINY_VI), ("b", "xx", "B", TINY_EN)]), encoding="utf-8")
    with pytest.raises(InputError, match=r"record 2 \(line 5\): unknown language code 'xx'"):
        va.read_table(path)
    path.write_text(
        csv_text([("a", "vi", "A", TINY_VI)], header=("doc_id", "language", "date", "text")).replace(
            ",A,", ",31/02/2024,"
        ),
        encoding="utf-8",
    )
    with pytest.raises(
        InputError, match=r"record 1 \(line 2\): date of doc_id 'a': '31/02/2024' is not a possible date"
    ):
        va.read_table(path)


@pytest.mark.parametrize("bad", [None, "", " \x1c\n", "\u2003\u3000", "ab\x00c", "\x1cx"])
def test_parquet_texts_checked_as_arrow_give_the_record_readers_message(tmp_path, bad):
    """Parquet texts stay Arrow arrays (bytes, lengths and first characters column-wise): the
    message for an empty, whitespace-only (Python's whitespace, \\x1c included) or binary text is
    the one the record-by-record JSON Lines reader gives."""
    import json

    import pandas as pd

    texts = [TINY_EN, TINY_VI, bad, TINY_EN]
    frame = pd.DataFrame({"doc_id": ["a", "b", "c", "d"], "language": ["en", "vi", "en", "en"], "text": texts})
    frame.to_parquet(tmp_path / "t.parquet", index=False)
    (tmp_path / "t.jsonl").write_text("".join(json.dumps(r) + "\n" for r in frame.to_dict("records")), encoding="utf-8")
    messages = []
    for name in ("t.parquet", "t.jsonl"):
        study = table_study(tmp_path / name.replace(".", "_"), name, (tmp_path / name).read_bytes())
        try:
            corpus = read_corpus(read_study(study))
        except InputError as exc:
            messages.append(exc.problem)
        else:
            messages.append([d.text for d in corpus])
    assert messages[0] == messages[1]
    assert (bad == "\x1cx") == isinstance(messages[0], list)  # only the text with a letter passes


@settings(max_examples=50, deadline=None)
@given(sizes=st.lists(st.integers(0, 11), max_size=8), a=st.integers(0, 40), b=st.integers(0, 40))
def test_segments_are_the_concatenation_of_what_was_added(sizes, a, b):
    from analysis.corpus import doctable

    old = doctable.SEGMENT
    doctable.SEGMENT = 4
    try:
        column, rows, whole = doctable.Segments(np.int32), doctable.Segments(np.uint8, 3), []
        for k, n in enumerate(sizes):
            values = np.arange(len(whole), len(whole) + n, dtype=np.int64)
            column.extend(values)
            rows.extend(np.repeat(values[:, None] % 256, 3, axis=1).astype(np.uint8))
            whole += values.tolist()
        column.finish(), rows.finish()
        assert len(column) == len(whole) and np.asarray(column).tolist() == whole
        assert column[a:b].tolist() == whole[a:b] and rows[a:b].tolist() == [[v % 256] * 3 for v in whole[a:b]]
        if whole:
            assert column[-1] == whole[-1] and column[len(whole) // 2] == whole[len(whole) // 2]
        assert column.nbytes == 4 * len(whole)  # the last segment trimmed to its rows
    finally:
        doctable.SEGMENT = old


def test_csv_batches_are_cut_by_characters_too(tmp_path, monkeypatch):
    monkeypatch.setattr(sources, "TABLE_BATCH_CHARS", 1000)
    rows = [(f"d{i}", "en", "x" * 300) for i in range(10)]
    path = tmp_path / "t.csv"
    path.write_text(csv_text(rows, header=("doc_id", "language", "text")), encoding="utf-8")
    batches = list(sources.csv_batches(path, fmt="csv", delimiter="", encoding="utf-8", where="t"))
    assert [len(b) for b in batches] == [4, 4, 2]  # 4 x 305 characters reach 1,000
    assert [b.first for b in batches] == [1, 5, 9] and batches[1].label("t", 0) == "t record 5 (line 6)"


def test_jsonl_is_read_column_wise_unless_its_records_have_other_keys(tmp_path, caplog):
    import json

    rows = [
        {"doc_id": "a", "language": "vi", "text": TINY_VI, "outlet": "A"},
        {"outlet": "B", "text": TINY_EN, "doc_id": "b", "language": "en"},
    ]
    study = table_study(tmp_path / "same", "t.jsonl", "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    corpus = read_corpus(read_study(study))
    assert isinstance(corpus.documents.parts[0], PackedColumns)  # same keys, another order: column-wise
    assert [d.where.rsplit("/", 1)[1] for d in corpus] == ["t.jsonl record 1 (line 1)", "t.jsonl record 2 (line 2)"]
    assert list(corpus.docvars.columns) == ["doc_id", "language", "outlet"] and list(corpus.docvars["outlet"]) == [
        "A",
        "B",
    ]
    assert dict(corpus.record_hashes) == {
        d.doc_id: sources.record_sha256({k: v for k, v in r.items() if k != "text"}, d.text_sha256)
        for d, r in zip(corpus, rows)
    }
    mixed = [rows[0], {"doc_id": "b", "language": "en", "text": TINY_EN, "section": "x"}]
    study = table_study(tmp_path / "mixed", "t.jsonl", "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in mixed))
    with caplog.at_level(logging.INFO, logger="analysis"):
        corpus = read_corpus(read_study(study))
    assert "record 2 has other keys than the first: read record by record" in caplog.text
    assert [d.meta for d in corpus] == [
        {"doc_id": "a", "language": "vi", "outlet": "A"},
        {"doc_id": "b", "language": "en", "section": "x"},
    ]
    assert list(corpus.docvars["section"]) == ["", "x"]
    again = read_corpus(read_study(study))  # from the record-by-record index
    assert [d.text for d in again] == [TINY_VI, TINY_EN] and dict(again.record_hashes) == dict(corpus.record_hashes)
    assert (
        len(list((tmp_path / "mixed" / ".cache" / "texts").glob("*"))) == 3
    )  # one pack, one index and its checksum: the aborted try left nothing
