"""The one exception tree of telltale.

Every error telltale raises on purpose derives from :class:`TelltaleError`, and its message
names the bad value, what was expected, and the fix::

    TelltaleError
     ├── ConfigError (ValueError)      a bad argument, option or setting
     ├── SchemaError (ValueError)      a table lacks a column, or a column has the wrong type
     ├── MalformedError (ValueError)   a request body is not JSON / Arrow / gzip   (HTTP 400)
     ├── DataError (ValueError)        a file or table cannot be read or is empty
     ├── ProfileError (ValueError)     a saved profile is corrupt, or two profiles do not line up
     ├── NotFoundError (LookupError)   an unknown model, reference, key or path
     ├── AuthError (PermissionError)   no API key, or an unknown one              (HTTP 401)
     │    └── ScopeError               the key lacks the scope or project asked for (HTTP 403)
     └── UnavailableError (RuntimeError)  the store is closing or full; retry later (HTTP 503)

Catch :class:`TelltaleError` to handle all of them; each also derives from the builtin a caller
would naturally catch (``ValueError``, ``LookupError``, ``PermissionError``). ``details`` carries
machine-readable context (the row and field of a bad value), which the server puts in its error
body.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "AuthError",
    "ConfigError",
    "DataError",
    "MalformedError",
    "NotFoundError",
    "ProfileError",
    "SchemaError",
    "ScopeError",
    "TelltaleError",
    "UnavailableError",
]


class TelltaleError(Exception):
    """Base of every error telltale raises on purpose."""

    def __init__(self, message: str = "", *, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.details: dict[str, Any] = dict(details or {})


class ConfigError(TelltaleError, ValueError):
    """A bad argument, option or setting."""


class SchemaError(TelltaleError, ValueError):
    """A table lacks a column, or a column has a type the analysis cannot use."""


class MalformedError(TelltaleError, ValueError):
    """A request body that is not JSON, not an Arrow IPC stream, or not valid gzip."""


class DataError(TelltaleError, ValueError):
    """A file or table cannot be read, or holds no rows."""


class ProfileError(TelltaleError, ValueError):
    """A saved profile is corrupt, or two profiles cannot be merged or compared."""


class NotFoundError(TelltaleError, LookupError):
    """An unknown model, reference, API key or path."""


class AuthError(TelltaleError, PermissionError):
    """No API key was sent, or the key is unknown or revoked."""


class ScopeError(AuthError):
    """The API key is valid but lacks the scope (ingest, read, admin) or project asked for."""


class UnavailableError(TelltaleError, RuntimeError):
    """The store cannot take the request now (closing, disk full); the client should retry."""
