"""Peak memory of preparing Vietnamese text that has no line breaks (issue 14).

Before the bound, underthesea was handed a whole paragraph at once: 2 MB on one line peaked at
3.3 GB, 20 MB aborted. Now a paragraph is cut at sentence ends into pieces of at most
``analysis.text.tokens.SEGMENT_CHARS`` characters. Each size runs in a fresh process; the same text
with a line break per article is the baseline.

    .venv/bin/python benchmarks/long_lines.py                 # 0.3 MB and 2 MB (about 2 minutes)
    .venv/bin/python benchmarks/long_lines.py --sizes 300000  # quick check

Writes ``benchmarks/results/long_lines.csv``. Goal: one line peaks at most 1.25x the baseline's RSS, and
at most 1 GB at 2 MB.
"""

from __future__ import annotations

import argparse
import csv
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpora" / "vntc_sample"

PROBE = r"""
import resource, sys, time
from pathlib import Path
from analysis.corpus.documents import Document
from analysis.text.prepare import Preparation, prepare_document
size, joiner = int(sys.argv[1]), sys.argv[2]
parts, total = [], 0
for p in sorted(Path(sys.argv[3]).glob("*.txt")):
    t = " ".join(p.read_text(encoding="utf-8").split())
    parts.append(t); total += len(t) + 1
    if total >= size: break
text = (" " if joiner == "space" else "\n").join(parts)[:size]
prep = Preparation(Path("analysis/resources/boilerplate.toml").read_text(encoding="utf-8"), "default", (), ())
t0 = time.perf_counter()
doc = prepare_document(Document("long", "vi", text), prep)
peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
print(len(text), sum(1 for _ in doc.tokens()), round(time.perf_counter() - t0, 1), peak_mb)
"""


def probe(size: int, joiner: str) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(size), joiner, str(CORPUS)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )
    chars, tokens, seconds, rss = done.stdout.split()
    return {
        "chars": int(chars),
        "layout": "one line" if joiner == "space" else "a line per article",
        "tokens": int(tokens),
        "seconds": float(seconds),
        "peak_rss_mb": int(rss),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="300000,2000000")
    args = parser.parse_args()
    if not CORPUS.is_dir():
        print(f"skipped: {CORPUS} not found")
        return 0
    rows = []
    for size in map(int, args.sizes.split(",")):
        base, long = probe(size, "newline"), probe(size, "space")
        ratio = long["peak_rss_mb"] / base["peak_rss_mb"]
        goal_ok = ratio <= 1.25 and (size < 2_000_000 or long["peak_rss_mb"] <= 1024)
        rows += [
            base,
            {**long, "rss_vs_baseline": round(ratio, 2), "goal": "<= 1.25x and <= 1 GB at 2 MB", "met": goal_ok},
        ]
    out = ROOT / "benchmarks" / "results" / "long_lines.csv"
    out.parent.mkdir(exist_ok=True)
    fields = ["chars", "layout", "tokens", "seconds", "peak_rss_mb", "rss_vs_baseline", "goal", "met"]
    with open(out, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)
    print("| " + " | ".join(fields) + " |\n|" + " --- |" * len(fields))
    for row in rows:
        print("| " + " | ".join(str(row.get(f, "")) for f in fields) + " |")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
