"""Extractive QA against the official SQuAD v1.1 definition and ExplainaBoard's published numbers."""

from __future__ import annotations

import json
import re
import string
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from telltale.analysis.evaluate import evaluate


# The reference, written from the published evaluate-v1.1.py definition (not from our code).
def _normalize(s: str) -> str:
    s = s.lower()
    s = "".join(ch for ch in s if ch not in set(string.punctuation))
    s = re.sub(r"\b(a|an|the)\b", " ", s)
    return " ".join(s.split())


def _f1(prediction: str, truth: str) -> float:
    p, t = _normalize(prediction).split(), _normalize(truth).split()
    common = Counter(p) & Counter(t)
    same = sum(common.values())
    if same == 0:
        return 0.0
    precision, recall = same / len(p), same / len(t)
    return (2 * precision * recall) / (precision + recall)


def _reference(dataset: Path, output: Path) -> tuple[float, float]:
    data = json.loads(dataset.read_text(encoding="utf-8"))
    predictions = json.loads(output.read_text(encoding="utf-8"))
    em = f1 = 0.0
    for item, prediction in zip(data, predictions, strict=True):
        answer = prediction["predicted_answers"]["text"]
        truths = item["answers"]["text"]
        truths = [truths] if isinstance(truths, str) else truths  # squad_mini stores one string
        em += max(float(_normalize(answer) == _normalize(t)) for t in truths)
        f1 += max(_f1(answer, t) for t in truths)
    return em / len(data), f1 / len(data)


def test_xquad_en_matches_the_official_definition_and_explainaboard(artifacts: Path) -> None:
    folder = artifacts / "extractive_qa"
    result = evaluate(
        "extractive-qa",
        folder / "dataset-xquad-en.json",
        {"s": folder / "output-xquad-en.json"},
        n_bootstrap=200,
    )
    overall = result.to_dict()["systems"]["s"]["overall"]
    em, f1 = _reference(folder / "dataset-xquad-en.json", folder / "output-xquad-en.json")
    assert overall["exact_match"]["value"] == pytest.approx(em, abs=1e-12)
    assert overall["f1"]["value"] == pytest.approx(f1, abs=1e-12)
    # published: ExplainaBoard integration_tests/extractive_qa_test.py
    assert round(overall["exact_match"]["value"], 4) == round(0.6974789915966386, 4)
    assert round(overall["f1"]["value"], 4) == round(0.8235975260931867, 4)


def test_squad_mini_and_t_interval(outputs: Path) -> None:
    folder = outputs / "squad"
    dataset, output = folder / "squad_mini-dataset.json", folder / "squad_mini-example-output.json"
    result = evaluate("squad", dataset, {"s": output}, ci="t")
    em, f1 = _reference(dataset, output)
    overall = result.to_dict()["systems"]["s"]["overall"]
    assert overall["exact_match"]["value"] == pytest.approx(em, abs=1e-12)
    assert overall["f1"]["value"] == pytest.approx(f1, abs=1e-12)
    scores = np.array(
        [e["f1"] for e in (result.data.describe("s", "example", i) for i in range(5))]
    )  # type: ignore[union-attr]
    from scipy import stats

    low, high = stats.t.interval(0.95, 4, loc=scores.mean(), scale=stats.sem(scores))
    assert overall["f1"]["ci"] == pytest.approx([low, high], abs=1e-12)
