"""Compute :class:`~telltale.analysis.profile.TableProfile` objects with the engine, through Ibis.

Everything here is an Ibis expression executed by the backend (DuckDB by default; Spark runs the
same code); Python only receives small aggregates. A side profiled *against* a reference profile
costs one scan; a reference costs three:

1. **range** (reference only) — one aggregate: each numeric column's finite min and max and an
   approximate distinct count (to spot low-cardinality numeric columns);
2. **sample** (reference only) — a seeded Bernoulli sample of about 20,000 rows of the numeric
   columns, from which each column's bin centre and scale are taken (median, half the IQR);
3. **grouped** — one ``UNION ALL`` of per-column ``GROUP BY`` s. A numeric column is grouped by
   its fine bin (with extra codes for null, NaN and infinite values) and by its hash when that
   is below the distinct-sketch threshold; each group returns its count, min, max, mean and
   variance, so the column's moments, histogram and distinct sketch all come from one read of
   the column. A categorical column is grouped by value, with the hash of each value.

>>> import ibis, pyarrow as pa
>>> con = ibis.duckdb.connect()
>>> con.con.register("t", pa.table({"x": [1.0, 2.0, 3.0, None], "c": ["a", "b", "a", "a"]}))
>>> profile = profile_table(con.table("t"))
>>> profile["x"].null_count, profile["c"].categorical.frequencies
(1, {'a': 3, 'b': 1})
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from telltale.analysis.profile import (
    BinSpec,
    CategoricalSummary,
    ColumnKind,
    ColumnProfile,
    DistinctSketch,
    Histogram,
    NumericSummary,
    TableProfile,
)
from telltale.errors import DataError
from telltale.store.engine import TEMPLATE_TABLE, hash64, is_duckdb, is_finite, run_on, to_arrow

__all__ = [
    "DEFAULT_BINS",
    "DEFAULT_CATEGORY_CAP",
    "DEFAULT_SKETCH_K",
    "LOW_CARDINALITY",
    "ProfilePlan",
    "plan_profile",
    "profile_table",
    "run_plan",
]

DEFAULT_BINS = 1024
DEFAULT_CATEGORY_CAP = 1000
DEFAULT_SKETCH_K = 2048
LOW_CARDINALITY = 20
"""A numeric reference column with at most this many distinct values also gets frequencies."""
SAMPLE_ROWS = 20_000
COLUMNS_PER_QUERY = 32
"""Columns profiled per query (see ``_grouped``)."""

# Row kinds in the grouped result, and the bin codes of values that have no bin.
_BIN, _CATEGORY, _HASH = 0, 1, 2
_NULL_BIN, _INF_BIN, _NAN_BIN = -2, -3, -4

Progress = Callable[[str], None]


@dataclass(frozen=True)
class _Plan:
    """How one column is profiled on this side."""

    name: str
    index: int
    kind: ColumnKind
    dtype: str
    floating: bool
    frequencies: bool = False
    spec: BinSpec | None = None
    theta: float = 1.0
    """Share of the hash space kept for the distinct sketch of a numeric column."""


def _kind_of(dtype: Any) -> tuple[ColumnKind, bool]:
    if dtype.is_boolean():
        return "categorical", False
    if dtype.is_numeric():
        return "numeric", bool(dtype.is_floating())
    if dtype.is_timestamp() or dtype.is_date():
        return "datetime", False
    return "categorical", False


def _numeric_value(table: Any, plan: _Plan) -> Any:
    column = table[plan.name]
    if plan.kind == "datetime":
        if column.type().is_date():
            column = column.cast("timestamp")
        return column.epoch_seconds().cast("float64")
    return column.cast("float64")


def _finite_mask(table: Any, plan: _Plan) -> Any:
    column = table[plan.name]
    return is_finite(column) if plan.floating else column.notnull()


@dataclass(frozen=True)
class ProfilePlan:
    """How each column of a table is profiled: kinds, bin edges, frequency and sketch choices.

    Planning a reference costs two small scans (range, sample); a plan for new data made
    against a reference's plan or profile costs none. :func:`run_plan` then profiles in one
    scan, so a reference and its current data can be profiled at the same time.
    """

    plans: tuple[_Plan, ...]
    category_cap: int = DEFAULT_CATEGORY_CAP
    sketch_k: int = DEFAULT_SKETCH_K


_Hint = tuple[ColumnKind, "BinSpec | None", bool, float]
"""What a reference says of a column: kind, bin edges, frequencies or not, sketch threshold."""


def _hints(reference: TableProfile | ProfilePlan | None) -> dict[str, _Hint]:
    if reference is None:
        return {}
    if isinstance(reference, ProfilePlan):
        return {p.name: (p.kind, p.spec, p.frequencies, p.theta) for p in reference.plans}
    hints: dict[str, _Hint] = {}
    for name, ref in reference.columns.items():
        spec = ref.numeric.histogram.spec if ref.numeric and ref.numeric.histogram else None
        theta = ref.distinct.theta if ref.distinct is not None and ref.categorical is None else 1.0
        hints[name] = (ref.kind, spec, ref.categorical is not None, theta)
    return hints


def plan_profile(
    table: Any,
    *,
    columns: Sequence[str] | None = None,
    reference: TableProfile | ProfilePlan | None = None,
    n_bins: int = DEFAULT_BINS,
    category_cap: int = DEFAULT_CATEGORY_CAP,
    sketch_k: int = DEFAULT_SKETCH_K,
    seed: int = 0,
    progress: Progress | None = None,
) -> ProfilePlan:
    """Decide how to profile ``columns`` (default: all) of ``table``; see :class:`ProfilePlan`.

    Columns the reference knows with the same kind reuse its bin edges, distinct-sketch
    threshold and frequency choice, so the two profiles line up; other numeric columns get
    edges from this table (a range scan and a seeded sample).
    """
    note = progress or (lambda _message: None)
    schema = table.schema()
    names = list(schema.names) if columns is None else list(columns)
    missing = [n for n in names if n not in schema.names]
    if missing:
        raise DataError(f"columns {missing} are not in the table; it has {list(schema.names)}")

    hints = _hints(reference)
    plans: list[_Plan] = []
    unplanned: list[_Plan] = []
    for index, name in enumerate(names):
        kind, floating = _kind_of(schema[name])
        plan = _Plan(name, index, kind, str(schema[name]), floating)
        hint = hints.get(name)
        if kind == "categorical":
            plans.append(plan)
        elif hint is not None and hint[0] == kind:
            _, spec, frequencies, theta = hint
            plans.append(replace(plan, frequencies=frequencies, spec=spec, theta=theta))
        else:
            unplanned.append(plan)

    if unplanned:
        note("range")
        ranges = _ranges(table, unplanned)
        with_values = [p for p in unplanned if ranges[f"{p.index}_min"] is not None]
        specs: dict[str, BinSpec] = {}
        if with_values:
            note("sample")
            specs = _specs_from_sample(table, with_values, ranges, n_bins, seed)
        for plan in unplanned:
            distinct = int(ranges.get(f"{plan.index}_distinct") or 0)
            frequencies = 0 < distinct <= LOW_CARDINALITY
            theta = 1.0 if frequencies else _theta(distinct, sketch_k)
            plans.append(
                replace(plan, frequencies=frequencies, spec=specs.get(plan.name), theta=theta)
            )
    plans.sort(key=lambda p: p.index)
    return ProfilePlan(tuple(plans), category_cap, sketch_k)


def run_plan(
    table: Any, plan: ProfilePlan, *, source: str | None = None, progress: Progress | None = None
) -> TableProfile:
    """Profile ``table`` as ``plan`` says: one scan of its columns."""
    if progress is not None:
        progress("histograms")
    plans = list(plan.plans)
    grouped = _grouped(table, plans)
    row_count = _row_count(table, grouped)
    profiles = {
        p.name: _column_profile(
            p, grouped.get(p.index), row_count, plan.category_cap, plan.sketch_k
        )
        for p in plans
    }
    return TableProfile(row_count=row_count, columns=profiles, source=source)


def profile_table(
    table: Any,
    *,
    columns: Sequence[str] | None = None,
    reference: TableProfile | ProfilePlan | None = None,
    n_bins: int = DEFAULT_BINS,
    category_cap: int = DEFAULT_CATEGORY_CAP,
    sketch_k: int = DEFAULT_SKETCH_K,
    seed: int = 0,
    source: str | None = None,
    progress: Progress | None = None,
) -> TableProfile:
    """Profile ``columns`` (default: all) of the Ibis ``table``: :func:`plan_profile`, then
    :func:`run_plan`.

    With ``reference``, columns of the same kind reuse the reference's bin edges, distinct-sketch
    threshold and frequency choice, so the two profiles line up and the profile costs one scan.
    """
    plan = plan_profile(
        table,
        columns=columns,
        reference=reference,
        n_bins=n_bins,
        category_cap=category_cap,
        sketch_k=sketch_k,
        seed=seed,
        progress=progress,
    )
    return run_plan(table, plan, source=source, progress=progress)


# --------------------------------------------------------------------------------------------
# Reference scans: range, then a sample for the bin centre and scale
# --------------------------------------------------------------------------------------------


def _ranges(table: Any, plans: list[_Plan]) -> dict[str, Any]:
    import ibis

    metrics: dict[str, Any] = {"__rows__": table.count()}
    for plan in plans:
        value = _numeric_value(table, plan)
        if plan.floating:
            # CASE-masked aggregates: DuckDB runs them several times faster than FILTER clauses.
            value = ibis.ifelse(is_finite(table[plan.name]), value, ibis.null("float64"))
        metrics[f"{plan.index}_min"] = value.min()
        metrics[f"{plan.index}_max"] = value.max()
        metrics[f"{plan.index}_distinct"] = value.approx_nunique()
    row: dict[str, Any] = to_arrow(table.aggregate(**metrics)).to_pylist()[0]
    return row


def _specs_from_sample(
    table: Any, plans: list[_Plan], ranges: dict[str, Any], n_bins: int, seed: int
) -> dict[str, BinSpec]:
    fraction = min(1.0, SAMPLE_ROWS / max(int(ranges["__rows__"]), 1))
    source = table if fraction >= 1.0 else table.sample(fraction, method="row", seed=seed)
    selection = {f"c{p.index}": _numeric_value(source, p) for p in plans}
    sample = to_arrow(source.select(**selection))
    specs = {}
    for plan in plans:
        values = sample.column(f"c{plan.index}").to_numpy(zero_copy_only=False)
        specs[plan.name] = BinSpec.from_sample(
            np.asarray(values, dtype=np.float64),
            minimum=float(ranges[f"{plan.index}_min"]),
            maximum=float(ranges[f"{plan.index}_max"]),
            n_bins=n_bins,
        )
    return specs


# --------------------------------------------------------------------------------------------
# The grouped scan
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Constants:
    """The numbers one column's branches are built from (see ``_sql_templates``)."""

    code: int
    center: float
    inv_scale: float
    t_low: float
    per_t: float
    low: float
    high: float
    n_bins: int
    theta_limit: int

    @classmethod
    def of(cls, plan: _Plan) -> _Constants:
        spec = plan.spec
        theta_limit = min(int(plan.theta * 2**64), 2**64 - 1)
        if spec is None:
            return cls(plan.index, 0.0, 1.0, 0.0, 1.0, 0.0, 0.0, 1, theta_limit)
        per_t = 0.0 if spec.degenerate else spec.n_bins / (spec.t_high - spec.t_low)
        return cls(
            plan.index,
            spec.center,
            1.0 / spec.scale,
            spec.t_low,
            per_t,
            spec.low,
            spec.high,
            spec.n_bins,
            theta_limit,
        )


def _bin_expression(value: Any, plan: _Plan, k: _Constants, ibis: Any) -> Any:
    """The fine bin of a finite value: plain arithmetic, the same on every engine.

    Inside ``[low, high]`` the result is always within ``0..n_bins - 1`` because ``t_low`` and
    ``t_high`` sit a margin outside the transformed range (see :class:`BinSpec`), so no clamp
    is needed (on DuckDB a LEAST/GREATEST clamp cost more than the transform itself).
    """
    assert plan.spec is not None
    if plan.spec.degenerate:
        return ibis.cases((value < k.center, -1), (value > k.center, 1), else_=0)
    z = (value - k.center) * k.inv_scale
    t = z.sign() * (z.abs() + 1.0).ln()
    inside = ((t - k.t_low) * k.per_t).floor().cast("int64")
    return ibis.cases((value < k.low, -1), (value > k.high, k.n_bins), else_=inside)


def _code_expression(table: Any, plan: _Plan, k: _Constants, ibis: Any) -> Any:
    """Bin of each row: a fine bin, or a code for null, NaN, infinite (or any finite value when
    the column has no bins yet)."""
    column = table[plan.name]
    value = _numeric_value(table, plan)
    finite_code = _bin_expression(value, plan, k, ibis) if plan.spec is not None else 0
    if plan.floating:
        return ibis.cases(
            (is_finite(column), finite_code),
            (column.isnull(), _NULL_BIN),
            (column.isinf(), _INF_BIN),
            else_=_NAN_BIN,
        )
    return ibis.ifelse(column.isnull(), _NULL_BIN, finite_code)


def _grouped(table: Any, plans: list[_Plan]) -> dict[int, dict[str, np.ndarray | list[Any]]]:
    import ibis

    out: dict[int, dict[str, np.ndarray | list[Any]]] = {}
    if not plans:
        return out
    # Columns go 32 to a query, each query over a view of only its columns: DuckDB binds the
    # whole input view once per UNION branch (a 220-column view tripled the planning time),
    # and its planning time grows with the number of branches.
    schema = table.schema()
    parts = []
    for start in range(0, len(plans), COLUMNS_PER_QUERY):
        chunk = plans[start : start + COLUMNS_PER_QUERY]
        narrow = table.select(*[plan.name for plan in chunk])
        if not is_duckdb(table):
            parts.append(to_arrow(_grouped_expression(narrow, chunk)))
            continue
        sql = _grouped_sql(chunk, schema)
        if sql is None:  # a shape the templates do not cover: Ibis compiles this chunk
            template = ibis.table(narrow.schema(), name=TEMPLATE_TABLE)
            sql = str(
                ibis.to_sql(_grouped_expression(template, chunk), dialect="duckdb", pretty=False)
            )
        parts.append(run_on(narrow, sql))
    import pyarrow as pa

    result = pa.concat_tables(parts) if len(parts) > 1 else parts[0]
    if result.num_rows == 0:
        return out
    # One sort by column code, then each column's rows are one contiguous slice.
    result = result.sort_by([("c", "ascending"), ("k", "ascending")])
    codes = result.column("c").to_numpy()
    boundaries = np.flatnonzero(np.diff(codes)) + 1
    starts = np.concatenate([[0], boundaries]).astype(np.int64)
    ends = np.concatenate([boundaries, [codes.size]]).astype(np.int64)
    for start, end in zip(starts.tolist(), ends.tolist(), strict=True):
        if end <= start:
            continue
        part = result.slice(start, end - start)
        columns: dict[str, np.ndarray | list[Any]] = {
            key: part.column(key).to_numpy(zero_copy_only=False)
            for key in ("k", "b", "n", "lo", "hi", "mean", "var")
        }
        # Hashes stay uint64 (through float64 they would lose 11 bits); nulls become a mask.
        hashes = part.column("h")
        columns["h"] = hashes.fill_null(0).to_numpy()
        columns["h_valid"] = hashes.is_valid().to_numpy(zero_copy_only=False)
        columns["v"] = part.column("v").to_pylist()
        out[int(codes[start])] = columns
    return out


def _grouped_expression(table: Any, plans: list[_Plan]) -> Any:
    import ibis

    branches = [b for plan in plans for b in _branches(table, plan, _Constants.of(plan))]
    return branches[0] if len(branches) == 1 else ibis.union(*branches, distinct=False)


def _branches(table: Any, plan: _Plan, k: _Constants) -> list[Any]:
    """The UNION branches that profile one column: categories, bins, distinct hashes.

    Every branch has the same columns: ``c`` (column code), ``k`` (row kind), ``b`` (bin or
    null code), ``v`` (category), ``n``, ``lo``, ``hi``, ``mean``, ``var``, ``h`` (hash).
    """
    import ibis

    null_int, null_str, null_float = ibis.null("int64"), ibis.null("string"), ibis.null("float64")
    null_hash = ibis.null("uint64")
    code = ibis.literal(k.code, "int32")
    branches = []
    if plan.kind == "categorical" or plan.frequencies:
        base = table.filter(_finite_mask(table, plan)) if plan.frequencies else table
        groups = base.group_by(v=base[plan.name].cast("string")).aggregate(n=base.count())
        branches.append(
            groups.select(
                c=code,
                k=ibis.literal(_CATEGORY, "int8"),
                b=ibis.ifelse(groups.v.isnull(), _NULL_BIN, 0).cast("int64"),
                v=groups.v,
                n=groups.n,
                lo=null_float,
                hi=null_float,
                mean=null_float,
                var=null_float,
                h=hash64(groups.v),
            )
        )
    if plan.kind == "categorical":
        return branches
    # One GROUP BY per numeric column by fine bin; each bin returns its count and moments,
    # so the column's histogram and moments come from one read of the column. The moments of
    # the null, NaN and infinite codes are garbage and never read, so the value needs no mask.
    keyed = table.select(b=_code_expression(table, plan, k, ibis), x=_numeric_value(table, plan))
    bins = keyed.group_by("b").aggregate(
        n=keyed.count(),
        lo=keyed.x.min(),
        hi=keyed.x.max(),
        mean=keyed.x.mean(),
        var=keyed.x.var(how="pop"),
    )
    branches.append(
        bins.select(
            c=code,
            k=ibis.literal(_BIN, "int8"),
            b=bins.b.cast("int64"),
            v=null_str,
            n=bins.n,
            lo=bins.lo.cast("float64"),
            hi=bins.hi.cast("float64"),
            mean=bins.mean.cast("float64"),
            var=bins.var.cast("float64"),
            h=null_hash,
        )
    )
    if not plan.frequencies:
        # The distinct sketch: hashes below the threshold, filtered before any grouping
        # (as a second GROUP BY key the hash cost more than the whole histogram).
        masked = table.filter(_finite_mask(table, plan))
        hashed = masked.select(h=hash64(_numeric_value(masked, plan).cast("float64")))
        if plan.theta < 1.0:
            hashed = hashed.filter(hashed.h < ibis.literal(k.theta_limit, "uint64"))
        hashed = hashed.distinct()
        branches.append(
            hashed.select(
                c=code,
                k=ibis.literal(_HASH, "int8"),
                b=null_int,
                v=null_str,
                n=null_int,
                lo=null_float,
                hi=null_float,
                mean=null_float,
                var=null_float,
                h=hashed.h,
            )
        )
    return branches


# Column SQL templates ----------------------------------------------------------------------
# Ibis compiles about 9 ms per UNION branch, so a 220-column table spent 4.5 s compiling. The
# branches of columns of one *shape* (kind, type, and which branches they need) differ only in
# the column's name and a few numbers, so each shape is compiled once, with the column called
# _PLACEHOLDER and sentinel numbers, and filled in per column.

_PLACEHOLDER = "tt_placeholder_column"
_SENTINEL = _Constants(
    code=7770001,
    center=7770002.5,
    inv_scale=7770003.5,
    t_low=7770004.5,
    per_t=7770005.5,
    low=7770006.5,
    high=7770007.5,
    n_bins=7770008,
    theta_limit=7770009,
)
_SENTINEL_TEXT = {field: str(getattr(_SENTINEL, field)) for field in _SENTINEL.__dataclass_fields__}
_SENTINEL_PATTERN = re.compile(
    r"(?<![\w.])(" + "|".join(re.escape(text) for text in _SENTINEL_TEXT.values()) + r")(?![\w.])"
)


def _shape(plan: _Plan, dtype: Any) -> tuple[Any, ...]:
    degenerate = plan.spec.degenerate if plan.spec is not None else None
    return (plan.kind, plan.floating, dtype, plan.frequencies, degenerate, plan.theta < 1.0)


@functools.lru_cache(maxsize=128)
def _shape_template(shape: tuple[Any, ...]) -> tuple[str, ...] | None:
    """The SQL of one column's branches for a shape, or None when it cannot be templated."""
    import ibis

    kind, floating, dtype, frequencies, degenerate, sampled = shape
    if degenerate is None:
        spec = None
    elif degenerate:
        spec = BinSpec(0.0, 1.0, 0.0, 0.0, 1)
    else:
        spec = BinSpec(0.0, 1.0, -1.0, 1.0, 2)
    plan = _Plan(
        _PLACEHOLDER, 0, kind, str(dtype), floating, frequencies, spec, 0.5 if sampled else 1.0
    )
    table = ibis.table({_PLACEHOLDER: dtype}, name=TEMPLATE_TABLE)
    texts = []
    for branch in _branches(table, plan, _SENTINEL):
        text = str(ibis.to_sql(branch, dialect="duckdb", pretty=False))
        if _SENTINEL_TEXT["code"] not in text or f'"{_PLACEHOLDER}"' not in text:
            return None  # the compiler wrote a number or name another way: use Ibis per column
        texts.append(text)
    return tuple(texts)


def _grouped_sql(plans: list[_Plan], schema: Any) -> str | None:
    """The profile query for ``plans`` from the shape templates (None: compile with Ibis)."""
    parts = []
    for plan in plans:
        template = _shape_template(_shape(plan, schema[plan.name]))
        if template is None:
            return None
        constants = _Constants.of(plan)
        values = {
            _SENTINEL_TEXT[field]: repr(getattr(constants, field))
            for field in _SENTINEL.__dataclass_fields__
        }
        identifier = '"' + plan.name.replace('"', '""') + '"'
        for text in template:
            # Numbers first, then the name: a column may be called anything, digits included.
            filled = _SENTINEL_PATTERN.sub(functools.partial(_fill, values), text)
            parts.append(filled.replace(f'"{_PLACEHOLDER}"', identifier))
    return " UNION ALL ".join(f"SELECT * FROM ({part})" for part in parts)


def _fill(values: dict[str, str], match: re.Match[str]) -> str:
    return values[match.group(1)]


def _row_count(table: Any, grouped: dict[int, dict[str, Any]]) -> int:
    """Rows of the table: the sum of any one column's groups (all rows land in some group)."""
    for data in grouped.values():
        kinds = np.asarray(data["k"])
        counts = np.asarray(data["n"], dtype=np.float64)
        for kind in (_BIN, _CATEGORY):
            mask = kinds == kind
            if mask.any():
                return int(np.nansum(counts[mask]))
    return int(to_arrow(table.aggregate(n=table.count())).column("n")[0].as_py())


def _theta(approx_distinct: int, k: int) -> float:
    """Share of the hash space to keep: a power of two leaving ``k`` to ``2k`` hashes."""
    if approx_distinct <= k:
        return 1.0
    return float(min(1.0, 2.0 ** math.ceil(math.log2(k / approx_distinct))))


def _column_profile(
    plan: _Plan,
    data: dict[str, Any] | None,
    rows: int,
    category_cap: int,
    sketch_k: int,
) -> ColumnProfile:
    profile = ColumnProfile(
        name=plan.name, kind=plan.kind, dtype=plan.dtype, row_count=rows, null_count=0
    )
    if data is None:  # an empty table
        profile.null_count = 0
        if plan.kind != "categorical":
            profile.numeric = NumericSummary(0, None, None, None, 0.0)
        if plan.kind == "categorical" or plan.frequencies:
            profile.categorical = CategoricalSummary({}, 0, category_cap)
        return profile

    kinds = np.asarray(data["k"])
    codes = np.asarray(data["b"], dtype=np.float64)
    counts = np.asarray(data["n"], dtype=np.float64)
    hashes = np.asarray(data["h"], dtype=np.uint64)
    has_hash = np.asarray(data["h_valid"], dtype=bool)
    values: list[Any] = data["v"]
    sketch_hashes: list[np.ndarray] = []

    categories = kinds == _CATEGORY
    if plan.kind == "categorical" or plan.frequencies:
        frequencies: dict[str, int] = {}
        for i in np.flatnonzero(categories):
            if codes[i] == _NULL_BIN:
                profile.null_count = int(counts[i])
            else:
                frequencies[str(values[i])] = int(counts[i])
        profile.categorical = CategoricalSummary(frequencies, 0, category_cap).capped()
        sketch_hashes.append(hashes[categories & has_hash & (codes != _NULL_BIN)])

    if plan.kind != "categorical":
        in_bins = kinds == _BIN
        bin_codes = codes[in_bins].astype(np.int64)
        bin_counts = counts[in_bins].astype(np.int64)
        special = {
            code: int(bin_counts[bin_codes == code].sum())
            for code in (_NULL_BIN, _INF_BIN, _NAN_BIN)
        }
        profile.null_count = special[_NULL_BIN]
        profile.inf_count = special[_INF_BIN]
        profile.nan_count = special[_NAN_BIN]
        finite = bin_codes >= -1
        profile.numeric = _merge_bins(
            plan,
            bin_codes[finite],
            bin_counts[finite],
            np.asarray(data["lo"], dtype=np.float64)[in_bins][finite],
            np.asarray(data["hi"], dtype=np.float64)[in_bins][finite],
            np.asarray(data["mean"], dtype=np.float64)[in_bins][finite],
            np.asarray(data["var"], dtype=np.float64)[in_bins][finite],
        )
        if not plan.frequencies:
            sketch_hashes.append(hashes[(kinds == _HASH) & has_hash])

    theta = plan.theta if (plan.kind != "categorical" and not plan.frequencies) else 1.0
    merged = np.concatenate(sketch_hashes) if sketch_hashes else np.zeros(0, dtype=np.uint64)
    profile.distinct = DistinctSketch(merged, theta=theta, k=sketch_k).trimmed()
    return profile


def _merge_bins(
    plan: _Plan,
    codes: np.ndarray,
    counts: np.ndarray,
    lows: np.ndarray,
    highs: np.ndarray,
    means: np.ndarray,
    variances: np.ndarray,
) -> NumericSummary:
    """Moments of a column from the moments of its bins (Chan et al.'s parallel formula)."""
    total = int(counts.sum())
    if total == 0:
        histogram = Histogram.empty(plan.spec) if plan.spec is not None else None
        return NumericSummary(0, None, None, None, 0.0, histogram)
    weights = counts.astype(np.float64)
    mean = float(np.dot(weights, means) / total)
    m2 = float(np.dot(weights, variances) + np.dot(weights, (means - mean) ** 2))
    histogram = None
    if plan.spec is not None:
        histogram = Histogram.empty(plan.spec)
        np.add.at(histogram.counts, codes + 1, counts)
    return NumericSummary(
        count=total,
        minimum=float(lows.min()),
        maximum=float(highs.max()),
        mean=mean,
        m2=max(m2, 0.0),
        histogram=histogram,
    )
