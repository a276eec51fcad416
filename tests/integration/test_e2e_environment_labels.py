"""Named environments: ``Monitor(environment={"name": ...})`` travels in the fingerprint to the
collector, is stored with it, and names the environment on the dashboard's Environments page,
for both wire encodings (Arrow and JSON)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import httpx
import pytest
from _collector import make_keys
from _e2e import new_monitor, serving, wait_for

from telltale.sdk import HttpSink, Monitor
from telltale.store.events import EventStore


@pytest.mark.parametrize("encoding", ["arrow", "json"])
def test_two_replicas_told_apart_by_their_labels(
    monitors: list[Monitor], tmp_path: Path, encoding: str
) -> None:
    db = tmp_path / "telltale.duckdb"
    keys = make_keys(db)
    labels = {
        "a": {"name": "gpu-a", "region": "eu-west-1"},
        "b": {"name": "gpu-b ☃ <b>", "region": "eu-west-1"},  # unicode and markup are data
    }
    with serving(db, keys=keys) as collector:
        for replica, environment in labels.items():
            sink = HttpSink(
                collector.url,
                keys["fraud:ingest"],
                encoding=encoding,
                spool_dir=tmp_path / f"spool-{replica}",
            )
            monitor = new_monitor(monitors, sink=sink, environment=environment)
            predict = monitor.track(lambda features: features["amount"] > 10)
            for amount in range(20):
                predict({"amount": float(amount)})
            assert monitor.flush(timeout=20), monitor.stats()

        def listed() -> list[dict[str, object]]:
            response = httpx.get(
                f"{collector.url}/environments.json",
                headers={"Authorization": f"Bearer {keys['fraud:read']}"},
            )
            response.raise_for_status()
            found: list[dict[str, object]] = response.json()["environments"]
            return found if len(found) == 2 else []

        environments = wait_for(listed, 20, "both environments on the Environments page")
        page = httpx.get(
            f"{collector.url}/environments",
            headers={"Authorization": f"Bearer {keys['fraud:read']}"},
        ).text
    by_name = {e["name"]: e for e in environments}
    assert set(by_name) == {"gpu-a", "gpu-b ☃ <b>"}
    assert by_name["gpu-a"]["labels"] == labels["a"]
    # the same process: only the labels differ, and they are in the hash
    assert by_name["gpu-a"]["environment_id"] != by_name["gpu-b ☃ <b>"]["environment_id"]
    for environment in environments:  # the id is the hash of the fingerprint, labels in it
        body = {k: environment[k] for k in ("python", "platform", "cpu", "gpu", "packages")}
        body["labels"] = environment["labels"]
        digest = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:16]
        assert environment["environment_id"] == digest
    assert "gpu-b ☃ &lt;b&gt;" in page and "gpu-b ☃ <b>" not in page
    store = EventStore(db, read_only=True)
    try:
        events = store.models("fraud")[0]["events"]
        stored = {e["environment_id"]: e["labels"] for e in store.environments("fraud")}
    finally:
        store.close()
    assert events == 40
    assert sorted(stored.values(), key=str) == sorted(labels.values(), key=str)
