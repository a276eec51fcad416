"""The JSON layouts of ExplainaBoard datasets and system outputs, read as a list of records.

Accepted layouts (any of them for a dataset or an output):

- a list of records: ``[{"text": ..., "true_label": ...}, ...]`` (datasets) or
  ``[{"predicted_answers": {"text": ...}}, ...]`` (QA outputs);
- ``{"examples": [{"predicted_label": ..., "confidence": ...}, ...], "metadata": {...}}``;
- ``{"predictions": [{"text": ..., "true_label": ..., "predicted_label": ...}, ...],
  "user_defined_metadata_configs": {...}}`` (a dataset and an output in one file);
- JSON lines: one record per line (``.jsonl``).

>>> import json, pathlib, tempfile
>>> path = pathlib.Path(tempfile.mkdtemp()) / "out.json"
>>> _ = path.write_text(json.dumps({"examples": [{"predicted_label": "positive"}]}))
>>> read_json_records(path).records
[{'predicted_label': 'positive'}]
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from telltale.errors import DataError

from .text_lines import read_text

__all__ = ["JsonRecords", "read_json_records"]

_RECORD_KEYS = ("examples", "predictions", "data", "records")


@dataclass(frozen=True)
class JsonRecords:
    """The records of a JSON file and the metadata found next to them."""

    path: str
    records: list[dict[str, Any]]
    metadata: dict[str, Any] = field(default_factory=dict)


def read_json_records(path: str | Path, role: str = "JSON") -> JsonRecords:
    """Read any of the accepted layouts; :class:`DataError` names the file and the problem."""
    text = read_text(path, role)
    name = str(path)
    if Path(path).suffix.lower() in (".jsonl", ".ndjson"):
        records: list[Any] = []
        for number, line in enumerate(text.splitlines(), start=1):
            if line.strip():
                records.append(_parse(line, name, role, number))
        return JsonRecords(name, _check_records(records, name, role))
    document = _parse(text, name, role, None)
    metadata: dict[str, Any] = {}
    if isinstance(document, dict):
        key = next((k for k in _RECORD_KEYS if isinstance(document.get(k), list)), None)
        if key is None:
            raise DataError(
                f"{role} file {name!r} is a JSON object without a list of records; expected a "
                f"list, or an object with one of the keys {list(_RECORD_KEYS)}"
            )
        for meta_key in ("metadata", "user_defined_metadata_configs"):
            if isinstance(document.get(meta_key), dict):
                metadata.update(document[meta_key])
        document = document[key]
    if not isinstance(document, list):
        raise DataError(f"{role} file {name!r} holds a JSON {type(document).__name__}, not records")
    return JsonRecords(name, _check_records(document, name, role), metadata)


def _parse(text: str, name: str, role: str, line: int | None) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        where = f"line {line}" if line is not None else f"line {exc.lineno}, column {exc.colno}"
        raise DataError(
            f"{role} file {name!r} is not valid JSON at {where}: {exc.msg}; fix the file or "
            "re-export it"
        ) from None


def _check_records(records: list[Any], name: str, role: str) -> list[dict[str, Any]]:
    if not records:
        raise DataError(f"{role} file {name!r} holds no records (an empty list)")
    for index, record in enumerate(records):
        if not isinstance(record, dict):
            raise DataError(
                f"{role} file {name!r}: record {index} is a {type(record).__name__}, not an "
                'object; every record must be a JSON object such as {"predicted_label": ...}'
            )
    return records
