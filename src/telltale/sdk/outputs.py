"""How a model's return value becomes the event's ``outputs`` columns.

The rule, applied on the background thread unless ``outputs=`` gives a function of your own:

- a mapping is kept as it is (``{"label": "cat", "score": 0.9}``);
- a non-empty sequence of numbers — or an object with ``.tolist()`` giving one, such as a NumPy
  row of class probabilities — becomes ``{"prediction": <index of the largest>, "score": <the
  largest>, "probabilities": "[...]"}``;
- anything else is the prediction: ``{"prediction": value}`` (a list that is not all numbers, e.g.
  tokens, travels as JSON text).

>>> map_output(0.93), map_output({"label": "cat"})
({'prediction': 0.93}, {'label': 'cat'})
>>> map_output([0.1, 0.7, 0.2])
{'prediction': 1, 'score': 0.7, 'probabilities': '[0.1, 0.7, 0.2]'}
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from telltale.sdk.values import to_json_text, wire_value

__all__ = ["OutputMapper", "map_output", "plain_sequence"]

OutputMapper = Callable[[Any], Mapping[str, Any]]


def plain_sequence(value: Any) -> list[Any] | None:
    """``value`` as a list when it is a list, tuple or has ``.tolist()`` giving a list; else None."""
    if isinstance(value, (list, tuple)):
        return list(value)
    if isinstance(value, (str, bytes, Mapping)):
        return None
    tolist = getattr(value, "tolist", None)
    if callable(tolist):
        listed = tolist()
        if isinstance(listed, list):
            return listed
    return None


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def map_output(value: Any) -> dict[str, Any]:
    """The ``outputs`` of one call (or one row of a batch call) from its return value."""
    if isinstance(value, Mapping):
        return {str(key): wire_value(item) for key, item in value.items()}
    listed = plain_sequence(value)
    if listed is None:
        tolist = getattr(value, "tolist", None)
        if callable(tolist) and not isinstance(value, (str, bytes)):
            value = tolist()  # a NumPy scalar
        return {"prediction": wire_value(value)}
    if listed and all(_is_number(item) for item in listed):
        best = max(range(len(listed)), key=listed.__getitem__)
        return {
            "prediction": best,
            "score": float(listed[best]),
            "probabilities": to_json_text(listed),
        }
    return {"prediction": wire_value(listed)}
