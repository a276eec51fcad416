"""Page data of one feature: reference vs current distribution, its drift statistic over time,
and the data-quality issues of the column.

The distribution is the report's (:mod:`telltale.report.build`: shares on display bins, or the
top categories) so a column looks the same in a report and here; the current side is one scan of
that column's events in the range, profiled on the reference's bins.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from telltale.analysis.drift.table import detect_drift
from telltale.analysis.profile import TableProfile
from telltale.analysis.profiling import plan_profile, run_plan
from telltale.analysis.quality import check_quality
from telltale.dashboard.drift import drift_over_time, load_reference, newest_reference
from telltale.dashboard.health import minute, require_model
from telltale.dashboard.params import TimeRange
from telltale.dashboard.web import PageError
from telltale.report.build import _chart as distribution_chart  # the report's own binning
from telltale.store.events import EventStore

__all__ = ["feature_data"]


def feature_data(
    store: EventStore,
    project: str,
    model: str,
    feature: str,
    now: datetime,
    picked: TimeRange,
    filters: dict[str, Any],
    reference_name: str | None = None,
) -> dict[str, Any]:
    entry = require_model(store, project, model)
    if feature not in entry["features"]:
        raise PageError(
            404,
            f"model {model[:200]!r} has no feature {feature[:200]!r}; its Model page lists them",
        )
    now = minute(now)
    start = now - picked.length
    out: dict[str, Any] = {
        "project": project,
        "model": model,
        "feature": feature,
        "type": entry["features"][feature],
        "range": picked.name,
        "start": start.isoformat(),
        "end": now.isoformat(),
        "filters": {k: v for k, v in filters.items() if v is not None},
        "references": [r["name"] for r in store.references(project, model)],
        "reference": None,
        "distribution": None,
        "drift": None,
        "over_time": None,
        "quality": None,
    }
    reference = newest_reference(store, project, model, reference_name)
    if reference_name is not None and reference is None:
        raise PageError(404, f"model {model[:200]!r} has no reference {reference_name[:200]!r}")
    table = store.events_relation(project, model, start, now, **filters)
    profile = load_reference(store, project, model, reference) if reference else None
    in_reference = profile is not None and feature in profile.columns
    plan = plan_profile(table, columns=[feature], reference=profile if in_reference else None)
    current = run_plan(table, plan, source=f"{model} {feature}")
    column = current.columns[feature]
    out["rows"] = current.row_count
    out["current"] = {
        "rows": column.row_count,
        "missing": column.missing_count,
        "missing_rate": column.missing_rate,
    }
    if profile is None or reference is None:
        out["distribution"] = distribution_chart(None, column) if current.row_count else None
        return out
    out["reference"] = reference
    if not in_reference:
        out["reference_note"] = f"the reference {reference['name']!r} has no column {feature!r}"
        out["distribution"] = distribution_chart(None, column) if current.row_count else None
        return out
    trimmed = TableProfile(profile.row_count, {feature: profile.columns[feature]}, profile.source)
    if current.row_count:
        out["distribution"] = distribution_chart(profile.columns[feature], column)
        drift = detect_drift(trimmed, current, [feature])
        found = drift.columns.get(feature)
        out["drift"] = found.to_dict() if found else None
        if feature in drift.errors:
            out["drift_error"] = drift.errors[feature]
        quality = check_quality(trimmed, current)
        out["quality"] = {
            "column": quality.columns[feature].to_dict() if feature in quality.columns else None,
            "issues": [i.to_dict() for i in quality.issues if i.column in (feature, None)],
        }
    over = drift_over_time(store, project, model, reference, start, now, filters)
    series = over["features"].get(feature)
    out["over_time"] = {"windows": over["windows"], "pending": over["pending"], **(series or {})}
    return out
