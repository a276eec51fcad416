"""Drift results, the interface every drift method implements, and the registry of methods.

A drift method compares the *profile* of a column in the reference data with its profile in
the current data (never the raw rows): numeric columns through their fine histograms, and
categorical columns through their category counts. Built-in methods register themselves with
:func:`register_drift_method`, exactly as a plugin would:

>>> from telltale.analysis.drift import DRIFT_METHODS, get_drift_method
>>> get_drift_method("psi").default_threshold
0.1
>>> "ks" in DRIFT_METHODS
True
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from telltale.analysis.profile import ColumnProfile, Histogram, NumericSummary
from telltale.errors import ConfigError, ProfileError
from telltale.schema.result import Result

__all__ = [
    "CATEGORICAL",
    "DRIFT_METHODS",
    "FEW_DISTINCT",
    "NUMERIC",
    "CategoryCounts",
    "DataKind",
    "DriftMethod",
    "DriftResult",
    "NumericPair",
    "available_kinds",
    "category_counts",
    "check_pair",
    "get_drift_method",
    "n_categories",
    "numeric_pair",
    "register_drift_method",
    "treated_as_categorical",
    "validate_threshold",
]

DataKind = Literal["numeric", "categorical"]
NUMERIC: DataKind = "numeric"
CATEGORICAL: DataKind = "categorical"
_KINDS = frozenset({NUMERIC, CATEGORICAL})

FEW_DISTINCT = 5
"""A numeric column whose reference has at most this many distinct values, and which carries
category counts on both sides, is analysed as categorical (by the automatic choice and by the
methods that work on both kinds)."""


@dataclass
class DriftResult(Result):
    """The drift of one column: statistic, p-value (tests only), threshold and decision.

    ``drift`` is ``p_value < threshold`` for statistical tests and ``statistic >= threshold``
    for distances. ``kind`` says which data the method compared (``numeric``: the histograms;
    ``categorical``: the category counts); ``details`` holds method-specific facts such as
    the resolution of a binned statistic or the number of bins used.

    >>> result = DriftResult("age", "psi", 0.02, None, 0.1, False, "numeric", {"bins": 10})
    >>> sorted(result.to_dict())
    ['column', 'details', 'drift', 'kind', 'method', 'p_value', 'statistic', 'threshold']
    """

    column: str
    method: str
    statistic: float
    p_value: float | None
    threshold: float
    drift: bool
    kind: str
    details: dict[str, Any] = field(default_factory=dict)


class DriftMethod(ABC):
    """A way to measure drift between the reference and current profile of a column.

    Subclasses set the class attributes and implement :meth:`compute`; register an instance
    with :func:`register_drift_method` to make it available by name (``--method``)::

        class MeanShift(DriftMethod):
            name = "meanshift"
            applies_to = frozenset({"numeric"})
            default_threshold = 0.5
            threshold_is_p_value = False
            description = "shift of the mean in reference standard deviations"

            def compute(self, reference, current, threshold):
                self.require(reference, current)
                ref, cur = reference.numeric, current.numeric
                shift = abs(cur.mean - ref.mean) / (ref.std or 1.0)
                return self.result(reference, "numeric", shift, None, threshold)

        register_drift_method(MeanShift())

    Attributes:
        name: The name users pass to ``--method`` and that results report.
        applies_to: The data kinds the method compares: ``numeric`` and/or ``categorical``.
        default_threshold: The threshold used when none is given for a column.
        threshold_is_p_value: ``True``: drift when ``p_value < threshold`` (threshold in
            (0, 1)); ``False``: drift when ``statistic >= threshold`` (threshold >= 0).
        description: One line for ``--help``.
    """

    name: str
    applies_to: frozenset[str]
    default_threshold: float
    threshold_is_p_value: bool
    description: str

    @abstractmethod
    def compute(
        self, reference: ColumnProfile, current: ColumnProfile, threshold: float
    ) -> DriftResult:
        """Compare the two profiles of one column and decide on drift at ``threshold``."""

    # -- helpers for implementations ------------------------------------------------------------

    def unsupported(self, reference: ColumnProfile, current: ColumnProfile) -> str | None:
        """Why this method cannot compare the column, or ``None`` when it can.

        The default checks that both sides carry data of a kind in :attr:`applies_to`;
        override to add conditions (and call ``super()``).
        """
        if available_kinds(reference, current) & self.applies_to:
            return None
        wanted = " or ".join(sorted(self.applies_to))
        return f"it compares {wanted} data and the column has {_describe(reference, current)}"

    def require(self, reference: ColumnProfile, current: ColumnProfile) -> None:
        """Raise if the profiles do not line up or this method does not apply to the column."""
        check_pair(reference, current)
        reason = self.unsupported(reference, current)
        if reason is None:
            return
        usable = [
            name
            for name, method in sorted(DRIFT_METHODS.items())
            if method.unsupported(reference, current) is None
        ]
        raise ConfigError(
            f"drift method {self.name!r} does not apply to column {reference.name!r}: {reason}; "
            f"methods that apply to this column: {', '.join(usable) or 'none'}"
        )

    def data_kind(self, reference: ColumnProfile, current: ColumnProfile) -> DataKind:
        """Which data this method compares for the column; raises like :meth:`require`.

        A method that works on both kinds uses the category counts when the column is
        categorical or a numeric column with few distinct values
        (:func:`treated_as_categorical`), and the histograms otherwise.
        """
        self.require(reference, current)
        kinds = available_kinds(reference, current) & self.applies_to
        if NUMERIC in kinds and not (
            CATEGORICAL in kinds and treated_as_categorical(reference, current)
        ):
            return NUMERIC
        return CATEGORICAL

    def is_drift(self, statistic: float, p_value: float | None, threshold: float) -> bool:
        """The decision rule: ``p < threshold`` for tests, ``statistic >= threshold`` else."""
        if self.threshold_is_p_value:
            return p_value is not None and p_value < threshold
        return statistic >= threshold

    def result(
        self,
        reference: ColumnProfile,
        kind: DataKind,
        statistic: float,
        p_value: float | None,
        threshold: float,
        details: dict[str, Any] | None = None,
    ) -> DriftResult:
        """Build the :class:`DriftResult` with the decision applied."""
        statistic = float(statistic)
        p_value = None if p_value is None else float(p_value)
        return DriftResult(
            column=reference.name,
            method=self.name,
            statistic=statistic,
            p_value=p_value,
            threshold=float(threshold),
            drift=bool(self.is_drift(statistic, p_value, threshold)),
            kind=kind,
            details=dict(details or {}),
        )

    def __repr__(self) -> str:
        return f"<drift method {self.name!r}: {self.description}>"


# --------------------------------------------------------------------------------------------
# Registry
# --------------------------------------------------------------------------------------------

DRIFT_METHODS: dict[str, DriftMethod] = {}
"""The drift methods known by name; add one with :func:`register_drift_method`."""


def register_drift_method(method: DriftMethod, *, replace: bool = False) -> DriftMethod:
    """Make ``method`` available by its name; returns it.

    Raises :class:`ConfigError` on a malformed method, or a name already taken (unless
    ``replace=True``).
    """
    if not isinstance(method, DriftMethod):
        raise ConfigError(
            f"a drift method must be an instance of DriftMethod, got {type(method).__name__}"
        )
    name = getattr(method, "name", None)
    if not isinstance(name, str) or not name or not name.replace("_", "").isalnum():
        raise ConfigError(f"drift method name must be a non-empty identifier, got {name!r}")
    applies_to = getattr(method, "applies_to", None)
    if not isinstance(applies_to, frozenset) or not applies_to or not applies_to <= _KINDS:
        raise ConfigError(
            f"drift method {name!r}: applies_to must be a non-empty frozenset of "
            f"'numeric'/'categorical', got {applies_to!r}"
        )
    description = getattr(method, "description", None)
    if not isinstance(description, str) or not description or "\n" in description:
        raise ConfigError(f"drift method {name!r}: description must be one non-empty line")
    if not isinstance(getattr(method, "threshold_is_p_value", None), bool):
        raise ConfigError(f"drift method {name!r}: threshold_is_p_value must be a bool")
    validate_threshold(method, getattr(method, "default_threshold", None), f"<default of {name}>")
    if name in DRIFT_METHODS and not replace and DRIFT_METHODS[name] is not method:
        raise ConfigError(
            f"a drift method named {name!r} is already registered; pass replace=True to replace it"
        )
    DRIFT_METHODS[name] = method
    return method


def get_drift_method(name: str) -> DriftMethod:
    """The registered method called ``name``; :class:`ConfigError` lists the known names."""
    method = DRIFT_METHODS.get(name)
    if method is None and isinstance(name, str):
        method = DRIFT_METHODS.get(name.strip().lower())
    if method is None:
        raise ConfigError(
            f"unknown drift method {name!r}; known methods: {', '.join(sorted(DRIFT_METHODS))}"
        )
    return method


def validate_threshold(method: DriftMethod, threshold: Any, column: str) -> float:
    """Check a threshold for ``method`` on ``column``; returns it as a float.

    Thresholds must be finite; p-value thresholds lie strictly between 0 and 1, distance
    thresholds are at least 0.
    """
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float, np.number)):
        raise ConfigError(
            f"drift threshold for column {column!r} must be a number, got {threshold!r}"
        )
    value = float(threshold)
    if not math.isfinite(value):
        raise ConfigError(f"drift threshold for column {column!r} must be finite, got {value}")
    if method.threshold_is_p_value and not 0.0 < value < 1.0:
        raise ConfigError(
            f"drift threshold for column {column!r} is a p-value for method {method.name!r} and "
            f"must lie strictly between 0 and 1, got {value}"
        )
    if not method.threshold_is_p_value and value < 0.0:
        raise ConfigError(
            f"drift threshold for column {column!r} is a distance for method {method.name!r} and "
            f"must be at least 0, got {value}"
        )
    return value


# --------------------------------------------------------------------------------------------
# Reading the profiles
# --------------------------------------------------------------------------------------------


def check_pair(reference: ColumnProfile, current: ColumnProfile) -> None:
    """Raise :class:`ProfileError` when two column profiles cannot be compared at all."""
    for side, profile in (("reference", reference), ("current", current)):
        if profile.error:
            raise ProfileError(
                f"column {reference.name!r} could not be profiled in the {side} data: "
                f"{profile.error}"
            )
    if reference.kind != current.kind:
        raise ProfileError(
            f"column {reference.name!r} is {reference.kind} in the reference profile but "
            f"{current.kind} in the current profile; drift compares columns of one kind"
        )


def available_kinds(reference: ColumnProfile, current: ColumnProfile) -> frozenset[str]:
    """The data kinds present on both sides: ``numeric`` (summaries) and ``categorical``."""
    kinds: set[str] = set()
    if reference.numeric is not None and current.numeric is not None:
        kinds.add(NUMERIC)
    if reference.categorical is not None and current.categorical is not None:
        kinds.add(CATEGORICAL)
    return frozenset(kinds)


def treated_as_categorical(reference: ColumnProfile, current: ColumnProfile) -> bool:
    """True for categorical columns, and numeric ones with few distinct reference values.

    "Few" means at most :data:`FEW_DISTINCT` categories in the reference counts (which must
    be complete: nothing counted as *other*); both sides must carry category counts.
    """
    if CATEGORICAL not in available_kinds(reference, current):
        return False
    if reference.kind == CATEGORICAL or NUMERIC not in available_kinds(reference, current):
        return True
    summary = reference.categorical
    assert summary is not None
    return summary.other_count == 0 and len(summary.frequencies) <= FEW_DISTINCT


def n_categories(reference: ColumnProfile, current: ColumnProfile) -> int:
    """Categories in the union of both sides' counts, the *other* bucket counting as one."""
    ref, cur = reference.categorical, current.categorical
    if ref is None or cur is None:
        return 0
    other = 1 if (ref.other_count or cur.other_count) else 0
    return len(set(ref.frequencies) | set(cur.frequencies)) + other


def _describe(reference: ColumnProfile, current: ColumnProfile) -> str:
    kinds = available_kinds(reference, current)
    if not kinds:
        return f"no summary usable on both sides (kind {reference.kind})"
    parts = []
    if NUMERIC in kinds:
        parts.append("a histogram")
    if CATEGORICAL in kinds:
        parts.append(f"{n_categories(reference, current)} categories")
    return " and ".join(parts)


@dataclass(frozen=True)
class NumericPair:
    """The numeric summaries and histograms of both sides (see :func:`numeric_pair`)."""

    reference: NumericSummary
    current: NumericSummary
    reference_histogram: Histogram
    current_histogram: Histogram


def numeric_pair(reference: ColumnProfile, current: ColumnProfile) -> NumericPair:
    """Both sides' histograms, checked to share bins and hold values."""
    name = reference.name
    if reference.numeric is None or current.numeric is None:
        raise ProfileError(f"column {name!r} has no numeric summary on both sides")
    histograms = []
    for side, summary in (("reference", reference.numeric), ("current", current.numeric)):
        if summary.histogram is None:
            if summary.count == 0:
                raise ProfileError(
                    f"column {name!r} has no finite values in the {side} profile; drift needs "
                    "values on both sides"
                )
            raise ProfileError(
                f"column {name!r} has no histogram in the {side} profile; profile it again "
                "with telltale to get one"
            )
        if summary.histogram.total == 0:
            raise ProfileError(
                f"column {name!r} has no finite values in the {side} profile; drift needs "
                "values on both sides"
            )
        histograms.append(summary.histogram)
    ref_hist, cur_hist = histograms
    if ref_hist.spec != cur_hist.spec:
        raise ProfileError(
            f"column {name!r}: the current histogram uses other bin edges than the reference "
            "histogram, so the two cannot be compared; profile the current data against the "
            "reference profile so both share the reference's bins"
        )
    return NumericPair(reference.numeric, current.numeric, ref_hist, cur_hist)


@dataclass(frozen=True)
class CategoryCounts:
    """Counts per category on both sides, over the union of categories.

    ``keys`` are the category names in sorted order, then ``None`` for the *other* bucket
    (categories beyond the profile's cap) when either side has one.
    """

    keys: list[str | None]
    reference: np.ndarray
    current: np.ndarray


def category_counts(reference: ColumnProfile, current: ColumnProfile) -> CategoryCounts:
    """Category counts of both sides over the union of categories (plus *other*).

    A category missing from one side's counts counts 0 there. When a side was capped (its
    *other* count is not 0), a category it did not keep may hide in its *other* bucket; the
    counts cannot tell, so such a category reads as 0 on that side.
    """
    name = reference.name
    ref, cur = reference.categorical, current.categorical
    if ref is None or cur is None:
        raise ProfileError(f"column {name!r} has no category counts on both sides")
    for side, summary in (("reference", ref), ("current", cur)):
        if summary.count == 0:
            raise ProfileError(
                f"column {name!r} has no non-missing values in the {side} profile; drift needs "
                "values on both sides"
            )
    keys: list[str | None] = list(sorted(set(ref.frequencies) | set(cur.frequencies)))
    ref_counts = [ref.frequencies.get(key, 0) for key in keys if key is not None]
    cur_counts = [cur.frequencies.get(key, 0) for key in keys if key is not None]
    if ref.other_count or cur.other_count:
        keys.append(None)
        ref_counts.append(ref.other_count)
        cur_counts.append(cur.other_count)
    return CategoryCounts(
        keys, np.asarray(ref_counts, dtype=np.int64), np.asarray(cur_counts, dtype=np.int64)
    )
