"""The equivalence check of the instrument: does the codebook count the same content alike in both languages?

Given translations (the same content in Vietnamese and English), a valid cross-language
instrument reports no difference. This module measures, on translated pairs of documents, what
the study's own codebook, stopwords, segmentation and denominators report, entry by entry
(Lind, Eberl, Eisele, Heidenreich, Galyga & Boomgaarden 2022, "Building the bridge: topic modeling
for comparative research", *Communication Methods and Measures* 16(2); Lind, Eberl, Heidenreich &
Boomgaarden 2019, "When the journey is as important as the goal", *Communication Methods and
Measures* 13(1), ask for exactly this validation of a multilingual dictionary).

Data in, data out (no file is read here):

* :func:`entry_counts`: hits of every frame, actor and concept of the codebook per document, and
  the candidate denominators (documents, sentences, counted tokens, word tokens, concept hits).
* :func:`equivalence_table`: per entry, hits in each language, pairs where both / only one side
  hit, the rate ratio vi/en with a bootstrap interval over the translated pairs, a paired
  sign-flip test, and a flag for non-equivalent entries.
* :func:`paired_tests`: the paired test alone, on any per-pair table.
* :func:`denominator_table`: each candidate denominator measured on the translations.
* :func:`calibrated_ratios`: a study's observed vi/en ratio divided by the translation ratio.
* :func:`pattern_sources`: which codebook patterns produced each entry's hits, per language.
* :func:`summary_table`: share flagged, paired frame tests, coverage per language.

**The cross-language denominator is the sentence** (:data:`CROSS_LANGUAGE_DENOMINATOR`): rates
compared across languages are hits per 100 sentences. Measured on the 119 translated
pseudo-documents of ``parallel_news_mt`` (:func:`denominator_table`, benchmarks/README.md), a
Vietnamese translation has 1.20 times the counted tokens of its English source (segmentation,
stopword lists and morphology differ; the issue measured 1.49 with the old codebook and lists),
so a per-1,000-token rate is lower in Vietnamese for every entry (9 of 15 frames "differ" on
identical content), while a pair's two sides have the same number of sentences (median ratio
1.00, standard deviation of the log ratio 0.019 against 0.048 for tokens): translation keeps
sentences. Word tokens with stopwords (ratio 1.01, sd 0.033) come close but depend on the
segmenter's granularity; a per-document count needs documents of equal length across the
compared groups, which real outlets do not have; a share of concept hits (sd 0.097) depends on
the codebook's coverage in each language. Within one language per-1,000-token rates stay valid
and the framing tables keep them.

Randomness: every resampling draws from ``numpy.random.default_rng([seed, crc32(label)])``
(:func:`analysis.stats.groups.keyed_rng`), so the same inputs give the same numbers.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from .codebook import Codebook
from .measures import Annotation
from ..stats.resampling import MIN_GROUP_DOCS
from ..stats.groups import keyed_rng

KINDS = ("frame", "actor", "concept")
DENOMINATORS = ("documents", "sentences", "tokens", "words", "concept_hits")
#: The denominator of cross-language rates (hits per 100 sentences); see the module docstring.
CROSS_LANGUAGE_DENOMINATOR = "sentences"
SCALE = {"documents": 1.0, "sentences": 100.0, "tokens": 1000.0, "words": 1000.0, "concept_hits": 1000.0}
UNIT_LABEL = {"documents": "per document", "sentences": "per 100 sentences", "tokens": "per 1,000 counted tokens",
              "words": "per 1,000 word tokens", "concept_hits": "per 1,000 concept hits"}
#: 0.5 added to both languages' hit totals before a ratio is formed (Haldane's correction), so an
#: entry with no hit on one side has a finite ratio and interval.
PSEUDO = 0.5


def group_rate(compare_by: str) -> tuple[str, str]:
    """The rate column and its wording for a comparison by ``compare_by``: hits per 100 sentences
    when groups are languages (:data:`CROSS_LANGUAGE_DENOMINATOR`), per 1,000 counted tokens
    within a language (the framing tables' ``per_1000``)."""
    if compare_by == "language":
        return "per_100_sentences", "per 100 sentences"
    return "per_1000", "per 1,000 counted tokens"


# ------------------------------------------------------------------------------- counting


def entry_index(codebook: Codebook) -> pd.DataFrame:
    """Every entry of the codebook, with its number of patterns per language.

    The concept axis includes actors, as in :func:`analysis.framing.measures.concept_counts`. An entry
    with no pattern in one language (``patterns_vi`` or ``patterns_en`` 0) is one-sided: it
    cannot be found in that language, and :func:`equivalence_table` flags it.

    Returns
    -------
    DataFrame with ``kind, family, entry, label, patterns_vi, patterns_en``.

    Examples
    --------
    >>> from analysis.framing.codebook import parse_codebook
    >>> cb = parse_codebook("concepts:\\n  trade: {vi: [thương_mại, buôn_bán], en: [trade]}\\n")
    >>> entry_index(cb)[["kind", "entry", "patterns_vi", "patterns_en"]].to_dict("records")
    [{'kind': 'concept', 'entry': 'trade', 'patterns_vi': 2, 'patterns_en': 1}]
    """
    rows = []
    for e in codebook.frames:
        rows.append(("frame", e.family, e.id, e.label, len(e.patterns.get("vi", ())), len(e.patterns.get("en", ()))))
    for e in codebook.actors:
        rows.append(("actor", e.family, e.id, e.label, len(e.patterns.get("vi", ())), len(e.patterns.get("en", ()))))
    for e in (*codebook.concepts, *codebook.actors):
        rows.append(("concept", "", e.id, e.label, len(e.patterns.get("vi", ())), len(e.patterns.get("en", ()))))
    return pd.DataFrame(rows, columns=["kind", "family", "entry", "label", "patterns_vi", "patterns_en"])


def _key(kind: str, family: str, entry: str) -> str:
    return f"{kind}:{family}:{entry}"


def entry_counts(annotations: Iterable[Annotation], codebook: Codebook) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Hits per document of every entry, and the candidate denominators.

    Returns ``(counts, denominators)``, both indexed by ``doc_id`` in input order. ``counts`` has
    one column per entry of :func:`entry_index`, named ``kind:family:entry`` (zeros included, so
    an entry that never hits in one language is still there). ``denominators`` has
    ``language, documents`` (1), ``sentences``, ``tokens`` (counted terms: stopwords, numbers and
    punctuation excluded), ``words`` (every word token, stopwords included) and ``concept_hits``
    (hits on the concept axis).

    For the equivalence check, annotate the two sides of a translated sample separately and
    pass each pair's counts, rows aligned, to :func:`equivalence_table`.

    Examples
    --------
    >>> from analysis.framing.codebook import parse_codebook
    >>> from analysis.framing.measures import annotate
    >>> from analysis.text.tokens import PreparedDocument, TermRules
    >>> cb = parse_codebook("concepts:\\n  trade: {vi: [thương_mại], en: [trade]}\\n")
    >>> docs = [PreparedDocument("v1", "vi", [[["thương_mại", "tăng", "."]]]), PreparedDocument("e1", "en", [[["trade", "grew", "."]]])]
    >>> annotations = [annotate(d, TermRules({}), cb) for d in docs]
    >>> counts, denominators = entry_counts(annotations, cb)
    >>> counts.to_dict("index"), denominators["sentences"].tolist()
    ({'v1': {'concept::trade': 1}, 'e1': {'concept::trade': 1}}, [1, 1])
    """
    index = entry_index(codebook)
    columns = [_key(k, f, e) for k, f, e in zip(index["kind"], index["family"], index["entry"])]
    position = {c: i for i, c in enumerate(columns)}
    actor_kinds = {e.id: e.family for e in codebook.actors}
    rows, dens, ids = [], [], []
    for a in annotations:
        row = np.zeros(len(columns), dtype=np.int64)
        for family, sentences in a.frames.items():
            for hits in sentences:
                for h in hits:
                    row[position[_key("frame", family, h.entry)]] += 1
        for hits in a.actors:
            for h in hits:
                row[position[_key("actor", actor_kinds[h.entry], h.entry)]] += 1
        concept_hits = 0
        for hits in a.concepts:
            for h in hits:
                row[position[_key("concept", "", h.entry)]] += 1
                concept_hits += 1
        words = sum(1 for s in a.keys for k in s if k is not None)
        rows.append(row)
        dens.append((a.language, 1, len(a.keys), a.tokens, words, concept_hits))
        ids.append(a.doc_id)
    counts = pd.DataFrame(np.array(rows, dtype=np.int64).reshape(len(ids), len(columns)), index=ids, columns=columns)
    denominators = pd.DataFrame(dens, index=ids, columns=["language", *DENOMINATORS])
    return counts, denominators


# ------------------------------------------------------------------------------ statistics


def bh(p: np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg q-values (``scipy.stats.false_discovery_control``); NaN stays NaN."""
    p = np.asarray(p, dtype=float)
    q = np.full(p.shape, np.nan)
    ok = ~np.isnan(p)
    if ok.any():
        q[ok] = stats.false_discovery_control(p[ok], method="bh")
    return q


def sign_flip_pvalues(differences: np.ndarray, n_resamples: int, rng: np.random.Generator) -> np.ndarray:
    """Two-sided paired permutation p-value of the mean difference, per column.

    ``differences`` is (pairs × items): ``d[i, j] = x_vi - x_en`` of item j in pair i. Under the null
    hypothesis that the two sides of a pair are exchangeable, each pair's sign is free; the
    statistic is ``|mean_i d[i, j]|`` and ``p = (1 + #{resamples at least as extreme}) / (1 + B)``
    (Phipson & Smyth 2010; Good 2005, *Permutation, Parametric and Bootstrap Tests*, ch. 3). The
    same sign matrix is used for every item. An item with all differences zero has p = 1.
    """
    d = np.asarray(differences, dtype=float)
    n = d.shape[0]
    observed = np.abs(d.mean(axis=0))
    if n == 0:
        return np.ones(d.shape[1])
    exceed = np.zeros(d.shape[1])
    step = max(1, 2_000_000 // max(1, n * max(1, d.shape[1])))
    done = 0
    while done < n_resamples:
        b = min(step, n_resamples - done)
        signs = rng.choice(np.array([-1.0, 1.0]), size=(b, n))
        means = np.abs(signs @ d) / n
        exceed += (means >= observed - 1e-12 * np.maximum(1.0, observed)).sum(axis=0)
        done += b
    p = (1 + exceed) / (1 + n_resamples)
    p[np.all(d == 0, axis=0)] = 1.0
    return p


def paired_tests(wide: pd.DataFrame, *, a: str, b: str, by: Sequence[str], n_resamples: int = 5000, seed: int = 0) -> pd.DataFrame:
    """Paired sign-flip test of ``a - b`` over pairs, for each item named by the ``by`` columns.

    ``wide`` has the ``by`` columns, a pair column and one value column per side (``a``, ``b``).
    Columns of the result: ``*by, pairs, mean_a, mean_b, difference, p, q`` (BH over the items).
    """
    groups = list(wide.groupby(list(by), sort=False))
    if not groups:
        return pd.DataFrame(columns=[*by, "pairs", f"mean_{a}", f"mean_{b}", "difference", "p", "q"])
    n = max(len(g) for _, g in groups)
    matrix = np.zeros((n, len(groups)))
    records = []
    for j, (key, g) in enumerate(groups):
        d = (g[a] - g[b]).to_numpy(dtype=float)
        matrix[: len(d), j] = d
        records.append((*(key if isinstance(key, tuple) else (key,)), len(d), float(g[a].mean()), float(g[b].mean()), float(d.mean())))
    p = sign_flip_pvalues(matrix, n_resamples, keyed_rng(seed, "paired", a, b))
    table = pd.DataFrame(records, columns=[*by, "pairs", f"mean_{a}", f"mean_{b}", "difference"])
    table["p"] = p
    table["q"] = bh(p)
    return table


def _weights(n: int, n_boot: int, rng: np.random.Generator) -> np.ndarray:
    """(n_boot × n) resampling counts: row b counts how often each unit is drawn in resample b."""
    draws = rng.integers(0, n, size=(n_boot, n))
    weights = np.zeros((n_boot, n))
    rows = np.repeat(np.arange(n_boot), n)
    np.add.at(weights, (rows, draws.ravel()), 1.0)
    return weights


def rate_ratio(hits_vi, den_vi, hits_en, den_en) -> np.ndarray:
    """``((H_vi + 0.5) / D_vi) / ((H_en + 0.5) / D_en)``: the vi/en ratio of pooled rates."""
    return ((np.asarray(hits_vi, float) + PSEUDO) / np.asarray(den_vi, float)) / ((np.asarray(hits_en, float) + PSEUDO) / np.asarray(den_en, float))


def bootstrap_log_ratios(counts_vi: np.ndarray, den_vi: np.ndarray, counts_en: np.ndarray, den_en: np.ndarray,
                         *, n_boot: int, rng: np.random.Generator, paired: bool = True) -> np.ndarray:
    """Bootstrap replicates of ``log rate_ratio`` per item, (n_boot × items).

    ``paired=True``: rows of both sides are the same translated pairs and are resampled together
    (the pair is the unit of independent information). ``paired=False``: each side's documents are
    resampled on their own (a study corpus: the documents of each language).
    """
    if paired:
        w = _weights(len(den_vi), n_boot, rng)
        w_vi = w_en = w
    else:
        w_vi = _weights(len(den_vi), n_boot, rng)
        w_en = _weights(len(den_en), n_boot, rng)
    h_vi, h_en = w_vi @ counts_vi, w_en @ counts_en
    d_vi, d_en = (w_vi @ den_vi)[:, None], (w_en @ den_en)[:, None]
    return np.log(rate_ratio(h_vi, d_vi, h_en, d_en))


def equivalence_table(counts_vi: pd.DataFrame, counts_en: pd.DataFrame, den_vi: pd.DataFrame, den_en: pd.DataFrame,
                      index: pd.DataFrame, *, denominator: str = CROSS_LANGUAGE_DENOMINATOR, n_boot: int = 2000,
                      n_resamples: int = 5000, seed: int = 0, margin: float = 1.25, level: float = 0.95) -> pd.DataFrame:
    """Per entry, how the instrument counts the same content in the two languages.

    Parameters
    ----------
    counts_vi, counts_en : DataFrame (pairs × entries)
        Hits per translated pair and entry (:func:`entry_counts`), rows aligned: row i of both is
        one pair (a document and its translation). Columns ``kind:family:entry``.
    den_vi, den_en : DataFrame (pairs × denominators), rows aligned like the counts.
    index : :func:`entry_index` (labels and pattern counts).
    denominator : one of :data:`DENOMINATORS`; rates are hits per ``SCALE[denominator]`` units.
    margin : an entry is *non-equivalent* when its whole interval lies outside
        ``[1/margin, margin]`` (a difference larger than the margin is shown) and *equivalent*
        when its whole interval lies inside (the two one-sided tests, Schuirmann 1987).

    Returns
    -------
    DataFrame with ``kind, family, entry, label, patterns_vi, patterns_en, hits_vi, hits_en,
    pairs, pairs_both, pairs_vi_only, pairs_en_only, rate_vi, rate_en, ratio, ci_low, ci_high,
    p, q, equivalent, flag, reason``:

    * ``ratio = ((H_vi + 0.5)/D_vi) / ((H_en + 0.5)/D_en)``, pooled over pairs (``H``: hits,
      ``D``: the denominator's total); 1 = the same rate in both languages;
    * ``ci_low, ci_high``: percentile interval of the ratio from ``n_boot`` resamples of the
      pairs (both sides of a pair together);
    * ``p``: paired sign-flip test (:func:`sign_flip_pvalues`) of the per-pair difference of rates
      ``h_vi/d_vi - h_en/d_en``; ``q``: Benjamini-Hochberg within each kind;
    * ``flag``: the entry is *non-equivalent*: one-sided in the codebook, q < 0.05, or the
      interval outside the margin; ``reason`` says which. Entries without a hit are not tested
      (p, q NaN) but a one-sided one is still flagged.

    Examples
    --------
    Four translated pairs, hits of one concept and sentences per side:

    >>> from analysis.framing.codebook import parse_codebook
    >>> cb = parse_codebook("concepts:\\n  trade: {vi: [thương_mại], en: [trade]}\\n")
    >>> vi, en = pd.DataFrame({"concept::trade": [2, 1, 3, 0]}), pd.DataFrame({"concept::trade": [2, 2, 2, 1]})
    >>> den_vi, den_en = pd.DataFrame({"sentences": [10, 8, 12, 5]}), pd.DataFrame({"sentences": [10, 9, 11, 5]})
    >>> table = equivalence_table(vi, en, den_vi, den_en, entry_index(cb), n_boot=500, n_resamples=500, seed=1)
    >>> table[["entry", "hits_vi", "hits_en", "ratio", "flag"]].round(3).to_dict("records")
    [{'entry': 'trade', 'hits_vi': 6, 'hits_en': 7, 'ratio': 0.867, 'flag': False}]

    (``ratio = ((6 + 0.5) / 35) / ((7 + 0.5) / 35)``: both sides have 35 sentences.)
    """
    cols = [_key(k, f, e) for k, f, e in zip(index["kind"], index["family"], index["entry"])]
    cv = counts_vi.reindex(columns=cols, fill_value=0).to_numpy(dtype=float)
    ce = counts_en.reindex(columns=cols, fill_value=0).to_numpy(dtype=float)
    dv = den_vi[denominator].to_numpy(dtype=float)
    de = den_en[denominator].to_numpy(dtype=float)
    scale = SCALE[denominator]
    h_vi, h_en = cv.sum(axis=0), ce.sum(axis=0)
    ratio = rate_ratio(h_vi, dv.sum(), h_en, de.sum())
    logs = bootstrap_log_ratios(cv, dv, ce, de, n_boot=n_boot, rng=keyed_rng(seed, "equivalence", denominator))
    alpha = (1 - level) / 2
    low, high = np.exp(np.quantile(logs, [alpha, 1 - alpha], axis=0))
    with np.errstate(divide="ignore", invalid="ignore"):
        diff = np.where(dv[:, None] > 0, cv / dv[:, None], 0.0) - np.where(de[:, None] > 0, ce / de[:, None], 0.0)
    p = sign_flip_pvalues(diff, n_resamples, keyed_rng(seed, "equivalence-paired", denominator))
    tested = (h_vi + h_en) > 0
    p = np.where(tested, p, np.nan)
    q = np.full(len(cols), np.nan)
    kinds = index["kind"].to_numpy()
    for kind in KINDS:
        mask = kinds == kind
        q[mask] = bh(p[mask])
    one_sided = (index["patterns_vi"].to_numpy() == 0) | (index["patterns_en"].to_numpy() == 0)
    outside = tested & ((low > margin) | (high < 1 / margin))
    inside = tested & (low >= 1 / margin) & (high <= margin)
    significant = tested & (q < 0.05)
    reasons = []
    for i in range(len(cols)):
        why = []
        if one_sided[i]:
            why.append("one-sided codebook entry (patterns in one language only)")
        if significant[i]:
            why.append(f"paired test q = {q[i]:.3g}")
        if outside[i]:
            why.append(f"ratio interval outside [{1 / margin:.2f}, {margin:.2f}]")
        reasons.append("; ".join(why))
    both = ((cv > 0) & (ce > 0)).sum(axis=0)
    table = index.copy()
    table["hits_vi"] = h_vi.astype(np.int64)
    table["hits_en"] = h_en.astype(np.int64)
    table["pairs"] = len(dv)
    table["pairs_both"] = both
    table["pairs_vi_only"] = ((cv > 0) & (ce == 0)).sum(axis=0)
    table["pairs_en_only"] = ((cv == 0) & (ce > 0)).sum(axis=0)
    table["rate_vi"] = h_vi / dv.sum() * scale if dv.sum() else np.nan
    table["rate_en"] = h_en / de.sum() * scale if de.sum() else np.nan
    table["ratio"] = ratio
    table["ci_low"] = low
    table["ci_high"] = high
    table["p"] = p
    table["q"] = q
    table["equivalent"] = inside
    table["flag"] = one_sided | significant | outside
    table["reason"] = reasons
    return table


def denominator_table(counts_vi: pd.DataFrame, counts_en: pd.DataFrame, den_vi: pd.DataFrame, den_en: pd.DataFrame,
                      index: pd.DataFrame, *, n_boot: int = 500, n_resamples: int = 2000, seed: int = 0, margin: float = 1.25) -> pd.DataFrame:
    """Each candidate denominator measured on translations: which one means the same in both languages?

    Per denominator: ``median_pair_ratio`` (median over pairs of ``D_vi / D_en``: 1 = a pair's
    two sides have the same size), ``log_ratio_sd`` (spread of ``log(D_vi / D_en)`` over pairs:
    0 = the size of a translation is predictable), ``all_concepts_ratio`` (vi/en rate of all
    concept hits together), and, with :func:`equivalence_table` run under that denominator, the
    number of concepts and frames tested and the share flagged by the paired test (q < 0.05).
    """
    rows = []
    for name in DENOMINATORS:
        dv, de = den_vi[name].to_numpy(dtype=float), den_en[name].to_numpy(dtype=float)
        ok = (dv > 0) & (de > 0)
        ratios = dv[ok] / de[ok]
        table = equivalence_table(counts_vi, counts_en, den_vi, den_en, index, denominator=name, n_boot=n_boot, n_resamples=n_resamples, seed=seed, margin=margin)
        row = {"denominator": name, "unit": UNIT_LABEL[name],
               "total_vi": float(dv.sum()), "total_en": float(de.sum()),
               "median_pair_ratio": float(np.median(ratios)) if len(ratios) else np.nan,
               "log_ratio_sd": float(np.std(np.log(ratios), ddof=1)) if len(ratios) > 1 else np.nan,
               "all_concepts_ratio": float(rate_ratio(den_vi["concept_hits"].sum(), dv.sum(), den_en["concept_hits"].sum(), de.sum()))}
        for kind in ("concept", "frame"):
            rows_k = table[(table["kind"] == kind) & table["p"].notna()]
            row[f"{kind}s_tested"] = len(rows_k)
            row[f"{kind}s_q05"] = int((rows_k["q"] < 0.05).sum())
            row[f"{kind}s_q05_share"] = float((rows_k["q"] < 0.05).mean()) if len(rows_k) else np.nan
        row["chosen"] = name == CROSS_LANGUAGE_DENOMINATOR
        rows.append(row)
    return pd.DataFrame(rows)


def summary_table(table: pd.DataFrame, den_vi: pd.DataFrame, den_en: pd.DataFrame, *, denominator: str = CROSS_LANGUAGE_DENOMINATOR) -> pd.DataFrame:
    """The check in a few lines: ``measure, value, goal, met`` (the goals of the equivalence benchmark, benchmarks/equivalence.py)."""
    rows = []
    concepts = table[(table["kind"] == "concept") & table["p"].notna()]
    frames = table[(table["kind"] == "frame") & table["p"].notna()]
    share = float((concepts["q"] < 0.05).mean()) if len(concepts) else 0.0
    n_frames = int((frames["q"] < 0.05).sum())
    rows.append(("pairs (translated documents)", len(den_vi), "", ""))
    rows.append(("denominator of cross-language rates", UNIT_LABEL[denominator], "", ""))
    rows.append(("concepts tested (with a hit)", len(concepts), "", ""))
    rows.append(("share of concepts at q < 0.05, paired", round(share, 4), "<= 0.02", "yes" if share <= 0.02 else "no"))
    rows.append(("frames at q < 0.05, paired", n_frames, "0", "yes" if n_frames == 0 else "no"))
    for kind in KINDS:
        rows_k = table[table["kind"] == kind]
        rows.append((f"{kind}s flagged non-equivalent", f"{int(rows_k['flag'].sum())} of {len(rows_k)}", "", ""))
    one_sided = table[(table["kind"] != "concept") | ~table["entry"].isin(table.loc[table["kind"] == "actor", "entry"])]
    one_sided = one_sided[(one_sided["patterns_vi"] == 0) | (one_sided["patterns_en"] == 0)]
    rows.append(("one-sided codebook entries", len(one_sided), "0", "yes" if len(one_sided) == 0 else "no"))
    for lang, den in (("vi", den_vi), ("en", den_en)):
        tokens = den["tokens"].sum()
        rows.append((f"coverage {lang}: concept hits per 100 sentences", round(100 * den["concept_hits"].sum() / max(1, den["sentences"].sum()), 2), "", ""))
        rows.append((f"coverage {lang}: concept hits per 1,000 counted tokens", round(1000 * den["concept_hits"].sum() / max(1, tokens), 2), "", ""))
    ratio = den_vi["tokens"].sum() / max(1, den_en["tokens"].sum())
    rows.append(("counted tokens vi / en (length ratio of translations)", round(float(ratio), 3), "", ""))
    return pd.DataFrame(rows, columns=["measure", "value", "goal", "met"])


# ----------------------------------------------------------------------------- calibration


def calibrated_ratios(study_vi: pd.DataFrame, study_den_vi: pd.DataFrame, study_en: pd.DataFrame, study_den_en: pd.DataFrame,
                      pairs_vi: pd.DataFrame, pairs_den_vi: pd.DataFrame, pairs_en: pd.DataFrame, pairs_den_en: pd.DataFrame,
                      index: pd.DataFrame, *, denominator: str = CROSS_LANGUAGE_DENOMINATOR, n_boot: int = 2000, seed: int = 0,
                      level: float = 0.95, min_docs: int = MIN_GROUP_DOCS) -> pd.DataFrame:
    """A study's cross-language differences relative to what the instrument shows on translations.

    ``observed = rate_vi / rate_en`` in the study corpus (pooled rates, :func:`rate_ratio`);
    ``translation = rate_vi / rate_en`` on the translated pairs; ``calibrated = observed /
    translation``: 1 = the study's languages differ no more than translations of the same content
    do. The interval comes from independent bootstraps of both: the study's documents resampled
    within each language (the document is the unit), the translated pairs resampled as pairs;
    ``log calibrated_b = log observed_b - log translation_b``, percentile interval.

    Assumption: the instrument's bias on translations (its ``translation`` ratio) is the bias it
    has on the study corpus, i.e. the parallel sample resembles the study's texts in register and
    topic, and the two samples are independent. Machine-translated or off-topic parallel text
    makes the calibration approximate; the interval does not carry that.

    A language with fewer than ``min_docs`` study documents makes every row ``too_small``: its
    resamples cannot show between-document variation, so the interval is too narrow.

    Columns: ``kind, family, entry, label, hits_vi, hits_en, rate_vi, rate_en, observed,
    observed_low, observed_high, translation, translation_low, translation_high, calibrated,
    ci_low, ci_high, too_small, note``.
    """
    cols = [_key(k, f, e) for k, f, e in zip(index["kind"], index["family"], index["entry"])]
    small = [f"{lang} has {n} document{'s' if n != 1 else ''}" for lang, n in (("vi", len(study_vi)), ("en", len(study_en))) if n < min_docs]
    small_note = f"too small: {', '.join(small)} (fewer than {min_docs})" if small else ""
    sv = study_vi.reindex(columns=cols, fill_value=0).to_numpy(dtype=float)
    se = study_en.reindex(columns=cols, fill_value=0).to_numpy(dtype=float)
    pv = pairs_vi.reindex(columns=cols, fill_value=0).to_numpy(dtype=float)
    pe = pairs_en.reindex(columns=cols, fill_value=0).to_numpy(dtype=float)
    sdv, sde = study_den_vi[denominator].to_numpy(float), study_den_en[denominator].to_numpy(float)
    pdv, pde = pairs_den_vi[denominator].to_numpy(float), pairs_den_en[denominator].to_numpy(float)
    alpha = (1 - level) / 2
    observed = rate_ratio(sv.sum(0), sdv.sum(), se.sum(0), sde.sum())
    translation = rate_ratio(pv.sum(0), pdv.sum(), pe.sum(0), pde.sum())
    obs_b = bootstrap_log_ratios(sv, sdv, se, sde, n_boot=n_boot, rng=keyed_rng(seed, "calibration", "study"), paired=False)
    tr_b = bootstrap_log_ratios(pv, pdv, pe, pde, n_boot=n_boot, rng=keyed_rng(seed, "calibration", "translation"), paired=True)
    table = index[["kind", "family", "entry", "label"]].copy()
    scale = SCALE[denominator]
    table["hits_vi"] = sv.sum(0).astype(np.int64)
    table["hits_en"] = se.sum(0).astype(np.int64)
    table["rate_vi"] = sv.sum(0) / sdv.sum() * scale if sdv.sum() else np.nan
    table["rate_en"] = se.sum(0) / sde.sum() * scale if sde.sum() else np.nan
    table["observed"] = observed
    table["observed_low"], table["observed_high"] = np.exp(np.quantile(obs_b, [alpha, 1 - alpha], axis=0))
    table["translation"] = translation
    table["translation_low"], table["translation_high"] = np.exp(np.quantile(tr_b, [alpha, 1 - alpha], axis=0))
    table["calibrated"] = observed / translation
    table["ci_low"], table["ci_high"] = np.exp(np.quantile(obs_b - tr_b, [alpha, 1 - alpha], axis=0))
    notes = []
    for i in range(len(cols)):
        if pv[:, i].sum() + pe[:, i].sum() == 0:
            notes.append("no hit in the parallel sample: the calibration is uninformed")
        elif sv[:, i].sum() + se[:, i].sum() == 0:
            notes.append("no hit in the study corpus")
        else:
            notes.append("")
    table["too_small"] = bool(small)
    table["note"] = ["; ".join(x for x in (small_note, n) if x) for n in notes]
    return table[(table["hits_vi"] + table["hits_en"]) > 0].reset_index(drop=True)


# ---------------------------------------------------------------------------- pattern sources


def pattern_sources(annotations: Iterable[Annotation], codebook: Codebook) -> pd.DataFrame:
    """Which patterns made each frame's, actor's and concept's hits, per language.

    A frame dominated by one generic word ("people" for people-to-people, "government" for
    responsibility) measures that word; a reader must see it. Columns: ``kind, family, entry,
    label, language, pattern, hits, share`` (of the entry's hits in that language),
    ``entry_hits``; sorted by kind, entry, language and descending hits.

    Examples
    --------
    A Vietnamese sentence where two patterns of one concept hit, one of them twice:

    >>> from analysis.framing.codebook import parse_codebook
    >>> from analysis.framing import measures as framing
    >>> from analysis.text import tokens
    >>> cb = parse_codebook("concepts:\\n  trade: {vi: [thương_mại, buôn_bán], en: [trade]}\\n")
    >>> doc = tokens.PreparedDocument("v1", "vi", [[["buôn_bán", "và", "thương_mại", "buôn_bán", "."]]])
    >>> table = pattern_sources([framing.annotate(doc, tokens.TermRules({}), cb)], cb)
    >>> print(table[["language", "pattern", "hits", "share", "entry_hits"]].round(2).to_string(index=False))
    language    pattern  hits  share  entry_hits
          vi   buôn_bán     2   0.67           3
          vi thương_mại     1   0.33           3
    """
    labels = {("frame", e.id): e.label for e in codebook.frames}
    labels.update({("actor", e.id): e.label for e in codebook.actors})
    labels.update({("concept", e.id): e.label for e in (*codebook.concepts, *codebook.actors)})
    kinds = {e.id: e.family for e in codebook.actors}
    counter: dict[tuple[str, str, str, str, str], int] = {}
    for a in annotations:
        sections = [("frame", family, sentences) for family, sentences in a.frames.items()]
        sections += [("actor", "", a.actors), ("concept", "", a.concepts)]
        for kind, family, sentences in sections:
            for hits in sentences:
                for h in hits:
                    fam = family if kind == "frame" else (kinds.get(h.entry, "") if kind == "actor" else "")
                    key = (kind, fam, h.entry, a.language, h.pattern)
                    counter[key] = counter.get(key, 0) + 1
    table = pd.DataFrame([(*k, v) for k, v in counter.items()], columns=["kind", "family", "entry", "language", "pattern", "hits"])
    if table.empty:
        return pd.DataFrame(columns=["kind", "family", "entry", "label", "language", "pattern", "hits", "share", "entry_hits"])
    totals = table.groupby(["kind", "family", "entry", "language"])["hits"].transform("sum")
    table["share"] = table["hits"] / totals
    table["entry_hits"] = totals
    table.insert(3, "label", [labels.get((k, e), e) for k, e in zip(table["kind"], table["entry"])])
    order = {k: i for i, k in enumerate(KINDS)}
    table["_k"] = table["kind"].map(order)
    table = table.sort_values(["_k", "family", "entry", "language", "hits", "pattern"], ascending=[True, True, True, True, False, True], kind="mergesort")
    return table.drop(columns="_k").reset_index(drop=True)


__all__ = [
    "CROSS_LANGUAGE_DENOMINATOR", "DENOMINATORS", "calibrated_ratios", "denominator_table", "entry_counts", "entry_index",
    "equivalence_table", "paired_tests", "pattern_sources", "sign_flip_pvalues", "summary_table",
]
