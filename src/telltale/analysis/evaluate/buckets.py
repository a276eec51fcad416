"""Bucketing a feature: discrete values, quantiles that never split ties, or fixed edges.

A bucketing is *fit* once on the union of the values of all compared systems (for span
features: the gold spans and every system's predicted spans) and then *assigns* each system's
values, so every system is bucketed on the same edges and per-bucket results line up.

- :class:`DiscreteBuckets`: one bucket per value, the most frequent first; past
  ``max_buckets - 1`` values the rest share the bucket ``"other"``.
- :class:`QuantileBuckets`: about ``n_buckets`` buckets of similar size. Cuts fall only between
  distinct values, so all copies of a value land in one bucket (a bucket can be larger than
  ``1 / n_buckets`` when one value is frequent, and there are fewer buckets when there are few
  distinct values). Buckets are named by the smallest and largest union value they hold,
  ``"[6, 9]"``.
- :class:`FixedBuckets`: the caller's edges ``e0 < e1 < ... < ek``; bucket ``i`` is
  ``[e_i, e_{i+1})``, the last one closed, ``"< e0"`` and ``"> ek"`` catch values outside.

Missing values (NaN, ``None``) go to a ``"missing"`` bucket.

>>> fitted = QuantileBuckets(2).fit(np.array([1.0, 1.0, 1.0, 2.0, 3.0, 4.0, np.nan]))
>>> fitted.labels, fitted.assign(np.array([1.0, 4.0, np.nan])).tolist()
(['[1, 1]', '[2, 4]', 'missing'], [0, 1, 2])
"""

from __future__ import annotations

import itertools
import math
from collections import Counter
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

from telltale.errors import ConfigError

__all__ = [
    "MISSING",
    "OTHER",
    "Bucketing",
    "DiscreteBuckets",
    "FittedBuckets",
    "FixedBuckets",
    "QuantileBuckets",
    "parse_bucketing",
]

IntArray = NDArray[np.intp]
MISSING = "missing"
OTHER = "other"


def _format(value: float) -> str:
    if float(value).is_integer() and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.4g}"


def _missing_mask(values: NDArray[Any]) -> NDArray[np.bool_]:
    if values.dtype.kind == "f":
        return np.isnan(values)
    return np.array(
        [v is None or (isinstance(v, float) and math.isnan(v)) for v in values], dtype=bool
    )


@dataclass(frozen=True)
class FittedBuckets:
    """Buckets fit on a union of values: their labels and how values map to them.

    ``kind`` is ``"discrete"``, ``"quantile"`` or ``"fixed"``; ``edges`` are the lower bounds
    used for numeric buckets (``values >= edges[i]`` go to bucket ``i`` or later).
    """

    kind: str
    labels: list[str]
    edges: list[float]
    categories: dict[str, int]
    has_missing: bool
    has_below: bool = False

    def assign(self, values: NDArray[Any]) -> IntArray:
        """The bucket index of each value."""
        if self.kind == "discrete":
            return self._discrete_codes(values)
        missing = _missing_mask(values)
        codes = np.zeros(len(values), dtype=np.intp)
        present = ~missing
        numbers = values[present].astype(np.float64)
        index = np.searchsorted(np.asarray(self.edges), numbers, side="right") - 1
        if self.kind == "fixed":
            inner = len(self.edges) - 1  # buckets between edges
            last = np.asarray(self.edges)[-1]
            index = np.where(numbers == last, inner - 1, index)  # the last bucket is closed
            index = np.where(index >= inner, inner, index)  # "> ek"
            index = index + (1 if self.has_below else 0)
            index = np.where(numbers < self.edges[0], 0, index)
        else:
            index = np.clip(index, 0, len(self.labels) - 1 - int(self.has_missing))
        codes[present] = index
        codes[missing] = len(self.labels) - 1 if self.has_missing else -1
        return codes

    def _discrete_codes(self, values: NDArray[Any]) -> IntArray:
        # Map each distinct value once: a million rows hold few distinct categories.
        other = self.categories.get(OTHER, -1)
        missing = len(self.labels) - 1 if self.has_missing else -1
        uniques, inverse = _factorize(values)
        lut = np.array(
            [
                missing if _is_missing(v) else self.categories.get(_category(v), other)
                for v in uniques
            ]
            + [missing],  # inverse -1: a null
            dtype=np.intp,
        )
        return lut[inverse]

    def describe(self) -> dict[str, Any]:
        out: dict[str, Any] = {"method": self.kind, "buckets": self.labels}
        if self.kind != "discrete":
            out["edges"] = self.edges
        return out


class Bucketing(Protocol):
    """A way to cut a feature into buckets, fit on the union of all systems' values."""

    def fit(self, union: NDArray[Any]) -> FittedBuckets: ...


@dataclass(frozen=True)
class DiscreteBuckets:
    """One bucket per value (most frequent first), the rest in ``"other"``."""

    max_buckets: int = 10

    def __post_init__(self) -> None:
        if self.max_buckets < 2:
            raise ConfigError(f"DiscreteBuckets(max_buckets={self.max_buckets}) needs at least 2")

    def fit(self, union: NDArray[Any]) -> FittedBuckets:
        uniques, inverse = _factorize(union)
        per_value = np.bincount(inverse[inverse >= 0], minlength=len(uniques))
        counts: Counter[str] = Counter()
        n_missing = int(np.count_nonzero(inverse < 0))
        for value, count in zip(uniques, per_value.tolist(), strict=True):
            if _is_missing(value):
                n_missing += count
            elif count:
                counts[_category(value)] += count
        ordered = sorted(counts, key=lambda v: (-counts[v], v))
        if len(ordered) > self.max_buckets:
            ordered = [*ordered[: self.max_buckets - 1], OTHER]
        has_missing = n_missing > 0
        labels = ordered + ([MISSING] if has_missing else [])
        return FittedBuckets(
            "discrete", labels, [], {v: i for i, v in enumerate(ordered)}, has_missing
        )


def _is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, (float, np.floating)) and math.isnan(value))


def _factorize(values: NDArray[Any]) -> tuple[list[Any], IntArray]:
    """Distinct values and each value's index among them; ``-1`` for a null (``None``).

    Strings go through Arrow's hash-based dictionary encoding (a million rows in tens of
    milliseconds, against about a second for a Python loop); numbers through ``np.unique``;
    anything else (mixed objects) through a dict.
    """
    values = np.asarray(values)
    if values.dtype.kind != "O":
        uniques, inverse = np.unique(values, return_inverse=True)
        return uniques.tolist(), np.asarray(inverse, dtype=np.intp).ravel()
    try:
        import pyarrow as pa
        import pyarrow.compute as pc

        array = pa.array(values, from_pandas=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError, ImportError):
        return _factorize_objects(values)
    if not (pa.types.is_string(array.type) or pa.types.is_large_string(array.type)):
        return _factorize_objects(values)
    encoded = pc.dictionary_encode(array)
    indices = encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False)
    return encoded.dictionary.to_pylist(), np.asarray(indices, dtype=np.intp)


def _factorize_objects(values: NDArray[Any]) -> tuple[list[Any], IntArray]:
    """Distinct values and the index of each value among them (first-seen order).

    Values are told apart by type too: ``0``, ``False`` and ``0.0`` are equal in Python but are
    the categories ``"0"``, ``"false"`` and ``"0"``.
    """
    table: dict[Any, int] = {}
    firsts: list[Any] = []

    def index(value: Any) -> int:
        try:
            key: Any = (type(value), value)
            hash(key)
        except TypeError:  # an unhashable value (a list): its text names it
            key = (type(value), repr(value))
        found = table.get(key)
        if found is None:
            found = table[key] = len(firsts)
            firsts.append(value)
        return found

    inverse = np.fromiter((index(v) for v in values), np.intp, len(values))
    return firsts, inverse


def _category(value: Any) -> str:
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    if isinstance(value, (float, np.floating)):
        return _format(float(value))
    return str(value)


@dataclass(frozen=True)
class QuantileBuckets:
    """About ``n_buckets`` equal-count buckets; ties are never split."""

    n_buckets: int = 4

    def __post_init__(self) -> None:
        if self.n_buckets < 1:
            raise ConfigError(f"QuantileBuckets(n_buckets={self.n_buckets}) needs at least 1")

    def fit(self, union: NDArray[Any]) -> FittedBuckets:
        numbers = np.asarray(union, dtype=np.float64)
        missing = np.isnan(numbers)
        values, counts = np.unique(numbers[~missing], return_counts=True)
        has_missing = bool(missing.any())
        if len(values) == 0:
            return FittedBuckets("quantile", [MISSING], [], {}, True)
        cumulative = np.cumsum(counts)
        total = cumulative[-1]
        # bucket j ends at the first distinct value where the running count reaches j/n of all
        ends = sorted(
            {
                int(np.searchsorted(cumulative, total * j / self.n_buckets - 1e-9, side="left"))
                for j in range(1, self.n_buckets + 1)
            }
        )
        starts = [0] + [e + 1 for e in ends[:-1]]
        starts = [s for s in starts if s < len(values)]
        ends = [*(s - 1 for s in starts[1:]), len(values) - 1]
        edges = [float(values[s]) for s in starts]
        labels = [
            f"[{_format(values[s])}, {_format(values[e])}]"
            for s, e in zip(starts, ends, strict=True)
        ]
        return FittedBuckets(
            "quantile", labels + ([MISSING] if has_missing else []), edges, {}, has_missing
        )


@dataclass(frozen=True)
class FixedBuckets:
    """Buckets between the caller's edges: ``[e_i, e_{i+1})``, the last one closed."""

    edges: tuple[float, ...]

    def __init__(self, edges: Any) -> None:
        values = tuple(float(e) for e in edges)
        if len(values) < 2 or any(b <= a for a, b in itertools.pairwise(values)):
            raise ConfigError(
                f"FixedBuckets(edges={list(edges)!r}) needs at least two strictly increasing edges, "
                "e.g. [1, 6, 10, 23, 125]"
            )
        object.__setattr__(self, "edges", values)

    def fit(self, union: NDArray[Any]) -> FittedBuckets:
        numbers = np.asarray(union, dtype=np.float64)
        missing = np.isnan(numbers)
        present = numbers[~missing]
        e = self.edges
        labels = [f"[{_format(a)}, {_format(b)})" for a, b in itertools.pairwise(e[:-1])]
        labels.append(f"[{_format(e[-2])}, {_format(e[-1])}]")
        below = bool((present < e[0]).any())
        above = bool((present > e[-1]).any())
        labels = ([f"< {_format(e[0])}"] if below else []) + labels
        labels += [f"> {_format(e[-1])}"] if above else []
        has_missing = bool(missing.any())
        return FittedBuckets(
            "fixed", labels + ([MISSING] if has_missing else []), list(e), {}, has_missing, below
        )


def parse_bucketing(text: str) -> Bucketing:
    """``"discrete"``, ``"discrete:5"``, ``"quantile:4"`` or ``"edges:1,6,10"`` as a bucketing."""
    method, _, argument = text.partition(":")
    try:
        if method == "discrete":
            return DiscreteBuckets(int(argument) if argument else 10)
        if method == "quantile":
            return QuantileBuckets(int(argument) if argument else 4)
        if method == "edges":
            return FixedBuckets([float(x) for x in argument.split(",")])
    except ValueError:
        pass
    raise ConfigError(
        f"bucketing {text!r} is not understood; use 'discrete[:MAX]', 'quantile[:N]' or "
        "'edges:E0,E1,...'"
    )
