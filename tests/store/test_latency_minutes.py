"""Per-minute latency histograms are trimmed after some days; windows stay right.

Reference: numpy's ``method="lower"`` order statistic of the raw latencies, within the
histograms' relative error (ALPHA = 1%). Counts and means are exact (means to 1e-9 relative).
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest

from telltale.analysis.windows import serving_windows
from telltale.errors import ConfigError
from telltale.schema.wire import decode_events_json
from telltale.store.events import EventStore
from telltale.store.rollup import ALPHA

T0 = datetime(2026, 11, 10, tzinfo=timezone.utc)
HOURS = 6


def _within(value: float | None, sample: np.ndarray, q: float) -> bool:
    exact = float(np.quantile(sample, q, method="lower"))
    return value is not None and abs(value - exact) <= ALPHA * exact + 1e-12


@pytest.fixture()
def stored(tmp_path: Path) -> tuple[EventStore, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(5)
    n = 4_000
    offsets = np.sort(rng.uniform(0, HOURS * 3600, n))
    latency = rng.lognormal(2.0, 0.8, n)
    events = [
        {
            "event_id": str(uuid.UUID(int=i + 1)),
            "ts": (T0 + timedelta(seconds=float(offsets[i]))).isoformat(),
            "model": "m",
            "version": "1",
            "latency_ms": float(latency[i]),
            "status": "ok",
            "inputs": {"x": float(i)},
        }
        for i in range(n)
    ]
    store = EventStore(tmp_path / "t.duckdb")
    store.write([("p", decode_events_json({"events": events}))])
    return store, offsets, latency


def _minutes(store: EventStore) -> int:
    cursor = store.cursor()
    try:
        return int(cursor.execute("SELECT count(*) FROM tt_roll_latency").fetchall()[0][0])
    finally:
        cursor.close()


def test_trim_keeps_hourly_windows_and_counts(
    stored: tuple[EventStore, np.ndarray, np.ndarray],
) -> None:
    store, offsets, latency = stored
    end = T0 + timedelta(hours=HOURS)
    before = serving_windows(store, "p", "m", T0, end, "hour").to_dict()
    rows_before = _minutes(store)
    # keep 2 hours back from the end: the first 4 hours of minutes go
    deleted = store.trim_latency_minutes(timedelta(hours=2), now=end)
    assert 0 < deleted < rows_before
    assert _minutes(store) == rows_before - deleted
    after = serving_windows(store, "p", "m", T0, end, "hour").to_dict()
    assert after == before  # whole hours never needed the minutes
    for hour, window in enumerate(after["windows"]):
        inside = latency[(offsets >= hour * 3600) & (offsets < (hour + 1) * 3600)]
        assert window["events"] == len(inside)
        for q, key in ((0.5, "latency_p50_ms"), (0.95, "latency_p95_ms"), (0.99, "latency_p99_ms")):
            assert _within(window[key], inside, q), (hour, key)
    # trimming again to the same horizon deletes nothing
    assert store.trim_latency_minutes(timedelta(hours=2), now=end) == 0


def test_minute_windows_past_the_horizon_report_their_hour(
    stored: tuple[EventStore, np.ndarray, np.ndarray],
) -> None:
    store, offsets, latency = stored
    end = T0 + timedelta(hours=HOURS)
    store.trim_latency_minutes(timedelta(hours=2), now=end)
    # a 10-minute span inside hour 1 (trimmed) and one inside hour 5 (kept)
    for hour, trimmed in ((1, True), (5, False)):
        start = T0 + timedelta(hours=hour, minutes=20)
        stop = start + timedelta(minutes=10)
        windows = serving_windows(store, "p", "m", start, stop, "minute").to_dict()["windows"]
        lo, hi = (start - T0).total_seconds(), (stop - T0).total_seconds()
        span = (offsets >= lo) & (offsets < hi)
        assert sum(w["events"] for w in windows) == int(span.sum())  # counts stay exact
        first = windows[0]
        minute_lo = (datetime.fromisoformat(first["start"]) - T0).total_seconds()
        in_minute = latency[(offsets >= minute_lo) & (offsets < minute_lo + 60)]
        in_hour = latency[(offsets >= hour * 3600) & (offsets < (hour + 1) * 3600)]
        expected = in_hour if trimmed else in_minute
        assert _within(first["latency_p50_ms"], expected, 0.5)
        assert first["latency_mean_ms"] == pytest.approx(float(in_minute.mean()), rel=1e-9)


def test_trim_rejects_a_non_positive_keep(
    stored: tuple[EventStore, np.ndarray, np.ndarray],
) -> None:
    store, _, _ = stored
    with pytest.raises(ConfigError, match="keep must be positive"):
        store.trim_latency_minutes(timedelta(0))
