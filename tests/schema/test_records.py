"""Records: construction checks, dict round trips, Arrow schemas."""

from __future__ import annotations

import math
from datetime import datetime, timezone

import numpy as np
import pyarrow as pa
import pytest

from telltale.errors import SchemaError
from telltale.schema import (
    Event,
    Label,
    Reference,
    Result,
    environment_schema,
    event_schema,
    jsonable,
    label_schema,
)


def test_event_round_trip_and_defaults() -> None:
    event = Event(
        model="fraud", version="1.4.0", inputs={"amount": 3.5, "país": "ü"}, outputs={"p": 0.2}
    )
    assert len(event.event_id) == 32 and event.status == "ok"
    again = Event.from_dict(event.to_dict())
    assert again == event
    assert Event.from_dict({**event.to_dict(), "ts": "2026-11-22T14:02:00Z"}).ts == datetime(
        2026, 11, 22, 14, 2, tzinfo=timezone.utc
    )
    assert Event.from_dict({"model": "m", "ts": 0}).ts == datetime(1970, 1, 1, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"model": ""}, "non-empty string"),
        ({"model": "m", "status": "broken"}, "not one of ok, error, invalid, timeout"),
        ({"model": "m", "ts": "yesterday"}, "not an ISO-8601 time"),
        ({"model": "m", "ts": [1]}, "ISO-8601 string or epoch seconds"),
    ],
)
def test_event_bad_input(data, message) -> None:
    with pytest.raises(SchemaError, match=message):
        Event.from_dict(data)


def test_other_records_serialise() -> None:
    assert Label("e1", label=1, feedback=0.5).to_dict()["event_id"] == "e1"
    reference = Reference("train", "fraud", "train.ttp")
    assert reference.to_dict()["created"].endswith("+00:00")


def test_arrow_schemas_are_versioned() -> None:
    for schema, kind in (
        (event_schema(), "event"),
        (label_schema(), "label"),
        (environment_schema(), "environment"),
    ):
        assert isinstance(schema, pa.Schema)
        assert schema.metadata[b"telltale.schema"] == kind.encode()
        assert schema.metadata[b"telltale.version"] == b"1"
    assert event_schema().field("ts").type == pa.timestamp("us", tz="UTC")


def test_jsonable_makes_strict_json() -> None:
    assert jsonable(
        {"a": np.float64(math.nan), "b": np.int64(3), "c": np.array([1.0, np.inf]), 4: (True,)}
    ) == {
        "a": None,
        "b": 3,
        "c": [1.0, None],
        "4": [True],
    }

    class Empty(Result):
        pass

    assert Empty().to_dict() == {}
