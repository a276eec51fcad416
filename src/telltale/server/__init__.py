"""The collector server: ingest, history queries, ``/metrics``, API keys and the audit log.

Start it with ``telltale serve --db telltale.duckdb``, or from Python::

    import uvicorn
    from telltale.server import ServerSettings, create_app
    uvicorn.run(create_app(ServerSettings(db="telltale.duckdb")), port=8765)

The app (FastAPI, DuckDB) loads on first use, so the CLI can read the settings table cheaply.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from telltale.server.settings import SETTINGS, ServerSettings, Setting

if TYPE_CHECKING:
    from telltale.server.app import Collector, create_app

__all__ = ["SETTINGS", "Collector", "ServerSettings", "Setting", "create_app"]


def __getattr__(name: str) -> Any:
    if name in ("Collector", "create_app"):
        from telltale.server import app

        return getattr(app, name)
    raise AttributeError(f"module 'telltale.server' has no attribute {name!r}")
