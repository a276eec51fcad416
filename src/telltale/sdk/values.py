"""Turning whatever a model takes and returns into values the protocol can carry.

The protocol's ``inputs`` and ``outputs`` hold numbers, strings, booleans and nulls; lists and
objects travel as JSON text. Models take and return anything: NumPy scalars and arrays, sets,
bytes, datetimes, megabyte strings, objects whose ``__repr__`` raises. :func:`wire_value` maps each
to something sendable and never raises: a value it cannot represent becomes a placeholder string
such as ``"<unrepresentable Foo: ValueError>"``. It runs on the background thread only.

>>> wire_value(3), wire_value(float("nan")) != wire_value(float("nan")), wire_value([1, 2])
(3, True, '[1, 2]')
>>> wire_value({"b", "a"}), wire_value(b"\\x00\\x01")
('["a", "b"]', '<2 bytes>')

Events are built column by column (:mod:`telltale.sdk.event_columns`), so coercion has a
column form too: :func:`wire_column` returns a column of plain values as it is (one C-level
pass over the types) and coerces value by value only when something else is in it. A feature
that one event of a batch had and another did not is :data:`ABSENT` in the other's row.
"""

from __future__ import annotations

import datetime as _dt
import decimal
import enum
import json
from collections.abc import Mapping
from typing import Any

__all__ = [
    "ABSENT",
    "MAX_STRING_CHARS",
    "PLAIN_TYPES",
    "to_json_text",
    "type_name",
    "wire_column",
    "wire_value",
]

MAX_STRING_CHARS = 65_536
"""Longer strings (and JSON texts) are cut to this many characters and marked as cut."""

_MAX_ITEMS = 10_000
_INT64_LIMIT = 1 << 63


class _Absent:
    """The type of :data:`ABSENT`."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "ABSENT"

    def __reduce__(self) -> str:
        return "ABSENT"


ABSENT: Any = _Absent()
"""Marks, in a column of inputs or outputs, an event that did not have that feature or output
(it is left out of that event's JSON row and is null in Arrow). Not the same as ``None``: a
feature whose value was None is in the row, as null."""

PLAIN_TYPES = frozenset({type(None), bool, int, float, str})
"""The exact types a wire value has (ints within int64, strings within MAX_STRING_CHARS)."""
_MAX_DEPTH = 20


def type_name(value: object) -> str:
    return type(value).__name__


def _cut(text: str) -> str:
    if len(text) <= MAX_STRING_CHARS:
        return text
    return f"{text[:MAX_STRING_CHARS]}…<cut {len(text) - MAX_STRING_CHARS} chars>"


def _placeholder(value: object, error: BaseException) -> str:
    return f"<unrepresentable {type_name(value)}: {type(error).__name__}>"


def _plain(value: Any, depth: int) -> Any:
    """A JSON-ready structure for ``value`` (lists, dicts, scalars), raising on failure."""
    if value is None or isinstance(value, (bool, int, str)):
        return _cut(value) if isinstance(value, str) else value
    if isinstance(value, float):
        return value
    if depth > _MAX_DEPTH:
        return f"<nested deeper than {_MAX_DEPTH}>"
    if isinstance(value, enum.Enum):
        return _plain(value.value, depth + 1)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return f"<{len(value)} bytes>"
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, (_dt.datetime, _dt.date, _dt.time)):
        return value.isoformat()
    if isinstance(value, Mapping):
        items = list(value.items())[:_MAX_ITEMS]
        return {str(key): _plain(item, depth + 1) for key, item in items}
    if isinstance(value, (set, frozenset)):
        members = [_plain(item, depth + 1) for item in list(value)[:_MAX_ITEMS]]
        return sorted(members, key=lambda item: (type_name(item), repr(item)))
    if isinstance(value, (list, tuple, range)):
        return [_plain(item, depth + 1) for item in list(value[:_MAX_ITEMS])]
    tolist = getattr(value, "tolist", None)
    if callable(tolist):  # NumPy arrays and scalars, pandas Series, torch tensors
        listed = tolist()
        if listed is value:
            raise TypeError("tolist() returned the object itself")
        return _plain(listed, depth + 1)
    if isinstance(value, complex):
        return str(value)
    try:
        as_float = float(value)  # other numbers (fractions, NumPy scalars without tolist)
    except Exception:
        return _cut(str(value))
    return as_float


def wire_value(value: Any) -> Any:
    """A number, string, bool or None for ``value``; containers become JSON text. Never raises.

    Subclasses become their base type (NumPy's ``float64`` is a ``float``, an ``IntEnum`` an
    ``int``), so that every encoding sees plain Python values.
    """
    kind = type(value)
    if value is None or kind is bool or kind is float:
        return value
    if kind is int:
        return value if -_INT64_LIMIT < value < _INT64_LIMIT else str(value)
    if kind is str:
        return _cut(value)
    if isinstance(value, int):  # bool cannot be subclassed, so this is not a bool
        return wire_value(int(value))
    if isinstance(value, float):
        return float(value)
    if isinstance(value, str):
        return _cut(str(value))
    try:
        plain = _plain(value, 0)
    except Exception as error:
        return _placeholder(value, error)
    if plain is None or isinstance(plain, (bool, int, float, str)):
        return wire_value(plain)
    return to_json_text(plain)


def wire_column(values: list[Any]) -> list[Any]:
    """``values`` with every item a wire value (:data:`ABSENT` kept); the same list when they all
    are already, which one C-level pass over the types tells for columns of floats."""
    kinds = set(map(type, values))
    if kinds <= _FLOATS_AND_MARKERS:
        return values
    if kinds <= _PLAIN_AND_MARKERS and not any(
        (type(value) is int and not -_INT64_LIMIT < value < _INT64_LIMIT)
        or (type(value) is str and len(value) > MAX_STRING_CHARS)
        for value in values
    ):
        return values
    return [value if value is ABSENT else wire_value(value) for value in values]


_FLOATS_AND_MARKERS = frozenset({type(None), bool, float, _Absent})
_PLAIN_AND_MARKERS = PLAIN_TYPES | {_Absent}


def to_json_text(value: Any) -> str:
    """JSON text of a plain structure (NaN and infinities as JavaScript literals), cut if huge."""
    try:
        return _cut(json.dumps(value, allow_nan=True, ensure_ascii=False, default=_fallback))
    except Exception as error:
        return _placeholder(value, error)


def _fallback(value: Any) -> Any:
    return wire_value(value)
