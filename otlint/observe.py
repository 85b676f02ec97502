"""The hot loop: OTLP protobuf bytes -> facts in a Corpus.

This is the only code that touches every record, so it is written for speed:

* Messages are parsed with a *reduced schema*: a copy of the OTLP descriptors, made
  at import time, in which every ``string`` is ``bytes`` (so one bad UTF-8 string is
  a finding, not a rejected message), every ``KeyValue`` is raw ``bytes`` (Python
  slices the key and the value type out of it and decodes a value only when a rule
  needs it), and ``Resource`` is raw ``bytes`` (decoded once per distinct resource
  and used as the key that deduplicates it).
* Attributes are folded into per-(resource, level, key, type) counts: rules check
  each distinct key once, not each occurrence.
* Spans, log references and exemplars go into the Corpus' compact columns.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from opentelemetry.proto.logs.v1 import logs_pb2
from opentelemetry.proto.metrics.v1 import metrics_pb2
from opentelemetry.proto.trace.v1 import trace_pb2

from otlint.corpus import (
    EXEMPLARS,
    LOGS,
    LOGS_IDATTR,
    LOGS_IDATTR_NO_IDS,
    LOGS_WITH_IDS,
    POINTS,
    SPANS,
    VALUE_TYPES,
    Corpus,
    Level,
    Signal,
)

_OPAQUE = frozenset({
    ".opentelemetry.proto.common.v1.KeyValue",
    ".opentelemetry.proto.common.v1.AnyValue",
    ".opentelemetry.proto.common.v1.InstrumentationScope",
    ".opentelemetry.proto.resource.v1.Resource",
    ".opentelemetry.proto.trace.v1.Span.Event",
    ".opentelemetry.proto.trace.v1.Span.Link",
    ".opentelemetry.proto.trace.v1.Status",
})


def reduced_classes(opaque: frozenset[str] = frozenset()) -> tuple[Any, Any, Any]:
    """TracesData, MetricsData and LogsData classes of a reduced schema.

    Every string becomes bytes, and so does every message type named in ``_OPAQUE``
    and ``opaque`` (full names with a leading dot): those fields are kept as raw bytes.
    """
    opaque = _OPAQUE | opaque
    pool = descriptor_pool.DescriptorPool()
    done: set[str] = set()

    def add(fd: Any) -> None:
        if fd.name in done:
            return
        for dep in fd.dependencies:
            add(dep)
        proto = descriptor_pb2.FileDescriptorProto()
        fd.CopyToProto(proto)
        stack = list(proto.message_type)
        while stack:
            msg = stack.pop()
            stack.extend(msg.nested_type)
            for f in msg.field:
                if f.type == f.TYPE_STRING or (f.type == f.TYPE_MESSAGE and f.type_name in opaque):
                    f.type = f.TYPE_BYTES
                    f.ClearField("type_name")
        pool.Add(proto)
        done.add(fd.name)

    for module in (trace_pb2, metrics_pb2, logs_pb2):
        add(module.DESCRIPTOR)
    get = message_factory.GetMessageClass
    return (
        get(pool.FindMessageTypeByName("opentelemetry.proto.trace.v1.TracesData")),
        get(pool.FindMessageTypeByName("opentelemetry.proto.metrics.v1.MetricsData")),
        get(pool.FindMessageTypeByName("opentelemetry.proto.logs.v1.LogsData")),
    )


RTracesData, RMetricsData, RLogsData = reduced_classes()

_ZERO16 = bytes(16)
_ZERO8 = bytes(8)

# Span kinds (opentelemetry.proto.trace.v1.Span.SpanKind).
SERVER, CLIENT, PRODUCER, CONSUMER = 2, 3, 4, 5

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
def _varint(buf: bytes, pos: int) -> tuple[int, int]:
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


def wire_fields(buf: bytes) -> Iterator[tuple[int, int, Any]]:
    """Yield (field number, wire type, value) of a protobuf message's top-level fields."""
    pos, end = 0, len(buf)
    while pos < end:
        tag, pos = _varint(buf, pos)
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


def decode_anyvalue(buf: bytes) -> tuple[str, Any]:
    """Decode an encoded AnyValue into (type name, Python value)."""
    kind: str = "empty"
    value: Any = None
    for num, _wt, val in wire_fields(buf):
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
            kind, value = "array", [decode_anyvalue(v)[1] for n, _, v in wire_fields(val) if n == 1]
        elif num == 6:
            kind, value = "kvlist", {k: v[1] for k, v in (decode_keyvalue(x) for n, _, x in wire_fields(val) if n == 1)}
        elif num == 7:
            kind, value = "bytes", bytes(val)
    return kind, value


def decode_keyvalue(buf: bytes) -> tuple[str, tuple[str, Any]]:
    """Decode an encoded KeyValue into (key, (type name, value))."""
    key, value = "", ("empty", None)
    for num, _wt, val in wire_fields(buf):
        if num == 1:
            key = bytes(val).decode("utf-8", "replace")
        elif num == 2:
            value = decode_anyvalue(val)
    return key, value


def decode_resource(buf: bytes) -> dict[str, tuple[str, Any]]:
    """Decode an encoded Resource into {key: (type name, value)}; bad bytes give {}."""
    attrs: dict[str, tuple[str, Any]] = {}
    try:
        for num, _wt, val in wire_fields(buf):
            if num == 1:
                key, value = decode_keyvalue(val)
                attrs[key] = value
    except (ValueError, IndexError):
        pass
    return attrs


def invalid_utf8_keys(resource: bytes) -> list[str]:
    """Keys of an encoded Resource whose key or string value is not valid UTF-8."""
    bad = []
    try:
        for num, _wt, kv in wire_fields(resource):
            if num != 1:
                continue
            key = b""
            ok = True
            for f, _w, val in wire_fields(kv):
                if f == 1:
                    key = bytes(val)
                elif f == 2:
                    for vf, _vw, v in wire_fields(val):
                        if vf == 1:
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
    if kv[:1] == b"\n" and n < 128:
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
    for num, _wt, val in wire_fields(kv):
        if num == 1:
            raw_key = bytes(val)
        elif num == 2:
            t = 0
            for vnum, _vwt, _vv in wire_fields(val):
                t = vnum
    return raw_key, t


# -- the observers ----------------------------------------------------------------
_NOTHING: frozenset[bytes] = frozenset()
_CACHE_LIMIT = 200_000


class Observer:
    """Folds OTLP messages of one source into a Corpus."""

    def __init__(self, corpus: Corpus) -> None:
        self.corpus = corpus
        # Encoded KeyValue prefix (tag, key, value length, value tag) -> (key, value type).
        self._kt: dict[bytes, tuple[bytes, int]] = {}
        # (client?, address KeyValues of a span) -> (interned address, interned peer service).
        self._addr: dict[tuple[bool, tuple[bytes, ...]], tuple[int, int]] = {}

    def fold(self, attrs: Any, seen: list[tuple[bytes, int]], watch: frozenset[bytes]) -> list[bytes] | None:
        """Add each attribute's (key, type) to ``seen``; return the KeyValues whose key is in ``watch``.

        The (key, type) of an encoded KeyValue is fixed by its first bytes — field tag,
        key, value length, value tag — so those bytes key a cache, and most attributes
        cost a slice, a look-up and an append (``count`` folds ``seen`` in C). Only
        prefixes of the canonical layout are cached (``_learn``), so a hit is always right.
        """
        cache = self._kt
        add = seen.append
        found = None
        for kv in attrs:
            try:
                prefix = kv[: kv[1] + 5]
            except IndexError:
                prefix = kv
            kt = cache.get(prefix)
            if kt is None:
                kt = self._learn(kv, prefix)
            add(kt)
            if watch and kt[0] in watch:
                if found is None:
                    found = [kv]
                else:
                    found.append(kv)
        return found

    @staticmethod
    def count(
        seen: list[tuple[bytes, int]],
        counts: dict[tuple[bytes, int], int],
        first: dict[tuple[bytes, int], tuple[int, int]],
        loc: tuple[int, int],
    ) -> None:
        """Fold the (key, type) pairs ``fold`` collected into a resource's counts."""
        for kt, c in Counter(seen).items():
            old = counts.get(kt)
            if old is None:
                counts[kt] = c
                first[kt] = loc
            else:
                counts[kt] = old + c

    def _learn(self, kv: bytes, prefix: bytes) -> tuple[bytes, int]:
        kt = key_and_type(kv)
        n = len(prefix) - 5
        # Canonical layout: 0x0a, key length < 128, key, 0x12, value length < 128, value tag.
        if 0 <= n < 128 and prefix[0] == 10 and prefix[1] == n and prefix[n + 2] == 18 and prefix[n + 3] < 128:
            if len(self._kt) > _CACHE_LIMIT:
                self._kt.clear()
            self._kt[prefix] = kt
        return kt

    def _links(self, key: bytes, links: Any) -> None:
        """Keep (span, linked span) pairs: how a batch consumer names its producers."""
        for raw in links:
            tid = sid = b""
            try:
                for num, _wt, val in wire_fields(raw):
                    if num == 1:
                        tid = bytes(val)
                    elif num == 2:
                        sid = bytes(val)
            except (ValueError, IndexError):
                continue
            if len(tid) == 16 and len(sid) == 8 and tid != _ZERO16 and sid != _ZERO8:
                self.corpus.links += key + tid + sid

    def _addresses(self, kind: int, kvs: list[bytes]) -> tuple[int, int]:
        """Interned (address served or called, peer.service) of a span, cached by its attributes."""
        key = (kind in (CLIENT, PRODUCER), tuple(kvs))
        hit = self._addr.get(key)
        if hit is not None:
            return hit
        host = port = svc = None
        for kv in kvs:
            host, port, svc = _address(key_and_type(kv)[0], kv, kind, host, port, svc)
        corpus = self.corpus
        a = corpus.string_index(host if port is None else f"{host}:{port}") if host is not None else -1
        p = corpus.string_index(svc) if svc is not None else -1
        if len(self._addr) > _CACHE_LIMIT:
            self._addr.clear()
        self._addr[key] = (a, p)
        return a, p

    def observe(self, signal: Signal, payload: bytes, file: int, record: int) -> int:
        """Fold one encoded TracesData / MetricsData / LogsData (or Export request).

        Returns the number of records (spans, data points, log records) it held.
        Raises ``google.protobuf.message.DecodeError`` when the bytes are not that message.
        """
        if signal is Signal.TRACES:
            return self._traces(RTracesData.FromString(payload), file, record)
        if signal is Signal.METRICS:
            return self._metrics(RMetricsData.FromString(payload), file, record)
        return self._logs(RLogsData.FromString(payload), file, record)

    def _resource(self, raw: bytes, signal: int, loc: tuple[int, int]) -> int:
        corpus = self.corpus
        ri = corpus.resource_index(raw)
        facts = corpus.resources[ri]
        facts.signals[signal] += 1
        if facts.first[signal] is None:
            facts.first[signal] = loc
        return ri

    def _stats(self, ri: int, level: Level) -> tuple[dict[tuple[bytes, int], int], dict[tuple[bytes, int], tuple[int, int]]]:
        key = (ri, int(level))
        corpus = self.corpus
        counts = corpus.attr_counts.get(key)
        if counts is None:
            counts = corpus.attr_counts[key] = {}
            corpus.attr_first[key] = {}
        return counts, corpus.attr_first[key]

    def _traces(self, msg: Any, file: int, record: int) -> int:
        corpus = self.corpus
        spans = corpus.spans
        ids, parent, res, kinds, flags = spans.ids, spans.parent, spans.res, spans.kind, spans.flags
        addr, peer, files, recs = spans.addr, spans.peer, spans.file, spans.rec
        fold = self.fold
        loc = (file, record)
        total = 0
        for rs in msg.resource_spans:
            ri = self._resource(rs.resource, Signal.TRACES, loc)
            counts, first = self._stats(ri, Level.SPAN)
            seen: list[tuple[bytes, int]] = []
            n = 0
            for ss in rs.scope_spans:
                for sp in ss.spans:
                    n += 1
                    tid = sp.trace_id
                    sid = sp.span_id
                    if len(tid) != 16 or tid == _ZERO16:
                        corpus.add_bad_id(ri, "span.trace_id", _id_problem(tid), loc)
                        continue
                    if len(sid) != 8 or sid == _ZERO8:
                        corpus.add_bad_id(ri, "span.span_id", _id_problem(sid), loc)
                        continue
                    pid = sp.parent_span_id
                    if pid and (len(pid) != 8 or pid == _ZERO8):
                        corpus.add_bad_id(ri, "span.parent_span_id", _id_problem(pid), loc)
                        pid = _ZERO8
                    kind = sp.kind
                    watched = fold(sp.attributes, seen, ADDRESS_KEYS if kind >= SERVER else _NOTHING)
                    if watched:
                        a, p = self._addresses(kind, watched)
                    else:
                        a = p = -1
                    if kind in (CONSUMER, SERVER):
                        links = sp.links
                        if links:
                            self._links(tid + sid, links)
                    ids += tid
                    ids += sid
                    parent += pid or _ZERO8
                    res.append(ri)
                    kinds.append(kind if kind < 256 else 0)
                    flags.append(sp.flags)
                    addr.append(a)
                    peer.append(p)
                    files.append(file)
                    recs.append(record)
            self.count(seen, counts, first, loc)
            corpus.resources[ri].counts[SPANS] += n
            total += n
        return total

    def _logs(self, msg: Any, file: int, record: int) -> int:
        corpus = self.corpus
        logs = corpus.logs
        ids, res, files, recs = logs.ids, logs.res, logs.file, logs.rec
        fold = self.fold
        loc = (file, record)
        total = 0
        for rl in msg.resource_logs:
            ri = self._resource(rl.resource, Signal.LOGS, loc)
            facts = corpus.resources[ri]
            counts, first = self._stats(ri, Level.LOG)
            seen: list[tuple[bytes, int]] = []
            n = with_ids = idattr_noids = idattr = 0
            for sl in rl.scope_logs:
                for lr in sl.log_records:
                    n += 1
                    has_idattr = fold(lr.attributes, seen, LOG_ID_KEYS) is not None
                    idattr += has_idattr
                    tid = lr.trace_id
                    sid = lr.span_id
                    if not tid and not sid:
                        idattr_noids += has_idattr
                        continue
                    if len(tid) != 16 or tid == _ZERO16:
                        corpus.add_bad_id(ri, "log.trace_id", _id_problem(tid), loc)
                        continue
                    if not sid:
                        # A trace id alone still joins the log to its trace, not its span.
                        sid = _ZERO8
                    elif len(sid) != 8 or sid == _ZERO8:
                        corpus.add_bad_id(ri, "log.span_id", _id_problem(sid), loc)
                        continue
                    with_ids += 1
                    ids += tid
                    ids += sid
                    res.append(ri)
                    files.append(file)
                    recs.append(record)
            self.count(seen, counts, first, loc)
            facts.counts[LOGS] += n
            facts.counts[LOGS_WITH_IDS] += with_ids
            facts.counts[LOGS_IDATTR_NO_IDS] += idattr_noids
            facts.counts[LOGS_IDATTR] += idattr
            total += n
        return total

    def _metrics(self, msg: Any, file: int, record: int) -> int:
        corpus = self.corpus
        ex = corpus.exemplars
        ids, res, files, recs = ex.ids, ex.res, ex.file, ex.rec
        fold = self.fold
        loc = (file, record)
        total = 0
        for rm in msg.resource_metrics:
            ri = self._resource(rm.resource, Signal.METRICS, loc)
            facts = corpus.resources[ri]
            counts, first = self._stats(ri, Level.POINT)
            seen: list[tuple[bytes, int]] = []
            n = n_ex = 0
            for sm in rm.scope_metrics:
                for metric in sm.metrics:
                    which = metric.WhichOneof("data")
                    if which is None:
                        continue
                    for dp in getattr(metric, which).data_points:
                        n += 1
                        fold(dp.attributes, seen, _NOTHING)
                        if which == "summary":
                            continue
                        for e in dp.exemplars:
                            n_ex += 1
                            tid = e.trace_id
                            sid = e.span_id
                            if not tid and not sid:
                                continue
                            if len(tid) != 16 or tid == _ZERO16:
                                corpus.add_bad_id(ri, "exemplar.trace_id", _id_problem(tid), loc)
                                continue
                            if len(sid) != 8 or sid == _ZERO8:
                                corpus.add_bad_id(ri, "exemplar.span_id", _id_problem(sid), loc)
                                continue
                            ids += tid
                            ids += sid
                            res.append(ri)
                            files.append(file)
                            recs.append(record)
            self.count(seen, counts, first, loc)
            facts.counts[POINTS] += n
            facts.counts[EXEMPLARS] += n_ex
            total += n
        return total


def _id_problem(raw: bytes) -> str:
    if not raw:
        return "empty"
    if not any(raw):
        return "all-zero"
    return f"{len(raw)}-bytes"


def _address(key: bytes, kv: bytes, kind: int, host: Any, port: Any, svc: Any) -> tuple[Any, Any, Any]:
    """Update (host, port, peer service) of a span from one address attribute."""
    _, (_t, value) = decode_keyvalue(kv)
    if value is None or value == "":
        return host, port, svc
    k = key.decode()
    client = kind in (CLIENT, PRODUCER)
    if k == "messaging.destination.name":
        return (f"queue:{value}", None, svc) if host is None else (host, port, svc)
    if k in ("peer.service", "service.peer.name"):
        return host, port, (str(value) if client else svc)
    if k.endswith(".port"):
        if (k == "server.port") or (client and k == "net.peer.port") or (not client and k == "net.host.port"):
            return host, (port if port is not None and k != "server.port" else str(value)), svc
        return host, port, svc
    if k == "server.address" or (client and k == "net.peer.name") or (not client and k in ("net.host.name", "http.host")):
        text = str(value).lower()
        if k == "http.host" and ":" in text:
            text, _, p = text.partition(":")
            port = port or p
        if k == "server.address" or host is None:
            host = text
    return host, port, svc


def value_type_name(t: int) -> str:
    """Name of an AnyValue type number."""
    return VALUE_TYPES[t] if 0 <= t < len(VALUE_TYPES) else f"field-{t}"
