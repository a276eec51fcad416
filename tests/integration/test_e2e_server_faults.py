"""A collector that answers 500s, garbage, half answers, resets or nothing at all: the tracked
functions return and raise exactly what they would without telltale, their calls do not wait for
the server, and every event is kept in the spool (none failed, none lost)."""

from __future__ import annotations

import asyncio
import math
import threading
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from _e2e import new_monitor, wait_for
from _faulty_server import MODES, FaultyServer

from telltale.sdk import HttpSink, Monitor, checks

NAN = float("nan")
ARRAY = np.array([0.2, 0.7, 0.1])
RESULTS: dict[int, Any] = {0: 0.25, 1: NAN, 2: None, 3: {"label": "cat", "score": 1.7}, 4: ARRAY}
FAILURES: dict[int, BaseException] = {
    5: ValueError("model failure"),
    6: KeyError("amount"),
    7: TimeoutError("the model's own timeout"),
    8: ZeroDivisionError("division by zero"),
}
INPUTS = [{"amount": float(i), "key": i} for i in range(9)]


def model(features: dict[str, Any]) -> Any:
    key = features["key"]
    if key in FAILURES:
        raise FAILURES[key]
    return RESULTS[key]


async def async_model(features: dict[str, Any]) -> Any:
    await asyncio.sleep(0)
    return model(features)


def batch_model(rows: list[dict[str, Any]]) -> list[Any]:
    if any(row["key"] in FAILURES for row in rows):
        raise FAILURES[next(row["key"] for row in rows if row["key"] in FAILURES)]
    return [RESULTS[row["key"]] for row in rows]


Outcome = tuple[str, Any, str | None]


def outcome(call: Callable[[], Any]) -> Outcome:
    """What a call gave: ("return", object, None) or ("raise", exception object, the name of
    the function the traceback ends in)."""
    try:
        return "return", call(), None
    except Exception as error:
        traceback = error.__traceback__
        assert traceback is not None
        while traceback.tb_next is not None:
            traceback = traceback.tb_next
        assert error.__cause__ is None and error.__context__ is None
        return "raise", error, traceback.tb_frame.f_code.co_name


def assert_same(tracked: Outcome, bare: Outcome) -> None:
    # the very same object returned or raised, raised from the same place
    assert tracked[0] == bare[0] and tracked[2] == bare[2], (tracked, bare)
    assert tracked[1] is bare[1], (tracked, bare)


@pytest.fixture(params=MODES)
def faulty(request: pytest.FixtureRequest, monitors: list[Monitor]) -> Iterator[FaultyServer]:
    # Requested after `monitors`, so it stops first: hung requests end, monitors close quickly.
    with FaultyServer(request.param) as server:
        yield server


def test_results_and_exceptions_are_untouched_when_the_server_misbehaves(
    monitors: list[Monitor], faulty: FaultyServer, tmp_path: Path
) -> None:
    hang = faulty.mode == "hang"
    sink = HttpSink(
        faulty.url,
        "tt_key",
        spool_dir=tmp_path / "spool",
        timeout=30.0 if hang else 2.0,  # hang: the background thread stays blocked throughout
        backoff_base=0.01,
        backoff_max=0.05,
    )
    monitor = new_monitor(monitors, sink=sink, batch_size=10, flush_interval=0.05)
    validate = [checks.not_none(), checks.finite(), checks.in_range(0, 1)]
    tracked = monitor.track(validate=validate)(model)
    tracked_async = monitor.track(validate=validate)(async_model)
    tracked_batch = monitor.track(batch=True, validate=validate)(batch_model)

    def compare_all() -> int:
        calls = 0
        for features in INPUTS:
            assert_same(outcome(partial(tracked, features)), outcome(partial(model, features)))
            assert_same(
                outcome(partial(asyncio.run, tracked_async(features))),
                outcome(partial(asyncio.run, async_model(features))),
            )
            calls += 2
        for rows in (INPUTS[:5], INPUTS[3:7], INPUTS[:1]):
            mine = outcome(partial(tracked_batch, rows))
            bare = outcome(partial(batch_model, rows))
            if bare[0] == "return":
                assert mine[0] == "return" and len(mine[1]) == len(bare[1])
                assert all(a is b for a, b in zip(mine[1], bare[1], strict=True))
            else:
                assert_same(mine, bare)
            calls += len(rows)
        return calls

    calls = compare_all()
    wait_for(lambda: faulty.requests >= 2 or faulty.hanging, 20, "the server to be tried")
    if hang:  # the background thread is stuck in a request: calls must not wait for it
        done = threading.Event()
        errors: list[BaseException] = []

        def again() -> None:
            try:
                compare_all()
            except BaseException as error:
                errors.append(error)
            done.set()

        threading.Thread(target=again, daemon=True).start()
        assert done.wait(20), "tracked calls waited for the hung server"
        assert errors == []
        assert faulty.hanging >= 1  # still hung all along
        return
    # Keep calling while the spool is retried against the faulty server.
    for _ in range(3):
        calls += compare_all()
        monitor.flush(timeout=10)
    assert not monitor.flush(timeout=10)  # nothing was acknowledged: still waiting
    stats = monitor.stats()
    assert stats.captured == calls and stats.pending == 0
    assert (stats.sent, stats.failed, stats.dropped, stats.spool_dropped) == (0, 0, 0, 0)
    assert stats.spooled == calls, stats
    assert faulty.requests >= 2
    assert math.isnan(RESULTS[1])  # nothing touched the objects the model returns
    assert RESULTS[3] == {"label": "cat", "score": 1.7} and list(ARRAY) == [0.2, 0.7, 0.1]
