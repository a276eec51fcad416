"""`track(timeout=..., fallback=...)`: the caller stops waiting; fallbacks are recorded as such."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest

from telltale.sdk import MemorySink, Monitor


def events_of(monitor: Monitor) -> list[dict[str, Any]]:
    assert monitor.flush(timeout=10)
    assert isinstance(monitor.sink, MemorySink)
    return monitor.sink.events


@pytest.fixture
def release() -> Any:
    gate = threading.Event()
    yield gate
    gate.set()  # let stuck pool threads finish


def test_sync_timeout_raises_timeout_error(make_monitor: Any, release: threading.Event) -> None:
    monitor = make_monitor()

    @monitor.track(timeout=0.05)
    def predict(x: int) -> int:
        release.wait(10)
        return x

    with pytest.raises(TimeoutError, match=r"predict did not answer within 0\.05 s"):
        predict(1)
    release.set()
    (event,) = events_of(monitor)
    assert event["status"] == "timeout"
    assert "did not answer within 0.05 s" in event["error"]
    assert event["inputs"] == {"x": 1} and event["outputs"] == {}


def test_sync_fallback_value_and_callable(make_monitor: Any, release: threading.Event) -> None:
    monitor = make_monitor()

    @monitor.track(timeout=0.05, fallback=0.5)
    def slow(x: int) -> float:
        release.wait(10)
        return 1.0

    @monitor.track(fallback=lambda x: -x)
    def broken(x: int) -> int:
        raise ZeroDivisionError("division by zero")

    assert slow(3) == 0.5
    assert broken(4) == -4
    release.set()
    first, second = events_of(monitor)
    assert (first["status"], first["outputs"]) == ("fallback", {"prediction": 0.5})
    assert "did not answer within 0.05 s" in first["error"]
    assert (second["status"], second["outputs"]) == ("fallback", {"prediction": -4})
    assert second["error"] == "ZeroDivisionError: division by zero"


def test_within_the_timeout_results_and_errors_pass_through(make_monitor: Any) -> None:
    monitor = make_monitor()
    result = object()
    failure = TimeoutError("the model's own timeout")

    @monitor.track(timeout=5)
    def fine() -> object:
        return result

    @monitor.track(timeout=5)
    def own_timeout() -> object:
        raise failure

    assert fine() is result
    with pytest.raises(TimeoutError) as caught:
        own_timeout()
    assert caught.value is failure  # the function's own TimeoutError is not taken for ours
    first, second = events_of(monitor)
    assert first["status"] == "ok"
    assert (second["status"], second["error"]) == ("error", "TimeoutError: the model's own timeout")


def test_a_failing_fallback_raises_its_own_error(make_monitor: Any) -> None:
    monitor = make_monitor()
    fallback_failure = LookupError("no default either")

    def fallback(x: int) -> int:
        raise fallback_failure

    @monitor.track(fallback=fallback)
    def predict(x: int) -> int:
        raise ValueError("bad")

    with pytest.raises(LookupError) as caught:
        predict(1)
    assert caught.value is fallback_failure
    (event,) = events_of(monitor)
    assert (event["status"], event["error"]) == ("error", "LookupError: no default either")


def test_the_timeout_thread_sees_the_callers_context(make_monitor: Any) -> None:
    import contextvars

    request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")
    monitor = make_monitor()

    @monitor.track(timeout=5)
    def predict() -> str:
        return request_id.get()

    request_id.set("r-42")
    assert predict() == "r-42"


def test_async_timeout_and_fallback(make_monitor: Any) -> None:
    monitor = make_monitor()
    cancelled: list[bool] = []

    @monitor.track(timeout=0.05)
    async def slow(x: int) -> int:
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            cancelled.append(True)
            raise
        return x

    async def default(x: int) -> int:
        return 100 + x

    @monitor.track(timeout=0.05, fallback=default)
    async def slow_with_fallback(x: int) -> int:
        await asyncio.sleep(10)
        return x

    own = KeyError("k")

    @monitor.track(timeout=5)
    async def failing() -> int:
        raise own

    async def main() -> None:
        with pytest.raises(TimeoutError, match=r"slow did not answer within 0\.05 s"):
            await slow(1)
        assert await slow_with_fallback(2) == 102
        with pytest.raises(KeyError) as caught:
            await failing()
        assert caught.value is own

    asyncio.run(main())
    assert cancelled == [True]
    first, second, third = events_of(monitor)
    assert first["status"] == "timeout"
    assert (second["status"], second["outputs"]) == ("fallback", {"prediction": 102})
    assert (third["status"], third["error"]) == ("error", "KeyError: 'k'")
