"""What the calling thread leaves in the buffer, and the per-function settings to read it later.

Everything about a tracked function that does not change between calls — how to bind its
arguments to features, how to map its outputs, which checks to run, whether it is a batch call —
is worked out once, when it is decorated, and kept in a :class:`CallSite`. A call then appends one
flat tuple of raw references, a :data:`Record`, and the background thread does the rest::

    (site, number, start_ns, end_ns, args, kwargs, result, error, status, span_context, rows)

``number`` is the call's place in the event-id sequence (for a batch call, the first of a block of
``rows`` numbers; None when the block is left to the background thread); ``status`` is one of
:data:`STATUSES` as far as the calling thread knows (checks may later turn ``ok`` into
``invalid``); ``error`` is the exception (or, for ``fallback``, why the fallback was used).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from telltale.sdk.checks import Check
from telltale.sdk.inputs import InputBinder
from telltale.sdk.outputs import OutputMapper

__all__ = [
    "ERROR",
    "FALLBACK",
    "INVALID",
    "OK",
    "STATUSES",
    "TIMEOUT",
    "CallSite",
    "Record",
    "batch_length",
]

OK = "ok"
ERROR = "error"
INVALID = "invalid"
TIMEOUT = "timeout"
FALLBACK = "fallback"
STATUSES = (OK, ERROR, INVALID, TIMEOUT, FALLBACK)

Record = tuple[Any, ...]


@dataclass(frozen=True, eq=False)
class CallSite:
    """The settings of one tracked function (or one ``observe`` block).

    Compared and hashed by identity: the background thread groups a batch's records by site.
    """

    name: str
    binder: InputBinder
    checks: tuple[Check, ...] = ()
    outputs: OutputMapper | None = None
    batch: bool = False
    segment: dict[str, str] = field(default_factory=dict)


def batch_length(result: Any) -> int | None:
    """How many rows a batch call answered, or None when it cannot be told cheaply."""
    try:
        if isinstance(result, Mapping):  # a mapping of output columns
            for column in result.values():
                return len(column)
            return 0
        if isinstance(result, (str, bytes)):
            return None
        return len(result)
    except Exception:
        return None
