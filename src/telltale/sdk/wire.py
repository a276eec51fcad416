"""Encoding batches in the two forms of docs/protocol.md: gzip JSON and Arrow IPC.

Arrow is the bulk form: one IPC stream whose columns are the event fields flattened, one
``input.<name>`` / ``output.<name>`` column per feature and output, and environments, resource
samples and client counters as JSON in the schema metadata. It is used when pyarrow can be
imported, with zstd (else lz4) IPC compression when pyarrow was built with it. pyarrow is imported
here, inside functions that only the background thread calls, never when ``telltale.sdk`` is
imported. Without pyarrow the SDK sends gzip JSON, which every server also accepts.

The same table, written as Parquet, is what the directory sink stores.

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

EVENT_COLUMNS = (
    "event_id",
    "ts",
    "model",
    "version",
    "environment_id",
    "latency_ms",
    "status",
    "error",
    "validation",
    "trace_id",
    "span_id",
    "segment",
    "batch_size",
)
"""The fixed columns of the Arrow form, in order; ``input.*`` and ``output.*`` follow."""


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


def _value_column(values: list[Any]) -> Any:
    """An Arrow array for one feature/output: bool, int64, float64, string, or null if empty."""
    import pyarrow as pa

    kinds = {type(value) for value in values if value is not None}
    if not kinds:
        return pa.nulls(len(values))
    if kinds == {bool}:
        return pa.array(values, pa.bool_())
    if kinds <= {int}:
        return pa.array(values, pa.int64())
    if kinds <= {int, float}:
        return pa.array([None if v is None else float(v) for v in values], pa.float64())
    texts = [None if value is None else _as_text(value) for value in values]
    return pa.array(texts, pa.string())


def _as_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value)


def _metadata(batch: Batch) -> dict[bytes, bytes]:
    def dump(value: Any) -> bytes:
        return json.dumps(value, allow_nan=True, separators=(",", ":")).encode("utf-8")

    return {
        b"telltale.environments": dump(batch.environments),
        b"telltale.resources": dump(batch.resources),
        b"telltale.client": dump(batch.client),
    }


def _named_columns(rows: list[dict[str, Any]], key: str) -> dict[str, list[Any]]:
    names: dict[str, None] = {}
    for row in rows:
        names.update(dict.fromkeys(row.get(key) or ()))
    return {name: [(row.get(key) or {}).get(name) for row in rows] for name in names}


def table_for(batch: Batch) -> Any:
    """The flattened Arrow table of a batch (events; labels and feedback have their own)."""
    if batch.kind == "labels":
        return labels_table(batch)
    if batch.kind == "feedback":
        return feedback_table(batch)
    import pyarrow as pa

    rows = batch.rows
    string = pa.string()
    arrays: dict[str, Any] = {
        "event_id": pa.array([row["event_id"] for row in rows], string),
        "ts": pa.array([row["ts"] for row in rows], string).cast(pa.timestamp("us", tz="UTC")),
        "model": pa.array([row["model"] for row in rows], string),
        "version": pa.array([row.get("version") for row in rows], string),
        "environment_id": pa.array([row.get("environment_id") for row in rows], string),
        "latency_ms": pa.array([row.get("latency_ms") for row in rows], pa.float64()),
        "status": pa.array([row.get("status", "ok") for row in rows], string),
        "error": pa.array([row.get("error") for row in rows], string),
        "validation": pa.array([row.get("validation") or [] for row in rows], pa.list_(string)),
        "trace_id": pa.array([row.get("trace_id") for row in rows], string),
        "span_id": pa.array([row.get("span_id") for row in rows], string),
        "segment": pa.array(
            [list((row.get("segment") or {}).items()) for row in rows], pa.map_(string, string)
        ),
        "batch_size": pa.array([row.get("batch_size", 1) for row in rows], pa.int32()),
    }
    for prefix, key in (("input.", "inputs"), ("output.", "outputs")):
        for name, values in _named_columns(rows, key).items():
            arrays[prefix + name] = _value_column(values)
    table = pa.table(arrays)
    return table.replace_schema_metadata(_metadata(batch))


def _ts_column(rows: list[dict[str, Any]]) -> Any:
    import pyarrow as pa

    return pa.array([row.get("ts") for row in rows], pa.string()).cast(pa.timestamp("us", tz="UTC"))


def labels_table(batch: Batch) -> Any:
    """``event_id``, ``ts``, ``label`` (as text: numbers in their JSON spelling)."""
    import pyarrow as pa

    rows = batch.rows
    labels = [None if row.get("label") is None else _label_text(row["label"]) for row in rows]
    return pa.table(
        {
            "event_id": pa.array([row["event_id"] for row in rows], pa.string()),
            "ts": _ts_column(rows),
            "label": pa.array(labels, pa.string()),
        }
    )


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
