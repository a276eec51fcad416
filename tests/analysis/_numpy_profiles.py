"""Test-side reference builder: column and table profiles computed with plain numpy.

Drift tests compute from profiles; this module makes them from numpy arrays with the obvious
code (``BinSpec.from_sample`` on the reference, ``Histogram.from_values``, numpy moments,
``collections.Counter`` frequencies), so statistics can be checked against scipy on the same
raw arrays, and the engine's profiles can later be checked against these.

It mirrors the engine's conventions (``telltale.analysis.profiling``):

- ``None`` is a null; NaN and infinities are counted apart and left out of the summaries;
- a numeric column gets a histogram on the reference's bins and, when the reference has
  between 1 and ``low_cardinality`` distinct finite values, category counts too (the current
  side follows the reference's decision); category keys are ``str`` of the Python value;
- strings and booleans are categorical.

The distinct sketch is left out (``distinct=None``): its hashes are the engine's.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from telltale.analysis.profile import (
    BinSpec,
    CategoricalSummary,
    ColumnProfile,
    Histogram,
    NumericSummary,
    TableProfile,
)

__all__ = ["numpy_column_profile", "numpy_table_profile", "split_values"]

LOW_CARDINALITY = 20


def split_values(values: Iterable[Any] | np.ndarray) -> tuple[str, np.ndarray, int, str]:
    """``(kind, non-null values, null count, dtype)`` of a column given as an array or list."""
    array = np.asarray(values if isinstance(values, np.ndarray) else list(values))
    if array.dtype.kind in "iuf":
        return "numeric", array, 0, str(array.dtype)
    if array.dtype.kind == "b":
        return "categorical", array, 0, "boolean"
    items = array.tolist()
    present = [v for v in items if v is not None]
    nulls = len(items) - len(present)
    if present and all(
        isinstance(v, (int, float, np.number)) and not isinstance(v, bool) for v in present
    ):
        numbers = np.asarray(present)
        dtype = "float64" if numbers.dtype.kind == "f" else "int64"
        return "numeric", numbers, nulls, dtype
    return "categorical", np.asarray(present, dtype=object), nulls, "string"


def _numeric_summary(finite: np.ndarray, spec: BinSpec | None) -> NumericSummary:
    n = int(finite.size)
    if n == 0:
        return NumericSummary(0, None, None, None, 0.0, None)
    mean = float(finite.mean())
    return NumericSummary(
        count=n,
        minimum=float(finite.min()),
        maximum=float(finite.max()),
        mean=mean,
        m2=float(((finite - mean) ** 2).sum()),
        histogram=Histogram.from_values(spec, finite) if spec is not None else None,
    )


def numpy_column_profile(
    name: str,
    reference: Iterable[Any] | np.ndarray | None,
    values: Iterable[Any] | np.ndarray,
    *,
    n_bins: int = 1024,
    low_cardinality: int | None = LOW_CARDINALITY,
    cap: int = 1000,
) -> ColumnProfile:
    """Profile ``values``; numeric bins (and the frequencies decision) come from ``reference``.

    ``reference=None`` profiles ``values`` as a reference (its own bins). ``low_cardinality``
    ``None`` never gives a numeric column category counts.
    """
    kind, present, nulls, dtype = split_values(values)
    row_count = int(present.size) + nulls
    if kind == "categorical":
        counts = Counter(str(v) for v in present.tolist())
        summary = CategoricalSummary(dict(counts), 0, cap).capped()
        return ColumnProfile(name, "categorical", dtype, row_count, nulls, categorical=summary)

    floats = present.astype(np.float64)
    finite_mask = np.isfinite(floats)
    finite = floats[finite_mask]
    if reference is None:
        ref_present, ref_finite = present, finite
    else:
        ref_kind, ref_present, _, _ = split_values(reference)
        assert ref_kind == "numeric", "reference and values must both be numeric"
        ref_floats = ref_present.astype(np.float64)
        ref_finite = ref_floats[np.isfinite(ref_floats)]
    spec = None
    if ref_finite.size:
        spec = BinSpec.from_sample(
            ref_finite,
            minimum=float(ref_finite.min()),
            maximum=float(ref_finite.max()),
            n_bins=n_bins,
        )
    categorical = None
    ref_distinct = np.unique(ref_finite).size
    if low_cardinality is not None and 0 < ref_distinct <= low_cardinality:
        kept = present[np.isfinite(present.astype(np.float64))]
        counts = Counter(str(v) for v in kept.tolist())
        categorical = CategoricalSummary(dict(counts), 0, cap).capped()
    return ColumnProfile(
        name=name,
        kind="numeric",
        dtype=dtype,
        row_count=row_count,
        null_count=nulls,
        nan_count=int(np.isnan(floats).sum()),
        inf_count=int(np.isinf(floats).sum()),
        numeric=_numeric_summary(finite, spec),
        categorical=categorical,
    )


def numpy_table_profile(
    reference: Mapping[str, Any] | None, data: Mapping[str, Any], **options: Any
) -> TableProfile:
    """Profile every column of ``data`` (a dict of equal-length columns) against ``reference``."""
    columns = {
        name: numpy_column_profile(
            name, None if reference is None else reference[name], values, **options
        )
        for name, values in data.items()
    }
    lengths = {column.row_count for column in columns.values()}
    assert len(lengths) <= 1, f"columns of unequal length: {lengths}"
    return TableProfile(lengths.pop() if lengths else 0, columns)
