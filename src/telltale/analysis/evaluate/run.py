"""``evaluate()``: score systems against gold data, overall and per bucket of every feature.

The run: the task reads and aligns the inputs; each system is scored on all examples; every
feature is bucketed once on the union of all systems' values and each system is scored per
bucket (with the indices of the bucket's units kept for drill-down); then confusion tables and,
when systems give confidences, calibration. With two or more systems every pair is compared
overall and per bucket (:mod:`.comparison`); every system's underperforming slices are searched
(:mod:`.slices`); and the findings are written in plain language (:mod:`.findings`).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from telltale.analysis.performance.bootstrap import percentile_interval
from telltale.errors import ConfigError

from .buckets import Bucketing, DiscreteBuckets, FittedBuckets, QuantileBuckets, parse_bucketing
from .calibration import calibration_bins, calibration_table
from .comparison import Grouping, bucket_group, compare_systems, paired_terms
from .conjunctions import conjunction_groups
from .discovery import CodeCache, example_codes, system_slices
from .findings import write_findings
from .result import EvaluationResult, SystemEvaluation
from .scoring import Intervals, Scorer, Selection
from .slices import SliceSearch
from .tasks.base import FeatureValues, Level, TaskData, TaskOptions, get_task

__all__ = ["evaluate"]

MAX_BOOTSTRAP = 100_000
MIN_CONJUNCTION = 30
"""Conjunctions of two buckets smaller than this (or 1% of the examples) are not compared."""


def evaluate(
    task: str,
    data: Any,
    systems: Mapping[str, Any] | Sequence[Any],
    *,
    n_bootstrap: int = 1000,
    seed: int | None = 0,
    confidence: float = 0.95,
    ci: str = "bootstrap",
    buckets: Mapping[str, Bucketing | str] | None = None,
    features: Sequence[str] | None = None,
    n_buckets: int = 4,
    max_categories: int = 10,
    calibration_bins: int = 10,
    compare: bool = True,
    n_permutations: int = 1000,
    alpha: float = 0.05,
    slices: SliceSearch | bool = True,
    **task_options: Any,
) -> EvaluationResult:
    """Evaluate ``systems`` against ``data`` for ``task`` (see ``TASKS`` for the names).

    ``systems`` maps a name to the system's output (a file path, or for tabular tasks a column
    of ``data``); a list of paths names each system by its file stem. ``buckets`` overrides the
    bucketing of a feature (``QuantileBuckets(5)``, ``FixedBuckets([1, 6, 10])``,
    ``DiscreteBuckets(5)`` or the strings ``"quantile:5"``, ``"edges:1,6,10"``,
    ``"discrete:5"``); ``features`` restricts the features. ``task_options`` are the fields of
    :class:`~telltale.analysis.evaluate.tasks.base.TaskOptions` (``scheme``, ``tagging``,
    ``unknown_labels``, ``labels``, ``target``, ``feature_columns``, ``user_features``).

    With two or more systems and ``compare``, every pair is compared (paired bootstrap
    intervals of the differences, ``n_permutations`` random swaps for p-values,
    Benjamini–Hochberg at ``alpha``). ``slices`` (``True``, ``False`` or a
    :class:`~telltale.analysis.evaluate.slices.SliceSearch`) searches each system's
    underperforming slices, with the false discovery rate controlled at ``alpha`` unless the
    search says otherwise.
    """
    intervals = _intervals(n_bootstrap, seed, confidence, ci)
    n_permutations = _count(n_permutations, "n_permutations")
    if isinstance(alpha, bool) or not isinstance(alpha, numbers.Real) or not 0 < alpha < 1:
        raise ConfigError(f"alpha={alpha!r} is not strictly between 0 and 1; pass e.g. 0.05")
    search = _slice_search(slices, float(alpha))
    named = _name_systems(systems)
    try:
        options = TaskOptions(**task_options)
    except TypeError:
        allowed = sorted(TaskOptions.__dataclass_fields__)
        unknown = sorted(set(task_options) - set(allowed))
        raise ConfigError(f"unknown option(s) {unknown}; evaluate() accepts {allowed}") from None
    if not isinstance(calibration_bins, int) or calibration_bins < 1:
        raise ConfigError(f"calibration_bins={calibration_bins!r}; pass a positive int such as 10")
    loaded = get_task(task).load(data, named, options)
    result = EvaluationResult(
        task=loaded.task,
        primary_metric=loaded.primary_metric,
        n_examples=loaded.n_examples,
        settings={
            "n_bootstrap": intervals.n_bootstrap,
            "seed": intervals.seed,
            "confidence": intervals.confidence,
            "ci": intervals.method,
            "calibration_bins": calibration_bins,
            "n_permutations": n_permutations,
            "alpha": float(alpha),
            "multiple_comparisons": "benjamini-hochberg",
        },
        systems={},
        features={},
        notes=list(loaded.notes),
        data=loaded,
    )
    chosen = _select_features(loaded.features(), features)
    unknown = sorted(set(buckets or {}) - {f.name for f in chosen})
    if unknown:
        raise ConfigError(
            f"buckets= names unknown feature(s) {unknown}; this evaluation has "
            f"{sorted(f.name for f in chosen)}"
        )
    fitted = {
        feature.name: _bucketing(feature, buckets, n_buckets, max_categories).fit(feature.union)
        for feature in chosen
    }
    for feature in chosen:
        result.features[feature.name] = {
            "level": feature.level,
            "kind": feature.kind,
            "description": feature.description,
            **fitted[feature.name].describe(),
        }
        result.member_levels[feature.name] = feature.level
    scorers: dict[tuple[str, Level], Scorer] = {
        (system, level): loaded.scorer(system, level)
        for system in loaded.systems
        for level in loaded.levels
    }
    codes: CodeCache = {}
    for system in loaded.systems:
        result.systems[system] = _evaluate_system(
            loaded, system, chosen, fitted, intervals, calibration_bins, result, scorers, codes
        )
    result.member_levels["confusion"] = "span" if "span" in loaded.levels else "example"
    comparing = compare and len(loaded.systems) >= 2
    levels = {f.name: f.level for f in chosen}
    conjunctions, conjunction_selections = (
        conjunction_groups(
            loaded.systems,
            result.selections,
            levels,
            min_size=max(MIN_CONJUNCTION, math.ceil(0.01 * loaded.n_examples)),
        )
        if comparing
        else ([], {})
    )
    for conjunction in conjunctions:  # drill-down: examples("a", "f1 & f2", "b1 & b2")
        (first, b1), (second, b2) = conjunction.conditions
        name = f"{first} & {second}"
        result.member_levels[name] = conjunction.level
        for system in loaded.systems:
            selection = conjunction_selections[(system, conjunction.key)]
            result.members.setdefault((system, name), {})[f"{b1} & {b2}"] = selection.rows
    grouping = Grouping(
        scorers=scorers,
        selections=result.selections,
        levels=levels,
        bucket_sizes={
            (system, feature): {row["bucket"]: row["n"] for row in rows}
            for system, evaluation in result.systems.items()
            for feature, rows in evaluation.buckets.items()
        },
        conjunctions=conjunctions,
        conjunction_selections=conjunction_selections,
        units=_unit_counts(loaded) if comparing else {},
    )
    terms = replicates = None
    if _shared_bootstrap(intervals):
        terms = paired_terms(
            loaded,
            grouping,
            n_bootstrap=intervals.n_bootstrap,
            n_permutations=n_permutations if comparing else 0,
            seed=intervals.seed,
        )
        replicates = terms.bootstrap()
        _bucket_intervals(result, replicates, loaded.primary_metric, intervals.confidence)
        result.settings["bucket_ci"] = terms.draws.bootstrap_description
    if comparing:
        result.comparisons, method = compare_systems(
            loaded,
            grouping,
            n_bootstrap=intervals.n_bootstrap,
            n_permutations=n_permutations,
            seed=intervals.seed,
            confidence=intervals.confidence,
            alpha=float(alpha),
            terms=terms,
            replicates=replicates,
        )
        result.settings["comparison_method"] = method
    if search is not None:
        result.settings["slice_search"] = {
            "max_conditions": search.max_conditions,
            "min_size": search.min_size,
            "alpha": search.alpha,
            "max_slices": search.max_slices,
            "overlap": search.overlap,
            "refinement_gain": search.refinement_gain,
            "discovery": "benjamini-hochberg over all candidates of a system",
            "merging": "leftovers held to bonferroni (alpha / candidates)",
        }
        for system in loaded.systems:
            found = system_slices(
                loaded,
                system,
                chosen,
                fitted,
                {level: scorers[(system, level)] for level in loaded.levels},
                search,
                codes,
            )
            for entry in found:
                assert entry.members is not None
                result.members.setdefault((system, "slices"), {})[entry.description] = entry.members
                result.member_levels["slices"] = units_level(entry.level)
            result.slices.extend(found)
    result.findings = write_findings(
        task=loaded.task,
        primary_metric=loaded.primary_metric,
        systems=result.systems,
        features=result.features,
        comparisons=result.comparisons,
        slices=result.slices,
        confidence=intervals.confidence,
    )
    return result


def _unit_counts(loaded: TaskData) -> dict[tuple[str, Level], int]:
    """How many units each system has per level (examples; span units for NER)."""
    counts: dict[tuple[str, Level], int] = {}
    for system in loaded.systems:
        counts[(system, "example")] = loaded.n_examples
        units = loaded.unit_losses(system)
        counts[(system, units_level(units.level))] = len(units.loss)
    return counts


def _shared_bootstrap(intervals: Intervals) -> bool:
    """Whether bucket intervals come from the one paired bootstrap of examples (see
    :func:`_bucket_intervals`); a t-interval is computed per bucket instead."""
    return intervals.n_bootstrap > 0 and intervals.method == "bootstrap"


def _bucket_intervals(
    result: EvaluationResult,
    replicates: Mapping[tuple[str, str], Mapping[str, Any]],
    primary: str,
    confidence: float,
) -> None:
    """Each bucket's interval of the primary metric, from the shared bootstrap of examples.

    The resamples draw *examples* (sentences, rows, questions) — the units all systems share —
    and every bucket, example- or span-level, takes the units of the drawn examples that fall
    in it: spans of one sentence are resampled together, as they are not independent, and a
    bucket's size varies from resample to resample as it would in a new sample. They are the
    very resamples of the overall intervals and of the comparisons' intervals, so all of them
    are computed by one pass.
    """
    for system, evaluation in result.systems.items():
        for feature, rows in evaluation.buckets.items():
            for row in rows:
                draws = replicates.get((system, bucket_group(feature, row["bucket"])), {})
                values = draws.get(primary)
                row["ci"] = (
                    percentile_interval(np.asarray(values), confidence)
                    if values is not None and row.get(primary) is not None
                    else None
                )


def units_level(level: str) -> Level:
    """``"span"`` or ``"example"``, typed."""
    return "span" if level == "span" else "example"


def _count(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ConfigError(f"{name}={value!r} is not an integer; pass e.g. 1000, or 0")
    if not 0 <= int(value) <= MAX_BOOTSTRAP:
        raise ConfigError(f"{name}={value} is outside 0..{MAX_BOOTSTRAP}; 1000 is plenty")
    return int(value)


def _slice_search(slices: Any, alpha: float) -> SliceSearch | None:
    if slices is True:
        return SliceSearch(alpha=alpha)
    if slices is False or slices is None:
        return None
    if isinstance(slices, SliceSearch):
        return slices
    raise ConfigError(f"slices={slices!r}; pass True, False or a SliceSearch(...)")


def _evaluate_system(
    loaded: TaskData,
    system: str,
    chosen: list[FeatureValues],
    fitted: dict[str, FittedBuckets],
    intervals: Intervals,
    bins: int,
    result: EvaluationResult,
    all_scorers: dict[tuple[str, Level], Scorer],
    code_cache: CodeCache,
) -> SystemEvaluation:
    scorers = {level: all_scorers[(system, level)] for level in loaded.levels}
    overall = scorers["example"].score(None, intervals)
    nothing = Intervals(0, intervals.seed, intervals.confidence, intervals.method)
    bucket_rows: dict[str, list[dict[str, Any]]] = {}
    primary = loaded.primary_metric
    for feature in chosen:
        fit = fitted[feature.name]
        values = feature.by_system[system]
        scorer = scorers[feature.level]
        entries: list[dict[str, Any]] = []
        members: dict[str, Any] = {}
        selections: dict[str, Selection] = {}
        if feature.level == "example":
            assert values.values is not None
            codes = example_codes(fit, feature.name, values.values, code_cache)
            gold_codes = predicted_codes = None
        else:
            assert values.gold_side is not None and values.predicted_side is not None
            gold_codes = fit.assign(np.asarray(values.gold_side))
            predicted_codes = fit.assign(np.asarray(values.predicted_side))
            codes = None
        for b, label in enumerate(fit.labels):
            if codes is not None:
                rows = np.flatnonzero(codes == b)
                selection = Selection(rows)
            else:
                assert gold_codes is not None and predicted_codes is not None
                in_gold, in_predicted = gold_codes == b, predicted_codes == b
                rows = np.flatnonzero(in_gold | in_predicted)
                selection = Selection(rows, in_gold[rows], in_predicted[rows])
            # with the bootstrap, the bucket's interval comes later from the shared resamples
            scores = scorer.score(selection, nothing if _shared_bootstrap(intervals) else intervals)
            entry: dict[str, Any] = {"bucket": label, "n": len(rows)}
            entry.update({name: score["value"] for name, score in scores.items()})
            entry["ci"] = scores[primary]["ci"] if primary in scores else None
            entries.append(entry)
            members[label] = rows
            selections[label] = selection
        bucket_rows[feature.name] = entries
        result.members[(system, feature.name)] = members
        result.selections[(system, feature.name)] = selections
    confusion = loaded.confusion(system)
    table = None
    if confusion is not None:
        table, cells = confusion
        result.members[(system, "confusion")] = cells
    calibration = None
    inputs = loaded.calibration_inputs(system)
    if inputs is not None:
        confidences, correct = inputs
        calibration = calibration_table(confidences, correct, bins, intervals)
        known = np.flatnonzero(~np.isnan(confidences))
        which = calibration_bins(confidences[known], bins)
        result.members[(system, "calibration")] = {
            entry["bin"]: known[which == b] for b, entry in enumerate(calibration["bins"])
        }
    return SystemEvaluation(
        n=loaded.n_examples,
        overall=overall,
        per_label=loaded.per_label(system, intervals),
        buckets=bucket_rows,
        confusion=table,
        calibration=calibration,
    )


def _intervals(n_bootstrap: Any, seed: Any, confidence: Any, ci: Any) -> Intervals:
    if isinstance(n_bootstrap, bool) or not isinstance(n_bootstrap, numbers.Integral):
        raise ConfigError(f"n_bootstrap={n_bootstrap!r} is not an integer; pass e.g. 1000, or 0")
    if not 0 <= int(n_bootstrap) <= MAX_BOOTSTRAP:
        raise ConfigError(
            f"n_bootstrap={n_bootstrap} is outside 0..{MAX_BOOTSTRAP}; 1000 is plenty"
        )
    if seed is not None and (
        isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0
    ):
        raise ConfigError(f"seed={seed!r} is not a non-negative int; pass e.g. 0, or None")
    if (
        isinstance(confidence, bool)
        or not isinstance(confidence, numbers.Real)
        or not 0 < float(confidence) < 1
    ):
        raise ConfigError(
            f"confidence={confidence!r} is not strictly between 0 and 1; pass e.g. 0.95"
        )
    if ci not in ("bootstrap", "t"):
        raise ConfigError(f"ci={ci!r} is not 'bootstrap' or 't'")
    return Intervals(int(n_bootstrap), None if seed is None else int(seed), float(confidence), ci)


def _name_systems(systems: Mapping[str, Any] | Sequence[Any]) -> dict[str, Any]:
    if isinstance(systems, Mapping):
        named = {str(k): v for k, v in systems.items()}
    elif isinstance(systems, (str, Path)):
        named = {Path(systems).stem: systems}
    else:
        named = {}
        for source in systems:
            stem = (
                Path(source).stem if isinstance(source, (str, Path)) else f"system{len(named) + 1}"
            )
            if stem in named:
                raise ConfigError(
                    f"two systems are named {stem!r}; pass systems as a dict of names"
                )
            named[stem] = source
    if not named:
        raise ConfigError("no systems given; pass systems={'name': 'output-file', ...}")
    return named


def _select_features(
    available: list[FeatureValues], wanted: Sequence[str] | None
) -> list[FeatureValues]:
    if wanted is None:
        return available
    by_name = {f.name: f for f in available}
    unknown = [name for name in wanted if name not in by_name]
    if unknown:
        raise ConfigError(f"unknown feature(s) {unknown}; this task has {sorted(by_name)}")
    return [by_name[name] for name in wanted]


def _bucketing(
    feature: FeatureValues,
    overrides: Mapping[str, Bucketing | str] | None,
    n_buckets: int,
    max_categories: int,
) -> Bucketing:
    chosen = (overrides or {}).get(feature.name)
    if isinstance(chosen, str):
        return parse_bucketing(chosen)
    if chosen is not None:
        return chosen
    return (
        DiscreteBuckets(max_categories)
        if feature.kind == "categorical"
        else QuantileBuckets(n_buckets)
    )
