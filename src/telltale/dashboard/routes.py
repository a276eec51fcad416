"""The dashboard's URLs. Each page is ``GET <path>`` (HTML) and ``GET <path>.json`` (its data).

Model, feature and event paths are parsed here rather than by the router, because model and
feature names may hold any character, ``/`` included (a link escapes it as ``%2F``, which
arrives decoded): ``/models/<model>/features/<feature>`` is split where the known model name ends.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool

from telltale.dashboard import params
from telltale.dashboard.alerts import SILENCE_DURATIONS, alerts_data, environments_data
from telltale.dashboard.events import STATUSES, event_data, events_data, parse_cursor
from telltale.dashboard.feature import feature_data
from telltale.dashboard.health import model_data, model_names, overview_data
from telltale.dashboard.web import (
    COOKIE,
    LoginRequired,
    PageError,
    check_csrf,
    error_page,
    is_json,
    login_redirect,
    page_key,
    render,
    safe_next,
    serve_page,
)
from telltale.errors import AuthError, TelltaleError
from telltale.server.error_shape import ApiError
from telltale.store.keys import ApiKey

__all__ = ["install_routes"]

_STATIC = Path(__file__).parent / "static"
_FORM_LIMIT = 64 * 1024


def _now(request: Request) -> datetime:
    clock: Callable[[], datetime] | None = getattr(request.app.state, "dashboard_clock", None)
    return clock() if clock is not None else datetime.now(timezone.utc)


def _collector(request: Request) -> Any:
    return request.app.state.collector


def _strip_json(path: str) -> str:
    return path[: -len(".json")] if path.endswith(".json") else path


async def _form(request: Request) -> dict[str, str]:
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != "application/x-www-form-urlencoded":
        raise ApiError(415, "send the form as application/x-www-form-urlencoded")
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > _FORM_LIMIT:
            raise ApiError(413, "the form is larger than 64 KiB")
    try:
        fields = parse_qs(body.decode("utf-8"), keep_blank_values=True, max_num_fields=50)
    except (UnicodeDecodeError, ValueError) as error:
        raise ApiError(400, f"the form cannot be read ({error})") from None
    return {name: values[0] for name, values in fields.items()}


def _split_model_path(names: list[str], rest: str) -> tuple[str, str | None]:
    """``<model>`` or ``<model>/features/<feature>`` → (model, feature)."""
    if rest in names:
        return rest, None
    for name in sorted(names, key=len, reverse=True):
        prefix = name + "/features/"
        if rest.startswith(prefix) and len(rest) > len(prefix):
            return name, rest[len(prefix) :]
    head, sep, tail = rest.partition("/features/")
    if sep and tail:
        return head, tail
    return rest, None


def install_routes(app: FastAPI) -> None:
    app.mount("/static/dashboard", StaticFiles(directory=str(_STATIC)), name="dashboard-static")
    _install_login(app)
    _install_pages(app)
    _install_actions(app)


def _install_login(app: FastAPI) -> None:
    @app.get("/login", include_in_schema=False)
    async def login_form(request: Request, next: str = "/") -> Response:
        return render(request, "login.html.j2", {"next": safe_next(next), "message": None})

    @app.post("/login", include_in_schema=False)
    async def login(request: Request) -> Response:
        try:
            form = await _form(request)
        except ApiError as error:
            return error_page(request, error)
        target = safe_next(form.get("next"))
        secret = form.get("key", "").strip()
        try:
            key = request.app.state.collector.keys.verify(secret or None).require("read")
        except AuthError as error:
            message = str(error) if secret else "paste an API key (read scope)"
            data = {"next": target, "message": message}
            return render(request, "login.html.j2", data, status=401)
        response = RedirectResponse(target, status_code=303)
        response.set_cookie(
            COOKIE,
            secret,
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
            path="/",
            max_age=12 * 3600,
        )
        await request.app.state.auth.audit(request, key, 303)
        return response

    @app.post("/logout", include_in_schema=False)
    async def logout(request: Request) -> Response:
        origin = request.headers.get("origin")
        if origin is not None and origin != f"{request.url.scheme}://{request.url.netloc}":
            return error_page(request, ApiError(403, "log out from this site's own page"))
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict")
        return response


def _install_pages(app: FastAPI) -> None:
    async def overview(request: Request) -> Response:
        def build(key: ApiKey) -> dict[str, Any]:
            collector = _collector(request)
            return overview_data(collector.store, collector.alerts, key.project, _now(request))

        return await serve_page(request, "overview.html.j2", build)

    for path in ("/", "/.json", "/index.json"):
        app.add_api_route(path, overview, methods=["GET"], include_in_schema=False)

    @app.get("/models/{rest:path}", include_in_schema=False)
    async def model_or_feature(request: Request, rest: str) -> Response:
        rest = _strip_json(rest) if is_json(request) else rest

        def build(key: ApiKey) -> dict[str, Any]:
            store = _collector(request).store
            model, feature = _split_model_path(model_names(store, key.project), rest)
            picked = params.parse_range(request)
            filters = params.parse_filters(request)
            reference = params.parse_text(request, "reference")
            now = _now(request)
            if feature is None:
                return model_data(
                    store, _collector(request).alerts, key.project, model, now, picked,
                    filters, reference,
                )  # fmt: skip
            return feature_data(store, key.project, model, feature, now, picked, filters, reference)

        def template(data: dict[str, Any]) -> str:
            return "feature.html.j2" if "feature" in data else "model.html.j2"

        return await serve_page(request, template, build)

    @app.get("/environments", include_in_schema=False)
    @app.get("/environments.json", include_in_schema=False)
    async def environments(request: Request) -> Response:
        def build(key: ApiKey) -> dict[str, Any]:
            picked = params.parse_range(request, default="7d")
            return environments_data(_collector(request).store, key.project, _now(request), picked)

        return await serve_page(request, "environments.html.j2", build)

    @app.get("/events", include_in_schema=False)
    @app.get("/events.json", include_in_schema=False)
    async def events(request: Request) -> Response:
        def build(key: ApiKey) -> dict[str, Any]:
            now = _now(request)
            end = params.parse_time(request, "end") or now
            start = params.parse_time(request, "start") or end - params.RANGES["24h"].length
            data = events_data(
                _collector(request).store,
                key.project,
                params.parse_text(request, "model"),
                start,
                end,
                params.parse_filters(request),
                params.choice(request, "status", STATUSES),
                params.parse_text(request, "validation"),
                parse_cursor(params.parse_text(request, "before")),
            )
            data["query"] = {
                k: v for k, v in request.query_params.multi_items() if k != "before" and v
            }
            return data

        return await serve_page(request, "events.html.j2", build)

    @app.get("/events/{rest:path}", include_in_schema=False)
    async def event(request: Request, rest: str) -> Response:
        rest = _strip_json(rest) if is_json(request) else rest

        def build(key: ApiKey) -> dict[str, Any]:
            model, sep, event_id = rest.rpartition("/")
            if not sep or not model:
                raise PageError(404, "an event's address is /events/<model>/<event id>")
            return event_data(_collector(request).store, key.project, model, event_id)

        return await serve_page(request, "event.html.j2", build)

    @app.get("/alerts", include_in_schema=False)
    @app.get("/alerts.json", include_in_schema=False)
    async def alerts(request: Request) -> Response:
        def build(key: ApiKey) -> dict[str, Any]:
            return alerts_data(_collector(request).alerts, key.project)

        return await serve_page(request, "alerts.html.j2", build)


async def _action(request: Request, run: Callable[[ApiKey, dict[str, str]], Any]) -> Response:
    """A state-changing form: the key (read scope, as the /v1 alerts API), the CSRF check,
    the change on a worker thread, written to the audit log, then back to the Alerts page."""
    try:
        key = page_key(request, "read")
    except LoginRequired:
        return login_redirect(request)
    except TelltaleError as error:
        return error_page(request, error)
    try:
        form = await _form(request)
        check_csrf(request, form.get("csrf"))
        await run_in_threadpool(run, key, form)
    except (ApiError, PageError, TelltaleError) as error:
        status = getattr(error, "status", 400)
        await request.app.state.auth.audit(request, key, status if isinstance(status, int) else 400)
        return error_page(request, error)
    await request.app.state.auth.audit(request, key, 303)
    return RedirectResponse(safe_next(form.get("next") or "/alerts"), status_code=303)


def _who(key: ApiKey, form: dict[str, str]) -> str:
    by = form.get("by", "").strip()[:200]
    return by or key.name or key.key_id


def _install_actions(app: FastAPI) -> None:
    @app.post("/alerts/silences/{silence_id}/end", include_in_schema=False)
    async def end_silence(request: Request, silence_id: str) -> Response:
        def run(key: ApiKey, form: dict[str, str]) -> None:
            _collector(request).alerts.alerts.remove_silence(key.project, silence_id)

        return await _action(request, run)

    @app.post("/alerts/silences", include_in_schema=False)
    async def silence(request: Request) -> Response:
        def run(key: ApiKey, form: dict[str, str]) -> None:
            try:
                matchers = json.loads(form.get("matchers", ""))
            except ValueError:
                matchers = None
            if (
                not isinstance(matchers, dict)
                or not matchers
                or not all(isinstance(k, str) and isinstance(v, str) for k, v in matchers.items())
            ):
                raise PageError(
                    400, 'matchers must be a JSON object of strings, e.g. {"rule": "errors"}',
                    field="matchers",
                )  # fmt: skip
            duration = form.get("duration", "")
            if duration not in SILENCE_DURATIONS:
                raise PageError(
                    400,
                    f"duration={duration[:20]!r} is not one of {', '.join(SILENCE_DURATIONS)}",
                    field="duration",
                )
            _collector(request).alerts.silence(
                key.project,
                matchers,
                duration=duration,
                comment=form.get("comment", "")[:2000],
                by=_who(key, form),
            )

        return await _action(request, run)

    @app.post("/alerts/{fingerprint}/ack", include_in_schema=False)
    async def acknowledge(request: Request, fingerprint: str) -> Response:
        def run(key: ApiKey, form: dict[str, str]) -> None:
            _collector(request).alerts.acknowledge(
                key.project, fingerprint, by=_who(key, form), comment=form.get("comment", "")[:2000]
            )

        return await _action(request, run)
