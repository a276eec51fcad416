"""The per-batch Prometheus deltas: the one-model fast path agrees with the grouped path and
with numpy counts of the raw events (exact counts, sums to 1e-9 relative)."""

from __future__ import annotations

import itertools
import uuid

import numpy as np
import pyarrow as pa

from telltale.schema.wire import STATUSES, decode_events_json
from telltale.server.metrics import LATENCY_BUCKETS_SECONDS, BatchDelta


def _batch(model_of: list[str], seed: int) -> pa.Table:
    rng = np.random.default_rng(seed)
    n = len(model_of)
    latency = rng.lognormal(1.5, 1.5, n)
    events = [
        {
            "event_id": str(uuid.UUID(int=seed << 32 | i)),
            "ts": "2026-11-22T10:00:00Z",
            "model": model_of[i],
            "version": "2",
            "status": STATUSES[i % len(STATUSES)] if i % 7 else "ok",
            "latency_ms": None if i % 11 == 0 else float(latency[i]),
        }
        for i in range(n)
    ]
    return decode_events_json({"events": events}).events


def _expected(table: pa.Table, model: str) -> tuple[dict[str, int], np.ndarray, float]:
    rows = [r for r in table.to_pylist() if r["model"] == model]
    statuses = {s: sum(r["status"] == s for r in rows) for s in STATUSES}
    seconds = np.array([r["latency_ms"] / 1000 for r in rows if r["latency_ms"] is not None])
    edges = np.asarray(LATENCY_BUCKETS_SECONDS)
    counts = np.array(
        [(seconds <= edges[0]).sum()]
        + [((seconds > lo) & (seconds <= hi)).sum() for lo, hi in itertools.pairwise(edges)]
        + [(seconds > edges[-1]).sum()]
    )
    return {s: c for s, c in statuses.items() if c}, counts, float(seconds.sum())


def test_one_model_and_many_models_agree_with_numpy() -> None:
    one = _batch(["a"] * 500, 1)
    mixed = _batch(["a" if i % 3 else "b" for i in range(600)], 2)
    for table, models in ((one, ["a"]), (mixed, ["a", "b"])):
        delta = BatchDelta.from_events(table, {})
        for model in models:
            statuses, counts, total = _expected(table, model)
            got = {s: c for (m, v, s), c in delta.events.items() if m == model and v == "2"}
            assert got == statuses
            got_counts, got_total = delta.latency[(model, "2")]
            assert np.array_equal(got_counts, counts)
            assert np.isclose(got_total, total, rtol=1e-9)


def test_client_dropped_count_is_kept_only_when_well_formed() -> None:
    table = _batch(["a"] * 3, 3)
    assert BatchDelta.from_events(table, {"instance": "i-1", "dropped": 4}).dropped == {"i-1": 4}
    assert BatchDelta.from_events(table, {"instance": "i-1", "dropped": -1}).dropped == {}
    assert BatchDelta.from_events(table, {"instance": 5, "dropped": 4}).dropped == {}
