"""``telltale serve``, ``telltale keys`` and ``telltale audit``: run and administer the collector.

The ``serve`` options are made from the settings table (:data:`telltale.server.SETTINGS`), so the
CLI, the environment variables and the docs cannot disagree.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from telltale.errors import ConfigError

__all__ = ["register"]

_SCOPE_HELP = (
    "ingest: send events, labels, feedback (for model services); read: query history and "
    "/metrics (for dashboards, Prometheus); admin: read, plus manage keys and read the audit log."
)


def _serve_options(function: Any) -> Any:
    from telltale.server.settings import SETTINGS

    for setting in reversed(SETTINGS):
        function = click.option(
            setting.option,
            setting.name,
            default=None,
            help=f"{setting.help} [default: {setting.default}; env {setting.env}]",
        )(function)
    return function


@contextmanager
def _database(path: str, *, create: bool) -> Iterator[Any]:
    """The DuckDB file, opened for a short admin task; a clear error if the server holds it."""
    import duckdb

    if not create and not Path(path).exists():
        raise ConfigError(
            f"no telltale database at {path}; start one with `telltale serve --db {path}`"
        )
    try:
        connection = duckdb.connect(path)
    except duckdb.IOException as error:
        if "lock" in str(error).lower():
            raise ConfigError(
                f"{path} is held by a running telltale server (DuckDB allows one process per file); "
                "stop the server first, or ask it: POST /v1/keys and GET /v1/audit with an admin key"
            ) from None
        raise ConfigError(f"cannot open {path}: {error}") from None
    try:
        yield connection
    finally:
        connection.close()


def register(cli: click.Group) -> None:
    @cli.command("serve")
    @_serve_options
    def serve_command(**options: Any) -> None:
        """Run the collector: ingest, history queries, /metrics, on one DuckDB file.

        \b
        Examples:
          telltale keys create --db telltale.duckdb --project fraud --scope ingest
          telltale serve --db telltale.duckdb --host 127.0.0.1 --port 8765
          curl -H "Authorization: Bearer $KEY" http://127.0.0.1:8765/v1/models
        The API is described at http://HOST:PORT/docs. Stop with Ctrl-C: queued batches are
        committed before the server exits.
        """
        import uvicorn

        from telltale.server import ServerSettings, create_app

        settings = ServerSettings.from_mapping({k: v for k, v in options.items() if v is not None})
        app = create_app(settings)
        click.echo(
            f"telltale collector on http://{settings.host}:{settings.port} (db {settings.db}); "
            f"API at /docs",
            err=True,
        )
        uvicorn.run(
            app,
            host=settings.host,
            port=settings.port,
            log_level=settings.log_level,
            access_log=settings.log_level == "debug",
        )

    @cli.group("keys")
    def keys_group() -> None:
        """Make, list and revoke API keys (stored hashed in the DuckDB file).

        \b
        Example:
          telltale keys create --db telltale.duckdb --project fraud --scope ingest --name scorer
        """

    @keys_group.command("create")
    @click.option("--db", required=True, help="The telltale DuckDB file (made if missing).")
    @click.option("--project", required=True, help="The project the key belongs to (e.g. fraud).")
    @click.option(
        "--scope", required=True, type=click.Choice(["ingest", "read", "admin"]), help=_SCOPE_HELP
    )
    @click.option("--name", default="", help="What the key is for (shown in listings).")
    def keys_create(db: str, project: str, scope: str, name: str) -> None:
        """Make a key and print it once; it is stored only as a hash."""
        from telltale.store.keys import KeyStore

        with _database(db, create=True) as connection:
            key, secret = KeyStore(connection).create(project, scope, name=name)
        click.echo(secret)
        click.echo(
            f"key {key.key_id} for project {key.project!r}, scope {key.scope}: copy it now, "
            "it is not shown again",
            err=True,
        )

    @keys_group.command("list")
    @click.option("--db", required=True, help="The telltale DuckDB file.")
    @click.option("--project", default=None, help="Only this project's keys.")
    @click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
    def keys_list(db: str, project: str | None, as_json: bool) -> None:
        """List keys (never their secrets)."""
        import json

        from telltale.store.keys import KeyStore

        with _database(db, create=False) as connection:
            keys = KeyStore(connection).list(project)
        if as_json:
            click.echo(json.dumps([k.to_dict() for k in keys], indent=2))
            return
        for key in keys:
            state = f"revoked {key.revoked:%Y-%m-%d}" if key.revoked else "active"
            click.echo(
                f"{key.key_id}  {key.project:<20} {key.scope:<6} {key.created:%Y-%m-%d}  "
                f"{state:<18} {key.name}"
            )

    @keys_group.command("revoke")
    @click.option("--db", required=True, help="The telltale DuckDB file.")
    @click.argument("key_id")
    def keys_revoke(db: str, key_id: str) -> None:
        """Revoke KEY_ID (the 12 hex characters after tt_) at once."""
        from telltale.store.keys import KeyStore

        with _database(db, create=False) as connection:
            key = KeyStore(connection).revoke(key_id)
        click.echo(f"revoked {key.key_id} ({key.project}, {key.scope})")

    @cli.command("audit")
    @click.option("--db", required=True, help="The telltale DuckDB file.")
    @click.option("--project", required=True, help="Whose reads to list.")
    @click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 1_000_000))
    @click.option("--json", "as_json", is_flag=True, help="Print JSON lines instead of a table.")
    def audit_command(db: str, project: str, limit: int, as_json: bool) -> None:
        """List who read a project's event data, newest first.

        \b
        Example:
          telltale audit --db telltale.duckdb --project fraud --limit 20
        """
        import json

        from telltale.store.audit import AuditLog

        with _database(db, create=False) as connection:
            entries = AuditLog(connection).entries(project, limit=limit)
        for entry in entries:
            if as_json:
                click.echo(json.dumps(entry.to_dict()))
            else:
                query = f"?{entry.query}" if entry.query else ""
                click.echo(
                    f"{entry.ts:%Y-%m-%d %H:%M:%S}  {entry.key_id}  {entry.status}  "
                    f"{entry.action}{query}  {entry.client}"
                )
