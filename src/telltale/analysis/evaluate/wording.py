"""Plain-language names of metrics, bucket conditions and numbers, for findings and reports.

A bucket or slice reads as a noun phrase: a head noun (``sentences``, ``spans``, ``LOC spans``,
``rows``) and qualifiers, one per condition, e.g. ``MISC spans of 3–4 tokens in sentences of
23–124 tokens``. Built-in features have their own qualifier; any other feature reads
``with age 18–30`` (numeric) or ``with region = north`` (categorical).

>>> phrase([("span_label", "LOC"), ("span_length", "[3, 4]")], "span", "ner")
'LOC spans of 3–4 tokens'
>>> phrase([("sentence_length", "[1, 6)")], "example", "ner")
'sentences of 1 to under 6 tokens'
>>> phrase([("region", "north"), ("age", "[18, 30]")], "example", "tabular-classification")
'rows with region = north, with age 18–30'
>>> signed_points("f1", -0.0213), metric_label("exact_match")
('−2.13 points', 'exact match')
"""

from __future__ import annotations

import re
from collections.abc import Sequence

__all__ = [
    "FRACTION_METRICS",
    "metric_label",
    "phrase",
    "range_text",
    "signed_points",
    "unit_noun",
    "value_text",
]

FRACTION_METRICS = frozenset(
    {
        "accuracy",
        "f1",
        "precision",
        "recall",
        "f1_macro",
        "precision_macro",
        "recall_macro",
        "exact_match",
        "rouge1",
        "rouge2",
        "rougeL",
    }
)
"""Metrics on a 0–1 scale: differences are stated in points (× 100)."""

_LABELS = {
    "f1": "F1",
    "f1_macro": "macro F1",
    "precision_macro": "macro precision",
    "recall_macro": "macro recall",
    "exact_match": "exact match",
    "bleu": "BLEU",
    "chrf": "chrF",
    "rouge1": "ROUGE-1",
    "rouge2": "ROUGE-2",
    "rougeL": "ROUGE-L",
    "mae": "MAE",
    "rmse": "RMSE",
    "mape": "MAPE",
    "r2": "R²",
    "ece": "ECE",
}

_EXAMPLE_NOUNS = {
    "ner": "sentences",
    "generation": "segments",
    "extractive-qa": "questions",
    "tabular-classification": "rows",
    "tabular-regression": "rows",
    "text-pair-classification": "pairs",
    "text-classification": "texts",
}

_CASES = {
    "lower": "lower case",
    "all_caps": "all caps",
    "title": "title case",
    "mixed": "mixed case",
}

# feature -> (qualifier when the head noun is the example noun, qualifier on spans)
_QUALIFIERS = {
    "sentence_length": ("of {r} tokens", "in sentences of {r} tokens"),
    "entity_density": ("with entity density {r}", "in sentences with entity density {r}"),
    "span_length": ("with spans of {r} tokens", "of {r} tokens"),
    "span_characters": ("with spans of {r} characters", "of {r} characters"),
    "span_position": ("with spans at relative position {r}", "at relative position {r}"),
    "span_capitalisation": ("with spans in {case}", "in {case}"),
    "text_length": ("of {r} tokens", "of {r} tokens"),
    "text1_length": ("whose first text has {r} tokens", "whose first text has {r} tokens"),
    "text2_length": ("whose second text has {r} tokens", "whose second text has {r} tokens"),
    "similarity": ("with token overlap {r}", "with token overlap {r}"),
    "length_ratio": ("with length ratio {r}", "with length ratio {r}"),
    "label": ("labelled {b}", "labelled {b}"),
    "confidence": ("predicted with confidence {r}", "predicted with confidence {r}"),
    "question_length": ("of {r} tokens", "of {r} tokens"),
    "context_length": ("with contexts of {r} tokens", "with contexts of {r} tokens"),
    "answer_length": ("with answers of {r} tokens", "with answers of {r} tokens"),
    "source_length": ("with sources of {r} tokens", "with sources of {r} tokens"),
    "reference_length": ("with references of {r} tokens", "with references of {r} tokens"),
    "hypothesis_length": ("with outputs of {r} tokens", "with outputs of {r} tokens"),
}

_SINGULAR = re.compile(r"(?<![\w.])(1) (token|character)s\b")
_CLOSED = re.compile(r"^\[(?P<a>[^,\]]+), (?P<b>[^\]\)]+)\]$")
_HALF_OPEN = re.compile(r"^\[(?P<a>[^,\]]+), (?P<b>[^\]\)]+)\)$")


def metric_label(metric: str) -> str:
    """``"F1"``, ``"accuracy"``, ``"BLEU"``, ``"ROUGE-L"``..."""
    return _LABELS.get(metric, metric.replace("_", " "))


def unit_noun(task: str, level: str) -> str:
    """What the units are called: ``spans``, ``sentences``, ``rows``, ``examples``."""
    return "spans" if level == "span" else _EXAMPLE_NOUNS.get(task, "examples")


def range_text(bucket: str) -> str:
    """A bucket label as text: ``[3, 4]`` → ``3–4``, ``[1, 6)`` → ``1 to under 6``."""
    closed = _CLOSED.match(bucket)
    if closed:
        a, b = closed.group("a"), closed.group("b")
        return a if a == b else f"{a}–{b}"
    half = _HALF_OPEN.match(bucket)
    if half:
        return f"{half.group('a')} to under {half.group('b')}"
    if bucket.startswith("< "):
        return f"under {bucket[2:]}"
    if bucket.startswith("> "):
        return f"over {bucket[2:]}"
    return bucket


def phrase(conditions: Sequence[tuple[str, str]], level: str, task: str) -> str:
    """A conjunction of ``(feature, bucket)`` conditions as a noun phrase (module docstring)."""
    noun = unit_noun(task, level)
    head = noun
    qualifiers = []
    for feature, bucket in conditions:
        if feature == "span_label" and level == "span":
            head = f"{bucket} {noun}"
            continue
        if feature == "span_label":
            qualifiers.append(f"with {bucket} spans")
            continue
        template = _QUALIFIERS.get(feature)
        if template is None:
            ranged = range_text(bucket)
            qualifiers.append(
                f"with {feature} = {bucket}" if ranged == bucket else f"with {feature} {ranged}"
            )
            continue
        text = template[1 if level == "span" else 0]
        qualifiers.append(
            text.format(r=range_text(bucket), b=bucket, case=_CASES.get(bucket, bucket))
        )
    if not qualifiers:
        return head
    joined = qualifiers[0]
    for qualifier in qualifiers[1:]:
        joined += (", " if qualifier.startswith("with") else " ") + qualifier
    return _SINGULAR.sub(r"\1 \2", f"{head} {joined}")


def signed_points(metric: str, difference: float) -> str:
    """A difference with its sign (a true minus), in points for 0–1 metrics."""
    if metric in FRACTION_METRICS:
        value, unit = difference * 100, " points"
    else:
        value, unit = difference, ""
    digits = 2 if abs(value) < 100 else 0
    sign = "+" if value > 0 else "−" if value < 0 else "±"
    return f"{sign}{abs(value):.{digits}f}{unit}"


def value_text(metric: str, value: float) -> str:
    """A metric value: 0–1 metrics with three decimals, others with two."""
    return f"{value:.3f}" if metric in FRACTION_METRICS else f"{value:.2f}"
