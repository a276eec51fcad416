"""Redacting or hashing input fields before they leave the process (PII).

Rules are given per feature name and checked when the :class:`~telltale.sdk.Monitor` is made:

- ``"drop"``: the feature is not recorded at all;
- ``"mask"``: the value is replaced by ``"***"`` (the column stays, so missing-value rates still
  make sense);
- ``"hash"``: salted SHA-256 of the value's text, truncated to ``hash_chars`` hex characters, so
  equal values still group together (cardinality, drift of categories) without being readable;
- a callable: ``value -> new value``, for anything else (keep a prefix, bucket an age …).

Hashing needs a salt that is secret and the same in every process of the service, so that hashes
agree across restarts but cannot be reversed by hashing guesses: pass ``redact_salt=`` or set
``TELLTALE_REDACT_SALT``. Redaction runs on the background thread before a batch is encoded, so
nothing unredacted reaches the network or the spool directory; it is applied a column (one
feature over the whole batch) at a time, and a dropped feature is never even coerced.

>>> redactor = Redactor({"email": "hash", "ssn": "drop", "name": "mask"}, salt="s3cret")
>>> redactor.apply({"email": "a@b.c", "ssn": "123", "name": "Ann", "age": 41})
{'email': 'e737654a0412c00a', 'name': '***', 'age': 41}
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Mapping
from typing import Any

from telltale.errors import ConfigError
from telltale.sdk.values import ABSENT

__all__ = ["MASK", "RedactionRule", "Redactor"]

MASK = "***"
RedactionRule = str | Callable[[Any], Any]
_KINDS = ("drop", "hash", "mask")


class Redactor:
    """Applies per-feature rules to a row of inputs."""

    def __init__(
        self,
        rules: Mapping[str, RedactionRule] | None,
        *,
        salt: str | bytes | None = None,
        hash_chars: int = 16,
    ) -> None:
        self.rules: dict[str, RedactionRule] = {}
        for field, rule in (rules or {}).items():
            if not isinstance(field, str):
                raise ConfigError(f"redact= keys are feature names; got {field!r}")
            if isinstance(rule, str):
                if rule not in _KINDS:
                    raise ConfigError(
                        f"redact[{field!r}]={rule!r} is not a rule; use one of "
                        f"{', '.join(repr(kind) for kind in _KINDS)} or a function value -> value"
                    )
            elif not callable(rule):
                raise ConfigError(
                    f"redact[{field!r}]={rule!r} is neither 'drop', 'mask', 'hash' nor a function"
                )
            self.rules[field] = rule
        if not isinstance(hash_chars, int) or not 8 <= hash_chars <= 64:
            raise ConfigError(f"hash_chars={hash_chars!r} must be a whole number from 8 to 64")
        self.hash_chars = hash_chars
        if salt is None:
            salt = os.environ.get("TELLTALE_REDACT_SALT")
        if salt is None and "hash" in self.rules.values():
            fields = sorted(field for field, rule in self.rules.items() if rule == "hash")
            raise ConfigError(
                f"redact= hashes {', '.join(fields)} but no salt is set; pass redact_salt='...' "
                "(a secret, the same in every process) or set TELLTALE_REDACT_SALT"
            )
        self._salt = salt.encode() if isinstance(salt, str) else (salt or b"")

    def __bool__(self) -> bool:
        return bool(self.rules)

    def hash(self, value: Any) -> str:
        """The salted, truncated SHA-256 hex digest of ``str(value)``."""
        digest = hashlib.sha256(self._salt + b"\x00" + str(value).encode("utf-8", "replace"))
        return digest.hexdigest()[: self.hash_chars]

    def apply(self, row: dict[str, Any]) -> dict[str, Any]:
        """A copy of ``row`` with the rules applied (rows without ruled fields are returned as is)."""
        if not self.rules or self.rules.keys().isdisjoint(row):
            return row
        out: dict[str, Any] = {}
        for field, value in row.items():
            rule = self.rules.get(field)
            if rule is None:
                out[field] = value
            elif rule != "drop":
                out[field] = self._redact(rule, value)
        return out

    def apply_columns(self, columns: dict[str, list[Any]]) -> dict[str, list[Any]]:
        """The columns of a batch's inputs with the rules applied; the same dict if none applies.

        >>> Redactor({"name": "mask", "ssn": "drop"}).apply_columns(
        ...     {"name": ["Ann", None], "ssn": ["1", "2"], "age": [41, 52]})
        {'name': ['***', None], 'age': [41, 52]}
        """
        if not self.rules or self.rules.keys().isdisjoint(columns):
            return columns
        out: dict[str, list[Any]] = {}
        for name, values in columns.items():
            rule = self.rules.get(name)
            if rule is None:
                out[name] = values
            elif rule != "drop":
                redact = self._redact
                out[name] = [value if value is ABSENT else redact(rule, value) for value in values]
        return out

    def _redact(self, rule: RedactionRule, value: Any) -> Any:
        if rule == "mask":
            return None if value is None else MASK
        if rule == "hash":
            return None if value is None else self.hash(value)
        try:
            return rule(value)  # type: ignore[operator]
        except Exception as error:
            # a failing rule must not leak the raw value: record why instead
            return f"<redaction failed: {type(error).__name__}>"
