"""Reports kept for the dashboard: the /v1/reports API, the Reports pages, `telltale reports`,
against a real server on loopback with a real report that `telltale.report` made; the page is
opened in Chromium to check the report runs in its sandbox."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from _collector import Running

import telltale
from telltale.cli.main import main


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    """``telltale ARGS`` as the console script runs it: exit status and all it printed."""
    with pytest.raises(SystemExit) as exited:
        main(list(args))
    captured = capsys.readouterr()
    return int(exited.value.code or 0), captured.out + captured.err


HOSTILE = '<script>alert("title")</script> ünïcode'


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict[str, Any]]:
    """A real drift report: its HTML, its JSON and the JSON as a dict."""
    rng = np.random.default_rng(3)
    reference = pa.table({"amount": rng.normal(0, 1, 2000), "region": rng.choice(["n", "s"], 2000)})
    current = pa.table({"amount": rng.normal(0.5, 1, 2000), "region": rng.choice(["n", "e"], 2000)})
    result = telltale.report(reference, current, n_bootstrap=50)
    folder = tmp_path_factory.mktemp("report")
    html, document = folder / "report.html", folder / "report.json"
    result.save_html(html)
    document.write_text(json.dumps(result.to_dict()), encoding="utf-8")
    return html, document, json.loads(document.read_text(encoding="utf-8"))


def push(collector: Running, made: Any, key: str = "fraud:admin", **body: Any) -> Any:
    html, _, document = made
    payload = {"title": "week 47", "kind": "report", "html": html.read_text(), "json": document}
    with collector.client(key) as client:
        return client.post("/v1/reports", json={**payload, **body})


def test_push_list_read_and_delete(collector: Running, made: Any) -> None:
    answer = push(collector, made, title=HOSTILE)
    assert answer.status_code == 201, answer.text
    report_id = answer.json()["id"]
    with collector.client("fraud:read") as client:
        (listed,) = client.get("/v1/reports").json()["reports"]
        assert listed["id"] == report_id and listed["title"] == HOSTILE and listed["has_json"]
        one = client.get(f"/v1/reports/{report_id}").json()
        assert one["document"] == made[2] and "html" not in one
        # the pages: the list (title escaped), the report in a sandboxed frame, its JSON twin
        page = client.get("/reports")
        assert page.status_code == 200 and HOSTILE not in page.text
        assert "&lt;script&gt;alert(&#34;title&#34;)&lt;/script&gt; ünïcode" in page.text
        assert client.get("/reports.json").json()["reports"][0]["id"] == report_id
        framed = client.get(f"/reports/{report_id}")
        assert (
            f'src="/reports/{report_id}/content" sandbox="allow-scripts allow-popups"'
            in framed.text
        )
        twin = client.get(f"/reports/{report_id}.json").json()
        assert twin["document"] == made[2] and twin["title"] == HOSTILE
        content = client.get(f"/reports/{report_id}/content")
        assert content.text == made[0].read_text()
        assert content.headers["content-security-policy"].startswith("sandbox allow-scripts")
        # another project sees none of it
    with collector.client("other:read") as client:
        assert client.get("/v1/reports").json() == {"reports": []}
        assert client.get(f"/v1/reports/{report_id}").status_code == 404
        assert client.get(f"/reports/{report_id}/content").status_code == 404
    with collector.client("fraud:admin") as client:
        assert client.delete(f"/v1/reports/{report_id}").json() == {"deleted": report_id}
        assert client.get(f"/v1/reports/{report_id}").status_code == 404


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        (b"{not json", 400, "not JSON"),
        (b"[1, 2]", 422, "JSON object"),
        (b'{"title": "t", "html": 5}', 422, "html must be"),
        (b'{"title": "t", "html": "plain text, no markup"}', 422, "html must be"),
        (b'{"html": "<p>x</p>"}', 422, "title is required"),
        (b'{"title": "a\\nb", "html": "<p>x</p>"}', 422, "one line"),
        (b'{"title": "' + b"x" * 201 + b'", "html": "<p>x</p>"}', 422, "one line"),
        (b'{"title": "t", "html": "<p>x</p>", "kind": "pdf"}', 422, "kind 'pdf'"),
        (b'{"title": "t", "html": "<p>x</p>", "json": NaN}', 422, "JSON cannot"),
        (b'{"title": "t", "html": "<p>x</p>", "extra": 1}', 422, "unknown field"),
    ],
)
def test_bad_pushes_are_refused_with_the_fix(
    collector: Running, body: bytes, status: int, words: str
) -> None:
    with collector.client("fraud:admin") as client:
        answer = client.post(
            "/v1/reports", content=body, headers={"Content-Type": "application/json"}
        )
        assert answer.status_code == status, answer.text
        assert words in answer.json()["error"]["message"]
        assert client.get("/v1/reports").json() == {"reports": []}  # nothing kept


def test_pushing_needs_an_admin_key_and_reading_a_read_key(collector: Running, made: Any) -> None:
    assert push(collector, made, key="fraud:read").status_code == 403
    assert push(collector, made, key="fraud:ingest").status_code == 403
    with collector.client(None) as client:
        assert client.get("/v1/reports").status_code == 401
        assert client.get("/reports.json").status_code == 401
        page = client.get("/reports", follow_redirects=False)
        assert page.status_code == 303 and page.headers["location"].startswith("/login")
        assert (
            client.get("/reports/0123456789abcdef/content", follow_redirects=False).status_code
            == 303
        )
    with collector.client("fraud:read") as client:
        assert client.get("/reports/nothex").status_code == 404
        assert client.get("/reports/0123456789abcdef.json").status_code == 404


def test_a_huge_push_is_refused_before_it_is_read(collector: Running) -> None:
    with collector.client("fraud:admin") as client:
        answer = client.post(
            "/v1/reports",
            content=b"{" + b" " * (33 << 20) + b"}",
            headers={"Content-Type": "application/json"},
        )
    assert answer.status_code == 413


def test_the_cli_pushes_to_a_server_and_to_a_file(
    collector: Running, made: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    html = str(made[0])
    status, output = run(
        capsys, "reports", "push", html, "--server", collector.url, "--key",
        collector.keys["fraud:admin"], "--title", "from the cli",
    )  # fmt: skip
    assert status == 0, output
    assert f"{collector.url}/reports/" in output
    with collector.client("fraud:read") as client:
        (listed,) = client.get("/v1/reports").json()["reports"]
    assert listed["title"] == "from the cli" and listed["has_json"]  # report.json came along
    status, output = run(
        capsys, "reports", "push", html, "--server", collector.url, "--key",
        collector.keys["fraud:read"],
    )  # fmt: skip
    assert status == 1 and "HTTP 403" in output and "--scope admin" in output
    db = str(tmp_path / "t.duckdb")
    status, output = run(capsys, "reports", "push", html, "--db", db, "--project", "p")
    assert status == 0 and "kept 'report'" in output
    status, output = run(capsys, "reports", "list", "--db", db, "--project", "p")
    assert status == 0 and "report" in output
    status, output = run(capsys, "reports", "list", "--db", db, "--project", "p", "--json")
    assert json.loads(output)["reports"][0]["kind"] == "report"


@pytest.mark.parametrize(
    ("arguments", "words"),
    [
        (["reports", "push", "missing.html", "--db", "x.duckdb", "--project", "p"], "cannot read"),
        (["reports", "push", "{html}"], "give --server URL"),
        (["reports", "push", "{html}", "--db", "x.duckdb"], "needs --project"),
        (["reports", "push", "{text}", "--db", "x.duckdb", "--project", "p"], "is not HTML"),
        (
            ["reports", "push", "{html}", "--server", "http://127.0.0.1:9", "--key", "k"],
            "cannot reach",
        ),
        (["reports", "list", "--db", "nowhere.duckdb", "--project", "p"], "no telltale file"),
    ],
)
def test_cli_errors_are_one_line_with_the_fix(
    made: Any,
    tmp_path: Path,
    arguments: list[str],
    words: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TELLTALE_API_KEY", raising=False)
    text = tmp_path / "notes.txt"
    text.write_text("just words")
    filled = [a.format(html=made[0], text=text) for a in arguments]
    status, output = run(capsys, *filled)
    assert status == 1 and words in output, output
    assert "Traceback" not in output and len(output.strip().splitlines()) == 1


def test_chromium_runs_the_report_in_its_sandbox(
    collector: Running, made: Any, tmp_path: Path
) -> None:
    chromium = shutil.which("chromium")
    if chromium is None:
        if os.environ.get("TELLTALE_REQUIRE_SERVERS"):
            pytest.fail("chromium is not installed (apt-get install chromium)", pytrace=False)
        pytest.skip("chromium not installed (apt-get install chromium)")
    playwright = pytest.importorskip("playwright.sync_api")
    report_id = push(collector, made).json()["id"]
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        page = browser.new_page()
        problems: list[str] = []
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: problems.append(str(e)))
        page.goto(f"{collector.url}/login?next=/reports/{report_id}")
        page.fill("input[name=key]", collector.keys["fraud:read"])
        page.click("button[type=submit]")
        page.wait_for_url(f"**/reports/{report_id}")
        frame = page.frame_locator("iframe.report-frame")
        frame.locator("svg").first.wait_for()  # the report's charts drew
        inner = next(f for f in page.frames if f.url.endswith("/content"))
        assert inner.evaluate("document.querySelectorAll('svg').length") > 0
        # an opaque origin: the report's script can reach neither the cookie nor the parent
        assert inner.evaluate(
            "(() => { try { return document.cookie } catch (e) { return 'blocked' } })()"
        ) in ("", "blocked")
        assert (
            inner.evaluate(
                "(() => { try { return parent.document.title } catch (e) { return 'blocked' } })()"
            )
            == "blocked"
        )
        artifacts = Path("test-artifacts/dashboard")
        artifacts.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(artifacts / "report.png"), full_page=True)
        browser.close()
    assert problems == [], problems
