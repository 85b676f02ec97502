#!/usr/bin/env python3
"""The sidecar benchmark: ``otlint serve`` with forwarding on, under a paced OTLP/gRPC load.

Three processes besides the runner, all on the same machine:

* a **sink**: an OTLP/gRPC server (``grpc.aio``) standing in for the upstream collector; it
  answers every Export with an empty response and counts requests and bytes, without decoding;
* **``otlint serve --forward``** to the sink, with its lint process;
* the **load**: this process, sending the bench corpus' messages (traces, logs and metrics
  interleaved, as raw ``Export*ServiceRequest`` bytes: a ``TracesData`` is wire-identical to
  an ``ExportTraceServiceRequest``) at ``--rate`` spans/s (log records and data points
  ride along in the corpus' proportions) for ``--seconds``, at most ``--inflight`` in flight.
  Passes after the first are the same bytes with the first two bytes of every trace id set
  to the pass number (offsets found once, ``Passes``): new traces, nothing re-encoded.

Then it waits until the sink has every request, stops the sidecar (SIGTERM: it flushes
forwarding, drains the lint queue and writes its final JSON report) and reads that
report. "Sustained" means: the offered rate was achieved, no request failed or was shed,
the upstream got everything within 2 s of the last answer, and linting kept up (nothing
"forwarded but not linted", lint lag at the end under 2 s).

CPU is counted per process (receiver, lint process, sink, load) from the start of the load
until the upstream has everything, and given per million spans sent: other processes on
the machine change the wall rate much more than the CPU each span costs.

``--minutes M`` is a soak: one forwarding run of M minutes (default 200k spans/s and
``--max-spans 200000``), the RSS of the receiver and of the lint process sampled every
second; it prints the peak per minute and the last minute's peak against the first's.

Prints one JSON object (``--markdown`` prints a table instead).

Usage: ``python bench/sidecar.py [--rate 50000]... [--seconds 15] [--quick] [--mode M]
[--max-spans N] [--minutes M] [--otlint CMD]``; ``--rate 0`` sends as fast as the sidecar
answers (at most ``--inflight`` requests in flight).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import signal as signals
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
SIGNALS = ("traces", "logs", "metrics")
SERVICES = {
    "traces": "opentelemetry.proto.collector.trace.v1.TraceService",
    "logs": "opentelemetry.proto.collector.logs.v1.LogsService",
    "metrics": "opentelemetry.proto.collector.metrics.v1.MetricsService",
}
TARGET_SPANS_S = 50_000
SOAK_SPANS_S = 200_000


# -- the sink ------------------------------------------------------------------------------
def sink_main(port: int, counts: Any, ready: Any) -> None:
    """Run the stand-in upstream until killed; ``counts`` = [requests, bytes] per signal.

    A ``grpc.aio`` server: it shares the cores with the sidecar, and it answers a 200 kB
    request for about three quarters of the CPU the thread-pool server spends.
    """
    import asyncio

    import grpc

    def handler(i: int) -> Any:
        async def export(request: bytes, context: Any) -> bytes:
            counts[2 * i] += 1  # one thread: the event loop's
            counts[2 * i + 1] += len(request)
            return b""

        return grpc.unary_unary_rpc_method_handler(
            export, request_deserializer=None, response_serializer=None
        )

    async def serve() -> None:
        server = grpc.aio.server(options=[("grpc.max_receive_message_length", 64 << 20)])
        for i, signal in enumerate(SIGNALS):
            server.add_generic_rpc_handlers(
                (grpc.method_handlers_generic_handler(SERVICES[signal], {"Export": handler(i)}),)
            )
        server.add_insecure_port(f"127.0.0.1:{port}")
        await server.start()
        ready.set()
        await server.wait_for_termination()

    asyncio.run(serve())


def relay_main(port: int, upstream: int, ready: Any) -> None:
    """Run a bare pass-through until killed: the floor of forwarding with ``grpc.aio``.

    Each request is sent on to the upstream as the bytes it came as, and answered when
    the upstream answers: what any Python sidecar that forwards must do at the least,
    with nothing counted, queued, copied or linted.
    """
    import asyncio

    import grpc

    async def serve() -> None:
        channel = grpc.aio.insecure_channel(
            f"127.0.0.1:{upstream}", options=[("grpc.max_send_message_length", 64 << 20)]
        )
        server = grpc.aio.server(options=[("grpc.max_receive_message_length", 64 << 20)])
        for signal in SIGNALS:
            call = channel.unary_unary(f"/{SERVICES[signal]}/Export")

            async def export(request: bytes, context: Any, call: Any = call) -> bytes:
                await call(request, timeout=60)
                return b""

            handler = grpc.unary_unary_rpc_method_handler(
                export, request_deserializer=None, response_serializer=None
            )
            server.add_generic_rpc_handlers(
                (grpc.method_handlers_generic_handler(SERVICES[signal], {"Export": handler}),)
            )
        server.add_insecure_port(f"127.0.0.1:{port}")
        await server.start()
        ready.set()
        await server.wait_for_termination()

    asyncio.run(serve())


# -- the load ------------------------------------------------------------------------------
@dataclass
class Request:
    """One export request to send."""

    signal: str
    payload: bytes
    records: int


def _frames(path: Path) -> list[bytes]:
    out = []
    with open(path, "rb") as f:
        while head := f.read(4):
            out.append(f.read(int.from_bytes(head, "big")))
    return out


class Passes:
    """The corpus' messages as requests, pass after pass, without re-encoding anything.

    Pass 0 is the corpus as written; pass ``p`` is the same bytes with the first two bytes
    of every trace id (spans, log records, exemplars) set to ``p``: new traces of the same
    shape, made by patching the offsets found once, so the load generator spends its CPU
    on sending, not on building requests (and a 10-minute soak needs no 150M-span list).
    """

    def __init__(self, corpus: Path) -> None:
        from floor import proto_decoders  # bench/ is the script's folder

        decoders = proto_decoders()
        raw = {s: _frames(corpus / f"{s}.binpb") for s in SIGNALS}
        self.order: list[tuple[str, bytes, int, list[int]]] = []
        per_signal: dict[str, list[tuple[str, bytes, int, list[int]]]] = {}
        for s in SIGNALS:
            rows = []
            for payload in raw[s]:
                msg = decoders[s][0](payload)
                rows.append((s, payload, decoders[s][1](msg), _trace_offsets(s, msg, payload)))
            per_signal[s] = rows
        # Interleave by position, as a sidecar sees three exporters at once.
        tagged = [
            (i / len(per_signal[s]), k, r)
            for k, s in enumerate(SIGNALS)
            for i, r in enumerate(per_signal[s])
        ]
        self.order = [r for _, _, r in sorted(tagged, key=lambda t: (t[0], t[1]))]
        self.spans_per_pass = sum(n for s, _, n, _ in self.order if s == "traces")

    def requests(self, passes: int | None = None) -> Iterator[Request]:
        """Pass after pass (forever unless ``passes``), patched as the class says."""
        p = 0
        while passes is None or p < passes:
            mark = bytes([p & 0xFF, (p >> 8) & 0xFF])
            for signal, payload, records, offsets in self.order:
                if p == 0 or not offsets:
                    yield Request(signal, payload, records)
                    continue
                out = bytearray(payload)
                for at in offsets:
                    out[at : at + 2] = mark
                yield Request(signal, bytes(out), records)
            p += 1


def _trace_offsets(signal: str, msg: Any, payload: bytes) -> list[int]:
    """Where the trace ids of a message's spans, log records or exemplars sit in its bytes."""
    ids: set[bytes] = set()
    if signal == "traces":
        ids = {sp.trace_id for rs in msg.resource_spans for ss in rs.scope_spans for sp in ss.spans}
    elif signal == "logs":
        ids = {
            lr.trace_id
            for rl in msg.resource_logs
            for sl in rl.scope_logs
            for lr in sl.log_records
            if lr.trace_id
        }
    else:
        for rm in msg.resource_metrics:
            for sm in rm.scope_metrics:
                for m in sm.metrics:
                    which = m.WhichOneof("data")
                    if which is None:
                        continue
                    for dp in getattr(m, which).data_points:
                        ids.update(e.trace_id for e in getattr(dp, "exemplars", ()) if e.trace_id)
    out = []
    for tid in ids:
        if len(tid) != 16:
            continue
        at = payload.find(tid)
        while at >= 0:
            out.append(at)
            at = payload.find(tid, at + 16)
    return sorted(out)


@dataclass
class LoadResult:
    """What the load phase saw."""

    first: float
    last_ack: float
    sent: dict[str, int]  # records per signal answered OK
    requests: dict[str, int]  # requests per signal answered OK
    errors: dict[str, int]  # gRPC status code -> count


def send(
    port: int, requests: Iterable[Request], rate: float, seconds: float, inflight: int
) -> LoadResult:
    """Send ``requests`` paced at ``rate`` spans/s (0: as fast as answered) for ``seconds``."""
    import grpc

    channel = grpc.insecure_channel(
        f"127.0.0.1:{port}", options=[("grpc.max_send_message_length", 64 << 20)]
    )
    calls = {s: channel.unary_unary(f"/{SERVICES[s]}/Export") for s in SIGNALS}
    slots = threading.BoundedSemaphore(inflight)
    lock = threading.Lock()
    sent = dict.fromkeys(SIGNALS, 0)
    nreq = dict.fromkeys(SIGNALS, 0)
    errors: dict[str, int] = {}
    last_ack = [0.0]

    def done(fut: Any, req: Request) -> None:
        code = fut.code()
        with lock:
            if code == grpc.StatusCode.OK:
                sent[req.signal] += req.records
                nreq[req.signal] += 1
            else:
                errors[code.name] = errors.get(code.name, 0) + 1
            last_ack[0] = time.perf_counter()
        slots.release()

    t0 = time.perf_counter()
    spans = 0
    for req in requests:
        now = time.perf_counter()
        if now - t0 >= seconds:
            break
        if rate > 0:
            due = t0 + spans / rate
            if due > now:
                time.sleep(due - now)
        slots.acquire()
        fut = calls[req.signal].future(req.payload, timeout=60)
        fut.add_done_callback(lambda f, r=req: done(f, r))
        if req.signal == "traces":
            spans += req.records
    for _ in range(inflight):  # every call answered (no list of futures: a soak is long)
        slots.acquire()
    channel.close()
    return LoadResult(t0, last_ack[0], sent, nreq, errors)


# -- the sidecar ---------------------------------------------------------------------------
def free_port() -> int:
    """A loopback TCP port free now (also used by faults.py)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def otlint_command() -> list[str]:
    """How to run otlint: the script beside this Python, else ``python -m otlint``."""
    script = Path(sys.executable).parent / "otlint"
    return [str(script)] if script.exists() else [sys.executable, "-m", "otlint"]


def _cpu_seconds(pid: int) -> float:
    """utime + stime of a process and its live descendants, from /proc."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    stack = [pid]
    while stack:
        p = stack.pop()
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
            for task in os.listdir(f"/proc/{p}/task"):
                stack += [
                    int(c) for c in Path(f"/proc/{p}/task/{task}/children").read_text().split()
                ]
        except (OSError, IndexError, ValueError):
            continue
    return total


class PeakRss:
    """Samples ``VmHWM`` (peak RSS since exec) of a process and its descendants from /proc.

    Unlike ``ru_maxrss`` from ``wait4``, ``VmHWM`` is not raised by the RSS the parent had
    when it forked the child. Growth in the last ``interval`` before a process exits is missed.
    """

    def __init__(self, pid: int, interval: float = 0.1) -> None:
        self.pid = pid
        self.interval = interval
        self.peaks: dict[int, tuple[str, int]] = {}  # pid -> (name, kB)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _sample(self) -> None:
        stack = [self.pid]
        while stack:
            p = stack.pop()
            try:
                status = Path(f"/proc/{p}/status").read_text()
                fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
                hwm = int(fields.get("VmHWM", "0 kB").split()[0])
                name = "receiver" if p == self.pid else fields.get("Name", "?").strip()
                self.peaks[p] = (name, max(hwm, self.peaks.get(p, ("", 0))[1]))
                for task in os.listdir(f"/proc/{p}/task"):
                    stack += [
                        int(c) for c in Path(f"/proc/{p}/task/{task}/children").read_text().split()
                    ]
            except (OSError, ValueError):
                continue

    def _run(self) -> None:
        while not self._stop.is_set():
            self._sample()
            self._stop.wait(self.interval)

    def largest_mb(self) -> dict[str, int]:
        """Peak RSS in MB of the receiver and of its largest child (the lint process)."""
        own = self.peaks.get(self.pid, ("receiver", 0))[1]
        children = [kb for p, (_, kb) in self.peaks.items() if p != self.pid]
        return {"receiver": round(own / 1024), "lint": round(max(children, default=0) / 1024)}


def _wait_http(url: str, timeout: float) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            with urllib.request.urlopen(url, timeout=1) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"sidecar bench: {url} did not answer within {timeout:.0f} s")


def _own_cpu(pid: int) -> float:
    """utime + stime of one process (all its threads), from /proc; 0 if it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def _children(pid: int) -> list[int]:
    out = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            out += [int(c) for c in Path(f"/proc/{pid}/task/{task}/children").read_text().split()]
    except (OSError, ValueError):
        pass
    return out


def _rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0.0


class RssCurve:
    """``VmRSS`` of the receiver and of its largest child (the lint process), every ``interval``."""

    def __init__(self, pid: int, interval: float = 1.0) -> None:
        self.pid = pid
        self.interval = interval
        self.samples: list[tuple[float, float, float]] = []  # (seconds, receiver MB, lint MB)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._t0 = 0.0

    def start(self) -> None:
        self._t0 = time.perf_counter()
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            lint = max((_rss_mb(c) for c in _children(self.pid)), default=0.0)
            self.samples.append((time.perf_counter() - self._t0, _rss_mb(self.pid), lint))

    def summary(self) -> dict[str, Any]:
        """Peak per minute of each process, and first-minute peak against last-minute peak."""
        if not self.samples:
            return {}
        minutes = int(self.samples[-1][0] // 60) + 1
        per_minute = []
        for m in range(minutes):
            part = [s for s in self.samples if m * 60 <= s[0] < (m + 1) * 60]
            if part:
                per_minute.append([round(max(s[1] for s in part)), round(max(s[2] for s in part))])
        # The last minute is the last 60 s sampled (not a short trailing bucket).
        end = self.samples[-1][0]
        tail = [x for x in self.samples if x[0] >= end - 60]
        first = per_minute[0]
        last = [round(max(x[1] for x in tail)), round(max(x[2] for x in tail))]
        return {
            "samples": len(self.samples),
            "peak_per_minute_mb": per_minute,  # [receiver, lint] per minute
            "first_minute_peak_mb": first,
            "last_minute_peak_mb": last,
            "growth_last_vs_first": [
                round(b / a, 3) if a else None for a, b in zip(first, last, strict=True)
            ],
        }


def run(
    passes: Passes,
    rate: float,
    seconds: float,
    inflight: int,
    forward: bool = True,
    otlint: Sequence[str] | None = None,
    serve_args: Sequence[str] = (),
    rss_curve: bool = False,
) -> dict[str, Any]:
    """One sidecar measurement; returns the figures.

    CPU is read from /proc for each process apart (receiver, lint process, sink) and from
    ``os.times`` for the load (this process), between the start of the load and the moment
    the upstream has everything: per million spans it does not depend on how many other
    processes share the cores, where the wall rate does.
    """
    mp = multiprocessing.get_context("spawn")
    counts = mp.Array("q", 2 * len(SIGNALS), lock=False)
    ready = mp.Event()
    sink_port, grpc_port, http_port = free_port(), free_port(), free_port()
    sink = mp.Process(target=sink_main, args=(sink_port, counts, ready), daemon=True)
    sink.start()
    if not ready.wait(30):
        raise SystemExit("sidecar bench: the sink did not start")
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.json"
        argv = [
            *(otlint or otlint_command()), "serve", "--isolated",
            "--grpc", f"127.0.0.1:{grpc_port}", "--http", f"127.0.0.1:{http_port}",
            *(["--forward", f"127.0.0.1:{sink_port}"] if forward else []),
            "--report", str(report), "--format", "json", "--report-interval", "5",
            *serve_args,
        ]  # fmt: skip
        err = open(Path(tmp) / "stderr", "w+b")  # noqa: SIM115 - closed below
        serve = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=err, cwd=ROOT)
        peak = PeakRss(serve.pid)
        curve = RssCurve(serve.pid)
        try:
            with peak:
                _wait_http(f"http://127.0.0.1:{http_port}/healthz", 60)
                kids: dict[int, float] = {}  # every child seen: a restarted lint process too

                def cpu() -> dict[str, float]:
                    own = os.times()
                    for k in _children(serve.pid):
                        kids[k] = max(kids.get(k, 0.0), _own_cpu(k))
                    return {
                        "receiver": _own_cpu(serve.pid),
                        "lint": sum(kids.values()),
                        "sink": _own_cpu(sink.pid or 0),
                        "load": own.user + own.system,
                    }

                cpu0 = cpu()
                if rss_curve:
                    curve.start()
                load = send(grpc_port, passes.requests(), rate, seconds, inflight)
                cpu_load = cpu()
                want = sum(load.requests.values())
                fwd_done = None if forward else load.last_ack
                end = time.perf_counter() + (60 if forward else 0)
                while time.perf_counter() < end:
                    got = sum(counts[2 * i] for i in range(len(SIGNALS)))
                    if got >= want:
                        fwd_done = time.perf_counter()
                        break
                    time.sleep(0.01)
                cpu1 = cpu()
                if rss_curve:
                    curve.stop()
                stop = time.perf_counter()
                serve.send_signal(signals.SIGTERM)
                _, status, usage = os.wait4(serve.pid, 0)
                serve.returncode = os.waitstatus_to_exitcode(status)
                exited = time.perf_counter()
                final = json.loads(report.read_text()) if report.exists() else {}
        finally:
            if serve.poll() is None:
                serve.kill()
                serve.wait()
            sink.kill()
            sink.join()
            err.seek(0)
            stderr = err.read().decode(errors="replace")
            err.close()
    side = final.get("sidecar", {})
    active = load.last_ack - load.first
    spans = load.sent["traces"]
    records = sum(load.sent.values())
    fwd_lag = (fwd_done - load.last_ack) if fwd_done is not None else None
    not_linted = sum((side.get("not_linted") or {}).values())
    linted = side.get("linted") or {}
    lag = side.get("lint_lag_seconds")
    mspans = spans / 1e6 if spans else float("nan")
    per_mspans = {k: round((cpu1[k] - cpu0[k]) / mspans, 2) for k in cpu0}
    result = {
        "forward": forward,
        "offered_spans_s": rate,
        "seconds": round(active, 2),
        "spans": spans,
        "records": records,
        "spans_s": round(spans / active) if active > 0 else 0,
        "records_s": round(records / active) if active > 0 else 0,
        "errors": load.errors,
        "forward_lag_s": None if fwd_lag is None else round(max(0.0, fwd_lag), 2),
        "forwarded_requests": sum(counts[2 * i] for i in range(len(SIGNALS))),
        "acked_requests": sum(load.requests.values()),
        "linted": linted,
        "not_linted": not_linted,
        "lint_lag_s": lag,
        "shutdown_s": round(exited - stop, 2),
        "cpu_cores_during_load": round(
            (cpu_load["receiver"] + cpu_load["lint"] - cpu0["receiver"] - cpu0["lint"]) / active, 2
        )
        if active > 0
        else 0,
        "cpu_s_per_mspans": {
            **per_mspans,
            "sidecar": round(per_mspans["receiver"] + per_mspans["lint"], 2),
            "all": round(sum(per_mspans.values()), 2),
        },
        "cpu_s_total": round(usage.ru_utime + usage.ru_stime, 2),
        "peak_rss_mb": peak.largest_mb(),
        "exit": serve.returncode,
        "findings": final.get("summary", {}).get("findings"),
        "serve_args": list(serve_args),
    }
    if rss_curve:
        result["rss"] = curve.summary()
    result["sustained"] = bool(
        (rate <= 0 or result["spans_s"] >= 0.97 * rate)
        and not load.errors
        and fwd_lag is not None
        and fwd_lag <= 2.0
        and not_linted == 0
        and linted.get("traces") == spans
        and lag is not None
        and lag <= 2.0
        and serve.returncode == 0
    )
    said = [line for line in stderr.splitlines() if "GRPC on" not in line]
    if serve.returncode != 0 or any("died" in line for line in said):
        result["stderr"] = "\n".join(said)[-2000:]
    return result


def run_floor(
    passes: Passes, rate: float, seconds: float, inflight: int, relay: bool
) -> dict[str, Any]:
    """The same load without otlint: straight to the stand-in upstream, or through ``relay_main``.

    What this machine does with the load generator and the upstream alone (``direct``), and
    with the least a Python forwarder must add (``relay``): the floors the sidecar's rate is
    read against, measured in the same run, CPU per million spans per process as ``run``.
    """
    mp = multiprocessing.get_context("spawn")
    counts = mp.Array("q", 2 * len(SIGNALS), lock=False)
    ready = mp.Event()
    sink_port = free_port()
    sink = mp.Process(target=sink_main, args=(sink_port, counts, ready), daemon=True)
    sink.start()
    procs = [sink]
    target = sink_port
    try:
        if not ready.wait(30):
            raise SystemExit("sidecar bench: the sink did not start")
        if relay:
            target = free_port()
            relayed = mp.Event()
            hop = mp.Process(target=relay_main, args=(target, sink_port, relayed), daemon=True)
            hop.start()
            procs.append(hop)
            if not relayed.wait(30):
                raise SystemExit("sidecar bench: the relay did not start")

        def cpu() -> dict[str, float]:
            own = os.times()
            out = {"load": own.user + own.system, "sink": _own_cpu(sink.pid or 0)}
            if relay:
                out["relay"] = _own_cpu(procs[1].pid or 0)
            return out

        cpu0 = cpu()
        load = send(target, passes.requests(), rate, seconds, inflight)
        want = sum(load.requests.values())
        end = time.perf_counter() + 60
        arrived = None
        while time.perf_counter() < end:
            if sum(counts[2 * i] for i in range(len(SIGNALS))) >= want:
                arrived = time.perf_counter()
                break
            time.sleep(0.01)
        cpu1 = cpu()
    finally:
        for proc in procs:
            proc.kill()
            proc.join()
    active = load.last_ack - load.first
    spans = load.sent["traces"]
    mspans = spans / 1e6 if spans else float("nan")
    per_mspans = {k: round((cpu1[k] - cpu0[k]) / mspans, 2) for k in cpu0}
    result: dict[str, Any] = {
        "mode": "relay" if relay else "direct",
        "offered_spans_s": rate,
        "seconds": round(active, 2),
        "spans": spans,
        "records": sum(load.sent.values()),
        "spans_s": round(spans / active) if active > 0 else 0,
        "errors": load.errors,
        "upstream_lag_s": None if arrived is None else round(max(0.0, arrived - load.last_ack), 2),
        "cpu_s_per_mspans": {**per_mspans, "all": round(sum(per_mspans.values()), 2)},
    }
    result["sustained"] = bool(
        (rate <= 0 or result["spans_s"] >= 0.97 * rate) and not load.errors and arrived is not None
    )
    return result


def _offered(r: dict[str, Any]) -> str:
    rate = r["offered_spans_s"]
    return f"{rate / 1000:.0f}k spans/s" if rate else "as fast as answered"


def _table(head: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """A markdown table of ``head`` and ``rows``."""
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(map(str, row)) + " |" for row in rows]
    return "\n".join(lines)


def _common(r: dict[str, Any]) -> tuple[str, str, str]:
    """Offered rate, achieved spans/s and errors: the cells every table begins with."""
    errors = ", ".join(f"{k} {v}" for k, v in r["errors"].items()) or "0"
    return _offered(r), f"{r['spans_s'] / 1000:.1f}k", errors


def _sustained(r: dict[str, Any]) -> str:
    return "yes" if r["sustained"] else "**no**"


def floor_markdown(results: Sequence[dict[str, Any]]) -> str:
    """The floors as a markdown table."""
    modes = {"direct": "load straight to the upstream", "relay": "through a bare `grpc.aio` relay"}
    rows = []
    for r in results:
        cpu = r["cpu_s_per_mspans"]
        parts = " + ".join(f"{cpu[k]:.2f}" for k in ("load", "sink", "relay") if k in cpu)
        rows.append([modes[r["mode"]], *_common(r), parts, f"{cpu['all']:.2f}", _sustained(r)])
    head = ["floor", "offered", "achieved spans/s", "errors"]
    head += ["CPU-s per M spans: load + upstream (+ relay)", "all", "sustained?"]
    return _table(head, rows)


def markdown(results: Sequence[dict[str, Any]]) -> str:
    """The results as a markdown table."""
    rows = []
    for r in results:
        forward = r.get("forward", True)
        offered, spans, errors = _common(r)
        rows.append(
            [
                "forwarding" if forward else "sink (no --forward)",
                offered,
                spans,
                f"{r['records_s'] / 1000:.1f}k",
                errors,
                f"{r['forward_lag_s'] if forward else '-'} s",
                f"{r['linted'].get('traces', 0):,} of {r['spans']:,}",
                f"{r['not_linted']:,}",
                f"{r['lint_lag_s']} s",
                f"{r['shutdown_s']} s",
                r["cpu_cores_during_load"],
                f"{r['peak_rss_mb']['receiver']} + {r['peak_rss_mb']['lint']} MB",
                _sustained(r),
            ]
        )
    head = ["mode", "offered", "achieved spans/s", "records/s", "errors", "forward lag"]
    head += ["linted spans", "not linted", "lint lag at end", "shutdown"]
    head += ["sidecar CPU (cores)", "peak RSS (receiver + lint process)", "sustained?"]
    return _table(head, rows)


def print_results(results: Any, table: Callable[[Any], str], as_table: bool) -> None:
    """``results`` on stdout as indented JSON, or with ``as_table`` as ``table(results)``
    (also used by faults.py)."""
    if as_table:
        print(table(results))
    else:
        json.dump(results, sys.stdout, indent=2)
        sys.stdout.write("\n")


def main(argv: list[str] | None = None) -> None:
    """Command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--rate",
        type=float,
        action="append",
        help=f"offered spans/s, repeatable; 0 = as fast as answered (default {TARGET_SPANS_S} and 0)",
    )
    parser.add_argument(
        "--seconds", type=float, default=15.0, help="length of the load (default 15)"
    )
    parser.add_argument(
        "--inflight", type=int, default=16, help="requests in flight at most (default 16)"
    )
    parser.add_argument("--quick", action="store_true", help="the 10%% corpus, 4 s of load")
    parser.add_argument(
        "--mode",
        choices=["forward", "sink", "both", "direct", "relay", "floors"],
        default="both",
        help="with --forward to a stand-in upstream, as a pure sink, or both (default); "
        "the floors without otlint: the load straight to the upstream (direct), through a "
        "bare grpc.aio relay (relay), or both (floors)",
    )
    parser.add_argument(
        "--markdown", action="store_true", help="print a markdown table instead of JSON"
    )
    parser.add_argument(
        "--otlint",
        help="the command that runs otlint, split on spaces (default: the script beside this "
        "Python), e.g. 'python -P -m otlint' with PYTHONPATH set to another tree",
    )
    parser.add_argument(
        "--max-spans", type=int, help="give serve --max-spans N (the soak's default: 200000)"
    )
    parser.add_argument(
        "--serve-arg",
        action="append",
        default=[],
        metavar="ARG",
        help="one more argument for otlint serve, repeatable (e.g. --serve-arg=--lint-queue-bytes "
        "--serve-arg=268435456)",
    )
    parser.add_argument(
        "--minutes",
        type=float,
        help="a soak: one forwarding run of this many minutes (default rate 200k spans/s), "
        "RSS of the receiver and the lint process sampled every second",
    )
    args = parser.parse_args(argv)
    corpus = BENCH / "out" / ("corpus-quick" if args.quick else "corpus")
    if not (corpus / "manifest.json").exists():
        subprocess.run(
            [
                sys.executable,
                str(BENCH / "generate.py"),
                "--out",
                str(corpus),
                "--scale",
                "0.1" if args.quick else "1.0",
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )
    passes = Passes(corpus)
    otlint = args.otlint.split() if args.otlint else None
    if args.minutes:
        max_spans = args.max_spans or 200_000
        results = [
            run(
                passes,
                (args.rate or [SOAK_SPANS_S])[0],
                args.minutes * 60,
                args.inflight,
                True,
                otlint,
                ["--max-spans", str(max_spans), *args.serve_arg],
                rss_curve=True,
            )
        ]
        print_results(results, soak_markdown if args.markdown else markdown, args.markdown)
        return
    rates = args.rate or [TARGET_SPANS_S, 0]
    seconds = 4.0 if args.quick else args.seconds
    if args.mode in ("direct", "relay", "floors"):
        relays = {"direct": [False], "relay": [True], "floors": [False, True]}[args.mode]
        floors = [
            run_floor(passes, rate, seconds, args.inflight, relay)
            for relay in relays
            for rate in rates
        ]
        print_results(floors, floor_markdown, args.markdown)
        return
    modes = {"forward": [True], "sink": [False], "both": [True, False]}[args.mode]
    serve_args = ["--max-spans", str(args.max_spans)] if args.max_spans else []
    serve_args += args.serve_arg
    results = [
        run(passes, rate, seconds, args.inflight, forward, otlint, serve_args)
        for forward in modes
        for rate in rates
    ]
    print_results(results, markdown, args.markdown)


def soak_markdown(results: Sequence[dict[str, Any]]) -> str:
    """A soak's figures and its memory curve (peak RSS per minute) as markdown."""
    lines = [markdown(results), ""]
    for r in results:
        rss = r.get("rss") or {}
        per = rss.get("peak_per_minute_mb") or []
        lines.append("| minute | " + " | ".join(str(i + 1) for i in range(len(per))) + " |")
        lines.append("|---|" + "---|" * len(per))
        lines.append("| receiver peak RSS (MB) | " + " | ".join(str(a) for a, _ in per) + " |")
        lines.append("| lint process peak RSS (MB) | " + " | ".join(str(b) for _, b in per) + " |")
        lines.append("")
        lines.append(
            f"first-minute peak {rss.get('first_minute_peak_mb')} MB, last-minute peak "
            f"{rss.get('last_minute_peak_mb')} MB (receiver, lint): last/first "
            f"{rss.get('growth_last_vs_first')}; {r.get('serve_args')}"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
