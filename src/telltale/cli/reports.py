"""``telltale reports``: push the reports ``telltale report`` and ``telltale evaluate`` wrote to
a server (or straight into a telltale file), so the dashboard's Reports page opens them."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import click

from telltale.errors import ConfigError

__all__ = ["register"]

_MAX_BYTES = 256 << 20


def _read_report(path: str, json_path: str | None) -> tuple[str, Any]:
    file = Path(path)
    try:
        html = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(
            f"cannot read {path!r} ({error}); give the .html telltale wrote"
        ) from None
    if "<" not in html[:2048]:
        raise ConfigError(f"{path!r} is not HTML; give the .html that telltale report wrote")
    sibling = file.with_suffix(".json")
    if json_path is None and sibling.exists():
        json_path = str(sibling)
    document = None
    if json_path is not None:
        try:
            document = json.loads(Path(json_path).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError) as error:
            raise ConfigError(
                f"cannot read the JSON {json_path!r} ({error}); give the --json file telltale wrote"
            ) from None
    if len(html) + (len(json.dumps(document)) if document is not None else 0) > _MAX_BYTES:
        raise ConfigError(f"{path!r} is over 256 MiB; make the report with fewer columns")
    return html, document


def _kind(document: Any, html: str) -> str:
    if isinstance(document, dict) and ("systems" in document or "comparison" in document):
        return "evaluation"
    return "evaluation" if "telltale evaluate" in html[:5000] else "report"


def _post(server: str, key: str, body: dict[str, Any]) -> dict[str, Any]:
    import httpx

    url = server.rstrip("/") + "/v1/reports"
    try:
        response = httpx.post(
            url, json=body, headers={"Authorization": f"Bearer {key}"}, timeout=60.0
        )
    except httpx.HTTPError as error:
        raise ConfigError(
            f"cannot reach {server!r} ({type(error).__name__}: {error}); is `telltale serve` "
            "running there?"
        ) from None
    try:
        answer = response.json()
    except ValueError:
        answer = {}
    if response.status_code != 201:
        message = answer.get("error", {}).get("message") if isinstance(answer, dict) else None
        raise ConfigError(f"the server refused the report: HTTP {response.status_code}: {message}")
    return dict(answer)


def register(cli: click.Group) -> None:
    @cli.group("reports")
    def reports_group() -> None:
        """Reports kept for the dashboard: push one, list them.

        \b
        Examples:
          telltale report --reference train.parquet --current week.parquet \\
              --out report.html --json report.json
          telltale reports push report.html --server http://127.0.0.1:8765 --key "$ADMIN_KEY" \\
              --title "fraud, week 47"
          telltale evaluate ... --out eval.html --json eval.json
          telltale reports push eval.html --db telltale.duckdb --project fraud
          telltale reports list --db telltale.duckdb --project fraud
        The JSON next to the HTML (report.json for report.html) is pushed with it when it exists.
        They appear at /reports on the dashboard.
        """

    @reports_group.command("push")
    @click.argument("html_file", type=click.Path(dir_okay=False))
    @click.option("--json", "json_file", type=click.Path(dir_okay=False), help="The report's JSON.")
    @click.option("--title", help="Shown on the Reports page (default: the file's name).")
    @click.option(
        "--kind", type=click.Choice(["report", "evaluation"]), help="Default: from the JSON."
    )
    @click.option("--server", help="A running telltale server, e.g. http://127.0.0.1:8765.")
    @click.option("--key", help="An admin key of the server (default: $TELLTALE_API_KEY).")
    @click.option("--db", help="Or write into this telltale file (the server must be stopped).")
    @click.option("--project", help="The project, with --db.")
    def push_command(
        html_file: str,
        json_file: str | None,
        title: str | None,
        kind: str | None,
        server: str | None,
        key: str | None,
        db: str | None,
        project: str | None,
    ) -> None:
        """Keep HTML_FILE (and its JSON) as a report of the project."""
        if (server is None) == (db is None):
            raise ConfigError("give --server URL (with --key) or --db FILE (with --project)")
        html, document = _read_report(html_file, json_file)
        chosen_title = title or Path(html_file).stem
        chosen_kind = kind or _kind(document, html)
        if server is not None:
            secret = key or os.environ.get("TELLTALE_API_KEY")
            if not secret:
                raise ConfigError(
                    "give --key (or set TELLTALE_API_KEY): an admin key, "
                    "`telltale keys create --scope admin`"
                )
            body = {"title": chosen_title, "kind": chosen_kind, "html": html, "json": document}
            answer = _post(server, secret, body)
            click.echo(f"pushed {chosen_title!r}: {server.rstrip('/')}{answer['url']}")
            return
        if not project:
            raise ConfigError("--db needs --project, the project the report belongs to")
        from telltale.store.events import EventStore
        from telltale.store.keys import check_project_name
        from telltale.store.reports import ReportStore

        check_project_name(project)
        store = EventStore(db)  # type: ignore[arg-type]
        try:
            report_id = ReportStore(store).add(
                project, kind=chosen_kind, title=chosen_title, html=html, document=document
            )
        finally:
            store.close()
        click.echo(f"kept {chosen_title!r} as report {report_id} (/reports/{report_id})")

    @reports_group.command("list")
    @click.option("--db", required=True, help="The telltale DuckDB file.")
    @click.option("--project", required=True, help="The project.")
    @click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
    def list_command(db: str, project: str, as_json: bool) -> None:
        """The project's reports, newest first."""
        from telltale.store.events import EventStore
        from telltale.store.reports import ReportStore

        if not Path(db).exists():
            raise ConfigError(f"no telltale file at {db!r}; check --db")
        store = EventStore(db, read_only=True)
        try:
            listed = ReportStore(store, create=False).list(project) if _has_reports(store) else []
        finally:
            store.close()
        if as_json:
            click.echo(json.dumps({"reports": listed}, indent=2))
            return
        for r in listed:
            click.echo(f"{r['id']}  {r['created'][:19]}  {r['kind']:<10}  {r['title']}")
        if not listed:
            click.echo(f"no reports in project {project!r}; `telltale reports push` adds one")


def _has_reports(store: Any) -> bool:
    cursor = store.cursor()
    try:
        rows = cursor.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'tt_reports'"
        ).fetchall()
    finally:
        cursor.close()
    return bool(rows[0][0])
