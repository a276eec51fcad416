"""Rollup rows are appended per transaction and merged by compaction; windows never change.

The reference is the same windows computed before compaction, and counts recomputed from the raw
events (numpy); a store of schema 1 (keyed rollups) is migrated when opened for writing.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import duckdb
import numpy as np

from telltale.analysis.windows import serving_windows
from telltale.schema.wire import decode_events_json
from telltale.store import events as events_module
from telltale.store.events import COMPACT_EVERY, STORE_SCHEMA_VERSION, EventStore

T0 = datetime(2026, 11, 10, 12, 0, tzinfo=timezone.utc)
TABLES = ("tt_roll_serving", "tt_roll_latency", "tt_roll_latency_hour", "tt_roll_classes")
KEYS = ("series_id, minute", "series_id, minute, bucket", "series_id, hour, bucket",
        "series_id, minute, class")  # fmt: skip


def _batch(start: int, n: int, rng: np.random.Generator) -> Any:
    return decode_events_json(
        {
            "events": [
                {
                    "event_id": str(uuid.UUID(int=start + i + 1)),
                    "ts": (T0 + timedelta(seconds=float(rng.uniform(0, 180)))).isoformat(),
                    "model": "m",
                    "version": "1",
                    "latency_ms": float(rng.lognormal(2.0, 0.5)),
                    "status": "error" if rng.uniform() < 0.1 else "ok",
                    "outputs": {"prediction": str(rng.integers(0, 3))},
                }
                for i in range(n)
            ]
        }
    )


def _rows(store: EventStore, table: str, keys: str) -> tuple[int, int]:
    """(rows, distinct keys) of a rollup table."""
    cursor = store.cursor()
    try:
        row = cursor.execute(f"SELECT count(*), count(DISTINCT ({keys})) FROM {table}").fetchone()
    finally:
        cursor.close()
    assert row is not None
    return int(row[0]), int(row[1])


def _windows(store: EventStore) -> list[dict[str, Any]]:
    result = serving_windows(store, "p", "m", T0, T0 + timedelta(hours=1), "minute")
    return result.to_dict()["windows"]


def test_appended_rows_merge_and_windows_stay_the_same(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    store = EventStore(tmp_path / "t.duckdb")
    n_batches = COMPACT_EVERY - 1  # stay below the automatic compaction
    for k in range(n_batches):
        store.write([("p", _batch(k * 50, 50, rng))])
    rows, keys = _rows(store, "tt_roll_serving", "series_id, minute")
    assert keys == 3 and rows > keys  # three minutes, several appended rows each
    before = _windows(store)
    assert sum(w["events"] for w in before) == n_batches * 50
    extra = sum(
        rows - keys
        for rows, keys in (_rows(store, t, k) for t, k in zip(TABLES, KEYS, strict=True))
    )
    assert store.compact() == extra
    for table, key in zip(TABLES, KEYS, strict=True):
        rows, keys = _rows(store, table, key)
        assert rows == keys, table
    assert _windows(store) == before
    assert store.compact() == 0  # nothing new to merge
    store.close()


def test_every_nth_transaction_compacts_on_its_own(tmp_path: Path) -> None:
    rng = np.random.default_rng(4)
    store = EventStore(tmp_path / "t.duckdb")
    for k in range(COMPACT_EVERY):
        store.write([("p", _batch(k * 20, 20, rng))])
    rows, keys = _rows(store, "tt_roll_serving", "series_id, minute")
    assert rows == keys
    store.write([("p", _batch(10_000, 20, rng))])  # appended again after the compaction
    assert _rows(store, "tt_roll_serving", "series_id, minute")[0] > keys
    store.close()  # compacts on close
    reopened = EventStore(tmp_path / "t.duckdb", read_only=True)
    rows, keys = _rows(reopened, "tt_roll_serving", "series_id, minute")
    assert rows == keys
    assert sum(w["events"] for w in _windows(reopened)) == COMPACT_EVERY * 20 + 20
    reopened.close()


def test_a_schema_1_store_with_keyed_rollups_is_migrated(tmp_path: Path) -> None:
    path = tmp_path / "t.duckdb"
    rng = np.random.default_rng(5)
    store = EventStore(path)
    store.write([("p", _batch(0, 300, rng))])
    before = _windows(store)
    store.close()
    # make it what telltale wrote before: primary keys on the rollups, schema version 1
    con = duckdb.connect(str(path))
    for table, key in zip(TABLES, KEYS, strict=True):
        con.execute(f"ALTER TABLE {table} ADD PRIMARY KEY ({key})")
    con.execute("UPDATE tt_meta SET value = '1' WHERE key = 'schema_version'")
    con.close()
    old = EventStore(path, read_only=True)  # schema 1 reads as it is
    assert _windows(old) == before
    old.close()
    store = EventStore(path)
    cursor = store.cursor()
    keyed = cursor.execute(
        "SELECT table_name FROM duckdb_constraints() WHERE constraint_type = 'PRIMARY KEY' "
        "AND table_name LIKE 'tt_roll_%' ORDER BY 1"
    ).fetchall()
    version = cursor.execute("SELECT value FROM tt_meta WHERE key = 'schema_version'").fetchone()
    cursor.close()
    assert [k[0] for k in keyed] == ["tt_roll_confusion", "tt_roll_regression"]
    assert version == (str(STORE_SCHEMA_VERSION),)
    assert _windows(store) == before
    store.write([("p", _batch(1_000, 300, rng))])  # appending works on the migrated tables
    assert sum(w["events"] for w in _windows(store)) == 600
    store.close()
    assert events_module.STORE_SCHEMA_VERSION == 4


def test_a_schema_2_store_gets_the_model_of_resource_samples(tmp_path: Path) -> None:
    path = tmp_path / "t.duckdb"
    store = EventStore(path)
    store.close()
    con = duckdb.connect(str(path))  # what telltale wrote before: no model on tt_resources
    con.execute("ALTER TABLE tt_resources DROP COLUMN model")
    con.execute("INSERT INTO tt_resources VALUES ('p', now(), 'h1', 10, 100, NULL, NULL, 1)")
    con.execute("UPDATE tt_meta SET value = '2' WHERE key = 'schema_version'")
    con.close()
    old = EventStore(path, read_only=True)  # schema 2 opens as it is
    old.close()
    store = EventStore(path)
    cursor = store.cursor()
    rows = cursor.execute("SELECT instance, cpu_percent, model FROM tt_resources").fetchall()
    version = cursor.execute("SELECT value FROM tt_meta WHERE key = 'schema_version'").fetchone()
    cursor.close()
    store.close()
    assert rows == [("h1", 10.0, None)] and version == ("4",)


def _with_environment(environment: dict[str, Any]) -> Any:
    return decode_events_json(
        {
            "events": [
                {
                    "event_id": str(uuid.uuid4()),
                    "ts": T0.isoformat(),
                    "model": "m",
                    "environment_id": environment["environment_id"],
                }
            ],
            "environments": [environment],
        }
    )


def test_a_schema_3_store_gets_labels_on_its_environments(tmp_path: Path) -> None:
    path = tmp_path / "t.duckdb"
    store = EventStore(path)
    store.write([("p", _with_environment({"environment_id": "e-old", "python": "3.12.1"}))])
    store.close()
    con = duckdb.connect(str(path))  # what telltale wrote before: no labels on tt_environments
    con.execute("ALTER TABLE tt_environments DROP COLUMN labels")
    con.execute("UPDATE tt_meta SET value = '3' WHERE key = 'schema_version'")
    con.close()
    old = EventStore(path, read_only=True)  # schema 3 reads as it is, with no labels
    (seen,) = old.environments("p")
    assert seen["environment_id"] == "e-old" and seen["labels"] == {}
    old.close()
    store = EventStore(path)
    named = {"environment_id": "e-new", "python": "3.12.1", "labels": {"name": "gpu-b ☃"}}
    store.write([("p", _with_environment(named))])
    by_id = {e["environment_id"]: e for e in store.environments("p")}
    cursor = store.cursor()
    version = cursor.execute("SELECT value FROM tt_meta WHERE key = 'schema_version'").fetchone()
    cursor.close()
    store.close()
    assert version == ("4",)
    assert by_id["e-old"]["labels"] == {} and by_id["e-new"]["labels"] == {"name": "gpu-b ☃"}
