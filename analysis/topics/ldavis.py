"""Optional interactive topic page: LDAvis (Sievert & Shirley 2014) through pyLDAvis.

Why: a reader of a topic model wants to move between topics and re-rank their terms by
relevance, ``lambda * log p(w|t) + (1 - lambda) * log(p(w|t) / p(w))``, which static tables
cannot offer. The page is drawn from the fitted model's plain arrays (phi, theta), the units'
lengths and the corpus term frequencies, exactly the inputs of ``pyLDAvis.prepare``; nothing
is re-fitted.

pyLDAvis is an optional dependency (``pip install -e '.[vis]'``): :func:`require_pyldavis`
says so in one line when the study asks for the page and the package is missing.

Reproducible bytes: topics keep the toolkit's numbering (``sort_topics=False``, topic 1 is
row 1 of ``topic_word.npy``), the inter-topic map is pyLDAvis's default Jensen-Shannon PCoA
(an eigen-decomposition, no random start), one process (``n_jobs=1``), and the page's element
id is fixed instead of pyLDAvis's random one. The page loads d3 and LDAvis's JavaScript from
pyLDAvis's default web addresses when opened.
"""

from __future__ import annotations

import numpy as np

from ..errors import InputError


def require_pyldavis(where: str) -> None:
    """Raise :class:`InputError` (one line, with the fix) when pyLDAvis cannot be imported."""
    try:
        import pyLDAvis  # noqa: F401
    except ImportError:
        raise InputError(
            where,
            "[topics] ldavis = true needs the optional package pyLDAvis, which is not installed",
            "install it with  .venv/bin/pip install -e '.[vis]'  or set ldavis = false",
        ) from None


def ldavis_data(topic_word: np.ndarray, doc_topic: np.ndarray, counts, vocab, *, relevance_terms: int = 30):
    """``pyLDAvis.prepare`` of one model (its ``PreparedData``).

    ``topic_word`` (K, V) and ``doc_topic`` (units, K) are the fitted distributions; ``counts``
    the (units, V) term counts the model was fitted on: its row sums are the unit lengths, its
    column sums the term frequencies; ``vocab`` the V terms.
    """
    import pyLDAvis

    counts = counts.tocsr() if hasattr(counts, "tocsr") else np.asarray(counts)
    return pyLDAvis.prepare(
        topic_term_dists=np.asarray(topic_word, dtype=np.float64),
        doc_topic_dists=np.asarray(doc_topic, dtype=np.float64),
        doc_lengths=np.asarray(counts.sum(axis=1)).ravel().astype(np.int64),
        vocab=list(vocab),
        term_frequency=np.asarray(counts.sum(axis=0)).ravel().astype(np.int64),
        R=min(relevance_terms, len(vocab)),
        sort_topics=False,
        start_index=1,
        n_jobs=1,
    )


def ldavis_page(
    topic_word: np.ndarray, doc_topic: np.ndarray, counts, vocab, *, name: str, relevance_terms: int = 30
) -> str:
    """The LDAvis HTML page of one model (see :func:`ldavis_data`); ``name`` names its element."""
    import pyLDAvis

    return pyLDAvis.prepared_data_to_html(
        ldavis_data(topic_word, doc_topic, counts, vocab, relevance_terms=relevance_terms), visid=f"ldavis_{name}"
    )
