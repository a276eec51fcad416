"""``Monitor``: the one object a model service creates to record its predictions.

>>> from telltale.sdk import MemorySink, Monitor, checks
>>> monitor = Monitor(model="fraud", version="1.4.0", sink=MemorySink())
>>> @monitor.track(validate=[checks.finite(), checks.in_range(0, 1)])
... def predict(features):
...     return 0.93
>>> predict({"amount": 12.5})
0.93
>>> event_id = monitor.last_event_id()
>>> monitor.log_label(event_id, 1)
>>> monitor.flush()
True
>>> monitor.sink.events[0]["outputs"], monitor.sink.labels[0]["label"]
({'prediction': 0.93}, 1)
>>> monitor.close()

Everything about a tracked function is checked when it is decorated (a bad option raises
:class:`~telltale.errors.ConfigError` then); calls themselves never raise because of monitoring.
See docs/sdk.md for the whole story: buffer, background flush, spool, fork, settings.
"""

from __future__ import annotations

import atexit
import concurrent.futures
import contextlib
import functools
import inspect
import logging
import math
import os
import socket
import threading
import weakref
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, TypeVar, overload

from telltale._version import __version__
from telltale.errors import ConfigError
from telltale.sdk.batch import Batch
from telltale.sdk.buffer import RecordBuffer
from telltale.sdk.call_site import CallSite
from telltale.sdk.capture import Capture
from telltale.sdk.checks import Check, CheckFunction, as_check
from telltale.sdk.clock import Clock, SystemClock
from telltale.sdk.directory_sink import DirectorySink
from telltale.sdk.environment import EnvironmentTracker
from telltale.sdk.event_builder import EventBuilder
from telltale.sdk.event_ids import EventIds
from telltale.sdk.flusher import Flusher
from telltale.sdk.http_sink import HttpSink
from telltale.sdk.inputs import InputBinder, InputsFunction
from telltale.sdk.observation import Observation
from telltale.sdk.outputs import OutputMapper
from telltale.sdk.redaction import RedactionRule, Redactor
from telltale.sdk.resources import ResourceSampler
from telltale.sdk.sink import CallbackSink, Sink
from telltale.sdk.stats import MonitorStats
from telltale.sdk.timestamps import iso_time
from telltale.sdk.tracking import NO_FALLBACK, wrap

__all__ = ["Monitor"]

log = logging.getLogger("telltale.sdk")

F = TypeVar("F", bound=Callable[..., Any])

SDK_NAME = f"telltale-python/{__version__}"


def _instance_name() -> str:
    try:
        host = socket.gethostname()
    except Exception:
        host = "unknown"
    return f"{host}-{os.getpid()}"


def _positive(name: str, value: Any, example: str, *, whole: bool = False) -> None:
    kinds: tuple[type, ...] = (int,) if whole else (int, float)
    valid = isinstance(value, kinds) and not isinstance(value, bool)
    number = float(value) if valid else -1.0
    if not math.isfinite(number) or number <= 0:
        raise ConfigError(f"{name}={value!r} must be a positive number; pass e.g. {example}")


def _segment(value: Mapping[str, str] | None, where: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise ConfigError(
            f"{where}={value!r} must map tag names to strings, e.g. {{'region': 'eu'}}"
        )
    return dict(value)


MAX_ENVIRONMENT_LABELS = 20
"""At most this many environment labels (``Monitor(environment=...)``)."""


def _environment_labels(value: Mapping[str, str] | None) -> dict[str, str]:
    """``environment=`` checked: names of 1-200 characters, values of at most 1,000."""
    example = "e.g. Monitor(..., environment={'name': 'gpu-b', 'region': 'eu-west-1'})"
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ConfigError(f"environment={value!r} must map label names to strings, {example}")
    if len(value) > MAX_ENVIRONMENT_LABELS:
        raise ConfigError(
            f"environment= has {len(value)} labels, at most {MAX_ENVIRONMENT_LABELS} are kept; "
            "name the host or deployment, and put per-call tags in segment= instead"
        )
    for name, label in value.items():
        if not isinstance(name, str) or not 1 <= len(name) <= 200:
            raise ConfigError(
                f"environment label name {name!r} must be a string of 1-200 characters, {example}"
            )
        if not isinstance(label, str) or len(label) > 1_000:
            raise ConfigError(
                f"environment label {name!r} = {label!r:.80} must be a string of at most 1,000 "
                f"characters, {example}"
            )
    return dict(value)


def _is_async(function: Callable[..., Any]) -> bool:
    if inspect.iscoroutinefunction(function):
        return True
    call = getattr(function, "__call__", None)  # noqa: B004 - an object with async __call__
    return inspect.iscoroutinefunction(call)


class Monitor:
    """Records every call of a model: inputs, outputs, latency, status, validation, trace ids.

    Give it one destination: ``endpoint=`` (a telltale server, with ``api_key=`` or
    ``TELLTALE_API_KEY``), ``directory=`` (Parquet files) or ``sink=`` (any :class:`Sink`, or a
    function taking a :class:`Batch`).

    The environment (Python, platform, CPU, GPU, loaded libraries) is fingerprinted by itself;
    ``environment={"name": "gpu-b"}`` adds labels the process cannot see, such as the host's or
    the deployment's name, which the dashboard and alerts then show instead of a hash.

    >>> monitor = Monitor(model="fraud", version="1.4.0", directory="events/")  # doctest: +SKIP
    >>> @monitor.track  # doctest: +SKIP
    ... def predict(features): ...
    """

    def __init__(
        self,
        model: str,
        version: str = "",
        *,
        endpoint: str | None = None,
        api_key: str | None = None,
        directory: str | os.PathLike[str] | None = None,
        sink: Sink | Callable[[Batch], Any] | None = None,
        segment: Mapping[str, str] | None = None,
        environment: Mapping[str, str] | None = None,
        redact: Mapping[str, RedactionRule] | None = None,
        redact_salt: str | bytes | None = None,
        capacity: int = 10_000,
        batch_size: int = 1_000,
        flush_interval: float = 1.0,
        resource_interval: float | None = 10.0,
        spool_dir: str | os.PathLike[str] | None = None,
        spool_max_bytes: int = 256 << 20,
        timeout_workers: int = 4,
        atexit_timeout: float = 2.0,
        clock: Clock | None = None,
    ) -> None:
        if not isinstance(model, str) or not model or len(model) > 200:
            raise ConfigError(
                f"model={model!r} must be a non-empty name of at most 200 characters, "
                "e.g. Monitor(model='fraud')"
            )
        if not isinstance(version, str) or len(version) > 200:
            raise ConfigError(f"version={version!r} must be a string of at most 200 characters")
        _positive("capacity", capacity, "capacity=10_000", whole=True)
        _positive("batch_size", batch_size, "batch_size=1_000", whole=True)
        _positive("flush_interval", flush_interval, "flush_interval=1.0")
        if resource_interval is not None:
            _positive("resource_interval", resource_interval, "resource_interval=10.0")
        _positive("timeout_workers", timeout_workers, "timeout_workers=4", whole=True)
        _positive("atexit_timeout", atexit_timeout, "atexit_timeout=2.0")
        self.model = model
        self.version = version
        self.clock = clock or SystemClock()
        self.sink = self._make_sink(
            endpoint, api_key, directory, sink, spool_dir, spool_max_bytes, self.clock
        )
        self._segment = _segment(segment, "segment")
        labels = _environment_labels(environment)
        self._redactor = Redactor(redact, salt=redact_salt)
        self._timeout_workers = timeout_workers
        self._atexit_timeout = atexit_timeout
        self._buffer = RecordBuffer(capacity)
        self._ids = EventIds()
        self._capture = Capture(self._buffer, self._ids)
        self._instance = _instance_name()
        self._pool: concurrent.futures.ThreadPoolExecutor | None = None
        self._pool_lock = threading.Lock()
        self._closed = False
        self._observe_sites: dict[Any, CallSite] = {}
        sampler = (
            ResourceSampler(instance=self._instance, loops=self._capture.loops)
            if resource_interval is not None
            else None
        )
        self._flusher = Flusher(
            buffer=self._buffer,
            builder=EventBuilder(
                model=model,
                version=version,
                segment=self._segment,
                redactor=self._redactor,
                ids=self._ids,
            ),
            sink=self.sink,
            clock=self.clock,
            environment=EnvironmentTracker(labels),
            sampler=sampler,
            batch_size=batch_size,
            flush_interval=float(flush_interval),
            resource_interval=None if resource_interval is None else float(resource_interval),
            client=self._client,
        )
        self._flusher.start()
        reference = weakref.ref(self)
        atexit.register(_close_at_exit, reference)
        os.register_at_fork(after_in_child=functools.partial(_after_fork_in_child, reference))

    @staticmethod
    def _make_sink(
        endpoint: str | None,
        api_key: str | None,
        directory: str | os.PathLike[str] | None,
        sink: Sink | Callable[[Batch], Any] | None,
        spool_dir: str | os.PathLike[str] | None,
        spool_max_bytes: int,
        clock: Clock,
    ) -> Sink:
        given = [
            name
            for name, value in (("endpoint", endpoint), ("directory", directory), ("sink", sink))
            if value is not None
        ]
        if len(given) != 1:
            shown = " and ".join(given) if given else "none"
            raise ConfigError(
                f"Monitor needs exactly one destination, got {shown}; pass "
                "endpoint='http://127.0.0.1:8765' (a telltale server), directory='events/' "
                "(Parquet files) or sink=... (a Sink or a function taking a Batch)"
            )
        if endpoint is not None:
            return HttpSink(
                endpoint,
                api_key,
                spool_dir=spool_dir,
                spool_max_bytes=spool_max_bytes,
                clock=clock,
            )
        if directory is not None:
            return DirectorySink(directory)
        if isinstance(sink, Sink):
            return sink
        if callable(sink):
            return CallbackSink(sink)
        raise ConfigError(
            f"sink={sink!r} is neither a telltale.sdk.Sink nor a function taking a Batch"
        )

    def _client(self) -> dict[str, Any]:
        return {"sdk": SDK_NAME, "instance": self._instance, "dropped": self._buffer.dropped}

    def _submit(self) -> Callable[..., concurrent.futures.Future[Any]]:
        pool = self._pool
        if pool is None:
            with self._pool_lock:
                if self._pool is None:
                    self._pool = concurrent.futures.ThreadPoolExecutor(
                        max_workers=self._timeout_workers,
                        thread_name_prefix=f"telltale-{self.model}-timeout",
                    )
                pool = self._pool
        return pool.submit

    # -- tracking ------------------------------------------------------------------------------

    def _site(
        self,
        function: Callable[..., Any],
        *,
        name: str | None,
        validate: Iterable[Check | CheckFunction],
        outputs: OutputMapper | None,
        inputs: InputsFunction | None,
        feature_names: Sequence[str] | None,
        batch: bool,
        segment: Mapping[str, str] | None,
    ) -> CallSite:
        if isinstance(validate, (str, bytes)) or not isinstance(validate, Iterable):
            raise ConfigError(
                f"validate={validate!r} must be a list of checks, e.g. [checks.finite()]"
            )
        if outputs is not None and not callable(outputs):
            raise ConfigError(
                f"outputs={outputs!r} is not callable; pass a function output -> mapping"
            )
        title = name or getattr(function, "__qualname__", None) or repr(function)
        return CallSite(
            name=str(title),
            binder=InputBinder(function, feature_names=feature_names, inputs=inputs, batch=batch),
            checks=tuple(as_check(check) for check in validate),
            outputs=outputs,
            batch=bool(batch),
            segment=_segment(segment, "segment"),
        )

    @overload
    def track(self, function: F, /) -> F: ...

    @overload
    def track(
        self,
        function: None = None,
        /,
        *,
        validate: Iterable[Check | CheckFunction] = (),
        outputs: OutputMapper | None = None,
        inputs: InputsFunction | None = None,
        feature_names: Sequence[str] | None = None,
        batch: bool = False,
        timeout: float | None = None,
        fallback: Any = NO_FALLBACK,
        segment: Mapping[str, str] | None = None,
        name: str | None = None,
    ) -> Callable[[F], F]: ...

    def track(
        self,
        function: Any = None,
        /,
        *,
        validate: Iterable[Check | CheckFunction] = (),
        outputs: OutputMapper | None = None,
        inputs: InputsFunction | None = None,
        feature_names: Sequence[str] | None = None,
        batch: bool = False,
        timeout: float | None = None,
        fallback: Any = NO_FALLBACK,
        segment: Mapping[str, str] | None = None,
        name: str | None = None,
    ) -> Any:
        """Decorate a function (sync or async, plain or method) so each call is recorded.

        ``@monitor.track`` or ``@monitor.track(validate=[...], batch=True, timeout=0.2, ...)``.
        """
        if timeout is not None:
            _positive("timeout", timeout, "timeout=0.2 (seconds)")

        def decorate(target: Any) -> Any:
            if isinstance(target, (staticmethod, classmethod)):
                return type(target)(decorate(target.__func__))
            if not callable(target):
                raise ConfigError(f"track() decorates functions; got {target!r}")
            if inspect.isgeneratorfunction(target) or inspect.isasyncgenfunction(target):
                raise ConfigError(
                    f"{getattr(target, '__qualname__', target)} is a generator function: its "
                    "call returns before any work is done. Track the function that consumes "
                    "it, or use monitor.observe() around the loop"
                )
            site = self._site(
                target,
                name=name,
                validate=validate,
                outputs=outputs,
                inputs=inputs,
                feature_names=feature_names,
                batch=batch,
                segment=segment,
            )
            return wrap(
                target,
                site,
                self._capture,
                is_async=_is_async(target),
                timeout=timeout,
                fallback=fallback,
                submit=self._submit,
            )

        if function is not None:
            return decorate(function)
        return decorate

    def observe(
        self,
        inputs: Any = None,
        *,
        validate: Iterable[Check | CheckFunction] = (),
        outputs: OutputMapper | None = None,
        feature_names: Sequence[str] | None = None,
        segment: Mapping[str, str] | None = None,
        name: str = "observe",
    ) -> Observation:
        """A context manager recording one block as one event; see :class:`Observation`.

        ``inputs`` are the features (a mapping, or a sequence with ``feature_names=``). The
        options are checked on each call, outside the block's measured latency.
        """

        try:
            if not validate and outputs is None and feature_names is None and segment is None:
                key: Any = name  # the common case, cheap to look up
            else:
                key = (
                    name,
                    tuple(check.name if isinstance(check, Check) else check for check in validate),
                    outputs,
                    None if feature_names is None else tuple(feature_names),
                    None if segment is None else tuple(sorted(segment.items())),
                )
            site = self._observe_sites.get(key)
        except TypeError:  # unhashable options: build the settings afresh
            key, site = None, None
        if site is None:

            def observed(inputs: Any) -> None: ...

            site = self._site(
                observed,
                name=name,
                validate=validate,
                outputs=outputs,
                inputs=None,
                feature_names=feature_names,
                batch=False,
                segment=segment,
            )
            if key is not None:
                if len(self._observe_sites) >= 256:
                    self._observe_sites.clear()
                self._observe_sites[key] = site
        return Observation(self._capture, site, inputs)

    # -- ids, labels, feedback -----------------------------------------------------------------

    def last_event_id(self) -> str | None:
        """The event id of the last call recorded in this thread or asyncio task (None if none).

        For a batch call it is the id of the first row; see :meth:`last_event_ids`.
        """
        ids = self.last_event_ids()
        return ids[0] if ids else None

    def last_event_ids(self) -> list[str]:
        """The ids of every row of the last call recorded in this thread or asyncio task."""
        last = self._capture.last.get()
        if last is None:
            return []
        if isinstance(last, tuple):
            first, rows = last
            return [] if first is None else self._ids.format_block(first, rows)
        return [self._ids.format(last)]

    def _queue_label(self, kind: str, row: dict[str, Any]) -> None:
        if self._closed:
            log.warning("telltale: %s for %s logged after close(); it is not sent", kind, row)
            return
        self._flusher.labels.append((kind, row))  # type: ignore[arg-type]

    @staticmethod
    def _check_event_id(event_id: Any) -> str:
        if not isinstance(event_id, str) or not event_id:
            raise ConfigError(
                f"event_id={event_id!r} is not an event id; use monitor.last_event_id() or "
                "obs.event_id right after the call"
            )
        return event_id

    def log_label(self, event_id: str, label: Any, *, ts: float | None = None) -> None:
        """Send the ground truth of an earlier event (a number or a string); joined by id."""
        event_id = self._check_event_id(event_id)
        if isinstance(label, bool) or not isinstance(label, (int, float, str)):
            raise ConfigError(
                f"label={label!r} must be a number or a string (the true value of the "
                "event's prediction)"
            )
        if isinstance(label, float) and not math.isfinite(label):
            raise ConfigError(f"label={label!r} is not finite; send the true class or value")
        when = self.clock.time() if ts is None else ts
        self._queue_label("labels", {"event_id": event_id, "label": label, "ts": iso_time(when)})

    def log_feedback(self, event_id: str, score: float, *, ts: float | None = None) -> None:
        """Send user feedback on an earlier event: a finite number (thumbs 1/0, a rating)."""
        event_id = self._check_event_id(event_id)
        if isinstance(score, bool):
            score = float(score)
        if not isinstance(score, (int, float)) or not math.isfinite(score):
            raise ConfigError(
                f"score={score!r} must be a finite number, e.g. 1.0 for thumbs up, 0.0 for down"
            )
        when = self.clock.time() if ts is None else ts
        self._queue_label(
            "feedback", {"event_id": event_id, "score": float(score), "ts": iso_time(when)}
        )

    # -- lifecycle -----------------------------------------------------------------------------

    def flush(self, timeout: float = 5.0) -> bool:
        """Build and send everything recorded so far; True if nothing is left waiting.

        Spooled batches get one immediate retry. Waits at most ``timeout`` seconds.
        """
        if self._closed:
            return len(self._buffer) == 0 and self.sink.pending() == 0
        finished = self._flusher.request_flush(timeout)
        return finished and len(self._buffer) == 0 and self.sink.pending() == 0

    def close(self, timeout: float = 5.0) -> None:
        """Flush (at most ``timeout`` seconds), stop the background thread, close the sink.

        Calls made after close are not recorded. Safe to call twice.
        """
        if self._closed:
            return
        self._closed = True
        self._flusher.stop(timeout)
        pool = self._pool
        if pool is not None:
            pool.shutdown(wait=False)
        with contextlib.suppress(Exception):
            self.sink.close()
        self._buffer.capacity = 0  # calls made from now on are not recorded

    def __enter__(self) -> Monitor:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def stats(self) -> MonitorStats:
        """Counts since start: captured, pending, dropped, sent, spooled, failed …"""
        counters = self.sink.counters
        errors = self._flusher.sink_errors
        return MonitorStats(
            captured=self._flusher.captured,
            pending=len(self._buffer),
            dropped=self._buffer.dropped,
            sent=counters.sent["events"],
            spooled=counters.spooled["events"],
            spool_dropped=counters.spool_dropped["events"],
            failed=counters.failed["events"] + errors["events"],
            labels_sent=counters.sent["labels"] + counters.sent["feedback"],
            labels_failed=(
                counters.failed["labels"]
                + counters.failed["feedback"]
                + errors["labels"]
                + errors["feedback"]
            ),
        )

    def _after_fork_in_child(self) -> None:
        if self._closed:
            return
        self._buffer.after_fork_in_child()
        self._ids.redraw()
        self._instance = _instance_name()
        self._pool = None
        self._pool_lock = threading.Lock()
        with contextlib.suppress(Exception):
            self.sink.after_fork_in_child()
        if self._flusher.sampler is not None:
            self._flusher.sampler.after_fork_in_child(self._instance)
        self._flusher.after_fork_in_child()


def _close_at_exit(reference: weakref.ref[Monitor]) -> None:
    monitor = reference()
    if monitor is not None:
        with contextlib.suppress(Exception):
            monitor.close(timeout=monitor._atexit_timeout)


def _after_fork_in_child(reference: weakref.ref[Monitor]) -> None:
    monitor = reference()
    if monitor is not None:
        with contextlib.suppress(Exception):
            monitor._after_fork_in_child()
