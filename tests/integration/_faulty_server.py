"""A collector that misbehaves, on a real loopback socket.

tests/sdk has a well-behaved receiver that can answer a status or drop the connection; this one
also answers bytes that are not HTTP, cuts its answers short and hangs, which needs a raw socket.
Every request is read in full before the fault, like a real server that fails after reading.

Modes: ``500`` (an error answer on a kept-alive connection), ``garbage`` (random bytes, then
close), ``truncated`` (a 200 whose body stops early), ``close`` (close without answering),
``reset`` (a TCP reset), ``hang`` (never answer, until the server stops).
"""

from __future__ import annotations

import contextlib
import os
import socket
import struct
import threading
from typing import Any

MODES = ("500", "garbage", "truncated", "close", "reset", "hang")


class FaultyServer:
    def __init__(self, mode: str) -> None:
        assert mode in MODES, mode
        self.mode = mode
        self.requests = 0  # requests read in full
        self.hanging = 0  # connections held without an answer right now
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._listener = socket.socket()
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(16)
        self._listener.settimeout(0.05)
        self.port = int(self._listener.getsockname()[1])
        self._threads: list[threading.Thread] = []
        self._acceptor = threading.Thread(target=self._accept, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> FaultyServer:
        self._acceptor.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        # Each connection's thread sees the stop within 0.1 s and closes its own socket (hung
        # requests end there, so the client's request fails at once).
        self._stop.set()
        self._acceptor.join(10)
        for thread in self._threads:
            thread.join(10)
        self._listener.close()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                connection, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            thread = threading.Thread(target=self._serve, args=(connection,), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _read_request(self, connection: socket.socket, buffered: bytes) -> bytes | None:
        """Read one request (headers and Content-Length body); what follows it, or None."""
        while b"\r\n\r\n" not in buffered:
            chunk = connection.recv(65536)
            if not chunk:
                return None
            buffered += chunk
        head, _, rest = buffered.partition(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value.strip())
        while len(rest) < length:
            chunk = connection.recv(65536)
            if not chunk:
                return None
            rest += chunk
        with self._lock:
            self.requests += 1
        return rest[length:]

    def _serve(self, connection: socket.socket) -> None:
        buffered = b""
        try:
            connection.settimeout(0.1)
            while not self._stop.is_set():
                try:
                    remaining = self._read_request(connection, buffered)
                except TimeoutError:
                    continue
                if remaining is None:
                    return
                buffered = remaining
                if self.mode == "500":
                    body = b'{"error": {"code": "internal", "message": "boom", "details": {}}}'
                    connection.sendall(
                        b"HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/json"
                        b"\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)
                    )
                    continue
                if self.mode == "garbage":
                    connection.sendall(os.urandom(300))
                elif self.mode == "truncated":
                    connection.sendall(
                        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                        b'Content-Length: 1000\r\n\r\n{"accepted": '
                    )
                elif self.mode == "reset":
                    connection.setsockopt(
                        socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
                    )
                elif self.mode == "hang":
                    with self._lock:
                        self.hanging += 1
                    self._stop.wait()
                    with self._lock:
                        self.hanging -= 1
                return  # close (garbage, truncated, close, reset, and hang once stopped)
        except OSError:
            return
        finally:
            with contextlib.suppress(OSError):
                connection.close()
