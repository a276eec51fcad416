"""The dashboard in a real browser: Debian's Chromium driven by Playwright. Every page loads with
no console error (the pages' Content-Security-Policy turns any inline script or style into one),
charts draw, the range picker and filters change what is shown, the explorer opens an event,
and an alert is acknowledged through its form. Screenshots go to test-artifacts/dashboard/."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from _dashboard_data import HOSTILE_MODEL, Data

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "dashboard"

if not Path(CHROMIUM).exists():
    if os.environ.get("TELLTALE_REQUIRE_SERVERS"):
        pytest.fail(f"{CHROMIUM} is missing (apt-get install chromium)", pytrace=False)
    pytestmark = pytest.mark.skip(reason=f"{CHROMIUM} is missing (apt-get install chromium)")

sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright")


class Browser:
    def __init__(self, page: Any, base: str) -> None:
        self.page = page
        self.base = base
        self.errors: list[str] = []
        page.on(
            "console",
            lambda m: self.errors.append(f"console: {m.text}") if m.type == "error" else None,
        )
        page.on("pageerror", lambda e: self.errors.append(f"pageerror: {e}"))
        # the hostile names call alert(): a dialog means injected script ran
        page.on("dialog", lambda d: (self.errors.append(f"dialog: {d.message}"), d.dismiss()))

    def open(self, path: str) -> Any:
        self.errors.clear()
        response = self.page.goto(self.base + path, wait_until="load")
        self.page.wait_for_load_state("networkidle")
        return response

    def shot(self, name: str) -> None:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


@pytest.fixture(scope="module")
def browser(data: Data) -> Iterator[Browser]:
    if shutil.which("chromium") is None and not Path(CHROMIUM).exists():
        pytest.skip("chromium missing")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        context = chromium.new_context(viewport={"width": 1280, "height": 900})
        page = context.new_page()
        page.set_default_timeout(15_000)
        found = Browser(page, data.url)
        found.open("/alerts")
        assert "/login" in page.url  # no cookie yet: the login form, which brings us back
        page.fill("input[name=key]", data.running.keys["fraud:read"])
        page.click("form.login button[type=submit]")
        page.wait_for_url("**/alerts")
        yield found
        context.close()
        chromium.close()


PAGES = {
    "overview": "/",
    "model": "/models/fraud?range=24h",
    "feature": "/models/fraud/features/x0?range=24h",
    "feature-categorical": "/models/fraud/features/country",
    "environments": "/environments",
    "events": "/events?model=fraud",
    "alerts": "/alerts",
    "hostile-model": "/models/" + quote(HOSTILE_MODEL, safe=""),
    "login": "/login",
}


@pytest.mark.parametrize("name", list(PAGES))
def test_every_page_loads_without_console_errors(browser: Browser, name: str) -> None:
    response = browser.open(PAGES[name])
    assert response.status == 200
    assert browser.errors == []
    browser.shot(name)


_INKED = """() => Array.from(document.querySelectorAll('canvas[data-chart]')).map(c => {
  const pixels = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  let inked = 0;
  for (let i = 3; i < pixels.length; i += 4) { if (pixels[i] > 0) inked++; }
  return [c.dataset.chart, c.width, inked];
})"""


def test_charts_draw_on_canvas_and_svg(browser: Browser) -> None:
    browser.open("/models/fraud?range=24h")
    drawn = browser.page.evaluate(_INKED)
    names = {name for name, _, _ in drawn}
    assert {"throughput", "latency", "rates", "performance", "classes", "resources"} <= names
    for name, width, inked in drawn:
        assert width > 100 and inked > 200, (name, width, inked)
    assert browser.page.locator("svg.heatmap rect.cell").count() >= 3 * 12
    browser.open("/models/fraud/features/x0?range=24h")
    assert browser.page.locator("svg.chart path").count() >= 2  # reference and current
    assert all(inked > 200 for _, _, inked in browser.page.evaluate(_INKED))
    browser.open("/")
    assert browser.page.locator("svg.spark polyline").count() >= 2


def test_the_range_picker_changes_the_series(browser: Browser) -> None:
    browser.open("/models/fraud?range=24h")
    before = browser.page.evaluate(
        "JSON.parse(document.getElementById('chart-data').textContent).serving.length"
    )
    browser.page.click("nav.ranges a[data-range='1h']")
    browser.page.wait_for_url("**range=1h**")
    browser.page.wait_for_load_state("networkidle")
    after = browser.page.evaluate(
        "JSON.parse(document.getElementById('chart-data').textContent).serving.length"
    )
    assert before <= 24 < after  # hourly windows, then one per minute
    assert "per minute" in browser.page.inner_text("h1")
    assert browser.page.locator("nav.ranges a.current").inner_text() == "last hour"
    assert browser.errors == []
    browser.shot("model-1h")


def test_a_filter_changes_the_events_shown(browser: Browser) -> None:
    browser.open("/events?model=fraud")
    statuses = set(browser.page.locator("table.events span.status").all_inner_texts())
    assert len(statuses) > 1
    browser.page.select_option("select[name=status]", "invalid")
    browser.page.click("form.filters button[type=submit]")
    browser.page.wait_for_url("**status=invalid**")
    shown = browser.page.locator("table.events span.status").all_inner_texts()
    assert shown and set(shown) == {"invalid"}
    browser.shot("events-invalid")


def test_the_explorer_opens_an_event(browser: Browser, data: Data) -> None:
    browser.open("/events?model=fraud")
    browser.page.locator("a.open-event").first.click()
    browser.page.wait_for_url("**/events/fraud/**")
    assert browser.page.inner_text("h1").startswith("Event")
    trace = browser.page.inner_text("code.trace")
    assert trace in {e["trace_id"] for e in data.fraud()}
    assert browser.page.locator("text=Inputs").count() == 1
    assert browser.errors == []
    browser.shot("event")


def test_an_alert_is_acknowledged_through_the_page(browser: Browser) -> None:
    browser.open("/alerts")
    card = browser.page.locator("article.alert", has_text="slow").first
    card.locator("form.ack-form input[name=comment]").fill("looking <now>")
    card.locator("form.ack-form button[type=submit]").click()
    browser.page.wait_for_load_state("networkidle")
    assert browser.page.url.endswith("/alerts")
    card = browser.page.locator("article.alert", has_text="slow").first
    assert "Acknowledged by" in card.inner_text()
    assert "looking <now>" in card.inner_text()  # shown as text, not markup
    assert card.locator("form.ack-form").count() == 0
    assert browser.errors == []
    browser.shot("alerts-acknowledged")


def test_without_javascript_the_numbers_are_still_there(browser: Browser, data: Data) -> None:
    context = browser.page.context.browser.new_context(
        java_script_enabled=False, viewport={"width": 1280, "height": 900}
    )
    try:
        context.add_cookies(
            [{"name": "telltale_key", "value": data.running.keys["fraud:read"], "url": data.url}]
        )
        page = context.new_page()
        page.goto(data.url + "/models/fraud?range=24h")
        assert page.locator("noscript").count() == 1
        page.click("details.fallback summary")
        rows = page.locator("details.fallback table tbody tr")
        assert rows.count() == len(
            {e["ts"][:13] for e in data.fraud()}
        )  # one row per hour that had events
        assert page.locator("svg.heatmap rect.cell").count() > 0
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "model-no-javascript.png"), full_page=True)
    finally:
        context.close()
