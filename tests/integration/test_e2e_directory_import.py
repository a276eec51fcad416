"""No server at first: the SDK writes Parquet segments, `telltale import` loads them into a
database, and `telltale serve` on that database answers the windows and performance queries
with the counts of what was logged."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest
from _collector import ChildServer, free_port, make_keys
from _e2e import new_monitor, serving
from sklearn.metrics import accuracy_score

from telltale.cli.importer import import_directory
from telltale.sdk import Monitor, checks


def _import(directory: Path, db: Path) -> str:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "telltale.cli.main",
            "import",
            *(str(directory), "--db", str(db)),
            *("--project", "fraud"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def _serve_and_query(
    db: Path, servers: list[ChildServer], begin: datetime, end: datetime
) -> dict[str, Any]:
    keys = make_keys(db)
    port = free_port()
    servers.append(ChildServer(db, port).start())
    params = {"start": begin.isoformat(), "end": end.isoformat(), "interval": "minute"}
    answers: dict[str, Any] = {}
    with httpx.Client(
        base_url=f"http://127.0.0.1:{port}",
        headers={"Authorization": f"Bearer {keys['fraud:read']}"},
        timeout=30,
    ) as client:
        for name, path in (
            ("windows", "/v1/models/fraud/windows"),
            ("performance", "/v1/models/fraud/performance"),
            ("models", "/v1/models"),
        ):
            response = client.get(path, params=params if name != "models" else None)
            assert response.status_code == 200, response.text
            answers[name] = response.json()
    servers[-1].stop()
    return answers


def test_directory_sink_import_then_serve(
    tmp_path: Path, monitors: list[Monitor], servers: list[ChildServer]
) -> None:
    events_dir = tmp_path / "events"
    monitor = new_monitor(monitors, directory=events_dir, batch_size=100)

    @monitor.track(validate=[checks.in_range(0, 1)])
    def predict(features: dict[str, Any]) -> int:
        if features["amount"] % 13 == 0:
            raise ValueError("no class for this amount")
        return int(features["amount"]) % 3  # class 2 is out of range: invalid

    begin = datetime.now(timezone.utc)
    statuses: Counter[str] = Counter()
    predicted: dict[str, int] = {}
    truth: dict[str, int] = {}
    for amount in range(1, 251):
        try:
            y = predict({"amount": float(amount), "country": "FR" if amount % 2 else "DE"})
        except ValueError:
            statuses["error"] += 1
            continue
        statuses["invalid" if y == 2 else "ok"] += 1
        event_id = monitor.last_event_id()
        assert event_id is not None
        predicted[event_id] = y
        if amount % 4 == 0:
            truth[event_id] = (amount // 4) % 2
            monitor.log_label(event_id, truth[event_id])
    assert monitor.flush(timeout=20)
    end = datetime.now(timezone.utc) + timedelta(seconds=1)
    assert statuses == {"ok": 154, "error": 19, "invalid": 77}
    assert len(list(events_dir.glob("events-*.parquet"))) >= 3  # batches of 100
    assert len(list(events_dir.glob("labels-*.parquet"))) >= 1

    db = tmp_path / "telltale.duckdb"
    out = _import(events_dir, db)
    assert out.startswith(f"imported 250 events (0 already stored), {len(truth)} labels"), out
    again = import_directory(events_dir, db, "fraud")  # a second import stores nothing twice
    assert (again["events"], again["duplicates"]) == (0, 250), again

    answers = _serve_and_query(db, servers, begin, end)
    served = [w for w in answers["windows"]["windows"] if w["events"]]
    assert sum(w["events"] for w in served) == 250
    assert sum(w["error_rate"] * w["events"] for w in served) == pytest.approx(19, abs=1e-9)
    assert sum(w["invalid_rate"] * w["events"] for w in served) == pytest.approx(77, abs=1e-9)
    (model,) = answers["models"]["models"]
    assert model["model"] == "fraud" and model["events"] == 250
    performance = answers["performance"]
    assert performance["task"] == "classification"
    labelled = [w for w in performance["windows"] if w["labelled"]]
    assert sum(w["labelled"] for w in labelled) == len(truth) == 58
    accuracy = accuracy_score(list(truth.values()), [predicted[e] for e in truth])
    served_accuracy = sum(w["accuracy"] * w["labelled"] for w in labelled) / len(truth)
    assert served_accuracy == pytest.approx(accuracy, abs=1e-12)


def test_numeric_labels_survive_the_directory_path(tmp_path: Path, monitors: list[Monitor]) -> None:
    events_dir = tmp_path / "events"
    monitor = new_monitor(monitors, directory=events_dir)

    @monitor.track
    def predict(features: dict[str, float]) -> float:
        return features["amount"] * 1.5

    begin = datetime.now(timezone.utc)
    for amount in range(20):
        predict({"amount": float(amount)})
        event_id = monitor.last_event_id()
        assert event_id is not None
        monitor.log_label(event_id, amount * 1.5 + 0.5)
    assert monitor.flush(timeout=20)
    end = datetime.now(timezone.utc) + timedelta(seconds=1)
    db = tmp_path / "telltale.duckdb"
    assert import_directory(events_dir, db, "fraud")["labels"] == 20
    with serving(db) as collector, collector.client("fraud:read") as client:
        params = {"start": begin.isoformat(), "end": end.isoformat(), "interval": "day"}
        response = client.get("/v1/models/fraud/performance", params=params)
    assert response.status_code == 200, response.text
    windows = response.json()["windows"]
    assert sum(w["labelled"] for w in windows) == 20
    assert all(w["mae"] == pytest.approx(0.5) for w in windows if w["labelled"])
