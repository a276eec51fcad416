"""The alerting API and the loop that evaluates every project's rules on a schedule.

Rules are applied with an admin key (``PUT /v1/alerts/rules``, the same document as
``telltale alerts apply``); alerts, history, deliveries and silences are read with a read key;
acknowledging and silencing take a read key too (the people on call hold those); running a round
now and deciding on actions take an admin key. See docs/alerts.md.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from telltale.server.body import JSON, media_type, read_body
from telltale.server.error_shape import ApiError

__all__ = ["alerts_loop", "install_alerts"]

log = logging.getLogger("telltale.server")

_RULES_LIMIT = 1024 * 1024
_YAML = ("application/yaml", "application/x-yaml", "text/yaml", "text/plain")


async def alerts_loop(collector: Any, interval_s: float) -> None:
    """Evaluate every project's rules every ``interval_s`` seconds; a failing project is logged
    and the others go on."""
    while True:
        await asyncio.sleep(interval_s)
        for project in await run_in_threadpool(collector.alerts.alerts.projects):
            try:
                await run_in_threadpool(collector.alerts.check, project)
            except Exception:
                log.exception("alert evaluation of project %s failed", project)


def install_alerts(app: FastAPI) -> None:
    def engine(request: Request) -> Any:
        return request.app.state.collector.alerts

    def auth(request: Request) -> Any:
        return request.app.state.auth

    async def payload(request: Request) -> dict[str, Any]:
        import json

        media_type(request, (JSON,))
        body = await read_body(request, 64 * 1024)
        try:
            data = json.loads(body)
        except (ValueError, UnicodeDecodeError) as error:
            raise ApiError(400, f"the body is not JSON ({error})") from None
        if not isinstance(data, dict):
            raise ApiError(422, "the body must be a JSON object")
        return data

    def text_field(data: dict[str, Any], name: str, *, required: bool = True) -> str:
        value = data.get(name, None if required else "")
        if not isinstance(value, str) or (required and not value):
            raise ApiError(422, f"{name} must be a non-empty string", details={"field": name})
        return value[:2000]

    @app.put("/v1/alerts/rules", tags=["alerts"], summary="Apply a rules document (admin scope)")
    async def put_rules(request: Request, partial: bool = False) -> JSONResponse:
        key = auth(request).require(request, "admin")
        media_type(request, (JSON, *_YAML))
        body = await read_body(request, _RULES_LIMIT)
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            raise ApiError(400, "the rules document is not UTF-8 text") from None
        parsed = await run_in_threadpool(engine(request).apply, key.project, text, partial=partial)
        return JSONResponse(
            {
                "rules": [rule.source for rule in parsed.rules],
                "errors": [error.to_dict() for error in parsed.errors],
            }
        )

    @app.get("/v1/alerts/rules", tags=["alerts"], summary="The applied rules document")
    async def get_rules(request: Request) -> JSONResponse:
        key = auth(request).require(request, "read")
        parsed = await run_in_threadpool(engine(request).rules, key.project)
        document = await run_in_threadpool(engine(request).alerts.document, key.project)
        return JSONResponse(
            {
                "document": document,
                "rules": [rule.source for rule in parsed.rules],
                "errors": [error.to_dict() for error in parsed.errors],
            }
        )

    @app.get("/v1/alerts", tags=["alerts"], summary="Pending, firing and resolved alerts")
    async def list_alerts(request: Request, state: str | None = None) -> JSONResponse:
        key = auth(request).require(request, "read")
        if state is not None and state not in ("pending", "firing", "resolved"):
            raise ApiError(
                422, "state must be pending, firing or resolved", details={"field": "state"}
            )
        states = await run_in_threadpool(engine(request).alerts.states, key.project)
        alerts = [s for s in states.values() if state is None or s["state"] == state]
        await auth(request).audit(request, key, 200)
        return JSONResponse({"alerts": alerts})

    @app.get("/v1/alerts/history", tags=["alerts"], summary="Transitions, newest first")
    async def history(
        request: Request, rule: str | None = None, since: str | None = None, limit: int = 100
    ) -> JSONResponse:
        key = auth(request).require(request, "read")
        if not 1 <= limit <= 100_000:
            raise ApiError(422, f"limit must be 1..100000, got {limit}", details={"field": "limit"})
        entries = await run_in_threadpool(
            lambda: engine(request).alerts.history(key.project, rule=rule, since=since, limit=limit)
        )
        await auth(request).audit(request, key, 200)
        return JSONResponse({"history": entries})

    @app.get("/v1/alerts/deliveries", tags=["alerts"], summary="Notifications sent, newest first")
    async def deliveries(request: Request, limit: int = 100) -> JSONResponse:
        key = auth(request).require(request, "read")
        if not 1 <= limit <= 100_000:
            raise ApiError(422, f"limit must be 1..100000, got {limit}", details={"field": "limit"})
        rows = await run_in_threadpool(
            lambda: engine(request).alerts.deliveries(key.project, limit=limit)
        )
        return JSONResponse({"deliveries": rows})

    @app.post("/v1/alerts/check", tags=["alerts"], summary="Evaluate the rules now (admin scope)")
    async def check(request: Request) -> JSONResponse:
        key = auth(request).require(request, "admin")
        report = await run_in_threadpool(engine(request).check, key.project)
        return JSONResponse(report.to_dict())

    @app.post("/v1/alerts/{fingerprint}/ack", tags=["alerts"], summary="Acknowledge a firing alert")
    async def acknowledge(request: Request, fingerprint: str) -> JSONResponse:
        key = auth(request).require(request, "read")
        data = await payload(request)
        by = text_field(data, "by")
        comment = text_field(data, "comment", required=False)
        state = await run_in_threadpool(
            lambda: engine(request).acknowledge(key.project, fingerprint, by=by, comment=comment)
        )
        return JSONResponse({"alert": state})

    @app.post("/v1/silences", tags=["alerts"], summary="Silence matching alerts for a while")
    async def add_silence(request: Request) -> JSONResponse:
        key = auth(request).require(request, "read")
        data = await payload(request)
        matchers = data.get("matchers")
        if not isinstance(matchers, dict):
            raise ApiError(
                422, 'matchers must be an object such as {"rule": "p99-latency"}',
                details={"field": "matchers"},
            )  # fmt: skip
        duration = data.get("duration")
        if not isinstance(duration, (str, int, float)) or isinstance(duration, bool):
            raise ApiError(422, 'duration must be e.g. "2h"', details={"field": "duration"})
        silence = await run_in_threadpool(
            lambda: engine(request).silence(
                key.project,
                matchers,
                duration=duration,
                comment=text_field(data, "comment", required=False),
                by=text_field(data, "by", required=False),
            )
        )
        return JSONResponse({"silence": silence.to_dict()}, status_code=201)

    @app.get("/v1/silences", tags=["alerts"], summary="Silences in force")
    async def list_silences(request: Request) -> JSONResponse:
        key = auth(request).require(request, "read")
        silences = await run_in_threadpool(engine(request).active_silences, key.project)
        return JSONResponse({"silences": [s.to_dict() for s in silences]})

    @app.delete("/v1/silences/{silence_id}", tags=["alerts"], summary="End a silence now")
    async def remove_silence(request: Request, silence_id: str) -> JSONResponse:
        key = auth(request).require(request, "read")
        await run_in_threadpool(engine(request).alerts.remove_silence, key.project, silence_id)
        return JSONResponse({"removed": silence_id})

    @app.get("/v1/alerts/actions", tags=["alerts"], summary="Actions called or awaiting approval")
    async def actions(request: Request, status: str | None = None) -> JSONResponse:
        key = auth(request).require(request, "read")
        rows = await run_in_threadpool(
            lambda: engine(request).alerts.actions(key.project, status=status)
        )
        return JSONResponse({"actions": rows})

    def decider(approve: bool) -> Any:
        async def decide(request: Request, action_id: str) -> JSONResponse:
            key = auth(request).require(request, "admin")
            data = await payload(request)
            by = text_field(data, "by")
            record = await run_in_threadpool(
                lambda: engine(request).approve(key.project, action_id, by=by, approve=approve)
            )
            return JSONResponse({"action": record})

        return decide

    for verb, approve in (("approve", True), ("reject", False)):
        app.add_api_route(
            f"/v1/alerts/actions/{{action_id}}/{verb}",
            decider(approve),
            methods=["POST"],
            tags=["alerts"],
            summary=f"{verb.capitalize()} an action awaiting approval (admin scope)",
            name=f"{verb}_action",
        )
