"""A batch: what one request to the server (or one file of the directory sink) carries.

``kind`` is ``events``, ``labels`` or ``feedback``. A batch holds rows in the protocol's JSON form
(docs/protocol.md) — or, for the events the monitor builds, columns
(:class:`~telltale.sdk.event_columns.EventColumns`), which is what the Arrow encoding wants; the
rows are then made from the columns the first time :attr:`Batch.rows` is read (by the JSON
encoding, :class:`~telltale.sdk.MemorySink`, or a sink of your own), and the columns from rows the
first time :attr:`Batch.columns` is read. Either way a sink sees the same events.

>>> batch = Batch("labels", [{"event_id": "0f8c6d1e-6c1f-4c3b-9a53-2d3e4f5a6b7c", "label": 1}])
>>> batch.to_json()
{'labels': [{'event_id': '0f8c6d1e-6c1f-4c3b-9a53-2d3e4f5a6b7c', 'label': 1}]}
"""

from __future__ import annotations

from typing import Any, Literal

from telltale.sdk.event_columns import EventColumns

__all__ = ["Batch", "BatchKind"]

BatchKind = Literal["events", "labels", "feedback"]


class Batch:
    """Rows of one kind, plus (for events) environments, resource samples and client counters."""

    def __init__(
        self,
        kind: BatchKind,
        rows: list[dict[str, Any]] | None = None,
        environments: list[dict[str, Any]] | None = None,
        resources: list[dict[str, Any]] | None = None,
        client: dict[str, Any] | None = None,
        *,
        columns: EventColumns | None = None,
    ) -> None:
        if columns is not None and kind != "events":
            raise ValueError(f"columns= holds events; a {kind} batch takes rows")
        self.kind = kind
        self._rows = rows if rows is not None or columns is not None else []
        self._columns = columns
        self.environments = environments if environments is not None else []
        self.resources = resources if resources is not None else []
        self.client = client if client is not None else {}

    @property
    def rows(self) -> list[dict[str, Any]]:
        """The rows in the protocol's JSON form (made from the columns once, when first read)."""
        if self._rows is None:
            assert self._columns is not None
            self._rows = self._columns.rows()
        return self._rows

    @property
    def columns(self) -> EventColumns:
        """The events column by column (made from the rows once, when first read)."""
        if self._columns is None:
            if self.kind != "events":
                raise ValueError(f"a {self.kind} batch has rows, not event columns")
            self._columns = EventColumns.from_rows(self.rows)
        return self._columns

    def __len__(self) -> int:
        if self._rows is not None:
            return len(self._rows)
        assert self._columns is not None
        return len(self._columns)

    def __repr__(self) -> str:
        return f"Batch({self.kind!r}, {len(self)} rows)"

    def to_json(self) -> dict[str, Any]:
        """The request body of ``POST /v1/<kind>`` as a JSON-ready dict."""
        body: dict[str, Any] = {self.kind: self.rows}
        if self.kind == "events":
            body["environments"] = self.environments
            body["resources"] = self.resources
            body["client"] = self.client
        return body
