"""Where each model's events live: one table per (project, model), one column per feature.

A feature or output name is whatever the client sent (``"montant €"``, ``"列"``, a name with
quotes); the table's columns get generated names (``i_0``, ``o_3``) so that no name a client
chose ever reaches SQL text, and the catalog maps one to the other. A feature gets its column
when its first non-null value arrives (``ALTER TABLE ADD COLUMN``), typed by that value:
``DOUBLE`` for numbers, ``VARCHAR`` for text, ``BOOLEAN`` for booleans. A later value of another
type is *fitted* (:func:`fit_column`): numbers and booleans go into a text column as their JSON
spelling, numeric text into a ``DOUBLE`` column as the number; what cannot be fitted goes into
the row's ``extra`` JSON object under ``input.<name>``, so nothing sent is lost.

Why one table per model rather than one wide table, or a long (event, feature, value) table: a
model's drift and quality queries read that model's feature columns only, as column scans; a
long table would cost a row per value (20x the rows for 20 features) and a pivot per query.

The catalog lives in memory (:class:`Catalog`): it is read once when the store opens, and a
write touches SQL only to make a table or a column it has not seen (``CREATE``/``ALTER``), never
to look one up. A write works on a copy (:meth:`Catalog.working`) that becomes the catalog
when the transaction commits.

>>> kind_of(pa.float64()), kind_of(pa.string()), kind_of(pa.null())
('DOUBLE', 'VARCHAR', 'NULL')
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from telltale.schema.wire import INPUT_PREFIX, OUTPUT_PREFIX

__all__ = [
    "CATALOG_DDL",
    "EVENT_TABLE_COLUMNS",
    "FIXED_COLUMNS",
    "Catalog",
    "Column",
    "ModelTable",
    "extra_json",
    "fit_column",
    "kind_of",
    "unify_types",
]

FIXED_COLUMNS = (
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
"""Columns of a decoded batch stored as they are (``model`` is the table itself)."""

CATALOG_DDL = (
    "CREATE SEQUENCE IF NOT EXISTS tt_model_ids",
    """CREATE TABLE IF NOT EXISTS tt_models (
        model_id INTEGER PRIMARY KEY,
        project VARCHAR NOT NULL,
        model VARCHAR NOT NULL,
        table_name VARCHAR NOT NULL,
        events BIGINT NOT NULL,
        first_us BIGINT,
        last_us BIGINT,
        UNIQUE (project, model)
    )""",
    """CREATE TABLE IF NOT EXISTS tt_columns (
        model_id INTEGER NOT NULL,
        role VARCHAR NOT NULL,
        name VARCHAR NOT NULL,
        column_name VARCHAR NOT NULL,
        type VARCHAR NOT NULL,
        PRIMARY KEY (model_id, role, name)
    )""",
)

EVENT_TABLE_COLUMNS = """
    event_id UUID NOT NULL,
    ts TIMESTAMPTZ NOT NULL,
    version VARCHAR NOT NULL,
    environment_id VARCHAR,
    latency_ms DOUBLE,
    status VARCHAR NOT NULL,
    error VARCHAR,
    validation VARCHAR[],
    trace_id VARCHAR,
    span_id VARCHAR,
    segment MAP(VARCHAR, VARCHAR),
    batch_size INTEGER,
    series_id INTEGER NOT NULL,
    prediction_class VARCHAR,
    prediction_value DOUBLE,
    extra VARCHAR
"""
"""The fixed columns of every events table; feature columns follow."""

_ROLES = {"input": "i", "output": "o"}


def kind_of(dtype: pa.DataType) -> str:
    """The column type a batch column asks for: ``DOUBLE``, ``VARCHAR``, ``BOOLEAN`` or ``NULL``."""
    if pa.types.is_boolean(dtype):
        return "BOOLEAN"
    if pa.types.is_integer(dtype) or pa.types.is_floating(dtype):
        return "DOUBLE"
    if pa.types.is_null(dtype):
        return "NULL"
    return "VARCHAR"


@dataclass(frozen=True)
class Column:
    """One feature or output of a model and the column that holds it (None: only nulls yet)."""

    role: str
    name: str
    column_name: str
    type: str


@dataclass(frozen=True)
class ModelTable:
    """A model of a project, its events table and its columns (an immutable snapshot)."""

    model_id: int
    project: str
    model: str
    table_name: str
    columns: dict[tuple[str, str], Column] = field(default_factory=dict)

    def column(self, role: str, name: str) -> Column | None:
        return self.columns.get((role, name))

    def with_column(self, column: Column) -> ModelTable:
        columns = dict(self.columns)
        columns[(column.role, column.name)] = column
        return replace(self, columns=columns)

    def next_column_name(self, role: str) -> str:
        used = {c.column_name for c in self.columns.values()}
        n = len(self.columns)
        while f"{_ROLES[role]}_{n}" in used:
            n += 1
        return f"{_ROLES[role]}_{n}"

    def features(self, role: str = "input") -> dict[str, str]:
        """Names of the model's features (or outputs) → ``double``, ``string``, ``boolean``,
        ``null`` (only nulls seen so far)."""
        names = {"DOUBLE": "double", "VARCHAR": "string", "BOOLEAN": "boolean", "NULL": "null"}
        return {c.name: names[c.type] for c in self.columns.values() if c.role == role}


def _json_spelling(array: pa.Array) -> pa.Array:
    """Text of numbers and booleans as JSON writes them (``1``, ``1.5``, ``NaN``, ``true``)."""
    if pa.types.is_boolean(array.type):
        return pc.if_else(array, "true", "false")
    if pa.types.is_integer(array.type):
        return array.cast(pa.string())
    values = array.to_pylist()
    return pa.array(
        [None if v is None else json.dumps(v) for v in values],
        pa.string(),
    )


_NUMBER = r"^\s*-?(\d+\.?\d*([eE][-+]?\d+)?|\.\d+([eE][-+]?\d+)?|NaN|Infinity|-Infinity)\s*$"


def fit_column(array: pa.Array, target: str) -> tuple[pa.Array, np.ndarray | None]:
    """``array`` in the column type ``target``, and a mask of the values that do not fit.

    Values that do not fit are null in the returned array; the caller keeps them in ``extra``.
    """
    kind = kind_of(array.type)
    if kind == target or kind == "NULL":
        if target == "DOUBLE":
            return array.cast(pa.float64()), None
        return array.cast(_ARROW[target]), None
    valid = np.asarray(array.is_valid())
    if target == "VARCHAR":  # any scalar has a text spelling
        return _json_spelling(array), None
    if target == "DOUBLE" and kind == "VARCHAR":
        numeric = pc.fill_null(pc.match_substring_regex(array, _NUMBER), False)
        texts = pc.if_else(numeric, array, pa.scalar(None, pa.string()))
        cleaned = pc.replace_substring(pc.utf8_trim_whitespace(texts), "Infinity", "inf")
        values = pc.cast(cleaned, pa.float64())
        return values, valid & ~np.asarray(numeric)
    # booleans into DOUBLE, numbers or text into BOOLEAN: kept aside
    return pa.nulls(len(array), _ARROW[target]), valid


_ARROW = {"DOUBLE": pa.float64(), "VARCHAR": pa.string(), "BOOLEAN": pa.bool_()}


def extra_json(misfits: dict[str, tuple[pa.Array, np.ndarray]], n: int) -> pa.Array:
    """The ``extra`` column: per row, a JSON object of the values that fit no column."""
    rows: list[dict[str, Any] | None] = [None] * n
    for name, (array, mask) in misfits.items():
        values = array.to_pylist()
        for i in np.flatnonzero(mask):
            row = rows[i]
            if row is None:
                row = rows[i] = {}
            row[name] = values[i]
    return pa.array(
        [None if r is None else json.dumps(r, ensure_ascii=False) for r in rows], pa.string()
    )


class Catalog:
    """Every (project, model) and its columns, in memory; changed inside write transactions.

    >>> catalog = Catalog({})
    >>> work = catalog.working()
    >>> work.get("p", "m") is None
    True
    """

    def __init__(self, tables: dict[tuple[str, str], ModelTable]) -> None:
        self._tables = tables

    @classmethod
    def load(cls, con: Any) -> Catalog:
        """The catalog of the file (empty for a read-only file made before it existed)."""
        try:
            models = con.execute(
                "SELECT model_id, project, model, table_name FROM tt_models"
            ).fetchall()
            columns = con.execute(
                "SELECT model_id, role, name, column_name, type FROM tt_columns"
            ).fetchall()
        except Exception:
            return cls({})
        by_id = {}
        for model_id, project, model, table_name in models:
            by_id[model_id] = ModelTable(model_id, project, model, table_name)
        for model_id, role, name, column_name, kind in columns:
            by_id[model_id] = by_id[model_id].with_column(Column(role, name, column_name, kind))
        return cls({(t.project, t.model): t for t in by_id.values()})

    def get(self, project: str, model: str) -> ModelTable | None:
        return self._tables.get((project, model))

    def __iter__(self) -> Iterator[ModelTable]:
        return iter(list(self._tables.values()))

    def working(self) -> Catalog:
        """A copy to change inside a transaction; :meth:`adopt` it once committed."""
        return Catalog(dict(self._tables))

    def adopt(self, work: Catalog) -> None:
        self._tables = work._tables

    def ensure_table(self, con: Any, project: str, model: str) -> ModelTable:
        """The model's table, made (with its catalog rows) if it is the model's first event."""
        table = self._tables.get((project, model))
        if table is not None:
            return table
        (row,) = con.execute("SELECT nextval('tt_model_ids')").fetchall()
        model_id = int(row[0])
        table = ModelTable(model_id, project, model, f"tt_events_{model_id}")
        con.execute(f"CREATE TABLE {table.table_name} ({EVENT_TABLE_COLUMNS})")
        con.execute(
            "INSERT INTO tt_models VALUES (?, ?, ?, ?, 0, NULL, NULL)",
            [table.model_id, project, model, table.table_name],
        )
        self._tables[(project, model)] = table
        return table

    def ensure_column(
        self, con: Any, table: ModelTable, role: str, name: str, kind: str
    ) -> ModelTable:
        """The table with a column for ``(role, name)`` typed ``kind`` (``ALTER`` if new; a
        feature seen only as nulls so far gets its type from its first non-null value)."""
        column = table.column(role, name)
        if column is not None and (column.type != "NULL" or kind == "NULL"):
            return table
        column_name = column.column_name if column is not None else table.next_column_name(role)
        if kind != "NULL":
            con.execute(f"ALTER TABLE {table.table_name} ADD COLUMN {column_name} {kind}")
        if column is None:
            con.execute(
                "INSERT INTO tt_columns VALUES (?, ?, ?, ?, ?)",
                [table.model_id, role, name, column_name, kind],
            )
        else:
            con.execute(
                "UPDATE tt_columns SET type = ? WHERE model_id = ? AND role = ? AND name = ?",
                [kind, table.model_id, role, name],
            )
        table = table.with_column(Column(role, name, column_name, kind))
        self._tables[(table.project, table.model)] = table
        return table

    def table_rows(
        self, con: Any, table: ModelTable, events: pa.Table
    ) -> tuple[ModelTable, dict[str, pa.Array]]:
        """The feature and output columns of ``events`` as the table holds them: generated
        names, fitted types, and ``extra`` for values that fit no column. Adds the columns the
        table lacks."""
        columns: dict[str, pa.Array] = {}
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
            column = table.column(role, feature)
            if column is None or (column.type == "NULL" and kind != "NULL"):
                table = self.ensure_column(con, table, role, feature, kind)
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
        return table, columns


def unify_types(parts: list[pa.Table]) -> pa.Table:
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
