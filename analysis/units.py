"""Units of analysis cut from prepared documents: the document, the paragraph, or windows of N
consecutive sentences (non-overlapping).

Why: the seed articles are long single paragraphs; topic models and per-unit framing need more,
shorter units, and the unit is a recorded setting so results say what they were computed on.
"""

from __future__ import annotations

from dataclasses import dataclass

from .tokens import PreparedDocument, TermRules, term_sentences


@dataclass(frozen=True)
class Unit:
    """One unit: ``unit_id`` is ``doc_id`` (document), ``doc_id#p3`` or ``doc_id#w3`` (0-based)."""

    unit_id: str
    doc_id: str
    index: int
    terms: tuple[str, ...]
    text: str  # surface tokens joined by spaces, for reading (representative units, concordance)


def make_units(doc: PreparedDocument, rules: TermRules, kind: str = "document", window: int = 3, with_text: bool = True) -> list[Unit]:
    """Cut ``doc`` into units and return each with its counted terms (and its text, unless
    ``with_text`` is false: counting needs only the terms).

    >>> from analysis.tokens import PreparedDocument, TermRules
    >>> doc = PreparedDocument("d", "vi", [[["Hai", "nước", "."], ["Hợp_tác", "."]], [["Hòa_bình", "."]]])
    >>> [u.terms for u in make_units(doc, TermRules({}), "paragraph")]
    [('hai', 'nước', 'hợp_tác'), ('hòa_bình',)]
    """
    per_sentence = term_sentences(doc, rules)
    sentences = list(doc.sentences())
    if kind == "document":
        groups = [list(range(len(sentences)))]
    elif kind == "paragraph":
        groups, start = [], 0
        for paragraph in doc.paragraphs:
            groups.append(list(range(start, start + len(paragraph))))
            start += len(paragraph)
    elif kind == "sentences":
        groups = [list(range(s, min(s + window, len(sentences)))) for s in range(0, len(sentences), window)]
    else:
        raise ValueError(f"unknown unit kind {kind!r}")
    units = []
    for index, members in enumerate(groups):
        terms = tuple(t for s in members for t in per_sentence[s] if t is not None)
        text = " ".join(tok for s in members for tok in sentences[s]) if with_text else ""
        unit_id = doc.doc_id if kind == "document" else f"{doc.doc_id}#{'p' if kind == 'paragraph' else 'w'}{index}"
        units.append(Unit(unit_id, doc.doc_id, index, terms, text))
    return units
