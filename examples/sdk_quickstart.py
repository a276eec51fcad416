"""Record a model's predictions with telltale.sdk, without a server: Parquet files in a folder.

    .venv/bin/python examples/sdk_quickstart.py [--out sdk-events]

Tracks a toy fraud model (sync, async and batch calls, one of which returns nonsense), sends a
label for one prediction, flushes, and prints the monitor's counters and the files it wrote. The
same code talks to a server by passing ``endpoint=`` and ``api_key=`` instead of ``directory=``.
"""

from __future__ import annotations

import argparse
import asyncio
import math
from pathlib import Path
from typing import Any

from telltale.sdk import Monitor, checks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="sdk-events", help="folder for the Parquet files")
    out = Path(parser.parse_args().out)

    monitor = Monitor(
        model="fraud",
        version="1.4.0",
        directory=out,
        segment={"region": "eu"},
        redact={"email": "hash"},
        redact_salt="change-me",
    )

    @monitor.track(validate=[checks.finite(), checks.in_range(0, 1)])
    def predict(features: dict[str, Any]) -> float:
        if features["amount"] < 0:
            return math.nan  # a silent failure: answered, but nonsense
        return min(1.0, features["amount"] / 1000)

    @monitor.track(validate=[checks.min_confidence(0.6)])
    async def predict_async(features: dict[str, Any]) -> dict[str, Any]:
        await asyncio.sleep(0)
        return {"prediction": 1, "score": 0.55}

    @monitor.track(batch=True, feature_names=["amount", "n_items"])
    def predict_batch(rows: list[list[float]]) -> list[float]:
        return [min(1.0, amount / 1000) for amount, _ in rows]

    predict({"amount": 120.0, "email": "ann@example.com"})
    monitor.log_label(monitor.last_event_id() or "", 0)
    predict({"amount": -5.0, "email": "bob@example.com"})  # recorded as invalid
    asyncio.run(predict_async({"amount": 3.0}))  # recorded as invalid: low confidence
    predict_batch([[10.0, 1], [2000.0, 3]])  # two events

    monitor.flush(timeout=10)
    print(monitor.stats())
    for path in sorted(out.glob("*.parquet")):
        print(path)
    monitor.close()


if __name__ == "__main__":
    main()
