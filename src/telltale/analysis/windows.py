"""How did this model do, hour by hour, this week? Windows of serving health and performance.

Serving and performance windows are read from the store's per-minute rollups
(:mod:`telltale.store.rollup`), not from raw events, so they answer in milliseconds over weeks
and still answer after retention removed the raw events. Consequences worth knowing:

- **Minute resolution.** ``start`` is rounded down and ``end`` up to whole minutes (UTC).
  Windows are aligned to the interval in UTC (``hour`` windows start at :00, ``day`` at
  midnight); the first and last may be cut by ``start``/``end``, and their throughput is over
  the part inside.
- **Latency percentiles** come from log-bucket histograms: each is within
  :data:`~telltale.store.rollup.ALPHA` (1%) relative error of the exact order statistic
  at rank ``floor(q (n - 1))`` (numpy's ``method="lower"``).
- **Counts and rates are exact**; prediction mean and standard deviation come from exact sums.
- **Performance** counts an event once both it and its label are stored: classification
  (accuracy, macro F1 over the classes seen in labels or predictions) when predictions are
  classes (strings, booleans, integers), regression (MAE, RMSE, R²) when they are floats.
  ``coverage`` is labelled events / events.

Drift needs the raw values, so :func:`window_drift` profiles the window's events against a
reference profile (one scan of the window) and compares the two profiles.

>>> WINDOW_LENGTH_US["hour"]
3600000000
"""

from __future__ import annotations

import gzip
import json
import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Literal

import numpy as np

from telltale.analysis.drift.table import TableDrift, detect_drift
from telltale.analysis.profile import TableProfile
from telltale.analysis.profiling import plan_profile, run_plan
from telltale.analysis.quality import TableQuality, check_quality
from telltale.errors import ConfigError, ProfileError
from telltale.schema.result import Result
from telltale.store.events import EventStore
from telltale.store.latency import latency_histograms
from telltale.store.rollup import ALPHA, INTERVALS, histogram_quantiles

__all__ = [
    "WINDOW_LENGTH_US",
    "Interval",
    "PerformanceWindow",
    "PerformanceWindows",
    "ServingWindow",
    "ServingWindows",
    "VersionComparison",
    "WindowDrift",
    "compare_versions",
    "performance_windows",
    "serving_windows",
    "wilson_interval",
    "window_drift",
]

Interval = Literal["minute", "hour", "day"]
WINDOW_LENGTH_US = INTERVALS
_MINUTE = INTERVALS["minute"]
_HOUR = INTERVALS["hour"]
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_STATUSES = ("error", "invalid", "timeout", "fallback")


def _us(value: datetime) -> int:
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    delta = value - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def _iso(micros: int) -> str:
    return (_EPOCH + timedelta(microseconds=micros)).isoformat()


def _ratio(a: float, b: float) -> float | None:
    return a / b if b else None


@dataclass
class ServingWindow(Result):
    """Serving health of one window."""

    start: str
    end: str
    events: int
    rows: int
    """Rows predicted: the sum of the events' ``batch_size``."""
    throughput_per_s: float
    latency_p50_ms: float | None
    latency_p95_ms: float | None
    latency_p99_ms: float | None
    latency_mean_ms: float | None
    error_rate: float | None
    invalid_rate: float | None
    timeout_rate: float | None
    fallback_rate: float | None
    prediction_mean: float | None
    prediction_std: float | None
    class_shares: dict[str, float] = field(default_factory=dict)


@dataclass
class ServingWindows(Result):
    """Serving windows of a model.

    >>> ServingWindows("fraud", "hour", "2026-11-16T00:00:00+00:00",
    ...                "2026-11-16T01:00:00+00:00").to_dict()["latency_relative_error"]
    0.01
    """

    model: str
    interval: str
    start: str
    end: str
    filters: dict[str, Any] = field(default_factory=dict)
    latency_relative_error: float = ALPHA
    windows: list[ServingWindow] = field(default_factory=list)


@dataclass
class PerformanceWindow(Result):
    """Performance of one window, from the events whose labels have arrived."""

    start: str
    end: str
    events: int
    labelled: int
    coverage: float | None
    accuracy: float | None = None
    macro_f1: float | None = None
    mae: float | None = None
    rmse: float | None = None
    r2: float | None = None
    accuracy_low: float | None = None
    """Lower end of the Wilson 95% interval of ``accuracy`` (``accuracy_high`` the upper)."""
    accuracy_high: float | None = None
    mae_low: float | None = None
    """Lower end of the normal 95% interval of ``mae`` (mean ± 1.96 standard errors of the
    absolute errors; ``None`` below two labelled events)."""
    mae_high: float | None = None


@dataclass
class PerformanceWindows(Result):
    """Performance windows of a model; ``task`` is ``classification``, ``regression`` or
    ``None`` when no labelled event is in the span."""

    model: str
    interval: str
    start: str
    end: str
    task: str | None
    filters: dict[str, Any] = field(default_factory=dict)
    windows: list[PerformanceWindow] = field(default_factory=list)


@dataclass
class WindowDrift(Result):
    """Drift of a window of live events against a reference profile."""

    model: str
    start: str
    end: str
    rows: int
    drift: TableDrift
    missing_columns: list[str] = field(default_factory=list)
    """Reference columns the model's events do not have (no drift computed for them)."""
    filters: dict[str, Any] = field(default_factory=dict)
    quality: TableQuality | None = None
    """Data quality of the window against the reference (missing rates, values out of the
    reference's range, categories it never saw), from the same profile as the drift."""


@dataclass
class VersionComparison(Result):
    """Two versions of a model side by side over one span (each a single window)."""

    model: str
    start: str
    end: str
    version_a: str
    version_b: str
    serving_a: ServingWindow | None
    serving_b: ServingWindow | None
    performance_a: PerformanceWindow | None
    performance_b: PerformanceWindow | None
    task: str | None


# --------------------------------------------------------------------------------------------
# Span and filters
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Span:
    start_us: int
    end_us: int
    length_us: int | None  # None: one window for the whole span

    def window_sql(self, column: str) -> str:
        """SQL of a row's window start (µs) from a TIMESTAMP ``column`` (a name we chose)."""
        if self.length_us is None:
            return str(self.start_us)
        return f"(epoch_us({column}) // {self.length_us}) * {self.length_us}"

    def bounds(self, window: int) -> tuple[int, int]:
        if self.length_us is None:
            return self.start_us, self.end_us
        return max(window, self.start_us), min(window + self.length_us, self.end_us)


def _span(start: datetime, end: datetime, interval: str | None) -> _Span:
    if interval is not None and interval not in INTERVALS:
        raise ConfigError(f"interval {interval!r} is not one of {', '.join(INTERVALS)}")
    start_us = (_us(start) // _MINUTE) * _MINUTE
    end_us = -((-_us(end)) // _MINUTE) * _MINUTE
    if end_us <= start_us:
        raise ConfigError(f"start {start.isoformat()} must be before end {end.isoformat()}")
    return _Span(start_us, end_us, None if interval is None else INTERVALS[interval])


def _filters(
    version: str | None, environment: str | None, segment: dict[str, str] | None
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if version is not None:
        out["version"] = version
    if environment is not None:
        out["environment"] = environment
    if segment:
        out["segment"] = dict(segment)
    return out


def _rows(store: EventStore, sql: str, params: list[Any]) -> dict[str, np.ndarray]:
    cursor = store.cursor()
    try:
        table = cursor.sql(sql, params=params).to_arrow_table()
    finally:
        cursor.close()
    return {name: table.column(name).to_numpy(zero_copy_only=False) for name in table.column_names}


def _series_sql(series: list[int]) -> str:
    # Integers the store generated; inlined so DuckDB can prune the rollup scan by them.
    return "(" + ", ".join(str(int(s)) for s in series) + ")"


# --------------------------------------------------------------------------------------------
# Serving
# --------------------------------------------------------------------------------------------


def _serving(store: EventStore, series: list[int], span: _Span) -> list[ServingWindow]:
    if not series:
        return []
    ids = _series_sql(series)
    w = span.window_sql("minute")
    counts = _rows(
        store,
        f"""SELECT {w} AS w, sum(events) AS events, sum(batch_rows) AS rows,
               sum(error) AS error, sum(invalid) AS invalid, sum(timeout) AS timeout,
               sum(fallback) AS fallback, sum(latency_n) AS latency_n,
               sum(latency_sum) AS latency_sum, sum(prediction_n) AS prediction_n,
               sum(prediction_sum) AS prediction_sum, sum(prediction_sumsq) AS prediction_sumsq
        FROM tt_roll_serving
        WHERE series_id IN {ids} AND minute >= make_timestamp(?) AND minute < make_timestamp(?)
        GROUP BY w ORDER BY w""",
        [span.start_us, span.end_us],
    )
    if len(counts["w"]) == 0:
        return []
    latency = _latency(store, series, span)
    classes = _rows(
        store,
        f"""SELECT {w} AS w, class, sum(n) AS n FROM tt_roll_classes
        WHERE series_id IN {ids} AND minute >= make_timestamp(?) AND minute < make_timestamp(?)
        GROUP BY w, class ORDER BY w, class""",
        [span.start_us, span.end_us],
    )
    by_window_latency = _split(latency, ("bucket", "n"))
    by_window_classes = _split(classes, ("class", "n"))
    out = []
    for i, window in enumerate(counts["w"].tolist()):
        events = int(counts["events"][i])
        lo, hi = span.bounds(int(window))
        buckets, n = by_window_latency.get(int(window), (np.zeros(0), np.zeros(0)))
        p50, p95, p99 = histogram_quantiles(buckets, n, (0.5, 0.95, 0.99))
        latency_n = int(counts["latency_n"][i])
        prediction_n = int(counts["prediction_n"][i])
        mean = std = None
        if prediction_n:
            mean = float(counts["prediction_sum"][i]) / prediction_n
            if prediction_n > 1:
                ss = float(counts["prediction_sumsq"][i]) - prediction_n * mean * mean
                std = math.sqrt(max(ss, 0.0) / (prediction_n - 1))
        names, class_n = by_window_classes.get(int(window), (np.zeros(0), np.zeros(0)))
        total_classes = float(np.sum(class_n))
        out.append(
            ServingWindow(
                start=_iso(lo),
                end=_iso(hi),
                events=events,
                rows=int(counts["rows"][i]),
                throughput_per_s=events / ((hi - lo) / 1e6),
                latency_p50_ms=p50,
                latency_p95_ms=p95,
                latency_p99_ms=p99,
                latency_mean_ms=_ratio(float(counts["latency_sum"][i]), latency_n),
                error_rate=_ratio(int(counts["error"][i]), events),
                invalid_rate=_ratio(int(counts["invalid"][i]), events),
                timeout_rate=_ratio(int(counts["timeout"][i]), events),
                fallback_rate=_ratio(int(counts["fallback"][i]), events),
                prediction_mean=mean,
                prediction_std=std,
                class_shares={
                    str(k): float(v) / total_classes for k, v in zip(names, class_n, strict=True)
                }
                if total_classes
                else {},
            )
        )
    return out


def _latency(store: EventStore, series: list[int], span: _Span) -> dict[str, np.ndarray]:
    """Latency buckets per window (:func:`~telltale.store.latency.latency_histograms`: whole
    hours from the hourly table, the edges by minute, hours where minutes were trimmed)."""
    cursor = store.cursor()
    try:
        table = latency_histograms(cursor, series, span.start_us, span.end_us, span.length_us)
    finally:
        cursor.close()
    return {name: table.column(name).to_numpy(zero_copy_only=False) for name in table.column_names}


def _split(
    rows: dict[str, np.ndarray], names: tuple[str, str]
) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """Rows sorted by window → {window: (first column, second column)}."""
    windows = rows["w"]
    if len(windows) == 0:
        return {}
    cuts = np.flatnonzero(np.diff(windows)) + 1
    starts = np.concatenate([[0], cuts])
    ends = np.concatenate([cuts, [len(windows)]])
    a, b = rows[names[0]], rows[names[1]]
    return {int(windows[s]): (a[s:e], b[s:e]) for s, e in zip(starts, ends, strict=True)}


def serving_windows(
    store: EventStore,
    project: str,
    model: str,
    start: datetime,
    end: datetime,
    interval: Interval | None = "hour",
    version: str | None = None,
    environment: str | None = None,
    segment: dict[str, str] | None = None,
) -> ServingWindows:
    """Per window: throughput, counts, latency p50/p95/p99, error/invalid/timeout/fallback
    rates, prediction mean/std and class shares. Windows without events are left out;
    ``interval=None`` makes the whole span one window.

    Raises :class:`~telltale.errors.NotFoundError` for a model the project has never sent.
    """
    span = _span(start, end, interval)
    series = store.series(project, model, version=version, environment=environment, segment=segment)
    return ServingWindows(
        model=model,
        interval=interval or "span",
        start=_iso(span.start_us),
        end=_iso(span.end_us),
        filters=_filters(version, environment, segment),
        windows=_serving(store, series, span),
    )


# --------------------------------------------------------------------------------------------
# Performance
# --------------------------------------------------------------------------------------------


def _performance(
    store: EventStore, series: list[int], span: _Span, task: str | None
) -> tuple[str | None, list[PerformanceWindow]]:
    if not series:
        return task, []
    ids = _series_sql(series)
    w = span.window_sql("minute")
    where = f"series_id IN {ids} AND minute >= make_timestamp(?) AND minute < make_timestamp(?)"
    bounds = [span.start_us, span.end_us]
    events = _rows(
        store,
        f"SELECT {w} AS w, sum(events) AS events FROM tt_roll_serving WHERE {where} GROUP BY w ORDER BY w",
        bounds,
    )
    confusion = _rows(
        store,
        f"""SELECT {w} AS w, label, prediction, sum(n) AS n FROM tt_roll_confusion WHERE {where}
        GROUP BY w, label, prediction HAVING sum(n) <> 0 ORDER BY w""",
        bounds,
    )
    regression = _rows(
        store,
        f"""SELECT {w} AS w, sum(n) AS n, sum(abs_error) AS abs_error, sum(sq_error) AS sq_error,
               sum(y) AS y, sum(y2) AS y2
        FROM tt_roll_regression WHERE {where} GROUP BY w HAVING sum(n) <> 0 ORDER BY w""",
        bounds,
    )
    if task is None:
        task = (
            "classification"
            if len(confusion["w"])
            else "regression"
            if len(regression["w"])
            else None
        )
    if task not in (None, "classification", "regression"):
        raise ConfigError(f"task {task!r} is not classification or regression")
    matrices: dict[int, list[tuple[str, str, int]]] = {}
    for window, label, prediction, n in zip(
        confusion["w"].tolist(),
        confusion["label"].tolist(),
        confusion["prediction"].tolist(),
        confusion["n"].tolist(),
        strict=True,
    ):
        matrices.setdefault(int(window), []).append((label, prediction, int(n)))
    sums = {int(window): i for i, window in enumerate(regression["w"].tolist())}
    out = []
    for i, window in enumerate(events["w"].tolist()):
        lo, hi = span.bounds(int(window))
        total = int(events["events"][i])
        result = PerformanceWindow(_iso(lo), _iso(hi), total, 0, None)
        if task == "classification" and int(window) in matrices:
            cells = matrices[int(window)]
            result.labelled = sum(n for _, _, n in cells)
            correct = sum(n for a, b, n in cells if a == b)
            result.accuracy = _ratio(correct, result.labelled)
            result.accuracy_low, result.accuracy_high = wilson_interval(correct, result.labelled)
            result.macro_f1 = _macro_f1(cells)
        elif task == "regression" and int(window) in sums:
            j = sums[int(window)]
            n = int(regression["n"][j])
            result.labelled = n
            result.mae = float(regression["abs_error"][j]) / n
            result.rmse = math.sqrt(max(float(regression["sq_error"][j]), 0.0) / n)
            result.mae_low, result.mae_high = _mean_interval(
                result.mae, float(regression["sq_error"][j]), n
            )
            y, y2 = float(regression["y"][j]), float(regression["y2"][j])
            total_ss = y2 - y * y / n
            result.r2 = (
                1.0 - float(regression["sq_error"][j]) / total_ss
                if total_ss > 1e-12 * max(y2, 1.0)
                else None
            )
        result.coverage = _ratio(result.labelled, total)
        out.append(result)
    return task, out


_Z95 = 1.959963984540054  # the 97.5% quantile of the standard normal


def wilson_interval(successes: int, n: int, z: float = _Z95) -> tuple[float | None, float | None]:
    """The Wilson score interval of a proportion (95% by default), as
    ``scipy.stats.binomtest(k, n).proportion_ci(method="wilson")``; ``(None, None)`` for n = 0.

    >>> [round(v, 4) for v in wilson_interval(8, 10)]
    [0.4902, 0.9433]
    """
    if n <= 0:
        return None, None
    p = successes / n
    z2 = z * z
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = z / (1 + z2 / n) * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)


def _mean_interval(
    mean: float, sum_squares: float, n: int, z: float = _Z95
) -> tuple[float | None, float | None]:
    """Normal interval of a mean from the sums of the values and of their squares (for the
    absolute errors, the squares' sum is the squared errors' sum the rollups keep)."""
    if n < 2:
        return None, None
    variance = max(sum_squares / n - mean * mean, 0.0) * n / (n - 1)
    half = z * math.sqrt(variance / n)
    return max(0.0, mean - half), mean + half


def _macro_f1(cells: list[tuple[str, str, int]]) -> float | None:
    """Macro F1 over the classes in labels or predictions (scikit-learn's ``average="macro"``)."""
    classes = sorted({a for a, _, _ in cells} | {b for _, b, _ in cells})
    if not classes:
        return None
    scores = []
    for c in classes:
        tp = sum(n for a, b, n in cells if a == c and b == c)
        fp = sum(n for a, b, n in cells if a != c and b == c)
        fn = sum(n for a, b, n in cells if a == c and b != c)
        scores.append(2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 0.0)
    return float(np.mean(scores))


def performance_windows(
    store: EventStore,
    project: str,
    model: str,
    start: datetime,
    end: datetime,
    interval: Interval | None = "hour",
    version: str | None = None,
    environment: str | None = None,
    segment: dict[str, str] | None = None,
    task: str | None = None,
) -> PerformanceWindows:
    """Per window: accuracy and macro F1 (classification) or MAE, RMSE and R² (regression)
    over the labelled events, with label coverage. ``task`` forces one of the two."""
    span = _span(start, end, interval)
    series = store.series(project, model, version=version, environment=environment, segment=segment)
    found, windows = _performance(store, series, span, task)
    return PerformanceWindows(
        model=model,
        interval=interval or "span",
        start=_iso(span.start_us),
        end=_iso(span.end_us),
        task=found,
        filters=_filters(version, environment, segment),
        windows=windows,
    )


# --------------------------------------------------------------------------------------------
# Drift and comparison
# --------------------------------------------------------------------------------------------


def _reference(
    store: EventStore, project: str, model: str, reference: TableProfile | str
) -> TableProfile:
    if isinstance(reference, TableProfile):
        return reference
    data = store.load_reference(project, model, reference)
    try:
        return TableProfile.from_dict(
            json.loads(gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data)
        )
    except (OSError, ValueError) as error:
        raise ProfileError(
            f"reference {reference!r} is not a saved profile ({error}); save one made by `telltale profile`"
        ) from None


def window_drift(
    store: EventStore,
    project: str,
    model: str,
    reference_profile: TableProfile | str,
    start: datetime,
    end: datetime,
    version: str | None = None,
    environment: str | None = None,
    segment: dict[str, str] | None = None,
    method: str | None = None,
) -> WindowDrift:
    """Drift of each reference column between ``reference_profile`` (a profile, or the name
    of one saved with :meth:`~telltale.store.events.EventStore.save_reference`) and the model's
    events in ``[start, end)`` (exact times: raw events, not rollups)."""
    reference = _reference(store, project, model, reference_profile)
    table = store.events_relation(
        project, model, start, end, version=version, environment=environment, segment=segment
    )
    names = [n for n in reference.columns if n in table.columns]
    missing = [n for n in reference.columns if n not in table.columns]
    plan = plan_profile(table, columns=names, reference=reference)
    current = run_plan(table, plan, source=f"{model} {start.isoformat()}..{end.isoformat()}")
    return WindowDrift(
        model=model,
        start=start.isoformat(),
        end=end.isoformat(),
        rows=current.row_count,
        drift=detect_drift(reference, current, names, method=method),
        missing_columns=missing,
        filters=_filters(version, environment, segment),
        quality=check_quality(reference, current),
    )


def compare_versions(
    store: EventStore,
    project: str,
    model: str,
    version_a: str,
    version_b: str,
    start: datetime,
    end: datetime,
) -> VersionComparison:
    """Serving and performance of two versions over ``[start, end)``, each as one window."""
    span = _span(start, end, None)
    serving: list[ServingWindow | None] = []
    performance: list[PerformanceWindow | None] = []
    task: str | None = None
    for version in (version_a, version_b):
        series = store.series(project, model, version=version)
        windows = _serving(store, series, span)
        serving.append(windows[0] if windows else None)
        found, perf = _performance(store, series, span, None)
        task = task or found
        performance.append(perf[0] if perf else None)
    return VersionComparison(
        model=model,
        start=_iso(span.start_us),
        end=_iso(span.end_us),
        version_a=version_a,
        version_b=version_b,
        serving_a=serving[0],
        serving_b=serving[1],
        performance_a=performance[0],
        performance_b=performance[1],
        task=task,
    )
