"""One error shape for every failed request.

Whatever goes wrong — a bad key, a malformed body, a NaN latency, an unknown model, a crash —
the client gets::

    {"error": {"code": "invalid_field", "message": "...names the field and the fix...",
               "details": {"row": 3, "field": "latency_ms"}}}

with the HTTP status that fits. Handlers raise ``telltale.errors`` exceptions or :class:`ApiError`;
the mapping to statuses lives here and nowhere else.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from telltale.errors import (
    AuthError,
    ConfigError,
    DataError,
    MalformedError,
    NotFoundError,
    ProfileError,
    SchemaError,
    ScopeError,
    TelltaleError,
    UnavailableError,
)

__all__ = ["ERROR_SCHEMA", "ApiError", "error_response", "install_error_handlers"]

log = logging.getLogger("telltale.server")

# The OpenAPI schema of the shape, so generated clients and fuzzers know it.
ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "details"],
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "details": {"type": "object"},
            },
        }
    },
}

_STATUS_CODES = {
    400: "malformed",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    408: "timeout",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid_field",
    429: "too_many_requests",
    503: "unavailable",
}


class ApiError(Exception):
    """An error with its HTTP status, raised by the server's own code."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        code: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code or _STATUS_CODES.get(status, "error")
        self.message = message
        self.details = details or {}


def error_response(
    status: int, code: str, message: str, details: dict[str, Any] | None = None
) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(
        {"error": {"code": code, "message": message, "details": details or {}}},
        status_code=status,
        headers=headers,
    )


def _status_of(error: TelltaleError) -> int:
    if isinstance(error, ScopeError):
        return 403
    if isinstance(error, AuthError):
        return 401
    if isinstance(error, NotFoundError):
        return 404
    if isinstance(error, UnavailableError):
        return 503
    if isinstance(error, MalformedError):
        return 400
    if isinstance(error, (SchemaError, ConfigError, DataError, ProfileError)):
        return 422
    return 400


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(request: Request, error: ApiError) -> JSONResponse:
        return error_response(error.status, error.code, error.message, error.details)

    @app.exception_handler(TelltaleError)
    async def _telltale_error(request: Request, error: TelltaleError) -> JSONResponse:
        status = _status_of(error)
        return error_response(status, _STATUS_CODES[status], str(error), error.details)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, error: RequestValidationError) -> JSONResponse:
        problems = error.errors()
        first = problems[0] if problems else {}
        where = ".".join(str(part) for part in first.get("loc", ()))
        message = f"{where}: {first.get('msg', 'invalid value')}" if where else "invalid request"
        return error_response(
            422,
            "invalid_field",
            message,
            {
                "field": where,
                "problems": [
                    {"loc": [str(p) for p in e.get("loc", ())], "msg": str(e.get("msg", ""))}
                    for e in problems[:20]
                ],
            },
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, error: StarletteHTTPException) -> JSONResponse:
        code = _STATUS_CODES.get(error.status_code, "error")
        message = str(error.detail)
        if error.status_code == 404:
            message = f"no such path {request.url.path!r}; see /docs for the API"
        elif error.status_code == 405:
            message = f"{request.method} is not allowed on {request.url.path}; see /docs"
        return error_response(error.status_code, code, message)

    @app.exception_handler(Exception)
    async def _crash(request: Request, error: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return error_response(
            500,
            "internal",
            f"the server failed on this request ({type(error).__name__}); it is logged, "
            "and nothing was stored from it",
        )
