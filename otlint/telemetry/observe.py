"""The hot loop: OTLP protobuf bytes -> facts in a Corpus.

This is the only code that touches every record, so it is written for speed:

* Messages are parsed with *reduced schemas*: copies of the OTLP descriptors, made
  at import time, in which every ``string`` is ``bytes`` (so one bad UTF-8 string is
  a finding, not a rejected message), every ``KeyValue`` is raw ``bytes`` (Python
  slices the key and the value type out of it and decodes a value only when a rule
  needs it), and ``Resource`` is raw ``bytes`` (decoded once per distinct resource
  and used as the key that deduplicates it). The *shape* variant also keeps records
  as raw bytes, only to count them.
* Attributes are folded into per-(resource, level, key, type) counts: rules check
  each distinct key once, not each occurrence.
* A *columnar* parse of the same message declares a scope's records as one message,
  so the parser merges their fields into columns (every span's trace id in one list)
  that C code checks and joins; fields whose order matters are left undeclared and
  read, in wire order, from the merged message's unknown fields.
* Spans, log references and exemplars go into the Corpus' compact columns.
"""

from __future__ import annotations

import re
from array import array
from collections import Counter
from collections.abc import Callable
from functools import partial
from itertools import accumulate, chain, compress
from operator import attrgetter, itemgetter, methodcaller
from typing import Any

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from opentelemetry.proto.logs.v1 import logs_pb2
from opentelemetry.proto.metrics.v1 import metrics_pb2
from opentelemetry.proto.trace.v1 import trace_pb2

from otlint.core.wire import (
    ADDRESS_KEYS,
    CLIENT,
    CONSUMER,
    KIND_KEYS,
    LOG_ID_KEYS,
    PRODUCER,
    SERVER,
    decode_keyvalue,
    key_and_type,
    wire_fields,
)
from otlint.telemetry.corpus.corpus import (
    EXEMPLARS,
    LOGS,
    LOGS_IDATTR,
    LOGS_IDATTR_NO_IDS,
    LOGS_WITH_IDS,
    POINTS,
    SPANS,
    AttrLevel,
    Corpus,
    Signal,
    Spans,
    gather,
)

_OPAQUE = frozenset(
    {
        ".opentelemetry.proto.common.v1.KeyValue",
        ".opentelemetry.proto.common.v1.AnyValue",
        ".opentelemetry.proto.common.v1.InstrumentationScope",
        ".opentelemetry.proto.resource.v1.Resource",
        ".opentelemetry.proto.trace.v1.Span.Event",
        ".opentelemetry.proto.trace.v1.Span.Link",
        ".opentelemetry.proto.trace.v1.Status",
    }
)


_V1 = "opentelemetry.proto.{}.v1.{}".format
#: Repeated message fields the columnar schema declares singular, so that the parser
#: merges all their elements into one message whose fields are columns.
_MERGED = frozenset(
    {
        (_V1("trace", "ScopeSpans"), "spans"),
        (_V1("trace", "Span"), "events"),
        (_V1("logs", "ScopeLogs"), "log_records"),
        (_V1("metrics", "ScopeMetrics"), "metrics"),
        (_V1("metrics", "Gauge"), "data_points"),
        (_V1("metrics", "Sum"), "data_points"),
        (_V1("metrics", "Histogram"), "data_points"),
        (_V1("metrics", "ExponentialHistogram"), "data_points"),
        (_V1("metrics", "Summary"), "data_points"),
        (_V1("metrics", "NumberDataPoint"), "exemplars"),
        (_V1("metrics", "HistogramDataPoint"), "exemplars"),
        (_V1("metrics", "ExponentialHistogramDataPoint"), "exemplars"),
    }
)
#: Messages whose singular scalar fields the columnar schema declares repeated.
_COLUMNS = frozenset(
    {
        _V1("trace", "Span"),
        _V1("logs", "LogRecord"),
        _V1("metrics", "Metric"),
        _V1("metrics", "NumberDataPoint"),
        _V1("metrics", "HistogramDataPoint"),
        _V1("metrics", "ExponentialHistogramDataPoint"),
        _V1("metrics", "SummaryDataPoint"),
        _V1("metrics", "Exemplar"),
    }
)


def reduced_classes(
    opaque: frozenset[str] = frozenset(),
    columnar: bool = False,
    unknown: frozenset[tuple[str, str]] = frozenset(),
    transparent: frozenset[str] = frozenset(),
) -> tuple[Any, Any, Any]:
    """TracesData, MetricsData and LogsData classes of a reduced schema.

    Every string becomes bytes, and so does every message type named in ``_OPAQUE``
    and ``opaque`` (full names with a leading dot): those fields are kept as raw bytes.

    ``columnar`` makes the *columnar* variant: the records of a scope (spans, log
    records, metrics, data points, exemplars) are declared as one message instead of
    a list, and each of their fields as a list. The parser merges repeated occurrences
    of a singular message field, so a scope parses into one message whose fields are
    columns (every span's trace id, in order) that C code can join, count and test
    without Python touching each record. A column is aligned with the records only
    when its length is the number of records: proto3 leaves out fields at their
    default (a root span has no parent id), so callers check lengths first.
    ``transparent`` names types of ``_OPAQUE`` that this schema parses after all.
    """
    opaque = (_OPAQUE | opaque) - transparent
    pool = descriptor_pool.DescriptorPool()
    done: set[str] = set()

    def add(fd: Any) -> None:
        if fd.name in done:
            return
        for dep in fd.dependencies:
            add(dep)
        proto = descriptor_pb2.FileDescriptorProto()
        fd.CopyToProto(proto)
        stack = [(f"{proto.package}.{m.name}", m) for m in proto.message_type]
        while stack:
            name, msg = stack.pop()
            stack.extend((f"{name}.{m.name}", m) for m in msg.nested_type)
            if unknown:
                kept = [f for f in msg.field if (name, f.name) not in unknown]
                if len(kept) < len(msg.field):
                    del msg.field[:]
                    msg.field.extend(kept)
            for f in msg.field:
                if f.type == f.TYPE_STRING or (f.type == f.TYPE_MESSAGE and f.type_name in opaque):
                    f.type = f.TYPE_BYTES
                    f.ClearField("type_name")
                if not columnar:
                    continue
                # A list cannot sit in a oneof, and merged oneof members must not clear each other.
                f.ClearField("oneof_index")
                f.ClearField("proto3_optional")
                if (name, f.name) in _MERGED:
                    f.label = f.LABEL_OPTIONAL
                elif name in _COLUMNS and f.label != f.LABEL_REPEATED and f.type != f.TYPE_MESSAGE:
                    f.label = f.LABEL_REPEATED
            if columnar:
                msg.ClearField("oneof_decl")
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


#: Record fields the columnar schema leaves undeclared: the parser keeps them, in wire
#: order, as the unknown fields of the scope's merged record (see ``_log_id_rows`` and
#: ``_id_rows``).
_UNKNOWN = frozenset(
    [
        (_V1("logs", "LogRecord"), name)
        for name in ("trace_id", "span_id", "observed_time_unix_nano")
    ]
    + [
        (_V1(signal, record), name)
        for signal, record in (("trace", "Span"), ("metrics", "Exemplar"))
        for name in ("trace_id", "span_id")
    ]
)
RTracesData, RMetricsData, RLogsData = reduced_classes()
#: The *shape* schema: a scope's spans, log records and data points as raw bytes, parsed
#: only to count them (an eighth of the cost of the reduced parse, which then runs only
#: when a scope needs its records one by one).
STracesData, SMetricsData, SLogsData = reduced_classes(
    frozenset(
        {".opentelemetry.proto.trace.v1.Span", ".opentelemetry.proto.logs.v1.LogRecord"}
        | {
            f".opentelemetry.proto.metrics.v1.{p}DataPoint"
            for p in ("Number", "Histogram", "ExponentialHistogram", "Summary")
        }
    )
)
#: In the columnar schema a scope's span events merge too: every event's attributes in one
#: column (``spans.events.attributes``), empty and free when no span has events.
CTracesData, CMetricsData, CLogsData = reduced_classes(
    columnar=True,
    unknown=_UNKNOWN,
    transparent=frozenset({".opentelemetry.proto.trace.v1.Span.Event"}),
)

_ZERO16 = bytes(16)
_ZERO8 = bytes(8)

# -- the observers ----------------------------------------------------------------
_NOTHING: frozenset[bytes] = frozenset()
_CACHE_LIMIT = 200_000
_NO_ADDRESS = (-1, -1)
_ATTRS = attrgetter("attributes")
_IDS = attrgetter("trace_id", "span_id")
_PARENT = attrgetter("parent_span_id")
_KIND = attrgetter("kind")
_FLAGS = attrgetter("flags")
_FIRST = itemgetter(0)
_SECOND = itemgetter(1)
_LEN8 = {8}
_WHICH = methodcaller("WhichOneof", "data")
#: bytes.translate table over span kinds: 1 for the kinds whose spans call or serve an address.
_HAS_ADDRESS = bytes(1 if k in (2, 3, 4, 5) else 0 for k in range(256))
_JOIN = b"".join


#: The wire heads (tag, length) of a 16-byte trace id and an 8-byte span id: span fields
#: 1 and 2, exemplar fields 5 and 4.
_SPAN_ID_HEADS = (b"\x0a\x10", b"\x12\x08")
_EXEMPLAR_ID_HEADS = (b"\x2a\x10", b"\x22\x08")


def _id_rows(c: Any, n: int, heads: tuple[bytes, bytes]) -> bytes | bytearray | None:
    """trace id + span id rows of ``n`` records whose ids the columnar schema left undeclared.

    ``c`` is the scope's merged record, whose declared fields have been read: they are
    cleared here, so it serializes to its unknown fields alone, every record's two id
    fields in wire order. When each record has both ids, a 16-byte trace id and an
    8-byte span id, that is ``n`` blocks of 28 bytes with the same four head bytes at
    the same offsets (trace id first, as fields in number order put a span's; or span
    id first, as they put an exemplar's): strided copies check the heads and cut the
    rows out, in C, without a Python object per record. Empty when no record has an
    id field; None otherwise (an id missing, of another length or all zeros): the
    caller reads the records.
    """
    for field, _ in c.ListFields():
        c.ClearField(field.name)
    blob = c.SerializeToString()
    if not blob:
        return b""  # no record has an id field
    if len(blob) != 28 * n:
        return None
    trace_head, span_head = heads
    t, s = (0, 18) if blob[:2] == trace_head else (10, 0)
    for at, head in ((t, trace_head), (s, span_head)):
        if blob[at::28] != head[:1] * n or blob[at + 1 :: 28] != head[1:] * n:
            return None
    joined = gather(n, (blob, 28, t + 2, 16), (blob, 28, s + 2, 8))
    if _ZERO8 in joined and _has_zero_id(joined):
        return None
    return joined


#: A log record's unknown fields in the columnar parse (see ``_log_id_rows``): a trace id
#: (16 bytes) and a span id (8), or neither, then its observed time (fixed64).
_LOG_RECORD = re.compile(rb"(?:\x4a\x10(.{16}\x52\x08.{8}))?\x59.{8}", re.DOTALL)


def _log_id_rows(c: Any, k: int) -> bytes | None:
    """trace id + span id rows of a scope's ``k`` log records, when each has both ids or none.

    ``c`` is the scope's merged record from the columnar parse, whose declared fields
    have been used: they are cleared, so it serializes to its unknown fields alone, the
    id and observed-time fields of every record in wire order. Every record ends with
    its observed time (SDKs and receivers set it; encoders write fields in number order,
    and the ids are fields 9 and 10, the time 11), so a regular expression over those
    fixed-size fields tells the records apart and cuts the rows out, in C: background
    logs without ids no longer force a record-by-record read. Only matches that tile
    the whole buffer count. None when the fields have another shape (one id alone, an
    id of another length or all zeros, a record without an observed time): the caller
    then reads the records. (The rows of one scope share resource, file and record, so
    which record of the scope a row came from does not matter.)
    """
    for field, _ in c.ListFields():
        c.ClearField(field.name)
    blob = c.SerializeToString()
    found = _LOG_RECORD.findall(blob)  # per record: trace id, span id field, span id; or b""
    fields = _JOIN(found)
    n = len(fields) // 26
    # The matches tile the buffer (28 bytes of ids, 9 of time each), nothing skipped between;
    # with ids, one match per record. (No id field at all: no rows, whatever the records.)
    if len(blob) != 28 * n + 9 * len(found) or (n and len(found) != k):
        return None
    joined = bytes(gather(n, (fields, 26, 0, 16), (fields, 26, 18, 8)))
    if _ZERO8 in joined and _has_zero_id(joined):
        return None
    return joined


def _has_zero_id(joined: bytes | bytearray) -> bool:
    """Whether a row of joined trace id + span id rows has an all-zero id."""
    return any(
        joined[i : i + 16] == _ZERO16 or joined[i + 16 : i + 24] == _ZERO8
        for i in range(0, len(joined), 24)
    )


class _Reduced:
    """The reduced parse of a message, made the first time a scope needs its records one by one."""

    def __init__(self, cls: Any, payload: bytes) -> None:
        self._cls = cls
        self._payload = payload
        self._msg: Any = None

    def _parsed(self) -> Any:
        if self._msg is None:
            self._msg = self._cls.FromString(self._payload)
        return self._msg

    def spans(self, i: int, j: int) -> Any:
        """The spans of scope ``j`` of resource ``i``."""
        return self._parsed().resource_spans[i].scope_spans[j].spans

    def log_records(self, i: int, j: int) -> Any:
        """The log records of scope ``j`` of resource ``i``."""
        return self._parsed().resource_logs[i].scope_logs[j].log_records

    def metrics(self, i: int, j: int) -> Any:
        """The metrics of scope ``j`` of resource ``i``."""
        return self._parsed().resource_metrics[i].scope_metrics[j].metrics


def _same(value: int, n: int) -> array[int]:
    return array("i", (value,)) * n


class Observer:
    """Folds OTLP messages of one source into a Corpus.

    The loops run per message, resource and scope, not per record. Each message is
    parsed with the shape schema, which counts a scope's records, and the columnar
    schema, whose columns (every trace id of a scope, every attribute) are checked
    with ``set`` and ``in`` tests and joined in C. The reduced schema parses it a
    third time only when a scope has to be read record by record: a column that does
    not line up with the records (proto3 leaves out default values), something to
    report, addresses that the columns cannot assign. The attributes of a scope's
    records are counted as encoded KeyValues by a ``Counter`` (in C); Python looks
    once at each *distinct* KeyValue (``_tally``).
    """

    def __init__(self, corpus: Corpus) -> None:
        self.corpus = corpus
        # Encoded KeyValue prefix (tag, key, value length, value tag) -> id of its (key, value type).
        self._kt: dict[bytes, int] = {}
        # (key, value type) <-> small int ids, and a running count per id while one message is tallied.
        self._ids: dict[tuple[bytes, int], int] = {}
        self._kts: list[tuple[bytes, int]] = []
        self._acc: list[int] = []
        # (span kind, address KeyValues of a span) -> (interned address, interned peer service).
        self._addr: dict[tuple[int, frozenset[bytes]], tuple[int, int]] = {}
        # Address KeyValues whose key is in KIND_KEYS, learnt by ``_addresses``: their spans' kinds are counted.
        self._kind_kvs: set[bytes] = set()

    def _tally(
        self,
        kvs: Counter[bytes],
        ri: int,
        level: AttrLevel,
        loc: tuple[int, int],
        watch: frozenset[bytes],
    ) -> frozenset[bytes]:
        """Fold counted KeyValues into the resource's (key, type) counts; return those whose key is in ``watch``.

        The (key, type) of an encoded KeyValue is fixed by its first bytes — field tag,
        key, value length, value tag — so those bytes key a cache of small int ids, and
        a distinct KeyValue costs a slice, a look-up and a list addition. Only prefixes
        of the canonical layout are cached (``_learn``), so a hit is always right.
        """
        counts, first = self._stats(ri, level)
        if len(self._kt) > _CACHE_LIMIT or len(self._ids) > _CACHE_LIMIT:
            # Ids live only within one tally, so the caches can start again between two.
            self._kt.clear()
            self._ids.clear()
            self._kts.clear()
            self._acc.clear()
        get_id = self._kt.get
        distinct = list(kvs)
        found: list[int | None]
        try:
            # (Measured faster than the same with map/operator in C.)
            found = [get_id(kv[: kv[1] + 5]) for kv in distinct]
        except IndexError:  # a KeyValue shorter than two bytes
            found = [None] * len(distinct)
        ids: list[int]
        if None in found:
            learn = self._learn
            ids = [i if i is not None else learn(kv) for kv, i in zip(distinct, found, strict=True)]
        else:
            ids = found  # type: ignore[assignment]
        # Sums per id in a list (ints index it; tuples would be hashed twice per KeyValue).
        acc = self._acc
        for i, c in zip(ids, kvs.values(), strict=True):
            acc[i] += c
        kts = self._kts
        touched = set(ids)
        get = counts.get
        for i in touched:
            kt = kts[i]
            counts[kt] = get(kt, 0) + acc[i]
            acc[i] = 0
        if len(counts) > len(first):  # a (key, type) new to this resource: where it was first seen
            for kt in counts.keys() - first.keys():
                first[kt] = loc
        if not watch:
            return _NOTHING
        hits = {i for i in touched if kts[i][0] in watch}
        return frozenset(compress(distinct, map(hits.__contains__, ids))) if hits else _NOTHING

    def _tally_columns(
        self,
        columns: list[Any],
        ri: int,
        level: AttrLevel,
        loc: tuple[int, int],
        watch: frozenset[bytes],
    ) -> frozenset[bytes]:
        """``_tally`` over the attribute columns of a resource's scopes."""
        kvs: Counter[bytes] = Counter()
        for c in columns:
            kvs.update(c)
        return self._tally(kvs, ri, level, loc, watch)

    def _learn(self, kv: bytes) -> int:
        """The id of a KeyValue's (key, value type), read from its bytes; caches its prefix when canonical."""
        kt = key_and_type(kv)
        i = self._ids.get(kt)
        if i is None:
            i = self._ids[kt] = len(self._kts)
            self._kts.append(kt)
            self._acc.append(0)
        prefix = kv[: kv[1] + 5] if len(kv) > 1 else kv
        n = len(prefix) - 5
        # Canonical layout: 0x0a, key length < 128, key, 0x12, value length < 128, value tag.
        if (
            0 <= n < 128
            and prefix[0] == 10
            and prefix[1] == n
            and prefix[n + 2] == 18
            and prefix[n + 3] < 128
        ):
            self._kt[prefix] = i
        return i

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
                self.corpus.links.ids += key + tid + sid

    def _addresses(self, kind: int, kvs: frozenset[bytes]) -> tuple[int, int]:
        """Interned (address served or called, peer.service) of a span, cached by its attributes."""
        key = (kind, kvs)
        hit = self._addr.get(key)
        if hit is not None:
            return hit
        host = port = svc = None
        keyed = sorted(
            (_ADDRESS_RANK.get(k, 99), k, kv) for kv in kvs for k in (key_and_type(kv)[0],)
        )
        for _rank, k, kv in keyed:
            host, port, svc = _address(k, kv, kind, host, port, svc)
            if k in KIND_KEYS:
                self._kind_kvs.add(kv)
        corpus = self.corpus
        a = (
            corpus.string_index(host if port is None else f"{host}:{port}")
            if host is not None
            else -1
        )
        p = corpus.string_index(svc) if svc is not None else -1
        if len(self._addr) > _CACHE_LIMIT:
            self._addr.clear()
            self._kind_kvs.clear()  # (learnt again as the cache fills again)
        self._addr[key] = (a, p)
        return a, p

    def observe(self, signal: Signal, payload: bytes, file: int, record: int) -> int:
        """Fold one encoded TracesData / MetricsData / LogsData (or Export request).

        Returns the number of records (spans, data points, log records) it held.
        Raises ``google.protobuf.message.DecodeError`` when the bytes are not that message.
        """
        if signal is Signal.TRACES:
            return self._traces(payload, file, record)
        if signal is Signal.METRICS:
            return self._metrics(payload, file, record)
        return self._logs(payload, file, record)

    def _resource(self, raw: bytes, signal: int, loc: tuple[int, int]) -> int:
        corpus = self.corpus
        ri = corpus.resource_index(raw)
        facts = corpus.resources[ri]
        facts.signals[signal] += 1
        if facts.first[signal] is None:
            facts.first[signal] = loc
        corpus.file_resources.add((loc[0], ri))
        return ri

    def _stats(
        self, ri: int, level: AttrLevel
    ) -> tuple[dict[tuple[bytes, int], int], dict[tuple[bytes, int], tuple[int, int]]]:
        key = (ri, int(level))
        corpus = self.corpus
        counts = corpus.attr_counts.get(key)
        if counts is None:
            counts = corpus.attr_counts[key] = {}
            corpus.attr_first[key] = {}
        return counts, corpus.attr_first[key]

    def _rows(self, table: Any, ri: int, n: int, file: int, record: int) -> None:
        """Append ``n`` rows' resource, file and record columns."""
        table.res.extend(_same(ri, n))
        table.file.extend(_same(file, n))
        table.rec.extend(_same(record, n))

    # -- traces ------------------------------------------------------------------
    def _traces(self, payload: bytes, file: int, record: int) -> int:
        shape = STracesData.FromString(payload)
        cols = CTracesData.FromString(payload)
        reduced = _Reduced(RTracesData, payload)
        loc = (file, record)
        total = 0
        spans = self.corpus.spans
        for i, (rs, rcols) in enumerate(
            zip(shape.resource_spans, cols.resource_spans, strict=True)
        ):
            ri = self._resource(rs.resource, Signal.TRACES, loc)
            n = 0
            for j, (ss, cs) in enumerate(zip(rs.scope_spans, rcols.scope_spans, strict=True)):
                c = cs.spans
                # Materialized once: the Counter hashes each KeyValue, and the address sets reuse the hashes.
                attrs = c.attributes[:]  # (a slice is built in one C call: faster than list())
                kvs = Counter(attrs)
                watched = self._tally(kvs, ri, AttrLevel.SPAN, loc, ADDRESS_KEYS)
                events = (
                    c.events.attributes
                )  # every span event's attributes (read before _spans clears c)
                if events:
                    self._tally(Counter(events), ri, AttrLevel.EVENT, loc, _NOTHING)
                k = len(ss.spans)
                n += k
                records = partial(reduced.spans, i, j)
                before = len(spans.kind)
                self._spans(k, records, c, attrs, kvs, watched, ri, loc)
                if watched and not self._kind_kvs.isdisjoint(watched):
                    self._count_kinds(watched, kvs, spans.kind[before:], records, ri)
            self.corpus.resources[ri].counts[SPANS] += n
            total += n
        return total

    def _count_kinds(
        self,
        watched: frozenset[bytes],
        kvs: Counter[bytes],
        kinds: bytes | bytearray,
        records: Callable[[], Any],
        ri: int,
    ) -> None:
        """Count the span kinds that carry KIND_KEYS attributes (their replacement depends on the kind).

        ``kinds`` are the kinds of the scope's spans just added. In a scope of one kind
        the counts are the KeyValues' counts; otherwise the spans are read one by one.
        """
        kind_keys = self.corpus.kind_keys
        mine = watched & self._kind_kvs
        if kinds and kinds.count(kinds[0]) == len(kinds):
            for kv in mine:
                entry = (ri, key_and_type(kv)[0], kinds[0])
                kind_keys[entry] = kind_keys.get(entry, 0) + kvs[kv]
            return
        for sp in records():
            for kv in mine.intersection(sp.attributes):
                entry = (ri, key_and_type(kv)[0], sp.kind if 0 <= sp.kind < 256 else 0)
                kind_keys[entry] = kind_keys.get(entry, 0) + 1

    def _spans(
        self,
        n: int,
        records: Callable[[], Any],
        c: Any,
        attrs: list[bytes],
        kvs: Counter[bytes],
        watched: frozenset[bytes],
        ri: int,
        loc: tuple[int, int],
    ) -> None:
        """Append a scope's ``n`` spans to the span table.

        ``c`` holds them as columns, ``attrs`` their attributes in order, ``kvs`` those
        counted, and ``watched`` the address attributes among them. ``records()`` parses
        them one by one (the reduced schema), for what the columns cannot tell.
        """
        if not n:
            return
        # The columns are read before _id_rows clears them.
        kinds = c.kind[:]
        flags = c.flags[:]
        linked = len(c.links) > 0
        parents = c.parent_span_id[:]
        joined = _id_rows(c, n, _SPAN_ID_HEADS)
        if not joined:
            self._spans_one_by_one(records(), watched, ri, loc)
            return
        if len(kinds) != n:
            kinds = list(map(_KIND, records()))
        # A root has no parent id (a zero one in the column); a zero id sent is a bad one.
        if len(parents) == n:
            pids = sent = parents
        elif not parents:
            pids, sent = [_ZERO8] * n, []
        else:
            sent = list(map(_PARENT, records()))
            pids = [p or _ZERO8 for p in sent]
        column = _JOIN(pids)
        try:
            kind_column = bytes(kinds)  # a kind beyond 0-255 is read span by span
        except ValueError:
            kind_column = b""
        # (Eight zero bytes in the joined ids are rare unless an id is zero: then look closer.)
        zero_sent = _ZERO8 in (column if sent is pids else _JOIN(sent)) and _ZERO8 in sent
        if zero_sent or len(kind_column) != n or set(map(len, pids)) != _LEN8:
            self._spans_one_by_one(records(), watched, ri, loc)
            return
        table = self.corpus.spans
        table.ids += joined
        table.parent += column
        table.kind += kind_column
        if len(flags) == n:
            table.flags.extend(flags)
        elif not flags:
            table.flags.extend(array("I", (0,)) * n)
        else:
            table.flags.extend(map(_FLAGS, records()))
        if watched:
            self._span_addresses(records, kinds, attrs, kvs, watched, table)
        else:
            table.addr.extend(_same(-1, n))
            table.peer.extend(_same(-1, n))
        self._rows(table, ri, n, *loc)
        if linked:
            for i, (sp, k) in enumerate(zip(records(), kinds, strict=True)):
                if k in (CONSUMER, SERVER) and sp.links:
                    self._links(bytes(joined[24 * i : 24 * i + 24]), sp.links)

    def _span_addresses(
        self,
        records: Callable[[], Any],
        kinds: list[int],
        attrs: list[bytes],
        kvs: Counter[bytes],
        watched: frozenset[bytes],
        table: Spans,
    ) -> None:
        """Append the address and peer columns: only CLIENT/SERVER/PRODUCER/CONSUMER spans have them.

        In a scope of one kind of call where every address key occurs n times among the
        n spans, each span has each key once (attribute keys are unique within a span:
        the OTLP data model), so the i-th occurrence of a key in the scope's column
        (``attrs``, in span order) is span i's. A key with one value gives it to every
        span (an HTTP client calling one service, a server's own address); a key with
        several (a client calling several services) is read in column order, in C, and
        each distinct combination is looked up once. Otherwise a span's attributes are
        its slice of the column, cut at the running sum of the spans' attribute counts;
        the KeyValues there already carry their hashes from the ``Counter``.
        """
        n = len(kinds)
        kind = kinds[0]
        if (
            _HAS_ADDRESS[kind]
            and kinds.count(kind) == n
            and self._addresses_in_order(kind, n, attrs, kvs, watched, table)
        ):
            return
        mask = bytes(kinds).translate(_HAS_ADDRESS)
        spans = records()
        ends = list(accumulate(map(len, map(_ATTRS, spans))))
        if not ends or ends[-1] != len(attrs):
            found = map(watched.intersection, map(_ATTRS, compress(spans, mask)))
        else:
            cuts = map(slice, compress(chain((0,), ends), mask), compress(ends, mask))
            found = map(watched.intersection, map(attrs.__getitem__, cuts))
        keys = list(zip(compress(kinds, mask), found, strict=True))
        cached = list(map(self._addr.get, keys))
        got: list[tuple[int, int]]
        if None in cached:
            addresses = self._addresses
            got = [
                ap if ap is not None else addresses(*key)
                for ap, key in zip(cached, keys, strict=True)
            ]
        else:
            got = cached  # type: ignore[assignment]
        if len(got) == len(kinds):
            table.addr.extend([a for a, _ in got])
            table.peer.extend([p for _, p in got])
            return
        it = iter(got)
        full = [next(it) if m else _NO_ADDRESS for m in mask]
        table.addr.extend([a for a, _ in full])
        table.peer.extend([p for _, p in full])

    def _addresses_in_order(
        self,
        kind: int,
        n: int,
        attrs: list[bytes],
        kvs: Counter[bytes],
        watched: frozenset[bytes],
        table: Spans,
    ) -> bool:
        """``_span_addresses`` for n spans of one kind when every address key occurs n times; False otherwise."""
        by_key: dict[bytes, list[bytes]] = {}
        for kv in watched:
            by_key.setdefault(key_and_type(kv)[0], []).append(kv)
        if any(sum(map(kvs.__getitem__, group)) != n for group in by_key.values()):
            return False
        fixed = frozenset(group[0] for group in by_key.values() if len(group) == 1)
        varying = [frozenset(group) for group in by_key.values() if len(group) > 1]
        if not varying:
            a, p = self._addresses(kind, fixed)
            table.addr.extend(_same(a, n))
            table.peer.extend(_same(p, n))
            return True
        # Span i's value of each varying key, in column order.
        combos = list(zip(*(_in_order(values, attrs, n) for values in varying), strict=True))
        found = {combo: self._addresses(kind, fixed.union(combo)) for combo in set(combos)}
        got = list(map(found.__getitem__, combos))
        table.addr.extend(map(_FIRST, got))
        table.peer.extend(map(_SECOND, got))
        return True

    def _unusable(self, record: str, tid: bytes, sid: bytes, ri: int, loc: tuple[int, int]) -> bool:
        """Report a trace or span id that cannot join (wrong length, all zeros); True when one cannot."""
        if len(tid) != 16 or tid == _ZERO16:
            self.corpus.add_bad_id(ri, f"{record}.trace_id", _id_problem(tid), loc)
            return True
        if len(sid) != 8 or sid == _ZERO8:
            self.corpus.add_bad_id(ri, f"{record}.span_id", _id_problem(sid), loc)
            return True
        return False

    def _spans_one_by_one(
        self, spans: Any, watched: frozenset[bytes], ri: int, loc: tuple[int, int]
    ) -> None:
        """The same as ``_spans`` a span at a time, reporting the ones whose ids are unusable."""
        corpus = self.corpus
        table = corpus.spans
        for sp in spans:
            tid = sp.trace_id
            sid = sp.span_id
            if self._unusable("span", tid, sid, ri, loc):
                continue
            pid = sp.parent_span_id
            if pid and (len(pid) != 8 or pid == _ZERO8):
                corpus.add_bad_id(ri, "span.parent_span_id", _id_problem(pid), loc)
                pid = _ZERO8
            kind = sp.kind
            kind = kind if 0 <= kind < 256 else 0
            hit = watched.intersection(sp.attributes) if watched and _HAS_ADDRESS[kind] else None
            a, p = self._addresses(kind, hit) if hit else _NO_ADDRESS
            if kind in (CONSUMER, SERVER) and sp.links:
                self._links(tid + sid, sp.links)
            table.ids += tid
            table.ids += sid
            table.parent += pid or _ZERO8
            table.kind.append(kind)
            table.flags.append(sp.flags)
            table.addr.append(a)
            table.peer.append(p)
            self._rows(table, ri, 1, *loc)

    # -- logs --------------------------------------------------------------------
    def _logs(self, payload: bytes, file: int, record: int) -> int:
        shape = SLogsData.FromString(payload)
        cols = CLogsData.FromString(payload)
        reduced = _Reduced(RLogsData, payload)
        corpus = self.corpus
        loc = (file, record)
        total = 0
        for i, (rl, rcols) in enumerate(zip(shape.resource_logs, cols.resource_logs, strict=True)):
            ri = self._resource(rl.resource, Signal.LOGS, loc)
            columns = [sl.log_records for sl in rcols.scope_logs]
            watched = self._tally_columns(
                [c.attributes for c in columns], ri, AttrLevel.LOG, loc, LOG_ID_KEYS
            )
            n = idattr_noids = idattr = 0
            rows: list[bytes] = []
            for j, (sl, c) in enumerate(zip(rl.scope_logs, columns, strict=True)):
                k = len(sl.log_records)
                n += k
                marked: list[bool] | None = None
                if not watched:
                    joined = _log_id_rows(c, k)
                    if joined is not None:
                        rows.append(joined)
                        continue
                records = reduced.log_records(i, j)
                if watched:
                    marked = [not watched.isdisjoint(a) for a in map(_ATTRS, records)]
                    idattr += sum(marked)
                for r, (tid, sid) in enumerate(map(_IDS, records)):
                    if len(tid) == 16 and len(sid) == 8 and tid != _ZERO16 and sid != _ZERO8:
                        rows.append(tid + sid)
                        continue
                    if not tid and not sid:
                        if marked is not None and marked[r]:
                            idattr_noids += 1
                        continue
                    if len(tid) != 16 or tid == _ZERO16:
                        corpus.add_bad_id(ri, "log.trace_id", _id_problem(tid), loc)
                        continue
                    if not sid:
                        # A trace id alone still joins the log to its trace, not its span.
                        rows.append(tid + _ZERO8)
                        continue
                    corpus.add_bad_id(ri, "log.span_id", _id_problem(sid), loc)
            ids = _JOIN(rows)  # whole scopes' rows and single rows, 24 bytes each
            if ids:
                corpus.logs.ids += ids
                self._rows(corpus.logs, ri, len(ids) // 24, file, record)
            facts = corpus.resources[ri]
            facts.counts[LOGS] += n
            facts.counts[LOGS_WITH_IDS] += len(ids) // 24
            facts.counts[LOGS_IDATTR_NO_IDS] += idattr_noids
            facts.counts[LOGS_IDATTR] += idattr
            total += n
        return total

    # -- metrics -----------------------------------------------------------------
    def _metrics(self, payload: bytes, file: int, record: int) -> int:
        msg = SMetricsData.FromString(payload)
        cols = CMetricsData.FromString(payload)
        reduced = _Reduced(RMetricsData, payload)
        corpus = self.corpus
        loc = (file, record)
        total = 0
        for i, (rm, rcols) in enumerate(
            zip(msg.resource_metrics, cols.resource_metrics, strict=True)
        ):
            ri = self._resource(rm.resource, Signal.METRICS, loc)
            n = n_ex = 0
            kvs: Counter[bytes] = Counter()
            rows: list[bytes | bytearray] = []
            for j, (sm, scols) in enumerate(
                zip(rm.scope_metrics, rcols.scope_metrics, strict=True)
            ):
                counts = Counter(map(_WHICH, sm.metrics))
                merged = scols.metrics
                for which, points in (
                    ("gauge", merged.gauge.data_points),
                    ("sum", merged.sum.data_points),
                    ("histogram", merged.histogram.data_points),
                    ("exponential_histogram", merged.exponential_histogram.data_points),
                    ("summary", merged.summary.data_points),
                ):
                    if not counts[which]:
                        continue
                    kvs.update(points.attributes)
                    if which == "summary":
                        continue
                    ex = points.exemplars
                    # Exemplars are counted by their timestamps (which SDKs always set): an
                    # exemplar without one, and without ids, would go uncounted.
                    k = len(ex.time_unix_nano)
                    joined = _id_rows(ex, k, _EXEMPLAR_ID_HEADS)
                    if joined is None:
                        n_ex += self._exemplars_one_by_one(
                            reduced.metrics(i, j), which, ri, loc, rows
                        )
                    else:  # (empty when no exemplar has ids: they count, and join nothing)
                        if joined:
                            rows.append(joined)
                        n_ex += k
                for metric in sm.metrics:
                    which = metric.WhichOneof("data")
                    if which is not None:
                        n += len(getattr(metric, which).data_points)
            self._tally(kvs, ri, AttrLevel.POINT, loc, _NOTHING)
            ids = _JOIN(rows)  # whole columns' rows and single rows, 24 bytes each
            if ids:
                corpus.exemplars.ids += ids
                self._rows(corpus.exemplars, ri, len(ids) // 24, file, record)
            facts = corpus.resources[ri]
            facts.counts[POINTS] += n
            facts.counts[EXEMPLARS] += n_ex
            total += n
        return total

    def _exemplars_one_by_one(
        self, metrics: Any, which: str, ri: int, loc: tuple[int, int], rows: list[bytes | bytearray]
    ) -> int:
        """Exemplars of a scope's ``which`` metrics one at a time; returns how many there were."""
        n = 0
        for metric in metrics:
            if metric.WhichOneof("data") != which:
                continue
            for dp in getattr(metric, which).data_points:
                for e in dp.exemplars:
                    n += 1
                    tid = e.trace_id
                    sid = e.span_id
                    if (tid or sid) and not self._unusable("exemplar", tid, sid, ri, loc):
                        rows.append(tid + sid)
        return n


#: Which address attribute wins when a span has several (lower first).
_ADDRESS_RANK = {
    b"server.address": 0,
    b"server.port": 0,
    b"net.peer.name": 1,
    b"net.host.name": 1,
    b"net.peer.port": 1,
    b"net.host.port": 1,
}


def _in_order(values: frozenset[bytes], attrs: list[bytes], n: int) -> list[bytes]:
    """The n KeyValues of ``attrs`` that are in ``values``, in column order (one per span).

    When every span has as many attributes as the next (the scope's column holds n
    times c), the key sits at the same place in each, every c-th KeyValue from its
    first: a strided slice, checked to hold only ``values``, finds them in n steps
    instead of a pass over the whole column. (Any n positions that all hold one of
    these n KeyValues are all of them, in order, whatever the spans' sizes.)
    """
    c, rest = divmod(len(attrs), n)
    if not rest:
        first = next((i for i, kv in enumerate(attrs[:c]) if kv in values), None)
        if first is not None:
            column = attrs[first::c]
            if len(column) == n and values.issuperset(column):
                return column
    return list(filter(values.__contains__, attrs))


def _id_problem(raw: bytes) -> str:
    if not raw:
        return "empty"
    if not any(raw):
        return "all-zero"
    return f"{len(raw)}-bytes"


def _address(
    key: bytes, kv: bytes, kind: int, host: Any, port: Any, svc: Any
) -> tuple[Any, Any, Any]:
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
        if (
            (k == "server.port")
            or (client and k == "net.peer.port")
            or (not client and k == "net.host.port")
        ):
            return host, (port if port is not None and k != "server.port" else str(value)), svc
        return host, port, svc
    if (
        k == "server.address"
        or (client and k == "net.peer.name")
        or (not client and k in ("net.host.name", "http.host"))
    ):
        text = str(value).lower()
        if k == "http.host" and ":" in text:
            text, _, p = text.partition(":")
            port = port or p
        if k == "server.address" or host is None:
            host = text
    return host, port, svc
