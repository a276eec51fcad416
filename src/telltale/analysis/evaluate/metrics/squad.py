"""Extractive QA exact match and F1 as the official SQuAD v1.1 evaluation script defines them.

An answer is normalised by lower-casing, removing ASCII punctuation, removing the articles
*a*, *an*, *the* and collapsing whitespace. Exact match is 1 when the normalised prediction
equals a normalised gold answer; F1 is the harmonic mean of token precision and recall (tokens
counted with multiplicity); both take the maximum over the gold answers. Scores are fractions
in [0, 1] (the script prints them times 100). The corpus scores are means over questions.

>>> normalize_answer("The  Denver Broncos!")
'denver broncos'
>>> exact_match("Broncos", ["Denver Broncos", "the Broncos"]), round(qa_f1("Denver", ["Denver Broncos"]), 4)
(1.0, 0.6667)
"""

from __future__ import annotations

import re
import string
from collections import Counter
from collections.abc import Sequence

__all__ = ["exact_match", "normalize_answer", "qa_f1"]

_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCTUATION = str.maketrans("", "", string.punctuation)


def normalize_answer(text: str) -> str:
    """Lower-case, strip punctuation and articles, collapse whitespace (SQuAD v1.1)."""
    text = text.lower().translate(_PUNCTUATION)
    return " ".join(_ARTICLES.sub(" ", text).split())


def _token_f1(prediction: str, gold: str) -> float:
    predicted_tokens = normalize_answer(prediction).split()
    gold_tokens = normalize_answer(gold).split()
    same = sum((Counter(predicted_tokens) & Counter(gold_tokens)).values())
    if same == 0:
        return 0.0
    precision = same / len(predicted_tokens)
    recall = same / len(gold_tokens)
    return 2.0 * precision * recall / (precision + recall)


def exact_match(prediction: str, golds: Sequence[str]) -> float:
    """1.0 when the normalised prediction equals any normalised gold answer, else 0.0."""
    normalised = normalize_answer(prediction)
    return float(any(normalised == normalize_answer(gold) for gold in golds))


def qa_f1(prediction: str, golds: Sequence[str]) -> float:
    """The best token F1 of the prediction against the gold answers."""
    return max((_token_f1(prediction, gold) for gold in golds), default=0.0)
