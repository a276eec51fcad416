"""The wrappers ``monitor.track`` puts around a function: sync, async, and with a timeout.

Without ``timeout=`` or ``fallback=`` a wrapper returns exactly what the function returned and
raises exactly what it raised (the same object): it only reads the clock around the call and
hands raw references to the :class:`~telltale.sdk.capture.Capture` recorder.

With ``timeout=`` a sync function runs on a small thread pool (so the caller can stop waiting;
the thread itself cannot be stopped and finishes in the background), an async one under
:func:`asyncio.wait_for` (which cancels it). With ``fallback=`` (a value, or a callable taking the
same arguments) a timeout or an exception returns the fallback instead, recorded with status
``fallback`` and the reason in ``error``; without it a timeout raises :class:`TimeoutError`
(status ``timeout``).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextvars
import functools
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

from telltale.sdk.call_site import ERROR, FALLBACK, OK, TIMEOUT, CallSite
from telltale.sdk.capture import Capture
from telltale.sdk.tracing import OTEL_CONTEXT_MODULE

__all__ = ["NO_FALLBACK", "wrap"]

NO_FALLBACK: Any = object()
"""The default of ``fallback=``: let timeouts and exceptions reach the caller."""

Submit = Callable[..., "concurrent.futures.Future[Any]"]


def wrap(
    function: Callable[..., Any],
    site: CallSite,
    capture: Capture,
    *,
    is_async: bool,
    timeout: float | None = None,
    fallback: Any = NO_FALLBACK,
    submit: Callable[[], Submit] | None = None,
) -> Callable[..., Any]:
    """The tracked version of ``function``."""
    if timeout is None and fallback is NO_FALLBACK:
        if is_async:
            return _plain_async(function, site, capture)
        return _plain_sync(function, site, capture)
    if is_async:
        return _guarded_async(function, site, capture, timeout, fallback)
    assert submit is not None
    return _guarded_sync(function, site, capture, timeout, fallback, submit)


def _plain_sync(function: Callable[..., Any], site: CallSite, capture: Capture) -> Any:
    if site.batch:
        return _recorded_sync(function, site, capture)
    # The hottest path, so the recorder is written out inline (a call less, ~0.2 µs); it does
    # exactly what Capture.recorder does for a call that is not a batch.
    record = capture.recorder(site)
    perf = time.perf_counter_ns
    buffer = capture.buffer
    records = buffer.records
    append = records.append
    drop = buffer.drop
    sequence = capture.ids.sequence
    set_last = capture.last.set
    modules = sys.modules

    @functools.wraps(function)
    def tracked(*args: Any, **kwargs: Any) -> Any:
        start = perf()
        try:
            result = function(*args, **kwargs)
        except Exception as error:
            record(start, perf(), args, kwargs, None, error, ERROR)
            raise
        end = perf()
        try:
            otel = modules.get(OTEL_CONTEXT_MODULE)
            number = next(sequence)
            if len(records) < buffer.capacity:
                append(
                    (
                        site,
                        number,
                        start,
                        end,
                        args,
                        kwargs or None,
                        result,
                        None,
                        OK,
                        otel.get_current() if otel is not None else None,
                        None,
                    )
                )
            else:
                drop()
            set_last(number)
        except Exception:
            pass  # monitoring never raises into the model's code
        return result

    return tracked


def _recorded_sync(function: Callable[..., Any], site: CallSite, capture: Capture) -> Any:
    record = capture.recorder(site)
    perf = time.perf_counter_ns

    @functools.wraps(function)
    def tracked(*args: Any, **kwargs: Any) -> Any:
        start = perf()
        try:
            result = function(*args, **kwargs)
        except Exception as error:
            record(start, perf(), args, kwargs, None, error, ERROR)
            raise
        record(start, perf(), args, kwargs, result, None, OK)
        return result

    return tracked


def _loop_watcher(capture: Capture) -> Callable[[], None]:
    seen: list[Any] = [None]
    get_running_loop = asyncio.get_running_loop

    def watch() -> None:
        loop = get_running_loop()
        if loop is not seen[0]:
            seen[0] = loop
            capture.watch_loop(loop)

    return watch


def _plain_async(function: Callable[..., Awaitable[Any]], site: CallSite, capture: Capture) -> Any:
    record = capture.recorder(site)
    if site.batch:
        return _recorded_async(function, site, capture, record)
    # Written out inline like _plain_sync (what Capture.recorder does for a non-batch call).
    perf = time.perf_counter_ns
    buffer = capture.buffer
    records = buffer.records
    append = records.append
    drop = buffer.drop
    sequence = capture.ids.sequence
    set_last = capture.last.set
    modules = sys.modules
    get_running_loop = asyncio.get_running_loop
    seen: list[Any] = [None]

    @functools.wraps(function)
    async def tracked(*args: Any, **kwargs: Any) -> Any:
        loop = get_running_loop()
        if loop is not seen[0]:  # a new loop: let the sampler measure its lag
            seen[0] = loop
            capture.watch_loop(loop)
        start = perf()
        try:
            result = await function(*args, **kwargs)
        except (Exception, asyncio.CancelledError) as error:
            record(start, perf(), args, kwargs, None, error, ERROR)
            raise
        end = perf()
        try:
            otel = modules.get(OTEL_CONTEXT_MODULE)
            number = next(sequence)
            if len(records) < buffer.capacity:
                append(
                    (
                        site,
                        number,
                        start,
                        end,
                        args,
                        kwargs or None,
                        result,
                        None,
                        OK,
                        otel.get_current() if otel is not None else None,
                        None,
                    )
                )
            else:
                drop()
            set_last(number)
        except Exception:
            pass  # monitoring never raises into the model's code
        return result

    return tracked


def _recorded_async(
    function: Callable[..., Awaitable[Any]], site: CallSite, capture: Capture, record: Any
) -> Any:
    perf = time.perf_counter_ns
    watch = _loop_watcher(capture)

    @functools.wraps(function)
    async def tracked(*args: Any, **kwargs: Any) -> Any:
        watch()
        start = perf()
        try:
            result = await function(*args, **kwargs)
        except (Exception, asyncio.CancelledError) as error:
            record(start, perf(), args, kwargs, None, error, ERROR)
            raise
        record(start, perf(), args, kwargs, result, None, OK)
        return result

    return tracked


def _call_fallback(fallback: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    return fallback(*args, **kwargs) if callable(fallback) else fallback


def _timed_out(site: CallSite, timeout: float | None) -> TimeoutError:
    return TimeoutError(f"{site.name} did not answer within {timeout:g} s (timeout={timeout!r})")


def _guarded_sync(
    function: Callable[..., Any],
    site: CallSite,
    capture: Capture,
    timeout: float | None,
    fallback: Any,
    submit: Callable[[], Submit],
) -> Any:
    record = capture.recorder(site)
    perf = time.perf_counter_ns
    has_fallback = fallback is not NO_FALLBACK

    def fall_back(
        start: int, args: tuple[Any, ...], kwargs: dict[str, Any], why: BaseException
    ) -> Any:
        try:
            value = _call_fallback(fallback, args, kwargs)
        except Exception as error:
            record(start, perf(), args, kwargs, None, error, ERROR)
            raise
        record(start, perf(), args, kwargs, value, why, FALLBACK)
        return value

    @functools.wraps(function)
    def tracked(*args: Any, **kwargs: Any) -> Any:
        start = perf()
        if timeout is None:
            try:
                result = function(*args, **kwargs)
            except Exception as error:
                return fall_back(start, args, kwargs, error)
            record(start, perf(), args, kwargs, result, None, OK)
            return result
        context = contextvars.copy_context()  # the OpenTelemetry span goes along
        future = submit()(context.run, function, *args, **kwargs)
        try:
            result = future.result(timeout)
        except Exception as error:
            # On Python 3.11+ the pool's TimeoutError is the builtin one, which the function
            # may raise itself: only an unfinished future means the wait ran out.
            finished = future.done() and not future.cancelled()
            if finished and future.exception(0) is error:
                if has_fallback:
                    return fall_back(start, args, kwargs, error)
                record(start, perf(), args, kwargs, None, error, ERROR)
                raise
            why = _timed_out(site, timeout)
            if has_fallback:
                return fall_back(start, args, kwargs, why)
            record(start, perf(), args, kwargs, None, why, TIMEOUT)
            raise why from None
        record(start, perf(), args, kwargs, result, None, OK)
        return result

    return tracked


async def _boxed(awaitable: Awaitable[Any]) -> tuple[bool, Any]:
    """The function's own exceptions, kept apart from the TimeoutError of ``wait_for``."""
    try:
        return True, await awaitable
    except Exception as error:
        return False, error


def _guarded_async(
    function: Callable[..., Awaitable[Any]],
    site: CallSite,
    capture: Capture,
    timeout: float | None,
    fallback: Any,
) -> Any:
    record = capture.recorder(site)
    perf = time.perf_counter_ns
    watch = _loop_watcher(capture)
    has_fallback = fallback is not NO_FALLBACK

    async def fall_back(
        start: int, args: tuple[Any, ...], kwargs: dict[str, Any], why: BaseException
    ) -> Any:
        try:
            value = _call_fallback(fallback, args, kwargs)
            if asyncio.iscoroutine(value):
                value = await value
        except Exception as error:
            record(start, perf(), args, kwargs, None, error, ERROR)
            raise
        record(start, perf(), args, kwargs, value, why, FALLBACK)
        return value

    @functools.wraps(function)
    async def tracked(*args: Any, **kwargs: Any) -> Any:
        watch()
        start = perf()
        try:
            finished, value = await asyncio.wait_for(_boxed(function(*args, **kwargs)), timeout)
        except asyncio.TimeoutError:
            why = _timed_out(site, timeout)
            if has_fallback:
                return await fall_back(start, args, kwargs, why)
            record(start, perf(), args, kwargs, None, why, TIMEOUT)
            raise why from None
        except asyncio.CancelledError as error:
            record(start, perf(), args, kwargs, None, error, ERROR)
            raise
        if finished:
            record(start, perf(), args, kwargs, value, None, OK)
            return value
        if has_fallback:
            return await fall_back(start, args, kwargs, value)
        record(start, perf(), args, kwargs, None, value, ERROR)
        raise value

    return tracked
