"""The server's settings, in one table that drives the CLI options, the docs and a test.

Each setting has a name, a default, an environment variable and a help text. ``telltale serve``
turns every row into an option (``--max-body-mb``); ``TELLTALE_MAX_BODY_MB=64`` sets the same from
the environment; the docs page lists the same rows, and a test checks they agree.

>>> settings = ServerSettings.from_mapping({"port": "9000"})
>>> settings.port, settings.host
(9000, '127.0.0.1')
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from telltale.errors import ConfigError

__all__ = ["SETTINGS", "ServerSettings", "Setting"]


@dataclass(frozen=True)
class Setting:
    name: str
    default: Any
    kind: type
    help: str
    minimum: float | None = None

    @property
    def env(self) -> str:
        return "TELLTALE_" + self.name.upper()

    @property
    def option(self) -> str:
        return "--" + self.name.replace("_", "-")

    def parse(self, raw: Any) -> Any:
        if raw is None:
            return None
        if self.kind is bool and isinstance(raw, str):
            lowered = raw.strip().lower()
            if lowered not in {"1", "0", "true", "false", "yes", "no", "on", "off"}:
                raise ConfigError(f"{self.env}={raw!r} is not a yes/no value; write true or false")
            return lowered in {"1", "true", "yes", "on"}
        try:
            value = self.kind(raw)
        except (TypeError, ValueError):
            raise ConfigError(
                f"{self.option} {raw!r} is not a valid {self.kind.__name__}; {self.help}"
            ) from None
        if isinstance(value, float) and value != value:
            raise ConfigError(f"{self.option} must be a number, got NaN")
        if self.minimum is not None and value < self.minimum:
            raise ConfigError(f"{self.option} must be at least {self.minimum:g}, got {raw!r}")
        return value


SETTINGS: tuple[Setting, ...] = (
    Setting("db", "telltale.duckdb", str, "the DuckDB file the server owns (made if missing)"),
    Setting("host", "127.0.0.1", str, "the address to listen on (0.0.0.0 for all interfaces)"),
    Setting("port", 8765, int, "the TCP port to listen on", minimum=0),
    Setting("max_body_mb", 32.0, float, "largest request body accepted, in MiB (413 above)", 0.001),
    Setting(
        "retention_days",
        0.0,
        float,
        "drop raw events older than this many days (0 keeps them); hourly aggregates are kept",
        minimum=0,
    ),
    Setting(
        "latency_minutes_days",
        7.0,
        float,
        "keep per-minute latency histograms this many days (hourly ones are kept forever)",
        minimum=0.001,
    ),
    Setting(
        "monitor_interval_s",
        60.0,
        float,
        "how often drift and performance are recomputed for /metrics and history",
        minimum=0.1,
    ),
    Setting(
        "drift_window_h",
        1.0,
        float,
        "the recent window, in hours, compared against each model's reference for drift",
        minimum=0.001,
    ),
    Setting(
        "max_group_events",
        200_000,
        int,
        "the most events committed in one transaction when requests are grouped",
        minimum=1,
    ),
    Setting(
        "decode_processes",
        1,
        int,
        "worker processes that decode ingest bodies (0: threads of the server process)",
        minimum=0,
    ),
    Setting(
        "db_threads",
        1,
        int,
        "DuckDB threads (1 keeps ingest fast on small machines; more speeds up big queries)",
        minimum=1,
    ),
    Setting(
        "alert_interval_s",
        30.0,
        float,
        "how often every project's alert rules are evaluated (0: never; `telltale alerts check` instead)",
        minimum=0.0,
    ),
    Setting("public_url", "", str, "the address people open the dashboard at, for links in alerts"),
    Setting("log_level", "info", str, "uvicorn log level: critical, error, warning, info, debug"),
)

_BY_NAME = {setting.name: setting for setting in SETTINGS}


@dataclass(frozen=True)
class ServerSettings:
    db: str = "telltale.duckdb"
    host: str = "127.0.0.1"
    port: int = 8765
    max_body_mb: float = 32.0
    retention_days: float = 0.0
    latency_minutes_days: float = 7.0
    monitor_interval_s: float = 60.0
    drift_window_h: float = 1.0
    max_group_events: int = 200_000
    decode_processes: int = 1
    db_threads: int = 1
    alert_interval_s: float = 30.0
    public_url: str = ""
    log_level: str = "info"

    @classmethod
    def from_mapping(
        cls, values: Mapping[str, Any], *, environ: Mapping[str, str] | None = None
    ) -> ServerSettings:
        """Settings from ``values`` (e.g. CLI options), then the environment, then defaults."""
        environ = os.environ if environ is None else environ
        unknown = set(values) - set(_BY_NAME)
        if unknown:
            raise ConfigError(f"unknown server setting(s): {', '.join(sorted(unknown))}")
        chosen: dict[str, Any] = {}
        for setting in SETTINGS:
            raw = values.get(setting.name)
            if raw is None:
                raw = environ.get(setting.env)
            chosen[setting.name] = setting.default if raw is None else setting.parse(raw)
        if chosen["log_level"] not in {"critical", "error", "warning", "info", "debug"}:
            raise ConfigError(
                f"--log-level {chosen['log_level']!r} is not one of critical, error, warning, "
                "info, debug"
            )
        return cls(**chosen)

    @property
    def max_body_bytes(self) -> int:
        return int(self.max_body_mb * 1024 * 1024)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)
