"""The monitor loop: recompute drift and performance every few seconds for ``/metrics``.

For each project and model, the recent window (``--drift-window-h``) is compared with the model's
``default`` reference, and the latest labelled performance is read from the label rollups. The
figures go to the Prometheus gauges (``telltale_drift_score``, ``telltale_performance``). A model
without a ``default`` reference simply has no drift series. A failure on one model is logged and
the loop goes on with the others.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from starlette.concurrency import run_in_threadpool

from telltale.server.metrics import MetricsState

__all__ = ["MonitorRound", "monitor_loop", "run_round"]

log = logging.getLogger("telltale.server")

DEFAULT_REFERENCE = "default"
_PERFORMANCE_METRICS = ("accuracy", "macro_f1", "mae", "rmse", "r2", "coverage")


@dataclass
class MonitorRound:
    """What one round did (for tests and logs)."""

    models: int = 0
    drift_checked: int = 0
    performance_set: int = 0
    failures: list[str] = field(default_factory=list)


def _projects(collector: Any) -> list[str]:
    return sorted({key.project for key in collector.keys.list()})


def run_round(collector: Any, now: datetime | None = None) -> MonitorRound:
    """One pass over every project's models; safe to call from a worker thread."""
    import telltale.analysis.windows as windows

    now = now or datetime.now(timezone.utc)
    start = now - timedelta(hours=collector.settings.drift_window_h)
    store = collector.store
    metrics: MetricsState = collector.metrics
    outcome = MonitorRound()
    for project in _projects(collector):
        for entry in store.models(project):
            model = entry["model"]
            outcome.models += 1
            try:
                names = {r["name"] for r in store.references(project, model)}
                if DEFAULT_REFERENCE in names:
                    result = windows.window_drift(
                        store, project, model, DEFAULT_REFERENCE, start, now
                    )
                    metrics.set_drift(
                        project,
                        model,
                        {
                            name: (column.statistic, column.method, column.drift)
                            for name, column in result.drift.columns.items()
                        },
                    )
                    outcome.drift_checked += 1
                performance = windows.performance_windows(
                    store, project, model, start, now, interval="day"
                )
                labelled = [w for w in performance.windows if w.labelled]
                if labelled:
                    latest = labelled[-1]
                    values = {
                        name: float(getattr(latest, name))
                        for name in _PERFORMANCE_METRICS
                        if getattr(latest, name) is not None
                    }
                    metrics.set_performance(project, model, values)
                    outcome.performance_set += 1
            except Exception as error:  # one broken model must not stop the others
                log.exception("monitor round failed for %s/%s", project, model)
                outcome.failures.append(f"{project}/{model}: {type(error).__name__}: {error}")
    return outcome


async def monitor_loop(collector: Any) -> None:
    interval = collector.settings.monitor_interval_s
    while True:
        await asyncio.sleep(interval)
        try:
            await run_in_threadpool(run_round, collector)
        except Exception:
            log.exception("monitor round failed")
