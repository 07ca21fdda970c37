"""The equivalence benchmark's own helpers (the benchmark itself runs from benchmarks/, not in tests)."""

from __future__ import annotations

import importlib.util
import tomllib
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[2]


def _benchmark():
    spec = importlib.util.spec_from_file_location("bench_equivalence", ROOT / "benchmarks" / "equivalence.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_parallel_folder_replaces_the_line_of_the_existing_section():
    bench = _benchmark()
    study = (ROOT / "study.toml").read_text(encoding="utf-8")
    before = tomllib.loads(study)
    after = tomllib.loads(bench.with_parallel(study, Path("/data/pairs")))  # one [equivalence] table: valid TOML
    assert after["equivalence"] == {**before["equivalence"], "parallel": "/data/pairs"}
    assert {k: v for k, v in after.items() if k != "equivalence"} == {
        k: v for k, v in before.items() if k != "equivalence"
    }
    assert tomllib.loads(bench.with_parallel("[a]\nb = 1\n", Path("/p"))) == {
        "a": {"b": 1},
        "equivalence": {"parallel": "/p"},
    }
    assert tomllib.loads(bench.with_parallel("[equivalence]\nseed = 3\n[b]\nc = 1\n", Path("/p"))) == {
        "equivalence": {"parallel": "/p", "seed": 3},
        "b": {"c": 1},
    }


def test_an_empty_omission_table_counts_no_omission(tmp_path):
    bench = _benchmark()
    columns = ["event", "kind", "item", "status"]
    pd.DataFrame([{"event": "", "kind": "", "item": "", "status": "nothing to report"}], columns=columns).to_csv(
        tmp_path / "event_omissions.csv", index=False
    )
    pd.DataFrame({"q": [0.5]}).to_csv(tmp_path / "keyness_concepts_by_language.csv", index=False)
    pd.DataFrame({"q": [0.5]}).to_csv(tmp_path / "frame_tests_by_language.csv", index=False)
    pd.DataFrame({"doc_a": ["p1_vi"], "doc_b": ["p1_en"], "rank_for_a": [1]}).to_csv(
        tmp_path / "similarity_crosslingual.csv", index=False
    )
    rows = {r["measure"]: r["value"] for r in bench.framing_measures(tmp_path, 4)}
    assert rows["event_omissions rows per pair"] == 0.0
    pd.DataFrame(
        [{"event": "p1", "kind": "frame", "item": "trade", "status": "missing in en"}] * 2, columns=columns
    ).to_csv(tmp_path / "event_omissions.csv", index=False)
    assert {r["measure"]: r["value"] for r in bench.framing_measures(tmp_path, 4)}[
        "event_omissions rows per pair"
    ] == 0.5
