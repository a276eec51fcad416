"""Wall-clock timestamps of events: epoch microseconds inside, ISO-8601 text on the JSON wire.

A tracked call reads only ``perf_counter_ns`` (wall clocks are slower to read and can jump). The
background thread places those readings on the wall clock with one reading of both clocks per
batch, and keeps integer epoch microseconds: what Arrow's ``timestamp[us, UTC]`` holds, with no
text in between. JSON rows, labels and resource samples need the text form; events come in bursts,
so each second's text is formatted once and reused.

>>> iso_from_micros(1_800_000_000_123_456)
'2027-01-15T08:00:00.123456Z'
>>> iso_time(1_800_000_000.5)
'2027-01-15T08:00:00.500000Z'
>>> micros_from_wire("2027-01-15T08:00:00.123456Z"), micros_from_wire(1_800_000_000)
(1800000000123456, 1800000000000000)
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

__all__ = ["iso_from_micros", "iso_time", "micros_from_wire", "wall_offset_ns"]

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_MICROSECOND = timedelta(microseconds=1)
_last_second: list[tuple[int, str]] = [(-1 << 62, "")]


def iso_from_micros(micros: int) -> str:
    """``2026-11-22T14:02:00.123456Z`` for epoch microseconds."""
    second, fraction = divmod(micros, 1_000_000)
    cached_second, text = _last_second[0]
    if cached_second != second:
        text = datetime.fromtimestamp(second, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
        _last_second[0] = (second, text)  # one tuple: threads never see half an update
    return f"{text}.{fraction:06d}Z"


def iso_time(epoch_seconds: float) -> str:
    """``2026-11-22T14:02:00.123456Z`` for epoch seconds."""
    return iso_from_micros(round(epoch_seconds * 1_000_000))


def wall_offset_ns(wall_seconds: float, perf_ns: int) -> int:
    """What to add to a ``perf_counter_ns`` reading to get epoch nanoseconds, from one reading
    of each clock taken together."""
    return round(wall_seconds * 1_000_000) * 1000 - perf_ns


def micros_from_wire(value: Any) -> int | None:
    """Epoch microseconds of a protocol ``ts``: ISO-8601 text (UTC without an offset) or epoch
    seconds; None stays None. Raises ValueError/TypeError for anything else."""
    if value is None:
        return None
    if isinstance(value, str):
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=timezone.utc)
        return (parsed - _EPOCH) // _MICROSECOND
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return round(value * 1_000_000)
    raise TypeError(f"ts={value!r} is neither ISO-8601 text nor epoch seconds")
