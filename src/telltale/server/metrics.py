"""``GET /metrics``: the Prometheus view of what the collector has seen.

Counters are kept in memory per project and updated from each committed batch (vectorised over
the batch, never per event), so a scrape costs microseconds. A scrape with a project's key sees
that project's series only; server-wide series (queue depth, commit time) carry no event data and
are shown to every project.

Series (all per ``model`` and ``version`` unless noted):

- ``telltale_events_total{status}``: events by status (ok, error, invalid, timeout, fallback)
- ``telltale_invalid_outputs_total``: events whose output failed validation
- ``telltale_prediction_latency_seconds``: histogram of the tracked call's latency
- ``telltale_client_dropped_events{instance}``: events each SDK instance dropped (its running total)
- ``telltale_drift_score{feature,method}`` and ``telltale_drift_detected{feature}``: latest drift of
  the recent window against the model's reference (per model)
- ``telltale_performance{metric}``: latest performance once labels are joined (per model)
- ``telltale_ingest_*``: the collector's own health (transactions, commit time, queue depth)

Counters restart from zero when the server restarts, which Prometheus' ``rate()`` handles.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)

from telltale.schema.wire import STATUSES

__all__ = ["LATENCY_BUCKETS_SECONDS", "BatchDelta", "MetricsState", "render_metrics"]

LATENCY_BUCKETS_SECONDS = (
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
)  # fmt: skip
_N_BUCKETS = len(LATENCY_BUCKETS_SECONDS) + 1  # the last is +Inf


_STATUS_VALUES = pa.array(STATUSES)


def _single(table: pa.Table, name: str) -> bool:
    """Whether column ``name`` holds one value (no nulls) in every row."""
    column = table.column(name)
    return column.null_count == 0 and pc.count_distinct(column).as_py() == 1


@dataclass
class BatchDelta:
    """What one batch adds to the counters, computed off the event loop before the commit."""

    events: dict[tuple[str, str, str], int]
    latency: dict[tuple[str, str], tuple[np.ndarray, float]]
    dropped: dict[str, int]

    @classmethod
    def from_events(cls, table: pa.Table, client: dict[str, Any]) -> BatchDelta:
        events: dict[tuple[str, str, str], int] = {}
        latency: dict[tuple[str, str], tuple[np.ndarray, float]] = {}
        if table.num_rows and _single(table, "model") and _single(table, "version"):
            # the common case (one SDK instance sends one model and version): numpy counts
            key = (table.column("model")[0].as_py(), table.column("version")[0].as_py() or "")
            status = pc.index_in(table.column("status"), value_set=_STATUS_VALUES)
            for index, count in enumerate(
                np.bincount(status.to_numpy(zero_copy_only=False), minlength=len(STATUSES))
            ):
                if count:
                    events[(key[0], key[1], STATUSES[index])] = int(count)
            seconds = table.column("latency_ms").to_numpy() / 1000.0
            seconds = seconds[np.isfinite(seconds)]
            bucket = np.searchsorted(np.asarray(LATENCY_BUCKETS_SECONDS), seconds, side="left")
            counts = np.bincount(bucket, minlength=_N_BUCKETS).astype(np.int64)
            latency[key] = (counts, float(seconds.sum()))
        elif table.num_rows:
            counted = table.group_by(["model", "version", "status"], use_threads=False).aggregate(
                [("status", "count")]
            )
            for model, version, status, count in zip(
                *(counted.column(i).to_pylist() for i in range(4)), strict=True
            ):
                events[(model, version or "", status)] = int(count)
            seconds = pc.divide(table.column("latency_ms").cast(pa.float64()), 1000.0)
            bucket = np.searchsorted(
                np.asarray(LATENCY_BUCKETS_SECONDS),
                seconds.to_numpy(zero_copy_only=False),
                side="left",
            )
            keyed = pa.table(
                {
                    "model": table.column("model"),
                    "version": table.column("version"),
                    "bucket": pa.array(bucket, pa.int32()),
                    "seconds": seconds,
                }
            ).filter(pc.is_valid(seconds))
            grouped = keyed.group_by(["model", "version", "bucket"], use_threads=False).aggregate(
                [("seconds", "count"), ("seconds", "sum")]
            )
            for model, version, index, count, total in zip(
                *(grouped.column(i).to_pylist() for i in range(5)), strict=True
            ):
                counts, old_sum = latency.get(
                    (model, version or ""), (np.zeros(_N_BUCKETS, np.int64), 0.0)
                )
                counts[index] += count
                latency[(model, version or "")] = (counts, old_sum + float(total))
        dropped: dict[str, int] = {}
        instance, total_dropped = client.get("instance"), client.get("dropped")
        if isinstance(instance, str) and isinstance(total_dropped, int) and total_dropped >= 0:
            dropped[instance[:200]] = total_dropped
        return cls(events, latency, dropped)


@dataclass
class _Project:
    events: dict[tuple[str, str, str], int] = field(default_factory=lambda: defaultdict(int))
    latency_counts: dict[tuple[str, str], np.ndarray] = field(default_factory=dict)
    latency_sum: dict[tuple[str, str], float] = field(default_factory=lambda: defaultdict(float))
    dropped: dict[str, int] = field(default_factory=dict)
    drift: dict[tuple[str, str], tuple[float, str, bool]] = field(default_factory=dict)
    performance: dict[tuple[str, str], float] = field(default_factory=dict)


class MetricsState:
    """The counters of every project, updated under one lock."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._projects: dict[str, _Project] = defaultdict(_Project)
        self.transactions = 0
        self.commit_seconds_sum = 0.0
        self.queue_depth: Callable[[], int] = lambda: 0

    def apply(self, project: str, delta: BatchDelta) -> None:
        with self._lock:
            state = self._projects[project]
            for status_key, count in delta.events.items():
                state.events[status_key] += count
            for series, (counts, total) in delta.latency.items():
                if series in state.latency_counts:
                    state.latency_counts[series] = state.latency_counts[series] + counts
                else:
                    state.latency_counts[series] = counts.copy()
                state.latency_sum[series] += total
            for instance, dropped in delta.dropped.items():
                # the SDK sends its running total; a restart of the client starts again at 0
                state.dropped[instance] = dropped

    def set_drift(
        self, project: str, model: str, drift: dict[str, tuple[float, str, bool]]
    ) -> None:
        with self._lock:
            state = self._projects[project]
            for key in [k for k in state.drift if k[0] == model]:
                del state.drift[key]
            for feature, value in drift.items():
                state.drift[(model, feature)] = value

    def set_performance(self, project: str, model: str, metrics: dict[str, float]) -> None:
        with self._lock:
            state = self._projects[project]
            for key in [k for k in state.performance if k[0] == model]:
                del state.performance[key]
            for name, value in metrics.items():
                state.performance[(model, name)] = value

    def record_commit(self, seconds: float) -> None:
        with self._lock:
            self.transactions += 1
            self.commit_seconds_sum += seconds

    def collect(self, project: str) -> Iterator[Metric]:
        with self._lock:
            state = self._projects.get(project, _Project())
            yield from _project_families(state)
            transactions = CounterMetricFamily(
                "telltale_ingest_transactions", "Write transactions committed by the collector"
            )
            transactions.add_metric([], self.transactions)
            yield transactions
            seconds = CounterMetricFamily(
                "telltale_ingest_commit_seconds", "Time spent writing and committing batches"
            )
            seconds.add_metric([], self.commit_seconds_sum)
            yield seconds
        depth = GaugeMetricFamily(
            "telltale_ingest_queue_depth", "Batches waiting for the writer right now"
        )
        depth.add_metric([], self.queue_depth())
        yield depth


def _project_families(state: _Project) -> Iterator[Metric]:
    events = CounterMetricFamily(
        "telltale_events",
        "Tracked calls received, by status",
        labels=["model", "version", "status"],
    )
    invalid = CounterMetricFamily(
        "telltale_invalid_outputs",
        "Tracked calls whose output failed validation",
        labels=["model", "version"],
    )
    invalid_counts: dict[tuple[str, str], int] = defaultdict(int)
    for (model, version, status), count in sorted(state.events.items()):
        events.add_metric([model, version, status], count)
        invalid_counts[(model, version)] += count if status == "invalid" else 0
    for (model, version), count in sorted(invalid_counts.items()):
        invalid.add_metric([model, version], count)
    yield events
    yield invalid

    latency = HistogramMetricFamily(
        "telltale_prediction_latency_seconds",
        "Latency of the tracked call",
        labels=["model", "version"],
    )
    for (model, version), counts in sorted(state.latency_counts.items()):
        cumulative = np.cumsum(counts)
        buckets = [
            (f"{bound:g}", int(cumulative[i])) for i, bound in enumerate(LATENCY_BUCKETS_SECONDS)
        ]
        buckets.append(("+Inf", int(cumulative[-1])))
        latency.add_metric([model, version], buckets, state.latency_sum[(model, version)])
    yield latency

    dropped = GaugeMetricFamily(
        "telltale_client_dropped_events",
        "Events an SDK instance dropped because its buffer was full (its running total)",
        labels=["instance"],
    )
    for instance, count in sorted(state.dropped.items()):
        dropped.add_metric([instance], count)
    yield dropped

    score = GaugeMetricFamily(
        "telltale_drift_score",
        "Drift of the recent window against the model's reference",
        labels=["model", "feature", "method"],
    )
    detected = GaugeMetricFamily(
        "telltale_drift_detected",
        "1 when the latest drift check flagged the feature",
        labels=["model", "feature"],
    )
    for (model, feature), (value, method, flagged) in sorted(state.drift.items()):
        score.add_metric([model, feature, method], value)
        detected.add_metric([model, feature], 1.0 if flagged else 0.0)
    yield score
    yield detected

    performance = GaugeMetricFamily(
        "telltale_performance",
        "Latest performance of the model where labels have arrived",
        labels=["model", "metric"],
    )
    for (model, metric), value in sorted(state.performance.items()):
        performance.add_metric([model, metric], value)
    yield performance


class _ProjectCollector:
    def __init__(self, state: MetricsState, project: str) -> None:
        self._state = state
        self._project = project

    def collect(self) -> Iterator[Metric]:
        return self._state.collect(self._project)


def render_metrics(state: MetricsState, project: str) -> bytes:
    """The exposition text of one project's series."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_ProjectCollector(state, project))
    return generate_latest(registry)
