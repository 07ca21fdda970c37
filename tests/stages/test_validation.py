"""Stage ``validation``: exactly the declared files, same seed same bytes, hand-checked estimates
from a scripted coder, and every bad sheet refused in one line with nothing written."""

from __future__ import annotations

import json
import shutil
import tomllib
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.cli import main
from analysis.files import read_study
from analysis.stages.validation import run_validation
from analysis.study.outputs import declared_outputs
from tests.conftest import write_study

# economy_trade hits: v1-v3 and e1-e2; none in v4-v6 and e3-e4 (strata N: vi 3 + 3, en 2 + 2).
DOCS = [
    ("v1", "vi", "Hai nước thúc đẩy thương mại và đầu tư.\n"),
    ("v2", "vi", "Kim ngạch thương mại song phương tăng mạnh.\n"),
    ("v3", "vi", "Doanh nghiệp mở rộng đầu tư.\n"),
    ("v4", "vi", "Ngư dân đánh cá trên biển.\n"),
    ("v5", "vi", "Hai bên giữ hòa bình trên biển.\n"),
    ("v6", "vi", "Tàu cá của ngư dân trở về an toàn.\n"),
    ("e1", "en", "The two countries promote trade and investment.\n"),
    ("e2", "en", "Bilateral trade grew strongly.\n"),
    ("e3", "en", "Fishermen fish at sea.\n"),
    ("e4", "en", "Both sides keep peace at sea.\n"),
]
STUDY = """
[corpus]
folder = "corpus"
metadata = "corpus/metadata.csv"
[run]
output = "out"
cache = ".cache"
workers = 1
figure_formats = ["png"]
[validation]
frames = ["economy_trade"]
per_stratum = 2
bootstrap = 200
"""


def make_study(folder: Path, extra: str = "") -> Path:
    return write_study(folder, DOCS, study_text=STUDY + extra)


def declared(study_path: Path) -> list[str]:
    return declared_outputs(tomllib.loads(study_path.read_text(encoding="utf-8")))["validation"]


def written(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def fill(out: Path, coded: Path, *, flips: dict[str, int], coders=("coder1", "coder2")) -> None:
    """Scripted coders: the dictionary's presence (from the design's strata), with ``flips`` planted
    (unit -> code), both coders alike; the text column is dropped as a coder might."""
    design = json.loads((out / "coding_design.json").read_text(encoding="utf-8"))
    hit = {u["unit_id"]: int(u["stratum"].endswith("|hit")) for u in design["units"]}
    coded.mkdir(exist_ok=True)
    for coder in coders:
        sheet = pd.read_csv(out / f"coding_sheet_{coder}.csv", dtype=str, keep_default_na=False)
        sheet["economy_trade"] = [str(flips.get(u, hit[u])) for u in sheet["unit_id"]]
        sheet.drop(columns="text").to_csv(coded / f"coding_sheet_{coder}.csv", index=False)


@pytest.fixture(scope="module")
def sheets_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("validation_stage")
    study_path = make_study(folder)
    paths = run_validation(read_study(study_path))
    return folder, study_path, paths


def test_sheets_are_exactly_the_declared_files_and_blind(sheets_run):
    folder, study_path, paths = sheets_run
    out = folder / "out"
    names = sorted(p.relative_to(out).as_posix() for p in paths)
    assert names == sorted(declared(study_path)) == sorted(written(out))
    assert "coding_sheet_coder1.xlsx" in names and "validation_accuracy.csv" not in names
    design = json.loads((out / "coding_design.json").read_text(encoding="utf-8"))
    assert design["population"] == {"en|hit": 2, "en|none": 2, "vi|hit": 3, "vi|none": 3}
    assert design["sampled"] == {"en|hit": 2, "en|none": 2, "vi|hit": 2, "vi|none": 2}
    assert design["inclusion_probability"]["vi|none"] == pytest.approx(2 / 3)
    sheet = pd.read_csv(out / "coding_sheet_coder1.csv", dtype=str, keep_default_na=False)
    assert list(sheet.columns) == ["draw_id", "coder", "position", "unit_id", "language", "text", "economy_trade"]
    assert set(sheet["draw_id"]) == {design["draw_id"]} and (sheet["economy_trade"] == "").all()
    assert sorted(sheet["unit_id"]) == sorted(u["unit_id"] for u in design["units"])
    other = pd.read_csv(out / "coding_sheet_coder2.csv", dtype=str, keep_default_na=False)
    assert list(sheet["unit_id"]) != list(other["unit_id"])  # each coder's own order
    assert "Economy and trade" in (out / "coding_instructions.md").read_text(encoding="utf-8")
    joined = pd.read_csv(out / "codebook_audit_precision.csv")  # no codes yet: the patterns, columns empty
    assert {"trade", "thương_mại"} <= set(joined["pattern"]) and set(joined["language"]) == {"vi", "en"}
    assert joined[["coded_hits", "false_hits", "precision", "precision_low", "precision_high"]].isna().all().all()
    assert "No coded sheets yet" in (out / "codebook_audit_precision.tex").read_text(encoding="utf-8")


def test_same_seed_same_bytes(sheets_run, tmp_path):
    folder, study_path, _ = sheets_run
    again = make_study(tmp_path)
    run_validation(read_study(again))
    assert written(tmp_path / "out") == written(folder / "out")  # sheets (.csv and .xlsx), design, instructions


def test_no_section_writes_nothing(tmp_path):
    study_path = write_study(tmp_path, DOCS, study_text=STUDY.split("[validation]")[0])
    assert declared(study_path) == [] and run_validation(read_study(study_path)) == []


def coded_study(sheets_run, tmp_path) -> tuple[Path, Path]:
    """A copy of the sheets run with ``codes = "coded"``, the sheets filled by the scripted coders."""
    folder, _, _ = sheets_run
    shutil.copytree(folder / "out", tmp_path / "out")
    study_path = make_study(tmp_path, 'codes = "coded"\n')
    return study_path, tmp_path / "coded"


def test_scripted_coders_give_hand_computed_accuracy_and_correction(sheets_run, tmp_path):
    study_path, coded = coded_study(sheets_run, tmp_path)
    out = tmp_path / "out"
    design = json.loads((out / "coding_design.json").read_text(encoding="utf-8"))
    vi_none = sorted(u["unit_id"] for u in design["units"] if u["stratum"] == "vi|none")[0]
    en_hit = sorted(u["unit_id"] for u in design["units"] if u["stratum"] == "en|hit")[0]
    fill(out, coded, flips={vi_none: 1, en_hit: 0})  # vi: one miss; en: one false hit
    paths = run_validation(read_study(study_path))
    assert sorted(p.relative_to(out).as_posix() for p in paths) == sorted(declared(study_path)) == sorted(written(out))
    acc = pd.read_csv(out / "validation_accuracy.csv").set_index("language")
    # vi: hits weighted 3/2 (both coded 1): TP = 3 = predicted; the miss weighs 3/2: reference = 4.5
    assert acc.loc["vi", "precision"] == pytest.approx(1.0) and acc.loc["vi", "recall"] == pytest.approx(3 / 4.5)
    # en: every unit coded (weight 1): TP = 1 of 2 flagged, 1 reference positive
    assert acc.loc["en", "precision"] == pytest.approx(0.5) and acc.loc["en", "recall"] == pytest.approx(1.0)
    diff = pd.read_csv(out / "validation_differential_error.csv").set_index("metric")
    assert diff.loc["precision", "difference"] == pytest.approx(0.5) and diff.loc[
        "recall", "difference"
    ] == pytest.approx(3 / 4.5 - 1)
    prev = pd.read_csv(out / "validation_corrected_prevalence.csv").set_index("quantity")
    # vi: (3 hits + the miss / (2/3)) / 6 = 0.75, naive 3/6; en: (2 - 1) / 4 = 0.25, naive 2/4
    assert prev.loc["vi", "estimate"] == pytest.approx(0.75) and prev.loc["vi", "naive"] == pytest.approx(0.5)
    assert prev.loc["en", "estimate"] == pytest.approx(0.25) and prev.loc["en", "naive"] == pytest.approx(0.5)
    assert prev.loc["vi - en", "estimate"] == pytest.approx(0.5) and prev.loc["vi - en", "naive"] == pytest.approx(0.0)
    alpha = pd.read_csv(out / "validation_agreement.csv")
    assert alpha["alpha"].tolist() == [1.0, 1.0]  # the two coders agree everywhere
    assert pd.read_csv(out / "validation_disagreements.csv").empty
    assert "Egami" in (out / "validation_corrected_prevalence.tex").read_text(encoding="utf-8")
    assert set(pd.read_csv(out / "validation_budget.csv")["frame"]) == {"economy_trade"}


def refused(study_path: Path, out: Path, capsys) -> str:
    before = written(out)
    code = main(["validation", "--study", str(study_path), "--quiet"])
    err = capsys.readouterr().err
    assert code == 2
    assert written(out) == before  # nothing written, nothing changed
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    return lines[0]


def _edit(coded: Path, coder: str, change) -> None:
    path = coded / f"coding_sheet_{coder}.csv"
    sheet = pd.read_csv(path, dtype=str, keep_default_na=False)
    change(sheet)
    sheet.to_csv(path, index=False)


@pytest.mark.parametrize(
    "case, expected",
    [
        ("unknown unit", r"coding_sheet_coder1\.csv: .*unit zzz was not drawn"),
        ("missing code", r"coding_sheet_coder1\.csv: row 3 .*no code in column 'economy_trade' \(fix: enter 1"),
        ("out of range", r"coding_sheet_coder2\.csv: row 2 .*code '2' .*not 0 or 1 \(fix: enter 1"),
        (
            "another draw",
            r"coding_sheet_coder1\.csv: row 2 .*draw_id 'abc' is not this design's .* "
            r"\(fix: use the sheet made for this draw",
        ),
        ("missing coder", r"coding_sheet_coder2\.csv: coder coder2's filled sheet is missing \(fix: put it there"),
        (
            "wrong coder",
            r"coding_sheet_coder2\.csv: row 2 \(coder coder1\): the sheet of coder coder2 names coder 'coder1'",
        ),
    ],
)
def test_a_bad_sheet_is_one_line_exit_2_and_nothing_written(sheets_run, tmp_path, capsys, case, expected):
    import re

    study_path, coded = coded_study(sheets_run, tmp_path)
    fill(tmp_path / "out", coded, flips={})
    if case == "unknown unit":
        _edit(coded, "coder1", lambda s: s.loc.__setitem__((s.index[-1], "unit_id"), "zzz"))
    elif case == "missing code":
        _edit(coded, "coder1", lambda s: s.loc.__setitem__((s.index[1], "economy_trade"), ""))
    elif case == "out of range":
        _edit(coded, "coder2", lambda s: s.loc.__setitem__((s.index[0], "economy_trade"), "2"))
    elif case == "another draw":
        _edit(coded, "coder1", lambda s: s.__setitem__("draw_id", "abc"))
    elif case == "missing coder":
        (coded / "coding_sheet_coder2.csv").unlink()
    elif case == "wrong coder":
        shutil.copy(coded / "coding_sheet_coder1.csv", coded / "coding_sheet_coder2.csv")
    line = refused(study_path, tmp_path / "out", capsys)
    assert re.search(expected, line), line


def test_a_tie_without_adjudication_is_refused_and_adjudicated_csv_decides_it(sheets_run, tmp_path, capsys):
    study_path, coded = coded_study(sheets_run, tmp_path)
    out = tmp_path / "out"
    design = json.loads((out / "coding_design.json").read_text(encoding="utf-8"))
    en_none = sorted(u["unit_id"] for u in design["units"] if u["stratum"] == "en|none")
    fill(out, coded, flips={})
    _edit(
        coded,
        "coder2",
        lambda s: s.__setitem__(
            "economy_trade", ["1" if u in en_none else c for u, c in zip(s["unit_id"], s["economy_trade"])]
        ),
    )
    line = refused(study_path, out, capsys)
    assert "stratum 'en|none' has no coded unit with a reference code" in line and "adjudicated.csv" in line
    pd.DataFrame({"unit_id": en_none, "frame": "economy_trade", "code": [0, 1]}).to_csv(
        coded / "adjudicated.csv", index=False
    )
    run_validation(read_study(study_path))
    acc = pd.read_csv(out / "validation_accuracy.csv").set_index("language")
    assert acc.loc["en", "recall"] == pytest.approx(2 / 3)  # 2 hits true, 1 of 2 non-hits adjudicated present
    assert len(pd.read_csv(out / "validation_disagreements.csv")) == 2


def test_a_validation_key_error_is_one_line(tmp_path, capsys):
    study_path = make_study(tmp_path, 'unit = "paragraph"\n')
    assert main(["validation", "--study", str(study_path), "--quiet"]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines == [
        (
            f"error: {study_path}: [validation] unit = 'paragraph' is not a unit people can code "
            '(fix: use unit = "document", "sentence" or "kwic")'
        )
    ]
    assert not (tmp_path / "out").exists()


def test_kwic_units_without_key_terms_is_one_line(tmp_path, capsys):
    study_path = make_study(tmp_path, 'unit = "kwic"\n')
    assert main(["validation", "--study", str(study_path), "--quiet"]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and '[validation] unit = "kwic" needs key terms' in lines[0], lines
    assert not (tmp_path / "out").exists()


def test_an_unknown_frame_is_one_line(tmp_path, capsys):
    study_path = write_study(
        tmp_path, DOCS, study_text=STUDY.replace('frames = ["economy_trade"]', 'frames = ["economy"]')
    )
    assert main(["validation", "--study", str(study_path), "--quiet"]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and "[validation] frames names ['economy'], not frames of the codebook" in lines[0]
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


# ------------------------------------------------------------------ pattern audit and corrected model

# With [framing] min_hits = 2, e2 and e3 have one "trade" hit each and fall in the en|none stratum
# (N = 3, 2 drawn: weight 3/2), e1 (trade and investment) is en|hit (N = 1: weight 1).
AUDIT_DOCS = DOCS[:6] + [
    ("e1", "en", "The two countries promote trade and investment.\n"),
    ("e2", "en", "Bilateral trade grew strongly.\n"),
    ("e3", "en", "Trade talks stalled at sea.\n"),
    ("e4", "en", "Fishermen fish at sea.\n"),
]


def test_pattern_audit_false_hit_share_by_hand(tmp_path):
    study_text = STUDY.replace("[validation]", "[framing]\nmin_hits = 2\n[validation]")
    study_path = write_study(tmp_path, AUDIT_DOCS, study_text=study_text)
    run_validation(read_study(study_path))
    out = tmp_path / "out"
    study_path = write_study(tmp_path, AUDIT_DOCS, study_text=study_text + 'codes = "coded"\n')
    fill(out, tmp_path / "coded", flips={})  # the coders agree with presence: e2, e3 do not have the frame
    paths = run_validation(read_study(study_path))
    assert sorted(p.relative_to(out).as_posix() for p in paths) == sorted(declared(study_path)) == sorted(written(out))
    assert "validation_corrected_model.csv" not in written(out)  # no [model]
    design = json.loads((out / "coding_design.json").read_text(encoding="utf-8"))
    pi = {u["unit_id"]: u["pi"] for u in design["units"]}
    false_trade = [u for u in ("e2", "e3") if u in pi]
    assert false_trade and pi["e1"] == 1 and all(pi[u] == pytest.approx(2 / 3) for u in false_trade)
    # trade: one true hit in e1 (weight 1), one false hit in each drawn of e2, e3 (weight 3/2)
    expected = 1.5 * len(false_trade) / (1 + 1.5 * len(false_trade))
    table = pd.read_csv(out / "validation_pattern_audit.csv", keep_default_na=False)
    trade = table[(table["language"] == "en") & (table["pattern"] == "trade")]
    assert trade["false_hit_share"].astype(float).tolist() == pytest.approx([expected] * (1 + len(false_trade)))
    assert set(trade["pattern_docs"]) == {1 + len(false_trade)} and expected != pytest.approx(
        len(false_trade) / (1 + len(false_trade))
    )
    assert sorted(trade["unit_id"]) == sorted(["e1", *false_trade])
    invest = table[table["pattern"] == "investment"]
    assert invest["false_hit_share"].astype(float).tolist() == [0.0] and invest["keyword"].tolist() == ["investment"]
    assert invest["left"].tolist() == ["two countries promote trade and"]  # five words of context
    vi = table[table["language"] == "vi"]
    assert (vi["false_hit_share"].astype(float) == 0).all()
    assert (
        "thương mại" in set(vi["keyword"])
        and not vi[["left", "keyword", "right"]].apply(lambda c: c.str.contains("_")).any().any()
    )
    assert (
        table.iloc[0]["language"] == "en" and table.iloc[0]["pattern"] == "trade"
    )  # the worst pattern first within a language
    assert "a pattern with few hits says little" in (out / "validation_pattern_audit.tex").read_text(encoding="utf-8")
    # the codebook audit with precision: every pattern of the coded frame per language, counted by hand
    joined = pd.read_csv(out / "codebook_audit_precision.csv").set_index(["language", "pattern"])
    assert set(joined["entry"]) == {"economy_trade"} and {"economy", "kinh_tế"} <= set(joined.index.get_level_values(1))
    k = len(false_trade)
    assert joined.loc[("en", "trade"), ["coded_hits", "coded_units", "false_hits"]].tolist() == [1 + k, 1 + k, k]
    assert joined.loc[("en", "trade"), "precision"] == pytest.approx(1 / (1 + 1.5 * k))  # 1 - false_hit_share
    assert joined.loc[("en", "trade"), "n_eff"] == pytest.approx((1 + 1.5 * k) ** 2 / (1 + 1.5**2 * k))
    assert joined.loc[("en", "investment"), ["coded_hits", "false_hits", "precision"]].tolist() == [1, 0, 1.0]
    assert joined.loc[("en", "investment"), "precision_low"] == pytest.approx(0.025)  # one true unit: (a/2)^(1/1)
    assert joined.loc[("en", "economy"), "coded_hits"] == 0 and np.isnan(joined.loc[("en", "economy"), "precision"])
    vi = joined.loc["vi"]
    assert (vi["false_hits"] == 0).all() and vi.loc["thương_mại", "coded_hits"] >= 1
    assert (vi.loc[vi["coded_hits"] > 0, "precision"] == 1).all() and not joined["one_sided"].any()
    assert "From the coded sheets in coded" in (out / "codebook_audit_precision.tex").read_text(encoding="utf-8")


def _model_inputs(out: Path, study_path: Path, flips: dict[str, int]) -> pd.DataFrame:
    """The data of the corrected model rebuilt by hand: presence from the strata, codes from the
    scripted coders, pi = n_h / N_h from coding_design.json, the outlet from the metadata."""
    from analysis.stats.models import design_matrix

    design = json.loads((out / "coding_design.json").read_text(encoding="utf-8"))
    meta = pd.read_csv(study_path.parent / "corpus" / "metadata.csv", dtype=str).set_index("doc_id").sort_index()
    hit = {
        d: int(
            any(t in text.lower() for t in ("trade", "investment", "thương mại", "đầu tư", "kim ngạch", "doanh nghiệp"))
        )
        for d, _, text in DOCS
    }
    strata = {d: f"{meta.loc[d, 'language']}|{'hit' if hit[d] else 'none'}" for d in meta.index}
    coded = {u["unit_id"] for u in design["units"]}
    x = design_matrix(meta, "language")
    data = x.reset_index(drop=True)
    data["yhat"] = [hit[d] for d in meta.index]
    data["y"] = [flips.get(d, hit[d]) if d in coded else float("nan") for d in meta.index]
    data["pi"] = [design["sampled"][strata[d]] / design["population"][strata[d]] for d in meta.index]
    data["outlet"] = meta["outlet"].to_numpy()
    return data, list(x.columns)


def test_corrected_model_is_dsl_regression_and_naive_is_ols(sheets_run, tmp_path):
    import statsmodels.api as sm

    from analysis.validation.dsl import dsl_regression

    folder, _, _ = sheets_run
    shutil.copytree(folder / "out", tmp_path / "out")
    study_path = make_study(tmp_path, 'codes = "coded"\n[model]\nformula = "language"\n')
    out = tmp_path / "out"
    flips = {"e1": 0, "v4": 1}
    fill(out, tmp_path / "coded", flips=flips)
    paths = run_validation(read_study(study_path))
    assert sorted(p.relative_to(out).as_posix() for p in paths) == sorted(declared(study_path)) == sorted(written(out))
    table = pd.read_csv(out / "validation_corrected_model.csv").set_index("term")
    data, terms = _model_inputs(out, study_path, flips)
    direct = dsl_regression(
        data, outcome="y", predicted="yhat", pi="pi", covariates=terms, intercept=False, cluster="outlet"
    ).table.set_index("term")
    for column in ("estimate", "se", "low", "high", "naive", "naive_se"):
        assert table.loc[terms, column].to_numpy() == pytest.approx(
            direct.loc[terms, column].to_numpy(), rel=1e-8, abs=1e-9
        ), column  # CSV keeps 10 digits
    assert table.loc["language[T.vi]", "estimate"] != pytest.approx(
        table.loc["language[T.vi]", "naive"]
    )  # the codes moved it
    ols = sm.OLS(data["yhat"].to_numpy(float), data[terms].to_numpy(float)).fit(
        cov_type="cluster", cov_kwds={"groups": pd.factorize(data["outlet"])[0], "use_correction": False}
    )
    assert table.loc[terms, "naive"].to_numpy() == pytest.approx(np.asarray(ols.params), abs=1e-9)
    assert table.loc[terms, "naive_se"].to_numpy() == pytest.approx(
        np.asarray(ols.bse), abs=1e-8
    )  # sqrt of a rounding-level variance
    assert set(table["clusters"]) == {2} and set(table["n_coded"]) == {8} and table["note"].isna().all()
    assert "linear probability model" in table["method"].iloc[0] and "clustered by outlet" in table["method"].iloc[0]
    caption = (out / "validation_corrected_model.tex").read_text(encoding="utf-8")
    assert "Egami" in caption and "human reference codes are the truth" in caption


def test_a_one_outlet_language_gets_no_se_in_the_corrected_model(tmp_path):
    outlets = {"outlet": ["a", "b", "a", "b", "a", "b", "BBC", "BBC", "BBC", "BBC"]}
    study_path = write_study(tmp_path, DOCS, extra_columns=outlets, study_text=STUDY)
    run_validation(read_study(study_path))
    study_path = write_study(
        tmp_path, DOCS, extra_columns=outlets, study_text=STUDY + 'codes = "coded"\n[model]\nformula = "language"\n'
    )
    fill(tmp_path / "out", tmp_path / "coded", flips={})
    run_validation(read_study(study_path))
    table = pd.read_csv(tmp_path / "out" / "validation_corrected_model.csv").set_index("term")
    row = table.loc["language[T.vi]"]
    assert pd.notna(row["estimate"]) and pd.notna(row["naive"]) and pd.isna(row["se"]) and pd.isna(row["naive_se"])
    assert "comes from one outlet ('BBC')" in row["note"] and "no language p-value" in row["note"]


def test_the_corrected_model_is_declared_only_with_codes_and_a_model():
    def stems(settings):
        return {n.rsplit(".", 1)[0] for n in declared_outputs(settings)["validation"]}

    assert "validation_pattern_audit" in stems({"validation": {"codes": "c"}}) - stems({"validation": {}})
    assert "validation_corrected_model" not in stems({"validation": {"codes": "c"}}) | stems(
        {"validation": {}, "model": {}}
    )
    with_model = declared_outputs({"validation": {"codes": "c"}, "model": {"formula": "language"}})["validation"]
    assert {f"validation_corrected_model.{ext}" for ext in ("csv", "tex", "md")} <= set(with_model)


# ------------------------------------------------------------------------------ sentence and KWIC units

# economy_trade hits in the first sentence of v1, v2, e1 and e2 only.
SENTENCE_DOCS = [
    ("v1", "vi", "Hai nước thúc đẩy thương mại và đầu tư. Ngư dân đánh cá trên biển.\n"),
    ("v2", "vi", "Kim ngạch thương mại song phương tăng mạnh. Hai bên giữ hòa bình trên biển. Tàu cá trở về.\n"),
    ("v3", "vi", "Ngư dân đánh cá trên biển.\n"),
    ("e1", "en", "The two countries promote trade and investment. Fishermen fish at sea.\n"),
    ("e2", "en", "Bilateral trade grew strongly. Both sides keep peace at sea.\n"),
    ("e3", "en", "Fishermen fish at sea.\n"),
]


def test_span_units_cut_sentences_and_kwic_windows_with_their_own_hits():
    from analysis.framing.codebook import parse_codebook
    from analysis.framing.measures import annotate
    from analysis.stages.validation import span_units
    from analysis.text.tokens import PreparedDocument, TermRules

    cb = parse_codebook("frames:\n  issue:\n    trade: {vi: [thương_mại], en: [trade]}\n")
    doc = PreparedDocument(
        "v1", "vi", [[["Hai", "nước", "thúc_đẩy", "thương_mại", "."], ["Ngư_dân", "đánh_cá", "trên", "biển", "."]]]
    )
    rules = TermRules({})
    annotations = [annotate(doc, rules, cb)]
    units, texts, around = span_units(annotations, [doc], ["trade"], unit="sentence", min_hits=1, context=1)
    assert units[["unit_id", "doc_id", "start", "end", "trade"]].values.tolist() == [
        ["v1#s0", "v1", 0, 5, 1],
        ["v1#s1", "v1", 5, 10, 0],
    ]
    assert texts["v1#s1"] == "Ngư dân đánh cá trên biển ."
    assert around["v1#s1"] == ("Hai nước thúc đẩy thương mại .", "")
    assert span_units(annotations, [doc], ["trade"], unit="sentence", min_hits=2)[0]["trade"].tolist() == [0, 0]
    # "biển" is token 3 of sentence 1 (flat 8): window 2 is [6, 10) and misses thương_mại (flat 3) ...
    units, texts, around = span_units(
        annotations, [doc], ["trade"], unit="kwic", min_hits=1, rules=rules, terms=["biển"], window=2, context=0
    )
    assert units[["unit_id", "start", "end", "trade"]].values.tolist() == [["v1#k1.3", 6, 10, 0]]
    assert texts["v1#k1.3"] == "đánh cá trên [[biển]] ."
    assert around["v1#k1.3"] == ("Ngư dân", "")
    # ... window 6 is [2, 10), across the sentence end, and holds it
    units, _, _ = span_units(
        annotations, [doc], ["trade"], unit="kwic", min_hits=1, rules=rules, terms=["biển", "Biển"], window=6
    )
    assert units[["unit_id", "start", "end", "trade"]].values.tolist() == [["v1#k1.3", 2, 10, 1]]  # one unit


def sentence_study(folder: Path, extra: str = "") -> Path:
    return write_study(folder, SENTENCE_DOCS, study_text=STUDY + 'unit = "sentence"\n' + extra)


def test_sentence_units_sheets_design_and_hand_computed_correction(tmp_path):
    study_path = sentence_study(tmp_path)
    paths = run_validation(read_study(study_path))
    out = tmp_path / "out"
    assert sorted(p.relative_to(out).as_posix() for p in paths) == sorted(declared(study_path))
    design = json.loads((out / "coding_design.json").read_text(encoding="utf-8"))
    assert design["unit"] == "sentence"
    # hits: v1#s0, v2#s0 | e1#s0, e2#s0; every other sentence none
    assert design["population"] == {"en|hit": 2, "en|none": 3, "vi|hit": 2, "vi|none": 4}
    assert all(u["unit_id"].startswith(u["doc_id"] + "#s") for u in design["units"])
    sheet = pd.read_csv(out / "coding_sheet_coder1.csv", dtype=str, keep_default_na=False)
    assert list(sheet.columns) == [
        "draw_id", "coder", "position", "unit_id", "language", "context_before", "text", "context_after",
        "economy_trade",
    ]  # fmt: skip
    row = sheet.set_index("unit_id").loc["v1#s0"]
    assert (row["context_before"], row["text"], row["context_after"]) == (
        "",
        "Hai nước thúc đẩy thương mại và đầu tư .",
        "Ngư dân đánh cá trên biển .",
    )
    assert "sentence" in (out / "coding_instructions.md").read_text(encoding="utf-8")
    again = sentence_study(tmp_path / "again")
    run_validation(read_study(again))
    assert written(tmp_path / "again" / "out") == written(out)  # same seed, same bytes
    # scripted coders: vi one missed sentence (a drawn non-hit, pi = 2/4), en one false hit (pi = 1)
    vi_none = sorted(u["unit_id"] for u in design["units"] if u["stratum"] == "vi|none")[0]
    coded_path = sentence_study(tmp_path, 'codes = "coded"\n')
    fill(out, tmp_path / "coded", flips={vi_none: 1, "e2#s0": 0})
    run_validation(read_study(coded_path))
    acc = pd.read_csv(out / "validation_accuracy.csv").set_index("language")
    # vi: TP 2 (weight 1), reference positives 2 + 2 (the miss weighs N_h / n_h = 4 / 2)
    assert acc.loc["vi", "precision"] == pytest.approx(1.0) and acc.loc["vi", "recall"] == pytest.approx(0.5)
    assert acc.loc["en", "precision"] == pytest.approx(0.5) and acc.loc["en", "recall"] == pytest.approx(1.0)
    prev = pd.read_csv(out / "validation_corrected_prevalence.csv").set_index("quantity")
    # share of sentences: vi Ytilde = 1 + 1 + (0 + 2 * 1) over 6 = 2/3; en = 1 + (1 - 1) over 5 = 1/5
    assert prev.loc["vi", "estimate"] == pytest.approx(2 / 3) and prev.loc["vi", "naive"] == pytest.approx(2 / 6)
    assert prev.loc["en", "estimate"] == pytest.approx(1 / 5) and prev.loc["en", "naive"] == pytest.approx(2 / 5)
    assert prev.loc["vi - en", "estimate"] == pytest.approx(2 / 3 - 1 / 5)
    # the variance is clustered by document: the stage's SE is dsl_prevalence's with cluster = doc_id
    from analysis.validation.dsl import dsl_prevalence

    units = pd.DataFrame(design["units"])
    full = pd.DataFrame({"unit_id": [f"{d}#s{i}" for d, _, t in SENTENCE_DOCS for i in range(t.count("."))]})
    full["doc_id"] = full["unit_id"].str.split("#").str[0]
    full["language"] = full["doc_id"].str[0].map({"v": "vi", "e": "en"})
    full["yhat"] = full["unit_id"].isin(["v1#s0", "v2#s0", "e1#s0", "e2#s0"]).astype(int)
    full["stratum"] = full["language"] + "|" + full["yhat"].map({1: "hit", 0: "none"})
    full["pi"] = full["stratum"].map(design["inclusion_probability"])
    code = {u: int(u in ("v1#s0", "v2#s0", "e1#s0", vi_none)) for u in units["unit_id"]}
    full["y"] = full["unit_id"].map(code)
    ref = dsl_prevalence(full, outcome="y", predicted="yhat", pi="pi", variance="stratified", cluster="doc_id")
    assert prev["se"].to_numpy() == pytest.approx(ref["se"].to_numpy(), abs=1e-9)  # the CSV keeps 10 digits


def test_kwic_units_window_around_the_key_terms(tmp_path):
    study_path = write_study(
        tmp_path,
        SENTENCE_DOCS,
        study_text=STUDY + 'unit = "kwic"\nkwic_terms = ["biển", "sea", "thương mại", "trade"]\nkwic_window = 2\n',
    )
    run_validation(read_study(study_path))
    out = tmp_path / "out"
    design = json.loads((out / "coding_design.json").read_text(encoding="utf-8"))
    assert design["unit"] == "kwic"
    # thương_mại / trade windows hold the hit (v1, v2, e1, e2); the 3 + 3 biển / sea windows do not
    assert design["population"] == {"en|hit": 2, "en|none": 3, "vi|hit": 2, "vi|none": 3}
    sheet = pd.read_csv(out / "coding_sheet_coder1.csv", dtype=str, keep_default_na=False).set_index("unit_id")
    assert sheet.loc["e2#k0.1", "text"] == "Bilateral [[trade]] grew strongly"
    assert sheet.loc["e2#k0.1", "context_after"].startswith(". Both sides keep peace at sea")
    assert "[[ ]]" in (out / "coding_instructions.md").read_text(encoding="utf-8")


def test_kwic_terms_that_never_occur_are_one_line(tmp_path, capsys):
    study_path = write_study(tmp_path, SENTENCE_DOCS, study_text=STUDY + 'unit = "kwic"\nkwic_terms = ["xyzzy"]\n')
    assert main(["validation", "--study", str(study_path), "--quiet"]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and "finds no unit in the corpus (no key term occurs)" in lines[0], lines
    assert not (tmp_path / "out").exists()


def test_sentence_units_corrected_model_takes_document_metadata_and_clusters_by_document(tmp_path):
    from analysis.validation.dsl import dsl_regression

    study_path = sentence_study(tmp_path)
    run_validation(read_study(study_path))
    out = tmp_path / "out"
    design = json.loads((out / "coding_design.json").read_text(encoding="utf-8"))
    coded_path = sentence_study(tmp_path, 'codes = "coded"\n[model]\nformula = "language"\ncluster = ""\n')
    fill(out, tmp_path / "coded", flips={"e2#s0": 0})
    run_validation(read_study(coded_path))
    table = pd.read_csv(out / "validation_corrected_model.csv").set_index("term")
    assert "clustered by doc_id" in table["method"].iloc[0]
    assert set(table["n_docs"]) == {11} and set(table["n_coded"]) == {8} and set(table["clusters"]) == {6}
    pis = {u["unit_id"]: u["pi"] for u in design["units"]}
    ids = [f"{d}#s{i}" for d, _, t in SENTENCE_DOCS for i in range(t.count("."))]
    hits = {"v1#s0", "v2#s0", "e1#s0", "e2#s0"}
    data = pd.DataFrame(
        {
            "intercept": 1.0,
            "vi": [float(u.startswith("v")) for u in ids],
            "yhat": [int(u in hits) for u in ids],
            "y": [float(u in hits - {"e2#s0"}) if u in pis else float("nan") for u in ids],
            "pi": [design["inclusion_probability"][f"{'vi' if u[0] == 'v' else 'en'}|{'hit' if u in hits else 'none'}"]
                   for u in ids],
            "doc": [u.split("#")[0] for u in ids],
        }
    )  # fmt: skip
    direct = dsl_regression(
        data, outcome="y", predicted="yhat", pi="pi", covariates=["intercept", "vi"], intercept=False, cluster="doc"
    ).table
    assert table.loc[["Intercept", "language[T.vi]"], "estimate"].to_numpy() == pytest.approx(
        direct["estimate"].to_numpy(), abs=1e-9
    )
    assert table.loc[["Intercept", "language[T.vi]"], "se"].to_numpy() == pytest.approx(
        direct["se"].to_numpy(), abs=1e-9
    )


# ------------------------------------------------------------------------------ actors and concepts

ENTRY_DOCS = [
    ("v1", "vi", "Trung Quốc và Việt Nam thúc đẩy thương mại.\n"),
    ("v2", "vi", "Ngư dân đánh cá trên biển.\n"),
    ("v3", "vi", "Trung Quốc hợp tác với Lào.\n"),
    ("e1", "en", "China and Vietnam promote trade.\n"),
    ("e2", "en", "Fishermen fish at sea.\n"),
    ("e3", "en", "China cooperates with Laos.\n"),
]
# the dictionary: economy_trade in v1, e1; china in v1, v3, e1, e3; cooperation in v3, e3
PRESENT = {
    "economy_trade": {"v1", "e1"},
    "actor_china": {"v1", "v3", "e1", "e3"},
    "concept_cooperation": {"v3", "e3"},
}


def test_actors_and_concepts_are_coded_beside_the_frames(tmp_path):
    extra = 'actors = ["china"]\nconcepts = ["cooperation"]\nper_stratum = 5\n'
    study_path = write_study(tmp_path, ENTRY_DOCS, study_text=STUDY.replace("per_stratum = 2\n", "") + extra)
    run_validation(read_study(study_path))
    out = tmp_path / "out"
    sheet = pd.read_csv(out / "coding_sheet_coder1.csv", dtype=str, keep_default_na=False)
    assert list(sheet.columns)[-3:] == ["economy_trade", "actor_china", "concept_cooperation"]
    text = (out / "coding_instructions.md").read_text(encoding="utf-8")
    assert "## Actors" in text and "`actor_china`: **Trung Quốc / China** (country)" in text
    assert "## Concepts" in text and "`concept_cooperation`" in text
    design = json.loads((out / "coding_design.json").read_text(encoding="utf-8"))
    assert design["population"] == {"en|hit": 2, "en|none": 1, "vi|hit": 2, "vi|none": 1}  # any entry: a hit
    # scripted coders: the dictionary, except that v1 does not mention China for them (a false hit)
    coded = tmp_path / "coded"
    coded.mkdir()
    for coder in ("coder1", "coder2"):
        filled = pd.read_csv(out / f"coding_sheet_{coder}.csv", dtype=str, keep_default_na=False)
        for column, docs in PRESENT.items():
            filled[column] = [str(int(u in docs and (u, column) != ("v1", "actor_china"))) for u in filled["unit_id"]]
        filled.to_csv(coded / f"coding_sheet_{coder}.csv", index=False)
    study_path = write_study(
        tmp_path, ENTRY_DOCS, study_text=STUDY.replace("per_stratum = 2\n", "") + extra + 'codes = "coded"\n'
    )
    run_validation(read_study(study_path))
    acc = pd.read_csv(out / "validation_accuracy.csv").set_index(["frame", "language"])
    assert acc.loc[("actor_china", "vi"), "precision"] == pytest.approx(0.5)  # v3 of v1, v3
    assert acc.loc[("actor_china", "en"), "precision"] == pytest.approx(1.0)
    assert acc.loc[("concept_cooperation", "vi"), "recall"] == pytest.approx(1.0)
    prev = pd.read_csv(out / "validation_corrected_prevalence.csv").set_index(["frame", "quantity"])
    # everything coded (pi = 1): the corrected share is the coders' share, 1/3 of the vi documents
    assert prev.loc[("actor_china", "vi"), "estimate"] == pytest.approx(1 / 3)
    assert prev.loc[("actor_china", "vi"), "naive"] == pytest.approx(2 / 3)
    audit = pd.read_csv(out / "validation_pattern_audit.csv")
    china = audit[(audit["frame"] == "actor_china") & (audit["language"] == "vi")]
    assert set(china["unit_id"]) == {"v1", "v3"} and set(china["false_hit_share"]) == {0.5}


def test_an_unknown_actor_is_one_line(tmp_path, capsys):
    study_path = write_study(tmp_path, ENTRY_DOCS, study_text=STUDY + 'actors = ["atlantis"]\n')
    assert main(["validation", "--study", str(study_path), "--quiet"]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and "[validation] actors names ['atlantis'], not actors of the codebook" in lines[0]
    assert not (tmp_path / "out").exists()


def test_entry_presence_of_frames_is_the_framing_tables_presence(tmp_path):
    from analysis.framing.measures import annotate, frame_salience
    from analysis.prepared import load_codebook, prepared_corpus
    from analysis.stages.validation import entry_presence, presence_units

    study = read_study(write_study(tmp_path, [*DOCS, ("v9", "vi", ENTRY_DOCS[0][2] * 2)], study_text=STUDY))
    codebook = load_codebook(study)
    ps = prepared_corpus(study, workers=1)
    annotations = [annotate(d, ps.rules, codebook) for d in ps.prepared]
    frames = [e.id for e in codebook.frames]
    for min_hits in (1, 2):
        old = presence_units(frame_salience(annotations, codebook, "document", min_hits=min_hits), frames)
        new = entry_presence(annotations, {f: ("frames", f) for f in frames}, min_hits=min_hits)
        pd.testing.assert_frame_equal(new, old)


def test_sentence_units_from_one_english_document_give_the_language_term_no_se(tmp_path):
    """Clustered by document, a language whose sentences all come from one document has no
    between-document variance: the language term gets no SE (a note), not a NaN from a negative
    variance with a runtime warning."""
    docs = [*SENTENCE_DOCS[:3], ("e1", "en", "Bilateral trade grew. Fishermen fish at sea. Both sides keep peace.\n")]
    study_path = write_study(tmp_path, docs, study_text=STUDY + 'unit = "sentence"\n')
    run_validation(read_study(study_path))
    coded = STUDY + 'unit = "sentence"\ncodes = "coded"\n[model]\nformula = "language"\ncluster = ""\n'
    study_path = write_study(tmp_path, docs, study_text=coded)
    fill(tmp_path / "out", tmp_path / "coded", flips={})
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        run_validation(read_study(study_path))
    table = pd.read_csv(tmp_path / "out" / "validation_corrected_model.csv").set_index("term")
    row = table.loc["language[T.vi]"]
    assert pd.notna(row["estimate"]) and pd.isna(row["se"])
    assert "comes from one document ('e1')" in row["note"]
