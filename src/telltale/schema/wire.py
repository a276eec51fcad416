"""Decode ingest requests (docs/protocol.md) into one canonical Arrow table.

The server takes events as JSON or as an Arrow IPC stream; both become the same
:class:`EventBatch`, whose ``events`` table has the fixed columns of :func:`event_columns` and then
one column ``input.<name>`` per feature and ``output.<name>`` per output, in order of first
appearance. Validation is all-or-nothing: the first bad row raises :class:`~telltale.errors.SchemaError`
naming the row and field (``details={"row": 3, "field": "latency_ms"}``), which the server answers
with 422; a body that is not JSON or not an Arrow stream raises :class:`MalformedError` (400).

Why JSON is decoded twice over
------------------------------
Python's ``json.loads`` alone cost 18-19 µs per event for 1,000 events of 20 features (orjson and
msgspec, measured for comparison, 7.2-7.6 µs: the cost is making a Python object per value).
pyarrow's C++ JSON reader parses the same body straight into columns in about 8.5 µs per event and
releases the GIL, so the common case goes that way and is validated column-wise. Anything that
path cannot take as it is — a feature whose values mix types, a list inside ``inputs``, a bad row
— goes through the plain Python decoder instead, which is the reference: it applies every rule
below and names the first bad row. A property test checks that the two agree.

Rules
-----
- ``event_id``: a UUID, 36 characters with hyphens or 32 hex digits, any case; stored lower-case
  with hyphens, so both spellings of one id are the same event.
- ``ts``: ISO-8601 (UTC when it has no offset) or epoch seconds, between 1970 and 2200.
- ``model`` 1-200 characters; ``version`` and ``environment_id`` at most 200 (``version``
  defaults to ``""``); ``status`` one of :data:`STATUSES` (default ``ok``); ``latency_ms`` finite
  and >= 0; ``trace_id``/``span_id`` 32/16 hex digits (stored lower-case); ``segment`` an object
  of strings (tags and values at most 200 characters); ``batch_size`` a whole number >= 1;
  ``error`` and every other string at most :data:`MAX_TEXT` characters.
- ``inputs``/``outputs``: names 1-200 characters; values numbers (NaN and infinities are data),
  strings, booleans or null; a list or object is kept as its JSON text. A null value is the same
  as a missing one.
- **Mixed types.** Within one batch a column is ``bool`` if all its values are booleans, ``int64``
  if all are integers, ``float64`` if all are numbers, otherwise ``string``: when a feature mixes
  kinds (``1.5`` in one row, ``"high"`` in another) every value is kept as text (``"1.5"``,
  ``"high"``, ``"true"``, ``"NaN"``), so nothing is lost and nothing fails. The store decides
  what a column that already exists does with a value of another type.

>>> batch = decode_events_json(
...     b'{"events": [{"event_id": "0f8c6d1e-6c1f-4c3b-9a53-2d3e4f5a6b7c", "ts": 0, '
...     b'"model": "fraud", "inputs": {"amount": 12.5}, "outputs": {"prediction": 1}}]}'
... )
>>> batch.events.column_names[-2:], batch.events.column("status").to_pylist()
(['input.amount', 'output.prediction'], ['ok'])
"""

from __future__ import annotations

import functools
import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from telltale.errors import MalformedError, SchemaError

__all__ = [
    "INPUT_PREFIX",
    "MAX_COLUMNS",
    "MAX_NAME",
    "MAX_TEXT",
    "OUTPUT_PREFIX",
    "STATUSES",
    "EventBatch",
    "MalformedError",
    "decode_events_arrow",
    "decode_events_json",
    "decode_feedback_json",
    "decode_labels_json",
    "event_columns",
    "feedback_columns",
    "label_columns",
    "label_text",
]

INPUT_PREFIX = "input."
OUTPUT_PREFIX = "output."
STATUSES = ("ok", "error", "invalid", "timeout", "fallback")
MAX_NAME = 200
"""Longest model, version, environment, feature and segment name or tag (characters)."""
MAX_TEXT = 65_536
"""Longest string value (characters): error texts, string features, JSON text of lists."""
MAX_COLUMNS = 1_000
"""Most distinct input names (and, separately, output names) in one batch."""

_MIN_US = 0  # 1970-01-01
_MAX_US = int((datetime(2200, 1, 1, tzinfo=timezone.utc).timestamp()) * 1_000_000)
_UUID = re.compile(r"^(?:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|[0-9a-fA-F]{32})$")  # fmt: skip
_UUID_PATTERN = _UUID.pattern
_CANONICAL_UUID = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
_HEX = {"trace_id": 32, "span_id": 16}
_ZONE = r"(?:[Zz]|[+-]\d\d(?::?\d\d)?)$"
_INT64 = 2**63


def event_columns() -> pa.Schema:
    """The fixed columns of :attr:`EventBatch.events`, before the ``input.``/``output.`` ones."""
    return pa.schema(
        [
            pa.field("event_id", pa.string(), nullable=False),
            pa.field("ts", pa.timestamp("us", tz="UTC"), nullable=False),
            pa.field("model", pa.string(), nullable=False),
            pa.field("version", pa.string(), nullable=False),
            pa.field("environment_id", pa.string()),
            pa.field("latency_ms", pa.float64()),
            pa.field("status", pa.string(), nullable=False),
            pa.field("error", pa.string()),
            pa.field("validation", pa.list_(pa.string()), nullable=False),
            pa.field("trace_id", pa.string()),
            pa.field("span_id", pa.string()),
            pa.field("segment", pa.map_(pa.string(), pa.string()), nullable=False),
            pa.field("batch_size", pa.int32(), nullable=False),
        ]
    )


def label_columns() -> pa.Schema:
    """Columns of :func:`decode_labels_json`: ``label`` is the text of the ground truth (see
    :func:`label_text`), ``label_number`` its value when it is a number; ``ts`` may be null
    (the store then uses its own clock)."""
    return pa.schema(
        [
            pa.field("event_id", pa.string(), nullable=False),
            pa.field("ts", pa.timestamp("us", tz="UTC")),
            pa.field("label", pa.string(), nullable=False),
            pa.field("label_number", pa.float64()),
        ]
    )


def feedback_columns() -> pa.Schema:
    """Columns of :func:`decode_feedback_json`."""
    return pa.schema(
        [
            pa.field("event_id", pa.string(), nullable=False),
            pa.field("ts", pa.timestamp("us", tz="UTC")),
            pa.field("score", pa.float64(), nullable=False),
        ]
    )


@dataclass
class EventBatch:
    """One decoded request: the events table and what travelled with it.

    >>> batch = EventBatch(pa.Table.from_pylist([], schema=event_columns()))
    >>> batch.events.num_rows, batch.environments, batch.client
    (0, [], {})
    """

    events: pa.Table
    environments: list[dict[str, Any]] = field(default_factory=list)
    resources: list[dict[str, Any]] = field(default_factory=list)
    client: dict[str, Any] = field(default_factory=dict)

    @property
    def input_names(self) -> list[str]:
        """Feature names, in column order."""
        n = len(INPUT_PREFIX)
        return [c[n:] for c in self.events.column_names if c.startswith(INPUT_PREFIX)]

    @property
    def output_names(self) -> list[str]:
        """Output names, in column order."""
        n = len(OUTPUT_PREFIX)
        return [c[n:] for c in self.events.column_names if c.startswith(OUTPUT_PREFIX)]


def label_text(value: Any) -> str:
    """The text a label or a class prediction is compared by.

    Integral numbers lose their fraction (``1`` and ``1.0`` are the same class), booleans are
    ``true``/``false``, strings are themselves.

    >>> label_text(1.0), label_text(True), label_text("cat"), label_text(0.25)
    ('1', 'true', 'cat', '0.25')
    """
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer() and abs(value) < 2**63:
            return str(int(value))
        return repr(value)
    return str(value)


# --------------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------------


def _bad(section: str, row: int, name: str, problem: str, fix: str) -> SchemaError:
    where = f"{section}[{row}].{name}"
    details: dict[str, Any] = {"row": row, "field": name}
    if section != "events":
        details["section"] = section
    return SchemaError(f"{where} {problem}; {fix}", details=details)


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _top(name: str, problem: str) -> SchemaError:
    return SchemaError(f"{problem}", details={"field": name})


# --------------------------------------------------------------------------------------------
# Scalars shared by the Python paths
# --------------------------------------------------------------------------------------------


def _parse_ts(value: Any, section: str, row: int, name: str = "ts") -> int:
    """Epoch microseconds of an ISO-8601 string or epoch seconds."""
    fix = "send ISO-8601 (e.g. 2026-11-22T14:02:00Z) or epoch seconds"
    if isinstance(value, bool) or value is None:
        raise _bad(section, row, name, f"is {_shown(value)}", fix)
    if isinstance(value, (int, float)):
        if not math.isfinite(value):
            raise _bad(section, row, name, f"is {value}", fix)
        scaled = float(value) * 1_000_000  # may overflow to inf: compared before rounding
        if not _MIN_US <= scaled < _MAX_US:
            hint = " (it looks like milliseconds)" if 1e12 <= abs(value) < 1e15 else ""
            raise _bad(section, row, name, f"{value} is not a time in 1970-2199{hint}", fix)
        return round(scaled)
    if not isinstance(value, str):
        raise _bad(section, row, name, f"is a {type(value).__name__}", fix)
    try:
        parsed = datetime.fromisoformat(value[:64])
    except ValueError:
        raise _bad(section, row, name, f"{_shown(value)} is not an ISO-8601 time", fix) from None
    if len(value) > 64:
        raise _bad(section, row, name, f"{_shown(value)} is not an ISO-8601 time", fix)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    if not 1970 <= parsed.astimezone(timezone.utc).year < 2200:
        raise _bad(section, row, name, f"{_shown(value)} is not a time in 1970-2199", fix)
    delta = parsed - datetime(1970, 1, 1, tzinfo=timezone.utc)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def _text(
    value: Any, section: str, row: int, name: str, limit: int, *, required: bool = False
) -> str | None:
    if value is None:
        if required:
            raise _bad(section, row, name, "is missing", f"send a string of 1-{limit} characters")
        return None
    if not isinstance(value, str):
        raise _bad(
            section, row, name, f"is a {type(value).__name__} ({_shown(value)})", "send a string"
        )
    if len(value) > limit:
        raise _bad(
            section,
            row,
            name,
            f"has {len(value):,} characters",
            f"send at most {limit:,} (shorten or hash it)",
        )
    if required and not value:
        raise _bad(section, row, name, "is empty", f"send a string of 1-{limit} characters")
    return value


def _number(value: Any, section: str, row: int, name: str, fix: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _bad(section, row, name, f"is {_shown(value)}, not a number", fix)
    number = float(value)
    if not math.isfinite(number):
        raise _bad(section, row, name, f"is {number}", fix)
    return number


def _event_id(value: Any, section: str, row: int) -> str:
    fix = "send a UUID such as 0f8c6d1e-6c1f-4c3b-9a53-2d3e4f5a6b7c"
    if value is None:
        raise _bad(section, row, "event_id", "is missing", fix)
    if not isinstance(value, str) or not _UUID.match(value):
        raise _bad(section, row, "event_id", f"{_shown(value)} is not a UUID", fix)
    value = value.lower()
    if len(value) == 32:
        value = f"{value[:8]}-{value[8:12]}-{value[12:16]}-{value[16:20]}-{value[20:]}"
    return value


# --------------------------------------------------------------------------------------------
# JSON: the reference decoder (Python objects)
# --------------------------------------------------------------------------------------------

_FIXED = (
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


class _Values:
    """The values one feature took in a batch, and the kinds seen (for the mixed-type rule)."""

    __slots__ = ("kinds", "values")

    def __init__(self) -> None:
        self.values: dict[int, Any] = {}
        self.kinds: set[type] = set()


def _feature_value(value: Any, section: str, row: int, name: str) -> Any:
    if isinstance(value, (list, dict)):
        value = _JsonText(json.dumps(value, ensure_ascii=False))
    if isinstance(value, str) and len(value) > MAX_TEXT:
        raise _bad(
            section,
            row,
            name,
            f"has {len(value):,} characters",
            f"send at most {MAX_TEXT:,} (shorten or hash it)",
        )
    return value


class _JsonText(str):
    """A list or object value, as JSON text (a string kind of its own for the type rule)."""

    __slots__ = ()


def _features(group: Any, section: str, row: int, name: str, columns: dict[str, _Values]) -> None:
    if group is None:
        return
    if not isinstance(group, dict):
        raise _bad(
            section,
            row,
            name,
            f"is a {type(group).__name__}, not an object",
            'send {"feature name": value, ...}',
        )
    for key, value in group.items():
        if not key or len(key) > MAX_NAME:
            raise _bad(
                section,
                row,
                name,
                f"has a name of {len(key)} characters ({_shown(key)})",
                f"name each value with 1-{MAX_NAME} characters",
            )
        if value is None:
            if key not in columns:
                columns[key] = _Values()
            continue
        if not isinstance(value, (bool, int, float, str, list, dict)):
            raise _bad(section, row, f"{name}.{key}", f"is {_shown(value)}", "send a JSON value")
        value = _feature_value(value, section, row, f"{name}.{key}")
        values = columns.get(key)
        if values is None:
            values = columns[key] = _Values()
        values.values[row] = value
        values.kinds.add(type(value))
    if len(columns) > MAX_COLUMNS:
        raise _bad(
            section,
            row,
            name,
            f"brings the batch to {len(columns):,} distinct names",
            f"send at most {MAX_COLUMNS:,} per batch",
        )


def _as_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return json.dumps(value)  # NaN, Infinity, 1.5, 1e+100: the JSON spelling
    return str(value)


def _feature_array(values: _Values, n: int) -> pa.Array:
    """One feature's column by the mixed-type rule (see the module docstring)."""
    kinds = values.kinds
    column = [values.values.get(i) for i in range(n)] if values.values else None
    if column is None or not kinds:
        return pa.nulls(n)
    if kinds == {bool}:
        return pa.array(column, pa.bool_())
    if kinds == {int} and all(-_INT64 <= v < _INT64 for v in values.values.values()):
        return pa.array(column, pa.int64())
    if kinds <= {int, float}:
        return pa.array([None if v is None else float(v) for v in column], pa.float64())
    return pa.array([None if v is None else _as_text(v) for v in column], pa.string())


def _segment(value: Any, row: int) -> list[tuple[str, str]]:
    if value is None:
        return []
    fix = 'send {"tag": "value"} with string values, e.g. {"region": "eu"}'
    if not isinstance(value, dict):
        raise _bad("events", row, "segment", f"is a {type(value).__name__}, not an object", fix)
    pairs = []
    for tag, tag_value in value.items():
        if tag_value is None:
            continue
        if not isinstance(tag_value, str):
            raise _bad("events", row, "segment", f"tag {_shown(tag)} is {_shown(tag_value)}", fix)
        if not tag or len(tag) > MAX_NAME or len(tag_value) > MAX_NAME:
            raise _bad(
                "events",
                row,
                "segment",
                f"tag {_shown(tag)} or its value is empty or over {MAX_NAME} characters",
                "use short tags",
            )
        pairs.append((tag, tag_value))
    return pairs


def _validation(value: Any, row: int) -> list[str]:
    if value is None:
        return []
    fix = 'send a list of strings, e.g. ["score is NaN"]'
    if not isinstance(value, list) or len(value) > 1_000:
        raise _bad("events", row, "validation", f"is {_shown(value)}", fix)
    for item in value:
        if not isinstance(item, str) or len(item) > MAX_TEXT:
            raise _bad("events", row, "validation", f"holds {_shown(item)}", fix)
    return value


def _hex(value: Any, row: int, name: str) -> str | None:
    if value is None:
        return None
    size = _HEX[name]
    if (
        not isinstance(value, str)
        or len(value) != size
        or not all(c in "0123456789abcdefABCDEF" for c in value)
    ):
        raise _bad(
            "events",
            row,
            name,
            f"{_shown(value)} is not {size} hex digits",
            "send the OpenTelemetry id as lower-case hex, or leave it out",
        )
    return value.lower()


def _events_from_objects(payload: Any) -> EventBatch:
    if not isinstance(payload, dict):
        raise _top(
            "events",
            f"the body is JSON {type(payload).__name__}, not an object; "
            'send {"events": [...]} (see docs/protocol.md)',
        )
    events = payload.get("events")
    if not isinstance(events, list):
        raise _top(
            "events",
            'the body needs "events": a list of event objects'
            + ("" if events is None else f", got a {type(events).__name__}"),
        )
    n = len(events)
    fixed: dict[str, list[Any]] = {name: [None] * n for name in _FIXED}
    inputs: dict[str, _Values] = {}
    outputs: dict[str, _Values] = {}
    for row, event in enumerate(events):
        if not isinstance(event, dict):
            raise _bad("events", row, "event", f"is {_shown(event)}", "send an object per event")
        get = event.get
        fixed["event_id"][row] = _event_id(get("event_id"), "events", row)
        fixed["ts"][row] = _parse_ts(get("ts"), "events", row)
        fixed["model"][row] = _text(get("model"), "events", row, "model", MAX_NAME, required=True)
        fixed["version"][row] = _text(get("version"), "events", row, "version", MAX_NAME) or ""
        fixed["environment_id"][row] = _text(
            get("environment_id"), "events", row, "environment_id", MAX_NAME
        )
        _features(get("inputs"), "events", row, "inputs", inputs)
        _features(get("outputs"), "events", row, "outputs", outputs)
        latency = _number(
            get("latency_ms"),
            "events",
            row,
            "latency_ms",
            "send a finite number of milliseconds or leave it out",
        )
        if latency is not None and latency < 0:
            raise _bad(
                "events",
                row,
                "latency_ms",
                f"is {latency}",
                "send a finite number of milliseconds >= 0 or leave it out",
            )
        fixed["latency_ms"][row] = latency
        status = get("status")
        if status is None:
            status = "ok"
        elif status not in STATUSES:
            raise _bad(
                "events",
                row,
                "status",
                f"is {_shown(status)}",
                f"send one of {', '.join(STATUSES)}",
            )
        fixed["status"][row] = status
        fixed["error"][row] = _text(get("error"), "events", row, "error", MAX_TEXT)
        fixed["validation"][row] = _validation(get("validation"), row)
        fixed["trace_id"][row] = _hex(get("trace_id"), row, "trace_id")
        fixed["span_id"][row] = _hex(get("span_id"), row, "span_id")
        fixed["segment"][row] = _segment(get("segment"), row)
        size = get("batch_size")
        if size is None:
            size = 1
        elif isinstance(size, bool) or not isinstance(size, int) or not 1 <= size < 2**31:
            raise _bad(
                "events",
                row,
                "batch_size",
                f"is {_shown(size)}",
                "send the number of rows the call predicted (a whole number >= 1)",
            )
        fixed["batch_size"][row] = size
    schema = event_columns()
    arrays = [pa.array(fixed[name], schema.field(name).type) for name in _FIXED[:1]]
    arrays.append(pa.array(fixed["ts"], pa.int64()).cast(pa.timestamp("us", tz="UTC")))
    arrays += [pa.array(fixed[name], schema.field(name).type) for name in _FIXED[2:]]
    names = list(_FIXED)
    for prefix, group in ((INPUT_PREFIX, inputs), (OUTPUT_PREFIX, outputs)):
        for key, values in group.items():
            names.append(prefix + key)
            arrays.append(_feature_array(values, n))
    table = pa.Table.from_arrays(arrays, names=names)
    return _with_context(table, payload)


def _with_context(table: pa.Table, payload: Mapping[str, Any]) -> EventBatch:
    return EventBatch(
        _cast_fixed(table),
        _environments(payload.get("environments")),
        _resources(payload.get("resources")),
        _client(payload.get("client")),
    )


def _cast_fixed(table: pa.Table) -> pa.Table:
    schema = event_columns()
    fields = [
        schema.field(n) if n in schema.names else table.schema.field(n) for n in table.column_names
    ]
    return table.cast(pa.schema(fields))


# --------------------------------------------------------------------------------------------
# What travels with the events: environments, resource samples, client counters
# --------------------------------------------------------------------------------------------

_ENV_TEXT = ("python", "platform", "cpu", "gpu")
MAX_ENVIRONMENT_LABELS = 20
"""Most labels one environment carries (``Monitor(environment={"name": ...})``)."""
_RESOURCE_NUMBERS = ("cpu_percent", "rss_mb", "gpu_percent", "gpu_memory_mb", "loop_lag_ms")


def _list_of_objects(value: Any, section: str) -> list[dict[str, Any]]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise _top(section, f'"{section}" must be a list of objects, got {type(value).__name__}')
    for row, item in enumerate(value):
        if not isinstance(item, dict):
            raise _bad(section, row, "item", f"is {_shown(item)}", "send an object")
    return value


def _environments(value: Any) -> list[dict[str, Any]]:
    out = []
    for row, item in enumerate(_list_of_objects(value, "environments")):
        env: dict[str, Any] = {
            "environment_id": _text(
                item.get("environment_id"),
                "environments",
                row,
                "environment_id",
                MAX_NAME,
                required=True,
            )
        }
        for name in _ENV_TEXT:
            env[name] = _text(item.get(name), "environments", row, name, 1_000) or ""
        packages = item.get("packages")
        if packages is None:
            packages = {}
        if not isinstance(packages, dict):
            raise _bad(
                "environments", row, "packages", f"is {_shown(packages)}", 'send {"numpy": "2.4.6"}'
            )
        env["packages"] = {
            str(k): _text(v, "environments", row, f"packages.{k}", 200)
            for k, v in packages.items()
            if v is not None
        }
        labels = item.get("labels")
        if labels is not None:
            if not isinstance(labels, dict) or len(labels) > MAX_ENVIRONMENT_LABELS:
                raise _bad(
                    "environments",
                    row,
                    "labels",
                    f"is {_shown(labels)}",
                    f'send at most {MAX_ENVIRONMENT_LABELS} labels as {{"name": "gpu-b"}}',
                )
            env["labels"] = {
                _text(k, "environments", row, "labels (a name)", MAX_NAME, required=True): _text(
                    v, "environments", row, f"labels.{k}", 1_000
                )
                or ""
                for k, v in labels.items()
                if v is not None
            }
        out.append(env)
    return out


def _resources(value: Any) -> list[dict[str, Any]]:
    out = []
    for row, item in enumerate(_list_of_objects(value, "resources")):
        sample: dict[str, Any] = {
            "ts": _parse_ts(item.get("ts"), "resources", row),
            "instance": _text(
                item.get("instance"), "resources", row, "instance", MAX_NAME, required=True
            ),
        }
        for name in _RESOURCE_NUMBERS:
            sample[name] = _number(
                item.get(name), "resources", row, name, "send a finite number or null"
            )
        out.append(sample)
    return out


def _client(value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _top("client", f'"client" must be an object, got {type(value).__name__}')
    out: dict[str, Any] = {}
    for name in ("sdk", "instance"):
        text = _text(value.get(name), "client", 0, name, MAX_NAME)
        if text is not None:
            out[name] = text
    dropped = value.get("dropped")
    if dropped is not None:
        if isinstance(dropped, bool) or not isinstance(dropped, int) or dropped < 0:
            raise _bad(
                "client", 0, "dropped", f"is {_shown(dropped)}", "send the running total (>= 0)"
            )
        out["dropped"] = dropped
    return out


# --------------------------------------------------------------------------------------------
# JSON: the fast path (pyarrow's JSON reader, checked column-wise)
# --------------------------------------------------------------------------------------------

_SCALAR_TYPES = (pa.null(), pa.bool_(), pa.int64(), pa.float64(), pa.string())


def _plain(dtype: pa.DataType) -> bool:
    """Only types JSON makes by itself (the reader also guesses timestamps: not wanted)."""
    if dtype in _SCALAR_TYPES:
        return True
    if pa.types.is_struct(dtype):
        return all(_plain(dtype.field(i).type) for i in range(dtype.num_fields))
    if pa.types.is_list(dtype):
        return _plain(dtype.value_type)
    return False


class _Fallback(Exception):
    """The fast path cannot take this body as it is; the reference decoder will."""


def _fast_events(body: bytes) -> EventBatch:
    import pyarrow.json as pajson

    if not body.lstrip()[:1] == b"{":
        raise _Fallback
    try:
        table = pajson.read_json(
            pa.py_buffer(body),
            read_options=pajson.ReadOptions(use_threads=False, block_size=len(body) + 64),
            parse_options=pajson.ParseOptions(
                explicit_schema=_json_schema(),
                newlines_in_values=b"\n" in body,
                unexpected_field_behavior="infer",
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        raise _Fallback from None
    if (
        table.num_rows != 1
        or "events" not in table.column_names
        or not all(_plain(f.type) for f in table.schema)
    ):
        raise _Fallback
    events_type = table.schema.field("events").type
    if not pa.types.is_list(events_type) or not pa.types.is_struct(events_type.value_type):
        raise _Fallback
    chunk = table.column("events").combine_chunks()
    if chunk.null_count:
        raise _Fallback
    rows = chunk.flatten()
    if rows.null_count or len(rows) == 0:
        raise _Fallback
    parts = dict(zip([f.name for f in rows.type], rows.flatten(), strict=True))
    columns = _columns_from_parts(parts, len(rows), strict=False)
    out = table.drop_columns(["events"]).to_pylist()[0]
    return _with_context(columns, _drop_nulls(out))


@functools.cache
def _json_schema() -> pa.Schema:
    """Fixed fields the reader must not guess (it would read ISO times as timestamp[s])."""
    text = pa.string()
    event = [(name, text) for name in ("event_id", "ts", "model", "version", "environment_id")]
    event += [(name, text) for name in ("status", "error", "trace_id", "span_id")]
    return pa.schema(
        [
            ("events", pa.list_(pa.struct(event))),
            ("resources", pa.list_(pa.struct([("ts", text), ("instance", text)]))),
            (
                "environments",
                pa.list_(pa.struct([(n, text) for n in ("environment_id", *_ENV_TEXT)])),
            ),
        ]
    )


def _drop_nulls(value: Any) -> Any:
    """Inferred structs fill absent keys with null: drop them again (null == missing)."""
    if isinstance(value, dict):
        return {k: _drop_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_drop_nulls(v) for v in value]
    return value


# --------------------------------------------------------------------------------------------
# Column-wise checks, shared by the fast JSON path and the Arrow path
# --------------------------------------------------------------------------------------------


@dataclass(order=True)
class _Problem:
    row: int
    order: int
    name: str = field(compare=False)
    problem: str = field(compare=False)
    fix: str = field(compare=False)


class _Checks:
    """Collects the first bad row of each check; the earliest (row, field order) wins."""

    def __init__(self, strict: bool) -> None:
        self.strict = strict
        self.found: list[_Problem] = []

    def flag(self, name: str, bad: Any, problem: Callable[[int], str], fix: str) -> None:
        """``bad`` is a boolean array (nulls are fine)."""
        if not bad.null_count and not pc.any(bad).as_py():
            return
        mask = pc.fill_null(bad, False)
        if not pc.any(mask).as_py():
            return
        if not self.strict:
            raise _Fallback
        row = int(np.argmax(np.asarray(mask.to_numpy(zero_copy_only=False))))
        order = _FIXED.index(name.split(".")[0]) if name.split(".")[0] in _FIXED else 100
        self.found.append(_Problem(row, order, name, problem(row), fix))

    def raise_first(self) -> None:
        if self.found:
            first = min(self.found)
            raise _bad("events", first.row, first.name, first.problem, first.fix)


def _value_at(array: pa.Array, row: int) -> str:
    return _shown(array[row].as_py())


def _columns_from_parts(parts: dict[str, pa.Array], n: int, *, strict: bool) -> pa.Table:
    """Validate and normalise raw columns into the canonical table.

    ``parts`` maps field names to arrays: fixed fields, and ``inputs``/``outputs``/``segment``
    as struct arrays (JSON) or ``input.<name>`` arrays (Arrow). With ``strict`` (Arrow) the first
    bad row raises; otherwise (JSON fast path) any problem sends the body to the reference
    decoder.
    """
    checks = _Checks(strict)
    out: dict[str, pa.Array] = {}

    def string_column(name: str, limit: int, *, required: bool = False) -> pa.Array:
        array = parts.get(name)
        if array is None or array.type == pa.null():
            array = pa.nulls(n, pa.string())
        elif pa.types.is_dictionary(array.type):
            array = array.dictionary_decode()
        if pa.types.is_large_string(array.type):
            array = array.cast(pa.string())
        if array.type != pa.string():
            if not strict:
                raise _Fallback
            raise _bad("events", 0, name, f"is a column of {array.type}", "send a string column")
        if required:
            checks.flag(
                name,
                pc.is_null(array),
                lambda r: "is missing",
                f"send a string of 1-{limit} characters",
            )
            checks.flag(
                name,
                pc.equal(pc.utf8_length(array), 0),
                lambda r: "is empty",
                f"send a string of 1-{limit} characters",
            )
        lengths = pc.utf8_length(array)
        checks.flag(
            name,
            pc.greater(lengths, limit),
            lambda r: f"has {lengths[r].as_py():,} characters",
            f"send at most {limit:,} (shorten or hash it)",
        )
        return array

    # event_id
    ids = string_column("event_id", 36, required=True)
    fix_id = "send a UUID such as 0f8c6d1e-6c1f-4c3b-9a53-2d3e4f5a6b7c"
    checks.flag(
        "event_id",
        pc.invert(pc.match_substring_regex(ids, _UUID_PATTERN)),
        lambda r: f"{_value_at(ids, r)} is not a UUID",
        fix_id,
    )
    if not checks.found and not pc.all(pc.match_substring_regex(ids, _CANONICAL_UUID)).as_py():
        lower = pc.utf8_lower(ids)
        dashed = pc.binary_join_element_wise(
            *(
                pc.utf8_slice_codeunits(lower, a, b)
                for a, b in ((0, 8), (8, 12), (12, 16), (16, 20), (20, 32))
            ),
            "-",
        )
        ids = pc.if_else(pc.equal(pc.utf8_length(lower), 32), dashed, lower)
    out["event_id"] = ids

    out["ts"] = _ts_column(parts.get("ts"), n, checks)
    out["model"] = string_column("model", MAX_NAME, required=True)
    version = string_column("version", MAX_NAME)
    out["version"] = pc.fill_null(version, "") if version.null_count else version
    out["environment_id"] = string_column("environment_id", MAX_NAME)

    latency = parts.get("latency_ms")
    if latency is None or latency.type == pa.null():
        latency = pa.nulls(n, pa.float64())
    elif not (pa.types.is_integer(latency.type) or pa.types.is_floating(latency.type)):
        if not strict:
            raise _Fallback
        raise _bad("events", 0, "latency_ms", f"is a column of {latency.type}", "send float64")
    latency = latency.cast(pa.float64())
    fix_latency = "send a finite number of milliseconds >= 0 or leave it out"
    checks.flag(
        "latency_ms",
        pc.invert(pc.is_finite(latency)),
        lambda r: f"is {latency[r].as_py()}",
        fix_latency,
    )
    checks.flag(
        "latency_ms", pc.less(latency, 0), lambda r: f"is {latency[r].as_py()}", fix_latency
    )
    out["latency_ms"] = latency

    status = string_column("status", 20)
    status = pc.fill_null(status, "ok") if status.null_count else status
    checks.flag(
        "status",
        pc.invert(pc.is_in(status, value_set=pa.array(STATUSES))),
        lambda r: f"is {_value_at(status, r)}",
        f"send one of {', '.join(STATUSES)}",
    )
    out["status"] = status
    out["error"] = string_column("error", MAX_TEXT)
    out["validation"] = _validation_column(parts.get("validation"), n, strict, checks)
    for name, size in _HEX.items():
        hexes = string_column(name, size)
        checks.flag(
            name,
            pc.invert(pc.match_substring_regex(hexes, f"^[0-9a-fA-F]{{{size}}}$")),
            lambda r, h=hexes, s=size: f"{_value_at(h, r)} is not {s} hex digits",  # type: ignore[misc]
            "send the OpenTelemetry id as lower-case hex, or leave it out",
        )
        out[name] = pc.utf8_lower(hexes) if hexes.null_count < n else hexes
    out["segment"] = _segment_column(parts.get("segment"), n, strict, checks)

    sizes = parts.get("batch_size")
    if sizes is None or sizes.type == pa.null():
        sizes = pa.nulls(n, pa.int32())
    elif not pa.types.is_integer(sizes.type):
        if not strict:
            raise _Fallback
        raise _bad("events", 0, "batch_size", f"is a column of {sizes.type}", "send int32")
    checks.flag(
        "batch_size",
        pc.or_(pc.less(sizes, 1), pc.greater_equal(sizes, 2**31)),
        lambda r: f"is {sizes[r].as_py()}",
        "send the number of rows the call predicted (a whole number >= 1)",
    )
    out["batch_size"] = pc.fill_null(sizes, 1).cast(pa.int32())

    features = _feature_columns(parts, n, strict, checks)
    checks.raise_first()
    names = list(_FIXED) + list(features)
    arrays = [out[name] for name in _FIXED] + list(features.values())
    return pa.Table.from_arrays(arrays, names=names)


def _ts_column(ts: pa.Array | None, n: int, checks: _Checks) -> pa.Array:
    fix = "send ISO-8601 (e.g. 2026-11-22T14:02:00Z) or epoch seconds"
    if ts is None or ts.type == pa.null():
        checks.flag("ts", pa.array(np.ones(n, bool)), lambda r: "is missing", fix)
        return pa.nulls(n, pa.timestamp("us", tz="UTC"))
    if pa.types.is_dictionary(ts.type):
        ts = ts.dictionary_decode()
    checks.flag("ts", pc.is_null(ts), lambda r: "is missing", fix)
    if pa.types.is_timestamp(ts.type):
        micros = ts.cast(pa.timestamp("us", tz=ts.type.tz)).cast(pa.int64())
    elif pa.types.is_integer(ts.type) or pa.types.is_floating(ts.type):
        seconds = ts.cast(pa.float64())
        checks.flag(
            "ts", pc.invert(pc.is_finite(seconds)), lambda r: f"is {seconds[r].as_py()}", fix
        )
        values = np.round(seconds.to_numpy(zero_copy_only=False) * 1_000_000)
        bad = ~np.isfinite(values) | (values < _MIN_US) | (values >= _MAX_US)
        if bad.any():
            checks.flag(
                "ts",
                pa.array(bad),
                lambda r: f"{seconds[r].as_py()} is not a time in 1970-2199",
                fix,
            )
            return pa.nulls(n, pa.timestamp("us", tz="UTC"))
        micros = pa.array(values.astype(np.int64), mask=np.asarray(pc.is_null(ts)))
    elif pa.types.is_string(ts.type) or pa.types.is_large_string(ts.type):
        ts = ts.cast(pa.string())
        zoned = pc.match_substring_regex(ts, _ZONE)
        text = pc.if_else(zoned, ts, pc.binary_join_element_wise(ts, "Z", ""))
        try:
            micros = pc.cast(text, pa.timestamp("us", tz="UTC")).cast(pa.int64())
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            if not checks.strict:
                raise _Fallback from None
            # Parse row by row to name the first bad one (and accept what Python accepts).
            parsed = [
                None if v is None else _parse_ts(v, "events", i)
                for i, v in enumerate(ts.to_pylist())
            ]
            micros = pa.array(parsed, pa.int64())
    else:
        if not checks.strict:
            raise _Fallback
        raise _bad("events", 0, "ts", f"is a column of {ts.type}", "send timestamp[us, UTC]")
    checks.flag(
        "ts",
        pc.or_(pc.less(micros, _MIN_US), pc.greater_equal(micros, _MAX_US)),
        lambda r: "is not a time in 1970-2199",
        fix,
    )
    return micros.cast(pa.timestamp("us", tz="UTC"))


def _validation_column(array: pa.Array | None, n: int, strict: bool, checks: _Checks) -> pa.Array:
    kind = pa.list_(pa.string())
    if array is None or array.type == pa.null():
        return pa.array([[]] * n, kind)
    if pa.types.is_large_list(array.type):
        array = array.cast(pa.list_(array.type.value_type))
    if not pa.types.is_list(array.type) or array.type.value_type not in (
        pa.null(),
        pa.string(),
        pa.large_string(),
    ):
        if not strict:
            raise _Fallback
        raise _bad("events", 0, "validation", f"is a column of {array.type}", "send list<string>")
    array = array.cast(kind)
    lengths = pc.utf8_length(array.flatten())
    if len(lengths) and pc.max(lengths).as_py() > MAX_TEXT:
        if not strict:
            raise _Fallback
        parents = pc.list_parent_indices(array)
        row = int(parents[int(np.argmax(np.asarray(lengths) > MAX_TEXT))].as_py())
        checks.flag(
            "validation",
            pa.array(np.arange(n) == row),
            lambda r: "holds a string too long",
            f"send at most {MAX_TEXT:,} characters",
        )
    if array.null_count:
        array = pc.if_else(pc.is_null(array), pa.array([[]] * n, kind), array)
    return array


def _segment_column(array: pa.Array | None, n: int, strict: bool, checks: _Checks) -> pa.Array:
    kind = pa.map_(pa.string(), pa.string())
    fix = 'send {"tag": "value"} with string values, e.g. {"region": "eu"}'
    if array is None or array.type == pa.null():
        return pa.array([[]] * n, kind)
    if pa.types.is_struct(array.type):  # JSON: one child per tag
        tags = [array.type.field(i).name for i in range(array.type.num_fields)]
        children = array.flatten()
        usable = []
        for tag, child in zip(tags, children, strict=True):
            if child.type == pa.null():
                continue
            if child.type != pa.string() or not tag or len(tag) > MAX_NAME:
                raise _Fallback
            usable.append((tag, child))
        if not usable:
            return pa.array([[]] * n, kind)
        valid = np.stack([np.asarray(c.is_valid()) for _, c in usable], axis=1)  # n x k
        counts = valid.sum(axis=1)
        offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int32)
        order = (np.arange(len(usable))[None, :] * n + np.arange(n)[:, None])[valid]
        keys = pa.array(
            np.repeat(np.array([t for t, _ in usable], dtype=object)[None, :], n, axis=0)[valid],
            pa.string(),
        )
        values = pa.concat_arrays([c for _, c in usable]).take(pa.array(order))
        if len(values) and pc.max(pc.utf8_length(values)).as_py() > MAX_NAME:
            raise _Fallback
        return pa.MapArray.from_arrays(pa.array(offsets), keys, values)
    if pa.types.is_map(array.type):  # Arrow
        if array.type != kind:
            try:
                array = array.cast(kind)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                raise _bad(
                    "events",
                    0,
                    "segment",
                    f"is a column of {array.type}",
                    "send map<string, string>",
                ) from None
        keys, items = array.keys, array.items
        offsets = np.asarray(array.offsets)
        parents = np.repeat(np.arange(n), np.diff(offsets))
        bad = (
            np.asarray(pc.fill_null(pc.greater(pc.utf8_length(keys), MAX_NAME), True))
            | np.asarray(pc.fill_null(pc.equal(pc.utf8_length(keys), 0), True))
            | np.asarray(pc.fill_null(pc.greater(pc.utf8_length(items), MAX_NAME), False))
        )
        if bad.any():
            row = int(parents[int(np.argmax(bad))])
            checks.flag(
                "segment",
                pa.array(np.arange(n) == row),
                lambda r: "has an empty, null or over-long tag or value",
                fix,
            )
        if items.null_count:  # a null tag value is the same as no tag
            rows = [[(k, v) for k, v in (m or []) if v is not None] for m in array.to_pylist()]
            return pa.array(rows, kind)
        if array.null_count:
            array = pc.if_else(pc.is_null(array), pa.array([[]] * n, kind), array)
        return array
    if not strict:
        raise _Fallback
    raise _bad("events", 0, "segment", f"is a column of {array.type}", "send map<string, string>")


def _feature_columns(
    parts: dict[str, Any], n: int, strict: bool, checks: _Checks
) -> dict[str, pa.Array]:
    columns: dict[str, pa.Array] = {}
    for group, prefix in (("inputs", INPUT_PREFIX), ("outputs", OUTPUT_PREFIX)):
        struct = parts.get(group)
        if struct is not None and struct.type != pa.null():  # JSON
            if not pa.types.is_struct(struct.type):
                raise _Fallback
            names = [struct.type.field(i).name for i in range(struct.type.num_fields)]
            pairs = list(zip(names, struct.flatten(), strict=True))
        else:  # Arrow: flattened columns
            pairs = [(k[len(prefix) :], v) for k, v in parts.items() if k.startswith(prefix)]
        if len(pairs) > MAX_COLUMNS:
            if not strict:
                raise _Fallback
            raise _bad(
                "events", 0, group, f"has {len(pairs):,} columns", f"send at most {MAX_COLUMNS:,}"
            )
        for name, array in pairs:
            if not name or len(name) > MAX_NAME:
                if not strict:
                    raise _Fallback
                raise _bad(
                    "events",
                    0,
                    group,
                    f"has a column named {_shown(name)}",
                    f"name each with 1-{MAX_NAME} characters",
                )
            columns[prefix + name] = _feature(array, f"{group}.{name}", strict, checks)
    return columns


def _feature(array: pa.Array, name: str, strict: bool, checks: _Checks) -> pa.Array:
    dtype = array.type
    if pa.types.is_dictionary(dtype):
        array = array.dictionary_decode()
        dtype = array.type
    if dtype in (pa.null(), pa.bool_(), pa.int64(), pa.float64()):
        return array
    if pa.types.is_integer(dtype):
        if pa.types.is_uint64(dtype) and (pc.max(array).as_py() or 0) >= _INT64:
            return array.cast(pa.float64())
        return array.cast(pa.int64())
    if pa.types.is_floating(dtype):
        return array.cast(pa.float64())
    if pa.types.is_string(dtype) or pa.types.is_large_string(dtype):
        array = array.cast(pa.string())
        lengths = pc.utf8_length(array)
        checks.flag(
            name,
            pc.greater(lengths, MAX_TEXT),
            lambda r: f"has {lengths[r].as_py():,} characters",
            f"send at most {MAX_TEXT:,} (shorten or hash it)",
        )
        return array
    if not strict:
        raise _Fallback
    if pa.types.is_nested(dtype):  # lists and structs: JSON text, as the JSON path keeps them
        texts = [
            None if v is None else json.dumps(v, ensure_ascii=False, default=str)
            for v in array.to_pylist()
        ]
        return _feature(pa.array(texts, pa.string()), name, strict, checks)
    raise _bad(
        "events",
        0,
        name,
        f"is a column of {dtype}",
        "send float64, int64, bool or string columns (a time as epoch seconds or ISO text)",
    )


# --------------------------------------------------------------------------------------------
# Public decoders
# --------------------------------------------------------------------------------------------


def _loads(payload: bytes | str) -> Any:
    try:
        return json.loads(payload)
    except (ValueError, UnicodeDecodeError, RecursionError) as error:
        raise MalformedError(
            f"the body is not JSON ({str(error)[:200]}); send UTF-8 JSON"
        ) from None


def decode_events_json(payload: bytes | dict[str, Any]) -> EventBatch:
    """Decode ``{"events": [...], "environments": [...], ...}`` (bytes or already parsed).

    Raises :class:`MalformedError` when the bytes are not JSON and
    :class:`~telltale.errors.SchemaError` naming the first bad row and field otherwise.
    """
    if isinstance(payload, (bytes, bytearray, memoryview)):
        body = bytes(payload)
        try:
            return _fast_events(body)
        except (_Fallback, pa.ArrowException):
            # Anything the column-wise path cannot take (or pyarrow trips on) goes the reference
            # way, which decides and names the problem.
            payload = _loads(body)
    return _events_from_objects(payload)


def decode_events_arrow(data: bytes) -> EventBatch:
    """Decode an Arrow IPC stream of flattened event columns (docs/protocol.md).

    Columns already in their canonical type are passed through without a copy.
    """
    try:
        reader = pa.ipc.open_stream(pa.py_buffer(data))
        table = reader.read_all()
    except (pa.ArrowInvalid, pa.ArrowException, OSError) as error:
        raise MalformedError(
            f"the body is not an Arrow IPC stream ({str(error)[:200]}); "
            "write it with pyarrow.ipc.new_stream"
        ) from None
    metadata = table.schema.metadata or {}
    context: dict[str, Any] = {}
    for key in ("environments", "resources", "client"):
        raw = metadata.get(f"telltale.{key}".encode())
        if raw is not None:
            context[key] = _loads(raw)
    if table.num_rows == 0:
        return EventBatch(pa.Table.from_pylist([], schema=event_columns()), **_context(context))
    for name in ("event_id", "ts", "model"):
        if name not in table.column_names:
            raise _top(name, f"the stream has no {name!r} column; every event needs one")
    if len(set(table.column_names)) != len(table.column_names):
        raise _top("columns", "the stream repeats a column name; send each column once")
    parts = {name: table.column(name).combine_chunks() for name in table.column_names}
    events = _cast_fixed(_columns_from_parts(parts, table.num_rows, strict=True))
    return EventBatch(events, **_context(context))


def _context(context: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "environments": _environments(context.get("environments")),
        "resources": _resources(context.get("resources")),
        "client": _client(context.get("client")),
    }


def _rows(payload: bytes | dict[str, Any], section: str) -> list[dict[str, Any]]:
    data = _loads(payload) if isinstance(payload, (bytes, bytearray, memoryview, str)) else payload
    if not isinstance(data, dict) or not isinstance(data.get(section), list):
        raise _top(section, f'the body must be {{"{section}": [...]}}, a list of objects')
    return _list_of_objects(data[section], section)


def decode_labels_json(payload: bytes | dict[str, Any]) -> pa.Table:
    """Decode ``{"labels": [{"event_id", "label", "ts"?}]}`` into :func:`label_columns`.

    A label is a string, a finite number or a boolean. Repeated event ids keep the last label
    (sending a label again replaces it).

    >>> decode_labels_json({"labels": [{"event_id": "0f8c6d1e6c1f4c3b9a532d3e4f5a6b7c",
    ...                                 "label": 1}]}).column("label").to_pylist()
    ['1']
    """
    rows = _rows(payload, "labels")
    ids: list[str] = []
    stamps: list[int | None] = []
    texts: list[str] = []
    numbers: list[float | None] = []
    fix = "send the ground truth as a string, a finite number or a boolean"
    for row, item in enumerate(rows):
        ids.append(_event_id(item.get("event_id"), "labels", row))
        ts = item.get("ts")
        stamps.append(None if ts is None else _parse_ts(ts, "labels", row))
        value = item.get("label")
        if value is None:
            raise _bad("labels", row, "label", "is missing", fix)
        if isinstance(value, (bool, str)):
            if isinstance(value, str):
                _text(value, "labels", row, "label", MAX_NAME)
            numbers.append(None)
        elif isinstance(value, (int, float)):
            if not math.isfinite(float(value)):
                raise _bad("labels", row, "label", f"is {value}", fix)
            numbers.append(float(value))
        else:
            raise _bad("labels", row, "label", f"is {_shown(value)}", fix)
        texts.append(label_text(value))
    return _last_per_id(
        pa.table(
            [
                pa.array(ids, pa.string()),
                pa.array(stamps, pa.int64()).cast(pa.timestamp("us", tz="UTC")),
                pa.array(texts, pa.string()),
                pa.array(numbers, pa.float64()),
            ],
            schema=label_columns(),
        )
    )


def decode_feedback_json(payload: bytes | dict[str, Any]) -> pa.Table:
    """Decode ``{"feedback": [{"event_id", "score", "ts"?}]}`` into :func:`feedback_columns`.

    >>> decode_feedback_json({"feedback": [{"event_id": "0f8c6d1e6c1f4c3b9a532d3e4f5a6b7c",
    ...                                     "score": 1}]}).column("score").to_pylist()
    [1.0]
    """
    rows = _rows(payload, "feedback")
    ids, stamps, scores = [], [], []
    for row, item in enumerate(rows):
        ids.append(_event_id(item.get("event_id"), "feedback", row))
        ts = item.get("ts")
        stamps.append(None if ts is None else _parse_ts(ts, "feedback", row))
        score = _number(
            item.get("score"), "feedback", row, "score", "send a finite number (e.g. 1 or 0)"
        )
        if score is None:
            raise _bad("feedback", row, "score", "is missing", "send a finite number (e.g. 1 or 0)")
        scores.append(score)
    return _last_per_id(
        pa.table(
            [
                pa.array(ids, pa.string()),
                pa.array(stamps, pa.int64()).cast(pa.timestamp("us", tz="UTC")),
                pa.array(scores, pa.float64()),
            ],
            schema=feedback_columns(),
        )
    )


def _last_per_id(table: pa.Table) -> pa.Table:
    ids = table.column("event_id").to_pylist()
    if len(set(ids)) == len(ids):
        return table
    last = {event_id: i for i, event_id in enumerate(ids)}
    return table.take(sorted(last.values()))
