"""Events as a model service would send them, made reproducibly for the server tests."""

from __future__ import annotations

import gzip
import json
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any

import numpy as np
import pyarrow as pa

START = datetime(2026, 11, 16, tzinfo=timezone.utc)


def make_events(
    n: int,
    *,
    model: str = "fraud",
    version: str = "1.4.0",
    seed: int = 0,
    start: datetime = START,
    span: timedelta = timedelta(hours=6),
    n_features: int = 3,
) -> list[dict[str, Any]]:
    rng = np.random.default_rng(seed)
    offsets = np.sort(rng.uniform(0, span.total_seconds(), n))
    latency = rng.lognormal(0.0, 0.8, n)
    statuses = rng.choice(["ok", "ok", "ok", "ok", "error", "invalid", "timeout"], n)
    events = []
    for i in range(n):
        inputs: dict[str, Any] = {f"x{j}": float(rng.normal(j, 1)) for j in range(n_features)}
        inputs["country"] = str(rng.choice(["FR", "DE", "US"]))
        events.append(
            {
                "event_id": str(uuid.UUID(int=int(rng.integers(0, 2**63)) << 64 | i)),
                "ts": (start + timedelta(seconds=float(offsets[i]))).isoformat(),
                "model": model,
                "version": version,
                "inputs": inputs,
                "outputs": {"prediction": int(rng.integers(0, 2)), "score": float(rng.uniform())},
                "latency_ms": float(latency[i]),
                "status": str(statuses[i]),
                "error": "ValueError: bad" if statuses[i] == "error" else None,
                "segment": {"region": str(rng.choice(["eu", "us"]))},
            }
        )
    return events


def json_body(events: list[dict[str, Any]], **extra: Any) -> bytes:
    return json.dumps({"events": events, **extra}).encode()


def gzip_body(events: list[dict[str, Any]]) -> bytes:
    return gzip.compress(json_body(events))


def arrow_body(events: list[dict[str, Any]]) -> bytes:
    """The same events as the SDK's Arrow IPC stream (flattened columns)."""
    columns: dict[str, list[Any]] = {
        name: []
        for name in (
            "event_id",
            "ts",
            "model",
            "version",
            "latency_ms",
            "status",
            "error",
        )
    }
    features = sorted({k for e in events for k in e["inputs"]})
    outputs = sorted({k for e in events for k in e["outputs"]})
    for name in features:
        columns[f"input.{name}"] = []
    for name in outputs:
        columns[f"output.{name}"] = []
    for event in events:
        for name in ("event_id", "model", "version", "latency_ms", "status", "error"):
            columns[name].append(event.get(name))
        columns["ts"].append(datetime.fromisoformat(event["ts"]))
        for name in features:
            columns[f"input.{name}"].append(event["inputs"].get(name))
        for name in outputs:
            columns[f"output.{name}"].append(event["outputs"].get(name))
    table = pa.table(columns)
    table = table.set_column(
        table.schema.get_field_index("ts"), "ts", table.column("ts").cast(pa.timestamp("us", "UTC"))
    )
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return bytes(sink.getvalue().to_pybytes())
