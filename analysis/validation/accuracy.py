"""How well the dictionary agrees with the human reference codes, per language and frame.

Precision (of the units the dictionary flags, the share people code as having the frame), recall
(of the units people code as having it, the share the dictionary flags) and F1, estimated for the
*population* of units from a stratified coding sample: every coded unit counts with its
Horvitz–Thompson weight ``w_i = N_h / n_h`` (Horvitz & Thompson 1952), so the oversampled
no-hit stratum does not distort recall (Lohr 2022, *Sampling*, ch. 3 and 9). A dictionary can be
accurate in one language and not in the other; :func:`differential_error` gives the vi - en
difference with an interval, because such a difference turns a vi-vs-en comparison of
dictionary counts into a comparison of measurement error (Grimmer & Stewart 2013; Lind, Eberl,
Heidenreich & Boomgaarden 2019; Song et al. 2020).

Intervals: stratified bootstrap (units resampled with replacement *within* each stratum, the
weights fixed; percentile interval; Lohr 2022, section 9.3). Cells whose reference is missing
(ties not adjudicated) are dropped and the stratum's weight becomes ``N_h / n_h'`` with ``n_h'``
the units left: this assumes such cells are missing at random within the stratum.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from analysis.validation.sampling import SampleDesign

__all__ = ["accuracy_table", "differential_error"]

METRICS = ("precision", "recall", "f1")


def _metrics(tp, pp, ap):
    with np.errstate(invalid="ignore", divide="ignore"):
        precision = np.where(pp > 0, tp / np.where(pp > 0, pp, 1), np.nan)
        recall = np.where(ap > 0, tp / np.where(ap > 0, ap, 1), np.nan)
        f1 = np.where(pp + ap > 0, 2 * tp / np.where(pp + ap > 0, pp + ap, 1), np.nan)
    return {"precision": precision, "recall": recall, "f1": f1}


def _cells(sample, reference, design, frames, predicted, unit, language):
    """Per frame: the coded units with their stratum weight, prediction and reference."""
    if not isinstance(design, SampleDesign):
        raise ValueError("design must be the SampleDesign returned by draw_coding_sample.")
    if not isinstance(sample, pd.DataFrame) or not isinstance(reference, pd.DataFrame):
        raise ValueError("sample and reference must be DataFrames (from draw_coding_sample and reference_codes).")
    if isinstance(frames, str) or not frames:
        raise ValueError("frames must be a non-empty list of frame ids, e.g. frames=['economy_trade'].")
    predicted = dict(predicted or {})
    for column in (unit, language, "stratum", *(predicted.get(f, f) for f in frames)):
        if column not in sample.columns:
            raise ValueError(
                f"sample has no column '{column}'; pass the sample from draw_coding_sample "
                "(with the dictionary's 0/1 presence per frame, or map frames to columns with predicted=)."
            )
    for column in (unit, "frame", "reference"):
        if column not in reference.columns:
            raise ValueError(f"reference has no column '{column}'; pass the table reference_codes returned.")
    if "draw_id" in sample.columns and set(sample["draw_id"]) != {design.draw_id}:
        raise ValueError(
            f"sample's draw_id {sorted(set(sample['draw_id']))} is not the design's '{design.draw_id}'; "
            "pass the design of this sample."
        )
    unknown = sorted(set(sample["stratum"]) - set(design.population))
    if unknown:
        raise ValueError(f"sample has strata {unknown} that the design does not know; pass the design of this sample.")
    ids = sample[unit].astype(str)
    ref = reference.assign(**{unit: reference[unit].astype(str)})
    out = {}
    for frame in frames:
        column = predicted.get(frame, frame)
        yhat = sample[column]
        if yhat.isna().any() or not yhat.isin([0, 1, True, False]).all():
            raise ValueError(f"sample column '{column}' must hold the dictionary's 0/1 presence for every unit.")
        codes = ref[ref["frame"] == frame].set_index(unit)["reference"]
        if codes.index.duplicated().any():
            raise ValueError(f"reference has two rows for one unit in frame '{frame}'; keep one per unit and frame.")
        y = pd.to_numeric(codes.reindex(ids), errors="coerce").to_numpy(float)
        cell = pd.DataFrame(
            {
                "language": sample[language].to_numpy(),
                "stratum": sample["stratum"].to_numpy(),
                "yhat": yhat.astype(float).to_numpy(),
                "y": y,
            }
        )
        if not np.isin(cell["y"].dropna(), [0.0, 1.0]).all():
            raise ValueError(f"reference codes for frame '{frame}' must be 0, 1 or missing.")
        cell = cell.dropna(subset=["y"])
        for h in sorted(design.population):
            if design.population.get(h, 0) > 0 and not (cell["stratum"] == h).any():
                raise ValueError(
                    f"stratum '{h}' has no coded unit with a reference code for frame '{frame}'; "
                    "code or adjudicate at least one of its units."
                )
        n_eff = cell["stratum"].map(cell["stratum"].value_counts())
        cell["weight"] = cell["stratum"].map(design.population).astype(float) / n_eff
        out[frame] = cell
    return out


def _replicates(cell: pd.DataFrame, rng: np.random.Generator, n_boot: int) -> dict:
    """Language -> (point sums, bootstrap sums) of weighted TP, predicted positives, reference positives."""
    result = {}
    for lang, group in cell.groupby("language", sort=True):
        point = np.zeros(3)
        boot = np.zeros((n_boot, 3))
        for _, stratum in group.groupby("stratum", sort=True):
            w = stratum["weight"].to_numpy()
            yhat, y = stratum["yhat"].to_numpy(), stratum["y"].to_numpy()
            vals = np.stack([yhat * y, yhat, y], axis=1) * w[:, None]
            point += vals.sum(axis=0)
            if n_boot:
                idx = rng.integers(0, len(vals), size=(n_boot, len(vals)))
                boot += vals[idx].sum(axis=1)
        result[lang] = (point, boot, len(group))
    return result


def _check_boot(n_boot, level):
    if isinstance(n_boot, bool) or not isinstance(n_boot, int) or n_boot < 1:
        raise ValueError("n_boot must be a positive int (bootstrap replicates).")
    if not 0 < level < 1:
        raise ValueError("level must be between 0 and 1, e.g. level=0.95.")


def accuracy_table(
    sample: pd.DataFrame,
    reference: pd.DataFrame,
    design: SampleDesign,
    *,
    frames: Sequence[str],
    seed: int,
    n_boot: int = 2000,
    level: float = 0.95,
    predicted: Mapping[str, str] | None = None,
    unit: str = "unit_id",
    language: str = "language",
) -> pd.DataFrame:
    """Weighted precision, recall and F1 of the dictionary per language and frame, with intervals.

    With ``w_i = N_h / n_h`` (units of stratum ``h`` coded with a reference code), ``yhat`` the
    dictionary's presence and ``y`` the reference code, the Horvitz–Thompson ratio estimators are
    ``precision = sum w yhat y / sum w yhat``, ``recall = sum w yhat y / sum w y`` and
    ``F1 = 2 sum w yhat y / (sum w yhat + sum w y)``. Intervals: stratified percentile bootstrap
    (see the module docstring).

    Parameters
    ----------
    sample : DataFrame
        From :func:`~analysis.validation.sampling.draw_coding_sample`: ``unit_id, language,
        stratum`` and the dictionary's 0/1 presence per frame (column = frame id unless mapped in
        ``predicted``).
    reference : DataFrame
        ``unit_id, frame, reference`` (:func:`~analysis.validation.agreement.reference_codes`).
    design : SampleDesign
    frames : list of str
    seed : int
        Seed of the bootstrap.

    Returns
    -------
    DataFrame
        ``language, frame, coded, precision, precision_low, precision_high, recall, ..., f1, ...,
        predicted_positive, reference_positive`` (the last two are estimated population counts).

    Examples
    --------
    vi: 4 of 10 units hit, 2 coded (1 true); 6 without hit, 3 coded (1 missed). Weights 2 and 2:
    TP = 2, predicted = 4, reference = 2 + 2 = 4, so precision = recall = 0.5.

    >>> design = SampleDesign(0, ("econ",), "any", {"vi|hit": 4, "vi|none": 6}, {"vi|hit": 2, "vi|none": 3}, "d")
    >>> sample = pd.DataFrame({"unit_id": list("abcde"), "language": "vi", "econ": [1, 1, 0, 0, 0],
    ...                        "stratum": ["vi|hit"] * 2 + ["vi|none"] * 3})
    >>> reference = pd.DataFrame({"unit_id": list("abcde"), "frame": "econ", "reference": [1, 0, 1, 0, 0]})
    >>> table = accuracy_table(sample, reference, design, frames=["econ"], seed=0, n_boot=10)
    >>> table[["precision", "recall", "f1"]].round(3).values.tolist()
    [[0.5, 0.5, 0.5]]
    """
    _check_boot(n_boot, level)
    cells = _cells(sample, reference, design, frames, predicted, unit, language)
    rng = np.random.default_rng(seed)
    tail = (1 - level) / 2
    rows = []
    for frame in frames:
        for lang, (point, boot, coded) in _replicates(cells[frame], rng, n_boot).items():
            est = _metrics(*point)
            reps = _metrics(boot[:, 0], boot[:, 1], boot[:, 2])
            row = {"language": lang, "frame": frame, "coded": coded}
            for m in METRICS:
                r = reps[m][~np.isnan(reps[m])]
                row[m] = float(est[m])
                row[f"{m}_low"], row[f"{m}_high"] = np.quantile(r, [tail, 1 - tail]) if len(r) else (np.nan, np.nan)
            row["predicted_positive"], row["reference_positive"] = float(point[1]), float(point[2])
            rows.append(row)
    return pd.DataFrame(rows)


def differential_error(
    sample: pd.DataFrame,
    reference: pd.DataFrame,
    design: SampleDesign,
    *,
    frames: Sequence[str],
    seed: int,
    languages: tuple[str, str] = ("vi", "en"),
    n_boot: int = 2000,
    level: float = 0.95,
    predicted: Mapping[str, str] | None = None,
    unit: str = "unit_id",
    language: str = "language",
) -> pd.DataFrame:
    """Does the dictionary err differently by language? ``languages[0]`` minus ``languages[1]``
    precision, recall and F1 per frame, with a stratified-bootstrap percentile interval (the two
    languages are separate strata, resampled independently in the same replicate).

    Returns
    -------
    DataFrame
        ``frame, metric, <lang0>, <lang1>, difference, low, high, excludes_zero``; ``excludes_zero``
        flags a difference whose interval lies wholly on one side of 0 (differential error).

    Examples
    --------
    >>> design = SampleDesign(0, ("econ",), "any", {"vi|hit": 2, "vi|none": 2, "en|hit": 2, "en|none": 2},
    ...                       {"vi|hit": 2, "vi|none": 2, "en|hit": 2, "en|none": 2}, "d")
    >>> sample = pd.DataFrame({"unit_id": list("abcdefgh"), "language": ["vi"] * 4 + ["en"] * 4,
    ...                        "econ": [1, 1, 0, 0] * 2,
    ...                        "stratum": ["vi|hit"] * 2 + ["vi|none"] * 2 + ["en|hit"] * 2 + ["en|none"] * 2})
    >>> reference = pd.DataFrame({"unit_id": list("abcdefgh"), "frame": "econ", "reference": [1, 1, 0, 0, 1, 0, 0, 0]})
    >>> table = differential_error(sample, reference, design, frames=["econ"], seed=0, n_boot=20)
    >>> table.set_index("metric")["difference"].tolist()
    [0.5, 0.0, 0.33333333333333337]
    """
    _check_boot(n_boot, level)
    if len(languages) != 2 or languages[0] == languages[1]:
        raise ValueError("languages must be two different language codes, e.g. languages=('vi', 'en').")
    cells = _cells(sample, reference, design, frames, predicted, unit, language)
    rng = np.random.default_rng(seed)
    tail = (1 - level) / 2
    rows = []
    for frame in frames:
        reps = _replicates(cells[frame], rng, n_boot)
        missing = [lang for lang in languages if lang not in reps]
        if missing:
            raise ValueError(
                f"no coded unit in language {missing} for frame '{frame}'; check languages= and the sample."
            )
        a_point, a_boot, _ = reps[languages[0]]
        b_point, b_boot, _ = reps[languages[1]]
        a, b = _metrics(*a_point), _metrics(*b_point)
        ab, bb = _metrics(*a_boot.T), _metrics(*b_boot.T)
        for m in METRICS:
            diff = ab[m] - bb[m]
            diff = diff[~np.isnan(diff)]
            low, high = np.quantile(diff, [tail, 1 - tail]) if len(diff) else (np.nan, np.nan)
            rows.append(
                {
                    "frame": frame,
                    "metric": m,
                    languages[0]: float(a[m]),
                    languages[1]: float(b[m]),
                    "difference": float(a[m] - b[m]),
                    "low": float(low),
                    "high": float(high),
                    "excludes_zero": bool(low > 0 or high < 0),
                }
            )
    return pd.DataFrame(rows)
