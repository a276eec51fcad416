"""Alerting through a real collector: rules applied over HTTP, events ingested over HTTP, the
server's own loop (its clock injected) firing into a real webhook receiver; the API's answers,
scopes and errors."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from _collector import Running, ThreadServer, make_keys
from _notify_servers import HttpReceiver

from telltale.alerts.channels.webhook import verify_signature
from telltale.server import ServerSettings

SECRET = "server-test-secret"
T0 = datetime(2026, 11, 22, 14, 0, tzinfo=timezone.utc)

RULES = """
channels:
  - {name: hook, type: webhook, url: "%s", secret: %s}
rules:
  - name: errors
    model: fraud
    metric: error_rate
    window: 5m
    comparison: ">"
    thresholds: {warning: 0.1, critical: 0.5}
    channels: [hook]
"""


@pytest.fixture()
def served(tmp_path: Path) -> Iterator[Running]:
    db = tmp_path / "telltale.duckdb"
    keys = make_keys(db)
    settings = ServerSettings(db=str(db), port=0, alert_interval_s=0.2, public_url="http://dash")
    with ThreadServer(settings) as server:
        yield Running(f"http://127.0.0.1:{server.port}", db, keys, server.app)


def _events(n: int, errors: int, start: datetime) -> dict[str, Any]:
    return {
        "events": [
            {
                "event_id": str(uuid.uuid4()),
                "ts": (start + timedelta(seconds=i)).isoformat(),
                "model": "fraud",
                "version": "1.4.0",
                "status": "error" if i < errors else "ok",
                "latency_ms": 10.0,
                "trace_id": uuid.uuid4().hex,
            }
            for i in range(n)
        ]
    }


def test_the_loop_fires_into_a_webhook_and_the_api_acknowledges(served: Running) -> None:
    collector = served.app.state.collector
    now = [T0]
    collector.alerts.clock = lambda: now[0]  # the loop's clock, injected
    with HttpReceiver() as receiver:
        text = RULES % (receiver.url("/hook"), SECRET)
        with served.client("fraud:admin", headers={"Content-Type": "application/yaml"}) as admin:
            answer = admin.put("/v1/alerts/rules", content=text)
        assert answer.status_code == 200, answer.text
        assert [r["name"] for r in answer.json()["rules"]] == ["errors"]
        with served.client("fraud:ingest") as ingest:
            sent = ingest.post("/v1/events", json=_events(100, 30, T0 - timedelta(minutes=4)))
        assert sent.status_code == 200, sent.text
        deadline = time.monotonic() + 20
        while not receiver.received("/hook") and time.monotonic() < deadline:
            time.sleep(0.05)
        (request,) = receiver.received("/hook")[:1]
        assert verify_signature(SECRET, request.body, request.headers)
        alert = json.loads(request.body)
        assert alert["status"] == "firing" and alert["value"] == pytest.approx(0.3)
        assert alert["context"]["dashboard_url"] == "http://dash/models/fraud"
        time.sleep(0.6)  # several more rounds: still one notification
        assert len(receiver.received("/hook")) == 1

        with served.client("fraud:read") as read:
            listed = read.get("/v1/alerts", params={"state": "firing"}).json()["alerts"]
            (state,) = listed
            fingerprint = state["fingerprint"]
            acked = read.post(
                f"/v1/alerts/{fingerprint}/ack", json={"by": "alice", "comment": "on it"}
            )
            assert acked.status_code == 200, acked.text
            assert acked.json()["alert"]["acknowledged_by"] == "alice"
            history = read.get("/v1/alerts/history").json()["history"]
            assert [h["event"] for h in history][:3] == ["acknowledged", "firing", "pending"]
            assert read.get("/v1/alerts/deliveries").json()["deliveries"][0]["ok"] is True
            silence = read.post(
                "/v1/silences", json={"matchers": {"rule": "errors"}, "duration": "1h"}
            )
            assert silence.status_code == 201, silence.text
            silence_id = silence.json()["silence"]["id"]
            assert [s["id"] for s in read.get("/v1/silences").json()["silences"]] == [silence_id]
            assert read.delete(f"/v1/silences/{silence_id}").status_code == 200
            # what a read key may not do
            assert read.post("/v1/alerts/check").status_code == 403
            assert read.put("/v1/alerts/rules", content=text).status_code == 403

        # the errors stop: resolved, and notified
        now[0] = T0 + timedelta(minutes=10)
        with served.client("fraud:ingest") as ingest:
            ingest.post("/v1/events", json=_events(50, 0, T0 + timedelta(minutes=6)))
        deadline = time.monotonic() + 20
        while len(receiver.received("/hook")) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert json.loads(receiver.received("/hook")[1].body)["status"] == "resolved"

    with served.client("other:read") as other:  # another project sees none of it
        assert other.get("/v1/alerts").json()["alerts"] == []
        assert other.post(f"/v1/alerts/{fingerprint}/ack", json={"by": "eve"}).status_code == 404


@pytest.mark.parametrize(
    ("body", "content_type", "status", "words"),
    [
        ("rules: [{name: a, model: m, metric: nope, thresholds: {critical: 1}}]", "application/yaml", 422, "rules[0]).metric: unknown metric 'nope'"),
        ("rules: [unclosed", "application/yaml", 422, "not valid YAML at line 1"),
        ('{"rules": [', "application/json", 422, "not valid JSON"),
        ("rules: []", "image/png", 415, "Content-Type"),
    ],
)  # fmt: skip
def test_bad_rules_documents_get_one_error_shape_and_change_nothing(
    served: Running, body: str, content_type: str, status: int, words: str
) -> None:
    good = "rules: [{name: ok, model: fraud, metric: error_rate, thresholds: {critical: 0.5}}]"
    with served.client("fraud:admin", headers={"Content-Type": "application/yaml"}) as admin:
        assert admin.put("/v1/alerts/rules", content=good).status_code == 200
        answer = admin.put("/v1/alerts/rules", content=body, headers={"Content-Type": content_type})
        assert answer.status_code == status, answer.text
        error = answer.json()["error"]
        assert set(error) == {"code", "message", "details"}
        assert words in error["message"], error["message"]
        kept = admin.get("/v1/alerts/rules").json()
        assert [r["name"] for r in kept["rules"]] == ["ok"]  # the applied rules stand


def test_partial_keeps_the_good_rules_and_check_runs_a_round(served: Running) -> None:
    text = json.dumps(
        {"rules": [
            {"name": "ok", "model": "fraud", "metric": "error_rate", "thresholds": {"critical": 0.5}},
            {"name": "bad", "model": "fraud", "metric": "error_rate", "thresholds": {"warning": 0.5, "critical": 0.1}},
        ]}
    )  # fmt: skip
    with served.client("fraud:admin") as admin:
        answer = admin.put("/v1/alerts/rules", params={"partial": "true"}, content=text,
                           headers={"Content-Type": "application/json"})  # fmt: skip
        assert answer.status_code == 200, answer.text
        assert [e["rule"] for e in answer.json()["errors"]] == ["bad"]
        report = admin.post("/v1/alerts/check").json()
        assert report["rules"] == 1  # the bad rule is still reported, the good one ran
        assert [e.split(".")[0] for e in report["errors"]] == ["rule 'bad' (rules[1])"]
        assert admin.post("/v1/alerts/actions/nope/approve", json={"by": "x"}).status_code == 404
        assert (
            admin.post("/v1/silences", json={"matchers": [], "duration": "1h"}).status_code == 422
        )
        assert (
            admin.post(
                "/v1/silences", json={"matchers": {"rule": "ok"}, "duration": "ever"}
            ).status_code
            == 422
        )
