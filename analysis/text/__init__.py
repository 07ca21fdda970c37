"""Text to counts: normalisation, boilerplate rules (packaged and learned), segmentation and
tokens, preparation (cached), units, the document-term matrix, frequency statistics and
near-duplicates.

Imports: ``study``, ``corpus``, :mod:`analysis.errors`, :mod:`analysis.progress`.
"""
