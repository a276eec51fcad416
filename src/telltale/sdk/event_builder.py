"""Turning the raw records of the buffer into protocol events, on the background thread.

This is where the work skipped on the calling thread happens: binding arguments to feature
names, mapping outputs, running the output checks (which may turn ``ok`` into ``invalid``),
redaction, coercion to wire values, formatting ids, timestamps and trace ids. Batch calls become
one event per row, each with the call's ``latency_ms`` and ``batch_size``.

Timestamps come from ``perf_counter_ns`` read at the start of the call, placed on the wall clock
by one reading of both clocks per drain, so the calling thread never reads the wall clock.

Nothing here may fail a whole batch: a record whose arguments cannot be read is still recorded,
with empty inputs, and the problem is logged.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

from telltale.sdk.call_site import FALLBACK, INVALID, OK, CallSite, Record
from telltale.sdk.checks import run_checks
from telltale.sdk.event_ids import EventIds
from telltale.sdk.inputs import columns_to_rows, records_of
from telltale.sdk.outputs import map_output, plain_sequence
from telltale.sdk.rate_limited_log import RateLimitedLog
from telltale.sdk.redaction import Redactor
from telltale.sdk.tracing import span_ids
from telltale.sdk.values import wire_value

__all__ = ["EventBuilder", "describe_error", "iso_time"]

log = RateLimitedLog(logging.getLogger("telltale.sdk"))


_last_second: list[tuple[int, str]] = [(-1 << 62, "")]


def iso_time(epoch_seconds: float) -> str:
    """``2026-11-22T14:02:00.123456Z``."""
    second, fraction = divmod(round(epoch_seconds * 1_000_000), 1_000_000)
    cached_second, text = _last_second[0]  # events come in bursts: format each second once
    if cached_second != second:
        text = datetime.fromtimestamp(second, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
        _last_second[0] = (second, text)  # one tuple: threads never see half an update
    return f"{text}.{fraction:06d}Z"


def describe_error(error: Any) -> str | None:
    """``"ValueError: bad row"`` for an exception; a string reason as it is."""
    if error is None:
        return None
    if isinstance(error, str):
        return error
    try:
        text = str(error)
    except Exception:
        text = "<unprintable>"
    name = type(error).__name__
    return f"{name}: {text}" if text else name


def _wire_mapping(values: Mapping[str, Any]) -> dict[str, Any]:
    return {str(key): wire_value(value) for key, value in values.items()}


class EventBuilder:
    """Builds event rows for one monitor (model, version, segment, redaction, id space)."""

    def __init__(
        self,
        *,
        model: str,
        version: str,
        segment: Mapping[str, str],
        redactor: Redactor,
        ids: EventIds,
    ) -> None:
        self.model = model
        self.version = version
        self.segment = dict(segment)
        self.redactor = redactor
        self.ids = ids

    def build(
        self,
        records: list[Record],
        *,
        environment_id: str | None,
        wall_now: float,
        perf_now_ns: int,
    ) -> list[dict[str, Any]]:
        events: list[dict[str, Any]] = []
        for index, record in enumerate(records):
            if index & 63 == 63:
                time.sleep(0)  # let the model's threads take the GIL: at most ~0.5 ms held
            try:
                events.extend(self._events(record, environment_id, wall_now, perf_now_ns))
            except Exception as error:  # a bug here must not lose the call
                events.append(self._fallback_event(record, environment_id, wall_now, error))
        return events

    def _base(
        self,
        site: CallSite,
        start: int,
        end: int,
        span: Any,
        environment_id: str | None,
        wall_now: float,
        perf_now_ns: int,
    ) -> dict[str, Any]:
        trace_id, span_id = span_ids(span)
        segment = {**self.segment, **site.segment} if site.segment else self.segment
        return {
            "ts": iso_time(wall_now - (perf_now_ns - start) / 1e9),
            "model": self.model,
            "version": self.version,
            "environment_id": environment_id,
            "latency_ms": (end - start) / 1e6,
            "trace_id": trace_id,
            "span_id": span_id,
            "segment": segment,
        }

    def _inputs(self, row: Mapping[str, Any]) -> dict[str, Any]:
        plain = {str(key): value for key, value in row.items()}
        return _wire_mapping(self.redactor.apply(plain) if self.redactor else plain)

    def _outputs(self, site: CallSite, value: Any) -> dict[str, Any]:
        if site.outputs is None:
            return map_output(value)
        mapped = site.outputs(value)
        if not isinstance(mapped, Mapping):
            return {"prediction": wire_value(mapped)}
        return _wire_mapping(mapped)

    def _checked(
        self, site: CallSite, status: str, value: Any, reasons: list[str]
    ) -> tuple[str, list[str]]:
        if status == OK and site.checks:
            reasons = reasons + run_checks(list(site.checks), value)
        if status == OK and reasons:
            status = INVALID
        return status, reasons

    def _safe_outputs(self, site: CallSite, value: Any) -> dict[str, Any]:
        try:
            return self._outputs(site, value)
        except Exception as error:
            log.warning(
                f"outputs-{site.name}",
                "telltale: cannot map the output of %s (%s: %s); recorded without outputs",
                site.name,
                type(error).__name__,
                error,
            )
            return {}

    def _events(
        self, record: Record, environment_id: str | None, wall_now: float, perf_now_ns: int
    ) -> list[dict[str, Any]]:
        site, number, start, end, args, kwargs, result, error, status, span, rows = record
        base = self._base(site, start, end, span, environment_id, wall_now, perf_now_ns)
        error_text = describe_error(error)
        answered = status in (OK, FALLBACK)
        if not site.batch:
            try:
                inputs = self._inputs(site.binder.single(args, kwargs))
            except Exception as failure:
                inputs = self._unreadable(site, failure)
            outputs = self._safe_outputs(site, result) if answered else {}
            status, validation = self._checked(site, status, result, [])
            return [
                {
                    "event_id": self.ids.format(number),
                    **base,
                    "inputs": inputs,
                    "outputs": outputs,
                    "status": status,
                    "error": error_text,
                    "validation": validation,
                    "batch_size": 1,
                }
            ]
        try:
            input_rows = site.binder.rows(args, kwargs)
        except Exception as failure:
            input_rows = []
            self._unreadable(site, failure)
        output_rows = _split_outputs(result) if answered else None
        count = len(output_rows) if output_rows is not None else max(len(input_rows), 1)
        shared: list[str] = []
        if output_rows is not None and input_rows and len(output_rows) != len(input_rows):
            shared.append(
                f"batch call returned {len(output_rows)} outputs for {len(input_rows)} input rows"
            )
        ids = self._batch_ids(number, rows, count)
        events = []
        for index in range(count):
            value = output_rows[index] if output_rows is not None else None
            row_status, validation = self._checked(site, status, value, shared)
            events.append(
                {
                    "event_id": ids[index],
                    **base,
                    "inputs": self._inputs(input_rows[index]) if index < len(input_rows) else {},
                    "outputs": self._safe_outputs(site, value) if answered else {},
                    "status": row_status,
                    "error": error_text,
                    "validation": validation,
                    "batch_size": count,
                }
            )
        return events

    def _batch_ids(self, first: int | None, reserved: int | None, count: int) -> list[str]:
        if first is None or not reserved:
            first, reserved = self.ids.reserve_block(count), count
        ids = self.ids.format_block(first, min(reserved, count))
        if count > reserved:
            ids += self.ids.format_block(self.ids.reserve_block(count - reserved), count - reserved)
        return ids

    def _unreadable(self, site: CallSite, failure: Exception) -> dict[str, Any]:
        log.warning(
            f"inputs-{site.name}",
            "telltale: cannot read the inputs of %s (%s: %s); recorded without inputs",
            site.name,
            type(failure).__name__,
            failure,
        )
        return {}

    def _fallback_event(
        self, record: Record, environment_id: str | None, wall_now: float, error: Exception
    ) -> dict[str, Any]:
        log.error(
            "build",
            "telltale: could not build an event (%s: %s); recorded with its status only",
            type(error).__name__,
            error,
        )
        number = record[1]
        event_id = self.ids.format(number if number is not None else self.ids.reserve_block(1))
        return {
            "event_id": event_id,
            "ts": iso_time(wall_now),
            "model": self.model,
            "version": self.version,
            "environment_id": environment_id,
            "inputs": {},
            "outputs": {},
            "latency_ms": None,
            "status": record[8] if isinstance(record[8], str) else "error",
            "error": f"telltale could not record this call: {describe_error(error)}",
            "validation": [],
            "trace_id": None,
            "span_id": None,
            "segment": self.segment,
            "batch_size": 1,
        }


def _split_outputs(result: Any) -> list[Any]:
    """One output per row of a batch call's result."""
    if isinstance(result, Mapping):
        return list(columns_to_rows(result))
    records = records_of(result)
    if records is not None:
        return list(records)
    listed = plain_sequence(result)
    if listed is not None:
        return listed
    return [result]
