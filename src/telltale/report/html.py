"""The self-contained HTML page of ``telltale report``: one file, readable offline.

:func:`render_html` turns the report dict (the JSON contract) into a page with a header and a
verdict line, then the drift, data-quality, performance, per-column and error sections. Styles,
the small table-sorting script and the SVG charts (:mod:`telltale.report.charts`) are inlined,
and a Content-Security-Policy forbids loading anything, so the page never touches the network.

Every key of the report may be missing or null: what is there is shown, what is not is said to
be absent. All text from the data (column names, categories, file names, messages) is escaped
by Jinja's autoescaping or, inside the charts, by :mod:`telltale.report.charts`.

This module reads the dict into small view objects (formatted text, sort keys, CSS classes) so
the template only lays them out.

>>> page = render_html({"title": "Empty"})
>>> page.startswith("<!DOCTYPE html>") and "</html>" in page
True
"""

from __future__ import annotations

import datetime as dt
import functools
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import jinja2

from telltale.report.charts import (
    ChartError,
    bar_svg,
    format_number,
    format_share,
    heatmap_svg,
    histogram_svg,
)

__all__ = ["LOWER_IS_BETTER", "render_html"]

LOWER_IS_BETTER = frozenset(
    {"log_loss", "ece", "mce", "fnr", "fpr", "mae", "rmse", "mape", "mse", "brier", "brier_score"}
)
"""Metrics where a smaller value is better: a rise is shown as getting worse."""

_DASH = "—"
_METRIC_LABELS = {
    "accuracy": "Accuracy",
    "balanced_accuracy": "Balanced accuracy",
    "precision": "Precision",
    "recall": "Recall",
    "f1": "F1",
    "roc_auc": "ROC AUC",
    "pr_auc": "PR AUC",
    "log_loss": "Log loss",
    "brier": "Brier score",
    "brier_score": "Brier score",
    "ece": "Expected calibration error",
    "mce": "Maximum calibration error",
    "fnr": "False negative rate",
    "fpr": "False positive rate",
    "mae": "Mean absolute error",
    "rmse": "Root mean squared error",
    "mse": "Mean squared error",
    "mape": "Mean absolute % error",
    "r2": "R²",
}
_HEADLINE_METRICS = ("accuracy", "roc_auc", "f1", "rmse", "mae", "r2")
_STAT_LABELS = {
    "count": "values",
    "missing": "missing",
    "missing_rate": "missing rate",
    "distinct": "distinct",
    "mean": "mean",
    "std": "std",
    "min": "min",
    "p05": "5th percentile",
    "p25": "25th percentile",
    "p50": "median",
    "p75": "75th percentile",
    "p95": "95th percentile",
    "max": "max",
    "top": "most frequent",
    "top_share": "most frequent share",
    "infinite": "infinite values",
}
_COUNT_STATS = frozenset({"count", "missing", "distinct", "infinite"})
_SHARE_STATS = frozenset({"missing_rate", "top_share"})
_TIME_STATS = frozenset({"mean", "min", "p05", "p25", "p50", "p75", "p95", "max"})


# --------------------------------------------------------------------------------------------
# Reading untyped JSON
# --------------------------------------------------------------------------------------------


def _map(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _list(value: object) -> list[Any]:
    return list(value) if isinstance(value, (list, tuple)) else []


def _num(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def _text(value: object) -> str:
    """Any JSON value as display text (escaping is the template's job)."""
    if value is None:
        return _DASH
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return format_number(value) if math.isfinite(value) else _DASH
    if isinstance(value, (list, tuple)):
        return ", ".join(_text(v) for v in value)
    if isinstance(value, Mapping):
        return ", ".join(f"{k}={_text(v)}" for k, v in value.items())
    return str(value)


def _share(value: object) -> str:
    number = _num(value)
    return _DASH if number is None else format_share(number)


def _when(value: object) -> str:
    if not isinstance(value, str):
        return _DASH if value is None else _text(value)
    try:
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return value
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.timezone.utc)
        return moment.strftime("%Y-%m-%d %H:%M UTC")
    return moment.strftime("%Y-%m-%d %H:%M")


def _epoch_text(value: float) -> str:
    try:
        moment = dt.datetime.fromtimestamp(value, dt.timezone.utc)
    except (OverflowError, OSError, ValueError):
        return format_number(value)
    if moment.time() == dt.time(0):
        return moment.strftime("%Y-%m-%d")
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def _duration(seconds: float) -> str:
    for size, unit in ((86400.0, "d"), (3600.0, "h"), (60.0, "min")):
        if abs(seconds) >= size:
            return f"{seconds / size:.3g} {unit}"
    return f"{seconds:.3g} s"


# --------------------------------------------------------------------------------------------
# View objects
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cell:
    """One table cell: text, an optional link and sort key (``data-sort``), a CSS class."""

    text: str
    sort: str | None = None
    css: str = ""
    href: str | None = None
    title: str | None = None


@dataclass(frozen=True)
class Header:
    """A column header; ``ascending`` makes the first click sort small values first."""

    label: str
    numeric: bool = False
    title: str | None = None
    ascending: bool = False


@dataclass(frozen=True)
class Row:
    cells: list[Cell]
    css: str = ""


@dataclass(frozen=True)
class Table:
    headers: list[Header]
    rows: list[Row]
    css: str = ""
    sortable: bool = True


@dataclass(frozen=True)
class Part:
    """A piece of text with a CSS class: a verdict part, a badge."""

    text: str
    css: str = ""


@dataclass(frozen=True)
class MetricCard:
    key: str
    label: str
    lower_is_better: bool
    reference: str | None
    reference_ci: str | None
    current: str | None
    current_ci: str | None
    difference: str | None
    difference_ci: str | None
    verdict: Part | None


@dataclass(frozen=True)
class Chart:
    title: str
    svg: str | None
    note: str | None = None


@dataclass(frozen=True)
class ColumnBlock:
    anchor: str
    name: str
    kind: str
    dtype: str
    dtype_changed: bool
    drift: Part | None
    drift_detail: str
    issues: list[str]
    chart: Chart
    stats: Table | None
    error: str | None


@dataclass
class _Context:
    """What several sections need: the anchor of each column block."""

    anchors: dict[str, str] = field(default_factory=dict)

    def name_cell(self, name: str, *, prefix: str = "") -> Cell:
        return Cell(prefix + name, sort=name.lower(), href=self._href(name), css="name")

    def _href(self, name: str) -> str | None:
        anchor = self.anchors.get(name)
        return f"#{anchor}" if anchor else None


def _num_cell(value: object, *, share: bool = False) -> Cell:
    number = _num(value)
    if number is None:
        return Cell(_DASH, sort="", css="num")
    text = format_share(number) if share else _text(value)
    return Cell(text, sort=repr(number), css="num")


def _yes_no_cell(flag: object, *, yes_css: str) -> Cell:
    if flag is True:
        return Cell("yes", sort="1", css=f"flag {yes_css}")
    if flag is False:
        return Cell("no", sort="0", css="flag")
    return Cell(_DASH, sort="", css="flag")


# --------------------------------------------------------------------------------------------
# Sections
# --------------------------------------------------------------------------------------------

_DRIFT_HEADERS = [
    Header("Column"),
    Header("Type"),
    Header("Method"),
    Header("Statistic", numeric=True, title="Test statistic or distance of the method"),
    Header("p-value", numeric=True, title="Only for statistical tests", ascending=True),
    Header("Threshold", numeric=True, title="Drift when the p-value is below / distance above"),
    Header("Drift", numeric=True),
]


def _drift_row(ctx: _Context, name: str, result: Mapping[str, Any], prefix: str = "") -> Row:
    flag = result.get("drift")
    return Row(
        [
            ctx.name_cell(name, prefix=prefix),
            Cell(_text(result.get("kind"))),
            Cell(_text(result.get("method"))),
            _num_cell(result.get("statistic")),
            _num_cell(result.get("p_value")),
            _num_cell(result.get("threshold")),
            _yes_no_cell(flag, yes_css="alert"),
        ],
        css="drifted" if flag is True else "",
    )


def _drift_rank(flag: object) -> int:
    """Drifted first, then not drifted, then unknown."""
    return 0 if flag is True else 1 if flag is False else 2


def _drift_section(ctx: _Context, drift: Mapping[str, Any]) -> dict[str, Any] | None:
    if not drift:
        return None
    columns = _map(drift.get("columns"))
    ranked = sorted(
        ((str(name), _map(result)) for name, result in columns.items()),
        key=lambda item: _drift_rank(item[1].get("drift")),
    )
    special = []
    for role in ("target", "prediction"):
        result = _map(drift.get(role))
        if result:
            name = str(result.get("column") or role)
            special.append(_drift_row(ctx, name, result, prefix=f"{role}: "))
    return {
        "method": _text(drift.get("method")) if drift.get("method") else None,
        "rule": drift.get("auto_rule") if isinstance(drift.get("auto_rule"), str) else None,
        "table": Table(_DRIFT_HEADERS, [_drift_row(ctx, n, r) for n, r in ranked], "drift"),
        "special": Table(_DRIFT_HEADERS, special, "drift") if special else None,
        "n_errors": len(_map(drift.get("errors"))),
    }


def _issue_rows(ctx: _Context, quality: Mapping[str, Any]) -> list[Row]:
    issues = quality.get("issues")
    if not isinstance(issues, list):  # older or partial reports: per-column issue texts
        issues = [
            {"column": name, "severity": "warning", "message": message}
            for name, entry in _map(quality.get("columns")).items()
            for message in _list(_map(entry).get("issues"))
        ]
    rank = {"error": 0, "warning": 1}
    entries = sorted(map(_map, issues), key=lambda e: rank.get(str(e.get("severity")), 2))
    rows = []
    for entry in entries:
        severity = str(entry.get("severity") or "warning")
        column = entry.get("column")
        rows.append(
            Row(
                [
                    Cell(severity, css=f"sev sev-{severity if severity.isalnum() else 'other'}"),
                    ctx.name_cell(str(column)) if column is not None else Cell("(table)"),
                    Cell(_text(entry.get("message"))),
                ]
            )
        )
    return rows


def _quality_row(ctx: _Context, name: str, entry: Mapping[str, Any]) -> Row:
    missing = _map(entry.get("missing_rate"))
    dtype = _map(entry.get("dtype"))
    out = _map(entry.get("out_of_range"))
    new = _map(entry.get("new_categories"))
    constant = _map(entry.get("constant"))
    issues = _list(entry.get("issues"))
    dtype_text = _text(dtype.get("reference"))
    if dtype.get("changed"):
        dtype_text += f" → {_text(dtype.get('current'))}"
    values = [str(v) for v in _list(new.get("values"))]
    new_text = _text(new.get("count")) if new else _DASH
    if values:
        new_text += ": " + ", ".join(values[:5]) + (", …" if len(values) > 5 else "")
    out_text = _DASH
    if out:
        out_text = f"{_text(out.get('count'))} ({_share(out.get('share'))})"
    constant_text = _DASH
    if constant:
        constant_text = f"{_text(constant.get('reference'))} / {_text(constant.get('current'))}"
    return Row(
        [
            ctx.name_cell(name),
            Cell(str(len(issues)), sort=str(len(issues)), css="num"),
            _num_cell(missing.get("reference"), share=True),
            _num_cell(missing.get("current"), share=True),
            _num_cell(missing.get("change"), share=True),
            Cell(dtype_text, css="changed" if dtype.get("changed") else ""),
            Cell(out_text, sort=repr(_num(out.get("share")) or 0.0), css="num"),
            Cell(new_text, sort=str(_num(new.get("count")) or 0.0)),
            Cell(constant_text),
        ],
        css="has-issues" if issues else "",
    )


_QUALITY_HEADERS = [
    Header("Column"),
    Header("Issues", numeric=True),
    Header("Missing ref.", numeric=True, title="Share of missing values in the reference"),
    Header("Missing cur.", numeric=True, title="Share of missing values in the current data"),
    Header("Δ missing", numeric=True, title="Change of the missing share"),
    Header("Type"),
    Header("Out of range", numeric=True, title="Current values outside the reference [min, max]"),
    Header("New categories", numeric=True, title="Current categories never seen in the reference"),
    Header("Constant", title="Constant in the reference / in the current data"),
]


def _quality_section(ctx: _Context, quality: Mapping[str, Any]) -> dict[str, Any] | None:
    if not quality:
        return None
    columns = _map(quality.get("columns"))
    rows = [_quality_row(ctx, name, _map(entry)) for name, entry in columns.items()]
    rows.sort(key=lambda row: row.css != "has-issues")
    duplicates = []
    for side, entry in _map(quality.get("duplicates")).items():
        entry = _map(entry)
        duplicates.append(f"{side}: {_text(entry.get('count'))} ({_share(entry.get('share'))})")
    schema = _map(quality.get("schema"))
    changed = [
        Row(
            [
                ctx.name_cell(str(c.get("column"))),
                Cell(_text(c.get("reference"))),
                Cell(_text(c.get("current"))),
            ]
        )
        for c in map(_map, _list(schema.get("type_changed")))
    ]
    return {
        "issues": Table(
            [Header("Severity"), Header("Column"), Header("Issue")], _issue_rows(ctx, quality)
        ),
        "columns": Table(_QUALITY_HEADERS, rows, "quality") if rows else None,
        "duplicates": duplicates,
        "schema": {
            "missing": [str(v) for v in _list(schema.get("missing_in_current"))],
            "new": [str(v) for v in _list(schema.get("new_in_current"))],
            "changed": Table([Header("Column"), Header("Reference"), Header("Current")], changed)
            if changed
            else None,
        }
        if schema
        else None,
    }


def _metric(entry: object) -> tuple[float | None, str | None]:
    """A metric's value and its CI text, from ``{"value": .., "ci": [lo, hi]}`` or a number."""
    if not isinstance(entry, Mapping):
        return _num(entry), None
    return _num(entry.get("value")), _ci(entry.get("ci"))


def _ci(value: object, *, signed: bool = False) -> str | None:
    bounds = [_num(v) for v in _list(value)]
    if len(bounds) != 2 or bounds[0] is None or bounds[1] is None:
        return None
    fmt = _signed if signed else format_number
    return f"[{fmt(bounds[0])}, {fmt(bounds[1])}]"


def _signed(value: float) -> str:
    return ("+" if value > 0 else "") + format_number(value)


def _verdict(key: str, diff: float | None, ci: object) -> Part | None:
    if diff is None:
        return None
    if diff == 0:
        return Part("= unchanged", "same")
    worse = diff > 0 if key in LOWER_IS_BETTER else diff < 0
    low, high = ([_num(v) for v in _list(ci)] + [None, None])[:2]
    noise = low is not None and high is not None and low <= 0 <= high
    arrow = "▲" if diff > 0 else "▼"
    word = "worse" if worse else "better"
    if noise:
        return Part(f"{arrow} {word}, within noise (CI includes 0)", f"{word}-ns")
    return Part(f"{arrow} {word}", word)


def _metric_cards(performance: Mapping[str, Any]) -> list[MetricCard]:
    reference = _map(_map(performance.get("reference")).get("metrics"))
    current = _map(_map(performance.get("current")).get("metrics"))
    difference = _map(performance.get("difference"))
    keys = list(dict.fromkeys([*difference, *reference, *current]))
    cards = []
    for key in keys:
        ref_value, ref_ci = _metric(reference.get(key))
        cur_value, cur_ci = _metric(current.get(key))
        diff_entry = _map(difference.get(key))
        ref_value = ref_value if ref_value is not None else _num(diff_entry.get("reference"))
        cur_value = cur_value if cur_value is not None else _num(diff_entry.get("current"))
        diff = _num(diff_entry.get("difference"))
        if diff is None and ref_value is not None and cur_value is not None and not diff_entry:
            diff = cur_value - ref_value
        if ref_value is None and cur_value is None and diff is None:
            continue
        cards.append(
            MetricCard(
                key=str(key),
                label=_METRIC_LABELS.get(str(key), str(key).replace("_", " ").capitalize()),
                lower_is_better=key in LOWER_IS_BETTER,
                reference=None if ref_value is None else format_number(ref_value),
                reference_ci=ref_ci,
                current=None if cur_value is None else format_number(cur_value),
                current_ci=cur_ci,
                difference=None if diff is None else _signed(diff),
                difference_ci=_ci(diff_entry.get("ci"), signed=True),
                verdict=_verdict(str(key), diff, diff_entry.get("ci")),
            )
        )
    return cards


def _performance_section(performance: Mapping[str, Any]) -> dict[str, Any] | None:
    if not performance:
        return None
    matrices = []
    sides = []
    for role in ("reference", "current"):
        side = _map(performance.get(role))
        if not side:
            continue
        n = side.get("n")
        sides.append(Part(f"{role}: {_text(n)} rows" if n is not None else role))
        matrix = _map(side.get("confusion_matrix"))
        if matrix:
            title = role.capitalize() + (f" (n = {_text(n)})" if n is not None else "")
            try:
                svg = heatmap_svg(
                    matrix.get("labels"),
                    matrix.get("matrix"),
                    label=f"Confusion matrix, {role}",
                )
                matrices.append(Chart(title, svg))
            except ChartError as exc:
                matrices.append(Chart(title, None, f"The confusion matrix cannot be drawn: {exc}."))
    notes = [
        f"{role}: {note}"
        for role in ("reference", "current")
        for note in _list(_map(performance.get(role)).get("notes"))
    ]
    error = performance.get("error")
    return {
        "task": performance.get("task"),
        "sides": sides,
        "cards": _metric_cards(performance),
        "matrices": matrices,
        "notes": notes,
        "error": None if error is None else _text(error),
    }


def _stats_table(stats: Mapping[str, Any], kind: str) -> Table | None:
    reference, current = _map(stats.get("reference")), _map(stats.get("current"))
    keys = list(dict.fromkeys([*_STAT_LABELS, *reference, *current]))
    keys = [k for k in keys if k in reference or k in current]
    if not keys:
        return None

    def show(key: str, value: object) -> str:
        number = _num(value)
        if number is None:
            return _text(value)
        if key in _SHARE_STATS:
            return format_share(number)
        if key in _COUNT_STATS:
            return f"{round(number):,}"  # distinct counts may be estimates
        if kind == "datetime" and key in _TIME_STATS:
            return _epoch_text(number)
        if kind == "datetime" and key == "std":
            return _duration(number)
        return format_number(number)

    rows = [
        Row(
            [
                Cell(_STAT_LABELS.get(key, key)),
                Cell(show(key, reference.get(key)), css="num"),
                Cell(show(key, current.get(key)), css="num"),
            ]
        )
        for key in keys
    ]
    headers = [
        Header("Statistic"),
        Header("Reference", numeric=True),
        Header("Current", numeric=True),
    ]
    return Table(headers, rows, "stats", sortable=False)


def _chart(name: str, kind: str, chart: Mapping[str, Any]) -> Chart:
    title = "Distribution: reference vs current"
    kind_of_chart = chart.get("type")
    try:
        if kind_of_chart == "histogram":
            svg = histogram_svg(
                chart.get("edges"),
                chart.get("reference"),
                chart.get("current"),
                label=name,
                time_axis=kind == "datetime",
            )
        elif kind_of_chart == "bar":
            svg = bar_svg(
                chart.get("categories"),
                chart.get("reference"),
                chart.get("current"),
                label=name,
            )
        elif not chart:
            return Chart(title, None, "No distribution data for this column.")
        else:
            return Chart(title, None, f"Unknown chart type: {_text(kind_of_chart)}.")
    except ChartError as exc:
        return Chart(title, None, f"The chart cannot be drawn: {exc}.")
    return Chart(title, svg)


def _column_block(
    anchor: str,
    name: str,
    entry: Mapping[str, Any],
    drift: Mapping[str, Any],
    quality: Mapping[str, Any],
) -> ColumnBlock:
    kind = str(entry.get("kind") or drift.get("kind") or "")
    dtype = _map(entry.get("dtype"))
    ref_type, cur_type = dtype.get("reference"), dtype.get("current")
    changed = ref_type is not None and cur_type is not None and ref_type != cur_type
    dtype_text = _text(ref_type) + (f" → {_text(cur_type)}" if changed else "")
    badge, detail = None, ""
    if drift:
        flag = drift.get("drift")
        badge = (
            Part("drifted", "alert")
            if flag is True
            else Part("no drift", "ok")
            if flag is False
            else Part("drift unknown")
        )
        parts = [f"{_text(drift.get('method'))}: statistic {_text(drift.get('statistic'))}"]
        if drift.get("p_value") is not None:
            parts.append(f"p-value {_text(drift.get('p_value'))}")
        parts.append(f"threshold {_text(drift.get('threshold'))}")
        extra = {
            k: v for k, v in _map(drift.get("details")).items() if v is None or _num(v) is not None
        }
        detail = ", ".join(parts) + (f" ({_text(extra)})" if extra else "")
    error = entry.get("error")
    return ColumnBlock(
        anchor=anchor,
        name=name,
        kind=kind or _DASH,
        dtype=dtype_text,
        dtype_changed=changed,
        drift=badge,
        drift_detail=detail,
        issues=[str(i) for i in _list(quality.get("issues"))],
        chart=_chart(name, kind, _map(entry.get("chart"))),
        stats=_stats_table(_map(entry.get("stats")), kind),
        error=None if error is None else _text(error),
    )


def _error_rows(ctx: _Context, report: Mapping[str, Any]) -> list[Row]:
    rows: list[Row] = []

    def add(where: str, column: object, message: object) -> None:
        name = ctx.name_cell(str(column)) if column is not None else Cell(_DASH)
        rows.append(Row([Cell(where), name, Cell(_text(message))]))

    for column, message in _map(_map(report.get("drift")).get("errors")).items():
        add("drift", column, message)
    for column, entry in _map(report.get("columns")).items():
        if _map(entry).get("error") is not None:
            add("column profile", column, _map(entry).get("error"))
    error = _map(report.get("performance")).get("error")
    if error is not None:
        add("performance", None, error)
    for message in _list(report.get("errors")):
        add("report", None, message)
    return rows


# --------------------------------------------------------------------------------------------
# Header and verdict
# --------------------------------------------------------------------------------------------


def _sides(report: Mapping[str, Any]) -> list[dict[str, Any]]:
    out = []
    for role in ("reference", "current"):
        side = _map(report.get(role))
        if not side:
            continue
        size = []
        if side.get("rows") is not None:
            size.append(f"{_text(side.get('rows'))} rows")
        if side.get("columns") is not None:
            size.append(f"{_text(side.get('columns'))} columns")
        note = "from a saved profile" if side.get("profile_only") else None
        source = side.get("source")
        out.append(
            {
                "role": role,
                "source": _DASH if source is None else _text(source),
                "size": " × ".join(size),
                "note": note,
            }
        )
    return out


def _settings(settings: Mapping[str, Any]) -> list[tuple[str, str]]:
    labels = {"target": "target", "prediction": "prediction", "score": "score", "task": "task"}
    labels |= {"method": "drift method", "thresholds": "thresholds", "seed": "seed"}
    labels["n_bootstrap"] = "bootstrap samples"
    return [
        (label, _text(settings[key]))
        for key, label in labels.items()
        if settings.get(key) not in (None, {}, [], "")
    ]


def _drift_counts(report: Mapping[str, Any]) -> tuple[float | None, float | None, float | None]:
    summary, drift = _map(report.get("summary")), _map(report.get("drift"))
    columns = _map(drift.get("columns"))

    def pick(key: str, fallback: float | None) -> float | None:
        for source in (summary, drift):
            value = _num(source.get(key))
            if value is not None:
                return value
        return fallback

    counted = sum(1 for r in columns.values() if _map(r).get("drift") is True)
    n_columns = pick("n_columns", float(len(columns)) if columns else None)
    n_drifted = pick("n_drifted", float(counted) if columns else None)
    share = None
    if n_columns and n_drifted is not None:
        share = n_drifted / n_columns
    return n_drifted, n_columns, pick("share_drifted", share)


def _count_issues(report: Mapping[str, Any]) -> int | None:
    value = _num(_map(report.get("summary")).get("n_quality_issues"))
    if value is not None:
        return int(value)
    quality = _map(report.get("quality"))
    if isinstance(quality.get("issues"), list):
        return len(quality["issues"])
    return None


def _plural(count: float, word: str) -> str:
    return f"{count:,.0f} {word}" + ("" if count == 1 else "s")


def _verdict_parts(report: Mapping[str, Any], cards: Iterable[MetricCard]) -> list[Part]:
    parts = []
    n_drifted, n_columns, share = _drift_counts(report)
    if n_drifted is not None and n_columns is not None:
        text = f"{n_drifted:,.0f} of {_plural(n_columns, 'column')} drifted"
        if share is not None:
            text += f" ({format_share(share)})"
        parts.append(Part(text, "alert" if n_drifted else "ok"))
    if _map(report.get("summary")).get("dataset_drift") is True:
        parts.append(Part("dataset drift detected", "alert"))
    issues = _count_issues(report)
    if issues is not None:
        text = _plural(issues, "data-quality issue") if issues else "no data-quality issues"
        parts.append(Part(text, "warn" if issues else "ok"))
    by_key = {card.key: card for card in cards}
    key = next((k for k in _HEADLINE_METRICS if k in by_key), next(iter(by_key), None))
    if key is not None:
        card = by_key[key]
        values = " → ".join(v for v in (card.reference, card.current) if v is not None)
        css = card.verdict.css.split("-")[0] if card.verdict else ""
        parts.append(Part(f"{card.key} {values}", css))
    elif _map(report.get("performance")).get("error") is not None:
        parts.append(Part("performance not available", "warn"))
    return parts


# --------------------------------------------------------------------------------------------
# Rendering
# --------------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("telltale.report", "templates"),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )


@functools.lru_cache(maxsize=4)
def _asset(name: str) -> str:
    """A CSS or JS partial, inlined verbatim (not parsed as a template)."""
    env = _environment()
    assert env.loader is not None
    source, _, _ = env.loader.get_source(env, name)
    return source


def render_html(report: Mapping[str, Any]) -> str:
    """The report as one self-contained HTML document (styles, script and charts inline)."""
    report = _map(report)
    columns = _map(report.get("columns"))
    drift, quality = _map(report.get("drift")), _map(report.get("quality"))
    ctx = _Context({str(name): f"col-{i}" for i, name in enumerate(columns)})
    drift_columns, quality_columns = _map(drift.get("columns")), _map(quality.get("columns"))
    blocks = [
        _column_block(
            ctx.anchors[str(name)],
            str(name),
            _map(entry),
            _map(drift_columns.get(name)),
            _map(quality_columns.get(name)),
        )
        for name, entry in columns.items()
    ]
    performance = _performance_section(_map(report.get("performance")))
    cards = performance["cards"] if performance else []
    reference, current = _map(report.get("reference")), _map(report.get("current"))
    title = str(report.get("title") or "Data report")
    compared = " vs ".join(str(s["source"]) for s in (reference, current) if s.get("source"))
    errors = _error_rows(ctx, report)
    template = _environment().get_template("report.html.j2")
    return template.render(
        title=title,
        page_title=f"{title} — {compared}" if compared else title,
        created=_when(report.get("created")) if report.get("created") else None,
        version=report.get("telltale_version"),
        sides=_sides(report),
        settings=_settings(_map(report.get("settings"))),
        verdict=_verdict_parts(report, cards),
        drift=_drift_section(ctx, drift),
        quality=_quality_section(ctx, quality),
        performance=performance,
        blocks=blocks,
        errors=Table([Header("Where"), Header("Column"), Header("Message")], errors)
        if errors
        else None,
        css=_asset("report.css"),
        js=_asset("report.js"),
    )
