"""otlint serve as a subprocess on loopback, fed by the real SDK exporters, forwarding to a real
gRPC receiver; stopped with SIGTERM like a sidecar is."""

from __future__ import annotations

import gzip
import json
import shutil
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import grpc
import pytest
from opentelemetry.exporter.otlp.proto.common._log_encoder import encode_logs
from opentelemetry.exporter.otlp.proto.common.metrics_encoder import encode_metrics
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.exporter.otlp.proto.grpc._log_exporter import OTLPLogExporter
from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import OTLPMetricExporter
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import (
    OTLPSpanExporter as HTTPSpanExporter,
)
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2
from opentelemetry.sdk.trace.export import SpanExportResult
from serving import SERVICES, Upstream, sidecar
from serving import free_port as _free_port

from sdkworld import World, build_world


@pytest.fixture(scope="module")
def world() -> World:
    return build_world(healthy=False, requests=12, latency_scale=0, batch_every=3)


def _send_world(world: World, grpc_addr: str, http_addr: str) -> None:
    """The SDK's own exporters: traces over gRPC and HTTP, metrics and logs over gRPC."""
    spans_grpc = OTLPSpanExporter(endpoint=grpc_addr, insecure=True)
    spans_http = HTTPSpanExporter(endpoint=f"http://{http_addr}/v1/traces")
    for i, batch in enumerate(world.span_batches):
        exporter = spans_grpc if i % 2 == 0 else spans_http
        assert exporter.export(batch) == SpanExportResult.SUCCESS
    metrics = OTLPMetricExporter(endpoint=grpc_addr, insecure=True)
    for data in world.metric_batches:
        assert metrics.export(data).name == "SUCCESS"
    logs = OTLPLogExporter(endpoint=grpc_addr, insecure=True)
    for batch in world.log_batches:
        assert logs.export(batch).name == "SUCCESS"


def _expected_requests(world: World) -> list[tuple[str, bytes]]:
    out = [("traces", encode_spans(b).SerializeToString()) for b in world.span_batches]
    out += [("metrics", encode_metrics(m).SerializeToString()) for m in world.metric_batches]
    out += [("logs", encode_logs(b).SerializeToString()) for b in world.log_batches]
    return out


def test_sidecar_finds_the_breaks_and_forwards_everything_unchanged(
    world: World, tmp_path: Path
) -> None:
    upstream = Upstream(_free_port())
    upstream.start()
    report = tmp_path / "report.json"
    try:
        # Linting is made slow (and its queue tiny): forwarding must not care.
        with sidecar(
            tmp_path,
            "--forward",
            f"127.0.0.1:{upstream.port}",
            "--report",
            str(report),
            "--format",
            "json",
            "--lint-queue",
            "2",
            env={"OTLINT_SERVE_LINT_DELAY": "0.2"},
        ) as sc:
            _send_world(world, sc["grpc"], sc["http"])
            deadline = time.time() + 30
            while (
                len(upstream.received) < len(_expected_requests(world)) and time.time() < deadline
            ):
                time.sleep(0.05)
        assert sc["returncode"] == 0, sc["stderr"]
    finally:
        upstream.stop()
    # Every request arrived upstream byte for byte, and each signal's requests in order.
    expected = _expected_requests(world)
    assert sorted(upstream.received) == sorted(expected)
    for kind in SERVICES:
        assert [b for k, b in upstream.received if k == kind] == [
            b for k, b in expected if k == kind
        ]
    data = json.loads(report.read_text())
    assert data["sidecar"]["forwarded"]["traces"] == len(world.spans)
    assert sum(data["sidecar"]["not_linted"].values()) > 0, (
        "linting was slow: some requests must be unlinted"
    )
    assert any("fell behind" in note for note in data.get("notes", []))


def test_sidecar_report_names_each_break(world: World, tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    with sidecar(
        tmp_path, "--report", str(report), "--format", "json", "--trace-idle", "0.2"
    ) as sc:
        _send_world(world, sc["grpc"], sc["http"])
        time.sleep(0.5)
        live = json.loads(urllib.request.urlopen(f"http://{sc['http']}/report", timeout=30).read())
        assert live["summary"]["spans"] == len(world.spans)
        assert urllib.request.urlopen(f"http://{sc['http']}/healthz", timeout=5).status == 200
        metrics = urllib.request.urlopen(f"http://{sc['http']}/metrics", timeout=5).read().decode()
        assert (
            f'otlint_received_records_total{{signal="traces"}} {float(len(world.spans))}' in metrics
        )
    assert sc["returncode"] == 0, sc["stderr"]
    final = json.loads(report.read_text())
    found = {(f["code"], f["service"], f["peer"]) for f in final["findings"]}
    assert ("TR007", "checkout", "inventory") in found  # the mismatched propagator
    # Judged in windows and settled, the mismatch still blames the callee, in the matrix too.
    assert {f.get("blame") for f in final["findings"] if f["code"] == "TR007"} == {"inventory"}
    cells = {(c["join"], c["service"], c["peer"]): c["status"] for c in final["joins"]}
    assert cells[("trace", "inventory", None)] == "broken"
    assert any(code == "ID002" for code, _, _ in found)  # the service without a name
    assert ("LT003", "payments", None) in found
    assert ("SR001", "checkout", None) in found


def test_malformed_requests_are_refused_and_the_server_keeps_serving(
    world: World, tmp_path: Path
) -> None:
    with sidecar(tmp_path) as sc:
        channel = grpc.insecure_channel(sc["grpc"])
        export = channel.unary_unary(
            SERVICES["traces"], request_serializer=None, response_deserializer=None
        )
        with pytest.raises(grpc.RpcError) as err:
            export(b"\xff\xff\xff\xff", timeout=10)
        assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        url = f"http://{sc['http']}/v1/traces"
        for body, ctype in (
            (b"\x0a\xff", "application/x-protobuf"),
            (b"{not json", "application/json"),
        ):
            req = urllib.request.Request(url, data=body, headers={"Content-Type": ctype})
            with pytest.raises(urllib.error.HTTPError) as http_err:
                urllib.request.urlopen(req, timeout=10)
            assert http_err.value.code == 400
        bad_gzip = urllib.request.Request(
            url,
            data=b"not gzip",
            headers={"Content-Type": "application/x-protobuf", "Content-Encoding": "gzip"},
        )
        with pytest.raises(urllib.error.HTTPError) as gz_err:
            urllib.request.urlopen(bad_gzip, timeout=10)
        assert gz_err.value.code == 400
        # still serving, over both transports, gzip included
        good = encode_spans(world.span_batches[0]).SerializeToString()
        assert export(good, timeout=10) == b""
        req = urllib.request.Request(
            url,
            data=gzip.compress(good),
            headers={"Content-Type": "application/x-protobuf", "Content-Encoding": "gzip"},
        )
        reply = urllib.request.urlopen(req, timeout=10)
        assert reply.status == 200
        trace_service_pb2.ExportTraceServiceResponse.FromString(reply.read())
        channel.close()
    assert sc["returncode"] == 0, sc["stderr"]


def test_retry_queue_delivers_after_the_upstream_comes_back(world: World, tmp_path: Path) -> None:
    port = _free_port()
    requests = [encode_spans(b).SerializeToString() for b in world.span_batches]
    with sidecar(tmp_path, "--forward", f"127.0.0.1:{port}") as sc:
        channel = grpc.insecure_channel(sc["grpc"])
        export = channel.unary_unary(
            SERVICES["traces"], request_serializer=None, response_deserializer=None
        )
        for body in requests:
            export(body, timeout=10)  # accepted while the upstream is down
        time.sleep(1.0)
        upstream = Upstream(port)
        upstream.start()
        deadline = time.time() + 30
        while len(upstream.received) < len(requests) and time.time() < deadline:
            time.sleep(0.1)
        channel.close()
    upstream.stop()
    assert [b for _, b in upstream.received] == requests
    assert sc["returncode"] == 0, sc["stderr"]


def test_bearer_token_is_required_when_set(world: World, tmp_path: Path) -> None:
    with sidecar(tmp_path, "--auth-token", "s3cret") as sc:
        channel = grpc.insecure_channel(sc["grpc"])
        export = channel.unary_unary(
            SERVICES["traces"], request_serializer=None, response_deserializer=None
        )
        body = encode_spans(world.span_batches[0]).SerializeToString()
        with pytest.raises(grpc.RpcError) as err:
            export(body, timeout=10)
        assert err.value.code() == grpc.StatusCode.UNAUTHENTICATED
        assert export(body, timeout=10, metadata=(("authorization", "Bearer s3cret"),)) == b""
        with pytest.raises(urllib.error.HTTPError) as http_err:
            urllib.request.urlopen(f"http://{sc['http']}/report", timeout=10)
        assert http_err.value.code == 401
        channel.close()
    assert sc["returncode"] == 0, sc["stderr"]


def _route_by_trace_id(world: World, n: int) -> list[list[bytes]]:
    """What the collector's load-balancing exporter (routing_key: traceID) does: each trace to one backend."""
    shards: list[list[Any]] = [[] for _ in range(n)]
    for batch in world.span_batches:
        parts: list[list[Any]] = [[] for _ in range(n)]
        for span in batch:
            parts[span.context.trace_id % n].append(span)
        for i, part in enumerate(parts):
            if part:
                shards[i].append(encode_spans(part).SerializeToString())
    return [[b for b in shard] for shard in shards]


def _comparable(findings: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return sorted((f["code"], f["service"], f["peer"], f["count"], f["level"]) for f in findings)


def test_two_sidecars_routed_by_trace_id_merge_to_one(world: World, tmp_path: Path) -> None:
    logs = [encode_logs(b).SerializeToString() for b in world.log_batches]
    routed = _route_by_trace_id(world, 2)
    states = []
    for i, shard in enumerate(routed):
        state = tmp_path / f"shard{i}.otlint"
        with sidecar(tmp_path, "--state", str(state), "--trace-idle", "0") as sc:
            channel = grpc.insecure_channel(sc["grpc"])
            traces = channel.unary_unary(
                SERVICES["traces"], request_serializer=None, response_deserializer=None
            )
            for body in shard:
                traces(body, timeout=10)
            if i == 0:  # logs go to one of them
                send_logs = channel.unary_unary(
                    SERVICES["logs"], request_serializer=None, response_deserializer=None
                )
                for body in logs:
                    send_logs(body, timeout=10)
            channel.close()
        assert sc["returncode"] == 0, sc["stderr"]
        states.append(str(state))
    whole = tmp_path / "whole.json"
    with sidecar(tmp_path, "--report", str(whole), "--format", "json") as sc:
        channel = grpc.insecure_channel(sc["grpc"])
        traces = channel.unary_unary(
            SERVICES["traces"], request_serializer=None, response_deserializer=None
        )
        for body in (b for shard in routed for b in shard):
            traces(body, timeout=10)
        send_logs = channel.unary_unary(
            SERVICES["logs"], request_serializer=None, response_deserializer=None
        )
        for body in logs:
            send_logs(body, timeout=10)
        channel.close()
    merged = subprocess.run(
        [sys.executable, "-m", "otlint", "merge", *states, "--format", "json", "--isolated"],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
    )
    assert merged.returncode == 1, merged.stderr
    one = json.loads(whole.read_text())
    two = json.loads(merged.stdout)
    assert two["summary"] == one["summary"]
    assert _comparable(two["findings"]) == _comparable(one["findings"])
    assert any(f["code"] == "TR007" for f in two["findings"])


@pytest.mark.skipif(not shutil.which("openssl"), reason="needs openssl to make a test certificate")
def test_tls_on_both_ports(world: World, tmp_path: Path) -> None:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=IP:127.0.0.1,DNS:localhost",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    with sidecar(tmp_path, "--tls-cert", str(cert), "--tls-key", str(key)) as sc:
        creds = grpc.ssl_channel_credentials(cert.read_bytes())
        channel = grpc.secure_channel(sc["grpc"], creds)
        export = channel.unary_unary(
            SERVICES["traces"], request_serializer=None, response_deserializer=None
        )
        assert export(encode_spans(world.span_batches[0]).SerializeToString(), timeout=10) == b""
        channel.close()
        context = ssl.create_default_context(cafile=str(cert))
        with urllib.request.urlopen(
            f"https://{sc['http']}/healthz", timeout=10, context=context
        ) as reply:
            assert reply.status == 200
        with pytest.raises((urllib.error.URLError, ConnectionError)):
            urllib.request.urlopen(f"http://{sc['http']}/healthz", timeout=5)
        # Plain text to the TLS gRPC port: refused, and not a line on stderr.
        plain = grpc.insecure_channel(sc["grpc"])
        with pytest.raises(grpc.RpcError):
            plain.unary_unary(SERVICES["traces"])(b"", timeout=2)
        plain.close()
    assert sc["returncode"] == 0, sc["stderr"]
    # A client speaking the wrong protocol is no traceback, nor a line of gRPC's log.
    assert "Traceback" not in sc["stderr"] and "Handshake" not in sc["stderr"], sc["stderr"]


def test_http_chunked_body_and_size_limit(world: World, tmp_path: Path) -> None:
    import http.client

    body = encode_spans(world.span_batches[0]).SerializeToString()
    with sidecar(tmp_path, "--max-message-size", "4096") as sc:
        host, port = sc["http"].split(":")
        conn = http.client.HTTPConnection(host, int(port), timeout=10)
        small = encode_spans(world.span_batches[0][:1]).SerializeToString()
        assert len(small) < 4096 < len(body)
        conn.request(
            "POST",
            "/v1/traces",
            body=iter([small[:10], small[10:]]),
            headers={"Content-Type": "application/x-protobuf", "Transfer-Encoding": "chunked"},
            encode_chunked=True,
        )
        reply = conn.getresponse()
        assert reply.status == 200, reply.read()
        conn.close()
        conn = http.client.HTTPConnection(host, int(port), timeout=10)
        conn.request(
            "POST", "/v1/traces", body=body, headers={"Content-Type": "application/x-protobuf"}
        )
        assert conn.getresponse().status == 413
        conn.close()
        live = json.loads(urllib.request.urlopen(f"http://{sc['http']}/report", timeout=30).read())
        assert live["sidecar"]["received"]["traces"] == 1
    assert sc["returncode"] == 0, sc["stderr"]


def test_http_json_is_accepted_and_leniency_is_a_partial_success_warning(tmp_path: Path) -> None:
    canonical = {
        "resourceSpans": [
            {
                "resource": {
                    "attributes": [{"key": "service.name", "value": {"stringValue": "a"}}]
                },
                "scopeSpans": [
                    {
                        "spans": [
                            {
                                "traceId": "5b8efff798038103d269b633813fc60c",
                                "spanId": "eee19b7ec3c1b174",
                                "name": "x",
                                "kind": 2,
                            }
                        ]
                    }
                ],
            }
        ]
    }
    lenient = json.loads(json.dumps(canonical).replace('"kind": 2', '"kind": "SPAN_KIND_SERVER"'))
    with sidecar(tmp_path) as sc:
        url = f"http://{sc['http']}/v1/traces"
        for doc, warned in ((canonical, False), (lenient, True)):
            req = urllib.request.Request(
                url, data=json.dumps(doc).encode(), headers={"Content-Type": "application/json"}
            )
            with urllib.request.urlopen(req, timeout=10) as reply:
                assert reply.status == 200
                body = json.loads(reply.read())
            assert ("partialSuccess" in body) is warned
            if warned:
                assert "enum-name" in body["partialSuccess"]["errorMessage"]
        wrong = urllib.request.Request(
            f"http://{sc['http']}/v1/logs",
            data=json.dumps(canonical).encode(),
            headers={"Content-Type": "application/json"},
        )
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(wrong, timeout=10)
        assert err.value.code == 400
    assert sc["returncode"] == 0, sc["stderr"]
