"""HttpSink against a real HTTP server on 127.0.0.1: encodings, retries, backoff, spool."""

from __future__ import annotations

import gzip
import json
import os
import random
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from telltale.errors import ConfigError
from telltale.sdk import Batch, HttpSink, ManualClock
from telltale.sdk.spool import Spool, SpoolEntry


class Ceiling(random.Random):
    """Full jitter that always draws the top of its range, so the schedule is exact."""

    def uniform(self, a: float, b: float) -> float:
        return b


def event(number: int) -> dict[str, Any]:
    return {
        "event_id": f"00000000-0000-8000-8000-{number:012d}",
        "ts": "2026-11-22T14:02:00.123456Z",
        "model": "fraud",
        "version": "1.4.0",
        "environment_id": "5f1d9c0a2b3e4d6f",
        "inputs": {"amount": 12.5 + number, "country": "FR"},
        "outputs": {"prediction": 1, "score": 0.93},
        "latency_ms": 1.27,
        "status": "ok",
        "error": None,
        "validation": [],
        "trace_id": None,
        "span_id": None,
        "segment": {"region": "eu"},
        "batch_size": 1,
    }


def batch(*numbers: int) -> Batch:
    return Batch("events", [event(n) for n in numbers], client={"dropped": 0})


_open: list[HttpSink] = []


@pytest.fixture(autouse=True)
def _close_sinks() -> Any:
    yield
    while _open:
        _open.pop().close()


def make_sink(receiver: Any, tmp_path: Path, clock: ManualClock, **options: Any) -> HttpSink:
    options.setdefault("spool_dir", tmp_path / "spool")
    sink = HttpSink(receiver.url, "tt_secret", clock=clock, random=Ceiling(), **options)
    _open.append(sink)
    return sink


def received_ids(receiver: Any) -> list[str]:
    return [e["event_id"] for e in receiver.events()]


def test_events_go_as_arrow_with_the_protocol_columns(
    make_monitor: Any, receiver: Any, tmp_path: Path
) -> None:
    monitor = make_monitor(endpoint=receiver.url, api_key="tt_secret", spool_dir=tmp_path)

    @monitor.track
    def predict(features: dict[str, Any]) -> dict[str, Any]:
        return {"prediction": 1, "score": 0.93}

    predict({"amount": 12.5, "country": "FR", "n_items": 3})
    monitor.log_label(monitor.last_event_id() or "", 1)
    monitor.log_feedback(monitor.last_event_id() or "", 0.0)
    assert monitor.flush(timeout=10)
    events, labels, feedback = receiver.received
    assert events.path == "/v1/events"
    assert events.headers["authorization"] == "Bearer tt_secret"
    assert events.headers["user-agent"] == "telltale-python/0.1.0"
    table = events.table
    assert table is not None
    assert table.schema.names == [
        "event_id",
        "ts",
        "model",
        "version",
        "environment_id",
        "latency_ms",
        "status",
        "error",
        "validation",
        "trace_id",
        "span_id",
        "segment",
        "batch_size",
        "input.amount",
        "input.country",
        "input.n_items",
        "output.prediction",
        "output.score",
    ]
    types = {field.name: field.type for field in table.schema}
    assert types["ts"] == pa.timestamp("us", tz="UTC")
    assert types["validation"] == pa.list_(pa.string())
    assert types["segment"] == pa.map_(pa.string(), pa.string())
    assert types["batch_size"] == pa.int32()
    assert (types["input.amount"], types["input.country"], types["input.n_items"]) == (
        pa.float64(),
        pa.string(),
        pa.int64(),
    )
    (row,) = table.to_pylist()
    assert (row["input.amount"], row["output.score"], row["status"]) == (12.5, 0.93, "ok")
    metadata = events.metadata
    (environment,) = metadata["telltale.environments"]
    assert environment["environment_id"] == row["environment_id"]
    assert set(environment) == {"environment_id", "python", "platform", "cpu", "gpu", "packages"}
    assert metadata["telltale.client"]["sdk"] == "telltale-python/0.1.0"
    assert metadata["telltale.client"]["dropped"] == 0
    assert metadata["telltale.resources"] == []
    assert labels.path == "/v1/labels" and labels.headers["content-encoding"] == "gzip"
    assert labels.body == {
        "labels": [{"event_id": row["event_id"], "label": 1, "ts": "2027-01-15T08:00:00.000000Z"}]
    }
    assert feedback.body == {
        "feedback": [
            {"event_id": row["event_id"], "score": 0.0, "ts": "2027-01-15T08:00:00.000000Z"}
        ]
    }
    # each fingerprint is listed once, in the first batch that uses it (the test process may
    # load new libraries between flushes, which makes a new fingerprint: that is the point)
    for _ in range(3):
        predict({"amount": 1.0})
        assert monitor.flush(timeout=10)
    posts = [item for item in receiver.received if item.path == "/v1/events"]
    listed = [e["environment_id"] for item in posts for e in item.metadata["telltale.environments"]]
    assert len(listed) == len(set(listed))
    assert {e["environment_id"] for e in receiver.events()} == set(listed)
    assert posts[-1].metadata["telltale.environments"] == []


def test_json_encoding_is_the_protocol_body(
    receiver: Any, tmp_path: Path, clock: ManualClock
) -> None:
    sink = make_sink(receiver, tmp_path, clock, encoding="json")
    sink.send(
        Batch("events", [event(1)], environments=[], resources=[{"ts": "x"}], client={"dropped": 2})
    )
    (item,) = receiver.received
    assert item.headers["content-type"] == "application/json"
    assert item.body == {
        "events": [event(1)],
        "environments": [],
        "resources": [{"ts": "x"}],
        "client": {"dropped": 2},
    }
    assert sink.counters.sent["events"] == 1


def test_nan_and_infinity_travel_in_json(receiver: Any, tmp_path: Path, clock: ManualClock) -> None:
    sink = make_sink(receiver, tmp_path, clock, encoding="json")
    row = event(1)
    row["outputs"] = {"prediction": float("nan"), "score": float("inf")}
    sink.send(Batch("events", [row]))
    (received,) = receiver.events()
    assert str(received["outputs"]["prediction"]) == "nan"
    assert received["outputs"]["score"] == float("inf")


def test_a_5xx_spools_and_retries_after_the_backoff_in_order(
    receiver: Any, tmp_path: Path, clock: ManualClock
) -> None:
    sink = make_sink(receiver, tmp_path, clock, backoff_base=0.5)
    receiver.script.extend([503, 500])
    sink.send(batch(1))  # 503: spooled, retry at +0.5 s
    assert sink.counters.spooled["events"] == 1
    assert len(list((tmp_path / "spool").glob("*.arrows"))) == 1
    sink.send(batch(2))  # queued behind it, not sent before it
    assert receiver.attempts == 1
    clock.advance(0.49)
    sink.retry()
    assert receiver.attempts == 1  # still backing off
    clock.advance(0.01)
    sink.retry()  # 500: next retry at +1.0 s
    assert receiver.attempts == 2
    clock.advance(0.99)
    sink.retry()
    assert receiver.attempts == 2
    clock.advance(0.01)
    sink.retry()
    assert received_ids(receiver) == [event(1)["event_id"], event(2)["event_id"]]
    assert sink.counters.sent["events"] == 2 and sink.counters.spooled["events"] == 0
    assert list((tmp_path / "spool").iterdir()) == []


def test_retry_after_is_honoured(receiver: Any, tmp_path: Path, clock: ManualClock) -> None:
    sink = make_sink(receiver, tmp_path, clock, backoff_base=0.5)
    receiver.retry_after = "30"
    receiver.script.append(429)
    sink.send(batch(1))
    receiver.retry_after = None
    clock.advance(29.9)
    sink.retry()
    assert receiver.attempts == 1
    clock.advance(0.1)
    sink.retry()
    assert received_ids(receiver) == [event(1)["event_id"]]


def test_a_4xx_is_not_retried_and_counted_as_failed(
    receiver: Any, tmp_path: Path, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    sink = make_sink(receiver, tmp_path, clock)
    receiver.script.extend([401, 422])
    sink.send(batch(1, 2))
    sink.send(batch(3))
    clock.advance(3600)
    sink.retry(force=True)
    assert receiver.attempts == 2
    assert sink.counters.failed["events"] == 3 and sink.counters.spooled["events"] == 0
    assert receiver.events() == []
    messages = [record.getMessage() for record in caplog.records]
    assert any("refused 2 events with 401" in message for message in messages)


def test_a_dropped_connection_is_retried(receiver: Any, tmp_path: Path, clock: ManualClock) -> None:
    sink = make_sink(receiver, tmp_path, clock)
    sink.send(batch(1))  # opens a kept-alive connection
    receiver.script.extend(["close", "close"])
    sink.send(batch(2))  # the kept-alive connection fails, a fresh one fails too: spooled
    assert sink.counters.spooled["events"] == 1
    sink.retry(force=True)
    assert received_ids(receiver) == [event(1)["event_id"], event(2)["event_id"]]


def test_a_server_that_goes_away_gets_everything_when_it_comes_back(
    make_monitor: Any, receiver: Any, tmp_path: Path, clock: ManualClock
) -> None:
    monitor = make_monitor(endpoint=receiver.url, api_key="tt_secret", spool_dir=tmp_path)

    @monitor.track
    def predict(x: int) -> int:
        return x

    receiver.stop()
    for round_ in range(3):
        predict(round_)
        assert not monitor.flush(timeout=10)  # refused: spooled
    stats = monitor.stats()
    assert (stats.spooled, stats.sent, stats.failed) == (3, 0, 0)
    receiver.start()  # same port
    clock.advance(3600)
    assert monitor.flush(timeout=10)
    assert [e["input.x"] for e in receiver.events()] == [0, 1, 2]
    stats = monitor.stats()
    assert (stats.captured, stats.spooled, stats.sent) == (3, 0, 3)


def test_the_spool_is_bounded_and_drops_the_oldest(
    receiver: Any, tmp_path: Path, clock: ManualClock
) -> None:
    size = len(gzip.compress(json.dumps({"events": [event(1)]}).encode()))
    sink = make_sink(receiver, tmp_path, clock, encoding="json", spool_max_bytes=size * 2 + 100)
    receiver.stop()
    for number in range(4):
        sink.send(batch(number))
    assert sink.counters.spool_dropped["events"] == 2
    assert sink.counters.spooled["events"] == 2
    receiver.start()
    sink.retry(force=True)
    assert received_ids(receiver) == [event(2)["event_id"], event(3)["event_id"]]


def test_an_unwritable_spool_holds_batches_in_memory(
    receiver: Any, tmp_path: Path, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    blocker = tmp_path / "spool"
    blocker.write_text("a file where the spool directory should be")
    sink = make_sink(receiver, tmp_path, clock, spool_dir=blocker)
    receiver.stop()
    sink.send(batch(1))
    assert sink.counters.spooled["events"] == 1
    assert any("cannot write the spool directory" in r.getMessage() for r in caplog.records)
    receiver.start()
    sink.retry(force=True)
    assert received_ids(receiver) == [event(1)["event_id"]]


def test_batches_spooled_by_a_dead_process_are_delivered(
    receiver: Any, tmp_path: Path, clock: ManualClock
) -> None:
    spool_dir = tmp_path / "spool"
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    body = gzip.compress(json.dumps({"events": [event(7)]}).encode())
    spool_dir.mkdir()
    name = f"{1:020d}-{int(dead.stdout)}-abcd0123-000001-events-1.json.gz"
    (spool_dir / name).write_bytes(body)
    sink = make_sink(receiver, tmp_path, clock)
    sink.retry()
    assert received_ids(receiver) == [event(7)["event_id"]]
    assert list(spool_dir.iterdir()) == []


def test_a_live_process_keeps_its_own_spool(tmp_path: Path) -> None:
    mine = Spool(tmp_path, max_bytes=1 << 20)
    mine.put(SpoolEntry("events", 1, b"x", "application/json", "gzip"))
    other = Spool(tmp_path, max_bytes=1 << 20)
    assert other.adopt_orphans() == 0
    assert len(mine) == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("ftp://host", "k"), "endpoint='ftp://host' is not an http(s) URL"),
        (("http://127.0.0.1:1", ""), "no API key for the telltale server"),
    ],
)
def test_bad_sink_options(
    args: tuple[str, str], message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TELLTALE_API_KEY", raising=False)
    with pytest.raises(ConfigError, match=re.escape(message)):
        HttpSink(*args)


def test_a_full_disk_keeps_spooled_batches_in_memory(
    receiver: Any, tiny_disk: Path, clock: ManualClock
) -> None:
    spool_dir = tiny_disk / "spool"
    sink = make_sink(receiver, tiny_disk, clock, spool_dir=spool_dir)
    if not os.path.ismount(tiny_disk):  # fallback: a file where the directory should be
        spool_dir.write_text("not a directory")
    receiver.stop()
    big = event(1)
    big["inputs"]["note"] = os.urandom(200_000).hex()  # does not compress, does not fit
    sink.send(Batch("events", [big]))
    sink.send(batch(2))
    assert sink.counters.spooled["events"] == 2
    assert sink.spool.last_error is not None
    receiver.start()
    sink.retry(force=True)
    assert received_ids(receiver) == [event(1)["event_id"], event(2)["event_id"]]
    assert sink.counters.sent["events"] == 2


def test_a_column_batch_is_sent_without_making_rows_of_it(
    receiver: Any, tmp_path: Path, clock: ManualClock
) -> None:
    """Rows made from the columns cost ~6 µs an event (20 features) on the background thread,
    for nothing when the body is Arrow."""
    from telltale.sdk.event_columns import EventColumns

    columns = EventColumns.from_rows([event(n) for n in range(5)])
    sent = Batch("events", columns=columns, client={"dropped": 0})
    make_sink(receiver, tmp_path, clock).send(sent)
    assert received_ids(receiver) == [event(n)["event_id"] for n in range(5)]
    assert sent._rows is None
