"""Calibration of a system's confidences: reliability table, ECE and MCE, with intervals.

The confidence of an example is the system's confidence in the label it predicted (top-label
calibration). Confidences fall in ``bins`` equal-width bins ``[i/B, (i+1)/B)`` of [0, 1] (the
last bin includes 1). Per bin: examples, mean confidence, accuracy.
``ECE = sum_b (n_b / n) |accuracy_b - confidence_b|`` (Guo et al., 2017) and
``MCE = max_b |accuracy_b - confidence_b|`` over non-empty bins. Per example the statistics are a
one-hot bin times ``[1, correct, confidence]``, so the bootstrap resamples examples through
:class:`~telltale.analysis.evaluate.scoring.SufficientStatistics` like every other metric.

>>> import numpy as np
>>> table = calibration_table(np.array([0.9, 0.9, 0.2]), np.array([True, False, False]), 10,
...                           Intervals(n_bootstrap=0))
>>> round(table["ece"]["value"], 4), table["bins"][9]["n"]
(0.3333, 2)
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from telltale.errors import DataError

from .scoring import Intervals, SufficientStatistics

__all__ = ["calibration_bins", "calibration_table"]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]


def calibration_bins(confidence: FloatArray, bins: int) -> IntArray:
    """The bin of each confidence: ``floor(c * bins)``, with 1.0 in the last bin."""
    return np.minimum((confidence * bins).astype(np.intp), bins - 1)


def _reduce(bins: int) -> Any:
    def reduce(sums: FloatArray) -> dict[str, FloatArray]:
        table = sums.reshape(len(sums), bins, 3)
        count, correct, confidence = table[..., 0], table[..., 1], table[..., 2]
        gap = np.abs(correct - confidence)  # n_b * |acc_b - conf_b|
        total = count.sum(axis=1)
        per_bin = np.where(count > 0, gap / np.where(count > 0, count, 1.0), -np.inf)
        return {"ece": gap.sum(axis=1) / total, "mce": per_bin.max(axis=1)}

    return reduce


def calibration_table(
    confidence: FloatArray, correct: NDArray[np.bool_], bins: int, intervals: Intervals
) -> dict[str, Any]:
    """Reliability table, ECE and MCE of examples with a confidence (others are left out)."""
    known = ~np.isnan(confidence)
    confidence, correct = confidence[known], correct[known]
    if len(confidence) == 0:
        raise DataError("no example has a confidence; calibration needs confidences in [0, 1]")
    if confidence.min() < 0 or confidence.max() > 1:
        raise DataError(
            f"confidences must lie in [0, 1]; found {confidence.min():g}..{confidence.max():g} — "
            "pass probabilities, not logits"
        )
    which = calibration_bins(confidence, bins)
    stats = np.zeros((len(confidence), bins * 3))
    rows = np.arange(len(confidence))
    stats[rows, 3 * which] = 1.0
    stats[rows, 3 * which + 1] = correct
    stats[rows, 3 * which + 2] = confidence
    scored = SufficientStatistics(stats, _reduce(bins), ("ece", "mce")).score(None, intervals)
    sums = stats.sum(axis=0).reshape(bins, 3)
    table = []
    for b in range(bins):
        n = int(sums[b, 0])
        table.append(
            {
                "bin": f"[{b / bins:g}, {(b + 1) / bins:g}{']' if b == bins - 1 else ')'}",
                "n": n,
                "confidence": float(sums[b, 2] / n) if n else None,
                "accuracy": float(sums[b, 1] / n) if n else None,
            }
        )
    return {
        "ece": scored["ece"],
        "mce": scored["mce"],
        "n": len(confidence),
        "n_missing": int((~known).sum()),
        "bins": table,
    }
