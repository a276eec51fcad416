"""Seasonal baselines, change points and the detect() verdict, against independent references.

References: numpy's median and scipy's ``median_abs_deviation(scale="normal")`` per slot, hour
of week from Python's datetime, the documented scale formula, and injected anomalies.
Tolerances are stated where they are used.
"""

from __future__ import annotations

import doctest
import json
import math
from collections.abc import Callable
from datetime import datetime, timezone
from types import ModuleType

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import median_abs_deviation

from telltale.alerts import anomaly, changepoint
from telltale.alerts.anomaly import (
    DEFAULT_SIGMAS,
    AnomalyResult,
    SeasonalBaseline,
    detect,
    detect_changes,
)
from telltale.alerts.changepoint import ChangePoint, cusum_changes
from telltale.errors import ConfigError

HOUR = 3600.0
MONDAY = float(np.datetime64("2026-01-05T00", "s").astype(np.int64))
EXACT = {"rtol": 1e-12, "atol": 1e-12}


def seasonal(
    seed: int, weeks: float, *, sigma: float = 1.0, start: float = MONDAY
) -> tuple[np.ndarray, np.ndarray]:
    """Hourly epoch seconds and values: daily cycle, weekend dip, Gaussian noise ``sigma``."""
    rng = np.random.default_rng(seed)
    hours = np.arange(int(weeks * 168))
    times = start + hours * HOUR
    day = ((times // 86_400) + 3) % 7
    values = (
        100.0
        + 20.0 * np.sin(2 * np.pi * hours / 24)
        + np.where(day >= 5, -15.0, 0.0)
        + rng.normal(0.0, sigma, hours.size)
    )
    return times, values


def split(times: np.ndarray, values: np.ndarray, weeks: int) -> tuple[tuple, tuple]:
    cut = weeks * 168
    return (times[:cut], values[:cut]), (times[cut:], values[cut:])


def datetime_slot(seconds: float) -> int:
    moment = datetime.fromtimestamp(seconds, tz=timezone.utc)
    return moment.weekday() * 24 + moment.hour


# --- the slot tables: equal to numpy and scipy per slot --------------------------------------


def irregular_history(seed: int, weeks: int = 6) -> tuple[np.ndarray, np.ndarray]:
    """Hourly weeks with 30% of the windows missing, times anywhere in their hour, 5% NaN."""
    rng = np.random.default_rng(seed)
    times, values = seasonal(seed, weeks, sigma=3.0)
    keep = rng.random(times.size) > 0.3
    times = times[keep] + rng.uniform(0, HOUR - 1, keep.sum())
    values = values[keep]
    values[rng.random(values.size) < 0.05] = np.nan
    return times, values


@pytest.mark.parametrize("seed", [0, 1])
def test_slot_tables_equal_numpy_and_scipy(seed: int) -> None:
    times, values = irregular_history(seed)
    baseline = SeasonalBaseline().fit(times, values)
    known = ~np.isnan(values)
    week_slot = np.array([datetime_slot(t) for t in times[known]])
    groups = {"hour_of_week": week_slot, "hour_of_day": week_slot % 24, "global": 0 * week_slot}
    for level, slots in groups.items():
        table = baseline.tables[level]
        for slot in range(table.median.size):
            inside = values[known][slots == slot]
            assert table.count[slot] == inside.size
            if inside.size == 0:
                assert np.isnan(table.median[slot])
                continue
            np.testing.assert_allclose(table.median[slot], np.median(inside), **EXACT)
            np.testing.assert_allclose(
                table.spread[slot], median_abs_deviation(inside, scale="normal"), **EXACT
            )


def test_hour_of_week_lines_up_with_datetime() -> None:
    # Values are the slot Python's datetime gives; the expected value of any later time must
    # then be its own datetime slot. Includes times before 1970 and seconds inside the hour.
    rng = np.random.default_rng(3)
    for start in (MONDAY, -86_400.0 * 400 + 1234.0):
        times = np.sort(start + rng.uniform(0, 5 * 7 * 86_400, 4000))
        slots = np.array([datetime_slot(t) for t in times], dtype=float)
        baseline = SeasonalBaseline().fit(times, slots)
        later = np.sort(times[-1] + 1 + rng.uniform(0, 7 * 86_400, 500))
        scores = baseline.score(later, np.zeros(later.size))
        assert scores.expected.tolist() == [datetime_slot(t) for t in later]
        assert set(scores.level.tolist()) == {"hour_of_week"}


def test_datetime64_and_epoch_seconds_give_the_same_baseline() -> None:
    times, values = seasonal(4, 4)
    as_datetime = (times * 1e6).astype("int64").astype("datetime64[us]")
    from_seconds = SeasonalBaseline().fit(times, values)
    from_datetime = SeasonalBaseline().fit(as_datetime, values)
    for level in anomaly.LEVELS:
        np.testing.assert_array_equal(
            from_seconds.tables[level].median, from_datetime.tables[level].median
        )
    later = as_datetime[-24:] + np.timedelta64(7, "D")
    np.testing.assert_array_equal(
        from_datetime.score(later, values[-24:]).z,
        from_seconds.score(times[-24:] + 7 * 86_400, values[-24:]).z,
    )


def test_scale_is_the_documented_formula() -> None:
    times, values = irregular_history(5, weeks=16)
    baseline = SeasonalBaseline(pool_weight=10.0).fit(times, values)
    week = baseline.tables["hour_of_week"]
    assert (week.count >= 3).all()  # 16 weeks, 2/3 kept: every slot uses its own median
    n = week.count.astype(float)
    pooled = baseline.pooled_spread
    formula = np.sqrt((n * week.spread**2 + 10 * pooled**2) / (n + 10) * (1 + np.pi / (2 * n)))
    probe = MONDAY + 17 * 7 * 86_400 + np.arange(168) * HOUR  # one point in every slot, in order
    scores = baseline.score(probe, np.zeros(168))
    np.testing.assert_allclose(scores.scale, formula, **EXACT)
    np.testing.assert_allclose(scores.expected, week.median, **EXACT)


def test_without_pooling_the_scale_is_the_slot_mad_widened_for_the_median() -> None:
    times, values = irregular_history(6, weeks=16)
    baseline = SeasonalBaseline(pool_weight=0.0).fit(times, values)
    probe = MONDAY + 17 * 7 * 86_400 + np.arange(168) * HOUR
    scores = baseline.score(probe, np.full(168, 250.0))
    known = ~np.isnan(values)
    slots = np.array([datetime_slot(t) for t in times[known]])
    for slot in range(168):
        inside = values[known][slots == slot]
        expected_scale = median_abs_deviation(inside, scale="normal") * math.sqrt(
            1 + math.pi / (2 * inside.size)
        )
        np.testing.assert_allclose(scores.scale[slot], expected_scale, **EXACT)
        z = (250.0 - np.median(inside)) / expected_scale
        np.testing.assert_allclose(scores.z[slot], z, **EXACT)


def test_pooled_spread_is_the_mad_of_week_over_week_differences() -> None:
    times, values = seasonal(7, 5, sigma=2.0)
    baseline = SeasonalBaseline().fit(times, values)
    diffs = (values[168:] - values[:-168]).ravel()  # regular hours: same slot, one week apart
    reference = median_abs_deviation(diffs, scale="normal") / math.sqrt(2)
    np.testing.assert_allclose(baseline.pooled_spread, reference, **EXACT)
    assert abs(baseline.pooled_spread - 2.0) < 0.2  # and it estimates the noise (10%)


def test_slots_with_too_little_history_fall_back() -> None:
    times, values = seasonal(8, 2)  # two points per hour of week: below min_points=3
    baseline = SeasonalBaseline().fit(times, values)
    scores = baseline.score(times + 14 * 86_400, values)
    assert set(scores.level.tolist()) == {"hour_of_day"}
    of_day = ((times // HOUR) % 24).astype(int)
    for hour in range(24):
        np.testing.assert_allclose(
            scores.expected[of_day == hour][0], np.median(values[of_day == hour]), **EXACT
        )
    one_day = SeasonalBaseline().fit(times[:30], values[:30])  # 1-2 points per hour of day
    assert set(one_day.score(times[40:48], values[40:48]).level.tolist()) == {"global"}
    np.testing.assert_allclose(
        one_day.score(times[40:41], values[40:41]).expected[0], np.median(values[:30]), **EXACT
    )
    assert set(
        SeasonalBaseline(min_points=2)
        .fit(times, values)
        .score(times[-5:] + 86_400 * 14, values[-5:])
        .level.tolist()
    ) == {"hour_of_week"}


# --- robustness, constant series, NaN ------------------------------------------------------


def test_spikes_in_the_history_barely_move_the_band() -> None:
    times, values = seasonal(9, 8, sigma=2.0)
    rng = np.random.default_rng(9)
    spiked = values.copy()
    hit = rng.choice(values.size, int(0.05 * values.size), replace=False)
    spiked[hit] += rng.uniform(10, 30, hit.size) * 2.0  # 5% of points, 10-30 sigma up
    probe = times[-168:] + 7 * 86_400
    clean = SeasonalBaseline().fit(times, values).score(probe, values[-168:])
    dirty = SeasonalBaseline().fit(times, spiked).score(probe, values[-168:])
    width_change = (dirty.upper - dirty.lower) / (clean.upper - clean.lower) - 1
    # Bounds (measured over 8 seeds: mean 0.10-0.13, 95th percentile 0.28-0.37, expected
    # value moved 0.07-0.08 sigma on average): the band widens by less than 15% on average and
    # 50% in 95% of the slots; the expected value moves by less than 0.15 sigma on average.
    assert width_change.mean() < 0.15 and np.percentile(width_change, 95) < 0.5
    assert np.mean(np.abs(dirty.expected - clean.expected)) < 0.15 * 2.0
    # The same slots' mean ± std band (not robust) widens by more than 150% on average.
    slot_std = values.reshape(8, 168).std(axis=0), spiked.reshape(8, 168).std(axis=0)
    assert np.mean(slot_std[1] / slot_std[0] - 1) > 1.5


def test_a_constant_history_uses_the_scale_floor() -> None:
    times = MONDAY + np.arange(4 * 168) * HOUR
    baseline = SeasonalBaseline().fit(times, np.full(times.size, 200.0))
    later = times[-3:] + 7 * 86_400
    scores = baseline.score(later, [200.0, 200.1, 201.0])
    np.testing.assert_allclose(scores.scale, 0.2, **EXACT)  # 1e-3 of the median
    assert scores.z.tolist() == pytest.approx([0.0, 0.5, 5.0])
    assert scores.is_anomaly.tolist() == [False, False, True]
    zeros = SeasonalBaseline().fit(times, np.zeros(times.size))
    assert zeros.score(later, [0.0, 0.0, 0.01]).is_anomaly.tolist() == [False, False, True]
    own_floor = SeasonalBaseline(min_scale=0.05).fit(times, np.zeros(times.size))
    assert own_floor.score(later, [0.0, 0.1, 0.3]).is_anomaly.tolist() == [False, False, True]
    result = detect(later, [200.0, 200.0, 200.0], history=baseline)
    assert result.status == "normal" and result.change is None
    assert json.loads(result.to_json())["z"] == 0.0


def test_nan_values_are_ignored_in_fitting_and_unknown_when_scored() -> None:
    times, values = seasonal(10, 4)
    holed = values.copy()
    holed[::7] = np.nan
    with_nan = SeasonalBaseline().fit(times, holed)
    without = SeasonalBaseline().fit(times[~np.isnan(holed)], values[~np.isnan(holed)])
    for level in anomaly.LEVELS:
        np.testing.assert_array_equal(with_nan.tables[level].median, without.tables[level].median)
    assert with_nan.pooled_spread == without.pooled_spread
    later = times[-4:] + 7 * 86_400
    scores = with_nan.score(later, [values[-4], np.nan, None, 1e6])
    assert np.isnan(scores.z[1:3]).all() and not np.isnan(scores.expected).any()
    assert scores.is_anomaly.tolist() == [False, False, False, True]
    result = detect(later, [values[-4], values[-3], values[-2], np.nan], history=with_nan)
    assert (result.status, result.is_anomaly, result.reason) == ("unknown", False, None)
    assert json.loads(result.to_json())["value"] is None
    assert "missing" in result.summary()


# --- false alarms and detection ------------------------------------------------------------


def test_few_false_alarms_on_pure_seasonal_noise() -> None:
    # 20 seeded series, 4 weeks of history, 2 weeks monitored, default sensitivity. A point is
    # flagged when detect() would flag it (band, or a change detected and not ended), computed
    # for the whole window at once, which is equivalent since both are causal. Bound: < 1% of
    # points flagged overall (measured: 0.06%) and < 0.1% outside the band (measured: 0).
    flagged = outside_band = total = 0
    for seed in range(20):
        history, recent = split(*seasonal(100 + seed, 6, sigma=1.0 + seed % 3), 4)
        baseline = SeasonalBaseline().fit(*history)
        scores = baseline.score(*recent)
        in_change = np.zeros(scores.z.size, bool)
        for change in detect_changes(*recent, baseline=baseline):
            in_change[change.detected_index : change.end_index] = True
        flagged += int((scores.is_anomaly | in_change).sum())
        outside_band += int(scores.is_anomaly.sum())
        total += scores.z.size
    assert flagged / total < 0.01
    assert outside_band / total < 0.001


def test_a_spike_is_detected_as_a_spike() -> None:
    history, (times, values) = split(*seasonal(11, 5, sigma=2.0), 4)
    values = values[:30].copy()
    values[-1] += 12 * 2.0
    result = detect(times[:30], values, history=history)
    assert (result.status, result.reason, result.direction) == ("anomaly", "spike", "above")
    assert result.z > DEFAULT_SIGMAS and result.value > result.upper
    assert result.change is None
    values[-1] -= 24 * 2.0
    assert detect(times[:30], values, history=history).direction == "below"
    assert detect(times[:30], values, history=history, direction="above").status == "normal"


@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_a_level_shift_is_found_where_it_starts(sign: float) -> None:
    history, (times, values) = split(*seasonal(12, 6, sigma=2.0), 4)
    onset, shift = 100, sign * 3.0 * 2.0  # 3 sigma
    values = values.copy()
    values[onset:] += shift
    changes = detect_changes(times, values, baseline=SeasonalBaseline().fit(*history))
    [change] = [c for c in changes if c.index >= onset - 5]
    assert onset - 2 <= change.index <= onset + 3  # within 2-3 hours of the true start
    assert change.detected_index - onset <= 6 and change.ongoing
    assert change.direction == ("up" if sign > 0 else "down") and change.kind == "level shift"
    assert change.magnitude == pytest.approx(shift, rel=0.25)
    assert change.time == times[change.index] and change.delay_hours >= 0
    result = detect(times, values, history=history)
    assert (result.reason, result.change) == ("level shift", change)
    assert result.direction == ("above" if sign > 0 else "below")


def test_a_large_step_is_a_level_shift_from_where_it_jumps() -> None:
    # The noise before this jump (z 2.6, 0.6, 1.8, -0.5, 1.7, 2.6, 0.5, 0.1 from index 30)
    # leaves the CUSUM positive from index 30 on, so its own start is 8 hours early; the step
    # fit must still put the start at the jump and not call a ramp.
    history, (times, values) = split(*seasonal(7, 6, sigma=5.0), 4)
    values = values[:48].copy()
    values[38:] += 40.0  # 8 sigma, for the last 10 hours
    [change] = cusum_changes(
        SeasonalBaseline().fit(*history).score(times[:48], values).z, times[:48]
    )
    assert change.index == 38
    result = detect(times[:48], values, history=history)
    assert result.reason == "level shift" and result.change is not None
    assert result.change.index == 38
    assert result.change.magnitude == pytest.approx(40.0, rel=0.15)


def test_a_shift_that_ends_is_reported_with_its_end() -> None:
    history, (times, values) = split(*seasonal(13, 6, sigma=2.0), 4)
    values = values.copy()
    values[100:130] += 8.0
    changes = detect_changes(times, values, baseline=SeasonalBaseline().fit(*history))
    [change] = [c for c in changes if 95 <= c.index <= 105]
    assert change.end_index is not None and 130 <= change.end_index <= 140
    assert detect(times[:200], values[:200], history=history).status == "normal"


def test_a_slow_drift_is_called_a_drift() -> None:
    history, (times, values) = split(*seasonal(14, 6, sigma=2.0), 4)
    values = values.copy()
    ramp = np.clip((np.arange(values.size) - 100) / 72, 0, None) * 6 * 2.0  # 6 sigma in 72 h
    values[:172] += ramp[:172]
    result = detect(times[:172], values[:172], history=history)
    assert (result.status, result.reason, result.direction) == ("anomaly", "drift", "above")
    assert result.change is not None and 100 <= result.change.index <= 130
    assert result.change.slope_per_hour == pytest.approx(12.0 / 72, rel=0.3)
    assert result.change.magnitude == pytest.approx(12.0, rel=0.3)


def test_sensitivity_divides_the_thresholds() -> None:
    history, (times, values) = split(*seasonal(15, 5, sigma=2.0), 4)
    values = values[:10].copy()
    values[-1] += 3.0 * 2.0  # 3 sigma: inside the default band, outside at sensitivity 2
    default = detect(times[:10], values, history=history)
    keen = detect(times[:10], values, history=history, sensitivity=2.0)
    assert default.status == "normal" and keen.reason == "spike"
    assert keen.upper - keen.expected == pytest.approx((default.upper - default.expected) / 2)


def test_direction_selects_which_side_counts() -> None:
    baseline = SeasonalBaseline().fit(*seasonal(16, 4))
    later = MONDAY + 5 * 7 * 86_400 + np.arange(2) * HOUR
    expected = baseline.score(later, [0.0, 0.0]).expected
    values = expected + np.array([50.0, -50.0])
    flags = {
        d: baseline.score(later, values, direction=d).is_anomaly.tolist()
        for d in changepoint.DIRECTIONS
    }
    assert flags == {"above": [True, False], "below": [False, True], "both": [True, True]}


# --- the CUSUM itself ------------------------------------------------------------------------


def test_cusum_finds_the_start_of_a_step_and_skips_nan() -> None:
    z = np.zeros(60)
    z[30:] = 2.0
    z[35] = np.nan
    times = np.arange(60) * HOUR
    [change] = cusum_changes(z, times)
    # S grows by 2 - 0.75 = 1.25 a point from 30: 5 after four, over 5 at the fifth known
    # point, index 34 (35 is NaN and changes nothing).
    assert (change.index, change.detected_index, change.direction) == (30, 34, "up")
    assert change.ongoing and change.magnitude_sigmas == pytest.approx(2.0)
    assert cusum_changes(-z, times)[0].direction == "down"
    assert cusum_changes(-z, times, direction="above") == []
    assert cusum_changes(np.zeros(60), times) == []


def test_a_lone_spike_is_not_a_change_but_a_capped_sum_clears_fast() -> None:
    z = np.zeros(40)
    z[10] = 50.0
    assert cusum_changes(z, np.arange(40) * HOUR) == []
    z[20:30] = 4.0
    [change] = cusum_changes(z, np.arange(40) * HOUR)
    # capped at 7.5: back under 5 after ceil(2.5 / 0.75) = 4 points at zero
    assert (change.index, change.end_index) == (20, 33)


# --- properties ----------------------------------------------------------------------------


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 2**16),
    offset=st.floats(-1e4, 1e4, allow_nan=False),
    factor=st.floats(0.01, 100).flatmap(lambda f: st.sampled_from([f, -f])),
)
def test_shifting_and_scaling_values_carries_through(
    seed: int, offset: float, factor: float
) -> None:
    history, recent = split(*seasonal(seed, 4.5, sigma=2.0), 4)
    recent_values = recent[1].copy()
    recent_values[20:] += 10.0  # a shift to find
    base = SeasonalBaseline(min_scale=1e-9).fit(*history)
    base_scores = base.score(recent[0], recent_values)
    moved_history = (history[0], factor * history[1] + offset)
    moved = SeasonalBaseline(min_scale=1e-9).fit(*moved_history)
    moved_scores = moved.score(recent[0], factor * recent_values + offset)
    tolerance = 1e-9 * (abs(offset) + abs(factor) * 200)
    np.testing.assert_allclose(
        moved_scores.expected, factor * base_scores.expected + offset, rtol=0, atol=tolerance
    )
    np.testing.assert_allclose(moved_scores.scale, abs(factor) * base_scores.scale, rtol=1e-9)
    np.testing.assert_allclose(moved_scores.z, np.sign(factor) * base_scores.z, atol=1e-6)
    base_changes = detect_changes(*recent, baseline=base)
    moved_changes = detect_changes(recent[0], factor * recent[1] + offset, baseline=moved)
    assert [(c.index, c.detected_index) for c in moved_changes] == [
        (c.index, c.detected_index) for c in base_changes
    ]


# --- results, bad input, the module ------------------------------------------------------


def test_results_round_trip_through_json() -> None:
    history, (times, values) = split(*seasonal(17, 5), 4)
    values = values.copy()
    values[10:] += 10.0
    result = detect(times, values, history=history)
    data = json.loads(result.to_json())
    assert data["reason"] == "level shift" and data["change"]["kind"] == "level shift"
    assert ChangePoint(**data["change"]) == result.change
    rebuilt = AnomalyResult(**{**data, "change": ChangePoint(**data["change"])})
    assert rebuilt == result
    scores = SeasonalBaseline().fit(*history).score(times[:3], [1.0, np.nan, 2.0])
    assert json.loads(scores.to_json())["z"][1] is None
    assert "level shift" in result.summary()


TIMES = MONDAY + np.arange(400) * HOUR
VALUES = np.random.default_rng(0).normal(size=400)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: SeasonalBaseline().fit(TIMES, VALUES[:-1]), "400 times and 399 values"),
        (lambda: SeasonalBaseline().fit(TIMES, ["a"] * 400), "must be numbers"),
        (lambda: SeasonalBaseline().fit(TIMES, np.array([{}] * 400)), "must be numbers"),
        (lambda: SeasonalBaseline().fit(TIMES.astype(str), VALUES), "datetime64"),
        (lambda: SeasonalBaseline().fit([], []), "empty"),
        (lambda: SeasonalBaseline().fit(TIMES, np.full(400, np.nan)), "all 400 history values"),
        (lambda: SeasonalBaseline().fit(TIMES[::-1], VALUES), "times[1]"),
        (lambda: SeasonalBaseline().fit(TIMES * 1000, VALUES), "milliseconds"),
        (lambda: SeasonalBaseline().fit(TIMES, np.r_[VALUES[:-1], np.inf]), "values[399] is inf"),
        (lambda: SeasonalBaseline().fit(np.r_[TIMES[:-1], np.nan], VALUES), "times[399]"),
        (
            lambda: SeasonalBaseline().fit(
                np.array(["2026-01-01", "NaT"], dtype="datetime64[s]"), [1.0, 2.0]
            ),
            "NaT",
        ),
        (lambda: SeasonalBaseline().fit(TIMES.reshape(20, 20), VALUES), "one-dimensional"),
        (lambda: SeasonalBaseline().score(TIMES, VALUES), "not fitted"),
        (lambda: SeasonalBaseline(min_points=0), "min_points"),
        (lambda: SeasonalBaseline(min_scale=0.0), "min_scale"),
        (lambda: SeasonalBaseline().fit(TIMES, VALUES).score(TIMES, VALUES, sigmas=0), "sigmas"),
        (lambda: detect(TIMES[-5:], VALUES[-5:], history=(TIMES, VALUES)), "must come after"),
        (lambda: detect(TIMES, VALUES, history=VALUES), "history must be"),
        (lambda: detect(TIMES, VALUES, history=(TIMES, VALUES), sensitivity=0), "got 0"),
        (lambda: detect(TIMES, VALUES, history=(TIMES, VALUES), sensitivity=-1.0), "got -1.0"),
        (lambda: detect(TIMES, VALUES, history=(TIMES, VALUES), sensitivity=math.nan), "nan"),
        (lambda: detect(TIMES, VALUES, history=(TIMES, VALUES), sensitivity="high"), "'high'"),
        (lambda: detect(TIMES, VALUES, history=(TIMES, VALUES), direction="up"), "'up'"),
        (lambda: detect_changes(TIMES, VALUES, direction="Both"), "'Both'"),
        (lambda: cusum_changes(VALUES, TIMES[:-1]), "same length"),
        (lambda: cusum_changes(VALUES, TIMES, scale=VALUES[:3]), "scale may be one number"),
        (lambda: cusum_changes(VALUES, TIMES, threshold=-1), "threshold"),
    ],
)
def test_bad_input_raises_a_config_error_naming_it(
    call: Callable[[], object], message: str
) -> None:
    with pytest.raises(ConfigError) as raised:
        call()
    assert message in str(raised.value)


@pytest.mark.parametrize("module", [anomaly, changepoint])
def test_all_is_sorted_and_resolves(module: ModuleType) -> None:
    def ruf022(name: str) -> tuple[int, str]:
        return (0 if name.isupper() and len(name) > 1 else 1 if name[:1].isupper() else 2, name)

    assert list(module.__all__) == sorted(module.__all__, key=ruf022)
    assert all(getattr(module, name) is not None for name in module.__all__)


@pytest.mark.parametrize("module", [anomaly, changepoint])
def test_docstring_examples_run(module: ModuleType) -> None:
    outcome = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert outcome.attempted > 0 and outcome.failed == 0
