"""Per-minute aggregates kept beside the raw events, so history outlives retention.

Every accepted event adds to the row of its *series* (project, model, version, environment, segment
tag set) and its UTC minute, in the same transaction as the event itself:

- ``tt_roll_serving``: events by status, rows predicted (``batch_size``), latency count and sum,
  and count/sum/sum of squares of finite numeric predictions;
- ``tt_roll_latency`` (per minute) and ``tt_roll_latency_hour``: latency histograms on
  logarithmic buckets (DDSketch's mapping): bucket ``k`` holds ``(γ^(k-1), γ^k]`` with
  ``γ = (1 + α) / (1 - α)``, and its value ``2γ^k / (γ + 1)`` is within ``α`` (1%) of every
  latency in it, so a quantile read off a sum of histograms is within 1% of the exact order
  statistic. Histograms add, so minutes sum to hours and hours to days; the hour table exists
  because a week of minutes holds ~150 non-empty buckets per series and minute (millions of rows),
  where a week of hours holds a few hundred thousand;
- ``tt_roll_classes``: counts of each predicted class (string, boolean or integer predictions);
- ``tt_roll_confusion`` and ``tt_roll_regression``: when a label meets its event, the pair
  (label, predicted class) is counted, and for numeric labels and predictions ``n``, ``Σ|e|``,
  ``Σe²``, ``Σy``, ``Σy²`` are added (MAE, RMSE and R² follow); replacing a label subtracts the
  old pair first.

Minutes are naive ``TIMESTAMP`` values in UTC, so hour and day windows are plain integer division
of epoch microseconds, whatever the session's time zone.

>>> bool(abs(bucket_values(np.array([latency_bucket(12.5)]))[0] / 12.5 - 1) <= ALPHA)
True
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

__all__ = [
    "ALPHA",
    "GAMMA",
    "INTERVALS",
    "ROLLUP_DDL",
    "ZERO_BUCKET",
    "add_events",
    "add_label_pairs",
    "bucket_values",
    "histogram_quantiles",
    "latency_bucket",
    "latency_bucket_sql",
]

ALPHA = 0.01
"""Relative error of a latency quantile read off the histograms."""
GAMMA = (1 + ALPHA) / (1 - ALPHA)
ZERO_BUCKET = -32768
"""The bucket of latencies of (almost) zero: below a nanosecond, where logarithms stop helping."""
_LOG_GAMMA = math.log(GAMMA)
_SMALLEST_MS = 1e-6

INTERVALS = {"minute": 60_000_000, "hour": 3_600_000_000, "day": 86_400_000_000}
"""Window lengths in microseconds (UTC)."""


def latency_bucket_sql(column: str) -> str:
    """SQL for the bucket of ``column`` (milliseconds; a name this module's caller generated)."""
    return (
        f"CASE WHEN {column} > {_SMALLEST_MS!r} "
        f"THEN CAST(ceil(ln({column}) / {_LOG_GAMMA!r}) AS SMALLINT) "
        f"ELSE {ZERO_BUCKET} END"
    )


def latency_bucket(latency_ms: float) -> int:
    """The bucket of one latency (the numpy twin of :func:`latency_bucket_sql`)."""
    if latency_ms <= _SMALLEST_MS:
        return ZERO_BUCKET
    return math.ceil(math.log(latency_ms) / _LOG_GAMMA)


def bucket_values(buckets: np.ndarray) -> np.ndarray:
    """The value that stands for each bucket: within ``ALPHA`` of everything in it."""
    keys = np.asarray(buckets, dtype=np.float64)
    values = 2.0 * np.exp(keys * _LOG_GAMMA) / (GAMMA + 1.0)
    return np.where(keys == ZERO_BUCKET, 0.0, values)


def histogram_quantiles(
    buckets: np.ndarray, counts: np.ndarray, levels: tuple[float, ...]
) -> list[float | None]:
    """Quantiles of a latency histogram (DDSketch's rule: the order statistic at rank
    ``floor(q (n - 1))``, 0-based, i.e. numpy's ``method="lower"``, within ``ALPHA``)."""
    order = np.argsort(buckets, kind="stable")
    keys = np.asarray(buckets)[order]
    cumulative = np.cumsum(np.asarray(counts, dtype=np.int64)[order])
    total = int(cumulative[-1]) if len(cumulative) else 0
    if total == 0:
        return [None for _ in levels]
    values = bucket_values(keys)
    out: list[float | None] = []
    for q in levels:
        rank = math.floor(q * (total - 1))
        index = int(np.searchsorted(cumulative, rank, side="right"))
        out.append(float(values[min(index, len(values) - 1)]))
    return out


ROLLUP_DDL = (
    """CREATE SEQUENCE IF NOT EXISTS tt_series_ids""",
    """CREATE TABLE IF NOT EXISTS tt_series (
        series_id INTEGER PRIMARY KEY,
        model_id INTEGER NOT NULL,
        version VARCHAR NOT NULL,
        environment_id VARCHAR NOT NULL,
        segment MAP(VARCHAR, VARCHAR) NOT NULL,
        segment_key VARCHAR NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS tt_roll_serving (
        series_id INTEGER NOT NULL,
        minute TIMESTAMP NOT NULL,
        events BIGINT NOT NULL,
        ok BIGINT NOT NULL,
        error BIGINT NOT NULL,
        invalid BIGINT NOT NULL,
        timeout BIGINT NOT NULL,
        fallback BIGINT NOT NULL,
        batch_rows BIGINT NOT NULL,
        latency_n BIGINT NOT NULL,
        latency_sum DOUBLE NOT NULL,
        prediction_n BIGINT NOT NULL,
        prediction_sum DOUBLE NOT NULL,
        prediction_sumsq DOUBLE NOT NULL,
        PRIMARY KEY (series_id, minute)
    )""",
    """CREATE TABLE IF NOT EXISTS tt_roll_latency (
        series_id INTEGER NOT NULL,
        minute TIMESTAMP NOT NULL,
        bucket SMALLINT NOT NULL,
        n BIGINT NOT NULL,
        PRIMARY KEY (series_id, minute, bucket)
    )""",
    """CREATE TABLE IF NOT EXISTS tt_roll_latency_hour (
        series_id INTEGER NOT NULL,
        hour TIMESTAMP NOT NULL,
        bucket SMALLINT NOT NULL,
        n BIGINT NOT NULL,
        PRIMARY KEY (series_id, hour, bucket)
    )""",
    """CREATE TABLE IF NOT EXISTS tt_roll_classes (
        series_id INTEGER NOT NULL,
        minute TIMESTAMP NOT NULL,
        class VARCHAR NOT NULL,
        n BIGINT NOT NULL,
        PRIMARY KEY (series_id, minute, class)
    )""",
    """CREATE TABLE IF NOT EXISTS tt_roll_confusion (
        series_id INTEGER NOT NULL,
        minute TIMESTAMP NOT NULL,
        label VARCHAR NOT NULL,
        prediction VARCHAR NOT NULL,
        n BIGINT NOT NULL,
        PRIMARY KEY (series_id, minute, label, prediction)
    )""",
    """CREATE TABLE IF NOT EXISTS tt_roll_regression (
        series_id INTEGER NOT NULL,
        minute TIMESTAMP NOT NULL,
        n BIGINT NOT NULL,
        abs_error DOUBLE NOT NULL,
        sq_error DOUBLE NOT NULL,
        y DOUBLE NOT NULL,
        y2 DOUBLE NOT NULL,
        PRIMARY KEY (series_id, minute)
    )""",
)
"""Statements that create the rollup tables (idempotent)."""


def add_events(cursor: Any, stage: str) -> None:
    """Add the rows of table ``stage`` to the rollups.

    ``stage`` (a name the store made) has ``series_id``, ``minute``, ``status``, ``batch_size``,
    ``latency_ms``, ``prediction_value`` and ``prediction_class``.
    """
    statuses = ", ".join(
        f"count(*) FILTER (WHERE status = '{s}')"
        for s in ("ok", "error", "invalid", "timeout", "fallback")
    )
    cursor.execute(
        f"""INSERT INTO tt_roll_serving
        SELECT series_id, minute, count(*), {statuses}, sum(batch_size), count(latency_ms),
               coalesce(sum(latency_ms), 0),
               count(prediction_value) FILTER (WHERE isfinite(prediction_value)),
               coalesce(sum(prediction_value) FILTER (WHERE isfinite(prediction_value)), 0),
               coalesce(sum(prediction_value * prediction_value)
                        FILTER (WHERE isfinite(prediction_value)), 0)
        FROM {stage} GROUP BY series_id, minute
        ON CONFLICT (series_id, minute) DO UPDATE SET
            events = events + excluded.events, ok = ok + excluded.ok,
            error = error + excluded.error, invalid = invalid + excluded.invalid,
            timeout = timeout + excluded.timeout, fallback = fallback + excluded.fallback,
            batch_rows = batch_rows + excluded.batch_rows,
            latency_n = latency_n + excluded.latency_n,
            latency_sum = latency_sum + excluded.latency_sum,
            prediction_n = prediction_n + excluded.prediction_n,
            prediction_sum = prediction_sum + excluded.prediction_sum,
            prediction_sumsq = prediction_sumsq + excluded.prediction_sumsq"""
    )
    bucket = latency_bucket_sql("latency_ms")
    cursor.execute(
        f"""CREATE OR REPLACE TEMP TABLE tt_latency_delta AS
        SELECT series_id, minute, {bucket} AS bucket, count(*) AS n
        FROM {stage} WHERE latency_ms IS NOT NULL GROUP BY ALL"""
    )
    cursor.execute(
        """INSERT INTO tt_roll_latency SELECT * FROM tt_latency_delta
        ON CONFLICT (series_id, minute, bucket) DO UPDATE SET n = n + excluded.n"""
    )
    cursor.execute(
        """INSERT INTO tt_roll_latency_hour
        SELECT series_id, date_trunc('hour', minute), bucket, sum(n)
        FROM tt_latency_delta GROUP BY ALL
        ON CONFLICT (series_id, hour, bucket) DO UPDATE SET n = n + excluded.n"""
    )
    cursor.execute(
        f"""INSERT INTO tt_roll_classes
        SELECT series_id, minute, prediction_class, count(*)
        FROM {stage} WHERE prediction_class IS NOT NULL GROUP BY ALL
        ON CONFLICT (series_id, minute, class) DO UPDATE SET n = n + excluded.n"""
    )


def add_label_pairs(cursor: Any, pairs: str) -> None:
    """Add (``sign`` = 1) or take back (-1) labelled pairs of table ``pairs``.

    ``pairs`` has ``series_id``, ``minute``, ``label`` (text), ``label_number``,
    ``prediction_class``, ``prediction_value`` and ``sign``.
    """
    cursor.execute(
        f"""INSERT INTO tt_roll_confusion
        SELECT series_id, minute, label, prediction_class, sum(sign)
        FROM {pairs} WHERE prediction_class IS NOT NULL GROUP BY ALL
        ON CONFLICT (series_id, minute, label, prediction) DO UPDATE SET n = n + excluded.n"""
    )
    cursor.execute(
        f"""INSERT INTO tt_roll_regression
        SELECT series_id, minute, sum(sign),
               sum(sign * abs(label_number - prediction_value)),
               sum(sign * (label_number - prediction_value) ** 2),
               sum(sign * label_number), sum(sign * label_number ** 2)
        FROM {pairs}
        WHERE isfinite(label_number) AND isfinite(prediction_value)
        GROUP BY ALL
        ON CONFLICT (series_id, minute) DO UPDATE SET
            n = n + excluded.n, abs_error = abs_error + excluded.abs_error,
            sq_error = sq_error + excluded.sq_error, y = y + excluded.y, y2 = y2 + excluded.y2"""
    )
