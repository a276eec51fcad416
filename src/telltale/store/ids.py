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
Labels and feedback use the same index (hash and time received), so replacing one finds the old
row in a small range instead of scanning the table.

The hash is computed here, in numpy, from the 16 bytes of the UUID (:func:`uuid_bytes`,
:func:`id_hashes`): 0.07 µs per id, where asking DuckDB's ``hash()`` cost a statement per
transaction (4-9 ms per 20k ids). The same 16 bytes go into the ``UUID`` column as a
``fixed_size_binary(16)`` Arrow column, which DuckDB takes without parsing text; and when the
store opens, the stored ids come back as 16 bytes (``arrow_lossless_conversion``) and are hashed
by the same function.

New hashes arrive in runs; runs are kept as sorted levels that merge when a newer one grows to
half the size of the one before (a log-structured merge), so adding is amortised O(log n) per id
and a lookup is one binary search per level. 10M ids take 160 MB and rebuild from the file in
about a second (``EventStore`` does it when it opens).

>>> index = IdIndex()
>>> index.add(np.array([5, 3], dtype=np.uint64), np.array([50, 30]))
>>> found, times = index.lookup(np.array([3, 4], dtype=np.uint64))
>>> found.tolist(), int(times[0])
([True, False], 30)
>>> raw = uuid_bytes(pa.array(["0f8c6d1e-6c1f-4c3b-9a53-2d3e4f5a6b7c"]))
>>> bytes(raw[0]).hex(), id_hashes(raw).dtype.name
('0f8c6d1e6c1f4c3b9a532d3e4f5a6b7c', 'uint64')
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

__all__ = ["STORED_ID_BYTES", "IdIndex", "id_hashes", "stored_bytes", "uuid_array", "uuid_bytes"]

STORED_ID_BYTES = "CAST(event_id AS BLOB)"
"""SQL of the 16 bytes of a stored ``UUID`` column (read back with :func:`stored_bytes`)."""

_UUID_LENGTH = 36
_C1 = np.uint64(0xFF51AFD7ED558CCD)
_C2 = np.uint64(0xC4CEB9FE1A85EC53)
_S33 = np.uint64(33)


def uuid_bytes(ids: pa.Array) -> np.ndarray:
    """The 16 bytes (n x 16 ``uint8``) of canonical UUID strings (lower-case, with hyphens:
    what the wire decoders make). A string of another length raises ``ValueError``."""
    ids = ids.cast(pa.string()) if ids.type != pa.string() else ids
    n = len(ids)
    if n == 0:
        return np.zeros((0, 16), dtype=np.uint8)
    if ids.null_count:
        raise ValueError("event ids must not be null")
    offsets = np.frombuffer(ids.buffers()[1], dtype=np.int32, count=n + 1, offset=ids.offset * 4)
    if offsets[-1] - offsets[0] != _UUID_LENGTH * n or (np.diff(offsets) != _UUID_LENGTH).any():
        raise ValueError("event ids must be canonical UUID strings (36 characters)")
    data = np.frombuffer(ids.buffers()[2], dtype=np.uint8)
    chars = data[offsets[0] : offsets[0] + _UUID_LENGTH * n].reshape(n, _UUID_LENGTH)
    digits = np.concatenate(
        [chars[:, 0:8], chars[:, 9:13], chars[:, 14:18], chars[:, 19:23], chars[:, 24:36]], axis=1
    )
    # '0'-'9' are 0x30-0x39 and 'a'-'f' 0x61-0x66: the low nibble, plus 9 for letters
    values = ((digits & 0x0F) + 9 * (digits >> 6)).reshape(n, 16, 2)
    return np.ascontiguousarray((values[:, :, 0] << 4) | values[:, :, 1])


def stored_bytes(blobs: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """n x 16 ``uint8`` of the ``BLOB`` column :data:`STORED_ID_BYTES` selects."""
    if isinstance(blobs, pa.ChunkedArray):
        blobs = blobs.combine_chunks() if blobs.num_chunks else pa.array([], pa.binary())
    n = len(blobs)
    if n == 0:
        return np.zeros((0, 16), dtype=np.uint8)
    blobs = blobs.cast(pa.binary())
    offsets = np.frombuffer(
        blobs.buffers()[1], dtype=np.int32, count=n + 1, offset=blobs.offset * 4
    )
    data = np.frombuffer(blobs.buffers()[2], dtype=np.uint8)
    return data[offsets[0] : offsets[0] + 16 * n].reshape(n, 16).copy()


def uuid_array(raw: np.ndarray) -> pa.Array:
    """16-byte ids as an Arrow column DuckDB reads as ``UUID`` without parsing text: the
    ``arrow.uuid`` extension type (pyarrow >= 18), else ``fixed_size_binary(16)`` (a ``BLOB``
    to DuckDB: compare it through ``CAST(... AS UUID)``)."""
    storage = pa.FixedSizeBinaryArray.from_buffers(
        pa.binary(16), len(raw), [None, pa.py_buffer(np.ascontiguousarray(raw).tobytes())]
    )
    if _UUID_TYPE is None:
        return storage
    return pa.ExtensionArray.from_storage(_UUID_TYPE, storage)


_UUID_TYPE = pa.uuid() if hasattr(pa, "uuid") else None


def _mix(k: np.ndarray) -> np.ndarray:
    """MurmurHash3's 64-bit finalizer (numpy's uint64 arithmetic wraps, as it must here)."""
    k = k ^ (k >> _S33)
    k = k * _C1
    k = k ^ (k >> _S33)
    k = k * _C2
    return k ^ (k >> _S33)


def id_hashes(raw: np.ndarray) -> np.ndarray:
    """A 64-bit hash of each 16-byte id (both halves mixed, so ids differing in either half
    get unrelated hashes)."""
    if len(raw) == 0:
        return np.zeros(0, dtype=np.uint64)
    words = np.ascontiguousarray(raw).view(">u8").astype(np.uint64)
    return _mix(words[:, 0] ^ _mix(words[:, 1]))


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
        """For each hash: whether it may be stored, and the time of the stored id (or 0).

        A hash added more than once (a label sent again) answers with its newest time."""
        unsorted = np.asarray(hashes, dtype=np.uint64)
        # Probing in sorted order lets each binary search start where the last one ended:
        # 4x faster on a 10M-id level than random probes (cache misses), 23 ms -> 6 ms for 18k.
        order = np.argsort(unsorted)
        probe = unsorted[order]
        found = np.zeros(len(probe), dtype=bool)
        times = np.zeros(len(probe), dtype=np.int64)
        for level_h, level_t in reversed(self._levels):  # newest level first
            at = np.searchsorted(level_h, probe, side="right") - 1  # the last (newest) copy
            inside = at >= 0
            hit = np.zeros(len(probe), dtype=bool)
            hit[inside] = level_h[at[inside]] == probe[inside]
            new = hit & ~found
            times[new] = level_t[at[new]]
            found |= hit
        found_out = np.empty_like(found)
        times_out = np.empty_like(times)
        found_out[order] = found
        times_out[order] = times
        return found_out, times_out

    def clear(self) -> None:
        self._levels = []
