"""ROUGE-1, ROUGE-2 and ROUGE-L F-measures (Lin, 2004), averaged over examples.

Tokenisation follows Google's ``rouge-score`` package without stemming: lower-case, every
character outside ``[a-z0-9]`` becomes a space, split on whitespace. ROUGE-N counts clipped
n-gram overlaps; ROUGE-L uses the longest common subsequence of the two token sequences.
``P = overlap / hypothesis units``, ``R = overlap / reference units``, ``F = 2PR / (P + R)``
(0 when either side is empty). Scores are fractions in [0, 1], the corpus score is the mean of
the per-example F (as ``rouge-score`` reports it), so a t-interval is valid for them.

>>> rouge_scores(["the cat sat"], ["the cat sat down"])[0].round(4).tolist()
[0.8571, 0.8, 0.8571]
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

__all__ = ["ROUGE_METRICS", "rouge_scores", "rouge_tokens"]

FloatArray = NDArray[np.float64]
ROUGE_METRICS = ("rouge1", "rouge2", "rougeL")

_NON_ALPHANUMERIC = re.compile(r"[^a-z0-9]+")


def rouge_tokens(text: str) -> list[str]:
    """``rouge-score``'s default tokens: lower-cased alphanumeric runs."""
    return _NON_ALPHANUMERIC.sub(" ", text.lower()).split()


def _f_measure(overlap: float, hyp_units: int, ref_units: int) -> float:
    if overlap == 0 or hyp_units == 0 or ref_units == 0:
        return 0.0
    precision = overlap / hyp_units
    recall = overlap / ref_units
    return 2.0 * precision * recall / (precision + recall)


def _ngram_f(hyp: list[str], ref: list[str], n: int) -> float:
    hyp_counts = Counter(tuple(hyp[i : i + n]) for i in range(len(hyp) - n + 1))
    ref_counts = Counter(tuple(ref[i : i + n]) for i in range(len(ref) - n + 1))
    overlap = sum((hyp_counts & ref_counts).values())
    return _f_measure(overlap, sum(hyp_counts.values()), sum(ref_counts.values()))


def _lcs_length(a: list[str], b: list[str]) -> int:
    if not a or not b:
        return 0
    previous = [0] * (len(b) + 1)
    for token in a:
        current = [0]
        for j, other in enumerate(b):
            current.append(previous[j] + 1 if token == other else max(previous[j + 1], current[j]))
        previous = current
    return previous[-1]


def rouge_scores(hypotheses: Sequence[str], references: Sequence[str]) -> FloatArray:
    """Per-example ``[rouge1, rouge2, rougeL]`` F-measures."""
    out = np.zeros((len(hypotheses), 3))
    for row, (hypothesis, reference) in enumerate(zip(hypotheses, references, strict=True)):
        hyp, ref = rouge_tokens(hypothesis), rouge_tokens(reference)
        out[row, 0] = _ngram_f(hyp, ref, 1)
        out[row, 1] = _ngram_f(hyp, ref, 2)
        out[row, 2] = _f_measure(_lcs_length(hyp, ref), len(hyp), len(ref))
    return out
