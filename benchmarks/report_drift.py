"""Benchmark: `telltale report` end to end, as a whole process, on generated Parquet files.

Generates a reference and a current table of N rows each: 20 numeric columns (normal,
lognormal, uniform; 2% NaN in six of them) and 5 string categoricals (cardinality 3 to 50), with
drift injected in 7 columns. Then times the whole `telltale report` command (Python start,
imports, reading, profiling, drift, quality, HTML and JSON) and its peak memory, and, in the same
run for scale, a plain DuckDB query that computes binned statistics straight from the Parquet
files. Prints figures; asserts nothing.

    python benchmarks/report_drift.py --rows 1000000 --repeat 3
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

NUMERIC = 20
CATEGORICAL_CARDINALITY = (3, 7, 12, 25, 50)
NAN_COLUMNS = range(6)
DRIFTED_NUMERIC = (0, 1, 2, 4, 7)
DRIFTED_CATEGORICAL = (0, 3)


def generate(rows: int, seed: int, drift: bool) -> pa.Table:
    rng = np.random.default_rng(seed)
    columns: dict[str, pa.Array] = {}
    for i in range(NUMERIC):
        shifted = drift and i in DRIFTED_NUMERIC
        kind = i % 3
        if kind == 0:
            values = rng.normal(0.5 if shifted else 0.0, 1.0, rows)
        elif kind == 1:
            values = rng.lognormal(0.0, 1.3 if shifted else 1.0, rows)
        else:
            values = rng.uniform(0.0, 1.3 if shifted else 1.0, rows)
        if i in NAN_COLUMNS:
            values[rng.random(rows) < 0.02] = np.nan
        columns[f"num_{i}"] = pa.array(values)
    for j, cardinality in enumerate(CATEGORICAL_CARDINALITY):
        weights = np.linspace(1.0, 2.0, cardinality)
        if drift and j in DRIFTED_CATEGORICAL:
            weights[0] *= 4.0
        weights /= weights.sum()
        names = np.array([f"value_{k}" for k in range(cardinality)])
        columns[f"cat_{j}"] = pa.array(names[rng.choice(cardinality, rows, p=weights)])
    return pa.table(columns)


def ensure_files(rows: int, directory: Path) -> tuple[Path, Path]:
    directory.mkdir(parents=True, exist_ok=True)
    reference = directory / f"reference_{rows}.parquet"
    current = directory / f"current_{rows}.parquet"
    if not reference.exists():
        pq.write_table(generate(rows, 1, drift=False), reference)
    if not current.exists():
        pq.write_table(generate(rows, 2, drift=True), current)
    return reference, current


def run_process(command: list[str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of one child process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    completed = subprocess.run(command, capture_output=True, text=True)
    wall = time.perf_counter() - started
    if completed.returncode != 0:
        sys.exit(
            f"command failed ({completed.returncode}): {' '.join(command)}\n{completed.stderr}"
        )
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    # ru_maxrss of children is the max over all children so far; run each in a fresh helper.
    return wall, max(peak, before) / 1024.0


def measure(command: list[str]) -> tuple[float, float]:
    helper = [sys.executable, __file__, "--child", json.dumps(command)]
    out = subprocess.run(helper, capture_output=True, text=True, check=True).stdout
    wall, rss = out.split()
    return float(wall), float(rss)


def baseline_query(reference: Path, current: Path) -> str:
    """A plain DuckDB job for scale: per column count, mean, std, min, max, a 10-bin histogram
    of each numeric column and the frequencies of each categorical, straight from Parquet."""
    return f"""
import duckdb
con = duckdb.connect()
for path in [{str(reference)!r}, {str(current)!r}]:
    src = f"read_parquet('{{path}}')"
    cols = [r[0] for r in con.execute(f"describe select * from {{src}}").fetchall()]
    nums = [c for c in cols if c.startswith("num_")]
    cats = [c for c in cols if c.startswith("cat_")]
    fin = lambda c: f"case when isfinite({{c}}) then {{c}} end"
    stats = ", ".join(f"count({{fin(c)}}), avg({{fin(c)}}), stddev({{fin(c)}}), min({{fin(c)}}), max({{fin(c)}})" for c in nums)
    row = con.execute(f"select {{stats}} from {{src}}").fetchone()
    for i, c in enumerate(nums):
        lo, hi = row[5 * i + 3], row[5 * i + 4]
        width = (hi - lo) or 1.0
        con.execute(f"select least(floor(({{fin(c)}} - {{lo}}) / {{width}} * 10), 9) b, count(*) from {{src}} group by b").fetchall()
    for c in cats:
        con.execute(f"select {{c}}, count(*) from {{src}} group by 1").fetchall()
"""


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--data-dir", type=Path, default=Path("bench-data"))
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:
        command = json.loads(args.child)
        wall, rss = run_process(command)
        print(f"{wall} {rss}")
        return

    reference, current = ensure_files(args.rows, args.data_dir)
    telltale = str(Path(sys.executable).parent / "telltale")
    out = args.data_dir / "report.html"
    report_cmd = [
        telltale,
        "report",
        "--quiet",
        "--reference",
        str(reference),
        "--current",
        str(current),
        "--out",
        str(out),
        "--json",
        str(args.data_dir / "report.json"),
    ]
    base_cmd = [sys.executable, "-c", baseline_query(reference, current)]
    results = {}
    for name, command in (("telltale report", report_cmd), ("plain DuckDB binned stats", base_cmd)):
        runs = [measure(command) for _ in range(args.repeat)]
        walls = [w for w, _ in runs]
        rss = max(r for _, r in runs)
        results[name] = (min(walls), statistics.median(walls), max(walls), rss)
    report = json.loads((args.data_dir / "report.json").read_text())
    print(
        f"rows per side: {args.rows:,}; columns: {NUMERIC} numeric + {len(CATEGORICAL_CARDINALITY)} categorical; "
        f"cores: {os.cpu_count()}; runs: {args.repeat}"
    )
    print(f"{'job':<28} {'min s':>7} {'median s':>9} {'max s':>7} {'peak RSS MB':>12}")
    for name, (lo, med, hi, rss) in results.items():
        print(f"{name:<28} {lo:7.2f} {med:9.2f} {hi:7.2f} {rss:12.0f}")
    drifted = sorted(c for c, r in report["drift"]["columns"].items() if r["drift"])
    print(
        f"drifted columns found: {len(drifted)} ({', '.join(drifted)}); "
        f"injected: {len(DRIFTED_NUMERIC) + len(DRIFTED_CATEGORICAL)}"
    )


if __name__ == "__main__":
    main()
