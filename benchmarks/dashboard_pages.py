"""Dashboard speed over 10M stored events: each page's server time, and the model page's first
meaningful paint in headless Chromium.

    .venv/bin/python benchmarks/dashboard_pages.py [--events 10000000] [--runs 20]

Uses the store of benchmarks/query_windows.py (bench-data/, built there on first use: a week
of --events events of model "fraud" in project "bench", 20 features, two versions, regions and
environments, labels for 30%). A reference of day one is saved, alert rules are applied and one
round is evaluated, and a report is pushed, so every page has its full content. The server runs
in this process (uvicorn on loopback) with the dashboard's clock at the end of the week.

Printed per page: p50/p95 of the response time over --runs requests (loopback, so an upper
bound of the server's time; target p95 <= 500 ms) and the size. For the model page in
Chromium: first contentful paint and the time until every chart has drawn (target <= 1.5 s).
"""

from __future__ import annotations

import argparse
import json
import shutil
import socket
import statistics
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import httpx
import uvicorn

sys.path.insert(0, str(Path(__file__).resolve().parent))
from query_windows import DATA, START, build

from telltale.analysis.profiling import profile_table
from telltale.server import ServerSettings, create_app
from telltale.store.events import EventStore
from telltale.store.keys import KeyStore

END = START + timedelta(days=7)
RULES = """
rules:
  - {name: errors, model: fraud, metric: error_rate, window: 10m, thresholds: {warning: 0.0001}}
  - {name: p99, model: fraud, metric: latency_p99_ms, window: 10m, thresholds: {warning: 1}}
  - {name: drift, model: fraud, metric: drift, feature: "*", reference: day-one, window: 1h,
     thresholds: {warning: 0.0001}}
"""


def prepare(path: Path) -> dict[str, str]:
    """Keys, a reference, rules evaluated once and a pushed report, in the store at ``path``."""
    store = EventStore(path)
    try:
        day_one = store.events_relation("bench", "fraud", START, START + timedelta(days=1))
        features = [c for c in day_one.columns if c.startswith(("x", "c", "output."))]
        reference = profile_table(day_one, columns=features)
        store.save_reference("bench", "fraud", "day-one", reference.to_bytes())
        keys = KeyStore(store)
        read = keys.create("bench", "read")[1]
        admin = keys.create("bench", "admin")[1]
    finally:
        store.close()
    return {"read": read, "admin": admin}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Served:
    def __init__(self, path: Path) -> None:
        self.port = free_port()
        settings = ServerSettings(db=str(path), port=self.port, decode_processes=0)
        self.app = create_app(settings)
        config = uvicorn.Config(self.app, host="127.0.0.1", port=self.port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> Served:
        self.thread.start()
        deadline = time.monotonic() + 120
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("the server did not start in 120 s")
            time.sleep(0.05)
        self.app.state.dashboard_clock = lambda: END
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(60)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def timed(client: httpx.Client, path: str, runs: int) -> tuple[float, float, int, int]:
    for _ in range(2):  # warm: caches of the store and the templates
        client.get(path)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        response = client.get(path)
        times.append((time.perf_counter() - start) * 1000)
    quantiles = statistics.quantiles(times, n=20)
    return statistics.median(times), quantiles[18], response.status_code, len(response.content)


def paint(url: str, key: str, path: str, loads: int) -> list[tuple[float, float]]:
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    out = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        page = context.new_page()
        page.goto(f"{url}/login?next=/")
        page.fill("input[name=key]", key)
        page.click("button[type=submit]")
        page.wait_for_load_state("load")
        for _ in range(loads):
            page.goto(f"{url}{path}", wait_until="load")
            page.wait_for_function(
                """() => [...document.querySelectorAll('canvas')].length > 0 &&
                         [...document.querySelectorAll('canvas')].every(c => c.width > 0 &&
                           c.getContext('2d').getImageData(0, 0, c.width, c.height).data
                             .some(v => v !== 0))""",
                timeout=30_000,
            )
            drawn = page.evaluate("performance.now()")
            fcp = page.evaluate(
                "performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? null"
            )
            out.append((float(fcp or 0.0), float(drawn)))
        browser.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--loads", type=int, default=5)
    args = parser.parse_args()
    DATA.mkdir(exist_ok=True)
    source = DATA / f"store_{args.events}.duckdb"
    if not source.exists():
        print(f"building {source.name} ...")
        build(source, args.events)
    path = DATA / f"dashboard_{args.events}.duckdb"
    for stale in (path, path.with_name(path.name + ".wal")):
        stale.unlink(missing_ok=True)
    shutil.copyfile(source, path)  # the pages' setup writes to it; the source stays as built
    t = time.perf_counter()
    keys = prepare(path)
    print(f"setup (reference of day one, keys): {time.perf_counter() - t:.1f} s")
    with Served(path) as served:
        admin = httpx.Client(
            base_url=served.url, headers={"Authorization": f"Bearer {keys['admin']}"}, timeout=300
        )
        admin.put(
            "/v1/alerts/rules", content=RULES, headers={"Content-Type": "application/yaml"}
        ).raise_for_status()
        served.app.state.collector.alerts.clock = lambda: END
        t = time.perf_counter()
        report = admin.post("/v1/alerts/check").json()
        print(
            f"one alert round: {time.perf_counter() - t:.2f} s, "
            f"{len(report.get('firing', []))} firing"
        )
        admin.post(
            "/v1/reports",
            json={"title": "week", "kind": "report", "html": "<!doctype html><p>report</p>"},
        ).raise_for_status()
        client = httpx.Client(
            base_url=served.url, headers={"Authorization": f"Bearer {keys['read']}"}, timeout=300
        )
        events = client.get("/events.json", params={"model": "fraud"}).json()
        first = (events.get("events") or [{}])[0]
        event_path = f"/events/fraud/{first.get('event_id', 'missing')}"
        pages = [
            "/",
            "/models/fraud?range=1h",
            "/models/fraud?range=24h",
            "/models/fraud?range=7d",
            "/models/fraud?range=7d&version=2.0",
            "/models/fraud/features/x0?range=24h",
            "/environments?range=7d",
            "/events?model=fraud",
            "/events?model=fraud&status=error",
            event_path,
            "/alerts",
            "/reports",
            "/models/fraud.json?range=7d",
        ]
        print(f"\n{'page':<44} {'p50 ms':>8} {'p95 ms':>8} {'status':>6} {'KiB':>7}")
        worst = 0.0
        for page in pages:
            p50, p95, status, size = timed(client, page, args.runs)
            worst = max(worst, p95)
            print(f"{page:<44} {p50:8.1f} {p95:8.1f} {status:6d} {size / 1024:7.1f}")
        print(f"\nworst page p95: {worst:.0f} ms (target <= 500 ms)")
        loads = paint(served.url, keys["read"], "/models/fraud?range=7d", args.loads)
        fcp = statistics.median(f for f, _ in loads)
        drawn = statistics.median(d for _, d in loads)
        print(
            f"model page (7d) in headless Chromium, median of {len(loads)} loads: first "
            f"contentful paint {fcp:.0f} ms, every chart drawn {drawn:.0f} ms (target <= 1500 ms)"
        )
        print(
            json.dumps({"worst_page_p95_ms": round(worst, 1), "model_page_drawn_ms": round(drawn)})
        )


if __name__ == "__main__":
    main()
