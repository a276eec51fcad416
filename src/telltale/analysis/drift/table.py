"""Drift of every column of a table, from a reference and a current table profile.

>>> from telltale.analysis.profile import CategoricalSummary, ColumnProfile, TableProfile
>>> def table(frequencies):
...     summary = CategoricalSummary(frequencies)
...     column = ColumnProfile("city", "categorical", "string", summary.count, 0,
...                            categorical=summary)
...     return TableProfile(summary.count, {"city": column})
>>> drift = detect_drift(table({"a": 50, "b": 30, "c": 20}), table({"a": 20, "b": 30, "c": 50}))
>>> drift.columns["city"].method, drift.n_drifted, drift.share_drifted
('chisquare', 1, 1.0)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from telltale.analysis.drift.auto import AUTO_RULE, choose_method
from telltale.analysis.drift.base import (
    DriftMethod,
    DriftResult,
    get_drift_method,
    validate_threshold,
)
from telltale.analysis.profile import TableProfile
from telltale.errors import TelltaleError
from telltale.schema.result import Result

__all__ = ["TableDrift", "detect_drift"]


@dataclass
class TableDrift(Result):
    """Drift of the columns of a table.

    ``columns`` holds the result of every column analysed; ``errors`` the reason for every
    column that could not be (one bad column never stops the others). ``share_drifted`` is
    ``n_drifted / n_columns`` over the columns analysed (NaN, ``null`` in JSON, when there is
    none). ``method`` is the forced method or ``"auto"``; ``auto_rule`` states the automatic
    choice.

    >>> TableDrift().to_dict()["share_drifted"] is None
    True
    """

    columns: dict[str, DriftResult] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    share_drifted: float = float("nan")
    n_drifted: int = 0
    n_columns: int = 0
    method: str = "auto"
    auto_rule: str = AUTO_RULE

    @property
    def drifted(self) -> list[str]:
        """Names of the drifted columns, in analysis order."""
        return [name for name, result in self.columns.items() if result.drift]


def _error_message(exc: Exception) -> str:
    if isinstance(exc, TelltaleError):
        return str(exc)
    return f"unexpected {type(exc).__name__}: {exc}"


def detect_drift(
    reference: TableProfile,
    current: TableProfile,
    columns: list[str] | None = None,
    *,
    method: str | None = None,
    thresholds: Mapping[str, float] | None = None,
) -> TableDrift:
    """Drift of each column between a reference and a current table profile.

    Args:
        reference: The reference profile (its histograms' bins are the reference's).
        current: The current profile, made against the reference profile.
        columns: Columns to analyse; default all columns of the reference profile.
        method: A registered method to use for every column; default the automatic choice
            (:data:`~telltale.analysis.drift.AUTO_RULE`) per column.
        thresholds: Thresholds by column name; other columns use the method's default.
            Entries for columns not analysed here are ignored, so one mapping can serve a
            whole report (check names against the table where they are typed).

    Raises :class:`~telltale.errors.ConfigError` for an unknown method, and for a threshold
    that is not valid for its column's method. Anything wrong with a single column is
    recorded in ``errors`` instead.
    """
    forced = get_drift_method(method) if method is not None else None
    names = list(reference.columns) if columns is None else list(dict.fromkeys(columns))
    thresholds = dict(thresholds or {})

    errors: dict[str, str] = {}
    plan: dict[str, tuple[DriftMethod, float]] = {}
    for name in names:
        if name not in reference.columns:
            errors[name] = f"column {name!r} is not in the reference profile"
            continue
        if name not in current.columns:
            errors[name] = f"column {name!r} is not in the current profile"
            continue
        try:
            chosen = forced or get_drift_method(
                choose_method(reference.columns[name], current.columns[name])
            )
        except Exception as exc:  # one bad column must not stop the others
            errors[name] = _error_message(exc)
            continue
        value = thresholds.get(name)
        threshold = (
            chosen.default_threshold if value is None else validate_threshold(chosen, value, name)
        )
        plan[name] = (chosen, threshold)

    results: dict[str, DriftResult] = {}
    for name, (chosen, threshold) in plan.items():
        try:
            results[name] = chosen.compute(
                reference.columns[name], current.columns[name], threshold
            )
        except Exception as exc:  # one bad column must not stop the others
            errors[name] = _error_message(exc)

    n_drifted = sum(result.drift for result in results.values())
    return TableDrift(
        columns=results,
        errors={name: errors[name] for name in names if name in errors},
        share_drifted=n_drifted / len(results) if results else float("nan"),
        n_drifted=n_drifted,
        n_columns=len(results),
        method=forced.name if forced is not None else "auto",
        auto_rule=AUTO_RULE,
    )
