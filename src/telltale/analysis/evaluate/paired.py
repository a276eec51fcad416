"""Paired resampling of systems on the examples they share: one bootstrap and one set of swaps.

Systems evaluated on one data set share its *examples* (sentences, rows, questions), even when
their span units differ, so every compared quantity — a system's metrics overall or in a
bucket — is expressed as sums of per-example statistics (``Scorer.example_statistics``), and
two kinds of draws over the examples are made once and used for every system and bucket:

- **Bootstrap resamples** from :class:`~telltale.analysis.performance.bootstrap.Resampler` with
  the evaluation's seed: the very resamples of the per-system intervals (same seed, same number
  of examples), so system A's replicate ``r`` and system B's replicate ``r`` are computed on the
  same resampled examples and ``B_r - A_r`` is a draw of the paired bootstrap of the
  difference (Koehn, 2004). Above 5,000 examples the resampler draws 1,000 random blocks of
  examples, as for the intervals.
- **Swaps** for the paired randomisation test (Noreen, 1989; Yeh, 2000; Riezler & Maxwell,
  2005): under the null hypothesis that the two systems are exchangeable, swapping the two
  systems' outputs on any set of examples leaves the distribution of the difference unchanged.
  Swap ``r`` exchanges each example (each block, above 5,000 examples — swapping blocks is a
  subgroup of the swaps, so the test stays exact) with probability 1/2, from a stream seeded
  separately from the resamples. Because a metric is a function of sums, swap ``r`` gives A
  the sums ``sum_A + M_r (T_B - T_A)`` and B ``sum_B - M_r (T_B - T_A)``, where ``T`` are the
  per-unit tables: one matrix product for all buckets of a pair.

For a metric that is a mean of per-example scores (accuracy) the swap test is the paired
sign-flip permutation test that ``scipy.stats.permutation_test(..., permutation_type="samples")``
runs; for corpus metrics (span F1, BLEU) it is approximate randomisation.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from telltale.analysis.performance.bootstrap import Resampler, Statistic

__all__ = ["PairedDraws", "PairedTerms", "swap_masks"]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]
MetricsFromSums = Callable[[FloatArray], Mapping[str, FloatArray]]
Key = tuple[str, str]  # (system, group)


def swap_masks(n_units: int, n_permutations: int, seed: int | None) -> FloatArray:
    """``(n_permutations, n_units)`` 0/1 matrix: which units each swap exchanges.

    Seeded by the third child of ``SeedSequence(seed)`` (the resampler uses the first two), so
    swaps and bootstrap resamples are independent and both reproducible.
    """
    stream = np.random.SeedSequence(seed).spawn(3)[2]
    rng = np.random.default_rng(stream)
    return (rng.random((n_permutations, n_units)) < 0.5).astype(np.float64)


class PairedDraws:
    """The shared draws over ``n_examples`` examples (see the module docstring)."""

    def __init__(
        self, n_examples: int, n_bootstrap: int, n_permutations: int, seed: int | None
    ) -> None:
        self.n_examples = n_examples
        self.n_bootstrap = n_bootstrap
        self.n_permutations = n_permutations
        self.seed = seed
        # the assignment of examples to units does not depend on the number of resamples
        self.resampler = Resampler(n_examples, max(n_bootstrap, 1), seed)
        self.units: IntArray = self.resampler.row_units()
        self.n_units = self.resampler.n_units
        self.swaps: FloatArray | None = (
            swap_masks(self.n_units, n_permutations, seed) if n_permutations > 0 else None
        )

    @property
    def unit(self) -> str:
        """What is resampled and swapped: ``examples`` or ``1000 random blocks of examples``."""
        if self.resampler.mode == "row":
            return "examples"
        return f"{self.n_units} random blocks of examples"

    @property
    def bootstrap_description(self) -> str:
        return (
            f"percentile bootstrap, {self.n_bootstrap} resamples of {self.unit} shared by every "
            "bucket and system"
        )

    @property
    def description(self) -> str:
        unit = self.unit
        return (
            f"paired bootstrap ({self.n_bootstrap} resamples of {unit}) for intervals; "
            f"{self.n_permutations} random swaps of {unit} for p-values"
        )

    def on_units(self, statistic: Statistic) -> Statistic:
        """``statistic`` (units = example indices) with the draws' units (examples or blocks)."""
        return Statistic(
            self.units[statistic.units],
            groups=statistic.groups,
            n_groups=statistic.n_groups,
            values=statistic.values,
        )


@dataclass
class PairedTerms:
    """The statistics of every (system, group) and the metrics they give, on shared draws."""

    draws: PairedDraws
    statistics: dict[Key, Statistic] = field(default_factory=dict)
    reducers: dict[Key, MetricsFromSums] = field(default_factory=dict)
    _examples: dict[Key, IntArray] = field(default_factory=dict)
    _tables: dict[Key, FloatArray] = field(default_factory=dict)

    def add(self, key: Key, statistic: Statistic, reducer: MetricsFromSums) -> None:
        self.statistics[key] = self.draws.on_units(statistic)
        self.reducers[key] = reducer
        self._examples[key] = statistic.units
        self._tables.pop(key, None)

    def table(self, key: Key) -> FloatArray:
        """Per-unit sums ``(n_units, width)`` of a term."""
        if key not in self._tables:
            table = self.statistics[key].table(self.draws.n_units)
            self._tables[key] = np.asarray(table, dtype=np.float64)
        return self._tables[key]

    def values(self, key: Key) -> dict[str, float]:
        """The metrics of a term on all examples."""
        sums = self.table(key).sum(axis=0, keepdims=True)
        return {name: float(v[0]) for name, v in self.reducers[key](sums).items()}

    def count_examples(self, *keys: Key) -> int:
        """How many distinct examples the terms ``keys`` together have statistics on."""
        seen = np.zeros(self.draws.n_examples, dtype=bool)
        for key in keys:
            seen[self._examples[key]] = True
        return int(np.count_nonzero(seen))

    def bootstrap(self) -> dict[Key, dict[str, FloatArray]]:
        """Every term's metrics on every shared bootstrap resample."""
        if self.draws.n_bootstrap == 0 or not self.statistics:
            return {}
        keys = list(self.statistics)
        resampler = Resampler(self.draws.n_examples, self.draws.n_bootstrap, self.draws.seed)
        if resampler.n_units != self.draws.n_units:  # pragma: no cover - same rule, same sizes
            raise AssertionError("the resampler changed its units")

        def reduce(sums: list[FloatArray]) -> dict[str, FloatArray]:
            out: dict[str, FloatArray] = {}
            for i, (key, block) in enumerate(zip(keys, sums, strict=True)):
                flat = np.asarray(block, dtype=np.float64).reshape(len(block), -1)
                for metric, values in self.reducers[key](flat).items():
                    out[f"{i}\t{metric}"] = values
            return out

        replicates = resampler.replicates([self.statistics[k] for k in keys], reduce)
        result: dict[Key, dict[str, FloatArray]] = {k: {} for k in keys}
        for name, values in replicates.items():
            index, metric = name.split("\t", 1)
            result[keys[int(index)]][metric] = values
        return result

    def swapped_differences(
        self, baseline: str, system: str, groups: list[str], metrics: Mapping[str, list[str]]
    ) -> dict[str, dict[str, FloatArray]]:
        """Per group, ``metric(system) - metric(baseline)`` under every swap."""
        swaps = self.draws.swaps
        if swaps is None or not groups:
            return {}
        deltas = [self.table((system, g)) - self.table((baseline, g)) for g in groups]
        moved = swaps @ np.concatenate(deltas, axis=1)
        out: dict[str, dict[str, FloatArray]] = {}
        start = 0
        for group, delta in zip(groups, deltas, strict=True):
            width = delta.shape[1]
            shift = moved[:, start : start + width]
            start += width
            a_sums = self.table((baseline, group)).sum(axis=0) + shift
            b_sums = self.table((system, group)).sum(axis=0) - shift
            a = self.reducers[(baseline, group)](a_sums)
            b = self.reducers[(system, group)](b_sums)
            out[group] = {name: b[name] - a[name] for name in metrics[group]}
        return out
