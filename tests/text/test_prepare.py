"""Scaling the preparation stage (issue 6): workers, Dask, the lazy stream, the cache.

Small on purpose (about a hundred short documents cut from the seed articles): the speed and
memory goals live in ``benchmarks/benchmark.py``, never in timed tests.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest

from analysis import files as aio
from analysis.corpus import folder, sources
from analysis.corpus.documents import Document
from analysis.errors import InputError
from analysis.prepared import load_preparation, prepared_corpus
from analysis.text import prepare as prep_mod
from analysis.text.prepare import PreparedSequence, prepare_corpus, resolve_workers
from tests.conftest import ROOT, SEEDS, TINY_EN, TINY_VI, write_study


def seed_documents() -> list[Document]:
    """About a hundred short documents: the seed articles cut into single sentences."""
    from analysis.text.clean import parse_rules, remove_boilerplate

    rules = parse_rules((ROOT / "analysis" / "resources" / "boilerplate.toml").read_text(encoding="utf-8"), "rules")
    metadata = {
        row.split(",")[0]: row.split(",")[2]
        for row in (SEEDS / "metadata.csv").read_text(encoding="utf-8").splitlines()[1:]
    }
    documents = []
    for path in sorted(SEEDS.glob("*.txt")):
        doc_id, language = path.name[:3], metadata[path.name[:3]]
        sentences = [s for s in re.split(r"(?<=[.!?])\s+", path.read_text(encoding="utf-8")) if len(s.split()) > 4]
        # Pieces that are nothing but site chrome ("Source Comment (0)") would be rejected.
        sentences = [s for s in sentences if remove_boilerplate(s, rules, language)[0].strip()]
        for n, text in enumerate(sentences):
            documents.append(Document(f"{doc_id}-{n:03d}", language, text, {"file": f"{doc_id}-{n:03d}.txt"}))
    return documents


DOCS = seed_documents()


@pytest.fixture(scope="module")
def preparation():
    return load_preparation(aio.read_study(ROOT / "study.toml"))


@pytest.fixture(scope="module")
def serial(preparation):
    """The reference: every document prepared in this process, no cache."""
    return prepare_corpus(DOCS, preparation, cache=None, workers=1)


def cache_bytes(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((folder / "prepared").rglob("*.json"))}


class CountingPrepare:
    """Wraps the segmentation every prepared document goes through (``_segment_cleaned``, after
    ``prepare_document``'s cleaning or the cleaning the key pass kept; serial runs call it in this
    process) and counts the calls."""

    def __init__(self, monkeypatch):
        self.calls: list[str] = []
        original = prep_mod._segment_cleaned

        def counted(document, preparation, cleaned, removals):
            self.calls.append(document.doc_id)
            return original(document, preparation, cleaned, removals)

        monkeypatch.setattr(prep_mod, "_segment_cleaned", counted)


def test_fixture_corpus_is_small_but_bilingual():
    assert 60 <= len(DOCS) <= 300
    assert {d.language for d in DOCS} == {"vi", "en"}


def test_parallel_result_equals_serial_result(preparation, serial, tmp_path):
    parallel = prepare_corpus(DOCS, preparation, cache=None, workers=2)
    assert isinstance(parallel, list)
    assert [d.doc_id for d in parallel] == [d.doc_id for d in DOCS]
    assert parallel == serial
    # Same bytes in the cache, whichever route prepared them.
    prepare_corpus(DOCS, preparation, cache=aio.PreparedCache(tmp_path / "one"), workers=1)
    prepare_corpus(DOCS, preparation, cache=aio.PreparedCache(tmp_path / "two"), workers=2)
    one, two = cache_bytes(tmp_path / "one"), cache_bytes(tmp_path / "two")
    assert len(one) == len({prep_mod.document_key(d, preparation) for d in DOCS})
    assert one == two


def test_prepared_tokens_are_real_segmentation(serial):
    # Not a vacuous equality of two empty results: Vietnamese words are joined, English kept whole.
    vi_tokens = {t for d in serial if d.language == "vi" for t in d.tokens()}
    en_tokens = {t for d in serial if d.language == "en" for t in d.tokens()}
    assert {"Bộ_trưởng", "hợp_tác"} <= vi_tokens
    assert {"Wang Yi", "China"} <= en_tokens


def test_streaming_sequence_behaves_like_a_list(preparation, serial, tmp_path):
    cache = aio.PreparedCache(tmp_path)
    seq = prepare_corpus(DOCS, preparation, cache=cache, workers=1)
    assert isinstance(seq, PreparedSequence) and isinstance(seq, Sequence)
    assert len(seq) == len(serial)
    assert seq[0] == serial[0] and seq[-1] == serial[-1] and seq[17] == serial[17]
    assert seq[3:9] == serial[3:9] and seq[::-7] == serial[::-7] and seq[5:2] == []
    assert list(seq) == serial and list(seq) == serial  # re-iterable, not a generator
    assert seq == serial and serial == list(seq)
    assert list(reversed(seq)) == serial[::-1]
    assert seq.index(serial[10]) == 10 and serial[4] in seq
    with pytest.raises(IndexError):
        seq[len(serial)]
    with pytest.raises(IndexError):
        seq[-len(serial) - 1]
    with pytest.raises(TypeError):
        seq["0"]
    # Random access is served by a small LRU, not by holding every document.
    for i in range(len(seq)):
        seq[i]
    assert len(seq._lru) == 32 < len(seq)


def test_sequence_reads_lazily_and_repairs_a_lost_entry(preparation, serial, tmp_path, monkeypatch):
    cache = aio.PreparedCache(tmp_path)
    seq = prepare_corpus(DOCS, preparation, cache=cache, workers=1)
    lost = cache.path(seq.keys[5])
    lost.unlink()
    cache.path(seq.keys[6]).write_text("{broken", encoding="utf-8")
    counter = CountingPrepare(monkeypatch)
    assert list(seq) == serial  # read at iteration time, so the loss is seen and repaired
    assert counter.calls == [DOCS[5].doc_id, DOCS[6].doc_id]
    assert lost.is_file() and json.loads(cache.path(seq.keys[6]).read_text(encoding="utf-8"))["paragraphs"]
    assert list(seq) == serial and len(counter.calls) == 2


def test_identical_texts_are_prepared_once_and_keep_their_own_ids(preparation, tmp_path, monkeypatch):
    docs = [Document("a", "vi", TINY_VI), Document("b", "vi", TINY_VI), Document("c", "en", TINY_EN)]
    counter = CountingPrepare(monkeypatch)
    seq = prepare_corpus(docs, preparation, cache=aio.PreparedCache(tmp_path), workers=1)
    assert counter.calls == ["a", "c"]
    assert [d.doc_id for d in seq] == ["a", "b", "c"]
    assert seq[0].paragraphs == seq[1].paragraphs
    in_memory = prepare_corpus(docs, preparation, cache=None, workers=2)
    assert [d.doc_id for d in in_memory] == ["a", "b", "c"] and in_memory == list(seq)


def test_adding_documents_prepares_only_the_new_ones(preparation, tmp_path, monkeypatch):
    cache = aio.PreparedCache(tmp_path)
    counter = CountingPrepare(monkeypatch)
    prepare_corpus(DOCS[:40], preparation, cache=cache, workers=1)
    assert len(counter.calls) == 40
    prepare_corpus(DOCS[:40], preparation, cache=cache, workers=1)
    assert len(counter.calls) == 40  # nothing new
    added = prepare_corpus(DOCS[:43], preparation, cache=cache, workers=1)
    assert counter.calls[40:] == [d.doc_id for d in DOCS[40:43]]
    assert len(added) == 43


def _study(
    tmp_path: Path,
    text: str = "",
    units: str = "document",
    top_n: int = 5,
    stopwords: str = "",
    rules: str = "",
    phrases: str = "",
    segmenter: str = "underthesea",
) -> Path:
    docs = [(f"v{i}", "vi", line) for i, line in enumerate(TINY_VI.splitlines() * 3)] + [("e1", "en", TINY_EN)]
    return write_study(
        tmp_path / "study",
        docs,
        study_text={
            "corpus": {"folder": "corpus", "metadata": "corpus/metadata.csv"},
            "text": {"stopwords_vi": stopwords, "boilerplate": rules, "phrases": phrases, "segmenter": segmenter},
            "units": {"kind": units},
            "frequencies": {"group_by": ["language"], "top_n": top_n},
            "run": {"output": "out", "cache": (tmp_path / "cache").as_posix(), "workers": 1},
        },
    )


def test_settings_that_do_not_matter_prepare_nothing_and_those_that_do_reprepare(tmp_path, monkeypatch):
    (tmp_path / "stop.txt").write_text("hợp tác\n", encoding="utf-8")
    (tmp_path / "rules.toml").write_text(
        '[[rule]]\nname = "x"\nkind = "drop_line"\npattern = "^Nothing matches this$"\n', encoding="utf-8"
    )
    (tmp_path / "names.txt").write_text("kinh tế biên giới\n", encoding="utf-8")
    counter = CountingPrepare(monkeypatch)

    def run(**settings) -> int:
        before = len(counter.calls)
        ps = prepared_corpus(aio.read_study(_study(tmp_path, **settings)), progress=False)
        assert len(list(ps.prepared)) == 7
        return len(counter.calls) - before

    assert run() == 3  # two distinct Vietnamese lines (each thrice) and one English text
    assert run() == 0
    assert run(stopwords="../stop.txt", top_n=9, units="paragraph") == 0
    assert run(rules="../rules.toml") == 3  # rule text changed (even though nothing is cut)
    assert run(phrases="../names.txt") == 2  # a Vietnamese name: the English text is untouched
    assert run(segmenter="pyvi") == 2  # only the Vietnamese texts depend on the segmenter
    assert run() == 0  # back to the first settings: still cached


def test_stopwords_still_change_the_counts(tmp_path):
    # "hai" (two) is not a codebook pattern; "hợp tác" is, and codebook patterns are exempt from
    # stopword lists (issue 12: a pattern is never lost in one language), so it stays counted
    (tmp_path / "stop.txt").write_text("hai\nhợp tác\n", encoding="utf-8")
    plain = prepared_corpus(aio.read_study(_study(tmp_path)), progress=False).dtm()
    stopped = prepared_corpus(aio.read_study(_study(tmp_path, stopwords="../stop.txt")), progress=False).dtm()
    assert "hai" in plain.vocab and "hai" not in stopped.vocab and "hợp_tác" in stopped.vocab
    assert plain.counts.sum() - stopped.counts.sum() == plain.column("hai").sum() > 0


def test_bad_document_raises_input_error_from_worker_and_keeps_the_rest(preparation, tmp_path):
    docs = [*DOCS[:10], Document("bad", "en", "Source\n", {"file": "bad.txt"}), *DOCS[10:20]]
    messages = []
    for workers in (1, 2):
        cache = aio.PreparedCache(tmp_path / str(workers))
        with pytest.raises(InputError) as caught:
            prepare_corpus(docs, preparation, cache=cache, workers=workers)
        messages.append(str(caught.value))
        if workers == 1:  # serially, everything before the bad document is cached for the re-run
            cached = [prep_mod.document_key(d, preparation) in cache for d in DOCS[:20]]
            assert cached[:10] == [True] * 10 and not all(cached)  # and it stopped soon after
    assert (
        messages[0]
        == messages[1]
        == "bad.txt: no text left after boilerplate removal (fix: check the rules in the boilerplate file)"
    )


def test_worker_count(monkeypatch):
    assert resolve_workers(3) == 3
    assert resolve_workers(0) >= 1
    with pytest.raises(InputError, match="negative"):
        resolve_workers(-1)


def test_progress_bar_shows_rate_on_stderr(preparation, capsys):
    prepare_corpus(DOCS[:20], preparation, cache=None, workers=1, progress=True)
    err = capsys.readouterr().err
    assert "prepare" in err and "doc/s" in err


def test_local_dask_cluster_gives_identical_results(preparation, serial, tmp_path):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
    ) as cluster:
        cache = aio.PreparedCache(tmp_path / "dask")
        on_dask = prepare_corpus(DOCS, preparation, cache=cache, workers=1, scheduler=cluster.scheduler_address)
        assert list(on_dask) == serial
        in_memory = prepare_corpus(DOCS[:30], preparation, cache=None, scheduler=cluster.scheduler_address)
        assert in_memory == serial[:30]
        # Documents read from disk travel to the cluster with their texts (its workers may not see this disk).
        stored = stored_corpus(tmp_path / "stored", DOCS[:30])
        assert prepare_corpus(stored, preparation, cache=None, scheduler=cluster.scheduler_address) == serial[:30]
    prepare_corpus(DOCS, preparation, cache=aio.PreparedCache(tmp_path / "local"), workers=1)
    assert cache_bytes(tmp_path / "dask") == cache_bytes(tmp_path / "local")


def test_no_dask_module_is_imported_without_a_scheduler(tmp_path):
    study = write_study(tmp_path, [("v1", "vi", TINY_VI), ("v2", "vi", TINY_VI + "Thêm.\n"), ("e1", "en", TINY_EN)])
    script = (
        "import sys\n"
        "from analysis import files\n"
        "from analysis.stages import prepare as prepare_stage\n"
        f"study = files.read_study({str(study)!r})\n"
        "prepare_stage.run_prepare(study, workers=2)\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in ('dask', 'distributed'))\n"
        "print('DASK', loaded)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "DASK []" in done.stdout
    assert (tmp_path / "out" / "preparation_by_document.csv").is_file()


def test_cache_entry_write_is_atomic_and_leaves_no_temporary_file(tmp_path, monkeypatch):
    cache = aio.PreparedCache(tmp_path)
    cache.put_text("ab12", '{"w":"Bộ_trưởng"}')
    assert cache.get("ab12") == {"w": "Bộ_trưởng"}  # sub-folder made on first write, UTF-8 kept
    cache.put_text("ab12", '{"w":"hòa"}')  # replaced whole
    assert cache.get("ab12") == {"w": "hòa"}

    def fail(*args):
        raise OSError("disk full")

    monkeypatch.setattr(aio.os, "replace", fail)
    with pytest.raises(OSError, match="disk full"):
        cache.put_text("ab34", '{"w":1}')
    with pytest.raises(OSError, match="disk full"):
        cache.put_text("ab12", '{"w":2}')
    assert "ab34" not in cache and cache.get("ab12") == {"w": "hòa"}  # old entry intact
    assert sorted(p.name for p in cache.path("ab12").parent.iterdir()) == ["ab12.json"]


def stored_corpus(tmp_path: Path, documents: list[Document]):
    """``documents`` written as files and read back with :func:`analysis.files.read_corpus`."""
    study = write_study(tmp_path, [(d.doc_id, d.language, d.text) for d in documents])
    return sources.read_corpus(aio.read_study(study)).documents


def test_a_corpus_read_from_disk_keeps_no_text_and_prepares_the_same(preparation, serial, tmp_path):
    stored = stored_corpus(tmp_path, DOCS[:40])
    assert all(isinstance(d, folder.StoredDocument) and "text" not in vars(d) for d in stored)
    assert [d.text for d in stored] == [d.text for d in DOCS[:40]]  # read again on demand
    assert [d.size for d in stored] == [len(d.text) for d in DOCS[:40]]
    # Same text, same key, whether the document was read from disk or built in memory.
    assert [prep_mod.document_key(d, preparation) for d in stored] == [
        prep_mod.document_key(Document(d.doc_id, d.language, d.text, {"file": d.meta["file"]}), preparation)
        for d in DOCS[:40]
    ]
    assert list(prepare_corpus(stored, preparation, cache=aio.PreparedCache(tmp_path / "c"), workers=2)) == serial[:40]


def test_a_file_edited_or_removed_after_reading_stops_the_run_naming_it(preparation, tmp_path):
    stored = stored_corpus(tmp_path, DOCS[:6])
    edited, removed = Path(stored[2].path), Path(stored[4].path)
    edited.write_text(DOCS[2].text + " Thêm một câu.", encoding="utf-8")
    with pytest.raises(InputError) as caught:
        prepare_corpus(stored, preparation, cache=None, workers=1)
    assert caught.value.where == str(edited) and "changed while the run was going" in caught.value.problem
    edited.write_text(DOCS[2].text, encoding="utf-8")  # restored: the run goes through
    assert len(prepare_corpus(stored, preparation, cache=None, workers=1)) == 6
    removed.unlink()
    with pytest.raises(InputError) as caught:
        prepare_corpus(stored, preparation, cache=None, workers=2)
    assert caught.value.where == str(removed) and "cannot be read any more" in caught.value.problem
