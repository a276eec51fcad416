"""Where a rule's numbers come from: the store's rollups and raw events, through the analysis.

:class:`StoreSource` answers, for a rule and a moment, which groups there are (the model, split by
the rule's ``group_by``), the metric's value in the window ending then, its hourly history for a
learned baseline, and the context an alert carries when it fires (sample events and trace ids,
the drifted features, the metric per environment). Anything with the same methods can stand in
for it (the tests of the state machine use a table of values).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

import numpy as np

from telltale.alerts.alert import AlertContext
from telltale.alerts.rules import Rule
from telltale.alerts.slices import slice_metric, worst_slices
from telltale.analysis.estimate import estimated_performance
from telltale.analysis.windows import performance_windows, serving_windows, window_drift
from telltale.errors import NotFoundError
from telltale.store.events import EventStore

__all__ = ["Measurement", "MetricSource", "StoreSource"]

_GROUP_COLUMNS = {"version": "version", "environment": "environment_id"}
_ZERO_WHEN_SILENT = ("events", "throughput_per_s")
_SAMPLES = 3


@dataclass
class Measurement:
    """A rule's metric for one group over one window."""

    group: dict[str, str]
    value: float | None
    """None: no data (no events, no labels yet): the alert's state is left as it is."""
    events: int
    detail: dict[str, Any] = field(default_factory=dict)
    """What else the value came with (for drift: the feature and test behind the value)."""


class MetricSource(Protocol):
    def measure(self, project: str, rule: Rule, now: datetime) -> list[Measurement]: ...

    def history(
        self, project: str, rule: Rule, group: dict[str, str], start: datetime, end: datetime
    ) -> tuple[np.ndarray, np.ndarray]: ...

    def context(
        self, project: str, rule: Rule, group: dict[str, str], now: datetime
    ) -> AlertContext: ...


class StoreSource:
    """Metrics of an :class:`~telltale.store.events.EventStore` (read through its cursors)."""

    def __init__(self, store: EventStore, *, dashboard_url: str | None = None) -> None:
        self.store = store
        self.dashboard_url = dashboard_url

    # ---- groups ----------------------------------------------------------------------------

    def groups(self, project: str, rule: Rule, since: datetime) -> list[dict[str, str]]:
        """The groups with events since ``since`` (one, the model, without ``group_by``)."""
        table = self.store.model_table(project, rule.model)
        columns = [_GROUP_COLUMNS[g] for g in rule.group_by]
        where, params = self._where(rule, table.model_id)
        picked = ", ".join(f"s.{c}" for c in columns) or "1"
        sql = (
            f"SELECT DISTINCT {picked} FROM tt_series s JOIN tt_roll_serving r USING (series_id) "
            f"WHERE {where} AND r.minute >= make_timestamp(?)"
        )
        rows = self._rows(sql, [*params, _us(since)])
        base = {"model": rule.model}
        if not columns:
            return [base] if rows else []
        return [
            {
                **base,
                **{
                    g: ("" if v is None else str(v))
                    for g, v in zip(rule.group_by, row, strict=True)
                },
            }
            for row in sorted(rows, key=lambda r: tuple(str(v) for v in r))
        ]

    def _where(self, rule: Rule, model_id: int) -> tuple[str, list[Any]]:
        where = "s.model_id = ?"
        params: list[Any] = [model_id]
        for key, value in (("version", rule.version), ("environment_id", rule.environment)):
            if value is not None:
                where += f" AND s.{key} = ?"
                params.append(value)
        for tag, value in rule.segment.items():
            where += " AND map_extract_value(s.segment, ?) = ?"
            params += [tag, value]
        return where, params

    def _rows(self, sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
        cursor = self.store.cursor()
        try:
            return list(cursor.execute(sql, params).fetchall())
        finally:
            cursor.close()

    # ---- values ----------------------------------------------------------------------------

    def measure(self, project: str, rule: Rule, now: datetime) -> list[Measurement]:
        """The metric of every group over ``[now - window, now)``."""
        start = now - timedelta(seconds=rule.window_s)
        if rule.metric == "dropped_events":
            total = float(sum(self.store.clients(project).values()))
            return [Measurement({"model": rule.model}, total, 0)]
        if rule.spec.source == "resources":
            return [self._resources(project, rule, start, now)]
        # groups seen in the last few windows: a group that went silent still counts (its
        # throughput is 0), one retired long ago does not
        lookback = now - timedelta(seconds=max(4 * rule.window_s, 3600))
        try:
            groups = self.groups(project, rule, lookback)
        except NotFoundError:
            groups = []
        return [self.value(project, rule, group, start, now) for group in groups]

    def value(
        self, project: str, rule: Rule, group: dict[str, str], start: datetime, end: datetime
    ) -> Measurement:
        filters = _filters(rule, group)
        spec = rule.spec
        if spec.source == "serving":
            windows = serving_windows(
                self.store, project, rule.model, start, end, None, **filters
            ).windows
            if not windows:
                value = 0.0 if rule.metric in _ZERO_WHEN_SILENT else None
                return Measurement(group, value, 0)
            window = windows[0]
            if window.events < rule.min_events:
                return Measurement(group, None, window.events)
            return Measurement(group, _finite(getattr(window, rule.metric)), window.events)
        if spec.source == "performance":
            performance = performance_windows(
                self.store, project, rule.model, start, end, None, **filters
            ).windows
            if not performance or performance[0].labelled < max(rule.min_events, 1):
                return Measurement(group, None, performance[0].events if performance else 0)
            labelled = performance[0]
            metric = "coverage" if rule.metric == "label_coverage" else rule.metric
            return Measurement(group, _finite(getattr(labelled, metric)), labelled.labelled)
        if spec.source == "estimate":
            estimated = estimated_performance(
                self.store, project, rule.model, start, end, None, **filters
            )
            if not estimated.windows:
                detail = {"note": estimated.note} if estimated.note else {}
                return Measurement(group, None, 0, detail)
            scored = estimated.windows[0]
            if scored.scored < max(rule.min_events, 1):
                return Measurement(group, None, scored.scored)
            return Measurement(group, _finite(scored.estimated_accuracy), scored.scored)
        # drift and data quality, from one profile of the window
        assert rule.reference is not None
        drift = window_drift(self.store, project, rule.model, rule.reference, start, end, **filters)
        if drift.rows < rule.min_events:
            return Measurement(group, None, drift.rows)
        if spec.source == "quality":
            return self._quality(group, rule, drift)
        columns = drift.drift.to_dict()["columns"]
        if rule.metric == "drift_share":
            share = drift.drift.to_dict().get("share_drifted")
            return Measurement(group, _finite(share), drift.rows)
        picked = {k: v for k, v in columns.items() if rule.feature in ("*", k)}
        if not picked:
            return Measurement(group, None, drift.rows, {"note": f"no column {rule.feature!r}"})
        name, test = max(
            picked.items(),
            key=lambda kv: -math.inf if kv[1].get("statistic") is None else kv[1]["statistic"],
        )
        detail = {"feature": name, "method": test.get("method"), "drift": test.get("drift")}
        return Measurement(group, _finite(test.get("statistic")), drift.rows, detail)

    def _quality(self, group: dict[str, str], rule: Rule, drift: Any) -> Measurement:
        assert drift.quality is not None
        values: dict[str, float] = {}
        for name, column in drift.quality.columns.items():
            if rule.feature not in ("*", name):
                continue
            value = _quality_value(rule.metric, column)
            if value is not None:
                values[name] = value
        if not values:
            return Measurement(
                group, None, drift.rows, {"note": f"no {rule.metric} for {rule.feature!r}"}
            )
        name = max(values, key=lambda k: values[k])
        return Measurement(
            group, values[name], drift.rows, {"feature": name, "method": rule.metric}
        )

    def _resources(self, project: str, rule: Rule, start: datetime, end: datetime) -> Measurement:
        """The worst instance's mean of the resource over the window (samples of the model's
        processes)."""
        column = rule.metric  # one of the tt_resources columns, checked by the rules parser
        rows = self._rows(
            f"""SELECT instance, avg({column}) AS value, count({column}) AS n FROM tt_resources
            WHERE project = ? AND model = ? AND ts >= make_timestamptz(?)
              AND ts < make_timestamptz(?) AND {column} IS NOT NULL
            GROUP BY instance ORDER BY value DESC, instance LIMIT 1""",
            [project, rule.model, _us(start), _us(end)],
        )
        group = {"model": rule.model}
        if not rows:
            return Measurement(group, None, 0)
        instance, value, samples = rows[0]
        if samples < rule.min_events:
            return Measurement(group, None, int(samples))
        return Measurement(group, _finite(value), int(samples), {"instance": instance})

    def history(
        self, project: str, rule: Rule, group: dict[str, str], start: datetime, end: datetime
    ) -> tuple[np.ndarray, np.ndarray]:
        """Hourly values of the metric over ``[start, end)`` (epoch seconds, values; NaN for
        hours without data), for a learned baseline."""
        filters = _filters(rule, group)
        if rule.spec.source == "serving":
            windows: list[Any] = serving_windows(
                self.store, project, rule.model, start, end, "hour", **filters
            ).windows
            attribute = rule.metric
        elif rule.spec.source == "performance":
            windows = performance_windows(
                self.store, project, rule.model, start, end, "hour", **filters
            ).windows
            attribute = "coverage" if rule.metric == "label_coverage" else rule.metric
        elif rule.spec.source == "estimate":
            windows = estimated_performance(
                self.store, project, rule.model, start, end, "hour", **filters
            ).windows
            attribute = "estimated_accuracy"
        elif rule.spec.source == "resources":
            return self._resource_history(project, rule, start, end)
        else:
            return np.zeros(0), np.zeros(0)
        times = np.array([datetime.fromisoformat(w.start).timestamp() for w in windows], float)
        values = np.array(
            [
                np.nan if getattr(w, attribute) is None else float(getattr(w, attribute))
                for w in windows
            ],
            float,
        )
        return times, values

    def _resource_history(
        self, project: str, rule: Rule, start: datetime, end: datetime
    ) -> tuple[np.ndarray, np.ndarray]:
        column = rule.metric
        rows = self._rows(
            f"""SELECT hour, max(value) FROM (
                SELECT epoch(date_trunc('hour', ts)) AS hour, instance, avg({column}) AS value
                FROM tt_resources WHERE project = ? AND model = ? AND ts >= make_timestamptz(?)
                  AND ts < make_timestamptz(?) AND {column} IS NOT NULL
                GROUP BY hour, instance) GROUP BY hour ORDER BY hour""",
            [project, rule.model, _us(start), _us(end)],
        )
        return (
            np.array([float(r[0]) for r in rows], float),
            np.array([float(r[1]) for r in rows], float),
        )

    # ---- context ---------------------------------------------------------------------------

    def context(
        self, project: str, rule: Rule, group: dict[str, str], now: datetime
    ) -> AlertContext:
        """Sample events and trace ids, drifted features (when the rule has a reference), and the
        metric per environment (when the rule is not split by environment)."""
        start = now - timedelta(seconds=rule.window_s)
        context = AlertContext(dashboard_url=self._dashboard(project, rule, group))
        try:
            ids, traces = self._samples(project, rule, group, start, now)
            context.sample_event_ids, context.sample_trace_ids = ids, traces
        except Exception as error:  # context is best effort: the alert goes out regardless
            context.notes.append(f"sample events unavailable ({type(error).__name__}: {error})")
        if rule.reference is not None:
            try:
                context.top_drifted = self._drifted(project, rule, group, start, now)
            except Exception as error:
                context.notes.append(f"drift unavailable ({type(error).__name__}: {error})")
        if slice_metric(rule.metric) is not None:
            try:
                context.worst_slices = worst_slices(
                    self.store,
                    project,
                    rule.model,
                    rule.metric,
                    start,
                    now,
                    filters=_filters(rule, group),
                )
            except Exception as error:
                context.notes.append(f"worst slices unavailable ({type(error).__name__}: {error})")
        if (
            "environment" not in rule.group_by
            and rule.environment is None
            and rule.spec.source not in ("clients", "resources")
        ):
            try:
                context.environments = self._by_environment(project, rule, group, start, now)
            except Exception as error:
                context.notes.append(f"per-environment values unavailable ({type(error).__name__})")
        return context

    def _dashboard(self, project: str, rule: Rule, group: dict[str, str]) -> str | None:
        if not self.dashboard_url:
            return None
        url = f"{self.dashboard_url.rstrip('/')}/models/{rule.model}"
        return url + (f"?version={group['version']}" if group.get("version") else "")

    def _samples(
        self, project: str, rule: Rule, group: dict[str, str], start: datetime, end: datetime
    ) -> tuple[list[str], list[str]]:
        table = self.store.model_table(project, rule.model)
        where = "ts >= make_timestamptz(?) AND ts < make_timestamptz(?)"
        params: list[Any] = [_us(start), _us(end)]
        for key, column in _GROUP_COLUMNS.items():
            value = group.get(key) or getattr(rule, key)
            if value is not None:
                where += f" AND {column} = ?"
                params.append(value)
        status = {"error_rate": "error", "invalid_rate": "invalid", "timeout_rate": "timeout",
                  "fallback_rate": "fallback"}.get(rule.metric)  # fmt: skip
        if status is not None:
            where += " AND status = ?"
            params.append(status)
        order = "latency_ms DESC NULLS LAST" if rule.metric.startswith("latency") else "ts DESC"
        rows = self._rows(
            f"SELECT CAST(event_id AS VARCHAR), trace_id FROM {table.table_name} "
            f"WHERE {where} ORDER BY {order} LIMIT {_SAMPLES * 4}",
            params,
        )
        ids = [r[0] for r in rows[:_SAMPLES]]
        traces = [r[1] for r in rows if r[1]][:_SAMPLES]
        return ids, traces

    def _drifted(
        self, project: str, rule: Rule, group: dict[str, str], start: datetime, end: datetime
    ) -> list[dict[str, Any]]:
        assert rule.reference is not None
        window = window_drift(
            self.store, project, rule.model, rule.reference, start, end, **_filters(rule, group)
        )
        drift = window.drift.to_dict()
        quality = window.quality.columns if window.quality is not None else {}
        out = []
        for name, test in drift["columns"].items():
            if not test.get("drift"):
                continue
            entry: dict[str, Any] = {
                "feature": name,
                "method": test.get("method"),
                "statistic": test.get("statistic"),
                "threshold": test.get("threshold"),
            }
            new = quality[name].new_categories if name in quality else None
            if new and new.get("distinct"):
                entry["new_categories"] = list(new.get("values", []))[:5]
                entry["new_category_share"] = new.get("share")
            out.append(entry)
        out.sort(key=lambda e: -(e["statistic"] or 0.0))
        return out[:5]

    def _by_environment(
        self, project: str, rule: Rule, group: dict[str, str], start: datetime, end: datetime
    ) -> list[dict[str, Any]]:
        if rule.spec.source == "drift":
            return []
        table = self.store.model_table(project, rule.model)
        where, params = self._where(rule, table.model_id)
        if group.get("version"):
            where += " AND s.version = ?"
            params.append(group["version"])
        environments = [
            r[0]
            for r in self._rows(
                f"SELECT DISTINCT s.environment_id FROM tt_series s WHERE {where}", params
            )
        ]
        if len(environments) < 2:
            return []
        names = {e["environment_id"]: e["name"] for e in self.store.environments(project)}
        values: list[dict[str, Any]] = []
        for environment in sorted(str(e) for e in environments):
            measured = self.value(project, rule, {**group, "environment": environment}, start, end)
            if measured.value is not None:
                values.append(
                    {
                        "environment": environment,
                        "name": names.get(environment),
                        "value": measured.value,
                        "events": measured.events,
                    }
                )
        worst_high = rule.comparison in (">", ">=")
        values.sort(key=lambda v: -float(v["value"]) if worst_high else float(v["value"]))
        return values


def _filters(rule: Rule, group: dict[str, str]) -> dict[str, Any]:
    return {
        "version": group.get("version", rule.version),
        "environment": group.get("environment", rule.environment),
        "segment": rule.segment or None,
    }


def _quality_value(metric: str, column: Any) -> float | None:
    """The window's value of a data-quality metric for one column (None: not applicable)."""
    if metric == "missing_rate":
        return _finite(column.missing_rate.get("current"))
    if metric == "out_of_range_share":
        return None if column.out_of_range is None else _finite(column.out_of_range["share"])
    return None if column.new_categories is None else _finite(column.new_categories["share"])


def _finite(value: Any) -> float | None:
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _us(moment: datetime) -> int:
    return round(moment.timestamp() * 1_000_000)
