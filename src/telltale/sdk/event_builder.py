"""Turning the raw records of the buffer into columns of protocol events, on the background thread.

This is where the work skipped on the calling thread happens: binding arguments to feature
names, mapping outputs, running the output checks (which may turn ``ok`` into ``invalid``),
redaction, formatting ids, timestamps and trace ids. Batch calls become one event per row, each
with the call's ``latency_ms`` and ``batch_size``.

It is built for throughput, because every microsecond here is taken from the model's threads
(the GIL): the records are pulled apart into fields by one ``zip``, each field becomes a list in
one comprehension, and a call's features dict is handed over as it is, to be pulled apart into
columns for the whole batch at once (:func:`~telltale.sdk.event_columns.columns_of`). Values are
coerced later, a column at a time, where they are encoded. Records the quick path does not cover
— batch calls, and any chunk in which something raised — are built one at a time, with each
problem caught and logged.

Timestamps come from ``perf_counter_ns`` read at the start of the call, placed on the wall clock
by one reading of both clocks per drain, so the calling thread never reads the wall clock.
Records are built 256 at a time and the thread yields the GIL between those chunks.

Nothing here may fail a whole batch: a record whose arguments cannot be read is still recorded,
with empty inputs, and the problem is logged.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from typing import Any

from telltale.sdk.call_site import FALLBACK, INVALID, OK, CallSite, Record
from telltale.sdk.checks import run_checks
from telltale.sdk.event_columns import NO_REASONS, EventColumns, columns_of
from telltale.sdk.event_ids import EventIds
from telltale.sdk.inputs import columns_to_rows, records_of
from telltale.sdk.outputs import map_output, plain_sequence
from telltale.sdk.rate_limited_log import RateLimitedLog
from telltale.sdk.redaction import Redactor
from telltale.sdk.timestamps import wall_offset_ns
from telltale.sdk.tracing import span_ids
from telltale.sdk.values import ABSENT, PLAIN_TYPES

__all__ = ["CHUNK", "EventBuilder", "describe_error"]

log = RateLimitedLog(logging.getLogger("telltale.sdk"))

CHUNK = 256
"""Records built between two yields of the GIL (about a quarter of a millisecond)."""

_ANSWERED = (OK, FALLBACK)
_NO_TRACE = (None, None)

Event = tuple[Any, ...]
"""One event of the careful path: (number, ts_us, latency_ms, status, error, validation, span
context, segment, batch_size, input row, output row)."""


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


def _traces(contexts: Sequence[Any]) -> tuple[list[str | None], list[str | None]]:
    """Trace and span id columns; calls made in one span share its context object."""
    size = len(contexts)
    if contexts.count(None) == size:
        return [None] * size, [None] * size
    seen: dict[int, tuple[str | None, str | None]] = {}
    trace_ids: list[str | None] = []
    span_ids_: list[str | None] = []
    for context in contexts:
        key = id(context)  # the records keep every context alive: ids are not reused meanwhile
        found = seen.get(key)
        if found is None:
            found = seen[key] = span_ids(context) if context is not None else _NO_TRACE
        trace_ids.append(found[0])
        span_ids_.append(found[1])
    return trace_ids, span_ids_


def _output_row(site: CallSite, value: Any) -> Mapping[Any, Any]:
    """The ``outputs`` of an answered call, before coercion (a result dict as it is)."""
    if site.outputs is None:
        kind = type(value)
        if kind is dict:
            return value
        if kind in PLAIN_TYPES:
            return {"prediction": value}
        return map_output(value)
    mapped = site.outputs(value)
    return mapped if isinstance(mapped, Mapping) else {"prediction": mapped}


class EventBuilder:
    """Builds the event columns of one monitor (model, version, segment, redaction, id space)."""

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
        self._segments: dict[CallSite, dict[str, str]] = {}

    def build(
        self,
        records: list[Record],
        *,
        environment_id: str | None,
        wall_now: float,
        perf_now_ns: int,
    ) -> EventColumns:
        """The events of ``records``; ``wall_now`` and ``perf_now_ns`` were read together."""
        offset = wall_offset_ns(wall_now, perf_now_ns)
        built = EventColumns()
        for begin in range(0, len(records), CHUNK):
            if begin:
                time.sleep(0)  # let the model's threads take the GIL
            chunk = records[begin : begin + CHUNK]
            part = self._quick(chunk, offset)
            if part is None:
                part = self._careful(chunk, offset, wall_now)
            built.extend(part)
        size = len(built)
        built.model = [self.model] * size
        built.version = [self.version] * size
        built.environment_id = [environment_id] * size
        return built

    def _segment_of(self, site: CallSite) -> dict[str, str]:
        segment = self._segments.get(site)
        if segment is None:
            segment = {**self.segment, **site.segment} if site.segment else self.segment
            if len(self._segments) > 4096:  # sites made on the fly (observe with options)
                self._segments.clear()
            self._segments[site] = segment
        return segment

    # -- the quick path: calls that are not batch calls ----------------------------------------

    def _quick(self, records: list[Record], offset: int) -> EventColumns | None:
        fields = tuple(zip(*records, strict=True))
        sites, numbers, starts, ends, args, kwargs, results, errors, statuses, contexts, _ = fields
        unique = set(sites)
        if any(site.batch for site in unique):
            return None
        try:
            inputs, sparse_inputs = self._quick_inputs(unique, sites, args, kwargs)
            outputs, sparse_outputs = self._quick_outputs(unique, sites, results, statuses)
        except Exception:
            return None  # the careful path finds the record and logs what went wrong
        size = len(records)
        status_column = list(statuses)
        validation = [NO_REASONS] * size
        if any(site.checks for site in unique):
            for index, site in enumerate(sites):
                if site.checks and status_column[index] == OK:
                    reasons = run_checks(site.checks, results[index])
                    if reasons:
                        status_column[index] = INVALID
                        validation[index] = reasons
        if len(unique) == 1:
            segments = [self._segment_of(sites[0])] * size
        else:
            segments = [self._segment_of(site) for site in sites]
        trace_ids, span_id_column = _traces(contexts)
        columns = EventColumns(
            event_id=self.ids.format_many(list(numbers)),
            ts_us=[(start + offset) // 1000 for start in starts],
            latency_ms=[(end - start) / 1e6 for start, end in zip(starts, ends, strict=True)],
            status=status_column,
            error=(
                list(errors)
                if errors.count(None) == size
                else [describe_error(error) for error in errors]
            ),
            validation=validation,
            trace_id=trace_ids,
            span_id=span_id_column,
            segment=segments,
            batch_size=[1] * size,
        )
        columns.set_named("input", self.redactor.apply_columns(inputs), sparse_inputs)
        columns.set_named("output", outputs, sparse_outputs)
        return columns

    def _quick_inputs(
        self,
        unique: set[CallSite],
        sites: Sequence[CallSite],
        args: Sequence[tuple[Any, ...]],
        kwargs: Sequence[dict[str, Any] | None],
    ) -> tuple[dict[str, list[Any]], set[str]]:
        if len(unique) != 1:
            rows = [
                site.binder.features(arguments, keywords)
                for site, arguments, keywords in zip(sites, args, kwargs, strict=True)
            ]
            return columns_of(rows)
        binder = sites[0].binder
        size = len(args)
        positional = binder.positional
        if positional is not None:
            names, first, count = positional
            if kwargs.count(None) == size and set(map(len, args)) == {count}:
                by_position = list(zip(*args, strict=True))  # one tuple per parameter
                return {
                    name: list(by_position[first + offset]) for offset, name in enumerate(names)
                }, set()
        mapping = binder.mapping_argument
        single = binder.single
        if mapping is None:
            return columns_of(list(map(single, args, kwargs)))
        index, count = mapping
        rows = [
            arguments[index]
            if keywords is None and len(arguments) == count and type(arguments[index]) is dict
            else single(arguments, keywords)
            for arguments, keywords in zip(args, kwargs, strict=True)
        ]
        return columns_of(rows)

    def _quick_outputs(
        self,
        unique: set[CallSite],
        sites: Sequence[CallSite],
        results: Sequence[Any],
        statuses: Sequence[str],
    ) -> tuple[dict[str, list[Any]], set[str]]:
        size = len(results)
        answered = statuses.count(OK) + statuses.count(FALLBACK)
        scalar = all(site.outputs is None for site in unique) and set(map(type, results)) <= (
            PLAIN_TYPES
        )
        if scalar and answered == size:
            return {"prediction": list(results)}, set()
        if scalar and answered:
            predictions = [
                result if status in _ANSWERED else ABSENT
                for result, status in zip(results, statuses, strict=True)
            ]
            return {"prediction": predictions}, {"prediction"}
        if not answered:
            return {}, set()
        rows = [
            _output_row(site, result) if status in _ANSWERED else {}
            for site, result, status in zip(sites, results, statuses, strict=True)
        ]
        return columns_of(rows)

    # -- the careful path: batch calls, and chunks where something raised ------------------------

    def _careful(self, records: list[Record], offset: int, wall_now: float) -> EventColumns:
        events: list[Event] = []
        for record in records:
            try:
                events.extend(self._events(record, offset))
            except Exception as error:  # a bug here must not lose the call
                events.append(self._fallback_event(record, wall_now, error))
        (
            numbers,
            ts_us,
            latency_ms,
            statuses,
            errors,
            validation,
            contexts,
            segments,
            batch_sizes,
            input_rows,
            output_rows,
        ) = (list(field) for field in zip(*events, strict=True))
        trace_ids, span_id_column = _traces(contexts)
        columns = EventColumns(
            event_id=self.ids.format_many(numbers),
            ts_us=ts_us,
            latency_ms=latency_ms,
            status=statuses,
            error=errors,
            validation=validation,
            trace_id=trace_ids,
            span_id=span_id_column,
            segment=segments,
            batch_size=batch_sizes,
        )
        inputs, sparse_inputs = columns_of(input_rows)
        columns.set_named("input", self.redactor.apply_columns(inputs), sparse_inputs)
        columns.set_named("output", *columns_of(output_rows))
        return columns

    def _events(self, record: Record, offset: int) -> list[Event]:
        site, number, start, end, args, kwargs, result, error, status, context, rows = record
        ts_us = (start + offset) // 1000
        latency_ms = (end - start) / 1e6
        segment = self._segment_of(site)
        error_text = describe_error(error)
        answered = status in _ANSWERED
        if not site.batch:
            try:
                inputs: Mapping[Any, Any] = site.binder.single(args, kwargs)
            except Exception as failure:
                inputs = self._unreadable(site, failure)
            outputs = self._safe_outputs(site, result) if answered else {}
            status, validation = self._checked(site, status, result, NO_REASONS)
            return [
                (
                    number,
                    ts_us,
                    latency_ms,
                    status,
                    error_text,
                    validation,
                    context,
                    segment,
                    1,
                    inputs,
                    outputs,
                )
            ]
        try:
            input_rows: list[dict[str, Any]] = site.binder.rows(args, kwargs)
        except Exception as failure:
            input_rows = []
            self._unreadable(site, failure)
        output_rows = _split_outputs(result) if answered else None
        count = len(output_rows) if output_rows is not None else max(len(input_rows), 1)
        shared = NO_REASONS
        if output_rows is not None and input_rows and len(output_rows) != len(input_rows):
            shared = [
                f"batch call returned {len(output_rows)} outputs for {len(input_rows)} input rows"
            ]
        numbers = self._batch_numbers(number, rows, count)
        events: list[Event] = []
        for index in range(count):
            value = output_rows[index] if output_rows is not None else None
            row_status, validation = self._checked(site, status, value, shared)
            events.append(
                (
                    numbers[index],
                    ts_us,
                    latency_ms,
                    row_status,
                    error_text,
                    validation,
                    context,
                    segment,
                    count,
                    input_rows[index] if index < len(input_rows) else {},
                    self._safe_outputs(site, value) if answered else {},
                )
            )
        return events

    @staticmethod
    def _checked(
        site: CallSite, status: str, value: Any, reasons: list[str]
    ) -> tuple[str, list[str]]:
        if status == OK and site.checks:
            found = run_checks(site.checks, value)
            if found:
                reasons = reasons + found
        if status == OK and reasons:
            status = INVALID
        return status, reasons

    def _safe_outputs(self, site: CallSite, value: Any) -> Mapping[Any, Any]:
        try:
            return _output_row(site, value)
        except Exception as error:
            log.warning(
                f"outputs-{site.name}",
                "telltale: cannot map the output of %s (%s: %s); recorded without outputs",
                site.name,
                type(error).__name__,
                error,
            )
            return {}

    def _batch_numbers(self, first: int | None, reserved: int | None, count: int) -> list[int]:
        if first is None or not reserved:
            first, reserved = self.ids.reserve_block(count), count
        numbers = list(range(first, first + min(reserved, count)))
        if count > reserved:
            extra = self.ids.reserve_block(count - reserved)
            numbers += range(extra, extra + count - reserved)
        return numbers

    def _unreadable(self, site: CallSite, failure: Exception) -> dict[str, Any]:
        log.warning(
            f"inputs-{site.name}",
            "telltale: cannot read the inputs of %s (%s: %s); recorded without inputs",
            site.name,
            type(failure).__name__,
            failure,
        )
        return {}

    def _fallback_event(self, record: Record, wall_now: float, error: Exception) -> Event:
        log.error(
            "build",
            "telltale: could not build an event (%s: %s); recorded with its status only",
            type(error).__name__,
            error,
        )
        number = record[1]
        if not isinstance(number, int):
            number = self.ids.reserve_block(1)
        status = record[8] if isinstance(record[8], str) else "error"
        reason = f"telltale could not record this call: {describe_error(error)}"
        ts_us = round(wall_now * 1_000_000)
        return (number, ts_us, None, status, reason, NO_REASONS, None, self.segment, 1, {}, {})


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
