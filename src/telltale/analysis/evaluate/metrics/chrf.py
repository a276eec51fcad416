"""chrF (Popović, 2015) as sacreBLEU computes it by default: character n-grams 1-6, beta 2.

Whitespace is removed before n-grams are taken; matches are clipped counts; hypothesis n-grams
of an order the reference is too short to have are not counted (as in sacreBLEU). For the corpus
score the per-order counts are summed over segments, precision and recall are averaged over the
orders where both hypothesis and reference have n-grams, and
``chrF = (1 + b^2) P R / (b^2 P + R)`` on a 0-100 scale.

>>> stats = chrf_statistics(["the cat"], ["the cat"])
>>> float(chrf_from_sums(stats.sum(axis=0, keepdims=True))[0])
100.0
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

__all__ = ["BETA", "CHAR_ORDER", "chrf_from_sums", "chrf_statistics"]

FloatArray = NDArray[np.float64]

CHAR_ORDER = 6
BETA = 2.0


def _char_ngrams(text: str, n: int) -> Counter[str]:
    return Counter(text[i : i + n] for i in range(len(text) - n + 1))


def chrf_statistics(hypotheses: Sequence[str], references: Sequence[str]) -> FloatArray:
    """Per-segment ``[hypothesis, reference, matched]`` n-gram counts for orders 1..6."""
    out = np.zeros((len(hypotheses), 3 * CHAR_ORDER))
    for row, (hypothesis, reference) in enumerate(zip(hypotheses, references, strict=True)):
        hyp = "".join(hypothesis.split())
        ref = "".join(reference.split())
        for n in range(1, CHAR_ORDER + 1):
            hyp_counts = _char_ngrams(hyp, n)
            ref_counts = _char_ngrams(ref, n)
            matched = sum(min(c, ref_counts[g]) for g, c in hyp_counts.items() if g in ref_counts)
            column = 3 * (n - 1)
            ref_total = max(0, len(ref) - n + 1)
            # as sacreBLEU: hypothesis n-grams of an order the reference lacks are not counted
            out[row, column] = max(0, len(hyp) - n + 1) if ref_total else 0
            out[row, column + 1] = ref_total
            out[row, column + 2] = matched
    return out


def chrf_from_sums(sums: FloatArray) -> FloatArray:
    """Corpus chrF (0-100) of each row of summed statistics ``(m, 18)``."""
    hyp = sums[:, 0::3]
    ref = sums[:, 1::3]
    matched = sums[:, 2::3]
    both = (hyp > 0) & (ref > 0)
    precision = np.where(both, matched / np.where(hyp > 0, hyp, 1.0), 0.0)
    recall = np.where(both, matched / np.where(ref > 0, ref, 1.0), 0.0)
    orders = both.sum(axis=1)
    safe_orders = np.where(orders > 0, orders, 1)
    avg_precision = precision.sum(axis=1) / safe_orders
    avg_recall = recall.sum(axis=1) / safe_orders
    factor = BETA**2
    denominator = factor * avg_precision + avg_recall
    score = np.where(
        denominator > 0,
        (1 + factor) * avg_precision * avg_recall / np.where(denominator > 0, denominator, 1.0),
        0.0,
    )
    return 100.0 * score
