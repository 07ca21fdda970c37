"""Command line: ``python -m analysis <stage> [--study study.toml]``. A thin dispatcher.

Each stage reads the study, computes and writes its outputs; errors in the input are printed as
one line (``error: <file>: <problem> (fix: ...)``) with exit status 2 and nothing written.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import sys
from typing import Callable

from .errors import InputError

STAGES: dict[str, tuple[str, Callable]] = {}


def stage(name: str, help_text: str):
    def register(func):
        STAGES[name] = (help_text, func)
        return func

    return register


@stage("validate", "read and validate the corpus and metadata; write nothing")
def _validate(study, args):
    from . import io

    corpus = io.read_corpus(study)
    print(f"ok: {len(corpus)} documents, languages {sorted(set(d.language for d in corpus))}")


@stage("prepare", "clean, normalise and segment (cached); write the cleaning log and corpus summary")
def _prepare(study, args):
    from .pipeline import run_prepare

    run_prepare(study, args.workers)


@stage("frequencies", "term counts, per-1,000, document frequency, TF-IDF, bigrams, KWIC tables and charts")
def _frequencies(study, args):
    from .pipeline import run_frequencies

    run_frequencies(study, args.workers)


@stage("kwic", "print a key-word-in-context concordance for --term")
def _kwic(study, args):
    from . import textstat
    from .pipeline import prepared_corpus
    from .tables import to_markdown

    if not args.term:
        raise InputError("--term", "kwic needs a term", "give --term hợp_tác")
    ps = prepared_corpus(study, args.workers, progress=False)
    sys.stdout.write(to_markdown(textstat.kwic(ps.prepared, args.term, ps.rules, study.frequencies.kwic_window)))


@stage("framing", "codebook coverage, frame and actor salience, group tests, keyness, similarity, omissions")
def _framing(study, args):
    from .framing_stage import run_framing

    run_framing(study, args.workers)


@stage("topics", "LDA per language and joint, K selection, stability, prevalence, cross-lingual alignment")
def _topics(study, args):
    from .topics_stage import run_topics

    run_topics(study, args.workers)


@stage("manifest", "write manifest.json: input hashes, settings, versions, segmenter, seeds, output hashes")
def _manifest(study, args):
    from .pipeline import run_manifest

    run_manifest(study)


@stage("appendix", "write appendix.tex (every table and figure, captioned), numbers.tex (quoted numbers as macros), run_manifest table")
def _appendix(study, args):
    from .pipeline import run_appendix

    run_appendix(study)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m analysis",
        description="Compare Vietnamese- and English-language news coverage: term frequencies, "
        "framing and topics, written as figures and tables into the study's output folder.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="stages:\n" + "\n".join(f"  {name:<12} {text}" for name, (text, _) in STAGES.items()),
    )
    parser.add_argument("stage", choices=sorted(STAGES), metavar="stage", help="one of: " + ", ".join(STAGES))
    parser.add_argument("--study", default="study.toml", help="study file (default: study.toml)")
    parser.add_argument("--workers", type=int, default=None, help="worker processes for preparation (0 = all cores; default from the study)")
    parser.add_argument(
        "--scheduler", default=None, help="Dask scheduler address (tcp://host:8786) for preparation; default from the study, none = no Dask"
    )
    parser.add_argument("--term", default="", help="term for the kwic stage")
    parser.add_argument("--quiet", action="store_true", help="log warnings and errors only")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING if args.quiet else logging.INFO, format="%(levelname)s %(message)s", stream=sys.stderr)
    from .io import read_study

    try:
        study = read_study(args.study)
        if args.scheduler is not None:
            study = dataclasses.replace(study, run=dataclasses.replace(study.run, scheduler=args.scheduler))
        STAGES[args.stage][1](study, args)
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
