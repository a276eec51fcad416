"""Page data of the Alerts page (firing, pending and resolved alerts with their context, the
recent history and the silences in force) and of the Environments page."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from telltale.analysis.windows import serving_windows
from telltale.dashboard.health import minute
from telltale.dashboard.params import TimeRange
from telltale.store.events import EventStore

__all__ = ["SILENCE_DURATIONS", "alerts_data", "environments_data"]

SILENCE_DURATIONS = ("30m", "1h", "2h", "4h", "12h", "24h", "7d")
_ORDER = {"firing": 0, "pending": 1, "resolved": 2}
_ENV_KEYS = (
    "events", "latency_p50_ms", "latency_p95_ms", "latency_p99_ms", "error_rate",
    "invalid_rate", "timeout_rate", "prediction_mean", "prediction_std", "class_shares",
)  # fmt: skip


def alerts_data(engine: Any, project: str, history_limit: int = 50) -> dict[str, Any]:
    """Every alert state of the project, firing first; the silences in force; the history."""
    states = list(engine.alerts.states(project).values())
    states.sort(key=lambda s: (_ORDER.get(s.get("state", ""), 3), s.get("since") or ""))
    alerts = []
    for state in states:
        alert = state.get("alert") or {}
        group = alert.get("group") or state.get("group") or {}
        # what a silence of this alert matches: the rule and its group
        matchers = {"rule": str(state.get("rule", "")), **{k: str(v) for k, v in group.items()}}
        alerts.append(
            {
                "fingerprint": state.get("fingerprint"),
                "state": state.get("state"),
                "rule": state.get("rule"),
                "severity": state.get("severity") or alert.get("severity"),
                "since": state.get("since"),
                "fired_at": state.get("fired_at"),
                "resolved_at": state.get("resolved_at"),
                "acknowledged_by": state.get("acknowledged_by"),
                "acknowledged_at": state.get("acknowledged_at"),
                "acknowledge_comment": state.get("acknowledge_comment"),
                "group": group,
                "model": group.get("model"),
                "alert": alert,
                "silence_matchers": matchers,
            }
        )
    silences = [s.to_dict() for s in engine.active_silences(project)]
    history = engine.alerts.history(project, limit=history_limit)
    return {
        "project": project,
        "now": engine.clock().isoformat(),
        "firing": sum(1 for a in alerts if a["state"] == "firing"),
        "alerts": alerts,
        "silences": silences,
        "history": history,
        "silence_durations": list(SILENCE_DURATIONS),
    }


def environments_data(
    store: EventStore, project: str, now: datetime, picked: TimeRange
) -> dict[str, Any]:
    """The fingerprints seen, and per model how outputs and latency differ between them over
    the picked range (one rollup window per model and environment)."""
    now = minute(now)
    start = now - picked.length
    environments = store.environments(project)
    for env in environments:
        env["packages"] = dict(env.get("packages") or {})
    names = {e["environment_id"]: e["name"] for e in environments}
    ids = [e["environment_id"] for e in environments]
    models = []
    for entry in store.models(project)[:50]:
        rows = []
        for environment in ids[:50]:
            result = serving_windows(
                store, project, entry["model"], start, now, None, environment=environment
            )
            if result.windows:
                window = result.windows[0].to_dict()
                rows.append(
                    {
                        "environment": environment,
                        "name": names[environment],
                        **{k: window[k] for k in _ENV_KEYS},
                    }
                )
        if rows:
            models.append({"model": entry["model"], "environments": rows})
    packages = sorted({name for e in environments for name in e["packages"]})
    differing = [
        name for name in packages if len({e["packages"].get(name) for e in environments}) > 1
    ]
    return {
        "project": project,
        "range": picked.name,
        "start": start.isoformat(),
        "end": now.isoformat(),
        "environments": environments,
        "packages_differing": differing,
        "models": models,
    }
