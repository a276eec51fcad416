"""Group commit: one writer thread turns many small requests into few large transactions.

A DuckDB statement costs about 3 ms however small it is, while a 10k-row insert runs at half a
million rows a second (ENGINES.md). So requests do not write: they put their decoded batch on a
queue and wait. The writer takes everything queued — up to ``max_group_events`` events — writes it
in one transaction, and only then answers each request. Under load the queue fills while the last
commit runs, so transactions grow exactly when it pays; when idle, a request is committed alone at
once. A request is acknowledged only after its rows are committed.

If a grouped write fails, each batch of the group is retried alone, so one bad batch cannot fail
its neighbours.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from telltale.errors import TelltaleError, UnavailableError

__all__ = ["GroupWriter", "WriterStats"]

log = logging.getLogger("telltale.server")


@dataclass
class _Job:
    kind: str
    project: str
    payload: Any
    size: int
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[Any]


@dataclass
class WriterStats:
    transactions: int = 0
    jobs: int = 0
    events: int = 0
    failures: int = 0
    commit_seconds: list[float] = field(default_factory=list)


class GroupWriter:
    """Runs ``write_events(list[(project, batch)]) -> list[result]`` and other writes on one thread.

    ``handlers`` maps a job kind to a function taking a list of ``(project, payload)`` and
    returning one result per item; ``events`` is the kind that is grouped across requests.
    """

    def __init__(
        self,
        handlers: dict[str, Callable[[list[tuple[str, Any]]], list[Any]]],
        *,
        max_group_events: int = 200_000,
        on_commit: Callable[[str, float, int], None] | None = None,
    ) -> None:
        self._handlers = handlers
        self._max_group = max_group_events
        self._on_commit = on_commit
        self._queue: queue.Queue[_Job | None] = queue.Queue()
        self._closed = False
        self.stats = WriterStats()
        self._thread = threading.Thread(target=self._run, name="telltale-writer", daemon=True)
        self._thread.start()

    @property
    def depth(self) -> int:
        return self._queue.qsize()

    async def submit(self, kind: str, project: str, payload: Any, size: int = 1) -> Any:
        """Queue a write and wait until it is committed; return the handler's result."""
        if self._closed:
            raise UnavailableError("the server is shutting down; retry against its successor")
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        self._queue.put(_Job(kind, project, payload, size, loop, future))
        return await future

    def close(self, timeout: float = 30.0) -> None:
        """Finish what is queued, then stop."""
        if self._closed:
            return
        self._closed = True
        self._queue.put(None)
        self._thread.join(timeout)

    def _take_group(self, first: _Job) -> tuple[list[_Job], bool]:
        group = [first]
        total = first.size
        stop = False
        while total < self._max_group:
            try:
                job = self._queue.get_nowait()
            except queue.Empty:
                break
            if job is None:
                stop = True
                break
            group.append(job)
            total += job.size
        return group, stop

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            group, stop = self._take_group(first)
            by_kind: dict[str, list[_Job]] = {}
            for job in group:
                by_kind.setdefault(job.kind, []).append(job)
            for kind, jobs in by_kind.items():
                self._commit(kind, jobs)
            if stop:
                return

    def _commit(self, kind: str, jobs: list[_Job]) -> None:
        handler = self._handlers[kind]
        started = time.perf_counter()
        try:
            results = handler([(job.project, job.payload) for job in jobs])
        except Exception as error:
            if len(jobs) > 1:
                for job in jobs:  # isolate the batch that failed
                    self._commit(kind, [job])
                return
            self.stats.failures += 1
            if not isinstance(error, TelltaleError):
                log.exception("write of %s failed", kind)
                error = UnavailableError(
                    f"the store could not commit this batch ({type(error).__name__}: {error}); "
                    "nothing from it was stored; retry later"
                )
            _settle(jobs[0], error=error)
            return
        elapsed = time.perf_counter() - started
        self.stats.transactions += 1
        self.stats.jobs += len(jobs)
        events = sum(job.size for job in jobs)
        self.stats.events += events
        if self._on_commit is not None:
            self._on_commit(kind, elapsed, events)
        for job, result in zip(jobs, results, strict=True):
            _settle(job, result=result)


def _settle(job: _Job, *, result: Any = None, error: BaseException | None = None) -> None:
    def apply() -> None:
        if job.future.done():  # the request was cancelled (client went away)
            return
        if error is not None:
            job.future.set_exception(error)
        else:
            job.future.set_result(result)

    with contextlib.suppress(RuntimeError):  # a closed loop: nobody is waiting any more
        job.loop.call_soon_threadsafe(apply)
