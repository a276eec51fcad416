"""Findings: what an evaluation shows, in plain language, most important first.

Only statistically supported statements are made (``q <= alpha`` after Benjamini–Hochberg),
except the overall headline of each pair, which also says when there is no significant
difference. The list is deterministic (ties broken by the text) and holds:

1. **Headlines**, one per pair of systems, in pair order: which system is better overall on
   the primary metric, with the difference (in points for 0–1 metrics), its interval and
   p-value — and, when the loser is significantly better on some bucket or conjunction of two
   buckets (:mod:`.conjunctions`), the most important such reversal: ``"flair is better than elmo overall (F1 +0.81 points, 95% CI [+0.35,
   +1.27], p<0.01) but not on LOC spans of 3–4 tokens (−2.10 points, adjusted p=0.04)"``.
2. **Where systems differ**: significant bucket differences between two systems, and
   conjunctions of two buckets that reverse the overall result; reversals first, then by
   importance; at most ``per_pair`` per pair.
3. **Where each system fails**: its worst slices, by importance; at most ``per_system`` per
   system.
4. Each system's most frequent confusion between two labels (at least 1% of units), and
   over- or under-confidence when calibration was measured and ECE's interval excludes 0.02.

Within a group, findings are ranked by **importance** = size of the effect × share of the
units concerned (a bucket's |difference| × its share of units; a slice's loss minus the rest's
loss × its share), ties broken by the text. Groups keep this order because their effects are
on different scales (a difference between systems against a gap in error rates).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .comparison import Comparison, winner
from .significance import format_p
from .slices import Slice
from .wording import metric_label, phrase, signed_points, unit_noun

__all__ = ["write_findings"]

MIN_CONFUSION_SHARE = 0.01
ECE_NOTEWORTHY = 0.02


@dataclass(frozen=True)
class _Finding:
    importance: float
    text: str


def write_findings(
    *,
    task: str,
    primary_metric: str,
    systems: Mapping[str, Any],
    features: Mapping[str, Mapping[str, Any]],
    comparisons: list[Comparison],
    slices: list[Slice],
    confidence: float,
    per_pair: int = 4,
    per_system: int = 3,
) -> list[str]:
    """The findings of an evaluation (module docstring), headlines first."""
    out = [_headline(c, task, features, confidence) for c in comparisons]
    for comparison in comparisons:
        out.extend(_top(_bucket_findings(comparison, task, features), per_pair))
    for name in systems:
        mine = [s for s in slices if s.system == name]
        out.extend(_top([_slice_finding(s, task, primary_metric) for s in mine], per_system))
    for name, system in systems.items():
        out.extend(_top(_confusion_finding(name, system, task), 1))
        out.extend(_top(_calibration_finding(name, system), 1))
    return out


def _top(findings: list[_Finding], limit: int) -> list[str]:
    ranked = sorted(findings, key=lambda f: (-f.importance, f.text))
    return [f.text for f in ranked[:limit]]


def _bucket_phrase(feature: str, bucket: str, task: str, features: Mapping[str, Any]) -> str:
    level = str(features.get(feature, {}).get("level", "example"))
    return phrase([(feature, bucket)], level, task)


def _shares(rows: list[dict[str, Any]]) -> list[float]:
    total = sum(int(r["n"]) for r in rows)
    return [int(r["n"]) / total if total else 0.0 for r in rows]


def _headline(
    comparison: Comparison, task: str, features: Mapping[str, Any], confidence: float
) -> str:
    metric = comparison.metric
    head = comparison.overall[metric]
    label = metric_label(metric)
    a, b = comparison.baseline, comparison.system
    if head["difference"] is None or not math.isfinite(head["difference"]):
        return f"{a} and {b} cannot be compared on {label}: it is undefined for one of them"
    if comparison.better is None:
        return (
            f"no significant overall difference between {a} and {b} "
            f"({label} {signed_points(metric, head['difference'])} for {b}, "
            f"{format_p(head['p_value'])})"
        )
    better = comparison.better
    worse = a if better == b else b
    flip = 1.0 if better == b else -1.0
    interval = ""
    if head["ci"] is not None:
        low, high = sorted(flip * v for v in head["ci"])
        interval = (
            f", {round(confidence * 100):g}% CI [{signed_points(metric, low)}, "
            f"{signed_points(metric, high)}]".replace(" points", "")
        )
    text = (
        f"{better} is better than {worse} overall ({label} "
        f"{signed_points(metric, flip * head['difference'])}{interval}, "
        f"{format_p(head['p_value'])})"
    )
    reversals = []
    for feature, rows in comparison.buckets.items():
        for row, share in zip(rows, _shares(rows), strict=True):
            if row["significant"] and _favours(comparison, row["difference"]) == worse:
                where = _bucket_phrase(feature, row["bucket"], task, features)
                reversals.append((abs(row["difference"]) * share, where, row))
    for row in comparison.conjunctions:
        if row["significant"] and _favours(comparison, row["difference"]) == worse:
            reversals.append(
                (
                    abs(row["difference"]) * (row["share"] or 0.0),
                    _conjunction_phrase(row, task),
                    row,
                )
            )
    if reversals:
        reversals.sort(key=lambda r: (-r[0], r[1]))
        _, where, row = reversals[0]
        text += (
            f" but not on {where} ({signed_points(metric, flip * row['difference'])}, "
            f"adjusted {format_p(row['q_value'])})"
        )
    return text


def _conjunction_phrase(row: Mapping[str, Any], task: str) -> str:
    conditions = [(c["feature"], c["bucket"]) for c in row["conditions"]]
    return phrase(conditions, str(row["level"]), task)


def _favours(comparison: Comparison, difference: float) -> str:
    return winner(comparison, difference)


def _bucket_findings(
    comparison: Comparison, task: str, features: Mapping[str, Any]
) -> list[_Finding]:
    metric = comparison.metric
    out = []
    for feature, rows in comparison.buckets.items():
        level = str(features.get(feature, {}).get("level", "example"))
        for row, share in zip(rows, _shares(rows), strict=True):
            if not row["significant"]:
                continue
            better = _favours(comparison, row["difference"])
            worse = comparison.baseline if better == comparison.system else comparison.system
            flip = 1.0 if better == comparison.system else -1.0
            reversal = comparison.better is not None and better != comparison.better
            text = (
                f"{better} is better than {worse} on "
                f"{_bucket_phrase(feature, row['bucket'], task, features)} "
                f"({metric_label(metric)} {signed_points(metric, flip * row['difference'])}, "
                f"adjusted {format_p(row['q_value'])}; {share:.0%} of "
                f"{unit_noun(task, level)})"
            )
            importance = abs(row["difference"]) * share
            if reversal:
                text += ", the reverse of the overall result"
                importance += 1.0  # reversals first
            out.append(_Finding(importance, text))
    for row in comparison.conjunctions:
        # a conjunction is named only where it reverses the overall result
        better = _favours(comparison, row["difference"])
        if not row["significant"] or comparison.better is None or better == comparison.better:
            continue
        worse = comparison.baseline if better == comparison.system else comparison.system
        flip = 1.0 if better == comparison.system else -1.0
        share = row["share"] or 0.0
        level = str(row["level"])
        out.append(
            _Finding(
                1.0 + abs(row["difference"]) * share,
                f"{better} is better than {worse} on {_conjunction_phrase(row, task)} "
                f"({metric_label(metric)} {signed_points(metric, flip * row['difference'])}, "
                f"adjusted {format_p(row['q_value'])}; {share:.0%} of {unit_noun(task, level)}), "
                "the reverse of the overall result",
            )
        )
    return out


def _slice_finding(found: Slice, task: str, primary_metric: str) -> _Finding:
    conditions = [(c["feature"], c["bucket"]) for c in found.conditions]
    where = phrase(conditions, found.level, task)
    metric = ""
    if found.metric is not None and found.metric.get("value") is not None:
        metric = f", {metric_label(primary_metric)} {found.metric['value']:.3f}"
    text = (
        f"{found.system} does worst on {where}: {found.loss_name} {_amount(found.loss)} vs "
        f"{_amount(found.rest_loss)} elsewhere ({found.n:,} {unit_noun(task, found.level)}, "
        f"{found.share:.0%}{metric}, adjusted {format_p(found.q_value)})"
    )
    return _Finding((found.loss - found.rest_loss) * found.share, text)


def _amount(value: float) -> str:
    return f"{value:.1%}" if 0 <= value <= 1 else f"{value:.3g}"


def _confusion_finding(name: str, system: Any, task: str) -> list[_Finding]:
    table = getattr(system, "confusion", None)
    if not table:
        return []
    gold, predicted, matrix = table["gold"], table["predicted"], table["matrix"]
    total = sum(sum(row) for row in matrix)
    best: tuple[int, str, str, int] | None = None
    for i, g in enumerate(gold):
        for j, p in enumerate(predicted):
            if g == p or g not in predicted or p not in gold:
                continue  # a correct cell, or spurious / missed
            count = matrix[i][j]
            if count and (best is None or count > best[0]):
                best = (count, g, p, sum(matrix[i]))
    if best is None or not total or best[0] / total < MIN_CONFUSION_SHARE:
        return []
    count, g, p, row_total = best
    noun = "spans" if table.get("level") == "span" else unit_noun(task, "example")
    text = (
        f"{name}'s most frequent confusion: gold {g} predicted as {p} "
        f"({count:,} {noun}, {count / row_total:.1%} of gold {g})"
    )
    return [_Finding(count / total * 0.5, text)]


def _calibration_finding(name: str, system: Any) -> list[_Finding]:
    calibration = getattr(system, "calibration", None)
    if not calibration:
        return []
    ece = calibration["ece"]
    if ece["value"] is None or ece["ci"] is None or ece["ci"][0] <= ECE_NOTEWORTHY:
        return []
    gap = sum(b["n"] * (b["confidence"] - b["accuracy"]) for b in calibration["bins"] if b["n"])
    direction = "over-confident" if gap > 0 else "under-confident"
    low, high = ece["ci"]
    text = (
        f"{name} is {direction}: ECE {ece['value']:.3f} [{low:.3f}, {high:.3f}] "
        f"over {calibration['n']:,} predictions"
    )
    return [_Finding(ece["value"], text)]
