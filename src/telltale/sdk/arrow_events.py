"""The flattened Arrow table of a batch of events (docs/protocol.md), one array per column.

Each list of :class:`~telltale.sdk.event_columns.EventColumns` becomes one Arrow array in one
call. A column with the same value in every event (model, version, environment, the segment, a
batch size of 1, no validation failures, no trace) is made without looking at each event. A
feature or output column goes through pyarrow's own type inference, in C; if that gives a type
the protocol does not carry (a list, a struct, a date, float32 …) or fails (mixed types, an
integer beyond int64), the column is coerced value by value with
:func:`~telltale.sdk.values.wire_value` and typed by the rule of the protocol: all booleans →
bool, all integers → int64, integers and floats → float64, anything else → string.

pyarrow is imported inside the functions: only the background thread (or a sink) calls them,
never ``import telltale.sdk``. The thread yields the interpreter lock every few columns, so a
wide batch does not hold the model's threads up for more than about half a millisecond.

>>> from telltale.sdk.event_columns import EventColumns
>>> columns = EventColumns.from_rows([{"event_id": "e1", "ts": 1.8e9, "model": "fraud",
...                                    "inputs": {"amount": 12.5, "tags": [1, 2]}}])
>>> table = events_table(columns)
>>> table.column_names[-2:], table.column("input.tags").to_pylist()
(['input.amount', 'input.tags'], ['[1, 2]'])
"""

from __future__ import annotations

import time
from typing import Any

from telltale.sdk.event_columns import EventColumns, Side
from telltale.sdk.values import ABSENT, MAX_STRING_CHARS, wire_column

__all__ = ["EVENT_COLUMNS", "events_table", "value_array"]

EVENT_COLUMNS = (
    "event_id",
    "ts",
    "model",
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
"""The fixed columns of the Arrow form, in order; ``input.*`` and ``output.*`` follow."""

_COLUMNS_PER_YIELD = 16
_SIDES: tuple[tuple[Side, str], ...] = (("input", "input."), ("output", "output."))


def _same(values: list[Any]) -> bool:
    """Whether every item is the first (identity first, so a repeated object is cheap)."""
    return bool(values) and values.count(values[0]) == len(values)


def _strings(values: list[Any]) -> Any:
    import pyarrow as pa

    size = len(values)
    if size and _same(values):
        first = values[0]
        if first is None:
            return pa.nulls(size, pa.string())
        return pa.repeat(pa.scalar(first, pa.string()), size)
    return pa.array(values, pa.string())


def _validation(values: list[list[str]]) -> Any:
    import pyarrow as pa

    if any(values):
        return pa.array(values, pa.list_(pa.string()))
    offsets = pa.repeat(pa.scalar(0, pa.int32()), len(values) + 1)
    return pa.ListArray.from_arrays(offsets, pa.array([], pa.string()))


def _segment(values: list[dict[str, str]]) -> Any:
    import pyarrow as pa

    kind = pa.map_(pa.string(), pa.string())
    if not _same(values):
        return pa.array([list(segment.items()) for segment in values], kind)
    tags = values[0] if values else {}
    width, size = len(tags), len(values)
    offsets = pa.array(range(0, width * size + 1, width) if width else [0] * (size + 1), pa.int32())
    keys = pa.array(list(tags) * size, pa.string())
    items = pa.array(list(tags.values()) * size, pa.string())
    return pa.MapArray.from_arrays(offsets, keys, items)


def _batch_sizes(values: list[int]) -> Any:
    import pyarrow as pa

    if _same(values):
        return pa.repeat(pa.scalar(values[0], pa.int32()), len(values))
    return pa.array(values, pa.int32())


def value_array(values: list[Any], *, sparse: bool = False) -> Any:
    """One ``input.*`` / ``output.*`` array: bool, int64, float64, string, or null if empty."""
    import pyarrow as pa

    if sparse:
        values = [None if value is ABSENT else value for value in values]
    try:
        array = pa.array(values)  # pyarrow infers the type in C
    except (pa.ArrowException, OverflowError, TypeError, ValueError):
        array = None
    if array is not None:
        kind = array.type
        if kind in _plain_types():
            return array
        if kind == pa.string() and _short_strings(array):
            return array
    return _typed(wire_column(values))


def _plain_types() -> tuple[Any, ...]:
    import pyarrow as pa

    return (pa.float64(), pa.int64(), pa.bool_(), pa.null())


def _short_strings(array: Any) -> bool:
    import pyarrow.compute as pc

    data = array.buffers()[2]
    if data is None or data.size <= MAX_STRING_CHARS:  # no text can be longer than all of it
        return True
    longest = pc.max(pc.utf8_length(array)).as_py()
    return longest is None or longest <= MAX_STRING_CHARS


def _typed(values: list[Any]) -> Any:
    """The protocol's typing of a column of wire values."""
    import pyarrow as pa

    kinds = {type(value) for value in values if value is not None}
    if not kinds:
        return pa.nulls(len(values))
    if kinds == {bool}:
        return pa.array(values, pa.bool_())
    if kinds <= {int}:
        return pa.array(values, pa.int64())
    if kinds <= {int, float}:
        return pa.array([None if v is None else float(v) for v in values], pa.float64())
    return pa.array([None if value is None else _as_text(value) for value in values], pa.string())


def _as_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value)


def events_table(columns: EventColumns, metadata: dict[bytes, bytes] | None = None) -> Any:
    """The flattened Arrow table of ``columns``, with ``metadata`` on its schema."""
    import pyarrow as pa

    arrays: dict[str, Any] = {
        "event_id": pa.array(columns.event_id, pa.string()),
        "ts": pa.array(columns.ts_us, pa.timestamp("us", tz="UTC")),
        "model": _strings(columns.model),
        "version": _strings(columns.version),
        "environment_id": _strings(columns.environment_id),
        "latency_ms": pa.array(columns.latency_ms, pa.float64()),
        "status": _strings(columns.status),
        "error": _strings(columns.error),
        "validation": _validation(columns.validation),
        "trace_id": _strings(columns.trace_id),
        "span_id": _strings(columns.span_id),
        "segment": _segment(columns.segment),
        "batch_size": _batch_sizes(columns.batch_size),
    }
    made = 0
    for side, prefix in _SIDES:
        for name, values in columns.named(side).items():
            arrays[prefix + name] = value_array(values, sparse=(side, name) in columns.sparse)
            made += 1
            if made % _COLUMNS_PER_YIELD == 0:
                time.sleep(0)  # let the model's threads take the GIL
    table = pa.table(arrays)
    return table.replace_schema_metadata(metadata) if metadata else table
