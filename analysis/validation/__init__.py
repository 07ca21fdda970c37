"""The dictionary checked against people: a stratified coding sample with known inclusion
probabilities (language × dictionary hit), blind coder sheets and their checks, agreement between
coders (Krippendorff's α), precision, recall and F1 per language weighted by the inverse inclusion
probabilities, and comparisons corrected for the dictionary's errors by design-based supervised
learning (Egami et al. 2023), with a coding-budget planner, and a pattern-level audit of false hits
(:mod:`analysis.validation.audit`).

Imports: numpy, scipy, pandas, statsmodels and ``krippendorff``; nothing of the package.
"""
