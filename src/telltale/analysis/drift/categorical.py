"""Drift tests on category counts: chi-square test of homogeneity and two-proportion z-test.

Both read the category counts of the two profiles over the union of their categories (plus
one *other* bucket for categories beyond the profile's cap, when there is one). Missing values
are not a category: the share of missing values is a data-quality check of its own.

>>> from telltale.analysis.profile import CategoricalSummary, ColumnProfile
>>> def column(frequencies):
...     summary = CategoricalSummary(frequencies)
...     return ColumnProfile("c", "categorical", "string", summary.count, 0, categorical=summary)
>>> result = ZTEST.compute(column({"a": 60, "b": 40}), column({"a": 40, "b": 60}), 0.05)
>>> round(result.statistic, 4), round(result.p_value, 4), result.drift
(-2.8284, 0.0047, True)
"""

from __future__ import annotations

import math

import numpy as np

from telltale.analysis.drift.base import (
    CATEGORICAL,
    DriftMethod,
    DriftResult,
    category_counts,
    n_categories,
    register_drift_method,
)
from telltale.analysis.drift.pvalues import chi2_pvalue, normal_two_sided_pvalue
from telltale.analysis.profile import ColumnProfile

__all__ = ["CHISQUARE", "ZTEST", "ChiSquareMethod", "ZTestMethod", "chi_square_homogeneity"]


def chi_square_homogeneity(reference: np.ndarray, current: np.ndarray) -> tuple[float, int]:
    """Pearson's statistic and degrees of freedom of the 2 x K table ``[reference, current]``.

    As :func:`scipy.stats.chi2_contingency` with ``correction=False``; categories empty on
    both sides are left out.
    """
    table = np.vstack([reference, current]).astype(np.float64)
    table = table[:, table.sum(axis=0) > 0]
    k = table.shape[1]
    if k < 2:
        return 0.0, 0
    expected = np.outer(table.sum(axis=1), table.sum(axis=0)) / table.sum()
    statistic = float((((table - expected) ** 2) / expected).sum())
    return statistic, k - 1


class ChiSquareMethod(DriftMethod):
    """Chi-square test of homogeneity on the 2 x K table of category counts.

    Pearson's statistic without continuity correction (as ``scipy.stats.chi2_contingency(...,
    correction=False)``), ``K - 1`` degrees of freedom. On a numeric column it uses the
    category counts the profile keeps for columns with few distinct values. Drift when
    ``p < threshold``.

    >>> from telltale.analysis.profile import CategoricalSummary, ColumnProfile
    >>> def side(frequencies):
    ...     summary = CategoricalSummary(frequencies)
    ...     return ColumnProfile("c", "categorical", "string", summary.count, 0,
    ...                          categorical=summary)
    >>> result = ChiSquareMethod().compute(side({"a": 30, "b": 70}), side({"a": 50, "b": 50}), 0.05)
    >>> round(result.statistic, 3), result.details["dof"], result.drift
    (8.333, 1, True)
    """

    name = "chisquare"
    applies_to = frozenset({CATEGORICAL})
    default_threshold = 0.05
    threshold_is_p_value = True
    description = "chi-square test of homogeneity of category counts (drift if p < threshold)"

    def compute(
        self, reference: ColumnProfile, current: ColumnProfile, threshold: float
    ) -> DriftResult:
        self.require(reference, current)
        counts = category_counts(reference, current)
        statistic, dof = chi_square_homogeneity(counts.reference, counts.current)
        details = {"dof": dof, "categories": len(counts.keys)}
        return self.result(
            reference, CATEGORICAL, statistic, chi2_pvalue(statistic, dof), threshold, details
        )


class ZTestMethod(DriftMethod):
    """Two-proportion z-test for a column with exactly two categories.

    ``z = (p_cur - p_ref) / sqrt(p (1 - p) (1/n_ref + 1/n_cur))`` for the share of the first
    category in sorted order (named in ``details``), ``p`` the pooled share; the two-sided
    p-value is ``P(|Z| >= |z|)``. Drift when ``p < threshold``.

    >>> from telltale.analysis.profile import CategoricalSummary, ColumnProfile
    >>> five = CategoricalSummary({k: 1 for k in "abcde"})
    >>> column = ColumnProfile("c", "categorical", "string", 5, 0, categorical=five)
    >>> ZTestMethod().unsupported(column, column)
    'it needs exactly 2 categories and the column has 5'
    """

    name = "ztest"
    applies_to = frozenset({CATEGORICAL})
    default_threshold = 0.05
    threshold_is_p_value = True
    description = "two-proportion z-test for two categories (drift if p < threshold)"

    def unsupported(self, reference: ColumnProfile, current: ColumnProfile) -> str | None:
        reason = super().unsupported(reference, current)
        if reason is not None:
            return reason
        k = n_categories(reference, current)
        if k != 2:
            return f"it needs exactly 2 categories and the column has {k}"
        return None

    def compute(
        self, reference: ColumnProfile, current: ColumnProfile, threshold: float
    ) -> DriftResult:
        self.require(reference, current)
        counts = category_counts(reference, current)
        n_ref, n_cur = int(counts.reference.sum()), int(counts.current.sum())
        x_ref, x_cur = int(counts.reference[0]), int(counts.current[0])
        share_ref, share_cur = x_ref / n_ref, x_cur / n_cur
        pooled = (x_ref + x_cur) / (n_ref + n_cur)
        se = math.sqrt(pooled * (1.0 - pooled) * (1.0 / n_ref + 1.0 / n_cur))
        z = (share_cur - share_ref) / se if se > 0 else 0.0
        category = counts.keys[0]
        details = {
            "category": "<other>" if category is None else category,
            "reference_share": share_ref,
            "current_share": share_cur,
        }
        return self.result(
            reference, CATEGORICAL, z, normal_two_sided_pvalue(z), threshold, details
        )


CHISQUARE = register_drift_method(ChiSquareMethod())
ZTEST = register_drift_method(ZTestMethod())
