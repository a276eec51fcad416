"""Slice discovery: a planted slice is found, pure noise yields nothing, duplicates merge.

The per-slice tests are checked against scipy (one-sided Fisher exact test, Welch's t-test).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from telltale.analysis.evaluate import SliceSearch, evaluate, find_slices
from telltale.analysis.evaluate.significance import worse_than_rest_p
from telltale.errors import ConfigError

LABELS = {f"f{i}": [f"v{j}" for j in range(4)] for i in range(6)}


def _features(rng: np.random.Generator, n: int) -> dict[str, tuple[np.ndarray, list[str]]]:
    return {name: (rng.integers(0, len(labels), n), labels) for name, labels in LABELS.items()}


def test_planted_conjunction_is_found_first() -> None:
    rng = np.random.default_rng(0)
    n = 6_000
    features = _features(rng, n)
    planted = (features["f1"][0] == 2) & (features["f4"][0] == 0)  # ~1/16 of the rows
    loss = (rng.random(n) < np.where(planted, 0.45, 0.10)).astype(float)
    found = find_slices(loss, features, binary=True)
    assert found[0].conditions == [
        {"feature": "f1", "bucket": "v2"},
        {"feature": "f4", "bucket": "v0"},
    ]
    assert found[0].n == int(planted.sum())
    assert found[0].loss == pytest.approx(loss[planted].mean(), abs=1e-12)
    assert found[0].rest_loss == pytest.approx(loss[~planted].mean(), abs=1e-12)
    assert found[0].members is not None and np.array_equal(
        found[0].members, np.flatnonzero(planted)
    )
    # its exact one-sided test is Fisher's (hypergeometric upper tail)
    k, size, total = int(loss[planted].sum()), int(planted.sum()), int(loss.sum())
    table = [[k, size - k], [total - k, n - size - (total - k)]]
    fisher = stats.fisher_exact(table, alternative="greater").pvalue
    assert found[0].p_value == pytest.approx(fisher, rel=1e-9)
    # the parents alone are far weaker and overlap the planted slice: they are not listed first
    assert all(len(s.conditions) >= 1 for s in found)


def test_planted_continuous_slice_uses_welch() -> None:
    rng = np.random.default_rng(1)
    n = 4_000
    features = _features(rng, n)
    planted = (features["f0"][0] == 1) & (features["f2"][0] == 3) & (features["f5"][0] == 2)
    loss = np.abs(rng.normal(0, 1, n)) + np.where(planted, 1.5, 0.0)
    found = find_slices(loss, features, binary=False, search=SliceSearch(min_size=20))
    assert {(c["feature"], c["bucket"]) for c in found[0].conditions} == {
        ("f0", "v1"),
        ("f2", "v3"),
        ("f5", "v2"),
    }
    welch = stats.ttest_ind(loss[planted], loss[~planted], equal_var=False, alternative="greater")
    assert found[0].p_value == pytest.approx(welch.pvalue, rel=1e-6)


def test_pure_noise_finds_nothing_beyond_the_fdr_level() -> None:
    # Under the global null, Benjamini-Hochberg at 0.05 rejects anything with probability at
    # most ~0.05 per run (positively dependent one-sided tests), so 20 runs are expected to
    # give about one run with any slice; 3 or more would have probability ~0.08 at 0.05.
    runs_with_slices = 0
    for seed in range(20):
        rng = np.random.default_rng(100 + seed)
        n = 3_000
        features = _features(rng, n)
        loss = (rng.random(n) < 0.2).astype(float)
        runs_with_slices += bool(find_slices(loss, features, binary=True))
    assert runs_with_slices <= 2


def test_overlapping_slices_are_merged() -> None:
    rng = np.random.default_rng(2)
    n = 5_000
    base = rng.integers(0, 3, n)
    copy = np.where(rng.random(n) < 0.97, base, rng.integers(0, 3, n))  # nearly the same feature
    loss = (rng.random(n) < np.where(base == 1, 0.4, 0.1)).astype(float)
    found = find_slices(
        loss,
        {"original": (base, ["a", "b", "c"]), "copy": (copy, ["a", "b", "c"])},
        binary=True,
    )
    descriptions = [s.description for s in found]
    assert len(found) == 1, descriptions
    assert "original = b" in found[0].description
    assert "copy = b" in found[0].merged


def test_slices_in_a_tabular_evaluation_and_drill_down() -> None:
    rng = np.random.default_rng(3)
    n = 8_000
    region = rng.choice(["north", "south", "east", "west"], n)
    age = rng.integers(18, 90, n).astype(float)
    label = rng.integers(0, 2, n)
    error = np.where((region == "east") & (age >= 60), 0.45, 0.1)
    table = pa.table(
        {
            "region": region,
            "age": age,
            "noise": rng.normal(size=n),
            "label": label,
            "model": np.where(rng.random(n) < error, 1 - label, label),
        }
    )
    result = evaluate(
        "tabular-classification", table, {"model": "model"}, target="label", n_bootstrap=0
    )
    top = result.slices[0]
    conditions = {c["feature"]: c["bucket"] for c in top.conditions}
    assert conditions["region"] == "east" and "age" in conditions and "noise" not in conditions
    members = result.indices("model", "slices", top.description)
    assert len(members) == top.n
    rows = [result.data.describe("model", "example", int(i)) for i in members[:5]]
    assert all(row["text"]["region"] == "east" for row in rows)
    entry = result.to_dict()["slices"][0]
    assert set(entry) >= {"system", "conditions", "description", "n", "loss", "q_value", "merged"}
    assert "members" not in entry and entry["metric"]["name"] == "accuracy"


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ConfigError, match="max_conditions"):
        SliceSearch(max_conditions=4)
    with pytest.raises(ConfigError, match="alpha"):
        SliceSearch(alpha=1.5)
    with pytest.raises(ConfigError, match="codes"):
        find_slices(np.ones(3), {"f": (np.zeros(2, dtype=int), ["a"])}, binary=True)


def test_worse_than_rest_p_is_fisher_and_welch() -> None:
    rng = np.random.default_rng(7)
    n = 500
    inside = rng.random(n) < 0.2
    zero_one = (rng.random(n) < np.where(inside, 0.3, 0.15)).astype(float)
    k, size, total = int(zero_one[inside].sum()), int(inside.sum()), int(zero_one.sum())
    exact = worse_than_rest_p(
        np.array([size]), np.array([k]), np.array([k]), n, total, total, binary=True
    )[0]
    table = [[k, size - k], [total - k, n - size - (total - k)]]
    # tolerance: the same hypergeometric tail, float rounding only
    assert exact == pytest.approx(stats.fisher_exact(table, alternative="greater").pvalue, rel=1e-9)
    loss = rng.gamma(2.0, 1.0, n) + np.where(inside, 0.3, 0.0)
    welch = worse_than_rest_p(
        np.array([size]),
        np.array([loss[inside].sum()]),
        np.array([(loss[inside] ** 2).sum()]),
        n,
        float(loss.sum()),
        float((loss**2).sum()),
        binary=False,
    )[0]
    reference = stats.ttest_ind(loss[inside], loss[~inside], equal_var=False, alternative="greater")
    # tolerance: variances from sums of squares instead of two-pass; relative 1e-8
    assert welch == pytest.approx(reference.pvalue, rel=1e-8)


def test_broad_failure_is_kept_with_a_much_worse_refinement() -> None:
    # every unit of label "c" fails more (25% vs 10%), and "c" in the last colour far more (70%)
    rng = np.random.default_rng(4)
    n = 12_000
    label = rng.integers(0, 4, n)
    colour = rng.integers(0, 4, n)
    rate = np.where(label == 2, np.where(colour == 3, 0.70, 0.25), 0.10)
    loss = (rng.random(n) < rate).astype(float)
    found = find_slices(
        loss,
        {"label": (label, list("abcd")), "colour": (colour, list("wxyz"))},
        binary=True,
    )
    descriptions = [s.description for s in found]
    assert descriptions[:2] == ["label = c & colour = z", "label = c"], descriptions
    # the sibling refinements of "label = c" add nothing: they are merged into it
    assert "label = c & colour = w" in found[1].merged


def test_two_separate_failures_are_both_reported() -> None:
    rng = np.random.default_rng(5)
    n = 10_000
    features = _features(rng, n)
    first = (features["f0"][0] == 0) & (features["f1"][0] == 1)
    second = (features["f3"][0] == 2) & (features["f4"][0] == 3)
    loss = (rng.random(n) < np.where(first | second, 0.4, 0.1)).astype(float)
    found = find_slices(loss, features, binary=True)
    tops = {s.description for s in found[:2]}
    assert tops == {"f0 = v0 & f1 = v1", "f3 = v2 & f4 = v3"}, [s.description for s in found]
    for entry in found:  # every reported slice is a discovery at the FDR level
        assert entry.q_value <= 0.05 and entry.loss > entry.rest_loss


def test_no_noise_slice_rides_on_a_large_planted_one() -> None:
    # With many rows, hundreds of overlapping discoveries hold part of the planted slice; none
    # of the slices merely overlapping it may be reported (their leftovers are noise)
    rng = np.random.default_rng(6)
    n = 300_000
    features = {f"g{i}": (rng.integers(0, 5, n), [f"v{j}" for j in range(5)]) for i in range(10)}
    planted = (features["g3"][0] == 1) & (features["g7"][0] == 2)
    loss = (rng.random(n) < np.where(planted, 0.3, 0.1)).astype(float)
    found = find_slices(loss, features, binary=True)
    assert [s.description for s in found] == ["g3 = v1 & g7 = v2"]
    assert {"g3 = v1", "g7 = v2"} <= set(found[0].merged)


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    n=st.integers(200, 3_000),
    binary=st.booleans(),
    strength=st.floats(0.0, 0.4),
)
def test_reported_slices_keep_their_promises(
    seed: int, n: int, binary: bool, strength: float
) -> None:
    rng = np.random.default_rng(seed)
    labels = {f"h{i}": [f"v{j}" for j in range(int(rng.integers(2, 5)))] for i in range(4)}
    features = {
        name: (np.where(rng.random(n) < 0.05, -1, rng.integers(0, len(values), n)), values)
        for name, values in labels.items()
    }
    bad = (features["h0"][0] == 0) & (features["h1"][0] == 1)
    if binary:
        loss = (rng.random(n) < 0.15 + strength * bad).astype(float)
    else:
        loss = rng.gamma(2.0, 1.0, n) + 3 * strength * bad
    search = SliceSearch(min_size=20)
    found = find_slices(loss, features, binary=binary, search=search)
    descriptions = [s.description for s in found]
    assert len(set(descriptions)) == len(descriptions)
    for entry in found:
        assert entry.q_value <= search.alpha and entry.loss > entry.rest_loss
        mask = np.ones(n, dtype=bool)
        for condition in entry.conditions:
            codes, values = features[condition["feature"]]
            mask &= codes == values.index(condition["bucket"])
        assert entry.members is not None and np.array_equal(entry.members, np.flatnonzero(mask))
        assert entry.n == mask.sum() >= 20
        assert entry.loss == pytest.approx(loss[mask].mean(), rel=1e-9)
        assert not set(entry.merged) & set(descriptions)
    # the order of the units does not matter
    order = rng.permutation(n)
    shuffled = {name: (codes[order], values) for name, (codes, values) in features.items()}
    again = find_slices(loss[order], shuffled, binary=binary, search=search)
    assert [s.description for s in again] == descriptions
    assert [s.n for s in again] == [s.n for s in found]
