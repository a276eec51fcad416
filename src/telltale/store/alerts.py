"""What the alerting keeps in the telltale DuckDB file: the applied rules document, each alert's
state, the history of transitions, silences, deliveries and actions.

Like :class:`~telltale.store.keys.KeyStore`, it takes anything with a ``cursor()`` (a DuckDB
connection or an :class:`~telltale.store.events.EventStore`) and runs each operation on a cursor
of its own, so it may be used from several threads. Records go in and out as JSON-ready dicts;
their meaning belongs to :mod:`telltale.alerts`.

>>> import duckdb
>>> alerts = AlertStore(duckdb.connect())
>>> alerts.save_document("fraud", "rules: []", "2026-11-22T14:00:00+00:00")
>>> alerts.document("fraud")["text"]
'rules: []'
>>> alerts.put_state("fraud", "abc", {"rule": "r", "state": "firing"})
>>> alerts.states("fraud")
{'abc': {'rule': 'r', 'state': 'firing'}}
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timezone
from typing import Any

from telltale.errors import ConfigError, NotFoundError
from telltale.store.engine import fetch_all

__all__ = ["AlertStore"]

_DDL = (
    """CREATE TABLE IF NOT EXISTS tt_alert_documents (
        project VARCHAR PRIMARY KEY, text VARCHAR NOT NULL, applied VARCHAR NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS tt_alert_state (
        project VARCHAR NOT NULL, fingerprint VARCHAR NOT NULL, record VARCHAR NOT NULL,
        PRIMARY KEY (project, fingerprint))""",
    """CREATE TABLE IF NOT EXISTS tt_alert_history (
        project VARCHAR NOT NULL, ts VARCHAR NOT NULL, fingerprint VARCHAR NOT NULL,
        rule VARCHAR NOT NULL, event VARCHAR NOT NULL, record VARCHAR NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS tt_alert_silences (
        project VARCHAR NOT NULL, id VARCHAR NOT NULL, record VARCHAR NOT NULL,
        PRIMARY KEY (project, id))""",
    """CREATE TABLE IF NOT EXISTS tt_alert_deliveries (
        project VARCHAR NOT NULL, ts VARCHAR NOT NULL, fingerprint VARCHAR NOT NULL,
        channel VARCHAR NOT NULL, ok BOOLEAN NOT NULL, record VARCHAR NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS tt_alert_actions (
        project VARCHAR NOT NULL, id VARCHAR NOT NULL, status VARCHAR NOT NULL,
        record VARCHAR NOT NULL, PRIMARY KEY (project, id))""",
)


def _dumps(record: dict[str, Any]) -> str:
    return json.dumps(record, allow_nan=False, separators=(",", ":"), default=str)


class AlertStore:
    """Alerting state of every project, in the telltale file."""

    def __init__(self, connection: Any) -> None:
        self._connection = connection
        for statement in _DDL:
            self._run(statement)

    def _run(self, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
        return fetch_all(self._connection, sql, params)

    # ---- the rules document ----------------------------------------------------------------

    def save_document(self, project: str, text: str, applied: str) -> None:
        """Keep ``text`` (the rules file as applied) as the project's rules."""
        self._run(
            "INSERT OR REPLACE INTO tt_alert_documents VALUES (?, ?, ?)", [project, text, applied]
        )

    def document(self, project: str) -> dict[str, str] | None:
        rows = self._run(
            "SELECT text, applied FROM tt_alert_documents WHERE project = ?", [project]
        )
        return {"text": rows[0][0], "applied": rows[0][1]} if rows else None

    def projects(self) -> list[str]:
        """Projects that have rules."""
        return [r[0] for r in self._run("SELECT project FROM tt_alert_documents ORDER BY 1")]

    # ---- state and history -----------------------------------------------------------------

    def states(self, project: str) -> dict[str, dict[str, Any]]:
        rows = self._run(
            "SELECT fingerprint, record FROM tt_alert_state WHERE project = ? ORDER BY 1", [project]
        )
        return {fingerprint: json.loads(record) for fingerprint, record in rows}

    def put_state(self, project: str, fingerprint: str, record: dict[str, Any]) -> None:
        self._run(
            "INSERT OR REPLACE INTO tt_alert_state VALUES (?, ?, ?)",
            [project, fingerprint, _dumps(record)],
        )

    def drop_state(self, project: str, fingerprint: str) -> None:
        self._run(
            "DELETE FROM tt_alert_state WHERE project = ? AND fingerprint = ?",
            [project, fingerprint],
        )

    def add_history(self, project: str, ts: str, event: str, alert: dict[str, Any]) -> None:
        self._run(
            "INSERT INTO tt_alert_history VALUES (?, ?, ?, ?, ?, ?)",
            [
                project,
                ts,
                alert.get("fingerprint", ""),
                alert.get("rule", ""),
                event,
                _dumps(alert),
            ],
        )

    def history(
        self,
        project: str,
        *,
        rule: str | None = None,
        fingerprint: str | None = None,
        since: str | None = None,
        limit: int = 100,
    ) -> list[dict[str, Any]]:
        """Transitions, newest first: ``{"ts", "event", "alert"}``."""
        _check_limit(limit)
        sql = "SELECT ts, event, record FROM tt_alert_history WHERE project = ?"
        params: list[Any] = [project]
        for column, value in (("rule", rule), ("fingerprint", fingerprint)):
            if value is not None:
                sql += f" AND {column} = ?"
                params.append(value)
        if since is not None:
            sql += " AND ts >= ?"
            params.append(since)
        sql += " ORDER BY ts DESC, rowid DESC LIMIT ?"
        params.append(limit)
        return [{"ts": t, "event": e, "alert": json.loads(r)} for t, e, r in self._run(sql, params)]

    # ---- silences --------------------------------------------------------------------------

    def add_silence(self, project: str, record: dict[str, Any]) -> str:
        silence_id = record.get("id") or uuid.uuid4().hex[:12]
        record = {**record, "id": silence_id}
        self._run(
            "INSERT OR REPLACE INTO tt_alert_silences VALUES (?, ?, ?)",
            [project, silence_id, _dumps(record)],
        )
        return str(silence_id)

    def silences(self, project: str) -> list[dict[str, Any]]:
        rows = self._run(
            "SELECT record FROM tt_alert_silences WHERE project = ? ORDER BY id", [project]
        )
        return [json.loads(r[0]) for r in rows]

    def remove_silence(self, project: str, silence_id: str) -> None:
        rows = self._run(
            "DELETE FROM tt_alert_silences WHERE project = ? AND id = ? RETURNING id",
            [project, silence_id],
        )
        if not rows:
            raise NotFoundError(
                f"no silence {silence_id!r} in project {project!r}; `telltale alerts silences` lists them"
            )

    # ---- deliveries and actions ------------------------------------------------------------

    def add_delivery(self, project: str, record: dict[str, Any]) -> None:
        self._run(
            "INSERT INTO tt_alert_deliveries VALUES (?, ?, ?, ?, ?, ?)",
            [
                project,
                record.get("last_attempt") or _now(),
                record.get("fingerprint", ""),
                record.get("channel", ""),
                bool(record.get("ok")),
                _dumps(record),
            ],
        )

    def deliveries(self, project: str, *, limit: int = 100) -> list[dict[str, Any]]:
        """Deliveries, newest first."""
        _check_limit(limit)
        rows = self._run(
            "SELECT record FROM tt_alert_deliveries WHERE project = ? "
            "ORDER BY ts DESC, rowid DESC LIMIT ?",
            [project, limit],
        )
        return [json.loads(r[0]) for r in rows]

    def put_action(self, project: str, record: dict[str, Any]) -> str:
        action_id = record.get("id") or uuid.uuid4().hex[:12]
        record = {**record, "id": action_id}
        self._run(
            "INSERT OR REPLACE INTO tt_alert_actions VALUES (?, ?, ?, ?)",
            [project, action_id, record.get("status", ""), _dumps(record)],
        )
        return str(action_id)

    def actions(self, project: str, *, status: str | None = None) -> list[dict[str, Any]]:
        sql = "SELECT record FROM tt_alert_actions WHERE project = ?"
        params: list[Any] = [project]
        if status is not None:
            sql += " AND status = ?"
            params.append(status)
        return [json.loads(r[0]) for r in self._run(sql + " ORDER BY rowid", params)]

    def action(self, project: str, action_id: str) -> dict[str, Any]:
        rows = self._run(
            "SELECT record FROM tt_alert_actions WHERE project = ? AND id = ?", [project, action_id]
        )
        if not rows:
            raise NotFoundError(
                f"no action {action_id!r} in project {project!r}; `telltale alerts actions` lists them"
            )
        record: dict[str, Any] = json.loads(rows[0][0])
        return record


def _now() -> str:
    return datetime.now(timezone.utc).isoformat()


def _check_limit(limit: Any) -> None:
    if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= 100_000:
        raise ConfigError(f"limit must be an integer from 1 to 100,000, got {limit!r}")
