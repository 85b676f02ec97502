"""otlint.telemetry.readers.otlp_json: OTLP/JSON -> protobuf bytes, checked against real files and the SDK.

Every behaviour is pinned by the project's own documents in tests/fixtures/otlp; the
tests marked ``needs_shared`` also run the shared conformance corpus when it is beside
the repository (they skip on a fresh clone).
"""

from __future__ import annotations

import base64
import copy
import json
import math
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from google.protobuf import json_format
from opentelemetry.proto.logs.v1 import logs_pb2
from opentelemetry.proto.metrics.v1 import metrics_pb2
from opentelemetry.proto.trace.v1 import trace_pb2

from otlint.telemetry.corpus.corpus import Signal
from otlint.telemetry.readers.otlp_json import Deviation, NotOtlp, convert

from conftest import CONFORMANCE, OWN_OTLP

FILES = sorted(p for p in CONFORMANCE.glob("*/*.json") if p.parent.name != "sarif")
NOT_OTLP = {"testbed__tests__testdata__resource-processor-inputs.json"}
LEGACY = {"testbed__tests__testdata__k8s-metrics.json"}  # in collector-core and collector-contrib

OWN_FILES = sorted(OWN_OTLP.glob("*.json"))
OWN_NOT_OTLP = {"not-otlp-named-cases.json"}
OWN_LEGACY = {"metrics-legacy-library-keys.json", "metrics-legacy-int-gauge.json"}

CLASSES: dict[Signal, Any] = {
    Signal.TRACES: trace_pb2.TracesData,
    Signal.METRICS: metrics_pb2.MetricsData,
    Signal.LOGS: logs_pb2.LogsData,
}
INT64_MAX = 2**63 - 1


# -- helpers -------------------------------------------------------------------------------
def load(rel: str) -> Any:
    return json.loads((CONFORMANCE / rel).read_text())


def own(name: str) -> Any:
    """One of the project's own documents in tests/fixtures/otlp."""
    return json.loads((OWN_OTLP / name).read_text(encoding="utf-8"))


def decode(doc: Any) -> tuple[Any, dict[str, Deviation]]:
    """convert(), then parse the bytes back with the full generated classes."""
    signal, payload, devs = convert(doc)
    msg = CLASSES[signal].FromString(payload)
    by_detail = {d.detail: d for d in devs}
    assert len(by_detail) == len(devs), "one Deviation per (kind, detail)"
    return msg, by_detail


def one_span(doc: Any) -> Any:
    msg, _ = decode(doc)
    return msg.resource_spans[0].scope_spans[0].spans[0]


def spans_doc(*spans: Any, **extra: Any) -> dict[str, Any]:
    return {"resourceSpans": [{"scopeSpans": [{"spans": list(spans)}], **extra}]}


def logs_doc(*records: Any) -> dict[str, Any]:
    return {"resourceLogs": [{"scopeLogs": [{"logRecords": list(records)}]}]}


def metrics_doc(*metrics: Any) -> dict[str, Any]:
    return {"resourceMetrics": [{"scopeMetrics": [{"metrics": list(metrics)}]}]}


_IDS = {"traceId", "spanId", "parentSpanId"}


def oracle(doc: Any, signal: Signal) -> Any:
    """The same document read by google.protobuf.json_format, with ids turned into base64 first.

    json_format reads proto3 bytes as base64; OTLP/JSON ids are hex. With that fixed,
    json_format is a strict, independent reader to compare with (it also accepts enum
    names, numbers as strings and snake_case keys, and ignores unknown fields).
    """

    def fix(o: Any) -> Any:
        if isinstance(o, dict):
            return {
                k: base64.b64encode(bytes.fromhex(v)).decode()
                if k in _IDS and isinstance(v, str)
                else fix(v)
                for k, v in o.items()
            }
        if isinstance(o, list):
            return [fix(x) for x in o]
        return o

    msg = CLASSES[signal]()
    json_format.ParseDict(fix(doc), msg, ignore_unknown_fields=True)
    return msg


def map_keys(o: Any, fn: Callable[[str], str]) -> Any:
    """``o`` with every object key renamed by ``fn`` (attribute names are values, not keys)."""
    if isinstance(o, dict):
        return {fn(k): map_keys(v, fn) for k, v in o.items()}
    if isinstance(o, list):
        return [map_keys(x, fn) for x in o]
    return o


def add_unknown(o: Any) -> Any:
    """``o`` with an unknown key in every object, which sends every record down the careful path."""
    if isinstance(o, dict):
        return {**{k: add_unknown(v) for k, v in o.items()}, "zzUnknown": 1}
    if isinstance(o, list):
        return [add_unknown(x) for x in o]
    return o


def snake(name: str) -> str:
    return re.sub(r"(?<!^)([A-Z])", r"_\1", name).lower()


def converts_or_is_not_otlp(path: Path, not_otlp: dict[str, str], legacy: set[str]) -> None:
    """``path`` converts to protobuf identical to json_format's reading of it, or (a name in
    ``not_otlp``) is refused in one line naming the first top-level key it found instead."""
    doc = json.loads(path.read_text(encoding="utf-8"))
    if path.name in not_otlp:
        with pytest.raises(NotOtlp) as info:
            convert(doc)
        text = str(info.value)
        assert "\n" not in text and "resourceMetrics" in text and not_otlp[path.name] in text
        return
    signal, payload, devs = convert(doc)
    assert isinstance(payload, bytes)
    msg = CLASSES[signal].FromString(payload)
    assert msg.SerializeToString() == payload
    for d in devs:
        assert d.kind in ("id-encoding", "noncanonical") and d.count >= 1
        assert "\n" not in d.message
    if path.name not in legacy:
        # Identical to an independent strict reader (json_format), field for field.
        assert msg == oracle(doc, signal)


# -- the shared conformance corpus ------------------------------------------------------------
@pytest.mark.needs_shared
def test_conformance_folder_is_there() -> None:
    assert len(FILES) >= 18, f"expected the shared conformance files under {CONFORMANCE}"


@pytest.mark.needs_shared
@pytest.mark.parametrize("path", FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_conformance_file_converts_or_is_not_otlp(path: Path) -> None:
    converts_or_is_not_otlp(
        path, {name: "mocked_consumed_resource_with_type" for name in NOT_OTLP}, LEGACY
    )


@pytest.mark.needs_shared
def test_trace_example_uppercase_hex() -> None:
    doc = load("otlp-json-examples/trace.json")
    msg, devs = decode(doc)
    span = msg.resource_spans[0].scope_spans[0].spans[0]
    raw = doc["resourceSpans"][0]["scopeSpans"][0]["spans"][0]
    assert span.trace_id.hex() == raw["traceId"].lower() == "5b8efff798038103d269b633813fc60c"
    assert span.span_id.hex() == "eee19b7ec3c1b174"
    assert span.parent_span_id.hex() == "eee19b7ec3c1b173"
    assert span.kind == trace_pb2.Span.SPAN_KIND_SERVER == 2
    assert span.start_time_unix_nano == 1544712660000000000
    assert span.end_time_unix_nano == 1544712661000000000
    assert span.attributes[0].key == "my.span.attr"
    assert span.attributes[0].value.string_value == "some value"
    scope = msg.resource_spans[0].scope_spans[0].scope
    assert (scope.name, scope.version) == ("my.library", "1.0.0")
    assert scope.attributes[0].value.string_value == "some scope attribute"
    assert msg.resource_spans[0].resource.attributes[0].value.string_value == "my.service"
    dev = devs["uppercase-hex"]
    assert (dev.kind, dev.count) == ("noncanonical", 3)
    assert dev.message.startswith("resourceSpans[0].scopeSpans[0].spans[0].traceId ")
    assert set(devs) == {"uppercase-hex"}


@pytest.mark.needs_shared
def test_logs_example_every_value_kind() -> None:
    msg, devs = decode(load("otlp-json-examples/logs.json"))
    rec = msg.resource_logs[0].scope_logs[0].log_records[0]
    assert rec.trace_id.hex() == "5b8efff798038103d269b633813fc60c"
    assert rec.span_id.hex() == "eee19b7ec3c1b174"
    assert (rec.severity_number, rec.severity_text) == (10, "Information")
    assert rec.time_unix_nano == rec.observed_time_unix_nano == 1544712660300000000
    assert rec.body.string_value == "Example log record"
    attrs = {kv.key: kv.value for kv in rec.attributes}
    assert attrs["string.attribute"].string_value == "some string"
    assert attrs["boolean.attribute"].bool_value is True
    assert attrs["int.attribute"].int_value == 10
    assert attrs["double.attribute"].double_value == 637.704
    assert [v.string_value for v in attrs["array.attribute"].array_value.values] == [
        "many",
        "values",
    ]
    kv = attrs["map.attribute"].kvlist_value.values[0]
    assert (kv.key, kv.value.string_value) == ("some.map.key", "some value")
    assert devs["uppercase-hex"].count == 2


@pytest.mark.needs_shared
def test_events_example_event_name() -> None:
    msg, devs = decode(load("otlp-json-examples/events.json"))
    rec = msg.resource_logs[0].scope_logs[0].log_records[0]
    assert rec.event_name
    assert rec.body.HasField("kvlist_value")
    assert devs == {}


@pytest.mark.needs_shared
def test_metrics_example_all_point_kinds() -> None:
    msg, devs = decode(load("otlp-json-examples/metrics.json"))
    assert devs == {}
    metrics = {m.name: m for m in msg.resource_metrics[0].scope_metrics[0].metrics}
    counter = metrics["my.counter"]
    assert counter.sum.aggregation_temporality == 1 and counter.sum.is_monotonic
    assert counter.sum.data_points[0].as_double == 5.0
    assert counter.description == "I am a Counter" and counter.unit == "1"
    assert metrics["my.gauge"].gauge.data_points[0].as_double == 10.0
    h = metrics["my.histogram"].histogram.data_points[0]
    assert list(h.bucket_counts) == [1, 1]
    assert list(h.explicit_bounds) == [1.0]
    assert (h.count, h.sum, h.min, h.max) == (2, 2.0, 0.0, 2.0)
    assert h.HasField("min") and h.HasField("max")
    e = metrics["my.exponential.histogram"].exponential_histogram.data_points[0]
    assert (e.count, e.sum, e.scale, e.zero_count, e.zero_threshold) == (3, 10.0, 0, 1, 0.0)
    assert e.positive.offset == 1 and list(e.positive.bucket_counts) == [0, 2]
    assert e.max == 5.0


@pytest.mark.needs_shared
def test_exemplar_and_big_timestamps() -> None:
    msg, devs = decode(
        load("collector-contrib/pkg__pdatatest__pmetrictest__testdata__exemplar__actual.json")
    )
    point = msg.resource_metrics[0].scope_metrics[0].metrics[0].gauge.data_points[0]
    assert point.time_unix_nano == 11651379494838206464 > INT64_MAX
    ex = point.exemplars[0]
    assert ex.trace_id.hex() == "8c8b1765a7b0acf0b66aa4623fcb7bd5"
    assert ex.span_id.hex() == "fd0da883bb27cd6b"
    assert ex.time_unix_nano == 11651379494838206464
    assert ex.as_double == 2.0
    assert ex.filtered_attributes[0].key == "testKey1"
    assert devs == {}


@pytest.mark.needs_shared
def test_ptracetest_unknown_fields_nulls_and_big_timestamps() -> None:
    msg, devs = decode(
        load("collector-contrib/pkg__pdatatest__ptracetest__testdata__equal__expected.json")
    )
    spans = [s for rs in msg.resource_spans for ss in rs.scope_spans for s in ss.spans]
    first = spans[0]
    assert first.start_time_unix_nano == first.end_time_unix_nano == 11651379494838206464
    assert first.kind == 2 and first.parent_span_id.hex() == "bcff497b5a47310f"
    assert first.events[0].name == "Sub span event" and len(first.events[0].attributes) == 0
    assert first.links[0].trace_id.hex() == "8c8b1765a7b0acf0b66aa4623fcb7bd5"
    assert any(s.trace_id == b"" and s.name == "" for s in spans)  # the empty-id span
    assert devs == {}  # status.description and droppedAttributeCount are silently ignored


@pytest.mark.needs_shared
def test_plogtest_big_timestamps_and_empty_span_id() -> None:
    msg, devs = decode(
        load(
            "collector-contrib/pkg__pdatatest__plogtest__testdata__logrecords-traceid-mismatch__actual.json"
        )
    )
    rec = msg.resource_logs[0].scope_logs[0].log_records[0]
    assert rec.time_unix_nano > INT64_MAX and rec.observed_time_unix_nano > INT64_MAX
    assert len(rec.trace_id) == 16 and rec.span_id == b"" and rec.flags == 1
    assert devs == {}


@pytest.mark.needs_shared
def test_partial_scrape_enum_names() -> None:
    msg, devs = decode(
        load("collector-contrib/receiver__activedirectorydsreceiver__testdata__partial_scrape.json")
    )
    dev = devs["enum-name"]
    assert (dev.kind, dev.count) == ("noncanonical", 15)
    assert dev.message.startswith(
        "resourceMetrics[0].scopeMetrics[0].metrics[0].sum.aggregationTemporality "
    )
    assert "AGGREGATION_TEMPORALITY_CUMULATIVE" in dev.message
    metrics = msg.resource_metrics[0].scope_metrics[0].metrics
    assert metrics[0].sum.aggregation_temporality == metrics_pb2.AGGREGATION_TEMPORALITY_CUMULATIVE
    ints = [p.as_int for m in metrics for p in (m.sum.data_points if m.HasField("sum") else [])]
    assert -13 in ints


@pytest.mark.needs_shared
def test_apache_doubles_as_strings() -> None:
    msg, devs = decode(
        load("collector-contrib/receiver__apachereceiver__testdata__scraper__expected.json")
    )
    dev = devs["number-as-string"]
    assert dev.count == 8 and "'0.01'" in dev.message and dev.message.endswith("read as a number")
    metrics = msg.resource_metrics[0].scope_metrics[0].metrics
    values = {
        p.as_double for m in metrics for p in (m.sum if m.HasField("sum") else m.gauge).data_points
    }
    assert 0.01 in values and 0.66 in values


@pytest.mark.needs_shared
def test_numbers_where_strings_are_canonical_are_fine() -> None:
    msg, devs = decode(
        load(
            "collector-contrib/pkg__pdatatest__pmetrictest__testdata__data-point-flags-mismatch__actual.json"
        )
    )
    assert msg.resource_metrics[0].scope_metrics[0].metrics[0].sum.data_points[0].as_int == 654
    assert devs == {}
    msg, devs = decode(
        load(
            "collector-contrib/internal__comparetest__testdata__metrics__histogram-data-point-buckets-mismatch__actual.json"
        )
    )
    assert list(
        msg.resource_metrics[0].scope_metrics[0].metrics[0].histogram.data_points[0].bucket_counts
    ) == [3, 2, 1]
    assert devs == {}


@pytest.mark.needs_shared
def test_summary_with_empty_quantile() -> None:
    msg, _ = decode(
        load(
            "collector-contrib/extension__encoding__awscloudwatchmetricstreamsencodingextension__testdata__json__valid_record_expected.json"
        )
    )
    point = msg.resource_metrics[0].scope_metrics[0].metrics[0].summary.data_points[0]
    assert point.count > 0 and len(point.quantile_values) >= 1


@pytest.mark.needs_shared
def test_legacy_k8s_metrics_contrib_is_read() -> None:
    msg, devs = decode(load("collector-contrib/testbed__tests__testdata__k8s-metrics.json"))
    dev = devs["legacy-field"]
    assert (
        dev.kind == "noncanonical" and dev.count == 2
    )  # instrumentationLibraryMetrics + instrumentationLibrary
    assert dev.message.startswith("resourceMetrics[0].instrumentationLibraryMetrics ")
    assert "scopeMetrics" in dev.message
    points = [
        p for m in msg.resource_metrics[0].scope_metrics[0].metrics for p in m.gauge.data_points
    ]
    assert points and all(p.as_int == 1 for p in points)


@pytest.mark.needs_shared
def test_legacy_k8s_metrics_core_reports_dropped_data() -> None:
    msg, devs = decode(load("collector-core/testbed__tests__testdata__k8s-metrics.json"))
    assert devs["legacy-field"].count == 2
    dev = devs["unknown-field"]
    assert dev.count == 2  # two metrics whose only data is the pre-0.12 intGauge
    assert dev.message.startswith(
        "resourceMetrics[0].instrumentationLibraryMetrics[0].metrics[0].intGauge "
    )
    metrics = msg.resource_metrics[0].scope_metrics[0].metrics
    assert [m.name for m in metrics] == ["k8s.deployment.desired", "k8s.deployment.available"]
    assert all(m.WhichOneof("data") is None for m in metrics)


@pytest.mark.needs_shared
def test_empty_ids_and_missing_parts() -> None:
    msg, devs = decode(
        load("collector-contrib/connector__countconnector__testdata__traces__input.json")
    )
    spans = [s for rs in msg.resource_spans for ss in rs.scope_spans for s in ss.spans]
    assert len(spans) == 3 and all(s.trace_id == b"" and s.span_id == b"" for s in spans)
    assert any(s.status.code == 2 and s.status.message for s in spans)
    assert devs == {}
    msg, devs = decode(
        load(
            "collector-contrib/internal__comparetest__testdata__logs-resource-instrumentation-library-missing__expected.json"
        )
    )
    assert sum(len(sl.log_records) for rl in msg.resource_logs for sl in rl.scope_logs) == 0
    assert len(msg.resource_logs[0].scope_logs) == 2 and devs == {}


# -- the project's own documents (tests/fixtures/otlp): each shared check above, pinned here --
def test_own_fixture_folder_is_there() -> None:
    assert len(OWN_FILES) == 18, [p.name for p in OWN_FILES]


@pytest.mark.parametrize("path", OWN_FILES, ids=lambda p: p.name)
def test_every_own_file_converts_or_is_not_otlp(path: Path) -> None:
    converts_or_is_not_otlp(path, {"not-otlp-named-cases.json": "case_with_host_type"}, OWN_LEGACY)


def test_own_uppercase_hex_ids_are_read_and_reported() -> None:
    doc = own("traces-uppercase-hex.json")
    msg, devs = decode(doc)
    span = msg.resource_spans[0].scope_spans[0].spans[0]
    raw = doc["resourceSpans"][0]["scopeSpans"][0]["spans"][0]
    assert span.trace_id.hex() == raw["traceId"].lower() == "4d1e00c0db4f2a3b9c7e6f5a8b2d1c0e"
    assert span.span_id.hex() == "a1b2c3d4e5f60718"
    assert span.parent_span_id.hex() == "a1b2c3d4e5f60700"
    assert span.kind == trace_pb2.Span.SPAN_KIND_SERVER == 2
    assert span.start_time_unix_nano == 1767225600000000000
    assert span.end_time_unix_nano == 1767225600250000000
    assert (span.attributes[0].key, span.attributes[0].value.string_value) == (
        "http.route",
        "/cart/items",
    )
    scope = msg.resource_spans[0].scope_spans[0].scope
    assert (scope.name, scope.version) == ("shop.http", "3.1.4")
    assert scope.attributes[0].value.string_value == "team-cart"
    assert msg.resource_spans[0].resource.attributes[0].value.string_value == "checkout"
    dev = devs["uppercase-hex"]
    assert (dev.kind, dev.count) == ("noncanonical", 3)  # traceId, spanId, parentSpanId
    assert dev.message.startswith("resourceSpans[0].scopeSpans[0].spans[0].traceId ")
    assert set(devs) == {"uppercase-hex"}


def test_own_logs_every_value_kind() -> None:
    msg, devs = decode(own("logs-every-value-kind.json"))
    rec = msg.resource_logs[0].scope_logs[0].log_records[0]
    assert rec.trace_id.hex() == "4d1e00c0db4f2a3b9c7e6f5a8b2d1c0e"
    assert rec.span_id.hex() == "a1b2c3d4e5f60718"
    assert (rec.severity_number, rec.severity_text) == (13, "WARN")
    assert rec.time_unix_nano == rec.observed_time_unix_nano == 1767225600100000000
    assert rec.body.string_value == "cart is nearly full"
    attrs = {kv.key: kv.value for kv in rec.attributes}
    assert [attrs[k].WhichOneof("value") for k in attrs] == [
        "string_value",
        "bool_value",
        "int_value",
        "double_value",
        "array_value",
        "kvlist_value",
    ]
    assert attrs["cart.owner"].string_value == "guest"
    assert attrs["cart.express"].bool_value is True
    assert attrs["cart.items"].int_value == 41
    assert attrs["cart.total"].double_value == 129.95
    assert [v.string_value for v in attrs["cart.skus"].array_value.values] == [
        "sku-1",
        "sku-2",
        "sku-3",
    ]
    kv = attrs["cart.limits"].kvlist_value.values[0]
    assert (kv.key, kv.value.string_value) == ("max.items", "fifty")
    assert set(devs) == {"uppercase-hex"} and devs["uppercase-hex"].count == 2


def test_own_event_name() -> None:
    msg, devs = decode(own("logs-event-name.json"))
    rec = msg.resource_logs[0].scope_logs[0].log_records[0]
    assert rec.event_name == "shop.checkout.started"
    assert rec.body.HasField("kvlist_value")
    assert [kv.key for kv in rec.body.kvlist_value.values] == ["step", "page"]
    assert devs == {}


def test_own_every_metric_point_kind() -> None:
    msg, devs = decode(own("metrics-every-point-kind.json"))
    assert devs == {}
    metrics = {m.name: m for m in msg.resource_metrics[0].scope_metrics[0].metrics}
    orders = metrics["shop.orders"]
    assert orders.sum.aggregation_temporality == 1 and orders.sum.is_monotonic
    assert orders.sum.data_points[0].as_double == 7.0
    assert orders.sum.data_points[0].HasField("as_double")  # a JSON 7 in asDouble stays a double
    assert (orders.description, orders.unit) == ("Orders placed", "{order}")
    assert metrics["shop.queue.depth"].gauge.data_points[0].as_double == 3.5
    h = metrics["shop.request.duration"].histogram.data_points[0]
    assert list(h.bucket_counts) == [2, 3, 1]
    assert list(h.explicit_bounds) == [0.1, 0.5]
    assert (h.count, h.sum, h.min, h.max) == (6, 1.75, 0.05, 0.9)
    assert h.HasField("min") and h.HasField("max")
    e = metrics["shop.payload.size"].exponential_histogram.data_points[0]
    assert (e.count, e.sum, e.scale, e.zero_count, e.zero_threshold) == (5, 42.0, 1, 2, 0.0)
    assert e.positive.offset == 2 and list(e.positive.bucket_counts) == [1, 0, 2]
    assert e.HasField("min") and (e.min, e.max) == (0.0, 20.0)
    s = metrics["shop.render.latency"].summary.data_points[0]
    assert (s.count, s.sum) == (4, 100.0)
    assert [(q.quantile, q.value) for q in s.quantile_values] == [(0.99, 60.0), (0.5, 20.0)]


def test_own_exemplar_and_big_timestamps() -> None:
    msg, devs = decode(own("metrics-exemplar-big-timestamps.json"))
    big, small = msg.resource_metrics[0].scope_metrics[0].metrics[0].gauge.data_points
    assert big.time_unix_nano == 18000000000000000001 > INT64_MAX
    assert small.time_unix_nano == 2**53 + 1  # no trip through a double
    ex = big.exemplars[0]
    assert ex.trace_id.hex() == "c0ffee00c0ffee00c0ffee00c0ffee01"
    assert ex.span_id.hex() == "b0b0b0b0b0b0b0b1"
    assert ex.time_unix_nano == 18000000000000000001
    assert ex.as_double == 12.5
    assert [kv.key for kv in ex.filtered_attributes] == ["cart.id"]
    assert big.start_time_unix_nano == 0
    assert devs == {}


def test_own_unknown_fields_nulls_and_big_timestamps() -> None:
    msg, devs = decode(own("traces-unknown-fields-and-nulls.json"))
    spans = [s for rs in msg.resource_spans for ss in rs.scope_spans for s in ss.spans]
    assert len(spans) == 2
    first = spans[0]
    assert first.start_time_unix_nano == first.end_time_unix_nano == 18000000000000000001
    assert first.kind == 2 and first.parent_span_id.hex() == "0ddba11000000001"
    assert first.events[0].name == "rows fetched" and len(first.events[0].attributes) == 0
    assert first.links[0].trace_id.hex() == "0123456789abcdef0123456789abcdef"
    assert first.links[0].span_id.hex() == "fedcba9876543210"
    assert msg.resource_spans[0].schema_url == "https://opentelemetry.io/schemas/1.21.0"
    empty = spans[1]
    assert (empty.trace_id, empty.span_id, empty.parent_span_id, empty.name) == (b"", b"", b"", "")
    assert devs == {}  # status.description and droppedAttributeCount are silently ignored


def test_own_empty_span_id_and_big_timestamps() -> None:
    msg, devs = decode(own("logs-empty-span-id-big-timestamps.json"))
    rec = msg.resource_logs[0].scope_logs[0].log_records[0]
    assert rec.time_unix_nano == 18000000000000000001 > INT64_MAX
    assert rec.observed_time_unix_nano == 18000000000000000002
    assert rec.trace_id.hex() == "9f86d081884c7d659a2feaa0c55ad015"
    assert rec.span_id == b"" and rec.flags == 1
    assert not msg.resource_logs[0].scope_logs[0].HasField("scope")
    assert devs == {}


def test_own_enum_names() -> None:
    msg, devs = decode(own("metrics-enum-names.json"))
    dev = devs["enum-name"]
    assert (dev.kind, dev.count) == ("noncanonical", 4)  # three sums and a histogram
    assert dev.message.startswith(
        "resourceMetrics[0].scopeMetrics[0].metrics[0].sum.aggregationTemporality "
    )
    assert "AGGREGATION_TEMPORALITY_CUMULATIVE" in dev.message
    assert set(devs) == {"enum-name"}
    sm = msg.resource_metrics[0].scope_metrics[0]
    assert sm.scope.name == "shop.worker"  # the scope may follow the metrics
    metrics = {m.name: m for m in sm.metrics}
    cumulative = metrics_pb2.AGGREGATION_TEMPORALITY_CUMULATIVE
    for name in ("shop.worker.restarts", "shop.worker.rate", "shop.worker.threads"):
        assert metrics[name].sum.aggregation_temporality == cumulative
    assert (
        metrics["shop.worker.job.duration"].histogram.aggregation_temporality
        == metrics_pb2.AGGREGATION_TEMPORALITY_DELTA
    )
    ints = [p.as_int for m in sm.metrics if m.HasField("sum") for p in m.sum.data_points]
    assert -4 in ints  # a negative int on a monotonic sum is read as written
    assert [p.as_double for p in metrics["shop.worker.rate"].sum.data_points] == [12.0, 8.0]


def test_own_doubles_as_strings() -> None:
    msg, devs = decode(own("metrics-doubles-as-strings.json"))
    dev = devs["number-as-string"]
    assert dev.count == 4 and "'0.25'" in dev.message and dev.message.endswith("read as a number")
    assert dev.message.startswith(
        "resourceMetrics[0].scopeMetrics[0].metrics[1].sum.dataPoints[0].asDouble "
    )
    assert set(devs) == {"number-as-string"}  # the asInt strings are canonical
    metrics = msg.resource_metrics[0].scope_metrics[0].metrics
    values = {
        p.as_double
        for m in metrics
        for p in (m.sum if m.HasField("sum") else m.gauge).data_points
        if p.HasField("as_double")
    }
    assert values == {0.25, 0.125, 1.5, 0.75}
    assert metrics[0].sum.data_points[0].as_int == 3600


def test_own_numbers_where_strings_are_canonical_are_fine() -> None:
    msg, devs = decode(own("metrics-numbers-where-strings-are-canonical.json"))
    stock, basket = msg.resource_metrics[0].scope_metrics[0].metrics
    assert stock.sum.data_points[0].as_int == 318 and stock.sum.aggregation_temporality == 0
    assert list(basket.histogram.data_points[0].bucket_counts) == [5, 0, 2, 9]
    assert devs == {}


def test_own_summary_with_empty_quantile() -> None:
    msg, devs = decode(own("metrics-summary-empty-quantile.json"))
    first, second = msg.resource_metrics[0].scope_metrics[0].metrics
    point = first.summary.data_points[0]
    assert (point.count, point.sum) == (3, 27.0)
    # The empty object is quantile 0, value 0 with the defaults left out.
    assert [(q.quantile, q.value) for q in point.quantile_values] == [(0.0, 0.0), (1.0, 14.0)]
    unordered = second.summary.data_points[0]
    assert [q.quantile for q in unordered.quantile_values] == [0.95, 0.75, 0.25]
    assert unordered.count == 0
    assert devs == {}


def test_own_legacy_library_keys_are_read() -> None:
    msg, devs = decode(own("metrics-legacy-library-keys.json"))
    dev = devs["legacy-field"]
    assert (dev.kind, dev.count) == ("noncanonical", 2)  # ...Metrics + instrumentationLibrary
    assert dev.message.startswith("resourceMetrics[0].instrumentationLibraryMetrics ")
    assert "scopeMetrics" in dev.message
    assert set(devs) == {"legacy-field"}
    metrics = msg.resource_metrics[0].scope_metrics[0].metrics
    points = [p for m in metrics for p in m.gauge.data_points]
    assert len(points) == 2 and all(p.as_int == 3 for p in points)
    attrs = {kv.key: kv.value for kv in msg.resource_metrics[0].resource.attributes}
    assert attrs["k8s.cluster.name"].string_value == "" and attrs["k8s.cluster.name"].HasField(
        "string_value"
    )


def test_own_legacy_int_gauge_reports_dropped_data() -> None:
    msg, devs = decode(own("metrics-legacy-int-gauge.json"))
    assert devs["legacy-field"].count == 2
    dev = devs["unknown-field"]
    assert dev.count == 2  # two metrics whose only data is the pre-0.12 intGauge
    assert dev.message.startswith(
        "resourceMetrics[0].instrumentationLibraryMetrics[0].metrics[0].intGauge "
    )
    metrics = msg.resource_metrics[0].scope_metrics[0].metrics
    assert [m.name for m in metrics] == [
        "k8s.daemonset.desired_scheduled_nodes",
        "k8s.daemonset.ready_nodes",
    ]
    assert all(m.WhichOneof("data") is None for m in metrics)


def test_own_empty_ids_and_missing_parts() -> None:
    msg, devs = decode(own("traces-empty-ids.json"))
    spans = [s for rs in msg.resource_spans for ss in rs.scope_spans for s in ss.spans]
    assert len(spans) == 3 and all(s.trace_id == b"" and s.span_id == b"" for s in spans)
    assert all(s.parent_span_id == b"" for s in spans)
    assert [(s.status.code, s.status.message) for s in spans if s.status.code] == [
        (2, "mailbox unavailable")
    ]
    assert spans[1].links[0].trace_id == b"" and spans[1].links[0].dropped_attributes_count == 3
    assert devs == {}
    msg, devs = decode(own("logs-scopes-without-records.json"))
    assert sum(len(sl.log_records) for rl in msg.resource_logs for sl in rl.scope_logs) == 0
    assert [sl.scope.name for sl in msg.resource_logs[0].scope_logs] == [
        "shop.audit",
        "shop.access",
    ]
    assert not msg.resource_logs[0].HasField("resource") and devs == {}
    msg, devs = decode(own("logs-two-resources-empty-ids.json"))
    recs = [r for rl in msg.resource_logs for sl in rl.scope_logs for r in sl.log_records]
    assert len(msg.resource_logs) == 2 and len(recs) == 3
    assert all(r.trace_id == b"" and r.span_id == b"" and r.severity_number == 0 for r in recs)
    assert devs == {}
    msg, devs = decode(own("metrics-exp-histogram-negative-offset-only.json"))
    point = msg.resource_metrics[0].scope_metrics[0].metrics[0].exponential_histogram.data_points[0]
    assert point.negative.offset == -2 and list(point.negative.bucket_counts) == []
    assert (point.count, point.scale) == (0, 0) and devs == {}


def test_own_not_otlp_names_what_it_found() -> None:
    with pytest.raises(NotOtlp) as info:
        convert(own("not-otlp-named-cases.json"))
    text = str(info.value)
    assert "\n" not in text and isinstance(info.value, ValueError)
    assert "'case_with_host_type', 'case_without_resource'" in text
    assert all(key in text for key in ("resourceSpans", "resourceMetrics", "resourceLogs"))


# -- the real OpenTelemetry SDK: JSON file exporter vs protobuf encoder -----------------------
def _spans_from_sdk() -> Any:
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
    from opentelemetry.trace import Link, SpanKind, Status, StatusCode

    mem = InMemorySpanExporter()
    provider = TracerProvider(
        resource=Resource.create({"service.name": "checkout", "service.version": "1.2"})
    )
    provider.add_span_processor(SimpleSpanProcessor(mem))
    tracer = provider.get_tracer(
        "shop",
        "2.0",
        schema_url="https://opentelemetry.io/schemas/1.26.0",
        attributes={"scope.n": 1},
    )
    attrs: dict[str, Any] = {
        "http.request.method": "GET",
        "http.response.status_code": 200,
        "ratio": 0.25,
        "ok": True,
        "tags": ["a", "b"],
        "nums": [1, 2],
        "raw": b"\x00\xff",
        "neg": -7,
        "big": 2**62,
    }
    with tracer.start_as_current_span("GET /cart", kind=SpanKind.SERVER, attributes=attrs) as root:
        root.add_event("cache.miss", {"key": "c1", "n": 3})
        for i, kind in enumerate(
            (SpanKind.CLIENT, SpanKind.INTERNAL, SpanKind.PRODUCER, SpanKind.CONSUMER)
        ):
            with tracer.start_as_current_span(
                f"child {i}", kind=kind, links=[Link(root.get_span_context(), {"l": i})]
            ) as c:
                c.set_attribute("i", i)
                if i == 0:
                    c.set_status(Status(StatusCode.ERROR, "timeout"))
    provider.shutdown()
    return mem.get_finished_spans()


def _jsonl(tmp_path: Path, make: Callable[[str], Any], data: Any) -> list[Any]:
    path = tmp_path / "out.jsonl"
    exporter = make(str(path))
    exporter.export(data)
    exporter.shutdown()
    lines = path.read_text().splitlines()
    assert lines, "the SDK file exporter wrote nothing"
    return [json.loads(line) for line in lines]


def test_sdk_traces_round_trip(tmp_path: Path) -> None:
    from opentelemetry.exporter.otlp.json.file import FileSpanExporter
    from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans

    spans = _spans_from_sdk()
    expected = trace_pb2.TracesData.FromString(encode_spans(spans).SerializeToString())
    got = trace_pb2.TracesData()
    for doc in _jsonl(tmp_path, FileSpanExporter, spans):
        signal, payload, devs = convert(doc)
        assert signal is Signal.TRACES and devs == []
        got.MergeFromString(payload)

    def by_id(msg: Any) -> dict[bytes, Any]:
        return {
            s.span_id: s for rs in msg.resource_spans for ss in rs.scope_spans for s in ss.spans
        }

    want, have = by_id(expected), by_id(got)
    assert len(want) == 5 and want.keys() == have.keys()
    for sid, w in want.items():
        h = have[sid]
        assert len(h.trace_id) == 16 and len(h.span_id) == 8
        assert (h.trace_id, h.parent_span_id, h.kind, h.name, h.flags) == (
            w.trace_id,
            w.parent_span_id,
            w.kind,
            w.name,
            w.flags,
        )
        assert (h.start_time_unix_nano, h.end_time_unix_nano) == (
            w.start_time_unix_nano,
            w.end_time_unix_nano,
        )
        assert list(h.attributes) == list(w.attributes)
        assert list(h.events) == list(w.events) and list(h.links) == list(w.links)
        assert h.status == w.status
    root = next(s for s in have.values() if not s.parent_span_id)
    attrs = {kv.key: kv.value for kv in root.attributes}
    assert (
        attrs["raw"].bytes_value == b"\x00\xff"
        and attrs["neg"].int_value == -7
        and attrs["big"].int_value == 2**62
    )
    assert got == expected  # and everything else: resource, scope, schema URLs


def test_sdk_metrics_round_trip(tmp_path: Path) -> None:
    from opentelemetry.exporter.otlp.json.file import FileMetricExporter
    from opentelemetry.exporter.otlp.proto.common.metrics_encoder import encode_metrics
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader
    from opentelemetry.sdk.metrics.view import ExponentialBucketHistogramAggregation, View
    from opentelemetry.sdk.resources import Resource

    reader = InMemoryMetricReader()
    provider = MeterProvider(
        resource=Resource.create({"service.name": "checkout"}),
        metric_readers=[reader],
        views=[View(instrument_name="size", aggregation=ExponentialBucketHistogramAggregation())],
    )
    meter = provider.get_meter("shop", "2.0")
    meter.create_counter("orders").add(3, {"region": "eu"})
    meter.create_up_down_counter("queue").add(-2)
    meter.create_histogram("latency", unit="ms").record(12.5, {"route": "/cart"})
    size = meter.create_histogram("size")
    for v in (1, 10, 100, 1000):
        size.record(v)
    meter.create_gauge("temperature").set(21.5)
    data = reader.get_metrics_data()
    assert data is not None
    expected = metrics_pb2.MetricsData.FromString(encode_metrics(data).SerializeToString())
    docs = _jsonl(tmp_path, FileMetricExporter, data)
    assert len(docs) == 1
    signal, payload, devs = convert(docs[0])
    got = metrics_pb2.MetricsData.FromString(payload)
    assert signal is Signal.METRICS and devs == []
    metrics = {m.name: m for m in got.resource_metrics[0].scope_metrics[0].metrics}
    assert metrics["orders"].sum.data_points[0].as_int == 3
    assert metrics["queue"].sum.data_points[0].as_int == -2
    assert list(metrics["latency"].histogram.data_points[0].bucket_counts) == list(
        next(
            m for m in expected.resource_metrics[0].scope_metrics[0].metrics if m.name == "latency"
        )
        .histogram.data_points[0]
        .bucket_counts
    )
    assert sum(metrics["size"].exponential_histogram.data_points[0].positive.bucket_counts) == 4
    assert metrics["temperature"].gauge.data_points[0].as_double == 21.5
    assert got == expected


def test_sdk_logs_round_trip(tmp_path: Path) -> None:
    from opentelemetry._logs import SeverityNumber
    from opentelemetry.exporter.otlp.json.file._log_exporter import FileLogExporter
    from opentelemetry.exporter.otlp.proto.common._log_encoder import encode_logs
    from opentelemetry.sdk._logs import LoggerProvider
    from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider

    mem = InMemoryLogRecordExporter()  # type: ignore[no-untyped-call]
    provider = LoggerProvider(resource=Resource.create({"service.name": "checkout"}))
    provider.add_log_record_processor(SimpleLogRecordProcessor(mem))
    logger = provider.get_logger("shop", "2.0")
    with TracerProvider().get_tracer("t").start_as_current_span("s"):
        logger.emit(
            body="in a span",
            severity_number=SeverityNumber.WARN,
            severity_text="WARN",
            attributes={"a": 1},
        )
    logger.emit(body={"m": [1, "x", 2.5, True]}, event_name="my.event")
    logs = mem.get_finished_logs()
    expected = logs_pb2.LogsData.FromString(encode_logs(logs).SerializeToString())
    docs = _jsonl(tmp_path, FileLogExporter, logs)
    signal, payload, devs = convert(docs[0])
    got = logs_pb2.LogsData.FromString(payload)
    assert signal is Signal.LOGS and devs == []
    recs = got.resource_logs[0].scope_logs[0].log_records
    assert (
        len(recs[0].trace_id) == 16 and len(recs[0].span_id) == 8 and recs[0].severity_number == 13
    )
    assert recs[1].event_name == "my.event" and recs[1].trace_id == b""
    assert got == expected


def test_careful_path_and_snake_case_read_the_same(tmp_path: Path) -> None:
    """Every record sent down the careful path (unknown key, or snake_case keys) gives the same message."""
    from opentelemetry.exporter.otlp.json.file import FileSpanExporter

    doc = _jsonl(tmp_path, FileSpanExporter, _spans_from_sdk())[0]
    _, canonical, _ = convert(doc)
    _, careful, devs = convert(add_unknown(doc))
    assert careful == canonical and devs == []
    snake_doc = map_keys(doc, snake)
    _, snaked, devs = convert(snake_doc)
    assert snaked == canonical
    assert [d.detail for d in devs] == ["snake-case-key"]
    keys = sum(1 for _ in re.finditer(r'"[a-z]+_[a-z_]+":', json.dumps(snake_doc)))
    assert devs[0].count == keys
    assert (
        devs[0].message.startswith("resource_spans is a snake_case key")
        and "(resourceSpans)" in devs[0].message
    )


# -- hand-written deviation cases ----------------------------------------------------------------
TRACE_HEX = "0af7651916cd43dd8448eb211c80319c"
SPAN_HEX = "b7ad6b7169203331"


def test_base64_ids() -> None:
    b64_trace = base64.b64encode(bytes.fromhex(TRACE_HEX)).decode()
    b64_span = base64.b64encode(bytes.fromhex(SPAN_HEX)).decode().rstrip("=")  # padding optional
    doc = spans_doc(
        {"traceId": TRACE_HEX, "spanId": SPAN_HEX},
        {"traceId": b64_trace, "spanId": b64_span, "parentSpanId": SPAN_HEX},
    )
    msg, devs = decode(doc)
    second = msg.resource_spans[0].scope_spans[0].spans[1]
    assert second.trace_id.hex() == TRACE_HEX and second.span_id.hex() == SPAN_HEX
    dev = devs["base64-id"]
    assert (dev.kind, dev.count) == ("id-encoding", 2)
    assert dev.message.startswith("resourceSpans[0].scopeSpans[0].spans[1].traceId is base64")
    assert "OTLP/JSON ids are hex" in dev.message


def test_base64_ids_in_logs_links_and_exemplars() -> None:
    b64_trace = base64.urlsafe_b64encode(bytes.fromhex(TRACE_HEX)).decode()
    msg, devs = decode(logs_doc({"traceId": b64_trace}))
    assert msg.resource_logs[0].scope_logs[0].log_records[0].trace_id.hex() == TRACE_HEX
    assert devs["base64-id"].count == 1
    msg, devs = decode(spans_doc({"links": [{"traceId": b64_trace, "spanId": SPAN_HEX}]}))
    assert msg.resource_spans[0].scope_spans[0].spans[0].links[0].trace_id.hex() == TRACE_HEX
    assert devs["base64-id"].message.startswith(
        "resourceSpans[0].scopeSpans[0].spans[0].links[0].traceId "
    )
    point = {"asInt": "1", "exemplars": [{"traceId": b64_trace, "spanId": SPAN_HEX.upper()}]}
    msg, devs = decode(metrics_doc({"name": "m", "gauge": {"dataPoints": [point]}}))
    ex = msg.resource_metrics[0].scope_metrics[0].metrics[0].gauge.data_points[0].exemplars[0]
    assert ex.trace_id.hex() == TRACE_HEX and ex.span_id.hex() == SPAN_HEX
    assert set(devs) == {"base64-id", "uppercase-hex"}


def test_junk_ids_keep_their_text() -> None:
    doc = spans_doc({"traceId": "not-a-trace-id!", "spanId": "abc", "parentSpanId": "abcd"})
    span = one_span(doc)
    assert span.trace_id == b"not-a-trace-id!"  # raw text: the id-length check downstream flags it
    assert span.span_id == b"abc"  # odd-length hex is not hex
    assert span.parent_span_id == bytes.fromhex(
        "abcd"
    )  # hex of the wrong length stays hex (2 bytes)
    _, devs = decode(doc)
    dev = devs["non-hex-id"]
    assert (dev.kind, dev.count) == ("id-encoding", 2)
    assert "'not-a-trace-id!'" in dev.message and set(devs) == {"non-hex-id"}


def test_numbers_are_not_ids() -> None:
    doc = spans_doc({"traceId": 123456, "spanId": 0, "name": "n"})
    msg, devs = decode(doc)
    span = msg.resource_spans[0].scope_spans[0].spans[0]
    assert (span.trace_id, span.span_id, span.name) == (b"123456", b"0", "n")
    assert devs["non-hex-id"].count == 2


def test_too_deep_values_are_not_otlp() -> None:
    value: dict[str, Any] = {"stringValue": "x"}
    for _ in range(1000):  # built in a loop: json.loads itself would stop at this depth
        value = {"arrayValue": {"values": [value]}}
    with pytest.raises(NotOtlp, match="too deeply"):
        convert(logs_doc({"body": value}))


def test_uppercase_and_mixed_case_hex() -> None:
    doc = spans_doc(
        {"traceId": TRACE_HEX.upper(), "spanId": "B7ad6b7169203331"},
        {"traceId": TRACE_HEX, "spanId": SPAN_HEX},
    )
    msg, devs = decode(doc)
    spans = msg.resource_spans[0].scope_spans[0].spans
    assert spans[0].trace_id == spans[1].trace_id and spans[0].span_id == spans[1].span_id
    assert (devs["uppercase-hex"].kind, devs["uppercase-hex"].count) == ("noncanonical", 2)


def test_counts_all_and_locates_the_first() -> None:
    spans = [{"traceId": TRACE_HEX, "spanId": SPAN_HEX} for _ in range(6)]
    for i in (3, 4):
        spans[i]["traceId"] = TRACE_HEX.upper()
    _, devs = decode(spans_doc(*spans))
    dev = devs["uppercase-hex"]
    assert dev.count == 2
    assert dev.message.startswith(
        "resourceSpans[0].scopeSpans[0].spans[3].traceId is uppercase hex"
    )


def test_snake_case_keys() -> None:
    doc = {
        "resource_spans": [
            {
                "resource": {
                    "attributes": [{"key": "service.name", "value": {"string_value": "svc"}}]
                },
                "scope_spans": [
                    {
                        "spans": [
                            {
                                "trace_id": TRACE_HEX,
                                "span_id": SPAN_HEX,
                                "start_time_unix_nano": "5",
                                "kind": 3,
                            }
                        ]
                    }
                ],
            }
        ]
    }
    msg, devs = decode(doc)
    span = msg.resource_spans[0].scope_spans[0].spans[0]
    assert span.trace_id.hex() == TRACE_HEX and span.start_time_unix_nano == 5 and span.kind == 3
    assert msg.resource_spans[0].resource.attributes[0].value.string_value == "svc"
    dev = devs["snake-case-key"]
    assert (dev.kind, dev.count) == ("noncanonical", 6)
    assert (
        dev.message
        == "resource_spans is a snake_case key: OTLP/JSON keys are lowerCamelCase (resourceSpans); read as resourceSpans"
    )


def test_canonical_spelling_wins_over_snake_case() -> None:
    span = one_span(spans_doc({"name": "x", "startTimeUnixNano": "7", "start_time_unix_nano": "9"}))
    assert span.start_time_unix_nano == 7


def test_enum_names() -> None:
    doc = spans_doc(
        {"kind": "SPAN_KIND_SERVER", "status": {"code": "STATUS_CODE_ERROR", "message": "boom"}}
    )
    msg, devs = decode(doc)
    span = msg.resource_spans[0].scope_spans[0].spans[0]
    assert span.kind == 2 and span.status.code == 2 and span.status.message == "boom"
    dev = devs["enum-name"]
    assert (dev.kind, dev.count) == ("noncanonical", 2)
    assert dev.message.startswith(
        "resourceSpans[0].scopeSpans[0].spans[0].kind is the enum name 'SPAN_KIND_SERVER'"
    )
    msg, devs = decode(logs_doc({"severityNumber": "SEVERITY_NUMBER_INFO"}))
    assert msg.resource_logs[0].scope_logs[0].log_records[0].severity_number == 9
    assert devs["enum-name"].count == 1
    metric = {
        "name": "m",
        "sum": {
            "aggregationTemporality": "AGGREGATION_TEMPORALITY_DELTA",
            "dataPoints": [{"asInt": "1"}],
        },
    }
    msg, devs = decode(metrics_doc(metric))
    assert msg.resource_metrics[0].scope_metrics[0].metrics[0].sum.aggregation_temporality == 1
    assert devs["enum-name"].count == 1


def test_unknown_enum_name() -> None:
    doc = spans_doc({"name": "a", "kind": "SPAN_KIND_BOGUS"})
    msg, devs = decode(doc)
    span = msg.resource_spans[0].scope_spans[0].spans[0]
    assert span.kind == 0 and span.name == "a"
    assert devs["bad-enum"].count == 1 and "SpanKind" in devs["bad-enum"].message


def test_legacy_names() -> None:
    doc = {
        "resourceSpans": [
            {
                "instrumentationLibrarySpans": [
                    {
                        "instrumentationLibrary": {"name": "lib", "version": "0.1"},
                        "spans": [{"name": "s"}],
                    }
                ]
            }
        ]
    }
    msg, devs = decode(doc)
    ss = msg.resource_spans[0].scope_spans[0]
    assert ss.scope.name == "lib" and ss.scope.version == "0.1" and ss.spans[0].name == "s"
    dev = devs["legacy-field"]
    assert (dev.kind, dev.count) == ("noncanonical", 2)
    assert dev.message.startswith(
        "resourceSpans[0].instrumentationLibrarySpans is a pre-1.0 OTLP field name: read as scopeSpans"
    )
    msg, devs = decode(
        {
            "resourceLogs": [
                {"instrumentationLibraryLogs": [{"logRecords": [{"severityText": "x"}]}]}
            ]
        }
    )
    assert msg.resource_logs[0].scope_logs[0].log_records[0].severity_text == "x"
    assert devs["legacy-field"].count == 1


def test_legacy_metric_type_is_reported_once_per_metric() -> None:
    legacy = {"name": "old", "intSum": {"dataPoints": [{"value": "3"}]}, "unit": "1"}
    modern = {"name": "new", "gauge": {"dataPoints": [{"asInt": "3", "value": "ignored"}]}}
    msg, devs = decode(metrics_doc(legacy, modern, legacy, {"name": "no data at all"}))
    metrics = msg.resource_metrics[0].scope_metrics[0].metrics
    assert metrics[0].WhichOneof("data") is None and metrics[1].gauge.data_points[0].as_int == 3
    dev = devs["unknown-field"]
    assert dev.count == 2
    assert dev.message.startswith(
        "resourceMetrics[0].scopeMetrics[0].metrics[0].intSum is not a metric type of OTLP 1.x"
    )


def test_numbers_as_strings() -> None:
    point = {"asDouble": "0.5", "timeUnixNano": 1700000000000000000, "flags": "1"}
    metric = {
        "name": "m",
        "gauge": {
            "dataPoints": [point, {"asDouble": "NaN"}, {"asDouble": "-Infinity"}, {"asInt": 5}]
        },
    }
    msg, devs = decode(metrics_doc(metric))
    points = msg.resource_metrics[0].scope_metrics[0].metrics[0].gauge.data_points
    assert (
        points[0].as_double == 0.5
        and points[0].time_unix_nano == 1700000000000000000
        and points[0].flags == 1
    )
    assert (
        math.isnan(points[1].as_double)
        and points[2].as_double == -math.inf
        and points[3].as_int == 5
    )
    dev = devs["number-as-string"]
    assert (
        dev.count == 2
    )  # "0.5" and "1"; NaN/Infinity can only be strings, 64-bit numbers may be JSON numbers
    assert dev.message.startswith(
        "resourceMetrics[0].scopeMetrics[0].metrics[0].gauge.dataPoints[0].asDouble "
    )
    span = one_span(spans_doc({"attributes": [{"key": "d", "value": {"doubleValue": "2.5"}}]}))
    assert span.attributes[0].value.double_value == 2.5


def test_bad_numbers_are_left_unset() -> None:
    doc = spans_doc(
        {
            "name": "s",
            "startTimeUnixNano": "soon",
            "endTimeUnixNano": "-1",
            "attributes": [
                {"key": "a", "value": {"intValue": "1.5"}},
                {"key": "b", "value": {"intValue": "9223372036854775808"}},
                {"key": "c", "value": {"intValue": "-9223372036854775808"}},
            ],
        }
    )
    msg, devs = decode(doc)
    span = msg.resource_spans[0].scope_spans[0].spans[0]
    assert span.name == "s" and span.start_time_unix_nano == 0 and span.end_time_unix_nano == 0
    attrs = {kv.key: kv.value for kv in span.attributes}
    assert attrs["a"].WhichOneof("value") is None and attrs["b"].WhichOneof("value") is None
    assert attrs["c"].int_value == -(2**63)
    dev = devs["bad-number"]
    assert (dev.kind, dev.count) == ("noncanonical", 4)
    assert dev.message.startswith(
        "resourceSpans[0].scopeSpans[0].spans[0].startTimeUnixNano is not a valid 64-bit integer ('soon')"
    )


def test_wrong_scalar_types() -> None:
    doc = spans_doc(
        {"name": 5, "kind": 2, "attributes": [{"key": "b", "value": {"boolValue": "yes"}}]}
    )
    msg, devs = decode(doc)
    span = msg.resource_spans[0].scope_spans[0].spans[0]
    assert span.name == "" and span.kind == 2 and span.attributes[0].key == "b"
    assert devs["bad-value"].count == 2


def test_nulls_are_absent() -> None:
    doc = spans_doc(
        {
            "traceId": None,
            "spanId": SPAN_HEX,
            "name": None,
            "attributes": None,
            "status": None,
            "events": [None],
            "kind": 1,
        },
        None,
        resource=None,
    )
    msg, devs = decode(doc)
    spans = msg.resource_spans[0].scope_spans[0].spans
    assert len(spans) == 1
    assert (
        spans[0].trace_id == b""
        and spans[0].span_id.hex() == SPAN_HEX
        and not spans[0].HasField("status")
    )
    assert len(spans[0].events) == 0 and devs == {}
    rec = (
        decode(logs_doc({"body": None, "attributes": [{"key": "k", "value": None}]}))[0]
        .resource_logs[0]
        .scope_logs[0]
        .log_records[0]
    )
    assert not rec.HasField("body") and rec.attributes[0].key == "k"


def test_unknown_fields_are_ignored_silently() -> None:
    doc = spans_doc(
        {"name": "s", "foo": {"bar": [1]}, "status": {"code": 1, "description": "x"}, "kind": 1}
    )
    doc["unknownTopLevel"] = True
    msg, devs = decode(doc)
    span = msg.resource_spans[0].scope_spans[0].spans[0]
    assert (span.name, span.kind, span.status.code) == ("s", 1, 1) and devs == {}


def test_any_value_kinds_and_bytes() -> None:
    value = {
        "kvlistValue": {
            "values": [
                {
                    "key": "bytes",
                    "value": {"bytesValue": base64.b64encode(b"\x00\x01\xfe").decode()},
                },
                {
                    "key": "array",
                    "value": {
                        "arrayValue": {"values": [{"intValue": "-13"}, {"boolValue": False}, {}]}
                    },
                },
                {"key": "empty", "value": {}},
            ]
        }
    }
    rec = decode(logs_doc({"body": value}))[0].resource_logs[0].scope_logs[0].log_records[0]
    kvs = {kv.key: kv.value for kv in rec.body.kvlist_value.values}
    assert kvs["bytes"].bytes_value == b"\x00\x01\xfe"
    arr = kvs["array"].array_value.values
    assert (
        arr[0].int_value == -13
        and arr[1].HasField("bool_value")
        and arr[2].WhichOneof("value") is None
    )
    assert kvs["empty"].WhichOneof("value") is None


def test_whole_span_model() -> None:
    span = {
        "traceId": TRACE_HEX,
        "spanId": SPAN_HEX,
        "parentSpanId": "1111111111111111",
        "traceState": "k=v",
        "flags": 769,
        "name": "op",
        "kind": 5,
        "startTimeUnixNano": "1",
        "endTimeUnixNano": "2",
        "droppedAttributesCount": 3,
        "droppedEventsCount": 4,
        "droppedLinksCount": 5,
        "events": [
            {
                "timeUnixNano": "3",
                "name": "e",
                "attributes": [{"key": "x", "value": {"intValue": 1}}],
                "droppedAttributesCount": 1,
            }
        ],
        "links": [
            {
                "traceId": TRACE_HEX,
                "spanId": "2222222222222222",
                "traceState": "a=b",
                "flags": 1,
                "droppedAttributesCount": 2,
                "attributes": [{"key": "y", "value": {"stringValue": "z"}}],
            }
        ],
        "status": {"code": 1, "message": ""},
    }
    doc = spans_doc(
        span, resource={"attributes": [], "droppedAttributesCount": 2}, schemaUrl="https://x/1"
    )
    doc["resourceSpans"][0]["scopeSpans"][0]["schemaUrl"] = "https://x/2"
    msg, devs = decode(doc)
    assert msg == oracle(doc, Signal.TRACES) and devs == {}
    s = msg.resource_spans[0].scope_spans[0].spans[0]
    assert (s.flags, s.kind, s.dropped_links_count, s.events[0].attributes[0].value.int_value) == (
        769,
        5,
        5,
        1,
    )
    assert (
        msg.resource_spans[0].schema_url == "https://x/1"
        and msg.resource_spans[0].resource.dropped_attributes_count == 2
    )


def test_empty_documents_of_the_right_shape() -> None:
    for doc, signal in (
        ({"resourceLogs": [{"scopeLogs": [{"scope": {"name": "x"}}]}]}, Signal.LOGS),
        ({"resourceSpans": []}, Signal.TRACES),
        ({"resourceMetrics": [{}]}, Signal.METRICS),
        ({"resourceSpans": None}, Signal.TRACES),
    ):
        got, payload, devs = convert(doc)
        assert got is signal and devs == []
        assert CLASSES[signal].FromString(payload) == oracle(doc, signal)


# -- not OTLP ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("doc", "words"),
    [
        ([], "JSON array"),
        ("x", "JSON string"),
        ({}, "empty JSON object"),
        ({"foo": 1}, "'foo'"),
        ({"resourceSpans": 5}, "resourceSpans is a JSON number"),
        ({"resourceSpans": [], "resourceLogs": []}, "one signal"),
        ({"resourceSpans": ["x"]}, "resourceSpans[0] is a JSON string"),
        (
            {"resourceSpans": [{"scopeSpans": [{"spans": {"name": "x"}}]}]},
            "resourceSpans[0].scopeSpans[0].spans is a JSON object",
        ),
        (
            {"resourceLogs": [{"scopeLogs": [{"logRecords": [7]}]}]},
            "logRecords[0] is a JSON number",
        ),
        (
            {"resourceSpans": [{"scopeSpans": [{"spans": [{"attributes": {"a": 1}}]}]}]},
            "spans[0].attributes is a JSON object",
        ),
        ({"resourceLogs": [{"resource": []}]}, "resourceLogs[0].resource is a JSON array"),
    ],
)
def test_not_otlp(doc: Any, words: str) -> None:
    with pytest.raises(NotOtlp) as info:
        convert(copy.deepcopy(doc))
    text = str(info.value)
    assert "\n" not in text and words in text, text
    assert isinstance(info.value, ValueError)


def _histogram(**point: Any) -> dict[str, Any]:
    return {
        "resourceMetrics": [
            {
                "scopeMetrics": [
                    {
                        "metrics": [
                            {
                                "name": "h",
                                "histogram": {
                                    "aggregationTemporality": 2,
                                    "dataPoints": [{"count": "3", **point}],
                                },
                            }
                        ]
                    }
                ]
            }
        ]
    }


@pytest.mark.parametrize(
    ("counts", "bounds", "want_counts", "want_bounds", "details"),
    [
        # Canonical lists are read whole; every other list element by element, as before.
        (["1", "0", "2"], [0.5, 1, 2.5], [1, 0, 2], [0.5, 1.0, 2.5], set()),
        ([1, "0", 2], [0.5, 1.0], [1, 0, 2], [0.5, 1.0], set()),
        (["1", "x", "2"], [0.5], [1, 2], [0.5], {"bad-number"}),
        (["1", "-3"], [0.5], [1], [0.5], {"bad-number"}),  # uint64: the negative one is dropped
        (["1", None, "2"], [0.5], [1, 2], [0.5], {"bad-value"}),
        (["1", "2"], [0.5, "Infinity"], [1, 2], [0.5, math.inf], set()),
        (["1", "2"], [True, 1.5], [1, 2], [1.5], {"bad-value"}),
        (["1", "2"], ["1.5"], [1, 2], [1.5], {"number-as-string"}),
    ],
)
def test_histogram_lists_whole_or_one_by_one(
    counts: list[Any],
    bounds: list[Any],
    want_counts: list[int],
    want_bounds: list[float],
    details: set[str],
) -> None:
    msg, devs = decode(_histogram(bucketCounts=counts, explicitBounds=bounds))
    point = msg.resource_metrics[0].scope_metrics[0].metrics[0].histogram.data_points[0]
    assert list(point.bucket_counts) == want_counts
    assert list(point.explicit_bounds) == want_bounds
    assert set(devs) == details
