"""Column and table profiles: small, mergeable summaries of a table.

A profile holds what drift, quality and the report need from one side of a comparison, so a
reference can be profiled once, saved (a few hundred kB) and reused instead of re-read:

- every column: rows, nulls, NaN and infinite values, a distinct-count sketch;
- numeric columns: count, min, max, mean, variance (Chan's parallel moments), and a histogram
  of *fine bins* on reference-derived edges; quantiles and the CDF are read off that histogram;
- categorical columns: frequencies of the most common categories and an ``other`` count beyond
  a cap.

Merging is exact for counts, min, max, histograms and frequencies (below the cap); the moments
merge exactly up to floating-point rounding; the distinct sketch merges as a theta sketch (exact
while a column has fewer distinct values than the sketch keeps).

Fine bins
---------
Bins are equally wide on ``t = sign(z) * ln(1 + |z|)``, ``z = (x - center) / scale``, where
``center`` and ``scale`` come from the reference (median and half the inter-quartile range). The transform is linear near the
centre and logarithmic in the tails, so one rule gives fine resolution for normal, uniform and
heavy-tailed data alike, and the bin of a value is plain arithmetic every engine runs fast (no
search over edges). A bin index ``-1`` holds values below the reference range, ``n_bins`` those
above it.

>>> spec = BinSpec.from_sample(np.array([1.0, 2.0, 3.0, 4.0]), minimum=1.0, maximum=4.0, n_bins=4)
>>> [round(float(e), 2) for e in spec.edges()]
[1.0, 1.91, 2.5, 3.09, 4.0]
"""

from __future__ import annotations

import gzip
import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import numpy as np

from telltale.errors import ProfileError

__all__ = [
    "PROFILE_FORMAT_VERSION",
    "BinSpec",
    "CategoricalSummary",
    "ColumnKind",
    "ColumnProfile",
    "DistinctSketch",
    "Histogram",
    "NumericSummary",
    "TableProfile",
]

PROFILE_FORMAT_VERSION = 1
_FORMAT_NAME = "telltale-profile"

ColumnKind = Literal["numeric", "categorical", "datetime"]
"""How a column is analysed: ``numeric`` (and ``datetime`` as epoch seconds) get moments and a
histogram; ``categorical`` gets frequencies. A numeric column with few distinct values gets
frequencies as well (see :attr:`ColumnProfile.categorical`)."""


def _finite_or_none(value: float | None) -> float | None:
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


# --------------------------------------------------------------------------------------------
# Binning
# --------------------------------------------------------------------------------------------


def _symlog(z: np.ndarray) -> np.ndarray:
    """``sign(z) * ln(1 + |z|)``, written as the engines evaluate it."""
    return np.sign(z) * np.log(1.0 + np.abs(z))


def _symexp(t: np.ndarray) -> np.ndarray:
    """The inverse of :func:`_symlog`."""
    return np.sign(t) * np.expm1(np.abs(t))


@dataclass(frozen=True)
class BinSpec:
    """Edges of the fine bins, derived from a reference column.

    ``n_bins`` bins are equally wide in ``t = sign(z) * ln(1 + |z|)``, ``z = (x - center) /
    scale``, between ``t_low`` and ``t_high``, which sit a hair outside the transformed range
    ``[low, high]`` so that rounding never moves the reference's own min or max out of it. A
    constant reference column gives ``n_bins == 1`` with both edges equal to the constant: bin 0
    holds the constant, the outer bins hold anything else.
    """

    center: float
    scale: float
    t_low: float
    t_high: float
    n_bins: int
    low: float = math.nan
    """The reference minimum, exactly (the transform does not round-trip)."""
    high: float = math.nan
    """The reference maximum, exactly."""

    def __post_init__(self) -> None:
        # Frozen dataclass: fill the range from the transform when it is not given.
        if math.isnan(self.low):
            object.__setattr__(self, "low", float(self._inverse(self.t_low)))
        if math.isnan(self.high):
            object.__setattr__(self, "high", float(self._inverse(self.t_high)))

    def _inverse(self, t: float) -> float:
        if self.degenerate:
            return self.center
        return float(self.center + self.scale * _symexp(np.array([t]))[0])

    @classmethod
    def from_sample(
        cls, sample: np.ndarray, *, minimum: float, maximum: float, n_bins: int = 1024
    ) -> BinSpec:
        """Derive a spec from a (sampled) reference column and its exact finite range."""
        if not (math.isfinite(minimum) and math.isfinite(maximum)) or maximum < minimum:
            raise ProfileError(
                f"bin range must be finite with min <= max, got [{minimum}, {maximum}]"
            )
        if n_bins < 1:
            raise ProfileError(f"n_bins must be at least 1, got {n_bins}")
        minimum, maximum = float(minimum), float(maximum)
        if maximum == minimum:
            return cls(minimum, 1.0, 0.0, 0.0, 1, minimum, maximum)
        values = np.asarray(sample, dtype=np.float64)
        values = values[np.isfinite(values)]
        if values.size:
            q25, center, q75 = np.quantile(values, [0.25, 0.5, 0.75])
            scale = (q75 - q25) / 2.0
        else:
            center, scale = (minimum + maximum) / 2.0, 0.0
        if not scale > 0:
            # Most values equal: fall back to the spread of the whole range.
            scale = (maximum - minimum) / 2.0
        center = float(min(max(center, minimum), maximum))
        scale = float(scale)
        ends = _symlog((np.array([minimum, maximum]) - center) * (1.0 / scale))
        margin = 1e-9 * float(ends[1] - ends[0]) + 1e-12 * float(np.abs(ends).max())
        return cls(
            center,
            scale,
            float(ends[0]) - margin,
            float(ends[1]) + margin,
            int(n_bins),
            minimum,
            maximum,
        )

    @property
    def degenerate(self) -> bool:
        """True for a constant reference column (one bin of zero width)."""
        return self.t_high == self.t_low

    def edges(self) -> np.ndarray:
        """The ``n_bins + 1`` bin edges in the units of the column."""
        if self.degenerate:
            return np.array([self.low, self.high])
        t = np.linspace(self.t_low, self.t_high, self.n_bins + 1)
        edges = self.center + self.scale * _symexp(t)
        edges[0], edges[-1] = self.low, self.high
        return np.maximum.accumulate(edges)

    def assign(self, values: np.ndarray) -> np.ndarray:
        """Bin index of each finite value, ``-1`` below and ``n_bins`` above the range.

        The engines evaluate the same arithmetic (see ``telltale.analysis.profiling``); this
        numpy twin exists for tests and for small in-memory data.
        """
        x = np.asarray(values, dtype=np.float64)
        if self.degenerate:
            return np.where(x < self.center, -1, np.where(x > self.center, 1, 0))
        t = _symlog((x - self.center) * (1.0 / self.scale))
        raw = np.floor((t - self.t_low) * (self.n_bins / (self.t_high - self.t_low)))
        idx = np.clip(np.nan_to_num(raw), 0, self.n_bins - 1).astype(np.int64)
        idx = np.where(x < self.low, -1, idx)
        return np.where(x > self.high, self.n_bins, idx)

    def to_dict(self) -> dict[str, Any]:
        return {
            "center": self.center,
            "scale": self.scale,
            "t_low": self.t_low,
            "t_high": self.t_high,
            "n_bins": self.n_bins,
            "low": self.low,
            "high": self.high,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> BinSpec:
        return cls(
            center=float(data["center"]),
            scale=float(data["scale"]),
            t_low=float(data["t_low"]),
            t_high=float(data["t_high"]),
            n_bins=int(data["n_bins"]),
            low=float(data["low"]),
            high=float(data["high"]),
        )


@dataclass
class Histogram:
    """Counts of finite values in the fine bins of ``spec``.

    ``counts`` has ``n_bins + 2`` entries: ``counts[0]`` is below the range, ``counts[1:-1]``
    the bins, ``counts[-1]`` above the range.
    """

    spec: BinSpec
    counts: np.ndarray

    def __post_init__(self) -> None:
        self.counts = np.asarray(self.counts, dtype=np.int64)
        expected = self.spec.n_bins + 2
        if self.counts.shape != (expected,):
            raise ProfileError(
                f"histogram has {self.counts.size} counts, expected {expected} for {self.spec.n_bins} bins"
            )

    @classmethod
    def empty(cls, spec: BinSpec) -> Histogram:
        return cls(spec, np.zeros(spec.n_bins + 2, dtype=np.int64))

    @classmethod
    def from_values(cls, spec: BinSpec, values: np.ndarray) -> Histogram:
        x = np.asarray(values, dtype=np.float64)
        x = x[np.isfinite(x)]
        return cls(spec, np.bincount(spec.assign(x) + 1, minlength=spec.n_bins + 2))

    @property
    def total(self) -> int:
        return int(self.counts.sum())

    def merge(self, other: Histogram) -> Histogram:
        if self.spec != other.spec:
            raise ProfileError(
                "cannot merge histograms on different bin edges; profile both sides against the "
                "same reference profile"
            )
        return Histogram(self.spec, self.counts + other.counts)

    def boundaries(self, minimum: float | None, maximum: float | None) -> np.ndarray:
        """Edges of all ``n_bins + 2`` bins, the outer bins closed by the data's min and max."""
        edges = self.spec.edges()
        low = edges[0] if minimum is None else min(float(minimum), edges[0])
        high = edges[-1] if maximum is None else max(float(maximum), edges[-1])
        return np.concatenate([[low], edges, [high]])

    def to_dict(self) -> dict[str, Any]:
        return {"spec": self.spec.to_dict(), "counts": _sparse_counts(self.counts)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Histogram:
        spec = BinSpec.from_dict(data["spec"])
        return cls(spec, _dense_counts(data["counts"], spec.n_bins + 2))


def _sparse_counts(counts: np.ndarray) -> dict[str, list[int]]:
    nonzero = np.flatnonzero(counts)
    return {"index": nonzero.tolist(), "count": counts[nonzero].tolist()}


def _dense_counts(data: Mapping[str, Any], size: int) -> np.ndarray:
    index = np.asarray(data["index"], dtype=np.int64)
    counts = np.zeros(size, dtype=np.int64)
    if index.size and (index.min() < 0 or index.max() >= size):
        raise ProfileError(f"histogram index out of range 0..{size - 1}")
    counts[index] = np.asarray(data["count"], dtype=np.int64)
    return counts


# --------------------------------------------------------------------------------------------
# Summaries
# --------------------------------------------------------------------------------------------


@dataclass
class NumericSummary:
    """Moments and histogram of the finite values of a numeric column."""

    count: int
    minimum: float | None
    maximum: float | None
    mean: float | None
    m2: float
    """Sum of squared deviations from the mean (variance = m2 / (count - 1))."""
    histogram: Histogram | None = None

    @property
    def variance(self) -> float | None:
        return self.m2 / (self.count - 1) if self.count > 1 else None

    @property
    def std(self) -> float | None:
        variance = self.variance
        return math.sqrt(variance) if variance is not None else None

    def merge(self, other: NumericSummary) -> NumericSummary:
        if other.count == 0:
            return replace(self)
        if self.count == 0:
            return replace(other)
        assert self.mean is not None and other.mean is not None
        n = self.count + other.count
        delta = other.mean - self.mean
        mean = self.mean + delta * other.count / n
        m2 = self.m2 + other.m2 + delta * delta * self.count * other.count / n
        histogram: Histogram | None
        if self.histogram is not None and other.histogram is not None:
            histogram = self.histogram.merge(other.histogram)
        else:
            histogram = self.histogram or other.histogram
        return NumericSummary(
            count=n,
            minimum=min(_v(self.minimum), _v(other.minimum)),
            maximum=max(_v(self.maximum), _v(other.maximum)),
            mean=mean,
            m2=m2,
            histogram=histogram,
        )

    def quantiles(self, levels: Iterable[float]) -> list[float | None]:
        """Quantiles read off the histogram, linear within a bin.

        The rank error is at most the share of values in the widest-populated bin; min and max
        are exact.
        """
        levels = list(levels)
        if self.count == 0 or self.histogram is None:
            return [None] * len(levels)
        bounds = self.histogram.boundaries(self.minimum, self.maximum)
        counts = self.histogram.counts.astype(np.float64)
        cumulative = np.concatenate([[0.0], np.cumsum(counts)])
        total = cumulative[-1]
        out: list[float | None] = []
        for level in levels:
            if not 0.0 <= level <= 1.0:
                raise ProfileError(f"quantile level must be within [0, 1], got {level}")
            if level == 0.0:
                out.append(self.minimum)
                continue
            if level == 1.0:
                out.append(self.maximum)
                continue
            rank = level * total
            i = int(np.searchsorted(cumulative, rank, side="left"))
            i = min(max(i, 1), counts.size)
            lo_edge, hi_edge = bounds[i - 1], bounds[i]
            share = (rank - cumulative[i - 1]) / counts[i - 1] if counts[i - 1] else 0.0
            value = lo_edge + share * (hi_edge - lo_edge)
            value = min(max(value, _v(self.minimum)), _v(self.maximum))
            out.append(float(value))
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "count": self.count,
            "min": _finite_or_none(self.minimum),
            "max": _finite_or_none(self.maximum),
            "mean": _finite_or_none(self.mean),
            "m2": self.m2,
            "histogram": self.histogram.to_dict() if self.histogram is not None else None,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> NumericSummary:
        histogram = data.get("histogram")
        return cls(
            count=int(data["count"]),
            minimum=_finite_or_none(data.get("min")),
            maximum=_finite_or_none(data.get("max")),
            mean=_finite_or_none(data.get("mean")),
            m2=float(data.get("m2", 0.0)),
            histogram=Histogram.from_dict(histogram) if histogram else None,
        )


def _v(value: float | None) -> float:
    """Min/max helper: ``None`` (no values) never wins a comparison."""
    return float("nan") if value is None else value


@dataclass
class CategoricalSummary:
    """Frequencies of the most common categories; the rest is counted in ``other_count``."""

    frequencies: dict[str, int]
    other_count: int = 0
    cap: int = 1000

    @property
    def count(self) -> int:
        return sum(self.frequencies.values()) + self.other_count

    def capped(self) -> CategoricalSummary:
        """Keep the ``cap`` most frequent categories (ties broken by name), the rest to other."""
        if len(self.frequencies) <= self.cap:
            return self
        ranked = sorted(self.frequencies.items(), key=lambda item: (-item[1], item[0]))
        kept = dict(ranked[: self.cap])
        dropped = sum(count for _, count in ranked[self.cap :])
        return CategoricalSummary(kept, self.other_count + dropped, self.cap)

    def merge(self, other: CategoricalSummary) -> CategoricalSummary:
        merged = dict(self.frequencies)
        for key, count in other.frequencies.items():
            merged[key] = merged.get(key, 0) + count
        return CategoricalSummary(
            merged, self.other_count + other.other_count, max(self.cap, other.cap)
        ).capped()

    def to_dict(self) -> dict[str, Any]:
        ranked = sorted(self.frequencies.items(), key=lambda item: (-item[1], item[0]))
        return {"frequencies": dict(ranked), "other": self.other_count, "cap": self.cap}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CategoricalSummary:
        frequencies = {str(k): int(v) for k, v in dict(data["frequencies"]).items()}
        return cls(frequencies, int(data.get("other", 0)), int(data.get("cap", 1000)))


@dataclass
class DistinctSketch:
    """A theta sketch of distinct values: every hash below ``theta`` (a share of the hash space).

    While a column has at most ``k`` distinct values ``theta`` is 1 and the count is exact;
    beyond that the sketch keeps the hashes below ``theta``, a power of two chosen so that
    between ``k`` and ``2k`` remain, and estimates ``kept / theta`` (relative standard error
    at most about ``1 / sqrt(k)``). Two sketches merge when they used the same
    hash function.
    """

    hashes: np.ndarray
    theta: float = 1.0
    k: int = 2048
    hash_space: int = 2**64
    hash_function: str = "duckdb"

    def __post_init__(self) -> None:
        self.hashes = np.unique(np.asarray(self.hashes, dtype=np.uint64))

    def trimmed(self) -> DistinctSketch:
        """Halve ``theta`` until at most ``2k`` hashes remain below it.

        ``theta`` stays a power of two, so the sketch of a union is exactly the merge of the
        sketches of its parts, and a sketch collected at a threshold keeps it, so new data
        profiled at the same threshold runs the same query.
        """
        if self.hashes.size <= 2 * self.k:
            return self
        theta = self.theta
        hashes = self.hashes
        while hashes.size > 2 * self.k:
            theta /= 2.0
            hashes = hashes[hashes < np.uint64(min(theta * self.hash_space, 2**64 - 1))]
        return DistinctSketch(hashes, theta, self.k, self.hash_space, self.hash_function)

    def estimate(self) -> float:
        return float(self.hashes.size) / self.theta if self.theta < 1.0 else float(self.hashes.size)

    @property
    def exact(self) -> bool:
        return self.theta >= 1.0

    def merge(self, other: DistinctSketch) -> DistinctSketch:
        if (self.hash_space, self.hash_function) != (other.hash_space, other.hash_function):
            raise ProfileError(
                f"cannot merge distinct sketches made with different hash functions "
                f"({self.hash_function} vs {other.hash_function}); profile both with one engine"
            )
        theta = min(self.theta, other.theta)
        union = np.union1d(self.hashes, other.hashes)
        if theta < 1.0:
            union = union[union < np.uint64(theta * self.hash_space)]
        return DistinctSketch(
            union, theta, min(self.k, other.k), self.hash_space, self.hash_function
        ).trimmed()

    def to_dict(self) -> dict[str, Any]:
        return {
            "hashes": [int(h) for h in self.hashes],
            "theta": self.theta,
            "k": self.k,
            "hash_space": self.hash_space,
            "hash_function": self.hash_function,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DistinctSketch:
        return cls(
            np.asarray([int(h) for h in data["hashes"]], dtype=np.uint64),
            float(data["theta"]),
            int(data["k"]),
            int(data["hash_space"]),
            str(data["hash_function"]),
        )


# --------------------------------------------------------------------------------------------
# Column and table profiles
# --------------------------------------------------------------------------------------------


@dataclass
class ColumnProfile:
    """Everything the analysis keeps of one column of one side."""

    name: str
    kind: ColumnKind
    dtype: str
    """The engine's type of the column, e.g. ``float64`` or ``string``."""
    row_count: int
    null_count: int
    nan_count: int = 0
    inf_count: int = 0
    numeric: NumericSummary | None = None
    categorical: CategoricalSummary | None = None
    distinct: DistinctSketch | None = None
    error: str | None = None
    """Why this column could not be profiled (the rest of the table still is)."""

    @property
    def missing_count(self) -> int:
        """Nulls plus NaN: values a model sees as missing."""
        return self.null_count + self.nan_count

    @property
    def missing_rate(self) -> float | None:
        return self.missing_count / self.row_count if self.row_count else None

    @property
    def distinct_count(self) -> float | None:
        return self.distinct.estimate() if self.distinct is not None else None

    def merge(self, other: ColumnProfile) -> ColumnProfile:
        if (self.name, self.kind) != (other.name, other.kind):
            raise ProfileError(
                f"cannot merge column {other.name!r} ({other.kind}) into {self.name!r} ({self.kind})"
            )
        return ColumnProfile(
            name=self.name,
            kind=self.kind,
            dtype=self.dtype if self.dtype == other.dtype else f"{self.dtype}|{other.dtype}",
            row_count=self.row_count + other.row_count,
            null_count=self.null_count + other.null_count,
            nan_count=self.nan_count + other.nan_count,
            inf_count=self.inf_count + other.inf_count,
            numeric=_merge_optional(self.numeric, other.numeric),
            categorical=_merge_optional(self.categorical, other.categorical),
            distinct=_merge_optional(self.distinct, other.distinct),
            error=self.error or other.error,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "dtype": self.dtype,
            "row_count": self.row_count,
            "null_count": self.null_count,
            "nan_count": self.nan_count,
            "inf_count": self.inf_count,
            "numeric": self.numeric.to_dict() if self.numeric else None,
            "categorical": self.categorical.to_dict() if self.categorical else None,
            "distinct": self.distinct.to_dict() if self.distinct else None,
            "error": self.error,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ColumnProfile:
        kind = data["kind"]
        if kind not in ("numeric", "categorical", "datetime"):
            raise ProfileError(f"unknown column kind {kind!r} in profile")
        numeric = data.get("numeric")
        categorical = data.get("categorical")
        distinct = data.get("distinct")
        return cls(
            name=str(data["name"]),
            kind=kind,
            dtype=str(data["dtype"]),
            row_count=int(data["row_count"]),
            null_count=int(data["null_count"]),
            nan_count=int(data.get("nan_count", 0)),
            inf_count=int(data.get("inf_count", 0)),
            numeric=NumericSummary.from_dict(numeric) if numeric else None,
            categorical=CategoricalSummary.from_dict(categorical) if categorical else None,
            distinct=DistinctSketch.from_dict(distinct) if distinct else None,
            error=data.get("error"),
        )


def _reject_constant(name: str) -> Any:
    """Profiles are written as strict JSON; NaN or Infinity means the file was edited or broken."""
    raise ValueError(f"{name} is not allowed in a profile")


def _merge_optional(a: Any, b: Any) -> Any:
    if a is None:
        return b
    if b is None:
        return a
    return a.merge(b)


@dataclass
class TableProfile:
    """Profiles of the columns of one table (one side of a comparison).

    >>> profile = TableProfile(row_count=0, columns={})
    >>> TableProfile.from_dict(profile.to_dict()) == profile
    True
    """

    row_count: int
    columns: dict[str, ColumnProfile] = field(default_factory=dict)
    source: str | None = None

    def __getitem__(self, name: str) -> ColumnProfile:
        return self.columns[name]

    def merge(self, other: TableProfile) -> TableProfile:
        """The profile of the union of the two tables' rows."""
        names = list(self.columns) + [n for n in other.columns if n not in self.columns]
        columns: dict[str, ColumnProfile] = {}
        for name in names:
            a, b = self.columns.get(name), other.columns.get(name)
            columns[name] = _merge_optional(a, b)
        return TableProfile(self.row_count + other.row_count, columns, self.source)

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": _FORMAT_NAME,
            "version": PROFILE_FORMAT_VERSION,
            "row_count": self.row_count,
            "source": self.source,
            "columns": [column.to_dict() for column in self.columns.values()],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TableProfile:
        if not isinstance(data, Mapping) or data.get("format") != _FORMAT_NAME:
            raise ProfileError("not a telltale profile (missing 'format': 'telltale-profile')")
        version = data.get("version")
        if version != PROFILE_FORMAT_VERSION:
            raise ProfileError(
                f"profile format version {version!r} is not supported (this telltale reads "
                f"version {PROFILE_FORMAT_VERSION}); recreate it with `telltale profile`"
            )
        try:
            columns = [ColumnProfile.from_dict(c) for c in data["columns"]]
            return cls(int(data["row_count"]), {c.name: c for c in columns}, data.get("source"))
        except (KeyError, TypeError, ValueError) as exc:
            if isinstance(exc, ProfileError):
                raise
            raise ProfileError(f"corrupt profile: {exc!r}") from exc

    def to_bytes(self) -> bytes:
        """The profile as gzip-compressed JSON: the bytes of a ``.ttp`` file."""
        payload = json.dumps(self.to_dict(), separators=(",", ":"), allow_nan=False)
        return gzip.compress(payload.encode("utf-8"), mtime=0)

    @classmethod
    def from_bytes(cls, data: bytes, *, source: str = "profile") -> TableProfile:
        """Read the bytes of a ``.ttp`` file; :class:`ProfileError` names ``source`` if corrupt."""
        try:
            parsed = json.loads(
                gzip.decompress(data).decode("utf-8"), parse_constant=_reject_constant
            )
        except (OSError, EOFError, UnicodeDecodeError, json.JSONDecodeError, ValueError) as exc:
            raise ProfileError(
                f"cannot read profile {source}: {exc}; create one with "
                "`telltale profile DATA --out reference.ttp`"
            ) from exc
        if not isinstance(parsed, dict):
            raise ProfileError(f"cannot read profile {source}: it is not a JSON object")
        return cls.from_dict(parsed)

    def save(self, path: str | Path) -> Path:
        """Write the profile as gzip-compressed JSON (``.ttp`` by convention)."""
        path = Path(path)
        path.write_bytes(self.to_bytes())
        return path

    @classmethod
    def load(cls, path: str | Path) -> TableProfile:
        path = Path(path)
        if not path.exists():
            raise ProfileError(f"profile file {str(path)!r} does not exist")
        return cls.from_bytes(path.read_bytes(), source=repr(str(path)))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, TableProfile):
            return NotImplemented
        return json.dumps(self.to_dict(), sort_keys=True) == json.dumps(
            other.to_dict(), sort_keys=True
        )
