"""Level shifts and slow drifts in a standardised residual series: a two-sided CUSUM.

The input is a series of robust z-scores, the residuals left once a seasonal baseline
(:class:`telltale.alerts.anomaly.SeasonalBaseline`) is removed. Each side keeps the classic sum
``S = max(0, S + min(max(z, -clip), clip) - allowance)`` (``z`` negated for the lower side) and
raises a change when ``S`` exceeds ``threshold``. Two changes from the textbook form:

- **z is clipped** (at 3 by default) so a single spike cannot make a level shift on its own: it
  takes at least two consecutive extreme points, and spikes are the band's job.
- **S is capped** at 1.5 × ``threshold`` so an alarm clears within a few points of the level
  coming back; an uncapped sum would stay over the threshold for as long as it had grown.
  When it clears, ``S`` restarts from zero.

The change *starts* after the last point where ``S`` was zero (the usual CUSUM estimate); it
*is detected* where ``S`` first exceeds the threshold, and *ends* where ``S`` falls back to it.
A change is a **drift** when a line fitted to its residuals fits them better than a step, has
a significant slope (t > 3) in its direction and starts at less than half the level it
reaches; otherwise a **level shift**, whose start is then the step's best split. Early in a
drift the evidence is thin, so a drift is often first reported as a level shift.

>>> z = [0.1, -0.3, 0.2, 0.0, 3.0, 2.9, 3.2, 3.1, 2.8, 3.0, 3.1]
>>> [change] = cusum_changes(z, times=[3600.0 * i for i in range(len(z))])
>>> change.index, change.detected_index, change.direction, change.kind
(4, 6, 'up', 'level shift')
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from telltale.errors import ConfigError
from telltale.schema.result import Result

__all__ = [
    "CUSUM_ALLOWANCE",
    "CUSUM_CLIP",
    "CUSUM_THRESHOLD",
    "DIRECTIONS",
    "ChangePoint",
    "check_direction",
    "cusum_changes",
]

DIRECTIONS = ("above", "below", "both")
"""Which departures count: ``above`` the expected value, ``below`` it, or ``both``."""
CUSUM_ALLOWANCE = 0.75
"""Slack per point, in robust sigmas: shifts smaller than this are tolerated (optimal for ~1.5σ)."""
CUSUM_THRESHOLD = 5.0
"""Sum, in robust sigmas, that raises a change (divided by the sensitivity in ``detect``)."""
CUSUM_CLIP = 3.0
"""Largest |z| one point adds: a lone spike cannot make a level shift."""

_CAP = 1.5  # S never exceeds _CAP * threshold: the alarm clears a few points after recovery
_DRIFT_T = 3.0  # t statistic of the slope that makes a change a drift
_FIT_CLIP = 10.0  # residuals are clipped here before fitting (spikes inside a change)
_MIN_FIT_POINTS = 6

Direction = Literal["above", "below", "both"]


def check_direction(direction: object) -> Direction:
    """Return ``direction`` if it is one of :data:`DIRECTIONS`, else raise ConfigError."""
    if direction not in DIRECTIONS:
        raise ConfigError(
            f"direction must be one of {', '.join(map(repr, DIRECTIONS))}, got {direction!r}; "
            "use 'above' for metrics where only a rise is bad (latency, error rate), "
            "'below' where only a fall is (accuracy, throughput)"
        )
    return direction  # type: ignore[return-value]


@dataclass
class ChangePoint(Result):
    """A level shift or drift: where it started, when it was detected, how large it is.

    >>> change = ChangePoint(index=10, time=36000.0, detected_index=13, detected_time=46800.0,
    ...     end_index=None, end_time=None, direction="up", kind="level shift",
    ...     magnitude=42.0, magnitude_sigmas=3.1, slope_per_hour=0.2)
    >>> change.ongoing, change.delay_hours
    (True, 3.0)
    """

    index: int
    """Position of the first point of the change in the series given."""
    time: float
    """Its time, in epoch seconds (UTC)."""
    detected_index: int
    detected_time: float
    end_index: int | None
    """First point after the change (the level came back); None while it goes on."""
    end_time: float | None
    direction: Literal["up", "down"]
    kind: Literal["level shift", "drift"]
    magnitude: float
    """Size in the metric's units: the median residual for a shift, the fitted residual at the
    last point for a drift (signed)."""
    magnitude_sigmas: float
    """The same in robust sigmas of the baseline."""
    slope_per_hour: float
    """Slope of the residuals over the change, in the metric's units per hour."""

    @property
    def ongoing(self) -> bool:
        return self.end_index is None

    @property
    def delay_hours(self) -> float:
        """Hours from the start of the change to its detection."""
        return (self.detected_time - self.time) / 3600.0


def cusum_changes(
    z: ArrayLike,
    times: ArrayLike,
    scale: ArrayLike | float = 1.0,
    *,
    threshold: float = CUSUM_THRESHOLD,
    allowance: float = CUSUM_ALLOWANCE,
    clip: float = CUSUM_CLIP,
    direction: Direction = "both",
) -> list[ChangePoint]:
    """Changes in the standardised residuals ``z`` (NaN: no evidence), ordered by start.

    ``times`` are epoch seconds, sorted; ``scale`` turns sigmas back into the metric's units
    (the baseline's scale per point, or one number). Most callers want
    :func:`telltale.alerts.anomaly.detect_changes`, which computes ``z`` from a baseline.
    """
    z_all = np.asarray(z, dtype=np.float64)
    t_all = np.asarray(times, dtype=np.float64)
    scale_all = np.asarray(scale, dtype=np.float64)
    if z_all.ndim != 1 or t_all.shape != z_all.shape or scale_all.shape not in ((), z_all.shape):
        raise ConfigError(
            f"z, times and scale must be 1-d and of the same length (scale may be one number), "
            f"got shapes {z_all.shape}, {t_all.shape} and {scale_all.shape}"
        )
    scale_all = np.broadcast_to(scale_all, z_all.shape)
    for name, value in (("threshold", threshold), ("allowance", allowance), ("clip", clip)):
        if not (math.isfinite(value) and value > 0):
            raise ConfigError(f"{name} must be a finite number > 0, got {value!r}")
    check_direction(direction)
    # Missing points carry no evidence: run on the finite ones, map positions back after.
    positions = np.flatnonzero(np.isfinite(z_all))
    z_known = z_all[positions]
    sides = {"above": (1.0,), "below": (-1.0,), "both": (1.0, -1.0)}[direction]
    changes = []
    for sign in sides:
        for onset, detected, end in _episodes(
            (sign * z_known).tolist(), threshold, allowance, clip
        ):
            changes.append(
                _describe(
                    z_known, t_all[positions], scale_all[positions], onset, detected, end, sign
                ).at(positions, t_all)
            )
    return sorted(changes, key=lambda change: (change.index, change.detected_index))


def _episodes(
    steps: Sequence[float], threshold: float, allowance: float, clip: float
) -> list[tuple[int, int, int | None]]:
    """(start, detected, end or None) of every time the one-sided capped CUSUM of ``steps``
    exceeds ``threshold``. When it falls back under, the change ends and the sum restarts
    from zero: left to decay, it would linger near the threshold and a few ordinary points
    after the change would raise it again. The one Python loop of the module: ~1 µs a point."""
    cap = _CAP * threshold
    total = 0.0
    last_zero = -1
    active = False
    episodes: list[tuple[int, int, int | None]] = []
    for i, step in enumerate(steps):
        total += (clip if step > clip else -clip if step < -clip else step) - allowance
        if total <= 0.0:
            total, last_zero = 0.0, i
        elif total > cap:
            total = cap
        if total > threshold:
            if not active:
                active = True
                episodes.append((last_zero + 1, i, None))
        elif active:
            active = False
            episodes[-1] = (episodes[-1][0], episodes[-1][1], i)
            total, last_zero = 0.0, i
    return episodes


@dataclass
class _Change:
    onset: int
    detected: int
    end: int | None
    sign: float
    kind: Literal["level shift", "drift"]
    sigmas: float
    magnitude: float
    slope: float

    def at(self, positions: NDArray[np.intp], times: NDArray[np.float64]) -> ChangePoint:
        """The change with positions among the finite points mapped back to the series."""
        index, detected = int(positions[self.onset]), int(positions[self.detected])
        end = None if self.end is None else int(positions[self.end])
        return ChangePoint(
            index=index,
            time=float(times[index]),
            detected_index=detected,
            detected_time=float(times[detected]),
            end_index=end,
            end_time=None if end is None else float(times[end]),
            direction="up" if self.sign > 0 else "down",
            kind=self.kind,
            magnitude=self.magnitude,
            magnitude_sigmas=self.sigmas,
            slope_per_hour=self.slope,
        )


def _describe(
    z: NDArray[np.float64],
    times: NDArray[np.float64],
    scale: NDArray[np.float64],
    onset: int,
    detected: int,
    end: int | None,
    sign: float,
) -> _Change:
    """Step or ramp? Fit both to the residuals from the CUSUM's start on and keep the better.

    The step is zero up to a split (no later than the detection), then constant: its best
    split is a sharper start than the CUSUM's, which noise just before a large jump makes
    early. The ramp is a line; it wins when its slope is significant (t > 3) in the change's
    direction, it fits better than the step, and it starts below half the level it reaches."""
    stop = len(z) if end is None else end
    residual = np.clip(z[onset:stop], -_FIT_CLIP, _FIT_CLIP)
    hours = (times[onset:stop] - times[onset]) / 3600.0
    unit = float(np.median(scale[onset:stop]))
    splits = np.arange(detected - onset + 1)
    tail_sum = np.cumsum(residual[::-1])[::-1][splits]
    tail_squares = np.cumsum(residual[::-1] ** 2)[::-1][splits]
    head_squares = np.concatenate(([0.0], np.cumsum(residual**2)))[splits]
    step_sse = head_squares + tail_squares - tail_sum**2 / (residual.size - splits)
    split = int(np.argmin(step_sse))
    if residual.size >= _MIN_FIT_POINTS and np.ptp(hours) > 0:
        centred = hours - hours.mean()
        sxx = float(centred @ centred)
        slope = float(centred @ (residual - residual.mean())) / sxx
        fitted = residual.mean() + slope * centred
        ramp_sse = float(np.sum((residual - fitted) ** 2))
        spread = math.sqrt(ramp_sse / (residual.size - 2) / sxx)
        start, last = float(fitted[0]), float(fitted[-1])
        t_slope = sign * slope / spread if spread > 0 else math.copysign(math.inf, sign * slope)
        if t_slope > _DRIFT_T and ramp_sse < step_sse[split] and sign * start < 0.5 * sign * last:
            return _Change(onset, detected, end, sign, "drift", last, last * unit, slope * unit)
    else:
        slope = 0.0
    level = float(np.median(z[onset + split : stop]))  # unclipped: the median is robust
    return _Change(
        onset + split, detected, end, sign, "level shift", level, level * unit, slope * unit
    )
