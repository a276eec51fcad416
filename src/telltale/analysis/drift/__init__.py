"""Drift between a reference and a current profile, per column and per table.

Drift is computed from two profiles (:mod:`telltale.analysis.profile`), never from raw rows:
a saved reference profile stands in for the reference data. Numeric columns are compared
through their fine histograms (which share the reference's bins), categorical columns through
their category counts.

Methods (``DRIFT_METHODS``; add your own with :func:`register_drift_method`):

========================  ==============  ===================================================
name                      data            drift when (default threshold)
========================  ==============  ===================================================
``ks``                    numeric         p < 0.05, two-sample Kolmogorov–Smirnov
``wasserstein``           numeric         >= 0.1, Wasserstein-1 / reference std
``chisquare``             categorical     p < 0.05, chi-square test of homogeneity
``ztest``                 categorical     p < 0.05, two-proportion z-test (2 categories)
``psi``                   both            >= 0.1, population stability index
``jensenshannon``         both            >= 0.1, Jensen–Shannon distance (natural log)
``hellinger``             both            >= 0.1, Hellinger distance
``kl``                    both            >= 0.1, KL(reference || current)
========================  ==============  ===================================================

Without a method, :func:`choose_method` picks one per column (:data:`AUTO_RULE`).

>>> from telltale.analysis.profile import CategoricalSummary, ColumnProfile, TableProfile
>>> def table(frequencies):
...     summary = CategoricalSummary(frequencies)
...     column = ColumnProfile("plan", "categorical", "string", summary.count, 0,
...                            categorical=summary)
...     return TableProfile(summary.count, {"plan": column})
>>> reference, current = table({"free": 5000, "pro": 900}), table({"free": 3000, "pro": 2900})
>>> result = detect_drift(reference, current).columns["plan"]
>>> result.method, round(result.statistic, 3), result.drift
('jensenshannon', 0.261, True)
"""

from __future__ import annotations

from telltale.analysis.drift.auto import AUTO_RULE, choose_method, column_drift
from telltale.analysis.drift.base import (
    DRIFT_METHODS,
    DriftMethod,
    DriftResult,
    get_drift_method,
    register_drift_method,
)
from telltale.analysis.drift.categorical import ChiSquareMethod, ZTestMethod
from telltale.analysis.drift.divergence import (
    HellingerMethod,
    JensenShannonMethod,
    KLMethod,
    PSIMethod,
)
from telltale.analysis.drift.numeric import KSMethod, WassersteinMethod
from telltale.analysis.drift.table import TableDrift, detect_drift

__all__ = [
    "AUTO_RULE",
    "DRIFT_METHODS",
    "ChiSquareMethod",
    "DriftMethod",
    "DriftResult",
    "HellingerMethod",
    "JensenShannonMethod",
    "KLMethod",
    "KSMethod",
    "PSIMethod",
    "TableDrift",
    "WassersteinMethod",
    "ZTestMethod",
    "choose_method",
    "column_drift",
    "detect_drift",
    "get_drift_method",
    "register_drift_method",
]
