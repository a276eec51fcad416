"""Data-quality checks on engine-made profiles, against counts computed directly."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from telltale.analysis.profiling import profile_table
from telltale.analysis.quality import check_quality, count_duplicate_rows
from telltale.store.engine import connect
from telltale.store.files import open_table


@pytest.fixture(scope="module")
def con():
    return connect()


def _profiles(con, reference: pa.Table, current: pa.Table):
    ref = profile_table(open_table(con, reference))
    cur = profile_table(open_table(con, current), reference=ref)
    return ref, cur


def test_each_check_finds_what_was_injected(con) -> None:
    rng = np.random.default_rng(0)
    n = 5_000
    ref_x = rng.normal(size=n)
    cur_x = rng.normal(size=n)
    cur_x[:37] = ref_x.max() + 1.0  # above the reference range
    cur_x[37:50] = ref_x.min() - 1.0  # below it
    ref_m = rng.normal(size=n)
    ref_m[rng.random(n) < 0.01] = np.nan
    cur_m = rng.normal(size=n)
    cur_m[rng.random(n) < 0.2] = np.nan
    ref_c = rng.choice(["a", "b"], n)
    cur_c = rng.choice(["a", "b"], n).astype(object)
    cur_c[:25] = "new one"
    cur_c[25:30] = "<b>other</b>"
    reference = pa.table(
        {"x": ref_x, "m": ref_m, "c": ref_c.tolist(), "k": rng.normal(size=n), "gone": np.ones(n)}
    )
    current = pa.table(
        {
            "x": cur_x,
            "m": cur_m,
            "c": pa.array(cur_c.tolist(), pa.string()),
            "k": np.full(n, 2.0),
            "extra": np.ones(n),
        }
    )
    ref, cur = _profiles(con, reference, current)
    quality = check_quality(ref, cur)

    x = quality.columns["x"].out_of_range
    above, below = int((cur_x > ref_x.max()).sum()), int((cur_x < ref_x.min()).sum())
    assert above >= 37 and below >= 13
    assert x is not None and (x["above"], x["below"], x["count"]) == (above, below, above + below)
    assert x["share"] == pytest.approx((above + below) / n)

    m = quality.columns["m"].missing_rate
    assert m["reference"] == pytest.approx(np.isnan(ref_m).mean())
    assert m["current"] == pytest.approx(np.isnan(cur_m).mean())
    assert any("missing values rose" in issue for issue in quality.columns["m"].issues)
    assert not quality.columns["x"].issues or all(
        "missing" not in i for i in quality.columns["x"].issues
    )

    c = quality.columns["c"].new_categories
    assert c is not None and c["count"] == 30 and c["distinct"] == 2
    assert c["values"] == ["new one", "<b>other</b>"]

    assert quality.columns["k"].constant == {"reference": False, "current": True}
    assert quality.schema["missing_in_current"] == ["gone"]
    assert quality.schema["new_in_current"] == ["extra"]
    checks = {(i.column, i.check) for i in quality.issues}
    assert {
        ("x", "range"),
        ("m", "missing"),
        ("c", "new_category"),
        ("k", "constant"),
        ("gone", "schema"),
    } <= checks
    severity = {(i.column, i.check): i.severity for i in quality.issues}
    assert severity[("x", "range")] == "warning"  # >= 1% of rows
    assert severity[("c", "new_category")] == "info"  # 30 rows of 5,000: worth knowing only
    assert quality.to_dict()["issues"][0].keys() == {"column", "severity", "check", "message"}


def test_type_change_is_reported(con) -> None:
    ref, cur = _profiles(con, pa.table({"v": [1, 2, 3]}), pa.table({"v": ["1", "2", "x"]}))
    quality = check_quality(ref, cur)
    assert quality.columns["v"].dtype["changed"]
    assert quality.schema["type_changed"] == [
        {"column": "v", "reference": "int64", "current": "string"}
    ]
    assert any(i.check == "dtype" and i.severity == "error" for i in quality.issues)


def test_all_missing_column_is_an_error(con) -> None:
    ref, cur = _profiles(
        con, pa.table({"v": [1.0, 2.0]}), pa.table({"v": pa.array([None, None], pa.float64())})
    )
    issues = check_quality(ref, cur).issues
    assert [(i.check, i.severity) for i in issues] == [("missing", "error")]


def test_duplicate_rows_counted_like_pandas(con) -> None:
    rng = np.random.default_rng(1)
    frame = pa.table(
        {
            "a": rng.integers(0, 3, 2_000),
            "b": rng.choice(["x", "y"], 2_000),
            "c": pa.array(rng.integers(0, 2, 2_000), mask=rng.random(2_000) < 0.1),
        }
    )
    expected = int(frame.to_pandas().duplicated().sum())
    assert count_duplicate_rows(open_table(con, frame)) == expected
