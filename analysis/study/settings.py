"""The study description: one TOML file declares the corpus, the text pipeline, every parameter and
every random seed (the spaCy-config idea: the run is a function of this file and the inputs).

``study.toml`` at the project root is the default study on the seed corpus; a researcher copies it
and points ``[corpus] folder`` at their own articles. Unknown sections or keys are an error that
names the key, so a typo never silently falls back to a default.

Paths in the file are relative to the folder that holds the study file; an empty string for a
resource file means "the default that ships in ``analysis/resources``".
"""

from __future__ import annotations

import codecs
import dataclasses
import json
import math
import re
import tomllib
from contextlib import contextmanager
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Iterator, Mapping, Sequence

from ..errors import InputError
from .design_spec import EXPOSURES
from .safety import default_output

#: Documents per group below which a comparison is flagged "too small". Set from the coverage
#: simulation of :func:`studentized_interval` (tests of resampling, 600 seeded samples each):
#: on zero-inflated per-1,000 rates of a frame absent from 70% of documents by design, the 95%
#: interval covers 0.69 at 5 documents, 0.88 at 10, 0.96 at 15 and 0.98 at 20; with burstier hits
#: (gamma shape 0.5) 0.92 at 15 and 0.97 at 20. 20 is the smallest size tried at which every
#: scenario reaches 0.93 (the percentile interval: 0.57, 0.74, 0.80, 0.84 at 5, 10, 15, 20).
MIN_GROUP_DOCS = 20

#: The reason, said in every table that flags a group as too small.
SMALL_REASON = "below it, 95% intervals cover less than 93% in simulation"


@dataclass(frozen=True)
class CorpusSettings:
    """Where the documents are and how to read them."""

    folder: str = "seeds"
    metadata: str = "seeds/metadata.csv"
    encoding: str = "utf-8"  # corpus-wide default; a metadata column `encoding` overrides per file
    languages: tuple[str, ...] = ("vi", "en")
    # Other forms (analysis/corpus/sources.py): one table, news-please JSON, HTML, or [[corpus.source]] tables.
    table: str = ""  # .csv .tsv .jsonl .ndjson .parquet (by extension, or `format`)
    format: str = ""  # csv | tsv | jsonl | parquet; "" = from the extension
    delimiter: str = ""  # CSV field separator; "" = "," (tab for tsv)
    language: str = ""  # one language for a table without a language column
    columns: dict = field(default_factory=dict)  # [corpus.columns]: doc_id, text, language, date, outlet, title, url
    newsplease: str = ""  # folder of news-please *.json files
    html: str = ""  # folder of HTML pages (main text by trafilatura, offline)
    source: tuple = ()  # [[corpus.source]] tables, each with the keys above
    drop_duplicates: bool = False  # drop near-duplicate copies before counting (first kept, logged)
    dayfirst: bool = True  # a `date` column's 3/4/2024 is 3 April (false: 4 March); analysis/corpus/dates.py


@dataclass(frozen=True)
class TextSettings:
    """Cleaning, normalisation, segmentation and stopwords.

    Only the settings listed in :data:`PREPARATION_KEYS` change the prepared token stream (and so
    the cache key); stopwords are applied later, when tokens become terms.
    """

    boilerplate: str = ""  # rule file; "" = analysis/resources/boilerplate.toml
    phrases: str = ""  # extra multi-word names, one per line; "" = none beyond the codebook's
    segmenter: str = "underthesea"  # or "pyvi" (the fast alternative)
    resegment: bool = True  # re-segment pre-segmented (underscore) input with the same segmenter
    use_stopwordsiso: bool = True
    stopwords_vi: str = ""  # project additions; "" = analysis/resources/stopwords_vi.txt
    stopwords_en: str = ""  # project additions; "" = analysis/resources/stopwords_en.txt
    lemmatize_en: bool = True
    # Corpus-learned boilerplate (analysis/text/learned_boilerplate.py): a line in at least this many
    # documents AND this share of one outlet is site chrome; related-article teasers too.
    learn_boilerplate: bool = True
    learned_min_documents: int = 5
    learned_min_share: float = 0.1


PREPARATION_KEYS = ("boilerplate", "phrases", "segmenter", "resegment")


@dataclass(frozen=True)
class UnitSettings:
    """Units of analysis: whole documents, paragraphs, or windows of ``window`` sentences."""

    kind: str = "document"  # document | paragraph | sentences
    window: int = 3


@dataclass(frozen=True)
class FrequencySettings:
    top_n: int = 15
    group_by: tuple[str, ...] = ("language", "outlet", "event")
    kwic_terms: tuple[str, ...] = ()
    kwic_window: int = 6
    min_count_bigram: int = 2


@dataclass(frozen=True)
class RunSettings:
    output: str = "figures"  # when the study file does not name one: figures/<stem> unless it is study.toml
    cache: str = ".cache"
    workers: int = 0  # 0 = all cores
    seed: int = 20240403
    scheduler: str = ""  # Dask scheduler (preparation, topic fits, robustness grid, framing annotation); "" = none
    figure_formats: tuple[str, ...] = ("pdf", "png")
    blas_threads: int = 1  # BLAS/OpenMP threads in each stage and worker process (analysis.threads)


@dataclass(frozen=True)
class FramingSettings:
    """Codebook, frame/actor metrics, group comparisons and keyness (owned by ``framing``)."""

    codebook: str = ""  # YAML codebook; "" = analysis/resources/codebook.yaml
    compare_by: str = "language"
    min_hits: int = 1  # presence = at least this many hits in a unit
    bootstrap: int = 2000
    permutations: int = 5000
    seed: int = 20240404
    # a group with fewer documents is flagged "too small" in every test (95% intervals cover < 93% below it in
    # simulation)
    min_group_docs: int = MIN_GROUP_DOCS
    lead_sentences: int = 2  # first-mention position: headline + lead = the first N sentences
    voice_window: int = 8  # a speech verb is attributed to an actor at most this many tokens before it
    keyness_within: tuple[str, ...] = ("event", "outlet")  # word keyness within each language, by these
    keyness_correction: str = "none"  # G2/chi2 correction: none | yates | williams
    # keyness p-values permute documents; a metadata column (e.g. "outlet") permutes its values instead
    keyness_cluster: str = ""
    # frame/actor tables by group: "" = documents only; a metadata column (e.g. "outlet"): design effect, effective
    # clusters, cluster bootstrap
    cluster: str = ""
    keyness_top_n: int = 15  # terms per direction in keyness figures and LaTeX/Markdown tables
    # most permuted splits a keyness term still undecided at q < 0.05 sees (analysis.stats.resampling.MAX_RESAMPLES);
    # a term still unsettled then has decided = False. 20 x the tested terms lets a lone strong term reach q < 0.05
    keyness_budget: int = 20_000
    # word keyness tests only the words in at least this many documents of the comparison (the rest keep their
    # effect sizes, p and q empty): a word of one document is that document's, not a group's (1 = every word)
    keyness_min_docs: int = 2
    fightin_alpha0: float = 100.0  # Fightin' Words prior strength (pseudo-tokens spread like the pooled counts)
    shingle_size: int = 5  # near-duplicates: word shingles of this length
    duplicate_jaccard: float = 0.5  # shingle Jaccard at or above which two documents are near-duplicates
    omission_ratio: float = (
        3.0  # "much weaker": the other language's rate per 100 sentences at most 1/ratio of this one's
    )
    omission_min_count: int = 2  # omissions list items with at least this many hits on the stronger side


@dataclass(frozen=True)
class TopicSettings:
    """LDA fitting, K selection and alignment (used by ``topics``; every value checked by :func:`setting_problems`)."""

    engine: str = "tomotopy"  # tomotopy (collapsed Gibbs, C++) | gensim (online variational Bayes)
    k: int = 0  # 0 = choose K from k_range by coherence and stability
    k_range: tuple[int, ...] = ()  # empty = from corpus size (topics.suggest_topic_settings)
    seeds: tuple[int, ...] = (1, 2, 3)  # seeds of the K-selection fits (stability across seeds)
    seed: int = 20240405  # seed of the final fit, of inference and of the bootstrap
    no_below: int = 2  # dictionary: keep terms found in at least this many units ...
    no_above: float = 0.8  # ... and in at most this share of units
    keep_n: int = 0  # ... then keep the keep_n most frequent (0 = all)
    passes: int = 20
    iterations: int = 400
    alpha: str = "symmetric"  # symmetric | asymmetric | auto | a number written as text ("0.1")
    eta: str = "symmetric"  # symmetric | auto | a number written as text
    chunksize: int = 2000
    eval_every: int = 0  # 0 = never; evaluating draws from the model's random state, so it changes the fit
    multicore: bool = False  # LdaMulticore: faster, NOT bit-reproducible (recorded as such)
    shuffle: bool = True  # train on a seeded permutation of the units (online LDA assumes random order)
    ldavis: bool = False  # also write an interactive LDAvis page per model (needs pip install -e '.[vis]')
    coherence_topn: int = 10
    stability_min: float = 0.6  # K selection: mean matched similarity across seeds at least this
    top_n: int = 10
    relevance_lambda: float = 0.6  # Sievert & Shirley (2014): 0.6 was best in their user study
    representative_n: int = 3
    prevalence_by: tuple[str, ...] = ("language", "outlet", "event")
    bootstrap: int = 2000
    bootstrap_by: str = "document"  # resample whole documents (cluster bootstrap) or single units
    # prevalence by group: "" = documents only; a metadata column (e.g. "outlet"): design effect and an outlet cluster
    # bootstrap
    cluster: str = ""
    max_iterations: int = 1000  # tomotopy: at most this many Gibbs iterations per fit
    # stop when the mean log-likelihood per token of the last `window` beats the window before by less; 0 = never
    tolerance: float = 0.001
    window: int = 100  # tomotopy: Gibbs iterations per convergence window; gensim compares pass with pass
    # K-selection fits on a sample of about this many units (whole documents, stratified by language;
    # analysis.topics.lda.search_sample); 0 = every unit. The final fit is always on every unit.
    # Default 0: samples of 500 (BBC) and 500-1,000 documents (VNTC) chose a smaller K than the full
    # search (benchmarks/topic_search.py; benchmarks/README.md): sampling is a speed-for-quality trade.
    search_units: int = 0
    # K search when search_units = 0: "full" = every unit, every seed; "scaled" = every unit up to 2,000 documents per
    # model, above that a sample of max(2,000, units / 5) units with the first two seeds
    # (analysis.topics.lda.scaled_search). Default "full": on 10,000 VNTC articles the scaled search chose another K
    # than the full search (benchmarks/README.md, "The scaled search").
    search: str = "full"


@dataclass(frozen=True)
class TimeEvent:
    """One ``[[time.event]]``: a name, a date (``YYYY-MM-DD``) and a window of days either side."""

    name: str
    date: str
    window: int = 14


@dataclass(frozen=True)
class TimeSettings:
    """``[time]``: rates by period and group (:mod:`analysis.stats.timeseries`), and ``[[time.event]]`` windows."""

    freq: str = "month"  # day | week | month
    by: str = "language"  # one line per value of this column
    measures: tuple[str, ...] = (
        "frames",
    )  # frames | actors | concepts | topics (the topics stage's prevalence per document)
    exposure: str = "sentences"  # denominator: sentences (per 100; the cross-language rate) | tokens (per 1,000)
    bootstrap: int = 1000  # document resamples for the 95% intervals
    seed: int = 20240406
    max_lag: int = 7  # days either side for the cross-correlation of daily volumes
    events: tuple[TimeEvent, ...] = ()


@dataclass(frozen=True)
class ModelSettings:
    """``[model]``: per-frame count regression (:mod:`analysis.stats.models`) on a formula."""

    formula: str = "language"  # right-hand side, e.g. "language + spline(date, 4) + section"
    family: str = "quasipoisson"  # quasipoisson | negbin
    cluster: str = "outlet"  # clustered standard errors by this column ("" = none)
    exposure: str = "sentences"  # offset log(sentences) (the cross-language exposure) or log(tokens)
    mixed: bool = True  # also a mixed model with a random intercept by `cluster`, when there are enough
    min_clusters: int = 5  # fewer values of `cluster`: no mixed model (a row says so)
    min_docs: int = 20  # fewer documents: every row flagged too small
    # also topic prevalence on the same formula by the method of composition (needs the topics stage's models)
    topics: bool = False
    draws: int = 100  # draws of theta from each model's Dirichlet posterior (method of composition)
    seed: int = 20240407  # seed of the theta draws and the coefficient draws


@dataclass(frozen=True)
class EquivalenceSettings:
    """The equivalence check of the instrument on translations (``analysis.framing.equivalence``)."""

    parallel: str = ""  # folder with line-aligned en.txt / vi.txt (+ optional docs.csv); "" = none
    bootstrap: int = 2000  # resamples of the translated pairs for ratio intervals
    permutations: int = 5000  # sign flips of the paired test
    seed: int = 20240406
    margin: float = 1.25  # an entry is non-equivalent when its vi/en ratio's CI lies outside [1/margin, margin]


@dataclass(frozen=True)
class ValidationSettings:
    """``[validation]``: the dictionary's frame presence checked against human coding (``analysis.validation``).

    Optional: a study without the section gets no coding sample and no validation tables; with
    it, the ``validation`` stage draws the sample and writes the coder sheets, and once ``codes``
    names the folder of filled sheets, the agreement, accuracy and corrected comparison.
    """

    unit: str = "document"  # what people code: "document", "sentence" or "kwic" (a window around a key term)
    frames: tuple[str, ...] = ()  # frame ids to code; () = every frame of the codebook
    per_stratum: int = 50  # units drawn per language x hit stratum (all of a smaller stratum)
    coders: int = 2  # coders; each gets every sampled unit (sheets coding_sheet_coder1, ...)
    seed: int = 20240408  # seed of the draw, the sheets' order and the bootstrap
    codes: str = ""  # folder of the filled sheets (coding_sheet_<coder>.csv); "" = not coded yet
    bootstrap: int = 2000  # resamples for the agreement and accuracy intervals
    level: float = 0.95  # level of every interval
    half_width: float = 0.05  # coding budget: target half-width of the corrected vi - en difference
    context: int = 1  # sentence and kwic units: sentences shown (not coded) either side on the sheet
    kwic_terms: tuple[str, ...] = ()  # kwic units: the key terms; () = [frequencies] kwic_terms
    kwic_window: int = 10  # kwic units: tokens either side of the key term (the unit people code)
    actors: tuple[str, ...] = ()  # actor ids to code too (sheet columns actor_<id>)
    concepts: tuple[str, ...] = ()  # concept ids to code too (sheet columns concept_<id>)

    @property
    def unit_label(self) -> str:
        """The coded unit as captions name it: documents, sentences or key-term windows (KWIC)."""
        return {"sentence": "sentences", "kwic": "key-term windows (KWIC)"}.get(self.unit, "documents")


#: Factors a ``[robustness] grid`` may vary: name -> (section, key) of the study value it sets.
#: ``denominator`` is the headline measure's own (no other stage reads it): the per-document value
#: compared between languages is hits per 100 sentences (the toolkit's cross-language rate), per
#: 1,000 counted tokens, per document (raw hits) or presence (share of the document's units with at
#: least ``min_hits`` hits; with document units, 0/1).
ROBUSTNESS_FACTORS: dict[str, tuple[str, str]] = {
    "segmenter": ("text", "segmenter"),
    "resegment": ("text", "resegment"),
    "use_stopwordsiso": ("text", "use_stopwordsiso"),
    "stopwords_vi": ("text", "stopwords_vi"),
    "stopwords_en": ("text", "stopwords_en"),
    "lemmatize_en": ("text", "lemmatize_en"),
    "learn_boilerplate": ("text", "learn_boilerplate"),
    "drop_duplicates": ("corpus", "drop_duplicates"),
    "unit_kind": ("units", "kind"),
    "window": ("units", "window"),
    "min_hits": ("framing", "min_hits"),
    "codebook": ("framing", "codebook"),
    "k": ("topics", "k"),
    "denominator": ("robustness", "denominator"),
}
#: Values of the ``denominator`` factor (the first is the default: the cross-language rate).
DENOMINATORS = ("sentences", "tokens", "document", "presence")
#: What ``[robustness] comparisons`` may name: every frame, every concept, or one entry (``frame:conflict``).
ROBUSTNESS_COMPARISONS = ("frames", "concepts")


@dataclass(frozen=True)
class RobustnessSettings:
    """``[robustness]``: the headline comparisons re-estimated under the choices a reviewer could have made.

    Optional: a study without the section gets no multiverse. ``grid`` maps factor names
    (:data:`ROBUSTNESS_FACTORS`) to lists of values; the specifications are the full factorial of
    the lists (Steegen et al. 2016) or, with ``subset`` > 0, that many of them drawn without
    replacement with ``seed`` (the study's own choices always among them). A claim is "robust" when
    its sign agrees with the study's own estimate in at least ``sign_share`` of the specifications
    and q < ``alpha`` (same sign) in at least ``significance_share``; otherwise it "depends on" the
    factor with the largest main-effect share of the estimates' variance.

    Why 0.9 and 0.8: a reviewer reads a claim as robust when nearly every reasonable analysis
    points the same way (Simonsohn, Simmons & Nelson 2020 report the share of specifications with
    the dominant sign and with p < 0.05 and test them against the null); 0.9 allows one choice in
    ten to flip a near-zero estimate without flipping the verdict, and significance is asked of
    fewer (0.8) because a correct effect under 80% power is significant in only about 80% of
    honest re-analyses even when nothing but noise separates them. Neither was set from data.
    """

    # () = the declared primary comparison, else frames and concepts between the languages
    comparisons: tuple[str, ...] = ()
    grid: dict = field(default_factory=dict)  # factor -> list of values, e.g. segmenter = ["underthesea", "pyvi"]
    subset: int = 0  # 0 = every combination; n = n specifications drawn at random (seeded)
    seed: int = 20240409
    denominator: str = "sentences"  # the headline measure's denominator outside the grid
    permutations: int = 1000  # permutation resamples per estimate and specification (documents or outlets)
    bootstrap: int = 500  # outlet cluster-bootstrap resamples per interval (with [framing] cluster)
    alpha: float = 0.05  # significance: BH q below this
    sign_share: float = 0.9  # robust: same sign in at least this share of specifications ...
    significance_share: float = 0.8  # ... and q < alpha with that sign in at least this share
    topics: bool = False  # also the agreement of topic solutions across specifications (fits LDA per specification)


#: Test tables a study may name as its primary comparison (``[design] primary``): ``stem:item[:a-b]``.
PRIMARY_TABLES = re.compile(
    r"^(frame_tests_by_\w+|actor_tests_by_\w+|design_contrasts|model_frames|topic_prevalence_tests_by_language"
    r"|keyness_concepts_by_language)$"
)


@dataclass(frozen=True)
class DesignSettings:
    """``[design]``: the comparison the study declares primary, before seeing the data.

    Optional. ``primary`` names one row of one test table, ``"<table>:<item>"`` or
    ``"<table>:<item>:<group_a>-<group_b>"`` (e.g. ``"frame_tests_by_language:economy_trade"``): its p
    is reported unadjusted as the confirmatory test, and every other p of the study is exploratory
    (each table's ``role`` column; ``numbers.tex`` and the appendix lead with it).
    """

    primary: str = ""


@dataclass(frozen=True)
class Study:
    """A whole study. ``root`` is the folder of the study file; ``source`` its path."""

    root: Path
    source: Path
    name: str = "study"
    corpus: CorpusSettings = field(default_factory=CorpusSettings)
    text: TextSettings = field(default_factory=TextSettings)
    units: UnitSettings = field(default_factory=UnitSettings)
    frequencies: FrequencySettings = field(default_factory=FrequencySettings)
    run: RunSettings = field(default_factory=RunSettings)
    framing: FramingSettings = field(default_factory=FramingSettings)
    topics: TopicSettings = field(default_factory=TopicSettings)
    equivalence: EquivalenceSettings = field(default_factory=EquivalenceSettings)
    #: ``section.key`` of every value written in the study file (None: a study built in code).
    given: frozenset[str] | None = field(default=None, compare=False)
    #: Design layer (``[[compare]]``, ``[time]``, ``[model]``): None / empty when the study has no such section.
    compare: tuple = ()  # of analysis.study.design_spec.Contrast
    time: TimeSettings | None = None
    model: ModelSettings | None = None
    #: ``[validation]``: None when the study has no such section (:data:`OPTIONAL_SECTIONS`).
    validation: ValidationSettings | None = None
    #: ``[robustness]``: None when the study has no such section (:data:`OPTIONAL_SECTIONS`).
    robustness: RobustnessSettings | None = None
    #: ``[design]``: None when the study has no such section (no declared primary comparison).
    design: DesignSettings | None = None

    def path(self, relative: str) -> Path:
        """Resolve a path written in the study file against the study file's folder."""
        return (self.root / relative).resolve() if relative else Path()

    @property
    def output_dir(self) -> Path:
        return self.path(self.run.output)

    @property
    def cache_dir(self) -> Path:
        return self.path(self.run.cache)

    def as_dict(self) -> dict[str, Any]:
        """Plain settings for the manifest (paths as written, not resolved)."""
        out: dict[str, Any] = {"name": self.name}
        for name in SECTIONS:
            if getattr(self, name) is not None:  # an optional section the study leaves out
                out[name] = _plain(dataclasses.asdict(getattr(self, name)))
        for name in DESIGN_SECTIONS:
            value = getattr(self, name)
            if value:
                out[name] = _plain(value)
        return out


SECTIONS: dict[str, type] = {
    "corpus": CorpusSettings,
    "text": TextSettings,
    "units": UnitSettings,
    "frequencies": FrequencySettings,
    "run": RunSettings,
    "framing": FramingSettings,
    "topics": TopicSettings,
    "equivalence": EquivalenceSettings,
    "validation": ValidationSettings,
    "robustness": RobustnessSettings,
    "design": DesignSettings,
}

#: Sections of :data:`SECTIONS` that are None on a :class:`Study` unless the file has them.
OPTIONAL_SECTIONS = ("validation", "robustness", "design")


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if dataclasses.is_dataclass(value):
        return _plain(dataclasses.asdict(value))
    return value


class StudyErrors(InputError):
    """Several bad values in one study file: every problem, one line each (``validate`` lists all).

    ``problems`` holds one :class:`InputError` per bad value; ``str()`` joins their lines, so a
    caller that prints one error still shows every line.
    """

    def __init__(self, problems: list[InputError]):
        self.problems = list(problems)
        first = self.problems[0]
        super().__init__(first.where, first.problem, first.fix)
        self.args = ("\n".join(str(p) for p in self.problems),)

    def __reduce__(self):
        return (type(self), (self.problems,))


def raise_all(problems: list[InputError]) -> None:
    """Raise the one problem as it is, several as :class:`StudyErrors`; nothing when the list is empty."""
    if len(problems) == 1:
        raise problems[0]
    if problems:
        raise StudyErrors(problems)


def _build(section: str, cls: type, raw: Any, where: str, problems: list[InputError]) -> Any:
    if not isinstance(raw, dict):
        problems.append(InputError(where, f"[{section}] must be a table", f"write it as a [{section}] section"))
        return cls()
    known = {f.name: f for f in fields(cls)}
    values = {}
    for key, value in raw.items():
        if key not in known:
            problems.append(
                InputError(
                    where, f"unknown key '{key}' in [{section}]", f"remove it or use one of: {', '.join(sorted(known))}"
                )
            )
            continue
        default = known[key].default
        if default is dataclasses.MISSING and known[key].default_factory is not dataclasses.MISSING:
            default = known[key].default_factory()
        try:
            values[key] = _coerce(section, key, value, default, where)
        except InputError as exc:
            problems.append(exc)
    return cls(**values)


def _coerce(section: str, key: str, value: Any, default: Any, where: str) -> Any:
    expected = type(default)
    if isinstance(default, tuple):
        if not isinstance(value, list):
            raise InputError(where, f"[{section}] {key} must be a list", f"write {key} = [...]")
        return tuple(value)
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise InputError(where, f"[{section}] {key} must be true or false", "")
        return value
    if isinstance(default, (int, float, str)) and (not isinstance(value, expected) or isinstance(value, bool)):
        if expected is float and isinstance(value, int) and not isinstance(value, bool):
            return float(value)
        raise InputError(where, f"[{section}] {key} must be a {expected.__name__}, got {value!r}", "")
    return value


def parse_study(text: str, source: Path) -> tuple[Study, list[InputError]]:
    """Parse study TOML text into a :class:`Study` and the list of its problems (unknown keys,
    wrong types, unusable values: :func:`setting_problems`); a bad value is replaced by its default.

    Raises :class:`InputError` only when the text is not TOML at all.
    """
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(str(source), f"not valid TOML ({exc})", "check the line the parser names") from exc
    study, problems = study_from_raw(raw, source)
    return study, problems + setting_problems(study)


def study_from_raw(raw: dict, source: Path) -> tuple[Study, list[InputError]]:
    """A :class:`Study` from parsed TOML (a dict), and the unknown keys and wrong types in it."""
    where = str(source)
    kwargs: dict[str, Any] = {}
    problems: list[InputError] = []
    for key, value in raw.items():
        if key == "name":
            if not isinstance(value, str):
                problems.append(InputError(where, "name must be a string", ""))
            else:
                kwargs["name"] = value
        elif key in SECTIONS:
            kwargs[key] = _build(key, SECTIONS[key], value, where, problems)
        elif key in DESIGN_SECTIONS:
            kwargs[key] = _build_design(key, value, where, problems)
        else:
            allowed = ["name", *SECTIONS, *DESIGN_SECTIONS]
            problems.append(InputError(where, f"unknown key '{key}'", f"remove it or use one of: {', '.join(allowed)}"))
    given = frozenset(
        f"{section}.{key}"
        for section, values in raw.items()
        if section in SECTIONS and isinstance(values, dict)
        for key in values
    )
    study = Study(root=Path(source).resolve().parent, source=Path(source), given=given, **kwargs)
    if "run.output" not in given:  # a study of its own writes into a folder of its own
        study = dataclasses.replace(study, run=dataclasses.replace(study.run, output=default_output(source)))
    return study, problems


def load_study_text(text: str, source: Path) -> Study:
    """Parse and validate study TOML text. Pure: ``source`` is only used for messages and paths.

    Every value is checked here (:func:`setting_problems`), so a bad value stops the run before
    anything is written; several bad values raise :class:`StudyErrors` listing each.
    """
    study, problems = parse_study(text, source)
    raise_all(problems)
    return study


# ---------------------------------------------------------------------------------- value checks

#: Largest seed: numpy's legacy RandomState (used by gensim) takes seeds in [0, 2**32 - 1].
MAX_SEED = 2**32 - 1
UNIT_KINDS = ("document", "paragraph", "sentences")
SEGMENTERS = ("underthesea", "pyvi")
FIGURE_FORMATS = ("pdf", "png", "svg")
#: G2/chi2 continuity corrections (``analysis.stats.keyness.CORRECTIONS`` is this tuple).
KEYNESS_CORRECTIONS = ("none", "yates", "williams")
TOPIC_ALPHA = ("symmetric", "asymmetric", "auto")
TOPIC_ETA = ("symmetric", "auto")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def prior_value(value: str, names: Sequence[str]) -> str | float | None:
    """A Dirichlet prior as written in the study: one of ``names``, or a positive finite number
    written as text (``"0.1"``); None when it is neither."""
    if value in names:
        return value
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if number > 0 and math.isfinite(number) else None


class _Checks:
    """Collects one :class:`InputError` per bad value, each naming its key and the fix."""

    def __init__(self, where: str):
        self.where = where
        self.problems: list[InputError] = []

    def check(self, ok: bool, key: str, problem: str, fix: str = "fix the value in the study file") -> None:
        if not ok:
            self.problems.append(InputError(self.where, f"{key} {problem}", fix))

    def whole(self, section: str, key: str, value: Any, low: int, fix: str = "") -> None:
        self.check(
            _is_int(value) and value >= low,
            f"[{section}] {key} = {value!r}",
            f"must be a whole number >= {low}",
            fix or f"use {key} = {max(low, 1)} or more",
        )

    def seed(self, key: str, value: Any) -> None:
        self.check(
            _is_int(value) and 0 <= value <= MAX_SEED,
            f"{key} = {value!r}",
            f"must be a whole number from 0 to {MAX_SEED} (2**32 - 1)",
            "pick a smaller seed, e.g. 20240404",
        )

    def share(self, section: str, key: str, value: Any, low_open: bool, fix: str = "") -> None:
        ok = _finite(value) and (0 < value <= 1 if low_open else 0 <= value <= 1)
        self.check(
            ok,
            f"[{section}] {key} = {value!r}",
            "must be a number in " + ("(0, 1]" if low_open else "[0, 1]"),
            fix or "e.g. 0.5",
        )


def setting_problems(study: Study) -> list[InputError]:
    """Every value of the study that no stage can use, one :class:`InputError` each (key and fix).

    Checks that need the metadata header (column names) are in :func:`column_problems`; the
    output folder against the file system is checked by :func:`analysis.files.read_study`.
    A new section adds its ``_<section>_checks`` function here.
    """
    checks = _Checks(str(study.source))
    for section_checks in (
        _corpus_checks,
        _text_checks,
        _frequency_checks,
        _run_checks,
        _framing_checks,
        _topic_checks,
        _equivalence_checks,
        _validation_checks,
        _robustness_checks,
        _primary_checks,
    ):
        section_checks(study, checks)
    return checks.problems + design_setting_problems(study)


def _primary_checks(study: Study, checks: _Checks) -> None:  # [design]
    primary = study.design.primary if study.design is not None else ""
    if not primary:
        return
    parts = primary.split(":")
    checks.check(
        2 <= len(parts) <= 3 and all(p.strip() for p in parts) and bool(PRIMARY_TABLES.match(parts[0].strip())),
        f"[design] primary = {primary!r}",
        "is not '<test table>:<item>' or '<test table>:<item>:<group_a>-<group_b>'",
        'e.g. primary = "frame_tests_by_language:economy_trade"; tables: frame_tests_by_<by>, '
        "actor_tests_by_<by>, design_contrasts, model_frames, topic_prevalence_tests_by_language, "
        "keyness_concepts_by_language",
    )


def _corpus_checks(study: Study, checks: _Checks) -> None:
    c = study.corpus
    for lang in c.languages:
        checks.check(lang in ("vi", "en"), "[corpus] languages", f"has unknown code {lang!r}", "use 'vi' and/or 'en'")
    checks.check(
        bool(c.languages),
        "[corpus] languages",
        "is empty",
        "list the languages of the corpus, e.g. languages = ['vi', 'en']",
    )
    try:
        codecs.lookup(c.encoding)
    except LookupError:
        checks.check(
            False, f"[corpus] encoding = {c.encoding!r}", "is not a known text encoding", "use e.g. 'utf-8' or 'cp1258'"
        )
    checks.check(
        c.format in ("", "csv", "tsv", "jsonl", "parquet"),
        f"[corpus] format = {c.format!r}",
        "is not known",
        "use csv, tsv, jsonl or parquet (or leave it out)",
    )
    checks.check(
        len(c.delimiter) <= 1, f"[corpus] delimiter = {c.delimiter!r}", "must be one character", 'e.g. delimiter = ";"'
    )
    checks.check(
        c.language in ("", *c.languages),
        f"[corpus] language = {c.language!r}",
        "is not one of [corpus] languages",
        "use e.g. language = 'vi'",
    )


def _text_checks(study: Study, checks: _Checks) -> None:  # [text] and [units]
    t, u = study.text, study.units
    checks.whole("text", "learned_min_documents", t.learned_min_documents, 2, "use learned_min_documents = 5")
    checks.share("text", "learned_min_share", t.learned_min_share, True, "use learned_min_share = 0.1")
    checks.check(
        t.segmenter in SEGMENTERS,
        f"[text] segmenter = '{t.segmenter}'",
        "is not known",
        f"use {' or '.join(repr(s) for s in SEGMENTERS)}",
    )
    checks.check(
        u.kind in UNIT_KINDS, f"[units] kind = '{u.kind}'", "is not known", "use 'document', 'paragraph' or 'sentences'"
    )
    checks.whole("units", "window", u.window, 1)


def _frequency_checks(study: Study, checks: _Checks) -> None:
    f = study.frequencies
    checks.whole("frequencies", "top_n", f.top_n, 1, "use top_n = 15, the terms shown per group")
    checks.whole("frequencies", "kwic_window", f.kwic_window, 0, "use kwic_window = 6, the words shown either side")
    checks.whole("frequencies", "min_count_bigram", f.min_count_bigram, 1)
    for term in f.kwic_terms:
        checks.check(
            isinstance(term, str) and bool(term.strip()),
            "[frequencies] kwic_terms",
            f"has an empty or non-text term {term!r}",
            "list words as strings",
        )


#: A Dask scheduler address: ``tcp://host:port`` (or ``tls://``, ``ws://``, ``wss://``, ``ucx://``;
#: a bare ``host:port`` is TCP); a host name, IPv4 or bracketed IPv6 address, and a port.
SCHEDULER_ADDRESS = re.compile(
    r"(?:(?:tcp|tls|ws|wss|ucx)://)?(?:[A-Za-z0-9](?:[A-Za-z0-9.\-]*[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?"
)


def scheduler_problem(address: Any) -> str:
    """Why ``address`` is not a Dask scheduler address ("" when it is one, or when it is empty).

    >>> scheduler_problem("tcp://10.0.0.5:8786"), scheduler_problem("")
    ('', '')
    >>> scheduler_problem("my cluster")
    "'my cluster' is not a scheduler address (tcp://host:8786)"
    """
    if not isinstance(address, str):
        return f"{address!r} is not text"
    if address == "":
        return ""
    match = SCHEDULER_ADDRESS.fullmatch(address.strip())
    port = address.rsplit(":", 1)[-1] if match and re.search(r":\d+$", address.strip()) else ""
    if not match or (port and not 0 < int(port) < 65536):
        return f"{address!r} is not a scheduler address (tcp://host:8786)"
    return ""


def _run_checks(study: Study, checks: _Checks) -> None:
    r = study.run
    checks.check(
        isinstance(r.output, str) and bool(r.output.strip()),
        '[run] output = ""',
        "is empty: it would write into the study folder itself",
        'name an output folder, e.g. output = "figures"',
    )
    checks.check(bool(r.cache.strip()), '[run] cache = ""', "is empty", 'name a cache folder, e.g. cache = ".cache"')
    checks.check(
        _is_int(r.workers) and r.workers >= 0,
        f"[run] workers = {r.workers!r}",
        "must be 0 (all cores) or a positive count",
        "use workers = 1",
    )
    checks.seed("[run] seed", r.seed)
    checks.check(
        not scheduler_problem(r.scheduler),
        "[run] scheduler",
        scheduler_problem(r.scheduler),
        'write scheduler = "tcp://host:8786" (the address the scheduler prints), or "" for no Dask',
    )
    for fmt in r.figure_formats:
        checks.check(fmt in FIGURE_FORMATS, "[run] figure_formats", f"has unknown format {fmt!r}", "use pdf, png, svg")
    checks.check(
        _is_int(r.blas_threads) and r.blas_threads >= 1,
        f"[run] blas_threads = {r.blas_threads!r}",
        "must be a positive count of threads",
        "use blas_threads = 1, the same bytes on any machine",
    )


def _framing_checks(study: Study, checks: _Checks) -> None:
    fr = study.framing
    checks.check(
        isinstance(fr.compare_by, str) and bool(fr.compare_by),
        '[framing] compare_by = ""',
        "is empty",
        'name a metadata column, e.g. "language"',
    )
    checks.check(
        fr.keyness_correction in KEYNESS_CORRECTIONS,
        f"[framing] keyness_correction = '{fr.keyness_correction}'",
        "is not known",
        f"use one of: {', '.join(KEYNESS_CORRECTIONS)}",
    )
    for key, low in (
        ("min_hits", 1),
        ("bootstrap", 1),
        ("permutations", 1),
        ("min_group_docs", 1),
        ("lead_sentences", 0),
        ("voice_window", 0),
        ("keyness_top_n", 1),
        ("keyness_budget", 1),
        ("keyness_min_docs", 1),
        ("shingle_size", 1),
        ("omission_min_count", 1),
    ):
        checks.whole("framing", key, getattr(fr, key), low)
    checks.seed("[framing] seed", fr.seed)
    checks.check(
        _finite(fr.fightin_alpha0) and fr.fightin_alpha0 > 0,
        f"[framing] fightin_alpha0 = {fr.fightin_alpha0!r}",
        "must be a positive finite number",
        "use fightin_alpha0 = 100.0, the prior strength of Monroe et al. 2008",
    )
    checks.share("framing", "duplicate_jaccard", fr.duplicate_jaccard, True, "use duplicate_jaccard = 0.5")
    checks.check(
        _finite(fr.omission_ratio) and fr.omission_ratio >= 1,
        f"[framing] omission_ratio = {fr.omission_ratio!r}",
        "must be a finite number >= 1",
        "use omission_ratio = 3.0",
    )


def _topic_checks(study: Study, checks: _Checks) -> None:
    tp = study.topics
    checks.check(
        _is_int(tp.k) and (tp.k == 0 or tp.k >= 2),
        f"[topics] k = {tp.k!r}",
        "is not usable",
        "use 0 (choose from k_range) or a number of topics >= 2",
    )
    checks.check(
        all(_is_int(k) and k >= 2 for k in tp.k_range),
        f"[topics] k_range = {list(tp.k_range)}",
        "must hold whole numbers >= 2",
        "e.g. k_range = [2, 3, 4, 5]",
    )
    checks.check(bool(tp.seeds), "[topics] seeds", "is empty", "e.g. seeds = [1, 2, 3]")
    for value in tp.seeds:
        checks.seed("[topics] seeds", value)
    checks.seed("[topics] seed", tp.seed)
    checks.whole("topics", "no_below", tp.no_below, 1)
    checks.share("topics", "no_above", tp.no_above, True, "e.g. no_above = 0.8")
    for key in ("keep_n", "eval_every", "representative_n", "bootstrap"):
        checks.whole("topics", key, getattr(tp, key), 0)
    for key in ("passes", "iterations", "chunksize", "top_n"):
        checks.whole("topics", key, getattr(tp, key), 1)
    checks.whole(
        "topics", "coherence_topn", tp.coherence_topn, 2, "use coherence_topn = 10; coherence scores pairs of words"
    )
    checks.share("topics", "stability_min", tp.stability_min, False, "e.g. stability_min = 0.6")
    checks.share("topics", "relevance_lambda", tp.relevance_lambda, False, "0.6 is Sievert & Shirley's choice")
    checks.check(
        tp.bootstrap_by in ("document", "unit"),
        f"[topics] bootstrap_by = '{tp.bootstrap_by}'",
        "is not known",
        "use 'document' or 'unit'",
    )
    for key, names in (("alpha", TOPIC_ALPHA), ("eta", TOPIC_ETA)):
        value = getattr(tp, key)
        checks.check(
            prior_value(value, names) is not None,
            f"[topics] {key} = '{value}'",
            "is not known",
            f'use one of {", ".join(names)} or a positive number as text, e.g. "0.1"',
        )
    checks.check(
        not (tp.multicore and tp.alpha == "auto"),
        "[topics] alpha = 'auto'",
        "does not work with multicore = true (gensim's LdaMulticore)",
        "use alpha = 'symmetric' or multicore = false",
    )
    # engine and convergence
    checks.check(
        tp.engine in TOPIC_ENGINES,
        f"[topics] engine = '{tp.engine}'",
        "is not known",
        f"use one of {', '.join(TOPIC_ENGINES)}",
    )
    checks.whole("topics", "max_iterations", tp.max_iterations, 1, "use max_iterations = 1000")
    checks.whole("topics", "window", tp.window, 1, "use window = 100")
    checks.whole("topics", "search_units", tp.search_units, 0, "use 0 (every unit) or a number of units, e.g. 2000")
    checks.check(
        tp.search in ("scaled", "full"),
        f"[topics] search = {tp.search!r}",
        "is not known",
        'use search = "full" (every unit) or "scaled" (a sample above 2,000 documents)',
    )
    checks.check(
        _finite(tp.tolerance) and tp.tolerance >= 0,
        f"[topics] tolerance = {tp.tolerance!r}",
        "must be a number >= 0",
        "e.g. tolerance = 0.001, or 0 to run every iteration",
    )
    checks.check(
        not (tp.engine == "tomotopy" and tp.eta == "auto"),
        "[topics] eta = 'auto'",
        "is gensim's; tomotopy keeps eta fixed",
        "use eta = 'symmetric' or a number, or engine = 'gensim'",
    )
    checks.check(
        not (tp.engine == "tomotopy" and tp.multicore),
        "[topics] multicore = true",
        "is gensim's LdaMulticore",
        "set multicore = false (tomotopy fits run side by side in [run] workers processes)",
    )


#: Topic-model engines ([topics] engine); the fitters are in analysis.topics.engines.
TOPIC_ENGINES = ("tomotopy", "gensim")


def _equivalence_checks(study: Study, checks: _Checks) -> None:
    """[equivalence]."""
    eqv = study.equivalence
    checks.whole("equivalence", "bootstrap", eqv.bootstrap, 1)
    checks.whole("equivalence", "permutations", eqv.permutations, 1)
    checks.seed("[equivalence] seed", eqv.seed)
    checks.check(
        _finite(eqv.margin) and eqv.margin > 1,
        f"[equivalence] margin = {eqv.margin!r}",
        "must be a finite number > 1 (the band [1/margin, margin])",
        "use margin = 1.25",
    )


#: What ``[validation] unit`` accepts: whole documents, single sentences, or KWIC windows (a key
#: term with ``kwic_window`` tokens either side).
VALIDATION_UNITS = ("document", "sentence", "kwic")


def _validation_checks(study: Study, checks: _Checks) -> None:
    """[validation] (only when the study has the section)."""
    v = study.validation
    if v is None:
        return
    checks.check(
        v.unit in VALIDATION_UNITS,
        f"[validation] unit = {v.unit!r}",
        "is not a unit people can code",
        'use unit = "document", "sentence" or "kwic"',
    )
    checks.whole("validation", "context", v.context, 0)
    checks.whole("validation", "kwic_window", v.kwic_window, 1)
    checks.check(
        all(isinstance(t, str) and t.strip() for t in v.kwic_terms),
        f"[validation] kwic_terms = {list(v.kwic_terms)!r}",
        "must be non-empty terms",
        'e.g. kwic_terms = ["Biển_Đông", "South China Sea"]',
    )
    checks.check(
        v.unit != "kwic" or bool(v.kwic_terms) or bool(study.frequencies.kwic_terms),
        '[validation] unit = "kwic"',
        "needs key terms, and neither [validation] kwic_terms nor [frequencies] kwic_terms names any",
        'set kwic_terms = ["Biển_Đông", "South China Sea"] in [validation]',
    )
    checks.check(
        all(isinstance(f, str) and f for f in v.frames) and len(set(v.frames)) == len(v.frames),
        f"[validation] frames = {list(v.frames)!r}",
        "must be distinct frame ids",
        'e.g. frames = ["economy_trade", "conflict"], or [] for every frame',
    )
    for key in ("actors", "concepts"):
        named = getattr(v, key)
        checks.check(
            all(isinstance(x, str) and x for x in named) and len(set(named)) == len(named),
            f"[validation] {key} = {list(named)!r}",
            f"must be distinct {key[:-1]} ids",
            f'e.g. {key} = ["china"], or [] for none',
        )
    checks.whole("validation", "per_stratum", v.per_stratum, 1)
    checks.whole("validation", "coders", v.coders, 1, "use coders = 2 (agreement needs two or more)")
    checks.seed("[validation] seed", v.seed)
    checks.whole("validation", "bootstrap", v.bootstrap, 1)
    checks.check(
        _finite(v.level) and 0 < v.level < 1,
        f"[validation] level = {v.level!r}",
        "must be a number between 0 and 1",
        "use level = 0.95",
    )
    checks.check(
        _finite(v.half_width) and 0 < v.half_width <= 1,
        f"[validation] half_width = {v.half_width!r}",
        "must be a number in (0, 1]",
        "use half_width = 0.05",
    )


#: The check of each ``[robustness] grid`` factor's values: (is the value usable, what to write instead).
_FACTOR_CHECKS: dict[str, tuple[Any, str]] = {
    "segmenter": (lambda v: v in SEGMENTERS, f"use some of {', '.join(SEGMENTERS)}"),
    "unit_kind": (lambda v: v in UNIT_KINDS, f"use some of {', '.join(UNIT_KINDS)}"),
    "denominator": (lambda v: v in DENOMINATORS, f"use some of {', '.join(DENOMINATORS)}"),
    "window": (lambda v: _is_int(v) and v >= 1, "use whole numbers >= 1, e.g. [1, 3, 5]"),
    "min_hits": (lambda v: _is_int(v) and v >= 1, "use whole numbers >= 1, e.g. [1, 2]"),
    "k": (lambda v: _is_int(v) and v >= 2, "use whole numbers >= 2, e.g. [5, 10, 20]"),
    **{
        name: (lambda v: isinstance(v, bool), "use [true, false]")
        for name in ("resegment", "use_stopwordsiso", "lemmatize_en", "learn_boilerplate", "drop_duplicates")
    },
    **{
        name: (lambda v: isinstance(v, str), 'use file paths relative to the study, "" for the default')
        for name in ("stopwords_vi", "stopwords_en", "codebook")
    },
}


#: Declared primary comparisons (``[design] primary = "<table>:<item>[:<a>-<b>]"``) the multiverse can
#: re-estimate: the table's stem -> the claim kind.
PRIMARY_CLAIMS = {"frame_tests_by_language": "frame", "keyness_concepts_by_language": "concept"}


def robustness_comparisons(study: Study) -> tuple[str, ...]:
    """The comparisons the multiverse re-estimates: ``[robustness] comparisons`` when given; else the
    study's declared primary comparison (``[design] primary``) when it is a frame or concept
    comparison between the languages; else every frame and concept comparison between the languages."""
    r = study.robustness
    if r is not None and r.comparisons:
        return tuple(r.comparisons)
    primary = study.design.primary if study.design is not None else ""
    table, _, rest = primary.partition(":")
    item = rest.split(":", 1)[0]
    if table in PRIMARY_CLAIMS and item:
        return (f"{PRIMARY_CLAIMS[table]}:{item}",)
    return ROBUSTNESS_COMPARISONS


def robustness_specifications(grid: Mapping[str, Sequence]) -> int:
    """How many specifications the full factorial of ``grid`` has (the product of its list lengths)."""
    return math.prod(len(values) for values in grid.values()) if grid else 0


def _robustness_checks(study: Study, checks: _Checks) -> None:
    """[robustness] (only when the study has the section): one line per unusable value."""
    r = study.robustness
    if r is None:
        return
    grid = r.grid if isinstance(r.grid, dict) else {}
    checks.check(
        isinstance(r.grid, dict) and bool(r.grid),
        "[robustness] grid",
        "names no factor",
        'add [robustness.grid] with lists of values, e.g. segmenter = ["underthesea", "pyvi"]',
    )
    for name, values in grid.items():
        if name not in ROBUSTNESS_FACTORS:
            checks.check(
                False,
                f"[robustness.grid] {name}",
                "is not a factor the multiverse can vary",
                f"use some of: {', '.join(ROBUSTNESS_FACTORS)}",
            )
            continue
        ok, fix = _FACTOR_CHECKS[name]
        listed = isinstance(values, list) and bool(values)
        checks.check(listed, f"[robustness.grid] {name}", "must be a non-empty list of values", fix)
        if not listed:
            continue
        bad = [v for v in values if not ok(v)]
        checks.check(not bad, f"[robustness.grid] {name} = {values!r}", f"has unusable value(s) {bad!r}", fix)
        keys = [json.dumps(v) for v in values]
        checks.check(
            len(set(keys)) == len(keys),
            f"[robustness.grid] {name} = {values!r}",
            "lists a value twice",
            "list each value once",
        )
        if name in ("stopwords_vi", "stopwords_en", "codebook"):
            for value in values:
                checks.check(
                    not isinstance(value, str) or not value or study.path(value).is_file(),
                    f"[robustness.grid] {name} names '{value}'",
                    "which is not a file",
                    'give a path relative to the study file, or "" for the default',
                )
    checks.check(
        "k" not in grid or r.topics,
        "[robustness.grid] k",
        "changes only topic models, and [robustness] topics = false",
        "set topics = true or remove k from the grid",
    )
    total = robustness_specifications({k: v for k, v in grid.items() if isinstance(v, list)})
    checks.check(
        _is_int(r.subset) and 0 <= r.subset <= max(total, 1),
        f"[robustness] subset = {r.subset!r}",
        f"must be 0 (all {total} combinations) or a whole number up to {total}",
        "use subset = 0, or fewer specifications than the grid has",
    )
    for item in r.comparisons:
        kind, _, entry = str(item).partition(":")
        checks.check(
            isinstance(item, str)
            and (item in ROBUSTNESS_COMPARISONS or (kind in ("frame", "concept") and bool(entry))),
            f"[robustness] comparisons has {item!r}",
            "which is not a comparison",
            'use "frames", "concepts", or one entry as "frame:<id>" or "concept:<id>"',
        )
    checks.check(
        r.denominator in DENOMINATORS,
        f"[robustness] denominator = {r.denominator!r}",
        "is not known",
        f"use one of {', '.join(DENOMINATORS)}",
    )
    checks.seed("[robustness] seed", r.seed)
    checks.whole("robustness", "permutations", r.permutations, 1, "use permutations = 1000")
    checks.whole("robustness", "bootstrap", r.bootstrap, 1, "use bootstrap = 500")
    checks.check(
        _finite(r.alpha) and 0 < r.alpha < 1,
        f"[robustness] alpha = {r.alpha!r}",
        "must be a number between 0 and 1",
        "use alpha = 0.05",
    )
    checks.share("robustness", "sign_share", r.sign_share, True, "use sign_share = 0.9")
    checks.share("robustness", "significance_share", r.significance_share, True, "use significance_share = 0.8")


#: Study keys that name metadata columns: (section, key); each value is one column or a list of them.
COLUMN_KEYS = (
    ("frequencies", "group_by"),
    ("framing", "compare_by"),
    ("framing", "keyness_within"),
    ("framing", "keyness_cluster"),
    ("framing", "cluster"),
    ("topics", "prevalence_by"),
    ("topics", "cluster"),
)


def column_problems(study: Study, columns: Sequence[str]) -> list[InputError]:
    """Study keys naming a column the metadata does not have (checked when the corpus is read).

    Only keys written in the study file are checked: a default that names an optional column
    (``outlet``, ``event``) the metadata lacks is the stages' to skip, not the user's error.
    """
    problems = []
    available = ", ".join(columns)
    for section, key in COLUMN_KEYS:
        if study.given is not None and f"{section}.{key}" not in study.given:
            continue
        value = getattr(getattr(study, section), key)
        for column in (
            ((value,) if value else ()) if isinstance(value, str) else value
        ):  # "" = no column (keyness_cluster)
            if column not in columns:
                problems.append(
                    InputError(
                        study.source,
                        f"[{section}] {key} names '{column}', not a metadata column",
                        f"use one of: {available}",
                    )
                )
    return problems + design_column_problems(study, columns)


# ------------------------------------------------------------------- design layer: [[compare]], [time], [model]

#: Optional sections of the design layer: absent = the stage writes none of their outputs.
DESIGN_SECTIONS = ("compare", "time", "model")
TIME_FREQUENCIES = ("day", "week", "month")
DESIGN_MEASURES = ("frames", "actors", "concepts", "topics")
MODEL_FAMILIES = ("quasipoisson", "negbin")


def _build_design(key: str, value: Any, where: str, problems: list[InputError]) -> Any:
    if key == "compare":
        from .design_spec import parse_contrasts

        contrasts, found = parse_contrasts(value, where)
        problems += found
        return contrasts
    if not isinstance(value, dict):
        problems.append(InputError(where, f"[{key}] must be a table", f"write it as a [{key}] section"))
        return None
    if key == "model":
        return _build("model", ModelSettings, value, where, problems)
    raw = dict(value)
    events_raw = raw.pop("event", [])
    settings = _build("time", TimeSettings, raw, where, problems)
    events = []
    if not isinstance(events_raw, list):
        problems.append(
            InputError(where, "[[time.event]] must be a list of tables", "write each event as a [[time.event]] table")
        )
        events_raw = []
    for i, event in enumerate(events_raw):
        label = f"[[time.event]] #{i + 1}"
        if not isinstance(event, dict) or set(event) - {"name", "date", "window"} or not {"name", "date"} <= set(event):
            problems.append(
                InputError(
                    where,
                    f"{label} needs name and date (and optionally window), nothing else",
                    'write name = "visit", date = 2024-04-03, window = 14',
                )
            )
            continue
        date = event["date"]
        date_text = date.isoformat() if hasattr(date, "isoformat") else str(date)
        try:
            import datetime

            datetime.date.fromisoformat(date_text)
        except ValueError:
            problems.append(InputError(where, f"{label} date = {date!r} is not a date", "write date = 2024-04-03"))
            continue
        window = event.get("window", 14)
        if not _is_int(window) or window < 1:
            problems.append(
                InputError(
                    where, f"{label} window = {window!r} must be a whole number of days >= 1", "e.g. window = 14"
                )
            )
            continue
        events.append(TimeEvent(str(event["name"]), date_text, window))
    if len({e.name for e in events}) < len(events):
        problems.append(InputError(where, "[[time.event]] names are not unique", "give each event its own name"))
    return dataclasses.replace(settings, events=tuple(events))


def design_setting_problems(study: Study) -> list[InputError]:
    """Values of ``[time]`` and ``[model]`` no stage can use (``[[compare]]`` is checked as it is read)."""
    where = str(study.source)
    problems = []
    tm, md = study.time, study.model
    if tm is not None:
        if tm.freq not in TIME_FREQUENCIES:
            problems.append(
                InputError(where, f"[time] freq = {tm.freq!r} is not known", "use 'day', 'week' or 'month'")
            )
        for m in tm.measures:
            if m not in DESIGN_MEASURES:
                problems.append(
                    InputError(
                        where,
                        f"[time] measures has unknown measure {m!r}",
                        f"use some of: {', '.join(DESIGN_MEASURES)}",
                    )
                )
        if tm.exposure not in EXPOSURES:
            problems.append(
                InputError(where, f"[time] exposure = {tm.exposure!r} is not known", "use 'tokens' or 'sentences'")
            )
        for k, low in (("bootstrap", 1), ("max_lag", 0)):
            v = getattr(tm, k)
            if not _is_int(v) or v < low:
                problems.append(
                    InputError(
                        where, f"[time] {k} = {v!r} must be a whole number >= {low}", f"use {k} = {max(low, 1)} or more"
                    )
                )
        if not (_is_int(tm.seed) and 0 <= tm.seed <= MAX_SEED):
            problems.append(
                InputError(
                    where,
                    f"[time] seed = {tm.seed!r} must be a whole number from 0 to {MAX_SEED}",
                    "e.g. seed = 20240406",
                )
            )
    if md is not None:
        if md.family not in MODEL_FAMILIES:
            problems.append(
                InputError(where, f"[model] family = {md.family!r} is not known", "use 'quasipoisson' or 'negbin'")
            )
        if md.exposure not in EXPOSURES:
            problems.append(
                InputError(where, f"[model] exposure = {md.exposure!r} is not known", "use 'tokens' or 'sentences'")
            )
        for k in ("min_clusters", "min_docs"):
            v = getattr(md, k)
            if not _is_int(v) or v < 1:
                problems.append(
                    InputError(where, f"[model] {k} = {v!r} must be a whole number >= 1", f"use {k} = 5 or more")
                )
        if not _is_int(md.draws) or md.draws < 2:
            problems.append(
                InputError(where, f"[model] draws = {md.draws!r} must be a whole number >= 2", "use draws = 100")
            )
        if not (_is_int(md.seed) and 0 <= md.seed <= MAX_SEED):
            problems.append(
                InputError(
                    where,
                    f"[model] seed = {md.seed!r} must be a whole number from 0 to {MAX_SEED}",
                    "e.g. seed = 20240407",
                )
            )
        from .design_spec import formula_problems

        problems += [
            p for p in formula_problems(md.formula, columns=None, where=where) if "not a metadata column" not in str(p)
        ]
    return problems


def design_column_problems(study: Study, columns: Sequence[str]) -> list[InputError]:
    """Design-layer settings naming a metadata column that does not exist."""
    where = str(study.source)
    problems = []
    available = ", ".join(columns)
    for contrast in study.compare:
        for column in contrast.columns():
            if column not in columns:
                problems.append(
                    InputError(
                        where,
                        f"[[compare]] '{contrast.name}' names '{column}', not a metadata column",
                        f"use one of: {available}",
                    )
                )
    # Without a date column [time] is not an error: the design stage's time tables say why they are empty.
    if study.time is not None and study.time.by not in columns:
        problems.append(
            InputError(where, f"[time] by names '{study.time.by}', not a metadata column", f"use one of: {available}")
        )
    if study.model is not None:
        from .design_spec import formula_problems

        problems += [
            p
            for p in formula_problems(study.model.formula, columns=columns, where=where)
            if "not a metadata column" in str(p)
        ]
        if study.model.cluster and study.model.cluster not in columns:
            problems.append(
                InputError(
                    where,
                    f"[model] cluster names '{study.model.cluster}', not a metadata column",
                    f"use one of: {available}",
                )
            )
    return problems


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return (
            repr(value) if math.isfinite(value) else ("nan" if math.isnan(value) else ("inf" if value > 0 else "-inf"))
        )
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)  # a JSON string is a TOML basic string
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {value!r} in a study file")


def study_toml(settings: Mapping[str, Any]) -> str:
    """Study TOML text from nested settings (``{"name": ..., "corpus": {"folder": ...}, ...}``).

    >>> print(study_toml({"name": "demo", "corpus": {"folder": "bài báo", "languages": ["vi"]}, "run": {"workers": 1}}))
    name = "demo"
    [corpus]
    folder = "bài báo"
    languages = ["vi"]
    [run]
    workers = 1
    <BLANKLINE>
    """
    lines = [f"{key} = {_toml_value(value)}" for key, value in settings.items() if not isinstance(value, Mapping)]
    for section, values in settings.items():
        if isinstance(values, Mapping):
            lines.append(f"[{section}]")
            lines += [f"{key} = {_toml_value(value)}" for key, value in values.items()]
    return "\n".join(lines) + "\n"


@contextmanager
def settings_keys(study: Study, **keys: str) -> Iterator[None]:
    """Turn a computation's ``ValueError`` about parameter ``p`` into an :class:`InputError`
    naming the study key ``keys[p]`` (the message starts with the parameter's name).

    >>> study = Study(root=Path("."), source=Path("s.toml"))
    >>> try:
    ...     with settings_keys(study, n_resamples="[framing] bootstrap"):
    ...         raise ValueError("n_resamples = 0 must be a whole number >= 1")
    ... except InputError as error:
    ...     print(error)
    s.toml: [framing] bootstrap: n_resamples = 0 must be a whole number >= 1 (fix: fix the value in the study file)
    """
    with source_keys(study.source, **keys):
        yield


@contextmanager
def source_keys(source: Path, **keys: str) -> Iterator[None]:
    """:func:`settings_keys` for a helper that has the study file's path ``source``, not the study:
    a computation's ``ValueError`` about parameter ``p`` becomes an :class:`InputError` naming the
    study key ``keys[p]``.

    >>> try:
    ...     with source_keys(Path("s.toml"), n_resamples="[framing] bootstrap"):
    ...         raise ValueError("n_resamples = 0 must be a whole number >= 1")
    ... except InputError as error:
    ...     print(error)
    s.toml: [framing] bootstrap: n_resamples = 0 must be a whole number >= 1 (fix: fix the value in the study file)
    """
    try:
        yield
    except ValueError as exc:
        parameter = str(exc).split(" ", 1)[0]
        if parameter not in keys:
            raise
        raise InputError(source, f"{keys[parameter]}: {exc}", "fix the value in the study file") from None
