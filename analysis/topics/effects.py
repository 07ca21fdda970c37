"""Topics in the design layer: a fitted topic model's document prevalence, its posterior, and
topic prevalence regressed on the study's covariates by the method of composition.

Pure computation on a saved model (:func:`analysis.stages.topics.load_model`: ``doc_topic`` θ per
unit, ``unit_tokens`` n_d, ``settings["alpha_fitted"]`` α), the metadata and a formula:

* :func:`posterior_gamma`: the Dirichlet parameters of each unit's θ, ``γ_d = θ_d (n_d + Σα)``.
  For tomotopy (collapsed Gibbs) ``θ_dk = (n_dk + α_k) / (n_d + Σα)`` from the final sample, so
  ``γ_dk = n_dk + α_k``: Dirichlet(n_dk + α) is θ's posterior *given that sample of topic
  assignments* (Griffiths & Steyvers 2004), not the full Gibbs posterior, which would also vary
  the assignments (the intervals are therefore somewhat too narrow). For gensim (variational
  Bayes) ``θ = γ / Σγ`` and ``Σγ = Σα + n_d`` at every iteration, so it is the variational
  posterior Dirichlet(γ) itself (Blei et al. 2003), which is known to understate spread.
* :func:`document_draws`: draws of each document's θ: a draw per unit from its Dirichlet, then
  the mean over the document's units (a document's prevalence is the mean of its units' θ, as
  in the topics stage's prevalence); the same random numbers as
  :func:`analysis.stats.models.dirichlet_draws` on the units, drawn one draw at a time so memory is
  draws × documents × K, not draws × units × K.
* :func:`topic_effects`: per model, the formula's coefficients for every topic by the method of
  composition (Treier & Jackman 2008; stm's ``estimateEffect``, Roberts, Stewart & Tingley 2019,
  :func:`analysis.stats.models.composition`): an OLS regression of the documents' θ on the covariates
  per draw, one coefficient draw from its sampling distribution, pooled: the interval combines
  the regression's sampling error (within draws) and the topic model's uncertainty about θ
  (between draws); plus the predicted prevalence by the focal covariate.
* :func:`document_prevalence`, :func:`topic_labels`: per-document prevalence (documents × topics)
  for ``[[compare]]`` and ``[time]``, and readable topic labels (the top terms).
"""

from __future__ import annotations

import itertools
import math
import re

import numpy as np
import pandas as pd

from ..stats import models

MODEL_TOPIC_COLUMNS = [
    "model",
    "topic",
    "label",
    "term",
    "estimate",
    "se",
    "ci_low",
    "ci_high",
    "draws",
    "n_docs",
    "formula",
    "too_small",
    "note",
]


def posterior_gamma(doc_topic: np.ndarray, unit_tokens: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """``γ_dk = θ_dk (n_d + Σ_k α_k)`` (units × K): the Dirichlet posterior parameters of each
    unit's topic proportions (``n_dk + α_k`` for a Gibbs fit; the variational γ for gensim).

    >>> posterior_gamma(np.array([[0.6, 0.4]]), np.array([8]), np.array([0.5, 0.5])).round(6).tolist()
    [[5.4, 3.6]]
    """
    doc_topic = np.asarray(doc_topic, dtype=float)
    scale = np.asarray(unit_tokens, dtype=float) + float(np.sum(alpha))
    return doc_topic * scale[:, None]


def unit_documents(unit_ids, kind: str) -> list[str]:
    """The document of each unit id (:func:`analysis.text.units.unit_id`: ``doc``, ``doc#p3``, ``doc#w3``)."""
    if kind == "document":
        return [str(u) for u in unit_ids]
    suffix = re.compile(r"#[pw]\d+$")
    return [suffix.sub("", str(u)) for u in unit_ids]


def _documents(unit_docs) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Documents in order of first appearance, each unit's document index, units per document."""
    inverse, ids = pd.factorize(pd.Index([str(d) for d in unit_docs]))
    return [str(d) for d in ids], inverse, np.bincount(inverse, minlength=len(ids)).astype(float)


def document_prevalence(doc_topic: np.ndarray, unit_docs, prefix: str = "T") -> pd.DataFrame:
    """Documents × topics (``T1`` ...): the mean θ of each document's units (documents in corpus order)."""
    ids, inverse, sizes = _documents(unit_docs)
    doc_topic = np.asarray(doc_topic, dtype=float)
    sums = np.zeros((len(ids), doc_topic.shape[1]))
    np.add.at(sums, inverse, doc_topic)
    return pd.DataFrame(
        sums / sizes[:, None],
        index=pd.Index(ids, name="doc_id"),
        columns=[f"{prefix}{k + 1}" for k in range(doc_topic.shape[1])],
    )


def document_draws(
    gamma: np.ndarray, unit_docs, *, n_draws: int, rng: np.random.Generator
) -> tuple[list[str], np.ndarray]:
    """Document ids (corpus order) and θ draws (draws × documents × K): per draw, one
    Dirichlet(γ_u) draw per unit (``Gamma(γ_uk, 1)`` normalised), averaged over each document's units."""
    ids, draws = document_draw_stream(gamma, unit_docs, n_draws=n_draws, rng=rng)
    return ids, draws.held()


#: θ draws up to this many bytes (draws × documents kept × K floats) are held in one array, laid out
#: as they always were; larger ones are made one draw at a time (:class:`DrawStream`).
HELD_DRAWS_BYTES = 256 * 2**20


class DrawStream:
    """The θ draws of :func:`document_draw_stream`, each made when it is read: iterate once, in
    order (the draws come from one generator, so the order is the random numbers' order).
    ``keep`` (document positions) narrows every draw to those documents. ``shape`` is that of the
    array the draws would fill: ``(draws, documents kept, K)``; ``nbytes`` its size."""

    def __init__(self, gamma: np.ndarray, inverse: np.ndarray, sizes: np.ndarray, n_draws: int, rng):
        self._gamma, self._inverse, self._sizes, self._rng = gamma, inverse, sizes, rng
        self.n_draws = n_draws
        self.keep: np.ndarray | None = None
        self._used = False

    @property
    def shape(self) -> tuple[int, int, int]:
        n = len(self._sizes) if self.keep is None else len(self.keep)
        return self.n_draws, n, self._gamma.shape[1]

    @property
    def nbytes(self) -> int:
        return int(np.prod(self.shape)) * 8

    def _draws(self):
        if self._used:
            raise RuntimeError("the θ draws are read once, in order")
        self._used = True
        for _ in range(self.n_draws):
            g = self._rng.standard_gamma(self._gamma)
            theta = g / g.sum(axis=1, keepdims=True)
            sums = np.zeros((len(self._sizes), self._gamma.shape[1]))
            np.add.at(sums, self._inverse, theta)
            yield sums / self._sizes[:, None]

    def __iter__(self):
        for draw in self._draws():
            yield draw if self.keep is None else draw[self.keep]

    def held(self) -> np.ndarray:
        """Every draw in one array (draws × documents kept × K), built as it was before the draws
        could be streamed: all documents, then the kept ones taken by one index, whose memory layout
        (documents outermost) the per-draw matrix products see. The products of a draw laid out
        another way (one contiguous draw) can differ in the last bit, so studies small enough to
        hold their draws keep this layout and their numbers."""
        out = np.empty((self.n_draws, len(self._sizes), self._gamma.shape[1]))
        for d, theta in enumerate(self._draws()):
            out[d] = theta
        return out if self.keep is None else out[:, self.keep, :]


def document_draw_stream(
    gamma: np.ndarray, unit_docs, *, n_draws: int, rng: np.random.Generator
) -> tuple[list[str], DrawStream]:
    """:func:`document_draws` one draw at a time: the document ids and a :class:`DrawStream` that
    makes each draw (documents × K) when it is read, the same numbers in the same order, so memory
    holds one draw instead of all (draws × documents × K floats: 100 draws of 81,000 documents and
    50 topics are 3.2 GB); :meth:`DrawStream.held` gives them in one array."""
    ids, inverse, sizes = _documents(unit_docs)
    return ids, DrawStream(np.asarray(gamma, dtype=float), inverse, sizes, n_draws, rng)


def topic_labels(topic_word: np.ndarray, vocab, *, model: str = "", n: int = 3) -> dict[str, str]:
    """``T1`` -> ``joint 1: term, term, term`` (the ``n`` most probable terms of each topic)."""
    topic_word = np.asarray(topic_word, dtype=float)
    out = {}
    for k in range(topic_word.shape[0]):
        top = np.argsort(-topic_word[k], kind="stable")[:n]
        out[f"T{k + 1}"] = f"{model + ' ' if model else ''}{k + 1}: " + ", ".join(str(vocab[j]) for j in top)
    return out


def _terms(formula: str) -> list[str]:
    return [t.strip() for t in formula.split("+") if t.strip()]


def model_formula(formula: str, docvars: pd.DataFrame) -> tuple[str, list[str]]:
    """The formula without the terms naming a column that is constant in ``docvars`` (a
    one-language model has no ``language`` contrast), and the dropped terms; ``"1"`` when none is left."""
    kept, dropped = [], []
    for term in _terms(formula):
        columns = models.formula_columns(term)
        constant = any(docvars[c].astype(str).nunique() < 2 for c in columns if c in docvars.columns)
        (dropped if constant else kept).append(term)
    return (" + ".join(kept) if kept else "1"), dropped


def topic_effects(
    model: str,
    gamma: np.ndarray,
    unit_docs,
    docvars: pd.DataFrame,
    *,
    formula: str,
    n_draws: int,
    rng: np.random.Generator,
    labels: dict[str, str] | None = None,
    min_docs: int = 20,
    focal: str = "language",
    cluster: str = "",
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Topic prevalence of one model regressed on ``formula`` by the method of composition.

    With ``cluster`` (``[model] cluster``, e.g. ``outlet``) naming a column of ``docvars``, each draw's
    regression has the outlet-clustered CR2 covariance (:func:`analysis.stats.clustered.cr2_ols`,
    Bell & McCaffrey 2002) and every quantity (a coefficient, a predicted prevalence) is drawn from
    ``t`` on its Bell–McCaffrey (Satterthwaite) degrees of freedom, ``q_d = q̂_d + se_d · t_df``, rather
    than from the normal with the homoskedastic OLS variance: documents of one outlet share its
    agenda, so a language contrast is measured by outlets (:func:`clustered_composition`). A term
    contrasting a level that lies in one outlet (a language from one outlet) keeps its estimate but
    gets no SE or interval, with :func:`analysis.stats.models.lone_cluster_terms`' sentence in the note.

    Documents of the model (``unit_docs``) that ``docvars`` lacks, or without a value of a
    formula column, are left out. Returns the coefficient table (:data:`MODEL_TOPIC_COLUMNS`,
    one row per topic and term: the pooled draws' mean, SD, 2.5 and 97.5 percentiles) and the
    predicted prevalence by ``focal`` (or the formula's first other column; one row ``all`` for
    an intercept-only model), other covariates at their most frequent value (numbers, dates at
    their mean / median), in :data:`analysis.stats.models.MARGINAL_COLUMNS`.

    The random numbers: first the θ draws (:func:`document_draws`), then the coefficient draws
    (:func:`analysis.stats.models.composition_betas`), from the one ``rng``.
    """
    import patsy

    labels = labels or {}
    ids, theta = document_draw_stream(gamma, unit_docs, n_draws=n_draws, rng=rng)  # drawn when read
    used = models.formula_columns(formula)
    # Vectorised (a per-document .at loop took minutes at 10,000 documents).
    present = pd.Index(ids).isin(docvars.index)
    given = docvars.reindex(ids)[[c for c in used if c in docvars.columns]].notna().all(axis=1).to_numpy()
    keep = np.flatnonzero(present & given)
    ids = [ids[i] for i in keep]
    theta.keep = keep
    data = docvars.loc[ids]
    rhs, dropped = model_formula(formula, data)
    K = theta.shape[2]
    notes = []
    if dropped:
        notes.append(f"left out (one value in this model's documents): {', '.join(dropped)}")
    if len(ids) < min_docs:
        notes.append(f"too small to mean anything: {len(ids)} documents (fewer than {min_docs})")
    X, info, frame = models._design(data, rhs)
    if X.shape[0] <= X.shape[1]:
        rows = [
            dict(
                model=model,
                topic=k + 1,
                label=labels.get(f"T{k + 1}", ""),
                term="(none)",
                draws=n_draws,
                n_docs=len(ids),
                formula=rhs,
                too_small=True,
                note="; ".join(notes + [f"not fitted: {len(ids)} documents for {X.shape[1]} coefficients"]),
            )
            for k in range(K)
        ]
        return pd.DataFrame(rows, columns=MODEL_TOPIC_COLUMNS), pd.DataFrame(columns=models.MARGINAL_COLUMNS)
    clusters = data[cluster].astype(str) if cluster and cluster in data.columns else None
    lone: dict[str, str] = {}
    if clusters is not None and clusters.nunique() >= 2:
        lone = models.lone_cluster_terms(
            models.categorical_factors(data, rhs), clusters, list(X.columns), cluster_word=cluster
        )
        draws = theta.held() if theta.nbytes <= HELD_DRAWS_BYTES else theta  # large: one draw at a time
        betas, prediction_draws, point = clustered_composition(draws, X, clusters.to_numpy(), rng=rng)
    else:
        if cluster:
            notes.append(
                f"no {cluster} column: documents treated as independent"
                if clusters is None
                else f"one {cluster}: documents treated as independent"
            )
        betas, prediction_draws, point = models.composition_betas(theta.held(), X, rng=rng), None, None
    table = models.composition_summary(betas, list(X.columns))
    if point is not None:  # the t noise has mean 0 but heavy tails at small df: the estimate is the mean of the fits
        table["estimate"] = point[table["topic"].to_numpy(), [list(X.columns).index(t) for t in table["term"]]]
    if lone:
        blank = table["term"].isin(lone)
        table.loc[blank, ["se", "ci_low", "ci_high"]] = np.nan
        table.loc[blank, "lone"] = table.loc[blank, "term"].map(lone)
    table["topic"] = table["topic"] + 1
    table.insert(0, "model", model)
    table.insert(2, "label", table["topic"].map(lambda k: labels.get(f"T{k}", "")))
    table["n_docs"], table["formula"], table["too_small"] = len(ids), rhs, len(ids) < min_docs
    table["note"] = [
        "; ".join(notes + ([extra] if isinstance(extra, str) and extra else []))
        for extra in (table["lone"] if "lone" in table.columns else [""] * len(table))
    ]
    # Predicted prevalence by the focal covariate.
    columns = models.formula_columns(rhs)
    dates = [m.group(2) for m in models._CALL.finditer(rhs)]
    others = [c for c in columns if c not in dates]
    focal = focal if focal in others else (others[0] if others else "")
    base = {}
    for c in columns:
        if c == focal:
            continue
        v = data[c]
        if c in dates:
            base[c] = pd.to_datetime(v).median()
        elif pd.api.types.is_numeric_dtype(v) and not pd.api.types.is_bool_dtype(v):
            base[c] = v.mean()
        else:
            base[c] = v.astype(str).mode().iloc[0]
    levels = sorted(set(data[focal].astype(str))) if focal else ["all"]
    new = pd.DataFrame([{**base, **({focal: level} if focal else {})} for level in levels])
    for c in dates:
        days = (pd.to_datetime(new[c]) - pd.to_datetime(data[c]).min()).dt.days.astype(float)
        new[f"{c}__days"], new[f"{c}__years"] = days, days / 365.25
    Xnew = np.asarray(patsy.build_design_matrices([info], new)[0]) if len(new.columns) else np.ones((1, 1))
    if prediction_draws is None:
        mean, low, high = models.composition_predictions(betas, Xnew)
    else:
        pred = prediction_draws(Xnew)  # draws x rows x topics
        mean, low, high = (
            np.asarray(Xnew, dtype=float) @ point.T,
            np.percentile(pred, 2.5, axis=0),
            np.percentile(pred, 97.5, axis=0),
        )
    lone_levels = (
        models.lone_cluster_notes({focal: data[focal].astype(str)}, clusters, cluster_word=cluster)
        if focal and clusters is not None and clusters.nunique() >= 2
        else {}
    )
    records = []
    for k in range(K):
        for r, level in enumerate(levels):
            lone_note = lone_levels.get((focal, level), "")
            records.append(
                (
                    f"{model}:T{k + 1}",
                    labels.get(f"T{k + 1}", f"{model} {k + 1}"),
                    level,
                    "",
                    float(mean[r, k]),
                    math.nan if lone_note else float(low[r, k]),
                    math.nan if lone_note else float(high[r, k]),
                    f"method of composition, {n_draws} draws" + (f", CR2 by {cluster}" if prediction_draws else ""),
                    "; ".join(notes + ([lone_note] if lone_note else [])),
                )
            )
    marginal = pd.DataFrame(records, columns=models.MARGINAL_COLUMNS)
    return table[MODEL_TOPIC_COLUMNS], marginal


def clustered_composition(theta: np.ndarray, X: pd.DataFrame, clusters, *, rng: np.random.Generator):
    """The method of composition with an outlet-clustered CR2 variance and ``t`` draws on Bell–McCaffrey df.

    For each θ draw ``d`` and topic ``k``: the OLS fit ``β̂_dk = (XᵀX)⁻¹ Xᵀ θ_d[:, k]`` and its CR2
    covariance ``V_dk`` (:func:`analysis.stats.clustered.cr2_ols`: the adjustment matrices depend on
    ``X`` and the clusters only, so they are computed once); a coefficient ``j`` is drawn as
    ``β̂_dkj + sqrt(V_dk,jj) · T`` with ``T ~ t(ν_j)``, ``ν_j`` its Bell–McCaffrey degrees of freedom
    (:func:`analysis.stats.clustered.cr2_test`; under the identity working model they too depend on
    ``X`` and the clusters only). Each quantity is drawn from its own sampling distribution, as
    the method of composition asks (Treier & Jackman 2008): the pooled draws of one quantity
    combine the sampling error (within draws) and the topic model's uncertainty about θ (between).

    ``theta``: the θ draws (draws × documents × topics), an array or a :class:`DrawStream` (read
    once, one draw at a time). Returns the coefficient draws (draws × topics × terms, each term drawn on its own), a
    function ``Xnew -> draws × rows × topics`` of the predictions ``x β̂_dk + sqrt(x V_dk x) · T``,
    ``T ~ t(ν_x)`` (drawn from ``rng`` when called, after the coefficients), and the point estimates
    (topics × terms): the mean over draws of the fits ``β̂_dk``, without the sampling draw, whose mean is
    0 but which, with ``t`` on few degrees of freedom, has heavy tails (no mean at all for ν ≤ 1), so
    it would only add Monte Carlo noise to the estimate; the intervals come from the draws.
    """
    from ..stats.clustered import cr2_ols, cr2_test

    Xm = X.to_numpy(dtype=float)
    n, p = Xm.shape
    D, _, K = theta.shape
    draws = iter(theta)  # an array's draws, or a DrawStream's, each read once and in order
    first = next(draws)
    base = cr2_ols(Xm, first[:, 0], clusters)
    G = base.n_clusters
    # rows sorted by cluster, so a cluster's score is one reduceat over its run of rows: p x n x K per draw
    # (an indicator-matrix product would cost p x n x K x G)
    order = np.argsort(base.cluster_index, kind="stable")
    starts = np.flatnonzero(np.r_[True, np.diff(base.cluster_index[order]) != 0])
    estmat_sorted = base.estmat[:, order]
    projector = base.bread @ Xm.T  # p × n
    df = np.array([cr2_test(base, np.eye(p)[j]).df for j in range(p)])
    fitted = np.empty((D, K, p))
    scores = np.empty((D, K, p, G))
    for d, theta_d in enumerate(itertools.chain([first], draws)):
        beta = projector @ theta_d  # p × K
        resid = theta_d - Xm @ beta  # n × K
        fitted[d] = beta.T
        # cluster scores estmat_g e_g per topic: (p × n)(n × K per cluster) -> K × p × G
        product = estmat_sorted[:, :, None] * resid[order][None, :, :]  # p x n x K
        scores[d] = np.add.reduceat(product, starts, axis=1).transpose(2, 0, 1)  # K x p x G
    se = np.sqrt(np.einsum("dkpg,dkpg->dkp", scores, scores))
    betas = fitted + se * rng.standard_t(df[None, None, :], size=(D, K, p))

    def predictions(Xnew: np.ndarray) -> np.ndarray:
        Xnew = np.asarray(Xnew, dtype=float)
        out = np.empty((D, Xnew.shape[0], K))
        for r, x in enumerate(Xnew):
            nu = cr2_test(base, x).df
            point = np.einsum("p,dkp->dk", x, fitted)
            spread = np.sqrt(np.einsum("dkg,dkg->dk", *(np.einsum("p,dkpg->dkg", x, scores),) * 2))
            out[:, r, :] = point + spread * rng.standard_t(nu, size=(D, K))
        return out

    return betas, predictions, fitted.mean(axis=0)


__all__ = [
    "MODEL_TOPIC_COLUMNS",
    "clustered_composition",
    "DrawStream",
    "HELD_DRAWS_BYTES",
    "document_draw_stream",
    "document_draws",
    "document_prevalence",
    "model_formula",
    "posterior_gamma",
    "topic_effects",
    "topic_labels",
    "unit_documents",
]
