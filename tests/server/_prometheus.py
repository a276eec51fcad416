"""A real Prometheus (the Debian package) in a child process, for tests that scrape a collector."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from _collector import free_port

PROMETHEUS = shutil.which("prometheus")


def require_prometheus() -> pytest.MarkDecorator | None:
    """A skip mark when the binary is missing; a failure instead under TELLTALE_REQUIRE_SERVERS."""
    if PROMETHEUS is not None:
        return None
    if os.environ.get("TELLTALE_REQUIRE_SERVERS"):
        pytest.fail("prometheus is not installed; .ci/run installs it with apt-get", pytrace=False)
    return pytest.mark.skip(reason="prometheus not installed (apt-get install prometheus)")


class Prometheus:
    """``prometheus`` with ``config`` (YAML text), storing under ``workdir``, on a free port."""

    def __init__(self, config: str, workdir: Path) -> None:
        self.workdir = workdir
        self.config = workdir / "prometheus.yml"
        self.config.write_text(config, encoding="utf-8")
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = workdir / "prometheus.log"
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Prometheus:
        assert PROMETHEUS is not None
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                [
                    PROMETHEUS,
                    f"--config.file={self.config}",
                    f"--storage.tsdb.path={self.workdir / 'tsdb'}",
                    f"--web.listen-address=127.0.0.1:{self.port}",
                ],
                stdout=log,
                stderr=log,
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"prometheus exited: {self.tail()}")
            try:
                if httpx.get(f"{self.url}/-/ready", timeout=1).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"prometheus was not ready in 60 s: {self.tail()}")

    def __exit__(self, *exc: Any) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(30)

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-2000:]

    def api(self, path: str, **params: Any) -> dict[str, Any]:
        """The JSON answer of an HTTP API call, whatever its status (errors are 4xx JSON too)."""
        response = httpx.get(f"{self.url}/api/v1/{path}", params=params, timeout=10)
        return response.json()

    def query(self, expression: str) -> list[dict[str, Any]]:
        answer = self.api("query", query=expression)
        assert answer["status"] == "success", (expression, answer)
        return answer["data"]["result"]

    def wait_for(self, expression: str, timeout: float = 30) -> list[dict[str, Any]]:
        """The first non-empty result of ``expression`` (an empty list after ``timeout``)."""
        deadline = time.monotonic() + timeout
        while True:
            result = self.query(expression)
            if result or time.monotonic() > deadline:
                return result
            time.sleep(0.25)
