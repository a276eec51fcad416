"""A batch: what one request to the server (or one file of the directory sink) carries.

The background thread builds events as plain dicts in the protocol's JSON form
(docs/protocol.md), so a :class:`Batch` can be sent as JSON as it is, or turned into the
flattened Arrow table. ``kind`` is ``events``, ``labels`` or ``feedback``.

>>> batch = Batch("labels", [{"event_id": "0f8c6d1e-6c1f-4c3b-9a53-2d3e4f5a6b7c", "label": 1}])
>>> batch.to_json()
{'labels': [{'event_id': '0f8c6d1e-6c1f-4c3b-9a53-2d3e4f5a6b7c', 'label': 1}]}
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = ["Batch", "BatchKind"]

BatchKind = Literal["events", "labels", "feedback"]


@dataclass
class Batch:
    """Rows of one kind, plus (for events) environments, resource samples and client counters."""

    kind: BatchKind
    rows: list[dict[str, Any]]
    environments: list[dict[str, Any]] = field(default_factory=list)
    resources: list[dict[str, Any]] = field(default_factory=list)
    client: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.rows)

    def to_json(self) -> dict[str, Any]:
        """The request body of ``POST /v1/<kind>`` as a JSON-ready dict."""
        body: dict[str, Any] = {self.kind: self.rows}
        if self.kind == "events":
            body["environments"] = self.environments
            body["resources"] = self.resources
            body["client"] = self.client
        return body
