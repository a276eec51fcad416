"""The DuckDB file that keeps every model's events, labels, rollups and references.

One process owns the file (DuckDB allows one writer); :class:`EventStore` owns one connection,
writes on it from one thread (the server's group writer), and hands out cursors for reads from
other threads, which see committed data consistently while a write runs.

Layout
------
- ``tt_meta``: the schema version, and how far back minute latency histograms go.
- ``tt_models``/``tt_columns`` (:mod:`~telltale.store.catalog`): each (project, model) has its
  own events table ``tt_events_<id>`` with one generated column per feature and output.
- ``tt_series`` (:mod:`~telltale.store.series`) and the ``tt_roll_*`` tables
  (:mod:`~telltale.store.rollup`): per-minute aggregates, updated in the transaction that
  inserts the events.
- ``tt_labels``, ``tt_feedback`` (:mod:`~telltale.store.labels`): one row per (project, event
  id), replaced when resent.
- ``tt_environments``, ``tt_resources``, ``tt_clients`` (:mod:`~telltale.store.context`) and
  ``tt_references`` (:mod:`~telltale.store.references`).

Every row belongs to the project the caller names (from the API key), never one a client names:
events through their model's table, the other tables through a ``project`` column.

A write, statement by statement
-------------------------------
:meth:`EventStore.write` takes several requests' batches and commits them in one transaction. A
DuckDB statement costs milliseconds whatever its size (ENGINES.md), so the statements of a
transaction do not grow with the number of requests in it: the same-model batches of the group
are concatenated and inserted from one Arrow table (one ``INSERT`` per model); the rollup deltas
of all models are computed in Arrow and appended, one statement per rollup table (merged every
:data:`COMPACT_EVERY` transactions, :func:`~telltale.store.rollup.compact_rollups`); the models'
counters are one ``UPDATE``; the context of all requests at most three statements. Everything
that needs no SQL stays in memory: the catalog (SQL only to add a table or a column), the series
ids, and which event ids are stored. What does not depend on the store is computed before the
write, on the request's thread (:mod:`~telltale.store.prepare`).

When ``write`` returns, the transaction is committed, so the rows survive a ``kill -9`` of the
process (tests/store/test_events_durability.py kills a child process right after a write
returns).

Idempotency
-----------
Each events table has an in-memory :class:`~telltale.store.ids.IdIndex` (hash and time of every
stored id), built when the store opens; see that module for the measured alternatives. A batch's
ids are hashed in numpy, looked up there, repeats inside the group are dropped (first wins), and
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

import contextlib
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from telltale.errors import ConfigError, DataError, NotFoundError
from telltale.schema.wire import OUTPUT_PREFIX, EventBatch
from telltale.store.catalog import CATALOG_DDL, FIXED_COLUMNS, Catalog, ModelTable, unify_types
from telltale.store.context import CONTEXT_DDL, Context
from telltale.store.ids import STORED_ID_BYTES, IdIndex, id_hashes, stored_bytes, uuid_array
from telltale.store.labels import LABELS_DDL, Labels
from telltale.store.latency import latency_histograms, trim_minutes
from telltale.store.prepare import ModelPart, PreparedBatch, prepare_batch
from telltale.store.references import (
    REFERENCES_DDL,
    list_references,
    load_reference,
    save_reference,
)
from telltale.store.rollup import ROLLUP_DDL, add_event_facts, compact_rollups, migrate_rollups
from telltale.store.series import SERIES_DDL, SeriesCache

__all__ = ["STORE_SCHEMA_VERSION", "EventStore", "IngestResult", "PreparedBatch", "prepare_batch"]

STORE_SCHEMA_VERSION = 4
"""2: the rollups of event facts are appended and compacted, not upserted through a key (1)."""

COMPACT_EVERY = 32
"""Transactions between two compactions of the appended rollup rows (:mod:`.rollup`): each
(series, minute) then has at most this many rows, merged in ~10 ms."""

_DDL = (
    "CREATE TABLE IF NOT EXISTS tt_meta (key VARCHAR PRIMARY KEY, value VARCHAR NOT NULL)",
    *CATALOG_DDL,
    *SERIES_DDL,
    *ROLLUP_DDL,
    *LABELS_DDL,
    *CONTEXT_DDL,
    *REFERENCES_DDL,
)


@dataclass(frozen=True)
class IngestResult:
    """What happened to one request's batch: rows stored, and rows already stored (or repeated)."""

    accepted: int
    duplicates: int


@dataclass
class _Transaction:
    catalog: Catalog
    after: list[Callable[[], None]] = field(default_factory=list)
    """What to change in memory once the transaction has committed."""


def _now_us() -> int:
    return time.time_ns() // 1000


def _us(value: datetime) -> int:
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    delta = value - datetime(1970, 1, 1, tzinfo=timezone.utc)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def _ts(micros: int) -> datetime:
    return datetime(1970, 1, 1, tzinfo=timezone.utc) + timedelta(microseconds=micros)


CHECKPOINT_THRESHOLD = "256MB"
_CLOSE_WAIT_S = 30.0
_READABLE_VERSIONS = (1, 2, 3, STORE_SCHEMA_VERSION)  # older ones are migrated when opened to write
"""WAL size at which DuckDB folds the log into the file (its default is 16 MB)."""


class EventStore:
    """Events, labels, rollups and references of every project, in one DuckDB file.

    >>> import tempfile, pathlib
    >>> store = EventStore(pathlib.Path(tempfile.mkdtemp()) / "telltale.duckdb")
    >>> store.models("fraud-team")
    []
    >>> store.close()
    """

    def __init__(
        self, path: str | Path, *, read_only: bool = False, threads: int | None = None
    ) -> None:
        """Open (or make) the store at ``path``. ``threads`` sets DuckDB's thread count for the
        whole file (default: DuckDB's, one per core); a server that ingests sets 1, because a
        second DuckDB thread contends with the writer for Python's GIL (docs/architecture.md)."""
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
            # DuckDB checkpoints when the WAL passes 16 MB, rewriting the table's open row group
            # each time: at ingest rates that doubles the commit cost (benchmarks/store_ingest.py).
            # A larger WAL costs replay time after a crash instead.
            self._con.execute(f"SET checkpoint_threshold = '{CHECKPOINT_THRESHOLD}'")
            if threads is not None:
                self._con.execute(f"SET threads = {int(threads)}")
            for statement in _DDL:
                self._con.execute(statement)
            self._con.execute(
                "INSERT OR IGNORE INTO tt_meta VALUES ('schema_version', ?)",
                [str(STORE_SCHEMA_VERSION)],
            )
            self._migrate()
        self._check_version()
        self._catalog = Catalog.load(self._con)
        self._series = SeriesCache()
        self._ids: dict[int, IdIndex] = {}
        self._labels = Labels()
        self._context = Context()
        self._dirty_minutes: set[int] = set()
        """Minutes (epoch µs) with rollup rows appended since the last compaction."""
        self._since_compaction = 0
        if not read_only:
            self._series.load(self._con)
            for table in self._catalog:
                self._ids[table.model_id] = self._build_index(table)
            self._labels.load(self._con)
            self._context.load(self._con)

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
                self.compact()
                self._con.execute("CHECKPOINT")
            # A reader thread (a page's background drift, an alert round the server's shutdown
            # cancelled) may still run a query on a cursor: DuckDB refuses to close under it
            # rather than wait, so wait here, a bounded time.
            import duckdb

            deadline = time.monotonic() + _CLOSE_WAIT_S
            while True:
                try:
                    self._con.close()
                    return
                except duckdb.Error as error:
                    if "busy" not in str(error) or time.monotonic() > deadline:
                        raise
                    time.sleep(0.05)

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
        if int(row[0]) not in _READABLE_VERSIONS:
            raise DataError(
                f"{str(self.path)!r} has store schema version {row[0]}, this telltale reads "
                f"version {STORE_SCHEMA_VERSION}; upgrade telltale or use another file"
            )

    def _migrate(self) -> None:
        """Bring a file of an older store schema up to :data:`STORE_SCHEMA_VERSION`: schema 1
        kept primary keys on the appended rollups, schema 2 had no model on resource samples,
        schema 3 no labels on environments."""
        row = self._con.execute("SELECT value FROM tt_meta WHERE key = 'schema_version'").fetchone()
        if row is None or int(row[0]) >= STORE_SCHEMA_VERSION:
            return
        version = int(row[0])
        self._con.execute("BEGIN TRANSACTION")  # before the catalog is loaded: no _transaction
        try:
            if version < 2:
                migrate_rollups(self._con)
            columns = {
                (r[0], r[1])
                for r in self._con.execute(
                    "SELECT table_name, column_name FROM duckdb_columns() "
                    "WHERE table_name IN ('tt_resources', 'tt_environments')"
                ).fetchall()
            }
            if ("tt_resources", "model") not in columns:
                self._con.execute("ALTER TABLE tt_resources ADD COLUMN model VARCHAR")
            if ("tt_environments", "labels") not in columns:
                self._con.execute(
                    "ALTER TABLE tt_environments ADD COLUMN labels MAP(VARCHAR, VARCHAR)"
                )
            self._con.execute(
                "UPDATE tt_meta SET value = ? WHERE key = 'schema_version'",
                [str(STORE_SCHEMA_VERSION)],
            )
            self._con.execute("COMMIT")
        except BaseException:
            with contextlib.suppress(Exception):
                self._con.execute("ROLLBACK")
            raise

    def compact(self) -> int:
        """Merge the rollup rows appended since the last compaction (done every
        :data:`COMPACT_EVERY` transactions and on close). Returns the rows removed."""
        self._writable()
        with self._lock:
            if not self._dirty_minutes:
                return 0
            with self._transaction():
                removed = compact_rollups(self._con, self._dirty_minutes)
            self._dirty_minutes.clear()
            self._since_compaction = 0
            return removed

    def _writable(self) -> None:
        if self.read_only:
            raise ConfigError(
                f"the store {str(self.path)!r} was opened read-only; open it with read_only=False to write"
            )

    def _one(self, sql: str, params: list[Any] | None = None) -> Any:
        rows = self._con.execute(sql, params or []).fetchall()
        assert rows, sql
        return rows[0][0]

    def _table(self, project: str, model: str) -> ModelTable:
        table = self._catalog.get(project, model)
        if table is None:
            raise NotFoundError(
                f"no model {model[:200]!r} in project {project!r}; models() lists them",
                details={"model": model[:200]},
            )
        return table

    def _build_index(self, table: ModelTable) -> IdIndex:
        index = IdIndex()
        result = self._con.sql(
            f"SELECT {STORED_ID_BYTES} AS id, epoch_us(ts) AS t FROM {table.table_name}"
        ).to_arrow_table()
        if result.num_rows:
            index.add(
                id_hashes(stored_bytes(result.column("id"))),
                result.column("t").to_numpy().astype(np.int64),
            )
        return index

    @contextmanager
    def _transaction(self) -> Iterator[_Transaction]:
        """A transaction with a working copy of the catalog; memory follows only on commit."""
        txn = _Transaction(self._catalog.working())
        started = time.perf_counter()
        self._con.execute("BEGIN TRANSACTION")
        try:
            yield txn
            statements = time.perf_counter()
            self._con.execute("COMMIT")
        except BaseException:
            with contextlib.suppress(Exception):  # a failed COMMIT has already rolled back
                self._con.execute("ROLLBACK")
            self._series.discard()
            raise
        self._catalog.adopt(txn.catalog)
        self._series.publish()
        for change in txn.after:
            change()
        done = time.perf_counter()
        self.last_timing = {"statements_s": statements - started, "commit_s": done - statements}

    # ---- writing events --------------------------------------------------------------------

    def write(
        self, batches: Sequence[tuple[str, EventBatch | PreparedBatch]]
    ) -> list[IngestResult]:
        """Store several requests' batches (``(project, batch)``) in one transaction.

        A batch may come prepared (:func:`~telltale.store.prepare.prepare_batch`, which the
        server runs on the request's thread). Returns one :class:`IngestResult` per batch, once
        committed. Events already stored (by ``event_id``, per project and model), and repeats
        of an id within the group, count as duplicates and are not stored again.
        """
        self._writable()
        prepared = [
            (project, b if isinstance(b, PreparedBatch) else prepare_batch(b))
            for project, b in batches
        ]
        groups: dict[tuple[str, str], list[tuple[int, ModelPart]]] = {}
        for index, (project, batch) in enumerate(prepared):
            for part in batch.parts:
                groups.setdefault((project, part.model), []).append((index, part))
        accepted = [0] * len(prepared)
        with self._lock, self._transaction() as txn:
            facts: list[pa.Table] = []
            counters: list[tuple[int, int, int, int]] = []
            for (project, model), parts in groups.items():
                table = txn.catalog.ensure_table(self._con, project, model)
                kept = self._write_model(txn, table, parts, accepted)
                if kept is not None:
                    facts.append(kept[0])
                    counters.append((table.model_id, *kept[1]))
            if facts:
                all_facts = pa.concat_tables(facts)
                add_event_facts(self._con, all_facts)
                self._count_events(counters)
                minutes = np.unique(all_facts.column("minute").to_numpy()).tolist()
                self._since_compaction += 1
                if self._since_compaction >= COMPACT_EVERY:
                    compact_rollups(self._con, self._dirty_minutes.union(minutes))
                    txn.after.append(self._compacted)
                else:
                    txn.after.append(lambda: self._dirty_minutes.update(minutes))
            txn.after.append(self._context.write(self._con, [(p, b.batch) for p, b in prepared]))
        totals = [sum(part.rows for part in b.parts) for _, b in prepared]
        return [IngestResult(a, t - a) for a, t in zip(accepted, totals, strict=True)]

    def _compacted(self) -> None:
        self._dirty_minutes.clear()
        self._since_compaction = 0

    def _write_model(
        self,
        txn: _Transaction,
        table: ModelTable,
        parts: list[tuple[int, ModelPart]],
        accepted: list[int],
    ) -> tuple[pa.Table, tuple[int, int, int]] | None:
        """Insert the new events of one model; returns their rollup facts and (count, first
        µs, last µs), or None when every event was a duplicate."""
        owners = np.concatenate([np.full(p.rows, i, dtype=np.int64) for i, p in parts])
        raw = np.concatenate([p.ids for _, p in parts])
        hashes = np.concatenate([p.hashes for _, p in parts])
        times = np.concatenate([p.times for _, p in parts])
        keep = _first_of_each_id(raw, hashes)
        index = self._ids.get(table.model_id)
        if index is not None and len(index):
            maybe, stored_times = index.lookup(hashes)
            maybe &= keep
            if maybe.any():
                keep[self._stored(table, raw, maybe, stored_times)] = False
        for owner, n in enumerate(np.bincount(owners[keep], minlength=len(accepted))):
            accepted[owner] += int(n)
        if not keep.any():
            return None
        everything = keep.all()
        mask = pa.array(keep)
        events = unify_types([p.events for _, p in parts])
        facts = pa.concat_tables([p.facts for _, p in parts])
        series = np.concatenate(
            [
                self._series.ids(self._con, table.model_id, p.series_keys)[p.series_codes]
                for _, p in parts
            ]
        )
        if not everything:
            events, facts, series = events.filter(mask), facts.filter(mask), series[keep]
            raw, hashes, times = raw[keep], hashes[keep], times[keep]
        table, features = txn.catalog.table_rows(self._con, table, events)
        ids = uuid_array(raw)
        series_ids = pa.array(series, pa.int32())
        rows: dict[str, Any] = {"event_id": ids}
        rows.update({name: events.column(name) for name in FIXED_COLUMNS if name != "event_id"})
        rows["series_id"] = series_ids
        rows["prediction_class"] = facts.column("class")
        rows["prediction_value"] = facts.column("value")
        rows.update(features)
        self._con.register("tt_new_events", pa.table(rows))
        try:
            self._con.execute(f"INSERT INTO {table.table_name} BY NAME SELECT * FROM tt_new_events")
        finally:
            self._con.unregister("tt_new_events")
        matching = pa.table(
            {
                "event_id": ids,
                "ts": events.column("ts"),
                "series_id": series_ids,
                "minute": facts.column("minute"),
                "prediction_class": facts.column("class"),
                "prediction_value": facts.column("value"),
            }
        )
        txn.after.append(self._labels.match_events(self._con, table.project, hashes, matching))
        model_id = table.model_id
        txn.after.append(lambda: self._ids.setdefault(model_id, IdIndex()).add(hashes, times))
        facts = facts.append_column("series_id", series_ids)
        return facts, (len(hashes), int(times.min()), int(times.max()))

    def _stored(
        self, table: ModelTable, raw: np.ndarray, maybe: np.ndarray, times: np.ndarray
    ) -> np.ndarray:
        """Rows (indices) of ``raw`` flagged ``maybe`` that the table really holds: looked up
        within the times the index kept, then everywhere for any hit not found there."""
        candidates = np.flatnonzero(maybe)
        texts = [str(uuid.UUID(bytes=bytes(raw[i]))) for i in candidates]
        sql = (
            f"SELECT CAST(event_id AS VARCHAR) FROM {table.table_name} "
            "WHERE event_id IN (SELECT CAST(unnest(?::VARCHAR[]) AS UUID))"
        )
        bounded = " AND ts BETWEEN make_timestamptz(?) AND make_timestamptz(?)"
        low, high = int(times[candidates].min()), int(times[candidates].max())
        found = {r[0] for r in self._con.execute(sql + bounded, [texts, low, high]).fetchall()}
        rest = [t for t in texts if t not in found]
        if rest:
            found |= {r[0] for r in self._con.execute(sql, [rest]).fetchall()}
        return candidates[[t in found for t in texts]]

    def _count_events(self, counters: list[tuple[int, int, int, int]]) -> None:
        deltas = pa.table(
            {
                "model_id": pa.array([c[0] for c in counters], pa.int32()),
                "n": pa.array([c[1] for c in counters], pa.int64()),
                "first_us": pa.array([c[2] for c in counters], pa.int64()),
                "last_us": pa.array([c[3] for c in counters], pa.int64()),
            }
        )
        self._con.register("tt_model_counts", deltas)
        try:
            self._con.execute(
                """UPDATE tt_models SET events = tt_models.events + d.n,
                    first_us = least(coalesce(tt_models.first_us, d.first_us), d.first_us),
                    last_us = greatest(coalesce(tt_models.last_us, d.last_us), d.last_us)
                FROM tt_model_counts d WHERE tt_models.model_id = d.model_id"""
            )
        finally:
            self._con.unregister("tt_model_counts")

    # ---- labels and feedback ---------------------------------------------------------------

    def write_labels(self, project: str, labels: pa.Table) -> int:
        """Store ground truth (:func:`~telltale.schema.wire.decode_labels_json`); returns the
        number of labels stored. A label replaces an earlier one for the same event, and counts
        in the label rollups as soon as both it and its event are stored, in either order."""
        self._writable()
        if labels.num_rows == 0:
            return 0
        with self._lock, self._transaction() as txn:
            events = [
                (t.table_name, self._ids.get(t.model_id, IdIndex()))
                for t in self._catalog
                if t.project == project
            ]
            txn.after.append(self._labels.write(self._con, project, labels, events))
        return labels.num_rows

    def write_feedback(self, project: str, feedback: pa.Table) -> int:
        """Store feedback scores (:func:`~telltale.schema.wire.decode_feedback_json`); a score
        replaces an earlier one for the same event. Returns the number stored."""
        self._writable()
        if feedback.num_rows == 0:
            return 0
        with self._lock, self._transaction() as txn:
            txn.after.append(self._labels.write_feedback(self._con, project, feedback))
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
                for table in self._catalog:
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
            if deleted["labels"] or deleted["feedback"]:
                self._labels.load(self._con)
        return {k: int(v) for k, v in deleted.items()}

    def trim_latency_minutes(self, keep: timedelta, *, now: datetime | None = None) -> int:
        """Delete per-minute latency histograms older than ``keep`` (whole hours; the hourly
        ones stay). Windows stay correct: see :mod:`telltale.store.latency`. Returns rows
        deleted."""
        self._writable()
        if keep <= timedelta(0):
            raise ConfigError(f"keep must be positive, got {keep}; 0 days would drop every minute")
        before = _us(now or datetime.now(timezone.utc)) - int(keep.total_seconds() * 1_000_000)
        with self._lock, self._transaction():
            return trim_minutes(self._con, before)

    # ---- reading ---------------------------------------------------------------------------

    def models(self, project: str) -> list[dict[str, Any]]:
        """The project's models: versions, first/last event time, event count (ever accepted,
        retention notwithstanding), features and outputs with their types."""
        tables = [t for t in self._catalog if t.project == project]
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

    def latency_histograms(
        self, series: list[int], start_us: int, end_us: int, length_us: int | None
    ) -> dict[str, np.ndarray]:
        """Latency buckets per window (``w``, ``bucket``, ``n``) of ``series`` over
        ``[start_us, end_us)``: minutes while kept, hours before (see
        :func:`telltale.store.latency.latency_histograms`)."""
        if not series:
            empty = np.zeros(0, dtype=np.int64)
            return {"w": empty, "bucket": empty, "n": empty}
        cursor = self.cursor()
        try:
            table = latency_histograms(cursor, series, start_us, end_us, length_us)
        finally:
            cursor.close()
        return {name: table.column(name).to_numpy() for name in table.column_names}

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
        for name in FIXED_COLUMNS:
            if name not in selection:
                selection[name] = t[name]
        return t.select(**selection)

    # ---- references and context ------------------------------------------------------------

    def save_reference(self, project: str, model: str, name: str, data: bytes) -> None:
        """Keep a reference profile (the bytes of a ``.ttp`` file) under ``name``; replaces."""
        self._writable()
        with self._lock, self._transaction():
            save_reference(self._con, project, model, name, data, _now_us())

    def load_reference(self, project: str, model: str, name: str) -> bytes:
        cursor = self.cursor()
        try:
            return load_reference(cursor, project, model, name)
        finally:
            cursor.close()

    def references(self, project: str, model: str) -> list[dict[str, Any]]:
        cursor = self.cursor()
        try:
            return list_references(cursor, project, model)
        finally:
            cursor.close()

    def environments(self, project: str) -> list[dict[str, Any]]:
        cursor = self.cursor()
        try:
            return self._context.environments(cursor, project)
        finally:
            cursor.close()

    def clients(self, project: str) -> dict[str, int]:
        """The latest dropped-events total reported by each client instance."""
        cursor = self.cursor()
        try:
            return self._context.clients(cursor, project)
        finally:
            cursor.close()


def _first_of_each_id(raw: np.ndarray, hashes: np.ndarray) -> np.ndarray:
    """A mask of the first row of each distinct id (distinct hashes prove distinct ids; only
    when hashes repeat are the 16 bytes compared)."""
    n = len(hashes)
    keep = np.ones(n, dtype=bool)
    if n < 2 or len(np.unique(hashes)) == n:
        return keep
    _, first = np.unique(np.ascontiguousarray(raw).view("V16").ravel(), return_index=True)
    keep[:] = False
    keep[first] = True
    return keep
