"""Text and text-pair classification against scikit-learn and ExplainaBoard's published reports."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import (
    accuracy_score,
    confusion_matrix,
    f1_score,
    precision_score,
    recall_score,
)

from telltale.analysis.evaluate import evaluate


def _labels(path: Path) -> list[str]:
    return [
        line.rstrip("\r\n")
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]


def _gold(path: Path) -> list[str]:
    return [line.split("\t")[-1].strip() for line in _labels(path)]


def test_sst2_both_systems_match_scikit_learn(outputs: Path) -> None:
    folder = outputs / "sst2"
    result = evaluate(
        "text-classification",
        folder / "sst2-dataset.tsv",  # CRLF line endings
        {"lstm": folder / "sst2-lstm-output.txt", "cnn": folder / "sst2-cnn-output.txt"},
        n_bootstrap=200,
    )
    gold = _gold(folder / "sst2-dataset.tsv")
    for system in ("lstm", "cnn"):
        predicted = _labels(folder / f"sst2-{system}-output.txt")
        overall = result.to_dict()["systems"][system]["overall"]
        # tolerance: float64 rounding of the same counts
        assert overall["accuracy"]["value"] == pytest.approx(
            accuracy_score(gold, predicted), abs=1e-12
        )
        for name, function in (
            ("f1", f1_score),
            ("precision", precision_score),
            ("recall", recall_score),
        ):
            assert overall[name]["value"] == pytest.approx(
                function(gold, predicted, pos_label="positive"), abs=1e-12
            )
        assert overall["f1_macro"]["value"] == pytest.approx(
            f1_score(gold, predicted, average="macro"), abs=1e-12
        )
        table = result.to_dict()["systems"][system]["confusion"]
        assert table["matrix"] == confusion_matrix(gold, predicted, labels=table["gold"]).tolist()
    # published: ExplainaBoard's explainaboard_main.py docstring (SST-2, LSTM): 0.8802855573860516
    assert round(result.to_dict()["systems"]["lstm"]["overall"]["accuracy"]["value"], 4) == round(
        0.8802855573860516, 4
    )
    assert (
        round(result.to_dict()["systems"]["cnn"]["overall"]["accuracy"]["value"], 4) == 0.8572
    )  # sklearn-derived


def test_snli_keeps_the_dash_rows_like_explainaboard(outputs: Path) -> None:
    folder = outputs / "snli"
    result = evaluate(
        "text-pair",
        folder / "snli-dataset.tsv",
        {"roberta": folder / "snli-roberta-output.txt"},
        n_bootstrap=0,
    )
    gold = _gold(folder / "snli-dataset.tsv")
    predicted = _labels(folder / "snli-roberta-output.txt")
    assert gold.count("-") == 176
    value = result.to_dict()["systems"]["roberta"]["overall"]["accuracy"]["value"]
    assert value == pytest.approx(accuracy_score(gold, predicted), abs=1e-12)
    assert value == 0.8644  # 8,644 of 10,000; on the 9,824 labelled rows it would be 0.8799
    macro = f1_score(gold, predicted, average="macro", labels=sorted(set(gold)), zero_division=0)
    assert result.to_dict()["systems"]["roberta"]["overall"]["f1_macro"]["value"] == pytest.approx(
        macro, abs=1e-12
    )
    assert any("'-' (176 rows)" in note for note in result.notes)


@pytest.mark.parametrize(
    ("task", "path", "report"),
    [
        ("text-pair", "mt5base/xnli/test-en_7676.json", "test-en_7676.json"),
        ("text-pair", "mlpp/xnli/test-en_7872.json", "test-en_7872.json"),
        ("text-classification", "mt5base/marc/test-en_9200.json", "test-en_9200.json"),
        ("text-classification", "mlpp/marc/test-en_9152.json", "test-en_9152.json"),
    ],
)
def test_multilingual_reports_are_reproduced(
    outputs: Path, artifacts: Path, task: str, path: str, report: str
) -> None:
    source = outputs / "multilingual" / "json" / path
    result = evaluate(task, source, {"system": source}, n_bootstrap=1000, seed=0)
    published = json.loads((artifacts / "reports" / report).read_text())["results"]["overall"][
        "Accuracy"
    ]
    overall = result.to_dict()["systems"]["system"]["overall"]["accuracy"]
    assert round(overall["value"], 4) == round(published["value"], 4)
    assert overall["value"] == pytest.approx(published["value"], abs=1e-12)
    # The interval: ExplainaBoard's pre-0.9 reports resampled subsamples of the data, so their
    # intervals are about 1.4x wider than a bootstrap of size n. The independent reference here
    # is the normal approximation of a proportion, p +- 1.96 sqrt(p (1 - p) / n); tolerance 0.002
    # covers the Monte Carlo error of 1,000 resamples (~3% of the width).
    p, n = overall["value"], result.n_examples
    half = 1.959964 * np.sqrt(p * (1 - p) / n)
    assert overall["ci"][0] == pytest.approx(p - half, abs=0.002)
    assert overall["ci"][1] == pytest.approx(p + half, abs=0.002)
    assert (
        published["confidence_score_low"]
        < overall["ci"][0]
        < overall["ci"][1]
        < published["confidence_score_high"]
    )


def test_xnli_label_and_length_buckets_match_the_report(outputs: Path, artifacts: Path) -> None:
    source = outputs / "multilingual" / "json" / "mt5base" / "xnli" / "test-en_7676.json"
    result = evaluate(
        "text-pair",
        source,
        {"mt5": source},
        n_bootstrap=0,
        buckets={
            "text1_length": "edges:5,15,22,30,1000000",
            "text2_length": "edges:2,9,12,16,1000000",
        },
    )
    fine = json.loads((artifacts / "reports" / "test-en_7676.json").read_text())["results"][
        "fine_grained"
    ]
    buckets = result.to_dict()["systems"]["mt5"]["buckets"]
    labels = {row["bucket"]: row for row in buckets["label"]}
    for _name, published in fine["label"].items():
        label = published["bucket_name"][0]
        assert labels[label]["n"] == published["n_samples"]
        assert labels[label]["accuracy"] == pytest.approx(
            published["performances"][0]["value"], abs=1e-12
        )
    for feature in ("text1_length", "text2_length"):
        ours = [(row["n"], row["accuracy"]) for row in buckets[feature]]
        theirs = [(b["n_samples"], b["performances"][0]["value"]) for b in fine[feature].values()]
        assert [n for n, _ in ours] == [n for n, _ in theirs]
        assert np.allclose([a for _, a in ours], [a for _, a in theirs], atol=1e-12)


def test_json_dataset_and_examples_output(artifacts: Path) -> None:
    folder = artifacts / "text_classification"
    result = evaluate(
        "text-classification",
        folder / "dataset.json",
        {"s": folder / "output_user_metadata.json"},
        n_bootstrap=0,
    )
    gold = [r["true_label"] for r in json.loads((folder / "dataset.json").read_text())]
    predicted = [
        r["predicted_label"]
        for r in json.loads((folder / "output_user_metadata.json").read_text())["examples"]
    ]
    assert result.to_dict()["systems"]["s"]["overall"]["accuracy"]["value"] == accuracy_score(
        gold, predicted
    )
    wrong = [
        e["index"]
        for cell in ("negative -> positive", "positive -> negative")
        for e in (
            result.examples("s", "confusion", cell)
            if cell in result.members[("s", "confusion")]
            else []
        )
    ]
    assert sorted(wrong) == [
        i for i, (g, p) in enumerate(zip(gold, predicted, strict=True)) if g != p
    ]
