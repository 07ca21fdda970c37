"""CPU of the two readers of the per-token term rules: ``TermCounter.count`` (the ``prepare``
stage's summary) and ``term_sentences`` (every stage that counts terms), on prepared documents.

The documents are read from a study's prepared cache (``<study>/.cache/prepared``, JSON entries;
read only), the first ``--documents`` entries in path order (hash order: the study's languages in
about their shares). The term rules are the study's (stopwords minus the codebook's exemptions,
English lemmas). Each round starts cold, as a stage run does: a new counter and every per-type
memo of ``analysis.text.tokens`` cleared; CPU is ``time.process_time`` of this one process, min of
``--rounds``. The count of each document is checked against ``term_sentences`` before timing.

Runs the ``analysis`` found on the path, so an exported tree of other code is measured with this
script (``cd <tree> && PYTHONPATH=. python /path/to/benchmarks/term_verdicts.py``):

    PYTHONPATH=. .venv/bin/python benchmarks/term_verdicts.py --cache /tmp/vnen_scale3/n10000/.cache/prepared \\
        --study /tmp/vnen_scale3/n10000/study.toml --documents 1000 --rounds 5

Writes ``benchmarks/results/term_verdicts.csv`` (``--csv`` to change). Goal: ``TermCounter`` stays
within about 10% of its CPU before the two readers shared one table of verdicts.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from analysis.prepared import load_term_rules
from analysis.study.settings import load_study_text
from analysis.text import tokens
from analysis.text.tokens import PreparedDocument, TermCounter, TermRules, term_sentences

RESULTS = Path(__file__).resolve().parent / "results"


def clear_memos(rules: TermRules) -> None:
    """Every per-type memo of the tokens module and the rules' table of verdicts (where the code
    has one), so a round starts as a fresh process would."""
    for name in dir(tokens):
        cached = getattr(tokens, name)
        if hasattr(cached, "cache_clear") and name != "_simplemma_lemma":
            cached.cache_clear()
    rules.__dict__.pop("_verdicts", None)


def load_documents(cache: Path, limit: int) -> list[PreparedDocument]:
    """The first ``limit`` prepared documents of the cache in path order (other entries skipped)."""
    docs = []
    for path in sorted(cache.rglob("*.json")):
        entry = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(entry, dict) and "doc_id" in entry and "paragraphs" in entry:
            docs.append(PreparedDocument.from_json(entry))
            if len(docs) == limit:
                break
    return docs


def timed(work, rules: TermRules, rounds: int) -> list[float]:
    seconds = []
    for _ in range(rounds):
        clear_memos(rules)
        started = time.process_time()
        work()
        seconds.append(time.process_time() - started)
    return seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path, required=True, help="a study's prepared cache folder")
    parser.add_argument("--study", type=Path, required=True, help="the study file (its term rules)")
    parser.add_argument("--documents", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--csv", type=Path, default=RESULTS / "term_verdicts.csv")
    args = parser.parse_args()
    study = load_study_text(args.study.read_text(encoding="utf-8"), args.study)
    rules = load_term_rules(study)
    docs = load_documents(args.cache, args.documents)
    n_tokens = sum(sum(map(len, d.sentences())) for d in docs)
    languages = {lang: sum(d.language == lang for d in docs) for lang in ("vi", "en")}
    counter = TermCounter(rules)
    for doc in docs:  # the two readers agree on every document (and the first round loads simplemma)
        expected = sum(t is not None for s in term_sentences(doc, rules) for t in s)
        if counter.count(doc)[3] != expected:
            print(f"{doc.doc_id}: TermCounter and term_sentences disagree", file=sys.stderr)
            return 1

    def count_all():
        counter = TermCounter(rules)
        for doc in docs:
            counter.count(doc)

    def terms_all():
        for doc in docs:
            term_sentences(doc, rules)

    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    load = os.getloadavg()[0]
    rows = []
    for name, work in (("TermCounter.count", count_all), ("term_sentences", terms_all)):
        seconds = timed(work, rules, args.rounds)
        rows.append(
            {
                "code": commit or os.getcwd(),
                "reader": name,
                "documents": len(docs),
                "vi_en": f"{languages['vi']}/{languages['en']}",
                "tokens": n_tokens,
                "cpu_min_s": round(min(seconds), 4),
                "rounds_s": " ".join(f"{s:.3f}" for s in seconds),
                "ns_per_token": round(1e9 * min(seconds) / n_tokens, 1),
                "load_1min": round(load, 2),
            }
        )
    print("| code | reader | documents (vi/en) | tokens | CPU min | rounds | ns/token | load |")
    print("| --- | --- | ---: | ---: | ---: | --- | ---: | ---: |")
    for r in rows:
        print(
            f"| {r['code']} | {r['reader']} | {r['documents']} ({r['vi_en']}) | {r['tokens']:,} | "
            f"{r['cpu_min_s']:.3f} s | {r['rounds_s']} | {r['ns_per_token']} | {r['load_1min']} |"
        )
    args.csv.parent.mkdir(parents=True, exist_ok=True)
    new = not args.csv.exists()
    with open(args.csv, "a", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        if new:
            writer.writeheader()
        writer.writerows(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
