"""The DuckDB file that keeps every model's events, labels, rollups and references.

One process owns the file (DuckDB allows one writer); :class:`EventStore` owns one connection,
writes on it from one thread (the server's group writer), and hands out cursors for reads from
other threads, which see committed data consistently while a write runs.

Layout
------
- ``tt_meta``: the schema version.
- ``tt_models``/``tt_columns`` (:mod:`telltale.store.catalog`): each (project, model) has its
  own events table ``tt_events_<id>`` with one generated column per feature and output.
- ``tt_series`` and the ``tt_roll_*`` tables (:mod:`telltale.store.rollup`): per-minute
  aggregates, updated in the transaction that inserts the events.
- ``tt_labels``, ``tt_feedback``: one row per (project, event id), replaced when resent. A label
  remembers whether it has met its event (``matched``), and the event's time, for retention.
- ``tt_environments`` (one row per project and fingerprint), ``tt_resources`` (samples),
  ``tt_clients`` (the latest dropped-events total per project and instance), ``tt_references``
  (saved reference profiles, as bytes).

Every row belongs to the project the caller names (from the API key), never one a client names:
events through their model's table, the other tables through a ``project`` column.

Group commit and durability
---------------------------
:meth:`EventStore.write` takes several requests' batches and commits them in one transaction:
a DuckDB statement costs milliseconds whatever its size (ENGINES.md), and a commit writes and
syncs the write-ahead log once. When ``write`` returns, the transaction is committed, so the
rows survive a ``kill -9`` of the process (tests/store/test_events_durability.py kills a child
process right after a write returns).

Idempotency
-----------
Each events table has an in-memory :class:`~telltale.store.ids.IdIndex` (hash and time of every
stored id), built when the store opens; see that module for the measured alternatives. A batch's
ids are hashed by DuckDB, looked up there, repeats inside the group are dropped (first wins), and
the rare hits are confirmed in SQL within the times the index kept.

>>> import tempfile, pathlib
>>> from telltale.schema.wire import decode_events_json
>>> path = pathlib.Path(tempfile.mkdtemp()) / "t.duckdb"
>>> store = EventStore(path)
>>> body = {"events": [{"event_id": "0f8c6d1e-6c1f-4c3b-9a53-2d3e4f5a6b7c", "ts": 1.8e9,
...                     "model": "fraud", "inputs": {"amount": 12.5}}]}
>>> store.write([("team", decode_events_json(body))] * 2)
[IngestResult(accepted=1, duplicates=0), IngestResult(accepted=0, duplicates=1)]
>>> [m["events"] for m in store.models("team")], store.models("other")
([1], [])
>>> store.close()
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from telltale.errors import ConfigError, DataError, NotFoundError, SchemaError
from telltale.schema.wire import INPUT_PREFIX, OUTPUT_PREFIX, EventBatch, label_columns
from telltale.store.catalog import (
    CATALOG_DDL,
    EVENT_TABLE_COLUMNS,
    Column,
    ModelTable,
    extra_json,
    fit_column,
    kind_of,
)
from telltale.store.ids import IdIndex
from telltale.store.rollup import ROLLUP_DDL, add_events, add_label_pairs

__all__ = ["STORE_SCHEMA_VERSION", "EventStore", "IngestResult"]

STORE_SCHEMA_VERSION = 1

_DDL = (
    "CREATE TABLE IF NOT EXISTS tt_meta (key VARCHAR PRIMARY KEY, value VARCHAR NOT NULL)",
    *CATALOG_DDL,
    *ROLLUP_DDL,
    """CREATE TABLE IF NOT EXISTS tt_labels (
        project VARCHAR NOT NULL,
        event_id UUID NOT NULL,
        label VARCHAR NOT NULL,
        label_number DOUBLE,
        ts TIMESTAMPTZ NOT NULL,
        received TIMESTAMPTZ NOT NULL,
        matched BOOLEAN NOT NULL,
        event_ts TIMESTAMPTZ
    )""",
    """CREATE TABLE IF NOT EXISTS tt_feedback (
        project VARCHAR NOT NULL,
        event_id UUID NOT NULL,
        score DOUBLE NOT NULL,
        ts TIMESTAMPTZ NOT NULL,
        received TIMESTAMPTZ NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS tt_environments (
        project VARCHAR NOT NULL,
        environment_id VARCHAR NOT NULL,
        python VARCHAR, platform VARCHAR, cpu VARCHAR, gpu VARCHAR,
        packages MAP(VARCHAR, VARCHAR),
        first_seen TIMESTAMPTZ NOT NULL,
        PRIMARY KEY (project, environment_id)
    )""",
    """CREATE TABLE IF NOT EXISTS tt_resources (
        project VARCHAR NOT NULL,
        ts TIMESTAMPTZ NOT NULL,
        instance VARCHAR NOT NULL,
        cpu_percent DOUBLE, rss_mb DOUBLE, gpu_percent DOUBLE, gpu_memory_mb DOUBLE,
        loop_lag_ms DOUBLE
    )""",
    """CREATE TABLE IF NOT EXISTS tt_clients (
        project VARCHAR NOT NULL,
        instance VARCHAR NOT NULL,
        sdk VARCHAR,
        dropped BIGINT NOT NULL,
        updated TIMESTAMPTZ NOT NULL,
        PRIMARY KEY (project, instance)
    )""",
    """CREATE TABLE IF NOT EXISTS tt_references (
        project VARCHAR NOT NULL,
        model VARCHAR NOT NULL,
        name VARCHAR NOT NULL,
        data BLOB NOT NULL,
        created TIMESTAMPTZ NOT NULL,
        PRIMARY KEY (project, model, name)
    )""",
)

_FIXED = (
    "event_id",
    "ts",
    "version",
    "environment_id",
    "latency_ms",
    "status",
    "error",
    "validation",
    "trace_id",
    "span_id",
    "segment",
    "batch_size",
)
_MAX_REFERENCE_BYTES = 64 * 1024 * 1024
_names = itertools.count()


@dataclass(frozen=True)
class IngestResult:
    """What happened to one request's batch: rows stored, and rows already stored (or repeated)."""

    accepted: int
    duplicates: int


def _now_us() -> int:
    return time.time_ns() // 1000


def _us(value: datetime) -> int:
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    delta = value - datetime(1970, 1, 1, tzinfo=timezone.utc)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def _ts(micros: int) -> datetime:
    return datetime(1970, 1, 1, tzinfo=timezone.utc) + timedelta(microseconds=micros)


class EventStore:
    """Events, labels, rollups and references of every project, in one DuckDB file.

    >>> import tempfile, pathlib
    >>> store = EventStore(pathlib.Path(tempfile.mkdtemp()) / "telltale.duckdb")
    >>> store.models("fraud-team")
    []
    >>> store.close()
    """

    def __init__(self, path: str | Path, *, read_only: bool = False) -> None:
        import duckdb

        self.path = Path(path)
        self.read_only = read_only
        try:
            self._con = duckdb.connect(str(self.path), read_only=read_only)
        except duckdb.IOException as error:
            raise DataError(
                f"cannot open {str(self.path)!r} ({error}); another process may hold it for "
                "writing: stop it, or read through its server"
            ) from None
        self._setup(self._con)
        self._lock = threading.RLock()
        self._closed = False
        self.last_timing: dict[str, float] = {}
        """Seconds of the last transaction: ``statements_s`` (work inside it), ``commit_s``."""
        if not read_only:
            for statement in _DDL:
                self._con.execute(statement)
            self._con.execute(
                "INSERT OR IGNORE INTO tt_meta VALUES ('schema_version', ?)",
                [str(STORE_SCHEMA_VERSION)],
            )
        self._check_version()
        self._tables: dict[tuple[str, str], ModelTable] = self._load_catalog()
        self._ids: dict[int, IdIndex] = {}
        self._orphans: dict[str, set[int]] = {}
        if not read_only:
            for table in self._tables.values():
                self._ids[table.model_id] = self._build_index(table)
            self._load_orphans()

    # ---- connections ---------------------------------------------------------------------

    @staticmethod
    def _setup(con: Any) -> None:
        con.execute("SET TimeZone = 'UTC'")
        con.execute("SET enable_progress_bar = false")

    def cursor(self) -> Any:
        """A DuckDB cursor for reads from another thread (consistent while a write runs)."""
        cursor = self._con.cursor()
        self._setup(cursor)
        return cursor

    def ibis(self) -> Any:
        """An Ibis DuckDB backend on a fresh cursor of the file (for the analysis)."""
        import ibis

        return ibis.duckdb.from_connection(self.cursor())

    def close(self) -> None:
        """Checkpoint and close the file."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            if not self.read_only:
                self._con.execute("CHECKPOINT")
            self._con.close()

    def __enter__(self) -> EventStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _check_version(self) -> None:
        try:
            row = self._con.execute(
                "SELECT value FROM tt_meta WHERE key = 'schema_version'"
            ).fetchone()
        except Exception:
            row = None
        if row is None:
            if self.read_only:
                raise DataError(
                    f"{str(self.path)!r} is not a telltale store; open it once for writing "
                    "(telltale serve) to create one"
                )
            return
        if int(row[0]) != STORE_SCHEMA_VERSION:
            raise DataError(
                f"{str(self.path)!r} has store schema version {row[0]}, this telltale reads "
                f"version {STORE_SCHEMA_VERSION}; upgrade telltale or use another file"
            )

    def _writable(self) -> None:
        if self.read_only:
            raise ConfigError(
                f"the store {str(self.path)!r} was opened read-only; open it with read_only=False to write"
            )

    def _one(self, sql: str, params: list[Any] | None = None) -> Any:
        row = self._con.execute(sql, params or []).fetchone()
        assert row is not None, sql
        return row[0]

    # ---- catalog ---------------------------------------------------------------------------

    def _load_catalog(self) -> dict[tuple[str, str], ModelTable]:
        tables: dict[tuple[str, str], ModelTable] = {}
        try:
            models = self._con.execute(
                "SELECT model_id, project, model, table_name FROM tt_models"
            ).fetchall()
            columns = self._con.execute(
                "SELECT model_id, role, name, column_name, type FROM tt_columns"
            ).fetchall()
        except Exception:  # a read-only file made before the catalog existed
            return tables
        by_id = {}
        for model_id, project, model, table_name in models:
            by_id[model_id] = ModelTable(model_id, project, model, table_name)
        for model_id, role, name, column_name, kind in columns:
            by_id[model_id] = by_id[model_id].with_column(Column(role, name, column_name, kind))
        for table in by_id.values():
            tables[(table.project, table.model)] = table
        return tables

    def _table(self, project: str, model: str) -> ModelTable:
        table = self._tables.get((project, model))
        if table is None:
            raise NotFoundError(
                f"no model {model[:200]!r} in project {project!r}; models() lists them",
                details={"model": model[:200]},
            )
        return table

    def _build_index(self, table: ModelTable) -> IdIndex:
        index = IdIndex()
        result = self._con.sql(
            f"SELECT hash(event_id) AS h, epoch_us(ts) AS t FROM {table.table_name}"
        ).to_arrow_table()
        if result.num_rows:
            index.add(
                result.column("h").to_numpy().astype(np.uint64),
                result.column("t").to_numpy().astype(np.int64),
            )
        return index

    def _load_orphans(self) -> None:
        rows = self._con.execute(
            "SELECT project, hash(event_id) FROM tt_labels WHERE NOT matched"
        ).fetchall()
        self._orphans = {}
        for project, h in rows:
            self._orphans.setdefault(project, set()).add(int(h))

    def _ensure_table(
        self, work: dict[tuple[str, str], ModelTable], project: str, model: str
    ) -> ModelTable:
        table = work.get((project, model))
        if table is not None:
            return table
        model_id = self._one("SELECT nextval('tt_model_ids')")
        table = ModelTable(int(model_id), project, model, f"tt_events_{int(model_id)}")
        self._con.execute(f"CREATE TABLE {table.table_name} ({EVENT_TABLE_COLUMNS})")
        self._con.execute(
            "INSERT INTO tt_models VALUES (?, ?, ?, ?, 0, NULL, NULL)",
            [table.model_id, project, model, table.table_name],
        )
        work[(project, model)] = table
        return table

    def _ensure_column(
        self,
        work: dict[tuple[str, str], ModelTable],
        table: ModelTable,
        role: str,
        name: str,
        kind: str,
    ) -> ModelTable:
        column = table.column(role, name)
        if column is not None and (column.type != "NULL" or kind == "NULL"):
            return table
        column_name = column.column_name if column is not None else table.next_column_name(role)
        if kind != "NULL":
            self._con.execute(f"ALTER TABLE {table.table_name} ADD COLUMN {column_name} {kind}")
        if column is None:
            self._con.execute(
                "INSERT INTO tt_columns VALUES (?, ?, ?, ?, ?)",
                [table.model_id, role, name, column_name, kind],
            )
        else:
            self._con.execute(
                "UPDATE tt_columns SET type = ? WHERE model_id = ? AND role = ? AND name = ?",
                [kind, table.model_id, role, name],
            )
        table = table.with_column(Column(role, name, column_name, kind))
        work[(table.project, table.model)] = table
        return table

    # ---- writing events --------------------------------------------------------------------

    @contextmanager
    def _transaction(self) -> Iterator[dict[tuple[str, str], ModelTable]]:
        """A transaction with a working copy of the catalog, published on commit."""
        work = dict(self._tables)
        started = time.perf_counter()
        self._con.execute("BEGIN TRANSACTION")
        try:
            yield work
            statements = time.perf_counter()
            self._con.execute("COMMIT")
        except BaseException:
            self._con.execute("ROLLBACK")
            raise
        self._tables = work
        done = time.perf_counter()
        self.last_timing = {"statements_s": statements - started, "commit_s": done - statements}

    def write(self, batches: Sequence[tuple[str, EventBatch]]) -> list[IngestResult]:
        """Store several requests' batches (``(project, batch)``) in one transaction.

        Returns one :class:`IngestResult` per batch, once committed. Events already stored (by
        ``event_id``, per project and model), and repeats of an id within the group, count as
        duplicates and are not stored again.
        """
        self._writable()
        with self._lock:
            accepted = [0] * len(batches)
            totals = [b.events.num_rows for _, b in batches]
            groups: dict[tuple[str, str], list[tuple[int, pa.Table]]] = {}
            for index, (project, batch) in enumerate(batches):
                events = batch.events
                if events.num_rows == 0:
                    continue
                models = events.column("model")
                names = pc.unique(models).to_pylist()
                for model in names:
                    part = events if len(names) == 1 else events.filter(pc.equal(models, model))
                    groups.setdefault((project, model), []).append((index, part))
            pending: list[tuple[int, np.ndarray, np.ndarray]] = []
            matched_orphans: list[tuple[str, set[int]]] = []
            with self._transaction() as work:
                for (project, model), parts in groups.items():
                    table = self._ensure_table(work, project, model)
                    outcome = self._write_model(work, table, parts)
                    for index, n in outcome.accepted.items():
                        accepted[index] += n
                    pending.append((work[(project, model)].model_id, outcome.hashes, outcome.times))
                    if outcome.matched:
                        matched_orphans.append((project, outcome.matched))
                for project, batch in batches:
                    self._write_context(project, batch)
            for model_id, hashes, times in pending:
                self._ids.setdefault(model_id, IdIndex()).add(hashes, times)
            for project, matched in matched_orphans:
                self._orphans.get(project, set()).difference_update(matched)
            return [IngestResult(a, t - a) for a, t in zip(accepted, totals, strict=True)]

    def _hashes(self, ids: pa.Array) -> np.ndarray:
        name = f"tt_ids_{next(_names)}"
        self._con.register(name, pa.table({"event_id": ids}))
        try:
            result = self._con.sql(
                f"SELECT hash(CAST(event_id AS UUID)) AS h FROM {name}"
            ).to_arrow_table()
        finally:
            self._con.unregister(name)
        return result.column("h").to_numpy().astype(np.uint64)

    def _stored(
        self, table: ModelTable, ids: list[str], low: int | None, high: int | None
    ) -> set[str]:
        """Which of ``ids`` the table holds (exactly), searching ``[low, high]`` µs if given."""
        sql = (
            f"SELECT CAST(event_id AS VARCHAR) FROM {table.table_name} "
            "WHERE event_id IN (SELECT CAST(unnest(?::VARCHAR[]) AS UUID))"
        )
        params: list[Any] = [ids]
        if low is not None and high is not None:
            sql += " AND ts BETWEEN make_timestamptz(?) AND make_timestamptz(?)"
            params += [low, high]
        return {row[0] for row in self._con.execute(sql, params).fetchall()}

    def _write_model(
        self,
        work: dict[tuple[str, str], ModelTable],
        table: ModelTable,
        parts: list[tuple[int, pa.Table]],
    ) -> _Outcome:
        owners = np.concatenate([np.full(p.num_rows, i, dtype=np.int64) for i, p in parts])
        events = _concat([p for _, p in parts])
        ids = events.column("event_id").combine_chunks()
        hashes = self._hashes(ids)
        # the first row of each id in the group
        if pc.count_distinct(ids).as_py() == len(ids):
            keep = np.ones(len(ids), dtype=bool)
        else:
            _, first = np.unique(ids.to_numpy(zero_copy_only=False), return_index=True)
            keep = np.zeros(len(ids), dtype=bool)
            keep[first] = True
        index = self._ids.get(table.model_id)
        if index is not None and len(index):
            maybe, times = index.lookup(hashes)
            maybe &= keep
            if maybe.any():
                candidates = np.flatnonzero(maybe)
                texts = [ids[int(i)].as_py() for i in candidates]
                found = self._stored(
                    table, texts, int(times[candidates].min()), int(times[candidates].max())
                )
                rest = [t for t in texts if t not in found]
                if rest:
                    found |= self._stored(table, rest, None, None)
                for i, text in zip(candidates, texts, strict=True):
                    if text in found:
                        keep[i] = False
        outcome = _Outcome({}, hashes[keep], np.zeros(0, np.int64), set())
        counts = np.bincount(owners[keep], minlength=0)
        outcome.accepted = {int(i): int(n) for i, n in enumerate(counts) if n}
        if not keep.any():
            return outcome
        events = events.filter(pa.array(keep))
        outcome.times = events.column("ts").combine_chunks().cast(pa.int64()).to_numpy()
        table, stage = self._stage(work, table, events)
        self._insert(table, stage)
        outcome.matched = self._match_orphans(table, hashes[keep], events)
        first_us, last_us = int(outcome.times.min()), int(outcome.times.max())
        self._con.execute(
            "UPDATE tt_models SET events = events + ?, first_us = least(coalesce(first_us, ?), ?), "
            "last_us = greatest(coalesce(last_us, ?), ?) WHERE model_id = ?",
            [events.num_rows, first_us, first_us, last_us, last_us, table.model_id],
        )
        return outcome

    def _stage(
        self, work: dict[tuple[str, str], ModelTable], table: ModelTable, events: pa.Table
    ) -> tuple[ModelTable, pa.Table]:
        """The rows as the events table holds them: generated column names, fitted types."""
        columns: dict[str, pa.Array] = {
            name: events.column(name).combine_chunks() for name in _FIXED
        }
        misfits: dict[str, tuple[pa.Array, np.ndarray]] = {}
        for name in events.column_names:
            if name.startswith(INPUT_PREFIX):
                role, feature = "input", name[len(INPUT_PREFIX) :]
            elif name.startswith(OUTPUT_PREFIX):
                role, feature = "output", name[len(OUTPUT_PREFIX) :]
            else:
                continue
            array = events.column(name).combine_chunks()
            kind = kind_of(array.type)
            if kind != "NULL" and array.null_count == len(array):
                kind = "NULL"
            table = self._ensure_column(work, table, role, feature, kind)
            column = table.column(role, feature)
            assert column is not None
            if column.type == "NULL":
                continue
            fitted, bad = fit_column(array, column.type)
            columns[column.column_name] = fitted
            if bad is not None and bad.any():
                misfits[name] = (array, bad)
        n = events.num_rows
        columns["extra"] = extra_json(misfits, n) if misfits else pa.nulls(n, pa.string())
        prediction = (
            events.column("output.prediction").combine_chunks()
            if "output.prediction" in events.column_names
            else pa.nulls(n)
        )
        columns["prediction_class"], columns["prediction_value"] = _prediction(prediction)
        return table, pa.table(columns)

    def _insert(self, table: ModelTable, stage: pa.Table) -> None:
        name = f"tt_new_{next(_names)}"
        self._con.register(name, stage)
        try:
            segment_key = "CAST(to_json(list_sort(map_entries(segment))) AS VARCHAR)"
            self._con.execute(
                f"""INSERT INTO tt_series
                SELECT nextval('tt_series_ids'), ?, version, env, segment, segment_key
                FROM (SELECT version, coalesce(environment_id, '') AS env,
                             {segment_key} AS segment_key, any_value(segment) AS segment
                      FROM {name} GROUP BY ALL) n
                WHERE NOT EXISTS (
                    SELECT 1 FROM tt_series s WHERE s.model_id = ? AND s.version = n.version
                    AND s.environment_id = n.env AND s.segment_key = n.segment_key)""",
                [table.model_id, table.model_id],
            )
            self._con.execute(
                f"""CREATE OR REPLACE TEMP TABLE tt_stage AS
                SELECT n.*, s.series_id,
                       make_timestamp((epoch_us(n.ts) // 60000000) * 60000000) AS minute
                FROM {name} n JOIN tt_series s
                  ON s.model_id = ? AND s.version = n.version
                 AND s.environment_id = coalesce(n.environment_id, '')
                 AND s.segment_key = {segment_key.replace("segment", "n.segment")}""",
                [table.model_id],
            )
        finally:
            self._con.unregister(name)
        self._con.execute(
            f"INSERT INTO {table.table_name} BY NAME SELECT * EXCLUDE (minute) FROM tt_stage"
        )
        add_events(self._con, "tt_stage")

    def _match_orphans(self, table: ModelTable, hashes: np.ndarray, events: pa.Table) -> set[int]:
        """Labels that arrived before these events: count them now."""
        orphans = self._orphans.get(table.project)
        if not orphans:
            return set()
        hits = {int(h) for h in hashes.tolist()} & orphans
        if not hits:
            return set()
        self._con.execute(
            """CREATE OR REPLACE TEMP TABLE tt_pairs AS
            SELECT s.series_id, s.minute, l.label, l.label_number, s.prediction_class,
                   s.prediction_value, 1 AS sign, s.event_id, s.ts
            FROM tt_stage s JOIN tt_labels l ON l.event_id = s.event_id
            WHERE l.project = ? AND NOT l.matched""",
            [table.project],
        )
        add_label_pairs(self._con, "tt_pairs")
        self._con.execute(
            """UPDATE tt_labels SET matched = true, event_ts = p.ts FROM tt_pairs p
            WHERE tt_labels.project = ? AND tt_labels.event_id = p.event_id""",
            [table.project],
        )
        return hits

    def _write_context(self, project: str, batch: EventBatch) -> None:
        now = _ts(_now_us())
        for env in batch.environments:
            self._con.execute(
                "INSERT OR IGNORE INTO tt_environments VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    project,
                    env["environment_id"],
                    env.get("python"),
                    env.get("platform"),
                    env.get("cpu"),
                    env.get("gpu"),
                    env.get("packages") or {},
                    now,
                ],
            )
        if batch.resources:
            rows = batch.resources
            self._con.executemany(
                "INSERT INTO tt_resources VALUES (?, make_timestamptz(?), ?, ?, ?, ?, ?, ?)",
                [
                    [
                        project,
                        r["ts"],
                        r["instance"],
                        r.get("cpu_percent"),
                        r.get("rss_mb"),
                        r.get("gpu_percent"),
                        r.get("gpu_memory_mb"),
                        r.get("loop_lag_ms"),
                    ]
                    for r in rows
                ],
            )
        client = batch.client
        if "instance" in client and "dropped" in client:
            self._con.execute(
                """INSERT INTO tt_clients VALUES (?, ?, ?, ?, ?)
                ON CONFLICT (project, instance) DO UPDATE SET
                    dropped = excluded.dropped, sdk = excluded.sdk, updated = excluded.updated""",
                [project, client["instance"], client.get("sdk"), client["dropped"], now],
            )

    # ---- labels and feedback ---------------------------------------------------------------

    def write_labels(self, project: str, labels: pa.Table) -> int:
        """Store ground truth (:func:`~telltale.schema.wire.decode_labels_json`); returns the
        number of labels stored. A label replaces an earlier one for the same event, and counts
        in the label rollups as soon as both it and its event are stored, in either order."""
        self._writable()
        if labels.num_rows == 0:
            return 0
        if set(label_columns().names) - set(labels.column_names):
            raise SchemaError(
                f"labels need the columns {label_columns().names}; decode them with decode_labels_json"
            )
        with self._lock:
            hashes = self._hashes(labels.column("event_id").combine_chunks())
            now = _now_us()
            new = labels.select(["event_id", "ts", "label", "label_number"]).append_column(
                "h", pa.array(hashes)
            )
            name = f"tt_labels_new_{next(_names)}"
            self._con.register(name, new)
            try:
                with self._transaction():
                    self._found_events(project, hashes, name)
                    self._con.execute(
                        f"""CREATE OR REPLACE TEMP TABLE tt_pairs AS
                        SELECT f.series_id, f.minute, o.label, o.label_number, f.prediction_class,
                               f.prediction_value, -1 AS sign
                        FROM tt_labels o JOIN tt_found f ON f.event_id = o.event_id
                        WHERE o.project = ?
                        UNION ALL
                        SELECT f.series_id, f.minute, n.label, n.label_number, f.prediction_class,
                               f.prediction_value, 1 AS sign
                        FROM {name} n JOIN tt_found f ON f.event_id = CAST(n.event_id AS UUID)""",
                        [project],
                    )
                    add_label_pairs(self._con, "tt_pairs")
                    self._con.execute(
                        f"""DELETE FROM tt_labels WHERE project = ? AND event_id IN
                        (SELECT CAST(event_id AS UUID) FROM {name})""",
                        [project],
                    )
                    self._con.execute(
                        f"""INSERT INTO tt_labels
                        SELECT ?, CAST(n.event_id AS UUID), n.label, n.label_number,
                               coalesce(n.ts, make_timestamptz(?)), make_timestamptz(?),
                               f.event_id IS NOT NULL, f.ts
                        FROM {name} n LEFT JOIN tt_found f ON f.event_id = CAST(n.event_id AS UUID)""",
                        [project, now, now],
                    )
                    unmatched = self._con.sql(
                        f"""SELECT n.h FROM {name} n LEFT JOIN tt_found f
                        ON f.event_id = CAST(n.event_id AS UUID) WHERE f.event_id IS NULL"""
                    ).to_arrow_table()
            finally:
                self._con.unregister(name)
            orphans = self._orphans.setdefault(project, set())
            orphans.difference_update(int(h) for h in hashes.tolist())
            orphans.update(
                int(h) for h in unmatched.column("h").to_numpy().astype(np.uint64).tolist()
            )
            return labels.num_rows

    def _found_events(self, project: str, hashes: np.ndarray, name: str) -> None:
        """``tt_found``: the stored events of ids in ``name``, from every model of ``project``."""
        selects: list[str] = []
        params: list[Any] = []
        for table in self._tables.values():
            if table.project != project:
                continue
            index = self._ids.get(table.model_id)
            if index is None or not len(index):
                continue
            maybe, times = index.lookup(hashes)
            if not maybe.any():
                continue
            selects.append(
                f"""SELECT e.event_id, e.ts, e.series_id,
                       make_timestamp((epoch_us(e.ts) // 60000000) * 60000000) AS minute,
                       e.prediction_class, e.prediction_value
                FROM {table.table_name} e
                WHERE e.ts BETWEEN make_timestamptz(?) AND make_timestamptz(?)
                  AND e.event_id IN (SELECT CAST(event_id AS UUID) FROM {name})"""
            )
            params += [int(times[maybe].min()), int(times[maybe].max())]
        if not selects:
            selects = [
                "SELECT NULL::UUID AS event_id, NULL::TIMESTAMPTZ AS ts, NULL::INTEGER AS series_id, "
                "NULL::TIMESTAMP AS minute, NULL::VARCHAR AS prediction_class, "
                "NULL::DOUBLE AS prediction_value WHERE false"
            ]
        self._con.execute(
            "CREATE OR REPLACE TEMP TABLE tt_found AS " + " UNION ALL ".join(selects), params
        )

    def write_feedback(self, project: str, feedback: pa.Table) -> int:
        """Store feedback scores (:func:`~telltale.schema.wire.decode_feedback_json`); a score
        replaces an earlier one for the same event. Returns the number stored."""
        self._writable()
        if feedback.num_rows == 0:
            return 0
        with self._lock:
            now = _now_us()
            name = f"tt_feedback_new_{next(_names)}"
            self._con.register(name, feedback.select(["event_id", "ts", "score"]))
            try:
                with self._transaction():
                    self._con.execute(
                        f"""DELETE FROM tt_feedback WHERE project = ? AND event_id IN
                        (SELECT CAST(event_id AS UUID) FROM {name})""",
                        [project],
                    )
                    self._con.execute(
                        f"""INSERT INTO tt_feedback SELECT ?, CAST(event_id AS UUID), score,
                        coalesce(ts, make_timestamptz(?)), make_timestamptz(?) FROM {name}""",
                        [project, now, now],
                    )
            finally:
                self._con.unregister(name)
            return feedback.num_rows

    # ---- retention -------------------------------------------------------------------------

    def apply_retention(self, max_age: timedelta, *, now: datetime | None = None) -> dict[str, int]:
        """Delete raw events, their labels and feedback, and resource samples older than
        ``max_age``; the rollups stay, so history queries still answer. Returns deleted rows."""
        self._writable()
        if max_age <= timedelta(0):
            raise ConfigError(f"max_age must be positive, got {max_age}")
        cutoff = _us(now or datetime.now(timezone.utc)) - int(max_age.total_seconds() * 1_000_000)
        deleted = {"events": 0, "labels": 0, "feedback": 0, "resources": 0}
        with self._lock:
            touched = []
            with self._transaction():
                for table in self._tables.values():
                    n = self._one(
                        f"DELETE FROM {table.table_name} WHERE ts < make_timestamptz(?)", [cutoff]
                    )
                    if n:
                        touched.append(table)
                        deleted["events"] += int(n)
                deleted["labels"] = self._one(
                    """DELETE FROM tt_labels WHERE (matched AND event_ts < make_timestamptz(?))
                    OR (NOT matched AND received < make_timestamptz(?))""",
                    [cutoff, cutoff],
                )
                deleted["feedback"] = self._one(
                    "DELETE FROM tt_feedback WHERE ts < make_timestamptz(?)", [cutoff]
                )
                deleted["resources"] = self._one(
                    "DELETE FROM tt_resources WHERE ts < make_timestamptz(?)", [cutoff]
                )
            for table in touched:
                self._ids[table.model_id] = self._build_index(table)
            self._load_orphans()
        return {k: int(v) for k, v in deleted.items()}

    # ---- reading ---------------------------------------------------------------------------

    def models(self, project: str) -> list[dict[str, Any]]:
        """The project's models: versions, first/last event time, event count (ever accepted,
        retention notwithstanding), features and outputs with their types."""
        tables = [t for t in self._tables.values() if t.project == project]
        if not tables:
            return []
        cursor = self.cursor()
        try:
            counts = {
                row[0]: row[1:]
                for row in cursor.execute(
                    "SELECT model_id, events, first_us, last_us FROM tt_models WHERE project = ?",
                    [project],
                ).fetchall()
            }
            versions: dict[int, list[str]] = {}
            for model_id, version in cursor.execute(
                """SELECT DISTINCT s.model_id, s.version FROM tt_series s
                JOIN tt_models m USING (model_id) WHERE m.project = ? ORDER BY 1, 2""",
                [project],
            ).fetchall():
                versions.setdefault(model_id, []).append(version)
        finally:
            cursor.close()
        out = []
        for table in sorted(tables, key=lambda t: t.model):
            events, first_us, last_us = counts.get(table.model_id, (0, None, None))
            out.append(
                {
                    "model": table.model,
                    "versions": versions.get(table.model_id, []),
                    "events": int(events),
                    "first_ts": None if first_us is None else _ts(first_us).isoformat(),
                    "last_ts": None if last_us is None else _ts(last_us).isoformat(),
                    "features": table.features("input"),
                    "outputs": table.features("output"),
                }
            )
        return out

    def model_table(self, project: str, model: str) -> ModelTable:
        """The catalog entry of a model (:class:`NotFoundError` when it has no events)."""
        return self._table(project, model)

    def series(
        self,
        project: str,
        model: str,
        *,
        version: str | None = None,
        environment: str | None = None,
        segment: dict[str, str] | None = None,
    ) -> list[int]:
        """Ids of the model's series matching the filters (all segment tags must match)."""
        table = self._table(project, model)
        sql = "SELECT series_id FROM tt_series WHERE model_id = ?"
        params: list[Any] = [table.model_id]
        if version is not None:
            sql += " AND version = ?"
            params.append(version)
        if environment is not None:
            sql += " AND environment_id = ?"
            params.append(environment)
        for tag, value in (segment or {}).items():
            sql += " AND map_extract_value(segment, ?) = ?"
            params += [tag, value]
        cursor = self.cursor()
        try:
            return [int(r[0]) for r in cursor.execute(sql, params).fetchall()]
        finally:
            cursor.close()

    def events_relation(
        self,
        project: str,
        model: str,
        start: datetime,
        end: datetime,
        *,
        version: str | None = None,
        environment: str | None = None,
        segment: dict[str, str] | None = None,
        backend: Any = None,
    ) -> Any:
        """The model's raw events in ``[start, end)`` as an Ibis table, features under their own
        names and outputs as ``output.<name>``; the fixed columns (``ts``, ``version``,
        ``latency_ms``, ``status`` ...) follow unless a feature has the same name."""
        import ibis

        table = self._table(project, model)
        con = backend or self.ibis()
        t = con.table(table.table_name)
        t = t.filter(
            t.ts >= ibis.literal(start, "timestamp('UTC')"),
            t.ts < ibis.literal(end, "timestamp('UTC')"),
        )
        if version is not None:
            t = t.filter(t.version == version)
        if environment is not None:
            t = t.filter(t.environment_id == environment)
        for tag, value in (segment or {}).items():
            t = t.filter(t.segment.get(tag) == value)
        selection: dict[str, Any] = {}
        for column in table.columns.values():
            if column.type == "NULL":
                continue
            label = column.name if column.role == "input" else OUTPUT_PREFIX + column.name
            selection[label] = t[column.column_name]
        for name in _FIXED:
            if name not in selection:
                selection[name] = t[name]
        return t.select(**selection)

    # ---- references ------------------------------------------------------------------------

    def save_reference(self, project: str, model: str, name: str, data: bytes) -> None:
        """Keep a reference profile (the bytes of a ``.ttp`` file) under ``name``; replaces."""
        self._writable()
        if not isinstance(name, str) or not 1 <= len(name) <= 200:
            raise ConfigError(f"reference name {name!r} must be 1-200 characters")
        if not isinstance(data, (bytes, bytearray)) or len(data) > _MAX_REFERENCE_BYTES:
            raise ConfigError("a reference must be bytes of at most 64 MiB (a saved profile)")
        with self._lock, self._transaction():
            self._con.execute(
                """INSERT INTO tt_references VALUES (?, ?, ?, ?, make_timestamptz(?))
                ON CONFLICT (project, model, name) DO UPDATE SET data = excluded.data,
                created = excluded.created""",
                [project, model, name, bytes(data), _now_us()],
            )

    def load_reference(self, project: str, model: str, name: str) -> bytes:
        cursor = self.cursor()
        try:
            row = cursor.execute(
                "SELECT data FROM tt_references WHERE project = ? AND model = ? AND name = ?",
                [project, model, name],
            ).fetchone()
        finally:
            cursor.close()
        if row is None:
            raise NotFoundError(
                f"no reference {name[:200]!r} for model {model[:200]!r}; references() lists them",
                details={"reference": name[:200]},
            )
        return bytes(row[0])

    def references(self, project: str, model: str) -> list[dict[str, Any]]:
        cursor = self.cursor()
        try:
            rows = cursor.execute(
                """SELECT name, octet_length(data), epoch_us(created) FROM tt_references
                WHERE project = ? AND model = ? ORDER BY name""",
                [project, model],
            ).fetchall()
        finally:
            cursor.close()
        return [{"name": r[0], "bytes": int(r[1]), "created": _ts(r[2]).isoformat()} for r in rows]

    # ---- context -------------------------------------------------------------------------

    def environments(self, project: str) -> list[dict[str, Any]]:
        cursor = self.cursor()
        try:
            rows = cursor.execute(
                """SELECT environment_id, python, platform, cpu, gpu, packages
                FROM tt_environments WHERE project = ? ORDER BY environment_id""",
                [project],
            ).fetchall()
        finally:
            cursor.close()
        keys = ("environment_id", "python", "platform", "cpu", "gpu", "packages")
        return [dict(zip(keys, r, strict=True)) for r in rows]

    def clients(self, project: str) -> dict[str, int]:
        """The latest dropped-events total reported by each client instance."""
        cursor = self.cursor()
        try:
            rows = cursor.execute(
                "SELECT instance, dropped FROM tt_clients WHERE project = ? ORDER BY instance",
                [project],
            ).fetchall()
        finally:
            cursor.close()
        return {r[0]: int(r[1]) for r in rows}


@dataclass
class _Outcome:
    accepted: dict[int, int]
    hashes: np.ndarray
    times: np.ndarray
    matched: set[int]


def _concat(parts: list[pa.Table]) -> pa.Table:
    """One table of several batches; a feature whose type differs between them becomes text
    (the wire's mixed-type rule, applied across the group), integers and floats become floats."""
    if len(parts) == 1:
        return parts[0]
    kinds: dict[str, set[str]] = {}
    for part in parts:
        for f in part.schema:
            if f.name.startswith((INPUT_PREFIX, OUTPUT_PREFIX)):
                kinds.setdefault(f.name, set()).add(
                    kind_of(f.type) if f.type != pa.int64() else "INT"
                )
    recast: dict[str, str] = {}
    for name, seen in kinds.items():
        seen.discard("NULL")
        if seen <= {"INT", "DOUBLE"} and len(seen) == 2:
            recast[name] = "DOUBLE"
        elif len(seen) > 1:
            recast[name] = "VARCHAR"
    if recast:
        fixed = []
        for part in parts:
            for name, target in recast.items():
                if name in part.column_names:
                    i = part.schema.get_field_index(name)
                    array, _ = fit_column(part.column(name).combine_chunks(), target)
                    part = part.set_column(i, name, array)
            fixed.append(part)
        parts = fixed
    return pa.concat_tables(parts, promote_options="permissive")


def _prediction(array: pa.Array) -> tuple[pa.Array, pa.Array]:
    """Class text (strings, booleans, integers) and value (numbers) of the predictions."""
    n = len(array)
    if pa.types.is_string(array.type):
        return array, pa.nulls(n, pa.float64())
    if pa.types.is_boolean(array.type):
        return pc.if_else(array, "true", "false"), pa.nulls(n, pa.float64())
    if pa.types.is_integer(array.type):
        return array.cast(pa.string()), array.cast(pa.float64())
    if pa.types.is_floating(array.type):
        return pa.nulls(n, pa.string()), array.cast(pa.float64())
    return pa.nulls(n, pa.string()), pa.nulls(n, pa.float64())
