"""The 95% intervals the performance windows carry (and the Model page draws): Wilson for
accuracy, agreeing with scipy; a normal interval for MAE, agreeing with numpy on the raw errors."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest
from _dashboard_data import Data
from scipy.stats import binomtest

from telltale.analysis.windows import performance_windows, wilson_interval
from telltale.schema.wire import decode_events_json, decode_labels_json
from telltale.store.events import EventStore


@pytest.mark.parametrize(
    ("k", "n"), [(0, 1), (1, 1), (0, 7), (7, 7), (3, 10), (50, 100), (999, 1000), (12345, 54321)]
)
def test_wilson_interval_matches_scipy(k: int, n: int) -> None:
    expected = binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
    low, high = wilson_interval(k, n)
    assert low == pytest.approx(expected.low, abs=1e-9)
    assert high == pytest.approx(expected.high, abs=1e-9)


def test_wilson_interval_of_nothing_is_none() -> None:
    assert wilson_interval(0, 0) == (None, None)


def test_the_overview_interval_is_wilson_of_the_labels_sent(data: Data) -> None:
    with data.client() as client:
        fraud = next(m for m in client.get("/.json").json()["models"] if m["model"] == "fraud")
    sent = {e["event_id"]: e for e in data.fraud()}
    correct = sum(
        sent[event_id]["outputs"]["prediction"] == label
        for event_id, label in data.labelled.items()
    )
    expected = binomtest(correct, len(data.labelled)).proportion_ci(method="wilson")
    assert fraud["performance"]["labelled"] == len(data.labelled)
    assert fraud["performance"]["value"] == pytest.approx(correct / len(data.labelled))
    assert fraud["performance"]["low"] == pytest.approx(expected.low, abs=1e-9)
    assert fraud["performance"]["high"] == pytest.approx(expected.high, abs=1e-9)


def test_mae_interval_matches_numpy(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    start = datetime(2026, 11, 22, tzinfo=timezone.utc)
    n = 400
    predictions = rng.normal(10, 2, n)
    truths = predictions + rng.normal(0.5, 1.5, n)
    ids = [str(uuid.UUID(int=i + 1)) for i in range(n)]
    events = [
        {
            "event_id": ids[i],
            "ts": (start + timedelta(seconds=i)).isoformat(),
            "model": "price",
            "inputs": {"x": float(i)},
            "outputs": {"prediction": float(predictions[i])},
        }
        for i in range(n)
    ]
    with EventStore(tmp_path / "t.duckdb") as store:
        store.write([("team", decode_events_json({"events": events}))])
        labels = [{"event_id": ids[i], "label": float(truths[i])} for i in range(n)]
        store.write_labels("team", decode_labels_json({"labels": labels}))
        window = performance_windows(
            store, "team", "price", start, start + timedelta(hours=1), interval=None
        ).windows[0]
    errors = np.abs(truths - predictions)
    half = 1.959963984540054 * errors.std(ddof=1) / np.sqrt(n)
    assert window.mae == pytest.approx(errors.mean(), rel=1e-9)
    assert window.mae_low == pytest.approx(errors.mean() - half, rel=1e-6)
    assert window.mae_high == pytest.approx(errors.mean() + half, rel=1e-6)
    assert window.accuracy_low is None
