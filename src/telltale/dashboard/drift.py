"""Drift for the pages: the newest reference, and drift per feature over a few windows.

Drift needs the raw values (one scan of each window's events, :func:`window_drift`), so the
pages bound it: at most :data:`MAX_WINDOWS` windows, computed newest first for at most
:data:`BUDGET_S` seconds per page and the rest by one background thread (the page shows them
as being computed); each window's answer is kept ten minutes (a past window only changes when
late events arrive), so reloading a page, moving between features or picking a range again
costs no new scan. Measured on 10M events (benchmarks/query_windows.py's store, 16 features):
a 14-hour window of 830k events takes ~0.5 s, so a cold 7-day heatmap fills in ~6 s.
"""

from __future__ import annotations

import json
import threading
import time
from collections import OrderedDict
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any

from telltale.analysis.profile import TableProfile
from telltale.analysis.windows import WindowDrift, window_drift
from telltale.errors import ProfileError
from telltale.store.events import EventStore

__all__ = [
    "BUDGET_S",
    "MAX_WINDOWS",
    "drift_over_time",
    "load_reference",
    "newest_reference",
    "window_drift_within",
]

MAX_WINDOWS = 12
BUDGET_S = 0.3
"""Seconds a page spends computing drift windows itself; the rest go to the background."""
_TTL_S = 600.0
_CACHE_SIZE = 512

_lock = threading.Lock()
_worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="telltale-drift")
_pending: dict[tuple[Any, ...], Future[WindowDrift]] = {}
_profiles: OrderedDict[tuple[Any, ...], TableProfile] = OrderedDict()
_windows: OrderedDict[tuple[Any, ...], tuple[float, WindowDrift]] = OrderedDict()


def newest_reference(
    store: EventStore, project: str, model: str, name: str | None = None
) -> dict[str, Any] | None:
    """The reference named ``name``, or the newest one saved for ``model`` (None: none)."""
    found = store.references(project, model)
    if name is not None:
        return next((r for r in found if r["name"] == name), None)
    return max(found, key=lambda r: r["created"]) if found else None


def load_reference(
    store: EventStore, project: str, model: str, reference: dict[str, Any]
) -> TableProfile:
    """The reference's profile, parsed once per saved version."""
    key = (id(store), project, model, reference["name"], reference["created"])
    with _lock:
        if key in _profiles:
            _profiles.move_to_end(key)
            return _profiles[key]
    data = store.load_reference(project, model, reference["name"])
    source = f"reference {reference['name']!r}"
    if data[:2] == b"\x1f\x8b":
        profile = TableProfile.from_bytes(data, source=source)
    else:  # saved uncompressed (as window_drift also accepts)
        try:
            profile = TableProfile.from_dict(json.loads(data))
        except ValueError as error:
            raise ProfileError(f"cannot read profile {source}: {error}") from None
    with _lock:
        _profiles[key] = profile
        while len(_profiles) > 32:
            _profiles.popitem(last=False)
    return profile


def _window_key(
    store: EventStore, project: str, model: str, reference: dict[str, Any],
    start: datetime, end: datetime, filters: dict[str, Any],
) -> tuple[Any, ...]:  # fmt: skip
    segment = tuple(sorted((filters.get("segment") or {}).items()))
    return (
        id(store), project, model, reference["name"], reference["created"],
        start, end, filters.get("version"), filters.get("environment"), segment,
    )  # fmt: skip


def _compute(key: tuple[Any, ...], store: EventStore, args: tuple[Any, ...]) -> WindowDrift:
    project, model, profile, start, end, filters = args
    try:
        result = window_drift(store, project, model, profile, start, end, **filters)
        with _lock:
            _windows[key] = (time.monotonic(), result)
            while len(_windows) > _CACHE_SIZE:
                _windows.popitem(last=False)
        return result
    finally:
        with _lock:
            _pending.pop(key, None)


def window_drift_within(
    store: EventStore,
    project: str,
    model: str,
    reference: dict[str, Any],
    profile: TableProfile,
    start: datetime,
    end: datetime,
    filters: dict[str, Any],
    deadline: float | None = None,
) -> WindowDrift | None:
    """The window's drift from the cache; else computed now while ``time.monotonic()`` is
    before ``deadline`` (None: always); else handed to the background worker, and ``None``
    (the page says it is being computed, and a reload shows it)."""
    key = _window_key(store, project, model, reference, start, end, filters)
    with _lock:
        hit = _windows.get(key)
        if hit is not None and time.monotonic() - hit[0] < _TTL_S:
            _windows.move_to_end(key)
            return hit[1]
        running = _pending.get(key)
    args = (project, model, profile, start, end, filters)
    if running is None and (deadline is None or time.monotonic() < deadline):
        return _compute(key, store, args)
    if running is None:
        with _lock:
            if key not in _pending:
                _pending[key] = _worker.submit(_compute, key, store, args)
    return None


def drift_over_time(
    store: EventStore,
    project: str,
    model: str,
    reference: dict[str, Any],
    start: datetime,
    end: datetime,
    filters: dict[str, Any],
    windows: int = MAX_WINDOWS,
    budget_s: float = BUDGET_S,
) -> dict[str, Any]:
    """Drift of every reference feature in ``windows`` equal windows of ``[start, end)``:
    ``{"windows": [{start, end, rows}], "features": {name: {"method", "threshold",
    "statistic": [...], "drift": [...]}}, "pending": n}``. A statistic is ``None`` where a
    window had no rows or is still being computed (``rows`` is then ``None`` too): windows are
    computed newest first for at most ``budget_s`` seconds, the rest in the background."""
    profile = load_reference(store, project, model, reference)
    windows = max(1, min(windows, MAX_WINDOWS))
    step = (end - start) / windows
    # whole minutes, so that the same range picked a minute later hits the cache
    step = timedelta(seconds=max(60, int(step.total_seconds() // 60) * 60))
    first = end - step * windows
    deadline = time.monotonic() + budget_s
    found: dict[int, WindowDrift | None] = {}
    for i in reversed(range(windows)):
        lo, hi = first + step * i, first + step * (i + 1)
        found[i] = window_drift_within(
            store, project, model, reference, profile, lo, hi, filters, deadline
        )
    out_windows: list[dict[str, Any]] = []
    features: dict[str, dict[str, Any]] = {
        name: {"method": None, "threshold": None, "statistic": [], "drift": []}
        for name in profile.columns
    }
    for i in range(windows):
        lo, hi = first + step * i, first + step * (i + 1)
        result = found[i]
        rows = None if result is None else result.rows
        out_windows.append({"start": lo.isoformat(), "end": hi.isoformat(), "rows": rows})
        for name, entry in features.items():
            column = result.drift.columns.get(name) if result is not None and rows else None
            if column is None:
                entry["statistic"].append(None)
                entry["drift"].append(False)
                continue
            entry["method"] = column.method
            entry["threshold"] = column.threshold
            entry["statistic"].append(column.statistic)
            entry["drift"].append(bool(column.drift))
    pending = sum(1 for r in found.values() if r is None)
    return {"windows": out_windows, "features": features, "pending": pending}
