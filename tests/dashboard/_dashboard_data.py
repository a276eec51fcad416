"""What the dashboard tests send to their collector and check against (the fixture that
builds it is in conftest.py; tests import from here, not from conftest, which is ambiguous
once another test directory's conftest is importable too)."""

from __future__ import annotations

import io
import sys
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

SERVER_TESTS = Path(__file__).resolve().parent.parent / "server"
if str(SERVER_TESTS) not in sys.path:
    sys.path.insert(0, str(SERVER_TESTS))

from _collector import Running, ThreadServer, make_keys  # noqa: E402, F401  (conftest's)

HOSTILE_MODEL = '<script>alert("model")</script>'
HOSTILE_FEATURE = "<img src=x onerror=alert(1)>"
HOSTILE_SEGMENT = "<b>bold</b>"

RULES = """
rules:
  - name: errors
    model: fraud
    metric: error_rate
    window: 10m
    comparison: ">"
    thresholds: {warning: 0.1, critical: 0.3}
    description: "Errors <em>spiking</em> & more"
  - name: slow
    model: fraud
    metric: latency_p99_ms
    window: 10m
    comparison: ">"
    thresholds: {warning: 1, critical: 100000}
"""


@dataclass
class Data:
    running: Running
    now: datetime
    sent: list[dict[str, Any]] = field(default_factory=list)
    labelled: dict[str, int] = field(default_factory=dict)
    environments: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return self.running.url

    def client(self, key: str | None = "fraud:read", **kwargs: Any) -> Any:
        return self.running.client(key, **kwargs)

    def fraud(self) -> list[dict[str, Any]]:
        return [e for e in self.sent if e["model"] == "fraud"]


def _events(now: datetime, rng: np.random.Generator) -> list[dict[str, Any]]:
    """fraud (two versions, two environments) over the last 6 hours, errors and invalid
    outputs throughout and an error burst in the last 10 minutes; x0 drifts in the last 2
    hours; plus a model with a hostile name, feature and segment."""
    events = []
    n = 2400
    offsets = np.sort(rng.uniform(60, 6 * 3600, n))[::-1]  # seconds before now
    for i, back in enumerate(offsets):
        ts = now - timedelta(seconds=float(back))
        recent = back < 600
        status = (
            rng.choice(["error", "ok"], p=[0.5, 0.5])
            if recent
            else rng.choice(["ok"] * 16 + ["error", "invalid", "timeout"])
        )
        version = "1.5.0" if i % 3 == 0 else "1.4.0"
        shift = 2.0 if back < 2 * 3600 else 0.0
        x0 = float(rng.normal(shift, 1))
        score = float(rng.uniform())
        events.append(
            {
                "event_id": str(uuid.UUID(int=int(rng.integers(0, 2**62)) << 64 | i)),
                "ts": ts.isoformat(),
                "model": "fraud",
                "version": version,
                "environment_id": "env-a" if i % 2 else "env-b",
                "inputs": {
                    "x0": x0,
                    "x1": float(rng.normal(1, 1)),
                    "country": str(rng.choice(["FR", "DE", "US"])),
                },
                "outputs": {"prediction": int(score > 0.5), "score": score},
                "latency_ms": float(rng.lognormal(1.0, 0.5)) * (3 if version == "1.5.0" else 1),
                "status": str(status),
                "error": "ValueError: bad input" if status == "error" else None,
                "validation": ["score: out of range"] if status == "invalid" else [],
                "trace_id": uuid.UUID(int=i + 1).hex,
                "segment": {"region": "eu" if i % 4 else "us"},
            }
        )
    for i in range(40):
        events.append(
            {
                "event_id": str(uuid.uuid4()),
                "ts": (now - timedelta(minutes=5 + i)).isoformat(),
                "model": HOSTILE_MODEL,
                "version": "<i>v1</i>",
                "inputs": {HOSTILE_FEATURE: float(i), "plain": "<svg onload=alert(2)>"},
                "outputs": {"prediction": "<u>yes</u>" if i % 2 else "no"},
                "latency_ms": 2.0,
                "status": "invalid" if i % 5 == 0 else "ok",
                "validation": ["<script>bad()</script>"] if i % 5 == 0 else [],
                "segment": {"team": HOSTILE_SEGMENT},
            }
        )
    return events


def _reference_parquet(rng: np.random.Generator) -> bytes:
    table = pa.table(
        {
            "x0": rng.normal(0, 1, 3000),
            "x1": rng.normal(1, 1, 3000),
            "country": rng.choice(["FR", "DE", "US"], 3000),
        }
    )
    sink = io.BytesIO()
    pq.write_table(table, sink)
    return sink.getvalue()


def _send(data: Data, rng: np.random.Generator) -> None:
    environments = [
        {
            "environment_id": env,
            "python": "3.11.9" if env == "env-a" else "3.12.3",
            "platform": "Linux-6.1-x86_64",
            "cpu": "x86_64",
            "gpu": "",
            "packages": {"numpy": "2.1.0" if env == "env-a" else "1.26.4", "torch": "2.4.0"},
        }
        for env in ("env-a", "env-b")
    ]
    resources = [
        {
            "ts": (data.now - timedelta(minutes=5 * k)).isoformat(),
            "instance": "pod-1",
            "cpu_percent": 20.0 + k,
            "rss_mb": 500.0 + 3 * k,
        }
        for k in range(1, 60)
    ]
    with data.client("fraud:ingest") as ingest:
        for start in range(0, len(data.sent), 800):
            body: dict[str, Any] = {"events": data.sent[start : start + 800]}
            if start == 0:
                body["environments"] = environments
                body["resources"] = resources
            answer = ingest.post("/v1/events", json=body)
            assert answer.status_code == 200, answer.text
        fraud = data.fraud()
        labels = []
        for event in fraud[::2]:
            truth = (
                event["outputs"]["prediction"]
                if rng.uniform() < 0.8
                else 1 - event["outputs"]["prediction"]
            )
            labels.append({"event_id": event["event_id"], "label": int(truth)})
            data.labelled[event["event_id"]] = int(truth)
        answer = ingest.post("/v1/labels", json={"labels": labels})
        assert answer.status_code == 200, answer.text
    data.environments = ["env-a", "env-b"]
    with data.client("fraud:admin") as admin:
        answer = admin.put(
            "/v1/models/fraud/references/default",
            content=_reference_parquet(rng),
            headers={"Content-Type": "application/vnd.apache.parquet"},
        )
        assert answer.status_code == 201, answer.text
        answer = admin.put(
            "/v1/alerts/rules", content=RULES, headers={"Content-Type": "application/yaml"}
        )
        assert answer.status_code == 200 and not answer.json()["errors"], answer.text
