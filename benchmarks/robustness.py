"""Benchmark of the ``robustness`` stage: a grid of 48 specifications against one full study run.

Goal: on a bilingual study of 2,000 real articles (1,000 VNTC + 1,000 BBC), the multiverse of at
least 48 specifications runs in at most 3x the wall time of one full study run, thanks to caching
(preparations shared by specifications, annotations shared by tasks, estimates in parallel).

The study: ``--size`` articles, half from ``vntc_sample`` and half from ``bbc_news`` (evenly spread
over each corpus's metadata, every category kept: :func:`common.select_rows`), with the seed study's
settings except: document units, ``[framing] cluster = "outlet"`` (so every headline p and interval
is the outlet-level one), and the topics stage shortened as in ``benchmarks/design.py`` (K = 5, one
seed, at most 200 Gibbs iterations). The shared corpora have no outlets and no events, so both are
synthetic: ``outlet`` = one of 10 per language by document number mod 10 (``vi-03``, ``en-07``);
``event`` = the corpus's category. Outlets nest in languages (10 a side), as in a real study.

The grid (2 x 2 x 2 x 3 x 2 = 48): segmenter (underthesea, pyvi) x learned boilerplate (on, off) x
English lemmas (on, off) x denominator (sentences, tokens, presence) x ``min_hits`` (1, 2), on the
frame and concept comparisons between the languages, 1,000 permutations and 500 outlet-bootstrap
resamples per estimate.

Measured: (1) one full study run from an empty cache, every stage in its own process as make runs
it (prepare, frequencies, framing, topics, equivalence, manifest, appendix), on the study without
``[robustness]``; (2) the ``robustness`` stage of the same study with the section, after it (the
cache as the full run left it: the baseline preparation is reused, pyvi's is made, and the two
without learned boilerplate re-prepare only the documents a learned rule cut: the cache key holds
only the rules that changed a document, :func:`analysis.text.prepare.document_keys`).
Writes ``benchmarks/results/robustness.csv`` and prints a table.

    .venv/bin/python benchmarks/robustness.py --size 2000
"""

from __future__ import annotations

import argparse
import csv
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import CORPORA, RESULTS, ROOT, log, select_rows  # noqa: E402

SETTINGS = {
    "folder": f'"{CORPORA.as_posix()}"',
    "metadata": '"metadata.csv"',
    "kind": '"document"',
    "output": '"out"',
    "cache": '"cache"',
    "workers": "2",
    "k": "5",
    "seeds": "[1]",
    "max_iterations": "200",
    "kwic_terms": "[]",
    "cluster": '"outlet"',
}

ROBUSTNESS = """
[robustness]
permutations = 1000
bootstrap = 500

[robustness.grid]
segmenter = ["underthesea", "pyvi"]
learn_boilerplate = [true, false]
lemmatize_en = [true, false]
denominator = ["sentences", "tokens", "presence"]
min_hits = [1, 2]
"""

FULL_RUN = ("prepare", "frequencies", "framing", "topics", "equivalence", "manifest", "appendix")


def study(folder: Path, size: int) -> Path:
    """The bilingual study of ``size`` articles (half VNTC, half BBC) with synthetic outlets."""
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    with open(folder / "metadata.csv", "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["doc_id", "file", "language", "outlet", "event", "title"])
        for corpus, count in (("vntc_sample", size - size // 2), ("bbc_news", size // 2)):
            for number, r in enumerate(select_rows(CORPORA / corpus, count)):
                writer.writerow(
                    [
                        r["doc_id"],
                        f"{corpus}/{r['path']}",
                        r["language"],
                        f"{r['language']}-{number % 10:02d}",
                        r["category"],
                        "",
                    ]
                )
    lines = []
    for line in (ROOT / "study.toml").read_text(encoding="utf-8").split("# ---- Design layer")[0].splitlines():
        key = line.split("=", 1)[0].strip()
        lines.append(f"{key} = {SETTINGS[key]}" if "=" in line and key in SETTINGS else line)
    # The full run reads a study without [robustness] (its appendix must not wait for the multiverse);
    # the grid's study is the same with the section, writing elsewhere and sharing the cache.
    (folder / "study_full.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    grid = [line.replace('output = "out"', 'output = "out_grid"') for line in lines]
    (folder / "study.toml").write_text("\n".join(grid) + "\n" + ROBUSTNESS, encoding="utf-8")
    return folder / "study.toml"


def run_stage(stage: str, path: Path) -> tuple[float, bool, str]:
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "analysis", stage, "--study", str(path), "--quiet"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    seconds = time.perf_counter() - started
    error = "" if done.returncode == 0 else (done.stderr.strip().splitlines() or ["?"])[-1][:200]
    return seconds, done.returncode == 0, error


def load() -> float:
    return float(Path("/proc/loadavg").read_text().split()[0]) if Path("/proc/loadavg").is_file() else float("nan")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=2000)
    parser.add_argument("--workdir", default="/tmp/vnen_robustness_bench")
    parser.add_argument("--out", default=str(RESULTS))
    args = parser.parse_args(argv)
    if not (CORPORA / "vntc_sample" / "metadata.csv").is_file():
        print(f"error: {CORPORA} not found (fix: put the shared corpora beside this checkout)", file=sys.stderr)
        return 2
    path = study(Path(args.workdir) / f"n{args.size}", args.size)
    loads = [load()]
    full, errors = 0.0, []
    for stage in FULL_RUN:
        seconds, ok, error = run_stage(stage, path.parent / "study_full.toml")
        full += seconds
        loads.append(load())
        log(f"{stage}: {seconds:.1f} s{'' if ok else ' FAILED ' + error}")
        if not ok:
            errors.append(f"{stage}: {error}")
    grid, ok, error = run_stage("robustness", path)
    loads.append(load())
    log(f"robustness: {grid:.1f} s{'' if ok else ' FAILED ' + error}")
    if not ok:
        errors.append(f"robustness: {error}")
    specifications = 0
    summary = path.parent / "out_grid" / "robustness_summary.csv"
    verdicts = ""
    if summary.is_file():
        with open(summary, encoding="utf-8", newline="") as handle:
            table = list(csv.DictReader(handle))
        specifications = max((int(r["specifications"]) for r in table), default=0)
        robust = sum(r["verdict"] == "robust" for r in table)
        verdicts = f"{robust} of {len(table)} claims robust"
    row = {
        "documents": args.size,
        "specifications": specifications,
        "full_run_seconds": round(full, 1),
        "grid_seconds": round(grid, 1),
        "ratio": round(grid / full, 2) if full else float("nan"),
        "goal": "grid <= 3 x full run",
        "met": ok and not errors and grid <= 3 * full,
        "load_min": min(loads),
        "load_max": max(loads),
        "verdicts": verdicts,
        "errors": "; ".join(errors),
    }
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "robustness.csv", "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(row))
        writer.writeheader()
        writer.writerow(row)
    width = max(len(k) for k in row)
    for key, value in row.items():
        print(f"{key:<{width}}  {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
