"""Frame and actor metrics from a codebook, and tests of group differences.

Data in, data out: prepared documents are annotated once (:func:`annotate`: codebook hits per
sentence), then every table is computed from the annotations.

* Frame salience per unit and document (:func:`frame_salience`): hits, hits per 1,000 counted
  tokens, presence (at least ``min_hits`` hits), share of the family's hits, dominant frame.
* Actor salience (:func:`actor_salience`): mentions and mention share, first-mention position
  (headline/lead vs body) and voice, i.e. statements attributed to an actor through a speech verb
  (:func:`attribute_statements`).
* Group comparisons (:func:`group_means`, :func:`group_tests`, :func:`distribution_tests`):
  per-group means with studentized bootstrap 95% intervals resampling documents
  (:func:`analysis.stats.resampling.studentized_interval`: the percentile interval under-covered at
  small n), a permutation test of the difference in means (exact when the
  number of distinct splits is small; the same p-values as ``scipy.stats.permutation_test``),
  Benjamini–Hochberg q-values, the χ² test of the frame × group table
  (``scipy.stats.chi2_contingency``) and the Jensen–Shannon divergence of the groups' frame
  distributions (``scipy.spatial.distance.jensenshannon``, base 2, squared: 0 = identical, 1 =
  disjoint). Every row says plainly when a group is too small for the test to mean anything.

Randomness comes from ``seed``: each statistic draws from its own generator
``numpy.random.default_rng([seed, crc32(labels)])``, so adding a frame or a group never changes
another row's interval.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterable, Iterator, Sequence

import pandas as pd

from ..text import units as _units
from ..text.dtm import DocTermMatrix, build_dtm, to_frame
from ..text.tokens import PreparedDocument, TermRules
from .codebook import Codebook, CoverageTally, Hit, TokenKey, sentence_keys

LEAD = "headline/lead"
BODY = "body"
UNATTRIBUTED = "(unattributed)"
#: The hits of a sentence that has none (shared, immutable).
NO_HITS: tuple = ()


# ------------------------------------------------------------------------------- annotation


@dataclass
class Annotation:
    """Codebook hits of one document, per sentence.

    ``keys``: :class:`~analysis.framing.codebook.TokenKey` per token; ``counted``: counted terms per sentence;
    ``frames[family]``, ``actors``, ``concepts``, ``speech``: hits per sentence; ``paragraph_sizes``:
    sentences per paragraph (to cut units like :func:`analysis.text.units.make_units`); ``surface``: the
    words as written of the sentences with a speech verb, the only ones quoted in a table (all of
    a corpus's words would be kept in memory otherwise: 10,000 articles, about 330 MB).
    """

    doc_id: str
    language: str
    keys: list[list[TokenKey | None]]
    counted: list[int]
    frames: dict[str, list[list[Hit]]]
    actors: list[list[Hit]]
    concepts: list[list[Hit]]
    speech: list[list[Hit]]
    paragraph_sizes: list[int]
    surface: dict[int, list[str]]

    @property
    def tokens(self) -> int:
        return sum(self.counted)


def annotate(doc: PreparedDocument, rules: TermRules, codebook: Codebook) -> Annotation:
    """Match every section of ``codebook`` against ``doc``, sentence by sentence.

    >>> from analysis.framing.codebook import parse_codebook
    >>> from analysis.text.tokens import TermRules
    >>> cb = parse_codebook("frames:\\n  issue:\\n    trade: {vi: [thương_mại]}\\n")
    >>> doc = PreparedDocument("d", "vi", [[["Thúc_đẩy", "thương_mại", "."]]])
    >>> a = annotate(doc, TermRules({}), cb)
    >>> a.counted, [h.entry for h in a.frames["issue"][0]]
    ([2], ['trade'])
    """
    keys = sentence_keys(doc, rules)
    lang = doc.language

    def hits(section: str, family: str = "", require_counted: bool = True) -> list:
        # Most sentences have no hit of a given kind: they all share one empty tuple instead of
        # an empty list each (an archive has hundreds of thousands of sentences).
        matcher = codebook.matcher(section, lang, family)
        return [matcher.find(s, require_counted=require_counted) or NO_HITS for s in keys]

    frames = {family: hits("frames", family) for family in codebook.frame_families}
    speech = hits("speech_verbs", require_counted=False)
    return Annotation(
        doc_id=doc.doc_id,
        language=lang,
        keys=keys,
        counted=[sum(1 for k in s if k is not None and k.counted) for s in keys],
        frames=frames,
        actors=hits("actors"),
        concepts=hits("concepts"),
        speech=speech,
        paragraph_sizes=[len(p) for p in doc.paragraphs],
        surface={i: list(sentence) for i, sentence in enumerate(doc.sentences()) if speech[i]},
    )


def annotation_coverage(annotations: Iterable[Annotation], top_n: int = 25) -> tuple[pd.DataFrame, pd.DataFrame]:
    """:func:`~analysis.framing.codebook.coverage_report` from annotations: the same two tables,
    from the hits :func:`annotate` found, so the codebook is matched once per sentence for the
    annotation and the coverage report alike (matching was about 40% of the framing stage, half
    of it the second pass).

    >>> from analysis.framing.codebook import parse_codebook
    >>> from analysis.text.tokens import TermRules
    >>> cb = parse_codebook("concepts:\\n  cooperation: {vi: [hợp_tác], en: [cooperation]}\\n")
    >>> doc = PreparedDocument("v1", "vi", [[["Hai", "nước", "hợp_tác", "kinh_tế", "."]]])
    >>> coverage, unmapped = annotation_coverage([annotate(doc, TermRules({}), cb)])
    >>> coverage[["tokens", "mapped_tokens", "mapped_share"]].iloc[0].tolist()
    [4.0, 1.0, 0.25]
    """
    tally = CoverageTally()
    for a in annotations:
        frames = list(zip(*a.frames.values())) if a.frames else [()] * len(a.keys)
        tally.add(a.language, a.keys, a.concepts, frames, a.actors)
    return tally.tables(top_n)


def unit_sentences(annotation: Annotation, kind: str = "document", window: int = 3) -> list[tuple[str, int, list[int]]]:
    """``(unit_id, index, sentence indices)`` per unit, cut as :func:`analysis.text.units.make_units` does."""
    groups = _units.unit_groups(list(annotation.paragraph_sizes), kind, window)
    return [(_units.unit_id(annotation.doc_id, kind, i), i, members) for i, members in enumerate(groups)]


# ---------------------------------------------------------------------------- frame salience

FRAME_COLUMNS = [
    "unit_id",
    "doc_id",
    "unit_index",
    "language",
    "family",
    "frame",
    "hits",
    "tokens",
    "per_1000",
    "present",
    "share",
    "dominant",
    "sentences",
    "per_100_sentences",
]
#: The unit kinds :func:`frame_salience` cuts (``[units] kind``).
UNIT_KINDS = ("document", "paragraph", "sentences")


def frame_salience(
    annotations: Iterable[Annotation], codebook: Codebook, kind: str = "document", *, window: int = 3, min_hits: int = 1
) -> pd.DataFrame:
    """Frame salience per unit: one row per unit × frame (every frame, zeros included).

    Columns: ``unit_id, doc_id, unit_index, language, family, frame, hits, tokens, per_1000,
    present, share, dominant`` where ``per_1000 = 1000 · hits / tokens`` (counted tokens of the
    unit), ``present = hits >= min_hits``, ``share`` = hits / all hits of the frame's family in the
    unit (0 when the family has none) and ``dominant`` marks the frame(s) with the most hits of the
    family (every frame tied at the maximum; none when the family has no hit), ``sentences`` (of
    the unit) and ``per_100_sentences = 100 · hits / sentences``, the rate compared across
    languages (sentences survive translation, token counts do not).

    ``kind`` is the unit: ``document``, ``paragraph`` or ``sentences`` (windows of ``window``
    sentences), as ``[units] kind``; the study's ``frame_salience_by_unit`` table is this with the
    study's kind.
    """
    if kind not in UNIT_KINDS:
        raise ValueError(
            f"kind = {kind!r} is not a unit kind: use one of {', '.join(UNIT_KINDS)} "
            "(frame_salience_by_unit is kind = study.units.kind, window = study.units.window)"
        )
    frames_by_family = {f: [e.id for e in codebook.frames if e.family == f] for f in codebook.frame_families}
    records = []
    for a in annotations:
        for unit_id, index, members in unit_sentences(a, kind, window):
            tokens = sum(a.counted[s] for s in members)
            for family, frame_ids in frames_by_family.items():
                hits = dict.fromkeys(frame_ids, 0)
                for s in members:
                    for h in a.frames[family][s]:
                        hits[h.entry] += 1
                total = sum(hits.values())
                top = max(hits.values()) if hits else 0
                for frame in frame_ids:
                    k = hits[frame]
                    records.append(
                        (
                            unit_id,
                            a.doc_id,
                            index,
                            a.language,
                            family,
                            frame,
                            k,
                            tokens,
                            1000.0 * k / tokens if tokens else 0.0,
                            k >= min_hits,
                            k / total if total else 0.0,
                            bool(total) and k == top,
                            len(members),
                            100.0 * k / len(members) if members else 0.0,
                        )
                    )
    return pd.DataFrame(records, columns=FRAME_COLUMNS)


# ---------------------------------------------------------------------------- actors and voice

STATEMENT_COLUMNS = ["doc_id", "language", "sentence", "actor", "verb", "distance", "via", "text"]
#: Subject pronouns that point back to the last person mentioned ("Ông đề_nghị ...", "he said").
PRONOUNS = {"vi": frozenset({"ông", "bà"}), "en": frozenset({"he", "she"})}
#: English verbs that may precede their subject ("..., said Wang Yi"); after other verbs the next
#: actor is the addressee ("asked China to ...").
INVERSION_VERBS = frozenset({"say", "add", "state", "write"})


def attribute_statements(
    annotation: Annotation, window: int = 8, persons: frozenset[str] = frozenset()
) -> list[tuple[int, str, str, int, str]]:
    """Statements in a document: ``(sentence, actor, verb, distance, via)`` per speech-verb hit.

    Rules, in order (``via`` names the one that applied):

    1. ``subject``: the nearest actor mention ending at most ``window`` tokens before the verb in
       the same sentence, with no punctuation or number between them (subject–verb order:
       "Bộ_trưởng Bùi_Thanh_Sơn đề_nghị", "Minister Bui Thanh Son suggested"; a comma or ";"
       usually starts another clause, whose subject we do not know).
    2. ``pronoun``: a subject pronoun (ông, bà / he, she) in that span points to the last *person*
       actor mentioned before it in the document ("Ông Lưu Ninh ... . Ông cũng nhất_trí ...").
    3. ``inversion`` (English only): an actor at most 3 tokens after ``say``/``add``/``state``
       ("..., said Wang Yi"). After other verbs the next actor is the addressee ("asked China"),
       and in Vietnamese the noun after a speech verb always is ("đề_nghị Quảng_Tây ...").

    Otherwise the actor is ``(unattributed)`` with distance -1.
    """
    out = []
    last_person: str | None = None
    pronouns = PRONOUNS.get(annotation.language, frozenset())
    for s, keys in enumerate(annotation.keys):
        actors = annotation.actors[s]
        verbs = annotation.speech[s]
        events = sorted(
            [(h.start, 0, h) for h in actors] + [(h.start, 1, h) for h in verbs], key=lambda e: (e[0], e[1])
        )
        for _, is_verb, hit in events:
            if not is_verb:
                if hit.entry in persons:
                    last_person = hit.entry
                continue
            verb = hit
            verb_text = " ".join(k.joined for k in keys[verb.start : verb.end] if k is not None)
            actor, distance, via = UNATTRIBUTED, -1, ""
            candidates = [
                (verb.start - a.end, a.entry)
                for a in actors
                if a.end <= verb.start
                and verb.start - a.end <= window
                and all(k is not None for k in keys[a.end : verb.start])
            ]
            if candidates:
                distance, actor = min(candidates)
                via = "subject"
            else:
                span = range(max(0, verb.start - window), verb.start)
                clean = [k for k in span if all(keys[j] is not None for j in range(k, verb.start))]
                pronoun = [verb.start - k - 1 for k in clean if keys[k].joined in pronouns]
                if pronoun and last_person is not None:
                    actor, distance, via = last_person, min(pronoun), "pronoun"
                elif annotation.language == "en" and verb_text in INVERSION_VERBS:
                    after = [
                        (a.start - verb.end, a.entry)
                        for a in actors
                        if a.start >= verb.end
                        and a.start - verb.end <= 3
                        and all(k is not None for k in keys[verb.end : a.start])
                    ]
                    if after:
                        (distance, actor), via = min(after), "inversion"
            out.append((s, actor, verb_text, distance, via))
    return out


ACTOR_COLUMNS = [
    "doc_id",
    "language",
    "actor",
    "kind",
    "mentions",
    "mention_share",
    "per_1000",
    "first_sentence",
    "first_position",
    "statements",
    "voice_share",
]


def actor_salience(
    annotations: Iterable[Annotation], codebook: Codebook, *, lead_sentences: int = 2, window: int = 8
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Actor salience per document and every attributed statement.

    Returns ``(actors, statements)``. ``actors`` has one row per document × actor of the codebook
    (zeros included), columns ``doc_id, language, actor, kind, mentions, mention_share`` (of all
    actor mentions in the document), ``per_1000`` (per counted token), ``first_sentence`` (-1 when
    not mentioned), ``first_position`` (``headline/lead`` when first mentioned in the first
    ``lead_sentences`` sentences, else ``body``; "" when not mentioned), ``statements`` (speech
    verbs attributed to the actor) and ``voice_share`` (of the document's attributed statements).
    ``statements`` has columns ``doc_id, language, sentence, actor, verb, distance, via, text``
    (see :func:`attribute_statements`).
    """
    kinds = {e.id: e.family for e in codebook.actors}
    persons = frozenset(e.id for e in codebook.actors if e.family == "person")
    records, said = [], []
    for a in annotations:
        mentions: dict[str, int] = dict.fromkeys(kinds, 0)
        first: dict[str, int] = {}
        for s, hits in enumerate(a.actors):
            for h in hits:
                mentions[h.entry] += 1
                first.setdefault(h.entry, s)
        statements = attribute_statements(a, window, persons)
        voice = dict.fromkeys(kinds, 0)
        for s, actor, verb, distance, via in statements:
            if actor in voice:
                voice[actor] += 1
            said.append((a.doc_id, a.language, s, actor, verb, distance, via, _sentence_text(a, s)))
        total_mentions = sum(mentions.values())
        attributed = sum(voice.values())
        tokens = a.tokens
        for actor, kind in kinds.items():
            m = mentions[actor]
            position = "" if actor not in first else (LEAD if first[actor] < lead_sentences else BODY)
            records.append(
                (
                    a.doc_id,
                    a.language,
                    actor,
                    kind,
                    m,
                    m / total_mentions if total_mentions else 0.0,
                    1000.0 * m / tokens if tokens else 0.0,
                    first.get(actor, -1),
                    position,
                    voice[actor],
                    voice[actor] / attributed if attributed else 0.0,
                )
            )
    return pd.DataFrame(records, columns=ACTOR_COLUMNS), pd.DataFrame(said, columns=STATEMENT_COLUMNS)


def _sentence_text(annotation: Annotation, s: int, limit: int = 160) -> str:
    """The sentence as written (tokens joined by spaces), cut at ``limit`` characters."""
    text = " ".join(annotation.surface[s])
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


#: Annotation sections :func:`entry_matrix` counts (``concepts``: the concept axis, concepts and actors).
ENTRY_SECTIONS = ("concepts", "actors")


def entry_matrix(
    annotations: Iterable[Annotation], *, section: str = "concepts", vocab: Sequence[str] | None = None
) -> DocTermMatrix:
    """Codebook entries per document as a document × entry :class:`~analysis.text.dtm.DocTermMatrix`:
    the shape of the document-term matrix, with entry ids for terms (quanteda's ``dfm_lookup``), so
    keyness, contrasts and time series take one input type for words and codebook entries.

    Rows: documents in the order given; features: the entry ids found, sorted (``vocab`` fixes
    them, e.g. every entry of the codebook); cells: hits of the entry in the document (``section``
    ``concepts``: the concept axis, concepts and actors; ``actors``: actor mentions). Sparse CSR
    int64; ``docvars`` is empty (indexed by doc id): attach the metadata with
    :func:`analysis.text.dtm.reindex_rows`.

    >>> from analysis.framing.codebook import parse_codebook
    >>> from analysis.text.tokens import TermRules
    >>> cb = parse_codebook("concepts:\\n  trade: {vi: [thương_mại]}\\n  sea: {vi: [biển]}\\n")
    >>> docs = [PreparedDocument("d1", "vi", [[["thương_mại", "biển", "thương_mại", "."]]]),
    ...         PreparedDocument("d2", "vi", [[["Tốt", "."]]])]
    >>> m = entry_matrix([annotate(d, TermRules({}), cb) for d in docs])
    >>> m.vocab, m.row_ids, m.counts.toarray().tolist()
    (['sea', 'trade'], ['d1', 'd2'], [[1, 2], [0, 0]])
    """
    if section not in ENTRY_SECTIONS:
        raise ValueError(f"section = {section!r}: use one of {', '.join(ENTRY_SECTIONS)}")
    return _entry_matrix(((a.doc_id, _entries(getattr(a, section))) for a in annotations), section, vocab)


def _entry_matrix(
    rows: Iterable[tuple[str, Sequence[str]]], section: str, vocab: Sequence[str] | None = None
) -> DocTermMatrix:
    """:func:`entry_matrix` from ``(doc_id, entry ids of its hits)`` rows already drawn from the annotations."""
    matrix = build_dtm(rows, None, vocab)
    matrix.history = [f"entry_matrix(section={section})"]
    return matrix


def _entries(per_sentence: list[list[Hit]]) -> list[str]:
    """The entry ids of a document's hits, sentence by sentence."""
    return [h.entry for hits in per_sentence for h in hits]


def concept_counts(annotations: Iterable[Annotation]) -> pd.DataFrame:
    """Concept-axis hits per document as a dense (documents × concept ids) table, columns sorted:
    :func:`entry_matrix` through :func:`analysis.text.dtm.to_frame`, for callers that take a table."""
    return to_frame(entry_matrix(annotations))


# ------------------------------------------------------------------- one streamed pass

#: Documents annotated at a time by :func:`annotation_tables`: their annotations (about 36 KB a
#: document: a key per token, hits per sentence) are reduced to table rows, then released.
CHUNK_DOCUMENTS = 256


@dataclass
class AnnotationTables:
    """Every per-document result the framing stage draws from the codebook hits, without the hits.

    ``coverage``, ``unmapped``: :func:`annotation_coverage`; ``units``: :func:`frame_salience` with
    the study's unit kind, ``documents``: with ``kind="document"``; ``actors``, ``statements``:
    :func:`actor_salience`; ``concepts``: :func:`entry_matrix` (documents × concept ids, sparse);
    ``sentences`` and ``languages``: per ``doc_id``, the number of sentences (the cross-language
    rate's denominator) and the language.
    """

    coverage: pd.DataFrame
    unmapped: pd.DataFrame
    units: pd.DataFrame
    documents: pd.DataFrame
    actors: pd.DataFrame
    statements: pd.DataFrame
    concepts: DocTermMatrix
    sentences: dict[str, int]
    languages: dict[str, str]


@dataclass
class ChunkTables:
    """:func:`chunk_tables` of one chunk of documents: its rows of every :class:`AnnotationTables`
    table, its coverage counts, and per document its concept counts, sentences and language.
    ``units`` is None when the unit is the document (the rows of ``documents``)."""

    tally: CoverageTally
    units: pd.DataFrame | None
    documents: pd.DataFrame
    actors: pd.DataFrame
    statements: pd.DataFrame
    concepts: list[tuple[str, list[str]]]
    sentences: dict[str, int]
    languages: dict[str, str]


def chunk_tables(
    documents: list[PreparedDocument],
    rules: TermRules,
    codebook: Codebook,
    *,
    kind: str = "document",
    window: int = 3,
    min_hits: int = 1,
    lead_sentences: int = 2,
    voice_window: int = 8,
) -> ChunkTables:
    """:func:`annotate` a chunk of documents and reduce the hits to their table rows: a pure
    function of its arguments (picklable, so a chunk can be computed in another process or on a
    Dask worker), whose result is a few rows per document instead of the annotations (a key per
    token and hits per sentence: about 36 KB a document)."""
    batch = [annotate(doc, rules, codebook) for doc in documents]
    tally = CoverageTally()
    concepts: list[tuple[str, list[str]]] = []  # (doc_id, concept ids of its hits): rows of the entry matrix
    sentences: dict[str, int] = {}
    languages: dict[str, str] = {}
    for a in batch:
        frames = list(zip(*a.frames.values())) if a.frames else [()] * len(a.keys)
        tally.add(a.language, a.keys, a.concepts, frames, a.actors)
        concepts.append((a.doc_id, _entries(a.concepts)))
        sentences[a.doc_id] = len(a.keys)
        languages[a.doc_id] = a.language
    doc_rows = frame_salience(batch, codebook, "document", min_hits=min_hits)
    units = None if kind == "document" else frame_salience(batch, codebook, kind, window=window, min_hits=min_hits)
    found, said = actor_salience(batch, codebook, lead_sentences=lead_sentences, window=voice_window)
    return ChunkTables(tally, units, doc_rows, found, said, concepts, sentences, languages)


def serial_chunks(
    chunks: Iterable[list[PreparedDocument]], rules: TermRules, codebook: Codebook, settings: dict
) -> Iterator[ChunkTables]:
    """:func:`chunk_tables` of each chunk here, one after the other (the default of
    :func:`annotation_tables`; :func:`analysis.framing.distributed.dask_chunks` computes them on a
    Dask cluster)."""
    for documents in chunks:
        yield chunk_tables(documents, rules, codebook, **settings)


#: How :func:`annotation_tables` computes the chunks: ``(chunks, rules, codebook, settings)`` ->
#: ``chunk_tables(chunk, rules, codebook, **settings)`` of each chunk, in chunk order.
ChunkMapper = Callable[[Iterable[list[PreparedDocument]], TermRules, Codebook, dict], Iterable[ChunkTables]]


def _chunked(documents: Iterable[PreparedDocument], chunk: int) -> Iterator[list[PreparedDocument]]:
    """Consecutive lists of ``chunk`` documents (the last may be shorter); one empty list when there is none."""
    batch: list[PreparedDocument] = []
    emitted = False
    for doc in documents:
        batch.append(doc)
        if len(batch) == chunk:
            yield batch
            batch, emitted = [], True
    if batch or not emitted:
        yield batch


def annotation_tables(
    documents: Iterable[PreparedDocument],
    rules: TermRules,
    codebook: Codebook,
    *,
    kind: str = "document",
    window: int = 3,
    min_hits: int = 1,
    lead_sentences: int = 2,
    voice_window: int = 8,
    top_n: int = 25,
    chunk: int = CHUNK_DOCUMENTS,
    mapper: ChunkMapper | None = None,
) -> AnnotationTables:
    """:func:`annotate` every document and reduce the hits to the framing stage's tables in one
    pass, ``chunk`` documents at a time: the same tables (same rows, same dtypes) as applying
    :func:`annotation_coverage`, :func:`frame_salience`, :func:`actor_salience` and
    :func:`concept_counts` to the list of every annotation, but memory holds one chunk's
    annotations, not the corpus's (a key per token and hits per sentence: about 36 KB a document,
    360 MB at 10,000 articles, kept until the stage ended). ``documents`` may be a lazy stream
    (:class:`analysis.text.prepare.PreparedSequence` reads one document at a time).

    Each chunk is reduced by :func:`chunk_tables`; ``mapper`` says where (:data:`ChunkMapper`:
    :func:`serial_chunks`, here, when None). The chunks' rows are stacked and their coverage
    counts added in chunk order, so where a chunk ran cannot change the tables.

    >>> from analysis.framing.codebook import parse_codebook
    >>> cb = parse_codebook("frames:\\n  issue:\\n    trade: {vi: [thương_mại]}\\n")
    >>> docs = [PreparedDocument(f"d{i}", "vi", [[["Thúc_đẩy", "thương_mại", "."], ["Tốt", "."]]]) for i in range(3)]
    >>> t = annotation_tables(docs, TermRules({}), cb, chunk=2)
    >>> t.documents[["doc_id", "hits", "tokens"]].values.tolist(), t.sentences["d2"]
    ([['d0', 1, 3], ['d1', 1, 3], ['d2', 1, 3]], 2)
    """
    if chunk < 1:
        raise ValueError(f"chunk = {chunk}: annotate at least one document at a time")
    settings = {
        "kind": kind,
        "window": window,
        "min_hits": min_hits,
        "lead_sentences": lead_sentences,
        "voice_window": voice_window,
    }
    tally = CoverageTally()
    units, docs, actors, statements = [], [], [], []
    concepts: list[tuple[str, list[str]]] = []  # (doc_id, concept ids of its hits): rows of the entry matrix
    sentences: dict[str, int] = {}
    languages: dict[str, str] = {}
    for part in (mapper or serial_chunks)(_chunked(documents, chunk), rules, codebook, settings):
        tally.merge(part.tally)
        concepts.extend(part.concepts)
        sentences.update(part.sentences)
        languages.update(part.languages)
        docs.append(part.documents)
        units.append(part.documents if part.units is None else part.units)
        actors.append(part.actors)
        statements.append(part.statements)
    coverage, unmapped = tally.tables(top_n)
    documents = _stack(docs)
    return AnnotationTables(
        coverage,
        unmapped,
        documents if kind == "document" else _stack(units),  # one table, not two equal ones
        documents,
        _stack(actors),
        _stack(statements),
        _entry_matrix(concepts, "concepts"),
        sentences,
        languages,
    )


def _stack(parts: list[pd.DataFrame]) -> pd.DataFrame:
    """The chunks' tables as one, as if built whole: the parts with rows, stacked (an empty part
    would turn its columns' dtypes to object), or the first part when none has rows."""
    full = [p for p in parts if len(p)]
    if not full:
        return parts[0]
    return full[0] if len(full) == 1 else pd.concat(full, ignore_index=True)


# ------------------------------------------------------------------------ group comparisons
