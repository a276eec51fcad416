"""The few objects the calling thread touches: the buffer, the id sequence, the last id.

A tracked call does only this on the calling thread: read ``perf_counter_ns`` twice, call the
function, take the next event number, read the current OpenTelemetry span context when
OpenTelemetry is loaded, append one tuple of references to the buffer (or count a drop when it is
full) and remember the number in a :class:`contextvars.ContextVar` so that
``monitor.last_event_id()`` answers per thread and per asyncio task. Binding arguments to feature
names, mapping outputs, running checks, redaction, formatting ids and timestamps, encoding and
sending all happen later on the background thread. Recording is wrapped so that it can never
raise into the caller.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import sys
import weakref
from collections.abc import Callable
from typing import Any

from telltale.sdk.buffer import RecordBuffer
from telltale.sdk.call_site import CallSite, batch_length
from telltale.sdk.event_ids import EventIds
from telltale.sdk.tracing import OTEL_CONTEXT_MODULE

__all__ = ["Capture", "LastEvent", "Recorder"]

LastEvent = int | tuple[int | None, int] | None
"""One call's event number, or ``(first number, rows)`` for a batch call."""

Recorder = Callable[[int, int, tuple[Any, ...], dict[str, Any], Any, Any, str], None]


class Capture:
    """Buffer, ids and last-event variable of one monitor, shared by all its tracked functions."""

    def __init__(self, buffer: RecordBuffer, ids: EventIds) -> None:
        self.buffer = buffer
        self.ids = ids
        self.last: contextvars.ContextVar[LastEvent] = contextvars.ContextVar(
            f"telltale_last_event_{id(self):x}", default=None
        )
        self.loops: weakref.WeakSet[asyncio.AbstractEventLoop] = weakref.WeakSet()

    def recorder(self, site: CallSite) -> Recorder:
        """A function appending one record for ``site``; it never raises."""
        records = self.buffer.records
        append = records.append
        buffer = self.buffer
        drop = self.buffer.drop
        sequence = self.ids.sequence
        reserve_block = self.ids.reserve_block
        set_last = self.last.set
        modules = sys.modules
        batch = site.batch

        def record(
            start: int,
            end: int,
            args: tuple[Any, ...],
            kwargs: dict[str, Any],
            result: Any,
            error: Any,
            status: str,
        ) -> None:
            try:
                # With OpenTelemetry loaded, keep its current Context (an existing object, no
                # copy); the background thread reads the span from it (~1.5 µs saved here).
                otel = modules.get(OTEL_CONTEXT_MODULE)
                span = otel.get_current() if otel is not None else None
                rows = None
                if batch:
                    rows = batch_length(result) if error is None or status == "fallback" else None
                    number = reserve_block(rows) if rows is not None else None
                    last: LastEvent = (number, rows or 0)
                else:
                    number = last = next(sequence)
                if len(records) < buffer.capacity:
                    append(
                        (
                            site,
                            number,
                            start,
                            end,
                            args,
                            kwargs or None,  # no empty dict kept alive per call
                            result,
                            error,
                            status,
                            span,
                            rows,
                        )
                    )
                else:
                    drop()
                set_last(last)
            except Exception:
                pass  # monitoring never raises into the model's code

        return record

    def watch_loop(self, loop: asyncio.AbstractEventLoop) -> None:
        """Let the resource sampler measure the lag of an event loop that runs tracked code."""
        with contextlib.suppress(Exception):
            self.loops.add(loop)
