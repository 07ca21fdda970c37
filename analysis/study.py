"""The study description: one TOML file declares the corpus, the text pipeline, every parameter and
every random seed (the spaCy-config idea: the run is a function of this file and the inputs).

``study.toml`` at the project root is the default study on the seed corpus; a researcher copies it
and points ``[corpus] folder`` at their own articles. Unknown sections or keys are an error that
names the key, so a typo never silently falls back to a default.

Paths in the file are relative to the folder that holds the study file; an empty string for a
resource file means "the default that ships in ``analysis/resources``".
"""

from __future__ import annotations

import dataclasses
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from .errors import InputError


@dataclass(frozen=True)
class CorpusSettings:
    """Where the documents are and how to read them."""

    folder: str = "seeds"
    metadata: str = "seeds/metadata.csv"
    encoding: str = "utf-8"  # corpus-wide default; a metadata column `encoding` overrides per file
    languages: tuple[str, ...] = ("vi", "en")


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
    output: str = "figures"
    cache: str = ".cache"
    workers: int = 0  # 0 = all cores
    seed: int = 20240403
    scheduler: str = ""  # Dask scheduler address; "" = no Dask at all
    figure_formats: tuple[str, ...] = ("pdf", "png")


@dataclass(frozen=True)
class FramingSettings:
    """Codebook, frame/actor metrics, group comparisons and keyness (owned by ``framing``)."""

    codebook: str = ""  # YAML codebook; "" = analysis/resources/codebook.yaml
    compare_by: str = "language"
    min_hits: int = 1  # presence = at least this many hits in a unit
    bootstrap: int = 2000
    permutations: int = 5000
    seed: int = 20240404
    min_group_docs: int = 5  # a group with fewer documents is flagged "too small" in every test
    lead_sentences: int = 2  # first-mention position: headline + lead = the first N sentences
    voice_window: int = 8  # a speech verb is attributed to an actor at most this many tokens before it
    keyness_within: tuple[str, ...] = ("event", "outlet")  # word keyness within each language, by these
    keyness_correction: str = "none"  # G2/chi2 correction: none | yates | williams
    keyness_top_n: int = 15  # terms per direction in keyness figures and LaTeX/Markdown tables
    fightin_alpha0: float = 100.0  # Fightin' Words prior strength (pseudo-tokens spread like the pooled counts)
    shingle_size: int = 5  # near-duplicates: word shingles of this length
    duplicate_jaccard: float = 0.5  # shingle Jaccard at or above which two documents are near-duplicates
    omission_ratio: float = 3.0  # "much weaker": the other language's rate per 1,000 at most 1/ratio of this one's
    omission_min_count: int = 2  # omissions list items with at least this many hits on the stronger side


@dataclass(frozen=True)
class TopicSettings:
    """LDA fitting, K selection and alignment (owned by ``topics``; checked by ``topics.check_settings``)."""

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
    max_iterations: int = 1000  # tomotopy: at most this many Gibbs iterations per fit
    tolerance: float = 0.001  # stop when the mean log-likelihood per token of the last `window` beats the window before by less; 0 = never
    window: int = 100  # tomotopy: Gibbs iterations per convergence window; gensim compares pass with pass


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
            out[name] = _plain(dataclasses.asdict(getattr(self, name)))
        return out


SECTIONS: dict[str, type] = {
    "corpus": CorpusSettings,
    "text": TextSettings,
    "units": UnitSettings,
    "frequencies": FrequencySettings,
    "run": RunSettings,
    "framing": FramingSettings,
    "topics": TopicSettings,
}


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if dataclasses.is_dataclass(value):
        return _plain(dataclasses.asdict(value))
    return value


def _build(section: str, cls: type, raw: Any, where: str) -> Any:
    if not isinstance(raw, dict):
        raise InputError(where, f"[{section}] must be a table", f"write it as a [{section}] section")
    known = {f.name: f for f in fields(cls)}
    values = {}
    for key, value in raw.items():
        if key not in known:
            raise InputError(
                where,
                f"unknown key '{key}' in [{section}]",
                f"remove it or use one of: {', '.join(sorted(known))}",
            )
        default = known[key].default
        if default is dataclasses.MISSING and known[key].default_factory is not dataclasses.MISSING:
            default = known[key].default_factory()
        values[key] = _coerce(section, key, value, default, where)
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
    if isinstance(default, (int, float, str)) and not isinstance(value, expected):
        if expected is float and isinstance(value, int):
            return float(value)
        raise InputError(
            where, f"[{section}] {key} must be a {expected.__name__}, got {value!r}", ""
        )
    return value


def load_study_text(text: str, source: Path) -> Study:
    """Parse and validate study TOML text. Pure: ``source`` is only used for messages and paths."""
    where = str(source)
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(where, f"not valid TOML ({exc})", "check the line the parser names") from exc
    kwargs: dict[str, Any] = {}
    for key, value in raw.items():
        if key == "name":
            if not isinstance(value, str):
                raise InputError(where, "name must be a string", "")
            kwargs["name"] = value
        elif key in SECTIONS:
            kwargs[key] = _build(key, SECTIONS[key], value, where)
        else:
            allowed = ["name", *SECTIONS]
            raise InputError(
                where, f"unknown key '{key}'", f"remove it or use one of: {', '.join(allowed)}"
            )
    study = Study(root=source.resolve().parent, source=source, **kwargs)
    _check_values(study)
    return study


def _check_values(study: Study) -> None:
    where = str(study.source)
    if study.units.kind not in {"document", "paragraph", "sentences"}:
        raise InputError(
            where,
            f"[units] kind = '{study.units.kind}' is not known",
            "use 'document', 'paragraph' or 'sentences'",
        )
    if study.units.window < 1:
        raise InputError(where, "[units] window must be at least 1", "")
    if study.text.segmenter not in {"underthesea", "pyvi"}:
        raise InputError(
            where, f"[text] segmenter = '{study.text.segmenter}' is not known", "use 'underthesea' or 'pyvi'"
        )
    for lang in study.corpus.languages:
        if lang not in {"vi", "en"}:
            raise InputError(where, f"[corpus] languages has unknown code '{lang}'", "use 'vi' and/or 'en'")
    if study.run.workers < 0:
        raise InputError(where, "[run] workers must be 0 (all cores) or a positive count", "")
    for fmt in study.run.figure_formats:
        if fmt not in {"pdf", "png", "svg"}:
            raise InputError(where, f"[run] figure_formats has unknown format '{fmt}'", "use pdf, png, svg")
