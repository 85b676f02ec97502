"""Properties of every reader, over bytes hypothesis makes and real files on disk.

1. Any bytes, in any wrapper: ``open_source`` and reading every item, and ``scan`` over the
   file, raise nothing (the one documented error, ``OtlintError``, is for a path that
   cannot be opened, which these can).
2. Real OTLP in every format (raw protobuf, frames, zstd frames, JSON Lines, one document,
   each plain, gzip or zstd): every span is read, none twice.
3. The same files damaged (cut, a byte changed, bytes put in): every record that a plain
   reference read still finds whole is read, with its record number.
"""

from __future__ import annotations

import gzip
import json
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import zstandard
from google.protobuf.message import DecodeError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from opentelemetry.proto.trace.v1 import trace_pb2

from otlint.run.scan import scan_serial
from otlint.telemetry.readers import Foreign, Message, Skipped, Unreadable, open_source

import otlp_builder

SETTINGS = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@pytest.fixture(scope="module")
def folder() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="otlint-props-") as name:
        yield Path(name)


def _write(folder: Path, data: bytes) -> Path:
    # (Named for its signal, as a capture is: a message with no span says it by name only.)
    path = folder / "traces.dump"
    path.write_bytes(data)
    return path


def _read(path: Path) -> list[object]:
    source = open_source(str(path))
    items = list(source.items) if source.skip is None else []
    for item in items:
        assert isinstance(item, Message | Unreadable | Foreign | Skipped)
    return items


# -- 1. any bytes -----------------------------------------------------------------------------
PREFIXES = [
    b"",
    b"{",
    b'{"resourceSpans":',
    b"\x0a",
    b"\x1f\x8b",
    b"\x28\xb5\x2f\xfd",
    bytes(4),
    b"\x00\x00\x00\x10\x0a",
    b"\x00\x00\x00\x08\x28\xb5\x2f\xfd",
]


@st.composite
def wrapped(draw: st.DrawFn) -> bytes:
    body = draw(st.sampled_from(PREFIXES)) + draw(st.binary(max_size=2048))
    how = draw(st.sampled_from(["plain", "gzip", "zstd"]))
    if how == "gzip":
        return gzip.compress(body, mtime=0)
    if how == "zstd":
        return zstandard.ZstdCompressor().compress(body)
    return body


@SETTINGS
@given(data=wrapped())
def test_any_bytes_read_without_raising(folder: Path, data: bytes) -> None:
    path = _write(folder, data)
    _read(path)
    scan_serial([str(path)])


# -- 2. real OTLP in every format -----------------------------------------------------------
values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=6,
)
attrs = st.dictionaries(st.text(min_size=1, max_size=12), values, max_size=4)


@st.composite
def requests(draw: st.DrawFn) -> list[bytes]:
    """A few encoded TracesData, each of a resource or two with some spans."""
    out = []
    ids = iter(range(1, 10_000))
    for _ in range(draw(st.integers(1, 4))):
        groups = [
            {
                "resource": {"service.name": draw(st.sampled_from(["a", "b"])), **draw(attrs)},
                "spans": [
                    {"trace": draw(st.integers(1, 3)), "id": next(ids), "attrs": draw(attrs)}
                    for _ in range(draw(st.integers(0, 3)))
                ],
            }
            for _ in range(draw(st.integers(1, 2)))
        ]
        out.append(otlp_builder.traces(groups).SerializeToString())
    return out


def _span_count(payload: bytes) -> int:
    data = trace_pb2.TracesData.FromString(payload)
    return sum(len(ss.spans) for rs in data.resource_spans for ss in rs.scope_spans)


def _otlp_json(payload: bytes) -> str:
    """OTLP/JSON of one TracesData, hex ids as the spec writes them."""
    from google.protobuf.json_format import MessageToDict

    doc = MessageToDict(trace_pb2.TracesData.FromString(payload))
    for rs in doc.get("resourceSpans", []):
        for ss in rs.get("scopeSpans", []):
            for sp in ss.get("spans", []):
                for key in ("traceId", "spanId", "parentSpanId"):
                    if key in sp:
                        import base64

                        sp[key] = base64.b64decode(sp[key]).hex()
    return json.dumps(doc, separators=(",", ":"))


def _frames(payloads: list[bytes], zstd: bool = False) -> bytes:
    out = b""
    for p in payloads:
        body = zstandard.ZstdCompressor().compress(p) if zstd else p
        out += len(body).to_bytes(4, "big") + body
    return out


FORMATS = {
    "raw": lambda ps: ps[0],
    "framed": _frames,
    "zstd-frames": lambda ps: _frames(ps, zstd=True),
    "jsonl": lambda ps: "".join(_otlp_json(p) + "\n" for p in ps).encode(),
    "json": lambda ps: json.dumps(json.loads(_otlp_json(ps[0])), indent=2).encode(),
}
WRAPPERS = {
    "plain": lambda b: b,
    "gzip": lambda b: gzip.compress(b, mtime=0),
    "zstd": lambda b: zstandard.ZstdCompressor().compress(b),
}


@SETTINGS
@given(
    payloads=requests(),
    fmt=st.sampled_from(sorted(FORMATS)),
    wrapper=st.sampled_from(sorted(WRAPPERS)),
)
def test_every_span_is_read_once(
    folder: Path, payloads: list[bytes], fmt: str, wrapper: str
) -> None:
    used = payloads[:1] if fmt in ("raw", "json") else payloads
    expected = sum(map(_span_count, used))
    path = _write(folder, WRAPPERS[wrapper](FORMATS[fmt](used)))
    corpus, _ = scan_serial([str(path)])
    assert len(corpus.spans) == expected
    assert not [p for p in corpus.problems.values() if p.code == "unreadable"]


# -- 3. damaged files --------------------------------------------------------------------------
@st.composite
def damage(draw: st.DrawFn, data: bytes) -> bytes:
    at = draw(st.integers(0, max(0, len(data) - 1)))
    how = draw(st.sampled_from(["cut", "change", "insert"]))
    if how == "cut":
        return data[:at]
    if how == "change" and data:
        return data[:at] + bytes([data[at] ^ draw(st.integers(1, 255))]) + data[at + 1 :]
    return data[:at] + draw(st.binary(min_size=1, max_size=16)) + data[at:]


def _reference_frames(data: bytes) -> dict[int, bytes]:
    """Frame number -> payload, of each whole frame that parses as TracesData (no zstd)."""
    found, pos, record = {}, 0, 0
    while pos + 4 <= len(data):
        n = int.from_bytes(data[pos : pos + 4], "big")
        record += 1
        payload = data[pos + 4 : pos + 4 + n]
        if len(payload) < n:
            break
        pos += 4 + n
        try:
            if n and _span_count(payload):
                found[record] = payload
        except DecodeError:
            pass
    return found


def _reference_lines(data: bytes) -> set[int]:
    """Line numbers of the lines that are OTLP/JSON documents with spans."""
    found = set()
    for number, line in enumerate(data.split(b"\n"), 1):
        try:
            doc = json.loads(line)
        except ValueError:
            continue
        if isinstance(doc, dict) and list(doc) == ["resourceSpans"] and '"spanId"' in line.decode():
            found.add(number)
    return found


@SETTINGS
@given(payloads=requests(), data=st.data())
def test_damaged_frames_lose_no_whole_frame(
    folder: Path, payloads: list[bytes], data: st.DataObject
) -> None:
    damaged = data.draw(damage(_frames(payloads)))
    path = _write(folder, damaged)
    reference = _reference_frames(damaged)
    read = {i.record: i.payload for i in _read(path) if isinstance(i, Message)}
    if reference and not read:
        # Only a first frame whose prefix was damaged hides the framing from detection.
        assert 1 not in reference or damaged[:4] != _frames(payloads)[:4]
        return
    for record, payload in reference.items():
        assert read.get(record) == payload


@SETTINGS
@given(payloads=requests(), data=st.data())
def test_damaged_lines_lose_no_whole_line(
    folder: Path, payloads: list[bytes], data: st.DataObject
) -> None:
    text = "".join(_otlp_json(p) + "\n" for p in payloads).encode()
    damaged = data.draw(damage(text))
    path = _write(folder, damaged)
    read = {i.record for i in _read(path) if isinstance(i, Message)}
    assert _reference_lines(damaged) <= read
