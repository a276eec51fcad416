"""The API described: OpenAPI at ``/openapi.json`` and a readable page at ``/docs``.

The request bodies of the ingest endpoints are read raw (so that 1,000 events cost one JSON parse,
not 1,000 model validations), so their schemas are declared here by hand, from the same field table
as docs/protocol.md. ``/docs`` is a self-contained page (no scripts from a CDN: servers often run
without internet access). Both describe the API only, never data, so they need no key.
"""

from __future__ import annotations

import html
import json
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse, JSONResponse

from telltale.server.error_shape import ERROR_SCHEMA

__all__ = ["EVENT_SCHEMA", "ingest_openapi", "install_docs"]

_VALUE = {"type": ["number", "string", "boolean", "null"]}
_STATUSES = ["ok", "error", "invalid", "timeout", "fallback"]

EVENT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["event_id", "ts", "model"],
    "properties": {
        "event_id": {"type": "string", "format": "uuid"},
        "ts": {"type": ["string", "number"], "description": "ISO-8601 or epoch seconds"},
        "model": {"type": "string", "minLength": 1, "maxLength": 200},
        "version": {"type": "string", "maxLength": 200},
        "environment_id": {"type": ["string", "null"]},
        "inputs": {"type": "object", "additionalProperties": _VALUE},
        "outputs": {"type": "object", "additionalProperties": _VALUE},
        "latency_ms": {"type": ["number", "null"], "minimum": 0},
        "status": {"type": "string", "enum": _STATUSES},
        "error": {"type": ["string", "null"]},
        "validation": {"type": "array", "items": {"type": "string"}},
        "trace_id": {"type": ["string", "null"], "pattern": "^[0-9a-f]{32}$"},
        "span_id": {"type": ["string", "null"], "pattern": "^[0-9a-f]{16}$"},
        "segment": {"type": "object", "additionalProperties": {"type": "string"}},
        "batch_size": {"type": "integer", "minimum": 1},
    },
}

_BODIES: dict[str, dict[str, Any]] = {
    "events": {
        "type": "object",
        "required": ["events"],
        "properties": {
            "events": {"type": "array", "items": EVENT_SCHEMA},
            "environments": {"type": "array", "items": {"type": "object"}},
            "resources": {"type": "array", "items": {"type": "object"}},
            "client": {"type": "object"},
        },
    },
    "labels": {
        "type": "object",
        "required": ["labels"],
        "properties": {
            "labels": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["event_id", "label"],
                    "properties": {
                        "event_id": {"type": "string", "format": "uuid"},
                        "label": {"type": ["number", "string"]},
                        "ts": {"type": ["string", "number"]},
                    },
                },
            }
        },
    },
    "feedback": {
        "type": "object",
        "required": ["feedback"],
        "properties": {
            "feedback": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["event_id", "score"],
                    "properties": {
                        "event_id": {"type": "string", "format": "uuid"},
                        "score": {"type": "number"},
                        "ts": {"type": ["string", "number"]},
                    },
                },
            }
        },
    },
}

_ERRORS = {
    str(status): {
        "description": text,
        "content": {"application/json": {"schema": ERROR_SCHEMA}},
    }
    for status, text in [
        (400, "malformed body"),
        (401, "no key or an unknown key"),
        (403, "the key lacks the scope"),
        (413, "body over the limit"),
        (415, "unsupported content type or encoding"),
        (422, "a field is missing, of the wrong type or out of range"),
        (503, "the store cannot take the batch now; retry"),
    ]
}


def ingest_openapi(kind: str) -> dict[str, Any]:
    content: dict[str, Any] = {"application/json": {"schema": _BODIES[kind]}}
    if kind == "events":
        content["application/vnd.apache.arrow.stream"] = {
            "schema": {"type": "string", "format": "binary"}
        }
    return {"requestBody": {"required": True, "content": content}, "responses": _ERRORS}


def _openapi(app: FastAPI) -> dict[str, Any]:
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(
        title=app.title, version=app.version, description=app.description, routes=app.routes
    )
    schema.setdefault("components", {})["securitySchemes"] = {
        "bearer": {"type": "http", "scheme": "bearer", "description": "a telltale API key"}
    }
    for path, operations in schema.get("paths", {}).items():
        for operation in operations.values():
            if path != "/healthz":
                operation["security"] = [{"bearer": []}]
                operation.setdefault("responses", {}).setdefault("401", _ERRORS["401"])
    app.openapi_schema = schema
    return schema


_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>
body{{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}}
code,pre{{font:13px ui-monospace,monospace;background:#f4f4f4;border-radius:4px}}
pre{{padding:.6rem;overflow:auto}} .op{{border-top:1px solid #ddd;padding:.6rem 0}}
.m{{display:inline-block;min-width:4.5rem;font-weight:600}} .get{{color:#0072B2}}
.post{{color:#009E73}} .delete{{color:#D55E00}} details summary{{cursor:pointer;color:#555}}
</style></head><body>
<h1>{title} <small>{version}</small></h1>
<p>{description}</p>
<p>Machine-readable: <a href="/openapi.json">/openapi.json</a>.</p>
{operations}
</body></html>"""


def _render(schema: dict[str, Any]) -> str:
    parts = []
    for path, operations in schema.get("paths", {}).items():
        for method, operation in operations.items():
            params = ", ".join(
                f"<code>{html.escape(p['name'])}</code>" for p in operation.get("parameters", [])
            )
            body = operation.get("requestBody", {}).get("content", {})
            body_html = "".join(
                f"<details><summary>body: {html.escape(kind)}</summary>"
                f"<pre>{html.escape(json.dumps(spec.get('schema', {}), indent=1))}</pre></details>"
                for kind, spec in body.items()
            )
            parts.append(
                f'<div class="op"><span class="m {method}">{method.upper()}</span>'
                f"<code>{html.escape(path)}</code> — {html.escape(operation.get('summary', ''))}"
                + (f"<br>parameters: {params}" if params else "")
                + body_html
                + "</div>"
            )
    return _PAGE.format(
        title=html.escape(schema["info"]["title"]),
        version=html.escape(schema["info"]["version"]),
        description=html.escape(schema["info"].get("description", "")),
        operations="\n".join(parts),
    )


def install_docs(app: FastAPI) -> None:
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return HTMLResponse(_render(_openapi(app)))

    @app.get("/docs.json", include_in_schema=False)
    async def docs_json() -> JSONResponse:
        return JSONResponse(_openapi(app))
