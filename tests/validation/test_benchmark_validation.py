"""benchmarks/validation.py on a small real-label run (needs ../shared/corpora; skipped when absent)."""

import csv
import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
CORPORA = ROOT.parent / "shared" / "corpora"

pytestmark = pytest.mark.corpus


def load_benchmark():
    spec = importlib.util.spec_from_file_location("validation_benchmark", ROOT / "benchmarks" / "validation.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["validation_benchmark"] = module
    spec.loader.exec_module(module)
    return module


@pytest.mark.skipif(
    not (CORPORA / "vntc_sample").is_dir() or not (CORPORA / "bbc_news").is_dir(),
    reason="../shared/corpora/vntc_sample and bbc_news not present",
)
def test_real_label_run_is_consistent_with_the_metadata(tmp_path):
    bench = load_benchmark()
    result = bench.real_labels(50, 50, 8, tmp_path / "cache", 1, 5, 50)
    units = result["units"]
    # the human code is the category read independently from the metadata files
    for name, lang, business in (("vntc_sample", "vi", "kinh_doanh"), ("bbc_news", "en", "business")):
        with open(CORPORA / name / "metadata.csv", encoding="utf-8", newline="") as handle:
            category = {r["doc_id"]: r["category"] for r in csv.DictReader(handle)}
        sub = units[units["language"] == lang]
        assert len(sub) == 50
        assert sub["truth"].tolist() == [int(category[u] == business) for u in sub["unit_id"]]
    # the naive prevalence is the dictionary's share over all articles; the sample is 8 per stratum
    prev = result["prevalence"]
    row = prev[
        (prev["frame"] == "economy_trade") & (prev["variance"] == "stratified") & (prev["quantity"] == "vi")
    ].iloc[0]
    assert row["naive"] == pytest.approx(units.loc[units["language"] == "vi", "economy_trade"].mean())
    assert row["truth"] == pytest.approx(units.loc[units["language"] == "vi", "truth"].mean())
    assert row["n_coded"] == 16 and (result["sample"].groupby("stratum").size() == 8).all()
    acc = result["accuracy"]
    assert np.isfinite(acc["precision"]).all() and ((acc["recall"] >= 0) & (acc["recall"] <= 1)).all()
    # per pattern: the most-hit Vietnamese economy_trade pattern's precision recomputed from its hits by hand
    pat = result["patterns"]
    checked = pat[(pat["frame"] == "economy_trade") & (pat["language"] == "vi") & (pat["coded_hits"] > 0)]
    top = checked.sort_values(["coded_hits", "pattern"], ascending=[False, True]).iloc[0]
    ref = result["reference"]
    ref = ref[ref["frame"] == "economy_trade"].set_index("unit_id")["reference"].astype(int)
    weight = result["sample"].set_index("unit_id")["weight"]
    hits = result["hits"]
    mine = hits[
        (hits["frame"] == "economy_trade") & (hits["pattern"] == top["pattern"]) & hits["unit_id"].isin(ref.index)
    ]
    per_unit = mine.groupby("unit_id").size()
    v = per_unit * weight.loc[per_unit.index]
    assert top["coded_hits"] == per_unit.sum() and top["coded_units"] == len(per_unit)
    assert top["false_hits"] == int((per_unit * (ref.loc[per_unit.index] == 0)).sum())
    assert top["precision"] == pytest.approx(float((v * ref.loc[per_unit.index]).sum() / v.sum()))
    business = units.set_index("unit_id")["truth"]
    every = hits[(hits["frame"] == "economy_trade") & (hits["pattern"] == top["pattern"])]
    assert top["precision_full"] == pytest.approx(business.loc[every["unit_id"]].mean())
