"""Pairs of bucket conditions compared between systems: where does the better system lose?

A single bucket rarely says it all: the issue's "flair is better overall but not on LOC spans
of 3+ tokens" is a *conjunction* of two buckets (``span_label = LOC`` and ``span_length =
[3, 6]``). :func:`conjunction_groups` builds, for every pair of features of the same level
and every pair of their buckets, each system's units in both buckets:

- example features: the examples in both buckets;
- span features (NER): the span units whose gold span is in both buckets on the gold side,
  and whose predicted span is in both on the predicted side — the same rule as one span
  bucket, so the conjunction's F1 is what seqeval gives on those spans.

Conjunctions smaller than ``min_size`` units (for any system) are left out, and of the rest
only the ``MAX_CONJUNCTIONS`` (400) largest are compared. The comparison
then tests them like buckets (paired bootstrap interval, randomisation p-value) in a family
of their own under Benjamini–Hochberg, and the findings name a significant *reversal* — the
overall loser significantly better on a conjunction — when it is the most important one.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from .scoring import Selection
from .tasks.base import Level

__all__ = ["MAX_CONJUNCTIONS", "Conjunction", "conjunction_groups", "conjunction_key"]

MAX_CONJUNCTIONS = 400
"""At most this many conjunctions are compared (the largest), whatever the number of features."""


@dataclass(frozen=True)
class Conjunction:
    """Two bucket conditions of features of one level."""

    conditions: tuple[tuple[str, str], tuple[str, str]]
    level: Level

    @property
    def key(self) -> str:
        return conjunction_key(self.conditions)


def conjunction_key(conditions: Sequence[tuple[str, str]]) -> str:
    """The key of a conjunction's terms: ``"feature\\tbucket\\tfeature\\tbucket"``."""
    return "\t".join(part for condition in conditions for part in condition)


def conjunction_groups(
    systems: Sequence[str],
    selections: Mapping[tuple[str, str], Mapping[str, Selection]],
    levels: Mapping[str, Level],
    *,
    min_size: int,
    max_groups: int = MAX_CONJUNCTIONS,
) -> tuple[list[Conjunction], dict[tuple[str, str], Selection]]:
    """Every conjunction of two buckets of same-level features, and each system's units in it.

    With many features, only the ``max_groups`` largest conjunctions (by their smallest size
    over the systems) are kept, in the order they were found, to bound the comparison's work.
    Sizes are counted first (for example features, one ``bincount`` of the joint bucket code
    per pair of features) and only the kept conjunctions' units are gathered.
    """
    candidates: list[tuple[Conjunction, int]] = []
    codes = _example_codes(systems, selections, levels)
    for first, second in itertools.combinations(list(levels), 2):
        level = levels[first]
        if levels[second] != level:
            continue
        buckets = (list(selections[(systems[0], first)]), list(selections[(systems[0], second)]))
        if level == "example":
            counts = np.min(
                [
                    _pair_counts(codes[(system, first)], codes[(system, second)], buckets)
                    for system in systems
                ],
                axis=0,
            )
            sizes = {
                (b1, b2): int(counts[i, j])
                for (i, b1), (j, b2) in itertools.product(
                    enumerate(buckets[0]), enumerate(buckets[1])
                )
            }
        else:
            sizes = {
                (b1, b2): min(
                    len(_both(selections[(s, first)][b1], selections[(s, second)][b2]).rows)
                    for s in systems
                )
                for b1, b2 in itertools.product(*buckets)
            }
        for (b1, b2), size in sizes.items():
            if size >= min_size:
                candidates.append((Conjunction(((first, b1), (second, b2)), level), size))
    if len(candidates) > max_groups:
        order = np.argsort(-np.asarray([size for _, size in candidates]), kind="stable")
        candidates = [candidates[i] for i in np.sort(order[:max_groups])]
    found = [conjunction for conjunction, _ in candidates]
    chosen: dict[tuple[str, str], Selection] = {}
    for conjunction in found:
        (first, b1), (second, b2) = conjunction.conditions
        for system in systems:
            chosen[(system, conjunction.key)] = _both(
                selections[(system, first)][b1], selections[(system, second)][b2]
            )
    return found, chosen


def _example_codes(
    systems: Sequence[str],
    selections: Mapping[tuple[str, str], Mapping[str, Selection]],
    levels: Mapping[str, Level],
) -> dict[tuple[str, str], NDArray[np.intp]]:
    """Each example's bucket index per (system, example feature); -1: in no bucket."""
    out: dict[tuple[str, str], NDArray[np.intp]] = {}
    for feature, level in levels.items():
        if level != "example":
            continue
        for system in systems:
            buckets = selections[(system, feature)]
            size = 1 + max((int(s.rows.max(initial=-1)) for s in buckets.values()), default=-1)
            code = np.full(size, -1, dtype=np.intp)
            for index, selection in enumerate(buckets.values()):
                code[selection.rows] = index
            out[(system, feature)] = code
    return out


def _pair_counts(
    first: NDArray[np.intp], second: NDArray[np.intp], buckets: tuple[list[str], list[str]]
) -> NDArray[np.int64]:
    """Examples per pair of buckets, ``(len(buckets[0]), len(buckets[1]))``."""
    size = max(len(first), len(second))
    one = np.full(size, -1, dtype=np.intp)
    two = np.full(size, -1, dtype=np.intp)
    one[: len(first)] = first
    two[: len(second)] = second
    both = (one >= 0) & (two >= 0)
    width = len(buckets[1])
    joint = one[both] * width + two[both]
    counts = np.bincount(joint, minlength=len(buckets[0]) * width)
    return counts.reshape(len(buckets[0]), width)


def _both(one: Selection, two: Selection) -> Selection:
    """The units in both selections: rows for examples, both sides for span units."""
    if one.gold_side is None or two.gold_side is None:
        # rows are sorted and distinct: a mask of the first keeps the order of the second
        size = int(max(one.rows.max(initial=-1), two.rows.max(initial=-1))) + 1
        inside = np.zeros(size, dtype=bool)
        inside[one.rows] = True
        return Selection(two.rows[inside[two.rows]])
    assert one.predicted_side is not None and two.predicted_side is not None
    size = int(max(one.rows.max(initial=-1), two.rows.max(initial=-1))) + 1
    gold = np.zeros((2, size), dtype=bool)
    predicted = np.zeros((2, size), dtype=bool)
    for i, selection in enumerate((one, two)):
        assert selection.gold_side is not None and selection.predicted_side is not None
        gold[i, selection.rows] = selection.gold_side
        predicted[i, selection.rows] = selection.predicted_side
    gold_both = gold[0] & gold[1]
    predicted_both = predicted[0] & predicted[1]
    rows = np.flatnonzero(gold_both | predicted_both)
    return Selection(rows, gold_both[rows], predicted_both[rows])
