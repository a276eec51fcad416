"""Reading classification data sets and outputs, whatever their file format, into columns.

A data set gives texts and gold labels; an output gives one predicted label (and optionally a
confidence) per example, in data-set order. Accepted:

- data: TSV without header (``text<TAB>label``, ``text1<TAB>text2<TAB>label``), ExplainaBoard JSON
  (``text``/``text1``/``text2``/``true_label``), or a table (Parquet, CSV, JSON lines) with
  those columns;
- outputs: one label per line (``.txt``), JSON (``predicted_label`` and ``confidence`` or
  ``probability``), a JSON file that holds data and predictions (``"predictions"``), or a table
  with a ``predicted_label`` column.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from telltale.errors import DataError

from ..readers.delimited import read_record_lines, read_tsv
from ..readers.explainaboard_json import read_json_records
from ..readers.table import read_table_columns

__all__ = ["LabelledColumns", "read_labelled_data", "read_predictions"]

LabelledColumns = dict[str, list[Any]]

_TABLE_SUFFIXES = (".parquet", ".pq", ".csv", ".jsonl", ".ndjson", ".arrow", ".feather")
_KEY_ALIASES = {
    "label": ("true_label", "label", "gold"),
    "prediction": ("predicted_label", "prediction", "pred"),
    "confidence": ("confidence", "probability", "score"),
    "text": ("text", "text1", "sentence", "premise"),
    "text2": ("text2", "hypothesis", "sentence2"),
}


def _suffix(source: Any) -> str:
    return Path(source).suffix.lower() if isinstance(source, (str, Path)) else ""


def _pick(record: dict[str, Any], field: str) -> Any:
    for key in _KEY_ALIASES[field]:
        if key in record:
            return record[key]
    return None


def _from_records(
    records: list[dict[str, Any]], fields: Sequence[str], role: str, path: str
) -> LabelledColumns:
    columns: LabelledColumns = {}
    for field in fields:
        values = [_pick(record, field) for record in records]
        if field != "confidence" and any(v is None for v in values):
            first = next(i for i, v in enumerate(values) if v is None)
            raise DataError(
                f"{role} file {path!r}: record {first} has no {' / '.join(_KEY_ALIASES[field])} "
                f"field; every record needs one (it has {sorted(records[first])})"
            )
        if field != "confidence" or any(v is not None for v in values):
            columns[field] = values
    return columns


def read_labelled_data(
    source: Any, text_fields: Sequence[str], role: str = "data"
) -> LabelledColumns:
    """Texts (``text_fields``) and gold ``label`` of every example."""
    fields = (*text_fields, "label")
    suffix = _suffix(source)
    if suffix in (".tsv", ".txt"):
        return dict(read_tsv(source, fields, role))
    if suffix in (".json", ".jsonl", ".ndjson"):
        document = read_json_records(source, role)
        return _from_records(document.records, fields, role, document.path)
    table = read_table_columns(source, None, role)
    records = table.to_pylist()
    return _from_records(records, fields, role, str(source))


def read_predictions(source: Any, role: str) -> LabelledColumns:
    """Predicted ``prediction`` (and ``confidence`` when present) of every example."""
    suffix = _suffix(source)
    if suffix in (".txt", ".tsv"):
        return {"prediction": read_record_lines(source, role)}
    if suffix in (".json", ".jsonl", ".ndjson"):
        document = read_json_records(source, role)
        return _from_records(document.records, ("prediction", "confidence"), role, document.path)
    if suffix in _TABLE_SUFFIXES or not isinstance(source, (str, Path)):
        table = read_table_columns(source, None, role)
        return _from_records(table.to_pylist(), ("prediction", "confidence"), role, str(source))
    raise DataError(
        f"{role} file {str(source)!r}: cannot tell its format from the suffix; use .txt (one "
        "label per line), .json, .jsonl, .parquet or .csv"
    )
