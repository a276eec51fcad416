"""One batch of events held column by column: what the background thread builds and encodes.

The wire's bulk form is columnar (Arrow: one column per field, one ``input.<name>`` column per
feature), and so is the store. Building one protocol dict per event and pulling the dicts apart
again for Arrow cost about 15 µs of CPU per event under the GIL, time taken from the model's
threads. So the background thread fills one list per field straight from the raw records, and
:mod:`telltale.sdk.arrow_events` turns each list into one Arrow array. The protocol's JSON rows
(for the JSON encoding, :class:`~telltale.sdk.MemorySink` and sinks of your own) are made from the
columns only when asked, by :meth:`EventColumns.rows`.

Inputs and outputs are kept as the model gave them (after redaction) and coerced to wire values
where they are encoded, a whole column at a time: Arrow infers the type of a column of plain
numbers, strings or booleans in C; only a column holding something else (arrays, dicts, dates,
NumPy scalars …) goes value by value through :func:`~telltale.sdk.values.wire_value`. A feature
that some events of the batch lack holds :data:`~telltale.sdk.values.ABSENT` for them, and its
name is in :attr:`EventColumns.sparse`.

>>> columns = EventColumns.from_rows([
...     {"event_id": "e1", "ts": "2027-01-15T08:00:00Z", "model": "fraud",
...      "inputs": {"amount": 12.5}, "outputs": {"prediction": 1}},
...     {"event_id": "e2", "ts": "2027-01-15T08:00:01Z", "model": "fraud", "inputs": {}},
... ])
>>> columns.inputs, sorted(columns.sparse)
({'amount': [12.5, ABSENT]}, [('input', 'amount'), ('output', 'prediction')])
>>> [row["inputs"] for row in columns.rows()]
[{'amount': 12.5}, {}]
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any, Literal

from telltale.sdk.timestamps import iso_from_micros, micros_from_wire
from telltale.sdk.values import ABSENT, wire_column

__all__ = ["NO_REASONS", "EventColumns", "Side", "columns_of"]

Side = Literal["input", "output"]

NO_REASONS: list[str] = []
"""The validation of an event that passed (shared; :meth:`EventColumns.rows` copies it)."""


def columns_of(rows: Sequence[Mapping[Any, Any]]) -> tuple[dict[str, list[Any]], set[str]]:
    """The rows' values by name, and the names some rows lack (holding ``ABSENT`` there).

    When every row has the same keys (one model, one feature dict per call: the usual case) the
    rows are pulled apart in C by ``zip(*map(itemgetter(*names), rows))``; otherwise row by row.

    >>> columns_of([{"a": 1, "b": "x"}, {"b": "y", "a": 2}])
    ({'a': [1, 2], 'b': ['x', 'y']}, set())
    >>> columns_of([{"a": 1}, {1: True}])
    ({'a': [1, ABSENT], '1': [ABSENT, True]}, {'1', 'a'})
    """
    if not rows:
        return {}, set()
    first = rows[0]
    names = list(first) if isinstance(first, Mapping) else None
    try:
        if (
            names
            and all(type(name) is str for name in names)
            and len(set(map(len, rows))) == 1  # same size and (below) the same keys: same set
        ):
            if len(names) == 1:
                (name,) = names
                return {name: [row[name] for row in rows]}, set()
            values = zip(*map(itemgetter(*names), rows), strict=True)
            return dict(zip(names, map(list, values), strict=True)), set()
        if names == [] and not any(rows):
            return {}, set()
    except (KeyError, TypeError):
        pass  # a row lacks a key of the first, or is not a mapping
    return _sparse_columns(rows)


def _sparse_columns(rows: Sequence[Mapping[Any, Any]]) -> tuple[dict[str, list[Any]], set[str]]:
    size = len(rows)
    columns: dict[str, list[Any]] = {}
    for index, row in enumerate(rows):
        for key, value in row.items():
            name = key if type(key) is str else str(key)
            column = columns.get(name)
            if column is None:
                column = columns[name] = [ABSENT] * size
            column[index] = value
    sparse = {name for name, column in columns.items() if any(v is ABSENT for v in column)}
    return columns, sparse


@dataclass(eq=False)
class EventColumns:
    """The events of one batch: one list per protocol field, all of the same length.

    ``ts_us`` is the call's start in epoch microseconds; ``inputs`` / ``outputs`` map a feature /
    output name to its values (as given, not yet wire values); ``sparse`` holds the
    ``("input" | "output", name)`` columns that contain :data:`ABSENT`.
    """

    event_id: list[str] = field(default_factory=list)
    ts_us: list[int | None] = field(default_factory=list)
    model: list[str] = field(default_factory=list)
    version: list[str] = field(default_factory=list)
    environment_id: list[str | None] = field(default_factory=list)
    latency_ms: list[float | None] = field(default_factory=list)
    status: list[str] = field(default_factory=list)
    error: list[str | None] = field(default_factory=list)
    validation: list[list[str]] = field(default_factory=list)
    trace_id: list[str | None] = field(default_factory=list)
    span_id: list[str | None] = field(default_factory=list)
    segment: list[dict[str, str]] = field(default_factory=list)
    batch_size: list[int] = field(default_factory=list)
    inputs: dict[str, list[Any]] = field(default_factory=dict)
    outputs: dict[str, list[Any]] = field(default_factory=dict)
    sparse: set[tuple[Side, str]] = field(default_factory=set)

    FIXED = (
        "event_id",
        "ts_us",
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

    def __len__(self) -> int:
        return len(self.event_id)

    def named(self, side: Side) -> dict[str, list[Any]]:
        """``inputs`` or ``outputs``."""
        return self.inputs if side == "input" else self.outputs

    def set_named(self, side: Side, columns: dict[str, list[Any]], sparse: Iterable[str]) -> None:
        """Replace the inputs or outputs (and which of them are sparse)."""
        if side == "input":
            self.inputs = columns
        else:
            self.outputs = columns
        self.sparse = {key for key in self.sparse if key[0] != side}
        self.sparse.update((side, name) for name in sparse)

    def extend(self, other: EventColumns) -> None:
        """Append the events of ``other`` (a later chunk of the same batch)."""
        before, added = len(self), len(other)
        for name in self.FIXED:
            getattr(self, name).extend(getattr(other, name))
        for side in ("input", "output"):
            mine, theirs = self.named(side), other.named(side)
            for name, values in theirs.items():
                column = mine.get(name)
                if column is None:
                    mine[name] = [ABSENT] * before + values
                    if before:
                        self.sparse.add((side, name))
                else:
                    column.extend(values)
            for name, column in mine.items():
                if name not in theirs:
                    column.extend([ABSENT] * added)
                    self.sparse.add((side, name))
        self.sparse.update(other.sparse)

    def rows(self) -> list[dict[str, Any]]:
        """The events as the protocol's JSON rows (docs/protocol.md), with wire values."""
        inputs = self._row_dicts("input")
        outputs = self._row_dicts("output")
        return [
            {
                "event_id": self.event_id[index],
                "ts": None if ts is None else iso_from_micros(ts),
                "model": self.model[index],
                "version": self.version[index],
                "environment_id": self.environment_id[index],
                "inputs": inputs[index],
                "outputs": outputs[index],
                "latency_ms": self.latency_ms[index],
                "status": self.status[index],
                "error": self.error[index],
                "validation": list(self.validation[index]),
                "trace_id": self.trace_id[index],
                "span_id": self.span_id[index],
                "segment": dict(self.segment[index]),
                "batch_size": self.batch_size[index],
            }
            for index, ts in enumerate(self.ts_us)
        ]

    def _row_dicts(self, side: Side) -> list[dict[str, Any]]:
        columns = {name: wire_column(values) for name, values in self.named(side).items()}
        if not columns:
            return [{} for _ in range(len(self))]
        names = list(columns)
        rows = [
            dict(zip(names, values, strict=True)) for values in zip(*columns.values(), strict=True)
        ]
        for name in names:
            if (side, name) in self.sparse:
                for row, value in zip(rows, columns[name], strict=True):
                    if value is ABSENT:
                        del row[name]
        return rows

    @classmethod
    def from_rows(cls, rows: Sequence[Mapping[str, Any]]) -> EventColumns:
        """Columns of events given as protocol rows (a :class:`Batch` made by hand).

        ``event_id`` is required; ``ts`` may be ISO text or epoch seconds; the rest is optional.
        """

        def column(key: str, default: Any = None) -> list[Any]:
            return [row.get(key, default) for row in rows]

        columns = cls(
            event_id=[row["event_id"] for row in rows],
            ts_us=[micros_from_wire(row.get("ts")) for row in rows],
            model=column("model"),
            version=column("version", ""),
            environment_id=column("environment_id"),
            latency_ms=column("latency_ms"),
            status=column("status", "ok"),
            error=column("error"),
            validation=[list(row.get("validation") or ()) for row in rows],
            trace_id=column("trace_id"),
            span_id=column("span_id"),
            segment=[dict(row.get("segment") or {}) for row in rows],
            batch_size=column("batch_size", 1),
        )
        inputs, sparse_inputs = columns_of([row.get("inputs") or {} for row in rows])
        columns.set_named("input", inputs, sparse_inputs)
        outputs, sparse_outputs = columns_of([row.get("outputs") or {} for row in rows])
        columns.set_named("output", outputs, sparse_outputs)
        return columns
