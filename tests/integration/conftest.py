"""End-to-end fixtures: the SDK talking to a real collector on loopback.

The collector helpers live in tests/server/_collector.py (uvicorn in a thread, or `telltale serve`
in a child process); tests/ has no packages, so that folder is put on the import path here, the
way pytest itself puts each test folder there.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

SERVER_TESTS = Path(__file__).resolve().parent.parent / "server"
if str(SERVER_TESTS) not in sys.path:
    sys.path.insert(0, str(SERVER_TESTS))

from _collector import ChildServer  # noqa: E402

from telltale.sdk import Monitor  # noqa: E402


@pytest.fixture
def monitors() -> Iterator[list[Monitor]]:
    """Monitors a test made (with :func:`_e2e.new_monitor`), closed afterwards."""
    made: list[Monitor] = []
    yield made
    for monitor in made:
        monitor.close(timeout=5)


@pytest.fixture
def children() -> Iterator[list[subprocess.Popen[bytes]]]:
    """Child processes a test started (servers, SDK processes); killed if still running."""
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait(30)


@pytest.fixture
def servers(children: list[subprocess.Popen[bytes]]) -> Iterator[list[ChildServer]]:
    """`telltale serve` children a test started; stopped (SIGTERM) afterwards."""
    started: list[ChildServer] = []
    yield started
    for server in started:
        server.stop()
