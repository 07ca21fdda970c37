"""Benchmark of the framing stage's annotation pass (``measures.annotation_tables``) here, on a
local Dask cluster and in local worker processes.

The study is the one ``benchmarks/design.py`` builds (4/5 VNTC, 1/5 BBC; the seed study's
settings and default codebook). Its preparation cache is filled first (not timed); then the
annotation pass runs over the prepared corpus (read lazily from the cache, as the stage reads
it) in each way:

* ``local``: every chunk here, one after the other (the default);
* ``dask``: a ``distributed.LocalCluster`` of 2 worker processes of 1 thread on 127.0.0.1
  (``framing.distributed.dask_chunks``, what ``[run] scheduler`` does); the cluster's start is
  timed apart, the workers' CPU is the change of their ``time.process_time()``;
* ``processes``: 2 local worker processes (``process_chunks`` here, a
  ``ProcessPoolExecutor``; its start is inside the time: it is part of every run);
* ``dask-threads`` (``--threads``): a LocalCluster of 2 threads in this process (GIL-bound).

Each way's tables are hashed (every table's CSV, the per-document dicts) and compared with the
local run's. Writes ``benchmarks/results/framing_dask.csv`` and prints a table; the 1-minute load
average is printed beside each run (the machine is shared).

    .venv/bin/python benchmarks/framing_dask.py --size 1500 [--threads] [--repeat 2]
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import os
import sys
import time
from collections import deque
from concurrent.futures import ProcessPoolExecutor
from functools import partial
from itertools import islice
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from common import RESULTS, log  # noqa: E402
from design import study as design_study  # noqa: E402

_WORKER: tuple | None = None


def _init_worker(rules, codebook) -> None:
    """Process-pool initializer: the rules and the codebook go once per worker, not once per chunk."""
    global _WORKER
    _WORKER = (rules, codebook)


def _pool_chunk(documents: list, settings: dict):
    from analysis.framing.measures import chunk_tables

    return chunk_tables(documents, *_WORKER, **settings)


def process_chunks(chunks, rules, codebook, settings: dict, *, workers: int):
    """:func:`~analysis.framing.measures.chunk_tables` of each chunk in ``workers`` local processes,
    yielded in chunk order, at most ``IN_FLIGHT_PER_WORKER`` chunks per worker submitted and not yet
    taken (a :data:`analysis.framing.measures.ChunkMapper`). Not in the package: on this 2-core
    machine it was not measured faster than the local run (benchmarks/README.md)."""
    from analysis.text.prepare import IN_FLIGHT_PER_WORKER

    chunks = iter(chunks)
    with ProcessPoolExecutor(max_workers=workers, initializer=_init_worker, initargs=(rules, codebook)) as pool:
        pending = deque(pool.submit(_pool_chunk, c, settings) for c in islice(chunks, IN_FLIGHT_PER_WORKER * workers))
        while pending:
            part = pending.popleft().result()
            pending.extend(pool.submit(_pool_chunk, c, settings) for c in islice(chunks, 1))
            yield part


def tables_hash(tables) -> str:
    """SHA-256 of every table's CSV and the per-document dicts of an ``AnnotationTables``."""
    digest = hashlib.sha256()
    for name in ("coverage", "unmapped", "units", "documents", "actors", "statements", "concepts"):
        digest.update(getattr(tables, name).to_csv().encode())
    digest.update(repr(list(tables.sentences.items())).encode() + repr(list(tables.languages.items())).encode())
    return digest.hexdigest()[:12]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=1500, help="documents (default 1500)")
    parser.add_argument("--folder", type=Path, default=None, help="study folder (default /tmp/framing_dask_<size>)")
    parser.add_argument("--threads", action="store_true", help="also a LocalCluster of 2 threads in this process")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each way (default 1)")
    args = parser.parse_args(argv)

    import distributed

    from analysis.files import read_study
    from analysis.framing import distributed as fd
    from analysis.framing.codebook import release_key_cache
    from analysis.framing.measures import annotation_tables
    from analysis.prepared import load_codebook, prepared_corpus

    folder = args.folder or Path(f"/tmp/framing_dask_{args.size}")
    path = folder / "study.toml"
    if not path.exists():
        design_study(folder, args.size)
    study = read_study(path)
    log(f"preparing {args.size} documents (cached after the first run)")
    ps = prepared_corpus(study, workers=2, progress=False)
    codebook = load_codebook(study)
    s = study.framing
    settings = dict(
        kind=study.units.kind,
        window=study.units.window,
        min_hits=s.min_hits,
        lead_sentences=s.lead_sentences,
        voice_window=s.voice_window,
        top_n=25,
    )

    def annotate(mapper=None):
        release_key_cache()  # every way starts without the token keys of an earlier run
        return annotation_tables(ps.prepared, ps.rules, codebook, mapper=mapper, **settings)

    rows = []

    def record(way: str, wall: float, cpu: float, worker_cpu: float, start: float, digest: str, expected: str) -> None:
        row = {
            "way": way,
            "documents": len(ps.prepared),
            "wall_s": round(wall, 1),
            "parent_cpu_s": round(cpu, 1),
            "worker_cpu_s": round(worker_cpu, 1),
            "cluster_start_s": round(start, 1),
            "load_1min": round(os.getloadavg()[0], 1),
            "tables": digest,
            "identical": digest == expected,
        }
        rows.append(row)
        log(str(row))

    def timed(mapper=None):
        wall, cpu = time.perf_counter(), time.process_time()
        tables = annotate(mapper)
        return tables, time.perf_counter() - wall, time.process_time() - cpu

    expected = ""
    for _ in range(args.repeat):
        tables, wall, cpu = timed()
        expected = expected or tables_hash(tables)
        record("local", wall, cpu, 0.0, 0.0, tables_hash(tables), expected)
        del tables

        kinds = [("dask", True)] + ([("dask-threads", False)] if args.threads else [])
        for way, processes in kinds:
            started = time.perf_counter()
            options = dict(threads_per_worker=1, processes=processes, host="127.0.0.1", dashboard_address=None)
            if not processes:
                options["protocol"] = "tcp://"
            with distributed.LocalCluster(n_workers=2, **options) as cluster:
                with distributed.Client(cluster, set_as_default=False) as client:
                    start = time.perf_counter() - started
                    before = client.run(time.process_time) if processes else {}
                    tables, wall, cpu = timed(partial(fd.dask_chunks, address=cluster.scheduler_address))
                    after = client.run(time.process_time) if processes else {}
            worker_cpu = sum(after[w] - before[w] for w in after)
            record(way, wall, cpu, worker_cpu, start, tables_hash(tables), expected)
            del tables

        children = os.times()
        tables, wall, cpu = timed(partial(process_chunks, workers=2))
        after = os.times()
        worker_cpu = (after.children_user + after.children_system) - (children.children_user + children.children_system)
        record("processes", wall, cpu, worker_cpu, 0.0, tables_hash(tables), expected)
        del tables

    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / "framing_dask.csv"
    with open(out, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    print(f"{'way':<14}{'docs':>6}{'wall s':>9}{'parent cpu':>12}{'worker cpu':>12}{'start s':>9}{'load':>7}  tables")
    for r in rows:
        print(
            f"{r['way']:<14}{r['documents']:>6}{r['wall_s']:>9}{r['parent_cpu_s']:>12}{r['worker_cpu_s']:>12}"
            f"{r['cluster_start_s']:>9}{r['load_1min']:>7}  {r['tables']}{'' if r['identical'] else ' DIFFERENT'}"
        )
    print(f"wrote {out}")
    return 0 if all(r["identical"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
