"""Reading request bodies with limits: size, compression and content type.

The limit is enforced while the body streams in (a 50 MB upload is refused at the first chunk past
the limit, not after it has been buffered), and again after gzip decompression, so a small
compressed "bomb" cannot expand past it either.
"""

from __future__ import annotations

import zlib

from fastapi import Request

from telltale.server.error_shape import ApiError

__all__ = ["ARROW_STREAM", "JSON", "media_type", "read_body"]

JSON = "application/json"
ARROW_STREAM = "application/vnd.apache.arrow.stream"


def media_type(request: Request, allowed: tuple[str, ...]) -> str:
    raw = request.headers.get("content-type", "")
    kind = raw.split(";", 1)[0].strip().lower()
    if kind not in allowed:
        shown = raw or "none"
        raise ApiError(
            415,
            f"Content-Type {shown!r} is not accepted here; send one of {', '.join(allowed)}",
            details={"content_type": raw},
        )
    return kind


def _too_large(limit: int) -> ApiError:
    return ApiError(
        413,
        f"the request body is over the server's limit of {limit / 1048576:g} MiB; "
        "send fewer events per request (the SDK batches 1,000 by default)",
        details={"limit_bytes": limit},
    )


async def read_body(request: Request, limit: int) -> bytes:
    """The body, decompressed when ``Content-Encoding: gzip``; 413 past ``limit`` bytes."""
    declared = request.headers.get("content-length")
    if declared is not None:
        try:
            if int(declared) > limit:
                raise _too_large(limit)
        except ValueError:
            raise ApiError(400, f"Content-Length {declared!r} is not a number") from None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        chunks.append(chunk)
    body = b"".join(chunks)
    encoding = request.headers.get("content-encoding", "identity").strip().lower()
    if encoding in ("", "identity"):
        return body
    if encoding != "gzip":
        raise ApiError(
            415,
            f"Content-Encoding {encoding!r} is not supported; send gzip or nothing",
            code="unsupported_media_type",
        )
    inflater = zlib.decompressobj(wbits=31)
    try:
        data = inflater.decompress(body, limit + 1)
    except zlib.error as error:
        raise ApiError(400, f"the body is not valid gzip ({error})") from None
    if len(data) > limit or inflater.unconsumed_tail:
        raise _too_large(limit)
    if not inflater.eof:
        raise ApiError(400, "the gzip body is truncated; send the whole compressed stream")
    return data
