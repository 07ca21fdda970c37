"""What each stage writes, and what it reads: the single source of truth for make and for tests.

Standard library only (it runs under the system ``python3`` before the virtual environment
exists): ``python3 -m analysis.study.makefile --study study.toml`` prints a make fragment with one
grouped rule per stage, whose targets are the stage's output files and whose prerequisites are
the corpus files listed in the metadata, the study file, the stage's code and resources.
Each stage's ``run_*`` function is tested to write exactly the files declared here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Mapping, Sequence

from .settings import MIN_GROUP_DOCS, SMALL_REASON, Study, study_from_raw

TABLE = ("csv", "tex", "md")
#: A word-level table (a row per term and group, or per document and term: millions of rows at
#: 10,000 articles): every row as gzip-compressed CSV and as Parquet, the first rows as .tex/.md.
WORD_TABLE = ("csv.gz", "parquet", "tex", "md")
#: ... and one with no .tex/.md (a ``csv`` output).
WORD_DATA = ("csv.gz", "parquet")
#: The formats that hold every row of a table (the others show its first rows).
DATA_FORMATS = ("csv", "csv.gz", "parquet")


def data_name(stem: str, formats) -> str:
    """The file a table's .tex/.md, captions and the appendix name as holding every row:
    ``stem.csv``, or ``stem.csv.gz`` when the table is written compressed and not as plain CSV
    (its ``stem.parquet``, the same rows, lies beside it)."""
    return f"{stem}.csv.gz" if "csv.gz" in formats and "csv" not in formats else f"{stem}.csv"


#: Stages in build order; ``manifest`` comes last and depends on every other output.
STAGE_ORDER = [
    "prepare",
    "frequencies",
    "framing",
    "topics",
    "equivalence",
    "design",
    "validation",
    "explore",
    "robustness",
]


#: Written by the ``appendix`` stage from the other stages' outputs and the manifest.
APPENDIX_OUTPUTS = ("appendix.tex", "numbers.tex", "run_manifest.csv", "run_manifest.tex", "run_manifest.md")
#: The supplement beside the appendix: every other table and figure (its own LaTeX document).
APPENDIX_OUTPUTS += ("supplement.tex",)
#: The ``explore`` stage's page: one self-contained HTML file (every script inline).
EXPLORER_PAGE = "explorer.html"
MODEL_FILES = ("topic_word.npy", "doc_topic.npy", "vocab.txt", "units.txt", "settings.json", "unit_tokens.txt")
LANGUAGE_NAMES = {"vi": "Vietnamese", "en": "English", "joint": "joint (concept-mapped, both languages)"}


#: Longest slug in UTF-8 bytes: file systems allow 255 bytes a name, and a file name adds
#: ``kwic_``, a suffix and the atomic writer's ``.<name>.<random>.tmp``.
MAX_SLUG_BYTES = 96


def slug(term: str) -> str:
    """File-name-safe form of a term: ``East Sea`` -> ``east-sea``, ``hợp_tác`` -> ``hợp_tác``.

    A slug longer than :data:`MAX_SLUG_BYTES` in UTF-8 is cut on a character boundary and ends
    with the first 8 hex digits of the term's SHA-256, so a long term still has a name of its own.

    >>> len(slug("hợp tác " * 40).encode("utf-8")) <= MAX_SLUG_BYTES
    True
    """
    name = re.sub(r"[^\w]+", "-", term.lower()).strip("-") or "term"
    if len(name.encode("utf-8")) <= MAX_SLUG_BYTES:
        return name
    import hashlib

    head = name.encode("utf-8")[: MAX_SLUG_BYTES - 9].decode("utf-8", errors="ignore").rstrip("-")
    return f"{head}-{hashlib.sha256(term.encode('utf-8')).hexdigest()[:8]}"


def kwic_slugs(terms) -> dict[str, str]:
    """The ``{term}`` of each KWIC term's file ``kwic_{term}``: its :func:`slug`, and when two
    different terms share a slug (``East Sea``, ``east-sea``, ``EAST SEA``) each of them gets the
    first 8 hex digits of the SHA-256 of the term as well (``east-sea-1a2b3c4d``), so no table
    overwrites another. The same term listed twice is one table. Stable: a term's name depends
    only on the terms that share its slug, not on their order."""
    import hashlib

    unique = list(dict.fromkeys(terms))
    by_slug: dict[str, list[str]] = {}
    for term in unique:
        by_slug.setdefault(slug(term), []).append(term)
    return {
        term: slug(term)
        + (f"-{hashlib.sha256(term.encode('utf-8')).hexdigest()[:8]}" if len(by_slug[slug(term)]) > 1 else "")
        for term in unique
    }


def kwic_stems(terms) -> dict[str, str]:
    """File stem of each KWIC term: ``kwic_`` + :func:`kwic_slugs`."""
    return {term: f"kwic_{name}" for term, name in kwic_slugs(terms).items()}


# ---------------------------------------------------------------------------------- registry


@dataclass(frozen=True)
class Output:
    """One registered output: declared once, read by the stages (captions), make and the appendix.

    ``stem`` may hold placeholders (``{group}``, ``{term}``, ``{by}``, ``{lang}``, ``{within}``,
    ``{model}``), expanded over the study's settings (:func:`placeholder_values`). ``kind``:

    * ``table``: ``stem`` + each of ``formats`` (default csv, tex, md); ``caption`` is its LaTeX caption;
    * ``csv``: ``stem.csv`` only (or each data format in ``formats``: :data:`WORD_DATA`);
    * ``figure``: ``stem`` + each figure format, with ``stem.csv`` (the data behind it) when ``data``;
    * ``figure+table``: the table and the figure of one stem, sharing the CSV;
    * ``files``: the names in ``formats`` inside the folder ``stem`` (a saved model);
    * ``file``: ``stem`` itself (an HTML page).

    ``figure_caption`` is the appendix caption of a figure. Captions are ``str.format``
    templates over the placeholders, the study's sections (``{frequencies.top_n}``) and values
    the stage supplies (``{source}``). ``when``: ``cross`` (both vi and en), ``ldavis``, ``parallel`` (``[equivalence]
    parallel`` named),
    or a design section the study must have (:data:`DESIGN_WHEN`).
    """

    stem: str
    stage: str
    kind: str
    caption: str = ""
    figure_caption: str = ""
    formats: tuple[str, ...] = TABLE
    data: bool = False
    when: str = ""

    def placeholders(self) -> list[str]:
        return re.findall(r"{(\w+)}", self.stem)

    def files(self, stem: str, figure_formats: Sequence[str]) -> list[str]:
        """The file names of this output for one expanded ``stem``."""
        figure = [f"{stem}.{fmt}" for fmt in figure_formats]
        table = [f"{stem}.{fmt}" for fmt in self.formats]
        return {
            "table": table,
            "csv": [f"{stem}.{fmt}" for fmt in self.formats if fmt in DATA_FORMATS],
            "figure+table": [*table, *figure],
            "file": [stem],
            "figure": [*figure, *([f"{stem}.csv"] if self.data else [])],
            "files": [f"{stem}/{name}" for name in self.formats],
        }[self.kind]

    def data_formats(self) -> tuple[str, ...]:
        """The formats that hold every row of this output's table (``csv``, or ``csv.gz`` and ``parquet``)."""
        return tuple(fmt for fmt in self.formats if fmt in DATA_FORMATS) or ("csv",)

    def data_name(self, stem: str) -> str:
        """The file named as holding every row (captions, notes, the appendix): :func:`data_name`."""
        return data_name(stem, self.formats)


#: Every output of every stage, in the order the appendix lists them. A new output: one entry here.
REGISTRY: tuple[Output, ...] = (
    # prepare
    Output("cleaning_log", "prepare", "csv"),
    Output("preparation_by_document", "prepare", "csv"),
    Output(
        "corpus_summary",
        "prepare",
        "figure+table",
        "Corpus size by language and outlet",
        (
            "Corpus size by language: word tokens (stopwords included) and counted terms "
            "(stopwords, numbers and punctuation removed)"
        ),
    ),
    # frequencies
    Output("term_frequencies_by_{group}", "frequencies", "csv", formats=WORD_DATA),
    Output(
        "top_terms_by_{group}",
        "frequencies",
        "figure+table",
        "Top {frequencies.top_n} terms by {group} (per 1,000 counted tokens)",
        (
            "Most frequent terms by {group}, per 1,000 counted tokens; Vietnamese words "
            "segmented with underthesea, English lemmatised with simplemma"
        ),
    ),
    Output(
        "top_bigrams_by_language",
        "frequencies",
        "table",
        "Top bigrams of adjacent content terms by language (count at least {frequencies.min_count_bigram})",
    ),
    Output(
        "tfidf_top_terms_by_document",
        "frequencies",
        "table",
        "Top TF-IDF terms per document (count x log10(N/df))",
        formats=WORD_TABLE,
    ),
    Output("kwic_{term}", "frequencies", "table", formats=("csv", "md")),
    # framing
    Output(
        "design_summary_by_{by}",
        "framing",
        "table",
        "The study's design by {by}: outlets ([framing] cluster), documents and documents "
        "per outlet in each group, and the "
        "unit comparisons between the groups are made with: outlets when each outlet lies in "
        "one group and every group has at "
        "least two (whole outlets are permuted); none when a group is one outlet or an "
        "outlet spans groups (the contrast "
        "equals an outlet contrast: no p-value between the groups); documents without [framing] cluster",
    ),
    Output(
        "codebook_coverage",
        "framing",
        "table",
        "Codebook coverage: share of counted tokens mapped to a concept ({source})",
    ),
    Output(
        "codebook_unmapped_terms",
        "framing",
        "table",
        "Most frequent counted terms no concept covers (where to extend the codebook)",
    ),
    Output("frame_salience_by_unit", "framing", "csv"),
    Output(
        "frame_salience_by_document",
        "framing",
        "table",
        "Frame salience per document: hits per 1,000 counted tokens, "
        "presence (at least {framing.min_hits} hit), share of the family's hits",
    ),
    Output(
        "frame_salience_by_{by}",
        "framing",
        "figure+table",
        "Frame salience by {by}: mean over documents of hits per 100 sentences when {by} "
        "is language (sentences survive translation, tokens do not), else per 1,000 counted "
        "tokens, with studentized bootstrap 95% CI "
        "(with [framing] cluster also the outlets' design effect and an outlet "
        "cluster-bootstrap interval); groups under "
        "{framing.min_group_docs} documents flagged too small (below it, 95% intervals cover "
        "less than 93% in simulation), and a mean "
        "from fewer than 5 documents with hits flagged sparse in the note (its interval "
        "covered 0.86-0.92 in simulation)",
        "Frame salience by {by}: mean codebook hits over documents (per 100 sentences across "
        "languages, else per 1,000 counted tokens), "
        "with seeded studentized bootstrap 95% confidence intervals (documents resampled); hatched, faded bars "
        "rest on fewer than 5 documents with hits (sparse: their intervals under-cover)",
    ),
    Output(
        "frame_tests_by_{by}",
        "framing",
        "table",
        "Difference in mean frame salience by {by} (hits per 100 sentences across languages, "
        "else per 1,000 counted tokens): with [framing] cluster and outlets nested in the "
        "groups, p permutes whole outlets (Welch t "
        "on outlet means, exact when the arrangements are few; p_unit says the unit; no p "
        "when a group is one outlet: its contrast is "
        "an outlet contrast), with the permutation test of documents beside it (p_documents: "
        "conditional on these outlets); else "
        "p permutes documents; Benjamini-Hochberg q; mdd, beside a test with q of 0.05 or more, "
        "the smallest difference a 5% test detects with 80% power at these sizes (by "
        "simulation); with [framing] cluster, the outlets' "
        "design effect 1 + (m - 1) ICC (Kish), effective numbers of outlets and documents "
        "and a studentized (bootstrap-t) outlet "
        "cluster-bootstrap 95% interval of the difference (whole outlets resampled); groups "
        "under {framing.min_group_docs} documents flagged too small (below it, 95% intervals "
        "cover less "
        "than 93% in simulation)",
    ),
    Output(
        "frame_distribution_by_{by}",
        "framing",
        "table",
        "Frame distributions by {by}: chi-square test of the frame x group table and Jensen-Shannon divergence (bits); "
        "groups under {framing.min_group_docs} documents flagged too small",
    ),
    Output(
        "actor_salience_by_document",
        "framing",
        "table",
        "Actor salience per document: mentions, share, first mention "
        "(headline/lead = first {framing.lead_sentences} sentences), statements",
    ),
    Output(
        "actor_salience_by_{by}",
        "framing",
        "figure+table",
        "Actor salience by {by}: pooled mention share, mean share over documents "
        "(studentized bootstrap 95% CI; with [framing] cluster also the outlets' design "
        "effect and an outlet cluster-bootstrap "
        "interval), first mentions in headline/lead, voice; groups under {framing.min_group_docs} documents flagged "
        "too small (below it, 95% intervals cover less than 93% in simulation)",
        (
            "Actor salience by {by}: share of actor mentions, with mentions in the headline or "
            "lead and statements attributed through speech verbs"
        ),
    ),
    Output(
        "actor_tests_by_{by}",
        "framing",
        "table",
        "Difference in mean actor share by {by}: per actor, the mean over documents of its "
        "share of the document's actor mentions in each group, permutation test of documents "
        "(the document is the unit, not the "
        "mention; with [framing] cluster and outlets nested in the groups, whole outlets: "
        "p_unit says which, p_documents keeps the "
        "document test), Benjamini-Hochberg q across the actors of one kind; mdd, beside a "
        "test with q of 0.05 or more, the smallest "
        "difference in share a 5% test detects with 80% power at these sizes (by "
        "simulation), to read a non-significant row; "
        "with [framing] cluster, the outlets' design effect, effective numbers of outlets "
        "and documents and a studentized outlet "
        "cluster-bootstrap 95% interval of the difference; groups under "
        "{framing.min_group_docs} documents flagged too small "
        "(below it, 95% intervals cover less than 93% in simulation)",
    ),
    Output("actor_statements", "framing", "table", formats=("csv", "md")),
    Output(
        "keyness_words_{lang}_by_{within}",
        "framing",
        "figure+table",
        "Keyness of {lang} words by {within}: signed G2, chi2, "
        "Log Ratio, Fightin' Words z (top {framing.keyness_top_n} each way); p from "
        "{framing.permutations} permutations of documents "
        "(or of [framing] keyness_cluster values: see the design column) between the groups, "
        "not pooled tokens, BH q; terms still "
        "undecided continue to 20 permutations per tested term (at most [framing] keyness_budget, "
        "{framing.keyness_budget}); a term whose "
        "decision at q < 0.05 is still not settled then has decided = False (its q rests on the "
        "estimate of p; min_p: the smallest p); "
        "tested: words in {framing.keyness_min_docs} or more documents of the comparison ([framing] "
        "keyness_min_docs; the others have no p or q); "
        "the p tests the mean over documents of the relative frequency, given as mean_a, "
        "mean_b (group_a the target, group_b the reference) per 1,000 tokens and their "
        "difference with a 95% Welch t interval (G2, Log Ratio and Fightin' Words pool "
        "tokens, so long documents weigh more: size and "
        "sign can differ); groups under {framing.min_group_docs} documents flagged too small",
        "Keyness of {lang} words by {within}: signed log-likelihood G2 (Dunning 1993) of the "
        "most distinctive terms of each group; "
        "filled bars: q < 0.05 (document-level permutation test, BH), hatched: q of 0.05 or "
        "more, dotted outline: not tested (in fewer than {framing.keyness_min_docs} documents); "
        "a panel without a p-value says why",
        formats=WORD_TABLE,
    ),
    Output(
        "keyness_concepts_by_{by}",
        "framing",
        "figure+table",
        "Keyness of concepts by {by} (bilingual concept ids): signed G2, chi2, Log Ratio, Fightin' Words z; p from "
        "{framing.permutations} permutations of documents, or of whole outlets ([framing] "
        "keyness_cluster, else [framing] cluster: "
        "see the design column; none when a side is a single outlet) between the groups, not "
        "pooled tokens, BH q; terms still undecided "
        "continue to 20 permutations per tested term (at most [framing] keyness_budget, "
        "{framing.keyness_budget}); a term whose decision at "
        "q < 0.05 is still not settled then has decided = False (its q rests on the estimate of p); "
        "the p tests the mean over documents "
        "(or outlets) of the relative frequency, given as mean_a, mean_b (group_a the target) per 1,000 "
        "tokens and their difference with a 95% Welch t "
        "interval (the pooled G2 can differ in size and sign); groups under "
        "{framing.min_group_docs} documents flagged too small",
        "Keyness of bilingual concepts by {by}: signed log-likelihood G2 (Dunning 1993) on "
        "concept ids shared by both languages; "
        "filled bars: q < 0.05 (document-level permutation test, BH), hatched: q of 0.05 or "
        "more; a panel without a p-value says why",
    ),
    Output(
        "fightin_words_concepts_by_{by}",
        "framing",
        "figure",
        figure_caption="Fightin' Words (Monroe, Colaresi and Quinn 2008): z-score "
        "of the log-odds ratio with an informative Dirichlet prior against frequency, concepts by {by}",
        data=True,
    ),
    Output(
        "similarity_crosslingual",
        "framing",
        "figure+table",
        "Cross-lingual document similarity: cosine of TF-IDF weighted concept vectors ({pair_a} x {pair_b})",
        (
            "Cross-lingual document similarity: cosine of TF-IDF weighted concept vectors for "
            "every Vietnamese-English document pair"
        ),
    ),
    Output(
        "near_duplicates",
        "framing",
        "table",
        (
            "Near-duplicates within a language: Jaccard of {framing.shingle_size}-word shingles "
            "(flagged at {framing.duplicate_jaccard}); pairs listed when at least {framing.duplicate_jaccard} "
            "of the shorter document's shingles are in the other (containment)"
        ),
    ),
    Output(
        "event_omissions",
        "framing",
        "table",
        "Paired events: frames, actors and concepts missing or much weaker "
        "(hits per 100 sentences, the cross-language rate, at most "
        "1/{framing.omission_ratio:g} of the other language's; "
        "at least {framing.omission_min_count} hits on the stronger side) in one language, "
        "listed when q < 0.05: p from a "
        "permutation test of documents (hits within a document are not independent, so documents are the unit), "
        "Holm-adjusted over the items of the event. An event is tested only when its "
        "documents can give p < 0.05 / items "
        "(about 7 a side for 50 items, 8 for 240); otherwise its rows are descriptive, "
        "status 'too few documents to test', "
        "with the exact test of the two hit counts (p_hits, blind to burstiness) as a screen and no p",
    ),
    # topics
    Output(
        "topic_k_selection",
        "topics",
        "table",
        "Choice of the number of topics K per model: mean coherence over seeds, stability across "
        "seeds (mean matched 1 - Hellinger), the chosen K and why. {c_v_caveat}.",
    ),
    Output("topic_k_fits", "topics", "csv"),
    Output(
        "topic_coherence_stability_by_k",
        "topics",
        "figure",
        data=True,
        figure_caption="Choosing the number of topics K: coherence "
        "(c_npmi, u_mass) and stability across seeds (topics matched by the Hungarian algorithm) for each K",
    ),
    Output(
        "topic_terms",
        "topics",
        "table",
        "Top {topics.top_n} terms per topic by probability and by relevance "
        "(Sievert and Shirley 2014, lambda = {topics.relevance_lambda:g})",
    ),
    Output("topic_representative_units", "topics", "table", "Units with the highest share of each topic"),
    Output(
        "topic_prevalence",
        "topics",
        "table",
        "Mean topic share of units by group, with studentized bootstrap 95% intervals "
        "({topics.bootstrap} resamples of {resampled} within groups); with [topics] cluster, "
        "the outlets' design effect and a "
        "studentized bootstrap interval resampling whole outlets; groups under " + str(MIN_GROUP_DOCS) + " documents "
        "(clusters) flagged too small in the note (" + SMALL_REASON + ")",
    ),
    Output(
        "topic_top_terms_{model}",
        "topics",
        "figure",
        data=True,
        figure_caption="Top terms of each topic of the {model} LDA model (gensim LdaModel, single process, seeded)",
    ),
    Output("topic_models/{model}", "topics", "files", formats=MODEL_FILES),
    Output("topic_ldavis_{model}.html", "topics", "file", when="ldavis"),
    Output(
        "topic_prevalence_by_language",
        "topics",
        "figure",
        data=True,
        when="cross",
        figure_caption="Topic prevalence by language: "
        "mean document-topic proportion with seeded studentized bootstrap 95% confidence "
        "intervals (documents resampled)",
    ),
    Output(
        "topic_prevalence_tests_by_language",
        "topics",
        "table",
        "Difference in mean document topic share (a document's share: the mean over its units) between "
        "languages, per topic of the joint model: with [topics] cluster and outlets nested in the languages, p "
        "permutes whole outlets (Welch t on outlet means, exact when the arrangements are few; p_unit says the "
        "unit; no p when a language is one outlet: its contrast is an outlet contrast), with the permutation "
        "test of documents beside it (p_documents: conditional on these outlets), the outlets' design effect "
        "and a studentized outlet cluster-bootstrap 95% interval of the difference; else p permutes documents; "
        "Benjamini-Hochberg q across the topics of the model; mdd beside a test with q of 0.05 or more. "
        "The differences are the fitted model's: LDA shrinks them on short, overlapping units "
        "(topic_prevalence_attenuation_by_language says by how much)",
        when="cross",
    ),
    Output(
        "topic_prevalence_attenuation_by_language",
        "topics",
        "table",
        "Attenuation check of the joint model's language differences in prevalence: a corpus of the same "
        "units and lengths drawn from the fitted model (its topics and topic shares taken as the truth), "
        "refitted with the same settings, topics matched by Hellinger distance; per topic the generating and "
        "refitted differences, and (row all) the slope of refitted on generating differences (1 = recovered, "
        "0.6 = shrunk by 40%). It assumes the fitted model generated the text, so it shows at most the "
        "shrinkage: in simulation where the truth was known it understated it (see benchmarks/README.md)",
        when="cross",
    ),
    Output(
        "topic_alignment_vi_en",
        "topics",
        "table",
        "Vietnamese and English topics matched one-to-one through the concept map "
        "(similarity = 1 - Jensen-Shannon distance of concept distributions)",
        when="cross",
    ),
    Output(
        "topic_alignment_heatmap_vi_en",
        "topics",
        "figure",
        data=True,
        when="cross",
        figure_caption="Cross-lingual topic alignment (vi en): "
        "similarity of per-language topics through the bilingual concept map",
    ),
    # design (only for the sections the study has: [[compare]], [time] with [[time.event]], [model])
    Output(
        "design_contrasts",
        "design",
        "table",
        "Chosen contrasts: difference in mean rate per 1,000 tokens or per 100 sentences "
        "(each contrast's exposure; documents permuted within "
        "strata; with cluster and no within, whole outlets permuted when they nest in the "
        "groups, p_unit says which, p_documents keeps "
        "the document test, and a group that is one outlet gets no p), q: p adjusted across the "
        "contrast's family, Mantel-Haenszel odds ratio of presence across strata, design "
        "effect, "
        "a studentized (bootstrap-t) outlet cluster-bootstrap 95% interval of the difference "
        "and minimum detectable difference; correction and adjusted_within name the adjustment and its family "
        "(every pair and item of the contrast and measure); docs_with_hits per group, fewer than 5 said sparse in "
        "the note (intervals under-cover there)",
        when="compare",
    ),
    Output(
        "design_distributions",
        "design",
        "table",
        "Item x group distributions compared with documents as units: Jensen-Shannon "
        "divergence (bits) of pooled hits (for topics: of the documents' summed topic "
        "shares), p from permuting whole documents between the "
        "groups (within strata), q: p adjusted across the contrast's pairs and families (correction, adjusted_within)",
        when="compare",
    ),
    Output(
        "time_series",
        "design",
        "table",
        "Rates per document exposure ({time.exposure}) by {time.by} and {time.freq}: the period's pooled rate "
        "(sum of hits / sum of exposure; for topics, the mean of the documents' topic "
        "shares) with a studentized bootstrap 95% "
        "interval resampling the period's documents of the group (bootstrap-t, Davison and "
        "Hinkley 1997 ch. 5: documents assumed independent, outlets not modelled); a period "
        "with no "
        "document is a gap; sparse: fewer than 5 of the period's documents with hits (docs_with_hits), where "
        "intervals under-cover (0.86-0.92 in the coverage simulation behind the threshold)",
        when="time",
    ),
    Output(
        "time_series_{measure}",
        "design",
        "figure",
        data=True,
        when="time",
        figure_caption="Rates of {measure} over time, one panel "
        "per item and one line per group, with studentized document-bootstrap 95% intervals "
        "(bootstrap-t); gaps are periods with no document; "
        "an interval the data cannot bound (too few documents with different values) is a "
        "hatched bar with a dashed edge cut by the panel's edge; a hollow marker is a rate resting on fewer "
        "than 5 documents with hits, whose interval under-covers",
    ),
    Output(
        "time_events",
        "design",
        "table",
        "Event windows: rates before and after each event by {time.by}, difference-in-differences "
        "with a studentized bootstrap 95% interval resampling documents within each group x "
        "side cell (bootstrap-t with a "
        "Welch-Satterthwaite t floor; Davison and Hinkley 1997 ch. 5; assumes independent "
        "documents and parallel trends); docs_with_hits_min, the fewest documents with hits in a group x side "
        "cell, under 5 said sparse in the note (the interval under-covers)",
        when="time_events",
    ),
    Output(
        "time_lag",
        "design",
        "table",
        "Lag between the {time.by} groups' daily volumes (cross-correlation; descriptive only)",
        when="time",
    ),
    Output(
        "model_frames",
        "design",
        "table",
        "Frame counts regressed on {regression.formula} with log({regression.exposure}) as "
        "offset ({regression.family}): "
        "coefficients, rate ratios (exp(coefficient), a ratio of arithmetic rates, hits per "
        "{regression.exposure}) and 95% intervals; "
        "p_adjusted: Holm across the frames, per coefficient (the family is one question asked of every frame); "
        "{regression.cluster}s are fixed-design clusters: CR2 standard errors with t "
        "intervals on Bell-McCaffrey (Satterthwaite) degrees "
        "of freedom, column df (Bell and McCaffrey 2002; Pustejovsky and Tipton 2018). A "
        "coefficient that contrasts a language (or another "
        "level) coming from one {regression.cluster} has no SE, p or interval, only a note: "
        "it equals a contrast of that {regression.cluster}",
        when="model",
    ),
    Output(
        "model_marginal_frames",
        "design",
        "figure",
        data=True,
        when="model",
        figure_caption="Predicted frame rates by language from "
        "the count regression (quasi-Poisson GLM, CR2 outlet-clustered 95% intervals on "
        "Bell-McCaffrey degrees of freedom; a language from one "
        "outlet has no interval), other covariates at their most frequent value",
    ),
    Output(
        "model_frames_mixed",
        "design",
        "table",
        "Linear mixed model of log((frame hits + 0.5) / {regression.exposure}) on {regression.formula} "
        "with a random intercept by {regression.cluster} (REML): outlet variance and ICC. "
        "exp(coefficient), column ratio_geometric_mean, is a "
        "ratio of geometric mean rates shifted by 0.5, not the rate ratio of model_frames "
        "(arithmetic rates): with sparse counts the + 0.5 "
        "pulls it towards 1, and the random intercepts shrink {regression.cluster}s with few "
        "documents towards their language where the "
        "count regression treats {regression.cluster}s as fixed-design clusters, so the two "
        "can differ in size (a different sign deserves a "
        "look). t intervals on between-within degrees of freedom ({regression.cluster}-level "
        "terms: {regression.cluster}s minus "
        "{regression.cluster}-level coefficients; Schluchter and Elashoff 1990)",
        when="model_mixed",
    ),
    Output(
        "design_words",
        "design",
        "table",
        "Keyness of words between the groups of each contrast that names words (one language per "
        "contrast: words of two languages are not comparable, concepts are): signed G2, Log "
        "Ratio, Fightin' Words z (top "
        "{framing.keyness_top_n} each way in .tex/.md, every term in .csv); p from "
        "{framing.permutations} permutations of documents "
        "(of the contrast's cluster values when it names one), BH q; "
        "tested: words in {framing.keyness_min_docs} or more documents of the pair ([framing] "
        "keyness_min_docs, as in the framing stage's word keyness; the others have no p or q)",
        when="compare_words",
    ),
    Output(
        "model_topics",
        "design",
        "table",
        "Topic prevalence (each document's mean topic share over its units) regressed on "
        "{regression.formula} per topic model by the method of composition (Treier and "
        "Jackman 2008; as stm's estimateEffect, Roberts, "
        "Stewart and Tingley 2019): {regression.draws} draws of every unit's topic shares "
        "from Dirichlet(n_dk + alpha), the posterior "
        "given the topic model's final sample of assignments (not the full Gibbs posterior, "
        "so intervals are somewhat too narrow), an OLS "
        "fit and one coefficient draw from its sampling distribution per draw (with [model] cluster: the "
        "outlet-clustered CR2 variance and a t draw on Bell-McCaffrey degrees of freedom, so a language "
        "contrast is measured by outlets; a language from one outlet keeps its estimate but gets no SE or "
        "interval), pooled: the "
        "95% interval (2.5 and 97.5 percentiles) and SE "
        "combine within-draw and between-draw variance. The differences are those of the fitted model, which "
        "LDA shrinks on short, overlapping units (topic_prevalence_attenuation_by_language). "
        "The model is linear in the shares, "
        "as stm's is, so with few documents an interval can "
        "reach below 0 or above 1. A one-language model leaves out terms constant in its documents",
        when="model_topics",
    ),
    Output(
        "model_marginal_topics",
        "design",
        "figure",
        data=True,
        when="model_topics",
        figure_caption="Predicted topic prevalence by the "
        "focal covariate (language where the model has it) from the method of composition, "
        "other covariates at their most frequent "
        "value, with 95% intervals that carry the topic model's uncertainty about each "
        "document's topic shares (a linear model of shares: with few "
        "documents an interval can cross 0)",
    ),
    # equivalence: always on the study corpus; the check on translations with [equivalence] parallel
    Output(
        "codebook_pattern_sources",
        "equivalence",
        "table",
        "Codebook patterns behind each frame's, actor's and concept's hits in the study corpus, "
        "per language: hits and share of the entry's hits",
    ),
    Output(
        "codebook_audit",
        "equivalence",
        "table",
        "Codebook entries that are one-sided (patterns in one language only) or have patterns on a "
        "stopword list (exempted from it, in both languages by the same rule, so they are counted)",
    ),
    Output(
        "equivalence_by_entry",
        "equivalence",
        "table",
        "Equivalence on translations ({n} pairs): vi/en rate ratio {unit} (0.5 added to both "
        "hit totals) with 95% and 90% bootstrap "
        "intervals over pairs; status_per_entry, each entry on its own: shown equivalent = 90% interval inside "
        "the margin {band} (TOST, both one-sided 5% tests; "
        "tost_p from the same bootstrap) and still inside with one more hit on either side "
        "(tost_p_one_more_hit < 0.05), "
        "shown not equivalent = 95% interval "
        "outside it (p_outside < 0.05), else undetermined; status, the verdicts corrected across the entries of "
        "each kind: Benjamini-Hochberg on those p-values (tost_q, q_outside < 0.05), so that at most 5% of the "
        "entries shown equivalent, and of those shown not equivalent, are expected to be false; "
        "pairs_needed = translated pairs that would "
        "decide an undetermined entry on its own at the observed ratio and spread; "
        "paired sign-flip test (BH q within kind); flag = one-sided, q < 0.05, or shown not "
        "equivalent (unflagged is not equivalent)",
        when="parallel",
    ),
    Output(
        "equivalence_summary",
        "equivalence",
        "table",
        "Equivalence check on {n} translated pairs: shares of entries shown equivalent, "
        "shown not equivalent and undetermined "
        "within the margin {band}, then the paired tests and flags",
        when="parallel",
    ),
    Output(
        "equivalence_denominators",
        "equivalence",
        "table",
        "Denominator sensitivity on translations: per candidate (per document, per 100 "
        "sentences, per 1,000 counted tokens, "
        "per 1,000 word tokens, per 1,000 concept hits, presence), the size ratio of a "
        "pair's two sides and the shares of "
        "concepts, frames and actors shown equivalent, shown not equivalent and undetermined "
        "within {band}; cross-language "
        "rates use {unit}. A sentence-aligned translation (such as machine translation line "
        "by line) has the same number "
        "of sentences on both sides by construction, so it favours the sentence denominator; a human-translated or "
        "article-level sample, where translators merge, split and drop sentences, is what judges it",
        when="parallel",
    ),
    Output(
        "equivalence_calibrated_by_language",
        "equivalence",
        "table",
        "Study corpus vi/en rate ratios {unit}, calibrated by the translation ratio "
        "(observed / translation; 95% interval from "
        "independent bootstraps of study documents and translated pairs; assumes the "
        "parallel sample shares the instrument's bias); "
        "a language with fewer than {framing.min_group_docs} study documents flagged too small (" + SMALL_REASON + ")",
        when="parallel",
    ),
    Output(
        "equivalence_ratios",
        "equivalence",
        "figure",
        data=True,
        when="parallel",
        figure_caption="The instrument on translations: vi/en rate "
        "ratio per 100 sentences of each frame and of the concepts flagged or shown not "
        "equivalent, with 90% (thick) and 95% (thin) bootstrap intervals over "
        "translated pairs, coloured by status (corrected across each kind, Benjamini-Hochberg): green shown "
        "equivalent (90% interval inside "
        "the margin, shaded, and the TOST p small enough for the correction), red shown not equivalent (95% interval "
        "outside, likewise), grey undetermined",
    ),
    # validation ([validation]): the coding sample and sheets always; the estimates once [validation] codes names the
    # filled sheets
    Output("coding_design.json", "validation", "file", when="validation"),
    Output("coding_instructions.md", "validation", "file", when="validation"),
    Output("coding_sheet_{coder}", "validation", "csv", when="validation"),
    Output("coding_sheet_{coder}.xlsx", "validation", "file", when="validation_xlsx"),
    Output(
        "validation_agreement",
        "validation",
        "table",
        "Agreement between coders per frame and language: binary Krippendorff's alpha over "
        "the units two or more coders coded, with a {validation.level:.0%} percentile "
        "interval from {validation.bootstrap} bootstrap resamples of units "
        "(Hayes and Krippendorff 2007) and p_below_minimum, the share of resamples below "
        "0.667; Krippendorff (2019) asks for alpha of at "
        "least 0.800 (0.667 for tentative conclusions). Below that the codes are not a reference to validate against",
        when="validation_codes",
    ),
    Output("validation_disagreements", "validation", "csv", when="validation_codes"),
    Output(
        "validation_accuracy",
        "validation",
        "figure+table",
        "Accuracy of the dictionary against the human reference (the coders' "
        "majority; ties left out) per language and frame: precision (of the {validation.unit_label} the "
        "dictionary flags, the share people code "
        "as having the frame), recall (of the {validation.unit_label} people code as having it, the share "
        "flagged) and F1, each coded unit "
        "weighted by N_h / n_h of its language x hit stratum (Horvitz-Thompson; Lohr 2022), "
        "so they estimate the whole corpus, with "
        "{validation.level:.0%} stratified-bootstrap intervals ({validation.bootstrap} "
        "resamples within strata); where that interval "
        "collapses to a point (every coded unit agrees) or the metric rests on fewer "
        "than 20 coded units, the union with a "
        "Clopper-Pearson interval on the Kish effective sample size (Clopper and Pearson "
        "1934; Kish 1965; Korn and Graubard 1998), "
        "as <metric>_interval says. Assumes the sample was "
        "drawn as coding_design.json records and the reference codes are the truth",
        "Precision and recall of the dictionary against human coding, by frame and language, "
        "weighted by the inverse inclusion "
        "probabilities of the stratified coding sample, with stratified-bootstrap intervals",
        when="validation_codes",
    ),
    Output(
        "validation_differential_error",
        "validation",
        "table",
        "Differential measurement error: vi minus en precision, recall and F1 of "
        "the dictionary per frame with a {validation.level:.0%} stratified-bootstrap "
        "interval (joined with a MOVER interval from the "
        "two languages' Clopper-Pearson intervals when a language has few coded units or the "
        "bootstrap is degenerate: column "
        "interval; Newcombe 1998); excludes_zero marks an interval wholly on "
        "one side of 0, where a vi-vs-en comparison of dictionary counts mixes coverage with "
        "measurement error (Grimmer and Stewart "
        "2013; Song et al. 2020)",
        when="validation_codes",
    ),
    Output(
        "validation_corrected_prevalence",
        "validation",
        "table",
        "Frame prevalence (share of {validation.unit_label} with the frame) by language and "
        "the vi - en difference: naive (the dictionary's presence) and corrected by "
        "design-based supervised learning (Egami, Hinck, "
        "Stewart and Wei 2023), the mean of Yhat + R (Y - Yhat) / pi over every unit, "
        "with {validation.level:.0%} intervals "
        "(exact stratified variance; for sentences and KWIC windows clustered by document). "
        "Assumes the coded units were drawn with the known "
        "probabilities pi of coding_design.json "
        "and that the human reference codes are the truth; then the corrected estimate is "
        "unbiased whatever the dictionary's errors "
        "in each language",
        when="validation_codes",
    ),
    Output(
        "validation_budget",
        "validation",
        "table",
        "Coding budget per frame: {validation.unit_label} to code per language (balanced between "
        "dictionary hits and non-hits) for a {validation.level:.0%} interval of the "
        "corrected vi - en difference with half-width "
        "{validation.half_width:g}, from this pilot's precision, recall and corrected "
        "prevalence (Neyman-type allocation between the "
        "languages; exact stratified variance, Lohr 2022 section 3.4); a frame the pilot "
        "cannot plan for (a precision or recall of 0, "
        "or a target below the corpus's own sampling error) says why in note",
        when="validation_codes",
    ),
    Output(
        "validation_pattern_audit",
        "validation",
        "table",
        "Pattern audit of the dictionary: every hit of a coded frame in the coded "
        "{validation.unit_label} with the codebook pattern that made it and its keyword in context (5 "
        "words either side; Vietnamese compounds shown "
        "with spaces), and per pattern false_hit_share, the share of its hits that fall in "
        "units the human reference code says do "
        "not have the frame, each unit weighted by 1/pi (its inverse inclusion "
        "probability), with pattern_hits and pattern_docs, the "
        "hits and coded units behind it. Descriptive: it shows which patterns produce "
        "false hits; a pattern with few hits says little",
        when="validation_codes",
    ),
    Output(
        "codebook_audit_precision",
        "validation",
        "table",
        "Codebook audit with human coding: each pattern of a coded frame, actor or concept per "
        "language (as written in the codebook), whether it is a stopword kept by exemption, whether "
        "its entry is one-sided (note: the entry's codebook_audit note), and from the coded "
        "{validation.unit_label} with a human reference code: coded_hits (the pattern's hits in them, in "
        "coded_units units), false_hits (its hits in units people code as not having the entry) and "
        "precision, the share of its hits that are true, each unit weighted by 1/pi (its inverse "
        "inclusion probability), with a {validation.level:.0%} Clopper-Pearson interval on Kish's "
        "effective number of coded units n_eff (the hits of one unit share its code; Korn and "
        "Graubard 1998). A pattern with no coded hit has no precision: it was not checked; one with "
        "few coded units has a wide interval.{coded_note}",
        when="validation",
    ),
    Output(
        "validation_corrected_model",
        "validation",
        "table",
        "The study's [model] formula for each validated frame as a linear "
        "probability model (OLS) of frame presence (0/1) in a unit ({validation.unit_label}; a "
        "sentence or window takes its document's metadata), so a coefficient is "
        "a difference in the share of units with "
        "the frame: naive (the dictionary's presence) beside DSL-corrected (design-based "
        "supervised learning, Egami, Hinck, Stewart and "
        "Wei 2023: OLS on Yhat + R (Y - Yhat) / pi), with {validation.level:.0%} sandwich "
        "intervals, clustered by outlet when the study "
        "names an outlet column, else by document for sentences and windows (no small-sample "
        "correction). A coefficient of a language "
        "published by one outlet keeps its estimate but "
        "gets no SE: it equals an outlet contrast (note). Assumes the coded units were "
        "drawn with the inclusion probabilities pi "
        "recorded in coding_design.json and the human reference codes are the truth",
        when="validation_model",
    ),
    # explore: the browser page, drawn from the framing, equivalence and topics stages' tables
    Output(EXPLORER_PAGE, "explore", "file", when="cross"),
)
#: The multiverse ([robustness]): written only when the study has the section.
ROBUSTNESS_REGISTRY: tuple[Output, ...] = (
    Output(
        "robustness_specifications",
        "robustness",
        "table",
        "Specifications of the multiverse: every combination of the [robustness] grid's choices "
        "({robustness_design}); baseline marks the study's own choices",
        when="robustness",
    ),
    Output(
        "robustness_summary",
        "robustness",
        "table",
        "Robustness of each headline comparison between the languages across the specifications: the "
        "estimate is the difference in mean per-document value (vi - en) divided by the pooled "
        "within-language standard deviation (comparable across denominators); share_same_sign: "
        "share of specifications with the sign of the study's own estimate; share_significant: "
        "with that sign and q < {robustness.alpha:g} (BH within the claim's family; p from "
        "{robustness.permutations} permutations of whole outlets when outlets nest in the languages "
        "([framing] cluster), else of documents); moves_estimate_most / moves_support_most: the "
        "choice with the largest main-effect share of the variance of the estimate / of the 0/1 "
        "'same sign and significant' (type II sums of squares, OLS on the choices); verdict: robust "
        "when the sign holds in at least {robustness.sign_share:.0%} and significance in at least "
        "{robustness.significance_share:.0%} of specifications (Simonsohn, Simmons and Nelson 2020; "
        "Steegen et al. 2016), else what it depends on",
        when="robustness",
    ),
    Output(
        "robustness_decomposition",
        "robustness",
        "table",
        "Variance decomposition of each claim over the grid's choices: type II main-effect sum of "
        "squares of each choice from OLS on dummy-coded choices, as a share of the total, for the "
        "standardised estimate and for the 0/1 indicator of support (same sign and significant); "
        "'interactions and rest' is the residual of the main-effects model",
        when="robustness",
    ),
    Output("robustness_estimates", "robustness", "csv", when="robustness"),
    Output(
        "robustness_topics",
        "robustness",
        "table",
        "Topic solutions across the specifications: the joint (concept) LDA model of each "
        "specification (K = the grid's k, else [topics] k, else the middle candidate) against the "
        "baseline's, topics matched one-to-one by the Hungarian method on Hellinger distance: "
        "mean similarity (1 - Hellinger) of matched topics, mean Jaccard overlap of their top 10 "
        "concepts, and the share of matched topics whose vi - en prevalence difference has the "
        "baseline's sign",
        when="robustness_topics",
    ),
    Output(
        "robustness_curve_{claims}",
        "robustness",
        "figure",
        data=True,
        when="robustness",
        figure_caption="Specification curves of the {claims} comparisons between the languages "
        "with the largest study estimates (Simonsohn, Simmons and Nelson 2020): standardised "
        "difference vi - en under every specification, sorted, with 95% intervals (outlet "
        "bootstrap with [framing] cluster, else Welch), dark green when of the study's sign with q < "
        "alpha, light green of that sign only, red of the other sign, the study's own choices "
        "ringed, a triangle at the edge where the groups differ without varying within (an "
        "infinite standardised difference); beneath, the choices of each specification",
    ),
)
REGISTRY = REGISTRY + ROBUSTNESS_REGISTRY

#: What every test table's family columns say (:func:`analysis.stats.multiplicity.declare_family`), added to
#: the caption of each table that has them.
FAMILY_NOTE = (
    ". Columns correction and adjusted_within name the adjustment of q (or p_adjusted) and the family it runs "
    "over, with its number of tests; with [design] primary, role marks the one confirmatory row (its p read "
    "unadjusted) and every other row as exploratory"
)
FAMILY_TABLES = frozenset(
    {
        "frame_tests_by_{by}",
        "frame_distribution_by_{by}",
        "actor_tests_by_{by}",
        "keyness_words_{lang}_by_{within}",
        "keyness_concepts_by_{by}",
        "fightin_words_concepts_by_{by}",
        "topic_prevalence_tests_by_language",
        "model_frames",
        "design_contrasts",
        "design_distributions",
        "design_words",
        "equivalence_by_entry",
        "event_omissions",
    }
)
REGISTRY = tuple(
    replace(o, caption=o.caption + FAMILY_NOTE) if o.stem in FAMILY_TABLES and o.caption else o for o in REGISTRY
)
OUTPUTS: dict[str, Output] = {o.stem: o for o in REGISTRY}


def _study(settings: dict) -> Study:
    return study_from_raw(settings, Path("study.toml"))[0]


def placeholder_values(study: Study) -> dict[str, list[str]]:
    """The values each stem placeholder takes in this study (files are declared for each)."""
    languages = [lang for lang in dict.fromkeys(study.corpus.languages) if lang in ("vi", "en")]
    cross = "vi" in languages and "en" in languages
    return {
        "group": list(study.frequencies.group_by),
        "term": list(kwic_slugs(study.frequencies.kwic_terms).values()),  # colliding slugs made distinct
        "by": [study.framing.compare_by],
        "lang": list(study.corpus.languages),
        "within": list(study.framing.keyness_within),
        "model": [*languages, *(["joint"] if cross else [])],
        "measure": list(dict.fromkeys(study.time.measures)) if study.time is not None else [],
        "coder": coder_names(study),
        "claims": robustness_claims(study),
    }


def robustness_claims(study: Study) -> list[str]:
    """The claim kinds of ``[robustness] comparisons`` (``frame``, ``concept``; both by default;
    none without the section)."""
    from .settings import robustness_comparisons

    if study.robustness is None:
        return []
    named = robustness_comparisons(study)
    return [k[:-1] for k in ("frames", "concepts") if k in named or any(str(c).startswith(f"{k[:-1]}:") for c in named)]


def coder_names(study: Study) -> list[str]:
    """The coders' names of ``[validation] coders`` (``coder1``, ``coder2``, ...; none without the section)."""
    v = study.validation
    return [f"coder{i}" for i in range(1, v.coders + 1)] if v is not None and isinstance(v.coders, int) else []


def xlsx_available() -> bool:
    """Whether the coding sheets are also written as .xlsx: openpyxl is importable (it is a dependency;
    checked without importing it, so this module stays standard library only)."""
    import importlib.util

    return importlib.util.find_spec("openpyxl") is not None


#: ``when`` conditions of the validation stage's outputs: the study has ``[validation]`` (and its ``codes``).
VALIDATION_WHEN = {
    "validation": lambda s: s.validation is not None,
    "validation_xlsx": lambda s: s.validation is not None and xlsx_available(),
    "validation_codes": lambda s: s.validation is not None and bool(s.validation.codes),
    "validation_model": lambda s: s.validation is not None and bool(s.validation.codes) and s.model is not None,
}


#: ``when`` conditions of the design stage's outputs: the study has the section.
DESIGN_WHEN = {
    "compare": lambda s: bool(s.compare),
    "time": lambda s: s.time is not None,
    "time_events": lambda s: s.time is not None and bool(s.time.events),
    "model": lambda s: s.model is not None,
    "model_mixed": lambda s: s.model is not None and s.model.mixed,
    "model_topics": lambda s: s.model is not None and s.model.topics,
    "compare_words": lambda s: any("words" in c.measures for c in s.compare),
}


def design_topic_inputs(study: Study) -> list[str]:
    """The topics stage's saved model files the design stage reads (relative to the output folder;
    none unless the design layer uses topics: :func:`analysis.study.design_spec.uses_topics`)."""
    from .design_spec import uses_topics

    if not uses_topics(study):
        return []
    return [f"topic_models/{model}/{name}" for model in placeholder_values(study)["model"] for name in MODEL_FILES]


def expand(output: Output, study: Study) -> list[dict[str, str]]:
    """The placeholder values of every file group ``output`` declares in ``study`` (none when ``when`` fails)."""
    languages = set(study.corpus.languages)
    if (output.when == "cross" and not {"vi", "en"} <= languages) or (
        output.when == "ldavis" and not study.topics.ldavis
    ):
        return []
    if output.when in DESIGN_WHEN and not DESIGN_WHEN[output.when](study):
        return []
    if output.when == "parallel" and not study.equivalence.parallel:
        return []
    if output.when in VALIDATION_WHEN and not VALIDATION_WHEN[output.when](study):
        return []
    if output.when == "robustness" and study.robustness is None:
        return []
    if output.when == "robustness_topics" and (study.robustness is None or not study.robustness.topics):
        return []
    values = placeholder_values(study)
    combos: list[dict[str, str]] = [{}]
    for name in output.placeholders():
        combos = [{**c, name: v} for c in combos for v in values[name]]
    return combos


def declared_outputs(settings: dict | Study) -> dict[str, list[str]]:
    """File names (relative to the output folder) each stage writes, from the raw study TOML (or a Study)."""
    study = settings if isinstance(settings, Study) else _study(settings)
    formats = list(study.run.figure_formats)
    outputs: dict[str, list[str]] = {stage: [] for stage in STAGE_ORDER}
    for output in REGISTRY:
        for values in expand(output, study):
            outputs[output.stage] += output.files(output.stem.format(**values), formats)
    return outputs


def framing_outputs(settings: dict) -> list[str]:
    """Files the ``framing`` stage writes (a figure and the table of the same stem share one CSV)."""
    return declared_outputs(settings)["framing"]


def equivalence_outputs(settings: dict) -> list[str]:
    """Files the ``equivalence`` stage writes: always the codebook's pattern sources and audit on
    the study corpus; with a parallel sample (``[equivalence] parallel``) also the check of the
    instrument on the translations, its calibration of the study's ratios and its figure."""
    return declared_outputs(settings)["equivalence"]


def topics_outputs(settings: dict) -> list[str]:
    """Files the ``topics`` stage writes: one model per language, and with both languages the joint
    model on concept-mapped tokens and the alignment of the two language models."""
    return declared_outputs(settings)["topics"]


def _display(values: Mapping[str, str]) -> dict[str, str]:
    return {
        k: LANGUAGE_NAMES.get(v, v.replace("_", " ")) if k in ("lang", "model") else str(v).replace("_", " ")
        for k, v in values.items()
    }


def caption(output: str, study: Study, figure: bool = False, **values) -> str:
    """The table (or appendix figure) caption of a registered output with its placeholder values."""
    entry = OUTPUTS[output]
    template = entry.figure_caption if figure else entry.caption
    sections = {
        name: getattr(study, name)
        for name in ("corpus", "text", "units", "frequencies", "run", "framing", "topics", "time")
    }
    sections["regression"] = study.model  # [model] ({model} is the topic-model placeholder)
    sections["validation"] = study.validation
    sections["robustness"] = study.robustness
    return template.format(**sections, **(_display(values) if figure else values))


def figure_stems(study: Study) -> list[tuple[str, str, str]]:
    """``(stage, stem, appendix caption)`` of every declared figure, in registry order."""
    return [
        (o.stage, o.stem.format(**v), caption(o.stem, study, figure=True, **v))
        for o in REGISTRY
        if o.kind in ("figure", "figure+table")
        for v in expand(o, study)
    ]


def validation_outputs(settings: dict | Study) -> list[str]:
    """Files the ``validation`` stage writes: none without ``[validation]``; the coding design, the
    instructions and one sheet per coder (CSV, and .xlsx with openpyxl); with ``codes`` also the
    agreement, accuracy, differential error, corrected prevalence and budget tables and the figure."""
    return declared_outputs(settings)["validation"]


def design_outputs(settings: dict | Study) -> list[str]:
    """Files the ``design`` stage writes: only for the design sections the study has (none = no files)."""
    return declared_outputs(settings)["design"]


def explore_inputs(study: Study) -> list[str]:
    """The other stages' tables the ``explore`` stage reads (relative to the output folder; none
    without both languages): make rebuilds the page when one of them changes."""
    if not {"vi", "en"} <= set(study.corpus.languages):
        return []
    by = study.framing.compare_by
    names = [
        f"keyness_concepts_by_{by}.csv",
        f"frame_tests_by_{by}.csv",
        f"design_summary_by_{by}.csv",
        "codebook_pattern_sources.csv",
        "topic_terms.csv",
        "topic_prevalence_by_language.csv",
    ]
    return names + (["equivalence_by_entry.csv"] if study.equivalence.parallel else [])


def output_stem(name: str) -> str:
    """The stem of a declared output file name: ``top_terms_by_language.csv`` ->
    ``top_terms_by_language``, ``keyness_words_vi_by_outlet.csv.gz`` -> ``keyness_words_vi_by_outlet``."""
    return name[: -len(".csv.gz")] if name.endswith(".csv.gz") else name.rsplit(".", 1)[0]


def data_file(stem: str) -> str:
    """The file holding every row of the table or figure data of an expanded ``stem``
    (``keyness_words_vi_by_outlet`` -> ``keyness_words_vi_by_outlet.csv.gz``; ``stem.csv`` for every
    output that is not a word-level table: :data:`WORD_TABLE`, :data:`WORD_DATA`)."""
    for output in REGISTRY:
        if "csv.gz" in output.formats:
            pattern = re.escape(output.stem)
            for name in output.placeholders():
                pattern = pattern.replace(re.escape("{" + name + "}"), r"[^/]+")
            if re.fullmatch(pattern, stem):
                return output.data_name(stem)
    return f"{stem}.csv"
