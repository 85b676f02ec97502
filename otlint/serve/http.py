"""OTLP/HTTP on a thread: POST /v1/traces|metrics|logs, and GET /report, /healthz, /metrics."""

from __future__ import annotations

import hmac
import json
import ssl
import threading
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Protocol

from otlint.serve.metrics import Metrics
from otlint.serve.options import Intake, ServeOptions
from otlint.serve.otlp import BY_PATH, status_bytes
from otlint.telemetry.corpus.corpus import Signal


class Sidecar(Protocol):
    """What the HTTP front end needs of the sidecar (``server.Sidecar`` is one)."""

    options: ServeOptions
    metrics: Metrics

    def lint_alive(self) -> bool:
        """False once the lint process has died."""
        ...

    def request_report(self, fmt: str, timeout: float = 30.0) -> str | None:
        """A report from the lint process now, or None if it does not answer in time."""
        ...

    def intake_http(self, signal: Signal, body: bytes, as_json: bool) -> Intake:
        """Take one OTLP/HTTP body."""
        ...


PROTOBUF = "application/x-protobuf"
JSON = "application/json"


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    server_version = "otlint"

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: access logs are not what a linter sidecar should print."""

    def _reply(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _error(self, status: int, message: str, as_json: bool) -> None:
        # OTLP/HTTP errors carry a google.rpc.Status in the request's encoding.
        code = {400: 3, 401: 16, 404: 5, 413: 8, 415: 3, 503: 14}.get(status, 2)
        if as_json:
            self._reply(status, json.dumps({"code": code, "message": message}).encode(), JSON)
        else:
            self._reply(status, status_bytes(code, message), PROTOBUF)

    def _body(self, limit: int) -> bytes:
        """The request body, from Content-Length or chunked transfer encoding, at most ``limit`` bytes."""
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            parts: list[bytes] = []
            size = 0
            while True:
                line = self.rfile.readline(1024).split(b";", 1)[0].strip()
                try:
                    n = int(line, 16)
                except ValueError:
                    raise ValueError("malformed chunked body") from None
                if n == 0:
                    while self.rfile.readline(1024).strip():
                        pass  # trailers
                    return b"".join(parts)
                size += n
                if size > limit:
                    raise ValueError(f"request is over the {limit}-byte limit")
                parts.append(self.rfile.read(n))
                self.rfile.readline(16)
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            raise ValueError("Content-Length is not a number") from None
        if length > limit:
            raise ValueError(f"request of {length} bytes is over the {limit}-byte limit")
        return self.rfile.read(length)

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
            healthy = sidecar.lint_alive()
            self._reply(
                200 if healthy else 503,
                b"ok\n" if healthy else b"lint process is down\n",
                "text/plain",
            )
            return
        if not self._authorized():
            self._error(401, "missing or wrong bearer token", True)
            return
        if path == "/report":
            text = sidecar.request_report("json")
            if text is None:
                self._error(503, "the lint process did not answer in time", True)
            else:
                self._reply(200, text.encode(), JSON)
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
        """An OTLP/HTTP export request."""
        sidecar = self.server.sidecar
        spec = BY_PATH.get(self.path.split("?", 1)[0])
        content_type = (self.headers.get("Content-Type") or "").split(";", 1)[0].strip().lower()
        as_json = content_type == JSON
        limit = sidecar.options.max_message
        try:
            body = self._body(limit)
        except ValueError as exc:
            self._error(413 if "limit" in str(exc) else 400, str(exc), as_json)
            self.close_connection = True
            return
        if spec is None:
            self._error(
                404,
                f"no OTLP endpoint at {self.path}: use /v1/traces, /v1/metrics or /v1/logs",
                as_json,
            )
            return
        if not self._authorized():
            sidecar.metrics.rejected("unauthenticated")
            self._error(401, "missing or wrong bearer token", as_json)
            return
        if content_type not in (PROTOBUF, JSON):
            self._error(
                415, f"unsupported Content-Type {content_type!r}: use {PROTOBUF} or {JSON}", as_json
            )
            return
        encoding = (self.headers.get("Content-Encoding") or "").lower()
        try:
            if encoding == "gzip":
                body = _gunzip(body, sidecar.options.max_message)
            elif encoding not in ("", "identity"):
                self._error(
                    415, f"unsupported Content-Encoding {encoding!r}: use gzip or none", as_json
                )
                return
        except (OSError, EOFError, zlib.error, ValueError) as exc:
            sidecar.metrics.rejected("invalid")
            self._error(400, f"body is not valid gzip ({exc})", as_json)
            return
        result = sidecar.intake_http(spec.signal, body, as_json)
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


def _gunzip(body: bytes, limit: int) -> bytes:
    """Decompress, refusing bodies that inflate past ``limit`` (a zip bomb is a bad request)."""
    decompressor = zlib.decompressobj(16 + zlib.MAX_WBITS)
    out = decompressor.decompress(body, limit + 1)
    if len(out) > limit or decompressor.unconsumed_tail:
        raise ValueError(f"inflates past the {limit}-byte limit")
    if not decompressor.eof:
        raise EOFError("truncated gzip stream")
    return out


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    sidecar: Sidecar


def start(
    sidecar: Sidecar, host: str, port: int, tls: ssl.SSLContext | None
) -> tuple[_Server, threading.Thread]:
    """Bind and serve on a thread; returns the server (``server_address`` has the real port)."""
    server = _Server((host, port), _Handler)
    server.sidecar = sidecar
    if tls is not None:
        # The handshake happens on the handler thread, so a silent client cannot stall accept().
        server.socket = tls.wrap_socket(
            server.socket, server_side=True, do_handshake_on_connect=False
        )
    thread = threading.Thread(target=server.serve_forever, name="otlint-http", daemon=True)
    thread.start()
    return server, thread


__all__ = ["JSON", "PROTOBUF", "start"]
