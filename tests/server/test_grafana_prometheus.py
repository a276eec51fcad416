"""Every query of the Grafana dashboard runs on a real Prometheus scraping a real collector that
has received events, and returns data: the PromQL is valid and reads series that exist, with the
labels they really have (e.g. the SDK instance as ``exported_instance`` once Prometheus scrapes)."""

from __future__ import annotations

import math
import re
import time
from collections.abc import Iterator
from typing import Any

import pytest
from _collector import Running, ThreadServer, make_keys
from _prometheus import Prometheus, require_prometheus
from _server_events import json_body, make_events

from telltale.grafana import dashboard, dashboard_expressions
from telltale.server import ServerSettings

_skip = require_prometheus()
if _skip is not None:
    pytestmark = _skip

# what the template variables stand for in this test, as Grafana would substitute them
ONE = {"$project": "fraud", "$model": "fraud", "$version": "1.4.0"}
ALL = {"$project": "fraud", "$model": ".*", "$version": ".*"}
# what Grafana sets $__rate_interval to with a 1 s scrape interval is far less; a minute keeps
# every sample of the test in the window
RATE_INTERVAL = "1m"
# panels whose figures are plain numbers once events have arrived (not NaN, not empty)
CORE = (
    "Events per second",
    "Latency",
    "Share of calls that failed",
    "Error and timeout rate",
    "Invalid outputs",
)


def _substitute(expression: str, values: dict[str, str]) -> str:
    for name, value in values.items():
        expression = expression.replace(name, value)
    expression = expression.replace("$__rate_interval", RATE_INTERVAL)
    assert "$" not in expression, expression
    return expression


def _post(running: Running, events: list[dict[str, Any]], dropped: int) -> None:
    client_info = {"instance": "sdk-host-1", "dropped": dropped, "sdk": "py"}
    with running.client("fraud:ingest") as client:
        response = client.post(
            "/v1/events",
            content=json_body(events, client=client_info),
            headers={"Content-Type": "application/json"},
        )
    assert response.status_code == 200, response.text


@pytest.fixture(scope="module")
def collector(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    """The collector of conftest.py, kept for the module: the scrapes take ~10 s to set up."""
    db = tmp_path_factory.mktemp("collector") / "telltale.duckdb"
    keys = make_keys(db)
    with ThreadServer(ServerSettings(db=str(db), port=0, decode_processes=0)) as server:
        yield Running(f"http://127.0.0.1:{server.port}", db, keys, server.app)


@pytest.fixture(scope="module")
def scraped(collector: Running, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Prometheus]:
    """Prometheus scraping the collector every second (job named after the project, as
    docs/grafana.md says), after events of two versions came in over several scrapes."""
    tmp_path = tmp_path_factory.mktemp("prometheus")
    target = collector.url.removeprefix("http://")
    config = (
        "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
        "scrape_configs:\n"
        "  - job_name: fraud\n"
        f"    authorization: {{type: Bearer, credentials: '{collector.keys['fraud:read']}'}}\n"
        f"    static_configs: [{{targets: ['{target}']}}]\n"
    )
    # the monitor loop's figures, set where it sets them (its drift maths is tested elsewhere)
    metrics = collector.app.state.collector.metrics
    metrics.set_drift("fraud", "fraud", {"x0": (0.31, "psi", True), "x1": (0.02, "psi", False)})
    metrics.set_performance("fraud", "fraud", {"accuracy": 0.91, "coverage": 0.4})
    with Prometheus(config, tmp_path) as prometheus:
        _post(collector, make_events(300, seed=1), dropped=0)
        assert prometheus.wait_for('telltale_events_total{job="fraud"}'), prometheus.tail()
        # more batches, scraped one by one, so every counter rises within the rate window
        for batch in range(6):
            version = "1.4.0" if batch % 2 else "1.5.0"
            _post(collector, make_events(200, seed=10 + batch, version=version), 5 * (batch + 1))
            time.sleep(0.6)
        time.sleep(1.5)
        yield prometheus


def _value(sample: dict[str, Any]) -> float:
    return float(sample["value"][1])


@pytest.mark.slow
def test_every_dashboard_query_returns_data(scraped: Prometheus) -> None:
    board = dashboard()
    empty = []
    for values in (ONE, ALL):
        for title, expression in dashboard_expressions(board):
            result = scraped.query(_substitute(expression, values))  # asserts status success
            if not result:
                empty.append((title, values["$version"], expression))
                continue
            if title.startswith(CORE):
                numbers = [_value(sample) for sample in result]
                assert all(math.isfinite(n) and n >= 0 for n in numbers), (title, result)
    assert empty == [], "no data for:\n" + "\n".join(map(str, empty)) + "\n" + scraped.tail()


@pytest.mark.slow
def test_the_figures_are_the_ones_the_collector_reports(scraped: Prometheus) -> None:
    by_title: dict[str, list[str]] = {}
    for title, expression in dashboard_expressions(dashboard()):
        by_title.setdefault(title, []).append(_substitute(expression, ALL))

    p50, p95, p99, mean = (
        _value(scraped.query(e)[0]) for e in by_title["Latency p50, p95, p99 and mean"]
    )
    assert 0 < p50 <= p95 <= p99 < 10_000  # milliseconds: the events' latency is ~1 ms median
    assert 0 < mean < 100
    (per_version,) = by_title["Events per second by model and version"]
    versions = {r["metric"]["version"] for r in scraped.query(per_version)}
    assert versions == {"1.4.0", "1.5.0"}
    (shares,) = by_title["Share of calls that failed, by status"]
    failed = {r["metric"]["status"]: _value(r) for r in scraped.query(shares)}
    assert set(failed) == {"error", "invalid", "timeout"}
    assert all(0 < share < 1 for share in failed.values()) and sum(failed.values()) < 1
    (dropped,) = by_title["Dropped events (running total)"]
    assert _value(scraped.query(dropped)[0]) == 30  # the SDK's last running total
    (per_instance,) = by_title["Dropped events per second by SDK instance"]
    assert [r["metric"]["exported_instance"] for r in scraped.query(per_instance)] == ["sdk-host-1"]
    (drifting,) = by_title["Features drifting"]
    assert [(r["metric"]["model"], _value(r)) for r in scraped.query(drifting)] == [("fraud", 1.0)]
    (performance,) = by_title["Performance"]
    assert {r["metric"]["metric"]: _value(r) for r in scraped.query(performance)} == {
        "accuracy": 0.91,
        "coverage": 0.4,
    }
    (up,) = by_title["Collector up"]
    assert _value(scraped.query(up)[0]) == 1


@pytest.mark.slow
def test_the_template_variables_list_the_real_values(scraped: Prometheus) -> None:
    found = {}
    for variable in dashboard()["templating"]["list"]:
        if variable["type"] != "query":
            continue
        match = re.fullmatch(r"label_values\((.+), (\w+)\)", variable["query"])
        assert match, variable["query"]
        selector, label = match.groups()
        # what Grafana's Prometheus data source asks for a label_values() variable
        answer = scraped.api(f"label/{label}/values", **{"match[]": _substitute(selector, ALL)})
        assert answer["status"] == "success", answer
        found[variable["name"]] = answer["data"]
    assert found == {"project": ["fraud"], "model": ["fraud"], "version": ["1.4.0", "1.5.0"]}
