"""Benchmark of the framing stage's word keyness here and with its permutation batches on a local
Dask cluster (``[run] scheduler``: ``analysis.stats.distributed``), with the tables compared byte for byte.

The study is the one ``benchmarks/design.py`` builds (4/5 VNTC, 1/5 BBC; the seed study's settings:
``permutations = 5000``, the keyness budget, ``keyness_within = ["event", "outlet"]``: words of each
language by category (10 Vietnamese, 5 English) and by one of 20 synthetic outlets, a true null).
Its preparation cache is filled first (not timed); then each comparison set is computed as the
stage computes it (``keyness_comparisons`` on the language's documents × its vocabulary, the
stage's random stream ``keyed_rng(seed, "keyness", "words_<lang>_by_<var>")``) in each way:

* ``local``: the batches' statistics here (the default);
* ``dask``: a ``distributed.LocalCluster`` of ``--workers`` worker processes of 1 thread on
  127.0.0.1; the draws and the bookkeeping stay here, each batch's products go to the workers in
  pieces. The cluster's start is timed apart; the workers' CPU is the change of their
  ``time.process_time()`` (it includes each worker's first import of the package). The
  LocalCluster's scheduler runs in this process, so its CPU is in the parent's column;
* ``dask, scheduler apart`` (``--apart``): ``dask scheduler`` and ``dask worker --nworkers
  <workers> --nthreads 1`` started as their own processes on 127.0.0.1, as on a real cluster; the
  scheduler's CPU is measured apart (``Client.run_on_scheduler``), so the parent's column is the
  client's share alone.

Each comparison's tables are hashed (CSV of every table) and compared with the local run's. Writes
``benchmarks/results/keyness_dask.csv`` and prints a table; the 1-minute load average is printed
beside each run (the machine is shared: read the CPU columns).

    .venv/bin/python benchmarks/keyness_dask.py --sizes 2000,4000 [--workers 2] [--apart] [--folder /tmp/keyness_dask]
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import os
import sys
import time
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from common import RESULTS, log  # noqa: E402
from design import study as design_study  # noqa: E402


def comparison_inputs(ps, dtm, docvars, *, language: str, var: str):
    """The arguments the framing stage passes to ``keyness_comparisons`` for words of ``language``
    by ``var`` (as ``analysis.stages.framing._word_keyness`` selects them)."""
    import numpy as np

    from analysis.stages.framing import _clusters
    from analysis.stats.groups import group_order
    from analysis.stats.keyness import column_sums

    s = ps.study.framing
    language_of = {d: str(v) for d, v in docvars["language"].items()}
    rows = [i for i, d in enumerate(dtm.row_ids) if language_of[d] == language]
    doc_ids = [dtm.row_ids[i] for i in rows]
    counts = dtm.counts[rows]
    used = np.flatnonzero(column_sums(counts) > 0)
    counts, vocab = counts[:, used], [dtm.vocab[j] for j in used]
    value_of = {d: str(v) for d, v in docvars[var].items()}
    groups = {d: value_of[d] for d in doc_ids}
    return (counts, doc_ids, vocab, groups), dict(
        order=group_order(groups.values()),
        correction=s.keyness_correction,
        alpha0=s.fightin_alpha0,
        n_resamples=s.permutations,
        max_resamples=s.keyness_budget,
        clusters=_clusters(docvars, settings=s, compared=var),
    )


def tables_hash(comparisons) -> str:
    """SHA-256 of each comparison's name and table (CSV, every column at full precision)."""
    digest = hashlib.sha256()
    for c in comparisons:
        digest.update(c.name.encode() + c.table.to_csv(float_format="%.17g").encode())
    return digest.hexdigest()[:12]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="2000", help="documents, comma-separated (default 2000)")
    parser.add_argument("--workers", type=int, default=2, help="Dask worker processes (default 2)")
    parser.add_argument("--folder", type=Path, default=Path("/tmp/keyness_dask"), help="studies go in <folder>_<size>")
    parser.add_argument("--apart", action="store_true", help="also a scheduler and workers in their own processes")
    args = parser.parse_args(argv)

    import distributed

    from analysis.files import read_study
    from analysis.prepared import prepared_corpus
    from analysis.stats.distributed import dask_batches
    from analysis.stats.groups import keyed_rng
    from analysis.stats.keyness import keyness_comparisons

    rows = []
    for size in [int(s) for s in args.sizes.split(",")]:
        folder = Path(f"{args.folder}_{size}")
        path = folder / "study.toml"
        if not path.exists():
            design_study(folder, size)
        study = read_study(path)
        log(f"preparing {size} documents (cached after the first run)")
        ps = prepared_corpus(study, workers=2, progress=False)
        docvars = ps.docvars.copy(deep=False)
        docvars.attrs = {}
        dtm = ps.dtm("document")
        s = study.framing
        parts = [(language, var) for language in study.corpus.languages for var in s.keyness_within]

        def run(language: str, var: str, batches=None):
            positional, options = comparison_inputs(ps, dtm, docvars, language=language, var=var)
            rng = keyed_rng(s.seed, "keyness", f"words_{language}_by_{var}")
            wall, cpu = time.perf_counter(), time.process_time()
            comparisons = keyness_comparisons(*positional, rng=rng, batches=batches, **options)
            return comparisons, time.perf_counter() - wall, time.process_time() - cpu, len(positional[2])

        expected = {}
        for language, var in parts:
            comparisons, wall, cpu, terms = run(language, var)
            expected[language, var] = tables_hash(comparisons)
            rows.append(_row(size, language, var, terms, "local", wall, cpu, 0.0, 0.0, expected[language, var], True))
            log(str(rows[-1]))

        def on_cluster(way: str, address: str, start: float, apart: bool) -> None:
            with distributed.Client(address, set_as_default=False) as client:
                client.wait_for_workers(args.workers)
                for language, var in parts:
                    before = client.run(time.process_time)
                    scheduler = client.run_on_scheduler(time.process_time) if apart else 0.0
                    comparisons, wall, cpu, terms = run(language, var, dask_batches(address))
                    after = client.run(time.process_time)
                    scheduler = (client.run_on_scheduler(time.process_time) - scheduler) if apart else 0.0
                    digest = tables_hash(comparisons)
                    worker_cpu = sum(after[w] - before[w] for w in after)
                    same = digest == expected[language, var]
                    row = _row(size, language, var, terms, way, wall, cpu, worker_cpu, start, digest, same)
                    row["scheduler_cpu_s"] = round(scheduler, 1)
                    rows.append(row)
                    log(str(rows[-1]))
                    start = 0.0

        started = time.perf_counter()
        options = dict(threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None)
        with distributed.LocalCluster(n_workers=args.workers, **options) as cluster:
            with distributed.Client(cluster, set_as_default=False) as client:
                client.wait_for_workers(args.workers)
            start = time.perf_counter() - started
            on_cluster(f"dask, {args.workers} processes", cluster.scheduler_address, start, False)
        if args.apart:
            started = time.perf_counter()
            with apart_cluster(args.workers, folder) as address:
                on_cluster("dask, scheduler apart", address, time.perf_counter() - started, True)

    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / "keyness_dask.csv"
    with open(out, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    print(
        f"{'docs':>6} {'words of':<14}{'terms':>8} {'way':<22}{'wall s':>8}{'parent cpu':>11}{'worker cpu':>11}"
        f"{'sched cpu':>10}{'start s':>8}{'load':>6}  tables"
    )
    for r in rows:
        print(
            f"{r['documents']:>6} {r['comparison']:<14}{r['terms']:>8} {r['way']:<22}{r['wall_s']:>8}"
            f"{r['parent_cpu_s']:>11}{r['worker_cpu_s']:>11}{r['scheduler_cpu_s']:>10}{r['cluster_start_s']:>8}"
            f"{r['load_1min']:>6}  "
            f"{r['tables']}{'' if r['identical'] else ' DIFFERENT'}"
        )
    print(f"wrote {out}")
    return 0 if all(r["identical"] for r in rows) else 1


@contextmanager
def apart_cluster(workers: int, folder: Path):
    """A ``dask scheduler`` and ``dask worker`` (``workers`` processes of 1 thread) in their own
    processes on 127.0.0.1, stopped on exit; yields the scheduler's address."""
    import subprocess

    dask = str(Path(sys.executable).with_name("dask"))
    file = folder / "scheduler.json"
    file.unlink(missing_ok=True)
    quiet = dict(stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    common = ["--host", "127.0.0.1", "--no-dashboard"]
    scheduler = subprocess.Popen([dask, "scheduler", "--port", "0", "--scheduler-file", str(file), *common], **quiet)
    started = [scheduler]
    try:
        for _ in range(600):
            if file.exists() and file.stat().st_size:
                break
            time.sleep(0.1)
        command = [dask, "worker", "--scheduler-file", str(file), "--nworkers", str(workers), "--nthreads", "1"]
        started.append(subprocess.Popen([*command, *common], **quiet))
        yield json.loads(file.read_text(encoding="utf-8"))["address"]
    finally:
        for process in reversed(started):
            process.terminate()
            process.wait(timeout=60)


def _row(size, language, var, terms, way, wall, cpu, worker_cpu, start, digest, same) -> dict:  # noqa: PLR0917
    return {
        "documents": size,
        "comparison": f"{language} by {var}",
        "terms": terms,
        "way": way,
        "wall_s": round(wall, 1),
        "parent_cpu_s": round(cpu, 1),
        "worker_cpu_s": round(worker_cpu, 1),
        "cluster_start_s": round(start, 1),
        "scheduler_cpu_s": 0.0,
        "load_1min": round(os.getloadavg()[0], 1),
        "tables": digest,
        "identical": same,
    }


if __name__ == "__main__":
    sys.exit(main())
