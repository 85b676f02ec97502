"""Build real OTLP protobuf messages from the small YAML language of the rule fixtures.

The fixtures describe telemetry compactly (ids as small integers, attributes as YAML
maps); this module turns them into genuine ``TracesData`` / ``MetricsData`` /
``LogsData`` messages with the generated opentelemetry-proto classes, so each rule
is tested on the same wire bytes a collector would write.

Ids: an integer ``n`` becomes ``n`` as a big-endian 16-byte trace id or 8-byte span
id; a string is hex and may be malformed on purpose (``""``, ``"00"*16``, ``"abcd"``).
Attribute values: YAML strings, booleans, ints, floats, lists and maps map to the
AnyValue of the same type; ``{"$bytes": "hex"}`` gives bytes; ``null`` an empty value.
"""

from __future__ import annotations

from typing import Any

from opentelemetry.proto.common.v1 import common_pb2
from opentelemetry.proto.logs.v1 import logs_pb2
from opentelemetry.proto.metrics.v1 import metrics_pb2
from opentelemetry.proto.trace.v1 import trace_pb2

KINDS = {"unspecified": 0, "internal": 1, "server": 2, "client": 3, "producer": 4, "consumer": 5}


def ident(value: Any, size: int) -> bytes:
    """A trace (16) or span (8) id from an int or a hex string."""
    if value is None:
        return b""
    if isinstance(value, int):
        return value.to_bytes(size, "big")
    return bytes.fromhex(str(value))


def any_value(out: common_pb2.AnyValue, value: Any) -> None:
    """Fill ``out`` with ``value``."""
    if value is None:
        return
    if isinstance(value, bool):
        out.bool_value = value
    elif isinstance(value, int):
        out.int_value = value
    elif isinstance(value, float):
        out.double_value = value
    elif isinstance(value, str):
        out.string_value = value
    elif isinstance(value, dict) and set(value) == {"$bytes"}:
        out.bytes_value = bytes.fromhex(value["$bytes"])
    elif isinstance(value, list):
        arr = out.array_value
        for v in value:
            any_value(arr.values.add(), v)
    elif isinstance(value, dict):
        kvl = out.kvlist_value
        for k, v in value.items():
            kv = kvl.values.add()
            kv.key = str(k)
            any_value(kv.value, v)
    else:
        raise TypeError(f"unsupported attribute value {value!r}")


def attributes(target: Any, attrs: dict[str, Any] | None) -> None:
    """Append ``attrs`` to a repeated KeyValue field."""
    for key, value in (attrs or {}).items():
        kv = target.add()
        kv.key = str(key)
        any_value(kv.value, value)


def traces(groups: list[dict[str, Any]]) -> trace_pb2.TracesData:
    """TracesData from ``[{resource: {...}, spans: [{trace, id, parent, kind, remote, flags, attrs, events, links}]}]``.

    ``events`` is a list of ``{name, attrs}`` (span events); ``links`` is a list of
    ``{trace, id}``: the spans a span links to.
    """
    data = trace_pb2.TracesData()
    for group in groups:
        rs = data.resource_spans.add()
        attributes(rs.resource.attributes, group.get("resource"))
        ss = rs.scope_spans.add()
        ss.scope.name = "fixture"
        for sp in group.get("spans", []):
            span = ss.spans.add()
            span.trace_id = ident(sp.get("trace", 1), 16)
            span.span_id = ident(sp.get("id"), 8)
            if sp.get("parent") is not None:
                span.parent_span_id = ident(sp["parent"], 8)
            span.name = sp.get("name", "op")
            span.kind = KINDS[sp.get("kind", "internal")]  # type: ignore[assignment]
            flags = int(sp.get("flags", 0x100))
            if "remote" in sp:
                flags = 0x100 | (0x200 if sp["remote"] else 0)
            span.flags = flags
            span.start_time_unix_nano = 1_700_000_000_000_000_000
            span.end_time_unix_nano = 1_700_000_000_100_000_000
            attributes(span.attributes, sp.get("attrs"))
            for event in sp.get("events", []):
                ev = span.events.add()
                ev.name = str(event.get("name", "event"))
                ev.time_unix_nano = 1_700_000_000_050_000_000
                attributes(ev.attributes, event.get("attrs"))
            for link in sp.get("links", []):
                lk = span.links.add()
                lk.trace_id = ident(link.get("trace", 1), 16)
                lk.span_id = ident(link.get("id"), 8)
    return data


def logs(groups: list[dict[str, Any]]) -> logs_pb2.LogsData:
    """LogsData from ``[{resource: {...}, records: [{trace, span, attrs, body}]}]``."""
    data = logs_pb2.LogsData()
    for group in groups:
        rl = data.resource_logs.add()
        attributes(rl.resource.attributes, group.get("resource"))
        sl = rl.scope_logs.add()
        for rec in group.get("records", []):
            lr = sl.log_records.add()
            lr.time_unix_nano = 1_700_000_000_000_000_000
            lr.severity_number = 9  # type: ignore[assignment]
            body = rec.get("body", "hello")
            if isinstance(body, (dict, list)):
                any_value(lr.body, body)  # a structured body: a kvlist or an array
            else:
                lr.body.string_value = str(body)
            if rec.get("trace") is not None:
                lr.trace_id = ident(rec["trace"], 16)
            if rec.get("span") is not None:
                lr.span_id = ident(rec["span"], 8)
            attributes(lr.attributes, rec.get("attrs"))
    return data


def metrics(groups: list[dict[str, Any]]) -> metrics_pb2.MetricsData:
    """MetricsData from ``[{resource: {...}, points: [{attrs, exemplars: [{trace, span}]}]}]``."""
    data = metrics_pb2.MetricsData()
    for group in groups:
        rm = data.resource_metrics.add()
        attributes(rm.resource.attributes, group.get("resource"))
        sm = rm.scope_metrics.add()
        metric = sm.metrics.add()
        metric.name = group.get("metric", "http.server.request.duration")
        metric.unit = "s"
        for pt in group.get("points", []):
            dp = metric.histogram.data_points.add()
            dp.time_unix_nano = 1_700_000_000_000_000_000
            dp.count = 1
            dp.sum = 0.5
            attributes(dp.attributes, pt.get("attrs"))
            for ex in pt.get("exemplars", []):
                e = dp.exemplars.add()
                e.as_double = 0.5
                e.time_unix_nano = 1_700_000_000_000_000_000
                if ex.get("trace") is not None:
                    e.trace_id = ident(ex["trace"], 16)
                if ex.get("span") is not None:
                    e.span_id = ident(ex["span"], 8)
    return data


def write_input(spec: dict[str, Any], folder: Any) -> list[str]:
    """Write a fixture's ``input`` as files in ``folder``; returns their paths.

    ``traces``/``logs``/``metrics`` become raw protobuf files (``patch`` edits their bytes);
    ``files`` maps a file name
    to text written verbatim (for reader-level cases such as malformed JSON).
    """
    paths = []
    builders = {"traces": traces, "logs": logs, "metrics": metrics}
    for signal, build in builders.items():
        if signal in spec:
            path = folder / f"{signal}.pb"
            data = build(spec[signal]).SerializeToString()
            # ``patch``: [text, hex] pairs replaced in the wire bytes, for what the
            # generated classes refuse to write (invalid UTF-8); keep lengths equal.
            for old, new in spec.get("patch") or []:
                data = data.replace(old.encode(), bytes.fromhex(new))
            path.write_bytes(data)
            paths.append(str(path))
    for name, text in (spec.get("files") or {}).items():
        path = folder / name
        path.write_text(text, encoding="utf-8")
        paths.append(str(path))
    return paths
