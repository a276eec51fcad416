"""Classification performance: label metrics, score metrics and calibration, with intervals.

Definitions (they match scikit-learn unless said otherwise):

- Labels are the sorted union of the labels in ``y_true`` and ``y_pred`` unless ``labels`` is
  given; ``labels`` also fixes the order of the score columns and of the confusion matrix.
  Two labels make a *binary* problem; the positive label defaults to the sorted-last one
  (``1`` of 0/1, ``True`` of bools, ``"yes"`` of no/yes — it is only a sort, so pass
  ``positive_label`` when the sort gets it wrong). When only one label appears and it is a
  bool or a 0/1 int, the other one is assumed (a monitoring window with positives only is
  still binary); other single labels need ``labels=``.
- ``precision``, ``recall``, ``f1``, ``fnr``, ``fpr``: of the positive label for binary
  problems; macro averages over the classes (one-vs-rest) otherwise. Ratios with a zero
  denominator count as 0 (scikit-learn's ``zero_division=0``) and are named in ``notes``.
  ``f1_micro`` equals accuracy for single-label data.
- ``roc_auc``: the exact Mann-Whitney AUC with ties counted one half; multiclass is the macro
  one-vs-rest mean (scikit-learn's ``multi_class="ovr", average="macro"``) over classes that
  have both positives and negatives. ``pr_auc`` is scikit-learn's average precision
  (step-wise, no interpolation), macro one-vs-rest for multiclass.
- ``log_loss``: mean natural-log loss of the true class's probability, clipped to
  ``[eps, 1 - eps]`` with ``eps`` the float64 machine epsilon (what scikit-learn >= 1.3 does;
  older versions clipped at 1e-15).
- ``ece`` / ``mce``: top-label calibration on 15 equal-width bins of the confidence
  ``[i/15, (i+1)/15)`` (the last bin includes 1). The top label is the arg-max of the scores
  (binary: positive when the score is >= 0.5), the confidence its probability.
  ECE = sum_b (n_b / n) |acc_b - conf_b|; MCE = max over non-empty bins of |acc_b - conf_b|.
  Their bootstrap intervals inherit ECE's upward bias (a resample is noisier than the
  sample), so the point estimate can sit near or below the interval's lower end.

Scores: binary ``y_score`` is the positive-class probability ``(n,)`` (or ``(n, 2)`` class
probabilities); multiclass ``y_score`` is ``(n, k)`` with columns in label order, rows summing
to 1 (within 1e-3). Values must lie in [0, 1]; without ``y_pred`` the prediction is the arg-max
(binary: score >= 0.5).

Missing values (NaN, ``None``, masked entries) in ``y_true``, ``y_pred`` or ``y_score`` exclude
the row; the counts are in ``excluded`` by reason (first reason wins). Infinite scores, scores
outside [0, 1], unknown labels or bad shapes raise :class:`~telltale.errors.DataError` or
:class:`~telltale.errors.ConfigError`.

Point estimates are exact on all rows. Intervals come from :mod:`.bootstrap`. For ``roc_auc``
and ``pr_auc`` the resampled statistic is a histogram of each class's scores per unit: on the
exact distinct scores when there are few (at most the bin count), else on quantile bins (1,000
for binary, ``1000 // k`` but at least 50 per class for ``k`` classes; ties stay in one bin).
Each resample's value is computed on the resampled histogram and shifted by (exact value -
binned value on all rows), which removes the binning bias; what binning changes is only how
pairs inside one bin count (as ties), a negligible effect on the spread. Without the bins a
resample would cost a sort, or work proportional to the number of distinct scores.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from telltale.errors import ConfigError, DataError

from ._base import (
    INTERNAL,
    PerformanceResult,
    any_per_row,
    check_bootstrap_args,
    check_lengths,
    describe_rows,
    excluded_note,
    metric_entry,
    nan_mean_rows,
    nan_ratio,
    ratio,
    rows_to_exclude,
    undefined_resamples_note,
)
from ._inputs import Factorized, factorize, score_array
from .bootstrap import Resampler, Statistic

__all__ = ["MAX_CLASSES", "ClassificationPerformance", "classification_performance"]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]
BoolArray = NDArray[np.bool_]

MAX_CLASSES = 1000
"""Most distinct labels a classification accepts (more is almost surely a numeric target)."""

N_CALIBRATION_BINS = 15
_EPS = float(np.finfo(np.float64).eps)
_SUM_TOLERANCE = 1e-3
_RANGE_TOLERANCE = 1e-6
_RANK_BIN_BUDGET = 1000
"""Quantile bins per class for block-bootstrap AUC: min(1000, max(50, budget // classes))."""

METRIC_NAMES = (
    "accuracy",
    "precision",
    "recall",
    "f1",
    "precision_macro",
    "recall_macro",
    "f1_macro",
    "f1_micro",
    "fnr",
    "fpr",
    "roc_auc",
    "pr_auc",
    "log_loss",
    "ece",
    "mce",
)
_SCORE_METRICS = ("roc_auc", "pr_auc", "log_loss", "ece", "mce")


@dataclass(kw_only=True)
class ClassificationPerformance(PerformanceResult):
    """Classification metrics of one sample; ``metrics[name] = {"value": v, "ci": [lo, hi]}``.

    ``replicates`` holds the bootstrap values of every metric (for
    :func:`~telltale.analysis.performance.performance_difference`); it is not part of
    ``to_dict()``.
    """

    task: Literal["classification"] = "classification"
    n: int
    n_excluded: int
    excluded: dict[str, int]
    labels: list[Any]
    positive_label: Any
    metrics: dict[str, dict[str, Any]]
    confusion_matrix: dict[str, Any]
    per_class: list[dict[str, Any]]
    confidence: float
    n_bootstrap: int
    seed: int | None
    ci_method: str
    notes: list[str]
    replicates: dict[str, FloatArray] = field(
        default_factory=dict, repr=False, compare=False, metadata=INTERNAL
    )


def classification_performance(
    y_true: Any,
    y_pred: Any = None,
    y_score: Any = None,
    *,
    labels: Any = None,
    positive_label: Any = None,
    n_bootstrap: int = 1000,
    seed: int | None = 0,
    confidence: float = 0.95,
) -> ClassificationPerformance:
    """Accuracy, precision/recall/F1, AUCs, log loss and calibration, with bootstrap intervals.

    ``y_true`` and ``y_pred`` are 1-D label arrays (ints, bools or strings); ``y_score`` holds
    probabilities (see the module docstring for shapes). Give ``y_pred``, ``y_score`` or both.
    For a reference/current comparison pass the same ``labels`` to both calls.

    >>> perf = classification_performance([0, 1, 1, 0], [0, 1, 0, 0], [0.2, 0.9, 0.4, 0.1],
    ...                                   n_bootstrap=200)
    >>> perf.metrics["accuracy"]["value"], perf.metrics["roc_auc"]["value"]
    (0.75, 1.0)
    >>> perf.confusion_matrix["matrix"]
    [[2, 0], [1, 1]]
    """
    n_bootstrap, seed, confidence = check_bootstrap_args(n_bootstrap, seed, confidence)
    if y_pred is None and y_score is None:
        raise ConfigError(
            "classification_performance needs predictions: pass y_pred (labels), "
            "y_score (probabilities) or both"
        )
    truth = factorize(y_true, "y_true")
    pred = None if y_pred is None else factorize(y_pred, "y_pred")
    scores, score_missing = (None, None) if y_score is None else score_array(y_score, "y_score")
    lengths = {"y_true": len(truth.codes)}
    if pred is not None:
        lengths["y_pred"] = len(pred.codes)
    if scores is not None:
        lengths["y_score"] = len(scores)
    n_input = check_lengths(lengths)
    notes: list[str] = []
    reasons = [("missing target", truth.missing)]
    if pred is not None:
        reasons.append(("missing prediction", pred.missing))
    reasons.append(("missing score", score_missing))
    drop, excluded = rows_to_exclude(n_input, reasons)

    label_list, positive = _resolve_labels(labels, positive_label, truth, pred, scores, notes)
    k = len(label_list)
    t = _to_label_codes(truth, label_list, "y_true")
    p = None if pred is None else _to_label_codes(pred, label_list, "y_pred")
    if scores is not None:
        _check_score_shape(scores, label_list)

    if excluded:
        keep = ~drop
        t = t[keep]
        p = None if p is None else p[keep]
        scores = None if scores is None else scores[keep]
        notes.append(excluded_note(excluded, n_input))

    if scores is not None:
        scores = _check_score_values(scores)
        if scores.ndim == 2 and positive is not None:
            scores = np.ascontiguousarray(scores[:, positive])
    if p is None:
        assert scores is not None
        p = _predict(scores, positive, k)
        notes.append(
            "predictions derived from y_score: "
            + ("positive when the score is >= 0.5" if scores.ndim == 1 else "arg-max class")
        )

    resampler = Resampler(len(t), n_bootstrap, seed)
    evaluation = _Evaluation(t, p, scores, k, positive, label_list, resampler, notes)
    points, replicates = evaluation.run()
    if k != 2:
        notes.append(
            f"{k} label{'s' if k != 1 else ''}: precision, recall, f1, fnr and fpr are macro "
            "averages over classes (one-vs-rest)"
        )
    metrics = {
        name: metric_entry(points.get(name), replicates.get(name), confidence)
        for name in METRIC_NAMES
    }
    undefined = undefined_resamples_note(points, replicates)
    if undefined:
        notes.append(undefined)
    ci_method = resampler.description
    if resampler.mode == "block" and scores is not None:
        ci_method += "; roc_auc and pr_auc from resampled per-block score histograms"
    return ClassificationPerformance(
        n=len(t),
        n_excluded=int(drop.sum()),
        excluded=excluded,
        labels=label_list,
        positive_label=None if positive is None else label_list[positive],
        metrics=metrics,
        confusion_matrix={"labels": label_list, "matrix": evaluation.confusion.tolist()},
        per_class=evaluation.per_class(),
        confidence=confidence,
        n_bootstrap=n_bootstrap,
        seed=seed,
        ci_method=ci_method,
        notes=notes,
        replicates=replicates,
    )


# ---------------------------------------------------------------------------------------------
# labels and inputs


def _show(values: list[Any], limit: int = 5) -> str:
    shown = ", ".join(repr(v) for v in values[:limit])
    return f"[{shown}{', ...' if len(values) > limit else ''}]"


def _check_cardinality(count: int, what: str, sample: list[Any]) -> None:
    if count > MAX_CLASSES:
        raise ConfigError(
            f"{what} has {count:,} distinct labels (e.g. {_show(sample)}); classification "
            f"supports at most {MAX_CLASSES:,} — if this is a numeric target, use "
            "regression_performance, else group rare classes"
        )


def _resolve_labels(
    labels: Any,
    positive_label: Any,
    truth: Factorized,
    pred: Factorized | None,
    scores: FloatArray | None,
    notes: list[str],
) -> tuple[list[Any], int | None]:
    """The label list and the index of the positive label (``None`` unless binary)."""
    _check_cardinality(len(truth.uniques), "y_true", truth.uniques)
    if pred is not None:
        _check_cardinality(len(pred.uniques), "y_pred", pred.uniques)
    if labels is not None:
        given = labels.tolist() if isinstance(labels, np.ndarray) else list(labels)
        given = [v.item() if isinstance(v, np.generic) else v for v in given]
        if not given:
            raise ConfigError("labels=[] is empty; pass the class labels, or None to infer them")
        if any(v is None or (isinstance(v, float) and v != v) for v in given):
            raise ConfigError(f"labels={_show(given)} contains None or NaN; pass real labels")
        if len(set(given)) != len(given):
            raise ConfigError(f"labels={_show(given, 20)} repeats a label; pass each label once")
        _check_cardinality(len(given), "labels", given)
        label_list = given
    else:
        observed = dict.fromkeys(truth.uniques)
        if pred is not None:
            observed.update(dict.fromkeys(pred.uniques))
        try:
            label_list = sorted(observed)
        except TypeError:
            raise DataError(
                f"the labels mix types that cannot be ordered ({_show(list(observed))}); "
                "make y_true and y_pred the same type (e.g. both str) or pass labels="
            ) from None
        _check_cardinality(len(label_list), "y_true and y_pred", label_list)
        one_d = scores is not None and scores.ndim == 1
        if len(label_list) == 1 and (one_d or positive_label is not None):
            label_list = _complete_binary(label_list[0], positive_label, notes)
        if scores is not None and scores.ndim == 2 and scores.shape[1] == 1 < len(label_list):
            raise ConfigError(
                f"y_score has shape {scores.shape}; for a binary problem pass the positive-class "
                "probabilities as a 1-D array (y_score[:, 0]), or one column per label"
            )
        if scores is not None and scores.ndim == 2 and scores.shape[1] != len(label_list):
            raise ConfigError(
                f"y_score has {scores.shape[1]} columns but y_true/y_pred hold "
                f"{len(label_list)} labels {_show(label_list)}; pass labels= naming the class "
                "of each column, in column order"
            )
    if positive_label is not None:
        if isinstance(positive_label, np.generic):
            positive_label = positive_label.item()
        index = {v: i for i, v in enumerate(label_list)}
        if positive_label not in index:
            raise ConfigError(
                f"positive_label={positive_label!r} is not one of the labels "
                f"{_show(label_list, 10)}; pass one of them"
            )
        if len(label_list) != 2:
            raise ConfigError(
                f"positive_label={positive_label!r} applies to binary problems, but there are "
                f"{len(label_list)} labels {_show(label_list)}; drop positive_label (multiclass "
                "metrics are macro averages) or pass labels= with two classes"
            )
        return label_list, index[positive_label]
    if len(label_list) == 2:
        try:
            last = sorted(label_list)[-1]
        except TypeError:
            raise ConfigError(
                f"cannot order the labels {label_list!r} to pick the positive one; "
                "pass positive_label="
            ) from None
        return label_list, label_list.index(last)
    return label_list, None


def _complete_binary(label: Any, positive_label: Any, notes: list[str]) -> list[Any]:
    """Both labels of a binary problem of which only ``label`` appears."""
    if positive_label is not None and positive_label != label:
        other = positive_label
    elif isinstance(label, bool):
        other = not label
    elif isinstance(label, int) and label in (0, 1):
        other = 1 - label
    else:
        raise ConfigError(
            f"only one label ({label!r}) appears in y_true and y_pred, so the other class of "
            f"the binary problem is unknown; pass labels=[<negative>, <positive>] "
            "(e.g. the reference's labels)"
        )
    try:
        pair = sorted([label, other])
    except TypeError:
        raise ConfigError(
            f"positive_label={positive_label!r} and the label {label!r} have different types; "
            "pass labels= explicitly"
        ) from None
    notes.append(f"only label {label!r} appears; assumed the binary labels {pair!r}")
    return pair


def _to_label_codes(data: Factorized, label_list: list[Any], name: str) -> IntArray:
    index = {v: i for i, v in enumerate(label_list)}
    lut = np.array([index.get(u, -1) for u in data.uniques], dtype=np.intp)
    unknown = np.flatnonzero(lut < 0)
    if unknown.size:
        valid = data.codes if data.missing is None else data.codes[~data.missing]
        rows = int(np.isin(valid, unknown).sum())
        raise DataError(
            f"{name} has labels that are not in labels={_show(label_list, 10)}: "
            f"{_show([data.uniques[i] for i in unknown])} ({rows:,} rows); add them to labels "
            "or drop those rows"
        )
    if lut.size == 0:
        return np.zeros(len(data.codes), dtype=np.intp)
    return lut[data.codes]


def _check_score_shape(scores: FloatArray, label_list: list[Any]) -> None:
    k = len(label_list)
    if scores.ndim == 1 and k != 2:
        raise ConfigError(
            f"y_score is 1-D (positive-class probabilities of a binary problem) but there are "
            f"{k} labels {_show(label_list)}; pass an (n, {k}) array of class probabilities "
            "with columns in labels order"
        )
    if scores.ndim == 2 and scores.shape[1] != k:
        raise ConfigError(
            f"y_score has {scores.shape[1]} columns but there are {k} labels "
            f"{_show(label_list)}; pass one probability column per label, in labels order"
        )


def _check_score_values(scores: FloatArray) -> FloatArray:
    low, high = float(scores.min()), float(scores.max())
    if low < -_RANGE_TOLERANCE or high > 1.0 + _RANGE_TOLERANCE:
        bad: BoolArray = (scores < -_RANGE_TOLERANCE) | (scores > 1.0 + _RANGE_TOLERANCE)
        rows = any_per_row(bad)
        value = low if low < -_RANGE_TOLERANCE else high
        raise DataError(
            f"y_score has values outside [0, 1] (e.g. {value!r}) in {describe_rows(rows)} of the "
            "rows used; pass probabilities (predict_proba output), not raw scores or logits — "
            "apply a sigmoid/softmax first"
        )
    if low < 0.0 or high > 1.0:
        scores = np.clip(scores, 0.0, 1.0)
    if scores.ndim == 2:
        off = np.abs(scores.sum(axis=1) - 1.0) > _SUM_TOLERANCE
        if off.any():
            first = int(np.flatnonzero(off)[0])
            raise DataError(
                f"y_score rows must sum to 1 but {describe_rows(off)} of the rows used do not "
                f"(row {first} sums to {scores[first].sum():.6g}); pass class probabilities, "
                "or normalise with y_score / y_score.sum(axis=1, keepdims=True)"
            )
    return scores


def _predict(scores: FloatArray, positive: int | None, k: int) -> IntArray:
    if scores.ndim == 1:
        assert positive is not None
        return np.where(scores >= 0.5, positive, 1 - positive).astype(np.intp)
    return np.argmax(scores, axis=1).astype(np.intp)


# ---------------------------------------------------------------------------------------------
# metrics from sufficient statistics (vectorised over resamples)


def _count_metrics(
    tp: FloatArray, n_pred: FloatArray, n_true: FloatArray, positive: int | None
) -> dict[str, FloatArray]:
    """Label metrics from per-class counts of shape (resamples, k)."""
    n = n_true.sum(axis=1)
    precision = ratio(tp, n_pred)
    recall = ratio(tp, n_true)
    f1 = ratio(2.0 * tp, n_pred + n_true)
    fpr = ratio(n_pred - tp, n[:, None] - n_true)
    fnr = ratio(n_true - tp, n_true)
    accuracy = nan_ratio(tp.sum(axis=1), n)
    out = {
        "accuracy": accuracy,
        "precision_macro": precision.mean(axis=1),
        "recall_macro": recall.mean(axis=1),
        "f1_macro": f1.mean(axis=1),
        "f1_micro": accuracy,
    }
    if positive is not None:
        out.update(
            precision=precision[:, positive],
            recall=recall[:, positive],
            f1=f1[:, positive],
            fnr=fnr[:, positive],
            fpr=fpr[:, positive],
        )
    else:
        out.update(
            precision=out["precision_macro"],
            recall=out["recall_macro"],
            f1=out["f1_macro"],
            fnr=fnr.mean(axis=1),
            fpr=fpr.mean(axis=1),
        )
    return out


def _auc_ap_from_counts(pos: FloatArray, neg: FloatArray) -> tuple[FloatArray, FloatArray]:
    """AUC and average precision from positives/negatives per tie group (ascending score)."""
    n_pos = pos.sum(axis=1)
    n_neg = neg.sum(axis=1)
    neg_below = np.cumsum(neg, axis=1) - neg
    auc = nan_ratio((pos * (neg_below + 0.5 * neg)).sum(axis=1), n_pos * n_neg)
    tp_at = n_pos[:, None] - (np.cumsum(pos, axis=1) - pos)  # positives scored >= the group
    fp_at = n_neg[:, None] - neg_below
    precision = ratio(tp_at, tp_at + fp_at)
    ap = nan_ratio((pos * precision).sum(axis=1), n_pos)
    return auc, ap


def _exact_auc_ap(pos_sorted: FloatArray, neg_sorted: FloatArray) -> tuple[float, float]:
    """Exact AUC (ties count 1/2) and scikit-learn's average precision from sorted scores."""
    n_pos, n_neg = len(pos_sorted), len(neg_sorted)
    below = np.searchsorted(neg_sorted, pos_sorted, side="left")
    below_or_tied = np.searchsorted(neg_sorted, pos_sorted, side="right")
    auc = float(int(below.sum()) + int(below_or_tied.sum())) / (2.0 * n_pos * n_neg)
    starts = np.flatnonzero(np.r_[True, pos_sorted[1:] != pos_sorted[:-1]])
    counts = np.diff(np.r_[starts, n_pos])
    tp_at = n_pos - starts
    fp_at = n_neg - below[starts]
    ap = float(np.sum(counts * (tp_at / (tp_at + fp_at)))) / n_pos
    return auc, ap


def _calibration_bins(confidence: FloatArray) -> IntArray:
    """Bin ``i`` holds ``edges[i] <= c < edges[i+1]``; the last bin also holds 1.0."""
    edges = np.linspace(0.0, 1.0, N_CALIBRATION_BINS + 1)
    bins = (confidence * N_CALIBRATION_BINS).astype(np.intp)
    np.minimum(bins, N_CALIBRATION_BINS - 1, out=bins)
    bins -= confidence < edges[bins]
    up = bins < N_CALIBRATION_BINS - 1
    up &= confidence >= edges[bins + 1]
    bins += up
    return bins


def _ece_mce(sums: FloatArray) -> tuple[FloatArray, FloatArray]:
    """ECE and MCE from per-bin (count, correct, confidence) sums of shape (resamples, bins, 3)."""
    count, correct, conf = sums[..., 0], sums[..., 1], sums[..., 2]
    gap = np.abs(correct - conf)
    ece = nan_ratio(gap.sum(axis=1), count.sum(axis=1))
    per_bin = np.where(count > 0, ratio(gap, count), -np.inf)
    mce = per_bin.max(axis=1)
    mce[~np.isfinite(mce)] = np.nan
    return ece, mce


@dataclass
class _Ranking:
    """Exact AUC/AP of one class versus the rest, and its resampling statistic."""

    label: int
    auc: float
    ap: float
    stat: int | None = None
    n_groups: int = 0
    shift_auc: float = 0.0
    shift_ap: float = 0.0


class _Evaluation:
    """Point metrics of one sample and the statistics to resample them."""

    def __init__(
        self,
        t: IntArray,
        p: IntArray,
        scores: FloatArray | None,
        k: int,
        positive: int | None,
        label_list: list[Any],
        resampler: Resampler,
        notes: list[str],
    ) -> None:
        self.t, self.p, self.scores, self.k = t, p, scores, k
        self.positive = positive
        self.label_list = label_list
        self.resampler = resampler
        self.notes = notes
        self.n = len(t)
        self.confusion = np.bincount(t * k + p, minlength=k * k).reshape(k, k)
        self.stats: list[Statistic] = []
        self.rankings: list[_Ranking] = []
        self.loss_stat: int | None = None
        self.calibration_stat: int | None = None

    def _add(self, stat: Statistic) -> int:
        self.stats.append(stat)
        return len(self.stats) - 1

    def run(self) -> tuple[dict[str, float | None], dict[str, FloatArray]]:
        k, t, p = self.k, self.t, self.p
        resampling = self.resampler.mode != "none"
        tp = np.diag(self.confusion).astype(np.float64)[None]
        n_pred = self.confusion.sum(axis=0).astype(np.float64)[None]
        n_true = self.confusion.sum(axis=1).astype(np.float64)[None]
        points: dict[str, float | None] = {
            name: float(v[0])
            for name, v in _count_metrics(tp, n_pred, n_true, self.positive).items()
        }
        self._note_zero_division(n_pred[0], n_true[0])
        if resampling:
            units = self.resampler.row_units()
            hit = t == p
            self._add(Statistic(units, t, k))
            self._add(Statistic(units, p, k))
            self._add(Statistic(units[hit], t[hit], k))
        if self.scores is None:
            self.notes.append("no y_score given: " + ", ".join(_SCORE_METRICS) + " are None")
        else:
            points.update(self._score_points(resampling))
        replicates = self.resampler.replicates(self.stats, self._reduce) if resampling else {}
        return points, replicates

    def _note_zero_division(self, n_pred: FloatArray, n_true: FloatArray) -> None:
        never_predicted = [self.label_list[i] for i in np.flatnonzero(n_pred == 0)]
        never_true = [self.label_list[i] for i in np.flatnonzero(n_true == 0)]
        if never_predicted:
            self.notes.append(
                f"labels never predicted: {_show(never_predicted)}; their precision (0/0) "
                "counts as 0, like scikit-learn's zero_division=0"
            )
        if never_true:
            self.notes.append(
                f"labels absent from y_true: {_show(never_true)}; their recall and fnr (0/0) "
                "count as 0, like scikit-learn's zero_division=0"
            )

    def _score_points(self, resampling: bool) -> dict[str, float | None]:
        scores = self.scores
        assert scores is not None
        if scores.ndim == 1:
            assert self.positive is not None
            is_pos = self.t == self.positive
            p_true = np.where(is_pos, scores, 1.0 - scores)
            top_is_pos = scores >= 0.5
            confidence = np.where(top_is_pos, scores, 1.0 - scores)
            correct = top_is_pos == is_pos
            columns = [(self.positive, scores)]
        else:
            rows = np.arange(self.n)
            p_true = scores[rows, self.t]
            top = np.argmax(scores, axis=1)
            confidence = scores[rows, top]
            correct = top == self.t
            columns = [(c, scores[:, c]) for c in range(self.k)]
        out = self._log_loss(p_true, resampling)
        out.update(self._calibration(confidence, correct, resampling))
        out.update(self._rankings(columns, resampling))
        return out

    def _log_loss(self, p_true: FloatArray, resampling: bool) -> dict[str, float | None]:
        loss = -np.log(np.clip(p_true, _EPS, 1.0 - _EPS))
        if resampling:
            self.loss_stat = self._add(Statistic(self.resampler.row_units(), values=loss))
        return {"log_loss": float(loss.mean())}

    def _calibration(
        self, confidence: FloatArray, correct: BoolArray, resampling: bool
    ) -> dict[str, float | None]:
        bins = _calibration_bins(confidence)
        values = np.stack([np.ones(self.n), correct.astype(np.float64), confidence], axis=1)
        sums = np.stack(
            [np.bincount(bins, weights=v, minlength=N_CALIBRATION_BINS) for v in values.T], axis=1
        ).astype(np.float64)
        ece, mce = _ece_mce(sums[None])
        if resampling:
            self.calibration_stat = self._add(
                Statistic(self.resampler.row_units(), bins, N_CALIBRATION_BINS, values)
            )
        return {"ece": float(ece[0]), "mce": float(mce[0])}

    def _rankings(
        self, columns: list[tuple[int, FloatArray]], resampling: bool
    ) -> dict[str, float | None]:
        n_bins = min(1000, max(50, _RANK_BIN_BUDGET // len(columns)))
        undefined = []
        for label, column in columns:
            ranking = self._ranking(label, column, self.t == label, n_bins, resampling)
            if ranking is None:
                undefined.append(self.label_list[label])
            else:
                self.rankings.append(ranking)
        if not self.rankings:
            present = [self.label_list[i] for i in np.unique(self.t)]
            self.notes.append(
                f"roc_auc and pr_auc are undefined: y_true holds a single class ({_show(present)})"
            )
            return {"roc_auc": None, "pr_auc": None}
        if undefined:
            self.notes.append(
                "roc_auc and pr_auc average over classes with positives and negatives; "
                f"left out (all or no rows): {_show(undefined)}"
            )
        return {
            "roc_auc": float(np.mean([r.auc for r in self.rankings])),
            "pr_auc": float(np.mean([r.ap for r in self.rankings])),
        }

    def _ranking(
        self, label: int, column: FloatArray, is_pos: BoolArray, n_bins: int, resampling: bool
    ) -> _Ranking | None:
        pos_sorted, neg_sorted = np.sort(column[is_pos]), np.sort(column[~is_pos])
        if pos_sorted.size == 0 or neg_sorted.size == 0:
            return None
        auc, ap = _exact_auc_ap(pos_sorted, neg_sorted)
        ranking = _Ranking(label, auc, ap)
        if not resampling:
            return ranking
        pos_distinct, neg_distinct = _distinct_sorted(pos_sorted), _distinct_sorted(neg_sorted)
        if len(pos_distinct) + len(neg_distinct) <= n_bins:  # few scores: exact tie groups
            edges = np.union1d(pos_distinct, neg_distinct)[1:]
        else:  # quantile bins; ties share a bin
            edges = _quantile_edges(pos_sorted, neg_sorted, n_bins)
        n_groups = len(edges) + 1
        groups = _bins_of(column, edges)
        groups[~is_pos] += n_groups  # positives in groups [0, G), negatives in [G, 2G)
        ranking.stat = self._add(Statistic(self.resampler.row_units(), groups, 2 * n_groups))
        ranking.n_groups = n_groups
        full = np.bincount(groups, minlength=2 * n_groups).astype(np.float64)[None]
        binned_auc, binned_ap = _auc_ap_from_counts(full[:, :n_groups], full[:, n_groups:])
        ranking.shift_auc = auc - float(binned_auc[0])
        ranking.shift_ap = ap - float(binned_ap[0])
        return ranking

    def _reduce(self, sums: list[FloatArray]) -> dict[str, FloatArray]:
        out = _count_metrics(sums[2], sums[1], sums[0], self.positive)
        n = sums[0].sum(axis=1)
        if self.loss_stat is not None:
            out["log_loss"] = nan_ratio(sums[self.loss_stat][:, 0], n)
        if self.calibration_stat is not None:
            out["ece"], out["mce"] = _ece_mce(sums[self.calibration_stat])
        if self.rankings:
            aucs, aps = [], []
            for ranking in self.rankings:
                assert ranking.stat is not None
                counts = sums[ranking.stat]
                g = ranking.n_groups
                auc, ap = _auc_ap_from_counts(counts[:, :g], counts[:, g:])
                aucs.append(np.clip(auc + ranking.shift_auc, 0.0, 1.0))
                aps.append(np.clip(ap + ranking.shift_ap, 0.0, 1.0))
            out["roc_auc"] = nan_mean_rows(np.stack(aucs, axis=1))
            out["pr_auc"] = nan_mean_rows(np.stack(aps, axis=1))
        return out

    def per_class(self) -> list[dict[str, Any]]:
        tp = np.diag(self.confusion).astype(np.float64)
        n_pred = self.confusion.sum(axis=0).astype(np.float64)
        n_true = self.confusion.sum(axis=1).astype(np.float64)
        precision = ratio(tp, n_pred)
        recall = ratio(tp, n_true)
        f1 = ratio(2.0 * tp, n_pred + n_true)
        return [
            {
                "label": label,
                "precision": float(precision[i]),
                "recall": float(recall[i]),
                "f1": float(f1[i]),
                "support": int(n_true[i]),
            }
            for i, label in enumerate(self.label_list)
        ]


def _distinct_sorted(values: FloatArray) -> FloatArray:
    """The distinct values of an ascending array."""
    return values[np.r_[True, values[1:] != values[:-1]]]


def _quantile_edges(pos_sorted: FloatArray, neg_sorted: FloatArray, n_bins: int) -> FloatArray:
    """About ``n_bins - 1`` distinct cut points at quantiles of the scores of both classes."""
    step = max(1, (len(pos_sorted) + len(neg_sorted)) // (16 * n_bins))
    sample = np.sort(np.concatenate([pos_sorted[::step], neg_sorted[::step]]))
    return np.unique(sample[(np.arange(1, n_bins) * len(sample)) // n_bins])


_GRID = 1 << 16


def _bins_of(values: FloatArray, edges: FloatArray) -> IntArray:
    """The number of ``edges`` <= each value in [0, 1] (``searchsorted(side="right")``).

    A 2**16-cell grid answers most values with one lookup; values in a cell that holds an edge
    fall back to a binary search.
    """
    grid = np.arange(_GRID + 1) / _GRID  # exact: a power-of-two denominator
    low = np.searchsorted(edges, grid[:-1], side="right")  # bin of each cell's left end
    high = np.searchsorted(edges, grid[1:], side="left")  # bin just below each cell's right end
    high[-1] = np.searchsorted(edges, 1.0, side="right")  # the last cell includes 1.0
    cell = (values * _GRID).astype(np.intp)
    np.minimum(cell, _GRID - 1, out=cell)
    bins = low[cell]
    unsure = np.flatnonzero(bins != high[cell])
    if unsure.size:
        bins[unsure] = np.searchsorted(edges, values[unsure], side="right")
    return bins.astype(np.intp, copy=False)
