"""PagerDuty: events through the Events API v2, one incident per alert fingerprint.

A firing alert is a ``trigger`` event and a resolved one a ``resolve`` event, both with
``dedup_key`` set to :meth:`Alert.fingerprint() <telltale.alerts.alert.Alert.fingerprint>`, so
PagerDuty folds repeats of one alert into one incident and the resolve closes it. Severity maps
to PagerDuty's ``critical`` and ``warning``; the summary is cut to PagerDuty's 1024 characters
and long context values to a size PagerDuty accepts (it refuses an event over 512 KB whole).
"""

from __future__ import annotations

import re
from typing import Any

from telltale.alerts.alert import Alert
from telltale.alerts.channels.base import HttpChannel
from telltale.alerts.channels.text import http_url, one_line
from telltale.schema.result import jsonable

__all__ = ["DEFAULT_EVENTS_URL", "PagerDutyChannel"]

DEFAULT_EVENTS_URL = "https://events.pagerduty.com/v2/enqueue"
SUMMARY_LIMIT = 1024
_SEVERITY = {"critical": "critical", "warning": "warning"}
_KEY = re.compile(r"[A-Za-z0-9_\-]{8,128}")
_TEXT_LIMIT = 1000
_LIST_LIMIT = 20


class PagerDutyChannel(HttpChannel):
    """Send Events API v2 events for a service's integration (PagerDuty: *Service →
    Integrations → Events API V2*, whose *Integration Key* is the ``routing_key``).

    >>> PagerDutyChannel(routing_key="R0UT1NGKEY0123456789ABCDEFGHIJKL")
    PagerDutyChannel(name='pagerduty', target='https://events.pagerduty.com/…')
    """

    type = "pagerduty"

    def __init__(
        self,
        routing_key: str,
        *,
        name: str = "pagerduty",
        url: str = DEFAULT_EVENTS_URL,
        source: str | None = None,
        timeout_s: float = 10.0,
    ) -> None:
        super().__init__(name=name, timeout_s=timeout_s)
        if not isinstance(routing_key, str) or not _KEY.fullmatch(routing_key):
            # the key itself is a secret: say what is wrong with it, never what it is
            raise self._error(
                "routing_key",
                "must be the Integration Key of an Events API v2 integration (usually 32 "
                "letters and digits; find it under Service → Integrations)",
            )
        self._routing_key = routing_key
        self.url = self._url("url", url, DEFAULT_EVENTS_URL)
        self.source = None if source is None else self._text("source", source, "e.g. fraud-api")

    def render(self, alert: Alert) -> dict[str, Any]:
        event: dict[str, Any] = {
            "routing_key": self._routing_key,
            "event_action": "resolve" if alert.state == "resolved" else "trigger",
            "dedup_key": alert.fingerprint(),
        }
        if alert.state == "resolved":
            return event  # a resolve needs only the key: PagerDuty ignores any payload
        event["payload"] = {
            "summary": one_line(alert.summary(), SUMMARY_LIMIT),
            "source": self.source or one_line(alert.subject(), 255),
            "severity": _SEVERITY.get(alert.severity, "warning"),
            "timestamp": alert.since,
            "component": one_line(alert.group.get("model", alert.subject()), 255),
            "group": one_line(alert.group.get("environment", alert.rule), 255),
            "class": one_line(alert.metric, 255),
            "custom_details": _clip(jsonable(_details(alert))),
        }
        event["client"] = "telltale"
        links = []
        dashboard = http_url(alert.context.dashboard_url)
        if dashboard:
            event["client_url"] = dashboard
            links.append({"href": dashboard, "text": "Open in telltale"})
        runbook = http_url(alert.labels.get("runbook_url") or alert.labels.get("runbook"))
        if runbook:
            links.append({"href": runbook, "text": "Runbook"})
        event["links"] = links
        return event

    def secrets(self) -> tuple[str, ...]:
        return (*super().secrets(), self._routing_key)


def _details(alert: Alert) -> dict[str, Any]:
    context = alert.context.to_dict()
    return {
        "rule": alert.rule,
        "group": alert.group,
        "metric": alert.metric,
        "value": alert.value,
        "threshold": alert.threshold,
        "comparison": alert.comparison,
        "baseline": alert.baseline,
        "window": alert.window,
        "since": alert.since,
        "description": alert.description,
        "labels": alert.labels,
        **{key: value for key, value in context.items() if value not in (None, [], {})},
    }


def _clip(value: Any, depth: int = 0) -> Any:
    """``value`` with every string cut to 1000 characters and every list to 20 items."""
    if isinstance(value, str):
        return one_line(value, _TEXT_LIMIT) if len(value) > _TEXT_LIMIT else value
    if depth > 4:
        return one_line(value, 200)
    if isinstance(value, dict):
        return {
            str(k)[:200]: _clip(v, depth + 1) for k, v in list(value.items())[: _LIST_LIMIT * 2]
        }
    if isinstance(value, (list, tuple)):
        return [_clip(v, depth + 1) for v in value[:_LIST_LIMIT]]
    return value
