"""History queries over a week of 10M events: hourly serving and performance windows, 1-day drift.

    .venv/bin/python benchmarks/query_windows.py [--events 10000000] [--runs 30]

The store file is generated once into bench-data/ (through ``EventStore.write`` in large
batches, so the rollups are the ones ingest maintains) and reused; --rebuild makes it again.
One model ("fraud": 20 features, two versions, two regions, two environments, labels for 30% of
its events) holds --events events over 7 days; another model of the same project and a model of
another project add 1.5M more. Prints p50/p95 over --runs runs (target: p95 <= 300 ms).
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from telltale.analysis.profiling import profile_table
from telltale.analysis.windows import performance_windows, serving_windows, window_drift
from telltale.schema.wire import EventBatch, label_columns
from telltale.store.events import EventStore

DATA = Path(__file__).resolve().parent.parent / "bench-data"
START = datetime(2026, 11, 16, tzinfo=timezone.utc)
WEEK_US = 7 * 86_400 * 1_000_000
_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)


def uuids(rng: np.random.Generator, n: int) -> pa.Array:
    """n random UUID strings, made with numpy (Python's uuid4 would take minutes for 10M)."""
    raw = rng.integers(0, 256, size=(n, 16), dtype=np.uint8)
    nibbles = np.empty((n, 32), dtype=np.uint8)
    nibbles[:, 0::2], nibbles[:, 1::2] = _HEX[raw >> 4], _HEX[raw & 15]
    text = np.full((n, 36), ord("-"), dtype=np.uint8)
    for a, b, c in ((0, 8, 0), (9, 13, 8), (14, 18, 12), (19, 23, 16), (24, 36, 20)):
        text[:, a:b] = nibbles[:, c : c + b - a]
    return pa.array(text.view("S36").ravel()).cast(pa.string())


def _pick(
    rng: np.random.Generator, values: list[str], n: int, p: list[float] | None = None
) -> pa.Array:
    return pa.array(values).take(pa.array(rng.choice(len(values), n, p=p)))


def events_table(
    rng: np.random.Generator,
    n: int,
    model: str,
    t0_us: int,
    t1_us: int,
    n_features: int = 20,
    origin_us: int | None = None,
) -> pa.Table:
    """A canonical events table (as the wire decoder makes it) of n events in [t0, t1)."""
    ts = np.sort(rng.integers(t0_us, t1_us, n))
    day = (ts - (t0_us if origin_us is None else origin_us)) / 86_400e6
    version = np.where(rng.uniform(size=n) < np.clip((day - 3) / 2, 0, 1), 1, 0)
    regions = rng.integers(0, 2, n)
    segment = pa.MapArray.from_arrays(
        pa.array(np.arange(n + 1, dtype=np.int32)),
        pa.array(["region"]).take(pa.array(np.zeros(n, dtype=np.int64))),
        pa.array(["eu", "us"]).take(pa.array(regions)),
    )
    latency = rng.lognormal(1.0 + 0.3 * version, 0.7, n)
    columns: dict[str, Any] = {
        "event_id": uuids(rng, n),
        "ts": pa.array(ts, pa.timestamp("us", tz="UTC")),
        "model": pa.array([model]).take(pa.array(np.zeros(n, dtype=np.int64))),
        "version": pa.array(["1.0", "2.0"]).take(pa.array(version)),
        "environment_id": _pick(rng, ["cpu-a1", "gpu-b2"], n),
        "latency_ms": pa.array(latency),
        "status": _pick(
            rng,
            ["ok", "error", "invalid", "timeout", "fallback"],
            n,
            [0.95, 0.02, 0.015, 0.01, 0.005],
        ),
        "error": pa.nulls(n, pa.string()),
        "validation": pa.ListArray.from_arrays(
            pa.array(np.zeros(n + 1, dtype=np.int32)), pa.array([], pa.string())
        ),
        "trace_id": pa.nulls(n, pa.string()),
        "span_id": pa.nulls(n, pa.string()),
        "segment": segment,
        "batch_size": pa.array(np.ones(n, dtype=np.int32)),
    }
    numeric = n_features - 4
    for j in range(numeric):
        columns[f"input.x{j}"] = pa.array(rng.normal(j + 0.5 * day * (j == 0), 1.0, n))
    for j in range(4):
        columns[f"input.c{j}"] = _pick(rng, ["FR", "DE", "US", "GB", "IT"], n)
    columns["output.prediction"] = pa.array(rng.integers(0, 2, n))
    columns["output.score"] = pa.array(rng.uniform(size=n))
    return pa.table(columns)


def build(path: Path, n_events: int, *, seed: int = 0, chunk: int = 250_000) -> None:
    """Write the benchmark store: n_events for ("bench", "fraud") + 1.5M for other models."""
    rng = np.random.default_rng(seed)
    t0 = int(START.timestamp() * 1e6)
    started = time.perf_counter()
    path.parent.mkdir(parents=True, exist_ok=True)
    with EventStore(path) as store:
        plan = [
            ("bench", "fraud", n_events),
            ("bench", "churn", 1_000_000),
            ("other", "fraud", 500_000),
        ]
        for project, model, total in plan:
            steps = max(1, total // chunk)
            for k in range(steps):
                lo, hi = t0 + k * WEEK_US // steps, t0 + (k + 1) * WEEK_US // steps
                table = events_table(rng, total // steps, model, lo, hi, origin_us=t0)
                store.write([(project, EventBatch(table))])
                labelled = rng.uniform(size=table.num_rows) < 0.3
                labels = pa.table(
                    [
                        table.column("event_id").filter(labelled),
                        pa.nulls(int(labelled.sum()), pa.timestamp("us", tz="UTC")),
                        pa.array(rng.integers(0, 2, int(labelled.sum()))).cast(pa.string()),
                        pa.nulls(int(labelled.sum()), pa.float64()),
                    ],
                    schema=label_columns(),
                )
                store.write_labels(project, labels)
            print(
                f"  wrote {total:,} events of {project}/{model} ({time.perf_counter() - started:.0f} s)"
            )


def timed(fn: Any, runs: int) -> tuple[float, float, Any]:
    seconds = []
    result = None
    for _ in range(runs):
        t = time.perf_counter()
        result = fn()
        seconds.append(time.perf_counter() - t)
    seconds.sort()
    return (
        statistics.median(seconds),
        seconds[min(len(seconds) - 1, round(0.95 * (len(seconds) - 1)))],
        result,
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--rebuild", action="store_true")
    args = parser.parse_args()
    DATA.mkdir(exist_ok=True)
    path = DATA / f"store_{args.events}.duckdb"
    if args.rebuild or not path.exists():
        for stale in (path, path.with_name(path.name + ".wal")):
            stale.unlink(missing_ok=True)
        print(f"building {path.name} ...")
        build(path, args.events)
    t = time.perf_counter()
    store = EventStore(path)
    print(f"open (id indexes rebuilt): {time.perf_counter() - t:.2f} s")
    end = START + timedelta(days=7)
    cursor = store.cursor()
    rollups = {
        name: cursor.execute(f"SELECT count(*) FROM {name}").fetchone()[0]
        for name in (
            "tt_roll_serving",
            "tt_roll_latency",
            "tt_roll_latency_hour",
            "tt_roll_classes",
            "tt_roll_confusion",
        )
    }
    cursor.close()
    print("rollup rows: " + ", ".join(f"{k} {v:,}" for k, v in rollups.items()))

    def serving() -> Any:
        return serving_windows(store, "bench", "fraud", START, end, interval="hour")

    def performance() -> Any:
        return performance_windows(store, "bench", "fraud", START, end, interval="hour")

    def serving_filtered() -> Any:
        return serving_windows(
            store,
            "bench",
            "fraud",
            START,
            end,
            interval="hour",
            version="2.0",
            segment={"region": "eu"},
        )

    def serving_unaligned() -> Any:
        return serving_windows(
            store,
            "bench",
            "fraud",
            START + timedelta(minutes=7),
            end - timedelta(minutes=3),
            interval="hour",
        )

    for label, fn in (
        ("serving_windows hourly, 7 days", serving),
        ("performance_windows hourly, 7 days", performance),
        ("serving_windows hourly, version+segment filter", serving_filtered),
        ("serving_windows hourly, unaligned span", serving_unaligned),
    ):
        p50, p95, result = timed(fn, args.runs)
        events = sum(w.events for w in result.windows)
        print(
            f"{label:50s} p50 {p50 * 1000:6.1f} ms  p95 {p95 * 1000:6.1f} ms  ({len(result.windows)} windows, {events:,} events)"
        )
    t = time.perf_counter()
    day_one = store.events_relation("bench", "fraud", START, START + timedelta(days=1))
    features = [c for c in day_one.columns if c.startswith(("x", "c", "output."))]
    reference = profile_table(day_one, columns=features)
    print(f"reference profile of day 1: {time.perf_counter() - t:.2f} s")
    for _ in range(3):
        t = time.perf_counter()
        drift = window_drift(
            store, "bench", "fraud", reference, START + timedelta(days=5), START + timedelta(days=6)
        )
        print(
            f"window_drift 1 day ({drift.rows:,} rows, {drift.drift.n_columns} columns, {drift.drift.n_drifted} drifted): {time.perf_counter() - t:.2f} s"
        )
    store.close()


if __name__ == "__main__":
    main()
