"""Query-string values of the pages, checked: every bad value is a 400 naming the parameter
and the fix, never a crash or a silent default.

>>> RANGES["7d"].interval, RANGES["7d"].points
('hour', 168)
>>> parse_segment(["region:eu"])
{'region': 'eu'}
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Literal, cast

from fastapi import Request

from telltale.dashboard.web import PageError

__all__ = [
    "MAX_TEXT",
    "RANGES",
    "TimeRange",
    "choice",
    "parse_filters",
    "parse_int",
    "parse_range",
    "parse_segment",
    "parse_text",
    "parse_time",
]

MAX_TEXT = 200

Interval = Literal["minute", "hour", "day"]


@dataclass(frozen=True)
class TimeRange:
    """One choice of the range picker: how far back, and the window that keeps the number of
    points bounded (≤ 360)."""

    name: str
    label: str
    length: timedelta
    interval: Interval

    @property
    def points(self) -> int:
        step = {"minute": 60, "hour": 3600, "day": 86400}[self.interval]
        return int(self.length.total_seconds() // step)


RANGES = {
    r.name: r
    for r in (
        TimeRange("1h", "last hour", timedelta(hours=1), "minute"),
        TimeRange("6h", "6 hours", timedelta(hours=6), "minute"),
        TimeRange("24h", "24 hours", timedelta(hours=24), "hour"),
        TimeRange("7d", "7 days", timedelta(days=7), "hour"),
        TimeRange("30d", "30 days", timedelta(days=30), "day"),
        TimeRange("90d", "90 days", timedelta(days=90), "day"),
    )
}


def _one(request: Request, name: str) -> str | None:
    values = request.query_params.getlist(name)
    if len(values) > 1:
        raise PageError(400, f"{name} is given {len(values)} times; give it once", field=name)
    return values[0] if values else None


def parse_text(request: Request, name: str) -> str | None:
    """A free-text value (a version, an environment id): at most 200 characters; empty is none."""
    value = _one(request, name)
    if value is None or value == "":
        return None
    if len(value) > MAX_TEXT:
        raise PageError(
            400, f"{name} is {len(value)} characters; at most {MAX_TEXT} are allowed", field=name
        )
    if "\x00" in value:
        raise PageError(400, f"{name} holds a NUL character; remove it", field=name)
    return value


def parse_range(request: Request, default: str = "24h") -> TimeRange:
    value = _one(request, "range") or default
    if value not in RANGES:
        raise PageError(
            400,
            f"range={value[:40]!r} is not one of {', '.join(RANGES)}; write e.g. range=7d",
            field="range",
        )
    return RANGES[value]


def parse_segment(values: list[str]) -> dict[str, str] | None:
    tags: dict[str, str] = {}
    for value in values:
        name, sep, tag = value.partition(":")
        if not sep or not name or len(value) > MAX_TEXT or "\x00" in value:
            raise PageError(
                400,
                f"segment={value[:60]!r} is not KEY:VALUE; write e.g. segment=region:eu",
                field="segment",
            )
        tags[name] = tag
    return tags or None


def parse_filters(request: Request) -> dict[str, Any]:
    """``version``, ``environment`` and ``segment`` (repeatable ``key:value``) as the keyword
    arguments of the window functions."""
    segments = [s for s in request.query_params.getlist("segment") if s != ""]
    if len(segments) > 10:
        raise PageError(400, "at most 10 segment filters are allowed", field="segment")
    return {
        "version": parse_text(request, "version"),
        "environment": parse_text(request, "environment"),
        "segment": parse_segment(segments),
    }


def parse_time(request: Request, name: str) -> datetime | None:
    """An ISO-8601 time (UTC when it has no offset)."""
    value = parse_text(request, name)
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise PageError(
            400,
            f"{name}={value[:60]!r} is not an ISO-8601 time; write e.g. 2026-11-22T14:00:00Z",
            field=name,
        ) from None
    if not 1970 <= parsed.year <= 9000:
        raise PageError(400, f"{name} must be between 1970 and 9000", field=name)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def parse_int(request: Request, name: str, default: int, low: int, high: int) -> int:
    value = parse_text(request, name)
    if value is None:
        return default
    try:
        number = float(value) if value.strip().lower() not in ("nan", "inf") else math.nan
    except ValueError:
        number = math.nan
    if not math.isfinite(number) or not number.is_integer() or not low <= number <= high:
        raise PageError(
            400, f"{name}={value[:40]!r} must be a whole number from {low} to {high}", field=name
        )
    return int(number)


def choice(request: Request, name: str, allowed: tuple[str, ...]) -> str | None:
    value = parse_text(request, name)
    if value is not None and value not in allowed:
        raise PageError(
            400,
            f"{name}={value[:40]!r} is not one of {', '.join(allowed)}",
            field=name,
        )
    return cast("str | None", value)
