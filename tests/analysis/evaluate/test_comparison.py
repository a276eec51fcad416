"""Comparisons and findings on the shared CoNLL-2003 and SST-2 pairs, and on planted data."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest

from telltale.analysis.evaluate import evaluate
from telltale.analysis.evaluate.wording import phrase, range_text, signed_points

ENTRY_KEYS = {
    "baseline",
    "system",
    "difference",
    "ci",
    "p_value",
    "q_value",
    "effect_size",
    "test",
    "significant",
}


@pytest.fixture(scope="module")
def conll(outputs: Path) -> Any:
    folder = outputs / "conll2003"
    return evaluate(
        "ner",
        folder / "conll2003-dataset.conll",
        {
            "elmo": folder / "conll2003-elmo-output.conll",
            "flair": folder / "conll2003-flair-output.conll",
        },
        n_bootstrap=1000,
        n_permutations=1000,
        seed=0,
    )


@pytest.fixture(scope="module")
def sst2(outputs: Path) -> Any:
    folder = outputs / "sst2"
    return evaluate(
        "text-classification",
        folder / "sst2-dataset.tsv",
        {"lstm": folder / "sst2-lstm-output.txt", "cnn": folder / "sst2-cnn-output.txt"},
        n_bootstrap=1000,
        n_permutations=1000,
        seed=0,
    )


def test_conll_pair_findings(conll: Any) -> None:
    data = conll.to_dict()
    findings = data["findings"]
    assert findings[0] == (
        "flair is better than elmo overall (F1 +0.81 points, 95% CI [+0.36, +1.27], p<0.001)"
    )
    # the buckets where flair's advantage is significant after Benjamini-Hochberg
    assert findings[1] == (
        "flair is better than elmo on spans in all caps (F1 +3.30 points, adjusted p<0.01; "
        "17% of spans)"
    )
    assert any(f.startswith("elmo does worst on MISC spans:") for f in findings)
    assert any(f.startswith("flair does worst on MISC spans") for f in findings)
    comparison = data["comparisons"][0]
    assert (comparison["baseline"], comparison["system"], comparison["better"]) == (
        "elmo",
        "flair",
        "flair",
    )
    overall = comparison["overall"]
    assert set(overall) == {"f1", "precision", "recall"}
    for metric, entry in overall.items():
        assert set(entry) == ENTRY_KEYS
        for side, system in (("baseline", "elmo"), ("system", "flair")):
            assert entry[side] == data["systems"][system]["overall"][metric]["value"]
    assert set(comparison["buckets"]) == set(data["features"])
    # elmo's best pair of buckets (docs/evaluate.md) does not survive Benjamini-Hochberg
    best = min(
        (r for r in comparison["conjunctions"] if r["difference"] < 0),
        key=lambda r: r["p_value"],
    )
    assert [c["feature"] for c in best["conditions"]] == ["span_position", "span_characters"]
    assert round(best["difference"], 3) == -0.022 and not best["significant"]
    assert (round(best["p_value"], 3), round(best["q_value"], 2)) == (0.048, 0.17)
    assert "but not on" not in findings[0]
    misc = next(r for r in comparison["buckets"]["span_label"] if r["bucket"] == "MISC")
    per_label = data["systems"]
    assert misc["difference"] == pytest.approx(
        per_label["flair"]["per_label"]["MISC"]["f1"]["value"]
        - per_label["elmo"]["per_label"]["MISC"]["f1"]["value"],
        abs=1e-12,
    )


def test_findings_are_deterministic(outputs: Path, conll: Any) -> None:
    folder = outputs / "conll2003"
    again = evaluate(
        "ner",
        folder / "conll2003-dataset.conll",
        {
            "elmo": folder / "conll2003-elmo-output.conll",
            "flair": folder / "conll2003-flair-output.conll",
        },
        n_bootstrap=1000,
        n_permutations=1000,
        seed=0,
    )
    assert again.findings == conll.findings
    assert again.to_json() == conll.to_json()


def test_sst2_pair_findings(sst2: Any) -> None:
    data = sst2.to_dict()
    assert data["findings"][0] == (
        "lstm is better than cnn overall (accuracy +2.31 points, 95% CI [+0.93, +3.68], p<0.01)"
    )
    assert data["findings"][1] == (
        "lstm is better than cnn on texts labelled negative (accuracy +5.26 points, "
        "adjusted p<0.01; 50% of texts)"
    )
    entry = data["comparisons"][0]["overall"]["accuracy"]
    assert entry["test"] == "paired permutation (sign flips)"
    assert data["comparisons"][0]["overall"]["f1"]["test"] == "approximate randomization"
    assert any(f.startswith("cnn does worst on texts") for f in data["findings"])


def _reversal_table(n: int = 20_000) -> pa.Table:
    rng = np.random.default_rng(1)
    region = rng.choice(["north", "south", "east"], n)
    gold = rng.integers(0, 2, n)
    error_a = np.where(region == "east", 0.30, 0.10)  # a is better except in the east
    error_b = np.full(n, 0.20)
    return pa.table(
        {
            "region": region,
            "label": gold,
            "a": np.where(rng.random(n) < error_a, 1 - gold, gold),
            "b": np.where(rng.random(n) < error_b, 1 - gold, gold),
        }
    )


def test_reversal_is_named_in_the_headline() -> None:
    table = _reversal_table()
    result = evaluate(
        "tabular-classification",
        table,
        {"a": "a", "b": "b"},
        target="label",
        n_bootstrap=200,
        n_permutations=500,
    )
    columns = {name: table[name].to_numpy(zero_copy_only=False) for name in table.column_names}
    east = columns["region"] == "east"
    right = {s: columns[s] == columns["label"] for s in ("a", "b")}
    overall = 100 * (right["a"].mean() - right["b"].mean())
    in_east = 100 * (right["a"][east].mean() - right["b"][east].mean())
    headline = result.findings[0]
    assert headline.startswith(f"a is better than b overall (accuracy +{overall:.2f} points")
    assert headline.endswith(
        f"but not on rows with region = east (−{abs(in_east):.2f} points, adjusted p<0.01)"
    ), headline
    assert any(
        f.startswith("b is better than a on rows with region = east")
        and f.endswith("the reverse of the overall result")
        for f in result.findings
    )


def test_three_systems_give_three_pairs_in_one_family() -> None:
    table = _reversal_table(3_000)
    rng = np.random.default_rng(2)
    table = table.append_column(
        "c", pa.array(np.where(rng.random(3_000) < 0.5, table["label"].to_numpy(), 1))
    )
    result = evaluate(
        "tabular-classification",
        table,
        {"a": "a", "b": "b", "c": "c"},
        target="label",
        n_bootstrap=100,
        n_permutations=200,
        slices=False,
    )
    pairs = [(c.baseline, c.system) for c in result.comparisons]
    assert pairs == [("a", "b"), ("a", "c"), ("b", "c")]
    assert (
        sum(f.startswith(("a is", "b is", "c is", "no significant")) for f in result.findings[:3])
        == 3
    )


def test_one_system_has_no_comparison() -> None:
    result = evaluate(
        "tabular-classification",
        _reversal_table(2_000),
        {"a": "a"},
        target="label",
        n_bootstrap=50,
    )
    assert result.comparisons == []
    assert not any("better than" in f for f in result.findings)


def test_wording() -> None:
    assert range_text("[3, 4]") == "3–4"
    assert range_text("[3, 3]") == "3"
    assert range_text("[1, 6)") == "1 to under 6"
    assert range_text("> 125") == "over 125"
    assert range_text("LOC") == "LOC"
    assert phrase([("span_label", "MISC"), ("sentence_length", "[23, 124]")], "span", "ner") == (
        "MISC spans in sentences of 23–124 tokens"
    )
    assert phrase([("span_length", "[1, 1]")], "span", "ner") == "spans of 1 token"
    assert signed_points("accuracy", 0.0231) == "+2.31 points"
    assert signed_points("bleu", -1.5) == "−1.50"
    assert signed_points("mae", 0.0) == "±0.00"


@pytest.fixture(scope="module")
def planted_ner(outputs: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """CoNLL-2003 gold and two systems made from it by dropping entities (tags set to O):
    "a" drops 6% of entities and 12% of long (3+ tokens) non-ORG ones; "b" drops 2% of
    entities and none of the long non-ORG ones — but half of the ORG spans of 3+ tokens."""
    from seqeval.metrics.sequence_labeling import get_entities

    from telltale.analysis.evaluate.readers import read_conll

    sentences = read_conll(outputs / "conll2003" / "conll2003-dataset.conll").sentences
    rng = np.random.default_rng(11)
    folder = tmp_path_factory.mktemp("planted-ner")
    texts: dict[str, list[str]] = {"gold": [], "a": [], "b": []}
    for sentence in sentences:
        tags = {"gold": list(sentence.tags), "a": list(sentence.tags), "b": list(sentence.tags)}
        for kind, start, end in get_entities(list(sentence.tags)):
            long = end - start + 1 >= 3
            drop_a = 0.12 if long and kind != "ORG" else 0.06
            drop_b = 0.5 if long and kind == "ORG" else (0.0 if long else 0.02)
            for name, rate in (("a", drop_a), ("b", drop_b)):
                if rng.random() < rate:
                    tags[name][start : end + 1] = ["O"] * (end - start + 1)
        for name in texts:
            texts[name].append(
                "\n".join(f"{t}\t{g}" for t, g in zip(sentence.tokens, tags[name], strict=True))
            )
    paths = {}
    for name, blocks in texts.items():
        paths[name] = folder / f"{name}.conll"
        paths[name].write_text("\n\n".join(blocks) + "\n", encoding="utf-8")
    return paths


def test_conjunction_reversal_is_named_in_the_ner_headline(planted_ner: dict[str, Path]) -> None:
    from seqeval.metrics.sequence_labeling import get_entities

    from telltale.analysis.evaluate.readers import read_conll

    result = evaluate(
        "ner",
        planted_ner["gold"],
        {"a": planted_ner["a"], "b": planted_ner["b"]},
        n_bootstrap=200,
        n_permutations=1000,
        slices=False,
    )
    comparison = result.to_dict()["comparisons"][0]
    assert comparison["better"] == "b"
    row = next(
        r
        for r in comparison["conjunctions"]
        if {(c["feature"], c["bucket"]) for c in r["conditions"]}
        == {("span_label", "ORG"), ("span_length", "[3, 6]")}
    )

    # reference: span F1 on the ORG spans of 3-6 tokens, from seqeval's entities directly
    def f1(name: str) -> float:
        def spans(path: Path) -> set[tuple[int, int, int]]:
            out = set()
            for i, sentence in enumerate(read_conll(path).sentences):
                for kind, start, end in get_entities(list(sentence.tags)):
                    if kind == "ORG" and 3 <= end - start + 1 <= 6:
                        out.add((i, start, end))
            return out

        gold, predicted = spans(planted_ner["gold"]), spans(planted_ner[name])
        return 2 * len(gold & predicted) / (len(gold) + len(predicted))

    assert row["baseline"] == pytest.approx(f1("a"), abs=1e-12)
    assert row["system"] == pytest.approx(f1("b"), abs=1e-12)
    assert row["significant"] and row["difference"] < 0
    # drill-down to the spans of the conjunction, for each system
    spans = result.examples("b", "span_length & span_label", "[3, 6] & ORG")
    assert 0 < len(spans) <= row["n"]
    assert all("ORG" in (str(e["gold"]) + str(e["prediction"])) for e in spans)
    head = result.findings[0]
    assert head.startswith("b is better than a overall (F1 +")
    assert " but not on ORG spans of 3–6 tokens (−" in head, head
    assert any(
        f.startswith("a is better than b on ORG spans of 3–6 tokens")
        and f.endswith("the reverse of the overall result")
        for f in result.findings
    )
    # the conjunction tests are a Benjamini-Hochberg family of their own
    rows = comparison["conjunctions"]
    from telltale.analysis.evaluate import benjamini_hochberg

    assert [r["q_value"] for r in rows] == pytest.approx(
        benjamini_hochberg([r["p_value"] for r in rows])
    )


def test_conjunction_groups_equal_brute_force_intersections() -> None:
    from telltale.analysis.evaluate.conjunctions import conjunction_groups
    from telltale.analysis.evaluate.scoring import Selection

    rng = np.random.default_rng(3)
    n = 2_000
    selections = {}
    for system in ("a", "b"):
        for feature, width in (("colour", 3), ("size", 4)):
            codes = rng.integers(-1, width, n)  # -1: in no bucket
            selections[(system, feature)] = {
                f"{feature}{i}": Selection(np.flatnonzero(codes == i)) for i in range(width)
            }
    # span units: gold and predicted sides may fall in different buckets
    span_units = 500
    for system in ("a", "b"):
        for feature, width in (("label", 2), ("length", 3)):
            gold = rng.integers(0, width, span_units)
            predicted = np.where(
                rng.random(span_units) < 0.8, gold, rng.integers(0, width, span_units)
            )
            buckets = {}
            for i in range(width):
                rows = np.flatnonzero((gold == i) | (predicted == i))
                buckets[f"{feature}{i}"] = Selection(rows, gold[rows] == i, predicted[rows] == i)
            selections[(system, feature)] = buckets
    levels = {"colour": "example", "size": "example", "label": "span", "length": "span"}
    found, chosen = conjunction_groups(("a", "b"), selections, levels, min_size=30)  # type: ignore[arg-type]
    assert {c.level for c in found} == {"example", "span"}
    for conjunction in found:
        (f1, b1), (f2, b2) = conjunction.conditions
        for system in ("a", "b"):
            one, two = selections[(system, f1)][b1], selections[(system, f2)][b2]
            got = chosen[(system, conjunction.key)]
            if conjunction.level == "example":
                assert np.array_equal(got.rows, np.intersect1d(one.rows, two.rows))
            else:
                gold = _side(one, "gold") & _side(two, "gold")
                predicted = _side(one, "predicted") & _side(two, "predicted")
                assert set(got.rows.tolist()) == gold | predicted
                assert _side(got, "gold") == gold and _side(got, "predicted") == predicted
            assert len(got.rows) >= 30
    # the cap keeps the largest conjunctions
    capped, _ = conjunction_groups(("a", "b"), selections, levels, min_size=30, max_groups=3)  # type: ignore[arg-type]
    smallest = {c.key: min(len(chosen[(s, c.key)].rows) for s in ("a", "b")) for c in found}
    assert sorted(smallest[c.key] for c in capped) == sorted(smallest.values())[-3:]


def _side(selection: Any, side: str) -> set[int]:
    """The units of a span selection whose gold (or predicted) side is in it."""
    mask = selection.gold_side if side == "gold" else selection.predicted_side
    return set(selection.rows[mask].tolist())
