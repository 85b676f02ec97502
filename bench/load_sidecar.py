#!/usr/bin/env python3
"""Load benchmark of ``otlint serve``: sustained spans/s with and without forwarding.

A separate sender process replays pre-built ``ExportTraceServiceRequest`` batches (the
bench corpus' ``traces.binpb`` frames, ~512 spans each) over gRPC for a fixed time,
keeping a few requests in flight, against ``otlint serve`` started as its own process.
With forwarding, a sink process plays the upstream collector and counts what arrives.

Sustained throughput is what got *through*: spans the sidecar accepted per second
without forwarding, spans the upstream received per second with it (the forward queue
is bounded, so accepting faster than forwarding ends in UNAVAILABLE and back-off).
The final report says how many records the lint process could not keep up with.

Usage: ``python bench/load_sidecar.py [--seconds 20] [--inflight 8] [--write]``
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from concurrent import futures
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
TRACES = "/opentelemetry.proto.collector.trace.v1.TraceService/Export"
BEGIN, END = "<!-- load:begin -->", "<!-- load:end -->"


def frames(path: Path, limit: int = 400) -> list[bytes]:
    """The first ``limit`` length-prefixed messages of a proto-framed file."""
    out = []
    with path.open("rb") as f:
        while len(out) < limit:
            head = f.read(4)
            if len(head) < 4:
                break
            out.append(f.read(int.from_bytes(head, "big")))
    return out


def _count_spans(payload: bytes) -> int:
    from opentelemetry.proto.trace.v1 import trace_pb2

    msg = trace_pb2.TracesData.FromString(payload)
    return sum(len(ss.spans) for rs in msg.resource_spans for ss in rs.scope_spans)


def sink(port: int, counter: Any, ready: Any) -> None:
    """The upstream: a gRPC server that accepts traces and counts their bytes and requests."""
    import grpc

    def export(request: bytes, context: Any) -> bytes:
        with counter.get_lock():
            counter.value += 1
        return b""

    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=4),
        options=[("grpc.max_receive_message_length", 64 << 20)],
    )
    handler = grpc.unary_unary_rpc_method_handler(export)
    server.add_generic_rpc_handlers(
        (
            grpc.method_handlers_generic_handler(
                "opentelemetry.proto.collector.trace.v1.TraceService", {"Export": handler}
            ),
        )
    )
    server.add_insecure_port(f"127.0.0.1:{port}")
    server.start()
    ready.set()
    server.wait_for_termination()


def send(target: str, payloads: list[bytes], seconds: float, inflight: int, result: Any) -> None:
    """The sender: replays payloads for ``seconds`` with ``inflight`` calls outstanding."""
    import grpc

    channel = grpc.insecure_channel(target, options=[("grpc.max_send_message_length", 64 << 20)])
    call = channel.unary_unary(TRACES, request_serializer=None, response_deserializer=None)
    ok = refused = 0
    pending: list[tuple[Any, int]] = []
    deadline = time.monotonic() + seconds
    i = 0
    while time.monotonic() < deadline or pending:
        while time.monotonic() < deadline and len(pending) < inflight:
            pending.append(
                (call.future(payloads[i % len(payloads)], timeout=30), i % len(payloads))
            )
            i += 1
        future, index = pending.pop(0)
        try:
            future.result()
            ok += 1
            result.put(("ok", index))
        except grpc.RpcError:
            refused += 1
            time.sleep(0.01)
    result.put(("done", ok, refused))
    channel.close()


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def run(
    payloads: list[bytes], spans_per: list[int], seconds: float, inflight: int, forward: bool
) -> dict[str, Any]:
    """One load run; returns the figures."""
    mp = multiprocessing.get_context("spawn")
    sink_proc = None
    counter = mp.Value("q", 0)
    args = [
        sys.executable,
        "-m",
        "otlint",
        "serve",
        "--grpc",
        "127.0.0.1:0",
        "--http",
        "off",
        "--isolated",
    ]
    if forward:
        port = _free_port()
        ready = mp.Event()
        sink_proc = mp.Process(target=sink, args=(port, counter, ready), daemon=True)
        sink_proc.start()
        ready.wait(30)
        args += ["--forward", f"127.0.0.1:{port}"]
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.json"
        args += [
            "--report",
            str(report),
            "--format",
            "json",
            "--report-interval",
            "5",
            "--trace-idle",
            "5",
        ]
        serve = subprocess.Popen(args, stderr=subprocess.PIPE, text=True, cwd=tmp)
        assert serve.stderr is not None
        line = serve.stderr.readline()
        match = re.search(r"GRPC on ([\d.]+:\d+)", line)
        if not match:
            serve.kill()
            raise SystemExit(f"otlint serve did not start: {line}{serve.stderr.read()}")
        results = mp.Queue()
        sender = mp.Process(
            target=send, args=(match.group(1), payloads, seconds, inflight, results)
        )
        start = time.monotonic()
        sender.start()
        accepted = 0
        ok = refused = 0
        while True:
            message = results.get()
            if message[0] == "ok":
                accepted += spans_per[message[1]]
            else:
                _, ok, refused = message
                break
        sent_for = time.monotonic() - start
        sender.join()
        # What reached the upstream by the time the sender stopped is the sustained rate.
        forwarded_requests = counter.value
        serve.send_signal(signal.SIGTERM)
        serve.wait(timeout=300)
        final = json.loads(report.read_text()) if report.exists() else {}
    if sink_proc is not None:
        sink_proc.kill()
    mean = sum(spans_per) / len(spans_per)
    sidecar = final.get("sidecar", {})
    return {
        "forward": forward,
        "seconds": round(sent_for, 1),
        "accepted_spans": accepted,
        "accepted_per_s": accepted / sent_for,
        "forwarded_per_s": forwarded_requests * mean / sent_for if forward else None,
        "refused_requests": refused,
        "ok_requests": ok,
        "not_linted": sidecar.get("not_linted", {}).get("traces", 0),
        "linted": sidecar.get("linted", {}).get("traces", 0),
    }


def render(rows: list[dict[str, Any]], seconds: float, inflight: int) -> str:
    """A markdown section with the figures."""
    lines = [
        f"Command: `python bench/load_sidecar.py --seconds {seconds:g} --inflight {inflight}` "
        "(sender, sidecar, its lint process and the upstream sink all on this machine's 2 cores).",
        "",
        "| mode | sustained spans/s | accepted spans/s | refused requests (UNAVAILABLE) | spans linted | spans not linted |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        sustained = r["forwarded_per_s"] if r["forward"] else r["accepted_per_s"]
        mode = "forwarding to an upstream" if r["forward"] else "sink (no --forward)"
        lines.append(
            f"| {mode} | {sustained:,.0f} | {r['accepted_per_s']:,.0f} | {r['refused_requests']} | "
            f"{r['linted']:,} | {r['not_linted']:,} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    """Run the load benchmark with and without forwarding."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--inflight", type=int, default=8)
    parser.add_argument(
        "--write", action="store_true", help="update the load section of BENCHMARKS.md"
    )
    args = parser.parse_args(argv)
    sys.path.insert(0, str(BENCH))
    from generate import DEFAULT_OUT, ensure

    ensure(DEFAULT_OUT)
    payloads = frames(DEFAULT_OUT / "traces.binpb")
    spans_per = [_count_spans(p) for p in payloads]
    rows = [
        run(payloads, spans_per, args.seconds, args.inflight, forward) for forward in (False, True)
    ]
    section = render(rows, args.seconds, args.inflight)
    print(section)
    if args.write:
        path = ROOT / "BENCHMARKS.md"
        text = path.read_text()
        if BEGIN in text and END in text:
            head, rest = text.split(BEGIN, 1)
            text = head + BEGIN + "\n" + section + END + rest.split(END, 1)[1]
        else:
            text += f"\n## Sidecar load\n\n{BEGIN}\n{section}{END}\n"
        path.write_text(text)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
