"""``telltale import``: load what the SDK's directory sink wrote into a telltale database.

A model service with ``Monitor(directory="events/")`` writes Parquet segments and needs no server.
Later — on a laptop, in a batch job — ``telltale import events/ --db telltale.duckdb --project
fraud`` stores them exactly as the server would have: the same decoding and checks, the same
idempotency (importing a directory twice stores nothing twice), the same rollups.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from telltale.errors import ConfigError

__all__ = ["import_directory", "register"]

_KINDS = ("events", "labels", "feedback")


def _segments(directory: Path) -> dict[str, list[Path]]:
    if not directory.is_dir():
        raise ConfigError(f"{directory} is not a directory; give the folder the SDK wrote into")
    found = {kind: sorted(directory.glob(f"{kind}-*.parquet")) for kind in _KINDS}
    if not any(found.values()):
        raise ConfigError(
            f"{directory} holds no events-*.parquet, labels-*.parquet or feedback-*.parquet "
            "segments; is it the directory given to Monitor(directory=...)?"
        )
    return found


def _rows_payload(path: Path, section: str) -> dict[str, Any]:
    import pyarrow.parquet as pq

    rows = pq.read_table(path).to_pylist()
    for row in rows:
        if row.get("ts") is not None and hasattr(row["ts"], "isoformat"):
            row["ts"] = row["ts"].isoformat()
        # a numeric label travels as text and as a number: the number is what it was
        number = row.pop("label_number", None)
        if number is not None:
            row["label"] = int(number) if _is_int_text(row.get("label")) else number
    return {section: rows}


def _is_int_text(text: Any) -> bool:
    """Whether a label's text is an integer's JSON spelling (1, -3), not a float's (1.0)."""
    return isinstance(text, str) and text.lstrip("-").isdigit()


def import_directory(
    directory: str | Path, db: str | Path, project: str, progress: Any = None
) -> dict[str, int]:
    """Store every segment of ``directory`` in ``db`` under ``project``; return the counts."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from telltale.errors import DataError, SchemaError
    from telltale.schema.wire import decode_events_arrow, decode_feedback_json, decode_labels_json
    from telltale.store.events import EventStore
    from telltale.store.keys import check_project_name

    check_project_name(project)
    segments = _segments(Path(directory))
    counts = {"files": 0, "events": 0, "duplicates": 0, "labels": 0, "feedback": 0}
    store = EventStore(db)
    try:
        for path in segments["events"]:
            try:
                table = pq.read_table(path)
                sink = pa.BufferOutputStream()
                with pa.ipc.new_stream(sink, table.schema) as writer:
                    writer.write_table(table)
                batch = decode_events_arrow(sink.getvalue().to_pybytes())
            except (OSError, pa.ArrowInvalid) as error:
                raise DataError(f"{path}: not a readable Parquet segment ({error})") from None
            except SchemaError as error:
                raise SchemaError(f"{path}: {error}", details=error.details) from None
            (result,) = store.write([(project, batch)])
            counts["events"] += result.accepted
            counts["duplicates"] += result.duplicates
            counts["files"] += 1
            if progress is not None:
                progress(1)
        for kind, decode in (("labels", decode_labels_json), ("feedback", decode_feedback_json)):
            for path in segments[kind]:
                table = decode(_rows_payload(path, kind))
                write = store.write_labels if kind == "labels" else store.write_feedback
                counts[kind] += write(project, table)
                counts["files"] += 1
                if progress is not None:
                    progress(1)
    finally:
        store.close()
    return counts


def register(cli: click.Group) -> None:
    @cli.command("import")
    @click.argument("directory", type=click.Path(file_okay=False))
    @click.option("--db", required=True, help="The telltale DuckDB file (made if missing).")
    @click.option("--project", required=True, help="The project the events belong to.")
    def import_command(directory: str, db: str, project: str) -> None:
        """Store the Parquet segments the SDK's directory sink wrote (no server needed).

        \b
        Example:
          # in the model service: Monitor(model="fraud", directory="events/")
          telltale import events/ --db telltale.duckdb --project fraud
          telltale serve --db telltale.duckdb
        Importing the same directory again stores nothing twice (events are keyed by id).
        """
        import sys

        total = sum(len(v) for v in _segments(Path(directory)).values())
        if sys.stderr.isatty():
            from rich.progress import Progress

            with Progress(transient=True) as bar:
                task = bar.add_task("importing", total=total)
                counts = import_directory(
                    directory, db, project, progress=lambda n: bar.advance(task, n)
                )
        else:
            counts = import_directory(directory, db, project)
        click.echo(
            f"imported {counts['events']} events ({counts['duplicates']} already stored), "
            f"{counts['labels']} labels, {counts['feedback']} feedback from {counts['files']} "
            f"files into {Path(db).resolve()} (project {project})"
        )
