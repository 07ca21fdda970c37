"""Benchmark of the ``framing`` stage's peak memory and wall time at 2,000 and 10,000 documents.

The study is the one ``benchmarks/design.py`` builds (4/5 VNTC, 1/5 BBC, synthetic date, outlet
and section; the seed study's ``[framing]`` settings: 5,000 permutations, word keyness within
each language by ``event`` and ``outlet``). The preparation cache is filled first; then the
framing stage runs in a fresh process (peak RSS = that process's ``VmHWM``). With
``--attribute``, a second run samples the process's RSS every 20 ms from a thread and records
the main thread's stack (the innermost frames in ``analysis/``) whenever the RSS reaches a new
high, so the table says which code holds the peak; it slows nothing measurable but is a separate
run, so its time is not reported. The output folder of each run is hashed (SHA-256 over every
file's name and bytes, sorted), so a change of code can be checked for byte-identical outputs.

Writes ``benchmarks/results/framing_memory.csv`` (and ``framing_memory_peaks.csv`` with
``--attribute``) and prints a table; with two sizes or more, the slope of the peak (MB per 1,000
documents, between consecutive sizes) and the peak projected linearly to 100,000 documents.

    .venv/bin/python benchmarks/framing_memory.py --sizes 2000,10000 [--attribute]
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import CORPORA, RESULTS, log  # noqa: E402
from design import run_stage, study  # noqa: E402

#: Runs the stage with a sampling thread: on every new RSS high, the main thread's innermost
#: frames under analysis/ are printed as ``HIGH <MB> <file:line:function> < ...``.
ATTRIBUTE = r"""
import sys, threading, time, traceback
from analysis import cli
main = threading.main_thread().ident
best = [0.0]
lines = []
def rss():
    with open('/proc/self/statm') as f:
        return int(f.read().split()[1]) * 4096 / 2**20
def sample():
    while True:
        r = rss()
        if r > best[0] + 20:
            best[0] = r
            frame = sys._current_frames().get(main)
            stack = [f for f in traceback.extract_stack(frame) if '/analysis/' in f.filename][-4:]
            where = ' < '.join('%s:%d:%s' % (f.filename.rsplit('/', 1)[-1], f.lineno, f.name) for f in reversed(stack))
            lines.append('HIGH %.0f %s' % (r, where))
        time.sleep(0.02)
threading.Thread(target=sample, daemon=True).start()
status = cli.main([sys.argv[1], '--study', sys.argv[2], '--quiet'])
print('\n'.join(lines))
print('PEAK', next(int(l.split()[1]) / 1024 for l in open('/proc/self/status') if l.startswith('VmHWM:')))
sys.exit(status)
"""


def folder_hash(folder: Path) -> str:
    """SHA-256 over the sorted relative paths and bytes of every file in ``folder``."""
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(path.relative_to(folder).as_posix().encode() + b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()


def slope(rows: list[dict], *, at: int = 100_000) -> None:
    """Add to each row after the first the peak's growth per 1,000 documents since the previous size
    (``(peak_b - peak_a) / (n_b - n_a) * 1000``) and the peak projected linearly to ``at`` documents."""
    for previous, row in zip(rows, rows[1:]):
        per = (row["peak_mb"] - previous["peak_mb"]) / (row["documents"] - previous["documents"]) * 1000
        row["mb_per_1000_docs"] = round(per, 1)
        row[f"projected_{at // 1000}k_mb"] = round(row["peak_mb"] + per * (at - row["documents"]) / 1000)


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def attribute(path: Path) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-c", ATTRIBUTE, "framing", str(path)], cwd=path.parent, capture_output=True, text=True
    )
    return [line[5:] for line in done.stdout.splitlines() if line.startswith("HIGH ")]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="2000,10000")
    parser.add_argument("--workdir", default="/tmp/vnen_framing_memory")
    parser.add_argument("--out", default=str(RESULTS))
    parser.add_argument("--label", default="", help="a name for this run in the CSV (e.g. before, after)")
    parser.add_argument(
        "--attribute", action="store_true", help="also a sampled run that attributes each new RSS high to code"
    )
    args = parser.parse_args(argv)
    if not (CORPORA / "vntc_sample" / "metadata.csv").is_file():
        print(f"error: {CORPORA} not found (fix: put the shared corpora beside this checkout)", file=sys.stderr)
        return 2
    rows, peaks = [], []
    for n in [int(s) for s in args.sizes.split(",")]:
        path = study(Path(args.workdir) / f"n{n}", n)
        log(f"{n} documents: prepare (fills the cache)")
        run_stage("prepare", path)
        shutil.rmtree(path.parent / "out", ignore_errors=True)
        before = load()
        log(f"{n} documents: framing (load {before})")
        seconds, peak, ok, error = run_stage("framing", path)
        after = load()
        digest = folder_hash(path.parent / "out") if ok else ""
        log(f"  {seconds:.1f} s, peak {peak:.0f} MB, outputs {digest[:12]} {error}")
        rows.append(
            {
                "label": args.label,
                "documents": n,
                "seconds": round(seconds, 1),
                "peak_mb": round(peak),
                "ok": ok,
                "load_before": before,
                "load_after": after,
                "outputs_sha256": digest,
                "error": error,
            }
        )
        if args.attribute:
            log(f"{n} documents: framing, sampled")
            for line in attribute(path):
                mb, where = line.split(" ", 1)
                peaks.append({"label": args.label, "documents": n, "rss_mb": mb, "where": where})
    for row in rows:
        row.update({"mb_per_1000_docs": "", "projected_100k_mb": ""})
    slope(rows)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    name = f"framing_memory{'_' + args.label if args.label else ''}"
    with open(out / f"{name}.csv", "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    if peaks:
        with open(out / f"{name}_peaks.csv", "w", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(peaks[0]))
            writer.writeheader()
            writer.writerows(peaks)
        for p in peaks:
            print(f"  n={p['documents']}  {p['rss_mb']:>6} MB  {p['where']}")
    print(
        "| documents | seconds | peak MB | MB per 1,000 documents (since the previous size) | projected at 100,000 "
        "| load (1, 5, 15 min) before / after | outputs (SHA-256) |"
    )
    print("| ---: | ---: | ---: | ---: | ---: | --- | --- |")
    for r in rows:
        print(
            (
                f"| {r['documents']:,} | {r['seconds']} | {r['peak_mb']:,} | {r['mb_per_1000_docs']} | "
                f"{r['projected_100k_mb']} | {r['load_before']} / {r['load_after']} | {r['outputs_sha256'][:12]} |"
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
