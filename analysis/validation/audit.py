"""Which codebook patterns make false hits, and the study's model corrected for the dictionary's errors.

* :func:`kwic_line`: a hit's keyword in context, Vietnamese compounds shown with spaces.
* :func:`pattern_audit`: per frame, language and pattern, the share of the pattern's hits in coded
  documents whose human reference code says the frame is absent (weighted by ``1 / pi``).
* :func:`pattern_precision`: per pattern of the codebook and language, the human-coded hits, the
  false hits and the weighted precision with an interval: the codebook audit's per-pattern columns.
* :func:`corrected_model`: per frame, a DSL regression of frame presence on a design matrix,
  naive (dictionary) and corrected side by side (:func:`analysis.validation.dsl.dsl_regression`).

Imports: numpy and pandas, :mod:`analysis.validation.dsl` and :mod:`analysis.validation.accuracy`
(its Clopper-Pearson interval); nothing else of the package.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from . import dsl
from .accuracy import clopper_pearson

__all__ = [
    "AUDIT_COLUMNS",
    "MODEL_COLUMNS",
    "PRECISION_COLUMNS",
    "corrected_model",
    "kwic_line",
    "pattern_audit",
    "pattern_precision",
]

AUDIT_COLUMNS = [
    "frame",
    "language",
    "pattern",
    "false_hit_share",
    "pattern_hits",
    "pattern_docs",
    "unit_id",
    "reference",
    "left",
    "keyword",
    "right",
]
#: The human-coded columns :func:`pattern_precision` adds to each pattern.
PRECISION_COLUMNS = [
    "coded_hits",
    "coded_units",
    "false_hits",
    "precision",
    "precision_low",
    "precision_high",
    "n_eff",
]
MODEL_COLUMNS = [
    "frame",
    "term",
    "estimate",
    "se",
    "low",
    "high",
    "naive",
    "naive_se",
    "naive_low",
    "naive_high",
    "method",
    "n_docs",
    "n_coded",
    "clusters",
    "note",
]


def _show(tokens: Sequence[str]) -> str:
    return " ".join(t.replace("_", " ") for t in tokens)


def kwic_line(sentence: Sequence[str], start: int, end: int, *, window: int = 5) -> tuple[str, str, str]:
    """``(left, keyword, right)``: tokens ``[start, end)`` of a sentence with ``window`` tokens either side.

    Why: a pattern's false hits are judged by reading them; the line is cut within the sentence
    (the unit the matcher works on) and Vietnamese compounds, segmented with ``_``, are shown
    with spaces as written.

    Examples
    --------
    >>> kwic_line(["Hai", "nước", "thúc_đẩy", "thương_mại", "và", "đầu_tư", "."], 3, 4, window=2)
    ('nước thúc đẩy', 'thương mại', 'và đầu tư')
    """
    if not 0 <= start < end <= len(sentence):
        raise ValueError(f"hit [{start}, {end}) is outside a sentence of {len(sentence)} tokens.")
    return (
        _show(sentence[max(0, start - window) : start]),
        _show(sentence[start:end]),
        _show(sentence[end : end + window]),
    )


def _decided_hits(hits: pd.DataFrame, reference: pd.DataFrame, weights: pd.DataFrame) -> pd.DataFrame:
    """The hits in units with a reference code, each with its unit's ``reference`` (0/1) and ``weight``."""
    for name, table, columns in (
        ("hits", hits, ["unit_id", "language", "frame", "pattern", "left", "keyword", "right"]),
        ("reference", reference, ["unit_id", "frame", "reference"]),
        ("weights", weights, ["unit_id", "frame", "weight"]),
    ):
        missing = [c for c in columns if c not in table.columns]
        if missing:
            raise ValueError(f"{name} has no column {missing[0]!r}; it needs {', '.join(columns)}.")
    keys = ["unit_id", "frame"]
    data = hits.merge(reference[[*keys, "reference"]], on=keys, how="left").merge(
        weights[[*keys, "weight"]], on=keys, how="left"
    )
    data["reference"] = data["reference"].astype("Float64")
    decided = data["reference"].notna().to_numpy()
    if np.isnan(data.loc[decided, "weight"].to_numpy(float)).any():
        raise ValueError("a coded document with a reference code has no weight; give every coded document its 1 / pi.")
    data = data[decided].copy()
    data["reference"] = data["reference"].astype(int)
    return data


def pattern_audit(hits: pd.DataFrame, reference: pd.DataFrame, weights: pd.DataFrame) -> pd.DataFrame:
    """Per frame, language and pattern, the weighted share of the pattern's hits that fall in documents
    the human reference says do not have the frame, with every hit's KWIC line.

    For pattern ``p`` of frame ``f`` with ``h_dp`` hits in coded document ``d`` (reference code
    ``Y_df``, weight ``w_df = 1 / pi_df``):

        false_hit_share_p = sum_d w_df h_dp [Y_df = 0] / sum_d w_df h_dp

    over the documents with a reference code for ``f`` (a tie not adjudicated is left out).
    Weighting by the inverse inclusion probabilities (Horvitz-Thompson, as the accuracy table)
    makes it estimate the share of the pattern's hits in the whole corpus that are false, since
    the coding sample oversamples some strata. It is a pattern-level precision complement
    (1 - precision of the pattern's hits, counted in hits, not documents) and descriptive: a hit
    in a document without the frame may be the pattern's fault or another sense of the document;
    with few hits (``pattern_hits``) or documents (``pattern_docs``) it says little. Reference:
    Grimmer and Stewart (2013, "Text as data", Political Analysis 21(3)) on validating dictionaries
    by reading their hits.

    Parameters
    ----------
    hits : DataFrame
        One row per dictionary hit in a coded document: ``unit_id, language, frame, pattern, left,
        keyword, right``.
    reference : DataFrame
        ``unit_id, frame, reference`` (0/1, NA for a tie), from
        :func:`analysis.validation.agreement.reference_codes`.
    weights : DataFrame
        ``unit_id, frame, weight``: ``1 / pi`` of each coded document for that frame.

    Returns
    -------
    DataFrame
        :data:`AUDIT_COLUMNS`, one row per hit, sorted by frame, language, descending
        ``false_hit_share``, pattern and document.

    Examples
    --------
    Pattern ``b`` hits twice in ``d2`` (weight 3, frame absent) and once in ``d1`` (weight 1, present):
    ``3 * 2 / (3 * 2 + 1) = 6 / 7``.

    >>> hits = pd.DataFrame({"unit_id": ["d1", "d2", "d2"], "language": "en", "frame": "f", "pattern": "b",
    ...                      "left": "", "keyword": "b", "right": ""})
    >>> ref = pd.DataFrame({"unit_id": ["d1", "d2"], "frame": "f", "reference": [1, 0]})
    >>> w = pd.DataFrame({"unit_id": ["d1", "d2"], "frame": "f", "weight": [1.0, 3.0]})
    >>> round(float(pattern_audit(hits, ref, w)["false_hit_share"].iloc[0]), 4)
    0.8571
    """
    if hits.empty:
        _decided_hits(hits, reference, weights)  # the columns checked all the same
        return pd.DataFrame(columns=AUDIT_COLUMNS)
    data = _decided_hits(hits, reference, weights)
    data["false"] = data["weight"] * (data["reference"] == 0)
    group = ["frame", "language", "pattern"]
    summary = (
        data.groupby(group, sort=True)
        .agg(
            false=("false", "sum"),
            total=("weight", "sum"),
            pattern_hits=("unit_id", "size"),
            pattern_docs=("unit_id", "nunique"),
        )
        .reset_index()
    )
    summary["false_hit_share"] = summary["false"] / summary["total"]
    out = data.drop(columns=["false", "weight"]).merge(
        summary[[*group, "false_hit_share", "pattern_hits", "pattern_docs"]], on=group
    )
    out = out.sort_values(
        ["frame", "language", "false_hit_share", "pattern", "unit_id"],
        ascending=[True, True, False, True, True],
        kind="mergesort",
    )
    return out[AUDIT_COLUMNS].reset_index(drop=True)


def pattern_precision(
    patterns: pd.DataFrame,
    hits: pd.DataFrame | None = None,
    reference: pd.DataFrame | None = None,
    weights: pd.DataFrame | None = None,
    *,
    level: float = 0.95,
) -> pd.DataFrame:
    """Each pattern of ``patterns`` with its human-coded hits, false hits and weighted precision.

    Why: the codebook audit lists the patterns of every entry; the human codes say which of them
    make false hits, and in which language. One row per pattern and language, so a pattern that
    never hit a coded unit is listed too (``coded_hits`` 0, no precision): it was not checked.

    For pattern ``p`` of entry ``f`` and coded unit ``d`` with ``h_dp`` hits of ``p``, human
    reference code ``Y_df`` (0/1; a tie not adjudicated is left out) and weight ``w_df = 1 / pi_df``:

        coded_hits = sum_d h_dp,   coded_units = #{d: h_dp > 0},   false_hits = sum_d h_dp [Y_df = 0]
        precision  = sum_d v_d Y_df / sum_d v_d,   v_d = w_df h_dp

    the Horvitz-Thompson share of the pattern's hits in the corpus that are true (weighted as the
    accuracy table, so an oversampled stratum does not count more), ``1 - false_hit_share`` of
    :func:`pattern_audit`. ``coded_hits`` and ``false_hits`` are counts in the coded sample, not
    weighted. Interval: the hits of one unit share its code, so the unit is the sampling unit;
    Clopper-Pearson on Kish's effective number of coded units ``n_eff = (sum v)^2 / sum v^2`` with
    ``precision * n_eff`` successes (Korn and Graubard 1998, Survey Methodology 24(2); Kish 1965
    section 11.7; :func:`analysis.validation.accuracy.clopper_pearson`). With one hit per unit and
    equal weights it is the exact binomial interval. Few coded units give a wide interval, which is
    the point: a pattern's precision from three units says little.

    Parameters
    ----------
    patterns : DataFrame
        One row per pattern to report, with at least ``frame, language, pattern`` (``frame`` the
        coded entry's sheet column, ``pattern`` as written in the codebook); its other columns
        (the codebook audit's) are kept, in order, and the rows keep their order.
    hits, reference, weights : DataFrame, optional
        As :func:`pattern_audit`. Without ``reference`` (no coded sheets yet) the human-coded
        columns are present and empty.
    level : float
        Confidence level of the interval.

    Returns
    -------
    DataFrame
        ``patterns`` with :data:`PRECISION_COLUMNS` appended. A hit whose pattern is not in
        ``patterns`` is not reported.

    Examples
    --------
    Pattern ``a``: two hits in ``d1`` (weight 1, has the frame) and one in ``d2`` (weight 3, not):
    precision ``2 / (2 + 3) = 0.4``, ``n_eff = 5^2 / (2^2 + 3^2) = 25/13``.

    >>> hits = pd.DataFrame({"unit_id": ["d1", "d1", "d2"], "language": "en", "frame": "f", "pattern": "a",
    ...                      "left": "", "keyword": "a", "right": ""})
    >>> ref = pd.DataFrame({"unit_id": ["d1", "d2"], "frame": "f", "reference": [1, 0]})
    >>> w = pd.DataFrame({"unit_id": ["d1", "d2"], "frame": "f", "weight": [1.0, 3.0]})
    >>> pats = pd.DataFrame({"frame": "f", "language": "en", "pattern": ["a", "b"]})
    >>> pattern_precision(pats, hits, ref, w)[["pattern", "coded_hits", "false_hits", "precision"]]
      pattern  coded_hits  false_hits  precision
    0       a           3           1        0.4
    1       b           0           0        NaN
    """
    keys = ["frame", "language", "pattern"]
    missing = [c for c in keys if c not in patterns.columns]
    if missing:
        raise ValueError(f"patterns has no column {missing[0]!r}; it needs {', '.join(keys)}.")
    if not 0 < level < 1:
        raise ValueError(f"level must be between 0 and 1, not {level}.")
    out = patterns.drop(columns=[c for c in PRECISION_COLUMNS if c in patterns.columns]).reset_index(drop=True)
    if reference is None:
        empty = pd.DataFrame({c: pd.array([pd.NA] * len(out), dtype="Int64") for c in PRECISION_COLUMNS[:3]})
        floats = pd.DataFrame(np.nan, index=out.index, columns=PRECISION_COLUMNS[3:])
        return pd.concat([out, empty, floats], axis=1)[[*out.columns, *PRECISION_COLUMNS]]
    if hits is None or weights is None:
        raise ValueError("with reference codes, give the hits and the weights too.")
    data = _decided_hits(hits, reference, weights)
    units = (
        data.groupby([*keys, "unit_id"], sort=True)
        .agg(h=("unit_id", "size"), y=("reference", "first"), w=("weight", "first"))
        .reset_index()
    )
    rows = {}
    for key, g in units.groupby(keys, sort=True):
        h, y, v = g["h"].to_numpy(float), g["y"].to_numpy(float), (g["w"] * g["h"]).to_numpy(float)
        precision = float((v * y).sum() / v.sum())
        n_eff = float(v.sum() ** 2 / (v**2).sum())
        low, high = clopper_pearson(precision, n_eff, level)
        rows[key] = (int(h.sum()), len(g), int((h * (y == 0)).sum()), precision, low, high, n_eff)
    none = (0, 0, 0, np.nan, np.nan, np.nan, np.nan)
    values = pd.DataFrame(
        [rows.get(tuple(k), none) for k in out[keys].itertuples(index=False)],
        columns=PRECISION_COLUMNS,
        index=out.index,
    )
    return pd.concat([out, values], axis=1)


def corrected_model(
    data: pd.DataFrame,
    *,
    frames: Sequence[str],
    terms: Sequence[str],
    pi: str = "pi",
    cluster: str | None = None,
    no_se: Mapping[str, str] | None = None,
    level: float = 0.95,
) -> pd.DataFrame:
    """Per frame, the linear probability model of frame presence on ``terms``, naive and DSL-corrected.

    Why: a coefficient of the study's model on the dictionary's presence mixes the covariate's
    effect with the dictionary's measurement error, which may differ by language. The DSL
    estimating equations ``sum_i X_i (Ytilde_i - X_i' beta) = 0`` with the pseudo-outcome
    ``Ytilde_i = Yhat_i + (R_i / pi_i) (Y_i - Yhat_i)`` (``Yhat`` the dictionary's 0/1 presence,
    ``Y`` the human reference code, ``R`` coded) give ``beta = (X'X)^-1 X' Ytilde``, consistent
    for the regression of the human code on ``X`` (Egami, Hinck, Stewart and Wei 2023, NeurIPS 36),
    with the sandwich variance (outlet-clustered with ``cluster``) of
    :func:`analysis.validation.dsl.dsl_regression`. The naive column is the same OLS on ``Yhat``.
    OLS (a linear probability model), not logit: a coefficient is a difference in the share of
    documents with the frame (percentage points), comparable with the prevalence table, and the
    estimator has a closed form that cannot fail to converge on a small coded sample.

    Parameters
    ----------
    data : DataFrame
        One row per document: each frame's dictionary presence (column named as the frame), its
        reference code in ``<frame>__code`` (NaN where not coded), ``<frame>__pi`` (or ``pi``) the
        inclusion probability, the ``terms`` columns (the design matrix, intercept included) and
        ``cluster``.
    frames, terms : list of str
    pi : str
        Column of inclusion probabilities used when ``<frame>__pi`` is absent.
    cluster : str, optional
        Column of cluster ids (outlets) for cluster-robust variance.
    no_se : mapping, optional
        ``term -> note`` for terms whose SE cannot be had (a language from one outlet): estimate kept,
        SE and interval blank, the note given.
    level : float

    Returns
    -------
    DataFrame
        :data:`MODEL_COLUMNS`, one row per frame and term.
    """
    no_se = dict(no_se or {})
    method = "linear probability model (OLS), DSL sandwich SE" + (f" clustered by {cluster}" if cluster else " (HC0)")
    blank = ["se", "low", "high", "naive_se", "naive_low", "naive_high"]
    rows = []
    for frame in frames:
        p = f"{frame}__pi" if f"{frame}__pi" in data.columns else pi
        fit = dsl.dsl_regression(
            data,
            outcome=f"{frame}__code",
            predicted=frame,
            pi=p,
            covariates=list(terms),
            intercept=False,
            family="ols",
            cluster=cluster,
            level=level,
        )
        table = fit.table.copy()
        table.insert(0, "frame", frame)
        table["note"] = [no_se.get(t, "") for t in table["term"]]
        table.loc[table["note"] != "", blank] = np.nan
        table = table.assign(
            method=method,
            n_docs=fit.n,
            n_coded=fit.n_coded,
            clusters=fit.clusters if fit.clusters is not None else np.nan,
        )
        rows.append(table)
    return pd.concat(rows, ignore_index=True)[MODEL_COLUMNS] if rows else pd.DataFrame(columns=MODEL_COLUMNS)
