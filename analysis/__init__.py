"""Statistical comparison of Vietnamese- and English-language news coverage.

Data flows one way::

    Corpus -> PreparedDocument (tokens) -> DocTermMatrix -> DataFrames/arrays -> plots, tables

Computation modules (``normalize``, ``clean``, ``tokens``, ``dtm``, ``textstat`` ...) open no file
and import no matplotlib; ``io`` is the only module that touches the file system and ``plot`` the
only one that draws.
"""

__version__ = "0.1.0"
