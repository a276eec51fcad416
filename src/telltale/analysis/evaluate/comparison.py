"""Comparison of two or more systems: paired differences overall and per bucket, with tests.

For every pair of systems (in the order given: ``baseline`` is the earlier, ``system`` the
later one, ``difference = system - baseline``):

- **overall**, every metric of the task: the difference, its paired-bootstrap percentile
  interval, a two-sided p-value from the paired swap test, and the standardized effect
  (:func:`~.significance.standardized_effect`, Cohen's ``d_z`` for mean metrics);
- **per bucket** of every feature, the primary metric, the same way.

The test, per metric (recorded in each entry's ``test``): a metric that is a mean of
per-example scores (accuracy, exact match, QA F1, ROUGE, MAE) gets the *paired permutation
test* (random sign flips of the per-example differences); every other metric — ratios and
corpus metrics (span F1/precision/recall, macro F1, BLEU, chrF, RMSE, R², MAPE) — gets
*approximate randomisation* (random swaps of the two systems' outputs per example, the metric
recomputed from the swapped sums). Both come from the same swaps (:mod:`.paired`); for a mean
metric they are the same test. Swapping is preferred to bootstrap p-values because it is exact
under the null hypothesis at any sample size and is the test recommended for corpus metrics
(Riezler & Maxwell, 2005); the bootstrap gives the intervals.

Span buckets (NER) are compared by resampling and swapping *sentences* — the unit the systems
share — with each system's spans of the bucket summed per sentence; a bucket's size varies
with the resample, as it would in a new sample of sentences.

**Conjunctions** of two buckets of same-level features (:mod:`.conjunctions`, e.g. ``LOC``
spans of 3–6 tokens) are compared the same way on the primary metric, in ``conjunctions``.

**Multiple comparisons.** ``q_value`` is the Benjamini–Hochberg adjusted p-value. The bucket
tests of all pairs, features and buckets form one family; the overall tests (all pairs and
metrics) another; the conjunction tests a third. ``significant`` is ``q_value <= alpha``.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from telltale.analysis.performance.bootstrap import percentile_interval
from telltale.schema.result import Result

from .conjunctions import Conjunction
from .paired import PairedDraws, PairedTerms
from .scoring import Scorer, Selection
from .significance import benjamini_hochberg, monte_carlo_p_value, standardized_effect
from .tasks.base import Level, TaskData

__all__ = [
    "LOWER_IS_BETTER",
    "OVERALL",
    "Comparison",
    "bucket_group",
    "compare_systems",
    "paired_terms",
    "test_name",
]

LOWER_IS_BETTER = frozenset({"mae", "rmse", "mape", "ece", "mce", "log_loss"})
"""Metrics where smaller is better: a negative difference favours the later system."""

OVERALL = "overall"
PERMUTATION = "paired permutation (sign flips)"
RANDOMIZATION = "approximate randomization"
MAX_CONFUSION_CELLS = 4096


def test_name(metric: str, scorer: Scorer) -> str:
    """Which test a metric gets: permutation for per-example means, else randomisation."""
    return PERMUTATION if metric in scorer.mean_metrics else RANDOMIZATION


@dataclass(kw_only=True)
class Comparison(Result):
    """``system`` against ``baseline``: differences, intervals and tests (module docstring)."""

    baseline: str
    system: str
    metric: str
    better: str | None
    overall: dict[str, dict[str, Any]]
    buckets: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    conjunctions: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class Grouping:
    """Where the compared groups come from: each system's scorer per level and selections,
    and the conjunctions of two buckets (:mod:`.conjunctions`) with each system's units."""

    scorers: Mapping[tuple[str, Level], Scorer]
    selections: Mapping[tuple[str, str], Mapping[str, Selection]]
    levels: Mapping[str, Level]
    bucket_sizes: Mapping[tuple[str, str], Mapping[str, int]]
    conjunctions: Sequence[Conjunction] = ()
    conjunction_selections: Mapping[tuple[str, str], Selection] = field(default_factory=dict)
    units: Mapping[tuple[str, Level], int] = field(default_factory=dict)


def paired_terms(
    data: TaskData,
    grouping: Grouping,
    *,
    n_bootstrap: int,
    n_permutations: int,
    seed: int | None,
) -> PairedTerms:
    """Every system's statistics overall and per bucket, on draws shared by all systems.

    Terms are keyed ``(system, "overall")`` and ``(system, bucket_group(feature, bucket))``.
    """
    draws = PairedDraws(data.n_examples, n_bootstrap, n_permutations, seed)
    terms = PairedTerms(draws)
    for system in data.systems:
        scorer = grouping.scorers[(system, "example")]
        terms.add((system, OVERALL), scorer.example_statistics(None), scorer.metrics_from_sums)
        for feature, level in grouping.levels.items():
            level_scorer = grouping.scorers[(system, level)]
            for bucket, selection in grouping.selections[(system, feature)].items():
                terms.add(
                    (system, bucket_group(feature, bucket)),
                    level_scorer.example_statistics(selection),
                    level_scorer.metrics_from_sums,
                )
        for conjunction in grouping.conjunctions:
            level_scorer = grouping.scorers[(system, conjunction.level)]
            terms.add(
                (system, conjunction.key),
                level_scorer.example_statistics(
                    grouping.conjunction_selections[(system, conjunction.key)]
                ),
                level_scorer.metrics_from_sums,
            )
    return terms


def compare_systems(
    data: TaskData,
    grouping: Grouping,
    *,
    n_bootstrap: int,
    n_permutations: int,
    seed: int | None,
    confidence: float,
    alpha: float,
    terms: PairedTerms | None = None,
    replicates: Mapping[tuple[str, str], Mapping[str, Any]] | None = None,
) -> tuple[list[Comparison], str]:
    """Every pair of ``data``'s systems compared overall and per bucket; and the method text.

    ``terms`` and their bootstrap ``replicates`` (from :func:`paired_terms`, made with the same
    settings) are reused when given, so intervals and comparisons share one bootstrap.
    """
    systems = data.systems
    if terms is None:
        terms = paired_terms(
            data, grouping, n_bootstrap=n_bootstrap, n_permutations=n_permutations, seed=seed
        )
    if replicates is None:
        replicates = terms.bootstrap()
    draws = terms.draws
    primary = data.primary_metric
    features = list(grouping.levels)
    overall_scorer = grouping.scorers[(systems[0], "example")]
    comparisons: list[Comparison] = []
    for baseline, system in itertools.combinations(systems, 2):
        groups = [OVERALL]
        metrics: dict[str, list[str]] = {OVERALL: list(overall_scorer.metrics)}
        for feature in features:
            for bucket in grouping.selections[(baseline, feature)]:
                groups.append(bucket_group(feature, bucket))
                metrics[bucket_group(feature, bucket)] = [primary]
        for conjunction in grouping.conjunctions:
            groups.append(conjunction.key)
            metrics[conjunction.key] = [primary]
        pair = _Pair(
            baseline,
            system,
            terms,
            replicates,
            terms.swapped_differences(baseline, system, groups, metrics),
            overall_scorer,
            confidence,
        )
        overall = {metric: pair.entry(OVERALL, metric) for metric in metrics[OVERALL]}
        buckets: dict[str, list[dict[str, Any]]] = {}
        for feature in features:
            rows = []
            for bucket in grouping.selections[(baseline, feature)]:
                size = max(
                    grouping.bucket_sizes[(baseline, feature)][bucket],
                    grouping.bucket_sizes[(system, feature)][bucket],
                )
                row = {"bucket": bucket, "n": size}
                row.update(pair.entry(bucket_group(feature, bucket), primary))
                rows.append(row)
            buckets[feature] = rows
        conjunctions = []
        for conjunction in grouping.conjunctions:
            size = max(
                len(grouping.conjunction_selections[(name, conjunction.key)].rows)
                for name in (baseline, system)
            )
            total = max(grouping.units.get((name, conjunction.level), 0) for name in systems)
            row = {
                "conditions": [{"feature": f, "bucket": b} for f, b in conjunction.conditions],
                "level": conjunction.level,
                "n": size,
                "share": size / total if total else None,
            }
            row.update(pair.entry(conjunction.key, primary))
            conjunctions.append(row)
        comparisons.append(
            Comparison(
                baseline=baseline,
                system=system,
                metric=primary,
                better=None,
                overall=overall,
                buckets=buckets,
                conjunctions=conjunctions,
            )
        )
    _adjust(comparisons, alpha)
    return comparisons, draws.description


@dataclass(frozen=True)
class _Pair:
    """One pair of systems and the draws computed for it."""

    baseline: str
    system: str
    terms: PairedTerms
    replicates: Mapping[tuple[str, str], Mapping[str, Any]]
    swapped: Mapping[str, Mapping[str, Any]]
    scorer: Scorer
    confidence: float

    def entry(self, group: str, metric: str) -> dict[str, Any]:
        """Values, difference, interval, p-value and effect of ``metric`` on ``group``."""
        a_key, b_key = (self.baseline, group), (self.system, group)
        a = self.terms.values(a_key).get(metric, float("nan"))
        b = self.terms.values(b_key).get(metric, float("nan"))
        difference = b - a
        out: dict[str, Any] = {
            "baseline": a,
            "system": b,
            "difference": difference,
            "ci": None,
            "p_value": None,
            "q_value": None,
            "effect_size": None,
            "test": test_name(metric, self.scorer),
            "significant": False,
        }
        reps_a = self.replicates.get(a_key, {}).get(metric)
        reps_b = self.replicates.get(b_key, {}).get(metric)
        if reps_a is not None and reps_b is not None and np.isfinite(difference):
            boot = reps_b - reps_a
            out["ci"] = percentile_interval(boot, self.confidence)
            n = self.terms.count_examples(a_key, b_key)
            out["effect_size"] = standardized_effect(difference, boot, n)
        null = self.swapped.get(group, {}).get(metric)
        if null is not None:
            out["p_value"] = monte_carlo_p_value(difference, null)
        return out


def bucket_group(feature: str, bucket: str) -> str:
    """The key of a bucket's terms in :class:`~.paired.PairedTerms`."""
    return f"{feature}\t{bucket}"


def _adjust(comparisons: list[Comparison], alpha: float) -> None:
    """Benjamini–Hochberg over the overall tests, the bucket tests, the conjunction tests."""
    overall = [e for c in comparisons for e in c.overall.values()]
    buckets = [e for c in comparisons for rows in c.buckets.values() for e in rows]
    conjunctions = [e for c in comparisons for e in c.conjunctions]
    for family in (overall, buckets, conjunctions):
        adjusted = benjamini_hochberg([e["p_value"] for e in family])
        for e, q in zip(family, adjusted, strict=True):
            e["q_value"] = q
            e["significant"] = q is not None and q <= alpha
    for comparison in comparisons:
        head = comparison.overall.get(comparison.metric)
        if head is not None and head["significant"]:
            comparison.better = winner(comparison, head["difference"])


def winner(comparison: Comparison, difference: float) -> str:
    """The system a difference of the comparison's metric favours."""
    lower = comparison.metric in LOWER_IS_BETTER
    return comparison.system if (difference > 0) != lower else comparison.baseline
