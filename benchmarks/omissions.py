"""Benchmark of ``event_omissions`` under bursty hits: false listings under equal rates, and power.

    .venv/bin/python benchmarks/omissions.py                 # 400 events per setting (about 5 min)
    .venv/bin/python benchmarks/omissions.py --events 100    # quick check
    .venv/bin/python benchmarks/omissions.py --factor 10 --docs 10,20   # power for a 10x difference

Each simulated event has ``n`` documents per language (3, 5, 10, 20), 20-40 sentences each, and
50 items (concepts) with a rate per sentence drawn from U(0.02, 0.3), the same in both
languages. Hits are bursty: a document's expected hits of an item are ``rate · sentences · g``
with ``g ~ Gamma(shape, 1 / shape)`` (mean 1, variance 1 / shape; shape 0.3 and 1), drawn per
document and item, and the hits are Poisson given ``g`` (a negative-binomial count). We measure

* **false listings** (equal rates; goal <= 0.05 at shape 0.3): the share of events with at least
  one item listed as missing or much weaker, for the old rule (ratio rule, at least 2 hits on
  the stronger side, the hit-level exact test ``rate_difference_p`` at p < 0.05, no correction)
  and the new one (``event_omissions``: the document permutation test, Holm over the items of
  the event; descriptive rows of an event with too few documents are not listings);
* **power** (reported): 5 of the 50 items get a 3x (``--factor``) lower rate in English; the share of those
  items listed (any direction counts only if it says "in en"), old and new, and the share of
  events with a false listing among the other 45 items;
* the share of events tested (the new rule tests only when the documents can give
  p < 0.05 / m).

:func:`run` returns the table; :func:`main` prints it and writes
``benchmarks/results/omissions_<events>.csv`` (``results/`` is git-ignored).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import RESULTS, log  # noqa: E402

from analysis.framing.similarity import TOO_FEW_DOCUMENTS, event_omissions, rate_difference_p, smallest_document_p  # noqa: E402

N_ITEMS = 50
PLANTED = 5  # items 0-4 get a 3x lower English rate in the power runs
FACTOR = 3.0


def simulate_event(rng: np.random.Generator, n_docs: int, *, shape: float, planted: int = 0, factor: float = FACTOR):
    """One event: hits ``items`` (doc_id, kind, item, count), ``sentences`` and ``docvars``."""
    rates = rng.uniform(0.02, 0.3, N_ITEMS)
    rows, sentences, meta = [], {}, []
    for lang in ("vi", "en"):
        lang_rates = rates.copy()
        if lang == "en":
            lang_rates[:planted] /= factor
        for d in range(n_docs):
            doc = f"{lang}{d}"
            s = int(rng.integers(20, 41))
            sentences[doc] = s
            meta.append((doc, lang, "event"))
            hits = rng.poisson(lang_rates * s * rng.gamma(shape, 1.0 / shape, N_ITEMS))
            rows.extend((doc, "concept", f"c{k:02d}", int(y)) for k, y in enumerate(hits) if y)
    docvars = pd.DataFrame(meta, columns=["doc_id", "language", "event"]).set_index("doc_id")
    return pd.DataFrame(rows, columns=["doc_id", "kind", "item", "count"]), sentences, docvars


def old_rule(
    items: pd.DataFrame, sentences: dict, docvars: pd.DataFrame, *, ratio: float = 3.0, min_count: int = 2
) -> dict[str, str]:
    """The rule before: ratio rule and ``rate_difference_p < 0.05`` per item, no correction; item -> direction."""
    language = items["doc_id"].map(docvars["language"])
    counts = (
        items.groupby(["item", language])["count"]
        .sum()
        .unstack(fill_value=0)
        .reindex(columns=["vi", "en"], fill_value=0)
    )
    n_vi = sum(s for d, s in sentences.items() if docvars.loc[d, "language"] == "vi")
    n_en = sum(s for d, s in sentences.items() if docvars.loc[d, "language"] == "en")
    listed = {}
    for item, (a, b) in zip(counts.index, counts.to_numpy()):
        ra, rb = a / n_vi, b / n_en
        if a >= min_count and (b == 0 or ra >= ratio * rb):
            direction = "in en"
        elif b >= min_count and (a == 0 or rb >= ratio * ra):
            direction = "in vi"
        else:
            continue
        if rate_difference_p(int(a), int(b), n_vi, n_en) < 0.05:
            listed[item] = direction
    return listed


def new_rule(items: pd.DataFrame, sentences: dict, docvars: pd.DataFrame, *, seed: int) -> tuple[dict[str, str], bool]:
    """``event_omissions`` as the stage calls it; item -> direction of listed rows, and whether the event was tested."""
    table = event_omissions(items, sentences, docvars, seed=seed)
    listed = table[table["status"] != TOO_FEW_DOCUMENTS]
    return {r.item: ("in en" if r.status.endswith("en") else "in vi") for r in listed.itertuples()}, _testable(
        docvars, items
    )


def _testable(docvars: pd.DataFrame, items: pd.DataFrame) -> bool:
    """The rule of ``event_omissions``: the documents can give a p below Holm's first threshold 0.05 / m."""
    n_vi, n_en = int((docvars["language"] == "vi").sum()), int((docvars["language"] == "en").sum())
    return smallest_document_p(n_vi, n_en) < 0.05 / items["item"].nunique()


def run(
    *,
    events: int = 400,
    docs: tuple[int, ...] = (3, 5, 10, 20),
    shapes: tuple[float, ...] = (0.3, 1.0),
    seed: int = 2026,
    factor: float = FACTOR,
) -> pd.DataFrame:
    """The benchmark table: one row per (shape, documents per language)."""
    rows = []
    for shape in shapes:
        for n_docs in docs:
            rng = np.random.default_rng([seed, int(shape * 10), n_docs])
            started = time.perf_counter()
            fw_old = fw_new = tested = 0
            power_old = power_new = fw_power_old = fw_power_new = 0
            for e in range(events):
                items, sentences, docvars = simulate_event(rng, n_docs, shape=shape)
                fw_old += bool(old_rule(items, sentences, docvars))
                listed, was_tested = new_rule(items, sentences, docvars, seed=e)
                fw_new += bool(listed)
                tested += was_tested
                items, sentences, docvars = simulate_event(rng, n_docs, shape=shape, planted=PLANTED, factor=factor)
                planted = {f"c{k:02d}" for k in range(PLANTED)}
                for rule, counter in (
                    (old_rule(items, sentences, docvars), "old"),
                    (new_rule(items, sentences, docvars, seed=e)[0], "new"),
                ):
                    hits = sum(1 for k in planted if rule.get(k) == "in en")
                    false = any(k not in planted for k in rule)
                    if counter == "old":
                        power_old += hits
                        fw_power_old += false
                    else:
                        power_new += hits
                        fw_power_new += false
            rows.append(
                {
                    "gamma_shape": shape,
                    "docs_per_language": n_docs,
                    "events": events,
                    "any_false_listing_old": fw_old / events,
                    "any_false_listing_new": fw_new / events,
                    "goal": "<= 0.05" if shape == 0.3 else "(reported)",
                    "met": (fw_new / events <= 0.05) if shape == 0.3 else None,
                    "share_tested_new": tested / events,
                    "planted_factor": factor,
                    "power_old": power_old / (PLANTED * events),
                    "power_new": power_new / (PLANTED * events),
                    "any_false_listing_with_planted_old": fw_power_old / events,
                    "any_false_listing_with_planted_new": fw_power_new / events,
                    "seconds": round(time.perf_counter() - started, 1),
                }
            )
            log(f"shape {shape}, {n_docs} documents a side: {rows[-1]}")
    return pd.DataFrame(rows)


def main(argv: list[str] | None = None) -> pd.DataFrame:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=400, help="events per setting (default 400)")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--docs", default="3,5,10,20", help="documents per language, comma-separated")
    parser.add_argument(
        "--factor", type=float, default=FACTOR, help="planted rate ratio for the power runs (default 3)"
    )
    args = parser.parse_args(argv)
    docs = tuple(int(x) for x in args.docs.split(","))
    table = run(events=args.events, seed=args.seed, docs=docs, factor=args.factor)
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(table.drop(columns=["events"]).round(3).to_string(index=False))
    RESULTS.mkdir(parents=True, exist_ok=True)
    suffix = (
        "" if (args.factor, docs) == (FACTOR, (3, 5, 10, 20)) else f"_x{args.factor:g}_docs{'-'.join(map(str, docs))}"
    )
    path = RESULTS / f"omissions_{args.events}{suffix}.csv"
    table.to_csv(path, index=False)
    log(f"wrote {path}")
    return table


if __name__ == "__main__":
    main()
