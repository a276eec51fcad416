"""Who is calling: API keys on every request, and the audit log of reads.

Keys travel as ``Authorization: Bearer <key>``. A check costs one dictionary lookup and one
SHA-256 of the key (the key store keeps a cache), so it is cheap enough for every ingest request.
"""

from __future__ import annotations

from fastapi import Request
from starlette.concurrency import run_in_threadpool

from telltale.store.audit import AuditLog
from telltale.store.keys import ApiKey, KeyStore

__all__ = ["Auth"]


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if header is None:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip() or None


class Auth:
    def __init__(self, keys: KeyStore, audit_log: AuditLog) -> None:
        self._keys = keys
        self._audit = audit_log

    def require(self, request: Request, action: str) -> ApiKey:
        """The request's key, checked for ``action``; raises AuthError (401) or ScopeError (403)."""
        key = self._keys.verify(_bearer(request)).require(action)
        request.state.api_key = key
        return key

    async def audit(self, request: Request, key: ApiKey, status: int) -> None:
        """Write a read of event data to the audit log before the answer leaves."""
        client = request.client.host if request.client else ""
        await run_in_threadpool(
            self._audit.record,
            project=key.project,
            key_id=key.key_id,
            action=f"{request.method} {request.url.path}",
            query=request.url.query,
            status=status,
            client=client,
        )
