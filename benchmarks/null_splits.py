"""Benchmark of document-level keyness under true nulls (issue 12, item 5): random splits.

    .venv/bin/python benchmarks/null_splits.py               # all 2,225 BBC + 10,000 VNTC articles, 20 splits
    .venv/bin/python benchmarks/null_splits.py --limit 600   # quick check (a few minutes)

Each corpus (``../shared/corpora/bbc_news``, English; ``../shared/corpora/vntc_sample``,
Vietnamese) is prepared as the toolkit prepares a study (``prepared.prepared_corpus``: the
segmenter, stopwords, lemmas; the cache makes a re-run skip it), and its documents are split at
random into two halves ``--splits`` times. A random split is a true null: no word and no concept
differs between the halves except by chance. On every split, keyness is computed as the
``framing`` stage computes it (:func:`analysis.stats.keyness.document_keyness`, p from ``--permutations``
permutations of documents), on the document-term matrix (words) and on the codebook's concept
counts (concepts), and we measure

* the share of tested words / concepts with p < 0.05 (goal 0.04-0.06: a test that holds its level
  rejects 5% of true nulls; an exact permutation test rejects *at most* 5%, fewer where a term is
  in so few documents that no split can give a small p, so the share is also given for terms in
  at least ``--min-docs`` documents, where p can reach far below 0.05);
* the share of splits with at least one q < 0.05 (Benjamini-Hochberg over the terms of the
  split; goal <= 0.10; under a complete null BH bounds this at 0.05);
* the same two for the pooled-token G² p-value the toolkit used before (``p_tokens``), to show
  what changed (reported, no goal);
* a real difference for contrast (reported): the corpus's categories split into two halves, the
  share of words with q < 0.05 (power is not lost to the permutation floor of 1 / (B + 1)).

:func:`run` returns the table (columns ``corpus, measure, value, goal, met``; ``benchmarks/
equivalence.py`` calls it); :func:`main` prints it and writes
``benchmarks/results/null_splits_<full|limitN>.csv``. Inputs are read, never modified (a
derived metadata CSV and a temporary study are written in a temporary folder).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from benchmark import write_study  # noqa: E402  (benchmarks/benchmark.py: the derived metadata and study)
from common import CORPORA, RESULTS, log, select_rows  # noqa: E402
from scipy import stats  # noqa: E402

from analysis import files as aio  # noqa: E402
from analysis.framing.measures import annotate, concept_counts  # noqa: E402
from analysis.prepared import load_codebook, prepared_corpus  # noqa: E402
from analysis.stats.keyness import document_keyness  # noqa: E402

COLUMNS = ["corpus", "measure", "value", "goal", "met"]
CORPUS_NAMES = ("bbc_news", "vntc_sample")
SEED = 20241201


def split_rng(seed: int, corpus: str, split: int) -> np.random.Generator:
    return np.random.default_rng([seed, zlib.crc32(corpus.encode("utf-8")), split])


def load(corpus: str, limit: int | None, tmp: Path, cache: Path, workers: int):
    """``(word counts, vocab, concept counts, concept ids, categories)`` of one prepared corpus."""
    folder = CORPORA / corpus
    rows = select_rows(folder, limit or 0)
    study = aio.read_study(write_study(tmp / corpus, folder, rows, cache))
    start = time.perf_counter()
    ps = prepared_corpus(study, workers=workers, progress=False)
    dtm = ps.dtm("document")
    counts = dtm.counts.tocsr()
    used = np.flatnonzero(np.asarray(counts.sum(axis=0)).ravel() > 0)
    counts = counts[:, used]
    vocab = [dtm.vocab[j] for j in used]
    codebook = load_codebook(study)
    concepts = concept_counts(annotate(doc, ps.rules, codebook) for doc in ps.prepared).reindex(
        list(dtm.row_ids), fill_value=0
    )
    category = {r["doc_id"]: r["category"] for r in rows}
    log(
        (
            f"{corpus}: {counts.shape[0]} documents, {len(vocab)} words, {concepts.shape[1]} "
            f"concepts ({time.perf_counter() - start:.0f} s)"
        )
    )
    return counts, vocab, concepts.to_numpy(), list(concepts.columns), [category[d] for d in dtm.row_ids]


def _shares(table: pd.DataFrame, doc_freq: pd.Series, min_docs: int) -> dict[str, float]:
    frequent = table["term"].map(doc_freq).to_numpy() >= min_docs
    q_tokens = stats.false_discovery_control(table["p_tokens"].to_numpy(), method="bh")
    return {
        "p": float((table["p"] < 0.05).mean()),
        "p_frequent": float((table["p"][frequent] < 0.05).mean()) if frequent.any() else float("nan"),
        "q_any": float((table["q"] < 0.05).any()),
        "p_tokens": float((table["p_tokens"] < 0.05).mean()),
        "q_tokens_any": float((q_tokens < 0.05).any()),
        "frequent_terms": float(frequent.sum()),
        "terms": float(len(table)),
    }


def run(
    limit: int | None = None,
    splits: int = 20,
    seed: int = SEED,
    permutations: int = 999,
    min_docs: int = 20,
    corpora=CORPUS_NAMES,
    cache: Path | None = None,
    workers: int = 1,
) -> pd.DataFrame:
    """The benchmark table: per corpus and measure, the value, its goal and whether it is met.

    Parameters
    ----------
    limit : int, optional
        Documents per corpus, spread evenly over its categories (None = all).
    splits : int
        Random half/half splits per corpus.
    seed : int
        Seeds every split (and its permutations): same arguments, same table.
    permutations : int
        Permuted splits per keyness p-value (the study default is 5,000).
    min_docs : int
        "Frequent" terms for the second p-share: in at least this many documents.
    """
    cache = Path(cache) if cache else ROOT / ".cache"
    records = []
    with tempfile.TemporaryDirectory(prefix="null_splits_") as tmp:
        for corpus in corpora:
            words, vocab, concepts, concept_ids, categories = load(corpus, limit, Path(tmp), cache, workers)
            n = words.shape[0]
            label = f"{corpus} ({n} docs, {splits} splits, B = {permutations})"
            measures = {"words": (words, vocab), "concepts": (concepts, concept_ids)}
            doc_freq = {
                "words": pd.Series(np.asarray((words > 0).sum(axis=0)).ravel(), index=vocab),
                "concepts": pd.Series((concepts > 0).sum(axis=0), index=concept_ids),
            }
            results = {m: [] for m in measures}
            started = time.perf_counter()
            for s in range(splits):
                rng = split_rng(seed, corpus, s)
                labels = np.where(rng.permutation(n) < n // 2, "a", "b")
                for m, (counts, terms) in measures.items():
                    table = document_keyness(counts, labels, terms, [("a", "b")], n_resamples=permutations, rng=rng)[0]
                    results[m].append(_shares(table, doc_freq[m], min_docs))
            log(f"{corpus}: {splits} splits in {time.perf_counter() - started:.0f} s")
            for m, rows in results.items():
                frame = pd.DataFrame(rows)
                p, pf, qa = frame["p"].mean(), frame["p_frequent"].mean(), frame["q_any"].mean()
                tested = f"{frame['terms'].mean():.0f} tested a split"
                records += [
                    (
                        label,
                        f"{m}: share with p < 0.05 (documents permuted; {tested})",
                        p,
                        "0.04-0.06",
                        0.04 <= p <= 0.06,
                    ),
                    (
                        label,
                        f"{m}: the same, {m} in >= {min_docs} documents ({frame['frequent_terms'].mean():.0f})",
                        pf,
                        "0.04-0.06",
                        bool(0.04 <= pf <= 0.06),
                    ),
                    (label, f"{m}: share of splits with any q < 0.05 (documents permuted)", qa, "<= 0.10", qa <= 0.10),
                    (
                        label,
                        f"{m}: share with p < 0.05, pooled tokens (before)",
                        frame["p_tokens"].mean(),
                        "report",
                        "",
                    ),
                    (
                        label,
                        f"{m}: share of splits with any q < 0.05, pooled tokens (before)",
                        frame["q_tokens_any"].mean(),
                        "report",
                        "",
                    ),
                ]
            # A real difference for contrast: half of the categories against the other half.
            names = sorted(set(categories))
            first = set(names[: len(names) // 2])
            labels = np.array(["a" if c in first else "b" for c in categories])
            table = document_keyness(
                words, labels, vocab, [("a", "b")], n_resamples=permutations, rng=split_rng(seed, corpus, 10**6)
            )[0]
            frequent = table["term"].map(doc_freq["words"]).to_numpy() >= min_docs
            what = f"categories {'+'.join(sorted(first))} vs the rest (a real difference)"
            records += [
                (label, f"words: share with q < 0.05, {what}", float((table["q"] < 0.05).mean()), "report", ""),
                (
                    label,
                    f"words in >= {min_docs} documents: share with q < 0.05, {what}",
                    float((table["q"][frequent] < 0.05).mean()),
                    "report",
                    "",
                ),
                (
                    label,
                    f"words in >= {min_docs} documents: share with q < 0.05 from pooled tokens, {what}",
                    float(
                        (
                            stats.false_discovery_control(table["p_tokens"].to_numpy(), method="bh")[frequent] < 0.05
                        ).mean()
                    ),
                    "report",
                    "",
                ),
            ]
    table = pd.DataFrame(records, columns=COLUMNS)
    table["value"] = table["value"].astype(float).round(4)
    table["met"] = table["met"].map(lambda v: "" if v == "" else ("yes" if v else "no"))
    return table


def render(table: pd.DataFrame) -> str:
    lines = ["| corpus | measure | value | goal | met |", "| --- | --- | ---: | --- | --- |"]
    lines += [f"| {r.corpus} | {r.measure} | {r.value:.4f} | {r.goal} | {r.met} |" for r in table.itertuples()]
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--limit", type=int, default=0, help="documents per corpus, evenly spread over categories (0 = all)"
    )
    parser.add_argument("--splits", type=int, default=20)
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--permutations", type=int, default=999)
    parser.add_argument("--min-docs", type=int, default=20)
    parser.add_argument("--corpus", choices=("both", *CORPUS_NAMES), default="both")
    parser.add_argument(
        "--cache", default=str(ROOT / ".cache"), help="prepared-document cache (a re-run skips segmentation)"
    )
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args(argv)
    corpora = CORPUS_NAMES if args.corpus == "both" else (args.corpus,)
    missing = [c for c in corpora if not (CORPORA / c / "metadata.csv").exists()]
    if missing:
        print(
            f"{CORPORA}: corpora missing: {', '.join(missing)}; fix: put them under ../shared/corpora", file=sys.stderr
        )
        return 2
    table = run(
        args.limit or None,
        args.splits,
        args.seed,
        args.permutations,
        args.min_docs,
        corpora,
        Path(args.cache),
        args.workers,
    )
    print(render(table))
    RESULTS.mkdir(parents=True, exist_ok=True)
    suffix = f"limit{args.limit}" if args.limit else "full"
    suffix += "" if args.corpus == "both" else f"_{args.corpus}"
    path = RESULTS / f"null_splits_{suffix}.csv"
    table.to_csv(path, index=False)
    log(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
