"""Benchmark of the preparation stage at archive scale (issue 6): one command, a table of ratios.

    .venv/bin/python benchmarks/benchmark.py              # full: 10,000 VNTC + 2,225 BBC articles
    .venv/bin/python benchmarks/benchmark.py --limit 600  # quick check of the script

Every figure is a RATIO against a baseline measured in the same run (same process, or the same
script for the subprocess measures), so the speed of the machine cancels out:

* 1 worker vs a bare loop of underthesea ``word_tokenize`` over the same texts, in CPU time of this
  process, which other load on the machine does not inflate (goal <= 1.15; wall time beside it);
* the bare loop vs N workers, i.e. the speed-up (goal >= 1.8 with 2 workers);
* first run vs cached re-run (goal >= 20) and adding 1% new documents vs a full run (<= 0.05);
* peak memory (RSS) of prepare + document-term matrix at three sizes, each in a fresh
  subprocess (goal <= 1.5 GB at 10,000 and growing less than linearly);
* the seed study: ``make`` from clean and a no-change ``make`` in a temporary clone;
* pyvi, the fast alternative: speed-up and how much its term counts differ.

"A run" always means :func:`analysis.text.prepare.prepare_corpus` *plus one pass over every prepared
document* (what a stage does), so a cached run cannot look fast by reading nothing.

Inputs are read, never modified: the corpora's ``metadata.csv`` has ``path``, not ``file``, so a
derived metadata CSV is written in a temporary folder. The table is printed and written as CSV
and Markdown to ``benchmarks/results/`` (git-ignored), with the machine it ran on.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from common import CORPORA, RESULTS, log, select_rows  # noqa: E402  (benchmarks/common.py)

from analysis import files as aio  # noqa: E402
from analysis import prepared as loading  # noqa: E402
from analysis.corpus import sources  # noqa: E402
from analysis.text.prepare import document_key, prepare_corpus  # noqa: E402
from analysis.text.tokens import term_sentences, tokenize_en  # noqa: E402

COLUMNS = ["section", "measure", "ratio", "goal", "met", "baseline_s", "measured_s", "detail"]


# ------------------------------------------------------------------------------------- helpers


def timed(func, *args, **kwargs):
    start = time.perf_counter()
    result = func(*args, **kwargs)
    return time.perf_counter() - start, result


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MB.

    Linux's ``VmHWM`` first: ``getrusage``'s ``ru_maxrss`` survives ``fork``+``exec``, so a probe
    started from a big parent would report the parent's peak instead of its own.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux


def write_study(folder: Path, corpus: Path, rows: list[dict], cache: Path) -> Path:
    """A study over ``rows`` of ``corpus`` with a derived metadata CSV (``file`` column)."""
    metadata = [
        {
            "doc_id": r["doc_id"],
            "file": r["path"],
            "language": r["language"],
            "outlet": r["category"],
            "event": r["category"],
            "title": "",
        }
        for r in rows
    ]
    return aio.write_study(
        folder,
        {
            "name": "benchmark",
            "corpus": {
                "folder": corpus.as_posix(),
                "metadata": (folder / "metadata.csv").as_posix(),
                "languages": [rows[0]["language"]],
            },
            "frequencies": {"group_by": ["outlet"]},
            "run": {"output": "out", "cache": cache.as_posix(), "workers": 1},
        },
        metadata=metadata,
    )


def consume(prepared) -> int:
    """One pass over every prepared document (forces the lazy sequence to read each one)."""
    return sum(len(doc.paragraphs) for doc in prepared)


#: Seconds spent in ``prepare_corpus`` alone (without the read pass), per label of :func:`run`.
PREPARE_ONLY: Counter = Counter()


def run(documents, preparation, cache_dir: Path, workers: int, label: str = ""):
    """One preparation run plus one pass over its result; returns (seconds, prepared).

    The time of ``prepare_corpus`` alone is added to ``PREPARE_ONLY[label]``.
    """

    def go():
        started = time.perf_counter()
        prepared = prepare_corpus(documents, preparation, cache=aio.PreparedCache(cache_dir), workers=workers)
        PREPARE_ONLY[label] += time.perf_counter() - started
        consume(prepared)
        return prepared

    return timed(go)


def term_counts(prepared, rules) -> Counter:
    counts: Counter = Counter()
    for doc in prepared:
        for sentence in term_sentences(doc, rules):
            counts.update(t for t in sentence if t is not None)
    return counts


def row(section, measure, ratio, goal="", met="", baseline=None, measured=None, detail="") -> dict:
    fmt = lambda v: "" if v is None else f"{v:.2f}"  # noqa: E731
    return {
        "section": section,
        "measure": measure,
        "ratio": "" if ratio is None else f"{ratio:.3f}",
        "goal": goal,
        "met": met if isinstance(met, str) else ("yes" if met else "NO"),
        "baseline_s": fmt(baseline),
        "measured_s": fmt(measured),
        "detail": detail,
    }


# --------------------------------------------------------------------------------- sections


def _spin(n: int) -> int:
    total = 0
    for i in range(n):
        total += i * i
    return total


SPIN = 8_000_000  # about 0.4 s of pure-Python work on the development machine


def spin_serial(workers: int) -> None:
    """``workers`` units of pure-Python CPU work, one after the other in this process."""
    for _ in range(workers):
        _spin(SPIN)


def spin_parallel(pool, workers: int) -> None:
    """The same units on ``workers`` already running processes: the machine's parallel ceiling now."""
    list(pool.map(_spin, [SPIN] * workers))


def interleaved(
    methods: dict, documents: list, chunks: int
) -> tuple[dict[str, float], list[dict[str, float]], dict[str, float]]:
    """Seconds of each method over ``documents`` (wall totals, per chunk, and CPU totals of this
    process), chunk by chunk in rotating order.

    The machine is shared: load from other processes comes and goes. Interleaving the methods in
    chunks (and rotating which goes first) makes such load hit every method alike, so the ratios
    stay meaningful where back-to-back runs of several minutes each would not.
    """
    totals = {name: 0.0 for name in methods}
    cpu = {name: 0.0 for name in methods}
    per_chunk: list[dict[str, float]] = []
    size = max(1, -(-len(documents) // chunks))
    names = list(methods)
    for number, start in enumerate(range(0, len(documents), size)):
        chunk = documents[start : start + size]
        per_chunk.append({})
        for name in names[number % len(names) :] + names[: number % len(names)]:
            started = time.process_time()
            seconds, _ = timed(methods[name], chunk)
            cpu[name] += time.process_time() - started
            totals[name] += seconds
            per_chunk[-1][name] = seconds
        log(
            f"  chunk {number + 1}: {start + len(chunk)} documents; load {os.getloadavg()[0]:.1f}; "
            + ", ".join(f"{k} {v:.1f} s" for k, v in totals.items())
        )
    return totals, per_chunk, cpu


def bench_vietnamese(tmp: Path, limit: int, workers: int) -> list[dict]:
    from underthesea import word_tokenize

    corpus = CORPORA / "vntc_sample"
    rows = select_rows(corpus, limit)
    study = aio.read_study(write_study(tmp / "vi", corpus, rows, tmp / "vi" / "cache_unused"))
    reading, corpus_read = timed(sources.read_corpus, study)
    documents = corpus_read.documents
    preparation = loading.load_preparation(study)
    pyvi_preparation = dataclasses.replace(preparation, segmenter="pyvi")
    n = len(documents)
    syllables = sum(len(d.text.split()) for d in documents)
    section = f"vntc_sample ({n} docs)"
    log(f"{section}: {syllables:,} syllables; warming up")
    word_tokenize("Hai nước thúc đẩy hợp tác.")  # models loaded outside every timing
    prepare_corpus(documents[:2], preparation, cache=None)
    prepare_corpus(documents[:2], pyvi_preparation, cache=None)
    out = []
    load = os.getloadavg()[0]
    log("bare word_tokenize loop, preparation with 1 and N workers and with pyvi (cold caches), interleaved")
    from concurrent.futures import ProcessPoolExecutor

    spinners = ProcessPoolExecutor(workers)
    spin_parallel(spinners, workers)  # start the processes outside the timings
    totals, per_chunk, cpu = interleaved(
        {
            "bare": lambda chunk: [word_tokenize(d.text) for d in chunk],
            "one": lambda chunk: run(chunk, preparation, tmp / "vi" / "cache1", 1, "vi one"),
            "many": lambda chunk: run(chunk, preparation, tmp / "vi" / f"cache{workers}", workers, "vi many"),
            "pyvi": lambda chunk: run(chunk, pyvi_preparation, tmp / "vi" / "cache_pyvi", 1),
            "spin1": lambda chunk: spin_serial(workers),
            "spinN": lambda chunk: spin_parallel(spinners, workers),
        },
        documents,
        10,
    )
    spinners.shutdown()
    bare, one, many, pyvi = totals["bare"], totals["one"], totals["many"], totals["pyvi"]
    ceiling = totals["spin1"] / totals["spinN"]
    load = f"load average {load:.1f} -> {os.getloadavg()[0]:.1f}"
    # Both run in this process: CPU time is the time either takes, whatever else the machine
    # runs meanwhile (wall time reported beside it).
    cpu_ratio = cpu["one"] / cpu["bare"]
    out.append(
        row(
            section,
            "1 worker / bare word_tokenize loop (CPU time)",
            cpu_ratio,
            "<= 1.15",
            cpu_ratio <= 1.15,
            cpu["bare"],
            cpu["one"],
            f"wall time ratio {one / bare:.3f} ({bare:.1f} s vs {one:.1f} s); {n / one:.1f} docs/s, "
            f"{syllables / one:,.0f} syllables/s; {load}",
        )
    )
    p_one, p_many = PREPARE_ONLY["vi one"], PREPARE_ONLY["vi many"]
    out.append(
        row(
            section,
            f"speed-up of {workers} workers over 1 worker (preparation)",
            p_one / p_many,
            ">= 1.8",
            p_one / p_many >= 1.8,
            p_one,
            p_many,
            f"with the read pass a stage makes afterwards (serial in both): {one / many:.3f}; "
            f"{n / many:.1f} docs/s on {os.cpu_count()} cores",
        )
    )
    out.append(
        row(
            section,
            f"parallel ceiling: {workers} CPU-bound processes vs 1 (same chunks)",
            ceiling,
            f"{workers} on an idle machine",
            "",
            totals["spin1"],
            totals["spinN"],
            "below the worker count when other processes share the cores",
        )
    )
    out.append(
        row(
            section,
            f"speed-up of {workers} workers (preparation) / parallel ceiling",
            p_one / p_many / ceiling,
            ">= 0.9",
            p_one / p_many / ceiling >= 0.9,
            detail="the share of the parallelism the machine offered that preparation used",
        )
    )
    quiet = [c for c in per_chunk if c["spin1"] / c["spinN"] >= 0.9 * workers]
    if quiet:
        q_one, q_many = sum(c["one"] for c in quiet), sum(c["many"] for c in quiet)
        out.append(
            row(
                section,
                f"speed-up of {workers} workers (with read pass), chunks where the ceiling was >= {0.9 * workers:.1f}",
                q_one / q_many,
                ">= 1.8",
                q_one / q_many >= 1.8,
                q_one,
                q_many,
                f"{len(quiet)} of {len(per_chunk)} chunks",
            )
        )
    same = sorted(p.read_bytes() for p in (tmp / "vi" / "cache1").rglob("*.json")) == sorted(
        p.read_bytes() for p in (tmp / "vi" / f"cache{workers}").rglob("*.json")
    )
    out.append(row(section, f"{workers} workers give byte-identical cache entries", None, "identical", same, detail=""))

    log("cached re-run")
    cached, first = run(documents, preparation, tmp / "vi" / "cache1", 1)
    out.append(
        row(
            section,
            "speed-up of a cached re-run over the first run",
            one / cached,
            ">= 20",
            one / cached >= 20,
            one,
            cached,
            READING_NOTE.format(reading),
        )
    )

    new = max(1, n // 100)
    partial = tmp / "vi" / "cache_partial"
    source = aio.PreparedCache(tmp / "vi" / "cache1")
    target = aio.PreparedCache(partial)
    for doc in documents[:-new]:
        key = document_key(doc, preparation)
        target.path(key).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source.path(key), target.path(key))
    log(f"  {cached:.1f} s; adding {new} new documents")
    added, _ = run(documents, preparation, partial, 1)
    out.append(
        row(
            section,
            f"adding 1% new documents ({new}) / full first run",
            added / one,
            "<= 0.05",
            added / one <= 0.05,
            one,
            added,
        )
    )
    log(f"  {added:.1f} s")

    out.append(
        row(
            section,
            "pyvi speed-up over underthesea (1 worker, whole preparation)",
            one / pyvi,
            "(fast alternative)",
            "",
            one,
            pyvi,
            f"{n / pyvi:.1f} docs/s",
        )
    )
    _, pyvi_prepared = run(documents, pyvi_preparation, tmp / "vi" / "cache_pyvi", 1)
    out += compare_segmenters(section, first, pyvi_prepared, loading.load_term_rules(study))
    return out


def compare_segmenters(section: str, underthesea, pyvi, rules) -> list[dict]:
    from scipy.stats import spearmanr

    log("  comparing term counts of underthesea and pyvi")
    a, b = term_counts(underthesea, rules), term_counts(pyvi, rules)
    top = lambda c: {t for t, _ in sorted(c.items(), key=lambda p: (-p[1], p[0]))[:100]}  # noqa: E731
    overlap = len(top(a) & top(b)) / 100
    shared = sorted(set(a) & set(b))
    rho = spearmanr([a[t] for t in shared], [b[t] for t in shared]).statistic if len(shared) > 2 else float("nan")
    frequent = [t for t in shared if a[t] + b[t] >= 20]
    rho_frequent = (
        spearmanr([a[t] for t in frequent], [b[t] for t in frequent]).statistic if len(frequent) > 2 else float("nan")
    )
    only_a = sum(c for t, c in a.items() if t not in b) / sum(a.values())
    return [
        row(
            section,
            "pyvi vs underthesea: share of top-100 terms in common",
            overlap,
            "(report)",
            "",
            detail=f"terms counted {sum(b.values()):,} vs {sum(a.values()):,}; types {len(b):,} vs {len(a):,}",
        ),
        row(
            section,
            "pyvi vs underthesea: Spearman rho of counts, shared terms",
            rho,
            "(report)",
            "",
            detail=(
                f"{len(shared):,} shared terms; rho = {rho_frequent:.3f} on the {len(frequent):,} "
                "with >= 20 occurrences"
            ),
        ),
        row(section, "underthesea term occurrences whose term pyvi never produces", only_a, "(report)", ""),
    ]


ROUNDS_EN = 5
#: Reading and checking the corpus happens before preparation in every run, cached or not.
READING_NOTE = (
    "outside both runs: reading and checking the corpus (read_corpus: decode, language check, "
    "hashes) took {:.2f} s once"
)


def bench_english(tmp: Path, limit: int, workers: int) -> list[dict]:
    corpus = CORPORA / "bbc_news"
    rows = select_rows(corpus, min(limit, 2225) if limit else 0)
    study = aio.read_study(write_study(tmp / "en", corpus, rows, tmp / "en" / "cache_unused"))
    reading, corpus_read = timed(sources.read_corpus, study)
    documents = corpus_read.documents
    preparation = loading.load_preparation(study)
    n = len(documents)
    section = f"bbc_news ({n} docs)"
    log(f"{section}: bare tokenize_en loop, preparation with 1 and N workers, {ROUNDS_EN} rounds over the whole corpus")
    prepare_corpus(documents[:2], preparation, cache=None)
    # The whole English preparation takes a second or two: cut into chunks, each run would mostly
    # measure its fixed costs (keys, worker start, the last batch). So each method runs on the
    # whole corpus, ROUNDS_EN times in rotating order, each round into a fresh cache.
    from concurrent.futures import ProcessPoolExecutor

    spinners = ProcessPoolExecutor(workers)
    spin_parallel(spinners, workers)  # start the processes outside the timings
    methods = {
        "bare": lambda r: [tokenize_en(d.text) for d in documents],
        "one": lambda r: run(documents, preparation, tmp / "en" / f"cache1_{r}", 1, "en one"),
        "many": lambda r: run(documents, preparation, tmp / "en" / f"cache{workers}_{r}", workers, "en many"),
        "spin1": lambda r: spin_serial(workers),
        "spinN": lambda r: spin_parallel(spinners, workers),
    }
    totals = {name: 0.0 for name in methods}
    names = list(methods)
    for r in range(ROUNDS_EN):
        for name in names[r % len(names) :] + names[: r % len(names)]:
            seconds, _ = timed(methods[name], r)
            totals[name] += seconds
    spinners.shutdown()
    bare, one, many = totals["bare"], totals["one"], totals["many"]
    ceiling = totals["spin1"] / totals["spinN"]
    p_one, p_many = PREPARE_ONLY["en one"], PREPARE_ONLY["en many"]
    cached = sum(
        run(documents, preparation, tmp / "en" / f"cache1_{r}", 1)[0] for r in range(ROUNDS_EN)
    )  # re-runs of each
    return [
        row(
            section,
            "1 worker / bare tokenize_en regex loop (time)",
            one / bare,
            "(report)",
            "",
            bare,
            one,
            f"{n / one:.1f} docs/s; English has no segmenter, so cleaning, names and sentences dominate",
        ),
        row(
            section,
            f"speed-up of {workers} workers over 1 worker (preparation)",
            p_one / p_many,
            ">= 1.8",
            p_one / p_many >= 1.8,
            p_one,
            p_many,
            f"with the read pass afterwards (serial in both): {one / many:.3f}; totals of {ROUNDS_EN} runs over the "
            "whole corpus, about a second of work each, so worker start-up and the last batch weigh",
        ),
        row(
            section,
            f"parallel ceiling: {workers} CPU-bound processes vs 1 (same rounds)",
            ceiling,
            f"{workers} on an idle machine",
            "",
            totals["spin1"],
            totals["spinN"],
            "below the worker count when other processes share the cores",
        ),
        row(
            section,
            f"speed-up of {workers} workers (preparation) / parallel ceiling",
            p_one / p_many / ceiling,
            ">= 0.9",
            p_one / p_many / ceiling >= 0.9,
            detail="the share of the parallelism the machine offered that preparation used",
        ),
        row(
            section,
            "speed-up of a cached re-run over the first run",
            one / cached,
            ">= 20",
            one / cached >= 20,
            one,
            cached,
            READING_NOTE.format(reading),
        ),
    ]


def memory_probe(corpus: Path, size: int, workdir: Path) -> dict:
    """In a fresh process: read ``size`` documents, prepare them (cold cache, 1 worker), build the DTM."""
    started = time.perf_counter()
    baseline = peak_rss_mb()
    study = aio.read_study(write_study(workdir, corpus, select_rows(corpus, size), workdir / "cache"))
    prepared = loading.prepared_corpus(study, workers=1, progress=False)
    after_prepare = peak_rss_mb()
    dtm = prepared.dtm("document")
    after_dtm = peak_rss_mb()
    nbytes = dtm.counts.data.nbytes + dtm.counts.indices.nbytes + dtm.counts.indptr.nbytes
    return {
        "size": size,
        "rss_start_mb": baseline,
        "rss_prepare_mb": after_prepare,
        "rss_dtm_mb": after_dtm,
        "dtm_shape": list(dtm.shape),
        "dtm_nnz": int(dtm.counts.nnz),
        "dtm_mb": nbytes / 2**20,
        "seconds": time.perf_counter() - started,
    }


def bench_memory(tmp: Path, sizes: list[int]) -> list[dict]:
    probes = []
    for size in sizes:
        log(f"memory: {size} documents in a fresh process (cold cache, 1 worker)")
        done = subprocess.run(
            [sys.executable, __file__, "--memory-probe", str(size), "--workdir", str(tmp / f"mem{size}")],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"memory probe {size} failed:\n{done.stderr[-3000:]}")
        probes.append(json.loads(done.stdout.strip().splitlines()[-1]))
        log(f"  peak {probes[-1]['rss_dtm_mb']:.0f} MB in {probes[-1]['seconds']:.0f} s")
    out = []
    first = probes[0]
    for probe in probes:
        peak = probe["rss_dtm_mb"]
        detail = (
            f"after prepare {probe['rss_prepare_mb']:.0f} MB (start {probe['rss_start_mb']:.0f}); "
            f"DTM {probe['dtm_shape'][0]}x"
            f"{probe['dtm_shape'][1]}, {probe['dtm_nnz']:,} non-zeros, {probe['dtm_mb']:.0f} MB"
        )
        growth = (peak / first["rss_dtm_mb"]) / (probe["size"] / first["size"])
        out.append(
            row(
                f"vntc_sample memory ({probe['size']} docs)",
                "peak RSS (MB) / 1,536 MB",
                peak / 1536,
                "<= 1 at 10,000",
                peak <= 1536 if probe is probes[-1] else "",
                detail=detail + f"; peak {peak:.0f} MB",
            )
        )
        if probe is not first:
            out.append(
                row(
                    f"vntc_sample memory ({probe['size']} docs)",
                    f"peak growth / document growth vs {first['size']} docs",
                    growth,
                    "< 1 (sub-linear)",
                    growth < 1,
                )
            )
    return out


def bench_make(tmp: Path) -> list[dict]:
    """The seed study in a temporary clone of the committed tree, using this checkout's .venv."""
    clone = tmp / "clone"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True)
    (clone / ".venv").symlink_to(ROOT / ".venv")
    stamp = (ROOT / ".venv" / ".installed").stat().st_mtime
    for name in ("pyproject.toml", "constraints.txt"):  # the clone's files are new: keep make from rebuilding .venv
        os.utime(clone / name, (stamp - 60, stamp - 60))
    env = {**os.environ, "MAKEFLAGS": ""}
    log("make from clean in a temporary clone")
    clean, first = timed(subprocess.run, ["make"], cwd=clone, capture_output=True, text=True, env=env)
    if first.returncode != 0:
        return [
            row(
                "seed study",
                "make from clean",
                None,
                "succeeds",
                False,
                detail=first.stderr.strip().splitlines()[-1][:200],
            )
        ]
    again, second = timed(subprocess.run, ["make"], cwd=clone, capture_output=True, text=True, env=env)
    question = subprocess.run(["make", "-q"], cwd=clone, capture_output=True, text=True, env=env)
    commands = [line for line in second.stdout.splitlines() if not line.startswith("make")]
    head = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=clone, capture_output=True, text=True
    ).stdout.strip()
    return [
        row("seed study", "make from clean (s)", None, "succeeds", True, measured=clean, detail=f"commit {head}"),
        row(
            "seed study",
            "no-change make / make from clean (time)",
            again / clean,
            "no work done",
            question.returncode == 0 and not commands,
            clean,
            again,
            f"'make -q' status {question.returncode}; commands run: {len(commands)}; {second.stdout.strip()[:80]}",
        ),
    ]


#: Runs one stage in a fresh interpreter and prints its own peak resident memory (VmHWM, MB).
STAGE_RUNNER = (
    "import sys; from analysis import cli; status = cli.main([sys.argv[1], '--study', sys.argv[2], '--quiet']);"
    "print('PEAK', next(int(l.split()[1]) / 1024 for l in open('/proc/self/status') if "
    "l.startswith('VmHWM:'))); sys.exit(status)"
)

#: Settings of the stages study that differ from the seed study (study.toml): documents as units,
#: topics with a fixed K and fewer passes (the K search is the seed study's; here the question is
#: whether every stage runs at archive size, and in how much memory).
STAGES_SETTINGS = {
    "corpus": {"folder": CORPORA.as_posix(), "metadata": "metadata.csv"},
    "units": {"kind": "document"},
    "run": {"output": "out", "cache": ".cache", "workers": 2},
    "frequencies": {"kwic_terms": ["hợp_tác", "cooperation"]},
    "topics": {"k": 10, "passes": 5, "no_below": 5, "no_above": 0.5},
}


def stages_study(folder: Path, n_vi: int, n_en: int) -> Path:
    """A bilingual study of ``n_vi`` VNTC and ``n_en`` BBC articles (outlet = corpus, event = category)."""
    metadata = [
        {
            "doc_id": r["doc_id"],
            "file": f"{corpus}/{r['path']}",
            "language": r["language"],
            "outlet": corpus,
            "event": r["category"],
            "title": "",
        }
        for corpus, n in (("vntc_sample", n_vi), ("bbc_news", n_en))
        for r in select_rows(CORPORA / corpus, n)
    ]
    settings = tomllib.loads((ROOT / "study.toml").read_text(encoding="utf-8"))
    for section, values in STAGES_SETTINGS.items():
        settings[section] = {**settings.get(section, {}), **values}
    return aio.write_study(folder, settings, metadata=metadata)


def bench_stages(tmp: Path, limit: int) -> list[dict]:
    """Every stage of a study on a bilingual archive (default 8,000 VNTC + 2,225 BBC articles),
    each in a fresh process: wall time and peak memory of the stage's own process."""
    total = limit or 10_225
    n_en = min(2225, total // 5 if limit else 2225)
    study = stages_study(tmp / "stages", total - n_en, n_en)
    section = f"stages ({total - n_en} vi + {n_en} en docs)"
    out = []
    for stage in ("prepare", "frequencies", "framing", "topics", "manifest", "appendix"):
        log(f"{section}: {stage}")
        seconds, done = timed(
            subprocess.run,
            [sys.executable, "-c", STAGE_RUNNER, stage, str(study)],
            cwd=study.parent,
            capture_output=True,
            text=True,
        )
        peak = next(
            (float(line.split()[1]) for line in done.stdout.splitlines() if line.startswith("PEAK ")), float("nan")
        )
        ok = done.returncode == 0
        detail = f"peak RSS {peak:.0f} MB" + ("" if ok else f"; failed: {done.stderr.strip().splitlines()[-1][:160]}")
        out.append(
            row(
                section,
                f"{stage}: runs; seconds and peak memory of its process",
                None,
                "runs",
                ok,
                measured=seconds,
                detail=detail,
            )
        )
        log(f"  {seconds:.0f} s, {detail}")
    return out


def profile(tmp: Path, limit: int) -> Path:
    """cProfile of 1-worker preparation (no cache) of ``limit`` Vietnamese documents."""
    import cProfile
    import io as _io
    import pstats

    corpus = CORPORA / "vntc_sample"
    study = aio.read_study(write_study(tmp / "profile", corpus, select_rows(corpus, limit), tmp / "profile" / "cache"))
    documents = sources.read_corpus(study).documents
    preparation = loading.load_preparation(study)
    prepare_corpus(documents[:2], preparation, cache=None)
    profiler = cProfile.Profile()
    profiler.runcall(prepare_corpus, documents, preparation, None, 1)
    text = _io.StringIO()
    pstats.Stats(profiler, stream=text).sort_stats("tottime").print_stats(25)
    RESULTS.mkdir(parents=True, exist_ok=True)
    target = RESULTS / "profile_prepare.txt"
    target.write_text(text.getvalue(), encoding="utf-8")
    return target


# ------------------------------------------------------------------------------------- output


def machine() -> dict:
    model = ""
    try:
        model = next(
            line.split(":", 1)[1].strip()
            for line in open("/proc/cpuinfo", encoding="utf-8")
            if line.startswith("model name")
        )
    except (OSError, StopIteration):
        pass
    from importlib import metadata

    return {
        "cpu": model or platform.processor(),
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "system": f"{platform.system()} {platform.release()}",
        "underthesea": metadata.version("underthesea"),
        "pyvi": metadata.version("pyvi"),
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    }


def render(rows: list[dict]) -> str:
    widths = {c: max(len(c), *(len(str(r[c])) for r in rows)) for c in COLUMNS}
    lines = ["  ".join(c.ljust(widths[c]) for c in COLUMNS)]
    lines += ["  ".join(str(r[c]).ljust(widths[c]) for c in COLUMNS) for r in rows]
    return "\n".join(lines)


def markdown(rows: list[dict], info: dict) -> str:
    head = (
        f"Measured {info['date']} on {info['cpu']} ({info['cores']} cores), Python "
        f"{info['python']}, underthesea {info['underthesea']}.\n\n"
    )
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    lines += ["| " + " | ".join(str(r[c]).replace("|", "/") for c in COLUMNS) + " |" for r in rows]
    return head + "\n".join(lines) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=0, help="use N documents per corpus, evenly spread (0 = all)")
    parser.add_argument("--workers", type=int, default=2, help="workers for the parallel measure (default 2)")
    parser.add_argument(
        "--sizes", default="", help="memory sizes, e.g. 2500,5000,10000 (default: limit/4, limit/2, limit)"
    )
    parser.add_argument("--skip", default="", help="comma list of sections to skip: vi,en,memory,make,stages")
    parser.add_argument("--profile", type=int, default=0, help="also write a cProfile of preparing N documents")
    parser.add_argument("--out", default=str(RESULTS), help="folder for the CSV and Markdown tables")
    parser.add_argument("--memory-probe", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--workdir", default="", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.memory_probe:
        print(json.dumps(memory_probe(CORPORA / "vntc_sample", args.memory_probe, Path(args.workdir))))
        return 0
    if not (CORPORA / "vntc_sample" / "metadata.csv").is_file():
        print(
            f"error: {CORPORA / 'vntc_sample'} not found (fix: put the shared corpora beside this checkout)",
            file=sys.stderr,
        )
        return 2
    skip = set(filter(None, args.skip.split(",")))
    total = args.limit or 10_000
    sizes = [int(s) for s in args.sizes.split(",")] if args.sizes else [total // 4, total // 2, total]
    rows: list[dict] = []
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    tag = f"limit{args.limit}" if args.limit else "full"
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="vnen-bench-") as name:
        tmp = Path(name)
        if args.profile:
            log(f"profile written to {profile(tmp, args.profile)}")
        sections = [
            ("vi", lambda: bench_vietnamese(tmp, args.limit, args.workers)),
            ("en", lambda: bench_english(tmp, args.limit, args.workers)),
            ("memory", lambda: bench_memory(tmp, sizes)),
            ("make", lambda: bench_make(tmp)),
            ("stages", lambda: bench_stages(tmp, args.limit)),
        ]
        for key, section in sections:
            if key not in skip:
                rows += section()
                (out / f"benchmark_{tag}.partial.json").write_text(
                    json.dumps(rows, ensure_ascii=False, indent=1), encoding="utf-8"
                )
    info = machine()
    info["seconds"] = round(time.perf_counter() - started)
    table = render(rows)
    print(table)
    print(f"\nmachine: {json.dumps(info, ensure_ascii=False)}")
    with open(out / f"benchmark_{tag}.csv", "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    (out / f"benchmark_{tag}.md").write_text(markdown(rows, info), encoding="utf-8")
    (out / f"benchmark_{tag}.machine.json").write_text(
        json.dumps(info, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    (out / f"benchmark_{tag}.partial.json").unlink(missing_ok=True)
    print(f"wrote {out / f'benchmark_{tag}.csv'} and .md", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
