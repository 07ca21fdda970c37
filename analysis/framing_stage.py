"""Stage ``framing``: the edge that reads the study, computes framing metrics and writes them.

Read (prepared corpus, codebook) -> compute (:mod:`analysis.framing`, :mod:`analysis.keyness`,
:mod:`analysis.similarity`) -> draw (:mod:`analysis.plot_framing`) -> write (:mod:`analysis.io`).
The files written are exactly :func:`analysis.outputs.framing_outputs`.
"""

from __future__ import annotations

import logging
from pathlib import Path

from . import io
from .codebook import Codebook, parse_codebook
from .study import Study

log = logging.getLogger("analysis")


def codebook_text(study: Study) -> tuple[str, str]:
    """The study's codebook YAML text and its label (path, or the packaged default)."""
    return io.resource_text(study, study.framing.codebook, "codebook.yaml")


def load_codebook(study: Study) -> Codebook:
    """The study's validated codebook (``[framing] codebook``; "" = the packaged default).

    Patterns are checked against the study's stopwords: a stopword pattern can never match.
    """
    from .pipeline import load_term_rules

    text, label = codebook_text(study)
    rules = load_term_rules(study)
    return parse_codebook(text, label, rules.stopwords, rules.lemmatize_en)


def run_framing(study: Study, workers: int | None = None) -> list[Path]:
    """Stage ``framing`` (filled in below)."""
    raise NotImplementedError
