"""Sending batches to a telltale server over HTTP, and holding them while it is away.

One kept-alive connection (stdlib :mod:`http.client`; no dependency), used only by the monitor's
background thread. Events go as Arrow IPC when pyarrow is importable, else as gzip JSON; labels
and feedback as gzip JSON (docs/protocol.md).

What happens to a batch:

- 2xx: sent.
- 408, 429, 5xx, or no answer at all (refused, reset, timed out): spooled (see
  :mod:`telltale.sdk.spool`) and retried later, oldest first, after an exponential backoff with
  full jitter (``uniform(0, min(backoff_max, backoff_base * 2**failures))``, at least the server's
  ``Retry-After``). While anything is spooled, new batches queue behind it, so order is kept.
- any other 4xx: the server will never take it (a bad key, a malformed row); retrying cannot help,
  so the rows are counted as failed and the answer is logged once.

The server is idempotent by ``event_id``, so a batch sent twice (the answer was lost) is stored
once: delivery is at-least-once and nothing is dropped without being counted.

>>> sink = HttpSink("http://127.0.0.1:8765", api_key="tt_example", spool_dir="/tmp/telltale-spool")
>>> sink.url
'http://127.0.0.1:8765'
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import logging
import os
import random as _random
import urllib.parse
from collections import Counter
from pathlib import Path
from typing import Literal

from telltale._version import __version__
from telltale.errors import ConfigError
from telltale.sdk.batch import Batch
from telltale.sdk.clock import Clock, SystemClock
from telltale.sdk.rate_limited_log import RateLimitedLog
from telltale.sdk.sink import Sink
from telltale.sdk.spool import Spool, SpoolEntry
from telltale.sdk.wire import Encoded, arrow_available, encode, encode_json

__all__ = ["HttpSink", "default_spool_dir"]

log = RateLimitedLog(logging.getLogger("telltale.sdk"))

USER_AGENT = f"telltale-python/{__version__}"
_SENT, _RETRY, _FAILED = "sent", "retry", "failed"


def default_spool_dir(url: str) -> Path:
    """``$TELLTALE_SPOOL_DIR`` or ``~/.cache/telltale/spool``, one folder per endpoint."""
    base = os.environ.get("TELLTALE_SPOOL_DIR")
    if base is None:
        cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        base = os.path.join(cache, "telltale", "spool")
    return Path(base) / hashlib.sha256(url.encode()).hexdigest()[:12]


class HttpSink(Sink):
    """Batched, compressed, kept-alive POSTs with retry, backoff and a local spool.

    >>> sink = HttpSink("https://telltale.example.com", api_key="tt_...")  # doctest: +SKIP
    >>> monitor = Monitor(model="fraud", sink=sink)  # doctest: +SKIP
    """

    def __init__(
        self,
        endpoint: str,
        api_key: str | None = None,
        *,
        spool_dir: str | os.PathLike[str] | None = None,
        spool_max_bytes: int = 256 << 20,
        timeout: float = 10.0,
        encoding: Literal["auto", "arrow", "json"] = "auto",
        backoff_base: float = 0.5,
        backoff_max: float = 60.0,
        clock: Clock | None = None,
        random: _random.Random | None = None,
    ) -> None:
        super().__init__()
        parts = urllib.parse.urlsplit(endpoint if isinstance(endpoint, str) else "")
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigError(
                f"endpoint={endpoint!r} is not an http(s) URL; pass e.g. "
                "endpoint='http://127.0.0.1:8765' (where `telltale serve` listens)"
            )
        api_key = api_key if api_key is not None else os.environ.get("TELLTALE_API_KEY")
        if not api_key:
            raise ConfigError(
                "no API key for the telltale server; pass api_key='tt_...' or set "
                "TELLTALE_API_KEY (make one with `telltale keys create --scope ingest`)"
            )
        if encoding not in ("auto", "arrow", "json"):
            raise ConfigError(f"encoding={encoding!r} must be 'auto', 'arrow' or 'json'")
        for name, value in (
            ("timeout", timeout),
            ("backoff_base", backoff_base),
            ("backoff_max", backoff_max),
        ):
            if not isinstance(value, (int, float)) or isinstance(value, bool) or value <= 0:
                raise ConfigError(f"{name}={value!r} must be a positive number of seconds")
        if not isinstance(spool_max_bytes, int) or spool_max_bytes < 1:
            raise ConfigError(f"spool_max_bytes={spool_max_bytes!r} must be a positive integer")
        self.url = endpoint.rstrip("/")
        self._parts = parts
        self._base_path = parts.path.rstrip("/")
        self._api_key = api_key
        self._timeout = float(timeout)
        self._arrow = encoding != "json"
        self._backoff_base = float(backoff_base)
        self._backoff_max = float(backoff_max)
        self._clock = clock or SystemClock()
        self._random = random or _random.Random()
        self.spool = Spool(
            spool_dir if spool_dir is not None else default_spool_dir(self.url),
            max_bytes=spool_max_bytes,
        )
        self._connection: http.client.HTTPConnection | None = None
        self._failures = 0
        self._next_attempt = 0.0
        self._next_adoption = 0.0
        self.requests = 0

    # -- connection ----------------------------------------------------------------------------

    def _connect(self) -> http.client.HTTPConnection:
        port = self._parts.port
        if self._parts.scheme == "https":
            return http.client.HTTPSConnection(
                self._parts.hostname or "", port, timeout=self._timeout
            )
        return http.client.HTTPConnection(self._parts.hostname or "", port, timeout=self._timeout)

    def _drop_connection(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(Exception):
                self._connection.close()
            self._connection = None

    def _post(self, kind: str, encoded: Encoded | SpoolEntry, body: bytes) -> tuple[int, str, str]:
        """``(status, retry_after, text)`` of one POST; raises OSError/HTTPException if no answer."""
        headers = {
            "Authorization": f"Bearer {self._api_key}",
            "Content-Type": encoded.content_type,
            "User-Agent": USER_AGENT,
        }
        if encoded.content_encoding:
            headers["Content-Encoding"] = encoded.content_encoding
        path = f"{self._base_path}/v1/{kind}"
        for attempt in (1, 2):
            reused = self._connection is not None
            connection = self._connection or self._connect()
            self._connection = connection
            try:
                self.requests += 1
                connection.request("POST", path, body=body, headers=headers)
                response = connection.getresponse()
                text = response.read()[:2000].decode("utf-8", "replace")
            except (OSError, http.client.HTTPException):
                self._drop_connection()
                if reused and attempt == 1:
                    continue  # the server closed a kept-alive connection; one fresh try
                raise
            if response.will_close:
                self._drop_connection()
            return response.status, response.getheader("Retry-After") or "", text
        raise http.client.HTTPException("unreachable")  # pragma: no cover

    # -- delivery ------------------------------------------------------------------------------

    def _attempt(self, entry: SpoolEntry) -> tuple[str, float]:
        """Try ``entry`` once: its outcome, and the server's Retry-After in seconds (or 0)."""
        try:
            body = entry.read()
        except OSError as error:
            log.error(
                "spool-read",
                "telltale: spooled batch %s cannot be read (%s); its %d %s are counted as failed",
                entry.path,
                error,
                entry.rows,
                entry.kind,
            )
            return _FAILED, 0.0
        try:
            status, retry_after, text = self._post(entry.kind, entry, body)
        except (OSError, http.client.HTTPException) as error:
            log.warning(
                "http-unreachable",
                "telltale: %s is not answering (%s: %s); batches are spooled in %s and retried",
                self.url,
                type(error).__name__,
                error,
                self.spool.directory,
            )
            return _RETRY, 0.0
        if 200 <= status < 300:
            return _SENT, 0.0
        if status in (408, 429) or status >= 500:
            log.warning(
                f"http-{status}",
                "telltale: %s answered %d to POST /v1/%s; retrying later (%s)",
                self.url,
                status,
                entry.kind,
                text[:300],
            )
            return _RETRY, _seconds(retry_after)
        log.error(
            f"http-{status}",
            "telltale: %s refused %d %s with %d (%s); retrying cannot fix this, so they are "
            "counted as failed. Check the API key, its ingest scope and the SDK version.",
            self.url,
            entry.rows,
            entry.kind,
            status,
            text[:300],
        )
        return _FAILED, 0.0

    def _schedule_retry(self, retry_after: float) -> None:
        ceiling = min(self._backoff_max, self._backoff_base * 2.0**self._failures)
        delay = max(self._random.uniform(0.0, ceiling), min(retry_after, self._backoff_max))
        self._failures += 1
        self._next_attempt = self._clock.monotonic() + delay

    def _keep(self, entry: SpoolEntry) -> None:
        self.spool.put(entry)
        if self.spool.last_error is not None:
            log.error(
                "spool-write",
                "telltale: cannot write the spool directory %s (%s); holding batches in memory "
                "(bounded by spool_max_bytes) until the server answers",
                self.spool.directory,
                self.spool.last_error,
            )
        self._update_counters()

    def _update_counters(self) -> None:
        self.counters.spooled = Counter(self.spool.rows_held())
        self.counters.spool_dropped = Counter(self.spool.dropped)

    def _encode(self, batch: Batch) -> Encoded | None:
        try:
            return encode(batch, arrow=self._arrow)
        except Exception as arrow_error:
            try:
                return encode_json(batch)
            except Exception as error:
                log.error(
                    "encode",
                    "telltale: cannot encode %d %s (%s; %s); they are counted as failed",
                    len(batch),
                    batch.kind,
                    arrow_error,
                    error,
                )
                return None

    def send(self, batch: Batch) -> None:
        if not len(batch) and not batch.resources:  # len: no rows made from the columns
            return
        encoded = self._encode(batch)
        if encoded is None:
            self.counters.failed[batch.kind] += len(batch)
            return
        entry = SpoolEntry(
            batch.kind, len(batch), encoded.body, encoded.content_type, encoded.content_encoding
        )
        if len(self.spool):  # keep the order: behind what is already waiting
            self._keep(entry)
            self.retry()
            return
        outcome, retry_after = self._attempt(entry)
        if outcome == _SENT:
            self.counters.sent[batch.kind] += entry.rows
            self._failures = 0
        elif outcome == _FAILED:
            self.counters.failed[batch.kind] += entry.rows
        else:
            self._keep(entry)
            self._schedule_retry(retry_after)

    def retry(self, *, force: bool = False) -> None:
        """Send spooled batches, oldest first, once their backoff has passed (or now if forced).

        Stops at the first failure: a forced retry makes at most one failing attempt.
        """
        now = self._clock.monotonic()
        if now >= self._next_adoption:
            self._next_adoption = now + 60.0
            if self.spool.adopt_orphans():
                self._update_counters()
        while True:
            entry = self.spool.peek()
            if entry is None:
                return
            if not force and self._clock.monotonic() < self._next_attempt:
                return
            outcome, retry_after = self._attempt(entry)
            if outcome == _RETRY:
                self._schedule_retry(retry_after)
                return
            self.spool.remove(entry)
            if outcome == _SENT:
                self.counters.sent[entry.kind] += entry.rows
                self._failures = 0
                self._next_attempt = 0.0
            else:
                self.counters.failed[entry.kind] += entry.rows
            self._update_counters()

    def prepare(self) -> None:
        if self._arrow and arrow_available():
            import pyarrow.ipc  # noqa: F401

    def pending(self) -> int:
        return sum(self.spool.rows_held().values())

    def close(self) -> None:
        self._drop_connection()
        self.spool.close()

    def after_fork_in_child(self) -> None:
        self._connection = None  # the parent's socket: never write to it from the child
        self.spool.after_fork_in_child()
        self.counters = type(self.counters)()
        self._failures = 0
        self._next_attempt = 0.0


def _seconds(retry_after: str) -> float:
    try:
        return max(0.0, float(retry_after))
    except ValueError:
        return 0.0
