"""Extractive QA: exact match and F1 of the official SQuAD v1.1 script, per question.

Data: a JSON list of ``{id, question, context, answers: {text: [...]}}`` (SQuAD/XQuAD layout);
outputs: a JSON list of ``{"predicted_answers": {"text": ...}}`` (or ``"predicted_answer"``/
``"prediction"`` strings) in data order. Both metrics are means of per-question scores, so a
t-interval is valid for them (``ci="t"``). Features: question, context and (first gold) answer
length in tokens.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from numpy.typing import NDArray

from telltale.errors import DataError

from ..metrics.squad import exact_match, qa_f1
from ..readers.explainaboard_json import read_json_records
from ..scoring import Intervals, Scorer, SufficientStatistics
from ..text_features import token_counts
from .base import (
    FeatureValues,
    Level,
    LossUnits,
    TaskOptions,
    register_task,
    shared_feature,
    user_features,
)

__all__ = ["ExtractiveQAData", "ExtractiveQATask"]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]
METRICS = ("f1", "exact_match")


def _mean_of_columns(sums: FloatArray) -> dict[str, FloatArray]:
    count = sums[:, 2]
    return {"exact_match": sums[:, 0] / count, "f1": sums[:, 1] / count}


def _answers(record: dict[str, Any], index: int, path: str) -> list[str]:
    answers = record.get("answers")
    texts = answers.get("text") if isinstance(answers, dict) else answers
    if isinstance(texts, str):
        texts = [texts]
    if not isinstance(texts, list) or not texts:
        raise DataError(
            f"data file {path!r}: record {index} has no gold answers; expected "
            '"answers": {"text": ["..."]} with at least one answer'
        )
    return [str(t) for t in texts]


def _prediction(record: dict[str, Any], index: int, path: str) -> str:
    for key in ("predicted_answers", "predicted_answer", "prediction"):
        value = record.get(key)
        if isinstance(value, dict):
            value = value.get("text")
        if isinstance(value, list):
            value = value[0] if value else ""
        if isinstance(value, str):
            return value
    raise DataError(
        f"output file {path!r}: record {index} has no predicted answer; expected "
        '{"predicted_answers": {"text": "..."}}'
    )


class ExtractiveQAData:
    """Questions, contexts, gold answers and each system's predicted answers."""

    task = "extractive-qa"
    primary_metric = "f1"
    levels: tuple[Level, ...] = ("example",)

    def __init__(
        self,
        records: list[dict[str, Any]],
        golds: list[list[str]],
        predictions: dict[str, list[str]],
        options: TaskOptions,
    ) -> None:
        self.records = records
        self.golds = golds
        self.predictions = predictions
        self.systems = list(predictions)
        self.n_examples = len(records)
        self.options = options
        self.notes: list[str] = [
            "EM and F1 follow the official SQuAD v1.1 evaluation (fractions, max over gold answers)"
        ]
        self.stats = {
            system: np.array(
                [[exact_match(p, g), qa_f1(p, g), 1.0] for p, g in zip(answers, golds, strict=True)]
            )
            for system, answers in predictions.items()
        }

    def scorer(self, system: str, level: Level) -> Scorer:
        return SufficientStatistics(
            self.stats[system],
            _mean_of_columns,
            METRICS,
            per_unit_means={"exact_match": 0, "f1": 1},
        )

    def per_label(self, system: str, intervals: Intervals) -> None:
        return None

    def features(self) -> list[FeatureValues]:
        s = self.systems
        return [
            shared_feature(
                "question_length",
                "numeric",
                "tokens in the question",
                token_counts([str(r.get("question", "")) for r in self.records]),
                s,
            ),
            shared_feature(
                "context_length",
                "numeric",
                "tokens in the context",
                token_counts([str(r.get("context", "")) for r in self.records]),
                s,
            ),
            shared_feature(
                "answer_length",
                "numeric",
                "tokens in the first gold answer",
                token_counts([g[0] for g in self.golds]),
                s,
            ),
            *user_features(self.options, self.n_examples, s),
        ]

    def confusion(self, system: str) -> None:
        return None

    def calibration_inputs(self, system: str) -> None:
        return None

    def unit_losses(self, system: str) -> LossUnits:
        loss = 1.0 - self.stats[system][:, 1]
        return LossUnits("example", loss, False, np.arange(self.n_examples), "1 - F1")

    def describe(self, system: str, level: Level, unit: int) -> dict[str, Any]:
        record = self.records[unit]
        return {
            "index": unit,
            "id": record.get("id"),
            "text": record.get("question"),
            "context": record.get("context"),
            "gold": self.golds[unit],
            "prediction": self.predictions[system][unit],
            "exact_match": float(self.stats[system][unit, 0]),
            "f1": float(self.stats[system][unit, 1]),
        }


class ExtractiveQATask:
    """SQuAD-style extractive QA."""

    name = "extractive-qa"
    aliases = ("qa", "question-answering-extractive", "qa-extractive", "squad")
    description = "extractive QA: SQuAD v1.1 exact match and F1"

    def load(self, data: Any, systems: Mapping[str, Any], options: TaskOptions) -> ExtractiveQAData:
        dataset = read_json_records(data, "data")
        golds = [_answers(r, i, dataset.path) for i, r in enumerate(dataset.records)]
        predictions: dict[str, list[str]] = {}
        for name, source in systems.items():
            output = read_json_records(source, f"system {name!r}")
            if len(output.records) != len(golds):
                raise DataError(
                    f"system {name!r} file {output.path!r} has {len(output.records):,} answers but "
                    f"the data {dataset.path!r} has {len(golds):,} questions; outputs must have one "
                    "answer per question, in data order"
                )
            predictions[name] = [
                _prediction(r, i, output.path) for i, r in enumerate(output.records)
            ]
        return ExtractiveQAData(dataset.records, golds, predictions, options)


register_task(ExtractiveQATask())
