"""The collector goes away (kill -9) while the service keeps logging: the SDK spools, and when a
new collector comes up on the same file and port every event arrives, none twice — or, with a
spool too small for the outage, exactly the oldest spooled batches are dropped and counted; and
a full buffer drops calls and the collector exports the count."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from _collector import ChildServer, free_port, make_keys
from _e2e import new_monitor, serving, stored_ids, wait_for
from prometheus_client.parser import text_string_to_metric_families

from telltale.sdk import HttpSink, Monitor

OUTAGE_S = 30.0  # the requirement, in real time


def _predictor(monitor: Monitor, logged: list[str]) -> Callable[[int], None]:
    """A function logging one call (with 32 random bytes, so batches do not compress away)."""

    @monitor.track
    def predict(features: dict[str, Any]) -> float:
        return float(features["amount"]) / 100

    def log_one(i: int) -> None:
        predict({"amount": float(i % 100), "note": secrets.token_hex(32)})
        event_id = monitor.last_event_id()
        assert event_id is not None
        logged.append(event_id)

    return log_one


def _windows_total(url: str, key: str) -> int:
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}) as client:
        response = client.get("/v1/models/fraud/windows", params={"interval": "day"})
    assert response.status_code == 200, response.text
    return sum(window["events"] for window in response.json()["windows"])


@pytest.mark.slow
def test_a_30_s_outage_loses_nothing_and_stores_nothing_twice(
    tmp_path: Path, monitors: list[Monitor], servers: list[ChildServer]
) -> None:
    db = tmp_path / "telltale.duckdb"
    keys = make_keys(db)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    servers.append(ChildServer(db, port).start())
    spool = tmp_path / "spool"
    # backoff_max bounds the wait after the server returns (the default, 60 s, would too)
    sink = HttpSink(url, keys["fraud:ingest"], spool_dir=spool, backoff_max=1.0)
    monitor = new_monitor(monitors, sink=sink)  # batches of up to 1000 events, every second
    logged: list[str] = []
    log_one = _predictor(monitor, logged)

    def log_for(seconds: float) -> None:
        stop = time.monotonic() + seconds
        while time.monotonic() < stop:
            log_one(len(logged))
            time.sleep(0.004)  # a steady trickle of calls, like a service

    log_for(0.5)
    wait_for(lambda: monitor.stats().sent == len(logged), 20, "delivery before the outage")
    before = len(logged)

    servers[-1].kill()
    outage_started = time.monotonic()
    held = 0
    while time.monotonic() - outage_started < OUTAGE_S:
        log_for(0.5)
        held = max(held, monitor.stats().spooled)
    stats = monitor.stats()
    assert stats.sent == before, "events were acknowledged while the server was down"
    assert held > 0.8 * (len(logged) - before), "the outage was not spooled"
    batches = len(list(spool.glob("*-events-*.arrows")))
    assert batches >= 10, "the spool files are not on disk"
    # Calls are batched while the server is away too: about one batch per flush interval (1 s),
    # not one per call or two made while the previous batch was being spooled.
    assert batches <= OUTAGE_S + 10, f"{batches} batches spooled in {OUTAGE_S} s"

    servers.append(ChildServer(db, port).start())  # same file, same port
    log_for(0.5)  # the service carries on; new events queue behind the spooled ones
    total = len(logged)
    wait_for(
        lambda: (s := monitor.stats()).sent == total and s.spooled == 0,
        30,
        "the spooled events to be delivered",
        poll=0.1,
    )
    stats = monitor.stats()
    assert (stats.captured, stats.dropped, stats.spool_dropped, stats.failed) == (total, 0, 0, 0)
    assert list(spool.glob("*.arrows")) == []
    assert _windows_total(url, keys["fraud:read"]) == total
    servers[-1].stop()

    ids = stored_ids(db)
    assert len(ids) == len(set(ids)) == total, "an event was lost or stored twice"
    assert set(ids) == set(logged)
    assert total - before > 3000  # thirty seconds of logging went through the spool


def test_an_outage_longer_than_the_spool_drops_the_oldest_and_counts_them(
    tmp_path: Path, monitors: list[Monitor]
) -> None:
    db = tmp_path / "telltale.duckdb"
    keys = make_keys(db)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    spool = tmp_path / "spool"
    # A batch of 100 events is about 9 KB: the spool holds three of them.
    sink = HttpSink(
        url, keys["fraud:ingest"], spool_dir=spool, spool_max_bytes=30_000, backoff_max=1.0
    )
    monitor = new_monitor(monitors, sink=sink, batch_size=100, flush_interval=60)
    logged: list[str] = []
    log_one = _predictor(monitor, logged)

    def log_batch() -> None:  # exactly one batch of 100 events
        for _ in range(100):
            log_one(len(logged))
        monitor.flush(timeout=10)

    with serving(db, port, keys):
        log_batch()
        assert monitor.stats().sent == 100
    # The collector is gone (stopped here, in-process, to keep this test short).
    for _ in range(10):
        log_batch()
    stats = monitor.stats()
    outage = logged[100:]
    assert stats.sent == 100 and stats.captured == 1100
    assert 0 < stats.spooled <= 400, stats
    assert stats.spool_dropped == 1000 - stats.spooled, stats
    assert stats.spool_dropped % 100 == 0
    assert sum(path.stat().st_size for path in spool.glob("*.arrows")) <= 30_000
    dropped = stats.spool_dropped

    with serving(db, port, keys):  # back, on the same file and port
        wait_for(
            lambda: monitor.stats().spooled == 0, 30, "the spooled events to be delivered", poll=0.1
        )
    stats = monitor.stats()
    assert (stats.sent, stats.spool_dropped, stats.failed, stats.dropped) == (
        1100 - dropped,
        dropped,
        0,
        0,
    )
    assert stats.captured == stats.sent + stats.spooled + stats.spool_dropped + stats.failed

    ids = stored_ids(db)
    assert len(ids) == len(set(ids)), "an event was stored twice"
    # Exactly the oldest spooled batches are gone; everything before and after them is there.
    assert set(logged) - set(ids) == set(outage[:dropped])
    assert set(ids) == set(logged[:100]) | set(outage[dropped:])


def test_a_full_buffer_drops_calls_and_the_count_reaches_metrics(
    tmp_path: Path, monitors: list[Monitor]
) -> None:
    with serving(tmp_path / "telltale.duckdb") as collector:
        # Ten calls fit; the background thread only drains on flush (interval 60 s).
        monitor = new_monitor(
            monitors,
            endpoint=collector.url,
            api_key=collector.keys["fraud:ingest"],
            spool_dir=tmp_path / "spool",
            capacity=10,
            flush_interval=60,
        )
        predict = monitor.track(lambda features: features["amount"] / 100)
        results = [predict({"amount": float(i)}) for i in range(50)]
        assert results == [i / 100 for i in range(50)]  # dropped calls are not failed calls
        assert monitor.flush(timeout=20)
        stats = monitor.stats()
        assert (stats.captured, stats.sent, stats.dropped) == (10, 10, 40)
        with collector.client("fraud:read") as client:
            text = client.get("/metrics").text
    dropped = {
        sample.labels["instance"]: sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "telltale_client_dropped_events"
    }
    assert list(dropped.values()) == [40]
