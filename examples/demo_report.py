"""The demo: a credit model's training data vs. a month of production, as a telltale report.

Generates both tables (no download), with problems a real deployment meets: income drifts up,
a new region appears, debt_ratio goes missing more often, and the model gets worse. Then runs
`telltale report` on them and prints where the HTML and JSON reports are.

    python examples/demo_report.py --out-dir demo-output
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

REGIONS = ["north", "south", "east", "west"]
CHANNELS = ["web", "app", "branch"]


def make_applicants(rows: int, seed: int, production: bool) -> pa.Table:
    """Loan applicants, the true default outcome, and a fixed model's prediction and score."""
    rng = np.random.default_rng(seed)
    age = rng.normal(41, 12, rows).clip(18, 90).round()
    income = rng.lognormal(10.6 + (0.25 if production else 0.0), 0.5, rows)
    debt_ratio = rng.beta(2, 5, rows)
    accounts = rng.poisson(3, rows)
    region_p = [0.3, 0.3, 0.2, 0.2]
    regions = np.array(REGIONS)[rng.choice(4, rows, p=region_p)].astype(object)
    if production:
        regions[rng.random(rows) < 0.08] = "offshore"  # a region the model never saw
    channel = np.array(CHANNELS)[rng.choice(3, rows, p=[0.5, 0.35, 0.15])]
    # The true risk: production has a relation the training data did not (concept drift).
    logit = (
        -1.2
        + 2.8 * debt_ratio
        - 0.35 * (np.log(income) - 10.6)
        - 0.02 * (age - 41)
        + 0.1 * accounts
    )
    if production:
        logit += 1.2 * (regions == "offshore") + 0.8 * (channel == "app")
    default = rng.random(rows) < 1 / (1 + np.exp(-logit))
    # The deployed model learned the training relation only.
    model_logit = (
        -1.2 + 2.6 * debt_ratio - 0.3 * (np.log(income) - 10.6) - 0.02 * (age - 41) + 0.1 * accounts
    )
    proba = 1 / (1 + np.exp(-model_logit))
    missing = rng.random(rows) < (0.12 if production else 0.01)
    debt_ratio = np.where(missing, np.nan, debt_ratio)
    return pa.table(
        {
            "age": age,
            "income": income,
            "debt_ratio": debt_ratio,
            "accounts": accounts,
            "region": pa.array(regions.tolist(), pa.string()),
            "channel": channel,
            "defaulted": default.astype(np.int64),
            "predicted": (proba >= 0.5).astype(np.int64),
            "proba": proba,
        }
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out-dir", type=Path, default=Path("demo-output"))
    parser.add_argument("--rows", type=int, default=200_000)
    args = parser.parse_args()
    args.out_dir.mkdir(parents=True, exist_ok=True)
    reference = args.out_dir / "training.parquet"
    current = args.out_dir / "production.parquet"
    pq.write_table(make_applicants(args.rows, 1, production=False), reference)
    pq.write_table(make_applicants(args.rows, 2, production=True), current)
    html, json_path = args.out_dir / "report.html", args.out_dir / "report.json"
    command = [
        str(Path(sys.executable).parent / "telltale"),
        "report",
        "--reference",
        str(reference),
        "--current",
        str(current),
        "--target",
        "defaulted",
        "--prediction",
        "predicted",
        "--score",
        "proba",
        "--title",
        "Credit model: training vs. production",
        "--out",
        str(html),
        "--json",
        str(json_path),
    ]
    print("$ telltale report --reference", reference, "--current", current, "--target defaulted \\")
    print("    --prediction predicted --score proba --out", html, "--json", json_path)
    completed = subprocess.run(command)
    if completed.returncode != 0:
        sys.exit(completed.returncode)
    print(f"\nOpen the report: file://{html.resolve()}")


if __name__ == "__main__":
    main()
