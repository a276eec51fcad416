"""The alert record every part of telltale.alerts passes around.

An :class:`Alert` is one rule firing (or resolving) for one group: a model, version and
environment, as the rule's ``group_by`` splits them. The evaluation loop makes them; notifiers
format them for a channel; the store keeps their history.

>>> alert = Alert(
...     rule="p99-latency", group={"model": "fraud", "version": "1.4.0"}, state="firing",
...     severity="critical", metric="latency_p99_ms", value=870.0, threshold=500.0,
...     comparison=">", since="2026-11-22T14:02:00+00:00", window="5m",
... )
>>> alert.summary()
'fraud 1.4.0: latency_p99_ms 870 > 500 (critical) since 2026-11-22T14:02:00+00:00'
>>> alert.fingerprint() == Alert(**{**alert.to_dict(), "value": 990.0}).fingerprint()
True
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, Literal

from telltale.schema.result import Result

__all__ = ["SEVERITIES", "STATES", "Alert", "AlertContext", "AlertGroup", "format_number"]

STATES = ("pending", "firing", "resolved")
"""pending: the condition holds but not yet for the rule's ``for``; firing: notified;
resolved: the condition cleared after firing."""
SEVERITIES = ("warning", "critical")

State = Literal["pending", "firing", "resolved"]
Severity = Literal["warning", "critical"]


@dataclass
class AlertContext(Result):
    """What an on-call engineer needs to act, gathered when the alert fires. Every field may be
    empty: a context part that could not be computed is left out, never invented."""

    top_drifted: list[dict[str, Any]] = field(default_factory=list)
    """``[{"feature", "method", "statistic", "threshold", "new_categories": [...]}]``, worst first."""
    worst_slices: list[dict[str, Any]] = field(default_factory=list)
    """``[{"description", "n", "metric", "value"}]``, worst first."""
    sample_event_ids: list[str] = field(default_factory=list)
    sample_trace_ids: list[str] = field(default_factory=list)
    environments: list[dict[str, Any]] = field(default_factory=list)
    """``[{"environment", "value"}]``: the metric per environment, worst first, when it differs."""
    dashboard_url: str | None = None
    notes: list[str] = field(default_factory=list)


@dataclass
class Alert(Result):
    """One rule's state for one group (model, version, environment ...)."""

    rule: str
    group: dict[str, str]
    state: State
    severity: Severity
    metric: str
    value: float | None
    threshold: float | None
    comparison: str
    since: str
    """ISO-8601 UTC time the condition started to hold (not when it was notified)."""
    window: str
    """The rule's window, as written in the rule (``"5m"``, ``"1h"``)."""
    description: str = ""
    resolved_at: str | None = None
    baseline: str = "fixed"
    """How the threshold was set: ``fixed``, ``reference`` or ``learned``."""
    context: AlertContext = field(default_factory=AlertContext)
    labels: dict[str, str] = field(default_factory=dict)
    """The rule's own labels (team, runbook ...), passed to every channel."""

    def fingerprint(self) -> str:
        """Identity for grouping and de-duplication: the rule and the group, nothing that
        changes while the alert lasts (value, state, severity)."""
        key = json.dumps([self.rule, sorted(self.group.items())], separators=(",", ":"))
        return hashlib.sha256(key.encode()).hexdigest()[:16]

    def subject(self) -> str:
        """The group as people say it: ``fraud 1.4.0`` (model, version, then the rest)."""
        parts = [self.group[k] for k in ("model", "version") if self.group.get(k)]
        parts += [
            f"{k}={v}" for k, v in sorted(self.group.items()) if k not in ("model", "version")
        ]
        return " ".join(parts) or "all models"

    def summary(self) -> str:
        """One line: subject, metric, value, comparison, threshold, severity, since."""
        if self.state == "resolved":
            return (
                f"{self.subject()}: {self.metric} back to {format_number(self.value)} "
                f"(was {self.comparison} {format_number(self.threshold)}, {self.severity}) "
                f"resolved at {self.resolved_at}"
            )
        return (
            f"{self.subject()}: {self.metric} {format_number(self.value)} {self.comparison} "
            f"{format_number(self.threshold)} ({self.severity}) since {self.since}"
        )


@dataclass
class AlertGroup:
    """Several alerts of one evaluation round for one channel, sent as one notification (as
    Alertmanager groups), so ten versions breaching at once page once, not ten times.

    It answers what a channel and the delivery log ask of an alert: ``state``, ``severity``,
    ``since``, :meth:`fingerprint` (of its members), :meth:`subject` and :meth:`summary`.

    >>> a = Alert(rule="r", group={"model": "m", "version": "1"}, state="firing",
    ...     severity="warning", metric="error_rate", value=0.2, threshold=0.1, comparison=">",
    ...     since="2026-11-22T14:00:00+00:00", window="5m")
    >>> b = Alert(**{**a.to_dict(), "group": {"model": "m", "version": "2"}, "severity": "critical"})
    >>> group = AlertGroup([a, b])
    >>> group.severity, group.state, group.subject()
    ('critical', 'firing', '2 alerts: m 1, m 2')
    """

    alerts: list[Alert]

    @property
    def state(self) -> str:
        return "firing" if any(a.state == "firing" for a in self.alerts) else "resolved"

    @property
    def severity(self) -> str:
        firing = [a for a in self.alerts if a.state == "firing"] or self.alerts
        return "critical" if any(a.severity == "critical" for a in firing) else "warning"

    @property
    def since(self) -> str:
        return min(a.since for a in self.alerts)

    def fingerprint(self) -> str:
        key = ",".join(sorted(a.fingerprint() for a in self.alerts))
        return hashlib.sha256(key.encode()).hexdigest()[:16]

    def subject(self) -> str:
        shown = ", ".join(a.subject() for a in self.alerts[:3])
        more = f" and {len(self.alerts) - 3} more" if len(self.alerts) > 3 else ""
        return f"{len(self.alerts)} alerts: {shown}{more}"

    def summary(self) -> str:
        firing = sum(a.state == "firing" for a in self.alerts)
        resolved = len(self.alerts) - firing
        counts = ", ".join(
            f"{n} {what}" for n, what in ((firing, "firing"), (resolved, "resolved")) if n
        )
        return (
            f"{len(self.alerts)} alerts ({counts}): "
            + "; ".join(a.summary() for a in self.alerts[:5])
            + (f"; and {len(self.alerts) - 5} more" if len(self.alerts) > 5 else "")
        )


def format_number(value: float | None) -> str:
    """A metric value as people read it: 870, 0.862, 0.0031, 1.2e+06; ``n/a`` for none."""
    if value is None:
        return "n/a"
    magnitude = abs(value)
    if magnitude == 0:
        return "0"
    if magnitude >= 1e6 or magnitude < 1e-3:
        return f"{value:.2g}"
    if magnitude >= 100:
        return f"{value:.0f}"
    return f"{value:.3g}"
