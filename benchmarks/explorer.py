"""The explorer page: file size and time to interactive in headless Chromium, measured against its goals.

Goals: the seed study's page at most 2 MB; a 10,000-article bilingual study's page at most 10 MB and
interactive within 3 s of opening.

Two pages are measured:

* **seed**: the seed study's ``figures/explorer.html`` (written first with ``python -m analysis
  explore`` when it is missing; the framing, equivalence and topics stages must have run: ``make``);
* **synthetic 10k**: a page built by :func:`analysis.plots.explorer.explorer_html` from a payload of
  10,000 documents synthesised from the seed study's own payload: its 211 concepts and frames, their
  patterns and the text of its concordance lines, with 5,000 Vietnamese and 5,000 English documents
  in 40 outlets and 30 events over two years, about 20 sentences each, 30 items with hits per
  document (item chosen in proportion to its hits in the seed study, 1 + geometric hits), and the
  bounded sample of 8 lines per item and language the stage keeps. Running every stage on 10,000
  real articles takes most of an hour on this machine (topics about 6 min, preparation longer); the
  page's size and speed depend on the payload's shape, which this reproduces.

Time to interactive: Chromium is started headless with every network request blocked; the page is
opened from disk and the time from navigation start to BokehJS's "document idle" (every view built
and drawn, callbacks connected) is read from the console log; then the time a filter takes to
update the counts and a search to list its results (measured inside the page with
``performance.now()``). Median of ``--repeat`` openings.

Run: ``.venv/bin/python benchmarks/explorer.py`` (prints a table; CSV in
``benchmarks/results/explorer.csv``).
"""

from __future__ import annotations

import argparse
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
GOALS = {"seed": (2 * MB, 3.0), "synthetic 10k": (10 * MB, 3.0)}


def seed_payload():
    from analysis import files
    from analysis.prepared import load_codebook, prepared_corpus
    from analysis.stages import explore

    study = files.read_study(ROOT / "study.toml")
    return explore.explorer_payload(
        prepared_corpus(study, progress=False), load_codebook(study), explore.study_outputs(study)
    )


def synthetic_payload(seed: dict, n_docs: int = 10_000, outlets: int = 40, events: int = 30, rng_seed: int = 1):
    """A payload of ``n_docs`` documents with the seed study's items, patterns and line texts."""
    rng = np.random.default_rng(rng_seed)
    items = seed["items"].copy()
    m = len(items)
    lang = (np.arange(n_docs) >= n_docs // 2).astype(np.int32)
    outlet = np.where(lang == 0, rng.integers(0, outlets // 2, n_docs), rng.integers(outlets // 2, outlets, n_docs))
    start = pd.Timestamp("2023-01-01").value / 1e6
    day = start + rng.integers(0, 730, n_docs) * 86_400_000.0
    sentences = (5 + rng.poisson(15, n_docs)).astype(np.int32)
    weight = (items["hits_vi"] + items["hits_en"] + 1).to_numpy(dtype=float)
    weight /= weight.sum()
    rows = []
    for d in range(n_docs):
        chosen = np.unique(rng.choice(m, size=min(m, rng.poisson(30)), p=weight, replace=False))
        rows.append(np.stack([chosen, np.full(len(chosen), d), 1 + rng.geometric(0.5, len(chosen)) - 1]))
    hits = pd.DataFrame(np.concatenate(rows, axis=1).T, columns=["item", "doc", "n"]).sort_values(["item", "doc"])
    per100 = 100.0 * hits["n"].to_numpy() / sentences[hits["doc"].to_numpy()]
    for code, side in ((0, "vi"), (1, "en")):
        mine = lang[hits["doc"].to_numpy()] == code
        n_side = int((lang == code).sum())
        items[f"rate_{side}"] = np.bincount(hits["item"][mine], weights=per100[mine], minlength=m) / n_side
        items[f"hits_{side}"] = np.bincount(hits["item"][mine], weights=hits["n"][mine], minlength=m).astype(int)
        items[f"docs_hit_{side}"] = np.bincount(hits["item"][mine], minlength=m)
        items[f"docs_{side}"] = n_side
    texts = seed["lines"][["left", "keyword", "right", "pattern"]].to_numpy()
    lines = []
    for i in range(m):
        for code, side in ((0, "vi"), (1, "en")):
            docs = hits["doc"][(hits["item"] == i) & (lang[hits["doc"]] == code)].to_numpy()
            for d in docs[:8]:
                left, keyword, right, pattern = texts[rng.integers(len(texts))]
                lines.append((i, side, int(d), left, keyword, right, pattern))
    lines = pd.DataFrame(lines, columns=["item", "language", "doc", "left", "keyword", "right", "pattern"])
    referenced = set(lines["doc"])
    outlet_names = [f"Outlet {k:02d} (Báo số {k})" for k in range(outlets)]
    event_names = [f"event_{k:02d}" for k in range(events)]
    dates = pd.to_datetime(day, unit="ms").strftime("%Y-%m-%d").tolist()
    frames = items.loc[items["kind"] == "frame", "key"].str.partition(":")[2]
    groups = pd.DataFrame(
        [
            {
                "family": "",
                "item": f,
                "group": g,
                "n_docs": 250,
                "docs_with_hits": 60,
                "mean": float(rng.gamma(2, 5)),
                "ci_low": 1.0,
                "ci_high": 20.0,
                "too_small": False,
                "note": "",
                "group_kind": "language" if g in ("vi", "en") else "outlet",
            }
            for f in frames
            for g in ["vi", "en", *(f"{o} ({'vi' if k < outlets // 2 else 'en'})" for k, o in enumerate(outlet_names))]
        ]
    )
    terms = seed["topics"]["terms"]
    topics = {
        "terms": pd.DataFrame(
            [(k + 1, terms["vi"].iloc[k % len(terms)], terms["en"].iloc[k % len(terms)]) for k in range(20)],
            columns=["topic", "vi", "en"],
        ),
        "prevalence": pd.DataFrame(
            [(k + 1, side, 0.05, 0.03, 0.07) for k in range(20) for side in ("vi", "en")],
            columns=["topic", "language", "prevalence", "ci_low", "ci_high"],
        ),
    }
    header = dict(seed["header"])
    header.update(
        study="synthetic-10k",
        counts=[("vi", int((lang == 0).sum()), outlets // 2), ("en", int((lang == 1).sum()), outlets // 2)],
        dates=(min(dates), max(dates)),
        undated=0,
        too_small=[],
    )
    return {
        "header": header,
        "languages": ["vi", "en"],
        "outlets": outlet_names,
        "events": event_names,
        "docs": {
            "doc_id": [f"doc{d:05d}" for d in range(n_docs)],
            "lang": lang,
            "outlet": outlet.astype(np.int32),
            "event": rng.integers(0, events, n_docs).astype(np.int32),
            "day": day,
            "date": dates,
            "outlet_name": [outlet_names[o] for o in outlet],
            "sentences": sentences,
            "title": [f"Tiêu đề bài báo số {d}: hợp tác kinh tế" if d in referenced else "" for d in range(n_docs)],
            "url": [""] * n_docs,
        },
        "items": items,
        "hits": hits.astype(np.int32).reset_index(drop=True),
        "patterns": seed["patterns"],
        "lines": lines,
        "groups": groups,
        "topics": topics,
        "aliases": seed["aliases"],
    }


def browser():
    from analysis.plots.explorer import offline_chromium

    return offline_chromium(width=1300, height=2300, logging={"browser": "ALL"})


RESPONSE = """
const [name, value, watch, done] = arguments;
const model = Bokeh.documents[0].get_model_by_name(name);
const watched = Bokeh.documents[0].get_model_by_name(watch);
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


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--docs", type=int, default=10_000)
    args = parser.parse_args(argv)
    from analysis.plots.explorer import explorer_html

    seed_page = ROOT / "figures" / "explorer.html"
    if not seed_page.is_file():
        log("writing the seed study's explorer page")
        subprocess.run([sys.executable, "-m", "analysis", "explore", "--quiet"], cwd=ROOT, check=True)
    seed = seed_payload()
    log(f"synthesising a payload of {args.docs:,} documents")
    payload = synthetic_payload(seed, n_docs=args.docs)
    work = Path(tempfile.mkdtemp(prefix="vx-explorer-"))
    started = time.perf_counter()
    synthetic = work / "explorer_10k.html"
    synthetic.write_text(explorer_html(payload, seed=1), encoding="utf-8")
    build = time.perf_counter() - started
    pages = {"seed": (seed_page, None), "synthetic 10k": (synthetic, build)}
    driver, profile = browser()
    rows = []
    try:
        for name, (path, seconds) in pages.items():
            runs = [measure(driver, path) for _ in range(args.repeat)]
            log(f"{name}: {runs}")
            size_goal, seconds_goal = GOALS[name]
            size = path.stat().st_size
            idle = statistics.median(r["idle_ms"] for r in runs) / 1000
            rows += [
                (name, "file size (MB)", size / MB, size_goal / MB, size <= size_goal),
                (name, "navigation -> document idle (s, median)", idle, seconds_goal, idle <= seconds_goal),
                (
                    name,
                    "filter response (s, median)",
                    statistics.median(r["filter_ms"] for r in runs) / 1000,
                    None,
                    None,
                ),
                (
                    name,
                    "search response (s, median)",
                    statistics.median(r["search_ms"] for r in runs) / 1000,
                    None,
                    None,
                ),
                (
                    name,
                    "console errors",
                    max(r["console_errors"] for r in runs),
                    0,
                    all(not r["console_errors"] for r in runs),
                ),
            ]
            if seconds is not None:
                rows.append((name, "page build from the payload (s)", seconds, None, None))
        rows.append(("synthetic 10k", "hit rows (item x document)", len(payload["hits"]), None, None))
        rows.append(("synthetic 10k", "concordance lines", len(payload["lines"]), None, None))
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)
        shutil.rmtree(work, ignore_errors=True)
    table = pd.DataFrame(rows, columns=["page", "measure", "measured", "goal", "met"])
    print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    RESULTS.mkdir(parents=True, exist_ok=True)
    table.to_csv(RESULTS / "explorer.csv", index=False)
    log(f"wrote {RESULTS / 'explorer.csv'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
