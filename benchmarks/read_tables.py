"""Reading a corpus table (issue 13): time and peak memory of ``analysis.corpus.sources`` against pandas.

For N rows (default 100,000 and 200,000) a synthetic table of bilingual articles (about 1.6 KB of
text each, several paragraphs, so most records span several physical CSV lines) is written as CSV
and as Parquet (and JSON Lines) in a temporary folder. Each measurement runs in a fresh process (peak RSS is
per process):

* ``pandas.read_csv(dtype=str, keep_default_na=False)`` of the CSV: the baseline, which holds the
  whole table, texts included;
* ``pandas.read_parquet`` of the Parquet file (baseline for Parquet), ``pandas.read_json(lines=True)``
  of the same rows as JSON Lines (at the row counts only);
* the toolkit reading the table as a study would (``analysis.files.read_corpus``): streamed parse
  in batches, every record validated (id, language, text, duplicates, dates), texts hashed and
  written to the cache's text pack, the document table kept column-wise, texts let go; cold (no
  pack yet), and again with the pack (the read every later stage makes); and ``spill=False``
  (what ``validate``'s read does).

Goals: the cold read within 1.5x of ``pandas.read_csv``'s time; peak memory not growing with the
file (the texts are never all in memory: the toolkit's peak grows only with the document table,
a compact row per document, while pandas' grows with the file). Prints a table, the peak growth
per added row between the two row counts, and writes ``benchmarks/results/read_tables.csv``.

    .venv/bin/python benchmarks/read_tables.py                 # 100,000 and 200,000 rows
    .venv/bin/python benchmarks/read_tables.py --rows 20000    # quick check
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import RESULTS, ROOT, log

VI = [
    "Bộ trưởng Ngoại giao hội đàm với người đồng cấp về hợp tác kinh tế và thương mại.",
    "Hai bên nhất trí thúc đẩy giao lưu nhân dân, du lịch và đầu tư.",
    "Thủ tướng đề nghị tăng cường kết nối giao thông, nhất là đường sắt khổ tiêu chuẩn.",
    "Các doanh nghiệp kiến nghị tháo gỡ rào cản đối với nông sản xuất khẩu.",
]
EN = [
    "The foreign ministers discussed economic cooperation and trade.",
    "Both sides agreed to promote people-to-people exchanges, tourism and investment.",
    "The prime minister called for better transport links, especially standard-gauge railways.",
    "Businesses asked for barriers to farm exports to be removed.",
]


def write_tables(folder: Path, rows: int, paragraphs: int = 5) -> tuple[Path, Path, Path]:
    """A CSV, a Parquet and a JSON Lines file of ``rows`` synthetic articles (seeded, so every run is the same)."""
    rng = random.Random(13)
    csv_path, parquet_path = (
        folder / f"articles_{rows}_{paragraphs}.csv",
        folder / f"articles_{rows}_{paragraphs}.parquet",
    )
    jsonl_path = folder / f"articles_{rows}_{paragraphs}.jsonl"
    import pyarrow as pa
    import pyarrow.parquet as pq

    columns = ["id", "lang", "media_name", "publish_date", "title", "url", "body"]
    batch: dict[str, list] = {c: [] for c in columns}
    writer = None
    with open(csv_path, "w", encoding="utf-8", newline="") as handle, open(jsonl_path, "w", encoding="utf-8") as lines:
        out = csv.writer(handle)
        out.writerow(columns)
        for i in range(rows):
            lang = "vi" if i % 2 == 0 else "en"
            pool = VI if lang == "vi" else EN
            body = ["".join(rng.choice(pool) + " " for _ in range(4)).strip() for _ in range(paragraphs)]
            row = [
                f"d{i:07d}",
                lang,
                f"outlet-{i % 7}",
                f"2024-{1 + i % 12:02d}-{1 + i % 28:02d}T10:00:00+07:00",
                f"Tin {i}",
                f"https://example.org/{i}",
                "\n\n".join(body) + "\n",
            ]
            out.writerow(row)
            lines.write(json.dumps(dict(zip(columns, row)), ensure_ascii=False) + "\n")
            for c, v in zip(columns, row):
                batch[c].append(v)
            if len(batch["id"]) == 10_000 or i == rows - 1:
                table = pa.table(batch)
                writer = writer or pq.ParquetWriter(parquet_path, table.schema)
                writer.write_table(table, row_group_size=10_000)
                batch = {c: [] for c in columns}
    writer.close()
    return csv_path, parquet_path, jsonl_path


STUDY = """[corpus]
table = "{table}"
[corpus.columns]
doc_id = "id"
language = "lang"
outlet = "media_name"
date = "publish_date"
text = "body"
[run]
cache = "{cache}"
[frequencies]
group_by = ["language", "outlet"]
[framing]
keyness_within = ["outlet"]
[topics]
prevalence_by = ["language", "outlet"]
"""

CHILD = r"""
import json, sys, time
what, path, study = sys.argv[1], sys.argv[2], sys.argv[3]
import pandas as pd
from analysis import files as io
if what.startswith("study"):
    s = io.read_study(study)
t = time.perf_counter()
if what == "pandas_csv":
    n = len(pd.read_csv(path, dtype=str, keep_default_na=False))
elif what == "pandas_parquet":
    n = len(pd.read_parquet(path))
elif what == "pandas_jsonl":
    n = len(pd.read_json(path, lines=True, dtype=False))
elif what == "study_validate":
    n = len(io.read_corpus(s, spill=False))
else:
    n = len(io.read_corpus(s))
seconds = time.perf_counter() - t
# VmHWM, not getrusage's ru_maxrss: Linux carries ru_maxrss over fork and exec, so a child would
# report the parent's peak when that is higher (the parent writes the tables).
hwm = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:"))
print(json.dumps({"rows": n, "seconds": seconds, "peak_rss_mb": hwm / 1024}))
"""


def measure(what: str, path: Path, study: Path) -> dict:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", CHILD, what, str(path), str(study)], capture_output=True, text=True, env=env, check=True
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def baseline_rss() -> float:
    """Peak RSS of a process that only imports pandas and the toolkit (subtracted from nothing; shown)."""
    code = (
        "import pandas, analysis.files; print(next(int(l.split()[1]) for l in "
        "open('/proc/self/status') if l.startswith('VmHWM:')) / 1024)"
    )
    return float(
        subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            check=True,
        ).stdout
    )


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", default="100000,200000", help="comma-separated row counts")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (median reported)")
    parser.add_argument(
        "--long", type=int, default=25000, help="rows of the text-length check (texts 1x and 4x as long; 0 = skip)"
    )
    args = parser.parse_args(argv)
    results = []
    imports = baseline_rss()
    with tempfile.TemporaryDirectory(prefix="read_tables_") as tmp:
        folder = Path(tmp)
        runs_to_do = [(int(r), 5) for r in args.rows.split(",")] + (
            [(args.long, 5), (args.long, 20)] if args.long else []
        )
        for rows, paragraphs in runs_to_do:
            log(f"writing {rows:,} rows of {paragraphs} paragraphs")
            csv_path, parquet_path, jsonl_path = write_tables(folder, rows, paragraphs)
            formats = [("csv", csv_path, "pandas_csv"), ("parquet", parquet_path, "pandas_parquet")]
            if paragraphs == 5 and rows != args.long:  # JSON Lines at the row counts only (not the text-length check)
                formats.append(("jsonl", jsonl_path, "pandas_jsonl"))
            for fmt, path, base in formats:
                size_mb = path.stat().st_size / 2**20
                runs: dict[str, list[dict]] = {}
                # Interleaved rounds (the machine is shared): each round measures every reader once,
                # cold with a cache of its own; the median of the rounds is reported.
                for round_ in range(args.rounds):
                    study = folder / f"study_{fmt}_{rows}_{paragraphs}_{round_}.toml"
                    study.write_text(
                        STUDY.format(table=path.name, cache=f".cache_{fmt}_{rows}_{paragraphs}_{round_}"),
                        encoding="utf-8",
                    )
                    for what in (base, "study_validate", "study_cold", "study_warm"):
                        log(f"{fmt} {rows:,}x{paragraphs} round {round_ + 1}: {what}")
                        got = measure(what, path, study)
                        assert got["rows"] == rows, (what, got)
                        runs.setdefault(what, []).append(got)
                median = {
                    what: {k: statistics.median(r[k] for r in got) for k in ("seconds", "peak_rss_mb")}
                    for what, got in runs.items()
                }
                reference = median[base]
                for what, got in median.items():
                    results.append(
                        {
                            "format": fmt,
                            "rows": rows,
                            "paragraphs": paragraphs,
                            "file_mb": round(size_mb, 1),
                            "reader": what,
                            "seconds": round(got["seconds"], 2),
                            "rows_per_s": round(rows / got["seconds"]),
                            "time_vs_pandas": round(got["seconds"] / reference["seconds"], 2),
                            "peak_rss_mb": round(got["peak_rss_mb"]),
                            "rss_vs_pandas": round(got["peak_rss_mb"] / reference["peak_rss_mb"], 2),
                        }
                    )
            for p in (csv_path, parquet_path, jsonl_path):
                p.unlink()
    RESULTS.mkdir(parents=True, exist_ok=True)
    with open(RESULTS / "read_tables.csv", "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(results[0]))
        writer.writeheader()
        writer.writerows(results)
    header = list(results[0])
    print(f"peak RSS of a process that only imports pandas and the toolkit: {imports:.0f} MB")
    print("| " + " | ".join(header) + " |")
    print("|" + " --- |" * len(header))
    for row in results:
        print("| " + " | ".join(str(row[h]) for h in header) + " |")
    counts = sorted({r["rows"] for r in results if r["paragraphs"] == 5 and r["rows"] != args.long})
    for fmt in ("csv", "parquet", "jsonl"):
        for small, large in zip(counts, counts[1:]):
            peak = {
                (r["reader"], r["rows"]): r["peak_rss_mb"]
                for r in results
                if r["format"] == fmt and r["paragraphs"] == 5
            }
            growth = ", ".join(
                f"{what} {(peak[(what, large)] - peak[(what, small)]) * 2**20 / (large - small):.0f}"
                for what in sorted({w for w, _ in peak})
            )
            print(f"{fmt}: peak RSS growth per added row, {small:,} -> {large:,} rows (bytes): {growth}")
    print(
        "goals: study_cold time_vs_pandas <= 1.5 (csv); the toolkit's peak RSS the same for 1x and 4x longer texts; "
        "its growth per row the document table's (about 100-200 bytes), not the file's"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
