"""Ingest over real HTTP: committed before acknowledged, idempotent, and bad input changes nothing."""

from __future__ import annotations

import gzip
import json
import uuid
from typing import Any

import httpx
import pytest
from _collector import Running
from _server_events import arrow_body, gzip_body, json_body, make_events

JSON = {"Content-Type": "application/json"}
ARROW = {"Content-Type": "application/vnd.apache.arrow.stream"}


def stored(running: Running, project: str = "fraud") -> int:
    with running.client(f"{project}:read") as client:
        response = client.get("/v1/models")
    assert response.status_code == 200, response.text
    return sum(model["events"] for model in response.json()["models"])


def assert_error(response: httpx.Response, status: int, code: str, *words: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["code"] == code
    for word in words:
        assert word in body["error"]["message"], body["error"]["message"]
    return body["error"]  # type: ignore[no-any-return]


def test_json_batch_is_stored_and_a_resend_stores_nothing_twice(collector: Running) -> None:
    events = make_events(500)
    with collector.client("fraud:ingest") as client:
        first = client.post("/v1/events", content=json_body(events), headers=JSON)
        again = client.post("/v1/events", content=json_body(events), headers=JSON)
        half = client.post(
            "/v1/events", content=json_body(events[:250] + make_events(10, seed=9)), headers=JSON
        )
    assert first.json() == {"accepted": 500, "duplicates": 0}
    assert again.json() == {"accepted": 0, "duplicates": 500}
    assert half.json() == {"accepted": 10, "duplicates": 250}
    assert stored(collector) == 510


def test_repeated_ids_inside_one_batch_are_stored_once(collector: Running) -> None:
    events = make_events(20)
    with collector.client("fraud:ingest") as client:
        response = client.post("/v1/events", content=json_body(events + events[:5]), headers=JSON)
    assert response.json() == {"accepted": 20, "duplicates": 5}
    assert stored(collector) == 20


def test_arrow_and_gzip_bodies_store_the_same_rows(collector: Running) -> None:
    with collector.client("fraud:ingest") as client:
        arrow = client.post(
            "/v1/events", content=arrow_body(make_events(300, seed=1)), headers=ARROW
        )
        gz = client.post(
            "/v1/events",
            content=gzip_body(make_events(200, seed=2)),
            headers={**JSON, "Content-Encoding": "gzip"},
        )
    assert arrow.json() == {"accepted": 300, "duplicates": 0}
    assert gz.json() == {"accepted": 200, "duplicates": 0}
    assert stored(collector) == 500


def test_unicode_feature_and_model_names_are_kept(collector: Running) -> None:
    events = make_events(3, model="modèle-信用")
    for event in events:
        event["inputs"] = {"montant €": 1.5, "città": "Zürich", "列": None}
    with collector.client("fraud:ingest") as client:
        response = client.post("/v1/events", content=json_body(events), headers=JSON)
    assert response.json() == {"accepted": 3, "duplicates": 0}
    with collector.client("fraud:read") as client:
        models = client.get("/v1/models").json()["models"]
    assert [m["model"] for m in models] == ["modèle-信用"]
    assert set(models[0]["features"]) >= {"montant €", "città", "列"}


# ---- authentication and projects -------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "status", "code"),
    [
        ({}, 401, "unauthenticated"),
        ({"Authorization": "Bearer tt_000000000000_" + "A" * 43}, 401, "unauthenticated"),
        ({"Authorization": "Basic dXNlcjpwYXNz"}, 401, "unauthenticated"),
        ({"Authorization": "Bearer " + "x" * 10_000}, 401, "unauthenticated"),
    ],
)
def test_missing_or_bad_keys_get_401(
    collector: Running, headers: dict[str, str], status: int, code: str
) -> None:
    response = httpx.post(
        collector.url + "/v1/events", content=json_body(make_events(2)), headers={**JSON, **headers}
    )
    assert_error(response, status, code)
    assert response.headers["www-authenticate"] == "Bearer"
    assert stored(collector) == 0


def test_a_key_without_the_scope_gets_403(collector: Running) -> None:
    with collector.client("fraud:read") as client:
        response = client.post("/v1/events", content=json_body(make_events(2)), headers=JSON)
    assert_error(response, 403, "forbidden", "scope 'read'")
    with collector.client("fraud:ingest") as client:
        assert_error(client.get("/metrics"), 403, "forbidden")
        assert_error(client.get("/v1/models"), 403, "forbidden")
        assert_error(client.get("/v1/keys"), 403, "forbidden")


def test_a_key_never_sees_another_projects_data(collector: Running) -> None:
    with collector.client("fraud:ingest") as client:
        client.post("/v1/events", content=json_body(make_events(40)), headers=JSON)
    assert stored(collector, "fraud") == 40
    assert stored(collector, "other") == 0
    with collector.client("other:read") as client:
        text = client.get("/metrics").text
        assert 'model="fraud"' not in text
        assert client.get("/v1/models/fraud/windows").status_code == 404


def test_healthz_needs_no_key(collector: Running) -> None:
    assert httpx.get(collector.url + "/healthz").json()["status"] == "ok"


# ---- bad input -------------------------------------------------------------------------------


def _bad(events: list[dict[str, Any]], index: int, **change: Any) -> bytes:
    events = [dict(e) for e in events]
    events[index].update(change)
    for name, value in change.items():
        if value is _MISSING:
            del events[index][name]
    return json_body(events)


_MISSING = object()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (lambda e: _bad(e, 3, latency_ms=float("nan")), "latency_ms"),
        (lambda e: _bad(e, 3, latency_ms=float("inf")), "latency_ms"),
        (lambda e: _bad(e, 3, latency_ms=-1.0), "latency_ms"),
        (lambda e: _bad(e, 3, latency_ms="fast"), "latency_ms"),
        (lambda e: _bad(e, 3, event_id="not-a-uuid"), "event_id"),
        (lambda e: _bad(e, 3, event_id=_MISSING), "event_id"),
        (lambda e: _bad(e, 3, model=""), "model"),
        (lambda e: _bad(e, 3, model=_MISSING), "model"),
        (lambda e: _bad(e, 3, model=12), "model"),
        (lambda e: _bad(e, 3, ts="yesterday"), "ts"),
        (lambda e: _bad(e, 3, ts=float("nan")), "ts"),
        (lambda e: _bad(e, 3, status="fine"), "status"),
        (lambda e: _bad(e, 3, inputs=[1, 2]), "inputs"),
        (lambda e: _bad(e, 3, segment={"region": 5}), "segment"),
        (lambda e: _bad(e, 3, trace_id="xyz"), "trace_id"),
        (lambda e: _bad(e, 3, model="m" * 10_000), "model"),
    ],
)
def test_a_bad_field_gets_422_naming_row_and_field_and_nothing_is_stored(
    collector: Running, body: Any, field: str
) -> None:
    with collector.client("fraud:ingest") as client:
        response = client.post("/v1/events", content=body(make_events(6)), headers=JSON)
    error = assert_error(response, 422, "invalid_field", field)
    assert error["details"]["row"] == 3
    assert error["details"]["field"] == field
    assert stored(collector) == 0


@pytest.mark.parametrize(
    ("content", "headers", "status", "code"),
    [
        (b"{not json", JSON, 400, "malformed"),
        (b"\xff\xfe\x00garbage", JSON, 400, "malformed"),
        (b"[1, 2, 3]", JSON, 422, "invalid_field"),
        (b'{"events": 5}', JSON, 422, "invalid_field"),
        (b'{"nothing": []}', JSON, 422, "invalid_field"),
        (b"not arrow at all", ARROW, 400, "malformed"),
        (
            b"a=1",
            {"Content-Type": "application/x-www-form-urlencoded"},
            415,
            "unsupported_media_type",
        ),
        (b"{}", {}, 415, "unsupported_media_type"),
        (b"not gzip", {**JSON, "Content-Encoding": "gzip"}, 400, "malformed"),
        (b"{}", {**JSON, "Content-Encoding": "br"}, 415, "unsupported_media_type"),
    ],
)
def test_malformed_bodies_get_one_error_shape(
    collector: Running, content: bytes, headers: dict[str, str], status: int, code: str
) -> None:
    with collector.client("fraud:ingest") as client:
        response = client.post("/v1/events", content=content, headers=headers)
    assert_error(response, status, code)
    assert stored(collector) == 0


def test_a_50_mb_body_gets_413_and_the_server_keeps_serving(collector: Running) -> None:
    big = b'{"events": [' + b" " * (50 * 1024 * 1024) + b"]}"
    with collector.client("fraud:ingest") as client:
        response = client.post("/v1/events", content=big, headers=JSON)
        assert_error(response, 413, "too_large", "32 MiB")
        ok = client.post("/v1/events", content=json_body(make_events(5)), headers=JSON)
    assert ok.json() == {"accepted": 5, "duplicates": 0}


def test_a_gzip_bomb_gets_413(collector: Running) -> None:
    bomb = gzip.compress(b'{"events": [' + b" " * (40 * 1024 * 1024) + b"]}")
    assert len(bomb) < 100_000
    with collector.client("fraud:ingest") as client:
        response = client.post(
            "/v1/events", content=bomb, headers={**JSON, "Content-Encoding": "gzip"}
        )
    assert_error(response, 413, "too_large")


def test_nan_and_infinity_are_data_in_inputs(collector: Running) -> None:
    events = make_events(2)
    body = json_body(events).replace(b'"x0": ', b'"x0": NaN, "y": Infinity, "x0_": ', 1)
    with collector.client("fraud:ingest") as client:
        response = client.post("/v1/events", content=body, headers=JSON)
    assert response.json() == {"accepted": 2, "duplicates": 0}


def test_labels_and_feedback_are_accepted_and_validated(collector: Running) -> None:
    events = make_events(10)
    with collector.client("fraud:ingest") as client:
        client.post("/v1/events", content=json_body(events), headers=JSON)
        labels = [{"event_id": e["event_id"], "label": i % 2} for i, e in enumerate(events)]
        response = client.post("/v1/labels", content=json.dumps({"labels": labels}), headers=JSON)
        assert response.json() == {"accepted": 10}
        feedback = [{"event_id": events[0]["event_id"], "score": 1.0}]
        response = client.post(
            "/v1/feedback", content=json.dumps({"feedback": feedback}), headers=JSON
        )
        assert response.json() == {"accepted": 1}
        bad = [{"event_id": str(uuid.uuid4()), "score": float("nan")}]
        assert_error(
            client.post("/v1/feedback", content=json.dumps({"feedback": bad}), headers=JSON),
            422,
            "invalid_field",
            "score",
        )
        assert_error(
            client.post("/v1/labels", content=b'{"labels": [{"label": 1}]}', headers=JSON),
            422,
            "invalid_field",
            "event_id",
        )


def test_unknown_paths_and_methods_answer_in_the_error_shape(collector: Running) -> None:
    with collector.client("fraud:admin") as client:
        assert_error(client.get("/v1/nothing"), 404, "not_found", "/docs")
        assert_error(client.delete("/v1/events"), 405, "method_not_allowed")
