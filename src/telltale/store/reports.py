"""Stored reports: the HTML and JSON of ``telltale report`` and ``telltale evaluate`` results,
kept in the telltale DuckDB file so the dashboard can list them and open them in place.

Like :class:`~telltale.store.alerts.AlertStore` it takes anything with a ``cursor()`` and runs
each operation on a cursor of its own. A report is immutable once stored: pushing it again
makes a new one (its ``created`` tells them apart).

>>> import duckdb
>>> reports = ReportStore(duckdb.connect())
>>> rid = reports.add("fraud", kind="report", title="week 47", html="<!doctype html><p>hi",
...                   document={"drift": {}})
>>> [(r["title"], r["kind"], r["has_json"]) for r in reports.list("fraud")]
[('week 47', 'report', True)]
>>> reports.get("fraud", rid)["html"]
'<!doctype html><p>hi'
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timezone
from typing import Any

from telltale.errors import ConfigError, NotFoundError
from telltale.store.engine import fetch_all

__all__ = ["KINDS", "MAX_TITLE", "ReportStore"]

KINDS = ("report", "evaluation")
"""``report``: ``telltale report`` (drift, quality, performance); ``evaluation``: ``telltale
evaluate`` (fine-grained evaluation and system comparison)."""
MAX_TITLE = 200

_DDL = """CREATE TABLE IF NOT EXISTS tt_reports (
    project VARCHAR NOT NULL,
    report_id VARCHAR NOT NULL,
    kind VARCHAR NOT NULL,
    title VARCHAR NOT NULL,
    created TIMESTAMPTZ NOT NULL,
    html VARCHAR NOT NULL,
    document VARCHAR,
    bytes BIGINT NOT NULL,
    PRIMARY KEY (project, report_id)
)"""
_LISTED = "report_id, kind, title, epoch_us(created), bytes, document IS NOT NULL"


class ReportStore:
    """Reports of every project, in the telltale file."""

    def __init__(self, connection: Any, *, create: bool = True) -> None:
        """``create=False`` for a file opened read-only (the table must then exist)."""
        self._connection = connection
        if create:
            self._run(_DDL)

    def _run(self, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
        return fetch_all(self._connection, sql, params)

    def add(
        self,
        project: str,
        *,
        kind: str,
        title: str,
        html: str,
        document: Any = None,
        created: datetime | None = None,
    ) -> str:
        """Keep a report; returns its id. ``document`` is the report's JSON (any JSON value)."""
        if kind not in KINDS:
            raise ConfigError(f"kind {kind!r} is not one of {list(KINDS)}")
        check_title(title)
        if not isinstance(html, str) or not html.strip():
            raise ConfigError("the report's HTML is empty; push the .html that telltale wrote")
        text = None
        if document is not None:
            text = json.dumps(document, allow_nan=False, ensure_ascii=False)
        report_id = uuid.uuid4().hex[:16]
        moment = created or datetime.now(timezone.utc)
        size = len(html.encode("utf-8")) + (len(text.encode("utf-8")) if text else 0)
        self._run(
            "INSERT INTO tt_reports VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [project, report_id, kind, title, moment, html, text, size],
        )
        return report_id

    def list(self, project: str, *, limit: int = 200) -> list[dict[str, Any]]:
        """The project's reports, newest first, without their bodies."""
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= 10_000:
            raise ConfigError(f"limit={limit!r} must be a whole number from 1 to 10000")
        rows = self._run(
            f"SELECT {_LISTED} FROM tt_reports WHERE project = ? "
            "ORDER BY created DESC, report_id LIMIT ?",
            [project, limit],
        )
        return [_listed(row) for row in rows]

    def get(self, project: str, report_id: str) -> dict[str, Any]:
        """One report with its ``html`` and ``document`` (None when pushed without JSON)."""
        rows = self._run(
            f"SELECT {_LISTED}, html, document FROM tt_reports WHERE project = ? AND report_id = ?",
            [project, report_id],
        )
        if not rows:
            raise NotFoundError(
                f"no report {report_id!r} in project {project!r}; `telltale reports list` "
                "shows them"
            )
        row = rows[0]
        return {
            **_listed(row[:6]),
            "html": row[6],
            "document": None if row[7] is None else json.loads(row[7]),
        }

    def delete(self, project: str, report_id: str) -> None:
        self.get(project, report_id)  # NotFoundError when absent
        self._run(
            "DELETE FROM tt_reports WHERE project = ? AND report_id = ?", [project, report_id]
        )


def check_title(title: Any) -> str:
    if (
        not isinstance(title, str)
        or not title.strip()
        or len(title) > MAX_TITLE
        or any(c in title for c in "\r\n\t\x00")
    ):
        raise ConfigError(
            f"a report title is one line of 1 to {MAX_TITLE} characters, e.g. 'fraud, week 47'"
        )
    return title


def _listed(row: tuple[Any, ...]) -> dict[str, Any]:
    report_id, kind, title, created_us, size, has_json = row
    created = datetime.fromtimestamp(created_us / 1e6, timezone.utc)
    return {
        "id": report_id,
        "kind": kind,
        "title": title,
        "created": created.isoformat(),
        "bytes": int(size),
        "has_json": bool(has_json),
    }
