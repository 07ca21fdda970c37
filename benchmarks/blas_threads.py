"""A stage's CPU and bytes with its BLAS threads pinned (``[run] blas_threads``) and not.

    .venv/bin/python benchmarks/blas_threads.py --study /tmp/vnen_scale3/n10000 --stages design \\
        --variant pinned: --variant env1:OPENBLAS_NUM_THREADS=1 --variant threads2:blas_threads=2

Each variant copies the study folder (``study.toml``, its corpus, its output folder and cache: a prepared
cache makes the stages quick to start) into a fresh folder under ``--work`` and runs each of ``--stages``
there as ``python -m analysis <stage>`` (this checkout's code), one after another. A variant is
``name:`` followed by comma-separated changes: ``NAME=VALUE`` in capitals sets an environment variable of the
stage process (``OPENBLAS_NUM_THREADS=1``); ``key=value`` in lower case sets ``[run] key`` in the copy's study
file (``blas_threads=2`` runs the BLAS with two threads, OpenBLAS's own default on a 2-core machine, as the
stages ran before they were pinned). Per stage: wall seconds, CPU seconds of the stage's process tree (user +
system of the waited-for children, ``resource.getrusage``), the largest single process's peak RSS, the 1-minute
load average at the start and end, and how many files of the output folder differ in bytes (SHA-256) from the
first variant's, with their names. The machine's load counts: OpenBLAS's idle threads spin, and on a loaded
machine that waiting is CPU time. Prints a table and writes ``benchmarks/results/blas_threads.csv``.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import os
import re
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

#: Runs the stage as its child and writes the largest peak RSS among the processes it waited for (kB): the
#: stage's own, per stage (this script's RUSAGE_CHILDREN keeps the largest of every stage so far).
LAUNCHER = (
    "import resource, subprocess, sys\n"
    "code = subprocess.run(sys.argv[2:]).returncode\n"
    "open(sys.argv[1], 'w').write(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss))\n"
    "sys.exit(code)\n"
)


def output_folder(study: Path) -> Path:
    match = re.search(r'^output\s*=\s*"([^"]*)"', study.read_text(encoding="utf-8"), re.M)
    return study.parent / (match.group(1) if match else "figures")


def digests(folder: Path) -> dict[str, str]:
    return {
        str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def prepare(source: Path, folder: Path, changes: list[str]) -> dict[str, str]:
    """Copy the study into ``folder`` and apply the ``[run]`` changes; the environment changes returned."""
    if folder.exists():
        shutil.rmtree(folder)
    shutil.copytree(source, folder, symlinks=True)
    env, study = {}, folder / "study.toml"
    for change in changes:
        key, value = change.split("=", 1)
        if key.isupper():
            env[key] = value
        else:
            text = study.read_text(encoding="utf-8")
            text = re.sub(rf"^{key}\s*=.*$\n?", "", text, flags=re.M)  # the key once, in [run]
            study.write_text(text.replace("[run]\n", f"[run]\n{key} = {value}\n", 1), encoding="utf-8")
    return env


def run_stage(folder: Path, stage: str, env: dict[str, str]) -> dict:
    environment = {**os.environ, **env, "PYTHONPATH": str(ROOT), "MPLBACKEND": "Agg"}
    environment.setdefault("SOURCE_DATE_EPOCH", "1712188800")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    load = os.getloadavg()[0]
    start = time.perf_counter()
    peak = folder / ".peak_kb"
    done = subprocess.run(
        [sys.executable, "-c", LAUNCHER, str(peak), sys.executable, "-m", "analysis", stage, "--quiet"],
        cwd=folder,
        env=environment,
        capture_output=True,
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode:
        raise SystemExit(f"{stage} failed in {folder}: {done.stderr.decode(errors='replace').strip()[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"wall_s": round(wall, 1), "cpu_s": round(cpu, 1), "peak_mb": round(int(peak.read_text()) / 1024),
            "load_start": round(load, 2), "load_end": round(os.getloadavg()[0], 2)}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--study", type=Path, required=True, help="a study folder with study.toml (copied)")
    parser.add_argument("--stages", default="design", help="comma-separated stages, run in this order")
    parser.add_argument("--variant", action="append", required=True, help="name:CHANGE,change (see above)")
    parser.add_argument("--work", type=Path, default=Path("/tmp/blas_threads"), help="where the copies go")
    args = parser.parse_args()
    rows, first = [], None
    for variant in args.variant:
        name, _, changes = variant.partition(":")
        folder = args.work / name
        env = prepare(args.study.resolve(), folder, [c for c in changes.split(",") if c])
        for stage in args.stages.split(","):
            row = {"variant": name, "changes": changes, "stage": stage, **run_stage(folder, stage, env)}
            rows.append(row)
            print(row, flush=True)
        hashes = digests(output_folder(folder / "study.toml"))
        first = hashes if first is None else first
        differ = sorted(k for k in set(first) | set(hashes) if first.get(k) != hashes.get(k))
        rows[-1]["files"] = len(hashes)
        rows[-1]["differ_from_first"] = len(differ)
        rows[-1]["differing"] = " ".join(differ)
    columns = ["variant", "changes", "stage", "wall_s", "cpu_s", "peak_mb", "load_start", "load_end", "files"]
    columns += ["differ_from_first", "differing"]
    print("| " + " | ".join(columns) + " |\n|" + " --- |" * len(columns))
    for row in rows:
        print("| " + " | ".join(str(row.get(c, "")) for c in columns) + " |")
    out = ROOT / "benchmarks" / "results" / "blas_threads.csv"
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
