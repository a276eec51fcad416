"""Accelerated time for the demo: what happens when, and a clock that gets there fast.

The collector judges windows that end *now* on the real clock (alert rules look at the last 5 or
15 minutes), while hourly history and learned baselines want hours of past traffic. So the
simulated clock starts in the past and runs fast, slows down for the incident, and meets the
real clock at the end (``T0``); from then on it *is* the real clock (the live phase):

.. code-block:: text

    simulated time  T0-history-20m ─────────────► T0-20m ─────────► T0 ─────────► (live)
    phase           history (``speed``, 3600x)     incident (60x)    live (1x, until Ctrl-C)
    real seconds    0 ────────────────────────────► 24 s ───────────► 44 s ───────►
                    (defaults: 24 h of history; ``--quick``: 3 h at 1800x, incident at 120x)

Events are stamped by the SDK with this clock (``Monitor(clock=...)``); latency is always the
real, measured duration of the call. What happens, in simulated time relative to ``T0``
(``H`` = history + incident):

==========================  ==================================================================
from T0 - H                 traffic with a daily rhythm (0.5 events/s at the mean, peaking
                            at T0, so the incident meets the busiest hour) from
                            three regions; replica ``a`` takes 70 %, replica ``b`` 30 %;
                            replica ``b`` is a second environment: an older host (+4-8 ms a
                            call) with a stale calibration (it reports sqrt(score), so it
                            flags more fraud); 60 % of events get their label later
                            (log-normal delay, median 3 min, 1 min with ``--quick``)
from T0 - H/2 to T0 - 15m   gradual drift: ``amount`` up to +80 %, ``distance_km`` up to
                            x2 + 12 km (linear ramp, then held)
from T0 - H/4               model ``1.1.0`` (the retrain) as a canary: half of replica a
from T0 - 15m               new category: 25 % of transactions come through ``partner_api``
T0 - 6m to T0 - 2m          feature-store outage: ``merchant_risk`` missing on 35 % of rows,
                            so the service's blended score is NaN (silent: no exception; the
                            output checks mark the events ``invalid``)
T0 - 5m to T0 - 1m          latency spike on replica ``a``: every call stalls 250-450 ms
T0                          the accelerated part ends; the live phase keeps the drift and the
                            new category, and the burst and the spike age out of the windows
==========================  ==================================================================

>>> timeline = Timeline(history_s=3 * 3600, speed=1800, incident_speed=120)
>>> timeline.accelerated_real_s
16.0
>>> timeline.drift_at(-timeline.span_s), timeline.drift_at(-15 * 60), timeline.drift_at(0)
(0.0, 1.0, 1.0)
>>> timeline.latency_spike(-3 * 60), timeline.latency_spike(-30 * 60)
(True, False)
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from telltale.errors import ConfigError

__all__ = ["INCIDENT_S", "MIN_HISTORY_S", "Timeline", "WarpClock"]

INCIDENT_S = 20 * 60.0
"""Simulated seconds of the incident phase, just before ``T0``."""

MIN_HISTORY_S = 60 * 60.0
"""The shortest history the schedule fits in."""

_MINUTE = 60.0


@dataclass(frozen=True)
class Timeline:
    """The schedule of the scenario; every time is simulated seconds relative to ``T0``
    (negative before it)."""

    history_s: float
    speed: float
    incident_speed: float
    label_delay_median_s: float = 180.0

    def __post_init__(self) -> None:
        if self.history_s < MIN_HISTORY_S:
            raise ConfigError(
                f"{self.history_s / 60:g} simulated minutes of history is too short: the drift, "
                f"the canary and the incident need at least {MIN_HISTORY_S / 60:g}; "
                "pass e.g. --minutes 180"
            )
        for name in ("speed", "incident_speed"):
            if not getattr(self, name) >= 1:
                raise ConfigError(
                    f"{name}={getattr(self, name)!r} must be at least 1 (1 = real time)"
                )

    @property
    def span_s(self) -> float:
        """Simulated seconds of the accelerated part (history and incident)."""
        return self.history_s + INCIDENT_S

    @property
    def accelerated_real_s(self) -> float:
        """Real seconds the accelerated part takes."""
        return self.history_s / self.speed + INCIDENT_S / self.incident_speed

    # -- the problems ---------------------------------------------------------------------------

    @property
    def drift_start(self) -> float:
        return -self.span_s / 2

    drift_full = -15 * _MINUTE
    new_channel_start = -15 * _MINUTE
    new_channel_share = 0.25
    outage = (-6 * _MINUTE, -2 * _MINUTE)
    outage_missing_share = 0.35
    spike = (-5 * _MINUTE, -1 * _MINUTE)

    @property
    def canary_start(self) -> float:
        return -self.span_s / 4

    canary_share = 0.5
    replica_b_share = 0.3
    labelled_share = 0.6

    def drift_at(self, offset: np.ndarray | float) -> np.ndarray | float:
        """How far the gradual drift has gone (0 to 1) at ``offset``."""
        share = (np.asarray(offset) - self.drift_start) / (self.drift_full - self.drift_start)
        clipped = np.clip(share, 0.0, 1.0)
        return float(clipped) if np.ndim(clipped) == 0 else clipped

    def outage_on(self, offset: np.ndarray) -> np.ndarray:
        return (offset >= self.outage[0]) & (offset < self.outage[1])

    def latency_spike(self, offset: float) -> bool:
        return self.spike[0] <= offset < self.spike[1]

    def milestones(self) -> list[tuple[float, str]]:
        """``(offset, what starts)``, in order: what the progress display announces."""
        return sorted(
            [
                (-self.span_s, "history: normal traffic on replicas a and b (v1.0.0)"),
                (self.drift_start, "gradual drift begins in amount and distance_km"),
                (self.canary_start, "v1.1.0 (the retrain) takes half of replica a as a canary"),
                (-INCIDENT_S, "incident phase: time slows down"),
                (self.new_channel_start, "new category: channel 'partner_api' (25 %)"),
                (self.outage[0], "feature-store outage: NaN scores on 35 % of rows (silent)"),
                (self.spike[0], "latency spike on replica a: 250-450 ms per call"),
                (self.spike[1], "latency spike over"),
                (self.outage[1], "feature store back"),
                (0.0, "now: simulated time has caught up with the real clock"),
            ]
        )


class WarpClock:
    """A :class:`telltale.sdk.Clock` whose wall time runs fast, then meets the real clock.

    ``time()`` is ``T0 + offset``: the offset goes from ``-timeline.span_s`` at ``speed``,
    then at ``incident_speed`` from ``-INCIDENT_S``, and reaches 0 when ``T0`` is also the
    real time; after that it grows at the real rate. ``monotonic()`` is the real monotonic
    clock (the SDK's flush intervals and retry backoff stay real).
    """

    def __init__(self, timeline: Timeline) -> None:
        self.timeline = timeline
        self._mono0 = time.monotonic()
        self.t0 = time.time() + timeline.accelerated_real_s
        """The epoch second at which simulated time meets the real clock."""

    def offset(self) -> float:
        """Simulated seconds relative to ``T0`` now."""
        elapsed = time.monotonic() - self._mono0
        timeline = self.timeline
        history_real = timeline.history_s / timeline.speed
        if elapsed < history_real:
            return -timeline.span_s + elapsed * timeline.speed
        if elapsed < timeline.accelerated_real_s:
            return -INCIDENT_S + (elapsed - history_real) * timeline.incident_speed
        return elapsed - timeline.accelerated_real_s

    def time(self) -> float:
        return self.t0 + self.offset()

    def monotonic(self) -> float:
        return time.monotonic()
