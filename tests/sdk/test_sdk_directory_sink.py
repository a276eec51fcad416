"""DirectorySink: Parquet segments with exactly the protocol's flattened table; disk full."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from telltale.errors import ConfigError
from telltale.sdk import DirectorySink, checks


def test_events_labels_and_feedback_are_parquet_files(make_monitor: Any, tmp_path: Path) -> None:
    monitor = make_monitor(directory=tmp_path / "events", segment={"region": "eu"})

    @monitor.track(validate=[checks.in_range(0, 1)])
    def predict(features: dict[str, Any]) -> list[float]:
        return [0.25, 0.75]

    predict({"amount": 12.5, "country": "FR", "vip": True})
    event_id = monitor.last_event_id() or ""
    monitor.log_label(event_id, "fraud")
    monitor.log_feedback(event_id, 0.5)
    assert monitor.flush(timeout=10)
    files = sorted(path.name for path in (tmp_path / "events").iterdir())
    assert [name.split("-")[0] for name in files] == ["events", "feedback", "labels"]
    assert all(name.endswith(".parquet") and not name.startswith(".") for name in files)
    events = pq.read_table(next((tmp_path / "events").glob("events-*.parquet")))
    assert events.schema.names == [
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
        "input.vip",
        "output.prediction",
        "output.score",
        "output.probabilities",
    ]
    types = [field.type for field in events.schema]
    assert types[:13] == [
        pa.string(),
        pa.timestamp("us", tz="UTC"),
        pa.string(),
        pa.string(),
        pa.string(),
        pa.float64(),
        pa.string(),
        pa.string(),
        pa.list_(pa.string()),
        pa.string(),
        pa.string(),
        pa.map_(pa.string(), pa.string()),
        pa.int32(),
    ]
    assert types[13:] == [
        pa.float64(),
        pa.string(),
        pa.bool_(),
        pa.int64(),
        pa.float64(),
        pa.string(),
    ]
    (row,) = events.to_pylist()
    assert row["event_id"] == event_id
    assert row["segment"] == [("region", "eu")]
    assert (row["output.prediction"], row["output.score"]) == (1, 0.75)
    assert row["output.probabilities"] == "[0.25, 0.75]"
    metadata = events.schema.metadata
    assert json.loads(metadata[b"telltale.client"])["sdk"] == "telltale-python/0.1.0"
    (environment,) = json.loads(metadata[b"telltale.environments"])
    assert environment["environment_id"] == row["environment_id"]
    labels = pq.read_table(next((tmp_path / "events").glob("labels-*.parquet"))).to_pylist()
    assert [(r["event_id"], r["label"]) for r in labels] == [(event_id, "fraud")]
    feedback = pq.read_table(next((tmp_path / "events").glob("feedback-*.parquet"))).to_pylist()
    assert [(r["event_id"], r["score"]) for r in feedback] == [(event_id, 0.5)]
    assert monitor.stats().sent == 1 and monitor.stats().labels_sent == 2


def test_a_file_in_place_of_the_directory_is_refused(tmp_path: Path) -> None:
    blocker = tmp_path / "events"
    blocker.write_text("")
    with pytest.raises(ConfigError, match="is a file; pass a directory"):
        DirectorySink(blocker)


def test_a_full_disk_is_counted_not_raised(
    make_monitor: Any, tiny_disk: Path, caplog: pytest.LogCaptureFixture
) -> None:
    target = tiny_disk / "events"
    monitor = make_monitor(directory=target)
    if not os.path.ismount(tiny_disk):  # fallback: a file where the directory should be
        target.write_text("not a directory")
    result = object()

    @monitor.track
    def predict(x: str) -> object:
        return result

    assert predict("x" * 200_000) is result
    assert not monitor.flush(timeout=10) or monitor.stats().failed == 1
    stats = monitor.stats()
    assert (stats.captured, stats.sent, stats.failed) == (1, 0, 1)
    assert any("could not take 1 events" in r.getMessage() for r in caplog.records)
    assert not any(path.name.endswith(".tmp") for path in tiny_disk.rglob("*"))
