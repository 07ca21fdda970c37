"""Stage ``design``: the declared files on the seed study, flagged too small; bad entries stop with one line."""

from __future__ import annotations

import shutil
import tomllib

import numpy as np
import pandas as pd
import pytest

from analysis.cli import main
from analysis.files import read_study
from analysis.stages.design import document_dates, run_design
from analysis.study.makefile import make_fragment
from analysis.study.outputs import design_outputs
from analysis.study.settings import load_study_text
from tests.conftest import ROOT, SEEDS, fast_seed_study


@pytest.fixture(scope="module")
def design_run(tmp_path_factory):
    """The seed study's topics stage, then its design stage twice. Fewer resamples and K-selection fits
    (conftest.FAST_SEED; [model] draws kept: a test's tolerance depends on them) and PNG figures only (the PDFs'
    bytes are compared across two whole builds in tests/paper/test_appendix.py)."""
    folder = tmp_path_factory.mktemp("design_seed")
    shutil.copytree(SEEDS, folder / "seeds")
    (folder / "study.toml").write_text(
        fast_seed_study(extra={'figure_formats = ["pdf", "png"]': 'figure_formats = ["png"]'}), encoding="utf-8"
    )
    study = read_study(folder / "study.toml")
    from analysis.stages.topics import run_topics

    run_topics(study, workers=1)  # the seed study's design layer uses the topics stage's saved models
    first = run_design(study, workers=1)
    first_bytes = {p.name: p.read_bytes() for p in first}
    second = run_design(study, workers=1)
    return study, first, first_bytes, second


def test_writes_exactly_the_declared_files_and_the_same_bytes(design_run):
    study, first, first_bytes, second = design_run
    declared = design_outputs(tomllib.loads(study.source.read_text(encoding="utf-8")))
    assert len(declared) == len(set(declared)) and declared
    assert sorted(p.name for p in first) == sorted(declared)
    assert {p.name: p.read_bytes() for p in second} == first_bytes


def test_seed_results_are_flagged_too_small(design_run):
    study, *_ = design_run
    out = study.output_dir
    contrasts = pd.read_csv(out / "design_contrasts.csv")
    assert contrasts["too_small"].all()
    contrasts = contrasts[contrasts["contrast"] == "vi-vs-en-within-event"]
    assert set(contrasts["within"]) == {"event"}
    assert (contrasts[["n_a", "n_b"]].drop_duplicates().to_numpy() == [[4, 1]]).all()
    assert (contrasts["q"] >= contrasts["p"]).all()
    model = pd.read_csv(out / "model_frames.csv")
    assert model["too_small"].all() and "language[T.vi]" in set(model["term"])
    mixed = pd.read_csv(out / "model_frames_mixed.csv")
    assert mixed["note"].str.startswith("not fitted: 4 outlet").all()
    events = pd.read_csv(out / "time_events.csv")
    assert events["too_small"].all()


def test_seed_language_from_one_outlet_gets_a_note_not_a_p_value(design_run):
    """The seed's English documents come from one outlet: the language rate ratio is an outlet contrast."""
    study, *_ = design_run
    model = pd.read_csv(study.output_dir / "model_frames.csv")
    assert (model["method"] == "quasi-Poisson GLM, CR2 SE clustered by outlet (Bell-McCaffrey df)").all()
    language = model[model["term"] == "language[T.vi]"]
    assert len(language) and language["rate_ratio"].notna().all()
    assert language[["se", "df", "p", "rr_low", "rr_high"]].isna().all().all()
    assert (
        language["note"]
        .str.endswith(
            "language 'en' comes from one outlet ('unstated-B'): its contrast with another "
            "language equals an outlet contrast; no language p-value"
        )
        .all()
    )
    marginal = pd.read_csv(study.output_dir / "model_marginal_frames.csv")
    english, vietnamese = marginal[marginal["group"] == "en"], marginal[marginal["group"] == "vi"]
    assert english["ci_low"].isna().all() and english["note"].str.contains("comes from one outlet").all()
    assert vietnamese["ci_low"].notna().any()
    mixed = pd.read_csv(study.output_dir / "model_frames_mixed.csv")
    assert "ratio_geometric_mean" in mixed.columns and "rate_ratio" not in mixed.columns


def test_monthly_series_on_the_seeds_has_a_gap_for_english_in_march(design_run):
    study, *_ = design_run
    series = pd.read_csv(study.output_dir / "time_series.csv")
    assert sorted(set(series["period"])) == ["2024-03-01", "2024-04-01"]
    en_march = series[(series["group"] == "en") & (series["period"] == "2024-03-01")]
    assert (en_march["n_docs"] == 0).all() and en_march["rate"].isna().all()
    vi_april = series[(series["group"] == "vi") & (series["period"] == "2024-04-01")]
    assert (vi_april["n_docs"] == 3).all()


def test_series_labels_frames_by_the_frame_label_not_a_concept_of_the_same_id(design_run):
    """The default codebook has a frame and a concept both called 'cooperation'."""
    study, *_ = design_run
    series = pd.read_csv(study.output_dir / "time_series.csv")
    frames = series[series["measure"] == "frames"].drop_duplicates("item").set_index("item")["label"]
    assert frames["cooperation"] == "Cooperation and partnership"
    assert frames["economy_trade"] == "Economy and trade"


BAD = [
    ('formula = "language"', 'formula = "language + desk"', "[model] formula names 'desk', not a metadata column"),
    (
        'groups = [{ language = "vi" }, { language = "en" }]',
        'groups = [{ language = "vi" }, { language = "fr" }]',
        "[[compare]] 'vi-vs-en-within-event' names the group language=fr, which no document has",
    ),
    (
        "date = 2024-04-03",
        "date = 2025-06-01",
        "[[time.event]] 'son-visit-china' date 2025-06-01 ± 21 days has no document before it",
    ),
    ('freq = "month"', 'freq = "year"', "[time] freq = 'year' is not known"),
    ('within = "event"', 'within = "desk"', "[[compare]] 'vi-vs-en-within-event' names 'desk', not a metadata column"),
]


def design_error_lines(tmp_path, capsys, old: str, new: str) -> list[str]:
    """Run the design stage on the seed study with ``old`` replaced by ``new``: exit 2, no
    traceback, nothing written; the ``error:`` lines."""
    text = (ROOT / "study.toml").read_text(encoding="utf-8")
    assert old in text
    shutil.copytree(SEEDS, tmp_path / "seeds")
    (tmp_path / "study.toml").write_text(text.replace(old, new, 1), encoding="utf-8")
    assert main(["design", "--study", str(tmp_path / "study.toml"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert not (tmp_path / "figures").exists()
    return [line for line in err.splitlines() if line.startswith("error:")]


@pytest.mark.parametrize("old, new, message", BAD)
def test_each_bad_design_entry_stops_with_one_line(tmp_path, capsys, old, new, message):
    lines = design_error_lines(tmp_path, capsys, old, new)
    assert len(lines) == 1 and message in lines[0]


def test_declared_outputs_follow_the_sections():
    assert design_outputs({}) == []
    files = design_outputs({"time": {"measures": ["frames", "actors"]}, "run": {"figure_formats": ["png"]}})
    assert "time_series_actors.png" in files and "time_events.csv" not in files and "time_lag.md" in files
    files = design_outputs({"model": {"mixed": False}, "compare": [{"name": "x"}]})
    assert (
        "model_frames_mixed.csv" not in files
        and "design_contrasts.csv" in files
        and "design_distributions.tex" in files
    )


def test_make_fragment_has_the_design_stage(tmp_path):
    shutil.copy(ROOT / "study.toml", tmp_path / "study.toml")
    fragment = make_fragment(tmp_path / "study.toml")
    assert (
        "DESIGN_OUTPUTS :=" in fragment and "analysis/stages/design.py" in fragment and "-m analysis design" in fragment
    )


def test_studies_without_design_sections_keep_their_settings(tmp_path):
    study = load_study_text('[corpus]\nfolder = "x"\n', tmp_path / "s.toml")
    assert study.compare == () and study.time is None and study.model is None
    assert not {"compare", "time", "model"} & set(study.as_dict())


def test_document_dates_read_real_dates_and_say_why_not():
    iso = pd.DataFrame({"date": ["2024-04-03", "2024-03-18"]}, index=["a", "b"])
    dates, note = document_dates(iso)
    assert note == "" and dates.dt.strftime("%d/%m").tolist() == ["03/04", "18/03"]
    real = pd.DataFrame({"date": pd.to_datetime(["2024-01-01", "2024-01-02"])})
    pd.testing.assert_series_equal(document_dates(real)[0], real["date"])
    dates, note = document_dates(pd.DataFrame({"date": ["3 April 2024", "2024-03-18"]}))
    assert dates is None and "YYYY-MM-DD" in note
    dates, note = document_dates(pd.DataFrame({"date": ["2024-04-03", ""]}))
    assert dates.isna().tolist() == [False, True] and note.startswith("1 document(s) without a date")
    dates, note = document_dates(pd.DataFrame({"outlet": ["a"]}))
    assert dates is None and note.startswith("no date column")


def test_time_and_model_outputs_without_dates_say_why(tmp_path):
    from analysis.stages.design import _model, _time
    from analysis.stats import contrasts as design

    study = load_study_text(
        (ROOT / "study.toml")
        .read_text(encoding="utf-8")
        .replace('formula = "language"', 'formula = "language + spline(date, 4)"'),
        tmp_path / "study.toml",
    )
    ids = ["a", "b"]
    docvars = pd.DataFrame({"language": ["vi", "en"], "outlet": ["x", "y"], "date": ["soon", "later"]}, index=ids)
    m = design.MeasureTable("frames", pd.DataFrame({"f": [1, 2]}, index=ids), pd.Series([100.0, 100.0], index=ids))
    results = _time(
        docvars,
        None,
        "no date column in the metadata: nothing over time",
        {"frames": m},
        time=study.time,
        languages=study.corpus.languages,
        min_group_docs=study.framing.min_group_docs,
    )
    series = next(r for r in results if getattr(r, "output", "") == "time_series")
    assert series.data["note"].iloc[0].startswith("no date column")
    models_out = _model(docvars, None, "the date column is not a date in every row", {"frames": m}, model=study.model)
    assert models_out[0].data["note"].iloc[0] == "not fitted: the date column is not a date in every row"
    assert np.isnan(models_out[0].data["estimate"].iloc[0])


def test_numbers_quote_the_focal_rate_ratios():
    from analysis.paper.appendix import model_numbers

    model = pd.DataFrame(
        [
            {"item": "economy_trade", "term": "Intercept", "rate_ratio": 0.04, "rr_low": 0.03, "rr_high": 0.05},
            {"item": "economy_trade", "term": "language[T.vi]", "rate_ratio": 0.7, "rr_low": 0.11, "rr_high": 4.33},
            {"item": "security", "term": "language[T.vi]", "rate_ratio": 1.2, "rr_low": np.nan, "rr_high": np.nan},
        ]
    )
    numbers = model_numbers(model)
    assert numbers["RateRatioEconomyTradeVi"][0] == 0.7 and numbers["RateRatioEconomyTradeViLow"][0] == 0.11
    assert numbers["RateRatioEconomyTradeViHigh"][0] == 4.33
    assert not any(k.startswith("RateRatioSecurityVi") for k in numbers)  # no interval (one outlet): not quoted at all
    assert not any(k.startswith("RateRatioEconomyTradeIntercept") for k in numbers)


def test_time_without_a_date_column_is_not_an_error_but_a_missing_by_column_is(tmp_path):
    from analysis.study.settings import column_problems

    study = load_study_text((ROOT / "study.toml").read_text(encoding="utf-8"), tmp_path / "study.toml")
    columns = ["doc_id", "file", "language", "outlet", "event"]
    assert column_problems(study, columns) == []
    problems = column_problems(study, ["doc_id", "file", "outlet", "event"])
    assert any("[time] by names 'language'" in str(p) for p in problems)


# ------------------------------------------------------------------------- topics and words


def test_model_topics_are_the_regression_of_the_saved_models_posterior_mean_theta(design_run):
    """Checked without the code under test: the method of composition's estimate is the mean over draws of
    OLS coefficients plus zero-mean normal noise, and OLS is linear in the outcome, so the estimate equals OLS
    (numpy ``lstsq``) on the draws' mean θ within Monte Carlo error; with ``draws`` draws that error's SD is at
    most ``se / sqrt(draws)`` (se: the SD over draws), so 5 of those bound it. The draws' mean θ is itself within
    Monte Carlo error of the Dirichlet mean ``γ / Σγ`` (γ = n_dk + α), which is what the test regresses on."""
    from analysis.corpus.folder import read_metadata
    from analysis.stages.topics import load_model

    study, *_ = design_run
    out = study.output_dir
    table = pd.read_csv(out / "model_topics.csv")
    docvars = read_metadata(study)
    draws = study.model.draws
    for name in ("joint", "vi"):
        saved = load_model(out / "topic_models" / name)
        alpha = np.asarray(saved["settings"]["alpha_fitted"])
        gamma = saved["doc_topic"] * (saved["unit_tokens"] + alpha.sum())[:, None]
        # tomotopy's θ = (n_dk + α) / (n_d + Σα): γ − α are the final sample's whole counts n_dk, summing to n_d.
        counts = gamma - alpha
        assert np.allclose(counts, np.round(counts), atol=1e-6) and np.allclose(
            counts.sum(axis=1), saved["unit_tokens"]
        )
        mean_theta_units = gamma / gamma.sum(axis=1, keepdims=True)
        docs = [u.split("#")[0] for u in saved["unit_ids"]]
        order = list(dict.fromkeys(docs))
        theta = np.stack([mean_theta_units[[i for i, d in enumerate(docs) if d == doc]].mean(axis=0) for doc in order])
        got = table[table["model"] == name].reset_index(drop=True)
        if name == "joint":  # a one-language model has no language contrast
            languages = docvars.loc[order, "language"].to_numpy()
            X = np.column_stack([np.ones(len(order)), (languages == sorted(set(languages))[-1]).astype(float)])
            assert got["term"].unique().tolist() == ["Intercept", f"language[T.{sorted(set(languages))[-1]}]"]
        else:
            X = np.ones((len(order), 1))
            assert got["term"].unique().tolist() == ["Intercept"]
        beta = np.linalg.lstsq(X, theta, rcond=None)[0]  # terms × topics
        assert sorted(got["topic"].unique()) == list(range(1, theta.shape[1] + 1))
        # [model] cluster = "outlet": English is one outlet, so in the joint model every term (the language
        # contrast and the intercept, measured against that outlet) gets no SE or interval, only the note.
        lone = got["note"].str.contains("comes from one outlet").to_numpy()
        assert lone.tolist() == [name == "joint"] * len(got)
        # The between-draw SD of an OLS coefficient, exactly: beta_j = sum_d w_jd theta_d (w = (X'X)^-1 X'), theta_d the
        # mean of its units' Dirichlet(gamma) draws, Var(theta_uk) = g_uk (g_u0 - g_uk) / (g_u0^2 (g_u0 + 1)).
        g0 = gamma.sum(axis=1, keepdims=True)
        unit_var = gamma * (g0 - gamma) / (g0**2 * (g0 + 1))
        doc_var = np.stack(
            [unit_var[[i for i, d in enumerate(docs) if d == doc]].sum(axis=0) / docs.count(doc) ** 2 for doc in order]
        )
        W = np.linalg.pinv(X.T @ X) @ X.T
        between_sd = np.sqrt((W**2) @ doc_var)  # terms x topics
        for row, alone in zip(got.itertuples(), lone):
            j = got["term"].unique().tolist().index(row.term)
            spread = between_sd[j, row.topic - 1] if alone else row.se
            assert abs(row.estimate - beta[j, row.topic - 1]) <= 5 * spread / np.sqrt(draws) + 1e-9, (name, row)
            if alone:
                assert np.isnan(row.se) and np.isnan(row.ci_low) and np.isnan(row.ci_high)
            else:
                assert row.ci_low <= row.estimate <= row.ci_high and row.se > 0
    assert table["too_small"].all()
    assert (
        table.loc[table["model"] == "vi", "note"]
        .str.contains("left out (one value in this model's documents): language", regex=False)
        .all()
    )


def test_topics_as_contrast_and_time_measures_are_document_prevalence(design_run):
    from analysis.stages.topics import load_model

    study, *_ = design_run
    out = study.output_dir
    vi = load_model(out / "topic_models" / "vi")
    docs = pd.Series([u.split("#")[0] for u in vi["unit_ids"]])
    prevalence = pd.DataFrame(vi["doc_topic"]).groupby(docs.to_numpy()).mean()  # a document's θ: the mean of its units'
    contrasts = pd.read_csv(out / "design_contrasts.csv")
    rows = contrasts[(contrasts["contrast"] == "vi-by-event") & (contrasts["measure"] == "topics")]
    assert len(rows) == vi["doc_topic"].shape[1]
    visit = ["000", "001", "004"]  # son_visit_china_2024_04 (vi); 003 is the other event
    np.testing.assert_allclose(rows["mean_a"], prevalence.loc[visit].mean().to_numpy())
    np.testing.assert_allclose(rows["mean_b"], prevalence.loc["003"].to_numpy())
    assert rows["q"].ge(rows["p"]).all() and rows["too_small"].all()
    joint = load_model(out / "topic_models" / "joint")
    docs = pd.Series([u.split("#")[0] for u in joint["unit_ids"]])
    jp = pd.DataFrame(joint["doc_topic"]).groupby(docs.to_numpy()).mean()
    series = pd.read_csv(out / "time_series.csv")
    april_vi = series[(series["measure"] == "topics") & (series["group"] == "vi") & (series["period"] == "2024-04-01")]
    np.testing.assert_allclose(april_vi["rate"], jp.loc[visit].mean().to_numpy())
    assert (out / "time_series_topics.png").is_file()


def test_words_contrast_is_keyness_within_one_language(design_run):
    from analysis.stats.keyness import keyness_by_group

    study, *_ = design_run
    words = pd.read_csv(study.output_dir / "design_words.csv", keep_default_na=False)
    assert set(words["contrast"]) == {"vi-by-event"} and set(words["language"]) == {"vi"}
    assert (words["n_a"] == 3).all() and (words["n_b"] == 1).all() and words["too_small"].all()
    assert words["design"].eq("documents").all()
    # [framing] keyness_min_docs = 2: a word of one of the 4 documents is not tested, as in the framing stage
    from analysis.prepared import prepared_corpus

    dtm = prepared_corpus(study, workers=1).dtm("document")
    in_pair = [i for i, d in enumerate(dtm.row_ids) if d in {"000", "001", "003", "004"}]
    doc_freq = pd.Series(np.asarray((dtm.counts[in_pair] > 0).sum(axis=0)).ravel(), index=dtm.vocab)
    tested = words["p"] != ""
    assert tested.any() and (~tested).any()
    assert (doc_freq.reindex(words["term"]).to_numpy() >= 2).tolist() == tested.tolist()
    assert (words.loc[tested, "p"].astype(float) >= 0.25).all()  # 4 documents, one on a side: 4 splits
    assert (words.loc[~tested, "adjusted_within"].str.startswith("not tested: in fewer than 2 documents")).all()
    top = (
        pd.read_csv(study.output_dir / "design_words.csv", keep_default_na=False)
        .sort_values("g2", ascending=False)
        .iloc[0]
    )
    assert top["count_a"] > 0 and top["count_b"] == 0 and keyness_by_group is not None


BAD_TOPICS = [
    (
        'measures = ["topics", "words"]',
        'measures = ["concepts", "words"]\nwithin = "outlet"',
        (
            "[[compare]] 'vi-by-event' measures words: keyness permutes documents across the "
            "whole pair, not within 'outlet'"
        ),
    ),
    (
        (
            'groups = [{ language = "vi", event = "son_visit_china_2024_04" }, { language = '
            '"vi", event = "trung_liu_talks_2024_03" }]'
        ),
        'groups = [{ language = "vi" }, { language = "en" }]',
        (
            "[[compare]] 'vi-by-event' measures words: its groups are in 2 languages (en, vi), "
            "and words across languages are not comparable"
        ),
    ),
]
FIXES = {"not within": "drop within", "not comparable": 'use measures = ["concepts"]'}


@pytest.mark.parametrize("old, new, message", BAD_TOPICS)
def test_bad_topic_and_word_entries_stop_with_one_line(tmp_path, capsys, old, new, message):
    # (this test's assertion once read "... and 'use concepts' in line or 'within' in message", true
    # for any line because the contrast's name holds "within": it hid that its second case failed
    # on broken TOML, not on words across languages)
    lines = design_error_lines(tmp_path, capsys, old, new)
    fix = next(f for key, f in FIXES.items() if key in message)
    assert len(lines) == 1 and message in lines[0] and fix in lines[0]


def test_topics_without_the_topics_stage_models_stop_with_one_line(tmp_path, capsys):
    shutil.copytree(SEEDS, tmp_path / "seeds")
    shutil.copy(ROOT / "study.toml", tmp_path / "study.toml")
    assert main(["design", "--study", str(tmp_path / "study.toml"), "--quiet"]) == 2
    lines = [line for line in capsys.readouterr().err.splitlines() if line.startswith("error:")]
    assert (
        len(lines) == 1
        and "topic_models/vi" in lines[0]
        and "not a saved topic model" in lines[0]
        and "run the topics stage first" in lines[0]
    )
    assert not (tmp_path / "figures" / "model_topics.csv").exists()


def test_make_fragment_makes_the_design_stage_depend_on_the_topic_models(tmp_path):
    shutil.copy(ROOT / "study.toml", tmp_path / "study.toml")
    fragment = make_fragment(tmp_path / "study.toml")
    deps = next(line for line in fragment.splitlines() if line.startswith("STAGE_DEPS_design :="))
    assert "figures/topic_models/joint/unit_tokens.txt" in deps and "figures/topic_models/vi/doc_topic.npy" in deps
    text = (
        (ROOT / "study.toml")
        .read_text(encoding="utf-8")
        .replace("topics = true ", "topics = false ")
        .replace('measures = ["frames", "topics"]', 'measures = ["frames"]')
        .replace('measures = ["topics", "words"]', 'measures = ["words"]')
    )
    (tmp_path / "study.toml").write_text(text, encoding="utf-8")
    assert "STAGE_DEPS_design :=" not in make_fragment(tmp_path / "study.toml")


def test_study_toml_lists_every_design_key():
    """The seed study documents every key of [time], [model] and [[compare]] (set, or shown commented out)."""
    import dataclasses

    from analysis.study.design_spec import Contrast
    from analysis.study.settings import ModelSettings, TimeSettings

    text = (ROOT / "study.toml").read_text(encoding="utf-8")
    raw = tomllib.loads(text)
    assert sorted(raw["model"]) == sorted(f.name for f in dataclasses.fields(ModelSettings))
    assert sorted(k if k != "event" else "events" for k in raw["time"]) == sorted(
        f.name for f in dataclasses.fields(TimeSettings)
    )
    given = {k for entry in raw["compare"] for k in entry}
    for field in dataclasses.fields(Contrast):
        assert field.name in given or f"# {field.name} = " in text, field.name


def _measure_tables_held(ps, codebook):
    """The design layer's counts as they were built before the stream: every annotation held, then
    frame and actor salience pivoted to documents x items."""
    from analysis.framing.measures import actor_salience, entry_matrix, frame_salience

    annotations = ps.annotate(codebook)
    ids = [a.doc_id for a in annotations]
    exposures = {
        "tokens": pd.Series({a.doc_id: float(a.tokens) for a in annotations}).reindex(ids),
        "sentences": pd.Series({a.doc_id: float(len(a.keys)) for a in annotations}).reindex(ids),
    }
    frames = (
        frame_salience(annotations, codebook, "document")
        .pivot_table(index="doc_id", columns="frame", values="hits", aggfunc="sum", sort=False)
        .reindex(ids)
        .fillna(0)
        .reindex(columns=[e.id for e in codebook.frames], fill_value=0)
    )
    actors, _ = actor_salience(annotations, codebook)
    actors = (
        actors.pivot_table(index="doc_id", columns="actor", values="mentions", aggfunc="sum", sort=False)
        .reindex(ids)
        .fillna(0)
    )
    return {"frames": frames, "actors": actors, "concepts": entry_matrix(annotations)}, exposures


def test_streamed_measure_tables_equal_the_held_annotations_on_the_seed_corpus(design_run):
    """One pass over the prepared documents, each annotation dropped after its counts, gives the
    tables the held annotations gave (same values, dtypes, index and column names)."""
    from analysis.prepared import load_codebook, prepared_corpus
    from analysis.stages.design import measure_tables

    study = design_run[0]
    ps = prepared_corpus(study, workers=1, progress=False)
    codebook = load_codebook(study)
    expected, exposures = _measure_tables_held(ps, codebook)
    counts, streamed_exposures, families = measure_tables(ps, codebook, {"frames", "actors", "concepts"})
    assert counts["frames"].to_numpy().sum() > 0 and counts["actors"].to_numpy().sum() > 0
    for kind in ("frames", "actors"):
        pd.testing.assert_frame_equal(counts[kind], expected[kind])
        assert counts[kind].columns.name == expected[kind].columns.name and counts[kind].index.name == "doc_id"
    assert counts["concepts"].row_ids == expected["concepts"].row_ids
    assert counts["concepts"].vocab == expected["concepts"].vocab
    assert (counts["concepts"].counts != expected["concepts"].counts).nnz == 0
    assert counts["concepts"].counts.dtype == expected["concepts"].counts.dtype
    for name in ("tokens", "sentences"):
        pd.testing.assert_series_equal(streamed_exposures[name], exposures[name])
    assert families == {e.id: e.family for e in codebook.frames}
    only_frames, _, _ = measure_tables(ps, codebook, {"frames"})
    assert list(only_frames) == ["frames"]
