"""The audit log keeps every read, per project, newest first."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import duckdb
import pytest

from telltale.errors import ConfigError
from telltale.store.audit import AuditLog


def test_entries_are_per_project_newest_first(tmp_path: Path) -> None:
    log = AuditLog(duckdb.connect(str(tmp_path / "t.duckdb")))
    before = datetime.now(timezone.utc) - timedelta(seconds=1)
    log.record(project="a", key_id="k1", action="GET /v1/models", status=200, client="127.0.0.1")
    log.record(project="b", key_id="k2", action="GET /v1/models", status=200)
    log.record(project="a", key_id="k1", action="GET /v1/x", query="q=é", status=404)
    entries = log.entries("a")
    assert [(e.action, e.query, e.status) for e in entries] == [
        ("GET /v1/x", "q=é", 404),
        ("GET /v1/models", "", 200),
    ]
    assert all(e.ts >= before for e in entries)
    assert len(log.entries("a", limit=1)) == 1
    assert log.entries("a", since=datetime.now(timezone.utc) + timedelta(hours=1)) == []


def test_huge_query_strings_are_cut_not_refused(tmp_path: Path) -> None:
    log = AuditLog(duckdb.connect(str(tmp_path / "t.duckdb")))
    log.record(project="a", key_id="k", action="GET /v1/m", query="x" * 100_000, status=200)
    assert len(log.entries("a")[0].query) == 2048


@pytest.mark.parametrize("limit", [0, -1, 10**7, True])
def test_bad_limits_are_refused(tmp_path: Path, limit: int) -> None:
    with pytest.raises(ConfigError, match="limit"):
        AuditLog(duckdb.connect(str(tmp_path / "t.duckdb"))).entries("a", limit=limit)
