"""Benchmark of the topics stage (issue 4): do topics recover known categories, and at what cost?

    .venv/bin/python benchmarks/topics_nmi.py               # full: 10,000 VNTC + 2,225 BBC articles
    .venv/bin/python benchmarks/topics_nmi.py --limit 500   # quick check of the script

For each labelled corpus (``../shared/corpora/vntc_sample``: Vietnamese, 10 categories;
``../shared/corpora/bbc_news``: English, 5 categories), with K = the number of categories and
documents as units:

* **NMI** (mean, min and max over ``--seeds``; normalised mutual information, sklearn's
  ``normalized_mutual_info_score``, arithmetic mean normalisation) between each document's
  dominant topic (argmax of theta) and its category, for the toolkit's preparation
  (segmentation, stopwords, lemmas) and, fitted in the same run with the same LDA settings and
  the same ``no_below``, the **baseline** of the issue: whitespace tokens as written, no
  stopword removal of any kind (no list, no lower-casing, and no ``no_above`` cap, which is a
  stopword filter by document frequency). Also a stricter baseline: the same whitespace tokens
  with the toolkit's ``no_above`` cap, which by itself removes most function words (Schofield,
  Magnusson & Mimno 2017 found such frequency filtering does most of what a stopword list does
  for topic models). 0 = independent, 1 = the same partition.
* **Is the difference real?** One-sided Mann-Whitney U test (``scipy.stats.mannwhitneyu``) of
  the toolkit's per-seed NMIs against each baseline's: LDA's spread across seeds is of the
  order of the differences, so a mean alone would not tell. With 5 seeds a side, p = 0.004 means
  every toolkit fit beat every baseline fit.
* **Function words among the top terms**: share of each topic's 10 most probable terms that are
  in stopwordsiso's list or carry no letter (mean over topics and seeds), and the top 6 terms of
  each topic of the first seed: what the preparation changes for a reader of the topics, which
  NMI does not measure.
* **Time** of the stage's fit (:func:`analysis.topics.fit_lda`: bag-of-words, ``LdaModel``,
  array extraction, one inference pass) against a bare ``gensim.models.LdaModel(...)`` call with
  the same parameters on the same bag-of-words, both in this process (goal <= 1.1x). Also whether
  the two give the same topic-word matrix (they should: same seed, same input). The ratio is of
  CPU time (``time.process_time``), which other work on a shared machine does not inflate; wall
  times are reported beside it.

Inputs are read, never modified: the corpora's metadata has ``path``, not ``file``, so a derived
metadata CSV and a temporary study are written in a temporary folder. Prepared documents are
cached in ``--cache`` (default: the project's ``.cache``) so a second run skips segmentation.
Prints a table and writes ``benchmarks/results/topics_nmi_<full|limitN>[_<corpus>].csv``.
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from analysis import files as aio  # noqa: E402
from analysis import topics  # noqa: E402
from analysis.prepared import prepared_corpus  # noqa: E402

from common import CORPORA, RESULTS, log, select_rows  # noqa: E402  (benchmarks/common.py)
NAMES = {"vntc": "vntc_sample", "bbc": "bbc_news"}






def write_study(folder: Path, corpus: Path, rows: list[dict], cache: Path, args) -> Path:
    """A temporary study over ``rows`` with a derived metadata CSV (``file`` = the corpus's ``path``)."""
    metadata = [{"doc_id": r["doc_id"], "file": r["path"], "language": r["language"], "category": r["category"]} for r in rows]
    return aio.write_study(folder, {
        "name": "topics-benchmark",
        "corpus": {"folder": corpus.as_posix(), "metadata": (folder / "metadata.csv").as_posix(), "languages": [rows[0]["language"]]},
        "units": {"kind": "document"},
        "run": {"output": "out", "cache": cache.as_posix(), "workers": args.workers},
        "topics": {"k": len({r["category"] for r in rows}), "passes": passes_for(len(rows), args), "iterations": args.iterations,
                   "no_below": args.no_below, "no_above": args.no_above, "chunksize": args.chunksize},
    }, metadata)


def passes_for(n_documents: int, args) -> int:
    """``--passes``, raised until the fit makes at least ``--min-updates`` online updates.

    Online LDA makes one update per chunk: 10,000 documents in chunks of 500 give 20 a pass, the
    2,225 BBC articles only 5, so the same passes leave BBC far less converged (its NMI moved
    from 0.67 to 0.74 between 20 and 50 passes, mean of 8 seeds).
    """
    chunks = -(-n_documents // args.chunksize)
    return max(args.passes, -(-args.min_updates // chunks))


def function_word_share(fit, stopwords: frozenset[str]) -> float:
    """Share of the top-10 terms of the topics (by probability) that are function words or carry
    no letter: what a reader of the topic tables would have to skip.

    A term counts when, lower-cased, with ``_`` as a space and punctuation stripped from its ends,
    it is in stopwordsiso's list for the language (an outside list, not the toolkit's own
    additions) or has no letter at all ("2006", "-", "...").
    """
    shares = []
    for row in topics.top_term_indices(fit.topic_word, 10):
        words = [fit.vocab[j].lower().replace("_", " ").strip(PUNCTUATION) for j in row]
        shares.append(sum(1 for w in words if w in stopwords or not any(c.isalpha() for c in w)) / len(words))
    return float(np.mean(shares))


PUNCTUATION = ".,;:!?\"'“”‘’()[]{}«»…-–—/*"


def nmi(labels, dominant) -> float:
    from sklearn.metrics import normalized_mutual_info_score

    return float(normalized_mutual_info_score(labels, dominant))


def bench(name: str, args, tmp: Path) -> list[dict]:
    from gensim.models import LdaModel

    corpus_dir = CORPORA / NAMES[name]
    rows = select_rows(corpus_dir, args.limit)
    study = aio.read_study(write_study(tmp / name, corpus_dir, rows, Path(args.cache).resolve(), args))
    settings = study.topics
    category = {row["doc_id"]: row["category"] for row in rows}
    k = settings.k
    log(f"{name}: {len(rows)} documents, {k} categories; preparing (cache {args.cache})")
    start = time.perf_counter()
    ps = prepared_corpus(study, args.workers, progress=True)
    units = ps.units("document")
    prepare_s = time.perf_counter() - start
    raw = {doc.doc_id: doc.text for doc in aio.read_corpus(study).documents}
    whitespace = [tuple(raw[u.doc_id].split()) for u in units]
    # (name, terms, no_above): the baseline once with the same dictionary filter as the toolkit and
    # once without the document-frequency cap, which by itself removes most function words.
    pipelines = [
        ("toolkit", [u.terms for u in units], settings.no_above),
        ("whitespace baseline (no stopword removal)", whitespace, 1.0),
        (f"whitespace + toolkit's no_above = {settings.no_above}", whitespace, settings.no_above),
    ]
    ids = [u.unit_id for u in units]
    import stopwordsiso

    stopwords = frozenset(stopwordsiso.stopwords(rows[0]["language"]))
    out = []
    per_seed: dict[str, list[float]] = {}
    for pipeline, terms, no_above in pipelines:
        corpus = topics.build_corpus(pipeline, ids, terms, settings.no_below, no_above, settings.keep_n)
        log(f"{name} / {pipeline}: {corpus.n_units} documents, {len(corpus.vocab)} terms; fitting K = {k}")
        bow = corpus.bow()
        dictionary = topics._gensim_dictionary(corpus.vocab)
        labels = [category[unit_id] for unit_id in corpus.unit_ids]
        scores, same = [], True
        bare_s = stage_s = bare_cpu = stage_cpu = 0.0
        junk: list[float] = []
        example = ""
        timed = pipeline == "toolkit" or args.time_all  # the stage-vs-bare timing needs one pipeline
        for seed in args.seeds:
            if timed:
                start, cpu = time.perf_counter(), time.process_time()
                train = [bow[i] for i in topics.training_order(len(bow), seed, settings.shuffle)]
                bare = LdaModel(corpus=train, id2word=dictionary, num_topics=k, random_state=np.random.RandomState(seed),
                                **topics.lda_parameters(settings))
                bare_s += time.perf_counter() - start
                bare_cpu += time.process_time() - cpu
            start, cpu = time.perf_counter(), time.process_time()
            fit = topics.fit_lda(corpus, k, seed, settings)
            stage_s += time.perf_counter() - start
            stage_cpu += time.process_time() - cpu
            if timed:
                phi = bare.get_topics().astype(np.float64)
                same &= bool(np.allclose(fit.topic_word, phi / phi.sum(axis=1, keepdims=True), rtol=0, atol=1e-7))
            scores.append(nmi(labels, fit.doc_topic.argmax(axis=1)))
            junk.append(function_word_share(fit, stopwords))
            if not example:
                example = " | ".join(" ".join(fit.vocab[j] for j in row[:6]) for row in topics.top_term_indices(fit.topic_word, 6))
        per_seed[pipeline] = scores
        log(f"{name} / {pipeline}: NMI {np.mean(scores):.3f} over seeds {list(args.seeds)} ({', '.join(f'{v:.3f}' for v in scores)}); "
            f"stage fit {stage_s:.1f} s ({stage_cpu:.1f} s CPU)" + (f" vs bare LdaModel {bare_s:.1f} s ({bare_cpu:.1f} s CPU)" if timed else ""))
        versus = {}
        if pipeline != "toolkit":
            from scipy.stats import mannwhitneyu

            toolkit = per_seed["toolkit"]
            versus = {
                "toolkit_minus_this": round(float(np.mean(toolkit) - np.mean(scores)), 4),
                "mannwhitney_p_toolkit_higher": round(float(mannwhitneyu(toolkit, scores, alternative="greater").pvalue), 4),
                "toolkit_seeds_above_every_seed_here": sum(t > max(scores) for t in toolkit),
            }
        out.append({
            "corpus": NAMES[name], "pipeline": pipeline, "documents": len(rows), "units": corpus.n_units,
            "dropped": len(corpus.dropped), "categories": k, "passes": settings.passes, "no_above": no_above, "vocab": len(corpus.vocab),
            "nmi_mean": round(float(np.mean(scores)), 4), "nmi_min": round(min(scores), 4), "nmi_max": round(max(scores), 4),
            "nmi_per_seed": " ".join(f"{v:.4f}" for v in scores), **versus,
            "top10_function_word_share": round(float(np.mean(junk)), 4), "top_terms_first_seed": example,
            "prepare_s": round(prepare_s, 2) if pipeline == "toolkit" else "",
            "stage_fit_s": round(stage_s, 3), "stage_fit_cpu_s": round(stage_cpu, 3),
            **({
                "bare_lda_s": round(bare_s, 3), "wall_ratio": round(stage_s / bare_s, 3), "bare_lda_cpu_s": round(bare_cpu, 3),
                "ratio": round(stage_cpu / bare_cpu, 3), "goal": "<= 1.1", "met": "yes" if stage_cpu / bare_cpu <= 1.1 else "NO",
                "same_topics_as_bare": same,
            } if timed else {}),
        })
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", nargs="+", choices=sorted(NAMES), default=["vntc", "bbc"])
    parser.add_argument("--limit", type=int, default=0, help="documents per corpus, spread over all categories (0 = all)")
    parser.add_argument("--workers", type=int, default=2, help="worker processes for preparation")
    parser.add_argument("--cache", default=str(ROOT / ".cache"), help="preparation cache folder")
    # Online LDA needs enough updates (passes x chunks) to converge: at least 20 passes and 400 updates.
    parser.add_argument("--passes", type=int, default=20)
    parser.add_argument("--min-updates", type=int, default=400, help="raise passes until passes x chunks reaches this")
    parser.add_argument("--iterations", type=int, default=100)
    parser.add_argument("--chunksize", type=int, default=500)
    parser.add_argument("--no-below", type=int, default=5)
    parser.add_argument("--no-above", type=float, default=0.5)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3, 4, 5], help="one fit per seed; NMI mean, min, max")
    parser.add_argument("--time-all", action="store_true", help="time a bare LdaModel for every pipeline, not only the toolkit's")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(message)s")
    missing = [NAMES[c] for c in args.corpus if not (CORPORA / NAMES[c] / "metadata.csv").is_file()]
    if missing:
        print(f"error: {CORPORA}: corpora not found: {', '.join(missing)}", file=sys.stderr)
        return 2
    rows = []
    with tempfile.TemporaryDirectory(prefix="topics_nmi_") as tmp:
        for name in args.corpus:
            rows += bench(name, args, Path(tmp))
    table = pd.DataFrame(rows)
    RESULTS.mkdir(parents=True, exist_ok=True)
    size = "full" if not args.limit else f"limit{args.limit}"
    which = "" if sorted(args.corpus) == sorted(NAMES) else "_" + "_".join(sorted(args.corpus))
    target = RESULTS / f"topics_nmi_{size}{which}.csv"
    aio.write_text(target, table.to_csv(index=False, lineterminator="\n"))
    with pd.option_context("display.width", 200, "display.max_columns", 30):
        print(table.to_string(index=False))
    print(f"\nsettings: K = categories, passes {args.passes} or more for {args.min_updates} online updates, iterations {args.iterations}, chunksize {args.chunksize}, "
          f"no_below {args.no_below}, no_above {args.no_above}, seeds {args.seeds}, training order shuffled per seed; written {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
