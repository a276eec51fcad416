"""Decoding ingest bodies off the writer's interpreter: worker processes, or threads.

Why processes. The writer thread talks to DuckDB through many short calls, each of which lets
go of the GIL and must take it back. While another thread of the same process runs Python (a
decoder validating 20 columns), taking it back waits up to the switch interval (5 ms) every
time: one busy Python thread took the writer from ~117-160k to 10-16k events/s
(``benchmarks/ingest_http.py`` shows the effect end to end). So by default request bodies are
decoded, validated and prepared (:func:`~telltale.store.prepare.prepare_batch`, the Prometheus
delta) in ``decode_processes`` worker processes, which hand back Arrow tables and numpy arrays
(pickled: ~0.2 ms per 1,000 events), and the server's own interpreter keeps only the event loop
and the writer.

Workers are started with ``spawn`` (the server has threads; ``fork`` would copy their locks),
import only the decoders, never open the DuckDB file, and leave when the server process is
gone (each watches its parent, so a ``kill -9`` of the server leaves no orphans). A worker that
dies is replaced: the request it held gets a 503 and may be retried. ``decode_processes = 0``
decodes on two threads of the server process instead (for debugging, or a one-core machine).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import multiprocessing
import os
import threading
import time
from concurrent.futures.process import BrokenProcessPool

from telltale.errors import UnavailableError
from telltale.schema.wire import decode_events_arrow, decode_events_json
from telltale.server.body import ARROW_STREAM
from telltale.server.metrics import BatchDelta
from telltale.store.prepare import PreparedBatch, prepare_batch

__all__ = ["Decoders", "decode_events"]

log = logging.getLogger("telltale.server")

_THREADS = 2


def decode_events(body: bytes, kind: str) -> tuple[PreparedBatch, BatchDelta]:
    """Decode, validate and prepare one ``/v1/events`` body (raises the wire's errors)."""
    batch = decode_events_arrow(body) if kind == ARROW_STREAM else decode_events_json(body)
    return prepare_batch(batch), BatchDelta.from_events(batch.events, batch.client)


def _watch_parent(parent: int) -> None:
    while True:
        time.sleep(0.5)
        if os.getppid() != parent:
            os._exit(0)


def _worker_start(parent: int) -> None:
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()


class Decoders:
    """A pool that runs :func:`decode_events`; ``processes = 0`` uses threads."""

    def __init__(self, processes: int) -> None:
        self.processes = processes
        self._lock = threading.Lock()
        self._pool = self._new_pool()

    def _new_pool(self) -> concurrent.futures.Executor:
        if self.processes <= 0:
            return concurrent.futures.ThreadPoolExecutor(
                _THREADS, thread_name_prefix="telltale-decode"
            )
        return concurrent.futures.ProcessPoolExecutor(
            self.processes,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_worker_start,
            initargs=(os.getpid(),),
        )

    def warm_up(self) -> None:
        """Start every worker now (each imports pyarrow: ~1 s), not on the first request."""
        if self.processes > 0:
            futures = [self._pool.submit(os.getpid) for _ in range(self.processes)]
            concurrent.futures.wait(futures, timeout=60)

    async def decode(self, body: bytes, kind: str) -> tuple[PreparedBatch, BatchDelta]:
        pool = self._pool
        try:
            return await asyncio.get_running_loop().run_in_executor(pool, decode_events, body, kind)
        except BrokenProcessPool:
            with self._lock:
                if self._pool is pool:  # the first request to notice replaces the pool
                    log.error("a decoder process died; starting a new pool")
                    self._pool = self._new_pool()
            pool.shutdown(wait=False)
            raise UnavailableError(
                "the decoder process handling this batch died; nothing was stored; send it again"
            ) from None

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
