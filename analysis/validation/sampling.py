"""A stratified random sample of units for human coding, and blind coder sheets.

A dictionary count is a measurement; to know how wrong it is, per language, people code a random
subsample. The sample is stratified by language × dictionary hit status so that both kinds of
error can be estimated with few coded units: precision needs units *with* hits, recall needs units
*without* hits (where the misses are, and which are rare in a simple random sample when hits are
common). Each drawn unit carries its inclusion probability ``pi = n_h / N_h`` (``N_h`` units in
stratum ``h``, ``n_h`` drawn without replacement), which every later estimate uses as a weight
(Horvitz & Thompson 1952; Lohr 2022, *Sampling: Design and Analysis*, ch. 3) and which the DSL
estimator needs (Egami, Hinck, Stewart & Wei 2023, NeurIPS).

A unit is whatever people code: a document, a sentence or a KWIC window (a key term with a few
words either side), one row of ``units`` each with its own dictionary hit flags; the strata and
probabilities are the same whatever the unit.

Pure computation: DataFrames in, DataFrames and a :class:`SampleDesign` out; randomness only from
an integer seed.
"""

from __future__ import annotations

import hashlib
import json
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

__all__ = ["SampleDesign", "assign_strata", "draw_coding_sample", "inclusion_probabilities", "coder_sheet"]

HIT = "hit"
NONE = "none"


@dataclass(frozen=True)
class SampleDesign:
    """What was drawn, enough to recompute every unit's inclusion probability and to reject a
    coding sheet from another draw.

    Attributes
    ----------
    seed : int
        The seed the draw used.
    hit_columns : tuple of str
        The dictionary hit flags the strata were defined from.
    stratify : str
        ``"any"`` (language × any hit vs none) or ``"each"`` (language × every hit pattern).
    population : dict
        Stratum -> ``N_h`` (units in the population).
    sampled : dict
        Stratum -> ``n_h`` (units drawn).
    draw_id : str
        Short hash (12 hex digits) of the above and of the drawn unit ids.
    """

    seed: int
    hit_columns: tuple[str, ...]
    stratify: str
    population: dict = field(default_factory=dict)
    sampled: dict = field(default_factory=dict)
    draw_id: str = ""

    def pi(self, stratum: str) -> float:
        """Inclusion probability ``n_h / N_h`` of a stratum."""
        if stratum not in self.population:
            raise ValueError(f"stratum '{stratum}' is not in the design; use one of {sorted(self.population)}.")
        return self.sampled[stratum] / self.population[stratum]

    def as_dict(self) -> dict:
        """Plain dict (JSON-able) of the design."""
        return {
            "seed": self.seed,
            "hit_columns": list(self.hit_columns),
            "stratify": self.stratify,
            "population": dict(self.population),
            "sampled": dict(self.sampled),
            "draw_id": self.draw_id,
        }


def _check_units(units: pd.DataFrame, hit_columns: Sequence[str], id_column: str, language_column: str) -> None:
    if not isinstance(units, pd.DataFrame):
        raise ValueError("units must be a pandas DataFrame with a unit id, a language and hit-flag columns.")
    if isinstance(hit_columns, str) or not hit_columns:
        raise ValueError("hit_columns must be a non-empty list of column names; pass e.g. hit_columns=['any_hit'].")
    for column in (id_column, language_column, *hit_columns):
        if column not in units.columns:
            raise ValueError(f"units has no column '{column}'; add it or name the right column in the arguments.")
    if units[id_column].isna().any() or units[id_column].duplicated().any():
        raise ValueError(f"column '{id_column}' must hold unique, non-missing unit ids; drop or rename the duplicates.")
    if units[language_column].isna().any():
        raise ValueError(f"column '{language_column}' has missing values; give every unit its language.")
    for column in hit_columns:
        values = units[column]
        if values.isna().any() or not values.isin([0, 1, True, False]).all():
            raise ValueError(f"hit column '{column}' must hold only 0/1 or True/False; convert counts with (hits > 0).")


def assign_strata(
    units: pd.DataFrame,
    *,
    hit_columns: Sequence[str],
    stratify: str = "any",
    id_column: str = "unit_id",
    language_column: str = "language",
) -> pd.Series:
    """The stratum of every unit: ``"<language>|hit"`` / ``"<language>|none"`` (``stratify="any"``)
    or ``"<language>|<flags>"`` with one 0/1 digit per hit column (``stratify="each"``).

    Parameters
    ----------
    units : DataFrame
        One row per unit, columns ``id_column``, ``language_column`` and the hit flags.
    hit_columns : list of str
        Dictionary hit flags (0/1); ``"any"`` ORs them.
    stratify : {"any", "each"}
        Any hit vs none, or every combination of the flags (so precision and recall of each frame
        get their own strata).

    Returns
    -------
    Series
        Stratum label, indexed like ``units``.

    Examples
    --------
    >>> units = pd.DataFrame({"unit_id": ["a", "b", "c"], "language": ["vi", "vi", "en"],
    ...                       "f1": [1, 0, 0], "f2": [0, 0, 1]})
    >>> assign_strata(units, hit_columns=["f1", "f2"]).tolist()
    ['vi|hit', 'vi|none', 'en|hit']
    >>> assign_strata(units, hit_columns=["f1", "f2"], stratify="each").tolist()
    ['vi|10', 'vi|00', 'en|01']
    """
    hit_columns = list(hit_columns) if not isinstance(hit_columns, str) else hit_columns
    _check_units(units, hit_columns, id_column, language_column)
    flags = units[hit_columns].astype(bool)
    language = units[language_column].astype(str)
    if stratify == "any":
        status = np.where(flags.any(axis=1), HIT, NONE)
    elif stratify == "each":
        status = flags.astype(int).astype(str).agg("".join, axis=1).to_numpy()
    else:
        raise ValueError(f"stratify must be 'any' or 'each', not {stratify!r}.")
    return pd.Series(language + "|" + pd.Series(status, index=units.index), index=units.index, name="stratum")


def _draw_id(seed: int, hit_columns, stratify: str, population: dict, sampled: dict, *, ids: list[str]) -> str:
    payload = json.dumps(
        {
            "seed": seed,
            "hit_columns": list(hit_columns),
            "stratify": stratify,
            "population": population,
            "sampled": sampled,
            "ids": ids,
        },
        sort_keys=True,
        ensure_ascii=True,
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:12]


def draw_coding_sample(
    units: pd.DataFrame,
    *,
    hit_columns: Sequence[str],
    seed: int,
    size_per_stratum: int | None = None,
    sizes: Mapping[str, int] | None = None,
    stratify: str = "any",
    id_column: str = "unit_id",
    language_column: str = "language",
) -> tuple[pd.DataFrame, SampleDesign]:
    """Draw units for human coding, stratified by language × dictionary hit status.

    Within each stratum ``h`` (:func:`assign_strata`), ``n_h`` of the ``N_h`` units are drawn by
    simple random sampling without replacement, so every unit of the stratum has inclusion
    probability ``pi = n_h / N_h`` and Horvitz–Thompson weight ``1 / pi`` (Lohr 2022, ch. 3).
    Units are sorted by id first and each stratum draws from its own generator
    ``default_rng([seed, crc32(stratum)])``: the same seed gives the same sample whatever the row
    order of ``units``, and changing one stratum's size leaves the others' draws unchanged.

    Parameters
    ----------
    units : DataFrame
        One row per unit: ``unit_id``, ``language`` and 0/1 hit flags (other columns are kept).
    hit_columns : list of str
        The hit flags defining the strata.
    seed : int
        The only source of randomness.
    size_per_stratum : int, optional
        ``n_h = min(size_per_stratum, N_h)`` in every stratum; or give ``sizes``.
    sizes : mapping, optional
        Stratum label -> ``n_h`` (every stratum of the population; ``0 <= n_h <= N_h``).
    stratify : {"any", "each"}
        See :func:`assign_strata`.

    Returns
    -------
    sample : DataFrame
        The drawn units (sorted by stratum, then id) with the input columns plus ``stratum``,
        ``pi``, ``weight`` (= 1 / pi) and ``draw_id``.
    design : SampleDesign
        Seed, strata sizes ``N_h`` and ``n_h``, and the draw id.

    Examples
    --------
    >>> units = pd.DataFrame({"unit_id": [f"u{i}" for i in range(10)], "language": ["vi"] * 6 + ["en"] * 4,
    ...                       "hit": [1, 1, 0, 0, 0, 0, 1, 0, 0, 0]})
    >>> sample, design = draw_coding_sample(units, hit_columns=["hit"], size_per_stratum=2, seed=1)
    >>> design.population, design.sampled
    ({'en|hit': 1, 'en|none': 3, 'vi|hit': 2, 'vi|none': 4}, {'en|hit': 1, 'en|none': 2, 'vi|hit': 2, 'vi|none': 2})
    >>> sample.groupby("stratum")["pi"].first().round(3).tolist()
    [1.0, 0.667, 1.0, 0.5]
    """
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool):
        raise ValueError(f"seed must be an int (the design records it), not {type(seed).__name__}.")
    if (size_per_stratum is None) == (sizes is None):
        raise ValueError("give exactly one of size_per_stratum (same n in every stratum) or sizes (stratum -> n).")
    hit_columns = list(hit_columns) if not isinstance(hit_columns, str) else hit_columns
    _check_units(units, hit_columns, id_column, language_column)
    data = units.copy()
    data[id_column] = data[id_column].astype(str)
    data = data.sort_values(id_column, kind="mergesort").reset_index(drop=True)
    data["stratum"] = assign_strata(
        data, hit_columns=hit_columns, stratify=stratify, id_column=id_column, language_column=language_column
    )
    population = {h: int(n) for h, n in sorted(data["stratum"].value_counts().items())}
    if size_per_stratum is not None:
        if (
            isinstance(size_per_stratum, bool)
            or not isinstance(size_per_stratum, (int, np.integer))
            or size_per_stratum < 0
        ):
            raise ValueError("size_per_stratum must be a non-negative int.")
        sampled = {h: min(int(size_per_stratum), n) for h, n in population.items()}
    else:
        unknown = sorted(set(sizes) - set(population))
        missing = sorted(set(population) - set(sizes))
        if unknown or missing:
            raise ValueError(
                f"sizes must name exactly the strata {sorted(population)}; unknown {unknown}, missing {missing}."
            )
        sampled = {}
        for h, n in population.items():
            k = sizes[h]
            if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 0 <= k <= n:
                raise ValueError(f"sizes['{h}'] must be an int between 0 and N_h = {n}; got {k!r}.")
            sampled[h] = int(k)
    picked = []
    for h in population:
        rows = np.flatnonzero(data["stratum"].to_numpy() == h)
        rng = np.random.default_rng([int(seed), zlib.crc32(h.encode("utf-8"))])
        picked.append(np.sort(rng.choice(rows, size=sampled[h], replace=False)))
    sample = data.iloc[np.concatenate(picked) if picked else []].copy()
    sample["pi"] = [sampled[h] / population[h] for h in sample["stratum"]]
    sample["weight"] = 1.0 / sample["pi"]
    draw_id = _draw_id(int(seed), hit_columns, stratify, population, sampled, ids=sample[id_column].tolist())
    sample["draw_id"] = draw_id
    design = SampleDesign(int(seed), tuple(hit_columns), stratify, population, sampled, draw_id)
    return sample.reset_index(drop=True), design


def inclusion_probabilities(
    units: pd.DataFrame, design: SampleDesign, *, id_column: str = "unit_id", language_column: str = "language"
) -> pd.DataFrame:
    """Stratum and inclusion probability of every unit of the population the design was drawn from.

    The DSL estimator (:mod:`analysis.validation.dsl`) needs ``pi_i`` for every unit, coded or not.
    The strata are recomputed from ``units`` and checked against the design's ``N_h``: a changed
    population (another corpus, changed hit flags) raises instead of silently giving wrong weights.

    Returns
    -------
    DataFrame
        ``unit_id, stratum, pi`` in the row order of ``units``.

    Examples
    --------
    >>> units = pd.DataFrame({"unit_id": ["a", "b", "c", "d"], "language": ["vi"] * 4, "hit": [1, 0, 0, 0]})
    >>> sample, design = draw_coding_sample(units, hit_columns=["hit"], size_per_stratum=1, seed=3)
    >>> inclusion_probabilities(units, design)["pi"].round(3).tolist()
    [1.0, 0.333, 0.333, 0.333]
    """
    strata = assign_strata(
        units,
        hit_columns=list(design.hit_columns),
        stratify=design.stratify,
        id_column=id_column,
        language_column=language_column,
    )
    counts = {h: int(n) for h, n in strata.value_counts().items()}
    if counts != dict(design.population):
        raise ValueError(
            f"the units' strata sizes {dict(sorted(counts.items()))} differ from the design's "
            f"{dict(design.population)}; pass the population the sample was drawn from."
        )
    return pd.DataFrame(
        {
            id_column: units[id_column].astype(str).to_numpy(),
            "stratum": strata.to_numpy(),
            "pi": [design.pi(h) for h in strata],
        }
    )


def coder_sheet(
    sample: pd.DataFrame,
    texts: Mapping[str, str] | pd.Series,
    design: SampleDesign,
    *,
    frames: Sequence[str],
    coder: str,
    context: Mapping[str, tuple[str, str]] | None = None,
    id_column: str = "unit_id",
    language_column: str = "language",
) -> pd.DataFrame:
    """A blind coding sheet for one coder: the sampled units' texts in a coder-specific random
    order, one empty code column per frame, and no dictionary output.

    Blindness (the coder never sees the dictionary's hits, stratum or weight) keeps the human
    codes independent of the measure they validate; a per-coder order spreads fatigue and order
    effects over units instead of piling them on the same ones (Krippendorff 2019, *Content
    Analysis*, ch. 12). The order is ``default_rng([design.seed, crc32(coder)])``: reproducible and
    different between coders.

    Parameters
    ----------
    sample : DataFrame
        From :func:`draw_coding_sample` (its ``draw_id`` must match ``design``).
    texts : mapping or Series
        Unit id -> text to code (every sampled unit).
    design : SampleDesign
        The design of ``sample``.
    frames : list of str
        Frame ids: one code column each (1 = present, 0 = absent; left empty here).
    coder : str
        The coder's name or id (also a column of the sheet).
    context : mapping, optional
        Unit id -> ``(before, after)``: the text around a unit smaller than a document (the
        sentences around a sentence or a KWIC window), shown to read the unit in context but not
        coded. Given, the sheet has ``context_before`` and ``context_after`` either side of ``text``.

    Returns
    -------
    DataFrame
        ``draw_id, coder, position, unit_id, language, [context_before], text, [context_after]`` and
        one empty (``pd.NA``) column per frame.

    Examples
    --------
    >>> units = pd.DataFrame({"unit_id": ["a", "b", "c"], "language": ["vi"] * 3, "hit": [1, 0, 0]})
    >>> sample, design = draw_coding_sample(units, hit_columns=["hit"], size_per_stratum=5, seed=0)
    >>> sheet = coder_sheet(sample, {"a": "x", "b": "y", "c": "z"}, design, frames=["economy"], coder="A")
    >>> sorted(sheet["unit_id"]), "hit" in sheet.columns, bool(sheet["economy"].isna().all())
    (['a', 'b', 'c'], False, True)
    """
    if not isinstance(sample, pd.DataFrame) or "draw_id" not in sample.columns:
        raise ValueError("sample must be the DataFrame draw_coding_sample returned (it has a 'draw_id' column).")
    if set(sample["draw_id"]) != {design.draw_id}:
        raise ValueError(
            f"sample's draw_id {sorted(set(sample['draw_id']))} is not the design's '{design.draw_id}'; "
            "pass the design returned with this sample."
        )
    if isinstance(frames, str) or not frames or len(set(frames)) != len(frames):
        raise ValueError("frames must be a non-empty list of distinct frame ids, e.g. frames=['economy_trade'].")
    own = {"draw_id", "coder", "position", id_column, language_column, "text", "context_before", "context_after"}
    clash = sorted(set(frames) & own)
    if clash:
        raise ValueError(f"frame ids {clash} clash with the sheet's own columns; rename those frames.")
    if not isinstance(coder, str) or not coder.strip():
        raise ValueError("coder must be a non-empty string naming the coder.")
    texts = pd.Series(texts, dtype=object) if not isinstance(texts, pd.Series) else texts
    texts.index = texts.index.astype(str)
    ids = sample[id_column].astype(str)
    missing = sorted(set(ids) - set(texts.index))
    if missing:
        raise ValueError(
            f"texts has no text for {len(missing)} sampled unit(s), e.g. '{missing[0]}'; "
            "pass every sampled unit's text."
        )
    order = np.random.default_rng([design.seed, zlib.crc32(coder.encode("utf-8"))]).permutation(len(sample))
    rows = sample.iloc[order]
    sheet = pd.DataFrame(
        {
            "draw_id": design.draw_id,
            "coder": coder,
            "position": np.arange(1, len(rows) + 1),
            id_column: rows[id_column].astype(str).to_numpy(),
            language_column: rows[language_column].to_numpy(),
            "text": texts.loc[rows[id_column].astype(str)].to_numpy(),
        }
    )
    if context is not None:
        ids = rows[id_column].astype(str).tolist()
        missing = sorted(set(ids) - set(map(str, context)))
        if missing:
            raise ValueError(
                f"context has no entry for sampled unit '{missing[0]}'; pass every sampled unit's context."
            )
        around = {str(k): v for k, v in context.items()}
        sheet.insert(5, "context_before", [around[u][0] for u in ids])
        sheet.insert(7, "context_after", [around[u][1] for u in ids])
    for frame in frames:
        sheet[frame] = pd.array([pd.NA] * len(sheet), dtype="Int64")
    return sheet
