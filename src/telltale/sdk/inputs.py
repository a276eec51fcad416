"""How the arguments of a tracked call become the event's ``inputs`` (feature name → value).

The function's signature is read once, when it is decorated; the arguments of each call are
bound to it later, on the background thread. The rule for one call:

- ``inputs=`` given: it is called with the same arguments and returns the features (a mapping);
- one argument that is a mapping (``predict(features)``): its items are the features;
- one argument that is a sequence or array and ``feature_names=`` is given: they are zipped;
- one argument with ``.to_dict("records")`` (a one-row DataFrame): that row;
- otherwise: one feature per parameter (``predict(amount, country)`` → ``amount``, ``country``).
  ``self`` and ``cls`` are left out, so methods work.

For a batch call (``track(batch=True)``) the first argument holds the rows: a list of mappings, a
mapping of columns, anything with ``.to_dict("records")``, ``.to_dicts()`` or ``.to_pylist()``
(pandas, polars, pyarrow), or a 2-D sequence/array (columns named by ``feature_names=``, else
``<param>_0``, ``<param>_1`` …). Nothing here imports pandas or NumPy: they are duck-typed.

>>> def predict(amount, country="FR"): ...
>>> InputBinder(predict).single((12.5,), {})
{'amount': 12.5, 'country': 'FR'}
>>> InputBinder(predict, batch=True).rows(([{"amount": 1.0}, {"amount": 2.0}],), {})
[{'amount': 1.0}, {'amount': 2.0}]
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from telltale.errors import ConfigError
from telltale.sdk.outputs import plain_sequence

__all__ = ["InputBinder", "InputsFunction", "columns_to_rows", "records_of"]

InputsFunction = Callable[..., Any]


def _check_feature_names(feature_names: Sequence[str] | None) -> tuple[str, ...] | None:
    if feature_names is None:
        return None
    if isinstance(feature_names, str) or not all(isinstance(n, str) for n in feature_names):
        raise ConfigError(
            f"feature_names={feature_names!r} must be a list of strings, e.g. ['amount', 'age']"
        )
    names = tuple(feature_names)
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise ConfigError(
            f"feature_names repeats {', '.join(duplicates)}; give each column one name"
        )
    return names


class InputBinder:
    """Turns the arguments of one call into features; built once per tracked function."""

    def __init__(
        self,
        function: Callable[..., Any],
        *,
        feature_names: Sequence[str] | None = None,
        inputs: InputsFunction | None = None,
        batch: bool = False,
    ) -> None:
        if inputs is not None and not callable(inputs):
            raise ConfigError(
                f"inputs={inputs!r} is not callable; pass a function taking the same "
                "arguments as the model and returning a mapping of features"
            )
        self.feature_names = _check_feature_names(feature_names)
        self.inputs = inputs
        self.batch = batch
        try:
            self.signature: inspect.Signature | None = inspect.signature(function)
        except (TypeError, ValueError):  # some builtins have no signature
            self.signature = None
        self.skips_first = False
        self._simple: tuple[str, ...] | None = None
        if self.signature is not None:
            parameters = list(self.signature.parameters.values())
            self.skips_first = bool(parameters) and parameters[0].name in ("self", "cls")
            plain = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
            if all(parameter.kind in plain for parameter in parameters):
                # the common case, bound by position without inspect (5x faster)
                self._simple = tuple(parameter.name for parameter in parameters)
        # What lets the background thread read a whole batch of calls without a call per event:
        # the one argument that is normally the features dict, as (index, number of arguments),
        # or, for two or more plain parameters, (names, index of the first, number of arguments).
        self.mapping_argument: tuple[int, int] | None = None
        self.positional: tuple[tuple[str, ...], int, int] | None = None
        if inputs is None and not batch and self._simple is not None:
            first = 1 if self.skips_first else 0
            names = self._simple[first:]
            if len(names) == 1:
                self.mapping_argument = (first, len(self._simple))
            elif len(names) > 1:
                self.positional = (names, first, len(self._simple))

    def _named(self, args: tuple[Any, ...], kwargs: dict[str, Any] | None) -> dict[str, Any]:
        """The call's arguments by parameter name (without self/cls), defaults applied."""
        kwargs = kwargs or {}
        simple = self._simple
        if simple is not None and not kwargs and len(args) == len(simple):
            if self.skips_first:
                return dict(zip(simple[1:], args[1:], strict=True))
            return dict(zip(simple, args, strict=True))
        if self.signature is not None:
            try:
                bound = self.signature.bind(*args, **kwargs)
            except TypeError:
                pass
            else:
                bound.apply_defaults()
                named: dict[str, Any] = {}
                items = list(bound.arguments.items())
                if self.skips_first and items:
                    items = items[1:]
                for name, value in items:
                    kind = self.signature.parameters[name].kind
                    if kind is inspect.Parameter.VAR_POSITIONAL:
                        for index, item in enumerate(value):
                            named[f"{name}_{index}"] = item
                    elif kind is inspect.Parameter.VAR_KEYWORD:
                        named.update({str(key): item for key, item in value.items()})
                    else:
                        named[name] = value
                return named
        positional = args[1:] if self.skips_first else args
        named = {f"arg_{index}": value for index, value in enumerate(positional)}
        named.update({str(key): value for key, value in kwargs.items()})
        return named

    def features(self, args: tuple[Any, ...], kwargs: dict[str, Any] | None) -> Mapping[Any, Any]:
        """Like :meth:`single`, but a features dict passed as the one argument is returned as it
        is (not copied): its keys become column names later, a whole batch at a time."""
        fast = self.mapping_argument
        if fast is not None and kwargs is None and len(args) == fast[1]:
            value = args[fast[0]]
            if type(value) is dict:
                return value
        return self.single(args, kwargs)

    def single(self, args: tuple[Any, ...], kwargs: dict[str, Any] | None) -> dict[str, Any]:
        """The features of one call (values not yet coerced to wire values)."""
        if self.inputs is not None:
            chosen = self.inputs(*args, **(kwargs or {}))
            return _as_row(chosen, "input")
        named = self._named(args, kwargs)
        if len(named) != 1:
            return named
        ((name, value),) = named.items()
        if isinstance(value, Mapping):
            return {str(key): item for key, item in value.items()}
        if self.feature_names is not None:
            listed = plain_sequence(value)
            if listed is not None:
                if len(listed) == 1 and plain_sequence(listed[0]) is not None:
                    listed = plain_sequence(listed[0]) or []  # one row of a 2-D array
                return dict(zip(self.feature_names, listed, strict=False))
        records = records_of(value)
        if records is not None and len(records) == 1:
            return records[0]
        return {name: value}

    def rows(self, args: tuple[Any, ...], kwargs: dict[str, Any] | None) -> list[dict[str, Any]]:
        """The features of each row of a batch call."""
        if self.inputs is not None:
            chosen = self.inputs(*args, **(kwargs or {}))
            listed = plain_sequence(chosen)
            if listed is None:
                raise TypeError(f"inputs= returned {type(chosen).__name__}, not a list of rows")
            return [_as_row(row, "input") for row in listed]
        named = self._named(args, kwargs)
        if not named:
            return []
        name, data = next(iter(named.items()))
        return self._split(name, data)

    def _split(self, name: str, data: Any) -> list[dict[str, Any]]:
        if isinstance(data, Mapping):
            return columns_to_rows(data)
        records = records_of(data)
        if records is not None:
            return records
        listed = plain_sequence(data)
        if listed is None:
            raise TypeError(
                f"a batch call's first argument is a {type(data).__name__}; pass a list of rows, "
                "a mapping of columns, a DataFrame or a 2-D array"
            )
        rows: list[dict[str, Any]] = []
        for row in listed:
            if isinstance(row, Mapping):
                rows.append({str(key): item for key, item in row.items()})
                continue
            values = plain_sequence(row)
            if values is None:
                rows.append({name: row})
            elif self.feature_names is not None:
                rows.append(dict(zip(self.feature_names, values, strict=False)))
            else:
                rows.append({f"{name}_{index}": item for index, item in enumerate(values)})
        return rows


def _as_row(value: Any, name: str) -> dict[str, Any]:
    if isinstance(value, Mapping):
        return {str(key): item for key, item in value.items()}
    return {name: value}


def columns_to_rows(columns: Mapping[Any, Any]) -> list[dict[str, Any]]:
    lists = {str(key): plain_sequence(values) for key, values in columns.items()}
    size = max((len(values) for values in lists.values() if values is not None), default=0)
    rows: list[dict[str, Any]] = [{} for _ in range(size)]
    for key, values in lists.items():
        for index, row in enumerate(rows):
            row[key] = values[index] if values is not None and index < len(values) else None
    return rows


def records_of(data: Any) -> list[dict[str, Any]] | None:
    """Rows of a data frame or table (pandas, polars, pyarrow), duck-typed; None otherwise."""
    for method, call_args in (("to_dict", ("records",)), ("to_dicts", ()), ("to_pylist", ())):
        function = getattr(data, method, None)
        if not callable(function) or isinstance(data, Mapping):
            continue
        try:
            result = function(*call_args)
        except Exception:
            continue
        if isinstance(result, Mapping):  # polars' to_dict() gives columns
            return columns_to_rows(result)
        listed = plain_sequence(result)
        if listed is not None and all(isinstance(row, Mapping) for row in listed):
            return [{str(key): item for key, item in row.items()} for row in listed]
    return None
