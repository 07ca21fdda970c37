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


def unit_groups(paragraph_sizes: list[int], kind: str = "document", window: int = 3) -> list[list[int]]:
    """The sentence indices of each unit: all (document), each paragraph's, or windows of ``window``.

    The one place units are cut (:func:`make_units` and :func:`analysis.framing.measures.unit_sentences`).

    >>> unit_groups([2, 1], "paragraph"), unit_groups([2, 1], "sentences", 2)
    ([[0, 1], [2]], [[0, 1], [2]])
    """
    n = sum(paragraph_sizes)
    if kind == "document":
        return [list(range(n))]
    if kind == "paragraph":
        groups, start = [], 0
        for size in paragraph_sizes:
            groups.append(list(range(start, start + size)))
            start += size
        return groups
    if kind == "sentences":
        return [list(range(s, min(s + window, n))) for s in range(0, n, window)]
    raise ValueError(f"unknown unit kind {kind!r}")


def unit_id(doc_id: str, kind: str, index: int) -> str:
    """``doc_id`` (document), ``doc_id#p<index>`` (paragraph) or ``doc_id#w<index>`` (sentence window)."""
    return doc_id if kind == "document" else f"{doc_id}#{'p' if kind == 'paragraph' else 'w'}{index}"


def make_units(
    doc: PreparedDocument, rules: TermRules, *, kind: str = "document", window: int = 3, with_text: bool = True
) -> list[Unit]:
    """Cut ``doc`` into units and return each with its counted terms (and its text, unless
    ``with_text`` is false: counting needs only the terms).

    >>> from analysis.text.tokens import PreparedDocument, TermRules
    >>> doc = PreparedDocument("d", "vi", [[["Hai", "nước", "."], ["Hợp_tác", "."]], [["Hòa_bình", "."]]])
    >>> [u.terms for u in make_units(doc, TermRules({}), kind="paragraph")]
    [('hai', 'nước', 'hợp_tác'), ('hòa_bình',)]
    """
    per_sentence = term_sentences(doc, rules)
    sentences = list(doc.sentences())
    units = []
    for index, members in enumerate(unit_groups([len(p) for p in doc.paragraphs], kind, window)):
        terms = tuple(t for s in members for t in per_sentence[s] if t is not None)
        text = " ".join(tok for s in members for tok in sentences[s]) if with_text else ""
        units.append(Unit(unit_id(doc.doc_id, kind, index), doc.doc_id, index, terms, text))
    return units
