"""Time, injectable: the background thread asks a clock, so tests can move time by hand.

Latency is always measured with :func:`time.perf_counter_ns` on the calling thread (a real
duration, never faked). Everything the background thread schedules (flush intervals, retry
backoff) and the wall time written on events come from a :class:`Clock`, so a test can pass a
:class:`ManualClock` and step through a retry schedule without sleeping.

>>> clock = ManualClock(wall=1_700_000_000.0)
>>> clock.advance(2.5)
>>> clock.monotonic(), clock.time()
(2.5, 1700000002.5)
"""

from __future__ import annotations

import threading
import time
from typing import Protocol

__all__ = ["Clock", "ManualClock", "SystemClock"]


class Clock(Protocol):
    """What the SDK needs to know about time."""

    def monotonic(self) -> float:
        """Seconds on a clock that never goes back (for intervals and deadlines)."""
        ...

    def time(self) -> float:
        """Wall time in epoch seconds (for the timestamps written on events)."""
        ...


class SystemClock:
    """The real clocks of the process."""

    def monotonic(self) -> float:
        return time.monotonic()

    def time(self) -> float:
        return time.time()


class ManualClock:
    """A clock that moves only when told to; for tests.

    >>> clock = ManualClock()
    >>> clock.advance(1.0)
    >>> clock.monotonic()
    1.0
    """

    def __init__(self, *, wall: float = 1_800_000_000.0, monotonic: float = 0.0) -> None:
        self._lock = threading.Lock()
        self._wall = wall
        self._monotonic = monotonic

    def monotonic(self) -> float:
        with self._lock:
            return self._monotonic

    def time(self) -> float:
        with self._lock:
            return self._wall

    def advance(self, seconds: float) -> None:
        """Move both clocks forward by ``seconds``."""
        with self._lock:
            self._monotonic += seconds
            self._wall += seconds
