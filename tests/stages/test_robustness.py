"""Stage ``robustness`` on a tiny planted corpus: a frame difference that survives every choice is
"robust", one that exists only without English lemmas "depends on lemmatize_en" (and the variance
decomposition names that choice), exactly the declared files, the same bytes with 1 or 2 workers,
and a bad grid refused in one line per key with nothing written."""

from __future__ import annotations

import shutil
import tomllib
from pathlib import Path

import pandas as pd
import pytest

from analysis.cli import main
from analysis.files import read_study
from analysis.stages.robustness import run_robustness
from analysis.study.outputs import declared_outputs
from tests.conftest import write_study

CODEBOOK = """frames:
  issue:
    conflict: {label: Conflict, vi: [xung_đột], en: [conflict]}
    trade: {label: Trade, vi: [thương_mại], en: [tariff]}
"""
FILLER_VI = ["Hai bên họp tại Hà Nội.", "Các quan chức gặp nhau vào thứ hai.", "Cuộc họp kéo dài ba giờ."]
FILLER_EN = ["Both sides met in the capital.", "Officials met on Monday.", "The meeting lasted three hours."]


def documents() -> list[tuple[str, str, str]]:
    """16 Vietnamese and 16 English articles of the same lengths (2-4 sentences, in the same order).

    Trade: once in every article of both languages ("thương mại"; English "tariffs", whose lemma is
    the pattern "tariff"): with lemmas the two languages are the same, without them English has none.
    Conflict: 0, 2, 3, 2 times in the Vietnamese articles ("xung đột"), never in English.
    """
    docs = []
    for i in range(16):
        n = 2 + i % 3
        conflict = [0, 2, 3, 2][i % 4]
        vi = ["Hai nước bàn về thương mại" + " và xung đột" * conflict + "."] + FILLER_VI[: n - 1]
        en = ["The two countries discussed tariffs."] + FILLER_EN[: n - 1]
        docs.append((f"v{i:02d}", "vi", "\n".join(vi) + "\n"))
        docs.append((f"e{i:02d}", "en", "\n".join(en) + "\n"))
    return docs


STUDY = """
[corpus]
folder = "corpus"
metadata = "corpus/metadata.csv"
[run]
output = "out"
cache = ".cache"
workers = 1
figure_formats = ["png"]
[text]
learn_boilerplate = false    # every article repeats its lines: they would be learned as site chrome
[framing]
codebook = "codebook.yaml"
[robustness]
comparisons = ["frames"]
permutations = 200
bootstrap = 100
[robustness.grid]
denominator = ["sentences", "document", "presence"]
lemmatize_en = [true, false]
use_stopwordsiso = [true, false]
"""


def make_study(folder: Path, study: str = STUDY) -> Path:
    (folder / "codebook.yaml").parent.mkdir(parents=True, exist_ok=True)
    (folder / "codebook.yaml").write_text(CODEBOOK, encoding="utf-8")
    return write_study(folder, documents(), study_text=study)


def written(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("robustness_stage")
    study_path = make_study(folder)
    run_robustness(read_study(study_path), workers=1)
    return folder, study_path


def test_exactly_the_declared_files(run):
    folder, study_path = run
    declared = declared_outputs(tomllib.loads(study_path.read_text(encoding="utf-8")))["robustness"]
    assert sorted(written(folder / "out")) == sorted(declared)
    assert "robustness_curve_frame.png" in declared and not any("concept" in name for name in declared)


def test_the_planted_verdicts(run):
    folder, _ = run
    summary = pd.read_csv(folder / "out" / "robustness_summary.csv").set_index("claim")
    assert list(summary.index) == ["frame:conflict", "frame:trade"]  # listed by the size of the study's estimate
    conflict, trade = summary.loc["frame:conflict"], summary.loc["frame:trade"]
    assert conflict["specifications"] == 12
    assert conflict["verdict"] == "robust"
    assert conflict["share_same_sign"] == 1.0 and conflict["share_significant"] == 1.0
    # with lemmas (the study's own choice) vi and en are identical: estimate 0 exactly; without, vi > en
    assert trade["baseline_estimate"] == 0.0
    assert trade["share_significant"] == 0.5 and trade["verdict"] == "depends on lemmatize_en"
    assert trade["moves_support_most"] == "lemmatize_en" and trade["moves_support_share"] == 1.0
    decomposition = pd.read_csv(folder / "out" / "robustness_decomposition.csv")
    support = decomposition[(decomposition["claim"] == "frame:trade") & (decomposition["quantity"] == "support")]
    shares = support.set_index("factor")["share"]
    assert shares["lemmatize_en"] == 1.0 and shares["denominator"] == 0.0 and shares["use_stopwordsiso"] == 0.0


def test_estimates_are_the_hand_computed_differences(run):
    folder, _ = run
    estimates = pd.read_csv(folder / "out" / "robustness_estimates.csv")
    row = estimates[
        (estimates["claim"] == "frame:trade")
        & (estimates["denominator"] == "document")
        & (estimates["lemmatize_en"] == False)  # noqa: E712 (a column of booleans read back)
        & (estimates["use_stopwordsiso"] == True)  # noqa: E712
    ].iloc[0]
    assert (row["mean_a"], row["mean_b"], row["difference"]) == (1.0, 0.0, 1.0)  # one hit per vi article, none in en
    assert row["p_unit"] == "documents" and row["q"] < 0.05


def test_same_bytes_with_two_workers_and_on_a_rerun(run, tmp_path):
    folder, study_path = run
    first = written(folder / "out")
    shutil.rmtree(folder / "out")
    run_robustness(read_study(study_path), workers=2)
    assert written(folder / "out") == first


def test_a_study_without_the_section_writes_nothing(tmp_path):
    study_path = make_study(tmp_path, STUDY.split("[robustness]")[0])
    assert run_robustness(read_study(study_path)) == []
    assert not (tmp_path / "out").exists()
    assert declared_outputs(tomllib.loads(study_path.read_text(encoding="utf-8")))["robustness"] == []


def test_a_bad_grid_is_one_line_per_key_and_nothing_written(tmp_path, capsys):
    bad = STUDY.replace('denominator = ["sentences", "document", "presence"]', 'denominator = ["per_word"]\nfoo = [1]')
    study_path = make_study(tmp_path, bad + "k = [3]\n")
    assert main(["robustness", "--study", str(study_path), "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert any("[robustness.grid] denominator = ['per_word'] has unusable value(s)" in line for line in err)
    assert any("[robustness.grid] foo is not a factor" in line for line in err)
    assert any("[robustness.grid] k changes only topic models" in line for line in err)
    assert all(line.startswith("error: ") for line in err)
    assert not (tmp_path / "out").exists()


def test_an_entry_another_codebook_lacks_counts_against_its_claim(tmp_path):
    study_path = make_study(
        tmp_path,
        STUDY.split("[robustness.grid]")[0]
        + '[robustness.grid]\ncodebook = ["codebook.yaml", "small.yaml"]\nlemmatize_en = [true, false]\n',
    )
    (tmp_path / "small.yaml").write_text(CODEBOOK.split("    trade:")[0], encoding="utf-8")  # conflict only
    run_robustness(read_study(study_path))
    summary = pd.read_csv(tmp_path / "out" / "robustness_summary.csv").set_index("claim")
    assert summary.loc["frame:trade", "specifications"] == 4 and summary.loc["frame:trade", "with_estimate"] == 2
    assert summary.loc["frame:conflict", "verdict"] == "robust"
    # supported in one cell of the 2 x 2 (the study's codebook, no lemmas): both choices explain a third of the
    # support's variance (the interaction the rest); the tie goes to the first name
    decomposition = pd.read_csv(tmp_path / "out" / "robustness_decomposition.csv")
    support = decomposition[(decomposition["claim"] == "frame:trade") & (decomposition["quantity"] == "support")]
    assert support.set_index("factor")["share"].round(6).to_dict() == {
        "codebook": 0.333333,
        "lemmatize_en": 0.333333,
        "interactions and rest": 0.333333,
    }
    assert summary.loc["frame:trade", "verdict"] == "depends on codebook"


def test_the_declared_primary_comparison_is_the_default_claim(run):
    import dataclasses

    from analysis.study.settings import DesignSettings, robustness_comparisons

    _, study_path = run
    study = read_study(study_path)
    study = dataclasses.replace(study, robustness=dataclasses.replace(study.robustness, comparisons=()))
    assert robustness_comparisons(study) == ("frames", "concepts")
    declared = dataclasses.replace(study, design=DesignSettings(primary="frame_tests_by_language:trade"))
    assert robustness_comparisons(declared) == ("frame:trade",)
    other = dataclasses.replace(study, design=DesignSettings(primary="model_frames:trade"))
    assert robustness_comparisons(other) == ("frames", "concepts")  # not a vi-en frame or concept test


def test_a_broken_codebook_in_the_grid_stops_before_anything_is_written(tmp_path, capsys):
    study_path = make_study(
        tmp_path,
        STUDY.split("[robustness.grid]")[0] + '[robustness.grid]\ncodebook = ["codebook.yaml", "broken.yaml"]\n',
    )
    (tmp_path / "broken.yaml").write_text("frames: [not, a, mapping\n", encoding="utf-8")
    assert main(["robustness", "--study", str(study_path), "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and "broken.yaml" in err[0]
    assert not (tmp_path / "out").exists()


def test_the_grid_on_a_dask_cluster_gives_the_same_bytes(run, tmp_path, monkeypatch):
    """With ``[run] scheduler`` every grid task runs on the cluster (none in this process), and the
    outputs are the local run's, byte for byte."""
    import dataclasses

    from analysis import multiverse

    distributed = pytest.importorskip("distributed")
    folder, study_path = run
    local = written(folder / "out")
    study = read_study(study_path)
    here = []  # tasks run in this process (the cluster's worker process imports its own, unpatched module)
    original = multiverse._run_task
    monkeypatch.setattr(multiverse, "_run_task", lambda *args: here.append(args) or original(*args))
    with distributed.LocalCluster(
        n_workers=1, threads_per_worker=2, processes=True, host="127.0.0.1", dashboard_address=None
    ) as cluster:
        on_dask = dataclasses.replace(
            study,
            run=dataclasses.replace(study.run, scheduler=cluster.scheduler_address, output=str(tmp_path / "dask")),
        )
        run_robustness(on_dask, workers=1)
        with distributed.Client(cluster.scheduler_address, set_as_default=False) as client:
            prefixes = client.run_on_scheduler(
                lambda dask_scheduler: {
                    name: dict(prefix.state_counts) for name, prefix in dask_scheduler.task_prefixes.items()
                }
            )
    assert here == []
    # the 4 tasks of the grid (lemmas x stopwords; the denominators share a task), each run once
    assert prefixes == {"task": {"waiting": 4, "processing": 4, "memory": 4, "forgotten": 4}}
    assert written(tmp_path / "dask") == local


def test_an_unreachable_scheduler_is_one_line_and_nothing_is_written(run, capsys):
    folder, study_path = run
    before = written(folder / "out")
    code = main(["robustness", "--study", str(study_path), "--scheduler", "tcp://127.0.0.1:1", "--quiet"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1
    assert err[0].startswith("error: [run] scheduler: cannot reach the Dask scheduler at 'tcp://127.0.0.1:1'")
    assert written(folder / "out") == before


# ------------------------------------------------------------------------------- topic agreement

TOPIC_CONCEPTS = {  # concept: (Vietnamese word, English word); the first six the sea, the last six trade
    "navy": ("hải_quân", "navy"),
    "fisherman": ("ngư_dân", "fisherman"),
    "port": ("cảng_biển", "port"),
    "island": ("hòn_đảo", "island"),
    "vessel": ("tàu_thuyền", "vessel"),
    "coast": ("bờ_biển", "coast"),
    "tariff": ("thuế_quan", "tariff"),
    "export": ("xuất_khẩu", "export"),
    "import": ("nhập_khẩu", "import"),
    "investment": ("đầu_tư", "investment"),
    "market": ("thị_trường", "market"),
    "bank": ("ngân_hàng", "bank"),
}
TOPIC_CODEBOOK = (
    CODEBOOK.replace("trade: {label: Trade, vi: [thương_mại], en: [tariff]}", "trade: {label: Trade, vi: [thương_mại]}")
    + "concepts:\n"
    + "".join(f"  {c}: {{vi: [{vi}], en: [{en}]}}\n" for c, (vi, en) in TOPIC_CONCEPTS.items())
)
TOPIC_STUDY = """
[corpus]
folder = "corpus"
metadata = "corpus/metadata.csv"
[run]
output = "out"
cache = ".cache"
workers = 1
figure_formats = ["png"]
[text]
learn_boilerplate = false
resegment = false            # the Vietnamese texts come segmented (hải_quân): kept as written
[units]
kind = "document"
[framing]
codebook = "codebook.yaml"
[topics]
k = 3
no_below = 1
no_above = 1.0
max_iterations = 200
[robustness]
comparisons = ["frames"]
permutations = 50
bootstrap = 50
topics = true
[robustness.grid]
k = [2, 3, 4]
"""


def topic_documents() -> list[tuple[str, str, str]]:
    """12 Vietnamese articles, 9 about the sea and 3 about trade; 12 English ones, 3 and 9: each
    sentence names two concepts of its article's theme, drawn with a fixed seed."""
    import numpy as np

    rng = np.random.default_rng(7)
    words = list(TOPIC_CONCEPTS.values())
    docs = []
    for language, sea_articles in (("vi", 9), ("en", 3)):
        for i in range(12):
            theme = words[:6] if i < sea_articles else words[6:]
            sentences = []
            for _ in range(6):
                a, b = rng.choice(6, size=2, replace=False)
                if language == "vi":
                    sentences.append(f"Hai bên bàn về {theme[a][0]} và {theme[b][0]}.")
                else:
                    sentences.append(f"They discussed the {theme[a][1]} and the {theme[b][1]}.")
            docs.append((f"{language[0]}{i:02d}", language, " ".join(sentences) + "\n"))
    return docs


def test_topic_agreement_is_the_matched_topics_of_the_fitted_models(tmp_path, monkeypatch):
    """The robustness_topics table against the fitted models, recomputed here with numpy and scipy:
    Hellinger matching (linear_sum_assignment), top-10 Jaccard over the union of the vocabularies,
    the vi - en prevalence difference from each document's topic shares."""
    import numpy as np
    from scipy.optimize import linear_sum_assignment

    from analysis import multiverse

    fits = {}
    original = multiverse.fit_lda

    def spy(corpus, k, *args, **kwargs):
        fit = original(corpus, k, *args, **kwargs)
        fits[k] = fit
        return fit

    monkeypatch.setattr(multiverse, "fit_lda", spy)
    (tmp_path / "codebook.yaml").write_text(TOPIC_CODEBOOK, encoding="utf-8")
    study_path = write_study(tmp_path, topic_documents(), study_text=TOPIC_STUDY)
    run_robustness(read_study(study_path), workers=1)
    declared = declared_outputs(tomllib.loads(study_path.read_text(encoding="utf-8")))["robustness"]
    assert "robustness_topics.csv" in declared and sorted(written(tmp_path / "out")) == sorted(declared)
    table = pd.read_csv(tmp_path / "out" / "robustness_topics.csv")
    # CODEBOOK's frames never occur in these articles: no claim to summarise, the tables still written
    assert pd.read_csv(tmp_path / "out" / "robustness_summary.csv").empty
    assert sorted(fits) == [2, 3, 4] and table["k"].tolist() == [2, 3, 4]
    assert all(sorted(fit.vocab) == sorted(TOPIC_CONCEPTS) for fit in fits.values())  # 12 concepts > top 10

    def difference(fit) -> np.ndarray:  # document units: one row per document, in fit.unit_ids order
        theta = np.asarray(fit.doc_topic)
        vi = np.array([u.startswith("v") for u in fit.unit_ids])
        return theta[vi].mean(axis=0) - theta[~vi].mean(axis=0)

    def agreement(ref, other) -> dict:
        union = sorted(set(ref.vocab) | set(other.vocab))
        p = np.array([[dict(zip(ref.vocab, row)).get(t, 0.0) for t in union] for row in ref.topic_word])
        q = np.array([[dict(zip(other.vocab, row)).get(t, 0.0) for t in union] for row in other.topic_word])
        p, q = p / p.sum(axis=1, keepdims=True), q / q.sum(axis=1, keepdims=True)
        hellinger = np.sqrt(np.clip(1.0 - np.sqrt(p) @ np.sqrt(q).T, 0.0, None))
        rows, cols = linear_sum_assignment(hellinger)
        top = lambda m, i: set(np.argsort(-m[i], kind="stable")[:10].tolist())  # noqa: E731
        jaccard = [len(top(p, a) & top(q, b)) / len(top(p, a) | top(q, b)) for a, b in zip(rows, cols)]
        d_ref, d_other = difference(ref), difference(other)
        return {
            "topics_matched": len(rows),
            "mean_similarity": float(np.mean(1.0 - hellinger[rows, cols])),
            "top_terms_jaccard": float(np.mean(jaccard)),
            "prevalence_sign_agreement": float(np.mean(np.sign(d_ref[rows]) == np.sign(d_other[cols]))),
        }

    for row in table.to_dict("records"):
        expected = agreement(fits[3], fits[row["k"]])
        assert row["baseline"] == (row["k"] == 3)
        assert row["topics_matched"] == expected["topics_matched"] == min(3, row["k"])
        for column in ("mean_similarity", "top_terms_jaccard", "prevalence_sign_agreement"):
            assert row[column] == pytest.approx(expected[column], abs=1e-9), (row["k"], column)
    baseline = table[table["k"] == 3].iloc[0]
    assert (baseline["mean_similarity"], baseline["top_terms_jaccard"], baseline["prevalence_sign_agreement"]) == (
        1.0,
        1.0,
        1.0,
    )
    # the planted themes: the sea topic is more Vietnamese, trade more English, under any K
    for fit in fits.values():
        weight = {t: np.asarray(fit.topic_word)[:, j] for j, t in enumerate(fit.vocab)}
        sea, trade = int(np.argmax(weight["navy"])), int(np.argmax(weight["tariff"]))
        assert sea != trade and difference(fit)[sea] > 0 > difference(fit)[trade]
    others = table[table["k"] != 3]
    assert (others["mean_similarity"] < 1.0).all() and (others["mean_similarity"] > 0.0).all()
