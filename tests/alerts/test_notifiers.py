"""Notifiers against real receivers on loopback: an HTTP server and an SMTP server, no mocks.

Backoff waits go through a fake clock whose `sleep` only moves time forward, so the retry tests
run instantly; every HTTP channel shares one `httpx.Client` that ignores proxy variables.
"""

from __future__ import annotations

import dataclasses
import doctest
import email.utils
import importlib
import json
import logging
import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from _notify_servers import (
    HttpReceiver,
    Reply,
    SmtpReceiver,
    closed_port_url,
    free_port,
    self_signed_cert,
)

from telltale.alerts.alert import Alert, AlertContext, AlertGroup
from telltale.alerts.channels import (
    Attempt,
    Channel,
    EmailChannel,
    PagerDutyChannel,
    SlackChannel,
    WebhookChannel,
    registry,
    sign,
    verify_signature,
)
from telltale.alerts.notifiers import (
    CHANNEL_TYPES,
    Backoff,
    Delivery,
    channel_config_keys,
    channel_from_config,
    channels_from_config,
    deliver,
    register_channel_type,
)
from telltale.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs" / "notifiers.md").read_text(encoding="utf-8")
ROUTING_KEY = "R0UT1NGKEY0123456789abcdefghijkl"
DASHBOARD = "https://telltale.example.com/models/fraud?version=1.4.0&env=prod"
PD_ACCEPTED = Reply(202, {"Content-Type": "application/json"}, b'{"status":"success"}')
START = 1_795_442_520  # 2026-11-23T14:02:00Z, the fake clock's first reading
HOSTILE = "<!channel> & *bold* _it_ `tick` <https://evil.example|click> \u202edlrow 😀\n<b>x</b>"


def make_alert(**changes: Any) -> Alert:
    fields: dict[str, Any] = {
        "rule": "p99-latency",
        "group": {"model": "fraud", "version": "1.4.0"},
        "state": "firing",
        "severity": "critical",
        "metric": "latency_p99_ms",
        "value": 870.0,
        "threshold": 500.0,
        "comparison": ">",
        "since": "2026-11-22T14:02:00+00:00",
        "window": "5m",
        "description": "p99 latency is above the SLO",
        "labels": {"team": "ml-platform", "runbook": "https://runbooks.example.com/p99"},
        "context": AlertContext(
            top_drifted=[
                {"feature": "amount", "method": "psi", "statistic": 0.31, "threshold": 0.2},
                {
                    "feature": "country",
                    "method": "chi2",
                    "statistic": 41.0,
                    "threshold": 10.0,
                    "new_categories": ["XX", "YY"],
                },
            ],
            worst_slices=[
                {"description": "country = BR", "n": 120, "metric": "latency_p99_ms", "value": 1400}
            ],
            sample_trace_ids=["4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"],
            sample_event_ids=["e-1"],
            dashboard_url=DASHBOARD,
        ),
    }
    fields.update(changes)
    return Alert(**fields)


def resolved(alert: Alert) -> Alert:
    return dataclasses.replace(
        alert, state="resolved", value=420.0, resolved_at="2026-11-22T14:30:00+00:00"
    )


def hostile_alert() -> Alert:
    huge = "long " * 20_000
    return make_alert(
        rule=f"rule {HOSTILE}",
        group={
            "model": f"fraud {HOSTILE}",
            "version": "1.4.0\r\nBcc: evil@example.com",
            "region": "eu-" * 5000,
        },
        metric=f"latency {HOSTILE}",
        description=f"{HOSTILE} <script>alert(1)</script> {huge}",
        labels={"team": HOSTILE, "runbook": "javascript:alert(1)"},
        context=AlertContext(
            top_drifted=[{"feature": f"f{i} {HOSTILE}", "statistic": huge} for i in range(50)],
            worst_slices=[{"description": HOSTILE + huge, "n": 3, "value": 0.5}],
            sample_trace_ids=[HOSTILE] * 20,
            notes=[huge],
            dashboard_url="javascript:alert(document.cookie)",
        ),
    )


class FakeClock:
    """Wall time that only `sleep` moves; records every wait."""

    def __init__(self, start: float = START) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def receiver() -> Iterator[HttpReceiver]:
    with HttpReceiver() as running:
        running.defaults["/pd"] = PD_ACCEPTED
        yield running


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client(trust_env=False, timeout=5.0) as shared:
        yield shared


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def run(client: httpx.Client, clock: FakeClock) -> Any:
    def run(alert: Alert, channels: list[Channel], **kwargs: Any) -> list[Delivery]:
        kwargs.setdefault("backoff", Backoff(random=lambda: 0.5))
        return deliver(alert, channels, client=client, clock=clock, sleep=clock.sleep, **kwargs)

    return run


def body_of(received: Any) -> dict[str, Any]:
    return json.loads(received.body)


# -- configuration -------------------------------------------------------------------------------

EXAMPLES = {
    "webhook": {"type": "webhook", "name": "hook", "url": "https://hooks.example.com/t"},
    "slack": {"type": "slack", "name": "oncall", "url": "https://hooks.slack.com/services/T/B/X"},
    "email": {"type": "email", "host": "smtp.example.com", "from": "a@example.com", "to": "b@x.io"},
    "pagerduty": {"type": "pagerduty", "routing_key": ROUTING_KEY},
}


@pytest.mark.parametrize("channel_type", sorted(EXAMPLES))
def test_channel_from_config_builds_every_type(channel_type: str) -> None:
    channel = channel_from_config(EXAMPLES[channel_type])
    assert isinstance(channel, CHANNEL_TYPES[channel_type])
    assert channel.type == channel_type
    assert channel.name == EXAMPLES[channel_type].get("name", channel_type)


@pytest.mark.parametrize("config", [{"type": "sms"}, {"url": "https://x.io"}, {"type": ["slack"]}])
def test_unknown_or_missing_type_lists_the_known_ones(config: dict[str, Any]) -> None:
    with pytest.raises(ConfigError, match="known: email, pagerduty, slack, webhook") as caught:
        channel_from_config(config)
    assert caught.value.details == {"field": "type"}


def test_unknown_key_lists_the_known_ones() -> None:
    config = {**EXAMPLES["slack"], "channel": "#oncall"}
    with pytest.raises(ConfigError, match=r"unknown key\(s\) channel; known: name, timeout_s, url"):
        channel_from_config(config)
    with pytest.raises(ConfigError, match="a channel is a mapping"):
        channel_from_config(["slack"])  # type: ignore[arg-type]


def test_missing_key_is_named() -> None:
    with pytest.raises(ConfigError, match=r"missing key\(s\) from, to; .* needs host, from, to"):
        channel_from_config({"type": "email", "host": "smtp.example.com"})


EMAIL = {"type": "email", "host": "smtp.example.com", "from": "a@example.com", "to": ["b@x.io"]}


@pytest.mark.parametrize(
    ("config", "field", "fix"),
    [
        ({"type": "slack", "url": "ftp://hooks.slack.com/x"}, "url", "http(s) URL such as"),
        ({"type": "slack", "url": 42}, "url", "is required: an http(s) URL"),
        ({"type": "webhook", "url": "https://"}, "url", "host=None"),
        ({"type": "webhook", "url": "https://x.io/a b"}, "url", "spaces"),
        ({**EMAIL, "port": 0}, "port", "from 1 to 65535"),
        ({**EMAIL, "port": 70000}, "port", "from 1 to 65535"),
        ({**EMAIL, "port": "25"}, "port", "must be an integer"),
        ({**EMAIL, "port": True}, "port", "must be an integer"),
        ({**EMAIL, "security": "tls"}, "security", "'none', 'starttls' or 'ssl'"),
        ({**EMAIL, "to": []}, "to", "non-empty list"),
        ({**EMAIL, "to": ["oncall"]}, "to[0]", "not an e-mail address"),
        ({**EMAIL, "from": "a@example.com\nBcc: x@y.io"}, "from", "one-line"),
        ({**EMAIL, "username": "telltale"}, "username", "give both or neither"),
        ({**EMAIL, "username": "u", "password": "pw"}, "security", "clear text"),
        ({"type": "pagerduty", "routing_key": ""}, "routing_key", "Integration Key"),
        ({"type": "pagerduty", "routing_key": "has a space!"}, "routing_key", "Integration Key"),
        ({**EXAMPLES["slack"], "timeout_s": -1}, "timeout_s", "positive number of seconds"),
        ({**EXAMPLES["slack"], "timeout_s": "10"}, "timeout_s", "positive number of seconds"),
        ({**EXAMPLES["slack"], "name": ""}, "name", "non-empty one-line string"),
        ({**EXAMPLES["webhook"], "headers": {"Content-Type": "x"}}, "headers", "set by telltale"),
        ({**EXAMPLES["webhook"], "headers": {"Bad Header": "x"}}, "headers", "not a header name"),
        ({**EXAMPLES["webhook"], "secret": ""}, "secret", "non-empty"),
    ],
)
def test_bad_settings_name_the_field_and_the_fix(
    config: dict[str, Any], field: str, fix: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        channel_from_config(config)
    message = str(caught.value)
    assert fix in message
    assert caught.value.details["field"].startswith(field), message


def test_config_errors_and_reprs_never_show_secrets() -> None:
    token_url = "https://hooks.slack.com/services/T000/B000/SECRETslacktoken"
    with pytest.raises(ConfigError) as caught:
        channel_from_config({"type": "slack", "url": token_url, "timeout_s": 0})
    assert "SECRETslacktoken" not in str(caught.value)
    with pytest.raises(ConfigError) as caught:
        channel_from_config({"type": "slack", "url": "htp://hooks.slack.com/SECRETslacktoken"})
    assert "SECRETslacktoken" not in str(caught.value)
    with pytest.raises(ConfigError) as caught:
        channel_from_config({"type": "pagerduty", "routing_key": ROUTING_KEY + " x"})
    assert ROUTING_KEY not in str(caught.value)
    channels = [
        SlackChannel(token_url),
        PagerDutyChannel(ROUTING_KEY),
        WebhookChannel(token_url, secret="hmac-secret", headers={"Authorization": "Bearer tok3n"}),
        EmailChannel("127.0.0.1", "a@example.com", "b@x.io", username="u", password="hunter2pw"),
    ]
    shown = repr(channels)
    for secret in ("SECRETslacktoken", ROUTING_KEY, "hmac-secret", "tok3n", "hunter2pw"):
        assert secret not in shown
    assert "https://hooks.slack.com/…" in shown


def test_channels_from_config_wants_unique_names() -> None:
    channels = channels_from_config([EXAMPLES["slack"], EXAMPLES["pagerduty"]])
    assert [c.name for c in channels] == ["oncall", "pagerduty"]
    with pytest.raises(ConfigError, match=r"channels\[1\]: the name 'oncall' is used twice"):
        channels_from_config([EXAMPLES["slack"], {**EXAMPLES["webhook"], "name": "oncall"}])
    with pytest.raises(ConfigError, match=r"channels\[1\]: unknown channel type 'sms'"):
        channels_from_config([EXAMPLES["slack"], {"type": "sms"}])


class Printer(Channel):
    type = "printer"

    def __init__(self, *, prefix: str = ">", name: str = "printer") -> None:
        super().__init__(name=name)
        self.prefix = prefix
        self.printed: list[str] = []

    def render(self, alert: Alert) -> str:
        return f"{self.prefix} {alert.summary()}"

    def send(self, alert: Alert, *, client: httpx.Client, now: float) -> Attempt:
        self.printed.append(self.render(alert))
        return Attempt(ok=True)


def test_a_channel_type_of_your_own_registers_like_the_builtins(
    monkeypatch: pytest.MonkeyPatch, run: Any
) -> None:
    monkeypatch.setattr(registry, "CHANNEL_TYPES", dict(CHANNEL_TYPES))
    assert register_channel_type(Printer) is Printer
    assert channel_config_keys("printer") == {"prefix": False, "name": False}
    channel = channel_from_config({"type": "printer", "prefix": "!!"})
    [delivery] = run(make_alert(), [channel])
    assert delivery.ok and delivery.type == "printer"
    assert isinstance(channel, Printer) and channel.printed[0].startswith("!! fraud 1.4.0")

    class Impostor(Printer):
        pass

    with pytest.raises(ConfigError, match="'printer' is taken by Printer"):
        register_channel_type(Impostor)
    with pytest.raises(ConfigError, match="not a Channel subclass"):
        register_channel_type(dict)  # type: ignore[type-var]


# -- webhook -------------------------------------------------------------------------------------


def test_webhook_posts_signed_json_that_verifies(receiver: HttpReceiver, run: Any) -> None:
    channel = WebhookChannel(receiver.url("/hook"), secret="s3cret", headers={"X-Team": "ml"})
    alert = make_alert()
    [delivery] = run(alert, [channel])
    assert delivery.ok and delivery.status_code == 200 and delivery.attempts == 1
    [request] = receiver.received("/hook")
    payload = body_of(request)
    assert payload == {
        **alert.to_dict(),
        "summary": alert.summary(),
        "fingerprint": alert.fingerprint(),
        "status": "firing",
    }
    assert payload == channel.render(alert)
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["X-Team"] == "ml"
    now = int(request.headers["X-Telltale-Timestamp"])
    assert re.fullmatch(r"sha256=[0-9a-f]{64}", request.headers["X-Telltale-Signature"])
    assert verify_signature("s3cret", request.body, request.headers, now=now + 5)
    lowered = {k.lower(): v for k, v in request.headers.items()}
    assert verify_signature(b"s3cret", request.body, lowered, now=now)
    assert not verify_signature("s3cret", request.body + b" ", request.headers, now=now)
    assert not verify_signature("other", request.body, request.headers, now=now)
    # replayed later than the tolerance, or with the timestamp moved: refused
    assert not verify_signature("s3cret", request.body, request.headers, 300, now=now + 301)
    moved = {**request.headers, "X-Telltale-Timestamp": str(now + 1)}
    assert not verify_signature("s3cret", request.body, moved, now=now)


def test_webhook_without_a_secret_is_not_signed(receiver: HttpReceiver, run: Any) -> None:
    [delivery] = run(make_alert(), [WebhookChannel(receiver.url("/plain"))])
    [request] = receiver.received("/plain")
    assert delivery.ok
    assert "X-Telltale-Signature" not in request.headers
    assert not verify_signature("s3cret", request.body, request.headers)


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"X-Telltale-Timestamp": "1795442520"},
        {"X-Telltale-Timestamp": "-1795442520", "X-Telltale-Signature": "sha256=00"},
        {"X-Telltale-Timestamp": "１７９５", "X-Telltale-Signature": "sha256=00"},
        {"X-Telltale-Timestamp": "1795442520", "X-Telltale-Signature": "sha256=é"},
    ],
)
def test_verify_signature_refuses_malformed_headers(headers: dict[str, str]) -> None:
    assert verify_signature("s3cret", b"{}", headers, now=1_795_442_520) is False


def test_verify_signature_accepts_any_of_several_signatures() -> None:
    body, stamp = b'{"a":1}', 1_795_442_520
    both = f"{sign('old', body, stamp)}, {sign('new', body, stamp)}"
    headers = {"X-Telltale-Timestamp": str(stamp), "X-Telltale-Signature": both}
    assert verify_signature("new", body, headers, now=stamp)
    assert verify_signature("old", body, headers, now=stamp)


# -- Slack ---------------------------------------------------------------------------------------

SLACK_BLOCKS = {"header", "section", "context", "actions", "divider"}


def check_slack_message(message: dict[str, Any]) -> list[str]:
    """The Block Kit rules Slack enforces on an incoming webhook; returns every mrkdwn text."""
    assert isinstance(message["text"], str) and 0 < len(message["text"]) <= 3000
    blocks = message["blocks"]
    assert isinstance(blocks, list) and 0 < len(blocks) <= 50
    texts = [message["text"]]
    for block in blocks:
        assert block["type"] in SLACK_BLOCKS
        if block["type"] == "header":
            assert block["text"]["type"] == "plain_text"
            assert 0 < len(block["text"]["text"]) <= 150
        elif block["type"] == "section":
            assert block["text"]["type"] == "mrkdwn"
            assert 0 < len(block["text"]["text"]) <= 3000
            texts.append(block["text"]["text"])
            assert len(block.get("fields", [])) <= 10
            for item in block.get("fields", []):
                assert item["type"] == "mrkdwn" and 0 < len(item["text"]) <= 2000
                texts.append(item["text"])
        elif block["type"] == "context":
            assert 0 < len(block["elements"]) <= 10
            for item in block["elements"]:
                assert item["type"] == "mrkdwn" and 0 < len(item["text"]) <= 3000
                texts.append(item["text"])
        elif block["type"] == "actions":
            assert 0 < len(block["elements"]) <= 25
            for button in block["elements"]:
                assert button["type"] == "button"
                assert button["text"]["type"] == "plain_text"
                assert 0 < len(button["text"]["text"]) <= 75
                assert button["url"].startswith(("https://", "http://"))
                assert len(button["url"]) <= 3000
    return texts


def test_slack_message_has_the_blocks_oncall_needs(receiver: HttpReceiver, run: Any) -> None:
    [delivery] = run(make_alert(), [SlackChannel(receiver.url("/slack"), name="oncall")])
    assert delivery.ok and delivery.channel == "oncall" and delivery.type == "slack"
    message = body_of(receiver.received("/slack")[0])
    texts = check_slack_message(message)
    types = [block["type"] for block in message["blocks"]]
    assert types[:2] == ["header", "section"] and types[-2:] == ["context", "actions"]
    header = message["blocks"][0]["text"]["text"]
    assert "CRITICAL" in header and "fraud 1.4.0" in header and "latency_p99_ms" in header
    everything = "\n".join(texts)
    assert "fraud 1.4.0: latency_p99_ms 870 &gt; 500 (critical)" in message["text"]
    assert "*Value*\n870" in everything and "*Threshold*\n&gt; 500 (fixed)" in everything
    assert "*Since*\n2026-11-22T14:02:00+00:00" in everything
    assert "*Top drifted features*" in everything and "`amount` psi 0.31" in everything
    assert "new categories: XX, YY" in everything
    assert "*Worst slices*" in everything and "`country = BR` latency_p99_ms 1400" in everything
    assert "`4bf92f3577b34da6a3ce929d0e0e4736`" in everything
    buttons = message["blocks"][-1]["elements"]
    assert [b["url"] for b in buttons] == [DASHBOARD, "https://runbooks.example.com/p99"]


def test_slack_resolved_message(receiver: HttpReceiver, run: Any) -> None:
    channel = SlackChannel(receiver.url("/slack"))
    run(resolved(make_alert()), [channel])
    message = body_of(receiver.received("/slack")[0])
    check_slack_message(message)
    assert message["blocks"][0]["text"]["text"].startswith("✅ RESOLVED")
    assert "back to 420" in message["text"]


def test_slack_escapes_and_cuts_hostile_text() -> None:
    message = SlackChannel("https://hooks.slack.com/services/T/B/X").render(hostile_alert())
    texts = check_slack_message(message)
    for text in texts:
        assert "<" not in text and ">" not in text, text  # no mention, link or markup of theirs
        assert "\u202e" not in text
        assert not re.search(r"&(?!amp;|lt;|gt;)", text), text  # every & is an entity
    everything = "\n".join(texts)
    assert "&lt;!channel&gt; &amp; *bold*" in everything
    assert "😀" in everything
    assert "`f0 &lt;!channel&gt; &amp; *bold* _it_ ˋtickˋ" in everything  # no code-span escape
    assert json.dumps(message).count("f4 ") and not json.dumps(message).count("f5 ")
    assert all(block["type"] != "actions" for block in message["blocks"])  # javascript: URLs


# -- PagerDuty -----------------------------------------------------------------------------------

PD_SEVERITIES = {"critical", "error", "warning", "info"}


def check_pagerduty_event(event: dict[str, Any]) -> None:
    """The Events API v2 rules (developer.pagerduty.com, 'Send an Alert Event')."""
    assert isinstance(event["routing_key"], str) and event["routing_key"]
    assert event["event_action"] in {"trigger", "acknowledge", "resolve"}
    assert isinstance(event["dedup_key"], str) and 0 < len(event["dedup_key"]) <= 255
    if event["event_action"] != "trigger":
        return
    payload = event["payload"]
    assert isinstance(payload["summary"], str) and 0 < len(payload["summary"]) <= 1024
    assert isinstance(payload["source"], str) and payload["source"]
    assert payload["severity"] in PD_SEVERITIES
    datetime.fromisoformat(payload["timestamp"])
    for key in ("component", "group", "class"):
        assert isinstance(payload.get(key, ""), str)
    assert isinstance(payload["custom_details"], dict)
    for link in event.get("links", []):
        assert set(link) == {"href", "text"} and link["href"].startswith("https://")


def test_pagerduty_trigger_and_resolve_share_a_dedup_key(receiver: HttpReceiver, run: Any) -> None:
    channel = PagerDutyChannel(ROUTING_KEY, url=receiver.url("/pd"))
    alert = make_alert()
    firing = run(alert, [channel])
    resolving = run(resolved(alert), [channel])
    assert [d.status_code for d in firing + resolving] == [202, 202]
    trigger, resolve = (body_of(r) for r in receiver.received("/pd"))
    check_pagerduty_event(trigger)
    check_pagerduty_event(resolve)
    assert trigger["event_action"] == "trigger" and resolve["event_action"] == "resolve"
    assert trigger["dedup_key"] == resolve["dedup_key"] == alert.fingerprint()
    assert trigger["routing_key"] == resolve["routing_key"] == ROUTING_KEY
    payload = trigger["payload"]
    assert payload["summary"] == alert.summary()
    assert payload["severity"] == "critical" and payload["source"] == "fraud 1.4.0"
    assert payload["timestamp"] == alert.since
    details = payload["custom_details"]
    assert details["value"] == 870.0 and details["threshold"] == 500.0
    assert details["top_drifted"][0]["feature"] == "amount"
    assert details["sample_trace_ids"][0] == "4bf92f3577b34da6a3ce929d0e0e4736"
    assert trigger["links"][0] == {"href": DASHBOARD, "text": "Open in telltale"}


def test_pagerduty_bounds_hostile_text() -> None:
    channel = PagerDutyChannel(ROUTING_KEY, source="fraud-api")
    event = channel.render(hostile_alert())
    check_pagerduty_event(event)
    assert len(event["payload"]["summary"]) == 1024 and event["payload"]["summary"][-1] == "…"
    assert event["payload"]["source"] == "fraud-api"
    assert len(json.dumps(event)) < 100_000  # PagerDuty refuses events over 512 KB
    assert "links" in event and event["links"] == []  # javascript: URLs left out
    warning = channel.render(make_alert(severity="warning", value=float("nan")))
    assert warning["payload"]["severity"] == "warning"
    assert warning["payload"]["custom_details"]["value"] is None  # strict JSON, no NaN


# -- e-mail --------------------------------------------------------------------------------------


def test_email_arrives_as_text_and_escaped_html(run: Any) -> None:
    alert = make_alert(description="<script>alert(1)</script> & co")
    with SmtpReceiver() as smtp:
        channel = EmailChannel(
            "127.0.0.1",
            "Telltale <alerts@example.com>",
            ["oncall@example.com", "ml@example.com"],
            port=smtp.port,
        )
        [delivery] = run(alert, [channel])
    assert delivery.ok and delivery.status_code == 250 and delivery.type == "email"
    [mail] = smtp.mails
    assert mail.mail_from == "alerts@example.com"
    assert mail.rcpt_tos == ["oncall@example.com", "ml@example.com"]
    message = mail.message
    assert message["Subject"] == "[telltale critical] fraud 1.4.0: latency_p99_ms 870 > 500"
    assert message["To"] == "oncall@example.com, ml@example.com"
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["X-Telltale-Fingerprint"] == alert.fingerprint()
    assert email.utils.parsedate_to_datetime(message["Date"]).year == 2026
    assert message.get_content_type() == "multipart/alternative"
    text = message.get_body(("plain",)).get_content()
    page = message.get_body(("html",)).get_content()
    assert "<script>alert(1)</script> & co" in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; co" in page and "<script>" not in page
    for part in (text, page):
        assert "amount" in part and "country = BR" in part and "4bf92f3577b34da6" in part
    assert f'href="{DASHBOARD.replace("&", "&amp;")}"' in page


def test_email_keeps_hostile_text_out_of_the_headers(run: Any) -> None:
    alert = make_alert(group={"model": "modèle-😀", "version": "1.4.0\r\nBcc: evil@example.com"})
    with SmtpReceiver() as smtp:
        channel = EmailChannel("127.0.0.1", "a@example.com", "b@example.com", port=smtp.port)
        [delivery] = run(alert, [channel])
        [big] = run(hostile_alert(), [channel])
    assert delivery.ok and big.ok
    message = smtp.mails[0].message
    assert message["Subject"] == (
        "[telltale critical] modèle-😀 1.4.0 Bcc: evil@example.com: latency_p99_ms 870 > 500"
    )
    assert message["Bcc"] is None and smtp.mails[0].rcpt_tos == ["b@example.com"]
    hostile = smtp.mails[1].message
    assert len(hostile["Subject"]) <= 200 and "\u202e" not in hostile["Subject"]
    page = hostile.get_body(("html",)).get_content()
    assert "<script>" not in page and "<b>x</b>" not in page and 'href="javascript' not in page


def test_email_resolved_replies_to_the_firing_message(run: Any) -> None:
    alert = make_alert()
    with SmtpReceiver() as smtp:
        channel = EmailChannel("127.0.0.1", "a@example.com", "b@example.com", port=smtp.port)
        run(alert, [channel])
        run(resolved(alert), [channel])
    firing, resolving = (mail.message for mail in smtp.mails)
    # .strip(): a 70-77 character subject is folded whole onto the next line by the standard
    # library, and its parser keeps the space that folding left (other mail readers drop it)
    assert resolving["Subject"].strip() == (
        "[telltale resolved] fraud 1.4.0: latency_p99_ms back to 420 (was > 500)"
    )
    assert resolving["In-Reply-To"] == firing["Message-ID"] != resolving["Message-ID"]


@pytest.fixture
def cert(tmp_path: Path) -> tuple[Path, Path]:
    made = self_signed_cert(tmp_path)
    if made is None:
        pytest.skip("the openssl command is needed to make a test certificate")
    return made


@pytest.mark.parametrize("security", ["starttls", "ssl"])
@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")
def test_email_over_tls_with_login(security: str, cert: tuple[Path, Path], run: Any) -> None:
    with SmtpReceiver(tls=security, cert=cert, login=("telltale", "app-pass")) as smtp:
        settings: dict[str, Any] = {
            "host": "127.0.0.1",
            "sender": "a@example.com",
            "to": "b@example.com",
            "port": smtp.port,
            "security": security,
            "tls_ca_file": str(cert[0]),
            "username": "telltale",
        }
        [ok] = run(make_alert(), [EmailChannel(**settings, password="app-pass")])
        [refused] = run(make_alert(), [EmailChannel(**settings, password="wrong-pass")])
        [untrusted] = run(make_alert(), [EmailChannel(**{**settings, "tls_ca_file": None},
                                                      password="app-pass")])  # fmt: skip
    assert ok.ok and len(smtp.mails) == 1
    assert not refused.ok and refused.attempts == 1 and refused.status_code == 535
    assert "wrong-pass" not in refused.error and "app-pass" not in refused.error
    assert not untrusted.ok and untrusted.attempts == 1 and "certificate" in untrusted.error


def test_email_retries_a_4xx_but_not_a_5xx(run: Any, clock: FakeClock) -> None:
    with SmtpReceiver() as smtp:
        channel = EmailChannel("127.0.0.1", "a@example.com", "b@example.com", port=smtp.port)
        smtp.data_replies = ["451 4.3.0 Try again later"]
        [later] = run(make_alert(), [channel])
        smtp.data_replies = ["550 5.7.1 Rejected as spam"]
        [never] = run(make_alert(), [channel])
    assert later.ok and later.attempts == 2 and len(clock.sleeps) == 1
    assert not never.ok and never.attempts == 1 and never.status_code == 550
    assert "Rejected as spam" in never.error
    assert len(smtp.mails) == 1


def test_email_to_a_closed_port_is_retried_then_recorded(run: Any) -> None:
    channel = EmailChannel("127.0.0.1", "a@example.com", "b@example.com", port=free_port())
    [delivery] = run(make_alert(), [channel], retries=2)
    assert not delivery.ok and delivery.attempts == 3 and delivery.status_code is None
    assert "ConnectionRefusedError" in delivery.error


# -- retries -------------------------------------------------------------------------------------


def test_5xx_twice_then_200_is_delivered_on_the_third_try(
    receiver: HttpReceiver, run: Any, clock: FakeClock
) -> None:
    receiver.script("/flaky", Reply(500, body=b"boom"), Reply(503))
    channel = WebhookChannel(receiver.url("/flaky"), secret="s3cret")
    [delivery] = run(make_alert(), [channel])
    assert delivery.ok and delivery.attempts == 3 and delivery.status_code == 200
    assert delivery.error == ""
    assert clock.sleeps == [0.75, 1.5]  # 1 s and 2 s, each less a quarter of jitter
    # each try is signed afresh, so a retry after a long wait still verifies
    stamps = [int(r.headers["X-Telltale-Timestamp"]) for r in receiver.received("/flaky")]
    assert stamps == [START, START, START + 2]  # whole seconds of START, +0.75 and +2.25
    last = receiver.received("/flaky")[-1]
    assert verify_signature("s3cret", last.body, last.headers, now=clock.now)


@pytest.mark.parametrize(
    ("retry_after", "waited"),
    [
        ("7", 7.0),
        ("3600", 60.0),  # capped: Backoff.retry_after_max_s
        (email.utils.formatdate(START + 20, usegmt=True), 20.0),  # an HTTP date, from now
        ("soon", 0.75),  # unreadable: the backoff alone
    ],
)
def test_429_waits_for_retry_after_up_to_the_cap(
    receiver: HttpReceiver, run: Any, clock: FakeClock, retry_after: str, waited: float
) -> None:
    receiver.script("/limited", Reply(429, {"Retry-After": retry_after}, b"rate_limited"))
    [delivery] = run(make_alert(), [SlackChannel(receiver.url("/limited"))])
    assert delivery.ok and delivery.attempts == 2
    assert clock.sleeps == [waited]


@pytest.mark.parametrize("status", [400, 401, 403, 404, 410, 422])
def test_other_4xx_is_not_retried(
    receiver: HttpReceiver, run: Any, clock: FakeClock, status: int
) -> None:
    receiver.script("/refuses", Reply(status, body=b"invalid_payload"))
    [delivery] = run(make_alert(), [SlackChannel(receiver.url("/refuses"))])
    assert not delivery.ok and delivery.attempts == 1 and delivery.status_code == status
    assert delivery.error.startswith(f"HTTP {status}") and "invalid_payload" in delivery.error
    assert clock.sleeps == []


@pytest.mark.parametrize("status", [408, 500, 502, 503, 504])
def test_408_and_5xx_are_retried(receiver: HttpReceiver, run: Any, status: int) -> None:
    receiver.defaults["/down"] = Reply(status)
    [delivery] = run(make_alert(), [WebhookChannel(receiver.url("/down"))], retries=1)
    assert not delivery.ok and delivery.attempts == 2 and delivery.status_code == status


def test_a_redirect_is_not_followed(receiver: HttpReceiver, run: Any) -> None:
    receiver.script("/moved", Reply(301, {"Location": receiver.url("/hook")}))
    [delivery] = run(make_alert(), [WebhookChannel(receiver.url("/moved"))])
    assert not delivery.ok and delivery.attempts == 1 and delivery.status_code == 301
    assert "redirects are not followed" in delivery.error
    assert receiver.received("/hook") == []


def test_a_closed_port_is_a_connection_error_after_the_retries(run: Any, clock: FakeClock) -> None:
    [delivery] = run(make_alert(), [WebhookChannel(closed_port_url("/hook"))])
    assert not delivery.ok and delivery.attempts == 4 and delivery.status_code is None
    assert delivery.error.startswith("ConnectError")
    assert clock.sleeps == [0.75, 1.5, 3.0]


def test_a_receiver_that_does_not_answer_in_time_is_a_timeout(
    receiver: HttpReceiver, run: Any
) -> None:
    receiver.defaults["/slow"] = Reply(delay_s=1.0)
    channel = WebhookChannel(receiver.url("/slow"), timeout_s=0.2)
    [delivery] = run(make_alert(), [channel], retries=1)
    assert not delivery.ok and delivery.attempts == 2
    assert delivery.error == "no answer within 0.2 s (ReadTimeout)"


# -- many channels, records, secrets -------------------------------------------------------------


class Broken(Channel):
    type = "broken"

    def render(self, alert: Alert) -> Any:
        raise TypeError("render() got a None where a str was expected")

    def send(self, alert: Alert, *, client: httpx.Client, now: float) -> Attempt:
        return Attempt(ok=True, error=self.render(alert))


def test_one_failing_channel_never_stops_the_others(receiver: HttpReceiver, run: Any) -> None:
    receiver.script("/refuses", Reply(400, body=b"no_text"))
    with SmtpReceiver() as smtp:
        channels = [
            WebhookChannel(closed_port_url("/hook"), name="dead-hook"),
            Broken(name="broken"),
            SlackChannel(receiver.url("/slack"), name="oncall"),
            WebhookChannel(receiver.url("/refuses"), name="refuses"),
            PagerDutyChannel(ROUTING_KEY, url=receiver.url("/pd")),
            EmailChannel("127.0.0.1", "a@example.com", "b@example.com", port=smtp.port),
        ]
        deliveries = run(make_alert(), channels)
    assert [(d.channel, d.ok) for d in deliveries] == [
        ("dead-hook", False),
        ("broken", False),
        ("oncall", True),
        ("refuses", False),
        ("pagerduty", True),
        ("email", True),
    ]
    assert [d.attempts for d in deliveries] == [4, 1, 1, 1, 1, 1]
    assert deliveries[1].error == (
        "internal error in the broken channel: TypeError: render() got a None where a str was "
        "expected"
    )
    assert len(receiver.received("/slack")) == len(receiver.received("/pd")) == 1
    assert len(smtp.mails) == 1


def test_secrets_never_reach_a_delivery_or_the_log(
    receiver: HttpReceiver, run: Any, caplog: pytest.LogCaptureFixture
) -> None:
    # hostile receivers that echo what they were sent
    receiver.script("/pd", Reply(400, body=f"bad routing_key {ROUTING_KEY}".encode()))
    receiver.defaults["/echo"] = Reply(
        500, body=b"Authorization: Bearer tok3n-abc; secret hmac-k3y"
    )
    slack_url = closed_port_url("/services/T000/B000/SECRETslacktoken")
    channels = [
        SlackChannel(slack_url),
        PagerDutyChannel(ROUTING_KEY, url=receiver.url("/pd")),
        WebhookChannel(
            receiver.url("/echo"), secret="hmac-k3y", headers={"Authorization": "Bearer tok3n-abc"}
        ),
        EmailChannel("127.0.0.1", "a@example.com", "b@x.io", port=free_port(),
                     username="u", password="hunter2pw"),
    ]  # fmt: skip
    with caplog.at_level(logging.DEBUG, logger="telltale.alerts"):
        deliveries = run(make_alert(), channels, retries=1)
    assert not any(d.ok for d in deliveries)
    shown = json.dumps([d.to_dict() for d in deliveries]) + caplog.text + repr(deliveries)
    for secret in ("SECRETslacktoken", ROUTING_KEY, "tok3n-abc", "hmac-k3y", "hunter2pw"):
        assert secret not in shown
    assert "bad routing_key ***" in deliveries[1].error
    assert "not delivered to pagerduty channel 'pagerduty'" in caplog.text


def test_a_delivery_record_says_what_happened_and_round_trips(
    receiver: HttpReceiver, run: Any
) -> None:
    receiver.script("/flaky", Reply(502))
    alert = make_alert()
    [delivery] = run(alert, [WebhookChannel(receiver.url("/flaky"), name="hook")])
    assert delivery == Delivery(
        channel="hook",
        type="webhook",
        fingerprint=alert.fingerprint(),
        state="firing",
        ok=True,
        attempts=2,
        status_code=200,
        error="",
        first_attempt_at="2026-11-23T14:02:00.000+00:00",
        last_attempt_at="2026-11-23T14:02:00.750+00:00",
        duration_s=0.75,
    )
    assert Delivery(**json.loads(delivery.to_json())) == delivery


def test_a_pending_alert_is_not_sent(receiver: HttpReceiver, run: Any) -> None:
    [delivery] = run(make_alert(state="pending"), [SlackChannel(receiver.url("/slack"))])
    assert not delivery.ok and delivery.attempts == 0 and delivery.state == "pending"
    assert "only firing and resolved alerts are sent" in delivery.error
    assert receiver.requests == []


def test_deliver_never_raises_for_a_broken_clock(receiver: HttpReceiver, client: Any) -> None:
    ticks = iter([float(START)])

    def clock() -> float:
        return next(ticks)  # StopIteration after the first call

    [delivery] = deliver(make_alert(), [SlackChannel(receiver.url("/slack"))], client=client,
                         clock=clock)  # fmt: skip
    assert not delivery.ok and delivery.error == "internal error: StopIteration"


def test_deliver_makes_its_own_client_when_none_is_given(receiver: HttpReceiver) -> None:
    clock = FakeClock()
    channels = [SlackChannel(receiver.url("/slack")), Printer()]
    deliveries = deliver(make_alert(), channels, clock=clock, sleep=clock.sleep)
    assert [(d.ok, d.attempts) for d in deliveries] == [(True, 1), (True, 1)]
    assert len(receiver.received("/slack")) == 1
    assert deliver(make_alert(), []) == []


@pytest.mark.parametrize(
    "arguments", [{"retries": -1}, {"retries": 1.5}, {"retries": True}, {"max_workers": 0}]
)
def test_deliver_refuses_bad_arguments(arguments: dict[str, Any]) -> None:
    with pytest.raises(ConfigError, match="must be"):
        deliver(make_alert(), [Printer()], **arguments)


def test_backoff_grows_is_capped_and_jittered() -> None:
    assert [Backoff(jitter=0.0).delay(n) for n in (1, 2, 3, 6, 7, 100)] == [
        1.0,
        2.0,
        4.0,
        30.0,
        30.0,
        30.0,
    ]
    assert Backoff(random=lambda: 1.0).delay(3) == 2.0  # up to half taken off
    assert Backoff(random=lambda: 0.0).delay(3) == 4.0
    assert Backoff(jitter=0.0).delay(1, retry_after_s=float("inf")) == 1.0
    for bad in ({"base_s": -1}, {"max_s": "9"}, {"jitter": 2}, {"retry_after_max_s": True}):
        with pytest.raises(ConfigError, match="Backoff"):
            Backoff(**bad)


# -- the module surface and the docs -------------------------------------------------------------

MODULES = [
    "telltale.alerts.notifiers",
    "telltale.alerts.channels",
    "telltale.alerts.channels.base",
    "telltale.alerts.channels.text",
    "telltale.alerts.channels.webhook",
    "telltale.alerts.channels.slack",
    "telltale.alerts.channels.pagerduty",
    "telltale.alerts.channels.mail",
    "telltale.alerts.channels.registry",
]


def _isort_key(name: str) -> tuple[int, str]:
    if name.isupper() and len(name) > 1:
        return (0, name)
    return (1 if name[:1].isupper() else 2, name)


@pytest.mark.parametrize("name", MODULES)
def test_all_is_sorted_resolves_and_doctests_pass(name: str) -> None:
    module = importlib.import_module(name)
    assert list(module.__all__) == sorted(module.__all__, key=_isort_key)
    for symbol in module.__all__:
        assert getattr(module, symbol) is not None
    outcome = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert outcome.failed == 0


@pytest.mark.parametrize("channel_type", sorted(EXAMPLES))
def test_every_config_key_is_documented(channel_type: str) -> None:
    section = DOC.split(f"## `{channel_type}`", 1)[1].split("\n## ", 1)[0]
    for key, required in channel_config_keys(channel_type).items():
        row = re.search(rf"^\| `{key}` \| (yes|no) \|", section, re.MULTILINE)
        assert row, f"{key} of {channel_type} is missing from docs/notifiers.md"
        assert row.group(1) == ("yes" if required else "no"), key


def test_every_delivery_field_is_documented() -> None:
    for item in dataclasses.fields(Delivery):
        assert f"| `{item.name}` |" in DOC, item.name


# -- grouped notifications -----------------------------------------------------------------------


def three_alerts() -> AlertGroup:
    first = make_alert()
    second = make_alert(group={"model": "fraud", "version": "1.5.0"}, severity="warning")
    third = make_alert(group={"model": "fraud", "version": "<b>2</b>"}, severity="warning")
    return AlertGroup([first, second, third])


def test_a_group_goes_to_a_webhook_as_one_signed_body(receiver: HttpReceiver, run: Any) -> None:
    group = three_alerts()
    channel = WebhookChannel(receiver.url("/hook"), secret="s3cret")
    [delivery] = run(group, [channel])
    assert delivery.ok and delivery.fingerprint == group.fingerprint()
    assert delivery.alerts == [a.fingerprint() for a in group.alerts]
    [received] = receiver.received("/hook")
    now = int(received.headers["X-Telltale-Timestamp"])  # the fake clock's
    assert verify_signature("s3cret", received.body, received.headers, now=now)
    body = body_of(received)
    assert body["grouped"] is True and body["severity"] == "critical" and body["status"] == "firing"
    assert [a["fingerprint"] for a in body["alerts"]] == delivery.alerts
    assert body["alerts"][1] == channel.render(group.alerts[1])  # each as it would go alone


def test_a_group_goes_to_slack_as_one_message(receiver: HttpReceiver, run: Any) -> None:
    group = AlertGroup([make_alert(group={"model": "fraud", "version": str(v)}) for v in range(20)])
    [delivery] = run(group, [SlackChannel(receiver.url("/slack"))])
    assert delivery.ok
    [received] = receiver.received("/slack")
    message = body_of(received)
    check_slack_message(message)
    assert len(message["blocks"]) <= 50  # Slack's limit
    assert (
        "20 alerts: fraud 0, fraud 1, fraud 2 and 17 more" in message["blocks"][0]["text"]["text"]
    )
    assert "and 5 more" in message["blocks"][-1]["text"]["text"]


def test_a_group_goes_by_email_as_one_message(run: Any) -> None:
    group = three_alerts()
    with SmtpReceiver() as smtp:
        channel = EmailChannel(
            "127.0.0.1", "alerts@example.com", ["oncall@example.com"], port=smtp.port
        )
        [delivery] = run(group, [channel])
    assert delivery.ok
    [mail] = smtp.mails
    subject = " ".join(str(mail.message["Subject"]).split())  # unfolded
    assert subject == "[telltale critical] 3 alerts: fraud 1.4.0, fraud 1.5.0, fraud <b>2</b>"
    text = mail.message.get_body(("plain",)).get_content()
    page = mail.message.get_body(("html",)).get_content()
    assert text.count("-- telltale, alert fingerprint") == 3
    assert "fraud &lt;b&gt;2&lt;/b&gt;" in page and "<b>2</b>" not in page
    assert page.count("<!DOCTYPE html>") == 1


def test_pagerduty_does_not_group() -> None:
    channel = PagerDutyChannel(ROUTING_KEY)
    assert not channel.groups
    with pytest.raises(NotImplementedError):
        channel.render_group(three_alerts())
