"""What ``otlint serve`` was told, and what it answers one export request: the types the
server and its HTTP and metrics front ends share (so neither front end imports the server)."""

from __future__ import annotations

from dataclasses import dataclass, field

from otlint.serve.lint import LintOptions


@dataclass
class ServeOptions:
    """Everything ``otlint serve`` was told."""

    grpc: str | None = "127.0.0.1:4317"
    http: str | None = "127.0.0.1:4318"
    forward: str | None = None
    forward_tls: bool = False
    forward_ca: str | None = None
    forward_headers: tuple[tuple[str, str], ...] = ()
    forward_queue: int = 10_000
    forward_queue_bytes: int = 256 << 20
    max_message: int = 64 << 20
    tls_cert: str | None = None
    tls_key: str | None = None
    auth_token: str | None = None
    lint_queue: int = 1_000
    lint_queue_bytes: int = 64 << 20
    shutdown_timeout: float = 30.0
    spool: str | None = None
    http_idle_timeout: float = 30.0
    http_max_connections: int = 256
    status_interval: float = 30.0
    lint: LintOptions = field(default_factory=LintOptions)


@dataclass
class Intake:
    """The answer to one export request."""

    status: str  # "ok" | "bad" | "full" | "error"
    records: int = 0
    message: str = ""
