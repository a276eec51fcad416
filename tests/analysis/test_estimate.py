"""The label-free accuracy estimate against what the labels (held back) show.

The world: a calibrated classifier (``y ~ Bernoulli(score)``, prediction ``fraud`` when the score
is at least 0.5), 48 hours of labelled history with easy cases, then 24 hours without labels in
which the inputs shift toward hard cases (scores near 0.5). For a calibrated score the expected
accuracy of a call is ``max(s, 1 - s)``: the closed-form reference the estimate must meet; the
accuracy the held-back labels give must fall inside its 95 % interval in most hours.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from telltale.analysis.estimate import (
    MIN_CALIBRATION,
    calibrate,
    estimate_window,
    estimated_performance,
)
from telltale.errors import ConfigError
from telltale.schema.wire import decode_events_json, decode_labels_json
from telltale.store.events import EventStore

T0 = datetime(2026, 11, 1, tzinfo=timezone.utc)
PER_HOUR = 400
HISTORY_H, CURRENT_H = 48, 24


def _event(rng: np.random.Generator, hour: int, score: float, version: str) -> dict[str, Any]:
    return {
        "event_id": str(uuid.UUID(bytes=rng.bytes(16))),
        "ts": (T0 + timedelta(hours=hour, seconds=float(rng.uniform(0, 3599)))).isoformat(),
        "model": "fraud",
        "version": version,
        "outputs": {"prediction": "fraud" if score >= 0.5 else "legit", "score": score},
    }


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Any:
    rng = np.random.default_rng(20261207)
    store = EventStore(tmp_path_factory.mktemp("estimate") / "t.duckdb")
    truth: dict[int, dict[str, np.ndarray]] = {}
    labels = []
    for hour in range(HISTORY_H + CURRENT_H):
        shift = max(0, hour - HISTORY_H) / CURRENT_H  # 0 in the history, up to 1
        a, b = 1.0 + 2.0 * shift, 4.0 - 1.0 * shift  # Beta(1, 4) → Beta(3, 3): harder cases
        scores = rng.beta(a, b, PER_HOUR)
        y = rng.uniform(size=PER_HOUR) < scores  # calibrated: P(fraud | s) = s
        events = [
            _event(rng, hour, float(s), "1.0" if i % 4 else "2.0") for i, s in enumerate(scores)
        ]
        if hour % 5 == 0:  # a few calls whose score is not a number
            events[0]["outputs"]["score"] = float("nan")
            events[1]["outputs"].pop("score")
        right = np.array(
            [(e["outputs"]["prediction"] == "fraud") == yi for e, yi in zip(events, y, strict=True)]
        )
        truth[hour] = {
            "scores": scores,
            "right": right,
            "version": np.array([e["version"] for e in events]),
        }
        store.write([("p", decode_events_json({"events": events}))])
        if hour < HISTORY_H:
            labels += [
                {"event_id": e["event_id"], "label": "fraud" if yi else "legit"}
                for e, yi in zip(events, y, strict=True)
                if rng.uniform() < 0.6
            ]
    store.write_labels("p", decode_labels_json({"labels": labels}))
    yield store, truth
    store.close()


def _hour(h: int) -> datetime:
    return T0 + timedelta(hours=h)


def test_the_estimate_meets_the_expected_accuracy_and_covers_the_labels(world: Any) -> None:
    store, truth = world
    result = estimated_performance(
        store, "p", "fraud", _hour(HISTORY_H), _hour(HISTORY_H + CURRENT_H), "hour"
    )
    assert result.note is None and result.bins == 20
    assert 0.55 * HISTORY_H * PER_HOUR < result.calibration_events < 0.65 * HISTORY_H * PER_HOUR
    assert len(result.windows) == CURRENT_H
    errors, covered = [], 0
    for k, window in enumerate(result.windows):
        hour = truth[HISTORY_H + k]
        scores = hour["scores"]
        expected = float(np.mean(np.maximum(scores, 1 - scores)))  # the closed form
        errors.append(window.estimated_accuracy - expected)
        realised = float(hour["right"].mean())  # what the held-back labels would show
        covered += window.estimated_accuracy_low <= realised <= window.estimated_accuracy_high
        assert window.events == PER_HOUR
    # measured with this seed: largest error 0.024, mean -0.007, 24 of 24 covered; the bias
    # is the sparse calibration of high scores, rare in the easy history
    assert max(abs(e) for e in errors) < 0.03, errors  # per hour, ~400 calls
    assert abs(float(np.mean(errors))) < 0.01  # no bias over the day
    assert covered >= 21  # of 24 hours (95 % nominal)
    # the shift is seen: accuracy falls from the easy history toward the hard cases
    assert result.windows[0].estimated_accuracy > result.windows[-1].estimated_accuracy + 0.1


def test_the_estimate_is_the_formula_computed_with_numpy(world: Any) -> None:
    store, truth = world
    start, end = _hour(HISTORY_H + 3), _hour(HISTORY_H + 4)
    (window,) = estimated_performance(store, "p", "fraud", start, end, None).windows
    # the reference, written out: the calibration from every labelled history event...
    cursor = store.cursor()
    table = store.model_table("p", "fraud")
    column = table.column("output", "score").column_name
    rows = cursor.execute(
        f"""SELECT e."{column}", e.prediction_class = l.label FROM {table.table_name} e
        JOIN tt_labels l ON l.event_id = e.event_id WHERE isfinite(e."{column}")"""
    ).fetchall()
    cursor.close()
    s = np.array([r[0] for r in rows])
    right = np.array([r[1] for r in rows], dtype=float)
    edges = np.unique(np.quantile(s, np.arange(1, 20) / 20))
    edges = edges[edges > s.min()]
    bins = np.digitize(s, edges)  # right=False: edges[i-1] <= s < edges[i]
    n = np.array([np.sum(bins == b) for b in range(len(edges) + 1)], dtype=float)
    c = np.array([right[bins == b].sum() for b in range(len(edges) + 1)])
    a = (c + 2 * right.mean()) / (n + 2)
    # ... applied to the window's scored events
    scores = truth[HISTORY_H + 3]["scores"]
    scores = scores[np.isfinite(scores)]
    w = np.bincount(np.digitize(scores, edges), minlength=len(a)) / len(scores)
    assert window.scored == len(scores)
    assert window.estimated_accuracy == pytest.approx(float(w @ a), abs=1e-12)
    variance = np.sum(w**2 * a * (1 - a) / (n + 2)) + np.sum(w * a * (1 - a)) / len(scores)
    assert window.estimated_accuracy_high - window.estimated_accuracy == pytest.approx(
        1.959963984540054 * np.sqrt(variance), abs=1e-12
    )


def test_calls_without_a_finite_score_are_counted_but_not_estimated(world: Any) -> None:
    store, _ = world
    hour = HISTORY_H + 7  # 55, a multiple of 5: one NaN score, one missing
    (window,) = estimated_performance(
        store, "p", "fraud", _hour(hour), _hour(hour + 1), None
    ).windows
    assert (window.events, window.scored) == (PER_HOUR, PER_HOUR - 2)


def test_filters_pick_the_version(world: Any) -> None:
    store, truth = world
    start, end = _hour(HISTORY_H), _hour(HISTORY_H + CURRENT_H)
    result = estimated_performance(store, "p", "fraud", start, end, None, version="2.0")
    expected_events = sum(
        int(np.sum(truth[h]["version"] == "2.0")) for h in range(HISTORY_H, HISTORY_H + CURRENT_H)
    )
    assert result.windows[0].events == expected_events
    assert result.calibration_events < 0.3 * HISTORY_H * PER_HOUR  # its own labels only


def test_it_says_why_there_is_no_estimate(world: Any, tmp_path: Path) -> None:
    store, _ = world
    start, end = _hour(HISTORY_H), _hour(HISTORY_H + 1)
    few = estimated_performance(
        store, "p", "fraud", start, end, None, calibration=timedelta(minutes=1)
    )
    assert few.windows == [] and f"needs {MIN_CALIBRATION}" in (few.note or "")
    unknown = estimated_performance(store, "p", "nope", start, end, None)
    assert unknown.note == "no events of model 'nope' yet"
    other = estimated_performance(store, "p", "fraud", start, end, None, score="confidence")
    assert "no numeric 'confidence' output" in (other.note or "")
    with pytest.raises(ConfigError, match="interval 'week'"):
        estimated_performance(store, "p", "fraud", start, end, "week")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="must be before end"):
        estimated_performance(store, "p", "fraud", end, start, None)


def test_a_string_score_is_not_a_confidence(tmp_path: Path) -> None:
    store = EventStore(tmp_path / "t.duckdb")
    try:
        event = {"event_id": str(uuid.uuid4()), "ts": T0.isoformat(), "model": "m",
                 "outputs": {"prediction": "a", "score": "high"}}  # fmt: skip
        store.write([("p", decode_events_json({"events": [event]}))])
        result = estimated_performance(store, "p", "m", T0, _hour(1), None)
        assert "no numeric 'score' output" in (result.note or "")
    finally:
        store.close()


def test_calibrate_checks_its_input() -> None:
    with pytest.raises(ConfigError, match="finite scores only"):
        calibrate(np.array([0.1, np.nan]), np.array([True, False]))
    with pytest.raises(ConfigError, match="as many scores as outcomes"):
        calibrate(np.array([0.1, 0.2]), np.array([True]))
    with pytest.raises(ConfigError, match="bins=0"):
        calibrate(np.array([0.1]), np.array([True]), bins=0)
    tied = calibrate(np.full(500, 0.7), np.arange(500) % 10 < 7)  # one value: one bin
    assert tied.edges.size == 0 and tied.accuracy == pytest.approx([0.7])
    assert estimate_window(tied, np.zeros(1)) == (None, None, None)
    estimate, low, high = estimate_window(tied, np.array([10.0]))
    assert estimate == pytest.approx(0.7) and low <= estimate <= high


def test_the_overview_falls_back_on_the_estimate_when_no_label_is_in_range(world: Any) -> None:
    from telltale.analysis.windows import performance_windows
    from telltale.dashboard.health import _overall_performance

    store, _ = world
    (entry,) = store.models("p")
    start, end = _hour(HISTORY_H), _hour(HISTORY_H + CURRENT_H)
    unlabelled = performance_windows(store, "p", "fraud", start, end, None)
    summary = _overall_performance(store, "p", entry, start, end, unlabelled)
    (window,) = estimated_performance(store, "p", "fraud", start, end, None).windows
    assert summary["estimated"] is True and summary["metric"] == "accuracy"
    assert summary["value"] == window.estimated_accuracy and summary["scored"] == window.scored
    labelled = performance_windows(store, "p", "fraud", _hour(0), start, None)
    shown = _overall_performance(store, "p", entry, _hour(0), start, labelled)
    assert "estimated" not in shown and shown["value"] == labelled.windows[0].accuracy


def test_a_rule_on_the_estimate_fires_before_any_label_arrives(world: Any) -> None:
    import json

    from telltale.alerts.engine import AlertEngine
    from telltale.alerts.source import StoreSource
    from telltale.store.alerts import AlertStore

    store, truth = world
    end = _hour(HISTORY_H + CURRENT_H)
    engine = AlertEngine(AlertStore(store), StoreSource(store), clock=lambda: end)
    rules = {
        "rules": [
            {"name": "estimated", "model": "fraud", "metric": "estimated_accuracy",
             "window": "1h", "thresholds": {"warning": 0.75, "critical": 0.6}},
            {"name": "labelled", "model": "fraud", "metric": "accuracy",
             "window": "1h", "thresholds": {"warning": 0.75}},
        ]
    }  # fmt: skip
    engine.apply("p", json.dumps(rules))
    report = engine.check("p")
    assert not report.errors, report.errors
    (alert,) = report.firing  # the labelled rule has no data: no labels in the last hour
    last = truth[HISTORY_H + CURRENT_H - 1]
    expected = float(np.mean(np.maximum(last["scores"], 1 - last["scores"])))
    assert alert["rule"] == "estimated" and alert["severity"] == "warning"
    assert alert["value"] == pytest.approx(expected, abs=0.03) and alert["comparison"] == "<"


def test_the_calibration_takes_the_newest_labelled_events(world: Any) -> None:
    store, _ = world
    start, end = _hour(HISTORY_H), _hour(HISTORY_H + 1)
    result = estimated_performance(store, "p", "fraud", start, end, None, max_calibration=500)
    # whole minutes of labelled events from the newest back, until 500 are reached
    assert 500 <= result.calibration_events < 520
    everything = estimated_performance(store, "p", "fraud", start, end, None)
    assert everything.calibration_events > 10_000
