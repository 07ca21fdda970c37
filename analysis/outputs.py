"""What each stage writes, and what it reads: the single source of truth for make and for tests.

Standard library only (it runs under the system ``python3`` before the virtual environment
exists): ``python3 -m analysis.outputs --study study.toml`` prints a make fragment with one
grouped rule per stage, whose targets are the stage's output files and whose prerequisites are
the corpus files listed in the metadata, the study file, the stage's code and resources.
Each stage's ``run_*`` function is tested to write exactly the files declared here.
"""

from __future__ import annotations

import argparse
import csv
import re
import sys
import tomllib
from pathlib import Path

TABLE = ("csv", "tex", "md")

#: Modules each stage's results depend on (besides the shared core below).
CORE_CODE = (
    "analysis/study.py", "analysis/io.py", "analysis/corpus.py", "analysis/normalize.py", "analysis/clean.py",
    "analysis/tokens.py", "analysis/prepare.py", "analysis/units.py", "analysis/dtm.py", "analysis/prepared.py",
    "analysis/framing.py", "analysis/results.py", "analysis/tables.py", "analysis/plot.py", "analysis/cli.py",
    "analysis/errors.py", "analysis/outputs.py",
)
STAGE_CODE: dict[str, tuple[str, ...]] = {
    "prepare": ("analysis/textstat.py", "analysis/prepare_stage.py"),
    "frequencies": ("analysis/textstat.py", "analysis/frequencies_stage.py"),
    "framing": ("analysis/keyness.py", "analysis/groups.py", "analysis/similarity.py", "analysis/plot_framing.py", "analysis/framing_stage.py"),
    "topics": ("analysis/topics.py", "analysis/groups.py", "analysis/keyness.py", "analysis/plot_topics.py", "analysis/topics_stage.py",
               "analysis/ldavis.py"),
}
#: Stages in build order; ``manifest`` comes last and depends on every other output.
STAGE_ORDER = ["prepare", "frequencies", "framing", "topics"]


#: Written by the ``appendix`` stage from the other stages' outputs and the manifest.
APPENDIX_OUTPUTS = ("appendix.tex", "numbers.tex", "run_manifest.csv", "run_manifest.tex", "run_manifest.md")


def slug(term: str) -> str:
    """File-name-safe form of a term: ``East Sea`` -> ``east-sea``, ``hợp_tác`` -> ``hợp_tác``."""
    return re.sub(r"[^\w]+", "-", term.lower()).strip("-") or "term"


def kwic_stems(terms) -> dict[str, str]:
    """File stem of each KWIC term: ``kwic_<slug>``, and when two different terms share a slug
    (``East Sea``, ``east-sea``, ``EAST SEA``) each of them gets the first 8 hex digits of the
    SHA-256 of the term as well (``kwic_east-sea-1a2b3c4d``), so no table overwrites another.
    The same term listed twice is one table. Stable: a term's stem depends only on the terms
    that share its slug, not on their order."""
    import hashlib

    unique = list(dict.fromkeys(terms))
    by_slug: dict[str, list[str]] = {}
    for term in unique:
        by_slug.setdefault(slug(term), []).append(term)
    stems = {}
    for term in unique:
        base = slug(term)
        shared = len(by_slug[base]) > 1
        stems[term] = f"kwic_{base}-{hashlib.sha256(term.encode('utf-8')).hexdigest()[:8]}" if shared else f"kwic_{base}"
    return stems


def _figure(stem: str, formats) -> list[str]:
    return [f"{stem}.{fmt}" for fmt in formats]


def _table(stem: str) -> list[str]:
    return [f"{stem}.{fmt}" for fmt in TABLE]


def declared_outputs(settings: dict) -> dict[str, list[str]]:
    """File names (relative to the output folder) each stage writes, from the raw study TOML."""
    run = settings.get("run", {})
    formats = run.get("figure_formats", ["pdf", "png"])
    freq = settings.get("frequencies", {})
    group_by = freq.get("group_by", ["language", "outlet", "event"])
    kwic_terms = freq.get("kwic_terms", [])
    outputs = {
        "prepare": [
            "cleaning_log.csv",
            "preparation_by_document.csv",
            *_table("corpus_summary"),
            *_figure("corpus_summary", formats),
        ],
        "frequencies": [
            *[f"term_frequencies_by_{by}.csv" for by in group_by],
            *[f for by in group_by for f in (*_table(f"top_terms_by_{by}"), *_figure(f"top_terms_by_{by}", formats))],
            *_table("top_bigrams_by_language"),
            *_table("tfidf_top_terms_by_document"),
            *[f for stem in kwic_stems(kwic_terms).values() for f in (f"{stem}.csv", f"{stem}.md")],
        ],
    }
    outputs["framing"] = framing_outputs(settings)
    outputs["topics"] = topics_outputs(settings)
    return outputs


def framing_outputs(settings: dict) -> list[str]:
    """Files the ``framing`` stage writes (codebook coverage, frames, actors, keyness ...).

    A figure and the table of the same stem share one CSV (the table is the figure's data).
    """
    formats = settings.get("run", {}).get("figure_formats", ["pdf", "png"])
    languages = settings.get("corpus", {}).get("languages", ["vi", "en"])
    framing = settings.get("framing", {})
    by = framing.get("compare_by", "language")
    within = framing.get("keyness_within", ["event", "outlet"])
    figure_table = lambda stem: [*_table(stem), *_figure(stem, formats)]  # noqa: E731
    return [
        *_table("codebook_coverage"),
        *_table("codebook_unmapped_terms"),
        "frame_salience_by_unit.csv",
        *_table("frame_salience_by_document"),
        *figure_table(f"frame_salience_by_{by}"),
        *_table(f"frame_tests_by_{by}"),
        *_table(f"frame_distribution_by_{by}"),
        *_table("actor_salience_by_document"),
        *figure_table(f"actor_salience_by_{by}"),
        "actor_statements.csv",
        "actor_statements.md",
        *[f for lang in languages for var in within for f in figure_table(f"keyness_words_{lang}_by_{var}")],
        *figure_table(f"keyness_concepts_by_{by}"),
        *_figure(f"fightin_words_concepts_by_{by}", formats),
        f"fightin_words_concepts_by_{by}.csv",
        *figure_table("similarity_crosslingual"),
        *_table("near_duplicates"),
        *_table("event_omissions"),
    ]


def topics_outputs(settings: dict) -> list[str]:
    """Files the ``topics`` stage writes (K selection, topic terms, prevalence, alignment ...).

    One model per language of ``[corpus] languages``; with both languages also the joint model on
    concept-mapped tokens and the alignment of the two language models through the concept map.
    """
    formats = settings.get("run", {}).get("figure_formats", ["pdf", "png"])
    languages = [lang for lang in dict.fromkeys(settings.get("corpus", {}).get("languages", ["vi", "en"])) if lang in ("vi", "en")]
    cross = "vi" in languages and "en" in languages
    models = [*languages, *(["joint"] if cross else [])]
    files = [
        *_table("topic_k_selection"),
        "topic_k_fits.csv",
        *_figure("topic_coherence_stability_by_k", formats),
        "topic_coherence_stability_by_k.csv",
        *_table("topic_terms"),
        *_table("topic_representative_units"),
        *_table("topic_prevalence"),
    ]
    for model in models:
        files += [*_figure(f"topic_top_terms_{model}", formats), f"topic_top_terms_{model}.csv"]
        files += [f"topic_models/{model}/{name}" for name in ("topic_word.npy", "doc_topic.npy", "vocab.txt", "units.txt", "settings.json")]
        if settings.get("topics", {}).get("ldavis", False):
            files.append(f"topic_ldavis_{model}.html")
    if cross:
        files += [*_figure("topic_prevalence_by_language", formats), "topic_prevalence_by_language.csv"]
        files += [*_table("topic_alignment_vi_en"), *_figure("topic_alignment_heatmap_vi_en", formats), "topic_alignment_heatmap_vi_en.csv"]
    return files


def corpus_inputs(study_path: Path, settings: dict) -> list[str]:
    """The metadata file and every corpus file it lists (paths as make sees them)."""
    root = study_path.parent
    corpus = settings.get("corpus", {})
    folder = root / corpus.get("folder", "seeds")
    metadata = root / corpus.get("metadata", "seeds/metadata.csv")
    inputs = [str(metadata)]
    try:
        with open(metadata, encoding="utf-8-sig", newline="") as handle:
            for row in csv.DictReader(handle):
                if row.get("file"):
                    inputs.append(str(folder / row["file"]))
    except (OSError, UnicodeDecodeError, csv.Error):
        pass  # the stage itself reports a broken metadata file with the fix
    return inputs


def make_fragment(study_path: Path) -> str:
    """A make fragment: per stage ``<STAGE>_OUTPUTS`` and a grouped rule that builds them."""
    settings = tomllib.loads(study_path.read_text(encoding="utf-8-sig"))
    out = settings.get("run", {}).get("output", "figures")
    out = str(study_path.parent / out) if str(study_path.parent) != "." else out
    outputs = declared_outputs(settings)
    inputs = corpus_inputs(study_path, settings)
    esc = lambda p: p.replace(" ", "\\ ")  # noqa: E731
    # The codebook's phrases are merged during preparation, so it (and its parser) feed every stage.
    codebook = settings.get("framing", {}).get("codebook", "")
    codebook_deps = ["analysis/codebook.py"] + ([str(study_path.parent / codebook) if str(study_path.parent) != "." else codebook] if codebook else [])
    lines = [f"# generated by python3 -m analysis.outputs --study {study_path}; do not edit", f"OUT := {out}"]
    lines.append("INPUTS := " + " ".join(esc(p) for p in inputs))
    all_outputs = []
    for stage in STAGE_ORDER:
        files = [f"{out}/{f}" for f in outputs[stage]]
        if not files:
            continue
        all_outputs += files
        var = stage.upper() + "_OUTPUTS"
        code = " ".join((*CORE_CODE, *STAGE_CODE.get(stage, ()), *map(esc, codebook_deps)))
        lines.append(f"{var} := " + " ".join(esc(f) for f in files))
        lines.append(f"{stage}: $({var})")
        lines.append(f"$({var}) &: $(INPUTS) {study_path} {code} $(RESOURCES) $(VENV_STAMP) $(STAGE_DEPS_{stage})")
        lines.append(f"\t$(PY) -m analysis {stage} --study {study_path}")
    lines.append("ALL_OUTPUTS := " + " ".join(esc(f) for f in all_outputs))
    lines.append(f"{out}/manifest.json: $(ALL_OUTPUTS)")
    lines.append(f"\t$(PY) -m analysis manifest --study {study_path}")
    appendix = " ".join(f"{out}/{name}" for name in APPENDIX_OUTPUTS)
    lines.append(f"APPENDIX_OUTPUTS := {appendix}")
    lines.append(f"$(APPENDIX_OUTPUTS) &: {out}/manifest.json analysis/appendix.py analysis/appendix_stage.py analysis/tables.py $(VENV_STAMP)")
    lines.append(f"\t$(PY) -m analysis appendix --study {study_path}")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--study", default="study.toml")
    args = parser.parse_args(argv)
    try:
        sys.stdout.write(make_fragment(Path(args.study)))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        print(f"error: {args.study}: cannot read the study file ({exc})", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
