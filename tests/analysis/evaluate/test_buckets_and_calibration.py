"""Bucketing rules (ties never split, shared edges) and calibration against numpy."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from telltale.analysis.evaluate import DiscreteBuckets, FixedBuckets, QuantileBuckets, evaluate


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.integers(0, 8), min_size=1, max_size=60),
    st.integers(1, 6),
)
def test_quantile_buckets_never_split_ties_and_cover_everything(values: list[int], n: int) -> None:
    union = np.array(values, dtype=np.float64)
    fitted = QuantileBuckets(n).fit(union)
    codes = fitted.assign(union)
    assert (codes >= 0).all() and len(fitted.labels) <= n
    for value in np.unique(union):
        assert len(set(codes[union == value].tolist())) == 1  # a value never sits in two buckets
    assert (np.diff(codes[np.argsort(union, kind="stable")]) >= 0).all()  # buckets are ordered


def test_fixed_and_discrete_buckets() -> None:
    fixed = FixedBuckets([1, 6, 10]).fit(np.array([0.0, 1, 5.9, 6, 10, 11, np.nan]))
    assert fixed.labels == ["< 1", "[1, 6)", "[6, 10]", "> 10", "missing"]
    assert fixed.assign(np.array([0.0, 1, 5.9, 6, 10, 11, np.nan])).tolist() == [
        0,
        1,
        1,
        2,
        2,
        3,
        4,
    ]
    discrete = DiscreteBuckets(3).fit(np.array(["a", "b", "b", "c", "c", "c", "d"], dtype=object))
    assert discrete.labels == ["c", "b", "other"]
    assert discrete.assign(np.array(["a", "c", "d"], dtype=object)).tolist() == [2, 0, 2]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.sampled_from(["a", "b", "é", "<x>", ""]),
            st.none(),
            st.sampled_from([1.0, 2.5, float("nan")]),
            st.integers(0, 2),
            st.booleans(),
        ),
        min_size=1,
        max_size=40,
    ),
    st.integers(2, 5),
)
def test_discrete_buckets_equal_a_python_count(values: list[object], max_buckets: int) -> None:
    # the reference: count the values' category names in plain Python, most frequent first
    def name(v: object) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, float):
            return str(int(v)) if v.is_integer() else f"{v:.4g}"
        return str(v)

    def missing(v: object) -> bool:
        return v is None or (isinstance(v, float) and v != v)

    counts: dict[str, int] = {}
    for v in values:
        if not missing(v):
            counts[name(v)] = counts.get(name(v), 0) + 1
    ordered = sorted(counts, key=lambda k: (-counts[k], k))
    if len(ordered) > max_buckets:
        ordered = [*ordered[: max_buckets - 1], "other"]
    has_missing = any(missing(v) for v in values)
    expected_labels = ordered + (["missing"] if has_missing else [])
    for union in (np.array(values, dtype=object), np.array([v for v in values], dtype=object)):
        fitted = DiscreteBuckets(max_buckets).fit(union)
        assert fitted.labels == expected_labels
        codes = fitted.assign(union).tolist()
        for v, code in zip(values, codes, strict=True):
            if missing(v):
                assert expected_labels[code] == "missing"
            elif name(v) in ordered:
                assert expected_labels[code] == name(v)
            else:
                assert expected_labels[code] == "other"
    strings = np.array([v if isinstance(v, str) else None for v in values], dtype=object)
    fitted = DiscreteBuckets(max_buckets).fit(strings)  # all strings or None: the Arrow path
    assert fitted.assign(strings).tolist() == [
        fitted.labels.index("missing")
        if v is None
        else fitted.labels.index(v if v in fitted.labels else "other")
        for v in strings
    ]


def test_per_system_feature_is_bucketed_on_the_union(outputs: Path) -> None:
    folder = outputs / "ted_multi"
    result = evaluate(
        "generation",
        folder / "ted_multi_slk_eng-dataset.tsv",
        {
            "nmt": folder / "ted_multi_slk_eng-nmt-output.txt",
            "pbmt": folder / "ted_multi_slk_eng-pbmt-output.txt",
        },
        n_bootstrap=0,
        features=["hypothesis_length"],
    )
    lengths = {
        name: np.array(
            [
                len(line.split())
                for line in (folder / f"ted_multi_slk_eng-{name}-output.txt")
                .read_text(encoding="utf-8")
                .rstrip("\n")
                .split("\n")
            ],
            dtype=float,
        )
        for name in ("nmt", "pbmt")
    }
    expected = QuantileBuckets(4).fit(np.concatenate([lengths["nmt"], lengths["pbmt"]]))
    assert result.features["hypothesis_length"]["buckets"] == expected.labels
    for name in ("nmt", "pbmt"):
        rows = result.to_dict()["systems"][name]["buckets"]["hypothesis_length"]
        assert [r["bucket"] for r in rows] == expected.labels
        assert [r["n"] for r in rows] == np.bincount(
            expected.assign(lengths[name]), minlength=4
        ).tolist()


def _numpy_ece(confidence: np.ndarray, correct: np.ndarray, bins: int) -> tuple[float, float]:
    """ECE/MCE written out directly: equal-width bins, |accuracy - mean confidence| per bin."""
    ece, mce = 0.0, 0.0
    for b in range(bins):
        low, high = b / bins, (b + 1) / bins
        inside = (confidence >= low) & (
            (confidence < high) if b < bins - 1 else (confidence <= high)
        )
        if inside.any():
            gap = abs(correct[inside].mean() - confidence[inside].mean())
            ece += inside.mean() * gap
            mce = max(mce, gap)
    return ece, mce


@pytest.mark.parametrize(
    "output",
    ["absa-example-output-confidence.json", "absa-example-output-custom-calibration-analysis.json"],
)
@pytest.mark.parametrize("bins", [5, 10])
def test_calibration_matches_numpy(outputs: Path, output: str, bins: int) -> None:
    folder = outputs / "absa"
    result = evaluate(
        "text-pair",
        folder / "absa-dataset.tsv",
        {"s": folder / output},
        n_bootstrap=200,
        calibration_bins=bins,
    )
    records = json.loads((folder / output).read_text())["examples"]
    confidence = np.array([r.get("confidence", r.get("probability")) for r in records])
    gold = [
        line.split("\t")[2].strip()
        for line in (folder / "absa-dataset.tsv").read_text(encoding="utf-8").splitlines()
    ]
    correct = np.array(
        [r["predicted_label"] == g for r, g in zip(records, gold, strict=True)], dtype=float
    )
    ece, mce = _numpy_ece(confidence, correct, bins)
    table = result.to_dict()["systems"]["s"]["calibration"]
    assert table["ece"]["value"] == pytest.approx(ece, abs=1e-12)
    assert table["mce"]["value"] == pytest.approx(mce, abs=1e-12)
    assert sum(b["n"] for b in table["bins"]) == 100
    top = table["bins"][-1]["bin"]
    drilled = result.examples("s", "calibration", top)
    assert len(drilled) == table["bins"][-1]["n"]
    assert all(e["confidence"] >= 1 - 1 / bins for e in drilled)
