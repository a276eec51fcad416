"""The demo's production traffic: who calls the service when, with what, and when labels come.

:func:`prepare` trains the models and makes the reference; :func:`simulate` plays the
:class:`~telltale.demo.timeline.Timeline` against a collector through the SDK (the schedule of
problems is in that module's docstring). Given the seed, the traffic is the same every run:
the i-th transaction's row, region, replica, version, label and label delay, and every injected
problem, are drawn from seeded generators in arrival order; only the real timing (how calls
group into micro-batches, the stamp within a tick, the time of day) varies.

>>> scenario = prepare(seed=0, quick=True)                 # doctest: +SKIP
>>> report = simulate(scenario, "http://127.0.0.1:8765", "tt_...")   # doctest: +SKIP
>>> report.events_sent, sorted(report.environments)        # doctest: +SKIP
(6034, ['a', 'b'])
"""

from __future__ import annotations

import heapq
import io
import itertools
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from telltale.demo.dataset import FEATURES, Rows, TransactionData, apply_drift
from telltale.demo.models import VERSIONS, FraudModel, train_model
from telltale.demo.service import REGIONS, Service, blended_score, predictions
from telltale.demo.timeline import Timeline, WarpClock

__all__ = [
    "FULL",
    "QUICK",
    "Scenario",
    "SimulationReport",
    "Tick",
    "prepare",
    "reference_parquet",
    "simulate",
]

FULL = Timeline(history_s=24 * 3600.0, speed=3600.0, incident_speed=60.0)
"""The default schedule: a day of history in 24 s, the incident in 20 s."""
QUICK = Timeline(history_s=3 * 3600.0, speed=1800.0, incident_speed=120.0, label_delay_median_s=60)
"""``--quick`` (CI): three hours of history in 6 s, the incident in 10 s."""

RATE_PER_S = 0.5
"""Transactions per simulated second, at the mean of the daily rhythm."""
_DAILY_AMPLITUDE = 0.4
_TICK_S = 0.1  # real seconds between two rounds of calls (the micro-batch window)
_LIVE_TICK_S = 0.5


@dataclass
class Scenario:
    """What a run needs before traffic starts: the data, the models, the schedule."""

    seed: int
    timeline: Timeline
    data: TransactionData
    models: dict[str, FraudModel]
    validation_accuracy: float
    """Accuracy of version 1.0.0 on held-out rows, as the service scores them."""


def prepare(*, seed: int, quick: bool = False, timeline: Timeline | None = None) -> Scenario:
    """Generate the data and train both versions (about 3 s); ``timeline`` defaults to
    :data:`QUICK` or :data:`FULL`."""
    data = TransactionData.generate(seed=seed)
    models = {version: train_model(version, data.train, seed=seed) for version in VERSIONS}
    reference = models["1.0.0"]
    score = blended_score(
        reference.fraud_probability(data.validation), data.validation.features["merchant_risk"]
    )
    accuracy = float(np.mean(predictions(score) == data.validation.labels))
    chosen = timeline or (QUICK if quick else FULL)
    return Scenario(seed, chosen, data, models, accuracy)


def incident_report(scenario: Scenario) -> tuple[str, Any]:
    """A ``telltale report`` of the training rows against production rows as they are at T0
    (the drift at its height, a quarter through ``partner_api``), both scored by version
    1.0.0 with their true labels: the HTML and the JSON the demo pushes to the Reports page."""
    import pyarrow as pa

    import telltale

    model = scenario.models["1.0.0"]

    def table(rows: Rows) -> Any:
        score = blended_score(model.fraud_probability(rows), rows.features["merchant_risk"])
        columns: dict[str, Any] = {name: rows.features[name] for name in FEATURES}
        columns["channel"] = rows.features["channel"].astype(str)
        columns["is_fraud"] = (rows.labels == "fraud").astype(int)
        columns["flagged"] = (predictions(score) == "fraud").astype(int)
        columns["score"] = np.nan_to_num(score, nan=0.0)
        return pa.table(columns)

    rng = np.random.default_rng(scenario.seed + 1)
    current = scenario.data.production.take(np.arange(min(4_000, len(scenario.data.production))))
    apply_drift(current, drift=np.ones(len(current)), partner=rng.uniform(size=len(current)) < 0.25)
    result = telltale.report(
        table(scenario.data.train),
        table(current),
        target="is_fraud",
        prediction="flagged",
        score="score",
        n_bootstrap=200,
    )
    return result.html(), result.to_dict()


def reference_parquet(scenario: Scenario) -> bytes:
    """The training rows with version 1.0.0's outputs, as Parquet: what ``PUT
    /v1/models/card-fraud/references/training`` takes (the server profiles it)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = scenario.data.train
    model = scenario.models["1.0.0"]
    score = blended_score(model.fraud_probability(rows), rows.features["merchant_risk"])
    columns: dict[str, Any] = {name: rows.features[name] for name in FEATURES}
    columns["channel"] = rows.features["channel"].astype(str)
    columns["output.score"] = score
    columns["output.prediction"] = predictions(score).astype(str)
    buffer = io.BytesIO()
    pq.write_table(pa.table(columns), buffer)
    return buffer.getvalue()


# --------------------------------------------------------------------------------------------
# Arrivals
# --------------------------------------------------------------------------------------------


@dataclass
class _Arrivals:
    """The transactions of one stretch of the schedule, in arrival order (numpy columns)."""

    offset: np.ndarray
    pool_index: np.ndarray
    region: np.ndarray
    replica: np.ndarray
    version: np.ndarray
    partner: np.ndarray
    missing_risk: np.ndarray
    labelled: np.ndarray
    label_delay: np.ndarray

    def take(self, start: int, stop: int) -> _Arrivals:
        return _Arrivals(**{k: v[start:stop] for k, v in self.__dict__.items()})

    def __len__(self) -> int:
        return len(self.offset)


class _Traffic:
    """Draws arrivals chunk by chunk: times from one generator, contents from another, so the
    contents depend only on the seed and the arrival's place in the sequence."""

    def __init__(self, timeline: Timeline, seed: int, pool_size: int, t0: float, rate: float):
        self.timeline = timeline
        self.pool_size = pool_size
        self.t0 = t0
        self.rate = rate
        self._times = np.random.default_rng([seed, 1])
        self._contents = np.random.default_rng([seed, 2])
        self._next = -timeline.span_s

    def _daily(self, offset: np.ndarray) -> np.ndarray:
        # The rhythm peaks at T0, whatever the hour of the real clock: the incident always meets
        # the busiest traffic, so its windows hold enough events for the alerts' worst slices
        # (tied to the wall clock, a demo started at 03:00 UTC saw 40 % fewer).
        return 1.0 + _DAILY_AMPLITUDE * np.cos(2 * np.pi * offset / 86_400.0)

    def chunk(self, n: int = 4096) -> _Arrivals:
        peak = self.rate * (1.0 + _DAILY_AMPLITUDE)
        gaps = self._times.exponential(1.0 / peak, n)
        candidates = self._next + np.cumsum(gaps)
        self._next = float(candidates[-1])
        kept = self._times.random(n) < self.rate * self._daily(candidates) / peak
        offset = candidates[kept]
        m = len(offset)
        t = self.timeline
        rng = self._contents
        draws = rng.random((m, 5))  # replica, canary, partner, missing risk, labelled
        replica = np.where(draws[:, 0] < t.replica_b_share, "b", "a")
        canary = (replica == "a") & (offset >= t.canary_start) & (draws[:, 1] < t.canary_share)
        return _Arrivals(
            offset=offset,
            pool_index=rng.integers(0, self.pool_size, m),
            region=rng.choice(np.asarray(REGIONS), m, p=[0.5, 0.3, 0.2]),
            replica=replica,
            version=np.where(canary, VERSIONS[1], VERSIONS[0]),
            partner=(offset >= t.new_channel_start) & (draws[:, 2] < t.new_channel_share),
            missing_risk=t.outage_on(offset) & (draws[:, 3] < t.outage_missing_share),
            labelled=draws[:, 4] < t.labelled_share,
            label_delay=np.clip(
                t.label_delay_median_s * rng.lognormal(0.0, 0.6, m), 20.0, 30 * 60.0
            ),
        )


# --------------------------------------------------------------------------------------------
# The run
# --------------------------------------------------------------------------------------------


@dataclass
class Tick:
    """Where a run is, for a progress display."""

    offset: float
    phase: str
    events: int
    labels: int
    calls: int


@dataclass
class SimulationReport:
    """What a run sent, and where things are (for the summary and the tests)."""

    t0: float
    """Epoch second at which simulated time met the real clock."""
    wall_s: float
    calls: int = 0
    events: int = 0
    """Events recorded by the SDK (rows of all calls)."""
    events_sent: int = 0
    events_failed: int = 0
    events_dropped: int = 0
    labels: int = 0
    labels_sent: int = 0
    invalid_expected: int = 0
    """Rows sent with ``merchant_risk`` missing (the silent NaN scores)."""
    stalled_calls: int = 0
    environments: dict[str, list[str]] = field(default_factory=dict)
    """Replica name → the ``environment_id`` its events carry."""
    events_by: dict[str, int] = field(default_factory=dict)
    """``replica/version`` → events."""
    interrupted: bool = False
    """The run was ended by Ctrl-C (``KeyboardInterrupt``)."""

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _phase(offset: float, timeline: Timeline) -> str:
    if offset < -timeline.span_s + timeline.history_s:
        return "history"
    return "incident" if offset < 0 else "live"


def simulate(
    scenario: Scenario,
    endpoint: str,
    api_key: str,
    *,
    live_s: float | None = 0.0,
    stop: threading.Event | None = None,
    on_tick: Callable[[Tick], None] | None = None,
    on_milestone: Callable[[float, str, SimulationReport], None] | None = None,
    spool_dir: Path | None = None,
    rate: float = RATE_PER_S,
) -> SimulationReport:
    """Play the scenario against the collector at ``endpoint`` with an ``ingest`` key.

    The accelerated part always runs to ``T0``; then ``live_s`` more real seconds of live
    traffic (``None``: until ``stop`` is set or the caller interrupts). Monitors are flushed
    and closed before it returns; ``KeyboardInterrupt`` (Ctrl-C) ends the run the same way, with
    ``report.interrupted`` set. ``on_milestone(offset, text, report)`` is called on the
    driver thread as each step of the schedule begins, with the report so far.
    """
    timeline = scenario.timeline
    with tempfile.TemporaryDirectory(prefix="telltale-demo-spool-") as folder:
        clock = WarpClock(timeline)
        service = Service(
            endpoint,
            api_key,
            scenario.models,
            clock=clock,
            spool_dir=spool_dir or Path(folder),
            seed=scenario.seed,
        )
        started = time.monotonic()
        report = SimulationReport(t0=clock.t0, wall_s=0.0)
        try:
            _run(scenario, service, clock, report, live_s, stop, on_tick, on_milestone, rate)
        except KeyboardInterrupt:
            report.interrupted = True  # Ctrl-C ends a live run: what was recorded still goes
        finally:
            service.flush(timeout=15.0)
            report.wall_s = time.monotonic() - started
            for replica in service.replicas.values():
                report.environments[replica.name] = replica.environment_ids
            for monitor in service.monitors:
                stats = monitor.stats()
                report.events_sent += stats.sent
                report.events_failed += stats.failed
                report.events_dropped += stats.dropped
                report.labels_sent += stats.labels_sent
            service.close()
    return report


def _run(
    scenario: Scenario,
    service: Service,
    clock: WarpClock,
    report: SimulationReport,
    live_s: float | None,
    stop: threading.Event | None,
    on_tick: Callable[[Tick], None] | None,
    on_milestone: Callable[[float, str, SimulationReport], None] | None,
    rate: float,
) -> None:
    timeline = scenario.timeline
    pool = scenario.data.production
    traffic = _Traffic(timeline, scenario.seed, len(pool), clock.t0, rate)
    pending = traffic.chunk()
    position = 0
    labels: list[tuple[float, int, str, str, str]] = []  # (due, n, event id, label, monitor)
    order = itertools.count()
    milestones = list(timeline.milestones())
    monitors = {
        f"{r.name}/{v}": m for r in service.replicas.values() for v, m in r.monitors.items()
    }
    replica_a = service.replicas["a"]
    while True:
        now = clock.offset()
        while milestones and milestones[0][0] <= now:
            when, text = milestones.pop(0)
            if on_milestone is not None:
                for replica in service.replicas.values():
                    report.environments[replica.name] = replica.environment_ids
                on_milestone(when, text, report)
        replica_a.stall_s = (0.25, 0.45) if timeline.latency_spike(now) else None
        while position == len(pending) or pending.offset[-1] <= now:
            rest = pending.take(position, len(pending))
            fresh = traffic.chunk()
            pending = _Arrivals(
                **{k: np.concatenate([rest.__dict__[k], fresh.__dict__[k]]) for k in rest.__dict__}
            )
            position = 0
        due = int(np.searchsorted(pending.offset, now, side="right"))
        if due > position:
            batch = pending.take(position, due)
            _serve(service, batch, pool, report, labels, order, timeline, clock)
            position = due
            # Events are stamped when their batch is built: flushing now keeps the stamps
            # within milliseconds (times the speed) of the call, where the SDK's own 50 ms
            # cadence would pile up minutes of simulated history on one instant.
            service.flush(timeout=10.0)
        while labels and labels[0][0] <= now:
            when, _, event_id, label, key = heapq.heappop(labels)
            monitors[key].log_label(event_id, label, ts=clock.t0 + when)
            report.labels += 1
        if on_tick is not None:
            on_tick(Tick(now, _phase(now, timeline), report.events, report.labels, report.calls))
        if now >= 0 and live_s is not None and now >= live_s:
            return
        if stop is not None and stop.is_set():
            return
        time.sleep(_TICK_S if now < 0 else _LIVE_TICK_S)


def _serve(
    service: Service,
    arrivals: _Arrivals,
    pool: Rows,
    report: SimulationReport,
    labels: list[tuple[float, int, str, str, str]],
    order: itertools.count[int],
    timeline: Timeline,
    clock: WarpClock,
) -> None:
    """One round of calls: the arrivals due now, grouped by replica, version and region.

    A label's delay counts from when its transaction was served (it may be served late,
    behind a stalled call), as a chargeback counts from the payment."""
    rows = apply_drift(
        pool.take(arrivals.pool_index),
        drift=np.asarray(timeline.drift_at(arrivals.offset)),
        partner=arrivals.partner,
    )
    records = rows.records()
    for row in np.flatnonzero(arrivals.missing_risk).tolist():
        records[row]["merchant_risk"] = None  # the feature store timed out
    keys = np.char.add(
        np.char.add(arrivals.replica.astype(str), "/"),
        np.char.add(arrivals.version.astype(str), np.char.add("/", arrivals.region.astype(str))),
    )
    groups = [(key, np.flatnonzero(keys == key)) for key in dict.fromkeys(keys.tolist())]

    def call(key: str, index: np.ndarray) -> list[str]:
        replica_name, version, region = key.split("/")
        replica = service.replicas[replica_name]
        replica.endpoints[(version, region)]([records[i] for i in index.tolist()])
        return replica.monitors[version].last_event_ids()  # this thread's last call

    # A stalled host keeps taking requests while each waits, so its calls run side by side on
    # the pool (a stall delays each call, not every call after it); the others run here, one
    # after the other, so that simulated requests do not fight over the GIL and inflate the
    # latency they measure.
    stalled = {
        key: service.pool.submit(call, key, index)
        for key, index in groups
        if service.replicas[key.split("/")[0]].stall_s is not None
    }
    answered = {key: call(key, index) for key, index in groups if key not in stalled}
    answered.update({key: future.result() for key, future in stalled.items()})
    served = clock.offset()
    for key, index in groups:
        ids = answered[key]
        replica_name, version, _ = key.split("/")
        report.calls += 1
        report.events += len(index)
        if service.replicas[replica_name].stall_s is not None:
            report.stalled_calls += 1
        name = f"{replica_name}/{version}"
        report.events_by[name] = report.events_by.get(name, 0) + len(index)
        report.invalid_expected += int(arrivals.missing_risk[index].sum())
        for event_id, i in zip(ids, index.tolist(), strict=True):
            if arrivals.labelled[i]:
                due = served + float(arrivals.label_delay[i])
                label = str(rows.labels[i])
                heapq.heappush(labels, (due, next(order), event_id, label, name))
