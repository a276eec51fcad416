"""The change of every metric between a reference and a current sample, with intervals.

The two samples are independent, so the bootstrap distribution of ``current - reference`` is
that of the difference of independent replicates: replicate ``i`` of the reference is paired
with replicate ``i + 1`` (cyclically) of the current sample and the interval is the percentile
interval of the paired differences. The shift by one matters: both sides are usually resampled
with the same seed, and pairing equal resampling weights would make a sample compared with
itself look perfectly stable (an interval of [0, 0]) instead of showing the noise of two
independent samples of that size.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from telltale.errors import ConfigError

from ._base import PerformanceResult
from .bootstrap import percentile_interval
from .classification import ClassificationPerformance
from .regression import RegressionPerformance

__all__ = ["PerformanceDifference", "performance_difference"]

Performance = ClassificationPerformance | RegressionPerformance


@dataclass(kw_only=True)
class PerformanceDifference(PerformanceResult):
    """Per metric: ``{"reference": v, "current": v, "difference": cur - ref, "ci": [lo, hi]}``."""

    task: str
    metrics: dict[str, dict[str, Any]]
    confidence: float
    ci_method: str
    notes: list[str]


def performance_difference(reference: Performance, current: Performance) -> PerformanceDifference:
    """Compare two results of :func:`classification_performance` or :func:`regression_performance`.

    Values ``None`` on either side give a ``None`` difference. The interval uses the reference's
    ``confidence``.

    >>> from telltale.analysis.performance import regression_performance
    >>> ref = regression_performance([1.0, 2.0, 3.0, 4.0], [1.1, 2.1, 2.9, 4.2], n_bootstrap=50)
    >>> cur = regression_performance([1.0, 2.0, 3.0, 4.0], [1.5, 2.6, 2.0, 4.9], n_bootstrap=50)
    >>> diff = performance_difference(ref, cur)
    >>> round(diff.metrics["mae"]["difference"], 3)
    0.625
    """
    for side, result in (("reference", reference), ("current", current)):
        if not isinstance(result, (ClassificationPerformance, RegressionPerformance)):
            raise ConfigError(
                f"{side} is a {type(result).__name__}; pass the result of "
                "classification_performance or regression_performance"
            )
    if reference.task != current.task:
        raise ConfigError(
            f"cannot compare a {reference.task} result with a {current.task} result; "
            "compute both sides with the same function"
        )
    notes: list[str] = []
    if (
        isinstance(reference, ClassificationPerformance)
        and isinstance(current, ClassificationPerformance)
        and reference.labels != current.labels
    ):
        notes.append(
            f"the label sets differ (reference {reference.labels!r}, current {current.labels!r}); "
            "pass the same labels= to both sides to compare like with like"
        )
    if reference.confidence != current.confidence:
        notes.append(
            f"the sides use different confidence levels ({reference.confidence} and "
            f"{current.confidence}); the difference uses {reference.confidence}"
        )
    confidence = reference.confidence
    resamples = min(reference.n_bootstrap, current.n_bootstrap)
    if reference.n_bootstrap != current.n_bootstrap:
        notes.append(
            f"the sides have {reference.n_bootstrap} and {current.n_bootstrap} resamples; "
            f"the difference pairs the first {resamples}"
        )
    if resamples == 0:
        notes.append("no bootstrap resamples on one side (n_bootstrap=0): no intervals")

    metrics: dict[str, dict[str, Any]] = {}
    for name, ref_entry in reference.metrics.items():
        if name not in current.metrics:
            continue
        ref_value, cur_value = ref_entry["value"], current.metrics[name]["value"]
        entry: dict[str, Any] = {
            "reference": ref_value,
            "current": cur_value,
            "difference": None,
            "ci": None,
        }
        if ref_value is not None and cur_value is not None:
            entry["difference"] = float(cur_value) - float(ref_value)
            ref_reps = reference.replicates.get(name)
            cur_reps = current.replicates.get(name)
            if resamples and ref_reps is not None and cur_reps is not None:
                paired = np.roll(cur_reps[:resamples], -1) - ref_reps[:resamples]
                entry["ci"] = percentile_interval(paired, confidence)
        metrics[name] = entry
    ci_method = (
        "none"
        if resamples == 0
        else f"independent bootstraps of both sides ({resamples} paired resamples), "
        "percentile interval of current - reference"
    )
    return PerformanceDifference(
        task=reference.task,
        metrics=metrics,
        confidence=confidence,
        ci_method=ci_method,
        notes=notes,
    )
