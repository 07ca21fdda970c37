"""Statistics for any measure: resampling (permutation, studentized bootstrap), keyness, group
means and tests with outlet clusters, contrasts, time series, count and mixed models.

Imports: ``study``, ``text`` (the document-term matrix), :mod:`analysis.errors`. Never ``framing``.
"""
