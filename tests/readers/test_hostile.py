"""Hostile input to the readers (issue 13): each case a finding or a note, fast, never a crash.

Every test writes real files (or a real named pipe) and reads them with the real readers
and ``check``; the caps are lowered through their module constants where reaching the
real ones would only cost time.
"""

from __future__ import annotations

import ctypes
import gzip
import io
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import threading
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import zstandard
from opentelemetry.proto.trace.v1 import trace_pb2

from otlint.core import wire
from otlint.run.check import scan
from otlint.telemetry.readers import Message, expand, open_source, streams
from otlint.telemetry.readers.sniff import PEEK

import otlp_builder

SPANS = otlp_builder.traces(
    [
        {
            "resource": {"service.name": "shop"},
            "spans": [{"trace": 1, "id": i, "kind": "server"} for i in range(1, 4)],
        }
    ]
).SerializeToString()


def _ld(field: int, body: bytes) -> bytes:
    """One length-delimited protobuf field."""
    n, size = len(body), bytearray()
    while True:
        size.append((n & 0x7F) | (0x80 if n > 0x7F else 0))
        n >>= 7
        if not n:
            return bytes([field << 3 | 2]) + bytes(size) + body


def _nested_value(depth: int, kvlist: bool = False) -> bytes:
    """An AnyValue holding ``depth`` arrays (or key-value lists) one inside the other."""
    value = _ld(1, b"x")
    for _ in range(depth):
        value = _ld(6, _ld(1, _ld(1, b"k") + _ld(2, value))) if kvlist else _ld(5, _ld(1, value))
    return value


def _traces_with(resource_value: bytes | None = None, span_value: bytes | None = None) -> bytes:
    """TracesData of three spans, encoded by hand around a deep value: a resource attribute,
    or the first span's ``peer.service`` (which observe decodes, as an address)."""
    data = trace_pb2.TracesData.FromString(SPANS)
    rs = data.resource_spans[0]
    resource = rs.resource.SerializeToString()
    if resource_value is not None:
        resource += _ld(1, _ld(1, b"deep") + _ld(2, resource_value))
    spans = []
    for i, span in enumerate(rs.scope_spans[0].spans):
        span.kind = trace_pb2.Span.SPAN_KIND_CLIENT
        body = span.SerializeToString()
        if i == 0 and span_value is not None:
            body += _ld(9, _ld(1, b"peer.service") + _ld(2, span_value))
        spans.append(_ld(2, body))
    return _ld(1, _ld(1, resource) + _ld(2, b"".join(spans)))


def _problems(path: Path) -> list[tuple[str, int]]:
    corpus, _ = scan([str(path)])
    return [(p.message, p.first[1]) for p in corpus.problems.values() if p.code == "unreadable"]


def _check(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "otlint.cli.main", "check", *args, "--isolated", "--exit-zero"],
        capture_output=True,
        text=True,
        input=None if stdin is None else stdin.decode(),
        timeout=120,
        check=False,
    )


# -- 2: values nested without bound ---------------------------------------------------------
@pytest.mark.parametrize("kvlist", [False, True])
def test_deep_resource_value_is_a_finding_not_a_crash(tmp_path: Path, kvlist: bool) -> None:
    path = tmp_path / "traces.binpb"
    path.write_bytes(_traces_with(resource_value=_nested_value(600, kvlist)))
    [(message, record)] = _problems(path)
    assert "nests arrayValue/kvlistValue more than 64 levels" in message and record == 1
    run = _check(str(path))
    assert run.returncode == 0 and "internal error" not in run.stderr, run.stderr
    assert "RD001" in run.stdout


def test_deep_address_value_on_a_span_is_a_finding(tmp_path: Path) -> None:
    path = tmp_path / "traces.binpb"
    path.write_bytes(_traces_with(span_value=_nested_value(600)))
    [(message, _)] = _problems(path)
    assert "more than 64 levels" in message


def test_values_up_to_the_bound_are_read(tmp_path: Path) -> None:
    path = tmp_path / "traces.binpb"
    depth = getattr(wire, "MAX_VALUE_DEPTH", 64)
    path.write_bytes(_traces_with(resource_value=_nested_value(depth)))
    corpus, _ = scan([str(path)])
    assert not corpus.problems and len(corpus.spans) == 3
    kind, value = corpus.resources[0].attrs["deep"]
    assert kind == "array"
    for _ in range(depth - 1):
        assert isinstance(value, list)
        value = value[0]
    assert value == ["x"]


# -- 10: JSON nested deeper than the parser goes ----------------------------------------------
def test_deeply_nested_json_line_is_a_finding_and_the_rest_is_read(tmp_path: Path) -> None:
    good = (
        b'{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"0af7651916cd43dd8448eb211c80319c",'
        b'"spanId":"b7ad6b7169203331","name":"x"}]}]}]}'
    )
    deep = b'{"resourceSpans": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    path = tmp_path / "traces.jsonl"
    path.write_bytes(good + b"\n" + deep + b"\n" + good + b"\n")
    corpus, _ = scan([str(path)])
    assert len(corpus.spans) == 2
    [(message, line)] = _problems(path)
    assert line == 2 and "deeper than the JSON parser goes" in message


def test_deeply_nested_json_document_is_a_finding(tmp_path: Path) -> None:
    path = tmp_path / "doc.json"
    path.write_bytes(b'{"resourceSpans":\n ' + b"[" * 100_000 + b"]" * 100_000 + b"}")
    [(message, _)] = _problems(path)
    assert "deeper than the JSON parser goes" in message
    run = _check(str(path))
    assert "internal error" not in run.stderr and "RD001" in run.stdout


def test_deep_attribute_in_otlp_json_is_a_finding(tmp_path: Path) -> None:
    value = '{"stringValue":"x"}'
    for _ in range(100):
        value = '{"arrayValue":{"values":[' + value + "]}}"
    doc = (
        '{"resourceSpans":[{"resource":{"attributes":[{"key":"deep","value":' + value + "}]},"
        '"scopeSpans":[{"spans":[{"traceId":"0af7651916cd43dd8448eb211c80319c",'
        '"spanId":"b7ad6b7169203331","name":"x"}]}]}]}'
    )
    path = tmp_path / "traces.jsonl"
    path.write_text(doc + "\n")
    [(message, _)] = _problems(path)
    assert "more than 64 levels" in message


# -- 5: decompression bounded -----------------------------------------------------------------
@pytest.fixture
def small_cap(monkeypatch: pytest.MonkeyPatch) -> int:
    """The decompression cap lowered to 1 MiB and 10 times: bombs quick to make and to read."""
    monkeypatch.setattr(streams, "MIN_CAP", 1 << 20, raising=False)
    monkeypatch.setattr(streams, "MAX_RATIO", 10, raising=False)
    return 1 << 20


def _gzip_bomb(body: bytes, repeat: int) -> bytes:
    c = zlib.compressobj(9, zlib.DEFLATED, 31)
    return c.compress(body * repeat) + c.flush()


def test_gzip_bomb_of_one_document_stops_at_the_cap(tmp_path: Path, small_cap: int) -> None:
    path = tmp_path / "doc.json.gz"
    path.write_bytes(
        _gzip_bomb(b'{"resourceSpans": [{"x": "', 1) + _gzip_bomb(b"a" * 4096, 4096)
    )  # (two gzip members: 16 MiB of one string)
    [(message, record)] = _problems(path)
    assert record == 1 and "the gzip stream expands past" in message and "least 1 MiB" in message
    assert "decompress it first" in message


def test_gzip_bomb_of_lines_keeps_the_lines_before_the_cap(tmp_path: Path, small_cap: int) -> None:
    line = (
        b'{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"0af7651916cd43dd8448eb211c80319c",'
        b'"spanId":"b7ad6b7169203331","name":"x"}]}]}]}\n'
    )
    path = tmp_path / "traces.jsonl.gz"
    path.write_bytes(gzip.compress(line * 100_000))  # 14 MiB
    corpus, _ = scan([str(path)])
    [(message, record)] = _problems(path)
    assert "the gzip stream expands past 1 MiB (the cap: 10 times its" in message
    assert len(corpus.spans) == record - 1 > 1000  # every line before the cap is read


def test_zstd_bomb_stops_at_the_cap(tmp_path: Path, small_cap: int) -> None:
    path = tmp_path / "doc.json.zst"
    path.write_bytes(zstandard.ZstdCompressor().compress(b"{" + b" " * (64 << 20)))
    start = time.perf_counter()
    [(message, _)] = _problems(path)
    assert "the zstd stream expands past 1 MiB" in message, message
    assert time.perf_counter() - start < 5


def test_zstd_frame_in_framing_stops_at_the_cap(tmp_path: Path, small_cap: int) -> None:
    # The frame's header says how large it is: zstandard would trust it whatever the cap.
    frame = zstandard.ZstdCompressor().compress(SPANS + bytes(256 << 20))
    path = tmp_path / "traces.binpb"
    path.write_bytes(len(frame).to_bytes(4, "big") + frame)
    start = time.perf_counter()
    [(message, record)] = _problems(path)
    assert record == 1 and "a zstd frame expands past" in message
    assert time.perf_counter() - start < 5


def test_genuine_compressed_files_are_read_whole(tmp_path: Path, small_cap: int) -> None:
    frames = b"".join(
        len(f).to_bytes(4, "big") + f
        for f in (zstandard.ZstdCompressor().compress(SPANS) for _ in range(3))
    )
    (tmp_path / "traces.binpb").write_bytes(frames)
    (tmp_path / "more.binpb.gz").write_bytes(gzip.compress(SPANS))
    corpus, _ = scan([str(tmp_path)])
    assert not corpus.problems and len(corpus.spans) == 12


def test_zstd_reading_is_linear(tmp_path: Path) -> None:
    # One 64 KiB read of this stream expands to all of it: sliced off the front 64 KiB at
    # a time, that was ~35 GB of copying (quadratic); handed out from an offset, none.
    data = b'{"resourceSpans": []}\n' * (3 << 20)  # 66 MiB
    compressed = zstandard.ZstdCompressor().compress(data)
    start = time.perf_counter()
    reference = zstandard.ZstdDecompressor().decompress(compressed)
    baseline = time.perf_counter() - start
    budget = getattr(streams, "Budget", None)  # (None before issue 13: no cap)
    args = () if budget is None else (budget.of_size(0),)
    stream = io.BufferedReader(streams.Zstd(io.BytesIO(compressed), *args), PEEK)
    start = time.perf_counter()
    out = b"".join(iter(lambda: stream.read(PEEK), b""))
    assert out == reference
    assert time.perf_counter() - start < max(1.0, 50 * baseline)


# -- 5: format detection on zeros and garbage ----------------------------------------------
def test_zero_filled_tail_of_a_framed_file_is_one_finding_fast(tmp_path: Path) -> None:
    path = tmp_path / "traces.binpb"
    path.write_bytes(len(SPANS).to_bytes(4, "big") + SPANS + bytes(50_000_001))
    start = time.perf_counter()
    corpus, _ = scan([str(path)])
    assert time.perf_counter() - start < 3
    assert len(corpus.spans) == 3
    # (The 50,000,001st zero byte begins a length prefix that the file cuts short.)
    [(empty, record), (cut, last)] = sorted(_problems(path), key=lambda p: p[1])
    assert record == 2 and "12500000 empty frames in a row" in empty
    assert last == 12_500_002 and "truncated length prefix (1 of 4 bytes)" in cut


def test_empty_first_frame_is_reported_and_the_rest_read(tmp_path: Path) -> None:
    # Before: a zero first prefix made the file "binary, not OTLP", skipped with its records.
    path = tmp_path / "traces.binpb"
    path.write_bytes(bytes(4) + (len(SPANS).to_bytes(4, "big") + SPANS) * 2)
    corpus, stats = scan([str(path)])
    assert not stats.skipped and len(corpus.spans) == 6
    [(message, record)] = _problems(path)
    assert record == 1 and message.startswith("an empty frame")


def test_first_frame_opening_with_another_field_is_still_framing(tmp_path: Path) -> None:
    # Found by the property tests: a first frame whose message opened with a field other
    # than resource_spans (unknown here, or its tag byte damaged) hid the file's framing,
    # and every frame in it was lost as one unreadable message.
    unknown_first = b"\x1a\x02ab" + SPANS
    path = tmp_path / "traces.binpb"
    frames = [unknown_first, SPANS]
    path.write_bytes(b"".join(len(f).to_bytes(4, "big") + f for f in frames))
    corpus, stats = scan([str(path)])
    assert not stats.skipped and len(corpus.spans) == 6
    assert not _problems(path)


@pytest.mark.parametrize(
    "content",
    [
        bytes(50_000_000),
        b"\x0a\x80" + bytes(50_000_000),
        b"\x0a\x00" * 5_000_000,
        (5).to_bytes(4, "big") + b"\x0a\x03abc" + bytes(50_000_000),
    ],
    ids=["zeros", "tag-then-zeros", "empty-resources", "frame-then-zeros"],
)
def test_detection_does_not_walk_garbage(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "dump.bin"
    path.write_bytes(content)
    start = time.perf_counter()
    source = open_source(str(path))
    items = list(source.items) if source.skip is None else []
    scan([str(path)])
    assert time.perf_counter() - start < 5
    assert all(not isinstance(i, Message) or len(i.payload) < 100 for i in items[:1]) or items


# -- folders: links, pipes, unreadable sub-folders ----------------------------------------------
@contextmanager
def _unreadable(folder: Path) -> Iterator[None]:
    """``folder`` cannot be listed: by its mode, or as root (who may read anything) by
    reading as another user (``setfsuid``: this thread's file-system identity only)."""
    folder.chmod(0)
    if os.geteuid() != 0:
        try:
            yield
        finally:
            folder.chmod(0o755)
        return
    libc = ctypes.CDLL(None, use_errno=True)
    libc.setfsuid(65534)
    try:
        yield
    finally:
        libc.setfsuid(0)
        folder.chmod(0o755)


def test_walk_notes_links_pipes_and_unreadable_folders() -> None:
    # (A folder of its own in /tmp, which another user may enter: pytest's are private.)
    tmp_path = Path(tempfile.mkdtemp(prefix="otlint-walk-"))
    root = tmp_path / "dumps"
    (root / "locked").mkdir(parents=True)
    (root / "locked" / "traces.binpb").write_bytes(SPANS)
    (root / "traces.binpb").write_bytes(SPANS)
    (root / "dangling.jsonl").symlink_to(root / "nowhere")
    (root / "loop.jsonl").symlink_to(root / "loop.jsonl")
    os.mkfifo(root / "pipe.jsonl")
    root.chmod(0o755)
    tmp_path.chmod(0o755)
    skipped: list[tuple[str, str]] = []
    with _unreadable(root / "locked"):
        found = [p for p, _ in expand([str(root)], skipped)]
    assert found == [str(root / "traces.binpb")]
    notes = dict(skipped)
    assert "dangling symbolic link" in notes[str(root / "dangling.jsonl")]
    assert "loops" in notes[str(root / "loop.jsonl")]
    assert "named pipe" in notes[str(root / "pipe.jsonl")]
    assert "cannot be listed" in notes[str(root / "locked")]
    shutil.rmtree(tmp_path)


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_check_on_a_folder_with_links_and_pipes_goes_on(tmp_path: Path, jobs: str) -> None:
    (tmp_path / "traces.binpb").write_bytes(SPANS)
    (tmp_path / "dangling.binpb").symlink_to(tmp_path / "nowhere")
    (tmp_path / "loop.binpb").symlink_to(tmp_path / "loop.binpb")
    os.mkfifo(tmp_path / "pipe.jsonl")
    run = _check(str(tmp_path), "--jobs", jobs)
    assert run.returncode == 0, run.stderr
    assert "internal error" not in run.stderr
    assert run.stderr.count("otlint: note:") == 3 and "3 spans" in run.stdout


def test_a_named_pipe_given_as_a_path_is_read_as_a_stream(tmp_path: Path) -> None:
    pipe = tmp_path / "traces.binpb.gz"
    os.mkfifo(pipe)
    body = gzip.compress(len(SPANS).to_bytes(4, "big") + SPANS)

    def write() -> None:
        with open(pipe, "wb") as f:
            f.write(body)

    writer = threading.Thread(target=write)
    writer.start()
    corpus, stats = scan([str(pipe)])
    writer.join()
    assert stat.S_ISFIFO(pipe.stat().st_mode)
    assert stats.inputs == [str(pipe)] and len(corpus.spans) == 3


def test_looping_link_named_on_the_command_line_is_one_line_exit_2(tmp_path: Path) -> None:
    target = tmp_path / "loop.binpb"
    target.symlink_to(target)
    run = _check(str(target))
    assert run.returncode == 2 and "Traceback" not in run.stderr
    assert run.stderr.startswith("otlint: error:") and len(run.stderr.splitlines()) == 1


# -- found by the property tests ----------------------------------------------------------
def test_protobuf_frame_that_looks_like_json_is_read_as_protobuf(tmp_path: Path) -> None:
    # A TracesData whose first ResourceSpans is 123 bytes long starts "\n{": the frame
    # was taken for the legacy JSON-lines framing and its spans were lost.
    data = otlp_builder.traces([{"spans": [{"trace": 1, "id": 1}]}])
    rs = data.resource_spans[0]
    rs.schema_url = "x" * (123 - rs.ByteSize() - 2)
    payload = data.SerializeToString()
    assert payload[:2] == b"\n{"
    path = tmp_path / "traces.binpb"
    path.write_bytes(len(payload).to_bytes(4, "big") + payload)
    corpus, _ = scan([str(path)])
    assert len(corpus.spans) == 1 and not corpus.problems


def test_otlp_json_lines_after_a_stray_binary_byte_are_read(tmp_path: Path) -> None:
    # A NUL (or a zero-filled stretch) before the first line made the file "binary".
    line = (
        b'{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"0af7651916cd43dd8448eb211c80319c",'
        b'"spanId":"b7ad6b7169203331","name":"x"}]}]}]}\n'
    )
    path = tmp_path / "traces.jsonl"
    path.write_bytes(b"\0" * 3 + line + line)
    corpus, stats = scan([str(path)])
    assert not stats.skipped and len(corpus.spans) == 1
    [foreign] = corpus.problems.values()
    assert foreign.code == "foreign" and foreign.first[1] == 1
