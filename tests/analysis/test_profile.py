"""The profile data model: merge, serialisation, quantiles, bins."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from telltale.analysis.profile import (
    BinSpec,
    CategoricalSummary,
    DistinctSketch,
    Histogram,
    NumericSummary,
    TableProfile,
)
from telltale.errors import ProfileError


def _numeric(values: np.ndarray, spec: BinSpec) -> NumericSummary:
    finite = values[np.isfinite(values)]
    n = finite.size
    return NumericSummary(
        count=n,
        minimum=float(finite.min()) if n else None,
        maximum=float(finite.max()) if n else None,
        mean=float(finite.mean()) if n else None,
        m2=float(((finite - finite.mean()) ** 2).sum()) if n else 0.0,
        histogram=Histogram.from_values(spec, finite),
    )


finite_floats = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)


@settings(max_examples=60, deadline=None)
@given(st.lists(finite_floats, min_size=1, max_size=200), st.lists(finite_floats, max_size=200))
def test_numeric_merge_equals_summary_of_union(a: list[float], b: list[float]) -> None:
    """Merge of partial summaries == summary of the whole (moments to 1e-9 relative)."""
    left, right = np.array(a), np.array(b)
    spec = BinSpec.from_sample(
        left, minimum=float(left.min()), maximum=float(left.max()), n_bins=64
    )
    merged = _numeric(left, spec).merge(_numeric(right, spec))
    whole = _numeric(np.concatenate([left, right]), spec)
    assert merged.count == whole.count
    assert merged.minimum == whole.minimum and merged.maximum == whole.maximum
    assert merged.mean == pytest.approx(whole.mean, rel=1e-9, abs=1e-9)
    assert merged.m2 == pytest.approx(whole.m2, rel=1e-9, abs=1e-6)
    assert merged.histogram is not None and whole.histogram is not None
    np.testing.assert_array_equal(merged.histogram.counts, whole.histogram.counts)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(max_size=3), max_size=100), st.lists(st.text(max_size=3), max_size=100))
def test_categorical_merge_equals_whole_below_cap(a: list[str], b: list[str]) -> None:
    def summary(values: list[str]) -> CategoricalSummary:
        out: dict[str, int] = {}
        for v in values:
            out[v] = out.get(v, 0) + 1
        return CategoricalSummary(out, 0, cap=10_000)

    assert summary(a).merge(summary(b)).to_dict() == summary(a + b).to_dict()


def test_categorical_cap_moves_rare_categories_to_other() -> None:
    summary = CategoricalSummary({"a": 5, "b": 3, "c": 1, "d": 1}, 0, cap=2).capped()
    assert summary.frequencies == {"a": 5, "b": 3}
    assert summary.other_count == 2
    assert summary.count == 10


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.integers(min_value=0, max_value=2**64 - 1), max_size=300),
    st.lists(st.integers(min_value=0, max_value=2**64 - 1), max_size=300),
)
def test_distinct_sketch_merge_is_sketch_of_union(a: list[int], b: list[int]) -> None:
    k = 64

    def sketch(values: list[int]) -> DistinctSketch:
        return DistinctSketch(np.array(values, dtype=np.uint64), 1.0, k).trimmed()

    merged = sketch(a).merge(sketch(b))
    whole = sketch(a + b)
    assert merged.theta == whole.theta
    np.testing.assert_array_equal(merged.hashes, whole.hashes)


def test_distinct_sketch_estimate_accuracy() -> None:
    """Beyond k the estimate is within 3 standard errors (1/sqrt(k)) of the truth."""
    rng = np.random.default_rng(3)
    hashes = rng.integers(0, 2**63, size=200_000, dtype=np.uint64) * np.uint64(2)
    truth = np.unique(hashes).size
    sketch = DistinctSketch(hashes, 1.0, k=4096).trimmed()
    assert not sketch.exact
    assert abs(sketch.estimate() - truth) / truth < 3 / np.sqrt(4096)


def test_quantiles_read_off_histogram_match_numpy() -> None:
    """Rank error of histogram quantiles is at most the largest bin share."""
    rng = np.random.default_rng(0)
    for values in (rng.normal(size=50_000), rng.lognormal(size=50_000), rng.uniform(size=50_000)):
        spec = BinSpec.from_sample(
            values[:20_000], minimum=values.min(), maximum=values.max(), n_bins=1024
        )
        summary = _numeric(values, spec)
        assert summary.histogram is not None
        max_share = summary.histogram.counts.max() / values.size
        levels = [0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99]
        ours = np.array(summary.quantiles(levels), dtype=float)
        ranks = np.searchsorted(np.sort(values), ours) / values.size
        np.testing.assert_allclose(ranks, levels, atol=max_share + 1e-4)
        assert summary.quantiles([0.0, 1.0]) == [values.min(), values.max()]


def test_bin_spec_puts_values_in_their_edges() -> None:
    rng = np.random.default_rng(1)
    values = rng.lognormal(size=10_000)
    spec = BinSpec.from_sample(values, minimum=values.min(), maximum=values.max(), n_bins=256)
    edges = spec.edges()
    index = spec.assign(values)
    assert index.min() >= 0 and index.max() <= 255
    inside = (edges[index] <= values * (1 + 1e-12)) & (values <= edges[index + 1] * (1 + 1e-12))
    assert inside.all()
    assert spec.assign(np.array([values.min() - 1, values.max() + 1])).tolist() == [-1, 256]


def test_constant_column_gets_degenerate_spec() -> None:
    spec = BinSpec.from_sample(np.full(10, 3.0), minimum=3.0, maximum=3.0)
    assert spec.degenerate
    assert spec.assign(np.array([2.0, 3.0, 4.0])).tolist() == [-1, 0, 1]


def test_histogram_merge_on_other_edges_is_refused() -> None:
    a = Histogram.empty(BinSpec(0.0, 1.0, -1.0, 1.0, 8))
    b = Histogram.empty(BinSpec(0.0, 1.0, -1.0, 2.0, 8))
    with pytest.raises(ProfileError, match="same reference profile"):
        a.merge(b)


def test_profile_file_round_trip_and_corruption(tmp_path) -> None:
    spec = BinSpec(0.0, 1.0, -1.0, 1.0, 4)
    from telltale.analysis.profile import ColumnProfile

    profile = TableProfile(
        10,
        {
            "x ü": ColumnProfile(
                "x ü",
                "numeric",
                "float64",
                10,
                1,
                1,
                0,
                numeric=_numeric(np.linspace(-1, 1, 8), spec),
                distinct=DistinctSketch(np.arange(8, dtype=np.uint64)),
            ),
            "c": ColumnProfile(
                "c", "categorical", "string", 10, 0, categorical=CategoricalSummary({"a": 10})
            ),
        },
        source="train.parquet",
    )
    path = profile.save(tmp_path / "p.ttp")
    assert TableProfile.load(path) == profile
    (tmp_path / "bad.ttp").write_bytes(b"not gzip at all")
    with pytest.raises(ProfileError, match="cannot read profile"):
        TableProfile.load(tmp_path / "bad.ttp")
    with pytest.raises(ProfileError, match="does not exist"):
        TableProfile.load(tmp_path / "missing.ttp")
    with pytest.raises(ProfileError, match="not a telltale profile"):
        TableProfile.from_dict({"columns": []})
    data = profile.to_dict()
    data["version"] = 99
    with pytest.raises(ProfileError, match="version 99"):
        TableProfile.from_dict(data)
    data = profile.to_dict()
    data["columns"][0]["numeric"]["histogram"]["counts"]["index"] = [999]
    data["columns"][0]["numeric"]["histogram"]["counts"]["count"] = [1]
    with pytest.raises(ProfileError, match="out of range"):
        TableProfile.from_dict(data)


def test_profile_file_with_bad_values(tmp_path) -> None:
    import gzip
    import json

    from telltale.analysis.profile import ColumnProfile

    column = ColumnProfile(
        "c", "categorical", "string", 3, 0, categorical=CategoricalSummary({"a": 3})
    )
    profile = TableProfile(3, {"c": column})
    good = json.dumps(profile.to_dict())
    cases = {
        "nan.ttp": good.replace('"row_count":3', '"row_count":NaN').replace(
            '"row_count": 3', '"row_count": NaN'
        ),
        "type.ttp": good.replace('"row_count": 3', '"row_count": "three"'),
        "kind.ttp": good.replace('"categorical", "dtype"', '"vector", "dtype"'),
        "shape.ttp": json.dumps({**profile.to_dict(), "columns": {"not": "a list"}}),
    }
    for name, text in cases.items():
        assert text != good, name
        with gzip.open(tmp_path / name, "wt", encoding="utf-8") as handle:
            handle.write(text)
        with pytest.raises(ProfileError):
            TableProfile.load(tmp_path / name)
