"""OTLP/HTTP on a thread: POST /v1/traces|metrics|logs, and GET /report, /healthz, /metrics.

Hostile clients are expected. Nothing of a request body is read before its path, bearer
token, Content-Type and Content-Encoding are accepted, and the body is read in pieces
while counting, so a declared length or a chunk size cannot make the server read past
``--max-message-size``. Every connection has an idle timeout (a read or write that waits
longer ends it), at most ``http_max_connections`` are served at once, and a client that
drops its connection or speaks the wrong protocol ends only that connection, quietly.
"""

from __future__ import annotations

import hmac
import json
import socket
import ssl
import sys
import threading
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol

from otlint.core.redact import mask_secrets
from otlint.serve.metrics import Metrics
from otlint.serve.options import Intake, ServeOptions
from otlint.serve.otlp import BY_PATH, status_bytes
from otlint.telemetry.corpus.corpus import Signal


class Sidecar(Protocol):
    """What the HTTP front end needs of the sidecar (``server.Sidecar`` is one)."""

    options: ServeOptions
    metrics: Metrics

    def health(self) -> list[str]:
        """What is degraded now (empty when all is well)."""
        ...

    def request_report(self, fmt: str, timeout: float = 30.0) -> str | None:
        """A report from the lint process now, or None if it does not answer in time."""
        ...

    def intake_http(self, signal: Signal, body: bytes, as_json: bool) -> Intake:
        """Take one OTLP/HTTP body."""
        ...


PROTOBUF = "application/x-protobuf"
JSON = "application/json"
PIECE = 1 << 20
"""Bodies are read at most this many bytes at a time: memory follows what arrived, not what was declared."""
LINGER = 1 << 20
"""A refused request's declared body up to this size is read and dropped after the answer."""
_HEX = frozenset(b"0123456789abcdefABCDEF")
_MAX_TRAILERS = 64


class BodyError(Exception):
    """A request body that is refused: the HTTP status and why."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    server_version = "otlint"
    _expect_continue = False

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: access logs are not what a linter sidecar should print."""

    def handle_expect_100(self) -> bool:
        """Answer ``Expect: 100-continue`` only once the request is accepted (see ``do_POST``)."""
        self._expect_continue = True
        return True

    def _reply(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)

    def _error(self, status: int, message: str, as_json: bool) -> None:
        # OTLP/HTTP errors carry a google.rpc.Status in the request's encoding; what they
        # echo of the request (its path and query) has its credentials masked.
        message = mask_secrets(message)
        code = {400: 3, 401: 16, 404: 5, 413: 8, 415: 3, 500: 13, 501: 12, 503: 14}.get(status, 2)
        if as_json:
            self._reply(status, json.dumps({"code": code, "message": message}).encode(), JSON)
        else:
            self._reply(status, status_bytes(code, message), PROTOBUF)

    def _refuse(self, status: int, message: str, as_json: bool) -> None:
        """Refuse before the body is read: answer, then close the connection (its unread body
        makes it unusable). A small declared body is read and dropped after the answer, so a
        client still sending it reads the answer instead of a reset connection."""
        self.close_connection = True
        self._error(status, message, as_json)
        declared = (self.headers.get("Content-Length") or "").strip()
        if not (declared.isascii() and declared.isdigit()) or int(declared) > LINGER:
            return
        self.wfile.flush()
        left = int(declared)
        while left > 0:
            piece = self.rfile.read(min(left, 1 << 16))
            if not piece:
                return
            left -= len(piece)

    def _read(self, length: int) -> bytes:
        """Exactly ``length`` bytes, read a piece at a time."""
        parts: list[bytes] = []
        remaining = length
        while remaining:
            piece = self.rfile.read(min(remaining, PIECE))
            if not piece:
                raise BodyError(400, f"the body ended after {length - remaining} of {length} bytes")
            parts.append(piece)
            remaining -= len(piece)
        return parts[0] if len(parts) == 1 else b"".join(parts)

    def _body(self, limit: int) -> bytes:
        """The request body, from Content-Length or chunked transfer encoding, at most ``limit`` bytes."""
        coding = (self.headers.get("Transfer-Encoding") or "").strip().lower()
        if coding:
            if coding != "chunked":
                raise BodyError(
                    501, f"unsupported Transfer-Encoding {coding!r}: use chunked or none"
                )
            return self._chunked(limit)
        declared = self.headers.get_all("Content-Length") or ["0"]
        text = declared[0].strip()
        if len(set(declared)) > 1 or not (text.isascii() and text.isdigit()):
            raise BodyError(400, f"Content-Length {', '.join(declared)!r} is not one byte count")
        length = int(text)
        if length > limit:
            raise BodyError(413, f"request of {length} bytes is over the {limit}-byte limit")
        return self._read(length)

    def _chunked(self, limit: int) -> bytes:
        parts: list[bytes] = []
        size = 0
        while True:
            line = self.rfile.readline(1026)
            if not line.endswith(b"\n"):
                raise BodyError(400, "malformed chunked body: a chunk-size line is cut or too long")
            field = line.split(b";", 1)[0].strip()
            if not field or len(field) > 16 or not _HEX.issuperset(field):
                raise BodyError(
                    400, f"malformed chunked body: chunk size {field[:20]!r} is not hex"
                )
            n = int(field, 16)
            if n == 0:
                for _ in range(_MAX_TRAILERS):
                    trailer = self.rfile.readline(1026)
                    if not trailer.strip():
                        return b"".join(parts)
                raise BodyError(400, "malformed chunked body: too many trailer lines")
            size += n
            if size > limit:
                raise BodyError(413, f"request is over the {limit}-byte limit")
            parts.append(self._read(n))
            if self.rfile.readline(3).strip():
                raise BodyError(400, "malformed chunked body: a chunk is longer than its size")

    def _authorized(self) -> bool:
        token = self.server.sidecar.options.auth_token
        if not token:
            return True
        given = self.headers.get("Authorization", "")
        return hmac.compare_digest(given.encode(), f"Bearer {token}".encode())

    def do_GET(self) -> None:
        """Report, health and metrics endpoints."""
        sidecar = self.server.sidecar
        path = self.path.split("?", 1)[0]
        if path == "/healthz":
            problems = sidecar.health()
            text = "degraded: " + "; ".join(problems) if problems else "ok"
            self._reply(200, text.encode() + b"\n", "text/plain; charset=utf-8")
            return
        if not self._authorized():
            self._error(401, "missing or wrong bearer token", True)
            return
        if path == "/report":
            report = sidecar.request_report("json")
            if report is None:
                self._error(503, "the lint process did not answer in time", True)
            else:
                self._reply(200, report.encode(), JSON)
        elif path == "/metrics":
            body, content_type = sidecar.metrics.exposition()
            self._reply(200, body, content_type)
        else:
            self._error(
                404,
                f"no such endpoint {path}: use /v1/traces, /v1/metrics, /v1/logs, /report, /healthz, /metrics",
                True,
            )

    def do_POST(self) -> None:
        """An OTLP/HTTP export request: everything but the body is checked before the body is read."""
        sidecar = self.server.sidecar
        spec = BY_PATH.get(self.path.split("?", 1)[0])
        content_type = (self.headers.get("Content-Type") or "").split(";", 1)[0].strip().lower()
        as_json = content_type == JSON
        if not self._authorized():
            sidecar.metrics.rejected("unauthenticated")
            self._refuse(401, "missing or wrong bearer token", as_json)
            return
        if spec is None:
            self._refuse(
                404,
                f"no OTLP endpoint at {self.path[:200]}: use /v1/traces, /v1/metrics or /v1/logs",
                as_json,
            )
            return
        if content_type not in (PROTOBUF, JSON):
            self._refuse(
                415,
                f"unsupported Content-Type {content_type[:100]!r}: use {PROTOBUF} or {JSON}",
                as_json,
            )
            return
        encoding = (self.headers.get("Content-Encoding") or "").strip().lower()
        if encoding not in ("", "identity", "gzip"):
            self._refuse(
                415, f"unsupported Content-Encoding {encoding[:100]!r}: use gzip or none", as_json
            )
            return
        limit = sidecar.options.max_message
        if self._expect_continue:
            self.send_response_only(100)
            self.end_headers()
        try:
            body = self._body(limit)
        except BodyError as exc:
            sidecar.metrics.rejected("too_large" if exc.status == 413 else "invalid")
            self._refuse(exc.status, str(exc), as_json)
            return
        if encoding == "gzip":
            try:
                body = gunzip(body, limit)
            except ValueError as exc:
                sidecar.metrics.rejected("invalid")
                self._error(400, f"body is not valid gzip ({exc})", as_json)
                return
        try:
            result = sidecar.intake_http(spec.signal, body, as_json)
        except Exception as exc:  # never a traceback from a request
            sidecar.metrics.rejected("internal")
            print(
                mask_secrets(
                    f"otlint serve: an HTTP {spec.signal.label} request failed ({type(exc).__name__}: {exc}); serving goes on"
                ),
                file=sys.stderr,
                flush=True,
            )
            self._error(500, f"the sidecar failed on this request: {exc}", as_json)
            return
        if result.status == "bad":
            self._error(400, result.message, as_json)
        elif result.status == "full":
            self._error(503, result.message, as_json)
        else:
            response = spec.response()
            if result.message:
                response.partial_success.error_message = result.message
            if as_json:
                payload = (
                    {"partialSuccess": {"errorMessage": result.message}} if result.message else {}
                )
                self._reply(200, json.dumps(payload).encode(), JSON)
            else:
                self._reply(200, response.SerializeToString(), PROTOBUF)


def gunzip(body: bytes, limit: int) -> bytes:
    """Decompress every member of a gzip body (RFC 1952: members concatenate), refusing
    bodies that inflate past ``limit`` (a zip bomb is a bad request); ValueError if it is
    not gzip, is cut short, or has bytes after its last member."""
    out: list[bytes] = []
    total = 0
    rest = body
    while True:
        decompressor = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            piece = decompressor.decompress(rest, limit - total + 1)
        except zlib.error as exc:
            raise ValueError(str(exc)) from None
        total += len(piece)
        if total > limit or decompressor.unconsumed_tail:
            raise ValueError(f"inflates past the {limit}-byte limit")
        if not decompressor.eof:
            raise ValueError("truncated gzip stream")
        out.append(piece)
        rest = decompressor.unused_data
        if not rest:
            return out[0] if len(out) == 1 else b"".join(out)
        if not rest.startswith(b"\x1f\x8b"):
            raise ValueError(f"{len(rest)} bytes after the last gzip member")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # socketserver's 5 makes a burst of connects wait on SYN retries
    sidecar: Sidecar
    _slots: threading.BoundedSemaphore

    def process_request(
        self, request: socket.socket | tuple[bytes, socket.socket], client_address: Any
    ) -> None:
        """One thread per connection, at most ``http_max_connections``: beyond, close at once."""
        if not self._slots.acquire(blocking=False):
            self.sidecar.metrics.rejected("too_many_connections")
            self.shutdown_request(request)
            return
        super().process_request(request, client_address)

    def process_request_thread(
        self, request: socket.socket | tuple[bytes, socket.socket], client_address: Any
    ) -> None:
        """Serve one connection, then give its slot back."""
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()

    def handle_error(self, request: object, client_address: object) -> None:
        """A dropped connection, a timeout or a TLS mismatch ends that connection quietly;
        anything else is one line on stderr, never a traceback."""
        exc = sys.exc_info()[1]
        if isinstance(exc, OSError):  # ssl.SSLError, ConnectionError and TimeoutError too
            self.sidecar.metrics.rejected("connection_error")
            return
        self.sidecar.metrics.rejected("internal")
        host = client_address[0] if isinstance(client_address, tuple) else client_address
        print(
            mask_secrets(
                f"otlint serve: an HTTP request from {host} failed ({type(exc).__name__}: {exc}); serving goes on"
            ),
            file=sys.stderr,
            flush=True,
        )


def start(
    sidecar: Sidecar, host: str, port: int, tls: ssl.SSLContext | None
) -> tuple[_Server, threading.Thread]:
    """Bind and serve on a thread; returns the server (``server_address`` has the real port)."""
    # The idle timeout bounds every read and write of a connection (StreamRequestHandler).
    handler = type("_Handler", (_Handler,), {"timeout": sidecar.options.http_idle_timeout or None})
    server = _Server((host, port), handler)
    server.sidecar = sidecar
    server._slots = threading.BoundedSemaphore(sidecar.options.http_max_connections)
    if tls is not None:
        # The handshake happens on the handler thread, so a silent client cannot stall accept().
        server.socket = tls.wrap_socket(
            server.socket, server_side=True, do_handshake_on_connect=False
        )
    thread = threading.Thread(target=server.serve_forever, name="otlint-http", daemon=True)
    thread.start()
    return server, thread


__all__ = ["JSON", "PROTOBUF", "BodyError", "gunzip", "start"]
