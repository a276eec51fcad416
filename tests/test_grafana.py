"""The Grafana export: the dashboard conforms to Grafana's published dashboard schema, reads only
series the collector exports, and the CLI writes deterministic files with clear errors.

The schema reference is ``grafana-foundation-sdk`` ``1769699379!11.6.0`` from PyPI: Grafana
Labs' SDK whose models are generated (by their ``cog`` tool) from Grafana 11.6's own CUE schemas:
the dashboard kind (``schemaVersion`` 41), the panel plugins' ``options``/``fieldConfig`` (timeseries,
stat) and the Prometheus query. Its ``from_json`` is lenient, so conformance is checked in two
ways that use only the SDK's generated models:

1. Round trip: ``Dashboard.from_json`` then the SDK's own encoder must give back every key we wrote
   with the same value. The models know only the schema's fields, so a misspelled or unknown key
   (anywhere: dashboard, panel, options, query, variable) is dropped and the test fails. Keys the
   encoder adds are the schema's defaults for fields left out (a panel's ``transparent: false``).
2. Types: every value the model holds is checked against the model's generated type annotations
   (required vs optional, ``str``/``int``/``float``/``bool``, ``Literal`` and enum values, lists,
   nested models), and each query must decode as the Prometheus data query, not an unknown one.

Both checks are shown to catch mistakes (``test_the_schema_check_catches_mistakes``).
The PromQL itself runs against a real Prometheus in tests/server/test_grafana_prometheus.py.
"""

from __future__ import annotations

import copy
import enum
import json
import os
import re
import stat
import types
import typing
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from telltale.cli.main import main
from telltale.errors import ConfigError
from telltale.grafana import (
    DASHBOARD_UID,
    PALETTE,
    SCHEMA_VERSION,
    dashboard,
    dashboard_expressions,
    dashboard_json,
    dashboard_provisioning,
    datasource_provisioning,
    export_files,
)
from telltale.server.metrics import BatchDelta, MetricsState, render_metrics

SDK_VERSION = "1769699379!11.6.0"


# --- the schema (Grafana Foundation SDK) ------------------------------------------------------


@pytest.fixture(scope="module")
def sdk() -> types.SimpleNamespace:
    pytest.importorskip("grafana_foundation_sdk", reason="pip install -e '.[dev]' (Python ≥ 3.11)")
    from importlib.metadata import version

    from grafana_foundation_sdk.cog import runtime
    from grafana_foundation_sdk.cog.encoder import JSONEncoder
    from grafana_foundation_sdk.cog.plugins import register_default_plugins
    from grafana_foundation_sdk.models import dashboard as models
    from grafana_foundation_sdk.models import prometheus

    # the 10.x builds carry a later epoch, so a loose pin could silently check an older schema
    assert version("grafana-foundation-sdk") == SDK_VERSION
    register_default_plugins()
    return types.SimpleNamespace(
        Dashboard=models.Dashboard,
        encoder=JSONEncoder,
        PrometheusQuery=prometheus.Dataquery,
        UnknownDataquery=runtime.UnknownDataquery,
    )


def _round_trip_problems(sdk: Any, board: dict[str, Any]) -> list[str]:
    model = sdk.Dashboard.from_json(copy.deepcopy(board))
    back = json.loads(json.dumps(model, cls=sdk.encoder))
    problems: list[str] = []

    def compare(ours: Any, theirs: Any, path: str) -> None:
        if isinstance(ours, dict) and isinstance(theirs, dict):
            for key in ours:
                if key not in theirs:
                    problems.append(f"{path}.{key}: not in the schema")
                else:
                    compare(ours[key], theirs[key], f"{path}.{key}")
        elif isinstance(ours, list) and isinstance(theirs, list) and len(ours) == len(theirs):
            for index, (a, b) in enumerate(zip(ours, theirs, strict=True)):
                compare(a, b, f"{path}[{index}]")
        elif ours != theirs or type(ours) is not type(theirs):
            problems.append(f"{path}: {ours!r} came back as {theirs!r}")

    compare(board, back, "$")
    return problems


def _type_problems(sdk: Any, value: Any, hint: Any, path: str) -> list[str]:
    """Where ``value`` does not fit the SDK's annotation ``hint`` (recursively)."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if hint is typing.Any or hint is object:
        if type(value).__module__.startswith("grafana_foundation_sdk.models"):
            return _model_problems(sdk, value, path)
        return []
    if origin in (typing.Union, types.UnionType):
        for arm in args:  # a decoded model (Panel or RowPanel) is checked as what it is
            is_model = isinstance(arm, type) and not issubclass(arm, enum.Enum)
            if (
                is_model
                and arm.__module__.startswith("grafana_foundation_sdk")
                and isinstance(value, arm)
            ):
                return _type_problems(sdk, value, arm, path)
        tried = [_type_problems(sdk, value, arm, path) for arm in args]
        return [] if any(not t for t in tried) else min(tried, key=len)
    if hint is type(None):
        return [] if value is None else [f"{path}: {value!r} is not null"]
    if origin is typing.Literal:
        return [] if value in args else [f"{path}: {value!r} is not one of {args}"]
    if origin is list:
        if not isinstance(value, list):
            return [f"{path}: {value!r} is not a list"]
        return [
            p for i, v in enumerate(value) for p in _type_problems(sdk, v, args[0], f"{path}[{i}]")
        ]
    if origin is dict:
        return [] if isinstance(value, dict) else [f"{path}: {value!r} is not an object"]
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        try:
            hint(value)
        except ValueError:
            return [f"{path}: {value!r} is not a {hint.__name__}"]
        return []
    if hint is bool:
        return [] if isinstance(value, bool) else [f"{path}: {value!r} is not a boolean"]
    if hint is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
        return [] if ok else [f"{path}: {value!r} is not an integer"]
    if hint is float:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        return [] if ok else [f"{path}: {value!r} is not a number"]
    if hint is str:
        return [] if isinstance(value, str) else [f"{path}: {value!r} is not a string"]
    if isinstance(hint, type):
        if isinstance(value, sdk.UnknownDataquery):
            return [f"{path}: a query the schema does not know ({value.data!r})"]
        if not isinstance(value, hint):
            return [f"{path}: {value!r} is not a {hint.__name__}"]
        return _model_problems(sdk, value, path)
    raise AssertionError(f"{path}: no check for the annotation {hint!r}")


def _model_problems(sdk: Any, model: Any, path: str) -> list[str]:
    hints = typing.get_type_hints(type(model))
    return [
        problem
        for name, hint in hints.items()
        for problem in _type_problems(sdk, getattr(model, name), hint, f"{path}.{name}")
    ]


def schema_problems(sdk: Any, board: dict[str, Any]) -> list[str]:
    model = sdk.Dashboard.from_json(copy.deepcopy(board))
    problems = _round_trip_problems(sdk, board) + _model_problems(sdk, model, "$")
    for panel in model.panels or []:
        for target in getattr(panel, "targets", None) or []:
            if not isinstance(target, sdk.PrometheusQuery):
                problems.append(f"{panel.title}: query {target!r} is not a Prometheus query")
    return problems


def test_the_dashboard_conforms_to_grafanas_schema(sdk: Any) -> None:
    board = dashboard()
    assert board["schemaVersion"] == SCHEMA_VERSION == sdk.Dashboard().schema_version
    assert schema_problems(sdk, board) == []
    # and so does what the CLI writes, with every option changed
    custom = json.loads(
        dashboard_json(title="Détection — 監視 ✓", uid="prod_fraud-1", datasource_uid="prom-prod")
    )
    assert schema_problems(sdk, custom) == []


@pytest.mark.parametrize(
    ("mutate", "words"),
    [
        (lambda b: b["panels"][1].update(titel="typo"), "panels[1].titel: not in the schema"),
        (lambda b: b["panels"][1]["options"]["legend"].update(placement="left"), "is not a LegendPlacement"),
        (lambda b: b["panels"][1]["gridPos"].update(w="12"), "grid_pos.w: '12' is not an integer"),
        (lambda b: b["panels"][1]["targets"][0].update(exprr="up"), "targets[0].exprr: not in the schema"),
        (lambda b: b["templating"]["list"][1].update(refresh=7), "is not a VariableRefresh"),
        (lambda b: b["panels"][1]["fieldConfig"]["defaults"].update(color={"mode": "rainbow"}), "is not a FieldColorModeId"),
        (lambda b: b.update(graphTooltip="shared"), "graph_tooltip: 'shared' is not a DashboardCursorSync"),
        (lambda b: b["panels"][0].update(collapsed="no"), "collapsed: 'no' is not a boolean"),
    ],
)  # fmt: skip
def test_the_schema_check_catches_mistakes(sdk: Any, mutate: Any, words: str) -> None:
    board = dashboard()
    mutate(board)
    problems = schema_problems(sdk, board)
    assert any(words in p for p in problems), problems


# --- what the dashboard shows -----------------------------------------------------------------


def _exported_series() -> set[str]:
    """Every sample name /metrics shows once each kind of series has data."""
    state = MetricsState()
    events = pa.table(
        {
            "model": ["fraud"] * 3,
            "version": ["1"] * 3,
            "status": ["ok", "invalid", "error"],
            "latency_ms": [1.0, 2.0, 3.0],
        }
    )
    state.apply("p", BatchDelta.from_events(events, {"instance": "h1", "dropped": 2}))
    state.set_drift("p", "fraud", {"x": (0.3, "psi", True)})
    state.set_performance("p", "fraud", {"accuracy": 0.9})
    state.record_commit(0.01)
    text = render_metrics(state, "p").decode()
    return {s.name for f in text_string_to_metric_families(text) for s in f.samples}


def test_every_query_reads_series_the_collector_exports() -> None:
    exported = _exported_series() | {"up"}  # up: Prometheus' own series for each target
    used = set()
    for title, expression in dashboard_expressions(dashboard()):
        names = set(re.findall(r"\b(telltale_[a-z_]+|up)\{", expression))
        assert names, (title, expression)
        used |= names
    assert used - exported == set()
    # and the dashboard covers every series family there is
    families = {re.sub(r"_(bucket|sum|count|total|created)$", "", n) for n in exported}
    covered = {re.sub(r"_(bucket|sum|count|total)$", "", n) for n in used}
    assert families - covered == set()


def test_panels_have_descriptions_units_and_colour_blind_safe_colours() -> None:
    board = dashboard()
    panels = [p for p in board["panels"] if p["type"] != "row"]
    rows = [p["title"] for p in board["panels"] if p["type"] == "row"]
    assert rows == ["Traffic", "Latency", "Errors", "Dropped events (SDK)", "Drift and performance", "Collector"]  # fmt: skip
    assert len(panels) == 16
    safe = set(PALETTE.values())
    units = set()
    for panel in panels:
        assert len(panel["description"]) > 30, panel["title"]
        units.add(panel["fieldConfig"]["defaults"]["unit"])
        text = json.dumps(panel)
        colours = set(re.findall(r'"(?:fixedColor|color)": "(#[0-9A-Fa-f]{6}|[a-z]+)"', text))
        assert colours <= safe, (panel["title"], colours - safe)
        for target in panel["targets"]:
            assert target["datasource"] == {"type": "prometheus", "uid": "${datasource}"}
    assert {"ms", "reqps", "percentunit"} <= units
    by_title = {p["title"]: p for p in panels}
    latency = by_title["Latency p50, p95, p99 and mean"]["targets"]
    assert [t["legendFormat"] for t in latency] == ["p50", "p95", "p99", "mean"]
    for target, quantile in zip(latency, ("0.5", "0.95", "0.99"), strict=False):
        assert target["expr"].startswith(f"histogram_quantile({quantile}, sum by (le) (rate(")
        assert "[$__rate_interval]" in target["expr"]
    # panels sit side by side within 24 columns and never overlap
    cells: set[tuple[int, int]] = set()
    for panel in board["panels"]:
        pos = panel["gridPos"]
        assert pos["x"] + pos["w"] <= 24
        cell = {(pos["y"] + dy, pos["x"] + dx) for dy in range(pos["h"]) for dx in range(pos["w"])}
        assert not cells & cell, panel["title"]
        cells |= cell
    assert len({p["id"] for p in board["panels"]}) == len(board["panels"])


def test_template_variables() -> None:
    board = dashboard(datasource_uid="prom-prod")
    variables = {v["name"]: v for v in board["templating"]["list"]}
    assert list(variables) == ["datasource", "project", "model", "version"]
    assert variables["datasource"]["type"] == "datasource"
    assert variables["datasource"]["query"] == "prometheus"
    assert variables["datasource"]["current"]["value"] == "prom-prod"
    assert variables["project"]["query"] == "label_values(telltale_ingest_queue_depth, job)"
    assert (
        variables["model"]["query"] == 'label_values(telltale_events_total{job="$project"}, model)'
    )
    assert variables["version"]["query"].startswith("label_values(telltale_events_total{")
    assert variables["model"]["multi"] and variables["model"]["allValue"] == ".*"
    assert not variables["project"]["multi"]
    for _, expression in dashboard_expressions(board):
        assert 'job="$project"' in expression
    assert board["uid"] == DASHBOARD_UID and dashboard()["uid"] == DASHBOARD_UID


def test_the_same_arguments_give_the_same_bytes() -> None:
    assert dashboard_json() == dashboard_json()
    assert dashboard_json(title="a") != dashboard_json(title="b")
    assert datasource_provisioning() == datasource_provisioning()
    assert json.loads(dashboard_json()) == dashboard()


# --- provisioning files -----------------------------------------------------------------------


def test_datasource_provisioning() -> None:
    text = datasource_provisioning(
        prometheus_url="https://prom.internal:9443/prometheus/", datasource_uid="prom-prod"
    )
    document = yaml.safe_load(text)
    assert document == {
        "apiVersion": 1,
        "datasources": [
            {
                "name": "Telltale Prometheus",
                "type": "prometheus",
                "uid": "prom-prod",
                "access": "proxy",
                "url": "https://prom.internal:9443/prometheus",
                "isDefault": False,
                "editable": False,
                "jsonData": {"httpMethod": "POST", "timeInterval": "15s"},
            }
        ],
    }


def test_dashboard_provisioning() -> None:
    document = yaml.safe_load(dashboard_provisioning(folder="ML — prod", path="/x/y"))
    (provider,) = document["providers"]
    assert document["apiVersion"] == 1
    assert provider["type"] == "file" and provider["folder"] == "ML — prod"
    assert provider["options"]["path"] == "/x/y"


def test_export_files_lay_out_one_provisioning_tree(tmp_path: Path) -> None:
    written = export_files(tmp_path, prometheus_url="http://prom:9090")
    relative = sorted(str(p.relative_to(tmp_path)) for p in written)
    assert relative == [
        "provisioning/dashboards/telltale.yaml",
        "provisioning/dashboards/telltale/telltale-overview.json",
        "provisioning/datasources/telltale.yaml",
    ]
    provider = yaml.safe_load((tmp_path / relative[0]).read_text())["providers"][0]
    # the provider's path is where the dashboard lands once provisioning/ is mounted in Grafana
    assert provider["options"]["path"] == "/etc/grafana/provisioning/dashboards/telltale"
    assert json.loads((tmp_path / relative[1]).read_text()) == dashboard()
    assert [p.name for p in tmp_path.rglob(".*")] == []  # no temporary files left


# --- the command ------------------------------------------------------------------------------


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exited:
        main(list(args))
    captured = capsys.readouterr()
    return int(exited.value.code or 0), captured.out, captured.err


def _tree(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def test_export_writes_the_files_and_is_deterministic(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    args = ("--prometheus-url", "http://prometheus:9090", "--title", "Détection — 監視")
    code, out, err = run(capsys, "grafana", "export", "--out-dir", str(tmp_path / "a"), *args)
    assert code == 0, err
    assert out.count("wrote ") == 3
    assert "/etc/grafana/provisioning:ro" in err
    run(capsys, "grafana", "export", "--out-dir", str(tmp_path / "b"), *args)
    first, second = _tree(tmp_path / "a"), _tree(tmp_path / "b")
    assert first == second and len(first) == 3
    board = json.loads(first["provisioning/dashboards/telltale/telltale-overview.json"])
    assert board["title"] == "Détection — 監視"
    # written again into the same place: the same bytes
    run(capsys, "grafana", "export", "--out-dir", str(tmp_path / "a"), *args)
    assert _tree(tmp_path / "a") == first


def test_export_options_reach_the_files(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = run(
        capsys, "grafana", "export", "--out-dir", str(tmp_path), "--datasource-uid", "prom-prod",
        "--uid", "fraud-board", "--folder", "Fraud", "--scrape-interval", "30s",
    )  # fmt: skip
    assert code == 0, err
    source = yaml.safe_load((tmp_path / "provisioning/datasources/telltale.yaml").read_text())
    assert source["datasources"][0]["uid"] == "prom-prod"
    assert source["datasources"][0]["jsonData"]["timeInterval"] == "30s"
    board = json.loads((tmp_path / "provisioning/dashboards/telltale/fraud-board.json").read_text())
    assert board["uid"] == "fraud-board"
    assert board["templating"]["list"][0]["current"]["value"] == "prom-prod"
    provider = yaml.safe_load((tmp_path / "provisioning/dashboards/telltale.yaml").read_text())
    assert provider["providers"][0]["folder"] == "Fraud"


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("--prometheus-url", "prometheus:9090"), "--prometheus-url 'prometheus:9090' is not an http(s) URL"),
        (("--prometheus-url", "ftp://prom"), "is not an http(s) URL with a host"),
        (("--prometheus-url", "http://"), "is not an http(s) URL with a host"),
        (("--prometheus-url", "http://prom:99999"), "is not a URL (Port out of range"),
        (("--prometheus-url", "http://prom ql:9090"), "has spaces or non-ASCII"),
        (("--prometheus-url", "http://user:pw@prom:9090"), "has a query, fragment or credentials"),
        (("--title", "x" * 190), "--title is 190 characters long; Grafana keeps at most 189"),
        (("--title", "   "), "--title is empty"),
        (("--title", "fraud\u202eevil"), "(U+202E), which is not printable"),
        (("--title", "two\nlines"), "(U+000A), which is not printable"),
        (("--datasource-uid", "prom prod"), "--datasource-uid 'prom prod' is not a Grafana uid"),
        (("--uid", "x" * 41), "is not a Grafana uid"),
        (("--scrape-interval", "soon"), "--scrape-interval 'soon' is not a duration"),
        (("--folder", ""), "--folder '' must be a printable name"),
    ],
)  # fmt: skip
def test_bad_input_gets_one_clear_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, args: tuple[str, ...], words: str
) -> None:
    out_dir = tmp_path / "out"
    code, _, err = run(capsys, "grafana", "export", "--out-dir", str(out_dir), *args)
    assert code == 1
    assert err.startswith("error: ") and err.count("\n") == 1, err
    assert words in err, err
    assert not out_dir.exists()  # nothing written on bad input


def test_an_unwritable_directory_gets_one_clear_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(stat.S_IRUSR | stat.S_IXUSR)
    # root may write into a read-only directory, but not into /proc
    targets = (
        [Path("/proc"), Path("/proc/telltale")] if os.geteuid() == 0 else [locked, locked / "sub"]
    )
    try:
        for target in targets:
            code, _, err = run(capsys, "grafana", "export", "--out-dir", str(target))
            assert code == 1 and err.startswith("error: ") and err.count("\n") == 1, err
            assert f"--out-dir {str(target)!r}" in err and "pick a directory" in err, err
    finally:
        locked.chmod(stat.S_IRWXU)


def test_an_out_dir_that_is_a_file_or_under_a_file_gets_one_clear_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # (a file in the way fails for root too, unlike permissions)
    blocker = tmp_path / "file.txt"
    blocker.write_text("x")
    code, _, err = run(capsys, "grafana", "export", "--out-dir", str(blocker))
    assert code == 1 and "is a file, not a directory" in err and err.count("\n") == 1
    code, _, err = run(capsys, "grafana", "export", "--out-dir", str(blocker / "sub"))
    assert code == 1 and "cannot create --out-dir" in err and err.count("\n") == 1, err


def test_a_file_in_the_way_inside_the_tree_gets_one_clear_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    (tmp_path / "provisioning").write_text("not a directory")
    code, _, err = run(capsys, "grafana", "export", "--out-dir", str(tmp_path))
    assert code == 1 and "cannot write under --out-dir" in err and err.count("\n") == 1, err


def test_help_teaches_with_examples(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "grafana", "--help")
    assert code == 0 and "telltale grafana export --out-dir grafana" in out
    code, out, _ = run(capsys, "grafana", "export", "--help")
    assert code == 0
    for words in (
        "--prometheus-url",
        "--datasource-uid",
        "--title",
        "--out-dir",
        "/etc/grafana/provisioning",
        "docker run",
        "provisioning/datasources/telltale.yaml",
    ):
        assert words in out, words  # fmt: skip


def test_the_docs_page_matches_the_dashboard() -> None:
    page = (Path(__file__).resolve().parents[1] / "docs" / "grafana.md").read_text(encoding="utf-8")
    for panel in dashboard()["panels"]:
        assert panel["title"] in page, panel["title"]
    for option in (
        "--out-dir",
        "--prometheus-url",
        "--datasource-uid",
        "--title",
        "--uid",
        "--folder",
        "--scrape-interval",
    ):
        assert f"`{option}`" in page, option  # fmt: skip


def test_the_public_surface_is_curated() -> None:
    import telltale.grafana as module

    assert module.__all__ == sorted(module.__all__, key=lambda n: (not n.isupper(), n))
    assert all(getattr(module, name) is not None for name in module.__all__)


def test_bad_arguments_to_the_functions_raise_config_error() -> None:
    with pytest.raises(ConfigError, match="not a Grafana uid"):
        dashboard(uid="a/b")
    with pytest.raises(ConfigError, match="not an http"):
        datasource_provisioning(prometheus_url="localhost")
