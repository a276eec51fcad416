"""Slack: an incoming-webhook message with Block Kit blocks an on-call engineer can act on.

The message is ``{"text": <summary>, "blocks": [...]}``: ``text`` is what the notification and
old clients show; the blocks are a header (severity, group, metric), a section with the summary
and the facts (value, threshold, since, window, rule), the top drifted features, the worst
slices, a context line (sample trace and event ids, labels, fingerprint) and a button to the
dashboard.

Slack reads ``&``, ``<`` and ``>`` in mrkdwn as markup (``<!channel>`` pings everyone,
``<https://x|y>`` is a link), so user text is escaped to ``&amp;``, ``&lt;``, ``&gt;``; names go
in code spans, where ``*`` and ``_`` do not format. Every text is cut to Slack's limits (header
150, section 3000, field 2000, button 75 characters), because Slack refuses a whole message
with one field too long, and an alert that is refused is an alert nobody sees.
"""

from __future__ import annotations

from typing import Any

from telltale.alerts.alert import Alert, AlertGroup
from telltale.alerts.channels.base import HttpChannel
from telltale.alerts.channels.text import (
    ELLIPSIS,
    MAX_ITEMS,
    drift_lines,
    environment_lines,
    facts,
    http_url,
    one_line,
    slice_lines,
    truncate,
)

__all__ = ["SlackChannel", "mrkdwn"]

HEADER_LIMIT = 150
SECTION_LIMIT = 3000
FIELD_LIMIT = 2000
BUTTON_LIMIT = 75
_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
_ICONS = {"critical": "🔴", "warning": "🟠"}
GROUP_SHOWN = 15
"""Alerts shown in one grouped message (3 blocks each, under Slack's 50)."""


def mrkdwn(text: str, limit: int = SECTION_LIMIT) -> str:
    """``text`` escaped for Slack mrkdwn and at most ``limit`` characters once escaped (an
    entity is never cut in half).

    >>> mrkdwn("p99 > 500 & <!channel>")
    'p99 &gt; 500 &amp; &lt;!channel&gt;'
    >>> mrkdwn("a & b & c", 8)
    'a &amp;…'
    """
    pieces = [_ESCAPES.get(char, char) for char in text]
    if sum(map(len, pieces)) <= limit:
        return "".join(pieces)
    out: list[str] = []
    size = 0
    for piece in pieces:
        if size + len(piece) > limit - 1:  # room for the ellipsis
            break
        out.append(piece)
        size += len(piece)
    return "".join(out) + ELLIPSIS


def _code(text: str, limit: int = 200) -> str:
    # a backtick inside would close the span; U+02CB looks the same and does not
    return f"`{mrkdwn(text.replace('`', 'ˋ'), limit)}`"


class SlackChannel(HttpChannel):
    """Post to a Slack incoming webhook (Slack: *Apps → Incoming Webhooks → Add New Webhook*).

    >>> SlackChannel("https://hooks.slack.com/services/T000/B000/XXXX", name="oncall")
    SlackChannel(name='oncall', target='https://hooks.slack.com/…')
    """

    type = "slack"

    def __init__(self, url: str, *, name: str = "slack", timeout_s: float = 10.0) -> None:
        super().__init__(name=name, timeout_s=timeout_s)
        self.url = self._url("url", url, "https://hooks.slack.com/services/T000/B000/XXXX")

    def render(self, alert: Alert) -> dict[str, Any]:
        summary = one_line(alert.summary(), SECTION_LIMIT)
        blocks: list[dict[str, Any]] = [self._header(alert), self._summary(alert, summary)]
        for title, lines in (
            ("Top drifted features", drift_lines(alert)),
            ("Worst slices", slice_lines(alert)),
            ("By environment", environment_lines(alert)),
        ):
            if lines:
                body = "\n".join(
                    f"• {_code(key, 150)} {mrkdwn(value, 300)}" for key, value in lines
                )
                blocks.append(_section(f"*{title}*\n{body}"))
        context = self._context(alert)
        if context:
            blocks.append({"type": "context", "elements": context})
        buttons = self._buttons(alert)
        if buttons:
            blocks.append({"type": "actions", "elements": buttons})
        return {"text": mrkdwn(summary), "blocks": blocks}

    groups = True

    def render_group(self, group: AlertGroup) -> dict[str, Any]:
        """One message for the round: a header, then each alert's summary, facts and link
        (at most :data:`GROUP_SHOWN`; Slack takes 50 blocks)."""
        icon = "✅" if group.state == "resolved" else _ICONS.get(group.severity, "🟠")
        title = one_line(f"{icon} {group.subject()}", HEADER_LIMIT)
        blocks: list[dict[str, Any]] = [
            {"type": "header", "text": {"type": "plain_text", "text": title, "emoji": True}}
        ]
        for alert in group.alerts[:GROUP_SHOWN]:
            blocks.append({"type": "divider"})
            blocks.append(self._summary(alert, one_line(alert.summary(), SECTION_LIMIT)))
            buttons = self._buttons(alert)
            if buttons:
                blocks.append({"type": "actions", "elements": buttons})
        if len(group.alerts) > GROUP_SHOWN:
            more = len(group.alerts) - GROUP_SHOWN
            blocks.append(_section(f"and {more} more: open telltale's alerts page"))
        return {"text": mrkdwn(one_line(group.summary(), SECTION_LIMIT)), "blocks": blocks}

    def _header(self, alert: Alert) -> dict[str, Any]:
        if alert.state == "resolved":
            title = f"✅ RESOLVED · {alert.subject()} · {alert.metric}"
        else:
            icon = _ICONS.get(alert.severity, "🟠")
            title = f"{icon} {alert.severity.upper()} · {alert.subject()} · {alert.metric}"
        # plain_text is shown as written (no markup), so it is cut, not escaped
        text = one_line(title, HEADER_LIMIT)
        return {"type": "header", "text": {"type": "plain_text", "text": text, "emoji": True}}

    def _summary(self, alert: Alert, summary: str) -> dict[str, Any]:
        text = f"*{mrkdwn(summary, 1000)}*"
        if alert.description:
            text += "\n" + mrkdwn(one_line(alert.description, 1500), 1500)
        fields = [
            {"type": "mrkdwn", "text": f"*{label}*\n{mrkdwn(value, 500)}"}
            for label, value in facts(alert)
        ]
        block = _section(text)
        block["fields"] = fields[:10]
        return block

    def _context(self, alert: Alert) -> list[dict[str, Any]]:
        parts = []
        for label, ids in (
            ("traces", alert.context.sample_trace_ids),
            ("events", alert.context.sample_event_ids),
        ):
            if ids:
                parts.append(
                    f"{label}: " + " ".join(_code(one_line(i, 64)) for i in ids[:MAX_ITEMS])
                )
        for note in alert.context.notes[:MAX_ITEMS]:
            parts.append(mrkdwn(one_line(note, 300)))
        parts.append(f"fingerprint {_code(alert.fingerprint())}")
        return [{"type": "mrkdwn", "text": truncate(part, FIELD_LIMIT)} for part in parts[:10]]

    def _buttons(self, alert: Alert) -> list[dict[str, Any]]:
        links = [("Open in telltale", http_url(alert.context.dashboard_url))]
        runbook = alert.labels.get("runbook_url") or alert.labels.get("runbook")
        links.append(("Runbook", http_url(runbook)))
        return [
            {
                "type": "button",
                "text": {"type": "plain_text", "text": truncate(text, BUTTON_LIMIT)},
                "url": url,
                **({"style": "primary"} if index == 0 else {}),
            }
            for index, (text, url) in enumerate(links)
            if url is not None
        ]


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": truncate(text, SECTION_LIMIT)}}
