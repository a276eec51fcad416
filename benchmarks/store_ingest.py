"""Ingest: decoder cost per event, events/s into EventStore.write with group commit, and the cost
of idempotency at 10M stored events.

    .venv/bin/python benchmarks/store_ingest.py [--events 10000000] [--skip-alternatives]

Batches are 1,000 events of 20 features (16 numbers, 4 strings), as the SDK sends them. The 10M
store is the one benchmarks/query_windows.py builds in bench-data/ (built here if missing); it is
copied before writing, so the query benchmark's data stay as they were.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa

sys.path.insert(0, str(Path(__file__).resolve().parent))
from query_windows import DATA, START, build, events_table

from telltale.schema import wire
from telltale.schema.wire import decode_events_arrow, decode_events_json
from telltale.store.events import EventStore

BATCH = 1_000


def bodies(n_batches: int, seed: int) -> tuple[list[bytes], list[bytes]]:
    """JSON and Arrow bodies of n_batches batches (the same events in both encodings)."""
    rng = np.random.default_rng(seed)
    t0 = int(START.timestamp() * 1e6) + 8 * 86_400_000_000  # after the benchmark week
    json_bodies, arrow_bodies = [], []
    for k in range(n_batches):
        table = events_table(rng, BATCH, "fraud", t0 + k * 60_000_000, t0 + (k + 1) * 60_000_000)
        rows = []
        names = table.column_names
        columns = {name: table.column(name).to_pylist() for name in names}
        for i in range(BATCH):
            rows.append(
                {
                    "event_id": columns["event_id"][i],
                    "ts": columns["ts"][i].isoformat().replace("+00:00", "Z"),
                    "model": "fraud",
                    "version": columns["version"][i],
                    "environment_id": columns["environment_id"][i],
                    "inputs": {n[6:]: columns[n][i] for n in names if n.startswith("input.")},
                    "outputs": {n[7:]: columns[n][i] for n in names if n.startswith("output.")},
                    "latency_ms": columns["latency_ms"][i],
                    "status": columns["status"][i],
                    "segment": dict(columns["segment"][i]),
                }
            )
        json_bodies.append(json.dumps({"events": rows}).encode())
        sink = pa.BufferOutputStream()
        with pa.ipc.new_stream(sink, table.schema) as writer:
            writer.write_table(table)
        arrow_bodies.append(sink.getvalue().to_pybytes())
    return json_bodies, arrow_bodies


def per_event_us(fn: Any, items: list[Any], repeat: int = 3) -> float:
    best = []
    for _ in range(repeat):
        t = time.perf_counter()
        for item in items:
            fn(item)
        best.append(time.perf_counter() - t)
    return min(best) / (len(items) * BATCH) * 1e6


def decoders(json_bodies: list[bytes], arrow_bodies: list[bytes]) -> None:
    print("decoder, 1,000 events x 20 features per batch (best of 3, µs/event):")
    print(f"  json.loads alone                  {per_event_us(json.loads, json_bodies):6.1f}")
    print(
        f"  decode_events_json (pyarrow path) {per_event_us(decode_events_json, json_bodies):6.1f}"
    )
    reference = lambda b: wire._events_from_objects(json.loads(b))  # noqa: E731
    print(f"  reference Python decoder          {per_event_us(reference, json_bodies[:5], 1):6.1f}")
    print(
        f"  decode_events_arrow               {per_event_us(decode_events_arrow, arrow_bodies):6.1f}"
    )


def ingest(json_bodies: list[bytes], arrow_bodies: list[bytes]) -> None:
    print("\ningest into a fresh store (decode + write; one thread):")
    for group in (1, 5, 20):
        for kind, items, decode in (
            ("json", json_bodies, decode_events_json),
            ("arrow", arrow_bodies, decode_events_arrow),
        ):
            with tempfile.TemporaryDirectory() as tmp, EventStore(Path(tmp) / "s.duckdb") as store:
                store.write([("bench", decode(items[0]))])  # create the table and columns
                statements, commits = [], []
                t = time.perf_counter()
                n = 0
                for k in range(1, len(items) - group + 1, group):
                    store.write([("bench", decode(b)) for b in items[k : k + group]])
                    statements.append(store.last_timing["statements_s"])
                    commits.append(store.last_timing["commit_s"])
                    n += group * BATCH
                elapsed = time.perf_counter() - t
                print(
                    f"  {kind:5s} group of {group:2d} batches: {n / elapsed:9,.0f} events/s; per "
                    f"transaction: statements {statistics.median(statements) * 1000:6.1f} ms, "
                    f"commit {statistics.median(commits) * 1000:5.1f} ms"
                )


def statement_vs_commit() -> None:
    print("\nDuckDB alone, 100-row Arrow inserts into a 25-column table:")
    with tempfile.TemporaryDirectory() as tmp:
        con = duckdb.connect(str(Path(tmp) / "raw.duckdb"))
        con.register(
            "batch100",
            pa.table({f"c{j}": np.random.default_rng(j).normal(size=100) for j in range(25)}),
        )
        con.execute("CREATE TABLE t AS SELECT * FROM batch100 WHERE false")
        t = time.perf_counter()
        for _ in range(100):
            con.execute("INSERT INTO t SELECT * FROM batch100")
        each = (time.perf_counter() - t) / 100
        con.execute("BEGIN")
        t = time.perf_counter()
        for _ in range(100):
            con.execute("INSERT INTO t SELECT * FROM batch100")
        statement = (time.perf_counter() - t) / 100
        t = time.perf_counter()
        con.execute("COMMIT")
        commit = time.perf_counter() - t
        print(
            f"  autocommit insert {each * 1000:.2f} ms each; inside one transaction {statement * 1000:.2f} ms per insert + {commit * 1000:.2f} ms for the commit"
        )
        con.close()


def idempotency(n_events: int, alternatives: bool) -> None:
    source = DATA / f"store_{n_events}.duckdb"
    if not source.exists():
        print(f"\nbuilding {source.name} (as benchmarks/query_windows.py does) ...")
        build(source, n_events)
    copy = DATA / f"ingest_{n_events}.duckdb"
    shutil.copy(source, copy)
    print(f"\nidempotency at {n_events:,} stored events of one model:")
    try:
        t = time.perf_counter()
        store = EventStore(copy)
        print(
            f"  open, rebuilding the in-memory id index of every table: {time.perf_counter() - t:.2f} s"
        )
        _, arrow_bodies = bodies(20, seed=99)
        batches = [decode_events_arrow(b) for b in arrow_bodies]
        for label, group in (
            ("10 new batches (10k events)", batches[:10]),
            ("the same 10 again (all duplicates)", batches[:10]),
            ("5 resent + 5 new", batches[5:15]),
        ):
            t = time.perf_counter()
            results = store.write([("bench", b) for b in group])
            print(
                f"  write {label:38s} {(time.perf_counter() - t) * 1000:7.1f} ms "
                f"(accepted {sum(r.accepted for r in results):,}, duplicates {sum(r.duplicates for r in results):,})"
            )
        table = store.model_table("bench", "fraud").table_name
        store.close()
        if alternatives:
            _alternatives(copy, table, batches[15:])
    finally:
        copy.unlink(missing_ok=True)
        copy.with_name(copy.name + ".wal").unlink(missing_ok=True)


def _alternatives(path: Path, table: str, fresh: list[Any]) -> None:
    print(
        "  the alternatives, on the same ids (10k-row batch: 5k stored from the last hour + 5k new):"
    )
    con = duckdb.connect(str(path))
    recent = con.sql(
        f"SELECT CAST(event_id AS VARCHAR) AS event_id, ts FROM {table} ORDER BY ts DESC LIMIT 5000"
    ).to_arrow_table()
    old = con.sql(
        f"SELECT CAST(event_id AS VARCHAR) AS event_id, ts FROM {table} ORDER BY ts LIMIT 5000"
    ).to_arrow_table()
    new = pa.concat_tables([b.events.select(["event_id", "ts"]) for b in fresh]).slice(0, 5000)
    probes = {
        "recent": pa.concat_tables([recent, new.cast(recent.schema)]),
        "spanning old + new": pa.concat_tables([old, new.cast(recent.schema)]),
    }
    t = time.perf_counter()
    con.execute("CREATE TEMP TABLE pk (event_id UUID PRIMARY KEY, ts TIMESTAMPTZ)")
    con.execute(f"INSERT INTO pk SELECT event_id, ts FROM {table}")
    print(f"    building a PRIMARY KEY (ART) on the ids: {time.perf_counter() - t:.1f} s")
    for name, probe in probes.items():
        con.register("probe", probe)
        queries = {
            "semi-join, whole id column": f"SELECT count(*) FROM probe p SEMI JOIN {table} e ON e.event_id = CAST(p.event_id AS UUID)",
            "semi-join on the batch's time range": f"SELECT count(*) FROM probe p SEMI JOIN (SELECT event_id FROM {table} WHERE ts BETWEEN (SELECT min(ts) FROM probe) AND (SELECT max(ts) FROM probe)) e ON e.event_id = CAST(p.event_id AS UUID)",
            "INSERT OR IGNORE through the primary key": "INSERT OR IGNORE INTO pk SELECT CAST(event_id AS UUID), ts FROM probe",
        }
        for label, sql in queries.items():
            seconds = []
            for _ in range(5):
                con.execute("BEGIN")
                t = time.perf_counter()
                con.execute(sql).fetchall()
                seconds.append(time.perf_counter() - t)
                con.execute("ROLLBACK")
            print(
                f"    {name:19s} {label:42s} median {statistics.median(seconds) * 1000:7.1f} ms (first {seconds[0] * 1000:.0f} ms)"
            )
        con.unregister("probe")
    con.close()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--skip-alternatives", action="store_true")
    args = parser.parse_args()
    json_bodies, arrow_bodies = bodies(41, seed=1)
    decoders(json_bodies, arrow_bodies)
    ingest(json_bodies, arrow_bodies)
    statement_vs_commit()
    idempotency(args.events, not args.skip_alternatives)


if __name__ == "__main__":
    main()
