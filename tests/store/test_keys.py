"""API keys: made once, stored hashed, scoped, per project, revocable."""

from __future__ import annotations

import hashlib
from pathlib import Path

import duckdb
import pytest

from telltale.errors import AuthError, ConfigError, NotFoundError, ScopeError
from telltale.store.keys import KeyStore


@pytest.fixture
def keys(tmp_path: Path) -> KeyStore:
    return KeyStore(duckdb.connect(str(tmp_path / "t.duckdb")))


def test_secret_is_shown_once_and_stored_only_as_hash(tmp_path: Path) -> None:
    connection = duckdb.connect(str(tmp_path / "t.duckdb"))
    key, secret = KeyStore(connection).create("fraud", "ingest", name="scorer")
    rows = connection.execute("SELECT key_id, key_hash, project FROM api_keys").fetchall()
    assert len(rows) == 1
    assert secret not in repr(rows)
    assert rows[0][1] == hashlib.sha256(secret.encode()).hexdigest()
    assert secret.startswith(f"tt_{key.key_id}_")


def test_verify_finds_the_key_and_its_project(keys: KeyStore) -> None:
    key, secret = keys.create("fraud", "read")
    found = keys.verify(secret)
    assert (found.key_id, found.project, found.scope) == (key.key_id, "fraud", "read")


@pytest.mark.parametrize(
    "secret", [None, "", "nonsense", "tt_000000000000_" + "A" * 43, "Bearer x", "tt_ü_" + "ä" * 43]
)
def test_missing_malformed_or_unknown_keys_are_refused(keys: KeyStore, secret: str | None) -> None:
    keys.create("fraud", "admin")
    with pytest.raises(AuthError):
        keys.verify(secret)


def test_a_tampered_secret_with_a_real_key_id_is_refused(keys: KeyStore) -> None:
    _, secret = keys.create("fraud", "admin")
    tampered = secret[:-1] + ("A" if secret[-1] != "A" else "B")
    with pytest.raises(AuthError, match="unknown API key"):
        keys.verify(tampered)


def test_scopes_nest_admin_over_read_and_ingest_is_separate(keys: KeyStore) -> None:
    grants = {}
    for scope in ("ingest", "read", "admin"):
        _, secret = keys.create("p", scope)
        key = keys.verify(secret)
        grants[scope] = {action for action in ("ingest", "read", "admin") if key.allows(action)}
    assert grants == {
        "ingest": {"ingest"},
        "read": {"read"},
        "admin": {"ingest", "read", "admin"},
    }
    _, secret = keys.create("p", "ingest")
    with pytest.raises(ScopeError, match=r"scope 'ingest'.*--scope read"):
        keys.verify(secret).require("read")


def test_a_key_never_acts_on_another_project(keys: KeyStore) -> None:
    _, secret = keys.create("alpha", "admin")
    with pytest.raises(ScopeError, match="belongs to project 'alpha'"):
        keys.verify(secret).require("read", project="beta")


def test_revoked_keys_stop_working_at_once(keys: KeyStore) -> None:
    key, secret = keys.create("fraud", "ingest")
    keys.revoke(key.key_id)
    with pytest.raises(AuthError, match="revoked"):
        keys.verify(secret)
    assert keys.list("fraud")[0].revoked is not None
    with pytest.raises(NotFoundError):
        keys.revoke("000000000000")
    with pytest.raises(NotFoundError):
        keys.revoke(key.key_id, project="other")


def test_keys_survive_reopening_the_file(tmp_path: Path) -> None:
    path = str(tmp_path / "t.duckdb")
    connection = duckdb.connect(path)
    _, secret = KeyStore(connection).create("fraud", "read")
    connection.close()
    assert KeyStore(duckdb.connect(path)).verify(secret).project == "fraud"


@pytest.mark.parametrize("project", ["", "a b", "x" * 65, "../etc", "ünïcode", "-lead"])
def test_bad_project_names_are_refused(keys: KeyStore, project: str) -> None:
    with pytest.raises(ConfigError, match="not a valid name"):
        keys.create(project, "read")


def test_bad_scope_is_refused(keys: KeyStore) -> None:
    with pytest.raises(ConfigError, match="scope 'root'"):
        keys.create("p", "root")


def test_listing_is_per_project_and_has_no_secrets(keys: KeyStore) -> None:
    keys.create("a", "read", name="dash")
    keys.create("b", "ingest")
    assert [k.project for k in keys.list("a")] == ["a"]
    assert len(keys.list()) == 2
    assert set(keys.list("a")[0].to_dict()) == {
        "key_id",
        "project",
        "scope",
        "name",
        "created",
        "revoked",
    }
