"""The demo's tests use the collector helpers of tests/server (a uvicorn server in a thread);
tests/ has no packages, so that folder is put on the import path here."""

from __future__ import annotations

import sys
from pathlib import Path

SERVER_TESTS = Path(__file__).resolve().parent.parent / "server"
if str(SERVER_TESTS) not in sys.path:
    sys.path.insert(0, str(SERVER_TESTS))
