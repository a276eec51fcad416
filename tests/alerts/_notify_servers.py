"""Real receivers on loopback for the notifier tests: an HTTP server and an SMTP server.

`HttpReceiver` records every request (path, headers, raw body) and answers from a script per path
(status, headers, body; then 200 when the script runs out). `SmtpReceiver` is aiosmtpd's
Controller; it records each message parsed with the standard `email` package and can answer
DATA from a script too (e.g. one 451 before accepting), with optional STARTTLS, SSL and AUTH.
"""

from __future__ import annotations

import email
import email.policy
import shutil
import socket
import ssl
import subprocess
import threading
import time
from dataclasses import dataclass, field
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, cast

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Reply:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b"ok"
    delay_s: float = 0.0


class HttpReceiver:
    """`ThreadingHTTPServer` on 127.0.0.1 in a thread: `with HttpReceiver() as receiver: ...`."""

    def __init__(self) -> None:
        self.requests: list[Received] = []
        self.scripts: dict[str, list[Reply]] = {}
        self.defaults: dict[str, Reply] = {}
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                with receiver.lock:
                    receiver.requests.append(Received(self.path, dict(self.headers.items()), body))
                    script = receiver.scripts.get(self.path) or []
                    reply = script.pop(0) if script else receiver.defaults.get(self.path, Reply())
                if reply.delay_s:
                    time.sleep(reply.delay_s)
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                self.wfile.write(reply.body)

            def log_message(self, format: str, *args: Any) -> None:  # quiet
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = int(self.server.server_address[1])
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def script(self, path: str, *replies: Reply) -> None:
        with self.lock:
            self.scripts[path] = list(replies)

    def received(self, path: str) -> list[Received]:
        with self.lock:
            return [r for r in self.requests if r.path == path]

    def __enter__(self) -> HttpReceiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def closed_port_url(path: str = "/") -> str:
    """A loopback URL where nothing listens (connections are refused)."""
    return f"http://127.0.0.1:{free_port()}{path}"


@dataclass
class Mail:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage


class _Handler:
    def __init__(self, receiver: SmtpReceiver) -> None:
        self.receiver = receiver

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.receiver.lock:
            if self.receiver.data_replies:
                return self.receiver.data_replies.pop(0)
            message = email.message_from_bytes(envelope.content, policy=email.policy.default)
            self.receiver.mails.append(
                Mail(envelope.mail_from, list(envelope.rcpt_tos), cast(EmailMessage, message))
            )
        return "250 2.0.0 Message accepted for delivery"


class SmtpReceiver:
    """aiosmtpd on 127.0.0.1; ``tls`` is None, "starttls" or "ssl"; ``login`` requires AUTH."""

    def __init__(
        self,
        *,
        tls: str | None = None,
        cert: tuple[Path, Path] | None = None,
        login: tuple[str, str] | None = None,
    ) -> None:
        self.mails: list[Mail] = []
        self.data_replies: list[str] = []
        self.lock = threading.Lock()
        self.port = free_port()
        kwargs: dict[str, Any] = {}
        if tls is not None:
            assert cert is not None
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(str(cert[0]), str(cert[1]))
            if tls == "starttls":
                kwargs.update(tls_context=context, require_starttls=True)
            else:
                kwargs.update(ssl_context=context)
        if login is not None:
            expected = LoginPassword(login[0].encode(), login[1].encode())

            def authenticate(server: Any, session: Any, envelope: Any, mechanism: str, data: Any):
                return AuthResult(success=data == expected, handled=False)

            kwargs.update(authenticator=authenticate, auth_required=True)
            # aiosmtpd does not count implicit TLS as TLS for AUTH (the test filters its warning)
            kwargs["auth_require_tls"] = tls == "starttls"
        self.controller = Controller(
            _Handler(self), hostname="127.0.0.1", port=self.port, ready_timeout=10, **kwargs
        )

    def __enter__(self) -> SmtpReceiver:
        self.controller.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.controller.stop()


def self_signed_cert(directory: Path) -> tuple[Path, Path] | None:
    """A certificate for 127.0.0.1 and its key, made with the openssl command (None if absent)."""
    openssl = shutil.which("openssl")
    if openssl is None:
        return None
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "2", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key
