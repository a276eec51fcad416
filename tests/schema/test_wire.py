"""The wire decoder: one canonical table from JSON or Arrow, and the first bad row named."""

from __future__ import annotations

import json
import math
import uuid
from datetime import datetime, timezone
from typing import Any

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from telltale.errors import SchemaError
from telltale.schema import wire
from telltale.schema.wire import (
    MAX_TEXT,
    EventBatch,
    MalformedError,
    decode_events_arrow,
    decode_events_json,
    decode_feedback_json,
    decode_labels_json,
    event_columns,
    label_text,
)

ID = "0f8c6d1e-6c1f-4c3b-9a53-2d3e4f5a6b7c"


def event(i: int = 0, **change: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "event_id": str(uuid.UUID(int=i + 1)),
        "ts": "2026-11-22T14:02:00.123456Z",
        "model": "fraud",
        "version": "1.4.0",
        "environment_id": "5f1d9c0a2b3e4d6f",
        "inputs": {"amount": 12.5 + i, "country": "FR", "n_items": 3},
        "outputs": {"prediction": i % 2, "score": 0.93},
        "latency_ms": 1.27,
        "status": "ok",
        "trace_id": "4bf92f3577b34da6a3ce929d0e0e4736",
        "span_id": "00f067aa0ba902b7",
        "segment": {"region": "eu"},
    }
    base.update(change)
    return {k: v for k, v in base.items() if v is not _MISSING}


_MISSING = object()


def body(events: list[dict[str, Any]], **extra: Any) -> bytes:
    return json.dumps({"events": events, **extra}).encode()


def reference(payload: bytes) -> EventBatch:
    """The plain-Python decoder, which the fast path must agree with."""
    return wire._events_from_objects(json.loads(payload))


def same(a: EventBatch, b: EventBatch) -> None:
    assert a.events.schema == b.events.schema
    dump = lambda t: json.dumps(t.to_pylist(), default=str)  # noqa: E731 - NaN-safe equality
    assert dump(a.events) == dump(b.events)
    assert (a.environments, a.resources, a.client) == (b.environments, b.resources, b.client)


def arrow_bytes(table: pa.Table, metadata: dict[bytes, bytes] | None = None) -> bytes:
    if metadata:
        table = table.replace_schema_metadata(metadata)
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return bytes(sink.getvalue().to_pybytes())


# ---- the canonical table ---------------------------------------------------------------------


def test_a_json_batch_becomes_the_canonical_table() -> None:
    payload = body(
        [event(0), event(1, status=None, version=_MISSING, segment=_MISSING)],
        environments=[{"environment_id": "e1", "python": "3.11.7", "packages": {"numpy": "2"}}],
        resources=[{"ts": "2026-11-22T14:02:00Z", "instance": "h1", "cpu_percent": 41.5}],
        client={"sdk": "telltale-python/0.1.0", "instance": "h1", "dropped": 3},
    )
    batch = decode_events_json(payload)
    table = batch.events
    assert table.schema.names[: len(event_columns())] == event_columns().names
    assert table.column_names[len(event_columns()) :] == [
        "input.amount",
        "input.country",
        "input.n_items",
        "output.prediction",
        "output.score",
    ]
    assert table.column("status").to_pylist() == ["ok", "ok"]
    assert table.column("version").to_pylist() == ["1.4.0", ""]
    assert table.column("segment").to_pylist() == [[("region", "eu")], []]
    assert table.column("ts")[0].as_py() == datetime(2026, 11, 22, 14, 2, 0, 123456, timezone.utc)
    assert table.column("input.n_items").type == pa.int64()
    assert batch.environments[0]["packages"] == {"numpy": "2"}
    assert batch.resources[0]["cpu_percent"] == 41.5
    assert batch.client == {"sdk": "telltale-python/0.1.0", "instance": "h1", "dropped": 3}
    same(batch, reference(payload))


def test_ids_are_canonical_and_times_accept_every_spelling() -> None:
    hexed = uuid.UUID(ID).hex.upper()
    times = ["2026-11-22T14:02:00+02:00", "2026-11-22T12:02:00", 1795348920, 1795348920.0]
    payload = body([event(i, event_id=hexed if i == 0 else ID, ts=t) for i, t in enumerate(times)])
    table = decode_events_json(payload).events
    assert set(table.column("event_id").to_pylist()) == {ID}
    stamps = {t.isoformat() for t in table.column("ts").to_pylist()}
    assert stamps == {"2026-11-22T12:02:00+00:00"}
    same(decode_events_json(payload), reference(payload))


def test_mixed_types_in_one_feature_become_text_and_nothing_fails() -> None:
    rows = [
        event(0, inputs={"x": 1.5, "y": 1, "flag": True, "doc": {"a": [1, 2]}}),
        event(1, inputs={"x": "high", "y": 2.5, "flag": 0, "doc": None}),
        event(2, inputs={"x": float("nan"), "y": None, "flag": None, "doc": [3]}),
    ]
    batch = decode_events_json(body(rows))
    table = batch.events
    assert table.column("input.x").to_pylist() == ["1.5", "high", "NaN"]
    assert table.column("input.y").type == pa.float64()
    assert table.column("input.y").to_pylist() == [1.0, 2.5, None]
    assert table.column("input.flag").to_pylist() == ["true", "0", None]
    assert table.column("input.doc").to_pylist() == ['{"a": [1, 2]}', None, "[3]"]


def test_nan_and_infinity_are_data_in_inputs_and_outputs() -> None:
    payload = body(
        [event(0, inputs={"x": float("nan"), "y": float("inf")}, outputs={"s": -math.inf})]
    )
    table = decode_events_json(payload).events
    assert math.isnan(table.column("input.x")[0].as_py())
    assert table.column("input.y")[0].as_py() == math.inf
    assert table.column("output.s")[0].as_py() == -math.inf


def test_unicode_names_and_an_empty_batch() -> None:
    payload = body([event(0, model="modèle-信用", inputs={"montant €": 1.5, "列": None})])
    table = decode_events_json(payload).events
    assert table.column("model").to_pylist() == ["modèle-信用"]
    assert {"input.montant €", "input.列"} <= set(table.column_names)
    assert table.column("input.列").type == pa.null()
    empty = decode_events_json(b'{"events": []}')
    assert empty.events.num_rows == 0
    assert empty.events.schema == event_columns()


def test_repeated_ids_pass_through_the_decoder() -> None:
    table = decode_events_json(body([event(0), event(0)])).events
    assert table.num_rows == 2  # the store drops the repeat, and counts it


def test_a_pretty_printed_body_takes_the_fast_path() -> None:
    payload = json.dumps({"events": [event(0), event(1)]}, indent=2).encode()
    assert wire._fast_events(payload).events.num_rows == 2


# ---- bad input -------------------------------------------------------------------------------


BAD = [
    ({"latency_ms": float("nan")}, "latency_ms", "is nan"),
    ({"latency_ms": float("inf")}, "latency_ms", "finite number"),
    ({"latency_ms": -1.0}, "latency_ms", ">= 0"),
    ({"latency_ms": "fast"}, "latency_ms", "not a number"),
    ({"event_id": "not-a-uuid"}, "event_id", "not a UUID"),
    ({"event_id": _MISSING}, "event_id", "missing"),
    ({"event_id": 12}, "event_id", "not a UUID"),
    ({"model": ""}, "model", "empty"),
    ({"model": _MISSING}, "model", "missing"),
    ({"model": 12}, "model", "int"),
    ({"model": "m" * 201}, "model", "201 characters"),
    ({"ts": "yesterday"}, "ts", "ISO-8601"),
    ({"ts": float("nan")}, "ts", "ISO-8601"),
    ({"ts": _MISSING}, "ts", "ISO-8601"),
    ({"ts": "3026-01-01T00:00:00Z"}, "ts", "1970-2199"),
    ({"ts": 1.8e12}, "ts", "milliseconds"),
    ({"ts": -5}, "ts", "1970-2199"),
    ({"ts": 1.797693134862316e302}, "ts", "1970-2199"),  # overflows once made microseconds
    ({"status": "fine"}, "status", "one of ok"),
    ({"inputs": [1, 2]}, "inputs", "not an object"),
    ({"inputs": {"": 1}}, "inputs", "name"),
    ({"inputs": {"x": "a" * (MAX_TEXT + 1)}}, "inputs.x", "65,536"),
    ({"error": "e" * (MAX_TEXT + 1)}, "error", "65,537 characters"),
    ({"segment": {"region": 5}}, "segment", "string values"),
    ({"segment": "eu"}, "segment", "not an object"),
    ({"trace_id": "xyz"}, "trace_id", "32 hex"),
    ({"span_id": "00f067aa0ba902b7ff"}, "span_id", "16 hex"),
    ({"batch_size": 0}, "batch_size", "whole number"),
    ({"batch_size": 2.5}, "batch_size", "whole number"),
    ({"validation": "bad"}, "validation", "list of strings"),
]


@pytest.mark.parametrize(("change", "field", "words"), BAD)
def test_the_first_bad_row_is_named_with_its_field_and_a_fix(
    change: dict[str, Any], field: str, words: str
) -> None:
    rows = [event(i) for i in range(6)]
    rows[3] = event(3, **change)
    rows[5] = event(5, latency_ms=-7.0)  # a later bad row must not be the one named
    with pytest.raises(SchemaError) as caught:
        decode_events_json(body(rows))
    assert caught.value.details == {"row": 3, "field": field}
    message = str(caught.value)
    assert message.startswith(f"events[3].{field}")
    assert words in message
    assert ";" in message  # the fix follows


def test_the_message_of_the_protocol_example() -> None:
    rows = [event(i) for i in range(4)]
    rows[3]["latency_ms"] = float("nan")
    with pytest.raises(
        SchemaError, match=r"^events\[3\]\.latency_ms is nan; send a finite number of milliseconds"
    ):
        decode_events_json(body(rows))


@pytest.mark.parametrize(
    ("payload", "error"),
    [
        (b"{not json", MalformedError),
        (b"\xff\xfe\x00garbage", MalformedError),
        (b"[1, 2, 3]", SchemaError),
        (b'{"events": 5}', SchemaError),
        (b'{"nothing": []}', SchemaError),
        (b'{"events": [5]}', SchemaError),
        (b'{"events": [null]}', SchemaError),
        (b'{"events": [], "environments": 5}', SchemaError),
        (b'{"events": [], "client": {"dropped": -1}}', SchemaError),
    ],
)
def test_malformed_bodies(payload: bytes, error: type[Exception]) -> None:
    with pytest.raises(error):
        decode_events_json(payload)


def test_too_many_features_in_one_batch() -> None:
    rows = [event(i, inputs={f"f{i}_{j}": 1.0 for j in range(300)}) for i in range(4)]
    with pytest.raises(SchemaError, match="at most 1,000") as caught:
        decode_events_json(body(rows))
    assert caught.value.details == {"row": 3, "field": "inputs"}


# ---- Arrow -----------------------------------------------------------------------------------


def test_the_arrow_stream_decodes_to_the_same_table_without_copying_columns() -> None:
    payload = body([event(i) for i in range(50)])
    batch = decode_events_json(payload)
    meta = {b"telltale.client": b'{"instance": "h1", "dropped": 2}'}
    data = arrow_bytes(batch.events, meta)
    again = decode_events_arrow(data)
    assert again.events.equals(batch.events)
    assert again.client == {"instance": "h1", "dropped": 2}


def test_arrow_columns_of_other_widths_are_cast() -> None:
    table = pa.table(
        {
            "event_id": pa.array([uuid.UUID(int=1).hex, str(uuid.UUID(int=2))]).cast(
                pa.large_string()
            ),
            "ts": pa.array([0, 1_000_000_000], pa.timestamp("s")),
            "model": pa.array(["m", "m"]).dictionary_encode(),
            "latency_ms": pa.array([1, 2], pa.int32()),
            "input.x": pa.array([1.5, 2.5], pa.float32()),
            "input.n": pa.array([1, 2], pa.uint8()),
            "input.tags": pa.array([["a"], ["b", "c"]]),
        }
    )
    out = decode_events_arrow(arrow_bytes(table)).events
    assert out.column("event_id").to_pylist() == [str(uuid.UUID(int=1)), str(uuid.UUID(int=2))]
    assert out.column("ts")[1].as_py() == datetime(2001, 9, 9, 1, 46, 40, tzinfo=timezone.utc)
    assert out.column("input.x").type == pa.float64()
    assert out.column("input.n").type == pa.int64()
    assert out.column("input.tags").to_pylist() == ['["a"]', '["b", "c"]']
    assert out.column("status").to_pylist() == ["ok", "ok"]


def test_arrow_bad_rows_are_named() -> None:
    batch = decode_events_json(body([event(i) for i in range(6)])).events
    latency = batch.column("latency_ms").to_pylist()
    latency[4], latency[2] = float("nan"), -1.0
    bad = batch.set_column(
        batch.schema.get_field_index("latency_ms"), "latency_ms", pa.array(latency)
    )
    with pytest.raises(SchemaError) as caught:
        decode_events_arrow(arrow_bytes(bad))
    assert caught.value.details == {"row": 2, "field": "latency_ms"}
    ids = batch.column("event_id").to_pylist()
    ids[1] = "nope"
    bad = batch.set_column(0, "event_id", pa.array(ids))
    with pytest.raises(SchemaError, match=r"events\[1\]\.event_id 'nope' is not a UUID"):
        decode_events_arrow(arrow_bytes(bad))
    with pytest.raises(SchemaError, match="no 'model' column"):
        decode_events_arrow(arrow_bytes(batch.drop_columns(["model"])))
    with pytest.raises(MalformedError):
        decode_events_arrow(b"not arrow at all")


# ---- labels and feedback ---------------------------------------------------------------------


def test_labels_keep_the_last_per_event_and_their_text() -> None:
    table = decode_labels_json(
        {
            "labels": [
                {"event_id": ID, "label": 1},
                {"event_id": str(uuid.UUID(int=5)), "label": "cat", "ts": "2026-11-23T09:00:00Z"},
                {"event_id": ID.upper(), "label": 0.0},
            ]
        }
    )
    assert table.column("event_id").to_pylist() == [str(uuid.UUID(int=5)), ID]
    assert table.column("label").to_pylist() == ["cat", "0"]
    assert table.column("label_number").to_pylist() == [None, 0.0]
    assert table.column("ts").to_pylist()[1] is None


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"labels": [{"label": 1}]}, "event_id"),
        ({"labels": [{"event_id": ID}]}, "label"),
        ({"labels": [{"event_id": ID, "label": float("nan")}]}, "label"),
        ({"labels": [{"event_id": ID, "label": [1]}]}, "label"),
        ({"labels": [{"event_id": ID, "label": 1, "ts": "soon"}]}, "ts"),
    ],
)
def test_bad_labels(payload: dict[str, Any], field: str) -> None:
    with pytest.raises(SchemaError) as caught:
        decode_labels_json(json.dumps(payload).encode())
    assert caught.value.details["field"] == field
    assert caught.value.details["section"] == "labels"


def test_feedback() -> None:
    table = decode_feedback_json(b'{"feedback": [{"event_id": "%s", "score": 1}]}' % ID.encode())
    assert table.column("score").to_pylist() == [1.0]
    with pytest.raises(SchemaError, match="score is nan"):
        decode_feedback_json({"feedback": [{"event_id": ID, "score": float("nan")}]})
    with pytest.raises(SchemaError, match="feedback"):
        decode_feedback_json({"labels": []})


def test_label_text() -> None:
    assert [label_text(v) for v in (1, 1.0, True, "1", 2.5, -0.0)] == [
        "1",
        "1",
        "true",
        "1",
        "2.5",
        "0",
    ]


# ---- properties ------------------------------------------------------------------------------

names = st.text(min_size=1, max_size=8)
values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**62), 2**62),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.lists(st.integers(0, 3), max_size=2),
)
times = st.one_of(
    st.datetimes(
        min_value=datetime(1971, 1, 1),
        max_value=datetime(2190, 1, 1),
        timezones=st.just(timezone.utc),
    ).map(lambda d: d.isoformat()),
    st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2190, 1, 1)).map(
        lambda d: d.isoformat()
    ),
    st.integers(0, 7_000_000_000),
)
events = st.fixed_dictionaries(
    {
        "event_id": st.uuids().map(str),
        "ts": times,
        "model": st.sampled_from(["a", "b", "modèle"]),
    },
    optional={
        "version": st.text(max_size=5),
        "inputs": st.dictionaries(names, values, max_size=4),
        "outputs": st.dictionaries(names, values, max_size=2),
        "latency_ms": st.floats(0, 1e6),
        "status": st.sampled_from(wire.STATUSES),
        "segment": st.dictionaries(names, st.text(max_size=5), max_size=2),
        "validation": st.lists(st.text(max_size=5), max_size=2),
        "batch_size": st.integers(1, 100),
    },
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(events, max_size=6))
def test_the_fast_path_agrees_with_the_reference_decoder(rows: list[dict[str, Any]]) -> None:
    payload = body(rows)
    try:
        expected = reference(payload)
    except SchemaError as error:
        with pytest.raises(SchemaError) as caught:
            decode_events_json(payload)
        assert caught.value.details == error.details
        return
    decoded = decode_events_json(payload)
    same(decoded, expected)
    if rows:  # and the Arrow stream of the table decodes to the same table
        assert decode_events_arrow(arrow_bytes(decoded.events)).events.equals(decoded.events) or (
            json.dumps(
                decode_events_arrow(arrow_bytes(decoded.events)).events.to_pylist(), default=str
            )
            == json.dumps(decoded.events.to_pylist(), default=str)
        )


json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=5)),
    lambda children: st.one_of(
        st.lists(children, max_size=3), st.dictionaries(st.text(max_size=5), children, max_size=3)
    ),
    max_leaves=12,
)


@settings(max_examples=200, deadline=None)
@given(
    st.one_of(
        json_values,
        st.fixed_dictionaries(
            {
                "events": st.lists(
                    st.dictionaries(
                        st.sampled_from(
                            ["event_id", "ts", "model", "inputs", "latency_ms", "segment", "status"]
                        ),
                        json_values,
                    ),
                    max_size=3,
                )
            }
        ),
    )
)
def test_any_json_either_decodes_or_raises_a_schema_error(payload: Any) -> None:
    try:
        batch = decode_events_json(json.dumps(payload).encode())
    except SchemaError as error:
        assert error.details.get("field"), error  # names what was wrong
        return
    assert batch.events.schema.names[: len(event_columns())] == event_columns().names
    assert batch.events.num_rows == len(payload["events"])


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=64))
def test_any_bytes_either_decode_or_raise_a_telltale_error(data: bytes) -> None:
    for decode in (decode_events_json, decode_events_arrow):
        try:
            batch = decode(data)
        except (SchemaError, MalformedError) as error:
            assert "; " in str(error) or "send" in str(error), error  # a message with a fix
            continue
        assert batch.events.schema.names[: len(event_columns())] == event_columns().names


def test_environment_labels_are_read_and_checked() -> None:
    from telltale.sdk import monitor

    assert wire.MAX_ENVIRONMENT_LABELS == monitor.MAX_ENVIRONMENT_LABELS  # the SDK's own check
    named = {"environment_id": "e1", "labels": {"name": "gpu-b ☃", "region": "eu"}}
    batch = decode_events_json(body([event(0)], environments=[named]))
    assert batch.environments[0]["labels"] == {"name": "gpu-b ☃", "region": "eu"}
    plain = decode_events_json(body([event(0)], environments=[{"environment_id": "e2"}]))
    assert "labels" not in plain.environments[0]
    bad = [
        ({"name": 3}, r"environments\[0\]\.labels\.name is a int \(3\); send a string"),
        ("gpu-b", r"environments\[0\]\.labels is 'gpu-b'; send at most 20 labels"),
        ({f"k{i}": "v" for i in range(21)}, r"environments\[0\]\.labels is .*at most 20"),
        ({"name": "x" * 1_001}, r"labels\.name has 1,001 characters"),
        ({"": "x"}, r"environments\[0\]\.labels \(a name\) is empty"),
    ]
    for labels, message in bad:
        payload = body([event(0)], environments=[{"environment_id": "e1", "labels": labels}])
        with pytest.raises(SchemaError, match=message):
            decode_events_json(payload)
