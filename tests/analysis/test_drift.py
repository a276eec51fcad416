"""Drift methods against independent implementations (scipy, textbook formulas).

Profiles are built from numpy arrays by the test-side builder (``_numpy_profiles``), so every
statistic can be checked against scipy on the very same raw arrays. Each tolerance is written
next to its assertion.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pytest
from _numpy_profiles import numpy_column_profile, numpy_table_profile
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from scipy.spatial.distance import jensenshannon

from telltale.analysis.drift import (
    AUTO_RULE,
    DRIFT_METHODS,
    DriftMethod,
    DriftResult,
    TableDrift,
    choose_method,
    column_drift,
    detect_drift,
    get_drift_method,
    register_drift_method,
)
from telltale.analysis.drift.pvalues import ks_asymptotic_pvalue, ks_exact_pvalue
from telltale.analysis.profile import (
    BinSpec,
    CategoricalSummary,
    ColumnProfile,
    Histogram,
    NumericSummary,
)
from telltale.errors import ConfigError, ProfileError

Sample = tuple[np.ndarray, np.ndarray]


def _pair(
    reference: np.ndarray, current: np.ndarray, **options: Any
) -> tuple[ColumnProfile, ColumnProfile]:
    """Reference profile, and the current profile on the reference's bins."""
    return (
        numpy_column_profile("x", None, reference, **options),
        numpy_column_profile("x", reference, current, **options),
    )


def _finite(values: np.ndarray) -> np.ndarray:
    return values[np.isfinite(values)]


# Continuous and discrete cases; every one seeded.
def _cases() -> dict[str, Callable[[], Sample]]:
    def normal_shift() -> Sample:
        rng = np.random.default_rng(1)
        return rng.normal(size=3000), rng.normal(0.1, 1.0, size=2500)

    def lognormal_sigma() -> Sample:
        rng = np.random.default_rng(2)
        return rng.lognormal(0.0, 1.0, 4000), rng.lognormal(0.0, 1.2, 4000)

    def uniform_same() -> Sample:
        rng = np.random.default_rng(3)
        return rng.uniform(size=2000), rng.uniform(size=2000)

    def integers() -> Sample:
        rng = np.random.default_rng(4)
        return rng.integers(0, 50, 3000).astype(float), rng.integers(0, 53, 3000).astype(float)

    def normal_same() -> Sample:
        rng = np.random.default_rng(5)
        return rng.normal(size=5000), rng.normal(size=5000)

    def with_nans() -> Sample:
        rng = np.random.default_rng(6)
        a, b = rng.normal(size=2000), rng.normal(0.2, 1.0, size=1500)
        a[rng.random(a.size) < 0.05] = np.nan
        b[rng.random(b.size) < 0.1] = np.nan
        return a, b

    def scale_change() -> Sample:
        rng = np.random.default_rng(7)
        return rng.normal(size=2000), rng.normal(0.0, 1.5, size=3000)

    def large_asymptotic() -> Sample:
        rng = np.random.default_rng(8)
        return rng.normal(size=30_000), rng.normal(0.02, 1.0, size=20_000)

    return {
        f.__name__: f
        for f in (
            normal_shift,
            lognormal_sigma,
            uniform_same,
            integers,
            normal_same,
            with_nans,
            scale_change,
            large_asymptotic,
        )
    }


CASES = _cases()


# --------------------------------------------------------------------------------------------
# The test-side builder
# --------------------------------------------------------------------------------------------


def test_builder_counts_like_numpy() -> None:
    values = np.array([1.0, np.nan, np.inf, 2.0, -np.inf, 2.0, 3.5])
    column = numpy_column_profile("x", None, values)
    assert (column.row_count, column.nan_count, column.inf_count, column.null_count) == (7, 1, 2, 0)
    assert column.numeric is not None and column.numeric.histogram is not None
    assert column.numeric.count == column.numeric.histogram.total == 4
    assert column.numeric.std == pytest.approx(np.std([1.0, 2.0, 2.0, 3.5], ddof=1), rel=1e-12)
    assert column.categorical is not None  # 3 distinct values: low cardinality
    assert column.categorical.frequencies == {"1.0": 1, "2.0": 2, "3.5": 1}

    strings = numpy_column_profile("s", None, ["a", None, "b", "a"])
    assert strings.kind == "categorical" and strings.null_count == 1
    assert strings.categorical is not None and strings.categorical.frequencies == {"a": 2, "b": 1}

    many = np.arange(100.0)
    current = numpy_column_profile("x", many, np.array([5.0, 500.0, -3.0]))
    assert current.categorical is None  # the reference has 100 distinct values
    assert current.numeric is not None and current.numeric.histogram is not None
    counts = current.numeric.histogram.counts
    assert (counts[0], counts[-1], counts[1:-1].sum()) == (1, 1, 1)


# --------------------------------------------------------------------------------------------
# Kolmogorov–Smirnov
# --------------------------------------------------------------------------------------------


def _ks_on_bins(reference: ColumnProfile, current: ColumnProfile) -> tuple[float, float, str]:
    """scipy's KS on the bin indices of the values: same statistic as the binned one."""
    assert reference.numeric and reference.numeric.histogram
    assert current.numeric and current.numeric.histogram
    index = np.arange(reference.numeric.histogram.counts.size)
    x = np.repeat(index, reference.numeric.histogram.counts)
    y = np.repeat(index, current.numeric.histogram.counts)
    mode = "exact" if max(x.size, y.size) <= 10_000 else "asymp"  # scipy's 'auto' choice
    result = stats.ks_2samp(x, y)
    return float(result.statistic), float(result.pvalue), mode


@pytest.mark.parametrize("case", sorted(CASES))
def test_ks_matches_scipy(case: str) -> None:
    raw_ref, raw_cur = CASES[case]()
    reference, current = _pair(raw_ref, raw_cur)
    result = column_drift(reference, current, "ks")
    exact = stats.ks_2samp(_finite(raw_ref), _finite(raw_cur))

    # Binning can only hide gaps inside a bin: |D - D_exact| <= resolution.
    resolution = result.details["resolution"]
    assert 0 < resolution < 0.1
    assert result.statistic <= exact.statistic + 1e-12
    assert abs(result.statistic - exact.statistic) <= resolution + 1e-12

    # The same statistic as scipy on the binned data, and its p-value.
    statistic, p_scipy, scipy_mode = _ks_on_bins(reference, current)
    assert result.statistic == pytest.approx(statistic, abs=1e-12)
    assert result.p_value is not None
    how = result.details["p_value_method"]
    if how == "exact" and scipy_mode == "exact":
        # Same exact distribution: relative 1e-9 (scipy's 1 - P(inside) loses digits below 1e-8).
        if p_scipy > 1e-8:
            assert result.p_value == pytest.approx(p_scipy, rel=1e-9)
    elif scipy_mode == "asymp":
        # Both asymptotic (scipy: kstwo.sf at round(nm/(n+m))): within 1%.
        assert result.p_value == pytest.approx(p_scipy, rel=0.01)
    else:
        # Our asymptotic vs scipy's exact: within 10% in log space (p down to 1e-300).
        assert math.log(result.p_value) == pytest.approx(math.log(p_scipy), rel=0.1, abs=0.1)
    if result.statistic == pytest.approx(exact.statistic, abs=1e-12) and how == "exact":
        assert result.p_value == pytest.approx(exact.pvalue, rel=1e-6)


@pytest.mark.parametrize("seed", range(8))
def test_ks_small_samples_agree_with_scipy(seed: int) -> None:
    rng = np.random.default_rng(100 + seed)
    raw_ref, raw_cur = rng.normal(size=30), rng.normal(0.5 * (seed % 3), 1.0, size=40)
    result = column_drift(*_pair(raw_ref, raw_cur), "ks")
    exact = stats.ks_2samp(raw_ref, raw_cur)
    assert result.details["p_value_method"] == "exact"
    assert abs(result.statistic - exact.statistic) <= result.details["resolution"] + 1e-12
    if result.statistic == pytest.approx(exact.statistic, abs=1e-12):
        # 1024 bins for 70 values: usually every value alone in its bin, so equal statistics.
        assert result.p_value == pytest.approx(exact.pvalue, rel=1e-9)


def test_ks_exact_pvalue_matches_scipy_exact() -> None:
    rng = np.random.default_rng(9)
    compared = 0
    for _ in range(150):
        n, m = (int(v) for v in rng.integers(1, 250, size=2))
        x, y = rng.normal(size=n), rng.normal(rng.uniform(0, 1.2), 1.0, size=m)
        scipy_result = stats.ks_2samp(x, y, method="exact")
        h = round(float(scipy_result.statistic) * n * m)
        ours = ks_exact_pvalue(n, m, h)
        if scipy_result.pvalue > 1e-10:  # below, scipy's 1 - P(inside) is mostly rounding
            assert ours == pytest.approx(scipy_result.pvalue, rel=1e-9)
            compared += 1
        else:
            assert ours <= 1e-9
    assert compared > 100


@pytest.mark.parametrize("effective", [50, 500, 5000, 30_000])
def test_ks_asymptotic_pvalue_matches_scipy_asymp(effective: int) -> None:
    n = m = 2 * effective  # n m / (n + m) == effective
    for z in [0.8, 1.0, 1.36, 1.63, 2.0, 3.0, 4.0, 6.0]:
        d = z / math.sqrt(effective)
        expected = float(stats.kstwo.sf(d, effective))
        if effective <= 5000:  # exact one-sided tail: 1% for p > 0.27, 0.2% to z = 3, then 1e-6
            tolerance = 1e-2 if z < 1 else 2e-3 if z < 3 else 1e-6
        else:  # first-order expansion: 0.2% to z = 3 (p = 3e-8), 5% to z = 6 (p = 1e-31)
            tolerance = 2e-3 if z <= 3 else 5e-2
        assert ks_asymptotic_pvalue(n, m, d) == pytest.approx(expected, rel=tolerance)


# --------------------------------------------------------------------------------------------
# Categorical tests
# --------------------------------------------------------------------------------------------


def _categorical(frequencies: dict[str, int], other: int = 0) -> ColumnProfile:
    summary = CategoricalSummary(dict(frequencies), other)
    return ColumnProfile("c", "categorical", "string", summary.count, 0, categorical=summary)


CATEGORY_CASES = {
    "shifted": ({"a": 50, "b": 30, "c": 20}, {"a": 35, "b": 30, "c": 35}),
    "new category": ({"a": 500, "b": 300}, {"a": 480, "b": 290, "new": 12}),
    "lost category": ({"a": 500, "b": 300, "gone": 7}, {"a": 480, "b": 290}),
    "same": ({"x": 1000, "y": 2000, "z": 3000}, {"x": 330, "y": 670, "z": 1000}),
}


@pytest.mark.parametrize("case", sorted(CATEGORY_CASES))
def test_chisquare_matches_scipy(case: str) -> None:
    ref, cur = CATEGORY_CASES[case]
    result = column_drift(_categorical(ref), _categorical(cur), "chisquare")
    keys = sorted(set(ref) | set(cur))
    table = np.array([[ref.get(k, 0) for k in keys], [cur.get(k, 0) for k in keys]])
    expected = stats.chi2_contingency(table, correction=False)
    # Relative 1e-9 on statistic and p-value; same degrees of freedom.
    assert result.statistic == pytest.approx(expected.statistic, rel=1e-9)
    assert result.p_value == pytest.approx(expected.pvalue, rel=1e-9)
    assert result.details["dof"] == expected.dof
    assert result.kind == "categorical"


def test_chisquare_counts_other_bucket_as_a_category() -> None:
    result = column_drift(
        _categorical({"a": 40, "b": 40}, 20), _categorical({"a": 40, "b": 20}, 40), "chisquare"
    )
    expected = stats.chi2_contingency(np.array([[40, 40, 20], [40, 20, 40]]), correction=False)
    assert result.statistic == pytest.approx(expected.statistic, rel=1e-9)
    assert result.details["categories"] == 3


def test_chisquare_on_low_cardinality_numeric_uses_category_counts() -> None:
    rng = np.random.default_rng(10)
    raw_ref, raw_cur = rng.integers(0, 4, 800), rng.choice(4, 600, p=[0.3, 0.3, 0.2, 0.2])
    result = column_drift(*_pair(raw_ref, raw_cur), "chisquare")
    table = np.array([np.bincount(raw_ref, minlength=4), np.bincount(raw_cur, minlength=4)])
    expected = stats.chi2_contingency(table, correction=False)
    assert result.statistic == pytest.approx(expected.statistic, rel=1e-9)
    assert result.p_value == pytest.approx(expected.pvalue, rel=1e-9)


@pytest.mark.parametrize(
    ("ref", "cur"),
    [
        ({"yes": 600, "no": 400}, {"yes": 450, "no": 550}),
        ({"1": 90, "0": 910}, {"1": 95, "0": 905}),
    ],
)
def test_ztest_matches_formula(ref: dict[str, int], cur: dict[str, int]) -> None:
    result = column_drift(_categorical(ref), _categorical(cur), "ztest")
    category = result.details["category"]
    n1, n2 = sum(ref.values()), sum(cur.values())
    p1, p2 = ref[category] / n1, cur[category] / n2
    pooled = (ref[category] + cur[category]) / (n1 + n2)
    z = (p2 - p1) / math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    # Relative 1e-9 against the textbook z and scipy's normal tail.
    assert result.statistic == pytest.approx(z, rel=1e-9)
    assert result.p_value == pytest.approx(2 * stats.norm.sf(abs(z)), rel=1e-9)


# --------------------------------------------------------------------------------------------
# Share distances: PSI, Jensen–Shannon, Hellinger, KL
# --------------------------------------------------------------------------------------------


def _coarse_counts_by_loop(
    ref: np.ndarray, cur: np.ndarray, k: int = 10
) -> tuple[np.ndarray, np.ndarray]:
    """Independent coarse binning: walk the fine bins, cut where the reference share crosses j/k."""
    inner = ref[1:-1]
    total = int(inner.sum())
    groups: list[list[int]] = [[0]]
    group: list[int] = []
    running, target = 0, 1
    for i, count in enumerate(inner.tolist(), start=1):
        group.append(i)
        running += count
        if target < k and running * k >= target * total:
            groups.append(group)
            group = []
            while target < k and running * k >= target * total:
                target += 1
    if group:
        groups.append(group)
    groups.append([ref.size - 1])
    return (
        np.array([ref[g].sum() for g in groups]),
        np.array([cur[g].sum() for g in groups]),
    )


def _expected_shares(
    reference: ColumnProfile, current: ColumnProfile
) -> tuple[np.ndarray, np.ndarray]:
    assert reference.numeric and reference.numeric.histogram
    assert current.numeric and current.numeric.histogram
    ref, cur = _coarse_counts_by_loop(
        reference.numeric.histogram.counts, current.numeric.histogram.counts
    )
    keep = (ref + cur) > 0
    return ref[keep] / ref.sum(), cur[keep] / cur.sum()


def _smoothed(shares: np.ndarray) -> np.ndarray:
    out = np.where(shares == 0, 1e-4, shares)
    return out / out.sum()


def _hellinger(p: np.ndarray, q: np.ndarray) -> float:
    return math.sqrt(max(0.0, 1.0 - float(np.sum(np.sqrt(p * q)))))


def _psi(p: np.ndarray, q: np.ndarray) -> float:
    p, q = _smoothed(p), _smoothed(q)
    return float(np.sum((q - p) * np.log(q / p)))


INDEPENDENT: dict[str, Callable[[np.ndarray, np.ndarray], float]] = {
    "jensenshannon": lambda p, q: float(jensenshannon(p, q)),
    "hellinger": _hellinger,
    "kl": lambda p, q: float(stats.entropy(_smoothed(p), _smoothed(q))),
    "psi": _psi,
}


@pytest.mark.parametrize("method", sorted(INDEPENDENT))
@pytest.mark.parametrize("case", ["normal_shift", "lognormal_sigma", "integers", "scale_change"])
def test_share_distances_on_coarse_bins(method: str, case: str) -> None:
    reference, current = _pair(*CASES[case]())
    result = column_drift(reference, current, method)
    p, q = _expected_shares(reference, current)
    assert result.kind == "numeric"
    assert result.details["bins"] == p.size
    # Same shares, independent formula: absolute 1e-9 (Hellinger's 1 - sum sqrt(pq) form: 1e-7).
    tolerance = 1e-7 if method == "hellinger" else 1e-9
    assert result.statistic == pytest.approx(INDEPENDENT[method](p, q), abs=tolerance)


@pytest.mark.parametrize("method", sorted(INDEPENDENT))
@pytest.mark.parametrize("case", sorted(CATEGORY_CASES))
def test_share_distances_on_categories(method: str, case: str) -> None:
    ref, cur = CATEGORY_CASES[case]
    result = column_drift(_categorical(ref), _categorical(cur), method)
    keys = sorted(set(ref) | set(cur))
    p = np.array([ref.get(k, 0) for k in keys]) / sum(ref.values())
    q = np.array([cur.get(k, 0) for k in keys]) / sum(cur.values())
    assert result.kind == "categorical" and result.details["bins"] == len(keys)
    tolerance = 1e-7 if method == "hellinger" else 1e-9
    assert result.statistic == pytest.approx(INDEPENDENT[method](p, q), abs=tolerance)


def test_coarse_bins_hold_about_a_tenth_of_the_reference_each() -> None:
    raw_ref, raw_cur = CASES["normal_shift"]()
    reference, current = _pair(raw_ref, raw_cur)
    assert reference.numeric and reference.numeric.histogram
    ref_counts = reference.numeric.histogram.counts
    result = column_drift(reference, current, "psi")
    p, _ = _expected_shares(reference, current)
    # 10 bins of reference mass, plus the bins below and above the range (non-empty here).
    assert result.details["bins"] == p.size <= 12
    inner = p[1:-1] if ref_counts[0] else p
    finest = ref_counts.max() / ref_counts.sum()
    # Each bin holds a tenth of the reference, give or take one fine bin.
    assert np.all(np.abs(inner[inner > 0.02] - 0.1) <= finest + 1e-12)
    assert result.details["below_range_share"] + result.details["above_range_share"] < 0.01


def test_low_cardinality_numeric_distances_use_categories() -> None:
    rng = np.random.default_rng(11)
    raw_ref, raw_cur = rng.integers(0, 3, 5000), rng.integers(0, 3, 5000)
    result = column_drift(*_pair(raw_ref, raw_cur), "jensenshannon")
    p = np.bincount(raw_ref, minlength=3) / raw_ref.size
    q = np.bincount(raw_cur, minlength=3) / raw_cur.size
    assert result.kind == "categorical"
    assert result.statistic == pytest.approx(float(jensenshannon(p, q)), abs=1e-9)


# --------------------------------------------------------------------------------------------
# Wasserstein
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", sorted(set(CASES) - {"integers"}))
def test_wasserstein_matches_scipy(case: str) -> None:
    raw_ref, raw_cur = CASES[case]()
    result = column_drift(*_pair(raw_ref, raw_cur), "wasserstein")
    ref, cur = _finite(raw_ref), _finite(raw_cur)
    expected = stats.wasserstein_distance(ref, cur) / np.std(ref, ddof=1)
    # Continuous data: relative 2% (the CDF is linear inside a bin; tails beyond the
    # reference range come from the mean). Observed: below 0.5%.
    assert result.statistic == pytest.approx(expected, rel=0.02)
    assert result.details["normalised"] is True


def test_wasserstein_on_integers_and_small_samples() -> None:
    raw_ref, raw_cur = CASES["integers"]()
    result = column_drift(*_pair(raw_ref, raw_cur), "wasserstein")
    expected = stats.wasserstein_distance(raw_ref, raw_cur) / np.std(raw_ref, ddof=1)
    assert result.statistic == pytest.approx(expected, rel=0.02)
    rng = np.random.default_rng(12)
    small_ref, small_cur = rng.normal(size=30), rng.normal(0.7, 1.0, size=40)
    result = column_drift(*_pair(small_ref, small_cur), "wasserstein")
    expected = stats.wasserstein_distance(small_ref, small_cur) / np.std(small_ref, ddof=1)
    assert result.statistic == pytest.approx(expected, rel=0.02)


def test_wasserstein_constant_reference_is_not_normalised() -> None:
    raw_ref = np.full(100, 3.0)
    raw_cur = np.array([3.0] * 50 + [4.0] * 30 + [5.0] * 20)
    result = column_drift(*_pair(raw_ref, raw_cur, low_cardinality=None), "wasserstein")
    assert result.details["normalised"] is False and "note" in result.details
    # Exact here (relative 1e-9): the values above the range follow from the mean.
    expected = stats.wasserstein_distance(raw_ref, raw_cur)
    assert result.statistic == pytest.approx(expected, rel=1e-9)
    assert result.details["distance"] == result.statistic


@pytest.mark.parametrize("case", ["normal_shift", "lognormal_sigma", "scale_change"])
def test_wasserstein_ignores_rounding_noise_in_the_moments(case: str) -> None:
    """Engines sum in parallel: moments vary in their last bits between runs."""
    raw_ref, raw_cur = CASES[case]()
    baseline = column_drift(*_pair(raw_ref, raw_cur), "wasserstein").statistic
    for ulps in range(1, 8):  # a few ulps, as seen between DuckDB runs
        reference, current = _pair(raw_ref, raw_cur)
        assert reference.numeric is not None and current.numeric is not None
        assert current.numeric.mean is not None
        reference.numeric.m2 *= 1 + ulps * 1e-16
        current.numeric.mean *= 1 - ulps * 1e-16
        current.numeric.m2 *= 1 + ulps * 1e-16
        assert column_drift(reference, current, "wasserstein").statistic == baseline


# --------------------------------------------------------------------------------------------
# Automatic choice
# --------------------------------------------------------------------------------------------


def _auto_cases() -> list[tuple[str, np.ndarray | list[str], np.ndarray | list[str], str]]:
    rng = np.random.default_rng(13)
    return [
        ("small numeric", rng.normal(size=1000), rng.normal(size=500), "ks"),
        ("large numeric", rng.normal(size=1001), rng.normal(size=500), "wasserstein"),
        (
            "small binary",
            list(rng.choice(["a", "b"], 800)),
            list(rng.choice(["a", "b"], 80)),
            "ztest",
        ),
        ("small 3 categories", list(rng.choice(["a", "b", "c"], 800)), ["a", "b"] * 5, "chisquare"),
        ("large categorical", list(rng.choice(["a", "b"], 5000)), ["a", "b"], "jensenshannon"),
        ("small 0/1 numeric", rng.integers(0, 2, 500), rng.integers(0, 2, 500), "ztest"),
        ("small 5-valued numeric", rng.integers(0, 5, 500), rng.integers(0, 5, 500), "chisquare"),
        (
            "large 5-valued numeric",
            rng.integers(0, 5, 5000),
            rng.integers(0, 5, 500),
            "jensenshannon",
        ),
        ("small 6-valued numeric", rng.integers(0, 6, 500), rng.integers(0, 6, 500), "ks"),
        (
            "large 6-valued numeric",
            rng.integers(0, 6, 5000),
            rng.integers(0, 6, 500),
            "wasserstein",
        ),
    ]


@pytest.mark.parametrize(
    ("label", "reference", "current", "expected"), _auto_cases(), ids=lambda v: str(v)[:24]
)
def test_auto_rule_choices(
    label: str, reference: np.ndarray, current: np.ndarray, expected: str
) -> None:
    ref = numpy_column_profile("x", None, reference)
    cur = numpy_column_profile("x", reference, current)
    assert choose_method(ref, cur) == expected, label
    result = column_drift(ref, cur)
    assert result.method == expected
    assert result.threshold == get_drift_method(expected).default_threshold


def test_auto_rule_text_and_default_thresholds() -> None:
    for name in ("ks", "wasserstein", "chisquare", "ztest", "jensenshannon", "1000", "5"):
        assert name in AUTO_RULE
    defaults = {name: method.default_threshold for name, method in DRIFT_METHODS.items()}
    assert defaults == {
        "ks": 0.05,
        "chisquare": 0.05,
        "ztest": 0.05,
        "psi": 0.1,
        "jensenshannon": 0.1,
        "wasserstein": 0.1,
        "hellinger": 0.1,
        "kl": 0.1,
    }
    assert all(len(m.description.splitlines()) == 1 for m in DRIFT_METHODS.values())


# --------------------------------------------------------------------------------------------
# Decisions at sensible sizes
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["ks", "wasserstein", "psi", "jensenshannon", "hellinger", "kl"])
def test_numeric_drift_decisions(method: str) -> None:
    rng = np.random.default_rng(14)
    raw_ref = rng.normal(size=5000)
    same = column_drift(*_pair(raw_ref, rng.normal(size=3000)), method)
    shifted = column_drift(*_pair(raw_ref, rng.normal(0.7, 1.0, size=3000)), method)
    assert not same.drift and shifted.drift
    assert same.statistic < shifted.statistic


@pytest.mark.parametrize(
    "method", ["chisquare", "ztest", "psi", "jensenshannon", "hellinger", "kl"]
)
def test_categorical_drift_decisions(method: str) -> None:
    rng = np.random.default_rng(15)
    reference = list(rng.choice(["a", "b"], 4000, p=[0.7, 0.3]))
    same = list(rng.choice(["a", "b"], 3000, p=[0.7, 0.3]))
    shifted = list(rng.choice(["a", "b"], 3000, p=[0.4, 0.6]))
    ref = numpy_column_profile("c", None, reference)
    assert not column_drift(ref, numpy_column_profile("c", None, same), method).drift
    assert column_drift(ref, numpy_column_profile("c", None, shifted), method).drift


# --------------------------------------------------------------------------------------------
# Tables, thresholds, errors, JSON
# --------------------------------------------------------------------------------------------


def _tables(
    n: int = 3000, shift: float = 0.0, seed: int = 16
) -> tuple[dict[str, Any], dict[str, Any]]:
    rng = np.random.default_rng(seed)
    reference = {
        "income": rng.lognormal(10, 0.5, n),
        "age": rng.normal(40, 10, n),
        "city": list(rng.choice(["paris", "lyon", "nice"], n)),
        "flag": rng.integers(0, 2, n),
    }
    current = {
        "income": rng.lognormal(10 + shift, 0.5, n),
        "age": rng.normal(40, 10, n),
        "city": list(rng.choice(["paris", "lyon", "nice"], n)),
        "flag": rng.integers(0, 2, n),
    }
    return reference, current


def test_detect_drift_auto_table() -> None:
    raw_ref, raw_cur = _tables(shift=0.5)
    drift = detect_drift(numpy_table_profile(None, raw_ref), numpy_table_profile(raw_ref, raw_cur))
    assert drift.method == "auto" and drift.auto_rule == AUTO_RULE and not drift.errors
    assert {name: r.method for name, r in drift.columns.items()} == {
        "income": "wasserstein",
        "age": "wasserstein",
        "city": "jensenshannon",
        "flag": "jensenshannon",
    }
    assert drift.columns["income"].drift and not drift.columns["age"].drift
    assert (drift.n_columns, drift.n_drifted) == (4, 1)
    assert drift.share_drifted == 0.25 and drift.drifted == ["income"]


@pytest.mark.parametrize("method", ["psi", "jensenshannon", "hellinger", "kl"])
def test_forced_method_applies_to_all_columns(method: str) -> None:
    raw_ref, raw_cur = _tables()
    drift = detect_drift(
        numpy_table_profile(None, raw_ref), numpy_table_profile(raw_ref, raw_cur), method=method
    )
    assert drift.method == method and not drift.errors and drift.n_columns == 4
    assert {r.method for r in drift.columns.values()} == {method}
    assert {r.kind for r in drift.columns.values()} == {"numeric", "categorical"}


def test_forced_method_that_does_not_apply_is_a_column_error() -> None:
    raw_ref, raw_cur = _tables()
    drift = detect_drift(
        numpy_table_profile(None, raw_ref), numpy_table_profile(raw_ref, raw_cur), method="ks"
    )
    assert set(drift.columns) == {"income", "age", "flag"}
    assert set(drift.errors) == {"city"}
    message = drift.errors["city"]
    assert "'ks'" in message and "'city'" in message and "chisquare" in message and "psi" in message


def test_per_column_thresholds_change_the_decision() -> None:
    raw_ref, raw_cur = _tables(shift=0.05)
    reference, current = numpy_table_profile(None, raw_ref), numpy_table_profile(raw_ref, raw_cur)
    default = detect_drift(reference, current, ["income"], method="psi")
    statistic = default.columns["income"].statistic
    assert 0.0 < statistic < 0.1 and not default.columns["income"].drift
    strict = detect_drift(
        reference, current, ["income"], method="psi", thresholds={"income": statistic / 2}
    )
    assert strict.columns["income"].drift and strict.columns["income"].threshold == statistic / 2
    assert column_drift(reference["income"], current["income"], "psi", statistic / 2).drift


def test_unknown_method_lists_known_names() -> None:
    raw_ref, raw_cur = _tables(n=100)
    with pytest.raises(ConfigError, match="unknown drift method 'kolmogorov'") as info:
        detect_drift(
            numpy_table_profile(None, raw_ref),
            numpy_table_profile(raw_ref, raw_cur),
            method="kolmogorov",
        )
    for name in DRIFT_METHODS:
        assert name in str(info.value)
    with pytest.raises(ConfigError, match="known methods"):
        get_drift_method("nope")
    assert get_drift_method("KS") is DRIFT_METHODS["ks"]


@pytest.mark.parametrize(
    ("method", "threshold", "match"),
    [
        ("ks", 1.5, "strictly between 0 and 1"),
        ("ks", 0.0, "strictly between 0 and 1"),
        ("psi", -0.1, "at least 0"),
        ("psi", float("nan"), "finite"),
        ("wasserstein", float("inf"), "finite"),
        ("psi", "high", "must be a number"),
    ],
)
def test_invalid_thresholds_name_the_column(method: str, threshold: object, match: str) -> None:
    raw_ref, raw_cur = _tables(n=200)
    reference, current = numpy_table_profile(None, raw_ref), numpy_table_profile(raw_ref, raw_cur)
    with pytest.raises(ConfigError, match=match) as info:
        detect_drift(reference, current, ["age"], method=method, thresholds={"age": threshold})  # type: ignore[dict-item]
    assert "'age'" in str(info.value)
    # Thresholds of columns not analysed here (e.g. the target in a report) are left alone.
    ignored = detect_drift(reference, current, ["age"], thresholds={"label": 5.0})
    assert ignored.columns["age"].method == "ks" and ignored.columns["age"].threshold == 0.05


def test_auto_thresholds_are_checked_against_the_chosen_method() -> None:
    raw_ref, raw_cur = _tables(n=500)  # 500 rows: ks for numeric columns
    reference, current = numpy_table_profile(None, raw_ref), numpy_table_profile(raw_ref, raw_cur)
    with pytest.raises(ConfigError, match=r"'age'.*'ks'"):
        detect_drift(reference, current, thresholds={"age": 2.0})
    drift = detect_drift(reference, current, thresholds={"age": 0.5})
    assert drift.columns["age"].method == "ks" and drift.columns["age"].threshold == 0.5


def test_bad_column_is_recorded_and_the_others_computed() -> None:
    raw_ref, raw_cur = _tables()
    reference = numpy_table_profile(None, raw_ref)
    current = numpy_table_profile(raw_ref, raw_cur)
    # "income" profiled on its own bins instead of the reference's; "age" all NaN.
    current.columns["income"] = numpy_column_profile("income", None, raw_cur["income"])
    current.columns["age"] = numpy_column_profile("age", raw_ref["age"], np.full(3000, np.nan))
    drift = detect_drift(reference, current, ["income", "age", "city", "flag", "ghost"])
    assert set(drift.columns) == {"city", "flag"}
    assert list(drift.errors) == ["income", "age", "ghost"]
    assert "profile the current data against the reference profile" in drift.errors["income"]
    assert "no finite values in the current profile" in drift.errors["age"]
    assert "not in the reference profile" in drift.errors["ghost"]
    assert drift.n_columns == 2 and drift.share_drifted == drift.n_drifted / 2


def test_method_that_does_not_apply_raises_config_error() -> None:
    strings = _categorical({"a": 10, "b": 5})
    with pytest.raises(
        ConfigError,
        match=r"'ks' does not apply to column 'c'.*methods that apply to this column: chisquare, hellinger, jensenshannon, kl, psi, ztest",
    ):
        column_drift(strings, strings, "ks")
    five = _categorical({k: 10 for k in "abcde"})
    with pytest.raises(ConfigError, match=r"'ztest'.*exactly 2 categories.*has 5"):
        column_drift(five, five, "ztest")
    numeric, _ = _pair(np.arange(100.0), np.arange(100.0))
    with pytest.raises(ConfigError, match=r"'chisquare'.*categorical.*ks, .*wasserstein"):
        column_drift(numeric, numeric, "chisquare")


def test_profile_errors() -> None:
    raw = np.random.default_rng(17).normal(size=500)
    reference = numpy_column_profile("x", None, raw)
    with pytest.raises(
        ProfileError, match="profile the current data against the reference profile"
    ):
        column_drift(reference, numpy_column_profile("x", None, raw + 1), "ks")
    empty = numpy_column_profile("x", raw, np.array([np.nan, np.inf]))
    with pytest.raises(ProfileError, match="no finite values in the current profile"):
        column_drift(reference, empty)
    with pytest.raises(ProfileError, match="no non-missing values in the current profile"):
        column_drift(_categorical({"a": 3}), _categorical({}), "chisquare")
    strings = numpy_column_profile("x", None, ["a", "b"])
    with pytest.raises(ProfileError, match="numeric in the reference profile but categorical"):
        column_drift(reference, strings)
    broken = numpy_column_profile("x", raw, raw)
    broken.error = "engine failed"
    with pytest.raises(ProfileError, match="engine failed"):
        column_drift(reference, broken)


def test_json_round_trip() -> None:
    raw_ref, raw_cur = _tables(n=400)
    drift = detect_drift(
        numpy_table_profile(None, raw_ref),
        numpy_table_profile(raw_ref, raw_cur),
        ["age", "city", "ghost"],
    )
    data = json.loads(drift.to_json())
    assert data == drift.to_dict()
    assert set(data) == {
        "columns",
        "errors",
        "share_drifted",
        "n_drifted",
        "n_columns",
        "method",
        "auto_rule",
    }
    assert set(data["columns"]["age"]) == {
        "column",
        "method",
        "statistic",
        "p_value",
        "threshold",
        "drift",
        "kind",
        "details",
    }
    assert data["columns"]["age"]["p_value"] == drift.columns["age"].p_value
    assert data["errors"] == {"ghost": "column 'ghost' is not in the reference profile"}
    assert json.loads(TableDrift().to_json())["share_drifted"] is None
    nan_result = DriftResult(
        "x", "m", float("nan"), None, 0.1, False, "numeric", {"v": float("inf")}
    )
    assert json.loads(nan_result.to_json())["statistic"] is None
    assert json.loads(nan_result.to_json())["details"] == {"v": None}


# --------------------------------------------------------------------------------------------
# Registry and plugins
# --------------------------------------------------------------------------------------------


class _MeanShift(DriftMethod):
    name = "meanshift"
    applies_to = frozenset({"numeric"})
    default_threshold = 0.5
    threshold_is_p_value = False
    description = "shift of the mean in reference standard deviations"

    def compute(
        self, reference: ColumnProfile, current: ColumnProfile, threshold: float
    ) -> DriftResult:
        self.require(reference, current)
        assert reference.numeric and current.numeric
        assert reference.numeric.mean is not None and current.numeric.mean is not None
        shift = abs(current.numeric.mean - reference.numeric.mean) / (reference.numeric.std or 1.0)
        return self.result(reference, "numeric", shift, None, threshold)


@pytest.fixture
def restore_registry() -> Iterator[None]:
    saved = dict(DRIFT_METHODS)
    yield
    DRIFT_METHODS.clear()
    DRIFT_METHODS.update(saved)


@pytest.mark.usefixtures("restore_registry")
def test_plugin_registers_like_a_builtin() -> None:
    plugin = register_drift_method(_MeanShift())
    assert DRIFT_METHODS["meanshift"] is plugin and get_drift_method("meanshift") is plugin
    raw = np.random.default_rng(18).normal(size=400)
    result = column_drift(*_pair(raw, raw + 1.0), "meanshift")
    assert result.method == "meanshift" and result.drift
    assert result.statistic == pytest.approx(1.0 / np.std(raw, ddof=1), rel=1e-9)
    with pytest.raises(ConfigError, match="already registered"):
        register_drift_method(_MeanShift())
    register_drift_method(_MeanShift(), replace=True)
    bad = _MeanShift()
    bad.applies_to = frozenset({"text"})
    with pytest.raises(ConfigError, match="applies_to"):
        register_drift_method(bad, replace=True)


# --------------------------------------------------------------------------------------------
# Merged profiles == profile of the concatenated data
# --------------------------------------------------------------------------------------------

_values = st.lists(
    st.one_of(
        st.integers(-40, 40).map(lambda v: v / 4), st.floats(-1e3, 1e3), st.just(float("nan"))
    ),
    max_size=60,
)


@settings(max_examples=40, deadline=None)
@given(
    reference=_values.filter(lambda v: np.isfinite(v).sum() >= 2),
    part_a=_values,
    part_b=_values,
    split=st.integers(0, 100),
)
def test_drift_of_merged_profiles_equals_drift_of_concatenated_data(
    reference: list[float], part_a: list[float], part_b: list[float], split: int
) -> None:
    current = np.array(part_a + part_b, dtype=float)
    if not np.isfinite(current).any():
        return
    ref = np.array(reference, dtype=float)
    cut = split * ref.size // 100
    options = {"n_bins": 32}
    whole_ref = numpy_column_profile("x", None, ref, **options)
    merged_ref = numpy_column_profile("x", ref, ref[:cut], **options).merge(
        numpy_column_profile("x", ref, ref[cut:], **options)
    )
    whole_cur = numpy_column_profile("x", ref, current, **options)
    merged_cur = numpy_column_profile("x", ref, np.array(part_a, dtype=float), **options).merge(
        numpy_column_profile("x", ref, np.array(part_b, dtype=float), **options)
    )
    methods = ["ks", "psi", "jensenshannon", "hellinger", "kl", "wasserstein"]
    if whole_ref.categorical is not None:
        methods.append("chisquare")
    for method in methods:
        whole = column_drift(whole_ref, whole_cur, method)
        merged = column_drift(merged_ref, merged_cur, method)
        if method == "wasserstein":  # normed by the merged std (moments merge up to rounding)
            assert merged.statistic == pytest.approx(whole.statistic, rel=1e-9, abs=1e-12)
        else:  # counts merge exactly: exactly equal
            assert merged.statistic == whole.statistic, method
            assert merged.p_value == whole.p_value, method


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.sampled_from("abcd"), min_size=1, max_size=80),
    st.lists(st.sampled_from("abcde"), max_size=80),
    st.lists(st.sampled_from("abcde"), max_size=80),
)
def test_categorical_drift_of_merged_profiles(
    reference: list[str], part_a: list[str], part_b: list[str]
) -> None:
    parts = [numpy_column_profile("c", None, part) for part in (part_a, part_b) if part]
    if not parts:
        return
    ref = numpy_column_profile("c", None, reference)
    whole = numpy_column_profile("c", None, part_a + part_b)
    merged = parts[0] if len(parts) == 1 else parts[0].merge(parts[1])
    for method in ["chisquare", "jensenshannon", "psi"]:
        assert (
            column_drift(ref, merged, method).statistic
            == column_drift(ref, whole, method).statistic
        )


# --------------------------------------------------------------------------------------------
# Import cost
# --------------------------------------------------------------------------------------------


def test_drift_does_not_import_scipy_stats() -> None:
    code = """
import sys
import numpy as np
import telltale.analysis.drift as drift
from telltale.analysis.profile import BinSpec, CategoricalSummary, ColumnProfile, Histogram, NumericSummary
assert "scipy.stats" not in sys.modules and "scipy.special" not in sys.modules
rng = np.random.default_rng(0)
def numeric(values, ref):
    spec = BinSpec.from_sample(ref, minimum=ref.min(), maximum=ref.max())
    s = NumericSummary(values.size, values.min(), values.max(), values.mean(),
                       float(((values - values.mean()) ** 2).sum()), Histogram.from_values(spec, values))
    return ColumnProfile("x", "numeric", "float64", values.size, 0, numeric=s)
ref = rng.normal(size=500)
for cur in (rng.normal(size=400), rng.normal(size=50_000)):
    for method in ("ks", "wasserstein", "psi"):
        drift.column_drift(numeric(ref, ref), numeric(cur, ref), method)
cat = ColumnProfile("c", "categorical", "string", 9, 0, categorical=CategoricalSummary({"a": 5, "b": 4}))
for method in ("chisquare", "ztest", "jensenshannon"):
    drift.column_drift(cat, cat, method)
assert "scipy.stats" not in sys.modules, sorted(m for m in sys.modules if m.startswith("scipy.stats"))
"""
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_numeric_summary_without_histogram_is_a_profile_error() -> None:
    spec = BinSpec.from_sample(np.arange(10.0), minimum=0.0, maximum=9.0, n_bins=8)
    with_hist = ColumnProfile(
        "x",
        "numeric",
        "float64",
        10,
        0,
        numeric=NumericSummary(
            10, 0.0, 9.0, 4.5, 82.5, Histogram.from_values(spec, np.arange(10.0))
        ),
    )
    without = ColumnProfile(
        "x", "numeric", "float64", 10, 0, numeric=NumericSummary(10, 0.0, 9.0, 4.5, 82.5)
    )
    with pytest.raises(ProfileError, match="no histogram in the current profile"):
        column_drift(with_hist, without, "ks")


@pytest.mark.parametrize(
    "module",
    ["__init__", "auto", "base", "categorical", "cdf", "divergence", "numeric", "pvalues", "table"],
)
def test_docstring_examples(module: str) -> None:
    import doctest
    import importlib

    name = "telltale.analysis.drift" + ("" if module == "__init__" else f".{module}")
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0 and result.attempted > 0
