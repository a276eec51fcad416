"""The event store: idempotent group commits, typed feature columns, labels, retention, catalog."""

from __future__ import annotations

import json
import threading
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest

from telltale.errors import ConfigError, DataError, NotFoundError
from telltale.schema.wire import (
    EventBatch,
    decode_events_json,
    decode_feedback_json,
    decode_labels_json,
)
from telltale.store import events as events_module
from telltale.store.events import EventStore, IngestResult
from telltale.store.ids import id_hashes, uuid_bytes

T0 = datetime(2026, 11, 16, tzinfo=timezone.utc)


def make(
    n: int, *, seed: int = 0, model: str = "fraud", start: int = 0, **fields: Any
) -> list[dict[str, Any]]:
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(start, start + n):
        row: dict[str, Any] = {
            "event_id": str(uuid.UUID(int=seed * 10_000_000 + i + 1)),
            "ts": (T0 + timedelta(seconds=30 * i)).isoformat(),
            "model": model,
            "version": "1.0",
            "inputs": {"amount": float(rng.normal()), "country": str(rng.choice(["FR", "DE"]))},
            "outputs": {"prediction": int(rng.integers(0, 2)), "score": float(rng.uniform())},
            "latency_ms": float(rng.lognormal(0, 1)),
            "segment": {"region": "eu" if i % 2 else "us"},
        }
        row.update({k: dict(v) if isinstance(v, dict) else v for k, v in fields.items()})
        rows.append(row)
    return rows


def batch(rows: list[dict[str, Any]], **extra: Any) -> EventBatch:
    return decode_events_json({"events": rows, **extra})


def raw(store: EventStore, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    cursor = store.cursor()
    try:
        return list(cursor.execute(sql, params or []).fetchall())
    finally:
        cursor.close()


@pytest.fixture
def store(tmp_path: Path) -> Any:
    with EventStore(tmp_path / "telltale.duckdb") as opened:
        yield opened


def stored(store: EventStore, model: str = "fraud", project: str = "p") -> int:
    table = store.model_table(project, model).table_name
    return int(raw(store, f"SELECT count(*) FROM {table}")[0][0])


# ---- idempotency -----------------------------------------------------------------------------


def test_a_resent_batch_stores_nothing_twice(store: EventStore) -> None:
    rows = make(100)
    assert store.write([("p", batch(rows))]) == [IngestResult(100, 0)]
    assert store.write([("p", batch(rows))]) == [IngestResult(0, 100)]
    assert store.write([("p", batch(rows[50:] + make(10, start=500)))]) == [IngestResult(10, 50)]
    assert stored(store) == 110
    assert store.models("p")[0]["events"] == 110


def test_repeats_inside_a_batch_and_across_a_group_are_stored_once(store: EventStore) -> None:
    rows = make(20)
    results = store.write(
        [("p", batch(rows + rows[:5])), ("p", batch(rows[10:] + make(3, start=99)))]
    )
    assert results == [IngestResult(20, 5), IngestResult(3, 10)]
    assert stored(store) == 23


def test_the_same_id_in_another_project_is_another_event(store: EventStore) -> None:
    rows = make(10)
    assert store.write([("p", batch(rows)), ("q", batch(rows))]) == [IngestResult(10, 0)] * 2
    assert [m["model"] for m in store.models("q")] == ["fraud"]
    assert store.models("nobody") == []


def test_ids_are_remembered_across_a_reopen_and_one_spelling_is_one_id(tmp_path: Path) -> None:
    rows = make(30)
    with EventStore(tmp_path / "s.duckdb") as store:
        store.write([("p", batch(rows))])
    respelled = [dict(r, event_id=uuid.UUID(r["event_id"]).hex.upper()) for r in rows]
    with EventStore(tmp_path / "s.duckdb") as store:
        assert store.write([("p", batch(respelled))]) == [IngestResult(0, 30)]
        assert stored(store) == 30


def test_a_hash_collision_is_confirmed_in_sql_and_does_not_drop_a_new_event(
    store: EventStore,
) -> None:
    store.write([("p", batch(make(5)))])
    fresh = make(3, start=1000)
    model_id = store.model_table("p", "fraud").model_id
    # Pretend every new id's hash is already known (at some stored time): only SQL can tell.
    hashes = id_hashes(uuid_bytes(pa.array([r["event_id"] for r in fresh])))
    store._ids[model_id].add(hashes, np.zeros(3, dtype=np.int64))
    assert store.write([("p", batch(fresh))]) == [IngestResult(3, 0)]


def test_a_failed_write_stores_nothing_and_the_same_batch_succeeds_later(
    store: EventStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: Any) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(events_module, "add_event_facts", broken)
    with pytest.raises(RuntimeError):
        store.write([("p", batch(make(10)))])
    assert store.models("p") == []
    monkeypatch.undo()
    assert store.write([("p", batch(make(10)))]) == [IngestResult(10, 0)]


# ---- columns ---------------------------------------------------------------------------------


def test_features_get_typed_columns_and_misfits_are_kept_in_extra(store: EventStore) -> None:
    first = make(2, inputs={"x": 1.5, "name": "a", "flag": True, "empty": None})
    store.write([("p", batch(first))])
    later = make(
        4,
        start=10,
        inputs={"x": "high", "name": 7, "flag": 2.5, "new": "z", "empty": 3, "列 €": 1},
    )
    later[1]["inputs"]["x"] = 2.0  # mixed in the batch: the column arrives as text
    store.write([("p", batch(later))])
    model = store.models("p")[0]
    assert model["features"] == {
        "x": "double",
        "name": "string",
        "flag": "boolean",
        "empty": "double",
        "new": "string",
        "列 €": "double",
    }
    table = store.events_relation("p", "fraud", T0, T0 + timedelta(days=1)).to_pyarrow()
    by_id = {
        r["event_id"].hex if hasattr(r["event_id"], "hex") else r["event_id"]: r
        for r in table.to_pylist()
    }
    assert table.column("x").to_pylist()[:2] == [1.5, 1.5]
    assert sorted(v for v in table.column("x").to_pylist()[2:] if v is not None) == [2.0]
    assert table.column("name").to_pylist()[2:] == ["7"] * 4
    assert table.column("列 €").to_pylist()[2:] == [1.0] * 4
    extras = raw(
        store,
        f"SELECT extra FROM {store.model_table('p', 'fraud').table_name} WHERE extra IS NOT NULL",
    )
    kept = [json.loads(e[0]) for e in extras]
    assert {"input.x": "high", "input.flag": 2.5} in kept
    assert len(kept) == 4 and len(by_id) == 6


def test_batches_of_one_group_may_disagree_on_a_features_type(store: EventStore) -> None:
    a = batch(make(2, inputs={"x": 1}))
    b = batch(make(2, start=5, inputs={"x": "one"}))
    c = batch(make(2, start=9, inputs={"x": 2.5}))
    assert store.write([("p", a), ("p", b), ("p", c)]) == [IngestResult(2, 0)] * 3
    values = store.events_relation("p", "fraud", T0, T0 + timedelta(days=1)).x.to_pyarrow()
    assert sorted(values.to_pylist()) == ["1", "1", "2.5", "2.5", "one", "one"]


def test_one_request_with_several_models(store: EventStore) -> None:
    rows = make(3) + make(4, model="churn", start=50)
    assert store.write([("p", batch(rows))]) == [IngestResult(7, 0)]
    assert {m["model"]: m["events"] for m in store.models("p")} == {"churn": 4, "fraud": 3}


def test_models_lists_versions_times_and_outputs(store: EventStore) -> None:
    store.write([("p", batch(make(3) + make(2, start=10, version="2.0")))])
    (model,) = store.models("p")
    assert model["versions"] == ["1.0", "2.0"]
    assert model["first_ts"] == T0.isoformat()
    assert model["last_ts"] == (T0 + timedelta(seconds=330)).isoformat()
    assert model["outputs"] == {"prediction": "double", "score": "double"}
    with pytest.raises(NotFoundError):
        store.model_table("p", "nope")


def test_events_relation_filters_and_keeps_names(store: EventStore) -> None:
    rows = make(40)
    for i, row in enumerate(rows):
        row["environment_id"] = "gpu" if i % 4 == 0 else "cpu"
    store.write([("p", batch(rows))])
    end = T0 + timedelta(seconds=30 * 20)
    t = store.events_relation("p", "fraud", T0, end, segment={"region": "eu"}, environment="cpu")
    got = t.to_pyarrow()
    expected = [
        r for r in rows[:20] if r["segment"]["region"] == "eu" and r["environment_id"] == "cpu"
    ]
    assert got.num_rows == len(expected)
    assert got.column("amount").to_pylist() == [r["inputs"]["amount"] for r in expected]
    assert "output.score" in got.column_names
    assert (
        store.events_relation(
            "p", "fraud", T0, end, segment={"region": "x'; DROP TABLE tt_models; --"}
        )
        .to_pyarrow()
        .num_rows
        == 0
    )
    assert store.models("p")


# ---- labels and feedback ---------------------------------------------------------------------


def confusion(store: EventStore) -> dict[tuple[str, str], int]:
    rows = raw(store, "SELECT label, prediction, sum(n) FROM tt_roll_confusion GROUP BY ALL")
    return {(a, b): int(n) for a, b, n in rows if n}


def test_labels_meet_their_events_in_either_order_and_replacing_subtracts(
    store: EventStore,
) -> None:
    rows = make(60)
    early = {"labels": [{"event_id": r["event_id"], "label": 1} for r in rows[:20]]}
    assert store.write_labels("p", decode_labels_json(early)) == 20  # before the events
    store.write([("p", batch(rows))])
    late = {
        "labels": [{"event_id": r["event_id"], "label": i % 2} for i, r in enumerate(rows[10:50])]
    }
    store.write_labels("p", decode_labels_json(late))  # replaces 10, adds 30
    truth = {r["event_id"]: 1 for r in rows[:20]}
    truth.update({r["event_id"]: i % 2 for i, r in enumerate(rows[10:50])})
    expected: dict[tuple[str, str], int] = {}
    for r in rows:
        if r["event_id"] in truth:
            key = (str(truth[r["event_id"]]), str(r["outputs"]["prediction"]))
            expected[key] = expected.get(key, 0) + 1
    assert confusion(store) == expected
    store.write_labels("p", decode_labels_json(late))  # the same labels again change nothing
    assert confusion(store) == expected
    ((n, y),) = raw(store, "SELECT sum(n), sum(y) FROM tt_roll_regression")
    assert n == 50 and y == sum(truth.values())


def test_labels_of_other_projects_do_not_match(store: EventStore) -> None:
    rows = make(5)
    store.write([("p", batch(rows))])
    store.write_labels(
        "q", decode_labels_json({"labels": [{"event_id": r["event_id"], "label": 1} for r in rows]})
    )
    assert confusion(store) == {}


def test_feedback_is_replaced(store: EventStore) -> None:
    rows = make(2)
    for score in (1.0, 0.0):
        payload = {"feedback": [{"event_id": r["event_id"], "score": score} for r in rows]}
        assert store.write_feedback("p", decode_feedback_json(payload)) == 2
    assert raw(store, "SELECT project, score FROM tt_feedback") == [("p", 0.0), ("p", 0.0)]


def test_environments_resources_and_client_counters(store: EventStore) -> None:
    extra = {
        "environments": [{"environment_id": "e1", "python": "3.11", "packages": {"numpy": "2"}}],
        "resources": [{"ts": T0.isoformat(), "instance": "h1", "cpu_percent": 40.0}],
        "client": {"instance": "h1", "dropped": 3, "sdk": "py"},
    }
    store.write([("p", batch(make(2), **extra))])
    extra["client"] = {"instance": "h1", "dropped": 5}
    store.write([("p", batch(make(2, start=9), **extra))])
    (env,) = store.environments("p")
    assert env["environment_id"] == "e1" and env["packages"] == {"numpy": "2"}
    assert store.clients("p") == {"h1": 5}
    assert raw(
        store, "SELECT count(*), max(cpu_percent) FROM tt_resources WHERE project = 'p'"
    ) == [(2, 40.0)]
    # the samples travelled with one model's events: they are that model's process
    assert raw(store, "SELECT DISTINCT model FROM tt_resources") == [("fraud",)]
    assert store.environments("q") == [] and store.clients("q") == {}


# ---- retention -------------------------------------------------------------------------------


def test_retention_removes_raw_events_and_labels_but_keeps_rollups(store: EventStore) -> None:
    rows = make(100)  # 50 minutes
    store.write([("p", batch(rows))])
    store.write_labels(
        "p", decode_labels_json({"labels": [{"event_id": r["event_id"], "label": 0} for r in rows]})
    )
    before = raw(store, "SELECT sum(events), sum(latency_n) FROM tt_roll_serving")
    deleted = store.apply_retention(timedelta(minutes=25), now=T0 + timedelta(minutes=50))
    assert deleted["events"] == 50 and deleted["labels"] == 50
    assert stored(store) == 50
    assert raw(store, "SELECT sum(events), sum(latency_n) FROM tt_roll_serving") == before
    assert sum(confusion(store).values()) == 100
    # a resend of a removed event is a new event again (its id is forgotten with it)
    assert store.write([("p", batch(rows[:2]))]) == [IngestResult(2, 0)]
    with pytest.raises(ConfigError):
        store.apply_retention(timedelta(0))


# ---- references, read-only, threads ----------------------------------------------------------


def test_references_are_saved_listed_and_replaced(store: EventStore) -> None:
    store.save_reference("p", "fraud", "training", b"\x1f\x8bone")
    store.save_reference("p", "fraud", "training", b"two")
    store.save_reference("p", "fraud", "healthy week", b"three")
    assert store.load_reference("p", "fraud", "training") == b"two"
    assert [r["name"] for r in store.references("p", "fraud")] == ["healthy week", "training"]
    assert store.references("q", "fraud") == []
    with pytest.raises(NotFoundError):
        store.load_reference("q", "fraud", "training")
    with pytest.raises(ConfigError):
        store.save_reference("p", "fraud", "", b"x")


def test_read_only_reads_and_refuses_writes(tmp_path: Path) -> None:
    path = tmp_path / "s.duckdb"
    with EventStore(path) as store:
        store.write([("p", batch(make(3)))])
    with EventStore(path, read_only=True) as reader:
        assert reader.models("p")[0]["events"] == 3
        with pytest.raises(ConfigError, match="read-only"):
            reader.write([("p", batch(make(1, start=9)))])
    plain = tmp_path / "plain.duckdb"
    import duckdb

    duckdb.connect(str(plain)).close()
    with pytest.raises(DataError, match="not a telltale store"):
        EventStore(plain, read_only=True)


def test_reads_from_another_thread_while_writing(store: EventStore) -> None:
    store.write([("p", batch(make(10)))])
    seen: list[int] = []
    stop = threading.Event()

    def read() -> None:
        while not stop.is_set():
            cursor = store.cursor()
            seen.append(
                int(cursor.execute("SELECT sum(events) FROM tt_roll_serving").fetchone()[0])
            )
            cursor.close()

    reader = threading.Thread(target=read)
    reader.start()
    for k in range(10):
        store.write([("p", batch(make(10, start=100 + 10 * k)))])
    stop.set()
    reader.join()
    assert seen and all(n % 10 == 0 for n in seen) and seen == sorted(seen)
