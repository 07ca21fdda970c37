"""Every bad-input case: one line naming the file or row and the fix, exit 2, nothing written."""

import codecs
import logging
import os
import unicodedata
from pathlib import Path

import pytest

from analysis.cli import main
from analysis.corpus.documents import decode_text, guess_language
from analysis.corpus.sources import read_corpus
from analysis.errors import InputError
from analysis.files import read_study
from tests.conftest import TINY_EN, TINY_VI, write_study


def run_cli(study: Path, capsys, stage="prepare"):
    status = main([stage, "--study", str(study), "--quiet"])
    return status, capsys.readouterr().err.strip()


def assert_clean_failure(study: Path, capsys, *fragments):
    before = sorted(p.relative_to(study.parent) for p in study.parent.rglob("*"))
    status, err = run_cli(study, capsys)
    assert status == 2
    lines = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, err
    for fragment in fragments:
        assert fragment in lines[0]
    after = sorted(p.relative_to(study.parent) for p in study.parent.rglob("*"))
    assert after == before, "a failed run must write nothing"
    return lines[0]


def test_undecodable_file_names_byte_offset_and_suggests_declaring(tmp_path, capsys):
    raw = unicodedata.normalize("NFD", "Hòa bình").encode("cp1258")  # tone marks as combining bytes
    study = write_study(tmp_path, [("v1", "vi", raw), ("e1", "en", TINY_EN)])
    offset = next(i for i, b in enumerate(raw) if b >= 0x80)
    line = assert_clean_failure(study, capsys, "v1.txt", f"byte offset {offset}", "declare its encoding")
    assert "cp1258" in line


def test_declared_cp1258_is_decoded(tmp_path):
    raw = unicodedata.normalize("NFD", "Hòa bình và tình bạn").encode("cp1258")
    study = write_study(tmp_path, [("v1", "vi", raw), ("e1", "en", TINY_EN)], {"encoding": ["cp1258", ""]})
    corpus = read_corpus(read_study(study))
    # cp1258 stores tone marks as combining characters: decoding gives NFD text, preparation gives NFC
    assert corpus.documents[0].text.startswith("Ho")
    from analysis.text.normalize import canonical_text

    assert canonical_text(corpus.documents[0].text) == "Hòa bình và tình bạn"


def test_utf8_bom_and_utf16_bom_are_recognised():
    assert decode_text(codecs.BOM_UTF8 + "Hòa".encode(), "a") == "Hòa"
    assert decode_text("Hòa bình".encode("utf-16"), "a") == "Hòa bình"


def test_unknown_encoding_is_an_error():
    with pytest.raises(InputError, match="unknown encoding 'tcvn9'"):
        decode_text(b"abc", "a.txt", "tcvn9")


@pytest.mark.parametrize(
    "content,fragments",
    [
        (b"", ("v1.txt", "file is empty")),
        (b"  \n\t\n", ("v1.txt", "file is empty")),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", ("v1.txt", "binary file", "byte offset 8")),
    ],
)
def test_empty_and_binary_files(tmp_path, capsys, content, fragments):
    study = write_study(tmp_path, [("v1", "vi", content), ("e1", "en", TINY_EN)])
    assert_clean_failure(study, capsys, *fragments)


def _edit_metadata(study: Path, old: str, new: str):
    meta = study.parent / "corpus" / "metadata.csv"
    meta.write_text(meta.read_text(encoding="utf-8").replace(old, new), encoding="utf-8")


def test_missing_file(tmp_path, capsys):
    study = write_study(tmp_path, [("v1", "vi", TINY_VI), ("e1", "en", TINY_EN)])
    (tmp_path / "corpus" / "e1.txt").unlink()
    assert_clean_failure(study, capsys, "metadata.csv line 3", "'e1.txt' is missing", "fix:")


@pytest.mark.parametrize(
    "path,fragment",
    [("/etc/passwd", "absolute path"), ("../outside.txt", "outside the corpus folder"), ("C:\\x.txt", "absolute path")],
)
def test_paths_outside_the_corpus(tmp_path, capsys, path, fragment):
    study = write_study(tmp_path, [("v1", "vi", TINY_VI), ("e1", "en", TINY_EN)])
    (tmp_path / "outside.txt").write_text("Hòa bình", encoding="utf-8")
    _edit_metadata(study, "e1.txt", path)
    assert_clean_failure(study, capsys, "metadata.csv line 3", fragment)


def test_symlink_out_of_the_corpus(tmp_path, capsys):
    study = write_study(tmp_path, [("v1", "vi", TINY_VI), ("e1", "en", TINY_EN)])
    secret = tmp_path / "secret.txt"
    secret.write_text("The secret text of another folder.", encoding="utf-8")
    os.symlink(secret, tmp_path / "corpus" / "link.txt")
    _edit_metadata(study, "e1.txt", "link.txt")
    assert_clean_failure(study, capsys, "line 3", "resolves outside the corpus folder")


def test_duplicate_id(tmp_path, capsys):
    study = write_study(tmp_path, [("v1", "vi", TINY_VI), ("v1", "en", TINY_EN)])
    assert_clean_failure(study, capsys, "line 3", "duplicate doc_id 'v1' (first on line 2)")


def test_missing_required_column(tmp_path, capsys):
    study = write_study(tmp_path, [("v1", "vi", TINY_VI), ("e1", "en", TINY_EN)])
    _edit_metadata(study, "doc_id,file,language", "doc_id,file,lang")
    assert_clean_failure(study, capsys, "metadata.csv", "missing required column 'language'")


def test_unknown_language_code(tmp_path, capsys):
    study = write_study(tmp_path, [("v1", "vi", TINY_VI), ("e1", "fr", TINY_EN)])
    assert_clean_failure(study, capsys, "line 3", "unknown language code 'fr'", "use one of vi, en")


def test_broken_metadata_csv(tmp_path, capsys):
    study = write_study(tmp_path, [("v1", "vi", TINY_VI), ("e1", "en", TINY_EN)])
    (tmp_path / "corpus" / "metadata.csv").write_bytes(b'doc_id,file,language\nv1,"v1.txt,vi\n')
    assert_clean_failure(study, capsys, "metadata.csv", "broken CSV")


def test_unknown_study_key(tmp_path, capsys):
    study = write_study(tmp_path, [("v1", "vi", TINY_VI), ("e1", "en", TINY_EN)])
    study.write_text(study.read_text(encoding="utf-8") + "[units]\nwindows = 3\n", encoding="utf-8")
    assert_clean_failure(study, capsys, "study.toml", "unknown key 'windows' in [units]")


def test_control_character_in_text(tmp_path, capsys):
    study = write_study(tmp_path, [("v1", "vi", "Hai bên\x0cnhất trí."), ("e1", "en", TINY_EN)])
    assert_clean_failure(study, capsys, "v1.txt", "control character U+000C")


def test_language_mismatch_is_a_warning(tmp_path, caplog):
    study = write_study(tmp_path, [("v1", "en", TINY_VI), ("e1", "en", TINY_EN)])
    with caplog.at_level(logging.WARNING, logger="analysis"):
        corpus = read_corpus(read_study(study))
    assert len(corpus) == 2
    assert any("v1.txt" in r.message and "looks 'vi'" in r.message for r in caplog.records)


def test_guess_language_on_seeds():
    from tests.conftest import seed_text

    assert [guess_language(seed_text(p)) for p in ("000", "001", "002", "003", "004")] == ["vi", "vi", "en", "vi", "vi"]


def test_inputs_are_never_modified(seed_study_dir):
    before = {p.name: p.read_bytes() for p in (seed_study_dir / "seeds").iterdir()}
    read_corpus(read_study(seed_study_dir / "study.toml"))
    after = {p.name: p.read_bytes() for p in (seed_study_dir / "seeds").iterdir()}
    assert before == after


def test_declared_viscii_is_decoded(tmp_path):
    text = "Hợp tác và hữu nghị giữa hai nước"
    import viscii  # noqa: F401  (registers the codec)

    study = write_study(
        tmp_path, [("v1", "vi", text.encode("viscii")), ("e1", "en", TINY_EN)], {"encoding": ["viscii", ""]}
    )
    corpus = read_corpus(read_study(study))
    assert corpus.documents[0].text == text


def test_tcvn3_gets_a_conversion_hint():
    with pytest.raises(InputError, match="convert the file to UTF-8 first"):
        decode_text(b"abc", "a.txt", "tcvn3")


def test_input_error_survives_pickling_across_processes():
    import pickle

    error = pickle.loads(pickle.dumps(InputError("a.txt", "file is empty", "add its text")))
    assert str(error) == "a.txt: file is empty (fix: add its text)" and error.where == "a.txt"


def test_the_corpus_docvars_carry_no_per_document_attrs(tmp_path):
    # pandas deep-copies attrs into every operation's result: a list of line numbers there made
    # each per-document lookup cost O(documents) in the stages
    study = write_study(tmp_path, [("v1", "vi", TINY_VI), ("e1", "en", TINY_EN)])
    corpus = read_corpus(read_study(study))
    assert corpus.docvars.attrs == {}
    assert list(corpus.docvars["doc_id"]) == ["v1", "e1"]
