"""Attribution for tabular models: which features a model leans on, globally, per cohort, and
for one prediction.

- :func:`permutation_importance`: the drop of a metric when one feature's values are shuffled,
  ``n_repeats`` times (mean ± standard deviation). It follows
  :func:`sklearn.inspection.permutation_importance` draw for draw: the same ``seed`` gives the
  same permutations, hence the same numbers as scikit-learn with ``random_state=seed`` and the
  matching scorer (``"accuracy"``, ``"f1_macro"``, ``"r2"``; ``"mae"``/``"rmse"`` match
  ``"neg_mean_absolute_error"``/``"neg_root_mean_squared_error"``, whose sign scikit-learn flips
  so that greater is better — the importances agree).
- :func:`cohort_importance`: the same within each value of a cohort column (e.g. per ``sex``),
  each cohort seeded alike, so a cohort's numbers equal :func:`permutation_importance` on its rows.
- :func:`explain_prediction`: Shapley values of one prediction with an interventional value
  function. The value of a set ``S`` of features is the mean prediction over background rows
  whose features in ``S`` are replaced by the explained row's values; feature ``j`` gets its
  Shapley value of that game. It is exact (all ``2^p`` subsets) for up to ``max_exact``
  features, and otherwise estimated from ``n_permutations`` random orderings, each paired with
  its reverse (antithetic). Both are *efficient*: the contributions sum to the prediction minus
  the baseline (the mean prediction on the background), exactly. For a linear model
  ``f(x) = w·x + b`` the contribution of feature ``j`` is ``w_j (x_j − mean of x_j over the
  background)``. Cost: ``2^p × n_background`` model rows exact, about
  ``2 × n_permutations × p × n_background`` sampled.
- :func:`shap_importance`: mean ``|SHAP|`` per feature through the ``shap`` package when it is
  installed (it is not a dependency of telltale); :func:`tabular_attribution` bundles all of the
  above and skips SHAP with a note when ``shap`` is absent.

``predict`` is called like the rest of :mod:`telltale.analysis`: it receives rows in the form
``X`` was given (a 2-D array, or a ``dict`` of column name → 1-D array) and returns one
prediction per row. Every result has ``to_dict()`` and strict ``to_json()``.

>>> import numpy as np
>>> X = np.array([[0.0, 1.0], [1.0, 0.0], [2.0, 1.0], [3.0, 0.0]])
>>> linear = lambda rows: 2.0 * rows[:, 0] + 0.5 * rows[:, 1]
>>> explanation = explain_prediction(linear, X[2], background=X, feature_names=["a", "b"])
>>> [(c["feature"], c["contribution"]) for c in explanation.contributions]
[('a', 1.0), ('b', 0.25)]
>>> explanation.prediction - explanation.baseline
1.25
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from telltale.analysis.performance import classification_performance, regression_performance
from telltale.errors import ConfigError, SchemaError
from telltale.schema.result import Result

from .counterfactual import _call_predict, _Table

__all__ = [
    "SCORINGS",
    "AttributionResult",
    "CohortImportance",
    "FeatureImportance",
    "LocalExplanation",
    "ShapImportance",
    "cohort_importance",
    "explain_prediction",
    "permutation_importance",
    "shap_available",
    "shap_importance",
    "tabular_attribution",
]

FloatArray = NDArray[np.float64]
Predict = Callable[[Any], Any]
Metric = Callable[[Any, Any], float]


def _accuracy(y: Any, p: Any) -> float:
    return float(classification_performance(y, p, n_bootstrap=0).metrics["accuracy"]["value"])


def _f1_macro(y: Any, p: Any) -> float:
    return float(classification_performance(y, p, n_bootstrap=0).metrics["f1_macro"]["value"])


def _regression(name: str) -> Metric:
    def metric(y: Any, p: Any) -> float:
        value = regression_performance(y, p, n_bootstrap=0).metrics[name]["value"]
        return math.nan if value is None else float(value)

    return metric


SCORINGS: dict[str, tuple[Metric, bool, bool]] = {
    "accuracy": (_accuracy, True, False),
    "f1_macro": (_f1_macro, True, False),
    "mae": (_regression("mae"), False, True),
    "rmse": (_regression("rmse"), False, True),
    "r2": (_regression("r2"), True, True),
}
"""Built-in scorings: name → (metric(y_true, y_pred), greater_is_better, numeric predictions)."""


# ---------------------------------------------------------------------------------------------
# permutation importance


@dataclass(kw_only=True)
class FeatureImportance(Result):
    """Permutation importance of each feature: how much worse ``scoring`` gets when it is shuffled.

    ``baseline`` is the metric on the unshuffled rows, in the metric's own units (an MAE is
    positive). Each entry of ``features`` is ``{"feature", "importance_mean", "importance_std",
    "importances"}`` (one drop per repeat; positive = the model needs the feature), in the order
    of the columns; ``ranking`` lists the features from most to least important.
    """

    scoring: str
    greater_is_better: bool
    baseline: float
    n: int
    n_repeats: int
    seed: int | None
    features: list[dict[str, Any]]
    ranking: list[str]

    def importance(self, feature: str) -> dict[str, Any]:
        """The entry of ``feature``."""
        for entry in self.features:
            if entry["feature"] == feature:
                return entry
        raise ConfigError(f"no feature {feature!r}; the features are {self.ranking}")

    @property
    def importances(self) -> FloatArray:
        """All drops, features × repeats (as ``sklearn``'s ``importances``)."""
        return np.array([entry["importances"] for entry in self.features], dtype=np.float64)


def _scoring(scoring: str | Metric, greater_is_better: bool) -> tuple[str, Metric, bool, bool]:
    if callable(scoring):
        return getattr(scoring, "__name__", "custom"), scoring, greater_is_better, False
    if scoring not in SCORINGS:
        raise ConfigError(
            f"unknown scoring {scoring!r}; use one of {sorted(SCORINGS)} or a callable "
            "metric(y_true, y_pred) -> float with greater_is_better="
        )
    metric, bigger, numeric = SCORINGS[scoring]
    return scoring, metric, bigger, numeric


def _check_count(value: Any, name: str, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ConfigError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def _check_seed(seed: Any) -> int | None:
    if seed is None:
        return None
    return _check_count(seed, "seed", 0)


def _target(y: Any, n: int) -> NDArray[Any]:
    target = np.asarray(y)
    if target.ndim != 1 or len(target) != n:
        raise SchemaError(f"y must be 1-D with one value per row of X ({n}); got {target.shape}")
    return target


def _score(metric: Metric, y: NDArray[Any], predicted: NDArray[Any], stage: str) -> float:
    value = float(metric(y, predicted))
    if not math.isfinite(value):
        raise ConfigError(
            f"the scoring is undefined ({value}) on {stage}, e.g. r2 of a constant target; "
            "choose another scoring"
        )
    return value


def _importance(
    predict: Predict,
    table: _Table,
    y: NDArray[Any],
    scoring: str | Metric,
    greater_is_better: bool,
    n_repeats: int,
    seed: int | None,
    features: Sequence[str],
    what: str,
) -> FeatureImportance:
    name, metric, bigger, numeric = _scoring(scoring, greater_is_better)
    n = table.n_rows
    if n == 0:
        raise SchemaError(f"{what} holds no rows")
    baseline_predictions = _call_predict(
        predict, table.to_input(), n, f"the rows of {what}", numeric=numeric
    )
    baseline = _score(metric, y, baseline_predictions, f"the rows of {what}")
    sign = 1.0 if bigger else -1.0
    # scikit-learn's draws: one seed from RandomState(seed), then every feature shuffles its
    # column with a fresh RandomState of that seed, composing the shuffles repeat after repeat
    column_seed = np.random.RandomState(seed).randint(np.iinfo(np.int32).max + 1)
    entries: list[dict[str, Any]] = []
    for feature in features:
        state = np.random.RandomState(column_seed)
        order = np.arange(n)
        column = table.columns[feature]
        drops = []
        for repeat in range(n_repeats):
            state.shuffle(order)
            column = column[order]
            stage = f"{what} with {feature!r} shuffled (repeat {repeat + 1})"
            predicted = _call_predict(
                predict, table.replace({feature: column}).to_input(), n, stage, numeric=numeric
            )
            drops.append(sign * (baseline - _score(metric, y, predicted, stage)))
        entries.append(
            {
                "feature": feature,
                "importance_mean": float(np.mean(drops)),
                "importance_std": float(np.std(drops)),
                "importances": drops,
            }
        )
    ranking = [e["feature"] for e in sorted(entries, key=lambda e: -e["importance_mean"])]
    return FeatureImportance(
        scoring=name,
        greater_is_better=bigger,
        baseline=baseline,
        n=n,
        n_repeats=n_repeats,
        seed=seed,
        features=entries,
        ranking=ranking,
    )


def _features(table: _Table, columns: Sequence[str] | None) -> list[str]:
    if columns is None:
        return list(table.names)
    unknown = [c for c in columns if c not in table.columns]
    if unknown:
        raise ConfigError(f"no feature {unknown[0]!r}; the features are {table.names}")
    return list(columns)


def permutation_importance(
    predict: Predict,
    X: Any,
    y: Any,
    *,
    scoring: str | Metric = "accuracy",
    greater_is_better: bool = True,
    n_repeats: int = 5,
    seed: int | None = 0,
    feature_names: Sequence[str] | None = None,
    columns: Sequence[str] | None = None,
) -> FeatureImportance:
    """Global permutation importance of every feature (or of ``columns``).

    ``scoring`` is a name from :data:`SCORINGS` or a callable ``metric(y_true, y_pred)`` (then
    say ``greater_is_better``). Same numbers as scikit-learn's, for the same seed::

        from sklearn.datasets import load_diabetes
        from sklearn.ensemble import RandomForestRegressor
        from telltale.analysis.attribution import permutation_importance

        data = load_diabetes()
        model = RandomForestRegressor(random_state=0).fit(data.data, data.target)
        result = permutation_importance(model.predict, data.data, data.target, scoring="r2",
                                        feature_names=list(data.feature_names), n_repeats=5)
        print(result.ranking[:3], result.to_json())
    """
    n_repeats = _check_count(n_repeats, "n_repeats")
    seed = _check_seed(seed)
    table = _Table.from_input(X, feature_names, "X")
    target = _target(y, table.n_rows)
    features = _features(table, columns)
    return _importance(
        predict, table, target, scoring, greater_is_better, n_repeats, seed, features, "X"
    )


@dataclass(kw_only=True)
class CohortImportance(Result):
    """Permutation importance within each cohort (``cohorts``: ``[{"cohort", "n",
    "importance": FeatureImportance}]``, largest cohort first); cohorts smaller than
    ``min_rows`` are listed in ``skipped`` as ``{"cohort", "n"}``."""

    cohort: str
    cohorts: list[dict[str, Any]]
    skipped: list[dict[str, Any]]
    notes: list[str]

    def of(self, value: Any) -> FeatureImportance:
        """The importance within the cohort ``value``."""
        for entry in self.cohorts:
            if entry["cohort"] == value:
                importance: FeatureImportance = entry["importance"]
                return importance
        raise ConfigError(
            f"no cohort {value!r}; the cohorts are {[e['cohort'] for e in self.cohorts]}"
        )


def cohort_importance(
    predict: Predict,
    X: Any,
    y: Any,
    cohort: str | Any,
    *,
    scoring: str | Metric = "accuracy",
    greater_is_better: bool = True,
    n_repeats: int = 5,
    seed: int | None = 0,
    feature_names: Sequence[str] | None = None,
    columns: Sequence[str] | None = None,
    min_rows: int = 30,
) -> CohortImportance:
    """Permutation importance within each value of ``cohort``: the name of a column of ``X``
    (then left out of the features, as it is constant within a cohort) or one value per row.

    ``predict`` sees only the rows of one cohort at a time. Example, per sex on UCI Adult::

        result = cohort_importance(predict, columns_of_adult, income, cohort="sex")
        for entry in result.cohorts:
            print(entry["cohort"], entry["n"], entry["importance"].ranking[:3])
    """
    n_repeats = _check_count(n_repeats, "n_repeats")
    min_rows = _check_count(min_rows, "min_rows")
    seed = _check_seed(seed)
    table = _Table.from_input(X, feature_names, "X")
    target = _target(y, table.n_rows)
    features = _features(table, columns)
    if isinstance(cohort, str):
        if cohort not in table.columns:
            raise ConfigError(
                f"no cohort column {cohort!r}; the columns are {table.names}, or pass one "
                "cohort value per row"
            )
        groups, label = table.columns[cohort], cohort
        features = [f for f in features if f != cohort]
    else:
        groups, label = np.asarray(cohort), "cohort"
        if groups.ndim != 1 or len(groups) != table.n_rows:
            raise SchemaError(
                f"cohort must name a column or give one value per row ({table.n_rows}); "
                f"got shape {groups.shape}"
            )
    if not features:
        raise ConfigError("no feature left to permute besides the cohort column")
    members: dict[Any, list[int]] = {}
    for row, value in enumerate(groups.tolist()):
        members.setdefault(value, []).append(row)
    cohorts, skipped, notes = [], [], []
    for value, rows in sorted(members.items(), key=lambda item: (-len(item[1]), str(item[0]))):
        if len(rows) < min_rows:
            skipped.append({"cohort": value, "n": len(rows)})
            continue
        index = np.asarray(rows, dtype=np.intp)
        importance = _importance(
            predict,
            table.take(index),
            target[index],
            scoring,
            greater_is_better,
            n_repeats,
            seed,
            features,
            f"cohort {label}={value!r}",
        )
        cohorts.append({"cohort": value, "n": len(rows), "importance": importance})
    if skipped:
        notes.append(
            f"{len(skipped)} cohort(s) with fewer than {min_rows} rows skipped; lower min_rows "
            "to include them (their importances are noisy)"
        )
    return CohortImportance(cohort=label, cohorts=cohorts, skipped=skipped, notes=notes)


# ---------------------------------------------------------------------------------------------
# local explanation


@dataclass(kw_only=True)
class LocalExplanation(Result):
    """Shapley contributions to one prediction (see the module docstring for the game).

    ``contributions``: ``[{"feature", "value", "contribution"}]`` in column order; their sum is
    ``prediction - baseline``.
    """

    prediction: float
    baseline: float
    method: Literal["exact", "sampled"]
    n_background: int
    n_permutations: int | None
    seed: int | None
    contributions: list[dict[str, Any]]
    notes: list[str] = field(default_factory=list)

    def contribution(self, feature: str) -> float:
        """The contribution of ``feature``."""
        for entry in self.contributions:
            if entry["feature"] == feature:
                return float(entry["contribution"])
        names = [e["feature"] for e in self.contributions]
        raise ConfigError(f"no feature {feature!r}; the features are {names}")


_MAX_BATCH_ROWS = 200_000


def _row_table(row: Any, background: _Table) -> _Table:
    """The explained row as a one-row table in the form of ``background``."""
    names = background.names
    if isinstance(row, Mapping):
        missing = [name for name in names if name not in row]
        if missing:
            raise SchemaError(f"the row lacks the features {missing}; it needs {names}")
        return _Table({name: np.asarray([row[name]]) for name in names}, background.form)
    values = np.asarray(row)
    if values.ndim == 2 and values.shape[0] == 1:
        values = values[0]
    if values.ndim != 1 or len(values) != len(names):
        raise SchemaError(
            f"the row must hold one value per feature ({len(names)}); "
            f"got shape {np.asarray(row).shape}"
        )
    return _Table({name: values[j : j + 1] for j, name in enumerate(names)}, background.form)


class _Game:
    """Values of feature coalitions: the mean prediction over background rows whose features in
    the coalition take the explained row's values."""

    def __init__(
        self, predict: Predict, row: _Table, background: _Table, output: int | None
    ) -> None:
        self.predict, self.row, self.background, self.output = predict, row, background, output

    def values(self, masks: NDArray[np.bool_]) -> FloatArray:
        n_background = self.background.n_rows
        per_call = max(1, _MAX_BATCH_ROWS // n_background)
        out = []
        for start in range(0, len(masks), per_call):
            chunk = masks[start : start + per_call]
            columns = {}
            for j, name in enumerate(self.background.names):
                shown = np.repeat(chunk[:, j], n_background)
                tiled = np.tile(self.background.columns[name], len(chunk))
                columns[name] = np.where(shown, self.row.columns[name][0], tiled)
            batch = _Table(columns, self.background.form).to_input()
            n_rows = len(chunk) * n_background
            stage = f"{n_rows} masked rows of the explained row"
            predicted = _call_predict(
                self.predict, batch, n_rows, stage, numeric=True, output=self.output
            )
            out.append(predicted.reshape(len(chunk), n_background).mean(axis=1))
        return np.concatenate(out)


def _exact_shapley(game: _Game, p: int) -> tuple[FloatArray, float]:
    codes = np.arange(2**p)
    masks = ((codes[:, None] >> np.arange(p)) & 1).astype(bool)
    values = game.values(masks)
    sizes = masks.sum(axis=1)
    weights = np.array(
        [math.factorial(s) * math.factorial(p - s - 1) / math.factorial(p) for s in range(p)]
    )
    phi = np.empty(p)
    for j in range(p):
        without = codes[~masks[:, j]]
        phi[j] = np.sum(weights[sizes[without]] * (values[without | (1 << j)] - values[without]))
    return phi, float(values[0])


def _sampled_shapley(
    game: _Game, p: int, n_permutations: int, rng: np.random.Generator
) -> tuple[FloatArray, float]:
    orders = [rng.permutation(p) for _ in range(n_permutations)]
    orders += [order[::-1] for order in orders]  # antithetic: each ordering and its reverse
    prefixes = np.zeros((len(orders), p + 1, p), dtype=bool)
    for k, order in enumerate(orders):
        for step in range(p):
            prefixes[k, step + 1] = prefixes[k, step]
            prefixes[k, step + 1, order[step]] = True
    unique, inverse = np.unique(prefixes.reshape(-1, p), axis=0, return_inverse=True)
    values = game.values(unique)[inverse.reshape(-1)].reshape(len(orders), p + 1)
    phi = np.zeros(p)
    for k, order in enumerate(orders):
        phi[order] += np.diff(values[k])
    return phi / len(orders), float(values[0, 0])


def explain_prediction(
    predict: Predict,
    row: Any,
    background: Any,
    *,
    feature_names: Sequence[str] | None = None,
    output: int | None = None,
    method: Literal["auto", "exact", "sampled"] = "auto",
    max_exact: int = 10,
    n_permutations: int = 32,
    n_background: int | None = 100,
    seed: int | None = 0,
) -> LocalExplanation:
    """Shapley contributions of each feature to ``predict(row)`` against ``background`` rows.

    ``row``: one row (1-D array, a 1 × p array, or a mapping column → value) in the form of
    ``background`` (2-D array or mapping of columns). ``predict`` must return numbers; for a
    classifier pass ``predict_proba`` and ``output=<class index>``. ``n_background`` rows are
    drawn (seeded) from ``background`` when it has more (``None``: all). ``method="auto"`` is
    exact up to ``max_exact`` features, sampled above::

        from sklearn.datasets import load_breast_cancer
        from sklearn.ensemble import GradientBoostingClassifier
        from telltale.analysis.attribution import explain_prediction

        data = load_breast_cancer()
        model = GradientBoostingClassifier(random_state=0).fit(data.data, data.target)
        explanation = explain_prediction(model.predict_proba, data.data[0], data.data, output=1,
                                         feature_names=list(data.feature_names))
        top = sorted(explanation.contributions, key=lambda c: -abs(c["contribution"]))[:5]
    """
    if method not in ("auto", "exact", "sampled"):
        raise ConfigError(f"method must be 'auto', 'exact' or 'sampled', got {method!r}")
    max_exact = _check_count(max_exact, "max_exact")
    n_permutations = _check_count(n_permutations, "n_permutations")
    seed = _check_seed(seed)
    table = _Table.from_input(background, feature_names, "background")
    if table.n_rows == 0:
        raise SchemaError("background holds no rows; give rows to compare the prediction with")
    rng = np.random.default_rng(seed)
    notes = []
    if n_background is not None:
        n_background = _check_count(n_background, "n_background")
        if table.n_rows > n_background:
            chosen = np.sort(rng.choice(table.n_rows, size=n_background, replace=False))
            table = table.take(chosen)
            notes.append(f"background: {n_background} rows drawn at random (seeded)")
    explained = _row_table(row, table)
    p = len(table.names)
    chosen_method: Literal["exact", "sampled"] = (
        ("exact" if p <= max_exact else "sampled") if method == "auto" else method
    )
    if chosen_method == "exact" and p > 20:
        raise ConfigError(
            f"exact Shapley over {p} features needs 2^{p} coalitions; use method='sampled'"
        )
    game = _Game(predict, explained, table, output)
    predicted = _call_predict(
        predict, explained.to_input(), 1, "the explained row", numeric=True, output=output
    )
    prediction = float(predicted[0])
    if chosen_method == "exact":
        phi, baseline = _exact_shapley(game, p)
    else:
        phi, baseline = _sampled_shapley(game, p, n_permutations, rng)
    contributions = [
        {"feature": name, "value": explained.columns[name][0], "contribution": float(phi[j])}
        for j, name in enumerate(table.names)
    ]
    return LocalExplanation(
        prediction=prediction,
        baseline=baseline,
        method=chosen_method,
        n_background=table.n_rows,
        n_permutations=n_permutations if chosen_method == "sampled" else None,
        seed=seed,
        contributions=contributions,
        notes=notes,
    )


# ---------------------------------------------------------------------------------------------
# SHAP (optional) and the bundle


def shap_available() -> bool:
    """Whether the optional ``shap`` package can be imported."""
    try:
        import shap  # noqa: F401
    except ImportError:
        return False
    return True


@dataclass(kw_only=True)
class ShapImportance(Result):
    """Mean ``|SHAP value|`` (and mean SHAP value) per feature over ``n`` explained rows, from
    ``shap.PermutationExplainer`` with an independent masker; ``base_value`` is its mean
    expected value."""

    n: int
    n_background: int
    base_value: float
    features: list[dict[str, Any]]
    ranking: list[str]


def shap_importance(
    predict: Predict,
    X: Any,
    background: Any = None,
    *,
    feature_names: Sequence[str] | None = None,
    output: int | None = None,
    n_rows: int = 100,
    n_background: int = 100,
    seed: int | None = 0,
) -> ShapImportance:
    """Global SHAP importance through the optional ``shap`` package (``pip install shap``).

    Explains up to ``n_rows`` rows of ``X`` (drawn seeded) against up to ``n_background`` rows of
    ``background`` (default ``X``). The features must be numeric. Raises :class:`ConfigError`
    when ``shap`` is not installed; :func:`tabular_attribution` skips it instead.
    """
    try:
        import shap
    except ImportError as exc:
        raise ConfigError(
            "SHAP values need the optional shap package, which is not installed; "
            "pip install shap, or use permutation_importance / explain_prediction"
        ) from exc
    n_rows = _check_count(n_rows, "n_rows")
    n_background = _check_count(n_background, "n_background")
    seed = _check_seed(seed)
    table = _Table.from_input(X, feature_names, "X")
    reference = (
        table if background is None else _Table.from_input(background, feature_names, "background")
    )
    non_numeric = [n for n in table.names if table.columns[n].dtype.kind not in "iufb"]
    if non_numeric:
        raise SchemaError(
            f"shap_importance needs numeric features; {non_numeric} are not — encode them, or "
            "use permutation_importance / explain_prediction, which take any column"
        )
    rng = np.random.default_rng(seed)

    def sample(source: _Table, size: int) -> FloatArray:
        rows = np.arange(source.n_rows)
        if source.n_rows > size:
            rows = np.sort(rng.choice(source.n_rows, size=size, replace=False))
        return np.column_stack([source.columns[n][rows].astype(np.float64) for n in source.names])

    explained, masked = sample(table, n_rows), sample(reference, n_background)

    def model(batch: FloatArray) -> FloatArray:
        columns = {name: batch[:, j] for j, name in enumerate(table.names)}
        rows = _Table(columns, table.form).to_input()
        return _call_predict(
            predict, rows, len(batch), "rows masked by shap", numeric=True, output=output
        )

    explainer = shap.PermutationExplainer(
        model, shap.maskers.Independent(masked, max_samples=len(masked)), seed=seed
    )
    explanation = explainer(explained)
    values = np.asarray(explanation.values, dtype=np.float64)
    mean_abs, mean = np.abs(values).mean(axis=0), values.mean(axis=0)
    features: list[dict[str, Any]] = [
        {"feature": name, "mean_abs_shap": float(mean_abs[j]), "mean_shap": float(mean[j])}
        for j, name in enumerate(table.names)
    ]
    return ShapImportance(
        n=len(explained),
        n_background=len(masked),
        base_value=float(np.mean(explanation.base_values)),
        features=features,
        ranking=[f["feature"] for f in sorted(features, key=lambda f: -f["mean_abs_shap"])],
    )


@dataclass(kw_only=True)
class AttributionResult(Result):
    """Global, per-cohort, SHAP and local attribution of one model; parts not asked for (or SHAP
    without the ``shap`` package) are ``None``, with a note."""

    importance: FeatureImportance
    cohorts: CohortImportance | None
    shap: ShapImportance | None
    local: LocalExplanation | None
    notes: list[str]


def tabular_attribution(
    predict: Predict,
    X: Any,
    y: Any,
    *,
    scoring: str | Metric = "accuracy",
    greater_is_better: bool = True,
    cohort: str | Any | None = None,
    explain_row: int | None = None,
    explain_predict: Predict | None = None,
    output: int | None = None,
    use_shap: bool | Literal["auto"] = "auto",
    n_repeats: int = 5,
    seed: int | None = 0,
    feature_names: Sequence[str] | None = None,
) -> AttributionResult:
    """Everything at once: permutation importance, per ``cohort`` when given, SHAP when the
    package is installed (``use_shap="auto"``; ``True`` insists, ``False`` skips), and the local
    explanation of row ``explain_row`` of ``X`` (with ``explain_predict``, e.g. ``predict_proba``
    and ``output=1``, or ``predict`` itself for regression) against ``X`` as background::

        result = tabular_attribution(model.predict, X, y, cohort="sex", explain_row=0,
                                     explain_predict=model.predict_proba, output=1)
        print(result.to_json(indent=2))
    """
    notes = []
    importance = permutation_importance(
        predict,
        X,
        y,
        scoring=scoring,
        greater_is_better=greater_is_better,
        n_repeats=n_repeats,
        seed=seed,
        feature_names=feature_names,
    )
    cohorts = None
    if cohort is not None:
        cohorts = cohort_importance(
            predict,
            X,
            y,
            cohort,
            scoring=scoring,
            greater_is_better=greater_is_better,
            n_repeats=n_repeats,
            seed=seed,
            feature_names=feature_names,
        )
    explainer = explain_predict or predict
    shap_result = None
    if use_shap is True or (use_shap == "auto" and shap_available()):
        shap_result = shap_importance(
            explainer, X, feature_names=feature_names, output=output, seed=seed
        )
    elif use_shap == "auto":
        notes.append("SHAP skipped: the optional shap package is not installed (pip install shap)")
    local = None
    if explain_row is not None:
        table = _Table.from_input(X, feature_names, "X")
        if not isinstance(explain_row, numbers.Integral) or not 0 <= explain_row < table.n_rows:
            raise ConfigError(
                f"explain_row must be a row index in [0, {table.n_rows}), got {explain_row!r}"
            )
        # the row in the form of X: a 1 × p array, or a mapping of column → value
        row: Any = table.take(np.array([explain_row])).to_input()
        if table.form == "mapping":
            row = {name: values[0] for name, values in row.items()}
        local = explain_prediction(
            explainer, row, X, feature_names=feature_names, output=output, seed=seed
        )
    return AttributionResult(
        importance=importance, cohorts=cohorts, shap=shap_result, local=local, notes=notes
    )
