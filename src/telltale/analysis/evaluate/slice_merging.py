"""Merging discovered slices into the few that explain the rest.

The discoveries of :func:`~.slices.find_slices` overlap: when ``f0 = v1 & f2 = v3`` is bad, so
are ``f2 = v3``, ``f0 = v1`` and every slice that holds enough of it. :func:`merge_slices` walks
the discoveries general before specific (fewer conditions first, then best score first) and
keeps a slice only when it says something the kept ones do not:

1. a slice ``C`` that *refines* a kept slice ``P`` (adds conditions to it) and is sharper
   (its loss at least ``refinement_gain`` above ``P``'s) **replaces** ``P`` when ``P`` adds
   nothing beyond ``C`` — when ``P``'s units outside ``C`` are not worse than the units
   outside both, tested one-sided at the *residual bar* (below). ``C`` takes ``P``'s rank, and the walk starts again without ``P``, since what ``P`` explained may not
   be explained by ``C``;
2. otherwise, a slice whose units overlap a kept slice's with Jaccard index at least
   ``overlap`` is merged into it (it is nearly the same slice);
3. a refinement that does not replace its kept parents is kept on its own when it is both
   significantly worse than the rest of each parent (residual bar) and at least
   ``refinement_gain`` worse in loss — ``MISC spans of 13–48 characters`` next to ``MISC
   spans``; otherwise it is merged;
4. any other slice is kept when its units outside the kept slices are still significantly
   worse than the units outside all of them (residual bar) — what is left of it is a
   discovery in its own right; otherwise it is merged.

The residual bar is Bonferroni's ``alpha / m`` over the ``m`` candidates of the search,
stricter than the Benjamini–Hochberg bar at which the slices were discovered. Discoveries are
highly redundant — hundreds of slices overlap one bad conjunction — and Benjamini–Hochberg's
critical value grows with the number of discoveries, so at that bar a slice that is merely a
3-sigma fluctuation of 40,000 rows (one of thousands of candidates) could ride on the
redundant true ones. What is left of a slice once the others are accounted for must stand
on family-wise evidence.

Walking general slices first lets a broad failure (all MISC spans) be kept before its pieces
could explain it away, and rule 1 still hands its place to a conjunction that explains it.
Finally every kept slice that is not a refinement of another is checked once more against all
the others (rule 4 with everything kept, its own refinements aside): a broad slice kept early
may owe its excess to a conjunction kept later, and is then merged too.
The kept slices are ranked by SliceLine score (a replacing slice by its parent's) and the
first ``max_slices`` are reported. Every slice that was merged or replaced is listed under the
kept slice whose units it shares most, so nothing significant disappears without a trace.

The tests are computed on the units' *profiles* (:class:`Profiles`): all units with the same
buckets on every feature fall in the same slices, so a slice is a boolean mask over the
profiles and every count and loss sum is a sum over profiles.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from .significance import worse_than_rest_p

if TYPE_CHECKING:
    from .slices import SliceSearch

__all__ = ["Candidates", "Profiles", "merge_slices", "weighted_counts"]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]
BoolArray = NDArray[np.bool_]
Conditions = tuple[tuple[int, int], ...]
"""A slice as ``((feature index, bucket code), ...)``."""

_MAX_RESTARTS = 25
_MAX_JOINT = 2**62
_MASK_BYTES = 64 * 2**20


@dataclass(frozen=True)
class Profiles:
    """The units folded into their distinct bucket profiles, with counts and loss sums."""

    codes: list[IntArray]
    """Per feature, each profile's bucket code."""
    widths: list[int]
    counts: FloatArray
    sums: FloatArray
    squares: FloatArray
    inverse: IntArray
    """Each unit's profile."""
    binary: bool

    @classmethod
    def fold(
        cls, codes: Sequence[IntArray], widths: Sequence[int], losses: FloatArray, binary: bool
    ) -> Profiles:
        """Profiles of units with bucket ``codes`` per feature (each below its width)."""
        n = len(losses)
        if float(np.prod(np.asarray(widths, dtype=np.float64))) < _MAX_JOINT:
            key = np.zeros(n, dtype=np.int64)
            for code, width in zip(codes, widths, strict=True):
                key = key * width + code
            unique, inverse = np.unique(key, return_inverse=True)
            profile_codes = []
            rest = unique
            for width in reversed(widths):
                profile_codes.append((rest % width).astype(np.intp))
                rest = rest // width
            profile_codes.reverse()
        else:
            stacked = np.stack(list(codes), axis=1)
            rows, inverse = np.unique(stacked, axis=0, return_inverse=True)
            profile_codes = [rows[:, f].astype(np.intp) for f in range(len(widths))]
        inverse = np.asarray(inverse, dtype=np.intp).reshape(-1)
        size = len(profile_codes[0]) if profile_codes else 0
        return cls(
            codes=profile_codes,
            widths=list(widths),
            counts=np.bincount(inverse, minlength=size).astype(np.float64),
            sums=weighted_counts(inverse, losses, size),
            squares=weighted_counts(inverse, losses if binary else losses**2, size),
            inverse=inverse,
            binary=binary,
        )

    @property
    def n_profiles(self) -> int:
        return len(self.counts)

    @property
    def n_units(self) -> int:
        return int(self.counts.sum())

    @property
    def total(self) -> float:
        return float(self.sums.sum())

    def mask(self, conditions: Conditions) -> BoolArray:
        """The profiles in a slice."""
        inside = np.ones(self.n_profiles, dtype=bool)
        for feature, code in conditions:
            inside &= self.codes[feature] == code
        return inside

    def members(self, conditions: Conditions) -> IntArray:
        """The indices of the units in a slice."""
        return np.flatnonzero(self.mask(conditions)[self.inverse])

    def size(self, inside: BoolArray) -> float:
        return float(self.counts[inside].sum())

    def worse_p(self, sizes: FloatArray, sums: FloatArray, squares: FloatArray) -> FloatArray:
        """One-sided p-values of groups of units against all the other units."""
        return worse_than_rest_p(
            sizes,
            sums,
            squares,
            float(self.n_units),
            self.total,
            float(self.squares.sum()),
            binary=self.binary,
        )

    def worse_within_p(self, inside: BoolArray, population: BoolArray) -> float:
        """p-value of "units in ``inside`` are worse than the rest of ``population``".

        1.0 when ``inside`` holds no unit of the population or the test is undefined: nothing
        is left to show.
        """
        group = inside & population
        size = self.size(group)
        if size == 0:
            return 1.0
        p = worse_than_rest_p(
            np.array([size]),
            np.array([float(self.sums[group].sum())]),
            np.array([float(self.squares[group].sum())]),
            self.size(population),
            float(self.sums[population].sum()),
            float(self.squares[population].sum()),
            binary=self.binary,
        )[0]
        return float(p) if np.isfinite(p) else 1.0


def weighted_counts(codes: IntArray, weights: FloatArray, size: int) -> FloatArray:
    """``np.bincount`` with weights, typed."""
    return np.asarray(np.bincount(codes, weights=weights, minlength=size), dtype=np.float64)


@dataclass
class Candidates:
    """Scored slices: conditions, and per slice the units, loss sum and sum of squares."""

    conditions: list[Conditions]
    sizes: FloatArray
    sums: FloatArray
    squares: FloatArray
    _parts: list[tuple[FloatArray, FloatArray, FloatArray]] = field(default_factory=list)

    @classmethod
    def empty(cls) -> Candidates:
        nothing = np.zeros(0)
        return cls([], nothing, nothing, nothing)

    def add(
        self,
        conditions: list[Conditions],
        sizes: FloatArray,
        sums: FloatArray,
        squares: FloatArray,
    ) -> None:
        self.conditions.extend(conditions)
        self._parts.append((sizes, sums, squares))

    def finish(self) -> Candidates:
        if self._parts:
            self.sizes, self.sums, self.squares = (
                np.concatenate([part[i] for part in self._parts]).astype(np.float64)
                for i in range(3)
            )
            self._parts = []
        return self


class _Masks:
    """Each candidate's mask over the profiles, kept while they fit in ``_MASK_BYTES``.

    With millions of distinct profiles (many features, many rows) the masks of hundreds of
    candidates would not fit in memory; past the budget a mask is rebuilt when asked for
    (three comparisons over the profiles).
    """

    def __init__(self, profiles: Profiles, candidates: Candidates) -> None:
        self.profiles = profiles
        self.candidates = candidates
        self.capacity = max(16, _MASK_BYTES // max(1, profiles.n_profiles))
        self.cache: dict[int, BoolArray] = {}

    def __getitem__(self, index: int) -> BoolArray:
        mask = self.cache.get(index)
        if mask is None:
            mask = self.profiles.mask(self.candidates.conditions[index])
            if len(self.cache) < self.capacity:
                self.cache[index] = mask
        return mask


@dataclass(frozen=True)
class _Settings:
    threshold: float
    overlap: float
    refinement_gain: float


class _Walk:
    """One pass over the discoveries in priority order (module docstring)."""

    def __init__(
        self,
        profiles: Profiles,
        candidates: Candidates,
        masks: _Masks,
        settings: _Settings,
    ) -> None:
        self.profiles = profiles
        self.candidates = candidates
        self.masks = masks
        self.settings = settings
        self.kept: list[int] = []
        self.dismissed: list[int] = []
        self.covered = np.zeros(profiles.n_profiles, dtype=bool)

    def loss(self, index: int) -> float:
        return float(self.candidates.sums[index] / self.candidates.sizes[index])

    def run(self, order: list[int], allow_replace: bool) -> tuple[int, list[int]] | None:
        """Walk ``order``; stop at the first replacement: ``(child, replaced parents)``."""
        for index in order:
            mask = self.masks[index]
            mine = set(self.candidates.conditions[index])
            parents = [k for k in self.kept if set(self.candidates.conditions[k]) < mine]
            if parents and allow_replace:
                explained = [
                    k for k in parents if self._sharper(index, k) and self._adds_nothing(k, mask)
                ]
                if explained:
                    return index, explained
            if any(self._jaccard(mask, self.masks[k]) >= self.settings.overlap for k in self.kept):
                self.dismissed.append(index)
                continue
            if parents:
                keep = all(self._beats_parent(index, k) for k in parents)
            else:
                outside = ~self.covered
                keep = self.profiles.worse_within_p(mask, outside) <= self.settings.threshold
            if keep:
                self.kept.append(index)
                self.covered |= mask
            else:
                self.dismissed.append(index)
        return None

    def _jaccard(self, a: BoolArray, b: BoolArray) -> float:
        union = self.profiles.size(a | b)
        return self.profiles.size(a & b) / union if union else 0.0

    def _adds_nothing(self, parent: int, child_mask: BoolArray) -> bool:
        """Whether the kept ``parent`` is no worse than average outside its refinement."""
        p = self.profiles.worse_within_p(self.masks[parent], ~child_mask)
        return p > self.settings.threshold

    def _sharper(self, index: int, parent: int) -> bool:
        """Whether a refinement's loss is at least ``refinement_gain`` above its parent's."""
        return self.loss(index) >= self.loss(parent) * (1 + self.settings.refinement_gain)

    def _beats_parent(self, index: int, parent: int) -> bool:
        """Whether a refinement is worse enough than the rest of its kept parent to list too."""
        if not self._sharper(index, parent):
            return False
        p = self.profiles.worse_within_p(self.masks[index], self.masks[parent])
        return p <= self.settings.threshold


def merge_slices(
    profiles: Profiles,
    candidates: Candidates,
    order: list[int],
    *,
    threshold: float,
    search: SliceSearch,
) -> tuple[list[int], dict[int, list[int]]]:
    """The kept slices in rank order, and for each the slices merged into it.

    ``order``: the discoveries (indices into ``candidates``), best score first;
    ``threshold``: the bar a residual test must pass (module docstring); ``search`` gives
    ``overlap`` and ``refinement_gain``.
    """
    settings = _Settings(threshold, search.overlap, search.refinement_gain)
    masks = _Masks(profiles, candidates)
    priority = {index: rank for rank, index in enumerate(order)}
    replaced: list[int] = []
    for attempt in range(_MAX_RESTARTS + 1):
        active = sorted(
            (i for i in order if i not in replaced),
            key=lambda i: (len(candidates.conditions[i]), priority[i]),
        )
        walk = _Walk(profiles, candidates, masks, settings)
        replacement = walk.run(active, allow_replace=attempt < _MAX_RESTARTS)
        if replacement is None:
            break
        child, parents = replacement
        priority[child] = min(priority[p] for p in parents)
        replaced.extend(parents)
    kept = sorted(walk.kept, key=lambda i: (priority[i], i))
    kept, pruned = _prune(kept, walk, threshold)
    merged: dict[int, list[int]] = {k: [] for k in kept}
    left_out = [*walk.dismissed, *replaced, *pruned]
    for index in sorted(left_out, key=lambda i: (priority[i], i)):
        shares = [profiles.size(masks[index] & masks[k]) for k in kept]
        if shares and max(shares) > 0:
            merged[kept[int(np.argmax(shares))]].append(index)
    return kept, merged


def _prune(kept: list[int], walk: _Walk, threshold: float) -> tuple[list[int], list[int]]:
    """Drop kept slices that add nothing beyond the other kept ones, lowest rank first.

    The walk judges a slice against what was kept *before* it; a broad slice kept early can
    owe its excess to a conjunction kept later (``f1 = v3`` holding a fifth of a planted
    ``f3 = v1 & f7 = v2``). Every kept slice that is not a refinement of another kept one
    (those were judged against their parent) must therefore still be significantly worse
    outside the other kept slices — its own refinements aside — than the units outside all.
    """
    conditions = {k: set(walk.candidates.conditions[k]) for k in kept}
    pruned: list[int] = []
    changed = True
    while changed:
        changed = False
        for index in reversed(kept):
            mine = conditions[index]
            if any(conditions[k] < mine for k in kept):
                continue  # a refinement, judged against its parent
            covered = np.zeros(walk.profiles.n_profiles, dtype=bool)
            for other in kept:
                if other != index and not mine < conditions[other]:
                    covered |= walk.masks[other]
            p = walk.profiles.worse_within_p(walk.masks[index], ~covered)
            if p > threshold:
                kept = [k for k in kept if k != index]
                pruned.append(index)
                changed = True
                break
    return kept, pruned
