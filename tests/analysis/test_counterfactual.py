"""Counterfactual evaluation with real scikit-learn models: a TF-IDF + logistic regression on the
shared SST-2 sentences, a random forest on UCI Adult, a linear regression on sklearn's diabetes."""

from __future__ import annotations

import csv
import doctest
import json
import os
import re
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.datasets import load_diabetes
from sklearn.ensemble import RandomForestClassifier
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.metrics import accuracy_score, f1_score, mean_absolute_error
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OrdinalEncoder

from telltale.analysis import counterfactual
from telltale.analysis.counterfactual import (
    DEFAULT_ENTITIES,
    Case,
    CategorySwap,
    EntitySwap,
    Punctuation,
    Scale,
    Shift,
    Typos,
    counterfactual_evaluation,
)
from telltale.errors import ConfigError, SchemaError, TelltaleError


def _datasets() -> Path:
    """``../shared/datasets`` next to the checkout (as tests/analysis/evaluate/conftest.py)."""
    if "TELLTALE_SHARED_DATASETS" in os.environ:
        return Path(os.environ["TELLTALE_SHARED_DATASETS"])
    near = Path(__file__).resolve().parents[3] / "shared" / "datasets"
    return near if near.is_dir() else Path("/work/shared/datasets")


SST2 = _datasets() / "explainaboard" / "data" / "system_outputs" / "sst2" / "sst2-dataset.tsv"
ADULT = _datasets() / "adult" / "adult.data"
ADULT_NUMERIC = ["age", "education-num", "capital-gain", "hours-per-week"]
ADULT_CATEGORICAL = ["workclass", "marital-status", "occupation", "relationship", "race", "sex"]
ADULT_COLUMNS = [
    "age", "workclass", "fnlwgt", "education", "education-num", "marital-status", "occupation",
    "relationship", "race", "sex", "capital-gain", "capital-loss", "hours-per-week",
    "native-country", "income",
]  # fmt: skip


def _rng_of(seed: int, name: str) -> np.random.Generator:
    """The documented seeding of a perturbation: ``(seed, crc32(name))``."""
    return np.random.default_rng([seed, zlib.crc32(name.encode())])


@pytest.fixture(scope="module")
def sst2() -> tuple[list[str], list[str], list[str], list[str]]:
    if not SST2.is_file():
        pytest.skip(f"shared SST-2 data missing at {SST2}")
    rows = [line.rstrip("\n").split("\t") for line in SST2.read_text(encoding="utf-8").splitlines()]
    order = np.random.default_rng(0).permutation(len(rows))  # the file is sorted by label
    texts = [rows[i][0] for i in order]
    labels = [rows[i][1] for i in order]
    return texts[:1200], labels[:1200], texts[1200:1600], labels[1200:1600]


@pytest.fixture(scope="module")
def text_model(sst2: Any) -> Pipeline:
    train_texts, train_labels, _, _ = sst2
    return make_pipeline(TfidfVectorizer(), LogisticRegression(max_iter=1000)).fit(
        train_texts, train_labels
    )


@pytest.fixture(scope="module")
def cased_text_model(sst2: Any) -> Pipeline:
    """A model that does not lower-case: upper-case words are unknown to it."""
    train_texts, train_labels, _, _ = sst2
    return make_pipeline(TfidfVectorizer(lowercase=False), LogisticRegression(max_iter=1000)).fit(
        train_texts, train_labels
    )


@pytest.fixture(scope="module")
def adult() -> tuple[dict[str, np.ndarray], np.ndarray, Any]:
    if not ADULT.is_file():
        pytest.skip(f"shared UCI Adult data missing at {ADULT}")
    with ADULT.open(encoding="utf-8") as handle:
        rows = [[v.strip() for v in row] for row in csv.reader(handle) if len(row) == 15][:3000]
    raw = {name: np.array([row[j] for row in rows]) for j, name in enumerate(ADULT_COLUMNS)}
    columns: dict[str, np.ndarray] = {name: raw[name].astype(np.float64) for name in ADULT_NUMERIC}
    columns.update({name: raw[name].astype(object) for name in ADULT_CATEGORICAL})
    target = raw["income"]
    encoder = ColumnTransformer(
        [
            (
                "categorical",
                OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1),
                list(range(len(ADULT_NUMERIC), len(ADULT_NUMERIC) + len(ADULT_CATEGORICAL))),
            )
        ],
        remainder="passthrough",
    )
    names = ADULT_NUMERIC + ADULT_CATEGORICAL
    model = Pipeline(
        [("encode", encoder), ("forest", RandomForestClassifier(n_estimators=25, random_state=0))]
    )
    frame = _rows(columns, names)
    model.fit(frame, target)

    def predict(batch: dict[str, np.ndarray]) -> np.ndarray:
        return np.asarray(model.predict(_rows(batch, names)))

    return columns, target, predict


def _rows(columns: dict[str, np.ndarray], names: list[str]) -> np.ndarray:
    """The columns as one object array, numeric first (the encoder picks columns by index)."""
    return np.column_stack([np.asarray(columns[name], dtype=object) for name in names])


# ---------------------------------------------------------------------------------------------
# text


def test_a_lowercasing_model_never_flips_on_case(sst2: Any, text_model: Pipeline) -> None:
    _, _, texts, labels = sst2
    result = counterfactual_evaluation(
        text_model.predict, texts, [Case("lower"), Case("upper"), Case("title")], labels=labels
    )
    already_lower = sum(t.lower() == t for t in texts)
    assert result.outcome("case:lower").n_not_applicable == already_lower
    assert result.outcome("case:upper").n == sum(t.upper() != t for t in texts)
    for outcome in result.perturbations:
        assert outcome.n_flipped == 0 and outcome.examples == []
        if outcome.n:
            assert outcome.flip_rate == 0.0
            assert outcome.metrics is not None
            assert outcome.metrics["accuracy"]["change"] == 0.0


def test_a_case_sensitive_model_flips_on_upper_case(sst2: Any, cased_text_model: Pipeline) -> None:
    _, _, texts, labels = sst2
    result = counterfactual_evaluation(
        cased_text_model.predict, texts, [Case("upper")], labels=labels, n_examples=3
    )
    outcome = result.outcome("case:upper")
    before = cased_text_model.predict(texts)
    after = cased_text_model.predict([t.upper() for t in texts])
    changed = np.array([t.upper() != t for t in texts])
    assert outcome.n == changed.sum()
    assert outcome.n_flipped == int((before != after)[changed].sum())
    assert outcome.flip_rate == pytest.approx(outcome.n_flipped / outcome.n, abs=0)
    assert outcome.flip_rate > 0.2  # every upper-case word is unknown to the model
    gold = np.asarray(labels)[changed]
    assert outcome.metrics is not None
    accuracy = outcome.metrics["accuracy"]
    assert accuracy["before"] == pytest.approx(accuracy_score(gold, before[changed]), abs=1e-12)
    assert accuracy["after"] == pytest.approx(accuracy_score(gold, after[changed]), abs=1e-12)
    assert accuracy["change"] < 0
    assert len(outcome.examples) == 3
    for example in outcome.examples:
        row = example["row"]
        assert example["original"] == texts[row] and example["perturbed"] == texts[row].upper()
        assert example["prediction_before"] == before[row] != example["prediction_after"]
        assert example["gold"] == labels[row]
    assert result.metrics == {
        "accuracy": pytest.approx(accuracy_score(labels, before), abs=1e-12),
        "f1_macro": pytest.approx(f1_score(labels, before, average="macro"), abs=1e-12),
    }


def test_typos_figures_agree_with_a_direct_computation(sst2: Any, text_model: Pipeline) -> None:
    _, _, texts, labels = sst2
    typos = Typos(rate=0.1)
    result = counterfactual_evaluation(text_model.predict, texts, [typos], labels=labels, seed=3)
    perturbed = Typos(rate=0.1).perturb(texts, _rng_of(3, "typos:0.1"))
    changed = np.array([a != b for a, b in zip(texts, perturbed, strict=True)])
    before, after = text_model.predict(texts)[changed], text_model.predict(perturbed)[changed]
    gold = np.asarray(labels)[changed]
    outcome = result.outcome("typos:0.1")
    assert outcome.n == changed.sum() == len(texts)  # every text has a letter to misspell
    assert outcome.n_flipped == int((before != after).sum()) > 0
    assert outcome.metrics is not None
    f1 = outcome.metrics["f1_macro"]
    assert f1["before"] == pytest.approx(f1_score(gold, before, average="macro"), abs=1e-12)
    assert f1["after"] == pytest.approx(f1_score(gold, after, average="macro"), abs=1e-12)
    for example in outcome.examples:
        assert example["perturbed"] == perturbed[example["row"]]


def test_runs_are_reproducible_and_independent_of_order(sst2: Any, text_model: Pipeline) -> None:
    _, _, texts, labels = sst2
    perturbations = [Typos(0.05), Punctuation("add"), EntitySwap(case_sensitive=False)]
    first = counterfactual_evaluation(text_model.predict, texts, perturbations, labels=labels)
    again = counterfactual_evaluation(text_model.predict, texts, perturbations, labels=labels)
    reordered = counterfactual_evaluation(
        text_model.predict, texts, perturbations[::-1], labels=labels
    )
    assert first.to_json() == again.to_json()
    assert {o.name: o.to_dict() for o in first.perturbations} == {
        o.name: o.to_dict() for o in reordered.perturbations
    }
    other_seed = Typos(0.05).perturb(texts, _rng_of(1, "typos:0.05"))
    assert other_seed != Typos(0.05).perturb(texts, _rng_of(0, "typos:0.05"))


def test_rows_without_an_entity_are_not_applicable(sst2: Any, text_model: Pipeline) -> None:
    _, _, texts, labels = sst2
    result = counterfactual_evaluation(
        text_model.predict, texts, [EntitySwap(case_sensitive=False)], labels=labels
    )
    names = [n.lower() for kind in DEFAULT_ENTITIES.values() for n in kind]
    pattern = re.compile(r"(?<!\w)(?:" + "|".join(map(re.escape, names)) + r")(?!\w)")
    with_entity = sum(bool(pattern.search(t)) for t in texts)
    outcome = result.outcome("entity-swap")
    assert 0 < outcome.n == with_entity < len(texts)
    assert outcome.n_not_applicable == len(texts) - with_entity
    assert outcome.flip_rate == (outcome.n_flipped / outcome.n)  # not over all rows


def test_entity_swap_with_user_names_and_ner_spans() -> None:
    rng = np.random.default_rng(0)
    swap = EntitySwap({"PER": ["Alice", "Bob", "Carol"]})
    out = swap.perturb(["Alice and Alice", "nobody here", "Bob, Carol"], rng)
    assert out[0].split(" and ")[0] == out[0].split(" and ")[1] != "Alice"
    assert out[1] == "nobody here"
    assert "Bob" not in out[2].split(", ")[0] and "Carol" not in out[2].split(", ")[1]
    spans = [[(0, 5, "PER"), (15, 20, "LOC")], [], [(0, 4, "MISC")]]
    texts = ["Alice lives in Paris", "no spans", "Nato"]
    by_span = EntitySwap({"PER": ["Alice", "Bob"], "LOC": ["Paris", "Rome"]}, spans=spans)
    assert by_span.perturb(texts, rng) == ["Bob lives in Rome", "no spans", "Nato"]
    result = counterfactual_evaluation(lambda b: [len(t) for t in b], texts, [by_span])
    assert (result.perturbations[0].n, result.perturbations[0].n_not_applicable) == (1, 2)


def test_punctuation_and_typos_details() -> None:
    rng = np.random.default_rng(0)
    assert Punctuation("strip").perturb(["no marks here", "wow !"], rng) == [
        "no marks here",
        "wow",
    ]
    added = Punctuation("add", marks="!").perturb(["a b c", "---"], rng)
    assert added[0].count("!") == 1 and added[0].replace("!", "") == "a b c"
    assert added[1] == "---"  # no word: not applicable
    texts = ["abcdefghij" * 3, "12 34", ""]
    misspelt = Typos(rate=0.01).perturb(texts, rng)
    assert misspelt[0] != texts[0]  # at least one typo in a text with letters
    assert misspelt[1:] == ["12 34", ""]
    only_deletes = Typos(rate=0.3, operations=("delete",)).perturb(["abcdefghij"], rng)[0]
    assert len(only_deletes) < 10 and "".join(sorted(only_deletes)) == only_deletes  # in order
    assert set(only_deletes) < set("abcdefghij")


# ---------------------------------------------------------------------------------------------
# tabular


def test_adult_numeric_and_categorical_perturbations(adult: Any) -> None:
    columns, target, predict = adult
    perturbations = [
        Shift(1.0, columns=["age"]),
        Shift({"hours-per-week": -10.0}, unit="absolute"),
        Scale(2.0, columns=["capital-gain"]),
        CategorySwap(columns=["sex"]),
        CategorySwap(),
    ]
    result = counterfactual_evaluation(predict, columns, perturbations, labels=target, seed=0)
    assert result.kind == "tabular" and result.n == len(target)
    age = result.outcome("shift:+1 std[age]")
    assert age.n == len(target) and age.flip_rate is not None
    std = float(np.std(columns["age"]))
    for example in age.examples:
        assert example["perturbed"]["age"] - example["original"]["age"] == pytest.approx(std)
    gain = result.outcome("scale:x2[capital-gain]")
    assert gain.n_not_applicable == int((columns["capital-gain"] == 0).sum()) > 0
    sex = result.outcome("category-swap[sex]")
    assert sex.n == len(target) and sex.n_flipped > 0
    for example in sex.examples:
        assert {example["original"]["sex"], example["perturbed"]["sex"]} == {"Male", "Female"}
    everything = result.outcome("category-swap")
    assert everything.n == len(target)
    assert set(everything.examples[0]["original"]) <= set(ADULT_CATEGORICAL)
    hours = result.outcome("shift:hours-per-week-10")
    assert hours.metrics is not None and set(hours.metrics) == {"accuracy", "f1_macro"}
    json.loads(result.to_json())


def test_regression_mean_change_is_analytic_for_a_linear_model() -> None:
    data = load_diabetes()
    names = list(data.feature_names)
    model = LinearRegression().fit(data.data, data.target)
    bmi = names.index("bmi")
    result = counterfactual_evaluation(
        model.predict,
        data.data,
        [Shift(0.5, columns=["bmi"]), Shift(0.5, columns=["bmi"], label="big moves")],
        labels=data.target,
        task="regression",
        feature_names=names,
        tolerance=0.0,
    )
    shift = result.outcome("shift:+0.5 std[bmi]")
    expected = abs(model.coef_[bmi]) * 0.5 * data.data[:, bmi].std()
    assert shift.mean_abs_change == pytest.approx(expected, rel=1e-9)
    assert shift.flip_rate == 1.0
    shifted = data.data.copy()
    shifted[:, bmi] += 0.5 * data.data[:, bmi].std()
    assert shift.metrics is not None
    mae = shift.metrics["mae"]
    assert mae["before"] == pytest.approx(
        mean_absolute_error(data.target, model.predict(data.data)), abs=1e-9
    )
    assert mae["after"] == pytest.approx(
        mean_absolute_error(data.target, model.predict(shifted)), abs=1e-9
    )
    tolerant = counterfactual_evaluation(
        model.predict,
        data.data,
        [Shift(0.5, columns=["bmi"])],
        task="regression",
        feature_names=names,
        tolerance=expected * 1.01,
    )
    assert tolerant.perturbations[0].n_flipped == 0 and tolerant.metrics is None


def test_no_applicable_row_gives_nulls_in_strict_json() -> None:
    result = counterfactual_evaluation(
        lambda rows: rows[:, 0] > 0, np.zeros((4, 2)), [Scale(3.0)], labels=[0, 0, 1, 1]
    )
    outcome = result.perturbations[0]
    assert (outcome.n, outcome.n_not_applicable, outcome.flip_rate) == (0, 4, None)
    body = json.loads(json.dumps(result.to_dict(), allow_nan=False))
    assert body["perturbations"][0]["metrics"] is None
    assert body["notes"] == ["'scale:x3' changed no row: every row is not applicable"]


# ---------------------------------------------------------------------------------------------
# bad input


def _texts() -> list[str]:
    return ["Good film .", "bad film", "John was fine"]


def _fails_on_upper(batch: list[str]) -> list[str]:
    if any(t.isupper() for t in batch):
        raise RuntimeError("model cannot read capitals")
    return ["pos"] * len(batch)


@pytest.mark.parametrize(
    ("predict", "message"),
    [
        (_fails_on_upper, r"predict raised RuntimeError on perturbation 'case:upper'"),
        (lambda b: ["pos"] * min(len(b), 2), r"returned 2 predictions for 3 rows on the original"),
        (lambda b: [np.nan if t.isupper() else 1.0 for t in b], r"NaN .* perturbation 'case"),
        (lambda b: [[0.3, 0.7]] * len(b), r"shape \(3, 2\).*not predict_proba"),
    ],
)
def test_bad_predict_functions_are_named_with_the_fix(predict: Any, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as caught:
        counterfactual_evaluation(predict, _texts(), [Case("upper")])
    assert isinstance(caught.value, TelltaleError)


class _RenamingPerturbation:
    """A user-written tabular perturbation with a bug: it returns a column that does not exist."""

    name = "renaming"
    kind = "tabular"

    def perturb(self, inputs: Any, rng: np.random.Generator) -> dict[str, np.ndarray]:
        return {"b": np.asarray(inputs["a"]) + 1}


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: Typos(rate=0), ConfigError, "rate must be in"),
        (lambda: Case("shout"), ConfigError, "Case mode must be one of"),
        (lambda: EntitySwap({"PER": ["Solo"]}), ConfigError, "at least two distinct names"),
        (lambda: Shift(float("nan")), ConfigError, "finite number"),
        (lambda: Shift({"a": 1.0}, columns=["a"]), ConfigError, "either as the keys"),
        (
            lambda: counterfactual_evaluation(len, _texts(), [Shift(1.0)]),
            ConfigError,
            "changes tabular inputs but the inputs are text",
        ),
        (
            lambda: counterfactual_evaluation(len, {"a": [1, 2]}, [Typos()]),
            ConfigError,
            "changes text inputs but the inputs are tabular",
        ),
        (
            lambda: counterfactual_evaluation(
                lambda c: c["a"], {"a": [1, 2], "s": ["x", "y"]}, [Shift(1.0, columns=["s"])]
            ),
            ConfigError,
            "column 's' is not numeric",
        ),
        (
            lambda: counterfactual_evaluation(
                lambda c: c["a"], {"a": [1, 2]}, [Shift(1.0, columns=["b"])]
            ),
            ConfigError,
            "no column 'b'",
        ),
        (
            lambda: counterfactual_evaluation(len, _texts(), [Case()], labels=[1]),
            SchemaError,
            "one label per row",
        ),
        (
            lambda: counterfactual_evaluation(len, _texts(), [Case(), Case()]),
            ConfigError,
            "names must be unique",
        ),
        (
            lambda: counterfactual_evaluation(
                lambda b: b, ["a", "b"], [EntitySwap(spans=[[(0, 1, "PER")]])]
            ),
            ConfigError,
            "spans for 1 texts but there are 2",
        ),
        (lambda: counterfactual_evaluation(len, ["a", 3], [Case()]), SchemaError, "item 1 is 3"),
        (lambda: counterfactual_evaluation(len, [], [Case()]), SchemaError, "hold no rows"),
        (
            lambda: counterfactual_evaluation(
                lambda c: c["a"], {"a": [1.0, 2.0]}, [_RenamingPerturbation()]
            ),
            ConfigError,
            "returned an unknown column 'b'",
        ),
        (lambda: counterfactual_evaluation(len, np.zeros(3), [Scale(2.0)]), SchemaError, "2-D"),
        (
            lambda: counterfactual_evaluation(lambda b: b, ["a"], [Case()], task="ranking"),
            ConfigError,
            "task must be one of",
        ),
        (
            lambda: counterfactual_evaluation(
                lambda b: ["x"] * len(b), ["A"], [Case()], task="regression"
            ),
            ConfigError,
            "non-numeric values on the original inputs",
        ),
    ],
)
def test_bad_arguments_raise_clear_errors(call: Any, error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        call()


def test_public_surface_and_docstring_examples() -> None:
    assert counterfactual.__all__ == sorted(
        counterfactual.__all__, key=lambda n: (0 if n.isupper() else 1 if n[0].isupper() else 2, n)
    )
    assert all(hasattr(counterfactual, name) for name in counterfactual.__all__)
    outcome = doctest.testmod(counterfactual, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert outcome.failed == 0 and outcome.attempted > 5
