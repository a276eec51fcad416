"""`telltale.report` end to end: the JSON contract, the reference profile path, bad input."""

from __future__ import annotations

import html
import json

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import telltale
from telltale.errors import ConfigError, DataError, SchemaError

DRIFTED = {"shifted", "colour"}


def _side(rows: int, seed: int, drift: bool) -> pa.Table:
    rng = np.random.default_rng(seed)
    stable = rng.normal(size=rows)
    shifted = rng.normal(1.0 if drift else 0.0, 1.0, rows)
    skewed = rng.lognormal(size=rows)
    colour = rng.choice(
        ["red", "green", "blue"], rows, p=[0.7, 0.2, 0.1] if drift else [0.2, 0.4, 0.4]
    )
    size = rng.choice(["S", "M", "L"], rows)
    logit = 1.5 * stable - 0.5 * skewed + 0.5
    label = (rng.random(rows) < 1 / (1 + np.exp(-logit))).astype(np.int64)
    proba = 1 / (
        1
        + np.exp(-(1.5 * stable - 0.5 * skewed + 0.5 + (rng.normal(0, 1.5, rows) if drift else 0)))
    )
    return pa.table(
        {
            "stable": stable,
            "shifted": shifted,
            "skewed": skewed,
            "colour": colour,
            "size ü": size,
            "label": label,
            "pred": (proba >= 0.5).astype(np.int64),
            "proba": proba,
        }
    )


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    directory = tmp_path_factory.mktemp("data")
    reference, current = directory / "reference.parquet", directory / "current.parquet"
    pq.write_table(_side(5_000, 1, drift=False), reference)
    pq.write_table(_side(4_000, 2, drift=True), current)
    return reference, current


@pytest.fixture(scope="module")
def result(files):
    reference, current = files
    return telltale.report(
        reference, current, target="label", prediction="pred", score="proba", n_bootstrap=200
    )


def test_json_contract(result) -> None:
    data = json.loads(result.to_json())
    assert set(data) >= {
        "drift",
        "quality",
        "performance",
        "columns",
        "summary",
        "reference",
        "current",
    }
    columns = data["drift"]["columns"]
    assert set(columns) == {"stable", "shifted", "skewed", "colour", "size ü"}
    for entry in columns.values():
        assert set(entry) >= {"method", "statistic", "p_value", "threshold", "drift"}
        assert isinstance(entry["statistic"], float) and isinstance(entry["drift"], bool)
    assert {name for name, entry in columns.items() if entry["drift"]} == DRIFTED
    assert data["drift"]["share_drifted"] == pytest.approx(2 / 5)
    assert data["summary"]["n_drifted"] == 2
    assert data["drift"]["prediction"]["column"] == "pred"
    assert data["drift"]["target"]["column"] == "label"
    performance = data["performance"]
    assert performance["task"] == "classification"
    for side in ("reference", "current"):
        accuracy = performance[side]["metrics"]["accuracy"]
        low, high = accuracy["ci"]
        assert low <= accuracy["value"] <= high
    assert performance["difference"]["accuracy"]["difference"] < 0  # the current model is noisier
    assert data["reference"]["rows"] == 5_000 and data["current"]["rows"] == 4_000


def test_performance_agrees_with_sklearn(result, files) -> None:
    from sklearn.metrics import accuracy_score, roc_auc_score

    current = pq.read_table(files[1]).to_pandas()
    metrics = result.to_dict()["performance"]["current"]["metrics"]
    assert metrics["accuracy"]["value"] == pytest.approx(
        accuracy_score(current.label, current.pred), abs=1e-12
    )
    assert metrics["roc_auc"]["value"] == pytest.approx(
        roc_auc_score(current.label, current.proba), abs=1e-9
    )


def test_html_is_self_contained(result, tmp_path) -> None:
    path = result.save_html(tmp_path / "report.html")
    text = path.read_text(encoding="utf-8")
    assert "http://" not in text.replace("http://www.w3.org/2000/svg", "")
    assert "https://" not in text
    assert "size ü" in text
    frame = result._repr_html_()
    assert frame.startswith("<iframe srcdoc=") and html.escape(text, quote=True) in frame


def test_reference_profile_gives_the_same_drift(result, files, tmp_path) -> None:
    _reference, current = files
    result.reference_profile.save(tmp_path / "ref.ttp")
    again = telltale.report(
        reference_profile=tmp_path / "ref.ttp", current=current, target="label", prediction="pred"
    )
    assert again.to_dict()["drift"]["columns"] == result.to_dict()["drift"]["columns"]
    assert again.to_dict()["reference"]["profile_only"] is True
    assert again.to_dict()["performance"]["reference"] is None


def test_in_memory_tables_match_files(result, files) -> None:
    reference, current = (pq.read_table(p) for p in files)
    for ref, cur in (
        (reference, current),
        (reference.to_pandas(), current.to_pandas()),
        (pl.from_arrow(reference), pl.from_arrow(current)),
    ):
        again = telltale.report(
            ref, cur, target="label", prediction="pred", score="proba", n_bootstrap=200
        )
        assert again.to_dict()["drift"]["columns"] == result.to_dict()["drift"]["columns"]


def test_forced_method_and_thresholds(files) -> None:
    reference, current = files
    forced = telltale.report(reference, current, method="psi", thresholds={"stable": 1e-9})
    columns = forced.to_dict()["drift"]["columns"]
    assert {entry["method"] for entry in columns.values()} == {"psi"}
    assert columns["stable"]["threshold"] == 1e-9 and columns["stable"]["drift"]
    with pytest.raises(ConfigError, match="ks"):
        telltale.report(reference, current, method="no-such-method")


def test_bad_columns_are_reported_not_fatal() -> None:
    rng = np.random.default_rng(0)
    n = 2_000
    reference = pd.DataFrame(
        {
            "ok": rng.normal(size=n),
            "all nan": np.full(n, np.nan),
            "becomes text": rng.normal(size=n),
            "mixed": rng.normal(size=n),
            "<script>x</script>": rng.choice(["a", "b"], n),
        }
    )
    current = reference.copy()
    current["becomes text"] = ["t"] * n
    current["mixed"] = [1, "two"] * (n // 2)
    result = telltale.report(reference, current)
    data = result.to_dict()
    assert "ok" in data["drift"]["columns"]
    assert set(data["drift"]["errors"]) >= {"all nan", "becomes text"}
    assert any(t["column"] == "becomes text" for t in data["quality"]["schema"]["type_changed"])
    html = result.html()
    assert "<script>x</script>" not in html and "&lt;script&gt;x&lt;/script&gt;" in html


def test_clear_errors(files, tmp_path) -> None:
    reference, current = files
    with pytest.raises(SchemaError, match="did you mean 'label'"):
        telltale.report(reference, current, target="lable", prediction="pred")
    with pytest.raises(ConfigError, match="reference is required"):
        telltale.report(current=current)
    with pytest.raises(ConfigError, match="not both"):
        telltale.report(reference, current, reference_profile=tmp_path / "x.ttp")
    empty = tmp_path / "empty.parquet"
    pq.write_table(pq.read_table(current).slice(0, 0), empty)
    with pytest.raises(DataError, match="no rows"):
        telltale.report(reference, empty)
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n" + "".join(f"{i},{i}\n" for i in range(5_000)) + "1,2,3\n")
    good = tmp_path / "good.csv"
    good.write_text("a,b\n" + "".join(f"{i},{i}\n" for i in range(100)))
    with pytest.raises(DataError, match=r"bad.csv.*line 5002"):
        telltale.report(good, bad)


def test_regression_task(tmp_path) -> None:
    rng = np.random.default_rng(4)

    def side(shift: float) -> pa.Table:
        x = rng.normal(size=3_000)
        y = 2 * x + rng.normal(size=3_000)
        return pa.table({"x": x + shift, "y": y, "yhat": 2 * x + shift})

    result = telltale.report(side(0.0), side(0.5), target="y", prediction="yhat", n_bootstrap=100)
    performance = result.to_dict()["performance"]
    assert performance["task"] == "regression"
    assert (
        performance["current"]["metrics"]["mae"]["value"]
        > performance["reference"]["metrics"]["mae"]["value"]
    )


def test_profile_reference_without_the_target(files, tmp_path) -> None:
    """A reference profile made without the model columns still gives current performance."""
    reference, current = files
    from telltale.analysis.profiling import profile_table
    from telltale.store.engine import connect
    from telltale.store.files import open_table

    profile = profile_table(open_table(connect(), reference), columns=["stable", "shifted"])
    result = telltale.report(
        reference_profile=profile, current=current, target="label", prediction="pred"
    )
    data = result.to_dict()
    assert data["drift"]["target"] is None
    assert data["performance"]["current"]["metrics"]["accuracy"]["value"] > 0.5
    assert set(data["drift"]["columns"]) == {"stable", "shifted"}


def test_performance_errors_name_both_sides(tmp_path) -> None:
    rng = np.random.default_rng(0)
    data = pa.table(
        {
            "x": rng.normal(size=50),
            "y": rng.integers(0, 2, 50),
            "p": rng.integers(0, 2, 50),
            "s": ["a"] * 50,
        }
    )
    result = telltale.report(data, data, target="y", prediction="p", score="s", n_bootstrap=10)
    error = result.to_dict()["performance"]["error"]
    assert error.startswith("reference: ") and "; current: " in error and "not numeric" in error
    assert result.to_dict()["drift"]["n_columns"] == 1  # the rest of the report is there
