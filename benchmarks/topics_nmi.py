"""Benchmark of the topics stage (issues 4 and 16): do topics recover known categories, and at what cost?

    .venv/bin/python benchmarks/topics_nmi.py                        # engines + stage, all documents
    .venv/bin/python benchmarks/topics_nmi.py --limit 2000           # engines on 2,000 per corpus
    .venv/bin/python benchmarks/topics_nmi.py --sections preparation # issue 4's preparation baselines

Section ``engines`` (issue 16). For each labelled corpus, one vocabulary and one count matrix
(the toolkit's preparation, ``no_below`` and ``no_above`` as below) go to every fit, K = the
number of categories, documents as units, seeds ``--seeds``, the methods in rotating order per
seed (the machine is shared: rotation spreads other load over all methods):

* the toolkit's **default engine** through :func:`analysis.topics.lda.fit_lda` with the study's
  default settings (engine, priors, convergence rule; only K set);
* a **bare tomotopy** ``LDAModel(k, seed)`` with tomotopy's own defaults (alpha 0.1, eta 0.01,
  alpha re-estimated every 10 iterations), ``train(--tomotopy-iterations, workers=1)``, theta
  from ``doc.get_topic_dist()``;
* a **bare gensim** ``LdaModel`` with issue 4's settings (passes raised to 400 online updates,
  iterations 100, chunks of 500, shuffled order).

Reported: NMI (mean, min, max over seeds), c_npmi (mean over topics and seeds, gensim's
CoherenceModel on the same units), fit CPU time (``time.process_time``; wall beside it), the
iterations the convergence rule ran, and whether a repeated toolkit fit gave identical arrays.
Goals: the default engine's NMI >= the best bare engine's minus 0.005, and its CPU time <= 1.1x
that engine's.

Section ``stage`` (issue 16). A bilingual study of ``--stage-docs`` VNTC + as many BBC articles
(outlet = corpus, event = category), sentence windows of 3, every ``[topics]`` setting at its
default, ``[run] workers = 2``: preparation from a cold cache, then the whole topics stage
(``analysis.stages.topics.run_topics``) twice into two folders, wall and CPU time (with the
worker processes'), and whether both runs wrote identical bytes. Goal: <= 120 s on 2 cores.

Section ``preparation`` (issue 4, gensim engine as then). For each labelled corpus (``../shared/corpora/vntc_sample``:
Vietnamese, 10 categories;
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
* **Time** of the stage's fit (:func:`analysis.topics.lda.fit_lda`: bag-of-words, ``LdaModel``,
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
from common import CORPORA, RESULTS, log, select_rows  # noqa: E402  (benchmarks/common.py)

from analysis import files as aio  # noqa: E402
from analysis.corpus import sources  # noqa: E402
from analysis.prepared import prepared_corpus  # noqa: E402
from analysis.topics import lda as topics  # noqa: E402

NAMES = {"vntc": "vntc_sample", "bbc": "bbc_news"}


def write_study(folder: Path, corpus: Path, rows: list[dict], cache: Path, args, engine: str = "gensim") -> Path:
    """A temporary study over ``rows`` with a derived metadata CSV (``file`` = the corpus's ``path``)."""
    # outlet and event: the study's defaults group by them, and a study naming a missing column is refused
    metadata = [
        {
            "doc_id": r["doc_id"],
            "file": r["path"],
            "language": r["language"],
            "category": r["category"],
            "outlet": corpus.name,
            "event": r["category"],
        }
        for r in rows
    ]
    topic_settings = {
        "engine": engine,
        "k": len({r["category"] for r in rows}),
        "passes": passes_for(len(rows), args),
        "iterations": args.iterations,
        "no_below": args.no_below,
        "no_above": args.no_above,
        "chunksize": args.chunksize,
    }
    if engine == "gensim":
        topic_settings["tolerance"] = 0  # issue 4's fixed passes
    return aio.write_study(
        folder,
        {
            "name": "topics-benchmark",
            "corpus": {
                "folder": corpus.as_posix(),
                "metadata": (folder / "metadata.csv").as_posix(),
                "languages": [rows[0]["language"]],
            },
            "units": {"kind": "document"},
            "run": {"output": "out", "cache": cache.as_posix(), "workers": args.workers},
            "topics": topic_settings,
        },
        metadata=metadata,
    )


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
    ps = prepared_corpus(study, workers=args.workers, progress=True)
    units = ps.units("document")
    prepare_s = time.perf_counter() - start
    raw = {doc.doc_id: doc.text for doc in sources.read_corpus(study).documents}
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
        corpus = topics.build_corpus(
            pipeline, unit_ids=ids, terms=terms, no_below=settings.no_below, no_above=no_above, keep_n=settings.keep_n
        )
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
                bare = LdaModel(
                    corpus=train,
                    id2word=dictionary,
                    num_topics=k,
                    random_state=np.random.RandomState(seed),
                    **topics.lda_parameters(settings),
                )
                bare_s += time.perf_counter() - start
                bare_cpu += time.process_time() - cpu
            start, cpu = time.perf_counter(), time.process_time()
            fit = topics.fit_lda(corpus, k, seed, **topics.fit_parameters(settings))
            stage_s += time.perf_counter() - start
            stage_cpu += time.process_time() - cpu
            if timed:
                phi = bare.get_topics().astype(np.float64)
                same &= bool(np.allclose(fit.topic_word, phi / phi.sum(axis=1, keepdims=True), rtol=0, atol=1e-7))
            scores.append(nmi(labels, fit.doc_topic.argmax(axis=1)))
            junk.append(function_word_share(fit, stopwords))
            if not example:
                example = " | ".join(
                    " ".join(fit.vocab[j] for j in row[:6]) for row in topics.top_term_indices(fit.topic_word, 6)
                )
        per_seed[pipeline] = scores
        log(
            f"{name} / {pipeline}: NMI {np.mean(scores):.3f} over seeds {list(args.seeds)} "
            f"({', '.join(f'{v:.3f}' for v in scores)}); "
            f"stage fit {stage_s:.1f} s ({stage_cpu:.1f} s CPU)"
            + (f" vs bare LdaModel {bare_s:.1f} s ({bare_cpu:.1f} s CPU)" if timed else "")
        )
        versus = {}
        if pipeline != "toolkit":
            from scipy.stats import mannwhitneyu

            toolkit = per_seed["toolkit"]
            versus = {
                "toolkit_minus_this": round(float(np.mean(toolkit) - np.mean(scores)), 4),
                "mannwhitney_p_toolkit_higher": round(
                    float(mannwhitneyu(toolkit, scores, alternative="greater").pvalue), 4
                ),
                "toolkit_seeds_above_every_seed_here": sum(t > max(scores) for t in toolkit),
            }
        out.append(
            {
                "corpus": NAMES[name],
                "pipeline": pipeline,
                "documents": len(rows),
                "units": corpus.n_units,
                "dropped": len(corpus.dropped),
                "categories": k,
                "passes": settings.passes,
                "no_above": no_above,
                "vocab": len(corpus.vocab),
                "nmi_mean": round(float(np.mean(scores)), 4),
                "nmi_min": round(min(scores), 4),
                "nmi_max": round(max(scores), 4),
                "nmi_per_seed": " ".join(f"{v:.4f}" for v in scores),
                **versus,
                "top10_function_word_share": round(float(np.mean(junk)), 4),
                "top_terms_first_seed": example,
                "prepare_s": round(prepare_s, 2) if pipeline == "toolkit" else "",
                "stage_fit_s": round(stage_s, 3),
                "stage_fit_cpu_s": round(stage_cpu, 3),
                **(
                    {
                        "bare_lda_s": round(bare_s, 3),
                        "wall_ratio": round(stage_s / bare_s, 3),
                        "bare_lda_cpu_s": round(bare_cpu, 3),
                        "ratio": round(stage_cpu / bare_cpu, 3),
                        "goal": "<= 1.1",
                        "met": "yes" if stage_cpu / bare_cpu <= 1.1 else "NO",
                        "same_topics_as_bare": same,
                    }
                    if timed
                    else {}
                ),
            }
        )
    return out


# ------------------------------------------------------------------------ engines (issue 16)


def prepared_topic_corpus(name: str, args, tmp: Path):
    """The toolkit's prepared documents of one labelled corpus as a TopicCorpus, and the labels."""
    corpus_dir = CORPORA / NAMES[name]
    rows = select_rows(corpus_dir, args.limit)
    study = aio.read_study(write_study(tmp / name, corpus_dir, rows, Path(args.cache).resolve(), args))
    log(f"{name}: {len(rows)} documents; preparing (cache {args.cache})")
    units = prepared_corpus(study, workers=args.workers, progress=False).units("document")
    corpus = topics.build_corpus(
        name,
        unit_ids=[u.unit_id for u in units],
        terms=[u.terms for u in units],
        no_below=args.no_below,
        no_above=args.no_above,
    )
    category = {row["doc_id"]: row["category"] for row in rows}
    return corpus, [category[u] for u in corpus.unit_ids], len(rows), study


def bare_tomotopy(corpus, k: int, seed: int, iterations: int):
    """tomotopy as its README shows it, with its defaults, one thread: (phi, theta) in our vocabulary order."""
    import tomotopy as tp

    model = tp.LDAModel(k=k, seed=seed)
    vocab = np.asarray(corpus.vocab, dtype=object)
    c = corpus.counts
    for i in range(c.shape[0]):
        model.add_doc(
            np.repeat(vocab[c.indices[c.indptr[i] : c.indptr[i + 1]]], c.data[c.indptr[i] : c.indptr[i + 1]]).tolist()
        )
    model.train(iterations, workers=1, parallel=tp.ParallelScheme.NONE)
    column = {t: j for j, t in enumerate(model.vocabs)}
    order = [column[t] for t in corpus.vocab]
    phi = np.array([model.get_topic_word_dist(t) for t in range(k)], dtype=np.float64)[:, order]
    theta = np.array([d.get_topic_dist() for d in model.docs], dtype=np.float64)
    return phi, theta


def bare_gensim(corpus, k: int, seed: int, settings):
    """gensim's LdaModel called directly with issue 4's settings: (phi, theta)."""
    from gensim.models import LdaModel

    bow = corpus.bow()
    train = [bow[i] for i in topics.training_order(len(bow), seed, settings.shuffle)]
    model = LdaModel(
        corpus=train,
        id2word=topics._gensim_dictionary(corpus.vocab),
        num_topics=k,
        random_state=np.random.RandomState(seed),
        **topics.lda_parameters(settings),
    )
    gamma, _ = model.inference(bow)
    return model.get_topics().astype(np.float64), gamma / gamma.sum(axis=1, keepdims=True)


def bench_engines(name: str, args, tmp: Path) -> list[dict]:
    from dataclasses import replace

    from analysis.study.settings import TopicSettings

    corpus, labels, n_docs, study = prepared_topic_corpus(name, args, tmp)
    k = len(set(labels))
    default = replace(TopicSettings(), k=k, no_below=args.no_below, no_above=args.no_above)
    gensim_settings = study.topics  # issue 4's gensim settings (passes for 400 updates)
    methods = {
        f"toolkit default (engine = {default.engine})": lambda seed: topics.fit_lda(
            corpus, k, seed, **topics.fit_parameters(default)
        ),
        f"bare tomotopy LDAModel ({args.tomotopy_iterations} iterations)": lambda seed: bare_tomotopy(
            corpus, k, seed, args.tomotopy_iterations
        ),
        f"bare gensim LdaModel ({gensim_settings.passes} passes)": lambda seed: bare_gensim(
            corpus, k, seed, gensim_settings
        ),
    }
    names = [m for m in methods if not (args.skip_gensim and "gensim LdaModel" in m)]
    log(
        (
            f"{name}: {corpus.n_units} documents, {len(corpus.vocab)} terms, "
            f"{int(corpus.counts.sum())} tokens; K = {k}; {', '.join(names)}"
        )
    )
    stats = {m: {"nmi": [], "cpu": 0.0, "wall": 0.0, "npmi": [], "iterations": []} for m in names}
    identical = None
    for turn, seed in enumerate(args.seeds):
        order = names[turn % len(names) :] + names[: turn % len(names)]
        for method in order:
            start, cpu = time.perf_counter(), time.process_time()
            result = methods[method](seed)
            stats[method]["cpu"] += time.process_time() - cpu
            stats[method]["wall"] += time.perf_counter() - start
            phi, theta = (result.topic_word, result.doc_topic) if hasattr(result, "topic_word") else result
            stats[method]["nmi"].append(nmi(labels, theta.argmax(axis=1)))
            stats[method]["npmi"].append(
                float(np.nanmean(topics.coherence(corpus, phi, topn=10, measures=("c_npmi",))["c_npmi"]))
            )
            if hasattr(result, "record"):
                stats[method]["iterations"].append(result.record.get("iterations"))
                if identical is None:
                    again = methods[method](seed)
                    identical = bool(np.array_equal(again.topic_word, phi) and np.array_equal(again.doc_topic, theta))
            log(
                f"{name} seed {seed} {method}: NMI {stats[method]['nmi'][-1]:.3f}, c_npmi "
                f"{stats[method]['npmi'][-1]:.3f}, "
                f"{stats[method]['cpu']:.1f} s CPU so far"
            )
    bare = [m for m in names if m.startswith("bare")]
    best = max(bare, key=lambda m: np.mean(stats[m]["nmi"]))
    toolkit = names[0]
    out = []
    for method in names:
        st_ = stats[method]
        row = {
            "corpus": NAMES[name],
            "method": method,
            "documents": n_docs,
            "units": corpus.n_units,
            "vocab": len(corpus.vocab),
            "tokens": int(corpus.counts.sum()),
            "k": k,
            "seeds": " ".join(map(str, args.seeds)),
            "nmi_mean": round(float(np.mean(st_["nmi"])), 4),
            "nmi_min": round(min(st_["nmi"]), 4),
            "nmi_max": round(max(st_["nmi"]), 4),
            "nmi_per_seed": " ".join(f"{v:.4f}" for v in st_["nmi"]),
            "c_npmi_mean": round(float(np.mean(st_["npmi"])), 4),
            "fit_cpu_s": round(st_["cpu"], 2),
            "fit_wall_s": round(st_["wall"], 2),
            "iterations_run": " ".join(map(str, st_["iterations"])),
        }
        if method == toolkit:
            nmi_gap = float(np.mean(st_["nmi"]) - np.mean(stats[best]["nmi"]))
            ratio = st_["cpu"] / stats[best]["cpu"]
            row.update(
                {
                    "best_bare": best,
                    "nmi_minus_best_bare": round(nmi_gap, 4),
                    "nmi_goal": ">= -0.005",
                    "nmi_met": "yes" if nmi_gap >= -0.005 else "NO",
                    "cpu_ratio_to_best_bare": round(ratio, 3),
                    "cpu_goal": "<= 1.1",
                    "cpu_met": "yes" if ratio <= 1.1 else "NO",
                    "repeat_identical": identical,
                }
            )
        out.append(row)
    return out


# -------------------------------------------------------------------------- stage (issue 16)


def bench_stage(args, tmp: Path) -> list[dict]:
    """The whole topics stage of a bilingual study with default [topics] settings, twice."""
    import hashlib
    import resource

    from analysis.stages.topics import run_topics
    from analysis.study.settings import study_toml

    folder = tmp / "stage"
    metadata = [
        {
            "doc_id": row["doc_id"],
            "file": f"{NAMES[key]}/{row['path']}",
            "language": row["language"],
            "outlet": key,
            "event": row["category"],
        }
        for key in ("vntc", "bbc")
        for row in select_rows(CORPORA / NAMES[key], args.stage_docs)
    ]
    aio.write_study(folder, "", metadata=metadata)  # the metadata CSV (the study files follow, one per run)

    def study_file(output: str) -> Path:
        text = study_toml(
            {  # every [topics] setting at its default
                "name": "topics-stage-benchmark",
                "corpus": {
                    "folder": CORPORA.as_posix(),
                    "metadata": (folder / "metadata.csv").as_posix(),
                    "languages": ["vi", "en"],
                },
                "units": {"kind": "sentences", "window": 3},
                "run": {
                    "output": output,
                    "cache": (folder / "cache").as_posix(),
                    "workers": args.stage_workers,
                    "figure_formats": ["png"],
                },
            }
        )
        return aio.write_text(folder / f"study_{output}.toml", text)

    rows = []
    start = time.perf_counter()
    study = aio.read_study(study_file("out1"))
    ps = prepared_corpus(study, workers=args.stage_workers, progress=False)
    prepare_s = time.perf_counter() - start
    units = ps.units("sentences", 3)
    log(
        f"stage: {len(ps.docvars)} documents, {len(units)} sentence windows; prepared in {prepare_s:.1f} s (cold cache)"
    )
    digests = []
    for run in ("out1", "out2"):
        study = aio.read_study(study_file(run))
        before = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        written = run_topics(study, args.stage_workers)
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        parent_cpu, worker_cpu = (a.ru_utime + a.ru_stime - b.ru_utime - b.ru_stime for a, b in zip(after, before))
        cpu = parent_cpu + worker_cpu
        root = study.output_dir
        digests.append(
            {str(Path(p).relative_to(root)): hashlib.sha256(Path(p).read_bytes()).hexdigest() for p in written}
        )
        selection = pd.read_csv(root / "topic_k_selection.csv")
        fits = pd.read_csv(root / "topic_k_fits.csv")
        log(f"stage {run}: {wall:.1f} s wall, {cpu:.1f} s CPU (with workers), {len(fits)} K-selection fits")
        rows.append(
            {
                "run": run,
                "documents": len(ps.docvars),
                "units": len(units),
                "workers": args.stage_workers,
                "prepare_cold_s": round(prepare_s, 1),
                "topics_wall_s": round(wall, 1),
                "topics_cpu_s": round(cpu, 1),
                "cpu_parent_s": round(parent_cpu, 1),
                "cpu_workers_s": round(worker_cpu, 1),
                "goal": "<= 120 s",
                "met": "yes" if wall <= 120 else "NO",
                "fits": len(fits),
                "k_range": " ".join(str(k) for k in sorted(set(selection["k"]))),
                "chosen_k": " ".join(f"{m}={k}" for m, k in selection[selection["chosen"]][["model", "k"]].values),
                "iterations_mean": round(float(fits["iterations"].mean()), 1),
                "stopped_by_convergence": int((fits["stopped_by"] == "convergence").sum()),
                "files": len(written),
            }
        )
    same = digests[0] == digests[1]
    differing = sorted(k for k in digests[0] if digests[0].get(k) != digests[1].get(k))
    for row in rows:
        row["identical_bytes_across_runs"] = same
        row["differing_files"] = " ".join(differing[:10])
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sections", nargs="+", choices=["engines", "stage", "preparation"], default=["engines", "stage"]
    )
    parser.add_argument("--corpus", nargs="+", choices=sorted(NAMES), default=["vntc", "bbc"])
    parser.add_argument(
        "--limit", type=int, default=0, help="documents per corpus, spread over all categories (0 = all)"
    )
    parser.add_argument("--workers", type=int, default=2, help="worker processes for preparation")
    parser.add_argument("--cache", default=str(ROOT / ".cache"), help="preparation cache folder")
    # Online LDA needs enough updates (passes x chunks) to converge: at least 20 passes and 400 updates.
    parser.add_argument("--passes", type=int, default=20)
    parser.add_argument("--min-updates", type=int, default=400, help="raise passes until passes x chunks reaches this")
    parser.add_argument("--iterations", type=int, default=100)
    parser.add_argument("--chunksize", type=int, default=500)
    parser.add_argument("--no-below", type=int, default=5)
    parser.add_argument("--no-above", type=float, default=0.5)
    parser.add_argument(
        "--seeds", type=int, nargs="+", default=[1, 2, 3, 4, 5], help="one fit per seed; NMI mean, min, max"
    )
    parser.add_argument("--time-all", action="store_true", help="preparation: time a bare LdaModel for every pipeline")
    parser.add_argument(
        "--tomotopy-iterations", type=int, default=1000, help="engines: Gibbs iterations of the bare tomotopy fit"
    )
    parser.add_argument("--skip-gensim", action="store_true", help="engines: leave out the (slow) bare gensim fits")
    parser.add_argument("--stage-docs", type=int, default=300, help="stage: documents per language")
    parser.add_argument("--stage-workers", type=int, default=2)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(message)s")
    missing = [NAMES[c] for c in NAMES if not (CORPORA / NAMES[c] / "metadata.csv").is_file()]
    if missing:
        print(f"error: {CORPORA}: corpora not found: {', '.join(missing)}", file=sys.stderr)
        return 2
    RESULTS.mkdir(parents=True, exist_ok=True)
    size = "full" if not args.limit else f"limit{args.limit}"
    which = "" if sorted(args.corpus) == sorted(NAMES) else "_" + "_".join(sorted(args.corpus))
    with tempfile.TemporaryDirectory(prefix="topics_nmi_") as tmp:
        for section in args.sections:
            if section == "stage":
                table = pd.DataFrame(bench_stage(args, Path(tmp)))
                target = RESULTS / f"topics_stage_{2 * args.stage_docs}.csv"
            else:
                bench_one = bench_engines if section == "engines" else bench
                table = pd.DataFrame([row for name in args.corpus for row in bench_one(name, args, Path(tmp))])
                target = RESULTS / (
                    f"topics_engines_{size}{which}.csv" if section == "engines" else f"topics_nmi_{size}{which}.csv"
                )
            aio.write_text(target, table.to_csv(index=False, lineterminator="\n"))
            with pd.option_context("display.width", 250, "display.max_columns", 40, "display.max_colwidth", 60):
                print(f"\n== {section} ==")
                print(table.to_string(index=False))
            print(f"written {target}")
    print(
        f"\nsettings: K = categories, no_below {args.no_below}, no_above {args.no_above}, "
        f"seeds {args.seeds}; gensim: passes {args.passes} "
        f"or more for {args.min_updates} online updates, iterations {args.iterations}, "
        f"chunksize {args.chunksize}, training order shuffled per seed"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
