"""Word keyness at scale: time, peak memory and output bytes of one keyness comparison set.

    .venv/bin/python benchmarks/keyness_full.py --dtm DTM.npz --vocab VOCAB.json --docs 20000,40000

What the framing stage does for ``keyness_words_vi_by_category`` (:func:`analysis.stages.framing._word_keyness`
and the stage's writer, :func:`analysis.stages.results.write_streamed`) on a sample of Vietnamese VNTC articles,
in a fresh process per size: wall and CPU seconds of the computation and of the writing, the process's peak
RSS (``ru_maxrss``), the bytes written, the tested terms and a SHA-256 of the files written (so two checkouts
can be compared for byte-identical outputs; ``--min-docs 1`` tests every term, as before the setting).
The document-term matrix is built beforehand
from a prepared study's cache (``--dtm``, ``--vocab``: scipy ``.npz`` of the documents × terms counts and a
JSON ``{"row_ids": [...], "vocab": [...]}``); a document's category is the part of its doc_id between the
split and the running number (``train_suc_khoe_00653`` -> ``suc_khoe``), as VNTC names them. Documents are a
seeded random sample, so a size is the same documents on every run. ``--profile`` writes a cProfile of the
computation. Prints one table and writes ``benchmarks/results/keyness_full.csv``. Inputs are read only.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

SEED = 20241207


def category(doc_id: str) -> str:
    """``train_suc_khoe_00653`` -> ``suc_khoe``."""
    return doc_id.split("_", 1)[1].rsplit("_", 1)[0]


def one(args) -> dict:
    """One size, in this process."""
    import cProfile

    import numpy as np
    import pandas as pd
    from scipy import sparse

    from analysis.stages.framing import _word_keyness
    from analysis.stages.results import write_streamed
    from analysis.study.settings import FramingSettings, RunSettings, Study
    from analysis.text.dtm import DocTermMatrix

    X = sparse.load_npz(args.dtm).tocsr()
    meta = json.loads(Path(args.vocab).read_text(encoding="utf-8"))
    row_ids, vocab = meta["row_ids"], meta["vocab"]
    rng = np.random.default_rng(SEED)
    n = min(args.size, X.shape[0])
    rows = np.sort(rng.choice(X.shape[0], size=n, replace=False))
    X = X[rows]
    used = np.flatnonzero(np.asarray(X.sum(axis=0)).ravel() > 0)
    X, vocab = sparse.csr_matrix(X[:, used]), [vocab[j] for j in used]
    ids = [row_ids[i] for i in rows]
    docvars = pd.DataFrame({"language": "vi", "category": [category(d) for d in ids]}, index=ids)
    dtm = DocTermMatrix(X, ids, vocab, docvars)
    extra = {"keyness_min_docs": args.min_docs} if args.min_docs is not None else {}
    settings = FramingSettings(keyness_within=("category",), **extra)
    profile = cProfile.Profile() if args.profile else None
    start, cpu = time.time(), time.process_time()
    if profile:
        profile.enable()
    results = _word_keyness(dtm, docvars, language="vi", var="category", settings=settings)
    if profile:
        profile.disable()
        profile.dump_stats(args.profile)
    compute, compute_cpu = time.time() - start, time.process_time() - cpu  # a generator: computed while written
    rss_compute = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    del dtm, X
    with tempfile.TemporaryDirectory(dir=args.out) as out:
        start, cpu = time.time(), time.process_time()
        study = Study(Path(out), Path(out) / "study.toml", framing=settings, run=RunSettings(figure_formats=("png",)))
        paths = write_streamed(Path(out), iter(results), study)
        write, write_cpu = time.time() - start, time.process_time() - cpu
        size = sum(p.stat().st_size for p in paths if p.name.startswith("keyness_words"))
        digest = hashlib.sha256()
        for path in sorted(paths):  # every file's name and bytes: two checkouts compared
            digest.update(path.name.encode() + b"\0" + path.read_bytes())
        digests = {p.name: hashlib.sha256(p.read_bytes()).hexdigest()[:12] for p in sorted(paths)}
        data = [p for p in paths if p.suffix == ".parquet"]
        tested = untested = 0
        if data:
            table = pd.read_parquet(data[0], columns=["p"])
            tested, untested = int(table["p"].notna().sum()), int(table["p"].isna().sum())
    return {
        "docs": n,
        "terms": len(vocab),
        "compute_s": round(compute, 1),
        "compute_cpu_s": round(compute_cpu, 1),
        "write_s": round(write, 1),
        "write_cpu_s": round(write_cpu, 1),
        "peak_compute_mb": round(rss_compute),
        "peak_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "output_mb": round(size / 1e6, 1),
        "rows_tested": tested,
        "rows_untested": untested,
        "outputs": digest.hexdigest()[:12],
        "files": digests,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dtm", required=True)
    parser.add_argument("--vocab", required=True)
    parser.add_argument("--docs", default="20000")
    parser.add_argument("--size", type=int, default=0, help=argparse.SUPPRESS)  # one size, in this process
    parser.add_argument("--min-docs", type=int, default=None, dest="min_docs")
    parser.add_argument("--profile", default="")
    parser.add_argument("--label", default="")
    parser.add_argument("--out", default=tempfile.gettempdir())
    args = parser.parse_args()
    if args.size:
        print(json.dumps(one(args)))
        return
    import pandas as pd
    from common import RESULTS

    rows = []
    for size in [int(s) for s in args.docs.split(",")]:
        command = [sys.executable, __file__, "--dtm", args.dtm, "--vocab", args.vocab, "--size", str(size)]
        command += ["--out", args.out] + (["--min-docs", str(args.min_docs)] if args.min_docs is not None else [])
        command += ["--profile", f"{args.profile}.{size}"] if args.profile else []
        done = subprocess.run(command, capture_output=True, text=True, check=True)
        row = {"label": args.label, **json.loads(done.stdout.strip().splitlines()[-1])}
        print(row.pop("files"), flush=True)  # each file's SHA-256 (first 12 hex digits)
        rows.append(row)
        print(row, flush=True)
    table = pd.DataFrame(rows)
    print(table.to_string(index=False))
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / "keyness_full.csv"
    table.to_csv(path, mode="a", header=not path.exists(), index=False)


if __name__ == "__main__":
    main()
