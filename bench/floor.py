#!/usr/bin/env python3
"""The decode-only floor: what reading the bench corpus costs with nothing else done.

Proto (default): reads each 4-byte big-endian length-prefixed file frame by frame and
decodes every frame with the full ``opentelemetry-proto`` class (``TracesData.FromString``,
``LogsData.FromString``, ``MetricsData.FromString``), then drops it. JSON (``--json``):
``json.loads`` of every line of each JSON Lines file; ``--json-lib orjson`` takes
``orjson.loads`` instead (issue 15's floor), ``--json-lib msgspec`` msgspec's untyped
decoder.

It runs as its own process so that ``bench/run.py`` can compare whole processes: the
interpreter start, the imports and the reads are in the floor too. It prints one JSON
object: per file the frames, bytes, records and in-process seconds, and the totals.

Records are counted with ``len()`` of each scope's repeated field (spans, log records)
and of each metric's data points: one call per scope or metric, not per record.

Usage: ``python bench/floor.py [--json [--json-lib json|orjson|msgspec]] FILE...`` (the signal comes from the file name:
``traces``, ``logs`` or ``metrics``).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

SIGNALS = ("traces", "logs", "metrics")


def signal_of(path: Path) -> str:
    """``traces``, ``logs`` or ``metrics``, from the file name."""
    for signal in SIGNALS:
        if signal in path.name:
            return signal
    raise SystemExit(
        f"floor: {path}: cannot tell the signal from the name (traces, logs or metrics)"
    )


def proto_decoders() -> dict[str, tuple[Callable[[bytes], Any], Callable[[Any], int]]]:
    """Per signal: the full opentelemetry-proto decoder and a record counter (also used by sidecar.py)."""
    from opentelemetry.proto.logs.v1 import logs_pb2
    from opentelemetry.proto.metrics.v1 import metrics_pb2
    from opentelemetry.proto.trace.v1 import trace_pb2

    def spans(msg: Any) -> int:
        return sum(len(ss.spans) for rs in msg.resource_spans for ss in rs.scope_spans)

    def logs(msg: Any) -> int:
        return sum(len(sl.log_records) for rl in msg.resource_logs for sl in rl.scope_logs)

    def points(msg: Any) -> int:
        n = 0
        for rm in msg.resource_metrics:
            for sm in rm.scope_metrics:
                for m in sm.metrics:
                    which = m.WhichOneof("data")
                    if which is not None:
                        n += len(getattr(m, which).data_points)
        return n

    return {
        "traces": (trace_pb2.TracesData.FromString, spans),
        "logs": (logs_pb2.LogsData.FromString, logs),
        "metrics": (metrics_pb2.MetricsData.FromString, points),
    }


def proto_floor(
    path: Path, decode: Callable[[bytes], Any], count: Callable[[Any], int]
) -> dict[str, Any]:
    """Decode every frame of one proto-framed file; returns frames, bytes, records, seconds."""
    frames = size = records = 0
    t0 = time.perf_counter()
    with open(path, "rb", buffering=1 << 16) as f:
        while True:
            head = f.read(4)
            if len(head) < 4:
                break
            payload = f.read(int.from_bytes(head, "big"))
            msg = decode(payload)
            records += count(msg)
            frames += 1
            size += 4 + len(payload)
    return {
        "frames": frames,
        "bytes": size,
        "records": records,
        "seconds": time.perf_counter() - t0,
    }


def _json_count(signal: str, doc: dict[str, Any]) -> int:
    if signal == "traces":
        return sum(
            len(ss.get("spans", ()))
            for rs in doc.get("resourceSpans", ())
            for ss in rs.get("scopeSpans", ())
        )
    if signal == "logs":
        return sum(
            len(sl.get("logRecords", ()))
            for rl in doc.get("resourceLogs", ())
            for sl in rl.get("scopeLogs", ())
        )
    n = 0
    for rm in doc.get("resourceMetrics", ()):
        for sm in rm.get("scopeMetrics", ()):
            for m in sm.get("metrics", ()):
                for kind in ("gauge", "sum", "histogram", "exponentialHistogram", "summary"):
                    if kind in m:
                        n += len(m[kind].get("dataPoints", ()))
    return n


def json_loads(lib: str) -> Callable[[bytes], Any]:
    """The ``loads`` of a JSON library: ``json``, ``orjson`` or ``msgspec`` (untyped)."""
    if lib == "orjson":
        import orjson

        return orjson.loads
    if lib == "msgspec":
        import msgspec

        return msgspec.json.Decoder().decode
    return json.loads


def json_floor(
    path: Path, signal: str, loads: Callable[[bytes], Any] = json.loads
) -> dict[str, Any]:
    """``loads`` every line of one JSON Lines file; returns lines, bytes, records, seconds."""
    frames = size = records = 0
    t0 = time.perf_counter()
    with open(path, "rb", buffering=1 << 16) as f:
        for line in f:
            doc = loads(line)
            records += _json_count(signal, doc)
            frames += 1
            size += len(line)
    return {
        "frames": frames,
        "bytes": size,
        "records": records,
        "seconds": time.perf_counter() - t0,
    }


def main(argv: list[str] | None = None) -> None:
    """Command line: decode the files, print the JSON summary."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="+", type=Path)
    parser.add_argument(
        "--json", action="store_true", help="JSON Lines floor (json.loads per line)"
    )
    parser.add_argument(
        "--json-lib",
        choices=("json", "orjson", "msgspec"),
        default="json",
        help="the JSON library of the --json floor (default json)",
    )
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    mode = (
        "proto" if not args.json else "json" if args.json_lib == "json" else f"json-{args.json_lib}"
    )
    out: dict[str, Any] = {"mode": mode, "files": {}}
    decoders = None if args.json else proto_decoders()
    loads = json_loads(args.json_lib) if args.json else json.loads
    for path in args.files:
        signal = signal_of(path)
        if decoders is None:
            result = json_floor(path, signal, loads)
        else:
            result = proto_floor(path, *decoders[signal])
        result["signal"] = signal
        out["files"][str(path)] = result
    out["seconds"] = time.perf_counter() - t0
    out["records"] = {
        s: sum(r["records"] for r in out["files"].values() if r["signal"] == s) for s in SIGNALS
    }
    json.dump(out, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
