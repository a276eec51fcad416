"""The engine connection and the few functions Ibis does not spell the same on every engine.

The analysis is written in Ibis; this module is where an engine's gap or bug is worked around,
each with the reason, so the rest of the code stays portable.

>>> con = connect()
>>> con.name
'duckdb'
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["connect", "hash64", "is_finite", "run_template", "to_arrow"]


def connect(threads: int | None = None) -> Any:
    """An in-memory DuckDB connection set up for analysis (UTC, progress bar off)."""
    import ibis

    con = ibis.duckdb.connect()
    raw = con.con
    raw.execute("SET TimeZone = 'UTC'")
    raw.execute("SET enable_progress_bar = false")
    if threads is not None:
        raw.execute(f"SET threads = {int(threads)}")
    return con


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


_TEMPLATE_TABLE = "telltale_template_input"
_TEMPLATES: dict[Any, str] = {}
_TEMPLATE_CACHE_SIZE = 32


def run_template(table: Any, key: Any, build: Callable[[Any], Any]) -> Any:
    """Run ``build(table)`` and return a pyarrow Table, compiling each query shape once.

    ``build`` receives an unbound table with ``table``'s schema; the SQL compiled from it is
    cached under ``(key, schema)`` and run with that name bound to ``table`` (a temporary view
    on DuckDB). Other engines compile ``build(table)`` directly.
    """
    import ibis

    backend = table._find_backend(use_default=True)
    raw = getattr(backend, "con", None)
    if getattr(backend, "name", None) != "duckdb" or raw is None:
        return to_arrow(build(table))
    schema = table.schema()
    cache_key = (key, tuple(schema.items()))
    sql = _TEMPLATES.get(cache_key)
    if sql is None:
        template = ibis.table(schema, name=_TEMPLATE_TABLE)
        sql = str(ibis.to_sql(build(template), dialect="duckdb", pretty=False))
        if len(_TEMPLATES) >= _TEMPLATE_CACHE_SIZE:
            _TEMPLATES.pop(next(iter(_TEMPLATES)))
        _TEMPLATES[cache_key] = sql
    source = str(ibis.to_sql(table, dialect="duckdb", pretty=False))
    raw.execute(f'CREATE OR REPLACE TEMP VIEW "{_TEMPLATE_TABLE}" AS {source}')
    return _duckdb_arrow(raw, sql)


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
    return column.notnull() & _ISFINITE(column)


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
