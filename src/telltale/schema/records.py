"""The records every layer shares: events, labels, environments, references — and their Arrow
schemas, versioned.

The dataclasses import nothing heavy, so the SDK can build records on the hot path; the Arrow
schemas import pyarrow only when asked for.

An event's ``inputs`` and ``outputs`` are stored columnar: one column per feature
(``input.<name>``) and per output (``output.<name>``), so an analysis is a column scan.

>>> event = Event(model="fraud", version="1.4.0", inputs={"amount": 12.5}, outputs={"proba": 0.1})
>>> event.status
'ok'
>>> Event.from_dict(event.to_dict()) == event
True
"""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import Any, Literal

from telltale.errors import SchemaError

__all__ = [
    "EVENT_SCHEMA_VERSION",
    "Environment",
    "Event",
    "EventStatus",
    "Label",
    "Reference",
    "environment_schema",
    "event_schema",
    "label_schema",
]

EVENT_SCHEMA_VERSION = 1
EventStatus = Literal["ok", "error", "invalid", "timeout", "fallback"]
_STATUSES = ("ok", "error", "invalid", "timeout", "fallback")


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _parse_ts(value: Any, field_name: str) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise SchemaError(
                f"{field_name} {value!r} is not an ISO-8601 time; write e.g. 2026-11-22T14:02:00Z"
            ) from None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return datetime.fromtimestamp(float(value), tz=timezone.utc)
    raise SchemaError(
        f"{field_name} must be an ISO-8601 string or epoch seconds, got {type(value).__name__}"
    )


@dataclass
class Event:
    """One call of a model: what went in, what came out, how long it took, whether it was sane."""

    model: str
    version: str = ""
    inputs: dict[str, Any] = field(default_factory=dict)
    outputs: dict[str, Any] = field(default_factory=dict)
    event_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    ts: datetime = field(default_factory=_now)
    environment_id: str | None = None
    latency_ms: float | None = None
    status: EventStatus = "ok"
    error: str | None = None
    validation: list[str] = field(default_factory=list)
    trace_id: str | None = None
    span_id: str | None = None
    segment: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.model, str) or not self.model:
            raise SchemaError("event.model must be a non-empty string naming the model")
        if self.status not in _STATUSES:
            raise SchemaError(f"event.status {self.status!r} is not one of {', '.join(_STATUSES)}")

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["ts"] = self.ts.isoformat()
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Event:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        if "ts" in known:
            known["ts"] = _parse_ts(known["ts"], "event.ts")
        return cls(**known)


@dataclass
class Label:
    """Ground truth (and optional user feedback) arriving after the event, joined by event id."""

    event_id: str
    label: Any = None
    feedback: float | None = None
    ts: datetime = field(default_factory=_now)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["ts"] = self.ts.isoformat()
        return out


@dataclass
class Environment:
    """A hashed fingerprint of where a model ran: Python, OS, CPU/GPU, library versions."""

    environment_id: str
    python: str
    platform: str
    cpu: str = ""
    gpu: str = ""
    packages: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Reference:
    """A named reference (a training set or a healthy period) kept as a saved profile."""

    name: str
    model: str
    profile_path: str
    created: datetime = field(default_factory=_now)
    description: str = ""

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["created"] = self.created.isoformat()
        return out


def event_schema() -> Any:
    """The fixed columns of the events table (features and outputs are added per model)."""
    import pyarrow as pa

    return pa.schema(
        [
            pa.field("event_id", pa.string(), nullable=False),
            pa.field("ts", pa.timestamp("us", tz="UTC"), nullable=False),
            pa.field("model", pa.string(), nullable=False),
            pa.field("version", pa.string()),
            pa.field("environment_id", pa.string()),
            pa.field("latency_ms", pa.float64()),
            pa.field("status", pa.string(), nullable=False),
            pa.field("error", pa.string()),
            pa.field("validation", pa.list_(pa.string())),
            pa.field("trace_id", pa.string()),
            pa.field("span_id", pa.string()),
            pa.field("segment", pa.map_(pa.string(), pa.string())),
        ],
        metadata={"telltale.schema": "event", "telltale.version": str(EVENT_SCHEMA_VERSION)},
    )


def label_schema() -> Any:
    import pyarrow as pa

    return pa.schema(
        [
            pa.field("event_id", pa.string(), nullable=False),
            pa.field("ts", pa.timestamp("us", tz="UTC"), nullable=False),
            pa.field("label", pa.string()),
            pa.field("feedback", pa.float64()),
        ],
        metadata={"telltale.schema": "label", "telltale.version": str(EVENT_SCHEMA_VERSION)},
    )


def environment_schema() -> Any:
    import pyarrow as pa

    return pa.schema(
        [
            pa.field("environment_id", pa.string(), nullable=False),
            pa.field("python", pa.string()),
            pa.field("platform", pa.string()),
            pa.field("cpu", pa.string()),
            pa.field("gpu", pa.string()),
            pa.field("packages", pa.map_(pa.string(), pa.string())),
        ],
        metadata={"telltale.schema": "environment", "telltale.version": str(EVENT_SCHEMA_VERSION)},
    )
