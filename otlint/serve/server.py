"""The sidecar: receivers, the forwarder and the lint process, started and stopped together."""

from __future__ import annotations

import asyncio
import hmac
import os
import signal as signals
import ssl
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import grpc

from otlint.core.errors import OtlintError
from otlint.core.redact import mask_secrets
from otlint.serve import http as http_server
from otlint.serve import spool
from otlint.serve.forward import Forwarder
from otlint.serve.lint import Forwarding, IntakeCounters, Item
from otlint.serve.metrics import Metrics
from otlint.serve.options import Intake, ServeOptions
from otlint.serve.otlp import SPECS, DecodeError, count_records
from otlint.serve.worker import LintWorker
from otlint.telemetry.corpus.corpus import Signal

if TYPE_CHECKING:
    from otlint.telemetry.readers.otlp_json import Deviation

EXIT_LOST = 3
"""``otlint serve``'s exit status when records acknowledged to clients were lost at shutdown."""


def split_address(text: str, what: str) -> tuple[str, int]:
    """HOST:PORT (IPv6 in brackets) -> (host, port)."""
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or int(port) > 65535:
        raise OtlintError(f"{what} {text!r}: give HOST:PORT, e.g. 127.0.0.1:4317")
    return host.strip("[]") or "127.0.0.1", int(port)


def _say(text: str) -> None:
    print(mask_secrets(text), file=sys.stderr, flush=True)


def _per_signal(counts: list[int]) -> str:
    parts = [f"{s.label} {counts[s]}" for s in Signal if counts[s]]
    return f"{sum(counts)} records" + (f" ({', '.join(parts)})" if parts else "")


@dataclass
class Outcome:
    """How a run ended: the final JSON report (None if there is none) and the exit status."""

    report: str | None
    exit_code: int


class Sidecar:
    """Receives OTLP, forwards it untouched and in order, and lints it in another process."""

    def __init__(self, options: ServeOptions, say: Callable[[str], None] = _say) -> None:
        self.options = options
        self.say = say
        self.forwarder = (
            Forwarder(
                options.forward,
                tls=options.forward_tls,
                ca_file=options.forward_ca,
                headers=options.forward_headers,
                max_items=options.forward_queue,
                max_bytes=options.forward_queue_bytes,
                max_message=options.max_message,
                status_interval=options.status_interval,
                say=say,
            )
            if options.forward
            else None
        )
        self.metrics = Metrics(self)
        self.lint = LintWorker(
            options.lint,
            max_items=options.lint_queue,
            max_bytes=options.lint_queue_bytes,
            on_summary=self.metrics.update,
            say=say,
        )
        self._counts = threading.Lock()
        self.received = [0, 0, 0]
        self.not_linted = [0, 0, 0]
        self.shed = [0, 0, 0]
        self.spooled = [0, 0, 0]
        self.lost = [0, 0, 0]
        self.bound: dict[str, str] = {}
        self._spool: Path | None = None
        self._replayed_files: list[Path] = []

    # -- intake -----------------------------------------------------------------
    def intake(
        self,
        signal: Signal,
        payload: bytes,
        source: str,
        deviations: list[Deviation] | None = None,
    ) -> Intake:
        """Count, queue for forwarding, and offer to the linter. Safe from any thread."""
        try:
            records = count_records(signal, payload)
        except DecodeError as exc:
            self.metrics.rejected("invalid")
            self.lint.offer(Item(int(signal), payload, time.monotonic(), source), 0)
            return Intake("bad", 0, f"not a valid OTLP {signal.label} export request ({exc})")
        if self.forwarder is not None and not self.forwarder.offer(signal, payload, records):
            self.metrics.rejected("unavailable")
            with self._counts:
                self.shed[signal] += records
            if self.forwarder.closing:
                return Intake("full", 0, "the sidecar is shutting down: retry elsewhere or later")
            return Intake("full", 0, "forward queue is full (upstream slow or down): retry later")
        linted = self.lint.offer(
            Item(int(signal), payload, time.monotonic(), source, deviations or []), records
        )
        with self._counts:
            self.received[signal] += records
            if not linted:
                self.not_linted[signal] += records
        self.metrics.received.labels(signal.label).inc(records)
        self.metrics.requests.labels(source.split("/", 1)[0], signal.label).inc()
        if not linted:
            self.metrics.not_linted.labels(signal.label).inc(records)
        return Intake("ok", records)

    def intake_http(self, signal: Signal, body: bytes, as_json: bool) -> Intake:
        """An OTLP/HTTP body: JSON is converted to protobuf for forwarding and linting."""
        deviations: list[Deviation] = []
        if as_json:
            import json

            from otlint.telemetry.readers.otlp_json import NotOtlp, convert

            try:
                found, body, deviations = convert(json.loads(body))
            except (ValueError, NotOtlp) as exc:
                self.metrics.rejected("invalid")
                return Intake("bad", 0, f"not an OTLP/JSON {signal.label} request: {exc}")
            except RecursionError:
                self.metrics.rejected("invalid")
                return Intake("bad", 0, f"not an OTLP/JSON {signal.label} request: nested too deep")
            if found is not signal:
                self.metrics.rejected("invalid")
                return Intake(
                    "bad", 0, f"this endpoint takes {signal.label}, the body holds {found.label}"
                )
        result = self.intake(signal, body, f"http/{signal.label}", deviations)
        if result.status == "ok" and deviations:
            details = sorted({d.detail for d in deviations})
            result.message = "accepted, but not canonical OTLP/JSON: " + ", ".join(details)
        return result

    # -- gRPC --------------------------------------------------------------------
    def _grpc_handler(self, signal: Signal) -> grpc.RpcMethodHandler:
        token = self.options.auth_token
        expected = f"Bearer {token}".encode() if token else b""

        async def export(request: bytes, context: grpc.aio.ServicerContext) -> bytes:
            if token:
                given = dict(context.invocation_metadata() or ()).get("authorization", "")
                if not hmac.compare_digest(str(given).encode(), expected):
                    self.metrics.rejected("unauthenticated")
                    await context.abort(
                        grpc.StatusCode.UNAUTHENTICATED, "missing or wrong bearer token"
                    )
            try:
                result = self.intake(signal, request, f"grpc/{signal.label}")
            except Exception as exc:  # never a traceback from a request
                self.metrics.rejected("internal")
                self.say(
                    f"otlint serve: a gRPC {signal.label} request failed ({type(exc).__name__}: {exc}); serving goes on"
                )
                result = Intake("error", 0, f"the sidecar failed on this request: {exc}")
            if result.status == "bad":
                await context.abort(grpc.StatusCode.INVALID_ARGUMENT, mask_secrets(result.message))
            if result.status == "full":
                await context.abort(grpc.StatusCode.UNAVAILABLE, mask_secrets(result.message))
            if result.status == "error":
                await context.abort(grpc.StatusCode.INTERNAL, mask_secrets(result.message))
            return b""  # an empty Export*ServiceResponse: full success

        return grpc.unary_unary_rpc_method_handler(
            export, request_deserializer=None, response_serializer=None
        )

    def _grpc_server(self) -> grpc.aio.Server:
        opts = self.options
        server = grpc.aio.server(
            options=[
                ("grpc.max_receive_message_length", opts.max_message),
                ("grpc.max_send_message_length", opts.max_message),
            ]
        )
        for sig, spec in SPECS.items():
            server.add_generic_rpc_handlers(
                (
                    grpc.method_handlers_generic_handler(
                        spec.service, {"Export": self._grpc_handler(sig)}
                    ),
                )
            )
        assert opts.grpc is not None
        host, port = split_address(opts.grpc, "--grpc")
        address = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        try:
            if opts.tls_cert and opts.tls_key:
                creds = grpc.ssl_server_credentials([(_read(opts.tls_key), _read(opts.tls_cert))])
                bound = server.add_secure_port(address, creds)
            else:
                bound = server.add_insecure_port(address)
        except RuntimeError:  # grpc.aio says "Failed to bind" this way
            bound = 0
        if not bound:
            raise OtlintError(
                f"--grpc {opts.grpc}: cannot listen there (in use, or not an address of this host)"
            )
        self.bound["grpc"] = f"{host}:{bound}"
        return server

    # -- lint process and health -------------------------------------------------------
    def lint_alive(self) -> bool:
        """False while the lint process is down (forwarding goes on regardless)."""
        return self.lint.alive()

    def health(self) -> list[str]:
        """What is degraded now, for ``/healthz`` (empty when all is well)."""
        out = self.forwarder.problems() if self.forwarder is not None else []
        return out + self.lint.problems()

    def request_report(self, fmt: str, timeout: float = 30.0) -> str | None:
        """Ask the lint process for a report now; None if it does not answer in time."""
        return self.lint.request_report(fmt, self.intake_counters(), timeout)

    def intake_counters(self) -> IntakeCounters:
        """Counters the lint process puts in the report."""
        labels = [s.label for s in Signal]
        lost = self.lint.lost
        with self._counts:
            not_linted = [a + b for a, b in zip(self.not_linted, lost, strict=True)]
            out = IntakeCounters(
                received=dict(zip(labels, self.received, strict=True)),
                not_linted=dict(zip(labels, not_linted, strict=True)),
                shed=dict(zip(labels, self.shed, strict=True)),
                lint_restarts=self.lint.restarts,
                lint_last_failure=self.lint.last_failure,
                lint_lost=dict(zip(labels, lost, strict=True)),
            )
        if self.forwarder is not None:
            stats = self.forwarder.stats
            unsent = self.forwarder.unsent()
            out.forwarding = Forwarding(
                forwarded=dict(zip(labels, stats.forwarded, strict=True)),
                not_forwarded={
                    label: f + u for label, f, u in zip(labels, stats.failed, unsent, strict=True)
                },
                retries=stats.retries,
                last_error=stats.last_error,
                replayed=dict(zip(labels, stats.replayed, strict=True))
                if self._spool is not None
                else None,
                refused=dict(zip(labels, stats.failed, strict=True)),
            )
        return out

    # -- lifecycle -----------------------------------------------------------------
    def _replay(self) -> None:
        """With --spool: load what the last run could not forward, ahead of anything new."""
        if self.options.spool is None or self.forwarder is None:
            return
        self._spool = spool.prepare(self.options.spool)
        held, self._replayed_files = spool.load(self._spool, self.say)
        if held:
            self.forwarder.preload(held)
            counts = [0, 0, 0]
            for item in held:
                counts[item.signal] += item.records
            self.say(
                f"otlint serve: replaying {len(held)} requests, {_per_signal(counts)}, "
                f"from --spool {self.options.spool}"
            )

    async def run(self, ready: Callable[[dict[str, str]], object] | None = None) -> Outcome:
        """Serve until SIGTERM/SIGINT; returns the final JSON report and the exit status."""
        opts = self.options
        self._replay()
        grpc_server = self._grpc_server() if opts.grpc else None
        http = None
        if opts.http:
            host, port = split_address(opts.http, "--http")
            try:
                http, _thread = http_server.start(self, host, port, self._http_tls())
            except OSError as exc:
                raise OtlintError(
                    f"--http {opts.http}: cannot listen there ({exc.strerror})"
                ) from None
            self.bound["http"] = f"{host}:{http.server_address[1]}"
        self.lint.start()
        if grpc_server is not None:
            await grpc_server.start()
        forward_task = asyncio.create_task(self.forwarder.run()) if self.forwarder else None
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signals.SIGTERM, signals.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await asyncio.to_thread(self.lint.ready.wait, 60)
        where = ", ".join(f"{k.upper()} on {v}" for k, v in self.bound.items())
        upstream = f", forwarding to {opts.forward}" if opts.forward else ", no upstream (a sink)"
        self.say(f"otlint serve: {where}{upstream}")
        if ready is not None:
            ready(self.bound)
        ticker = asyncio.create_task(self._tick(stop))
        await stop.wait()
        ticker.cancel()
        # Stop accepting, finish what is in flight, flush forwarding, then lint what is held.
        if grpc_server is not None:
            await grpc_server.stop(grace=5)
        if http is not None:
            await asyncio.to_thread(http.shutdown)
            http.server_close()
        if self.forwarder is not None and forward_task is not None:
            await self.forwarder.drain(forward_task, opts.shutdown_timeout)
        self._keep_unsent()
        final, error = await asyncio.to_thread(
            self.lint.stop, self.intake_counters(), max(60.0, opts.shutdown_timeout)
        )
        return self._ending(final, error)

    def _keep_unsent(self) -> None:
        """After the drain: spool what is still held (with --spool), else count it lost."""
        if self.forwarder is None:
            return
        held = self.forwarder.held()
        counts = [0, 0, 0]
        for item in held:
            counts[item.signal] += item.records
        if self._spool is not None:
            try:
                written, self.spooled = spool.write(self._spool, held)
            except OSError as exc:
                self.say(
                    f"otlint serve: error: --spool {self.options.spool}: cannot write "
                    f"({exc.strerror or exc}): {_per_signal(counts)} are lost"
                )
                self.lost = counts
                return
            spool.remove(p for p in self._replayed_files if p != written)
            if written is not None:
                self.say(
                    f"otlint serve: spooled {len(held)} requests, {_per_signal(counts)}, "
                    f"the upstream did not take to {written} (replayed on the next start)"
                )
        else:
            self.lost = counts

    def _ending(self, final: str | None, error: str | None) -> Outcome:
        """The ledger on stderr, what was lost, and the exit status."""
        code = 0
        if self.forwarder is not None:
            stats = self.forwarder.stats
            accepted = [a + r for a, r in zip(stats.accepted, stats.replayed, strict=True)]
            replayed = f" (+ {sum(stats.replayed)} replayed)" if sum(stats.replayed) else ""
            self.say(
                f"otlint serve: stopped: received {_per_signal(stats.accepted)}{replayed}; "
                f"forwarded {sum(stats.forwarded)}, refused by the upstream {sum(stats.failed)}, "
                f"spooled {sum(self.spooled)}, lost {sum(self.lost)} of {sum(accepted)}"
            )
            if sum(self.lost):
                self.say(
                    f"otlint serve: error: {_per_signal(self.lost)} acknowledged to clients were "
                    f"not forwarded: the upstream {self.options.forward} did not take them within "
                    f"--shutdown-timeout {self.options.shutdown_timeout:g} s"
                    + (f" ({stats.last_error})" if stats.last_error else "")
                    + "; use --spool DIR to keep them for the next start"
                )
                code = EXIT_LOST
        if error is not None:
            what = "the final report" + (" and --state" if self.options.lint.state else "")
            self.say(f"otlint serve: error: {error}: {what} not written")
            code = code or 2
        return Outcome(final, code)

    async def _tick(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            self.lint.send(("intake", self.intake_counters()))
            if self.forwarder is not None:
                self.forwarder.tick()
                if self._replayed_files and not self.forwarder.replay_pending():
                    spool.remove(self._replayed_files)
                    self._replayed_files = []
            await asyncio.sleep(1.0)

    def _http_tls(self) -> ssl.SSLContext | None:
        if not (self.options.tls_cert and self.options.tls_key):
            return None
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.options.tls_cert, self.options.tls_key)
        return context


def status_interval_from_env(default: float = 30.0) -> float:
    """``OTLINT_SERVE_STATUS_INTERVAL`` (seconds between upstream status lines): a test knob."""
    try:
        return float(os.environ.get("OTLINT_SERVE_STATUS_INTERVAL") or default)
    except ValueError:
        return default


def _read(path: str) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError as exc:
        raise OtlintError(f"{path}: cannot read ({exc.strerror})") from None
