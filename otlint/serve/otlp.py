"""OTLP protocol details the sidecar needs: services, paths, responses, cheap record counts."""

from __future__ import annotations

from dataclasses import dataclass

from google.protobuf.message import DecodeError, Message
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2

from otlint.telemetry.corpus.corpus import Signal
from otlint.telemetry.observe import reduced_classes


@dataclass(frozen=True)
class SignalSpec:
    """How one signal travels over OTLP."""

    signal: Signal
    service: str  # gRPC service name
    http_path: str
    response: type[Message]  # Export*ServiceResponse
    partial_field: str  # rejected_spans / rejected_data_points / rejected_log_records

    @property
    def grpc_method(self) -> str:
        """The gRPC method path."""
        return f"/{self.service}/Export"


SPECS: dict[Signal, SignalSpec] = {
    Signal.TRACES: SignalSpec(
        Signal.TRACES,
        trace_service_pb2.DESCRIPTOR.services_by_name["TraceService"].full_name,
        "/v1/traces",
        trace_service_pb2.ExportTraceServiceResponse,
        "rejected_spans",
    ),
    Signal.METRICS: SignalSpec(
        Signal.METRICS,
        metrics_service_pb2.DESCRIPTOR.services_by_name["MetricsService"].full_name,
        "/v1/metrics",
        metrics_service_pb2.ExportMetricsServiceResponse,
        "rejected_data_points",
    ),
    Signal.LOGS: SignalSpec(
        Signal.LOGS,
        logs_service_pb2.DESCRIPTOR.services_by_name["LogsService"].full_name,
        "/v1/logs",
        logs_service_pb2.ExportLogsServiceResponse,
        "rejected_log_records",
    ),
}
BY_PATH = {spec.http_path: spec for spec in SPECS.values()}

# Counting records needs only the envelope: spans, log records and data points stay raw bytes.
_CountTraces, _CountMetrics, _CountLogs = reduced_classes(
    frozenset(
        {
            ".opentelemetry.proto.trace.v1.Span",
            ".opentelemetry.proto.logs.v1.LogRecord",
            ".opentelemetry.proto.metrics.v1.NumberDataPoint",
            ".opentelemetry.proto.metrics.v1.HistogramDataPoint",
            ".opentelemetry.proto.metrics.v1.ExponentialHistogramDataPoint",
            ".opentelemetry.proto.metrics.v1.SummaryDataPoint",
        }
    )
)


def count_records(signal: Signal, payload: bytes) -> int:
    """Spans, data points or log records in an encoded request; DecodeError if it is not one."""
    if signal is Signal.TRACES:
        msg = _CountTraces.FromString(payload)
        return sum(len(ss.spans) for rs in msg.resource_spans for ss in rs.scope_spans)
    if signal is Signal.LOGS:
        msg = _CountLogs.FromString(payload)
        return sum(len(sl.log_records) for rl in msg.resource_logs for sl in rl.scope_logs)
    msg = _CountMetrics.FromString(payload)
    total = 0
    for rm in msg.resource_metrics:
        for sm in rm.scope_metrics:
            for metric in sm.metrics:
                which = metric.WhichOneof("data")
                if which is not None:
                    total += len(getattr(metric, which).data_points)
    return total


def status_bytes(code: int, message: str) -> bytes:
    """An encoded ``google.rpc.Status`` (code, message): the OTLP/HTTP error body."""
    text = message.encode()
    return b"\x08" + _varint(code) + b"\x12" + _varint(len(text)) + text


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


__all__ = ["BY_PATH", "SPECS", "DecodeError", "SignalSpec", "count_records", "status_bytes"]
