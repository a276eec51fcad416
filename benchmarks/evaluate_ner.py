"""Benchmark of the evaluation workbench: prints timings against the issue's budgets.

1. The issue's full NER analysis of both CoNLL-2003 systems (elmo, flair): reading and
   aligning the files, every feature (7, on shared edges), 1,000 bootstrap resamples (overall,
   per type, per bucket), confusion tables, the paired comparison (1,000 resamples and 1,000
   swaps, Benjamini–Hochberg over every bucket and every pair of buckets) and the slice search
   of both systems.
   Budget: 10 s.
2. A sliced tabular classification of generated data (default 1,000,000 rows in Parquet, two
   systems, three feature columns, one planted bad slice): the same pipeline. Budget: 10 s.

Each is run ``--repeat`` times; the median and the fastest run are printed (the machine is
shared, so the median is the figure to quote). Nothing is asserted.

    .venv/bin/python benchmarks/evaluate_ner.py [--rows 1000000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from telltale.analysis.evaluate import evaluate

DATA = (
    Path(__file__).resolve().parents[2]
    / "shared"
    / "datasets"
    / "explainaboard"
    / "data"
    / "system_outputs"
    / "conll2003"
)
BUDGET_S = 10.0


def _timed(run: Callable[[], Any], repeat: int) -> tuple[Any, list[float]]:
    times = []
    result = None
    for _ in range(repeat):
        start = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - start)
    return result, times


def _figure(name: str, times: list[float]) -> None:
    median = statistics.median(times)
    verdict = "within" if median <= BUDGET_S else "OVER"
    print(
        f"{name}: median {median:.2f} s, fastest {min(times):.2f} s over {len(times)} runs "
        f"({verdict} the {BUDGET_S:.0f} s budget)"
    )


def ner(repeat: int) -> None:
    def run() -> Any:
        return evaluate(
            task="ner",
            data=DATA / "conll2003-dataset.conll",
            systems={
                "elmo": DATA / "conll2003-elmo-output.conll",
                "flair": DATA / "conll2003-flair-output.conll",
            },
            n_bootstrap=1000,
            n_permutations=1000,
            seed=0,
        )

    result, times = _timed(run, repeat)
    data = result.to_dict()
    buckets = sum(len(rows) for rows in data["systems"]["elmo"]["buckets"].values())
    tests = sum(len(rows) for rows in data["comparisons"][0]["buckets"].values())
    pairs = len(data["comparisons"][0]["conjunctions"])
    _figure(
        f"NER, 2 systems, 3,453 sentences, {len(data['features'])} features "
        f"({buckets} buckets per system), 1,000 resamples, comparison ({tests} bucket tests, "
        f"{pairs} pairs of buckets), slice search ({len(data['slices'])} slices)",
        times,
    )
    for name, system in data["systems"].items():
        f1 = system["overall"]["f1"]
        print(f"  {name}: F1 {f1['value']:.4f} [{f1['ci'][0]:.4f}, {f1['ci'][1]:.4f}]")
    print(f"  {data['findings'][0]}")


def tabular(rows: int, repeat: int) -> None:
    rng = np.random.default_rng(0)
    label = rng.integers(0, 2, rows)
    region = rng.choice(["north", "south", "east", "west", "central"], rows)
    age = rng.integers(18, 90, rows).astype(np.float64)
    worse = (region == "east") & (age >= 70)  # a planted slice where model_a fails more
    table = pa.table(
        {
            "region": region,
            "age": age,
            "income": rng.lognormal(10, 1, rows),
            "label": label,
            "model_a": np.where(rng.random(rows) < np.where(worse, 0.6, 0.85), label, 1 - label),
            "model_b": np.where(rng.random(rows) < 0.80, label, 1 - label),
        }
    )
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "scored.parquet"
        pq.write_table(table, path)

        def run() -> Any:
            return evaluate(
                "tabular-classification",
                path,
                {"a": "model_a", "b": "model_b"},
                target="label",
                n_bootstrap=1000,
                n_permutations=1000,
                seed=0,
            )

        result, times = _timed(run, repeat)
    data = result.to_dict()
    buckets = sum(len(r) for r in data["systems"]["a"]["buckets"].values())
    _figure(
        f"tabular classification, {rows:,} rows (Parquet), 2 systems, 3 features "
        f"({buckets} buckets per system), 1,000 resamples, comparison, slice search "
        f"({len(data['slices'])} slices)",
        times,
    )
    top = next(s for s in data["slices"] if s["system"] == "a")
    print(f"  a's worst slice: {top['description']} ({top['n']:,} rows, error {top['loss']:.3f})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    ner(args.repeat)
    tabular(args.rows, args.repeat)


if __name__ == "__main__":
    main()
