"""Is this hour's metric unusual? Seasonal, outlier-robust baselines learned from history.

A metric series has one value per window (hourly p99 latency, error rate, accuracy ...).
:class:`SeasonalBaseline` learns, for each hour of the week (UTC), the median and the MAD of
the history, falling back to the hour of the day and then to the whole history where a slot
has fewer than ``min_points`` values; :meth:`~SeasonalBaseline.score` gives each new point its
expected value, robust z-score and band. :func:`detect_changes` finds level shifts and slow
drifts in the residuals (:mod:`telltale.alerts.changepoint`), and :func:`detect` is what the
alert evaluator calls: is the latest point anomalous, and why ("spike", "level shift",
"drift"). See docs/anomaly.md.

The scale of a slot is its MAD spread (``1.4826 × MAD``) shrunk towards the spread of the
whole series, then widened for the uncertainty of the slot's median::

    scale = sqrt((n · spread² + pool_weight · pooled²) / (n + pool_weight) · (1 + π / (2n)))

with ``n`` the slot's count and ``pooled`` the MAD spread of the differences between
consecutive values of the same hour of the week, divided by √2 (it needs no level, so a spike
or a shift in the history barely moves it). Four weeks of history give a slot four values,
whose MAD alone is too noisy to divide by; with a year of them the slot's own spread dominates.
A ``min_scale`` floor keeps a constant history from dividing by zero.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from telltale.alerts.changepoint import (
    CUSUM_THRESHOLD,
    ChangePoint,
    Direction,
    check_direction,
    cusum_changes,
)
from telltale.errors import ConfigError
from telltale.schema.result import Result

__all__ = [
    "DEFAULT_SIGMAS",
    "AnomalyResult",
    "AnomalyScores",
    "ChangePoint",
    "SeasonalBaseline",
    "SlotTable",
    "detect",
    "detect_changes",
]

DEFAULT_SIGMAS = 4.0
"""Band half-width in robust sigmas at sensitivity 1: 1 in 16,000 normal points falls outside
(3.5 gave one false alarm per 6 days of an hourly metric with heavy-tailed noise)."""
LEVELS = ("hour_of_week", "hour_of_day", "global")

_MAD_TO_SIGMA = 1.0 / NormalDist().inv_cdf(0.75)  # 1.4826...: scipy's scale="normal"
_MIN_DIFFS = 10  # fewer same-slot differences than this: pool at the next coarser slot
_MILLISECONDS = 1e11  # epoch seconds beyond this (year 5138) are surely milliseconds

Reason = Literal["spike", "level shift", "drift"]


@dataclass
class SlotTable(Result):
    """Median, MAD spread (``1.4826 × MAD``, scipy's ``scale="normal"``) and count per slot."""

    level: str
    median: NDArray[np.float64]
    spread: NDArray[np.float64]
    count: NDArray[np.int64]


@dataclass
class AnomalyScores(Result):
    """Per point: what was expected, how far off it is, and whether that is anomalous.

    A NaN value (a missing window) gets a NaN ``z`` and ``is_anomaly`` False: unknown.
    ``level`` says which slot gave the expected value: ``hour_of_week``, ``hour_of_day``, or
    ``global``.
    """

    times: NDArray[np.float64]
    """Epoch seconds (UTC)."""
    values: NDArray[np.float64]
    expected: NDArray[np.float64]
    scale: NDArray[np.float64]
    z: NDArray[np.float64]
    lower: NDArray[np.float64]
    upper: NDArray[np.float64]
    is_anomaly: NDArray[np.bool_]
    level: NDArray[np.str_]


class SeasonalBaseline:
    """Median and MAD per hour of the week, learned from a metric's history.

    After :meth:`fit`: ``tables`` holds a :class:`SlotTable` per level (``hour_of_week``: 168
    slots from Monday 00:00 UTC, ``hour_of_day``: 24, ``global``: 1), ``pooled_spread`` the
    series-wide spread and ``fitted_until`` the time of the last history point.

    >>> import numpy as np
    >>> hours = np.arange("2026-01-05T00", "2026-02-02T00", dtype="datetime64[h]")  # 4 weeks
    >>> daily = 100 + 20 * np.sin(2 * np.pi * np.arange(hours.size) / 24)
    >>> latency = daily + np.random.default_rng(0).normal(0, 2, hours.size)
    >>> baseline = SeasonalBaseline().fit(hours, latency)
    >>> scores = baseline.score(hours[-2:] + np.timedelta64(7, "D"), [latency[-2], 150.0])
    >>> scores.is_anomaly.tolist(), scores.level.tolist()
    ([False, True], ['hour_of_week', 'hour_of_week'])
    >>> bool(scores.lower[0] < latency[-2] < scores.upper[0])
    True
    """

    def __init__(
        self, *, min_points: int = 3, pool_weight: float = 10.0, min_scale: float | None = None
    ) -> None:
        if isinstance(min_points, bool) or not isinstance(min_points, int) or min_points < 1:
            raise ConfigError(f"min_points must be an integer >= 1, got {min_points!r}")
        if pool_weight != 0:
            _check_positive("pool_weight", pool_weight, "10 (the default) or 0 for no pooling")
        if min_scale is not None:
            _check_positive("min_scale", min_scale, "or None for 0.1% of the history's median")
        self.min_points = min_points
        self.pool_weight = float(pool_weight)
        self.min_scale = min_scale
        self.tables: dict[str, SlotTable] = {}
        self.pooled_spread = math.nan
        self.fitted_until = math.nan
        """Time of the last history point, epoch seconds."""

    def fit(self, times: ArrayLike, values: ArrayLike) -> SeasonalBaseline:
        """Learn from the history (NaN values are ignored); returns self."""
        seconds, observed = _series(times, values)
        known = ~np.isnan(observed)
        if not known.any():
            raise ConfigError(
                f"all {observed.size} history values are NaN: there is nothing to learn a "
                "baseline from; pass a period where the metric was recorded"
            )
        seconds, observed = seconds[known], observed[known]
        week_slot = _hour_of_week(seconds)
        slots = {"hour_of_week": week_slot, "hour_of_day": week_slot % 24}
        slots["global"] = np.zeros_like(week_slot)
        self.tables = {level: _slot_table(level, slots[level], observed) for level in LEVELS}
        self.pooled_spread = _pooled_spread(slots, seconds, observed)
        self.fitted_until = float(seconds[-1])

        # Resolve every hour of the week once, so scoring is a table lookup.
        week, day, whole = (self.tables[level] for level in LEVELS)
        of_day = np.arange(168) % 24
        use_week = week.count >= self.min_points
        use_day = ~use_week & (day.count[of_day] >= self.min_points)
        self._level = np.where(use_week, 0, np.where(use_day, 1, 2))

        def pick(column: str) -> NDArray[np.float64]:
            choices = [getattr(t, column) for t in (week, day, whole)]
            return np.choose(self._level, [choices[0], choices[1][of_day], choices[2][[0] * 168]])

        self._expected = pick("median")
        spread, count = pick("spread"), pick("count").astype(np.float64)
        weight, pooled = self.pool_weight, self.pooled_spread
        variance = (count * spread**2 + weight * pooled**2) / (count + weight)
        floor = self.min_scale or max(1e-3 * abs(float(whole.median[0])), 1e-9)
        self._scale = np.maximum(np.sqrt(variance * (1 + np.pi / (2 * count))), floor)
        return self

    def score(
        self,
        times: ArrayLike,
        values: ArrayLike,
        *,
        sigmas: float = DEFAULT_SIGMAS,
        direction: Direction = "both",
    ) -> AnomalyScores:
        """Expected value, scale, z, band ``expected ± sigmas·scale`` and anomaly flag per point."""
        if not self.tables:
            raise ConfigError("the baseline is not fitted: call .fit(times, values) first")
        sigmas = _check_positive("sigmas", sigmas, "4 is the default band half-width")
        check_direction(direction)
        seconds, observed = _series(times, values)
        slot = _hour_of_week(seconds)
        expected, scale = self._expected[slot], self._scale[slot]
        z = (observed - expected) / scale
        if direction == "above":
            is_anomaly = z > sigmas
        elif direction == "below":
            is_anomaly = z < -sigmas
        else:
            is_anomaly = np.abs(z) > sigmas
        return AnomalyScores(
            times=seconds,
            values=observed,
            expected=expected,
            scale=scale,
            z=z,
            lower=expected - sigmas * scale,
            upper=expected + sigmas * scale,
            is_anomaly=is_anomaly,
            level=np.array(LEVELS)[self._level[slot]],
        )


@dataclass
class AnomalyResult(Result):
    """The verdict on the latest point of a metric, as :func:`detect` returns it.

    ``status`` is ``unknown`` when the latest value is missing (NaN); ``reason`` and
    ``direction`` are None unless it is an anomaly; ``change`` is the level shift or drift still
    going on at the latest point, if any (it may be on the allowed side even when the point
    itself is not anomalous, e.g. a NaN).
    """

    time: float
    """Epoch seconds (UTC) of the latest point."""
    value: float
    status: Literal["normal", "anomaly", "unknown"]
    is_anomaly: bool
    reason: Reason | None
    direction: Literal["above", "below"] | None
    expected: float
    lower: float
    upper: float
    z: float
    sensitivity: float
    change: ChangePoint | None

    def summary(self) -> str:
        """One line for a notification."""
        if self.status == "unknown":
            return "the latest value is missing (NaN): not judged"
        band = f"expected {self.expected:.4g}, band {self.lower:.4g} to {self.upper:.4g}"
        if not self.is_anomaly:
            return f"{self.value:.4g} is normal ({band})"
        text = (
            f"{self.value:.4g} is {self.direction} normal ({band}, z={self.z:+.1f}): {self.reason}"
        )
        if self.change is not None:
            text += f" of {self.change.magnitude:+.4g} since {_iso(self.change.time)}"
        return text


def detect_changes(
    times: ArrayLike,
    values: ArrayLike,
    *,
    baseline: SeasonalBaseline | None = None,
    sensitivity: float = 1.0,
    direction: Direction = "both",
) -> list[ChangePoint]:
    """Level shifts and drifts in ``values`` against ``baseline`` (a CUSUM of the robust z).

    Without a baseline, one is fitted on the series itself; a shift inside it is then partly
    absorbed into the baseline and reported smaller, so pass a baseline fitted on a normal
    period where you have one.
    """
    sensitivity = _check_sensitivity(sensitivity)
    if baseline is None:
        baseline = SeasonalBaseline().fit(times, values)
    scores = baseline.score(times, values, direction=check_direction(direction))
    return cusum_changes(
        scores.z,
        scores.times,
        scores.scale,
        threshold=CUSUM_THRESHOLD / sensitivity,
        direction=direction,
    )


def detect(
    times: ArrayLike,
    values: ArrayLike,
    *,
    history: SeasonalBaseline | tuple[ArrayLike, ArrayLike],
    sensitivity: float = 1.0,
    direction: Direction = "both",
) -> AnomalyResult:
    """Judge the latest of the recent points ``times``/``values`` against the ``history``.

    ``history`` is ``(times, values)`` of the metric before the recent points, or a fitted
    :class:`SeasonalBaseline` (refit it now and then rather than on every call). Give the
    recent points since the last refit, not only the latest: level shifts and drifts are
    found in their run. ``sensitivity`` divides every threshold (band ``4 / sensitivity``
    sigmas, CUSUM threshold ``5 / sensitivity``): 2 alerts on smaller departures, 0.5 only on
    larger ones.
    """
    sensitivity = _check_sensitivity(sensitivity)
    check_direction(direction)
    if isinstance(history, SeasonalBaseline):
        baseline = history
    elif isinstance(history, tuple) and len(history) == 2:
        baseline = SeasonalBaseline().fit(*history)
    else:
        raise ConfigError(
            f"history must be a (times, values) pair or a fitted SeasonalBaseline, got "
            f"{type(history).__name__}"
        )
    scores = baseline.score(times, values, sigmas=DEFAULT_SIGMAS / sensitivity, direction=direction)
    if scores.times[0] <= baseline.fitted_until:
        raise ConfigError(
            f"the recent points must come after the history: the first is at "
            f"{_iso(scores.times[0])}, the history ends at {_iso(baseline.fitted_until)}; pass "
            "the points after the history (or refit the baseline on what precedes them)"
        )
    changes = cusum_changes(
        scores.z,
        scores.times,
        scores.scale,
        threshold=CUSUM_THRESHOLD / sensitivity,
        direction=direction,
    )
    last = scores.times.size - 1
    change = next((c for c in reversed(changes) if c.ongoing), None)
    value, z = float(scores.values[last]), float(scores.z[last])
    reason: Reason | None = None
    if math.isnan(value):
        status: Literal["normal", "anomaly", "unknown"] = "unknown"
    elif change is not None:
        status, reason = "anomaly", change.kind
    elif scores.is_anomaly[last]:
        status, reason = "anomaly", "spike"
    else:
        status = "normal"
    side: Literal["above", "below"] | None = None
    if change is not None and reason is not None:
        side = "above" if change.direction == "up" else "below"
    elif reason is not None:
        side = "above" if z > 0 else "below"
    return AnomalyResult(
        time=float(scores.times[last]),
        value=value,
        status=status,
        is_anomaly=status == "anomaly",
        reason=reason,
        direction=side,
        expected=float(scores.expected[last]),
        lower=float(scores.lower[last]),
        upper=float(scores.upper[last]),
        z=z,
        sensitivity=sensitivity,
        change=change,
    )


def _iso(seconds: float) -> str:
    return str(np.datetime64(round(seconds * 1e6), "us")) + "Z"


def _check_sensitivity(sensitivity: object) -> float:
    return _check_positive(
        "sensitivity",
        sensitivity,
        "1 is the default, 2 alerts on departures half as large, 0.5 only on ones twice as large",
    )


def _check_positive(name: str, value: object, hint: str) -> float:
    if not (
        isinstance(value, (int, float, np.integer, np.floating))
        and not isinstance(value, bool)
        and math.isfinite(value)
        and value > 0
    ):
        raise ConfigError(f"{name} must be a finite number > 0, got {value!r}; {hint}")
    return float(value)


def _series(times: ArrayLike, values: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Validated (epoch seconds, float values): same length, not empty, times sorted."""
    seconds, observed = _seconds(times), _values(values)
    if seconds.shape != observed.shape:
        raise ConfigError(
            f"times and values must have the same length, got {seconds.size} times and "
            f"{observed.size} values"
        )
    if seconds.size == 0:
        raise ConfigError("the series is empty: pass at least one (time, value) point")
    backwards = np.flatnonzero(np.diff(seconds) < 0)
    if backwards.size:
        i = int(backwards[0]) + 1
        raise ConfigError(
            f"times must be sorted ascending, but times[{i}] ({_iso(seconds[i])}) comes before "
            f"times[{i - 1}] ({_iso(seconds[i - 1])}); sort the points by time first"
        )
    return seconds, observed


def _seconds(times: ArrayLike) -> NDArray[np.float64]:
    raw = np.asarray(times)
    if raw.ndim != 1:
        raise ConfigError(f"times must be one-dimensional, got shape {raw.shape}")
    if raw.dtype.kind == "M":
        if np.isnat(raw).any():
            i = int(np.flatnonzero(np.isnat(raw))[0])
            raise ConfigError(f"times[{i}] is NaT; every point needs a time (drop the point)")
        return raw.astype("datetime64[us]").astype(np.int64) / 1e6
    if raw.dtype.kind not in "iuf":
        raise ConfigError(
            f"times must be numpy datetime64 or epoch seconds (numbers), got dtype {raw.dtype}; "
            'convert with np.array(times, dtype="datetime64[s]") or [t.timestamp() for t in times]'
        )
    seconds = raw.astype(np.float64)
    if not np.isfinite(seconds).all():
        i = int(np.flatnonzero(~np.isfinite(seconds))[0])
        raise ConfigError(f"times[{i}] is {seconds[i]}; every point needs a finite time")
    if seconds.size and np.abs(seconds).max() > _MILLISECONDS:
        raise ConfigError(
            f"times look like epoch milliseconds or finer (e.g. {np.abs(seconds).max():.0f}); "
            "pass epoch seconds (divide by 1000) or datetime64"
        )
    return seconds


def _values(values: ArrayLike) -> NDArray[np.float64]:
    raw = np.asarray(values)
    if raw.ndim != 1:
        raise ConfigError(f"values must be one-dimensional, got shape {raw.shape}")
    if raw.dtype.kind not in "biufO":
        raise ConfigError(f"values must be numbers, got dtype {raw.dtype}; convert them first")
    try:
        observed = raw.astype(np.float64)  # None in an object array becomes NaN: missing
    except (TypeError, ValueError) as error:
        raise ConfigError(f"values must be numbers (NaN or None for missing): {error}") from None
    infinite = np.flatnonzero(np.isinf(observed))
    if infinite.size:
        i = int(infinite[0])
        raise ConfigError(f"values[{i}] is {observed[i]}; pass NaN for a missing window")
    return observed


def _hour_of_week(seconds: NDArray[np.float64]) -> NDArray[np.intp]:
    """0 = Monday 00:00-01:00 UTC ... 167 = Sunday 23:00; 1970-01-01 was a Thursday (3)."""
    hours = np.floor_divide(seconds, 3600.0)
    return (((np.floor_divide(hours, 24.0) + 3) % 7) * 24 + hours % 24).astype(np.intp)


def _group_medians(
    groups: NDArray[np.intp], values: NDArray[np.float64], n_groups: int
) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """Median of ``values`` per group (NaN for an empty group) and the counts, in one sort."""
    ordered = values[np.lexsort((values, groups))]
    counts = np.bincount(groups, minlength=n_groups)
    starts = np.cumsum(counts) - counts
    medians = np.full(n_groups, np.nan)
    seen = counts > 0
    low, high = starts[seen] + (counts[seen] - 1) // 2, starts[seen] + counts[seen] // 2
    medians[seen] = (ordered[low] + ordered[high]) / 2
    return medians, counts


def _slot_table(level: str, slots: NDArray[np.intp], values: NDArray[np.float64]) -> SlotTable:
    n_slots = {"hour_of_week": 168, "hour_of_day": 24, "global": 1}[level]
    medians, counts = _group_medians(slots, values, n_slots)
    mads, _ = _group_medians(slots, np.abs(values - medians[slots]), n_slots)
    return SlotTable(level, medians, mads * _MAD_TO_SIGMA, counts.astype(np.int64))


def _pooled_spread(
    slots: dict[str, NDArray[np.intp]], seconds: NDArray[np.float64], values: NDArray[np.float64]
) -> float:
    """Spread of one value from the differences between consecutive values of one slot, at the
    finest slot with enough of them: no level to estimate, robust to spikes and shifts."""
    diffs = values[:0]
    for level in LEVELS:
        order = np.lexsort((seconds, slots[level]))
        same = np.diff(slots[level][order]) == 0
        diffs = np.diff(values[order])[same]
        if diffs.size >= _MIN_DIFFS:
            break
    if diffs.size == 0:
        return 0.0
    mad = float(np.median(np.abs(diffs - np.median(diffs))))
    return mad * _MAD_TO_SIGMA / math.sqrt(2.0)
