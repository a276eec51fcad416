"""The local spool: encoded batches waiting for a server that does not answer.

When a request fails in a way worth retrying (no connection, a timeout, 408, 429, 5xx), its
encoded body goes to a file in the spool directory and is sent again later, oldest first; a file
is deleted only after the server answered 2xx (or refused it for good with another 4xx). While
anything is spooled, new batches queue behind it, so the server receives them in order.

The spool is bounded by bytes: past ``max_bytes`` the oldest batches are deleted and counted as
``spool_dropped``. If the directory cannot be written (disk full, read-only, not a directory) the
batch is held in memory under the same bound instead, and the failure is logged.

Files are named ``<ns>-<pid>-<token>-<seq>-<kind>-<rows>.<ext>``. A process sends only its own
files, plus those of processes that are gone (a crashed or restarted service), which it claims
with an atomic rename; so a forked child or a second monitor never sends a parent's batch twice.

>>> import tempfile
>>> spool = Spool(tempfile.mkdtemp(), max_bytes=1 << 20)
>>> spool.put(SpoolEntry("events", 2, b"...", "application/json", "gzip"))
[]
>>> spool.peek().rows, spool.rows_held()
(2, {'events': 2})
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["Spool", "SpoolEntry"]

_EXTENSIONS = {
    ("application/vnd.apache.arrow.stream", None): "arrows",
    ("application/json", "gzip"): "json.gz",
    ("application/json", None): "json",
}
_BY_EXTENSION = {extension: kind for kind, extension in _EXTENSIONS.items()}
_NAME = re.compile(
    r"^(?P<ns>\d{20})-(?P<pid>\d+)-(?P<token>[0-9a-f]+)-(?P<seq>\d+)-"
    r"(?P<kind>events|labels|feedback)-(?P<rows>\d+)\.(?P<ext>arrows|json\.gz|json)$"
)
_LIVE_TOKENS: set[str] = set()  # spools alive in this process, whatever their directory


@dataclass
class SpoolEntry:
    """One encoded batch: on disk (``path``) or, when the disk failed, in memory (``body``)."""

    kind: str
    rows: int
    body: bytes | None
    content_type: str
    content_encoding: str | None = None
    path: Path | None = None
    size: int = field(default=0)

    def __post_init__(self) -> None:
        if not self.size and self.body is not None:
            self.size = len(self.body)

    def read(self) -> bytes:
        if self.body is not None:
            return self.body
        assert self.path is not None
        return self.path.read_bytes()


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return False
    return True


class Spool:
    """An ordered, byte-bounded queue of encoded batches in a directory."""

    def __init__(self, directory: str | os.PathLike[str], *, max_bytes: int) -> None:
        self.directory = Path(directory)
        self.max_bytes = max_bytes
        self.entries: list[SpoolEntry] = []
        self.dropped: Counter[str] = Counter()
        self.last_error: OSError | None = None
        self._sequence = 0
        self._lock = threading.Lock()
        self._token = ""
        self._new_token()

    def _new_token(self) -> None:
        _LIVE_TOKENS.discard(self._token)
        self._token = secrets.token_hex(4)
        _LIVE_TOKENS.add(self._token)

    def after_fork_in_child(self) -> None:
        """The parent's entries stay the parent's: the child starts with an empty spool."""
        self.entries = []
        self.dropped = Counter()
        self._lock = threading.Lock()
        self._new_token()

    def close(self) -> None:
        _LIVE_TOKENS.discard(self._token)

    def __len__(self) -> int:
        return len(self.entries)

    def rows_held(self) -> dict[str, int]:
        held: Counter[str] = Counter()
        for entry in self.entries:
            held[entry.kind] += entry.rows
        return dict(held)

    def bytes_held(self) -> int:
        return sum(entry.size for entry in self.entries)

    def _name(self, entry: SpoolEntry, ns: int) -> str:
        extension = _EXTENSIONS[(entry.content_type, entry.content_encoding)]
        self._sequence += 1
        return (
            f"{ns:020d}-{os.getpid()}-{self._token}-{self._sequence:06d}-"
            f"{entry.kind}-{entry.rows}.{extension}"
        )

    def put(self, entry: SpoolEntry) -> list[SpoolEntry]:
        """Queue ``entry`` last; return the entries dropped to stay under ``max_bytes``."""
        with self._lock:
            body = entry.body
            assert body is not None
            if len(body) > self.max_bytes:
                self.dropped[entry.kind] += entry.rows
                return [entry]
            name = self._name(entry, time.time_ns())
            temporary = self.directory / f".{name}.tmp"
            try:
                self.directory.mkdir(parents=True, exist_ok=True)
                with open(temporary, "wb") as handle:
                    handle.write(body)
                    handle.flush()
                    os.fsync(handle.fileno())
                final = self.directory / name
                os.replace(temporary, final)
            except OSError as error:
                self.last_error = error
                with contextlib.suppress(OSError):
                    os.unlink(temporary)
                stored = SpoolEntry(
                    entry.kind, entry.rows, body, entry.content_type, entry.content_encoding
                )
            else:
                self.last_error = None
                stored = SpoolEntry(
                    entry.kind,
                    entry.rows,
                    None,
                    entry.content_type,
                    entry.content_encoding,
                    path=final,
                    size=len(body),
                )
            self.entries.append(stored)
            return self._shrink()

    def _shrink(self) -> list[SpoolEntry]:
        dropped: list[SpoolEntry] = []
        total = self.bytes_held()
        while total > self.max_bytes and len(self.entries) > 1:
            oldest = self.entries.pop(0)
            total -= oldest.size
            self._forget(oldest)
            self.dropped[oldest.kind] += oldest.rows
            dropped.append(oldest)
        return dropped

    def _forget(self, entry: SpoolEntry) -> None:
        if entry.path is not None:
            with contextlib.suppress(OSError):
                entry.path.unlink()

    def peek(self) -> SpoolEntry | None:
        """The oldest entry, or None."""
        with self._lock:
            return self.entries[0] if self.entries else None

    def remove(self, entry: SpoolEntry) -> None:
        """Forget ``entry`` (after a 2xx, or a refusal that retrying cannot fix)."""
        with self._lock:
            if entry in self.entries:
                self.entries.remove(entry)
            self._forget(entry)

    def adopt_orphans(self) -> int:
        """Claim the files of processes that are gone; return how many were claimed."""
        try:
            names = sorted(os.listdir(self.directory))
        except OSError:
            return 0
        claimed: list[SpoolEntry] = []
        pid = os.getpid()
        for name in names:
            match = _NAME.match(name)
            if match is None or match["token"] in _LIVE_TOKENS:
                continue
            owner = int(match["pid"])
            if owner != pid and _pid_alive(owner):
                continue
            content_type, encoding = _BY_EXTENSION[match["ext"]]
            entry = SpoolEntry(match["kind"], int(match["rows"]), None, content_type, encoding)
            with self._lock:
                target = self.directory / self._name(entry, int(match["ns"]))
            try:
                os.rename(self.directory / name, target)  # atomic: one claimant wins
                entry.size = target.stat().st_size
            except OSError:
                continue
            entry.path = target
            claimed.append(entry)
        if claimed:
            with self._lock:
                self.entries = claimed + self.entries  # theirs are older than ours
                self._shrink()
        return len(claimed)
