"""Query API over real HTTP, checked against numpy on the events the test sent."""

from __future__ import annotations

import io
import json
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from _collector import Running
from _server_events import START, json_body, make_events
from prometheus_client.parser import text_string_to_metric_families
from test_ingest import assert_error

from telltale.analysis.profile import TableProfile
from telltale.analysis.profiling import profile_table
from telltale.server.monitoring import run_round
from telltale.store.engine import connect
from telltale.store.files import open_table

JSON = {"Content-Type": "application/json"}
SPAN = {"start": START.isoformat(), "end": (START + timedelta(hours=6)).isoformat()}


def ingest(running: Running, events: list[dict[str, Any]]) -> None:
    with running.client("fraud:ingest") as client:
        for i in range(0, len(events), 1000):
            response = client.post(
                "/v1/events", content=json_body(events[i : i + 1000]), headers=JSON
            )
            assert response.status_code == 200, response.text


@pytest.fixture
def loaded(collector: Running) -> tuple[Running, list[dict[str, Any]]]:
    events = make_events(3000, seed=3) + make_events(500, version="2.0.0", seed=4)
    ingest(collector, events)
    return collector, events


def _hour(event: dict[str, Any]) -> str:
    ts = datetime.fromisoformat(event["ts"])
    return ts.replace(minute=0, second=0, microsecond=0).isoformat()


def test_hourly_windows_match_numpy(loaded: tuple[Running, list[dict[str, Any]]]) -> None:
    running, events = loaded
    with running.client("fraud:read") as client:
        response = client.get("/v1/models/fraud/windows", params={**SPAN, "version": "1.4.0"})
    assert response.status_code == 200, response.text
    windows = response.json()["windows"]
    mine = [e for e in events if e["version"] == "1.4.0"]
    hours = sorted({_hour(e) for e in mine})
    assert [w["start"] for w in windows if w["events"]] == hours
    for window in windows:
        rows = [e for e in mine if _hour(e) == window["start"]]
        if not rows:
            continue
        latency = np.array([e["latency_ms"] for e in rows])
        statuses = [e["status"] for e in rows]
        assert window["events"] == len(rows)
        assert window["error_rate"] == pytest.approx(statuses.count("error") / len(rows), abs=1e-12)
        assert window["invalid_rate"] == pytest.approx(
            statuses.count("invalid") / len(rows), abs=1e-12
        )
        for q in (50, 95, 99):
            exact = np.percentile(latency, q, method="lower")
            # rollup histograms have 1% relative error (DDSketch-style log buckets)
            assert window[f"latency_p{q}_ms"] == pytest.approx(exact, rel=0.0101)
        assert window["throughput_per_s"] == pytest.approx(len(rows) / 3600, rel=1e-9)


def test_segment_filter_and_version_comparison(
    loaded: tuple[Running, list[dict[str, Any]]],
) -> None:
    running, events = loaded
    with running.client("fraud:read") as client:
        eu = client.get(
            "/v1/models/fraud/windows", params={**SPAN, "segment": "region:eu", "interval": "day"}
        ).json()
        compared = client.get(
            "/v1/models/fraud/compare", params={**SPAN, "a": "1.4.0", "b": "2.0.0"}
        )
    assert sum(w["events"] for w in eu["windows"]) == sum(
        e["segment"]["region"] == "eu" for e in events
    )
    body = compared.json()
    assert body["serving_a"]["events"] == 3000
    assert body["serving_b"]["events"] == 500


def test_labels_give_accuracy_per_window(loaded: tuple[Running, list[dict[str, Any]]]) -> None:
    running, events = loaded
    rng = np.random.default_rng(5)
    labelled = [e for e in events if e["version"] == "1.4.0"][:2000]
    truth = [int(rng.integers(0, 2)) for _ in labelled]
    with running.client("fraud:ingest") as client:
        labels = [
            {"event_id": e["event_id"], "label": t} for e, t in zip(labelled, truth, strict=True)
        ]
        assert client.post(
            "/v1/labels", content=json.dumps({"labels": labels}), headers=JSON
        ).json() == {"accepted": 2000}
    with running.client("fraud:read") as client:
        body = client.get(
            "/v1/models/fraud/performance", params={**SPAN, "interval": "day", "version": "1.4.0"}
        ).json()
    assert body["task"] == "classification"
    (window,) = [w for w in body["windows"] if w["labelled"]]
    predicted = np.array([e["outputs"]["prediction"] for e in labelled])
    assert window["labelled"] == 2000
    assert window["accuracy"] == pytest.approx(
        float(np.mean(predicted == np.array(truth))), abs=1e-12
    )


def _reference_parquet(events: list[dict[str, Any]], shift: float = 0.0) -> bytes:
    columns = {
        name: [e["inputs"][name] + (shift if name == "x0" else 0) for e in events]
        for name in ("x0", "x1")
    }
    buffer = io.BytesIO()
    pq.write_table(pa.table(columns), buffer)
    return buffer.getvalue()


def test_reference_upload_drift_and_metrics(loaded: tuple[Running, list[dict[str, Any]]]) -> None:
    running, events = loaded
    # A reference where x0 sat 3 standard deviations lower: the live x0 has drifted, x1 not.
    body = _reference_parquet(make_events(2000, seed=11), shift=-3.0)
    with running.client("fraud:admin") as client:
        put = client.put(
            "/v1/models/fraud/references/default",
            content=body,
            headers={"Content-Type": "application/vnd.apache.parquet"},
        )
        assert put.status_code == 201, put.text
        listed = client.get("/v1/models/fraud/references").json()["references"]
    assert [r["name"] for r in listed] == ["default"]
    with running.client("fraud:read") as client:
        drift = client.get("/v1/models/fraud/drift", params=SPAN).json()
    columns = drift["drift"]["columns"]
    assert columns["x0"]["drift"] is True
    assert columns["x1"]["drift"] is False
    assert drift["rows"] == len(events)


def test_a_ttp_profile_upload_is_checked(collector: Running, tmp_path: Any) -> None:
    path = tmp_path / "ref.parquet"
    pq.write_table(pa.table({"x0": [1.0, 2.0, 3.0]}), path)
    profile = profile_table(open_table(connect(), str(path), name="r"))
    with collector.client("fraud:admin") as client:
        ok = client.put(
            "/v1/models/fraud/references/train",
            content=profile.to_bytes(),
            headers={"Content-Type": "application/octet-stream"},
        )
        assert ok.status_code == 201, ok.text
        bad = client.put(
            "/v1/models/fraud/references/broken",
            content=b"\x1f\x8bnot really gzip",
            headers={"Content-Type": "application/octet-stream"},
        )
        assert_error(bad, 422, "invalid_field", "telltale profile")
        parquet_bad = client.put(
            "/v1/models/fraud/references/broken",
            content=b"PAR1 garbage",
            headers={"Content-Type": "application/vnd.apache.parquet"},
        )
        assert parquet_bad.status_code in (400, 422)
        assert parquet_bad.json()["error"]["code"] in ("malformed", "invalid_field")
        names = [r["name"] for r in client.get("/v1/models/fraud/references").json()["references"]]
    assert names == ["train"]
    assert TableProfile.from_bytes(profile.to_bytes()).row_count == 3


def test_monitor_round_feeds_prometheus_gauges(
    loaded: tuple[Running, list[dict[str, Any]]],
) -> None:
    running, _ = loaded
    with running.client("fraud:admin") as client:
        client.put(
            "/v1/models/fraud/references/default",
            content=_reference_parquet(make_events(2000, seed=11), shift=-3.0),
            headers={"Content-Type": "application/vnd.apache.parquet"},
        )
    now = START + timedelta(hours=6)
    outcome = run_round(running.app.state.collector, now=now)
    assert outcome.failures == []
    assert outcome.drift_checked == 1
    with running.client("fraud:read") as client:
        text = client.get("/metrics").text
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }
    assert samples[("telltale_drift_detected", (("feature", "x0"), ("model", "fraud")))] == 1.0
    assert samples[("telltale_drift_detected", (("feature", "x1"), ("model", "fraud")))] == 0.0


def test_metrics_counts_match_what_was_sent(loaded: tuple[Running, list[dict[str, Any]]]) -> None:
    running, events = loaded
    with running.client("fraud:read") as client:
        response = client.get("/metrics")
    assert response.headers["content-type"].startswith("text/plain")
    families = {f.name: f for f in text_string_to_metric_families(response.text)}
    counts = {
        (s.labels["version"], s.labels["status"]): s.value
        for s in families["telltale_events"].samples
        if s.name == "telltale_events_total"
    }
    for version in ("1.4.0", "2.0.0"):
        for status in ("ok", "error", "invalid", "timeout"):
            expected = sum(e["version"] == version and e["status"] == status for e in events)
            assert counts.get((version, status), 0) == expected
    buckets = {
        float(s.labels["le"]): s.value
        for s in families["telltale_prediction_latency_seconds"].samples
        if s.name.endswith("_bucket") and s.labels["version"] == "1.4.0"
    }
    latency = np.array([e["latency_ms"] / 1000 for e in events if e["version"] == "1.4.0"])
    for bound, value in buckets.items():
        assert value == int(np.sum(latency <= bound)), bound


def test_reads_are_audited_and_listed_to_admins(
    loaded: tuple[Running, list[dict[str, Any]]],
) -> None:
    running, _ = loaded
    with running.client("fraud:read") as client:
        client.get("/v1/models")
        client.get("/v1/models/fraud/windows", params={"interval": "day"})
        client.get("/metrics")
    with running.client("fraud:admin") as client:
        entries = client.get("/v1/audit").json()["entries"]
    actions = [e["action"] for e in entries]
    assert "GET /v1/models" in actions
    assert "GET /v1/models/fraud/windows" in actions
    assert "GET /metrics" not in actions
    assert next(e for e in entries if e["action"].endswith("/windows"))["query"] == "interval=day"
    with running.client("other:admin") as client:
        assert client.get("/v1/audit").json()["entries"] == []


@pytest.mark.parametrize(
    ("path", "params", "status", "field"),
    [
        ("/v1/models/fraud/windows", {"start": "yesterday"}, 422, "start"),
        ("/v1/models/fraud/windows", {"interval": "fortnight"}, 422, "interval"),
        ("/v1/models/fraud/windows", {"segment": "region"}, 422, "segment"),
        ("/v1/models/fraud/windows", {"start": "2026-11-20", "end": "2026-11-19"}, 422, "start"),
        ("/v1/models/fraud/windows", {"version": "v" * 500}, 422, "version"),
        ("/v1/models/nope/windows", {}, 404, None),
        ("/v1/models/fraud/drift", {"reference": "nothing", **SPAN}, 404, None),
        ("/v1/models/fraud/drift", {"method": "magic"}, 422, "method"),
        ("/v1/models/fraud/compare", {"a": "1.4.0"}, 422, None),
    ],
)
def test_bad_query_parameters_get_the_error_shape(
    loaded: tuple[Running, list[dict[str, Any]]],
    path: str,
    params: dict[str, str],
    status: int,
    field: str | None,
) -> None:
    running, _ = loaded
    with running.client("fraud:read") as client:
        response = client.get(path, params=params)
    error = assert_error(response, status, {404: "not_found", 422: "invalid_field"}[status])
    if field is not None:
        assert error["details"]["field"] == field


def test_admin_key_management_over_http(collector: Running) -> None:
    with collector.client("fraud:admin") as client:
        made = client.post("/v1/keys", json={"scope": "read", "name": "grafana"})
        assert made.status_code == 201
        secret, key_id = made.json()["secret"], made.json()["key"]["key_id"]
        assert secret.startswith(f"tt_{key_id}_")
        assert_error(client.post("/v1/keys", json={"scope": "root"}), 422, "invalid_field")
        assert_error(client.post("/v1/keys", json=[1]), 422, "invalid_field")
        with collector.client(None, headers={"Authorization": f"Bearer {secret}"}) as fresh:
            assert fresh.get("/v1/models").status_code == 200
            assert client.delete(f"/v1/keys/{key_id}").json()["key"]["revoked"] is not None
            assert_error(fresh.get("/v1/models"), 401, "unauthenticated", "revoked")
        listed = client.get("/v1/keys").json()["keys"]
        assert {k["project"] for k in listed} == {"fraud"}
        assert all("secret" not in k and "key_hash" not in k for k in listed)
    with collector.client("other:admin") as client:
        assert_error(client.delete(f"/v1/keys/{key_id}"), 404, "not_found")


def test_docs_and_openapi_describe_the_api_without_a_key(collector: Running) -> None:
    import httpx

    schema = httpx.get(collector.url + "/openapi.json").json()
    assert {"/v1/events", "/v1/labels", "/v1/models/{model}/windows", "/metrics"} <= set(
        schema["paths"]
    )
    assert schema["paths"]["/v1/events"]["post"]["security"] == [{"bearer": []}]
    page = httpx.get(collector.url + "/docs").text
    assert "/v1/events" in page and "<script" not in page
