"""The query API: "how did this model do, hour by hour, this week?"

Every route needs a ``read`` key, answers only from the key's project, and is written to the audit
log before it answers. Times are ISO-8601 (UTC when no offset is given); without ``start``/``end``
a query covers the last seven days. Filters: ``version``, ``environment``, and ``segment=key:value``
(repeatable; all must match).
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any, Literal, cast

from fastapi import FastAPI, Query, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from telltale.errors import NotFoundError
from telltale.server.error_shape import ApiError

__all__ = ["filters", "install_queries", "known_model", "parse_time", "span"]

Interval = Literal["minute", "hour", "day"]
_INTERVALS = ("minute", "hour", "day")
_DEFAULT_SPAN = timedelta(days=7)
_MAX_TEXT = 200


def parse_time(value: str | None, name: str) -> datetime | None:
    if value is None or value == "":
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ApiError(
            422,
            f"{name}={value[:60]!r} is not an ISO-8601 time; write e.g. 2026-11-22T00:00:00Z",
            details={"field": name},
        ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def span(start: str | None, end: str | None) -> tuple[datetime, datetime]:
    stop = parse_time(end, "end") or datetime.now(timezone.utc)
    begin = parse_time(start, "start") or stop - _DEFAULT_SPAN
    if begin >= stop:
        raise ApiError(422, "start must be before end", details={"field": "start"})
    return begin, stop


def _segment(values: list[str]) -> dict[str, str] | None:
    tags: dict[str, str] = {}
    for value in values:
        name, sep, tag = value.partition(":")
        if not sep or not name:
            raise ApiError(
                422,
                f"segment={value[:60]!r} is not KEY:VALUE; write e.g. segment=region:eu",
                details={"field": "segment"},
            )
        tags[name] = tag
    return tags or None


def _interval(value: str) -> Interval:
    if value not in _INTERVALS:
        raise ApiError(
            422,
            f"interval={value[:30]!r} is not one of {', '.join(_INTERVALS)}",
            details={"field": "interval"},
        )
    return cast(Interval, value)


def _text(value: str | None, name: str) -> str | None:
    if value is not None and len(value) > _MAX_TEXT:
        raise ApiError(
            422, f"{name} is longer than {_MAX_TEXT} characters", details={"field": name}
        )
    return value


def known_model(request: Request, project: str, model: str) -> None:
    """Raise 404 unless ``project`` has events of ``model``."""
    names = {m["model"] for m in request.app.state.collector.store.models(project)}
    if model not in names:
        raise NotFoundError(
            f"no model {model[:_MAX_TEXT]!r} in this project; GET /v1/models lists them",
            details={"model": model[:_MAX_TEXT]},
        )


def install_queries(app: FastAPI) -> None:
    import telltale.analysis.windows as windows

    def collector(request: Request) -> Any:
        return request.app.state.collector

    async def answer(request: Request, key: Any, payload: dict[str, Any]) -> JSONResponse:
        await request.app.state.auth.audit(request, key, 200)
        return JSONResponse(payload)

    @app.get("/v1/models", tags=["query"], summary="Models with their versions, features, counts")
    async def list_models(request: Request) -> JSONResponse:
        key = request.app.state.auth.require(request, "read")
        models = await run_in_threadpool(collector(request).store.models, key.project)
        return await answer(request, key, {"models": models})

    @app.get(
        "/v1/models/{model}/windows",
        tags=["query"],
        summary="Throughput, latency p50/p95/p99, error/invalid/timeout rates per window",
    )
    async def serving(
        request: Request,
        model: str,
        start: str | None = None,
        end: str | None = None,
        interval: str = "hour",
        version: str | None = None,
        environment: str | None = None,
        segment: list[str] = Query(default=[]),  # noqa: B008
    ) -> JSONResponse:
        key = request.app.state.auth.require(request, "read")
        begin, stop = span(start, end)
        chosen = filters(version, environment, segment)
        await run_in_threadpool(known_model, request, key.project, model)
        result = await run_in_threadpool(
            windows.serving_windows,
            collector(request).store,
            key.project,
            model,
            begin,
            stop,
            interval=_interval(interval),
            **chosen,
        )
        return await answer(request, key, result.to_dict())

    @app.get(
        "/v1/models/{model}/performance",
        tags=["query"],
        summary="Accuracy and F1, or MAE/RMSE/R², per window where labels have arrived",
    )
    async def performance(
        request: Request,
        model: str,
        start: str | None = None,
        end: str | None = None,
        interval: str = "hour",
        version: str | None = None,
        environment: str | None = None,
        segment: list[str] = Query(default=[]),  # noqa: B008
    ) -> JSONResponse:
        key = request.app.state.auth.require(request, "read")
        begin, stop = span(start, end)
        chosen = filters(version, environment, segment)
        await run_in_threadpool(known_model, request, key.project, model)
        result = await run_in_threadpool(
            windows.performance_windows,
            collector(request).store,
            key.project,
            model,
            begin,
            stop,
            interval=_interval(interval),
            **chosen,
        )
        return await answer(request, key, result.to_dict())

    @app.get(
        "/v1/models/{model}/compare",
        tags=["query"],
        summary="Two versions side by side: serving health and performance",
    )
    async def compare(
        request: Request,
        model: str,
        a: str,
        b: str,
        start: str | None = None,
        end: str | None = None,
    ) -> JSONResponse:
        key = request.app.state.auth.require(request, "read")
        begin, stop = span(start, end)
        await run_in_threadpool(known_model, request, key.project, model)
        result = await run_in_threadpool(
            windows.compare_versions,
            collector(request).store,
            key.project,
            model,
            _text(a, "a") or "",
            _text(b, "b") or "",
            begin,
            stop,
        )
        return await answer(request, key, result.to_dict())


def filters(version: str | None, environment: str | None, segment: list[str]) -> dict[str, Any]:
    return {
        "version": _text(version, "version"),
        "environment": _text(environment, "environment"),
        "segment": _segment(segment),
    }
