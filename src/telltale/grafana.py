"""A Grafana dashboard and its provisioning files for the series the collector exports on
``/metrics`` (docs/server.md), so a team that runs Grafana sees telltale next to its services.

Three files, all deterministic (the same arguments give byte-identical output):

- ``provisioning/datasources/telltale.yaml``: a Prometheus data source (the one scraping telltale)
- ``provisioning/dashboards/telltale.yaml``: a file provider that loads the dashboard into a folder
- ``provisioning/dashboards/telltale/<uid>.json``: the dashboard (Grafana's JSON model)

Mount ``provisioning/`` at ``/etc/grafana/provisioning`` and Grafana loads both (docs/grafana.md).

Every query reads a series of ``telltale.server.metrics`` (plus Prometheus' own ``up`` for the
scrape target); a telltale key belongs to one project, so each project is scraped by its own job,
and the dashboard's ``project`` variable selects that job. ``/metrics`` carries no environment
label, so there is no environment variable.

>>> board = dashboard(title="Fraud models")
>>> board["uid"], board["schemaVersion"], board["title"]
('telltale-overview', 41, 'Fraud models')
>>> [v["name"] for v in board["templating"]["list"]]
['datasource', 'project', 'model', 'version']
>>> any("histogram_quantile(0.99" in e for _, e in dashboard_expressions(board))
True
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from telltale.errors import ConfigError

__all__ = [
    "DASHBOARD_UID",
    "DATASOURCE_UID",
    "PALETTE",
    "SCHEMA_VERSION",
    "dashboard",
    "dashboard_expressions",
    "dashboard_json",
    "dashboard_provisioning",
    "datasource_provisioning",
    "export_files",
]

# The dashboard JSON model of Grafana 11.6 (its schema migrations stop at 41).
SCHEMA_VERSION = 41
DASHBOARD_UID = "telltale-overview"
DATASOURCE_UID = "telltale-prometheus"
DATASOURCE_NAME = "Telltale Prometheus"
DEFAULT_TITLE = "Telltale: models in production"
DEFAULT_PROMETHEUS_URL = "http://prometheus:9090"
DEFAULT_FOLDER = "Telltale"
DEFAULT_SCRAPE_INTERVAL = "15s"
# Grafana keeps a dashboard title in a 189-character column.
MAX_TITLE = 189

# Okabe and Ito's palette, told apart with every common form of colour blindness.
PALETTE = {
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "orange": "#E69F00",
    "reddish_purple": "#CC79A7",
    "sky_blue": "#56B4E9",
    "bluish_green": "#009E73",
    "yellow": "#F0E442",
}
_STATUS_COLOURS = {
    "ok": PALETTE["blue"],
    "error": PALETTE["vermillion"],
    "invalid": PALETTE["orange"],
    "timeout": PALETTE["reddish_purple"],
    "fallback": PALETTE["sky_blue"],
}

_DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}
# Events, latency and invalid outputs carry model and version; drift and performance are per
# model; dropped events and the ingest series are per scrape (project) only.
_EVENTS = 'job="$project", model=~"$model", version=~"$version"'
_MODEL = 'job="$project", model=~"$model"'
_PROJECT = 'job="$project"'
_RATE = "[$__rate_interval]"


@dataclass(frozen=True)
class _Target:
    expr: str
    legend: str
    colour: str | None = None  # an override by the series' display name


@dataclass(frozen=True)
class _Panel:
    title: str
    description: str
    targets: tuple[_Target, ...]
    unit: str
    kind: str = "timeseries"
    width: int = 12
    stack: bool = False
    bad_above: float | None = None  # a threshold drawn (or coloured, on a stat) from here up
    bad_below: float | None = None  # the same, for figures that are bad when low
    status_colours: bool = False


def _latency(quantile: float) -> str:
    return (
        f"histogram_quantile({quantile:g}, sum by (le) "
        f"(rate(telltale_prediction_latency_seconds_bucket{{{_EVENTS}}}{_RATE}))) * 1000"
    )


_ROWS: tuple[tuple[str, tuple[_Panel, ...]], ...] = (
    (
        "Traffic",
        (
            _Panel(
                "Events per second by model and version",
                "Tracked calls the collector received (every status), from telltale_events_total.",
                (
                    _Target(
                        f"sum by (model, version) (rate(telltale_events_total{{{_EVENTS}}}{_RATE}))",
                        "{{model}} {{version}}",
                    ),
                ),
                "reqps",
            ),
            _Panel(
                "Events per second by status",
                "Tracked calls by status (ok, error, invalid, timeout, fallback), stacked.",
                (
                    _Target(
                        f"sum by (status) (rate(telltale_events_total{{{_EVENTS}}}{_RATE}))",
                        "{{status}}",
                    ),
                ),
                "reqps",
                stack=True,
                status_colours=True,
            ),
        ),
    ),
    (
        "Latency",
        (
            _Panel(
                "Latency p50, p95, p99 and mean",
                "Latency of the tracked call, from the telltale_prediction_latency_seconds "
                "histogram (quantiles are interpolated within its buckets).",
                (
                    _Target(_latency(0.5), "p50", PALETTE["sky_blue"]),
                    _Target(_latency(0.95), "p95", PALETTE["orange"]),
                    _Target(_latency(0.99), "p99", PALETTE["vermillion"]),
                    _Target(
                        f"sum(rate(telltale_prediction_latency_seconds_sum{{{_EVENTS}}}{_RATE}))"
                        f" / sum(rate(telltale_prediction_latency_seconds_count{{{_EVENTS}}}"
                        f"{_RATE})) * 1000",
                        "mean",
                        PALETTE["bluish_green"],
                    ),
                ),
                "ms",
            ),
            _Panel(
                "Latency p99 by model and version",
                "The 99th percentile of each model version's latency: which one is slow.",
                (
                    _Target(
                        "histogram_quantile(0.99, sum by (le, model, version) "
                        f"(rate(telltale_prediction_latency_seconds_bucket{{{_EVENTS}}}{_RATE})))"
                        " * 1000",
                        "{{model}} {{version}}",
                    ),
                ),
                "ms",
            ),
        ),
    ),
    (
        "Errors",
        (
            _Panel(
                "Share of calls that failed, by status",
                "Error, invalid, timeout and fallback calls as a share of all calls.",
                (
                    _Target(
                        f'sum by (status) (rate(telltale_events_total{{{_EVENTS}, status!="ok"}}'
                        f"{_RATE})) / ignoring (status) group_left "
                        f"sum(rate(telltale_events_total{{{_EVENTS}}}{_RATE}))",
                        "{{status}}",
                    ),
                ),
                "percentunit",
                status_colours=True,
            ),
            _Panel(
                "Error and timeout rate by model and version",
                "Calls that raised or timed out, as a share of each model version's calls.",
                (
                    _Target(
                        "sum by (model, version) (rate(telltale_events_total"
                        f'{{{_EVENTS}, status=~"error|timeout"}}{_RATE})) / sum by (model, version) '
                        f"(rate(telltale_events_total{{{_EVENTS}}}{_RATE}))",
                        "{{model}} {{version}}",
                    ),
                ),
                "percentunit",
                bad_above=0.05,
            ),
            _Panel(
                "Invalid outputs by model and version",
                "Outputs that failed validation (telltale_invalid_outputs_total), as a share of "
                "each model version's calls.",
                (
                    _Target(
                        "sum by (model, version) (rate(telltale_invalid_outputs_total"
                        f"{{{_EVENTS}}}{_RATE})) / sum by (model, version) "
                        f"(rate(telltale_events_total{{{_EVENTS}}}{_RATE}))",
                        "{{model}} {{version}}",
                    ),
                ),
                "percentunit",
                bad_above=0.05,
            ),
        ),
    ),
    (
        "Dropped events (SDK)",
        (
            _Panel(
                "Dropped events per second by SDK instance",
                "Events SDK instances threw away because their buffer was full (the SDK reports "
                "its running total; Prometheus renames its instance label to exported_instance).",
                (
                    _Target(
                        "sum by (exported_instance) "
                        f"(rate(telltale_client_dropped_events{{{_PROJECT}}}{_RATE}))",
                        "{{exported_instance}}",
                    ),
                ),
                "reqps",
            ),
            _Panel(
                "Dropped events (running total)",
                "All the events the project's SDK instances have dropped since they started. "
                "Anything above zero means events are missing from every other panel.",
                (_Target(f"sum(telltale_client_dropped_events{{{_PROJECT}}})", "dropped"),),
                "short",
                kind="stat",
                bad_above=1,
            ),
        ),
    ),
    (
        "Drift and performance",
        (
            _Panel(
                "Drift score by feature",
                "Latest drift of the recent window against the model's default reference, per "
                "feature (telltale_drift_score; the statistic depends on the method).",
                (
                    _Target(
                        f"max by (model, feature, method) (telltale_drift_score{{{_MODEL}}})",
                        "{{model}} {{feature}} ({{method}})",
                    ),
                ),
                "short",
            ),
            _Panel(
                "Features drifting",
                "How many features the latest drift check flagged (telltale_drift_detected).",
                (
                    _Target(
                        f"sum by (model) (telltale_drift_detected{{{_MODEL}}})",
                        "{{model}}",
                    ),
                ),
                "short",
                kind="stat",
                width=6,
                bad_above=1,
            ),
            _Panel(
                "Performance",
                "Latest accuracy, macro F1, MAE, RMSE, R² and label coverage where labels have "
                "arrived (telltale_performance).",
                (
                    _Target(
                        f"max by (model, metric) (telltale_performance{{{_MODEL}}})",
                        "{{model}} {{metric}}",
                    ),
                ),
                "short",
                width=6,
            ),
        ),
    ),
    (
        "Collector",
        (
            _Panel(
                "Collector up",
                "Whether Prometheus' last scrape of each collector succeeded (1) or not (0).",
                (_Target(f"up{{{_PROJECT}}}", "{{instance}}"),),
                "short",
                kind="stat",
                width=6,
                bad_below=1,
            ),
            _Panel(
                "Queue depth",
                "Batches waiting for the writer (telltale_ingest_queue_depth): a queue that "
                "keeps growing means the collector cannot keep up.",
                (
                    _Target(
                        f"max by (instance) (telltale_ingest_queue_depth{{{_PROJECT}}})",
                        "{{instance}}",
                    ),
                ),
                "short",
                width=6,
            ),
            _Panel(
                "Commits per second",
                "Write transactions the collector committed (telltale_ingest_transactions_total).",
                (
                    _Target(
                        "sum by (instance) "
                        f"(rate(telltale_ingest_transactions_total{{{_PROJECT}}}{_RATE}))",
                        "{{instance}}",
                    ),
                ),
                "ops",
                width=6,
            ),
            _Panel(
                "Mean commit time",
                "Time one write transaction takes, on average (telltale_ingest_commit_seconds_total"
                " over telltale_ingest_transactions_total).",
                (
                    _Target(
                        "sum by (instance) "
                        f"(rate(telltale_ingest_commit_seconds_total{{{_PROJECT}}}{_RATE})) / "
                        "sum by (instance) "
                        f"(rate(telltale_ingest_transactions_total{{{_PROJECT}}}{_RATE})) * 1000",
                        "{{instance}}",
                    ),
                ),
                "ms",
                width=6,
            ),
        ),
    ),
)

_HEIGHT = 8


def _field_config(panel: _Panel) -> dict[str, Any]:
    defaults: dict[str, Any] = {"unit": panel.unit}
    if panel.unit == "percentunit":
        defaults["min"] = 0
    if panel.bad_above is not None:
        defaults["thresholds"] = {
            "mode": "absolute",
            "steps": [
                {"color": PALETTE["blue"], "value": None},
                {"color": PALETTE["vermillion"], "value": panel.bad_above},
            ],
        }
    if panel.bad_below is not None:
        defaults["thresholds"] = {
            "mode": "absolute",
            "steps": [
                {"color": PALETTE["vermillion"], "value": None},
                {"color": PALETTE["blue"], "value": panel.bad_below},
            ],
        }
    if panel.kind == "stat":
        defaults["color"] = {"mode": "thresholds"}
        defaults.setdefault(
            "thresholds",
            {"mode": "absolute", "steps": [{"color": PALETTE["blue"], "value": None}]},
        )
    else:
        defaults["color"] = {"mode": "palette-classic"}
        custom: dict[str, Any] = {"drawStyle": "line", "lineWidth": 1, "fillOpacity": 10}
        custom["showPoints"] = "never"
        if panel.stack:
            custom["stacking"] = {"mode": "normal", "group": "A"}
            custom["fillOpacity"] = 60
        if panel.bad_above is not None:
            custom["thresholdsStyle"] = {"mode": "dashed"}
        defaults["custom"] = custom
    colours = {t.legend: t.colour for t in panel.targets if t.colour}
    if panel.status_colours:
        colours.update(_STATUS_COLOURS)
    overrides = [
        {
            "matcher": {"id": "byName", "options": name},
            "properties": [{"id": "color", "value": {"mode": "fixed", "fixedColor": colour}}],
        }
        for name, colour in colours.items()
    ]
    return {"defaults": defaults, "overrides": overrides}


def _options(panel: _Panel) -> dict[str, Any]:
    if panel.kind == "stat":
        return {
            "colorMode": "background",
            "graphMode": "area",
            "justifyMode": "auto",
            "orientation": "auto",
            "percentChangeColorMode": "standard",
            "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
            "showPercentChange": False,
            "textMode": "auto",
            "wideLayout": True,
        }
    return {
        "legend": {"calcs": ["mean", "max"], "displayMode": "table", "placement": "bottom",
                   "showLegend": True},
        "tooltip": {"mode": "multi", "sort": "desc"},
    }  # fmt: skip


def _panel(panel: _Panel, panel_id: int, x: int, y: int) -> dict[str, Any]:
    return {
        "type": panel.kind,
        "id": panel_id,
        "title": panel.title,
        "description": panel.description,
        "datasource": dict(_DATASOURCE),
        "gridPos": {"h": _HEIGHT, "w": panel.width, "x": x, "y": y},
        "targets": [
            {
                "datasource": dict(_DATASOURCE),
                "editorMode": "code",
                "expr": target.expr,
                "legendFormat": target.legend,
                "range": True,
                "refId": chr(ord("A") + index),
            }
            for index, target in enumerate(panel.targets)
        ],
        "fieldConfig": _field_config(panel),
        "options": _options(panel),
    }


def _panels() -> list[dict[str, Any]]:
    panels: list[dict[str, Any]] = []
    panel_id, y = 1, 0
    for title, row in _ROWS:
        panels.append(
            {
                "type": "row",
                "id": panel_id,
                "title": title,
                "collapsed": False,
                "gridPos": {"h": 1, "w": 24, "x": 0, "y": y},
                "panels": [],
            }
        )
        panel_id, y, x = panel_id + 1, y + 1, 0
        for panel in row:
            if x + panel.width > 24:
                x, y = 0, y + _HEIGHT
            panels.append(_panel(panel, panel_id, x, y))
            panel_id, x = panel_id + 1, x + panel.width
        y += _HEIGHT
    return panels


def _query_variable(name: str, label: str, query: str, description: str) -> dict[str, Any]:
    multi = name != "project"
    variable: dict[str, Any] = {
        "type": "query",
        "name": name,
        "label": label,
        "description": description,
        "datasource": dict(_DATASOURCE),
        "query": query,
        "refresh": 2,  # on time range change: new models and versions show up
        "sort": 1,
        "regex": "",
        "hide": 0,
        "multi": multi,
        "includeAll": multi,
        "options": [],
    }
    if multi:
        # every value, including versions that appear after the page was loaded
        variable["allValue"] = ".*"
        variable["current"] = {"selected": True, "text": ["All"], "value": ["$__all"]}
    return variable


def _templating(datasource_uid: str) -> dict[str, Any]:
    return {
        "list": [
            {
                "type": "datasource",
                "name": "datasource",
                "label": "Data source",
                "description": "The Prometheus that scrapes the telltale collector.",
                "query": "prometheus",
                "current": {"selected": True, "text": DATASOURCE_NAME, "value": datasource_uid},
                "refresh": 1,
                "regex": "",
                "hide": 0,
                "options": [],
            },
            _query_variable(
                "project",
                "Project",
                "label_values(telltale_ingest_queue_depth, job)",
                "The Prometheus scrape job: a telltale read key sees one project, so each "
                "project is scraped by its own job (docs/grafana.md).",
            ),
            _query_variable(
                "model",
                "Model",
                'label_values(telltale_events_total{job="$project"}, model)',
                "Models that sent events.",
            ),
            _query_variable(
                "version",
                "Version",
                'label_values(telltale_events_total{job="$project", model=~"$model"}, version)',
                "Versions of the selected models.",
            ),
        ]
    }


def _check_title(title: str) -> str:
    if not title.strip():
        raise ConfigError(
            "--title is empty; give the dashboard a name, e.g. --title 'Fraud models'"
        )
    if len(title) > MAX_TITLE:
        raise ConfigError(
            f"--title is {len(title)} characters long; Grafana keeps at most {MAX_TITLE}: shorten it"
        )
    for char in title:
        # control, format (bidi overrides, zero-width) and unassigned characters hide or reorder
        # what the title says; letters of any script are fine
        if unicodedata.category(char) in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"):
            raise ConfigError(
                f"--title contains {char!r} (U+{ord(char):04X}), which is not printable; "
                "use letters, digits, spaces and punctuation"
            )
    return title


_UID = re.compile(r"[A-Za-z0-9_-]{1,40}")


def _check_uid(uid: str, option: str) -> str:
    if not _UID.fullmatch(uid):
        raise ConfigError(
            f"{option} {uid!r} is not a Grafana uid: use 1-40 letters, digits, '-' or '_', "
            f"e.g. {option} telltale-prod"
        )
    return uid


def _check_url(url: str) -> str:
    example = "e.g. --prometheus-url http://prometheus:9090"
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise ConfigError(f"--prometheus-url {url!r} is not a URL ({error}); {example}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"--prometheus-url {url!r} is not an http(s) URL with a host; {example}")
    if any(char.isspace() or not char.isprintable() for char in url) or not url.isascii():
        raise ConfigError(f"--prometheus-url {url!r} has spaces or non-ASCII characters; {example}")
    if parts.query or parts.fragment or parts.username or parts.password:
        raise ConfigError(
            f"--prometheus-url {url!r} has a query, fragment or credentials; give Prometheus' "
            f"base URL only (set credentials in Grafana), {example}"
        )
    if port == 0:
        raise ConfigError(f"--prometheus-url {url!r} has port 0; {example}")
    return url.rstrip("/")


_INTERVAL = re.compile(r"[1-9][0-9]{0,5}(ms|s|m|h)")


def _check_interval(interval: str) -> str:
    if not _INTERVAL.fullmatch(interval):
        raise ConfigError(f"--scrape-interval {interval!r} is not a duration like 15s, 1m or 500ms")
    return interval


def dashboard(
    *,
    title: str = DEFAULT_TITLE,
    uid: str = DASHBOARD_UID,
    datasource_uid: str = DATASOURCE_UID,
) -> dict[str, Any]:
    """The dashboard as Grafana's JSON model (a dict, ready for ``json.dumps``)."""
    return {
        "annotations": {
            "list": [
                {
                    "builtIn": 1,
                    "datasource": {"type": "grafana", "uid": "-- Grafana --"},
                    "enable": True,
                    "hide": True,
                    "iconColor": "rgba(0, 211, 255, 1)",
                    "name": "Annotations & Alerts",
                    "type": "dashboard",
                }
            ]
        },
        "description": "Traffic, latency, errors, dropped events, drift and performance of the "
        "models telltale watches, and the health of its collector (from /metrics).",
        "editable": True,
        "fiscalYearStartMonth": 0,
        "graphTooltip": 1,  # a shared crosshair: one moment across every panel
        "links": [],
        "liveNow": False,
        "panels": _panels(),
        "refresh": "30s",
        "schemaVersion": SCHEMA_VERSION,
        "tags": ["telltale", "ml-monitoring"],
        "templating": _templating(_check_uid(datasource_uid, "--datasource-uid")),
        "time": {"from": "now-6h", "to": "now"},
        "timezone": "browser",
        "title": _check_title(title),
        "uid": _check_uid(uid, "--uid"),
        "version": 1,
    }


def dashboard_json(**options: Any) -> str:
    """The dashboard as JSON text (sorted keys, two-space indent, one final newline)."""
    return json.dumps(dashboard(**options), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def dashboard_expressions(board: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """Every panel's (title, PromQL expression), in the order of the panels."""
    for panel in board["panels"]:
        for target in panel.get("targets", ()):
            yield panel["title"], target["expr"]


def _yaml(document: dict[str, Any], comment: str) -> str:
    import yaml

    return comment + yaml.safe_dump(document, sort_keys=False, allow_unicode=True)


def datasource_provisioning(
    *,
    prometheus_url: str = DEFAULT_PROMETHEUS_URL,
    datasource_uid: str = DATASOURCE_UID,
    scrape_interval: str = DEFAULT_SCRAPE_INTERVAL,
) -> str:
    """Grafana's data source provisioning file (YAML) for the Prometheus scraping telltale."""
    document = {
        "apiVersion": 1,
        "datasources": [
            {
                "name": DATASOURCE_NAME,
                "type": "prometheus",
                "uid": _check_uid(datasource_uid, "--datasource-uid"),
                "access": "proxy",
                "url": _check_url(prometheus_url),
                "isDefault": False,
                "editable": False,
                # the scrape interval is what $__rate_interval is computed from
                "jsonData": {
                    "httpMethod": "POST",
                    "timeInterval": _check_interval(scrape_interval),
                },
            }
        ],
    }
    return _yaml(document, "# Written by `telltale grafana export`; docs/grafana.md.\n")


def dashboard_provisioning(*, folder: str = DEFAULT_FOLDER, path: str) -> str:
    """Grafana's dashboard provider file (YAML): load the JSON files under ``path``."""
    if not folder.strip() or len(folder) > MAX_TITLE or not folder.isprintable():
        raise ConfigError(f"--folder {folder!r} must be a printable name, e.g. --folder Telltale")
    document = {
        "apiVersion": 1,
        "providers": [
            {
                "name": "telltale",
                "orgId": 1,
                "folder": folder,
                "type": "file",
                "disableDeletion": False,
                "allowUiUpdates": False,
                "updateIntervalSeconds": 30,
                "options": {"path": path, "foldersFromFilesStructure": False},
            }
        ],
    }
    return _yaml(document, "# Written by `telltale grafana export`; docs/grafana.md.\n")


PROVISIONING_ROOT = "/etc/grafana/provisioning"


def export_files(
    out_dir: str | Path,
    *,
    prometheus_url: str = DEFAULT_PROMETHEUS_URL,
    datasource_uid: str = DATASOURCE_UID,
    title: str = DEFAULT_TITLE,
    uid: str = DASHBOARD_UID,
    folder: str = DEFAULT_FOLDER,
    scrape_interval: str = DEFAULT_SCRAPE_INTERVAL,
) -> list[Path]:
    """Write the three files under ``out_dir/provisioning/``; return their paths.

    Everything is built (and checked) before anything is written, so bad arguments leave no
    half-written directory.
    """
    files: Sequence[tuple[str, str]] = (
        (
            "provisioning/datasources/telltale.yaml",
            datasource_provisioning(
                prometheus_url=prometheus_url,
                datasource_uid=datasource_uid,
                scrape_interval=scrape_interval,
            ),
        ),
        (
            "provisioning/dashboards/telltale.yaml",
            dashboard_provisioning(folder=folder, path=f"{PROVISIONING_ROOT}/dashboards/telltale"),
        ),
        (
            f"provisioning/dashboards/telltale/{uid}.json",
            dashboard_json(title=title, uid=uid, datasource_uid=datasource_uid),
        ),
    )
    root = Path(out_dir)
    written = []
    for relative, text in files:
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.tmp")
        temporary.write_text(text, encoding="utf-8")
        temporary.replace(path)  # a reader (Grafana polls the folder) never sees half a file
        written.append(path)
    return written
