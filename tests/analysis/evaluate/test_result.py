"""The JSON contract, reproducibility and the tabular tasks."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from telltale.analysis.evaluate import TASKS, evaluate
from telltale.analysis.performance import classification_performance, regression_performance


def test_json_contract_is_strict_json(outputs: Path) -> None:
    folder = outputs / "sst2"
    result = evaluate(
        "text-classification",
        folder / "sst2-dataset.tsv",
        {"lstm": folder / "sst2-lstm-output.txt"},
        n_bootstrap=50,
    )
    data = json.loads(result.to_json())  # allow_nan=False: no NaN/inf may leak
    assert set(data) >= {"task", "systems", "comparisons", "findings", "slices"}
    # one system: nothing to compare, but its own findings (top confusion) and slices are listed
    assert data["comparisons"] == []
    assert data["findings"] and all(isinstance(f, str) and f for f in data["findings"])
    assert any(
        f.startswith(
            "lstm's most frequent confusion: gold positive predicted as negative (118 texts"
        )
        for f in data["findings"]
    )
    for entry in data["slices"]:
        assert entry["system"] == "lstm" and 0 <= entry["q_value"] <= 0.05
        assert isinstance(entry["description"], str) and isinstance(entry["merged"], list)
    system = data["systems"]["lstm"]
    assert set(system) >= {"overall", "buckets", "confusion", "calibration"}
    assert set(system["overall"]["accuracy"]) == {"value", "ci"}
    for rows in system["buckets"].values():
        for row in rows:
            assert isinstance(row["bucket"], str) and isinstance(row["n"], int)
            assert "accuracy" in row and len(row["ci"]) == 2


def test_same_seed_same_result_and_other_seed_other_intervals(outputs: Path) -> None:
    folder = outputs / "sst2"
    args = (
        "text-classification",
        folder / "sst2-dataset.tsv",
        {"cnn": folder / "sst2-cnn-output.txt"},
    )
    first = evaluate(*args, n_bootstrap=100, seed=3).to_dict()
    assert evaluate(*args, n_bootstrap=100, seed=3).to_dict() == first
    other = evaluate(*args, n_bootstrap=100, seed=4).to_dict()
    assert (
        other["systems"]["cnn"]["overall"]["accuracy"]["ci"]
        != first["systems"]["cnn"]["overall"]["accuracy"]["ci"]
    )


def test_every_task_is_registered() -> None:
    assert sorted(TASKS) == [
        "extractive-qa",
        "generation",
        "ner",
        "tabular-classification",
        "tabular-regression",
        "text-classification",
        "text-pair-classification",
    ]


def test_tabular_tasks_reuse_the_performance_module(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    n = 3000
    segment = rng.choice(["web", "app", "store"], n)
    age = rng.integers(18, 80, n).astype(float)
    label = rng.integers(0, 2, n)
    model_a = np.where(rng.random(n) < 0.8, label, 1 - label)
    model_b = np.where(rng.random(n) < 0.7, label, 1 - label)
    path = tmp_path / "scored.parquet"
    pq.write_table(
        pa.table({"segment": segment, "age": age, "label": label, "a": model_a, "b": model_b}), path
    )
    result = evaluate(
        "tabular-classification", path, {"a": "a", "b": "b"}, target="label", n_bootstrap=100
    )
    for name, predicted in (("a", model_a), ("b", model_b)):
        reference = classification_performance(label, predicted, n_bootstrap=100, seed=0)
        assert (
            result.to_dict()["systems"][name]["overall"]["accuracy"]
            == reference.metrics["accuracy"]
        )
        for row in result.to_dict()["systems"][name]["buckets"]["segment"]:
            rows = segment == row["bucket"]
            assert row["n"] == int(rows.sum())
            assert row["accuracy"] == pytest.approx(
                float((predicted[rows] == label[rows]).mean()), abs=1e-12
            )
    assert set(result.features) == {"segment", "age"}
    target = rng.normal(size=n)
    pq.write_table(pa.table({"x": age, "y": target, "p": target + rng.normal(size=n)}), path)
    regression = evaluate("regression", path, {"m": "p"}, target="y", n_bootstrap=0)
    expected = regression_performance(target, pq.read_table(path)["p"].to_numpy(), n_bootstrap=0)
    assert regression.to_dict()["systems"]["m"]["overall"]["mae"] == expected.metrics["mae"]
