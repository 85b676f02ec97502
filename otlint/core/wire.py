"""OTLP on the wire, read without protobuf classes: field walks, AnyValue and Resource
decoding, the span kinds and the attribute keys otlint watches.

Everything here works on encoded bytes, so the rules, the analysis and the config
checks can use it without loading protobuf (``check-config`` never does), and
``observe`` uses it for the few values it decodes by hand.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

#: AnyValue oneof field number -> type name.
VALUE_TYPES = ("empty", "string", "bool", "int", "double", "array", "kvlist", "bytes")


# Span kinds (opentelemetry.proto.trace.v1.Span.SpanKind).
INTERNAL, SERVER, CLIENT, PRODUCER, CONSUMER = 1, 2, 3, 4, 5

#: Attribute keys that say which service a client span calls or a server span serves.
ADDRESS_KEYS = frozenset(
    k.encode()
    for k in (
        "server.address",
        "server.port",
        "peer.service",
        "service.peer.name",
        "net.peer.name",
        "net.peer.port",
        "net.host.name",
        "net.host.port",
        "http.host",
        "messaging.destination.name",
    )
)

#: Log attribute keys that carry trace or span ids as plain attributes.
#: Address keys whose semantic-convention replacement depends on the span's kind
#: (``net.peer.name`` is ``server.address`` on CLIENT spans, ``client.address`` on SERVER
#: spans): observe counts the kinds of the spans that carry them.
KIND_KEYS = frozenset({b"net.peer.name", b"net.peer.port"})

LOG_ID_KEYS = frozenset(
    k.encode()
    for k in (
        "trace_id",
        "traceid",
        "traceId",
        "TraceId",
        "trace.id",
        "span_id",
        "spanid",
        "spanId",
        "SpanId",
        "span.id",
        "dd.trace_id",
        "dd.span_id",
        "otel.trace_id",
        "otel.span_id",
        "otelTraceID",
        "otelSpanID",
        "logging.googleapis.com/trace",
        "logging.googleapis.com/spanId",
        "x-b3-traceid",
        "x-b3-spanid",
        "traceparent",
    )
)


# -- wire-format helpers --------------------------------------------------------
def _varint(buf: bytes | memoryview, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(buf):
            raise ValueError("truncated varint")
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if b < 0x80:
            return result, pos
        shift += 7
        if shift > 63:
            raise ValueError("varint too long")


def wire_fields(buf: bytes | memoryview) -> Iterator[tuple[int, int, Any]]:
    """Yield (field number, wire type, value) of a protobuf message's top-level fields.

    The value's type follows the wire type: an ``int`` for varint and fixed fields, a
    slice of ``buf`` for length-delimited ones.
    """
    pos, end = 0, len(buf)
    while pos < end:
        tag, pos = _varint(buf, pos)
        if tag < 8:
            raise ValueError("field number 0: not protobuf")  # (zero bytes end the walk at once)
        num, wt = tag >> 3, tag & 7
        val: Any
        if wt == 0:
            val, pos = _varint(buf, pos)
        elif wt == 1:
            val = int.from_bytes(buf[pos : pos + 8], "little")
            pos += 8
        elif wt == 2:
            n, pos = _varint(buf, pos)
            if pos + n > end:
                raise ValueError("truncated length-delimited field")
            val = buf[pos : pos + n]
            pos += n
        elif wt == 5:
            val = int.from_bytes(buf[pos : pos + 4], "little")
            pos += 4
        else:
            raise ValueError(f"unsupported wire type {wt}")
        if pos > end:
            raise ValueError("truncated field")
        yield num, wt, val


#: How deep AnyValues may nest (an ``arrayValue`` or ``kvlistValue`` inside another) before
#: a value is refused. Protobuf parsers stop at 100 message levels, two per AnyValue level
#: (Java and Python refuse deeper), so no exporter writes more; the bound keeps hostile
#: input from exhausting the stack.
MAX_VALUE_DEPTH = 64


class NestingTooDeep(ValueError):
    """An AnyValue nests arrays or key-value lists deeper than ``MAX_VALUE_DEPTH``."""

    def __init__(self) -> None:
        super().__init__(
            f"an attribute value nests arrayValue/kvlistValue more than {MAX_VALUE_DEPTH}"
            " levels deep: protobuf readers refuse such a message; flatten the value"
        )


#: The wire type each AnyValue field has (a field with another is skipped, as protobuf
#: parsers skip a field they cannot read as declared).
_ANY_WIRE = (-1, 2, 0, 0, 1, 2, 2, 2)


def decode_anyvalue(buf: bytes, depth: int = 0) -> tuple[str, object]:
    """Decode an encoded AnyValue into (type name, Python value).

    The value is a ``str``, ``bool``, ``int``, ``float``, ``bytes``, a list of values
    (array), a ``dict`` of str to values (kvlist), or None (empty). Raises
    ``NestingTooDeep`` past ``MAX_VALUE_DEPTH`` levels of arrays and lists (``depth``:
    the levels above this one), ``ValueError`` on bytes that are no protobuf.
    """
    kind: str = "empty"
    value: object = None
    for num, wt, val in wire_fields(buf):
        if num > 7 or wt != _ANY_WIRE[num]:
            continue
        if num == 1:
            kind, value = "string", bytes(val).decode("utf-8", "replace")
        elif num == 2:
            kind, value = "bool", bool(val)
        elif num == 3:
            kind, value = "int", val - (1 << 64) if val >= 1 << 63 else val
        elif num == 4:
            import struct

            kind, value = "double", struct.unpack("<d", val.to_bytes(8, "little"))[0]
        elif num == 5:
            if depth >= MAX_VALUE_DEPTH:
                raise NestingTooDeep
            kind, value = (
                "array",
                [
                    decode_anyvalue(v, depth + 1)[1]
                    for n, w, v in wire_fields(val)
                    if n == 1 and w == 2
                ],
            )
        elif num == 6:
            if depth >= MAX_VALUE_DEPTH:
                raise NestingTooDeep
            kind, value = (
                "kvlist",
                {
                    k: v[1]
                    for k, v in (
                        decode_keyvalue(x, depth + 1)
                        for n, w, x in wire_fields(val)
                        if n == 1 and w == 2
                    )
                },
            )
        else:
            kind, value = "bytes", bytes(val)
    return kind, value


def decode_keyvalue(buf: bytes, depth: int = 0) -> tuple[str, tuple[str, object]]:
    """Decode an encoded KeyValue into (key, (type name, value)); raises as ``decode_anyvalue``."""
    value: tuple[str, object]
    key, value = "", ("empty", None)
    for num, wt, val in wire_fields(buf):
        if wt != 2:
            continue
        if num == 1:
            key = bytes(val).decode("utf-8", "replace")
        elif num == 2:
            value = decode_anyvalue(val, depth)
    return key, value


def decode_resource(buf: bytes) -> dict[str, tuple[str, object]]:
    """Decode an encoded Resource into {key: (type name, value)}; bad bytes give {}.

    A value nested too deep is no bad bytes: ``NestingTooDeep`` goes up, and the reader
    reports the record that holds the resource.
    """
    attrs: dict[str, tuple[str, object]] = {}
    try:
        for num, wt, val in wire_fields(buf):
            if num == 1 and wt == 2:
                key, value = decode_keyvalue(val)
                attrs[key] = value
    except NestingTooDeep:
        raise
    except (ValueError, IndexError):
        pass
    return attrs


def invalid_utf8_keys(resource: bytes) -> list[str]:
    """Keys of an encoded Resource whose key or string value is not valid UTF-8."""
    bad = []
    try:
        for num, wt, kv in wire_fields(resource):
            if num != 1 or wt != 2:
                continue
            key = b""
            ok = True
            for f, w, val in wire_fields(kv):
                if w != 2:
                    continue
                if f == 1:
                    key = bytes(val)
                elif f == 2:
                    for vf, vw, v in wire_fields(val):
                        if vf == 1 and vw == 2:
                            ok = is_utf8(bytes(v))
            if not (ok and is_utf8(key)):
                bad.append(key.decode("utf-8", "backslashreplace"))
    except (ValueError, IndexError):
        return bad
    return bad


def is_utf8(raw: bytes) -> bool:
    """Whether ``raw`` decodes as UTF-8."""
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def key_and_type(kv: bytes) -> tuple[bytes, int]:
    """(key, AnyValue type number) of an encoded KeyValue, without decoding the value."""
    n = kv[1] if len(kv) > 1 else 128
    if kv[:1] == b"\n" and n < 128 and len(kv) >= 2 + n:
        p = 2 + n
        if len(kv) == p:
            return kv[2:p], 0
        if kv[p] == 0x12 and len(kv) > p + 1:
            m = kv[p + 1]
            if m == 0:
                return kv[2:p], 0
            if m < 128 and len(kv) > p + 2:
                return kv[2:p], kv[p + 2] >> 3
    raw_key = b""
    t = 0
    for num, wt, val in wire_fields(kv):
        if wt != 2:
            continue
        if num == 1:
            raw_key = bytes(val)
        elif num == 2:
            t = 0
            for vnum, _vwt, _vv in wire_fields(val):
                t = vnum
    return raw_key, t


def value_type_name(t: int) -> str:
    """Name of an AnyValue type number."""
    return VALUE_TYPES[t] if 0 <= t < len(VALUE_TYPES) else f"field-{t}"
