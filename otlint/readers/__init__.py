"""Readers: bytes on disk (or stdin) -> encoded OTLP messages, each with where it came from.

Readers know formats and nothing about rules. The format is detected from the content,
not the file name:

============================  =================================================
content starts with           read as
============================  =================================================
``1f 8b``                     gzip around any format below
``28 b5 2f fd``               a zstd stream around any format below
``{`` (first line is JSON)    JSON Lines: one OTLP/JSON document per line
``{`` (otherwise)             one (pretty-printed) OTLP/JSON document
4-byte big-endian length      collector file-exporter framing (``format: proto``
                              or ``compression: zstd``): each message, optionally
                              a zstd frame, prefixed by its length
``0a``                        one raw ``Export*ServiceRequest`` / ``*Data``
============================  =================================================
"""

from __future__ import annotations

import gzip
import io
import itertools
import json
import os
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from otlint.corpus import Signal
from otlint.errors import OtlintError

_GZIP = b"\x1f\x8b"
_ZSTD = b"\x28\xb5\x2f\xfd"
_PEEK = 1 << 16


@dataclass
class Message:
    """One encoded TracesData / MetricsData / LogsData and where it came from."""

    payload: bytes
    signal: Signal | None  # None: tell from the bytes (binary formats do not say)
    record: int  # 1-based record number: line number in text formats, frame number in binary
    deviations: list[Any] = field(default_factory=list)  # otlp_json.Deviation


@dataclass
class Unreadable:
    """A record that could not be read; the rest of the file is still read."""

    record: int
    message: str


Item = Message | Unreadable


@dataclass
class Source:
    """One input: its display path, detected format, and its items."""

    path: str
    format: str
    lines: bool  # record numbers are line numbers
    items: Iterator[Item]

    def close(self) -> None:
        """Close the file behind a source whose items will not be read."""
        close = getattr(self.items, "close", None)
        if close is not None:
            close()


def expand(paths: Sequence[str]) -> Iterator[tuple[str, bool]]:
    """Yield (path, explicit) for each input; folders are walked recursively, sorted.

    ``explicit`` is False for files found inside a folder: those are skipped quietly
    when they are not OTLP, while a file named on the command line is reported.
    """
    for p in paths:
        if p == "-":
            yield p, True
            continue
        path = Path(p)
        if path.is_dir():
            for root, dirs, files in os.walk(path):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                for name in sorted(files):
                    if not name.startswith("."):
                        yield os.path.join(root, name), False
        elif path.exists():
            yield p, True
        else:
            raise OtlintError(f"{p}: no such file or folder: give a path to an OTLP dump or a folder of them")


def open_source(path: str) -> Source | None:
    """Open ``path`` (``-`` for stdin) and detect its format; None if it is not OTLP."""
    if path == "-":
        raw: IO[bytes] = io.BufferedReader(sys.stdin.buffer.raw, _PEEK) if hasattr(sys.stdin.buffer, "raw") else sys.stdin.buffer
    else:
        try:
            raw = open(path, "rb", buffering=_PEEK)  # noqa: SIM115 - closed by the items iterator
        except OSError as exc:
            raise OtlintError(f"{path}: cannot open: {exc.strerror}") from None
    return _detect(path, raw, [])


def _stream_errors(*more: type[BaseException]) -> tuple[type[BaseException], ...]:
    """What a broken stream raises: zstandard's error only once a zstd stream was opened."""
    import zlib

    zstandard = sys.modules.get("zstandard")
    errors: tuple[type[BaseException], ...] = (OSError, EOFError, zlib.error, *more)
    return (*errors, zstandard.ZstdError) if zstandard is not None else errors


def _detect(path: str, stream: Any, wrappers: list[str]) -> Source | None:
    fmt_suffix = "".join(f"+{w}" for w in wrappers)
    try:
        head: bytes = stream.peek(_PEEK)
    except _stream_errors(ValueError) as exc:
        stream.close()
        what = f"the {'+'.join(wrappers)} stream" if wrappers else "the file"
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return Source(path, "unreadable" + fmt_suffix, False, iter([Unreadable(1, f"cannot read {what} ({reason})")]))
    if head.startswith(_GZIP) and "gzip" not in wrappers:
        # GzipFile is buffered itself, and its peek keeps what a cut stream did decode.
        return _detect(path, gzip.GzipFile(fileobj=stream), [*wrappers, "gzip"])
    if head.startswith(_ZSTD) and "zstd" not in wrappers:
        return _detect(path, io.BufferedReader(_Zstd(stream), _PEEK), [*wrappers, "zstd"])
    stripped = head.lstrip(b" \t\r\n\xef\xbb\xbf")
    if stripped[:1] in (b"{", b"[") and _is_text(head[:512]):
        newline = head.find(b"\n")
        # A first line longer than the peek is read whole (and handed on) to decide.
        prefix = b"" if newline >= 0 else stream.readline()
        if _is_json(head[:newline] if newline >= 0 else prefix) or _second_line_is_json(head, newline):
            return Source(path, "jsonl" + fmt_suffix, True, _guard(_jsonl(stream, prefix), wrappers))
        return Source(path, "json" + fmt_suffix, False, _guard(_json_document(stream, prefix), wrappers))
    if _looks_framed(head):
        return Source(path, "proto-framed" + fmt_suffix, False, _guard(_framed(stream, path), wrappers))
    if head[:1] == b"\x0a":
        return Source(path, "protobuf" + fmt_suffix, False, _guard(_raw(stream, path), wrappers))
    stream.close()
    if not head:
        return Source(path, "empty", False, iter(()))
    return None


class _Zstd(io.RawIOBase):
    """A zstd stream of one or more frames that says so when it ends inside a frame.

    (zstandard's stream reader ends quietly there, and a cut file would look whole.)
    """

    def __init__(self, source: Any) -> None:
        import zstandard

        self._source = source
        self._zstd = zstandard.ZstdDecompressor()
        self._frame = self._zstd.decompressobj()
        self._inside = False  # a frame has begun and not ended
        self._out = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self._out:
            chunk = self._source.read(_PEEK)
            if not chunk:
                if self._inside:
                    raise EOFError("the file ends inside a zstd frame")
                return 0
            out = self._frame.decompress(chunk)
            self._inside = not self._frame.eof
            while self._frame.eof and self._frame.unused_data:
                rest = self._frame.unused_data
                self._frame = self._zstd.decompressobj()
                out += self._frame.decompress(rest)
                self._inside = not self._frame.eof
            if self._frame.eof:
                self._frame = self._zstd.decompressobj()
            self._out = out
        n = min(len(buffer), len(self._out))
        buffer[:n] = self._out[:n]
        self._out = self._out[n:]
        return n

    def close(self) -> None:
        self._source.close()
        super().close()


def _is_json(line: bytes) -> bool:
    try:
        return isinstance(json.loads(line), dict)
    except ValueError:
        return False


_CONTROL = frozenset(range(0x20)) - {0x09, 0x0A, 0x0D}


def _is_text(head: bytes) -> bool:
    """True for text: protobuf tags and lengths put control bytes in the first few hundred."""
    return not any(b in _CONTROL for b in head)


def _second_line_is_json(head: bytes, newline: int) -> bool:
    """A broken first line must not turn JSON Lines into one (unreadable) document."""
    if newline < 0:
        return False
    for line in head[newline + 1 :].split(b"\n")[:-1]:
        if line.strip():
            return _is_json(line)
    return False


def _looks_framed(head: bytes) -> bool:
    if len(head) < 5:
        return False
    n = int.from_bytes(head[:4], "big")
    # A raw message starts with field 1's tag (0x0a); a length prefix of that size
    # would mean a frame of 160 MiB or more.
    return head[0] != 0x0A and n > 0 and (head[4:5] == b"\x0a" or head[4:8] == _ZSTD)


def signal_hint(path: str) -> Signal | None:
    """The signal a file name suggests (``traces.binpb``), used when bytes cannot tell."""
    name = os.path.basename(path).lower()
    for word, sig in (("trace", Signal.TRACES), ("span", Signal.TRACES), ("metric", Signal.METRICS), ("log", Signal.LOGS)):
        if word in name:
            return sig
    return None


def _guard(items: Iterator[Item], wrappers: list[str]) -> Iterator[Item]:
    """Turn a stream that breaks mid-file (cut gzip/zstd, I/O error) into one last Unreadable."""
    last = 0
    try:
        for item in items:
            last = item.record
            yield item
    except _stream_errors() as exc:
        what = f"the {'+'.join(wrappers)} stream" if wrappers else "the file"
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        yield Unreadable(last + 1, f"{what} is cut short or corrupt after record {last} ({reason}): the rest is lost")


# -- the formats -------------------------------------------------------------------
def _convert_json(doc: Any, record: int) -> Item:
    from otlint.readers.otlp_json import NotOtlp, convert

    try:
        signal, payload, deviations = convert(doc)
    except NotOtlp as exc:
        return Unreadable(record, str(exc))
    return Message(payload, signal, record, deviations)


def _jsonl(stream: Any, prefix: bytes) -> Iterator[Item]:
    with stream:
        lines = itertools.chain([prefix], stream) if prefix else stream
        for lineno, line in enumerate(lines, 1):
            if not line or line.isspace():  # (isspace stops at the first byte of a document; strip copies it)
                continue
            try:
                doc = json.loads(line)
            except ValueError as exc:
                yield Unreadable(lineno, f"not valid JSON ({_json_error(exc)}): each line must be one OTLP/JSON document")
                continue
            yield _convert_json(doc, lineno)


def _json_document(stream: Any, prefix: bytes) -> Iterator[Item]:
    with stream:
        data = prefix + stream.read()
    try:
        doc = json.loads(data)
    except ValueError as exc:
        yield Unreadable(1, f"not valid JSON ({_json_error(exc)}): expected an OTLP/JSON document")
        return
    yield _convert_json(doc, 1)


def _json_error(exc: ValueError) -> str:
    if isinstance(exc, json.JSONDecodeError):
        return f"{exc.msg.removesuffix(' at')} at line {exc.lineno} column {exc.colno}"
    return str(exc).splitlines()[0]


def _framed(stream: Any, path: str, first: int = 0) -> Iterator[Item]:
    with stream:
        record = first
        while True:
            head = stream.read(4)
            if not head:
                return
            record += 1
            if len(head) < 4:
                yield Unreadable(record, f"truncated length prefix ({len(head)} of 4 bytes): the file was cut short")
                return
            n = int.from_bytes(head, "big")
            payload = stream.read(n)
            if len(payload) < n:
                yield Unreadable(record, f"truncated message: the prefix says {n} bytes, the file ends after {len(payload)}")
                return
            if payload[:4] == _ZSTD:
                try:
                    import zstandard

                    payload = zstandard.ZstdDecompressor().decompress(payload, max_output_size=1 << 30)
                except zstandard.ZstdError as exc:
                    yield Unreadable(record, f"zstd frame does not decompress ({exc})")
                    continue
            # (A protobuf message starts with 0x0a, a newline: strip a few bytes, not a copy of all.)
            if payload[:64].lstrip()[:1] == b"{" or (payload[:64].isspace() and payload.lstrip()[:1] == b"{"):
                # Collector json + zstd (legacy framing): each frame holds JSON lines.
                for line in payload.splitlines():
                    if line and not line.isspace():
                        try:
                            yield _convert_json(json.loads(line), record)
                        except ValueError as exc:
                            yield Unreadable(record, f"not valid JSON ({_json_error(exc)})")
                continue
            yield Message(bytes(payload), None, record)


def _raw(stream: Any, path: str) -> Iterator[Item]:
    with stream:
        data = stream.read()
    yield Message(data, None, 1)


# -- telling the signal of a binary message -------------------------------------------
def classify(payload: bytes, hint: Signal | None = None) -> Signal | None:
    """Which OTLP message ``payload`` is, from its first leaf record (span, metric, log).

    ``TracesData``, ``MetricsData`` and ``LogsData`` all start with field 1; what tells
    them apart is the shape of the records inside: a log record's field 1 is a fixed64
    timestamp, a span's fields 7/8 are fixed64 times, a metric's data sits in fields
    5, 7, 9, 10, 11 as messages.
    """
    from otlint.wire import wire_fields

    try:
        # A memoryview: the walk slices without copying the message it looks into.
        for num, wt, rs in wire_fields(memoryview(payload)):
            if num != 1 or wt != 2:
                continue
            for num2, wt2, scope in wire_fields(rs):
                if num2 != 2 or wt2 != 2:
                    continue
                for num3, wt3, leaf in wire_fields(scope):
                    if num3 == 2 and wt3 == 2:
                        found = _classify_leaf(leaf)
                        if found is not None:
                            return found
    except (ValueError, IndexError):
        return hint
    return hint


def _classify_leaf(leaf: bytes | memoryview) -> Signal | None:
    from otlint.wire import wire_fields

    fields: set[tuple[int, int]] = set()
    for num, wt, _ in wire_fields(leaf):
        # Fields come in number order; these settle it before the attributes are walked.
        if wt == 1 and num in (1, 11):
            return Signal.LOGS
        if wt == 1 and num in (7, 8):
            return Signal.TRACES
        if wt == 2 and num == 7:
            return Signal.METRICS
        fields.add((num, wt))
    if (1, 1) in fields or (11, 1) in fields or ((2, 0) in fields and (7, 1) not in fields):
        return Signal.LOGS
    if (7, 1) in fields or (8, 1) in fields or ((2, 2) in fields and (1, 2) in fields and (6, 0) in fields):
        return Signal.TRACES
    if any((n, 2) in fields for n in (5, 7, 9, 10, 11)):
        return Signal.METRICS
    return None


# -- byte ranges of one large file, for parallel reads ------------------------------------
#: Formats whose files can be cut at record boundaries and read in pieces.
SPLITTABLE = ("jsonl", "proto-framed")


class _Range(io.RawIOBase):
    """The bytes [start, end) of a file, as a stream of its own."""

    def __init__(self, path: str, start: int, end: int) -> None:
        self._file = open(path, "rb", buffering=0)  # noqa: SIM115 - closed in close()
        self._file.seek(start)
        self._left = end - start

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self._left <= 0:
            return 0
        view = memoryview(buffer)[: self._left]
        n = self._file.readinto(view) or 0
        self._left -= n
        return n

    def close(self) -> None:
        self._file.close()
        super().close()


def open_range(path: str, fmt: str, start: int, end: int, first: int | None = None) -> Source:
    """Read records of ``path`` (of format ``fmt``) in [start, end), cut at record boundaries.

    Record numbers continue from ``first``, the records before ``start``, when it is
    known (frames); otherwise they restart at 1 and the caller shifts them.
    """
    stream = io.BufferedReader(_Range(path, start, end), _PEEK)
    if fmt == "jsonl":
        return Source(path, fmt, True, _guard(_jsonl(stream, b""), []))
    if fmt == "proto-framed":
        return Source(path, fmt, False, _guard(_framed(stream, path, first or 0), []))
    raise ValueError(f"format {fmt!r} cannot be read in pieces")


def split_points(path: str, fmt: str, size: int, chunk: int) -> list[tuple[int, int, int | None]]:
    """Cut a file into ranges of about ``chunk`` bytes that start and end on records.

    Each range comes with the number of records before it when the cut finds it out
    for free (frames are counted on the way), else None (lines are not).
    """
    cuts = [0]
    before: list[int | None] = [0 if fmt == "proto-framed" else None]
    with open(path, "rb") as f:
        if fmt == "jsonl":
            target = chunk
            while target < size:
                f.seek(target)
                f.readline()
                pos = f.tell()
                if pos >= size:
                    break
                cuts.append(pos)
                before.append(None)  # (lines before it: not counted)
                target = pos + chunk
        elif fmt == "proto-framed":
            pos = last = frames = 0
            while pos < size:
                f.seek(pos)
                head = f.read(4)
                if len(head) < 4:
                    break
                pos += 4 + int.from_bytes(head, "big")
                frames += 1
                if pos - last >= chunk and pos < size:
                    cuts.append(pos)
                    before.append(frames)
                    last = pos
        else:
            raise ValueError(f"format {fmt!r} cannot be read in pieces")
    cuts.append(size)
    return [(a, b, n) for (a, b), n in zip(itertools.pairwise(cuts), before, strict=True)]
