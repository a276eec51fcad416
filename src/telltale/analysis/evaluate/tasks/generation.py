"""Conditional generation (translation, summarisation): corpus BLEU, chrF and ROUGE-1/2/L.

Data: TSV ``source<TAB>reference``; outputs: one hypothesis per line (an empty line is an empty
hypothesis). BLEU and chrF are corpus metrics computed as sacreBLEU does from summed
per-segment statistics (0-100); ROUGE F-measures are per-segment and averaged (0-1). The
bootstrap resamples segments and recomputes the corpus scores from the resampled sums.
Features: source, reference and hypothesis length in tokens (hypothesis length differs per
system; its buckets are fit on all systems' hypotheses together).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from numpy.typing import NDArray

from telltale.errors import DataError

from ..metrics.bleu import bleu_from_sums, bleu_statistics
from ..metrics.chrf import chrf_from_sums, chrf_statistics
from ..metrics.rouge import ROUGE_METRICS, rouge_scores
from ..readers.delimited import read_record_lines, read_tsv
from ..scoring import Intervals, Scorer, SufficientStatistics
from ..text_features import token_counts
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

__all__ = ["GenerationData", "GenerationTask"]

FloatArray = NDArray[np.float64]
METRICS = ("bleu", "chrf", *ROUGE_METRICS)
_BLEU, _CHRF = slice(0, 10), slice(10, 28)


def _reduce(sums: FloatArray) -> dict[str, FloatArray]:
    count = sums[:, 31]
    out = {"bleu": bleu_from_sums(sums[:, _BLEU]), "chrf": chrf_from_sums(sums[:, _CHRF])}
    for i, name in enumerate(ROUGE_METRICS):
        out[name] = sums[:, 28 + i] / count
    return out


class GenerationData:
    """Sources, references and every system's hypotheses, with per-segment statistics."""

    task = "generation"
    primary_metric = "bleu"
    levels: tuple[Level, ...] = ("example",)

    def __init__(
        self,
        sources: list[str],
        references: list[str],
        hypotheses: dict[str, list[str]],
        options: TaskOptions,
    ) -> None:
        self.sources = sources
        self.references = references
        self.hypotheses = hypotheses
        self.systems = list(hypotheses)
        self.n_examples = len(references)
        self.options = options
        self.notes = [
            "BLEU and chrF: sacreBLEU defaults (13a tokens; chrF char 6-grams, beta 2), 0-100; ROUGE: F-measure, 0-1"
        ]
        self.stats = {
            system: np.concatenate(
                [
                    bleu_statistics(hyps, references),
                    chrf_statistics(hyps, references),
                    rouge_scores(hyps, references),
                    np.ones((len(hyps), 1)),
                ],
                axis=1,
            )
            for system, hyps in hypotheses.items()
        }

    def scorer(self, system: str, level: Level) -> Scorer:
        return SufficientStatistics(
            self.stats[system],
            _reduce,
            METRICS,
            per_unit_means={name: 28 + i for i, name in enumerate(ROUGE_METRICS)},
        )

    def per_label(self, system: str, intervals: Intervals) -> None:
        return None

    def features(self) -> list[FeatureValues]:
        s = self.systems
        return [
            shared_feature(
                "source_length", "numeric", "tokens in the source", token_counts(self.sources), s
            ),
            shared_feature(
                "reference_length",
                "numeric",
                "tokens in the reference",
                token_counts(self.references),
                s,
            ),
            per_system_feature(
                "hypothesis_length",
                "numeric",
                "tokens in the system's output",
                {name: token_counts(h) for name, h in self.hypotheses.items()},
            ),
            *user_features(self.options, self.n_examples, s),
        ]

    def confusion(self, system: str) -> None:
        return None

    def calibration_inputs(self, system: str) -> None:
        return None

    def unit_losses(self, system: str) -> LossUnits:
        """Per segment ``1 - chrF / 100``: sentence BLEU is too noisy to rank segments by."""
        with np.errstate(divide="ignore", invalid="ignore"):
            chrf = _reduce(self.stats[system])["chrf"]
        loss = 1.0 - np.nan_to_num(chrf, nan=0.0) / 100.0
        return LossUnits("example", loss, False, np.arange(self.n_examples), "1 - chrF/100")

    def describe(self, system: str, level: Level, unit: int) -> dict[str, Any]:
        return {
            "index": unit,
            "text": self.sources[unit],
            "gold": self.references[unit],
            "prediction": self.hypotheses[system][unit],
        }


class GenerationTask:
    """Machine translation and summarisation."""

    name = "generation"
    aliases = (
        "conditional-generation",
        "machine-translation",
        "translation",
        "summarization",
        "summarisation",
    )
    description = "conditional generation: corpus BLEU, chrF, ROUGE-1/2/L"

    def load(self, data: Any, systems: Mapping[str, Any], options: TaskOptions) -> GenerationData:
        columns = read_tsv(data, ("source", "reference"), "data")
        n = len(columns["reference"])
        hypotheses: dict[str, list[str]] = {}
        for name, source in systems.items():
            lines = read_record_lines(source, f"system {name!r}", allow_empty=True)
            if len(lines) != n:
                raise DataError(
                    f"system {name!r} file {str(source)!r} has {len(lines):,} lines but the data "
                    f"{str(data)!r} has {n:,} segments; write one hypothesis per line, in data order"
                )
            hypotheses[name] = lines
        return GenerationData(columns["source"], columns["reference"], hypotheses, options)


register_task(GenerationTask())
