"""Significance: Monte Carlo p-values, Benjamini–Hochberg adjustment, effect sizes.

- :func:`monte_carlo_p_value` — the two-sided p-value of an observed statistic against its
  simulated null distribution, ``(#{|null| >= |observed|} + 1) / (R + 1)`` (Phipson & Smyth,
  2010: adding one keeps the test valid, a p-value is never 0). Null values that are NaN (a
  metric undefined on a resample) are left out of both counts. Ties within 100 machine epsilons
  of ``|observed|`` count as at least as extreme, as in ``scipy.stats.permutation_test``.
- :func:`benjamini_hochberg` — adjusted p-values ("q-values") of the step-up procedure of
  Benjamini & Hochberg (1995): ``q_(i) = min_{j >= i} p_(j) m / j``, capped at 1, where
  ``m`` counts the defined p-values; rejecting ``q <= alpha`` controls the false discovery rate
  at ``alpha`` for independent or positively dependent tests. Equal to
  ``scipy.stats.false_discovery_control(p, method="bh")``; ``None``/NaN entries stay ``None``.
- :func:`worse_than_rest_p` — one-sided tests of "a group's loss exceeds the rest's" (exact
  hypergeometric for 0/1 losses, Welch's t-test for continuous ones), for slices.
- :func:`standardized_effect` — a difference divided by ``sqrt(n)`` times its bootstrap
  standard error: for a metric that is a mean of per-example scores this is Cohen's ``d_z``
  (mean over standard deviation of the per-example differences), and it extends the same
  scale to corpus metrics (F1, BLEU), whose per-example differences do not exist.

>>> [round(q, 6) for q in benjamini_hochberg([0.01, 0.04, 0.03, 0.005])]
[0.02, 0.04, 0.04, 0.02]
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray
from scipy import stats as scipy_stats

__all__ = [
    "benjamini_hochberg",
    "format_p",
    "monte_carlo_p_value",
    "standardized_effect",
    "worse_than_rest_p",
]

FloatArray = NDArray[np.float64]
_TIE_EPS = float(np.finfo(np.float64).eps) * 100


def monte_carlo_p_value(observed: float, null: FloatArray) -> float | None:
    """Two-sided p-value of ``observed`` against simulated ``null`` values (``None``: no null).

    >>> monte_carlo_p_value(2.0, np.array([0.5, -2.5, 1.0, -0.1]))
    0.4
    """
    if not math.isfinite(observed):
        return None
    finite = null[np.isfinite(null)]
    if finite.size == 0:
        return None
    threshold = abs(observed) - abs(observed) * _TIE_EPS
    extreme = int(np.count_nonzero(np.abs(finite) >= threshold))
    return (extreme + 1) / (finite.size + 1)


def benjamini_hochberg(p_values: Sequence[float | None]) -> list[float | None]:
    """Benjamini–Hochberg adjusted p-values, in input order (``None`` where undefined)."""
    values = np.array([np.nan if p is None else float(p) for p in p_values], dtype=np.float64)
    defined = np.flatnonzero(np.isfinite(values))
    out: list[float | None] = [None] * len(values)
    m = len(defined)
    if m == 0:
        return out
    order = defined[np.argsort(values[defined], kind="stable")]
    ranked = values[order] * m / np.arange(1, m + 1)
    adjusted = np.minimum(np.minimum.accumulate(ranked[::-1])[::-1], 1.0)
    for index, q in zip(order, adjusted, strict=True):
        out[int(index)] = float(q)
    return out


def standardized_effect(difference: float, replicates: FloatArray, n: int) -> float | None:
    """``difference / (sqrt(n) * sd(replicates))`` — Cohen's ``d_z`` for a mean metric."""
    finite = replicates[np.isfinite(replicates)]
    if n < 2 or finite.size < 2 or not math.isfinite(difference):
        return None
    spread = float(finite.std(ddof=1))
    if spread == 0.0:
        return None
    return difference / (spread * math.sqrt(n))


def format_p(p: float | None, name: str = "p") -> str:
    """``p<0.001``, ``p<0.01``, ``p=0.04``, ``p=0.31`` — two significant digits at most.

    >>> format_p(0.0004), format_p(0.0042), format_p(0.0412), format_p(None)
    ('p<0.001', 'p<0.01', 'p=0.041', 'p n/a')
    """
    if p is None or not math.isfinite(p):
        return f"{name} n/a"
    if p < 0.001:
        return f"{name}<0.001"
    if p < 0.01:
        return f"{name}<0.01"
    return f"{name}={p:.2g}"


def worse_than_rest_p(
    sizes: FloatArray,
    sums: FloatArray,
    squares: FloatArray,
    n: float,
    total: float,
    total_squares: float,
    *,
    binary: bool,
) -> FloatArray:
    """One-sided p-values of "a group's mean loss exceeds the rest's", for many groups at once.

    Each group (``sizes`` units whose losses sum to ``sums``, squares to ``squares``) is tested
    against the other units of a population of ``n`` units (losses summing to ``total``,
    squares to ``total_squares``). A 0/1 loss gets the exact hypergeometric upper tail — the
    one-sided Fisher exact test of the 2×2 table group/rest × loss/no loss; a continuous loss
    gets Welch's t-test. Groups that cannot be tested (fewer than two units on a side for
    Welch, no variance) get NaN.

    >>> p = worse_than_rest_p(np.array([10.0]), np.array([6.0]), np.array([6.0]), 100, 20, 20,
    ...                       binary=True)
    >>> round(float(p[0]), 6)
    0.003933
    """
    if binary:
        # P(X >= k) for X ~ Hypergeometric(population n, successes total, draws size)
        k = np.rint(sums)
        return np.asarray(
            scipy_stats.hypergeom.sf(k - 1, round(n), round(total), sizes), dtype=np.float64
        )
    rest_sizes = n - sizes
    with np.errstate(divide="ignore", invalid="ignore"):
        mean_in = sums / sizes
        mean_out = (total - sums) / rest_sizes
        var_in = np.maximum(squares - sizes * mean_in**2, 0.0) / (sizes - 1)
        var_out = np.maximum((total_squares - squares) - rest_sizes * mean_out**2, 0.0) / (
            rest_sizes - 1
        )
        a, b = var_in / sizes, var_out / rest_sizes
        t = (mean_in - mean_out) / np.sqrt(a + b)
        df = (a + b) ** 2 / (a**2 / (sizes - 1) + b**2 / (rest_sizes - 1))
        p = scipy_stats.t.sf(t, df)
    valid = np.isfinite(p) & (sizes >= 2) & (rest_sizes >= 2)
    return np.where(valid, p, np.nan).astype(np.float64)
