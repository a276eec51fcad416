"""Every dashboard page and its .json twin through a real collector: what they show agrees with
the data sent, logins and keys are checked, bad values are 400s naming the parameter, unknown
things 404, user text is escaped, and alerts are acknowledged and silenced through the forms."""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from _dashboard_data import HOSTILE_FEATURE, HOSTILE_MODEL, HOSTILE_SEGMENT, Data

PAGES = [
    "/",
    "/models/fraud",
    "/models/fraud/features/x0",
    "/environments",
    "/events",
    "/alerts",
]


def _json_path(path: str) -> str:
    return "/.json" if path == "/" else path + ".json"


def _get(data: Data, path: str, key: str | None = "fraud:read", **kwargs: Any) -> httpx.Response:
    with data.client(key) as client:
        return client.get(path, **kwargs)


def _settled(data: Data, path: str, pending: Any) -> dict[str, Any]:
    """The page's JSON once the drift windows handed to the background are done."""
    deadline = time.monotonic() + 30
    while True:
        page: dict[str, Any] = _get(data, path).json()
        if not pending(page) or time.monotonic() > deadline:
            return page
        time.sleep(0.2)


# ---- login, keys, audit ---------------------------------------------------------------------


@pytest.mark.parametrize("path", PAGES)
def test_without_a_key_pages_go_to_login_and_json_is_401(data: Data, path: str) -> None:
    page = _get(data, path + "?range=7d" if path.startswith("/models") else path, key=None)
    assert page.status_code == 303
    assert page.headers["location"].startswith("/login?next=")
    assert quote(path, safe="") in page.headers["location"]
    twin = _get(data, _json_path(path), key=None)
    assert twin.status_code == 401
    assert twin.json()["error"]["code"] == "unauthenticated"
    assert "/login" in twin.json()["error"]["message"]


def test_login_sets_a_strict_httponly_cookie_and_follows_next(data: Data) -> None:
    with httpx.Client(base_url=data.url) as browser:
        form = browser.get("/login?next=/alerts")
        assert form.status_code == 200 and 'name="key"' in form.text
        wrong = browser.post("/login", data={"key": "tt_nope", "next": "/alerts"})
        assert wrong.status_code == 401 and "Log in" in wrong.text
        answer = browser.post(
            "/login", data={"key": data.running.keys["fraud:read"], "next": "/alerts"}
        )
        assert answer.status_code == 303 and answer.headers["location"] == "/alerts"
        cookie = answer.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=strict" in cookie and "path=/" in cookie
        page = browser.get("/alerts")
        assert page.status_code == 200 and "Acknowledge" in page.text
        assert "default-src 'self'" in page.headers["content-security-policy"]
        browser.post("/logout")
        assert browser.get("/alerts").status_code == 303


@pytest.mark.parametrize(
    "target", ["//evil.example/x", "https://evil.example/", "/\\evil.example", "javascript:x"]
)
def test_login_never_redirects_off_site(data: Data, target: str) -> None:
    with httpx.Client(base_url=data.url) as browser:
        answer = browser.post(
            "/login", data={"key": data.running.keys["fraud:read"], "next": target}
        )
    assert answer.status_code == 303 and answer.headers["location"] == "/"


def test_an_ingest_key_may_not_read_pages(data: Data) -> None:
    answer = _get(data, "/.json", key="fraud:ingest")
    assert answer.status_code == 403
    assert "--scope read" in answer.json()["error"]["message"]


def test_a_key_reads_only_its_own_project(data: Data) -> None:
    assert _get(data, "/.json", key="other:read").json()["models"] == []
    assert _get(data, "/models/fraud.json", key="other:read").status_code == 404
    assert _get(data, "/alerts.json", key="other:read").json()["alerts"] == []


def test_page_reads_are_written_to_the_audit_log(data: Data) -> None:
    assert _get(data, "/models/fraud.json?range=1h").status_code == 200
    with data.client("fraud:admin") as admin:
        entries = admin.get("/v1/audit", params={"limit": 50}).json()["entries"]
    assert any(
        e["action"] == "GET /models/fraud.json" and e["query"] == "range=1h" for e in entries
    )


# ---- what the pages show ----------------------------------------------------------------------


def test_overview_counts_what_was_sent(data: Data) -> None:
    page = _settled(
        data, "/.json", lambda p: any((m["drift"] or {}).get("pending") for m in p["models"])
    )
    models = {m["model"]: m for m in page["models"]}
    fraud = models["fraud"]
    sent = data.fraud()
    assert fraud["serving"]["events"] == len(sent)
    errors = sum(e["status"] == "error" for e in sent)
    assert fraud["serving"]["error_rate"] == pytest.approx(errors / len(sent))
    by_version = {v["version"]: v["serving"]["events"] for v in fraud["versions"]}
    assert by_version == {v: sum(e["version"] == v for e in sent) for v in ("1.4.0", "1.5.0")}
    assert fraud["firing_alerts"] == 2
    assert fraud["drift"]["reference"] == "default" and "x0" in fraud["drift"]["drifting"]
    assert fraud["performance"]["metric"] == "accuracy"
    low, value, high = (fraud["performance"][k] for k in ("low", "value", "high"))
    assert low < value < high
    assert sum(v or 0 for v in fraud["spark"]["events"]) == len(sent)
    html = _get(data, "/").text
    assert "<svg" in html and 'class="spark"' in html and "/models/fraud" in html


def test_model_page_series_follow_the_range_picker(data: Data) -> None:
    hour = _get(data, "/models/fraud.json?range=1h").json()
    day = _settled(data, "/models/fraud.json?range=24h", lambda p: p["drift"]["pending"])
    assert hour["interval"] == "minute" and day["interval"] == "hour"
    assert sum(w["events"] for w in day["serving"]) == len(data.fraud())
    recent = data.now - timedelta(hours=1)
    in_hour = sum(datetime.fromisoformat(e["ts"]) >= recent for e in data.fraud())
    assert sum(w["events"] for w in hour["serving"]) == in_hour
    assert len(hour["serving"]) <= 60 and len(day["serving"]) <= 24
    for window in day["performance"]["windows"]:
        assert window["accuracy_low"] <= window["accuracy"] <= window["accuracy_high"]
    assert set(day["prediction_classes"]) == {"0", "1"}
    assert day["resources"] and day["resources"][0]["cpu_percent"] > 0
    drift = day["drift"]["features"]["x0"]
    assert len(drift["statistic"]) == len(day["drift"]["windows"]) <= 12
    assert drift["drift"][-1] is True  # x0 moved in the last two hours
    assert {v["version"] for v in day["versions"]} == {"1.4.0", "1.5.0"}
    slow, fast = (
        next(v for v in day["versions"] if v["version"] == name)["serving"]["latency_p50_ms"]
        for name in ("1.5.0", "1.4.0")
    )
    assert slow > 2 * fast  # 1.5.0 was sent three times slower
    html = _get(data, "/models/fraud?range=24h").text
    assert html.count("<canvas") >= 5 and 'id="chart-data"' in html
    assert 'class="heatmap"' in html and "Data table" in html
    assert 'aria-current="true" class="current" data-range="24h"' in html


def test_model_filters_narrow_the_series(data: Data) -> None:
    version = _get(data, "/models/fraud.json?range=24h&version=1.5.0").json()
    assert sum(w["events"] for w in version["serving"]) == sum(
        e["version"] == "1.5.0" for e in data.fraud()
    )
    segment = _get(data, "/models/fraud.json", params={"range": "24h", "segment": "region:us"})
    expected = sum(e["segment"]["region"] == "us" for e in data.fraud())
    assert sum(w["events"] for w in segment.json()["serving"]) == expected
    env = _get(data, "/models/fraud.json?range=24h&environment=env-a").json()
    assert sum(w["events"] for w in env["serving"]) == sum(
        e["environment_id"] == "env-a" for e in data.fraud()
    )


def test_a_model_without_a_reference_says_how_to_upload_one(data: Data) -> None:
    path = "/models/" + quote(HOSTILE_MODEL, safe="")
    assert _get(data, path + ".json").json()["drift"] is None
    html = _get(data, path).text
    assert "No reference" in html and "/references/default" in html


def test_feature_page_shows_distribution_drift_and_quality(data: Data) -> None:
    page = _settled(
        data, "/models/fraud/features/x0.json?range=24h", lambda p: p["over_time"]["pending"]
    )
    assert page["distribution"]["type"] == "histogram"
    assert len(page["distribution"]["edges"]) == len(page["distribution"]["current"]) + 1
    assert page["drift"]["drift"] is True and page["drift"]["method"]
    assert len(page["over_time"]["statistic"]) == len(page["over_time"]["windows"])
    assert page["quality"] is not None
    country = _get(data, "/models/fraud/features/country.json").json()
    assert country["distribution"]["type"] == "bar"
    assert set(country["distribution"]["categories"]) >= {"FR", "DE", "US"}
    html = _get(data, "/models/fraud/features/x0").text
    assert "<svg" in html and 'data-chart="drift"' in html


def test_environments_page_compares_fingerprints(data: Data) -> None:
    page = _get(data, "/environments.json").json()
    assert [e["environment_id"] for e in page["environments"]] == ["env-a", "env-b"]
    assert page["packages_differing"] == ["numpy"]
    fraud = next(m for m in page["models"] if m["model"] == "fraud")
    counts = {r["environment"]: r["events"] for r in fraud["environments"]}
    assert counts == {
        env: sum(e["environment_id"] == env for e in data.fraud()) for env in ("env-a", "env-b")
    }
    assert "numpy" in _get(data, "/environments").text


def test_events_explorer_filters_and_pages(data: Data) -> None:
    base = {"model": "fraud", "start": (data.now - timedelta(hours=7)).isoformat()}
    invalid = _get(data, "/events.json", params={**base, "status": "invalid"}).json()
    assert invalid["events"] and all(e["status"] == "invalid" for e in invalid["events"])
    assert invalid["validation_failures"][0]["failure"] == "score: out of range"
    failing = _get(data, "/events.json", params={**base, "validation": "any"}).json()
    assert all(e["validation"] for e in failing["events"])
    assert {e["event_id"] for e in failing["events"]} <= {
        e["event_id"] for e in data.fraud() if e["validation"]
    }
    version = _get(data, "/events.json", params={**base, "version": "1.5.0"}).json()
    assert {e["version"] for e in version["events"]} == {"1.5.0"}
    segment = _get(data, "/events.json", params={**base, "segment": "region:us"}).json()
    assert {e["segment"]["region"] for e in segment["events"]} == {"us"}
    first = _get(data, "/events.json", params=base).json()
    assert len(first["events"]) == 50 and first["next"]
    second = _get(data, "/events.json", params={**base, "before": first["next"]}).json()
    times = [e["ts"] for e in first["events"] + second["events"]]
    assert times == sorted(times, reverse=True)
    assert not {e["event_id"] for e in first["events"]} & {e["event_id"] for e in second["events"]}
    html = _get(data, "/events", params={**base, "status": "invalid"}).text
    assert "Older events" in html or len(invalid["events"]) < 50
    assert 'class="open-event"' in html


def test_one_event_shows_inputs_outputs_label_and_trace(data: Data) -> None:
    sent = next(e for e in data.fraud() if e["event_id"] in data.labelled)
    page = _get(data, f"/events/fraud/{sent['event_id']}.json").json()["event"]
    assert page["inputs"]["x0"] == pytest.approx(sent["inputs"]["x0"])
    assert page["inputs"]["country"] == sent["inputs"]["country"]
    assert page["outputs"]["score"] == pytest.approx(sent["outputs"]["score"])
    assert page["label"]["label"] == str(data.labelled[sent["event_id"]])
    assert page["trace_id"] == sent["trace_id"] and page["status"] == sent["status"]
    html = _get(data, f"/events/fraud/{sent['event_id']}").text
    assert sent["trace_id"] in html and "Inputs" in html


# ---- bad input ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("/models/fraud", {"range": "5y"}, "range"),
        ("/models/fraud", {"range": "NaN"}, "range"),
        ("/models/fraud", {"range": "<script>x</script>"}, "range"),
        ("/models/fraud", {"segment": "no-colon"}, "segment"),
        ("/models/fraud", {"version": "v" * 5000}, "version"),
        ("/models/fraud", {"range": ["1h", "6h"]}, "range"),
        ("/events", {"start": "yesterday"}, "start"),
        ("/events", {"end": "2026-13-45T99:00:00"}, "end"),
        ("/events", {"status": "<b>broken</b>"}, "status"),
        ("/events", {"before": "123_not-a-uuid"}, "before"),
        ("/events", {"start": "2026-12-01T00:00:00Z", "end": "2026-11-01T00:00:00Z"}, "start"),
        ("/environments", {"range": "∞"}, "range"),
    ],
)
def test_bad_values_are_400s_naming_the_parameter(
    data: Data, path: str, params: dict[str, Any], field: str
) -> None:
    twin = _get(data, _json_path(path), params=params)
    assert twin.status_code == 400, twin.text
    error = twin.json()["error"]
    assert error["code"] == "malformed" and error["details"] == {"field": field}
    assert field in error["message"]
    page = _get(data, path, params=params)
    assert page.status_code == 400 and "Bad request" in page.text
    assert "<script>x" not in page.text and "<b>broken" not in page.text


@pytest.mark.parametrize(
    "path",
    [
        "/models/nope",
        "/models/fraud/features/nope",
        "/models/fraud?version=9.9.9",
        "/models/fraud?reference=nope",
        "/events?model=nope",
        "/events/fraud/00000000-0000-0000-0000-000000000000",
        "/events/nope/00000000-0000-0000-0000-000000000000",
    ],
)
def test_unknown_things_are_404s(data: Data, path: str) -> None:
    head, _, query = path.partition("?")
    twin = _get(data, head + ".json" + ("?" + query if query else ""))
    assert twin.status_code == 404 and twin.json()["error"]["code"] == "not_found"
    page = _get(data, path)
    assert page.status_code == 404 and "Not found" in page.text


def test_a_malformed_event_id_is_a_400(data: Data) -> None:
    answer = _get(data, "/events/fraud/not-a-uuid.json")
    assert answer.status_code == 400 and answer.json()["error"]["details"] == {"field": "event_id"}


# ---- escaping -----------------------------------------------------------------------------------

_RAW = re.compile(
    r"<script>alert|<img src=x|<b>bold|<svg onload|<i>v1|<u>yes|<script>bad|<em>spiking"
)


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/models/" + quote(HOSTILE_MODEL, safe=""),
        "/models/" + quote(HOSTILE_MODEL, safe="") + "/features/" + quote(HOSTILE_FEATURE, safe=""),
        "/events?model=" + quote(HOSTILE_MODEL, safe=""),
        "/events?model="
        + quote(HOSTILE_MODEL, safe="")
        + "&segment="
        + quote("team:" + HOSTILE_SEGMENT),
        "/alerts",
    ],
)
def test_user_text_is_escaped_everywhere(data: Data, path: str) -> None:
    answer = _get(data, path)
    assert answer.status_code == 200, answer.text[:500]
    assert not _RAW.search(answer.text), _RAW.search(answer.text)
    # and really shown, escaped, rather than dropped
    assert "&lt;" in answer.text


def test_hostile_event_page_is_escaped(data: Data) -> None:
    events = _get(data, "/events.json", params={"model": HOSTILE_MODEL}).json()["events"]
    assert events and events[0]["segment"] == {"team": HOSTILE_SEGMENT}
    path = "/events/" + quote(HOSTILE_MODEL, safe="") + "/" + events[0]["event_id"]
    page = _get(data, path)
    assert page.status_code == 200 and not _RAW.search(page.text)
    assert "&lt;img src=x" in page.text
    twin = _get(data, path + ".json").json()
    assert HOSTILE_FEATURE in twin["event"]["inputs"]


def test_embedded_chart_data_cannot_close_its_script(data: Data) -> None:
    html = _get(data, "/models/" + quote(HOSTILE_MODEL, safe="")).text
    blob = html.split('id="chart-data">', 1)[1].split("</script>", 1)[0]
    assert "<" not in blob and ">" not in blob


# ---- acknowledge and silence through the forms --------------------------------------------------


def _fingerprint(data: Data, rule: str) -> str:
    alerts = _get(data, "/alerts.json").json()["alerts"]
    return str(next(a["fingerprint"] for a in alerts if a["rule"] == rule))


@contextlib.contextmanager
def _logged_in(data: Data) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=data.url) as browser:
        answer = browser.post("/login", data={"key": data.running.keys["fraud:read"]})
        assert answer.status_code == 303
        yield browser


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf" value="([0-9a-f]{64})"', html)
    assert found is not None
    return found.group(1)


def test_acknowledge_needs_the_csrf_token_and_then_sticks(data: Data) -> None:
    fingerprint = _fingerprint(data, "errors")
    with _logged_in(data) as browser:
        token = _csrf(browser.get("/alerts").text)
        refused = browser.post(f"/alerts/{fingerprint}/ack", data={"comment": "x"})
        assert refused.status_code == 403 and "CSRF" in refused.text
        forged = browser.post(
            f"/alerts/{fingerprint}/ack",
            data={"csrf": token, "comment": "x"},
            headers={"Origin": "http://evil.example"},
        )
        assert forged.status_code == 403
        done = browser.post(
            f"/alerts/{fingerprint}/ack", data={"csrf": token, "comment": "on it <b>now</b>"}
        )
        assert done.status_code == 303 and done.headers["location"] == "/alerts"
        page = browser.get("/alerts").text
    alert = next(a for a in _get(data, "/alerts.json").json()["alerts"] if a["rule"] == "errors")
    assert alert["acknowledged_by"] and alert["acknowledge_comment"] == "on it <b>now</b>"
    assert "on it &lt;b&gt;now&lt;/b&gt;" in page
    history = _get(data, "/alerts.json").json()["history"]
    assert any(h["event"] == "acknowledged" for h in history)


def test_acknowledging_an_unknown_alert_is_a_404(data: Data) -> None:
    with _logged_in(data) as browser:
        token = _csrf(browser.get("/alerts").text)
        answer = browser.post("/alerts/ffffffffffffffff/ack", data={"csrf": token})
    assert answer.status_code == 404


def test_silence_and_end_it_through_the_forms(data: Data) -> None:
    with _logged_in(data) as browser:
        token = _csrf(browser.get("/alerts").text)
        bad = browser.post(
            "/alerts/silences",
            data={"csrf": token, "matchers": '{"rule": "errors"}', "duration": "99y"},
        )
        assert bad.status_code == 400 and "duration" in bad.text
        done = browser.post(
            "/alerts/silences",
            data={"csrf": token, "matchers": '{"rule": "errors"}', "duration": "1h",
                  "comment": "deploy"},
        )  # fmt: skip
        assert done.status_code == 303
        silences = _get(data, "/alerts.json").json()["silences"]
        made = next(s for s in silences if s["comment"] == "deploy")
        assert made["matchers"] == {"rule": "errors"}
        ended = browser.post(f"/alerts/silences/{made['id']}/end", data={"csrf": token})
        assert ended.status_code == 303
    assert all(s["id"] != made["id"] for s in _get(data, "/alerts.json").json()["silences"])


def test_a_bearer_key_may_post_without_a_token_but_only_with_read_scope(data: Data) -> None:
    fingerprint = _fingerprint(data, "slow")
    with data.client("fraud:ingest") as ingest:
        assert ingest.post(f"/alerts/{fingerprint}/ack", data={}).status_code == 403


def test_the_model_page_shows_accuracy_estimated_without_labels(data: Data) -> None:
    day = _get(data, "/models/fraud.json?range=24h").json()
    estimated = day["performance"]["estimated"]
    assert estimated["note"] is None and estimated["calibration_events"] == len(data.labelled)
    scored = sum(w["scored"] for w in estimated["windows"])
    assert scored == sum(e["outputs"]["score"] is not None for e in data.fraud())
    # labels agree with the prediction 80 % of the time whatever the score: the estimate of
    # every hour is 0.8 up to the calibration's noise, inside its own interval
    for window in estimated["windows"]:
        assert window["estimated_accuracy_low"] <= 0.8 <= window["estimated_accuracy_high"]
    html = _get(data, "/models/fraud?range=24h").text
    assert "dashed: estimated without labels" in html


def test_the_estimate_is_drawn_for_ranges_up_to_a_day(data: Data) -> None:
    week = _get(data, "/models/fraud.json?range=7d").json()["performance"]["estimated"]
    assert week["windows"] == [] and "up to 24 hours" in week["note"]
    assert (
        "no estimate: the estimate without labels reads every score"
        in _get(data, "/models/fraud?range=7d").text
    )
