"""Labels and feedback sent later through the SDK are joined on the collector: its performance
endpoint gives the accuracy (and macro F1) scikit-learn computes on the same pairs."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest
from _e2e import new_monitor, serving, wait_for
from sklearn.metrics import accuracy_score, f1_score

from telltale.sdk import HttpSink, Monitor
from telltale.store.events import EventStore

CLASSES = ("fraud", "legit", "review")


def test_labels_sent_later_give_the_accuracy_sklearn_gives(
    monitors: list[Monitor], tmp_path: Path
) -> None:
    db = tmp_path / "telltale.duckdb"
    rng = np.random.default_rng(11)
    with serving(db) as collector:
        monitor = new_monitor(
            monitors,
            endpoint=collector.url,
            api_key=collector.keys["fraud:ingest"],
            spool_dir=tmp_path / "spool",
        )

        @monitor.track
        def predict(features: dict[str, float]) -> str:
            return CLASSES[int(features["amount"] * 7) % 3]

        begin = datetime.now(timezone.utc)
        predicted: dict[str, str] = {}
        for amount in rng.uniform(0, 100, size=300):
            y = predict({"amount": float(amount), "hour": int(amount) % 24})
            event_id = monitor.last_event_id()
            assert event_id is not None
            predicted[event_id] = y
        assert monitor.flush(timeout=20), monitor.stats()

        # Later: ground truth for 240 of them, right about 60 % of the time; feedback for 50.
        ids = list(predicted)
        truth: dict[str, str] = {}
        for event_id in ids[:240]:
            right = rng.random() < 0.6
            truth[event_id] = predicted[event_id] if right else str(rng.choice(CLASSES))
            monitor.log_label(event_id, truth[event_id])
        feedback = {event_id: float(rng.integers(0, 2)) for event_id in ids[100:150]}
        for event_id, score in feedback.items():
            monitor.log_feedback(event_id, score)
        assert monitor.flush(timeout=20), monitor.stats()
        # A correction for 30 labels: the later one replaces the first.
        for event_id in ids[:30]:
            truth[event_id] = CLASSES[(CLASSES.index(truth[event_id]) + 1) % 3]
            monitor.log_label(event_id, truth[event_id])
        assert monitor.flush(timeout=20), monitor.stats()
        stats = monitor.stats()
        assert (stats.sent, stats.labels_sent, stats.labels_failed) == (300, 240 + 50 + 30, 0)

        end = datetime.now(timezone.utc) + timedelta(seconds=1)
        with collector.client("fraud:read") as client:
            response = client.get(
                "/v1/models/fraud/performance",
                params={
                    "start": (begin - timedelta(seconds=1)).isoformat(),
                    "end": end.isoformat(),
                    "interval": "day",
                },
            )
        assert response.status_code == 200, response.text
        body = response.json()

    assert body["task"] == "classification"
    windows = [w for w in body["windows"] if w["events"]]
    assert sum(w["events"] for w in windows) == 300
    assert sum(w["labelled"] for w in windows) == 240
    y_true = [truth[event_id] for event_id in truth]
    y_pred = [predicted[event_id] for event_id in truth]
    expected_accuracy = accuracy_score(y_true, y_pred)
    assert 0.3 < expected_accuracy < 0.9  # neither trivial nor random: a wrong join shows
    served = sum(w["accuracy"] * w["labelled"] for w in windows if w["labelled"]) / 240
    assert served == pytest.approx(expected_accuracy, abs=1e-12)
    if len([w for w in windows if w["labelled"]]) == 1:  # F1 does not add up across windows
        (window,) = [w for w in windows if w["labelled"]]
        assert window["coverage"] == pytest.approx(240 / 300, abs=1e-12)
        assert window["macro_f1"] == pytest.approx(
            f1_score(y_true, y_pred, average="macro"), abs=1e-12
        )

    # Feedback is joined by event id too: read it from the file the server has closed.
    store = EventStore(str(db), read_only=True)
    try:
        cursor = store.cursor()
        rows = cursor.execute(
            "SELECT CAST(event_id AS VARCHAR), score FROM tt_feedback WHERE project = 'fraud'"
        ).fetchall()
        labels = cursor.execute(
            "SELECT CAST(event_id AS VARCHAR), label, matched FROM tt_labels "
            "WHERE project = 'fraud'"
        ).fetchall()
        cursor.close()
    finally:
        store.close()
    assert dict(rows) == feedback and len(rows) == len(feedback)
    assert {event_id: label for event_id, label, _ in labels} == truth
    assert len(labels) == len(truth) and all(matched for _, _, matched in labels)


def test_labels_arrive_while_the_service_keeps_serving(
    monitors: list[Monitor], tmp_path: Path
) -> None:
    """Steady traffic must not hold labels back: they reach the server within a few flush
    intervals while calls keep coming, without anyone calling flush()."""
    db = tmp_path / "telltale.duckdb"
    with serving(db) as collector:
        monitor = new_monitor(
            monitors,
            endpoint=collector.url,
            api_key=collector.keys["fraud:ingest"],
            spool_dir=tmp_path / "spool",
        )

        @monitor.track
        def predict(features: dict[str, float]) -> int:
            return int(features["amount"]) % 2

        begin = datetime.now(timezone.utc) - timedelta(seconds=1)
        labelled: list[str] = []

        def served_labels() -> int:
            end = datetime.now(timezone.utc) + timedelta(seconds=1)
            with collector.client("fraud:read") as client:
                response = client.get(
                    "/v1/models/fraud/performance",
                    params={"start": begin.isoformat(), "end": end.isoformat(), "interval": "day"},
                )
            if response.status_code == 404:  # no event stored yet
                return 0
            assert response.status_code == 200, response.text
            return sum(w["labelled"] for w in response.json()["windows"])

        sink = monitor.sink
        assert isinstance(sink, HttpSink)
        started = time.monotonic()
        calls = 0
        last_label = deadline = float("inf")
        next_poll = started + 0.5
        while True:
            predict({"amount": float(calls)})
            calls += 1
            if calls % 50 == 0 and len(labelled) < 10:
                event_id = monitor.last_event_id()
                assert event_id is not None
                labelled.append(event_id)
                monitor.log_label(event_id, calls % 2)
                if len(labelled) == 10:
                    last_label = time.monotonic()
                    deadline = last_label + 10.0  # ten flush intervals
            if time.monotonic() >= next_poll:
                next_poll = time.monotonic() + 0.5
                seen = served_labels()
                if seen == 10:
                    break
                assert time.monotonic() < deadline, (
                    f"{seen} of 10 labels reached the server 10 s after the last was logged, "
                    f"while the service kept calling ({calls} calls, {monitor.stats()})"
                )
            time.sleep(0.001)  # a busy service: a call every millisecond or so
        elapsed = time.monotonic() - started
        assert time.monotonic() - last_label > 0.5  # calls went on after the last label
        wait_for(lambda: monitor.stats().labels_sent == 10, 10, "the labels' answer")
        # Steady traffic is sent in batches, one request of events (and one of labels) per
        # flush interval, not a request for every few calls.
        assert sink.requests <= 2 * elapsed + 4, (sink.requests, elapsed, calls)
