"""A model service in its own process, for tests that kill -9 it.

    python _sdk_child.py log URL KEY SPOOL_DIR IDS_FILE      # log calls until killed
    python _sdk_child.py log500 URL KEY SPOOL_DIR IDS_FILE   # log 500 calls, then idle until killed
    python _sdk_child.py deliver URL KEY SPOOL_DIR IDS_FILE  # log 20 calls, flush, print stats

Each call's event id is appended to IDS_FILE (one line, flushed) right after the call returns.
"""

from __future__ import annotations

import dataclasses
import json
import sys
import time

from telltale.sdk import HttpSink, Monitor


def main(mode: str, url: str, key: str, spool_dir: str, ids_file: str) -> int:
    sink = HttpSink(url, key, spool_dir=spool_dir, backoff_max=1.0, timeout=5.0)
    monitor = Monitor(
        model="fraud",
        version="1.4.0",
        sink=sink,
        batch_size=50,
        flush_interval=0.1,
        resource_interval=None,
    )

    @monitor.track
    def predict(features: dict[str, float]) -> float:
        return features["amount"] / 100

    with open(ids_file, "a", buffering=1) as ids:
        calls = 0
        while mode == "log" or calls < (500 if mode == "log500" else 20):
            predict({"amount": float(calls % 100), "calls": float(calls)})
            ids.write(f"{monitor.last_event_id()}\n")
            calls += 1
            time.sleep(0.002)
    while mode == "log500":
        time.sleep(0.1)  # the background thread goes on retrying the spool
    deadline = time.monotonic() + 60
    while not monitor.flush(timeout=5):
        if time.monotonic() > deadline:
            break
    stats = dataclasses.asdict(monitor.stats())
    monitor.close()
    print(json.dumps(stats), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
