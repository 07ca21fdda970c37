"""Boilerplate the corpus teaches: recurring lines of one outlet, related-article teasers, and
near-duplicate copies (pure: documents in, rules and decisions out; nothing is read or written).

Rule files cannot know every site. A line that recurs in many documents of one outlet is site
chrome ("Bản quyền thuộc về ...", "Theo TTXVN", "Share this with Facebook"): an article's own
sentences do not repeat across articles. A normalised line found in at least ``min_documents``
documents *and* in at least ``min_share`` of the documents of one outlet (``[text]
learned_min_documents`` and ``learned_min_share``; both thresholds, so that a large outlet needs
many repeats and a small one cannot learn from two articles) becomes a learned rule.

Normalisation (:func:`normalise_line`): NFC, whitespace runs to one space, case-folded. Digits are
kept: lines that differ only in numbers ("VN-Index tăng 3 điểm", "Bình luận (12)") are often
templated *content* of one outlet, and the rule files already catch the counters. Lines without a
letter (scores, "***") are never learned. Counting is per document (a line repeated within one
article counts once). Without an ``outlet`` column every document of a language is one outlet.

The learned lines become ordinary ``drop_line`` rules appended to the rule file's text (one rule
per language and outlet, named ``learned: <outlet>``, its pattern the alternation of the outlet's
lines with flexible whitespace and digits), so every cut is logged per document in the cleaning
log with the rule that matched, and the rules enter the preparation cache key like the file's. A
learned rule applies only to the outlet that taught it (``outlets = [...]`` in the rule,
:class:`analysis.text.clean.Rule`): the same line in another outlet's article, once, is that
article's text (a quotation, a credit), and another outlet's own chrome is learned from that
outlet. Documents without an ``outlet`` column are one outlet (``""``) per language.

Related-article teasers (:data:`TEASER_RULE`): a headline followed by a date in brackets, on a
line of its own, as VNTC's "Các tin khác" lists print them ("Chùm ảnh hoa Đà Lạt(30/11/2004)").
A line ending in a sentence mark before the bracket ("... họp tại Hà Nội (30/11)." ) is a sentence
and is kept.

Near-duplicate copies (:func:`duplicates_to_drop`): syndicated or re-published copies inflate every
count. With ``[corpus] drop_duplicates = true`` a document whose word-shingle Jaccard with an
*earlier* kept document of the same language reaches ``[framing] duplicate_jaccard`` is dropped
before counting (the first copy in corpus order is kept, each drop logged), using the
near-duplicate finder of the framing stage (:func:`analysis.text.duplicates.near_duplicates`, Broder 1997).
"""

from __future__ import annotations

import re
import tempfile
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from ..corpus.documents import Corpus
from ..corpus.sources import read_corpus
from ..errors import InputError
from ..study.settings import Study

TEASER_NAME = "learned: related-article teaser"
#: A headline (5-200 characters, no sentence mark at its end) followed by (dd/mm) or (dd/mm/yyyy).
TEASER_PATTERN = (
    r"^\s*\S.{3,199}?(?<![.!?:;,])\s*[-–]?\s*\((?:0?[1-9]|[12]\d|3[01])/(?:0?[1-9]|1[0-2])(?:/(?:\d{2}|\d{4}))?\)\s*$"
)
TEASER_RULE = f"""
[[rule]]
name = "{TEASER_NAME}"
kind = "drop_line"
pattern = '{TEASER_PATTERN}'
languages = ["vi", "en"]
description = "related-article teaser: a headline followed by its date in brackets ('Chùm ảnh hoa Đà Lạt(30/11/2004)')"
"""

_LETTER = re.compile(r"[^\W\d_]")


def normalise_line(line: str) -> str:
    """The form in which lines are counted.

    >>> normalise_line("  Chia  sẻ  BÀI VIẾT ")
    'chia sẻ bài viết'
    """
    # str.split() splits on exactly the characters \s matches (Unicode whitespace), twice as fast as re.sub
    return " ".join(unicodedata.normalize("NFC", line).split()).casefold()


@dataclass(frozen=True)
class LearnedLine:
    """A recurring line: its language and outlet, normalised text, documents holding it and their share."""

    language: str
    outlet: str
    line: str
    documents: int
    outlet_documents: int

    @property
    def share(self) -> float:
        return self.documents / self.outlet_documents


def learn_lines(
    documents: Iterable[tuple[str, str, str]], min_documents: int = 5, min_share: float = 0.1
) -> list[LearnedLine]:
    """Lines recurring in ``>= min_documents`` documents and ``>= min_share`` of one outlet.

    Parameters
    ----------
    documents : iterable of (language, outlet, text), read once (one text in memory at a time)
    min_documents : int, at least 2
    min_share : float in (0, 1]

    Returns
    -------
    list of LearnedLine, sorted by language, outlet, then descending documents and line.
    """
    if min_documents < 2 or not 0 < min_share <= 1:
        raise ValueError("min_documents must be at least 2 and min_share in (0, 1]")
    counts: dict[tuple[str, str], Counter] = defaultdict(Counter)
    sizes: Counter = Counter()
    for language, outlet, text in documents:
        group = (language, outlet)
        sizes[group] += 1
        counts[group].update({normalise_line(line) for line in text.split("\n") if _LETTER.search(line)})
    learned = []
    for (language, outlet), counter in counts.items():
        n = sizes[(language, outlet)]
        needed = max(min_documents, min_share * n)
        for line, k in counter.items():
            if k >= needed:
                learned.append(LearnedLine(language, outlet, line, k, n))
    return sorted(learned, key=lambda x: (x.language, x.outlet, -x.documents, x.line))


def line_pattern(line: str) -> str:
    """A regular expression (without anchors) matching every raw line whose :func:`normalise_line`
    is ``line`` (case-insensitively: use it with ``(?i)``).

    >>> import re
    >>> bool(re.fullmatch(line_pattern("chia sẻ bài viết"), "Chia   sẻ BÀI VIẾT", re.IGNORECASE))
    True
    """
    return r"\s+".join(re.escape(word) for word in line.split(" "))


def rules_toml(learned: Iterable[LearnedLine], teasers: bool = True) -> str:
    """TOML ``[[rule]]`` tables for the learned lines (one per language and outlet, scoped to that
    outlet) and the teaser rule (every outlet).

    Appended to the rule file's text, so :func:`analysis.text.clean.parse_rules` reads them like any
    rule and the preparation cache key covers them. Patterns are case-insensitive (``(?i)``).
    """
    groups: dict[tuple[str, str], list[LearnedLine]] = defaultdict(list)
    for item in learned:
        groups[(item.language, item.outlet)].append(item)
    out = [TEASER_RULE] if teasers else []
    for (language, outlet), items in sorted(groups.items()):
        alternatives = "|".join(f"(?:{line_pattern(item.line)})" for item in items)
        pattern = f"(?i)^\\s*(?:{alternatives})\\s*$"
        examples = "; ".join(f"{item.line[:40]} ({item.documents}/{item.outlet_documents})" for item in items[:3])
        out.append(
            "\n[[rule]]\n"
            f"name = {_toml_string('learned: ' + outlet)}\n"
            'kind = "drop_line"\n'
            f"pattern = {_toml_string(pattern)}\n"
            f"languages = [{_toml_string(language)}]\n"
            f"outlets = [{_toml_string(outlet)}]\n"
            f"description = {_toml_string(f'{len(items)} line(s) recurring in this outlet: {examples}')}\n"
        )
    return "".join(out)


def _toml_string(value: str) -> str:
    """A TOML basic string (JSON's escaping is valid TOML for these characters)."""
    import json

    return json.dumps(value, ensure_ascii=False)


def duplicates_to_drop(
    documents: Iterable[tuple[str, str, str]], shingle_size: int = 5, threshold: float = 0.5
) -> list[tuple[str, str, float]]:
    """Near-duplicate copies to drop, the first copy in corpus order kept.

    ``documents``: (doc_id, language, text) in corpus order. A document is dropped when its
    shingle Jaccard with an earlier *kept* document of its language is at least ``threshold``
    (:func:`analysis.text.duplicates.near_duplicates` on whitespace-split words). Returns
    ``(dropped, kept, jaccard)`` in corpus order, each dropped document with its most similar kept one.
    """
    from .duplicates import near_duplicates

    order: dict[str, int] = {}

    def words():
        for doc_id, language, text in documents:
            order[doc_id] = len(order)
            yield doc_id, language, text.split()

    pairs = near_duplicates(words(), k=shingle_size, threshold=threshold, min_containment=threshold)
    pairs = pairs[pairs["near_duplicate"]]
    partners: dict[str, list[tuple[str, float]]] = defaultdict(list)
    for a, b, jaccard in zip(pairs["doc_a"], pairs["doc_b"], pairs["jaccard"]):
        first, second = (a, b) if order[a] < order[b] else (b, a)
        partners[second].append((first, float(jaccard)))
    dropped: dict[str, tuple[str, float]] = {}
    for doc_id in sorted(partners, key=order.__getitem__):
        kept = [(other, j) for other, j in partners[doc_id] if other not in dropped]
        if kept:
            other, jaccard = max(kept, key=lambda x: (x[1], -order[x[0]]))
            dropped[doc_id] = (other, jaccard)
    return [(doc_id, other, jaccard) for doc_id, (other, jaccard) in dropped.items()]


# ------------------------------------------------------------------------------- wiring

LEARN_VERSION = "2"


def learned_corpus(study, corpus, preparation, *, cache=None):
    """The corpus and preparation a study's stages use: near-duplicate copies dropped when
    ``[corpus] drop_duplicates``, learned rules appended when ``[text] learn_boilerplate``.

    Both need every text once (canonical text, as preparation sees it); the outcome is kept in
    the cache (``cache``: an :class:`analysis.files.PreparedCache`) under a key of the texts' hashes,
    languages, outlets and thresholds, so later stages do not read the texts again.
    """
    import dataclasses
    import hashlib
    import json
    import logging

    from .normalize import canonical_text

    log = logging.getLogger("analysis")
    text_settings = study.text
    learn = getattr(text_settings, "learn_boilerplate", False)
    drop = getattr(study.corpus, "drop_duplicates", False)
    if not (learn or drop):
        return corpus, preparation
    outlets = (
        corpus.docvars["outlet"].astype(str).tolist() if "outlet" in corpus.docvars.columns else [""] * len(corpus)
    )
    settings = {
        "version": LEARN_VERSION,
        "learn": learn,
        "drop": drop,
        "min_documents": text_settings.learned_min_documents,
        "min_share": text_settings.learned_min_share,
        "shingle_size": study.framing.shingle_size,
        "jaccard": study.framing.duplicate_jaccard,
        "documents": [[d.doc_id, d.language, outlet, d.text_sha256] for d, outlet in zip(corpus.documents, outlets)],
    }
    key = "learned-" + hashlib.sha256(json.dumps(settings, ensure_ascii=False, sort_keys=True).encode()).hexdigest()
    stored = cache.get(key) if cache is not None else None
    if stored is None:

        def texts():
            for document, outlet in zip(corpus.documents, outlets):
                where = getattr(document, "where", "") or (document.meta or {}).get(
                    "file", document.doc_id
                )  # as preparation names it
                yield document.doc_id, document.language, outlet, canonical_text(document.text, where=where)

        dropped = (
            duplicates_to_drop(
                ((d, lang, text) for d, lang, _, text in texts()),
                study.framing.shingle_size,
                study.framing.duplicate_jaccard,
            )
            if drop
            else []
        )
        gone = {d for d, _, _ in dropped}
        learned = (
            learn_lines(
                ((lang, outlet, text) for d, lang, outlet, text in texts() if d not in gone),
                text_settings.learned_min_documents,
                text_settings.learned_min_share,
            )
            if learn
            else []
        )
        stored = {
            "dropped": dropped,
            "rules": rules_toml(learned) if learn else "",
            "lines": [[x.language, x.outlet, x.line, x.documents, x.outlet_documents] for x in learned],
        }
        if cache is not None:
            cache.put(key, stored)
    for doc_id, kept, jaccard in stored["dropped"]:
        log.info(
            "drop_duplicates: %s dropped (near-duplicate of %s, shingle Jaccard %.3f; the first copy is kept)",
            doc_id,
            kept,
            jaccard,
        )
    for language, outlet, line, k, n in stored["lines"]:
        log.info("learned boilerplate (%s, outlet %r): %r in %d of %d documents", language, outlet, line, k, n)
    if stored["dropped"]:
        gone = {d for d, _, _ in stored["dropped"]}
        keep = [i for i, d in enumerate(corpus.documents) if d.doc_id not in gone]
        corpus = dataclasses.replace(
            corpus, documents=[corpus.documents[i] for i in keep], docvars=corpus.docvars.iloc[keep]
        )
    if stored["rules"]:
        preparation = dataclasses.replace(
            preparation,
            rules_text=preparation.rules_text.rstrip("\n") + "\n" + stored["rules"],
            rules_label=f"{preparation.rules_label} + learned",
        )
    return corpus, preparation


def learned_problems(study, corpus, preparation) -> list:
    """What the corpus-learned boilerplate would break, found by ``validate`` before any stage
    writes: one :class:`~analysis.errors.InputError` per problem.

    The learned rules (and the near-duplicate drops) are worked out as preparation will
    (:func:`learned_corpus`, without the cache); the rule file and the learned rules must parse
    together, and no document may lose its whole text to them (preparation would stop there).
    ``corpus`` must have its texts readable (the caller reads a table into a scratch cache).
    Every document has already passed the rule file alone, so what fails here fails because of
    what was learned; the fix says which settings decide it.
    """
    from ..errors import InputError
    from .prepare import clean_document

    if not (getattr(study.text, "learn_boilerplate", False) or getattr(study.corpus, "drop_duplicates", False)):
        return []
    try:
        kept, learned = learned_corpus(study, corpus, preparation, cache=None)
        learned.rules  # noqa: B018 (parses the rule file and the learned rules together)
    except InputError as exc:
        return [exc]
    if not len(kept):
        return [
            InputError(
                str(study.source),
                "[corpus] drop_duplicates drops every document",
                "set drop_duplicates = false or check [framing] duplicate_jaccard",
            )
        ]
    problems = []
    fix = (
        "raise [text] learned_min_documents or learned_min_share, or set learn_boilerplate = "
        "false (the document is only lines its outlet repeats)"
    )
    for document in kept:
        try:
            clean_document(document, learned)
        except InputError as exc:
            problems.append(InputError(exc.where, f"{exc.problem} (with the boilerplate learned from the corpus)", fix))
    return problems


def learned_problems_of(study: Study, corpus: Corpus, preparation) -> list[InputError]:
    """:func:`analysis.text.learned_boilerplate.learned_problems` for ``validate`` (one problem each).

    A table source read without its texts (``spill=False``) is read again into a scratch cache
    in a temporary folder, removed afterwards (nothing is written in the project), so the
    learned rules can be tried on its texts; those texts get the rule-file checks of
    :func:`analysis.text.prepare.check_documents` too.
    """
    import dataclasses

    from ..corpus.doctable import PackedDocument
    from .learned_boilerplate import learned_problems
    from .prepare import check_documents

    if not (study.text.learn_boilerplate or study.corpus.drop_duplicates):
        return []
    if all(not isinstance(d, PackedDocument) or d.pack for d in corpus.documents):
        return learned_problems(study, corpus, preparation)
    with tempfile.TemporaryDirectory(prefix="analysis-validate-") as scratch:
        scratch_study = dataclasses.replace(study, run=dataclasses.replace(study.run, cache=scratch))
        full = read_corpus(scratch_study)
        check_documents(full.documents, preparation)
        return learned_problems(scratch_study, full, preparation)
