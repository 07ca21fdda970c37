"""Peak memory and time of the near-duplicate finder (``analysis.text.duplicates.near_duplicates``)
on synthetic documents, each size in a fresh process (peak = the process's ``VmHWM`` minus its
RSS before the call, so imports do not count).

Documents: ``--words`` words drawn uniformly from a vocabulary of 30,000 (seeded), every 50th
document a copy of the previous one with its last 20 words replaced (so there are near
duplicates to find). Uniform words make almost every 5-word shingle unique: the index holds one
entry per token, the case whose memory grows with the corpus. ``--root`` runs another checkout's
code (say a copy of the commit before a change) to compare. ``--bucket N`` sets
``duplicates.INDEX_BUCKET`` (entries of the index sorted at once; the code before it had none):
a corpus of a few million tokens then shows what a corpus of tens of millions does with the
default (about 4 million).

    .venv/bin/python benchmarks/duplicates_memory.py --sizes 5000,20000 [--root /tmp/old_checkout] [--bucket 262144]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import RESULTS, ROOT, log  # noqa: E402

RUN = r"""
import json, sys, time
import numpy as np
from analysis.text.duplicates import near_duplicates

def rss(key):
    return next(int(l.split()[1]) / 1024 for l in open('/proc/self/status') if l.startswith(key))

n, length, bucket = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
if bucket:
    import analysis.text.duplicates as duplicates
    duplicates.INDEX_BUCKET = bucket
vocab = [f"w{i}" for i in range(30000)]

def docs():
    rng, previous = np.random.default_rng(2), None
    for i in range(n):
        words = [vocab[j] for j in rng.integers(0, len(vocab), length)]
        if previous is not None and i % 50 == 1:
            words = previous[:-20] + words[:20]
        previous = words
        yield f"d{i:07d}", "vi", words

base = rss('VmRSS:')
started = time.perf_counter()
table = near_duplicates(docs())
print(json.dumps({"seconds": round(time.perf_counter() - started, 1), "peak_growth_mb": round(rss('VmHWM:') - base),
                  "pairs": len(table), "near_duplicates": int(table["near_duplicate"].sum())}))
"""


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="5000,20000")
    parser.add_argument("--words", type=int, default=400)
    parser.add_argument("--root", default=str(ROOT), help="the checkout whose analysis/ is run")
    parser.add_argument("--bucket", type=int, default=0, help="duplicates.INDEX_BUCKET; 0 = the code's own")
    parser.add_argument("--label", default="")
    parser.add_argument("--out", default=str(RESULTS))
    args = parser.parse_args(argv)
    env = dict(os.environ, PYTHONPATH=args.root)
    rows = []
    for n in [int(s) for s in args.sizes.split(",")]:
        log(f"{n} documents of {args.words} words ({args.root})")
        done = subprocess.run(
            [sys.executable, "-c", RUN, str(n), str(args.words), str(args.bucket)],
            capture_output=True,
            text=True,
            env=env,
        )
        if done.returncode:
            print(f"error: {done.stderr.strip().splitlines()[-1]}", file=sys.stderr)
            return 1
        row = {"label": args.label, "bucket": args.bucket, "documents": n, "tokens": n * args.words}
        rows.append({**row, **json.loads(done.stdout)})
        log(f"  {rows[-1]}")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with open(out / f"duplicates_memory{'_' + args.label if args.label else ''}.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    print("| documents | tokens | seconds | peak growth MB | bytes a token | pairs | near duplicates |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in rows:
        per = r["peak_growth_mb"] * 2**20 / r["tokens"]
        print(
            f"| {r['documents']:,} | {r['tokens']:,} | {r['seconds']} | {r['peak_growth_mb']:,} | {per:.0f} | "
            f"{r['pairs']:,} | {r['near_duplicates']:,} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
