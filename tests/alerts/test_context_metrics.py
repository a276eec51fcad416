"""What an alert says besides its value, and the metrics beyond serving and performance.

Worst slices, new categories, data-quality and resource metrics and the CUSUM of learned rules,
each against a real store and checked with pandas over the events that were written.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from telltale.alerts.engine import AlertEngine
from telltale.alerts.source import StoreSource
from telltale.analysis.profiling import profile_table
from telltale.schema.wire import decode_events_json, decode_labels_json
from telltale.store.alerts import AlertStore
from telltale.store.engine import connect
from telltale.store.events import EventStore
from telltale.store.files import open_table

T0 = datetime(2026, 11, 22, 14, 0, tzinfo=timezone.utc)
COUNTRIES = ["FR", "DE", "BR", "US"]
_ids = iter(range(1, 10**9))


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture()
def store(tmp_path: Path) -> Iterator[EventStore]:
    opened = EventStore(tmp_path / "t.duckdb")
    yield opened
    opened.close()


def engine(store: EventStore, now: datetime) -> AlertEngine:
    return AlertEngine(AlertStore(store), StoreSource(store), clock=Clock(now))


def fire(store: EventStore, now: datetime, **rule: Any) -> dict[str, Any]:
    """Apply one rule (firing at once) and run a round; the firing alert."""
    running = engine(store, now)
    running.apply("p", json.dumps({"rules": [{"name": "r", "model": "fraud", **rule}]}))
    report = running.check("p")
    assert not report.errors, report.errors
    (alert,) = report.firing
    return alert


def production(
    n: int, start: datetime, seed: int, *, new_country: float = 0.0, missing: float = 0.0
) -> pd.DataFrame:
    """Events over 10 minutes: Brazilian traffic fails validation and is misclassified more."""
    rng = np.random.default_rng(seed)
    country = rng.choice(COUNTRIES, n, p=[0.4, 0.3, 0.2, 0.1]).astype(object)
    country[rng.uniform(size=n) < new_country] = "ZZ"
    amount = rng.lognormal(3, 1, n)
    amount[rng.uniform(size=n) < missing] = np.nan
    bad = np.where(country == "BR", 0.4, 0.03)
    invalid = rng.uniform(size=n) < bad
    label = rng.integers(0, 2, n)
    wrong = rng.uniform(size=n) < np.where(country == "BR", 0.5, 0.1)
    return pd.DataFrame(
        {
            "event_id": [str(uuid.UUID(int=next(_ids))) for _ in range(n)],
            "ts": [start + timedelta(seconds=600 * i / n) for i in range(n)],
            "country": country,
            "amount": amount,
            "status": np.where(invalid, "invalid", "ok"),
            "prediction": np.where(wrong, 1 - label, label).astype(str),
            "label": label.astype(str),
        }
    )


def write(store: EventStore, frame: pd.DataFrame, resources: list[dict[str, Any]] | None = None):
    events = [
        {
            "event_id": row.event_id,
            "ts": row.ts.isoformat(),
            "model": "fraud",
            "version": "1",
            "status": row.status,
            "latency_ms": 10.0,
            "inputs": {
                "country": row.country,
                "amount": None if np.isnan(row.amount) else float(row.amount),
            },
            "outputs": {"prediction": row.prediction},
        }
        for row in frame.itertuples()
    ]
    body: dict[str, Any] = {"events": events}
    if resources:
        body["resources"] = resources
    store.write([("p", decode_events_json(body))])


def save_reference(store: EventStore) -> None:
    training = production(4000, T0 - timedelta(days=2), seed=1)
    data = pa.table({"country": list(training.country), "amount": training.amount})
    table = open_table(connect(), data, name="training")
    store.save_reference("p", "fraud", "train", profile_table(table, source="train").to_bytes())


def test_worst_slice_of_an_invalid_rate_alert_is_the_bad_country(store: EventStore) -> None:
    frame = production(6000, T0 - timedelta(minutes=10), seed=2)
    write(store, frame)
    alert = fire(store, T0, metric="invalid_rate", window="10m", thresholds={"warning": 0.05})
    (worst, *_) = alert["context"]["worst_slices"]
    rates = frame.assign(bad=frame.status == "invalid").groupby("country").bad.agg(["mean", "size"])
    assert worst["description"] == "country = BR"
    assert worst["metric"] == "invalid_rate"
    assert worst["n"] == rates.loc["BR", "size"]
    assert worst["value"] == pytest.approx(rates.loc["BR", "mean"], abs=1e-12)
    rest = frame[frame.country != "BR"]
    assert worst["rest"] == pytest.approx((rest.status == "invalid").mean(), abs=1e-12)
    assert worst["q_value"] < 0.05


def test_worst_slice_of_an_accuracy_alert_uses_the_labels(store: EventStore) -> None:
    frame = production(5000, T0 - timedelta(minutes=10), seed=3)
    write(store, frame)
    labels = [
        {"event_id": e, "label": lab} for e, lab in zip(frame.event_id, frame.label, strict=True)
    ]
    store.write_labels("p", decode_labels_json({"labels": labels}))
    alert = fire(store, T0, metric="accuracy", window="10m", thresholds={"warning": 0.95})
    (worst, *_) = alert["context"]["worst_slices"]
    right = frame.assign(ok=frame.prediction == frame.label).groupby("country").ok.mean()
    assert worst["description"] == "country = BR" and worst["metric"] == "accuracy"
    assert worst["value"] == pytest.approx(right["BR"], abs=1e-12)


def test_no_slice_is_reported_when_nothing_stands_out(store: EventStore) -> None:
    frame = production(3000, T0 - timedelta(minutes=10), seed=4)
    frame["status"] = np.where(np.random.default_rng(0).uniform(size=3000) < 0.1, "invalid", "ok")
    write(store, frame)
    alert = fire(store, T0, metric="invalid_rate", window="10m", thresholds={"warning": 0.05})
    assert alert["context"]["worst_slices"] == []


def test_quality_metrics_and_new_categories_in_the_drift_context(store: EventStore) -> None:
    save_reference(store)
    frame = production(4000, T0 - timedelta(minutes=10), seed=5, new_country=0.15, missing=0.2)
    write(store, frame)
    missing = fire(
        store, T0, metric="missing_rate", feature="*", reference="train", window="10m",
        thresholds={"warning": 0.1},
    )  # fmt: skip
    assert missing["value"] == pytest.approx(frame.amount.isna().mean(), abs=1e-12)
    assert "worst feature amount" in " ".join(missing["context"]["notes"])
    new = fire(
        store, T0, metric="new_category_share", feature="country", reference="train",
        window="10m", thresholds={"warning": 0.05},
    )  # fmt: skip
    assert new["value"] == pytest.approx((frame.country == "ZZ").mean(), abs=1e-12)
    drift = fire(
        store, T0, metric="drift", feature="country", reference="train", window="10m",
        thresholds={"warning": 0.01},
    )  # fmt: skip
    (country,) = [d for d in drift["context"]["top_drifted"] if d["feature"] == "country"]
    assert country["new_categories"] == ["ZZ"]
    assert country["new_category_share"] == pytest.approx((frame.country == "ZZ").mean())


def test_resource_rules_watch_the_busiest_instance_of_the_model(store: EventStore) -> None:
    rng = np.random.default_rng(6)
    samples = [
        {"ts": (T0 - timedelta(seconds=10 * i + 5)).isoformat(), "instance": instance,
         "cpu_percent": float(rng.uniform(*span)), "rss_mb": float(rng.uniform(100, 200))}
        for i in range(30) for instance, span in (("a", (10, 30)), ("b", (80, 100)))
    ]  # fmt: skip
    write(store, production(100, T0 - timedelta(minutes=4), seed=7), samples)
    alert = fire(store, T0, metric="cpu_percent", window="10m", thresholds={"warning": 75})
    means = pd.DataFrame(samples).groupby("instance").cpu_percent.mean()
    assert alert["value"] == pytest.approx(means.max(), abs=1e-9)
    assert "worst instance b" in alert["context"]["notes"]
    quiet = engine(store, T0)
    quiet.apply("p", json.dumps({"rules": [{"name": "r", "model": "other", "metric": "rss_mb",
                                             "thresholds": {"warning": 1}}]}))  # fmt: skip
    (evaluated,) = quiet.check("p").evaluated
    assert evaluated["severity"] == "no data"  # another model's processes are not this one's


def test_a_learned_rule_fires_on_a_level_shift_inside_the_band(store: EventStore) -> None:
    """Four days of hourly error rates around 2%; for the last 9 hours it sits at 2.45%, inside
    the 4-sigma band of each hour but a shift the CUSUM adds up."""
    rng = np.random.default_rng(8)
    start = T0 - timedelta(days=4)
    per_hour = 1500
    for hour in range(4 * 24):
        at = start + timedelta(hours=hour)
        rate = 0.0245 if at >= T0 - timedelta(hours=9) else 0.02
        errors = rng.uniform(size=per_hour) < rate
        events = [
            {"event_id": str(uuid.UUID(int=next(_ids))),
             "ts": (at + timedelta(seconds=3600 * i / per_hour)).isoformat(), "model": "fraud",
             "version": "1", "status": "error" if errors[i] else "ok", "latency_ms": 5.0}
            for i in range(per_hour)
        ]  # fmt: skip
        store.write([("p", decode_events_json({"events": events}))])
    running = engine(store, T0)
    rule = {"name": "r", "model": "fraud", "metric": "error_rate", "window": "1h",
            "baseline": {"mode": "learned", "history": "4d"},
            "thresholds": {"warning": 4, "critical": 6}}  # fmt: skip
    running.apply("p", json.dumps({"rules": [rule]}))
    report = running.check("p")
    (judged,) = report.evaluated
    assert judged["value"] < judged["thresholds"]["warning"]  # the band alone lets it through
    assert judged["severity"] == "warning" and judged["change"]["kind"] == "level shift"
    since = datetime.fromisoformat(judged["change"]["since"])
    assert T0 - timedelta(hours=11) <= since <= T0 - timedelta(hours=2)  # the run began at -9 h
    (alert,) = report.firing
    assert alert["threshold"] == pytest.approx(judged["change"]["expected"])
    assert any("CUSUM" in note for note in alert["context"]["notes"])
    running.apply(
        "p", json.dumps({"rules": [{**rule, "baseline": {**rule["baseline"], "changes": False}}]})
    )
    (band_only,) = running.check("p").evaluated
    assert band_only["severity"] == "ok"
