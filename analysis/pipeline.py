"""Old home of the stages and the notebook loaders, kept so older imports keep working.

New code imports from where things live now: :mod:`analysis.prepared` (``prepared_corpus``,
``PreparedStudy``, ``load_*``), one module per stage (:mod:`analysis.prepare_stage`,
:mod:`analysis.frequencies_stage`, :mod:`analysis.manifest_stage`, :mod:`analysis.appendix_stage`)
and :func:`analysis.textstat.cleaning_log`; notebooks use ``import analysis as va``.
"""

from .appendix_stage import run_appendix
from .frequencies_stage import run_frequencies
from .manifest_stage import PACKAGES, package_versions, run_manifest, stage_output_names
from .prepare_stage import run_prepare
from .prepared import PreparedStudy, load_preparation, load_stopwords, load_term_rules, prepared_corpus
from .textstat import cleaning_log

__all__ = [
    "PACKAGES", "PreparedStudy", "cleaning_log", "load_preparation", "load_stopwords", "load_term_rules", "package_versions",
    "prepared_corpus", "run_appendix", "run_frequencies", "run_manifest", "run_prepare", "stage_output_names",
]
