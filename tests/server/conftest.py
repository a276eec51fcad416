"""Fixtures: a collector with keys for two projects, served by uvicorn on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from _collector import Running, ThreadServer, make_keys

from telltale.server import ServerSettings


@pytest.fixture
def collector(tmp_path: Path) -> Iterator[Running]:
    """Decodes on threads (``decode_processes=0``): spawning a worker costs each test ~1 s.
    The worker processes are tested by test_decoders.py and every ChildServer test."""
    db = tmp_path / "telltale.duckdb"
    keys = make_keys(db)
    with ThreadServer(ServerSettings(db=str(db), port=0, decode_processes=0)) as server:
        yield Running(f"http://127.0.0.1:{server.port}", db, keys, server.app)
