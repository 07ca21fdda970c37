"""Which codebook patterns make false hits, and the study's model corrected for the dictionary's errors.

* :func:`kwic_line`: a hit's keyword in context, Vietnamese compounds shown with spaces.
* :func:`pattern_audit`: per frame, language and pattern, the share of the pattern's hits in coded
  documents whose human reference code says the frame is absent (weighted by ``1 / pi``).
* :func:`corrected_model`: per frame, a DSL regression of frame presence on a design matrix,
  naive (dictionary) and corrected side by side (:func:`analysis.validation.dsl.dsl_regression`).

Imports: numpy and pandas, and :mod:`analysis.validation.dsl`; nothing else of the package.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from . import dsl

__all__ = ["AUDIT_COLUMNS", "MODEL_COLUMNS", "corrected_model", "kwic_line", "pattern_audit"]

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
    for name, table, columns in (
        ("hits", hits, ["unit_id", "language", "frame", "pattern", "left", "keyword", "right"]),
        ("reference", reference, ["unit_id", "frame", "reference"]),
        ("weights", weights, ["unit_id", "frame", "weight"]),
    ):
        missing = [c for c in columns if c not in table.columns]
        if missing:
            raise ValueError(f"{name} has no column {missing[0]!r}; it needs {', '.join(columns)}.")
    if hits.empty:
        return pd.DataFrame(columns=AUDIT_COLUMNS)
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
