"""The generic webhook: the alert as JSON, signed so the receiver knows it came from telltale.

The body is ``alert.to_dict()`` plus ``summary``, ``fingerprint`` and ``status`` (the alert's
state), as compact JSON. With a ``secret``, each request carries::

    X-Telltale-Timestamp: 1795442520
    X-Telltale-Signature: sha256=<hex HMAC-SHA256(secret, b"1795442520." + body)>

The timestamp (Unix seconds at the attempt; a retry is signed afresh) is part of the signed
material, so a captured request cannot be replayed later: :func:`verify_signature` refuses one
older than its tolerance. Verify against the raw body bytes, before parsing them.

>>> body = b'{"rule":"p99-latency"}'
>>> headers = {TIMESTAMP_HEADER: "1795442520", SIGNATURE_HEADER: sign("s3cret", body, 1795442520)}
>>> verify_signature("s3cret", body, headers, now=1795442530)
True
>>> verify_signature("s3cret", body, headers, now=1795442520 + 3600)  # replayed an hour later
False
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Mapping
from typing import Any

from telltale.alerts.alert import Alert, AlertGroup
from telltale.alerts.channels.base import USER_AGENT, HttpChannel, json_bytes

__all__ = ["SIGNATURE_HEADER", "TIMESTAMP_HEADER", "WebhookChannel", "sign", "verify_signature"]

SIGNATURE_HEADER = "X-Telltale-Signature"
TIMESTAMP_HEADER = "X-Telltale-Timestamp"
_RESERVED = {
    "content-type",
    "content-length",
    "host",
    SIGNATURE_HEADER.lower(),
    TIMESTAMP_HEADER.lower(),
}


class WebhookChannel(HttpChannel):
    """POST the alert as JSON to ``url``, HMAC-signed when a ``secret`` is set.

    >>> channel = WebhookChannel("https://hooks.example.com/telltale", secret="s3cret")
    >>> channel
    WebhookChannel(name='webhook', target='https://hooks.example.com/…')
    """

    type = "webhook"

    def __init__(
        self,
        url: str,
        *,
        name: str = "webhook",
        secret: str | None = None,
        headers: Mapping[str, str] | None = None,
        timeout_s: float = 10.0,
    ) -> None:
        super().__init__(name=name, timeout_s=timeout_s)
        self.url = self._url("url", url, "https://hooks.example.com/telltale")
        if secret is not None:
            self._text("secret", secret, "e.g. the output of `openssl rand -hex 32`")
        self._secret = secret
        self._headers = self._extra_headers(headers)

    def render(self, alert: Alert) -> dict[str, Any]:
        return {
            **alert.to_dict(),
            "summary": alert.summary(),
            "fingerprint": alert.fingerprint(),
            "status": alert.state,
        }

    groups = True

    def render_group(self, group: AlertGroup) -> dict[str, Any]:
        """``{"grouped": true, "alerts": [each as :meth:`render` makes it], ...}``."""
        return {
            "grouped": True,
            "summary": group.summary(),
            "fingerprint": group.fingerprint(),
            "status": group.state,
            "severity": group.severity,
            "alerts": [self.render(alert) for alert in group.alerts],
        }

    def request(self, alert: Alert, now: float) -> tuple[bytes, dict[str, str]]:
        return self._signed(json_bytes(self.render(alert)), now)

    def group_request(self, group: AlertGroup, now: float) -> tuple[bytes, dict[str, str]]:
        return self._signed(json_bytes(self.render_group(group)), now)

    def _signed(self, body: bytes, now: float) -> tuple[bytes, dict[str, str]]:
        timestamp = int(now)
        headers = {
            **self._headers,
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            TIMESTAMP_HEADER: str(timestamp),
        }
        if self._secret is not None:
            headers[SIGNATURE_HEADER] = sign(self._secret, body, timestamp)
        return body, headers

    def secrets(self) -> tuple[str, ...]:
        # custom headers usually carry a token (Authorization: Bearer ...)
        return (*super().secrets(), self._secret or "", *self._headers.values())

    def _extra_headers(self, headers: Mapping[str, str] | None) -> dict[str, str]:
        if headers is None:
            return {}
        if not isinstance(headers, Mapping):
            raise self._error("headers", "must be a mapping of header name to value")
        checked = {}
        for key, value in headers.items():
            where = f"headers[{key!r}]"
            if not isinstance(key, str) or not key.isascii() or not key.replace("-", "").isalnum():
                raise self._error(where, "is not a header name (letters, digits and '-')")
            if key.lower() in _RESERVED:
                raise self._error(where, "is set by telltale itself; remove it")
            self._text(where, value, "e.g. Authorization: Bearer <token>")
            checked[key] = value
        return checked


def sign(secret: str | bytes, body: bytes, timestamp: int) -> str:
    """The ``X-Telltale-Signature`` value for ``body`` sent at ``timestamp``."""
    key = secret.encode("utf-8") if isinstance(secret, str) else secret
    digest = hmac.new(key, f"{timestamp}.".encode("ascii") + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def verify_signature(
    secret: str | bytes,
    body: bytes,
    headers: Mapping[str, str],
    tolerance_s: float = 300.0,
    *,
    now: float | None = None,
) -> bool:
    """Whether a request really came from a telltale webhook channel holding ``secret``, within
    ``tolerance_s`` seconds of ``now`` (default: the current time).

    ``body`` is the raw request body (bytes, before any JSON parsing); ``headers`` any mapping
    of the request headers (names in any case). A missing or malformed header, a body changed
    by one byte, another secret or a timestamp outside the tolerance all give ``False``.
    """
    lowered = {str(k).lower(): str(v) for k, v in headers.items()}
    stamp = lowered.get(TIMESTAMP_HEADER.lower(), "").strip()
    given = lowered.get(SIGNATURE_HEADER.lower(), "")
    if not (stamp.isascii() and stamp.isdigit()) or not given:
        return False
    timestamp = int(stamp)
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance_s:
        return False
    expected = sign(secret, body, timestamp)
    # a comma-separated list leaves room for signing with two secrets while one is rotated
    return any(
        hmac.compare_digest(expected.encode(), part.strip().encode("utf-8", "replace"))
        for part in given.split(",")
    )
