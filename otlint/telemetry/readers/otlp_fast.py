"""Canonical OTLP/JSON -> protobuf wire bytes, fast: msgspec structs and a direct encoder.

``encode_line(line)`` takes one JSON Lines line and returns ``(signal, payload)``, the
same bytes ``otlp_json.convert`` gives for the same document (the test holds them
byte-identical), or None: then the caller reads the line as before (``json.loads`` and
the careful converter, which records every Deviation). So a line that departs from
canonical OTLP/JSON in any way this module does not prove harmless takes the old path,
and its findings are the old ones.

How it stays fast:

* **Typed decode**: ``msgspec`` decodes straight into Structs that declare every field of
  OTLP 1.x by its lowerCamelCase JSON name, with ``forbid_unknown_fields`` (a snake_case
  key, a legacy field, a typo fails the decode) and exact types (an enum name, a number
  as a string, a string where a number belongs fail it). Decoding validates in C and
  builds no dict.
* **Attributes are text**: a KeyValue is kept as its raw JSON text (``msgspec.Raw``); the
  text is the key of a cache of its wire bytes (attribute values repeat), filled by a
  typed decode of the text and the careful converter for anything but a plain scalar.
  Resources, scopes and log bodies are cached by their text the same way.
* **The encoder writes wire bytes directly**, fields in number order as upb writes them,
  proto3 defaults left out; no message object is built.

``msgspec`` is a dependency because it pays (BENCHMARKS.md, "OTLP/JSON speed").
"""

from __future__ import annotations

import struct
from array import array
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from itertools import chain, compress
from operator import attrgetter
from typing import Annotated, Any

import msgspec
from msgspec import Meta, Raw, Struct, field

from otlint.core.wire import CONSUMER, SERVER
from otlint.telemetry.corpus.columns import gather
from otlint.telemetry.corpus.corpus import Signal

__all__ = ["FIELDS", "LogScope", "Prepared", "SpanScope", "encode_line", "prepare_line"]


class _Decline(Exception):
    """Raised inside the encoder: this document takes the careful path."""


U32 = Annotated[int, Meta(ge=0, le=2**32 - 1)]
# (enums and int32 counts: negative ones are rare and encode as ten bytes: declined)
E32 = Annotated[int, Meta(ge=0, le=2**31 - 1)]
# 64-bit integers: OTLP/JSON writes decimal strings; proto3 JSON also takes numbers.
I64 = str | Annotated[int, Meta(ge=-(2**63), le=2**63 - 1)]
U64 = str | Annotated[int, Meta(ge=0)]
KVs = list[Raw]
#: An absent Raw field (a JSON null is the text ``null``: absent too).
_ABSENT = Raw()


class _S(Struct, forbid_unknown_fields=True, gc=False):
    """Base: unknown keys fail the decode."""


class Status(_S):
    message: str = ""
    code: E32 = 0


class Event(_S):
    timeUnixNano: U64 | None = None
    name: str = ""
    attributes: KVs = field(default_factory=list)
    droppedAttributesCount: U32 = 0


class Link(_S):
    traceId: str = ""
    spanId: str = ""
    traceState: str = ""
    attributes: KVs = field(default_factory=list)
    droppedAttributesCount: U32 = 0
    flags: U32 = 0


class Span(_S):
    traceId: str = ""
    spanId: str = ""
    traceState: str = ""
    parentSpanId: str = ""
    flags: U32 = 0
    name: str = ""
    kind: E32 = 0
    startTimeUnixNano: U64 | None = None
    endTimeUnixNano: U64 | None = None
    attributes: KVs = field(default_factory=list)
    droppedAttributesCount: U32 = 0
    events: list[Event] = field(default_factory=list)
    droppedEventsCount: U32 = 0
    links: list[Link] = field(default_factory=list)
    droppedLinksCount: U32 = 0
    status: Status | None = None


class ScopeSpans(_S):
    scope: Raw = _ABSENT
    spans: list[Span] = field(default_factory=list)
    schemaUrl: str = ""


class ResourceSpans(_S):
    resource: Raw = _ABSENT
    scopeSpans: list[ScopeSpans] = field(default_factory=list)
    schemaUrl: str = ""


class TracesData(_S):
    resourceSpans: list[ResourceSpans] = field(default_factory=list)


class LogRecord(_S):
    timeUnixNano: U64 | None = None
    observedTimeUnixNano: U64 | None = None
    severityNumber: E32 = 0
    severityText: str = ""
    body: Raw = _ABSENT
    attributes: KVs = field(default_factory=list)
    droppedAttributesCount: U32 = 0
    flags: U32 = 0
    traceId: str = ""
    spanId: str = ""
    eventName: str = ""


class ScopeLogs(_S):
    scope: Raw = _ABSENT
    logRecords: list[LogRecord] = field(default_factory=list)
    schemaUrl: str = ""


class ResourceLogs(_S):
    resource: Raw = _ABSENT
    scopeLogs: list[ScopeLogs] = field(default_factory=list)
    schemaUrl: str = ""


class LogsData(_S):
    resourceLogs: list[ResourceLogs] = field(default_factory=list)


class Exemplar(_S):
    filteredAttributes: KVs = field(default_factory=list)
    timeUnixNano: U64 | None = None
    asDouble: float | None = None
    asInt: I64 | None = None
    spanId: str = ""
    traceId: str = ""


class NumberDataPoint(_S):
    attributes: KVs = field(default_factory=list)
    startTimeUnixNano: U64 | None = None
    timeUnixNano: U64 | None = None
    asDouble: float | None = None
    asInt: I64 | None = None
    exemplars: list[Exemplar] = field(default_factory=list)
    flags: U32 = 0


class HistogramDataPoint(_S):
    attributes: KVs = field(default_factory=list)
    startTimeUnixNano: U64 | None = None
    timeUnixNano: U64 | None = None
    count: U64 | None = None
    sum: float | None = None
    bucketCounts: list[U64] = field(default_factory=list)
    explicitBounds: list[float] = field(default_factory=list)
    exemplars: list[Exemplar] = field(default_factory=list)
    flags: U32 = 0
    min: float | None = None
    max: float | None = None


class Gauge(_S):
    dataPoints: list[NumberDataPoint] = field(default_factory=list)


class Sum(_S):
    dataPoints: list[NumberDataPoint] = field(default_factory=list)
    aggregationTemporality: E32 = 0
    isMonotonic: bool = False


class Histogram(_S):
    dataPoints: list[HistogramDataPoint] = field(default_factory=list)
    aggregationTemporality: E32 = 0


class Metric(_S):
    name: str = ""
    description: str = ""
    unit: str = ""
    gauge: Gauge | None = None
    sum: Sum | None = None
    histogram: Histogram | None = None
    # Rare kinds, and metadata: their text goes through the careful converter.
    exponentialHistogram: Raw = _ABSENT
    summary: Raw = _ABSENT
    metadata: Raw = _ABSENT


class ScopeMetrics(_S):
    scope: Raw = _ABSENT
    metrics: list[Metric] = field(default_factory=list)
    schemaUrl: str = ""


class ResourceMetrics(_S):
    resource: Raw = _ABSENT
    scopeMetrics: list[ScopeMetrics] = field(default_factory=list)
    schemaUrl: str = ""


class MetricsData(_S):
    resourceMetrics: list[ResourceMetrics] = field(default_factory=list)


#: A KeyValue whose value is one plain scalar (the cache's fast fill).
class _Any(_S):
    stringValue: str | None = None
    boolValue: bool | None = None
    intValue: I64 | None = None
    doubleValue: float | None = None


class _KV(_S):
    key: str
    value: _Any


#: The Struct of each OTLP message type it stands for: ``FIELDS`` checks they declare
#: every field of the protobuf descriptors (a new OTLP field must be added here).
STRUCTS: dict[str, Any] = {
    "opentelemetry.proto.trace.v1.TracesData": TracesData,
    "opentelemetry.proto.trace.v1.ResourceSpans": ResourceSpans,
    "opentelemetry.proto.trace.v1.ScopeSpans": ScopeSpans,
    "opentelemetry.proto.trace.v1.Span": Span,
    "opentelemetry.proto.trace.v1.Span.Event": Event,
    "opentelemetry.proto.trace.v1.Span.Link": Link,
    "opentelemetry.proto.trace.v1.Status": Status,
    "opentelemetry.proto.logs.v1.LogsData": LogsData,
    "opentelemetry.proto.logs.v1.ResourceLogs": ResourceLogs,
    "opentelemetry.proto.logs.v1.ScopeLogs": ScopeLogs,
    "opentelemetry.proto.logs.v1.LogRecord": LogRecord,
    "opentelemetry.proto.metrics.v1.MetricsData": MetricsData,
    "opentelemetry.proto.metrics.v1.ResourceMetrics": ResourceMetrics,
    "opentelemetry.proto.metrics.v1.ScopeMetrics": ScopeMetrics,
    "opentelemetry.proto.metrics.v1.Metric": Metric,
    "opentelemetry.proto.metrics.v1.Gauge": Gauge,
    "opentelemetry.proto.metrics.v1.Sum": Sum,
    "opentelemetry.proto.metrics.v1.Histogram": Histogram,
    "opentelemetry.proto.metrics.v1.NumberDataPoint": NumberDataPoint,
    "opentelemetry.proto.metrics.v1.HistogramDataPoint": HistogramDataPoint,
    "opentelemetry.proto.metrics.v1.Exemplar": Exemplar,
}
FIELDS: dict[str, frozenset[str]] = {
    name: frozenset(cls.__struct_fields__) for name, cls in STRUCTS.items()
}


# -- wire pieces -------------------------------------------------------------------------
_VARINTS = [bytes([n]) for n in range(128)] + [
    bytes([n & 0x7F | 0x80, n >> 7]) for n in range(128, 16384)
]
_pack_d = struct.Struct("<d").pack
_pack_q = struct.Struct("<Q").pack
_pack_sq = struct.Struct("<q").pack
_pack_i = struct.Struct("<I").pack
_fromhex = bytes.fromhex
_NULL = Raw(b"null")


def _varint(n: int) -> bytes:
    if n < 16384:
        return _VARINTS[n]
    out = bytearray()
    while n > 127:
        out.append(n & 0x7F | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def _u64(x: str | int) -> int:
    """A 64-bit unsigned value as the careful path reads it (``int()`` of a string)."""
    n = int(x)
    if not 0 <= n < 1 << 64:
        raise _Decline
    return n


def _i64(x: str | int) -> int:
    """A 64-bit signed value, likewise."""
    n = int(x)
    if not -(1 << 63) <= n < 1 << 63:
        raise _Decline
    return n


def _id(text: str) -> bytes:
    """A canonical id: lowercase hex (any length, as the careful path takes it)."""
    b = _fromhex(text)
    if b.hex() != text:
        raise _Decline  # uppercase, blanks, not hex: the careful path says which
    return b


def _str(tag: bytes, s: str) -> bytes:
    b = s.encode()
    return tag + _varint(len(b)) + b


def _msg(tag: bytes, body: bytes) -> bytes:
    return tag + _varint(len(body)) + body


# -- the text caches: KeyValues, resources, scopes, bodies --------------------------------
_CACHE_LIMIT = 200_000
#: KeyValue text -> its wire bytes (the KeyValue message alone).
_KV_WIRE: dict[bytes, bytes] = {}
#: Per field tag: KeyValue text -> tag + length + wire bytes (what a record's list holds).
_KV_FIELD: dict[bytes, dict[bytes, bytes]] = {}
#: (what, text) -> wire bytes of a resource, scope, log body, or a rare metric kind.
_TEXT_WIRE: dict[tuple[str, bytes], bytes] = {}


def _kv_wire(text: bytes) -> bytes:
    """The wire bytes of one KeyValue given as JSON text (raises _Decline if not canonical)."""
    wire = _KV_WIRE.get(text)
    if wire is not None:
        return wire
    try:
        kv = _KV_DECODE(text)
    except msgspec.ValidationError:
        wire = _careful_wire("kv", text)
    else:
        wire = _plain_kv(kv)
        if wire is None:
            wire = _careful_wire("kv", text)
    _KV_WIRE[text] = wire
    return wire


def _plain_kv(kv: Any) -> bytes | None:
    """A KeyValue of one scalar value, encoded; None when it is anything else."""
    v = kv.value
    s = v.stringValue
    if s is not None and v.boolValue is None and v.intValue is None and v.doubleValue is None:
        b: bytes = s.encode()
        n = len(b)
        value = b"\x0a" + (_VARINTS[n] if n < 16384 else _varint(n)) + b
    else:
        # (empty, or two members of the oneof: None, the careful path knows the order)
        plain = _plain_any(v)
        if plain is None:
            return None
        value = plain
    key: bytes = kv.key.encode()
    n = len(value)
    return (
        (b"\x0a" + _varint(len(key)) + key if key else b"")
        + b"\x12"
        + (_VARINTS[n] if n < 16384 else _varint(n))
        + value
    )


def _kvs(tag: bytes, texts: list[Any]) -> bytes:
    """A repeated KeyValue field: each text's cached ``tag + length + bytes``, joined."""
    cache = _KV_FIELD.get(tag)
    if cache is None:
        cache = _KV_FIELD[tag] = {}
    raw = list(map(bytes, texts))
    try:
        return b"".join(map(cache.__getitem__, raw))
    except KeyError:
        pass
    if len(cache) > _CACHE_LIMIT:
        cache.clear()
    if len(_KV_WIRE) > _CACHE_LIMIT:
        _KV_WIRE.clear()
    for text in raw:
        if text not in cache:
            cache[text] = _msg(tag, _kv_wire(text))
    return b"".join(map(cache.__getitem__, raw))


def _careful_wire(what: str, text: bytes) -> bytes:
    """Wire bytes of a small JSON value by the careful converter; _Decline on a deviation."""
    import json

    from opentelemetry.proto.common.v1 import common_pb2
    from opentelemetry.proto.resource.v1 import resource_pb2

    from otlint.telemetry.readers import otlp_json as oj

    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        raise _Decline from None
    ctx = oj._Ctx(value)
    try:
        if what == "kv":
            msg: Any = oj._KeyValue()
            if type(value) is not dict:
                raise _Decline
            oj._careful(ctx, msg, value, oj._KV_TABLE)
        elif what == "resource":
            msg = resource_pb2.Resource()
            if type(value) is not dict:
                raise _Decline
            oj._resource_into(ctx, msg, value)
        elif what == "scope":
            msg = common_pb2.InstrumentationScope()
            if type(value) is not dict:
                raise _Decline
            oj._scope_into(ctx, msg, value)
        elif what == "body":
            msg = oj._AnyValue()
            oj._any_into(ctx, msg, value, None, "body")
        else:  # a Metric holding only this field (the rare kinds, metadata)
            msg = oj._Metric()
            oj._careful(ctx, msg, {what: value}, oj._METRIC_TABLE)
    except (oj.NotOtlp, RecursionError, ValueError, TypeError):
        raise _Decline from None
    if ctx.devs:
        raise _Decline
    wire: bytes = msg.SerializeToString()
    return wire


def _text_wire(what: str, raw: Any) -> bytes:
    text = bytes(raw)
    key = (what, text)
    wire = _TEXT_WIRE.get(key)
    if wire is None:
        if len(_TEXT_WIRE) > _CACHE_LIMIT // 10:
            _TEXT_WIRE.clear()
        wire = _TEXT_WIRE[key] = _careful_wire(what, text)
    return wire


def _container(tag: bytes, what: str, raw: Any) -> bytes:
    """A resource or scope field (tag + length + bytes); empty when absent."""
    if not raw or raw == _NULL:
        return b""
    return _msg(tag, _text_wire(what, raw))


# -- traces ---------------------------------------------------------------------------------
def _status(st: Any) -> bytes:
    out = b""
    if st.message:
        out = _str(b"\x12", st.message)
    if st.code:
        out += b"\x18" + _varint(st.code)
    return _msg(b"\x7a", out)


def _event(ev: Any) -> bytes:
    out: list[bytes] = []
    t = ev.timeUnixNano
    if t is not None:
        n = _u64(t)
        if n:
            out.append(b"\x09" + _pack_q(n))
    if ev.name:
        out.append(_str(b"\x12", ev.name))
    if ev.attributes:
        out.append(_kvs(b"\x1a", ev.attributes))
    if ev.droppedAttributesCount:
        out.append(b"\x20" + _varint(ev.droppedAttributesCount))
    return _msg(b"\x5a", b"".join(out))


def _link(ln: Any) -> bytes:
    out: list[bytes] = []
    if ln.traceId:
        b = _id(ln.traceId)
        out.append(b"\x0a" + _varint(len(b)) + b)
    if ln.spanId:
        b = _id(ln.spanId)
        out.append(b"\x12" + _varint(len(b)) + b)
    if ln.traceState:
        out.append(_str(b"\x1a", ln.traceState))
    if ln.attributes:
        out.append(_kvs(b"\x22", ln.attributes))
    if ln.droppedAttributesCount:
        out.append(b"\x28" + _varint(ln.droppedAttributesCount))
    if ln.flags:
        out.append(b"\x35" + _pack_i(ln.flags))
    return _msg(b"\x6a", b"".join(out))


def _span(sp: Any) -> bytes:
    out: list[bytes] = []
    add = out.append
    x = sp.traceId
    if x:
        b = _fromhex(x)
        if len(b) == 16 and b.hex() == x:
            add(b"\x0a\x10" + b)
        else:
            b = _id(x)
            add(b"\x0a" + _varint(len(b)) + b)
    x = sp.spanId
    if x:
        b = _fromhex(x)
        if len(b) == 8 and b.hex() == x:
            add(b"\x12\x08" + b)
        else:
            b = _id(x)
            add(b"\x12" + _varint(len(b)) + b)
    if sp.traceState:
        add(_str(b"\x1a", sp.traceState))
    x = sp.parentSpanId
    if x:
        b = _id(x)
        add(b"\x22" + _varint(len(b)) + b)
    if sp.name:
        add(_str(b"\x2a", sp.name))
    if sp.kind:
        add(b"\x30" + _varint(sp.kind))
    x = sp.startTimeUnixNano
    if x is not None:
        n = _u64(x)
        if n:
            add(b"\x39" + _pack_q(n))
    x = sp.endTimeUnixNano
    if x is not None:
        n = _u64(x)
        if n:
            add(b"\x41" + _pack_q(n))
    if sp.attributes:
        add(_kvs(b"\x4a", sp.attributes))
    if sp.droppedAttributesCount:
        add(b"\x50" + _varint(sp.droppedAttributesCount))
    if sp.events:
        out.extend(map(_event, sp.events))
    if sp.droppedEventsCount:
        add(b"\x60" + _varint(sp.droppedEventsCount))
    if sp.links:
        out.extend(map(_link, sp.links))
    if sp.droppedLinksCount:
        add(b"\x70" + _varint(sp.droppedLinksCount))
    if sp.status is not None:
        add(_status(sp.status))
    if sp.flags:
        add(b"\x85\x01" + _pack_i(sp.flags))
    body = b"".join(out)
    return b"\x12" + _varint(len(body)) + body


def _traces(doc: Any) -> bytes:
    out = []
    for rs in doc.resourceSpans:
        parts = [_container(b"\x0a", "resource", rs.resource)]
        for ss in rs.scopeSpans:
            scope = [_container(b"\x0a", "scope", ss.scope)]
            scope.extend(map(_span, ss.spans))
            if ss.schemaUrl:
                scope.append(_str(b"\x1a", ss.schemaUrl))
            parts.append(_msg(b"\x12", b"".join(scope)))
        if rs.schemaUrl:
            parts.append(_str(b"\x1a", rs.schemaUrl))
        out.append(_msg(b"\x0a", b"".join(parts)))
    return b"".join(out)


# -- logs -----------------------------------------------------------------------------------
def _log(lr: Any) -> bytes:
    out: list[bytes] = []
    add = out.append
    x = lr.timeUnixNano
    if x is not None:
        n = _u64(x)
        if n:
            add(b"\x09" + _pack_q(n))
    if lr.severityNumber:
        add(b"\x10" + _varint(lr.severityNumber))
    if lr.severityText:
        add(_str(b"\x1a", lr.severityText))
    x = lr.body
    if x and x != _NULL:
        add(_msg(b"\x2a", _body_wire(x)))
    if lr.attributes:
        add(_kvs(b"\x32", lr.attributes))
    if lr.droppedAttributesCount:
        add(b"\x38" + _varint(lr.droppedAttributesCount))
    if lr.flags:
        add(b"\x45" + _pack_i(lr.flags))
    x = lr.traceId
    if x:
        b = _fromhex(x)
        if len(b) == 16 and b.hex() == x:
            add(b"\x4a\x10" + b)
        else:
            b = _id(x)
            add(b"\x4a" + _varint(len(b)) + b)
    x = lr.spanId
    if x:
        b = _fromhex(x)
        if len(b) == 8 and b.hex() == x:
            add(b"\x52\x08" + b)
        else:
            b = _id(x)
            add(b"\x52" + _varint(len(b)) + b)
    x = lr.observedTimeUnixNano
    if x is not None:
        n = _u64(x)
        if n:
            add(b"\x59" + _pack_q(n))
    if lr.eventName:
        add(_str(b"\x62", lr.eventName))
    body = b"".join(out)
    return b"\x12" + _varint(len(body)) + body


def _logs(doc: Any) -> bytes:
    out = []
    for rl in doc.resourceLogs:
        parts = [_container(b"\x0a", "resource", rl.resource)]
        for sl in rl.scopeLogs:
            scope = [_container(b"\x0a", "scope", sl.scope)]
            scope.extend(map(_log, sl.logRecords))
            if sl.schemaUrl:
                scope.append(_str(b"\x1a", sl.schemaUrl))
            parts.append(_msg(b"\x12", b"".join(scope)))
        if rl.schemaUrl:
            parts.append(_str(b"\x1a", rl.schemaUrl))
        out.append(_msg(b"\x0a", b"".join(parts)))
    return b"".join(out)


# -- metrics --------------------------------------------------------------------------------
def _times(out: list[bytes], p: Any) -> None:
    x = p.startTimeUnixNano
    if x is not None:
        n = _u64(x)
        if n:
            out.append(b"\x11" + _pack_q(n))
    x = p.timeUnixNano
    if x is not None:
        n = _u64(x)
        if n:
            out.append(b"\x19" + _pack_q(n))


def _exemplar(e: Any) -> bytes:
    out: list[bytes] = []
    x = e.timeUnixNano
    if x is not None:
        n = _u64(x)
        if n:
            out.append(b"\x11" + _pack_q(n))
    if e.asDouble is not None:
        if e.asInt is not None:
            raise _Decline  # both members of the oneof: the careful path knows the order
        out.append(b"\x19" + _pack_d(e.asDouble))
    if e.spanId:
        b = _id(e.spanId)
        out.append(b"\x22" + _varint(len(b)) + b)
    if e.traceId:
        b = _id(e.traceId)
        out.append(b"\x2a" + _varint(len(b)) + b)
    if e.asInt is not None:
        out.append(b"\x31" + _pack_sq(_i64(e.asInt)))
    if e.filteredAttributes:
        out.append(_kvs(b"\x3a", e.filteredAttributes))
    return b"".join(out)


def _number_point(p: Any) -> bytes:
    out: list[bytes] = []
    _times(out, p)
    if p.asDouble is not None:
        if p.asInt is not None:
            raise _Decline
        out.append(b"\x21" + _pack_d(p.asDouble))
    for e in p.exemplars:
        out.append(_msg(b"\x2a", _exemplar(e)))
    if p.asInt is not None:
        out.append(b"\x31" + _pack_sq(_i64(p.asInt)))
    if p.attributes:
        out.append(_kvs(b"\x3a", p.attributes))
    if p.flags:
        out.append(b"\x40" + _varint(p.flags))
    return _msg(b"\x0a", b"".join(out))


def _histogram_point(p: Any) -> bytes:
    out: list[bytes] = []
    _times(out, p)
    x = p.count
    if x is not None:
        n = _u64(x)
        if n:
            out.append(b"\x21" + _pack_q(n))
    if p.sum is not None:
        out.append(b"\x29" + _pack_d(p.sum))
    if p.bucketCounts:
        counts = p.bucketCounts
        try:
            packed = struct.pack(f"<{len(counts)}Q", *map(int, counts))
        except (ValueError, struct.error):
            raise _Decline from None
        out.append(_msg(b"\x32", packed))
    if p.explicitBounds:
        bounds = p.explicitBounds
        out.append(_msg(b"\x3a", struct.pack(f"<{len(bounds)}d", *bounds)))
    for e in p.exemplars:
        out.append(_msg(b"\x42", _exemplar(e)))
    if p.attributes:
        out.append(_kvs(b"\x4a", p.attributes))
    if p.flags:
        out.append(b"\x50" + _varint(p.flags))
    if p.min is not None:
        out.append(b"\x59" + _pack_d(p.min))
    if p.max is not None:
        out.append(b"\x61" + _pack_d(p.max))
    return _msg(b"\x0a", b"".join(out))


def _metric(m: Any) -> bytes:
    out: list[bytes] = []
    if m.name:
        out.append(_str(b"\x0a", m.name))
    if m.description:
        out.append(_str(b"\x12", m.description))
    if m.unit:
        out.append(_str(b"\x1a", m.unit))
    kinds = 0
    if m.gauge is not None:
        kinds += 1
        out.append(_msg(b"\x2a", b"".join(map(_number_point, m.gauge.dataPoints))))
    if m.sum is not None:
        kinds += 1
        s = m.sum
        body = b"".join(map(_number_point, s.dataPoints))
        if s.aggregationTemporality:
            body += b"\x10" + _varint(s.aggregationTemporality)
        if s.isMonotonic:
            body += b"\x18\x01"
        out.append(_msg(b"\x3a", body))
    if m.histogram is not None:
        kinds += 1
        h = m.histogram
        body = b"".join(map(_histogram_point, h.dataPoints))
        if h.aggregationTemporality:
            body += b"\x10" + _varint(h.aggregationTemporality)
        out.append(_msg(b"\x4a", body))
    for what, raw in (
        ("exponentialHistogram", m.exponentialHistogram),
        ("summary", m.summary),
    ):
        if raw and raw != _NULL:
            kinds += 1
            out.append(_text_wire(what, raw))
    if kinds > 1:
        raise _Decline  # two kinds of data in one metric: the careful path knows the order
    if m.metadata and m.metadata != _NULL:
        out.append(_text_wire("metadata", m.metadata))
    return _msg(b"\x12", b"".join(out))


def _metrics(doc: Any) -> bytes:
    out = []
    for rm in doc.resourceMetrics:
        parts = [_container(b"\x0a", "resource", rm.resource)]
        for sm in rm.scopeMetrics:
            scope = [_container(b"\x0a", "scope", sm.scope)]
            scope.extend(map(_metric, sm.metrics))
            if sm.schemaUrl:
                scope.append(_str(b"\x1a", sm.schemaUrl))
            parts.append(_msg(b"\x12", b"".join(scope)))
        if rm.schemaUrl:
            parts.append(_str(b"\x1a", rm.schemaUrl))
        out.append(_msg(b"\x0a", b"".join(parts)))
    return b"".join(out)


# -- the entry point ------------------------------------------------------------------------
#: What makes a line decline (the careful path then reads it, and says what is wrong).
_ERRORS = (
    msgspec.DecodeError,
    _Decline,
    ValueError,
    UnicodeError,
    TypeError,
    RecursionError,
    KeyError,
    IndexError,
)


def _encoder() -> Callable[[bytes], tuple[Signal, bytes] | None]:
    decoders = (
        (b'{"resourceSpans":', msgspec.json.Decoder(TracesData).decode, _traces, Signal.TRACES),
        (b'{"resourceLogs":', msgspec.json.Decoder(LogsData).decode, _logs, Signal.LOGS),
        (
            b'{"resourceMetrics":',
            msgspec.json.Decoder(MetricsData).decode,
            _metrics,
            Signal.METRICS,
        ),
    )
    errors = _ERRORS

    def encode_line(line: bytes) -> tuple[Signal, bytes] | None:
        """(signal, wire bytes) of one canonical OTLP/JSON document; None: read it carefully."""
        for head, decode, encode, signal in decoders:
            if line.startswith(head):
                try:
                    return signal, encode(decode(line))
                except errors:
                    return None
        return None

    return encode_line


#: ``encode_line(line)``: see the module docstring.
encode_line = _encoder()
_KV_DECODE: Callable[[bytes], Any] = msgspec.json.Decoder(_KV).decode
_KVS_DECODE: Callable[[bytes], Any] = msgspec.json.Decoder(list[_KV]).decode


# -- prepared documents: what the hot loop's facts need, without wire bytes -----------------
# ``prepare_line`` reads a canonical document into per-scope columns (the encoded KeyValues
# of each scope in record order, the id rows...), validating every field as the encoder
# would, and declines (None) whatever needs a record-by-record reading in the hot loop (an
# id to report, a rare kind of point): that line takes ``encode_line`` instead.
# ``observe_structs.fold`` folds a prepared document into a Corpus.
_ATTRS = attrgetter("attributes")
_EVENTS = attrgetter("events")
_LINKS = attrgetter("links")
_TID = attrgetter("traceId")
_SID = attrgetter("spanId")
_PID = attrgetter("parentSpanId")
_KIND = attrgetter("kind")
_FLAGS = attrgetter("flags")
_START = attrgetter("startTimeUnixNano")
_END = attrgetter("endTimeUnixNano")
_TIME = attrgetter("timeUnixNano")
_OBSERVED = attrgetter("observedTimeUnixNano")
_BODY = attrgetter("body")
_POINTS = attrgetter("dataPoints")
_EXEMPLARS = attrgetter("exemplars")
_FILTERED = attrgetter("filteredAttributes")
_COUNT = attrgetter("count")
_BUCKETS = attrgetter("bucketCounts")
_ROOT = {"": "0" * 16}
_ZERO_TID, _ZERO_SID = "0" * 32, "0" * 16
_chain = chain.from_iterable


def _wires(raws: Iterable[Any]) -> list[bytes]:
    """The encoded KeyValues of JSON KeyValue texts, in order (_Decline if one is not canonical)."""
    texts = list(map(bytes, raws))
    cache = _KV_WIRE
    try:
        return list(map(cache.__getitem__, texts))
    except KeyError:
        pass
    missing = set(texts).difference(cache)
    if len(cache) + len(missing) > _CACHE_LIMIT:
        cache.clear()
        missing = set(texts)
    _fill(missing)
    return list(map(cache.__getitem__, texts))


def _fill(texts: set[bytes]) -> None:
    """Encode KeyValue texts new to the cache: plain scalars in one typed decode, the rest
    (and all of them, when one is not plain) one at a time."""
    cache = _KV_WIRE
    batch = list(texts)
    try:
        kvs = _KVS_DECODE(b"[" + b",".join(batch) + b"]")
    except msgspec.DecodeError:
        kvs = None
    if kvs is not None:
        plain = _plain_kv
        for text, kv in zip(batch, kvs, strict=True):
            wire = plain(kv)
            cache[text] = wire if wire is not None else _careful_wire("kv", text)
        return
    for text in batch:
        cache[text] = _kv_wire(text)


def _u64s(values: list[Any]) -> None:
    """Validate 64-bit unsigned values (None: absent) as the encoder reads them."""
    try:
        joined = "".join(values)
    except TypeError:  # numbers or absent ones among them
        for v in values:
            if v is not None:
                _u64(v)
        return
    if joined.isdigit() and joined.isascii() and max(map(len, values)) < 20 and "" not in values:
        return
    for v in values:
        _u64(v)


def _id_column(ids: list[str], width: int, zero: str) -> bytes:
    """Ids of ``width`` hex digits each, canonical and not all zeros, as one bytes; else _Decline."""
    if set(map(len, ids)) != {width} or zero in ids:
        raise _Decline
    joined = "".join(ids)
    raw = _fromhex(joined)
    if raw.hex() != joined:
        raise _Decline
    return raw


@dataclass
class SpanScope:
    """One scope's spans, ready for the span table."""

    n: int
    attrs: list[bytes]  # every span's encoded attributes, in span order
    event_attrs: list[bytes]
    ids: bytes  # trace id + span id, 24 bytes a span
    parents: bytes  # 8 bytes a span, zeros for a root
    kinds: bytes
    flags: array[int]
    links: bytes  # (span ids, linked trace id, linked span id) rows of CONSUMER/SERVER spans
    spans: list[Any]  # the Structs, for the per-span readings (addresses) the columns cannot give

    def records(self) -> list[Any]:
        """The spans as the hot loop reads them one by one: kind and encoded attributes."""
        out = []
        at = 0
        for sp, kind in zip(self.spans, self.kinds, strict=True):
            k = len(sp.attributes)
            out.append(_Record(kind, self.attrs[at : at + k]))
            at += k
        return out


@dataclass
class _Record:
    kind: int
    attributes: list[bytes]


@dataclass
class LogScope:
    """One scope's log records."""

    n: int
    attrs: list[bytes]
    bodies: list[bytes]  # the encoded bodies of the records that have one
    rows: bytes  # trace id + span id of the records that have ids
    has_ids: list[bool]
    records: list[Any]

    def attributes(self) -> list[list[bytes]]:
        """Each record's encoded attributes."""
        out = []
        at = 0
        for lr in self.records:
            k = len(lr.attributes)
            out.append(self.attrs[at : at + k])
            at += k
        return out


@dataclass
class Prepared:
    """A canonical document read into columns: per resource, its encoded bytes and its scopes.

    Metrics: per resource (resource, points' encoded attributes, exemplar id rows,
    points, exemplars).
    """

    signal: Signal
    resources: list[tuple[bytes, Any]]


def _prepare_spans(ss: Any) -> SpanScope:
    spans = ss.spans
    n = len(spans)
    attrs = _wires(_chain(map(_ATTRS, spans)))
    event_attrs: list[bytes] = []
    links = b""
    if n:
        tids = _id_column(list(map(_TID, spans)), 32, _ZERO_TID)
        sids = _id_column(list(map(_SID, spans)), 16, _ZERO_SID)
        ids = bytes(gather(n, (tids, 16, 0, 16), (sids, 8, 0, 8)))
        pids = list(map(_PID, spans))
        if not set(map(len, pids)) <= {0, 16} or _ZERO_SID in pids:
            raise _Decline
        joined = "".join(map(_ROOT.get, pids, pids))
        parents = _fromhex(joined)
        if parents.hex() != joined:
            raise _Decline
        kinds = bytes(map(_KIND, spans))  # (ValueError past 255: declined)
        flags = array("I", map(_FLAGS, spans))
        _u64s(list(map(_START, spans)))
        _u64s(list(map(_END, spans)))
        if any(map(_EVENTS, spans)):
            events = list(_chain(map(_EVENTS, spans)))
            _u64s(list(map(_TIME, events)))
            event_attrs = _wires(_chain(map(_ATTRS, events)))
        if any(map(_LINKS, spans)):
            links = _link_rows(spans, kinds, ids)
    else:
        ids = parents = kinds = b""
        flags = array("I")
    return SpanScope(n, attrs, event_attrs, ids, parents, kinds, flags, links, spans)


def _link_rows(spans: list[Any], kinds: bytes, ids: bytes) -> bytes:
    """Validate every link; the (span, linked span) rows the hot loop keeps (CONSUMER/SERVER spans)."""
    rows = []
    for i, sp in enumerate(spans):
        for ln in sp.links:
            tid = _id(ln.traceId) if ln.traceId else b""
            sid = _id(ln.spanId) if ln.spanId else b""
            _wires(ln.attributes)
            if (
                kinds[i] in (CONSUMER, SERVER)
                and len(tid) == 16
                and len(sid) == 8
                and tid != _ZERO16
                and sid != _ZERO8
            ):
                rows.append(ids[24 * i : 24 * i + 24] + tid + sid)
    return b"".join(rows)


_ZERO16, _ZERO8 = bytes(16), bytes(8)


def _prepare_traces(doc: Any) -> Prepared:
    out = []
    for rs in doc.resourceSpans:
        res = _text_wire("resource", rs.resource) if rs.resource and rs.resource != _NULL else b""
        scopes = []
        for ss in rs.scopeSpans:
            if ss.scope and ss.scope != _NULL:
                _text_wire("scope", ss.scope)
            scopes.append(_prepare_spans(ss))
        out.append((res, scopes))
    return Prepared(Signal.TRACES, out)


def _body_wire(raw: Any) -> bytes:
    text = bytes(raw)
    key = ("body", text)
    wire = _TEXT_WIRE.get(key)
    if wire is not None:
        return wire
    try:
        plain = _plain_any(_ANY_DECODE(text))
    except msgspec.DecodeError:
        plain = None
    if plain is None:
        return _text_wire("body", raw)
    if len(_TEXT_WIRE) > _CACHE_LIMIT // 10:
        _TEXT_WIRE.clear()
    _TEXT_WIRE[key] = plain
    return plain


def _prepare_logs_scope(sl: Any) -> LogScope:
    records = sl.logRecords
    attrs = _wires(_chain(map(_ATTRS, records)))
    bodies = [_body_wire(b) for b in map(_BODY, records) if b and b != _NULL]
    _u64s(list(map(_TIME, records)))
    _u64s(list(map(_OBSERVED, records)))
    tids = list(map(_TID, records))
    sids = list(map(_SID, records))
    has = list(map(bool, tids))
    if list(map(bool, sids)) != has:
        raise _Decline  # one id without the other: the hot loop reads those records
    if not any(has):
        rows = b""
    elif all(has):
        rows = bytes(
            gather(
                len(tids),
                (_id_column(tids, 32, _ZERO_TID), 16, 0, 16),
                (_id_column(sids, 16, _ZERO_SID), 8, 0, 8),
            )
        )
    else:
        t = list(compress(tids, has))
        rows = bytes(
            gather(
                len(t),
                (_id_column(t, 32, _ZERO_TID), 16, 0, 16),
                (_id_column(list(compress(sids, has)), 16, _ZERO_SID), 8, 0, 8),
            )
        )
    return LogScope(len(records), attrs, bodies, rows, has, records)


def _prepare_logs(doc: Any) -> Prepared:
    out = []
    for rl in doc.resourceLogs:
        res = _text_wire("resource", rl.resource) if rl.resource and rl.resource != _NULL else b""
        scopes = []
        for sl in rl.scopeLogs:
            if sl.scope and sl.scope != _NULL:
                _text_wire("scope", sl.scope)
            scopes.append(_prepare_logs_scope(sl))
        out.append((res, scopes))
    return Prepared(Signal.LOGS, out)


def _prepare_metrics(doc: Any) -> Prepared:
    out = []
    for rm in doc.resourceMetrics:
        res = _text_wire("resource", rm.resource) if rm.resource and rm.resource != _NULL else b""
        attrs: list[bytes] = []
        rows: list[bytes] = []
        n = n_ex = 0
        for sm in rm.scopeMetrics:
            if sm.scope and sm.scope != _NULL:
                _text_wire("scope", sm.scope)
            by_kind: dict[str, list[Any]] = {"gauge": [], "sum": [], "histogram": []}
            for m in sm.metrics:
                if m.exponentialHistogram or m.summary:
                    raise _Decline  # (rare kinds: the encoder and the hot loop read them)
                if m.metadata and m.metadata != _NULL:
                    _text_wire("metadata", m.metadata)
                data = [
                    (k, d)
                    for k, d in (("gauge", m.gauge), ("sum", m.sum), ("histogram", m.histogram))
                    if d is not None
                ]
                if len(data) > 1:
                    raise _Decline
                if data:
                    kind, d = data[0]
                    by_kind[kind].append(d.dataPoints)
                    n += len(d.dataPoints)
            for kind, lists in by_kind.items():
                if not lists:
                    continue
                points = list(_chain(lists))
                attrs += _wires(_chain(map(_ATTRS, points)))
                _u64s(list(map(_START, points)))
                _u64s(list(map(_TIME, points)))
                if kind == "histogram":
                    # (what the columns do not read is validated as the encoder reads it)
                    _u64s(list(map(_COUNT, points)))
                    _u64s(list(_chain(map(_BUCKETS, points))))
                else:
                    for p in points:
                        if p.asInt is not None:
                            if p.asDouble is not None:
                                raise _Decline
                            _i64(p.asInt)
                exemplars = list(_chain(map(_EXEMPLARS, points)))
                if exemplars:
                    n_ex += len(exemplars)
                    rows.append(_exemplar_rows(exemplars))
        out.append((res, (attrs, b"".join(rows), n, n_ex)))
    return Prepared(Signal.METRICS, out)


def _exemplar_rows(exemplars: list[Any]) -> bytes:
    """The id rows of a kind of points' exemplars (each timed, with both ids or neither)."""
    times = list(map(_TIME, exemplars))
    if None in times or not all(map(_u64, times)):
        raise _Decline  # (an exemplar without a time is counted by the hot loop's own reading)
    for e in exemplars:
        if e.asInt is not None:
            if e.asDouble is not None:
                raise _Decline
            _i64(e.asInt)
    _wires(_chain(map(_FILTERED, exemplars)))
    tids = list(map(_TID, exemplars))
    sids = list(map(_SID, exemplars))
    has = list(map(bool, tids))
    if list(map(bool, sids)) != has:
        raise _Decline
    if not all(has):
        tids, sids = list(compress(tids, has)), list(compress(sids, has))
    if not tids:
        return b""
    return bytes(
        gather(
            len(tids),
            (_id_column(tids, 32, _ZERO_TID), 16, 0, 16),
            (_id_column(sids, 16, _ZERO_SID), 8, 0, 8),
        )
    )


def _preparer() -> Callable[[bytes], Prepared | None]:
    decoders = (
        (b'{"resourceSpans":', msgspec.json.Decoder(TracesData).decode, _prepare_traces),
        (b'{"resourceLogs":', msgspec.json.Decoder(LogsData).decode, _prepare_logs),
        (b'{"resourceMetrics":', msgspec.json.Decoder(MetricsData).decode, _prepare_metrics),
    )
    errors = _ERRORS

    def prepare_line(line: bytes) -> Prepared | None:
        """One canonical OTLP/JSON document read into columns; None: encode it, or read it carefully."""
        for head, decode, prepare in decoders:
            if line.startswith(head):
                try:
                    return prepare(decode(line))
                except errors:
                    return None
        return None

    return prepare_line


def _plain_any(v: Any) -> bytes | None:
    """An AnyValue of one scalar, encoded; None when it is anything else."""
    s, b, i, d = v.stringValue, v.boolValue, v.intValue, v.doubleValue
    if (s is not None) + (b is not None) + (i is not None) + (d is not None) != 1:
        return None
    if s is not None:
        return _str(b"\x0a", s)
    if b is not None:
        return b"\x10\x01" if b else b"\x10\x00"
    if i is not None:
        try:
            n = _i64(i)
        except (ValueError, _Decline):
            return None
        return b"\x18" + _varint(n if n >= 0 else n + (1 << 64))
    return b"\x21" + _pack_d(d)


#: ``prepare_line(line)``: see above.
prepare_line = _preparer()
_ANY_DECODE: Callable[[bytes], Any] = msgspec.json.Decoder(_Any).decode
