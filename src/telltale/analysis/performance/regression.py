"""Regression performance: MAE, RMSE, MAPE and R², with bootstrap intervals.

- ``mae`` = mean |e|, ``rmse`` = sqrt(mean e²) with ``e = y_pred - y_true``;
- ``mape`` = mean |e| / |y_true| over the rows with ``y_true != 0`` (a fraction, not a percent);
  the rows left out are counted in ``notes``. scikit-learn instead divides by
  ``max(|y_true|, eps)``, which turns a zero target into an astronomically large error; both
  agree on data without zeros;
- ``r2`` = 1 - sum e² / sum (y - mean y)²; ``None`` (with a note) when ``y_true`` is constant,
  where scikit-learn returns 1.0 or 0.0 by convention.

Rows where ``y_true`` or ``y_pred`` is missing (NaN, ``None``, masked) are excluded and counted
in ``excluded``; infinite values raise :class:`~telltale.errors.DataError`.

The resampled statistics are per-unit sums of ``1, |e|, e², y, y², [y != 0], |e|/|y|`` (``y``
centred on its mean first, so R² does not lose precision to cancellation); see
:mod:`.bootstrap`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from ._base import (
    INTERNAL,
    PerformanceResult,
    check_bootstrap_args,
    check_lengths,
    excluded_note,
    metric_entry,
    nan_ratio,
    rows_to_exclude,
    undefined_resamples_note,
)
from ._inputs import float_column
from .bootstrap import Resampler, Statistic

__all__ = ["RegressionPerformance", "regression_performance"]

FloatArray = NDArray[np.float64]

METRIC_NAMES = ("mae", "rmse", "mape", "r2")


@dataclass(kw_only=True)
class RegressionPerformance(PerformanceResult):
    """Regression metrics of one sample; ``metrics[name] = {"value": v, "ci": [lo, hi]}``.

    ``replicates`` holds the bootstrap values of every metric; it is not part of ``to_dict()``.
    """

    task: Literal["regression"] = "regression"
    n: int
    n_excluded: int
    excluded: dict[str, int]
    metrics: dict[str, dict[str, Any]]
    confidence: float
    n_bootstrap: int
    seed: int | None
    ci_method: str
    notes: list[str]
    replicates: dict[str, FloatArray] = field(
        default_factory=dict, repr=False, compare=False, metadata=INTERNAL
    )


def regression_performance(
    y_true: Any,
    y_pred: Any,
    *,
    n_bootstrap: int = 1000,
    seed: int | None = 0,
    confidence: float = 0.95,
) -> RegressionPerformance:
    """MAE, RMSE, MAPE and R² of ``y_pred`` against ``y_true``, with bootstrap intervals.

    >>> perf = regression_performance([1.0, 2.0, 4.0], [1.5, 2.0, 3.0], n_bootstrap=0)
    >>> perf.metrics["mae"]
    {'value': 0.5, 'ci': None}
    >>> round(perf.metrics["r2"]["value"], 4)
    0.7321
    """
    n_bootstrap, seed, confidence = check_bootstrap_args(n_bootstrap, seed, confidence)
    truth, truth_missing = float_column(y_true, "y_true")
    pred, pred_missing = float_column(y_pred, "y_pred")
    n_input = check_lengths({"y_true": len(truth), "y_pred": len(pred)})
    notes: list[str] = []
    drop, excluded = rows_to_exclude(
        n_input, [("missing target", truth_missing), ("missing prediction", pred_missing)]
    )
    if excluded:
        keep = ~drop
        truth, pred = truth[keep], pred[keep]
        notes.append(excluded_note(excluded, n_input))

    n = len(truth)
    error = pred - truth
    abs_error = np.abs(error)
    squared = error * error
    nonzero = truth != 0
    n_nonzero = int(nonzero.sum())
    relative = np.zeros(n)
    np.divide(abs_error, np.abs(truth), out=relative, where=nonzero)
    centred = truth - truth.mean()
    total = float(np.dot(centred, centred))

    points: dict[str, float | None] = {
        "mae": float(abs_error.mean()),
        "rmse": float(np.sqrt(squared.mean())),
        "mape": float(relative.sum() / n_nonzero) if n_nonzero else None,
        "r2": 1.0 - float(squared.sum()) / total if total > 0 else None,
    }
    if n_nonzero < n:
        notes.append(
            f"mape leaves out {n - n_nonzero:,} rows where y_true is 0"
            + ("" if n_nonzero else "; with no other rows it is None")
        )
    if total == 0:
        notes.append("r2 is undefined: y_true is constant")

    resampler = Resampler(n, n_bootstrap, seed)
    replicates: dict[str, FloatArray] = {}
    if resampler.mode != "none":
        columns = np.stack(
            [np.ones(n), abs_error, squared, centred, centred * centred, nonzero, relative], axis=1
        )
        stat = Statistic(resampler.row_units(), values=columns)
        replicates = resampler.replicates([stat], _reduce)
    metrics = {
        name: metric_entry(points[name], replicates.get(name), confidence) for name in METRIC_NAMES
    }
    undefined = undefined_resamples_note(points, replicates)
    if undefined:
        notes.append(undefined)
    return RegressionPerformance(
        n=n,
        n_excluded=int(drop.sum()),
        excluded=excluded,
        metrics=metrics,
        confidence=confidence,
        n_bootstrap=n_bootstrap,
        seed=seed,
        ci_method=resampler.description,
        notes=notes,
        replicates=replicates,
    )


def _reduce(sums: list[FloatArray]) -> dict[str, FloatArray]:
    s = sums[0][:, 0, :]  # (resamples, 7)
    count, abs_error, squared, y, y2, nonzero, relative = s.T
    total = y2 - nan_ratio(y * y, count)
    return {
        "mae": nan_ratio(abs_error, count),
        "rmse": np.sqrt(nan_ratio(squared, count)),
        "mape": nan_ratio(relative, nonzero),
        "r2": 1.0 - nan_ratio(squared, np.where(total > 0, total, 0.0)),
    }
