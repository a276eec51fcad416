"""Model performance of one sample, and its change between a reference and a current sample.

- :func:`classification_performance`: accuracy, precision/recall/F1 (positive label, macro,
  micro), FNR/FPR, ROC AUC, average precision, log loss, ECE/MCE, confusion matrix and
  per-class metrics;
- :func:`regression_performance`: MAE, RMSE, MAPE, R²;
- :func:`performance_difference`: ``current - reference`` of every metric with an interval.

Every metric is ``{"value": v, "ci": [lo, hi]}``: an exact point estimate on all rows and a
seeded percentile bootstrap interval. Small samples (up to 5,000 rows) use the row bootstrap;
larger ones resample 1,000 random blocks of rows through per-block sufficient statistics, which
keeps a million rows well under a second (see :mod:`.bootstrap` for the method and its
approximation). The module imports numpy only.

Inputs are numpy arrays (or anything :func:`numpy.asarray` accepts, or masked arrays); missing
values (NaN, ``None``, masked) exclude the row and are counted in ``excluded``.

>>> perf = classification_performance(["a", "b", "b"], ["a", "b", "a"], n_bootstrap=0)
>>> perf.metrics["accuracy"]["value"]
0.6666666666666666
"""

from .classification import ClassificationPerformance, classification_performance
from .difference import PerformanceDifference, performance_difference
from .regression import RegressionPerformance, regression_performance

__all__ = [
    "ClassificationPerformance",
    "PerformanceDifference",
    "RegressionPerformance",
    "classification_performance",
    "performance_difference",
    "regression_performance",
]
