"""NER span metrics against seqeval and against ExplainaBoard's published CoNLL-2003 report.

The published numbers are from neulab/ExplainaBoard's
``integration_tests/artifacts/interpretations/ner_report.json`` (the elmo system on CoNLL-2003,
the same 3,453 sentences as the shared gold file): overall F1, buckets by text length, span
length, capitalisation, entity density, and the span-level confusion (``combo``) counts.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from seqeval.metrics import classification_report, f1_score, precision_score, recall_score

from telltale.analysis.evaluate import FixedBuckets, evaluate
from telltale.analysis.evaluate.readers import read_conll

SYSTEMS = ("elmo", "flair")


@pytest.fixture(scope="module")
def conll(outputs: Path) -> dict[str, Path]:
    folder = outputs / "conll2003"
    return {
        "gold": folder / "conll2003-dataset.conll",
        "elmo": folder / "conll2003-elmo-output.conll",
        "flair": folder / "conll2003-flair-output.conll",
    }


@pytest.fixture(scope="module")
def result(conll: dict[str, Path]) -> Any:
    return evaluate(
        task="ner",
        data=conll["gold"],
        systems={name: conll[name] for name in SYSTEMS},
        n_bootstrap=200,
        seed=0,
        buckets={
            "sentence_length": FixedBuckets([1, 6, 10, 23, 125]),
            "span_length": "edges:1,2,3,4,7",
        },
    )


def _tags(path: Path) -> list[list[str]]:
    return [s.tags for s in read_conll(path).sentences]


@pytest.mark.parametrize("system", SYSTEMS)
def test_micro_and_per_type_scores_equal_seqeval(
    result: Any, conll: dict[str, Path], system: str
) -> None:
    gold, predicted = _tags(conll["gold"]), _tags(conll[system])
    overall = result.to_dict()["systems"][system]["overall"]
    # tolerance: float64 rounding only (the same counts divided the same way)
    assert overall["f1"]["value"] == pytest.approx(f1_score(gold, predicted), abs=1e-12)
    assert overall["precision"]["value"] == pytest.approx(
        precision_score(gold, predicted), abs=1e-12
    )
    assert overall["recall"]["value"] == pytest.approx(recall_score(gold, predicted), abs=1e-12)
    reference = classification_report(gold, predicted, output_dict=True)
    per_label = result.to_dict()["systems"][system]["per_label"]
    for label in ("LOC", "MISC", "ORG", "PER"):
        assert per_label[label]["f1"]["value"] == pytest.approx(
            reference[label]["f1-score"], abs=1e-12
        )
        assert per_label[label]["precision"]["value"] == pytest.approx(
            reference[label]["precision"], abs=1e-12
        )
        assert per_label[label]["recall"]["value"] == pytest.approx(
            reference[label]["recall"], abs=1e-12
        )
        assert per_label[label]["support"] == reference[label]["support"]
    assert per_label["macro"]["f1"]["value"] == pytest.approx(
        reference["macro avg"]["f1-score"], abs=1e-12
    )


def test_published_elmo_f1_is_reproduced(result: Any) -> None:
    overall = result.to_dict()["systems"]["elmo"]["overall"]
    assert round(overall["f1"]["value"], 4) == round(0.9221652220060145, 4)
    assert overall["f1"]["value"] == pytest.approx(0.9221652220060145, abs=1e-12)
    assert overall["f1"]["ci"][0] < overall["f1"]["value"] < overall["f1"]["ci"][1]
    flair = result.to_dict()["systems"]["flair"]["overall"]["f1"]["value"]
    assert round(flair, 4) == 0.9303  # seqeval on the shared files: 0.9302736098852603


def _bucket(result: Any, feature: str, system: str = "elmo") -> list[tuple[str, int, float]]:
    rows = result.to_dict()["systems"][system]["buckets"][feature]
    return [(row["bucket"], row["n"], round(row["f1"], 10)) for row in rows]


def test_buckets_reproduce_explainaboard_report(result: Any) -> None:
    assert _bucket(result, "sentence_length") == [
        ("[1, 6)", 874, round(0.9168162776780371, 10)),
        ("[6, 10)", 1063, round(0.935346496322106, 10)),
        ("[10, 23)", 794, round(0.9071123202487368, 10)),
        ("[23, 125]", 722, round(0.9252065193123464, 10)),
    ]
    assert _bucket(result, "span_length") == [
        ("[1, 2)", 3679, round(0.9279887482419127, 10)),
        ("[2, 3)", 1873, round(0.9234209055338177, 10)),
        ("[3, 4)", 267, round(0.8482328482328484, 10)),
        ("[4, 7]", 79, round(0.8467153284671532, 10)),
    ]
    # quantile buckets of entity density fall on ExplainaBoard's own intervals
    assert _bucket(result, "entity_density") == [
        ("[0, 0.05556]", 868, round(0.8312958435207823, 10)),
        ("[0.05714, 0.1667]", 877, round(0.9201320132013201, 10)),
        ("[0.1702, 0.4]", 879, round(0.9136738790988179, 10)),
        ("[0.4103, 1]", 829, round(0.9462174940898344, 10)),
    ]
    # ExplainaBoard names: first_caps, full_caps, not_first_caps, low_caps
    assert _bucket(result, "span_capitalisation") == [
        ("title", 4848, round(0.9309424698473691, 10)),
        ("all_caps", 1029, round(0.884797475013151, 10)),
        ("mixed", 19, round(0.6470588235294119, 10)),
        ("lower", 2, 0.0),
    ]


def test_span_confusion_matches_explainaboard_combo_counts(result: Any) -> None:
    table = result.to_dict()["systems"]["elmo"]["confusion"]
    assert table["gold"] == ["LOC", "MISC", "ORG", "PER", "spurious"]
    assert table["predicted"] == ["LOC", "MISC", "ORG", "PER", "missed"]
    assert table["matrix"] == [
        [1552, 13, 48, 2, 53],
        [17, 571, 39, 3, 72],
        [28, 16, 1521, 9, 87],
        [7, 2, 11, 1569, 28],
        [51, 100, 69, 30, 0],
    ]
    first = result.examples("elmo", "confusion", "PER -> LOC")[0]
    assert first == {
        "index": 0,
        "span": [7, 8],
        "text": "CHINA",
        "sentence": "SOCCER - JAPAN GET LUCKY WIN , CHINA IN SURPRISE DEFEAT .",
        "gold": "PER",
        "prediction": "LOC",
    }


def test_span_label_buckets_are_seqeval_per_type_f1(result: Any, conll: dict[str, Path]) -> None:
    reference = classification_report(_tags(conll["gold"]), _tags(conll["flair"]), output_dict=True)
    rows = {
        row["bucket"]: row for row in result.to_dict()["systems"]["flair"]["buckets"]["span_label"]
    }
    for label in ("LOC", "MISC", "ORG", "PER"):
        assert rows[label]["f1"] == pytest.approx(reference[label]["f1-score"], abs=1e-12)


def test_systems_share_bucket_edges(result: Any) -> None:
    data = result.to_dict()
    for feature in data["features"]:
        labels = [
            [row["bucket"] for row in data["systems"][s]["buckets"][feature]] for s in SYSTEMS
        ]
        assert labels[0] == labels[1] == data["features"][feature]["buckets"]


def test_bucket_counts_partition_the_units(result: Any) -> None:
    data = result.to_dict()["systems"]["elmo"]["buckets"]
    assert sum(row["n"] for row in data["sentence_length"]) == 3453
    # span units: 5,648 gold spans plus the predictions that match no gold span's boundaries
    assert sum(row["n"] for row in data["span_length"]) == 5898
    drilled = result.examples("elmo", "sentence_length", "[1, 6)")
    assert len(drilled) == 874
    assert all(len(example["text"].split()) < 6 for example in drilled)


def test_intervals_are_reproducible(conll: dict[str, Path], result: Any) -> None:
    again = evaluate(
        task="ner",
        data=conll["gold"],
        systems={"elmo": conll["elmo"]},
        n_bootstrap=200,
        seed=0,
        features=["span_label"],
    )
    assert (
        again.to_dict()["systems"]["elmo"]["overall"]
        == result.to_dict()["systems"]["elmo"]["overall"]
    )
