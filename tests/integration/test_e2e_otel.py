"""OpenTelemetry → SDK → collector → DuckDB: a stored event carries the ids of the span its call
ran in, formatted as OpenTelemetry formats them; a call outside any span carries none."""

from __future__ import annotations

import asyncio
import random
import threading
from pathlib import Path

from _e2e import new_monitor, serving, stored
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.id_generator import IdGenerator
from opentelemetry.trace import Span, format_span_id, format_trace_id

from telltale.sdk import Monitor


class MixedIds(IdGenerator):
    """Small ids for the first two traces and their spans (their hex forms need leading zeros),
    then random ones with every digit significant."""

    def __init__(self) -> None:
        self.random = random.Random(7)
        self.traces = [0x2A, 0x1_0000_0000]
        self.spans = [0x7, 0xABC, 0x1, 0xFFFF_FFFF]

    def generate_trace_id(self) -> int:
        return self.traces.pop(0) if self.traces else self.random.getrandbits(128) | 1 << 127

    def generate_span_id(self) -> int:
        return self.spans.pop(0) if self.spans else self.random.getrandbits(64) | 1 << 63


def test_stored_events_carry_the_span_of_their_call(
    monitors: list[Monitor], tmp_path: Path
) -> None:
    db = tmp_path / "telltale.duckdb"
    expected: dict[str, tuple[str | None, str | None]] = {}  # event id → (trace id, span id)
    with serving(db) as collector:
        monitor = new_monitor(
            monitors,
            endpoint=collector.url,
            api_key=collector.keys["fraud:ingest"],
            spool_dir=tmp_path / "spool",
        )
        _record_calls(monitor, expected)
        assert monitor.flush(timeout=20), monitor.stats()
        assert monitor.stats().sent == len(expected) == 1 + 4 * 10 + 1
    padded = [ids for ids in expected.values() if ids[0] and ids[0].startswith("0" * 20)]
    assert len(padded) == 2 * 9, "the zero-padded ids were not exercised"
    assert {span for _, span in padded} == {
        "0000000000000007",
        "0000000000000abc",
        "0000000000000001",
        "00000000ffffffff",
    }

    rows = stored(db, "CAST(event_id AS VARCHAR), trace_id, span_id")
    assert len(rows) == len(expected), "events were lost or stored twice"
    assert {event_id: (trace, span) for event_id, trace, span in rows} == expected


def _record_calls(monitor: Monitor, expected: dict[str, tuple[str | None, str | None]]) -> None:
    """Calls of every kind inside and outside spans; ``expected`` gets each call's ids."""
    tracer = TracerProvider(id_generator=MixedIds()).get_tracer("e2e")

    @monitor.track
    def predict(x: int) -> float:
        return x / 10

    @monitor.track(timeout=5)  # runs on the monitor's thread pool
    def predict_in_pool(x: int) -> float:
        return x / 10

    @monitor.track
    async def predict_async(x: int) -> float:
        return x / 10

    def ids_of(span: Span) -> tuple[str, str]:
        context = span.get_span_context()
        return format_trace_id(context.trace_id), format_span_id(context.span_id)

    def call(kind: str, x: int, ids: tuple[str | None, str | None]) -> None:
        event_id: str | None
        if kind == "pool":
            predict_in_pool(x)
            event_id = monitor.last_event_id()
        elif kind == "async":

            async def run() -> str | None:
                await predict_async(x)
                return monitor.last_event_id()  # the task's own id

            event_id = asyncio.run(run())
        elif kind == "observe":
            with monitor.observe({"x": x}) as obs:
                obs.set_output(x / 10)
            event_id = obs.event_id
        else:
            predict(x)
            event_id = monitor.last_event_id()
        assert event_id is not None and event_id not in expected
        expected[event_id] = ids

    kinds = ["plain", "pool", "async", "observe"]
    call("plain", 0, (None, None))  # before any span
    for round_ in range(4):  # the first two spans have small (zero-padded) ids
        with tracer.start_as_current_span(f"request-{round_}") as outer:
            outer_ids = ids_of(outer)
            for i, kind in enumerate(kinds):
                call(kind, i, outer_ids)
            with tracer.start_as_current_span("inner") as inner:
                inner_ids = ids_of(inner)
                assert inner_ids[0] == outer_ids[0] and inner_ids[1] != outer_ids[1]
                for i, kind in enumerate(kinds):
                    call(kind, 10 + i, inner_ids)
            call("plain", 20, outer_ids)  # back in the outer span
        call("plain", 30, (None, None))  # between spans

    # A thread started inside a span does not inherit it (context variables are per thread).
    thread_ids: list[str | None] = []

    def in_thread() -> None:
        predict(40)
        thread_ids.append(monitor.last_event_id())

    with tracer.start_as_current_span("not-for-the-thread"):
        worker = threading.Thread(target=in_thread)
        worker.start()
        worker.join(10)
    (thread_event,) = thread_ids
    assert thread_event is not None
    expected[thread_event] = (None, None)
