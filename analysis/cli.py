"""Command line: ``python -m analysis <stage> [--study study.toml]``. A thin dispatcher.

Each stage reads the study, computes and writes its outputs; errors in the input are printed as
one line (``error: <file>: <problem> (fix: ...)``) with exit status 2 and nothing written.
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import logging
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Callable

from . import files, threads
from .corpus import sources
from .corpus.sources import corpus_columns
from .errors import InputError
from .paper.tables import to_markdown
from .prepared import prepared_corpus
from .study.settings import StudyErrors, column_problems, raise_all
from .text import learned_boilerplate

STAGES: dict[str, tuple[str, Callable]] = {}


def _lazy(module: str, function: str) -> Callable:
    """``analysis.stages.<module>.<function>``, imported when called: a stage loads its own code
    only (the preparation stage does not import scipy.stats, statsmodels and the topic engines of
    the other stages; all stages imported took 2.25 s of a cold preparation's CPU)."""

    def run(*args, **kwargs):
        import importlib

        return getattr(importlib.import_module(f".stages.{module}", __package__), function)(*args, **kwargs)

    run.__name__ = function
    return run


def stage(name: str, help_text: str):
    def register(func):
        STAGES[name] = (help_text, func)
        return func

    return register


class _OncePerRun(logging.Filter):
    """Each warning once, with paths under the working directory shown relative to it.

    ``validate`` reads a table corpus twice (once to check every record, once more into a scratch
    cache to try the learned boilerplate on its texts), and each read warns about the same record;
    the reader names files by their resolved path (``/home/me/study/articles.csv``), which the
    researcher typed as ``articles.csv``.
    """

    def __init__(self, base: Path):
        super().__init__()
        base = str(base.resolve()).rstrip("/")
        self.prefix = base + "/" if base else None  # at the file system's root, paths stay as they are
        self.seen: set[tuple[int, str]] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if self.prefix:
            message = message.replace(self.prefix, "")
        if (record.levelno, message) in self.seen:
            return False
        self.seen.add((record.levelno, message))
        record.msg, record.args = message, None
        return True


@contextmanager
def _each_warning_once():
    """:class:`_OncePerRun` on the terminal's handlers for the duration of a command (a filter on a
    handler sees the records of every ``analysis.*`` logger; one on a logger, only its own)."""
    once = _OncePerRun(Path.cwd())
    handlers = list(logging.getLogger().handlers)
    for handler in handlers:
        handler.addFilter(once)
    try:
        yield
    finally:
        for handler in handlers:
            handler.removeFilter(once)


@stage("validate", "read and validate the study, the corpus and the metadata; write nothing")
def _validate(study, args):
    from .corpus.doctable import PackedDocument
    from .prepared import load_preparation
    from .text.prepare import check_documents

    corpus = sources.read_corpus(study, spill=False)  # checks every record; keeps no texts (writes no text pack)
    # What preparation would reject (control characters, invisible-only texts, texts the rules
    # remove whole), found now without segmenting anything: every text still on disk (a folder
    # corpus; a table source's texts are not kept when validating).
    readable = [d for d in corpus.documents if not isinstance(d, PackedDocument) or d.pack]
    if study.equivalence.parallel:  # the translated sample: en.txt and vi.txt, line-aligned (the stage reads it so)
        from .corpus.folder import read_parallel

        read_parallel(study.path(study.equivalence.parallel))
    preparation = load_preparation(study)
    check_documents(readable, preparation)
    raise_all(
        learned_boilerplate.learned_problems_of(study, corpus, preparation)
    )  # the boilerplate the corpus teaches (one line each)
    print(f"ok: {len(corpus)} documents, languages {sorted(set(d.language for d in corpus))}")
    print(design_line(study, corpus))


def design_line(study, corpus) -> str:
    """One line saying how the compared groups are made of outlets, and the unit of their comparisons."""
    import pandas as pd

    from .stats.clustered import design_table

    by, column = study.framing.compare_by, study.framing.cluster
    metas = [
        {
            by: d.meta.get(by, d.language) if by != "language" else d.language,
            **({column: d.meta.get(column, "")} if column else {}),
        }
        for d in corpus.documents
    ]
    table = design_table(pd.DataFrame(metas), group=by, cluster=column)

    def plural(n, word):
        return f"{n} {word}" + ("" if n == 1 else "s")

    parts = "; ".join(
        f"{r.group}: {plural(int(r.documents), 'document')}"
        + (f" in {plural(int(r.outlets), column)}" if column and r.outlets == r.outlets else "")
        for r in table.itertuples()
    )
    note = table["note"].iloc[0] if len(table) else ""
    return f"design: {by} {parts}; unit between groups: {table['unit'].iloc[0] if len(table) else 'documents'}" + (
        f" ({note})" if note else ""
    )


#: The stages that write outputs (make targets), in build order: name, help, function, takes workers.
#: A new stage: a module ``analysis/<name>_stage.py`` with ``run_<name>(study[, workers])``, a row
#: here, and its outputs declared in :mod:`analysis.study.outputs`.
WRITER_STAGES = (
    (
        "prepare",
        "clean, normalise and segment (cached); write the cleaning log and corpus summary",
        _lazy("prepare", "run_prepare"),
        True,
    ),
    (
        "frequencies",
        "term counts, per-1,000, document frequency, TF-IDF, bigrams, KWIC tables and charts",
        _lazy("frequencies", "run_frequencies"),
        True,
    ),
    (
        "framing",
        "codebook coverage, frame and actor salience, group tests, keyness, similarity, omissions",
        _lazy("framing", "run_framing"),
        True,
    ),
    (
        "topics",
        "LDA per language and joint, K selection, stability, prevalence, cross-lingual alignment",
        _lazy("topics", "run_topics"),
        True,
    ),
    (
        "design",
        (
            "chosen contrasts ([[compare]]), rates over time and event windows ([time]), count "
            "regressions by outlet ([model])"
        ),
        _lazy("design", "run_design"),
        True,
    ),
    (
        "equivalence",
        "codebook pattern sources and audit; with [equivalence] parallel, the instrument checked on translations",
        _lazy("equivalence", "run_equivalence"),
        True,
    ),
    (
        "validation",
        (
            "with [validation]: the coding sample and blind coder sheets; with its codes, "
            "agreement, accuracy and the DSL-corrected vi-en comparison"
        ),
        _lazy("validation", "run_validation"),
        True,
    ),
    (
        "explore",
        "write explorer.html: concepts and frames vi vs en, their patterns and sentences, frames by outlet, topics",
        _lazy("explore", "run_explore"),
        True,
    ),
    (
        "robustness",
        (
            "with [robustness]: the headline vi-en comparisons under every specification of the grid "
            "(specification curves, share of the same sign and significant, what each depends on)"
        ),
        _lazy("robustness", "run_robustness"),
        True,
    ),
    (
        "manifest",
        "write manifest.json: input hashes, settings, versions, segmenter, seeds, output hashes",
        _lazy("manifest", "run_manifest"),
        False,
    ),
    (
        "appendix",
        (
            "write appendix.tex (the primary tables, the methods said once), supplement.tex (every other "
            "table and figure), numbers.tex (quoted numbers as macros), run_manifest table"
        ),
        _lazy("appendix", "run_appendix"),
        False,
    ),
)


def _writer(func: Callable, workers: bool):
    def run(study, args):
        # Every BLAS/OpenMP pool of the stage (and of the processes it starts) at [run] blas_threads
        # threads: the same bytes on any machine, no threads multiplied by workers (analysis.threads).
        with threads.pinned(study.run.blas_threads):
            return func(study, args.workers) if workers else func(study)

    return run


for _name, _help, _func, _workers in WRITER_STAGES:
    stage(_name, _help)(_writer(_func, _workers))


@stage("init", "write a study file for a new corpus (--table FILE or --folder FOLDER; --study names the new file)")
def _init(study, args):  # dispatched by main before any study is read
    raise AssertionError("init is run by main")


@stage("kwic", "print a key-word-in-context concordance for --term")
def _kwic(study, args):
    if not args.term:
        raise InputError("--term", "kwic needs a term", "give --term hợp_tác")
    from .text import textstat

    ps = prepared_corpus(study, workers=args.workers, progress=False)
    table = textstat.kwic(ps.prepared, args.term, ps.rules, window=study.frequencies.kwic_window)
    if table.empty:
        print(f"kwic: {textstat.kwic_absent(ps.prepared, args.term)}", file=sys.stderr)
    sys.stdout.write(to_markdown(table))


def validate_study(path: str) -> None:
    """Raise every problem of the study file at once: its values and the metadata columns it names."""
    study, problems = files.study_problems(path)
    if study is not None:
        try:
            problems += column_problems(study, corpus_columns(study))
        except InputError as exc:
            problems.append(exc)
    raise_all(problems)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m analysis",
        description="Compare Vietnamese- and English-language news coverage: term frequencies, "
        "framing and topics, written as figures and tables into the study's output folder.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="stages:\n"
        + "\n".join(f"  {name:<12} {text}" for name, (text, _) in STAGES.items())
        + "\n`python -m analysis init --help`: the options of init",
    )
    parser.add_argument("stage", choices=sorted(STAGES), metavar="stage", help="one of: " + ", ".join(STAGES))
    parser.add_argument("--study", default="study.toml", help="study file (default: study.toml)")
    parser.add_argument(
        "--workers",
        type=int,
        default=None,
        help="worker processes for preparation (0 = all cores; default from the study)",
    )
    parser.add_argument(
        "--scheduler",
        default=None,
        help="Dask scheduler address (tcp://host:8786) for preparation, topic fits, the robustness grid and "
        "framing annotation and word keyness; default from the study",
    )
    parser.add_argument("--term", default="", help="term for the kwic stage")
    parser.add_argument("--table", default="", help="init: the corpus table (.csv .tsv .jsonl .parquet)")
    parser.add_argument("--folder", default="", help="init: the corpus folder (metadata.csv, news-please JSON or HTML)")
    parser.add_argument(
        "--parallel",
        default="",
        help="init: a translated sample folder (line-aligned en.txt, vi.txt) for [equivalence]",
    )
    parser.add_argument("--quiet", action="store_true", help="warnings and errors only (no progress, no stage line)")
    parser.add_argument("--verbose", action="store_true", help="also every file written and each step's details")
    return parser


def init_parser() -> argparse.ArgumentParser:
    """``python -m analysis init``'s own options (``init --help`` shows these, not every stage's)."""
    parser = argparse.ArgumentParser(
        prog="python -m analysis init",
        description="Write a study file for a new corpus from what the corpus holds: its columns mapped,\n"
        "languages, dates and outlets detected, design sections and topic settings scaled to its size.\n"
        "Give one of --table or --folder. Never overwrites a file.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="examples:\n"
        "  python -m analysis init --table articles.csv --study mystudy.toml\n"
        "  python -m analysis init --folder my_articles/ --study mystudy.toml\n"
        "then: python -m analysis validate --study mystudy.toml, and make STUDY=mystudy.toml",
    )
    parser.add_argument("--table", default="", help="the corpus table (.csv .tsv .jsonl .parquet)")
    parser.add_argument("--folder", default="", help="the corpus folder (metadata.csv, news-please JSON or HTML)")
    parser.add_argument("--study", default="study.toml", help="the study file to write (default: study.toml)")
    parser.add_argument(
        "--parallel", default="", help="a translated sample folder (line-aligned en.txt, vi.txt) for [equivalence]"
    )
    parser.add_argument("--quiet", action="store_true", help="warnings and errors only")
    parser.add_argument("--verbose", action="store_true", help="also each step's details")
    parser.set_defaults(stage="init")
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = init_parser() if argv[:1] == ["init"] else build_parser()
    args = parser.parse_args(argv[1:] if argv[:1] == ["init"] else argv)
    from . import terminal

    verbosity = terminal.QUIET if args.quiet else terminal.VERBOSE if args.verbose else terminal.DEFAULT
    terminal.configure(verbosity)
    # What is loaded so far (pandas, numpy, pyarrow and this package: about 70,000 objects the
    # cyclic garbage collector tracks) lives as long as the run, so its full collections need not
    # walk it again and again: frozen, they took 0.1 s instead of 0.25 s of a cold preparation of
    # 1,000 articles. Unfrozen when the command ends, so an in-process caller (tests, notebooks)
    # gets everything collectable again.
    gc.freeze()
    try:
        if args.stage == "init":
            from .scaffold import run_init

            return run_init(args)
        if args.stage == "validate":
            with _each_warning_once():
                validate_study(args.study)
                STAGES["validate"][1](files.read_study(args.study), args)
            return 0
        study = files.read_study(args.study)
        if args.scheduler is not None:
            study = dataclasses.replace(study, run=dataclasses.replace(study.run, scheduler=args.scheduler))
        if args.stage in {name for name, *_ in WRITER_STAGES}:
            with terminal.stage_summary(args.stage, verbosity=verbosity):
                STAGES[args.stage][1](study, args)
        else:
            STAGES[args.stage][1](study, args)
    except StudyErrors as exc:
        for problem in exc.problems:
            print(f"error: {problem}", file=sys.stderr)
        return 2
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        # Every output and cache entry is written atomically: what finished is whole and kept.
        print(
            (
                f"interrupted: {args.stage} stopped; finished outputs and prepared documents are "
                "kept, nothing is half-written (run again to resume)"
            ),
            file=sys.stderr,
        )
        return 130
    finally:
        terminal.restore()  # an in-process caller (tests, notebooks) gets its progress display back
        gc.unfreeze()
    return 0


if __name__ == "__main__":
    sys.exit(main())
