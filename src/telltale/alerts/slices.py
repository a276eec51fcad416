"""The worst slices of an alert's window: where, among the window's events, the metric is worst.

When a rule fires, an on-call engineer asks *where*: "accuracy 0.86 < 0.90; worst slice
country=BR (acc 0.71, n=812)". This module answers it for the metrics that are a mean of a
per-event loss:

========================  ======================================================  ==========
metric                    loss of one event                                       test
========================  ======================================================  ==========
accuracy, macro_f1        1 when the prediction is not the label (labelled only)  exact
mae, rmse, r2             absolute error (labelled only)                          Welch
error/invalid/timeout/…   1 when the status is that status                        exact
latency_*                 the latency in ms                                       Welch
========================  ======================================================  ==========

The window's events (the newest ``max_rows``) are read with their features, segment tags,
version and environment; numeric features are cut at their quartiles, categorical ones keep
their most common values (the rest is ``(other)``). The search is the evaluation's slice
discovery (:func:`telltale.analysis.evaluate.slices.find_slices`: SliceLine scores, one-sided
tests adjusted by Benjamini–Hochberg, overlapping slices merged), so a slice is reported only
when it is significantly worse than the rest of the window, never because it is small and
unlucky. Other metrics (throughput, drift, resources ...) have no per-event loss: no slices.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

import numpy as np

from telltale.analysis.evaluate.slices import SliceSearch, find_slices
from telltale.store.events import EventStore

__all__ = ["worst_slices"]

_STATUS = {
    "error_rate": "error",
    "invalid_rate": "invalid",
    "timeout_rate": "timeout",
    "fallback_rate": "fallback",
}
_CLASSIFICATION = ("accuracy", "macro_f1")
_REGRESSION = ("mae", "rmse", "r2")
_TOP_CATEGORIES = 12
_QUARTILES = (0.25, 0.5, 0.75)


def slice_metric(metric: str) -> str | None:
    """What a slice's value means for ``metric`` (None: the metric has no slices)."""
    if metric in _CLASSIFICATION:
        return "accuracy"
    if metric in _REGRESSION:
        return "mae"
    if metric in _STATUS:
        return metric
    if metric.startswith("latency_"):
        return "latency_mean_ms"
    return None


def worst_slices(
    store: EventStore,
    project: str,
    model: str,
    metric: str,
    start: datetime,
    end: datetime,
    *,
    filters: dict[str, Any] | None = None,
    limit: int = 3,
    max_rows: int = 200_000,
    min_size: int = 30,
) -> list[dict[str, Any]]:
    """The slices of ``[start, end)`` where ``metric`` is significantly worst, worst first:
    ``[{"description", "n", "metric", "value", "rest", "q_value"}]``."""
    shown = slice_metric(metric)
    if shown is None:
        return []
    table = store.model_table(project, model)
    inputs = [c for c in table.columns.values() if c.role == "input" and c.type != "NULL"]
    filters = filters or {}
    where = ["e.ts >= ?", "e.ts < ?"]
    params: list[Any] = [start, end]
    for key, column in (("version", "version"), ("environment", "environment_id")):
        if filters.get(key) is not None:
            where.append(f"e.{column} = ?")
            params.append(filters[key])
    for tag, value in (filters.get("segment") or {}).items():
        where.append("map_extract_value(e.segment, ?) = ?")
        params += [tag, value]
    labelled = shown in ("accuracy", "mae")
    join = ""
    if labelled:
        join = "JOIN tt_labels l ON l.project = ? AND l.matched AND l.event_id = e.event_id"
        params.insert(0, project)
    features = ", ".join(f'e."{c.column_name}"' for c in inputs)
    sql = (
        "SELECT e.version, coalesce(e.environment_id, ''), map_keys(e.segment), "
        "map_values(e.segment), e.status, e.latency_ms, e.prediction_class, e.prediction_value"
        + (", l.label, l.label_number" if labelled else ", NULL, NULL")
        + (f", {features}" if features else "")
        + f" FROM {table.table_name} e {join} WHERE {' AND '.join(where)} "
        f"ORDER BY e.ts DESC LIMIT {int(max_rows)}"
    )
    cursor = store.cursor()
    try:
        rows = cursor.execute(sql, params).fetchall()
    finally:
        cursor.close()
    if len(rows) < 2 * min_size:
        return []
    columns: list[Any] = [list(c) for c in zip(*rows, strict=True)]
    loss, keep = _loss(shown, columns)
    if keep is not None:
        kept = np.flatnonzero(keep).tolist()
        columns = [[c[i] for i in kept] for c in columns]  # lists: a map column is ragged
    if len(loss) < 2 * min_size or not np.isfinite(loss).all() or float(loss.sum()) <= 0:
        return []
    buckets: dict[str, tuple[Any, list[str]]] = {}
    if "version" not in filters or filters.get("version") is None:
        buckets["version"] = _categorical(columns[0])
    if filters.get("environment") is None:
        buckets["environment"] = _categorical(columns[1])
    for tag, tagged in _segments(columns[2], columns[3]).items():
        buckets[f"segment.{tag}"] = _categorical(tagged)
    for offset, feature in enumerate(inputs):
        values = columns[10 + offset]
        buckets[feature.name] = (
            _numeric(values) if feature.type == "DOUBLE" else _categorical(values)
        )
    buckets = {k: v for k, v in buckets.items() if len(v[1]) > 1}
    if not buckets:
        return []
    binary = shown not in ("mae", "latency_mean_ms")
    found = find_slices(
        loss,
        buckets,
        binary=binary,
        search=SliceSearch(
            min_size=max(min_size, math.ceil(0.01 * len(loss))), max_conditions=2, max_slices=limit
        ),
        loss_name=shown,
    )
    out = []
    for item in found[:limit]:
        value = 1.0 - item.loss if shown == "accuracy" else item.loss
        rest = 1.0 - item.rest_loss if shown == "accuracy" else item.rest_loss
        out.append(
            {
                "description": item.description,
                "n": item.n,
                "metric": shown,
                "value": value,
                "rest": rest,
                "q_value": item.q_value,
            }
        )
    return out


def _loss(shown: str, columns: list[Any]) -> tuple[np.ndarray, np.ndarray | None]:
    """The per-event loss, and which rows have one (None: all)."""
    status = np.asarray(columns[4], dtype=object)
    if shown in _STATUS:
        return (status == _STATUS[shown]).astype(float), None
    if shown == "latency_mean_ms":
        latency = np.array([np.nan if v is None else v for v in columns[5]], dtype=float)
        keep = np.isfinite(latency)
        return latency[keep], keep
    if shown == "accuracy":
        predicted = np.asarray(columns[6], dtype=object)
        label = np.asarray(columns[8], dtype=object)
        keep = np.array([p is not None for p in predicted], dtype=bool)
        return (predicted[keep] != label[keep]).astype(float), keep
    predicted_value = np.array([np.nan if v is None else v for v in columns[7]], dtype=float)
    truth = np.array([np.nan if v is None else v for v in columns[9]], dtype=float)
    keep = np.isfinite(predicted_value) & np.isfinite(truth)
    return np.abs(predicted_value[keep] - truth[keep]), keep


def _categorical(values: Any) -> tuple[np.ndarray, list[str]]:
    text = np.array(["(missing)" if v is None else str(v) for v in values], dtype=object)
    names, inverse, counts = np.unique(text, return_inverse=True, return_counts=True)
    order = np.argsort(-counts, kind="stable")[:_TOP_CATEGORIES]
    labels = [str(names[i]) for i in order]
    code_of = np.full(len(names), len(labels), dtype=np.intp)
    code_of[order] = np.arange(len(order))
    codes = code_of[inverse]
    if (codes == len(labels)).any():
        labels.append("(other)")
    return codes, labels


def _numeric(values: Any) -> tuple[np.ndarray, list[str]]:
    numbers = np.array(
        [np.nan if v is None or isinstance(v, str) else float(v) for v in values], dtype=float
    )
    finite = np.isfinite(numbers)
    if finite.sum() < 4:
        return np.full(len(numbers), -1, dtype=np.intp), []
    edges = np.unique(np.quantile(numbers[finite], _QUARTILES))
    codes = np.full(len(numbers), -1, dtype=np.intp)
    codes[finite] = np.searchsorted(edges, numbers[finite], side="right")
    bounds = [-np.inf, *edges.tolist(), np.inf]
    labels = [_interval(bounds[i], bounds[i + 1]) for i in range(len(bounds) - 1)]
    if (~finite).any():
        codes[~finite] = len(labels)
        labels.append("(missing)")
    return codes, labels


def _interval(low: float, high: float) -> str:
    if not np.isfinite(low):
        return f"< {high:.4g}"
    if not np.isfinite(high):
        return f"≥ {low:.4g}"
    return f"[{low:.4g}, {high:.4g})"


def _segments(keys: Any, values: Any) -> dict[str, list[str | None]]:
    tags = sorted({k for row in keys if row for k in row})
    out: dict[str, list[str | None]] = {tag: [] for tag in tags}
    for row_keys, row_values in zip(keys, values, strict=True):
        mapping = dict(zip(row_keys or [], row_values or [], strict=True))
        for tag in tags:
            out[tag].append(mapping.get(tag))
    return out
