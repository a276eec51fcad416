"""The simulated production service: two replicas of a fraud scorer, monitored by the SDK.

Each replica runs the models deployed on it; each (replica, version) pair is one
:class:`telltale.Monitor`, and each region's endpoint is one tracked function
(``segment={"region": ...}``), so the collector can slice by version, environment and region.
A call scores a micro-batch of transactions (``track(batch=True)``): the model's fraud
probability is blended with the merchant's risk score from the risk team's feature store,

    score = 0.85 * P(fraud) + 0.15 * merchant_risk,    prediction = "fraud" if score >= 0.5

so when the feature store times out (``merchant_risk`` missing) the score is NaN and the
prediction silently falls to ``legit``: no exception, only the output checks
(``checks.finite()``, ``checks.in_range(0, 1)``) notice, and mark the events ``invalid``.

**Two environments in one process.** The SDK fingerprints the environment of the process it
runs in; ``Monitor(environment={...})`` adds the labels it cannot see. Each replica's monitors
carry ``{"name": "replica-a"}`` or ``{"name": "replica-b", "host": ...}``, so the two replicas
are two environments (the labels are part of the fingerprint's hash), and the dashboard and
the alerts call them by name.
"""

from __future__ import annotations

import concurrent.futures
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from telltale.demo.models import FraudModel
from telltale.sdk import Batch, HttpSink, Monitor, checks
from telltale.sdk.clock import Clock

__all__ = [
    "MODEL",
    "REGIONS",
    "REPLICA_B_HOST",
    "Replica",
    "Service",
    "blended_score",
    "predictions",
]

MODEL = "card-fraud"
"""The model's name in the collector."""
REGIONS = ("eu", "us", "apac")
REPLICA_B_HOST = "older host: Intel Xeon E5-2670 (simulated)"
BLEND = 0.85
THRESHOLD = 0.5


class _RecordingSink(HttpSink):
    """An :class:`HttpSink` that notes the environment ids it carried (for the report)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.environment_ids: list[str] = []

    def send(self, batch: Batch) -> None:
        for environment in batch.environments:
            if environment["environment_id"] not in self.environment_ids:
                self.environment_ids.append(str(environment["environment_id"]))
        super().send(batch)


@dataclass
class Replica:
    """One host of the service: its name, how it differs, and a monitor per deployed version."""

    name: str
    extra_latency_s: tuple[float, float] = (0.0, 0.0)
    """A real sleep per call, uniform in this range (an older, slower host)."""
    calibration_power: float = 1.0
    """Scores are reported as ``score ** power`` (replica b: a stale calibration file)."""
    labels: dict[str, str] = field(default_factory=dict)
    """This host's environment labels besides its name (``Monitor(environment=...)``)."""
    stall_s: tuple[float, float] | None = None
    """When set, every call also stalls this long (the latency spike)."""
    monitors: dict[str, Monitor] = field(default_factory=dict)
    endpoints: dict[tuple[str, str], Callable[[list[dict[str, Any]]], list[dict[str, Any]]]] = (
        field(default_factory=dict)
    )

    @property
    def environment_ids(self) -> list[str]:
        ids: list[str] = []
        for monitor in self.monitors.values():
            sink = monitor.sink
            if isinstance(sink, _RecordingSink):
                ids += [i for i in sink.environment_ids if i not in ids]
        return ids


def blended_score(
    probability: np.ndarray, merchant_risk: np.ndarray, power: float = 1.0
) -> np.ndarray:
    """The service's score: NaN where ``merchant_risk`` is missing (nothing raises)."""
    with np.errstate(invalid="ignore"):
        score = BLEND * probability + (1 - BLEND) * merchant_risk
        return np.asarray(score**power, dtype=float)


def predictions(score: np.ndarray) -> np.ndarray:
    """``fraud`` where the score reaches the threshold, else ``legit`` (NaN included)."""
    with np.errstate(invalid="ignore"):
        return np.where(score >= THRESHOLD, "fraud", "legit").astype(object)


def _score(
    model: FraudModel, rows: list[dict[str, Any]], replica: Replica, rng: np.random.Generator
) -> list[dict[str, Any]]:
    """What one call of the service computes (the function the SDK wraps)."""
    import pandas as pd

    frame = pd.DataFrame.from_records(rows, columns=list(model.feature_names))
    frame["merchant_risk"] = pd.to_numeric(frame["merchant_risk"], errors="coerce")
    fraud = list(model.pipeline.classes_).index("fraud")
    probability = model.pipeline.predict_proba(frame)[:, fraud]
    merchant_risk = frame["merchant_risk"].to_numpy(dtype=float)
    score = blended_score(probability, merchant_risk, replica.calibration_power)
    low, high = replica.extra_latency_s
    pause = rng.uniform(low, high) if high > 0 else 0.0
    if replica.stall_s is not None:
        pause += rng.uniform(*replica.stall_s)
    if pause:
        time.sleep(pause)  # real time: latency is measured on the calling thread
    return [
        {"prediction": label, "score": value}
        for label, value in zip(predictions(score).tolist(), score.tolist(), strict=True)
    ]


class Service:
    """The replicas and their monitors, sending to a collector at ``endpoint``."""

    def __init__(
        self,
        endpoint: str,
        api_key: str,
        models: Mapping[str, FraudModel],
        *,
        clock: Clock,
        spool_dir: Path,
        seed: int,
    ) -> None:
        self.rng = np.random.default_rng([seed, 7])
        self.pool = concurrent.futures.ThreadPoolExecutor(
            max_workers=3 * len(REGIONS), thread_name_prefix="demo-request"
        )
        self.replicas = {
            "a": Replica("a"),
            "b": Replica(
                "b",
                extra_latency_s=(0.004, 0.008),
                calibration_power=0.5,
                labels={"host": REPLICA_B_HOST},
            ),
        }
        deployed = {"a": list(models), "b": ["1.0.0"]}
        for replica in self.replicas.values():
            for version in deployed[replica.name]:
                sink_options: dict[str, Any] = {
                    "spool_dir": spool_dir / f"{replica.name}-{version}",
                    "clock": clock,
                }
                sink = _RecordingSink(endpoint, api_key, **sink_options)
                # flush_interval 0.05 s: events are stamped when their batch is built, and
                # a second of real time is an hour of simulated history.
                monitor = Monitor(
                    MODEL,
                    version,
                    sink=sink,
                    environment={"name": f"replica-{replica.name}", **replica.labels},
                    clock=clock,
                    flush_interval=0.05,
                    resource_interval=5.0,
                    capacity=100_000,
                )
                replica.monitors[version] = monitor
                for region in REGIONS:
                    replica.endpoints[(version, region)] = self._endpoint(
                        monitor, models[version], replica, region
                    )

    def _endpoint(
        self, monitor: Monitor, model: FraudModel, replica: Replica, region: str
    ) -> Callable[[list[dict[str, Any]]], list[dict[str, Any]]]:
        rng = self.rng

        def score_transactions(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
            return _score(model, rows, replica, rng)

        track = monitor.track(
            batch=True,
            segment={"region": region},
            validate=[checks.finite(), checks.in_range(0, 1)],
            name=f"score-{region}",
        )
        return track(score_transactions)

    @property
    def monitors(self) -> list[Monitor]:
        return [m for replica in self.replicas.values() for m in replica.monitors.values()]

    def flush(self, timeout: float = 10.0) -> bool:
        """Flush every monitor, side by side; True when nothing is left waiting."""
        futures = [self.pool.submit(monitor.flush, timeout) for monitor in self.monitors]
        return all([future.result() for future in futures])

    def close(self) -> None:
        self.pool.shutdown(wait=True)
        for monitor in self.monitors:
            monitor.close()
