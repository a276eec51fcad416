"""Drift of numeric columns from their fine histograms: Kolmogorov–Smirnov and Wasserstein.

Both sides' histograms share the reference's bins, so the empirical CDFs are known exactly at
every bin boundary. The KS statistic is their largest gap there; the Wasserstein distance
integrates the gap with each CDF linear inside a bin.

>>> import numpy as np
>>> from telltale.analysis.profile import BinSpec, ColumnProfile, Histogram, NumericSummary
>>> spec = BinSpec.from_sample(np.arange(4.0), minimum=0.0, maximum=3.0, n_bins=3)
>>> def column(values):
...     values = np.asarray(values, dtype=float)
...     hist = Histogram.from_values(spec, values)
...     m2 = float(((values - values.mean()) ** 2).sum())
...     summary = NumericSummary(values.size, values.min(), values.max(), values.mean(), m2, hist)
...     return ColumnProfile("x", "numeric", "float64", values.size, 0, numeric=summary)
>>> result = KS.compute(column([0, 1, 2, 3]), column([2, 3, 3, 4]), 0.05)
>>> result.statistic, result.details["p_value_method"]
(0.5, 'exact')
"""

from __future__ import annotations

import numpy as np

from telltale.analysis.drift.base import (
    NUMERIC,
    DriftMethod,
    DriftResult,
    numeric_pair,
    register_drift_method,
)
from telltale.analysis.drift.cdf import reproducible, wasserstein_distance
from telltale.analysis.drift.pvalues import ks_pvalue
from telltale.analysis.profile import ColumnProfile

__all__ = ["KS", "WASSERSTEIN", "KSMethod", "WassersteinMethod", "wasserstein_distance"]


class KSMethod(DriftMethod):
    """Two-sample Kolmogorov–Smirnov test on the fine histograms.

    ``D`` is the largest ``|F_ref - F_cur|`` over all bin boundaries, from cumulative counts.
    Values inside one bin are not told apart, so ``D`` can fall short of the exact statistic
    of the raw data by at most ``details["resolution"]``: the largest over bins of the smaller
    of the two sides' shares in that bin (within a bin the gap can exceed its value at the
    edges by no more than that). The two-sided p-value uses both sample sizes; it is exact (path counting)
    for small samples and asymptotic for large ones (``details["p_value_method"]``).
    Drift when ``p < threshold``.

    >>> import numpy as np
    >>> from telltale.analysis.profile import BinSpec, ColumnProfile, Histogram, NumericSummary
    >>> spec = BinSpec.from_sample(np.arange(4.0), minimum=0.0, maximum=3.0, n_bins=3)
    >>> def side(counts):  # counts below, in the 3 bins, above the range
    ...     summary = NumericSummary(sum(counts), 0.0, 3.0, 1.5, 10.0, Histogram(spec, counts))
    ...     return ColumnProfile("x", "numeric", "float64", sum(counts), 0, numeric=summary)
    >>> result = KSMethod().compute(side([0, 10, 10, 10, 0]), side([0, 0, 10, 20, 0]), 0.05)
    >>> round(result.statistic, 4), round(result.p_value, 4), result.drift
    (0.3333, 0.0709, False)
    """

    name = "ks"
    applies_to = frozenset({NUMERIC})
    default_threshold = 0.05
    threshold_is_p_value = True
    description = "two-sample Kolmogorov-Smirnov test on the histograms (drift if p < threshold)"

    def compute(
        self, reference: ColumnProfile, current: ColumnProfile, threshold: float
    ) -> DriftResult:
        self.require(reference, current)
        pair = numeric_pair(reference, current)
        ref_counts = pair.reference_histogram.counts
        cur_counts = pair.current_histogram.counts
        n, m = int(ref_counts.sum()), int(cur_counts.sum())
        ref_cumulative = np.cumsum(ref_counts)[:-1]
        cur_cumulative = np.cumsum(cur_counts)[:-1]
        h: int | None
        if n * m < 2**62:  # exact integers: n m D = max |C_ref m - C_cur n|
            gaps = np.abs(ref_cumulative * m - cur_cumulative * n)
            h = int(gaps.max()) if gaps.size else 0
            statistic = h / (n * m)
        else:
            h = None
            gaps_f = np.abs(ref_cumulative / n - cur_cumulative / m)
            statistic = float(gaps_f.max()) if gaps_f.size else 0.0
        p_value, how = ks_pvalue(n, m, h, statistic)
        # Inside one bin the CDFs rise by the two sides' shares there; the gap can exceed its
        # value at the bin's edges by at most the smaller share (it is exact where either side
        # has no values, as in the outer bins of a reference).
        shares = np.minimum(ref_counts / max(n, 1), cur_counts / max(m, 1))
        resolution = float(shares.max()) if shares.size else 0.0
        details = {
            "resolution": resolution,
            "p_value_method": how,
            "n_reference": n,
            "n_current": m,
        }
        return self.result(reference, NUMERIC, statistic, p_value, threshold, details)


class WassersteinMethod(DriftMethod):
    """Wasserstein-1 (earth mover's) distance, in units of the reference standard deviation.

    The distance ``∫ |F_ref - F_cur| dx`` is computed from the histograms with each CDF linear
    inside a bin, the part beyond the reference range from the moments
    (:func:`~telltale.analysis.drift.cdf.wasserstein_distance`), and divided by the reference's
    sample standard deviation (``NumericSummary.std``, ``ddof=1``; like the moments used for
    the tails, rounded to 10 significant digits so that engine rounding noise does not change
    the result between runs). A constant reference (std 0 or unknown) is not normalised
    (divided by 1); ``details`` says so. Drift when the normed distance ``>= threshold``: 0.1
    means the mass moved on average a tenth of a standard deviation.

    >>> from telltale.analysis.profile import CategoricalSummary, ColumnProfile
    >>> strings = ColumnProfile("s", "categorical", "string", 3, 0,
    ...                         categorical=CategoricalSummary({"a": 3}))
    >>> WassersteinMethod().unsupported(strings, strings)
    'it compares numeric data and the column has 1 categories'
    """

    name = "wasserstein"
    applies_to = frozenset({NUMERIC})
    default_threshold = 0.1
    threshold_is_p_value = False
    description = "Wasserstein-1 distance in reference standard deviations (drift if >= threshold)"

    def compute(
        self, reference: ColumnProfile, current: ColumnProfile, threshold: float
    ) -> DriftResult:
        self.require(reference, current)
        pair = numeric_pair(reference, current)
        distance = wasserstein_distance(
            pair.reference, pair.reference_histogram, pair.current, pair.current_histogram
        )
        std = pair.reference.std
        std = None if std is None else reproducible(std)
        details: dict[str, object] = {"distance": distance, "reference_std": std}
        if std is None or not std > 0:
            scale = 1.0
            details["normalised"] = False
            details["note"] = "the reference has no spread (std 0 or unknown); not normalised"
        else:
            scale = std
            details["normalised"] = True
        return self.result(reference, NUMERIC, distance / scale, None, threshold, details)


KS = register_drift_method(KSMethod())
WASSERSTEIN = register_drift_method(WassersteinMethod())
