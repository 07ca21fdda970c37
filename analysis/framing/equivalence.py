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
  hit, the rate ratio vi/en with 95% and 90% bootstrap intervals over the translated pairs, a
  paired sign-flip test, the equivalence ``status`` (:func:`equivalence_status`: shown
  equivalent, shown not equivalent, undetermined, corrected across the kind; ``status_per_entry``
  uncorrected), ``tost_p`` (:func:`tost_pvalues`, :func:`verdict_pvalues`),
  ``pairs_needed`` for the undetermined (:func:`pairs_needed`), and a flag for suspect entries.
* :func:`paired_tests`: the paired test alone, on any per-pair table.
* :func:`denominator_table`: each candidate denominator (and presence) measured on the translations,
  with the status shares under each (a sensitivity table).
* :func:`calibrated_ratios`: a study's observed vi/en ratio divided by the translation ratio.
* :func:`pattern_sources`: which codebook patterns produced each entry's hits, per language.
* :func:`status_shares`, :func:`summary_table`: the shares shown equivalent / not equivalent /
  undetermined per kind first, then the paired tests, flags and coverage.

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
and the framing tables keep them. Caveat: ``parallel_news_mt`` is sentence-aligned machine
translation, whose two sides have the same number of sentences by construction; it cannot judge
the sentence denominator, only the others. A human-translated or article-level sample (translators
merge, split and drop sentences) judges it; :func:`denominator_table` reports the status shares
under every candidate so that such a sample can.

**Equivalence is shown, not assumed** (Schuirmann 1987; Lakens 2017): "no significant difference"
on translations is not "the same". An entry is shown equivalent when its 90% interval (both
one-sided 5% tests) lies inside the margin ``[1/margin, margin]`` (the study's ``[equivalence]
margin``, default 1.25); most entries of a 119-pair sample are neither shown equivalent nor shown
different, and :func:`pairs_needed` says how many pairs would decide them. A table gives a verdict
for every entry, so the verdicts are corrected across each kind's entries (Benjamini-Hochberg on
their bootstrap p-values, :func:`equivalence_status`); each entry's own verdict is kept beside.

Randomness: every resampling draws from ``numpy.random.default_rng([seed, crc32(label)])``
(:func:`analysis.stats.groups.keyed_rng`), so the same inputs give the same numbers.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from ..stats.groups import keyed_rng
from ..stats.resampling import MIN_GROUP_DOCS
from .codebook import Codebook
from .measures import Annotation

KINDS = ("frame", "actor", "concept")
DENOMINATORS = ("documents", "sentences", "tokens", "words", "concept_hits")
#: The denominator of cross-language rates (hits per 100 sentences); see the module docstring.
CROSS_LANGUAGE_DENOMINATOR = "sentences"
SCALE = {"documents": 1.0, "sentences": 100.0, "tokens": 1000.0, "words": 1000.0, "concept_hits": 1000.0}
UNIT_LABEL = {
    "documents": "per document",
    "sentences": "per 100 sentences",
    "tokens": "per 1,000 counted tokens",
    "words": "per 1,000 word tokens",
    "concept_hits": "per 1,000 concept hits",
}
#: 0.5 added to both languages' hit totals before a ratio is formed (Haldane's correction), so an
#: entry with no hit on one side has a finite ratio and interval.
PSEUDO = 0.5
#: Candidate measures of :func:`denominator_table`: the denominators, and ``presence`` (documents
#: that mention the entry at least once, per document).
MEASURES = (*DENOMINATORS, "presence")
UNIT_LABEL["presence"] = "share of documents mentioning (presence)"
SCALE["presence"] = 1.0
#: The three verdicts of :func:`equivalence_table` (``status``).
SHOWN_EQUIVALENT, SHOWN_NOT_EQUIVALENT, UNDETERMINED = "shown equivalent", "shown not equivalent", "undetermined"
STATUSES = (SHOWN_EQUIVALENT, SHOWN_NOT_EQUIVALENT, UNDETERMINED)
#: Size of each one-sided test of TOST: equivalence is shown by the two-sided 1 - 2 * 0.05 = 90% interval.
TOST_ALPHA = 0.05
#: Bootstrap replicates held at once by :func:`equivalence_table` (resamples × entries; 32 MB of
#: float64): a large codebook, whose verdicts need many resamples (:func:`verdict_resamples`), is
#: processed a block of entries at a time.
BLOCK_CELLS = 4_000_000


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
    >>> docs = [PreparedDocument("v1", "vi", [[["thương_mại", "tăng", "."]]]), PreparedDocument("e1", "en", [[["trade",
    ...     "grew", "."]]])]
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


def paired_tests(
    wide: pd.DataFrame, *, a: str, b: str, by: Sequence[str], n_resamples: int = 5000, seed: int = 0
) -> pd.DataFrame:
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
        records.append(
            (
                *(key if isinstance(key, tuple) else (key,)),
                len(d),
                float(g[a].mean()),
                float(g[b].mean()),
                float(d.mean()),
            )
        )
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
    return np.exp(log_rate_ratio(hits_vi, den_vi, hits_en, den_en))


def log_rate_ratio(hits_vi, den_vi, hits_en, den_en) -> np.ndarray:
    """``log rate_ratio``, computed as ``(log(H_vi + 0.5) - log D_vi) - (log(H_en + 0.5) - log D_en)``.

    Written as a difference of the two sides' log rates so that swapping the languages negates it
    exactly (floating-point subtraction is antisymmetric): the verdicts of
    :func:`equivalence_table` then do not depend on which language is called "vi".
    """
    with np.errstate(divide="ignore"):
        side_vi = np.log(np.asarray(hits_vi, float) + PSEUDO) - np.log(np.asarray(den_vi, float))
        side_en = np.log(np.asarray(hits_en, float) + PSEUDO) - np.log(np.asarray(den_en, float))
    return side_vi - side_en


def bootstrap_log_ratios(
    counts_vi: np.ndarray,
    den_vi: np.ndarray,
    counts_en: np.ndarray,
    den_en: np.ndarray,
    *,
    n_boot: int,
    rng: np.random.Generator,
    paired: bool = True,
) -> np.ndarray:
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
    return log_rate_ratio(h_vi, d_vi, h_en, d_en)


def percentile_interval(replicates: np.ndarray, *, level: float) -> tuple[np.ndarray, np.ndarray]:
    """Percentile interval of bootstrap replicates, per column: ``(q_a, q_{1-a})`` with ``a = (1 - level) / 2``.

    The upper bound is computed as ``-quantile(-x, a)`` (equal to ``quantile(x, 1 - a)`` up to
    rounding), so that negating the replicates (swapping the languages) swaps and negates the
    bounds exactly.
    """
    x = np.asarray(replicates, dtype=float)
    a = (1 - level) / 2
    return np.quantile(x, a, axis=0), -np.quantile(-x, a, axis=0)


def tost_pvalues(replicates: np.ndarray, *, margin: float = 1.25) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The two one-sided tests of equivalence (TOST) on bootstrap replicates of a log ratio.

    What: for the null hypotheses ``log ratio <= -delta`` and ``log ratio >= delta`` with
    ``delta = log(margin)``, the bootstrap p-values

    ``p_lower = (1 + #{b: x_b <= -delta}) / (1 + B)``,  ``p_upper = (1 + #{b: x_b >= delta}) / (1 + B)``,

    and ``tost_p = max(p_lower, p_upper)``: equivalence within ``[1/margin, margin]`` is shown at
    level alpha when ``tost_p < alpha`` (Schuirmann 1987; Lakens 2017).

    Why the bootstrap and not a t approximation: the verdict of :func:`equivalence_table` is read
    from the percentile interval of these same replicates (TOST at 5% = the 90% interval inside the
    margin), and these p-values are that interval's dual (``p_lower < 0.05`` exactly when fewer
    than 5% of the replicates lie at or below ``-delta``), so ``status`` and ``tost_p`` agree
    except within ``1/B`` of the boundary. A paired t-test on per-pair log ratios would test a
    different quantity (the mean of per-pair log ratios, not the ratio of pooled rates) and is
    undefined for the many pairs where an entry has no hit on one side.

    Returns ``(p_lower, p_upper, tost_p)``, one value per column of ``replicates`` (B × items).

    References: Schuirmann, D. J. (1987). A comparison of the two one-sided tests procedure and the
    power approach for assessing the equivalence of average bioavailability. *Journal of
    Pharmacokinetics and Biopharmaceutics* 15(6), 657-680. Lakens, D. (2017). Equivalence tests.
    *Social Psychological and Personality Science* 8(4), 355-362.

    Examples
    --------
    Seven replicates, margin 1.25 (``delta = 0.223``): one at or below ``-delta``, two at or above.

    >>> x = np.array([[-0.3], [-0.1], [0.0], [0.05], [0.1], [0.25], [0.3]])
    >>> [float(v[0]) for v in tost_pvalues(x, margin=1.25)]
    [0.25, 0.375, 0.375]
    """
    x = np.asarray(replicates, dtype=float)
    delta = np.log(margin)
    b = x.shape[0]
    p_lower = (1 + (x <= -delta).sum(axis=0)) / (1 + b)
    p_upper = (1 + (x >= delta).sum(axis=0)) / (1 + b)
    return p_lower, p_upper, np.maximum(p_lower, p_upper)


def one_hit_shift(hits: np.ndarray) -> np.ndarray:
    """``log((H + 1.5) / (H + 0.5))``: how far one more hit on a side moves the log ratio (Haldane-corrected)."""
    hits = np.asarray(hits, dtype=float)
    return np.log((hits + 1 + PSEUDO) / (hits + PSEUDO))


def verdict_pvalues(
    replicates: np.ndarray, hits_vi: np.ndarray, hits_en: np.ndarray, *, margin: float = 1.25
) -> tuple[np.ndarray, np.ndarray]:
    """Per entry, the bootstrap p-values behind the two verdicts: ``(tost_p_one_more_hit, p_outside)``.

    What, with ``delta = log(margin)``, ``x_b`` the ``B`` replicates of the log ratio and
    ``s_vi = log((H_vi + 1.5)/(H_vi + 0.5))``, ``s_en`` likewise (:func:`one_hit_shift`: how far one
    more hit on that side moves the ratio):

    * ``tost_p_one_more_hit = max(p_lower, p_upper)`` with ``p_lower = (1 + #{x_b - s_en <= -delta})
      / (1 + B)`` and ``p_upper = (1 + #{x_b + s_vi >= delta}) / (1 + B)``: :func:`tost_pvalues` of the
      replicates moved by one more hit against equivalence on each side, so that an entry is shown
      equivalent only when the verdict survives one unseen discordant hit (the one-more-hit rule
      of :func:`equivalence_status`). At least the plain ``tost_p``.
    * ``p_outside = min(1, 2 min(p_above, p_below))`` with ``p_above = (1 + #{x_b <= delta}) / (1 + B)``
      (null: the ratio is at most ``margin``) and ``p_below = (1 + #{x_b >= -delta}) / (1 + B)``
      (null: at least ``1/margin``): the test of the null "inside the margin", each direction
      Bonferroni-doubled. ``p_outside < 0.05`` exactly when the 95% percentile interval lies
      wholly outside the margin (up to ``1/B``), the per-entry rule before any correction.

    Both are percentile-bootstrap p-values, duals of the intervals the table prints (Efron &
    Tibshirani 1993, *An Introduction to the Bootstrap*, ch. 16), computed with comparisons that
    negating the replicates mirrors exactly, so swapping the languages keeps them.

    Examples
    --------
    Seven replicates, margin 1.25 (``delta = 0.223``), 100 hits a side (a shift of 0.00995):

    >>> x = np.array([[-0.3], [-0.1], [0.0], [0.05], [0.1], [0.25], [0.3]])
    >>> [round(float(v[0]), 3) for v in verdict_pvalues(x, np.array([100.0]), np.array([100.0]))]
    [0.375, 1.0]
    """
    x = np.asarray(replicates, dtype=float)
    delta = np.log(margin)
    b = x.shape[0]
    s_vi, s_en = one_hit_shift(hits_vi), one_hit_shift(hits_en)
    p_lower = (1 + (x - s_en <= -delta).sum(axis=0)) / (1 + b)
    p_upper = (1 + (x + s_vi >= delta).sum(axis=0)) / (1 + b)
    p_above = (1 + (x <= delta).sum(axis=0)) / (1 + b)
    p_below = (1 + (x >= -delta).sum(axis=0)) / (1 + b)
    return np.maximum(p_lower, p_upper), np.minimum(1.0, 2 * np.minimum(p_above, p_below))


#: The correction of the verdicts across a family (every entry of one kind with a hit):
#: Benjamini-Hochberg, see :func:`equivalence_status`.
VERDICT_CORRECTION = "bh"


def equivalence_status(
    tost_p: np.ndarray,
    p_outside: np.ndarray,
    *,
    families: np.ndarray | None = None,
    correction: str = VERDICT_CORRECTION,
    alpha: float = TOST_ALPHA,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The three-way verdict per entry, corrected across its family: ``(status, tost_q, q_outside)``.

    What: within each family (the entries sharing ``families``, by default all; NaN p-values,
    entries without a hit, are left out), ``tost_q`` and ``q_outside`` are the ``correction``-adjusted
    ``tost_p`` and ``p_outside`` (:func:`analysis.stats.multiplicity.adjust`; ``"none"`` keeps them), and

    * **shown not equivalent**: ``q_outside < alpha`` (the ratio lies outside ``[1/margin, margin]``);
    * **shown equivalent**: ``tost_q < alpha`` (inside the margin: both one-sided tests of TOST
      reject, Schuirmann 1987, Lakens 2017);
    * **undetermined**: neither, or no p-value.

    Pass ``tost_p`` with the one-more-hit rule applied (``tost_p_one_more_hit`` of
    :func:`verdict_pvalues`): the pair bootstrap resamples only the disagreements between
    translations it has seen, so an entry hit once, in the same pair, on both sides has a zero-width
    interval at ratio 1; a verdict that one unseen discordant hit would overturn is not shown (the
    idea of the fragility index, Walsh et al. 2014, *Journal of Clinical Epidemiology* 67(6),
    622-628). At margin 1.25 it asks for at least 4 hits on each side.

    Why a correction, and which: a table gives a verdict for each of ~200 entries. Uncorrected,
    every entry whose true ratio sits at the margin's edge has a 2.5% chance of a false "shown not
    equivalent", so 200 such entries give about 5 false ones. Benjamini-Hochberg (1995) over the
    family makes each list a discovery list with a controlled error rate:

    * among the entries shown not equivalent, the expected share whose true ratio is inside the
      margin is at most ``alpha`` (5%; at most 2.5% from entries at one edge, where only one
      direction can err); when every entry is at the edge, that is the chance of any false
      "shown not equivalent" in the family;
    * among the entries shown equivalent, the expected share whose true ratio is outside the
      margin is at most ``alpha``: TOST's p-value, the larger of its two one-sided p-values, is
      itself a valid p-value of the null "outside the margin" (an intersection-union test), so
      it is adjusted as one p-value per entry, not two (Lauzon & Caffo 2009, "Easy multiplicity
      control in equivalence testing using two one-sided tests", *The American Statistician*
      63(2), 147-154).

    BH rather than Holm: the verdicts are a screen of many entries, where a few false findings
    among many true ones are acceptable and the family-wise rate would leave almost every entry
    undetermined (Holm needs ``tost_p < 0.05 / m`` for the first one). The p-values of one table
    come from the same resamples of the same pairs and are positively dependent, the case of
    Benjamini & Yekutieli (2001, *Annals of Statistics* 29(4), 1165-1188) under which BH keeps its
    rate. The tests in tests/framing/test_equivalence.py simulate it.

    Returns ``status`` (array of :data:`STATUSES`), ``tost_q`` and ``q_outside`` (NaN where the p is).
    """
    from ..stats.multiplicity import adjust

    tost_p, p_outside = np.asarray(tost_p, dtype=float), np.asarray(p_outside, dtype=float)
    groups = np.zeros(len(tost_p)) if families is None else np.asarray(families)
    tost_q, q_outside = np.full(tost_p.shape, np.nan), np.full(tost_p.shape, np.nan)
    for family in pd.unique(groups):
        mask = groups == family
        if correction == "none":
            tost_q[mask], q_outside[mask] = tost_p[mask], p_outside[mask]
        else:
            tost_q[mask], q_outside[mask] = adjust(tost_p[mask], correction), adjust(p_outside[mask], correction)
    status = np.where(
        q_outside < alpha, SHOWN_NOT_EQUIVALENT, np.where(tost_q < alpha, SHOWN_EQUIVALENT, UNDETERMINED)
    ).astype(object)
    return status, tost_q, q_outside


def verdict_resamples(n_boot: int, tests: int, *, alpha: float = TOST_ALPHA) -> int:
    """Bootstrap resamples that let one entry of a family of ``tests`` reach a corrected verdict.

    ``p_outside`` is at least ``2 / (B + 1)`` and Benjamini-Hochberg's first threshold is
    ``alpha / tests``, so ``B + 1 >= 2 tests / alpha`` (40 per test at 5%: 7,040 for 176 concepts);
    fewer resamples would make a single clear difference undeclarable, whatever the data (the
    q floor a keyness table once had). Returns ``max(n_boot, ceil(2 tests / alpha) - 1)``.

    >>> verdict_resamples(2000, 176), verdict_resamples(2000, 15)
    (7039, 2000)
    """
    return max(int(n_boot), int(np.ceil(2 * tests / alpha - 1e-9)) - 1)


def pairs_needed(
    log_ratio: np.ndarray,
    se: np.ndarray,
    n: int,
    hits_vi: np.ndarray,
    hits_en: np.ndarray,
    *,
    margin: float = 1.25,
    alpha: float = TOST_ALPHA,
) -> np.ndarray:
    """Translated pairs that would decide an undetermined entry, from its observed ratio and spread.

    What: with ``delta = log(margin)``, ``L`` the observed log ratio and ``se`` the bootstrap
    standard deviation of ``log ratio`` over ``n`` pairs, an interval's half-width shrinks as
    ``z * se * sqrt(n / m)`` with ``m`` pairs. The target half-width is

    * ``delta - |L|`` with ``z = z_{1 - alpha}`` (1.645, the 90% interval of TOST) when ``|L| < delta``:
      equivalence can be shown;
    * ``|L| - delta`` with ``z = z_{1 - alpha/2}`` (1.96, the 95% interval) when ``|L| > delta``:
      non-equivalence can be shown;

    and ``m = n * (z * se / target)^2`` (rounded up; infinite when ``|L| = delta``). When equivalence
    is the target, :func:`equivalence_status` also asks that one more hit on either side keep the
    interval inside; the hits needed for that, ``h*`` (the least ``h`` with
    ``log((h + 1.5)/(h + 0.5)) <= delta - |L|``), give ``m >= n * h* / min(H_vi, H_en)`` (hits
    grow in proportion to pairs), and the larger of the two is returned.

    Why: "not significant" is not "the same"; an undetermined entry needs more data, and this says
    how much, assuming the ratio and the per-pair spread stay as observed (a planning figure, as
    any sample-size formula: Julious 2004, "Sample sizes for clinical trials with normal data",
    *Statistics in Medicine* 23(12), 1921-1986, section on equivalence).
    """
    delta = np.log(margin)
    lr = np.abs(np.asarray(log_ratio, dtype=float))
    se = np.asarray(se, dtype=float)
    z_equivalent, z_different = stats.norm.ppf(1 - alpha), stats.norm.ppf(1 - alpha / 2)
    hits_min = np.minimum(np.asarray(hits_vi, dtype=float), np.asarray(hits_en, dtype=float))
    out = np.full(lr.shape, np.inf)
    with np.errstate(divide="ignore", invalid="ignore"):
        toward_equal = lr < delta
        gap = np.where(toward_equal, delta - lr, lr - delta)
        z = np.where(toward_equal, z_equivalent, z_different)
        by_spread = n * (z * se / gap) ** 2
        # hits h* with log((h + 1.5)/(h + 0.5)) <= gap: h >= (1.5 - 0.5 e^gap) / (e^gap - 1)
        h_star = np.ceil(np.maximum(0.0, (1 + PSEUDO - PSEUDO * np.exp(gap)) / np.expm1(gap)))
        by_hits = np.where(toward_equal, n * h_star / np.maximum(hits_min, 1.0), 0.0)
        needed = np.maximum(by_spread, by_hits)
    ok = gap > 0
    out[ok] = np.ceil(needed[ok] - 1e-9)
    return out


def _measure(counts: np.ndarray, den: pd.DataFrame, denominator: str) -> tuple[np.ndarray, np.ndarray]:
    """The numerators and denominators of a candidate measure: hits per unit, or presence per document."""
    if denominator == "presence":
        return (counts > 0).astype(float), den["documents"].to_numpy(dtype=float)
    return counts, den[denominator].to_numpy(dtype=float)


def equivalence_table(
    counts_vi: pd.DataFrame,
    counts_en: pd.DataFrame,
    den_vi: pd.DataFrame,
    den_en: pd.DataFrame,
    index: pd.DataFrame,
    *,
    denominator: str = CROSS_LANGUAGE_DENOMINATOR,
    n_boot: int = 2000,
    n_resamples: int = 5000,
    seed: int = 0,
    margin: float = 1.25,
    level: float = 0.95,
) -> pd.DataFrame:
    """Per entry, how the instrument counts the same content in the two languages, and whether equivalence is shown.

    Equivalence is shown, not assumed: a paired test that finds no difference does not show that
    there is none. On its own, an entry is *shown equivalent* when its ratio's 90% interval lies
    inside the margin ``[1/margin, margin]`` (the two one-sided tests at 5%, TOST: Schuirmann 1987;
    Lakens 2017) and stays inside with one more hit on either side, *shown not equivalent* when its
    95% interval lies wholly outside (``status_per_entry``). A table gives such a verdict for every
    entry, so ``status`` corrects them across the family, the entries of one kind with a hit:
    Benjamini-Hochberg on the bootstrap p-values of each verdict (:func:`equivalence_status`), so
    that at most 5% of the entries a table shows equivalent, and at most 5% of those it shows not
    equivalent, are expected to be false. Otherwise *undetermined*; for an undetermined entry,
    ``pairs_needed`` says how many translated pairs would decide it on its own.

    Parameters
    ----------
    counts_vi, counts_en : DataFrame (pairs × entries)
        Hits per translated pair and entry (:func:`entry_counts`), rows aligned: row i of both is
        one pair (a document and its translation). Columns ``kind:family:entry``.
    den_vi, den_en : DataFrame (pairs × denominators), rows aligned like the counts.
    index : :func:`entry_index` (labels and pattern counts).
    denominator : one of :data:`MEASURES`; rates are hits per ``SCALE[denominator]`` units
        (``presence``: documents with at least one hit, per document).
    margin : the equivalence margin ``[1/margin, margin]`` of the vi/en ratio (the study's
        ``[equivalence] margin``, default 1.25: a difference under 25% either way is negligible).
    level : level of the two-sided interval ``ci_low, ci_high`` that shows non-equivalence (95%).

    Returns
    -------
    DataFrame with ``kind, family, entry, label, patterns_vi, patterns_en, hits_vi, hits_en,
    pairs, pairs_both, pairs_vi_only, pairs_en_only, rate_vi, rate_en, ratio, ci_low, ci_high,
    ci90_low, ci90_high, p, q, tost_p, tost_p_one_more_hit, tost_q, p_outside, q_outside,
    status_per_entry, status, pairs_needed, equivalent, flag, resamples, correction,
    adjusted_within, reason``:

    * ``ratio = ((H_vi + 0.5)/D_vi) / ((H_en + 0.5)/D_en)``, pooled over pairs (``H``: hits,
      ``D``: the denominator's total); 1 = the same rate in both languages;
    * ``ci_low, ci_high`` (``level``, 95%) and ``ci90_low, ci90_high`` (90%): percentile intervals
      of the ratio from ``resamples`` resamples of the pairs (both sides of a pair together):
      ``n_boot``, raised by :func:`verdict_resamples` to 40 per entry of the largest family so
      that a single entry can reach a corrected verdict (the intervals are per entry, uncorrected);
    * ``p``: paired sign-flip test (:func:`sign_flip_pvalues`) of the per-pair difference of rates
      ``h_vi/d_vi - h_en/d_en``; ``q``: Benjamini-Hochberg within each kind;
    * ``tost_p``: the larger of the two one-sided bootstrap p-values of TOST
      (:func:`tost_pvalues`, from the same replicates as the intervals); ``tost_p_one_more_hit``:
      the same with one more hit against equivalence on each side, and ``p_outside``: the
      p-value of "the ratio is outside the margin" (both :func:`verdict_pvalues`; per entry,
      uncorrected); ``tost_q`` and ``q_outside``: them Benjamini-Hochberg-adjusted within the kind;
    * ``status_per_entry``: the verdict of each entry on its own (``tost_p_one_more_hit < 0.05``
      shown equivalent, ``p_outside < 0.05`` shown not equivalent); ``status``: the verdict
      corrected across the kind (``tost_q``, ``q_outside`` < 0.05; :func:`equivalence_status`);
      ``equivalent``: ``status == "shown equivalent"``;
    * ``pairs_needed``: for undetermined entries, :func:`pairs_needed` (NaN otherwise, and for
      entries without a hit);
    * ``resamples``: the bootstrap resamples used; ``correction`` (``bh``) and ``adjusted_within``
      (the family of ``q``, ``tost_q`` and ``q_outside`` with its number of tests, as every test
      table: :func:`analysis.stats.multiplicity.declare_family`);
    * ``flag``: the entry is *suspect*: one-sided in the codebook, paired q < 0.05, or shown not
      equivalent; ``reason`` says which, or why the entry is undetermined (also when it is
      decided on its own but not after the correction). Entries without a hit
      are not tested (p, q NaN) but a one-sided one is still flagged. A flag is not a verdict:
      an entry can be flagged by q < 0.05 yet shown equivalent (a small, precisely measured
      difference), and most unflagged entries are undetermined.

    Examples
    --------
    Four translated pairs, hits of one concept and sentences per side:

    >>> from analysis.framing.codebook import parse_codebook
    >>> cb = parse_codebook("concepts:\\n  trade: {vi: [thương_mại], en: [trade]}\\n")
    >>> vi, en = pd.DataFrame({"concept::trade": [2, 1, 3, 0]}), pd.DataFrame({"concept::trade": [2, 2, 2, 1]})
    >>> den_vi, den_en = pd.DataFrame({"sentences": [10, 8, 12, 5]}), pd.DataFrame({"sentences": [10, 9, 11, 5]})
    >>> table = equivalence_table(vi, en, den_vi, den_en, entry_index(cb), n_boot=500, n_resamples=500, seed=1)
    >>> table[["entry", "hits_vi", "hits_en", "ratio", "flag", "status"]].round(3).to_dict("records")
    [{'entry': 'trade', 'hits_vi': 6, 'hits_en': 7, 'ratio': 0.867, 'flag': False, 'status': 'undetermined'}]

    (``ratio = ((6 + 0.5) / 35) / ((7 + 0.5) / 35)``: both sides have 35 sentences. Four pairs
    show nothing either way.)
    """
    cols = [_key(k, f, e) for k, f, e in zip(index["kind"], index["family"], index["entry"])]
    cv, dv = _measure(counts_vi.reindex(columns=cols, fill_value=0).to_numpy(dtype=float), den_vi, denominator)
    ce, de = _measure(counts_en.reindex(columns=cols, fill_value=0).to_numpy(dtype=float), den_en, denominator)
    scale = SCALE[denominator]
    n = len(dv)
    h_vi, h_en = cv.sum(axis=0), ce.sum(axis=0)
    tested = (h_vi + h_en) > 0
    kinds = index["kind"].to_numpy()
    family_sizes = [int((tested & (kinds == kind)).sum()) for kind in KINDS]
    n_boot = verdict_resamples(n_boot, max(family_sizes))
    log_ratio = log_rate_ratio(h_vi, dv.sum(), h_en, de.sum())
    low, high, low90, high90, tost_p, tost_robust, p_outside, se = (np.full(len(cols), np.nan) for _ in range(8))
    # the same resamples of the pairs for every entry, the replicates computed a block of entries at a time
    w = _weights(n, n_boot, keyed_rng(seed, "equivalence", denominator))
    d_vi, d_en = (w @ dv)[:, None], (w @ de)[:, None]
    step = max(1, BLOCK_CELLS // max(1, n_boot))
    for start in range(0, len(cols), step):
        block = slice(start, start + step)
        logs = log_rate_ratio(w @ cv[:, block], d_vi, w @ ce[:, block], d_en)
        low[block], high[block] = percentile_interval(logs, level=level)
        low90[block], high90[block] = percentile_interval(logs, level=1 - 2 * TOST_ALPHA)
        tost_p[block] = tost_pvalues(logs, margin=margin)[2]
        tost_robust[block], p_outside[block] = verdict_pvalues(logs, h_vi[block], h_en[block], margin=margin)
        if n_boot > 1:
            se[block] = logs.std(axis=0, ddof=1)
    del w
    with np.errstate(divide="ignore", invalid="ignore"):
        diff = np.where(dv[:, None] > 0, cv / dv[:, None], 0.0) - np.where(de[:, None] > 0, ce / de[:, None], 0.0)
    p = sign_flip_pvalues(diff, n_resamples, keyed_rng(seed, "equivalence-paired", denominator))
    p = np.where(tested, p, np.nan)
    tost_p, tost_robust, p_outside = (np.where(tested, v, np.nan) for v in (tost_p, tost_robust, p_outside))
    q = np.full(len(cols), np.nan)
    for kind in KINDS:
        mask = kinds == kind
        q[mask] = bh(p[mask])
    status, tost_q, q_outside = equivalence_status(tost_robust, p_outside, families=kinds)
    per_entry, _, _ = equivalence_status(tost_robust, p_outside, families=kinds, correction="none")
    needed = pairs_needed(log_ratio, se, n, h_vi, h_en, margin=margin)
    needed = np.where(tested & (status == UNDETERMINED), needed, np.nan)
    one_sided = (index["patterns_vi"].to_numpy() == 0) | (index["patterns_en"].to_numpy() == 0)
    outside = status == SHOWN_NOT_EQUIVALENT
    significant = tested & (q < 0.05)
    band = f"[{1 / margin:.2f}, {margin:.2f}]"
    reasons = []
    for i in range(len(cols)):
        why = []
        if one_sided[i]:
            why.append("one-sided codebook entry (patterns in one language only)")
        if significant[i]:
            why.append(f"paired test q = {q[i]:.3g}")
        if outside[i]:
            why.append(f"ratio outside {band} (q_outside = {q_outside[i]:.3g})")
        if status[i] == UNDETERMINED:
            if not tested[i]:
                why.append("undetermined: no hit in either language")
            elif per_entry[i] != UNDETERMINED:
                p_i, q_i = (
                    (p_outside[i], q_outside[i])
                    if per_entry[i] == SHOWN_NOT_EQUIVALENT
                    else (
                        tost_robust[i],
                        tost_q[i],
                    )
                )
                why.append(
                    f"undetermined: {per_entry[i]} on its own (p = {p_i:.3g}), not after Benjamini-Hochberg "
                    f"over the {kinds[i]}s (q = {q_i:.3g})"
                )
            elif tost_p[i] < TOST_ALPHA:
                why.append(
                    "undetermined: 90% interval inside the margin, but one more hit on one side would move it out "
                    "(too few hits)"
                )
            else:
                why.append("undetermined: interval crosses the margin")
        reasons.append("; ".join(why))
    both = ((cv > 0) & (ce > 0)).sum(axis=0)
    table = index.copy()
    table["hits_vi"] = h_vi.astype(np.int64)
    table["hits_en"] = h_en.astype(np.int64)
    table["pairs"] = n
    table["pairs_both"] = both
    table["pairs_vi_only"] = ((cv > 0) & (ce == 0)).sum(axis=0)
    table["pairs_en_only"] = ((cv == 0) & (ce > 0)).sum(axis=0)
    table["rate_vi"] = h_vi / dv.sum() * scale if dv.sum() else np.nan
    table["rate_en"] = h_en / de.sum() * scale if de.sum() else np.nan
    table["ratio"] = np.exp(log_ratio)
    table["ci_low"], table["ci_high"] = np.exp(low), np.exp(high)
    table["ci90_low"], table["ci90_high"] = np.exp(low90), np.exp(high90)
    table["p"] = p
    table["q"] = q
    table["tost_p"] = tost_p
    table["tost_p_one_more_hit"] = tost_robust
    table["tost_q"] = tost_q
    table["p_outside"] = p_outside
    table["q_outside"] = q_outside
    table["status_per_entry"] = per_entry
    table["status"] = status
    table["pairs_needed"] = needed
    table["equivalent"] = status == SHOWN_EQUIVALENT
    table["flag"] = one_sided | significant | outside
    table["resamples"] = n_boot
    from ..stats.multiplicity import declare_family

    table = declare_family(
        table, keys=["kind"], within="{kind}s with a hit in the translated pairs", correction=VERDICT_CORRECTION
    )
    table["reason"] = reasons
    return table


def status_shares(table: pd.DataFrame) -> pd.DataFrame:
    """Per kind, how many entries with a hit are shown equivalent, shown not equivalent, undetermined.

    Columns: ``kind, tested`` (entries with a hit), ``untested`` (no hit in either language: they
    show nothing and are left out of the shares), ``shown_equivalent, shown_not_equivalent,
    undetermined`` (counts of ``status``, the corrected verdicts), the same as ``*_share`` (of
    ``tested``), ``shown_equivalent_per_entry, shown_not_equivalent_per_entry`` (counts of
    ``status_per_entry``, uncorrected, when the table has it) and ``median_pairs_needed`` (over
    the undetermined entries with a finite figure).
    """
    rows = []
    for kind in KINDS:
        rows_k = table[table["kind"] == kind]
        tested = rows_k[(rows_k["hits_vi"] + rows_k["hits_en"]) > 0]
        row = {"kind": kind, "tested": len(tested), "untested": len(rows_k) - len(tested)}
        for name in STATUSES:
            key = name.replace(" ", "_")
            row[key] = int((tested["status"] == name).sum())
            row[f"{key}_share"] = row[key] / len(tested) if len(tested) else np.nan
        if "status_per_entry" in tested.columns:
            row["shown_not_equivalent_per_entry"] = int((tested["status_per_entry"] == SHOWN_NOT_EQUIVALENT).sum())
            row["shown_equivalent_per_entry"] = int((tested["status_per_entry"] == SHOWN_EQUIVALENT).sum())
        needed = tested.loc[tested["status"] == UNDETERMINED, "pairs_needed"].to_numpy(dtype=float)
        needed = needed[np.isfinite(needed)]
        row["median_pairs_needed"] = float(np.median(needed)) if len(needed) else np.nan
        rows.append(row)
    return pd.DataFrame(rows)


def denominator_table(
    counts_vi: pd.DataFrame,
    counts_en: pd.DataFrame,
    den_vi: pd.DataFrame,
    den_en: pd.DataFrame,
    index: pd.DataFrame,
    *,
    n_boot: int = 500,
    n_resamples: int = 2000,
    seed: int = 0,
    margin: float = 1.25,
) -> pd.DataFrame:
    """Each candidate measure on translations: under which is equivalence shown, and how often?

    What: per candidate of :data:`MEASURES` (per document, per 100 sentences, per 1,000 counted
    tokens, per 1,000 word tokens, per 1,000 concept hits, presence per document):
    ``median_pair_ratio`` (median over pairs of ``D_vi / D_en``: 1 = a pair's two sides have the
    same size), ``log_ratio_sd`` (spread of ``log(D_vi / D_en)`` over pairs: 0 = the size of a
    translation is predictable), ``all_concepts_ratio`` (vi/en rate of all concept hits together),
    and, with :func:`equivalence_table` run under that measure, per kind (concept, frame, actor)
    the entries tested, the shares shown equivalent / shown not equivalent / undetermined
    (:func:`status_shares`), and the number and share at paired q < 0.05.

    Why: the denominator is a choice, and a choice should be shown robust. Caveat: a
    sentence-aligned translation has the same number of sentences on both sides by construction,
    so such a sample favours the sentence denominator; a human-translated or article-level sample
    (translators merge, split and drop sentences) is what judges it.
    """
    rows = []
    for name in MEASURES:
        size = "documents" if name == "presence" else name
        dv, de = den_vi[size].to_numpy(dtype=float), den_en[size].to_numpy(dtype=float)
        ok = (dv > 0) & (de > 0)
        ratios = dv[ok] / de[ok]
        table = equivalence_table(
            counts_vi,
            counts_en,
            den_vi,
            den_en,
            index,
            denominator=name,
            n_boot=n_boot,
            n_resamples=n_resamples,
            seed=seed,
            margin=margin,
        )
        row = {
            "denominator": name,
            "unit": UNIT_LABEL[name],
            "total_vi": float(dv.sum()),
            "total_en": float(de.sum()),
            "median_pair_ratio": float(np.median(ratios)) if len(ratios) else np.nan,
            "log_ratio_sd": float(np.std(np.log(ratios), ddof=1)) if len(ratios) > 1 else np.nan,
            "all_concepts_ratio": float(
                rate_ratio(den_vi["concept_hits"].sum(), dv.sum(), den_en["concept_hits"].sum(), de.sum())
            ),
        }
        shares = status_shares(table).set_index("kind")
        for kind in ("concept", "frame", "actor"):
            row[f"{kind}s_tested"] = int(shares.loc[kind, "tested"])
            for status in STATUSES:
                row[f"{kind}s_{status.replace(' ', '_')}_share"] = float(
                    shares.loc[kind, f"{status.replace(' ', '_')}_share"]
                )
        for kind in ("concept", "frame"):
            rows_k = table[(table["kind"] == kind) & table["p"].notna()]
            row[f"{kind}s_q05"] = int((rows_k["q"] < 0.05).sum())
            row[f"{kind}s_q05_share"] = float((rows_k["q"] < 0.05).mean()) if len(rows_k) else np.nan
        row["chosen"] = name == CROSS_LANGUAGE_DENOMINATOR
        rows.append(row)
    return pd.DataFrame(rows)


def summary_table(
    table: pd.DataFrame,
    den_vi: pd.DataFrame,
    den_en: pd.DataFrame,
    *,
    denominator: str = CROSS_LANGUAGE_DENOMINATOR,
    margin: float = 1.25,
    max_not_equivalent: float = 0.02,
) -> pd.DataFrame:
    """The check in a few lines: ``measure, value, goal, met``, led by what equivalence has been shown.

    First, per kind, the shares of entries with a hit that are shown equivalent, shown not
    equivalent and undetermined (:func:`status_shares`: the verdicts corrected across the kind,
    Benjamini-Hochberg) and the median ``pairs_needed`` of the undetermined; the goal is that at
    most ``max_not_equivalent`` of all entries with a hit are shown not equivalent, followed by
    the shares of the uncorrected per-entry verdicts. Then the paired tests, the entries flagged
    (one-sided, paired q < 0.05 or shown not equivalent: a flag count is not a count of equivalent
    entries), one-sided entries and coverage. The goals are those of the equivalence benchmark
    (benchmarks/equivalence.py).
    """
    rows = []
    shares = status_shares(table)
    band = f"[{1 / margin:.2f}, {margin:.2f}]"
    rows.append(("pairs (translated documents)", len(den_vi), "", ""))
    rows.append(("denominator of cross-language rates", UNIT_LABEL[denominator], "", ""))
    rows.append(("equivalence margin of the vi/en ratio", band, "", ""))
    for r in shares.itertuples():
        of = f"of {r.tested} {r.kind}s with a hit"
        rows.append(
            (
                f"{r.kind}s shown equivalent (TOST inside {band}, BH over the {r.kind}s at 5%), share {of}",
                round(r.shown_equivalent_share, 4),
                "",
                "",
            )
        )
        rows.append(
            (
                f"{r.kind}s shown not equivalent (outside {band}, BH over the {r.kind}s at 5%), share {of}",
                round(r.shown_not_equivalent_share, 4),
                "",
                "",
            )
        )
        rows.append((f"{r.kind}s undetermined, share {of}", round(r.undetermined_share, 4), "", ""))
        rows.append(
            (f"{r.kind}s undetermined: median translated pairs needed to decide", r.median_pairs_needed, "", "")
        )
    tested = int(shares["tested"].sum())
    not_eq = float(shares["shown_not_equivalent"].sum() / tested) if tested else 0.0
    rows.append(
        (
            f"share of all {tested} entries with a hit shown not equivalent",
            round(not_eq, 4),
            f"<= {max_not_equivalent:g}",
            "yes" if not_eq <= max_not_equivalent else "no",
        )
    )
    if "shown_not_equivalent_per_entry" in shares.columns:
        for name in ("shown_not_equivalent", "shown_equivalent"):
            count = int(shares[f"{name}_per_entry"].sum())
            rows.append(
                (
                    f"share of all {tested} entries with a hit {name.replace('_', ' ')} on its own "
                    "(per entry, uncorrected: status_per_entry)",
                    round(count / tested, 4) if tested else 0.0,
                    "",
                    "",
                )
            )
    concepts = table[(table["kind"] == "concept") & table["p"].notna()]
    frames = table[(table["kind"] == "frame") & table["p"].notna()]
    share = float((concepts["q"] < 0.05).mean()) if len(concepts) else 0.0
    n_frames = int((frames["q"] < 0.05).sum())
    rows.append(("concepts tested (with a hit)", len(concepts), "", ""))
    rows.append(
        (
            "share of concepts at q < 0.05, paired (a difference found; no difference found is not equivalence)",
            round(share, 4),
            "<= 0.02",
            "yes" if share <= 0.02 else "no",
        )
    )
    rows.append(("frames at q < 0.05, paired", n_frames, "0", "yes" if n_frames == 0 else "no"))
    for kind in KINDS:
        rows_k = table[table["kind"] == kind]
        rows.append(
            (
                f"{kind}s flagged (one-sided, paired q < 0.05 or shown not equivalent; unflagged is not equivalent)",
                f"{int(rows_k['flag'].sum())} of {len(rows_k)}",
                "",
                "",
            )
        )
    one_sided = table[(table["kind"] != "concept") | ~table["entry"].isin(table.loc[table["kind"] == "actor", "entry"])]
    one_sided = one_sided[(one_sided["patterns_vi"] == 0) | (one_sided["patterns_en"] == 0)]
    rows.append(("one-sided codebook entries", len(one_sided), "0", "yes" if len(one_sided) == 0 else "no"))
    for lang, den in (("vi", den_vi), ("en", den_en)):
        tokens = den["tokens"].sum()
        rows.append(
            (
                f"coverage {lang}: concept hits per 100 sentences",
                round(100 * den["concept_hits"].sum() / max(1, den["sentences"].sum()), 2),
                "",
                "",
            )
        )
        rows.append(
            (
                f"coverage {lang}: concept hits per 1,000 counted tokens",
                round(1000 * den["concept_hits"].sum() / max(1, tokens), 2),
                "",
                "",
            )
        )
    ratio = den_vi["tokens"].sum() / max(1, den_en["tokens"].sum())
    rows.append(("counted tokens vi / en (length ratio of translations)", round(float(ratio), 3), "", ""))
    return pd.DataFrame(rows, columns=["measure", "value", "goal", "met"])


# ----------------------------------------------------------------------------- calibration


def calibrated_ratios(
    study_vi: pd.DataFrame,
    study_den_vi: pd.DataFrame,
    study_en: pd.DataFrame,
    study_den_en: pd.DataFrame,
    *,
    pairs_vi: pd.DataFrame,
    pairs_den_vi: pd.DataFrame,
    pairs_en: pd.DataFrame,
    pairs_den_en: pd.DataFrame,
    index: pd.DataFrame,
    denominator: str = CROSS_LANGUAGE_DENOMINATOR,
    n_boot: int = 2000,
    seed: int = 0,
    level: float = 0.95,
    min_docs: int = MIN_GROUP_DOCS,
) -> pd.DataFrame:
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
    small = [
        f"{lang} has {n} document{'s' if n != 1 else ''}"
        for lang, n in (("vi", len(study_vi)), ("en", len(study_en)))
        if n < min_docs
    ]
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
    obs_b = bootstrap_log_ratios(
        sv, sdv, se, sde, n_boot=n_boot, rng=keyed_rng(seed, "calibration", "study"), paired=False
    )
    tr_b = bootstrap_log_ratios(
        pv, pdv, pe, pde, n_boot=n_boot, rng=keyed_rng(seed, "calibration", "translation"), paired=True
    )
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
    tally = PatternTally(codebook)
    for a in annotations:
        tally.add(a)
    return tally.table()


class PatternTally:
    """:func:`pattern_sources` counted one annotation at a time (:meth:`add`), so a corpus's
    annotations need not be held: a count per (kind, family, entry, language, pattern)."""

    def __init__(self, codebook: Codebook):
        self.labels = {("frame", e.id): e.label for e in codebook.frames}
        self.labels.update({("actor", e.id): e.label for e in codebook.actors})
        self.labels.update({("concept", e.id): e.label for e in (*codebook.concepts, *codebook.actors)})
        self.kinds = {e.id: e.family for e in codebook.actors}
        self.counter: dict[tuple[str, str, str, str, str], int] = {}

    def add(self, a: Annotation) -> None:
        """Count the hits of one annotation."""
        kinds, counter = self.kinds, self.counter
        sections = [("frame", family, sentences) for family, sentences in a.frames.items()]
        sections += [("actor", "", a.actors), ("concept", "", a.concepts)]
        for kind, family, sentences in sections:
            for hits in sentences:
                for h in hits:
                    fam = family if kind == "frame" else (kinds.get(h.entry, "") if kind == "actor" else "")
                    key = (kind, fam, h.entry, a.language, h.pattern)
                    counter[key] = counter.get(key, 0) + 1

    def table(self) -> pd.DataFrame:
        """The table of :func:`pattern_sources` from the hits counted so far."""
        labels = self.labels
        table = pd.DataFrame(
            [(*k, v) for k, v in self.counter.items()],
            columns=["kind", "family", "entry", "language", "pattern", "hits"],
        )
        if table.empty:
            return pd.DataFrame(
                columns=["kind", "family", "entry", "label", "language", "pattern", "hits", "share", "entry_hits"]
            )
        totals = table.groupby(["kind", "family", "entry", "language"])["hits"].transform("sum")
        table["share"] = table["hits"] / totals
        table["entry_hits"] = totals
        table.insert(3, "label", [labels.get((k, e), e) for k, e in zip(table["kind"], table["entry"])])
        order = {k: i for i, k in enumerate(KINDS)}
        table["_k"] = table["kind"].map(order)
        table = table.sort_values(
            ["_k", "family", "entry", "language", "hits", "pattern"],
            ascending=[True, True, True, True, False, True],
            kind="mergesort",
        )
        return table.drop(columns="_k").reset_index(drop=True)


def corpus_counts(
    annotations: Iterable[Annotation], codebook: Codebook, *, entries: bool = True
) -> tuple[pd.DataFrame, tuple[pd.DataFrame, pd.DataFrame] | None]:
    """:func:`pattern_sources` and (``entries``) :func:`entry_counts` of ``annotations`` in one pass:
    each annotation is counted by both and dropped, so a stream of a corpus's annotations (about
    36-63 KB a document) is never held, only the tables (one row of entry counts a document).

    >>> from analysis.framing.codebook import parse_codebook
    >>> from analysis.framing.measures import annotate
    >>> from analysis.text.tokens import PreparedDocument, TermRules
    >>> cb = parse_codebook("concepts:\\n  trade: {vi: [thương_mại], en: [trade]}\\n")
    >>> docs = [PreparedDocument("v1", "vi", [[["thương_mại", "."]]]), PreparedDocument("e1", "en", [[["trade", "."]]])]
    >>> sources, (counts, _) = corpus_counts((annotate(d, TermRules({}), cb) for d in docs), cb)
    >>> sources["pattern"].tolist(), counts["concept::trade"].tolist()
    (['trade', 'thương_mại'], [1, 1])
    """
    tally = PatternTally(codebook)

    def counted() -> Iterator[Annotation]:
        for a in annotations:
            tally.add(a)
            yield a

    if not entries:
        for a in counted():
            pass
        return tally.table(), None
    counts = entry_counts(counted(), codebook)
    return tally.table(), counts


__all__ = [
    "CROSS_LANGUAGE_DENOMINATOR",
    "DENOMINATORS",
    "MEASURES",
    "STATUSES",
    "PatternTally",
    "calibrated_ratios",
    "corpus_counts",
    "denominator_table",
    "entry_counts",
    "entry_index",
    "equivalence_status",
    "equivalence_table",
    "paired_tests",
    "pairs_needed",
    "pattern_sources",
    "percentile_interval",
    "sign_flip_pvalues",
    "status_shares",
    "summary_table",
    "tost_pvalues",
    "verdict_pvalues",
    "verdict_resamples",
]
