"""The engine connection and the few functions Ibis does not spell the same on every engine.

The analysis is written in Ibis; this module is where an engine's gap or bug is worked around,
each with the reason, so the rest of the code stays portable.

>>> con = connect()
>>> con.name
'duckdb'
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

__all__ = [
    "TEMPLATE_TABLE",
    "connect",
    "fetch_all",
    "hash64",
    "is_duckdb",
    "is_finite",
    "run_on",
    "single_threaded",
    "to_arrow",
]


def fetch_all(connection: Any, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    """Rows of ``sql`` run on a cursor of its own, so ``connection`` (a DuckDB connection or an
    :class:`~telltale.store.events.EventStore`) may be shared by threads."""
    cursor = connection.cursor()
    try:
        return list(cursor.execute(sql, params or []).fetchall())
    finally:
        cursor.close()


def connect() -> Any:
    """An in-memory DuckDB connection set up for analysis (UTC, progress bar off)."""
    import ibis

    con = ibis.duckdb.connect()
    raw = con.con
    raw.execute("SET TimeZone = 'UTC'")
    raw.execute("SET enable_progress_bar = false")
    # Each query (and each side, and each chunk of a wide table) re-reads the Parquet footers.
    raw.execute("SET parquet_metadata_cache = true")
    return con


@contextmanager
def single_threaded(*tables: Any) -> Iterator[None]:
    """One DuckDB thread per connection of ``tables`` while two of them run side by side.

    The profile query is a UNION of many small aggregations; DuckDB keeps little more than one
    core busy on it, and on two cores the reference and the current query ran faster side by
    side with one thread each (1.05 s) than one after the other with two (1.5-1.7 s).
    """
    raws: list[Any] = []
    for table in tables:
        if is_duckdb(table):
            raw = table._find_backend(use_default=True).con
            if all(raw is not seen for seen in raws):
                raws.append(raw)
    for raw in raws:
        raw.execute("SET threads = 1")
    try:
        yield
    finally:
        for raw in raws:
            raw.execute("RESET threads")


def to_arrow(expr: Any) -> Any:
    """Execute an Ibis expression and return a pyarrow Table.

    On DuckDB the compiled SQL runs on the raw connection: Ibis' own ``to_pyarrow`` imports
    pandas on first use (0.46 s measured) and re-wraps the result.
    """
    import ibis

    backend = expr._find_backend(use_default=True)
    raw = getattr(backend, "con", None)
    if getattr(backend, "name", None) == "duckdb" and raw is not None:
        sql = ibis.to_sql(expr, dialect="duckdb", pretty=False)
        return _duckdb_arrow(raw, str(sql))
    return expr.to_pyarrow()


TEMPLATE_TABLE = "telltale_template_input"
"""The table name SQL templates are compiled against (see :func:`run_on`)."""


def is_duckdb(table: Any) -> bool:
    """True when ``table`` lives on a DuckDB connection (SQL templates and raw queries work)."""
    backend = table._find_backend(use_default=True)
    return getattr(backend, "name", None) == "duckdb" and getattr(backend, "con", None) is not None


def run_on(table: Any, sql: str) -> Any:
    """Run ``sql``, written against :data:`TEMPLATE_TABLE`, on ``table`` (DuckDB only).

    The name is bound to ``table``'s own query, so SQL compiled once runs on any table of the
    same schema: the reference's and the current data's.
    """
    import ibis

    raw = table._find_backend(use_default=True).con
    source = str(ibis.to_sql(table, dialect="duckdb", pretty=False))
    # Bound as a common table expression, as Ibis does: DuckDB binds it once, where a view or
    # an inlined subquery is bound again in every UNION branch (40-80% slower to plan).
    return _duckdb_arrow(raw, f'WITH "{TEMPLATE_TABLE}" AS NOT MATERIALIZED ({source}) {sql}')


def _duckdb_arrow(raw: Any, sql: str) -> Any:
    """Run SQL on a DuckDB connection and fetch a pyarrow Table.

    Through the relational ``sql()``: its re-tokenising of the text in Python costs about
    0.05 s for a 35 kB query, but ``execute().to_arrow_table()`` warns about an extra copy,
    and silencing that is not thread-safe (``warnings.catch_warnings``).
    """
    return raw.sql(sql).to_arrow_table()


def _duckdb_isfinite() -> Any:
    import ibis

    @ibis.udf.scalar.builtin(name="isfinite")
    def isfinite(value: float) -> bool:  # type: ignore[empty-body]
        """DuckDB's isfinite."""

    return isfinite


_ISFINITE: Any = None


def is_finite(column: Any) -> Any:
    """True where a floating value is neither null, NaN nor infinite.

    DuckDB's own ``isfinite`` is used because its ``isnan`` and comparisons with infinity are
    folded to constants from Parquet min/max statistics, which omit NaN (measured on DuckDB
    2.0: ``count_if(isnan(x))`` gave 0 on a file with 20,104 NaN); ``isfinite`` is not folded.
    """
    global _ISFINITE
    if _ISFINITE is None:
        _ISFINITE = _duckdb_isfinite()
    # isfinite(NULL) is NULL, which CASE, WHERE and FILTER all treat as false.
    return _ISFINITE(column)


_HASH64: dict[str, Any] = {}


def hash64(value: Any) -> Any:
    """The engine's 64-bit hash of a value (any type, structs included), unsigned.

    Ibis' own ``hash()`` bit-casts DuckDB's UBIGINT through a BIT string to BIGINT, which cost
    more than the hashing; the distinct sketches want the unsigned value anyway.
    """
    dtype = value.type()
    key = str(dtype)
    if key not in _HASH64:
        import ibis

        def _hash(x: Any) -> Any:
            """The engine's hash."""

        _HASH64[key] = ibis.udf.scalar.builtin(_hash, name="hash", signature=((dtype,), "uint64"))
    return _HASH64[key](value)
