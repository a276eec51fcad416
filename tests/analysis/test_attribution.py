"""Attribution against independent references: scikit-learn's permutation importance (same
seed, same scorer), analytic Shapley values of linear and product models, and efficiency."""

from __future__ import annotations

import doctest
import json
import sys
from typing import Any

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, load_diabetes
from sklearn.ensemble import GradientBoostingClassifier, RandomForestRegressor
from sklearn.inspection import permutation_importance as sklearn_permutation_importance
from sklearn.linear_model import LinearRegression
from sklearn.metrics import get_scorer

from telltale.analysis import attribution
from telltale.analysis.attribution import (
    cohort_importance,
    explain_prediction,
    permutation_importance,
    shap_available,
    shap_importance,
    tabular_attribution,
)
from telltale.errors import ConfigError, SchemaError

# Our permutations are scikit-learn's draw for draw and the metrics are the same formulas, so
# the importances agree to rounding; 1e-12 leaves room for summation order only.
SKLEARN_ATOL = 1e-12
# Shapley values: exact enumeration and antithetic sampling are both exactly efficient, and
# exact for linear models; 1e-9 covers float sums over up to 1,024 coalitions.
SHAPLEY_ATOL = 1e-9


@pytest.fixture(scope="module")
def cancer() -> tuple[np.ndarray, np.ndarray, list[str], GradientBoostingClassifier]:
    data = load_breast_cancer()
    X, y = data.data[:240], data.target[:240]
    model = GradientBoostingClassifier(n_estimators=20, max_depth=2, random_state=0).fit(X, y)
    return X, y, list(data.feature_names), model


@pytest.fixture(scope="module")
def diabetes() -> tuple[np.ndarray, np.ndarray, list[str], RandomForestRegressor]:
    data = load_diabetes()
    model = RandomForestRegressor(n_estimators=20, max_depth=5, random_state=0)
    return data.data, data.target, list(data.feature_names), model.fit(data.data, data.target)


# ---------------------------------------------------------------------------------------------
# permutation importance


@pytest.mark.parametrize(
    ("scoring", "sklearn_scoring"), [("accuracy", "accuracy"), ("f1_macro", "f1_macro")]
)
def test_classification_importance_equals_sklearn(
    cancer: Any, scoring: str, sklearn_scoring: str
) -> None:
    X, y, names, model = cancer
    ours = permutation_importance(
        model.predict, X, y, scoring=scoring, n_repeats=3, seed=7, feature_names=names
    )
    theirs = sklearn_permutation_importance(
        model, X, y, scoring=sklearn_scoring, n_repeats=3, random_state=7
    )
    np.testing.assert_allclose(ours.importances, theirs.importances, rtol=0, atol=SKLEARN_ATOL)
    means = [f["importance_mean"] for f in ours.features]
    stds = [f["importance_std"] for f in ours.features]
    np.testing.assert_allclose(means, theirs.importances_mean, rtol=0, atol=SKLEARN_ATOL)
    np.testing.assert_allclose(stds, theirs.importances_std, rtol=0, atol=SKLEARN_ATOL)
    assert ours.ranking[0] == names[int(np.argmax(theirs.importances_mean))]
    reference = get_scorer(sklearn_scoring)(model, X, y)
    assert ours.baseline == pytest.approx(reference, abs=SKLEARN_ATOL)


@pytest.mark.parametrize(
    ("scoring", "sklearn_scoring"),
    [("r2", "r2"), ("mae", "neg_mean_absolute_error"), ("rmse", "neg_root_mean_squared_error")],
)
def test_regression_importance_equals_sklearn(
    diabetes: Any, scoring: str, sklearn_scoring: str
) -> None:
    X, y, _, model = diabetes
    ours = permutation_importance(model.predict, X, y, scoring=scoring, n_repeats=2, seed=1)
    theirs = sklearn_permutation_importance(
        model, X, y, scoring=sklearn_scoring, n_repeats=2, random_state=1
    )
    np.testing.assert_allclose(ours.importances, theirs.importances, rtol=0, atol=SKLEARN_ATOL)
    assert ours.greater_is_better is (scoring == "r2")


def test_mapping_inputs_and_a_custom_metric_give_the_same_numbers(diabetes: Any) -> None:
    X, y, names, model = diabetes
    as_array = permutation_importance(
        model.predict, X, y, scoring="mae", n_repeats=2, seed=4, feature_names=names
    )
    columns = {name: X[:, j] for j, name in enumerate(names)}

    def predict(batch: dict[str, np.ndarray]) -> np.ndarray:
        return np.asarray(model.predict(np.column_stack([batch[n] for n in names])))

    def mean_absolute_error(truth: np.ndarray, predicted: np.ndarray) -> float:
        return float(np.mean(np.abs(truth - predicted)))

    as_mapping = permutation_importance(
        predict, columns, y, scoring=mean_absolute_error, greater_is_better=False,
        n_repeats=2, seed=4,
    )  # fmt: skip
    np.testing.assert_allclose(as_mapping.importances, as_array.importances, atol=SKLEARN_ATOL)
    assert as_mapping.scoring == "mean_absolute_error"
    only = permutation_importance(
        predict, columns, y, scoring="mae", n_repeats=2, seed=4, columns=["bmi", "s5"]
    )
    np.testing.assert_allclose(
        only.importances, as_array.importances[[names.index("bmi"), names.index("s5")]]
    )


def test_cohort_importance_is_importance_within_each_cohort(diabetes: Any) -> None:
    X, y, names, model = diabetes
    columns = {name: X[:, j] for j, name in enumerate(names)}
    columns["sex"] = np.where(X[:, names.index("sex")] > 0, "a", "b")

    def predict(batch: dict[str, np.ndarray]) -> np.ndarray:
        numeric = [np.where(batch["sex"] == "a", 0.05, -0.04) if n == "sex" else batch[n]
                   for n in names]  # fmt: skip
        return np.asarray(model.predict(np.column_stack(numeric)))

    result = cohort_importance(
        predict, columns, y, "sex", scoring="r2", n_repeats=2, seed=3, min_rows=10
    )
    assert [c["cohort"] for c in result.cohorts] == ["b", "a"]  # larger cohort first
    for entry in result.cohorts:
        rows = columns["sex"] == entry["cohort"]
        assert entry["n"] == rows.sum()
        alone = permutation_importance(
            predict, {n: v[rows] for n, v in columns.items()}, y[rows], scoring="r2",
            n_repeats=2, seed=3, columns=[n for n in names if n != "sex"],
        )  # fmt: skip
        np.testing.assert_allclose(entry["importance"].importances, alone.importances, atol=0)
        assert "sex" not in entry["importance"].ranking
    tiny = cohort_importance(predict, columns, y, X[:, 0] > 0.08, min_rows=100, n_repeats=1)
    assert [s["cohort"] for s in tiny.skipped] == [True] and len(tiny.cohorts) == 1
    assert tiny.cohort == "cohort" and "fewer than 100 rows" in tiny.notes[0]
    json.loads(result.to_json())


# ---------------------------------------------------------------------------------------------
# local explanation


@pytest.mark.parametrize("method", ["exact", "sampled"])
def test_linear_contributions_are_analytic(method: str) -> None:
    data = load_diabetes()
    model = LinearRegression().fit(data.data, data.target)
    background, row = data.data[:150], data.data[200]
    explanation = explain_prediction(
        model.predict, row, background, method=method, n_background=None, n_permutations=4
    )
    expected = model.coef_ * (row - background.mean(axis=0))
    got = [c["contribution"] for c in explanation.contributions]
    np.testing.assert_allclose(got, expected, rtol=0, atol=SHAPLEY_ATOL)
    assert explanation.baseline == pytest.approx(model.predict(background).mean(), abs=1e-9)
    assert explanation.method == method and explanation.n_background == 150


def test_a_product_splits_its_interaction_evenly() -> None:
    background = np.zeros((1, 3))
    explanation = explain_prediction(
        lambda rows: rows[:, 0] * rows[:, 1], [2.0, 3.0, 5.0], background, feature_names=list("abc")
    )
    assert [c["contribution"] for c in explanation.contributions] == [3.0, 3.0, 0.0]
    assert explanation.contribution("c") == 0.0


def test_sampled_contributions_sum_to_prediction_minus_baseline(cancer: Any) -> None:
    X, _, names, model = cancer
    explanation = explain_prediction(
        model.predict_proba, X[3], X, output=1, feature_names=names,
        n_background=20, n_permutations=6, seed=2,
    )  # fmt: skip
    assert explanation.method == "sampled"  # 30 features is more than max_exact
    total = sum(c["contribution"] for c in explanation.contributions)
    assert total == pytest.approx(explanation.prediction - explanation.baseline, abs=SHAPLEY_ATOL)
    assert explanation.prediction == pytest.approx(model.predict_proba(X[3:4])[0, 1], abs=1e-12)


def test_exact_and_sampled_agree_on_a_nonlinear_model(diabetes: Any) -> None:
    X, _, names, model = diabetes
    columns = {name: X[:, j] for j, name in enumerate(names)}

    def predict(batch: dict[str, np.ndarray]) -> np.ndarray:
        return np.asarray(model.predict(np.column_stack([batch[n] for n in names])))

    row = {name: X[7, j] for j, name in enumerate(names)}
    exact = explain_prediction(predict, row, columns, n_background=30, seed=0)
    sampled = explain_prediction(
        predict, row, columns, method="sampled", n_background=30, n_permutations=64, seed=0
    )
    assert exact.method == "exact" and exact.baseline == pytest.approx(sampled.baseline)
    for explanation in (exact, sampled):  # efficiency, exactly, for both
        total = sum(c["contribution"] for c in explanation.contributions)
        gap = explanation.prediction - explanation.baseline
        assert total == pytest.approx(gap, abs=SHAPLEY_ATOL)
    exact_values = np.array([c["contribution"] for c in exact.contributions])
    sampled_values = np.array([c["contribution"] for c in sampled.contributions])
    spread = np.abs(exact_values).max()
    # Monte Carlo: 128 orderings; the largest contributions agree to a few percent of the largest
    assert np.abs(exact_values - sampled_values).max() < 0.1 * spread
    assert (
        names[int(np.argmax(np.abs(exact_values)))] == names[int(np.argmax(np.abs(sampled_values)))]
    )
    json.loads(exact.to_json())


# ---------------------------------------------------------------------------------------------
# SHAP, optional


def test_shap_is_skipped_cleanly_when_absent(monkeypatch: pytest.MonkeyPatch, cancer: Any) -> None:
    X, y, names, model = cancer
    monkeypatch.setitem(sys.modules, "shap", None)  # import shap now raises ImportError
    assert shap_available() is False
    with pytest.raises(ConfigError, match="pip install shap"):
        shap_importance(model.predict_proba, X, output=1)
    result = tabular_attribution(
        model.predict, X[:80], y[:80], n_repeats=1, feature_names=names,
        explain_row=0, explain_predict=model.predict_proba, output=1,
    )  # fmt: skip
    assert result.shap is None and result.cohorts is None
    assert result.notes == [
        "SHAP skipped: the optional shap package is not installed (pip install shap)"
    ]
    assert result.local is not None and result.local.method == "sampled"  # 30 features
    body = json.loads(json.dumps(result.to_dict(), allow_nan=False))
    assert set(body) == {"importance", "cohorts", "shap", "local", "notes"}


def test_shap_importance_aggregates_shap_values() -> None:
    data = load_diabetes()
    model = LinearRegression().fit(data.data, data.target)
    names = list(data.feature_names)
    result = shap_importance(
        model.predict, data.data, feature_names=names, n_rows=50, n_background=60, seed=0
    )
    assert (result.n, result.n_background) == (50, 60)
    assert result.ranking[0] in {"s5", "bmi", "s1"}
    entry = next(f for f in result.features if f["feature"] == "bmi")
    assert entry["mean_abs_shap"] > 0
    with_shap = tabular_attribution(model.predict, data.data[:60], data.target[:60], scoring="r2",
                                    n_repeats=1, feature_names=names)  # fmt: skip
    assert with_shap.shap is not None and with_shap.notes == []
    json.loads(with_shap.to_json())


def test_shap_values_of_a_linear_model_match_the_closed_form() -> None:
    data = load_diabetes()
    model = LinearRegression().fit(data.data, data.target)
    result = shap_importance(model.predict, data.data[:40], data.data[:40], n_rows=40)
    expected = np.abs(model.coef_ * (data.data[:40] - data.data[:40].mean(axis=0))).mean(axis=0)
    got = [f["mean_abs_shap"] for f in result.features]
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-6)


# ---------------------------------------------------------------------------------------------
# bad input


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda X, y, p: permutation_importance(p, X, y, scoring="auc"), ConfigError, "unknown scoring 'auc'"),
        (lambda X, y, p: permutation_importance(p, X, y, n_repeats=0), ConfigError, "n_repeats must be"),
        (lambda X, y, p: permutation_importance(p, X, y[:5]), SchemaError, "one value per row"),
        (lambda X, y, p: permutation_importance(p, X, y, columns=["nope"]), ConfigError, "no feature 'nope'"),
        (lambda X, y, p: permutation_importance(lambda r: p(r)[:3], X, y), ConfigError, "returned 3 predictions"),
        (lambda X, y, p: cohort_importance(p, X, y, "sex"), ConfigError, "no cohort column 'sex'"),
        (lambda X, y, p: explain_prediction(p, X[0, :3], X), SchemaError, "one value per feature"),
        (lambda X, y, p: explain_prediction(p, X[0], X), ConfigError, "non-numeric values"),
        (lambda X, y, p: explain_prediction(lambda r: np.ones((len(r), 2)), X[0], X), ConfigError, "pass output="),
        (lambda X, y, p: explain_prediction(p, X[0], X, method="exact"), ConfigError, "use method='sampled'"),
        (lambda X, y, p: explain_prediction(p, X[0], X[:0]), SchemaError, "background holds no rows"),
    ],
)  # fmt: skip
def test_bad_arguments_raise_clear_errors(call: Any, error: type[Exception], message: str) -> None:
    X = np.random.default_rng(0).normal(size=(40, 25))
    y = np.where(X[:, 0] > 0, "yes", "no")

    def predict(rows: np.ndarray) -> np.ndarray:
        return np.where(rows[:, 0] > 0, "yes", "no")

    with pytest.raises(error, match=message):
        call(X, y, predict)


def test_public_surface_and_docstring_examples() -> None:
    assert attribution.__all__ == sorted(
        attribution.__all__, key=lambda n: (0 if n.isupper() else 1 if n[0].isupper() else 2, n)
    )
    assert all(hasattr(attribution, name) for name in attribution.__all__)
    outcome = doctest.testmod(attribution)
    assert outcome.failed == 0 and outcome.attempted >= 3


def test_tabular_attribution_on_columns_with_a_cohort(
    monkeypatch: pytest.MonkeyPatch, diabetes: Any
) -> None:
    monkeypatch.setitem(sys.modules, "shap", None)
    X, y, names, model = diabetes
    columns = {name: X[:, j] for j, name in enumerate(names)}
    columns["group"] = np.where(X[:, 0] > 0, "older", "younger")

    def predict(batch: dict[str, np.ndarray]) -> np.ndarray:
        return np.asarray(model.predict(np.column_stack([batch[n] for n in names])))

    result = tabular_attribution(
        predict, columns, y, scoring="mae", cohort="group", explain_row=5, n_repeats=1
    )
    assert result.cohorts is not None and len(result.cohorts.cohorts) == 2
    assert result.importance.importance("group")["importance_mean"] == 0.0  # predict ignores it
    assert result.local is not None and result.local.method == "sampled"  # 11 columns > 10
    assert result.local.contribution("group") == 0.0
    assert result.local.prediction == pytest.approx(float(predict(
        {n: v[5:6] for n, v in columns.items()})[0]))  # fmt: skip
    body = json.loads(result.to_json())
    assert body["cohorts"]["cohort"] == "group" and body["shap"] is None
    with pytest.raises(ConfigError, match="explain_row must be a row index"):
        tabular_attribution(predict, columns, y, scoring="mae", explain_row=len(y))
