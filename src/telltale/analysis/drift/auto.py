"""Choosing a drift method per column, and the drift of one column.

The automatic choice follows the rule Evidently made familiar (:data:`AUTO_RULE`): a test
with a p-value for small references, where a distance would be noise; a distance for large
ones, where every test finds some tiny, irrelevant drift.

>>> from telltale.analysis.profile import CategoricalSummary, ColumnProfile
>>> summary = CategoricalSummary({"yes": 700, "no": 300})
>>> column = ColumnProfile("churn", "categorical", "string", 1000, 0, categorical=summary)
>>> choose_method(column, column)
'ztest'
>>> column_drift(column, column).drift
False
"""

from __future__ import annotations

from telltale.analysis.drift.base import (
    CATEGORICAL,
    FEW_DISTINCT,
    NUMERIC,
    DriftResult,
    available_kinds,
    check_pair,
    get_drift_method,
    n_categories,
    treated_as_categorical,
    validate_threshold,
)
from telltale.analysis.profile import ColumnProfile
from telltale.errors import ProfileError

__all__ = ["AUTO_MAX_ROWS", "AUTO_RULE", "choose_method", "column_drift"]

AUTO_MAX_ROWS = 1000
"""References with at most this many rows get a statistical test, larger ones a distance."""

AUTO_RULE = (
    f"Categorical columns, and numeric columns whose reference has at most {FEW_DISTINCT} "
    f"distinct values: with at most {AUTO_MAX_ROWS} reference rows, ztest if there are exactly "
    f"2 categories, else chisquare (drift if p < 0.05); with more rows, jensenshannon (drift if "
    f"distance >= 0.1). Numeric columns: with at most {AUTO_MAX_ROWS} reference rows, ks "
    f"(drift if p < 0.05); with more rows, wasserstein normed by the reference standard "
    f"deviation (drift if >= 0.1)."
)
"""The automatic choice of drift method, in words (shown in ``--help`` and the JSON)."""


def choose_method(reference: ColumnProfile, current: ColumnProfile) -> str:
    """The name of the drift method :data:`AUTO_RULE` picks for this column."""
    check_pair(reference, current)
    kinds = available_kinds(reference, current)
    small = reference.row_count <= AUTO_MAX_ROWS
    if CATEGORICAL in kinds and treated_as_categorical(reference, current):
        if small:
            return "ztest" if n_categories(reference, current) == 2 else "chisquare"
        return "jensenshannon"
    if NUMERIC in kinds:
        return "ks" if small else "wasserstein"
    raise ProfileError(
        f"column {reference.name!r} ({reference.kind}) has neither histograms nor category "
        "counts on both sides, so no drift method applies; profile both sides with telltale"
    )


def column_drift(
    reference: ColumnProfile,
    current: ColumnProfile,
    method: str | None = None,
    threshold: float | None = None,
) -> DriftResult:
    """Drift of one column between its reference and current profile.

    ``method`` names a registered method (default: :func:`choose_method`); ``threshold``
    overrides the method's default. Raises :class:`~telltale.errors.ConfigError` for an
    unknown method, a bad threshold or a method that does not apply to the column, and
    :class:`~telltale.errors.ProfileError` when the profiles cannot be compared.
    """
    name = choose_method(reference, current) if method is None else method
    drift_method = get_drift_method(name)
    if threshold is None:
        value = drift_method.default_threshold
    else:
        value = validate_threshold(drift_method, threshold, reference.name)
    return drift_method.compute(reference, current, value)
