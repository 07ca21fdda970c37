"""The study: settings (every value checked), the design spec of ``[[compare]]``/``[time]``/``[model]``,
the output registry, the make fragment, the output-name and output-folder checks, ``make clean``.

Standard library only: make runs :mod:`analysis.study.makefile` and :mod:`analysis.study.cleanup`
before the virtual environment exists. Imports: :mod:`analysis.errors` and nothing else of the package.
"""
