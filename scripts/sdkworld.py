#!/usr/bin/env python3
"""Simulate a small shop on the real OpenTelemetry Python SDK and dump its telemetry.

``sdkworld`` runs five services in one process, each with its *own* ``Resource``,
``TracerProvider``, ``MeterProvider`` and ``LoggerProvider`` (the global providers are never
touched), and exports what the SDK produced exactly the way real deployments would capture it:
through the SDK's OTLP encoders and the SDK's OTLP/JSON file exporters.  Nothing in the output
is hand-built OTLP.

Topology (one request)::

    frontend  --CLIENT POST-->  checkout (SERVER)
                                  |--CLIENT POST--> payments  (SERVER)
                                  |--CLIENT GET---> inventory (SERVER)
                                  `--PRODUCER send orders--> [queue "orders"] --> shipping (CONSUMER)

Requests travel as a plain ``dict`` of headers: the caller injects with *its* service's
propagator, the callee extracts with *its own* propagator and starts its SERVER/CONSUMER span
with the extracted context as parent.  ``checkout`` runs two instances (round robin); every
other service runs one.  Every service logs through its ``LoggerProvider`` inside its spans and
records ``http.server.request.duration`` / ``http.client.request.duration`` (shipping:
``messaging.process.duration``) plus one counter while its span is current, so the SDK's
trace-based exemplar filter attaches exemplars pointing at real spans.  Telemetry is collected
in several export batches (every ``batch_every`` requests), each batch mixing all services like
a collector's file exporter sees it.

The **healthy** world is consistent: every service propagates W3C tracecontext, every log
record is emitted inside a span, and each service instance uses one resource for all three
signals.

The **broken** world plants exactly these five breaks (see :data:`BREAKS`) and nothing else:

1. ``propagator-mismatch`` -- ``inventory`` extracts with ``B3MultiFormat`` only while
   ``checkout`` injects W3C ``traceparent`` only.  B3 finds no ``X-B3-*`` headers, so every
   inventory SERVER span is a new root and checkout's CLIENT spans to inventory have no child.
2. ``missing-service-name`` -- ``shipping``'s resource is ``Resource.create`` without
   ``service.name``; the SDK fills in its default ``unknown_service:<executable>``.
3. ``ids-in-log-attributes`` -- ``payments`` emits its log records with an explicit context
   holding the invalid span (as a JSON-logging pipeline detached from the OTel context does),
   so the records carry no trace/span id; instead the hex ids of the active span are put in
   ``trace_id`` / ``span_id`` log attributes.
4. ``version-drift`` -- ``checkout``'s ``MeterProvider`` resource says ``service.version=1.4.1``
   while its traces and logs say ``1.4.2``.
5. ``deprecated-keys`` -- ``frontend``'s resource uses ``deployment.environment`` instead of
   ``deployment.environment.name`` and its CLIENT spans use ``http.method`` instead of
   ``http.request.method``.

Output formats (:func:`write_world`, one file per signal and format, named ``traces.<ext>``,
``metrics.<ext>``, ``logs.<ext>``): see :data:`FORMATS`.

CLI::

    python scripts/sdkworld.py OUTDIR [--healthy|--broken|--both] [--formats jsonl,proto,...]
                                      [--requests N] [--seed S]
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import random
import struct
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import zstandard
from opentelemetry import trace
from opentelemetry._logs import Logger, SeverityNumber
from opentelemetry.baggage.propagation import W3CBaggagePropagator
from opentelemetry.context import Context
from opentelemetry.exporter.otlp.json.common._log_encoder import encode_logs as json_encode_logs
from opentelemetry.exporter.otlp.json.common.metrics_encoder import (
    encode_metrics as json_encode_metrics,
)
from opentelemetry.exporter.otlp.json.common.trace_encoder import encode_spans as json_encode_spans
from opentelemetry.exporter.otlp.json.file import FileMetricExporter, FileSpanExporter
from opentelemetry.exporter.otlp.json.file._log_exporter import FileLogExporter
from opentelemetry.exporter.otlp.proto.common._log_encoder import encode_logs
from opentelemetry.exporter.otlp.proto.common.metrics_encoder import encode_metrics
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.metrics import Counter, Histogram
from opentelemetry.propagators.b3 import B3MultiFormat
from opentelemetry.propagators.composite import CompositePropagator
from opentelemetry.propagators.textmap import TextMapPropagator
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk._logs import LoggerProvider, ReadableLogRecord
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor
from opentelemetry.sdk.metrics import MeterProvider, TraceBasedExemplarFilter
from opentelemetry.sdk.metrics.export import InMemoryMetricReader, MetricsData, ResourceMetrics
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import INVALID_SPAN, Span, SpanKind, Status, StatusCode, Tracer
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

__all__ = [
    "BREAKS",
    "FORMATS",
    "SIGNALS",
    "ServiceInstance",
    "World",
    "build_world",
    "main",
    "write_world",
]

Signal = Literal["traces", "metrics", "logs"]
SIGNALS: tuple[Signal, ...] = ("traces", "metrics", "logs")

#: format name -> file extension (files are ``<signal>.<ext>``)
FORMATS: dict[str, str] = {
    "jsonl": "jsonl",  # SDK OTLP/JSON file exporter: one ExportXServiceRequest JSON per line/batch
    "proto": "binpb",  # collector fileexporter format=proto: [u32 BE length][TracesData] per batch
    "proto-zstd": "zstpb",  # same, compression=zstd: [u32 BE length][zstd frame] per batch
    "pb": "pb",  # one raw ExportXServiceRequest with every batch merged
    "json": "json",  # one pretty-printed OTLP/JSON document with every batch merged
    "jsonl.gz": "jsonl.gz",  # the jsonl file, gzip-compressed whole
    "jsonl.zst": "jsonl.zst",  # the jsonl file, zstandard-compressed whole
}

#: planted breaks of the broken world: id -> what is wrong
BREAKS: dict[str, str] = {
    "propagator-mismatch": (
        "inventory extracts B3 (multi-header) only while checkout injects W3C traceparent only: "
        "inventory SERVER spans are new roots, checkout CLIENT spans to inventory have no child"
    ),
    "missing-service-name": (
        "shipping's resource has no service.name; the SDK default unknown_service:<exe> is used"
    ),
    "ids-in-log-attributes": (
        "payments log records carry no trace/span context; the ids are in trace_id/span_id "
        "log attributes instead"
    ),
    "version-drift": (
        "checkout's MeterProvider resource says service.version=1.4.1, its traces and logs 1.4.2"
    ),
    "deprecated-keys": (
        "frontend's resource uses deployment.environment (not deployment.environment.name) and "
        "its CLIENT spans use http.method (not http.request.method)"
    ),
}

NAMESPACE = "shop"
ENVIRONMENT = "staging"
INSTRUMENTATION_VERSION = "0.66b2"
HTTP_SERVER_SCOPE = "opentelemetry.instrumentation.fastapi"
HTTP_CLIENT_SCOPE = "opentelemetry.instrumentation.httpx"
MESSAGING_SCOPE = "opentelemetry.instrumentation.confluent_kafka"
KAFKA_HOST = "kafka.shop.svc.cluster.local"
KAFKA_PORT = 9092
ORDERS_TOPIC = "orders"
#: semantic-conventions advice for HTTP / messaging duration histograms (seconds)
DURATION_BUCKETS: tuple[float, ...] = (
    0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0,
)  # fmt: skip


@dataclass(frozen=True)
class _ServiceSpec:
    """Static description of one service of the shop."""

    name: str
    version: str
    host: str  # the host name callers use (and the SERVER spans report)
    port: int
    scheme: str
    instances: int = 1


_SPECS: dict[str, _ServiceSpec] = {
    spec.name: spec
    for spec in (
        _ServiceSpec("frontend", "2.3.0", "frontend.shop.svc.cluster.local", 3000, "http"),
        _ServiceSpec("checkout", "1.4.2", "checkout.shop.svc.cluster.local", 8080, "http", 2),
        _ServiceSpec("payments", "3.0.1", "payments.shop.svc.cluster.local", 8443, "https"),
        _ServiceSpec("inventory", "0.9.7", "inventory", 8080, "http"),
        _ServiceSpec("shipping", "1.1.0", "shipping.shop.svc.cluster.local", 8080, "http"),
    )
}


@dataclass(frozen=True)
class ServiceInstance:
    """One running instance of a service: its identity and the resources it reports.

    ``service`` is the *logical* name (``"shipping"`` even when the planted break leaves the
    resource without ``service.name``).
    """

    service: str
    instance_id: str
    pod_ip: str
    trace_resource: Resource
    metric_resource: Resource
    log_resource: Resource
    propagator_name: str


@dataclass
class World:
    """Everything the SDK exported while simulating the shop.

    Attributes:
        healthy: ``True`` for the consistent world, ``False`` for the one with :data:`BREAKS`.
        requests: number of frontend requests simulated.
        seed: RNG seed used for shapes (latencies, failures, identities).
        instances: every service instance with its resources.
        span_batches: one list of SDK ``ReadableSpan`` per export batch (all services mixed).
        metric_batches: one SDK ``MetricsData`` per export batch (one ``ResourceMetrics`` per
            instance, cumulative temporality, exemplars of that interval).
        log_batches: one list of SDK ``ReadableLogRecord`` per export batch.
        breaks: ids of the planted breaks (keys of :data:`BREAKS`; empty when healthy).
    """

    healthy: bool
    requests: int
    seed: int
    instances: list[ServiceInstance] = field(default_factory=list)
    span_batches: list[list[ReadableSpan]] = field(default_factory=list)
    metric_batches: list[MetricsData] = field(default_factory=list)
    log_batches: list[list[ReadableLogRecord]] = field(default_factory=list)
    breaks: tuple[str, ...] = ()

    @property
    def spans(self) -> list[ReadableSpan]:
        """All spans of all batches."""
        return [span for batch in self.span_batches for span in batch]

    @property
    def logs(self) -> list[ReadableLogRecord]:
        """All log records of all batches."""
        return [record for batch in self.log_batches for record in batch]

    def trace_requests(self) -> list[ExportTraceServiceRequest]:
        """One ``ExportTraceServiceRequest`` per batch, from the SDK protobuf encoder."""
        return [encode_spans(batch) for batch in self.span_batches]

    def metric_requests(self) -> list[ExportMetricsServiceRequest]:
        """One ``ExportMetricsServiceRequest`` per batch, from the SDK protobuf encoder."""
        return [encode_metrics(batch) for batch in self.metric_batches]

    def log_requests(self) -> list[ExportLogsServiceRequest]:
        """One ``ExportLogsServiceRequest`` per batch, from the SDK protobuf encoder."""
        return [encode_logs(batch) for batch in self.log_batches]

    def requests_for(self, signal: Signal) -> list[Any]:
        """Per-batch protobuf export requests of ``signal``."""
        if signal == "traces":
            return list(self.trace_requests())
        if signal == "metrics":
            return list(self.metric_requests())
        return list(self.log_requests())

    def merged_request(self, signal: Signal) -> Any:
        """One protobuf export request holding every batch of ``signal``.

        Spans and logs of all batches are encoded together (the encoder groups them per
        resource and scope).  Metric batches are encoded one by one and merged
        (``MergeFrom``: one ``ResourceMetrics`` per instance and batch), because the SDK
        encoder assumes each resource appears once per ``MetricsData``.
        """
        if signal == "traces":
            return encode_spans(self.spans)
        if signal == "logs":
            return encode_logs(self.logs)
        merged = ExportMetricsServiceRequest()
        for request in self.metric_requests():
            merged.MergeFrom(request)
        return merged

    def merged_json(self, signal: Signal) -> dict[str, Any]:
        """The SDK OTLP/JSON encoder's dict for every batch of ``signal`` (merged like
        :meth:`merged_request`)."""
        if signal == "traces":
            return dict(json_encode_spans(self.spans).to_dict())
        if signal == "logs":
            return dict(json_encode_logs(self.logs).to_dict())
        resource_metrics: list[Any] = []
        for batch in self.metric_batches:
            resource_metrics.extend(json_encode_metrics(batch).to_dict().get("resourceMetrics", []))
        return {"resourceMetrics": resource_metrics}


# --------------------------------------------------------------------------------------------
# one running service instance
# --------------------------------------------------------------------------------------------


class _Node:
    """A service instance with its own providers, in-memory exporters and instruments."""

    def __init__(self, info: ServiceInstance, spec: _ServiceSpec, propagator: TextMapPropagator):
        self.info = info
        self.spec = spec
        self.propagator = propagator
        self.span_exporter = InMemorySpanExporter()
        self.tracer_provider = TracerProvider(resource=info.trace_resource, shutdown_on_exit=False)
        self.tracer_provider.add_span_processor(SimpleSpanProcessor(self.span_exporter))
        self.metric_reader = InMemoryMetricReader()
        self.meter_provider = MeterProvider(
            metric_readers=[self.metric_reader],
            resource=info.metric_resource,
            # explicit, so OTEL_METRICS_EXEMPLAR_FILTER in the environment cannot turn them off
            exemplar_filter=TraceBasedExemplarFilter(),
            shutdown_on_exit=False,
        )
        self.log_exporter = InMemoryLogRecordExporter()  # type: ignore[no-untyped-call]
        self.logger_provider = LoggerProvider(resource=info.log_resource, shutdown_on_exit=False)
        self.logger_provider.add_log_record_processor(SimpleLogRecordProcessor(self.log_exporter))

        self.server_tracer = self._tracer(HTTP_SERVER_SCOPE)
        self.client_tracer = self._tracer(HTTP_CLIENT_SCOPE)
        self.messaging_tracer = self._tracer(MESSAGING_SCOPE)
        self.app_tracer = self.tracer_provider.get_tracer(f"shop.{spec.name}.app", spec.version)
        self.logger: Logger = self.logger_provider.get_logger(f"shop.{spec.name}.app")
        server_meter = self.meter_provider.get_meter(HTTP_SERVER_SCOPE, INSTRUMENTATION_VERSION)
        client_meter = self.meter_provider.get_meter(HTTP_CLIENT_SCOPE, INSTRUMENTATION_VERSION)
        messaging_meter = self.meter_provider.get_meter(MESSAGING_SCOPE, INSTRUMENTATION_VERSION)
        app_meter = self.meter_provider.get_meter(f"shop.{spec.name}.app", spec.version)
        self.server_duration: Histogram = server_meter.create_histogram(
            "http.server.request.duration",
            unit="s",
            description="Duration of HTTP server requests.",
            explicit_bucket_boundaries_advisory=DURATION_BUCKETS,
        )
        self.client_duration: Histogram = client_meter.create_histogram(
            "http.client.request.duration",
            unit="s",
            description="Duration of HTTP client requests.",
            explicit_bucket_boundaries_advisory=DURATION_BUCKETS,
        )
        self.process_duration: Histogram = messaging_meter.create_histogram(
            "messaging.process.duration",
            unit="s",
            description="Duration of processing operation.",
            explicit_bucket_boundaries_advisory=DURATION_BUCKETS,
        )
        self.sent_messages: Counter = messaging_meter.create_counter(
            "messaging.client.sent.messages",
            unit="{message}",
            description="Number of messages producer attempted to send to the broker.",
        )
        self.business_counter: Counter = app_meter.create_counter(
            f"shop.{spec.name}.operations",
            unit="{operation}",
            description=f"Business operations handled by {spec.name}.",
        )

    def _tracer(self, scope: str) -> Tracer:
        return self.tracer_provider.get_tracer(scope, INSTRUMENTATION_VERSION)

    def log(
        self,
        severity: SeverityNumber,
        body: str,
        attributes: dict[str, str | int | float | bool] | None = None,
        *,
        detached: bool = False,
    ) -> None:
        """Emit a log record through this instance's ``LoggerProvider``.

        Normally the record is emitted in the current context (inside the active span).  With
        ``detached`` the record is emitted with a context holding the invalid span, so it has no
        trace/span id, and the active span's ids go into ``trace_id``/``span_id`` attributes.
        """
        attrs: dict[str, str | int | float | bool] = dict(attributes or {})
        context: Context | None = None
        if detached:
            active = trace.get_current_span().get_span_context()
            attrs["trace_id"] = trace.format_trace_id(active.trace_id)
            attrs["span_id"] = trace.format_span_id(active.span_id)
            context = trace.set_span_in_context(INVALID_SPAN, Context())
        self.logger.emit(
            timestamp=time.time_ns(),
            context=context,
            severity_number=severity,
            severity_text=severity.name,
            body=body,
            attributes=attrs,
        )

    def drain(self) -> tuple[list[ReadableSpan], ResourceMetrics | None, list[ReadableLogRecord]]:
        """Take what the SDK exported since the last drain."""
        spans = list(self.span_exporter.get_finished_spans())
        self.span_exporter.clear()
        logs = list(self.log_exporter.get_finished_logs())
        self.log_exporter.clear()
        data = self.metric_reader.get_metrics_data()
        resource_metrics = data.resource_metrics[0] if data and data.resource_metrics else None
        return spans, resource_metrics, logs

    def shutdown(self) -> None:
        """Shut the three providers down."""
        self.tracer_provider.shutdown()
        self.meter_provider.shutdown()
        self.logger_provider.shutdown()


# --------------------------------------------------------------------------------------------
# the simulation
# --------------------------------------------------------------------------------------------


@dataclass
class _Response:
    status: int
    body_size: int


@dataclass
class _Message:
    headers: dict[str, str]
    key: str
    message_id: str
    partition: int
    offset: int


Handler = Callable[["_Node", dict[str, str], str], _Response]


def _w3c() -> TextMapPropagator:
    """The SDK's default propagator: W3C tracecontext + baggage."""
    return CompositePropagator([TraceContextTextMapPropagator(), W3CBaggagePropagator()])


class _Shop:
    """Drives requests through the services and collects export batches."""

    def __init__(self, healthy: bool, seed: int, batch_every: int, latency_scale: float):
        self.healthy = healthy
        self.rng = random.Random(seed)
        self.batch_every = max(1, batch_every)
        self.latency_scale = latency_scale
        self.nodes: dict[str, list[_Node]] = {}
        self.queue: list[_Message] = []
        self.offsets = 0
        self.calls: dict[str, int] = {}
        self.world = World(healthy=healthy, requests=0, seed=seed)
        if not healthy:
            self.world.breaks = tuple(BREAKS)
        hosts = [uuid.UUID(int=self.rng.getrandbits(128)).hex for _ in range(3)]
        for spec in _SPECS.values():
            for index in range(spec.instances):
                node = self._make_node(spec, index, hosts)
                self.nodes.setdefault(spec.name, []).append(node)
                self.world.instances.append(node.info)

    # -- setup ---------------------------------------------------------------------------------

    def _uuid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def _make_node(self, spec: _ServiceSpec, index: int, hosts: list[str]) -> _Node:
        rs = self.rng
        pod_suffix = "".join(rs.choice("bcdfghjklmnpqrstvwxz2456789") for _ in range(5))
        attributes: dict[str, str] = {
            "service.name": spec.name,
            "service.namespace": NAMESPACE,
            "service.instance.id": self._uuid(),
            "service.version": spec.version,
            "deployment.environment.name": ENVIRONMENT,
            "k8s.namespace.name": NAMESPACE,
            "k8s.deployment.name": spec.name,
            "k8s.pod.name": f"{spec.name}-{rs.getrandbits(32):08x}-{pod_suffix}",
            "k8s.pod.uid": self._uuid(),
            "host.id": hosts[(len(self.world.instances) + index) % len(hosts)],
        }
        pod_ip = f"10.42.{rs.randint(0, 3)}.{rs.randint(2, 250)}"
        propagator: TextMapPropagator = _w3c()
        propagator_name = "tracecontext,baggage"
        if spec.name == "checkout":
            propagator, propagator_name = TraceContextTextMapPropagator(), "tracecontext"
        metric_attributes = dict(attributes)
        if not self.healthy:
            if spec.name == "inventory":  # break 1: propagator-mismatch
                propagator, propagator_name = B3MultiFormat(), "b3multi"
            if spec.name == "shipping":  # break 2: missing-service-name
                del attributes["service.name"]
                metric_attributes = dict(attributes)
            if spec.name == "checkout":  # break 4: version-drift (metrics only)
                metric_attributes["service.version"] = "1.4.1"
            if spec.name == "frontend":  # break 5: deprecated-keys (resource part)
                for attrs in (attributes, metric_attributes):
                    attrs["deployment.environment"] = attrs.pop("deployment.environment.name")
        trace_resource = Resource.create(attributes)
        metric_resource = (
            trace_resource
            if metric_attributes == attributes
            else Resource.create(metric_attributes)
        )
        info = ServiceInstance(
            service=spec.name,
            instance_id=attributes["service.instance.id"],
            pod_ip=pod_ip,
            trace_resource=trace_resource,
            metric_resource=metric_resource,
            log_resource=trace_resource,
            propagator_name=propagator_name,
        )
        return _Node(info, spec, propagator)

    # -- helpers -------------------------------------------------------------------------------

    def _pick(self, service: str) -> _Node:
        nodes = self.nodes[service]
        count = self.calls.get(service, 0)
        self.calls[service] = count + 1
        return nodes[count % len(nodes)]

    def _work(self, low_ms: float, high_ms: float) -> None:
        """Spend some (real) time so spans, logs and exemplars share one clock."""
        if self.latency_scale > 0:
            time.sleep(self.rng.uniform(low_ms, high_ms) * self.latency_scale / 1000.0)

    @staticmethod
    @contextmanager
    def _span(
        tracer: Tracer,
        name: str,
        kind: SpanKind,
        attributes: dict[str, str | int],
        context: Context | None = None,
    ) -> Iterator[Span]:
        with tracer.start_as_current_span(
            name, context=context, kind=kind, attributes=attributes, record_exception=False
        ) as span:
            yield span

    # -- HTTP ----------------------------------------------------------------------------------

    def http_call(
        self,
        caller: _Node,
        callee_service: str,
        method: str,
        path: str,
        route: str,
        handler: Handler,
        payload: str,
    ) -> _Response:
        """CLIENT span on ``caller``, propagate via headers, SERVER span on the callee."""
        callee = self._pick(callee_service)
        spec = callee.spec
        url = f"{spec.scheme}://{spec.host}:{spec.port}{path}"
        method_key = "http.request.method"
        if not self.healthy and caller.spec.name == "frontend":  # break 5 (span part)
            method_key = "http.method"
        request_size = 64 + len(payload)
        attributes: dict[str, str | int] = {
            method_key: method,
            "server.address": spec.host,
            "server.port": spec.port,
            "url.full": url,
            "network.protocol.version": "1.1",
            "network.peer.address": callee.info.pod_ip,
            "network.peer.port": spec.port,
            "http.request.body.size": request_size,
        }
        start = time.perf_counter()
        with self._span(caller.client_tracer, method, SpanKind.CLIENT, attributes) as span:
            headers: dict[str, str] = {
                "host": f"{spec.host}:{spec.port}",
                "user-agent": f"{caller.spec.name}/{caller.spec.version} python-httpx/0.28.1",
                "content-length": str(request_size),
            }
            caller.propagator.inject(headers, context=trace.set_span_in_context(span))
            self._work(0.2, 0.6)
            response = self._serve(callee, caller, method, path, route, headers, handler, payload)
            self._work(0.2, 0.6)
            span.set_attribute("http.response.status_code", response.status)
            span.set_attribute("http.response.body.size", response.body_size)
            if response.status >= 400:
                span.set_attribute("error.type", str(response.status))
                span.set_status(Status(StatusCode.ERROR))
            caller.client_duration.record(
                time.perf_counter() - start,
                {
                    "http.request.method": method,
                    "server.address": spec.host,
                    "server.port": spec.port,
                    "http.response.status_code": response.status,
                },
            )
        return response

    def _serve(
        self,
        node: _Node,
        caller: _Node,
        method: str,
        path: str,
        route: str,
        headers: dict[str, str],
        handler: Handler,
        payload: str,
    ) -> _Response:
        spec = node.spec
        parent = node.propagator.extract(headers)
        attributes: dict[str, str | int] = {
            "http.request.method": method,
            "http.route": route,
            "url.path": path,
            "url.scheme": spec.scheme,
            "server.address": spec.host,
            "server.port": spec.port,
            "client.address": caller.info.pod_ip,
            "network.peer.address": caller.info.pod_ip,
            "network.protocol.version": "1.1",
            "user_agent.original": headers["user-agent"],
        }
        start = time.perf_counter()
        with self._span(
            node.server_tracer, f"{method} {route}", SpanKind.SERVER, attributes, parent
        ) as span:
            response = handler(node, headers, payload)
            span.set_attribute("http.response.status_code", response.status)
            if response.status >= 500:
                span.set_attribute("error.type", str(response.status))
                span.set_status(Status(StatusCode.ERROR))
            node.server_duration.record(
                time.perf_counter() - start,
                {
                    "http.request.method": method,
                    "http.route": route,
                    "url.scheme": spec.scheme,
                    "http.response.status_code": response.status,
                    "network.protocol.version": "1.1",
                },
            )
        return response

    # -- service handlers ----------------------------------------------------------------------

    def frontend_request(self, number: int) -> None:
        """One user checkout: the frontend calls checkout."""
        node = self._pick("frontend")
        order_id = f"ord-{self.rng.getrandbits(40):010x}"
        items = self.rng.randint(1, 4)
        payload = json.dumps({"order": order_id, "items": items})
        with self._span(
            node.app_tracer, "checkout.submit", SpanKind.INTERNAL, {"app.order.id": order_id}
        ):
            node.log(
                SeverityNumber.INFO,
                "submitting checkout",
                {"app.order.id": order_id, "app.cart.items": items, "app.request.number": number},
            )
            response = self.http_call(
                node, "checkout", "POST", "/api/checkout", "/api/checkout", self.checkout, payload
            )
            outcome = "ok" if response.status < 400 else "failed"
            node.business_counter.add(1, {"app.outcome": outcome})
            node.log(
                SeverityNumber.INFO if response.status < 400 else SeverityNumber.WARN,
                f"checkout {outcome}",
                {"app.order.id": order_id, "http.response.status_code": response.status},
            )

    def checkout(self, node: _Node, headers: dict[str, str], payload: str) -> _Response:
        """checkout: charge the card, reserve stock, enqueue the order."""
        order = json.loads(payload)
        node.log(SeverityNumber.INFO, "checkout started", {"app.order.id": order["order"]})
        self._work(0.3, 1.0)
        charge = self.http_call(
            node, "payments", "POST", "/api/charge", "/api/charge", self.payments, payload
        )
        if charge.status >= 400:
            node.log(
                SeverityNumber.ERROR,
                "payment failed, aborting checkout",
                {"app.order.id": order["order"], "http.response.status_code": charge.status},
            )
            node.business_counter.add(1, {"app.outcome": "payment_failed"})
            return _Response(502, 96)
        sku = f"SKU-{self.rng.randint(1000, 9999)}"
        self.http_call(
            node, "inventory", "GET", f"/api/stock/{sku}", "/api/stock/{sku}", self.inventory, sku
        )
        self.produce(node, order["order"], payload)
        node.business_counter.add(1, {"app.outcome": "placed"})
        node.log(SeverityNumber.INFO, "order placed", {"app.order.id": order["order"]})
        return _Response(201, 128)

    def payments(self, node: _Node, headers: dict[str, str], payload: str) -> _Response:
        """payments: charge; fails now and then."""
        detached = not self.healthy  # break 3: ids-in-log-attributes
        order = json.loads(payload)
        amount = round(self.rng.uniform(5, 300), 2)
        node.log(
            SeverityNumber.INFO,
            "charging card",
            {"app.order.id": order["order"], "app.payment.amount": amount},
            detached=detached,
        )
        self._work(1.0, 3.0)
        if self.rng.random() < 0.1:
            node.log(
                SeverityNumber.ERROR,
                "card processor unavailable",
                {"app.order.id": order["order"]},
                detached=detached,
            )
            node.business_counter.add(1, {"app.outcome": "unavailable"})
            return _Response(503, 64)
        node.business_counter.add(1, {"app.outcome": "charged"})
        node.log(
            SeverityNumber.INFO,
            "payment captured",
            {"app.order.id": order["order"]},
            detached=detached,
        )
        return _Response(200, 212)

    def inventory(self, node: _Node, headers: dict[str, str], sku: str) -> _Response:
        """inventory: stock lookup."""
        self._work(0.5, 1.5)
        stock = self.rng.randint(0, 40)
        node.business_counter.add(1, {"app.outcome": "found"})
        node.log(SeverityNumber.INFO, "stock lookup", {"app.sku": sku, "app.stock.level": stock})
        return _Response(200, 74)

    # -- messaging -----------------------------------------------------------------------------

    def produce(self, node: _Node, order_id: str, payload: str) -> None:
        """checkout publishes the order to the ``orders`` topic (PRODUCER span)."""
        partition = self.rng.randint(0, 2)
        message_id = self._uuid()
        attributes: dict[str, str | int] = {
            "messaging.system": "kafka",
            "messaging.destination.name": ORDERS_TOPIC,
            "messaging.operation.type": "send",
            "messaging.operation.name": "send",
            "messaging.client.id": node.info.instance_id,
            "messaging.message.id": message_id,
            "messaging.kafka.message.key": order_id,
            "messaging.destination.partition.id": str(partition),
            "server.address": KAFKA_HOST,
            "server.port": KAFKA_PORT,
        }
        with self._span(
            node.messaging_tracer, f"send {ORDERS_TOPIC}", SpanKind.PRODUCER, attributes
        ) as span:
            headers: dict[str, str] = {}
            node.propagator.inject(headers, context=trace.set_span_in_context(span))
            self._work(0.1, 0.4)
            node.sent_messages.add(
                1,
                {
                    "messaging.system": "kafka",
                    "messaging.destination.name": ORDERS_TOPIC,
                    "messaging.operation.name": "send",
                },
            )
            node.log(SeverityNumber.DEBUG, "order enqueued", {"app.order.id": order_id})
        self.offsets += 1
        self.queue.append(_Message(headers, order_id, message_id, partition, self.offsets))

    def consume_all(self) -> None:
        """shipping polls the queue and processes every pending message (CONSUMER spans)."""
        while self.queue:
            message = self.queue.pop(0)
            node = self._pick("shipping")
            parent = node.propagator.extract(message.headers)
            attributes: dict[str, str | int] = {
                "messaging.system": "kafka",
                "messaging.destination.name": ORDERS_TOPIC,
                "messaging.operation.type": "process",
                "messaging.operation.name": "process",
                "messaging.consumer.group.name": "shipping",
                "messaging.message.id": message.message_id,
                "messaging.kafka.message.key": message.key,
                "messaging.kafka.offset": message.offset,
                "messaging.destination.partition.id": str(message.partition),
                "server.address": KAFKA_HOST,
                "server.port": KAFKA_PORT,
            }
            start = time.perf_counter()
            with self._span(
                node.messaging_tracer,
                f"process {ORDERS_TOPIC}",
                SpanKind.CONSUMER,
                attributes,
                parent,
            ):
                self._work(0.5, 2.0)
                node.business_counter.add(1, {"app.outcome": "scheduled"})
                node.log(
                    SeverityNumber.INFO,
                    "shipment scheduled",
                    {"app.order.id": message.key, "app.carrier": self.rng.choice(["dhl", "ups"])},
                )
                node.process_duration.record(
                    time.perf_counter() - start,
                    {
                        "messaging.system": "kafka",
                        "messaging.destination.name": ORDERS_TOPIC,
                        "messaging.operation.name": "process",
                        "messaging.consumer.group.name": "shipping",
                    },
                )

    # -- batching ------------------------------------------------------------------------------

    def flush(self) -> None:
        """Cut one export batch per signal, mixing every service instance."""
        self.consume_all()
        spans: list[ReadableSpan] = []
        logs: list[ReadableLogRecord] = []
        resource_metrics: list[ResourceMetrics] = []
        for nodes in self.nodes.values():
            for node in nodes:
                node_spans, node_metrics, node_logs = node.drain()
                spans.extend(node_spans)
                logs.extend(node_logs)
                if node_metrics is not None:
                    resource_metrics.append(node_metrics)
        if spans:
            self.world.span_batches.append(spans)
        if logs:
            self.world.log_batches.append(logs)
        if resource_metrics:
            self.world.metric_batches.append(MetricsData(resource_metrics=resource_metrics))

    def run(self, requests: int) -> World:
        """Simulate ``requests`` user checkouts, flushing every ``batch_every`` requests."""
        try:
            for number in range(requests):
                self.frontend_request(number)
                if (number + 1) % self.batch_every == 0:
                    self.flush()
            if requests % self.batch_every:
                self.flush()
        finally:
            for nodes in self.nodes.values():
                for node in nodes:
                    node.shutdown()
        self.world.requests = requests
        return self.world


def build_world(
    healthy: bool,
    requests: int = 30,
    seed: int = 7,
    *,
    batch_every: int = 8,
    latency_scale: float = 1.0,
) -> World:
    """Simulate the shop on the real SDK and return what it exported.

    Args:
        healthy: build the consistent world (``True``) or the one with the :data:`BREAKS`.
        requests: number of frontend checkouts.
        seed: seed for latencies, failures and identities (ids differ run to run).
        batch_every: cut an export batch every this many requests.
        latency_scale: multiplier of the simulated (slept) service latencies; ``0`` = no sleep.
    """
    return _Shop(healthy, seed, batch_every, latency_scale).run(requests)


# --------------------------------------------------------------------------------------------
# writers
# --------------------------------------------------------------------------------------------


def _jsonl_text(world: World, signal: Signal) -> str:
    """What the SDK OTLP/JSON file exporter writes for every batch of ``signal``."""
    stream = io.StringIO()
    if signal == "traces":
        span_exporter = FileSpanExporter(stream=stream)
        for span_batch in world.span_batches:
            span_exporter.export(span_batch)
        span_exporter.shutdown()
    elif signal == "metrics":
        metric_exporter = FileMetricExporter(stream=stream)
        for metric_batch in world.metric_batches:
            metric_exporter.export(metric_batch)
        metric_exporter.shutdown()
    else:
        log_exporter = FileLogExporter(stream=stream)
        for log_batch in world.log_batches:
            log_exporter.export(log_batch)
        log_exporter.shutdown()
    return stream.getvalue()


def _framed(messages: Sequence[Any], compress: bool) -> bytes:
    """Collector fileexporter ``format: proto`` framing (optionally ``compression: zstd``)."""
    compressor = zstandard.ZstdCompressor() if compress else None
    out = bytearray()
    for message in messages:
        payload: bytes = message.SerializeToString()
        if compressor is not None:
            payload = compressor.compress(payload)
        out += struct.pack(">I", len(payload))
        out += payload
    return bytes(out)


def _render(world: World, signal: Signal, fmt: str) -> bytes:
    if fmt == "jsonl":
        return _jsonl_text(world, signal).encode("utf-8")
    if fmt == "jsonl.gz":
        return gzip.compress(_jsonl_text(world, signal).encode("utf-8"), mtime=0)
    if fmt == "jsonl.zst":
        return zstandard.ZstdCompressor().compress(_jsonl_text(world, signal).encode("utf-8"))
    if fmt == "proto":
        return _framed(world.requests_for(signal), compress=False)
    if fmt == "proto-zstd":
        return _framed(world.requests_for(signal), compress=True)
    if fmt == "pb":
        data: bytes = world.merged_request(signal).SerializeToString()
        return data
    if fmt == "json":
        return (json.dumps(world.merged_json(signal), indent=2) + "\n").encode("utf-8")
    raise ValueError(f"unknown format {fmt!r}; known: {', '.join(FORMATS)}")


def write_world(
    world: World, outdir: str | Path, formats: Sequence[str] = ("jsonl",)
) -> list[Path]:
    """Write ``world`` to ``outdir`` as ``<signal>.<ext>`` per signal and format.

    Returns the written paths.  Unknown formats raise ``ValueError`` before anything is written.
    """
    unknown = [fmt for fmt in formats if fmt not in FORMATS]
    if unknown:
        raise ValueError(f"unknown format(s) {unknown}; known: {', '.join(FORMATS)}")
    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for fmt in formats:
        for signal in SIGNALS:
            path = out / f"{signal}.{FORMATS[fmt]}"
            path.write_bytes(_render(world, signal, fmt))
            written.append(path)
    return written


# --------------------------------------------------------------------------------------------
# CLI
# --------------------------------------------------------------------------------------------


def _parse_formats(value: str) -> list[str]:
    formats = [part.strip() for part in value.split(",") if part.strip()]
    if formats == ["all"]:
        return list(FORMATS)
    unknown = [fmt for fmt in formats if fmt not in FORMATS]
    if unknown or not formats:
        raise argparse.ArgumentTypeError(
            f"unknown format(s) {unknown}; choose from {', '.join(FORMATS)} or 'all'"
        )
    return formats


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point; returns the exit status."""
    parser = argparse.ArgumentParser(
        prog="sdkworld.py",
        description="Simulate a small shop on the OpenTelemetry SDK and dump its telemetry.",
    )
    parser.add_argument("outdir", type=Path, help="output directory")
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--healthy", dest="which", action="store_const", const="healthy",
                       help="write the consistent world into OUTDIR")  # fmt: skip
    which.add_argument("--broken", dest="which", action="store_const", const="broken",
                       help="write the world with the planted breaks into OUTDIR")  # fmt: skip
    which.add_argument("--both", dest="which", action="store_const", const="both",
                       help="write OUTDIR/healthy and OUTDIR/broken (default)")  # fmt: skip
    parser.add_argument("--formats", type=_parse_formats, default=["jsonl"],
                        help=f"comma-separated: {', '.join(FORMATS)} or 'all' (default jsonl)")  # fmt: skip
    parser.add_argument("--requests", type=int, default=30, help="checkouts per world (30)")
    parser.add_argument("--seed", type=int, default=7, help="shape seed (7)")
    parser.add_argument("--batch-every", type=int, default=8, help="requests per batch (8)")
    args = parser.parse_args(argv)
    which_world: str = args.which or "both"
    targets: list[tuple[bool, Path]]
    if which_world == "both":
        targets = [(True, args.outdir / "healthy"), (False, args.outdir / "broken")]
    else:
        targets = [(which_world == "healthy", args.outdir)]
    for healthy, outdir in targets:
        world = build_world(
            healthy, requests=args.requests, seed=args.seed, batch_every=args.batch_every
        )
        for path in write_world(world, outdir, args.formats):
            print(f"{path}\t{path.stat().st_size} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
