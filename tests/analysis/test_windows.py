"""Windows over the rollups, checked against numpy and scikit-learn on the raw events.

Tolerances: counts and rates exact; latency percentiles within the histograms' relative error
(ALPHA = 1%) of numpy's ``method="lower"`` order statistic; means, standard deviations and
regression metrics to 1e-9 relative (sums in a different order); accuracy and F1 to 1e-12.
"""

from __future__ import annotations

import gzip
import json
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from sklearn.metrics import (
    accuracy_score,
    f1_score,
    mean_absolute_error,
    mean_squared_error,
    r2_score,
)

from telltale.analysis.drift import detect_drift
from telltale.analysis.profiling import profile_table
from telltale.analysis.windows import (
    compare_versions,
    performance_windows,
    serving_windows,
    window_drift,
)
from telltale.errors import ConfigError, NotFoundError
from telltale.schema.wire import decode_events_json, decode_labels_json
from telltale.store.engine import connect
from telltale.store.events import EventStore
from telltale.store.rollup import ALPHA

T0 = datetime(2026, 11, 16, tzinfo=timezone.utc)
N = 3000
SPAN_S = 3 * 3600


def _events(
    seed: int, n: int, model: str, classes: bool
) -> tuple[list[dict[str, Any]], dict[str, np.ndarray]]:
    rng = np.random.default_rng(seed)
    offsets = np.sort(rng.uniform(0, SPAN_S, n))
    latency = rng.lognormal(1.0, 1.2, n)
    latency[rng.uniform(size=n) < 0.01] = 0.0
    status = rng.choice(["ok"] * 6 + ["error", "invalid", "timeout", "fallback"], n)
    version = rng.choice(["1.0", "2.0"], n)
    region = rng.choice(["eu", "us"], n)
    env = rng.choice(["cpu", "gpu"], n)
    x = rng.normal(0, 1, n) + (offsets > SPAN_S / 2) * 2.0  # drifts in the second half
    prediction = rng.integers(0, 3, n) if classes else rng.normal(10, 3, n)
    rows = []
    for i in range(n):
        rows.append(
            {
                "event_id": str(uuid.UUID(int=seed << 64 | i)),
                "ts": (T0 + timedelta(seconds=float(offsets[i]))).isoformat(),
                "model": model,
                "version": str(version[i]),
                "environment_id": str(env[i]),
                "inputs": {"x": float(x[i]), "c": str(rng.choice(["a", "b"]))},
                "outputs": {"prediction": int(prediction[i]) if classes else float(prediction[i])},
                "latency_ms": float(latency[i]),
                "status": str(status[i]),
                "segment": {"region": str(region[i]), "tier": "gold"},
                "batch_size": int(rng.integers(1, 4)),
            }
        )
    truth = {
        "offset": offsets,
        "latency": latency,
        "status": status,
        "version": version,
        "region": region,
        "env": env,
        "prediction": prediction,
        "x": x,
        "batch": np.array([r["batch_size"] for r in rows]),
    }
    return rows, truth


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Any:
    path = tmp_path_factory.mktemp("windows") / "t.duckdb"
    store = EventStore(path)
    rows, truth = _events(1, N, "clf", classes=True)
    rrows, rtruth = _events(2, 1000, "reg", classes=False)
    rng = np.random.default_rng(3)
    labels = rng.integers(0, 3, N)
    labelled = rng.uniform(size=N) < 0.6
    ylabels = rtruth["prediction"] + rng.normal(0, 2, 1000)
    # a third of the labels before their events, the rest after; some replaced
    first = [i for i in range(N) if labelled[i] and i % 3 == 0]
    store.write_labels(
        "p",
        decode_labels_json(
            {"labels": [{"event_id": rows[i]["event_id"], "label": 9} for i in first]}
        ),
    )
    for k in range(0, N, 500):
        store.write([("p", decode_events_json({"events": rows[k : k + 500]}))])
    store.write(
        [
            ("p", decode_events_json({"events": rrows})),
            ("other", decode_events_json({"events": rows[:100]})),
        ]
    )
    store.write_labels(
        "p",
        decode_labels_json(
            {
                "labels": [
                    {"event_id": rows[i]["event_id"], "label": int(labels[i])}
                    for i in range(N)
                    if labelled[i]
                ]
            }
        ),
    )
    store.write_labels(
        "p",
        decode_labels_json(
            {
                "labels": [
                    {"event_id": rrows[i]["event_id"], "label": float(ylabels[i])}
                    for i in range(1000)
                ]
            }
        ),
    )
    truth.update(labels=labels, labelled=labelled)
    rtruth.update(labels=ylabels)
    yield store, truth, rtruth
    store.close()


def _hour(truth: dict[str, np.ndarray], h: int, mask: np.ndarray | None = None) -> np.ndarray:
    sel = (truth["offset"] >= h * 3600) & (truth["offset"] < (h + 1) * 3600)
    return sel if mask is None else sel & mask


def test_serving_windows_match_numpy(world: Any) -> None:
    store, truth, _ = world
    result = serving_windows(store, "p", "clf", T0, T0 + timedelta(hours=3), interval="hour")
    assert [w.start for w in result.windows] == [
        (T0 + timedelta(hours=h)).isoformat() for h in range(3)
    ]
    for h, window in enumerate(result.windows):
        sel = _hour(truth, h)
        assert window.events == sel.sum()
        assert window.rows == truth["batch"][sel].sum()
        assert window.throughput_per_s == pytest.approx(sel.sum() / 3600, rel=1e-12)
        for status in ("error", "invalid", "timeout", "fallback"):
            assert (
                getattr(window, f"{status}_rate")
                == (truth["status"][sel] == status).sum() / sel.sum()
            )
        lat = truth["latency"][sel]
        for q, got in (
            (0.5, window.latency_p50_ms),
            (0.95, window.latency_p95_ms),
            (0.99, window.latency_p99_ms),
        ):
            exact = np.quantile(lat, q, method="lower")
            assert got == pytest.approx(exact, rel=ALPHA, abs=1e-12)
        assert window.latency_mean_ms == pytest.approx(lat.mean(), rel=1e-9)
        pred = truth["prediction"][sel]
        assert window.prediction_mean == pytest.approx(pred.mean(), rel=1e-9)
        assert window.prediction_std == pytest.approx(pred.std(ddof=1), rel=1e-9)
        assert window.class_shares == {
            str(c): (pred == c).sum() / sel.sum() for c in np.unique(pred)
        }
    assert json.loads(result.to_json())["latency_relative_error"] == ALPHA


def test_filters_by_version_environment_and_segment(world: Any) -> None:
    store, truth, _ = world
    end = T0 + timedelta(hours=3)
    result = serving_windows(
        store, "p", "clf", T0, end, version="2.0", environment="gpu", segment={"region": "eu"}
    )
    mask = (truth["version"] == "2.0") & (truth["env"] == "gpu") & (truth["region"] == "eu")
    assert [w.events for w in result.windows] == [_hour(truth, h, mask).sum() for h in range(3)]
    for h, window in enumerate(result.windows):
        exact = np.quantile(truth["latency"][_hour(truth, h, mask)], 0.95, method="lower")
        assert window.latency_p95_ms == pytest.approx(exact, rel=ALPHA)
    assert serving_windows(store, "p", "clf", T0, end, segment={"region": "mars"}).windows == []
    assert result.filters == {"version": "2.0", "environment": "gpu", "segment": {"region": "eu"}}


def test_minute_day_and_unaligned_spans_agree(world: Any) -> None:
    store, truth, _ = world
    start, end = T0 + timedelta(minutes=37), T0 + timedelta(hours=2, minutes=11)
    minutes = serving_windows(store, "p", "clf", start, end, interval="minute")
    day = serving_windows(store, "p", "clf", start, end, interval="day")
    sel = (truth["offset"] >= 37 * 60) & (truth["offset"] < 131 * 60)
    assert sum(w.events for w in minutes.windows) == sel.sum() == day.windows[0].events
    exact = np.quantile(truth["latency"][sel], 0.99, method="lower")
    assert day.windows[0].latency_p99_ms == pytest.approx(exact, rel=ALPHA)
    assert day.windows[0].throughput_per_s == pytest.approx(sel.sum() / (94 * 60))
    # an unaligned start is rounded down to its minute
    odd = serving_windows(store, "p", "clf", start + timedelta(seconds=20), end, interval="day")
    assert odd.windows[0].events == sel.sum() and odd.start == start.isoformat()
    with pytest.raises(ConfigError):
        serving_windows(store, "p", "clf", end, start)
    with pytest.raises(ConfigError):
        serving_windows(store, "p", "clf", start, end, interval="week")  # type: ignore[arg-type]
    with pytest.raises(NotFoundError):
        serving_windows(store, "p", "nope", start, end)


def test_classification_performance_matches_scikit_learn(world: Any) -> None:
    store, truth, _ = world
    result = performance_windows(
        store, "p", "clf", T0, T0 + timedelta(hours=3), segment={"tier": "gold"}
    )
    assert result.task == "classification"
    for h, window in enumerate(result.windows):
        sel = _hour(truth, h, truth["labelled"])
        y, p = truth["labels"][sel], truth["prediction"][sel]
        assert window.labelled == sel.sum()
        assert window.coverage == sel.sum() / _hour(truth, h).sum()
        assert window.accuracy == pytest.approx(accuracy_score(y, p), abs=1e-12)
        assert window.macro_f1 == pytest.approx(f1_score(y, p, average="macro"), abs=1e-12)
        assert window.mae is None


def test_regression_performance_matches_scikit_learn(world: Any) -> None:
    store, _, truth = world
    result = performance_windows(store, "p", "reg", T0, T0 + timedelta(hours=3), version="1.0")
    assert result.task == "regression"
    for h, window in enumerate(result.windows):
        sel = _hour(truth, h, truth["version"] == "1.0")
        y, p = truth["labels"][sel], truth["prediction"][sel]
        assert window.labelled == sel.sum() and window.coverage == 1.0
        assert window.mae == pytest.approx(mean_absolute_error(y, p), rel=1e-9)
        assert window.rmse == pytest.approx(np.sqrt(mean_squared_error(y, p)), rel=1e-9)
        assert window.r2 == pytest.approx(r2_score(y, p), rel=1e-9)
    serving = serving_windows(store, "p", "reg", T0, T0 + timedelta(hours=3))
    assert serving.windows[0].class_shares == {}


def test_compare_versions_side_by_side(world: Any) -> None:
    store, truth, _ = world
    end = T0 + timedelta(hours=3)
    result = compare_versions(store, "p", "clf", "1.0", "2.0", T0, end)
    for version, serving, perf in (
        ("1.0", result.serving_a, result.performance_a),
        ("2.0", result.serving_b, result.performance_b),
    ):
        sel = truth["version"] == version
        assert serving is not None and perf is not None
        assert serving.events == sel.sum()
        assert serving.latency_p50_ms == pytest.approx(
            np.quantile(truth["latency"][sel], 0.5, method="lower"), rel=ALPHA
        )
        lab = sel & truth["labelled"]
        assert perf.accuracy == pytest.approx(
            accuracy_score(truth["labels"][lab], truth["prediction"][lab]), abs=1e-12
        )
    missing = compare_versions(store, "p", "clf", "1.0", "9.9", T0, end)
    assert missing.serving_b is None and missing.performance_b is None
    json.loads(result.to_json())


def test_history_survives_retention(tmp_path: Path) -> None:
    rows, _ = _events(5, 400, "m", classes=True)
    with EventStore(tmp_path / "r.duckdb") as store:
        store.write([("p", decode_events_json({"events": rows}))])
        store.write_labels(
            "p",
            decode_labels_json({"labels": [{"event_id": r["event_id"], "label": 1} for r in rows]}),
        )
        end = T0 + timedelta(hours=3)
        before = (
            serving_windows(store, "p", "m", T0, end).to_dict(),
            performance_windows(store, "p", "m", T0, end).to_dict(),
        )
        store.apply_retention(timedelta(minutes=1), now=end + timedelta(hours=1))
        after = (
            serving_windows(store, "p", "m", T0, end).to_dict(),
            performance_windows(store, "p", "m", T0, end).to_dict(),
        )
        assert before == after
        assert store.events_relation("p", "m", T0, end).to_pyarrow().num_rows == 0


def test_window_drift_against_a_saved_reference(world: Any, tmp_path: Path) -> None:
    store, truth, _ = world
    rng = np.random.default_rng(7)
    reference_data = pa.table(
        {"x": rng.normal(0, 1, 5000), "c": rng.choice(["a", "b"], 5000), "absent": np.ones(5000)}
    )
    con = connect()
    con.con.register("reference", reference_data)
    reference = profile_table(con.table("reference"))
    path = reference.save(tmp_path / "ref.ttp")
    store.save_reference("p", "clf", "training", path.read_bytes())
    half = T0 + timedelta(seconds=SPAN_S / 2)
    calm = window_drift(store, "p", "clf", "training", T0, half)
    moved = window_drift(store, "p", "clf", reference, half, T0 + timedelta(hours=3))
    assert calm.rows == (truth["offset"] < SPAN_S / 2).sum()
    assert calm.missing_columns == ["absent"]
    assert not calm.drift.columns["x"].drift and moved.drift.columns["x"].drift
    assert not moved.drift.columns["c"].drift
    # the same as profiling the window's rows directly
    sel = truth["offset"] >= SPAN_S / 2
    con.con.register("current", pa.table({"x": truth["x"][sel]}))
    direct = profile_table(con.table("current"), reference=reference)
    expected = detect_drift(reference, direct, ["x"]).columns["x"]
    assert moved.drift.columns["x"].statistic == pytest.approx(expected.statistic, rel=1e-9)
    json.loads(moved.to_json())
    assert gzip.decompress(store.load_reference("p", "clf", "training"))
