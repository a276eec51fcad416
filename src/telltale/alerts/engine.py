"""The evaluation loop: rules against the store, a state machine per alert, notifications,
silences, acknowledgements and actions.

Each alert (a rule and a group, named by :meth:`Alert.fingerprint`) moves through::

    (none) ──condition holds──► pending ──held for `for`──► firing ──condition clears──► resolved
                 ▲                 │ clears                   │ ▲ escalates (warning → critical),
                 └─────────────────┘                          └─┘ reminds every `repeat`

Only *firing*, an escalation, a reminder (unless acknowledged) and *resolved* are notified, so an
alert that stays bad is not sent every minute. Silences (matchers on rule, severity, group and
labels, with an expiry) keep notifications back but not the state; acknowledging a firing alert
stops its reminders until it resolves or escalates. Every transition is kept in the history.

Everything outside is injected: the metric source, the clock, the notifier and the runner of
hooks, so the tests drive the loop with a fake clock against a real store and real receivers.

>>> from datetime import datetime, timezone
>>> import duckdb
>>> from telltale.alerts.source import Measurement
>>> class Table:  # a metric source of fixed values
...     value = 0.2
...     def measure(self, project, rule, now):
...         return [Measurement({"model": rule.model}, self.value, 100)]
...     def context(self, project, rule, group, now):
...         return AlertContext()
>>> engine = AlertEngine(AlertStore(duckdb.connect()), Table(), deliver=lambda alert, channels: [])
>>> _ = engine.apply("fraud", "rules: [{name: errors, model: fraud, metric: error_rate, "
...                  "window: 5m, thresholds: {warning: 0.05, critical: 0.1}, for: 2m}]")
>>> t0 = datetime(2026, 11, 22, 14, 0, tzinfo=timezone.utc)
>>> [t["event"] for t in engine.check("fraud", now=t0).transitions]
['pending']
>>> [t["event"] for t in engine.check("fraud", now=t0.replace(minute=2)).transitions]
['firing']
>>> Table.value = 0.01
>>> [t["event"] for t in engine.check("fraud", now=t0.replace(minute=3)).transitions]
['resolved']
"""

from __future__ import annotations

import contextlib
import json
import logging
import subprocess
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

import numpy as np

from telltale.alerts.actions import call_hook
from telltale.alerts.alert import Alert, AlertContext, AlertGroup, format_number
from telltale.alerts.anomaly import SeasonalBaseline, detect
from telltale.alerts.notifiers import Delivery, channel_from_config, deliver
from telltale.alerts.rules import ParsedRules, Rule, load_document, parse_duration, parse_rules
from telltale.alerts.source import Measurement, MetricSource
from telltale.errors import ConfigError, NotFoundError
from telltale.schema.result import Result
from telltale.store.alerts import AlertStore

__all__ = ["AlertEngine", "CheckReport", "Silence"]

log = logging.getLogger("telltale.alerts")

_RANK = {"ok": 0, "warning": 1, "critical": 2}
_MIN_HISTORY_POINTS = 24
"""Hourly points a learned baseline needs before it judges (a day)."""
_RECENT_S = 12 * 3600
"""The span a learned rule's CUSUM looks back over for a level shift or drift (the baseline
learns from what precedes it)."""


@dataclass
class _Bounds:
    """A rule's thresholds for one group at one moment, and what else judged the value."""

    warning: float | None
    critical: float | None
    note: str | None = None
    expected: float | None = None
    """The learned baseline's expected value (learned rules only)."""
    change: dict[str, Any] | None = None
    """An ongoing level shift or drift in the bad direction (learned rules, CUSUM)."""


@dataclass
class Silence(Result):
    """Keeps notifications of matching alerts back between ``starts`` and ``ends``.

    ``matchers`` name a rule, a severity, group keys (model, version, environment) or rule
    labels; every matcher must equal for an alert to match.
    """

    id: str
    matchers: dict[str, str]
    starts: str
    ends: str
    comment: str = ""
    created_by: str = ""

    def matches(self, alert: Alert, now: datetime) -> bool:
        if not datetime.fromisoformat(self.starts) <= now < datetime.fromisoformat(self.ends):
            return False
        fields = {"rule": alert.rule, "severity": alert.severity, **alert.labels, **alert.group}
        return all(fields.get(k) == v for k, v in self.matchers.items())


@dataclass
class CheckReport(Result):
    """What one evaluation round did."""

    project: str
    now: str
    rules: int
    evaluated: list[dict[str, Any]] = field(default_factory=list)
    transitions: list[dict[str, Any]] = field(default_factory=list)
    deliveries: list[dict[str, Any]] = field(default_factory=list)
    actions: list[dict[str, Any]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    firing: list[dict[str, Any]] = field(default_factory=list)


class AlertEngine:
    """Rules of each project (kept in an :class:`AlertStore`) evaluated against a source."""

    def __init__(
        self,
        alerts: AlertStore,
        source: MetricSource,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
        deliver: Callable[[Alert, Sequence[Any]], list[Delivery]] = deliver,
        run_command: Callable[..., Any] = subprocess.run,
        audit: Any = None,
    ) -> None:
        self.alerts = alerts
        self.source = source
        self.clock = clock
        self._deliver = deliver
        self._run_command = run_command
        self._audit = audit
        self._lock = threading.Lock()  # one round at a time per engine
        self._closed = False
        self._outbox: list[tuple[Alert, list[str]]] = []
        """The round's notifications, sent together at its end (grouped per channel)."""
        self._baselines: dict[
            tuple[str, str, str], tuple[int, tuple[SeasonalBaseline, np.ndarray, np.ndarray]]
        ] = {}

    def close(self) -> None:
        """Wait for the round in progress, and run no more (before the store is closed)."""
        with self._lock:
            self._closed = True

    # ---- rules ------------------------------------------------------------------------------

    def apply(self, project: str, text: str, *, partial: bool = False) -> ParsedRules:
        """Check a rules document and keep it as the project's rules. With errors it is refused
        (:class:`ConfigError` listing them all), unless ``partial``: then the good rules are
        kept and the errors returned."""
        parsed = parse_rules(text)
        if parsed.errors and not partial:
            parsed.raise_errors()
        self.alerts.save_document(project, text, self.clock().isoformat())
        return parsed

    def rules(self, project: str) -> ParsedRules:
        document = self.alerts.document(project)
        if document is None:
            return ParsedRules()
        parsed = parse_rules(document["text"])
        return parsed

    # ---- one round -------------------------------------------------------------------------

    def check(self, project: str, *, now: datetime | None = None) -> CheckReport:
        """Evaluate every rule of ``project`` once, at ``now`` (default: the clock)."""
        now = now or self.clock()
        with self._lock:
            if self._closed:
                raise ConfigError("the alert engine is closed (the server is shutting down)")
            parsed = self.rules(project)
            report = CheckReport(project, now.isoformat(), len(parsed.rules))
            report.errors += [str(e) for e in parsed.errors]
            channels = self._channels(parsed, report)
            hooks = {h["name"]: h for h in parsed.actions}
            states = self.alerts.states(project)
            self._outbox = []
            silences = [Silence(**s) for s in self.alerts.silences(project)]
            names = {rule.name for rule in parsed.rules}
            for fingerprint, state in states.items():
                if state["rule"] not in names:  # the rule was removed or renamed
                    self.alerts.drop_state(project, fingerprint)
            for rule in parsed.rules:
                try:
                    measured = self.source.measure(project, rule, now)
                except Exception as error:  # one rule failing never stops the others
                    log.warning("rule %s failed: %s", rule.name, error)
                    report.errors.append(f"rule {rule.name!r}: {type(error).__name__}: {error}")
                    continue
                for measurement in measured:
                    try:
                        self._step(
                            project,
                            rule,
                            measurement,
                            now,
                            states,
                            silences,
                            channels,
                            hooks,
                            report,
                        )
                    except Exception as error:
                        log.exception("rule %s failed", rule.name)
                        report.errors.append(f"rule {rule.name!r}: {type(error).__name__}: {error}")
            self._flush(project, channels, report)
            report.firing = [
                s["alert"] for s in self.alerts.states(project).values() if s["state"] == "firing"
            ]
            return report

    def _channels(self, parsed: ParsedRules, report: CheckReport) -> dict[str, Any]:
        channels = {}
        for config in parsed.channels:
            # a bad one is reported with the rules' errors; the other channels still deliver
            with contextlib.suppress(ConfigError):
                channels[config["name"]] = channel_from_config(config)
        return channels

    def _bounds(self, project: str, rule: Rule, measurement: Measurement, now: datetime) -> _Bounds:
        """The (warning, critical) values for this group, and a note when none can be had."""
        mode = rule.baseline.mode
        if mode == "fixed":
            return _Bounds(rule.warning, rule.critical)
        upward = rule.comparison in (">", ">=")
        if mode == "reference":
            reference = rule.baseline.reference_value
            assert reference is not None

            def shifted(change: float | None) -> float | None:
                if change is None:
                    return None
                return reference + abs(reference) * change * (1 if upward else -1)

            return _Bounds(shifted(rule.warning), shifted(rule.critical))
        learned = self._baseline(project, rule, measurement.group, now)
        if learned is None:
            return _Bounds(None, None, "learning: less than a day of history")
        baseline, recent_times, recent_values = learned
        # the window's value stands at its start, as the hourly history's values do
        start = now.timestamp() - rule.window_s
        value = measurement.value or 0.0
        scores = baseline.score([start], [value])
        expected, scale = float(scores.expected[0]), float(scores.scale[0])
        sign = 1 if upward else -1

        def band(sigmas: float | None) -> float | None:
            return None if sigmas is None else expected + sign * sigmas * scale

        bounds = _Bounds(band(rule.warning), band(rule.critical), expected=expected)
        if (
            rule.baseline.changes
            and measurement.value is not None
            and len(recent_times)
            and start > baseline.fitted_until
        ):
            earlier = recent_times < start
            judged = detect(
                np.append(recent_times[earlier], start),
                np.append(recent_values[earlier], value),
                history=baseline,
                direction="above" if upward else "below",
            )
            if judged.change is not None and judged.change.ongoing:
                change = judged.change
                bounds.change = {
                    "kind": change.kind,
                    "since": datetime.fromtimestamp(change.time, timezone.utc).isoformat(),
                    "magnitude": change.magnitude,
                    "sigmas": change.magnitude_sigmas,
                    "expected": expected,
                }
        return bounds

    def _baseline(
        self, project: str, rule: Rule, group: dict[str, str], now: datetime
    ) -> tuple[SeasonalBaseline, np.ndarray, np.ndarray] | None:
        """The rule's learned baseline for ``group`` and the hourly values after it (where
        the CUSUM looks for a change), refitted once an hour. The baseline learns from the
        history up to :data:`_RECENT_S` ago, so a change of the last hours is judged against
        what came before it rather than absorbed."""
        key = (project, rule.name, json.dumps(sorted(group.items())))
        hour = int(now.timestamp() // 3600)
        cached = self._baselines.get(key)
        if cached is not None and cached[0] == hour:
            return cached[1]
        end = now - timedelta(seconds=rule.window_s)
        start = now - timedelta(seconds=rule.baseline.history_s)
        history = getattr(self.source, "history", None)
        if history is None:
            return None
        times, values = history(project, rule, group, start, end)
        times, values = np.asarray(times, float), np.asarray(values, float)
        split = now.timestamp() - _RECENT_S
        before = times < split
        if np.isfinite(values[before]).sum() < _MIN_HISTORY_POINTS:
            before = np.ones(len(times), bool)  # young history: all of it, no recent run
            if np.isfinite(values).sum() < _MIN_HISTORY_POINTS:
                return None
        baseline = SeasonalBaseline().fit(times[before], values[before])
        fitted = (baseline, times[~before], values[~before])
        self._baselines[key] = (hour, fitted)
        return fitted

    def _step(
        self,
        project: str,
        rule: Rule,
        measurement: Measurement,
        now: datetime,
        states: dict[str, dict[str, Any]],
        silences: list[Silence],
        channels: dict[str, Any],
        hooks: dict[str, dict[str, Any]],
        report: CheckReport,
    ) -> None:
        bounds = self._bounds(project, rule, measurement, now)
        warning, critical, note = bounds.warning, bounds.critical, bounds.note
        severity = rule.severity_of(measurement.value, (warning, critical))
        by_change = severity == "ok" and bounds.change is not None
        if by_change:
            severity = "warning"  # a sustained shift the band alone lets through
        probe = _alert(rule, measurement, "pending", "warning", now, warning, None)
        fingerprint = probe.fingerprint()
        report.evaluated.append(
            {
                "rule": rule.name,
                "group": measurement.group,
                "value": measurement.value,
                "events": measurement.events,
                "severity": severity if measurement.value is not None else "no data",
                "thresholds": {"warning": warning, "critical": critical},
                **({"note": note} if note else {}),
                **({"change": bounds.change} if bounds.change else {}),
            }
        )
        state = states.get(fingerprint)
        current = state["state"] if state else None
        if measurement.value is None:
            return  # no data: nothing moves
        if severity == "ok":
            if current == "pending":
                assert state is not None
                self.alerts.drop_state(project, fingerprint)
                self._record(project, report, now, "cleared", state["alert"])
            elif current == "firing":
                assert state is not None
                alert = Alert(**_alert_fields(state["alert"]))
                alert.state, alert.value, alert.resolved_at = (
                    "resolved",
                    measurement.value,
                    now.isoformat(),
                )
                state.update(state="resolved", alert=alert.to_dict(), resolved_at=now.isoformat())
                self.alerts.put_state(project, fingerprint, state)
                self._record(project, report, now, "resolved", state["alert"])
                if state.get("notified_at"):
                    self._notify(project, rule, alert, "resolved", now, silences, channels, report)
            return
        threshold = critical if severity == "critical" else warning
        if by_change:
            threshold = bounds.expected  # fired by the change: compared with what was expected
        if current in (None, "resolved"):
            since = now
            state = {"fingerprint": fingerprint, "rule": rule.name, "group": measurement.group}
            alert = _alert(rule, measurement, "pending", severity, since, threshold, None)
            state.update(
                state="pending", since=since.isoformat(), severity=severity, alert=alert.to_dict()
            )
            self._record(project, report, now, "pending", state["alert"])
            current = "pending"
        assert state is not None
        since = datetime.fromisoformat(state["since"])
        alert = _alert(rule, measurement, current, severity, since, threshold, state["alert"])
        if current == "pending":
            if (now - since).total_seconds() >= rule.for_s:
                alert.state = "firing"
                alert.context = self._context(project, rule, measurement, now, bounds.change)
                state.update(
                    state="firing",
                    severity=severity,
                    alert=alert.to_dict(),
                    fired_at=now.isoformat(),
                )
                self._record(project, report, now, "firing", state["alert"])
                state.update(
                    self._notify(project, rule, alert, "firing", now, silences, channels, report)
                )
                self._act(project, rule, alert, hooks, report, state)
            else:
                state.update(severity=severity, alert=alert.to_dict())
        else:  # firing
            escalated = _RANK[severity] > _RANK[state.get("notified_severity") or state["severity"]]
            state.update(severity=severity, alert=alert.to_dict())
            last = state.get("notified_at")
            due = (
                rule.repeat_s > 0
                and not state.get("acknowledged_by")
                and last is not None
                and (now - datetime.fromisoformat(last)).total_seconds() >= rule.repeat_s
            )
            if escalated:
                state.pop("acknowledged_by", None)  # worse than what was acknowledged
                alert.context = self._context(project, rule, measurement, now, bounds.change)
                state["alert"] = alert.to_dict()
                self._record(project, report, now, "escalated", state["alert"])
                state.update(
                    self._notify(project, rule, alert, "firing", now, silences, channels, report)
                )
                self._act(project, rule, alert, hooks, report, state)
            elif due:
                self._record(project, report, now, "reminder", state["alert"])
                state.update(
                    self._notify(project, rule, alert, "firing", now, silences, channels, report)
                )
        self.alerts.put_state(project, fingerprint, state)

    def _context(
        self,
        project: str,
        rule: Rule,
        measurement: Measurement,
        now: datetime,
        change: dict[str, Any] | None = None,
    ) -> AlertContext:
        try:
            context = self.source.context(project, rule, measurement.group, now)
        except Exception as error:  # an alert without context beats no alert
            context = AlertContext(notes=[f"context unavailable ({type(error).__name__}: {error})"])
        if measurement.detail.get("feature"):
            context.notes.append(
                f"worst feature {measurement.detail['feature']} ({measurement.detail.get('method')})"
            )
        if measurement.detail.get("instance"):
            context.notes.append(f"worst instance {measurement.detail['instance']}")
        if change is not None:
            context.notes.append(
                f"{change['kind']} since {change['since']}: {format_number(change['magnitude'])} "
                f"from the expected {format_number(change['expected'])} "
                f"({change['sigmas']:.1f} robust sigmas, CUSUM)"
            )
        return context

    def _record(
        self, project: str, report: CheckReport, now: datetime, event: str, alert: dict[str, Any]
    ) -> None:
        alert = {**alert, "fingerprint": Alert(**_alert_fields(alert)).fingerprint()}
        self.alerts.add_history(project, now.isoformat(), event, alert)
        report.transitions.append(
            {
                "event": event,
                "rule": alert["rule"],
                "group": alert["group"],
                "summary": Alert(**_alert_fields(alert)).summary(),
            }
        )

    def _notify(
        self,
        project: str,
        rule: Rule,
        alert: Alert,
        state: str,
        now: datetime,
        silences: list[Silence],
        channels: dict[str, Any],
        report: CheckReport,
    ) -> dict[str, Any]:
        """Send ``alert`` to the rule's channels unless silenced; returns what to keep in state."""
        silenced = [s.id for s in silences if s.matches(alert, now)]
        if silenced:
            self._record(
                project, report, now, "silenced", {**alert.to_dict(), "silences": silenced}
            )
            return {"notified_at": now.isoformat(), "notified_severity": alert.severity}
        self._outbox.append((alert, [name for name in rule.channels if name in channels]))
        return {"notified_at": now.isoformat(), "notified_severity": alert.severity}

    def _flush(self, project: str, channels: dict[str, Any], report: CheckReport) -> None:
        """Send the round's notifications: per channel, several alerts as one group when the
        channel can group them, else one by one. A channel's failure never stops the others."""
        by_channel: dict[str, list[Alert]] = {}
        for alert, names in self._outbox:
            for name in names:
                by_channel.setdefault(name, []).append(alert)
        self._outbox = []
        for name, alerts in by_channel.items():
            channel = channels[name]
            if len(alerts) > 1 and getattr(channel, "groups", False):
                batches: list[Alert | AlertGroup] = [AlertGroup(alerts)]
            else:
                batches = list(alerts)
            for batch in batches:
                try:
                    deliveries = self._deliver(batch, [channel])  # type: ignore[arg-type]
                except Exception as error:  # a broken notifier: recorded, the rest still go
                    log.exception("delivering to %r failed", name)
                    report.errors.append(f"channel {name!r}: {type(error).__name__}: {error}")
                    continue
                for delivery in deliveries:
                    record = delivery.to_dict()
                    self.alerts.add_delivery(project, record)
                    report.deliveries.append(record)

    # ---- actions ---------------------------------------------------------------------------

    def _act(
        self,
        project: str,
        rule: Rule,
        alert: Alert,
        hooks: dict[str, dict[str, Any]],
        report: CheckReport,
        state: dict[str, Any],
    ) -> None:
        """Call the rule's hooks for this severity, each once per firing (kept in ``state``)."""
        acted = state.setdefault("acted", [])
        for action in rule.actions:
            if _RANK[alert.severity] < _RANK[action.on] or action.hook in acted:
                continue
            acted.append(action.hook)
            record: dict[str, Any] = {
                "hook": action.hook,
                "rule": rule.name,
                "fingerprint": alert.fingerprint(),
                "alert": alert.to_dict(),
                "requested_at": self.clock().isoformat(),
            }
            if action.approval:
                record["status"] = "awaiting_approval"
                record["id"] = self.alerts.put_action(project, record)
                self._audit_action(project, record, "requested")
            else:
                record = self._run_hook(project, hooks.get(action.hook), record)
            report.actions.append(record)

    def approve(
        self, project: str, action_id: str, *, by: str, approve: bool = True
    ) -> dict[str, Any]:
        """Run (or, with ``approve=False``, reject) an action that awaits approval."""
        record = self.alerts.action(project, action_id)
        if record["status"] != "awaiting_approval":
            raise ConfigError(f"action {action_id!r} is {record['status']}, not awaiting approval")
        record["decided_by"] = by
        if not approve:
            record["status"] = "rejected"
            self.alerts.put_action(project, record)
            self._audit_action(project, record, "rejected")
            return record
        hooks = {h["name"]: h for h in self.rules(project).actions}
        return self._run_hook(project, hooks.get(record["hook"]), record)

    def _run_hook(
        self, project: str, hook: dict[str, Any] | None, record: dict[str, Any]
    ) -> dict[str, Any]:
        record = dict(record)
        if hook is None:
            record.update(
                ok=False, error=f"hook {record['hook']!r} is not defined under `actions:`"
            )
        else:
            alert = Alert(**_alert_fields(record["alert"]))
            record.update(call_hook(hook, alert, self._deliver, self._run_command))
        record["status"] = "done" if record.get("ok") else "failed"
        record["ran_at"] = self.clock().isoformat()
        record["id"] = self.alerts.put_action(project, record)
        self._audit_action(project, record, record["status"])
        return record

    def _audit_action(self, project: str, record: dict[str, Any], what: str) -> None:
        if self._audit is None:
            return
        self._audit.record(
            project=project,
            key_id=str(record.get("decided_by") or "alerts"),
            action=f"action {record['hook']} {what} (rule {record['rule']})",
            status=500 if what == "failed" else 200,
            query=json.dumps({"id": record.get("id"), "fingerprint": record.get("fingerprint")}),
        )

    # ---- people ----------------------------------------------------------------------------

    def acknowledge(
        self, project: str, fingerprint: str, *, by: str, comment: str = ""
    ) -> dict[str, Any]:
        """Stop the reminders of a firing alert (until it resolves or gets worse)."""
        state = self.alerts.states(project).get(fingerprint)
        if state is None or state["state"] != "firing":
            raise NotFoundError(
                f"no firing alert {fingerprint!r} in project {project!r}; `telltale alerts list` shows them"
            )
        now = self.clock()
        state.update(
            acknowledged_by=by, acknowledged_at=now.isoformat(), acknowledge_comment=comment
        )
        self.alerts.put_state(project, fingerprint, state)
        self.alerts.add_history(
            project,
            now.isoformat(),
            "acknowledged",
            {**state["alert"], "fingerprint": fingerprint, "by": by, "comment": comment},
        )
        return state

    def silence(
        self,
        project: str,
        matchers: dict[str, str],
        *,
        duration: str | float,
        comment: str = "",
        by: str = "",
    ) -> Silence:
        """Keep notifications of matching alerts back for ``duration`` (``"2h"``) from now."""
        if not matchers or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in matchers.items()
        ):
            raise ConfigError("a silence needs matchers such as rule=p99-latency or version=1.4.0")
        seconds = parse_duration(duration, "duration")
        if seconds <= 0:
            raise ConfigError(f"duration {duration!r} must be positive, e.g. 2h")
        now = self.clock()
        silence = Silence(
            "",
            dict(matchers),
            now.isoformat(),
            (now + timedelta(seconds=seconds)).isoformat(),
            comment,
            by,
        )
        silence.id = self.alerts.add_silence(
            project, {k: v for k, v in silence.to_dict().items() if k != "id"}
        )
        return silence

    def active_silences(self, project: str) -> list[Silence]:
        now = self.clock()
        return [
            s
            for s in (Silence(**r) for r in self.alerts.silences(project))
            if datetime.fromisoformat(s.ends) > now
        ]


def _alert(
    rule: Rule,
    measurement: Measurement,
    state: str,
    severity: str,
    since: datetime,
    threshold: float | None,
    previous: dict[str, Any] | None,
) -> Alert:
    context = (
        AlertContext(**previous["context"])
        if previous and previous.get("context")
        else AlertContext()
    )
    return Alert(
        rule=rule.name,
        group=dict(measurement.group),
        state=state,  # type: ignore[arg-type]
        severity=severity,  # type: ignore[arg-type]
        metric=rule.metric
        if not rule.feature or rule.feature == "*"
        else f"{rule.metric}({rule.feature})",
        value=measurement.value,
        threshold=threshold,
        comparison=rule.comparison,
        since=since.isoformat(),
        window=rule.window,
        description=rule.description,
        baseline=rule.baseline.mode,
        context=context,
        labels=dict(rule.labels),
    )


def _alert_fields(record: dict[str, Any]) -> dict[str, Any]:
    fields = {k: v for k, v in record.items() if k in Alert.__dataclass_fields__}
    if isinstance(fields.get("context"), dict):
        fields["context"] = AlertContext(**fields["context"])
    return fields


def load_rules_file(path: str) -> str:
    """The text of a rules file, checked to be a document at all."""
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"cannot read rules file {path!r} ({error}); check the path") from None
    load_document(text, path)
    return text
