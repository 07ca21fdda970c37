"""Scale benchmark: a bilingual study as ``python -m analysis init`` writes it, on real articles,
at 10,000, 30,000 and ~81,000 documents; per stage wall time, CPU time, peak memory of the
process tree and output bytes, measured against the scale goals.

The corpus: every BBC article (``../shared/corpora/bbc_news``, 2,225, English) plus ``N - 2,225``
VNTC articles spread evenly over ``../shared/corpora/vntc_full/vntc_full.parquet`` (78,710,
Vietnamese; rows taken at ``i * 78,710 // n`` so every category keeps its share), written as one
Parquet table with columns ``doc_id, language, text, category, outlet, date``. The shared corpora
have no outlets and no dates, so both are synthetic and said here: ``outlet`` = one of 20 per
language by row number mod 20 (``vi-03``, ``en-17``); ``date`` = 2024-01-01 plus (row number ×
7919 mod 366) days. ``full`` = all 78,710 + 2,225 = 80,935 documents (no documents are added).
One VNTC article has four U+0014 control characters, which the toolkit refuses (one line naming
the record); the table is written with every control character other than tab and line ends
replaced by a space (``without_controls``).

The study: ``python -m analysis init --table articles.parquet`` as written (its columns, groups, K
range, ``[[compare]]`` of vi against en by outlet, weekly ``[time]`` series and ``[model]`` on
``language`` by outlet), with the model's topic prevalence switched on (unless ``--skip-topics``)
and a ``[validation]`` coding sample appended (README "Validating the dictionary");
``[equivalence]`` has no translated sample here (``parallel = ""``), so that stage writes the
pattern sources and the codebook audit. Stages run in the order of the Makefile, each as
``python -m analysis <stage> --study ...`` in a fresh process; ``--skip-topics`` leaves the topics
stage out (and the topic measures of the design sections, which read its models).

Measured per stage:

* wall: ``time.perf_counter`` around the subprocess;
* CPU: user + system of the stage and every descendant it waited for
  (``resource.getrusage(RUSAGE_CHILDREN)`` before and after; the worker pools of preparation and
  topics are included);
* peak memory: the largest sum of RSS over the stage's process tree (``psutil``, polled every
  0.1 s). Summed RSS counts pages shared between a parent and its forked workers once per process,
  so it is an upper bound of the tree's real footprint; the stage process's own ``VmHWM`` cannot
  be read after it exits, so the poll is the measure (a spike shorter than 0.1 s can be missed);
* output bytes: files in the study's output folder created or changed by the stage (size after);
  the preparation cache is reported separately (``cache``).

Goals (issue "A 100,000-article study on one machine"): every stage ≤ 4 GB peak for its whole tree;
the 10,000-document study ≤ 15 minutes wall for all stages; the full-size study ≤ 3 hours.
Output bytes per 10,000 documents are reported (no goal). The machine is shared: the load average
before and after each stage is in the CSV.

A second section, ``--prep-overhead``, measures the preparation stage against the bare segmenter:
the CPU of ``python -m analysis prepare`` on a 1,000-text Vietnamese table (cold cache, one
worker) against a fresh process that imports ``underthesea``, reads the same 1,000 texts from the
same Parquet table and calls ``underthesea.word_tokenize`` on each (goal ≤ 1.15×), then the same
stage again on the filled cache (goal ≤ 10% of the cold run), whose output files must be the cold
run's bytes. The smallest of ``--prep-rounds`` interleaved rounds (default 2) is reported, every
round's value logged.

Writes ``benchmarks/results/scale_<sizes>.csv`` (one row per size and stage, plus the goal rows)
and prints a table.

    .venv/bin/python benchmarks/scale.py --sizes 10000 [--skip-topics] [--prep-overhead]
    .venv/bin/python benchmarks/scale.py --sizes 10000,30000,full
"""

from __future__ import annotations

import argparse
import csv
import os
import re
import resource
import shutil
import subprocess
import sys
import threading
import time
import tomllib
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import CORPORA, RESULTS, ROOT, log  # noqa: E402

VNTC = CORPORA / "vntc_full" / "vntc_full.parquet"
BBC = CORPORA / "bbc_news"
FULL = "full"

#: Stages in the order the Makefile runs them.
STAGES = (
    "prepare",
    "frequencies",
    "framing",
    "topics",
    "design",
    "equivalence",
    "validation",
    "explore",
    "manifest",
    "appendix",
)

GB = 1024**3

DESIGN = """
# ---- Appended by benchmarks/scale.py: a coding sample for the validation stage.
[validation]
unit = "document"
per_stratum = 50
coders = 2
seed = 20240408
"""


#: C0/C1 control characters other than tab and line ends: the toolkit refuses a text with one
#: (``analysis.text.normalize.check_characters``), and one VNTC article has four U+0014.
CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def without_controls(text: str) -> str:
    """``text`` with each control character replaced by a space: the fix the toolkit's error names
    ("remove it from the file"), applied as a researcher would before reading the table."""
    return CONTROLS.sub(" ", text)


def build_table(folder: Path, n: int | str) -> tuple[Path, int, int]:
    """Write ``folder/articles.parquet``: all BBC articles plus VNTC rows spread evenly; returns
    (path, Vietnamese documents, English documents)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "articles.parquet"
    vntc = pq.read_table(VNTC, columns=["doc_id", "category", "text"])
    total = vntc.num_rows
    with open(BBC / "metadata.csv", encoding="utf-8", newline="") as handle:
        bbc = list(csv.DictReader(handle))
    n_vi = total if n == FULL else int(n) - len(bbc)
    if not 0 < n_vi <= total:
        raise SystemExit(f"error: --sizes {n}: needs more than {len(bbc)} and at most {total + len(bbc)} documents")
    rows = [(i * total) // n_vi for i in range(n_vi)]
    vi = vntc.take(pa.array(rows))
    ids = vi["doc_id"].to_pylist() + [r["doc_id"] for r in bbc]
    texts = [without_controls(t) for t in vi["text"].to_pylist()]
    texts += [(BBC / r["path"]).read_text(encoding="utf-8") for r in bbc]
    categories = vi["category"].to_pylist() + [r["category"] for r in bbc]
    languages = ["vi"] * n_vi + ["en"] * len(bbc)
    outlets, dates = [], []
    for number, language in enumerate(languages):
        outlets.append(f"{language}-{number % 20:02d}")
        day = (number * 7919) % 366
        dates.append(time.strftime("%Y-%m-%d", time.gmtime(1704067200 + day * 86400)))
    table = pa.table(
        {"doc_id": ids, "language": languages, "text": texts, "category": categories, "outlet": outlets, "date": dates}
    )
    pq.write_table(table, path, compression="zstd", row_group_size=4096)
    return path, n_vi, len(bbc)


def write_study(folder: Path, skip_topics: bool) -> Path:
    """``init`` the study beside the table, then append the design and validation sections."""
    study = folder / "study.toml"
    study.unlink(missing_ok=True)
    done = subprocess.run(
        [sys.executable, "-m", "analysis", "init", "--table", "articles.parquet", "--study", "study.toml"],
        cwd=folder,
        capture_output=True,
        text=True,
        env=_env(),
    )
    if done.returncode:
        raise SystemExit(f"init failed: {done.stderr.strip()}")
    text = study.read_text(encoding="utf-8")
    if not skip_topics:  # init leaves the topic-prevalence model off; the benchmark measures it
        text = text.replace("\ntopics = false ", "\ntopics = true  ", 1)
    text += DESIGN
    study.write_text(text, encoding="utf-8")
    return study


def _env() -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


def _snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    out = {}
    if folder.is_dir():
        for path in folder.rglob("*"):
            if path.is_file():
                st = path.stat()
                out[str(path)] = (st.st_size, st.st_mtime_ns)
    return out


def _tree_rss(proc) -> int:
    import psutil

    total = 0
    try:
        procs = [proc, *proc.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0
    for p in procs:
        try:
            total += p.memory_info().rss
        except psutil.NoSuchProcess:
            pass
    return total


def _kill_tree(proc) -> None:
    import psutil

    try:
        procs = [*proc.children(recursive=True), proc]
    except psutil.NoSuchProcess:
        return
    for p in procs:
        try:
            p.kill()
        except psutil.NoSuchProcess:
            pass


def run_measured(args: list[str], cwd: Path, memory_limit: int = 0, timeout: float = 0) -> dict:
    """Run ``args`` in a fresh process; wall, CPU (tree), peak summed RSS of the tree.

    ``memory_limit`` (bytes) and ``timeout`` (seconds), when set, stop the whole tree once it is
    over either; the row then says so in ``error`` (a shared machine must not run out of memory,
    and a stage that would take hours is reported as over its budget, not waited for)."""
    import psutil

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    popen = subprocess.Popen(args, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env())
    proc = psutil.Process(popen.pid)
    peak = [0]
    stop = threading.Event()

    stopped = [""]

    def poll():
        while not stop.is_set():
            peak[0] = max(peak[0], _tree_rss(proc))
            if memory_limit and peak[0] > memory_limit and not stopped[0]:
                stopped[0] = f"stopped: process tree over {memory_limit / 2**30:.1f} GB"
                _kill_tree(proc)
            if timeout and time.perf_counter() - started > timeout and not stopped[0]:
                stopped[0] = f"stopped: over {timeout:.0f} s wall"
                _kill_tree(proc)
            stop.wait(0.1)

    poller = threading.Thread(target=poll, daemon=True)
    poller.start()
    stdout, stderr = popen.communicate()
    stop.set()
    poller.join()
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    error = "" if popen.returncode == 0 else (stderr.strip().splitlines() or ["?"])[-1][:200]
    error = stopped[0] or error
    return {"wall_s": wall, "cpu_s": cpu, "peak_bytes": peak[0], "ok": popen.returncode == 0, "error": error}


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def run_size(
    workdir: Path,
    n: int | str,
    skip_topics: bool,
    keep_cache: bool,
    *,
    memory_limit: int = 0,
    timeout: float = 0,
    partial: Path | None = None,
    stages: list[str] | tuple[str, ...] = STAGES,
) -> list[dict]:
    folder = workdir / f"n{n}"
    log(f"{n}: building the table")
    table, n_vi, n_en = build_table(folder, n)
    study = write_study(folder, skip_topics)
    documents = n_vi + n_en
    settings = tomllib.loads(study.read_text(encoding="utf-8"))["run"]
    out = folder / settings.get("output", "figures")
    cache = folder / settings.get("cache", ".cache")
    shutil.rmtree(out, ignore_errors=True)
    if not keep_cache:
        shutil.rmtree(cache, ignore_errors=True)
    rows = []
    for stage in stages:
        if stage == "topics" and skip_topics:
            continue
        before_files = _snapshot(out)
        load_before = load()
        log(f"{n} ({documents} documents): {stage} (load {load_before})")
        m = run_measured(
            [sys.executable, "-m", "analysis", stage, "--study", str(study), "--quiet"],
            folder,
            memory_limit=memory_limit,
            timeout=timeout,
        )
        after_files = _snapshot(out)
        written = sum(size for p, (size, mt) in after_files.items() if before_files.get(p) != (size, mt))
        count = sum(1 for p, st in after_files.items() if before_files.get(p) != st)
        row = {
            "size": str(n),
            "documents": documents,
            "vi": n_vi,
            "en": n_en,
            "stage": stage,
            "wall_s": round(m["wall_s"], 1),
            "cpu_s": round(m["cpu_s"], 1),
            "peak_mb": round(m["peak_bytes"] / 2**20),
            "output_bytes": written,
            "output_files": count,
            "ok": m["ok"],
            "load_before": load_before,
            "load_after": load(),
            "error": m["error"],
        }
        if stage == "prepare":
            row["cache_bytes"] = sum(size for size, _ in _snapshot(cache).values())
        log(
            f"  {stage}: {row['wall_s']} s wall, {row['cpu_s']} s CPU, peak {row['peak_mb']} MB, "
            f"{written / 2**20:.1f} MB in {count} files {m['error']}"
        )
        rows.append(row)
        if partial is not None:  # every finished stage on disk at once: a long run stopped midway keeps its rows
            write_rows(partial, rows)
        if not m["ok"] and stage == "prepare":
            break
    return rows


def write_rows(path: Path, rows: list[dict]) -> None:
    """The per-stage rows as CSV (written to a temporary name, then renamed)."""
    columns = list(dict.fromkeys(k for r in rows for k in r))
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".csv.tmp")
    with open(temporary, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, columns)
        writer.writeheader()
        writer.writerows(rows)
    os.replace(temporary, path)


def goals(rows: list[dict]) -> list[dict]:
    """The goal rows of each size: per-stage peak, total wall, output bytes per 10,000 documents."""
    out = []
    for size in dict.fromkeys(r["size"] for r in rows):
        mine = [r for r in rows if r["size"] == size]
        documents = mine[0]["documents"]
        worst = max(mine, key=lambda r: r["peak_mb"])
        wall = sum(r["wall_s"] for r in mine)
        cpu = sum(r["cpu_s"] for r in mine)
        output = sum(r["output_bytes"] for r in mine)
        every = all(r["ok"] for r in mine)
        stages = "+".join(r["stage"] for r in mine)
        out.append(
            {
                "size": size,
                "measure": f"largest peak of a stage's process tree ({worst['stage']})",
                "value": f"{worst['peak_mb']} MB",
                "goal": "≤ 4096 MB",
                "met": "yes" if worst["peak_mb"] <= 4096 else "no",
            }
        )
        limit = 15 * 60 if documents <= 10_000 else 3 * 3600
        out.append(
            {
                "size": size,
                "measure": f"all stages, wall ({stages}; CPU {cpu:.0f} s)",
                "value": f"{wall:.0f} s",
                "goal": f"≤ {limit} s" + ("" if documents <= 10_000 else " (full size)"),
                "met": ("yes" if wall <= limit else "no") if every else "no (a stage failed)",
            }
        )
        out.append(
            {
                "size": size,
                "measure": "output bytes per 10,000 documents (output folder, every stage)",
                "value": f"{output * 10_000 / documents / 2**20:.1f} MB ({output / 2**20:.1f} MB in all)",
                "goal": "report",
                "met": "",
            }
        )
    return out


def prep_overhead(workdir: Path, n: int = 1000, rounds: int = 2) -> list[dict]:
    """CPU of the prepare stage (cold, then cached) against a bare ``word_tokenize`` loop; the smallest
    of ``rounds`` interleaved rounds, each round's value logged (the spread); the cached run's output
    files are checked to be the cold run's bytes."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder = workdir / f"prep{n}"
    folder.mkdir(parents=True, exist_ok=True)
    vntc = pq.read_table(VNTC, columns=["doc_id", "text"])
    rows = [(i * vntc.num_rows) // n for i in range(n)]
    pq.write_table(vntc.take(pa.array(rows)), folder / "texts.parquet", compression="zstd")
    study = folder / "study.toml"
    study.unlink(missing_ok=True)
    subprocess.run(
        [sys.executable, "-m", "analysis", "init", "--table", "texts.parquet", "--study", "study.toml"],
        cwd=folder,
        check=True,
        capture_output=True,
        env=_env(),
    )
    bare = (
        "import pyarrow.parquet as pq; from underthesea import word_tokenize\n"
        "for t in pq.read_table('texts.parquet', columns=['text'])['text'].to_pylist(): word_tokenize(t)\n"
    )
    results: dict[str, list[float]] = {"bare": [], "cold": [], "cached": []}
    output = folder / "figures" / "study"  # where init's study writes

    def output_bytes() -> dict[str, bytes]:
        return {p.name: p.read_bytes() for p in sorted(output.iterdir()) if p.is_file()} if output.is_dir() else {}

    for round_ in range(rounds):  # interleaved, so other load on the shared machine hits each alike
        log(f"prep overhead, round {round_ + 1}: bare word_tokenize loop")
        results["bare"].append(run_measured([sys.executable, "-c", bare], folder)["cpu_s"])
        shutil.rmtree(folder / ".cache", ignore_errors=True)
        shutil.rmtree(folder / "out", ignore_errors=True)
        shutil.rmtree(output, ignore_errors=True)
        log(f"prep overhead, round {round_ + 1}: prepare, cold cache, 1 worker")
        args = [sys.executable, "-m", "analysis", "prepare", "--study", "study.toml", "--quiet", "--workers", "1"]
        cold = run_measured(args, folder)
        results["cold"].append(cold["cpu_s"])
        cold_files = output_bytes()
        log(f"prep overhead, round {round_ + 1}: prepare again (cached)")
        results["cached"].append(run_measured(args, folder)["cpu_s"])
        if not cold_files or output_bytes() != cold_files:
            raise SystemExit(f"prep overhead: the cached run's outputs in {output} differ from the cold run's")
        log("  " + ", ".join(f"{k} {v[-1]:.2f} s" for k, v in results.items()))
    log("  spread over rounds: " + ", ".join(f"{k} {min(v):.2f}-{max(v):.2f} s" for k, v in results.items()))
    bare_s, cold_s, cached_s = (min(results[k]) for k in ("bare", "cold", "cached"))
    return [
        {
            "size": f"prep{n}",
            "measure": f"prepare stage CPU (cold, 1 worker) / bare word_tokenize loop, {n} texts (min of {rounds})",
            "value": f"{cold_s / bare_s:.3f} ({cold_s:.1f} s / {bare_s:.1f} s)",
            "goal": "≤ 1.15",
            "met": "yes" if cold_s / bare_s <= 1.15 else "no",
        },
        {
            "size": f"prep{n}",
            "measure": "prepare stage re-run on the filled cache / cold run, CPU",
            "value": f"{cached_s / cold_s:.3f} ({cached_s:.2f} s / {cold_s:.1f} s)",
            "goal": "≤ 0.10",
            "met": "yes" if cached_s / cold_s <= 0.10 else "no",
        },
    ]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,30000,full", help="document counts, comma-separated; 'full' = all")
    parser.add_argument("--skip-topics", action="store_true", help="leave the topics stage (and topic measures) out")
    parser.add_argument(
        "--stages",
        default=",".join(STAGES),
        help="the stages to run, comma-separated, in the Makefile's order (e.g. prepare,topics: the topics stage "
        "reads only the prepared corpus); the wall-time goal row then covers these stages only",
    )
    parser.add_argument("--prep-overhead", action="store_true", help="also the preparation-overhead section")
    parser.add_argument("--only-prep-overhead", action="store_true", help="only the preparation-overhead section")
    parser.add_argument("--prep-rounds", type=int, default=2, help="interleaved rounds of the preparation section")
    parser.add_argument("--keep-cache", action="store_true", help="keep the preparation cache of an earlier run")
    parser.add_argument("--workdir", default="/tmp/vnen_scale")
    parser.add_argument("--out", default=str(RESULTS))
    parser.add_argument("--label", default="", help="a name for this run in the CSV file name (e.g. before, after)")
    parser.add_argument(
        "--memory-limit-gb", type=float, default=0, help="stop a stage whose process tree goes over this (0: none)"
    )
    parser.add_argument("--stage-timeout", type=float, default=0, help="stop a stage after this many seconds (0: none)")
    args = parser.parse_args(argv)
    if not VNTC.is_file() or not (BBC / "metadata.csv").is_file():
        print(f"error: {VNTC} or {BBC} not found (fix: put the shared corpora beside this checkout)", file=sys.stderr)
        return 2
    sizes = [] if args.only_prep_overhead else [s if s == FULL else int(s) for s in args.sizes.split(",")]
    stages = [s for s in STAGES if s in args.stages.split(",")]
    unknown = sorted(set(args.stages.split(",")) - set(STAGES))
    if unknown or not stages:
        names = ", ".join(STAGES)
        print(f"error: --stages {args.stages}: unknown {unknown} (fix: name stages of {names})", file=sys.stderr)
        return 2
    workdir = Path(args.workdir)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    name = "scale_" + ("_".join(map(str, sizes)) or "prep") + (f"_{args.label}" if args.label else "")
    rows: list[dict] = []
    for n in sizes:
        rows += run_size(
            workdir,
            n,
            args.skip_topics,
            args.keep_cache,
            stages=stages,
            memory_limit=int(args.memory_limit_gb * 2**30),
            timeout=args.stage_timeout,
            partial=out / f"{name}_partial_{n}.csv",
        )
    summary = goals(rows) if rows else []
    if args.prep_overhead or args.only_prep_overhead:
        summary += prep_overhead(workdir, rounds=args.prep_rounds)
    if rows:
        write_rows(out / f"{name}.csv", rows)
    with open(out / f"{name}_goals.csv", "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, ["size", "measure", "value", "goal", "met"])
        writer.writeheader()
        writer.writerows(summary)
    print("| size | documents | stage | wall s | CPU s | peak MB (tree) | output MB | files | ok |")
    print("| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | --- |")
    for r in rows:
        print(
            f"| {r['size']} | {r['documents']:,} | {r['stage']} | {r['wall_s']} | {r['cpu_s']} | {r['peak_mb']:,} | "
            f"{r['output_bytes'] / 2**20:.1f} | {r['output_files']} | {'yes' if r['ok'] else 'no: ' + r['error']} |"
        )
    print()
    print("| size | measure | value | goal | met |")
    print("| --- | --- | --- | --- | --- |")
    for r in summary:
        print(f"| {r['size']} | {r['measure']} | {r['value']} | {r['goal']} | {r['met']} |")
    print(f"\nwrote {out / name}*.csv", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
