"""The hot loop's column shortcuts give the same Corpus as reading one record at a time.

``Observer`` reads a scope's records as columns (the columnar schema) and falls back
to a record at a time when a column is not aligned with the records or holds
something to report. These tests force the fallback everywhere and compare, on real
SDK output and on messages built to misalign every column.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from opentelemetry.proto.common.v1 import common_pb2
from opentelemetry.proto.logs.v1 import logs_pb2
from opentelemetry.proto.metrics.v1 import metrics_pb2
from opentelemetry.proto.resource.v1 import resource_pb2
from opentelemetry.proto.trace.v1 import trace_pb2

from otlint.core.wire import CLIENT, CONSUMER, INTERNAL, SERVER
from otlint.run.check import scan
from otlint.telemetry import observe
from otlint.telemetry.corpus.corpus import (
    EXEMPLARS,
    LOGS,
    LOGS_IDATTR,
    LOGS_IDATTR_NO_IDS,
    POINTS,
    SPANS,
    AttrLevel,
    Corpus,
    Signal,
)
from otlint.telemetry.observe import Observer

from sdkworld import build_world, write_world


def _kv(key: str, value: object) -> common_pb2.KeyValue:
    kv = common_pb2.KeyValue(key=key)
    if isinstance(value, str):
        kv.value.string_value = value
    elif isinstance(value, bool):
        kv.value.bool_value = value
    elif isinstance(value, int):
        kv.value.int_value = value
    return kv


def _resource(name: str) -> resource_pb2.Resource:
    return resource_pb2.Resource(attributes=[_kv("service.name", name)])


def _tid(n: int) -> bytes:
    return n.to_bytes(16, "big")


def _sid(n: int) -> bytes:
    return n.to_bytes(8, "big")


def _traces() -> bytes:
    spans = [
        # a root server span with flags; a client child without flags; an internal span of kind 0
        trace_pb2.Span(
            trace_id=_tid(1),
            span_id=_sid(1),
            kind=SERVER,
            flags=0x100,
            attributes=[
                _kv("server.address", "api"),
                _kv("server.port", 8080),
                _kv("http.route", "/"),
            ],
        ),
        trace_pb2.Span(
            trace_id=_tid(1),
            span_id=_sid(2),
            parent_span_id=_sid(1),
            kind=CLIENT,
            attributes=[_kv("server.address", "db"), _kv("peer.service", "db"), _kv("n", 1)],
        ),
        trace_pb2.Span(trace_id=_tid(1), span_id=_sid(3), parent_span_id=_sid(1)),
        trace_pb2.Span(
            trace_id=_tid(2),
            span_id=_sid(4),
            kind=CONSUMER,
            flags=0x300,
            links=[trace_pb2.Span.Link(trace_id=_tid(1), span_id=_sid(2))],
            attributes=[_kv("messaging.destination.name", "orders")],
        ),
    ]
    broken = [
        trace_pb2.Span(trace_id=_tid(3), span_id=_sid(5), kind=INTERNAL),
        trace_pb2.Span(trace_id=b"", span_id=_sid(6), kind=INTERNAL),  # no trace id
        trace_pb2.Span(
            trace_id=_tid(3), span_id=_sid(7), parent_span_id=bytes(8), kind=INTERNAL
        ),  # zero parent
        trace_pb2.Span(trace_id=_tid(3), span_id=_sid(8), kind=300),  # a kind beyond the enum
    ]
    data = trace_pb2.TracesData(
        resource_spans=[
            trace_pb2.ResourceSpans(
                resource=_resource("a"),
                scope_spans=[
                    trace_pb2.ScopeSpans(spans=spans),
                    trace_pb2.ScopeSpans(),
                    trace_pb2.ScopeSpans(spans=broken),
                ],
            ),
            trace_pb2.ResourceSpans(
                resource=_resource("b"), scope_spans=[trace_pb2.ScopeSpans(spans=spans[:2])]
            ),
        ]
    )
    return data.SerializeToString()


def _calls() -> bytes:
    """Scopes of calls: all to one address (found once for the scope), to several, of two kinds."""

    def call(i: int, kind: int, *attrs: common_pb2.KeyValue) -> trace_pb2.Span:
        return trace_pb2.Span(
            trace_id=_tid(10),
            span_id=_sid(10 + i),
            parent_span_id=_sid(9),
            kind=kind,
            attributes=attrs,
        )

    same = [
        call(i, CLIENT, _kv("server.address", "pay"), _kv("server.port", 443), _kv("n", i))
        for i in range(3)
    ]
    several = [
        call(3, CLIENT, _kv("server.address", "pay"), _kv("server.port", 443)),
        call(4, CLIENT, _kv("server.address", "pay")),
        call(5, CLIENT, _kv("server.address", "ship"), _kv("server.port", 443)),
    ]
    two_kinds = [
        call(6, CLIENT, _kv("server.address", "pay")),
        call(7, SERVER, _kv("server.address", "pay")),
    ]
    # Every span has both keys, with several values: read in column order.
    in_order = [
        call(8 + i, CLIENT, _kv("n", i), _kv("server.address", host), _kv("server.port", port))
        for i, (host, port) in enumerate([("pay", 443), ("ship", 443), ("pay", 443), ("ship", 80)])
    ]
    data = trace_pb2.TracesData(
        resource_spans=[
            trace_pb2.ResourceSpans(
                resource=_resource("c"),
                scope_spans=[
                    trace_pb2.ScopeSpans(spans=same),
                    trace_pb2.ScopeSpans(spans=several),
                    trace_pb2.ScopeSpans(spans=two_kinds),
                    trace_pb2.ScopeSpans(spans=in_order),
                ],
            )
        ]
    )
    return data.SerializeToString()


def test_call_addresses_per_span() -> None:
    corpus = _observe([(Signal.TRACES, _calls())])
    assert [corpus.strings[a] for a in corpus.spans.addr] == (
        ["pay:443"] * 3
        + ["pay:443", "pay", "ship:443"]
        + ["pay"] * 2
        + ["pay:443", "ship:443", "pay:443", "ship:80"]
    )


def _logs() -> bytes:
    records = [
        logs_pb2.LogRecord(trace_id=_tid(1), span_id=_sid(1), attributes=[_kv("k", "v")]),
        logs_pb2.LogRecord(attributes=[_kv("k", 1)]),  # no ids
        logs_pb2.LogRecord(trace_id=_tid(1)),  # the trace alone
        logs_pb2.LogRecord(span_id=_sid(1)),  # a span id without its trace
        logs_pb2.LogRecord(trace_id=_tid(9), span_id=bytes(8)),  # a zero span id
        logs_pb2.LogRecord(
            attributes=[_kv("trace_id", "0af7651916cd43dd8448eb211c80319c")]
        ),  # ids as attributes
    ]
    data = logs_pb2.LogsData(
        resource_logs=[
            logs_pb2.ResourceLogs(
                resource=_resource("a"),
                scope_logs=[
                    logs_pb2.ScopeLogs(log_records=records[:2]),
                    logs_pb2.ScopeLogs(log_records=records),
                ],
            ),
            logs_pb2.ResourceLogs(
                resource=_resource("b"), scope_logs=[logs_pb2.ScopeLogs(log_records=records[:1])]
            ),
        ]
    )
    return data.SerializeToString()


def _observed_logs() -> bytes:
    """Records with an observed time, as SDKs send them: the first scope's ids are cut out by
    ``_log_id_rows``; each of the others holds one record that makes it read the records."""

    def rec(tid: bytes = b"", sid: bytes = b"", observed: int = 7) -> logs_pb2.LogRecord:
        return logs_pb2.LogRecord(
            trace_id=tid,
            span_id=sid,
            observed_time_unix_nano=observed,
            body=common_pb2.AnyValue(string_value="x"),
        )

    clean = [rec(_tid(1), _sid(1)), rec(), rec(_tid(2), _sid(2)), rec(), rec(_tid(3), _sid(3))]
    odd = [
        rec(_tid(4)),
        rec(_tid(5), bytes(8)),
        rec(bytes(16), _sid(5)),
        rec(b"\x06" * 15, _sid(6)),
        rec(_tid(7), _sid(7), observed=0),
    ]
    data = logs_pb2.LogsData(
        resource_logs=[
            logs_pb2.ResourceLogs(
                resource=_resource("a"),
                scope_logs=[logs_pb2.ScopeLogs(log_records=clean)]
                + [logs_pb2.ScopeLogs(log_records=[*clean[:2], r, *clean[2:]]) for r in odd],
            ),
        ]
    )
    return data.SerializeToString()


def test_log_ids_cut_from_the_unknown_fields() -> None:
    cols = observe.CLogsData.FromString(_observed_logs())
    scopes = [sl.log_records for sl in cols.resource_logs[0].scope_logs]
    assert observe._log_id_rows(scopes[0], 5) == b"".join(_tid(i) + _sid(i) for i in (1, 2, 3))
    assert (
        observe._log_id_rows(cols.resource_logs[0].scope_logs[0].log_records, 4) is None
    )  # not 4 records
    assert [observe._log_id_rows(c, 6) for c in scopes[1:]] == [None] * 5
    # Background logs with no ids at all give no rows, with or without an observed time.
    bare = logs_pb2.LogsData(
        resource_logs=[
            logs_pb2.ResourceLogs(
                scope_logs=[
                    logs_pb2.ScopeLogs(
                        log_records=[
                            logs_pb2.LogRecord(body=common_pb2.AnyValue(string_value="x")),
                            logs_pb2.LogRecord(observed_time_unix_nano=3),
                        ]
                    )
                ]
            )
        ]
    )
    merged = (
        observe.CLogsData.FromString(bare.SerializeToString())
        .resource_logs[0]
        .scope_logs[0]
        .log_records
    )
    assert observe._log_id_rows(merged, 2) == b""
    corpus = _observe([(Signal.LOGS, _observed_logs())])
    # 3 rows per scope, the trace alone, and the record without an observed time; 3 bad ids.
    assert len(corpus.logs) == 3 * 6 + 1 + 1
    assert sorted(k[1:] for k in corpus.bad_ids) == [
        ("log.span_id", "all-zero"),
        ("log.trace_id", "15-bytes"),
        ("log.trace_id", "all-zero"),
    ]


def _metrics() -> bytes:
    good = metrics_pb2.Exemplar(trace_id=_tid(1), span_id=_sid(1), time_unix_nano=5, as_int=1)
    unsampled = metrics_pb2.Exemplar(time_unix_nano=6, as_int=2)
    bad = metrics_pb2.Exemplar(trace_id=_tid(1), span_id=b"\x01", time_unix_nano=7)
    point = metrics_pb2.NumberDataPoint(
        attributes=[_kv("route", "/")], time_unix_nano=1, as_int=1, exemplars=[good]
    )
    metrics = [
        metrics_pb2.Metric(name="g", gauge=metrics_pb2.Gauge(data_points=[point, point])),
        metrics_pb2.Metric(
            name="s",
            sum=metrics_pb2.Sum(
                data_points=[
                    metrics_pb2.NumberDataPoint(time_unix_nano=1, exemplars=[good, unsampled, bad])
                ]
            ),
        ),
        metrics_pb2.Metric(
            name="h",
            histogram=metrics_pb2.Histogram(
                data_points=[
                    metrics_pb2.HistogramDataPoint(
                        attributes=[_kv("route", 1)], count=1, exemplars=[good]
                    )
                ]
            ),
        ),
        metrics_pb2.Metric(
            name="q",
            summary=metrics_pb2.Summary(
                data_points=[metrics_pb2.SummaryDataPoint(attributes=[_kv("q", True)], count=1)]
            ),
        ),
        metrics_pb2.Metric(name="empty"),
    ]
    data = metrics_pb2.MetricsData(
        resource_metrics=[
            metrics_pb2.ResourceMetrics(
                resource=_resource("a"), scope_metrics=[metrics_pb2.ScopeMetrics(metrics=metrics)]
            ),
            metrics_pb2.ResourceMetrics(
                resource=_resource("b"),
                scope_metrics=[
                    metrics_pb2.ScopeMetrics(metrics=metrics[:1]),
                    metrics_pb2.ScopeMetrics(metrics=metrics[2:3]),
                ],
            ),
        ]
    )
    return data.SerializeToString()


def _observe(payloads: list[tuple[Signal, bytes]]) -> Corpus:
    corpus = Corpus()
    corpus.path_index("mem")
    observer = Observer(corpus)
    for i, (signal, payload) in enumerate(payloads):
        observer.observe(signal, payload, 0, i + 1)
    return corpus


def _one_by_one(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make every column check fail, so every record takes the one-at-a-time path."""
    monkeypatch.setattr(observe, "_id_rows", lambda c, n, heads: None)
    monkeypatch.setattr(observe, "_log_id_rows", lambda c, k: None)


def _field(tag: int, payload: bytes) -> bytes:
    """A length-delimited field: tag byte, varint length, payload."""
    n, head = len(payload), bytearray()
    while n >= 0x80:
        head.append(n & 0x7F | 0x80)
        n >>= 7
    return bytes([tag]) + bytes(head) + bytes([n]) + payload


def _merged_spans(*spans: bytes) -> object:
    """The columnar parse's merged span of a scope whose spans are these encoded ones."""
    scope = b"".join(_field(0x12, sp) for sp in spans)  # ScopeSpans.spans
    data = _field(0x0A, _field(0x12, scope))  # TracesData.resource_spans, ResourceSpans.scope_spans
    return observe.CTracesData.FromString(data).resource_spans[0].scope_spans[0].spans


def _span(**fields: object) -> bytes:
    return trace_pb2.Span(name="s", **fields).SerializeToString()  # type: ignore[arg-type]


def test_span_ids_cut_from_the_unknown_fields() -> None:
    tid, sid = (
        b"\x01" * 12 + bytes(4),
        bytes(4) + b"\x02" * 4,
    )  # eight zero bytes across the seam: fine ids
    good = _merged_spans(
        _span(trace_id=tid, span_id=sid, kind=2), _span(trace_id=_tid(3), span_id=_sid(3))
    )
    assert observe._id_rows(good, 2, observe._SPAN_ID_HEADS) == tid + sid + _tid(3) + _sid(3)
    assert not good.ListFields()  # its columns were cleared
    # The span id first (fields out of number order, as protobuf allows): the same rows.
    swapped = _span(span_id=sid) + _span(trace_id=tid)
    assert (
        observe._id_rows(_merged_spans(swapped, swapped), 2, observe._SPAN_ID_HEADS)
        == (tid + sid) * 2
    )
    many = [_span(trace_id=_tid(i), span_id=_sid(i)) for i in range(1, 200)]
    assert observe._id_rows(_merged_spans(*many), 199, observe._SPAN_ID_HEADS) == b"".join(
        _tid(i) + _sid(i) for i in range(1, 200)
    )
    refused = [
        (
            _span(trace_id=tid, span_id=sid),
            _span(trace_id=bytes(16), span_id=sid),
        ),  # a zero trace id
        (_span(trace_id=tid, span_id=sid), _span(trace_id=tid, span_id=bytes(8))),  # a zero span id
        (
            _span(trace_id=tid, span_id=sid),
            _span(trace_id=tid[:15], span_id=sid + b"x"),
        ),  # 15 + 9 bytes
        (_span(trace_id=tid, span_id=sid), _span(trace_id=tid)),  # a span id missing
        (
            _span(trace_id=tid, span_id=sid),
            _span(span_id=sid) + _span(trace_id=tid),
        ),  # two orders in one scope
    ]
    for spans in refused:
        assert observe._id_rows(_merged_spans(*spans), 2, observe._SPAN_ID_HEADS) is None, spans
    assert (
        observe._id_rows(_merged_spans(_span(trace_id=tid, span_id=sid)), 2, observe._SPAN_ID_HEADS)
        is None
    )
    assert (
        observe._id_rows(_merged_spans(_span(), _span(kind=1)), 2, observe._SPAN_ID_HEADS) == b""
    )  # no ids at all


def test_exemplar_ids_cut_from_the_unknown_fields() -> None:
    def merged(*exemplars: metrics_pb2.Exemplar) -> object:
        point = metrics_pb2.NumberDataPoint(time_unix_nano=1, exemplars=exemplars)
        data = metrics_pb2.MetricsData(
            resource_metrics=[
                metrics_pb2.ResourceMetrics(
                    scope_metrics=[
                        metrics_pb2.ScopeMetrics(
                            metrics=[
                                metrics_pb2.Metric(
                                    name="m", sum=metrics_pb2.Sum(data_points=[point])
                                )
                            ]
                        )
                    ]
                )
            ]
        )
        cols = observe.CMetricsData.FromString(data.SerializeToString())
        return cols.resource_metrics[0].scope_metrics[0].metrics.sum.data_points.exemplars

    def ex(i: int, ids: bool = True) -> metrics_pb2.Exemplar:
        if not ids:
            return metrics_pb2.Exemplar(time_unix_nano=i, as_int=i)
        return metrics_pb2.Exemplar(
            time_unix_nano=i, as_double=0.5, trace_id=_tid(i), span_id=_sid(i)
        )

    # Encoded in field-number order, an exemplar's span id (4) comes before its trace id (5).
    assert observe._id_rows(merged(ex(1), ex(2)), 2, observe._EXEMPLAR_ID_HEADS) == _tid(1) + _sid(
        1
    ) + _tid(2) + _sid(2)
    assert (
        observe._id_rows(merged(ex(1, False), ex(2, False)), 2, observe._EXEMPLAR_ID_HEADS) == b""
    )  # counted, no rows
    assert (
        observe._id_rows(merged(ex(1), ex(2, False)), 2, observe._EXEMPLAR_ID_HEADS) is None
    )  # read one by one
    corpus = _observe(
        [
            (
                Signal.METRICS,
                metrics_pb2.MetricsData(
                    resource_metrics=[
                        metrics_pb2.ResourceMetrics(
                            resource=_resource("a"),
                            scope_metrics=[
                                metrics_pb2.ScopeMetrics(
                                    metrics=[
                                        metrics_pb2.Metric(
                                            name="m",
                                            sum=metrics_pb2.Sum(
                                                data_points=[
                                                    metrics_pb2.NumberDataPoint(
                                                        time_unix_nano=1,
                                                        exemplars=[
                                                            ex(1, False),
                                                            ex(2, False),
                                                            ex(3, False),
                                                        ],
                                                    )
                                                ]
                                            ),
                                        )
                                    ]
                                )
                            ],
                        )
                    ]
                ).SerializeToString(),
            )
        ]
    )
    assert corpus.resources[0].counts[EXEMPLARS] == 3 and len(corpus.exemplars) == 0


PAYLOADS = [(Signal.TRACES, _traces()), (Signal.LOGS, _logs()), (Signal.METRICS, _metrics())]


def test_columns_equal_one_record_at_a_time(monkeypatch: pytest.MonkeyPatch) -> None:
    payloads = [*PAYLOADS, (Signal.LOGS, _observed_logs()), (Signal.TRACES, _calls())]
    fast = _observe(payloads)
    with monkeypatch.context() as m:
        _one_by_one(m)
        slow = _observe(payloads)
    assert fast.canonical() == slow.canonical()


def test_columns_read_what_the_messages_hold() -> None:
    corpus = _observe(PAYLOADS)
    # 4 + 2 good spans, and 3 of the 4 broken ones (the zero parent is read as a root).
    assert len(corpus.spans) == 4 + 2 + 3
    assert {(k[1], k[2]) for k in corpus.bad_ids} >= {
        ("span.trace_id", "empty"),
        ("span.parent_span_id", "all-zero"),
        ("log.trace_id", "empty"),
        ("log.span_id", "all-zero"),
        ("exemplar.span_id", "1-bytes"),
    }
    assert sorted(corpus.spans.kind) == [0, 0, 1, 1, 2, 2, 3, 3, 5]  # kind 300 reads as 0
    assert len(corpus.links) == 1
    assert {corpus.strings[a] for a in corpus.spans.addr if a >= 0} == {
        "api:8080",
        "db",
        "queue:orders",
    }
    assert {corpus.strings[p] for p in corpus.spans.peer if p >= 0} == {"db"}
    # log rows: 1 + (1 + the trace alone) in a, 1 in b
    assert len(corpus.logs) == 4
    a = corpus.resources[corpus.resource_index(_resource("a").SerializeToString())]
    assert a.counts[LOGS] == 8
    assert a.counts[LOGS_IDATTR] == 1  # one record carries its ids as attributes
    assert a.counts[LOGS_IDATTR_NO_IDS] == 1
    assert a.counts[POINTS] == 5
    assert a.counts[EXEMPLARS] == 6
    # exemplar rows: a has 4 (2 + 1 of 3 + 1), b has 3 (2 + 1)
    assert len(corpus.exemplars) == 4 + 3
    points = corpus.attr_counts[(corpus.resources.index(a), int(AttrLevel.POINT))]
    assert points == {(b"route", 1): 2, (b"route", 3): 1, (b"q", 2): 1}


@pytest.mark.parametrize("healthy", [True, False])
def test_sdk_output_reads_the_same_both_ways(
    healthy: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = build_world(healthy=healthy, requests=8, latency_scale=0, batch_every=3)
    write_world(world, tmp_path, formats=("proto",))
    files = sorted(str(p) for p in tmp_path.iterdir())
    fast, _ = scan(files)
    with monkeypatch.context() as m:
        _one_by_one(m)
        slow, _ = scan(files)
    assert len(fast.spans) > 0 and len(fast.logs) > 0
    assert fast.canonical() == slow.canonical()


def test_caches_that_start_again_count_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    payloads = [*PAYLOADS, (Signal.LOGS, _observed_logs()), (Signal.TRACES, _calls())] * 2
    expected = _observe(payloads).canonical()
    monkeypatch.setattr(
        observe, "_CACHE_LIMIT", 1
    )  # the caches are cleared before nearly every tally
    assert _observe(payloads).canonical() == expected


def test_a_span_with_no_fields_is_counted_and_reported() -> None:
    # Nothing of it reaches the columns: the shape parse counts it, the reduced one reports it.
    data = trace_pb2.TracesData(
        resource_spans=[
            trace_pb2.ResourceSpans(
                resource=_resource("e"),
                scope_spans=[
                    trace_pb2.ScopeSpans(
                        spans=[
                            trace_pb2.Span(trace_id=_tid(20), span_id=_sid(20), kind=INTERNAL),
                            trace_pb2.Span(),
                        ]
                    )
                ],
            )
        ]
    )
    corpus = _observe([(Signal.TRACES, data.SerializeToString())])
    assert len(corpus.spans) == 1
    assert corpus.resources[0].counts[SPANS] == 2
    assert [k[1:] for k in corpus.bad_ids] == [("span.trace_id", "empty")]


def _legacy() -> bytes:
    """Old-convention spans: net.peer.* on one-kind and mixed-kind scopes, attributes on span events."""

    def span(i: int, kind: int, *attrs: common_pb2.KeyValue, events: int = 0) -> trace_pb2.Span:
        return trace_pb2.Span(
            trace_id=_tid(20),
            span_id=_sid(20 + i),
            kind=kind,
            attributes=attrs,
            events=[
                trace_pb2.Span.Event(
                    name="retry", time_unix_nano=5, attributes=[_kv("http.status_code", 503)]
                )
            ]
            * events,
        )

    servers = [
        span(i, SERVER, _kv("net.peer.name", f"client-{i}"), _kv("net.peer.port", 5000 + i))
        for i in range(3)
    ]
    mixed = [
        span(3, SERVER, _kv("net.peer.name", "browser")),
        span(4, CLIENT, _kv("net.peer.name", "pay"), events=2),
        span(5, INTERNAL, events=1),
    ]
    data = trace_pb2.TracesData(
        resource_spans=[
            trace_pb2.ResourceSpans(
                resource=_resource("legacy"),
                scope_spans=[
                    trace_pb2.ScopeSpans(spans=servers),
                    trace_pb2.ScopeSpans(spans=mixed),
                ],
            )
        ]
    )
    return data.SerializeToString()


def test_span_kinds_of_legacy_keys_and_span_event_attributes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    payloads = [(Signal.TRACES, _legacy())]
    fast = _observe(payloads)
    with monkeypatch.context() as m:
        _one_by_one(m)
        slow = _observe(payloads)
    assert fast.canonical() == slow.canonical()
    assert fast.kind_keys == {
        (0, b"net.peer.name", SERVER): 4,
        (0, b"net.peer.port", SERVER): 3,
        (0, b"net.peer.name", CLIENT): 1,
    }
    events = fast.attr_counts[(0, int(AttrLevel.EVENT))]
    assert sum(c for (key, _t), c in events.items() if key == b"http.status_code") == 3
