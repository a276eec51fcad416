"""Features of texts and spans that explain where a system errs.

Tokens are whitespace-separated (the ExplainaBoard data is pre-tokenised), so lengths count
what a reader sees. Capitalisation uses ExplainaBoard's rule, so buckets can be compared with its
reports: ``lower`` (no upper-case letter), ``all_caps`` (no lower-case letter), ``title`` (the
first character is upper-case) and ``mixed`` (anything else, e.g. ``iPhone``).

>>> capitalisation("New York"), capitalisation("EU"), capitalisation("iPhone")
('title', 'all_caps', 'mixed')
>>> token_overlap("a man plays", "a man sings")
0.5
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

__all__ = ["capitalisation", "length_ratio", "token_counts", "token_overlap"]

FloatArray = NDArray[np.float64]


def token_counts(texts: Sequence[str]) -> FloatArray:
    """Whitespace tokens per text."""
    return np.array([len(text.split()) for text in texts], dtype=np.float64)


def capitalisation(text: str) -> str:
    """``lower``, ``all_caps``, ``title`` or ``mixed`` (ExplainaBoard's four classes)."""
    if text.lower() == text:
        return "lower"
    if text.upper() == text:
        return "all_caps"
    if text[0].upper() == text[0]:
        return "title"
    return "mixed"


def token_overlap(first: str, second: str) -> float:
    """Jaccard overlap of the lower-cased token sets (0 when both are empty)."""
    a, b = set(first.lower().split()), set(second.lower().split())
    union = a | b
    return len(a & b) / len(union) if union else 0.0


def length_ratio(numerator: FloatArray, denominator: FloatArray) -> FloatArray:
    """``numerator / denominator``, NaN (missing) where the denominator is 0."""
    out = np.full(len(numerator), np.nan)
    np.divide(numerator, denominator, out=out, where=denominator > 0)
    return out
