"""Benchmark of the evaluation workbench: prints timings, asserts nothing.

1. Full NER analysis of both CoNLL-2003 systems (elmo, flair): every feature, 1,000 bootstrap
   resamples (overall, per type and per bucket), confusion tables.
2. A sliced tabular classification of generated data (default 1,000,000 rows, two systems,
   three feature columns), 1,000 resamples.

    .venv/bin/python benchmarks/evaluate_ner.py [--rows 1000000]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

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


def ner() -> None:
    start = time.perf_counter()
    result = evaluate(
        task="ner",
        data=DATA / "conll2003-dataset.conll",
        systems={
            "elmo": DATA / "conll2003-elmo-output.conll",
            "flair": DATA / "conll2003-flair-output.conll",
        },
        n_bootstrap=1000,
        seed=0,
    )
    elapsed = time.perf_counter() - start
    data = result.to_dict()
    buckets = sum(len(rows) for rows in data["systems"]["elmo"]["buckets"].values())
    print(
        f"NER, 2 systems, 3,453 sentences, {len(data['features'])} features ({buckets} buckets per system), 1,000 resamples: {elapsed:.2f} s"
    )
    for name, system in data["systems"].items():
        f1 = system["overall"]["f1"]
        print(f"  {name}: F1 {f1['value']:.4f} [{f1['ci'][0]:.4f}, {f1['ci'][1]:.4f}]")


def tabular(rows: int) -> None:
    rng = np.random.default_rng(0)
    label = rng.integers(0, 2, rows)
    table = pa.table(
        {
            "region": rng.choice(["north", "south", "east", "west", "central"], rows),
            "age": rng.integers(18, 90, rows).astype(np.float64),
            "income": rng.lognormal(10, 1, rows),
            "label": label,
            "model_a": np.where(rng.random(rows) < 0.85, label, 1 - label),
            "model_b": np.where(rng.random(rows) < 0.80, label, 1 - label),
        }
    )
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "scored.parquet"
        pq.write_table(table, path)
        start = time.perf_counter()
        result = evaluate(
            "tabular-classification",
            path,
            {"a": "model_a", "b": "model_b"},
            target="label",
            n_bootstrap=1000,
            seed=0,
        )
        elapsed = time.perf_counter() - start
    buckets = sum(len(r) for r in result.to_dict()["systems"]["a"]["buckets"].values())
    print(
        f"tabular classification, {rows:,} rows, 2 systems, 3 features ({buckets} buckets per system), 1,000 resamples: {elapsed:.2f} s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    ner()
    tabular(args.rows)


if __name__ == "__main__":
    main()
