"""Span precision, recall and F1 (exact boundaries and type), micro and per type.

A predicted span is a true positive when a gold span of the same sentence has the same start,
end and type — the CoNLL ``conlleval`` definition that ``seqeval`` implements. The per-sentence
statistics are ``[tp, predicted, gold]`` followed by the same three counts for every type, so
micro and per-type scores and their bootstrap intervals all come from column sums. Ratios with
a zero denominator are 0 (as in ``seqeval``); ``f1_macro`` is the mean of the per-type F1.

>>> stats = span_statistics([[("PER", 0, 2)]], [[("PER", 0, 2), ("LOC", 3, 4)]], ["LOC", "PER"])
>>> values = span_metrics(stats.sum(axis=0, keepdims=True), ["LOC", "PER"])
>>> round(float(values["f1"][0]), 4), float(values["recall"][0])
(0.6667, 1.0)
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

__all__ = ["Span", "per_type_name", "span_metrics", "span_statistics"]

FloatArray = NDArray[np.float64]
Span = tuple[str, int, int]


def per_type_name(metric: str, label: str) -> str:
    """The key of a per-type metric: ``"f1[LOC]"``."""
    return f"{metric}[{label}]"


def span_statistics(
    gold: Sequence[Sequence[Span]], predicted: Sequence[Sequence[Span]], types: Sequence[str]
) -> FloatArray:
    """Per-sentence ``[tp, predicted, gold, (tp_t, predicted_t, gold_t) for t in types]``."""
    index = {t: i for i, t in enumerate(types)}
    out = np.zeros((len(gold), 3 + 3 * len(types)))
    for row, (gold_spans, predicted_spans) in enumerate(zip(gold, predicted, strict=True)):
        gold_set = set(gold_spans)
        for span in gold_spans:
            out[row, 5 + 3 * index[span[0]]] += 1
        for span in predicted_spans:
            column = 3 + 3 * index[span[0]]
            out[row, column + 1] += 1
            if span in gold_set:
                out[row, column] += 1
        out[row, 0] = out[row, 3::3].sum()
        out[row, 1] = len(predicted_spans)
        out[row, 2] = len(gold_spans)
    return out


def _ratio(numerator: FloatArray, denominator: FloatArray) -> FloatArray:
    out = np.zeros(np.broadcast(numerator, denominator).shape)
    np.divide(numerator, denominator, out=out, where=denominator > 0)
    return out


def span_metrics(sums: FloatArray, types: Sequence[str]) -> dict[str, FloatArray]:
    """Micro, macro and per-type precision/recall/F1 from column sums ``(m, 3 + 3 * types)``."""
    tp, predicted, gold = sums[:, 0], sums[:, 1], sums[:, 2]
    out = {
        "precision": _ratio(tp, predicted),
        "recall": _ratio(tp, gold),
        "f1": _ratio(2.0 * tp, predicted + gold),
    }
    type_f1 = []
    for i, label in enumerate(types):
        t_tp, t_pred, t_gold = sums[:, 3 + 3 * i], sums[:, 4 + 3 * i], sums[:, 5 + 3 * i]
        out[per_type_name("precision", label)] = _ratio(t_tp, t_pred)
        out[per_type_name("recall", label)] = _ratio(t_tp, t_gold)
        f1 = _ratio(2.0 * t_tp, t_pred + t_gold)
        out[per_type_name("f1", label)] = f1
        type_f1.append(f1)
    out["f1_macro"] = np.mean(type_f1, axis=0) if type_f1 else np.zeros(len(sums))
    return out
