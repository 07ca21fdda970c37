"""Figures: ``plot_*(ax, data) -> ax`` and ``figure_*(data) -> Figure``; they draw what the
statistics returned and compute nothing. The only wing that imports matplotlib.

Imports: ``stats`` (what a keyness table holds).
"""
