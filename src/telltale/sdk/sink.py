"""Where batches go: the :class:`Sink` interface, and the two simplest sinks.

The monitor's background thread is the only caller of a sink, so a sink needs no locks. A sink
counts what happened to the rows it was given in :attr:`Sink.counters` (per kind: ``events``,
``labels``, ``feedback``), which ``monitor.stats()`` reports. A sink of your own only needs
:meth:`Sink.write`: if it returns, the rows count as sent; if it raises, they count as failed and
the error is logged (rate-limited) — it never reaches the model's code.

>>> sink = MemorySink()
>>> sink.send(Batch("labels", [{"event_id": "e1", "label": 1}]))
>>> sink.counters.sent["labels"], len(sink.batches)
(1, 1)
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from telltale.sdk.batch import Batch
from telltale.sdk.rate_limited_log import RateLimitedLog

__all__ = ["CallbackSink", "MemorySink", "Sink", "SinkCounters"]

log = RateLimitedLog(logging.getLogger("telltale.sdk"))


@dataclass
class SinkCounters:
    """Rows by kind: sent (acknowledged), failed (given up), spooled (held for a retry now),
    spool_dropped (pushed out of a full spool)."""

    sent: Counter[str] = field(default_factory=Counter)
    failed: Counter[str] = field(default_factory=Counter)
    spooled: Counter[str] = field(default_factory=Counter)
    spool_dropped: Counter[str] = field(default_factory=Counter)


class Sink:
    """Base of all sinks. Subclass and implement :meth:`write`, or override :meth:`send`.

    >>> class PrintSink(Sink):
    ...     def write(self, batch: Batch) -> None:
    ...         print(batch.kind, len(batch))
    >>> PrintSink().send(Batch("events", [{}]))
    events 1
    """

    def __init__(self) -> None:
        self.counters = SinkCounters()

    def write(self, batch: Batch) -> None:
        """Deliver ``batch`` or raise."""
        raise NotImplementedError(
            f"{type(self).__name__} must implement write(batch) or send(batch)"
        )

    def send(self, batch: Batch) -> None:
        """Deliver ``batch`` and count the outcome; never raises."""
        try:
            self.write(batch)
        except Exception as error:
            self.counters.failed[batch.kind] += len(batch)
            log.error(
                f"sink-{type(self).__name__}",
                "telltale: %s could not take %d %s (%s: %s); they are counted as failed",
                type(self).__name__,
                len(batch),
                batch.kind,
                type(error).__name__,
                error,
            )
        else:
            self.counters.sent[batch.kind] += len(batch)

    def prepare(self) -> None:
        """Load what sending needs (on the background thread, before the first fingerprint, so
        that the SDK's own lazy imports are not mistaken for the model's libraries)."""

    def retry(self, *, force: bool = False) -> None:
        """Try again what is held for later (a spool); ``force`` ignores the backoff."""

    def pending(self) -> int:
        """How many rows are held for a later retry."""
        return 0

    def close(self) -> None:
        """Release connections and files."""

    def after_fork_in_child(self) -> None:
        """Drop what belongs to the parent process (connections, spool ownership)."""


class MemorySink(Sink):
    """Keeps every batch in a list; for tests, notebooks and your own unit tests.

    >>> sink = MemorySink()
    >>> sink.send(Batch("events", [{"event_id": "e1"}]))
    >>> [row["event_id"] for row in sink.events]
    ['e1']
    """

    def __init__(self) -> None:
        super().__init__()
        self.batches: list[Batch] = []
        self._lock = threading.Lock()

    def write(self, batch: Batch) -> None:
        with self._lock:
            self.batches.append(batch)

    def _rows(self, kind: str) -> list[dict[str, Any]]:
        with self._lock:
            return [row for batch in self.batches if batch.kind == kind for row in batch.rows]

    @property
    def events(self) -> list[dict[str, Any]]:
        """All event rows received so far, in order."""
        return self._rows("events")

    @property
    def labels(self) -> list[dict[str, Any]]:
        return self._rows("labels")

    @property
    def feedback(self) -> list[dict[str, Any]]:
        return self._rows("feedback")


class CallbackSink(Sink):
    """Calls ``function(batch)``; what ``Monitor(sink=function)`` makes of a plain function."""

    def __init__(self, function: Callable[[Batch], Any]) -> None:
        super().__init__()
        self.function = function

    def write(self, batch: Batch) -> None:
        self.function(batch)
