"""What every channel is: a named destination that renders an alert and sends it once.

A channel validates its settings when it is built (a bad URL or port is a
:class:`~telltale.errors.ConfigError` naming the key and the fix, raised while the rules load,
not at 3 a.m. when the alert fires). :meth:`Channel.render` is pure: the payload for an alert,
testable without a network. :meth:`Channel.send` makes one attempt and says how it went in an
:class:`Attempt`; retries, backoff and the delivery record are
:func:`telltale.alerts.notifiers.deliver`'s job, so a channel of your own only answers "did it
work, and is it worth trying again".

Secrets (webhook URLs with tokens in them, routing keys, passwords) never appear in ``repr``, in
error messages or in what :meth:`Channel.redact` lets through.

>>> class Printer(Channel):
...     type = "printer"
...     def render(self, alert):
...         return alert.summary()
...     def send(self, alert, *, client, now):
...         print(self.render(alert))
...         return Attempt(ok=True)
>>> Printer(name="desk")
Printer(name='desk')
"""

from __future__ import annotations

import abc
import email.utils
import ipaddress
import json
import math
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timezone
from typing import Any, ClassVar

import httpx

from telltale._version import __version__
from telltale.alerts.alert import Alert, AlertGroup
from telltale.alerts.channels.text import one_line
from telltale.errors import ConfigError

__all__ = ["USER_AGENT", "Attempt", "Channel", "HttpChannel", "parse_retry_after"]

USER_AGENT = f"telltale/{__version__}"
_REDACTED = "***"
_MIN_SECRET = 4  # shorter strings ("/", "v2") would blank out ordinary words


@dataclass(frozen=True)
class Attempt:
    """How one try at sending went.

    ``status_code`` is the HTTP status or the SMTP reply code (``None`` when nothing answered);
    ``retryable`` says whether trying again could help (a timeout, a 5xx, a 429), and
    ``retry_after_s`` how long the receiver asked to wait.
    """

    ok: bool
    status_code: int | None = None
    error: str = ""
    retryable: bool = False
    retry_after_s: float | None = None


class Channel(abc.ABC):
    """A named destination for alerts. Subclass it for a channel of your own."""

    type: ClassVar[str]
    """The ``type`` a rules file names this channel by (``slack``, ``webhook`` ...)."""
    groups: ClassVar[bool] = False
    """Whether alerts of one round can go out as one notification (:meth:`send_group`); a
    channel that cannot group gets them one by one."""
    config_aliases: ClassVar[dict[str, str]] = {}
    """Config keys that are not valid Python argument names, to the argument they fill."""

    def __init__(self, *, name: str, timeout_s: float = 10.0) -> None:
        if not isinstance(name, str) or not name.strip() or one_line(name) != name:
            raise ConfigError(
                f"{self.type} channel name={name!r} must be a non-empty one-line string, "
                "e.g. name: oncall-slack",
                details={"field": "name"},
            )
        self.name = name
        self.timeout_s = self._seconds("timeout_s", timeout_s)

    @abc.abstractmethod
    def render(self, alert: Alert) -> Any:
        """The payload for ``alert``: pure, no I/O."""

    @abc.abstractmethod
    def send(self, alert: Alert, *, client: httpx.Client, now: float) -> Attempt:
        """Try once to deliver ``alert``; ``now`` is the wall time (Unix seconds) of the try.

        Answers and transport failures come back as an :class:`Attempt`; an exception out of
        here is a bug, which :func:`~telltale.alerts.notifiers.deliver` records and does not
        retry.
        """

    def render_group(self, group: AlertGroup) -> Any:
        """The payload for several alerts at once (channels with :attr:`groups`)."""
        raise NotImplementedError(f"the {self.type} channel does not group alerts")

    def send_group(self, group: AlertGroup, *, client: httpx.Client, now: float) -> Attempt:
        """Try once to deliver several alerts as one notification (see :meth:`send`)."""
        raise NotImplementedError(f"the {self.type} channel does not group alerts")

    def describe(self) -> str:
        """Where this channel sends, with nothing secret in it (for ``repr`` and logs)."""
        return ""

    def secrets(self) -> tuple[str, ...]:
        """Every string of this channel's settings that must not be shown."""
        return ()

    def redact(self, text: str) -> str:
        """``text`` with every secret of this channel replaced by ``***``."""
        for secret in sorted(self.secrets(), key=len, reverse=True):
            if len(secret) >= _MIN_SECRET:
                text = text.replace(secret, _REDACTED)
        return text

    def __repr__(self) -> str:
        target = self.describe()
        shown = f", target={target!r}" if target else ""
        return f"{type(self).__name__}(name={self.name!r}{shown})"

    # -- validation helpers for subclasses ----------------------------------------------------

    def _where(self, key: str) -> str:
        name = getattr(self, "name", None)
        return f"{self.type} channel {name!r}: {key}" if name else f"{self.type} channel: {key}"

    def _error(self, key: str, message: str) -> ConfigError:
        return ConfigError(f"{self._where(key)} {message}", details={"field": key})

    def _text(self, key: str, value: Any, example: str) -> str:
        if not isinstance(value, str):
            got = f"got a {type(value).__name__}"
        elif not value.strip():
            got = "got an empty string"
        elif one_line(value) != value:
            got = "got text with line breaks, control characters or padding"
        else:
            return value
        raise self._error(key, f"must be a non-empty one-line string ({got}); {example}")

    def _seconds(self, key: str, value: Any) -> float:
        if (
            isinstance(value, bool)
            or not isinstance(value, (int, float))
            or not math.isfinite(value)
            or value <= 0
        ):
            raise self._error(key, f"={value!r} must be a positive number of seconds, e.g. 10")
        return float(value)

    def _url(self, key: str, value: Any, example: str) -> str:
        """An absolute http(s) URL; the message shows its scheme and host, never its path
        (where Slack and other webhooks keep their token)."""
        if not isinstance(value, str) or not value:
            raise self._error(key, f"is required: an http(s) URL such as {example}")
        parts = urllib.parse.urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise self._error(
                key,
                f"must be an http(s) URL such as {example}; got one with "
                f"scheme={parts.scheme!r} and host={parts.hostname!r}",
            )
        if any(c.isspace() or ord(c) < 32 for c in value):
            raise self._error(key, "must not contain spaces or control characters")
        try:
            httpx.URL(value)
        except httpx.InvalidURL:
            raise self._error(key, f"is not a valid URL (host {parts.hostname!r})") from None
        return value


class HttpChannel(Channel):
    """A channel that POSTs one JSON document (the output of :meth:`render`) to :attr:`url`."""

    url: str

    def request(self, alert: Alert, now: float) -> tuple[bytes, dict[str, str]]:
        """The exact body and headers sent for ``alert`` at ``now``."""
        return json_bytes(self.render(alert)), {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
        }

    def send(self, alert: Alert, *, client: httpx.Client, now: float) -> Attempt:
        return self._post(*self.request(alert, now), client=client, now=now)

    def group_request(self, group: AlertGroup, now: float) -> tuple[bytes, dict[str, str]]:
        """The exact body and headers sent for ``group`` at ``now``."""
        return json_bytes(self.render_group(group)), {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
        }

    def send_group(self, group: AlertGroup, *, client: httpx.Client, now: float) -> Attempt:
        return self._post(*self.group_request(group, now), client=client, now=now)

    def _post(
        self, body: bytes, headers: dict[str, str], *, client: httpx.Client, now: float
    ) -> Attempt:
        try:
            response = client.post(self.url, content=body, headers=headers, timeout=self.timeout_s)
        except httpx.TimeoutException as exc:
            return Attempt(
                ok=False,
                error=f"no answer within {self.timeout_s:g} s ({type(exc).__name__})",
                retryable=True,
            )
        except httpx.TransportError as exc:
            return Attempt(ok=False, error=f"{type(exc).__name__}: {exc}", retryable=True)
        return http_attempt(response, now)

    def describe(self) -> str:
        parts = urllib.parse.urlsplit(self.url)
        hidden = "/…" if parts.path.strip("/") or parts.query else ""
        return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}{hidden}"

    def secrets(self) -> tuple[str, ...]:
        parts = urllib.parse.urlsplit(self.url)
        path = parts.path + ("?" + parts.query if parts.query else "")
        return (self.url, path, parts.query, parts.password or "")


def http_attempt(response: httpx.Response, now: float) -> Attempt:
    """An answer as an :class:`Attempt`: 2xx is done; 408, 429 and 5xx are worth another try
    (after the ``Retry-After`` the receiver asked for); any other answer is final."""
    status = response.status_code
    if 200 <= status < 300:
        return Attempt(ok=True, status_code=status)
    if 300 <= status < 400:
        error = f"HTTP {status}: redirects are not followed; set the url to the final address"
        return Attempt(ok=False, status_code=status, error=error)
    retryable = status in (408, 429) or status >= 500
    said = one_line(response.text, 300) if response.content else ""
    error = f"HTTP {status} {response.reason_phrase}".rstrip() + (f": {said}" if said else "")
    retry_after = parse_retry_after(response.headers.get("Retry-After"), now)
    return Attempt(
        ok=False, status_code=status, error=error, retryable=retryable, retry_after_s=retry_after
    )


def parse_retry_after(value: str | None, now: float) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: delay seconds or an HTTP date.

    >>> parse_retry_after("7", now=0.0)
    7.0
    >>> parse_retry_after("Thu, 01 Jan 1970 00:01:00 GMT", now=30.0)
    30.0
    >>> parse_retry_after("soon", now=0.0) is None
    True
    """
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=timezone.utc)
        seconds = when.timestamp() - now
    return max(0.0, seconds) if math.isfinite(seconds) else None


def json_bytes(payload: Mapping[str, Any]) -> bytes:
    """The JSON body as sent: compact, ASCII (so any text, lone surrogates included, encodes)."""
    return json.dumps(payload, separators=(",", ":"), allow_nan=False).encode("ascii")


def is_loopback(host: str) -> bool:
    """Whether ``host`` is this machine (``localhost``, ``127.0.0.1``, ``::1``)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
