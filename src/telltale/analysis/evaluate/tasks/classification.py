"""Text classification and text-pair classification (NLI, paraphrase, aspect sentiment).

Metrics come from :func:`telltale.analysis.performance.classification_performance` on label
codes: accuracy, macro precision/recall/F1 and, for two labels, precision/recall/F1 of the
positive label (the sorted-last one, e.g. ``positive`` of negative/positive). Labels are the
sorted union of the gold labels and the predictions (plus ``labels=``).

Gold labels that no system predicts stay in the data and are scored as errors, which is what
ExplainaBoard does: SNLI's 176 ``-`` rows (no annotator consensus) count in the denominator of
accuracy, giving the published 0.8644 for RoBERTa rather than 0.8799 on the other 9,824 rows;
a note reports such labels. A *predicted* label missing from the gold data is an error unless
``unknown_labels="keep"`` (a typo in a label file would otherwise lower accuracy silently).

Features: text length in tokens (per text for pairs), gold label, and for pairs token overlap
(Jaccard) and length ratio; the system's confidence when given; user features.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from telltale.analysis.performance import classification_performance
from telltale.analysis.performance.bootstrap import Statistic
from telltale.errors import DataError

from ..scoring import Intervals, Scorer, Selection, metric_entry, t_interval
from ..text_features import length_ratio, token_counts, token_overlap
from .base import (
    FeatureValues,
    Level,
    LossUnits,
    TaskOptions,
    per_system_feature,
    register_task,
    shared_feature,
    user_features,
)
from .labelled_files import LabelledColumns, read_labelled_data, read_predictions

__all__ = ["ClassificationData", "ClassificationScorer", "TextClassificationTask", "TextPairTask"]

IntArray = NDArray[np.intp]
FloatArray = NDArray[np.float64]

_BINARY_METRICS = ("accuracy", "f1", "precision", "recall", "f1_macro")
_MULTICLASS_METRICS = ("accuracy", "f1_macro", "precision_macro", "recall_macro")


def _ratio(numerator: FloatArray, denominator: FloatArray) -> FloatArray:
    """``numerator / denominator``, 0 where the denominator is 0 (scikit-learn's default)."""
    out = np.zeros(np.broadcast(numerator, denominator).shape)
    np.divide(numerator, denominator, out=out, where=denominator > 0)
    return out


class ClassificationScorer:
    """Classification metrics of a selection of examples, through ``classification_performance``."""

    mean_metrics = frozenset({"accuracy"})

    def __init__(self, gold: IntArray, predicted: IntArray, n_labels: int) -> None:
        self.gold = gold
        self.predicted = predicted
        self.n_labels = n_labels
        self.metrics = _BINARY_METRICS if n_labels == 2 else _MULTICLASS_METRICS

    def example_statistics(self, selection: Selection | None) -> Statistic:
        """One count per example in its confusion cell ``gold * k + predicted``."""
        rows = np.arange(len(self.gold)) if selection is None else selection.rows
        k = self.n_labels
        cells = self.gold[rows] * k + self.predicted[rows]
        return Statistic(np.asarray(rows, dtype=np.intp), groups=cells, n_groups=k * k)

    def metrics_from_sums(self, sums: FloatArray) -> dict[str, FloatArray]:
        """The metrics from summed confusion matrices ``(m, k * k)`` (sums of count cells)."""
        k = self.n_labels
        matrix = sums.reshape(len(sums), k, k)
        tp = np.diagonal(matrix, axis1=1, axis2=2)
        gold, predicted = matrix.sum(axis=2), matrix.sum(axis=1)
        total = gold.sum(axis=1)
        precision, recall = _ratio(tp, predicted), _ratio(tp, gold)
        f1 = _ratio(2.0 * tp, predicted + gold)
        with np.errstate(divide="ignore", invalid="ignore"):
            out = {"accuracy": tp.sum(axis=1) / total}
        out["f1_macro"] = f1.mean(axis=1)
        if k == 2:  # the positive label is the sorted-last one, code 1
            out.update(precision=precision[:, 1], recall=recall[:, 1], f1=f1[:, 1])
        else:
            out.update(precision_macro=precision.mean(axis=1), recall_macro=recall.mean(axis=1))
        return {name: out[name] for name in self.metrics}

    def score(self, selection: Selection | None, intervals: Intervals) -> dict[str, dict[str, Any]]:
        rows = slice(None) if selection is None else selection.rows
        gold, predicted = self.gold[rows], self.predicted[rows]
        if len(gold) == 0:
            return {name: {"value": None, "ci": None} for name in self.metrics}
        bootstrap = (
            intervals.n_bootstrap if intervals.method == "bootstrap" or len(self.metrics) > 1 else 0
        )
        performance = classification_performance(
            gold,
            predicted,
            labels=list(range(self.n_labels)),
            n_bootstrap=bootstrap,
            seed=intervals.seed,
            confidence=intervals.confidence,
        )
        out = {name: dict(performance.metrics[name]) for name in self.metrics}
        if intervals.method == "t" and intervals.n_bootstrap > 0:
            correct = (gold == predicted).astype(np.float64)
            out["accuracy"] = metric_entry(
                float(correct.mean()), t_interval(correct, intervals.confidence)
            )
        return out


class ClassificationData:
    """Gold labels, texts and every system's predicted labels (and confidences) as codes."""

    primary_metric = "accuracy"
    levels: tuple[Level, ...] = ("example",)

    def __init__(
        self,
        task: str,
        texts: dict[str, list[str]],
        gold: list[Any],
        predictions: dict[str, LabelledColumns],
        options: TaskOptions,
        sources: Mapping[str, Any],
        notes: list[str],
    ) -> None:
        self.task = task
        self.texts = texts
        self.systems = list(predictions)
        self.n_examples = len(gold)
        self.notes = notes
        self.options = options
        gold_names = [str(v) for v in gold]
        predicted_names = {s: [str(v) for v in c["prediction"]] for s, c in predictions.items()}
        known = set(gold_names) | set(options.labels or ())
        for system, names in predicted_names.items():
            unknown = [i for i, v in enumerate(names) if v not in known]
            if unknown and options.unknown_labels == "error":
                first = unknown[0]
                raise DataError(
                    f"system {system!r} file {str(sources[system])!r} record {first + 1} (line "
                    f"{first + 1} of a label file) predicts {names[first]!r}, which is not a gold "
                    f"label ({sorted(known)[:10]}); {len(unknown):,} predictions have unknown "
                    "labels — fix the output, pass labels=[...] (--labels) with the full label "
                    "set, or unknown_labels='keep' (--unknown-labels keep) to count them as errors",
                    details={"system": system, "record": first + 1, "label": names[first]},
                )
        label_set = set(gold_names) | set(options.labels or ())
        for names in predicted_names.values():
            label_set |= set(names)
        self.labels = sorted(label_set)
        code = {label: i for i, label in enumerate(self.labels)}
        self.gold = np.array([code[v] for v in gold_names], dtype=np.intp)
        self.predicted = {
            s: np.array([code[v] for v in names], dtype=np.intp)
            for s, names in predicted_names.items()
        }
        never = sorted(set(gold_names) - {v for names in predicted_names.values() for v in names})
        if never:
            counts = {label: gold_names.count(label) for label in never}
            notes.append(
                "gold labels no system predicts are kept and scored as errors (as ExplainaBoard "
                f"does): {', '.join(f'{k!r} ({v:,} rows)' for k, v in counts.items())}"
            )
        self.confidences: dict[str, FloatArray] = {}
        for system, columns in predictions.items():
            if "confidence" in columns:
                self.confidences[system] = np.array(
                    [np.nan if v is None else float(v) for v in columns["confidence"]]
                )

    def scorer(self, system: str, level: Level) -> Scorer:
        return ClassificationScorer(self.gold, self.predicted[system], len(self.labels))

    def per_label(self, system: str, intervals: Intervals) -> dict[str, Any]:
        performance = classification_performance(
            self.gold, self.predicted[system], labels=list(range(len(self.labels))), n_bootstrap=0
        )
        return {
            self.labels[entry["label"]]: {k: v for k, v in entry.items() if k != "label"}
            for entry in performance.per_class
        }

    def features(self) -> list[FeatureValues]:
        systems = self.systems
        out: list[FeatureValues] = []
        if self.task == "text-pair-classification":
            first, second = self.texts["text"], self.texts["text2"]
            len1, len2 = token_counts(first), token_counts(second)
            out += [
                shared_feature(
                    "text1_length", "numeric", "tokens in the first text", len1, systems
                ),
                shared_feature(
                    "text2_length", "numeric", "tokens in the second text", len2, systems
                ),
                shared_feature(
                    "similarity",
                    "numeric",
                    "token overlap of the two texts (Jaccard of lower-cased token sets)",
                    np.array([token_overlap(a, b) for a, b in zip(first, second, strict=True)]),
                    systems,
                ),
                shared_feature(
                    "length_ratio",
                    "numeric",
                    "text1 tokens / text2 tokens",
                    length_ratio(len1, len2),
                    systems,
                ),
            ]
        elif "text" in self.texts:
            out.append(
                shared_feature(
                    "text_length",
                    "numeric",
                    "tokens in the text",
                    token_counts(self.texts["text"]),
                    systems,
                )
            )
        names = np.array(self.labels, dtype=object)
        out.append(shared_feature("label", "categorical", "gold label", names[self.gold], systems))
        if self.confidences:
            out.append(
                per_system_feature(
                    "confidence",
                    "numeric",
                    "the system's confidence in its prediction",
                    self.confidences,
                )
            )
        out.extend(user_features(self.options, self.n_examples, systems))
        return out

    def confusion(self, system: str) -> tuple[dict[str, Any], dict[str, IntArray]]:
        performance = classification_performance(
            self.gold, self.predicted[system], labels=list(range(len(self.labels))), n_bootstrap=0
        )
        table = {"level": "label", "gold": self.labels, "predicted": self.labels}
        table["matrix"] = performance.confusion_matrix["matrix"]
        cells = self.gold * len(self.labels) + self.predicted[system]
        order = np.argsort(cells, kind="stable")
        members: dict[str, IntArray] = {}
        for cell in np.unique(cells):
            rows = order[
                np.searchsorted(cells[order], cell) : np.searchsorted(cells[order], cell, "right")
            ]
            g, p = divmod(int(cell), len(self.labels))
            members[f"{self.labels[g]} -> {self.labels[p]}"] = np.sort(rows)
        return table, members

    def calibration_inputs(self, system: str) -> tuple[FloatArray, NDArray[np.bool_]] | None:
        if system not in self.confidences:
            return None
        return self.confidences[system], self.gold == self.predicted[system]

    def unit_losses(self, system: str) -> LossUnits:
        wrong = (self.gold != self.predicted[system]).astype(np.float64)
        return LossUnits("example", wrong, True, np.arange(self.n_examples), "error rate")

    def describe(self, system: str, level: Level, unit: int) -> dict[str, Any]:
        out: dict[str, Any] = {"index": unit}
        for name, values in self.texts.items():
            out[name] = values[unit]
        out["gold"] = self.labels[self.gold[unit]]
        out["prediction"] = self.labels[self.predicted[system][unit]]
        if system in self.confidences:
            out["confidence"] = float(self.confidences[system][unit])
        return out


def load_classification(
    task: str,
    text_fields: Sequence[str],
    data: Any,
    systems: Mapping[str, Any],
    options: TaskOptions,
) -> ClassificationData:
    """Read and align a classification data set and its systems' outputs."""
    columns = read_labelled_data(data, text_fields, "data")
    n = len(columns["label"])
    predictions: dict[str, LabelledColumns] = {}
    for name, source in systems.items():
        if source is None:  # predictions inside the data file (ExplainaBoard "predictions" JSON)
            source = data
        predicted = read_predictions(source, f"system {name!r}")
        m = len(predicted["prediction"])
        if m != n:
            raise DataError(
                f"system {name!r} file {str(source)!r} has {m:,} predictions but the data "
                f"{str(data)!r} has {n:,} examples; outputs must have one prediction per example, "
                "in data order (check for a missing or extra line)",
                details={"system": name, "predictions": m, "examples": n},
            )
        predictions[name] = predicted
    texts = {field: [str(v) for v in columns[field]] for field in text_fields}
    return ClassificationData(task, texts, columns["label"], predictions, options, systems, [])


class TextClassificationTask:
    """One text, one label: sentiment, topic, MARC reviews."""

    name = "text-classification"
    aliases = ("classification", "text_classification")
    description = "text classification: accuracy, precision/recall/F1 (performance module)"

    def load(
        self, data: Any, systems: Mapping[str, Any], options: TaskOptions
    ) -> ClassificationData:
        return load_classification(self.name, ("text",), data, systems, options)


class TextPairTask:
    """Two texts, one label: NLI, paraphrase, aspect-based sentiment (aspect, sentence)."""

    name = "text-pair-classification"
    aliases = ("text-pair", "nli", "text_pair_classification")
    description = "text-pair classification (NLI): accuracy, precision/recall/F1"

    def load(
        self, data: Any, systems: Mapping[str, Any], options: TaskOptions
    ) -> ClassificationData:
        return load_classification(self.name, ("text", "text2"), data, systems, options)


register_task(TextClassificationTask())
register_task(TextPairTask())
