"""Saved reference profiles: the bytes of a ``.ttp`` file per (project, model, name).

A reference is what live windows are compared with for drift (a training set, a healthy week);
it is saved once and reused, so no check re-reads the reference data.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from telltale.errors import ConfigError, NotFoundError

__all__ = [
    "MAX_REFERENCE_BYTES",
    "REFERENCES_DDL",
    "list_references",
    "load_reference",
    "save_reference",
]

MAX_REFERENCE_BYTES = 64 * 1024 * 1024

REFERENCES_DDL = (
    """CREATE TABLE IF NOT EXISTS tt_references (
        project VARCHAR NOT NULL,
        model VARCHAR NOT NULL,
        name VARCHAR NOT NULL,
        data BLOB NOT NULL,
        created TIMESTAMPTZ NOT NULL,
        PRIMARY KEY (project, model, name)
    )""",
)


def save_reference(con: Any, project: str, model: str, name: str, data: bytes, now_us: int) -> None:
    """Keep ``data`` under ``name`` (replacing one of the same name)."""
    if not isinstance(name, str) or not 1 <= len(name) <= 200:
        raise ConfigError(f"reference name {name!r} must be 1-200 characters")
    if not isinstance(data, (bytes, bytearray)) or len(data) > MAX_REFERENCE_BYTES:
        raise ConfigError("a reference must be bytes of at most 64 MiB (a saved profile)")
    con.execute(
        """INSERT INTO tt_references VALUES (?, ?, ?, ?, make_timestamptz(?))
        ON CONFLICT (project, model, name) DO UPDATE SET data = excluded.data,
        created = excluded.created""",
        [project, model, name, bytes(data), now_us],
    )


def load_reference(cursor: Any, project: str, model: str, name: str) -> bytes:
    row = cursor.execute(
        "SELECT data FROM tt_references WHERE project = ? AND model = ? AND name = ?",
        [project, model, name],
    ).fetchone()
    if row is None:
        raise NotFoundError(
            f"no reference {name[:200]!r} for model {model[:200]!r}; references() lists them",
            details={"reference": name[:200]},
        )
    return bytes(row[0])


def list_references(cursor: Any, project: str, model: str) -> list[dict[str, Any]]:
    rows = cursor.execute(
        """SELECT name, octet_length(data), epoch_us(created) FROM tt_references
        WHERE project = ? AND model = ? ORDER BY name""",
        [project, model],
    ).fetchall()
    epoch = datetime(1970, 1, 1, tzinfo=timezone.utc)
    return [
        {
            "name": r[0],
            "bytes": int(r[1]),
            "created": (epoch + timedelta(microseconds=r[2])).isoformat(),
        }
        for r in rows
    ]
