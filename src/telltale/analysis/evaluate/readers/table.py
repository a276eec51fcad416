"""Plain tables with named columns (Parquet, CSV, TSV with a header, JSON lines, in-memory tables).

Tabular tasks and users who already keep predictions next to their data read through
:func:`telltale.store.files.open_table`, the same reader ``telltale report`` uses: files are
scanned by DuckDB, so only the columns asked for are materialised (as a pyarrow table).

>>> import pyarrow as pa
>>> table = read_table_columns(pa.table({"y": [1, 0], "p": [1, 1], "x": [3, 4]}), ["y", "p"])
>>> table.column_names
['y', 'p']
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from telltale.errors import SchemaError
from telltale.store.engine import connect, to_arrow
from telltale.store.files import describe_source, open_table

__all__ = ["read_table_columns"]


def read_table_columns(source: Any, columns: Sequence[str] | None, role: str = "data") -> Any:
    """``columns`` of ``source`` (all when ``None``) as a pyarrow Table, in the order asked.

    Raises :class:`~telltale.errors.SchemaError` naming the missing column and the ones present.
    """
    table = open_table(connect(), source, name=role)
    present = list(table.columns)
    wanted = present if columns is None else list(dict.fromkeys(columns))
    missing = [c for c in wanted if c not in present]
    if missing:
        raise SchemaError(
            f"{role} {describe_source(source)!r} has no column {missing[0]!r}; its columns are "
            f"{present[:20]}{' ...' if len(present) > 20 else ''} — pass the right column name",
            details={"column": missing[0], "columns": present},
        )
    return to_arrow(table.select(wanted))
