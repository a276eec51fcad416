"""telltale.sdk: record what a model does in production, without slowing it down.

>>> from telltale.sdk import Monitor, checks
>>> monitor = Monitor(model="fraud", version="1.4.0", endpoint="http://127.0.0.1:8765",
...                   api_key="tt_...")  # doctest: +SKIP
>>> @monitor.track(validate=[checks.finite(), checks.in_range(0, 1)])  # doctest: +SKIP
... def predict(features): ...

A tracked call costs about a microsecond on the calling thread: it reads the clock, appends raw
references to a bounded buffer and returns. A background thread builds the events (features,
outputs, checks, redaction), and sends them in batches to a server (:class:`HttpSink`, spooling
to disk while the server is away) or to Parquet files (:class:`DirectorySink`). Monitoring never
raises into the model's code and never blocks it on I/O. See docs/sdk.md.

This package imports only the standard library; pyarrow, psutil, pynvml and OpenTelemetry are
used when present, and loaded on the background thread (OpenTelemetry only if the service has
already imported it).
"""

from __future__ import annotations

from telltale.sdk import checks
from telltale.sdk.batch import Batch
from telltale.sdk.checks import Check
from telltale.sdk.clock import Clock, ManualClock, SystemClock
from telltale.sdk.directory_sink import DirectorySink
from telltale.sdk.http_sink import HttpSink
from telltale.sdk.monitor import Monitor
from telltale.sdk.observation import Observation
from telltale.sdk.sink import CallbackSink, MemorySink, Sink, SinkCounters
from telltale.sdk.stats import MonitorStats

__all__ = [
    "Batch",
    "CallbackSink",
    "Check",
    "Clock",
    "DirectorySink",
    "HttpSink",
    "ManualClock",
    "MemorySink",
    "Monitor",
    "MonitorStats",
    "Observation",
    "Sink",
    "SinkCounters",
    "SystemClock",
    "checks",
]
