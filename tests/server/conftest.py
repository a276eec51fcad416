"""Fixtures: a collector with keys for two projects, served by uvicorn on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from _collector import Running, ThreadServer, make_keys

from telltale.server import ServerSettings


@pytest.fixture
def collector(tmp_path: Path) -> Iterator[Running]:
    db = tmp_path / "telltale.duckdb"
    keys = make_keys(db)
    with ThreadServer(ServerSettings(db=str(db), port=0)) as server:
        yield Running(f"http://127.0.0.1:{server.port}", db, keys, server.app)
