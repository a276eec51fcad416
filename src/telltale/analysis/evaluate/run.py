"""``evaluate()``: score systems against gold data, overall and per bucket of every feature.

The run: the task reads and aligns the inputs; each system is scored on all examples; every
feature is bucketed once on the union of all systems' values and each system is scored per
bucket (with the indices of the bucket's units kept for drill-down); then confusion tables and,
when systems give confidences, calibration.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from telltale.errors import ConfigError

from .buckets import Bucketing, DiscreteBuckets, FittedBuckets, QuantileBuckets, parse_bucketing
from .calibration import calibration_bins, calibration_table
from .result import EvaluationResult, SystemEvaluation
from .scoring import Intervals, Selection
from .tasks.base import FeatureValues, TaskData, TaskOptions, get_task

__all__ = ["evaluate"]

MAX_BOOTSTRAP = 100_000


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
    """
    intervals = _intervals(n_bootstrap, seed, confidence, ci)
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
        },
        systems={},
        features={},
        notes=list(loaded.notes),
        data=loaded,
    )
    chosen = _select_features(loaded.features(), features)
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
    for system in loaded.systems:
        result.systems[system] = _evaluate_system(
            loaded, system, chosen, fitted, intervals, calibration_bins, result
        )
    result.member_levels["confusion"] = "span" if "span" in loaded.levels else "example"
    return result


def _evaluate_system(
    loaded: TaskData,
    system: str,
    chosen: list[FeatureValues],
    fitted: dict[str, FittedBuckets],
    intervals: Intervals,
    bins: int,
    result: EvaluationResult,
) -> SystemEvaluation:
    scorers = {level: loaded.scorer(system, level) for level in loaded.levels}
    overall = scorers["example"].score(None, intervals)
    bucket_rows: dict[str, list[dict[str, Any]]] = {}
    primary = loaded.primary_metric
    for feature in chosen:
        fit = fitted[feature.name]
        values = feature.by_system[system]
        scorer = scorers[feature.level]
        entries: list[dict[str, Any]] = []
        members: dict[str, Any] = {}
        if feature.level == "example":
            assert values.values is not None
            codes = fit.assign(np.asarray(values.values))
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
            scores = scorer.score(selection, intervals)
            entry: dict[str, Any] = {"bucket": label, "n": len(rows)}
            entry.update({name: score["value"] for name, score in scores.items()})
            entry["ci"] = scores[primary]["ci"] if primary in scores else None
            entries.append(entry)
            members[label] = rows
        bucket_rows[feature.name] = entries
        result.members[(system, feature.name)] = members
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
