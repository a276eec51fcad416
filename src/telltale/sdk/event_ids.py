"""Event ids that cost one ``next()`` on the calling thread.

An event id must be unique across every process that ever reports to a server (the server drops a
repeated id as a duplicate), and the hot path cannot afford ``uuid.uuid4()`` (about 1.5 µs). So a
process draws a random 64-bit *prefix* once (again after ``fork``) and numbers its calls with an
``itertools.count`` (atomic under the GIL, ~45 ns). The 128 bits are formatted as a UUID string
only on the background thread:

    prefix (64 bits, version nibble = 8) | variant 10 | batch flag | sequence (61 bits)

It is a valid version-8 ("custom") UUID, so DuckDB's UUID type and ``uuid.UUID`` accept it. A batch
call of N rows takes a block of N consecutive numbers from a second sequence (the flag bit set), so
its rows' ids can be computed without asking the background thread.

>>> ids = EventIds(prefix=0x0123456789ABCDEF)
>>> ids.format(next(ids.sequence))
'01234567-89ab-8def-8000-000000000000'
>>> ids.format_block(ids.reserve_block(2), 2)
['01234567-89ab-8def-a000-000000000000', '01234567-89ab-8def-a000-000000000001']
>>> ids.format_many([5, 6])
['01234567-89ab-8def-8000-000000000005', '01234567-89ab-8def-8000-000000000006']
"""

from __future__ import annotations

import itertools
import secrets
import threading

__all__ = ["EventIds"]

_VERSION_MASK = ~0xF000 & 0xFFFF_FFFF_FFFF_FFFF
_VERSION_8 = 0x8000
_VARIANT = 0b10 << 62
_BATCH_FLAG = 1 << 61
_SEQUENCE_MASK = _BATCH_FLAG - 1
_LOW_48 = (1 << 48) - 1


class EventIds:
    """The id space of one process: a random prefix, a call sequence and a batch sequence."""

    def __init__(self, prefix: int | None = None) -> None:
        self.prefix = self._with_version(secrets.randbits(64) if prefix is None else prefix)
        self._set_prefix_text()
        self.sequence = itertools.count()
        self._block_lock = threading.Lock()
        self._next_block = 0

    @staticmethod
    def _with_version(prefix: int) -> int:
        return (prefix & _VERSION_MASK) | _VERSION_8

    def redraw(self) -> None:
        """A fresh prefix and lock, for the child after ``fork`` (its numbers repeat the parent's)."""
        self.prefix = self._with_version(secrets.randbits(64))
        self._set_prefix_text()
        self._block_lock = threading.Lock()

    def _set_prefix_text(self) -> None:
        high = f"{self.prefix:016x}"
        self._prefix_hex = high
        self._head = f"{high[:8]}-{high[8:12]}-{high[12:]}-"
        # One %-format per id for call numbers below 2**48 (all of them in practice: a process
        # making a million calls a second reaches 2**48 in nine years).
        self._format_call = (self._head + "8000-%012x").__mod__

    def reserve_block(self, size: int) -> int:
        """The first number of ``size`` consecutive batch ids reserved for one batch call."""
        with self._block_lock:
            first = self._next_block
            self._next_block += size
        return first | _BATCH_FLAG

    def format(self, number: int) -> str:
        """The UUID string of a number from :attr:`sequence` or :meth:`reserve_block`."""
        low = f"{_VARIANT | (number & (_BATCH_FLAG | _SEQUENCE_MASK)):016x}"
        high = self._prefix_hex
        return f"{high[:8]}-{high[8:12]}-{high[12:]}-{low[:4]}-{low[4:]}"

    def format_many(self, numbers: list[int]) -> list[str]:
        """The UUID strings of many numbers at once: the background thread's bulk form."""
        if not numbers:
            return []
        if max(numbers) <= _LOW_48 and min(numbers) >= 0:
            return list(map(self._format_call, numbers))
        head = self._head
        return [
            f"{head}{0x8000 | ((number & (_BATCH_FLAG | _SEQUENCE_MASK)) >> 48):04x}-"
            f"{number & _LOW_48:012x}"
            for number in numbers
        ]

    def format_block(self, first: int, size: int) -> list[str]:
        """The ids of a block of ``size`` rows starting at ``first``."""
        return [self.format(first + offset) for offset in range(size)]
