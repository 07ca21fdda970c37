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

What is estimated depends on the unit people code (each unit counts once): for documents, the
dictionary's precision and recall on documents (of the documents it flags, the share that use the
frame); for sentences, on sentences; for KWIC windows, on the occurrences of the key terms (of the
windows it flags, the share whose window uses the frame). The estimand is the corpus's own value
(finite-population, design-based): the only randomness is the coding draw, so units of one
document need no clustering here, unlike the corrected prevalence, which is about the process
behind the corpus (:func:`analysis.validation.dsl.dsl_prevalence`).

Intervals: stratified bootstrap (units resampled with replacement *within* each stratum, the
weights fixed; percentile interval; Lohr 2022, section 9.3). Cells whose reference is missing
(ties not adjudicated) are dropped and the stratum's weight becomes ``N_h / n_h'`` with ``n_h'``
the units left: this assumes such cells are missing at random within the stratum.

Small or degenerate cells. Each metric is a weighted proportion over the coded units of its
*denominator*: precision over the units the dictionary flags (success: the reference has the
frame), recall over the units the reference codes positive (success: flagged), F1 over the units
either flags, each weighted ``v_i = w_i (yhat_i + y_i)`` (success: both), because
``F1 = sum w 2 yhat y / sum w (yhat + y)``. When every coded unit in that denominator agrees (or
no unit in a stratum disagrees) the bootstrap replicates all equal the estimate and the
percentile interval collapses to a point, e.g. recall [1, 1] from five coded units. So when the
bootstrap interval has zero width or the denominator holds fewer than ``MIN_CODED = 20`` coded
units, the interval reported is the union of the bootstrap interval and a Clopper–Pearson
interval (Clopper & Pearson 1934) on Kish's effective sample size of the denominator,
``n_eff = (sum v)^2 / sum v^2`` (Kish 1965, *Survey Sampling*, section 11.7), with
``x = p_hat * n_eff`` successes: ``[B(a/2; x, n_eff - x + 1), B(1 - a/2; x + 1, n_eff - x)]`` with
``B`` the beta quantile (0 and 1 at the ends), the Korn & Graubard (1998) construction for
complex samples with the design effect of unequal weights in place of the variance-based one
(which is 0, hence useless, exactly when the bootstrap collapses). With equal weights it is the
exact binomial interval. 20 because the percentile bootstrap of a proportion behaves like the
Wald interval, whose coverage is erratic and well below nominal for small ``n`` (Brown, Cai &
DasGupta 2001), and with ``n < 20`` and ``p`` near 1 an all-success sample (a point interval) has
probability ``p^n`` above 0.12 for ``p = 0.9``. Columns ``<metric>_interval`` say which was used
and ``<metric>_n_eff`` give the effective size. :func:`differential_error` does the same for a
vi - en difference: when either language's metric falls back, its interval is the union of the
bootstrap one and the MOVER/Newcombe (1998, method 10) interval built from the two languages'
Clopper–Pearson intervals (Zou & Donner 2008).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from analysis.validation.sampling import SampleDesign

__all__ = ["accuracy_table", "differential_error"]

METRICS = ("precision", "recall", "f1")
MIN_CODED = 20
BOOTSTRAP = "bootstrap"
FALLBACK = "bootstrap ∪ Clopper-Pearson (Kish n_eff)"
DIFF_FALLBACK = "bootstrap ∪ MOVER (Clopper-Pearson, Kish n_eff)"


def clopper_pearson(p_hat: float, n: float, level: float) -> tuple[float, float]:
    """Clopper–Pearson interval for a proportion ``p_hat`` on a (possibly non-integer) size ``n``.

    >>> lo, hi = clopper_pearson(1.0, 5, 0.95)
    >>> round(lo, 4), hi
    (0.4782, 1.0)
    """
    if not n > 0 or np.isnan(p_hat):
        return (np.nan, np.nan)
    a = 1 - level
    x = p_hat * n
    low = 0.0 if x <= 0 else float(stats.beta.ppf(a / 2, x, n - x + 1))
    high = 1.0 if x >= n else float(stats.beta.ppf(1 - a / 2, x + 1, n - x))
    return (low, high)


def _denominator(group: pd.DataFrame, metric: str) -> tuple[np.ndarray, np.ndarray]:
    """Weights and 0/1 successes of the coded units in ``metric``'s denominator."""
    w, yhat, y = (group[c].to_numpy(float) for c in ("weight", "yhat", "y"))
    if metric == "precision":
        keep, v, s = yhat == 1, w, y
    elif metric == "recall":
        keep, v, s = y == 1, w, yhat
    else:
        keep, v, s = (yhat + y) > 0, w * (yhat + y), yhat * y
    return v[keep], s[keep]


def _fallback(group: pd.DataFrame, metric: str, level: float) -> tuple[float, float, int, float]:
    """Clopper–Pearson interval on Kish's n_eff of the metric's denominator; its coded units and n_eff."""
    v, s = _denominator(group, metric)
    if not len(v) or v.sum() <= 0:
        return (np.nan, np.nan, 0, 0.0)
    n_eff = float(v.sum() ** 2 / (v**2).sum())
    low, high = clopper_pearson(float((v * s).sum() / v.sum()), n_eff, level)
    return (low, high, len(v), n_eff)


def _degenerate(low: float, high: float) -> bool:
    return bool(np.isnan(low) or np.isnan(high) or high - low <= 1e-12)


def _metrics(tp, pp, ap):
    with np.errstate(invalid="ignore", divide="ignore"):
        precision = np.where(pp > 0, tp / np.where(pp > 0, pp, 1), np.nan)
        recall = np.where(ap > 0, tp / np.where(ap > 0, ap, 1), np.nan)
        f1 = np.where(pp + ap > 0, 2 * tp / np.where(pp + ap > 0, pp + ap, 1), np.nan)
    return {"precision": precision, "recall": recall, "f1": f1}


def _cells(sample, reference, design, frames, predicted, *, unit, language):
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
        result[lang] = (point, boot, len(group), group)
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
    ``F1 = 2 sum w yhat y / (sum w yhat + sum w y)``. Intervals: stratified percentile bootstrap,
    widened to a Clopper–Pearson interval on Kish's effective size where the bootstrap collapses or
    the denominator is small (see the module docstring).

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
        ``language, frame, coded, precision, precision_low, precision_high, precision_interval,
        precision_n_eff, recall, ..., f1, ..., predicted_positive, reference_positive`` (the last
        two are estimated population counts). ``<metric>_interval`` is ``"bootstrap"`` or, where the
        bootstrap interval has zero width or the metric's denominator has fewer than ``MIN_CODED``
        coded units, ``"bootstrap ∪ Clopper-Pearson (Kish n_eff)"``; ``<metric>_n_eff`` is Kish's
        effective size of the denominator (see the module docstring).

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
    cells = _cells(sample, reference, design, frames, predicted, unit=unit, language=language)
    rng = np.random.default_rng(seed)
    tail = (1 - level) / 2
    rows = []
    for frame in frames:
        for lang, (point, boot, coded, group) in _replicates(cells[frame], rng, n_boot).items():
            est = _metrics(*point)
            reps = _metrics(boot[:, 0], boot[:, 1], boot[:, 2])
            row = {"language": lang, "frame": frame, "coded": coded}
            for m in METRICS:
                r = reps[m][~np.isnan(reps[m])]
                row[m] = float(est[m])
                low, high = np.quantile(r, [tail, 1 - tail]) if len(r) else (np.nan, np.nan)
                cp_low, cp_high, n_den, n_eff = _fallback(group, m, level)
                used = BOOTSTRAP
                if n_den and (_degenerate(low, high) or n_den < MIN_CODED):
                    low, high, used = np.fmin(low, cp_low), np.fmax(high, cp_high), FALLBACK
                row[f"{m}_low"], row[f"{m}_high"] = float(low), float(high)
                row[f"{m}_interval"], row[f"{m}_n_eff"] = used, n_eff
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
        ``frame, metric, <lang0>, <lang1>, difference, low, high, excludes_zero, interval``;
        ``excludes_zero`` flags a difference whose interval lies wholly on one side of 0
        (differential error); ``interval`` is ``"bootstrap"`` or, where either language's metric
        rests on fewer than ``MIN_CODED`` coded units or the bootstrap interval has zero width,
        ``"bootstrap ∪ MOVER (Clopper-Pearson, Kish n_eff)"`` (see the module docstring).

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
    cells = _cells(sample, reference, design, frames, predicted, unit=unit, language=language)
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
        a_point, a_boot, _, a_group = reps[languages[0]]
        b_point, b_boot, _, b_group = reps[languages[1]]
        a, b = _metrics(*a_point), _metrics(*b_point)
        ab, bb = _metrics(*a_boot.T), _metrics(*b_boot.T)
        for m in METRICS:
            diff = ab[m] - bb[m]
            diff = diff[~np.isnan(diff)]
            low, high = np.quantile(diff, [tail, 1 - tail]) if len(diff) else (np.nan, np.nan)
            used = BOOTSTRAP
            fa, fb = _fallback(a_group, m, level), _fallback(b_group, m, level)
            small = any(0 < f[2] < MIN_CODED for f in (fa, fb))
            if fa[2] and fb[2] and (small or _degenerate(low, high)):
                # MOVER (Newcombe 1998, method 10; Zou & Donner 2008) from the two CP intervals
                pa, pb, d = float(a[m]), float(b[m]), float(a[m] - b[m])
                m_low = d - np.sqrt((pa - fa[0]) ** 2 + (fb[1] - pb) ** 2)
                m_high = d + np.sqrt((fa[1] - pa) ** 2 + (pb - fb[0]) ** 2)
                low, high, used = np.fmin(low, m_low), np.fmax(high, m_high), DIFF_FALLBACK
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
                    "interval": used,
                }
            )
    return pd.DataFrame(rows)
