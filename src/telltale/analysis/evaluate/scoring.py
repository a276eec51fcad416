"""How a task's metrics are computed on a set of examples, with confidence intervals.

Every task hands the workbench *scorers*: objects that compute the task's metrics on any subset
of its units (examples, sentences, spans) with an interval. The overall score is a scorer run on
all units; a bucket's score is the same scorer run on the bucket's units. Two kinds exist:

- :class:`SufficientStatistics` (NER, QA, generation, calibration): each unit carries a row of
  sums (true positives / predicted / gold spans of a sentence; n-gram matches of a segment;
  EM and F1 of a question), every metric is a function of the column sums, and the bootstrap
  resamples units through :class:`~telltale.analysis.performance.bootstrap.Resampler` — one
  matrix product per chunk of resamples, so 1,000 resamples of a corpus metric cost
  milliseconds instead of 1,000 re-tokenisations.
- scorers that delegate to :mod:`telltale.analysis.performance` (classification, regression),
  which computes its metrics and intervals the same way.

Intervals: the seeded percentile bootstrap by default. ``method="t"`` gives a Student-t interval
to the metrics that are means of per-unit scores (accuracy, EM, QA F1, ROUGE), where it is
valid; ratio and corpus metrics (span F1, BLEU, chrF) keep the bootstrap.

The same seed gives every system the same resampling weights for the same number of units, so
the intervals of two systems on one data set come from paired resamples.

For comparisons every scorer also gives its sums *per example* (``example_statistics``: a
:class:`~telltale.analysis.performance.bootstrap.Statistic` whose units are example indices —
the one unit all systems share, even when their span units differ) and computes its metrics
from summed statistics (``metrics_from_sums``), so :mod:`.paired` can resample and swap the
examples of several systems together.

>>> import numpy as np
>>> stats = np.array([[1.0, 1.0], [0.0, 1.0], [1.0, 1.0], [1.0, 1.0]])
>>> scorer = SufficientStatistics(stats, lambda s: {"accuracy": s[:, 0] / s[:, 1]},
...                               ("accuracy",), per_unit_means={"accuracy": 0})
>>> scorer.score(None, Intervals(n_bootstrap=0))["accuracy"]
{'value': 0.75, 'ci': None}
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, Protocol

import numpy as np
from numpy.typing import NDArray
from scipy import stats as scipy_stats

from telltale.analysis.performance.bootstrap import Resampler, Statistic, percentile_interval
from telltale.errors import ConfigError

__all__ = ["Intervals", "Scorer", "Selection", "SufficientStatistics", "metric_entry"]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]
BoolArray = NDArray[np.bool_]
Reducer = Callable[[FloatArray], Mapping[str, FloatArray]]


@dataclass(frozen=True)
class Intervals:
    """How intervals are computed: resamples, seed, confidence level and method."""

    n_bootstrap: int = 1000
    seed: int | None = 0
    confidence: float = 0.95
    method: Literal["bootstrap", "t"] = "bootstrap"

    def __post_init__(self) -> None:
        if self.method not in ("bootstrap", "t"):
            raise ConfigError(f"ci={self.method!r} is not a method; pass 'bootstrap' or 't'")


@dataclass(frozen=True)
class Selection:
    """The units of a bucket. For span-level buckets ``gold_side``/``predicted_side`` say, per
    unit in ``rows``, whether its gold span and its predicted span fall in the bucket (they can
    differ: a span labelled LOC in gold and ORG by the system)."""

    rows: IntArray
    gold_side: BoolArray | None = None
    predicted_side: BoolArray | None = None


class Scorer(Protocol):
    """Computes a task's metrics, each ``{"value": v, "ci": [lo, hi] | None}``, on a selection
    of units (``None``: all units).

    ``example_statistics`` and ``metrics_from_sums`` expose the same metrics as sums per
    example, for paired comparisons: ``metrics_from_sums(table.sum(axis=0)[None])`` equals
    ``score``'s values, where ``table`` is the statistic's per-example table. ``mean_metrics``
    names the metrics that are means of one per-example score (accuracy, EM), for which the
    paired randomisation test is the sign-flip permutation test.
    """

    @property
    def metrics(self) -> tuple[str, ...]: ...

    @property
    def mean_metrics(self) -> frozenset[str]: ...

    def score(
        self, selection: Selection | None, intervals: Intervals
    ) -> dict[str, dict[str, Any]]: ...

    def example_statistics(self, selection: Selection | None) -> Statistic: ...

    def metrics_from_sums(self, sums: FloatArray) -> Mapping[str, FloatArray]: ...


def metric_entry(value: float, interval: list[float] | None) -> dict[str, Any]:
    """``{"value": v, "ci": [lo, hi]}``; ``None`` stands for an undefined value or interval."""
    if not math.isfinite(value):
        return {"value": None, "ci": None}
    return {"value": float(value), "ci": interval}


def t_interval(scores: FloatArray, confidence: float) -> list[float] | None:
    """Student-t interval of the mean of ``scores`` (``None`` below two scores)."""
    n = len(scores)
    if n < 2:
        return None
    mean = float(scores.mean())
    half = (
        float(scipy_stats.t.ppf(0.5 + confidence / 2.0, n - 1))
        * float(scores.std(ddof=1))
        / math.sqrt(n)
    )
    return [mean - half, mean + half]


class SufficientStatistics:
    """Metrics that are functions of column sums of a per-unit statistics matrix.

    ``statistics`` is ``(units, k)``; ``reduce`` maps sums of shape ``(m, k)`` to
    ``{metric: (m,) values}`` for ``m`` resamples at once. ``per_unit_means`` names the metrics
    that are the mean of one column (their t-interval is valid) and that column.
    """

    def __init__(
        self,
        statistics: FloatArray,
        reduce: Reducer,
        metrics: tuple[str, ...],
        *,
        per_unit_means: Mapping[str, int] | None = None,
    ) -> None:
        self.statistics = np.ascontiguousarray(statistics, dtype=np.float64)
        self.reduce = reduce
        self.metrics = metrics
        self.per_unit_means = dict(per_unit_means or {})

    @property
    def mean_metrics(self) -> frozenset[str]:
        return frozenset(self.per_unit_means)

    def rows_for(self, selection: Selection | None) -> FloatArray:
        """The statistics of the selected units."""
        return self.statistics if selection is None else self.statistics[selection.rows]

    def example_statistics(self, selection: Selection | None) -> Statistic:
        """The selected units' rows; the units of these scorers are the examples."""
        rows = np.arange(len(self.statistics)) if selection is None else selection.rows
        return Statistic(np.asarray(rows, dtype=np.intp), values=self.statistics[rows])

    def metrics_from_sums(self, sums: FloatArray) -> Mapping[str, FloatArray]:
        with np.errstate(divide="ignore", invalid="ignore"):
            out = self.reduce(sums)
        return {name: np.asarray(out[name], dtype=np.float64) for name in self.metrics}

    def score(self, selection: Selection | None, intervals: Intervals) -> dict[str, dict[str, Any]]:
        return score_statistics(
            self.rows_for(selection), self.reduce, self.metrics, self.per_unit_means, intervals
        )


def score_statistics(
    rows: FloatArray,
    reduce: Reducer,
    metrics: tuple[str, ...],
    per_unit_means: Mapping[str, int],
    intervals: Intervals,
) -> dict[str, dict[str, Any]]:
    """Point values and intervals of ``metrics`` on the statistics ``rows`` (one per unit)."""
    if len(rows) == 0:
        return {name: {"value": None, "ci": None} for name in metrics}
    with np.errstate(divide="ignore", invalid="ignore"):
        points = reduce(rows.sum(axis=0, keepdims=True))
    values = {name: float(np.asarray(points[name])[0]) for name in metrics}
    replicates: Mapping[str, FloatArray] = {}
    needs_bootstrap = intervals.n_bootstrap > 0 and (
        intervals.method == "bootstrap" or any(m not in per_unit_means for m in metrics)
    )
    if needs_bootstrap:
        resampler = Resampler(len(rows), intervals.n_bootstrap, intervals.seed)
        statistic = Statistic(resampler.row_units(), values=rows)

        def reduce_chunk(sums: list[FloatArray]) -> dict[str, FloatArray]:
            with np.errstate(divide="ignore", invalid="ignore"):
                out = reduce(sums[0].reshape(len(sums[0]), -1))
            return {name: np.asarray(out[name], dtype=np.float64) for name in metrics}

        replicates = resampler.replicates([statistic], reduce_chunk)
    out: dict[str, dict[str, Any]] = {}
    for name in metrics:
        interval: list[float] | None = None
        if intervals.n_bootstrap > 0:
            if intervals.method == "t" and name in per_unit_means:
                interval = t_interval(rows[:, per_unit_means[name]], intervals.confidence)
            elif name in replicates:
                interval = percentile_interval(replicates[name], intervals.confidence)
        out[name] = metric_entry(values[name], interval)
    return out
