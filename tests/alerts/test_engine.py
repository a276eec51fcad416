"""The evaluation loop against a real store, a real webhook receiver and a fake clock.

Values are checked against numpy over the raw events that were written; notifications are read
off the receiver (HMAC verified); actions run real commands; the audit log is the store's.
"""

from __future__ import annotations

import json
import sys
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from _notify_servers import HttpReceiver

from telltale.alerts.channels.webhook import verify_signature
from telltale.alerts.engine import AlertEngine
from telltale.alerts.notifiers import deliver
from telltale.alerts.source import StoreSource
from telltale.errors import ConfigError, NotFoundError
from telltale.schema.wire import decode_events_json
from telltale.store.alerts import AlertStore
from telltale.store.audit import AuditLog
from telltale.store.events import EventStore

T0 = datetime(2026, 11, 22, 14, 0, tzinfo=timezone.utc)
SECRET = "s3cret-for-tests"


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture()
def receiver() -> Iterator[HttpReceiver]:
    with HttpReceiver() as running:
        yield running


@pytest.fixture()
def store(tmp_path: Path) -> Iterator[EventStore]:
    opened = EventStore(tmp_path / "t.duckdb")
    yield opened
    opened.close()


_counter = iter(range(1, 10**9))


def write(
    store: EventStore,
    start: datetime,
    minutes: int,
    *,
    per_minute: int = 60,
    error_share: float = 0.0,
    latency_ms: float = 20.0,
    version: str = "1.4.0",
    environment: str = "cpu-a",
    seed: int = 0,
) -> list[dict[str, Any]]:
    """Events spread over ``minutes`` from ``start``; returns them as written."""
    rng = np.random.default_rng(seed)
    events = []
    for minute in range(minutes):
        for i in range(per_minute):
            n = next(_counter)
            events.append(
                {
                    "event_id": str(uuid.UUID(int=n)),
                    "ts": (
                        start + timedelta(minutes=minute, seconds=i * 60 / per_minute)
                    ).isoformat(),
                    "model": "fraud",
                    "version": version,
                    "environment_id": environment,
                    "latency_ms": float(rng.lognormal(np.log(latency_ms), 0.2)),
                    "status": "error" if rng.uniform() < error_share else "ok",
                    "trace_id": f"{n:032x}",
                    "inputs": {"amount": float(rng.uniform(0, 100))},
                    "outputs": {"prediction": float(rng.uniform())},
                }
            )
    store.write([("fraud", decode_events_json({"events": events}))])
    return events


def rules(url: str, **rule: Any) -> str:
    document = {
        "channels": [{"name": "hook", "type": "webhook", "url": url, "secret": SECRET}],
        "rules": [
            {
                "name": "errors",
                "model": "fraud",
                "metric": "error_rate",
                "window": "5m",
                "thresholds": {"warning": 0.1, "critical": 0.3},
                "for": "2m",
                "repeat": "1h",
                "channels": ["hook"],
                **rule,
            }
        ],
    }
    return json.dumps(document)


def engine_for(store: EventStore, clock: Clock, **options: Any) -> AlertEngine:
    return AlertEngine(
        AlertStore(store), StoreSource(store, dashboard_url="http://dash.local"), clock=clock,
        audit=AuditLog(store), **options,
    )  # fmt: skip


def events_of(receiver: HttpReceiver) -> list[dict[str, Any]]:
    received = receiver.received("/hook")
    for request in received:
        assert verify_signature(SECRET, request.body, request.headers), request.headers
    return [json.loads(r.body) for r in received]


def test_pending_firing_no_repeat_reminder_escalation_resolved(
    store: EventStore, receiver: HttpReceiver
) -> None:
    clock = Clock(T0)
    engine = engine_for(store, clock)
    engine.apply("fraud", rules(receiver.url("/hook")))
    healthy = write(store, T0 - timedelta(minutes=10), 10, error_share=0.0)
    report = engine.check("fraud")
    assert report.transitions == [] and report.evaluated[0]["value"] == 0.0
    assert report.evaluated[0]["events"] == 5 * 60  # the 5-minute window, exactly

    bad = write(store, T0, 3, error_share=0.2, seed=1)
    clock.now = T0 + timedelta(minutes=3)
    report = engine.check("fraud")
    window = [
        e
        for e in healthy + bad
        if clock.now - timedelta(minutes=5) <= datetime.fromisoformat(e["ts"]) < clock.now
    ]
    expected = np.mean([e["status"] == "error" for e in window])
    assert report.evaluated[0]["value"] == pytest.approx(expected, abs=1e-12)
    assert [t["event"] for t in report.transitions] == ["pending"]
    assert events_of(receiver) == []  # pending is not notified

    bad += write(store, T0 + timedelta(minutes=3), 2, error_share=0.2, seed=2)
    clock.now = T0 + timedelta(minutes=5)
    report = engine.check("fraud")
    assert [t["event"] for t in report.transitions] == ["firing"]
    (sent,) = events_of(receiver)
    assert sent["status"] == "firing" and sent["severity"] == "warning"
    assert sent["rule"] == "errors" and sent["group"] == {"model": "fraud"}
    assert sent["since"] == (T0 + timedelta(minutes=3)).isoformat()  # when it started to hold
    context = sent["context"]
    error_ids = {e["event_id"] for e in bad if e["status"] == "error"}
    latest_errors = sorted((e for e in bad if e["status"] == "error"), key=lambda e: e["ts"])[-3:]
    assert context["sample_event_ids"] == [e["event_id"] for e in reversed(latest_errors)]
    assert set(context["sample_event_ids"]) <= error_ids
    assert len(context["sample_trace_ids"]) == 3
    assert context["dashboard_url"] == "http://dash.local/models/fraud"
    assert report.deliveries[0]["ok"] is True

    # still bad a minute later: no second notification
    write(store, T0 + timedelta(minutes=5), 1, error_share=0.2, seed=3)
    clock.now = T0 + timedelta(minutes=6)
    assert engine.check("fraud").transitions == []
    assert len(events_of(receiver)) == 1

    # worse: escalates to critical and notifies
    write(store, T0 + timedelta(minutes=6), 5, error_share=0.6, seed=4)
    clock.now = T0 + timedelta(minutes=11)
    report = engine.check("fraud")
    assert [t["event"] for t in report.transitions] == ["escalated"]
    assert events_of(receiver)[-1]["severity"] == "critical"

    # an hour on, still critical: one reminder
    write(store, T0 + timedelta(minutes=68), 5, error_share=0.6, seed=5)
    clock.now = T0 + timedelta(minutes=73)
    assert [t["event"] for t in engine.check("fraud").transitions] == ["reminder"]
    assert len(events_of(receiver)) == 3

    # healthy again: resolved, and notified
    write(store, T0 + timedelta(minutes=73), 5, error_share=0.0, seed=6)
    clock.now = T0 + timedelta(minutes=78)
    report = engine.check("fraud")
    assert [t["event"] for t in report.transitions] == ["resolved"]
    resolved = events_of(receiver)[-1]
    assert resolved["status"] == "resolved" and resolved["resolved_at"] == clock.now.isoformat()
    assert resolved["fingerprint"] == events_of(receiver)[0]["fingerprint"]  # one alert throughout
    history = [h["event"] for h in engine.alerts.history("fraud")]
    assert history == ["resolved", "reminder", "escalated", "firing", "pending"]


def test_a_condition_that_clears_before_for_never_fires(
    store: EventStore, receiver: HttpReceiver
) -> None:
    clock = Clock(T0)
    engine = engine_for(store, clock)
    engine.apply("fraud", rules(receiver.url("/hook"), **{"for": "10m"}))
    write(store, T0 - timedelta(minutes=5), 5, error_share=0.5)
    assert [t["event"] for t in engine.check("fraud").transitions] == ["pending"]
    write(store, T0, 5, error_share=0.0, seed=1)
    clock.now = T0 + timedelta(minutes=5)
    assert [t["event"] for t in engine.check("fraud").transitions] == ["cleared"]
    assert engine.alerts.states("fraud") == {} and events_of(receiver) == []


def test_acknowledge_stops_reminders_and_silence_holds_notifications(
    store: EventStore, receiver: HttpReceiver
) -> None:
    clock = Clock(T0)
    engine = engine_for(store, clock)
    engine.apply("fraud", rules(receiver.url("/hook"), **{"for": "0m", "repeat": "10m"}))
    write(store, T0 - timedelta(minutes=5), 5, error_share=0.2)
    report = engine.check("fraud")
    assert [t["event"] for t in report.transitions] == ["pending", "firing"]
    (fingerprint,) = engine.alerts.states("fraud")
    engine.acknowledge("fraud", fingerprint, by="alice", comment="looking")
    for minute in (5, 10, 15, 20):
        write(store, T0 + timedelta(minutes=minute - 5), 5, error_share=0.2, seed=minute)
        clock.now = T0 + timedelta(minutes=minute)
        assert engine.check("fraud").transitions == []  # no reminders after the ack
    assert len(events_of(receiver)) == 1
    with pytest.raises(NotFoundError, match="no firing alert 'nope'"):
        engine.acknowledge("fraud", "nope", by="alice")

    # a silence on the rule: the escalation is recorded, not sent
    silence = engine.silence("fraud", {"rule": "errors"}, duration="1h", comment="deploy", by="bob")
    write(store, T0 + timedelta(minutes=20), 5, error_share=0.7, seed=99)
    clock.now = T0 + timedelta(minutes=25)
    report = engine.check("fraud")
    assert [t["event"] for t in report.transitions] == ["escalated", "silenced"]
    assert len(events_of(receiver)) == 1 and report.deliveries == []
    assert [s.id for s in engine.active_silences("fraud")] == [silence.id]
    clock.now = T0 + timedelta(hours=2)
    assert engine.active_silences("fraud") == []
    with pytest.raises(ConfigError, match="needs matchers"):
        engine.silence("fraud", {}, duration="1h")
    with pytest.raises(ConfigError, match="not a duration"):
        engine.silence("fraud", {"rule": "errors"}, duration="forever")


def test_groups_by_version_with_per_environment_context(
    store: EventStore, receiver: HttpReceiver
) -> None:
    clock = Clock(T0)
    engine = engine_for(store, clock)
    engine.apply(
        "fraud",
        rules(
            receiver.url("/hook"), metric="latency_p99_ms", group_by=["version"],
            thresholds={"warning": 100, "critical": 500}, **{"for": "0m"},
        ),
    )  # fmt: skip
    slow = write(
        store, T0 - timedelta(minutes=5), 5, latency_ms=300, version="2.0.0", environment="gpu-b"
    )
    write(
        store,
        T0 - timedelta(minutes=5),
        5,
        latency_ms=20,
        version="2.0.0",
        environment="cpu-a",
        seed=1,
    )
    write(store, T0 - timedelta(minutes=5), 5, latency_ms=20, version="1.4.0", seed=2)
    report = engine.check("fraud")
    by_version = {e["group"]["version"]: e for e in report.evaluated}
    assert by_version["1.4.0"]["severity"] == "ok" and by_version["2.0.0"]["severity"] == "warning"
    (sent,) = events_of(receiver)
    assert sent["group"] == {"model": "fraud", "version": "2.0.0"}
    environments = sent["context"]["environments"]
    assert [e["environment"] for e in environments] == ["gpu-b", "cpu-a"]  # worst first
    latencies = np.array([e["latency_ms"] for e in slow])
    assert environments[0]["value"] == pytest.approx(
        np.quantile(latencies, 0.99, method="lower"), rel=0.011
    )
    slowest = sorted(slow, key=lambda e: -e["latency_ms"])[:3]
    assert sent["context"]["sample_event_ids"] == [e["event_id"] for e in slowest]
    assert sent["context"]["dashboard_url"] == "http://dash.local/models/fraud?version=2.0.0"


def test_actions_run_commands_with_approval_and_are_audited(
    store: EventStore, receiver: HttpReceiver, tmp_path: Path
) -> None:
    clock = Clock(T0)
    engine = engine_for(store, clock)
    out = tmp_path / "rolled-back.json"
    script = f"import sys, pathlib; pathlib.Path({str(out)!r}).write_bytes(sys.stdin.buffer.read())"
    document = json.loads(rules(receiver.url("/hook"), **{"for": "0m"}))
    document["actions"] = [
        {"name": "rollback", "type": "command", "command": [sys.executable, "-c", script]},
        {"name": "retrain", "type": "webhook", "url": receiver.url("/retrain"), "secret": SECRET},
    ]
    document["rules"][0]["actions"] = [
        {"hook": "rollback", "on": "critical"},
        {"hook": "retrain", "on": "warning", "approval": True},
    ]
    engine.apply("fraud", json.dumps(document))
    write(store, T0 - timedelta(minutes=5), 5, error_share=0.15)
    report = engine.check("fraud")  # warning: retrain waits for approval, no rollback
    (waiting,) = report.actions
    assert waiting["status"] == "awaiting_approval" and receiver.received("/retrain") == []
    assert not out.exists()
    done = engine.approve("fraud", waiting["id"], by="carol")
    assert done["status"] == "done" and len(receiver.received("/retrain")) == 1
    with pytest.raises(ConfigError, match="is done, not awaiting approval"):
        engine.approve("fraud", waiting["id"], by="carol")

    write(store, T0, 5, error_share=0.8, seed=1)
    clock.now = T0 + timedelta(minutes=5)
    report = engine.check("fraud")  # critical: the rollback runs at once with the alert on stdin
    (rollback,) = [a for a in report.actions if a["hook"] == "rollback"]
    assert rollback["status"] == "done", rollback
    assert json.loads(out.read_bytes())["severity"] == "critical"
    actions = AuditLog(store).entries("fraud")
    assert sorted(e.action for e in actions) == [
        "action retrain done (rule errors)",
        "action retrain requested (rule errors)",
        "action rollback done (rule errors)",
    ]
    assert {e.key_id for e in actions} == {"carol", "alerts"}


def test_a_failing_rule_or_channel_never_stops_the_others(
    store: EventStore, receiver: HttpReceiver
) -> None:
    clock = Clock(T0)
    # the real deliver, retrying the dead channel without waiting between tries
    engine = engine_for(store, clock, deliver=partial(deliver, sleep=lambda seconds: None))
    document = json.loads(rules(receiver.url("/hook"), **{"for": "0m"}))
    document["channels"].append({"name": "dead", "type": "webhook", "url": "http://127.0.0.1:9/x"})
    document["rules"][0]["channels"] = ["dead", "hook"]
    document["rules"].insert(
        0,
        {
            "name": "unknown-model",
            "model": "nope",
            "metric": "error_rate",
            "thresholds": {"critical": 0.1},
        },
    )
    document["rules"].insert(
        0, {"name": "drift", "model": "fraud", "metric": "drift", "feature": "amount",
            "reference": "missing-ref", "thresholds": {"critical": 0.1}}
    )  # fmt: skip
    engine.apply("fraud", json.dumps(document))
    write(store, T0 - timedelta(minutes=5), 5, error_share=0.5)
    report = engine.check("fraud")
    assert any("rule 'drift'" in e for e in report.errors), report.errors  # no such reference
    assert [t["event"] for t in report.transitions] == ["pending", "firing"]
    assert {d["channel"]: d["ok"] for d in report.deliveries} == {"dead": False, "hook": True}
    assert len(events_of(receiver)) == 1


def test_apply_refuses_a_bad_file_unless_partial(store: EventStore) -> None:
    engine = engine_for(store, Clock(T0))
    text = json.dumps(
        {"rules": [
            {"name": "good", "model": "fraud", "metric": "error_rate", "thresholds": {"critical": 0.1}},
            {"name": "bad", "model": "fraud", "metric": "nope", "thresholds": {"critical": 0.1}},
        ]}
    )  # fmt: skip
    with pytest.raises(
        ConfigError, match=r"1 problem\(s\) in the rules:\n  - rule 'bad' \(rules\[1\]\)\.metric"
    ):
        engine.apply("fraud", text)
    assert engine.alerts.document("fraud") is None  # nothing kept
    parsed = engine.apply("fraud", text, partial=True)
    assert [r.name for r in engine.rules("fraud").rules] == ["good"] and len(parsed.errors) == 1


def test_a_learned_baseline_fires_on_a_spike_not_on_the_daily_cycle(store: EventStore) -> None:
    """Eight days of hourly traffic with a daily cycle; the latency rule learns it."""
    start = T0 - timedelta(days=8)
    rng = np.random.default_rng(7)
    events = []
    for hour in range(8 * 24):
        at = start + timedelta(hours=hour)
        typical = 40 + 20 * np.sin(2 * np.pi * at.hour / 24)  # a daily cycle of mean latency
        for i in range(20):
            n = next(_counter)
            events.append(
                {"event_id": str(uuid.UUID(int=n)), "ts": (at + timedelta(minutes=3 * i)).isoformat(),
                 "model": "fraud", "version": "1", "latency_ms": float(typical + rng.normal(0, 2))}
            )  # fmt: skip
    store.write([("fraud", decode_events_json({"events": events}))])
    clock = Clock(T0)
    engine = engine_for(store, clock)
    rule = {"name": "latency", "model": "fraud", "metric": "latency_mean_ms", "window": "1h",
            "baseline": {"mode": "learned", "history": "7d"}, "thresholds": {"warning": 4, "critical": 8}}  # fmt: skip
    engine.apply("fraud", json.dumps({"rules": [rule]}))
    (normal,) = engine.check("fraud").evaluated  # the last hour follows the cycle
    assert normal["severity"] == "ok", normal
    peak = normal["thresholds"]["warning"]
    assert 40 + 20 * np.sin(2 * np.pi * 13 / 24) < peak < 80  # the band follows the hour's level
    spike = [
        {"event_id": str(uuid.UUID(int=next(_counter))), "ts": (T0 + timedelta(minutes=m)).isoformat(),
         "model": "fraud", "version": "1", "latency_ms": 150.0}
        for m in range(50)
    ]  # fmt: skip
    store.write([("fraud", decode_events_json({"events": spike}))])
    clock.now = T0 + timedelta(minutes=50)
    (judged,) = engine.check("fraud").evaluated
    assert judged["severity"] == "critical" and judged["value"] > judged["thresholds"]["critical"]


def test_one_round_sends_one_grouped_notification_per_channel(
    store: EventStore, receiver: HttpReceiver
) -> None:
    clock = Clock(T0)
    engine = engine_for(store, clock)
    engine.apply(
        "fraud",
        rules(receiver.url("/hook"), group_by=["version"], **{"for": "0m"}),
    )
    for seed, version in enumerate(("1.4.0", "1.5.0", "2.0.0")):
        write(store, T0 - timedelta(minutes=5), 5, error_share=0.5, version=version, seed=seed)
    report = engine.check("fraud")
    assert [t["event"] for t in report.transitions].count("firing") == 3
    (sent,) = events_of(receiver)  # one body for the three
    assert sent["grouped"] is True and len(sent["alerts"]) == 3
    assert sorted(a["group"]["version"] for a in sent["alerts"]) == ["1.4.0", "1.5.0", "2.0.0"]
    (delivery,) = engine.alerts.deliveries("fraud")
    assert delivery["ok"] and len(delivery["alerts"]) == 3
    # the next round has nothing new to say; a resolution of one goes alone
    assert engine.check("fraud").deliveries == []
    write(store, T0, 5, error_share=0.0, version="1.4.0", seed=9)
    clock.now = T0 + timedelta(minutes=5)
    write(store, T0, 5, error_share=0.5, version="1.5.0", seed=10)
    write(store, T0, 5, error_share=0.5, version="2.0.0", seed=11)
    report = engine.check("fraud")
    assert [t["event"] for t in report.transitions] == ["resolved"]
    resolved = events_of(receiver)[-1]
    assert "grouped" not in resolved and resolved["status"] == "resolved"
