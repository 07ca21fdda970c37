"""The bilingual codebook and what it measures: annotation, frame and actor metrics, the framing
tables by group, the equivalence check on translations, cross-language similarity and omissions.

Imports: ``study``, ``text``, ``stats``, :mod:`analysis.errors`.
"""
