"""BIO and BIOES tag sequences: spans out of tags, and the check that a sequence is well formed.

Spans are read the way CoNLL's ``conlleval`` script (and ``seqeval``'s default mode) reads them,
so span F1 agrees with the numbers papers report: a chunk starts at ``B-``/``S-``, at an ``I-``/``E-``
that follows ``O``, ``E-`` or ``S-``, or wherever the type changes; it ends before ``B-``, ``S-``,
``O`` or a type change, and after ``E-``/``S-``. An ``I-X`` with no ``B-X`` before it therefore
*begins* a chunk (the usual repair of invalid BIO).

:func:`first_violation` finds the first tag that breaks the scheme (an ``I-`` without ``B-``,
an ``I-`` whose type differs from the chunk's, a BIOES chunk without ``E-``...). The sequence
labelling task raises on it in strict mode and counts the repairs in lenient mode.

>>> tag_spans(["B-PER", "I-PER", "O", "I-LOC"])
[('PER', 0, 2), ('LOC', 3, 4)]
>>> first_violation(["B-PER", "I-PER", "O", "I-LOC"], "bio")
(3, 'I-LOC follows O; an I- tag must continue a chunk opened by B-LOC')
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

__all__ = ["SCHEMES", "Scheme", "detect_scheme", "first_violation", "parse_tag", "tag_spans"]

Scheme = Literal["bio", "bioes"]
SCHEMES: tuple[Scheme, ...] = ("bio", "bioes")

_PREFIXES = frozenset("BIES")


def parse_tag(tag: str) -> tuple[str, str]:
    """``("B", "PER")`` for ``"B-PER"``, ``("O", "")`` for ``"O"``; :class:`ValueError` otherwise."""
    if tag == "O":
        return "O", ""
    if len(tag) > 2 and tag[1] == "-" and tag[0] in _PREFIXES:
        return tag[0], tag[2:]
    raise ValueError(
        f"{tag!r} is not a BIO/BIOES tag (expected O, B-TYPE, I-TYPE, E-TYPE or S-TYPE)"
    )


def detect_scheme(tags: Sequence[str]) -> Scheme:
    """``"bioes"`` when any tag starts with ``E-`` or ``S-``, else ``"bio"``."""
    return "bioes" if any(t[:2] in ("E-", "S-") for t in tags) else "bio"


def tag_spans(tags: Sequence[str]) -> list[tuple[str, int, int]]:
    """The ``(type, start, end)`` chunks of one sentence, ``end`` exclusive (conlleval rules)."""
    spans: list[tuple[str, int, int]] = []
    prev_prefix, prev_type, start = "O", "", 0
    for i in range(len(tags) + 1):
        prefix, kind = parse_tag(tags[i]) if i < len(tags) else ("O", "")
        if prev_prefix != "O" and (prev_prefix in "ES" or prefix in "BSO" or prev_type != kind):
            spans.append((prev_type, start, i))
        if prefix != "O" and (prefix in "BS" or prev_prefix in "ESO" or prev_type != kind):
            start = i
        prev_prefix, prev_type = prefix, kind
    return spans


def first_violation(tags: Sequence[str], scheme: Scheme) -> tuple[int, str] | None:
    """The index of the first tag that breaks ``scheme`` and why, or ``None`` when well formed."""
    prev_prefix, prev_type = "O", ""
    for i, tag in enumerate(tags):
        prefix, kind = parse_tag(tag)
        inside = prev_prefix in "BI"  # an open chunk that must continue (BIOES) or may (BIO)
        if scheme == "bio" and prefix in "ES":
            return i, f"{tag} is a BIOES tag in a BIO sequence; pass scheme='bioes'"
        if prefix in "IE" and not (inside and prev_type == kind):
            before = "the start of the sentence" if i == 0 else tags[i - 1]
            opener = f"B-{kind}"
            return i, (
                f"{tag} follows {before}; an {prefix}- tag must continue a chunk opened by {opener}"
            )
        if scheme == "bioes" and inside and prefix not in "IE":
            return i - 1, (
                f"{tags[i - 1]} is followed by {tag}; in BIOES a chunk must end with E-{prev_type}"
                f" (or be a single S-{prev_type})"
            )
        prev_prefix, prev_type = prefix, kind
    if scheme == "bioes" and prev_prefix in "BI":
        return len(tags) - 1, (
            f"{tags[-1]} ends the sentence; in BIOES a chunk must end with E-{prev_type}"
        )
    return None
