"""Accuracy without labels: estimated from the model's confidence, calibrated on past labels.

Labels arrive late or never; a team still wants to know, *now*, whether accuracy is falling.
When a classifier reports a ``score`` output (its confidence, or the probability of one class),
the chance that a call is right given its score can be learned from the calls whose labels did
arrive. The estimate of a window is that chance averaged over the window's calls: a
confidence-based performance estimate (CBPE, as NannyML calls it), with the calibration a
histogram rather than a fitted curve, so it needs no assumption on what the score means:

1. **Calibration**: the newest labelled events before the window's end (at most
   ``max_calibration``, within ``calibration``), each with its score and whether the prediction
   was the label. Their scores are cut at quantiles into at most ``bins`` bins; bin ``b``'s
   accuracy is ``a_b = (c_b + 2 A) / (n_b + 2)`` (``c_b`` right of ``n_b``, shrunk toward the
   overall accuracy ``A`` by two pseudo-events so a small bin cannot say 0 or 1).
2. **Windows**: every event of a window with a finite score, labelled or not, falls in a bin
   (one SQL ``GROUP BY`` over the events); with ``w_b`` the window's share in bin ``b`` out of
   ``N`` scored events, ``estimate = sum_b w_b a_b``.
3. **Interval** (95 %, for the accuracy the labels will show): normal, with variance
   ``sum_b w_b^2 a_b (1 - a_b) / n_b`` (the calibration's error) ``+ sum_b w_b a_b (1 - a_b) / N``
   (which of the window's calls turn out right), clipped to [0, 1].

What it can see: a shift in the inputs that moves the scores (more hard cases, drift into a
region where the model is unsure). What it cannot: a change in *what is right* for a given score
(concept drift, a stale calibration); only labels show that, which is why the estimate is shown
next to the labelled accuracy, never instead of it once labels exist.

>>> from telltale.analysis.estimate import calibrate
>>> scores = np.array([0.1, 0.2, 0.8, 0.9] * 25); right = np.array([1, 0, 1, 1] * 25, bool)
>>> calibration = calibrate(scores, right, bins=2)
>>> calibration.edges.tolist(), [round(a, 3) for a in calibration.accuracy.tolist()]
([0.5], [0.51, 0.99])
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

import numpy as np

from telltale.analysis.windows import Interval, _iso, _rows, _series_sql, _span, _us
from telltale.errors import ConfigError, NotFoundError
from telltale.schema.result import Result
from telltale.store.events import EventStore
from telltale.store.rollup import INTERVALS

__all__ = [
    "Calibration",
    "EstimatedPerformance",
    "EstimatedWindow",
    "calibrate",
    "estimate_window",
    "estimated_performance",
]

_Z95 = 1.959963984540054
_PRIOR = 2.0  # pseudo-events pulling a bin's accuracy toward the overall one
MIN_CALIBRATION = 100
"""Fewer labelled events with a score than this: no estimate (the calibration would be noise)."""


@dataclass(frozen=True)
class Calibration:
    """Accuracy by score bin: ``edges`` (the inner cut points, ascending; bin ``b`` holds
    ``edges[b-1] <= score < edges[b]``), ``accuracy``, ``counts``, and the overall accuracy."""

    edges: np.ndarray
    accuracy: np.ndarray
    counts: np.ndarray
    overall: float

    def bin_of(self, scores: np.ndarray) -> np.ndarray:
        return np.searchsorted(self.edges, scores, side="right")


def calibrate(scores: np.ndarray, right: np.ndarray, bins: int = 20) -> Calibration:
    """Accuracy by score bin from labelled events (``right``: the prediction was the label).

    Cut points are quantiles of the scores (repeated ones merged, so a score with many ties is
    one bin); non-finite scores must be dropped before."""
    scores = np.asarray(scores, dtype=float)
    right = np.asarray(right, dtype=bool)
    if scores.shape != right.shape or scores.ndim != 1 or not len(scores):
        raise ConfigError("calibrate needs as many scores as outcomes, at least one")
    if not np.isfinite(scores).all():
        raise ConfigError("calibrate takes finite scores only; drop NaN and infinities first")
    if not isinstance(bins, int) or bins < 1:
        raise ConfigError(f"bins={bins!r} must be a whole number >= 1")
    inner = np.quantile(scores, np.arange(1, bins) / bins) if bins > 1 else np.zeros(0)
    edges = np.unique(inner)
    edges = edges[edges > scores.min()]  # a cut at the minimum would leave its bin empty
    codes = np.searchsorted(edges, scores, side="right")
    counts = np.bincount(codes, minlength=len(edges) + 1).astype(float)
    correct = np.bincount(codes, weights=right.astype(float), minlength=len(edges) + 1)
    overall = float(right.mean())
    accuracy = (correct + _PRIOR * overall) / (counts + _PRIOR)
    return Calibration(edges, accuracy, counts, overall)


def estimate_window(
    calibration: Calibration, bin_counts: np.ndarray
) -> tuple[float | None, float | None, float | None]:
    """``(estimate, low, high)`` for a window with ``bin_counts`` scored events per bin."""
    counts = np.asarray(bin_counts, dtype=float)
    total = float(counts.sum())
    if total <= 0:
        return None, None, None
    weights = counts / total
    a = calibration.accuracy
    estimate = float(weights @ a)
    variance = float(np.sum(weights**2 * a * (1 - a) / (calibration.counts + _PRIOR)))
    variance += float(np.sum(weights * a * (1 - a))) / total
    half = _Z95 * math.sqrt(max(variance, 0.0))
    return estimate, max(0.0, estimate - half), min(1.0, estimate + half)


@dataclass
class EstimatedWindow(Result):
    """One window's estimated accuracy; ``scored`` is how many of its ``events`` had a
    finite score (the others are not in the estimate)."""

    start: str
    end: str
    events: int
    scored: int
    estimated_accuracy: float | None
    estimated_accuracy_low: float | None = None
    estimated_accuracy_high: float | None = None


@dataclass
class EstimatedPerformance(Result):
    """Estimated accuracy per window, or ``note`` saying why there is none."""

    model: str
    interval: str
    start: str
    end: str
    score: str
    calibration_events: int
    calibration_accuracy: float | None
    bins: int
    note: str | None = None
    windows: list[EstimatedWindow] = field(default_factory=list)


def _days(period: timedelta) -> str:
    days = period.total_seconds() / 86_400
    return f"{days:g} days" if days >= 1 else f"{period.total_seconds() / 60:g} minutes"


def estimated_performance(
    store: EventStore,
    project: str,
    model: str,
    start: datetime,
    end: datetime,
    interval: Interval | None = "hour",
    version: str | None = None,
    environment: str | None = None,
    segment: dict[str, str] | None = None,
    *,
    score: str = "score",
    calibration: timedelta = timedelta(days=30),
    max_calibration: int = 50_000,
    bins: int = 20,
) -> EstimatedPerformance:
    """Estimated accuracy of a classifier per window of ``[start, end)``, from its ``score``
    output, calibrated on the newest ``max_calibration`` labelled events of the
    ``calibration`` period before ``end``.

    Every score of the span is read: one scan, measured at 40 ms for an hour and 0.25 s for
    a week of 10M events on 2 cores (``benchmarks/dashboard_pages.py``'s store). A sample would
    be cheaper, but DuckDB's fast one takes whole vectors of consecutive rows, which under drift
    over-weights some minutes; the dashboard asks for at most a day."""
    if interval is not None and interval not in INTERVALS:
        raise ConfigError(f"interval {interval!r} is not one of {', '.join(INTERVALS)}")
    span = _span(start, end, interval)
    out = EstimatedPerformance(
        model=model,
        interval=interval or "span",
        start=_iso(span.start_us),
        end=_iso(span.end_us),
        score=score,
        calibration_events=0,
        calibration_accuracy=None,
        bins=0,
    )
    try:
        table = store.model_table(project, model)
    except NotFoundError:
        out.note = f"no events of model {model!r} yet"
        return out
    column = table.column("output", score)
    if column is None or column.type != "DOUBLE":
        out.note = (
            f"the model sends no numeric {score!r} output: the estimate needs the classifier's "
            f"confidence, e.g. return {{'prediction': label, {score!r}: probability}}"
        )
        return out
    value = f'e."{column.column_name}"'
    # the filters as the store's series (model, version, environment, segment): the rollups and
    # the events table are both read by series id
    series = store.series(
        project, model, version=version, environment=environment, segment=segment or None
    )
    end_us = _us(end)
    since = _calibration_start(
        store, series, end_us - int(calibration.total_seconds() * 1e6), end_us, max_calibration
    )
    labelled: dict[str, Any] = {"s": np.zeros(0), "r": np.zeros(0, bool)}
    if since is not None:
        since_ts = datetime.fromtimestamp(since / 1e6, tz=timezone.utc)
        params: list[Any] = [project, since_ts, since, end_us]
        where = [
            "epoch_us(e.ts) >= ?",
            "epoch_us(e.ts) < ?",
            f"e.series_id IN {_series_sql(series)}",
            "e.prediction_class IS NOT NULL",
            f"isfinite({value})",
        ]
        cursor = store.cursor()
        try:
            labelled = cursor.execute(
                f"""SELECT {value} AS s, e.prediction_class = l.label AS r
                FROM {table.table_name} e JOIN tt_labels l ON l.project = ? AND l.matched
                  AND l.event_ts >= ? AND l.event_id = e.event_id
                WHERE {" AND ".join(where)} AND l.label IS NOT NULL""",
                params,
            ).fetchnumpy()
        finally:
            cursor.close()
    found = len(labelled["s"])
    out.calibration_events = found
    if found < MIN_CALIBRATION:
        out.note = (
            f"{found} labelled events with a {score!r} in the {_days(calibration)} before the "
            f"end; the estimate needs {MIN_CALIBRATION} to calibrate on"
        )
        return out
    fitted = calibrate(
        np.asarray(labelled["s"], dtype=float), np.asarray(labelled["r"], dtype=bool), bins
    )
    out.calibration_accuracy = fitted.overall
    out.bins = len(fitted.accuracy)
    _windows(store, series, table.table_name, value, span, fitted, out)
    return out


def _calibration_start(
    store: EventStore, series: list[int], start_us: int, end_us: int, wanted: int
) -> int | None:
    """Where the newest ``wanted`` labelled events of the period begin (µs), read off the
    confusion rollups (labelled events per minute): the join then reads only the recent part
    of the events table (0.05 s instead of 0.5 s at 10M events and 3M labels). None: no label."""
    if not series:
        return None
    minutes = _rows(
        store,
        f"""SELECT epoch_us(minute) AS m, sum(n) AS n FROM tt_roll_confusion
        WHERE series_id IN {_series_sql(series)} AND minute >= make_timestamp(?)
          AND minute < make_timestamp(?) GROUP BY m HAVING sum(n) > 0 ORDER BY m DESC""",
        [(start_us // 60_000_000) * 60_000_000, end_us],
    )
    if not len(minutes["m"]):
        return None
    reached = np.cumsum(minutes["n"].astype(np.int64)) >= wanted
    at = int(np.argmax(reached)) if reached.any() else len(minutes["m"]) - 1
    return max(int(minutes["m"][at]), start_us)


def _bin_sql(value: str, edges: list[float], first: int = 0) -> str:
    """The bin of ``value`` as a balanced tree of CASEs: about log2(bins) comparisons a row,
    not one per edge (0.15 s instead of 0.35 s over 10M rows with 20 bins)."""
    if not edges:
        return str(first)
    mid = len(edges) // 2
    low = _bin_sql(value, edges[:mid], first)
    high = _bin_sql(value, edges[mid + 1 :], first + mid + 1)
    return f"CASE WHEN {value} < {edges[mid]!r} THEN {low} ELSE {high} END"


def _windows(
    store: EventStore,
    series: list[int],
    table_name: str,
    value: str,
    span: Any,
    fitted: Calibration,
    out: EstimatedPerformance,
) -> None:
    """Fill ``out.windows``: events per window from the rollups, the score bins from the
    events."""
    bounds = [span.start_us, span.end_us]
    counted = _rows(
        store,
        f"""SELECT {span.window_sql("minute")} AS w, sum(events) AS events FROM tt_roll_serving
        WHERE series_id IN {_series_sql(series)} AND minute >= make_timestamp(?)
          AND minute < make_timestamp(?) GROUP BY w ORDER BY w""",
        bounds,
    )
    events = {int(w): int(n) for w, n in zip(counted["w"], counted["events"], strict=True)}
    if not sum(events.values()):
        return
    where = [
        "epoch_us(e.ts) >= ?",
        "epoch_us(e.ts) < ?",
        f"e.series_id IN {_series_sql(series)}",
        f"isfinite({value})",
    ]
    binned = _rows(
        store,
        f"""SELECT {span.window_sql("e.ts")} AS w,
            {_bin_sql(value, [float(x) for x in fitted.edges])} AS b, count(*) AS n
        FROM {table_name} e WHERE {" AND ".join(where)} GROUP BY ALL""",
        bounds,
    )
    counts = {w: np.zeros(len(fitted.accuracy)) for w in events}
    for w, b, n in zip(binned["w"], binned["b"], binned["n"], strict=True):
        counts.setdefault(int(w), np.zeros(len(fitted.accuracy)))[int(b)] += int(n)
    for window in sorted(events):
        estimate, low, high = estimate_window(fitted, counts[window])
        lo, hi = span.bounds(window)
        out.windows.append(
            EstimatedWindow(
                _iso(lo), _iso(hi), events[window], int(counts[window].sum()), estimate, low, high
            )
        )
