"""``telltale demo``: a collector and a simulated fraud service that runs into trouble.

Numbers are taken as text and checked here, so a bad value gets the one-line error of
``telltale.cli.main`` (``error: --minutes=10 ...; pass e.g. --minutes 180``) rather than
click's usage block.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from telltale.errors import ConfigError

__all__ = ["register"]


def _number(option: str, text: str, *, minimum: float, example: str, whole: bool = False) -> float:
    try:
        value = int(text) if whole else float(text)
    except ValueError:
        kind = "a whole number" if whole else "a number"
        raise ConfigError(f"{option}={text!r} is not {kind}; pass e.g. {example}") from None
    if not value >= minimum:
        raise ConfigError(f"{option}={text!r} must be at least {minimum:g}; pass e.g. {example}")
    return value


def _server_url(text: str) -> str:
    import urllib.parse

    parts = urllib.parse.urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(
            f"--server={text!r} is not an http(s) URL; pass e.g. --server http://127.0.0.1:8765"
        )
    return text


def register(cli: click.Group) -> None:
    @cli.command("demo")
    @click.option(
        "--db",
        metavar="PATH",
        default="telltale-demo.duckdb",
        show_default=True,
        help="The DuckDB file of the collector the demo starts (refused if it exists; see --fresh).",
    )
    @click.option("--fresh", is_flag=True, help="Delete --db first if it exists.")
    @click.option(
        "--host",
        metavar="HOST",
        default="127.0.0.1",
        show_default=True,
        help="Address to serve on.",
    )
    @click.option(
        "--port", metavar="PORT", default="8765", show_default=True, help="Port to serve on."
    )
    @click.option(
        "--server",
        metavar="URL",
        default=None,
        help="Use this running collector (http://HOST:PORT) instead of starting one; "
        "needs --admin-key.",
    )
    @click.option(
        "--admin-key",
        metavar="KEY",
        envvar="TELLTALE_ADMIN_KEY",
        default=None,
        help="With --server: an admin key of the project to fill [env TELLTALE_ADMIN_KEY].",
    )
    @click.option(
        "--minutes",
        metavar="N",
        default=None,
        help="Simulated minutes of history before the incident [default: 1440; 180 with --quick].",
    )
    @click.option(
        "--speed",
        metavar="X",
        default=None,
        help="Simulated seconds per real second during the history [default: 3600; 1800 with "
        "--quick]. The 20-minute incident plays at 60x (120x with --quick).",
    )
    @click.option(
        "--seed", metavar="N", default="0", show_default=True, help="Same seed, same traffic."
    )
    @click.option(
        "--quick",
        is_flag=True,
        help="The short form CI runs: 3 h of history, about 20 s in all, then stop.",
    )
    @click.option(
        "--exit",
        "exit_at_now",
        is_flag=True,
        help="Stop when simulated time reaches now (default with --quick), instead of "
        "sending live traffic until Ctrl-C.",
    )
    def demo_command(**options: Any) -> None:
        """Start a collector and a simulated fraud service that runs into trouble.

        A real scikit-learn model (trained on generated card transactions, no download) is
        called through the SDK by two replicas of a service. A day of traffic is replayed in
        about 45 s, ending at the real "now": gradual drift in amount and distance_km, a new
        channel (partner_api), silent NaN scores, a latency spike on one replica, a second
        environment that is slower and scores differently, version 1.1.0 as a canary, and
        labels that arrive minutes late. Alert rules (telltale/demo/rules.yaml) fire on them.
        It prints the dashboard URL and a read-only key; live traffic goes on until Ctrl-C.

        \b
        Examples:
          telltale demo                               # http://127.0.0.1:8765/, Ctrl-C stops
          telltale demo --fresh --port 8800 --seed 3  # again, on a new file and port
          telltale demo --quick --db /tmp/ci.duckdb   # the CI form: ~20 s, then exit
          telltale demo --server http://127.0.0.1:8765 --admin-key tt_...   # a running server
        """
        import importlib.util

        if importlib.util.find_spec("sklearn") is None:
            raise ConfigError(
                "telltale demo trains a scikit-learn model: pip install scikit-learn "
                "(make demo installs it)"
            )
        from telltale.demo.run import DemoOptions, run_demo
        from telltale.demo.scenario import FULL, QUICK
        from telltale.demo.timeline import MIN_HISTORY_S, Timeline

        base = QUICK if options["quick"] else FULL
        minutes = base.history_s / 60
        if options["minutes"] is not None:
            minutes = _number(
                "--minutes", options["minutes"], minimum=MIN_HISTORY_S / 60, example="--minutes 180"
            )
        speed = base.speed
        if options["speed"] is not None:
            speed = _number("--speed", options["speed"], minimum=1, example="--speed 3600")
        port = int(_number("--port", options["port"], minimum=1, example="--port 8765", whole=True))
        if port > 65535:
            raise ConfigError(f"--port={port} is above 65535; pass e.g. --port 8765")
        seed = int(_number("--seed", options["seed"], minimum=0, example="--seed 0", whole=True))
        server = _server_url(options["server"]) if options["server"] else None
        source = click.get_current_context().get_parameter_source("admin_key")
        if server is None and source == click.core.ParameterSource.COMMANDLINE:
            raise ConfigError("--admin-key goes with --server URL (the demo makes its own keys)")
        timeline = Timeline(
            history_s=minutes * 60,
            speed=speed,
            incident_speed=base.incident_speed,
            label_delay_median_s=base.label_delay_median_s,
        )
        demo = DemoOptions(
            timeline=timeline,
            seed=seed,
            db=Path(options["db"]),
            host=options["host"],
            port=port,
            server=server,
            admin_key=options["admin_key"],
            exit_at_now=options["exit_at_now"] or options["quick"],
            fresh=options["fresh"],
            alert_interval_s=5 if options["quick"] else 10,
            progress=sys.stderr.isatty(),
        )
        status = run_demo(
            demo,
            echo=lambda line: click.echo(line),
            note=lambda line: click.echo(line, err=True),
        )
        if status:
            raise SystemExit(status)
