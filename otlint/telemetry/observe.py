"""The hot loop: OTLP protobuf bytes -> facts in a Corpus.

This is the only code that touches every record, so it avoids touching them one by one:
the loops run per message, resource and scope, and C code (upb, ``bytes``, ``Counter``,
``re``, ``struct``) handles the records. The idioms, and why each is here:

* **Reduced schemas** (``reduced_classes``): copies of the OTLP descriptors, made at
  import time, in which every ``string`` is ``bytes`` (one bad UTF-8 string is a finding,
  not a rejected message), every ``KeyValue`` is raw bytes (its key and value type are
  sliced out of it, its value decoded only when a rule needs it) and ``Resource`` is raw
  bytes (decoded once per distinct resource, and the key that deduplicates it). Each
  message is parsed with two of them, and sometimes a third:

  - the *shape* schema keeps records as raw bytes, only to count them (an eighth of
    the cost of a full parse);
  - the *columnar* schema declares a scope's records as one message, so that upb merges
    their fields into columns (every span's kind in one list, every attribute in
    another); fields whose order matters (the ids) are left undeclared, and read in
    wire order from the merged record's unknown fields;
  - the *reduced* schema parses the records one by one, only when a scope needs it
    (``_Reduced``): a column that does not line up, something to report.

* **Attributes are counted, not visited** (``Observer._tally``): a scope's encoded
  KeyValues go into a ``Counter``; Python looks once at each distinct KeyValue, and a
  cache keyed by its first bytes (tag, key, value length, value tag) gives its (key,
  value type) without parsing it.
* **Column shortcuts** (``SHORTCUTS``): a scope's ids, span columns and call addresses
  are cut out of those columns by strided copies, ``bytes.translate`` and a regular
  expression over tag bytes, without a Python object per record.
* Caches (KeyValue prefixes, the addresses of a set of address attributes) are cleared
  when they outgrow ``_CACHE_LIMIT``; everything they hold can be computed again.

The invariant, for every shortcut: it gives exactly what reading the message a record
at a time with the protobuf message classes gives, or it declines (None) and the caller
reads the records. A column counts only when its length is the number of records
(proto3 leaves out a field at its default: a root span has no parent id), and a value
that must be reported (an id of the wrong length or all zeros) makes the caller read
the records. Each shortcut is registered in ``SHORTCUTS`` beside its plain reading,
and ``tests/test_shortcuts.py`` runs every one against it, on SDK output and on
messages built to break it. What a shortcut still misreads is a message that breaks
OTLP or protobuf's own rules in a particular way (a singular field sent twice, an
attribute key repeated within a span): each entry's ``misreads`` says which, and the
test pins them.
"""

from __future__ import annotations

import re
from array import array
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import partial
from itertools import compress
from operator import attrgetter, itemgetter, methodcaller
from typing import Any, TypeVar

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from opentelemetry.proto.common.v1 import common_pb2
from opentelemetry.proto.logs.v1 import logs_pb2
from opentelemetry.proto.metrics.v1 import metrics_pb2
from opentelemetry.proto.trace.v1 import trace_pb2

from otlint.core.redact import carrying, mask_secrets, scanned_key, secrets_in
from otlint.core.wire import (
    ADDRESS_KEYS,
    CLIENT,
    CONSUMER,
    KIND_KEYS,
    LOG_ID_KEYS,
    PRODUCER,
    SERVER,
    decode_anyvalue,
    decode_keyvalue,
    key_and_type,
    wire_fields,
)
from otlint.telemetry.corpus.columns import Ints
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
    Loc,
    Signal,
    Table,
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


# -- the column shortcuts, each beside its plain reading -----------------------------


@dataclass(frozen=True)
class Shortcut:
    """A column shortcut of the hot loop, registered beside its plain reading.

    ``fast(payload)`` applies the shortcut to each unit of an encoded message (a scope's
    records, or its points of one kind) as the hot loop does: what it reads, or None
    where it declines and the hot loop reads the records instead. ``plain(payload)``
    reads the same units a record at a time with the protobuf message classes: what
    the hot loop must take, or None where it must read the records itself (an id to
    report). They agree when each unit of ``fast`` is None or equal to ``plain``'s, and
    None wherever ``plain``'s is. ``misreads`` names the messages they do not agree on
    (each breaks a rule of OTLP or protobuf).
    """

    name: str
    signal: Signal
    fast: Callable[[bytes], list[Any]]
    plain: Callable[[bytes], list[Any]]
    misreads: str


#: Every column shortcut, by name.
SHORTCUTS: dict[str, Shortcut] = {}

_F = TypeVar("_F", bound=Callable[[bytes], list[Any]])


def _shortcut(
    name: str, signal: Signal, plain: Callable[[bytes], list[Any]], misreads: str
) -> Callable[[_F], _F]:
    """Register the decorated ``fast`` function of a shortcut beside its ``plain`` reading."""

    def register(fast: _F) -> _F:
        SHORTCUTS[name] = Shortcut(name, signal, fast, plain, misreads)
        return fast

    return register


def _usable(tid: bytes, sid: bytes) -> bool:
    """Whether a trace id and a span id can join: 16 and 8 bytes, neither all zeros."""
    return len(tid) == 16 and len(sid) == 8 and tid != _ZERO16 and sid != _ZERO8


def _plain_ids(pairs: Iterable[tuple[bytes, bytes]]) -> bytes | None:
    """Rows of records' (trace id, span id): all of them when each can join, b"" when no
    record has an id, None otherwise (one to report)."""
    pairs = list(pairs)
    if all(not tid and not sid for tid, sid in pairs):
        return b""
    if all(_usable(tid, sid) for tid, sid in pairs):
        return _JOIN(tid + sid for tid, sid in pairs)
    return None


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
    id field; None otherwise (an id missing, of another length or all zeros, or any
    other field left undeclared): the caller reads the records.
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


def _has_zero_id(joined: bytes | bytearray) -> bool:
    """Whether a row of joined trace id + span id rows has an all-zero id."""
    return any(
        joined[i : i + 16] == _ZERO16 or joined[i + 16 : i + 24] == _ZERO8
        for i in range(0, len(joined), 24)
    )


#: A scope's span rows: (trace id + span id, parent span id, kind, flags), a column each.
SpanRows = tuple[bytes | bytearray, bytes, bytes, Ints]


def _span_rows(c: Any, n: int, records: Callable[[], Any]) -> SpanRows | None:
    """A scope's ``n`` span rows, from its merged record ``c`` (the columnar parse).

    The ids come from ``_id_rows``. A column shorter than ``n`` is one that proto3 left
    out for some spans (a root has no parent id, most spans no flags): an empty one is
    all defaults, a partial one is read from ``records()`` (the spans one by one, the
    reduced parse). None when a span has to be read on its own: an id to report (one
    missing, of another length, all zeros, a zero parent id sent) or a kind beyond 255.
    """
    # The columns are read before _id_rows clears them.
    kinds = c.kind[:]
    flags = c.flags[:]
    parents = c.parent_span_id[:]
    joined = _id_rows(c, n, _SPAN_ID_HEADS)
    if not joined:
        return None
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
        kind_column = bytes(kinds)
    except ValueError:
        return None  # a kind beyond 0-255
    # (Eight zero bytes in the joined ids are rare unless an id is zero: then look closer.)
    zero_sent = _ZERO8 in (column if sent is pids else _JOIN(sent)) and _ZERO8 in sent
    if zero_sent or len(kind_column) != n or set(map(len, pids)) != _LEN8:
        return None
    if len(flags) == n:
        flag_column = array("I", flags)
    elif not flags:
        flag_column = array("I", (0,)) * n
    else:
        flag_column = array("I", map(_FLAGS, records()))
    return joined, column, kind_column, flag_column


def _plain_span_rows(payload: bytes) -> list[SpanRows | None]:
    """``_span_rows`` of each scope, span by span with ``trace_pb2``."""
    out: list[SpanRows | None] = []
    for rs in trace_pb2.TracesData.FromString(payload).resource_spans:
        for ss in rs.scope_spans:
            spans = ss.spans
            ids = _plain_ids((sp.trace_id, sp.span_id) for sp in spans)
            sent = [sp.parent_span_id for sp in spans]
            if (
                not ids
                or any(p and (len(p) != 8 or p == _ZERO8) for p in sent)
                or not all(0 <= sp.kind < 256 for sp in spans)
            ):
                out.append(None)
                continue
            parents = _JOIN(p or _ZERO8 for p in sent)
            kinds = bytes(sp.kind for sp in spans)
            out.append((ids, parents, kinds, array("I", (sp.flags for sp in spans))))
    return out


@_shortcut(
    "span rows",
    Signal.TRACES,
    _plain_span_rows,
    misreads="a span that sends its trace id twice followed by one that sends none; a "
    "span kind, parent id or flags field sent twice, or a kind or flags packed",
)
def _fast_span_rows(payload: bytes) -> list[SpanRows | None]:
    """``_span_rows`` of each scope, as ``Observer._spans`` calls it."""
    shape, cols = STracesData.FromString(payload), CTracesData.FromString(payload)
    reduced = _Reduced(RTracesData, payload)
    out: list[SpanRows | None] = []
    for i, (rs, rc) in enumerate(zip(shape.resource_spans, cols.resource_spans, strict=True)):
        for j, (ss, cs) in enumerate(zip(rs.scope_spans, rc.scope_spans, strict=True)):
            got = _span_rows(cs.spans, len(ss.spans), partial(reduced.spans, i, j))
            out.append(None if got is None else (bytes(got[0]), *got[1:]))
    return out


def _plain_exemplar_ids(payload: bytes) -> list[tuple[int, bytes | None]]:
    """Per scope and kind of point: (exemplars, their id rows as ``_plain_ids`` gives them)."""
    out = []
    for rm in metrics_pb2.MetricsData.FromString(payload).resource_metrics:
        for sm in rm.scope_metrics:
            for which in _EXEMPLAR_KINDS:
                metrics = [m for m in sm.metrics if m.WhichOneof("data") == which]
                if metrics:
                    ex = [
                        e
                        for m in metrics
                        for dp in getattr(m, which).data_points
                        for e in dp.exemplars
                    ]
                    out.append((len(ex), _plain_ids((e.trace_id, e.span_id) for e in ex)))
    return out


#: The kinds of points that carry exemplars, in the order the hot loop reads them.
_EXEMPLAR_KINDS = ("gauge", "sum", "histogram", "exponential_histogram")


def _point_columns(sm: Any, scols: Any) -> list[tuple[str, Any]]:
    """(kind, merged points) of the kinds of points a scope's metrics hold, in order."""
    present = Counter(map(_WHICH, sm.metrics))
    merged = scols.metrics
    return [
        (which, getattr(merged, which).data_points)
        for which in (*_EXEMPLAR_KINDS, "summary")
        if present[which]
    ]


@_shortcut(
    "exemplar ids",
    Signal.METRICS,
    _plain_exemplar_ids,
    misreads="an exemplar without a timestamp and without ids is not counted (OTLP sets "
    "the timestamp); an exemplar that sends an id twice followed by one that sends none",
)
def _fast_exemplar_ids(payload: bytes) -> list[tuple[int, bytes | None] | None]:
    """(exemplars, ``_id_rows``) per scope and kind of point, as ``Observer._metrics`` reads them."""
    shape, cols = SMetricsData.FromString(payload), CMetricsData.FromString(payload)
    out: list[tuple[int, bytes | None] | None] = []
    for rm, rc in zip(shape.resource_metrics, cols.resource_metrics, strict=True):
        for sm, sc in zip(rm.scope_metrics, rc.scope_metrics, strict=True):
            for which, points in _point_columns(sm, sc):
                if which != "summary":
                    ex = points.exemplars
                    k = len(ex.time_unix_nano)
                    joined = _id_rows(ex, k, _EXEMPLAR_ID_HEADS)
                    out.append(None if joined is None else (k, bytes(joined)))
    return out


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
    logs without ids do not force a record-by-record read. Only matches that tile the
    whole buffer count. None when the fields have another shape (one id alone, an id of
    another length or all zeros, a record without an observed time): the caller then
    reads the records. (The rows of one scope share resource, file and record, so which
    record of the scope a row came from does not matter.)
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


def _plain_log_ids(payload: bytes) -> list[bytes | None]:
    """Per scope, the id rows of its log records when each has both ids or neither, else None."""
    out: list[bytes | None] = []
    for rl in logs_pb2.LogsData.FromString(payload).resource_logs:
        for sl in rl.scope_logs:
            pairs = [(r.trace_id, r.span_id) for r in sl.log_records if r.trace_id or r.span_id]
            out.append(_JOIN(t + s for t, s in pairs) if all(_usable(*p) for p in pairs) else None)
    return out


@_shortcut(
    "log ids",
    Signal.LOGS,
    _plain_log_ids,
    misreads="a trace-only log whose observed time precedes its trace id, followed by a "
    "log with only a span id; a log record that sends an id or its observed time twice",
)
def _fast_log_ids(payload: bytes) -> list[bytes | None]:
    """``_log_id_rows`` of each scope, as ``Observer._logs`` calls it."""
    shape, cols = SLogsData.FromString(payload), CLogsData.FromString(payload)
    return [
        _log_id_rows(sc.log_records, len(sl.log_records))
        for rl, rc in zip(shape.resource_logs, cols.resource_logs, strict=True)
        for sl, sc in zip(rl.scope_logs, rc.scope_logs, strict=True)
    ]


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


#: AnyValue types whose values may carry a credential: string, array, kvlist.
_SCANNED_TYPES = frozenset({1, 5, 6})


def _kv_secrets(raw: bytes) -> list[tuple[str, str]]:
    """(key, kind) of the credentials an encoded KeyValue carries (none when it is no KeyValue)."""
    try:
        key, (_, value) = decode_keyvalue(raw)
    except (ValueError, IndexError):  # (NestingTooDeep is a ValueError)
        return []
    return secrets_in(key, value)


def _body_secrets(raw: bytes) -> list[tuple[str, str]]:
    """(key, kind) of the credentials an encoded log body (AnyValue) carries, under key ``body``
    (one ``redact.carrying`` picked)."""
    try:
        _, value = decode_anyvalue(raw)
    except (ValueError, IndexError):  # (NestingTooDeep is a ValueError)
        return []
    return secrets_in("body", value)


class _Scan:
    """What ``Observer._secrets`` searches with, and the values it has searched: clean ones,
    and those carrying credentials with their (key, kind)s, up to ``limit`` of each (log
    bodies are long and mostly distinct: they are kept fewer of than KeyValues)."""

    __slots__ = ("clean", "dirty", "limit", "search")

    def __init__(self, search: Callable[[bytes], list[tuple[str, str]]], limit: int) -> None:
        self.search = search
        self.limit = limit
        self.clean: set[bytes] = set()
        self.dirty: dict[bytes, list[tuple[str, str]]] = {}


class Observer:
    """Folds OTLP messages of one source into a Corpus (how, and why so: the module docstring).

    Per message: the shape parse counts each scope's records, the columnar parse gives
    its columns to ``_tally`` and the column shortcuts, and the reduced parse runs only
    for a scope that has to be read record by record (``*_one_by_one``).
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
        # Ids of the (key, type)s whose values are scanned for credentials (``_secrets``), and
        # the KeyValues and log bodies scanned: clean, or -> the (key, kind)s they carry.
        self._carriers: set[int] = set()
        self._kv_scan = _Scan(_kv_secrets, _CACHE_LIMIT)
        self._body_scan = _Scan(_body_secrets, _CACHE_LIMIT // 10)

    def rebind(self, corpus: Corpus) -> None:
        """Fold into ``corpus`` from now on, as a new Observer of it would (what it learnt of
        keys and values still holds; the addresses it interned were the old corpus')."""
        self.corpus = corpus
        self._addr.clear()
        self._kind_kvs.clear()

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
            self._carriers.clear()
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
        carriers = self._carriers
        if carriers and not carriers.isdisjoint(touched):
            picked = list(map(carriers.intersection(touched).__contains__, ids))
            self._secrets(self._kv_scan, compress(distinct, picked), lambda: kvs, ri, level, loc)
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
            if kt[1] in _SCANNED_TYPES and scanned_key(kt[0].decode("utf-8", "replace")):
                self._carriers.add(i)
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

    def _secrets(
        self,
        scan: _Scan,
        values: Iterable[bytes],
        counts: Callable[[], Mapping[bytes, int]],
        ri: int,
        level: AttrLevel,
        loc: Loc,
    ) -> None:
        """Count the credentials in encoded values (KeyValues, or log bodies): the distinct ones
        not searched before are narrowed by one search of them all (``redact.carrying``), and
        only those it picks are decoded and searched by ``scan``; ``counts()``: the records
        holding each value (asked for only when one carries a credential)."""
        clean, dirty = scan.clean, scan.dirty
        fresh = set(values).difference(clean)
        if not fresh:
            return
        unknown = [raw for raw in fresh if raw not in dirty] if dirty else list(fresh)
        if unknown:
            if len(clean) + len(unknown) > scan.limit:
                clean.clear()
            if len(dirty) > scan.limit:
                dirty.clear()
            picked = carrying(unknown)
            clean.update(raw for i, raw in enumerate(unknown) if i not in picked)
            for i in picked:
                raw = unknown[i]
                kinds = scan.search(raw)
                if kinds:
                    dirty[raw] = kinds
                else:
                    clean.add(raw)
        held = fresh.intersection(dirty) if dirty else None
        if not held:
            return
        found = self.corpus.secrets
        lvl = int(level)
        count = counts()
        for raw in held:
            n = count[raw]
            for key, kind in dirty[raw]:
                entry = found.get((ri, lvl, key, kind))
                if entry is None:
                    found[(ri, lvl, key, kind)] = [n, loc]
                else:
                    entry[0] += n

    def _links(self, key: bytes, links: Any) -> None:
        """Keep (span, linked span) pairs: how a batch consumer names its producers."""
        for raw in links:
            tid = sid = b""
            try:
                for num, wt, val in wire_fields(raw):
                    if wt != 2:
                        continue  # (a varint here would make bytes(n): n zero bytes)
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
        address, svc = address_of(kind, kvs)
        self._kind_kvs.update(kv for kv in kvs if key_and_type(kv)[0] in KIND_KEYS)
        corpus = self.corpus
        a = corpus.string_index(address) if address is not None else -1
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
        if not any(facts.signals):  # new to this corpus: the credentials its attributes carry
            for key, (_, value) in facts.attrs.items():
                for sub, kind in secrets_in(key, value):
                    corpus.secrets.setdefault((ri, int(AttrLevel.RESOURCE), sub, kind), [0, loc])
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

    def _rows(self, table: Table, ri: int, n: int, file: int, record: int) -> None:
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
                self._spans(k, records, c, attrs, kvs, watched, ri, loc)
                if watched and not self._kind_kvs.isdisjoint(watched):
                    self._count_kinds(watched, records, ri)
            self.corpus.resources[ri].counts[SPANS] += n
            total += n
        return total

    def _count_kinds(self, watched: frozenset[bytes], records: Callable[[], Any], ri: int) -> None:
        """Count the kinds of the spans that carry a KIND_KEYS attribute (its replacement
        depends on the kind), span by span."""
        kind_keys = self.corpus.kind_keys
        mine = watched & self._kind_kvs
        for sp in records():
            kind = sp.kind if 0 <= sp.kind < 256 else 0
            for kv in mine.intersection(sp.attributes):
                entry = (ri, key_and_type(kv)[0], kind)
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
        linked = len(c.links) > 0  # (read before _span_rows clears c)
        got = _span_rows(c, n, records)
        if got is None:
            self._spans_one_by_one(records(), watched, ri, loc)
            return
        ids, parents, kinds, flags = got
        table = self.corpus.spans
        table.ids += ids
        table.parent += parents
        table.kind += kinds
        table.flags.extend(flags)
        addr, peer = self._scope_addresses(records, kinds, attrs, kvs, watched)
        table.addr.extend(addr)
        table.peer.extend(peer)
        self._rows(table, ri, n, *loc)
        if linked:
            for i, (sp, k) in enumerate(zip(records(), kinds, strict=True)):
                if k in (CONSUMER, SERVER) and sp.links:
                    self._links(bytes(ids[24 * i : 24 * i + 24]), sp.links)

    def _scope_addresses(
        self,
        records: Callable[[], Any],
        kinds: bytes,
        attrs: list[bytes],
        kvs: Counter[bytes],
        watched: frozenset[bytes],
    ) -> tuple[array[int], array[int]]:
        """The address and peer columns of a scope's spans (interned strings, -1 for none).

        Read from the scope's attribute column when ``_column_addresses`` can; otherwise
        span by span: each CLIENT/SERVER/PRODUCER/CONSUMER span's address KeyValues
        (the reduced parse), looked up once per distinct (kind, KeyValues).
        """
        found = self._column_addresses(kinds, attrs, kvs, watched)
        if found is not None:
            return found
        mask = kinds.translate(_HAS_ADDRESS)
        hits = map(watched.intersection, map(_ATTRS, compress(records(), mask)))
        keys = list(zip(compress(kinds, mask), hits, strict=True))
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
        if len(got) != len(kinds):
            it = iter(got)
            got = [next(it) if m else _NO_ADDRESS for m in mask]
        return array("i", map(_FIRST, got)), array("i", map(_SECOND, got))

    def _column_addresses(
        self, kinds: bytes, attrs: list[bytes], kvs: Counter[bytes], watched: frozenset[bytes]
    ) -> tuple[array[int], array[int]] | None:
        """The address and peer columns of a scope's spans read from its attribute column
        (``attrs``, in span order; ``kvs`` counted, ``watched`` the address KeyValues), or None.

        No span has an address when the scope has no address attribute or no span of a
        calling kind. In a scope of one kind of call where each address key occurs n times
        among the n spans, each span has each key once (attribute keys are unique within a
        span: the OTLP data model), so the i-th occurrence of a key in the column is span
        i's: a key with one value gives it to every span (a client calling one service, a
        server's own address); a key with several is read in column order, and each
        distinct combination is looked up once. None for any other scope.
        """
        n = len(kinds)
        if not watched or 1 not in kinds.translate(_HAS_ADDRESS):
            return _same(-1, n), _same(-1, n)
        kind = kinds[0]
        if kinds.count(kind) != n:
            return None
        by_key: dict[bytes, list[bytes]] = {}
        for kv in watched:
            by_key.setdefault(key_and_type(kv)[0], []).append(kv)
        if any(sum(map(kvs.__getitem__, group)) != n for group in by_key.values()):
            return None
        fixed = frozenset(group[0] for group in by_key.values() if len(group) == 1)
        varying = [frozenset(group) for group in by_key.values() if len(group) > 1]
        if not varying:
            a, p = self._addresses(kind, fixed)
            return _same(a, n), _same(p, n)
        # Span i's value of each varying key: its i-th occurrence in the column.
        combos = list(
            zip(*(list(filter(values.__contains__, attrs)) for values in varying), strict=True)
        )
        found = {combo: self._addresses(kind, fixed.union(combo)) for combo in set(combos)}
        got = list(map(found.__getitem__, combos))
        return array("i", map(_FIRST, got)), array("i", map(_SECOND, got))

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
                if c.body:  # (read before _log_id_rows clears c)
                    self._secrets(
                        self._body_scan, c.body, partial(Counter, c.body), ri, AttrLevel.BODY, loc
                    )
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
            # (whole scopes' rows and single rows, 24 bytes each)
            self._log_facts(ri, _JOIN(rows), n, idattr, idattr_noids, loc)
            total += n
        return total

    def _log_facts(
        self, ri: int, ids: bytes, n: int, idattr: int, idattr_noids: int, loc: tuple[int, int]
    ) -> None:
        """Fold one resource's logs of a record: ``n`` records, the id rows of those with
        ids, how many carry a trace-id-like attribute and how many of those lack real ids
        (the JSON path, ``observe_structs``, ends each resource here too)."""
        corpus = self.corpus
        rows = len(ids) // 24
        if ids:
            corpus.logs.ids += ids
            self._rows(corpus.logs, ri, rows, *loc)
        counts = corpus.resources[ri].counts
        counts[LOGS] += n
        counts[LOGS_WITH_IDS] += rows
        counts[LOGS_IDATTR_NO_IDS] += idattr_noids
        counts[LOGS_IDATTR] += idattr

    # -- metrics -----------------------------------------------------------------
    def _metrics(self, payload: bytes, file: int, record: int) -> int:
        msg = SMetricsData.FromString(payload)
        cols = CMetricsData.FromString(payload)
        reduced = _Reduced(RMetricsData, payload)
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
                for which, points in _point_columns(sm, scols):
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
            # (whole columns' rows and single rows, 24 bytes each)
            self._metric_facts(ri, _JOIN(rows), n, n_ex, loc)
            total += n
        return total

    def _metric_facts(self, ri: int, ids: bytes, n: int, n_ex: int, loc: tuple[int, int]) -> None:
        """Fold one resource's metrics of a record: ``n`` data points, ``n_ex`` exemplars and
        the id rows of those with ids (the JSON path ends each resource here too)."""
        corpus = self.corpus
        if ids:
            corpus.exemplars.ids += ids
            self._rows(corpus.exemplars, ri, len(ids) // 24, *loc)
        counts = corpus.resources[ri].counts
        counts[POINTS] += n
        counts[EXEMPLARS] += n_ex

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


def _id_problem(raw: bytes) -> str:
    if not raw:
        return "empty"
    if not any(raw):
        return "all-zero"
    return f"{len(raw)}-bytes"


def _address(
    key: bytes, kv: bytes, kind: int, host: str | None, port: str | None, svc: str | None
) -> tuple[str | None, str | None, str | None]:
    """Update (host, port, peer service) of a span from one address attribute.

    The names are kept with their credentials masked (``redact.mask_secrets``): they are
    interned in the corpus, so a shard would otherwise hold the password of a
    ``peer.service=postgres://app:pw@db`` (and the address is lower-cased after masking,
    which needs the case of ``AKIA...`` and ``eyJ...``).
    """
    _, (_t, raw) = decode_keyvalue(kv)
    if raw is None or raw == "":
        return host, port, svc
    value = mask_secrets(str(raw))
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


def address_of(kind: int, kvs: Iterable[bytes]) -> tuple[str | None, str | None]:
    """(address served or called, peer.service) of a span of ``kind`` whose address
    attributes are the encoded KeyValues ``kvs``; None where there is none."""
    host = port = svc = None
    keyed = sorted((_ADDRESS_RANK.get(k, 99), k, kv) for kv in kvs for k in (key_and_type(kv)[0],))
    for _rank, k, kv in keyed:
        host, port, svc = _address(k, kv, kind, host, port, svc)
    if host is None:
        return None, svc
    return (host if port is None else f"{host}:{port}"), svc


# -- the shortcuts that need an Observer's caches, beside their plain reading ---------

#: Address attribute keys as the protobuf message classes give them.
_ADDRESS_KEY_NAMES = frozenset(key.decode() for key in ADDRESS_KEYS)
#: A span's (address, peer.service), resolved.
Address = tuple[str | None, str | None]


def _plain_span_addresses(payload: bytes) -> list[list[Address] | None]:
    """Per scope, each span's address: ``address_of`` its address attributes, span by span."""
    out: list[list[Address] | None] = []
    for rs in trace_pb2.TracesData.FromString(payload).resource_spans:
        for ss in rs.scope_spans:
            got: list[Address] = []
            for sp in ss.spans:
                kind = sp.kind if 0 <= sp.kind < 256 else 0
                kvs = {
                    kv.SerializeToString() for kv in sp.attributes if kv.key in _ADDRESS_KEY_NAMES
                }
                got.append(address_of(kind, kvs) if _HAS_ADDRESS[kind] and kvs else (None, None))
            out.append(got)
    return out


@_shortcut(
    "span addresses",
    Signal.TRACES,
    _plain_span_addresses,
    misreads="a span carrying the same address attribute twice while a sibling lacks it",
)
def _fast_span_addresses(payload: bytes) -> list[list[Address] | None]:
    """``Observer._column_addresses`` of each scope, as ``Observer._spans`` calls it."""
    corpus = Corpus()
    observer = Observer(corpus)
    shape, cols = STracesData.FromString(payload), CTracesData.FromString(payload)
    reduced = _Reduced(RTracesData, payload)
    out: list[list[Address] | None] = []
    for i, (rs, rc) in enumerate(zip(shape.resource_spans, cols.resource_spans, strict=True)):
        ri = corpus.resource_index(rs.resource)
        for j, (ss, cs) in enumerate(zip(rs.scope_spans, rc.scope_spans, strict=True)):
            c, n = cs.spans, len(ss.spans)
            attrs = c.attributes[:]
            kvs = Counter(attrs)
            watched = observer._tally(kvs, ri, AttrLevel.SPAN, (0, 0), ADDRESS_KEYS)
            kinds = c.kind[:] if len(c.kind) == n else [sp.kind for sp in reduced.spans(i, j)]
            got = None
            if all(0 <= k < 256 for k in kinds):
                got = observer._column_addresses(bytes(kinds), attrs, kvs, watched)
            if got is None:
                out.append(None)
                continue
            names = corpus.strings
            out.append(
                [
                    (names[a] if a >= 0 else None, names[p] if p >= 0 else None)
                    for a, p in zip(*got, strict=True)
                ]
            )
    return out


#: AnyValue field name -> number (the value type ``key_and_type`` gives).
_VALUE_FIELDS = {f.name: f.number for f in common_pb2.AnyValue.DESCRIPTOR.fields}


def _plain_records(payload: bytes, signal: Signal) -> list[list[Any]]:
    """Per scope, its records (for metrics: its data points) with ``*_pb2``."""
    if signal is Signal.TRACES:
        data = trace_pb2.TracesData.FromString(payload)
        return [list(ss.spans) for rs in data.resource_spans for ss in rs.scope_spans]
    if signal is Signal.LOGS:
        logs = logs_pb2.LogsData.FromString(payload)
        return [list(sl.log_records) for rl in logs.resource_logs for sl in rl.scope_logs]
    metrics = metrics_pb2.MetricsData.FromString(payload)
    return [
        [
            dp
            for m in sm.metrics
            if m.WhichOneof("data") is not None
            for dp in getattr(m, str(m.WhichOneof("data"))).data_points
        ]
        for rm in metrics.resource_metrics
        for sm in rm.scope_metrics
    ]


def _plain_attribute_types(payload: bytes, signal: Signal) -> list[dict[tuple[bytes, int], int]]:
    """Per scope, its records' attributes counted by (key, value type), KeyValue by KeyValue."""
    return [
        dict(
            Counter(
                (kv.key.encode(), _VALUE_FIELDS.get(str(kv.value.WhichOneof("value")), 0))
                for record in records
                for kv in record.attributes
            )
        )
        for records in _plain_records(payload, signal)
    ]


def _attribute_columns(payload: bytes, signal: Signal) -> list[list[bytes]]:
    """Per scope, its records' attributes as the columnar parse merges them."""
    if signal is Signal.TRACES:
        data = CTracesData.FromString(payload)
        return [ss.spans.attributes[:] for rs in data.resource_spans for ss in rs.scope_spans]
    if signal is Signal.LOGS:
        logs = CLogsData.FromString(payload)
        return [sl.log_records.attributes[:] for rl in logs.resource_logs for sl in rl.scope_logs]
    shape, cols = SMetricsData.FromString(payload), CMetricsData.FromString(payload)
    return [
        [kv for _which, points in _point_columns(sm, sc) for kv in points.attributes]
        for rm, rc in zip(shape.resource_metrics, cols.resource_metrics, strict=True)
        for sm, sc in zip(rm.scope_metrics, rc.scope_metrics, strict=True)
    ]


def _fast_attribute_types(payload: bytes, signal: Signal) -> list[dict[tuple[bytes, int], int]]:
    """Per scope, ``Observer._tally``'s counts (one Observer, its caches warm from scope to scope)."""
    corpus = Corpus()
    observer = Observer(corpus)
    out = []
    for j, column in enumerate(_attribute_columns(payload, signal)):
        ri = corpus.resource_index(b"%d" % j, {})
        observer._tally(Counter(column), ri, AttrLevel.SPAN, (0, 0), _NOTHING)
        out.append(corpus.attr_counts[(ri, int(AttrLevel.SPAN))])
    return out


for _signal in Signal:
    SHORTCUTS[f"{_signal.label} attribute types"] = Shortcut(
        f"{_signal.label} attribute types",
        _signal,
        partial(_fast_attribute_types, signal=_signal),
        partial(_plain_attribute_types, signal=_signal),
        misreads="an AnyValue that holds more than one field (a member of its oneof sent "
        "twice, or a field OTLP does not define): its type is read from its first field",
    )
