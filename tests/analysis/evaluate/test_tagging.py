"""Span extraction agrees with seqeval's conlleval rules on any tag sequence."""

from __future__ import annotations

import warnings

from hypothesis import given, settings
from hypothesis import strategies as st
from seqeval.metrics.sequence_labeling import get_entities

from telltale.analysis.evaluate.tagging import first_violation, tag_spans

TAGS = ["O", "B-PER", "I-PER", "E-PER", "S-PER", "B-LOC", "I-LOC", "E-LOC", "S-LOC"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(TAGS), max_size=12))
def test_spans_equal_seqeval_get_entities(tags: list[str]) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = [(label, start, end + 1) for label, start, end in get_entities(tags)]
    assert tag_spans(tags) == expected


@st.composite
def valid_bio(draw: st.DrawFn) -> list[str]:
    tags: list[str] = []
    for _ in range(draw(st.integers(0, 12))):
        choice = draw(st.sampled_from(["O", "B-PER", "B-LOC", "I"]))
        if choice == "I":
            tags.append(f"I-{tags[-1][2:]}" if tags and tags[-1] != "O" else "O")
        else:
            tags.append(choice)
    return tags


@settings(max_examples=200, deadline=None)
@given(valid_bio())
def test_well_formed_bio_has_no_violation_and_converts_to_bioes(tags: list[str]) -> None:
    assert first_violation(tags, "bio") is None
    bioes = list(tags)
    for label, start, end in tag_spans(tags):
        if end - start == 1:
            bioes[start] = f"S-{label}"
        else:
            bioes[end - 1] = f"E-{label}"
    assert first_violation(bioes, "bioes") is None
    assert tag_spans(bioes) == tag_spans(tags)


def test_violations_name_the_token() -> None:
    assert first_violation(["O", "I-PER"], "bio") == (
        1,
        "I-PER follows O; an I- tag must continue a chunk opened by B-PER",
    )
    assert first_violation(["B-PER", "O"], "bioes") == (
        0,
        "B-PER is followed by O; in BIOES a chunk must end with E-PER (or be a single S-PER)",
    )
    assert first_violation(["S-PER"], "bio") == (
        0,
        "S-PER is a BIOES tag in a BIO sequence; pass scheme='bioes'",
    )
