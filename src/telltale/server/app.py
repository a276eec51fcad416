"""The collector: an ASGI app that takes events in, keeps them in one DuckDB file, and answers.

>>> from telltale.server import ServerSettings, create_app
>>> app = create_app(ServerSettings(db="telltale.duckdb"))  # doctest: +SKIP
>>> # uvicorn.run(app, host="127.0.0.1", port=8765)

The process owns the DuckDB file (DuckDB allows one writing process). Requests never write
themselves: ingest decodes the body on a worker thread, hands the batch to the group writer and
answers once it is committed (see :mod:`telltale.server.writer`). Reads run on their own cursors.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from telltale._version import __version__
from telltale.alerts.engine import AlertEngine
from telltale.alerts.source import StoreSource
from telltale.schema.wire import decode_feedback_json, decode_labels_json
from telltale.server.alerting import alerts_loop, install_alerts
from telltale.server.auth import Auth
from telltale.server.body import ARROW_STREAM, JSON, media_type, read_body
from telltale.server.decoding import Decoders
from telltale.server.error_shape import ApiError, install_error_handlers
from telltale.server.metrics import BatchDelta, MetricsState, render_metrics
from telltale.server.monitoring import monitor_loop
from telltale.server.openapi_docs import ingest_openapi, install_docs
from telltale.server.queries import install_queries
from telltale.server.references import install_references
from telltale.server.reports import install_reports
from telltale.server.settings import ServerSettings
from telltale.server.writer import GroupWriter
from telltale.store.alerts import AlertStore
from telltale.store.audit import AuditLog
from telltale.store.events import EventStore
from telltale.store.keys import KeyStore

__all__ = ["Collector", "create_app"]

log = logging.getLogger("telltale.server")


@dataclass
class Collector:
    """What a running server holds: the store, keys, audit log, writer and counters."""

    settings: ServerSettings
    store: EventStore
    keys: KeyStore
    audit: AuditLog
    writer: GroupWriter
    metrics: MetricsState
    decoders: Decoders
    alerts: AlertEngine

    @classmethod
    def open(cls, settings: ServerSettings) -> Collector:
        store = EventStore(settings.db, threads=settings.db_threads)
        metrics = MetricsState()

        def write_events(items: list[tuple[str, Any]]) -> list[Any]:
            return store.write([(project, job[0]) for project, job in items])

        def write_labels(items: list[tuple[str, Any]]) -> list[Any]:
            return [store.write_labels(project, table) for project, table in items]

        def write_feedback(items: list[tuple[str, Any]]) -> list[Any]:
            return [store.write_feedback(project, table) for project, table in items]

        writer = GroupWriter(
            {"events": write_events, "labels": write_labels, "feedback": write_feedback},
            max_group_events=settings.max_group_events,
            on_commit=lambda kind, seconds, n: metrics.record_commit(seconds),
        )
        metrics.queue_depth = lambda: writer.depth
        decoders = Decoders(settings.decode_processes)
        decoders.warm_up()
        audit = AuditLog(store)
        alerts = AlertEngine(
            AlertStore(store),
            StoreSource(store, dashboard_url=settings.public_url or None),
            audit=audit,
        )
        return cls(settings, store, KeyStore(store), audit, writer, metrics, decoders, alerts)

    def close(self) -> None:
        self.alerts.close()  # an alert round still running on a worker thread ends first
        self.decoders.close()
        self.writer.close()
        self.store.close()


def create_app(settings: ServerSettings | None = None) -> FastAPI:
    settings = settings or ServerSettings()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        collector = await run_in_threadpool(Collector.open, settings)
        app.state.collector = collector
        app.state.auth = Auth(collector.keys, collector.audit)
        tasks = [
            asyncio.create_task(_retention_loop(collector)),
            asyncio.create_task(monitor_loop(collector)),
        ]
        if settings.alert_interval_s > 0:
            tasks.append(asyncio.create_task(alerts_loop(collector, settings.alert_interval_s)))
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await run_in_threadpool(collector.close)

    app = FastAPI(
        title="telltale collector",
        version=__version__,
        description=(
            "Ingest model events, labels and feedback; query history; scrape /metrics. "
            "Every endpoint but /healthz needs `Authorization: Bearer <key>` "
            "(make one with `telltale keys create`). Errors have one shape: "
            '`{"error": {"code", "message", "details"}}`.'
        ),
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    install_error_handlers(app)
    install_docs(app)
    _install_ingest(app, settings)
    _install_admin(app)
    install_alerts(app)
    install_queries(app)
    install_references(app, settings.max_body_bytes)
    install_reports(app, settings.max_body_bytes)
    from telltale.dashboard import install_dashboard  # the pages (docs/dashboard.md)
    from telltale.dashboard.reports import install_report_pages

    install_dashboard(app)
    install_report_pages(app)
    return app


def _collector(request: Request) -> Collector:
    return request.app.state.collector


def _auth(request: Request) -> Auth:
    return request.app.state.auth


def _install_ingest(app: FastAPI, settings: ServerSettings) -> None:
    limit = settings.max_body_bytes

    @app.get("/healthz", tags=["health"], summary="Liveness: 200 while the server runs")
    async def healthz() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    @app.post(
        "/v1/events",
        tags=["ingest"],
        summary="Send a batch of events (JSON or Arrow IPC); answered after commit",
        openapi_extra=ingest_openapi("events"),
    )
    async def post_events(request: Request) -> dict[str, int]:
        key = _auth(request).require(request, "ingest")
        kind = media_type(request, (JSON, ARROW_STREAM))
        body = await read_body(request, limit)
        collector = _collector(request)
        batch, delta = await collector.decoders.decode(body, kind)
        result = await collector.writer.submit(
            "events", key.project, (batch, delta), size=max(batch.batch.events.num_rows, 1)
        )
        if result.accepted and not result.duplicates:
            collector.metrics.apply(key.project, delta)
        elif delta.dropped:
            collector.metrics.apply(key.project, BatchDelta({}, {}, delta.dropped))
        return {"accepted": result.accepted, "duplicates": result.duplicates}

    @app.post(
        "/v1/labels",
        tags=["ingest"],
        summary="Send ground truth for earlier events (joined by event_id)",
        openapi_extra=ingest_openapi("labels"),
    )
    async def post_labels(request: Request) -> dict[str, int]:
        key = _auth(request).require(request, "ingest")
        media_type(request, (JSON,))
        body = await read_body(request, limit)
        table = await run_in_threadpool(decode_labels_json, body)
        stored = await _collector(request).writer.submit(
            "labels", key.project, table, size=max(table.num_rows, 1)
        )
        return {"accepted": int(stored)}

    @app.post(
        "/v1/feedback",
        tags=["ingest"],
        summary="Send user feedback scores for earlier events",
        openapi_extra=ingest_openapi("feedback"),
    )
    async def post_feedback(request: Request) -> dict[str, int]:
        key = _auth(request).require(request, "ingest")
        media_type(request, (JSON,))
        body = await read_body(request, limit)
        table = await run_in_threadpool(decode_feedback_json, body)
        stored = await _collector(request).writer.submit(
            "feedback", key.project, table, size=max(table.num_rows, 1)
        )
        return {"accepted": int(stored)}

    @app.get(
        "/metrics",
        tags=["metrics"],
        summary="Prometheus exposition of the key's project (read scope)",
        response_class=Response,
    )
    async def metrics(request: Request) -> Response:
        key = _auth(request).require(request, "read")
        text = render_metrics(_collector(request).metrics, key.project)
        return Response(text, media_type="text/plain; version=0.0.4; charset=utf-8")


def _install_admin(app: FastAPI) -> None:
    @app.get("/v1/keys", tags=["admin"], summary="List the project's API keys (admin scope)")
    async def list_keys(request: Request) -> JSONResponse:
        auth = _auth(request)
        key = auth.require(request, "admin")
        keys = await run_in_threadpool(_collector(request).keys.list, key.project)
        await auth.audit(request, key, 200)
        return JSONResponse({"keys": [k.to_dict() for k in keys]})

    @app.post("/v1/keys", tags=["admin"], summary="Make an API key; the secret is shown once")
    async def create_key(request: Request) -> JSONResponse:
        auth = _auth(request)
        key = auth.require(request, "admin")
        media_type(request, (JSON,))
        payload = await _json_object(request, 64 * 1024)
        scope = payload.get("scope")
        name = payload.get("name", "")
        if not isinstance(scope, str):
            raise ApiError(
                422, "scope is required: one of ingest, read, admin", details={"field": "scope"}
            )
        if not isinstance(name, str):
            raise ApiError(422, "name must be a string", details={"field": "name"})
        made, secret = await run_in_threadpool(
            _collector(request).keys.create, key.project, scope, name=name
        )
        await auth.audit(request, key, 201)
        return JSONResponse({"key": made.to_dict(), "secret": secret}, status_code=201)

    @app.delete("/v1/keys/{key_id}", tags=["admin"], summary="Revoke an API key at once")
    async def revoke_key(request: Request, key_id: str) -> JSONResponse:
        auth = _auth(request)
        key = auth.require(request, "admin")
        revoked = await run_in_threadpool(
            _collector(request).keys.revoke, key_id, project=key.project
        )
        await auth.audit(request, key, 200)
        return JSONResponse({"key": revoked.to_dict()})

    @app.get("/v1/audit", tags=["admin"], summary="Who read the project's data, newest first")
    async def audit_log(request: Request, limit: int = 100) -> JSONResponse:
        auth = _auth(request)
        key = auth.require(request, "admin")
        if not 1 <= limit <= 100_000:
            raise ApiError(422, f"limit must be 1..100000, got {limit}", details={"field": "limit"})
        entries = await run_in_threadpool(
            _collector(request).audit.entries, key.project, limit=limit
        )
        await auth.audit(request, key, 200)
        return JSONResponse({"entries": [e.to_dict() for e in entries]})


async def _json_object(request: Request, limit: int) -> dict[str, Any]:
    import json

    body = await read_body(request, limit)
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError) as error:
        raise ApiError(400, f"the body is not JSON ({error})") from None
    if not isinstance(payload, dict):
        raise ApiError(422, "the body must be a JSON object")
    return payload


async def _retention_loop(collector: Collector) -> None:
    """Hourly: drop raw events past ``retention_days`` (if set) and per-minute latency
    histograms past ``latency_minutes_days`` (hourly histograms stay)."""
    days = collector.settings.retention_days
    minutes = timedelta(days=collector.settings.latency_minutes_days)
    while True:
        try:
            if days > 0:
                await run_in_threadpool(collector.store.apply_retention, timedelta(days=days))
            await run_in_threadpool(collector.store.trim_latency_minutes, minutes)
        except Exception:  # keep serving; the next round tries again
            log.exception("retention failed")
        await asyncio.sleep(3600)
