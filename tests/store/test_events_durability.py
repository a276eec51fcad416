"""Acknowledged means durable: rows written survive a kill -9 of the process right after."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

from telltale.store.events import EventStore

CHILD = textwrap.dedent(
    """
    import sys, time, uuid
    from telltale.schema.wire import decode_events_json
    from telltale.store.events import EventStore

    store = EventStore(sys.argv[1])
    for k in range(3):
        rows = [
            {"event_id": str(uuid.UUID(int=k * 1000 + i + 1)), "ts": 1.8e9 + i, "model": "m",
             "inputs": {"x": float(i)}, "outputs": {"prediction": i % 2}, "latency_ms": 1.0}
            for i in range(500)
        ]
        print(store.write([("p", decode_events_json({"events": rows}))]), flush=True)
    print("written", flush=True)
    time.sleep(60)
    """
)


def test_rows_survive_kill_9_after_write_returns(tmp_path: Path) -> None:
    path = tmp_path / "t.duckdb"
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(path)], stdout=subprocess.PIPE, text=True
    )
    assert child.stdout is not None
    try:
        lines = [child.stdout.readline() for _ in range(4)]
        assert lines[-1].strip() == "written", lines
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.kill()
        child.wait(30)
        child.stdout.close()
    with EventStore(path) as store:
        (model,) = store.models("p")
        assert model["events"] == 1500
        cursor = store.cursor()
        assert cursor.execute(
            f"SELECT count(*) FROM {store.model_table('p', 'm').table_name}"
        ).fetchone() == (1500,)
        assert cursor.execute("SELECT sum(events) FROM tt_roll_serving").fetchone() == (1500,)
        cursor.close()
