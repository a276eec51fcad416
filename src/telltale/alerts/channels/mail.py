"""E-mail: a plain-text and HTML message over SMTP (the standard library's :mod:`smtplib`).

The subject reads like the summary, ``[telltale critical] fraud 1.4.0: latency_p99_ms 870 > 500``
(``[telltale resolved] ...`` when it clears). The message is ``multipart/alternative`` with a text
part and an HTML part that say the same; every value in the HTML is escaped. A resolved alert's
message answers the firing one (``In-Reply-To``), so mail clients show both in one thread, and
``Auto-Submitted: auto-generated`` keeps out-of-office replies away.

Connection security is ``none`` (port 25), ``starttls`` (port 587) or ``ssl`` (port 465), with
the system's certificate authorities or ``tls_ca_file``. A password is never sent in clear text
to anything but this machine.
"""

from __future__ import annotations

import email.utils
import html
import re
import smtplib
import ssl
from email.message import EmailMessage
from typing import Any, ClassVar, Literal

import httpx

from telltale.alerts.alert import Alert, AlertGroup, format_number
from telltale.alerts.channels.base import Attempt, Channel, is_loopback
from telltale.alerts.channels.text import (
    clean,
    drift_lines,
    environment_lines,
    facts,
    http_url,
    one_line,
    slice_lines,
)

__all__ = ["EmailChannel"]

SUBJECT_LIMIT = 200
_PORTS = {"none": 25, "starttls": 587, "ssl": 465}
_ID_UNSAFE = re.compile(r"[^A-Za-z0-9.\-]")


class EmailChannel(Channel):
    """Send the alert by e-mail through an SMTP server.

    >>> EmailChannel("smtp.example.com", "telltale@example.com", ["oncall@example.com"],
    ...              security="starttls", username="telltale", password="app-password")
    EmailChannel(name='email', target='smtp://smtp.example.com:587')
    """

    type = "email"
    config_aliases: ClassVar[dict[str, str]] = {"from": "sender"}

    def __init__(
        self,
        host: str,
        sender: str,
        to: str | list[str],
        *,
        name: str = "email",
        port: int | None = None,
        security: Literal["none", "starttls", "ssl"] = "none",
        username: str | None = None,
        password: str | None = None,
        tls_ca_file: str | None = None,
        timeout_s: float = 10.0,
    ) -> None:
        super().__init__(name=name, timeout_s=timeout_s)
        self.host = self._text("host", host, "e.g. host: smtp.example.com")
        if security not in _PORTS:
            raise self._error("security", f"={security!r} must be 'none', 'starttls' or 'ssl'")
        self.security = security
        if port is None:
            port = _PORTS[security]
        if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
            raise self._error(
                "port", f"={port!r} must be an integer from 1 to 65535 (587 for starttls)"
            )
        self.port = port
        self.sender = self._address("from", sender)
        addresses = [to] if isinstance(to, str) else to
        if not isinstance(addresses, list) or not addresses:
            raise self._error("to", "must be an address or a non-empty list of addresses")
        self.to = [self._address(f"to[{i}]", a) for i, a in enumerate(addresses)]
        if (username is None) != (password is None):
            raise self._error("username", "and password go together: give both or neither")
        if username is not None:
            self._text("username", username, "e.g. username: telltale")
            self._text("password", password, "e.g. password: <app password>")
            if security == "none" and not is_loopback(self.host):
                raise self._error(
                    "security",
                    f"is 'none', which would send the password in clear text to {self.host}; "
                    "set security: starttls (port 587) or ssl (port 465)",
                )
        self.username = username
        self._password = password
        self.tls_ca_file = None
        if tls_ca_file is not None:
            self.tls_ca_file = self._text("tls_ca_file", tls_ca_file, "a PEM file path")

    def render(self, alert: Alert) -> EmailMessage:
        """The message, without ``Date`` (set when it is sent)."""
        message = EmailMessage()
        message["Subject"] = subject(alert)
        message["From"] = self.sender
        message["To"] = ", ".join(self.to)
        domain = _ID_UNSAFE.sub("", email.utils.parseaddr(self.sender)[1].rpartition("@")[2])
        first = _message_id(alert, "firing", domain or "telltale.invalid")
        if alert.state == "resolved":
            message["Message-ID"] = _message_id(alert, "resolved", domain or "telltale.invalid")
            message["In-Reply-To"] = message["References"] = first
        else:
            message["Message-ID"] = first
        message["Auto-Submitted"] = "auto-generated"
        message["X-Telltale-Fingerprint"] = alert.fingerprint()
        message["X-Telltale-State"] = alert.state
        message.set_content(text_body(alert))
        message.add_alternative(html_body(alert), subtype="html")
        return message

    groups = True

    def render_group(self, group: AlertGroup) -> EmailMessage:
        """One message for the round: every alert's text one after the other."""
        message = EmailMessage()
        worst = "resolved" if group.state == "resolved" else group.severity
        message["Subject"] = one_line(f"[telltale {worst}] {group.subject()}", SUBJECT_LIMIT)
        message["From"] = self.sender
        message["To"] = ", ".join(self.to)
        domain = _ID_UNSAFE.sub("", email.utils.parseaddr(self.sender)[1].rpartition("@")[2])
        since = _ID_UNSAFE.sub("", group.since)[:32]
        message["Message-ID"] = (
            f"<telltale.group.{group.fingerprint()}.{since}@{domain or 'telltale.invalid'}>"
        )
        message["Auto-Submitted"] = "auto-generated"
        message["X-Telltale-Fingerprint"] = group.fingerprint()
        message["X-Telltale-State"] = group.state
        rule = "\n" + "=" * 72 + "\n\n"
        message.set_content(
            one_line(group.summary(), 2000) + "\n" + rule + rule.join(map(text_body, group.alerts))
        )
        bodies = [
            body.removeprefix(_HTML_START).removesuffix(_HTML_END)
            for body in map(html_body, group.alerts)
        ]
        message.add_alternative(
            _HTML_START
            + f'<h1 style="font-size:18px">{html.escape(one_line(group.subject(), 500))}</h1>'
            + "<hr>".join(bodies)
            + _HTML_END,
            subtype="html",
        )
        return message

    def send(self, alert: Alert, *, client: httpx.Client, now: float) -> Attempt:
        return self._send(self.render(alert), now)

    def send_group(self, group: AlertGroup, *, client: httpx.Client, now: float) -> Attempt:
        return self._send(self.render_group(group), now)

    def _send(self, message: EmailMessage, now: float) -> Attempt:
        message["Date"] = email.utils.formatdate(now, usegmt=True)
        envelope_from = email.utils.parseaddr(self.sender)[1]
        recipients = [email.utils.parseaddr(a)[1] for a in self.to]
        try:
            with self._connect() as smtp:
                if self.security == "starttls":
                    smtp.starttls(context=self._tls_context())
                if self.username is not None and self._password is not None:
                    smtp.login(self.username, self._password)
                refused = smtp.send_message(message, envelope_from, recipients)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            return Attempt(
                ok=False,
                status_code=codes[0] if codes else None,
                error=f"every recipient was refused: {_refusals(exc.recipients)}",
                retryable=bool(codes) and all(400 <= code < 500 for code in codes),
            )
        except smtplib.SMTPResponseException as exc:
            code = exc.smtp_code
            said = exc.smtp_error
            text = said.decode("utf-8", "replace") if isinstance(said, bytes) else str(said)
            return Attempt(
                ok=False,
                status_code=code if code > 0 else None,
                error=f"SMTP {code}: {one_line(text, 300)} ({type(exc).__name__})",
                retryable=code < 0 or 400 <= code < 500,  # 4xx is the server's "try later"
            )
        except smtplib.SMTPServerDisconnected as exc:
            return Attempt(ok=False, error=f"SMTPServerDisconnected: {exc}", retryable=True)
        except smtplib.SMTPException as exc:  # e.g. no STARTTLS or AUTH offered: settings, not luck
            return Attempt(ok=False, error=f"{type(exc).__name__}: {exc}")
        except ssl.SSLCertVerificationError as exc:
            return Attempt(ok=False, error=f"the TLS certificate was not accepted: {exc}")
        except TimeoutError:
            return Attempt(ok=False, error=f"no answer within {self.timeout_s:g} s", retryable=True)
        except OSError as exc:
            return Attempt(ok=False, error=f"{type(exc).__name__}: {exc}", retryable=True)
        if refused:
            # the others have it: sending again would give them a second copy
            return Attempt(
                ok=False,
                status_code=250,
                error=f"delivered to some recipients only; refused {_refusals(refused)}",
            )
        return Attempt(ok=True, status_code=250)

    def describe(self) -> str:
        scheme = "smtps" if self.security == "ssl" else "smtp"
        return f"{scheme}://{self.host}:{self.port}"

    def secrets(self) -> tuple[str, ...]:
        return (self._password or "",)

    def _connect(self) -> smtplib.SMTP:
        if self.security == "ssl":
            return smtplib.SMTP_SSL(
                self.host, self.port, timeout=self.timeout_s, context=self._tls_context()
            )
        return smtplib.SMTP(self.host, self.port, timeout=self.timeout_s)

    def _tls_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=self.tls_ca_file)

    def _address(self, key: str, value: Any) -> str:
        value = self._text(key, value, "e.g. oncall@example.com or 'Telltale <alerts@example.com>'")
        address = email.utils.parseaddr(value)[1]
        local, _, domain = address.rpartition("@")
        if not local or ("." not in domain.strip(".") and not is_loopback(domain)):
            raise self._error(key, f"={value!r} is not an e-mail address like oncall@example.com")
        return value


def subject(alert: Alert) -> str:
    """``[telltale critical] fraud 1.4.0: latency_p99_ms 870 > 500``, on one line.

    >>> from telltale.alerts.alert import Alert
    >>> subject(Alert(rule="r", group={"model": "fraud", "version": "1.4.0"}, state="firing",
    ...     severity="critical", metric="latency_p99_ms", value=870.0, threshold=500.0,
    ...     comparison=">", since="2026-11-22T14:02:00+00:00", window="5m"))
    '[telltale critical] fraud 1.4.0: latency_p99_ms 870 > 500'
    """
    value, threshold = format_number(alert.value), format_number(alert.threshold)
    if alert.state == "resolved":
        line = (
            f"[telltale resolved] {alert.subject()}: {alert.metric} back to {value} "
            f"(was {alert.comparison} {threshold})"
        )
    else:
        line = f"[telltale {alert.severity}] {alert.subject()}: {alert.metric} {value} "
        line += f"{alert.comparison} {threshold}"
    return one_line(line, SUBJECT_LIMIT)


def _sections(alert: Alert) -> list[tuple[str, list[tuple[str, str]]]]:
    lists = [
        ("Top drifted features", drift_lines(alert)),
        ("Worst slices", slice_lines(alert)),
        ("By environment", environment_lines(alert)),
    ]
    return [(title, lines) for title, lines in lists if lines]


def _ids(alert: Alert) -> list[tuple[str, str]]:
    rows = [
        ("Sample trace ids", alert.context.sample_trace_ids),
        ("Sample event ids", alert.context.sample_event_ids),
    ]
    return [(label, ", ".join(one_line(i, 64) for i in ids[:5])) for label, ids in rows if ids]


def text_body(alert: Alert) -> str:
    """The ``text/plain`` part."""
    lines = [one_line(alert.summary(), 2000), ""]
    if alert.description:
        lines += [clean(alert.description, 5000), ""]
    width = max(len(label) for label, _ in facts(alert)) + 2
    lines += [f"{label + ':':<{width}}{value}" for label, value in facts(alert)]
    for title, items in _sections(alert):
        lines += ["", title] + [f"  - {key}: {value}" for key, value in items]
    lines += [""] + [f"{label}: {value}" for label, value in _ids(alert)]
    lines += [f"Note: {one_line(note, 500)}" for note in alert.context.notes[:5]]
    dashboard = http_url(alert.context.dashboard_url)
    if dashboard:
        lines.append(f"Dashboard: {dashboard}")
    lines += ["", f"-- telltale, alert fingerprint {alert.fingerprint()}"]
    return "\n".join(lines) + "\n"


_HTML_START = '<!DOCTYPE html><html><body style="font-family:sans-serif;font-size:14px">'
_HTML_END = "</body></html>\n"


def html_body(alert: Alert) -> str:
    """The ``text/html`` part: every value escaped."""

    def e(value: str) -> str:
        return html.escape(value, quote=True)

    colour = "#1e7e34" if alert.state == "resolved" else "#b00020"
    parts = [
        _HTML_START,
        f'<h2 style="color:{colour}">{e(one_line(alert.summary(), 2000))}</h2>',
    ]
    if alert.description:
        parts.append(f'<p style="white-space:pre-wrap">{e(clean(alert.description, 5000))}</p>')
    rows = "".join(
        f'<tr><th align="left" style="padding-right:12px">{e(k)}</th><td>{e(v)}</td></tr>'
        for k, v in facts(alert) + _ids(alert)
    )
    parts.append(f"<table>{rows}</table>")
    for title, items in _sections(alert):
        entries = "".join(f"<li><code>{e(k)}</code> {e(v)}</li>" for k, v in items)
        parts.append(f"<h3>{e(title)}</h3><ul>{entries}</ul>")
    for note in alert.context.notes[:5]:
        parts.append(f"<p>{e(one_line(note, 500))}</p>")
    dashboard = http_url(alert.context.dashboard_url)
    if dashboard:
        parts.append(f'<p><a href="{e(dashboard)}">Open in telltale</a></p>')
    parts.append(
        f'<p style="color:#666;font-size:12px">alert fingerprint {e(alert.fingerprint())}</p>'
    )
    return "".join(parts) + _HTML_END


def _message_id(alert: Alert, state: str, domain: str) -> str:
    # the same for every retry of one message, so a server that got it twice can tell
    since = _ID_UNSAFE.sub("", alert.since)[:32]
    return f"<telltale.{alert.fingerprint()}.{since}.{state}@{domain}>"


def _refusals(refused: dict[str, tuple[int, bytes]]) -> str:
    return "; ".join(
        f"{address} ({code} {one_line(said.decode('utf-8', 'replace'), 100)})"
        for address, (code, said) in refused.items()
    )
