"""Real sockets that misbehave, on loopback: a server that never answers, a server that
answers one byte a second, and a proxy that loses a chosen operation's request or response.

Timeouts and dropped connections must be tested through a real socket: a mocked sleep
or a stubbed exception would not show what botocore's retry handler does with them.
"""

from __future__ import annotations

import json
import socket
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal

Fault = Literal["lose_response", "lose_request"]


@contextmanager
def stalling_server() -> Iterator[str]:
    """An endpoint that accepts connections and never says a word; yields its URL."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            held.append(connection)

    thread = threading.Thread(target=accept, name="stalling-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        thread.join()
        for connection in held:
            connection.close()
        listener.close()


@dataclass
class TricklingServer:
    """What :func:`trickling_server` yields: its URL and the operations it was asked for."""

    url: str
    operations: list[str] = field(default_factory=list)


@contextmanager
def trickling_server(
    answers: Mapping[str, dict[str, Any]] | None = None, byte_every_seconds: float = 1.0
) -> Iterator[TricklingServer]:
    """An AWS JSON endpoint that answers the operations in ``answers`` (by the end of their
    ``X-Amz-Target``) at once, and every other one a byte at a time, one per
    ``byte_every_seconds``: each socket read gets a byte well within botocore's
    ``read_timeout``, so only a bound on the whole call ends it."""
    canned = dict(answers or {})
    stop = threading.Event()
    seen: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *_args: object) -> None:
            pass

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            operation = self.headers.get("X-Amz-Target", "").rpartition(".")[2]
            seen.append(operation)
            if operation in canned:
                body = json.dumps(canned[operation]).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/x-amz-json-1.1")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                return
            self.close_connection = True
            head = b"HTTP/1.1 200 OK\r\nContent-Type: application/x-amz-json-1.1\r\n"
            for byte in head:
                if stop.wait(byte_every_seconds):
                    return
                try:
                    self.wfile.write(bytes([byte]))
                except OSError:  # the client gave up
                    return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, name="trickling-server", daemon=True)
    thread.start()
    try:
        yield TricklingServer(f"http://127.0.0.1:{server.server_address[1]}", seen)
    finally:
        stop.set()
        server.shutdown()
        thread.join()
        server.server_close()


@contextmanager
def faulty_proxy(upstream: str, target: str, fault: Fault, times: int = 1) -> Iterator[str]:
    """Forward every request to ``upstream``, but for the first ``times`` requests whose
    ``X-Amz-Target`` ends with ``target`` close the connection without an answer: after
    forwarding (``lose_response``, the server acted) or before (``lose_request``)."""
    remaining = [times]
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *_args: object) -> None:
            pass

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            with lock:
                hit = self.headers.get("X-Amz-Target", "").endswith(target) and remaining[0] > 0
                if hit:
                    remaining[0] -= 1
            if hit and fault == "lose_request":
                self.close_connection = True
                return
            request = urllib.request.Request(
                upstream + self.path, data=body, headers=dict(self.headers), method="POST"
            )
            try:
                with urllib.request.urlopen(request, timeout=30) as response:
                    status, headers, payload = response.status, response.headers, response.read()
            except urllib.error.HTTPError as error:  # AWS errors are answers too
                status, headers, payload = error.code, error.headers, error.read()
            if hit:
                self.close_connection = True  # the server acted; the answer is lost
                return
            self.send_response(status)
            for name, value in headers.items():
                if name.lower() not in ("transfer-encoding", "connection", "content-length"):
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, name="faulty-proxy", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        thread.join()
        server.server_close()
