"""One module per stage of ``make`` (prepare, frequencies, framing, topics, equivalence, design,
manifest, appendix) and the results writer: read the prepared study, compute with the wings
below, write through :mod:`analysis.stages.results`.

Imports: every other wing; no wing imports ``stages``.
"""
