"""The decoder worker processes: they die with the server, and a dead one is replaced.

Real processes throughout: `telltale serve` as a child, its spawned decoder workers found with
psutil, and SIGKILL for the deaths.
"""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import psutil
import pytest
from _collector import ChildServer, ThreadServer, free_port, make_keys
from _server_events import json_body, make_events

from telltale.server import ServerSettings

JSON = {"Content-Type": "application/json"}


def _workers(server: ChildServer) -> list[psutil.Process]:
    assert server.process is not None
    return psutil.Process(server.process.pid).children(recursive=True)


def _gone(processes: list[psutil.Process], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not any(p.is_running() and p.status() != psutil.STATUS_ZOMBIE for p in processes):
            return True
        time.sleep(0.1)
    return False


def _post(url: str, key: str, seed: int) -> httpx.Response:
    events = make_events(50, seed=seed)
    return httpx.post(
        f"{url}/v1/events",
        content=json_body(events),
        headers={**JSON, "Authorization": f"Bearer {key}"},
        timeout=30,
    )


@pytest.mark.slow
def test_workers_leave_when_the_server_is_killed(tmp_path: Path) -> None:
    db = tmp_path / "t.duckdb"
    make_keys(db)
    server = ChildServer(db, free_port(), decode_processes=2).start()
    try:
        workers = _workers(server)
        assert len(workers) >= 2  # the spawn machinery may add a resource tracker
        server.kill()  # SIGKILL: no shutdown code runs in the server
        assert _gone(workers, 10), [p.cmdline() for p in workers if p.is_running()]
    finally:
        server.stop()


@pytest.mark.slow
def test_a_dead_decoder_is_replaced_and_nothing_is_half_stored(tmp_path: Path) -> None:
    db = tmp_path / "t.duckdb"
    keys = make_keys(db)
    port = free_port()
    server = ChildServer(db, port, decode_processes=1).start()
    url = f"http://127.0.0.1:{port}"
    try:
        assert _post(url, keys["fraud:ingest"], 1).json() == {"accepted": 50, "duplicates": 0}
        decoders = [p for p in _workers(server) if "resource_tracker" not in " ".join(p.cmdline())]
        for process in decoders:
            process.kill()
        assert _gone(decoders, 10)
        # the first request after the death may meet the broken pool (503, nothing stored);
        # from then on a new pool answers
        first = _post(url, keys["fraud:ingest"], 2)
        assert first.status_code in (200, 503), first.text
        if first.status_code == 503:
            assert first.json()["error"]["message"].endswith("send it again")
            assert _post(url, keys["fraud:ingest"], 2).json()["accepted"] == 50
        third = _post(url, keys["fraud:ingest"], 3).json()
        assert third == {"accepted": 50, "duplicates": 0}
        models = httpx.get(
            f"{url}/v1/models",
            headers={"Authorization": f"Bearer {keys['fraud:read']}"},
            timeout=10,
        ).json()
        assert sum(m["events"] for m in models["models"]) == 150
    finally:
        server.stop()


def test_bad_bodies_get_the_same_errors_from_a_worker_process(tmp_path: Path) -> None:
    """The worker's SchemaError crosses the process boundary with its row and field."""
    db = tmp_path / "t.duckdb"
    keys = make_keys(db)
    events = make_events(3, seed=4)
    events[2]["latency_ms"] = -1
    with ThreadServer(ServerSettings(db=str(db), port=0, decode_processes=1)) as server:
        response = httpx.post(
            f"http://127.0.0.1:{server.port}/v1/events",
            content=json_body(events),
            headers={**JSON, "Authorization": f"Bearer {keys['fraud:ingest']}"},
            timeout=30,
        )
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["details"] == {"row": 2, "field": "latency_ms"}
    assert "events[2].latency_ms" in error["message"]
