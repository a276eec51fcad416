"""The vendored chart library is the pinned build with its licence, served by the collector, and
no page loads anything from another site (the dashboard works offline)."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest
from _dashboard_data import Data

import telltale.dashboard

VENDOR = Path(telltale.dashboard.__file__).parent / "static" / "vendor" / "chart.js"


def test_the_vendored_chart_js_is_the_pinned_version_with_its_licence(data: Data) -> None:
    version = (VENDOR / "VERSION").read_text()
    assert version.startswith("Chart.js 3.9.1")
    digest = re.search(r"sha256 ([0-9a-f]{64})", version)
    assert digest is not None
    with data.client(None) as client:  # static files need no key
        served = client.get("/static/dashboard/vendor/chart.js/chart.umd.min.js")
    assert served.status_code == 200
    assert hashlib.sha256(served.content).hexdigest() == digest.group(1)
    assert served.content.startswith(b"/*!\n * Chart.js v3.9.1")
    assert "Permission is hereby granted" in (VENDOR / "LICENSE").read_text()


@pytest.mark.parametrize("path", ["/", "/models/fraud", "/events", "/alerts", "/login"])
def test_pages_load_nothing_from_elsewhere(data: Data, path: str) -> None:
    with data.client() as client:
        html = client.get(path).text
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert sources and all(not re.match(r"(?i)(https?:)?//", s) for s in sources), sources
    assert "@import" not in html and "fonts.googleapis" not in html


def test_the_docs_list_every_range_status_and_page() -> None:
    from telltale.dashboard.events import STATUSES
    from telltale.dashboard.params import RANGES

    doc = (Path(__file__).resolve().parents[2] / "docs" / "dashboard.md").read_text()
    ranges = ", ".join(f"`{name}`" for name in RANGES)
    assert ranges in doc
    assert ", ".join(f"`{name}`" for name in STATUSES) in doc
    for url in ("`/`", "`/models/<model>`", "`/models/<model>/features/<feature>`",
                "`/environments`", "`/events`", "`/events/<model>/<event id>`", "`/alerts`"):  # fmt: skip
        assert url in doc, url
