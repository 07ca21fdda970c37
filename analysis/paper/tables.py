"""DataFrame -> CSV, LaTeX (booktabs) and Markdown text. Pure: returns strings, writes nothing.

CSV keeps full precision (``%.10g``) for re-use; LaTeX and Markdown round floats to
``decimals`` for reading. Output is byte-stable: LF line ends, no index, fixed float format.

What a reader sees differs from what a program reads in one more way: in LaTeX and Markdown,
Vietnamese compound words of the token columns (:data:`TOKEN_COLUMNS`) are shown as written,
``Bộ trưởng``, not as the segmenter's token ``Bộ_trưởng``; the CSV keeps the token, so it still
joins with the vocabulary, the topic models and every other table.

LaTeX tables fit the page (:func:`to_latex`): a ``longtable`` (breaks across pages, never a
float taller than the page), header words stacked, long text wrapped, and a table wider than the
text split into column blocks that each repeat the leading key columns.
"""

from __future__ import annotations

import hashlib
import math
import re
import unicodedata

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
    # Not in every text font (Latin Modern has no Greek): typeset through math mode.
    "²": r"\textsuperscript{2}",
    "³": r"\textsuperscript{3}",
    "×": r"\ensuremath{\times}",
    "−": r"\ensuremath{-}",
    "≤": r"\ensuremath{\le}",
    "≥": r"\ensuremath{\ge}",
    "≈": r"\ensuremath{\approx}",
    "Σ": r"\ensuremath{\Sigma}",
    "←": r"\ensuremath{\leftarrow}",
    "→": r"\ensuremath{\rightarrow}",
}
_GREEK = {
    "α": "alpha",
    "β": "beta",
    "γ": "gamma",
    "δ": "delta",
    "ε": "epsilon",
    "η": "eta",
    "θ": "theta",
    "κ": "kappa",
    "λ": "lambda",
    "μ": "mu",
    "ν": "nu",
    "π": "pi",
    "ρ": "rho",
    "σ": "sigma",
    "τ": "tau",
    "φ": "phi",
    "χ": "chi",
    "ψ": "psi",
    "ω": "omega",
    "Δ": "Delta",
    "Φ": "Phi",
    "Ω": "Omega",
}
_LATEX_SPECIAL.update({c: rf"\ensuremath{{\{name}}}" for c, name in _GREEK.items()})


def latex_escape(text: str) -> str:
    """Text made safe for LaTeX: ``hợp_tác & 50%`` -> ``hợp\\_tác \\& 50\\%``.

    Every character with a meaning to TeX is escaped, so no name from the data (a column called
    ``a}\\input{/etc/passwd}%``, a file stem, a group value) can become a command. Line breaks,
    tabs and other control characters become spaces (a newline inside a table row ends the row;
    a form feed is an error). Greek letters and a few symbols most text fonts lack (``χ``, ``≥``)
    are typeset in math mode.
    """
    out = []
    for c in str(text):
        special = _LATEX_SPECIAL.get(c)
        if special is not None:
            out.append(special)
        elif unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp"):
            out.append(" " if c in "\t\n\r\v\f\x85\u2028\u2029" else "")
        else:
            out.append(c)
    return "".join(out)


_SAFE_LABEL = re.compile(r"[^A-Za-z0-9_.:-]")


def latex_label(name: str) -> str:
    """A ``\\label`` key from any name: ASCII letters, digits and ``_.:-`` only; a name that had
    other characters gets a short hash of the original, so two different names never share a key."""
    name = str(name)
    safe = _SAFE_LABEL.sub("-", name)
    if safe != name:
        safe = f"{safe[:40]}-{hashlib.sha256(name.encode('utf-8')).hexdigest()[:8]}"
    return safe


#: Columns holding tokens or quoted text: in LaTeX and Markdown their Vietnamese compounds are
#: shown unsegmented (``Bộ trưởng``); the CSV keeps the token ``Bộ_trưởng``.
TOKEN_COLUMNS = frozenset(
    {
        "term",
        "bigram",
        "keyword",
        "left",
        "right",
        "match",
        "context",
        "text",
        "top_shared",
        "gloss",
        "item",
        "label",
        "terms",
        "top_terms",
        "line",
        "sentence",
    }
)

_COMPOUND = re.compile(r"(?<=[^\W\d_])_(?=[^\W\d_])")


def display_tokens(text) -> str:
    """A token as a reader writes it: underscores between letters become spaces (``Bộ_trưởng`` ->
    ``Bộ trưởng``, ``United_States`` -> ``United States``); ids such as ``001_abc`` and
    ``frame.econ`` are left as they are."""
    return _COMPOUND.sub(" ", str(text))


def _one_line(text) -> str:
    """Text safe in a LaTeX comment: control characters and line breaks become spaces."""
    return re.sub(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+", " ", str(text))


def _cell(value, decimals: int) -> str:
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        return f"{value:.{decimals}f}"
    return str(value)


def _display_table(table: pd.DataFrame, decimals: int) -> list[list[str]]:
    """Cells as strings a reader sees (floats rounded, tokens unsegmented), row by row."""
    columns = []
    for name in table.columns:
        values = [_cell(v, decimals) for v in table[name].tolist()]
        if str(name) in TOKEN_COLUMNS:
            values = [display_tokens(v) for v in values]
        columns.append(values)
    return [list(row) for row in zip(*columns)] if columns else []


#: A text cell a spreadsheet would run as a formula (OWASP "CSV Injection": ``=``, ``+``, ``-``,
#: ``@``, tab, carriage return), after any apostrophes; a plain number is not a formula.
_FORMULA = re.compile(r"'*[=+\-@\t\r]")
_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def _neutral(value):
    if isinstance(value, str) and _FORMULA.match(value) and not _NUMBER.fullmatch(value):
        return "'" + value
    return value


def _restored(value):
    if isinstance(value, str) and value.startswith("'") and _FORMULA.match(value[1:]):
        return value[1:]
    return value


def _map_text_cells(table: pd.DataFrame, function, pattern: re.Pattern) -> pd.DataFrame:
    """``table`` with ``function`` applied to the column names and to the text cells ``pattern``
    matches at their start (a copy only when a cell changes; numeric columns are never text)."""
    columns = [function(c) for c in table.columns]
    changed = {}
    for position, name in enumerate(table.columns):
        column = table.iloc[:, position]
        if isinstance(column.dtype, pd.CategoricalDtype):
            categories = [function(c) for c in column.cat.categories]
            if categories != list(column.cat.categories):
                changed[position] = column.cat.rename_categories(categories)
            continue
        if not (column.dtype == object or isinstance(column.dtype, pd.StringDtype)):
            continue
        try:
            starts = column.str.match(pattern.pattern, na=False)
        except AttributeError:  # no text cell at all (lists, numbers as objects)
            continue
        if starts.to_numpy(dtype=bool).any():
            column = column.copy()
            column[starts.to_numpy(dtype=bool)] = column[starts.to_numpy(dtype=bool)].map(function)
            changed[position] = column
    if not changed and columns == list(table.columns):
        return table
    out = table.copy()
    for position, column in changed.items():
        out.isetitem(position, column)
    out.columns = columns
    return out


def neutralise_formulas(table: pd.DataFrame) -> pd.DataFrame:
    """``table`` with every text cell (and column name) a spreadsheet would run as a formula
    prefixed by an apostrophe (OWASP, "CSV Injection",
    https://owasp.org/www-community/attacks/CSV_Injection): an outlet, title, id or sentence from
    the corpus such as ``=HYPERLINK(...)`` or ``+cmd|' /C calc'!A0`` stays text when the CSV is
    opened in Excel or LibreOffice. A plain number (``-0.5``) is left as it is; a cell that already
    starts with apostrophes and a formula character gets one more, so :func:`restore_formulas`
    gives back exactly the original.

    >>> neutralise_formulas(pd.DataFrame({"outlet": ["=HYPERLINK(1)", "-0.5", "@x", "Báo"]}))["outlet"].tolist()
    ["'=HYPERLINK(1)", '-0.5', "'@x", 'Báo']
    """
    return _map_text_cells(table, _neutral, _FORMULA)


def restore_formulas(table: pd.DataFrame) -> pd.DataFrame:
    """The inverse of :func:`neutralise_formulas`, for a CSV the toolkit wrote and reads back.

    >>> restore_formulas(neutralise_formulas(pd.DataFrame({"a": ["=1+1", "'=x", "-0.5", "- a"]})))["a"].tolist()
    ['=1+1', "'=x", '-0.5', '- a']
    """
    return _map_text_cells(table, _restored, re.compile(r"'"))


def to_csv(table: pd.DataFrame, handle=None, header: bool = True) -> str | None:
    """The project's CSV: no index, LF line ends, floats to 10 significant digits, and text cells a
    spreadsheet would run as formulas prefixed by an apostrophe (:func:`neutralise_formulas`).

    With ``handle`` (a text file opened with ``newline=""``) the rows are written to it in chunks
    and nothing is returned: a table of millions of cells is never one string in memory.
    """
    return neutralise_formulas(table).to_csv(
        handle, index=False, header=header, lineterminator="\n", float_format="%.10g"
    )


# ------------------------------------------------------------------------------ LaTeX layout

#: Design text width in em of the table font (``\footnotesize`` of a 10 pt article: 8 pt; the
#: article class's 345 pt text width is 43 em). Widths are estimated at :data:`EM_PER_CHAR` em a
#: character (DejaVu Serif's average; Latin Modern is narrower) plus one em of column padding.
TEXT_WIDTH_EM = 42.0
EM_PER_CHAR = 0.6
COLUMN_PAD_EM = 1.0
#: Text columns wider than this are wrapped (``\parbox``) at this width.
WRAP_EM = 15.0
#: Header words are stacked one per line; a header line is at most this many characters.
HEADER_CHARS = 10


def _header_lines(name: str) -> list[str]:
    words = [w for w in re.split(r"[_\s]+", str(name)) if w] or [str(name)]
    lines: list[str] = []
    for word in words:
        if lines and len(lines[-1]) + 1 + len(word) <= HEADER_CHARS:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines


def _width_em(text: str) -> float:
    return len(text) * EM_PER_CHAR


def breakable(text: str) -> str:
    """Escaped text with break points after ``_ / - .`` and inside very long words (wrapped cells)."""
    words = []
    for word in str(text).split(" "):
        pieces = re.split(r"(?<=[_/\-.,;])", word)
        chunks = [p[i : i + 16] for p in pieces for i in range(0, max(len(p), 1), 16)]
        words.append(r"\allowbreak{}".join(latex_escape(c) for c in chunks))
    return " ".join(words)


#: The key columns repeated in every block of a split table take at most this share of the width.
KEY_WIDTH_SHARE = 0.6
#: Whole-number columns that name a row (a rank, a topic, an id) rather than count something.
_NUMBER_KEY = re.compile(r"(^|_)(id|rank|topic|k|year|month|week|period)$")


def key_columns(headers: list[str], rows: list[list[str]], numeric: list[bool], widths: list[float]) -> list[int]:
    """The columns that identify a row, repeated in every column block of a split table.

    Read from the left up to the first column of fractional numbers (a measurement, not an
    identity), skipping counts (whole numbers other than ranks, topics and ids): a column joins the
    key when it tells rows apart that the key so far does not (``label`` beside ``actor`` adds
    nothing and is left to its block), until every row is told apart; at most
    :data:`KEY_WIDTH_SHARE` of the text width (the first key column always). A column with one
    value in every row is no key.

    >>> key_columns(["actor", "label", "group", "share"],
    ...             [["a", "A", "vi", "0.1"], ["a", "A", "en", "0.2"], ["b", "B", "vi", "0.3"]],
    ...             [False, False, False, True], [5.0, 5.0, 3.0, 4.0])
    [0, 2]
    >>> rows = [["x", "1", "9", "t"], ["x", "2", "9", "u"], ["y", "1", "8", "t"]]
    >>> key_columns(["group", "rank", "count", "term"], rows, [False, True, True, False], [3.0] * 4)
    [0, 1]
    """
    keys: list[int] = []
    seen = 1
    for j in range(len(headers)):
        if seen >= len(rows) or (numeric[j] and any("." in r[j] for r in rows)):
            break
        if numeric[j] and not _NUMBER_KEY.search(headers[j]):
            continue  # a count (documents, hits) is a measurement, not the row's name
        distinct = len({tuple(r[k] for k in [*keys, j]) for r in rows})
        if distinct > seen:  # a column with one value (``vi vs en`` in every row) identifies nothing
            if keys and sum(widths[k] for k in keys) + widths[j] > TEXT_WIDTH_EM * KEY_WIDTH_SHARE:
                break
            keys.append(j)
            seen = distinct
    if seen >= len(rows):  # a key column the others already tell apart (family beside frame) is not needed
        for j in list(keys):
            rest = [k for k in keys if k != j]
            if rest and len({tuple(r[k] for k in rest) for r in rows}) == len(rows):
                keys = rest
    return keys


def _layout(headers: list[str], rows: list[list[str]], numeric: list[bool]):
    """Column widths (em), which columns wrap, and the column blocks that fit the text width."""
    widths, wrap = [], []
    for j, name in enumerate(headers):
        header = max(_width_em(line) for line in _header_lines(name))
        cells = max((_width_em(r[j]) for r in rows), default=0.0)
        long = not numeric[j] and cells > WRAP_EM
        wrap.append(long)
        widths.append(max(header, WRAP_EM if long else cells) + COLUMN_PAD_EM)
    keys = key_columns(headers, rows, numeric, widths)
    rest = [j for j in range(len(headers)) if j not in keys]
    blocks: list[list[int]] = []
    current: list[int] = []
    base = sum(widths[k] for k in keys)
    for j in rest:
        if current and base + sum(widths[k] for k in current) + widths[j] > TEXT_WIDTH_EM:
            blocks.append(current)
            current = []
        current.append(j)
    if current or not blocks:
        blocks.append(current)
    return widths, wrap, [keys + block for block in blocks]


def _continued(name: str) -> str:
    return f"{name} continued" if name else "Continued"


def to_latex(
    table: pd.DataFrame,
    *,
    caption: str = "",
    decimals: int = 3,
    label: str = "",
    max_rows: int | None = None,
    source: str = "",
    rows: int | None = None,
) -> str:
    """A booktabs ``longtable`` that fits the text width; cells escaped, tokens shown unsegmented.

    Parameters
    ----------
    table
        The table (the same data as its CSV).
    caption, label
        Caption text (escaped here) and ``\\label{tab:<label>}`` (restricted to a safe alphabet).
    decimals
        Floats are rounded to this many decimals for reading.
    max_rows
        Show only the first ``max_rows`` rows and say so in the caption, naming ``source`` (the CSV
        with every row): an appendix is no place for 9,000 rows.
    source
        The data file named when rows are left out.
    rows
        The table's number of rows when ``table`` holds only its first ``max_rows`` (a table read
        in chunks); default ``len(table)``.

    Layout: ``\\footnotesize`` in a ``longtable`` (needs ``\\usepackage{longtable,booktabs}``), which
    breaks across pages and repeats its header; header words stacked (``\\shortstack``); text
    cells wider than :data:`WRAP_EM` wrapped in a ``\\parbox``; when the columns are wider than
    :data:`TEXT_WIDTH_EM` the table is split into blocks of columns, each repeating the leading
    key columns, so no column (p, q, interval bounds) runs off the page.
    """
    total = len(table) if rows is None else rows
    shown = table if max_rows is None or total <= max_rows else table.iloc[:max_rows]
    headers = [str(c) for c in table.columns]
    numeric = [
        pd.api.types.is_numeric_dtype(table[c]) and not pd.api.types.is_bool_dtype(table[c]) for c in table.columns
    ]
    rows = _display_table(shown, decimals)
    _, wrap, blocks = _layout(headers, rows, numeric)
    text = caption.rstrip(".") + "." if caption else ""
    if len(shown) < total:
        where = f"; every row is in {source}" if source else ""
        text += f" First {len(shown):,} of {total:,} rows shown{where}."
    lines = [f"% caption: {_one_line(caption)}"] if caption else []
    lines += [r"\begingroup\footnotesize\setlength{\tabcolsep}{0.5em}\setlength{\LTpre}{0pt}"]
    for b, block in enumerate(blocks):
        align = "".join("l" if wrap[j] or not numeric[j] else "r" for j in block)
        head = (
            " & ".join(
                rf"\shortstack[{'r' if numeric[j] and not wrap[j] else 'l'}]{{"
                + r"\\".join(latex_escape(x) for x in _header_lines(headers[j]))
                + "}"
                for j in block
            )
            + r" \\"
        )
        lines.append(rf"\begin{{longtable}}{{@{{}}{align}@{{}}}}")
        if text:
            part = "" if len(blocks) == 1 else f" (columns {b + 1} of {len(blocks)})"
            if b == 0:
                lines.append(
                    rf"\caption{{{latex_escape(text)}{latex_escape(part)}}}"
                    + (rf"\label{{tab:{latex_label(label)}}}" if label else "")
                    + r"\\"
                )
            else:  # the caption once; continued blocks name the table (and its label) only
                lines.append(rf"\caption*{{{latex_escape(_continued(label or source))}{latex_escape(part)}}}\\")
        lines += [
            r"\toprule",
            head,
            r"\midrule",
            r"\endfirsthead",
            r"\toprule",
            head,
            r"\midrule",
            r"\endhead",
            r"\bottomrule",
            r"\endfoot",
        ]
        for row in rows:
            cells = []
            for j in block:
                if wrap[j]:
                    cells.append(rf"\parbox[t]{{{WRAP_EM:g}em}}{{\raggedright {breakable(row[j])}}}")
                else:
                    cells.append(latex_escape(row[j]))
            lines.append(" & ".join(cells) + r" \\")
        lines.append(r"\end{longtable}")
    lines.append(r"\endgroup")
    return "\n".join(lines) + "\n"


def to_markdown(table: pd.DataFrame, decimals: int = 3, *, max_rows: int | None = None, source: str = "") -> str:
    """A GitHub-flavoured Markdown table; ``|`` in cells escaped; tokens shown unsegmented.

    With ``max_rows``, only the first ``max_rows`` rows, and a line after the table that says how
    many were left out and names ``source`` (the file with every row), as :func:`to_latex` does.
    """
    total = len(table)
    if max_rows is not None and total > max_rows:
        where = f"; every row is in `{source}`" if source else ""
        return to_markdown(table.iloc[:max_rows], decimals) + f"\nFirst {max_rows:,} of {total:,} rows shown{where}.\n"

    def esc(v):
        return str(v).replace("|", r"\|").replace("\r", " ").replace("\n", " ")

    header = "| " + " | ".join(esc(c) for c in table.columns) + " |"
    rule = "| " + " | ".join("---:" if pd.api.types.is_numeric_dtype(table[c]) else "---" for c in table.columns) + " |"
    body = ["| " + " | ".join(esc(v) for v in row) + " |" for row in _display_table(table, decimals)]
    return "\n".join([header, rule, *body]) + "\n"
