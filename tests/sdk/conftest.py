"""Fixtures for the SDK tests: a real loopback receiver speaking docs/protocol.md, and monitors
that are always closed."""

from __future__ import annotations

import contextlib
import gzip
import json
import os
import shutil
import subprocess
import threading
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from telltale.sdk import ManualClock, MemorySink, Monitor


@dataclass
class Received:
    """One request the receiver decoded."""

    path: str
    headers: dict[str, str]
    body: dict[str, Any] | None = None  # JSON bodies
    table: pa.Table | None = None  # Arrow bodies

    @property
    def events(self) -> list[dict[str, Any]]:
        if self.table is not None:
            return self.table.to_pylist()
        return list((self.body or {}).get("events", []))

    @property
    def metadata(self) -> dict[str, Any]:
        if self.table is not None:
            raw = self.table.schema.metadata or {}
            return {key.decode(): json.loads(value) for key, value in raw.items()}
        body = self.body or {}
        return {
            "telltale.environments": body.get("environments"),
            "telltale.resources": body.get("resources"),
            "telltale.client": body.get("client"),
        }


@dataclass
class Receiver:
    """A telltale-shaped HTTP server on 127.0.0.1 that records what it is sent.

    ``script`` holds what to answer next: an HTTP status (200 by default) or ``"close"`` (drop the
    connection without answering). It can be stopped and started again on the same port.
    """

    received: list[Received] = field(default_factory=list)
    attempts: int = 0
    script: deque[int | str] = field(default_factory=deque)
    retry_after: str | None = None
    port: int = 0
    _server: ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, like the real server

            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with receiver._lock:
                    receiver.attempts += 1
                    action = receiver.script.popleft() if receiver.script else 200
                if action == "close":
                    self.close_connection = True
                    return
                status = int(action)
                if status == 200:
                    receiver._record(self.path, dict(self.headers.items()), body)
                answer = json.dumps({"accepted": 1} if status == 200 else {"error": {}}).encode()
                self.send_response(status)
                if receiver.retry_after is not None:
                    self.send_header("Retry-After", receiver.retry_after)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def _record(self, path: str, headers: dict[str, str], body: bytes) -> None:
        lowered = {key.lower(): value for key, value in headers.items()}
        if lowered.get("content-encoding") == "gzip":
            body = gzip.decompress(body)
        kind = lowered.get("content-type", "")
        if kind == "application/vnd.apache.arrow.stream":
            item = Received(path, lowered, table=pa.ipc.open_stream(body).read_all())
        else:
            assert kind == "application/json", kind
            item = Received(path, lowered, body=json.loads(body))
        with self._lock:
            self.received.append(item)

    def events(self) -> list[dict[str, Any]]:
        return [
            event for item in self.received if item.path == "/v1/events" for event in item.events
        ]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(wall=1_800_000_000.0)


MonitorFactory = Callable[..., Monitor]


@pytest.fixture
def make_monitor(clock: ManualClock) -> Iterator[MonitorFactory]:
    """Monitors on a manual clock, without resource sampling unless asked; closed afterwards."""
    made: list[Monitor] = []

    def make(**options: Any) -> Monitor:
        options.setdefault("model", "fraud")
        options.setdefault("version", "1.4.0")
        options.setdefault("clock", clock)
        options.setdefault("resource_interval", None)
        if not {"sink", "endpoint", "directory"} & options.keys():
            options["sink"] = MemorySink()
        monitor = Monitor(**options)
        made.append(monitor)
        return monitor

    yield make
    for monitor in made:
        monitor.close(timeout=5)


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    """A 64 KiB tmpfs when this process may mount one (root on Linux); else a directory that
    turns into a file after the sink is made — both make every write fail."""
    mount_point = tmp_path / "tiny"
    mount_point.mkdir()
    mounted = False
    if hasattr(os, "geteuid") and os.geteuid() == 0 and shutil.which("mount"):
        result = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount_point)],
            capture_output=True,
        )
        mounted = result.returncode == 0
    if mounted:
        (mount_point / "filler").write_bytes(b"\0" * 60 * 1024)
        with contextlib.suppress(OSError), open(mount_point / "rest", "wb") as handle:
            while True:  # fill the rest
                handle.write(b"\0" * 1024)
                handle.flush()
    yield mount_point
    if mounted:
        done = subprocess.run(["umount", str(mount_point)], capture_output=True, text=True)
        if done.returncode:  # still busy: detach it now, the kernel frees it when unused
            subprocess.run(["umount", "-l", str(mount_point)], check=False)
        assert not os.path.ismount(mount_point), done.stderr
