"""API keys: who may write or read which project's data.

A key is shown once, when it is made, and stored only as a SHA-256 hash. It has the form
``tt_<key id>_<secret>``: the key id (public, shown in listings and in the audit log) finds the
row, and the secret is compared by hash in constant time. The secret is 256 random bits, so a fast
hash is enough (a slow password hash guards against guessing low-entropy passwords, which these are
not).

Scopes nest: ``admin`` can do what ``read`` can, and also manage keys and read the audit log;
``read`` can query; ``ingest`` can only send events, labels and feedback. A key belongs to one
project and never sees another's data.

>>> import duckdb
>>> keys = KeyStore(duckdb.connect())
>>> key, secret = keys.create("fraud-team", "ingest", name="scoring service")
>>> keys.verify(secret).project
'fraud-team'
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Literal

from telltale.errors import AuthError, ConfigError, NotFoundError, ScopeError
from telltale.store.engine import fetch_all

__all__ = ["SCOPES", "ApiKey", "KeyStore", "Scope", "check_project_name"]

Scope = Literal["ingest", "read", "admin"]
SCOPES: tuple[Scope, ...] = ("ingest", "read", "admin")

# What each scope may do: admin ⊃ read; ingest is separate (a scoring service needs no reads).
_GRANTS: dict[str, frozenset[str]] = {
    "ingest": frozenset({"ingest"}),
    "read": frozenset({"read"}),
    "admin": frozenset({"ingest", "read", "admin"}),
}

_PROJECT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_KEY = re.compile(r"^tt_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$")

_RELOAD_SECONDS = 1.0
# epoch microseconds: fetching TIMESTAMPTZ as datetime would make DuckDB import pytz
_COLUMNS = "key_id, key_hash, project, scope, name, epoch_us(created), epoch_us(revoked)"

_DDL = """
CREATE TABLE IF NOT EXISTS api_keys (
    key_id VARCHAR PRIMARY KEY,
    key_hash VARCHAR NOT NULL,
    project VARCHAR NOT NULL,
    scope VARCHAR NOT NULL,
    name VARCHAR NOT NULL,
    created TIMESTAMPTZ NOT NULL,
    revoked TIMESTAMPTZ
)
"""


def check_project_name(project: str) -> str:
    if not isinstance(project, str) or not _PROJECT.match(project):
        raise ConfigError(
            f"project {project!r} is not a valid name; use 1-64 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit (e.g. fraud-team)"
        )
    return project


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class ApiKey:
    """A stored key, without its secret."""

    key_id: str
    project: str
    scope: Scope
    name: str
    created: datetime
    revoked: datetime | None = None

    def allows(self, action: str) -> bool:
        """Whether this key may ``action`` (one of ingest, read, admin)."""
        return self.revoked is None and action in _GRANTS[self.scope]

    def require(self, action: str, project: str | None = None) -> ApiKey:
        """Raise :class:`ScopeError` unless the key may ``action`` on ``project``."""
        if not self.allows(action):
            raise ScopeError(
                f"key {self.key_id} has scope {self.scope!r}, which cannot {action}; "
                f"make a key with `telltale keys create --scope {_least_scope(action)}`",
                details={"key_id": self.key_id, "scope": self.scope, "needs": action},
            )
        if project is not None and project != self.project:
            raise ScopeError(
                f"key {self.key_id} belongs to project {self.project!r}, not {project!r}",
                details={"key_id": self.key_id},
            )
        return self

    def to_dict(self) -> dict[str, Any]:
        return {
            "key_id": self.key_id,
            "project": self.project,
            "scope": self.scope,
            "name": self.name,
            "created": self.created.isoformat(),
            "revoked": self.revoked.isoformat() if self.revoked else None,
        }


def _least_scope(action: str) -> str:
    return "admin" if action == "admin" else action


class KeyStore:
    """Keys kept in the telltale DuckDB file, with an in-memory cache for the request path.

    ``connection`` is a DuckDB connection; each operation runs on its own cursor, so the store
    may be used from several threads.
    """

    def __init__(self, connection: Any) -> None:
        self._connection = connection
        self._lock = threading.Lock()
        self._cache: dict[str, tuple[str, ApiKey]] = {}
        self._loaded_at = 0.0
        cursor = connection.cursor()
        try:
            cursor.execute(_DDL)
        finally:
            cursor.close()
        self._load()

    def _rows(self, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
        return fetch_all(self._connection, sql, params)

    def _load(self) -> None:
        rows = self._rows(f"SELECT {_COLUMNS} FROM api_keys")
        with self._lock:
            self._cache = {row[0]: (row[1], _key_from_row(row)) for row in rows}
            self._loaded_at = time.monotonic()

    def create(self, project: str, scope: str, *, name: str = "") -> tuple[ApiKey, str]:
        """Make a key; return it and its secret, which is shown this once and never stored."""
        check_project_name(project)
        if scope not in SCOPES:
            raise ConfigError(f"scope {scope!r} is not one of {', '.join(SCOPES)}")
        if not isinstance(name, str) or len(name) > 200:
            raise ConfigError("key name must be a string of at most 200 characters")
        key_id = secrets.token_hex(6)
        secret = f"tt_{key_id}_{secrets.token_urlsafe(32)}"
        key = ApiKey(key_id, project, scope, name, datetime.now(timezone.utc))
        self._rows(
            "INSERT INTO api_keys VALUES (?, ?, ?, ?, ?, ?, NULL)",
            [key_id, _hash(secret), project, scope, name, key.created],
        )
        with self._lock:
            self._cache[key_id] = (_hash(secret), key)
        return key, secret

    def verify(self, secret: str | None) -> ApiKey:
        """The key behind ``secret``; :class:`AuthError` if it is missing, unknown or revoked."""
        if not secret:
            raise AuthError(
                "this endpoint needs an API key: send 'Authorization: Bearer <key>' "
                "(make one with `telltale keys create`)"
            )
        match = _KEY.match(secret)
        if match is None:
            raise AuthError("the API key is malformed; keys look like tt_<12 hex>_<43 characters>")
        with self._lock:
            entry = self._cache.get(match.group(1))
        if entry is None and time.monotonic() - self._loaded_at > _RELOAD_SECONDS:
            # A key made by another process since we loaded: look once more (at most once a
            # second, so that guessing key ids cannot turn into a database scan per request).
            self._load()
            with self._lock:
                entry = self._cache.get(match.group(1))
        if entry is None or not hmac.compare_digest(entry[0], _hash(secret)):
            raise AuthError("unknown API key; check it was copied whole, or make a new one")
        key = entry[1]
        if key.revoked is not None:
            raise AuthError(f"API key {key.key_id} was revoked on {key.revoked:%Y-%m-%d}")
        return key

    def list(self, project: str | None = None) -> list[ApiKey]:
        """Keys of ``project`` (all projects when None), oldest first, secrets never included."""
        sql = f"SELECT {_COLUMNS} FROM api_keys"
        params: list[Any] = []
        if project is not None:
            sql += " WHERE project = ?"
            params.append(project)
        return [_key_from_row(row) for row in self._rows(sql + " ORDER BY created", params)]

    def revoke(self, key_id: str, *, project: str | None = None) -> ApiKey:
        """Revoke a key at once; with ``project``, only a key of that project."""
        keys = [k for k in self.list(project) if k.key_id == key_id]
        if not keys:
            raise NotFoundError(
                f"no API key {key_id!r}" + (f" in project {project!r}" if project else "")
            )
        now = datetime.now(timezone.utc)
        self._rows(
            "UPDATE api_keys SET revoked = ? WHERE key_id = ? AND revoked IS NULL", [now, key_id]
        )
        self._load()
        return next(k for k in self.list(project) if k.key_id == key_id)


def _key_from_row(row: tuple[Any, ...]) -> ApiKey:
    return ApiKey(
        key_id=row[0],
        project=row[2],
        scope=row[3],
        name=row[4],
        created=_from_epoch_us(row[5]),
        revoked=_from_epoch_us(row[6]) if row[6] is not None else None,
    )


def _from_epoch_us(value: int) -> datetime:
    return datetime.fromtimestamp(value / 1e6, tz=timezone.utc)
