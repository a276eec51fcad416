"""Slice discovery on an evaluation: each system's units, losses and bucket codes to :mod:`.slices`.

The units are the task's :class:`~.tasks.base.LossUnits` (examples, or NER span units). Every
evaluated feature becomes a condition, bucketed on the evaluation's shared edges: an example
feature applies to a span through its sentence; a span feature takes the gold span's value,
or the predicted span's for a spurious prediction (for a span's position and text both sides
agree; a gold LOC span predicted as ORG is in the ``span_label = LOC`` slice). Each kept slice
also gets the task's primary metric on its units, and its units for drill-down.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .buckets import FittedBuckets
from .scoring import Intervals, Scorer, Selection
from .slices import Slice, SliceSearch, find_slices
from .tasks.base import FeatureValues, TaskData

__all__ = ["CodeCache", "example_codes", "system_slices"]

IntArray = NDArray[np.intp]
CodeCache = dict[tuple[str, int], IntArray]
"""Bucket codes of example features by (feature, id of the values): a feature shared by all
systems holds one array, so its codes are computed once."""


def example_codes(
    fit: FittedBuckets, feature: str, values: NDArray[Any], cache: CodeCache
) -> IntArray:
    """``fit.assign(values)``, computed once per feature and values array."""
    key = (feature, id(values))
    if key not in cache:
        cache[key] = fit.assign(np.asarray(values))
    return cache[key]


def system_slices(
    data: TaskData,
    system: str,
    features: list[FeatureValues],
    fitted: Mapping[str, FittedBuckets],
    scorers: Mapping[str, Scorer],
    search: SliceSearch,
    cache: CodeCache | None = None,
) -> list[Slice]:
    """The worst significant slices of ``system`` (see :func:`~.slices.find_slices`)."""
    units = data.unit_losses(system)
    codes: dict[str, tuple[IntArray, list[str]]] = {}
    for feature in features:
        values = feature.by_system[system]
        fit = fitted[feature.name]
        if feature.level == "example":
            assert values.values is not None
            assigned = example_codes(
                fit, feature.name, values.values, {} if cache is None else cache
            )
            codes[feature.name] = (assigned[units.examples], fit.labels)
        elif units.level == "span":
            assert values.gold_side is not None and values.predicted_side is not None
            codes[feature.name] = (
                _span_codes(fit, values.gold_side, values.predicted_side),
                fit.labels,
            )
    found = find_slices(
        units.loss,
        codes,
        binary=units.binary,
        search=search,
        system=system,
        loss_name=units.loss_name,
    )
    scorer = scorers[units.level]
    primary = data.primary_metric
    nothing = Intervals(n_bootstrap=0)
    for entry in found:
        assert entry.members is not None
        rows = entry.members
        everything = np.ones(len(rows), dtype=bool)
        scored = scorer.score(Selection(rows, everything, everything), nothing)
        if primary in scored:
            entry.metric = {"name": primary, "value": scored[primary]["value"]}
        entry.level = units.level
    return found


def _span_codes(fit: FittedBuckets, gold: NDArray[Any], predicted: NDArray[Any]) -> IntArray:
    gold_codes = fit.assign(np.asarray(gold))
    predicted_codes = fit.assign(np.asarray(predicted))
    has_gold = ~_missing(np.asarray(gold))
    return np.where(has_gold, gold_codes, predicted_codes)


def _missing(values: NDArray[Any]) -> NDArray[np.bool_]:
    if values.dtype.kind == "f":
        return np.isnan(values)
    return np.array([v is None for v in values], dtype=bool)
