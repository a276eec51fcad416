"""The Reports page: stored ``telltale report`` and ``telltale evaluate`` results, opened in place.

=====================================  =========================================================
``/reports`` (``.json``)               the project's reports, newest first
``/reports/<id>`` (``.json``)          one report in a frame; its JSON twin is the report's JSON
``/reports/<id>/content``              the report's own HTML, sandboxed (see below)
=====================================  =========================================================

Reports arrive through ``POST /v1/reports`` (``telltale reports push``). A report is a whole
HTML document with its own inline script and style, so it is served apart from the dashboard,
under ``Content-Security-Policy: sandbox allow-scripts``: it runs in an opaque origin, where
its script works (tabs, sorting) but cannot read the dashboard's cookie or pages, even when the
report holds text a user controls.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from telltale.dashboard.web import (
    LoginRequired,
    PageError,
    error_page,
    is_json,
    login_redirect,
    page_key,
    serve_page,
)
from telltale.errors import TelltaleError
from telltale.server.reports import report_store
from telltale.store.keys import ApiKey

__all__ = ["install_report_pages"]

_SANDBOX = (
    "sandbox allow-scripts allow-popups; default-src 'none'; script-src 'unsafe-inline'; "
    "style-src 'unsafe-inline'; img-src data:; font-src data:; frame-ancestors 'self'"
)
_ID_LENGTH = 16


def _report_id(value: str) -> str:
    if len(value) != _ID_LENGTH or not all(c in "0123456789abcdef" for c in value):
        raise PageError(404, "a report's address is /reports/<16 hex digits>; /reports lists them")
    return value


def install_report_pages(app: FastAPI) -> None:
    @app.get("/reports", include_in_schema=False)
    @app.get("/reports.json", include_in_schema=False)
    async def reports(request: Request) -> Response:
        def build(key: ApiKey) -> dict[str, Any]:
            listed = report_store(request).list(key.project)
            return {
                "reports": listed,
                "kinds": {k: sum(r["kind"] == k for r in listed) for k in ("report", "evaluation")},
            }

        return await serve_page(request, "reports.html.j2", build)

    @app.get("/reports/{report_id}/content", include_in_schema=False)
    async def content(request: Request, report_id: str) -> Response:
        try:
            key = page_key(request)
        except LoginRequired:
            return login_redirect(request)
        except TelltaleError as error:
            return error_page(request, error)
        try:
            report = await run_in_threadpool(
                report_store(request).get, key.project, _report_id(report_id)
            )
        except (PageError, TelltaleError) as error:
            await request.app.state.auth.audit(request, key, 404)
            return error_page(request, error)
        await request.app.state.auth.audit(request, key, 200)
        return HTMLResponse(
            report["html"],
            headers={
                "Content-Security-Policy": _SANDBOX,
                "X-Content-Type-Options": "nosniff",
                "Referrer-Policy": "no-referrer",
                "Cache-Control": "no-store",
            },
        )

    @app.get("/reports/{name}", include_in_schema=False)
    async def report(request: Request, name: str) -> Response:
        wanted = name.removesuffix(".json") if is_json(request) else name

        def build(key: ApiKey) -> dict[str, Any]:
            found = report_store(request).get(key.project, _report_id(wanted))
            found.pop("html")
            return found

        return await serve_page(request, "report.html.j2", build)
