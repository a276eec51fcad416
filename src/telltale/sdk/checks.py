"""Output checks that catch silent failures: a model that answers, but answers nonsense.

A check looks at what the model returned and says why it is wrong, or nothing. Each built-in is
made once (arguments are checked then, not per call) and is a callable returning ``None`` when
the output is fine or a reason string. Any function of your own works too: return ``None`` or
``True`` when the output is fine, ``False`` or a reason string when it is not.

Checks run on the background thread (see docs/sdk.md): the model's return value is never
altered, and a check that raises is recorded as the failure ``"check NAME raised ..."``; it never
reaches the caller. An event with a failed check is recorded with status ``invalid`` and the
reasons in ``validation``.

>>> from telltale.sdk import checks
>>> checks.in_range(0, 1)([0.2, 1.7])
'in_range(0, 1): [1] = 1.7 is above 1'
>>> checks.finite()(0.5) is None
True
>>> run_checks([checks.not_none(), lambda y: y < 1 or "too big"], 3)
['too big']
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from telltale.errors import ConfigError
from telltale.sdk.outputs import plain_sequence

__all__ = [
    "Check",
    "CheckFunction",
    "as_check",
    "finite",
    "in_range",
    "length",
    "min_confidence",
    "not_none",
    "of_type",
    "run_checks",
    "shape",
]

CheckFunction = Callable[[Any], "str | bool | None"]

_MAX_NUMBERS = 100_000


class Check:
    """A named check: calling it with an output returns ``None`` (fine) or a reason string.

    >>> Check("positive", lambda y: None if y > 0 else f"{y} is not positive")(-2)
    '-2 is not positive'
    """

    __slots__ = ("_function", "name")

    def __init__(self, name: str, function: Callable[[Any], str | None]) -> None:
        self.name = name
        self._function = function

    def __call__(self, output: Any) -> str | None:
        return self._function(output)

    def __repr__(self) -> str:
        return self.name


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _numbers(output: Any, path: str = "", depth: int = 0) -> Iterator[tuple[str, float]]:
    """Every number inside ``output`` with where it sits (``[2]``, ``['score']``)."""
    if _number(output):
        yield path, output
        return
    if depth > 20:
        return
    if isinstance(output, Mapping):
        for key, value in output.items():
            yield from _numbers(value, f"{path}[{key!r}]", depth + 1)
        return
    listed = plain_sequence(output)
    if listed is not None:
        for index, value in enumerate(listed):
            yield from _numbers(value, f"{path}[{index}]", depth + 1)
        return
    if output is not None and not isinstance(output, (str, bytes, bool)):
        tolist = getattr(output, "tolist", None)  # a NumPy scalar
        if callable(tolist):
            value = tolist()
            if _number(value):
                yield path, value


def _where(path: str) -> str:
    return f"{path} = " if path else ""


def _describe(number: float) -> str:
    # plain spelling also for subclasses such as NumPy's float64 ("3.0", not "np.float64(3.0)")
    return repr(float(number)) if isinstance(number, float) else repr(int(number))


def not_none() -> Check:
    """The output is not None (nor a mapping holding None)."""

    def check(output: Any) -> str | None:
        if output is None:
            return "not_none(): the output is None"
        if isinstance(output, Mapping):
            missing = [str(key) for key, value in output.items() if value is None]
            if missing:
                return f"not_none(): {', '.join(missing)} is None"
        return None

    return Check("not_none()", check)


def finite() -> Check:
    """Every number in the output is finite (no NaN, no infinity)."""

    def check(output: Any) -> str | None:
        for count, (path, value) in enumerate(_numbers(output)):
            if count >= _MAX_NUMBERS:
                break
            if isinstance(value, float) and not math.isfinite(value):
                return f"finite(): {_where(path)}{_describe(value)}"
        return None

    return Check("finite()", check)


def _require_number(name: str, value: Any, example: str) -> float:
    if not _number(value) or not math.isfinite(value):
        raise ConfigError(f"{name}={value!r} is not a finite number; pass e.g. {example}")
    return value


def in_range(low: float, high: float) -> Check:
    """Every number in the output lies in ``[low, high]`` (NaN does not)."""
    low = _require_number("in_range low", low, "in_range(0, 1)")
    high = _require_number("in_range high", high, "in_range(0, 1)")
    if low > high:
        raise ConfigError(f"in_range({low!r}, {high!r}) is empty; pass the lower bound first")
    name = f"in_range({low!r}, {high!r})"

    def check(output: Any) -> str | None:
        for count, (path, value) in enumerate(_numbers(output)):
            if count >= _MAX_NUMBERS:
                break
            if value < low:
                return f"{name}: {_where(path)}{_describe(value)} is below {low!r}"
            if value > high:
                return f"{name}: {_where(path)}{_describe(value)} is above {high!r}"
            if value != value:
                return f"{name}: {_where(path)}nan is not a number in range"
        return None

    return Check(name, check)


def of_type(*types: type) -> Check:
    """The output is an instance of one of ``types``."""
    if not types or not all(isinstance(kind, type) for kind in types):
        raise ConfigError(
            f"of_type{types!r} needs one or more classes; pass e.g. of_type(float, int)"
        )
    shown = ", ".join(kind.__name__ for kind in types)
    name = f"of_type({shown})"

    def check(output: Any) -> str | None:
        if isinstance(output, types):
            return None
        return f"{name}: got {type(output).__name__}"

    return Check(name, check)


def _shape_of(output: Any) -> tuple[int, ...] | None:
    shape = getattr(output, "shape", None)
    if isinstance(shape, tuple) and all(isinstance(size, int) for size in shape):
        return shape
    dims: list[int] = []
    current = output
    while isinstance(current, (list, tuple)):
        dims.append(len(current))
        if not current:
            break
        current = current[0]
    return tuple(dims) if dims else None


def shape(*dims: int | None) -> Check:
    """The output has this shape (``.shape``, or the lengths of nested lists); None is any size.

    >>> shape(None, 3)([[1, 2, 3], [4, 5, 6]]) is None
    True
    """
    for size in dims:
        if size is not None and (not isinstance(size, int) or isinstance(size, bool) or size < 0):
            raise ConfigError(
                f"shape{dims!r}: {size!r} is not a size; pass whole numbers or None for any size"
            )
    shown = ", ".join("None" if size is None else str(size) for size in dims)
    name = f"shape({shown})"

    def check(output: Any) -> str | None:
        actual = _shape_of(output)
        if actual is None:
            return f"{name}: the output ({type(output).__name__}) has no shape"
        if len(actual) != len(dims) or any(
            want is not None and want != got for want, got in zip(dims, actual, strict=False)
        ):
            return f"{name}: got shape {actual}"
        return None

    return Check(name, check)


def length(size: int) -> Check:
    """``len(output) == size``."""
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise ConfigError(f"length({size!r}) needs a whole number ≥ 0, e.g. length(10)")
    name = f"length({size})"

    def check(output: Any) -> str | None:
        try:
            actual = len(output)
        except TypeError:
            return f"{name}: the output ({type(output).__name__}) has no length"
        return None if actual == size else f"{name}: got length {actual}"

    return Check(name, check)


def min_confidence(floor: float, key: str = "score") -> Check:
    """The model's confidence is at least ``floor``.

    The confidence is ``output[key]`` for a mapping, the largest value of a sequence of class
    probabilities, or the output itself when it is a number.
    """
    floor = _require_number("min_confidence floor", floor, "min_confidence(0.6)")
    name = f"min_confidence({floor!r})" if key == "score" else f"min_confidence({floor!r}, {key!r})"

    def check(output: Any) -> str | None:
        if isinstance(output, Mapping):
            if key not in output:
                return f"{name}: the output has no {key!r}; pass key= naming the confidence"
            confidence = output[key]
        elif _number(output):
            confidence = output
        else:
            listed = plain_sequence(output)
            numbers = [value for value in listed or () if _number(value)]
            if not numbers:
                return f"{name}: found no confidence in a {type(output).__name__}"
            confidence = max(numbers)
        if not _number(confidence):
            return f"{name}: {key} is {confidence!r}, not a number"
        if not confidence >= floor:
            return f"{name}: {key} {confidence!r} is below {floor!r}"
        return None

    return Check(name, check)


def _name_of(function: Callable[..., Any]) -> str:
    name = getattr(function, "__qualname__", None) or getattr(function, "__name__", None)
    return str(name) if name else type(function).__name__


def as_check(function: Check | CheckFunction) -> Check:
    """A :class:`Check` from a built-in check or any callable; checked when tracking starts."""
    if isinstance(function, Check):
        return function
    if not callable(function):
        raise ConfigError(
            f"validate= takes callables, got {function!r}; pass e.g. [checks.finite()] "
            "or a function returning None (fine) or a reason string"
        )
    name = _name_of(function)

    def check(output: Any) -> str | None:
        verdict = function(output)
        if verdict is None or verdict is True:
            return None
        if verdict is False:
            return f"check {name} failed"
        if isinstance(verdict, str):
            return verdict
        return f"check {name} returned {verdict!r}; return None or True (fine), or a reason"

    return Check(name, check)


def run_checks(checks: Iterable[Check | CheckFunction], output: Any) -> list[str]:
    """The reasons ``output`` fails, one per failed check; a check that raises is a failure."""
    reasons: list[str] = []
    for function in checks:
        check = as_check(function)
        try:
            reason = check(output)
        except Exception as error:
            reason = f"check {check.name} raised {type(error).__name__}: {_safe_str(error)}"
        if reason is not None:
            reasons.append(reason)
    return reasons


def _safe_str(error: BaseException) -> str:
    try:
        return str(error)
    except Exception:
        return "<unprintable>"
