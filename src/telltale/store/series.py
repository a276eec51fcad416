"""Series: the (model, version, environment, segment tags) an event's rollups are kept under.

Every event belongs to one series, and the rollups are per series and minute, so a window
filtered by version, environment or segment tag is a sum over a few series. The store keeps
``tt_series`` in memory (:class:`SeriesCache`): a write finds its series ids by dictionary
lookups on the few distinct keys of a batch, computed column-wise by :func:`series_keys`, and
only a series never seen before costs SQL (one insert for all of the transaction's new series).

A key is ``(version, environment_id, segment)`` where ``segment`` is the tuple of
``(tag, value)`` pairs sorted, so ``{"a": "1", "b": "2"}`` and ``{"b": "2", "a": "1"}`` are
one series; a missing environment is ``""``.

>>> import pyarrow as pa
>>> segment = pa.array([[("b", "2"), ("a", "1")], [], [("a", "1"), ("b", "2")]],
...                    pa.map_(pa.string(), pa.string()))
>>> table = pa.table({"version": ["1", "1", "1"], "segment": segment,
...                   "environment_id": pa.array([None, None, None], pa.string())})
>>> codes, keys = series_keys(table)
>>> codes.tolist(), keys
([0, 1, 0], [('1', '', (('a', '1'), ('b', '2'))), ('1', '', ())])
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["SERIES_DDL", "SeriesCache", "SeriesKey", "series_keys"]

SeriesKey = tuple[str, str, tuple[tuple[str, str], ...]]
"""``(version, environment_id, sorted segment pairs)``."""

SERIES_DDL = (
    """CREATE SEQUENCE IF NOT EXISTS tt_series_ids""",
    """CREATE TABLE IF NOT EXISTS tt_series (
        series_id INTEGER PRIMARY KEY,
        model_id INTEGER NOT NULL,
        version VARCHAR NOT NULL,
        environment_id VARCHAR NOT NULL,
        segment MAP(VARCHAR, VARCHAR) NOT NULL,
        segment_key VARCHAR NOT NULL
    )""",
)

# Separators that cannot clash in practice: control characters are allowed in tags, so the raw
# text is only used to group rows; each group's real pairs are read back from one of its rows.
_PAIR = "\x1f"
_ENTRY = "\x1e"


def series_keys(events: pa.Table) -> tuple[np.ndarray, list[SeriesKey]]:
    """Per row, the index of its series key in the returned list of distinct keys.

    ``events`` has ``version``, ``environment_id`` and ``segment`` (``map<string, string>``).
    Cost: a handful of Arrow kernels over the rows, then Python work per distinct key only.
    """
    n = events.num_rows
    if n == 0:
        return np.zeros(0, dtype=np.int32), []
    version = pc.dictionary_encode(events.column("version").combine_chunks())
    environment = events.column("environment_id").combine_chunks()
    if environment.null_count:
        environment = pc.fill_null(environment, "")
    environment = pc.dictionary_encode(environment)
    segment = events.column("segment").combine_chunks()
    offsets = np.asarray(segment.offsets)
    if offsets[-1] == offsets[0]:  # no tags in the whole batch
        segment_codes = np.zeros(n, dtype=np.int64)
        n_segments = 1
    else:
        entries = pc.binary_join_element_wise(segment.keys, segment.items, _PAIR)
        per_row = pa.ListArray.from_arrays(pa.array(offsets - offsets[0], pa.int32()), entries)
        encoded = pc.dictionary_encode(pc.binary_join(per_row, _ENTRY))
        segment_codes = np.asarray(encoded.indices).astype(np.int64)
        n_segments = len(encoded.dictionary)
    v = np.asarray(version.indices).astype(np.int64)
    e = np.asarray(environment.indices).astype(np.int64)
    combined = (v * len(environment.dictionary) + e) * n_segments + segment_codes
    _, first, codes = np.unique(combined, return_index=True, return_inverse=True)
    versions = version.dictionary.to_pylist()
    environments = environment.dictionary.to_pylist()
    keys: dict[SeriesKey, int] = {}
    remap = np.empty(len(first), dtype=np.int32)
    for i, row in enumerate(first.tolist()):
        key = (versions[v[row]], environments[e[row]], _pairs(segment[row].as_py()))
        remap[i] = keys.setdefault(key, len(keys))  # tags in another order: the same series
    return remap[codes.reshape(n)], list(keys)


def _pairs(segment: Any) -> tuple[tuple[str, str], ...]:
    """The sorted ``(tag, value)`` pairs of a map value (a dict or a list of pairs)."""
    if not segment:
        return ()
    items = segment.items() if isinstance(segment, dict) else segment
    return tuple(sorted((str(k), str(v)) for k, v in items))


class SeriesCache:
    """``tt_series`` in memory: ``(model_id, key) → series_id``, loaded when the store opens.

    New series are added inside the write transaction; the cache learns them only when it
    commits (:meth:`publish`), so a rolled-back write leaves no phantom series behind.
    """

    def __init__(self) -> None:
        self._ids: dict[tuple[int, SeriesKey], int] = {}
        self._pending: dict[tuple[int, SeriesKey], int] = {}

    def load(self, con: Any) -> None:
        self._ids = {}
        rows = con.execute(
            "SELECT series_id, model_id, version, environment_id, segment FROM tt_series"
        ).fetchall()
        for series_id, model_id, version, environment, segment in rows:
            self._ids[(int(model_id), (version, environment, _pairs(segment)))] = int(series_id)

    def ids(self, con: Any, model_id: int, keys: Iterable[SeriesKey]) -> np.ndarray:
        """Series ids of ``keys`` (in order), inserting the series never seen before."""
        keys = list(keys)
        out = np.empty(len(keys), dtype=np.int32)
        missing: list[int] = []
        for i, key in enumerate(keys):
            found = self._ids.get((model_id, key))
            if found is None:
                found = self._pending.get((model_id, key))
            if found is None:
                missing.append(i)
            else:
                out[i] = found
        if missing:
            new = con.execute(
                "SELECT nextval('tt_series_ids') FROM range(?)", [len(missing)]
            ).fetchall()
            rows = pa.table(
                {
                    "series_id": pa.array([int(r[0]) for r in new], pa.int32()),
                    "version": [keys[i][0] for i in missing],
                    "environment_id": [keys[i][1] for i in missing],
                    "segment": pa.array(
                        [list(keys[i][2]) for i in missing], pa.map_(pa.string(), pa.string())
                    ),
                }
            )
            con.register("tt_new_series", rows)
            try:
                con.execute(
                    """INSERT INTO tt_series
                    SELECT series_id, ?, version, environment_id, segment,
                           CAST(to_json(list_sort(map_entries(segment))) AS VARCHAR)
                    FROM tt_new_series""",
                    [model_id],
                )
            finally:
                con.unregister("tt_new_series")
            for i, (series_id,) in zip(missing, new, strict=True):
                out[i] = int(series_id)
                self._pending[(model_id, keys[i])] = int(series_id)
        return out

    def publish(self) -> None:
        """The transaction committed: its new series are real."""
        self._ids.update(self._pending)
        self._pending = {}

    def discard(self) -> None:
        """The transaction rolled back: forget its new series."""
        self._pending = {}
