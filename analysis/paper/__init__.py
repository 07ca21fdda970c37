"""Tables for papers (CSV, LaTeX, Markdown) and the LaTeX appendix with ``numbers.tex``.

Imports: ``study``.
"""
