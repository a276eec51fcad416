"""``telltale alerts …``: check rules files, apply them, evaluate them (for cron), and look at,
acknowledge and silence what fires. Each command opens the DuckDB file itself, so it runs while
no server holds the file; with a server running, use its API (docs/alerts.md) or ``--url``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import click

from telltale.errors import ConfigError

_DB = click.option("--db", required=True, help="The telltale DuckDB file.")
_PROJECT = click.option("--project", required=True, help="The project whose alerts these are.")
_JSON = click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")


@contextmanager
def _engine(db: str, *, create: bool = False) -> Iterator[Any]:
    from telltale.alerts.engine import AlertEngine
    from telltale.alerts.source import StoreSource
    from telltale.store.alerts import AlertStore
    from telltale.store.audit import AuditLog
    from telltale.store.events import EventStore

    if not create and not Path(db).exists():
        raise ConfigError(f"no telltale file at {db!r}; check --db (telltale serve makes one)")
    store = EventStore(db)
    try:
        yield AlertEngine(AlertStore(store), StoreSource(store), audit=AuditLog(store))
    finally:
        store.close()


def _read(path: str) -> str:
    from telltale.alerts.engine import load_rules_file

    return load_rules_file(path)


def _print_errors(errors: list[Any]) -> None:
    for error in errors:
        click.echo(f"  - {error}", err=True)


def register(cli: click.Group) -> None:
    @cli.group("alerts")
    def alerts_group() -> None:
        """Alert rules: validate, apply, check (for cron), list, acknowledge, silence, export.

        \b
        Examples:
          telltale alerts validate rules.yaml
          telltale alerts apply rules.yaml --db telltale.duckdb --project fraud
          telltale alerts check --db telltale.duckdb --project fraud     # one round, e.g. from cron
          telltale alerts list --db telltale.duckdb --project fraud
          telltale alerts ack 3f2a9c0d1e4b5a67 --db telltale.duckdb --project fraud --by alice
          telltale alerts silence --db telltale.duckdb --project fraud -m rule=p99-latency --for 2h
          telltale alerts export-prometheus rules.yaml --out telltale.rules.yml
        The rules file format and every metric: docs/alerts.md (`telltale alerts metrics`).
        """

    @alerts_group.command("metrics")
    def metrics_command() -> None:
        """List the metrics a rule can watch, with the direction that is bad."""
        from telltale.alerts.rules import METRICS

        for spec in METRICS.values():
            click.echo(
                f"{spec.name:<18} {spec.source:<12} bad when {spec.bad:<5} {spec.description}"
            )

    @alerts_group.command("validate")
    @click.argument("rules_file", type=click.Path(dir_okay=False))
    def validate_command(rules_file: str) -> None:
        """Check RULES_FILE (YAML or JSON) without applying it; exit 1 listing every problem."""
        from telltale.alerts.rules import parse_rules

        parsed = parse_rules(_read(rules_file), name=rules_file)
        if parsed.errors:
            click.echo(f"{rules_file}: {len(parsed.errors)} problem(s):", err=True)
            _print_errors(parsed.errors)
            raise SystemExit(1)
        click.echo(
            f"{rules_file}: {len(parsed.rules)} rule(s), {len(parsed.channels)} channel(s), "
            f"{len(parsed.actions)} hook(s): OK"
        )

    @alerts_group.command("apply")
    @click.argument("rules_file", type=click.Path(dir_okay=False))
    @_DB
    @_PROJECT
    @click.option(
        "--partial", is_flag=True, help="Keep the good rules of a file that has bad ones too."
    )
    def apply_command(rules_file: str, db: str, project: str, partial: bool) -> None:
        """Make RULES_FILE the project's rules (a file with problems is refused whole)."""
        text = _read(rules_file)
        with _engine(db, create=True) as engine:
            parsed = engine.apply(project, text, partial=partial)
        if parsed.errors:
            click.echo(f"kept the good rules; {len(parsed.errors)} problem(s):", err=True)
            _print_errors(parsed.errors)
        click.echo(f"applied {len(parsed.rules)} rule(s) to project {project!r}")

    @alerts_group.command("check")
    @_DB
    @_PROJECT
    @click.option("--now", default=None, help="Evaluate as of this ISO-8601 time (default: now).")
    @_JSON
    def check_command(db: str, project: str, now: str | None, as_json: bool) -> None:
        """Evaluate every rule once, notify, and print what changed (exit 0 even when alerts
        fire: read the output, or --json's `firing`)."""
        moment = _moment(now)
        with _engine(db) as engine:
            report = engine.check(project, now=moment)
        if as_json:
            click.echo(report.to_json(indent=2))
            return
        click.echo(f"{report.rules} rule(s) at {report.now}; {len(report.firing)} firing")
        for transition in report.transitions:
            click.echo(f"  {transition['event']:<10} {transition['summary']}")
        for delivery in report.deliveries:
            status = "sent" if delivery["ok"] else f"FAILED ({delivery['error']})"
            click.echo(f"  notify     {delivery['channel']}: {status}")
        for action in report.actions:
            click.echo(f"  action     {action['hook']}: {action['status']}")
        _print_errors(report.errors)

    @alerts_group.command("list")
    @_DB
    @_PROJECT
    @_JSON
    def list_command(db: str, project: str, as_json: bool) -> None:
        """Pending and firing alerts (and the resolved ones still kept), with fingerprints."""
        with _engine(db) as engine:
            states = engine.alerts.states(project)
        if as_json:
            click.echo(json.dumps(list(states.values()), indent=2))
            return
        if not states:
            click.echo("no alerts")
        from telltale.alerts.alert import Alert
        from telltale.alerts.engine import _alert_fields

        for fingerprint, state in states.items():
            acked = (
                f" (acknowledged by {state['acknowledged_by']})"
                if state.get("acknowledged_by")
                else ""
            )
            summary = Alert(**_alert_fields(state["alert"])).summary()
            click.echo(f"{fingerprint}  {state['state']:<9} {summary}{acked}")

    @alerts_group.command("history")
    @_DB
    @_PROJECT
    @click.option("--rule", default=None, help="Only this rule.")
    @click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 100_000))
    @_JSON
    def history_command(db: str, project: str, rule: str | None, limit: int, as_json: bool) -> None:
        """Transitions (pending, firing, escalated, reminder, resolved, acknowledged, silenced),
        newest first."""
        with _engine(db) as engine:
            entries = engine.alerts.history(project, rule=rule, limit=limit)
        if as_json:
            click.echo(json.dumps(entries, indent=2))
            return
        for entry in entries:
            alert = entry["alert"]
            click.echo(f"{entry['ts']}  {entry['event']:<12} {alert['rule']}  {alert.get('value')}")

    @alerts_group.command("ack")
    @click.argument("fingerprint")
    @_DB
    @_PROJECT
    @click.option("--by", required=True, help="Who acknowledges (kept in the history).")
    @click.option("--comment", default="", help="Why, or what is being done.")
    def ack_command(fingerprint: str, db: str, project: str, by: str, comment: str) -> None:
        """Acknowledge a firing alert: no more reminders until it resolves or gets worse."""
        with _engine(db) as engine:
            engine.acknowledge(project, fingerprint, by=by, comment=comment)
        click.echo(f"acknowledged {fingerprint}")

    @alerts_group.command("silence")
    @_DB
    @_PROJECT
    @click.option(
        "-m", "--match", "matchers", multiple=True, required=True,
        help="KEY=VALUE, repeatable: rule, severity, model, version, environment or a rule label.",
    )  # fmt: skip
    @click.option("--for", "duration", required=True, help="How long, e.g. 30m, 2h, 1d.")
    @click.option("--comment", default="")
    @click.option("--by", default="", help="Who silences.")
    def silence_command(
        db: str, project: str, matchers: tuple[str, ...], duration: str, comment: str, by: str
    ) -> None:
        """Keep notifications of matching alerts back for a while (state is still kept)."""
        parsed: dict[str, str] = {}
        for matcher in matchers:
            key, sep, value = matcher.partition("=")
            if not sep or not key or not value:
                raise ConfigError(f"--match {matcher!r} is not KEY=VALUE, e.g. rule=p99-latency")
            parsed[key] = value
        with _engine(db) as engine:
            silence = engine.silence(project, parsed, duration=duration, comment=comment, by=by)
        click.echo(f"silence {silence.id} until {silence.ends}")

    @alerts_group.command("silences")
    @_DB
    @_PROJECT
    @_JSON
    def silences_command(db: str, project: str, as_json: bool) -> None:
        """Silences still in force."""
        with _engine(db) as engine:
            silences = engine.active_silences(project)
        if as_json:
            click.echo(json.dumps([s.to_dict() for s in silences], indent=2))
            return
        for s in silences:
            matchers = ", ".join(f"{k}={v}" for k, v in s.matchers.items())
            click.echo(f"{s.id}  until {s.ends}  {matchers}  {s.comment}")

    @alerts_group.command("actions")
    @_DB
    @_PROJECT
    @_JSON
    def actions_command(db: str, project: str, as_json: bool) -> None:
        """Actions the rules called or want to call (awaiting approval, done, failed)."""
        with _engine(db) as engine:
            actions = engine.alerts.actions(project)
        if as_json:
            click.echo(json.dumps(actions, indent=2))
            return
        for action in actions:
            click.echo(
                f"{action['id']}  {action['status']:<18} {action['hook']}  (rule {action['rule']})"
            )

    for name, approve in (("approve", True), ("reject", False)):

        @alerts_group.command(name)
        @click.argument("action_id")
        @_DB
        @_PROJECT
        @click.option("--by", required=True, help="Who decides (kept in the audit log).")
        def decide(action_id: str, db: str, project: str, by: str, approve: bool = approve) -> None:
            with _engine(db) as engine:
                record = engine.approve(project, action_id, by=by, approve=approve)
            click.echo(
                f"action {action_id}: {record['status']}"
                + (f" ({record['error']})" if record.get("error") else "")
            )

        decide.help = (
            "Run an action that awaits approval."
            if approve
            else "Refuse an action that awaits approval."
        )

    @alerts_group.command("export-prometheus")
    @click.argument("rules_file", type=click.Path(dir_okay=False))
    @click.option("--out", default=None, help="Write here instead of standard output.")
    def export_command(rules_file: str, out: str | None) -> None:
        """Write RULES_FILE as Prometheus alerting rules (for Alertmanager)."""
        from telltale.alerts.prometheus import prometheus_rules
        from telltale.alerts.rules import parse_rules

        parsed = parse_rules(_read(rules_file), name=rules_file)
        parsed.raise_errors()
        text = prometheus_rules(parsed.rules)
        if out is None:
            click.echo(text, nl=False)
        else:
            Path(out).write_text(text, encoding="utf-8")
            click.echo(f"wrote {out}", err=True)


def _moment(text: str | None) -> datetime:
    if text is None:
        return datetime.now(timezone.utc)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ConfigError(
            f"--now {text!r} is not an ISO-8601 time, e.g. 2026-11-22T14:05:00Z"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
