"""Stage ``topics``: writes exactly the declared files, byte-stable, plain formats, clear errors."""

from __future__ import annotations

import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.cli import main
from analysis.files import read_study
from analysis.stages import topics as topics_stage
from analysis.study.outputs import declared_outputs
from tests.conftest import write_study

TRADE_VI = (
    "Hai nước thúc đẩy thương mại và đầu tư.\nKim ngạch thương mại song phương tăng mạnh.\n"
    "Doanh nghiệp mở rộng đầu tư và thương mại.\nNông sản xuất khẩu tăng nhờ thương mại biên giới.\n"
    "Đầu tư của doanh nghiệp tăng mạnh.\nThương mại và đầu tư là trụ cột hợp tác.\n"
)
SEA_VI = (
    "Ngư dân đánh cá trên biển.\nTàu cá của ngư dân ra biển.\nHai bên giữ hòa bình trên biển.\n"
    "Hòa bình trên biển là lợi ích chung.\nNgư dân cần được bảo vệ trên biển.\nTàu cá và ngư dân trở về an toàn.\n"
)
TRADE_EN = (
    "The two countries promote trade and investment.\nBilateral trade grew strongly.\n"
    "Companies expand investment and trade.\nFarm exports rose thanks to border trade.\n"
    "Investment by companies grew strongly.\nTrade and investment are pillars of cooperation.\n"
)
SEA_EN = (
    "Fishermen fish at sea.\nFishing boats of fishermen go to sea.\nBoth sides keep peace at sea.\n"
    "Peace at sea is a common interest.\nFishermen need protection at sea.\nFishing "
    "boats and fishermen return safely.\n"
)
CONCEPT_MAP = {
    "vi": {
        "thương_mại": "trade",
        "đầu_tư": "investment",
        "doanh_nghiệp": "company",
        "biển": "sea",
        "ngư_dân": "fisher",
        "tàu_cá": "boat",
        "hòa_bình": "peace",
        "tăng": "growth",
    },
    "en": {
        "trade": "trade",
        "investment": "investment",
        "company": "company",
        "sea": "sea",
        "fisherman": "fisher",
        "boat": "boat",
        "peace": "peace",
        "grow": "growth",
    },
}
STUDY = """
[corpus]
folder = "corpus"
metadata = "corpus/metadata.csv"
[units]
kind = "sentences"
window = 1
[run]
output = "out"
cache = ".cache"
workers = 1
figure_formats = ["png"]
[topics]
k_range = [2, 3]
seeds = [1, 2]
passes = 5
iterations = 50
bootstrap = 100
top_n = 5
"""


def make_study(folder: Path, study_text: str = STUDY) -> Path:
    docs = [("v1", "vi", TRADE_VI), ("v2", "vi", SEA_VI), ("e1", "en", TRADE_EN), ("e2", "en", SEA_EN)]
    return write_study(folder, docs, study_text=study_text)


def declared(study_path: Path) -> list[str]:
    return declared_outputs(tomllib.loads(study_path.read_text(encoding="utf-8")))["topics"]


@pytest.fixture(scope="module")
def stage_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("topics_stage")
    study_path = make_study(folder)
    study = read_study(study_path)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(topics_stage, "load_concept_map", lambda study, vocab: CONCEPT_MAP)
        written = topics_stage.run_topics(study)
        first = {p: p.read_bytes() for p in written}
        again = topics_stage.run_topics(study)
    return study, written, first, again


def test_stage_writes_exactly_the_declared_files(stage_run):
    study, written, _, _ = stage_run
    out = study.output_dir
    on_disk = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())
    expected = sorted(declared(study.source))
    assert on_disk == expected
    assert sorted(str(p.relative_to(out)) for p in written) == expected
    assert "topic_alignment_heatmap_vi_en.png" in expected and "topic_models/joint/doc_topic.npy" in expected


def test_a_second_run_gives_the_same_bytes(stage_run):
    _, written, first, again = stage_run
    assert again == written
    assert all(p.read_bytes() == first[p] for p in again)


def test_saved_models_load_without_pickle(stage_run):
    study, _, _, _ = stage_run
    for model in ("vi", "en", "joint"):
        saved = topics_stage.load_model(study.output_dir / "topic_models" / model)
        k = saved["settings"]["k"]
        assert saved["topic_word"].shape == (k, len(saved["vocab"]))
        assert saved["doc_topic"].shape == (len(saved["unit_ids"]), k)
        np.testing.assert_allclose(saved["doc_topic"].sum(axis=1), 1.0, atol=1e-12)
        assert saved["settings"]["reproducible"] is True and saved["settings"]["seed"] == study.topics.seed
    joint = topics_stage.load_model(study.output_dir / "topic_models" / "joint")
    assert set(joint["vocab"]) <= set(CONCEPT_MAP["vi"].values())
    vi = topics_stage.load_model(study.output_dir / "topic_models" / "vi")
    assert vi["unit_ids"][0] == "v1#w0" and "thương_mại" in vi["vocab"]


def test_stage_tables_hold_what_they_say(stage_run):
    study, _, _, _ = stage_run
    out = study.output_dir
    selection = pd.read_csv(out / "topic_k_selection.csv")
    assert selection["model"].tolist() == ["vi", "vi", "en", "en", "joint", "joint"]
    assert selection.groupby("model")["chosen"].sum().tolist() == [1, 1, 1]
    # 12 units per language model, 24 in the joint one: under 10 units per topic is flagged.
    flagged = selection["reason"].str.contains("exploratory")
    assert (flagged == (selection["units_per_topic"] < 10)).all() and flagged.any()
    terms = pd.read_csv(out / "topic_terms.csv", keep_default_na=False)
    assert set(terms["ranking"]) == {"probability", "relevance"} and terms["rank"].max() == 5
    joint_terms = terms[terms["model"] == "joint"]
    assert (joint_terms["gloss"] != "").all() and "thương_mại / trade" in set(joint_terms["gloss"])
    prevalence = pd.read_csv(out / "topic_prevalence.csv", keep_default_na=False)
    by_language = prevalence[(prevalence["model"] == "joint") & (prevalence["group_by"] == "language")]
    assert sorted(set(by_language["group"])) == ["en", "vi"]
    sums = by_language.groupby("group")["prevalence"].sum()
    np.testing.assert_allclose(sums.to_numpy(), 1.0)
    assert set(prevalence.loc[prevalence["model"] == "vi", "group_by"]) == {"outlet", "event"}
    pairs = pd.read_csv(out / "topic_alignment_vi_en.csv", keep_default_na=False)
    assert pairs["similarity"].between(0, 1).all() and len(pairs) == min(
        selection.loc[selection["chosen"] & (selection["model"] == "vi"), "k"].item(),
        selection.loc[selection["chosen"] & (selection["model"] == "en"), "k"].item(),
    )
    units = pd.read_csv(out / "topic_representative_units.csv")
    assert units["text"].str.len().gt(0).all()
    # Language differences of the joint model: one row per topic, the difference of the groups'
    # means of document prevalence; no cluster set, so documents are the unit.
    k_joint = selection.loc[selection["chosen"] & (selection["model"] == "joint"), "k"].item()
    tests = pd.read_csv(out / "topic_prevalence_tests_by_language.csv", keep_default_na=False)
    assert len(tests) == k_joint and set(tests["group_a"]) == {"vi"} and set(tests["group_b"]) == {"en"}
    np.testing.assert_allclose(tests["difference"], tests["mean_a"] - tests["mean_b"])
    assert np.isclose(tests["difference"].sum(), 0.0)  # shares sum to 1 in every document
    attenuation = pd.read_csv(out / "topic_prevalence_attenuation_by_language.csv", keep_default_na=False)
    assert attenuation["topic"].tolist() == [str(k) for k in range(1, k_joint + 1)] + ["all"]


def test_without_a_concept_map_the_cross_lingual_outputs_are_skipped(tmp_path, monkeypatch, caplog):
    study = read_study(make_study(tmp_path, STUDY.replace("k_range = [2, 3]", "k = 2")))
    monkeypatch.setattr(topics_stage, "load_concept_map", lambda study, vocab: None)
    written = topics_stage.run_topics(study)
    names = sorted(str(p.relative_to(study.output_dir)) for p in written)
    cross = [f for f in declared(study.source) if "joint" in f or "alignment" in f or "by_language" in f]
    assert names == sorted(set(declared(study.source)) - set(cross))
    assert pd.read_csv(study.output_dir / "topic_k_selection.csv")["reason"].str.startswith("chosen: fixed").sum() == 2


def test_single_language_study_declares_no_cross_lingual_files(tmp_path):
    study_path = make_study(
        tmp_path,
        STUDY.replace('metadata = "corpus/metadata.csv"', 'metadata = "corpus/metadata.csv"\nlanguages = ["vi"]'),
    )
    files = declared(study_path)
    assert not [f for f in files if "joint" in f or "alignment" in f or "_en" in f]
    assert "topic_top_terms_vi.png" in files


@pytest.mark.parametrize(
    "change,message",
    [
        (("k_range = [2, 3]", "k = 50"), "[topics] k: k = 50: model 'vi' has only 12 units with terms"),
        (
            ("top_n = 5", "top_n = 5\nno_below = 20"),
            "[topics] no_below: no_below = 20: model 'vi' has no term left after dictionary filtering",
        ),
        (("top_n = 5", "top_n = 5\nprevalence_by = ['region']"), "prevalence_by names 'region', not a metadata column"),
        (("top_n = 5", "top_n = 5\nalpha = 'flat'"), "[topics] alpha = 'flat' is not known"),
    ],
)
def test_bad_input_is_one_line_and_exit_status_2(tmp_path, capsys, change, message):
    study_path = make_study(tmp_path, STUDY.replace(*change))
    assert main(["topics", "--study", str(study_path), "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()[-1].split("\r")[-1]  # after the progress bar
    assert err.startswith("error: ") and message in err
    assert not (tmp_path / "out").exists()  # nothing written


def test_one_unit_per_language_is_a_clear_error(tmp_path, capsys):
    study_path = write_study(
        tmp_path, [("v1", "vi", "Thương mại tăng mạnh."), ("e1", "en", "Trade grew strongly.")], study_text=STUDY
    )
    assert main(["topics", "--study", str(study_path), "--quiet"]) == 2
    assert "only 1 unit with terms (of 1); a topic model needs at least 2" in capsys.readouterr().err


def test_k_search_on_a_sample_final_fit_on_every_unit(tmp_path, monkeypatch):
    study = read_study(make_study(tmp_path, STUDY.replace("top_n = 5", "top_n = 5\nsearch_units = 8")))
    monkeypatch.setattr(topics_stage, "load_concept_map", lambda study, vocab: CONCEPT_MAP)
    topics_stage.run_topics(study)
    out = study.output_dir
    summary = pd.read_csv(out / "topic_k_selection.csv")
    chosen = summary[summary["chosen"]].set_index("model")["reason"]
    # vi and en have 12 sentence units each, joint 24: every search saw about 8 of them, whole documents
    assert chosen.str.contains("K chosen on a sample of").all()
    assert "K chosen on a sample of 6 of the 12 units" in chosen["vi"]
    assert "K chosen on a sample of 12 of the 24 units" in chosen["joint"]  # one of two documents per language
    for model, units in (("vi", 12), ("en", 12), ("joint", 24)):
        saved = topics_stage.load_model(out / "topic_models" / model)
        assert len(saved["unit_ids"]) == units and saved["doc_topic"].shape[0] == units  # the final fit: every unit
    # units per topic is counted on the final fit's units, not the sample's
    assert summary.loc[(summary["model"] == "joint") & (summary["k"] == 2), "units_per_topic"].item() == 12.0


def test_dask_scheduler_gives_the_same_bytes_as_the_local_run(stage_run, tmp_path, monkeypatch):
    distributed = pytest.importorskip("distributed")
    study, written, first, _ = stage_run
    import dataclasses

    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
    ) as cluster:
        on_dask = dataclasses.replace(
            study,
            run=dataclasses.replace(study.run, scheduler=cluster.scheduler_address, output=str(tmp_path / "dask")),
        )
        monkeypatch.setattr(topics_stage, "load_concept_map", lambda study, vocab: CONCEPT_MAP)
        dask_written = topics_stage.run_topics(on_dask)
    local = {str(p.relative_to(study.output_dir)): first[p] for p in written}
    remote = {str(p.relative_to(on_dask.output_dir)): p.read_bytes() for p in dask_written}
    assert remote == local


def test_an_unreachable_scheduler_is_one_line(tmp_path, capsys, monkeypatch):
    distributed = pytest.importorskip("distributed")

    def refuse(*args, **kwargs):
        raise OSError("Timed out trying to connect to tcp://127.0.0.1:1")

    monkeypatch.setattr(distributed, "Client", refuse)
    study_path = make_study(
        tmp_path, STUDY.replace('cache = ".cache"', 'cache = ".cache"\nscheduler = "tcp://127.0.0.1:1"')
    )
    assert main(["topics", "--study", str(study_path), "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()[-1].split("\r")[-1]
    assert err.startswith("error: [run] scheduler") and "cannot reach the Dask scheduler at 'tcp://127.0.0.1:1'" in err
    assert not (tmp_path / "out").exists()


def test_two_workers_share_the_counts_and_give_the_same_bytes(stage_run, tmp_path, monkeypatch):
    import dataclasses

    from analysis.topics import shared

    study, written, first, _ = stage_run
    two = dataclasses.replace(
        study, run=dataclasses.replace(study.run, workers=2, output=str(tmp_path / "two"), cache=str(tmp_path / "c"))
    )
    monkeypatch.setattr(topics_stage, "load_concept_map", lambda study, vocab: CONCEPT_MAP)
    folders = []
    original = shared.write_shared

    def spy(counts, vocab, folder, **kwargs):
        folders.append(folder)
        return original(counts, vocab, folder, **kwargs)

    monkeypatch.setattr(shared, "write_shared", spy)
    two_written = topics_stage.run_topics(two)
    local = {str(p.relative_to(study.output_dir)): first[p] for p in written}
    assert {str(p.relative_to(two.output_dir)): p.read_bytes() for p in two_written} == local
    # one folder of arrays per model (vi, en, joint: the search is every unit), in the study's cache, removed after
    assert len(folders) == 3 and all(f.parent.parent == two.cache_dir for f in folders)
    assert not any(f.parent.exists() for f in folders)
    assert not list(two.cache_dir.glob("topic-fits-*"))


def test_an_unwritable_folder_for_the_shared_counts_is_one_line(tmp_path):
    from analysis.errors import InputError
    from analysis.topics import shared
    from tests.topics.test_engines import FAST, random_corpus

    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder", encoding="utf-8")
    corpora = {"x": random_corpus(12)}
    quiet = shared.engines.Progress(stream=None)
    with pytest.raises(InputError) as error:
        topics_stage.fit_models(
            corpora, settings=FAST, source=Path("study.toml"), workers=2, progress=quiet, shared_dir=blocker / "sub"
        )
    message = str(error.value)
    assert "\n" not in message and message.startswith(str(blocker / "sub"))
    assert "cannot write the topic fits' shared count arrays" in message and "fix: make the folder writable" in message


def test_the_shared_folder_is_removed_when_writing_fails(tmp_path, monkeypatch):
    from analysis.errors import InputError
    from analysis.topics import shared
    from tests.topics.test_engines import FAST, random_corpus

    def full(counts, vocab, folder, **kwargs):
        folder.mkdir()
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(shared, "write_shared", full)
    quiet = shared.engines.Progress(stream=None)
    with pytest.raises(InputError, match="No space left on device"):
        topics_stage.fit_models(
            {"x": random_corpus(12)},
            settings=FAST,
            source=Path("s.toml"),
            workers=2,
            progress=quiet,
            shared_dir=tmp_path,
        )
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(("kind", "window"), [("sentences", 1), ("sentences", 2), ("document", 3)])
def test_the_stage_builds_the_corpora_the_prepared_units_give(tmp_path, kind, window):
    """The stage's inputs to the fits and tables, from the units as arrays, are those of the units
    as objects (``PreparedStudy.units``, ``topic_corpora``): same corpora bit for bit, glosses,
    unit -> document map and representative texts, so every output is the same."""
    from collections import Counter

    from analysis.prepared import prepared_corpus, topic_corpora
    from analysis.topics.unit_arrays import unit_arrays
    from tests.topics.test_unit_arrays import assert_same_corpus

    text = STUDY.replace('kind = "sentences"\nwindow = 1', f'kind = "{kind}"\nwindow = {window}')
    text += "no_below = 1\nno_above = 1.0\n" if kind == "document" else ""  # two documents a language
    study = read_study(make_study(tmp_path, text))
    ps = prepared_corpus(study, progress=False)
    units = ps.units()
    arrays = unit_arrays(ps.prepared, ps.rules, kind=kind, window=window)
    old = topic_corpora(ps, units, CONCEPT_MAP)
    new = topics_stage.model_corpora(study, ps.docvars, arrays, CONCEPT_MAP)
    assert list(new) == list(old) == ["vi", "en", "joint"]
    for name in old:
        assert_same_corpus(new[name], old[name])
    assert new["joint"].n_units == len(units)  # every unit has a concept here
    assert sorted(arrays.terms) == sorted({t for u in units for t in u.terms})
    counts: dict[str, Counter] = {}
    for u in units:
        counts.setdefault(str(ps.docvars.loc[u.doc_id, "language"]), Counter()).update(u.terms)
    glosses = topics_stage._glosses(arrays, ps.docvars, CONCEPT_MAP)
    assert glosses == topics_stage.topics.concept_glosses(counts, CONCEPT_MAP) and "trade" in glosses
    unit_doc = arrays.unit_documents()
    assert unit_doc == {u.unit_id: u.doc_id for u in units}
    texts = topics_stage.StoredTexts(
        ps.prepared, ps.rules, kind=kind, window=window, unit_doc=unit_doc, documents=arrays.documents
    )
    assert {u: texts[u] for u in texts} == {u.unit_id: u.text[: topics_stage.TEXT_CHARS + 1] for u in units}
    assert texts.get("nowhere", "") == "" and len(texts) == len(units)
