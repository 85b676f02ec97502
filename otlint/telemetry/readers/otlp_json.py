"""OTLP/JSON document -> protobuf wire bytes, leniently, with a list of deviations.

``convert`` takes one parsed ``TracesData`` / ``MetricsData`` / ``LogsData`` document
(what ``json.loads`` returns) and builds the same message with the generated protobuf
classes, so the rest of otlint only ever sees wire bytes.

Why not ``google.protobuf.json_format``: it reads ids as base64 (OTLP/JSON ids are
hex), which silently corrupts every trace and span id, it rejects what real dumps
contain (legacy field names, base64 ids) instead of reporting them, and it is about
ten times slower.

How it stays fast: every hot record type (span, event, link, log record, number data
point, attribute) has a *fast path*, straight-line code that assumes canonical
OTLP/JSON and raises at the first surprise (an unknown or snake_case key, uppercase
hex, a number where a string belongs...). A record that raises is cleared and read
again by the *careful path*: a table per message type, built once from the protobuf
descriptors, that maps every accepted spelling of a key to a converter which accepts
what it can and records a ``Deviation``. Canonical input never touches the careful
path.

Deviation messages name the JSON path of the first occurrence. Paths are not tracked
while converting (that would cost on every record); the careful path remembers the
JSON object that held the first occurrence and the path is found by identity once, at
the end, and only for documents that have deviations.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from opentelemetry.proto.common.v1 import common_pb2
from opentelemetry.proto.logs.v1 import logs_pb2
from opentelemetry.proto.metrics.v1 import metrics_pb2
from opentelemetry.proto.resource.v1 import resource_pb2
from opentelemetry.proto.trace.v1 import trace_pb2

from otlint.telemetry.corpus.corpus import Signal

__all__ = ["Deviation", "NoOtlpDocument", "NotOtlp", "convert"]

ID_ENCODING = "id-encoding"
NONCANONICAL = "noncanonical"


@dataclass
class Deviation:
    """One way a document departs from canonical OTLP/JSON, counted over the document."""

    kind: str  # "id-encoding" | "noncanonical": which rule reports it
    detail: str  # short machine id, e.g. "base64-id", "snake-case-key", "enum-name"
    message: str  # one sentence naming the JSON path of the first occurrence
    count: int  # occurrences of this (kind, detail) in the document


class NotOtlp(ValueError):
    """The document is not an OTLP TracesData/MetricsData/LogsData (message says why and what to do)."""


class NoOtlpDocument(NotOtlp):
    """Valid JSON that is no OTLP document at all (an app's log line, a ``package.json``).

    The other ``NotOtlp`` errors are OTLP documents that are broken: two signals in one,
    a list where an object belongs. Readers skip this one and report those.
    """


# -- bookkeeping -----------------------------------------------------------------------
_BAD: Any = object()  # a parser's "could not read this value" (already recorded)


class _Slow(Exception):
    """Raised by a fast path: read this record again with the careful path."""


# What each detail says after the JSON path. {v}: the value seen, {x}: detail-specific.
_TEMPLATES = {
    "base64-id": " is base64 ({v}), not hex: OTLP/JSON ids are hex strings; read as base64",
    "non-hex-id": " is neither a hex nor a base64 id ({v}): OTLP/JSON ids are hex strings; kept as its raw text bytes",
    "uppercase-hex": " is uppercase hex ({v}): accepted, since hex is case-insensitive, but exporters write lowercase",
    "snake-case-key": " is a snake_case key: OTLP/JSON keys are lowerCamelCase ({x}); read as {x}",
    "legacy-field": " is a pre-1.0 OTLP field name: read as {x}; the exporter predates OTLP 1.0",
    "enum-name": " is the enum name {v}: OTLP/JSON enums MUST be integers; read as {x}",
    "bad-enum": " is not a {x} value ({v}): left unset",
    "number-as-string": " is a number written as a string ({v}): OTLP/JSON writes it as a JSON number; read as a number",
    "bad-number": " is not a valid {x} ({v}): left unset",
    "bad-value": " is a JSON {v} where {x} belongs: left unset",
    "unknown-field": (
        " is not a metric type of OTLP 1.x (gauge, sum, histogram, exponentialHistogram, summary):"
        " this metric's data points were not read"
    ),
}


class _Ctx:
    """Deviations of one document: (kind, detail) -> [count, holder, key, value, extra]."""

    __slots__ = ("devs", "doc")

    def __init__(self, doc: Any) -> None:
        self.doc = doc
        self.devs: dict[tuple[str, str], list[Any]] = {}

    def dev(
        self, kind: str, detail: str, holder: Any, key: Any, value: Any = None, extra: str = ""
    ) -> None:
        """Count one deviation; ``holder[key]`` is where it is, kept for the first one only."""
        entry = self.devs.get((kind, detail))
        if entry is None:
            self.devs[kind, detail] = [1, holder, key, value, extra]
        else:
            entry[0] += 1

    def deviations(self) -> list[Deviation]:
        """The counted deviations, each message naming its first occurrence's JSON path."""
        out = []
        for (kind, detail), (count, holder, key, value, extra) in self.devs.items():
            where = _join(_path_of(self.doc, holder), key)
            text = _TEMPLATES[detail].format(v=_show(value), x=extra)
            out.append(Deviation(kind, detail, where + text, count))
        return out

    def not_container(self, holder: Any, key: Any, value: Any, want: str) -> NotOtlp:
        """The NotOtlp for a value at ``holder[key]`` that should be a list or an object."""
        where = _join(_path_of(self.doc, holder), key)
        return NotOtlp(
            f"{where} is a JSON {_jtype(value)} where {want} belongs: "
            "this is not an OTLP/JSON TracesData, MetricsData or LogsData document"
        )


def _jtype(v: Any) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "boolean"
    if isinstance(v, int | float):
        return "number"
    if isinstance(v, str):
        return "string"
    if isinstance(v, list):
        return "array"
    if isinstance(v, dict):
        return "object"
    return type(v).__name__


def _show(v: Any) -> str:
    text = repr(v) if isinstance(v, str) else str(v)
    return text if len(text) <= 60 else text[:57] + "..."


def _join(path: str, key: Any) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else str(key)


def _path_of(root: Any, target: Any) -> str:
    """JSON path of the object ``target`` inside ``root``, found by identity, in document order."""
    stack: list[tuple[Any, str]] = [(root, "")]
    while stack:
        node, path = stack.pop()
        if node is target:
            return path
        if isinstance(node, dict):
            for k, v in reversed(node.items()):
                if isinstance(v, dict | list):
                    stack.append((v, _join(path, k)))
        elif isinstance(node, list):
            for i in range(len(node) - 1, -1, -1):
                v = node[i]
                if isinstance(v, dict | list):
                    stack.append((v, f"{path}[{i}]"))
    return "?"


# -- careful parsers: (ctx, value, holder, key) -> value or _BAD --------------------------
_Parse = Callable[[_Ctx, Any, Any, Any], Any]
# A converter sets field ``name`` of ``msg`` from ``value`` found at ``holder[key]``.
_Conv = Callable[[_Ctx, Any, str, Any, Any, Any], None]
# JSON key -> (proto field name, converter, deviation detail for this spelling or None,
# canonical JSON key).
_Table = dict[str, tuple[str, _Conv, str | None, str]]

_SPECIAL_DOUBLES = {"NaN": float("nan"), "Infinity": float("inf"), "-Infinity": float("-inf")}


def _p_str(ctx: _Ctx, v: Any, holder: Any, key: Any) -> Any:
    if isinstance(v, str):
        return v
    ctx.dev(NONCANONICAL, "bad-value", holder, key, _jtype(v), "a string")
    return _BAD


def _p_bool(ctx: _Ctx, v: Any, holder: Any, key: Any) -> Any:
    if isinstance(v, bool):
        return v
    ctx.dev(NONCANONICAL, "bad-value", holder, key, _jtype(v), "true or false")
    return _BAD


def _int_text(v: str) -> int | None:
    try:
        return int(v)
    except ValueError:
        pass
    # Proto3 JSON also accepts an integral number in exponent or decimal form.
    try:
        f = float(v)
    except ValueError:
        return None
    return int(f) if f.is_integer() else None


def _p_int64(ctx: _Ctx, v: Any, holder: Any, key: Any) -> Any:
    # 64-bit integers are decimal strings in OTLP/JSON; proto3 JSON also accepts numbers.
    if isinstance(v, bool):
        ctx.dev(NONCANONICAL, "bad-value", holder, key, "boolean", "an integer")
        return _BAD
    if isinstance(v, int):
        return v
    n = (
        _int_text(v)
        if isinstance(v, str)
        else (int(v) if isinstance(v, float) and v.is_integer() else None)
    )
    if n is None:
        ctx.dev(NONCANONICAL, "bad-number", holder, key, v, "64-bit integer")
        return _BAD
    return n


def _p_int32(ctx: _Ctx, v: Any, holder: Any, key: Any) -> Any:
    # 32-bit integers are JSON numbers; a string is accepted by proto3 JSON but is not canonical.
    if isinstance(v, bool):
        ctx.dev(NONCANONICAL, "bad-value", holder, key, "boolean", "an integer")
        return _BAD
    if isinstance(v, int):
        return v
    if isinstance(v, float) and v.is_integer():
        return int(v)
    if isinstance(v, str):
        n = _int_text(v)
        if n is not None:
            ctx.dev(NONCANONICAL, "number-as-string", holder, key, v)
            return n
    ctx.dev(NONCANONICAL, "bad-number", holder, key, v, "32-bit integer")
    return _BAD


def _p_double(ctx: _Ctx, v: Any, holder: Any, key: Any) -> Any:
    if isinstance(v, bool):
        ctx.dev(NONCANONICAL, "bad-value", holder, key, "boolean", "a number")
        return _BAD
    if isinstance(v, float):
        return v
    if isinstance(v, int):
        try:
            return float(v)
        except OverflowError:
            ctx.dev(NONCANONICAL, "bad-number", holder, key, v, "double")
            return _BAD
    if isinstance(v, str):
        special = _SPECIAL_DOUBLES.get(v)
        if special is not None:
            # JSON has no literal for these: the string form is the canonical one.
            return special
        try:
            f = float(v)
        except ValueError:
            ctx.dev(NONCANONICAL, "bad-number", holder, key, v, "double")
            return _BAD
        ctx.dev(NONCANONICAL, "number-as-string", holder, key, v)
        return f
    ctx.dev(NONCANONICAL, "bad-value", holder, key, _jtype(v), "a number")
    return _BAD


def _b64(text: str) -> bytes | None:
    """Proto3 JSON bytes: standard or URL-safe base64, padding optional."""
    s = text.replace("-", "+").replace("_", "/")
    s += "=" * (-len(s) % 4)
    try:
        return base64.b64decode(s, validate=True)
    except (binascii.Error, ValueError):
        return None


def _p_bytes(ctx: _Ctx, v: Any, holder: Any, key: Any) -> Any:
    if isinstance(v, str):
        raw = _b64(v)
        if raw is not None:
            return raw
        ctx.dev(NONCANONICAL, "bad-value", holder, key, "string that is not base64", "base64 bytes")
        return _BAD
    ctx.dev(NONCANONICAL, "bad-value", holder, key, _jtype(v), "a base64 string")
    return _BAD


def _id_parser(size: int) -> _Parse:
    """Parser of a trace id (``size`` 16) or span id (8): hex, any case; base64; else raw text."""

    def parse(ctx: _Ctx, v: Any, holder: Any, key: Any) -> Any:
        if isinstance(v, int | float) and not isinstance(v, bool):
            # A JSON number is never an id; its digits might pass for hex, so say so.
            ctx.dev(ID_ENCODING, "non-hex-id", holder, key, v)
            return str(v).encode()
        if not isinstance(v, str):
            ctx.dev(NONCANONICAL, "bad-value", holder, key, _jtype(v), "a hex id string")
            return _BAD
        if not v:
            return b""
        try:
            raw: bytes | None = bytes.fromhex(v)
        except ValueError:
            raw = None
        if raw is not None:
            h = raw.hex()
            if h == v:
                return raw
            if h == v.lower():
                ctx.dev(NONCANONICAL, "uppercase-hex", holder, key, v)
                return raw
            # fromhex skips whitespace; an id with spaces in it is not a hex id.
        decoded = _b64(v)
        if decoded is not None and len(decoded) == size:
            ctx.dev(ID_ENCODING, "base64-id", holder, key, v)
            return decoded
        # Keep the text's own bytes: the id-length check downstream then reports it.
        ctx.dev(ID_ENCODING, "non-hex-id", holder, key, v)
        return v.encode("utf-8", "surrogatepass")

    return parse


def _enum_parser(enum_desc: Any) -> _Parse:
    names = {ev.name: ev.number for ev in enum_desc.values}
    enum_name = enum_desc.name

    def parse(ctx: _Ctx, v: Any, holder: Any, key: Any) -> Any:
        if isinstance(v, int) and not isinstance(v, bool):
            return v
        if isinstance(v, str):
            n = names.get(v)
            if n is not None:
                ctx.dev(NONCANONICAL, "enum-name", holder, key, v, str(n))
                return n
            n = _int_text(v)
            if n is not None:
                ctx.dev(NONCANONICAL, "number-as-string", holder, key, v)
                return n
        elif isinstance(v, float) and v.is_integer():
            return int(v)
        ctx.dev(NONCANONICAL, "bad-enum", holder, key, v, enum_name)
        return _BAD

    return parse


# -- careful converters ------------------------------------------------------------------
def _careful(ctx: _Ctx, msg: Any, d: dict[str, Any], table: _Table) -> None:
    """Read JSON object ``d`` into ``msg``: every spelling, every deviation recorded."""
    for k, v in d.items():
        if v is None:
            continue  # null is the same as absent
        entry = table.get(k)
        if entry is None:
            continue  # unknown fields MUST be ignored
        name, conv, detail, canon = entry
        if detail is not None:
            if d.get(canon) is not None:
                continue  # the canonical spelling is there too and wins
            ctx.dev(NONCANONICAL, detail, d, k, None, canon)
        conv(ctx, msg, name, v, d, k)


def _one(ctx: _Ctx, msg: Any, d: dict[str, Any], k: str, v: Any, table: _Table) -> None:
    """``_careful`` for one non-null key: what a container's fast loop does not know."""
    entry = table.get(k)
    if entry is None:
        return
    name, conv, detail, canon = entry
    if detail is not None:
        if d.get(canon) is not None:
            return
        ctx.dev(NONCANONICAL, detail, d, k, None, canon)
    conv(ctx, msg, name, v, d, k)


def _scalar(parse: _Parse, what: str) -> _Conv:
    def conv(ctx: _Ctx, msg: Any, name: str, v: Any, holder: Any, key: Any) -> None:
        x = parse(ctx, v, holder, key)
        if x is _BAD:
            return
        try:
            setattr(msg, name, x)
        except (ValueError, TypeError, OverflowError):
            ctx.dev(NONCANONICAL, "bad-number", holder, key, v, what)

    return conv


def _canonical_int64s(v: list[Any]) -> list[int] | None:
    """A list of 64-bit integers as OTLP/JSON writes them (decimal strings, or numbers), else None."""
    types = set(map(type, v))
    if types <= _STR:
        return list(map(int, v))
    if types <= _INT:
        return v
    return None


def _canonical_doubles(v: list[Any]) -> list[Any] | None:
    """A list of doubles as JSON numbers, else None (strings, booleans: read one at a time)."""
    return v if set(map(type, v)) <= _NUMBER else None


_STR = frozenset({str})
_INT = frozenset({int})
_NUMBER = frozenset({int, float})


def _repeated_scalar(parse: _Parse, what: str) -> _Conv:
    # Histogram buckets and bounds: a canonical list is read whole, in C; anything else
    # element by element, which says which element deviates and why.
    whole = (
        _canonical_int64s
        if parse is _p_int64
        else _canonical_doubles
        if parse is _p_double
        else None
    )

    def conv(ctx: _Ctx, msg: Any, name: str, v: Any, holder: Any, key: Any) -> None:
        if not isinstance(v, list):
            raise ctx.not_container(holder, key, v, f"an array of {what}")
        rep = getattr(msg, name)
        if whole is not None:
            before = len(rep)
            try:
                values = whole(v)
                if values is not None:
                    rep.extend(values)
                    return
            except (ValueError, TypeError, OverflowError):
                del rep[before:]  # read one at a time below, to say which and why
        for i, e in enumerate(v):
            if e is None:
                # Skipping shifts the later values (bucket counts!), so say so.
                ctx.dev(NONCANONICAL, "bad-value", v, i, "null", f"a {what}")
                continue
            x = parse(ctx, e, v, i)
            if x is _BAD:
                continue
            try:
                rep.append(x)
            except (ValueError, TypeError, OverflowError):
                ctx.dev(NONCANONICAL, "bad-number", v, i, e, what)

    return conv


def _message(table: _Table, type_name: str) -> _Conv:
    def conv(ctx: _Ctx, msg: Any, name: str, v: Any, holder: Any, key: Any) -> None:
        if not isinstance(v, dict):
            raise ctx.not_container(holder, key, v, f"an object ({type_name})")
        sub = getattr(msg, name)
        sub.SetInParent()  # an empty {} is still present (matters for oneofs like metric data)
        _careful(ctx, sub, v, table)

    return conv


def _repeated_message(table: _Table, type_name: str) -> _Conv:
    def conv(ctx: _Ctx, msg: Any, name: str, v: Any, holder: Any, key: Any) -> None:
        if not isinstance(v, list):
            raise ctx.not_container(holder, key, v, f"an array of {type_name} objects")
        add = getattr(msg, name).add
        for i, e in enumerate(v):
            if e is None:
                continue
            if not isinstance(e, dict):
                raise ctx.not_container(v, i, e, f"an object ({type_name})")
            _careful(ctx, add(), e, table)

    return conv


_FastFn = Callable[[_Ctx, Any, Any], None]


def _fast_list(fast: _FastFn, table: _Table, type_name: str) -> _Conv:
    """Converter of a repeated hot record: fast path per element, careful path on a surprise.

    A fast function reads its nested lists (attributes, events...) last, through
    converters that raise only NotOtlp: a record that falls back to the careful path
    therefore never has deviations of its own already counted.
    """

    def conv(ctx: _Ctx, msg: Any, name: str, v: Any, holder: Any, key: Any) -> None:
        if not isinstance(v, list):
            raise ctx.not_container(holder, key, v, f"an array of {type_name} objects")
        rep = getattr(msg, name)
        add = rep.add
        i = -1
        for e in v:
            i += 1
            m = add()
            try:
                fast(ctx, m, e)
            except NotOtlp:
                raise
            except Exception:
                m.Clear()
                if not isinstance(e, dict):
                    if e is None:
                        del rep[-1]
                        continue
                    raise ctx.not_container(v, i, e, f"an object ({type_name})") from None
                _careful(ctx, m, e, table)

    return conv


# -- tables from the descriptors -----------------------------------------------------------
_TABLES: dict[str, _Table] = {}
_INT64 = {3, 4, 6, 16, 18}  # int64, uint64, fixed64, sfixed64, sint64
_INT32 = {5, 7, 13, 15, 17}  # int32, fixed32, uint32, sfixed32, sint32
_ID_SIZES = {"trace_id": 16, "span_id": 8, "parent_span_id": 8}


def _table(desc: Any) -> _Table:
    """The careful table of a message type: camelCase and snake_case keys of every field."""
    table = _TABLES.get(desc.full_name)
    if table is not None:
        return table
    table = _TABLES[desc.full_name] = {}
    for f in desc.fields:
        conv = _field_conv(f)
        table[f.json_name] = (f.name, conv, None, f.json_name)
        if f.name != f.json_name:
            table[f.name] = (f.name, conv, "snake-case-key", f.json_name)
    return table


def _field_conv(f: Any) -> _Conv:
    repeated = bool(f.is_repeated)
    t = f.type
    if t == 11:  # message
        sub = _table(f.message_type)
        name = f.message_type.name
        return _repeated_message(sub, name) if repeated else _message(sub, name)
    parse: _Parse
    if t == 9:
        parse, what = _p_str, "string"
    elif t == 8:
        parse, what = _p_bool, "boolean"
    elif t in (1, 2):
        parse, what = _p_double, "double"
    elif t in _INT64:
        parse, what = _p_int64, "64-bit integer"
    elif t in _INT32:
        parse, what = _p_int32, "32-bit integer"
    elif t == 14:
        parse, what = _enum_parser(f.enum_type), f.enum_type.name
    elif t == 12 and f.name in _ID_SIZES:
        parse, what = _id_parser(_ID_SIZES[f.name]), "id"
    elif t == 12:
        parse, what = _p_bytes, "bytes"
    else:  # pragma: no cover - OTLP uses no other scalar types
        raise TypeError(f"unsupported field type {t} of {f.full_name}")
    return _repeated_scalar(parse, what) if repeated else _scalar(parse, what)


def _override(desc: Any, field: str, conv: _Conv) -> None:
    table = _table(desc)
    for key, (name, _old, detail, canon) in list(table.items()):
        if name == field:
            table[key] = (name, conv, detail, canon)


def _alias(desc: Any, keys: tuple[str, ...], field: str) -> None:
    """Accept the pre-1.0 names ``keys`` for ``field`` (deviation "legacy-field")."""
    table = _table(desc)
    name, conv, _detail, canon = table[_camel_of(desc, field)]
    for key in keys:
        table[key] = (name, conv, "legacy-field", canon)


def _camel_of(desc: Any, field: str) -> str:
    return str(desc.fields_by_name[field].json_name)


_KeyValue = common_pb2.KeyValue
_AnyValue = common_pb2.AnyValue
_Span = trace_pb2.Span
_LogRecord = logs_pb2.LogRecord
_NumberDataPoint = metrics_pb2.NumberDataPoint
_Metric = metrics_pb2.Metric

_KV_TABLE = _table(_KeyValue.DESCRIPTOR)
_ANY_TABLE = _table(_AnyValue.DESCRIPTOR)
_SPAN_TABLE = _table(_Span.DESCRIPTOR)
_EVENT_TABLE = _table(_Span.Event.DESCRIPTOR)
_LINK_TABLE = _table(_Span.Link.DESCRIPTOR)
_LOG_TABLE = _table(_LogRecord.DESCRIPTOR)
_NDP_TABLE = _table(_NumberDataPoint.DESCRIPTOR)
_HDP_TABLE = _table(metrics_pb2.HistogramDataPoint.DESCRIPTOR)
_METRIC_TABLE = _table(_Metric.DESCRIPTOR)
_TOP_TABLES = {
    Signal.TRACES: _table(trace_pb2.TracesData.DESCRIPTOR),
    Signal.METRICS: _table(metrics_pb2.MetricsData.DESCRIPTOR),
    Signal.LOGS: _table(logs_pb2.LogsData.DESCRIPTOR),
}
_TOP_CLASSES: dict[Signal, Any] = {
    Signal.TRACES: trace_pb2.TracesData,
    Signal.METRICS: metrics_pb2.MetricsData,
    Signal.LOGS: logs_pb2.LogsData,
}
_TOP_KEYS = {
    "resourceSpans": Signal.TRACES,
    "resource_spans": Signal.TRACES,
    "resourceMetrics": Signal.METRICS,
    "resource_metrics": Signal.METRICS,
    "resourceLogs": Signal.LOGS,
    "resource_logs": Signal.LOGS,
}


# -- fast paths -----------------------------------------------------------------------------
_fromhex = bytes.fromhex


def _any_fast(av: Any, val: Any) -> None:
    """Canonical AnyValue of a scalar kind; raises on anything else."""
    ((vk, x),) = val.items()
    if vk == "stringValue":
        av.string_value = x
    elif vk == "intValue":
        av.int_value = int(x) if type(x) is str else x
    elif vk == "boolValue":
        if type(x) is not bool:
            raise _Slow
        av.bool_value = x
    elif vk == "doubleValue":
        if type(x) is not float and type(x) is not int:
            raise _Slow
        av.double_value = x
    else:
        raise _Slow


def _any_into(ctx: _Ctx, av: Any, val: Any, holder: Any, key: Any) -> None:
    if not isinstance(val, dict):
        raise ctx.not_container(holder, key, val, "an object (AnyValue)")
    try:
        _any_fast(av, val)
        return
    except Exception:
        av.Clear()
    av.SetInParent()
    _careful(ctx, av, val, _ANY_TABLE)


def _any_conv(ctx: _Ctx, msg: Any, name: str, v: Any, holder: Any, key: Any) -> None:
    _any_into(ctx, getattr(msg, name), v, holder, key)


def _kv_fallback(ctx: _Ctx, rep: Any, m: Any, kv: Any, v: list[Any]) -> None:
    """Careful read of one attribute the fast loop of ``_kv_list`` gave up on."""
    m.Clear()
    if isinstance(kv, dict):
        _careful(ctx, m, kv, _KV_TABLE)
        return
    if kv is None:
        del rep[-1]
        return
    i = next(j for j, e in enumerate(v) if e is kv)
    raise ctx.not_container(v, i, kv, "an object (KeyValue)")


def _kv_list(ctx: _Ctx, msg: Any, name: str, v: Any, holder: Any, key: Any) -> None:
    """Attributes: the bulk of every record, so the fast path is inlined in the loop."""
    if type(v) is not list:
        raise ctx.not_container(holder, key, v, "an array of KeyValue objects")
    rep = getattr(msg, name)
    add = rep.add
    for kv in v:
        m = add()
        try:
            if len(kv) != 2:
                raise _Slow
            m.key = kv["key"]
            ((vk, x),) = kv["value"].items()
            if vk == "stringValue":
                m.value.string_value = x
            elif vk == "intValue":
                m.value.int_value = int(x) if type(x) is str else x
            elif vk == "boolValue":
                if type(x) is not bool:
                    raise _Slow
                m.value.bool_value = x
            elif vk == "doubleValue":
                if type(x) is not float and type(x) is not int:
                    raise _Slow
                m.value.double_value = x
            else:
                raise _Slow
        except Exception:
            _kv_fallback(ctx, rep, m, kv, v)


def _any_list_fast(ctx: _Ctx, m: Any, val: Any) -> None:
    _any_fast(m, val)


def _ids(sp: Any, g: Callable[[str], Any]) -> None:
    """traceId and spanId of a span, link, log record: canonical lowercase hex or raise."""
    x = g("traceId")
    if x:
        b = _fromhex(x)
        if b.hex() != x:
            raise _Slow
        sp.trace_id = b
    elif x is not None and x != "":
        raise _Slow  # 0, false, [] ...: not an id, let the careful path say so
    x = g("spanId")
    if x:
        b = _fromhex(x)
        if b.hex() != x:
            raise _Slow
        sp.span_id = b
    elif x is not None and x != "":
        raise _Slow


_SPAN_KEYS = frozenset(f.json_name for f in _Span.DESCRIPTOR.fields)
_STATUS_KEYS = frozenset(f.json_name for f in trace_pb2.Status.DESCRIPTOR.fields)
_EVENT_KEYS = frozenset(f.json_name for f in _Span.Event.DESCRIPTOR.fields)
_LINK_KEYS = frozenset(f.json_name for f in _Span.Link.DESCRIPTOR.fields)
_LOG_KEYS = frozenset(f.json_name for f in _LogRecord.DESCRIPTOR.fields)
_NDP_KEYS = frozenset(f.json_name for f in _NumberDataPoint.DESCRIPTOR.fields)
_HDP_KEYS = frozenset(f.json_name for f in metrics_pb2.HistogramDataPoint.DESCRIPTOR.fields)


def _event_fast(ctx: _Ctx, ev: Any, d: Any) -> None:
    if not d.keys() <= _EVENT_KEYS:
        raise _Slow
    g = d.get
    x = g("timeUnixNano")
    if x is not None:
        ev.time_unix_nano = int(x) if type(x) is str else x
    x = g("name")
    if x is not None:
        ev.name = x
    x = g("droppedAttributesCount")
    if x is not None:
        ev.dropped_attributes_count = x
    x = g("attributes")
    if x is not None:
        _kv_list(ctx, ev, "attributes", x, d, "attributes")


def _link_fast(ctx: _Ctx, ln: Any, d: Any) -> None:
    if not d.keys() <= _LINK_KEYS:
        raise _Slow
    g = d.get
    _ids(ln, g)
    x = g("traceState")
    if x is not None:
        ln.trace_state = x
    x = g("flags")
    if x is not None:
        ln.flags = x
    x = g("droppedAttributesCount")
    if x is not None:
        ln.dropped_attributes_count = x
    x = g("attributes")
    if x is not None:
        _kv_list(ctx, ln, "attributes", x, d, "attributes")


_events = _fast_list(_event_fast, _EVENT_TABLE, "Event")
_links = _fast_list(_link_fast, _LINK_TABLE, "Link")


def _span_fast(ctx: _Ctx, sp: Any, d: Any) -> None:
    if not d.keys() <= _SPAN_KEYS:
        raise _Slow
    g = d.get
    _ids(sp, g)
    x = g("parentSpanId")
    if x:
        b = _fromhex(x)
        if b.hex() != x:
            raise _Slow
        sp.parent_span_id = b
    elif x is not None and x != "":
        raise _Slow
    x = g("traceState")
    if x is not None:
        sp.trace_state = x
    x = g("flags")
    if x is not None:
        sp.flags = x
    x = g("name")
    if x is not None:
        sp.name = x
    x = g("kind")
    if x is not None:
        if type(x) is not int:  # upb would take an enum name string silently
            raise _Slow
        sp.kind = x
    x = g("startTimeUnixNano")
    if x is not None:
        sp.start_time_unix_nano = int(x) if type(x) is str else x
    x = g("endTimeUnixNano")
    if x is not None:
        sp.end_time_unix_nano = int(x) if type(x) is str else x
    x = g("droppedAttributesCount")
    if x is not None:
        sp.dropped_attributes_count = x
    x = g("droppedEventsCount")
    if x is not None:
        sp.dropped_events_count = x
    x = g("droppedLinksCount")
    if x is not None:
        sp.dropped_links_count = x
    st = g("status")
    if st is not None:
        if not st.keys() <= _STATUS_KEYS:
            raise _Slow
        status = sp.status
        status.SetInParent()
        x = st.get("code")
        if x is not None:
            if type(x) is not int:  # upb would take an enum name string silently
                raise _Slow
            status.code = x
        x = st.get("message")
        if x is not None:
            status.message = x
    # Nested lists last (see _fast_list).
    x = g("attributes")
    if x is not None:
        _kv_list(ctx, sp, "attributes", x, d, "attributes")
    x = g("events")
    if x is not None:
        _events(ctx, sp, "events", x, d, "events")
    x = g("links")
    if x is not None:
        _links(ctx, sp, "links", x, d, "links")


def _log_fast(ctx: _Ctx, lr: Any, d: Any) -> None:
    if not d.keys() <= _LOG_KEYS:
        raise _Slow
    g = d.get
    x = g("timeUnixNano")
    if x is not None:
        lr.time_unix_nano = int(x) if type(x) is str else x
    x = g("observedTimeUnixNano")
    if x is not None:
        lr.observed_time_unix_nano = int(x) if type(x) is str else x
    x = g("severityNumber")
    if x is not None:
        if type(x) is not int:  # upb would take an enum name string silently
            raise _Slow
        lr.severity_number = x
    x = g("severityText")
    if x is not None:
        lr.severity_text = x
    x = g("droppedAttributesCount")
    if x is not None:
        lr.dropped_attributes_count = x
    x = g("flags")
    if x is not None:
        lr.flags = x
    _ids(lr, g)
    x = g("eventName")
    if x is not None:
        lr.event_name = x
    # Nested values last (see _fast_list).
    x = g("body")
    if x is not None:
        _any_into(ctx, lr.body, x, d, "body")
    x = g("attributes")
    if x is not None:
        _kv_list(ctx, lr, "attributes", x, d, "attributes")


_exemplars = _repeated_message(_table(metrics_pb2.Exemplar.DESCRIPTOR), "Exemplar")


def _point_times(p: Any, g: Callable[[str], Any]) -> None:
    """A data point's start time and time (of a number or histogram point)."""
    x = g("startTimeUnixNano")
    if x is not None:
        p.start_time_unix_nano = int(x) if type(x) is str else x
    x = g("timeUnixNano")
    if x is not None:
        p.time_unix_nano = int(x) if type(x) is str else x


def _point_rest(ctx: _Ctx, p: Any, d: Any, g: Callable[[str], Any]) -> None:
    """A data point's flags, then its nested lists, last (see _fast_list)."""
    x = g("flags")
    if x is not None:
        p.flags = x
    x = g("attributes")
    if x is not None:
        _kv_list(ctx, p, "attributes", x, d, "attributes")
    x = g("exemplars")
    if x is not None:
        _exemplars(ctx, p, "exemplars", x, d, "exemplars")


def _ndp_fast(ctx: _Ctx, p: Any, d: Any) -> None:
    if not d.keys() <= _NDP_KEYS:
        raise _Slow
    g = d.get
    _point_times(p, g)
    x = g("asDouble")
    if x is not None:
        if type(x) is not float and type(x) is not int:
            raise _Slow
        p.as_double = x
    x = g("asInt")
    if x is not None:
        p.as_int = int(x) if type(x) is str else x
    _point_rest(ctx, p, d, g)


def _hdp_fast(ctx: _Ctx, p: Any, d: Any) -> None:
    """A histogram data point: its bucket counts and bounds read whole when canonical."""
    if not d.keys() <= _HDP_KEYS:
        raise _Slow
    g = d.get
    _point_times(p, g)
    x = g("count")
    if x is not None:
        p.count = int(x) if type(x) is str else x
    for k in ("sum", "min", "max"):
        x = g(k)
        if x is not None:
            if type(x) is not float and type(x) is not int:
                raise _Slow
            setattr(p, k, x)
    x = g("bucketCounts")
    if x is not None:
        counts = _canonical_int64s(x) if type(x) is list else None
        if counts is None:
            raise _Slow
        p.bucket_counts.extend(counts)
    x = g("explicitBounds")
    if x is not None:
        bounds = _canonical_doubles(x) if type(x) is list else None
        if bounds is None:
            raise _Slow
        p.explicit_bounds.extend(bounds)
    _point_rest(ctx, p, d, g)


def _metrics(ctx: _Ctx, msg: Any, name: str, v: Any, holder: Any, key: Any) -> None:
    """Metrics, careful path only (few per document), telling when a metric's data was dropped."""
    if not isinstance(v, list):
        raise ctx.not_container(holder, key, v, "an array of Metric objects")
    add = getattr(msg, name).add
    table = _METRIC_TABLE
    for i, e in enumerate(v):
        if e is None:
            continue
        if not isinstance(e, dict):
            raise ctx.not_container(v, i, e, "an object (Metric)")
        m = add()
        _careful(ctx, m, e, table)
        if m.WhichOneof("data") is None:
            for k, x in e.items():
                if x is not None and k not in table:
                    # intGauge, doubleSum... (pre-0.12 OTLP) or a typo: the data is lost.
                    ctx.dev(NONCANONICAL, "unknown-field", e, k)
                    break


_RESOURCE_TABLE = _table(resource_pb2.Resource.DESCRIPTOR)
_SCOPE_TABLE = _table(common_pb2.InstrumentationScope.DESCRIPTOR)


# Containers (resource, scope and their lists) are read key by key: a canonical key of
# the right JSON type is handled inline, anything else goes to ``_one``. Unlike the
# record fast paths nothing is redone, so they can recurse into nested lists freely.
def _resource_into(ctx: _Ctx, r: Any, d: dict[str, Any]) -> None:
    r.SetInParent()
    for k, x in d.items():
        if x is None:
            continue
        if k == "attributes":
            _kv_list(ctx, r, "attributes", x, d, k)
        else:
            _one(ctx, r, d, k, x, _RESOURCE_TABLE)


def _scope_into(ctx: _Ctx, s: Any, d: dict[str, Any]) -> None:
    s.SetInParent()
    for k, x in d.items():
        if x is None:
            continue
        if k == "name" and type(x) is str:
            s.name = x
        elif k == "version" and type(x) is str:
            s.version = x
        elif k == "attributes":
            _kv_list(ctx, s, "attributes", x, d, k)
        else:
            _one(ctx, s, d, k, x, _SCOPE_TABLE)


def _signal_lists(rx_desc: Any, sx_desc: Any, leaf_field: str, leaf: _Conv) -> tuple[_Conv, _Conv]:
    """Converters of ``resourceX`` and ``scopeX`` lists of one signal, ``leaf`` reading the records."""
    rx_table, sx_table = _table(rx_desc), _table(sx_desc)
    rx_name, sx_name = rx_desc.name, sx_desc.name
    scopes_field = next(f.name for f in rx_desc.fields if f.message_type is sx_desc)
    scopes_key = _camel_of(rx_desc, scopes_field)
    leaf_key = _camel_of(sx_desc, leaf_field)

    def scopes(ctx: _Ctx, msg: Any, name: str, v: Any, holder: Any, key: Any) -> None:
        if type(v) is not list:
            raise ctx.not_container(holder, key, v, f"an array of {sx_name} objects")
        add = getattr(msg, name).add
        for i, sd in enumerate(v):
            if type(sd) is not dict:
                if sd is None:
                    continue
                raise ctx.not_container(v, i, sd, f"an object ({sx_name})")
            sm = add()
            for k, x in sd.items():
                if x is None:
                    continue
                if k == leaf_key:
                    leaf(ctx, sm, leaf_field, x, sd, k)
                elif k == "scope" and type(x) is dict:
                    _scope_into(ctx, sm.scope, x)
                elif k == "schemaUrl" and type(x) is str:
                    sm.schema_url = x
                else:
                    _one(ctx, sm, sd, k, x, sx_table)

    def resources(ctx: _Ctx, msg: Any, name: str, v: Any, holder: Any, key: Any) -> None:
        if type(v) is not list:
            raise ctx.not_container(holder, key, v, f"an array of {rx_name} objects")
        add = getattr(msg, name).add
        for i, rd in enumerate(v):
            if type(rd) is not dict:
                if rd is None:
                    continue
                raise ctx.not_container(v, i, rd, f"an object ({rx_name})")
            rm = add()
            for k, x in rd.items():
                if x is None:
                    continue
                if k == scopes_key:
                    scopes(ctx, rm, scopes_field, x, rd, k)
                elif k == "resource" and type(x) is dict:
                    _resource_into(ctx, rm.resource, x)
                elif k == "schemaUrl" and type(x) is str:
                    rm.schema_url = x
                else:
                    _one(ctx, rm, rd, k, x, rx_table)

    return resources, scopes


def _reachable() -> list[Any]:
    """Every message type inside the three documents (so every attributes list gets the fast path)."""
    out: dict[str, Any] = {}
    todo = [cls.DESCRIPTOR for cls in _TOP_CLASSES.values()]
    while todo:
        desc = todo.pop()
        if desc.full_name not in out:
            out[desc.full_name] = desc
            todo.extend(f.message_type for f in desc.fields if f.message_type is not None)
    return list(out.values())


def _install() -> None:
    """Put the fast converters and the legacy names into the careful tables."""
    _override(_KeyValue.DESCRIPTOR, "value", _any_conv)
    _override(_LogRecord.DESCRIPTOR, "body", _any_conv)
    _override(
        common_pb2.ArrayValue.DESCRIPTOR,
        "values",
        _fast_list(_any_list_fast, _ANY_TABLE, "AnyValue"),
    )
    for desc in _reachable():
        for f in desc.fields:
            if f.message_type is _KeyValue.DESCRIPTOR:
                _override(desc, f.name, _kv_list)
    _override(_Span.DESCRIPTOR, "events", _events)
    _override(_Span.DESCRIPTOR, "links", _links)
    spans = _fast_list(_span_fast, _SPAN_TABLE, "Span")
    _override(trace_pb2.ScopeSpans.DESCRIPTOR, "spans", spans)
    logs = _fast_list(_log_fast, _LOG_TABLE, "LogRecord")
    _override(logs_pb2.ScopeLogs.DESCRIPTOR, "log_records", logs)
    ndp_list = _fast_list(_ndp_fast, _NDP_TABLE, "NumberDataPoint")
    _override(metrics_pb2.Gauge.DESCRIPTOR, "data_points", ndp_list)
    _override(metrics_pb2.Sum.DESCRIPTOR, "data_points", ndp_list)
    _override(
        metrics_pb2.Histogram.DESCRIPTOR,
        "data_points",
        _fast_list(_hdp_fast, _HDP_TABLE, "HistogramDataPoint"),
    )
    _override(metrics_pb2.ScopeMetrics.DESCRIPTOR, "metrics", _metrics)
    for top, rx, sx, leaf_field, leaf in (
        (trace_pb2.TracesData, trace_pb2.ResourceSpans, trace_pb2.ScopeSpans, "spans", spans),
        (
            metrics_pb2.MetricsData,
            metrics_pb2.ResourceMetrics,
            metrics_pb2.ScopeMetrics,
            "metrics",
            _metrics,
        ),
        (logs_pb2.LogsData, logs_pb2.ResourceLogs, logs_pb2.ScopeLogs, "log_records", logs),
    ):
        resources, scopes = _signal_lists(rx.DESCRIPTOR, sx.DESCRIPTOR, leaf_field, leaf)
        _override(top.DESCRIPTOR, top.DESCRIPTOR.fields[0].name, resources)
        scopes_field = next(f.name for f in rx.DESCRIPTOR.fields if f.message_type is sx.DESCRIPTOR)
        _override(rx.DESCRIPTOR, scopes_field, scopes)
    # Pre-1.0 OTLP (before proto 0.15/0.19) called the scope "instrumentation library".
    _alias(
        trace_pb2.ResourceSpans.DESCRIPTOR,
        ("instrumentationLibrarySpans", "instrumentation_library_spans"),
        "scope_spans",
    )
    _alias(
        metrics_pb2.ResourceMetrics.DESCRIPTOR,
        ("instrumentationLibraryMetrics", "instrumentation_library_metrics"),
        "scope_metrics",
    )
    _alias(
        logs_pb2.ResourceLogs.DESCRIPTOR,
        ("instrumentationLibraryLogs", "instrumentation_library_logs"),
        "scope_logs",
    )
    for desc in (
        trace_pb2.ScopeSpans.DESCRIPTOR,
        metrics_pb2.ScopeMetrics.DESCRIPTOR,
        logs_pb2.ScopeLogs.DESCRIPTOR,
    ):
        _alias(desc, ("instrumentationLibrary", "instrumentation_library"), "scope")


_install()


# -- the entry point --------------------------------------------------------------------------
_WANT = (
    "expected an OTLP/JSON TracesData, MetricsData or LogsData object "
    "(a JSON object with resourceSpans, resourceMetrics or resourceLogs)"
)


def convert(doc: object) -> tuple[Signal, bytes, list[Deviation]]:
    """Convert one parsed OTLP/JSON document to the protobuf bytes of the same message.

    Returns the signal (from the top-level key), the serialized ``TracesData`` /
    ``MetricsData`` / ``LogsData``, and the document's deviations from canonical
    OTLP/JSON, each counted and located at its first occurrence. Raises ``NotOtlp``
    (one line: what was found, what was expected) when the document is not one of
    those messages or has a non-list / non-object where one is required; its subclass
    ``NoOtlpDocument`` when the JSON has no OTLP top-level key at all.
    """
    if not isinstance(doc, dict):
        what = f"a JSON {_jtype(doc)}"
        if isinstance(doc, list):
            what += f" of {len(doc)} items"
            if any(isinstance(e, dict) and not e.keys().isdisjoint(_TOP_KEYS) for e in doc):
                # OTLP documents wrapped in an array: a capture written the wrong way.
                raise NotOtlp(
                    f"the document is {what}, not an object: {_WANT}; write one document per line"
                )
        raise NoOtlpDocument(f"the document is {what}, not an object: {_WANT}")
    signal: Signal | None = None
    for k in doc:
        sig = _TOP_KEYS.get(k)
        if sig is not None and sig is not signal:
            if signal is not None:
                found = [k for k in doc if k in _TOP_KEYS]
                raise NotOtlp(
                    f"the document has {' and '.join(found)} at the top level: "
                    "an OTLP/JSON document holds one signal, write each to its own line or file"
                )
            signal = sig
    if signal is None:
        if not doc:
            raise NoOtlpDocument(f"the document is an empty JSON object: {_WANT}")
        keys = list(doc)
        shown = ", ".join(repr(k) for k in keys[:4]) + (
            f" and {len(keys) - 4} more" if len(keys) > 4 else ""
        )
        raise NoOtlpDocument(f"the document's top-level keys are {shown}: {_WANT}")
    ctx = _Ctx(doc)
    msg = _TOP_CLASSES[signal]()
    try:
        _careful(ctx, msg, doc, _TOP_TABLES[signal])
    except RecursionError:
        # Only arrayValue/kvlistValue nest without bound; json.loads allows deeper than we recurse.
        raise NotOtlp(
            "the document nests arrayValue/kvlistValue values too deeply to read: "
            "flatten the attribute values or split the document"
        ) from None
    payload: bytes = msg.SerializeToString()
    return signal, payload, ctx.deviations() if ctx.devs else []
