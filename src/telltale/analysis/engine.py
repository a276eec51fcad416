"""The engine connection and the few functions Ibis does not spell the same on every engine.

The analysis is written in Ibis; this module is where an engine's gap or bug is worked around,
each with the reason, so the rest of the code stays portable.

>>> con = connect()
>>> con.name
'duckdb'
"""

from __future__ import annotations

from typing import Any

__all__ = ["asinh", "connect", "is_finite"]


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


_ASINH: Any = None


def asinh(value: Any) -> Any:
    """The inverse hyperbolic sine, the engine's own (DuckDB and Spark both have ``asinh``).

    Spelt out in Ibis as ``sign(z) * ln(|z| + sqrt(z*z + 1))`` it compiled to a query whose
    size grew with every use of ``z`` and ran 8 times slower.
    """
    global _ASINH
    if _ASINH is None:
        import ibis

        @ibis.udf.scalar.builtin(name="asinh")
        def _asinh(x: float) -> float:  # type: ignore[empty-body]
            """The engine's asinh."""

        _ASINH = _asinh
    return _ASINH(value)
