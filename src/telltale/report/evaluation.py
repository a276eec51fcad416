"""The self-contained HTML page of ``telltale evaluate``: findings first, then the evidence.

:func:`render_evaluation_html` lays out an evaluation (an
:class:`~telltale.analysis.evaluate.EvaluationResult`, or its JSON dict) as one offline page in
the style of the drift report (its CSS, sortable tables and Content-Security-Policy):

1. findings in plain language;
2. overall metrics of every system with intervals;
3. comparisons of every pair: all metrics overall, then every bucket and every conjunction of
   two buckets, with intervals of the difference, p-values, Benjamini–Hochberg adjusted
   p-values and effect sizes;
4. per feature, the primary metric of every system per bucket side by side (a dot-and-whisker
   chart and a table);
5. each system's underperforming slices;
6. confusion heatmaps and the calibration reliability diagram;
7. drill-down: a few examples of every bucket, slice and frequent confusion (errors first) —
   only when given the result object, which holds the data.

Charts are inline SVG built here on :mod:`telltale.report.charts`' helpers (scales, number
formats, the confusion heatmap), one Okabe–Ito colour per system. Every text from the data
(system names, labels, sentences) is escaped: by Jinja's autoescaping in the page, by
:func:`html.escape` inside the charts.

>>> page = render_evaluation_html({"task": "ner", "systems": {}})
>>> page.startswith("<!DOCTYPE html>") and "</html>" in page
True
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from html import escape
from typing import Any

from telltale.analysis.evaluate.wording import FRACTION_METRICS
from telltale.report.charts import (
    ChartError,
    _c,
    _open,
    _short,
    format_number,
    heatmap_svg,
    nice_ticks,
)
from telltale.report.html import Cell, Header, Row, Table, _asset, _environment

__all__ = ["interval_svg", "reliability_svg", "render_evaluation_html"]

_DASH = "—"
_PALETTE_SIZE = 8  # evaluation.css colours systems s0..s7 (Okabe–Ito), then repeats
_WIDTH = 560


# --------------------------------------------------------------------------------------------
# Charts
# --------------------------------------------------------------------------------------------


def _system_class(index: int) -> str:
    return f"s{index % _PALETTE_SIZE}"


def _finite(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def interval_svg(
    rows: Sequence[str],
    systems: Sequence[str],
    values: Sequence[Sequence[object]],
    intervals: Sequence[Sequence[object]],
    *,
    label: str = "",
) -> str:
    """Dots with interval whiskers: per row (bucket), one dot per system.

    ``values[r][s]`` is system ``s``'s value on row ``r`` (``None``: nothing drawn) and
    ``intervals[r][s]`` its ``[low, high]`` or ``None``.
    """
    if len(values) != len(rows) or len(intervals) != len(rows):
        raise ChartError("interval chart: one list of values and intervals per row")
    if not rows or not systems:
        raise ChartError("interval chart: no rows or no systems")
    points: list[float] = []
    for r in range(len(rows)):
        if len(values[r]) != len(systems) or len(intervals[r]) != len(systems):
            raise ChartError("interval chart: one value and interval per system in every row")
        for s in range(len(systems)):
            value = _finite(values[r][s])
            if value is not None:
                points.append(value)
            interval = intervals[r][s]
            if isinstance(interval, Sequence) and len(interval) == 2:
                points += [v for v in (_finite(interval[0]), _finite(interval[1])) if v is not None]
    if not points:
        raise ChartError("interval chart: no finite value to draw")
    low, high = min(points), max(points)
    if high - low < 1e-9:
        low, high = low - 0.05, high + 0.05
    ticks = nice_ticks(low, high, 5)
    low, high = min(low, ticks[0]), max(high, ticks[-1])
    left, right, top = 150.0, 14.0, 30.0
    lane = 12.0
    row_height = lane * len(systems) + 8
    plot_w = _WIDTH - left - right
    height = int(top + row_height * len(rows) + 24)
    base = top + row_height * len(rows)

    def x_of(v: float) -> float:
        return left + (v - low) / (high - low) * plot_w

    parts = _open(_WIDTH, height, label or "metric per bucket with intervals")
    step = ticks[1] - ticks[0] if len(ticks) > 1 else 1.0
    for tick in ticks:
        x = _c(x_of(tick))
        parts.append(f'<line class="grid" x1="{x}" x2="{x}" y1="{_c(top)}" y2="{_c(base)}"/>')
        text = format_number(round(tick, 12)) if step < 1e4 else format_number(tick)
        parts.append(f'<text class="xt" x="{x}" y="{_c(base + 14)}">{escape(text)}</text>')
    for r, name in enumerate(rows):
        y0 = top + r * row_height
        if r:
            parts.append(
                f'<line class="grid" x1="4" x2="{_WIDTH - right}" y1="{_c(y0)}" y2="{_c(y0)}"/>'
            )
        parts.append(
            f'<text class="yt" x="{_c(left - 8)}" y="{_c(y0 + row_height / 2)}" dy="4">'
            f"<title>{escape(name)}</title>{escape(_short(name, 24))}</text>"
        )
        for s, system in enumerate(systems):
            y = y0 + 4 + lane * s + lane / 2
            css = _system_class(s)
            interval = intervals[r][s]
            tip = f"{system} — {name}: "
            value = _finite(values[r][s])
            tip += _DASH if value is None else format_number(value)
            if isinstance(interval, Sequence) and len(interval) == 2:
                lo, hi = _finite(interval[0]), _finite(interval[1])
                if lo is not None and hi is not None:
                    tip += f" [{format_number(lo)}, {format_number(hi)}]"
                    parts.append(
                        f'<line class="whisker {css}" x1="{_c(x_of(lo))}" x2="{_c(x_of(hi))}" '
                        f'y1="{_c(y)}" y2="{_c(y)}"/>'
                    )
            if value is not None:
                parts.append(
                    f'<circle class="dot {css}" cx="{_c(x_of(value))}" cy="{_c(y)}" r="4">'
                    f"<title>{escape(tip)}</title></circle>"
                )
    parts.append(
        f'<line class="axis" x1="{_c(left)}" x2="{_WIDTH - right}" y1="{_c(base)}" y2="{_c(base)}"/>'
    )
    _legend(parts, systems)
    parts.append("</svg>")
    return "".join(parts)


def _legend(parts: list[str], systems: Sequence[str]) -> None:
    x = 4.0
    for s, system in enumerate(systems):
        name = _short(system, 18)
        parts.append(
            f'<circle class="dot {_system_class(s)}" cx="{_c(x + 5)}" cy="13" r="4"/>'
            f'<text x="{_c(x + 13)}" y="17">{escape(name)}</text>'
        )
        x += 24 + 6.2 * len(name)


def reliability_svg(systems: Sequence[str], tables: Sequence[Sequence[Mapping[str, Any]]]) -> str:
    """Reliability diagram: accuracy against mean confidence per bin, one line per system;
    dot areas follow the bins' shares of predictions; the diagonal is perfect calibration."""
    if len(systems) != len(tables) or not systems:
        raise ChartError("reliability chart: one table of bins per system")
    size, left, top = 300.0, 46.0, 28.0
    width, height = int(left + size + 16), int(top + size + 40)

    def x_of(v: float) -> float:
        return left + v * size

    def y_of(v: float) -> float:
        return top + (1 - v) * size

    parts = _open(width, height, "reliability diagram")
    for tick in (0.0, 0.25, 0.5, 0.75, 1.0):
        tx, ty = _c(x_of(tick)), _c(y_of(tick))
        parts.append(
            f'<line class="grid" x1="{tx}" x2="{tx}" y1="{_c(top)}" y2="{_c(top + size)}"/>'
        )
        parts.append(
            f'<line class="grid" x1="{_c(left)}" x2="{_c(left + size)}" y1="{ty}" y2="{ty}"/>'
        )
        parts.append(f'<text class="xt" x="{tx}" y="{_c(top + size + 14)}">{tick:g}</text>')
        parts.append(f'<text class="yt" x="{_c(left - 5)}" y="{ty}" dy="4">{tick:g}</text>')
    parts.append(
        f'<line class="diagonal" x1="{_c(x_of(0))}" y1="{_c(y_of(0))}" '
        f'x2="{_c(x_of(1))}" y2="{_c(y_of(1))}"/>'
    )
    parts.append(f'<text class="xt" x="{_c(left + size / 2)}" y="{height - 4}">confidence</text>')
    parts.append(f'<text x="4" y="{_c(top - 8)}">accuracy</text>')
    for s, (system, bins) in enumerate(zip(systems, tables, strict=True)):
        css = _system_class(s)
        total = sum(int(b.get("n") or 0) for b in bins) or 1
        points = []
        for b in bins:
            confidence, accuracy = _finite(b.get("confidence")), _finite(b.get("accuracy"))
            if confidence is None or accuracy is None or not b.get("n"):
                continue
            points.append((x_of(confidence), y_of(accuracy), int(b["n"]), b, confidence, accuracy))
        if len(points) > 1:
            path = " ".join(f"{_c(x)},{_c(y)}" for x, y, *_ in points)
            parts.append(f'<polyline class="line {css}" points="{path}"/>')
        for x, y, n, b, confidence, accuracy in points:
            radius = 2.5 + 7 * math.sqrt(n / total)
            tip = (
                f"{system} — bin {b.get('bin', '')}: {n:,} predictions, confidence "
                f"{format_number(confidence)}, accuracy {format_number(accuracy)}"
            )
            parts.append(
                f'<circle class="dot {css}" cx="{_c(x)}" cy="{_c(y)}" r="{_c(radius)}">'
                f"<title>{escape(tip)}</title></circle>"
            )
    _legend(parts, systems)
    parts.append("</svg>")
    return "".join(parts)


# --------------------------------------------------------------------------------------------
# Formatting
# --------------------------------------------------------------------------------------------


def _map(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _value(metric: str, value: object) -> str:
    number = _finite(value)
    if number is None:
        return _DASH
    return f"{number:.4f}" if metric in FRACTION_METRICS else format_number(number)


def _interval(metric: str, interval: object) -> str:
    if not isinstance(interval, Sequence) or len(interval) != 2:
        return ""
    return f"[{_value(metric, interval[0])}, {_value(metric, interval[1])}]"


def _signed(metric: str, value: object) -> str:
    number = _finite(value)
    if number is None:
        return _DASH
    text = _value(metric, abs(number))
    return ("+" if number > 0 else "−" if number < 0 else "±") + text


def _p(value: object) -> Cell:
    number = _finite(value)
    if number is None:
        return Cell(_DASH, sort="", css="num")
    text = "<0.001" if number < 0.001 else f"{number:.3f}"
    return Cell(text, sort=repr(number), css="num")


def _num(value: object, text: str | None = None) -> Cell:
    number = _finite(value)
    if number is None:
        return Cell(_DASH, sort="", css="num")
    return Cell(text if text is not None else format_number(number), sort=repr(number), css="num")


def _metric_cell(metric: str, entry: Mapping[str, Any]) -> Cell:
    value = entry.get("value")
    text = _value(metric, value)
    interval = _interval(metric, entry.get("ci"))
    return _num(value, f"{text} {interval}".strip())


# --------------------------------------------------------------------------------------------
# Sections
# --------------------------------------------------------------------------------------------


def _overall(data: Mapping[str, Any], systems: list[str]) -> Table | None:
    if not systems:
        return None
    first = _map(_map(data["systems"][systems[0]]).get("overall"))
    metrics = list(first)
    headers = [Header("System")] + [Header(m, numeric=True) for m in metrics]
    rows = []
    for index, name in enumerate(systems):
        overall = _map(_map(data["systems"][name]).get("overall"))
        cells = [Cell(name, css=f"name sys {_system_class(index)}")]
        cells += [_metric_cell(m, _map(overall.get(m))) for m in metrics]
        rows.append(Row(cells))
    return Table(headers, rows)


def _per_label(data: Mapping[str, Any], systems: list[str], primary: str) -> Table | None:
    labels: list[str] = []
    for name in systems:
        for label in _map(_map(data["systems"][name]).get("per_label")):
            if label not in labels:
                labels.append(label)
    if not labels:
        return None
    headers = [Header("Label")] + [Header(f"{s}: {primary}", numeric=True) for s in systems]
    rows = []
    for label in labels:
        cells = [Cell(label, css="name")]
        for name in systems:
            entry = _map(_map(_map(data["systems"][name]).get("per_label")).get(label))
            metric = entry.get(primary, entry.get("f1"))
            if isinstance(metric, Mapping):
                cells.append(_metric_cell(primary, metric))
            else:
                cells.append(_num(metric, _value(primary, metric)))
        rows.append(Row(cells))
    return Table(headers, rows)


_DIFF_HEADERS = [
    Header("Difference", numeric=True),
    Header("Interval of the difference", title="Paired bootstrap percentile interval"),
    Header("p-value", numeric=True, ascending=True),
    Header("Adjusted p", numeric=True, ascending=True, title="Benjamini–Hochberg"),
    Header("Effect size", numeric=True, title="difference / (sqrt(n) × bootstrap SE): Cohen's d_z"),
]


def _difference_cells(metric: str, entry: Mapping[str, Any]) -> list[Cell]:
    interval = entry.get("ci")
    ci_text = ""
    if isinstance(interval, Sequence) and len(interval) == 2:
        ci_text = f"[{_signed(metric, interval[0])}, {_signed(metric, interval[1])}]"
    effect = _finite(entry.get("effect_size"))
    return [
        _num(entry.get("difference"), _signed(metric, entry.get("difference"))),
        Cell(ci_text or _DASH),
        _p(entry.get("p_value")),
        _p(entry.get("q_value")),
        _num(effect, _DASH if effect is None else f"{effect:+.3f}"),
    ]


def _comparison_view(comparison: Mapping[str, Any]) -> dict[str, Any]:
    baseline, system = str(comparison.get("baseline")), str(comparison.get("system"))
    primary = str(comparison.get("metric"))
    overall_rows = []
    for metric, entry in _map(comparison.get("overall")).items():
        entry = _map(entry)
        overall_rows.append(
            Row(
                [
                    Cell(metric, css="name"),
                    _num(entry.get("baseline"), _value(metric, entry.get("baseline"))),
                    _num(entry.get("system"), _value(metric, entry.get("system"))),
                    *_difference_cells(metric, entry),
                    Cell(str(entry.get("test", ""))),
                ],
                css="significant" if entry.get("significant") else "",
            )
        )
    overall = Table(
        [
            Header("Metric"),
            Header(baseline, numeric=True),
            Header(system, numeric=True),
            *_DIFF_HEADERS,
            Header("Test"),
        ],
        overall_rows,
    )
    bucket_rows = []
    for feature, rows in _map(comparison.get("buckets")).items():
        for entry in rows if isinstance(rows, list) else []:
            entry = _map(entry)
            bucket_rows.append(
                Row(
                    [
                        Cell(str(feature), css="name"),
                        Cell(str(entry.get("bucket"))),
                        _num(entry.get("n")),
                        _num(entry.get("baseline"), _value(primary, entry.get("baseline"))),
                        _num(entry.get("system"), _value(primary, entry.get("system"))),
                        *_difference_cells(primary, entry),
                    ],
                    css="significant" if entry.get("significant") else "",
                )
            )
    buckets = Table(
        [
            Header("Feature"),
            Header("Bucket"),
            Header("n", numeric=True),
            Header(f"{baseline}: {primary}", numeric=True),
            Header(f"{system}: {primary}", numeric=True),
            *_DIFF_HEADERS,
        ],
        bucket_rows,
    )
    conjunction_rows = []
    for entry in comparison.get("conjunctions") or []:
        entry = _map(entry)
        conditions = " & ".join(
            f"{_map(c).get('feature')} = {_map(c).get('bucket')}"
            for c in entry.get("conditions") or []
        )
        conjunction_rows.append(
            Row(
                [
                    Cell(conditions, css="name"),
                    _num(entry.get("n")),
                    _num(entry.get("baseline"), _value(primary, entry.get("baseline"))),
                    _num(entry.get("system"), _value(primary, entry.get("system"))),
                    *_difference_cells(primary, entry),
                ],
                css="significant" if entry.get("significant") else "",
            )
        )
    conjunctions = Table(
        [
            Header("Buckets"),
            Header("n", numeric=True),
            Header(f"{baseline}: {primary}", numeric=True),
            Header(f"{system}: {primary}", numeric=True),
            *_DIFF_HEADERS,
        ],
        conjunction_rows,
    )
    better = comparison.get("better")
    return {
        "title": f"{system} vs {baseline}",
        "better": str(better) if better else None,
        "overall": overall,
        "buckets": buckets if bucket_rows else None,
        "conjunctions": conjunctions if conjunction_rows else None,
    }


def _feature_views(
    data: Mapping[str, Any], systems: list[str], primary: str
) -> list[dict[str, Any]]:
    features = _map(data.get("features"))
    comparisons = [c for c in data.get("comparisons") or [] if isinstance(c, Mapping)]
    single = comparisons[0] if len(comparisons) == 1 else None
    views = []
    for index, (feature, info) in enumerate(features.items()):
        per_system = [
            _map(_map(data["systems"][name]).get("buckets")).get(feature) or [] for name in systems
        ]
        buckets = [str(_map(row).get("bucket")) for row in per_system[0]] if per_system else []
        if not buckets:
            continue
        values = [[_map(rows[i]).get(primary) for rows in per_system] for i in range(len(buckets))]
        intervals = [[_map(rows[i]).get("ci") for rows in per_system] for i in range(len(buckets))]
        try:
            svg: str | None = interval_svg(
                buckets, systems, values, intervals, label=f"{primary} by {feature}"
            )
        except ChartError:
            svg = None
        headers = [Header("Bucket"), Header("n", numeric=True)]
        headers += [Header(f"{s}: {primary}", numeric=True) for s in systems]
        differences = {}
        if single is not None:
            headers += [
                Header(f"{single.get('system')} − {single.get('baseline')}", numeric=True),
                Header("Adjusted p", numeric=True, ascending=True),
            ]
            differences = {
                str(_map(e).get("bucket")): _map(e)
                for e in _map(single.get("buckets")).get(feature) or []
            }
        rows = []
        for i, bucket in enumerate(buckets):
            entries = [_map(r[i]) for r in per_system]
            cells = [Cell(bucket, css="name"), _num(max(int(e.get("n") or 0) for e in entries))]
            cells += [
                _metric_cell(primary, {"value": e.get(primary), "ci": e.get("ci")}) for e in entries
            ]
            css = ""
            if single is not None:
                entry = differences.get(bucket, {})
                cells += [
                    _num(entry.get("difference"), _signed(primary, entry.get("difference"))),
                    _p(entry.get("q_value")),
                ]
                css = "significant" if entry.get("significant") else ""
            rows.append(Row(cells, css=css))
        info = _map(info)
        views.append(
            {
                "anchor": f"feature-{index}",
                "name": str(feature),
                "description": str(info.get("description") or ""),
                "level": str(info.get("level") or ""),
                "method": str(info.get("method") or ""),
                "svg": svg,
                "table": Table(headers, rows),
            }
        )
    return views


def _slices_table(data: Mapping[str, Any], primary: str) -> Table | None:
    rows = []
    for entry in data.get("slices") or []:
        entry = _map(entry)
        metric = _map(entry.get("metric"))
        merged = [str(m) for m in entry.get("merged") or []]
        rows.append(
            Row(
                [
                    Cell(str(entry.get("system"))),
                    Cell(str(entry.get("description")), css="name"),
                    _num(entry.get("n")),
                    _num(entry.get("share"), f"{float(entry.get('share') or 0):.1%}"),
                    _num(entry.get("loss"), _value("accuracy", entry.get("loss"))),
                    _num(entry.get("rest_loss"), _value("accuracy", entry.get("rest_loss"))),
                    _num(metric.get("value"), _value(primary, metric.get("value"))),
                    _p(entry.get("q_value")),
                    Cell(
                        f"{len(merged)} similar" if merged else _DASH,
                        title="; ".join(merged[:20]) if merged else None,
                    ),
                ]
            )
        )
    if not rows:
        return None
    headers = [
        Header("System"),
        Header("Slice"),
        Header("n", numeric=True),
        Header("Share", numeric=True),
        Header("Loss in slice", numeric=True, title="error rate, or mean loss"),
        Header("Loss elsewhere", numeric=True),
        Header(primary, numeric=True),
        Header("Adjusted p", numeric=True, ascending=True, title="one-sided, Benjamini–Hochberg"),
        Header("Merged", title="overlapping or refining slices folded into this one"),
    ]
    return Table(headers, rows)


def _confusions(data: Mapping[str, Any], systems: list[str]) -> list[dict[str, Any]]:
    out = []
    for name in systems:
        table = _map(_map(data["systems"][name]).get("confusion"))
        gold, predicted = list(table.get("gold") or []), list(table.get("predicted") or [])
        matrix = table.get("matrix")
        if not gold or not isinstance(matrix, list):
            continue
        labels = [str(g) for g in gold]
        if table.get("level") == "span":  # the last row is "spurious", the last column "missed"
            labels[-1] = "(none)"
        note = None
        svg = None
        if len(gold) == len(predicted):
            try:
                svg = heatmap_svg(labels, matrix, label=f"{name}: confusion")
            except ChartError as error:
                note = str(error)
        out.append(
            {
                "system": name,
                "svg": svg,
                "note": note,
                "span": table.get("level") == "span",
            }
        )
    return out


def _calibration(data: Mapping[str, Any], systems: list[str]) -> dict[str, Any] | None:
    names, tables, rows = [], [], []
    for name in systems:
        calibration = _map(_map(data["systems"][name]).get("calibration"))
        if not calibration:
            continue
        names.append(name)
        tables.append([_map(b) for b in calibration.get("bins") or []])
        rows.append(
            Row(
                [
                    Cell(name, css="name"),
                    _metric_cell("ece", _map(calibration.get("ece"))),
                    _metric_cell("mce", _map(calibration.get("mce"))),
                    _num(calibration.get("n")),
                ]
            )
        )
    if not names:
        return None
    order = [systems.index(n) for n in names]
    try:
        svg: str | None = reliability_svg(names, tables)
    except ChartError:
        svg = None
    if svg is not None and order != list(range(len(order))):
        svg = None  # colours follow system order; a partial set would mislead
    return {
        "svg": svg,
        "table": Table(
            [
                Header("System"),
                Header("ECE", numeric=True),
                Header("MCE", numeric=True),
                Header("Predictions", numeric=True),
            ],
            rows,
        ),
    }


@dataclass(frozen=True)
class _ExampleGroup:
    title: str
    system: str
    rows: list[dict[str, str]]
    total: int


def _show(value: object) -> str:
    if value is None:
        return _DASH
    if isinstance(value, (list, tuple)):
        return "; ".join(str(v) for v in value) or _DASH
    if isinstance(value, Mapping):
        return ", ".join(f"{k}={v}" for k, v in value.items())
    if isinstance(value, float):
        return format_number(value)
    return str(value)


def _example_groups(result: Any, per_bucket: int) -> list[dict[str, Any]]:
    """Per feature (and slices, confusion cells), a few examples of each bucket per system."""
    if result is None or getattr(result, "data", None) is None:
        return []
    sections: list[dict[str, Any]] = []
    systems = list(result.systems)
    features = list(result.features)
    for name in [*features, "slices", "confusion"]:
        groups: list[_ExampleGroup] = []
        for system in systems:
            members = result.members.get((system, name)) or {}
            buckets = list(members)
            if name == "confusion":
                buckets = sorted(
                    (b for b in buckets if _off_diagonal(b)),
                    key=lambda b: (-len(members[b]), b),
                )[:6]
            for bucket in buckets:
                chosen = _choose(result, system, name, bucket, per_bucket)
                if chosen:
                    groups.append(_ExampleGroup(str(bucket), system, chosen, len(members[bucket])))
        if groups:
            sections.append({"feature": name, "groups": groups})
    return sections


def _off_diagonal(cell: str) -> bool:
    gold, _, predicted = cell.partition(" -> ")
    return gold != predicted


def _choose(result: Any, system: str, feature: str, bucket: str, k: int) -> list[dict[str, str]]:
    """Up to ``k`` examples of a bucket: errors first, in data order."""
    rows = result.indices(system, feature, bucket)
    level = result.member_levels.get(feature, "example")
    errors: list[dict[str, Any]] = []
    rights: list[dict[str, Any]] = []
    for unit in rows[: max(200, k)]:
        example = result.data.describe(system, level, int(unit))
        (rights if example.get("gold") == example.get("prediction") else errors).append(example)
        if len(errors) >= k:
            break
    picked = (errors + rights)[:k]
    return [
        {
            "text": _show(e.get("text")),
            "context": _show(e.get("sentence")) if "sentence" in e else "",
            "gold": _show(e.get("gold")),
            "prediction": _show(e.get("prediction")),
            "wrong": "wrong" if e.get("gold") != e.get("prediction") else "",
        }
        for e in picked
    ]


def _settings(settings: Mapping[str, Any]) -> list[tuple[str, str]]:
    out = []
    for key, value in settings.items():
        if isinstance(value, Mapping):
            value = ", ".join(f"{k}={v}" for k, v in value.items())
        out.append((key.replace("_", " "), str(value)))
    return out


def render_evaluation_html(
    result: Any,
    *,
    title: str | None = None,
    data: Any = None,
    examples_per_bucket: int = 3,
) -> str:
    """The evaluation as one self-contained HTML page (module docstring).

    ``result`` is an ``EvaluationResult`` (examples included) or its ``to_dict()``;
    ``data`` names the gold data in the header.
    """
    report = result if isinstance(result, Mapping) else result.to_dict()
    holder = None if isinstance(result, Mapping) else result
    report = dict(report)
    report.setdefault("systems", {})
    systems = [str(s) for s in _map(report.get("systems"))]
    task = str(report.get("task") or "")
    primary = str(report.get("primary_metric") or "")
    comparisons = [_comparison_view(_map(c)) for c in report.get("comparisons") or []]
    page_title = title or f"Evaluation — {task}" if task else (title or "Evaluation")
    template = _environment().get_template("evaluation.html.j2")
    return template.render(
        title=page_title,
        page_title=page_title,
        task=task,
        primary=primary,
        data=str(data) if data is not None else None,
        n_examples=report.get("n_examples"),
        systems=[(name, _system_class(i)) for i, name in enumerate(systems)],
        settings=_settings(_map(report.get("settings"))),
        findings=[str(f) for f in report.get("findings") or []],
        overall=_overall(report, systems),
        per_label=_per_label(report, systems, primary) if primary else None,
        comparisons=comparisons,
        features=_feature_views(report, systems, primary),
        slices=_slices_table(report, primary),
        confusions=_confusions(report, systems),
        calibration=_calibration(report, systems),
        examples=_example_groups(holder, examples_per_bucket),
        notes=[str(n) for n in report.get("notes") or []],
        css=_asset("report.css") + "\n" + _asset("evaluation.css"),
        js=_asset("report.js"),
    )
