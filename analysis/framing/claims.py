"""Per-document values of the headline claims, under a chosen denominator: what the multiverse compares.

A frame or concept comparison between languages compares the mean over documents of one value per
document. The framing tables use hits per 100 sentences across languages (sentences survive
translation; :func:`analysis.framing.equivalence.group_rate`); a reviewer could have chosen hits per
1,000 counted tokens, raw hits per document, or presence. :func:`claim_values` gives each, from
the annotations (:func:`analysis.framing.measures.annotate`), for every frame or every concept of
the codebook, as a documents × items matrix for :func:`analysis.stats.specification.claim_estimates`.
"""

from __future__ import annotations

from typing import Iterable, Sequence

import numpy as np

from ..study.settings import DENOMINATORS
from .codebook import Codebook
from .measures import Annotation, unit_sentences


def claim_items(codebook: Codebook, kind: str) -> tuple[list[str], list[str]]:
    """The items of a claim kind and their multiplicity families: every frame (family = its frame
    family) or every entry of the concept axis (concepts and actors, one family ``concepts``)."""
    if kind == "frames":
        return [e.id for e in codebook.frames], [e.family for e in codebook.frames]
    if kind == "concepts":
        ids = sorted({e.id for e in (*codebook.concepts, *codebook.actors)})
        return ids, ["concepts"] * len(ids)
    raise ValueError(f"kind = {kind!r} must be 'frames' or 'concepts'")


def claim_values(
    annotations: Iterable[Annotation],
    codebook: Codebook,
    *,
    kind: str,
    denominator: str = "sentences",
    unit_kind: str = "document",
    window: int = 3,
    min_hits: int = 1,
) -> tuple[list[str], list[str], list[str], np.ndarray]:
    """One value per document and item: ``(doc_ids, items, families, values)``.

    ``denominator``:

    * ``sentences``: ``100 · hits / sentences`` (the framing tables' cross-language rate);
    * ``tokens``: ``1000 · hits / counted tokens`` (the within-language rate);
    * ``document``: hits (the document is the exposure);
    * ``presence``: the share of the document's units (``unit_kind``, ``window``: cut as
      :func:`analysis.text.units.make_units` cuts them) with at least ``min_hits`` hits; with
      document units, 0 or 1.

    A document without sentences (or counted tokens) has rate 0. ``min_hits``, ``unit_kind`` and
    ``window`` change only ``presence``.

    Examples
    --------
    >>> from analysis.framing.codebook import parse_codebook
    >>> from analysis.framing.measures import annotate
    >>> from analysis.text.tokens import PreparedDocument, TermRules
    >>> cb = parse_codebook("frames:\\n  issue:\\n    trade: {vi: [thương_mại]}\\n")
    >>> doc = PreparedDocument("d", "vi", [[["Thúc_đẩy", "thương_mại", "."], ["Hai", "nước", "."]]])
    >>> ids, items, families, v = claim_values([annotate(doc, TermRules({}), cb)], cb, kind="frames")
    >>> items, float(v[0, 0])
    (['trade'], 50.0)
    """
    if denominator not in DENOMINATORS:
        raise ValueError(f"denominator = {denominator!r} must be one of {', '.join(DENOMINATORS)}")
    items, families = claim_items(codebook, kind)
    column = {item: j for j, item in enumerate(items)}
    doc_ids: list[str] = []
    rows: list[np.ndarray] = []
    for a in annotations:
        per_sentence = (
            [[h for family in a.frames for h in a.frames[family][s]] for s in range(len(a.keys))]
            if kind == "frames"
            else a.concepts
        )
        row = np.zeros(len(items))
        if denominator == "presence":
            units = unit_sentences(a, unit_kind, window)
            for _, _, members in units:
                hits: dict[int, int] = {}
                for s in members:
                    for h in per_sentence[s]:
                        if h.entry in column:
                            hits[column[h.entry]] = hits.get(column[h.entry], 0) + 1
                for j, k in hits.items():
                    if k >= min_hits:
                        row[j] += 1
            row /= max(len(units), 1)
        else:
            for hits in per_sentence:
                for h in hits:
                    if h.entry in column:
                        row[column[h.entry]] += 1
            exposure = {"sentences": len(a.keys) / 100.0, "tokens": a.tokens / 1000.0, "document": 1.0}[denominator]
            row = row / exposure if exposure else np.zeros(len(items))
        doc_ids.append(a.doc_id)
        rows.append(row)
    values = np.vstack(rows) if rows else np.zeros((0, len(items)))
    return doc_ids, items, families, values


def selected_items(items: Sequence[str], kind: str, comparisons: Sequence[str]) -> list[str]:
    """The items of ``kind`` the study's ``[robustness] comparisons`` names (all of them for
    ``"frames"`` / ``"concepts"``; ``frame:<id>`` / ``concept:<id>`` one each); unknown ids are left out."""
    singular = kind[:-1]
    if kind in comparisons:
        return list(items)
    named = {c.split(":", 1)[1] for c in comparisons if c.startswith(f"{singular}:")}
    return [i for i in items if i in named]
