"""Page data of the Overview (every model at a glance) and Model pages (its time series).

Serving and performance come from the rollups (:func:`serving_windows`,
:func:`performance_windows`: milliseconds over weeks); drift from bounded raw scans
(:mod:`telltale.dashboard.drift`); resource use from ``tt_resources``, aggregated in SQL per
window. Every function returns a JSON-able dict: the page's ``.json`` twin and what its template
renders.
"""

from __future__ import annotations

import math
import time
from datetime import datetime, timedelta, timezone
from typing import Any

from telltale.analysis.estimate import estimated_performance
from telltale.analysis.windows import performance_windows, serving_windows
from telltale.dashboard.drift import (
    BUDGET_S,
    drift_over_time,
    load_reference,
    newest_reference,
    window_drift_within,
)
from telltale.dashboard.params import RANGES, TimeRange
from telltale.dashboard.web import PageError
from telltale.store.events import EventStore

__all__ = ["model_data", "model_names", "overview_data", "require_model"]

_MAX_MODELS = 200
_MAX_VERSIONS = 20
_SERVING_KEYS = (
    "events", "throughput_per_s", "latency_p50_ms", "latency_p95_ms", "latency_p99_ms",
    "error_rate", "invalid_rate", "timeout_rate", "fallback_rate", "prediction_mean",
)  # fmt: skip
_RESOURCE_STEP_S = {"minute": 60, "hour": 3600, "day": 86400}


def minute(now: datetime) -> datetime:
    """``now`` down to the minute (UTC), so ranges picked within a minute agree."""
    return now.astimezone(timezone.utc).replace(second=0, microsecond=0)


def model_names(store: EventStore, project: str) -> list[str]:
    return [m["model"] for m in store.models(project)]


def require_model(store: EventStore, project: str, model: str) -> dict[str, Any]:
    for entry in store.models(project):
        if entry["model"] == model:
            return entry
    raise PageError(404, f"no model {model[:200]!r} in this project; the Overview lists them")


def _one_window(result: Any) -> dict[str, Any] | None:
    return result.windows[0].to_dict() if result.windows else None


def _performance_summary(window: dict[str, Any] | None, task: str | None) -> dict[str, Any]:
    if window is None or not window.get("labelled"):
        return {"task": task, "metric": None, "value": None, "low": None, "high": None}
    if task == "regression":
        return {
            "task": task, "metric": "mae", "value": window["mae"],
            "low": window.get("mae_low"), "high": window.get("mae_high"),
            "labelled": window["labelled"],
        }  # fmt: skip
    return {
        "task": task, "metric": "accuracy", "value": window["accuracy"],
        "low": window.get("accuracy_low"), "high": window.get("accuracy_high"),
        "labelled": window["labelled"],
    }  # fmt: skip


ESTIMATE_MAX_RANGE = timedelta(hours=24)
"""Longest range the model page estimates accuracy without labels over (it scans the scores:
about 40 ms a day at 1.4M events a day)."""


def _estimate(
    store: EventStore,
    project: str,
    entry: dict[str, Any],
    start: datetime,
    end: datetime,
    interval: Any,
    filters: dict[str, Any],
) -> dict[str, Any] | None:
    """Accuracy estimated without labels (:mod:`telltale.analysis.estimate`) over a range of
    at most :data:`ESTIMATE_MAX_RANGE`, for a model that sends a numeric ``score``; None for
    the others. ``filters`` are the window functions' keyword arguments."""
    if (entry.get("outputs") or {}).get("score") != "double":
        return None
    if end - start > ESTIMATE_MAX_RANGE:
        note = "the estimate without labels reads every score: it is drawn for ranges of up to 24 hours"
        return {"note": note, "windows": []}
    result = estimated_performance(store, project, entry["model"], start, end, interval, **filters)
    return {
        "note": result.note,
        "calibration_events": result.calibration_events,
        "calibration_accuracy": result.calibration_accuracy,
        "windows": [w.to_dict() for w in result.windows if w.estimated_accuracy is not None],
    }


def _with_estimate(summary: dict[str, Any], estimate: dict[str, Any] | None) -> dict[str, Any]:
    """The labelled performance, or when there is none the estimate (marked ``estimated``)."""
    if summary["value"] is not None or not estimate or not estimate["windows"]:
        return summary
    window = estimate["windows"][0]
    return {
        "task": "classification", "metric": "accuracy", "estimated": True,
        "value": window["estimated_accuracy"], "low": window["estimated_accuracy_low"],
        "high": window["estimated_accuracy_high"], "scored": window["scored"],
    }  # fmt: skip


def _drifting(
    store: EventStore, project: str, model: str, now: datetime, deadline: float
) -> dict[str, Any] | None:
    """Features drifting in the last hour against the newest reference (None: no reference)."""
    reference = newest_reference(store, project, model)
    if reference is None:
        return None
    profile = load_reference(store, project, model, reference)
    result = window_drift_within(
        store, project, model, reference, profile, now - timedelta(hours=1), now, {}, deadline
    )
    if result is None:
        return {"reference": reference["name"], "pending": True}
    flagged = sorted(name for name, c in result.drift.columns.items() if c.drift)
    return {
        "reference": reference["name"],
        "rows": result.rows,
        "features": len(result.drift.columns),
        "drifting": flagged,
    }


def _alert_model(state: dict[str, Any]) -> str | None:
    group = state.get("group") or (state.get("alert") or {}).get("group") or {}
    model = group.get("model")
    return None if model is None else str(model)


def _firing(alerts: Any, project: str) -> dict[str, int]:
    """Firing alerts per model (``alerts`` is the :class:`~telltale.alerts.engine.AlertEngine`)."""
    counts: dict[str, int] = {}
    for state in alerts.alerts.states(project).values():
        model = _alert_model(state)
        if state.get("state") == "firing" and model is not None:
            counts[model] = counts.get(model, 0) + 1
    return counts


def _overall_performance(
    store: EventStore,
    project: str,
    entry: dict[str, Any],
    start: datetime,
    now: datetime,
    performance: Any,
) -> dict[str, Any]:
    summary = _performance_summary(_one_window(performance), performance.task)
    if summary["value"] is not None:
        return summary
    return _with_estimate(summary, _estimate(store, project, entry, start, now, None, {}))


def overview_data(store: EventStore, alerts: Any, project: str, now: datetime) -> dict[str, Any]:
    """Every model and version over the last 24 hours: traffic, p99 latency, error and invalid
    rates, latest performance, features drifting in the last hour, firing alerts, sparklines."""
    now = minute(now)
    start = now - timedelta(hours=24)
    firing = _firing(alerts, project)
    deadline = time.monotonic() + BUDGET_S  # drift of all models together, then background
    models = []
    for entry in store.models(project)[:_MAX_MODELS]:
        model = entry["model"]
        hourly = serving_windows(store, project, model, start, now, interval="hour")
        summary = _one_window(serving_windows(store, project, model, start, now, interval=None))
        performance = performance_windows(store, project, model, start, now, interval=None)
        versions = []
        for version in entry["versions"][:_MAX_VERSIONS]:
            served = _one_window(
                serving_windows(store, project, model, start, now, interval=None, version=version)
            )
            if served is None:
                continue
            perf = performance_windows(
                store, project, model, start, now, interval=None, version=version
            )
            summary_v = _performance_summary(_one_window(perf), perf.task)
            if summary_v["value"] is None:
                summary_v = _with_estimate(
                    summary_v,
                    _estimate(store, project, entry, start, now, None, {"version": version}),
                )
            versions.append(
                {
                    "version": version,
                    "serving": {k: served[k] for k in _SERVING_KEYS},
                    "performance": summary_v,
                }
            )
        models.append(
            {
                "model": model,
                "events_total": entry["events"],
                "last_ts": entry["last_ts"],
                "features": len(entry["features"]),
                "serving": {k: summary[k] for k in _SERVING_KEYS} if summary else None,
                "performance": _overall_performance(store, project, entry, start, now, performance),
                "drift": _drifting(store, project, model, now, deadline),
                "firing_alerts": firing.get(model, 0),
                "versions": versions,
                "spark": {
                    "start": hourly.start,
                    "events": _dense(hourly.windows, start, now, 3600, "events"),
                    "latency_p99_ms": _dense(hourly.windows, start, now, 3600, "latency_p99_ms"),
                },
            }
        )
    return {"project": project, "now": now.isoformat(), "window": "24h", "models": models}


def _dense(windows: list[Any], start: datetime, end: datetime, step_s: int, name: str) -> list[Any]:
    """One value per step from ``start`` (None where a window had no events)."""
    origin = start.timestamp() // step_s * step_s
    n = math.ceil((end.timestamp() - origin) / step_s)
    out: list[Any] = [None] * n
    for window in windows:
        i = int((datetime.fromisoformat(window.start).timestamp() - origin) // step_s)
        if 0 <= i < n:
            out[i] = getattr(window, name)
    return out


def _resources(
    store: EventStore, project: str, model: str, start: datetime, end: datetime, interval: str
) -> list[dict[str, Any]]:
    """CPU, memory, GPU and event-loop lag per window, from the samples of the model's
    processes (samples sent without a model count for every model of the project)."""
    step = _RESOURCE_STEP_S[interval] * 1_000_000
    cursor = store.cursor()
    try:
        by_model = cursor.execute(
            """SELECT count(*) FROM information_schema.columns
            WHERE table_name = 'tt_resources' AND column_name = 'model'"""
        ).fetchone()[0]
        # stores made before samples carried their model: the project's samples
        which, params = ("AND (model = ? OR model IS NULL)", [model]) if by_model else ("", [])
        rows = cursor.execute(
            f"""SELECT (epoch_us(ts) // {step}) * {step} AS w, count(*) AS samples,
                   avg(cpu_percent), max(rss_mb), avg(gpu_percent), max(gpu_memory_mb),
                   avg(loop_lag_ms)
            FROM tt_resources
            WHERE project = ? {which} AND ts >= ? AND ts < ?
            GROUP BY w ORDER BY w LIMIT 2000""",
            [project, *params, start, end],
        ).fetchall()
    finally:
        cursor.close()
    names = ("samples", "cpu_percent", "rss_mb_max", "gpu_percent", "gpu_memory_mb_max")
    epoch = datetime(1970, 1, 1, tzinfo=timezone.utc)
    return [
        {
            "start": (epoch + timedelta(microseconds=int(r[0]))).isoformat(),
            **dict(zip((*names, "loop_lag_ms"), r[1:], strict=True)),
        }
        for r in rows
    ]


def model_data(
    store: EventStore,
    alerts: Any,
    project: str,
    model: str,
    now: datetime,
    picked: TimeRange,
    filters: dict[str, Any],
    reference_name: str | None = None,
) -> dict[str, Any]:
    """Time series of one model over the picked range: serving health, performance with 95%
    intervals, prediction distribution, resource use, drift per feature over time (against the
    newest reference, or ``reference_name``), and its versions side by side."""
    entry = require_model(store, project, model)
    if filters.get("version") is not None and filters["version"] not in entry["versions"]:
        raise PageError(
            404,
            f"model {model[:200]!r} has no version {filters['version'][:200]!r}; "
            f"it has {', '.join(entry['versions'][:20]) or 'none'}",
        )
    now = minute(now)
    start = now - picked.length
    serving = serving_windows(store, project, model, start, now, picked.interval, **filters)
    performance = performance_windows(store, project, model, start, now, picked.interval, **filters)
    estimate = (
        _estimate(store, project, entry, start, now, picked.interval, filters)
        if performance.task != "regression"
        else None
    )
    classes: dict[str, float] = {}
    total = sum(w.events for w in serving.windows) or 1
    for window in serving.windows:
        for name, share in window.class_shares.items():
            classes[name] = classes.get(name, 0.0) + share * window.events / total
    reference = newest_reference(store, project, model, reference_name)
    if reference_name is not None and reference is None:
        raise PageError(404, f"model {model[:200]!r} has no reference {reference_name[:200]!r}")
    drift = (
        drift_over_time(store, project, model, reference, start, now, filters)
        if reference is not None
        else None
    )
    versions = []
    for version in entry["versions"][:_MAX_VERSIONS]:
        served = _one_window(
            serving_windows(store, project, model, start, now, interval=None, version=version)
        )
        perf = performance_windows(store, project, model, start, now, None, version=version)
        versions.append(
            {
                "version": version,
                "serving": {k: served[k] for k in _SERVING_KEYS} if served else None,
                "performance": _performance_summary(_one_window(perf), perf.task),
            }
        )
    firing = [
        s["alert"]
        for s in alerts.alerts.states(project).values()
        if s.get("state") == "firing" and _alert_model(s) == model
    ]
    return {
        "project": project,
        "model": model,
        "now": now.isoformat(),
        "range": picked.name,
        "ranges": [{"name": r.name, "label": r.label} for r in RANGES.values()],
        "interval": picked.interval,
        "start": start.isoformat(),
        "end": now.isoformat(),
        "filters": {k: v for k, v in filters.items() if v is not None},
        "versions_known": entry["versions"],
        "features": entry["features"],
        "outputs": entry["outputs"],
        "serving": [w.to_dict() for w in serving.windows],
        "latency_relative_error": serving.latency_relative_error,
        "performance": {
            "task": performance.task,
            "windows": [w.to_dict() for w in performance.windows if w.labelled],
            "estimated": estimate,
        },
        "prediction_classes": dict(sorted(classes.items(), key=lambda kv: -kv[1])[:20]),
        "resources": _resources(store, project, model, start, now, picked.interval),
        "references": [r["name"] for r in store.references(project, model)],
        "reference": reference,
        "drift": drift,
        "versions": versions,
        "firing_alerts": firing,
    }
