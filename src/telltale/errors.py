"""The one exception tree of telltale.

Every error telltale raises on purpose derives from :class:`TelltaleError`, and its message
names the bad value, what was expected, and the fix::

    TelltaleError
     ├── ConfigError (ValueError)      a bad argument, option or setting
     ├── SchemaError (ValueError)      a table lacks a column, or a column has the wrong type
     ├── DataError (ValueError)        a file or table cannot be read or is empty
     └── ProfileError (ValueError)     a saved profile is corrupt, or two profiles do not line up

Catch :class:`TelltaleError` to handle all of them; each also derives from the builtin a caller
would naturally catch (``ValueError``).
"""

from __future__ import annotations

__all__ = ["ConfigError", "DataError", "ProfileError", "SchemaError", "TelltaleError"]


class TelltaleError(Exception):
    """Base of every error telltale raises on purpose."""


class ConfigError(TelltaleError, ValueError):
    """A bad argument, option or setting."""


class SchemaError(TelltaleError, ValueError):
    """A table lacks a column, or a column has a type the analysis cannot use."""


class DataError(TelltaleError, ValueError):
    """A file or table cannot be read, or holds no rows."""


class ProfileError(TelltaleError, ValueError):
    """A saved profile is corrupt, or two profiles cannot be merged or compared."""
