"""What a write needs from a batch, computed before the write: off the writer's thread.

The store has one writer thread, and everything it does is on the ingest's critical path. What
a batch needs that does not depend on the store — the 16 bytes and hash of each id, the minute,
the latency bucket, the status code, the prediction as class and value, the series key of each
row — is pure column arithmetic, so the server computes it on the request's worker thread right
after decoding (:func:`prepare_batch`), where two requests' work runs side by side. The writer
then only concatenates, looks up and inserts. :meth:`EventStore.write
<telltale.store.events.EventStore.write>` prepares a plain :class:`EventBatch` itself.

>>> from telltale.schema.wire import decode_events_json
>>> batch = decode_events_json({"events": [{"event_id": "0f8c6d1e-6c1f-4c3b-9a53-2d3e4f5a6b7c",
...     "ts": 90.5, "model": "fraud", "latency_ms": 12.5, "outputs": {"prediction": 1}}]})
>>> part, = prepare_batch(batch).parts
>>> part.model, part.facts.column("minute").to_pylist(), part.facts.column("class").to_pylist()
('fraud', [60000000], ['1'])
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from telltale.errors import SchemaError
from telltale.schema.wire import STATUSES, EventBatch
from telltale.store.ids import id_hashes, uuid_bytes
from telltale.store.latency import MINUTE_US, latency_buckets
from telltale.store.series import SeriesKey, series_keys

__all__ = ["ModelPart", "PreparedBatch", "prediction_columns", "prepare_batch"]


@dataclass
class ModelPart:
    """One model's events from one request, with the per-row values a write needs."""

    model: str
    events: pa.Table
    """The decoded columns (``event_id`` as text, features as ``input.<name>`` ...)."""
    ids: np.ndarray
    """The 16 bytes of each event id (n x 16 ``uint8``)."""
    hashes: np.ndarray
    times: np.ndarray
    """Event times, epoch µs."""
    series_codes: np.ndarray
    """Per row, an index into :attr:`series_keys`."""
    series_keys: list[SeriesKey]
    facts: pa.Table
    """What the rollups count, per row: ``minute`` (µs), ``status`` (index in STATUSES),
    ``batch_size``, ``latency_ms``, ``bucket``, ``value`` (numeric prediction), ``class``
    (class prediction)."""

    @property
    def rows(self) -> int:
        return self.events.num_rows


@dataclass
class PreparedBatch:
    """A decoded request and its per-model parts, ready for :meth:`EventStore.write`."""

    batch: EventBatch
    parts: list[ModelPart]


def prepare_batch(batch: EventBatch) -> PreparedBatch:
    """Split ``batch`` by model and compute its per-row values (see the module docstring)."""
    events = batch.events
    if events.num_rows == 0:
        return PreparedBatch(batch, [])
    models = events.column("model")
    names = pc.unique(models).to_pylist()
    parts = []
    for model in names:
        part = events if len(names) == 1 else events.filter(pc.equal(models, model))
        parts.append(_model_part(model, part))
    return PreparedBatch(batch, parts)


def _model_part(model: str, events: pa.Table) -> ModelPart:
    ids = _id_bytes(events.column("event_id").combine_chunks())
    times = events.column("ts").combine_chunks().cast(pa.int64()).to_numpy()
    codes, keys = series_keys(events)
    latency = events.column("latency_ms").combine_chunks()
    status = pc.index_in(events.column("status").combine_chunks(), value_set=pa.array(STATUSES))
    prediction_class, prediction_value = prediction_columns(
        events.column("output.prediction").combine_chunks()
        if "output.prediction" in events.column_names
        else pa.nulls(events.num_rows)
    )
    facts = pa.table(
        {
            "minute": pa.array((times // MINUTE_US) * MINUTE_US, pa.int64()),
            "status": status.cast(pa.int8()),
            "batch_size": events.column("batch_size").combine_chunks(),
            "latency_ms": latency,
            "bucket": latency_buckets(latency),
            "value": prediction_value,
            "class": prediction_class,
        }
    )
    return ModelPart(model, events, ids, id_hashes(ids), times, codes, keys, facts)


def _id_bytes(ids: pa.Array) -> np.ndarray:
    try:
        return uuid_bytes(ids)
    except ValueError:  # a batch made by hand, not by the decoders: parse each id
        out = np.zeros((len(ids), 16), dtype=np.uint8)
        for row, text in enumerate(ids.to_pylist()):
            try:
                out[row] = np.frombuffer(uuid.UUID(str(text)).bytes, dtype=np.uint8)
            except ValueError:
                raise SchemaError(
                    f"events[{row}].event_id {str(text)[:60]!r} is not a UUID; "
                    "decode batches with telltale.schema.wire",
                    details={"row": row, "field": "event_id"},
                ) from None
        return out


def prediction_columns(array: pa.Array) -> tuple[pa.Array, pa.Array]:
    """Class text (strings, booleans, integers) and value (numbers) of the predictions."""
    n = len(array)
    if pa.types.is_string(array.type):
        return array, pa.nulls(n, pa.float64())
    if pa.types.is_boolean(array.type):
        return pc.if_else(array, "true", "false"), pa.nulls(n, pa.float64())
    if pa.types.is_integer(array.type):
        return array.cast(pa.string()), array.cast(pa.float64())
    if pa.types.is_floating(array.type):
        return pa.nulls(n, pa.string()), array.cast(pa.float64())
    return pa.nulls(n, pa.string()), pa.nulls(n, pa.float64())
