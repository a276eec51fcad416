"""Corpus BLEU (Papineni et al., 2002) as sacreBLEU computes it by default.

Defaults reproduced: the ``13a`` tokenizer of ``mteval-v13a.pl``, case-sensitive, n-grams up to
4, one reference per segment, the ``exp`` smoothing of a zero n-gram match count (NIST), the
brevity penalty ``exp(1 - r / c)`` on corpus lengths. Scores are on sacreBLEU's 0-100 scale.

Per segment the statistics are ``[matches_1..4, hypothesis n-grams_1..4, c, r]``; corpus BLEU is
a function of their sums, which is also how sacreBLEU's own significance tests resample.

>>> stats = bleu_statistics(["the cat sat on the mat"], ["the cat sat on the mat"])
>>> round(float(bleu_from_sums(stats.sum(axis=0, keepdims=True))[0]), 6)
100.0
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from functools import lru_cache

import numpy as np
from numpy.typing import NDArray

__all__ = ["MAX_ORDER", "bleu_from_sums", "bleu_statistics", "tokenize_13a"]

FloatArray = NDArray[np.float64]

MAX_ORDER = 4
_LOG_ZERO = -9999999999.0  # sacreBLEU's log(0), which makes BLEU 0 when a precision is 0

_RULES = [
    (re.compile(r"([\{-\~\[-\` -\&\(-\+\:-\@\/])"), r" \1 "),  # punctuation (not the apostrophe)
    (re.compile(r"([^0-9])([\.,])"), r"\1 \2 "),  # period and comma unless after a digit
    (re.compile(r"([\.,])([^0-9])"), r" \1 \2"),  # ... unless before a digit
    (re.compile(r"([0-9])(-)"), r"\1 \2 "),  # dash after a digit
]


@lru_cache(maxsize=2**16)
def tokenize_13a(line: str) -> str:
    """The ``13a`` tokenization (mteval-v13a): split punctuation off, keep decimals together."""
    line = line.replace("<skipped>", "").replace("-\n", "").replace("\n", " ")
    if "&" in line:
        line = (
            line.replace("&quot;", '"')
            .replace("&amp;", "&")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
        )
    line = f" {line} "
    for pattern, replacement in _RULES:
        line = pattern.sub(replacement, line)
    return " ".join(line.split())


def _ngrams(tokens: list[str]) -> Counter[tuple[str, ...]]:
    counts: Counter[tuple[str, ...]] = Counter()
    for n in range(1, MAX_ORDER + 1):
        for i in range(len(tokens) - n + 1):
            counts[tuple(tokens[i : i + n])] += 1
    return counts


def bleu_statistics(hypotheses: Sequence[str], references: Sequence[str]) -> FloatArray:
    """Per-segment ``[matches_1..4, totals_1..4, hypothesis length, reference length]``."""
    out = np.zeros((len(hypotheses), 2 * MAX_ORDER + 2))
    for row, (hypothesis, reference) in enumerate(zip(hypotheses, references, strict=True)):
        hyp_tokens = tokenize_13a(hypothesis.rstrip()).split()
        ref_tokens = tokenize_13a(reference.rstrip()).split()
        ref_counts = _ngrams(ref_tokens)
        for ngram, count in _ngrams(hyp_tokens).items():
            n = len(ngram) - 1
            out[row, MAX_ORDER + n] += count
            matched = ref_counts.get(ngram)
            if matched:
                out[row, n] += min(count, matched)
        out[row, 2 * MAX_ORDER] = len(hyp_tokens)
        out[row, 2 * MAX_ORDER + 1] = len(ref_tokens)
    return out


def bleu_from_sums(sums: FloatArray) -> FloatArray:
    """Corpus BLEU (0-100) of each row of summed statistics ``(m, 10)``."""
    correct = sums[:, :MAX_ORDER]
    total = sums[:, MAX_ORDER : 2 * MAX_ORDER]
    hyp_len = sums[:, 2 * MAX_ORDER]
    ref_len = sums[:, 2 * MAX_ORDER + 1]
    m = len(sums)
    precisions = np.zeros((m, MAX_ORDER))
    smooth = np.ones(m)
    active = np.ones(m, dtype=bool)
    for n in range(MAX_ORDER):
        active &= total[:, n] > 0  # sacreBLEU stops at the first order without n-grams
        zero = active & (correct[:, n] == 0)
        smooth[zero] *= 2.0
        safe_total = np.where(total[:, n] > 0, total[:, n], 1.0)
        precisions[:, n] = np.where(
            active,
            np.where(zero, 100.0 / (smooth * safe_total), 100.0 * correct[:, n] / safe_total),
            0.0,
        )
    logs = np.where(precisions > 0, np.log(np.where(precisions > 0, precisions, 1.0)), _LOG_ZERO)
    safe_hyp = np.where(hyp_len > 0, hyp_len, 1.0)
    brevity = np.where(
        hyp_len < ref_len, np.where(hyp_len > 0, np.exp(1.0 - ref_len / safe_hyp), 0.0), 1.0
    )
    score = brevity * np.exp(logs.sum(axis=1) / MAX_ORDER)
    return np.where(correct.sum(axis=1) > 0, score, 0.0)
