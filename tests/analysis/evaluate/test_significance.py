"""Paired tests, intervals, effect sizes and Benjamini–Hochberg against independent references.

References: a hand-computed Benjamini–Hochberg example and ``scipy.stats.
false_discovery_control``; ``scipy.stats.permutation_test`` (paired samples) for the swap test
of accuracy; ``scipy.stats.bootstrap`` (paired, percentile) for the interval of the
difference; a loop over seqeval with the very same swaps for approximate randomisation of span
F1 (overall and per entity type); Cohen's d_z for the effect size.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from scipy import stats
from seqeval.metrics import f1_score

from telltale.analysis.evaluate import benjamini_hochberg, evaluate
from telltale.analysis.evaluate.paired import PairedDraws, PairedTerms, swap_masks
from telltale.analysis.evaluate.readers import read_conll
from telltale.analysis.evaluate.significance import monte_carlo_p_value, standardized_effect


def test_benjamini_hochberg_by_hand() -> None:
    # m = 5; sorted p 0.001 0.008 0.039 0.041 0.2 -> p*m/rank 0.005 0.02 0.065 0.05125 0.2
    # -> running minimum from the top: 0.005 0.02 0.05125 0.05125 0.2
    p = [0.039, 0.001, 0.2, 0.041, 0.008, None]
    q = benjamini_hochberg(p)
    expected = [0.05125, 0.005, 0.2, 0.05125, 0.02, None]
    assert q[5] is None
    for got, want in zip(q[:5], expected[:5], strict=True):
        assert got == pytest.approx(want, abs=1e-15)


def test_benjamini_hochberg_equals_scipy() -> None:
    rng = np.random.default_rng(3)
    for size in (1, 2, 7, 50, 400):
        p = np.concatenate([rng.uniform(size=size), rng.uniform(0, 1e-3, size=size // 3)])
        p[: size // 5] = p[size // 5]  # ties
        ours = np.array(benjamini_hochberg(list(p)))
        # tolerance: float64 rounding of the same products
        np.testing.assert_allclose(ours, stats.false_discovery_control(p, method="bh"), atol=1e-14)


def test_monte_carlo_p_value_counts_ties_and_skips_undefined() -> None:
    null = np.array([1.0, -1.0, 0.5, np.nan, 2.0])
    assert monte_carlo_p_value(1.0, null) == (3 + 1) / (4 + 1)
    assert monte_carlo_p_value(0.0, null) == 1.0
    assert monte_carlo_p_value(float("nan"), null) is None
    assert monte_carlo_p_value(1.0, np.array([np.nan])) is None


def _two_systems(n: int, seed: int, accuracy: tuple[float, float]) -> tuple[pa.Table, dict]:
    rng = np.random.default_rng(seed)
    gold = rng.integers(0, 2, n)
    right_a = rng.random(n) < accuracy[0]
    right_b = rng.random(n) < accuracy[1]
    table = pa.table(
        {
            "label": gold,
            "a": np.where(right_a, gold, 1 - gold),
            "b": np.where(right_b, gold, 1 - gold),
            "group": rng.choice(["x", "y"], n),
        }
    )
    return table, {"a": right_a.astype(float), "b": right_b.astype(float)}


@pytest.fixture(scope="module")
def accuracy_pair() -> tuple[dict, dict]:
    table, correct = _two_systems(400, 12, (0.80, 0.74))
    result = evaluate(
        "tabular-classification",
        table,
        {"a": "a", "b": "b"},
        target="label",
        n_bootstrap=4000,
        n_permutations=20000,
        seed=5,
        slices=False,
    )
    return result.to_dict(), correct


def test_swap_test_of_accuracy_equals_scipy_permutation_test(accuracy_pair) -> None:
    data, correct = accuracy_pair
    entry = data["comparisons"][0]["overall"]["accuracy"]
    assert entry["test"] == "paired permutation (sign flips)"
    reference = stats.permutation_test(
        (correct["b"], correct["a"]),
        lambda x, y, axis: np.abs(np.mean(x, axis=axis) - np.mean(y, axis=axis)),
        permutation_type="samples",
        alternative="greater",
        n_resamples=20000,
        random_state=0,
    )
    # both are Monte Carlo estimates from 20,000 swaps: SE of each <= sqrt(p(1-p)/20000)
    # ~0.0015 at p ~ 0.05, so the two differ by less than 5 combined SEs
    se = math.sqrt(2 * reference.pvalue * (1 - reference.pvalue) / 20000)
    assert 0.005 < reference.pvalue < 0.2  # a p-value where the check means something
    assert entry["p_value"] == pytest.approx(reference.pvalue, abs=5 * se)
    assert entry["difference"] == pytest.approx(
        correct["b"].mean() - correct["a"].mean(), abs=1e-12
    )


def test_interval_of_the_difference_equals_scipy_paired_bootstrap(accuracy_pair) -> None:
    data, correct = accuracy_pair
    entry = data["comparisons"][0]["overall"]["accuracy"]
    reference = stats.bootstrap(
        (correct["b"], correct["a"]),
        lambda x, y, axis: np.mean(x, axis=axis) - np.mean(y, axis=axis),
        paired=True,
        method="percentile",
        n_resamples=4000,
        random_state=0,
    ).confidence_interval
    # tolerance: Monte Carlo error of a 2.5% percentile from 4,000 resamples of a spread of
    # sd ~0.029: about 0.0013 each; 0.005 is ~3 combined SEs
    assert entry["ci"][0] == pytest.approx(reference.low, abs=0.005)
    assert entry["ci"][1] == pytest.approx(reference.high, abs=0.005)


def test_effect_size_is_cohens_dz_for_accuracy(accuracy_pair) -> None:
    data, correct = accuracy_pair
    entry = data["comparisons"][0]["overall"]["accuracy"]
    differences = correct["b"] - correct["a"]
    dz = differences.mean() / differences.std(ddof=1)
    # tolerance: the bootstrap SE from 4,000 resamples has ~1.1% relative error; 5% is loose
    assert entry["effect_size"] == pytest.approx(dz, rel=0.05)
    assert standardized_effect(1.0, np.array([1.0, 1.0]), 10) is None


@pytest.fixture(scope="module")
def small_ner(outputs: Path, tmp_path_factory) -> dict[str, Path]:
    """The first 80 sentences of CoNLL-2003, gold and both systems, as small files."""
    folder = outputs / "conll2003"
    out = tmp_path_factory.mktemp("ner")
    paths = {}
    for name, file in (
        ("gold", "conll2003-dataset.conll"),
        ("elmo", "conll2003-elmo-output.conll"),
        ("flair", "conll2003-flair-output.conll"),
    ):
        sentences = read_conll(folder / file).sentences[:80]
        text = "\n\n".join(
            "\n".join(f"{t}\t{g}" for t, g in zip(s.tokens, s.tags, strict=True)) for s in sentences
        )
        paths[name] = out / f"{name}.conll"
        paths[name].write_text(text + "\n", encoding="utf-8")
    return paths


def test_approximate_randomisation_of_span_f1_equals_a_seqeval_loop(small_ner) -> None:
    n_permutations, seed = 300, 4
    result = evaluate(
        "ner",
        small_ner["gold"],
        {"elmo": small_ner["elmo"], "flair": small_ner["flair"]},
        n_bootstrap=0,
        n_permutations=n_permutations,
        seed=seed,
        slices=False,
    )
    comparison = result.to_dict()["comparisons"][0]
    gold = [s.tags for s in read_conll(small_ner["gold"]).sentences]
    a = [s.tags for s in read_conll(small_ner["elmo"]).sentences]
    b = [s.tags for s in read_conll(small_ner["flair"]).sentences]
    # the reference swaps whole sentences' tag sequences with the same masks, then asks seqeval
    masks = swap_masks(len(gold), n_permutations, seed)
    observed = f1_score(gold, b) - f1_score(gold, a)
    observed_loc = f1_score(gold, b, average=None)[0] - f1_score(gold, a, average=None)[0]
    null, null_loc = [], []
    for mask in masks:
        a_star = [bi if m else ai for ai, bi, m in zip(a, b, mask, strict=True)]
        b_star = [ai if m else bi for ai, bi, m in zip(a, b, mask, strict=True)]
        null.append(f1_score(gold, b_star) - f1_score(gold, a_star))
        per_type_b = f1_score(gold, b_star, average=None)
        per_type_a = f1_score(gold, a_star, average=None)
        null_loc.append(per_type_b[0] - per_type_a[0])  # seqeval orders types: LOC first
    f1 = comparison["overall"]["f1"]
    assert f1["test"] == "approximate randomization"
    assert f1["difference"] == pytest.approx(observed, abs=1e-12)
    expected = (np.sum(np.abs(null) >= abs(observed) * (1 - 1e-13)) + 1) / (n_permutations + 1)
    assert f1["p_value"] == pytest.approx(expected, abs=1e-12)  # same swaps: exact
    loc = next(r for r in comparison["buckets"]["span_label"] if r["bucket"] == "LOC")
    assert loc["difference"] == pytest.approx(observed_loc, abs=1e-12)
    expected_loc = (np.sum(np.abs(null_loc) >= abs(observed_loc) * (1 - 1e-13)) + 1) / (
        n_permutations + 1
    )
    assert loc["p_value"] == pytest.approx(expected_loc, abs=1e-12)


def test_comparison_reuses_the_resamples_of_the_per_system_intervals(small_ner) -> None:
    result = evaluate(
        "ner",
        small_ner["gold"],
        {"elmo": small_ner["elmo"], "flair": small_ner["flair"]},
        n_bootstrap=300,
        n_permutations=0,
        seed=9,
        slices=False,
        features=["sentence_length"],
    )
    assert result.data is not None
    draws = PairedDraws(result.n_examples, 300, 0, 9)
    terms = PairedTerms(draws)
    for system in ("elmo", "flair"):
        scorer = result.data.scorer(system, "example")
        terms.add((system, "all"), scorer.example_statistics(None), scorer.metrics_from_sums)
    replicates = terms.bootstrap()
    for system in ("elmo", "flair"):
        values = replicates[(system, "all")]["f1"]
        interval = np.quantile(values, [0.025, 0.975]).tolist()
        # the same seed and examples give the same resamples: identical intervals
        assert interval == pytest.approx(
            result.to_dict()["systems"][system]["overall"]["f1"]["ci"], abs=1e-12
        )
    entry = result.to_dict()["comparisons"][0]["overall"]["f1"]
    difference = replicates[("flair", "all")]["f1"] - replicates[("elmo", "all")]["f1"]
    assert entry["ci"] == pytest.approx(np.quantile(difference, [0.025, 0.975]).tolist())
    assert entry["p_value"] is None  # n_permutations=0


def test_q_values_are_benjamini_hochberg_of_the_bucket_tests(accuracy_pair) -> None:
    data, _ = accuracy_pair
    rows = [row for rows in data["comparisons"][0]["buckets"].values() for row in rows]
    expected = benjamini_hochberg([row["p_value"] for row in rows])
    assert [row["q_value"] for row in rows] == pytest.approx(expected)
    assert all(row["significant"] == (row["q_value"] <= 0.05) for row in rows)


def test_bucket_interval_equals_scipy_bootstrap_of_the_examples(accuracy_pair) -> None:
    # bucket intervals resample *examples* (shared by all buckets and systems): the bucket's
    # accuracy on a resample is sum(correct & in bucket) / sum(in bucket) over drawn rows
    data, correct = accuracy_pair
    table, _ = _two_systems(400, 12, (0.80, 0.74))
    in_x = (np.asarray(table["group"]) == "x").astype(float)
    row = next(r for r in data["systems"]["a"]["buckets"]["group"] if r["bucket"] == "x")
    assert row["accuracy"] == pytest.approx((correct["a"] * in_x).sum() / in_x.sum(), abs=1e-12)
    reference = stats.bootstrap(
        (correct["a"], in_x),
        lambda right, inside, axis: (right * inside).sum(axis=axis) / inside.sum(axis=axis),
        paired=True,
        vectorized=True,
        method="percentile",
        n_resamples=4000,
        random_state=0,
    ).confidence_interval
    # tolerance: Monte Carlo error of a 2.5% quantile from 4,000 resamples of a spread of sd
    # ~0.028 is ~0.0012 per side for each of the two bootstraps; 0.006 is ~3.5 combined SEs
    assert row["ci"][0] == pytest.approx(reference.low, abs=0.006)
    assert row["ci"][1] == pytest.approx(reference.high, abs=0.006)
    assert "shared by every bucket and system" in data["settings"]["bucket_ci"]


def test_t_interval_of_a_bucket_is_scipy_t_interval() -> None:
    table, correct = _two_systems(400, 12, (0.80, 0.74))
    result = evaluate(
        "tabular-classification",
        table,
        {"a": "a", "b": "b"},
        target="label",
        ci="t",
        n_bootstrap=50,
        n_permutations=50,
        slices=False,
    ).to_dict()
    in_y = np.asarray(table["group"]) == "y"
    row = next(r for r in result["systems"]["b"]["buckets"]["group"] if r["bucket"] == "y")
    scores = correct["b"][in_y]
    low, high = stats.t.interval(0.95, len(scores) - 1, loc=scores.mean(), scale=stats.sem(scores))
    # tolerance: the same formula, float rounding only
    assert row["ci"] == pytest.approx([low, high], abs=1e-12)
    assert "bucket_ci" not in result["settings"]
