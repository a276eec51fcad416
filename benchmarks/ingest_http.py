"""Sustained ingest over real HTTP: `telltale serve` in a child process, driven by client processes.

    .venv/bin/python benchmarks/ingest_http.py [--seconds 20] [--warmup 5] [--processes 3]
        [--connections 6] [--models 1] [--formats arrow,json]

For each wire format the benchmark makes a fresh DuckDB file and an ingest key (as
tests/server/_collector.py does), starts ``python -m telltale.cli.main serve --db ... --port ...
--log-level warning`` as a child process, and drives it from ``--processes`` client processes,
each with ``--connections`` threads holding one keep-alive ``http.client`` connection. Every
request carries 1,000 events of 20 features (16 numbers, 4 strings; as the SDK sends them).

Bodies are encoded before timing, so the client's encoding cost is excluded: each connection
has its own pre-encoded template body, and per request only the first 13 characters of each of
the 1,000 event ids are overwritten in place (a numpy fancy assignment, ~10 µs), which makes every
id unique across the run. The clients share the machine's two cores with the server; their
CPU is printed too.

Figures: events/s acknowledged during the ``--seconds`` after a ``--warmup``; p50/p99 latency of
those requests; the server process's CPU (cores busy) over the same interval. Then the server is
stopped (SIGTERM: it commits what is queued and closes the file), the file is reopened, and the
stored event count is compared with the total the server acknowledged (warm-up included).
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing as mp
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

sys.path.insert(0, str(Path(__file__).resolve().parent))
from query_windows import events_table

BATCH = 1_000
PREFIX = 13  # "xxxxxxxx-xxxx": the part of each event id patched per request
_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)


# ---- bodies ----------------------------------------------------------------------------------


def _template_table(seed: int, model: str) -> pa.Table:
    """1,000 events over the last minute, ids ``00000000-0000-4rrr-8rrr-rrrrrrrrrrrr``."""
    rng = np.random.default_rng(seed)
    now = int(time.time() * 1e6)
    table = events_table(rng, BATCH, model, now - 60_000_000, now)
    ids = [
        f"00000000-0000-4{seed % 4096:03x}-8{i >> 48 & 0xFFF:03x}-{i:012x}" for i in range(BATCH)
    ]
    return table.set_column(0, "event_id", pa.array(ids, pa.string()))


def _json_body(table: pa.Table) -> bytes:
    names = table.column_names
    columns = {name: table.column(name).to_pylist() for name in names}
    rows = []
    for i in range(table.num_rows):
        rows.append(
            {
                "event_id": columns["event_id"][i],
                "ts": columns["ts"][i].isoformat().replace("+00:00", "Z"),
                "model": columns["model"][i],
                "version": columns["version"][i],
                "environment_id": columns["environment_id"][i],
                "inputs": {n[6:]: columns[n][i] for n in names if n.startswith("input.")},
                "outputs": {n[7:]: columns[n][i] for n in names if n.startswith("output.")},
                "latency_ms": columns["latency_ms"][i],
                "status": columns["status"][i],
                "segment": dict(columns["segment"][i]),
            }
        )
    return json.dumps({"events": rows}).encode()


def _arrow_body(table: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return bytes(sink.getvalue().to_pybytes())


@dataclass
class Template:
    """A body and where its event ids' prefixes sit, so a request patches 13 kB in place."""

    body: bytearray
    where: np.ndarray  # indices of the prefix bytes, 1,000 x 13, flattened

    @classmethod
    def make(cls, fmt: str, seed: int, model: str) -> Template:
        table = _template_table(seed, model)
        raw = _arrow_body(table) if fmt == "arrow" else _json_body(table)
        starts = []
        for event_id in table.column("event_id").to_pylist():
            at = raw.find(event_id.encode())
            assert at >= 0 and raw.count(event_id.encode()) == 1, event_id
            starts.append(at)
        where = (np.array(starts)[:, None] + np.arange(PREFIX)[None, :]).ravel()
        return cls(bytearray(raw), where)

    def stamp(self, serial: int) -> bytearray:
        """Give every event of the body a fresh id prefix: 12 hex digits of ``serial``."""
        digits = _HEX[[(serial >> (4 * (11 - k))) & 15 for k in range(12)]]
        prefix = np.concatenate([digits[:8], [ord("-")], digits[8:]]).astype(np.uint8)
        view = np.frombuffer(self.body, dtype=np.uint8)
        view[self.where] = np.tile(prefix, BATCH)
        return self.body


# ---- clients ---------------------------------------------------------------------------------


CONTENT_TYPES = {"arrow": "application/vnd.apache.arrow.stream", "json": "application/json"}


def _connection_loop(
    port: int,
    key: str,
    fmt: str,
    template: Template,
    serial_base: int,
    start_at: float,
    stop_at: float,
    out: list[tuple[float, float, int, int]],
    errors: list[str],
) -> None:
    headers = {"Authorization": f"Bearer {key}", "Content-Type": CONTENT_TYPES[fmt]}
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    serial = serial_base
    while time.time() < start_at:
        time.sleep(0.001)
    while True:
        now = time.time()
        if now >= stop_at:
            break
        body = template.stamp(serial)
        serial += 1
        sent = time.perf_counter()
        try:
            conn.request("POST", "/v1/events", body=body, headers=headers)
            response = conn.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException) as error:
            errors.append(repr(error))
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
            continue
        done = time.perf_counter()
        if response.status != 200:
            errors.append(f"{response.status} {data[:300]!r}")
            continue
        answer = json.loads(data)
        out.append((time.time(), done - sent, answer["accepted"], answer["duplicates"]))
    conn.close()


def _client_process(
    index: int,
    port: int,
    key: str,
    fmt: str,
    connections: int,
    models: int,
    start_at: float,
    stop_at: float,
    results: Any,
) -> None:
    templates = [
        Template.make(fmt, seed=index * 64 + c, model=f"model-{(index * connections + c) % models}")
        for c in range(connections)
    ]
    out: list[tuple[float, float, int, int]] = []
    errors: list[str] = []
    cpu_start = time.process_time()
    threads = [
        threading.Thread(
            target=_connection_loop,
            args=(
                port,
                key,
                fmt,
                templates[c],
                ((index * 64 + c) << 32) + 1,
                start_at,
                stop_at,
                out,
                errors,
            ),
        )
        for c in range(connections)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    results.put((index, out, errors, time.process_time() - cpu_start))


# ---- the server ------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _make_key(db: Path) -> str:
    import duckdb

    from telltale.store.keys import KeyStore

    connection = duckdb.connect(str(db))
    _, secret = KeyStore(connection).create("bench", "ingest", name="ingest_http benchmark")
    connection.close()
    return secret


def _start_server(db: Path, port: int, extra: list[str]) -> subprocess.Popen[bytes]:
    args = [sys.executable, "-m", "telltale.cli.main", "serve", "--db", str(db)]
    args += ["--port", str(port), "--log-level", "warning", *extra]
    log = db.with_suffix(".log").open("ab")
    process = subprocess.Popen(args, env=dict(os.environ, PYTHONUNBUFFERED="1"), stderr=log)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(db.with_suffix(".log").read_text(errors="replace")[-2000:])
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return process
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("the server did not become healthy in 60 s")


def _cpu_seconds(pid: int) -> float:
    """User + system CPU of a process (and its threads), from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


def _stored(db: Path) -> tuple[int, int, int]:
    """Rows in the events tables, the catalog's event count and the rollup's event count."""
    from telltale.store.events import EventStore

    with EventStore(db, read_only=True) as store:
        cursor = store.cursor()
        rows = 0
        for model in store.models("bench"):
            table = store.model_table("bench", model["model"]).table_name
            rows += int(cursor.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
        catalog = sum(m["events"] for m in store.models("bench"))
        rollup = cursor.execute("SELECT coalesce(sum(events), 0) FROM tt_roll_serving").fetchone()
        cursor.close()
        return rows, catalog, int(rollup[0])


def run(fmt: str, args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "bench.duckdb"
        key = _make_key(db)
        port = _free_port()
        server = _start_server(db, port, args.server_arg or [])
        try:
            ctx = mp.get_context("spawn")
            results = ctx.Queue()
            begin = time.time() + 3.0 + 0.5 * args.processes  # time to build the templates
            measure_from = begin + args.warmup
            stop_at = measure_from + args.seconds
            clients = [
                ctx.Process(
                    target=_client_process,
                    args=(
                        i,
                        port,
                        key,
                        fmt,
                        args.connections,
                        args.models,
                        begin,
                        stop_at,
                        results,
                    ),
                )
                for i in range(args.processes)
            ]
            for client in clients:
                client.start()
            while time.time() < measure_from:
                time.sleep(0.001)
            cpu_from = _cpu_seconds(server.pid)
            wall_from = time.perf_counter()
            while time.time() < stop_at:
                time.sleep(0.001)
            cpu_used = _cpu_seconds(server.pid) - cpu_from
            wall = time.perf_counter() - wall_from
            gathered = [results.get(timeout=300) for _ in clients]
            for client in clients:
                client.join(60)
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(120)
        rows, catalog, rollup = _stored(db)
    samples = [s for _, out, _, _ in gathered for s in out]
    errors = [e for _, _, errs, _ in gathered for e in errs]
    window = [s for s in samples if measure_from <= s[0] < stop_at]
    accepted_window = sum(s[2] for s in window)
    latencies = sorted(s[1] for s in window)
    return {
        "format": fmt,
        "events_per_s": accepted_window / args.seconds,
        "requests": len(window),
        "p50_ms": 1000 * statistics.median(latencies) if latencies else float("nan"),
        "p99_ms": 1000 * latencies[int(0.99 * (len(latencies) - 1))] if latencies else float("nan"),
        "server_cores": cpu_used / wall,
        "client_cores": sum(c for *_, c in gathered) / (args.seconds + args.warmup),
        "acknowledged": sum(s[2] for s in samples),
        "duplicates": sum(s[3] for s in samples),
        "stored_rows": rows,
        "stored_catalog": catalog,
        "stored_rollup": rollup,
        "errors": errors,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--warmup", type=float, default=5.0)
    parser.add_argument("--processes", type=int, default=3)
    parser.add_argument("--connections", type=int, default=6, help="per client process")
    parser.add_argument("--models", type=int, default=1, help="connections spread over N models")
    parser.add_argument("--formats", default="arrow,json")
    parser.add_argument(
        "--server-arg", action="append", help="extra `telltale serve` argument (repeatable)"
    )
    args = parser.parse_args()
    print(
        f"ingest over HTTP: 1,000 events x 20 features per request; {args.processes} client "
        f"processes x {args.connections} keep-alive connections; {args.models} model(s); "
        f"{args.warmup:g} s warm-up, then {args.seconds:g} s measured; {os.cpu_count()} cores "
        f"shared by server and clients; started {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC"
    )
    print(
        "bodies pre-encoded before timing (client encoding cost excluded; per request only the "
        "13-character prefix of each event id is patched in place)"
    )
    verified = True
    for fmt in args.formats.split(","):
        r = run(fmt, args)
        ok = r["acknowledged"] == r["stored_rows"] == r["stored_catalog"] == r["stored_rollup"]
        verified &= ok and not r["errors"]
        print(
            f"  {fmt:5s} {r['events_per_s']:9,.0f} events/s  ({r['requests']:,} requests)  "
            f"latency p50 {r['p50_ms']:6.1f} ms  p99 {r['p99_ms']:6.1f} ms  "
            f"server CPU {r['server_cores']:.2f} cores  clients {r['client_cores']:.2f} cores"
        )
        print(
            f"        verify after restart: acknowledged {r['acknowledged']:,}, stored "
            f"{r['stored_rows']:,} rows (catalog {r['stored_catalog']:,}, rollup "
            f"{r['stored_rollup']:,}), duplicates {r['duplicates']:,}, errors {len(r['errors'])}"
            f" -> {'OK' if ok else 'MISMATCH'}"
        )
        for error in r["errors"][:5]:
            print(f"        error: {error}")
    if not verified:
        sys.exit(1)


if __name__ == "__main__":
    main()
