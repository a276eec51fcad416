"""The background thread: drain the buffer, build events, hand batches to the sink.

It wakes every ``poll`` seconds (50 ms) and sends a batch as soon as ``batch_size`` calls are
waiting, or every ``flush_interval`` seconds whatever is waiting, and whenever ``flush()`` asks.
It also takes the resource samples on their own schedule and lets the sink retry what it spooled.
It is the only thread that touches the sink, so sinks need no locks. Every step is guarded: an
error is logged (rate-limited) and the loop goes on.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from typing import Any

from telltale.sdk.batch import Batch, BatchKind
from telltale.sdk.buffer import RecordBuffer
from telltale.sdk.clock import Clock
from telltale.sdk.environment import EnvironmentTracker
from telltale.sdk.event_builder import EventBuilder
from telltale.sdk.rate_limited_log import RateLimitedLog
from telltale.sdk.resources import ResourceSampler
from telltale.sdk.sink import Sink
from telltale.sdk.timestamps import iso_time

__all__ = ["Flusher"]

log = RateLimitedLog(logging.getLogger("telltale.sdk"))


class Flusher:
    """Owns the background thread of one monitor."""

    def __init__(
        self,
        *,
        buffer: RecordBuffer,
        builder: EventBuilder,
        sink: Sink,
        clock: Clock,
        environment: EnvironmentTracker,
        sampler: ResourceSampler | None,
        batch_size: int,
        flush_interval: float,
        resource_interval: float | None,
        client: Callable[[], dict[str, Any]],
        poll: float = 0.05,
    ) -> None:
        self.buffer = buffer
        self.builder = builder
        self.sink = sink
        self.clock = clock
        self.environment = environment
        self.sampler = sampler
        self.batch_size = batch_size
        self.flush_interval = flush_interval
        self.resource_interval = resource_interval
        self.client = client
        self.poll = poll
        self.labels: deque[tuple[BatchKind, dict[str, Any]]] = deque()
        self._reset_state()

    def _reset_state(self) -> None:
        self.captured = 0
        self.sink_errors: Counter[str] = Counter()
        self._resources: list[dict[str, Any]] = []
        self._sent_environments: set[str] = set()
        self._wake = threading.Event()
        self._condition = threading.Condition()
        self._requested = 0
        self._done = 0
        self._stopping = False
        self._cycle_lock = threading.Lock()
        now = self.clock.monotonic()
        self._next_flush = now + self.flush_interval
        interval = self.resource_interval
        self._next_sample = now + interval if interval is not None else float("inf")
        self._thread: threading.Thread | None = None

    # -- thread --------------------------------------------------------------------------------

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="telltale-flush", daemon=True)
        self._thread.start()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _run(self) -> None:
        try:
            self.sink.prepare()
        except Exception as error:
            log.warning("prepare", "telltale: sink preparation failed: %s", error)
        while True:
            self._wake.wait(self.poll)
            self._wake.clear()
            with self._condition:
                requested, stopping = self._requested, self._stopping
            self._cycle(force=requested > self._done or stopping)
            with self._condition:
                self._done = requested
                self._condition.notify_all()
            if stopping:
                return

    def request_flush(self, timeout: float) -> bool:
        """Ask for a forced cycle and wait for it; False if it did not finish in ``timeout``."""
        if not self.running:
            self._cycle(force=True)  # closed, or called while the thread is not there
            return True
        with self._condition:
            self._requested += 1
            ticket = self._requested
        self._wake.set()
        deadline = time.monotonic() + timeout
        with self._condition:
            while self._done < ticket:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._condition.wait(remaining)
        return True

    def stop(self, timeout: float) -> bool:
        """A last forced cycle, then the thread ends; False if it is still busy after ``timeout``."""
        thread = self._thread
        if thread is None or not thread.is_alive():
            return True
        with self._condition:
            self._stopping = True
            self._requested += 1
        self._wake.set()
        thread.join(timeout)
        return not thread.is_alive()

    def after_fork_in_child(self) -> None:
        """Fresh locks, counters and thread; the parent's queued labels stay the parent's."""
        self.labels.clear()
        self._reset_state()
        self.start()

    # -- work ----------------------------------------------------------------------------------

    def _cycle(self, *, force: bool) -> None:
        with self._cycle_lock:
            try:
                self._work(force)
            except Exception as error:  # never let the thread die
                log.error(
                    "cycle",
                    "telltale: background flush failed: %s: %s",
                    type(error).__name__,
                    error,
                )

    def _work(self, force: bool) -> None:
        now = self.clock.monotonic()
        due = force or now >= self._next_flush
        if due:
            self._next_flush = now + self.flush_interval
        if self.sampler is not None and now >= self._next_sample:
            assert self.resource_interval is not None
            self._next_sample = now + self.resource_interval
            try:
                self._resources.append(self.sampler.sample(ts=iso_time(self.clock.time())))
            except Exception as error:
                log.warning("resources", "telltale: resource sampling failed: %s", error)
        # Full batches as long as there are some; on a due flush, the rest of what is waiting
        # now, not the calls made while it is being sent: else steady traffic keeps this loop
        # sending tiny batches, and labels, feedback and resources never get their turn.
        waiting = len(self.buffer) if due else 0
        while len(self.buffer) >= self.batch_size or waiting > 0:
            records = self.buffer.take(self.batch_size)
            if not records:
                break
            waiting -= len(records)
            self._send_events(records)
        if due and self._resources:
            self._send_events([])  # resource samples go even when no call was made
        if due or len(self.labels) >= self.batch_size:
            self._send_labels()
        try:
            self.sink.retry(force=force)
        except Exception as error:
            log.error("retry", "telltale: sink retry failed: %s: %s", type(error).__name__, error)

    def _send_events(self, records: list[Any]) -> None:
        try:
            environment: dict[str, Any] | None = self.environment.current()
        except Exception as error:
            log.warning("environment", "telltale: environment fingerprint failed: %s", error)
            environment = None
        environment_id = environment["environment_id"] if environment else None
        columns = self.builder.build(
            records,
            environment_id=environment_id,
            wall_now=self.clock.time(),
            perf_now_ns=time.perf_counter_ns(),
        )
        environments: list[dict[str, Any]] = []
        if environment is not None and columns and environment_id not in self._sent_environments:
            self._sent_environments.add(environment_id or "")
            environments.append(environment)
        self.captured += len(columns)
        batch = Batch("events", None, environments, self._resources, self.client(), columns=columns)
        self._resources = []
        self._deliver(batch)

    def _send_labels(self) -> None:
        grouped: dict[BatchKind, list[dict[str, Any]]] = {}
        for _ in range(len(self.labels)):
            kind, row = self.labels.popleft()
            grouped.setdefault(kind, []).append(row)
        for kind, rows in grouped.items():
            for start in range(0, len(rows), self.batch_size):
                self._deliver(Batch(kind, rows[start : start + self.batch_size]))

    def _deliver(self, batch: Batch) -> None:
        try:
            self.sink.send(batch)
        except Exception as error:  # a sink of one's own that overrides send() and raises
            self.sink_errors[batch.kind] += len(batch)
            log.error(
                "send",
                "telltale: %s.send raised %s: %s; %d %s counted as failed",
                type(self.sink).__name__,
                type(error).__name__,
                error,
                len(batch),
                batch.kind,
            )
