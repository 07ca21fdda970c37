"""Issue 14, failures found and hostile input: each case one line naming the file and the fix,
exit status 2, nothing written, no traceback; and what must keep working keeps working."""

from __future__ import annotations

import codecs
import errno
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis import files as aio
from analysis.cli import main
from analysis.corpus import sources
from analysis.errors import InputError
from analysis.study import cleanup, safety
from tests.conftest import ROOT, TINY_EN, TINY_VI, write_study


def run_cli(study: Path, capsys, stage="validate"):
    status = main([stage, "--study", str(study), "--quiet"])
    err = capsys.readouterr().err
    # What stays on the terminal: a transient progress bar (redrawn with "\r", cleared at the end) does not.
    lines = [line.rsplit("\r", 1)[-1] for line in err.split("\n")]
    return status, "\n".join(line for line in lines if line.strip())


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def fails_cleanly(study: Path, capsys, *fragments, stage="validate") -> str:
    """Exit 2, exactly one line (``error: ...``) containing every fragment, no file written or changed."""
    before = snapshot(study.parent)
    status, err = run_cli(study, capsys, stage)
    assert status == 2, err
    assert "Traceback" not in err
    # Warnings about the input (a missing optional column, a language guess) may come first; the
    # failure itself is one line.
    lines = [line for line in err.splitlines() if not line.startswith("WARNING ")]
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    assert snapshot(study.parent) == before, "a failed run must write nothing"
    return lines[0]


def set_study(study: Path, text: str) -> Path:
    study.write_text(text, encoding="utf-8")
    return study


STUDY = (
    '[corpus]\nfolder = "corpus"\nmetadata = '
    '"corpus/metadata.csv"\n[frequencies]\ngroup_by = ["language"]\n[run]\noutput = '
    '"{output}"\ncache = ".cache"\nworkers = 1\n'
)


# ------------------------------------------------------------------- the output folder and clean


@pytest.mark.parametrize(
    "output, fragment",
    [
        ("corpus", "it is [corpus] folder"),
        (".", "it contains the study file"),
        ("corpus/out", "it lies inside [corpus] folder"),
        ("corpus/metadata.csv", "it is [corpus] metadata"),
    ],
)
def test_output_folder_may_not_overlap_an_input(tmp_path, capsys, output, fragment):
    study = write_study(tmp_path, [("v1", "vi", TINY_VI), ("e1", "en", TINY_EN)])
    set_study(study, STUDY.format(output=output))
    fails_cleanly(study, capsys, "[run] output", fragment, "folder of their own")
    # and clean refuses it too, leaving every input in place
    before = snapshot(tmp_path)
    assert cleanup.main(["--study", str(study)]) == 2
    assert "is not allowed" in capsys.readouterr().err
    assert snapshot(tmp_path) == before


def test_clean_removes_only_what_the_toolkit_wrote(tmp_path, capsys):
    study = write_study(tmp_path, [("v1", "vi", TINY_VI), ("e1", "en", TINY_EN)])
    out = tmp_path / "out"
    (out / "topic_models" / "vi").mkdir(parents=True)
    for name in (
        "cleaning_log.csv",
        "corpus_summary.tex",
        "manifest.json",
        "appendix.tex",
        "topic_models/vi/vocab.txt",
    ):
        (out / name).write_text("x")
    (out / ".corpus_summary.csv.abc123.tmp").write_text("half")  # a killed write
    (out / "my_notes.txt").write_text("mine")  # not the toolkit's
    assert cleanup.main(["--study", str(study)]) == 0
    assert "removed 6 output files" in capsys.readouterr().out
    assert sorted(p.name for p in out.rglob("*")) == ["my_notes.txt"]  # empty toolkit folders gone, the rest kept
    (out / "my_notes.txt").unlink()
    assert cleanup.main(["--study", str(study)]) == 0
    assert out.is_dir()  # a folder that held none of the toolkit's files (any more) is not touched
    # an earlier run with other settings: the files its manifest lists go too, and only those
    (out / "top_terms_by_region.csv").write_text("x")
    (out / "elsewhere.txt").write_text("x")
    (out / "manifest.json").write_text(
        json.dumps({"outputs": {"top_terms_by_region.csv": "0" * 64, "../corpus/v1.txt": "0"}})
    )
    assert cleanup.main(["--study", str(study)]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["elsewhere.txt"]
    (out / "elsewhere.txt").unlink()
    (out / "manifest.json").write_text("{}")
    assert cleanup.main(["--study", str(study)]) == 0
    assert not out.exists()  # emptied of the toolkit's files, the output folder goes
    assert (tmp_path / "corpus" / "v1.txt").is_file()


def test_make_clean_calls_the_safe_cleaner():
    makefile = (ROOT / "Makefile").read_text()
    rule = makefile.split("\nclean:", 1)[1].split("\n\n", 1)[0]
    assert "analysis.study.cleanup" in rule and "rm -rf $(OUT)" not in rule


# ---------------------------------------------------------------------------- names from data


def test_output_names_built_from_columns_cannot_leave_the_output_folder(tmp_path, capsys):
    hostile = "x/../../ESCAPED"
    study = write_study(tmp_path / "s", [("v1", "vi", TINY_VI), ("e1", "en", TINY_EN)], {hostile: ["a", "b"]})
    set_study(study, STUDY.format(output="out").replace('group_by = ["language"]', f'group_by = ["{hostile}"]'))
    fails_cleanly(study, capsys, "[frequencies] group_by", "x/../../ESCAPED", "output file names")
    fragment = subprocess.run(
        [sys.executable, "-m", "analysis.study.makefile", "--study", str(study)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert (
        fragment.returncode == 2 and "x/../../ESCAPED" in fragment.stderr and not fragment.stdout
    )  # no make target out there either
    for stage in ("prepare", "frequencies"):
        assert run_cli(study, capsys, stage)[0] == 2
    assert not [p for p in tmp_path.rglob("*ESCAPED*")], "nothing may land outside the output folder"
    # the writers themselves refuse a name that climbs out, whatever built it
    with pytest.raises(InputError, match="leaves the output folder"):
        aio.write_text(tmp_path / "s" / "out" / "a" / ".." / ".." / ".." / "ESCAPED.csv", "x")
    assert not [p for p in tmp_path.rglob("*ESCAPED*")]


@pytest.mark.parametrize(
    "section, key, value",
    [
        ("framing", "compare_by", '"{c}"'),
        ("framing", "keyness_within", '["{c}"]'),
        ("topics", "prevalence_by", '["{c}"]'),
    ],
)
def test_every_setting_that_names_an_output_refuses_a_climbing_column(tmp_path, capsys, section, key, value):
    hostile = "x/../../ESCAPED"
    study = write_study(tmp_path / "s", [("v1", "vi", TINY_VI), ("e1", "en", TINY_EN)], {hostile: ["a", "b"]})
    set_study(study, STUDY.format(output="out") + f"[{section}]\n{key} = {value.format(c=hostile)}\n")
    fails_cleanly(study, capsys, f"[{section}] {key}", hostile)


def test_group_values_and_doc_ids_from_data_stay_inside_the_output_folder(tmp_path, capsys):
    study = write_study(tmp_path / "s", [("../../ESCAPED", "vi", TINY_VI), ("e1", "en", TINY_EN)])
    meta = tmp_path / "s" / "corpus" / "metadata.csv"
    meta.write_text(meta.read_text().replace("../../ESCAPED.txt", "v1.txt").replace(",o0,", ",../../ESCAPED,"))
    (tmp_path / "s" / "corpus" / "../../ESCAPED.txt").resolve().rename(tmp_path / "s" / "corpus" / "v1.txt")
    set_study(
        study,
        STUDY.format(output="out").replace(
            'group_by = ["language"]', 'group_by = ["outlet"]\nkwic_terms = ["../../ESCAPED", "hợp_tác"]'
        ),
    )
    for stage in ("prepare", "frequencies"):
        assert run_cli(study, capsys, stage)[0] == 0
    out = tmp_path / "s" / "out"
    assert "../../ESCAPED" in (out / "top_terms_by_outlet.csv").read_text(
        encoding="utf-8"
    )  # the value is data, not a path
    assert all(out in p.parents for p in tmp_path.rglob("*ESCAPED*")), list(tmp_path.rglob("*ESCAPED*"))


@pytest.mark.parametrize("name", ["a}\\input{/etc/passwd}%", "has space", "../up", ".hidden", "x:y"])
def test_unsafe_column_names_are_named(name):
    assert safety.unsafe_name(name)


@pytest.mark.parametrize("name", ["outlet", "sự_kiện", "event-2024", "v1.2"])
def test_safe_column_names_pass(name):
    assert safety.unsafe_name(name) == ""


def test_yaml_alias_bomb_in_the_codebook_is_refused_fast(tmp_path, capsys):
    study = write_study(tmp_path, [("v1", "vi", TINY_VI), ("e1", "en", TINY_EN)])
    levels = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    levels += [f"{c}: &{c} [{','.join([f'*{p}'] * 9)}]" for p, c in zip("abcdefgh", "bcdefghi")]
    (tmp_path / "bomb.yaml").write_text("\n".join(levels) + "\n", encoding="utf-8")
    set_study(study, STUDY.format(output="out") + '[framing]\ncodebook = "bomb.yaml"\n')
    started = time.perf_counter()
    fails_cleanly(study, capsys, "bomb.yaml line 2", "YAML alias '*a' is not allowed")
    assert time.perf_counter() - started < 30  # 9**9 expansions would take minutes and gigabytes


def test_catastrophic_boilerplate_rule_is_bounded_and_named(tmp_path, capsys, monkeypatch):
    from analysis.text import clean

    monkeypatch.setattr(clean, "RULE_TIMEOUT_SECONDS", 0.05)
    study = write_study(tmp_path, [("v1", "vi", TINY_VI + "a" * 40 + "!\n"), ("e1", "en", TINY_EN)])
    (tmp_path / "rules.toml").write_text(
        '[[rule]]\nname = "evil"\nkind = "drop_line"\npattern = \'(a|aa)+$\'\n', encoding="utf-8"
    )
    set_study(study, STUDY.format(output="out") + '[text]\nboilerplate = "rules.toml"\n')
    fails_cleanly(study, capsys, "rules.toml rule 'evil'", "took more than 0.05 s on line 3", "v1.txt", "nested")
    status, err = run_cli(study, capsys, "prepare")  # prepare may keep what it finished in the cache
    assert (
        status == 2 and len(err.splitlines()) == 1 and "rule 'evil': took more than 0.05 s on line 3 of v1.txt" in err
    )


WORKER_SCRIPT = textwrap.dedent(
    """
    import os, sys, time
    from pathlib import Path
    import analysis.text.prepare as prep
    from analysis.corpus.documents import Document

    pids = Path(sys.argv[1])

    def stuck(document, preparation):  # a worker busy on a batch when the parent dies
        with open(pids, "a") as handle:
            handle.write(f"{os.getpid()}\\n")
        time.sleep(600)

    prep.prepare_document = stuck
    docs = [Document(f"d{i}", "en", "Text number %d here." % i) for i in range(8)]
    prep.prepare_corpus(docs, prep.Preparation("", "none", (), ()), cache=None, workers=2)
    """
)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie waiting for its reaper counts as gone
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
    except OSError:
        return True


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="process inspection via /proc")
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
def test_workers_exit_when_the_parent_dies(tmp_path, sig):
    pids = tmp_path / "pids"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    parent = subprocess.Popen([sys.executable, "-c", WORKER_SCRIPT, str(pids)], env=env, cwd=tmp_path)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and (not pids.is_file() or len(set(pids.read_text().split())) < 2):
            time.sleep(0.1)
        workers = sorted({int(p) for p in pids.read_text().split()})
        assert len(workers) == 2 and all(_alive(p) for p in workers)
    finally:
        parent.send_signal(sig)
        parent.wait(timeout=30)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and any(_alive(p) for p in workers):
        time.sleep(0.1)
    left = [p for p in workers if _alive(p)]
    for pid in left:
        os.kill(pid, signal.SIGKILL)
    assert not left, "workers outlived their parent"


def test_scheduler_is_documented_as_trusted_cluster_only():
    for path in (ROOT / "README.md", ROOT / "study.toml"):
        text = path.read_text(encoding="utf-8")
        paragraph = text[text.index("scheduler =") :].split("\n\n")[0].lower()
        assert "trusted cluster" in paragraph and "pickle" in paragraph, path


# ---------------------------------------------------------------------------- the make fragment


@pytest.mark.skipif(shutil.which("make") is None, reason="GNU make not installed")
def test_make_rules_hold_file_names_with_hash_colon_dollar_and_space(tmp_path):
    study = write_study(tmp_path, [("v1", "vi", TINY_VI), ("e1", "en", TINY_EN)])
    corpus = tmp_path / "corpus"
    names = ["a#b.txt", "at 10:30.txt", "e$f.txt", "g h.txt"]
    for old, new in zip(("v1.txt", "e1.txt", "v1.txt", "e1.txt"), names):
        shutil.copy(corpus / old, corpus / new)
    rows = [f"n{i},{name},{'vi' if i % 2 == 0 else 'en'},o,e," for i, name in enumerate(names)]
    (corpus / "metadata.csv").write_text(
        "doc_id,file,language,outlet,event,title\n" + "\n".join(rows) + "\n", encoding="utf-8"
    )
    assert sources.read_corpus(aio.read_study(study)).doc_ids == ["n0", "n1", "n2", "n3"]
    fragment = subprocess.run(
        [sys.executable, "-m", "analysis.study.makefile", "--study", str(study)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
    ).stdout
    (tmp_path / "study.mk").write_text(fragment, encoding="utf-8")
    makefile = tmp_path / "Makefile"
    makefile.write_text(f"PY := echo\nVENV_STAMP :=\nRESOURCES :=\ninclude {tmp_path / 'study.mk'}\n", encoding="utf-8")
    done = subprocess.run(
        ["make", "-f", str(makefile), "-n", "prepare"], capture_output=True, text=True, cwd=ROOT, check=False
    )
    assert done.returncode == 0, done.stderr  # every input was found under its real name
    assert "analysis prepare --study" in done.stdout
    assert "No rule" not in done.stderr


def test_file_name_a_make_rule_cannot_hold_is_refused_at_validation(tmp_path, capsys):
    study = write_study(tmp_path, [("v1", "vi", TINY_VI), ("e1", "en", TINY_EN)])
    corpus = tmp_path / "corpus"
    (corpus / "v1.txt").rename(corpus / "v=1.txt")
    meta = corpus / "metadata.csv"
    meta.write_text(meta.read_text().replace("v1.txt", "v=1.txt"))
    fails_cleanly(study, capsys, "metadata.csv line 2", "'v=1.txt' has '='", "rename the file")
    assert (
        subprocess.run(
            [sys.executable, "-m", "analysis.study.makefile", "--study", str(study)],
            capture_output=True,
            cwd=ROOT,
            check=False,
        ).returncode
        == 2
    )


# ------------------------------------------------------------------------------- the metadata


def write_metadata(study: Path, text: str | bytes) -> None:
    target = study.parent / "corpus" / "metadata.csv"
    target.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))


def test_metadata_with_only_the_required_columns_runs(tmp_path, capsys, caplog):
    study = write_study(tmp_path, [("v1", "vi", TINY_VI), ("e1", "en", TINY_EN)])
    write_metadata(study, "doc_id,file,language,category\nv1,v1.txt,vi,x\ne1,e1.txt,en,y\n")
    set_study(
        study,
        STUDY.format(output="out").replace('group_by = ["language"]', 'group_by = ["language", "outlet", "event"]'),
    )
    with caplog.at_level(logging.WARNING, logger="analysis"):
        assert main(["prepare", "--study", str(study), "--quiet"]) == 0
    summary = (tmp_path / "out" / "corpus_summary.csv").read_text(encoding="utf-8")
    assert "(no outlet column)" in summary
    assert main(["frequencies", "--study", str(study), "--quiet"]) == 0
    by_event = (tmp_path / "out" / "top_terms_by_event.csv").read_text(encoding="utf-8")
    assert "(no event column)" in by_event and "hợp_tác" in by_event


def test_metadata_with_a_header_and_no_rows(tmp_path, capsys):
    study = write_study(tmp_path, [("v1", "vi", TINY_VI)])
    write_metadata(study, "doc_id,file,language,outlet\n")
    fails_cleanly(study, capsys, "metadata.csv", "lists no documents")
    fails_cleanly(study, capsys, "lists no documents", stage="prepare")


@pytest.mark.parametrize("column, char", [("outlet", "\x1b"), ("title", "\x0c"), ("event", "\x7f"), ("doc_id", "\x07")])
def test_control_character_in_a_metadata_cell_names_the_line_and_column(tmp_path, capsys, column, char):
    study = write_study(tmp_path, [("v1", "vi", TINY_VI), ("e1", "en", TINY_EN)])
    row = {"doc_id": "e1", "file": "e1.txt", "language": "en", "outlet": "B", "event": "x", "title": "Talks"}
    row[column] = f"ab{char}c"
    write_metadata(
        study,
        'doc_id,file,language,outlet,event,title\nv1,v1.txt,vi,A,x,"Hợp tác\nhai dòng"\n'
        + ",".join(row.values())
        + "\n",
    )
    fails_cleanly(
        study, capsys, "metadata.csv line 4", f"control character U+{ord(char):04X} in column '{column}'", "(offset 2)"
    )


def test_metadata_doc_ids_differing_only_in_normalisation_are_a_duplicate(tmp_path, capsys):
    import unicodedata

    nfc, nfd = unicodedata.normalize("NFC", "Hòa"), unicodedata.normalize("NFD", "Hòa")
    study = write_study(tmp_path, [("v1", "vi", TINY_VI), ("e1", "en", TINY_EN)])
    write_metadata(study, f"doc_id,file,language\n{nfc},v1.txt,vi\n{nfd},e1.txt,en\n")
    fails_cleanly(study, capsys, "metadata.csv line 3", f"duplicate doc_id '{nfc}' (first on line 2)")


def test_same_file_under_two_doc_ids(tmp_path, capsys):
    study = write_study(tmp_path, [("v1", "vi", TINY_VI), ("e1", "en", TINY_EN)])
    write_metadata(study, "doc_id,file,language\nv1,v1.txt,vi\ne1,e1.txt,en\nv2,./v1.txt,vi\n")
    fails_cleanly(study, capsys, "metadata.csv line 4", "'./v1.txt' is listed again, for doc_id 'v2'", "'v1' on line 2")


def test_csv_error_after_a_multiline_title_names_the_physical_line(tmp_path, capsys):
    study = write_study(tmp_path, [("v1", "vi", TINY_VI), ("e1", "en", TINY_EN)])
    write_metadata(study, 'doc_id,file,language,title\nv1,v1.txt,vi,"Một\ntiêu đề\ndài"\ne1,e1.txt,en,a,b,c\n')
    fails_cleanly(study, capsys, "metadata.csv", "line 5 has 6 fields, the header 4")


def test_rows_after_a_multiline_title_are_labelled_by_their_physical_line(tmp_path, capsys):
    study = write_study(tmp_path, [("v1", "vi", TINY_VI), ("e1", "en", TINY_EN)])
    write_metadata(study, 'doc_id,file,language,title\nv1,v1.txt,vi,"Một\ntiêu đề"\ne1,e1.txt,xx,a\n')
    fails_cleanly(study, capsys, "metadata.csv line 4", "unknown language code 'xx'")


@pytest.mark.parametrize("sep, name", [(";", "semicolons"), ("\t", "tabs")])
def test_semicolon_and_tab_delimited_metadata_get_a_hint(tmp_path, capsys, sep, name):
    study = write_study(tmp_path, [("v1", "vi", TINY_VI), ("e1", "en", TINY_EN)])
    write_metadata(study, sep.join(["doc_id", "file", "language"]) + "\n" + sep.join(["v1", "v1.txt", "vi"]) + "\n")
    fails_cleanly(study, capsys, "metadata.csv", f"separated by {name}", "comma-separated")


def test_excel_unicode_text_export_is_named(tmp_path, capsys):
    study = write_study(tmp_path, [("v1", "vi", TINY_VI), ("e1", "en", TINY_EN)])
    write_metadata(study, "doc_id\tfile\tlanguage\r\nv1\tv1.txt\tvi\r\n".encode("utf-16"))
    fails_cleanly(study, capsys, "metadata.csv", "Excel 'Unicode text' export (UTF-16, tab-separated)", "CSV UTF-8")


# ------------------------------------------------------------------------------- the texts


def test_utf16_without_bom_decodes_when_declared(tmp_path, capsys):
    raw = TINY_VI.encode("utf-16-le")
    study = write_study(tmp_path, [("v1", "vi", raw), ("e1", "en", TINY_EN)], {"encoding": ["utf-16-le", ""]})
    corpus = sources.read_corpus(aio.read_study(study))
    assert corpus.documents[0].text == TINY_VI


def test_undeclared_utf16_is_named_with_how_to_declare_it(tmp_path, capsys):
    study = write_study(tmp_path, [("v1", "vi", TINY_VI.encode("utf-16-le")), ("e1", "en", TINY_EN)])
    fails_cleanly(
        study, capsys, "v1.txt", "looks like UTF-16-LE text without a byte-order mark", "declare encoding 'utf-16-le'"
    )


@pytest.mark.parametrize(
    "text, fragments",
    [
        (TINY_VI + "\fTrang hai.\n", ("U+000C", "form feeds")),
        ("Ông nói \x93hợp tác\x94 kinh tế.\n", ("U+0093", "cp1252")),
        ("\u200b\u200f\u2060\n", ("only invisible characters",)),
        ("Cùng chuyên mục\nHai nước hợp tác.\n", ("no text left after boilerplate removal",)),
    ],
)
def test_validate_finds_what_prepare_rejects(tmp_path, capsys, text, fragments):
    study = write_study(tmp_path, [("v1", "vi", text), ("e1", "en", TINY_EN)])
    line = fails_cleanly(study, capsys, "v1.txt", *fragments)
    status, err = run_cli(study, capsys, "prepare")  # prepare may keep what it finished in the cache
    assert status == 2 and [x for x in err.splitlines() if not x.startswith("WARNING ")] == [line.rstrip("\n")], err


def test_bidi_marks_inside_words_are_invisible():
    from analysis.text.normalize import canonical_text

    marked = "hợp\u200ftác, Wang\u200e Yi, \u2067ASEAN\u2069 \u202ekinh tế\u202c"
    assert canonical_text(marked) == "hợptác, Wang Yi, ASEAN kinh tế"


def test_dateline_rule_keeps_the_body_on_the_same_line():
    from analysis.files import RESOURCES
    from analysis.text.clean import parse_rules, remove_boilerplate

    rules = parse_rules((RESOURCES / "boilerplate.toml").read_text(encoding="utf-8"), "boilerplate.toml")
    body = " ".join(
        f"Bộ trưởng Ngoại giao hai nước đã hội đàm lần thứ {i} về hợp tác kinh tế và biên giới." for i in range(1, 9)
    )
    line = "Thái Bình (PV)-Thứ hai, ngày 18/03/2024 20:05 GMT+7 " + body
    cleaned, removals = remove_boilerplate(f"Tiêu đề\n{line}", rules, "vi")
    assert body in cleaned
    assert [(r.rule, r.kind, r.line, r.text) for r in removals] == [
        ("dateline", "drop_line_head", 2, "Thái Bình (PV)-Thứ hai, ngày 18/03/2024")
    ]
    # a long paragraph that ends in a photo credit keeps the paragraph; a long line that is all match goes
    cleaned, removals = remove_boilerplate(f"Tiêu đề\n{body} (Ảnh: TTXVN)", rules, "vi")
    assert cleaned == f"Tiêu đề\n{body}" and [(r.kind, r.text) for r in removals] == [
        ("drop_line_tail", "(Ảnh: TTXVN)")
    ]
    teaser = "Hai nước hội đàm về hợp tác kinh tế và biên giới trên đất liền " * 3
    cleaned, removals = remove_boilerplate(f"Tiêu đề\n{teaser.strip()} {teaser.strip()}\nLời dẫn.\n{body}", rules, "vi")
    assert cleaned == f"Tiêu đề\n{body}" and [r.kind for r in removals] == ["drop_line_and_next", "drop_line_and_next"]
    # a dateline line on its own is still dropped whole
    short = "Thái Bình (PV)-Thứ hai, ngày 18/03/2024 20:05 GMT+7"
    cleaned, removals = remove_boilerplate(f"Tiêu đề\n{short}\n{body}", rules, "vi")
    assert cleaned == f"Tiêu đề\n{body}" and [(r.kind, r.text) for r in removals] == [("drop_line", short)]


# ------------------------------------------------------------------------- long single lines


def test_a_long_single_line_is_segmented_in_bounded_pieces(monkeypatch):
    from analysis.text import tokens

    seen: list[int] = []
    real = tokens.SEGMENTERS["underthesea"].words

    def recording(text: str) -> list[str]:
        seen.append(len(text))
        return real(text)

    monkeypatch.setattr(tokens, "SEGMENT_CHARS", 300)
    sentences = [
        "Hai nước thúc đẩy hợp tác kinh tế.",
        "Bộ trưởng Ngoại giao hội đàm tại Hà Nội.",
        "Biên giới hòa bình, ổn định.",
    ] * 30
    line = " ".join(sentences)
    paragraphs, _ = tokens.segment_vi(line, segmenter=recording)
    assert max(seen) <= 300 and len(seen) > 1
    # the same tokens as the text with a line break at every cut
    pieces = tokens.bounded_pieces(line, 300)
    by_lines, _ = tokens.segment_vi("\n".join(pieces))

    def flat(ps):
        return [w for p in ps for s in p for w in s]

    assert flat(paragraphs) == flat(by_lines)
    assert len(paragraphs) == 1 and len(paragraphs[0]) == len(sentences)  # one paragraph, sentences intact


def test_normal_paragraphs_are_one_piece(seed_study_dir):
    # every paragraph of the seed corpus is segmented whole, exactly as before the bound
    from analysis.text.tokens import SEGMENT_CHARS, bounded_pieces

    for path in sorted((seed_study_dir / "seeds").glob("*.txt")):
        for block in path.read_text(encoding="utf-8").split("\n"):
            assert len(block) <= SEGMENT_CHARS and bounded_pieces(block.strip()) == [block.strip()]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.sampled_from(["hợp", "tác.", "kinh", "tế!", "x" * 40, "a", "“Có.”", "…"]), max_size=300),
    st.integers(10, 200),
)
def test_bounded_pieces_keep_every_word_and_the_bound(words, limit):
    from analysis.text.tokens import bounded_pieces

    block = " ".join(words)
    pieces = bounded_pieces(block, limit)
    assert all(len(p) <= limit for p in pieces) and all(pieces if block.strip() else [True])
    assert " ".join(pieces).split() == block.split() or any(len(w) > limit for w in words)


# --------------------------------------------------------------------------- the cache


def test_altered_cache_entry_is_prepared_again_and_logged(tmp_path, caplog):
    from analysis.prepared import prepared_corpus

    study_path = write_study(tmp_path, [("v1", "vi", TINY_VI), ("e1", "en", TINY_EN)])
    study = aio.read_study(study_path)
    first = [list(d.tokens()) for d in prepared_corpus(study, workers=1, progress=False).prepared]
    entries = sorted(p for p in (tmp_path / ".cache" / "prepared").rglob("*.json") if not p.name.startswith("learned-"))
    assert len(entries) == 2
    target = next(p for p in entries if "Cooperation" in p.read_text(encoding="utf-8"))
    altered = target.read_text(encoding="utf-8").replace("Cooperation", "cooperation", 1)
    json.loads(altered)  # still valid JSON: only the checksum can tell
    target.write_text(altered, encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="analysis"):
        again = [list(d.tokens()) for d in prepared_corpus(study, workers=1, progress=False).prepared]
    assert again == first and "Cooperation" in again[1]
    assert any(
        "does not match its checksum" in r.getMessage() and target.name in r.getMessage() for r in caplog.records
    )
    assert "Cooperation" in target.read_text(encoding="utf-8")  # stored again, whole
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="analysis"):
        prepared_corpus(study, workers=1, progress=False).prepared[1]
    assert not any("checksum" in r.getMessage() for r in caplog.records)


def test_cache_entries_stay_plain_json_with_their_checksum(tmp_path):
    cache = aio.PreparedCache(tmp_path)
    cache.put_text("ab12", '{"w":"Bộ_trưởng"}')
    stored = json.loads(cache.path("ab12").read_text(encoding="utf-8"))
    import hashlib

    assert stored == {"w": "Bộ_trưởng", "sha256": hashlib.sha256('{"w":"Bộ_trưởng"}'.encode()).hexdigest()}
    assert cache.get_text("ab12") == '{"w":"Bộ_trưởng"}'


# ------------------------------------------------------------------ full disks and interrupts


@pytest.mark.parametrize(
    "code, reason", [(errno.ENOSPC, "the disk is full"), (errno.EROFS, "the file system is read-only")]
)
def test_unwritable_output_folder_is_one_line(tmp_path, capsys, monkeypatch, code, reason):
    study = write_study(tmp_path, [("v1", "vi", TINY_VI), ("e1", "en", TINY_EN)])

    def refuse(*args, **kwargs):
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(aio.tempfile, "mkstemp", refuse)
    status, err = run_cli(study, capsys, "prepare")
    assert status == 2 and "Traceback" not in err and len(err.splitlines()) == 1
    assert err.startswith(f"error: {tmp_path / 'out'}: cannot write output ({reason})")
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_ctrl_c_exits_quietly_with_130(tmp_path, capsys, monkeypatch):
    from analysis import cli

    study = write_study(tmp_path, [("v1", "vi", TINY_VI), ("e1", "en", TINY_EN)])

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setitem(cli.STAGES, "prepare", ("prepare", interrupted))
    status, err = run_cli(study, capsys, "prepare")
    assert status == 130 and "Traceback" not in err and len(err.splitlines()) == 1
    assert "interrupted" in err and "kept" in err


def test_codecs_bom_constants_used_for_utf16_detection():
    from analysis.corpus.documents import utf16_kind

    assert utf16_kind(codecs.BOM_UTF16_LE + "a".encode("utf-16-le")) == "utf-16"
    assert utf16_kind("Hòa bình và hợp tác".encode("utf-16-be")) == "utf-16-be"
    assert utf16_kind(b"plain ascii") == ""
    assert utf16_kind(bytes(range(256))) == ""


CTRL_C_SCRIPT = textwrap.dedent(
    """
    import os, signal, sys, time
    from pathlib import Path
    import analysis.text.prepare as prep
    from analysis.cli import main

    # as from a terminal: Ctrl-C raises KeyboardInterrupt (a child inherits an ignored SIGINT from its parent)
    signal.signal(signal.SIGINT, signal.default_int_handler)

    pids = Path(sys.argv[2])

    # every batch takes long: Ctrl-C arrives mid-run (the segmentation every prepared document goes
    # through, whether prepare_document cleans it or the key pass's cleaning is reused)
    def slow(document, preparation, cleaned, removals):
        with open(pids, "a") as handle:
            handle.write(f"{os.getpid()}\\n")
        time.sleep(600)

    prep._segment_cleaned = slow
    sys.exit(main(["prepare", "--study", sys.argv[1], "--workers", "2", "--quiet"]))
    """
)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="process groups and /proc")
def test_ctrl_c_during_parallel_prepare_exits_130_without_traceback(tmp_path):
    docs = [(f"v{i}", "vi", TINY_VI) for i in range(4)] + [
        (f"e{i}", "en", TINY_EN + f"Number {i}.\n") for i in range(4)
    ]
    study = write_study(tmp_path, docs)
    pids = tmp_path / "pids"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    run = subprocess.Popen(
        [sys.executable, "-c", CTRL_C_SCRIPT, str(study), str(pids)],
        env=env,
        cwd=tmp_path,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and (not pids.is_file() or len(set(pids.read_text().split())) < 2):
        time.sleep(0.1)
    workers = sorted({int(p) for p in pids.read_text().split()})
    os.killpg(run.pid, signal.SIGINT)  # what Ctrl-C in a terminal does: the whole foreground group
    try:
        _, raw = run.communicate(timeout=60)
    finally:
        for pid in workers:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
    err = raw.decode()
    assert run.returncode == 130, err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err
    shown = [line.rsplit("\r", 1)[-1] for line in err.split("\n")]  # a transient progress bar is redrawn with \r
    assert [line for line in shown if line.strip()] == [
        (
            "interrupted: prepare stopped; finished outputs and prepared documents are kept, "
            "nothing is half-written (run again to resume)"
        )
    ]
    assert not any(_alive(pid) for pid in workers)
    assert not (tmp_path / "out").exists()


def test_full_cache_disk_is_one_line_naming_the_cache_folder(tmp_path, capsys, monkeypatch):
    study = write_study(tmp_path, [("v1", "vi", TINY_VI), ("e1", "en", TINY_EN)])
    real_open = os.open

    def full(path, *args, **kwargs):
        if str(path).endswith(".tmp") and "prepared" in str(path):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(aio.os, "open", full)
    status, err = run_cli(study, capsys, "prepare")
    assert status == 2 and "Traceback" not in err and len(err.splitlines()) == 1, err
    assert err.startswith(f"error: {tmp_path / '.cache'}: cannot write output (the disk is full)")
    assert not list((tmp_path / ".cache").rglob("*.json")) and not (tmp_path / "out").exists()


def test_default_boilerplate_rules_take_linear_time_on_a_50_mb_line(monkeypatch):
    """A whole article on one repetitive line: the built-in related-teaser rule (a headline printed
    twice) once compared every prefix with the rest of the line (a backreference: quadratic, 4 s
    on 3 MB, then refused as the user's backtracking); bounded by a length look-ahead it fails in
    constant time. The tightened limit stops any rule that is not linear; a real teaser is still cut."""
    from analysis.files import RESOURCES
    from analysis.text import clean

    rules = clean.parse_rules((RESOURCES / "boilerplate.toml").read_text(encoding="utf-8"), "boilerplate.toml")
    teaser = [r for r in rules if r.name == "related-teaser"]
    monkeypatch.setattr(clean, "RULE_TIMEOUT_SECONDS", 0.5)
    monkeypatch.setattr(clean, "RULE_SECONDS_PER_MB", 0.05)  # 50 MB: 3 s at most for the rule
    sentence = "Hai bên nhất trí tăng cường hợp tác. "
    line = sentence * (50_000_000 // len(sentence))
    assert clean.remove_boilerplate(line, tuple(teaser), "vi")[1] == []
    monkeypatch.setattr(clean, "RULE_SECONDS_PER_MB", 0.2)
    assert clean.remove_boilerplate(sentence * (4_000_000 // len(sentence)), rules, "vi")[1] == []  # every rule, 4 MB
    headline = "Việt Nam và Trung Quốc ký kết nhiều văn kiện hợp tác"
    text = f"Đầu bài.\n{headline} {headline}\nLời dẫn của bài liên quan.\nThân bài."
    cleaned, removals = clean.remove_boilerplate(text, tuple(teaser), "vi")
    assert cleaned == "Đầu bài.\nThân bài." and [r.line for r in removals] == [2, 3]


def test_a_300_character_kwic_term_gets_a_file_name_the_file_system_takes(tmp_path, capsys):
    """300 Vietnamese characters are up to 900 bytes in UTF-8; a file name holds 255. The slug is
    cut and keeps the term's hash, so the table is written (once failed as a full disk)."""
    from analysis.study.outputs import MAX_SLUG_BYTES, kwic_stems

    long_term = "hợp_tác_" * 37 + "biển"  # 300 characters
    study = write_study(tmp_path, [("v1", "vi", TINY_VI), ("e1", "en", TINY_EN)])
    set_study(study, STUDY.format(output="out").replace("group_by", f'kwic_terms = ["{long_term}"]\ngroup_by'))
    for stage in ("prepare", "frequencies"):
        assert run_cli(study, capsys, stage)[0] == 0
    stem = kwic_stems([long_term])[long_term]
    assert len(stem.encode("utf-8")) <= len("kwic_") + MAX_SLUG_BYTES and stem.startswith("kwic_hợp_tác_hợp_tác")
    assert (tmp_path / "out" / f"{stem}.csv").is_file() and (tmp_path / "out" / f"{stem}.md").is_file()
    assert kwic_stems([long_term, long_term + "x"])[long_term] != kwic_stems([long_term + "x"])[long_term + "x"]


@pytest.mark.skipif(shutil.which("make") is None, reason="GNU make not installed")
def test_concurrent_makes_build_the_study_fragment_each_in_its_own_temporary_file(tmp_path):
    """Two ``make`` runs of one study at once: each writes the fragment to a temporary file named by
    its shell's process id, then renames it (once one shared ``.tmp`` was moved away under the other)."""
    study = write_study(tmp_path, [("v1", "vi", TINY_VI), ("e1", "en", TINY_EN)])
    set_study(study, STUDY.format(output="out"))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = ["make", "-s", "-f", str(ROOT / "Makefile"), f"PYTHON={sys.executable}", ".make/study.toml.mk"]
    runs = [
        subprocess.Popen(command, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    results = [(run.wait(timeout=120), run.stderr.read()) for run in runs]
    assert all(status == 0 for status, _ in results), results
    fragment = (tmp_path / ".make" / "study.toml.mk").read_text(encoding="utf-8")
    assert "OUT := out" in fragment and not list((tmp_path / ".make").glob("*.tmp"))


# ---------------------------------------------------------------------- spreadsheet formula injection

FORMULA_CELL = __import__("re").compile(r"[=+\-@\t\r]")
PLAIN_NUMBER = __import__("re").compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def live_formulas(folder: Path) -> list[tuple[str, str]]:
    """Every (file, cell) of the CSV files under ``folder`` that a spreadsheet would run."""
    import csv
    import gzip

    found = []
    for path in sorted([*folder.rglob("*.csv"), *folder.rglob("*.csv.gz")]):
        opener = gzip.open if path.name.endswith(".gz") else open
        with opener(path, "rt", encoding="utf-8", newline="") as handle:
            for row in csv.reader(handle):
                found += [(path.name, c) for c in row if FORMULA_CELL.match(c) and not PLAIN_NUMBER.fullmatch(c)]
    return found


def test_formula_leading_cells_are_neutralised_in_every_csv(tmp_path, capsys):
    """OWASP "CSV injection": ids, outlets, titles and sentences from the corpus that start with
    = + - @ stay text when a researcher opens the outputs in Excel (a leading apostrophe)."""
    import pandas as pd

    hyperlink = '=HYPERLINK("http://evil.example","x")'
    dde = "+cmd|' /C calc'!A0"
    pd.DataFrame(
        {
            "doc_id": [hyperlink, "e1"],
            "language": ["vi", "en"],
            "outlet": ["@SUM(1+1)", dde],
            "title": ["-2+3", "Title"],
            "text": [f"=1+1 là một câu.\n{TINY_VI}", f"@everyone read this.\n{TINY_EN}"],
        }
    ).to_csv(tmp_path / "articles.csv", index=False)
    study = set_study(
        tmp_path / "study.toml",
        '[corpus]\ntable = "articles.csv"\n[frequencies]\ngroup_by = ["language", "outlet"]\n'
        '[run]\noutput = "out"\ncache = ".cache"\nworkers = 1\n',
    )
    for stage in ("prepare", "frequencies"):
        assert run_cli(study, capsys, stage)[0] == 0
    out = tmp_path / "out"
    assert live_formulas(out) == []
    prepared = pd.read_csv(out / "preparation_by_document.csv", dtype=str, keep_default_na=False)
    assert prepared["doc_id"].tolist() == ["'" + hyperlink, "e1"]
    summary = (out / "corpus_summary.csv").read_text(encoding="utf-8")
    assert "vi,'@SUM(1+1)," in summary and "en,'+cmd|' /C calc'!A0," in summary
    # the word tables: neutralised in the .csv.gz, the values themselves in the .parquet
    import gzip

    from analysis.files import read_output

    by_outlet = gzip.decompress((out / "term_frequencies_by_outlet.csv.gz").read_bytes()).decode("utf-8")
    assert "\noutlet,'@SUM(1+1)," in by_outlet and ",@SUM" not in by_outlet
    assert set(read_output(out / "term_frequencies_by_outlet.parquet")["group"]) == {"@SUM(1+1)", dde}
    assert set(read_output(out / "term_frequencies_by_outlet.csv.gz")["group"]) == {"@SUM(1+1)", dde}


def test_neutralised_cells_round_trip_through_csv_and_xlsx(tmp_path):
    import pandas as pd

    pytest.importorskip("openpyxl")
    from analysis.paper.tables import restore_formulas

    table = pd.DataFrame(
        {"unit_id": ["=1+1", "'=x", "-0.5", "- a", "@a", "\tb", "ok"], "code": ["1", "0", "", "1", "0", "1", "0"]}
    )
    aio.write_csv(tmp_path / "coding_sheet_coder1.csv", table)
    (tmp_path / "coding_sheet_coder1.xlsx").write_bytes(aio.xlsx_bytes(table))
    import openpyxl

    cells = [c.value for c in openpyxl.load_workbook(tmp_path / "coding_sheet_coder1.xlsx").active["A"]]
    assert cells[1:3] == ["'=1+1", "''=x"] and all(
        c.data_type != "f"
        for row in openpyxl.load_workbook(tmp_path / "coding_sheet_coder1.xlsx").active.iter_rows()
        for c in row
    )
    for name in ("coding_sheet_coder1.csv", "coding_sheet_coder1.xlsx"):
        assert aio.read_coding_sheet(tmp_path / name)["unit_id"].tolist() == table["unit_id"].tolist(), name
    plain = table.iloc[[2, 3, 6]]
    assert restore_formulas(plain) is plain  # nothing to restore: the same object, no copy


@pytest.mark.parametrize("form", ["csv", "jsonl-mixed"])
def test_a_flipped_byte_in_the_cache_index_is_detected_and_the_source_read_again(tmp_path, capsys, caplog, form):
    """The cache's table index (Arrow for column-wise tables, JSON Lines for records of differing
    keys) has its SHA-256 beside it: one flipped byte in an outlet no longer renames the outlet
    in every output (``unstated-A`` -> ``unstated-@``); the source is read again, with a warning."""
    import pandas as pd

    rows = [
        {"doc_id": "v1", "language": "vi", "outlet": "unstated-A", "text": TINY_VI},
        {"doc_id": "e1", "language": "en", "outlet": "unstated-B", "text": TINY_EN},
    ]
    if form == "csv":
        name = "articles.csv"
        pd.DataFrame(rows).to_csv(tmp_path / name, index=False)
    else:  # a JSON Lines table whose records have different keys is indexed record by record
        name = "articles.jsonl"
        rows[1]["section"] = "world"
        (tmp_path / name).write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    study = set_study(
        tmp_path / "study.toml",
        f'[corpus]\ntable = "{name}"\n[frequencies]\ngroup_by = ["language", "outlet"]\n'
        '[run]\noutput = "out"\ncache = ".cache"\nworkers = 1\n',
    )
    assert run_cli(study, capsys, "prepare")[0] == 0
    indexes = [p for p in (tmp_path / ".cache" / "texts").glob("*.index.*") if not p.name.endswith(".sha256")]
    assert len(indexes) == 1 and indexes[0].with_name(indexes[0].name + ".sha256").is_file()
    data = indexes[0].read_bytes()
    assert data.count(b"unstated-A") == 1
    indexes[0].write_bytes(data.replace(b"unstated-A", b"unstated-@"))
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        assert run_cli(study, capsys, "frequencies")[0] == 0
    assert any("does not match its checksum" in r.getMessage() for r in caplog.records)
    table = pd.read_csv(tmp_path / "out" / "top_terms_by_outlet.csv", dtype=str)
    assert set(table["group"]) == {"unstated-A", "unstated-B"}
    assert indexes[0].read_bytes().count(b"unstated-A") == 1  # the index written again, whole


@pytest.mark.parametrize("extreme", ["0001-01-01", "2999-12-31"])
def test_time_series_over_an_extreme_date_is_refused_in_one_line_not_run_for_hours(tmp_path, capsys, extreme):
    """One mistyped date among 2024's articles made ``[time] freq = "day"`` draw 739,000 daily
    periods (killed after 4 minutes); the span is counted before anything runs."""
    docs = [(f"v{i}", "vi", TINY_VI) for i in range(3)] + [("e1", "en", TINY_EN)]
    study = write_study(tmp_path, docs, {"date": ["2024-04-01", "2024-04-02", extreme, "2024-04-03"]})
    set_study(study, STUDY.format(output="out") + '[time]\nfreq = "day"\nby = "language"\nmeasures = ["frames"]\n')
    start = time.monotonic()
    line = fails_cleanly(study, capsys, "[time] freq = 'day' makes", f"{extreme} (document v2)", stage="design")
    assert time.monotonic() - start < 60 and "correct a mistyped date" in line
    set_study(study, STUDY.format(output="out") + '[time]\nfreq = "month"\nby = "language"\nmeasures = ["frames"]\n')
    if extreme.startswith("2999"):  # 11,600 months: still too many, and the fix names the date
        fails_cleanly(study, capsys, "[time] freq = 'month' makes", "correct a mistyped date", stage="design")


def _table_study(folder: Path, name: str) -> Path:
    return set_study(
        folder / "study.toml",
        f'[corpus]\ntable = "{name}"\n[frequencies]\ngroup_by = ["language"]\n[run]\noutput = "out"\nworkers = 1\n',
    )


@pytest.mark.parametrize("where", ["text", "title"])
@pytest.mark.parametrize("mixed_keys", [False, True])
def test_a_lone_surrogate_json_escape_is_one_line(tmp_path, capsys, where, mixed_keys):
    """``"\\ud800"`` is valid JSON and half a character: once a UnicodeEncodeError traceback."""
    records = [
        {"doc_id": "a", "language": "vi", "title": "Tin", "text": TINY_VI},
        {"doc_id": "b", "language": "en", "title": "News", "text": TINY_EN},
    ]
    if mixed_keys:  # read record by record
        records[1]["section"] = "world"
    lines = [json.dumps(r, ensure_ascii=True) for r in records]
    lines[1] = lines[1].replace(
        '"News"' if where == "title" else '"The two', '"\\ud800News"' if where == "title" else '"\\ud800The two'
    )
    (tmp_path / "a.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    study = _table_study(tmp_path, "a.jsonl")
    column = "the text" if where == "text" else "column 'title'"
    for stage in ("validate", "prepare"):
        fails_cleanly(
            study, capsys, "a.jsonl record 2", f"lone surrogate U+D800 in {column} of doc_id 'b'", stage=stage
        )


def test_a_corrupt_parquet_page_is_one_line(tmp_path, capsys):
    import pandas as pd

    pd.DataFrame({"doc_id": ["a", "b"], "language": ["vi", "en"], "text": [TINY_VI * 50, TINY_EN * 50]}).to_parquet(
        tmp_path / "a.parquet"
    )
    data = bytearray((tmp_path / "a.parquet").read_bytes())
    data[200:400] = bytes(b ^ 0xFF for b in data[200:400])  # inside the first data page
    (tmp_path / "a.parquet").write_bytes(bytes(data))
    study = _table_study(tmp_path, "a.parquet")
    for stage in ("validate", "prepare"):
        fails_cleanly(
            study, capsys, "a.parquet: damaged Parquet data after record 0", "write the Parquet file again", stage=stage
        )


# ------------------------------------------------------------------------------------- Dask


@pytest.mark.parametrize("address", ["my cluster", "tcp://host:99999", "http://x:8786", "tcp://"])
def test_a_scheduler_that_is_not_an_address_is_refused_when_the_study_is_read(tmp_path, capsys, address):
    study = write_study(tmp_path, [("v1", "vi", TINY_VI), ("e1", "en", TINY_EN)])
    set_study(study, STUDY.format(output="out") + f'scheduler = "{address}"\n')
    fails_cleanly(study, capsys, "[run] scheduler", "is not a scheduler address (tcp://host:8786)")


def _silent_port():
    """A listening socket that accepts and never speaks: what an HTTP server is to a Dask client,
    which never sends a request first."""
    import socket
    import threading

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    held = []

    def serve():
        while True:
            try:
                connection, _ = server.accept()
            except OSError:
                return
            held.append(connection)

    threading.Thread(target=serve, daemon=True).start()
    return server, held


def test_a_port_that_never_answers_as_a_scheduler_is_one_line_in_bounded_time(tmp_path, capsys, monkeypatch):
    """Dask's client timeout covers the connection, not the handshake: such a port hung the run
    (killed at 150 s). The handshake is awaited with a timeout (shortened here)."""
    pytest.importorskip("distributed")
    from analysis.text import prepare

    monkeypatch.setattr(prepare, "SCHEDULER_TIMEOUT", 1)
    monkeypatch.setattr(prepare.probe_scheduler, "__defaults__", (1,))
    server, held = _silent_port()
    try:
        study = write_study(tmp_path, [("v1", "vi", TINY_VI), ("e1", "en", TINY_EN)])
        port = server.getsockname()[1]
        set_study(study, STUDY.format(output="out") + f'scheduler = "tcp://127.0.0.1:{port}"\n')
        start = time.monotonic()
        status, err = run_cli(study, capsys, "prepare")
        assert status == 2 and "Traceback" not in err and time.monotonic() - start < 60
        assert "did not answer as a Dask scheduler within 1 s" in err and len(err.splitlines()) == 1
    finally:
        server.close()
        for connection in held:
            connection.close()


def test_a_scheduler_without_workers_is_one_line(tmp_path, capsys, monkeypatch):
    distributed = pytest.importorskip("distributed")
    from analysis.text import prepare

    monkeypatch.setattr(prepare, "SCHEDULER_TIMEOUT", 2)
    with distributed.LocalCluster(n_workers=0, processes=False, protocol="tcp://", dashboard_address=None) as cluster:
        study = write_study(tmp_path, [("v1", "vi", TINY_VI), ("e1", "en", TINY_EN)])
        set_study(study, STUDY.format(output="out") + f'scheduler = "{cluster.scheduler_address}"\n')
        status, err = run_cli(study, capsys, "prepare")
    assert status == 2 and "Traceback" not in err
    assert "has no worker after 2 s" in err and "dask worker" in err


# ------------------------------------------------------------------------------ the cache


@pytest.mark.parametrize(
    "code, reason, nth", [(errno.EACCES, "no permission to write there", 1), (errno.ENOSPC, "the disk is full", 2)]
)
def test_an_unwritable_cache_while_reading_a_table_is_one_line_and_leaves_no_temporary_pack(
    tmp_path, capsys, monkeypatch, code, reason, nth
):
    """A read-only or full cache while a table's texts go to their pack: once an OSError traceback
    that left megabytes of temporary packs behind."""
    import builtins

    import pandas as pd

    pd.DataFrame({"doc_id": ["a", "b"], "language": ["vi", "en"], "text": [TINY_VI, TINY_EN]}).to_csv(
        tmp_path / "a.csv", index=False
    )
    study = _table_study(tmp_path, "a.csv")
    real_open, opened = builtins.open, []

    def refusing(path, *args, **kwargs):
        if str(path).endswith(".tmp") and "texts" in str(path):
            opened.append(path)
            if len(opened) >= nth:  # 1: the pack itself; 2: its index
                raise OSError(code, os.strerror(code), str(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(sources, "open", refusing, raising=False)
    status, err = run_cli(study, capsys, "prepare")
    lines = [line for line in err.splitlines() if not line.startswith("WARNING ")]
    assert status == 2 and "Traceback" not in err and len(lines) == 1, err
    assert lines[0].startswith(f"error: {tmp_path / '.cache' / 'texts'}: cannot write the cache ({reason})")
    assert not [p for p in tmp_path.rglob("*") if p.is_file() and ".cache" in p.parts], "temporary packs left"


@pytest.mark.parametrize("entry", ["prepared", "pack"])
def test_a_cache_entry_replaced_by_a_folder_is_one_line(tmp_path, capsys, entry):
    import pandas as pd

    pd.DataFrame({"doc_id": ["a", "b"], "language": ["vi", "en"], "text": [TINY_VI, TINY_EN]}).to_csv(
        tmp_path / "a.csv", index=False
    )
    study = _table_study(tmp_path, "a.csv")
    assert run_cli(study, capsys, "prepare")[0] == 0
    if entry == "prepared":
        target = next(p for p in (tmp_path / ".cache" / "prepared").rglob("*.json") if "learned" not in p.name)
        fragment = "there is a folder, not a file: remove it"
    else:
        target = next((tmp_path / ".cache" / "texts").glob("*.pack"))
        fragment = "cannot write the cache (a cache entry is a folder)"
    target.unlink()
    target.mkdir()
    status, err = run_cli(study, capsys, "prepare")
    assert status == 2 and "Traceback" not in err and fragment in err, err
    assert not list((tmp_path / ".cache").rglob("*.tmp"))


def test_make_help_lists_every_stage():
    """``make help`` lists the targets with a ``##`` comment: design, equivalence and manifest were missing."""
    import re

    helped = set(re.findall(r"(?m)^([a-z][a-z-]*):.*## ", (ROOT / "Makefile").read_text(encoding="utf-8")))
    from analysis.study.outputs import STAGE_ORDER

    assert {*STAGE_ORDER, "manifest", "appendix", "all", "clean", "test"} <= helped


def test_validate_refuses_a_parallel_sample_without_vi_txt(tmp_path, capsys):
    """``validate`` said ok to an ``[equivalence] parallel`` folder holding only en.txt; the
    equivalence stage then stopped. It reads the sample as the stage does."""
    study = write_study(tmp_path, [("v1", "vi", TINY_VI), ("e1", "en", TINY_EN)])
    (tmp_path / "parallel").mkdir()
    (tmp_path / "parallel" / "en.txt").write_text("China and Vietnam agreed.\n", encoding="utf-8")
    set_study(study, STUDY.format(output="out") + '[equivalence]\nparallel = "parallel"\n')
    fails_cleanly(study, capsys, "parallel/vi.txt: file not found in the parallel sample folder")
