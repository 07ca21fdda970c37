"""The edge that wires reading, computing, drawing and writing for each stage of a study.

Each ``run_*`` function is one command-line stage and one group of make targets: it reads the
study, computes with the pure modules, and writes its outputs atomically into the output folder.
Notebooks call the same ``load_*``/``prepared_corpus`` helpers to get data frames without files.
"""

from __future__ import annotations

import json
import logging
import os
import platform
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import pandas as pd

from . import io, plot, textstat
from .corpus import Corpus
from .dtm import DocTermMatrix, build_dtm
from .outputs import kwic_stems
from .prepare import Preparation, prepare_corpus
from .study import Study
from .tokens import PreparedDocument, TermRules, segmenter_id, stopword_set
from .units import Unit, make_units

log = logging.getLogger("analysis")

PACKAGES = (
    "underthesea", "underthesea_core", "pyvi", "simplemma", "stopwordsiso", "gensim", "numpy", "scipy",
    "pandas", "matplotlib", "pyyaml", "tqdm",
)


def load_preparation(study: Study, extra_phrases_vi: tuple[str, ...] = (), extra_phrases_en: tuple[str, ...] = ()) -> Preparation:
    """Preparation settings from the study: rules file, name lists, segmenter."""
    rules_text, rules_label = io.resource_text(study, study.text.boilerplate, "boilerplate.toml")
    phrases_vi = io.read_word_list(io.resource_text(study, "", "phrases_vi.txt")[0])
    phrases_en = io.read_word_list(io.resource_text(study, "", "phrases_en.txt")[0])
    if study.text.phrases:
        extra = io.read_word_list(io.resource_text(study, study.text.phrases, "")[0])
        phrases_vi += [p for p in extra if _looks_vietnamese(p)]
        phrases_en += [p for p in extra if not _looks_vietnamese(p)]
    from .codebook import codebook_phrases, parse_codebook
    from .normalize import canonical_vi

    # The codebook's multi-word phrases become single tokens for every stage (they enter the
    # cache key through the phrase lists); parsing also validates the codebook early.
    codebook_text, codebook_label = io.resource_text(study, study.framing.codebook, "codebook.yaml")
    codebook_vi, codebook_en = codebook_phrases(parse_codebook(codebook_text, codebook_label, lemmatize_en=study.text.lemmatize_en))
    phrases_vi = sorted({canonical_vi(p) for p in [*phrases_vi, *codebook_vi, *extra_phrases_vi]})
    phrases_en = sorted({*phrases_en, *codebook_en, *extra_phrases_en})
    return Preparation(rules_text, rules_label, tuple(phrases_vi), tuple(phrases_en), study.text.segmenter, study.text.resegment)


def _looks_vietnamese(text: str) -> bool:
    from .corpus import vietnamese_share

    return vietnamese_share(text) > 0 or "_" in text


def load_stopwords(study: Study, language: str) -> frozenset[str]:
    """stopwordsiso's list (optional) plus the project file; ``!word`` lines un-stop a word."""
    words: set[str] = set()
    if study.text.use_stopwordsiso:
        import stopwordsiso

        words |= stopword_set(stopwordsiso.stopwords(language), language)
    setting = study.text.stopwords_vi if language == "vi" else study.text.stopwords_en
    entries = io.read_word_list(io.resource_text(study, setting, f"stopwords_{language}.txt")[0])
    words |= stopword_set([e for e in entries if not e.startswith("!")], language)
    words -= stopword_set([e[1:] for e in entries if e.startswith("!")], language)
    return frozenset(words)


def load_term_rules(study: Study) -> TermRules:
    return TermRules({lang: load_stopwords(study, lang) for lang in ("vi", "en")}, study.text.lemmatize_en)


@dataclass
class PreparedStudy:
    """What every later stage starts from: the corpus, its prepared documents and term rules."""

    study: Study
    corpus: Corpus
    prepared: list[PreparedDocument]
    rules: TermRules
    preparation: Preparation

    @property
    def docvars(self) -> pd.DataFrame:
        return self.corpus.docvars

    def units(self, kind: str | None = None, window: int | None = None) -> list[Unit]:
        kind = kind or self.study.units.kind
        window = window or self.study.units.window
        return [u for doc in self.prepared for u in make_units(doc, self.rules, kind, window)]

    def dtm(self, kind: str | None = "document", window: int | None = None) -> DocTermMatrix:
        """Document-term matrix over units (documents by default) with every metadata column."""
        kind = kind or self.study.units.kind
        window = window or self.study.units.window
        ids: list[tuple[str, str, int]] = []

        def rows():  # streamed: one prepared document at a time, terms only
            for doc in self.prepared:
                for unit in make_units(doc, self.rules, kind, window, with_text=False):
                    ids.append((unit.unit_id, unit.doc_id, unit.index))
                    yield unit.unit_id, unit.terms

        matrix = build_dtm(rows(), None)
        docvars = self.docvars.loc[[doc_id for _, doc_id, _ in ids]].copy()
        docvars.index = [unit_id for unit_id, _, _ in ids]
        docvars["unit_index"] = [index for _, _, index in ids]
        matrix.docvars = docvars
        matrix.history.append(f"units={kind}")
        return matrix


def prepared_corpus(study: Study, workers: int | None = None, progress: bool = True, preparation: Preparation | None = None) -> PreparedStudy:
    """Read, validate and prepare the study's corpus (prepared documents come from the cache)."""
    corpus = io.read_corpus(study)
    preparation = preparation or load_preparation(study)
    cache = io.PreparedCache(study.cache_dir)
    workers = study.run.workers if workers is None else workers
    prepared = prepare_corpus(
        corpus.documents, preparation, cache, workers=workers, progress=progress, scheduler=study.run.scheduler
    )
    return PreparedStudy(study, corpus, prepared, load_term_rules(study), preparation)


# --------------------------------------------------------------------------------- stages


def cleaning_log(prepared: list[PreparedDocument]) -> pd.DataFrame:
    """One row per removal: ``doc_id, rule, kind, line, chars, text``."""
    rows = [
        (doc.doc_id, r["rule"], r["kind"], r["line"], len(r["text"]), r["text"].replace("\n", " / "))
        for doc in prepared
        for r in doc.removals
    ]
    return pd.DataFrame(rows, columns=["doc_id", "rule", "kind", "line", "chars", "text"])


def run_prepare(study: Study, workers: int | None = None) -> list[Path]:
    """Stage ``prepare``: cleaning log, preparation table and corpus summary."""
    ps = prepared_corpus(study, workers)
    out = study.output_dir
    written = [io.write_text(out / "cleaning_log.csv", io_csv(cleaning_log(ps.prepared)))]
    prep_table = pd.DataFrame(
        [
            (d.doc_id, d.language, d.presegmented, "re-segmented" if d.presegmented and study.text.resegment else
             ("kept" if d.presegmented else "segmented" if d.language == "vi" else "tokenised"),
             len(d.paragraphs), sum(1 for _ in d.sentences()), sum(1 for _ in d.tokens()))
            for d in ps.prepared
        ],
        columns=["doc_id", "language", "presegmented", "segmentation", "paragraphs", "sentences", "tokens"],
    )
    written += [io.write_text(out / "preparation_by_document.csv", io_csv(prep_table))]
    dtm = ps.dtm("document")
    summary = textstat.corpus_summary(ps.prepared, dtm, ps.docvars, ("language", "outlet"))
    written += io.write_table(summary, out / "corpus_summary", caption="Corpus size by language and outlet")
    fig, (ax,) = plot.new_figure(1, 4.5, 3.2)
    plot.plot_corpus_summary(ax, summary)
    ax.set_title("Corpus size by language")
    written += io.save_figure(fig, out / "corpus_summary", study.run.figure_formats)  # data: corpus_summary.csv
    plot.close(fig)
    return written


def io_csv(table: pd.DataFrame) -> str:
    from .tables import to_csv

    return to_csv(table)


def run_frequencies(study: Study, workers: int | None = None) -> list[Path]:
    """Stage ``frequencies``: counts, per-1,000, document frequency, TF-IDF, bigrams, KWIC."""
    ps = prepared_corpus(study, workers)
    out = study.output_dir
    settings = study.frequencies
    dtm = ps.dtm("document")
    written: list[Path] = []
    for by in settings.group_by:
        if by not in dtm.docvars.columns:
            from .errors import InputError

            raise InputError(study.source, f"[frequencies] group_by names '{by}', not a metadata column", "use a column of the metadata file")
        table = textstat.frequency_table(dtm, by)
        written.append(io.write_text(out / f"term_frequencies_by_{by}.csv", io_csv(table)))
        top = textstat.top_terms(table, settings.top_n)
        written += io.write_table(
            top[["group", "rank", "term", "count", "per_1000", "doc_freq"]],
            out / f"top_terms_by_{by}",
            caption=f"Top {settings.top_n} terms by {by} (per 1,000 counted tokens)",
        )
        groups = list(dict.fromkeys(top["group"]))
        fig, axes = plot.new_figure(len(groups), 3.6, 0.22 * settings.top_n + 1.0, ncols=min(len(groups), 3))
        for ax, group in zip(axes, groups):
            plot.plot_top_terms(ax, top[top["group"] == group], title=f"{by} = {group}")
        fig.suptitle(f"Most frequent terms by {by}")
        written += io.save_figure(fig, out / f"top_terms_by_{by}", study.run.figure_formats)
        plot.close(fig)
    bigrams = textstat.bigram_table(ps.prepared, ps.rules, ps.docvars, "language", settings.min_count_bigram)
    written += io.write_table(
        textstat.top_terms(bigrams, settings.top_n)[["group", "rank", "bigram", "count", "per_1000"]],
        out / "top_bigrams_by_language",
        caption=f"Top bigrams of adjacent content terms by language (count at least {settings.min_count_bigram})",
    )
    tfidf = textstat.tfidf_top_terms(dtm, 10)
    written += io.write_table(tfidf, out / "tfidf_top_terms_by_document", caption="Top TF-IDF terms per document (count x log10(N/df))")
    for term, stem in kwic_stems(settings.kwic_terms).items():
        table = textstat.kwic(ps.prepared, term, ps.rules, settings.kwic_window)
        if table.empty:
            log.warning("frequencies: [frequencies] kwic_terms: %s", textstat.kwic_absent(ps.prepared, term))
        written += io.write_table(table, out / stem, formats=("csv", "md"))
    return written


def package_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def stage_output_names(study: Study) -> list[str]:
    """The declared output file names of every stage (before the manifest), sorted."""
    import tomllib

    from .outputs import STAGE_ORDER, declared_outputs

    declared = declared_outputs(tomllib.loads(study.source.read_text(encoding="utf-8-sig")))
    return sorted({name for stage in STAGE_ORDER for name in declared[stage]})


def run_manifest(study: Study) -> list[Path]:
    """Stage ``manifest``: input hashes, settings, versions, segmenter, seeds, output hashes.

    No timestamps: the manifest of an unchanged run is byte-identical.
    """
    corpus = io.read_corpus(study)
    preparation = load_preparation(study)
    out = study.output_dir
    # Exactly the declared stage outputs: files of other runs (or the appendix) never leak in.
    outputs = {name: io.sha256_file(out / name) for name in stage_output_names(study) if (out / name).is_file()}
    manifest = {
        "study": {"file": study.source.name, "sha256": io.sha256_file(study.source)},
        "inputs": corpus.file_hashes,
        "settings": study.as_dict(),
        "preparation": preparation.describe(),
        "segmenter": segmenter_id(study.text.segmenter),
        "seeds": {"run.seed": study.run.seed, **{f"{k}.seed": v.get("seed") for k, v in study.as_dict().items() if isinstance(v, dict) and "seed" in v and k != "run"}},
        "packages": package_versions(),
        "source_date_epoch": os.environ.get("SOURCE_DATE_EPOCH", ""),
        "outputs": outputs,
    }
    return [io.write_json(out / "manifest.json", manifest)]


def run_appendix(study: Study) -> list[Path]:
    """Stage ``appendix``: ``appendix.tex`` (every table and figure of the run, with captions),
    ``numbers.tex`` (every number a paper quotes, as macros) and ``run_manifest.{csv,tex,md}``.

    Reads only files the earlier stages wrote; run ``manifest`` first (``make appendix`` does).
    """
    import json
    import tomllib

    from . import appendix
    from .errors import InputError
    from .outputs import STAGE_ORDER, declared_outputs

    out = study.output_dir
    manifest_path = out / "manifest.json"
    if not manifest_path.is_file():
        raise InputError(manifest_path, "no run manifest yet", "run `make` (or every stage, then `manifest`) first")
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    manifest_caption = "Run manifest: study file and inputs (SHA-256, first 16 hex digits), segmenter, seeds, settings and package versions"
    manifest_table = pd.DataFrame(appendix.manifest_rows(manifest), columns=["section", "key", "value"])
    written = io.write_table(manifest_table, out / "run_manifest", caption=manifest_caption)
    declared = declared_outputs(tomllib.loads(study.source.read_text(encoding="utf-8-sig")))
    titles = {"prepare": "Corpus and preparation", "frequencies": "Term frequencies", "framing": "Framing, actors and keyness", "topics": "Topic models"}
    sections = []
    for stage in STAGE_ORDER:
        items: list[tuple[str, str, str]] = []
        for stem in dict.fromkeys(name.rsplit(".", 1)[0] for name in declared[stage]):
            if (out / f"{stem}.tex").is_file() and (out / f"{stem}.csv").is_file():
                # Written into the appendix from the CSV (fitted, capped): no path for LaTeX to resolve.
                table = appendix.typed_table(pd.read_csv(out / f"{stem}.csv", dtype=str, keep_default_na=False))
                caption = appendix.tex_caption((out / f"{stem}.tex").read_text(encoding="utf-8"))
                items.append(("table", stem, appendix.table_block(stem, table, caption)))
            if (out / f"{stem}.pdf").is_file():
                items.append(("figure", stem, appendix.figure_caption(stem)))
        sections.append((titles.get(stage, stage), items))
    sections.append(("Run manifest", [("table", "run_manifest", appendix.table_block("run_manifest", manifest_table, manifest_caption, max_rows=len(manifest_table)))]))
    written.append(io.write_text(out / "appendix.tex", appendix.appendix_tex(sections)))
    wanted = ("corpus_summary", "codebook_coverage", "frame_distribution_by_language", "keyness_concepts_by_language", "similarity_crosslingual", "topic_k_selection")
    tables = {name: pd.read_csv(out / f"{name}.csv", dtype={"doc_a": str, "doc_b": str, "outlet": str}) for name in wanted if (out / f"{name}.csv").is_file()}
    written.append(io.write_text(out / "numbers.tex", appendix.numbers_tex(appendix.collect_numbers(tables))))
    return written
