"""Helpers shared by the benchmark scripts: where the shared corpora are, progress lines, and an
even sample of a corpus's metadata rows (every category kept)."""

from __future__ import annotations

import csv
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORPORA = ROOT.parent / "shared" / "corpora"
RESULTS = ROOT / "benchmarks" / "results"


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def select_rows(corpus: Path, limit: int) -> list[dict]:
    """``limit`` rows spread evenly over the metadata (sorted by category, so all are kept); 0 = all."""
    with open(corpus / "metadata.csv", encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    if limit and limit < len(rows):
        rows = [rows[(i * len(rows)) // limit] for i in range(limit)]
    return rows
