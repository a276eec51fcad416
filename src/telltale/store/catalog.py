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

>>> kind_of(pa.float64()), kind_of(pa.string()), kind_of(pa.null())
('DOUBLE', 'VARCHAR', 'NULL')
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

__all__ = [
    "CATALOG_DDL",
    "EVENT_TABLE_COLUMNS",
    "Column",
    "ModelTable",
    "extra_json",
    "fit_column",
    "kind_of",
]

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
