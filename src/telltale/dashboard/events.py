"""Page data of the events explorer and of one event.

Raw events are read from the model's own table (``tt_events_<id>``), always within a time range
and with ``LIMIT``, newest first, paged by a keyset cursor (``before=<µs>_<event id>``) so the
hundredth page costs what the first does. Every value is a query parameter; only the table and
column names (which the store generated) are written into the SQL.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any

from telltale.dashboard.health import require_model
from telltale.dashboard.web import PageError
from telltale.store.events import EventStore

__all__ = ["PAGE_SIZE", "STATUSES", "event_data", "events_data", "parse_cursor"]

PAGE_SIZE = 50
STATUSES = ("ok", "error", "invalid", "timeout", "fallback")
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_LIST_COLUMNS = (
    "CAST(event_id AS VARCHAR) AS event_id, epoch_us(ts) AS ts_us, version, environment_id, "
    "status, latency_ms, error, validation, trace_id, segment, prediction_class, prediction_value"
)


def _iso(micros: int) -> str:
    return (_EPOCH + timedelta(microseconds=int(micros))).isoformat()


def _us(value: datetime) -> int:
    return int((value - _EPOCH) / timedelta(microseconds=1))


def parse_cursor(value: str | None) -> tuple[int, str] | None:
    """``<µs>_<event id>`` of the last event of the previous page."""
    if value is None:
        return None
    micros, sep, event_id = value.partition("_")
    try:
        if not sep:
            raise ValueError
        return int(micros), str(uuid.UUID(event_id))
    except ValueError:
        raise PageError(
            400,
            "before is not a cursor of this explorer; use the 'older' link of a page",
            field="before",
        ) from None


def _where(
    filters: dict[str, Any], status: str | None, validation: str | None
) -> tuple[list[str], list[Any]]:
    where: list[str] = []
    params: list[Any] = []
    if filters.get("version") is not None:
        where.append("version = ?")
        params.append(filters["version"])
    if filters.get("environment") is not None:
        where.append("environment_id = ?")
        params.append(filters["environment"])
    for tag, value in (filters.get("segment") or {}).items():
        where.append("map_extract_value(segment, ?) = ?")
        params += [tag, value]
    if status is not None:
        where.append("status = ?")
        params.append(status)
    if validation == "any":
        where.append("len(validation) > 0")
    elif validation == "none":
        where.append("len(validation) = 0")
    elif validation is not None:
        where.append("list_contains(validation, ?)")
        params.append(validation)
    return where, params


def _row(names: list[str], values: tuple[Any, ...]) -> dict[str, Any]:
    row = dict(zip(names, values, strict=True))
    row["ts"] = _iso(row.pop("ts_us"))
    row["segment"] = dict(row["segment"] or {})
    row["validation"] = list(row["validation"] or [])
    return row


def events_data(
    store: EventStore,
    project: str,
    model: str | None,
    start: datetime,
    end: datetime,
    filters: dict[str, Any],
    status: str | None,
    validation: str | None,
    before: tuple[int, str] | None,
) -> dict[str, Any]:
    """One page of the events matching the filters in ``[start, end)``, newest first, with the
    validation failures seen in the range (for the filter's choices)."""
    models = [m["model"] for m in store.models(project)]
    if model is None:
        model = models[0] if models else None
    if model is None:
        events: list[dict[str, Any]] = []
        return {
            "project": project, "models": [], "model": None, "events": events,
            "next": None, "validation_failures": [], "query": {},
        }  # fmt: skip
    entry = require_model(store, project, model)
    if start >= end:
        raise PageError(400, "start must be before end", field="start")
    table = store.model_table(project, model).table_name
    where, params = _where(filters, status, validation)
    where = ["ts >= ?", "ts < ?", *where]
    params = [start, end, *params]
    page_where, page_params = list(where), list(params)
    if before is not None:
        page_where.append(
            "(epoch_us(ts) < ? OR (epoch_us(ts) = ? AND CAST(event_id AS VARCHAR) < ?))"
        )
        page_params += [before[0], before[0], before[1]]
    cursor = store.cursor()
    try:
        result = cursor.execute(
            f"""SELECT {_LIST_COLUMNS} FROM {table} WHERE {" AND ".join(page_where)}
            ORDER BY ts DESC, CAST(event_id AS VARCHAR) DESC LIMIT {PAGE_SIZE + 1}""",
            page_params,
        )
        names = [d[0] for d in result.description]
        rows = [_row(names, r) for r in result.fetchall()]
        failures = cursor.execute(
            f"""SELECT failure, count(*) AS n FROM (
                SELECT unnest(validation) AS failure FROM {table}
                WHERE ts >= ? AND ts < ? AND len(validation) > 0 LIMIT 100000)
            GROUP BY failure ORDER BY n DESC, failure LIMIT 30""",
            [start, end],
        ).fetchall()
    finally:
        cursor.close()
    following = None
    if len(rows) > PAGE_SIZE:
        rows = rows[:PAGE_SIZE]
        last = rows[-1]
        micros = _us(datetime.fromisoformat(last["ts"]))
        following = f"{micros}_{last['event_id']}"
    return {
        "project": project,
        "models": models,
        "model": model,
        "versions": entry["versions"],
        "start": start.isoformat(),
        "end": end.isoformat(),
        "filters": {k: v for k, v in filters.items() if v is not None},
        "status": status,
        "validation": validation,
        "statuses": list(STATUSES),
        "validation_failures": [{"failure": f, "events": int(n)} for f, n in failures],
        "events": rows,
        "page_size": PAGE_SIZE,
        "next": following,
    }


def event_data(store: EventStore, project: str, model: str, event_id: str) -> dict[str, Any]:
    """One event: inputs, outputs, validation, error, label and feedback, trace and span ids."""
    require_model(store, project, model)
    try:
        wanted = str(uuid.UUID(event_id))
    except ValueError:
        raise PageError(
            400, f"{event_id[:60]!r} is not an event id (a UUID)", field="event_id"
        ) from None
    table = store.model_table(project, model)
    features = [c for c in table.columns.values() if c.type != "NULL"]
    picked = ", ".join(
        [_LIST_COLUMNS, "span_id", "batch_size", "extra"] + [c.column_name for c in features]
    )
    cursor = store.cursor()
    try:
        result = cursor.execute(
            f"SELECT {picked} FROM {table.table_name} WHERE event_id = CAST(? AS UUID) LIMIT 1",
            [wanted],
        )
        names = [d[0] for d in result.description]
        found = result.fetchone()
        if found is None:
            raise PageError(404, f"no event {wanted} of model {model[:200]!r} in this project")
        label = cursor.execute(
            """SELECT label, label_number, epoch_us(ts) FROM tt_labels
            WHERE project = ? AND event_id = CAST(? AS UUID) LIMIT 1""",
            [project, wanted],
        ).fetchone()
        feedback = cursor.execute(
            """SELECT score, epoch_us(ts) FROM tt_feedback
            WHERE project = ? AND event_id = CAST(? AS UUID) LIMIT 1""",
            [project, wanted],
        ).fetchone()
    finally:
        cursor.close()
    raw = dict(zip(names, found, strict=True))
    inputs = {c.name: raw[c.column_name] for c in features if c.role == "input"}
    outputs = {c.name: raw[c.column_name] for c in features if c.role == "output"}
    extra = raw.get("extra")
    if extra:
        try:
            misfits = json.loads(extra)
        except ValueError:
            misfits = {"extra": extra}
    else:
        misfits = {}
    event = _row(names[: len(_LIST_COLUMNS.split(", "))], found[: len(_LIST_COLUMNS.split(", "))])
    return {
        "project": project,
        "model": model,
        "event": {
            **event,
            "span_id": raw["span_id"],
            "batch_size": raw["batch_size"],
            "inputs": inputs,
            "outputs": outputs,
            "other_values": misfits,
            "label": None
            if label is None
            else {"label": label[0], "label_number": label[1], "ts": _iso(label[2])},
            "feedback": None
            if feedback is None
            else {"score": feedback[0], "ts": _iso(feedback[1])},
        },
    }
