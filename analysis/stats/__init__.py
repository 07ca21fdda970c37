"""Statistics for any measure: resampling (permutation, studentized bootstrap), keyness, group
means and tests with outlet clusters, outlet-level inference (nesting of outlets in languages,
outlet permutation, CR2/Bell–McCaffrey, wild cluster bootstrap), contrasts, time series, count and
mixed models.

Imports: ``study``, ``text`` (the document-term matrix), :mod:`analysis.errors`. Never ``framing``.
"""
