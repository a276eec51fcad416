"""Helpers shared by the end-to-end tests (the fixtures are in conftest.py)."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from _collector import Running, ThreadServer, make_keys

from telltale.sdk import Monitor
from telltale.server import ServerSettings
from telltale.store.events import EventStore


@contextlib.contextmanager
def serving(db: Path, port: int = 0, keys: dict[str, str] | None = None) -> Iterator[Running]:
    """A collector on ``db`` served by uvicorn in this process until the block ends; then the
    file is closed and can be opened by :func:`stored`. Without ``keys``, makes keys for the
    projects fraud and other (``running.keys["fraud:ingest"]`` ...)."""
    keys = keys if keys is not None else make_keys(db)
    with ThreadServer(ServerSettings(db=str(db), port=port)) as server:
        yield Running(f"http://127.0.0.1:{server.port}", db, keys, server.app)


def new_monitor(made: list[Monitor], **options: Any) -> Monitor:
    """A monitor for model fraud 1.4.0 without resource sampling, closed by the fixture."""
    options.setdefault("model", "fraud")
    options.setdefault("version", "1.4.0")
    options.setdefault("resource_interval", None)
    monitor = Monitor(**options)
    made.append(monitor)
    return monitor


def wait_for(condition: Callable[[], Any], timeout: float, what: str, poll: float = 0.05) -> Any:
    """Poll ``condition`` until it returns something true; fail naming ``what`` at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(poll)


def stored(
    db: Path, sql_columns: str, project: str = "fraud", model: str = "fraud"
) -> list[tuple[Any, ...]]:
    """Rows of the model's events table, read from the DuckDB file (the server must be stopped)."""
    store = EventStore(str(db), read_only=True)
    try:
        table = store.model_table(project, model).table_name
        cursor = store.cursor()
        try:
            return [
                tuple(row)
                for row in cursor.execute(f"SELECT {sql_columns} FROM {table}").fetchall()
            ]
        finally:
            cursor.close()
    finally:
        store.close()


def stored_ids(db: Path, project: str = "fraud", model: str = "fraud") -> list[str]:
    """Every stored event id of the model, duplicates included (there should be none)."""
    return [row[0] for row in stored(db, "CAST(event_id AS VARCHAR)", project, model)]
