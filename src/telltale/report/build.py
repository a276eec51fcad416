"""Build a reference-vs-current report: drift, data quality and model performance.

This is the orchestration behind ``telltale.report(...)`` and ``telltale report``; every number
comes from ``telltale.analysis``.
"""

from __future__ import annotations

import difflib
import math
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from telltale._version import __version__
from telltale.analysis.profile import ColumnProfile, TableProfile
from telltale.errors import ConfigError, DataError, SchemaError
from telltale.schema.result import Result, jsonable

__all__ = ["STEPS", "DataReport", "report"]

STEPS = (
    "open data",
    "profile reference",
    "profile current",
    "drift",
    "quality",
    "performance",
    "charts",
)
"""The steps a report goes through, in order (the progress bar shows them)."""

DATASET_DRIFT_SHARE = 0.5
"""The dataset is said to drift when at least this share of its columns drift."""
DISPLAY_BINS = 30
DISPLAY_CATEGORIES = 12
CLASSIFICATION_MAX_DISTINCT = 20

Progress = Callable[[str], None]


@dataclass
class DataReport(Result):
    """The result of :func:`report`: a dict in the JSON contract, plus both profiles.

    >>> result = report(reference_table, current_table, target="label")  # doctest: +SKIP
    >>> result.to_dict()["drift"]["share_drifted"]  # doctest: +SKIP
    0.28
    >>> result.save_html("report.html")  # doctest: +SKIP
    """

    data: dict[str, Any]
    reference_profile: TableProfile | None = field(default=None, repr=False)
    current_profile: TableProfile | None = field(default=None, repr=False)

    def to_dict(self) -> dict[str, Any]:
        out = jsonable(self.data)
        assert isinstance(out, dict)
        return out

    @property
    def drift(self) -> dict[str, Any]:
        return self.to_dict()["drift"]

    @property
    def quality(self) -> dict[str, Any]:
        return self.to_dict()["quality"]

    @property
    def performance(self) -> dict[str, Any] | None:
        return self.to_dict()["performance"]

    def html(self) -> str:
        from telltale.report.html import render_html

        return render_html(self.to_dict())

    def save_html(self, path: str | Path) -> Path:
        path = Path(path)
        path.write_text(self.html(), encoding="utf-8")
        return path

    def save_json(self, path: str | Path) -> Path:
        path = Path(path)
        path.write_text(self.to_json(indent=2), encoding="utf-8")
        return path

    def _repr_html_(self) -> str:
        """The report in a notebook cell: in an iframe, so its styles stay out of the notebook."""
        import html as html_lib

        document = html_lib.escape(self.html(), quote=True)
        return (
            f'<iframe srcdoc="{document}" title="telltale report" '
            'style="width:100%;height:720px;border:1px solid #ddd" sandbox="allow-scripts">'
            "</iframe>"
        )


# --------------------------------------------------------------------------------------------


def _as_list(value: str | Sequence[str] | None) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value]


def _check_columns(names: list[str], available: Sequence[str], side: str, what: str) -> None:
    for name in names:
        if name not in available:
            close = difflib.get_close_matches(name, list(available), n=3)
            hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
            shown = ", ".join(repr(c) for c in list(available)[:30])
            raise SchemaError(
                f"{what} column {name!r} is not in the {side} data{hint} (it has: {shown})"
            )


def report(
    reference: Any = None,
    current: Any = None,
    *,
    reference_profile: TableProfile | str | Path | None = None,
    target: str | None = None,
    prediction: str | None = None,
    score: str | Sequence[str] | None = None,
    columns: Sequence[str] | None = None,
    method: str | None = None,
    thresholds: Mapping[str, float] | None = None,
    task: str | None = None,
    n_bootstrap: int = 1000,
    seed: int = 0,
    title: str | None = None,
    progress: Progress | None = None,
) -> DataReport:
    """Compare ``current`` data with a reference: drift, data quality and performance.

    ``reference`` and ``current`` are file paths (Parquet, CSV, JSON lines, Arrow) or pyarrow,
    pandas or polars tables. Instead of reference data, pass ``reference_profile`` (a
    :class:`~telltale.analysis.profile.TableProfile` or a ``.ttp`` file saved from one) so the
    reference is not read again. ``target``/``prediction``/``score`` name the label, the
    model's prediction and its score column(s) (one probability of the positive class, or one
    column per class); with them the report adds model performance with bootstrap confidence
    intervals.

    >>> import telltale
    >>> result = telltale.report("train.parquet", "week.parquet", target="label",
    ...                          prediction="pred", score="proba")  # doctest: +SKIP
    >>> result.save_html("report.html")  # doctest: +SKIP
    """
    from telltale.analysis.profiling import plan_profile
    from telltale.store.engine import connect, single_threaded
    from telltale.store.files import describe_source, open_table

    step = progress or (lambda _name: None)
    started = time.perf_counter()
    if current is None:
        raise ConfigError("current data is required: pass a file path or a table as `current`")
    if reference is None and reference_profile is None:
        raise ConfigError(
            "a reference is required: pass reference data, or `reference_profile` (a .ttp file "
            "made by `telltale profile`)"
        )
    if reference is not None and reference_profile is not None:
        raise ConfigError("pass either reference data or a reference profile, not both")
    if task not in (None, "classification", "regression"):
        raise ConfigError(f"task must be 'classification' or 'regression', got {task!r}")
    if n_bootstrap < 0:
        raise ConfigError(f"n_bootstrap must be >= 0, got {n_bootstrap}")
    if method is not None:
        from telltale.analysis.drift import get_drift_method

        get_drift_method(method)  # an unknown name fails now, not after minutes of profiling
    scores = _as_list(score)

    step("open data")
    # One connection per side: once the reference's bins are known, both sides are profiled
    # at the same time (each DuckDB query alone keeps barely more than one core busy).
    con = connect()
    current_table = open_table(connect(), current, name="current")
    current_source = describe_source(current)
    reference_table = None
    if reference is not None:
        reference_table = open_table(con, reference, name="reference")
        reference_source = describe_source(reference)
    else:
        if not isinstance(reference_profile, TableProfile):
            assert reference_profile is not None
            reference_source = str(reference_profile)
            reference_profile = TableProfile.load(reference_profile)
        else:
            reference_source = reference_profile.source or "<profile>"

    current_names = list(current_table.schema().names)
    reference_names = (
        list(reference_table.schema().names)
        if reference_table is not None
        else list(reference_profile.columns)  # type: ignore[union-attr]
    )
    model_columns = [c for c in [target, prediction, *scores] if c]
    _check_columns(model_columns, current_names, "current", "model")
    if reference_table is not None:
        _check_columns(model_columns, reference_names, "reference", "model")
    if columns is not None:
        _check_columns(list(columns), current_names, "current", "requested")
        features = [c for c in columns if c not in model_columns]
    else:
        features = [c for c in current_names if c in reference_names and c not in model_columns]
    profiled = features + [c for c in (target, prediction) if c and c not in features]

    # Duplicate rows need a scan of whole rows that no profile gives; it runs on its own
    # connection while this thread compiles and profiles (DuckDB releases the GIL).
    duplicate_sources = {"current": current}
    if reference is not None:
        duplicate_sources["reference"] = reference
    duplicates = _in_background(_count_duplicates, duplicate_sources)

    step("profile reference")
    cur_columns = [c for c in current_names if c not in scores]
    if reference_table is not None:
        ref_columns = [c for c in reference_names if c not in scores]
        with _scanning(reference_source):
            reference_plan = plan_profile(reference_table, columns=ref_columns, seed=seed)
        with _scanning(current_source):
            current_plan = plan_profile(
                current_table, columns=cur_columns, reference=reference_plan, seed=seed
            )
        step("profile current")
        with single_threaded(reference_table, current_table):
            current_future = _in_background(_run_plan, current_table, current_plan, current_source)
            reference_profile = _run_plan(reference_table, reference_plan, reference_source)
            current_profile = current_future.result()
        if reference_profile.row_count == 0:
            raise DataError(f"the reference data {reference_source!r} has no rows")
    else:
        assert isinstance(reference_profile, TableProfile)
        step("profile current")
        with _scanning(current_source):
            current_plan = plan_profile(
                current_table, columns=cur_columns, reference=reference_profile, seed=seed
            )
        current_profile = _run_plan(current_table, current_plan, current_source)
    if current_profile.row_count == 0:
        raise DataError(f"the current data {current_source!r} has no rows")

    step("drift")
    drift = _drift_section(
        reference_profile, current_profile, features, target, prediction, method, thresholds
    )

    step("quality")
    quality = _quality_section(reference_profile, current_profile, duplicates.result())

    step("performance")
    performance = _performance_section(
        reference_table,
        current_table,
        current_profile,
        target,
        prediction,
        scores,
        task,
        n_bootstrap,
        seed,
    )

    step("charts")
    column_sections = {
        name: _column_section(reference_profile.columns.get(name), current_profile.columns[name])
        for name in profiled
        if name in current_profile.columns
    }
    errors = [f"{name}: {message}" for name, message in drift.get("errors", {}).items()]
    n_issues = len([i for i in quality["issues"] if i["severity"] != "info"])
    data = {
        "telltale_version": __version__,
        "created": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "title": title or "Data report",
        "elapsed_seconds": round(time.perf_counter() - started, 3),
        "reference": {
            "source": reference_source,
            "rows": reference_profile.row_count,
            "columns": len(reference_names),
            "profile_only": reference_table is None,
        },
        "current": {
            "source": current_source,
            "rows": current_profile.row_count,
            "columns": len(current_names),
        },
        "settings": {
            "target": target,
            "prediction": prediction,
            "score": scores,
            "method": method,
            "thresholds": dict(thresholds or {}),
            "seed": seed,
            "n_bootstrap": n_bootstrap,
            "task": performance.get("task") if performance else task,
        },
        "summary": {
            "n_columns": drift["n_columns"],
            "n_drifted": drift["n_drifted"],
            "share_drifted": drift["share_drifted"],
            "dataset_drift": drift["n_columns"] > 0
            and drift["share_drifted"] >= DATASET_DRIFT_SHARE,
            "n_quality_issues": n_issues,
        },
        "drift": drift,
        "quality": quality,
        "performance": performance,
        "columns": column_sections,
        "errors": errors,
    }
    return DataReport(data, reference_profile, current_profile)


@contextmanager
def _scanning(source: str) -> Iterator[None]:
    """Turn an engine failure in the middle of a scan (a bad CSV row on line 5,000) into a
    DataError naming the file, instead of a traceback."""
    from telltale.errors import TelltaleError
    from telltale.store.files import read_error

    try:
        yield
    except TelltaleError:
        raise
    except Exception as exc:
        if type(exc).__module__.split(".")[0] not in ("duckdb", "_duckdb", "ibis", "pyarrow"):
            raise
        raise read_error(source, exc) from exc


# --------------------------------------------------------------------------------------------
# Sections
# --------------------------------------------------------------------------------------------


def _drift_section(
    reference: TableProfile,
    current: TableProfile,
    features: list[str],
    target: str | None,
    prediction: str | None,
    method: str | None,
    thresholds: Mapping[str, float] | None,
) -> dict[str, Any]:
    from telltale.analysis.drift import column_drift, detect_drift

    table_drift = detect_drift(reference, current, features, method=method, thresholds=thresholds)
    section = table_drift.to_dict()
    for key, name in (("target", target), ("prediction", prediction)):
        section[key] = None
        if not name or name not in reference.columns or name not in current.columns:
            continue
        try:
            threshold = (thresholds or {}).get(name)
            section[key] = column_drift(
                reference[name], current[name], method=method, threshold=threshold
            ).to_dict()
        except (ValueError, ArithmeticError) as exc:
            section.setdefault("errors", {})[name] = str(exc)
    return section


def _in_background(function: Callable[..., Any], *args: Any) -> Future[Any]:
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="telltale")
    try:
        return pool.submit(function, *args)
    finally:
        pool.shutdown(wait=False)


def _run_plan(table: Any, plan: Any, source: str) -> TableProfile:
    from telltale.analysis.profiling import run_plan

    with _scanning(source):
        return run_plan(table, plan, source=source)


def _count_duplicates(sources: Mapping[str, Any]) -> dict[str, int | None]:
    from telltale.analysis.quality import count_duplicate_rows
    from telltale.store.engine import connect
    from telltale.store.files import describe_source, open_table

    con = connect()
    counts: dict[str, int | None] = {}
    for side, data in sources.items():
        with _scanning(describe_source(data)):
            counts[side] = count_duplicate_rows(open_table(con, data, name=side))
    return counts


def _quality_section(
    reference: TableProfile, current: TableProfile, duplicates: dict[str, int | None]
) -> dict[str, Any]:
    from telltale.analysis.quality import check_quality

    return check_quality(reference, current, duplicates=duplicates).to_dict()


def _infer_task(profile: ColumnProfile, scores: list[str]) -> str:
    if profile.kind == "categorical" or scores:
        return "classification"
    if profile.categorical is not None:
        return "classification"
    distinct = profile.distinct_count or 0
    integer = profile.dtype.startswith(("int", "uint"))
    return "classification" if integer and distinct <= CLASSIFICATION_MAX_DISTINCT else "regression"


def _fetch(
    table: Any, target: str, prediction: str | None, scores: list[str]
) -> dict[str, np.ndarray]:
    selection = {"y": table[target]}
    if prediction:
        selection["p"] = table[prediction]
    for i, name in enumerate(scores):
        selection[f"s{i}"] = table[name]
    from telltale.store.engine import to_arrow

    data = to_arrow(table.select(**selection))
    return {name: data.column(name).to_numpy(zero_copy_only=False) for name in data.column_names}


def _performance_section(
    reference_table: Any,
    current_table: Any,
    current_profile: TableProfile,
    target: str | None,
    prediction: str | None,
    scores: list[str],
    task: str | None,
    n_bootstrap: int,
    seed: int,
) -> dict[str, Any] | None:
    if not target or not (prediction or scores):
        return None
    from telltale.analysis import performance as perf

    if task is None:
        task = _infer_task(current_profile[target], scores)
    if task == "regression" and not prediction:
        raise ConfigError("a regression report needs --prediction (the predicted value column)")
    section: dict[str, Any] = {
        "task": task,
        "reference": None,
        "current": None,
        "difference": None,
        "error": None,
    }
    results: dict[str, Any] = {}
    sides = {"reference": reference_table, "current": current_table}
    # Shared label order so both confusion matrices line up.
    for side, table in sides.items():
        if table is None:
            continue
        arrays = _fetch(table, target, prediction, scores)
        # Independent seeds per side: the two samples are independent.
        side_seed = seed if side == "reference" else seed + 1
        try:
            if task == "classification":
                y_score = None
                if scores:
                    y_score = (
                        arrays["s0"]
                        if len(scores) == 1
                        else np.column_stack([arrays[f"s{i}"] for i in range(len(scores))])
                    )
                labels = scores if len(scores) > 1 else None
                results[side] = perf.classification_performance(
                    arrays["y"],
                    arrays.get("p"),
                    y_score,
                    labels=labels,
                    n_bootstrap=n_bootstrap,
                    seed=side_seed,
                )
            else:
                results[side] = perf.regression_performance(
                    arrays["y"], arrays["p"], n_bootstrap=n_bootstrap, seed=side_seed
                )
            section[side] = results[side].to_dict()
        except (ValueError, ArithmeticError) as exc:
            previous = section["error"]
            section["error"] = f"{previous}; {side}: {exc}" if previous else f"{side}: {exc}"
    if "reference" in results and "current" in results:
        difference = perf.performance_difference(results["reference"], results["current"])
        section["difference"] = difference.to_dict()["metrics"]
    if reference_table is None:
        section["note"] = (
            "the reference was given as a profile: reference performance needs reference data"
        )
    return section


# --------------------------------------------------------------------------------------------
# Per-column sections: stats and chart data
# --------------------------------------------------------------------------------------------


def _stats(profile: ColumnProfile | None) -> dict[str, Any] | None:
    if profile is None:
        return None
    stats: dict[str, Any] = {
        "count": profile.row_count - profile.missing_count,
        "missing": profile.missing_count,
        "missing_rate": profile.missing_rate,
        "distinct": profile.distinct_count,
    }
    if profile.numeric is not None and profile.kind != "categorical":
        numeric = profile.numeric
        levels = [0.05, 0.25, 0.5, 0.75, 0.95]
        p05, p25, p50, p75, p95 = numeric.quantiles(levels)
        stats.update(
            mean=numeric.mean,
            std=numeric.std,
            min=numeric.minimum,
            p05=p05,
            p25=p25,
            p50=p50,
            p75=p75,
            p95=p95,
            max=numeric.maximum,
            infinite=profile.inf_count,
        )
    if profile.categorical is not None and profile.categorical.frequencies:
        top, count = max(profile.categorical.frequencies.items(), key=lambda kv: (kv[1], kv[0]))
        stats.update(
            top=top,
            top_share=count / profile.categorical.count if profile.categorical.count else None,
        )
    return stats


def _column_section(reference: ColumnProfile | None, current: ColumnProfile) -> dict[str, Any]:
    section: dict[str, Any] = {
        "kind": current.kind,
        "dtype": {"reference": reference.dtype if reference else None, "current": current.dtype},
        "stats": {"reference": _stats(reference), "current": _stats(current)},
        "chart": None,
        "error": current.error,
    }
    try:
        section["chart"] = _chart(reference, current)
    except (ValueError, ArithmeticError) as exc:  # a chart never aborts the report
        section["error"] = f"chart: {exc}"
    return section


def _chart(reference: ColumnProfile | None, current: ColumnProfile) -> dict[str, Any] | None:
    use_categories = current.categorical is not None and (
        current.kind == "categorical"
        or (reference is not None and reference.categorical is not None)
    )
    if use_categories:
        return _bar_chart(reference, current)
    if current.numeric is not None and current.numeric.histogram is not None:
        return _histogram_chart(reference, current)
    return None


def _bar_chart(reference: ColumnProfile | None, current: ColumnProfile) -> dict[str, Any]:
    assert current.categorical is not None
    ref_cat = reference.categorical if reference is not None else None
    ref_total = ref_cat.count if ref_cat else 0
    cur_total = current.categorical.count
    ref_freq = ref_cat.frequencies if ref_cat else {}
    cur_freq = current.categorical.frequencies
    keys = set(ref_freq) | set(cur_freq)

    def share(freq: Mapping[str, int], total: int, key: str) -> float:
        return freq.get(key, 0) / total if total else 0.0

    ranked = sorted(
        keys, key=lambda k: (-max(share(ref_freq, ref_total, k), share(cur_freq, cur_total, k)), k)
    )
    shown = ranked[:DISPLAY_CATEGORIES]
    ref_shares = [share(ref_freq, ref_total, k) for k in shown]
    cur_shares = [share(cur_freq, cur_total, k) for k in shown]
    if (
        len(ranked) > len(shown)
        or (ref_cat and ref_cat.other_count)
        or current.categorical.other_count
    ):
        shown = [*shown, "(other)"]
        ref_shares.append(max(0.0, 1.0 - sum(ref_shares)) if ref_total else 0.0)
        cur_shares.append(max(0.0, 1.0 - sum(cur_shares)) if cur_total else 0.0)
    return {"type": "bar", "categories": shown, "reference": ref_shares, "current": cur_shares}


def _histogram_chart(
    reference: ColumnProfile | None, current: ColumnProfile
) -> dict[str, Any] | None:
    sides = [p.numeric for p in (reference, current) if p is not None and p.numeric is not None]
    sides = [s for s in sides if s.count and s.histogram is not None]
    if not sides:
        return None
    # Display range: the bulk of both sides (0.5%..99.5%), so one outlier does not flatten it.
    lows = [s.quantiles([0.005])[0] for s in sides]
    highs = [s.quantiles([0.995])[0] for s in sides]
    low = min(v for v in lows if v is not None)
    high = max(v for v in highs if v is not None)
    if not (math.isfinite(low) and math.isfinite(high)):
        return None
    if high <= low:
        high = low + (abs(low) or 1.0) * 1e-6
    edges = np.linspace(low, high, DISPLAY_BINS + 1)
    out: dict[str, Any] = {
        "type": "histogram",
        "edges": edges.tolist(),
        "reference": None,
        "current": None,
    }
    for key, profile in (("reference", reference), ("current", current)):
        if (
            profile is None
            or profile.numeric is None
            or profile.numeric.histogram is None
            or not profile.numeric.count
        ):
            continue
        numeric = profile.numeric
        histogram = numeric.histogram
        assert histogram is not None
        bounds = histogram.boundaries(numeric.minimum, numeric.maximum)
        mids = (bounds[:-1] + bounds[1:]) / 2.0
        index = np.clip(np.searchsorted(edges, mids, side="right") - 1, 0, DISPLAY_BINS - 1)
        shares = (
            np.bincount(index, weights=histogram.counts, minlength=DISPLAY_BINS) / numeric.count
        )
        out[key] = shares.tolist()
    return out
