"""``with monitor.observe(inputs) as obs:`` — recording code that is not one function.

Some predictions are a few steps inside a request handler (fetch features, call two models, post-
process). ``observe`` records them as one event: the clock starts when the block is entered, the
event id is known at once (``obs.event_id``, e.g. to return it to the client for later feedback),
``obs.set_output(y)`` gives the output, and an exception leaving the block is recorded as status
``error`` and then propagates unchanged.

>>> from telltale.sdk import MemorySink, Monitor
>>> monitor = Monitor(model="fraud", sink=MemorySink())
>>> with monitor.observe({"amount": 12.5}) as obs:
...     obs.set_output(0.93)
>>> len(obs.event_id)
36
>>> monitor.close()
"""

from __future__ import annotations

import asyncio
import time
from types import TracebackType
from typing import Any

from telltale.sdk.call_site import ERROR, FALLBACK, OK, CallSite
from telltale.sdk.capture import Capture
from telltale.sdk.tracing import current_context

__all__ = ["Observation"]

_UNSET: Any = object()


class Observation:
    """One observed block; made by :meth:`Monitor.observe`, used as a context manager."""

    __slots__ = ("_capture", "_fallback_reason", "_number", "_output", "_site", "_start", "inputs")

    def __init__(self, capture: Capture, site: CallSite, inputs: Any) -> None:
        self._capture = capture
        self._site = site
        self.inputs = inputs
        self._output: Any = _UNSET
        self._fallback_reason: str | None = None
        self._number = 0
        self._start = 0

    def __enter__(self) -> Observation:
        self._number = next(self._capture.ids.sequence)
        self._capture.last.set(self._number)
        self._start = time.perf_counter_ns()
        return self

    def set_output(self, output: Any) -> None:
        """The block's result: mapped to ``outputs`` and checked like a tracked function's."""
        self._output = output

    def set_fallback(self, output: Any, reason: str) -> None:
        """The block answered with a fallback ``output`` because of ``reason`` (status fallback)."""
        self._output = output
        self._fallback_reason = reason

    @property
    def event_id(self) -> str:
        """The UUID this block's event is recorded under (for labels and feedback)."""
        return self._capture.ids.format(self._number)

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        end = time.perf_counter_ns()
        if error is not None and not isinstance(error, (Exception, asyncio.CancelledError)):
            return  # KeyboardInterrupt, SystemExit: not a prediction that failed
        try:
            output = None if self._output is _UNSET else self._output
            why: BaseException | str | None
            if error is not None:
                status, why, output = ERROR, error, None
            elif self._fallback_reason is not None:
                status, why = FALLBACK, self._fallback_reason
            else:
                status, why = OK, None
            buffer = self._capture.buffer
            record: tuple[Any, ...] = (
                self._site,
                self._number,
                self._start,
                end,
                (self.inputs,),
                None,
                output,
                why,
                status,
                current_context(),
                None,
            )
            if len(buffer.records) < buffer.capacity:
                buffer.append(record)
            else:
                buffer.drop()
        except Exception:
            pass  # monitoring never raises into the model's code
