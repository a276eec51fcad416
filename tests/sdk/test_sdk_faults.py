"""Fault injection: whatever breaks inside monitoring, the model's results and exceptions are
exactly what they would be without telltale."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest

from telltale.sdk import Batch, MemorySink, Sink


class Unprintable:
    def __repr__(self) -> str:
        raise RuntimeError("repr exploded")

    __str__ = __repr__


class ExplodingSink(Sink):
    def write(self, batch: Batch) -> None:
        raise OSError("disk on fire")


class ExplodingSend(Sink):
    def send(self, batch: Batch) -> None:
        raise RuntimeError("send itself raised")


WEIRD_INPUTS = {
    "unprintable": Unprintable(),
    "a_set": {"b", "a"},
    "raw": b"\x00\xff",
    "huge": "x" * 100_000,
    "nested": {"deep": [1, {"x": float("nan")}]},
    "big_int": 1 << 70,
    "complex": 1 + 2j,
}


@pytest.mark.parametrize("sink_class", [ExplodingSink, ExplodingSend])
def test_a_failing_sink_never_reaches_the_caller(
    make_monitor: Any, sink_class: type, caplog: pytest.LogCaptureFixture
) -> None:
    monitor = make_monitor(sink=sink_class())
    result = object()

    @monitor.track
    def predict(x: int) -> object:
        return result

    with caplog.at_level(logging.ERROR, logger="telltale.sdk"):
        assert predict(1) is result
        monitor.flush(timeout=10)
    stats = monitor.stats()
    assert (stats.captured, stats.sent, stats.failed) == (1, 0, 1)
    assert len([r for r in caplog.records if r.name == "telltale.sdk"]) >= 1


def test_unserialisable_inputs_and_outputs_get_placeholders(make_monitor: Any) -> None:
    monitor = make_monitor()
    output = Unprintable()

    @monitor.track
    def predict(features: dict[str, Any]) -> Any:
        return output

    assert predict(WEIRD_INPUTS) is output
    assert monitor.flush(timeout=10)
    (event,) = monitor.sink.events
    inputs = event["inputs"]
    assert inputs["unprintable"] == "<unrepresentable Unprintable: RuntimeError>"
    assert inputs["a_set"] == '["a", "b"]'
    assert inputs["raw"] == "<2 bytes>"
    assert inputs["huge"] == "x" * 65_536 + "…<cut 34464 chars>"
    assert inputs["nested"] == '{"deep": [1, {"x": NaN}]}'
    assert inputs["big_int"] == str(1 << 70)
    assert inputs["complex"] == "(1+2j)"
    assert event["outputs"] == {"prediction": "<unrepresentable Unprintable: RuntimeError>"}


@pytest.mark.parametrize("sink_class", [ExplodingSink, MemorySink])
def test_results_and_exceptions_are_untouched_sync(make_monitor: Any, sink_class: type) -> None:
    monitor = make_monitor(sink=sink_class())
    result = object()
    failure = ValueError("model failure")

    def bad_check(output: Any) -> bool:
        raise TypeError("check failure")

    @monitor.track(validate=[bad_check], outputs=lambda y: 1 / 0)
    def ok(features: Any) -> object:
        return result

    @monitor.track(validate=[bad_check], inputs=lambda features: 1 / 0)
    def fails(features: Any) -> object:
        raise failure

    for _ in range(3):
        assert ok(WEIRD_INPUTS) is result
        with pytest.raises(ValueError) as caught:
            fails(WEIRD_INPUTS)
        assert caught.value is failure
        assert caught.value.__traceback__ is not None
        assert caught.traceback[-1].name == "fails"
        assert caught.value.__context__ is None and caught.value.__cause__ is None
    monitor.flush(timeout=10)
    if sink_class is MemorySink:
        events = monitor.sink.events
        assert [e["status"] for e in events] == ["invalid", "error"] * 3
        assert events[0]["outputs"] == {}  # the outputs= function raised: recorded without
        assert events[1]["inputs"] == {}  # the inputs= function raised: recorded without


@pytest.mark.parametrize("sink_class", [ExplodingSink, MemorySink])
def test_results_and_exceptions_are_untouched_async(make_monitor: Any, sink_class: type) -> None:
    monitor = make_monitor(sink=sink_class())
    result = object()
    failure = KeyError("async failure")

    @monitor.track(validate=[lambda y: 1 / 0])
    async def ok(features: Any) -> object:
        return result

    @monitor.track
    async def fails(features: Any) -> object:
        raise failure

    async def main() -> None:
        assert await ok(WEIRD_INPUTS) is result
        with pytest.raises(KeyError) as caught:
            await fails(WEIRD_INPUTS)
        assert caught.value is failure
        assert caught.traceback[-1].name == "fails"

    asyncio.run(main())
    monitor.flush(timeout=10)
    stats = monitor.stats()
    assert stats.captured == 2


def test_a_broken_opentelemetry_module_does_not_break_calls(
    make_monitor: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys
    import types

    broken = types.ModuleType("opentelemetry.context")
    monkeypatch.setitem(sys.modules, "opentelemetry.context", broken)  # no get_current
    monitor = make_monitor()
    result = object()

    @monitor.track
    def predict(x: int) -> object:
        return result

    assert predict(1) is result
    monkeypatch.undo()
    assert monitor.flush(timeout=10)
    # recording was skipped for that call, silently; the call itself was untouched
    assert monitor.stats().captured == 0
