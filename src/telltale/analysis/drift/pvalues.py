"""P-values of the drift tests, without importing :mod:`scipy.stats`.

``import scipy.stats`` costs about a second, more than the rest of a report; the tests here
need only a few special functions, which :mod:`scipy.special` provides (imported on first use),
and an exact two-sample Kolmogorov–Smirnov distribution computed by path counting.

>>> round(ks_pvalue(30, 40, 600)[0], 6)  # D = 600 / (30 * 40) = 0.5
0.000214
>>> round(chi2_pvalue(3.841458820694124, 1), 6)
0.05
>>> round(normal_two_sided_pvalue(1.959963984540054), 6)
0.05
"""

from __future__ import annotations

import math

import numpy as np

__all__ = [
    "EXACT_MAX_CELLS",
    "EXACT_MAX_SMALLER",
    "SMIRNOV_MAX_N",
    "chi2_pvalue",
    "ks_asymptotic_pvalue",
    "ks_exact_pvalue",
    "ks_pvalue",
    "normal_two_sided_pvalue",
]

EXACT_MAX_SMALLER = 5000
"""The exact KS p-value is used when the smaller sample has at most this many values ..."""
EXACT_MAX_CELLS = 1_000_000
"""... and the lattice band it walks has at most this many cells (about 50 ms); otherwise the
asymptotic distribution is used (as scipy does for samples over 10 000 values)."""


def _log_binom(n: int, k: int) -> float:
    return math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)


def ks_exact_pvalue(n: int, m: int, h: int) -> float:
    """Exact ``P(D >= h / (n m))`` for the two-sided two-sample KS statistic ``D``.

    Under the null hypothesis (continuous data, no ties) the merged sample's order is a
    uniformly random lattice path from ``(0, 0)`` to ``(n, m)``, and ``n m D`` is the largest
    ``|i m - j n|`` on it. The p-value is the share of paths that *reach* ``|i m - j n| >= h``;
    counting those directly (a point beyond the line is reached by all its paths, a point
    inside by the sum of its two predecessors) keeps the small p-values accurate, unlike
    ``1 - P(stay inside)``. Counts are kept as logarithms, column by column.
    """
    if h <= 0:
        return 1.0
    a, b = (n, m) if n <= m else (m, n)  # columns i = 0..a, each j = 0..b
    # Column 0: j < h / a is inside and not yet reached (count 0); the rest is beyond.
    lo_prev, hi_prev = 0, min(b, (h - 1) // a)
    previous = np.full(hi_prev + 1, -np.inf)
    for i in range(1, a + 1):
        lo = max(0, (i * b - h) // a + 1)  # below lo: i b - j a >= h
        hi = min(b, (i * b + h - 1) // a)  # above hi: j a - i b >= h
        column = np.empty(hi - lo + 2)
        # The point just below the band is beyond the line: all its paths reached it.
        column[0] = _log_binom(i + lo - 1, i) if lo >= 1 else -math.inf
        kept = hi_prev - lo + 1 if lo <= hi_prev else 0
        if kept > 0:
            column[1 : 1 + kept] = previous[lo - lo_prev :]
        # Points of the previous column above its band were beyond the line.
        for offset, j in enumerate(range(max(hi_prev + 1, lo), hi + 1), start=1 + kept):
            column[offset] = _log_binom(i - 1 + j, j)
        previous = np.logaddexp.accumulate(column)[1:]
        lo_prev, hi_prev = lo, hi
    # (a, b) has i b - j a = 0, always inside the band.
    return min(1.0, math.exp(float(previous[b - lo_prev]) - _log_binom(a + b, a)))


SMIRNOV_MAX_N = 5000
"""Up to this effective size the asymptotic KS p-value uses the exact one-sided tail (whose
cost grows with the size); beyond, a first-order expansion."""


def ks_asymptotic_pvalue(n: int, m: int, d: float) -> float:
    """Asymptotic two-sided p-value of the two-sample KS statistic ``d``.

    As :func:`scipy.stats.ks_2samp` with ``method='asymp'``: the one-sample distribution
    with ``N = round(n m / (n + m))`` values (``scipy.stats.kstwo``), here from
    :mod:`scipy.special`. Up to :data:`SMIRNOV_MAX_N`, its tail is twice the exact one-sided
    probability (``smirnov``), scaled near the centre by the Kolmogorov series over its first
    term: within 1% of scipy for p < 0.7, 0.2% for p < 0.27, 1e-6 below 1e-7. Beyond, the
    Kolmogorov limit with the first finite-``N`` term of the one-sided expansion,
    ``kolmogorov(z) exp(-2 d / 3)``: within 0.1% for p > 1e-4 and a few % far in the tail.
    """
    from scipy.special import kolmogorov, smirnov

    if d <= 0.0:
        return 1.0
    d = min(d, 1.0)
    effective = max(1, round(n * m / (n + m)))
    z = math.sqrt(effective) * d
    if effective > SMIRNOV_MAX_N:
        p_value = float(kolmogorov(z)) * math.exp(-2.0 * d / 3.0)
    elif z < 3.0:  # beyond, the series' other terms are below 1e-30 of the first
        p_value = float(kolmogorov(z)) * float(smirnov(effective, d)) / math.exp(-2.0 * z * z)
    else:
        p_value = 2.0 * float(smirnov(effective, d))
    return min(1.0, max(0.0, p_value))


def ks_pvalue(n: int, m: int, h: int | None, d: float | None = None) -> tuple[float, str]:
    """Two-sided p-value of the KS statistic ``D = h / (n m)``; returns ``(p, method)``.

    ``method`` is ``"exact"`` (path counting, :func:`ks_exact_pvalue`) when affordable --
    the smaller sample has at most :data:`EXACT_MAX_SMALLER` values and the band of the
    lattice at most :data:`EXACT_MAX_CELLS` cells -- and ``"asymptotic"`` otherwise
    (:func:`ks_asymptotic_pvalue`). ``h`` may be ``None`` when ``n m`` is too large for exact
    integers; then ``d`` is used.
    """
    if h is not None:
        d = h / (n * m)
        a, b = min(n, m), max(n, m)
        band = min(b + 1, 2 * h // a + 2)
        if a <= EXACT_MAX_SMALLER and (a + 1) * band <= EXACT_MAX_CELLS:
            return ks_exact_pvalue(n, m, h), "exact"
    if d is None:
        raise ValueError("ks_pvalue needs h or d")
    return ks_asymptotic_pvalue(n, m, d), "asymptotic"


def chi2_pvalue(statistic: float, dof: int) -> float:
    """Survival function of the chi-square distribution (:func:`scipy.special.chdtrc`)."""
    from scipy.special import chdtrc

    if dof <= 0:
        return 1.0
    return float(chdtrc(dof, statistic))


def normal_two_sided_pvalue(z: float) -> float:
    """``P(|Z| >= |z|)`` for a standard normal ``Z``: ``erfc(|z| / sqrt(2))``."""
    return math.erfc(abs(z) / math.sqrt(2.0))
