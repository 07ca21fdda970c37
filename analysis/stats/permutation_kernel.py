"""The inner loop of the document-level permutation test, compiled: every target's exceedances per split.

:func:`analysis.stats.resampling.permutation_keyness` asks, for each permuted split ``s``, each target
group ``g`` and each term ``j`` still tested, whether Welch's t of the term's rates between the units
the split puts in ``g`` and the rest is at least the observed one. Written with numpy, each target
costs a product of the whole rates matrix with that target's 0/1 membership (``rt @ member``: every
non-zero times every split, whether its unit is in the target or not), and Welch's t is formed over
every term and split. With ten categories against the rest at 78,710 documents that is ten passes
over 10 million non-zeros per split.

:func:`count_exceedances` does the same arithmetic term by term: each of a term's non-zeros is
added, for every split of a batch, into the sums of the one target that split puts its unit in (a
row of ``splits`` small integers per unit, read at once), so every target's sums together cost one
pass over the term's non-zeros per split, with the sums in a small splits × targets block that stays
in the processor's cache; Welch's t is formed only where a target's sums are not zero; where they are
zero (none of the term's units fell in the target) the statistic is a constant of the term, computed
once beforehand (``zero_hits``). Bits: the sums add the same rates in the same order as the
sparse-times-dense product (units in increasing order; a product by 0/1 adds exact zeros there), and
Welch's t is written with the operations of :func:`analysis.stats.resampling.welch_t` in the same
order (no fast-math, so no fused or reordered operations), so every exceedance, hence every p-value,
is the one the numpy statistic gives (``tests/stats/test_permutation_kernel.py`` compares them on
random designs).

Sequential stopping (Besag & Clifford 1991) happens inside the loop, split by split: a term that
reaches ``stop_at`` exceedances stops at that split, as the numpy path's running count does.

Compiled with numba (Lam, Pitrou & Seibert 2015, "Numba: a LLVM-based Python JIT compiler", LLVM-HPC
'15), cached on disk after the first call.
"""

from __future__ import annotations

import math

import numba
import numpy as np


@numba.njit(cache=True, nogil=True)
def _welch_abs(sums: float, squares: float, n_a: int, total: float, total_square: float, n: int) -> float:  # noqa: PLR0917 (compiled: positional only)
    """|Welch's t| for one term and split: :func:`analysis.stats.resampling.welch_t`, operation for
    operation (the same roundings)."""
    n_b = n - n_a
    m_a = sums / n_a
    m_b = (total - sums) / n_b
    diff = m_a - m_b
    if n_a < 2 or n_b < 2:
        return abs(diff)
    v_a = squares - n_a * m_a * m_a
    v_a = (v_a if v_a > 0.0 else 0.0) / (n_a - 1)
    v_b = (total_square - squares) - n_b * m_b * m_b
    v_b = (v_b if v_b > 0.0 else 0.0) / (n_b - 1)
    se = math.sqrt(v_a / n_a + v_b / n_b)
    scale = 1e-12 * max(abs(m_a), abs(m_b))
    if se <= scale:
        return 0.0 if abs(diff) <= scale else math.inf
    return abs(diff / se)


@numba.njit(cache=True, nogil=True)
def _count(  # noqa: PLR0917 (compiled: positional only)
    indptr,
    indices,
    data,
    data_squares,
    columns,
    target_by_unit,
    sizes,
    totals,
    total_squares,
    threshold,
    alive,
    zero_hits,
    exceed,
    stopped,
    start,
    stop_at,
    units,
):
    n_targets = threshold.shape[0]
    n_splits = target_by_unit.shape[1]
    acc = np.zeros((n_splits, n_targets))
    acc2 = np.zeros((n_splits, n_targets))
    for c in range(len(columns)):
        term = columns[c]
        running = False
        for g in range(n_targets):
            running = running or alive[g, term]
        if not running:
            continue
        # every target's sums for every split of the batch: the term's units in increasing order
        for k in range(indptr[c], indptr[c + 1]):
            u = indices[k]
            v = data[k]
            v2 = data_squares[k]
            for s in range(n_splits):
                g = target_by_unit[u, s]
                if g >= 0:
                    acc[s, g] += v
                    acc2[s, g] += v2
        for g in range(n_targets):
            if alive[g, term]:
                for s in range(n_splits):
                    if acc[s, g] == 0.0:  # none of the term's units in the target (rates are > 0)
                        hit = zero_hits[g, term]
                    else:
                        t = _welch_abs(acc[s, g], acc2[s, g], sizes[g], totals[c], total_squares[c], units)
                        hit = t >= threshold[g, term]
                    if hit:
                        exceed[g, term] += 1
                        if exceed[g, term] >= stop_at:
                            stopped[g, term] = start + s + 1
                            alive[g, term] = False
                            break
        acc[:, :] = 0.0
        acc2[:, :] = 0.0


class TermRates:
    """The rates of some terms, one row per term (terms × units, CSR, units sorted), as
    :func:`count_exceedances` reads them: built once, sliced to fewer terms as terms stop.

    ``columns`` are the terms' indices in the caller's targets × terms arrays; ``totals`` and
    ``total_squares`` the sums over all units of each row's rates and squared rates (taken from the
    caller, so they are the numbers its own statistic uses).
    """

    def __init__(self, rates, columns: np.ndarray, totals: np.ndarray, total_squares: np.ndarray):
        rates = rates.tocsr()
        rates.sort_indices()
        self.rates = rates
        self.columns = np.asarray(columns, dtype=np.int64)
        self.squares = rates.data * rates.data
        self.totals = np.asarray(totals, dtype=np.float64)
        self.total_squares = np.asarray(total_squares, dtype=np.float64)

    def keep(self, terms: np.ndarray) -> TermRates:
        """The same rates for ``terms`` only (a sorted subset of ``columns``)."""
        at = np.searchsorted(self.columns, terms)
        return TermRates(self.rates[at], self.columns[at], self.totals[at], self.total_squares[at])


def count_exceedances(
    rates: TermRates,
    permuted: np.ndarray,
    target_of_code: np.ndarray,
    *,
    sizes: np.ndarray,
    threshold: np.ndarray,
    alive: np.ndarray,
    zero_hits: np.ndarray,
    exceed: np.ndarray,
    stopped: np.ndarray,
    start: int,
    stop_at: int | None,
) -> None:
    """Add one batch of permuted splits' exceedances to ``exceed`` (in place), every target at once.

    Parameters
    ----------
    rates : TermRates
        Rates of the terms some target still tests (the terms ``rates.columns``).
    permuted : int array, shape (splits, units)
        Each split's group code per unit.
    target_of_code : int array
        Row of the target for each group code, -1 for a group that is no target.
    sizes : int array, shape (targets,)
        Units in each target (the same in every split).
    threshold : float array, shape (targets, terms)
        A split counts when its |t| is at least this.
    alive : bool array, shape (targets, terms)
        Terms still tested per target; a term that stops is set False (in place).
    zero_hits : bool array, shape (targets, terms)
        Whether |t| at zero target sums reaches the threshold (:func:`~analysis.stats.resampling.welch_t`
        of zeros: the statistic of a split that puts none of the term's units in the target).
    exceed, stopped : int64 arrays, shape (targets, terms)
        Exceedances so far, and the split after which a term stopped (0 while it runs); updated in place.
    start : int
        Splits drawn before this batch.
    stop_at : int or None
        Exceedances at which a term stops (None: never).
    """
    if len(rates.columns) == 0:
        return
    # the target row of each unit in each split (units × splits: a unit's row read at once)
    small = np.int8 if len(sizes) < 127 else np.int32
    target_by_unit = np.ascontiguousarray(np.asarray(target_of_code, dtype=small)[permuted].T)
    m = rates.rates
    _count(
        m.indptr,
        m.indices,
        m.data,
        rates.squares,
        rates.columns,
        target_by_unit,
        np.asarray(sizes, dtype=np.int64),
        rates.totals,
        rates.total_squares,
        threshold,
        alive,
        zero_hits,
        exceed,
        stopped,
        int(start),
        np.iinfo(np.int64).max if stop_at is None else int(stop_at),
        int(permuted.shape[1]),
    )
