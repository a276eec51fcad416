"""The reports API: push the HTML and JSON of ``telltale report`` / ``telltale evaluate`` results,
list them, read one, delete one. The dashboard's Reports page opens them in place.

Pushing and deleting take an admin key (as references do: a report is something the team
publishes, not traffic); reading takes a read key and is written to the audit log.

.. code-block:: bash

    telltale reports push report.html --server http://127.0.0.1:8765 --key "$ADMIN_KEY"
    curl -H "Authorization: Bearer $READ_KEY" http://127.0.0.1:8765/v1/reports
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from telltale.errors import ConfigError
from telltale.server.body import JSON, media_type, read_body
from telltale.server.error_shape import ApiError
from telltale.store.reports import KINDS, ReportStore

__all__ = ["install_reports", "report_store"]

_FIELDS = {"title", "kind", "html", "json"}


def report_store(request: Request) -> ReportStore:
    """The app's :class:`ReportStore` (made on first use, on the collector's store)."""
    state = request.app.state
    store = getattr(state, "report_store", None)
    if store is None:
        store = ReportStore(state.collector.store)
        state.report_store = store
    return store


def parse_push(body: bytes) -> dict[str, Any]:
    """The checked fields of a push: ``title``, ``kind``, ``html`` and ``json`` (or None)."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as error:
        raise ApiError(400, f"the body is not JSON ({error})") from None
    if not isinstance(data, dict):
        raise ApiError(422, 'the body must be a JSON object: {"title", "kind", "html", "json"}')
    unknown = sorted(set(data) - _FIELDS)
    if unknown:
        raise ApiError(
            422,
            f"unknown field(s) {unknown}; send title, kind, html and json",
            details={"field": unknown[0]},
        )
    html = data.get("html")
    if not isinstance(html, str) or "<" not in html[:2048]:
        raise ApiError(
            422,
            "html must be the text of the report's HTML file (telltale report --out-dir ... wrote it)",
            details={"field": "html"},
        )
    kind = data.get("kind", "report")
    if kind not in KINDS:
        raise ApiError(422, f"kind {kind!r} is not one of {list(KINDS)}", details={"field": "kind"})
    title = data.get("title")
    if not isinstance(title, str):
        raise ApiError(
            422, "title is required: one line, e.g. 'fraud, week 47'", details={"field": "title"}
        )
    return {"title": title, "kind": kind, "html": html, "json": data.get("json")}


def install_reports(app: FastAPI, max_body_bytes: int) -> None:
    def auth(request: Request) -> Any:
        return request.app.state.auth

    @app.post(
        "/v1/reports",
        tags=["reports"],
        summary="Keep a report (its HTML and JSON) for the dashboard; admin scope",
        status_code=201,
    )
    async def push_report(request: Request) -> JSONResponse:
        key = auth(request).require(request, "admin")
        media_type(request, (JSON,))
        fields = parse_push(await read_body(request, max_body_bytes))
        try:
            report_id = await run_in_threadpool(
                report_store(request).add,
                key.project,
                kind=fields["kind"],
                title=fields["title"],
                html=fields["html"],
                document=fields["json"],
            )
        except ConfigError as error:
            raise ApiError(422, str(error)) from None
        except ValueError as error:  # NaN or infinity in the JSON: not JSON
            raise ApiError(422, f"json holds a value JSON cannot ({error})") from None
        await auth(request).audit(request, key, 201)
        return JSONResponse(
            {"id": report_id, "url": f"/reports/{report_id}", "title": fields["title"]},
            status_code=201,
        )

    @app.get("/v1/reports", tags=["reports"], summary="The project's reports, newest first")
    async def list_reports(request: Request, limit: int = 200) -> JSONResponse:
        key = auth(request).require(request, "read")
        try:
            reports = await run_in_threadpool(report_store(request).list, key.project, limit=limit)
        except ConfigError as error:
            raise ApiError(400, str(error), details={"field": "limit"}) from None
        await auth(request).audit(request, key, 200)
        return JSONResponse({"reports": reports})

    @app.get("/v1/reports/{report_id}", tags=["reports"], summary="One report with its JSON")
    async def get_report(request: Request, report_id: str) -> JSONResponse:
        key = auth(request).require(request, "read")
        report = await run_in_threadpool(report_store(request).get, key.project, report_id)
        await auth(request).audit(request, key, 200)
        report.pop("html")
        return JSONResponse(report)

    @app.delete("/v1/reports/{report_id}", tags=["reports"], summary="Delete a report (admin)")
    async def delete_report(request: Request, report_id: str) -> JSONResponse:
        key = auth(request).require(request, "admin")
        await run_in_threadpool(report_store(request).delete, key.project, report_id)
        await auth(request).audit(request, key, 200)
        return JSONResponse({"deleted": report_id})
