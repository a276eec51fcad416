"""Record types shared by every layer: events, labels, environments, references, results."""

from telltale.schema.records import (
    EVENT_SCHEMA_VERSION,
    Environment,
    Event,
    EventStatus,
    Label,
    Reference,
    environment_schema,
    event_schema,
    label_schema,
)
from telltale.schema.result import Result, jsonable

__all__ = [
    "EVENT_SCHEMA_VERSION",
    "Environment",
    "Event",
    "EventStatus",
    "Label",
    "Reference",
    "Result",
    "environment_schema",
    "event_schema",
    "jsonable",
    "label_schema",
]
