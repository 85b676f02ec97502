"""The sidecar: receivers, the forwarder and the lint process, started and stopped together."""

from __future__ import annotations

import asyncio
import hmac
import itertools
import multiprocessing
import queue
import signal as signals
import ssl
import sys
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

import grpc

from otlint.core.errors import OtlintError
from otlint.serve import http as http_server
from otlint.serve.forward import Forwarder
from otlint.serve.lint import Forwarding, IntakeCounters, Item, run
from otlint.serve.metrics import Metrics
from otlint.serve.options import Intake, ServeOptions
from otlint.serve.otlp import SPECS, DecodeError, count_records
from otlint.telemetry.corpus.corpus import Signal

if TYPE_CHECKING:
    from multiprocessing.queues import Queue

    from otlint.serve.lint import Command, Result
    from otlint.telemetry.readers.otlp_json import Deviation


def split_address(text: str, what: str) -> tuple[str, int]:
    """HOST:PORT (IPv6 in brackets) -> (host, port)."""
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or int(port) > 65535:
        raise OtlintError(f"{what} {text!r}: give HOST:PORT, e.g. 127.0.0.1:4317")
    return host.strip("[]") or "127.0.0.1", int(port)


class Sidecar:
    """Receives OTLP, forwards it untouched and in order, and lints it in another process."""

    def __init__(self, options: ServeOptions) -> None:
        self.options = options
        self.forwarder = (
            Forwarder(
                options.forward,
                tls=options.forward_tls,
                ca_file=options.forward_ca,
                headers=options.forward_headers,
                max_items=options.forward_queue,
                max_bytes=options.forward_queue_bytes,
                max_message=options.max_message,
            )
            if options.forward
            else None
        )
        self.metrics = Metrics(self)
        # spawn, not fork: the parent runs gRPC threads that must not be forked.
        mp = multiprocessing.get_context("spawn")
        self._data: Queue[Item] = mp.Queue(maxsize=options.lint_queue)
        self._control: Queue[Command] = mp.Queue()
        self._results: Queue[Result] = mp.Queue()
        self._process = mp.Process(
            target=run,
            args=(self._data, self._control, self._results, options.lint),
            name="otlint-lint",
            daemon=True,
        )
        self._pending: dict[int, tuple[threading.Event, list[str]]] = {}
        self._ids = itertools.count(1)
        self._ready = threading.Event()
        self._stopped = threading.Event()
        self._final: str | None = None
        self._lint_error: str | None = None
        self.received = [0, 0, 0]
        self.not_linted = [0, 0, 0]
        self.shed = [0, 0, 0]
        self._sequence = {sig: 0 for sig in Signal}
        self.bound: dict[str, str] = {}

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
            self._offer_lint(Item(int(signal), payload, time.monotonic(), source))
            return Intake("bad", 0, f"not a valid OTLP {signal.label} export request ({exc})")
        if self.forwarder is not None and not self.forwarder.offer(signal, payload, records):
            self.metrics.rejected("unavailable")
            self.shed[signal] += records
            return Intake("full", 0, "forward queue is full (upstream slow or down): retry later")
        self.received[signal] += records
        self.metrics.received.labels(signal.label).inc(records)
        self.metrics.requests.labels(source.split("/", 1)[0], signal.label).inc()
        if not self._offer_lint(
            Item(int(signal), payload, time.monotonic(), source, deviations or [])
        ):
            self.not_linted[signal] += records
            self.metrics.not_linted.labels(signal.label).inc(records)
        return Intake("ok", records)

    def _offer_lint(self, item: Item) -> bool:
        try:
            self._data.put_nowait(item)
        except queue.Full:
            return False
        return True

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
            result = self.intake(signal, request, f"grpc/{signal.label}")
            if result.status == "bad":
                await context.abort(grpc.StatusCode.INVALID_ARGUMENT, result.message)
            if result.status == "full":
                await context.abort(grpc.StatusCode.UNAVAILABLE, result.message)
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
        if opts.tls_cert and opts.tls_key:
            creds = grpc.ssl_server_credentials([(_read(opts.tls_key), _read(opts.tls_cert))])
            bound = server.add_secure_port(address, creds)
        else:
            bound = server.add_insecure_port(address)
        if not bound:
            raise OtlintError(
                f"--grpc {opts.grpc}: cannot listen there (in use, or not an address of this host)"
            )
        self.bound["grpc"] = f"{host}:{bound}"
        return server

    # -- lint process -----------------------------------------------------------------
    def lint_alive(self) -> bool:
        """False once the lint process has died (forwarding goes on regardless)."""
        return self._process.is_alive() and self._lint_error is None

    def request_report(self, fmt: str, timeout: float = 30.0) -> str | None:
        """Ask the lint process for a report now; None if it does not answer in time."""
        if not self.lint_alive():
            return None
        request_id = next(self._ids)
        done = threading.Event()
        box: list[str] = []
        self._pending[request_id] = (done, box)
        # Fresh counters first, so the report says what was received up to now.
        self._control.put(("intake", self.intake_counters()))
        self._control.put(("report", request_id, fmt))
        done.wait(timeout)
        self._pending.pop(request_id, None)
        return box[0] if box else None

    def _read_results(self) -> None:
        while True:
            try:
                message = self._results.get(timeout=0.5)
            except queue.Empty:
                if self._stopped.is_set() or not self._process.is_alive():
                    if (
                        not self._process.is_alive()
                        and not self._stopped.is_set()
                        and self._lint_error is None
                    ):
                        self._lint_error = "the lint process exited"
                        self._ready.set()
                    if self._stopped.is_set():
                        return
                continue
            if message[0] == "ready":
                self._ready.set()
            elif message[0] == "report":
                entry = self._pending.get(message[1])
                if entry is not None:
                    entry[1].append(message[2])
                    entry[0].set()
            elif message[0] == "summary":
                self.metrics.update(message[1])
            elif message[0] == "stopped":
                self._final = message[1]
                self._stopped.set()
                return
            elif message[0] == "crashed":
                self._lint_error = message[1]
                print(
                    f"otlint serve: the lint process failed ({message[1]}); forwarding goes on",
                    file=sys.stderr,
                )
                print(message[2], file=sys.stderr)
                self._ready.set()

    def intake_counters(self) -> IntakeCounters:
        """Counters the lint process puts in the report."""
        labels = [s.label for s in Signal]
        out = IntakeCounters(
            received=dict(zip(labels, self.received, strict=True)),
            not_linted=dict(zip(labels, self.not_linted, strict=True)),
            shed=dict(zip(labels, self.shed, strict=True)),
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
            )
        return out

    # -- lifecycle -----------------------------------------------------------------
    async def run(self, ready: Callable[[dict[str, str]], object] | None = None) -> str | None:
        """Serve until SIGTERM/SIGINT; returns the final JSON report."""
        opts = self.options
        self._process.start()
        reader = threading.Thread(target=self._read_results, name="otlint-results", daemon=True)
        reader.start()
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
        if grpc_server is not None:
            await grpc_server.start()
        forward_task = asyncio.create_task(self.forwarder.run()) if self.forwarder else None
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signals.SIGTERM, signals.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await asyncio.to_thread(self._ready.wait, 60)
        where = ", ".join(f"{k.upper()} on {v}" for k, v in self.bound.items())
        upstream = f", forwarding to {opts.forward}" if opts.forward else ", no upstream (a sink)"
        print(f"otlint serve: {where}{upstream}", file=sys.stderr, flush=True)
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
        if self.forwarder is not None and forward_task is not None:
            self.forwarder.close()
            try:
                await asyncio.wait_for(forward_task, timeout=opts.shutdown_timeout)
            except TimeoutError:
                forward_task.cancel()
        self._control.put(("stop", self.intake_counters()))
        await asyncio.to_thread(self._stopped.wait, max(60.0, opts.shutdown_timeout))
        self._process.join(timeout=10)
        return self._final

    async def _tick(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            self._control.put(("intake", self.intake_counters()))
            await asyncio.sleep(1.0)

    def _http_tls(self) -> ssl.SSLContext | None:
        if not (self.options.tls_cert and self.options.tls_key):
            return None
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.options.tls_cert, self.options.tls_key)
        return context


def _read(path: str) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError as exc:
        raise OtlintError(f"{path}: cannot read ({exc.strerror})") from None
