"""Drift over time within a time budget: what does not fit is computed in the background, and
the answers then agree with window_drift computed directly."""

from __future__ import annotations

import time
from datetime import datetime, timedelta

from _dashboard_data import Data

from telltale.analysis.windows import window_drift
from telltale.dashboard import drift


def test_windows_past_the_budget_are_computed_in_the_background(data: Data) -> None:
    store = data.running.app.state.collector.store
    reference = drift.newest_reference(store, "fraud", "fraud")
    assert reference is not None and reference["name"] == "default"
    start, end = data.now - timedelta(hours=3), data.now - timedelta(minutes=7)  # not cached yet
    first = drift.drift_over_time(store, "fraud", "fraud", reference, start, end, {}, 6, 0.0)
    assert first["pending"] == 6 and all(w["rows"] is None for w in first["windows"])
    assert first["features"]["x0"]["statistic"] == [None] * 6
    deadline = time.monotonic() + 30
    while True:
        done = drift.drift_over_time(store, "fraud", "fraud", reference, start, end, {}, 6, 0.0)
        if not done["pending"] or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert done["pending"] == 0
    last = done["windows"][-1]
    profile = drift.load_reference(store, "fraud", "fraud", reference)
    direct = window_drift(
        store,
        "fraud",
        "fraud",
        profile,
        datetime.fromisoformat(last["start"]),
        datetime.fromisoformat(last["end"]),
    )
    assert last["rows"] == direct.rows > 0
    assert done["features"]["x0"]["statistic"][-1] == direct.drift.columns["x0"].statistic
    assert done["features"]["x0"]["drift"][-1] is bool(direct.drift.columns["x0"].drift)


def test_a_named_reference_that_does_not_exist_is_none(data: Data) -> None:
    store = data.running.app.state.collector.store
    assert drift.newest_reference(store, "fraud", "fraud", "nope") is None
    assert drift.newest_reference(store, "fraud", "unknown-model") is None
