"""How much a tracked call costs the calling thread, next to familiar instrumentation.

Prints the median and p90 nanoseconds per call of: a bare call; the same function tracked by
``telltale.sdk.Monitor`` (no validation; two checks, which run on the background thread; inside
an active OpenTelemetry span, whose trace ids are captured; an ``observe()`` block; an async
call); and, for scale, an OpenTelemetry ``start_as_current_span`` around the bare call and a
``prometheus_client.Histogram.observe``. It also prints what the two checks would cost if they
ran on the calling thread, and the background thread's cost per event.

Each sample is ``--calls`` calls, timed with ``perf_counter_ns`` in windows of ``--window`` calls;
the scenarios take turns sample by sample so that noise from other processes falls on all of
them alike. The background thread is kept idle while a window is timed (large batch size and
interval) and drains the buffer between windows (untimed, reported separately as the background
cost per event), so the buffer never holds more than one window: like a service whose buffer is
flushed every 1,000 events or second. Garbage collection stays on, as in a service.

    .venv/bin/python benchmarks/sdk_overhead.py [--calls 100000] [--window 10000] [--samples 21]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import Callable
from itertools import repeat

from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from prometheus_client import CollectorRegistry, Histogram

from telltale.sdk import Monitor, Sink, checks
from telltale.sdk.checks import run_checks


class DiscardSink(Sink):
    def write(self, batch: object) -> None:
        pass


def model(features: dict[str, object]) -> float:
    return 0.5


def timed_loop(function: Callable[[dict[str, object]], object], calls: int) -> int:
    """Nanoseconds for ``calls`` calls."""
    features = {"amount": 12.5, "country": "FR"}
    start = time.perf_counter_ns()
    for _ in repeat(None, calls):
        function(features)
    return time.perf_counter_ns() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=100_000, help="calls per sample")
    parser.add_argument("--window", type=int, default=10_000, help="calls per timed window")
    parser.add_argument("--samples", type=int, default=21, help="samples per scenario")
    options = parser.parse_args()
    calls = options.calls
    window = min(options.window, calls)

    provider = TracerProvider()
    trace.set_tracer_provider(provider)
    tracer = trace.get_tracer("bench")
    histogram = Histogram("latency_seconds", "latency", registry=CollectorRegistry())

    monitor = Monitor(
        model="bench",
        sink=DiscardSink(),
        capacity=window + 10,
        batch_size=window + 10,
        flush_interval=3600.0,
        resource_interval=None,
    )
    tracked = monitor.track(model)
    two_checks = [checks.finite(), checks.in_range(0, 1)]
    validated = monitor.track(validate=two_checks)(model)

    def checks_inline(features: dict[str, object]) -> object:
        result = model(features)
        run_checks(two_checks, result)
        return result

    def bare_in_span(features: dict[str, object]) -> object:
        return model(features)

    def otel_span(features: dict[str, object]) -> object:
        with tracer.start_as_current_span("predict"):
            return model(features)

    def prometheus(features: dict[str, object]) -> object:
        start = time.perf_counter()
        result = model(features)
        histogram.observe(time.perf_counter() - start)
        return result

    def observed(features: dict[str, object]) -> object:
        with monitor.observe(features) as obs:
            result = model(features)
            obs.set_output(result)
        return result

    async def async_model(features: dict[str, object]) -> float:
        return 0.5

    async_tracked = monitor.track(async_model)

    def async_loop(function: Callable[..., object]) -> Callable[[int], int]:
        async def run(n: int) -> int:
            features = {"amount": 12.5, "country": "FR"}
            start = time.perf_counter_ns()
            for _ in repeat(None, n):
                await function(features)  # type: ignore[misc]
            return time.perf_counter_ns() - start

        return lambda n: asyncio.run(run(n))

    span_rows = {"tracked call in an active OpenTelemetry span", "bare call in an active span"}
    scenarios: dict[str, Callable[[int], int]] = {
        "bare call": lambda n: timed_loop(model, n),
        "tracked call (no validation)": lambda n: timed_loop(tracked, n),
        "tracked call with two checks": lambda n: timed_loop(validated, n),
        "bare call + the two checks inline": lambda n: timed_loop(checks_inline, n),
        "bare call in an active span": lambda n: timed_loop(bare_in_span, n),
        "tracked call in an active OpenTelemetry span": lambda n: timed_loop(tracked, n),
        "observe() block": lambda n: timed_loop(observed, n),
        "async bare call (awaited)": async_loop(async_model),
        "async tracked call (awaited)": async_loop(async_tracked),
        "OpenTelemetry start_as_current_span + call": lambda n: timed_loop(otel_span, n),
        "prometheus Histogram.observe + call": lambda n: timed_loop(prometheus, n),
    }
    results: dict[str, list[float]] = {name: [] for name in scenarios}
    build_seconds = 0.0
    built = 0

    def drain() -> None:
        nonlocal build_seconds, built
        pending = monitor.stats().pending
        if pending:
            start = time.perf_counter()
            monitor.flush(600)
            build_seconds += time.perf_counter() - start
            built += pending

    for run in scenarios.values():  # warm-up
        run(1_000)
        drain()
    for _ in range(options.samples):
        for name, run in scenarios.items():
            elapsed = 0
            for offset in range(0, calls, window):
                size = min(window, calls - offset)
                if name in span_rows:
                    with tracer.start_as_current_span("request"):
                        elapsed += run(size)
                else:
                    elapsed += run(size)
                drain()
            results[name].append(elapsed / calls)

    def quantile(values: list[float], q: float) -> float:
        ordered = sorted(values)
        return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]

    print(
        f"{calls:,} calls per sample in windows of {window:,}, {options.samples} samples; "
        "ns per call (+ median: over the matching bare call)"
    )
    print(f"{'scenario':48} {'median':>8} {'p90':>8} {'+ median':>9}")
    bare = statistics.median(results["bare call"])
    for name, values in results.items():
        median = statistics.median(values)
        base = statistics.median(results["async bare call (awaited)"]) if "async" in name else bare
        if name == "tracked call in an active OpenTelemetry span":
            base = statistics.median(results["bare call in an active span"])
        print(f"{name:48} {median:8.0f} {quantile(values, 0.9):8.0f} {median - base:+9.0f}")
    stats = monitor.stats()
    print(
        f"background thread: {1e6 * build_seconds / max(built, 1):.1f} µs per event to build "
        f"and hand to the sink ({built:,} events); dropped {stats.dropped}"
    )
    monitor.close()
    provider.shutdown()


if __name__ == "__main__":
    main()
