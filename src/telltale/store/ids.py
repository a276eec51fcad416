"""Which event ids a table already holds: 64-bit hashes and times, in memory.

Idempotent ingest needs, for every incoming event, "is this id stored already?". Measured at
10M stored events (benchmarks/store_ingest.py) for a 10k-event batch: DuckDB does not use an ART
index (``PRIMARY KEY``) for joins, so a semi-join costs a scan of the id column either way
(≈40 ms); ``INSERT OR IGNORE`` through the primary key ≈60-70 ms, 2.7 s on first use after
opening (the index is loaded), and the key slowed bulk inserts from ≈1 s to 3-4 s per million
rows; an anti-join on the batch's time range is ≈6-8 ms for live data but a whole scan when a
batch spans old and new times (≈0.5-0.9 s). This index answers from memory in about a
millisecond: a sorted array of the DuckDB ``hash()`` of each stored id, with the event's time.
A hit is only a *maybe* (two ids may share a hash); the store confirms hits in SQL, bounded by
the times kept here, so the rare resend costs a small range scan and a new event costs nothing.

New hashes arrive in runs; runs are kept as sorted levels that merge when a newer one grows to
half the size of the one before (a log-structured merge), so adding is amortised O(log n) per id
and a lookup is one binary search per level. 10M ids take 160 MB and rebuild from the file in
about a second (``EventStore`` does it when it opens).

>>> index = IdIndex()
>>> index.add(np.array([5, 3], dtype=np.uint64), np.array([50, 30]))
>>> found, times = index.lookup(np.array([3, 4], dtype=np.uint64))
>>> found.tolist(), int(times[0])
([True, False], 30)
"""

from __future__ import annotations

import numpy as np

__all__ = ["IdIndex"]


class IdIndex:
    """Sorted 64-bit id hashes with the time (epoch µs) of each id, in merge levels."""

    def __init__(self) -> None:
        self._levels: list[tuple[np.ndarray, np.ndarray]] = []

    def __len__(self) -> int:
        return sum(len(hashes) for hashes, _ in self._levels)

    def add(self, hashes: np.ndarray, times: np.ndarray) -> None:
        """Remember ``hashes`` (uint64) with their ``times`` (int64)."""
        if len(hashes) == 0:
            return
        hashes = np.asarray(hashes, dtype=np.uint64)
        times = np.asarray(times, dtype=np.int64)
        order = np.argsort(hashes, kind="stable")
        run = (hashes[order], times[order])
        while self._levels and len(self._levels[-1][0]) <= 2 * len(run[0]):
            last = self._levels.pop()
            merged_h = np.concatenate([last[0], run[0]])
            merged_t = np.concatenate([last[1], run[1]])
            order = np.argsort(merged_h, kind="stable")
            run = (merged_h[order], merged_t[order])
        self._levels.append(run)

    def lookup(self, hashes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """For each hash: whether it may be stored, and the time of the stored id (or 0)."""
        probe = np.asarray(hashes, dtype=np.uint64)
        found = np.zeros(len(probe), dtype=bool)
        times = np.zeros(len(probe), dtype=np.int64)
        for level_h, level_t in self._levels:
            at = np.searchsorted(level_h, probe)
            inside = at < len(level_h)
            hit = np.zeros(len(probe), dtype=bool)
            hit[inside] = level_h[at[inside]] == probe[inside]
            times[hit & ~found] = level_t[at[hit & ~found]]
            found |= hit
        return found, times

    def clear(self) -> None:
        self._levels = []
