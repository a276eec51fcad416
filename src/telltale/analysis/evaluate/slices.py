"""Automatic discovery of underperforming slices: conjunctions of bucket conditions.

A *slice* is a conjunction of up to ``max_conditions`` conditions ``feature = bucket`` (the
buckets of the evaluation, shared by all systems), e.g. ``span_label = MISC & span_length =
[3, 4]``. For every system the search scores every slice of at least ``min_size`` units by the
SliceLine score (Sagadeeva & Boehm, SIGMOD 2021)::

    score = w (e_S / e - 1) - (1 - w) (n / |S| - 1)

where ``e_S`` is the mean loss in the slice, ``e`` the mean loss overall, ``n`` the units and
``w = error_weight`` (0.95): high error pays, small size costs. The units are what the task
scores one by one — examples, or for NER span units (gold or predicted spans; a sentence
feature of a span is its sentence's) — and the loss is 0/1 (misclassified, or a span unit that
is not a true positive) or continuous (absolute error, 1 - F1, 1 - chrF/100).

**Search.** The units are first folded into their distinct *profiles* (the tuple of their
buckets, with counts and loss sums), so the search costs the same for 10,000 or 10,000,000
rows with few features. Level 1 is every bucket; level 2 every pair of features, level 3 every
triple, each computed at once for all bucket combinations by one ``bincount`` of the joint
bucket code over the profiles. With many features, levels 2 and 3 combine only the
``max_features_deep`` features whose best single bucket scores highest (8 at level 3), which
bounds the work at ~120 ``bincount`` passes. A condition that does not shrink its parent (same
units) is dropped.

**Significance.** Each candidate's loss is tested against the rest of the units, one-sided
(the slice is worse): for 0/1 losses the exact hypergeometric (one-sided Fisher) test, for
continuous losses Welch's t-test. All candidates of a system form one family, adjusted by
Benjamini–Hochberg; a slice is a *discovery* when its adjusted p-value is at most ``alpha``.
Slices overlap heavily, but one-sided tests of overlapping slices are positively correlated,
the case where Benjamini–Hochberg keeps its guarantee. Units are treated as independent (for
NER, spans of one sentence are not quite).

**Merging** (:mod:`.slice_merging`). Discoveries overlap: the parents of a bad conjunction
are worse than average only because they contain it. They are reduced to the slices that
explain them, best score first, and every discovery that adds nothing is listed under the
``merged`` of the kept slice it overlaps most; a planted ``f0 = v1 & f2 = v3`` is reported as
such, not as the diluted ``f2 = v3`` that the SliceLine size term prefers.

>>> rng = np.random.default_rng(0)
>>> colour = rng.integers(0, 3, 4000)
>>> size = rng.integers(0, 2, 4000)
>>> loss = (rng.random(4000) < np.where((colour == 2) & (size == 1), 0.5, 0.1)).astype(float)
>>> found = find_slices(loss, {"colour": (colour, ["red", "green", "blue"]),
...                            "size": (size, ["small", "large"])}, binary=True)
>>> found[0].description
'colour = blue & size = large'
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from telltale.errors import ConfigError
from telltale.schema.result import Result

from .significance import benjamini_hochberg
from .slice_merging import Candidates, Profiles, merge_slices, weighted_counts

__all__ = ["Slice", "SliceSearch", "describe", "find_slices"]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]

_DEEP_LEVEL_3 = 8
_MAX_EXAMINED = 300


@dataclass(frozen=True)
class SliceSearch:
    """Settings of the slice search (see the module docstring).

    ``refinement_gain``: a kept slice's refinement is listed on its own only when its loss is
    at least this much (relative) above the kept slice's, besides being significantly worse
    than the rest of it.
    """

    max_conditions: int = 3
    min_size: int | None = None
    alpha: float = 0.05
    max_slices: int = 10
    overlap: float = 0.5
    error_weight: float = 0.95
    max_features_deep: int = 12
    refinement_gain: float = 0.10

    def __post_init__(self) -> None:
        if self.max_conditions not in (1, 2, 3):
            raise ConfigError(f"max_conditions={self.max_conditions!r}; pass 1, 2 or 3")
        if self.min_size is not None and self.min_size < 1:
            raise ConfigError(f"min_size={self.min_size!r}; pass a positive int or None")
        if not 0 < self.alpha < 1:
            raise ConfigError(f"alpha={self.alpha!r} is not strictly between 0 and 1")
        if not 0 < self.overlap <= 1:
            raise ConfigError(f"overlap={self.overlap!r} is not in (0, 1]")
        if not 0 <= self.error_weight <= 1:
            raise ConfigError(f"error_weight={self.error_weight!r} is not in [0, 1]")
        if self.max_slices < 1:
            raise ConfigError(f"max_slices={self.max_slices!r}; pass a positive int such as 10")
        if self.refinement_gain < 0:
            raise ConfigError(f"refinement_gain={self.refinement_gain!r}; pass e.g. 0.1")

    def minimum_size(self, n: int) -> int:
        """``min_size``, or by default 1% of the units but at least 20."""
        return self.min_size if self.min_size is not None else max(20, math.ceil(0.01 * n))


@dataclass(kw_only=True)
class Slice(Result):
    """One underperforming slice of one system."""

    system: str | None
    conditions: list[dict[str, str]]
    description: str
    n: int
    share: float
    loss: float
    rest_loss: float
    score: float
    p_value: float
    q_value: float
    merged: list[str] = field(default_factory=list)
    level: str = "example"
    loss_name: str = "error rate"
    metric: dict[str, Any] | None = None
    members: IntArray | None = field(default=None, repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        out = super().to_dict()
        out.pop("members", None)
        return out


def describe(conditions: Sequence[tuple[str, str]]) -> str:
    """``"feature = bucket & other = bucket"``."""
    return " & ".join(f"{feature} = {bucket}" for feature, bucket in conditions)


def find_slices(
    loss: Any,
    features: Mapping[str, tuple[Any, Sequence[str]]],
    *,
    binary: bool,
    search: SliceSearch | None = None,
    system: str | None = None,
    loss_name: str = "error rate",
) -> list[Slice]:
    """The worst significant slices of units with ``loss``, best first (module docstring).

    ``features`` maps a feature name to ``(codes, labels)``: each unit's bucket index into
    ``labels`` (negative: no bucket). ``binary`` says the loss is 0/1 (exact hypergeometric
    test) rather than continuous (Welch's t-test).
    """
    search = search or SliceSearch()
    losses = np.asarray(loss, dtype=np.float64)
    n = len(losses)
    names = list(features)
    codes = []
    widths = []
    for name in names:
        values, labels = features[name]
        array = np.asarray(values, dtype=np.intp)
        if len(array) != n:
            raise ConfigError(f"feature {name!r} has {len(array)} codes for {n} units")
        codes.append(np.where(array < 0, len(labels), array))
        widths.append(len(labels) + 1)  # the extra code holds units without a bucket
    if binary and not np.isin(losses, (0.0, 1.0)).all():
        raise ConfigError("binary=True needs losses of 0 or 1; pass binary=False")
    if n == 0 or float(losses.sum()) <= 0 or not names:
        return []
    profiles = Profiles.fold(codes, widths, losses, binary)
    candidates = _enumerate(profiles, search, search.minimum_size(n))
    if not candidates.conditions:
        return []
    p_values = profiles.worse_p(candidates.sizes, candidates.sums, candidates.squares)
    q_values = np.array(
        [np.nan if q is None else q for q in benjamini_hochberg(list(p_values))], dtype=float
    )
    scores = _score(candidates.sizes, candidates.sums, n, profiles.total, search.error_weight)
    rest = (profiles.total - candidates.sums) / np.maximum(n - candidates.sizes, 1)
    discovered = np.flatnonzero(
        (candidates.sums / candidates.sizes > rest) & (q_values <= search.alpha)
    )
    levels = np.array([len(c) for c in candidates.conditions])
    order = discovered[np.lexsort((levels[discovered], -scores[discovered]))][:_MAX_EXAMINED]
    kept, merged = merge_slices(
        profiles,
        candidates,
        [int(i) for i in order],
        # leftovers of slices must stand on family-wise (Bonferroni) evidence, see .slice_merging
        threshold=search.alpha / max(1, int(np.isfinite(p_values).sum())),
        search=search,
    )

    def named(index: int) -> list[tuple[str, str]]:
        return [
            (names[f], _label(features[names[f]][1], code))
            for f, code in candidates.conditions[index]
        ]

    out = []
    for index in kept[: search.max_slices]:
        out.append(
            Slice(
                system=system,
                conditions=[{"feature": f, "bucket": b} for f, b in named(index)],
                description=describe(named(index)),
                n=int(candidates.sizes[index]),
                share=float(candidates.sizes[index] / n),
                loss=float(candidates.sums[index] / candidates.sizes[index]),
                rest_loss=float(rest[index]),
                score=float(scores[index]),
                p_value=float(p_values[index]),
                q_value=float(q_values[index]),
                merged=[describe(named(other)) for other in merged[index]],
                loss_name=loss_name,
                members=profiles.members(candidates.conditions[index]),
            )
        )
    return out


def _label(labels: Sequence[str], code: int) -> str:
    return labels[code] if code < len(labels) else "(none)"


def _enumerate(profiles: Profiles, search: SliceSearch, minimum: int) -> Candidates:
    """Every slice of ``minimum`` units or more, level by level (module docstring)."""
    codes, widths = profiles.codes, profiles.widths
    n = profiles.n_units
    out = Candidates.empty()
    counts_by_combo: dict[tuple[int, ...], FloatArray] = {}
    best_single = np.full(len(codes), -np.inf)
    features = list(range(len(codes)))
    for level in range(1, search.max_conditions + 1):
        if level == 1:
            pool = features
        else:
            deep = (
                search.max_features_deep
                if level == 2
                else min(search.max_features_deep, _DEEP_LEVEL_3)
            )
            pool = sorted(np.argsort(-best_single, kind="stable")[:deep].tolist())
        for combo in itertools.combinations(pool, level):
            joint = np.zeros(profiles.n_profiles, dtype=np.intp)
            size = 1
            for f in combo:
                joint = joint * widths[f] + codes[f]
                size *= widths[f]
            counts = weighted_counts(joint, profiles.counts, size)
            counts_by_combo[combo] = counts
            cells = np.flatnonzero((counts >= minimum) & (counts < n))
            if len(cells) == 0:
                continue
            parts = _decode(cells, [widths[f] for f in combo])
            # drop the "no bucket" code and conditions that do not shrink their parent
            valid = np.ones(len(cells), dtype=bool)
            for position, f in enumerate(combo):
                valid &= parts[position] < widths[f] - 1
            if level > 1:
                for drop in range(level):
                    parent = combo[:drop] + combo[drop + 1 :]
                    parent_parts = parts[:drop] + parts[drop + 1 :]
                    parent_code = np.zeros(len(cells), dtype=np.intp)
                    for f, part in zip(parent, parent_parts, strict=True):
                        parent_code = parent_code * widths[f] + part
                    valid &= counts_by_combo[parent][parent_code] > counts[cells]
            cells = cells[valid]
            if len(cells) == 0:
                continue
            sums = weighted_counts(joint, profiles.sums, size)[cells]
            squares = weighted_counts(joint, profiles.squares, size)[cells]
            sizes = counts[cells]
            parts = _decode(cells, [widths[f] for f in combo])
            out.add(
                [
                    tuple((f, int(parts[p][i])) for p, f in enumerate(combo))
                    for i in range(len(cells))
                ],
                sizes,
                sums,
                squares,
            )
            if level == 1:
                best = _score(sizes, sums, n, profiles.total, search.error_weight).max()
                best_single[combo[0]] = max(best_single[combo[0]], float(best))
    return out.finish()


def _decode(cells: IntArray, widths: list[int]) -> list[IntArray]:
    """The per-feature codes of joint codes built as ``((c0 * w1) + c1) * w2 + c2``."""
    parts: list[IntArray] = []
    rest = cells.copy()
    for width in reversed(widths):
        parts.append(rest % width)
        rest = rest // width
    return parts[::-1]


def _score(sizes: FloatArray, sums: FloatArray, n: int, total: float, weight: float) -> FloatArray:
    mean = total / n
    return weight * ((sums / sizes) / mean - 1.0) - (1.0 - weight) * (n / sizes - 1.0)
