"""Encoding batches in the two forms of docs/protocol.md: gzip JSON and Arrow IPC.

Arrow is the bulk form: one IPC stream whose columns are the event fields flattened, one
``input.<name>`` / ``output.<name>`` column per feature and output, and environments, resource
samples and client counters as JSON in the schema metadata. It is used when pyarrow can be
imported, with zstd (else lz4) IPC compression when pyarrow was built with it. pyarrow is imported
here, inside functions that only the background thread calls, never when ``telltale.sdk`` is
imported. Without pyarrow the SDK sends gzip JSON, which every server also accepts.

The events table is built column by column (:mod:`telltale.sdk.arrow_events`) from the batch's
:class:`~telltale.sdk.event_columns.EventColumns`; the JSON body from its rows. The same table,
written as Parquet, is what the directory sink stores.

>>> encoded = encode_json(Batch("labels", [{"event_id": "e1", "label": 1}]))
>>> encoded.content_type, encoded.content_encoding
('application/json', 'gzip')
"""

from __future__ import annotations

import gzip
import importlib.util
import json
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from telltale.sdk.arrow_events import EVENT_COLUMNS, events_table
from telltale.sdk.batch import Batch

__all__ = [
    "ARROW_STREAM",
    "EVENT_COLUMNS",
    "JSON",
    "Encoded",
    "arrow_available",
    "encode",
    "encode_arrow",
    "encode_json",
    "feedback_table",
    "labels_table",
    "table_for",
]

ARROW_STREAM = "application/vnd.apache.arrow.stream"
JSON = "application/json"


@dataclass(frozen=True)
class Encoded:
    """A request body and the headers that say how to read it."""

    body: bytes
    content_type: str
    content_encoding: str | None = None


@lru_cache(maxsize=1)
def arrow_available() -> bool:
    """Whether pyarrow can be imported (looked up once, without importing it)."""
    return importlib.util.find_spec("pyarrow") is not None


def encode(batch: Batch, *, arrow: bool) -> Encoded:
    """Arrow IPC for events when ``arrow`` (and pyarrow is there), else gzip JSON."""
    if arrow and batch.kind == "events" and arrow_available():
        return encode_arrow(batch)
    return encode_json(batch)


def encode_json(batch: Batch) -> Encoded:
    text = json.dumps(batch.to_json(), allow_nan=True, ensure_ascii=False, separators=(",", ":"))
    return Encoded(gzip.compress(text.encode("utf-8"), compresslevel=5), JSON, "gzip")


def _compression() -> str | None:
    import pyarrow as pa

    for codec in ("zstd", "lz4"):
        if pa.Codec.is_available(codec):
            return codec
    return None


def encode_arrow(batch: Batch) -> Encoded:
    import pyarrow as pa

    table = table_for(batch)
    sink = pa.BufferOutputStream()
    options = pa.ipc.IpcWriteOptions(compression=_compression())
    with pa.ipc.new_stream(sink, table.schema, options=options) as writer:
        writer.write_table(table)
    return Encoded(sink.getvalue().to_pybytes(), ARROW_STREAM)


def _metadata(batch: Batch) -> dict[bytes, bytes]:
    def dump(value: Any) -> bytes:
        return json.dumps(value, allow_nan=True, separators=(",", ":")).encode("utf-8")

    return {
        b"telltale.environments": dump(batch.environments),
        b"telltale.resources": dump(batch.resources),
        b"telltale.client": dump(batch.client),
    }


def table_for(batch: Batch) -> Any:
    """The flattened Arrow table of a batch (events; labels and feedback have their own)."""
    if batch.kind == "labels":
        return labels_table(batch)
    if batch.kind == "feedback":
        return feedback_table(batch)
    return events_table(batch.columns, _metadata(batch))


def _ts_column(rows: list[dict[str, Any]]) -> Any:
    import pyarrow as pa

    return pa.array([row.get("ts") for row in rows], pa.string()).cast(pa.timestamp("us", tz="UTC"))


def labels_table(batch: Batch) -> Any:
    """``event_id``, ``ts``, ``label`` (as text: numbers in their JSON spelling) and
    ``label_number`` (the label when it is a number, else null), so that a reader such as
    ``telltale import`` gives a regression label back as the number it was."""
    import pyarrow as pa

    rows = batch.rows
    labels = [None if row.get("label") is None else _label_text(row["label"]) for row in rows]
    numbers = [_label_number(row.get("label")) for row in rows]
    return pa.table(
        {
            "event_id": pa.array([row["event_id"] for row in rows], pa.string()),
            "ts": _ts_column(rows),
            "label": pa.array(labels, pa.string()),
            "label_number": pa.array(numbers, pa.float64()),
        }
    )


def _label_number(label: Any) -> float | None:
    if isinstance(label, bool) or not isinstance(label, (int, float)):
        return None
    return float(label)


def _label_text(label: Any) -> str:
    return label if isinstance(label, str) else json.dumps(label, allow_nan=True)


def feedback_table(batch: Batch) -> Any:
    """``event_id``, ``ts``, ``score`` (float64)."""
    import pyarrow as pa

    rows = batch.rows
    return pa.table(
        {
            "event_id": pa.array([row["event_id"] for row in rows], pa.string()),
            "ts": _ts_column(rows),
            "score": pa.array([float(row["score"]) for row in rows], pa.float64()),
        }
    )
