"""Peak memory of chosen stages of a bilingual table study at a few sizes, and its growth per
document projected to 100,000 documents (issue 24: every stage at most 4 GB for its whole
process tree at ~81,000-100,000 articles).

The corpus: ``N`` documents, 4/5 VNTC rows spread evenly over
``../shared/corpora/vntc_full/vntc_full.parquet`` and 1/5 BBC articles spread evenly over
``../shared/corpora/bbc_news`` (every category keeps its share), written as one Parquet table
with synthetic ``outlet`` and ``date`` exactly as ``benchmarks/scale.py`` makes them (outlet =
one of 20 a language by row number mod 20; date = 2024-01-01 plus row number x 7919 mod 366
days). The study is the one ``scale.py`` writes (``python -m analysis init --table``, topic
prevalence on, a validation sample appended). Stages run in the Makefile's order, each in a
fresh process (``scale.run_measured``: peak = the largest summed RSS of the process tree,
polled every 0.1 s with psutil; an upper bound, since pages shared with forked workers count
once per process).

For each stage, the files it wrote are hashed (SHA-256 over their names relative to the output
folder and their bytes, sorted), so a run of changed code can be checked for byte-identical
outputs against an earlier run (same sizes, same label-free study). With two sizes or more, the
slope of the peak between the two largest sizes (MB per 1,000 documents) and the peak projected
linearly to 100,000 documents (``peak_largest + slope x (100,000 - N_largest) / 1,000``).

Writes ``benchmarks/results/stage_memory[_<label>].csv`` and prints a table.

    .venv/bin/python benchmarks/stage_memory.py --sizes 1000,2000,4000 [--stages framing,topics] [--label before]
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import shutil
import sys
import time
import tomllib
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import CORPORA, RESULTS, log, select_rows  # noqa: E402
from scale import VNTC, _snapshot, load, run_measured, write_study  # noqa: E402

#: Stages in the Makefile's order; ``manifest`` is needed before ``appendix``.
STAGES = ("prepare", "frequencies", "framing", "topics", "design", "equivalence", "manifest", "appendix")
DEFAULT = "prepare,framing,topics,equivalence,manifest,appendix"


def build_table(folder: Path, n: int) -> tuple[Path, int, int]:
    """``folder/articles.parquet``: ``n - n // 5`` VNTC and ``n // 5`` BBC rows, synthetic outlet and date."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "articles.parquet"
    n_en = n // 5
    n_vi = n - n_en
    vntc = pq.read_table(VNTC, columns=["doc_id", "category", "text"])
    vi = vntc.take(pa.array([(i * vntc.num_rows) // n_vi for i in range(n_vi)]))
    bbc = select_rows(CORPORA / "bbc_news", n_en)
    ids = vi["doc_id"].to_pylist() + [r["doc_id"] for r in bbc]
    texts = vi["text"].to_pylist() + [(CORPORA / "bbc_news" / r["path"]).read_text(encoding="utf-8") for r in bbc]
    categories = vi["category"].to_pylist() + [r["category"] for r in bbc]
    languages = ["vi"] * n_vi + ["en"] * n_en
    outlets, dates = [], []
    for number, language in enumerate(languages):
        outlets.append(f"{language}-{number % 20:02d}")
        day = (number * 7919) % 366
        dates.append(time.strftime("%Y-%m-%d", time.gmtime(1704067200 + day * 86400)))
    table = pa.table(
        {"doc_id": ids, "language": languages, "text": texts, "category": categories, "outlet": outlets, "date": dates}
    )
    pq.write_table(table, path, compression="zstd", row_group_size=4096)
    return path, n_vi, n_en


def files_hash(out: Path, paths: list[str]) -> str:
    """SHA-256 over the sorted names (relative to ``out``) and bytes of ``paths``."""
    digest = hashlib.sha256()
    for path in sorted(paths):
        digest.update(Path(path).relative_to(out).as_posix().encode() + b"\0")
        digest.update(Path(path).read_bytes())
    return digest.hexdigest()


def write_csv(path: Path, rows: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def run_size(workdir: Path, n: int, stages: list[str], label: str, *, done: list[dict], csv_path: Path) -> list[dict]:
    folder = workdir / f"n{n}"
    if not (folder / "articles.parquet").is_file():
        log(f"{n}: building the table")
        build_table(folder, n)
    study = write_study(folder, skip_topics="topics" not in stages)
    settings = tomllib.loads(study.read_text(encoding="utf-8"))["run"]
    out = folder / settings.get("output", "figures")
    shutil.rmtree(out, ignore_errors=True)  # the cache is kept: prepare on a filled cache is cheap
    rows = []
    for stage in stages:
        before = _snapshot(out)
        load_before = load()
        log(f"{n}: {stage} (load {load_before})")
        m = run_measured([sys.executable, "-m", "analysis", stage, "--study", str(study), "--quiet"], folder)
        after = _snapshot(out)
        changed = [p for p, st in after.items() if before.get(p) != st]
        row = {
            "label": label,
            "documents": n,
            "stage": stage,
            "wall_s": round(m["wall_s"], 1),
            "peak_mb": round(m["peak_bytes"] / 2**20),
            "ok": m["ok"],
            "load_before": load_before,
            "load_after": load(),
            "files": len(changed),
            "outputs_sha256": files_hash(out, changed) if m["ok"] else "",
            "error": m["error"],
        }
        log(f"  {row['wall_s']} s, peak {row['peak_mb']} MB, {len(changed)} files {row['outputs_sha256'][:12]}")
        rows.append(row)
        write_csv(csv_path, done + rows)  # after every stage: a run cut short keeps what it measured
    return rows


def project(rows: list[dict], *, at: int = 100_000) -> list[dict]:
    """Per stage: the slope between its two largest sizes (MB per 1,000 documents) and the linear
    projection of its peak to ``at`` documents."""
    out = []
    for stage in dict.fromkeys(r["stage"] for r in rows):
        runs = sorted((r for r in rows if r["stage"] == stage and r["ok"]), key=lambda r: r["documents"])
        if len(runs) < 2:
            continue
        a, b = runs[-2], runs[-1]
        per = (b["peak_mb"] - a["peak_mb"]) / (b["documents"] - a["documents"]) * 1000
        out.append(
            {
                "stage": stage,
                "peaks_mb": " / ".join(str(r["peak_mb"]) for r in runs),
                "mb_per_1000_docs": round(per, 1),
                f"projected_{at // 1000}k_mb": round(b["peak_mb"] + per * (at - b["documents"]) / 1000),
            }
        )
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,2000,4000")
    parser.add_argument("--stages", default=DEFAULT, help=f"comma-separated, run in this order (of {STAGES})")
    parser.add_argument("--workdir", default="/tmp/vnen_stage_memory")
    parser.add_argument("--out", default=str(RESULTS))
    parser.add_argument("--label", default="", help="a name for this run in the CSV (e.g. before, after)")
    args = parser.parse_args(argv)
    stages = [s for s in args.stages.split(",") if s]
    unknown = [s for s in stages if s not in STAGES]
    if unknown:
        print(f"error: --stages {','.join(unknown)}: not a stage (fix: one of {','.join(STAGES)})", file=sys.stderr)
        return 2
    if not VNTC.is_file():
        print(f"error: {VNTC} not found (fix: put the shared corpora beside this checkout)", file=sys.stderr)
        return 2
    out = Path(args.out)
    name = f"stage_memory{'_' + args.label if args.label else ''}"
    rows = []
    for n in [int(s) for s in args.sizes.split(",")]:
        rows += run_size(Path(args.workdir), n, stages, args.label, done=rows, csv_path=out / f"{name}.csv")
    slopes = project(rows)
    print("| documents | stage | seconds | peak MB (tree) | files | outputs (SHA-256) | load before / after |")
    print("| ---: | --- | ---: | ---: | ---: | --- | --- |")
    for r in rows:
        print(
            f"| {r['documents']:,} | {r['stage']} | {r['wall_s']} | {r['peak_mb']:,} | {r['files']} | "
            f"{r['outputs_sha256'][:12]} | {r['load_before']} / {r['load_after']} |"
        )
    if slopes:
        write_csv(out / f"{name}_projection.csv", slopes)
        print("\n| stage | peaks MB by size | MB per 1,000 documents (two largest sizes) | projected at 100,000 MB |")
        print("| --- | --- | ---: | ---: |")
        for s in slopes:
            print(f"| {s['stage']} | {s['peaks_mb']} | {s['mb_per_1000_docs']} | {s['projected_100k_mb']:,} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
