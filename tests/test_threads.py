"""BLAS/OpenMP pools pinned in every stage process and every worker process the toolkit starts
(``analysis.threads``), so a run's bytes do not depend on the machine's core count, and put back
for an in-process caller.

Each test first sets the pools to 3 threads, a count that is neither the default of 1 nor (on a
2-core machine) OpenBLAS's own default, so a pool left alone shows up as 3."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from multiprocessing import get_context

import pytest
from threadpoolctl import threadpool_info, threadpool_limits

from analysis import threads
from analysis.cli import main

from .conftest import ROOT, TINY_EN, TINY_VI, write_study

pytestmark = pytest.mark.skipif(not threadpool_info(), reason="no BLAS/OpenMP pool that threadpoolctl can see")


def _counts(report):
    return sorted({n for _, _, n in report})


def _study(tmp_path, line=""):
    text = '[corpus]\nfolder = "corpus"\nmetadata = "corpus/metadata.csv"\n[run]\noutput = "out"\nworkers = 1\n'
    return write_study(tmp_path, [("v1", "vi", TINY_VI), ("e1", "en", TINY_EN)], study_text=text + line)


@pytest.mark.parametrize("line, expected", [("", 1), ("blas_threads = 2\n", 2)])
def test_a_stage_and_its_pool_workers_run_at_blas_threads_and_the_caller_gets_its_pools_back(
    tmp_path, monkeypatch, line, expected
):
    import analysis.stages.design as design

    seen = {}

    def stage(study, workers):
        seen["stage"] = threads.report()
        seen["environment"] = os.environ["OPENBLAS_NUM_THREADS"]
        with threads.worker_pool(1) as pool:  # forked: it would inherit this process's pools as they are
            seen["worker"] = pool.submit(threads.report).result()

    monkeypatch.setattr(design, "run_design", stage)
    study = _study(tmp_path, line)
    with threadpool_limits(limits=3):
        assert main(["design", "--study", str(study), "--quiet"]) == 0
        assert _counts(threads.report()) == [3]  # put back as the caller had them
    assert _counts(seen["stage"]) == [expected] and seen["environment"] == str(expected)
    assert _counts(seen["worker"]) == [expected] and len(seen["worker"]) >= 1


def test_a_worker_started_outside_a_stage_gets_one_thread(monkeypatch):
    # A script calling the API (no stage around it): the toolkit's workers still get 1 thread, whether
    # forked (they would inherit this process's 3) or spawned (a fresh interpreter whose libraries would
    # read the environment, unset here: one thread per core).
    for name in threads.ENVIRONMENT:
        monkeypatch.delenv(name, raising=False)
    with threadpool_limits(limits=3):
        with threads.worker_pool(1) as pool:
            assert _counts(pool.submit(threads.report).result()) == [1]
        with threads.worker_pool(1, mp_context=get_context("spawn")) as pool:
            pool.submit(exec, "import numpy, scipy.linalg").result()  # loaded after the worker started
            assert _counts(pool.submit(threads.report).result()) == [1]
        assert _counts(threads.report()) == [3]


def test_pinned_puts_back_the_environment_and_a_library_first_loaded_inside_it():
    # scipy's own OpenBLAS is loaded by scipy.linalg; inside the block it reads the pinned environment,
    # afterwards it must have the count numpy's OpenBLAS had before (3 here), not stay at 1.
    script = (
        "import json, os, numpy, threadpoolctl\n"
        "from analysis import threads\n"
        "threadpoolctl.threadpool_limits(3)\n"
        "os.environ.pop('OPENBLAS_NUM_THREADS', None)\n"
        "with threads.pinned(1):\n"
        "    import scipy.linalg\n"
        "    inside = threads.report()\n"
        "print(json.dumps([inside, threads.report(), os.environ.get('OPENBLAS_NUM_THREADS')]))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    inside, after, variable = json.loads(done.stdout)
    assert len(inside) == len(after) >= 2, done.stdout  # numpy's OpenBLAS and scipy's
    assert _counts(inside) == [1] and _counts(after) == [3] and variable is None


def test_pool_threads_follows_the_innermost_block():
    assert threads.pool_threads() == threads.DEFAULT == 1
    with threads.pinned(2):
        with threads.pinned(3):
            assert threads.pool_threads() == 3
        assert threads.pool_threads() == 2 and os.environ["OMP_NUM_THREADS"] == "2"
    assert threads.pool_threads() == 1


def test_every_process_pool_of_the_toolkit_is_a_worker_pool():
    # A pool made elsewhere would start workers with one BLAS thread per core (and other bytes).
    package = ROOT / "analysis"
    pattern = re.compile(r"ProcessPoolExecutor\(|multiprocessing\.Pool\(|get_context\([^)]*\)\.Pool\(|\bPool\(")
    found = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in sorted(package.rglob("*.py"))
        if path.name != "threads.py"
        for number, text in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if pattern.search(text) and not text.lstrip().startswith("#")
    ]
    assert found == []
