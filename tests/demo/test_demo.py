"""`telltale demo --quick` against a real collector: every injected problem must be visible
through the JSON API, and the alerts must fire.

One run of the demo (a child process, against a collector served in this process) is shared
by the module: it is what costs time (~25 s). The schedule the assertions lean on is the one
in telltale.demo.timeline (offsets from T0, the moment simulated time meets the real clock).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import duckdb
import httpx
import pytest
from _collector import ThreadServer, free_port, make_keys

from telltale.demo.scenario import QUICK
from telltale.demo.timeline import INCIDENT_S
from telltale.server import ServerSettings
from telltale.store.keys import KeyStore

MODEL = "card-fraud"
SEED = "3"
FEATURES = {"amount", "account_age_days", "distance_km", "transactions_24h", "merchant_risk"}


@dataclass
class DemoRun:
    url: str
    stdout: str
    stderr: str
    admin_key: str
    read_key: str
    environments: dict[str, str]  # replica name → environment id
    t0: datetime  # the last event's time: where simulated time met the real clock

    def client(self, key: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {key or self.read_key}"}
        return httpx.Client(base_url=self.url, headers=headers, timeout=60)

    def get(self, path: str, **params: Any) -> dict[str, Any]:
        with self.client() as client:
            answer = client.get(path, params=params)
        assert answer.status_code == 200, answer.text
        return dict(answer.json())

    def at(self, minutes: float) -> str:
        """The ISO time ``minutes`` after T0 (negative: before)."""
        return (self.t0 + timedelta(minutes=minutes)).isoformat()


def _demo_env() -> dict[str, str]:
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    env.pop("TELLTALE_ADMIN_KEY", None)
    return env


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoRun]:
    db = tmp_path_factory.mktemp("demo") / "telltale.duckdb"
    keys = make_keys(db, ("demo",))
    settings = ServerSettings(db=str(db), port=0, decode_processes=0, alert_interval_s=5)
    with ThreadServer(settings) as server:
        url = f"http://127.0.0.1:{server.port}"
        args = [sys.executable, "-m", "telltale.cli.main", "demo", "--quick", "--seed", SEED]
        args += ["--server", url, "--admin-key", keys["demo:admin"]]
        done = subprocess.run(
            args, capture_output=True, text=True, timeout=240, env=_demo_env(), check=False
        )
        assert done.returncode == 0, done.stderr[-3000:]
        read_key = re.search(r"^read-only key: (tt_\S+)$", done.stdout, re.M)
        assert read_key is not None, done.stdout
        environments = dict(re.findall(r"replica (\w) = ([0-9a-f]{16})", done.stdout))
        run = DemoRun(
            url,
            done.stdout,
            done.stderr,
            keys["demo:admin"],
            read_key[1],
            environments,
            datetime.now(timezone.utc),
        )
        (model,) = run.get("/v1/models")["models"]
        run.t0 = datetime.fromisoformat(model["last_ts"])
        yield run


def _drift(demo: DemoRun, start: float, end: float, **filters: str) -> dict[str, Any]:
    return demo.get(
        f"/v1/models/{MODEL}/drift",
        reference="training",
        start=demo.at(start),
        end=demo.at(end),
        **filters,
    )


def _minutes(demo: DemoRun, path: str, start: float, end: float, **filters: str) -> list[Any]:
    answer = demo.get(
        f"/v1/models/{MODEL}/{path}",
        start=demo.at(start),
        end=demo.at(end),
        interval="minute",
        **filters,
    )
    return list(answer["windows"])


def _share(windows: list[dict[str, Any]], field: str, weight: str = "events") -> float:
    total = sum(w[weight] for w in windows if w[field] is not None)
    return sum(w[field] * w[weight] for w in windows if w[field] is not None) / total


# --------------------------------------------------------------------------------------------
# What the command prints, and the key it hands out
# --------------------------------------------------------------------------------------------


def test_prints_the_dashboard_and_a_read_only_key_that_cannot_write(demo: DemoRun) -> None:
    assert f"dashboard: {demo.url}/" in demo.stdout
    assert f"{demo.url}/models/{MODEL}" in demo.stdout
    assert re.search(r"^alerts firing now: \d+$", demo.stdout, re.M)
    with demo.client() as client:
        assert client.get("/v1/models").status_code == 200
        event = {"event_id": "0f8c6d1e-6c1f-4c3b-9a53-2d3e4f5a6b7c", "ts": demo.at(0)}
        event |= {"model": MODEL, "inputs": {"amount": 1.0}, "outputs": {"prediction": "legit"}}
        refused = client.post("/v1/events", json={"events": [event]})
        assert refused.status_code == 403, refused.text
        assert client.put("/v1/alerts/rules", content=b"rules: []").status_code == 403
        assert client.post("/v1/alerts/check").status_code == 403


def test_the_service_sent_everything_it_recorded(demo: DemoRun) -> None:
    sent = re.search(r"sent ([\d,]+) events in [\d,]+ calls and ([\d,]+) labels", demo.stdout)
    assert sent is not None, demo.stdout
    events, labels = (int(g.replace(",", "")) for g in sent.groups())
    (model,) = demo.get("/v1/models")["models"]
    assert model["events"] == events
    # 3 h 20 min at 0.5 events/s, times a daily rhythm of ±40 % that peaks at T0: 1.35 on average
    # over those hours, so about 8,100 events (a Poisson count: sd 90), plus the live seconds'
    assert 1.2 * QUICK.span_s * 0.5 < events < 1.5 * QUICK.span_s * 0.5
    assert 0.45 * events < labels < 0.62 * events  # 60 % labelled, the last ones still late
    assert set(model["features"]) == FEATURES | {"channel"}
    assert model["outputs"] == {"prediction": "string", "score": "double"}


# --------------------------------------------------------------------------------------------
# Each injected problem
# --------------------------------------------------------------------------------------------


def test_amount_and_distance_drifted_and_the_other_features_did_not(demo: DemoRun) -> None:
    recent = _drift(demo, -15, 0.1)["drift"]["columns"]
    for name in ("amount", "distance_km"):
        assert recent[name]["method"] == "wasserstein"
        assert recent[name]["drift"], recent[name]
        assert recent[name]["statistic"] > 0.2  # the rules' warning level
    calm = max(recent[name]["statistic"] for name in ("transactions_24h", "merchant_risk"))
    assert min(recent["amount"]["statistic"], recent["distance_km"]["statistic"]) > 2 * calm
    # before the drift began (T0 - H/2) the same features sat near the reference
    before = _drift(demo, -QUICK.span_s / 60, -QUICK.span_s / 120 - 1)["drift"]["columns"]
    assert before["amount"]["statistic"] < 0.2
    assert before["distance_km"]["statistic"] < 0.2


def test_the_new_channel_is_seen_only_after_it_appeared(demo: DemoRun) -> None:
    quality = _drift(demo, -15, 0.1)["quality"]["columns"]["channel"]
    new = quality["new_categories"]
    assert (
        new["values"][0]["value"] == "partner_api"
        if isinstance(new["values"][0], dict)
        else new["values"][0] == "partner_api"
    )
    assert 0.15 < new["share"] < 0.35
    earlier = _drift(demo, -60, -20)["quality"]["columns"]["channel"]["new_categories"]
    assert earlier is None or earlier["count"] == 0


def test_the_nan_burst_shows_as_invalid_outputs_and_missing_merchant_risk(demo: DemoRun) -> None:
    outage = _minutes(demo, "windows", -6, -2)
    before = _minutes(demo, "windows", -20, -7)
    assert 0.15 < _share(outage, "invalid_rate") < 0.55  # 35 % of rows missing the risk
    assert _share(before, "invalid_rate") == 0.0
    missing = _drift(demo, -6, -2)["quality"]["columns"]["merchant_risk"]["missing_rate"]
    assert missing["reference"] == 0.0
    assert missing["current"] > 0.15


def test_the_latency_spike_is_in_the_p99_of_replica_a_only(demo: DemoRun) -> None:
    a, b = demo.environments["a"], demo.environments["b"]
    # minute windows: those touching [-4, -2] lie inside the spike [-5, -1]
    spike_a = _minutes(demo, "windows", -4, -2, environment=a)
    calm_a = _minutes(demo, "windows", -20, -6, environment=a)
    spike_b = _minutes(demo, "windows", -5, -1, environment=b)
    assert max(w["latency_p99_ms"] for w in spike_a) > 250  # every call stalls 250-450 ms
    assert _share(spike_a, "latency_p50_ms") > 250
    assert max(w["latency_p99_ms"] for w in calm_a) < 250
    assert max(w["latency_p99_ms"] for w in spike_b) < 250


def test_the_second_environment_is_slower_and_scores_differently(demo: DemoRun) -> None:
    a, b = demo.environments["a"], demo.environments["b"]
    assert a != b
    start, end = -QUICK.span_s / 60, -INCIDENT_S / 60 - 1  # the history, spike-free
    served = {
        name: demo.get(
            f"/v1/models/{MODEL}/windows",
            start=demo.at(start),
            end=demo.at(end),
            interval="hour",
            environment=environment,
        )["windows"]
        for name, environment in (("a", a), ("b", b))
    }
    events = {name: sum(w["events"] for w in windows) for name, windows in served.items()}
    assert 0.2 < events["b"] / (events["a"] + events["b"]) < 0.4  # replica b takes 30 %
    # replica b sleeps 4-8 ms more per call
    assert _share(served["b"], "latency_p50_ms") > _share(served["a"], "latency_p50_ms") + 3
    # ... and reports sqrt(score): its scores drift from the training outputs, a's do not
    score_a = _drift(demo, start, -QUICK.span_s / 120, environment=a)["drift"]["columns"]
    score_b = _drift(demo, start, -QUICK.span_s / 120, environment=b)["drift"]["columns"]
    assert score_b["output.score"]["statistic"] > 3 * score_a["output.score"]["statistic"]
    assert score_b["output.score"]["drift"] and not score_a["output.score"]["drift"]


def test_version_1_1_0_arrives_as_a_canary(demo: DemoRun) -> None:
    (model,) = demo.get("/v1/models")["models"]
    assert model["versions"] == ["1.0.0", "1.1.0"]
    canary_start = -QUICK.span_s / 4 / 60
    windows = demo.get(
        f"/v1/models/{MODEL}/windows",
        start=demo.at(-QUICK.span_s / 60 - 1),
        end=demo.at(1),
        interval="minute",
        version="1.1.0",
    )["windows"]
    first = datetime.fromisoformat(windows[0]["start"])
    assert first >= demo.t0 + timedelta(minutes=canary_start - 2)
    assert sum(w["events"] for w in windows) > 200
    compared = demo.get(f"/v1/models/{MODEL}/compare", a="1.0.0", b="1.1.0")
    assert compared["serving_a"]["events"] > compared["serving_b"]["events"] > 0


def test_labels_arrive_late_and_accuracy_falls_with_the_drift(demo: DemoRun) -> None:
    history = _minutes(demo, "performance", -QUICK.span_s / 60, -QUICK.span_s / 120)
    recent = _minutes(demo, "performance", -15, 0.1)
    labelled = sum(w["labelled"] for w in history)
    events = sum(w["events"] for w in history)
    assert 0.5 < labelled / events < 0.7  # 60 % of events get a label, all in by now
    last_minute = _minutes(demo, "performance", -1, 0.1)
    assert sum(w["labelled"] for w in last_minute) < 0.3 * sum(w["events"] for w in last_minute)
    accuracy_before = _share(history, "accuracy", "labelled")
    accuracy_now = _share(recent, "accuracy", "labelled")
    assert accuracy_before > 0.88
    assert accuracy_now < accuracy_before - 0.04


def test_the_alerts_fired(demo: DemoRun) -> None:
    history = demo.get("/v1/alerts/history", limit=1000)["history"]
    fired = {
        (h["alert"]["rule"], h["alert"]["severity"]) for h in history if h["event"] == "firing"
    }
    rules = {rule for rule, _ in fired}
    assert rules == {
        "invalid-outputs",
        "p99-latency",
        "accuracy",
        "amount-drift",
        "distance-drift",
        "new-channel",
    }
    latency_groups = {
        h["alert"]["group"].get("environment")
        for h in history
        if h["event"] == "firing" and h["alert"]["rule"] == "p99-latency"
    }
    assert latency_groups == {demo.environments["a"]}
    printed = re.findall(r"^  (warning|critical) +(\S+) ", demo.stdout, re.M)
    assert {rule for _, rule in printed} == rules  # the command's own summary at T0


def test_each_problem_is_visible_through_the_dashboards_json_twins(demo: DemoRun) -> None:
    """What a person sees on the pages, read from their .json twins (the same data)."""
    with demo.client() as client:
        (model,) = client.get("/.json").json()["models"]
        assert model["model"] == MODEL
        assert {v["version"] for v in model["versions"]} == {"1.0.0", "1.1.0"}
        assert {"amount", "distance_km", "channel"} <= set(model["drift"]["drifting"])
        assert model["firing_alerts"] == 6
        page = client.get(f"/models/{MODEL}.json", params={"range": "1h"}).json()
        serving = [w for w in page["serving"] if w["events"]]
        assert max(w["invalid_rate"] for w in serving) > 0.2  # the NaN burst
        assert max(w["latency_p99_ms"] for w in serving) > 250  # the spike
        assert min(w["latency_p99_ms"] for w in serving) < 100
        assert [v["version"] for v in page["versions"]] == ["1.0.0", "1.1.0"]
        assert any(w["accuracy"] is not None for w in page["performance"]["windows"])
        estimated = page["performance"]["estimated"]  # from the score, before labels arrive
        assert estimated["note"] is None and estimated["windows"]
        assert all(0.5 < w["estimated_accuracy"] <= 1 for w in estimated["windows"])
        channel = client.get(f"/models/{MODEL}/features/channel.json", params={"range": "1h"})
        new = channel.json()["quality"]["column"]["new_categories"]
        # 25 % of the hour's last 15 minutes: about 6 % of its ~2,500 events (a Poisson count),
        # so the bound only tells its absence from its presence.
        assert new["values"] == ["partner_api"] and new["share"] > 0.03
        (fraud,) = client.get("/environments.json", params={"range": "1h"}).json()["models"]
        by_environment = {e["environment"]: e for e in fraud["environments"]}
        a, b = by_environment[demo.environments["a"]], by_environment[demo.environments["b"]]
        assert (a["name"], b["name"]) == ("replica-a", "replica-b")  # Monitor(environment=...)
        assert a["latency_p99_ms"] > 2 * b["latency_p99_ms"]  # replica a stalled
        assert b["class_shares"]["fraud"] > a["class_shares"]["fraud"]  # b scores differently
        alerts = client.get("/alerts.json").json()
        assert alerts["firing"] == 6
        invalid = next(x for x in alerts["alerts"] if x["rule"] == "invalid-outputs")
        slices = invalid["alert"]["context"]["worst_slices"]
        assert slices and slices[0]["description"] == "merchant_risk = (missing)"  # the cause
        invalid_events = client.get(
            "/events.json", params={"model": MODEL, "status": "invalid"}
        ).json()
        assert invalid_events["events"] and all(
            e["status"] == "invalid" for e in invalid_events["events"]
        )
        (report,) = client.get("/reports.json").json()["reports"]
        assert report["title"].startswith(MODEL) and report["has_json"]
        document = client.get(f"/reports/{report['id']}.json").json()["document"]
        assert document["drift"]["columns"]["amount"]["drift"] is True


# --------------------------------------------------------------------------------------------
# The command on its own: its own server, and bad input
# --------------------------------------------------------------------------------------------


def test_the_command_starts_its_own_collector(tmp_path: Path) -> None:
    db, port = tmp_path / "demo.duckdb", free_port()
    args = [sys.executable, "-m", "telltale.cli.main", "demo", "--quick", "--db", str(db)]
    args += ["--port", str(port), "--minutes", "60", "--speed", "3600"]
    done = subprocess.run(
        args, capture_output=True, text=True, timeout=240, env=_demo_env(), check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert f"dashboard: http://127.0.0.1:{port}/" in done.stdout
    secret = re.search(r"^read-only key: (tt_\S+)$", done.stdout, re.M)
    assert secret is not None
    assert re.search(r"^alerts firing now: [1-9]", done.stdout, re.M), done.stdout
    connection = duckdb.connect(str(db))  # the server has stopped: the file is free
    try:
        key = KeyStore(connection).verify(secret[1])
        assert (key.project, key.scope) == ("demo", "read")
        (events,) = connection.execute("SELECT sum(events) FROM tt_models").fetchone() or (0,)
    finally:
        connection.close()
    assert events > 1000
    again = subprocess.run(args, capture_output=True, text=True, timeout=60, env=_demo_env())
    assert again.returncode == 1
    assert again.stderr.strip().splitlines() == [
        f"error: {db} already exists (a previous demo?); pass --fresh to replace it, "
        "or --db another.duckdb"
    ]


@pytest.mark.parametrize(
    ("argv", "fix"),
    [
        (["--minutes", "10"], "--minutes 180"),
        (["--minutes", "many"], "--minutes 180"),
        (["--speed", "0"], "--speed 3600"),
        (["--port", "http"], "--port 8765"),
        (["--port", "70000"], "--port 8765"),
        (["--seed", "-1"], "--seed 0"),
        (["--server", "localhost:8765"], "--server http://127.0.0.1:8765"),
        (["--server", "http://127.0.0.1:9"], "--admin-key KEY"),
        (["--admin-key", "tt_x"], "--server URL"),
    ],
)
def test_bad_options_get_one_line_naming_the_fix(
    argv: list[str], fix: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    from telltale.cli.main import main

    with pytest.raises(SystemExit) as exit_info:
        main(["demo", "--db", str(tmp_path / "unused.duckdb"), *argv])
    assert exit_info.value.code == 1
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and fix in lines[0], lines
    assert not (tmp_path / "unused.duckdb").exists()
