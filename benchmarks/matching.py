"""Codebook matching in the framing stage: the glob index and one match per sentence, measured.

On 1,000 documents spread over a prepared study (by default the 10,000-document study of
``benchmarks/scale.py``, whose cache must be filled: run ``scale.py --sizes 10000`` first), with
the packaged codebook: the CPU time (``time.process_time``) of annotating every document and of
the coverage report, (a) as the stage does it now: globs looked up by their literal start, and the
coverage report tallied from the annotations' hits (``measures.annotation_coverage``); (b) as it
was: every glob tried at every token, and the coverage report matching every sentence again
(``codebook.coverage_report``). Both give the same tables (asserted). Goal: (a) takes less CPU
than (b); no number is set by the issue, so the ratio is reported.

Writes ``benchmarks/results/matching.csv`` and prints a table.

    .venv/bin/python benchmarks/matching.py [--study /tmp/vnen_scale/n10000/study.toml] [--documents 1000]
"""

from __future__ import annotations

import argparse
import csv
import itertools
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import RESULTS, log  # noqa: E402


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--study", default="/tmp/vnen_scale/n10000/study.toml")
    parser.add_argument("--documents", type=int, default=1000)
    parser.add_argument("--out", default=str(RESULTS))
    args = parser.parse_args(argv)
    if not Path(args.study).is_file():
        print(f"error: {args.study} not found (fix: run benchmarks/scale.py --sizes 10000 first)", file=sys.stderr)
        return 2
    from analysis.framing.codebook import Matcher, coverage_report
    from analysis.framing.measures import annotate, annotation_coverage
    from analysis.prepared import open_study

    ps = open_study(args.study).prepare(workers=1, progress=False)
    total = len(ps.docvars)
    step = max(1, total // args.documents)
    docs = list(itertools.islice(iter(ps.prepared), 0, total, step))[: args.documents]
    codebook = ps.codebook()
    log(f"{len(docs)} documents of {total}")

    def run(again: bool) -> tuple[float, float, tuple]:
        started = time.process_time()
        annotations = [annotate(d, ps.rules, codebook) for d in docs]
        annotate_s = time.process_time() - started
        started = time.process_time()
        if again:
            tables = coverage_report({a.doc_id: (a.language, a.keys) for a in annotations}, codebook)
        else:
            tables = annotation_coverage(annotations)
        return annotate_s, time.process_time() - started, tables

    now = run(again=False)
    indexed = Matcher._glob_candidates
    Matcher._glob_candidates = lambda self, token: range(len(self.globs))  # every glob at every token
    try:
        before = run(again=True)
    finally:
        Matcher._glob_candidates = indexed
    assert all(a.equals(b) for a, b in zip(now[2], before[2])), "the coverage tables differ"
    rows = [
        {
            "method": "before: every glob at every token; coverage matched again",
            "annotate_s": before[0],
            "coverage_s": before[1],
        },
        {"method": "now: glob index; coverage from the annotations' hits", "annotate_s": now[0], "coverage_s": now[1]},
    ]
    for r in rows:
        r["total_s"] = r["annotate_s"] + r["coverage_s"]
        r["documents"] = len(docs)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "matching.csv", "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, ["method", "documents", "annotate_s", "coverage_s", "total_s"])
        writer.writeheader()
        writer.writerows(rows)
    print("| method | annotate CPU s | coverage CPU s | total |")
    print("| --- | ---: | ---: | ---: |")
    for r in rows:
        print(f"| {r['method']} | {r['annotate_s']:.2f} | {r['coverage_s']:.2f} | {r['total_s']:.2f} |")
    print(f"\nnow / before: {rows[1]['total_s'] / rows[0]['total_s']:.2f} (goal: below 1; same tables)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
