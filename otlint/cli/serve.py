"""``otlint serve``: the command line of the sidecar."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from otlint.core.errors import OtlintError

AUTH_TOKEN_ENV = "OTLINT_AUTH_TOKEN"
"""Bearer token clients must send (an alternative to --auth-token that stays out of `ps`)."""


def _address(value: str | None, what: str) -> str | None:
    if value is None or value.lower() in ("off", "none", ""):
        return None
    from otlint.serve.server import split_address

    split_address(value, what)
    return value


def _headers(values: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    out = []
    for value in values:
        key, sep, val = value.partition("=")
        if not sep or not key.strip():
            raise OtlintError(f"--forward-header {value!r}: write KEY=VALUE")
        out.append((key.strip().lower(), val.strip()))
    return tuple(out)


#: A file's path (--report, --state, --config), and a file that must exist (TLS and CA files).
_FILE = click.Path(dir_okay=False)
_EXISTING_FILE = click.Path(exists=True, dir_okay=False)

_F = TypeVar("_F", bound=Callable[..., Any])


def _bounded(
    flag: str, bounds: click.IntRange | click.FloatRange, default: float, text: str
) -> Callable[[_F], _F]:
    """An option taking a number within ``bounds``; ``--help`` shows its default and bounds."""
    return click.option(flag, type=bounds, default=default, show_default=True, help=text)


@click.command("serve")
@click.option(
    "--grpc",
    "grpc_addr",
    default="127.0.0.1:4317",
    show_default=True,
    help="OTLP/gRPC listen address, or off.",
)
@click.option(
    "--http",
    "http_addr",
    default="127.0.0.1:4318",
    show_default=True,
    help="OTLP/HTTP listen address (also /report, /healthz, /metrics), or off.",
)
@click.option(
    "--forward",
    help="Upstream OTLP/gRPC collector HOST:PORT: every request goes there unchanged and in order.",
)
@click.option("--forward-tls", is_flag=True, help="Use TLS to the upstream.")
@click.option("--forward-ca", type=_EXISTING_FILE, help="CA bundle for --forward-tls.")
@click.option(
    "--forward-header", multiple=True, help="gRPC metadata KEY=VALUE sent upstream (repeatable)."
)
@_bounded(
    "--forward-queue",
    click.IntRange(min=1),
    10_000,
    "Requests held for the upstream before clients get UNAVAILABLE.",
)
@_bounded(
    "--max-message-size", click.IntRange(min=1024), 64 << 20, "Largest request accepted, in bytes."
)
@click.option(
    "--tls-cert", type=_EXISTING_FILE, help="Serve gRPC and HTTP over TLS with this certificate."
)
@click.option("--tls-key", type=_EXISTING_FILE, help="Private key for --tls-cert.")
@click.option(
    "--auth-token",
    envvar=AUTH_TOKEN_ENV,
    help=f"Require 'Authorization: Bearer TOKEN' (or ${AUTH_TOKEN_ENV}).",
)
@_bounded(
    "--trace-idle",
    click.FloatRange(min=0),
    10.0,
    "Seconds a trace must be quiet before it is judged.",
)
@_bounded(
    "--max-spans",
    click.IntRange(min=1000),
    1_000_000,
    "Spans held in memory; beyond it the oldest traces are judged and freed.",
)
@_bounded(
    "--lint-queue",
    click.IntRange(min=1),
    1000,
    "Requests waiting for the linter; beyond it requests are forwarded but not linted.",
)
@_bounded(
    "--lint-queue-bytes",
    click.IntRange(min=1024),
    64 << 20,
    "Bytes waiting for the linter; beyond it requests are forwarded but not linted.",
)
@click.option(
    "--report",
    "report_file",
    type=_FILE,
    help="Rewrite the report to FILE every --report-interval and on shutdown.",
)
@click.option(
    "--format",
    "-f",
    "fmt",
    type=click.Choice(["text", "json", "sarif", "github", "junit", "mermaid", "dot"]),
    default="text",
    show_default=True,
    help="Format of --report.",
)
@_bounded("--report-interval", click.FloatRange(min=0.5), 10.0, "Seconds between report rewrites.")
@click.option(
    "--state",
    "state_file",
    type=_FILE,
    help="Write the Corpus shard on shutdown (merge with `otlint merge`).",
)
@_bounded(
    "--shutdown-timeout",
    click.FloatRange(min=0),
    30.0,
    "Seconds to flush forwarding on shutdown; then the request in flight is waited for (at most 10 s) and the rest goes to --spool, or is counted lost.",
)
@click.option(
    "--spool",
    type=click.Path(file_okay=False),
    help="Keep what the upstream did not take by shutdown in DIR, and replay it on the next start.",
)
@_bounded(
    "--http-idle-timeout",
    click.FloatRange(min=0.1),
    30.0,
    "Seconds an HTTP connection may wait on a read or write before it is closed.",
)
@click.option("--config", "-c", type=_FILE, help="Config file (default: found upward).")
@click.option("--isolated", is_flag=True, help="Ignore config files.")
@click.option("--select", multiple=True, help="Rules to run (codes, prefixes, joins, ALL).")
@click.option("--extend-select", multiple=True, help="Rules to run in addition.")
@click.option("--ignore", multiple=True, help="Rules not to run.")
@click.option(
    "--show-values", is_flag=True, help="Include attribute values in reports (secrets stay masked)."
)
def serve(**o: Any) -> None:
    """Receive OTLP (gRPC and HTTP), forward it untouched, and lint it on the side.

    Stops on SIGTERM or SIGINT: stops accepting, flushes forwarding (for at most
    --shutdown-timeout, then what is left goes to --spool), judges everything held,
    writes the report (and --state). Exits 0 when everything acknowledged to clients was
    forwarded, refused by the upstream or spooled and the final report was written; 3
    when acknowledged records were lost (stderr says how many); 2 on an error.
    """
    # gRPC's core logs every failed TLS handshake (a client speaking plain text to a TLS
    # port, say) at INFO on stderr; its errors still show.
    os.environ.setdefault("GRPC_VERBOSITY", "ERROR")
    from otlint.cli.main import SettingsOptions, _settings, _split
    from otlint.serve.lint import LintOptions
    from otlint.serve.options import ServeOptions
    from otlint.serve.server import Sidecar, status_interval_from_env

    if bool(o["tls_cert"]) != bool(o["tls_key"]):
        raise OtlintError("--tls-cert and --tls-key go together")
    grpc_addr = _address(o["grpc_addr"], "--grpc")
    http_addr = _address(o["http_addr"], "--http")
    if grpc_addr is None and http_addr is None:
        raise OtlintError("--grpc and --http are both off: nothing would be received")
    forward = _address(o["forward"], "--forward")
    for flag, target in (("--report", o["report_file"]), ("--state", o["state_file"])):
        if target and not Path(target).absolute().parent.is_dir():
            raise OtlintError(
                f"{flag} {target}: cannot write there (its folder does not exist): create it first"
            )
    if o["spool"] and not forward:
        raise OtlintError("--spool keeps what could not be forwarded: it needs --forward")
    # Fail on a bad config here, not in the lint process.
    _settings(
        SettingsOptions(
            config=o["config"],
            isolated=o["isolated"],
            select=o["select"],
            extend_select=o["extend_select"],
            ignore=o["ignore"],
        )
    )
    lint = LintOptions(
        config=o["config"],
        cwd=str(Path.cwd()),
        select=tuple(_split(o["select"])),
        extend_select=tuple(_split(o["extend_select"])),
        ignore=tuple(_split(o["ignore"])),
        isolated=o["isolated"],
        report=o["report_file"],
        report_format=o["fmt"],
        report_interval=o["report_interval"],
        trace_idle=o["trace_idle"],
        max_spans=o["max_spans"],
        state=o["state_file"],
        show_values=o["show_values"],
    )
    options = ServeOptions(
        grpc=grpc_addr,
        http=http_addr,
        forward=forward,
        forward_tls=o["forward_tls"],
        forward_ca=o["forward_ca"],
        forward_headers=_headers(o["forward_header"]),
        forward_queue=o["forward_queue"],
        max_message=o["max_message_size"],
        tls_cert=o["tls_cert"],
        tls_key=o["tls_key"],
        auth_token=o["auth_token"],
        lint_queue=o["lint_queue"],
        lint_queue_bytes=o["lint_queue_bytes"],
        shutdown_timeout=o["shutdown_timeout"],
        spool=o["spool"],
        http_idle_timeout=o["http_idle_timeout"],
        status_interval=status_interval_from_env(),
        lint=lint,
    )
    for addr in (grpc_addr, http_addr):
        if (
            addr
            and not addr.startswith(("127.", "localhost", "[::1]"))
            and not (o["tls_cert"] or o["auth_token"])
        ):
            print(
                f"otlint serve: warning: listening on {addr} with neither TLS nor --auth-token",
                file=sys.stderr,
            )
    import asyncio

    outcome = asyncio.run(Sidecar(options).run())
    if outcome.exit_code:
        sys.exit(outcome.exit_code)
