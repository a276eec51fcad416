"""kill -9 the collector while clients ingest: every acknowledged event is there after restart."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import httpx
import pytest
from _collector import ChildServer, free_port, make_keys
from _server_events import json_body, make_events

from telltale.store.events import EventStore

JSON = {"Content-Type": "application/json"}


def _stored_ids(db: Path, project: str = "fraud", model: str = "fraud") -> list[str]:
    store = EventStore(str(db), read_only=True)
    try:
        table = store.model_table(project, model).table_name
        cursor = store.cursor()
        rows = cursor.execute(f"SELECT CAST(event_id AS VARCHAR) FROM {table}").fetchall()
        cursor.close()
    finally:
        store.close()
    return [row[0] for row in rows]


def _client_loop(
    url: str, key: str, seed: int, acknowledged: list[str], stop: threading.Event
) -> None:
    batch = 0
    with httpx.Client(
        base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=10
    ) as client:
        while not stop.is_set():
            events = make_events(200, seed=seed * 100_000 + batch)
            batch += 1
            try:
                response = client.post("/v1/events", content=json_body(events), headers=JSON)
            except httpx.TransportError:
                return  # the server is gone: what was not acknowledged may or may not be stored
            if response.status_code == 200:
                acknowledged.extend(e["event_id"] for e in events)


@pytest.mark.slow
@pytest.mark.parametrize("round_", range(3))
def test_kill_9_loses_no_acknowledged_event(tmp_path: Path, round_: int) -> None:
    db = tmp_path / "telltale.duckdb"
    keys = make_keys(db)
    port = free_port()
    server = ChildServer(db, port).start()
    url = f"http://127.0.0.1:{port}"
    acknowledged: list[list[str]] = [[], [], []]
    stop = threading.Event()
    clients = [
        threading.Thread(
            target=_client_loop, args=(url, keys["fraud:ingest"], round_ * 10 + i, acks, stop)
        )
        for i, acks in enumerate(acknowledged)
    ]
    for client in clients:
        client.start()
    time.sleep(2.0 + 0.37 * round_)  # kill at a different point of the write cycle each round
    server.kill()
    stop.set()
    for client in clients:
        client.join(30)
    sent = [event_id for acks in acknowledged for event_id in acks]
    assert len(sent) >= 200, "no batch was acknowledged before the kill"

    # Restart on the same file: it opens (the WAL is replayed) and serves again.
    restarted = ChildServer(db, port).start()
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {keys['fraud:read']}"}) as c:
        assert c.get("/v1/models").status_code == 200
    restarted.stop()

    stored = _stored_ids(db)
    assert len(stored) == len(set(stored)), "an event was stored twice"
    missing = set(sent) - set(stored)
    assert missing == set(), f"{len(missing)} acknowledged events lost"


@pytest.mark.slow
def test_resending_after_a_restart_stores_nothing_twice(tmp_path: Path) -> None:
    db = tmp_path / "telltale.duckdb"
    keys = make_keys(db)
    port = free_port()
    events = make_events(1000, seed=42)
    headers = {**JSON, "Authorization": f"Bearer {keys['fraud:ingest']}"}
    server = ChildServer(db, port).start()
    first = httpx.post(
        f"http://127.0.0.1:{port}/v1/events", content=json_body(events), headers=headers
    )
    assert first.json() == {"accepted": 1000, "duplicates": 0}
    server.kill()
    server = ChildServer(db, port).start()
    again = httpx.post(
        f"http://127.0.0.1:{port}/v1/events", content=json_body(events), headers=headers
    )
    server.stop()
    assert again.json() == {"accepted": 0, "duplicates": 1000}
    assert sorted(_stored_ids(db)) == sorted(e["event_id"] for e in events)
