"""The audit log: who read which project's event data, when, and how.

Every read of event data through the server (queries, drift, comparisons, key listings) is
written here before the answer leaves, so the log is never behind what was disclosed. Scrapes of
``/metrics`` are not logged: they carry aggregates only, and would flood the log every few seconds.

>>> import duckdb
>>> log = AuditLog(duckdb.connect())
>>> log.record(project="fraud-team", key_id="0a1b2c3d4e5f", action="GET /v1/models", status=200)
>>> [entry.action for entry in log.entries("fraud-team")]
['GET /v1/models']
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from telltale.errors import ConfigError
from telltale.store.engine import fetch_all

__all__ = ["AuditEntry", "AuditLog"]

_DDL = """
CREATE TABLE IF NOT EXISTS audit_log (
    ts TIMESTAMPTZ NOT NULL,
    project VARCHAR NOT NULL,
    key_id VARCHAR NOT NULL,
    action VARCHAR NOT NULL,
    query VARCHAR NOT NULL,
    status INTEGER NOT NULL,
    client VARCHAR NOT NULL
)
"""

_MAX_TEXT = 2048  # a query string is logged, but not without bound


@dataclass(frozen=True)
class AuditEntry:
    ts: datetime
    project: str
    key_id: str
    action: str
    query: str
    status: int
    client: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "ts": self.ts.isoformat(),
            "project": self.project,
            "key_id": self.key_id,
            "action": self.action,
            "query": self.query,
            "status": self.status,
            "client": self.client,
        }


class AuditLog:
    """Append-only log in the telltale DuckDB file; safe to use from several threads."""

    def __init__(self, connection: Any) -> None:
        self._connection = connection
        self._run(_DDL)

    def _run(self, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
        return fetch_all(self._connection, sql, params)

    def record(
        self,
        *,
        project: str,
        key_id: str,
        action: str,
        status: int,
        query: str = "",
        client: str = "",
    ) -> None:
        self._run(
            "INSERT INTO audit_log VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                datetime.now(timezone.utc),
                project,
                key_id,
                action[:_MAX_TEXT],
                query[:_MAX_TEXT],
                int(status),
                client[:_MAX_TEXT],
            ],
        )

    def entries(
        self, project: str, *, since: datetime | None = None, limit: int = 1000
    ) -> list[AuditEntry]:
        """The project's entries, newest first."""
        if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= 1_000_000:
            raise ConfigError(f"limit must be an integer from 1 to 1,000,000, got {limit!r}")
        # epoch microseconds: fetching TIMESTAMPTZ as datetime would make DuckDB import pytz
        sql = (
            "SELECT epoch_us(ts), project, key_id, action, query, status, client "
            "FROM audit_log WHERE project = ?"
        )
        params: list[Any] = [project]
        if since is not None:
            sql += " AND ts >= ?"
            params.append(since)
        sql += " ORDER BY ts DESC LIMIT ?"
        params.append(limit)
        return [
            AuditEntry(
                ts=datetime.fromtimestamp(row[0] / 1e6, tz=timezone.utc),
                project=row[1],
                key_id=row[2],
                action=row[3],
                query=row[4],
                status=row[5],
                client=row[6],
            )
            for row in self._run(sql, params)
        ]
