"""The dashboard tests run against one real collector (uvicorn on loopback) holding data sent
the way model services send it: events, labels, environments and resource samples over HTTP, a
reference uploaded as Parquet, alert rules applied over HTTP and evaluated by the server's own
engine with its clock injected. Built once per session (the tests only read it, except that each
module acknowledges or silences its own alert)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import numpy as np
import pytest
from _dashboard_data import Data, Running, ThreadServer, _events, _send, make_keys

from telltale.server import ServerSettings


@pytest.fixture(scope="session")
def data(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Data]:
    folder = tmp_path_factory.mktemp("dashboard")
    db = folder / "telltale.duckdb"
    keys = make_keys(db)
    settings = ServerSettings(
        db=str(db), port=0, decode_processes=0, alert_interval_s=0, monitor_interval_s=3600
    )
    now = datetime.now(timezone.utc).replace(second=0, microsecond=0) + timedelta(minutes=1)
    rng = np.random.default_rng(7)
    with ThreadServer(settings) as server:
        running = Running(f"http://127.0.0.1:{server.port}", db, keys, server.app)
        collector = server.app.state.collector
        server.app.state.dashboard_clock = lambda: now
        collector.alerts.clock = lambda: now
        found = Data(running, now, _events(now - timedelta(minutes=1), rng))
        _send(found, rng)
        report = collector.alerts.check("fraud")
        assert {a["alert"]["rule"] if "alert" in a else a.get("rule") for a in report.firing} >= {
            "errors",
            "slow",
        }, report.to_dict()
        yield found
