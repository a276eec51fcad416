"""Logging that cannot flood: one line per kind of problem per interval.

A sink whose server is down fails on every flush, once a second, for hours. Logging each failure
would bury the service's own logs, so each kind of problem (a *key*) is logged the first time and
then at most once per interval, with how many were held back.

>>> import logging
>>> log = RateLimitedLog(logging.getLogger("telltale.sdk"), interval=60.0)
>>> log.warning("http", "POST %s failed: %s", "/v1/events", "connection refused")
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable

__all__ = ["RateLimitedLog"]


class RateLimitedLog:
    """Logs a message for a key at most once per ``interval`` seconds, counting the rest."""

    def __init__(
        self,
        logger: logging.Logger,
        *,
        interval: float = 60.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._logger = logger
        self._interval = interval
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._last: dict[str, float] = {}
        self._held: dict[str, int] = {}

    def warning(self, key: str, message: str, *args: object) -> None:
        self._log(logging.WARNING, key, message, args)

    def error(self, key: str, message: str, *args: object) -> None:
        self._log(logging.ERROR, key, message, args)

    def _log(self, level: int, key: str, message: str, args: tuple[object, ...]) -> None:
        now = self._monotonic()
        with self._lock:
            last = self._last.get(key)
            if last is not None and now - last < self._interval:
                self._held[key] = self._held.get(key, 0) + 1
                return
            self._last[key] = now
            held = self._held.pop(key, 0)
        if held:
            message += " (%d similar messages held back)"
            args = (*args, held)
        with contextlib.suppress(Exception):  # a broken handler must not break monitoring
            self._logger.log(level, message, *args)
