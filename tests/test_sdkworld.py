"""Tests of ``scripts/sdkworld.py``, the SDK-driven sample-telemetry generator.

The worlds are built once per module on the real OpenTelemetry SDK and written to disk in every
format; the assertions read the files back (raw OTLP/JSON and protobuf), not the generator's
in-memory objects, so they check what a linter would actually see.
"""

from __future__ import annotations

import gzip
import importlib.util
import json
import struct
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import zstandard
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.logs.v1.logs_pb2 import LogsData
from opentelemetry.proto.metrics.v1.metrics_pb2 import MetricsData
from opentelemetry.proto.trace.v1.trace_pb2 import TracesData

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "sdkworld.py"
REQUESTS = 12
BATCH_EVERY = 4
SIGNAL_KEYS = {"traces": "resourceSpans", "metrics": "resourceMetrics", "logs": "resourceLogs"}
SERVER, CLIENT = 2, 3  # OTLP/JSON span kinds


def _load_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("sdkworld", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["sdkworld"] = module
    spec.loader.exec_module(module)
    return module


sdkworld = _load_module()


# ------------------------------------------------------------------------------------------------
# reading the written files back
# ------------------------------------------------------------------------------------------------


def _value(any_value: dict[str, Any]) -> Any:
    for key in ("stringValue", "boolValue", "doubleValue"):
        if key in any_value:
            return any_value[key]
    if "intValue" in any_value:
        return int(any_value["intValue"])
    return any_value


def _attrs(items: list[dict[str, Any]] | None) -> dict[str, Any]:
    return {kv["key"]: _value(kv.get("value", {})) for kv in items or []}


@dataclass
class Dump:
    """Flattened records of one world's JSONL files."""

    spans: list[dict[str, Any]]
    logs: list[dict[str, Any]]
    points: list[dict[str, Any]]  # histogram / sum data points
    resources: dict[str, list[dict[str, Any]]]  # signal -> resource attribute dicts

    def resource_of(self, signal: str, service: str) -> list[dict[str, Any]]:
        """Resources of ``signal`` whose k8s deployment is ``service``."""
        return [r for r in self.resources[signal] if r.get("k8s.deployment.name") == service]


def _jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def _read_dump(outdir: Path) -> Dump:
    dump = Dump(spans=[], logs=[], points=[], resources={s: [] for s in SIGNAL_KEYS})
    for doc in _jsonl(outdir / "traces.jsonl"):
        for rs in doc["resourceSpans"]:
            resource = _attrs(rs["resource"].get("attributes"))
            dump.resources["traces"].append(resource)
            for ss in rs["scopeSpans"]:
                for span in ss["spans"]:
                    dump.spans.append(
                        {**span, "_resource": resource, "_attrs": _attrs(span.get("attributes"))}
                    )
    for doc in _jsonl(outdir / "logs.jsonl"):
        for rl in doc["resourceLogs"]:
            resource = _attrs(rl["resource"].get("attributes"))
            dump.resources["logs"].append(resource)
            for sl in rl["scopeLogs"]:
                for record in sl["logRecords"]:
                    dump.logs.append(
                        {
                            **record,
                            "_resource": resource,
                            "_attrs": _attrs(record.get("attributes")),
                        }
                    )
    for doc in _jsonl(outdir / "metrics.jsonl"):
        for rm in doc["resourceMetrics"]:
            resource = _attrs(rm["resource"].get("attributes"))
            dump.resources["metrics"].append(resource)
            for sm in rm["scopeMetrics"]:
                for metric in sm["metrics"]:
                    for kind in ("histogram", "sum"):
                        for point in metric.get(kind, {}).get("dataPoints", []):
                            dump.points.append(
                                {**point, "_metric": metric["name"], "_resource": resource}
                            )
    return dump


def _service(record: dict[str, Any]) -> str:
    return str(record["_resource"].get("k8s.deployment.name"))


def _frames(path: Path, compressed: bool) -> Iterator[bytes]:
    data = path.read_bytes()
    offset = 0
    decompressor = zstandard.ZstdDecompressor()
    while offset < len(data):
        (length,) = struct.unpack_from(">I", data, offset)
        offset += 4
        payload = data[offset : offset + length]
        offset += length
        yield decompressor.decompress(payload) if compressed else payload
    assert offset == len(data)


# ------------------------------------------------------------------------------------------------
# fixtures
# ------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def healthy_world() -> Any:
    return sdkworld.build_world(True, requests=REQUESTS, batch_every=BATCH_EVERY)


@pytest.fixture(scope="module")
def broken_world() -> Any:
    return sdkworld.build_world(False, requests=REQUESTS, batch_every=BATCH_EVERY)


@pytest.fixture(scope="module")
def healthy_dir(healthy_world: Any, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("healthy")
    sdkworld.write_world(healthy_world, out, formats=list(sdkworld.FORMATS))
    return out


@pytest.fixture(scope="module")
def broken_dir(broken_world: Any, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("broken")
    sdkworld.write_world(broken_world, out, formats=["jsonl"])
    return out


@pytest.fixture(scope="module")
def healthy(healthy_dir: Path) -> Dump:
    return _read_dump(healthy_dir)


@pytest.fixture(scope="module")
def broken(broken_dir: Path) -> Dump:
    return _read_dump(broken_dir)


# ------------------------------------------------------------------------------------------------
# formats
# ------------------------------------------------------------------------------------------------


def test_every_format_writes_all_signals(healthy_dir: Path) -> None:
    for ext in sdkworld.FORMATS.values():
        for signal in SIGNAL_KEYS:
            path = healthy_dir / f"{signal}.{ext}"
            assert path.is_file(), path
            assert path.stat().st_size > 0, path


def test_several_batches_per_signal(healthy_world: Any) -> None:
    expected = -(-REQUESTS // BATCH_EVERY)
    assert len(healthy_world.span_batches) == expected
    assert len(healthy_world.metric_batches) == expected
    assert len(healthy_world.log_batches) == expected


def test_proto_framing_parses_record_by_record(healthy_dir: Path, healthy_world: Any) -> None:
    for compressed, ext in ((False, "binpb"), (True, "zstpb")):
        traces = [
            TracesData.FromString(f) for f in _frames(healthy_dir / f"traces.{ext}", compressed)
        ]
        assert len(traces) == len(healthy_world.span_batches)
        span_counts = [
            sum(len(ss.spans) for rs in t.resource_spans for ss in rs.scope_spans) for t in traces
        ]
        assert span_counts == [len(batch) for batch in healthy_world.span_batches]
        logs = [LogsData.FromString(f) for f in _frames(healthy_dir / f"logs.{ext}", compressed)]
        log_counts = [
            sum(len(sl.log_records) for rl in d.resource_logs for sl in rl.scope_logs) for d in logs
        ]
        assert log_counts == [len(batch) for batch in healthy_world.log_batches]
        metrics = [
            MetricsData.FromString(f) for f in _frames(healthy_dir / f"metrics.{ext}", compressed)
        ]
        assert len(metrics) == len(healthy_world.metric_batches)
        assert all(m.resource_metrics for m in metrics)


def test_pb_is_one_merged_export_request(healthy_dir: Path, healthy_world: Any) -> None:
    traces = ExportTraceServiceRequest.FromString((healthy_dir / "traces.pb").read_bytes())
    assert sum(len(ss.spans) for rs in traces.resource_spans for ss in rs.scope_spans) == len(
        healthy_world.spans
    )
    services = {
        kv.value.string_value
        for rs in traces.resource_spans
        for kv in rs.resource.attributes
        if kv.key == "service.name"
    }
    assert services == {"frontend", "checkout", "payments", "inventory", "shipping"}
    logs = ExportLogsServiceRequest.FromString((healthy_dir / "logs.pb").read_bytes())
    assert sum(len(sl.log_records) for rl in logs.resource_logs for sl in rl.scope_logs) == len(
        healthy_world.logs
    )
    metrics = ExportMetricsServiceRequest.FromString((healthy_dir / "metrics.pb").read_bytes())
    expected = sum(len(batch.resource_metrics) for batch in healthy_world.metric_batches)
    assert len(metrics.resource_metrics) == expected


def test_jsonl_lines_are_otlp_json_documents(healthy_dir: Path, healthy_world: Any) -> None:
    for signal, key in SIGNAL_KEYS.items():
        lines = _jsonl(healthy_dir / f"{signal}.jsonl")
        assert len(lines) == len(healthy_world.span_batches)
        assert all(set(doc) == {key} and doc[key] for doc in lines)


def test_compressed_jsonl_and_pretty_json(healthy_dir: Path) -> None:
    for signal, key in SIGNAL_KEYS.items():
        raw = (healthy_dir / f"{signal}.jsonl").read_bytes()
        assert gzip.decompress((healthy_dir / f"{signal}.jsonl.gz").read_bytes()) == raw
        zst = (healthy_dir / f"{signal}.jsonl.zst").read_bytes()
        assert zstandard.ZstdDecompressor().decompressobj().decompress(zst) == raw
        text = (healthy_dir / f"{signal}.json").read_text()
        assert text.startswith("{\n  ")
        doc = json.loads(text)
        assert set(doc) == {key} and doc[key]


def test_unknown_format_is_rejected(healthy_world: Any, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown format"):
        sdkworld.write_world(healthy_world, tmp_path, formats=["jsonl", "xml"])
    assert not list(tmp_path.iterdir())


def test_cli_both(tmp_path: Path) -> None:
    assert sdkworld.main([str(tmp_path), "--both", "--formats", "jsonl,pb", "--requests", "2"]) == 0
    for world in ("healthy", "broken"):
        names = sorted(p.name for p in (tmp_path / world).iterdir())
        assert names == sorted(f"{s}.{e}" for s in SIGNAL_KEYS for e in ("jsonl", "pb"))


# ------------------------------------------------------------------------------------------------
# healthy world
# ------------------------------------------------------------------------------------------------


def test_healthy_server_spans_are_children_of_checkout_clients(healthy: Dump) -> None:
    by_id = {(s["traceId"], s["spanId"]): s for s in healthy.spans}
    servers = [
        s for s in healthy.spans if s["kind"] == SERVER and _service(s) in {"payments", "inventory"}
    ]
    assert {_service(s) for s in servers} == {"payments", "inventory"}
    for span in servers:
        parent = by_id[(span["traceId"], span["parentSpanId"])]
        assert parent["kind"] == CLIENT and _service(parent) == "checkout"
        assert parent["_attrs"]["server.address"] == span["_attrs"]["server.address"]
        assert parent["_attrs"]["server.port"] == span["_attrs"]["server.port"]
    shipping = [s for s in healthy.spans if _service(s) == "shipping"]
    assert shipping
    for span in shipping:
        parent = by_id[(span["traceId"], span["parentSpanId"])]
        assert parent["name"] == "send orders" and _service(parent) == "checkout"


def test_healthy_logs_all_join_spans(healthy: Dump) -> None:
    span_ids = {(s["traceId"], s["spanId"]) for s in healthy.spans}
    assert healthy.logs
    for record in healthy.logs:
        assert record.get("traceId"), record
        assert (record["traceId"], record["spanId"]) in span_ids
        assert "trace_id" not in record["_attrs"]
    assert {_service(r) for r in healthy.logs} == {
        "frontend",
        "checkout",
        "payments",
        "inventory",
        "shipping",
    }


def test_healthy_exemplars_point_at_spans(healthy: Dump) -> None:
    span_ids = {(s["traceId"], s["spanId"]) for s in healthy.spans}
    exemplars = [e for p in healthy.points for e in p.get("exemplars", [])]
    assert exemplars
    assert all((e["traceId"], e["spanId"]) in span_ids for e in exemplars)
    with_exemplars = {p["_metric"] for p in healthy.points if p.get("exemplars")}
    assert {"http.server.request.duration", "http.client.request.duration"} <= with_exemplars


def test_healthy_resources_consistent_across_signals(healthy: Dump) -> None:
    per_instance: dict[str, set[str]] = {}
    for signal, resources in healthy.resources.items():
        for resource in resources:
            assert resource["deployment.environment.name"] == "staging", signal
            assert not str(resource["service.name"]).startswith("unknown_service")
            key = resource["service.instance.id"]
            per_instance.setdefault(key, set()).add(json.dumps(resource, sort_keys=True))
    assert len(per_instance) == 6  # checkout runs two instances
    assert all(len(variants) == 1 for variants in per_instance.values())


# ------------------------------------------------------------------------------------------------
# broken world: the five planted breaks, and nothing else
# ------------------------------------------------------------------------------------------------


def test_broken_declares_its_breaks(broken_world: Any, healthy_world: Any) -> None:
    assert set(broken_world.breaks) == set(sdkworld.BREAKS) and len(sdkworld.BREAKS) == 5
    assert healthy_world.breaks == ()


def test_break_propagator_mismatch(broken: Dump) -> None:
    inventory = [s for s in broken.spans if _service(s) == "inventory" and s["kind"] == SERVER]
    assert inventory
    assert all(not s.get("parentSpanId") for s in inventory)
    parents = {(s["traceId"], s.get("parentSpanId")) for s in broken.spans}
    to_inventory = [
        s
        for s in broken.spans
        if s["kind"] == CLIENT and s["_attrs"]["server.address"] == "inventory"
    ]
    assert to_inventory
    assert all((s["traceId"], s["spanId"]) not in parents for s in to_inventory)
    # payments still joins: only inventory is broken
    by_id = {(s["traceId"], s["spanId"]): s for s in broken.spans}
    payments = [s for s in broken.spans if _service(s) == "payments" and s["kind"] == SERVER]
    assert all(_service(by_id[(s["traceId"], s["parentSpanId"])]) == "checkout" for s in payments)


def test_break_missing_service_name(broken: Dump) -> None:
    for signal in SIGNAL_KEYS:
        resources = broken.resource_of(signal, "shipping")
        assert resources, signal
        assert all(str(r["service.name"]).startswith("unknown_service") for r in resources)
        others = [r for r in broken.resources[signal] if r.get("k8s.deployment.name") != "shipping"]
        assert all(r["service.name"] == r["k8s.deployment.name"] for r in others)


def test_break_ids_in_log_attributes(broken: Dump) -> None:
    payments = [r for r in broken.logs if _service(r) == "payments"]
    assert payments
    span_ids = {(s["traceId"], s["spanId"]) for s in broken.spans if _service(s) == "payments"}
    for record in payments:
        assert not record.get("traceId") and not record.get("spanId")
        assert (record["_attrs"]["trace_id"], record["_attrs"]["span_id"]) in span_ids
    others = [r for r in broken.logs if _service(r) != "payments"]
    assert others and all(r.get("traceId") and "trace_id" not in r["_attrs"] for r in others)


def test_break_version_drift(broken: Dump) -> None:
    assert {r["service.version"] for r in broken.resource_of("metrics", "checkout")} == {"1.4.1"}
    assert {r["service.version"] for r in broken.resource_of("traces", "checkout")} == {"1.4.2"}
    assert {r["service.version"] for r in broken.resource_of("logs", "checkout")} == {"1.4.2"}
    for service in ("frontend", "payments", "inventory", "shipping"):
        versions = {
            r["service.version"] for s in SIGNAL_KEYS for r in broken.resource_of(s, service)
        }
        assert len(versions) == 1, service


def test_break_deprecated_keys(broken: Dump) -> None:
    for signal in SIGNAL_KEYS:
        for resource in broken.resources[signal]:
            deprecated = resource.get("k8s.deployment.name") == "frontend"
            assert ("deployment.environment" in resource) is deprecated
            assert ("deployment.environment.name" in resource) is not deprecated
    clients = [s for s in broken.spans if s["kind"] == CLIENT]
    for span in clients:
        deprecated = _service(span) == "frontend"
        assert ("http.method" in span["_attrs"]) is deprecated
        assert ("http.request.method" in span["_attrs"]) is not deprecated
