"""The bounded buffer between the calling threads and the background thread.

The calling thread appends a tuple of raw references and returns; the background thread pops
from the other end. A :class:`collections.deque` does both atomically under the GIL, so neither
side takes a lock. When the buffer holds ``capacity`` records, new records are dropped (never the
model's call) and counted: the count is sent to the server as ``client.dropped``.

The capacity check and the append are two steps, so with many threads the buffer can overshoot
``capacity`` by at most one record per thread; that is the price of taking no lock.

>>> buffer = RecordBuffer(capacity=1)
>>> buffer.offer(("a",)), buffer.offer(("b",))
(True, False)
>>> buffer.dropped, buffer.take(10)
(1, [('a',)])
"""

from __future__ import annotations

import threading
from collections import deque
from typing import Any

from telltale.errors import ConfigError

__all__ = ["RecordBuffer"]


class RecordBuffer:
    """A deque of at most ``capacity`` records, with a count of the records dropped."""

    def __init__(self, capacity: int = 10_000) -> None:
        if not isinstance(capacity, int) or isinstance(capacity, bool) or capacity < 1:
            raise ConfigError(
                f"capacity={capacity!r} is not a positive number of events; "
                "pass e.g. capacity=10_000"
            )
        self.capacity = capacity
        self.records: deque[tuple[Any, ...]] = deque()
        self.append = self.records.append
        self.dropped = 0
        self._drop_lock = threading.Lock()

    def __len__(self) -> int:
        return len(self.records)

    def offer(self, record: tuple[Any, ...]) -> bool:
        """Append ``record`` unless the buffer is full (then count a drop); the slow spelling."""
        if len(self.records) < self.capacity:
            self.append(record)
            return True
        self.drop()
        return False

    def drop(self, count: int = 1) -> None:
        """Count records that did not fit (the rare path, so a lock is affordable)."""
        with self._drop_lock:
            self.dropped += count

    def take(self, limit: int) -> list[tuple[Any, ...]]:
        """Pop up to ``limit`` of the oldest records."""
        popleft = self.records.popleft
        taken: list[tuple[Any, ...]] = []
        for _ in range(min(limit, len(self.records))):
            try:
                taken.append(popleft())
            except IndexError:  # pragma: no cover - only another consumer could empty it
                break
        return taken

    def after_fork_in_child(self) -> None:
        """Forget the parent's records and drops (the parent reports them) and its lock."""
        self.records.clear()
        self.dropped = 0
        self._drop_lock = threading.Lock()
