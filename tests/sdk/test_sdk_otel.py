"""OpenTelemetry: the ids recorded are those of the span the call ran in (real SDK)."""

from __future__ import annotations

import asyncio
from typing import Any

from opentelemetry.sdk.trace import TracerProvider

from telltale.sdk import MemorySink


def test_trace_and_span_ids_are_those_of_the_current_span(make_monitor: Any) -> None:
    tracer = TracerProvider().get_tracer("tests")
    monitor = make_monitor()

    @monitor.track
    def predict(x: int) -> int:
        return x

    @monitor.track(timeout=5)
    def predict_in_pool(x: int) -> int:
        return x

    @monitor.track
    async def predict_async(x: int) -> int:
        return x

    with tracer.start_as_current_span("request") as span:
        predict(1)
        predict_in_pool(2)
        asyncio.run(predict_async(3))
        with monitor.observe({"x": 4}) as obs:
            obs.set_output(4)
        context = span.get_span_context()
    predict(5)  # outside any span
    assert monitor.flush(timeout=10)
    sink = monitor.sink
    assert isinstance(sink, MemorySink)
    events = sink.events
    expected = (f"{context.trace_id:032x}", f"{context.span_id:016x}")
    assert [(e["trace_id"], e["span_id"]) for e in events[:4]] == [expected] * 4
    assert (events[4]["trace_id"], events[4]["span_id"]) == (None, None)
    assert len(expected[0]) == 32 and expected[0] == expected[0].lower()
