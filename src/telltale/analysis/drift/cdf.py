"""Integrals of CDF gaps from fine histograms: the Wasserstein-1 distance.

Inside the reference range a side's CDF is taken linear within each fine bin; the bins are
fine enough (about 1000 on a symmetric-log scale) for that to be accurate to well under 1% of the
distance. The two outer bins (below and above the reference range) are one bin each however
far the current data reaches, so there the moments of the side fill in what the bins cannot
show (:func:`wasserstein_distance`).

>>> import numpy as np
>>> from telltale.analysis.profile import BinSpec, Histogram, NumericSummary
>>> spec = BinSpec.from_sample(np.arange(3.0), minimum=0.0, maximum=2.0, n_bins=2)
>>> def summary(values):
...     values = np.asarray(values, dtype=float)
...     m2 = float(((values - values.mean()) ** 2).sum())
...     hist = Histogram.from_values(spec, values)
...     return NumericSummary(values.size, values.min(), values.max(), values.mean(), m2, hist)
>>> ref, cur = summary([0.0, 1.0, 2.0]), summary([0.0, 1.0, 2.0, 11.0])
>>> round(wasserstein_distance(ref, ref.histogram, cur, cur.histogram), 3)  # scipy: 2.5 (2 bins!)
2.458
"""

from __future__ import annotations

import math

import numpy as np

from telltale.analysis.profile import Histogram, NumericSummary

__all__ = ["clipped_boundaries", "reproducible", "wasserstein_distance"]


def reproducible(value: float, digits: int = 10) -> float:
    """``value`` rounded to ``digits`` significant digits.

    Engines sum in parallel, so a column's mean and variance can differ in their last bits
    between two runs over the same data. Rounded, they give the same statistic run after run
    (unless a value sits right at a rounding boundary, about one in 10^6), at a cost far below
    the statistic's own accuracy.

    >>> reproducible(1.6499816725438154) == reproducible(1.649981672543816)
    True
    """
    return float(f"{value:.{digits - 1}e}") if math.isfinite(value) else value


def clipped_boundaries(summary: NumericSummary, histogram: Histogram) -> np.ndarray:
    """Bin boundaries with the outer bins closed by, and all clipped to, the side's range."""
    bounds = histogram.boundaries(summary.minimum, summary.maximum)
    if summary.minimum is not None and summary.maximum is not None:
        bounds = np.clip(bounds, summary.minimum, summary.maximum)
    return bounds


def _linear_cdf_distance(
    ref_x: np.ndarray, ref_f: np.ndarray, cur_x: np.ndarray, cur_f: np.ndarray
) -> float:
    """``∫ |F - G| dx`` for two piecewise-linear CDFs given by knots (jumps allowed)."""
    grid = np.unique(np.concatenate([ref_x, cur_x]))
    if grid.size < 2:
        return 0.0
    low, width = grid[:-1], np.diff(grid)
    # Both CDFs are linear between consecutive grid points (a jump can only sit on one);
    # read each at a quarter and three quarters of the way and extend to the ends.
    q1, q3 = low + 0.25 * width, low + 0.75 * width
    gap1 = np.interp(q1, ref_x, ref_f) - np.interp(q1, cur_x, cur_f)
    gap3 = np.interp(q3, ref_x, ref_f) - np.interp(q3, cur_x, cur_f)
    start, end = 1.5 * gap1 - 0.5 * gap3, 1.5 * gap3 - 0.5 * gap1
    a, b = np.abs(start), np.abs(end)
    total = a + b
    safe_total = np.where(total > 0, total, 1.0)
    # |linear| integrates to the trapezoid, or to two triangles when it crosses zero.
    area = np.where(start * end >= 0, 0.5 * total, 0.5 * (a * a + b * b) / safe_total) * width
    return float(area.sum())


def _flat_beyond(summary: NumericSummary, histogram: Histogram, outer: int) -> bool:
    """True if this side has (up to rounding) no values in outer bin ``outer``.

    A reference's own min or max can land in an outer bin when the edge, recomputed through
    ``sinh``, rounds to just inside it; such a bin has (nearly) zero width and is flat.
    """
    if histogram.counts[outer] == 0:
        return True
    bounds = clipped_boundaries(summary, histogram)
    spec = histogram.spec
    tolerance = 1e-9 * max(spec.high - spec.low, abs(spec.low), abs(spec.high))
    return bool(bounds[outer + 1] - bounds[outer] <= tolerance)


_TAIL_SHAPE = 2.0
"""``E[X^2] / E[X]^2`` assumed for the excess ``X`` of values beyond the reference range
when a side has values beyond both ends: 2, as for an exponential tail (the tail of a normal
distribution far out is close to one)."""


def _clamp(value: float, low: float, high: float) -> float:
    return min(max(value, low), high)


def _split_tails(
    counts: tuple[float, float],
    ends: tuple[float, float],
    spans: tuple[float, float],
    total: float,
    squares: float,
    center: float,
) -> tuple[float, float] | None:
    """Means of ``counts`` values below ``ends[0]`` and above ``ends[1]``, from two moments.

    ``total`` (their sum) fixes only the difference of the two tails' mean excesses ``x_u``
    and ``x_o`` over the ends; ``squares`` (their sum of squared distances from ``center``),
    with ``E[X^2] = 2 E[X]^2`` in each tail, gives a quadratic for ``x_u``. Returns ``None``
    when no root has both excesses within ``[0, span]``.
    """
    c_u, c_o = counts
    e_u, e_o = ends
    d_u, d_o = e_u - center, e_o - center
    k = _TAIL_SHAPE
    gap = total - c_o * e_o - c_u * e_u  # = c_o x_o - c_u x_u
    # squares = c_o (d_o^2 + 2 d_o x_o + k x_o^2) + c_u (d_u^2 - 2 d_u x_u + k x_u^2),
    # with x_o = (gap + c_u x_u) / c_o.
    a2 = k * c_u * c_u / c_o + k * c_u
    a1 = 2.0 * d_o * c_u + 2.0 * k * gap * c_u / c_o - 2.0 * c_u * d_u
    a0 = c_o * d_o**2 + 2.0 * d_o * gap + k * gap * gap / c_o + c_u * d_u**2 - squares
    discriminant = a1 * a1 - 4.0 * a2 * a0
    if discriminant < 0:
        return None
    feasible = []
    for sign in (-1.0, 1.0):
        x_u = (-a1 + sign * math.sqrt(discriminant)) / (2.0 * a2)
        x_o = (gap + c_u * x_u) / c_o
        if 0.0 <= x_u <= spans[0] and 0.0 <= x_o <= spans[1]:
            feasible.append((abs(x_u - spans[0] / 2.0), x_u, x_o))
    if not feasible:
        return None
    _, x_u, x_o = min(feasible)
    return e_u - x_u, e_o + x_o


def _outer_means(summary: NumericSummary, histogram: Histogram) -> dict[int, float]:
    """The mean of the values in each non-empty outer bin (index 0 or ``n_bins + 1``).

    The linear model puts it at the bin's midpoint. But one value of the bin is the side's
    min (below) or max (above), and the side's mean gives the sum of the values beyond the
    range (taking each inner bin's values at its midpoint). So with at most one further
    unknown value set, the means follow exactly; with values beyond both ends the variance
    splits the sum (:func:`_split_tails`), or failing that the end with the smaller
    ``count x width`` keeps its midpoint and the other end gets the rest. Means are clamped to
    their bins.
    """
    counts = histogram.counts
    total = int(counts.sum())
    last = counts.size - 1
    bounds = clipped_boundaries(summary, histogram)
    middles = 0.5 * (bounds[:-1] + bounds[1:])
    outer = [i for i in (0, last) if counts[i] > 0]
    means = {i: float(middles[i]) for i in outer}
    if not outer or summary.mean is None or summary.count != total:
        return means
    extremes = {0: float(bounds[0]), last: float(bounds[last + 1])}
    unknown = {i: int(counts[i]) - 1 for i in outer if counts[i] > 1}
    mean, m2 = reproducible(summary.mean), reproducible(summary.m2)
    rest_sum = mean * total - float(counts[1:-1] @ middles[1:-1])
    rest_sum -= sum(extremes[i] for i in outer)
    rest_means: dict[int, float] = {}
    if len(unknown) == 1:
        ((i, n),) = unknown.items()
        rest_means[i] = rest_sum / n
    elif len(unknown) == 2:
        center = histogram.spec.center
        widths = np.diff(bounds)
        inner_squares = float(
            counts[1:-1] @ ((middles[1:-1] - center) ** 2 + widths[1:-1] ** 2 / 12.0)
        )
        squares = m2 + total * (mean - center) ** 2 - inner_squares
        squares -= sum((extremes[i] - center) ** 2 for i in outer)
        split = _split_tails(
            (unknown[0], unknown[last]),
            (float(bounds[1]), float(bounds[last])),
            (float(widths[0]), float(widths[last])),
            rest_sum,
            squares,
            center,
        )
        if split is not None:
            rest_means = {0: split[0], last: split[1]}
        else:
            fixed, solved = sorted(unknown, key=lambda i: unknown[i] * widths[i])
            rest_means = {fixed: float(middles[fixed])}
            rest_means[solved] = (rest_sum - unknown[fixed] * middles[fixed]) / unknown[solved]
    for i in outer:
        rest = _clamp(rest_means.get(i, extremes[i]), bounds[i], bounds[i + 1])
        means[i] = (extremes[i] + unknown.get(i, 0) * rest) / counts[i]
    return means


def _outer_bin_correction(
    summary: NumericSummary,
    histogram: Histogram,
    other_summary: NumericSummary,
    other: Histogram,
) -> float:
    """Exact minus linear contribution of a side's values beyond the reference range.

    Beyond the range the other side's CDF is flat (0 below, 1 above) when it has no values
    there, so that part of the integral is this side's share there times the distance from
    the edge to their mean (:func:`_outer_means`); the linear model has the bin's midpoint in
    place of that mean. Where the other side has values too, the CDFs stay linear.
    """
    counts = histogram.counts
    total = int(counts.sum())
    last = counts.size - 1
    bounds = clipped_boundaries(summary, histogram)
    correction = 0.0
    for i, mean in _outer_means(summary, histogram).items():
        if not _flat_beyond(other_summary, other, i):
            continue
        middle = 0.5 * (bounds[i] + bounds[i + 1])
        share = counts[i] / total
        correction += float(share * (mean - middle) * (1.0 if i == last else -1.0))
    return correction


def wasserstein_distance(
    reference: NumericSummary,
    reference_histogram: Histogram,
    current: NumericSummary,
    current_histogram: Histogram,
) -> float:
    """``∫ |F_ref(x) - F_cur(x)| dx`` from the histograms.

    Each CDF is linear inside a bin, with a side's bins clipped to its own min and max (the
    outer bins closed by them). Where one side has values beyond the reference range and the
    other none, that part of the integral is the first side's mean excess over the edge,
    derived from its mean (see :func:`_outer_bin_correction`) rather than the linear guess:
    one bin cannot show how a tail beyond the reference is shaped, but the mean pins down
    its integral.
    """
    ref_x = clipped_boundaries(reference, reference_histogram)
    cur_x = clipped_boundaries(current, current_histogram)
    ref_f = np.concatenate([[0.0], np.cumsum(reference_histogram.counts)])
    cur_f = np.concatenate([[0.0], np.cumsum(current_histogram.counts)])
    distance = _linear_cdf_distance(
        ref_x, ref_f / reference_histogram.total, cur_x, cur_f / current_histogram.total
    )
    distance += _outer_bin_correction(current, current_histogram, reference, reference_histogram)
    distance += _outer_bin_correction(reference, reference_histogram, current, current_histogram)
    return max(distance, 0.0)
