"""Topic models: fitting and K selection (tomotopy or gensim), description, cross-language
alignment, prevalence by group, effects by the method of composition, LDAvis pages.

Imports: ``study``, ``stats``, :mod:`analysis.errors`.
"""
