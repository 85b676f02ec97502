"""Helpers of the sidecar tests: `otlint serve` as a subprocess on loopback, a real gRPC
upstream that keeps what it gets, and the processes and threads of the sidecar in /proc."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent import futures
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2

SERVICES = {
    "traces": "/opentelemetry.proto.collector.trace.v1.TraceService/Export",
    "metrics": "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export",
    "logs": "/opentelemetry.proto.collector.logs.v1.LogsService/Export",
}


@dataclass
class Upstream:
    """A real gRPC OTLP receiver that keeps every request's raw bytes, in arrival order
    (``delay``: seconds each answer waits, after the request is kept)."""

    port: int
    received: list[tuple[str, bytes]] = field(default_factory=list)
    server: Any = None
    delay: float = 0.0

    def start(self) -> None:
        lock = threading.Lock()

        def handler(kind: str) -> Any:
            def export(request: bytes, context: Any) -> bytes:
                with lock:
                    self.received.append((kind, request))
                if self.delay:
                    time.sleep(self.delay)
                return b""

            return grpc.unary_unary_rpc_method_handler(export)

        server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
        for kind, path in SERVICES.items():
            service = path.split("/")[1]
            server.add_generic_rpc_handlers(
                (grpc.method_handlers_generic_handler(service, {"Export": handler(kind)}),)
            )
        assert server.add_insecure_port(f"127.0.0.1:{self.port}") == self.port
        server.start()
        self.server = server

    def stop(self) -> None:
        self.server.stop(0)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextmanager
def sidecar(
    tmp: Path, *args: str, env: dict[str, str] | None = None, timeout: float = 120
) -> Iterator[dict[str, Any]]:
    """Start `otlint serve` on ephemeral loopback ports; yields its addresses; SIGTERM at the end
    (``info["returncode"]``, ``info["stderr"]`` after the block)."""
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "otlint",
            "serve",
            "--grpc",
            "127.0.0.1:0",
            "--http",
            "127.0.0.1:0",
            "--isolated",
            *args,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp,
        env={**os.environ, **(env or {})},
    )
    assert proc.stderr is not None
    lines = []
    while True:  # a --spool replay says so before the listening line
        line = proc.stderr.readline()
        lines.append(line)
        if not line or "GRPC on" in line:
            break
    match = re.search(r"GRPC on ([\d.]+:\d+), HTTP on ([\d.]+:\d+)", line)
    assert match, "".join(lines) + (proc.stderr.read() if proc.poll() is not None else "")
    info: dict[str, Any] = {"grpc": match.group(1), "http": match.group(2), "proc": proc}
    try:
        yield info
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        try:
            _out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            _out, err = proc.communicate()
            info["hung"] = True
        info["returncode"] = proc.returncode
        info["stderr"] = "".join(lines) + err


def exporter(
    grpc_addr: str, signal_kind: str = "traces"
) -> tuple[grpc.Channel, Callable[..., Any]]:
    """A raw OTLP/gRPC Export call to the sidecar: bytes in, bytes out."""
    channel = grpc.insecure_channel(grpc_addr)
    return channel, channel.unary_unary(
        SERVICES[signal_kind], request_serializer=None, response_deserializer=None
    )


def traces_request(
    service: str, ids: Iterable[tuple[bytes, bytes]], name: str, attr_bytes: int = 0
) -> bytes:
    """An encoded traces request of one ``service.name`` resource, a span named ``name`` for
    each (trace id, span id) in ``ids`` and, if ``attr_bytes``, an attribute of that many
    bytes on each span."""
    req = trace_service_pb2.ExportTraceServiceRequest()
    rs = req.resource_spans.add()
    kv = rs.resource.attributes.add()
    kv.key, kv.value.string_value = "service.name", service
    scope = rs.scope_spans.add()
    for trace_id, span_id in ids:
        span = scope.spans.add()
        span.trace_id, span.span_id = trace_id, span_id
        span.name = name
        span.start_time_unix_nano, span.end_time_unix_nano = 1, 2
        if attr_bytes:
            big = span.attributes.add()
            big.key, big.value.string_value = "payload", "x" * attr_bytes
    data: bytes = req.SerializeToString()
    return data


def children(pid: int) -> list[int]:
    """The child processes of ``pid`` (from /proc)."""
    out = []
    for task in os.listdir(f"/proc/{pid}/task"):
        try:
            out += [int(c) for c in Path(f"/proc/{pid}/task/{task}/children").read_text().split()]
        except OSError:
            continue
    return out


def lint_pid(pid: int) -> int:
    """The sidecar's lint process (a multiprocessing spawn child, not its resource tracker)."""
    for child in children(pid):
        try:
            cmdline = Path(f"/proc/{child}/cmdline").read_bytes()
        except OSError:
            continue
        if b"spawn_main" in cmdline:
            return child
    raise AssertionError(f"no lint process under {pid}")


def threads(pid: int) -> int:
    """Threads of ``pid`` now."""
    return len(os.listdir(f"/proc/{pid}/task"))


def rss_mb(pid: int) -> float:
    """Resident memory of ``pid`` now, in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def wait_for(check: Callable[[], object], timeout: float, what: str) -> Any:
    """Poll ``check`` until it returns something true; fail after ``timeout`` seconds."""
    end = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > end:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)
