"""The fast OTLP/JSON path gives what the careful one gives, or steps aside.

``otlp_fast.encode_line`` must give the bytes ``otlp_json.convert`` gives (byte for byte),
``prepare_line`` + ``observe_structs.fold`` the Corpus ``Observer.observe`` gives from
those bytes (shard bytes equal), and both must decline (None) every line the careful path
would record a Deviation for, or that ``json.loads`` refuses: those lines keep today's
findings and line numbers.
"""

from __future__ import annotations

import copy
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.proto.logs.v1 import logs_pb2
from opentelemetry.proto.metrics.v1 import metrics_pb2
from opentelemetry.proto.trace.v1 import trace_pb2

from otlint.telemetry.corpus.corpus import Corpus
from otlint.telemetry.corpus.shard import to_bytes
from otlint.telemetry.observe import Observer
from otlint.telemetry.observe_structs import fold
from otlint.telemetry.readers import Columns, Message, otlp_fast
from otlint.telemetry.readers.jsonl import jsonl
from otlint.telemetry.readers.otlp_fast import FIELDS, encode_line, prepare_line
from otlint.telemetry.readers.otlp_json import NotOtlp, convert

OWN = Path(__file__).resolve().parents[1] / "fixtures" / "otlp"


def _line(doc: Any) -> bytes:
    return json.dumps(doc, separators=(",", ":")).encode()


def _careful(line: bytes) -> tuple[Any, bytes, list[Any]] | None:
    try:
        return convert(json.loads(line))
    except (ValueError, NotOtlp):
        return None


@pytest.fixture(scope="module")
def sdk_lines(tmp_path_factory: pytest.TempPathFactory) -> list[bytes]:
    """Every line of the SDK world written as OTLP/JSON Lines (all three signals)."""
    from sdkworld import build_world, write_world

    world = build_world(healthy=False, requests=20, latency_scale=0, batch_every=3)
    folder = tmp_path_factory.mktemp("jsonl")
    write_world(world, folder, formats=("jsonl",))
    lines = [
        line for path in sorted(folder.rglob("*.jsonl")) for line in path.read_bytes().splitlines()
    ]
    assert len(lines) > 10
    return lines


def _fixture_docs() -> Iterator[tuple[str, Any]]:
    for path in sorted(OWN.glob("*.json")):
        yield path.name, json.loads(path.read_text())


def test_the_structs_declare_every_field_of_otlp() -> None:
    """A field added to OTLP must be added to the Structs (else canonical lines take the slow path
    and, worse, a Raw field would be dropped)."""
    from google.protobuf import descriptor_pool

    pool = descriptor_pool.Default()
    for name, fields in FIELDS.items():
        desc = pool.FindMessageTypeByName(name)
        assert fields == {f.json_name for f in desc.fields}, name


def test_sdk_lines_take_the_fast_path_and_encode_byte_for_byte(sdk_lines: list[bytes]) -> None:
    for line in sdk_lines:
        got = encode_line(line)
        want = _careful(line)
        assert want is not None and not want[2]
        assert got == (want[0], want[1])
        assert prepare_line(line) is not None


def _observe_both(lines: list[bytes]) -> tuple[bytes, bytes, int]:
    """(shard of the fast path, shard of the wire path, lines the fast path prepared)."""
    fast, slow = Corpus(), Corpus()
    of, os_ = Observer(fast), Observer(slow)
    fast.path_index("f", lines=True)
    slow.path_index("f", lines=True)
    prepared = 0
    for i, line in enumerate(lines, 1):
        careful = _careful(line)
        assert careful is not None
        signal, payload, _ = careful
        want = os_.observe(signal, payload, 0, i)
        p = prepare_line(line)
        if p is None:
            got = of.observe(signal, payload, 0, i)
        else:
            prepared += 1
            got = fold(of, p, 0, i)
        assert got == want
    return to_bytes(fast), to_bytes(slow), prepared


def test_folded_columns_give_the_corpus_the_wire_gives(sdk_lines: list[bytes]) -> None:
    fast, slow, prepared = _observe_both(sdk_lines)
    assert prepared == len(sdk_lines)
    assert fast == slow


def test_the_caches_start_again_when_full(
    sdk_lines: list[bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    """With caches of a few entries (cleared again and again) the results are the same."""
    monkeypatch.setattr(otlp_fast, "_CACHE_LIMIT", 3)
    for cache in (otlp_fast._KV_WIRE, otlp_fast._KV_FIELD, otlp_fast._TEXT_WIRE):
        cache.clear()
    fast, slow, prepared = _observe_both(sdk_lines)
    assert prepared == len(sdk_lines)
    assert fast == slow
    for line in sdk_lines:
        careful = _careful(line)
        assert careful is not None and encode_line(line) == careful[:2]


@pytest.mark.parametrize(("name", "doc"), list(_fixture_docs()), ids=lambda x: str(x)[:40])
def test_own_fixtures_fast_or_declined(name: str, doc: Any) -> None:
    """Each behaviour fixture: a line with deviations is declined by both; one without is
    byte-identical when encoded and the same Corpus when folded."""
    line = _line(doc)
    careful = _careful(line)
    got = encode_line(line)
    if careful is None or careful[2]:
        assert got is None and prepare_line(line) is None
        return
    assert got is None or got == careful[:2]
    fast, slow, _ = _observe_both([line])
    assert fast == slow


def _span_doc() -> dict[str, Any]:
    kv = {"key": "http.route", "value": {"stringValue": "/a"}}
    span = {
        "traceId": "18de0ea16ae42a2ecc9d3fd0b711e84a",
        "spanId": "4d9653275831bdcb",
        "parentSpanId": "1d9653275831bdcb",
        "name": "GET /a",
        "kind": 2,
        "startTimeUnixNano": "1767225600008914550",
        "endTimeUnixNano": "1767225600216914550",
        "attributes": [kv, {"key": "n", "value": {"intValue": "7"}}],
        "events": [{"timeUnixNano": "1767225600008914551", "name": "e", "attributes": [kv]}],
        "links": [{"traceId": "28de0ea16ae42a2ecc9d3fd0b711e84a", "spanId": "5d9653275831bdcb"}],
        "status": {"code": 1},
        "flags": 257,
    }
    res = {"attributes": [{"key": "service.name", "value": {"stringValue": "svc"}}]}
    return {
        "resourceSpans": [
            {"resource": res, "scopeSpans": [{"scope": {"name": "s"}, "spans": [span]}]}
        ]
    }


#: Ways to depart from canonical OTLP/JSON (each a Deviation on the careful path), and
#: canonical documents the hot loop must read record by record (declined by prepare_line).
_NONCANONICAL = {
    "snake-case key": lambda s: s.__setitem__("trace_id", s.pop("traceId")),
    "base64 id": lambda s: s.__setitem__("spanId", "TZZTJ1gxvcs="),
    "uppercase hex": lambda s: s.__setitem__("traceId", s["traceId"].upper()),
    "enum name": lambda s: s.__setitem__("kind", "SPAN_KIND_SERVER"),
    "int32 as string": lambda s: s.__setitem__("flags", "257"),
    "bad 64-bit number": lambda s: s.__setitem__("startTimeUnixNano", "12x"),
    "empty 64-bit number": lambda s: s.__setitem__("endTimeUnixNano", ""),
    "attribute enum-ish snake key": lambda s: s["attributes"].append(
        {"key": "k", "value": {"string_value": "v"}}
    ),
    "attribute bad int": lambda s: s["attributes"].append(
        {"key": "k", "value": {"intValue": "seven"}}
    ),
    "event snake key": lambda s: s["events"][0].__setitem__(
        "time_unix_nano", s["events"][0].pop("timeUnixNano")
    ),
    "link uppercase id": lambda s: s["links"][0].__setitem__("spanId", "5D9653275831BDCB"),
    "status code name": lambda s: s.__setitem__("status", {"code": "STATUS_CODE_OK"}),
}
_DECLINED_CANONICAL = {
    "zero trace id": lambda s: s.__setitem__("traceId", "0" * 32),
    "short span id": lambda s: s.__setitem__("spanId", "4d96532758"),
    "no span id": lambda s: s.pop("spanId"),
    "zero parent": lambda s: s.__setitem__("parentSpanId", "0" * 16),
    "kind past 255": lambda s: s.__setitem__("kind", 300),
}


@pytest.mark.parametrize("what", sorted(_NONCANONICAL))
def test_noncanonical_spans_take_the_careful_path(what: str) -> None:
    doc = _span_doc()
    _NONCANONICAL[what](doc["resourceSpans"][0]["scopeSpans"][0]["spans"][0])
    line = _line(doc)
    careful = _careful(line)
    assert careful is not None and careful[2], "the mutation must be a deviation"
    assert encode_line(line) is None
    assert prepare_line(line) is None
    items = list(jsonl(io.BytesIO(line + b"\n"), b"", True))
    assert [type(i) for i in items] == [Message]
    assert items[0].deviations == careful[2]


@pytest.mark.parametrize("what", sorted(_DECLINED_CANONICAL))
def test_canonical_spans_the_hot_loop_reads_one_by_one(what: str) -> None:
    doc = _span_doc()
    _DECLINED_CANONICAL[what](doc["resourceSpans"][0]["scopeSpans"][0]["spans"][0])
    line = _line(doc)
    careful = _careful(line)
    assert careful is not None and not careful[2]
    assert prepare_line(line) is None
    assert encode_line(line) == careful[:2]


def test_a_canonical_span_folds_as_its_wire_bytes_observe() -> None:
    doc = _span_doc()
    span = doc["resourceSpans"][0]["scopeSpans"][0]["spans"][0]
    consumer = copy.deepcopy(span) | {"kind": 5, "spanId": "6d9653275831bdcb"}
    doc["resourceSpans"][0]["scopeSpans"][0]["spans"].append(consumer)
    line = _line(doc)
    assert isinstance(next(iter(jsonl(io.BytesIO(line), b"", True))), Columns)
    fast, slow, prepared = _observe_both([line])
    assert prepared == 1
    assert fast == slow


@pytest.mark.parametrize(
    "text",
    [b"V\x01", b"V\xff", b"a\tb", b"\\ud800", b"x\\u0000"],
    ids=["control", "bad-utf8", "tab", "lone-surrogate", "escaped-nul"],
)
def test_what_json_loads_refuses_is_refused_too(text: bytes) -> None:
    line = _line(_span_doc()).replace(b'"/a"', b'"' + text + b'"')
    try:
        json.loads(line)
    except ValueError:
        assert encode_line(line) is None and prepare_line(line) is None
        return
    # (json.loads takes it: then the fast path must give what the careful one gives, or step aside)
    careful = _careful(line)
    got = encode_line(line)
    assert got is None or (careful is not None and got == careful[:2] and not careful[2])


def test_every_signal_round_trips_through_the_protobuf_classes(sdk_lines: list[bytes]) -> None:
    """The encoded bytes parse with the full classes (no field written in the wrong type)."""
    classes = {"traces": trace_pb2.TracesData, "logs": logs_pb2.LogsData}
    classes["metrics"] = metrics_pb2.MetricsData
    seen = set()
    for line in sdk_lines:
        got = encode_line(line)
        assert got is not None
        signal, payload = got
        seen.add(signal.label)
        msg = classes[signal.label].FromString(payload)
        assert msg.SerializeToString() == payload
    assert seen == {"traces", "logs", "metrics"}
