"""Cache keys under corpus-learned boilerplate (:func:`analysis.text.prepare.document_keys`): a learned
rule counts only in the key of a document it changes, so turning learning off or on re-prepares only
those documents, and what comes out is what a cold run gives."""

from __future__ import annotations

import dataclasses
import logging
import re

import pytest

from analysis import files
from analysis.prepared import prepared_corpus
from analysis.text import prepare as prep_mod
from tests.conftest import write_study

FOOTER = "Bản quyền thuộc về báo Sông Hồng."
TEASER = "Chùm ảnh hoa Đà Lạt(30/11/2004)"


def documents() -> list[tuple[str, str, str]]:
    """Eight Vietnamese articles (outlets o0, o1 alternate) and four English ones.

    The four of outlet o0 end with the same footer (learned: 4 of 4 documents, at least 3); one of
    o1 lists a related-article teaser (the learned teaser rule, every outlet). So 5 of the 12
    documents are changed by learned rules; the other 7 are not.
    """
    docs = []
    for i in range(8):
        body = f"Bài số {i}: hai bên họp tại Hà Nội về hợp tác kinh tế.\nCuộc họp kéo dài {i + 2} giờ.\n"
        if i % 2 == 0:
            body += FOOTER + "\n"
        if i == 3:
            body += TEASER + "\n"
        docs.append((f"v{i}", "vi", body))
    for i in range(4):
        docs.append((f"e{i}", "en", f"Article {i}: both sides met in the capital.\nThe talks lasted {i + 2} hours.\n"))
    return docs


CHANGED = {"v0", "v2", "v4", "v6", "v3"}

STUDY = {
    "corpus": {"folder": "corpus", "metadata": "corpus/metadata.csv"},
    "text": {"learn_boilerplate": True, "learned_min_documents": 3, "learned_min_share": 0.1},
    "run": {"output": "out", "cache": ".cache", "workers": 1},
}


@pytest.fixture
def study(tmp_path):
    return files.read_study(write_study(tmp_path, documents(), study_text=STUDY))


def variant(study, *, learn: bool, cache: str = ".cache"):
    return dataclasses.replace(
        study,
        text=dataclasses.replace(study.text, learn_boilerplate=learn),
        run=dataclasses.replace(study.run, cache=cache),
    )


def prepare(study, caplog) -> tuple[list, tuple[int, int]]:
    """The prepared documents (as JSON) and (from cache, prepared) from the preparation log line."""
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="analysis"):
        ps = prepared_corpus(study, workers=1, progress=False)
        prepared = [d.to_json() for d in ps.prepared]
    line = next(r.getMessage() for r in caplog.records if re.match(r"prepare: \d+ documents \(", r.getMessage()))
    hits, todo = map(int, re.search(r"(\d+) from cache, (\d+) to prepare", line).groups())
    return prepared, (hits, todo)


def keys(study) -> dict[str, str]:
    ps = prepared_corpus(study, workers=1, progress=False)
    return dict(zip(ps.prepared.doc_ids, ps.prepared.keys))


def test_learning_off_after_on_reprepares_only_the_documents_the_rules_changed(study, caplog, monkeypatch):
    on, (hits, todo) = prepare(variant(study, learn=True), caplog)
    assert (hits, todo) == (0, 12)
    removed = {d["doc_id"] for d in on if any(r["rule"].startswith("learned: ") for r in d["removals"])}
    assert removed == CHANGED  # the planted footer and teaser were learned and cut
    off, (hits, todo) = prepare(variant(study, learn=False), caplog)
    assert (hits, todo) == (7, 5)
    # what comes out is what a cold run gives, either way round
    assert off == prepare(variant(study, learn=False, cache=".cold_off"), caplog)[0]
    assert on == prepare(variant(study, learn=True, cache=".cold_on"), caplog)[0]
    assert [d for d in on if d["doc_id"] not in CHANGED] == [d for d in off if d["doc_id"] not in CHANGED]
    assert all(a != b for a, b in zip(on, off) if a["doc_id"] in CHANGED)
    # the keys: shared by the unchanged documents, distinct for the changed ones
    with_rules, without = keys(variant(study, learn=True)), keys(variant(study, learn=False))
    assert {d for d in with_rules if with_rules[d] == without[d]} == {d for d, _, _ in documents()} - CHANGED
    # a rerun hits everything, and reads which rules changed which document from the cache (one entry)
    assert len(list((study.cache_dir / "prepared").rglob("learned-applied-*.json"))) == 1

    def no_cleaning(*args, **kwargs):
        raise AssertionError("cleaned again")

    monkeypatch.setattr(prep_mod, "clean_document", no_cleaning)
    assert prepare(variant(study, learn=True), caplog)[1] == (12, 0)


def test_learning_on_after_off_reprepares_only_the_documents_the_rules_change(study, caplog):
    assert prepare(variant(study, learn=False), caplog)[1] == (0, 12)
    on, (hits, todo) = prepare(variant(study, learn=True), caplog)
    assert (hits, todo) == (7, 5)
    assert on == prepare(variant(study, learn=True, cache=".cold_on"), caplog)[0]


def test_a_changed_learned_rule_reprepares_only_the_documents_it_changes(study, caplog):
    prepare(variant(study, learn=True), caplog)
    # 5 documents needed: the footer (in 4) is no longer learned, the teaser rule still is
    fewer = dataclasses.replace(study, text=dataclasses.replace(study.text, learned_min_documents=5))
    prepared, (hits, todo) = prepare(fewer, caplog)
    assert (hits, todo) == (8, 4)  # the four footer documents; the teaser document is keyed by the same rule
    assert prepared == prepare(dataclasses.replace(fewer, run=dataclasses.replace(study.run, cache=".c")), caplog)[0]


def test_keys_without_learned_rules_are_document_key():
    preparation = prep_mod.Preparation("", "none", (), ())
    docs = [prep_mod.Document("d1", "vi", "Hai bên họp.\n"), prep_mod.Document("d2", "en", "Both met.\n")]
    assert prep_mod.document_keys(docs, preparation) == [prep_mod.document_key(d, preparation) for d in docs]


def test_a_cold_run_applies_the_rules_once_per_document_within_the_kept_budget(study, monkeypatch):
    calls: list[str] = []
    original = prep_mod.clean_document

    def counted(document, preparation):
        calls.append(document.doc_id)
        return original(document, preparation)

    monkeypatch.setattr(prep_mod, "clean_document", counted)
    cold = [d.to_json() for d in prepared_corpus(variant(study, learn=True), workers=1, progress=False).prepared]
    assert sorted(calls) == sorted(d for d, _, _ in documents())  # the key pass's cleaning is the one used
    # With no budget for kept texts, every document is cleaned again when prepared: same documents.
    monkeypatch.setattr(prep_mod, "KEPT_CLEANED_CHARS", 0)
    calls.clear()
    again = prepared_corpus(variant(study, learn=True, cache=".again"), workers=1, progress=False).prepared
    assert len(calls) == 2 * len(documents())
    assert [d.to_json() for d in again] == cold
    assert {d["doc_id"] for d in cold if any(r["rule"].startswith("learned: ") for r in d["removals"])} == CHANGED


def test_kept_cleaning_travels_to_worker_processes_and_dask_with_the_same_result(study, tmp_path):
    ps = prepared_corpus(variant(study, learn=True), workers=1, progress=False)
    serial = [d.to_json() for d in ps.prepared]
    assert prep_mod.LEARNED_RULES_START in ps.preparation.rules_text  # the key pass cleans: texts are kept

    def run(name: str, **route) -> list[dict]:
        cache = files.PreparedCache(tmp_path / name)
        return [d.to_json() for d in prep_mod.prepare_corpus(ps.corpus.documents, ps.preparation, cache=cache, **route)]

    assert run("pool", workers=2) == serial
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        n_workers=1, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
    ) as cluster:
        assert run("dask", workers=1, scheduler=cluster.scheduler_address) == serial
