"""Documents in: the folder form, tables (CSV/TSV/JSON Lines/Parquet), news-please and HTML folders,
record checks, the text pack and the document table, dates.

Imports: ``study``, :mod:`analysis.errors`, :mod:`analysis.files`.
"""
