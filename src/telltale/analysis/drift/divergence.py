"""Distances between two distributions of shares: PSI, Jensen–Shannon, Hellinger and KL.

They compare two vectors of shares over the same bins:

- categorical data: the union of both sides' categories (plus the *other* bucket);
- numeric data: *coarse bins* -- the fine histogram bins merged into about
  :data:`COARSE_BINS` bins of equal reference mass (:func:`coarse_bins`), plus the bins below
  and above the reference range, where drift beyond the reference lands.

Bins empty on both sides are left out (they add nothing). PSI and KL divide by shares, so
before them every share that is 0 becomes :data:`SMOOTHING` and each side is renormalised
to sum to 1; Jensen–Shannon and Hellinger are finite with empty bins and use the shares as
they are.

>>> import numpy as np
>>> reference, current = np.array([0.5, 0.5]), np.array([0.9, 0.1])
>>> round(JENSENSHANNON.distance(reference, current), 4)
0.319
"""

from __future__ import annotations

import math
from abc import abstractmethod
from typing import Any

import numpy as np

from telltale.analysis.drift.base import (
    CATEGORICAL,
    NUMERIC,
    DataKind,
    DriftMethod,
    DriftResult,
    category_counts,
    numeric_pair,
    register_drift_method,
)
from telltale.analysis.profile import ColumnProfile

__all__ = [
    "COARSE_BINS",
    "HELLINGER",
    "JENSENSHANNON",
    "KL",
    "PSI",
    "SMOOTHING",
    "HellingerMethod",
    "JensenShannonMethod",
    "KLMethod",
    "PSIMethod",
    "ShareDistance",
    "coarse_bins",
    "smooth",
]

COARSE_BINS = 10
"""Numeric columns are compared on about this many bins of equal reference mass."""
SMOOTHING = 1e-4
"""Share given to empty bins before PSI and KL (then each side is renormalised)."""


def coarse_bins(
    reference_counts: np.ndarray, current_counts: np.ndarray, n_bins: int = COARSE_BINS
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Merge fine histogram counts into coarse bins of about equal reference mass.

    The fine bins ``1 .. n`` (``0`` and ``n + 1`` are below and above the reference range)
    are cut after the first bin where the reference's cumulative share reaches ``k / n_bins``
    for ``k = 1 .. n_bins - 1``; cuts that coincide (a bin holding more than a
    ``1 / n_bins`` share) merge, so there may be fewer bins. The bins below and above the
    range stay bins of their own.

    Returns the coarse counts of both sides and the index of the first fine bin of each
    coarse bin (as for :func:`numpy.add.reduceat`).
    """
    reference_counts = np.asarray(reference_counts, dtype=np.int64)
    current_counts = np.asarray(current_counts, dtype=np.int64)
    inner = reference_counts[1:-1]
    cumulative = np.cumsum(inner)
    total = int(cumulative[-1]) if cumulative.size else 0
    starts = [0, 1]
    if total > 0:
        # Integer comparison: cumulative / total >= k / n_bins.
        ends = np.searchsorted(cumulative * n_bins, np.arange(1, n_bins) * total, side="left")
        cut_after = np.unique(ends[ends < inner.size - 1])
        starts.extend((cut_after + 2).tolist())  # fine index of the next bin's first bin
    starts.append(inner.size + 1)
    index = np.asarray(starts, dtype=np.int64)
    return (
        np.add.reduceat(reference_counts, index),
        np.add.reduceat(current_counts, index),
        index,
    )


def smooth(shares: np.ndarray, epsilon: float = SMOOTHING) -> np.ndarray:
    """Give empty bins the share ``epsilon``, then renormalise to a sum of 1."""
    shares = np.where(shares > 0, shares, epsilon)
    return shares / shares.sum()


class ShareDistance(DriftMethod):
    """A distance between the reference and current shares, on categories or coarse bins.

    Subclasses implement :meth:`distance`; ``smoothed`` says whether empty bins are smoothed
    (:func:`smooth`) first.
    """

    applies_to = frozenset({NUMERIC, CATEGORICAL})
    default_threshold = 0.1
    threshold_is_p_value = False
    smoothed = False

    @abstractmethod
    def distance(self, reference: np.ndarray, current: np.ndarray) -> float:
        """The distance between two share vectors (each summing to 1)."""

    def shares(
        self, reference: ColumnProfile, current: ColumnProfile
    ) -> tuple[DataKind, np.ndarray, np.ndarray, dict[str, Any]]:
        """The data kind used, the shares of both sides and details on the binning."""
        kind = self.data_kind(reference, current)
        details: dict[str, Any]
        if kind == NUMERIC:
            pair = numeric_pair(reference, current)
            ref_counts, cur_counts, _ = coarse_bins(
                pair.reference_histogram.counts, pair.current_histogram.counts
            )
            details = {
                "below_range_share": float(cur_counts[0] / cur_counts.sum()),
                "above_range_share": float(cur_counts[-1] / cur_counts.sum()),
            }
        else:
            counts = category_counts(reference, current)
            ref_counts, cur_counts = counts.reference, counts.current
            details = {}
        used = (ref_counts + cur_counts) > 0
        ref_shares = ref_counts[used] / ref_counts.sum()
        cur_shares = cur_counts[used] / cur_counts.sum()
        details = {"bins": int(used.sum()), **details}
        if self.smoothed:
            ref_shares, cur_shares = smooth(ref_shares), smooth(cur_shares)
            details["smoothing"] = SMOOTHING
        return kind, ref_shares, cur_shares, details

    def compute(
        self, reference: ColumnProfile, current: ColumnProfile, threshold: float
    ) -> DriftResult:
        kind, ref_shares, cur_shares, details = self.shares(reference, current)
        statistic = self.distance(ref_shares, cur_shares)
        return self.result(reference, kind, statistic, None, threshold, details)


def _relative_entropy(p: np.ndarray, q: np.ndarray) -> float:
    """``sum p log(p / q)`` with ``0 log 0 = 0`` (natural logarithm)."""
    positive = p > 0
    return float(np.sum(p[positive] * np.log(p[positive] / q[positive])))


class PSIMethod(ShareDistance):
    """Population stability index: ``sum (cur - ref) ln(cur / ref)`` over smoothed shares.

    Common reading: below 0.1 stable, 0.1 to 0.25 a moderate shift, above 0.25 a major one.
    Drift when ``>= threshold``.

    >>> import numpy as np
    >>> round(PSIMethod().distance(np.array([0.5, 0.5]), np.array([0.6, 0.4])), 4)
    0.0405
    """

    name = "psi"
    smoothed = True
    description = "population stability index on categories or reference-decile bins"

    def distance(self, reference: np.ndarray, current: np.ndarray) -> float:
        return float(np.sum((current - reference) * np.log(current / reference)))


class JensenShannonMethod(ShareDistance):
    """Jensen–Shannon *distance*: the square root of the JS divergence, natural logarithm.

    As :func:`scipy.spatial.distance.jensenshannon` with its default base ``e``, so it lies
    between 0 and ``sqrt(ln 2) ≈ 0.833``. Drift when ``>= threshold``.

    >>> import numpy as np
    >>> round(JensenShannonMethod().distance(np.array([1.0, 0.0]), np.array([0.0, 1.0])), 4)
    0.8326
    """

    name = "jensenshannon"
    description = "Jensen-Shannon distance (natural log) on categories or reference-decile bins"

    def distance(self, reference: np.ndarray, current: np.ndarray) -> float:
        middle = 0.5 * (reference + current)
        divergence = _relative_entropy(reference, middle) + _relative_entropy(current, middle)
        return math.sqrt(max(divergence, 0.0) / 2.0)


class HellingerMethod(ShareDistance):
    """Hellinger distance ``sqrt(sum (sqrt(ref) - sqrt(cur))^2 / 2)``, between 0 and 1.

    Drift when ``>= threshold``.

    >>> import numpy as np
    >>> round(HellingerMethod().distance(np.array([0.5, 0.5]), np.array([0.6, 0.4])), 4)
    0.0712
    """

    name = "hellinger"
    description = "Hellinger distance on categories or reference-decile bins"

    def distance(self, reference: np.ndarray, current: np.ndarray) -> float:
        gaps = np.sqrt(reference) - np.sqrt(current)
        return math.sqrt(float(np.sum(gaps * gaps)) / 2.0)


class KLMethod(ShareDistance):
    """Kullback–Leibler divergence ``KL(reference || current)`` over smoothed shares.

    ``sum ref ln(ref / cur)`` (natural logarithm), as ``scipy.stats.entropy(reference,
    current)`` and Evidently's ``kl_div``: large when the current data lacks values the
    reference had. Drift when ``>= threshold``.

    >>> import numpy as np
    >>> round(KLMethod().distance(np.array([0.5, 0.5]), np.array([0.6, 0.4])), 4)
    0.0204
    """

    name = "kl"
    smoothed = True
    description = "Kullback-Leibler divergence KL(reference||current) on categories or bins"

    def distance(self, reference: np.ndarray, current: np.ndarray) -> float:
        return _relative_entropy(reference, current)


PSI = register_drift_method(PSIMethod())
JENSENSHANNON = register_drift_method(JensenShannonMethod())
HELLINGER = register_drift_method(HellingerMethod())
KL = register_drift_method(KLMethod())
