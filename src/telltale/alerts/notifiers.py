"""Sending an alert to its channels, with retries, and a record of how each delivery went.

The alert engine holds the configured channels (built with :func:`channel_from_config` from a
rules file) and, when an alert fires or resolves, calls :func:`deliver`, which sends to every
channel at once and returns one :class:`Delivery` per channel, in the channels' order.

What :func:`deliver` does for each channel:

- a connection error, a timeout, HTTP 408, 429 or 5xx, or an SMTP 4xx: tried again, at most
  ``retries`` more times, after an exponential backoff with jitter (:class:`Backoff`), never
  sooner than the receiver's ``Retry-After`` (which is honoured up to ``retry_after_max_s``);
- any other refusal (HTTP 400, 401, 403, 404, an SMTP 5xx): not tried again, retrying cannot
  fix a bad payload, token or address;
- an exception out of a channel (a bug): recorded in the delivery, not retried, never raised.

One channel failing never stops or delays the others, and no secret (a webhook URL's token, a
routing key, a password) reaches a delivery's ``error`` or the log.

>>> channels = [channel_from_config({"type": "slack", "name": "oncall",
...                                  "url": "https://hooks.slack.com/services/T0/B0/XXXX"})]
>>> channels
[SlackChannel(name='oncall', target='https://hooks.slack.com/…')]
>>> deliveries = deliver(alert, channels)  # doctest: +SKIP
>>> [(d.channel, d.ok, d.attempts) for d in deliveries]  # doctest: +SKIP
[('oncall', True, 1)]
"""

from __future__ import annotations

import logging
import math
import random
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import httpx

from telltale.alerts.alert import Alert, AlertGroup
from telltale.alerts.channels import Attempt, Channel
from telltale.alerts.channels.base import USER_AGENT
from telltale.alerts.channels.registry import (
    CHANNEL_TYPES,
    channel_config_keys,
    channel_from_config,
    channels_from_config,
    register_channel_type,
)
from telltale.errors import ConfigError
from telltale.schema.result import Result

__all__ = [
    "CHANNEL_TYPES",
    "Backoff",
    "Delivery",
    "channel_config_keys",
    "channel_from_config",
    "channels_from_config",
    "deliver",
    "register_channel_type",
]

log = logging.getLogger("telltale.alerts")


@dataclass(frozen=True)
class Backoff:
    """How long to wait before retry ``n``: ``base_s * 2**(n-1)``, at most ``max_s``, less a
    random fraction of up to ``jitter`` (so channels that failed together do not retry in
    step), and at least the receiver's ``Retry-After`` capped at ``retry_after_max_s``.

    >>> backoff = Backoff(base_s=1.0, max_s=8.0, jitter=0.0)
    >>> [backoff.delay(n) for n in (1, 2, 3, 4, 5)]
    [1.0, 2.0, 4.0, 8.0, 8.0]
    >>> backoff.delay(1, retry_after_s=30.0), backoff.delay(1, retry_after_s=600.0)
    (30.0, 60.0)
    """

    base_s: float = 1.0
    max_s: float = 30.0
    jitter: float = 0.5
    retry_after_max_s: float = 60.0
    random: Callable[[], float] = field(default=random.random, repr=False, compare=False)

    def __post_init__(self) -> None:
        for name in ("base_s", "max_s", "retry_after_max_s"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                raise ConfigError(f"Backoff {name}={value!r} must be a number of seconds >= 0")
        if isinstance(self.jitter, bool) or not 0 <= self.jitter <= 1:
            raise ConfigError(f"Backoff jitter={self.jitter!r} must be between 0 and 1")

    def delay(self, retry: int, retry_after_s: float | None = None) -> float:
        """Seconds to wait before retry number ``retry`` (1 for the first)."""
        exponential = min(self.max_s, self.base_s * 2.0 ** min(retry - 1, 60))
        wait = exponential * (1.0 - self.jitter * self.random())
        if retry_after_s is not None and math.isfinite(retry_after_s):
            wait = max(wait, min(retry_after_s, self.retry_after_max_s))
        return wait


@dataclass
class Delivery(Result):
    """How sending one alert to one channel went."""

    channel: str
    """The channel's name."""
    type: str
    """The channel's type: ``webhook``, ``slack``, ``email``, ``pagerduty`` ..."""
    fingerprint: str
    """The alert's fingerprint (its identity across firing and resolving)."""
    state: str
    """The alert's state when sent: ``firing`` or ``resolved``."""
    ok: bool
    attempts: int
    """Tries made: 1 when the first worked or failed for good, up to ``retries + 1``."""
    status_code: int | None
    """The last HTTP status or SMTP reply code; ``None`` when nothing answered."""
    error: str
    """Why the last try failed (secrets removed); empty when ``ok``."""
    first_attempt_at: str
    """ISO-8601 UTC time of the first try."""
    last_attempt_at: str
    """ISO-8601 UTC time of the last try."""
    duration_s: float
    """Seconds from the first try's start to the last try's end, backoff waits included."""
    alerts: list[str] = field(default_factory=list)
    """For a grouped notification, the fingerprints of the alerts in it."""


def deliver(
    alert: Alert | AlertGroup,
    channels: Sequence[Channel],
    *,
    client: httpx.Client | None = None,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep,
    retries: int = 3,
    backoff: Backoff | None = None,
    max_workers: int = 8,
) -> list[Delivery]:
    """Send ``alert`` to every channel; one :class:`Delivery` per channel, in their order.

    ``client`` is shared by the HTTP channels (one is made, and closed, per call when not
    given); ``clock`` gives wall time in Unix seconds and ``sleep`` waits, both replaceable so
    a test of backoff runs instantly. Channels are served by up to ``max_workers`` threads, so
    a slow channel does not hold up the page. Never raises for a channel's failure; raises
    :class:`~telltale.errors.ConfigError` only for bad arguments, before sending anything.
    """
    if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
        raise ConfigError(f"retries={retries!r} must be an integer >= 0 (3 is the default)")
    if isinstance(max_workers, bool) or not isinstance(max_workers, int) or max_workers < 1:
        raise ConfigError(f"max_workers={max_workers!r} must be a positive integer")
    policy = backoff if backoff is not None else Backoff()
    own_client = client is None
    http = client if client is not None else _default_client()
    try:

        def one(channel: Channel) -> Delivery:
            return _deliver_guarded(alert, channel, http, clock, sleep, retries, policy)

        if len(channels) <= 1 or max_workers == 1:
            return [one(channel) for channel in channels]
        workers = min(max_workers, len(channels))
        with ThreadPoolExecutor(workers, thread_name_prefix="telltale-notify") as pool:
            return list(pool.map(one, channels))
    finally:
        if own_client:
            http.close()


def _default_client() -> httpx.Client:
    return httpx.Client(
        timeout=httpx.Timeout(10.0), follow_redirects=False, headers={"User-Agent": USER_AGENT}
    )


def _deliver_guarded(
    alert: Alert | AlertGroup,
    channel: Channel,
    client: httpx.Client,
    clock: Callable[[], float],
    sleep: Callable[[float], None],
    retries: int,
    backoff: Backoff,
) -> Delivery:
    try:
        return _deliver_one(alert, channel, client, clock, sleep, retries, backoff)
    except Exception as exc:  # a broken clock, sleep or redact: still a record, never a raise
        # the type only: a traceback's messages could hold a setting this code cannot redact
        log.error("telltale: delivering to %r failed: %s", _name(channel), type(exc).__name__)
        return Delivery(
            channel=_name(channel),
            type=str(getattr(channel, "type", "?")),
            fingerprint=alert.fingerprint(),
            state=alert.state,
            ok=False,
            attempts=0,
            status_code=None,
            error=f"internal error: {type(exc).__name__}",
            first_attempt_at="",
            last_attempt_at="",
            duration_s=0.0,
        )


def _deliver_one(
    alert: Alert | AlertGroup,
    channel: Channel,
    client: httpx.Client,
    clock: Callable[[], float],
    sleep: Callable[[float], None],
    retries: int,
    backoff: Backoff,
) -> Delivery:
    if alert.state not in ("firing", "resolved"):
        now = clock()
        error = f"the alert is {alert.state}: only firing and resolved alerts are sent"
        return _record(alert, channel, Attempt(ok=False, error=error), 0, now, now, now)
    attempts = 0
    first = clock()
    while True:
        attempts += 1
        start = clock()
        try:
            if isinstance(alert, AlertGroup):
                attempt = channel.send_group(alert, client=client, now=start)
            else:
                attempt = channel.send(alert, client=client, now=start)
        except Exception as exc:  # a bug in the channel: say which, do not retry it
            error = f"internal error in the {channel.type} channel: {_describe(exc)}"
            attempt = Attempt(ok=False, error=error)
        end = clock()
        if attempt.ok or not attempt.retryable or attempts > retries:
            break
        sleep(backoff.delay(attempts, attempt.retry_after_s))
    delivery = _record(alert, channel, attempt, attempts, first, start, end)
    if delivery.ok:
        log.debug("telltale: alert %s sent to %r", delivery.fingerprint, delivery.channel)
    else:
        log.warning(
            "telltale: alert %s not delivered to %s channel %r after %d attempt(s): %s",
            delivery.fingerprint,
            delivery.type,
            delivery.channel,
            delivery.attempts,
            delivery.error,
        )
    return delivery


def _record(
    alert: Alert | AlertGroup,
    channel: Channel,
    attempt: Attempt,
    attempts: int,
    first: float,
    last_start: float,
    last_end: float,
) -> Delivery:
    return Delivery(
        channel=channel.name,
        type=channel.type,
        fingerprint=alert.fingerprint(),
        state=alert.state,
        ok=attempt.ok,
        attempts=attempts,
        status_code=attempt.status_code,
        error=channel.redact(attempt.error),
        first_attempt_at=_iso(first),
        last_attempt_at=_iso(last_start),
        duration_s=round(max(0.0, last_end - first), 6),
        alerts=[a.fingerprint() for a in alert.alerts] if isinstance(alert, AlertGroup) else [],
    )


def _describe(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def _name(channel: Any) -> str:
    return str(getattr(channel, "name", "?"))


def _iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, timezone.utc).isoformat(timespec="milliseconds")
