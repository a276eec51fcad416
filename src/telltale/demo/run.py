"""``telltale demo``: a collector, a simulated fraud service, and the problems it runs into.

:func:`run_demo` does, in order:

1. start ``telltale serve`` on the DuckDB file as a child process (or use ``--server URL``
   with an admin key), and make three keys for project ``demo``: ingest (the service), read
   (the dashboard; printed), admin (the setup below);
2. train the two model versions (scikit-learn, on generated data: no download);
3. upload the training data as reference ``training`` (and ``default``, for ``/metrics``) and
   apply :file:`rules.yaml` (the accuracy baseline set to the measured validation accuracy);
4. print the dashboard URL and the read-only key, then play the scenario
   (:mod:`telltale.demo.timeline`) with a Rich progress display;
5. when simulated time meets the real clock, run one alert round (``POST /v1/alerts/check``)
   and print what fires; then keep live traffic going until Ctrl-C (or stop, with ``--exit``).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from telltale.demo.service import MODEL
from telltale.demo.timeline import Timeline
from telltale.errors import ConfigError, TelltaleError

__all__ = ["PROJECT", "DemoError", "DemoOptions", "DemoServer", "demo_rules", "run_demo"]

PROJECT = "demo"
_PARQUET = "application/vnd.apache.parquet"


@dataclass
class DemoOptions:
    """What ``telltale demo`` was asked to do (checked by the CLI)."""

    timeline: Timeline
    seed: int = 0
    db: Path = Path("telltale-demo.duckdb")
    host: str = "127.0.0.1"
    port: int = 8765
    server: str | None = None
    admin_key: str | None = None
    exit_at_now: bool = False
    fresh: bool = False
    alert_interval_s: int = 10
    progress: bool = True


class DemoError(TelltaleError, RuntimeError):
    """The demo cannot go on (the message says why and what to do)."""


def demo_rules(validation_accuracy: float) -> str:
    """:file:`rules.yaml` with the accuracy baseline set to ``validation_accuracy``."""
    import yaml

    text = resources.files("telltale.demo").joinpath("rules.yaml").read_text(encoding="utf-8")
    document = yaml.safe_load(text)
    for rule in document["rules"]:
        if rule["metric"] == "accuracy":
            rule["baseline"]["value"] = round(validation_accuracy, 4)
    return str(yaml.safe_dump(document, sort_keys=False))


# --------------------------------------------------------------------------------------------
# The collector
# --------------------------------------------------------------------------------------------


def _port_free(host: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


class DemoServer:
    """``telltale serve`` on the demo's DuckDB file, in a child process."""

    def __init__(self, options: DemoOptions) -> None:
        self.options = options
        self.url = f"http://{options.host}:{options.port}"
        self.log = options.db.with_name(options.db.name + ".log")
        self.process: subprocess.Popen[bytes] | None = None

    def prepare_file(self) -> dict[str, str]:
        """Check the file and the port, and make the three keys; scope → secret."""
        import duckdb

        from telltale.store.keys import KeyStore

        db = self.options.db
        if db.exists() and not self.options.fresh:
            raise ConfigError(
                f"{db} already exists (a previous demo?); pass --fresh to replace it, "
                "or --db another.duckdb"
            )
        if not _port_free(self.options.host, self.options.port):
            raise ConfigError(
                f"port {self.options.port} on {self.options.host} is in use; pass --port "
                f"{self.options.port + 1}, or --server URL --admin-key KEY to use that server"
            )
        if self.options.fresh:
            for path in (db, db.with_name(db.name + ".wal")):
                path.unlink(missing_ok=True)
        db.parent.mkdir(parents=True, exist_ok=True)
        try:
            connection = duckdb.connect(str(db))
        except duckdb.IOException as error:
            raise ConfigError(
                f"cannot open {db} ({error}); is a telltale server holding it? pass --db "
                "another.duckdb, or --server URL --admin-key KEY to use that server"
            ) from None
        try:
            store = KeyStore(connection)
            return {
                scope: store.create(PROJECT, scope, name=f"telltale demo {purpose}")[1]
                for scope, purpose in (
                    ("ingest", "service"),
                    ("read", "dashboard"),
                    ("admin", "setup"),
                )
            }
        finally:
            connection.close()

    def start(self) -> None:
        import httpx

        options = self.options
        args = [sys.executable, "-m", "telltale.cli.main", "serve", "--db", str(options.db)]
        args += ["--host", options.host, "--port", str(options.port)]
        args += ["--alert-interval-s", str(options.alert_interval_s)]
        args += ["--monitor-interval-s", "15", "--log-level", "warning"]
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        with self.log.open("ab") as stderr:
            # its own session: Ctrl-C reaches the demo alone, which flushes its monitors and
            # then stops the server
            self.process = subprocess.Popen(
                args,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=stderr,
                stderr=stderr,
                start_new_session=True,
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                tail = self.log.read_text(errors="replace").strip().splitlines()[-1:]
                raise DemoError(
                    f"`telltale serve` exited with status {self.process.returncode}: "
                    f"{' '.join(tail) or 'no output'} (whole log: {self.log})"
                )
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.1)
        self.stop()
        raise DemoError(
            f"`telltale serve` did not answer on {self.url} within 60 s; see {self.log}"
        )

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()  # the server commits what it queued, then exits
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)


def _keys_from_server(client: Any) -> dict[str, str]:
    """Ingest and read keys made by a running server (``client`` carries the admin key)."""
    keys: dict[str, str] = {}
    for scope, purpose in (("ingest", "service"), ("read", "dashboard")):
        answer = client.post("/v1/keys", json={"scope": scope, "name": f"telltale demo {purpose}"})
        _check(answer, "make a key (POST /v1/keys)")
        keys[scope] = answer.json()["secret"]
    return keys


def _check(answer: Any, what: str) -> None:
    if answer.status_code in (401, 403):
        raise ConfigError(
            f"the server refused to {what} ({answer.status_code}); pass an admin key of the "
            "project with --admin-key (make one: telltale keys create --scope admin ...)"
        )
    if answer.status_code >= 400:
        try:
            message = answer.json()["error"]["message"]
        except Exception:
            message = answer.text[:300]
        raise DemoError(f"could not {what}: {answer.status_code} {message}")


# --------------------------------------------------------------------------------------------
# The run
# --------------------------------------------------------------------------------------------


class _Display:
    """A Rich progress bar on stderr while traffic runs (when stderr is a terminal); lines
    printed meanwhile go above the bar instead of through it."""

    def __init__(
        self,
        enabled: bool,
        timeline: Timeline,
        echo: Callable[[str], None],
        note: Callable[[str], None],
    ) -> None:
        self.enabled = enabled
        self.timeline = timeline
        self._echo, self._note = echo, note
        self._progress: Any = None
        self._task: Any = None

    def echo(self, line: str) -> None:
        if self._progress is not None and sys.stdout.isatty():
            self._progress.console.print(line, markup=False, highlight=False, soft_wrap=True)
        else:
            self._echo(line)

    def note(self, line: str) -> None:
        if self._progress is not None:
            self._progress.console.print(line, markup=False, highlight=False, soft_wrap=True)
        else:
            self._note(line)

    def tick(self, tick: Any) -> None:
        if self._progress is None:
            return
        span = self.timeline.span_s
        self._progress.update(
            self._task,
            description=tick.phase,
            completed=min(span, tick.offset + span),
            clock=f"T0{tick.offset / 60:+.1f} min" if tick.offset < 0 else "live",
            counts=f"{tick.events:,} events · {tick.labels:,} labels",
        )

    def __enter__(self) -> _Display:
        if self.enabled:
            from rich.console import Console
            from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

            self._progress = Progress(
                TextColumn("{task.description:<9}"),
                BarColumn(),
                TextColumn("{task.fields[clock]}"),
                TextColumn("{task.fields[counts]}"),
                TimeElapsedColumn(),
                console=Console(stderr=True),
                transient=True,
                redirect_stdout=False,
                redirect_stderr=False,
            )
            self._task = self._progress.add_task(
                "history", total=self.timeline.span_s, clock="", counts=""
            )
            self._progress.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.__exit__(None, None, None)
            self._progress = None


def _summary(
    client: Any, echo: Callable[[str], None], environments: dict[str, list[str]]
) -> list[dict[str, Any]]:
    """One alert round now, then the firing alerts, printed (environments by replica name)."""
    replica_of = {e: f"replica {name}" for name, ids in environments.items() for e in ids}
    echo(
        "environments: "
        + ", ".join(f"replica {name} = {', '.join(ids)}" for name, ids in environments.items())
    )
    _check(client.post("/v1/alerts/check"), "evaluate the alert rules (POST /v1/alerts/check)")
    answer = client.get("/v1/alerts", params={"state": "firing"})
    _check(answer, "list alerts (GET /v1/alerts)")
    alerts: list[dict[str, Any]] = answer.json()["alerts"]
    echo(f"alerts firing now: {len(alerts)}")
    for state in sorted(alerts, key=lambda a: (a.get("rule", ""), str(a.get("group")))):
        alert = state.get("alert") or {}
        group = state.get("group") or {}
        shown = ", ".join(
            f"{k}={v} ({replica_of[v]})" if v in replica_of else f"{k}={v}"
            for k, v in group.items()
            if k != "model"
        )
        value, threshold = alert.get("value"), alert.get("threshold")
        number = (int, float)
        value_text = f"{value:.3g}" if isinstance(value, number) else str(value)
        limit = (
            f" {alert.get('comparison', '')} {threshold:.3g}"
            if isinstance(threshold, number)
            else ""
        )
        echo(
            f"  {state.get('severity', ''):<8} {state.get('rule', ''):<16} "
            f"{alert.get('metric', '')} {value_text}{limit}" + (f"  ({shown})" if shown else "")
        )
    return alerts


def _push_report(
    admin: Any, scenario: Any, echo: Callable[[str], None], note: Callable[[str], None]
) -> None:
    """Push a report of training vs production at T0 to the Reports page (best effort: the
    demo goes on without it)."""
    from telltale.demo.scenario import incident_report

    try:
        html, document = incident_report(scenario)
        answer = admin.post(
            "/v1/reports",
            json={
                "title": f"{MODEL}: training vs production at the incident",
                "kind": "report",
                "html": html,
                "json": document,
            },
        )
        _check(answer, "push the incident report (POST /v1/reports)")
    except Exception as error:  # a report is a bonus; the traffic and alerts matter more
        note(f"the incident report was not pushed ({type(error).__name__}: {error})")
        return
    echo(f"report:  {admin.base_url}{answer.json()['url']}".replace("//reports", "/reports"))


def run_demo(options: DemoOptions, echo: Callable[[str], None], note: Callable[[str], None]) -> int:
    """Run the demo; ``echo`` prints the lines a user copies (stdout), ``note`` progress
    (stderr). Returns the exit status."""
    import httpx

    from telltale.demo.scenario import prepare, reference_parquet, simulate

    server: DemoServer | None = None
    try:
        if options.server is None:
            server = DemoServer(options)
            keys = server.prepare_file()
            note(f"starting telltale serve on {options.db} (log: {server.log}) ...")
            server.start()
            url = server.url
        else:
            url = options.server.rstrip("/")
            if not options.admin_key:
                raise ConfigError(
                    "--server needs an admin key of the project to set the demo up; pass "
                    "--admin-key KEY or set TELLTALE_ADMIN_KEY"
                )
            keys = {"admin": options.admin_key}
        admin = httpx.Client(
            base_url=url, headers={"Authorization": f"Bearer {keys['admin']}"}, timeout=120
        )
        try:
            admin.get("/healthz")
        except httpx.TransportError as error:
            raise ConfigError(
                f"no telltale server answers at {url} ({type(error).__name__}); start one "
                "with `telltale serve`, or leave out --server to let the demo start its own"
            ) from None
        if options.server is not None:
            keys.update(_keys_from_server(admin))
        note("training the models (scikit-learn, generated data) ...")
        scenario = prepare(seed=options.seed, timeline=options.timeline)
        reference = reference_parquet(scenario)
        for name in ("training", "default"):
            answer = admin.put(
                f"/v1/models/{MODEL}/references/{name}",
                content=reference,
                headers={"Content-Type": _PARQUET},
            )
            _check(answer, f"upload the reference {name!r}")
        answer = admin.put(
            "/v1/alerts/rules",
            content=demo_rules(scenario.validation_accuracy).encode(),
            headers={"Content-Type": "application/yaml"},
        )
        _check(answer, "apply the demo's alert rules (PUT /v1/alerts/rules)")

        timeline = options.timeline
        echo(f"dashboard: {url}/")
        echo(f"  model:   {url}/models/{MODEL}")
        echo(f"  alerts:  {url}/alerts")
        echo(f"  API:     {url}/docs (e.g. GET /v1/models/{MODEL}/windows)")
        echo(f"read-only key: {keys['read']}")
        echo(
            f"simulating {timeline.span_s / 3600:.1f} h of traffic in "
            f"{timeline.accelerated_real_s:.0f} s (seed {options.seed}); "
            + ("it stops then." if options.exit_at_now else "then live traffic: Ctrl-C stops.")
        )

        with _Display(options.progress, timeline, echo, note) as display:

            def milestone(offset: float, text: str, so_far: Any) -> None:
                display.note(f"  [T0{offset / 60:+7.1f} min] {text}")
                if offset == 0.0:
                    _summary(admin, display.echo, so_far.environments)
                    _push_report(admin, scenario, display.echo, display.note)

            report = simulate(
                scenario,
                url,
                keys["ingest"],
                live_s=0.0 if options.exit_at_now else None,
                on_tick=display.tick,
                on_milestone=milestone,
            )
        if report.interrupted:
            note("stopped (Ctrl-C)")
        echo(
            f"sent {report.events_sent:,} events in {report.calls:,} calls and "
            f"{report.labels_sent:,} labels in {report.wall_s:.1f} s "
            f"(failed {report.events_failed}, dropped {report.events_dropped})"
        )
        return 0
    except KeyboardInterrupt:  # before the traffic started (while training, say)
        note("stopped (Ctrl-C)")
        return 130
    finally:
        if server is not None:
            server.stop()
