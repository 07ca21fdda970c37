"""What the topics stage's parent holds, step by step, and the peak of its process tree (issue 24:
every stage at most 4 GB at ~81,000-100,000 articles).

Runs ``analysis.stages.topics.run_topics`` on a study (a prepared cache makes the reading cheap;
set ``[topics] k`` and a one-value ``k_range`` with one seed to keep the fits cheap when only
memory is wanted) in this process, with the fits in ``--workers`` spawned workers as the stage
runs them, and after each of its steps (its ``checkpoint`` hook) prints the parent's RSS (after a garbage
collection) and the largest summed RSS of the process tree so far (psutil, every 0.1 s), with
the CPU seconds of the parent. RSS is what the operating system gives the process: memory that
Python freed but cannot hand back (small objects share pages) still counts, as it does for the
goal.

    .venv/bin/python benchmarks/topics_memory.py --study /tmp/n10000/study_k10.toml [--label after]

Writes ``benchmarks/results/topics_memory[_<label>].csv`` (one row per step) and prints a table.
"""

from __future__ import annotations

import argparse
import csv
import gc
import resource
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import RESULTS, log  # noqa: E402


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--study", required=True, type=Path)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--label", default="")
    parser.add_argument(
        "--no-fits", action="store_true", help="stop once the corpora are built (no fit, nothing written)"
    )
    args = parser.parse_args(argv)

    import psutil

    proc = psutil.Process()
    peak = [0]
    rows: list[dict] = []
    started = time.process_time()

    def poll():
        while True:
            total = 0
            for p in [proc, *proc.children(recursive=True)]:
                try:
                    total += p.memory_info().rss
                except psutil.NoSuchProcess:
                    pass
            peak[0] = max(peak[0], total)
            time.sleep(0.1)

    def step(name: str, note: str = "") -> None:
        gc.collect()
        row = {
            "step": name,
            "parent_mb": round(proc.memory_info().rss / 2**20),
            "tree_peak_mb": round(peak[0] / 2**20),
            "parent_cpu_s": round(time.process_time() - started, 1),
            "note": note,
        }
        rows.append(row)
        log(f"{name}: parent {row['parent_mb']} MB, tree peak so far {row['tree_peak_mb']} MB {note}")

    threading.Thread(target=poll, daemon=True).start()
    step("start")
    from analysis.files import read_study
    from analysis.stages.topics import run_topics

    step("imports")
    study = read_study(args.study)

    class Stop(Exception):
        """Raised after the corpora are built with --no-fits."""

    def checkpoint(name: str, note: str = "") -> None:
        step(name, note)
        if args.no_fits and name.startswith("units released"):
            raise Stop

    try:
        run_topics(study, workers=args.workers, checkpoint=checkpoint)
    except Stop:
        pass
    return finish(rows, label=args.label)


def finish(rows: list[dict], *, label: str) -> int:
    """Write the CSV, print the table."""
    rows[-1]["note"] += f"; parent max RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024} MB"
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"topics_memory{'_' + label if label else ''}.csv"
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    print("| step | parent MB | tree peak MB | parent CPU s | note |\n| --- | ---: | ---: | ---: | --- |")
    for row in rows:
        print(f"| {row['step']} | {row['parent_mb']} | {row['tree_peak_mb']} | {row['parent_cpu_s']} | {row['note']} |")
    log(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
