#!/usr/bin/env python3
"""The sidecar's soak and fault bench: ``otlint serve --forward`` under load while things go
wrong, on loopback only, bounded in time (about 2 minutes; ``--quick`` about 1).

Each scenario starts a **sink** (a stand-in upstream OTLP/gRPC collector in its own process,
writing a digest of every request it gets to a file before it answers), a **sidecar**, and a
**load** of unique traces requests (a client that retries UNAVAILABLE as OTLP exporters do and
notes which requests were acknowledged), then does its damage:

* ``upstream-restart``: the sink is killed (SIGKILL) mid-load and restarted 3 s later;
* ``sigterm-spool``: the sink answers slowly, the sidecar gets SIGTERM mid-load with a short
  --shutdown-timeout and --spool; a second sidecar replays the spool to a fast sink;
* ``sigterm-lost``: the same without --spool: the exit status is 3 and stderr says how many
  records were lost;
* ``lint-killed``: the lint process is killed twice mid-load;
* ``slow-clients``: 200 idle HTTP connections and 20 that send a header byte a second,
  while the load runs (--http-idle-timeout 2);
* ``hostile-bodies``: unauthenticated ``Content-Length: -1`` streams, chunk size -1, a gzip
  bomb, undecodable and 600-deep requests, while the load runs (--auth-token);
* ``lint-behind``: requests of 4 MiB with a slow linter (the byte bound of the lint queue);
* ``soak`` (only when named, or with ``--minutes``): ``bench/sidecar.py``'s corpus load at
  100k spans/s for ``--minutes`` (default 10) with ``--max-spans 200000``, the RSS of the
  receiver and of the lint process sampled every second: memory is *flat* when each
  process' peak in the last minute is within 10% of its peak in the first.

For each it prints the ledger -- acknowledged to the client, got by the upstream (distinct,
duplicated, missing), and the sidecar's own account (forwarded, refused, spooled, lost) --
with the exit status, the peak RSS of the receiver and of the lint process, and whether
the books balance: every acknowledged request reached the upstream, or was said lost.

Usage: ``python bench/faults.py [--quick] [--only NAME ...] [--minutes M] [--markdown]``
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import hashlib
import json
import multiprocessing
import os
import re
import signal as signals
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from concurrent import futures
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# bench/ is the script's folder.
from sidecar import PeakRss, free_port, otlint_command, print_results

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
TRACES = "opentelemetry.proto.collector.trace.v1.TraceService"
TOKEN = "bench-token"


# -- the sink ------------------------------------------------------------------------------
def sink_main(port: int, log: str, delay: float, ready: Any) -> None:
    """A stand-in upstream: appends each request's digest to ``log`` (flushed), then answers."""
    import grpc

    out = open(log, "a", buffering=1)  # noqa: SIM115 - lives as long as the process
    lock = threading.Lock()

    def export(request: bytes, context: Any) -> bytes:
        with lock:
            out.write(hashlib.blake2b(request, digest_size=8).hexdigest() + "\n")
        if delay:
            time.sleep(delay)
        return b""

    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=8),
        options=[("grpc.max_receive_message_length", 64 << 20), ("grpc.so_reuseport", 0)],
    )
    handler = grpc.unary_unary_rpc_method_handler(export)
    server.add_generic_rpc_handlers(
        (grpc.method_handlers_generic_handler(TRACES, {"Export": handler}),)
    )
    server.add_insecure_port(f"127.0.0.1:{port}")
    server.start()
    ready.set()
    server.wait_for_termination()


class Sink:
    """The sink process, startable again on the same port."""

    def __init__(self, port: int, log: Path, delay: float = 0.0) -> None:
        self.port, self.log, self.delay = port, log, delay
        self.proc: Any = None

    def start(self) -> None:
        mp = multiprocessing.get_context("spawn")
        ready = mp.Event()
        self.proc = mp.Process(
            target=sink_main, args=(self.port, str(self.log), self.delay, ready), daemon=True
        )
        self.proc.start()
        if not ready.wait(30):
            raise SystemExit("faults bench: the sink did not start")

    def kill(self) -> None:
        if self.proc is not None and self.proc.is_alive():
            self.proc.kill()
            self.proc.join()

    def digests(self) -> list[str]:
        return self.log.read_text().split() if self.log.exists() else []


# -- the load ------------------------------------------------------------------------------
def make_request(tag: int, spans: int, attr_bytes: int = 0) -> bytes:
    """A unique traces request (``tag`` in every trace id)."""
    from opentelemetry.proto.collector.trace.v1 import trace_service_pb2

    req = trace_service_pb2.ExportTraceServiceRequest()
    rs = req.resource_spans.add()
    kv = rs.resource.attributes.add()
    kv.key, kv.value.string_value = "service.name", f"svc{tag % 7}"
    scope = rs.scope_spans.add()
    for i in range(spans):
        span = scope.spans.add()
        span.trace_id = tag.to_bytes(8, "big") + (i // 4).to_bytes(8, "big")
        span.span_id = (i + 1).to_bytes(8, "big")
        if i % 4:
            span.parent_span_id = (i - i % 4 + 1).to_bytes(8, "big")
        span.name = f"op{i % 5}"
        span.kind = 2 if i % 4 == 0 else 3
        span.start_time_unix_nano, span.end_time_unix_nano = 1_000 + i, 2_000 + i
        if attr_bytes and i == 0:
            big = span.attributes.add()
            big.key, big.value.string_value = "payload", "x" * attr_bytes
    data: bytes = req.SerializeToString()
    return data


def digest(payload: bytes) -> str:
    return hashlib.blake2b(payload, digest_size=8).hexdigest()


@dataclass
class Load:
    """What the client saw."""

    acked: dict[str, int] = field(default_factory=dict)  # digest -> records
    failed: dict[str, int] = field(default_factory=dict)  # final status -> requests
    retries: int = 0


def send_load(
    grpc_addr: str,
    seconds: float,
    rate: float,
    spans: int,
    attr_bytes: int = 0,
    start_tag: int = 1,
    threads: int = 4,
    stop: threading.Event | None = None,
    metadata: tuple[tuple[str, str], ...] = (),
) -> Load:
    """Send unique requests at ``rate`` requests/s for ``seconds`` (or until ``stop``), each
    retried on UNAVAILABLE for up to 10 s."""
    import grpc

    channel = grpc.insecure_channel(grpc_addr, options=[("grpc.max_send_message_length", 64 << 20)])
    call = channel.unary_unary(f"/{TRACES}/Export")
    load = Load()
    lock = threading.Lock()
    counter = iter(range(start_tag, 10**9))
    t0 = time.monotonic()

    def worker() -> None:
        while True:
            with lock:
                tag = next(counter)
            due = t0 + (tag - start_tag) / rate
            now = time.monotonic()
            if now - t0 >= seconds or (stop is not None and stop.is_set()):
                return
            if due > now:
                time.sleep(due - now)
            payload = make_request(tag, spans, attr_bytes)
            give_up = time.monotonic() + 10
            while True:
                try:
                    call(payload, timeout=10, metadata=metadata or None)
                except grpc.RpcError as exc:
                    code = exc.code()
                    if code == grpc.StatusCode.UNAVAILABLE and time.monotonic() < give_up:
                        with lock:
                            load.retries += 1
                        time.sleep(0.2)
                        continue
                    with lock:
                        load.failed[code.name] = load.failed.get(code.name, 0) + 1
                else:
                    with lock:
                        load.acked[digest(payload)] = spans
                break

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    channel.close()
    return load


# -- the sidecar ---------------------------------------------------------------------------
class Sidecar:
    """``otlint serve`` as a subprocess, with its peak memory sampled."""

    def __init__(self, tmp: Path, *args: str, env: dict[str, str] | None = None) -> None:
        self.grpc, self.http = f"127.0.0.1:{free_port()}", f"127.0.0.1:{free_port()}"
        self.report = tmp / f"report-{self.grpc.rsplit(':', 1)[1]}.json"
        argv = [
            *otlint_command(), "serve", "--isolated", "--grpc", self.grpc, "--http", self.http,
            "--report", str(self.report), "--format", "json", "--report-interval", "2",
            *args,
        ]  # fmt: skip
        self.err = open(tmp / f"stderr-{self.grpc.rsplit(':', 1)[1]}", "w+b")  # noqa: SIM115
        self.proc = subprocess.Popen(
            argv,
            stdout=subprocess.DEVNULL,
            stderr=self.err,
            cwd=tmp,
            env={**os.environ, **(env or {})},
        )
        self.peak = PeakRss(self.proc.pid)
        self.peak.__enter__()
        end = time.monotonic() + 60
        while time.monotonic() < end:
            if b"GRPC on" in self.stderr_bytes():
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        raise SystemExit(f"faults bench: the sidecar did not start:\n{self.stderr()}")

    def stderr_bytes(self) -> bytes:
        self.err.flush()
        self.err.seek(0)
        return self.err.read()

    def stderr(self) -> str:
        return self.stderr_bytes().decode(errors="replace")

    def lint_pid(self) -> int | None:
        for task in os.listdir(f"/proc/{self.proc.pid}/task"):
            try:
                kids = Path(f"/proc/{self.proc.pid}/task/{task}/children").read_text().split()
            except OSError:
                continue
            for kid in kids:
                try:
                    if b"spawn_main" in Path(f"/proc/{kid}/cmdline").read_bytes():
                        return int(kid)
                except OSError:
                    continue
        return None

    def threads(self) -> int:
        return len(os.listdir(f"/proc/{self.proc.pid}/task"))

    def stop(self, timeout: float = 120) -> dict[str, Any]:
        """SIGTERM; wait; the exit status, shutdown time, ledger line and final report."""
        t0 = time.monotonic()
        if self.proc.poll() is None:
            self.proc.send_signal(signals.SIGTERM)
        try:
            self.proc.wait(timeout)
            hung = False
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            hung = True
        took = time.monotonic() - t0
        self.peak.__exit__(None, None, None)
        err = self.stderr()
        self.err.close()
        ledger = {}
        match = re.search(
            r"stopped: received (\d+) records.*?(?:\(\+ (\d+) replayed\))?; forwarded (\d+), "
            r"refused by the upstream (\d+), spooled (\d+), lost (\d+)",
            err,
        )
        if match:
            keys = ("received", "replayed", "forwarded", "refused", "spooled", "lost")
            ledger = {k: int(v or 0) for k, v in zip(keys, match.groups(), strict=True)}
        report = json.loads(self.report.read_text()) if self.report.exists() else {}
        return {
            "exit": self.proc.returncode,
            "hung": hung,
            "shutdown_s": round(took, 2),
            "ledger": ledger,
            "report": _brief(report.get("sidecar", {})),
            "peak_rss_mb": self.peak.largest_mb(),
            "tracebacks": err.count("Traceback"),
            "stderr_lines": len(err.splitlines()),
            "said": [line for line in err.splitlines() if "GRPC on" not in line][:12],
        }


def _brief(side: dict[str, Any]) -> dict[str, Any]:
    """The final report's counters that the ledger does not already give, summed over signals."""
    out: dict[str, Any] = {}
    for key in ("linted", "not_linted", "forwarded", "not_forwarded", "replayed"):
        if isinstance(side.get(key), dict):
            out[key] = sum(side[key].values())
    for key in ("lint_restarts", "lint_last_failure", "forward_retries"):
        if key in side:
            out[key] = side[key]
    return out


def books(load: Load, got: list[str], spooled: int = 0, lost: int = 0) -> dict[str, Any]:
    """The client's and the upstream's account, and whether they balance."""
    acked = set(load.acked)
    seen = set(got)
    missing = acked - seen
    missing_records = sum(load.acked[d] for d in missing)
    return {
        "acked_requests": len(acked),
        "acked_records": sum(load.acked.values()),
        "upstream_distinct": len(seen),
        "upstream_duplicates": len(got) - len(seen),
        "upstream_not_acked": len(seen - acked),  # got, though the client saw an error
        "missing_requests": len(missing),
        "missing_records": missing_records,
        "client_failures": load.failed,
        "client_retries": load.retries,
        "balanced": missing_records == spooled + lost,
    }


# -- the scenarios -------------------------------------------------------------------------
def upstream_restart(tmp: Path, quick: bool) -> dict[str, Any]:
    sink = Sink(free_port(), tmp / "sink.log")
    sink.start()
    sc = Sidecar(tmp, "--forward", f"127.0.0.1:{sink.port}")
    seconds = 6 if quick else 10

    def damage() -> None:
        time.sleep(2)
        sink.kill()
        time.sleep(3)
        sink.start()

    t = threading.Thread(target=damage)
    t.start()
    load = send_load(sc.grpc, seconds, rate=200, spans=20)
    t.join()
    _settle(lambda: set(load.acked) <= set(sink.digests()), 20)
    out = sc.stop()
    sink.kill()
    out.update(books(load, sink.digests(), lost=out["ledger"].get("lost", 0)))
    return out


def sigterm(tmp: Path, quick: bool, spool: bool) -> dict[str, Any]:
    sink = Sink(free_port(), tmp / "sink.log", delay=0.05)
    sink.start()
    folder = tmp / "spool"
    extra = ["--spool", str(folder)] if spool else []
    sc = Sidecar(tmp, "--forward", f"127.0.0.1:{sink.port}", "--shutdown-timeout", "1", *extra)
    stop = threading.Event()
    result: list[Load] = []
    t = threading.Thread(
        target=lambda: result.append(send_load(sc.grpc, 60, rate=400, spans=20, stop=stop))
    )
    t.start()
    time.sleep(2 if quick else 4)
    out = sc.stop()  # SIGTERM mid-load: the client sees the sidecar go away
    stop.set()
    t.join()
    load = result[0]
    sink.kill()
    ledger = out["ledger"]
    if spool:
        fast = Sink(sink.port, tmp / "sink.log")
        fast.start()
        again = Sidecar(tmp, "--forward", f"127.0.0.1:{sink.port}", *extra)
        _settle(lambda: not list(folder.glob("otlint-spool-*.bin")), 30)
        replay = again.stop()
        fast.kill()
        out["replay"] = {
            k: replay[k] for k in ("exit", "ledger", "peak_rss_mb", "tracebacks", "shutdown_s")
        }
        out.update(books(load, fast.digests(), lost=ledger.get("lost", 0)))
        out["spool_files_left"] = len(list(folder.glob("otlint-spool-*")))
    else:
        out.update(books(load, sink.digests(), lost=ledger.get("lost", 0)))
    return out


def lint_killed(tmp: Path, quick: bool) -> dict[str, Any]:
    sink = Sink(free_port(), tmp / "sink.log")
    sink.start()
    sc = Sidecar(tmp, "--forward", f"127.0.0.1:{sink.port}")
    kills = []

    def damage() -> None:
        for at in (1.5, 3.5):
            time.sleep(at - (kills[-1] if kills else 0))
            pid = sc.lint_pid()
            if pid:
                os.kill(pid, signals.SIGKILL)
                kills.append(at)

    t = threading.Thread(target=damage)
    t.start()
    load = send_load(sc.grpc, 6 if quick else 8, rate=200, spans=20)
    t.join()
    _settle(lambda: set(load.acked) <= set(sink.digests()), 20)
    out = sc.stop()
    sink.kill()
    out["lint_kills"] = len(kills)
    out.update(books(load, sink.digests(), lost=out["ledger"].get("lost", 0)))
    return out


def slow_clients(tmp: Path, quick: bool) -> dict[str, Any]:
    sink = Sink(free_port(), tmp / "sink.log")
    sink.start()
    sc = Sidecar(tmp, "--forward", f"127.0.0.1:{sink.port}", "--http-idle-timeout", "2")
    host, port = sc.http.split(":")
    base = sc.threads()
    idle = [socket.create_connection((host, int(port))) for _ in range(200)]
    slow = [socket.create_connection((host, int(port))) for _ in range(20)]
    peak_threads = [sc.threads()]
    stop = threading.Event()

    def dribble() -> None:
        head = b"POST /v1/traces HTTP/1.1\r\nHost: x\r\n"
        for i in range(len(head)):
            if stop.wait(1.0):
                return
            for s in slow:
                with contextlib.suppress(OSError):
                    s.sendall(head[i : i + 1])
            peak_threads.append(sc.threads())

    t = threading.Thread(target=dribble)
    t.start()
    load = send_load(sc.grpc, 5 if quick else 8, rate=200, spans=20)
    stop.set()
    t.join()
    closed = 0
    for s in idle + slow:
        s.settimeout(0.1)
        try:
            closed += s.recv(1) == b""
        except OSError:
            closed += 1
        s.close()
    _settle(lambda: set(load.acked) <= set(sink.digests()), 20)
    after = sc.threads()
    out = sc.stop()
    sink.kill()
    out.update(
        {
            "threads_before": base,
            "threads_peak": max(peak_threads),
            "threads_after_idle_timeout": after,
            "connections_closed_by_sidecar": f"{closed} of {len(idle) + len(slow)}",
        }
    )
    out.update(books(load, sink.digests(), lost=out["ledger"].get("lost", 0)))
    return out


def _hostile_http(addr: str, rounds: int) -> dict[str, int]:
    host, port = addr.split(":")
    answers: dict[str, int] = {}

    def note(what: str) -> None:
        answers[what] = answers.get(what, 0) + 1

    def raw(head: bytes, body_mb: int = 0) -> None:
        try:
            with socket.create_connection((host, int(port)), timeout=5) as s:
                s.sendall(head)
                chunk = b"\0" * (1 << 20)
                for _ in range(body_mb):
                    s.sendall(chunk)
                status = s.recv(64).split(b" ", 2)[1].decode()
                note(status)
        except (OSError, IndexError):
            note("closed")

    base = b"POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-protobuf\r\n"
    auth = f"Authorization: Bearer {TOKEN}\r\n".encode()
    bomb = gzip.compress(b"\0" * (256 << 20), 9)
    for _ in range(rounds):
        workers = [
            threading.Thread(target=raw, args=(base + b"Content-Length: -1\r\n\r\n", 64))
            for _ in range(4)
        ]
        for w in workers:
            w.start()
        raw(base + auth + b"Transfer-Encoding: chunked\r\n\r\n-1\r\n")
        raw(base + auth + b"Content-Length: 99999999999\r\n\r\n")
        raw(
            base
            + auth
            + b"Content-Encoding: gzip\r\nContent-Length: "
            + str(len(bomb)).encode()
            + b"\r\n\r\n"
            + bomb
        )
        raw(base + auth + b"Content-Length: 12\r\n\r\n" + os.urandom(12))
        for w in workers:
            w.join()
    return answers


def _nested(depth: int, tag: int) -> bytes:
    """A traces request whose resource has an attribute ``depth`` arrays deep (``tag`` in its span name)."""

    def fld(number: int, data: bytes) -> bytes:
        n, size = len(data), b""
        while True:
            size += bytes([(n & 0x7F) | (0x80 if n > 0x7F else 0)])
            n >>= 7
            if not n:
                break
        return bytes([number << 3 | 2]) + size + data

    value = fld(1, b"x")
    for _ in range(depth):
        value = fld(5, fld(1, value))
    resource = fld(1, fld(1, b"deep") + fld(2, value))
    span = fld(1, b"\1" * 16) + fld(2, b"\2" * 8) + fld(5, f"deep{tag}".encode())
    return fld(1, fld(1, resource) + fld(2, fld(2, span)))


def hostile_bodies(tmp: Path, quick: bool) -> dict[str, Any]:
    import grpc

    sink = Sink(free_port(), tmp / "sink.log")
    sink.start()
    sc = Sidecar(
        tmp, "--forward", f"127.0.0.1:{sink.port}", "--auth-token", TOKEN,
        "--max-message-size", str(4 << 20),
    )  # fmt: skip
    stop = threading.Event()
    result: list[Load] = []
    meta = (("authorization", f"Bearer {TOKEN}"),)
    t = threading.Thread(
        target=lambda: result.append(
            send_load(sc.grpc, 60, rate=100, spans=20, stop=stop, metadata=meta)
        )
    )
    t.start()
    answers = _hostile_http(sc.http, 2 if quick else 4)
    channel = grpc.insecure_channel(sc.grpc)
    call = channel.unary_unary(f"/{TRACES}/Export")
    grpc_answers: dict[str, int] = {}
    deep: dict[str, int] = {}
    for i in range(200):
        body = _nested(600, i) if i % 10 == 0 else os.urandom(64 + i)
        try:
            call(body, timeout=5, metadata=meta)
            grpc_answers["OK"] = grpc_answers.get("OK", 0) + 1
            # Valid protobuf is forwarded like any request (random bytes may be one, of 0 spans).
            deep[digest(body)] = 1 if i % 10 == 0 else 0
        except grpc.RpcError as exc:
            grpc_answers[exc.code().name] = grpc_answers.get(exc.code().name, 0) + 1
    channel.close()
    stop.set()
    t.join()
    load = result[0]
    load.acked.update(deep)
    try:
        with urllib.request.urlopen(f"http://{sc.http}/healthz", timeout=5) as reply:
            health = reply.read().decode().strip()
    except urllib.error.HTTPError as exc:
        health = f"{exc.code}: {exc.read().decode(errors='replace').strip()}"
    _settle(lambda: set(load.acked) <= set(sink.digests()), 20)
    out = sc.stop()
    sink.kill()
    out.update({"http_answers": answers, "grpc_answers": grpc_answers, "healthz_after": health})
    # The nested requests are forwarded too (they are valid protobuf): the upstream got them.
    out.update(books(load, sink.digests(), lost=out["ledger"].get("lost", 0)))
    return out


def lint_behind(tmp: Path, quick: bool) -> dict[str, Any]:
    sink = Sink(free_port(), tmp / "sink.log")
    sink.start()
    sc = Sidecar(tmp, "--forward", f"127.0.0.1:{sink.port}", env={"OTLINT_SERVE_LINT_DELAY": "0.2"})
    n, rate = (40, 40.0) if quick else (150, 50.0)
    load = send_load(sc.grpc, n / rate, rate=rate, spans=2, attr_bytes=4 << 20, threads=4)
    _settle(lambda: set(load.acked) <= set(sink.digests()), 30)
    out = sc.stop()  # the final drain lints what is queued (at most 64 MiB, 0.2 s a request)
    sink.kill()
    out.update(books(load, sink.digests(), lost=out["ledger"].get("lost", 0)))
    return out


SOAK = {"minutes": 10.0, "rate": 100_000.0, "max_spans": 200_000}


def soak(tmp: Path, quick: bool) -> dict[str, Any]:
    """The corpus load for ``SOAK["minutes"]`` with ``--max-spans``: is memory flat?"""
    from sidecar import Passes
    from sidecar import run as sidecar_run

    corpus = BENCH / "out" / ("corpus-quick" if quick else "corpus")
    if not (corpus / "manifest.json").exists():
        raise SystemExit(f"faults bench: soak: no corpus in {corpus} (run bench/generate.py)")
    out = sidecar_run(
        Passes(corpus),
        SOAK["rate"],
        SOAK["minutes"] * 60,
        16,
        serve_args=["--max-spans", str(int(SOAK["max_spans"]))],
        rss_curve=True,
    )
    growth = out.get("rss", {}).get("growth_last_vs_first") or [None, None]
    out["flat"] = all(g is not None and g <= 1.10 for g in growth)
    # Forwarding's books: everything acknowledged reached the upstream.
    out["balanced"] = out["forwarded_requests"] == out["acked_requests"] and not out["errors"]
    return out


def _settle(done: Callable[[], bool], timeout: float) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end and not done():
        time.sleep(0.1)


SCENARIOS: dict[str, Callable[[Path, bool], dict[str, Any]]] = {
    "upstream-restart": upstream_restart,
    "sigterm-spool": lambda tmp, quick: sigterm(tmp, quick, spool=True),
    "sigterm-lost": lambda tmp, quick: sigterm(tmp, quick, spool=False),
    "lint-killed": lint_killed,
    "slow-clients": slow_clients,
    "hostile-bodies": hostile_bodies,
    "lint-behind": lint_behind,
    "soak": soak,
}
DEFAULT = [name for name in SCENARIOS if name != "soak"]


def _n(value: object) -> str:
    return f"{value:,}" if isinstance(value, int) else "?"


def markdown(results: dict[str, dict[str, Any]]) -> str:
    """The results as a markdown table."""
    lines = [
        "| scenario | acked records | upstream got (distinct / dup) | missing | sidecar: forwarded / spooled / lost | exit | shutdown | peak RSS receiver + lint | tracebacks | balanced |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, r in results.items():
        if name == "soak":
            continue
        led = r.get("ledger", {})
        rss = r.get("peak_rss_mb", {})
        lines.append(
            f"| {name} | {r.get('acked_records', 0):,} | {r.get('upstream_distinct', 0):,} / "
            f"{r.get('upstream_duplicates', 0)} | {r.get('missing_records', 0):,} | "
            f"{_n(led.get('forwarded'))} / {_n(led.get('spooled'))} / {_n(led.get('lost'))} | "
            f"{r.get('exit')}{' (hung, killed)' if r.get('hung') else ''} | {r.get('shutdown_s')} s | {rss.get('receiver', 0)} + "
            f"{rss.get('lint', 0)} MB | {r.get('tracebacks', 0)} | "
            f"{'yes' if r.get('balanced') else '**no**'} |"
        )
    if "soak" in results:
        from sidecar import soak_markdown

        lines += ["", soak_markdown([results["soak"]])]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    """Command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="shorter loads (about 1 minute)")
    parser.add_argument("--only", action="append", choices=list(SCENARIOS), help="repeatable")
    parser.add_argument("--markdown", action="store_true", help="a table instead of JSON")
    parser.add_argument(
        "--minutes",
        type=float,
        help=f"run the soak, this long (default {SOAK['minutes']:g} when --only soak)",
    )
    args = parser.parse_args(argv)
    sys.path.insert(0, str(BENCH))
    if args.minutes:
        SOAK["minutes"] = args.minutes
    results: dict[str, dict[str, Any]] = {}
    for name in args.only or (["soak"] if args.minutes else DEFAULT):
        with tempfile.TemporaryDirectory(prefix=f"otlint-faults-{name}-") as tmp:
            t0 = time.monotonic()
            results[name] = SCENARIOS[name](Path(tmp), args.quick)
            results[name]["seconds"] = round(time.monotonic() - t0, 1)
        print(f"faults bench: {name} done in {results[name]['seconds']} s", file=sys.stderr)
    print_results(results, markdown, args.markdown)


if __name__ == "__main__":
    main()
