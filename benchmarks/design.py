"""Benchmark of the ``design`` stage beside the ``framing`` stage: wall time and peak memory.

Goal (issue 15): the design layer adds no more than the framing stage itself costs, at 2,000 and
10,000 documents. The study: VNTC (Vietnamese) and BBC (English) articles, 4:1, with the seed
study's settings and its design sections on a ``[[compare]]`` vi vs en within a section, a monthly
``[time]`` series with one ``[[time.event]]``, and ``[model] formula = "language + spline(date, 4)"``
clustered by outlet with the mixed model; and the topic parts (issue 15): a second contrast inside
Vietnamese (section s0 vs s1) on ``topics`` and ``words``, ``topics`` in the ``[time]`` series and
``[model] topics = true`` (method of composition, 100 draws per model). Those read the topics
stage's saved models, so the topics stage runs before the design stage (with K fixed at 5, one
seed and at most 200 Gibbs iterations, to keep the benchmark's setup short; its time is printed
but is not part of the goal: it is the topics stage's cost, not the design layer's).

The shared corpora have no dates and no outlets, so both are synthetic and documented here:
``date`` = 2024-01-01 plus (document number × 7919 mod 366) days (spread evenly over 2024, not
ordered by category); ``outlet`` = one of 20 per language by document number mod 20
(``vi-03``, ``en-17``); ``section`` = document number mod 3. Each stage runs in its own process
(the same runner as ``benchmarks/benchmark.py``); the preparation cache is filled first, so the
times are of the stages themselves. Writes ``benchmarks/results/design.csv`` and prints a table.

    .venv/bin/python benchmarks/design.py --sizes 2000,10000
"""

from __future__ import annotations

import argparse
import csv
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import CORPORA, RESULTS, ROOT, log, select_rows  # noqa: E402

RUNNER = (
    "import sys; from analysis import cli; status = cli.main([sys.argv[1], '--study', sys.argv[2], '--quiet']);"
    "print('PEAK', next(int(l.split()[1]) / 1024 for l in open('/proc/self/status') if "
    "l.startswith('VmHWM:'))); sys.exit(status)"
)

SETTINGS = {
    "folder": f'"{CORPORA.as_posix()}"',
    "metadata": '"metadata.csv"',
    "kind": '"document"',
    "output": '"out"',
    "cache": '"../cache"',
    "workers": "2",
    "k": "5",
    "seeds": "[1]",
    "max_iterations": "200",
}

DESIGN = """
[[compare]]
name = "vi-vs-en-within-section"
groups = [{ language = "vi" }, { language = "en" }]
within = "section"
measures = ["frames"]
cluster = "outlet"

[[compare]]
name = "vi-s0-vs-s1"
groups = [{ language = "vi", section = "s0" }, { language = "vi", section = "s1" }]
measures = ["topics", "words"]
cluster = "outlet"

[time]
freq = "month"
measures = ["frames", "topics"]

[[time.event]]
name = "mid-year"
date = 2024-06-15
window = 30

[model]
formula = "language + spline(date, 4)"
cluster = "outlet"
mixed = true
topics = true
draws = 100
"""


def study(folder: Path, n: int) -> Path:
    """A bilingual study of ``n`` documents (4/5 VNTC, 1/5 BBC) with synthetic date, outlet, section."""
    folder.mkdir(parents=True, exist_ok=True)
    n_en = n // 5
    with open(folder / "metadata.csv", "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["doc_id", "file", "language", "outlet", "event", "section", "date", "title"])
        number = 0
        for corpus, count in (("vntc_sample", n - n_en), ("bbc_news", n_en)):
            for r in select_rows(CORPORA / corpus, count):
                day = (number * 7919) % 366
                date = time.strftime("%Y-%m-%d", time.gmtime(1704067200 + day * 86400))
                writer.writerow(
                    [
                        r["doc_id"],
                        f"{corpus}/{r['path']}",
                        r["language"],
                        f"{r['language']}-{number % 20:02d}",
                        r["category"],
                        f"s{number % 3}",
                        date,
                        "",
                    ]
                )
                number += 1
    lines = []
    for line in (ROOT / "study.toml").read_text(encoding="utf-8").split("# ---- Design layer")[0].splitlines():
        key = line.split("=", 1)[0].strip()
        lines.append(f"{key} = {SETTINGS[key]}" if "=" in line and key in SETTINGS else line)
    (folder / "study.toml").write_text("\n".join(lines) + "\n" + DESIGN, encoding="utf-8")
    return folder / "study.toml"


def run_stage(stage: str, path: Path) -> tuple[float, float, bool, str]:
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", RUNNER, stage, str(path)], cwd=path.parent, capture_output=True, text=True
    )
    seconds = time.perf_counter() - started
    peak = next((float(line.split()[1]) for line in done.stdout.splitlines() if line.startswith("PEAK ")), float("nan"))
    error = "" if done.returncode == 0 else (done.stderr.strip().splitlines() or ["?"])[-1][:200]
    return seconds, peak, done.returncode == 0, error


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="2000,10000")
    parser.add_argument("--workdir", default="/tmp/vnen_design_bench")
    parser.add_argument("--out", default=str(RESULTS))
    args = parser.parse_args(argv)
    if not (CORPORA / "vntc_sample" / "metadata.csv").is_file():
        print(f"error: {CORPORA} not found (fix: put the shared corpora beside this checkout)", file=sys.stderr)
        return 2
    rows = []
    for n in [int(s) for s in args.sizes.split(",")]:
        path = study(Path(args.workdir) / f"n{n}", n)
        log(f"{n} documents: prepare (fills the cache)")
        prep = run_stage("prepare", path)
        log(f"  prepare {prep[0]:.0f} s")
        result = {}
        for stage in ("framing", "topics", "design"):
            log(f"{n} documents: {stage}")
            result[stage] = run_stage(stage, path)
            log(f"  {stage}: {result[stage][0]:.1f} s, peak {result[stage][1]:.0f} MB {result[stage][3]}")
        f, d, t = result["framing"], result["design"], result["topics"]
        rows.append(
            {
                "documents": n,
                "framing_seconds": round(f[0], 1),
                "framing_peak_mb": round(f[1]),
                "topics_seconds": round(t[0], 1),
                "topics_peak_mb": round(t[1]),
                "design_seconds": round(d[0], 1),
                "design_peak_mb": round(d[1]),
                "time_ratio": round(d[0] / f[0], 2),
                "memory_ratio": round(d[1] / f[1], 2),
                "goal": "design <= framing (ratio <= 1)",
                "met": d[2] and d[0] <= f[0] and d[1] <= f[1],
                "errors": "; ".join(e for e in (f[3], t[3], d[3]) if e),
            }
        )
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "design.csv", "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    for r in rows:
        print("  ".join(f"{k}={v}" for k, v in r.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
