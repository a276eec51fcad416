"""Turning caller arrays into clean numpy arrays: labels to codes, numbers to float64, missing rows.

Missing values are NaN in float arrays, ``None`` or NaN in object arrays, and masked entries of a
:class:`numpy.ma.MaskedArray`. They are reported as a boolean mask so the caller can exclude the
rows and count them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from telltale.errors import ConfigError, DataError

from ._base import any_per_row, describe_rows

BoolArray = NDArray[np.bool_]
IntArray = NDArray[np.intp]
FloatArray = NDArray[np.float64]

_SMALL_RANGE = 1 << 22
"""Integer labels spanning at most this many values are encoded with a lookup table."""


@dataclass(frozen=True)
class Factorized:
    """Labels as codes: ``uniques[codes[i]]`` is row ``i``'s label (code 0 on missing rows)."""

    codes: IntArray
    uniques: list[Any]
    missing: BoolArray | None


def _unmask(x: Any) -> tuple[NDArray[Any], BoolArray | None]:
    if isinstance(x, np.ma.MaskedArray):
        mask = np.ma.getmaskarray(x)
        return np.asarray(np.ma.getdata(x)), (mask if mask.any() else None)
    return np.asarray(x), None


def _or(a: BoolArray | None, b: BoolArray | None) -> BoolArray | None:
    if a is None:
        return b
    if b is None:
        return a
    return a | b


def _is_missing_label(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, (float, np.floating)):
        return math.isnan(value)
    return False


def _python(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def _compact(raw: IntArray, valid: BoolArray | None, n_raw: int) -> tuple[IntArray, IntArray]:
    """Renumber raw codes ``0..n_raw-1`` to the present ones; return (codes, present raw codes)."""
    counts = np.bincount(raw if valid is None else raw[valid], minlength=n_raw)
    present = np.flatnonzero(counts)
    lut = np.zeros(n_raw, dtype=np.intp)
    lut[present] = np.arange(len(present))
    return lut[raw], present


def factorize(x: Any, name: str) -> Factorized:
    """Encode a 1-D array of labels (ints, bools, strings, floats, objects) as codes."""
    data, missing = _unmask(x)
    if data.ndim != 1:
        raise ConfigError(f"{name} has shape {data.shape}; pass a 1-D array of labels, one per row")
    kind = data.dtype.kind
    if kind == "f":
        nan = np.isnan(data)
        if np.isinf(data).any():
            raise DataError(
                f"{name} has infinite labels in {describe_rows(np.isinf(data), data)}; "
                "class labels must be finite — fix or drop those rows"
            )
        missing = _or(missing, nan if nan.any() else None)
        finite = data if missing is None else np.where(missing, 0.0, data)
        if np.array_equal(finite, np.floor(finite)) and (
            finite.size == 0 or np.abs(finite).max() < 2.0**53
        ):
            data, kind = finite.astype(np.int64), "i"  # integral floats: an int column with nulls
    valid = None if missing is None else ~missing
    if kind == "b":
        codes, present = _compact(data.view(np.uint8).astype(np.intp), valid, 2)
        return Factorized(codes, [bool(v) for v in present], missing)
    if kind in "iu" and data.size:
        inside = data if valid is None else data[valid]
        if inside.size == 0:
            return Factorized(np.zeros(len(data), np.intp), [], missing)
        low, high = int(inside.min()), int(inside.max())
        if high - low < _SMALL_RANGE:
            shifted = data.astype(np.int64) - low
            if valid is not None:
                shifted[~valid] = 0
            codes, present = _compact(shifted.astype(np.intp), valid, high - low + 1)
            return Factorized(codes, [int(v) + low for v in present], missing)
    if kind == "O":
        table: dict[Any, int] = {}
        raw = np.fromiter(
            (table.setdefault(v, len(table)) for v in data), dtype=np.intp, count=len(data)
        )
        keys = list(table)
        gone = np.array([_is_missing_label(k) for k in keys], dtype=bool)
        if gone.any():
            missing = _or(missing, gone[raw])
            valid = ~missing if missing is not None else None
        codes, present = _compact(raw, valid, len(keys))
        return Factorized(codes, [_python(keys[i]) for i in present], missing)
    inside = data if valid is None else data[valid]
    uniques, inverse = np.unique(inside, return_inverse=True)
    codes = np.zeros(len(data), dtype=np.intp)
    if valid is None:
        codes[:] = inverse.ravel()
    else:
        codes[valid] = inverse.ravel()
    return Factorized(codes, [_python(v) for v in uniques], missing)


def float_column(x: Any, name: str) -> tuple[FloatArray, BoolArray | None]:
    """A 1-D float64 copy of ``x`` and its missing rows (NaN/None/masked); inf is an error."""
    data, missing = _unmask(x)
    if data.ndim != 1:
        raise ConfigError(
            f"{name} has shape {data.shape}; pass a 1-D array of numbers, one per row"
        )
    values = _to_float(data, name)
    return values, _missing_and_finite(values, missing, name, "values")


def score_array(x: Any, name: str) -> tuple[FloatArray, BoolArray | None]:
    """``y_score`` as float64, 1-D or 2-D, and its rows with a missing score; inf is an error."""
    data, mask = _unmask(x)
    if data.ndim not in (1, 2):
        raise ConfigError(
            f"{name} has shape {data.shape}; pass a 1-D array of positive-class probabilities "
            "(binary) or an (n, k) array of class probabilities"
        )
    values = _to_float(data, name)
    if values.ndim == 2:
        row_mask = None if mask is None else any_per_row(mask)
        nan = any_per_row(np.isnan(values))
        inf = any_per_row(np.isinf(values))
        if inf.any():
            raise DataError(
                f"{name} has infinite probabilities in {describe_rows(inf)}; "
                "scores must be probabilities in [0, 1] — fix or drop those rows"
            )
        return values, _or(row_mask, nan if nan.any() else None)
    return values, _missing_and_finite(values, mask, name, "probabilities")


def _to_float(data: NDArray[Any], name: str) -> FloatArray:
    if data.dtype.kind in "biuf":
        return data.astype(np.float64)
    if data.dtype.kind == "O":
        try:
            return np.asarray(data, dtype=np.float64)  # None becomes NaN
        except (TypeError, ValueError):
            pass
    raise ConfigError(
        f"{name} has dtype {data.dtype} that is not numeric; pass numbers (float or int)"
    )


def _missing_and_finite(
    values: FloatArray, mask: BoolArray | None, name: str, what: str
) -> BoolArray | None:
    inf: BoolArray = np.isinf(values)
    if mask is not None:
        inf &= ~mask
    if inf.any():
        raise DataError(
            f"{name} has infinite {what} in {describe_rows(inf, values)}; "
            "fix them upstream or drop those rows (NaN/None count as missing and are excluded)"
        )
    nan: BoolArray = np.isnan(values)
    return _or(mask, nan if nan.any() else None)
