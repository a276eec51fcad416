"""Engine-computed profiles (Ibis on DuckDB) against numpy computed on the same rows."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from telltale.analysis.profile import Histogram
from telltale.analysis.profiling import profile_table
from telltale.store.engine import connect
from telltale.store.files import open_table


@pytest.fixture(scope="module")
def con():
    return connect()


def _table(rows: int, seed: int, shift: float = 0.0) -> pa.Table:
    rng = np.random.default_rng(seed)
    normal = rng.normal(shift, 1.0, rows)
    normal[rng.random(rows) < 0.03] = np.nan
    normal[:3] = [np.inf, -np.inf, np.nan]
    lognormal = rng.lognormal(0.0, 1.0 + shift, rows)
    integers = rng.integers(0, 5, rows)
    category = np.array(["a", "b", "c", "ü x"])[rng.choice(4, rows, p=[0.4, 0.3, 0.2, 0.1])]
    mask = rng.random(rows) < 0.05
    return pa.table(
        {
            "normal": normal,
            "lognormal": pa.array(lognormal, mask=rng.random(rows) < 0.01),
            "small int": integers,
            "category": pa.array(category.tolist(), mask=mask),
            "flag": rng.random(rows) < 0.3,
        }
    )


def test_profile_matches_numpy(con, tmp_path) -> None:
    data = _table(30_000, 1)
    path = tmp_path / "ref.parquet"
    pq.write_table(data, path)  # Parquet statistics omit NaN: the case DuckDB folds wrongly
    profile = profile_table(open_table(con, path), seed=0)
    assert profile.row_count == 30_000

    normal = data.column("normal").to_numpy(zero_copy_only=False)
    column = profile["normal"]
    finite = normal[np.isfinite(normal)]
    assert column.kind == "numeric"
    assert column.nan_count == int(np.isnan(normal).sum())
    assert column.inf_count == 2
    assert column.null_count == 0
    numeric = column.numeric
    assert numeric is not None and numeric.histogram is not None
    assert numeric.count == finite.size
    assert numeric.minimum == finite.min() and numeric.maximum == finite.max()
    assert numeric.mean == pytest.approx(finite.mean(), rel=1e-9)
    assert numeric.variance == pytest.approx(finite.var(ddof=1), rel=1e-9)
    # Bin counts equal numpy's assignment on the same edges (the engine's ln may differ from
    # numpy's by an ulp at a boundary: allow 2 values in 30,000 to move to a neighbour bin).
    expected = Histogram.from_values(numeric.histogram.spec, finite).counts
    assert numeric.histogram.counts.sum() == expected.sum()
    assert np.abs(numeric.histogram.counts - expected).sum() <= 4

    lognormal = data.column("lognormal")
    assert profile["lognormal"].null_count == lognormal.null_count

    category = data.column("category").to_pylist()
    counts = Counter(v for v in category if v is not None)
    cat = profile["category"]
    assert cat.kind == "categorical"
    assert cat.null_count == category.count(None)
    assert cat.categorical is not None and cat.categorical.frequencies == dict(counts)
    assert cat.distinct_count == 4

    small = profile["small int"]
    assert small.kind == "numeric" and small.categorical is not None  # low cardinality: both
    assert small.categorical.frequencies == {
        str(k): v for k, v in Counter(data.column("small int").to_pylist()).items()
    }
    assert small.distinct_count == 5

    flag = profile["flag"]
    assert flag.kind == "categorical" and flag.categorical is not None
    assert sum(flag.categorical.frequencies.values()) == 30_000


def test_current_reuses_reference_edges_and_merges(con) -> None:
    reference = profile_table(open_table(con, _table(20_000, 1)))
    part_a = profile_table(open_table(con, _table(20_000, 2, shift=0.5)), reference=reference)
    part_b = profile_table(open_table(con, _table(10_000, 3, shift=0.5)), reference=reference)
    whole = profile_table(
        open_table(
            con, pa.concat_tables([_table(20_000, 2, shift=0.5), _table(10_000, 3, shift=0.5)])
        ),
        reference=reference,
    )
    ref_spec = reference["normal"].numeric.histogram.spec
    assert part_a["normal"].numeric.histogram.spec == ref_spec
    merged = part_a.merge(part_b)
    for name in whole.columns:
        m, w = merged[name], whole[name]
        assert (m.row_count, m.null_count, m.nan_count, m.inf_count) == (
            w.row_count,
            w.null_count,
            w.nan_count,
            w.inf_count,
        )
        if w.numeric is not None:
            assert m.numeric.count == w.numeric.count
            assert m.numeric.mean == pytest.approx(w.numeric.mean, rel=1e-9)
            assert m.numeric.m2 == pytest.approx(w.numeric.m2, rel=1e-9)
            np.testing.assert_array_equal(m.numeric.histogram.counts, w.numeric.histogram.counts)
        if w.categorical is not None:
            assert m.categorical.frequencies == w.categorical.frequencies
        assert m.distinct_count == pytest.approx(w.distinct_count, rel=0.05)


def test_distinct_sketch_of_high_cardinality_column(con) -> None:
    rng = np.random.default_rng(5)
    values = rng.normal(size=200_000)
    profile = profile_table(open_table(con, pa.table({"x": values})))
    sketch = profile["x"].distinct
    assert sketch is not None and not sketch.exact
    assert profile["x"].distinct_count == pytest.approx(200_000, rel=3 / np.sqrt(sketch.k))


def test_empty_and_all_missing_columns(con) -> None:
    table = pa.table(
        {
            "x": pa.array([None, None], pa.float64()),
            "y": pa.array([np.nan, np.nan]),
            "s": pa.array([None, None], pa.string()),
        }
    )
    profile = profile_table(open_table(con, table))
    assert profile["x"].null_count == 2 and profile["x"].numeric.count == 0
    assert profile["y"].nan_count == 2 and profile["y"].numeric.histogram is None
    assert profile["s"].null_count == 2 and profile["s"].categorical.frequencies == {}
    empty = profile_table(open_table(con, table.slice(0, 0)))
    assert empty.row_count == 0


def test_datetime_column_profiled_as_epoch_seconds(con) -> None:
    import datetime as dt

    start = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    stamps = [start + dt.timedelta(hours=h) for h in range(100)]
    profile = profile_table(open_table(con, pa.table({"ts": stamps})))
    column = profile["ts"]
    assert column.kind == "datetime"
    assert column.numeric.minimum == start.timestamp()
    assert column.numeric.maximum == stamps[-1].timestamp()


def test_wide_table_is_profiled_in_chunks(con) -> None:
    """More columns than one query takes: every column still matches numpy."""
    from telltale.analysis.profiling import COLUMNS_PER_QUERY

    rng = np.random.default_rng(9)
    width = 2 * COLUMNS_PER_QUERY + 5
    columns = {f"x{i}": rng.normal(i, 1.0, 500) for i in range(width)}
    columns |= {f"s{i}": rng.choice(["a", "b"], 500) for i in range(3)}
    data = pa.table(columns)
    reference = profile_table(open_table(con, data))
    current = profile_table(open_table(con, data), reference=reference)
    assert len(current.columns) == width + 3
    for i in range(width):
        values = columns[f"x{i}"]
        numeric = current[f"x{i}"].numeric
        assert numeric.count == 500 and numeric.mean == pytest.approx(values.mean(), rel=1e-9)
        assert numeric.histogram.counts.sum() == 500
    assert current["s2"].categorical.count == 500


def test_shape_templates_give_what_ibis_compiles_per_column(con, monkeypatch) -> None:
    """Filled-in SQL templates and Ibis' own compile of every column agree on every kind."""
    import datetime as dt

    import telltale.analysis.profiling as profiling

    rng = np.random.default_rng(11)
    n = 3_000
    floats = rng.lognormal(size=n)
    floats[:5] = [np.nan, np.inf, -np.inf, np.nan, 1.0]
    start = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    data = pa.table(
        {
            'float "quoted" 7770001': floats,
            "7770002.5": rng.integers(0, 4, n),
            "wide ints": rng.integers(0, 100_000, n),
            "constant": np.full(n, 2.5),
            "when": [start + dt.timedelta(minutes=int(m)) for m in rng.integers(0, 10_000, n)],
            "day": [
                dt.date(2026, 1, 1) + dt.timedelta(days=int(d)) for d in rng.integers(0, 300, n)
            ],
            "flag": rng.random(n) < 0.5,
            "text": pa.array(rng.choice(["a", "b", None], n).tolist()),
        }
    )
    reference = profile_table(open_table(con, data))
    current_data = open_table(con, data.slice(0, 2_000))
    made = []
    real = profiling._grouped_sql
    monkeypatch.setattr(profiling, "_grouped_sql", lambda *a: made.append(real(*a)) or made[-1])
    templated = profile_table(current_data, reference=reference)
    assert made and all(isinstance(sql, str) for sql in made)  # the template path ran
    monkeypatch.setattr(profiling, "_grouped_sql", lambda plans, schema: None)
    compiled = profile_table(current_data, reference=reference)
    # Bins, counts and sketches are equal; moments to rounding (their summation order differs).
    for name, column in templated.columns.items():
        other = compiled[name]
        if column.numeric is not None:
            assert column.numeric.mean == pytest.approx(other.numeric.mean, rel=1e-12)
            assert column.numeric.m2 == pytest.approx(other.numeric.m2, rel=1e-12)
            column.numeric.mean, column.numeric.m2 = other.numeric.mean, other.numeric.m2
    assert templated == compiled
    assert templated["constant"].numeric.histogram.spec.degenerate
    assert templated['float "quoted" 7770001'].nan_count == 2
