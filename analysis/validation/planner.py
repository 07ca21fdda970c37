"""How many units must people code? A budget planner for the DSL-corrected vi - en difference.

From the dictionary's precision and recall and the frame's prevalence per language (assumed, or
from a pilot: :func:`pilot_assumptions`), the variance of the DSL prevalence of one language with
``N`` units, of which ``n_hit`` units with a dictionary hit and ``n_none`` without are coded
(stratified sampling without replacement, as :func:`~analysis.validation.sampling.draw_coding_sample`
draws), is in closed form. With ``p`` the prevalence, ``q = P(Yhat = 1) = p recall / precision``,
the error rates ``e_hit = P(Y = 0 | Yhat = 1) = 1 - precision`` and
``e_none = P(Y = 1 | Yhat = 0) = p (1 - recall) / (1 - q)``, ``N_hit = q N``, ``N_none = (1 - q) N``:

    V = p (1 - p) / N + q^2 (1/n_hit - 1/N_hit) v_hit + (1 - q)^2 (1/n_none - 1/N_none) v_none

where ``v = e (1 - e)`` for the exact stratified variance (``variance="stratified"`` in
:func:`~analysis.validation.dsl.dsl_prevalence`; Lohr 2022, eq. 3.3, on the correction term
``Y - Yhat`` whose stratum mean is ``-e_hit`` or ``e_none``) and ``v = e`` for the expectation of
the DSL sandwich (``variance="sandwich"``; ``Var(Ytilde) = Var(Y) + E[(1 - pi)/pi (Y - Yhat)^2]``,
Egami et al. 2023). The half-width of the interval of the vi - en difference is
``z sqrt(V_vi + V_en)``; the planner finds the smallest numbers of coded units that reach a target.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats

__all__ = ["dsl_mean_variance", "plan_coding_budget", "pilot_assumptions"]

ALLOCATIONS = ("balanced", "proportional")


def _rates(prevalence: float, precision: float, recall: float) -> tuple[float, float, float]:
    for name, value in (("prevalence", prevalence), ("precision", precision), ("recall", recall)):
        if not isinstance(value, (int, float, np.floating, np.integer)) or not 0 < float(value) <= 1:
            raise ValueError(f"{name} must be a number in (0, 1], got {value!r}.")
    q = prevalence * recall / precision
    if q > 1 or (q == 1 and recall < 1):
        raise ValueError(
            f"prevalence {prevalence} with recall {recall} and precision {precision} implies more hits "
            "than units (p * recall / precision > 1); check the three values."
        )
    e_none = prevalence * (1 - recall) / (1 - q) if q < 1 else 0.0
    return q, 1 - precision, e_none


def _split(n_coded: float, q: float, n_units: int, allocation) -> tuple[float, float]:
    big_hit, big_none = q * n_units, (1 - q) * n_units
    if isinstance(allocation, Mapping):
        n_hit, n_none = allocation.get("hit"), allocation.get("none")
        if n_hit is None or n_none is None:
            raise ValueError("an allocation mapping needs the keys 'hit' and 'none' (coded units per stratum).")
    elif allocation == "proportional":
        n_hit, n_none = q * n_coded, (1 - q) * n_coded
    elif allocation == "balanced":
        n_hit = min(n_coded / 2, big_hit)
        n_none = min(n_coded - n_hit, big_none)
        n_hit = min(n_coded - n_none, big_hit)
    else:
        raise ValueError(
            f"allocation must be 'balanced', 'proportional' or a mapping {{'hit': n, 'none': n}}, not {allocation!r}."
        )
    return n_hit, n_none


def dsl_mean_variance(
    *,
    prevalence: float,
    precision: float,
    recall: float,
    n_units: int,
    n_coded: float | None = None,
    allocation: str | Mapping = "balanced",
    variance: str = "stratified",
) -> float:
    """Variance of the DSL prevalence of one language (module docstring formula).

    Parameters
    ----------
    prevalence, precision, recall : float
        The frame's prevalence and the dictionary's precision and recall in this language.
    n_units : int
        Units of the language in the corpus (``N``).
    n_coded : float, optional
        Coded units; split by ``allocation`` (``"balanced"``: half with a hit, half without, capped
        by the stratum sizes; ``"proportional"``: as in the population). Not needed when
        ``allocation`` is a mapping ``{"hit": n_hit, "none": n_none}``.
    variance : {"stratified", "sandwich"}

    Returns
    -------
    float

    Examples
    --------
    p = 0.2, precision 0.5, recall 0.8, so q = 0.32, e_hit = 0.5, e_none = 0.04 / 0.68;
    N = 1000, 100 coded per stratum:

    >>> v = dsl_mean_variance(prevalence=0.2, precision=0.5, recall=0.8, n_units=1000, n_coded=200)
    >>> e = 0.04 / 0.68
    >>> hand = 0.16 / 1000 + 0.32**2 * (1/100 - 1/320) * 0.25 + 0.68**2 * (1/100 - 1/680) * e * (1 - e)
    >>> bool(abs(v - hand) < 1e-15)
    True
    """
    if variance not in ("stratified", "sandwich"):
        raise ValueError(f"variance must be 'stratified' or 'sandwich', not {variance!r}.")
    if isinstance(n_units, bool) or not isinstance(n_units, (int, np.integer)) or n_units < 2:
        raise ValueError(f"n_units must be an int >= 2 (units of the language), got {n_units!r}.")
    q, e_hit, e_none = _rates(prevalence, precision, recall)
    if not isinstance(allocation, Mapping) and (n_coded is None or n_coded <= 0):
        raise ValueError("n_coded must be a positive number of coded units (or give allocation={'hit': n, 'none': n}).")
    n_hit, n_none = _split(n_coded, q, n_units, allocation)
    big_hit, big_none = q * n_units, (1 - q) * n_units
    if (big_hit > 0 and not 0 < n_hit <= big_hit + 1e-9) or (big_none > 0 and not 0 < n_none <= big_none + 1e-9):
        raise ValueError(
            f"coded units per stratum must be between 1 and the stratum size (hit {big_hit:.0f}, "
            f"none {big_none:.0f}); got hit {n_hit}, none {n_none}."
        )
    v_hit, v_none = (e_hit * (1 - e_hit), e_none * (1 - e_none)) if variance == "stratified" else (e_hit, e_none)
    v = prevalence * (1 - prevalence) / n_units
    if big_hit > 0:
        v += q**2 * (1 / n_hit - 1 / big_hit) * v_hit
    if big_none > 0:
        v += (1 - q) ** 2 * (1 / n_none - 1 / big_none) * v_none
    return float(v)


def _check_assumptions(assumptions: pd.DataFrame, languages: Sequence[str]) -> pd.DataFrame:
    if not isinstance(assumptions, pd.DataFrame):
        raise ValueError("assumptions must be a DataFrame: language, prevalence, precision, recall, n_units.")
    for column in ("language", "prevalence", "precision", "recall", "n_units"):
        if column not in assumptions.columns:
            raise ValueError(
                f"assumptions has no column '{column}'; it needs language, prevalence, precision, recall, n_units."
            )
    table = assumptions.set_index("language")
    missing = [lang for lang in languages if lang not in table.index]
    if missing or table.index.duplicated().any():
        raise ValueError(f"assumptions must have exactly one row per language {list(languages)}; missing {missing}.")
    return table


def plan_coding_budget(
    assumptions: pd.DataFrame,
    *,
    half_width: float,
    level: float = 0.95,
    languages: tuple[str, str] = ("vi", "en"),
    allocation: str = "balanced",
    variance: str = "stratified",
    split: str = "equal",
) -> pd.DataFrame:
    """Smallest numbers of coded units per language for a target interval half-width of the
    DSL-corrected ``languages[0] - languages[1]`` prevalence difference.

    ``V(n) = V_0(n_0) + V_1(n_1)`` (:func:`dsl_mean_variance`) must satisfy
    ``z sqrt(V) <= half_width``. ``split="equal"`` codes the same number in both languages (the
    smallest integer, by bisection: ``V`` falls as ``n`` grows); ``split="optimal"`` minimises
    ``n_0 + n_1``: each ``V_l`` is ``c_l + a_l / n_l`` so the Lagrange solution is
    ``n_l`` proportional to ``sqrt(a_l)`` (Neyman-type allocation; Lohr 2022, section 3.4), scaled
    by bisection to the target.

    Returns
    -------
    DataFrame
        One row per language (``language, n_units, n_coded, n_hit, n_none, se``) and a row
        ``total`` with the summed ``n_coded``, the difference's ``se`` and ``half_width``.

    Raises
    ------
    ValueError
        When coding every unit still does not reach ``half_width`` (the target is below the
        sampling error of the corpus itself).

    Examples
    --------
    >>> a = pd.DataFrame({"language": ["vi", "en"], "prevalence": [0.1, 0.2], "precision": [0.4, 0.5],
    ...                   "recall": [0.9, 0.8], "n_units": [10000, 2000]})
    >>> plan = plan_coding_budget(a, half_width=0.05).set_index("language")
    >>> n = int(plan.loc["vi", "n_coded"])
    >>> z = 1.959963984540054
    >>> def width(k):
    ...     return z * (dsl_mean_variance(prevalence=0.1, precision=0.4, recall=0.9, n_units=10000, n_coded=k)
    ...                 + dsl_mean_variance(prevalence=0.2, precision=0.5, recall=0.8, n_units=2000, n_coded=k)) ** 0.5
    >>> bool(width(n) <= 0.05 < width(n - 1))
    True
    """
    if not 0 < level < 1:
        raise ValueError("level must be between 0 and 1, e.g. level=0.95.")
    if not isinstance(half_width, (int, float)) or half_width <= 0:
        raise ValueError(f"half_width must be a positive number (the target interval half-width), got {half_width!r}.")
    if split not in ("equal", "optimal"):
        raise ValueError(f"split must be 'equal' or 'optimal', not {split!r}.")
    if allocation not in ALLOCATIONS:
        raise ValueError(f"allocation must be one of {ALLOCATIONS}, not {allocation!r}.")
    table = _check_assumptions(assumptions, languages)
    z = stats.norm.ppf(0.5 + level / 2)
    target = (half_width / z) ** 2
    params = {
        lang: dict(
            prevalence=float(table.at[lang, "prevalence"]),
            precision=float(table.at[lang, "precision"]),
            recall=float(table.at[lang, "recall"]),
            n_units=int(table.at[lang, "n_units"]),
            allocation=allocation,
            variance=variance,
        )
        for lang in languages
    }

    def var(lang, n):
        return dsl_mean_variance(n_coded=min(n, params[lang]["n_units"]), **params[lang])

    if sum(var(lang, params[lang]["n_units"]) for lang in languages) > target:
        floor = z * np.sqrt(sum(var(lang, params[lang]["n_units"]) for lang in languages))
        raise ValueError(
            f"half_width {half_width} is below what coding every unit gives ({floor:.4f}); "
            "aim for a wider interval or a larger corpus."
        )
    if split == "equal":

        def counts(t):
            return {lang: min(t, params[lang]["n_units"]) for lang in languages}

        upper = max(p["n_units"] for p in params.values())
    else:
        slope = {}
        for lang in languages:  # V = c + a / n: a from two evaluations
            n1, n2 = 4.0, 8.0
            slope[lang] = max((var(lang, n1) - var(lang, n2)) / (1 / n1 - 1 / n2), 1e-12)

        def counts(t):
            return {
                lang: int(min(max(2, np.ceil(t * np.sqrt(slope[lang]))), params[lang]["n_units"])) for lang in languages
            }

        upper = int(np.ceil(max(p["n_units"] / np.sqrt(slope[lang]) for lang, p in params.items()))) + 1
    lo, hi = 1, upper
    while lo < hi:
        mid = (lo + hi) // 2
        if sum(var(lang, n) for lang, n in counts(max(mid, 2)).items()) <= target:
            hi = mid
        else:
            lo = mid + 1
    chosen = counts(max(lo, 2))
    rows = []
    for lang in languages:
        q = params[lang]["prevalence"] * params[lang]["recall"] / params[lang]["precision"]
        n_hit, n_none = _split(chosen[lang], q, params[lang]["n_units"], allocation)
        rows.append(
            {
                "language": lang,
                "n_units": params[lang]["n_units"],
                "n_coded": int(chosen[lang]),
                "n_hit": int(np.floor(n_hit)),
                "n_none": int(chosen[lang]) - int(np.floor(n_hit)),
                "se": float(np.sqrt(var(lang, chosen[lang]))),
                "half_width": np.nan,
            }
        )
    se = float(np.sqrt(sum(var(lang, chosen[lang]) for lang in languages)))
    rows.append(
        {
            "language": "total",
            "n_units": sum(p["n_units"] for p in params.values()),
            "n_coded": int(sum(chosen.values())),
            "n_hit": sum(r["n_hit"] for r in rows),
            "n_none": sum(r["n_none"] for r in rows),
            "se": se,
            "half_width": float(z * se),
        }
    )
    return pd.DataFrame(rows)


def pilot_assumptions(
    accuracy: pd.DataFrame, prevalence: pd.DataFrame, *, frame: str, n_units: Mapping[str, int]
) -> pd.DataFrame:
    """Planner assumptions from a pilot: precision and recall of ``frame`` per language from
    :func:`~analysis.validation.accuracy.accuracy_table`, prevalence from the DSL estimates of
    :func:`~analysis.validation.dsl.dsl_prevalence` (rows named by language), corpus sizes given.

    Examples
    --------
    >>> acc = pd.DataFrame({"language": ["vi", "en"], "frame": "econ", "precision": [0.4, 0.5], "recall": [0.9, 0.8]})
    >>> prev = pd.DataFrame({"quantity": ["vi", "en", "vi - en"], "estimate": [0.1, 0.2, -0.1]})
    >>> pilot_assumptions(acc, prev, frame="econ", n_units={"vi": 100, "en": 50})["prevalence"].tolist()
    [0.1, 0.2]
    """
    for column in ("language", "frame", "precision", "recall"):
        if column not in accuracy.columns:
            raise ValueError(f"accuracy has no column '{column}'; pass the table accuracy_table returned.")
    for column in ("quantity", "estimate"):
        if column not in prevalence.columns:
            raise ValueError(f"prevalence has no column '{column}'; pass the table dsl_prevalence returned.")
    rows = accuracy[accuracy["frame"] == frame]
    if rows.empty:
        raise ValueError(f"accuracy has no row for frame '{frame}'; use one of {sorted(set(accuracy['frame']))}.")
    est = prevalence.set_index("quantity")["estimate"]
    out = []
    for _, row in rows.iterrows():
        lang = row["language"]
        if lang not in est.index or lang not in n_units:
            raise ValueError(f"language '{lang}' needs a prevalence row and an n_units entry; add them.")
        p = float(np.clip(est[lang], 1e-6, 1.0))
        out.append(
            {
                "language": lang,
                "prevalence": p,
                "precision": float(row["precision"]),
                "recall": float(row["recall"]),
                "n_units": int(n_units[lang]),
            }
        )
    return pd.DataFrame(out)
