"""Every task's scorers give the same metrics from per-example sums as from ``score()``.

Comparisons recompute each metric from ``example_statistics`` and ``metrics_from_sums``; this
checks, for every registered task, overall and in every bucket, that the two agree (tolerance:
float64 rounding), and that ``unit_losses`` has one loss per unit.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest

from telltale.analysis.evaluate import TASKS, evaluate
from telltale.analysis.evaluate.scoring import Intervals


def _generation(folder: Path) -> tuple[Path, dict[str, Path]]:
    sources = [f"zdroj {i} text" for i in range(30)]
    references = [f"the cat number {i} sat on the mat today" for i in range(30)]
    hyps_a = [f"the cat {i} sat on a mat" for i in range(30)]
    hyps_b = [f"a dog number {i} sat on the mat today" for i in range(30)]
    data = folder / "gen.tsv"
    data.write_text("".join(f"{s}\t{r}\n" for s, r in zip(sources, references, strict=True)))
    (folder / "a.txt").write_text("\n".join(hyps_a) + "\n")
    (folder / "b.txt").write_text("\n".join(hyps_b) + "\n")
    return data, {"a": folder / "a.txt", "b": folder / "b.txt"}


def _tabular(task: str) -> tuple[pa.Table, dict[str, str]]:
    rng = np.random.default_rng(0)
    n = 600
    x = rng.normal(size=n)
    if task == "tabular-regression":
        y = 3 * x + rng.normal(size=n)
        return pa.table(
            {"x": x, "group": rng.choice(["u", "v"], n), "y": y, "p": 3 * x, "q": 2.5 * x}
        ), {"p": "p", "q": "q"}
    y = rng.integers(0, 3, n)
    return pa.table(
        {
            "x": x,
            "y": y,
            "p": np.where(rng.random(n) < 0.7, y, rng.integers(0, 3, n)),
            "q": np.where(rng.random(n) < 0.6, y, rng.integers(0, 3, n)),
        }
    ), {"p": "p", "q": "q"}


@pytest.fixture(scope="module")
def results(outputs: Path, tmp_path_factory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("conformance")
    conll = outputs / "conll2003"
    sst2 = outputs / "sst2"
    squad = outputs / "squad"
    generation = _generation(folder)
    quiet = {"n_bootstrap": 0, "compare": False, "slices": False}
    out = {
        "ner": evaluate(
            "ner",
            conll / "conll2003-dataset.conll",
            {"elmo": conll / "conll2003-elmo-output.conll"},
            **quiet,
        ),
        "text-classification": evaluate(
            "text-classification",
            sst2 / "sst2-dataset.tsv",
            {"lstm": sst2 / "sst2-lstm-output.txt"},
            **quiet,
        ),
        "text-pair-classification": evaluate(
            "text-pair-classification",
            outputs / "absa" / "absa-dataset.tsv",
            {"m": outputs / "absa" / "absa-example-output-confidence.json"},
            **quiet,
        ),
        "extractive-qa": evaluate(
            "extractive-qa",
            squad / "squad_mini-dataset.json",
            {"s": squad / "squad_mini-example-output.json"},
            **quiet,
        ),
        "generation": evaluate("generation", generation[0], generation[1], **quiet),
    }
    for task in ("tabular-classification", "tabular-regression"):
        table, systems = _tabular(task)
        out[task] = evaluate(task, table, systems, target="y", **quiet)
    return out


def test_every_task_is_covered(results: dict[str, Any]) -> None:
    assert set(results) == set(TASKS)


@pytest.mark.parametrize("task", sorted(TASKS))
def test_sums_per_example_give_the_scored_metrics(results: dict[str, Any], task: str) -> None:
    result = results[task]
    data = result.data
    nothing = Intervals(n_bootstrap=0)
    for system in result.systems:
        groups: list[tuple[str, Any]] = [("example", None)]
        for (owner, feature), selections in result.selections.items():
            if owner == system:
                level = result.member_levels[feature]
                groups += [(level, s) for s in selections.values()]
        for level, selection in groups:
            scorer = data.scorer(system, level)
            expected = scorer.score(selection, nothing)
            statistic = scorer.example_statistics(selection)
            assert statistic.units.max(initial=0) < data.n_examples  # units are examples
            sums = np.asarray(statistic.table(data.n_examples), dtype=float).sum(axis=0)
            got = scorer.metrics_from_sums(sums[None, :])
            for metric in scorer.metrics:
                want = expected[metric]["value"]
                value = float(got[metric][0])
                if want is None:
                    assert not np.isfinite(value) or len(selection.rows) == 0, metric
                else:
                    assert value == pytest.approx(want, abs=1e-9), (task, metric)


@pytest.mark.parametrize("task", sorted(TASKS))
def test_unit_losses_cover_every_unit(results: dict[str, Any], task: str) -> None:
    result = results[task]
    for system in result.systems:
        units = result.data.unit_losses(system)
        assert units.loss.shape == units.examples.shape
        assert units.examples.max() < result.n_examples
        assert np.all(units.loss >= 0)
        if units.binary:
            assert set(np.unique(units.loss)) <= {0.0, 1.0}
