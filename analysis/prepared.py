"""What every stage and notebook starts from: a study's corpus read, validated and prepared.

:func:`prepared_corpus` reads the corpus (every file checked, every study key that names a
metadata column checked), prepares each document through the cache and returns a
:class:`PreparedStudy`; the ``load_*`` functions turn the study's resource settings (boilerplate
rules, phrase lists, stopwords, codebook, concept map) into the objects the computation takes.
Reading goes through :mod:`analysis.files`; nothing here writes an output.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, fields
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
import stopwordsiso

from . import files
from .corpus import sources
from .corpus.documents import Corpus, vietnamese_share
from .errors import InputError
from .framing.codebook import Codebook, codebook_phrases, concept_map, parse_codebook
from .study.settings import Study, settings_keys
from .text.normalize import canonical_vi
from .text.prepare import Preparation, prepare_corpus
from .text.tokens import PreparedDocument, TermRules, stopword_set
from .text.units import Unit, make_units

if TYPE_CHECKING:  # the topic engines, scipy.sparse and the annotation load only in the stages that use them
    from .framing.measures import Annotation
    from .text.dtm import DocTermMatrix
    from .topics import lda as topics

log = logging.getLogger("analysis")


def load_preparation(
    study: Study, extra_phrases_vi: tuple[str, ...] = (), extra_phrases_en: tuple[str, ...] = ()
) -> Preparation:
    """Preparation settings from the study: rules file, name lists, segmenter."""
    rules_text, rules_label = files.resource_text(study, study.text.boilerplate, "boilerplate.toml")
    phrases_vi = files.read_word_list(files.resource_text(study, "", "phrases_vi.txt")[0])
    phrases_en = files.read_word_list(files.resource_text(study, "", "phrases_en.txt")[0])
    if study.text.phrases:
        extra = files.read_word_list(files.resource_text(study, study.text.phrases, "")[0])
        phrases_vi += [p for p in extra if _looks_vietnamese(p)]
        phrases_en += [p for p in extra if not _looks_vietnamese(p)]
    # The codebook's multi-word phrases become single tokens for every stage (they enter the
    # cache key through the phrase lists); parsing also validates the codebook early.
    codebook_yaml, codebook_label = codebook_text(study)
    codebook_vi, codebook_en = codebook_phrases(_plain_codebook(codebook_yaml, codebook_label, study.text.lemmatize_en))
    phrases_vi = sorted({canonical_vi(p) for p in [*phrases_vi, *codebook_vi, *extra_phrases_vi]})
    phrases_en = sorted({*phrases_en, *codebook_en, *extra_phrases_en})
    return Preparation(
        rules_text, rules_label, tuple(phrases_vi), tuple(phrases_en), study.text.segmenter, study.text.resegment
    )


def _looks_vietnamese(text: str) -> bool:
    return vietnamese_share(text) > 0 or "_" in text


def load_stopwords(study: Study, language: str) -> frozenset[str]:
    """stopwordsiso's list (optional) plus the project file; ``!word`` lines un-stop a word."""
    words: set[str] = set()
    if study.text.use_stopwordsiso:
        words |= stopword_set(stopwordsiso.stopwords(language), language)
    setting = study.text.stopwords_vi if language == "vi" else study.text.stopwords_en
    entries = files.read_word_list(files.resource_text(study, setting, f"stopwords_{language}.txt")[0])
    words |= stopword_set([e for e in entries if not e.startswith("!")], language)
    words -= stopword_set([e[1:] for e in entries if e.startswith("!")], language)
    return frozenset(words)


def load_term_rules(study: Study) -> TermRules:
    """Stopwords of both languages and the English lemmatisation switch: how tokens become terms.

    The codebook's single-word patterns are exempt from the stopword lists in both languages
    (:func:`analysis.framing.codebook.stopword_exemptions`), so no pattern is lost to them.
    """
    from .framing.codebook import stopword_exemptions

    text, label = codebook_text(study)
    exempt = stopword_exemptions(_plain_codebook(text, label, study.text.lemmatize_en))
    return TermRules(
        {lang: load_stopwords(study, lang) - exempt[lang] for lang in ("vi", "en")}, study.text.lemmatize_en
    )


@lru_cache(maxsize=4)
def _plain_codebook(text: str, label: str, lemmatize_en: bool) -> Codebook:
    """The codebook parsed without stopwords, once per text: :func:`load_preparation` (its phrases)
    and :func:`load_term_rules` (its stopword exemptions) both read it, and parsing (lemmas, the
    dead-pattern check) cost about 0.2 s each time. Read only by those two."""
    return parse_codebook(text, source=label, lemmatize_en=lemmatize_en)


def resource_digests(study: Study) -> dict[str, str]:
    """SHA-256 of every resource file :func:`load_preparation` and :func:`load_term_rules` read (rules,
    phrase lists, codebook, stopword lists), by name, none of them parsed: what a stage's stamp
    (:mod:`analysis.stages.stamp`) covers of them."""
    reads = {
        "boilerplate": (study.text.boilerplate, "boilerplate.toml"),
        "phrases_vi": ("", "phrases_vi.txt"),
        "phrases_en": ("", "phrases_en.txt"),
        "codebook": (study.framing.codebook, "codebook.yaml"),
        "stopwords_vi": (study.text.stopwords_vi, "stopwords_vi.txt"),
        "stopwords_en": (study.text.stopwords_en, "stopwords_en.txt"),
    }
    if study.text.phrases:
        reads["phrases"] = (study.text.phrases, "")
    return {
        name: hashlib.sha256(files.resource_text(study, setting, default)[0].encode("utf-8")).hexdigest()
        for name, (setting, default) in reads.items()
    }


def codebook_text(study: Study) -> tuple[str, str]:
    """The study's codebook YAML text and its label (path, or the packaged default)."""
    return files.resource_text(study, study.framing.codebook, "codebook.yaml")


def load_codebook(study: Study, rules: TermRules | None = None) -> Codebook:
    """The study's validated codebook (``[framing] codebook``; "" = the packaged default).

    Patterns are checked against the study's stopwords: a stopword pattern can never match.
    """
    text, label = codebook_text(study)
    rules = rules or load_term_rules(study)
    return parse_codebook(text, source=label, stopwords=rules.stopwords, lemmatize_en=rules.lemmatize_en)


def load_concept_map(study: Study, vocab: list[str]) -> dict:
    """The codebook's bilingual concept map; ``vocab`` (the corpus terms) expands its ``*`` patterns."""
    return concept_map(load_codebook(study), vocab=vocab)


@dataclass
class PreparedStudy:
    """What every later stage starts from: the corpus, its prepared documents and term rules.

    ``docvars`` is the metadata as a DataFrame indexed by ``doc_id``; :meth:`units`, :meth:`dtm`
    and :meth:`annotate` give the study's units, its document-term matrix and its codebook hits.
    """

    study: Study
    corpus: Corpus
    prepared: list[PreparedDocument]
    rules: TermRules
    preparation: Preparation

    @property
    def docvars(self) -> pd.DataFrame:
        return self.corpus.docvars

    def units(self, kind: str | None = None, window: int | None = None) -> list[Unit]:
        """The study's units (``[units] kind`` and ``window`` unless given)."""
        kind = kind or self.study.units.kind
        window = window or self.study.units.window
        return [u for doc in self.prepared for u in make_units(doc, self.rules, kind=kind, window=window)]

    def dtm(self, kind: str | None = "document", window: int | None = None) -> DocTermMatrix:
        """Document-term matrix over units (documents by default) with every metadata column."""
        from .text.dtm import build_dtm

        kind = kind or self.study.units.kind
        window = window or self.study.units.window
        ids: list[tuple[str, str, int]] = []

        def rows():  # streamed: one prepared document at a time, terms only
            for doc in self.prepared:
                for unit in make_units(doc, self.rules, kind=kind, window=window, with_text=False):
                    ids.append((unit.unit_id, unit.doc_id, unit.index))
                    yield unit.unit_id, unit.terms

        matrix = build_dtm(rows(), None)
        docvars = self.docvars.loc[[doc_id for _, doc_id, _ in ids]].copy()
        docvars.index = [unit_id for unit_id, _, _ in ids]
        docvars["unit_index"] = [index for _, _, index in ids]
        matrix.docvars = docvars
        matrix.history.append(f"units={kind}")
        return matrix

    def codebook(self) -> Codebook:
        """The study's codebook, checked against this study's stopwords."""
        return load_codebook(self.study, self.rules)

    def annotate(self, codebook: Codebook | None = None) -> list[Annotation]:
        """Codebook hits of every document (:func:`analysis.framing.measures.annotate`), in corpus order."""
        from .framing.measures import annotate

        codebook = codebook or self.codebook()
        return [annotate(doc, self.rules, codebook) for doc in self.prepared]

    def concept_map(self, units: list[Unit] | None = None) -> dict:
        """The codebook's bilingual concept map, its ``*`` patterns expanded on this corpus's terms."""
        units = self.units() if units is None else units
        return load_concept_map(self.study, sorted({t for u in units for t in u.terms}))

    def topic_corpora(
        self, units: list[Unit] | None = None, concept_map: dict | None = None
    ) -> dict[str, topics.TopicCorpus]:
        """One topic corpus per language of the study, and ``joint`` on concepts (both languages)."""
        units = self.units() if units is None else units
        if concept_map is None and {"vi", "en"} <= set(self.study.corpus.languages):
            concept_map = self.concept_map(units)
        return topic_corpora(self, units, concept_map)


#: The study key behind each parameter :func:`analysis.topics.lda.build_corpus` may reject.
TOPIC_CORPUS_KEYS = {"terms": "[units] kind", "no_below": "[topics] no_below"}


def topic_corpora(ps: PreparedStudy, units: list[Unit], concept_map: dict | None) -> dict[str, topics.TopicCorpus]:
    """One :class:`~analysis.topics.lda.TopicCorpus` per language, and ``joint`` on concepts if there is a map.

    Dictionary filters come from ``[topics] no_below``, ``no_above`` and ``keep_n``.
    """
    from .topics import lda as topics

    study = ps.study
    settings = study.topics
    where = str(study.source)
    language = ps.docvars["language"].astype(str)
    filters = {"no_below": settings.no_below, "no_above": settings.no_above, "keep_n": settings.keep_n}
    languages = list(dict.fromkeys(study.corpus.languages))
    corpora = {}
    for lang in languages:
        mine = [u for u in units if language[u.doc_id] == lang]
        if not mine:
            raise InputError(
                where,
                f"[corpus] languages lists '{lang}' but no {lang} document is in the corpus",
                f"remove '{lang}' from [corpus] languages or add {lang} documents",
            )
        with settings_keys(study, **TOPIC_CORPUS_KEYS):
            corpora[lang] = topics.build_corpus(
                lang, unit_ids=[u.unit_id for u in mine], terms=[u.terms for u in mine], **filters
            )
    if concept_map is not None and {"vi", "en"} <= set(languages):
        mine = [u for u in units if language[u.doc_id] in ("vi", "en")]
        with settings_keys(study, **TOPIC_CORPUS_KEYS):
            corpora["joint"] = topics.build_corpus(
                "joint",
                unit_ids=[u.unit_id for u in mine],
                terms=[topics.concept_tokens(u.terms, language[u.doc_id], concept_map) for u in mine],
                **filters,
            )
    return corpora


def prepared_corpus(
    study: Study,
    *,
    workers: int | None = None,
    progress: bool = True,
    preparation: Preparation | None = None,
    corpus: Corpus | None = None,
) -> PreparedStudy:
    """Read, validate and prepare the study's corpus (prepared documents come from the cache).

    ``corpus``: the study's corpus as :func:`analysis.corpus.sources.read_corpus` returned it, when
    the caller has read it already (the table is then not read and hashed again).
    """
    corpus = corpus if corpus is not None else sources.read_corpus(study)
    preparation = preparation or load_preparation(study)
    cache = files.PreparedCache(study.cache_dir)
    from .text.learned_boilerplate import learned_corpus

    corpus, preparation = learned_corpus(
        study, corpus, preparation, cache=cache
    )  # near-duplicates dropped, learned rules added
    workers = study.run.workers if workers is None else workers
    prepared = prepare_corpus(
        corpus.documents, preparation, cache=cache, workers=workers, progress=progress, scheduler=study.run.scheduler
    )
    return PreparedStudy(study, corpus, prepared, load_term_rules(study), preparation)


@dataclass(frozen=True)
class OpenStudy(Study):
    """A study opened for work (:func:`open_study`): its settings, and :meth:`prepare`."""

    def prepare(self, workers: int | None = None, progress: bool = False) -> PreparedStudy:
        """Read, validate and prepare the corpus (cached): the :class:`PreparedStudy` every step starts from."""
        return prepared_corpus(self, workers=workers, progress=progress)


def open_study(path: str | Path = "study.toml") -> OpenStudy:
    """Read a study file, every setting checked.

    Parameters
    ----------
    path : str or Path
        The study TOML file (paths in it are relative to its folder).

    Returns
    -------
    OpenStudy
        The settings (``study.framing.bootstrap`` ...); ``study.prepare()`` gives the corpus.

    Raises
    ------
    InputError
        One line per bad value, naming the key and the fix.

    Examples
    --------
    >>> import analysis as va
    >>> study = va.open_study("study.toml")   # doctest: +SKIP
    >>> corpus = study.prepare()              # doctest: +SKIP
    >>> corpus.docvars["language"].value_counts()   # doctest: +SKIP
    """
    study = files.read_study(path)
    return OpenStudy(**{f.name: getattr(study, f.name) for f in fields(Study)})
