"""The base of every analysis result: a typed object that turns into plain JSON.

>>> from dataclasses import dataclass
>>> @dataclass
... class Answer(Result):
...     value: float
>>> Answer(0.5).to_json()
'{"value": 0.5}'
"""

from __future__ import annotations

import dataclasses
import json
import math
from typing import Any

import numpy as np

__all__ = ["Result", "jsonable"]


def jsonable(value: Any) -> Any:
    """Convert ``value`` to what :func:`json.dumps` writes as strict JSON.

    NaN and infinities become ``None`` (JSON has no such numbers); numpy scalars and arrays
    become Python numbers and lists; results and dataclasses become dicts.
    """
    if isinstance(value, Result):
        return value.to_dict()  # a result may override what it exports
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _fields(value)
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return [jsonable(v) for v in value.tolist()]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        value = float(value)
        return value if math.isfinite(value) else None
    return value


def _fields(value: Any) -> dict[str, Any]:
    return {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}


class Result:
    """Mixin for analysis results (dataclasses): ``to_dict()`` and ``to_json()``."""

    def to_dict(self) -> dict[str, Any]:
        return _fields(self) if dataclasses.is_dataclass(self) else {}

    def to_json(self, **kwargs: Any) -> str:
        return json.dumps(self.to_dict(), allow_nan=False, **kwargs)
