"""A real collector on loopback: uvicorn in a thread, or `telltale serve` in a child process."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import httpx
import uvicorn

from telltale.server import ServerSettings, create_app
from telltale.store.keys import KeyStore


@dataclass
class Running:
    url: str
    db: Path
    keys: dict[str, str] = field(default_factory=dict)  # "<project>:<scope>" → secret
    app: Any = None  # the ASGI app, when served in this process

    def client(self, key: str | None = "fraud:admin", **kwargs: Any) -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.keys[key]}"} if key else {}
        headers.update(kwargs.pop("headers", {}))
        return httpx.Client(base_url=self.url, headers=headers, timeout=30, **kwargs)


def make_keys(db: Path, projects: tuple[str, ...] = ("fraud", "other")) -> dict[str, str]:
    connection = duckdb.connect(str(db))
    store = KeyStore(connection)
    keys = {
        f"{project}:{scope}": store.create(project, scope)[1]
        for project in projects
        for scope in ("ingest", "read", "admin")
    }
    connection.close()
    return keys


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ThreadServer:
    """uvicorn serving the app on a socket bound here, in a background thread."""

    def __init__(self, settings: ServerSettings) -> None:
        self.socket = socket.socket()
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.socket.bind(("127.0.0.1", settings.port))
        self.port = int(self.socket.getsockname()[1])
        self.app = create_app(settings)
        config = uvicorn.Config(self.app, log_level="warning", lifespan="on")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.socket]})

    def __enter__(self) -> ThreadServer:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the collector did not start")
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.should_exit = True
        self.thread.join(30)
        self.socket.close()


class ChildServer:
    """`telltale serve` in its own process, so a test can kill -9 it."""

    def __init__(self, db: Path, port: int, **settings: Any) -> None:
        self.db, self.port = db, port
        self.args = [sys.executable, "-m", "telltale.cli.main", "serve", "--db", str(db)]
        self.args += ["--port", str(port), "--log-level", "warning"]
        for name, value in settings.items():
            self.args += ["--" + name.replace("_", "-"), str(value)]
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> ChildServer:
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        log = self.db.with_suffix(".log")
        with log.open("ab") as stderr:  # the child keeps its own copy of the descriptor
            self.process = subprocess.Popen(self.args, env=env, stderr=stderr)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited: {log.read_text(errors='replace')[-2000:]}")
            try:
                if httpx.get(f"http://127.0.0.1:{self.port}/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.TransportError:
                time.sleep(0.05)
        raise RuntimeError("server did not become healthy in 60 s")

    def kill(self) -> None:
        assert self.process is not None
        self.process.kill()
        self.process.wait(30)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(30)
