"""Benchmark of the cross-language instrument on translations (issue 12).

    .venv/bin/python benchmarks/equivalence.py            # parallel_news_mt, then i12b's null splits
    .venv/bin/python benchmarks/equivalence.py --skip-null --skip-topics   # framing part only

Given the same content in both languages, a valid instrument reports (almost) no difference. The
development set ``../shared/corpora/parallel_news_mt`` (2,977 machine-translated sentence pairs in
119 pseudo-documents) is laid out as a corpus folder (one file per pseudo-document and language,
metadata ``doc_id,file,language,outlet,event`` with ``event`` pairing the two sides) in a
temporary directory, and the default study's ``framing`` and ``topics`` stages are run on it, as a
new user would. Measured, beside the goals of issue 12:

* concepts tested in ``keyness_concepts_by_language`` and the share at q < 0.05 (goal <= 2%);
* frames at q < 0.05 in ``frame_tests_by_language`` (unpaired permutation test; goal 0) and in a
  paired test over the translated pairs (:func:`analysis.framing.equivalence.paired_tests`; goal 0);
* ``event_omissions`` rows per pair (goal <= 0.5);
* cross-lingual similarity: share of documents whose translation is the top match (goal >= 0.9);
* the joint concept topic model: largest gap of a topic's prevalence between the languages and
  whether the two 95% intervals overlap for every topic (goal: they overlap);
* the equivalence check itself (:mod:`analysis.framing.equivalence`): per kind, the shares of
  entries shown equivalent (TOST: 90% interval inside [0.8, 1.25]), shown not equivalent (95%
  interval outside) and undetermined, each verdict corrected across the kind (Benjamini-Hochberg),
  the median pairs needed to decide the undetermined (goal: at most 2% of the entries with a hit
  shown not equivalent), the shares of the uncorrected per-entry verdicts, then the paired tests
  and flags;
  ``equivalence_denominators.csv`` in ``results/equivalence_outputs/`` has the same shares under
  every candidate denominator.

Then, if ``benchmarks/null_splits.py`` exists (i12b), its section (random within-language splits
of real articles) is appended. Prints one table and writes ``benchmarks/results/equivalence.csv``.
Inputs are never modified; prepared documents are cached in ``--cache``.
"""

from __future__ import annotations

import argparse
import csv
import logging
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import pandas as pd  # noqa: E402
from common import CORPORA, RESULTS, log  # noqa: E402

PARALLEL = CORPORA / "parallel_news_mt"
COLUMNS = ["corpus", "measure", "value", "goal", "met"]


def read_parallel_folder(folder: Path = PARALLEL) -> tuple[list[str], list[str], list[tuple[str, int, int]]]:
    """The two line lists and the pseudo-documents ``(doc_id, start, end)`` (1-based, inclusive)."""
    from analysis.corpus.folder import read_parallel

    sample = read_parallel(folder)
    return sample.en, sample.vi, sample.docs


def build_study(folder: Path, cache: Path, topics_k: int = 0, codebook: str = "") -> Path:
    """A corpus folder and study file for the translated pseudo-documents; returns the study path."""
    en, vi, docs = read_parallel_folder()
    corpus = folder / "corpus"
    corpus.mkdir(parents=True, exist_ok=True)
    rows = []
    for doc_id, start, end in docs:
        for lang, lines in (("en", en), ("vi", vi)):
            name = f"{doc_id}_{lang}.txt"
            (corpus / name).write_text("\n\n".join(lines[start - 1 : end]) + "\n", encoding="utf-8")
            rows.append(
                {"doc_id": f"{doc_id}_{lang}", "file": name, "language": lang, "outlet": f"mt-{lang}", "event": doc_id}
            )
    with open(corpus / "metadata.csv", "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    study = (ROOT / "study.toml").read_text(encoding="utf-8")
    study = study.replace('folder = "seeds"', 'folder = "corpus"').replace(
        'metadata = "seeds/metadata.csv"', 'metadata = "corpus/metadata.csv"'
    )
    study = study.replace('output = "figures"', 'output = "out"').replace('cache = ".cache"', f'cache = "{cache}"')
    study = study.replace('keyness_within = ["event", "outlet"]', "keyness_within = []")
    study = study.replace('kwic_terms = ["hợp_tác", "cooperation", "biển_đông", "East Sea"]', "kwic_terms = []")
    if topics_k:
        study = study.replace("k = 0  ", f"k = {topics_k}  ")
    if codebook:
        study = study.replace('codebook = ""  ', f'codebook = "{codebook}"  ')
    path = folder / "study.toml"
    path.write_text(study, encoding="utf-8")
    return path


def with_parallel(study_text: str, folder: Path) -> str:
    """The study text naming ``folder`` as its ``[equivalence] parallel`` sample.

    study.toml has an ``[equivalence]`` section since the merge of issue 12 (a second one is invalid
    TOML): its ``parallel`` line is replaced; a study without the section gets one.
    """
    import re

    line = f'parallel = "{folder}"'
    section = re.search(r"^\[equivalence\][ \t]*\n(?:(?!\[).*(?:\n|$))*", study_text, flags=re.M)  # to the next table
    if section is None:
        return study_text + f"\n[equivalence]\n{line}\n"
    body, count = re.subn(r"^parallel\s*=.*$", line, section.group(0), count=1, flags=re.M)
    if not count:
        body = body.replace("[equivalence]\n", f"[equivalence]\n{line}\n", 1)
    return study_text[: section.start()] + body + study_text[section.end() :]


def _row(measure: str, value, goal: str = "", met=None, corpus: str = "parallel_news_mt") -> dict:
    return {
        "corpus": corpus,
        "measure": measure,
        "value": value,
        "goal": goal,
        "met": "" if met is None else ("yes" if met else "no"),
    }


def framing_measures(out: Path, n_pairs: int) -> list[dict]:
    """Measures read from the framing stage's own output tables (what a user would publish)."""
    rows = []
    keyness = pd.read_csv(out / "keyness_concepts_by_language.csv")
    tested = len(keyness)
    share = float((keyness["q"] < 0.05).mean()) if tested else 0.0
    rows.append(_row("concepts tested (keyness_concepts_by_language)", tested))
    rows.append(
        _row(
            "share of concepts at q < 0.05 (document-level keyness of the framing stage)",
            round(share, 4),
            "<= 0.02",
            share <= 0.02,
        )
    )
    tests = pd.read_csv(out / "frame_tests_by_language.csv")
    unpaired = int((tests["q"] < 0.05).sum())
    rows.append(_row(f"frames at q < 0.05, unpaired permutation test (of {len(tests)})", unpaired, "0", unpaired == 0))
    omissions = pd.read_csv(out / "event_omissions.csv", dtype=str, keep_default_na=False)
    per_pair = int((omissions["kind"] != "").sum()) / n_pairs  # an empty table has one row saying why: not an omission
    rows.append(_row("event_omissions rows per pair", round(per_pair, 3), "<= 0.5", per_pair <= 0.5))
    sim = pd.read_csv(out / "similarity_crosslingual.csv", dtype={"doc_a": str, "doc_b": str})
    sim = sim.assign(pair_a=sim["doc_a"].str.rsplit("_", n=1).str[0], pair_b=sim["doc_b"].str.rsplit("_", n=1).str[0])
    top = sim[sim["rank_for_a"] == 1]
    top1 = float((top["pair_a"] == top["pair_b"]).sum() / n_pairs)
    rows.append(_row("similarity: the translation is the top match (vi -> en)", round(top1, 3), ">= 0.9", top1 >= 0.9))
    return rows


def paired_frame_measures(out: Path, seed: int = 20240404) -> list[dict]:
    """The paired test over translated pairs, from ``frame_salience_by_document.csv``."""
    from analysis.framing.equivalence import paired_tests

    docs = pd.read_csv(out / "frame_salience_by_document.csv", dtype={"doc_id": str})
    docs["pair"] = docs["doc_id"].str.rsplit("_", n=1).str[0]
    rows = []
    candidates = (
        ("per_100_sentences", "hits per 100 sentences (the cross-language rate of the frame tables)", True),
        ("per_1000", "hits per 1,000 counted tokens (the within-language rate, for comparison)", False),
        ("hits", "hits per document (for comparison)", False),
    )
    for column, name, goal in candidates:
        if column not in docs.columns:
            continue
        wide = (
            docs.pivot_table(index=["family", "frame", "pair"], columns="language", values=column, aggfunc="sum")
            .fillna(0)
            .reset_index()
        )
        table = paired_tests(wide, a="vi", b="en", by=("family", "frame"), n_resamples=5000, seed=seed)
        sig = int((table["q"] < 0.05).sum())
        rows.append(
            _row(
                f"frames at q < 0.05, paired sign-flip test over pairs, {name} (of {len(table)})",
                sig,
                "0" if goal else "report",
                (sig == 0) if goal else None,
            )
        )
    return rows


def topic_measures(out: Path) -> list[dict]:
    prevalence = pd.read_csv(out / "topic_prevalence.csv")
    joint = prevalence[(prevalence["model"] == "joint") & (prevalence["group_by"] == "language")]
    if joint.empty:
        return [_row("joint topic model", "not fitted", "fitted", False)]
    wide = joint.pivot_table(index="topic", columns="group", values=["prevalence", "ci_low", "ci_high"])
    gap = (wide[("prevalence", "vi")] - wide[("prevalence", "en")]).abs()
    overlap = (wide[("ci_low", "vi")] <= wide[("ci_high", "en")]) & (wide[("ci_low", "en")] <= wide[("ci_high", "vi")])
    worst = int(gap.idxmax())
    detail = (
        f"topic {worst}: en {wide.loc[worst, ('prevalence', 'en')]:.3f} "
        f"[{wide.loc[worst, ('ci_low', 'en')]:.3f}, "
        f"{wide.loc[worst, ('ci_high', 'en')]:.3f}], "
        f"vi {wide.loc[worst, ('prevalence', 'vi')]:.3f} "
        f"[{wide.loc[worst, ('ci_low', 'vi')]:.3f}, {wide.loc[worst, ('ci_high', 'vi')]:.3f}]"
    )
    return [
        _row(
            f"joint topic model: K = {len(wide)}, largest prevalence gap vi - en", round(float(gap.max()), 3), "small"
        ),
        _row(
            f"joint topic model: topics whose language intervals overlap ({detail})",
            f"{int(overlap.sum())} of {len(wide)}",
            "all",
            bool(overlap.all()),
        ),
    ]


def equivalence_measures(out: Path) -> list[dict]:
    summary = out / "equivalence_summary.csv"
    if not summary.is_file():
        return []
    table = pd.read_csv(summary)
    return [
        _row(
            f"equivalence check: {r.measure}",
            r.value,
            "" if pd.isna(r.goal) else r.goal,
            None if pd.isna(r.met) or r.met == "" else r.met == "yes",
        )
        for r in table.itertuples()
    ]


def run_parallel(cache: Path, topics: bool = True, topics_k: int = 0, codebook: str = "") -> list[dict]:
    from analysis import files as aio
    from analysis.corpus.folder import read_parallel
    from analysis.stages.framing import run_framing

    rows = []
    with tempfile.TemporaryDirectory(prefix="equivalence_") as tmp:
        folder = Path(tmp)
        study_path = build_study(folder, cache, topics_k, str(Path(codebook).resolve()) if codebook else "")
        study_path.write_text(with_parallel(study_path.read_text(encoding="utf-8"), PARALLEL), encoding="utf-8")
        study = aio.read_study(study_path)
        n_pairs = len(read_parallel(PARALLEL).docs)
        t0 = time.time()
        log("framing stage on the translated pseudo-documents")
        run_framing(study)
        log(f"framing done in {time.time() - t0:.0f} s")
        rows += framing_measures(study.output_dir, n_pairs)
        rows += paired_frame_measures(study.output_dir)
        try:
            from analysis.stages.equivalence import run_equivalence
        except ImportError:
            run_equivalence = None
        if run_equivalence is not None:
            log("equivalence stage")
            run_equivalence(study)
            rows += equivalence_measures(study.output_dir)
        keep = RESULTS / (
            "equivalence_outputs" + ("_" + Path(codebook).stem if codebook else "")
        )  # the tables behind the numbers
        keep.mkdir(parents=True, exist_ok=True)
        for path in sorted(study.output_dir.glob("*.csv")):
            if path.stem.startswith(
                (
                    "equivalence_",
                    "codebook_",
                    "frame_tests",
                    "keyness_concepts",
                    "event_omissions",
                    "frame_salience_by_document",
                )
            ):
                (keep / path.name).write_bytes(path.read_bytes())
        if topics:
            from analysis.stages.topics import run_topics

            t0 = time.time()
            log("topics stage")
            run_topics(study)
            log(f"topics done in {time.time() - t0:.0f} s")
            rows += topic_measures(study.output_dir)
            (keep / "topic_prevalence.csv").write_bytes((study.output_dir / "topic_prevalence.csv").read_bytes())
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Cross-language equivalence benchmark (issue 12)")
    parser.add_argument(
        "--cache", default=str(ROOT / ".cache"), help="preparation cache (default: the project's .cache)"
    )
    parser.add_argument("--skip-topics", action="store_true")
    parser.add_argument("--skip-null", action="store_true", help="skip i12b's null-split section")
    parser.add_argument(
        "--topics-k", type=int, default=0, help="fix K of the topic models (0 = the study's K selection)"
    )
    parser.add_argument("--null-limit", type=int, default=None, help="documents per corpus for the null splits")
    parser.add_argument(
        "--codebook",
        default="",
        help="run with this codebook instead of the default (e.g. an older version, to compare)",
    )
    parser.add_argument("--output", default="equivalence", help="results file stem in benchmarks/results/")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    rows = []
    if PARALLEL.is_dir():
        rows += run_parallel(
            Path(args.cache).resolve(), topics=not args.skip_topics, topics_k=args.topics_k, codebook=args.codebook
        )
    else:
        rows.append(_row("parallel sample", "absent", "present", False))
    table = pd.DataFrame(rows, columns=COLUMNS)
    if not args.skip_null:
        try:
            from null_splits import run as run_null_splits
        except ImportError:
            run_null_splits = None
        if run_null_splits is not None:
            log("null splits (benchmarks/null_splits.py)")
            table = pd.concat([table, run_null_splits(limit=args.null_limit)[COLUMNS]], ignore_index=True)
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{args.output}.csv"
    table.to_csv(path, index=False)
    with pd.option_context("display.max_colwidth", 110, "display.width", 250):
        print(table.to_string(index=False))
    print(f"\nwritten: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
