"""Pieces shared by the performance results: the result base, metric entries, argument checks."""

from __future__ import annotations

import dataclasses
import math
import numbers
from typing import Any, cast

import numpy as np
from numpy.typing import NDArray

from telltale.errors import ConfigError, DataError
from telltale.schema.result import Result, jsonable

from .bootstrap import percentile_interval

FloatArray = NDArray[np.float64]

MAX_BOOTSTRAP = 100_000
"""Largest ``n_bootstrap`` accepted."""

INTERNAL = {"internal": True}
"""Field metadata of values kept on a result but left out of ``to_dict()``."""


class PerformanceResult(Result):
    """A :class:`Result` whose fields marked ``INTERNAL`` (bootstrap replicates) stay out of JSON."""

    def to_dict(self) -> dict[str, Any]:
        return {
            f.name: jsonable(getattr(self, f.name))
            for f in dataclasses.fields(cast(Any, self))
            if not f.metadata.get("internal", False)
        }


def metric_entry(
    value: float | None, replicates: FloatArray | None, confidence: float
) -> dict[str, Any]:
    """``{"value": v, "ci": [lo, hi] | None}`` with ``None`` for an undefined value."""
    if value is None or not math.isfinite(value):
        return {"value": None, "ci": None}
    ci = None if replicates is None else percentile_interval(replicates, confidence)
    return {"value": float(value), "ci": ci}


def check_bootstrap_args(
    n_bootstrap: Any, seed: Any, confidence: Any
) -> tuple[int, int | None, float]:
    """Validate the common keyword arguments; return them normalised."""
    if isinstance(n_bootstrap, bool) or not isinstance(n_bootstrap, numbers.Integral):
        raise ConfigError(
            f"n_bootstrap={n_bootstrap!r} is not an integer; pass a whole number of resamples "
            "such as 1000, or 0 for no confidence intervals"
        )
    if not 0 <= int(n_bootstrap) <= MAX_BOOTSTRAP:
        raise ConfigError(
            f"n_bootstrap={n_bootstrap} is outside 0..{MAX_BOOTSTRAP}; 1000 resamples are "
            "plenty for 95% intervals, and 0 turns intervals off"
        )
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, numbers.Integral)):
        raise ConfigError(f"seed={seed!r} is not an integer; pass an int such as 0, or None")
    if seed is not None and int(seed) < 0:
        raise ConfigError(f"seed={seed} is negative; pass a non-negative int such as 0")
    if (
        isinstance(confidence, bool)
        or not isinstance(confidence, numbers.Real)
        or not 0.0 < float(confidence) < 1.0
    ):
        raise ConfigError(
            f"confidence={confidence!r} is not a probability strictly between 0 and 1; "
            "pass e.g. 0.95 for 95% intervals"
        )
    return int(n_bootstrap), None if seed is None else int(seed), float(confidence)


def describe_rows(mask: NDArray[np.bool_], values: NDArray[Any] | None = None) -> str:
    """``"3 rows (first at row 17: inf)"`` for the true entries of ``mask``."""
    where = np.flatnonzero(mask)
    first = int(where[0])
    shown = "" if values is None else f": {values[first].item()!r}"
    count = len(where)
    return f"{count} row{'s' if count != 1 else ''} (first at row {first}{shown})"


def any_per_row(values: NDArray[np.bool_]) -> NDArray[np.bool_]:
    """Rows of a 2-D boolean array with any true entry (a 1-D array is returned as is)."""
    if values.ndim == 1:
        return values
    return np.asarray(values.any(axis=1), dtype=bool)


def check_lengths(arrays: dict[str, int]) -> int:
    """The common length of the named arrays; :class:`DataError` if they differ or are empty."""
    lengths = {name: n for name, n in arrays.items()}
    distinct = set(lengths.values())
    if len(distinct) > 1:
        listed = ", ".join(f"{name} has {n:,} rows" for name, n in lengths.items())
        raise DataError(
            f"the inputs differ in length ({listed}); pass columns of the same rows, in the same order"
        )
    n = distinct.pop()
    if n == 0:
        raise DataError(
            f"{', '.join(lengths)} {'is' if len(lengths) == 1 else 'are'} empty; "
            "performance needs at least one row with a target and a prediction"
        )
    return n


def ratio(numerator: FloatArray, denominator: FloatArray) -> FloatArray:
    """``numerator / denominator`` with 0 where the denominator is 0 (scikit-learn's zero_division=0)."""
    numerator, denominator = np.broadcast_arrays(numerator, denominator)
    out = np.zeros(numerator.shape)
    np.divide(numerator, denominator, out=out, where=denominator > 0)
    return out


def nan_ratio(numerator: FloatArray, denominator: FloatArray) -> FloatArray:
    """``numerator / denominator`` with NaN where the denominator is 0 (undefined)."""
    numerator, denominator = np.broadcast_arrays(numerator, denominator)
    out = np.full(numerator.shape, np.nan)
    np.divide(numerator, denominator, out=out, where=denominator > 0)
    return out


def nan_mean_rows(values: FloatArray) -> FloatArray:
    """Mean over axis 1 ignoring NaN, NaN where a row has no finite value (no warning)."""
    finite = np.isfinite(values)
    total = np.where(finite, values, 0.0).sum(axis=1)
    return nan_ratio(total, finite.sum(axis=1).astype(np.float64))


def rows_to_exclude(
    n_input: int, reasons: list[tuple[str, NDArray[np.bool_] | None]]
) -> tuple[NDArray[np.bool_], dict[str, int]]:
    """Rows with a missing value, and their count per reason (the first reason wins).

    Raises :class:`DataError` when no row is left.
    """
    drop = np.zeros(n_input, dtype=bool)
    excluded: dict[str, int] = {}
    for reason, mask in reasons:
        if mask is not None:
            new = mask & ~drop
            if new.any():
                excluded[reason] = int(new.sum())
                drop |= new
    if drop.all():
        raise DataError(
            f"all {n_input:,} rows were excluded ({excluded_note(excluded, n_input)}); "
            "nothing is left to evaluate — check that the target and prediction columns are filled"
        )
    return drop, excluded


def undefined_resamples_note(
    points: dict[str, float | None], replicates: dict[str, FloatArray]
) -> str | None:
    """A note naming metrics that were undefined (0/0) in some resamples, or ``None``."""
    by_count: dict[int, list[str]] = {}
    total = 0
    for name, value in points.items():
        values = replicates.get(name)
        if value is None or values is None:
            continue
        total = len(values)
        bad = int(np.count_nonzero(~np.isfinite(values)))
        if bad:
            by_count.setdefault(bad, []).append(name)
    if not by_count:
        return None
    parts = "; ".join(f"{', '.join(names)}: {bad:,}" for bad, names in sorted(by_count.items()))
    return (
        f"resamples where a metric was undefined (e.g. no positives drawn) are left out of its "
        f"interval — out of {total:,}: {parts}"
    )


def excluded_note(excluded: dict[str, int], n_input: int) -> str:
    """A note describing the excluded rows (``excluded`` is not empty)."""
    parts = ", ".join(f"{count:,} with {reason}" for reason, count in excluded.items())
    total = sum(excluded.values())
    return f"{total:,} of {n_input:,} rows excluded: {parts}"
