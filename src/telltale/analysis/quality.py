"""Data-quality checks of a current table against a reference, read off their profiles.

Per column: missing-value rate and its change, type changes, values outside the reference
range, categories the reference never had, constant columns. Per table: schema differences and
duplicate rows (the one check that needs the rows themselves: :func:`count_duplicate_rows`).

>>> from telltale.analysis.profile import ColumnProfile, TableProfile
>>> ref = TableProfile(10, {"a": ColumnProfile("a", "categorical", "string", 10, 0)})
>>> cur = TableProfile(10, {"a": ColumnProfile("a", "categorical", "string", 10, 5)})
>>> check_quality(ref, cur).columns["a"].missing_rate["current"]
0.5
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from telltale.analysis.profile import ColumnProfile, TableProfile
from telltale.schema.result import Result

__all__ = [
    "MISSING_RISE_ABSOLUTE",
    "MISSING_RISE_RELATIVE",
    "ColumnQuality",
    "QualityIssue",
    "TableQuality",
    "check_quality",
    "count_duplicate_rows",
]

MISSING_RISE_ABSOLUTE = 0.01
"""A missing rate that rose by at least this much (1 point) ..."""
MISSING_RISE_RELATIVE = 1.5
"""... and to at least 1.5 times the reference rate is reported."""
NEW_CATEGORY_VALUES_SHOWN = 20
MINOR_SHARE = 0.01
"""Out-of-range values or unseen categories in less than this share of rows are reported as
``info`` (worth knowing, not worth a warning: one new value in 200,000 rows is not an alarm)."""

Severity = Literal["info", "warning", "error"]


@dataclass
class QualityIssue(Result):
    column: str | None
    severity: Severity
    check: str
    message: str


@dataclass
class ColumnQuality(Result):
    missing_rate: dict[str, float | None]
    dtype: dict[str, Any]
    out_of_range: dict[str, Any] | None
    new_categories: dict[str, Any] | None
    constant: dict[str, bool]
    issues: list[str] = field(default_factory=list)


@dataclass
class TableQuality(Result):
    columns: dict[str, ColumnQuality]
    duplicates: dict[str, dict[str, float] | None]
    schema: dict[str, Any]
    issues: list[QualityIssue]


def _pct(value: float | None) -> str:
    if value is None:
        return "n/a"
    if 0 < value < 0.001:
        return "<0.1%"
    return f"{100 * value:.1f}%"


def _severity(share: float) -> Severity:
    return "warning" if share >= MINOR_SHARE else "info"


def _plural(count: int, one: str, many: str) -> str:
    return f"{count} {one if count == 1 else many}"


def _is_constant(profile: ColumnProfile | None) -> bool:
    if profile is None:
        return False
    if profile.numeric is not None and profile.numeric.count > 0 and profile.kind != "categorical":
        return profile.numeric.minimum == profile.numeric.maximum
    if profile.categorical is not None:
        cat = profile.categorical
        return len(cat.frequencies) == 1 and cat.other_count == 0
    return False


def _column_quality(
    name: str, ref: ColumnProfile | None, cur: ColumnProfile, issues: list[QualityIssue]
) -> ColumnQuality:
    problems: list[str] = []

    def flag(severity: Severity, check: str, message: str) -> None:
        problems.append(message)
        issues.append(QualityIssue(name, severity, check, message))

    ref_rate = ref.missing_rate if ref is not None else None
    cur_rate = cur.missing_rate
    change = None if (ref_rate is None or cur_rate is None) else cur_rate - ref_rate
    if cur.row_count and cur.missing_count == cur.row_count:
        flag("error", "missing", "every value is missing in the current data")
    elif (
        change is not None
        and ref_rate is not None
        and cur_rate is not None
        and change >= MISSING_RISE_ABSOLUTE
        and cur_rate >= MISSING_RISE_RELATIVE * ref_rate
    ):
        flag("warning", "missing", f"missing values rose from {_pct(ref_rate)} to {_pct(cur_rate)}")

    ref_dtype = ref.dtype if ref is not None else None
    changed = ref is not None and ref.dtype != cur.dtype
    if changed and ref is not None:
        severity: Severity = "error" if ref.kind != cur.kind else "warning"
        flag(severity, "dtype", f"type changed from {ref.dtype} to {cur.dtype}")

    out_of_range = None
    if (
        ref is not None
        and ref.numeric is not None
        and cur.numeric is not None
        and ref.kind == cur.kind
        and cur.kind != "categorical"
        and cur.numeric.histogram is not None
        and ref.numeric.count
    ):
        counts = cur.numeric.histogram.counts
        outside = int(counts[0] + counts[-1])
        share = outside / cur.numeric.count if cur.numeric.count else 0.0
        out_of_range = {
            "count": outside,
            "share": share,
            "below": int(counts[0]),
            "above": int(counts[-1]),
            "reference_min": ref.numeric.minimum,
            "reference_max": ref.numeric.maximum,
        }
        if outside:
            flag(
                _severity(share),
                "range",
                f"{_plural(outside, 'value', 'values')} ({_pct(share)}) outside the reference range "
                f"[{ref.numeric.minimum:.6g}, {ref.numeric.maximum:.6g}]",
            )

    new_categories = None
    if ref is not None and ref.categorical is not None and cur.categorical is not None:
        known = ref.categorical.frequencies
        unseen = {k: v for k, v in cur.categorical.frequencies.items() if k not in known}
        rows = sum(unseen.values())
        total = cur.categorical.count
        unseen_share = rows / total if total else 0.0
        ranked = sorted(unseen.items(), key=lambda item: (-item[1], item[0]))
        new_categories = {
            "count": rows,
            "share": unseen_share,
            "distinct": len(unseen),
            "values": [k for k, _ in ranked[:NEW_CATEGORY_VALUES_SHOWN]],
            # Beyond the reference's cap a category may be rare rather than new.
            "reference_truncated": ref.categorical.other_count > 0,
        }
        if unseen:
            shown = ", ".join(repr(k) for k, _ in ranked[:5])
            more = f" and {len(unseen) - 5} more" if len(unseen) > 5 else ""
            flag(
                _severity(unseen_share),
                "new_category",
                f"{_plural(len(unseen), 'category', 'categories')} not in the reference "
                f"({shown}{more}) in {_plural(rows, 'row', 'rows')} ({_pct(unseen_share)})",
            )

    constant = {"reference": _is_constant(ref), "current": _is_constant(cur)}
    if constant["current"] and not constant["reference"]:
        flag("warning", "constant", "the column is constant in the current data")
    elif constant["current"] and constant["reference"]:
        flag("info", "constant", "the column is constant on both sides (it carries no information)")

    return ColumnQuality(
        missing_rate={"reference": ref_rate, "current": cur_rate, "change": change},
        dtype={"reference": ref_dtype, "current": cur.dtype, "changed": changed},
        out_of_range=out_of_range,
        new_categories=new_categories,
        constant=constant,
        issues=problems,
    )


def check_quality(
    reference: TableProfile,
    current: TableProfile,
    *,
    duplicates: dict[str, int | None] | None = None,
) -> TableQuality:
    """Compare ``current`` with ``reference`` column by column.

    ``duplicates`` maps ``"reference"``/``"current"`` to duplicate-row counts from
    :func:`count_duplicate_rows` (a profile alone cannot tell).
    """
    issues: list[QualityIssue] = []
    columns: dict[str, ColumnQuality] = {}
    for name, cur in current.columns.items():
        columns[name] = _column_quality(name, reference.columns.get(name), cur, issues)

    missing = [n for n in reference.columns if n not in current.columns]
    new = [n for n in current.columns if n not in reference.columns]
    type_changed = [
        {"column": n, "reference": reference.columns[n].dtype, "current": current.columns[n].dtype}
        for n in current.columns
        if n in reference.columns and reference.columns[n].dtype != current.columns[n].dtype
    ]
    for name in missing:
        issues.append(
            QualityIssue(name, "error", "schema", "column is missing from the current data")
        )
    for name in new:
        issues.append(QualityIssue(name, "info", "schema", "column is new in the current data"))

    duplicate_info: dict[str, dict[str, float] | None] = {"reference": None, "current": None}
    for side, profile in (("reference", reference), ("current", current)):
        count = (duplicates or {}).get(side)
        if count is None:
            continue
        share = count / profile.row_count if profile.row_count else 0.0
        duplicate_info[side] = {"count": count, "share": share}
    cur_dup = duplicate_info["current"]
    ref_dup = duplicate_info["reference"]
    if cur_dup and cur_dup["count"]:
        ref_share = ref_dup["share"] if ref_dup else 0.0
        if cur_dup["share"] > ref_share:
            issues.append(
                QualityIssue(
                    None,
                    "warning",
                    "duplicates",
                    f"{int(cur_dup['count'])} duplicate rows ({_pct(cur_dup['share'])}) in the current data",
                )
            )

    return TableQuality(
        columns=columns,
        duplicates=duplicate_info,
        schema={"missing_in_current": missing, "new_in_current": new, "type_changed": type_changed},
        issues=issues,
    )


def count_duplicate_rows(table: Any) -> int:
    """Rows that repeat an earlier row exactly (all columns), counted by the engine."""
    import ibis

    from telltale.store.engine import hash64, to_arrow

    columns = list(table.schema().names)
    if not columns:
        return 0
    # 64-bit row hashes: a collision among 10M distinct rows has odds of about 3e-6.
    row_hash = hash64(ibis.struct({f"c{i}": table[name] for i, name in enumerate(columns)}))
    counts = table.aggregate(rows=table.count(), distinct=row_hash.nunique())
    row = to_arrow(counts).to_pylist()[0]
    return int(row["rows"]) - int(row["distinct"])
