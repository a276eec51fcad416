"""Benchmark: `telltale report` on a wide table (many features, few rows), as a whole process.

Wide tables stress the per-column cost (query compilation and planning) rather than the scan.
Prints figures; asserts nothing.

    python benchmarks/report_wide.py --rows 50000 --numeric 200 --categorical 20
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq


def generate(rows: int, numeric: int, categorical: int, seed: int) -> pa.Table:
    rng = np.random.default_rng(seed)
    shift = 0.2 if seed == 2 else 0.0
    columns: dict[str, np.ndarray] = {
        f"f{i}": rng.normal(shift * (i % 2), 1.0, rows) for i in range(numeric)
    }
    for j in range(categorical):
        columns[f"c{j}"] = rng.choice(np.array(["a", "b", "c", "d"]), rows)
    return pa.table(columns)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--numeric", type=int, default=200)
    parser.add_argument("--categorical", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--data-dir", type=Path, default=Path("bench-data"))
    args = parser.parse_args()
    args.data_dir.mkdir(parents=True, exist_ok=True)
    stem = f"wide_{args.rows}x{args.numeric}x{args.categorical}"
    paths = []
    for side, seed in (("reference", 1), ("current", 2)):
        path = args.data_dir / f"{stem}_{side}.parquet"
        if not path.exists():
            pq.write_table(generate(args.rows, args.numeric, args.categorical, seed), path)
        paths.append(path)
    command = [
        str(Path(sys.executable).parent / "telltale"),
        "report",
        "-q",
        "--reference",
        str(paths[0]),
        "--current",
        str(paths[1]),
        "--json",
        str(args.data_dir / f"{stem}.json"),
        "--out",
        str(args.data_dir / f"{stem}.html"),
    ]
    walls = []
    for _ in range(args.repeat):
        started = time.perf_counter()
        subprocess.run(command, check=True)
        walls.append(time.perf_counter() - started)
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    walls.sort()
    print(
        f"rows per side: {args.rows:,}; columns: {args.numeric} numeric + {args.categorical} categorical"
    )
    print(
        f"telltale report: min {walls[0]:.2f} s, median {walls[len(walls) // 2]:.2f} s, "
        f"max {walls[-1]:.2f} s; peak RSS {peak:.0f} MB"
    )


if __name__ == "__main__":
    main()
