"""Every column shortcut of the hot loop against its plain, record-by-record reading.

``observe.SHORTCUTS`` registers each shortcut beside a reading of the same units written
with the protobuf message classes, a record at a time. One test runs every registered
shortcut on real SDK output, on the bench corpus' messages and on messages built to
break the shortcuts: the fields ``observe`` leaves undeclared or reads in wire order,
sent out of order, twice, packed, unknown, empty, zero or of another length. A shortcut
either reads what the plain reading reads or declines; the only disagreements allowed
are the ones its ``misreads`` names, and each of those is pinned here by the message
that shows it.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from pathlib import Path

from opentelemetry.proto.common.v1 import common_pb2
from opentelemetry.proto.logs.v1 import logs_pb2
from opentelemetry.proto.metrics.v1 import metrics_pb2
from opentelemetry.proto.resource.v1 import resource_pb2
from opentelemetry.proto.trace.v1 import trace_pb2

from otlint.core.wire import CLIENT, CONSUMER, INTERNAL, PRODUCER, SERVER
from otlint.telemetry.corpus.corpus import Signal
from otlint.telemetry.observe import SHORTCUTS

from sdkworld import build_world

BENCH = Path(__file__).resolve().parent.parent / "bench" / "out" / "corpus-quick"


# -- encoding by hand ----------------------------------------------------------------


def _varint(n: int) -> bytes:
    out = bytearray()
    while n >= 0x80:
        out.append(n & 0x7F | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def _len(num: int, payload: bytes) -> bytes:
    """A length-delimited field."""
    return _varint(num << 3 | 2) + _varint(len(payload)) + payload


def _vint(num: int, value: int) -> bytes:
    """A varint field."""
    return _varint(num << 3) + _varint(value)


def _tid(n: int) -> bytes:
    return n.to_bytes(16, "big")


def _sid(n: int) -> bytes:
    return n.to_bytes(8, "big")


def _kv(key: str, value: object) -> common_pb2.KeyValue:
    kv = common_pb2.KeyValue(key=key)
    if isinstance(value, str):
        kv.value.string_value = value
    elif isinstance(value, bool):
        kv.value.bool_value = value
    elif isinstance(value, int):
        kv.value.int_value = value
    elif isinstance(value, float):
        kv.value.double_value = value
    return kv


def _resource(name: str) -> bytes:
    return resource_pb2.Resource(attributes=[_kv("service.name", name)]).SerializeToString()


def _span(**fields: object) -> bytes:
    fields.setdefault("name", "op")
    return trace_pb2.Span(**fields).SerializeToString()  # type: ignore[arg-type]


def _traces(*scopes: list[bytes], service: str = "svc") -> bytes:
    """TracesData of one resource whose scopes hold these encoded spans."""
    rs = _len(1, _resource(service)) + b"".join(
        _len(2, b"".join(_len(2, sp) for sp in spans)) for spans in scopes
    )
    return _len(1, rs)


def _record(**fields: object) -> bytes:
    return logs_pb2.LogRecord(**fields).SerializeToString()  # type: ignore[arg-type]


def _logs(*scopes: list[bytes]) -> bytes:
    rl = _len(1, _resource("svc")) + b"".join(
        _len(2, b"".join(_len(2, r) for r in records)) for records in scopes
    )
    return _len(1, rl)


def _exemplar(**fields: object) -> bytes:
    return metrics_pb2.Exemplar(**fields).SerializeToString()  # type: ignore[arg-type]


def _metrics(*scopes: list[tuple[int, list[bytes]]]) -> bytes:
    """MetricsData of one resource; a scope is a list of (metric data field, encoded points).

    The data field is 5 (gauge), 7 (sum), 9 (histogram), 10 (exponential histogram) or
    11 (summary); a point is encoded whole by the caller.
    """
    rm = _len(1, _resource("svc"))
    for metrics in scopes:
        encoded = b"".join(
            _len(2, _len(1, b"m") + _len(data, b"".join(_len(1, p) for p in points)))
            for data, points in metrics
        )
        rm += _len(2, encoded)
    return _len(1, rm)


def _point(*exemplars: bytes, attrs: tuple[common_pb2.KeyValue, ...] = ()) -> bytes:
    dp = metrics_pb2.NumberDataPoint(time_unix_nano=1, as_int=1, attributes=attrs)
    return dp.SerializeToString() + b"".join(_len(5, e) for e in exemplars)


def _hpoint(*exemplars: bytes) -> bytes:
    dp = metrics_pb2.HistogramDataPoint(time_unix_nano=1, count=1)
    return dp.SerializeToString() + b"".join(_len(8, e) for e in exemplars)


# -- messages built to break the shortcuts --------------------------------------------

_T, _S = _tid(1), _sid(1)
_OK = [_span(trace_id=_tid(i), span_id=_sid(i), kind=INTERNAL) for i in range(1, 4)]


def _calls(kind: int, *attrs: list[common_pb2.KeyValue]) -> list[bytes]:
    return [
        _span(
            trace_id=_tid(9), span_id=_sid(10 + i), parent_span_id=_sid(9), kind=kind, attributes=a
        )
        for i, a in enumerate(attrs)
    ]


def _addr(
    host: str, port: int | None = None, *rest: common_pb2.KeyValue
) -> list[common_pb2.KeyValue]:
    return [_kv("server.address", host), *([_kv("server.port", port)] if port else []), *rest]


#: name -> (signal, payload, the shortcuts documented to misread it)
CASES: dict[str, tuple[Signal, bytes, frozenset[str]]] = {}


def _case(name: str, signal: Signal, payload: bytes, *misread: str) -> None:
    CASES[name] = (signal, payload, frozenset(misread))


# spans: ids
_case("spans in order", Signal.TRACES, _traces(_OK, [], _OK[:1]))
_case(
    "span id before trace id in every span",
    Signal.TRACES,
    _traces([_span(span_id=_sid(i)) + _span(trace_id=_tid(i)) for i in (1, 2)]),
)
_case(
    "two id orders in one scope",
    Signal.TRACES,
    _traces([_OK[0], _span(span_id=_S) + _span(trace_id=_T)]),
)
_case("no span has ids", Signal.TRACES, _traces([_span(kind=1), _span(kind=2)]))
_case("a span without a span id", Signal.TRACES, _traces([_OK[0], _span(trace_id=_T)]))
_case("an empty span", Signal.TRACES, _traces([_OK[0], b""]))
_case(
    "zero and short ids",
    Signal.TRACES,
    _traces(
        [_OK[0], _span(trace_id=bytes(16), span_id=_S)],
        [_OK[0], _span(trace_id=_T, span_id=bytes(8))],
        [_OK[0], _span(trace_id=_T[:15], span_id=_S + b"x")],
    ),
)
_case(
    "ids with eight zero bytes across the seam",
    Signal.TRACES,
    _traces([_span(trace_id=b"\x01" * 12 + bytes(4), span_id=bytes(4) + b"\x02" * 4)] * 2),
)
_case(
    "an unknown field in a span",
    Signal.TRACES,
    _traces([_OK[0], _OK[1] + _vint(99, 7)], [_OK[0] + _len(98, b"x" * 26), _OK[1]]),
)
_case(
    "a span that sends its trace id twice, then one that sends none",
    Signal.TRACES,
    _traces(
        [
            _span(trace_id=_T, span_id=_S) + _span(trace_id=_tid(2)),
            _span(span_id=_sid(2)),
        ]
    ),
    "span rows",
)
# spans: parents, kinds, flags
_case(
    "parents: none, some, all, a zero one sent, a short one",
    Signal.TRACES,
    _traces(
        _OK,
        [_OK[0], _span(trace_id=_T, span_id=_sid(2), parent_span_id=_S)],
        [_span(trace_id=_T, span_id=_sid(i), parent_span_id=_sid(9)) for i in (1, 2)],
        [_OK[0], _span(trace_id=_T, span_id=_sid(2)) + _len(4, bytes(8))],
        [_OK[0], _span(trace_id=_T, span_id=_sid(2), parent_span_id=b"\x01" * 7)],
    ),
)
_case(
    "kinds and flags: left out, some, all, beyond 255",
    Signal.TRACES,
    _traces(
        [_span(trace_id=_T, span_id=_sid(i), flags=0x100 * i) for i in (1, 2)],
        [
            _span(trace_id=_T, span_id=_sid(1), kind=0),
            _span(trace_id=_T, span_id=_sid(2), kind=2, flags=0x300),
        ],
        [_OK[0], _span(trace_id=_T, span_id=_sid(2), kind=300)],
    ),
)
_case(
    "a kind sent packed",
    Signal.TRACES,
    _traces([_OK[0], _span(trace_id=_T, span_id=_sid(2)) + _len(6, _varint(SERVER))]),
    "span rows",
)
_case(
    "flags sent packed",
    Signal.TRACES,
    _traces(
        [
            _span(trace_id=_T, span_id=_S, flags=0x100),
            _span(trace_id=_T, span_id=_sid(2)) + _len(16, struct.pack("<I", 0x300)),
        ]
    ),
    "span rows",
)
_case(
    "a kind sent twice, then a span of kind 0",
    Signal.TRACES,
    _traces(
        [
            _span(trace_id=_T, span_id=_S, kind=CLIENT) + _vint(6, SERVER),
            _span(trace_id=_T, span_id=_sid(2)),
        ]
    ),
    "span rows",
)
# spans: addresses
_case(
    "calls to one address",
    Signal.TRACES,
    _traces(_calls(CLIENT, *[_addr("pay", 443, _kv("n", i)) for i in range(3)])),
)
_case(
    "calls to several addresses, in column order",
    Signal.TRACES,
    _traces(
        _calls(
            CLIENT,
            *[
                [_kv("n", i), *_addr(h, p)]
                for i, (h, p) in enumerate(
                    [("pay", 443), ("ship", 443), ("pay", 443), ("ship", 80)]
                )
            ],
        ),
        _calls(
            CLIENT,
            _addr("pay", 1, _kv("a", 1), _kv("b", 2)),
            _addr("ship", 2),
            [_kv("x", 1), *_addr("pay", 1)],
        ),
        _calls(
            SERVER,
            [_kv("net.host.name", "a"), _kv("net.host.port", 1)],
            [_kv("net.host.port", 2), _kv("net.host.name", "b")],
        ),
    ),
)
_case(
    "calls where an address key is missing, and of two kinds",
    Signal.TRACES,
    _traces(
        _calls(CLIENT, _addr("pay", 443), _addr("pay")),
        _calls(CLIENT, _addr("pay"), []),
        [*_calls(CLIENT, _addr("pay")), *_calls(SERVER, _addr("api", 80))],
        [*_calls(INTERNAL, _addr("pay")), *_calls(INTERNAL, _addr("pay"))],
        _calls(PRODUCER, [_kv("messaging.destination.name", "orders"), _kv("peer.service", "q")]),
        _calls(
            CONSUMER,
            [_kv("messaging.destination.name", "orders")],
            [_kv("messaging.destination.name", "returns")],
        ),
    ),
)
_case(
    "peer services and legacy keys",
    Signal.TRACES,
    _traces(
        _calls(
            CLIENT,
            *[
                [
                    _kv("peer.service", "db"),
                    _kv("net.peer.name", "db.local"),
                    _kv("net.peer.port", 5432),
                ]
            ]
            * 2,
        ),
        _calls(SERVER, [_kv("http.host", "api:8080")], [_kv("http.host", "api:8080")]),
        _calls(
            CLIENT,
            [_kv("server.address", ""), _kv("server.port", 1)],
            [_kv("server.address", "x"), _kv("server.port", 1)],
        ),
    ),
)
_case(
    "a span carrying an address attribute twice while a sibling lacks it",
    Signal.TRACES,
    _traces(_calls(CLIENT, _addr("pay", None, _kv("server.address", "ship")), [_kv("n", 1)])),
    "span addresses",
)
# attributes: KeyValue encodings
_LONG = "k" * 200
_case(
    "KeyValues of every layout",
    Signal.TRACES,
    _traces(
        [
            _span(
                trace_id=_T,
                span_id=_sid(i),
                attributes=[
                    _kv("s", "x"),
                    _kv("s", "y" * 300),
                    _kv("i", i),
                    _kv("b", True),
                    _kv("d", 0.5),
                    _kv(_LONG, "v"),
                    _kv("e", ""),
                ],
            )
            # the value before the key
            + _len(9, _len(2, _len(1, b"same")) + _len(1, b"value one"))
            + _len(9, _len(1, b"no value"))
            + _len(9, _len(1, b"empty value") + _len(2, b""))
            + _len(9, _len(1, b"unknown in kv") + _len(2, _vint(3, 5)) + _vint(7, 1))
            + _len(9, _len(1, b"array") + _len(2, _len(5, _len(1, _len(1, b"a")))))
            for i in (1, 2)
        ],
        # in a later scope (the caches are warm): the same first bytes, another key
        [
            _span(trace_id=_T, span_id=_S)
            + _len(9, _len(2, _len(1, b"same")) + _len(1, b"value two"))
            + _len(9, _len(1, b"s") + _len(2, _len(1, b"x") + _vint(15, 1)))
        ],
    ),
)
_case(
    "an AnyValue with an unknown field before its value",
    Signal.TRACES,
    _traces(
        [
            _span(trace_id=_T, span_id=_S)
            + _len(9, _len(1, b"odd") + _len(2, _vint(9, 1) + _len(1, b"x")))
        ]
    ),
    "traces attribute types",
)
_case(
    "an AnyValue holding two members of its oneof",
    Signal.LOGS,
    _logs(
        [
            _record(observed_time_unix_nano=1)
            + _len(6, _len(1, b"two") + _len(2, _len(1, b"x") + _vint(3, 4)))
        ]
    ),
    "logs attribute types",
)
# logs
_L = [
    _record(
        trace_id=_tid(i),
        span_id=_sid(i),
        observed_time_unix_nano=7,
        body=common_pb2.AnyValue(string_value="x"),
    )
    for i in range(1, 4)
]
_BARE = _record(observed_time_unix_nano=7, attributes=[_kv("k", "v")])
_case(
    "logs with ids and without",
    Signal.LOGS,
    _logs([_L[0], _BARE, _L[1], _BARE, _L[2]], [_BARE, _BARE]),
)
_case(
    "logs: a trace alone, a span alone, zero and short ids, no observed time",
    Signal.LOGS,
    _logs(
        [_L[0], _record(trace_id=_T, observed_time_unix_nano=7)],
        [_L[0], _record(span_id=_S, observed_time_unix_nano=7)],
        [_L[0], _record(trace_id=_T, span_id=bytes(8), observed_time_unix_nano=7)],
        [_L[0], _record(trace_id=bytes(16), span_id=_S, observed_time_unix_nano=7)],
        [_L[0], _record(trace_id=_T[:15], span_id=_S, observed_time_unix_nano=7)],
        [_L[0], _record(trace_id=_T, span_id=_S)],
        [_record(body=common_pb2.AnyValue(string_value="x")), _record()],
    ),
)
_case(
    "logs: the observed time first, an unknown field",
    Signal.LOGS,
    _logs(
        [_record(observed_time_unix_nano=7) + _record(trace_id=_T, span_id=_S)] * 2,
        [_L[0], _L[1] + _vint(99, 1)],
    ),
)
_case(
    "a trace-only log whose observed time precedes its trace id, then a log with only a span id",
    Signal.LOGS,
    _logs(
        [
            _record(observed_time_unix_nano=7) + _record(trace_id=_T),
            _record(span_id=_S, observed_time_unix_nano=7),
        ]
    ),
    "log ids",
)
# exemplars
_E = [_exemplar(time_unix_nano=i, as_int=i, trace_id=_tid(i), span_id=_sid(i)) for i in range(1, 4)]
_NO_IDS = _exemplar(time_unix_nano=5, as_double=0.5)
_case(
    "exemplars in every kind of point",
    Signal.METRICS,
    _metrics(
        [(5, [_point(_E[0], _E[1]), _point(_E[2])]), (7, [_point(_NO_IDS)]), (9, [_hpoint(_E[0])])],
        [
            (7, [_point(_NO_IDS, _NO_IDS)]),
            (11, [metrics_pb2.SummaryDataPoint(count=1).SerializeToString()]),
        ],
        [(5, [_point(attrs=(_kv("route", "/"),))])],
    ),
)
_case(
    "exemplars: mixed, zero, short, trace id first, unknown field",
    Signal.METRICS,
    _metrics(
        [(7, [_point(_E[0], _NO_IDS)])],
        [(7, [_point(_E[0], _exemplar(time_unix_nano=1, trace_id=_T, span_id=bytes(8)))])],
        [(7, [_point(_E[0], _exemplar(time_unix_nano=1, trace_id=_T, span_id=b"\x01"))])],
        [
            (
                7,
                [
                    _point(
                        *[
                            _exemplar(time_unix_nano=1) + _len(5, _tid(i)) + _len(4, _sid(i))
                            for i in (1, 2)
                        ]
                    )
                ],
            )
        ],
        [(7, [_point(_E[0], _E[1] + _vint(99, 1))])],
    ),
)
_case(
    "an exemplar without a timestamp or ids",
    Signal.METRICS,
    _metrics([(7, [_point(_exemplar(as_int=1), _NO_IDS)])]),
    "exemplar ids",
)


# -- real output -------------------------------------------------------------------------


def _sdk_messages() -> Iterator[tuple[str, Signal, bytes]]:
    """The OpenTelemetry SDK's protobuf export requests, healthy and broken."""
    for healthy in (True, False):
        world = build_world(healthy=healthy, requests=6, latency_scale=0, batch_every=2)
        for signal in Signal:
            for i, request in enumerate(world.requests_for(signal.label)):  # type: ignore[arg-type]
                yield f"sdk {healthy=} {signal.label} #{i}", signal, request.SerializeToString()
            merged = world.merged_request(signal.label)  # type: ignore[arg-type]
            yield f"sdk {healthy=} {signal.label} merged", signal, merged.SerializeToString()


def _bench_messages(per_file: int = 12) -> Iterator[tuple[str, Signal, bytes]]:
    """The first messages of the bench corpus (length-prefixed), when it has been generated."""
    for signal in Signal:
        path = BENCH / f"{signal.label}.binpb"
        if not path.exists():
            continue
        data = path.read_bytes()
        at = 0
        for i in range(per_file):
            if at >= len(data):
                break
            n = int.from_bytes(data[at : at + 4], "big")
            yield f"bench {signal.label} #{i}", signal, data[at + 4 : at + 4 + n]
            at += 4 + n


def test_every_shortcut_reads_what_its_plain_reading_reads() -> None:
    inputs = [
        (name, signal, payload, misread) for name, (signal, payload, misread) in CASES.items()
    ]
    inputs += [(name, signal, payload, frozenset()) for name, signal, payload in _sdk_messages()]
    inputs += [(name, signal, payload, frozenset()) for name, signal, payload in _bench_messages()]
    wrong: list[str] = []
    taken = dict.fromkeys(SHORTCUTS, 0)  # units the shortcut read itself, on real output
    misread_seen: set[tuple[str, str]] = set()
    for name, signal, payload, misread in inputs:
        for shortcut in SHORTCUTS.values():
            if shortcut.signal is not signal:
                continue
            fast, plain = shortcut.fast(payload), shortcut.plain(payload)
            assert len(fast) == len(plain), (shortcut.name, name)
            bad = [
                i
                for i, (f, p) in enumerate(zip(fast, plain, strict=True))
                if f is not None and f != p
            ]
            if bad and shortcut.name in misread:
                misread_seen.add((shortcut.name, name))
            elif bad:
                wrong.append(
                    f"{shortcut.name} on {name!r}, units {bad}: {fast[bad[0]]!r} != {plain[bad[0]]!r}"
                )
            if not name.startswith(("sdk", "bench")):
                continue
            taken[shortcut.name] += sum(f is not None for f in fast)
    assert not wrong, "\n".join(wrong)
    # Each documented misreading happens, exactly where it is documented.
    documented = {(s, name) for name, (_sig, _p, misread) in CASES.items() for s in misread}
    assert misread_seen == documented
    assert all(SHORTCUTS[s].misreads for s, _name in documented)
    # On real output every shortcut reads units itself (the comparison is not empty).
    assert all(taken.values()), taken
