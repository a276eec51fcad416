"""Ground truth and feedback: one row per (project, event id), replaced when sent again, and
counted in the label rollups as soon as both a label and its event are stored, in either order.

Finding rows without scanning
-----------------------------
Replacing a label means finding the one already stored for the same event, and an event that
arrives after its label must find that label. A ``DELETE ... WHERE event_id IN (...)`` or a
join scans the whole labels table (~40 ms per 10M labels) on every request. So, as for events
(:mod:`telltale.store.ids`), each project's label ids are kept in memory as 64-bit hashes with
the time each row was *received*; labels are appended in the order they are received, so
DuckDB's zone maps skip every row group outside ``received BETWEEN lo AND hi``. A request of
new labels (the common case: no hash known) touches no stored row at all; a resend reads the
few row groups that hold the old rows. A hash hit is only a *maybe*: when the bounded read
finds fewer rows than hits, the rest are looked up without the bound (only a 64-bit hash
collision gets there). Feedback works the same way.

Labels whose event has not arrived (*orphans*, ``matched = false``) are also kept as hashes in
memory, so an event write checks its ids against them without SQL and only a hit costs a query.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pyarrow as pa

from telltale.errors import SchemaError
from telltale.schema.wire import label_columns
from telltale.store.ids import (
    STORED_ID_BYTES,
    IdIndex,
    id_hashes,
    stored_bytes,
    uuid_array,
    uuid_bytes,
)
from telltale.store.rollup import add_label_pairs

__all__ = ["LABELS_DDL", "EventTables", "Labels"]

LABELS_DDL = (
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
)

EventTables = Sequence[tuple[str, IdIndex]]
"""The events tables of a project with their id indexes: where a label's event may be."""

_Publish = Callable[[], None]


def _now_us() -> int:
    return time.time_ns() // 1000


class Labels:
    """The in-memory side of ``tt_labels`` and ``tt_feedback``: id hashes and orphans.

    Each write runs inside the caller's transaction and returns a function that updates the
    memory; the caller runs it once the transaction has committed.
    """

    def __init__(self) -> None:
        self._labels: dict[str, IdIndex] = {}
        self._feedback: dict[str, IdIndex] = {}
        self._orphans: dict[str, set[int]] = {}

    def load(self, con: Any) -> None:
        """Read the ids of every stored label and feedback (when the store opens, and after
        retention deleted some)."""
        self._labels, self._orphans = {}, {}
        labels = con.sql(
            f"SELECT project, {STORED_ID_BYTES} AS id, epoch_us(received) AS t, matched "
            "FROM tt_labels ORDER BY project"
        ).to_arrow_table()
        for project, rows in _by_project(labels):
            hashes = id_hashes(stored_bytes(rows.column("id")))
            self._labels[project] = _index(hashes, rows.column("t"))
            matched = rows.column("matched").to_numpy().astype(bool)
            self._orphans[project] = set(hashes[~matched].tolist())
        self._feedback = {}
        feedback = con.sql(
            f"SELECT project, {STORED_ID_BYTES} AS id, epoch_us(received) AS t "
            "FROM tt_feedback ORDER BY project"
        ).to_arrow_table()
        for project, rows in _by_project(feedback):
            hashes = id_hashes(stored_bytes(rows.column("id")))
            self._feedback[project] = _index(hashes, rows.column("t"))

    # ---- labels ------------------------------------------------------------------------------

    def write(self, con: Any, project: str, labels: pa.Table, events: EventTables) -> _Publish:
        """Store ``labels`` (:func:`~telltale.schema.wire.decode_labels_json`): replace the old
        label of each event, and move the confusion/regression rollups from the old pair to the
        new one where the event is stored."""
        missing = set(label_columns().names) - set(labels.column_names)
        if missing:
            raise SchemaError(
                f"labels need the columns {label_columns().names} (missing {sorted(missing)}); "
                "decode them with decode_labels_json"
            )
        raw = uuid_bytes(labels.column("event_id").combine_chunks())
        hashes = id_hashes(raw)
        now = _now_us()
        new = pa.table(
            {
                "event_id": uuid_array(raw),
                "ts": labels.column("ts"),
                "label": labels.column("label"),
                "label_number": labels.column("label_number"),
            }
        )
        con.register("tt_labels_new", new)
        try:
            _found_events(con, events, hashes, "tt_labels_new")
            old = _existing(
                con,
                "tt_labels",
                "event_id, label, label_number, received",
                project,
                self._labels.get(project),
                hashes,
                "tt_labels_new",
            )
            con.execute(
                """CREATE OR REPLACE TEMP TABLE tt_pairs AS
                SELECT f.series_id, f.minute, o.label, o.label_number, f.prediction_class,
                       f.prediction_value, -1 AS sign
                FROM tt_old o JOIN tt_found f ON f.event_id = o.event_id
                UNION ALL
                SELECT f.series_id, f.minute, n.label, n.label_number, f.prediction_class,
                       f.prediction_value, 1 AS sign
                FROM tt_labels_new n JOIN tt_found f ON f.event_id = CAST(n.event_id AS UUID)"""
            )
            add_label_pairs(con, "tt_pairs")
            _delete_old(con, "tt_labels", project, old)
            con.execute(
                """INSERT INTO tt_labels
                SELECT ?, CAST(n.event_id AS UUID), n.label, n.label_number,
                       coalesce(n.ts, make_timestamptz(?)), make_timestamptz(?),
                       f.event_id IS NOT NULL, f.ts
                FROM tt_labels_new n LEFT JOIN tt_found f ON f.event_id = CAST(n.event_id AS UUID)""",
                [project, now, now],
            )
            found = con.sql(f"SELECT {STORED_ID_BYTES} AS id FROM tt_found").to_arrow_table()
        finally:
            con.unregister("tt_labels_new")
        matched = set(id_hashes(stored_bytes(found.column("id"))).tolist())

        def publish() -> None:
            self._labels.setdefault(project, IdIndex()).add(hashes, np.full(len(hashes), now))
            orphans = self._orphans.setdefault(project, set())
            for h in hashes.tolist():
                if h in matched:
                    orphans.discard(h)
                else:
                    orphans.add(h)

        return publish

    def match_events(self, con: Any, project: str, hashes: np.ndarray, rows: pa.Table) -> _Publish:
        """Count the labels that arrived before these (just inserted) events.

        ``rows`` has, per event: ``event_id`` (:func:`~telltale.store.ids.uuid_array`), ``ts``,
        ``series_id``, ``minute`` (µs), ``prediction_class``, ``prediction_value``."""
        orphans = self._orphans.get(project)
        if not orphans:
            return _nothing
        hit = np.fromiter((h in orphans for h in hashes.tolist()), dtype=bool, count=len(hashes))
        if not hit.any():
            return _nothing
        index = self._labels.get(project)
        assert index is not None
        _, times = index.lookup(hashes[hit])
        con.register("tt_hits", rows.filter(pa.array(hit)))
        try:
            sql = """CREATE OR REPLACE TEMP TABLE tt_pairs AS
                SELECT s.series_id, make_timestamp(s.minute) AS minute, l.label, l.label_number,
                       s.prediction_class, s.prediction_value, 1 AS sign,
                       l.event_id, s.ts, l.received
                FROM tt_hits s JOIN tt_labels l ON l.event_id = CAST(s.event_id AS UUID)
                WHERE l.project = ? AND NOT l.matched"""
            bound = " AND l.received BETWEEN make_timestamptz(?) AND make_timestamptz(?)"
            con.execute(sql + bound, [project, int(times.min()), int(times.max())])
            if _count(con, "tt_pairs") < int(hit.sum()):  # a hash collision: look everywhere
                con.execute(sql, [project])
        finally:
            con.unregister("tt_hits")
        add_label_pairs(con, "tt_pairs")
        ((low, high),) = con.execute(
            "SELECT epoch_us(min(received)), epoch_us(max(received)) FROM tt_pairs"
        ).fetchall()
        if low is not None:
            con.execute(
                """UPDATE tt_labels SET matched = true, event_ts = p.ts FROM tt_pairs p
                WHERE tt_labels.project = ? AND tt_labels.event_id = p.event_id
                  AND tt_labels.received BETWEEN make_timestamptz(?) AND make_timestamptz(?)""",
                [project, low, high],
            )
        found = con.sql(f"SELECT {STORED_ID_BYTES} AS id FROM tt_pairs").to_arrow_table()
        matched = id_hashes(stored_bytes(found.column("id"))).tolist()

        def publish() -> None:
            self._orphans.get(project, set()).difference_update(matched)

        return publish

    # ---- feedback ----------------------------------------------------------------------------

    def write_feedback(self, con: Any, project: str, feedback: pa.Table) -> _Publish:
        """Store feedback scores (:func:`~telltale.schema.wire.decode_feedback_json`); a score
        replaces an earlier one for the same event."""
        raw = uuid_bytes(feedback.column("event_id").combine_chunks())
        hashes = id_hashes(raw)
        now = _now_us()
        new = pa.table(
            {
                "event_id": uuid_array(raw),
                "ts": feedback.column("ts"),
                "score": feedback.column("score"),
            }
        )
        con.register("tt_feedback_new", new)
        try:
            old = _existing(
                con,
                "tt_feedback",
                "event_id, received",
                project,
                self._feedback.get(project),
                hashes,
                "tt_feedback_new",
            )
            _delete_old(con, "tt_feedback", project, old)
            con.execute(
                """INSERT INTO tt_feedback SELECT ?, CAST(event_id AS UUID), score,
                coalesce(ts, make_timestamptz(?)), make_timestamptz(?) FROM tt_feedback_new""",
                [project, now, now],
            )
        finally:
            con.unregister("tt_feedback_new")

        def publish() -> None:
            self._feedback.setdefault(project, IdIndex()).add(hashes, np.full(len(hashes), now))

        return publish


def _nothing() -> None:
    return None


def _count(con: Any, table: str) -> int:
    ((count,),) = con.execute(f"SELECT count(*) FROM {table}").fetchall()
    return int(count)


def _by_project(table: pa.Table) -> list[tuple[str, pa.Table]]:
    """Rows sorted by project → one table per project."""
    if table.num_rows == 0:
        return []
    projects = table.column("project").to_pylist()
    out, start = [], 0
    for i in range(1, len(projects) + 1):
        if i == len(projects) or projects[i] != projects[start]:
            out.append((projects[start], table.slice(start, i - start)))
            start = i
    return out


def _index(hashes: np.ndarray, times: pa.ChunkedArray) -> IdIndex:
    index = IdIndex()
    index.add(hashes, times.to_numpy().astype(np.int64))
    return index


def _existing(
    con: Any,
    table: str,
    columns: str,
    project: str,
    index: IdIndex | None,
    hashes: np.ndarray,
    new: str,
) -> int:
    """Copy the stored rows of ``table`` whose ids are in ``new`` into ``tt_old``; returns how
    many. Reads only the time range the index points to, unless that misses a hit."""
    maybe = np.zeros(len(hashes), dtype=bool)
    times = np.zeros(len(hashes), dtype=np.int64)
    if index is not None and len(index):
        maybe, times = index.lookup(hashes)
    sql = f"""CREATE OR REPLACE TEMP TABLE tt_old AS SELECT {columns} FROM {table}
        WHERE project = ? AND event_id IN (SELECT CAST(event_id AS UUID) FROM {new})"""
    if not maybe.any():
        con.execute(sql + " AND false", [project])
        return 0
    low, high = int(times[maybe].min()), int(times[maybe].max())
    con.execute(
        sql + " AND received BETWEEN make_timestamptz(?) AND make_timestamptz(?)",
        [project, low, high],
    )
    found = _count(con, "tt_old")
    if found < int(maybe.sum()):  # a hash collision (or a time the index lost): look everywhere
        con.execute(sql, [project])
        found = _count(con, "tt_old")
    return found


def _delete_old(con: Any, table: str, project: str, old: int) -> None:
    """Delete the rows copied to ``tt_old``, reading only the row groups of their times."""
    if not old:
        return
    con.execute(
        f"""DELETE FROM {table} WHERE project = ?
        AND received BETWEEN (SELECT min(received) FROM tt_old) AND (SELECT max(received) FROM tt_old)
        AND event_id IN (SELECT event_id FROM tt_old)""",
        [project],
    )


def _found_events(con: Any, events: EventTables, hashes: np.ndarray, new: str) -> None:
    """``tt_found``: the stored events of the ids in ``new``, from the project's tables, each
    read only over the times its id index points to."""
    selects: list[str] = []
    params: list[Any] = []
    for table_name, index in events:
        if not len(index):
            continue
        maybe, times = index.lookup(hashes)
        if not maybe.any():
            continue
        selects.append(
            f"""SELECT e.event_id, e.ts, e.series_id,
                   make_timestamp((epoch_us(e.ts) // 60000000) * 60000000) AS minute,
                   e.prediction_class, e.prediction_value
            FROM {table_name} e
            WHERE e.ts BETWEEN make_timestamptz(?) AND make_timestamptz(?)
              AND e.event_id IN (SELECT CAST(event_id AS UUID) FROM {new})"""
        )
        params += [int(times[maybe].min()), int(times[maybe].max())]
    if not selects:
        selects = [
            "SELECT NULL::UUID AS event_id, NULL::TIMESTAMPTZ AS ts, NULL::INTEGER AS series_id, "
            "NULL::TIMESTAMP AS minute, NULL::VARCHAR AS prediction_class, "
            "NULL::DOUBLE AS prediction_value WHERE false"
        ]
    con.execute("CREATE OR REPLACE TEMP TABLE tt_found AS " + " UNION ALL ".join(selects), params)
