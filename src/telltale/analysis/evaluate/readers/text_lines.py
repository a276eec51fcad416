"""Reading a text file as numbered lines: UTF-8, CRLF or LF, a missing last newline.

Every reader of line-oriented formats starts here, so that all of them accept the same files
(Windows line endings, a byte-order mark, no final newline) and name the file and line number
in their errors the same way.

>>> import pathlib, tempfile
>>> path = pathlib.Path(tempfile.mkdtemp()) / "labels.txt"
>>> _ = path.write_bytes(b"positive\\r\\nnegative")
>>> [(line.number, line.text) for line in read_lines(path)]
[(1, 'positive'), (2, 'negative')]
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from telltale.errors import DataError

__all__ = ["Line", "read_lines", "read_text"]


@dataclass(frozen=True)
class Line:
    """One line of a file without its line ending; ``number`` counts from 1."""

    number: int
    text: str


def read_text(path: str | Path, role: str) -> str:
    """The whole file as text; :class:`DataError` naming ``role`` and the file when unreadable."""
    file = Path(path)
    if not file.exists():
        raise DataError(f"{role} file {str(file)!r} does not exist; check the path")
    if file.is_dir():
        raise DataError(f"{role} path {str(file)!r} is a directory; pass a file")
    raw = file.read_bytes()
    if not raw.strip():
        raise DataError(
            f"{role} file {str(file)!r} is empty"
            + (" (0 bytes)" if not raw else " (only whitespace)")
            + "; it needs one record per line"
        )
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise DataError(
            f"{role} file {str(file)!r} is not UTF-8: byte {raw[exc.start]:#04x} on line {line} "
            "cannot be decoded; re-save the file as UTF-8"
        ) from None
    return text


def read_lines(path: str | Path, role: str = "input") -> list[Line]:
    """The lines of a UTF-8 text file, with ``\\r\\n`` or ``\\n`` endings removed.

    A final newline does not make an extra empty line; blank lines inside the file are kept
    (the caller decides whether they mean something, as in CoNLL, or are an error).
    """
    text = read_text(path, role)
    parts = text.split("\n")
    if parts and parts[-1] == "":
        parts.pop()
    return [Line(i + 1, part[:-1] if part.endswith("\r") else part) for i, part in enumerate(parts)]
