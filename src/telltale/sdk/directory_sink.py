"""Writing batches as Parquet files in a directory, for use without a server.

Each events batch becomes ``<dir>/events-<UTC time>-<pid>-<n>.parquet`` holding exactly the
flattened table of docs/protocol.md (environments, resources and client counters in the schema
metadata), so ``telltale import`` and ``telltale report`` read the directory as it is. Labels and
feedback go to ``labels-…parquet`` and ``feedback-…parquet``. A file is written under a hidden
temporary name and renamed into place, so a reader never sees half a file.

pyarrow is needed (imported on the background thread, at the first write). A write that fails (disk
full, no permission) is counted as failed and logged; it never reaches the model's code.

>>> import tempfile
>>> sink = DirectorySink(tempfile.mkdtemp())
>>> sink.send(Batch("feedback", [{"event_id": "e1", "score": 1.0, "ts": "2026-11-22T14:05:00Z"}]))
>>> [path.name.split("-")[0] for path in sink.directory.iterdir()]
['feedback']
"""

from __future__ import annotations

import contextlib
import itertools
import os
import time
from pathlib import Path

from telltale.errors import ConfigError
from telltale.sdk.batch import Batch
from telltale.sdk.sink import Sink
from telltale.sdk.wire import table_for

__all__ = ["DirectorySink"]


class DirectorySink(Sink):
    """Parquet segments in ``directory`` (made if missing).

    >>> monitor = Monitor(model="fraud", directory="events/")  # doctest: +SKIP
    """

    def __init__(self, directory: str | os.PathLike[str], *, compression: str = "zstd") -> None:
        super().__init__()
        if not isinstance(directory, (str, os.PathLike)) or not str(directory):
            raise ConfigError(f"directory={directory!r} must be a path, e.g. directory='events/'")
        self.directory = Path(directory)
        if self.directory.exists() and not self.directory.is_dir():
            raise ConfigError(
                f"directory={str(directory)!r} is a file; pass a directory for the Parquet files"
            )
        self.compression = compression
        self._numbers = itertools.count()
        self.files: list[Path] = []

    def write(self, batch: Batch) -> None:
        if not len(batch):
            return
        import pyarrow.parquet as pq

        table = table_for(batch)
        self.directory.mkdir(parents=True, exist_ok=True)
        stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
        name = f"{batch.kind}-{stamp}Z-{os.getpid()}-{next(self._numbers):06d}.parquet"
        final = self.directory / name
        temporary = self.directory / f".{name}.tmp"
        try:
            pq.write_table(table, temporary, compression=self.compression)
            os.replace(temporary, final)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise
        self.files.append(final)

    def prepare(self) -> None:
        import pyarrow.parquet  # noqa: F401

    def after_fork_in_child(self) -> None:
        self.files = []
