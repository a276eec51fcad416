"""Latency histograms: the buckets, their quantiles, and how long minutes are kept.

Latencies are counted on logarithmic buckets (DDSketch's mapping): bucket ``k`` holds
``(γ^(k-1), γ^k]`` with ``γ = (1 + α) / (1 - α)``, and its value ``2γ^k / (γ + 1)`` is within
``α`` (1%) of every latency in it, so a quantile read off a sum of histograms is within 1% of
the exact order statistic. Histograms add, so minutes sum to hours and hours to days.

Two tables hold them: ``tt_roll_latency`` per series and minute, ``tt_roll_latency_hour`` per
series and hour. Minutes are the big one — about 150 non-empty buckets per series and minute,
~6M rows a week for a busy model — so they are kept for a number of days only
(:func:`trim_minutes`, run by the server's writer between transactions), while hours are kept
forever. The file remembers the *horizon* (``tt_meta.latency_minutes_from``): the hour before
which minute rows are gone.

How windows stay right past the horizon (:func:`latency_histograms`): whole hours are always
read from the hour table, exactly as before; only the parts of a span that need minutes (a span
starting or ending inside an hour, or minute windows) fall back to hours where the minutes are
gone. There the latency percentiles of a window are those of the whole hours it touches: a
minute window reports its hour's distribution, and a window that starts at 10:37 reports 10:00-
11:00 for its first hour. Event counts, rates and mean latency do not change: they come from
``tt_roll_serving``, which keeps minutes forever (one row per series and minute).

>>> bool(abs(bucket_values(np.array([latency_bucket(12.5)]))[0] / 12.5 - 1) <= ALPHA)
True
>>> latency_buckets(pa.array([12.5, None, 0.0])).to_pylist() == [latency_bucket(12.5), None,
...                                                               ZERO_BUCKET]
True
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pyarrow as pa

__all__ = [
    "ALPHA",
    "GAMMA",
    "HOUR_US",
    "MINUTE_US",
    "ZERO_BUCKET",
    "bucket_values",
    "histogram_quantiles",
    "latency_bucket",
    "latency_bucket_sql",
    "latency_buckets",
    "latency_histograms",
    "minute_horizon",
    "trim_minutes",
]

ALPHA = 0.01
"""Relative error of a latency quantile read off the histograms."""
GAMMA = (1 + ALPHA) / (1 - ALPHA)
ZERO_BUCKET = -32768
"""The bucket of latencies of (almost) zero: below a nanosecond, where logarithms stop helping."""
MINUTE_US = 60_000_000
HOUR_US = 3_600_000_000
_LOG_GAMMA = math.log(GAMMA)
_SMALLEST_MS = 1e-6
_HORIZON_KEY = "latency_minutes_from"


def latency_bucket_sql(column: str) -> str:
    """SQL for the bucket of ``column`` (milliseconds; a name this module's caller generated)."""
    return (
        f"CASE WHEN {column} > {_SMALLEST_MS!r} "
        f"THEN CAST(ceil(ln({column}) / {_LOG_GAMMA!r}) AS SMALLINT) "
        f"ELSE {ZERO_BUCKET} END"
    )


def latency_bucket(latency_ms: float) -> int:
    """The bucket of one latency (the scalar twin of :func:`latency_buckets`)."""
    if latency_ms <= _SMALLEST_MS:
        return ZERO_BUCKET
    return math.ceil(math.log(latency_ms) / _LOG_GAMMA)


def latency_buckets(latency_ms: pa.Array) -> pa.Array:
    """The bucket of each latency (``int16``; null where the latency is null)."""
    values = latency_ms.to_numpy(zero_copy_only=False).astype(np.float64)
    small = ~(values > _SMALLEST_MS)  # NaN (a null) lands here too; masked below
    with np.errstate(divide="ignore", invalid="ignore"):
        keys = np.ceil(np.log(np.where(small, 1.0, values)) / _LOG_GAMMA)
    buckets = np.where(small, ZERO_BUCKET, keys).astype(np.int16)
    mask = np.asarray(latency_ms.is_null()) if latency_ms.null_count else None
    return pa.array(buckets, pa.int16(), mask=mask)


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


# ---- retention of minutes ----------------------------------------------------------------------


def minute_horizon(cursor: Any) -> int:
    """Epoch µs before which minute histograms are gone (0: all kept)."""
    rows = cursor.execute("SELECT value FROM tt_meta WHERE key = ?", [_HORIZON_KEY]).fetchall()
    return int(rows[0][0]) if rows else 0


def trim_minutes(con: Any, before_us: int) -> int:
    """Delete minute histograms before the hour of ``before_us``; hours stay. Returns the
    number of rows deleted. Call inside a transaction (the horizon moves with the delete)."""
    horizon = (before_us // HOUR_US) * HOUR_US
    if horizon <= minute_horizon(con):
        return 0
    rows = con.execute(
        "DELETE FROM tt_roll_latency WHERE minute < make_timestamp(?)", [horizon]
    ).fetchall()
    con.execute("INSERT OR REPLACE INTO tt_meta VALUES (?, ?)", [_HORIZON_KEY, str(horizon)])
    return int(rows[0][0]) if rows else 0


# ---- reading ---------------------------------------------------------------------------------


def latency_histograms(
    cursor: Any, series: list[int], start_us: int, end_us: int, length_us: int | None
) -> pa.Table:
    """Latency buckets per window of ``[start_us, end_us)`` (minute-aligned) for ``series``:
    columns ``w`` (window start: ``start_us`` when ``length_us`` is None, else the UTC-aligned
    multiple of ``length_us``), ``bucket``, ``n``, sorted by window and bucket.

    Whole hours come from the hour table; the rest from minutes, or, before the horizon, from
    the hours it touches (see the module docstring)."""
    ids = "(" + ", ".join(str(int(s)) for s in series) + ")"  # integers the store made

    def window(column: str) -> str:
        if length_us is None:
            return str(int(start_us))
        return f"(epoch_us({column}) // {int(length_us)}) * {int(length_us)}"

    parts: list[str] = []
    params: list[Any] = []
    whole_start = -((-start_us) // HOUR_US) * HOUR_US
    whole_end = (end_us // HOUR_US) * HOUR_US
    minute_ranges = [(start_us, end_us)]
    if (length_us is None or length_us >= HOUR_US) and whole_start < whole_end:
        parts.append(
            f"""SELECT {window("hour")} AS w, bucket, n FROM tt_roll_latency_hour
            WHERE series_id IN {ids} AND hour >= make_timestamp(?) AND hour < make_timestamp(?)"""
        )
        params += [whole_start, whole_end]
        minute_ranges = [(start_us, whole_start), (whole_end, end_us)]
    horizon = minute_horizon(cursor)
    for lo, hi in minute_ranges:
        kept = max(lo, horizon)
        if kept < hi:
            parts.append(
                f"""SELECT {window("minute")} AS w, bucket, n FROM tt_roll_latency
                WHERE series_id IN {ids} AND minute >= make_timestamp(?)
                  AND minute < make_timestamp(?)"""
            )
            params += [kept, hi]
        gone = min(hi, horizon)
        if lo < gone:
            sql, more = _hours_for(ids, window, length_us, lo, gone)
            parts.append(sql)
            params += more
    if not parts:
        return pa.table(
            {"w": pa.array([], pa.int64()), "bucket": pa.array([], pa.int16()), "n": []}
        )
    sql = (
        "SELECT w, bucket, sum(n) AS n FROM (" + " UNION ALL ".join(parts) + ") "
        "GROUP BY w, bucket ORDER BY w, bucket"
    )
    return cursor.sql(sql, params=params).to_arrow_table()


def _hours_for(
    ids: str, window: Any, length_us: int | None, lo: int, hi: int
) -> tuple[str, list[Any]]:
    """SQL (and parameters) of the hour histograms standing in for the minutes of ``[lo, hi)``
    that are gone: every hour touching the range, in each window it overlaps there."""
    if length_us is None or length_us >= HOUR_US:  # one window holds the whole hour
        return (
            f"""SELECT {window("hour")} AS w, bucket, n FROM tt_roll_latency_hour
            WHERE series_id IN {ids} AND hour < make_timestamp(?)
              AND hour > make_timestamp(?) - INTERVAL 1 HOUR""",
            [hi, lo],
        )
    # minute windows: each minute of the range gets the histogram of its hour
    return (
        f"""SELECT m.w, h.bucket, h.n
        FROM (SELECT range AS w FROM range(?::BIGINT, ?::BIGINT, {MINUTE_US})) m
        JOIN tt_roll_latency_hour h
          ON h.hour = make_timestamp((m.w // {HOUR_US}) * {HOUR_US})
        WHERE h.series_id IN {ids}""",
        [lo, hi],
    )
