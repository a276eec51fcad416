"""Performance metrics: point values against scikit-learn, bootstrap intervals, bad input.

Point metrics must equal scikit-learn's within ``TOL`` (1e-9, absolute): they are exact
computations on all rows, so the only differences are floating-point summation order.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import (
    accuracy_score,
    average_precision_score,
    confusion_matrix,
    f1_score,
    log_loss,
    mean_absolute_error,
    mean_absolute_percentage_error,
    mean_squared_error,
    precision_recall_fscore_support,
    r2_score,
    roc_auc_score,
)

from telltale.analysis.performance import (
    ClassificationPerformance,
    PerformanceDifference,
    RegressionPerformance,
    classification_performance,
    performance_difference,
    regression_performance,
)
from telltale.analysis.performance.bootstrap import (
    ROW_BOOTSTRAP_MAX_ROWS,
    Resampler,
    Statistic,
    _GroupedSums,
)
from telltale.errors import ConfigError, DataError

TOL = 1e-9

# ---------------------------------------------------------------------------------------------
# data


@dataclass
class Case:
    name: str
    y_true: np.ndarray
    y_pred: np.ndarray
    y_score: np.ndarray  # binary: (n,) P(positive); multiclass: (n, k), columns in labels order
    labels: list[Any]
    positive: Any = None


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def binary_imbalanced(n: int = 3000, seed: int = 1) -> Case:
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.08).astype(np.int64)
    score = _sigmoid(-2.5 + 2.0 * y + rng.normal(0.0, 1.0, n))
    pred = (score >= 0.3).astype(np.int64)  # not the 0.5 rule: y_pred and y_score disagree
    return Case("binary_imbalanced", y, pred, score, [0, 1], 1)


def binary_ties(n: int = 2000, seed: int = 2) -> Case:
    rng = np.random.default_rng(seed)
    y = rng.random(n) < 0.4
    score = np.round(_sigmoid(1.5 * y - 0.7 + rng.normal(0.0, 1.0, n)), 1)  # 11 distinct values
    return Case("binary_ties_bool", y, score >= 0.5, score, [False, True], True)


def binary_strings(n: int = 1500, seed: int = 3) -> Case:
    rng = np.random.default_rng(seed)
    y = rng.random(n) < 0.3
    score = _sigmoid(2.0 * y - 1.0 + rng.normal(0.0, 1.2, n))
    names = np.array(["no", "yes"])
    return Case(
        "binary_strings",
        names[y.astype(int)],
        names[(score >= 0.5).astype(int)],
        score,
        ["no", "yes"],
        "yes",
    )


def binary_perfect(n: int = 500, seed: int = 4) -> Case:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    return Case("binary_perfect", y, y.copy(), y.astype(np.float64), [0, 1], 1)


def multiclass_strings(n: int = 2500, k: int = 4, seed: int = 5, ties: bool = False) -> Case:
    rng = np.random.default_rng(seed)
    names = np.array(["ant", "bee", "cat", "dog", "eel", "fox"][:k])
    y = rng.choice(k, size=n, p=np.linspace(1.0, 2.0, k) / np.linspace(1.0, 2.0, k).sum())
    logits = rng.normal(0.0, 1.0, (n, k))
    logits[np.arange(n), y] += 1.2
    if ties:
        logits = np.round(logits)
    proba = np.exp(logits)
    proba /= proba.sum(axis=1, keepdims=True)
    pred = np.where(rng.random(n) < 0.1, rng.integers(0, k, n), proba.argmax(axis=1))
    return Case(
        "multiclass_strings" + ("_ties" if ties else ""), names[y], names[pred], proba, list(names)
    )


BINARY_CASES = [binary_imbalanced, binary_ties, binary_strings, binary_perfect]
MULTICLASS_CASES = [multiclass_strings, lambda: multiclass_strings(ties=True, seed=6)]


def _value(result: Any, name: str) -> float | None:
    return result.metrics[name]["value"]


# ---------------------------------------------------------------------------------------------
# point metrics against scikit-learn


@pytest.mark.parametrize("make", BINARY_CASES, ids=lambda f: f.__name__)
def test_binary_point_metrics_match_sklearn(make: Any) -> None:
    case = make()
    result = classification_performance(case.y_true, case.y_pred, case.y_score, n_bootstrap=0)
    labels, pos = case.labels, case.positive
    assert result.labels == labels and result.positive_label == pos
    assert result.n == len(case.y_true) and result.n_excluded == 0
    p, r, f, support = precision_recall_fscore_support(
        case.y_true, case.y_pred, labels=labels, zero_division=0
    )
    i = labels.index(pos)
    cm = confusion_matrix(case.y_true, case.y_pred, labels=labels)
    tn, fp, fn, tp = cm[1 - i, 1 - i], cm[1 - i, i], cm[i, 1 - i], cm[i, i]
    expected = {
        "accuracy": accuracy_score(case.y_true, case.y_pred),
        "precision": p[i],
        "recall": r[i],
        "f1": f[i],
        "precision_macro": p.mean(),
        "recall_macro": r.mean(),
        "f1_macro": f1_score(
            case.y_true, case.y_pred, average="macro", labels=labels, zero_division=0
        ),
        "f1_micro": f1_score(
            case.y_true, case.y_pred, average="micro", labels=labels, zero_division=0
        ),
        "fnr": fn / (fn + tp),
        "fpr": fp / (fp + tn),
        "roc_auc": roc_auc_score(case.y_true == pos, case.y_score),
        "pr_auc": average_precision_score(case.y_true == pos, case.y_score),
        "log_loss": log_loss(case.y_true, case.y_score, labels=labels),
    }
    for name, value in expected.items():
        assert _value(result, name) == pytest.approx(value, abs=TOL), name
    assert result.confusion_matrix == {"labels": labels, "matrix": cm.tolist()}
    for row, prec, rec, f1, sup in zip(result.per_class, p, r, f, support, strict=True):
        assert row["precision"] == pytest.approx(prec, abs=TOL)
        assert row["recall"] == pytest.approx(rec, abs=TOL)
        assert row["f1"] == pytest.approx(f1, abs=TOL)
        assert row["support"] == sup


@pytest.mark.parametrize("make", MULTICLASS_CASES, ids=["multiclass", "multiclass_ties"])
def test_multiclass_point_metrics_match_sklearn(make: Any) -> None:
    case = make()
    labels = case.labels
    result = classification_performance(case.y_true, case.y_pred, case.y_score, n_bootstrap=0)
    assert result.labels == labels and result.positive_label is None
    p, r, f, _ = precision_recall_fscore_support(
        case.y_true, case.y_pred, labels=labels, zero_division=0
    )
    cm = confusion_matrix(case.y_true, case.y_pred, labels=labels)
    fp = cm.sum(axis=0) - np.diag(cm)
    fn = cm.sum(axis=1) - np.diag(cm)
    tn = cm.sum() - fp - fn - np.diag(cm)
    onehot = (case.y_true[:, None] == np.array(labels)[None, :]).astype(int)
    expected = {
        "accuracy": accuracy_score(case.y_true, case.y_pred),
        "precision": p.mean(),
        "recall": r.mean(),
        "f1": f.mean(),
        "precision_macro": p.mean(),
        "recall_macro": r.mean(),
        "f1_macro": f1_score(case.y_true, case.y_pred, average="macro", zero_division=0),
        "f1_micro": f1_score(case.y_true, case.y_pred, average="micro", zero_division=0),
        "fnr": np.mean(fn / (fn + np.diag(cm))),
        "fpr": np.mean(fp / (fp + tn)),
        "roc_auc": roc_auc_score(case.y_true, case.y_score, multi_class="ovr", average="macro"),
        "pr_auc": average_precision_score(onehot, case.y_score, average="macro"),
        "log_loss": log_loss(case.y_true, case.y_score),
    }
    for name, value in expected.items():
        assert _value(result, name) == pytest.approx(value, abs=TOL), name
    assert result.confusion_matrix["matrix"] == cm.tolist()


def test_point_metrics_are_exact_in_block_bootstrap_regime() -> None:
    case = binary_ties(n=ROW_BOOTSTRAP_MAX_ROWS + 5000, seed=7)
    result = classification_performance(case.y_true, None, case.y_score, n_bootstrap=50)
    assert result.ci_method.startswith("block bootstrap")
    assert _value(result, "roc_auc") == pytest.approx(
        roc_auc_score(case.y_true, case.y_score), abs=TOL
    )
    assert _value(result, "pr_auc") == pytest.approx(
        average_precision_score(case.y_true, case.y_score), abs=TOL
    )
    assert _value(result, "accuracy") == pytest.approx(
        accuracy_score(case.y_true, case.y_score >= 0.5), abs=TOL
    )


def test_labels_fix_column_order_and_positive_label_overrides_sort() -> None:
    case = multiclass_strings(n=800, k=3, seed=8)
    order = ["cat", "ant", "bee"]  # score columns must follow this order
    columns = [case.labels.index(label) for label in order]
    result = classification_performance(
        case.y_true, case.y_pred, case.y_score[:, columns], labels=order, n_bootstrap=0
    )
    assert result.confusion_matrix["labels"] == order
    assert (
        result.confusion_matrix["matrix"]
        == confusion_matrix(case.y_true, case.y_pred, labels=order).tolist()
    )
    expected = np.mean(
        [roc_auc_score(case.y_true == c, case.y_score[:, case.labels.index(c)]) for c in order]
    )
    assert _value(result, "roc_auc") == pytest.approx(expected, abs=TOL)

    binary = binary_strings(n=600, seed=9)
    flipped = classification_performance(
        binary.y_true, binary.y_pred, 1.0 - binary.y_score, positive_label="no", n_bootstrap=0
    )
    assert flipped.positive_label == "no"
    p, r, f, _ = precision_recall_fscore_support(
        binary.y_true, binary.y_pred, pos_label="no", average="binary"
    )
    assert (
        _value(flipped, "precision"),
        _value(flipped, "recall"),
        _value(flipped, "f1"),
    ) == pytest.approx((p, r, f), abs=TOL)
    assert _value(flipped, "roc_auc") == pytest.approx(
        roc_auc_score(binary.y_true == "no", 1.0 - binary.y_score), abs=TOL
    )


def test_predictions_derived_from_scores() -> None:
    case = binary_imbalanced(n=1000, seed=10)
    result = classification_performance(case.y_true, y_score=case.y_score, n_bootstrap=0)
    assert _value(result, "accuracy") == pytest.approx(
        accuracy_score(case.y_true, case.y_score >= 0.5), abs=TOL
    )
    multi = multiclass_strings(n=700, seed=11)
    result = classification_performance(multi.y_true, y_score=multi.y_score, n_bootstrap=0)
    argmax = np.array(multi.labels)[multi.y_score.argmax(axis=1)]
    assert _value(result, "accuracy") == pytest.approx(
        accuracy_score(multi.y_true, argmax), abs=TOL
    )
    assert any("derived from y_score" in note for note in result.notes)


def test_two_column_binary_scores_equal_one_column() -> None:
    case = binary_strings(n=500, seed=12)
    one = classification_performance(case.y_true, case.y_pred, case.y_score, n_bootstrap=0)
    two = classification_performance(
        case.y_true, case.y_pred, np.column_stack([1.0 - case.y_score, case.y_score]), n_bootstrap=0
    )
    for name in one.metrics:
        assert _value(two, name) == pytest.approx(_value(one, name), abs=TOL), name


def test_log_loss_clips_certain_mistakes_like_sklearn() -> None:
    y_true, y_score = np.array([0, 1, 1, 0]), np.array([1.0, 0.0, 1.0, 0.0])
    result = classification_performance(y_true, y_score=y_score, n_bootstrap=0)
    assert _value(result, "log_loss") == pytest.approx(log_loss(y_true, y_score), abs=TOL)
    assert math.isfinite(_value(result, "log_loss"))


def _ece_mce_loop(
    confidence: np.ndarray, correct: np.ndarray, n_bins: int = 15
) -> tuple[float, float]:
    """Straightforward calibration error: bins [i/15, (i+1)/15), the last one closed."""
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    ece, mce = 0.0, 0.0
    for i in range(n_bins):
        if i == n_bins - 1:
            inside = (confidence >= edges[i]) & (confidence <= edges[i + 1])
        else:
            inside = (confidence >= edges[i]) & (confidence < edges[i + 1])
        if inside.sum() == 0:
            continue
        gap = abs(correct[inside].mean() - confidence[inside].mean())
        ece += inside.sum() / len(confidence) * gap
        mce = max(mce, gap)
    return ece, mce


@pytest.mark.parametrize("make", [*BINARY_CASES, *MULTICLASS_CASES])
def test_ece_mce_match_loop(make: Any) -> None:
    case = make()
    result = classification_performance(case.y_true, case.y_pred, case.y_score, n_bootstrap=0)
    if case.y_score.ndim == 1:
        top_positive = case.y_score >= 0.5
        confidence = np.where(top_positive, case.y_score, 1.0 - case.y_score)
        correct = top_positive == (case.y_true == case.positive)
    else:
        top = case.y_score.argmax(axis=1)
        confidence = case.y_score.max(axis=1)
        correct = np.array(case.labels)[top] == case.y_true
    ece, mce = _ece_mce_loop(confidence, correct)
    assert _value(result, "ece") == pytest.approx(ece, abs=TOL)
    assert _value(result, "mce") == pytest.approx(mce, abs=TOL)


def test_calibration_bin_edges_are_left_closed() -> None:
    # confidences exactly on edges: 0.6 is 9/15, the start of bin 9; 1.0 is in the last bin
    y_score = np.array([0.6, 0.6, 1.0, 1.0, 0.8])
    y_true = np.array([1, 0, 1, 1, 1])
    result = classification_performance(y_true, y_score=y_score, n_bootstrap=0)
    ece, mce = _ece_mce_loop(np.array([0.6, 0.6, 1.0, 1.0, 0.8]), np.array([1, 0, 1, 1, 1]) == 1)
    assert _value(result, "ece") == pytest.approx(ece, abs=TOL)
    assert _value(result, "mce") == pytest.approx(mce, abs=TOL)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 3), st.integers(0, 3)), min_size=1, max_size=40),
)
def test_label_metrics_match_sklearn_on_random_small_data(pairs: list[tuple[int, int]]) -> None:
    y_true = np.array([a for a, _ in pairs])
    y_pred = np.array([b for _, b in pairs])
    labels = [0, 1, 2, 3]
    result = classification_performance(y_true, y_pred, labels=labels, n_bootstrap=0)
    p, r, f, _ = precision_recall_fscore_support(y_true, y_pred, labels=labels, zero_division=0)
    assert _value(result, "accuracy") == pytest.approx(accuracy_score(y_true, y_pred), abs=TOL)
    assert _value(result, "precision_macro") == pytest.approx(p.mean(), abs=TOL)
    assert _value(result, "recall_macro") == pytest.approx(r.mean(), abs=TOL)
    assert _value(result, "f1_macro") == pytest.approx(f.mean(), abs=TOL)


def _regression_data(n: int = 2000, seed: int = 13) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = rng.lognormal(2.0, 0.5, n) * rng.choice([-1.0, 1.0], n)
    return y, y + rng.normal(0.0, 2.0, n)


def test_regression_matches_sklearn() -> None:
    y, pred = _regression_data()
    result = regression_performance(y, pred, n_bootstrap=0)
    assert result.task == "regression" and result.n == len(y)
    assert _value(result, "mae") == pytest.approx(mean_absolute_error(y, pred), abs=TOL)
    assert _value(result, "rmse") == pytest.approx(math.sqrt(mean_squared_error(y, pred)), abs=TOL)
    assert _value(result, "mape") == pytest.approx(mean_absolute_percentage_error(y, pred), abs=TOL)
    assert _value(result, "r2") == pytest.approx(r2_score(y, pred), abs=TOL)


def test_regression_mape_skips_zero_targets_and_r2_of_constant_is_none() -> None:
    y = np.array([0.0, 2.0, 4.0, 0.0])
    pred = np.array([1.0, 1.0, 5.0, 0.0])
    result = regression_performance(y, pred, n_bootstrap=0)
    assert _value(result, "mape") == pytest.approx((1 / 2 + 1 / 4) / 2)
    assert any("2 rows where y_true is 0" in note for note in result.notes)
    constant = regression_performance([3.0, 3.0, 3.0], [2.0, 3.0, 4.0], n_bootstrap=10)
    assert constant.metrics["r2"] == {"value": None, "ci": None}
    assert any("constant" in note for note in constant.notes)


# ---------------------------------------------------------------------------------------------
# intervals


def test_intervals_are_reproducible_and_depend_on_seed() -> None:
    case = binary_imbalanced(n=1500, seed=14)
    first = classification_performance(case.y_true, case.y_pred, case.y_score, seed=3)
    again = classification_performance(case.y_true, case.y_pred, case.y_score, seed=3)
    other = classification_performance(case.y_true, case.y_pred, case.y_score, seed=4)
    assert first.to_dict() == again.to_dict()
    assert first.metrics["accuracy"]["ci"] != other.metrics["accuracy"]["ci"]
    assert first.metrics["roc_auc"]["ci"] != other.metrics["roc_auc"]["ci"]
    big = binary_imbalanced(n=ROW_BOOTSTRAP_MAX_ROWS * 2, seed=15)
    block_a = classification_performance(
        big.y_true, big.y_pred, big.y_score, n_bootstrap=100, seed=1
    )
    block_b = classification_performance(
        big.y_true, big.y_pred, big.y_score, n_bootstrap=100, seed=1
    )
    block_c = classification_performance(
        big.y_true, big.y_pred, big.y_score, n_bootstrap=100, seed=2
    )
    assert block_a.to_dict() == block_b.to_dict()
    assert block_a.metrics["pr_auc"]["ci"] != block_c.metrics["pr_auc"]["ci"]


@pytest.mark.parametrize("with_values", [False, True])
def test_dense_and_grouped_resampling_agree(with_values: bool) -> None:
    rng = np.random.default_rng(40)
    n, n_groups = 3000, 700
    units = rng.integers(0, 50, n).astype(np.intp)
    groups = rng.integers(0, n_groups, n).astype(np.intp)
    values = rng.normal(size=n) if with_values else None
    stat = Statistic(units, groups, n_groups, values)
    weights = rng.integers(0, 4, (20, 50)).astype(np.float32)
    dense = weights.astype(np.float64) @ stat.table(50).astype(np.float64)
    np.testing.assert_allclose(_GroupedSums(stat)(weights), dense, rtol=1e-6, atol=1e-9)
    empty = Statistic(units[:0], groups[:0], n_groups)
    assert not _GroupedSums(empty)(weights).any()


def test_resampler_row_weights_are_multinomial_counts() -> None:
    resampler = Resampler(n_rows=40, n_bootstrap=300, seed=0)
    units = resampler.row_units()
    draws = resampler.replicates(
        [Statistic(units, units, 40)],
        lambda sums: {"max": sums[0].max(axis=1), "n": sums[0].sum(axis=1)},
    )
    assert np.all(draws["n"] == 40)  # every resample draws exactly n rows
    assert draws["max"].max() >= 3  # rows are drawn with replacement


WELL_BEHAVED = (
    "accuracy",
    "precision",
    "recall",
    "f1",
    "f1_macro",
    "fnr",
    "fpr",
    "roc_auc",
    "pr_auc",
    "log_loss",
)


@pytest.mark.parametrize("n", [800, ROW_BOOTSTRAP_MAX_ROWS + 10_000])
def test_intervals_contain_the_point_estimate(n: int) -> None:
    case = binary_imbalanced(n=n, seed=16)
    result = classification_performance(case.y_true, case.y_pred, case.y_score, n_bootstrap=400)
    assert result.ci_method.startswith("row" if n <= ROW_BOOTSTRAP_MAX_ROWS else "block")
    for name in WELL_BEHAVED:
        entry = result.metrics[name]
        low, high = entry["ci"]
        assert low <= entry["value"] <= high, name
        assert high > low, name
    for name in ("ece", "mce"):
        low, high = result.metrics[name]["ci"]
        assert 0.0 <= low < high <= 1.0
    y, pred = _regression_data(n=n, seed=17)
    reg = regression_performance(y, pred, n_bootstrap=400)
    for name, entry in reg.metrics.items():
        assert entry["ci"][0] <= entry["value"] <= entry["ci"][1], name


def _naive_widths(
    y: np.ndarray, score: np.ndarray, pred: np.ndarray, n_resamples: int, seed: int
) -> dict[str, float]:
    """Row bootstrap written plainly: resample rows, recompute each metric, 95% width."""
    rng = np.random.default_rng(seed)
    n = len(y)
    order = np.argsort(-score)  # continuous scores: no ties
    y_sorted = y[order]
    values: dict[str, list[float]] = {
        k: [] for k in ("accuracy", "precision", "recall", "roc_auc", "pr_auc", "log_loss")
    }
    loss = -np.log(np.where(y == 1, score, 1.0 - score))
    for _ in range(n_resamples):
        w = np.bincount(rng.integers(0, n, n), minlength=n).astype(np.float64)
        tp = np.sum(w * (pred == 1) * (y == 1))
        values["accuracy"].append(np.sum(w * (pred == y)) / n)
        values["precision"].append(tp / np.sum(w * (pred == 1)))
        values["recall"].append(tp / np.sum(w * (y == 1)))
        values["log_loss"].append(np.sum(w * loss) / n)
        ws = w[order]
        pos = ws * (y_sorted == 1)
        neg = ws * (y_sorted == 0)
        neg_above = np.cumsum(neg)  # negatives scored higher than or at each row
        values["roc_auc"].append(np.sum(pos * (neg.sum() - neg_above)) / (pos.sum() * neg.sum()))
        tp_at, fp_at = np.cumsum(pos), np.cumsum(neg)
        seen = tp_at + fp_at
        precision = np.divide(tp_at, seen, out=np.zeros(n), where=seen > 0)
        values["pr_auc"].append(np.sum(pos * precision) / pos.sum())
    return {k: float(np.subtract(*np.percentile(v, [97.5, 2.5]))) for k, v in values.items()}


def test_block_bootstrap_width_matches_naive_row_bootstrap() -> None:
    n = 40_000
    rng = np.random.default_rng(18)
    y = (rng.random(n) < 0.15).astype(np.int64)
    score = _sigmoid(-2.0 + 1.8 * y + rng.normal(0.0, 1.0, n))
    pred = (score >= 0.35).astype(np.int64)
    result = classification_performance(y, pred, score, n_bootstrap=1000, seed=0)
    assert result.ci_method.startswith("block bootstrap")
    naive = _naive_widths(y, score, pred, n_resamples=500, seed=1)
    for name, width in naive.items():
        low, high = result.metrics[name]["ci"]
        assert (high - low) == pytest.approx(width, rel=0.2), name

    values = rng.normal(5.0, 2.0, n)
    predicted = values + rng.standard_t(4, n)
    reg = regression_performance(values, predicted, n_bootstrap=1000)
    draws = {"mae": [], "rmse": [], "r2": []}
    err = predicted - values
    for _ in range(300):
        idx = rng.integers(0, n, n)
        e, v = err[idx], values[idx]
        draws["mae"].append(np.abs(e).mean())
        draws["rmse"].append(np.sqrt((e * e).mean()))
        draws["r2"].append(1.0 - (e * e).sum() / ((v - v.mean()) ** 2).sum())
    for name, samples in draws.items():
        low, high = reg.metrics[name]["ci"]
        width = np.subtract(*np.percentile(samples, [97.5, 2.5]))
        assert (high - low) == pytest.approx(width, rel=0.2), name


def test_block_bootstrap_multiclass_auc_width_matches_row_bootstrap() -> None:
    # the same data at a size on each side of the threshold: the block bootstrap's macro AUC
    # interval (per-class bins, shared row blocks) must match the exact row bootstrap's
    case = multiclass_strings(n=ROW_BOOTSTRAP_MAX_ROWS, k=4, seed=19)
    row = classification_performance(case.y_true, case.y_pred, case.y_score, n_bootstrap=1000)
    doubled = [np.concatenate([a, a]) for a in (case.y_true, case.y_pred, case.y_score)]
    block = classification_performance(*doubled, n_bootstrap=1000)
    assert row.ci_method.startswith("row") and block.ci_method.startswith("block")
    for name in ("roc_auc", "pr_auc", "log_loss", "accuracy", "f1_macro"):
        row_width = np.diff(row.metrics[name]["ci"])[0]
        block_width = np.diff(block.metrics[name]["ci"])[0]
        # doubling the data shrinks the width by sqrt(2)
        assert block_width * math.sqrt(2) == pytest.approx(row_width, rel=0.2), name


def test_accuracy_interval_coverage() -> None:
    rng = np.random.default_rng(20)
    truth, n, covered = 0.8, 500, 0
    runs = 200
    for i in range(runs):
        y = rng.integers(0, 2, n)
        pred = np.where(rng.random(n) < truth, y, 1 - y)
        low, high = classification_performance(y, pred, n_bootstrap=500, seed=i).metrics[
            "accuracy"
        ]["ci"]
        covered += low <= truth <= high
    assert 0.88 <= covered / runs <= 0.99


def test_no_bootstrap_gives_no_intervals() -> None:
    case = binary_perfect(n=100)
    result = classification_performance(case.y_true, case.y_pred, case.y_score, n_bootstrap=0)
    assert all(entry["ci"] is None for entry in result.metrics.values())
    assert result.ci_method.startswith("none")
    assert _value(result, "roc_auc") == 1.0 and _value(result, "accuracy") == 1.0


# ---------------------------------------------------------------------------------------------
# difference


def test_difference_of_equal_samples_covers_zero() -> None:
    case = binary_imbalanced(n=3000, seed=21)
    other = binary_imbalanced(n=3000, seed=22)  # same distribution, independent sample
    ref = classification_performance(case.y_true, case.y_pred, case.y_score)
    cur = classification_performance(other.y_true, other.y_pred, other.y_score)
    diff = performance_difference(ref, cur)
    assert isinstance(diff, PerformanceDifference) and diff.task == "classification"
    for name in ("accuracy", "roc_auc", "pr_auc", "log_loss", "f1"):
        entry = diff.metrics[name]
        assert entry["difference"] == pytest.approx(entry["current"] - entry["reference"])
        low, high = entry["ci"]
        assert low <= 0.0 <= high, name
    # the very same data on both sides: the interval is that of two independent samples, not [0, 0]
    same = performance_difference(ref, ref)
    low, high = same.metrics["accuracy"]["ci"]
    assert low < 0.0 < high


def test_difference_of_different_samples_excludes_zero() -> None:
    rng = np.random.default_rng(23)
    y = rng.integers(0, 2, 5000)
    good = np.where(rng.random(5000) < 0.9, y, 1 - y)
    bad = np.where(rng.random(5000) < 0.8, y, 1 - y)
    diff = performance_difference(
        classification_performance(y, good), classification_performance(y, bad)
    )
    low, high = diff.metrics["accuracy"]["ci"]
    assert high < 0.0 and low < diff.metrics["accuracy"]["difference"] < high
    y_reg, pred = _regression_data(n=30_000, seed=24)
    worse = pred + rng.normal(0.0, 2.0, len(pred))
    reg_diff = performance_difference(
        regression_performance(y_reg, pred), regression_performance(y_reg, worse)
    )
    assert reg_diff.metrics["mae"]["ci"][0] > 0.0
    json.dumps(reg_diff.to_dict(), allow_nan=False)


def test_difference_rejects_mixed_tasks_and_handles_missing_values() -> None:
    reg = regression_performance([1.0, 2.0, 3.0], [1.0, 2.5, 2.0], n_bootstrap=20)
    cls = classification_performance([0, 1, 1], [0, 1, 0], n_bootstrap=20)
    with pytest.raises(ConfigError, match="regression result with a classification"):
        performance_difference(reg, cls)
    with pytest.raises(ConfigError, match="pass the result of"):
        performance_difference(reg, {"mae": 1})  # type: ignore[arg-type]
    with_scores = classification_performance([0, 1, 1], [0, 1, 0], [0.1, 0.8, 0.4], n_bootstrap=20)
    diff = performance_difference(cls, with_scores)
    assert diff.metrics["roc_auc"] == {
        "reference": None,
        "current": 1.0,
        "difference": None,
        "ci": None,
    }
    no_ci = performance_difference(
        cls, classification_performance([0, 1, 1], [0, 1, 1], n_bootstrap=0)
    )
    assert no_ci.metrics["accuracy"]["ci"] is None and no_ci.metrics["accuracy"][
        "difference"
    ] == pytest.approx(1 / 3)


# ---------------------------------------------------------------------------------------------
# results


def test_results_are_json_safe_and_keep_replicates_private() -> None:
    case = multiclass_strings(n=300, seed=25)
    result = classification_performance(case.y_true, case.y_pred, case.y_score, n_bootstrap=50)
    assert isinstance(result, ClassificationPerformance) and result.task == "classification"
    out = result.to_dict()
    assert "replicates" not in out and out["task"] == "classification"
    assert set(result.replicates) >= {"accuracy", "roc_auc", "ece"}
    assert all(len(v) == 50 for v in result.replicates.values())
    assert json.loads(result.to_json())["metrics"]["accuracy"]["value"] == _value(
        result, "accuracy"
    )
    json.dumps(out, allow_nan=False)
    reg = regression_performance(*_regression_data(n=100), n_bootstrap=30)
    assert isinstance(reg, RegressionPerformance)
    assert "replicates" not in reg.to_dict() and json.loads(reg.to_json())["task"] == "regression"


def test_module_import_is_numpy_only() -> None:
    code = (
        "import sys, telltale.analysis.performance;"
        "print(','.join(m for m in ('scipy.stats', 'sklearn', 'pandas') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


# ---------------------------------------------------------------------------------------------
# missing values and bad input


def test_missing_values_are_excluded_and_counted() -> None:
    y_true = np.array([0, 1, np.nan, 1, 0, 1, 0, 1])  # an int column with a null
    y_pred = np.array([0, 1, 1, None, 0, 1, 1, 1], dtype=object)
    y_score = np.ma.masked_array(
        [0.1, 0.9, 0.8, 0.7, 0.2, np.nan, 0.6, 0.4], mask=[0, 0, 0, 0, 0, 0, 0, 1]
    )
    result = classification_performance(y_true, y_pred, y_score, n_bootstrap=20)
    assert result.n == 4 and result.n_excluded == 4
    assert result.excluded == {"missing target": 1, "missing prediction": 1, "missing score": 2}
    assert result.labels == [0, 1]
    assert any("4 of 8 rows excluded" in note for note in result.notes)
    kept = [0, 1, 4, 6]
    assert _value(result, "accuracy") == pytest.approx(
        accuracy_score(y_true[kept], y_pred[kept].astype(int))
    )

    reg = regression_performance(
        [1.0, np.nan, 3.0, 4.0], np.ma.masked_array([1.0, 2.0, 3.5, 9.0], mask=[0, 0, 0, 1])
    )
    assert reg.n == 2 and reg.excluded == {"missing target": 1, "missing prediction": 1}


def test_single_class_gives_none_auc_with_a_note() -> None:
    result = classification_performance(
        [1, 1, 1, 1], [1, 0, 1, 1], [0.9, 0.4, 0.8, 0.7], n_bootstrap=50
    )
    assert result.labels == [0, 1]
    assert result.metrics["roc_auc"] == {"value": None, "ci": None}
    assert result.metrics["pr_auc"]["value"] is None
    assert any("single class" in note for note in result.notes)
    assert _value(result, "accuracy") == 0.75 and _value(result, "log_loss") is not None
    only_ones = classification_performance(
        [True] * 5, y_score=[0.9, 0.8, 0.7, 0.6, 0.55], n_bootstrap=0
    )
    assert only_ones.labels == [False, True] and only_ones.metrics["roc_auc"]["value"] is None
    multi = classification_performance(["a", "a"], ["a", "b"], n_bootstrap=10)
    assert multi.labels == ["a", "b"] and _value(multi, "accuracy") == 0.5


def test_resamples_without_positives_are_left_out_of_auc_interval() -> None:
    y = np.zeros(300, dtype=int)
    y[:2] = 1  # two positives: about 1 resample in 7 draws none
    score = np.linspace(1.0, 0.0, 300)
    result = classification_performance(y, y_score=score, n_bootstrap=300)
    assert _value(result, "roc_auc") == 1.0
    low, high = result.metrics["roc_auc"]["ci"]
    assert low == high == 1.0
    assert any("roc_auc, pr_auc:" in note and "out of 300" in note for note in result.notes)
    assert np.isnan(result.replicates["roc_auc"]).sum() > 10


def test_positive_label_names_the_missing_class_of_a_one_class_window() -> None:
    result = classification_performance(
        ["no", "no", "no"], y_score=[0.1, 0.6, 0.2], positive_label=np.str_("yes"), n_bootstrap=0
    )
    assert result.labels == ["no", "yes"] and result.positive_label == "yes"
    assert _value(result, "accuracy") == pytest.approx(2 / 3)
    assert _value(result, "fpr") == pytest.approx(1 / 3)


def test_class_absent_from_y_true_is_left_out_of_macro_auc() -> None:
    case = multiclass_strings(n=600, k=3, seed=26)
    keep = case.y_true != "cat"
    result = classification_performance(
        case.y_true[keep], case.y_pred[keep], case.y_score[keep], labels=case.labels, n_bootstrap=50
    )
    expected = np.mean(
        [
            roc_auc_score(case.y_true[keep] == c, case.y_score[keep][:, i])
            for i, c in enumerate(case.labels)
            if c != "cat"
        ]
    )
    assert _value(result, "roc_auc") == pytest.approx(expected, abs=TOL)
    assert any("'cat'" in note and "left out" in note for note in result.notes)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        (dict(y_true=[0, 1, 1], y_pred=[0, 1]), DataError, r"y_true has 3 rows, y_pred has 2 rows"),
        (dict(y_true=[], y_pred=[]), DataError, r"empty"),
        (dict(y_true=[0, 1]), ConfigError, r"pass y_pred .*y_score"),
        (
            dict(y_true=[0, 1], y_score=[0.2, np.inf]),
            DataError,
            r"infinite probabilities in 1 row \(first at row 1",
        ),
        (
            dict(y_true=[0, 1], y_score=[0.2, 1.7]),
            DataError,
            r"outside \[0, 1\] \(e\.g\. 1\.7\).*sigmoid",
        ),
        (dict(y_true=[0, 1], y_score=[-3.0, 0.5]), DataError, r"outside \[0, 1\] \(e\.g\. -3\.0\)"),
        (
            dict(y_true=[0, 1, 2], y_score=[0.2, 0.5, 0.3]),
            ConfigError,
            r"1-D .* 3 labels .*\(n, 3\)",
        ),
        (
            dict(y_true=[0, 1, 2], y_score=np.full((3, 4), 0.25)),
            ConfigError,
            r"4 columns .* 3 labels",
        ),
        (dict(y_true=[0, 1], y_score=np.zeros((2, 2, 2))), ConfigError, r"shape \(2, 2, 2\)"),
        (
            dict(y_true=[0, 1], y_score=np.array([[0.2], [0.8]])),
            ConfigError,
            r"shape \(2, 1\); .* 1-D array \(y_score\[:, 0\]\)",
        ),
        (
            dict(y_true=[0, 1, 2], y_score=np.full((3, 3), 0.5)),
            DataError,
            r"sum to 1 .*row 0 sums to 1\.5",
        ),
        (
            dict(y_true=["a", "b"], y_pred=["a", "b"], positive_label="c"),
            ConfigError,
            r"positive_label='c' is not one of the labels \['a', 'b'\]",
        ),
        (
            dict(y_true=[0, 1, 2], y_pred=[0, 1, 2], positive_label=1),
            ConfigError,
            r"applies to binary problems",
        ),
        (
            dict(y_true=["a", "b"], y_pred=["a", "c"], labels=["a", "b"]),
            DataError,
            r"y_pred has labels that are not in labels.*\['c'\] \(1 rows\)",
        ),
        (dict(y_true=["a", "b"], y_pred=[1, 2]), DataError, r"mix types .*\['a', 'b', 1, 2\]"),
        (
            dict(y_true=["yes", "yes"], y_score=[0.2, 0.7]),
            ConfigError,
            r"only one label \('yes'\).*labels=",
        ),
        (
            dict(y_true=[np.nan, np.nan], y_pred=[0, 1]),
            DataError,
            r"all 2 rows were excluded .*2 with missing target",
        ),
        (
            dict(y_true=[[0, 1]], y_pred=[[0, 1]]),
            ConfigError,
            r"y_true has shape \(1, 2\); pass a 1-D array",
        ),
        (dict(y_true=[0, 1], y_pred=[0, 1], labels=[0, 0, 1]), ConfigError, r"repeats a label"),
        (dict(y_true=[0, 1], y_pred=[0, 1], labels=[]), ConfigError, r"labels=\[\] is empty"),
        (dict(y_true=[0, 1], y_pred=[0, 1], labels=[None, 1]), ConfigError, r"None or NaN"),
        (
            dict(y_true=[0, 1], y_pred=[0, 1], n_bootstrap=-1),
            ConfigError,
            r"n_bootstrap=-1 is outside",
        ),
        (
            dict(y_true=[0, 1], y_pred=[0, 1], n_bootstrap=10.5),
            ConfigError,
            r"n_bootstrap=10.5 is not an integer",
        ),
        (dict(y_true=[0, 1], y_pred=[0, 1], confidence=95), ConfigError, r"confidence=95 .*0\.95"),
        (dict(y_true=[0, 1], y_pred=[0, 1], seed="x"), ConfigError, r"seed='x'"),
    ],
)
def test_bad_classification_input(
    kwargs: dict[str, Any], error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match):
        classification_performance(**kwargs)


def test_huge_label_cardinality_is_refused() -> None:
    rng = np.random.default_rng(27)
    target = rng.normal(size=5000)  # a regression target passed by mistake
    with pytest.raises(
        ConfigError, match=r"y_true has 5,000 distinct labels .*regression_performance"
    ):
        classification_performance(target, target)
    ids = np.arange(200_000)
    with pytest.raises(ConfigError, match=r"at most 1,000"):
        classification_performance(ids, ids)


@pytest.mark.parametrize(
    ("y_true", "y_pred", "error", "match"),
    [
        ([1.0, 2.0], [1.0], DataError, r"y_true has 2 rows, y_pred has 1 rows"),
        ([], [], DataError, r"empty"),
        (
            [1.0, np.inf],
            [1.0, 2.0],
            DataError,
            r"y_true has infinite values in 1 row \(first at row 1: inf\)",
        ),
        ([1.0, 2.0], [-np.inf, 2.0], DataError, r"y_pred has infinite values"),
        (["a", "b"], [1.0, 2.0], ConfigError, r"y_true has dtype <U1 that is not numeric"),
        ([np.nan, np.nan], [1.0, 2.0], DataError, r"all 2 rows were excluded"),
        (np.zeros((2, 2)), np.zeros((2, 2)), ConfigError, r"shape \(2, 2\)"),
    ],
)
def test_bad_regression_input(y_true: Any, y_pred: Any, error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        regression_performance(y_true, y_pred)
