"""A real Prometheus (the Debian package) scrapes the collector with a read key."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from _collector import Running, free_port
from _server_events import json_body, make_events

PROMETHEUS = shutil.which("prometheus")

if PROMETHEUS is None:
    if os.environ.get("TELLTALE_REQUIRE_SERVERS"):
        pytest.fail("prometheus is not installed; .ci/run installs it with apt-get", pytrace=False)
    pytestmark = pytest.mark.skip(reason="prometheus not installed (apt-get install prometheus)")


def _query(url: str, expression: str) -> list[dict[str, Any]]:
    response = httpx.get(f"{url}/api/v1/query", params={"query": expression}, timeout=5)
    response.raise_for_status()
    return response.json()["data"]["result"]  # type: ignore[no-any-return]


@pytest.mark.slow
def test_prometheus_scrapes_counts_equal_to_what_was_sent(
    collector: Running, tmp_path: Path
) -> None:
    events = make_events(1500, seed=8)
    with collector.client("fraud:ingest") as client:
        for i in range(0, len(events), 500):
            response = client.post(
                "/v1/events",
                content=json_body(events[i : i + 500]),
                headers={"Content-Type": "application/json"},
            )
            assert response.status_code == 200
    target = collector.url.removeprefix("http://")
    config = tmp_path / "prometheus.yml"
    config.write_text(
        "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
        "scrape_configs:\n"
        "  - job_name: telltale\n"
        f"    authorization: {{type: Bearer, credentials: '{collector.keys['fraud:read']}'}}\n"
        f"    static_configs: [{{targets: ['{target}']}}]\n"
        "  - job_name: telltale-wrong-key\n"
        f"    authorization: {{type: Bearer, credentials: '{collector.keys['fraud:ingest']}'}}\n"
        f"    static_configs: [{{targets: ['{target}']}}]\n",
        encoding="utf-8",
    )
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    assert PROMETHEUS is not None
    with (tmp_path / "prometheus.log").open("wb") as log:
        process = subprocess.Popen(
            [
                PROMETHEUS,
                f"--config.file={config}",
                f"--storage.tsdb.path={tmp_path / 'tsdb'}",
                f"--web.listen-address=127.0.0.1:{port}",
            ],
            stdout=log,
            stderr=log,
        )
    try:
        deadline = time.monotonic() + 60
        result: list[dict[str, Any]] = []
        while time.monotonic() < deadline:
            try:
                result = _query(url, 'sum by (status) (telltale_events_total{job="telltale"})')
            except httpx.HTTPError:
                result = []
            if result:
                break
            time.sleep(0.5)
        assert result, (tmp_path / "prometheus.log").read_text()[-2000:]
        scraped = {r["metric"]["status"]: float(r["value"][1]) for r in result}
        expected: dict[str, float] = {}
        for event in events:
            expected[event["status"]] = expected.get(event["status"], 0) + 1
        assert scraped == expected

        p99 = _query(
            url,
            "histogram_quantile(0.99, sum by (le) "
            '(telltale_prediction_latency_seconds_bucket{job="telltale"}))',
        )
        assert 0 < float(p99[0]["value"][1]) < 10

        # an ingest key may not read /metrics: Prometheus sees the 403
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            targets = httpx.get(f"{url}/api/v1/targets", timeout=5).json()["data"]["activeTargets"]
            health = {t["labels"]["job"]: (t["health"], t["lastError"]) for t in targets}
            if health["telltale-wrong-key"][0] == "down":
                break
            time.sleep(0.5)
        assert health["telltale"] == ("up", "")
        assert health["telltale-wrong-key"][0] == "down"
        assert "403" in health["telltale-wrong-key"][1]
    finally:
        process.terminate()
        process.wait(30)
