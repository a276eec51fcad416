"""References and drift over HTTP: upload what "healthy" looks like, then ask how far live data is.

A reference is a saved profile (``telltale profile train.parquet --out train.ttp``) kept in the
store under a name; the one named ``default`` is what the monitor loop compares the recent window
with for ``/metrics``. A Parquet upload is profiled by the server instead.

    curl -X PUT -H "Authorization: Bearer $ADMIN" -H 'Content-Type: application/octet-stream' \\
        --data-binary @train.ttp http://127.0.0.1:8765/v1/models/fraud/references/default
    curl -H "Authorization: Bearer $READ" \\
        'http://127.0.0.1:8765/v1/models/fraud/drift?start=2026-11-22T00:00:00Z'
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Query, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from telltale.server.body import read_body
from telltale.server.error_shape import ApiError
from telltale.server.queries import filters, known_model, span

__all__ = ["PARQUET", "PROFILE", "install_references", "profile_from_upload"]

PROFILE = "application/octet-stream"
PARQUET = "application/vnd.apache.parquet"
_MAX_NAME = 200


def profile_from_upload(body: bytes, kind: str, source: str) -> bytes:
    """The ``.ttp`` bytes to store: a profile is checked, Parquet data is profiled here."""
    from telltale.analysis.profile import TableProfile

    if kind == PROFILE:
        TableProfile.from_bytes(body, source=source)  # raises ProfileError (422) if corrupt
        return body
    from telltale.analysis.profiling import profile_table
    from telltale.store.engine import connect
    from telltale.store.files import open_table

    with tempfile.TemporaryDirectory(prefix="telltale-reference-") as folder:
        path = Path(folder) / "reference.parquet"
        path.write_bytes(body)
        table = open_table(connect(), str(path), name="reference")
        return profile_table(table, source=source).to_bytes()


def _name(value: str) -> str:
    if not 1 <= len(value) <= _MAX_NAME:
        raise ApiError(422, "a reference name is 1-200 characters", details={"field": "name"})
    return value


def install_references(app: FastAPI, max_body_bytes: int) -> None:
    import telltale.analysis.windows as windows

    def store(request: Request) -> Any:
        return request.app.state.collector.store

    @app.put(
        "/v1/models/{model}/references/{name}",
        tags=["references"],
        summary="Save a reference (a .ttp profile, or Parquet data to profile); admin scope",
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {
                    PROFILE: {"schema": {"type": "string", "format": "binary"}},
                    PARQUET: {"schema": {"type": "string", "format": "binary"}},
                },
            }
        },
    )
    async def put_reference(request: Request, model: str, name: str) -> JSONResponse:
        from telltale.server.body import media_type

        auth = request.app.state.auth
        key = auth.require(request, "admin")
        kind = media_type(request, (PROFILE, PARQUET))
        body = await read_body(request, max_body_bytes)
        source = f"upload {name[:_MAX_NAME]!r} for {model[:_MAX_NAME]!r}"
        data = await run_in_threadpool(profile_from_upload, body, kind, source)
        await run_in_threadpool(
            store(request).save_reference, key.project, model, _name(name), data
        )
        await auth.audit(request, key, 201)
        return JSONResponse({"model": model, "name": name, "bytes": len(data)}, status_code=201)

    @app.get(
        "/v1/models/{model}/references",
        tags=["references"],
        summary="The model's saved references",
    )
    async def list_references(request: Request, model: str) -> JSONResponse:
        auth = request.app.state.auth
        key = auth.require(request, "read")
        found = await run_in_threadpool(store(request).references, key.project, model)
        await auth.audit(request, key, 200)
        return JSONResponse({"model": model, "references": found})

    @app.get(
        "/v1/models/{model}/drift",
        tags=["query"],
        summary="Drift of each feature in a window against a saved reference",
    )
    async def drift(
        request: Request,
        model: str,
        reference: str = "default",
        start: str | None = None,
        end: str | None = None,
        version: str | None = None,
        environment: str | None = None,
        segment: list[str] = Query(default=[]),  # noqa: B008
        method: str | None = None,
    ) -> JSONResponse:
        auth = request.app.state.auth
        key = auth.require(request, "read")
        begin, stop = span(start, end)
        chosen = filters(version, environment, segment)
        await run_in_threadpool(known_model, request, key.project, model)
        if method is not None:
            from telltale.analysis.drift import DRIFT_METHODS

            if method not in DRIFT_METHODS:
                raise ApiError(
                    422,
                    f"method={method[:40]!r} is not one of {', '.join(sorted(DRIFT_METHODS))}",
                    details={"field": "method"},
                )
        result = await run_in_threadpool(
            windows.window_drift,
            store(request),
            key.project,
            model,
            _name(reference),
            begin,
            stop,
            method=method,
            **chosen,
        )
        await auth.audit(request, key, 200)
        return JSONResponse(result.to_dict())
