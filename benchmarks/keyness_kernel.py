"""The keyness permutations' compiled count against the numpy statistic: CPU seconds and identical p-values.

    .venv/bin/python benchmarks/keyness_kernel.py --dtm DTM.npz --vocab VOCAB.json --docs 10000,78710 --numpy 10000

What the framing stage's word keyness of Vietnamese by category costs in
:func:`analysis.stats.resampling.permutation_keyness` (ten VNTC categories, each against the rest; the stage's
settings: ``B = 5000`` permutations, the budget of 20,000 splits, words in at least two documents tested), once with
the compiled count (:mod:`analysis.stats.permutation_kernel`, the default) and, for the sizes in ``--numpy``,
once with the numpy statistic (``compiled=False``), each in a fresh process: CPU and wall seconds, peak RSS, the
splits drawn, the undecided terms, and whether p, the split counts and ``decided`` are equal to the bit between the
two. Documents are a seeded sample of the rows of a documents × terms matrix built from a prepared study's cache
(``--dtm``, ``--vocab``: see ``keyness_full.py``); a document's category is the part of its VNTC doc_id between the
split and the running number. Prints one table and writes ``benchmarks/results/keyness_kernel.csv``.
"""

from __future__ import annotations

import argparse
import json
import os
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


def one(args) -> dict:
    """One size and one path, in this process; saves p, splits and decided to ``args.save``."""
    import numpy as np
    from scipy import sparse

    from analysis.stats.keyness import terms_to_test
    from analysis.stats.resampling import permutation_keyness

    X = sparse.load_npz(args.dtm).tocsr()
    row_ids = json.loads(Path(args.vocab).read_text(encoding="utf-8"))["row_ids"]
    n = min(args.size, X.shape[0])
    rows = np.sort(np.random.default_rng(SEED).choice(X.shape[0], size=n, replace=False))
    X = X[rows]
    X = sparse.csr_matrix(X[:, np.flatnonzero(np.asarray(X.sum(axis=0)).ravel() > 0)])
    labels = [row_ids[i].split("_", 1)[1].rsplit("_", 1)[0] for i in rows]
    select = terms_to_test(X, 2)
    start, cpu = time.time(), time.process_time()
    result = permutation_keyness(
        X,
        labels,
        sorted(set(labels)),
        n_resamples=5000,
        rng=np.random.default_rng(1),
        max_resamples=20_000,
        select=select,
        compiled=args.path == "compiled",
    )
    wall, cpu = time.time() - start, time.process_time() - cpu
    np.savez(args.save, p=result.p, splits=result.splits, decided=result.decided)
    return {
        "docs": n,
        "terms_tested": int(select.sum()),
        "nonzeros": int(X.nnz),
        "path": args.path,
        "cpu_s": round(cpu, 1),
        "wall_s": round(wall, 1),
        "peak_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "splits": int(result.splits.sum()),
        "undecided": int((~result.decided[:, select]).sum()),
        "load": round(os.getloadavg()[0], 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dtm", required=True)
    parser.add_argument("--vocab", required=True)
    parser.add_argument("--docs", default="10000")
    parser.add_argument("--numpy", default="10000", help="sizes also run with the numpy statistic")
    parser.add_argument("--size", type=int, default=0, help=argparse.SUPPRESS)  # one run, in this process
    parser.add_argument("--path", default="compiled", help=argparse.SUPPRESS)
    parser.add_argument("--save", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.size:
        print(json.dumps(one(args)))
        return
    import numpy as np
    import pandas as pd
    from common import RESULTS

    numpy_sizes = {int(s) for s in args.numpy.split(",") if s}
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        for size in [int(s) for s in args.docs.split(",")]:
            saved = {}
            for path in ["compiled", "numpy"] if size in numpy_sizes else ["compiled"]:
                saved[path] = str(Path(scratch) / f"{size}_{path}.npz")
                command = [sys.executable, __file__, "--dtm", args.dtm, "--vocab", args.vocab, "--size", str(size)]
                command += ["--path", path, "--save", saved[path]]
                done = subprocess.run(command, capture_output=True, text=True, check=True)
                rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
                print(rows[-1], flush=True)
            if len(saved) == 2:
                a, b = np.load(saved["compiled"]), np.load(saved["numpy"])
                same = all(np.array_equal(a[k], b[k], equal_nan=True) for k in ("p", "splits", "decided"))
                for row in rows[-2:]:
                    row["same_p_splits_decided"] = same
    table = pd.DataFrame(rows)
    print(table.to_string(index=False))
    out = RESULTS / "keyness_kernel.csv"
    table.to_csv(out, index=False)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
