"""Alert text shared by the channels: cleaned, one-lined, truncated, and the context as lines.

Alert text comes from rules, group values, feature names and slice descriptions, any of which a
user (or the data) controls. Every channel first passes it through :func:`clean` (no control or
bidirectional-override characters, no lone surrogates) and :func:`one_line` where a line is
expected, then escapes it for its medium (HTML, Slack mrkdwn). The escaping itself lives with
each channel; what to say lives here, so the four channels say the same thing.

>>> one_line("fraud\\n1.4.0\\u202e  eu", 12)
'fraud 1.4.0…'
>>> from telltale.alerts.alert import AlertContext
>>> drift_lines(Alert(
...     rule="drift", group={"model": "fraud"}, state="firing", severity="warning",
...     metric="drift_psi", value=0.31, threshold=0.2, comparison=">", since="2026-11-22T14:02:00Z",
...     window="1h", context=AlertContext(top_drifted=[
...         {"feature": "amount", "method": "psi", "statistic": 0.31, "threshold": 0.2}]),
... ))
[('amount', 'psi 0.31 (threshold 0.2)')]
"""

from __future__ import annotations

import math
import re
import unicodedata
import urllib.parse
from typing import Any

from telltale.alerts.alert import Alert, format_number

__all__ = [
    "ELLIPSIS",
    "MAX_ITEMS",
    "clean",
    "drift_lines",
    "environment_lines",
    "facts",
    "http_url",
    "number",
    "one_line",
    "slice_lines",
    "truncate",
]

ELLIPSIS = "…"
MAX_ITEMS = 5
"""Drifted features, slices and sample ids shown per alert; the dashboard has the rest."""

# Bidirectional overrides and isolates can make text read differently from what it is.
_BIDI = dict.fromkeys(
    map(ord, "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f")
)
_SPACES = re.compile(r"\s+")
_SCAN_FACTOR = 4  # a truncated field never needs more than this many times its limit scanned


def truncate(text: str, limit: int) -> str:
    """``text`` if it fits in ``limit`` characters, else its start and ``…`` (``limit`` in all)."""
    return text if len(text) <= limit else text[: max(0, limit - 1)] + ELLIPSIS


def clean(value: Any, limit: int | None = None) -> str:
    """``value`` as text without control characters (newlines and tabs kept), bidi overrides or
    lone surrogates; truncated to ``limit`` characters when given."""
    text = value if isinstance(value, str) else str(value)
    if limit is not None:
        text = text[: limit * _SCAN_FACTOR + 1]  # a 10 MB description is not scanned whole
    text = text.translate(_BIDI).encode("utf-8", "replace").decode("utf-8")
    text = "".join(c if c in "\n\t" or unicodedata.category(c) != "Cc" else " " for c in text)
    return text if limit is None else truncate(text, limit)


def one_line(value: Any, limit: int | None = None) -> str:
    """:func:`clean` text with every run of whitespace (newlines included) made one space."""
    text = _SPACES.sub(" ", clean(value, None if limit is None else limit * _SCAN_FACTOR)).strip()
    return text if limit is None else truncate(text, limit)


def number(value: Any) -> str:
    """A statistic as people read it (:func:`~telltale.alerts.alert.format_number`), or as text."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return "n/a" if value is None else one_line(value, 40)
    return format_number(float(value)) if math.isfinite(value) else str(value)


def http_url(value: Any, limit: int = 3000) -> str | None:
    """``value`` if it is an absolute http(s) URL of at most ``limit`` characters, else ``None``
    (a link that is not one is left out: Slack rejects the whole message for a bad URL)."""
    if not isinstance(value, str) or len(value) > limit or any(c.isspace() for c in value):
        return None
    parts = urllib.parse.urlsplit(value)
    return value if parts.scheme in ("http", "https") and parts.hostname else None


def facts(alert: Alert) -> list[tuple[str, str]]:
    """``(label, value)`` rows every channel shows: rule, metric, value, threshold, times."""
    rows = [
        ("Rule", alert.rule),
        ("Metric", alert.metric),
        ("Value", format_number(alert.value)),
        ("Threshold", f"{alert.comparison} {format_number(alert.threshold)} ({alert.baseline})"),
        ("Severity", alert.severity),
        ("Since", alert.since),
        ("Window", alert.window),
    ]
    if alert.state == "resolved":
        rows.append(("Resolved at", alert.resolved_at or "n/a"))
    if alert.labels:
        rows.append(("Labels", ", ".join(f"{k}={v}" for k, v in sorted(alert.labels.items()))))
    return [(label, one_line(value, 500)) for label, value in rows]


def drift_lines(alert: Alert) -> list[tuple[str, str]]:
    """``(feature, what moved)`` for the worst drifted features."""
    lines = []
    for item in _items(alert.context.top_drifted):
        detail = f"{one_line(item.get('method', 'drift'), 40)} {number(item.get('statistic'))}"
        if item.get("threshold") is not None:
            detail += f" (threshold {number(item['threshold'])})"
        new = item.get("new_categories") or []
        if isinstance(new, (list, tuple)) and new:
            shown = ", ".join(one_line(c, 40) for c in new[:MAX_ITEMS])
            more = f" and {len(new) - MAX_ITEMS} more" if len(new) > MAX_ITEMS else ""
            detail += f"; new categories: {shown}{more}"
        lines.append((one_line(item.get("feature", "?"), 100), detail))
    return lines


def slice_lines(alert: Alert) -> list[tuple[str, str]]:
    """``(slice description, its metric)`` for the worst slices."""
    lines = []
    for item in _items(alert.context.worst_slices):
        detail = f"{one_line(item.get('metric', alert.metric), 60)} {number(item.get('value'))}"
        if item.get("n") is not None:
            detail += f" (n={number(item['n'])})"
        lines.append((one_line(item.get("description", "?"), 200), detail))
    return lines


def environment_lines(alert: Alert) -> list[tuple[str, str]]:
    """``(environment, the metric there)``, worst first; a named environment (the SDK's
    ``Monitor(environment={"name": ...})``) as ``name (hash)``."""
    lines = []
    for item in _items(alert.context.environments):
        shown = one_line(item.get("environment", "?"), 100)
        if item.get("name"):
            shown = f"{one_line(item['name'], 100)} ({shown})"
        lines.append((shown, number(item.get("value"))))
    return lines


def _items(values: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [item for item in values[:MAX_ITEMS] if isinstance(item, dict)]
