"""Tabular classification and regression: predictions in columns, sliced by the data's columns.

``data`` is a table (Parquet, CSV, JSON lines, or an in-memory pyarrow/pandas/polars table)
with the target column (``target=``); each system is a prediction column of ``data`` or a
table of the same length whose ``prediction`` column (or single column) holds its predictions.
The metrics are those of :mod:`telltale.analysis.performance` (accuracy, precision/recall/F1,
... for classification; MAE, RMSE, MAPE, R² for regression) with its bootstrap, which switches to
resampling 1,000 random blocks of rows above 5,000 rows. Every other column is a feature
(numeric columns get quantile buckets, the rest discrete buckets), or those in
``feature_columns=``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from telltale.analysis.performance import classification_performance, regression_performance
from telltale.analysis.performance.bootstrap import Statistic
from telltale.errors import ConfigError, DataError

from ..readers.table import read_table_columns
from ..scoring import Intervals, Scorer, Selection
from .base import FeatureValues, Level, LossUnits, TaskOptions, register_task, shared_feature
from .classification import ClassificationScorer

__all__ = ["TabularClassificationTask", "TabularData", "TabularRegressionTask"]

IntArray = NDArray[np.intp]
FloatArray = NDArray[np.float64]
REGRESSION_METRICS = ("mae", "rmse", "mape", "r2")


class RegressionScorer:
    """Regression metrics of a selection of rows, through ``regression_performance``."""

    metrics = REGRESSION_METRICS
    mean_metrics = frozenset({"mae"})

    def __init__(self, target: FloatArray, predicted: FloatArray) -> None:
        self.target, self.predicted = target, predicted
        self._centre = float(target.mean()) if len(target) else 0.0

    def example_statistics(self, selection: Selection | None) -> Statistic:
        """Per row ``1, |e|, e², y, y², [y != 0], |e| / |y|`` (``y`` centred on the data's mean,
        so R² keeps its precision), the sums of :func:`regression_performance`."""
        rows = np.arange(len(self.target)) if selection is None else selection.rows
        target, predicted = self.target[rows], self.predicted[rows]
        error = predicted - target
        nonzero = target != 0
        relative = np.zeros(len(rows))
        np.divide(np.abs(error), np.abs(target), out=relative, where=nonzero)
        centred = target - self._centre
        values = np.stack(
            [
                np.ones(len(rows)),
                np.abs(error),
                error * error,
                centred,
                centred * centred,
                nonzero.astype(np.float64),
                relative,
            ],
            axis=1,
        )
        return Statistic(np.asarray(rows, dtype=np.intp), values=values)

    def metrics_from_sums(self, sums: FloatArray) -> dict[str, FloatArray]:
        count, abs_error, squared, y, y2, nonzero, relative = sums.T
        with np.errstate(divide="ignore", invalid="ignore"):
            total = y2 - y * y / count
            total = np.where(total > 1e-12 * y2, total, 0.0)  # a constant target: R² undefined
            return {
                "mae": abs_error / count,
                "rmse": np.sqrt(squared / count),
                "mape": np.where(nonzero > 0, relative / nonzero, np.nan),
                "r2": np.where(total > 0, 1.0 - squared / total, np.nan),
            }

    def score(self, selection: Selection | None, intervals: Intervals) -> dict[str, dict[str, Any]]:
        rows = slice(None) if selection is None else selection.rows
        target, predicted = self.target[rows], self.predicted[rows]
        if len(target) == 0:
            return {name: {"value": None, "ci": None} for name in self.metrics}
        performance = regression_performance(
            target,
            predicted,
            n_bootstrap=intervals.n_bootstrap,
            seed=intervals.seed,
            confidence=intervals.confidence,
        )
        return {name: dict(performance.metrics[name]) for name in self.metrics}


def _column(table: Any, name: str) -> NDArray[Any]:
    column = table.column(name)
    import pyarrow as pa

    if (
        pa.types.is_floating(column.type)
        or pa.types.is_integer(column.type)
        or pa.types.is_boolean(column.type)
    ):
        return np.asarray(column.to_numpy(zero_copy_only=False))
    return np.asarray(column.to_pylist(), dtype=object)


def _codes(values: NDArray[Any]) -> tuple[list[Any], IntArray]:
    if values.dtype.kind == "O":
        labels = sorted({v for v in values if v is not None}, key=str)
        index = {v: i for i, v in enumerate(labels)}
        return labels, np.array([index.get(v, -1) for v in values], dtype=np.intp)
    labels_array, inverse = np.unique(values, return_inverse=True)
    return [v.item() for v in labels_array], inverse.astype(np.intp).ravel()


class TabularData:
    """A target column, prediction columns and feature columns."""

    levels: tuple[Level, ...] = ("example",)

    def __init__(
        self,
        task: str,
        target: NDArray[Any],
        predictions: dict[str, NDArray[Any]],
        feature_columns: dict[str, NDArray[Any]],
    ) -> None:
        self.task = task
        self.systems = list(predictions)
        self.n_examples = len(target)
        self.notes: list[str] = []
        self.feature_columns = feature_columns
        self.regression = task == "tabular-regression"
        self.primary_metric = "mae" if self.regression else "accuracy"
        if self.regression:
            self.target = target.astype(np.float64)
            self.predictions = {s: p.astype(np.float64) for s, p in predictions.items()}
            self.labels: list[Any] = []
        else:
            combined = np.concatenate([target, *predictions.values()])
            self.labels, codes = _codes(combined)
            if (codes < 0).any():
                raise DataError(
                    "the target or a prediction column has missing labels; drop those rows"
                )
            n = len(target)
            self.label_target: IntArray = codes[:n]
            self.label_predictions: dict[str, IntArray] = {
                s: codes[n * (i + 1) : n * (i + 2)] for i, s in enumerate(predictions)
            }

    def scorer(self, system: str, level: Level) -> Scorer:
        if self.regression:
            return RegressionScorer(self.target, self.predictions[system])
        return ClassificationScorer(
            self.label_target, self.label_predictions[system], len(self.labels)
        )

    def per_label(self, system: str, intervals: Intervals) -> dict[str, Any] | None:
        if self.regression:
            return None
        performance = classification_performance(
            self.label_target,
            self.label_predictions[system],
            labels=list(range(len(self.labels))),
            n_bootstrap=0,
        )
        return {
            str(self.labels[e["label"]]): {k: v for k, v in e.items() if k != "label"}
            for e in performance.per_class
        }

    def features(self) -> list[FeatureValues]:
        out = []
        for name, values in self.feature_columns.items():
            numeric = values.dtype.kind in "iuf"
            data = values.astype(np.float64) if numeric else values
            out.append(
                shared_feature(
                    name,
                    "numeric" if numeric else "categorical",
                    f"column {name!r}",
                    data,
                    self.systems,
                )
            )
        return out

    def confusion(self, system: str) -> tuple[dict[str, Any], dict[str, IntArray]] | None:
        if self.regression:
            return None
        performance = classification_performance(
            self.label_target,
            self.label_predictions[system],
            labels=list(range(len(self.labels))),
            n_bootstrap=0,
        )
        names = [str(v) for v in self.labels]
        k = len(names)
        cells = self.label_target * k + self.label_predictions[system]
        members = {
            f"{names[c // k]} -> {names[c % k]}": np.flatnonzero(cells == c)
            for c in np.unique(cells).tolist()
        }
        return {
            "level": "label",
            "gold": names,
            "predicted": names,
            "matrix": performance.confusion_matrix["matrix"],
        }, members

    def calibration_inputs(self, system: str) -> None:
        return None

    def unit_losses(self, system: str) -> LossUnits:
        examples = np.arange(self.n_examples)
        if self.regression:
            error = np.abs(self.predictions[system] - self.target)
            return LossUnits("example", error, False, examples, "absolute error")
        wrong = (self.label_target != self.label_predictions[system]).astype(np.float64)
        return LossUnits("example", wrong, True, examples, "error rate")

    def describe(self, system: str, level: Level, unit: int) -> dict[str, Any]:
        if self.regression:
            gold: Any = float(self.target[unit])
            prediction: Any = float(self.predictions[system][unit])
        else:
            gold, prediction = (
                self.labels[self.label_target[unit]],
                self.labels[self.label_predictions[system][unit]],
            )
        row = {
            name: values[unit].item() if hasattr(values[unit], "item") else values[unit]
            for name, values in self.feature_columns.items()
        }
        return {"index": unit, "text": row, "gold": gold, "prediction": prediction}


def _load(task: str, data: Any, systems: Mapping[str, Any], options: TaskOptions) -> TabularData:
    if not options.target:
        raise ConfigError(f"task {task!r} needs target= (the name of the ground-truth column)")
    table = read_table_columns(data, None, "data")
    columns = table.column_names
    if options.target not in columns:
        raise ConfigError(
            f"data has no target column {options.target!r}; its columns are {columns[:20]}"
        )
    predictions: dict[str, NDArray[Any]] = {}
    used = {options.target}
    for name, source in systems.items():
        if isinstance(source, str) and source in columns:
            predictions[name] = _column(table, source)
            used.add(source)
            continue
        if isinstance(source, (str, Path)) and not Path(source).exists():
            raise ConfigError(
                f"system {name!r}: {str(source)!r} is neither a column of the data ({columns[:20]}) "
                "nor an existing file; pass a prediction column name or a file of predictions"
            )
        other = read_table_columns(source, None, f"system {name!r}")
        column = "prediction" if "prediction" in other.column_names else other.column_names[0]
        if other.num_rows != table.num_rows:
            raise DataError(
                f"system {name!r} has {other.num_rows:,} predictions but the data has {table.num_rows:,} rows"
            )
        predictions[name] = _column(other, column)
    wanted = (
        options.feature_columns
        if options.feature_columns is not None
        else [c for c in columns if c not in used]
    )
    missing = [c for c in wanted if c not in columns]
    if missing:
        raise ConfigError(
            f"feature column {missing[0]!r} is not in the data; its columns are {columns[:20]}"
        )
    features = {c: _column(table, c) for c in wanted}
    return TabularData(task, _column(table, options.target), predictions, features)


class TabularClassificationTask:
    """Classification on a table: a target column and prediction columns."""

    name = "tabular-classification"
    aliases = ("tabular_classification",)
    description = "tabular classification (performance module), sliced by the data's columns"

    def load(self, data: Any, systems: Mapping[str, Any], options: TaskOptions) -> TabularData:
        return _load(self.name, data, systems, options)


class TabularRegressionTask:
    """Regression on a table: a numeric target column and prediction columns."""

    name = "tabular-regression"
    aliases = ("regression", "tabular_regression")
    description = "tabular regression: MAE, RMSE, MAPE, R² (performance module), sliced"

    def load(self, data: Any, systems: Mapping[str, Any], options: TaskOptions) -> TabularData:
        return _load(self.name, data, systems, options)


register_task(TabularClassificationTask())
register_task(TabularRegressionTask())
