"""DataFrame -> CSV, LaTeX (booktabs) and Markdown text. Pure: returns strings, writes nothing.

CSV keeps full precision (``%.10g``) for re-use; LaTeX and Markdown round floats to
``decimals`` for reading. Output is byte-stable: LF line ends, no index, fixed float format.
"""

from __future__ import annotations

import math

import pandas as pd

_LATEX_SPECIAL = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
}


def latex_escape(text: str) -> str:
    """Escape LaTeX special characters: ``hợp_tác & 50%`` -> ``hợp\\_tác \\& 50\\%``."""
    return "".join(_LATEX_SPECIAL.get(c, c) for c in str(text))


def _cell(value, decimals: int) -> str:
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        return f"{value:.{decimals}f}"
    return str(value)


def to_csv(table: pd.DataFrame, handle=None) -> str | None:
    """The project's CSV: no index, LF line ends, floats to 10 significant digits.

    With ``handle`` (a text file opened with ``newline=""``) the rows are written to it in chunks
    and nothing is returned: a table of millions of cells is never one string in memory.
    """
    return table.to_csv(handle, index=False, lineterminator="\n", float_format="%.10g")


def to_latex(table: pd.DataFrame, caption: str = "", decimals: int = 3, label: str = "") -> str:
    """A booktabs ``tabular`` (inside a ``table`` float when a caption is given); cells escaped.

    The float uses ``\\footnotesize`` so top-N tables of a few groups fit a page; ``label`` gives
    ``\\label{tab:<label>}`` for cross-references from the appendix.
    """
    align = "".join("r" if pd.api.types.is_numeric_dtype(table[c]) else "l" for c in table.columns)
    lines = []
    if caption:
        lines += [r"\begin{table}[htbp]", r"\centering", r"\footnotesize", rf"\caption{{{latex_escape(caption)}}}"]
        if label:
            lines.append(rf"\label{{tab:{label}}}")
    lines += [rf"\begin{{tabular}}{{{align}}}", r"\toprule"]
    lines.append(" & ".join(latex_escape(c) for c in table.columns) + r" \\")
    lines.append(r"\midrule")
    for row in table.itertuples(index=False):
        lines.append(" & ".join(latex_escape(_cell(v, decimals)) for v in row) + r" \\")
    lines += [r"\bottomrule", r"\end{tabular}"]
    if caption:
        lines.append(r"\end{table}")
    return "\n".join(lines) + "\n"


def to_markdown(table: pd.DataFrame, decimals: int = 3) -> str:
    """A GitHub-flavoured Markdown table; ``|`` in cells escaped."""
    def esc(v):
        return _cell(v, decimals).replace("|", r"\|").replace("\n", " ")

    header = "| " + " | ".join(esc(c) for c in table.columns) + " |"
    rule = "| " + " | ".join("---:" if pd.api.types.is_numeric_dtype(table[c]) else "---" for c in table.columns) + " |"
    body = ["| " + " | ".join(esc(v) for v in row) + " |" for row in table.itertuples(index=False)]
    return "\n".join([header, rule, *body]) + "\n"
