"""The explorer page: file size and time to interactive in headless Chromium, measured against its goals.

Goals: the seed study's page at most 2 MB; a 10,000-article bilingual study's page at most 10 MB and
interactive within 3 s of opening.

Pages measured:

* **seed**: the seed study's ``figures/explorer.html`` (written first with ``python -m analysis
  explore`` when it is missing; the framing, equivalence and topics stages must have run: ``make``);
* **each ``--study PATH``**: that study's own ``explorer.html`` as its ``explore`` stage wrote it
  (a real study: ``benchmarks/scale.py --sizes 10000`` writes one; run ``python -m analysis explore
  --study PATH`` first if the page is missing). The page's bytes are split by part: BokehJS and the
  page's scripts, and each data source of the page's JSON (``cells`` and ``hits`` are the per-cell
  sums that grow with the corpus; ``docs`` and ``lines`` are the bounded sample of concordance lines);
* **projected** (``--project N``, with ``--study``): the same study's page with its corpus grown to
  ``N`` documents: the study's own documents plus ``N - n`` drawn with replacement from them (each
  keeps its language, event and per-document hits), each drawn document given an outlet drawn from
  the outlets of its language and a day drawn from the study's days, in proportion to their
  documents (the study's own date span and outlets: a corpus that spans more days or outlets has more
  cells). Only the two per-cell data sources are recomputed (:func:`analysis.stages.explore.filter_cells`,
  :func:`~analysis.stages.explore.cell_sums`); every other part of the page is bounded (items, lines,
  frames by the same outlets) and kept. The projected page is built and opened like the others.

Time to interactive: Chromium is started headless with every network request blocked; the page is
opened from disk and the time from navigation start to BokehJS's "document idle" (every view built
and drawn, callbacks connected) is read from the console log; then the time a filter takes to
update the counts and a search to list its results (measured inside the page with
``performance.now()``). Median of ``--repeat`` openings.

Run: ``.venv/bin/python benchmarks/explorer.py [--study PATH [--project 100000]]`` (prints a table;
CSV in ``benchmarks/results/explorer.csv``).
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import RESULTS, ROOT, log  # noqa: E402

MB = 1_000_000
SEED_GOAL = (2 * MB, 3.0)
STUDY_GOAL = (10 * MB, 3.0)  # the goal of a 10,000-article study, applied to every --study page
SOURCES = ("cells", "hits", "docs", "lines", "items", "patterns", "groups")


def page_parts(path: Path) -> dict[str, int]:
    """Bytes of the page by part: each named data source of the page's JSON (as UTF-8), the rest
    of the JSON, and everything else (BokehJS, the page's scripts, styles and markup)."""
    text = path.read_text(encoding="utf-8")
    found = re.search(r'<script type="application/json" id="[^"]*">\s*(.*?)\s*</script>', text, re.S)
    if found is None:
        raise SystemExit(f"error: {path}: no Bokeh document in the page; fix: is it an explorer.html?")
    raw = found.group(1)
    sizes: dict[str, int] = {}

    def walk(node) -> None:
        if isinstance(node, dict):
            attributes = node.get("attributes")
            if node.get("name") == "ColumnDataSource" and isinstance(attributes, dict) and attributes.get("name"):
                data = json.dumps(attributes.get("data"), ensure_ascii=False, separators=(",", ":"))
                sizes[attributes["name"]] = sizes.get(attributes["name"], 0) + len(data.encode("utf-8"))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(json.loads(raw))
    json_bytes = len(raw.encode("utf-8"))
    parts = {f"data: {name}": sizes.get(name, 0) for name in SOURCES}
    parts["data: other (widgets, plots, header)"] = json_bytes - sum(parts.values())
    parts["BokehJS, scripts, styles, markup"] = path.stat().st_size - json_bytes
    return parts


def study_page(study_file: Path) -> Path:
    from analysis import files

    study = files.read_study(study_file)
    page = study.output_dir / "explorer.html"
    if not page.is_file():
        raise SystemExit(f"error: {page}: missing; fix: run `python -m analysis explore --study {study_file}` first")
    return page


def projected_page(study_file: Path, n_target: int, out: Path, *, rng_seed: int = 1) -> tuple[Path, dict]:
    """The study's page with its corpus grown to ``n_target`` documents (module docstring), and its counts."""
    from analysis import files
    from analysis.plots.explorer import explorer_html
    from analysis.prepared import load_codebook, prepared_corpus
    from analysis.stages import explore

    study = files.read_study(study_file)
    codebook = load_codebook(study)
    ps = prepared_corpus(study, progress=False)
    started = time.perf_counter()
    g = explore.gather(ps.prepared, ps.rules, codebook, window=study.frequencies.kwic_window, seed=study.run.seed)
    payload = explore.explorer_payload(ps, codebook, explore.study_outputs(study), gathered=g)
    log(f"payload of {len(g.sentences):,} documents in {time.perf_counter() - started:.1f} s")
    doc_ids = [str(d.doc_id) for d in ps.prepared]
    meta = ps.docvars.loc[doc_ids]
    n = len(doc_ids)
    lang = np.array([{"vi": 0, "en": 1}.get(x, 2) for x in meta["language"]], dtype=np.int64)
    outlet_code = {o: k for k, o in enumerate(payload["outlets"])}
    event_code = {e: k for k, e in enumerate(payload["events"])}
    column = lambda name: meta[name].fillna("").astype(str) if name in meta else pd.Series([""] * n)  # noqa: E731
    outlet = np.array([outlet_code.get(o, -1) for o in column("outlet")], dtype=np.int64)
    event = np.array([event_code.get(e, -1) for e in column("event")], dtype=np.int64)
    day = explore._days(list(column("date")))

    rng = np.random.default_rng(rng_seed)
    extra = max(0, n_target - n)
    source = rng.integers(0, n, extra)
    new_lang = lang[source]
    new_outlet = np.full(extra, -1, dtype=np.int64)
    for code in np.unique(lang):
        pool = outlet[lang == code]
        mine = new_lang == code
        new_outlet[mine] = pool[rng.integers(0, len(pool), int(mine.sum()))]
    new_day = day[rng.integers(0, n, extra)]
    all_lang = np.concatenate([lang, new_lang])
    cells, cell_of = explore.filter_cells(
        all_lang,
        np.concatenate([outlet, new_outlet]),
        np.concatenate([event, event[source]]),
        np.concatenate([day, new_day]),
    )
    # Hit rows of the grown corpus: the study's rows, then each drawn document's copy of its source's rows.
    keep = {key: i for i, key in enumerate(payload["items"]["key"])}
    renumber = np.array([keep.get(key, -1) for key in g.items["key"]], dtype=np.int64)
    hits = g.hits[renumber[g.hits["item"].to_numpy()] >= 0].sort_values(["doc", "item"], kind="stable")
    item, doc, count = (hits[c].to_numpy(dtype=np.int64) for c in ("item", "doc", "n"))
    start = np.searchsorted(doc, np.arange(n))
    length = np.searchsorted(doc, np.arange(n), side="right") - start
    rows = np.concatenate([np.arange(start[s], start[s] + length[s]) for s in source]) if extra else np.zeros(0, int)
    grown = pd.DataFrame(
        {
            "item": renumber[np.concatenate([item, item[rows]])],
            "doc": np.concatenate([doc, n + np.repeat(np.arange(extra), length[source])]),
            "n": np.concatenate([count, count[rows]]),
        }
    )
    sentences = np.concatenate([g.sentences, g.sentences[source]])[grown["doc"].to_numpy()]
    rate = np.where(sentences > 0, 100.0 * grown["n"].to_numpy() / np.maximum(sentences, 1), 0.0)
    position = {d: i for i, d in enumerate(doc_ids)}
    cited = [position[d] for d in payload["docs"]["doc_id"]]
    payload = {
        **payload,
        "cells": cells,
        "cell_hits": explore.cell_sums(grown, cell_of, rate),
        "docs": {**payload["docs"], "cell": cell_of[cited]},
        "header": {
            **payload["header"],
            "study": f"{payload['header']['study']} (projected to {n + extra:,} documents)",
            "counts": [(x, int((all_lang == k).sum()), o) for k, (x, _, o) in enumerate(payload["header"]["counts"])],
        },
    }
    path = out / f"explorer_projected_{n + extra}.html"
    path.write_text(explorer_html(payload, seed=study.run.seed), encoding="utf-8")
    counts = {"documents": n + extra, "cells": len(cells), "cell-hit rows": len(payload["cell_hits"])}
    counts["document-hit rows"] = len(grown)
    return path, counts


def browser():
    from analysis.plots.explorer import offline_chromium

    return offline_chromium(width=1300, height=2300, logging={"browser": "ALL"})


RESPONSE = """
const [name, value, watch, done] = arguments;
const model = Bokeh.documents[0].get_model_by_name(name);
const watched = Bokeh.documents[0].get_model_by_name(watch);
if (!model) { done(null); return; }
const before = watched.text, t0 = performance.now();
if (name === 'search') { model.value_input = value; } else { model.value = value; }
(function poll() {
  if (watched.text !== before) { done(performance.now() - t0); } else { requestAnimationFrame(poll); }
})();
"""


def measure(driver, path: Path) -> dict:
    """Navigation start -> BokehJS document idle (ms, from the console), then a filter's and a search's response."""
    driver.get_log("browser")
    driver.get("about:blank")
    driver.get(path.as_uri())
    idle = None
    end = time.monotonic() + 60
    while idle is None and time.monotonic() < end:
        for entry in driver.get_log("browser"):
            if "document idle at" in entry["message"]:
                idle = float(entry["message"].split("document idle at ")[1].split(" ms")[0])
        time.sleep(0.05)
    errors = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    driver.set_script_timeout(30)
    outlet = driver.execute_async_script(RESPONSE, "filter-outlet", ["1"], "counts")
    search = driver.execute_async_script(RESPONSE, "search", "kinh tế", "results")
    return {"idle_ms": idle, "filter_ms": outlet, "search_ms": search, "console_errors": len(errors)}


def _median(runs, key):
    values = [r[key] for r in runs if r[key] is not None]
    return statistics.median(values) / 1000 if values else float("nan")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--study", type=Path, action="append", default=[], help="a study file whose page to measure")
    parser.add_argument("--project", type=int, default=0, help="also a page projected to this many documents")
    parser.add_argument("--no-seed", action="store_true", help="leave the seed study's page out")
    args = parser.parse_args(argv)

    pages: dict[str, tuple[Path, tuple[int, float] | None]] = {}
    extra_rows = []
    if not args.no_seed:
        seed_page = ROOT / "figures" / "explorer.html"
        if not seed_page.is_file():
            log("writing the seed study's explorer page")
            subprocess.run([sys.executable, "-m", "analysis", "explore", "--quiet"], cwd=ROOT, check=True)
        pages["seed"] = (seed_page, SEED_GOAL)
    work = Path(tempfile.mkdtemp(prefix="vx-explorer-"))
    for study_file in args.study:
        from analysis import files

        name = files.read_study(study_file).name
        page = study_page(study_file)
        pages[f"{name} ({study_file.resolve().parent.name})"] = (page, STUDY_GOAL)
        if args.project:
            log(f"projecting {study_file} to {args.project:,} documents")
            started = time.perf_counter()
            path, counts = projected_page(study_file, args.project, work)
            label = f"{name} projected to {counts['documents']:,}"
            pages[label] = (path, None)
            extra_rows.append((label, "build (gather, payload, page; s)", time.perf_counter() - started, None, None))
            extra_rows += [(label, k, v, None, None) for k, v in counts.items()]
    driver, profile = browser()
    rows = []
    try:
        for name, (path, goal) in pages.items():
            runs = [measure(driver, path) for _ in range(args.repeat)]
            log(f"{name}: {runs}")
            size, idle = path.stat().st_size, _median(runs, "idle_ms")
            rows += [
                (name, "file size (MB)", size / MB, goal and goal[0] / MB, goal and size <= goal[0]),
                (name, "navigation -> document idle (s, median)", idle, goal and goal[1], goal and idle <= goal[1]),
                (name, "filter response (s, median)", _median(runs, "filter_ms"), None, None),
                (name, "search response (s, median)", _median(runs, "search_ms"), None, None),
                (
                    name,
                    "console errors",
                    max(r["console_errors"] for r in runs),
                    0,
                    all(not r["console_errors"] for r in runs),
                ),
            ]
            rows += [(name, f"{part} (MB)", n / MB, None, None) for part, n in page_parts(path).items()]
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)
        shutil.rmtree(work, ignore_errors=True)
    table = pd.DataFrame(rows + extra_rows, columns=["page", "measure", "measured", "goal", "met"])
    print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    RESULTS.mkdir(parents=True, exist_ok=True)
    table.to_csv(RESULTS / "explorer.csv", index=False)
    log(f"wrote {RESULTS / 'explorer.csv'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
