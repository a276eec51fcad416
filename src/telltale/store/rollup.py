"""Per-minute aggregates kept beside the raw events, so history outlives retention.

Every accepted event adds to the row of its *series* (:mod:`telltale.store.series`) and its UTC
minute, in the same transaction as the event itself:

- ``tt_roll_serving``: events by status, rows predicted (``batch_size``), latency count and sum,
  and count/sum/sum of squares of finite numeric predictions;
- ``tt_roll_latency`` (per minute, kept for a number of days) and ``tt_roll_latency_hour``
  (kept forever): latency histograms, see :mod:`telltale.store.latency`;
- ``tt_roll_classes``: counts of each predicted class (string, boolean or integer predictions);
- ``tt_roll_confusion`` and ``tt_roll_regression``: when a label meets its event, the pair
  (label, predicted class) is counted, and for numeric labels and predictions ``n``, ``Σ|e|``,
  ``Σe²``, ``Σy``, ``Σy²`` are added (MAE, RMSE and R² follow); replacing a label subtracts the
  old pair first.

How a write adds to them
------------------------
The deltas of a whole transaction — every model and request in the group — are computed in
Arrow (:func:`add_event_facts`: one ``group_by`` per table over the rows' series, minute, status,
latency bucket and class, all computed before the write by :mod:`telltale.store.prepare`) and
*appended*, one plain ``INSERT`` per table. A DuckDB statement costs milliseconds whatever its
size, so four statements per transaction replace the five per model (and a temporary table each)
that SQL-side aggregation took.

The four tables of event facts have no primary key, so a (series, minute) may have several rows
and every reader sums them (they all do: a window is a ``GROUP BY``). An upsert through the key
(``INSERT ... ON CONFLICT DO UPDATE``, the first design) cost 37 ms of a 160 ms transaction of
18,000 events and made the events' own insert and the commit slower too (the ART indexes):
appending took the store from about 210k to 260k events/s (benchmarks/store_ingest.py). The
rows of a minute are merged back into one by :func:`compact_rollups`, which the store runs every
few dozen transactions on the minutes written since, so the tables stay as small as keyed ones.
Label pairs (``tt_roll_confusion``, ``tt_roll_regression``) arrive far less often and keep their
keys and upserts.

Minutes are naive ``TIMESTAMP`` values in UTC, so hour and day windows are plain integer division
of epoch microseconds, whatever the session's time zone.

>>> sorted(INTERVALS)
['day', 'hour', 'minute']
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from telltale.schema.wire import STATUSES
from telltale.store.latency import (
    ALPHA,
    GAMMA,
    HOUR_US,
    MINUTE_US,
    ZERO_BUCKET,
    bucket_values,
    histogram_quantiles,
    latency_bucket,
    latency_bucket_sql,
)

__all__ = [
    "ALPHA",
    "GAMMA",
    "INTERVALS",
    "MINUTE_US",
    "ROLLUP_DDL",
    "ZERO_BUCKET",
    "add_event_facts",
    "add_label_pairs",
    "bucket_values",
    "compact_rollups",
    "histogram_quantiles",
    "latency_bucket",
    "latency_bucket_sql",
    "migrate_rollups",
]

INTERVALS = {"minute": MINUTE_US, "hour": HOUR_US, "day": 86_400_000_000}
"""Window lengths in microseconds (UTC)."""

ROLLUP_DDL = (
    """CREATE TABLE IF NOT EXISTS tt_roll_serving (
        series_id INTEGER NOT NULL,
        minute TIMESTAMP NOT NULL,
        events BIGINT NOT NULL,
        ok BIGINT NOT NULL,
        error BIGINT NOT NULL,
        invalid BIGINT NOT NULL,
        timeout BIGINT NOT NULL,
        fallback BIGINT NOT NULL,
        batch_rows BIGINT NOT NULL,
        latency_n BIGINT NOT NULL,
        latency_sum DOUBLE NOT NULL,
        prediction_n BIGINT NOT NULL,
        prediction_sum DOUBLE NOT NULL,
        prediction_sumsq DOUBLE NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS tt_roll_latency (
        series_id INTEGER NOT NULL,
        minute TIMESTAMP NOT NULL,
        bucket SMALLINT NOT NULL,
        n BIGINT NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS tt_roll_latency_hour (
        series_id INTEGER NOT NULL,
        hour TIMESTAMP NOT NULL,
        bucket SMALLINT NOT NULL,
        n BIGINT NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS tt_roll_classes (
        series_id INTEGER NOT NULL,
        minute TIMESTAMP NOT NULL,
        class VARCHAR NOT NULL,
        n BIGINT NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS tt_roll_confusion (
        series_id INTEGER NOT NULL,
        minute TIMESTAMP NOT NULL,
        label VARCHAR NOT NULL,
        prediction VARCHAR NOT NULL,
        n BIGINT NOT NULL,
        PRIMARY KEY (series_id, minute, label, prediction)
    )""",
    """CREATE TABLE IF NOT EXISTS tt_roll_regression (
        series_id INTEGER NOT NULL,
        minute TIMESTAMP NOT NULL,
        n BIGINT NOT NULL,
        abs_error DOUBLE NOT NULL,
        sq_error DOUBLE NOT NULL,
        y DOUBLE NOT NULL,
        y2 DOUBLE NOT NULL,
        PRIMARY KEY (series_id, minute)
    )""",
)
"""Statements that create the rollup tables (idempotent)."""

_MINUTE = pa.timestamp("us")


def add_event_facts(con: Any, facts: pa.Table) -> None:
    """Add accepted events to the rollups: one appended delta per table.

    ``facts`` has ``series_id`` and the columns of :attr:`ModelPart.facts
    <telltale.store.prepare.ModelPart.facts>`` (``minute`` in epoch µs, ``status`` as an index
    into STATUSES, ``batch_size``, ``latency_ms``, ``bucket``, ``value``, ``class``).
    """
    if facts.num_rows == 0:
        return
    status = facts.column("status")
    value = facts.column("value")
    value = pc.if_else(pc.is_finite(value), value, pa.scalar(None, pa.float64()))
    columns = {
        "series_id": facts.column("series_id"),
        "minute": facts.column("minute"),
        "batch_size": facts.column("batch_size"),
        "latency_ms": facts.column("latency_ms"),
        "value": value,
        "value_sq": pc.multiply(value, value),
    }
    for index, name in enumerate(STATUSES):
        columns[name] = pc.equal(status, index).cast(pa.int8())
    keyed = pa.table(columns)
    serving = keyed.group_by(["series_id", "minute"], use_threads=False).aggregate(
        [
            ([], "count_all"),
            *((name, "sum") for name in STATUSES),
            ("batch_size", "sum"),
            ("latency_ms", "count"),
            ("latency_ms", "sum"),
            ("value", "count"),
            ("value", "sum"),
            ("value_sq", "sum"),
        ]
    )
    _upsert(
        con,
        "tt_roll_serving",
        serving,
        f"""SELECT series_id, make_timestamp(minute), count_all,
               {", ".join(f"{name}_sum" for name in STATUSES)}, batch_size_sum,
               latency_ms_count, coalesce(latency_ms_sum, 0), value_count,
               coalesce(value_sum, 0), coalesce(value_sq_sum, 0) FROM {{delta}}""",
    )
    timed = facts.select(["series_id", "minute", "bucket"])
    if facts.column("bucket").null_count:
        timed = timed.filter(pc.is_valid(facts.column("bucket")))
    if timed.num_rows:
        minutes = timed.group_by(["series_id", "minute", "bucket"], use_threads=False).aggregate(
            [([], "count_all")]
        )
        _upsert(
            con,
            "tt_roll_latency",
            minutes,
            "SELECT series_id, make_timestamp(minute), bucket, count_all FROM {delta}",
        )
        hour = pc.multiply(pc.divide(minutes.column("minute"), HOUR_US), HOUR_US)
        hours = (
            minutes.set_column(1, "hour", hour)
            .group_by(["series_id", "hour", "bucket"], use_threads=False)
            .aggregate([("count_all", "sum")])
        )
        _upsert(
            con,
            "tt_roll_latency_hour",
            hours,
            "SELECT series_id, make_timestamp(hour), bucket, count_all_sum FROM {delta}",
        )
    classes = facts.select(["series_id", "minute", "class"])
    if classes.column("class").null_count:
        classes = classes.filter(pc.is_valid(classes.column("class")))
    if classes.num_rows:
        counted = classes.group_by(["series_id", "minute", "class"], use_threads=False).aggregate(
            [([], "count_all")]
        )
        _upsert(
            con,
            "tt_roll_classes",
            counted,
            "SELECT series_id, make_timestamp(minute), class, count_all FROM {delta}",
        )


def _upsert(con: Any, table: str, delta: pa.Table, select: str) -> None:
    name = f"tt_delta_{table}"
    con.register(name, delta)
    try:
        con.execute(f"INSERT INTO {table} " + select.format(delta=name))
    finally:
        con.unregister(name)


def add_label_pairs(cursor: Any, pairs: str) -> None:
    """Add (``sign`` = 1) or take back (-1) labelled pairs of table ``pairs``.

    ``pairs`` has ``series_id``, ``minute``, ``label`` (text), ``label_number``,
    ``prediction_class``, ``prediction_value`` and ``sign``.
    """
    cursor.execute(
        f"""INSERT INTO tt_roll_confusion
        SELECT series_id, minute, label, prediction_class, sum(sign)
        FROM {pairs} WHERE prediction_class IS NOT NULL GROUP BY ALL
        ON CONFLICT (series_id, minute, label, prediction) DO UPDATE SET n = n + excluded.n"""
    )
    cursor.execute(
        f"""INSERT INTO tt_roll_regression
        SELECT series_id, minute, sum(sign),
               sum(sign * abs(label_number - prediction_value)),
               sum(sign * (label_number - prediction_value) ** 2),
               sum(sign * label_number), sum(sign * label_number ** 2)
        FROM {pairs}
        WHERE isfinite(label_number) AND isfinite(prediction_value)
        GROUP BY ALL
        ON CONFLICT (series_id, minute) DO UPDATE SET
            n = n + excluded.n, abs_error = abs_error + excluded.abs_error,
            sq_error = sq_error + excluded.sq_error, y = y + excluded.y, y2 = y2 + excluded.y2"""
    )


_APPENDED = {
    # table: (time column, key columns after it, summed columns)
    "tt_roll_serving": (
        "minute",
        (),
        (
            "events", "ok", "error", "invalid", "timeout", "fallback", "batch_rows",
            "latency_n", "latency_sum", "prediction_n", "prediction_sum", "prediction_sumsq",
        ),
    ),
    "tt_roll_latency": ("minute", ("bucket",), ("n",)),
    "tt_roll_latency_hour": ("hour", ("bucket",), ("n",)),
    "tt_roll_classes": ("minute", ("class",), ("n",)),
}  # fmt: skip


def compact_rollups(con: Any, minutes_us: Iterable[int]) -> int:
    """Merge the appended rows of each (series, minute, key) of ``minutes_us`` (epoch µs of UTC
    minutes; their hours for the hourly table) into one row. Call inside a transaction.
    Returns the number of rows removed."""
    minutes = sorted({int(m) for m in minutes_us})
    if not minutes:
        return 0
    hours = sorted({(m // HOUR_US) * HOUR_US for m in minutes})
    removed = 0
    for table, (time_column, keys, sums) in _APPENDED.items():
        group = ["series_id", time_column, *keys]
        wanted = hours if time_column == "hour" else minutes
        where = f"{time_column} IN (SELECT make_timestamp(unnest(?::BIGINT[])))"
        con.execute(
            f"""CREATE OR REPLACE TEMP TABLE tt_compacted AS
            SELECT {", ".join(group)}, {", ".join(f"sum({c}) AS {c}" for c in sums)},
                   count(*) AS copies
            FROM {table} WHERE {where} GROUP BY ALL HAVING count(*) > 1""",
            [wanted],
        )
        on = " AND ".join(f"{table}.{c} = m.{c}" for c in group)
        con.execute(f"DELETE FROM {table} USING tt_compacted m WHERE {on}")
        con.execute(
            f"INSERT INTO {table} BY NAME SELECT {', '.join(group)}, {', '.join(sums)} "
            "FROM tt_compacted"
        )
        row = con.execute("SELECT coalesce(sum(copies - 1), 0) FROM tt_compacted").fetchone()
        removed += int(row[0]) if row else 0
    con.execute("DROP TABLE tt_compacted")
    return removed


def migrate_rollups(con: Any) -> None:
    """Drop the primary keys an older store put on the appended tables (store schema 1): each
    table is copied into a new one made by :data:`ROLLUP_DDL`. Call inside a transaction."""
    keyed = {
        row[0]
        for row in con.execute(
            """SELECT table_name FROM duckdb_constraints()
            WHERE constraint_type = 'PRIMARY KEY' AND table_name IN (SELECT unnest(?))""",
            [list(_APPENDED)],
        ).fetchall()
    }
    for table in keyed:
        con.execute(f"ALTER TABLE {table} RENAME TO {table}_v1")
        con.execute(next(ddl for ddl in ROLLUP_DDL if f" {table} (" in ddl))
        con.execute(f"INSERT INTO {table} SELECT * FROM {table}_v1")
        con.execute(f"DROP TABLE {table}_v1")
