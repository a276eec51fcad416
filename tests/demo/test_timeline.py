"""The schedule, the clock that accelerates time, and the determinism of the traffic."""

from __future__ import annotations

import time

import numpy as np
import pytest

from telltale.demo.scenario import FULL, QUICK, _Traffic
from telltale.demo.timeline import Timeline, WarpClock
from telltale.errors import ConfigError


def test_the_clock_runs_fast_then_meets_the_real_clock() -> None:
    timeline = Timeline(history_s=3600, speed=36_000, incident_speed=12_000)  # 0.1 s + 0.1 s
    clock = WarpClock(timeline)
    first = clock.offset()
    assert -timeline.span_s <= first < -timeline.span_s + 0.05 * 36_000
    readings = []
    while clock.offset() < 0.3:
        readings.append(clock.time())
        time.sleep(0.005)
    assert readings == sorted(readings)
    assert abs(clock.time() - time.time()) < 0.1  # now it *is* the real clock


def test_the_schedule_in_numbers() -> None:
    assert FULL.accelerated_real_s == pytest.approx(24 + 20)
    assert QUICK.accelerated_real_s == pytest.approx(6 + 10)
    assert QUICK.drift_at(QUICK.drift_start) == 0.0
    assert QUICK.drift_at(QUICK.drift_start / 2 + QUICK.drift_full / 2) == pytest.approx(0.5)
    outage = QUICK.outage_on(np.array([-7 * 60.0, -4 * 60.0, -60.0]))
    assert outage.tolist() == [False, True, False]
    texts = [text for _, text in QUICK.milestones()]
    assert texts[0].startswith("history") and texts[-1].startswith("now")


@pytest.mark.parametrize(
    ("history_s", "speed", "message"),
    [(600, 3600, "--minutes 180"), (7200, 0.5, "must be at least 1")],
)
def test_a_schedule_that_does_not_fit_is_refused(
    history_s: float, speed: float, message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        Timeline(history_s=history_s, speed=speed, incident_speed=60)


def test_the_same_seed_draws_the_same_traffic() -> None:
    def draw(seed: int) -> dict[str, np.ndarray]:
        traffic = _Traffic(QUICK, seed, 1000, t0=1_800_000_000.0, rate=0.5)
        return traffic.chunk().__dict__

    one, same, other = draw(5), draw(5), draw(6)
    for name in one:
        assert np.array_equal(one[name], same[name]), name
    assert not np.array_equal(one["pool_index"], other["pool_index"])
    assert set(one["replica"].tolist()) == {"a", "b"}
